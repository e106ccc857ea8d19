// Admin: how each department's escalated tickets find an agent (issue 18,
// assignment): the mode (by load, round robin, or off: by hand) and the
// default maximum of open tickets per agent (empty: no limit). The list
// holds the configured departments and those people belong to; a new one
// is added by its id. Saving a mode that assigns hands the department's
// queue to its available agents (the notice says how many).
import { html, useState } from '../../vendor/vendor.js';
import { get, put } from '../api.js';
import { useLoad, when } from '../util.js';

const MODES = [['load', 'By load'], ['round_robin', 'Round robin'], ['off', 'Off (by hand)']];

function Row({ d, save }) {
	const [max, setMax] = useState(d.max_open_per_agent === null ? '' : String(d.max_open_per_agent));
	const id = d.id.replace(/[^A-Za-z0-9_-]/g, '_');
	return html`<tr>
		<th scope="row">${d.id}</th>
		<td><label class="sr-only" for=${'mode-' + id}>Assignment of ${d.id}</label>
			<select id=${'mode-' + id} value=${d.assignment} onChange=${(e) => save(d, { assignment: e.target.value })}>
				${MODES.map(([v, name]) => html`<option value=${v}>${name}</option>`)}</select></td>
		<td><form class="row" onSubmit=${(e) => {
			e.preventDefault();
			save(d, { max_open_per_agent: max === '' ? null : Number(max) });
		}}>
			<label class="sr-only" for=${'max-' + id}>Maximum open tickets per agent in ${d.id}</label>
			<input id=${'max-' + id} type="number" min="0" max="100000" placeholder="no limit" value=${max}
				onInput=${(e) => setMax(e.target.value)} />
			<button type="submit">Save maximum of ${d.id}</button>
		</form></td>
		<td>${when(d.updated_at) || html`<span class="muted">defaults</span>`}</td>
	</tr>`;
}

export function Departments() {
	const list = useLoad(() => get('/departments'), []);
	const [notice, setNotice] = useState(null);
	const [added, setAdded] = useState('');

	const save = async (d, fields) => {
		setNotice(null);
		try {
			const r = await put(`/departments/${encodeURIComponent(d.id)}`, fields);
			const n = (r.assigned || []).length;
			setNotice(`Saved ${d.id}.` + (n ? ` ${n} queued ticket${n === 1 ? '' : 's'} assigned.` : ''));
		} catch (err) {
			setNotice(`Cannot save ${d.id}: ${err.message}`);
		}
		list.reload();
	};
	const deps = (list.data && list.data.departments) || [];
	return html`<section aria-labelledby="deps-h">
		<h2 id="deps-h">Departments</h2>
		<p>Escalated tickets go to an available agent of their department whose skills fit, under the maximum.</p>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		<table class="tickets">
			<thead><tr><th scope="col">Department</th><th scope="col">Assignment</th><th scope="col">Maximum per agent</th>
				<th scope="col">Changed</th></tr></thead>
			<tbody>${deps.map((d) => html`<${Row} key=${d.id + d.updated_at} d=${d} save=${save} />`)}</tbody>
		</table>
		<form class="row wrap" aria-labelledby="newdep-h" onSubmit=${(e) => {
			e.preventDefault();
			if (added.trim())
				save({ id: added.trim() }, { assignment: 'load' }).then(() => setAdded(''));
		}}>
			<h3 id="newdep-h">Configure another department</h3>
			<label for="nd-id">Department</label>
			<input id="nd-id" required value=${added} onInput=${(e) => setAdded(e.target.value)} />
			<button type="submit" class="primary">Add department</button>
		</form>
	</section>`;
}
