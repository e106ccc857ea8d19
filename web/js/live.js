// Live updates: one EventSource on /api/v1/stream for the whole console.
// Screens subscribe to the events they care about; the browser reconnects
// by itself (sending Last-Event-ID), and when it gives up the console opens
// a new stream from the last event it saw (?last_event_id=), so nothing
// between the two is missed.

const NAMES = ['ticket.created', 'ticket.triaged', 'ticket.replied', 'ticket.noted', 'ticket.assigned',
	'ticket.status_changed', 'ticket.updated', 'ticket.escalated', 'ticket.corrected', 'presence',
	'ticket.customer_replied', 'chat.typing'];

const listeners = new Set();
const statusListeners = new Set();
let source = null;
let lastId = null;
let retry = null;
let state = 'closed';

function setState(s) {
	state = s;
	for (const fn of statusListeners)
		fn(s);
}

function dispatch(name, ev) {
	let data = null;
	try {
		data = JSON.parse(ev.data);
	} catch {
		return;
	}
	if (ev.lastEventId)
		lastId = ev.lastEventId;
	for (const fn of listeners)
		fn(name, data);
}

export function connect() {
	if (source)
		return;
	const url = '/api/v1/stream' + (lastId ? '?last_event_id=' + encodeURIComponent(lastId) : '');
	source = new EventSource(url, { withCredentials: true });
	setState('connecting');
	source.onopen = () => setState('live');
	source.onerror = () => {
		if (source && source.readyState === EventSource.CLOSED) {
			source = null;
			setState('offline');
			clearTimeout(retry);
			retry = setTimeout(connect, 3000);
		} else {
			setState('connecting');
		}
	};
	for (const name of NAMES)
		source.addEventListener(name, (ev) => dispatch(name, ev));
}

export function disconnect() {
	clearTimeout(retry);
	if (source)
		source.close();
	source = null;
	setState('closed');
}

// fn(name, data) for every event; returns the function that stops it.
export function subscribe(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

export function onStatus(fn) {
	statusListeners.add(fn);
	fn(state);
	return () => statusListeners.delete(fn);
}
