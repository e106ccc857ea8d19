// The dashboard: the summary's figures over a window (GET /metrics/summary),
// charts over time (GET /metrics/timeseries: volume by channel, sentiment
// mix, first-response and resolution times, escalation rate, satisfaction)
// and the active alerts (GET /alerts?status=active). Live: refreshed on
// ticket events, at most every 5 s.
import { html, useState, useEffect } from '../../vendor/vendor.js';
import { get, query } from '../api.js';
import * as live from '../live.js';
import { useLoad, debounce, duration, pct, label, when } from '../util.js';
import { StackedBars, Lines } from '../charts.js';

const WINDOWS = [[3600, 'last hour', 300], [86400, 'last 24 hours', 3600], [7 * 86400, 'last 7 days', 86400]];

function Tile({ name, value }) {
	return html`<div class="tile"><dt>${name}</dt><dd>${value}</dd></div>`;
}

export function Dashboard() {
	const [w, setW] = useState(1);
	const [win, , bucket] = WINDOWS[w];
	const summary = useLoad(() => get('/metrics/summary' + query({ window: win })), [win]);
	const series = useLoad(() => get('/metrics/timeseries' + query({ window: win, bucket })), [win, bucket]);
	const alerts = useLoad(() => get('/alerts?status=active'), []);

	useEffect(() => {
		const refresh = debounce(() => {
			summary.reload();
			series.reload();
			alerts.reload();
		}, 5000);
		return live.subscribe((name) => name !== 'presence' && refresh());
	}, [summary.reload, series.reload, alerts.reload]);

	const m = (summary.data && summary.data.metrics) || {};
	const buckets = (series.data && series.data.buckets) || [];
	const active = (alerts.data && alerts.data.alerts) || [];
	return html`<main id="main" class="dashboard" tabindex="-1">
		<h1>Dashboard</h1>
		<div class="filters">
			<label for="dash-window">Window</label>
			<select id="dash-window" value=${w} onChange=${(e) => setW(Number(e.target.value))}>
				${WINDOWS.map(([, name], i) => html`<option value=${i}>${name}</option>`)}
			</select>
		</div>
		${summary.error ? html`<p class="error" role="alert">${summary.error.message}</p>` : null}
		<section aria-labelledby="alerts-h" class="panel">
			<h2 id="alerts-h">Active alerts</h2>
			${active.length ? html`<ul class="alerts">${active.map((a) => html`<li class=${'alert sev-' + a.severity}>
				<strong>${label(a.severity)}</strong> ${a.message || a.rule || a.name} <span class="muted">since ${when(a.started_at || a.created_at)}</span></li>`)}</ul>`
				: html`<p class="muted">No active alert.</p>`}
		</section>
		<section aria-labelledby="figs-h" class="panel">
			<h2 id="figs-h">Figures</h2>
			<dl class="tiles">
				<${Tile} name="Tickets" value=${m.total_tickets ?? '–'} />
				<${Tile} name="Resolved" value=${m.resolved_tickets ?? '–'} />
				<${Tile} name="Escalated" value=${m.escalated_tickets ?? '–'} />
				<${Tile} name="First response" value=${duration(m.avg_response_time)} />
				<${Tile} name="Resolution" value=${m.resolved_tickets ? duration(m.avg_resolution_time) : '–'} />
				<${Tile} name="Escalation rate" value=${pct(m.escalation_rate)} />
				<${Tile} name="Satisfaction" value=${pct(m.satisfaction_score)} />
			</dl>
		</section>
		<section aria-labelledby="charts-h" class="panel charts">
			<h2 id="charts-h">Over time</h2>
			${series.error ? html`<p class="error" role="alert">Cannot load the charts: ${series.error.message}</p>` : null}
			<${StackedBars} id="c-volume" title="Volume by channel" buckets=${buckets} field="by_channel" />
			<${StackedBars} id="c-sentiment" title="Sentiment mix" buckets=${buckets} field="by_sentiment" />
			<${Lines} id="c-times" title="First response and resolution (average)" buckets=${buckets}
				fields=${[['first_response_s_avg', 'first response'], ['resolution_s_avg', 'resolution']]} fmt=${duration} />
			<${Lines} id="c-esc" title="Escalation rate" buckets=${buckets} fields=${[['escalation_rate', 'escalation rate']]} fmt=${pct} />
			<${Lines} id="c-sat" title="Satisfaction" buckets=${buckets} fields=${[['satisfaction_avg', 'satisfaction']]} fmt=${pct} />
		</section>
	</main>`;
}
