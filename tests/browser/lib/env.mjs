// What the console's browser tests, screenshots and benchmark share: a real
// `frontline serve --demo` on a temporary SQLite store with a real SMTP
// receiver (Debian's python3-aiosmtpd writing a Maildir, as
// tests/harness/smtp_harness.c does for the C tests), users made through
// the API with the demo admin token, and headless Debian chromium driven by
// playwright-core.
//
// Everything listens on 127.0.0.1 on ports the kernel picks, lives in one
// temporary directory and stops with stop().
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = process.env.FRONTLINE_CHROMIUM || '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE_ROOT = process.env.FRONTLINE_SOURCE_ROOT || join(here, '..', '..', '..');
const BUILD_ROOT = process.env.FRONTLINE_BUILD_ROOT || join(SOURCE_ROOT, 'build');

// The routes this tree serves, "GET /api/v1/stream", read from
// docs/openapi.yaml (which tests/unit/test_server_http.c keeps equal to the
// route table): a scenario that needs a route the tree does not have yet
// skips, saying which; once the route exists the scenario must pass.
export function servedRoutes() {
	const text = readFileSync(join(SOURCE_ROOT, 'docs', 'openapi.yaml'), 'utf8');
	const routes = new Set();
	let inPaths = false;
	let current = null;
	for (const line of text.split('\n')) {
		if (line.startsWith('paths:')) {
			inPaths = true;
			continue;
		}
		if (inPaths && line && !line.startsWith(' ') && !line.startsWith('#'))
			inPaths = false;
		if (!inPaths)
			continue;
		let m;
		if ((m = /^  (\/\S*):\s*$/.exec(line)))
			current = m[1];
		else if (current && (m = /^    (get|post|put|delete|patch):/.exec(line)))
			routes.add(`${m[1].toUpperCase()} ${current}`);
	}
	return routes;
}

// Why the tests cannot run here, or null: they then skip, saying so.
export function missing() {
	if (!existsSync(CHROMIUM))
		return `${CHROMIUM} is not installed (scripts/install-deps installs Debian's chromium)`;
	if (!existsSync(join(here, '..', 'node_modules', 'playwright-core')))
		return 'tests/browser/node_modules is missing (scripts/install-deps runs npm ci there)';
	if (!existsSync('/usr/bin/python3'))
		return 'python3 is missing (scripts/install-deps installs python3-aiosmtpd)';
	if (!existsSync(join(BUILD_ROOT, 'src', 'cli', 'frontline')))
		return `no frontline binary under ${BUILD_ROOT}`;
	return null;
}

function freePort() {
	return new Promise((resolve, reject) => {
		const s = createServer();
		s.on('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const { port } = s.address();
			s.close(() => resolve(port));
		});
	});
}

