// Admin page for the SLA (issue 18): calendars and policies, as the API
// has them (GET /sla/calendars, /sla/policies), each edited as its JSON
// body in a text area and saved with PUT; the API's 422 names the field
// ("hours.mon[0][1]: ...") and the page shows it beside the text. The
// built-in 24x7 calendar and the built-in policies are shown, not edited
// (saving a policy stores it, and stored policies replace the built-in
// ones: docs/API.md).
import { html, useState } from '../../vendor/vendor.js';
import { get, put, del } from '../api.js';
import { useLoad, when } from '../util.js';

// What the store adds to a body, left out of the editor.
const OWN = ['id', 'version', 'updated_by', 'updated_at', 'builtin'];

const EXAMPLES = {
	calendar: { timezone: 'Europe/Berlin', hours: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']] }, holidays: ['2026-12-25'] },
	policy: { calendar: '24x7', match: { priority: ['urgent'] }, first_response_min: 30, resolution_min: 480 },
};

function bodyOf(o) {
	const b = {};
	for (const [k, v] of Object.entries(o))
		if (!OWN.includes(k))
			b[k] = v;
	return JSON.stringify(b, null, 2);
}

function Kind({ kind, title, plural }) {
	const list = useLoad(() => get(`/sla/${plural}`), []);
	const [edit, setEdit] = useState(null);     // {id, text, isNew}
	const [error, setError] = useState(null);   // {field, message}
	const [notice, setNotice] = useState(null);
	const items = (list.data && list.data[plural]) || [];
	const idFor = `sla-${kind}-id`;
	const textFor = `sla-${kind}-body`;
	const errFor = `sla-${kind}-error`;

	const save = async (e) => {
		e.preventDefault();
		setError(null);
		setNotice(null);
		let body;
		try {
			body = JSON.parse(edit.text);
		} catch (err) {
			setError({ field: null, message: `not JSON: ${err.message}` });
			return;
		}
		try {
			await put(`/sla/${plural}/${encodeURIComponent(edit.id.trim())}`, body);
			setNotice(`Saved ${kind} ${edit.id.trim()}.`);
			setEdit(null);
		} catch (err) {
			setError({ field: err.field, message: err.message });
		}
		list.reload();
	};
	const remove = async (o) => {
		setNotice(null);
		try {
			await del(`/sla/${plural}/${encodeURIComponent(o.id)}`);
			setNotice(`Deleted ${kind} ${o.id}.`);
		} catch (err) {
			setNotice(`Cannot delete ${o.id}: ${err.message}`);
		}
		list.reload();
	};
	return html`<section aria-labelledby=${`sla-${kind}-h`}>
		<h2 id=${`sla-${kind}-h`}>${title}</h2>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		${list.error ? html`<p class="error" role="alert">Cannot load the ${plural}: ${list.error.message}</p>` : null}
		<table class="tickets">
			<thead><tr><th scope="col">Id</th><th scope="col">${kind === 'calendar' ? 'Time zone' : 'Calendar'}</th>
				<th scope="col">${kind === 'calendar' ? 'Holidays' : 'First response / resolution'}</th>
				<th scope="col">Version</th><th scope="col">Actions</th></tr></thead>
			<tbody>${items.map((o) => html`<tr key=${o.id} data-sla-id=${o.id}>
				<td>${o.id}</td>
				<td>${kind === 'calendar' ? o.timezone : o.calendar}</td>
				<td>${kind === 'calendar' ? (o.holidays || []).length
					: `${o.first_response_min} min / ${o.resolution_min} min`}</td>
				<td>${o.builtin || o.id === '24x7' ? html`<span class="muted">built in</span>`
					: html`${o.version} <span class="muted">${when(o.updated_at)}</span>`}</td>
				<td>${o.id === '24x7' ? null : html`<button type="button" onClick=${() => {
					setError(null);
					setEdit({ id: o.id, text: bodyOf(o), isNew: false });
				}}>Edit ${o.id}</button>`}
					${o.builtin || o.id === '24x7' ? null : html`<button type="button" onClick=${() => remove(o)}>Delete ${o.id}</button>`}</td>
			</tr>`)}</tbody>
		</table>
		${edit ? html`<form class="stack" onSubmit=${save} aria-labelledby=${`sla-${kind}-edit-h`}>
			<h3 id=${`sla-${kind}-edit-h`}>${edit.isNew ? `New ${kind}` : `Edit ${kind} ${edit.id}`}</h3>
			<label for=${idFor}>Id</label>
			<input id=${idFor} required readOnly=${!edit.isNew} value=${edit.id}
				onInput=${(e) => setEdit({ ...edit, id: e.target.value })} />
			<label for=${textFor}>Body (JSON)</label>
			<textarea id=${textFor} rows="12" class="code" required value=${edit.text}
				aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? errFor : undefined}
				onInput=${(e) => setEdit({ ...edit, text: e.target.value })}></textarea>
			${error ? html`<p id=${errFor} class="error" role="alert">${error.field ? html`<strong>${error.field}</strong>: ` : null}${error.message}</p>` : null}
			<div class="row"><button type="submit" class="primary">Save ${kind}</button>
				<button type="button" onClick=${() => {
					setEdit(null);
					setError(null);
				}}>Cancel</button></div>
		</form>` : html`<button type="button" onClick=${() => {
			setError(null);
			setEdit({ id: '', text: JSON.stringify(EXAMPLES[kind], null, 2), isNew: true });
		}}>New ${kind}</button>`}
	</section>`;
}

export function SlaAdmin() {
	return html`<div class="sla-admin">
		<p class="hint">Policies are tried in order (a body's <code>position</code>); the first whose <code>match</code>
			admits a ticket applies. Times are business minutes on the policy's calendar.</p>
		<${Kind} kind="calendar" title="SLA calendars" plural="calendars" />
		<${Kind} kind="policy" title="SLA policies" plural="policies" />
	</div>`;
}
