// The escalation queue (GET /escalations): the hand-offs, most urgent and
// oldest first, with claim, release and close (close asks for the
// resolution). Live: any ticket event reloads it.
import { html, useState, useEffect } from '../../vendor/vendor.js';
import { get, post, query } from '../api.js';
import * as live from '../live.js';
import { useLoad, debounce, label, duration } from '../util.js';

export function Escalations() {
	const [status, setStatus] = useState('');
	const [closing, setClosing] = useState(null);
	const [resolution, setResolution] = useState('');
	const [notice, setNotice] = useState(null);
	const list = useLoad(() => get('/escalations' + query({ status, limit: 200 })), [status]);

	useEffect(() => {
		const refresh = debounce(list.reload, 150);
		return live.subscribe((name) => name !== 'presence' && refresh());
	}, [list.reload]);

	const act = async (e, verb, body) => {
		setNotice(null);
		try {
			await post(`/escalations/${e.id}/${verb}`, body);
			setNotice(`Escalation ${e.id} ${verb === 'claim' ? 'claimed' : verb === 'release' ? 'released' : 'closed'}.`);
			setClosing(null);
			setResolution('');
		} catch (err) {
			setNotice(`Cannot ${verb} escalation ${e.id}: ${err.message}`);
		}
		list.reload();
	};
	const rows = (list.data && list.data.escalations) || [];
	return html`<main id="main" tabindex="-1">
		<h1>Escalations</h1>
		<div class="filters">
			<label for="esc-status">Status</label>
			<select id="esc-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
				<option value="">open and claimed</option>
				${['open', 'claimed', 'closed'].map((s) => html`<option value=${s}>${s}</option>`)}
			</select>
		</div>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		${list.error ? html`<p class="error" role="alert">${list.error.message}</p>` : null}
		<table class="tickets">
			<thead><tr><th scope="col">Ticket</th><th scope="col">Subject</th><th scope="col">Priority</th>
				<th scope="col">Department</th><th scope="col">Status</th><th scope="col">Waiting</th><th scope="col">Actions</th></tr></thead>
			<tbody>${rows.map((e) => {
				const s = (e.package && e.package.ticket_summary) || {};
				return html`<tr key=${e.id}>
					<td><a href=${`#/tickets/${encodeURIComponent(e.ticket_id)}`}>${e.ticket_id}</a></td>
					<td>${s.subject || ''}<br /><span class="muted">${s.customer_name || s.customer_id || ''} ${s.customer_tier ? `(${s.customer_tier})` : ''}</span></td>
					<td><span class=${'badge prio-' + e.priority}>${label(e.priority)}</span></td>
					<td>${label(e.department)}</td>
					<td>${e.status}${e.agent ? ` by ${e.agent}` : ''}</td>
					<td>${duration(e.age_s)}</td>
					<td class="row">
						${e.status === 'open' ? html`<button type="button" onClick=${() => act(e, 'claim', {})}>Claim</button>` : null}
						${e.status === 'claimed' ? html`<button type="button" onClick=${() => act(e, 'release', {})}>Release</button>` : null}
						${e.status !== 'closed' ? html`<button type="button" onClick=${() => setClosing(e.id)}>Close…</button>` : null}
					</td>
				</tr>
				${closing === e.id ? html`<tr><td colspan="7">
					<form class="row" onSubmit=${(ev) => {
						ev.preventDefault();
						resolution.trim() && act(e, 'close', { resolution: resolution.trim() });
					}}>
						<label for=${'res-' + e.id}>Resolution</label>
						<input id=${'res-' + e.id} value=${resolution} onInput=${(ev) => setResolution(ev.target.value)} required />
						<button type="submit" class="primary">Close escalation</button>
						<button type="button" onClick=${() => setClosing(null)}>Cancel</button>
					</form></td></tr>` : null}`;
			})}</tbody>
		</table>
		${!list.loading && !rows.length ? html`<p class="empty">No escalations.</p>` : null}
	</main>`;
}
