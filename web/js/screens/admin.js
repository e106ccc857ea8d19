// Admin pages: users (create with a password shown once, change role and
// department, disable; each one's availability and maximum of open tickets,
// null meaning the department's, are shown), API tokens (create, shown once; revoke) and the
// canned responses agents insert with "/"; departments' assignment
// (departments.js); the SLA's calendars and policies (sla_admin.js).
import { html, useState } from '../../vendor/vendor.js';
import { get, post, patch, put, del } from '../api.js';
import { useLoad, when, label } from '../util.js';
import { Departments } from './departments.js';
import { SlaAdmin } from './sla_admin.js';

function Secret({ title, value, onDone }) {
	return html`<div class="secret" role="alert">
		<p><strong>${title}</strong> It is shown once: copy it now.</p>
		<p><code>${value}</code></p>
		<button type="button" onClick=${onDone}>Done</button>
	</div>`;
}

function Users({ user }) {
	const list = useLoad(() => get('/users'), []);
	const [form, setForm] = useState({ email: '', name: '', role: 'agent', department: '' });
	const [secret, setSecret] = useState(null);
	const [notice, setNotice] = useState(null);
	const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });

	const create = async (e) => {
		e.preventDefault();
		setNotice(null);
		try {
			const body = { email: form.email, name: form.name, role: form.role };
			if (form.department)
				body.department = form.department;
			const r = await post('/users', body);
			if (r.password)
				setSecret({ title: `Password for ${form.email}.`, value: r.password });
			setForm({ email: '', name: '', role: 'agent', department: '' });
			list.reload();
		} catch (err) {
			setNotice(err.message);
		}
	};
	const change = async (u, fields) => {
		setNotice(null);
		try {
			await patch(`/users/${u.id}`, fields);
		} catch (err) {
			setNotice(`Cannot change ${u.email}: ${err.message}`);
		}
		list.reload();
	};
	const users = (list.data && list.data.users) || [];
	return html`<section aria-labelledby="users-h">
		<h2 id="users-h">Users</h2>
		${secret ? html`<${Secret} ...${secret} onDone=${() => setSecret(null)} />` : null}
		${notice ? html`<p class="error" role="alert">${notice}</p>` : null}
		<table class="tickets">
			<thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Department</th>
				<th scope="col">Availability</th><th scope="col">Maximum open</th><th scope="col">Last seen</th><th scope="col">Status</th></tr></thead>
			<tbody>${users.map((u) => html`<tr key=${u.id}>
				<td>${u.name}</td><td>${u.email}</td>
				<td><label class="sr-only" for=${'role-' + u.id}>Role of ${u.email}</label>
					<select id=${'role-' + u.id} value=${u.role} disabled=${u.id === user.id} onChange=${(e) => change(u, { role: e.target.value })}>
						<option value="agent">agent</option><option value="admin">admin</option></select></td>
				<td>${label(u.department) || html`<span class="muted">none</span>`}</td>
				<td>${u.availability}</td>
				<td>${u.max_open ?? html`<span class="muted">department's</span>`}</td>
				<td>${when(u.last_seen_at) || html`<span class="muted">never</span>`}</td>
				<td>${u.id === user.id ? 'you' : html`<button type="button" onClick=${() => change(u, { disabled: !u.disabled })}>
					${u.disabled ? 'Enable' : 'Disable'} ${u.email}</button>`}</td>
			</tr>`)}</tbody>
		</table>
		<form class="row wrap" onSubmit=${create} aria-labelledby="newuser-h">
			<h3 id="newuser-h">New user</h3>
			<label for="nu-email">Email</label><input id="nu-email" type="email" required value=${form.email} onInput=${set('email')} />
			<label for="nu-name">Name</label><input id="nu-name" required value=${form.name} onInput=${set('name')} />
			<label for="nu-role">Role</label><select id="nu-role" value=${form.role} onChange=${set('role')}>
				<option value="agent">agent</option><option value="admin">admin</option></select>
			<label for="nu-dept">Department</label><input id="nu-dept" value=${form.department} onInput=${set('department')} />
			<button type="submit" class="primary">Create user</button>
		</form>
	</section>`;
}

