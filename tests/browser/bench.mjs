// The console's first load (issue 16, point 8): bytes on the wire (what the
// server sent, compressed) and the time until the page can be used, in
// headless chromium on loopback against `frontline serve --demo`
// (lib/env.mjs), each run in a fresh browser context (an empty cache):
//
//   sign-in   GET / until the Sign in button is on the page and enabled;
//   queue     signed in (the session cookie set), GET /#/queue/all until the
//             demo tickets' rows are on the page: the console's files, the
//             session, the counts, the first page of the queue, the stream.
//
// Prints a Markdown section for docs/BENCHMARKS.md (scripts/bench.d/console).
import os from 'node:os';
import { Env, missing } from './lib/env.mjs';

const RUNS = Number(process.env.BENCH_RUNS || 7);
const why = missing();
if (why) {
	console.log(`### Console first load (\`scripts/bench.d/console\`)\n\nNot measured: ${why}.`);
	process.exit(0);
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function measure(env, url, ready, user) {
	const ctx = await env.chrome.newContext({ baseURL: env.base });
	const page = await ctx.newPage();
	const cdp = await ctx.newCDPSession(page);
	await cdp.send('Network.enable');
	let bytes = 0;
	let requests = 0;
	const kinds = {};
	const byId = new Map();
	cdp.on('Network.responseReceived', (e) => byId.set(e.requestId, e.response.url));
	cdp.on('Network.loadingFinished', (e) => {
		bytes += e.encodedDataLength;
		requests++;
		const u = byId.get(e.requestId) || '';
		const k = u.includes('/api/') ? 'api' : 'files';
		kinds[k] = (kinds[k] || 0) + e.encodedDataLength;
	});
	if (user) {
		const r = await ctx.request.post(env.base + '/api/v1/session', { data: { email: user.email, password: user.password } });
		if (!r.ok())
			throw new Error(`cannot sign in: ${r.status()}`);
	}
	const t0 = Date.now();
	await page.goto(url, { waitUntil: 'commit' });
	await page.locator(ready).first().waitFor({ timeout: 10000 });
	// interactive: the main thread answers (a task queued now runs)
	await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
	const ms = Date.now() - t0;
	const nav = await page.evaluate(() => {
		const n = performance.getEntriesByType('navigation')[0];
		return n ? n.domContentLoadedEventEnd : null;
	});
	await ctx.close();
	return { ms, bytes, requests, kinds, dcl: nav };
}

const loadStart = os.loadavg()[0];
const env = await new Env().start();
try {
	await env.browser();
	const rows = [];
	const cases = [['sign-in screen', '/', 'button[type=submit]:not([disabled])', null]];
	if (!env.noUsers)
		cases.push(['queue, signed in', '/#/queue/all', 'table.tickets tbody tr', env.users.alice]);
	for (const [name, url, ready, user] of cases) {
		await measure(env, url, ready, user);   // the server's caches warm; the browser's stay cold (new context)
		const runs = [];
		for (let i = 0; i < RUNS; i++)
			runs.push(await measure(env, url, ready, user));
		rows.push({ name, runs });
	}
	console.log('### Console first load (`scripts/bench.d/console`)\n');
	console.log(`Headless Debian chromium (playwright-core) on loopback against \`frontline serve --demo\`; each run in a fresh browser context (empty cache), ${RUNS} runs after one warm-up of the server. Bytes are what crossed the wire (compressed, headers included, Chrome's encodedDataLength); "interactive" is from the navigation's start until the screen's controls are on the page and the main thread is free. Budget (issue 16): at most 150 KB compressed, interactive within 1 s.\n`);
	console.log('| first load | requests | bytes (files + API) | interactive, median | interactive, max |');
	console.log('|---|---:|---:|---:|---:|');
	for (const { name, runs } of rows) {
		const b = runs[0];
		console.log(`| ${name} | ${b.requests} | ${(b.bytes / 1024).toFixed(1)} KB (${((b.kinds.files || 0) / 1024).toFixed(1)} + ${((b.kinds.api || 0) / 1024).toFixed(1)}) | ${median(runs.map((r) => r.ms))} ms | ${Math.max(...runs.map((r) => r.ms))} ms |`);
	}
	const missed = rows.filter(({ runs }) => runs[0].bytes > 150 * 1024 || median(runs.map((r) => r.ms)) > 1000).map((r) => r.name);
	console.log(`\nLoad average ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} CPUs (the machine may be shared: a time here includes waiting for a CPU). Budget (median): ${missed.length ? `**missed** by ${missed.join(', ')}` : 'met'}.`);
	if (env.noUsers)
		console.log(`\nThe signed-in queue was not measured: ${env.noUsers}.`);
} finally {
	await env.stop();
}