function canConnect(port) {
	return new Promise((resolve) => {
		const s = connect(port, '127.0.0.1', () => {
			s.destroy();
			resolve(true);
		});
		s.on('error', () => resolve(false));
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 30000, stepMs = 50) {
	const end = Date.now() + timeoutMs;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		await sleep(stepMs);
	}
	throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

export class Env {
	constructor() {
		this.dir = mkdtempSync(join(tmpdir(), 'frontline-console-'));
		this.procs = [];
		this.log = [];
	}

	// The SMTP receiver, then the service with the demo data; users alice
	// (agent), bob (agent) and ada (admin) when the server has /api/v1/users.
	async start({ users = true } = {}) {
		const smtpPort = await freePort();
		this.maildir = join(this.dir, 'mail');
		const smtp = spawn('/usr/bin/python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c',
			'aiosmtpd.handlers.Mailbox', this.maildir], { stdio: ['ignore', 'ignore', 'pipe'] });
		smtp.stderr.on('data', (d) => this.log.push('smtp: ' + d));
		this.procs.push(smtp);
		await until('the SMTP receiver', () => canConnect(smtpPort), 15000, 100);

		const port = await freePort();
		this.base = `http://127.0.0.1:${port}`;
		const env = {
			...process.env,
			FRONTLINE_DATABASE_URL: `sqlite://${this.dir}/frontline.db`,
			FRONTLINE_STATE_DIR: this.dir,
			FRONTLINE_LISTEN: `127.0.0.1:${port}`,
			FRONTLINE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
			FRONTLINE_WORKERS: '2',
			FRONTLINE_RATE_LIMIT: '-1',
			SUPPORT_LOG_LEVEL: 'warning',
			// libsodium's least Argon2id work: sign-ins in tests, not a deployment
			FRONTLINE_PASSWORD_COST: 'min',
		};
		const serve = spawn(join(BUILD_ROOT, 'src', 'cli', 'frontline'), ['--config', '/dev/null', 'serve', '--demo'],
			{ env, stdio: ['ignore', 'pipe', 'pipe'] });
		this.procs.push(serve);
		let out = '';
		serve.stdout.on('data', (d) => {
			out += d;
		});
		serve.stderr.on('data', (d) => this.log.push('serve: ' + d));
		this.serve = serve;
		this.adminToken = await until('serve to print its admin token', () => (/Admin token \(shown once\): (flt_[0-9a-f]+)/.exec(out) || [])[1], 60000);
		await until('/readyz', async () => (await fetch(this.base + '/readyz')).ok);
		// the five demo tickets triaged
		await until('the demo tickets to be triaged', async () => {
			const r = await this.api('GET', '/api/v1/tickets?limit=50');
			return r.body.tickets.length >= 5 && r.body.tickets.every((t) => t.status !== 'new' && t.status !== 'triaging');
		}, 60000, 100);
		this.users = {};
		if (users) {
			for (const [key, name, role] of [['alice', 'Alice Agent', 'agent'], ['bob', 'Bob Agent', 'agent'], ['ada', 'Ada Admin', 'admin']]) {
				const email = `${key}@example.com`;
				const password = `${key}-console-test-password`;
				const r = await this.api('POST', '/api/v1/users', { email, name, role, password, department: 'account_management' });
				if (r.status === 404 || r.status === 405) {
					this.noUsers = `the server has no POST /api/v1/users (${r.status}): the console-api work is not merged`;
					break;
				}
				if (r.status !== 201 && r.status !== 200)
					throw new Error(`cannot create user ${email}: ${r.status} ${JSON.stringify(r.body)}`);
				this.users[key] = { ...r.body.user, email, password, name };
			}
		}
		return this;
	}

	// A call with the admin token (no CSRF needed for a bearer token).
	async api(method, path, body) {
		const headers = { Authorization: `Bearer ${this.adminToken}` };
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
		let json = null;
		try {
			json = await res.json();
		} catch {
			json = null;
		}
		return { status: res.status, body: json, headers: res.headers };
	}

	// The raw messages the SMTP receiver has stored, oldest first.
	mails() {
		const d = join(this.maildir, 'new');
		if (!existsSync(d))
			return [];
		return readdirSync(d).sort().map((f) => readFileSync(join(d, f), 'utf8'));
	}

	async waitMail(pred, timeoutMs = 15000) {
		return until('an email at the SMTP receiver', () => this.mails().find(pred), timeoutMs, 100);
	}

	async browser() {
		const { chromium } = await import('playwright-core');
		const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
		if (process.getuid && process.getuid() === 0)
			args.push('--no-sandbox');
		// launch() gives the browser a fresh --user-data-dir of its own (a temporary directory)
		this.chrome = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
		return this.chrome;
	}

	// A new browser context signed in as user (when given); watches for CSP violations and page errors.
	async page(user, { bypassCSP = false } = {}) {
		const ctx = await this.chrome.newContext({ baseURL: this.base, bypassCSP, viewport: { width: 1360, height: 900 } });
		const page = await ctx.newPage();
		page.problems = [];
		page.on('console', (m) => {
			if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()))
				page.problems.push('CSP: ' + m.text());
		});
		page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
		if (user) {
			await page.goto('/');
			await signIn(page, user);
		}
		return page;
	}

	async stop() {
		if (this.chrome)
			await this.chrome.close().catch(() => null);
		for (const p of this.procs.reverse()) {
			if (p.exitCode === null) {
				p.kill('SIGTERM');
				await Promise.race([new Promise((r) => p.once('exit', r)), sleep(10000)]);
				if (p.exitCode === null)
					p.kill('SIGKILL');
			}
		}
		rmSync(this.dir, { recursive: true, force: true });
	}
}

export async function signIn(page, user) {
	await page.getByLabel('Email').fill(user.email);
	await page.getByLabel('Password').fill(user.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 10000 });
}

export { until, sleep };
