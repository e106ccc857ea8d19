// The public web form in a real browser (issue 17, points 2 and 5): headless
// Debian chromium driven by playwright-core against a real `frontline serve
// --demo` with a real SMTP receiver (lib/env.mjs). A person fills the form
// by its labels and sends it: the browser lands on the confirmation naming
// the ticket's reference, the ticket has channel web, and the
// acknowledgement with the reference reaches the SMTP receiver. A form sent
// empty comes back with its errors listed and tied to their fields, the
// typed text kept and rendered as text. No page breaks its CSP, and axe-core
// finds no serious or critical WCAG 2.1 A/AA violation on the form, the
// form with errors or the confirmation.
//
// Run by `make check` (suite server, plain build only). Skips (exit 77) when
// chromium or the npm packages are missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Env, missing, servedRoutes } from './lib/env.mjs';

const why = missing();
if (why) {
	console.log(`SKIP: ${why}`);
	process.exit(77);
}
if (!servedRoutes().has('POST /support')) {
	console.log('SKIP: this tree does not serve POST /support (docs/openapi.yaml)');
	process.exit(77);
}

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

let env;
const pages = [];

before(async () => {
	env = await new Env().start({ users: false });
	await env.browser();
});

after(async () => {
	for (const p of pages)
		assert.deepEqual(p.problems, [], 'no CSP violation or page error');
	if (env)
		await env.stop();
});

async function axe(page, what) {
	await page.addScriptTag({ path: AXE });
	const res = await page.evaluate(async () => window.axe.run(document, {
		runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
	}));
	const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
	assert.deepEqual(bad.map((v) => `${what}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`), []);
	return `${what}: ${res.passes.length} rules pass, violations: ${res.violations.map((v) => `${v.id} (${v.impact})`).join(', ') || 'none'}`;
}

test('a person sends the form and gets the reference on the page and by email', async () => {
	const page = await env.page(null);
	pages.push(page);
	await page.goto('/support');
	await page.getByLabel('Your name').fill('Grace Hopper');
	await page.getByLabel('Email address').fill('grace@example.com');
	await page.getByLabel('Subject').fill('The <b>export</b> button does nothing');
	await page.getByLabel('How can we help?').fill('Clicking Export on the reports page does nothing at all since Tuesday.');
	await page.getByRole('button', { name: 'Send' }).click();
	await page.waitForURL(/\/support\/sent\?ref=T-\d+$/);
	const ref = (await page.locator('.reference').textContent()).trim();
	assert.match(ref, /^T-\d{6,}$/);
	const t = await env.api('GET', `/api/v1/tickets/${ref}`);
	assert.equal(t.status, 200);
	assert.equal(t.body.channel, 'web');
	assert.equal(t.body.subject, 'The <b>export</b> button does nothing');
	assert.equal(t.body.metadata.customer_email, 'grace@example.com');
	const mail = await env.waitMail((m) => m.includes(ref) && m.includes('grace@example.com'), 20000);
	assert.match(mail, /We received your request/);
	await page.context().close();
});

test('a form sent empty comes back with its errors and the text kept', async () => {
	const page = await env.page(null);
	pages.push(page);
	await page.goto('/support');
	await page.getByLabel('Your name').fill('<img src=x onerror=alert(1)>');
	await page.getByRole('button', { name: 'Send' }).click();
	await page.getByRole('alert').waitFor();
	assert.match(page.url(), /\/support$/);
	assert.equal(await page.getByLabel('Your name').inputValue(), '<img src=x onerror=alert(1)>');
	assert.equal(await page.locator('img').count(), 0);
	const email = page.getByLabel('Email address');
	assert.equal(await email.getAttribute('aria-invalid'), 'true');
	const described = await email.getAttribute('aria-describedby');
	assert.match(await page.locator(`#${described}`).textContent(), /email address/);
	// the summary's links lead to the fields
	await page.getByRole('link', { name: /Enter a subject/ }).click();
	assert.match(page.url(), /#f-subject$/);
	await page.context().close();
});

test('axe-core: no serious or critical violation on the form, its errors or the confirmation', async (t) => {
	const page = await env.page(null, { bypassCSP: true });
	await page.goto('/support');
	t.diagnostic(await axe(page, 'form'));
	await page.getByRole('button', { name: 'Send' }).click();
	await page.getByRole('alert').waitFor();
	t.diagnostic(await axe(page, 'form with errors'));
	await page.goto('/support/sent?ref=T-000001');
	t.diagnostic(await axe(page, 'confirmation'));
	await page.context().close();
});
