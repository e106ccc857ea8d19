// Small helpers the screens share: dates, labels, drafts kept in
// sessionStorage, a data-loading hook, and the keyboard shortcuts' registry.
import { useState, useEffect, useLayoutEffect, useRef, useCallback } from '../vendor/vendor.js';

export const STATUSES = ['new', 'triaging', 'auto_replied', 'escalated', 'waiting_on_customer', 'pending', 'resolved', 'closed'];
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
export const CATEGORIES = ['technical', 'billing', 'account', 'product', 'general'];
export const CHANNELS = ['email', 'chat', 'web', 'webhook', 'phone', 'api'];

export const label = (s) => (s == null ? '' : String(s).replace(/_/g, ' '));

export function ago(iso) {
	if (!iso)
		return '';
	const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
	if (s < 60)
		return 'just now';
	if (s < 3600)
		return `${Math.floor(s / 60)} min ago`;
	if (s < 86400)
		return `${Math.floor(s / 3600)} h ago`;
	return `${Math.floor(s / 86400)} d ago`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

export function duration(s) {
	if (s == null || Number.isNaN(s))
		return '–';
	if (s === 0)
		return '0 s';
	if (s < 1)
		return `${Math.max(1, Math.round(s * 1000))} ms`;
	if (s < 10)
		return `${s.toFixed(1)} s`;
	if (s < 60)
		return `${Math.round(s)} s`;
	if (s < 3600)
		return `${Math.round(s / 60)} min`;
	return `${(s / 3600).toFixed(1)} h`;
}

export const pct = (x) => (x == null ? '–' : `${Math.round(x * 100)}%`);

export const tag = (n) => (n == null ? '' : 'T-' + String(n).padStart(6, '0'));

// ---- drafts: a reload never loses what an agent was writing ----

const draftKey = (ticketId, mode) => `frontline:draft:${ticketId}:${mode}`;

export function loadDraft(ticketId, mode) {
	try {
		return sessionStorage.getItem(draftKey(ticketId, mode)) || '';
	} catch {
		return '';
	}
}

export function saveDraft(ticketId, mode, text) {
	try {
		if (text)
			sessionStorage.setItem(draftKey(ticketId, mode), text);
		else
			sessionStorage.removeItem(draftKey(ticketId, mode));
	} catch {
		/* storage full or disabled: the text stays in the page */
	}
}

// ---- loading ----

// {data, error, loading, reload}: fn() runs on mount and whenever deps change.
export function useLoad(fn, deps) {
	const [st, setSt] = useState({ data: null, error: null, loading: true });
	const seq = useRef(0);
	const reload = useCallback(() => {
		const n = ++seq.current;
		setSt((s) => ({ ...s, loading: true }));
		return fn().then(
			(data) => n === seq.current && setSt({ data, error: null, loading: false }),
			(error) => n === seq.current && setSt((s) => ({ data: s.data, error, loading: false })));
	}, deps);
	useEffect(() => {
		reload();
	}, [reload]);
	return { ...st, reload };
}

// fn, called at most once per ms (trailing).
export function debounce(fn, ms) {
	let t = null;
	return (...args) => {
		clearTimeout(t);
		t = setTimeout(() => fn(...args), ms);
	};
}

// fn at most once per ms: at once when it has been quiet that long, else once at the end of the interval.
export function throttle(fn, ms) {
	let last = 0;
	let t = null;
	return (...args) => {
		const wait = last + ms - Date.now();
		if (wait <= 0) {
			last = Date.now();
			fn(...args);
		} else if (!t) {
			t = setTimeout(() => {
				t = null;
				last = Date.now();
				fn(...args);
			}, wait);
		}
	};
}

// ---- keyboard shortcuts ----

// The shortcuts each screen offers, for the "?" list: [key, what].
export const SHORTCUTS = [
	['j / k', 'next / previous ticket in a list'],
	['Enter', 'open the selected ticket'],
	['r', 'reply (ticket view)'],
	['n', 'internal note (ticket view)'],
	['a', 'assign to me'],
	['e', 'resolve'],
	['/', 'search the queue; in the composer, insert a canned response'],
	['?', 'this list'],
	['Escape', 'close a dialog or leave a field'],
];

const keyHandlers = [];

// A screen's handler(key, event) -> true when it took the key; the latest first.
// Registered as the component is put on the page (a layout effect), not after
// the next paint: a key pressed the moment a dialog shows reaches the dialog.
export function useKeys(handler) {
	const ref = useRef(handler);
	ref.current = handler;
	useLayoutEffect(() => {
		const h = (k, e) => ref.current(k, e);
		keyHandlers.unshift(h);
		return () => keyHandlers.splice(keyHandlers.indexOf(h), 1);
	}, []);
}

function typing(el) {
	if (!el)
		return false;
	const t = el.tagName;
	return t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT' || el.isContentEditable;
}

export function installKeys() {
	document.addEventListener('keydown', (e) => {
		if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented)
			return;
		if (typing(e.target) && e.key !== 'Escape')
			return;
		for (const h of keyHandlers)
			if (h(e.key, e)) {
				e.preventDefault();
				return;
			}
	});
}
