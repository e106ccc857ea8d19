/*
 * The chat widget's page (docs/CHANNELS.md): runs in the iframe that
 * widget.js opens, on Frontline's origin, and talks to /api/v1/chat/ with
 * the visitor's token (kept in this origin's localStorage, so a reload or
 * another page of the site continues the same conversation). Every text is
 * put in the page as text (textContent), never as markup.
 */
const API = '/api/v1/chat/sessions';
const KEY = 'frontline-chat';
const $ = (id) => document.getElementById(id);

let session = null;     // {id, token}
let lastId = 0;         // the last message shown
let stream = null;
let typingSent = 0;
let typingTimer = null;
let agentTypingTimer = null;

function saved() {
	try {
		return JSON.parse(localStorage.getItem(KEY) || 'null');
	} catch {
		return null;
	}
}

async function call(method, path, body) {
	const headers = {};
	if (session)
		headers.Authorization = `Bearer ${session.token}`;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	const res = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	const json = res.status === 204 ? null : await res.json().catch(() => null);
	if (!res.ok) {
		const err = new Error((json && json.error && json.error.message) || `the server answered ${res.status}`);
		err.status = res.status;
		throw err;
	}
	return json;
}

function showError(text) {
	$('error').textContent = text || '';
	$('error').hidden = !text;
}

function add(m) {
	if (m.id <= lastId)
		return;
	lastId = m.id;
	const li = document.createElement('li');
	li.className = m.from === 'visitor' ? 'visitor' : 'agent';
	const who = document.createElement('span');
	who.className = 'who';
	who.textContent = m.from === 'visitor' ? 'You' : m.automatic ? 'Support (automatic answer)' : 'Support';
	const text = document.createElement('span');
	text.textContent = m.text;
	li.append(who, text);
	$('log').append(li);
	$('log').scrollTop = $('log').scrollHeight;
	if (m.from === 'agent')
		agentTyping(false);
}

function offer(state) {
	// nobody there: say so and ask for an email address, unless the visitor gave one already
	if (state.by_email) {
		$('notice').textContent = `We will answer by email at ${state.email}.`;
		$('notice').hidden = false;
		$('by-email').hidden = true;
	} else if (!state.agents_available) {
		$('notice').textContent = 'No one is available to chat right now. Leave your email address and we will answer by email.';
		$('notice').hidden = false;
		$('by-email').hidden = false;
	} else {
		$('notice').hidden = true;
		$('by-email').hidden = true;
	}
	if (state.status === 'resolved' || state.status === 'closed') {
		$('notice').textContent = 'This conversation was resolved. Write again if you need more help.';
		$('notice').hidden = false;
	}
}

async function refresh() {
	if (!session)
		return;
	const r = await call('GET', `/${encodeURIComponent(session.id)}/messages?after=${lastId}`);
	r.messages.forEach(add);
	return r;
}

function agentTyping(on) {
	clearTimeout(agentTypingTimer);
	$('typing').textContent = on ? 'Support is typing…' : '';
	if (on)
		agentTypingTimer = setTimeout(() => agentTyping(false), 15000);
}

function listen() {
	if (stream || !session)
		return;
	stream = new EventSource(`${API}/${encodeURIComponent(session.id)}/stream?token=${encodeURIComponent(session.token)}`);
	stream.addEventListener('open', () => refresh().catch(() => null));
	stream.addEventListener('message', () => refresh().catch(() => null));
	stream.addEventListener('typing', (e) => {
		const d = JSON.parse(e.data);
		if (d.who === 'agent')
			agentTyping(d.typing);
	});
	stream.addEventListener('status', () => refresh().then((r) => r && offer(r)).catch(() => null));
}

async function start() {
	session = saved();
	if (session) {
		try {
			const state = await call('GET', `/${encodeURIComponent(session.id)}`);
			offer(state);
			if (state.reference) {
				await refresh();
				listen();
			}
			return;
		} catch (e) {
			if (e.status !== 404 && e.status !== 401)
				throw e;
			session = null;   // forgotten by the server: a new one
		}
	}
	const r = await call('POST', '', {});
	session = { id: r.session_id, token: r.visitor_token };
	localStorage.setItem(KEY, JSON.stringify(session));
	offer(r);
}

async function send(e) {
	e.preventDefault();
	const box = $('text');
	const text = box.value.trim();
	if (!text)
		return;
	const button = $('send').querySelector('button');
	button.disabled = true;
	try {
		const r = await call('POST', `/${encodeURIComponent(session.id)}/messages`, { text });
		if (r.message)
			add(r.message);
		box.value = '';
		showError('');
		typing(false);
		listen();
	} catch (err) {
		showError(err.message);
	} finally {
		button.disabled = false;
		box.focus();
	}
}

function typing(on) {
	clearTimeout(typingTimer);
	if (!session || !stream)
		return;
	const now = Date.now();
	if (on && now - typingSent < 3000) {
		typingTimer = setTimeout(() => typing(false), 4000);
		return;
	}
	typingSent = on ? now : 0;
	call('POST', `/${encodeURIComponent(session.id)}/typing`, { typing: on }).catch(() => null);
	if (on)
		typingTimer = setTimeout(() => typing(false), 4000);
}

async function byEmail(e) {
	e.preventDefault();
	try {
		const state = await call('POST', `/${encodeURIComponent(session.id)}/email`, { email: $('email').value.trim() });
		offer(state);
		showError('');
	} catch (err) {
		showError(err.message);
	}
}

function close() {
	window.parent.postMessage('frontline-chat:close', '*');
}

$('send').addEventListener('submit', send);
$('by-email').addEventListener('submit', byEmail);
$('close').addEventListener('click', close);
$('text').addEventListener('input', () => typing(true));
$('text').addEventListener('keydown', (e) => {
	if (e.key === 'Enter' && !e.shiftKey) {
		e.preventDefault();
		$('send').requestSubmit();
	}
});
document.addEventListener('keydown', (e) => {
	if (e.key === 'Escape')
		close();
});
start().catch((e) => showError(`The chat is not available: ${e.message}`));
