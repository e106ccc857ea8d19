// The chat widget in a real browser (issue 17, point 5): headless Debian
// chromium (playwright-core) against a real `frontline serve --demo`
// (lib/env.mjs), with FRONTLINE_CHAT_ORIGINS naming a test site served
// here on another port. A visitor on that site opens the widget (one
// script tag), chats; Alice answers from the console in a second browser
// context; each sees the other's messages and typing; text with markup
// renders as text; the widget's page may not be framed by a site not in
// the list; axe-core finds no serious or critical WCAG 2.1 A/AA violation
// in the widget; widget.js stays under 30 KB gzip -9.
//
// Run by `make check` (suite console, plain build only). Skips (exit 77) as
// console_test.mjs does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { Env, missing, servedRoutes, until, SOURCE_ROOT } from './lib/env.mjs';

const why = missing();
if (why) {
	console.log(`SKIP: ${why}`);
	process.exit(77);
}
if (!servedRoutes().has('POST /api/v1/chat/sessions')) {
	console.log('SKIP: this tree has no chat API (docs/openapi.yaml)');
	process.exit(77);
}

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const WITHIN = 3000;

let env;
let site;        // the allowed site: {server, origin}
let other;       // a site not in the list
let alice;
let visitor;

function serveSite(body) {
	return new Promise((resolve) => {
		const server = createServer((req, res) => {
			res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
			res.end(body());
		});
		server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` }));
	});
}

before(async () => {
	const page = () => `<!doctype html><html lang="en"><head><title>Shop</title></head><body><main><h1>The shop</h1>
<p>Buy things.</p></main><script src="${env.base}/widget.js" async></script></body></html>`;
	site = await serveSite(page);
	other = await serveSite(page);
	process.env.FRONTLINE_CHAT_ORIGINS = site.origin;
	env = await new Env().start();
	await env.browser();
});

after(async () => {
	for (const p of [alice, visitor])
		if (p)
			assert.deepEqual(p.problems, [], 'no CSP violation or page error');
	if (env)
		await env.stop();
	site?.server.close();
	other?.server.close();
});

const frameOf = (page) => page.frameLocator('iframe[title="Chat with support"]');

test('widget.js is small', () => {
	const n = gzipSync(readFileSync(join(SOURCE_ROOT, 'web', 'widget.js')), { level: 9 }).length;
	console.log(`# widget.js: ${n} bytes gzip -9`);
	assert.ok(n <= 30 * 1024);
});

test('nobody available: the widget says so and the conversation continues by email', async () => {
	// before anyone signed in to the console
	const page = await env.page(null);
	await page.goto(site.origin + '/');
	await page.getByRole('button', { name: 'Chat with us' }).click();
	const chat = frameOf(page);
	await chat.getByText(/No one is available to chat right now/).waitFor({ timeout: 5000 });
	await chat.getByLabel('Your email address').fill('vera@example.com');
	await chat.getByRole('button', { name: 'Continue by email' }).click();
	await chat.getByText('We will answer by email at vera@example.com.').waitFor({ timeout: 5000 });
	const marker = `E${Date.now().toString(36)}`;
	await chat.getByLabel('Your message').fill(`Where is my refund ${marker}?`);
	await chat.getByRole('button', { name: 'Send' }).click();
	await chat.locator('li.visitor').filter({ hasText: marker }).waitFor({ timeout: 5000 });
	const list = await env.api('GET', '/api/v1/tickets?channel=chat&limit=5');
	const ticket = list.body.tickets.find((t) => (t.subject || '').includes(marker));
	assert.ok(ticket);
	const r = await env.api('POST', `/api/v1/tickets/${ticket.id}/replies`, { body: `Your refund left today ${marker}.` });
	assert.equal(r.status, 201);
	const mail = await env.waitMail((m) => m.replace(/=\r?\n/g, '').includes(`Your refund left today ${marker}`));
	assert.match(mail, /^To: .*vera@example\.com/mi);
	// and it is in the widget too
	await chat.locator('li.agent').filter({ hasText: marker }).waitFor({ timeout: WITHIN });
	await page.context().close();
});

test('a visitor chats from an allowed site; an agent answers from the console', async () => {
	alice = await env.page(env.users.alice);
	visitor = await env.page(null);
	await visitor.goto(site.origin + '/');
	await visitor.getByRole('button', { name: 'Chat with us' }).click();
	const chat = frameOf(visitor);
	const box = chat.getByLabel('Your message');
	await box.waitFor();
	// Alice is signed in: no "nobody is available"
	assert.equal(await chat.getByText(/No one is available/).count(), 0);
	const marker = `C${Date.now().toString(36)}`;
	await box.fill(`My parcel ${marker} has not arrived <img src=x onerror=alert(1)> <b>help</b>`);
	await chat.getByRole('button', { name: 'Send' }).click();
	await chat.locator('li.visitor').filter({ hasText: '<b>help</b>' }).waitFor({ timeout: 5000 });
	assert.equal(await chat.locator('li.visitor b, li.visitor img').count(), 0, 'markup renders as text');

	const list = await env.api('GET', '/api/v1/tickets?channel=chat&limit=5');
	const ticket = list.body.tickets.find((t) => (t.subject || '').includes(marker));
	assert.ok(ticket, 'a chat ticket was made');
	assert.equal(ticket.channel, 'chat');
	await alice.goto(`/#/tickets/${ticket.id}`);
	await alice.locator('.msg-inbound').filter({ hasText: marker }).waitFor();

	// the visitor types: Alice sees it; Alice types: the visitor sees it
	await box.fill('Also, can I change');
	await alice.getByText('The visitor is typing').waitFor({ timeout: WITHIN });
	const composer = alice.getByLabel('Reply to the customer');
	await composer.fill(`We are on it ${marker}.`);
	await chat.getByText('Support is typing').waitFor({ timeout: WITHIN });
	await alice.getByRole('button', { name: 'Send reply' }).click();
	const t0 = Date.now();
	await chat.locator('li.agent').filter({ hasText: `We are on it ${marker}.` }).waitFor({ timeout: WITHIN });
	console.log(`# the visitor saw Alice's reply ${Date.now() - t0} ms after the click`);
	await until('the typing note gone', async () => (await chat.getByText('Support is typing').count()) === 0, WITHIN);

	// a later message reaches Alice's open ticket
	await box.fill(`Thanks! ${marker}-2`);
	await box.press('Enter');
	await alice.locator('.msg-inbound').filter({ hasText: `${marker}-2` }).waitFor({ timeout: WITHIN });
	// a reload continues the same conversation
	await visitor.reload();
	await visitor.getByRole('button', { name: 'Chat with us' }).click();
	await chat.locator('li.agent').filter({ hasText: `We are on it ${marker}.` }).waitFor({ timeout: 5000 });
	assert.equal(env.mails().filter((m) => m.includes(marker)).length, 0, 'a chat reply is not emailed');
});

test('a site not in FRONTLINE_CHAT_ORIGINS cannot frame the widget', async () => {
	const r = await fetch(env.base + '/chat/index.html');
	assert.match(r.headers.get('content-security-policy'), new RegExp(`frame-ancestors 'self' ${site.origin}`));
	assert.equal(r.headers.get('x-frame-options'), null);
	const page = await env.page(null);
	await page.goto(other.origin + '/');
	await page.getByRole('button', { name: 'Chat with us' }).click();
	await page.waitForTimeout(1000);
	const frame = page.frames().find((f) => f.url().includes('/chat/'));
	const framed = frame ? await frame.locator('#text').count().catch(() => 0) : 0;
	assert.equal(framed, 0, 'the chat page did not load in a site that is not allowed');
	// the API refuses that origin too
	const api = await fetch(env.base + '/api/v1/chat/sessions', { method: 'POST', headers: { Origin: other.origin } });
	assert.equal(api.status, 403);
	await page.context().close();
});

test('axe-core: no serious or critical WCAG 2.1 A/AA violation in the widget', async () => {
	const page = await env.page(null, { bypassCSP: true });
	await page.goto(site.origin + '/');
	await page.getByRole('button', { name: 'Chat with us' }).click();
	await frameOf(page).getByLabel('Your message').waitFor();
	const frame = page.frames().find((f) => f.url().includes('/chat/'));
	await frame.addScriptTag({ path: AXE });
	const res = await frame.evaluate(async () => window.axe.run(document, {
		runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
	}));
	const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`), []);
	console.log(`# widget: ${res.passes.length} rules pass, violations: ${res.violations.map((v) => v.id).join(', ') || 'none'}`);
	await page.context().close();
});
