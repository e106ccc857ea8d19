// The ticket view: the thread (inbound, outbound and internal notes told
// apart), the composer, the actions (claim, assign, priority, category,
// status, department, resolve, reopen, a macro), the triage, KB and customer
// panels, and who else is here (presence). A macro's draft reply lands in
// the composer, after what the agent wrote, to edit and send.
//
// Versions: the composer's text was written against the version the agent
// last saw (base). Live events refresh the thread; while the agent is
// writing, base stays where it was, so a reply sent after someone else
// answered is refused by the server (409) and the console shows "this
// ticket changed: here is the newer message" with that message, keeping the
// text. The agent reads it, then sends again (now on the new version).
import { html, useState, useEffect, useRef, useCallback } from '../../vendor/vendor.js';
import { get, post, patch, presence as sendPresence } from '../api.js';
import * as live from '../live.js';
import { useKeys, label, when, tag, PRIORITIES, CATEGORIES, STATUSES, loadDraft, saveDraft } from '../util.js';
import { assigneeOf, isMine } from '../people.js';
import { Composer } from './composer.js';
import { Triage, Articles, Customer } from './panels.js';
import { SlaBadge } from '../sla.js';

const DIRECTION = { inbound: 'Customer', outbound: 'Reply', note: 'Internal note' };

function Message({ m, fresh }) {
	const kind = m.direction === 'note' || m.direction === 'internal' ? 'note' : m.direction;
	return html`<li class=${`msg msg-${kind}${fresh ? ' fresh' : ''}`} data-message-id=${m.id}>
		<div class="meta"><strong>${DIRECTION[kind] || kind}</strong> · ${m.author || ''} ·
			<time datetime=${m.created_at}>${when(m.created_at)}</time></div>
		<div class="body">${m.body}</div>
	</li>`;
}

function Presence({ others, visitorTyping }) {
	return html`<div class="presence" role="status" aria-live="polite" aria-label="Who else is here">
		${others.length ? others.map((p) => html`<span class=${'who-' + p.state} data-user=${p.user.id}>
			${p.user.name} is ${p.state === 'replying' ? 'replying' : 'viewing'}</span>`) : html`<span class="muted">Nobody else is here.</span>`}
		${visitorTyping ? html`<span class="who-replying visitor-typing">The visitor is typing…</span>` : null}
	</div>`;
}

