// The SLA badge (issue 18): a ticket's clocks (its "sla", from GET
// /tickets and GET /tickets/{id}) as a word, a sign and the due time in
// text, so that the state never rests on colour alone: "✓ SLA ok · due in
// 2 h", "⚠ SLA warning · due in 12 min", "✖ SLA breached · due 3 h ago",
// "⏸ SLA paused". The due time shown is the clock that runs now: the first
// response until there is one, then a next response when one is owed,
// else the resolution.
import { html } from '../vendor/vendor.js';

const SIGN = { ok: '✓', warning: '⚠', breached: '✖', paused: '⏸' };

// "in 2 h", "12 min ago": the distance from now to iso.
export function until(iso) {
	const s = (Date.parse(iso) - Date.now()) / 1000;
	const a = Math.abs(s);
	const d = a < 60 ? 'under a minute' : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 ? `${Math.round(a / 3600)} h`
		: `${Math.round(a / 86400)} d`;
	return s >= 0 ? `in ${d}` : `${d} ago`;
}

// The due time of the clock that runs now, or null.
export function dueOf(t) {
	const s = t.sla;
	if (!s)
		return null;
	if (!t.first_response_at && s.first_response_due_at)
		return s.first_response_due_at;
	return s.next_response_due_at || (t.resolved_at ? null : s.resolution_due_at);
}

export function SlaBadge({ t }) {
	const s = t && t.sla;
	if (!s)
		return null;
	const state = s.paused ? 'paused' : s.state;
	const due = s.paused ? null : dueOf(t);
	const text = `SLA ${state}${due ? ` · due ${until(due)}` : ''}`;
	return html`<span class=${'badge sla sla-' + state} data-sla=${state} title=${`policy ${s.policy}${due ? `, due ${new Date(due).toLocaleString()}` : ''}`}>
		<span aria-hidden="true">${SIGN[state] || ''} </span>${due ? html`SLA ${state} · due <time datetime=${due}>${until(due)}</time>` : text}</span>`;
}