function Tokens() {
	const list = useLoad(() => get('/tokens'), []);
	const [name, setName] = useState('');
	const [role, setRole] = useState('integration');
	const [secret, setSecret] = useState(null);
	const [notice, setNotice] = useState(null);
	const create = async (e) => {
		e.preventDefault();
		try {
			const r = await post('/tokens', { name, role });
			setSecret({ title: `Token "${name}".`, value: r.token });
			setName('');
			list.reload();
		} catch (err) {
			setNotice(err.message);
		}
	};
	const revoke = async (t) => {
		try {
			await del(`/tokens/${t.id}`);
		} catch (err) {
			setNotice(err.message);
		}
		list.reload();
	};
	const tokens = (list.data && list.data.tokens) || [];
	return html`<section aria-labelledby="tokens-h">
		<h2 id="tokens-h">API tokens</h2>
		${secret ? html`<${Secret} ...${secret} onDone=${() => setSecret(null)} />` : null}
		${notice ? html`<p class="error" role="alert">${notice}</p>` : null}
		<table class="tickets">
			<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
			<tbody>${tokens.map((t) => html`<tr key=${t.id}><td>${t.name}</td><td>${t.role}</td><td>${when(t.created_at)}</td>
				<td>${when(t.last_used_at) || html`<span class="muted">never</span>`}</td>
				<td>${t.revoked ? 'revoked' : html`<button type="button" onClick=${() => revoke(t)}>Revoke ${t.name}</button>`}</td></tr>`)}</tbody>
		</table>
		<form class="row wrap" onSubmit=${create} aria-labelledby="newtoken-h">
			<h3 id="newtoken-h">New token</h3>
			<label for="nt-name">Name</label><input id="nt-name" required maxLength="63" value=${name} onInput=${(e) => setName(e.target.value)} />
			<label for="nt-role">Role</label><select id="nt-role" value=${role} onChange=${(e) => setRole(e.target.value)}>
				${['integration', 'agent', 'admin'].map((r) => html`<option value=${r}>${r}</option>`)}</select>
			<button type="submit" class="primary">Create token</button>
		</form>
	</section>`;
}

function Canned() {
	const list = useLoad(() => get('/canned'), []);
	const [edit, setEdit] = useState(null);
	const [notice, setNotice] = useState(null);
	const save = async (e) => {
		e.preventDefault();
		const id = edit.id || edit.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
		try {
			await put(`/canned/${encodeURIComponent(id)}`, { title: edit.title, body: edit.body });
			setEdit(null);
			setNotice('Saved.');
		} catch (err) {
			setNotice(`Cannot save: ${err.message}`);
		}
		list.reload();
	};
	const remove = async (c) => {
		try {
			await del(`/canned/${encodeURIComponent(c.id)}`);
		} catch (err) {
			setNotice(err.message);
		}
		list.reload();
	};
	const items = (list.data && list.data.canned) || [];
	return html`<section aria-labelledby="canned-h">
		<h2 id="canned-h">Canned responses</h2>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		<ul class="canned-list">${items.map((c) => html`<li key=${c.id}><strong>${c.title}</strong>
			<span class="muted"> ${c.body.slice(0, 80)}${c.body.length > 80 ? '…' : ''}</span>
			<button type="button" onClick=${() => setEdit(c)}>Edit ${c.title}</button>
			<button type="button" onClick=${() => remove(c)}>Delete ${c.title}</button></li>`)}</ul>
		${edit ? html`<form onSubmit=${save} class="stack">
			<label for="cn-title">Title</label><input id="cn-title" required value=${edit.title} onInput=${(e) => setEdit({ ...edit, title: e.target.value })} />
			<label for="cn-body">Text</label><textarea id="cn-body" rows="6" required value=${edit.body} onInput=${(e) => setEdit({ ...edit, body: e.target.value })}></textarea>
			<div class="row"><button type="submit" class="primary">Save canned response</button><button type="button" onClick=${() => setEdit(null)}>Cancel</button></div>
		</form>` : html`<button type="button" onClick=${() => setEdit({ title: '', body: '' })}>New canned response</button>`}
	</section>`;
}

export function Admin({ user, page }) {
	const link = (p, name) => html`<a href=${'#/admin/' + p} aria-current=${page === p ? 'page' : undefined}>${name}</a>`;
	return html`<main id="main" class="admin" tabindex="-1">
		<h1>Admin</h1>
		<nav class="views" aria-label="Admin pages">${link('users', 'Users')}${link('tokens', 'API tokens')}${link('canned', 'Canned responses')}${link('departments', 'Departments')}${link('sla', 'SLA')}</nav>
		${page === 'tokens' ? html`<${Tokens} />` : page === 'canned' ? html`<${Canned} />`
			: page === 'departments' ? html`<${Departments} />` : page === 'sla' ? html`<${SlaAdmin} />`
			: html`<${Users} user=${user} />`}
	</main>`;
}