export function Ticket({ id, user }) {
	const [t, setT] = useState(null);
	const [error, setError] = useState(null);
	const [base, setBase] = useState(null);
	const [conflict, setConflict] = useState(null);   // {messages, text}
	const [fresh, setFresh] = useState(false);        // activity since base
	const [others, setOthers] = useState([]);
	const [visitorTyping, setVisitorTyping] = useState(false);   // a chat's visitor (chat.typing)
	const visitorTimer = useRef(null);
	const [mode, setMode] = useState('reply');
	const [busy, setBusy] = useState(false);
	const [notice, setNotice] = useState(null);
	const [assignee, setAssignee] = useState('');
	const [macros, setMacros] = useState([]);
	const [composerGen, setComposerGen] = useState(0);   // a new composer reads the saved texts again
	const writing = useRef({ reply: false, note: false });
	const seen = useRef(new Set());   // the messages there were at base: what the agent has read
	const focusComposer = useRef(null);
	const tRef = useRef(null);
	tRef.current = t;

	const load = useCallback(async (adoptVersion) => {
		try {
			const n = await get(`/tickets/${encodeURIComponent(id)}`);
			setT(n);
			setError(null);
			setBase((b) => {
				if (b === null || adoptVersion || !(writing.current.reply || writing.current.note)) {
					seen.current = new Set((n.messages || []).map((m) => m.id));
					return n.version;
				}
				if (n.version !== b)
					setFresh(true);
				return b;
			});
			return n;
		} catch (e) {
			setError(e);
			return null;
		}
	}, [id]);

	useEffect(() => {
		load(true);
		get('/macros').then((r) => setMacros(r.macros || []), () => setMacros([]));
		get(`/tickets/${encodeURIComponent(id)}/presence`).then((r) => setOthers((r.presence || []).filter((p) => p.user.id !== user.id && p.state !== 'left')), () => null);
		sendPresence(id, 'viewing');
		const timer = setInterval(() => sendPresence(id, writing.current.reply ? 'replying' : 'viewing'), 20000);
		const off = live.subscribe((name, d) => {
			const cur = tRef.current;
			const mine = d && (d.ticket_id === id || (cur && (d.ticket_id === cur.id || (d.number && d.number === cur.number))));
			if (!mine)
				return;
			if (name === 'chat.typing') {
				clearTimeout(visitorTimer.current);
				setVisitorTyping(!!d.typing);
				if (d.typing)
					visitorTimer.current = setTimeout(() => setVisitorTyping(false), 10000);
			} else if (name === 'presence') {
				if (!d.user || d.user.id === user.id)
					return;
				setOthers((list) => {
					const rest = list.filter((p) => p.user.id !== d.user.id);
					return d.state === 'left' ? rest : [...rest, { user: d.user, state: d.state, at: d.at }];
				});
			} else {
				load(false);
			}
		});
		const leave = () => sendPresence(id, 'left');
		addEventListener('pagehide', leave);
		return () => {
			clearInterval(timer);
			off();
			removeEventListener('pagehide', leave);
			leave();
		};
	}, [id]);

	const onTyping = (m, text) => {
		const was = writing.current.reply;
		writing.current[m] = !!text.trim();
		if (m === 'reply' && was !== writing.current.reply)
			sendPresence(id, writing.current.reply ? 'replying' : 'viewing');
		if (!writing.current.reply && !writing.current.note && tRef.current) {
			seen.current = new Set((tRef.current.messages || []).map((x) => x.id));
			setBase(tRef.current.version);
			setFresh(false);
		}
	};

	// Runs a change at base; a 409 shows the newer state and adopts it. True when done.
	const change = async (fn, what) => {
		setBusy(true);
		setNotice(null);
		const known = seen.current;
		try {
			await fn(base);
			setConflict(null);
			setFresh(false);
			await load(true);
			return true;
		} catch (e) {
			if (e.status === 409) {
				const n = await load(true);
				const newer = ((n && n.messages) || []).filter((m) => !known.has(m.id));
				setConflict({ messages: newer, what });
				setFresh(false);
			} else {
				setNotice(`Cannot ${what}: ${e.message}`);
			}
			return false;
		} finally {
			setBusy(false);
		}
	};
	const path = `/tickets/${encodeURIComponent(id)}`;
	const send = (m, text, extra) => change((v) => post(`${path}/${m === 'reply' ? 'replies' : 'notes'}`, { body: text, version: v, ...extra }),
		m === 'reply' ? 'send the reply' : 'add the note');
	// "assign to me" is the assign verb with the signed-in user (POST /claim is the same thing)
	const claim = () => change((v) => post(`${path}/assign`, { assignee: assigneeOf(user), version: v }), 'assign it to you');
	const assign = (who) => change((v) => post(`${path}/assign`, { assignee: who || null, version: v }), 'assign it');
	const resolve = () => change((v) => post(`${path}/resolve`, { version: v }), 'resolve it');
	const reopen = () => change((v) => post(`${path}/reopen`, { version: v }), 'reopen it');
	const setField = (field, value) => change((v) => patch(path, { version: v, [field]: value }), `change the ${label(field)}`);
	const applyMacro = (name) => change(async (v) => {
		const r = await post(`${path}/macros/${encodeURIComponent(name)}`, { version: v });
		if (r && r.draft) {
			const cur = loadDraft(id, 'reply');
			const text = cur.trim() ? `${cur}\n\n${r.draft}` : r.draft;
			saveDraft(id, 'reply', text);
			setMode('reply');
			setComposerGen((g) => g + 1);
			onTyping('reply', text);
		}
	}, `apply the macro "${name}"`);

	useKeys((k) => {
		if (!t)
			return false;
		if (k === 'r' || k === 'n') {
			setMode(k === 'r' ? 'reply' : 'note');
			requestAnimationFrame(() => focusComposer.current && focusComposer.current());
			return true;
		}
		// as the buttons: nothing while a change is on its way (it would go out on
		// the version before it), no "assign to me" when it is mine, no resolve when settled
		if (k === 'a') {
			if (!busy && !isMine(t, user))
				claim();
			return true;
		}
		if (k === 'e') {
			if (!busy && t.status !== 'resolved' && t.status !== 'closed')
				resolve();
			return true;
		}
		return false;
	});

	if (error && !t)
		return html`<main id="main" tabindex="-1"><h1>Ticket ${id}</h1>
			<p class="error" role="alert">${error.status === 404 ? 'No such ticket.' : error.message}</p></main>`;
	if (!t)
		return html`<main id="main" tabindex="-1"><p class="boot">Loading ticket…</p></main>`;
	const settled = t.status === 'resolved' || t.status === 'closed';
	const draft = t.analysis && t.analysis.generated_response && t.analysis.generated_response.response;
	return html`<main id="main" class="ticket" tabindex="-1">
		<div class="ticket-head">
			<p class="crumbs"><a href="#/queue/all">Queue</a> / ${tag(t.number)}</p>
			<h1>${t.subject}</h1>
			<p class="facts">
				<span class=${'badge status-' + t.status}>${label(t.status)}</span>
				<span class=${'badge prio-' + t.priority}>${label(t.priority)}</span>
				<${SlaBadge} t=${t} />
				<span>${label(t.category)}</span> · <span>${t.channel}</span> ·
				<span>${t.assignee ? `assigned to ${t.assignee}` : 'unassigned'}</span>
				${t.assigned_department ? html` · <span>${label(t.assigned_department)}</span>` : null}
				${t.language ? html` · <span>language ${t.language}</span>` : null}
				<span class="muted"> · version ${t.version}</span>
			</p>
			<${Presence} others=${others} visitorTyping=${visitorTyping} />
		</div>
		${conflict ? html`<div class="conflict" role="alert">
			<p><strong>This ticket changed: here is the newer message.</strong> Nothing was sent; your text is still in the composer.
			Read what changed, then ${conflict.what} again.</p>
			${conflict.messages.length ? html`<ol class="thread">${conflict.messages.map((m) => html`<${Message} m=${m} fresh=${true} />`)}</ol>`
				: html`<p>The ticket's status, assignee or fields changed (now ${label(t.status)}, ${t.assignee || 'unassigned'}, version ${t.version}).</p>`}
			<button type="button" onClick=${() => setConflict(null)}>Dismiss</button>
		</div>` : null}
		${fresh && !conflict ? html`<p class="notice" role="status">New activity on this ticket since you started writing (shown in the thread).</p>` : null}
		${notice ? html`<p class="error" role="alert">${notice}</p>` : null}
		<div class="ticket-grid">
			<div class="ticket-main">
				<section class="panel" aria-labelledby="thread-h">
					<h2 id="thread-h">Conversation</h2>
					<ol class="thread">${(t.messages || []).map((m) => html`<${Message} key=${m.id} m=${m} fresh=${fresh && !seen.current.has(m.id)} />`)}</ol>
				</section>
				<${Composer} key=${`${id}:${composerGen}`} ticketId=${id} mode=${mode} setMode=${setMode} draft=${draft} busy=${busy}
					onSend=${send} onTyping=${onTyping} focusRef=${focusComposer} />
				<section class="panel actions" aria-labelledby="actions-h">
					<h2 id="actions-h">Actions</h2>
					<div class="row">
						${isMine(t, user) ? null : html`<button type="button" disabled=${busy} onClick=${claim}>Assign to me</button>`}
						${t.assignee ? html`<button type="button" disabled=${busy} onClick=${() => assign(null)}>Unassign</button>` : null}
						${settled ? html`<button type="button" disabled=${busy} onClick=${reopen}>Reopen</button>`
							: html`<button type="button" class="primary" disabled=${busy} onClick=${resolve}>Resolve</button>`}
					</div>
					<form class="row" onSubmit=${(e) => {
						e.preventDefault();
						assignee.trim() && assign(assignee.trim()).then((ok) => ok && setAssignee(''));
					}}>
						<label for="assignee">Assign to</label>
						<input id="assignee" value=${assignee} onInput=${(e) => setAssignee(e.target.value)} placeholder=${assigneeOf(user)} />
						<button type="submit" disabled=${busy || !assignee.trim()}>Assign</button>
					</form>
					<div class="row">
						<label for="set-priority">Priority</label>
						<select id="set-priority" value=${t.priority || ''} disabled=${busy} onChange=${(e) => setField('priority', e.target.value)}>
							${PRIORITIES.map((p) => html`<option value=${p}>${label(p)}</option>`)}</select>
						<label for="set-category">Category</label>
						<select id="set-category" value=${t.category || ''} disabled=${busy} onChange=${(e) => setField('category', e.target.value)}>
							${(CATEGORIES.includes(t.category) || !t.category ? CATEGORIES : [t.category, ...CATEGORIES]).map((c) => html`<option value=${c}>${label(c)}</option>`)}</select>
						<label for="set-status">Status</label>
						<select id="set-status" value=${t.status} disabled=${busy} onChange=${(e) => setField('status', e.target.value)}>
							${STATUSES.map((s) => html`<option value=${s}>${label(s)}</option>`)}</select>
					</div>
					<form class="row" onSubmit=${(e) => {
						e.preventDefault();
						const d = e.target.elements.dept.value.trim();
						d && setField('assigned_department', d);
					}}>
						<label for="dept">Department</label>
						<input id="dept" name="dept" key=${t.assigned_department} defaultValue=${t.assigned_department || ''} />
						<button type="submit" disabled=${busy}>Move</button>
					</form>
					${macros.length ? html`<form class="row macros" onSubmit=${(e) => {
						e.preventDefault();
						const m = e.target.elements.macro.value;
						m && applyMacro(m);
					}}>
						<label for="macro">Macro</label>
						<select id="macro" name="macro" disabled=${busy}>
							${macros.map((m) => html`<option value=${m.name} title=${m.description || ''}>${m.name}${m.description ? ` — ${m.description}` : ''}</option>`)}</select>
						<button type="submit" disabled=${busy}>Apply</button>
					</form>` : null}
				</section>
			</div>
			<aside class="ticket-side" aria-label="About this ticket">
				<${Triage} analysis=${t.analysis} trace=${t.trace} />
				<${Articles} analysis=${t.analysis} />
				<${Customer} customerId=${t.customer_id} ticketId=${t.id} />
			</aside>
		</div>
	</main>`;
}
