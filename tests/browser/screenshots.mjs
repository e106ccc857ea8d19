// The screenshots in docs/CONSOLE.md: the queue, the ticket view (with the
// AI draft inserted and another agent present) and the dashboard, taken in
// headless chromium against `frontline serve --demo` (lib/env.mjs).
//
// Usage: node tests/browser/screenshots.mjs [OUT_DIR]   (default docs/)
// with FRONTLINE_BUILD_ROOT set when the build is not ./build.
import { join } from 'node:path';
import { Env, missing, servedRoutes, SOURCE_ROOT } from './lib/env.mjs';

const out = process.argv[2] || join(SOURCE_ROOT, 'docs');
const why = missing();
if (why) {
	console.error(`screenshots: ${why}`);
	process.exit(69);
}
const env = await new Env().start();
try {
	if (env.noUsers)
		throw new Error(env.noUsers);
	await env.browser();
	const page = await env.page(env.users.ada);
	await page.setViewportSize({ width: 1280, height: 760 });
	await page.goto('/#/queue/all');
	await page.locator('table.tickets tbody tr').nth(4).waitFor();
	await page.locator('h1').click();
	await page.keyboard.press('j');
	await page.screenshot({ path: join(out, 'console-queue.png') });

	const presence = servedRoutes().has('POST /api/v1/tickets/{id}/presence');
	if (presence) {
		const bob = await env.page(env.users.bob);
		await bob.goto('/#/tickets/ticket_demo_001');
	}
	await page.goto('/#/tickets/ticket_demo_001');
	if (presence)
		await page.getByText('Bob Agent is viewing').waitFor();
	else
		await page.getByRole('heading', { name: 'Triage' }).waitFor();
	await page.getByRole('button', { name: 'Insert AI draft' }).click();
	await page.setViewportSize({ width: 1280, height: 1100 });
	await page.evaluate(() => {
		document.activeElement.blur();
		scrollTo(0, 0);
	});
	await page.screenshot({ path: join(out, 'console-ticket.png') });

	await page.setViewportSize({ width: 1280, height: 1000 });
	await page.goto('/#/dashboard');
	await page.locator('figure.chart').first().waitFor();
	await page.waitForTimeout(500);
	await page.screenshot({ path: join(out, 'console-dashboard.png') });
	console.log(`screenshots: console-queue.png, console-ticket.png, console-dashboard.png in ${out}`);
} finally {
	await env.stop();
}
