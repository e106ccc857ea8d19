// The signed-in agent's availability (issue 18, assignment): a switch in the
// header. "Available" tells the server to hand this agent escalated tickets
// of the agent's department and, at once, the oldest of its queue up to the
// agent's maximum; "Away" and "Offline" stop that. An available agent idle
// for FRONTLINE_AGENT_IDLE_S counts as away on the server until the
// console is used again.
import { html, useState } from '../vendor/vendor.js';
import { put } from './api.js';

const CHOICES = [['available', 'Available'], ['away', 'Away'], ['offline', 'Offline']];

export function Availability({ user }) {
	const [value, setValue] = useState(user.availability || 'offline');
	const [busy, setBusy] = useState(false);
	const [note, setNote] = useState('');

	const change = async (e) => {
		const next = e.target.value;
		const before = value;
		setValue(next);
		setBusy(true);
		try {
			const res = await put('/users/me/availability', { availability: next });
			const n = (res.assigned || []).length;
			user.availability = res.availability;
			setNote(n ? `${n} queued ticket${n === 1 ? '' : 's'} assigned to you` : '');
		} catch (err) {
			setValue(before);
			setNote(`Cannot change the availability: ${err.message}`);
		} finally {
			setBusy(false);
		}
	};
	return html`<span class=${'availability availability-' + value}>
		<label for="availability">Availability</label>
		<select id="availability" value=${value} disabled=${busy} onChange=${change}>
			${CHOICES.map(([v, label]) => html`<option value=${v}>${label}</option>`)}
		</select>
		<span class="availability-note" role="status" aria-live="polite">${note}</span>
	</span>`;
}
