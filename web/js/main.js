// The console's shell: who is signed in (GET /api/v1/session), the hash
// routes (#/queue/all, #/tickets/<id>, #/escalations, #/kb, #/dashboard,
// #/admin/...), the navigation, the live stream's state, the keyboard
// shortcuts' list (?), and signing out.
import { html, render, useState, useEffect, useLayoutEffect, useRef } from '../vendor/vendor.js';
import { get, del, setCsrf, whenSignedOut } from './api.js';
import * as live from './live.js';
import { installKeys, useKeys, SHORTCUTS } from './util.js';
import { SignIn } from './screens/signin.js';
import { Queue } from './screens/queue.js';
import { Ticket } from './screens/ticket.js';
import { Escalations } from './screens/escalations.js';
import { Knowledge } from './screens/kb.js';
import { Dashboard } from './screens/dashboard.js';
import { Admin } from './screens/admin.js';
import { Availability } from './availability.js';

function parseHash() {
	const h = location.hash.replace(/^#\/?/, '');
	const [path, qs] = h.split('?');
	const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
	return { parts, params: new URLSearchParams(qs || '') };
}

function useRoute() {
	const [route, setRoute] = useState(parseHash());
	useEffect(() => {
		const on = () => setRoute(parseHash());
		addEventListener('hashchange', on);
		return () => removeEventListener('hashchange', on);
	}, []);
	return route;
}

function LiveBadge() {
	const [s, setS] = useState('closed');
	useEffect(() => live.onStatus(setS), []);
	const text = { live: 'Live', connecting: 'Connecting…', offline: 'Offline: retrying', closed: 'Not live' }[s];
	return html`<span class=${'live live-' + s} role="status" aria-live="polite">${text}</span>`;
}

function Help({ onClose }) {
	const ref = useRef(null);
	useLayoutEffect(() => {
		const prev = document.activeElement;
		ref.current && ref.current.focus();
		return () => prev && prev.focus && prev.focus();
	}, []);
	useKeys((k) => {
		if (k === 'Escape' || k === '?') {
			onClose();
			return true;
		}
		return false;
	});
	return html`<div class="overlay" onClick=${(e) => e.target === e.currentTarget && onClose()}>
		<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title" tabindex="-1" ref=${ref}>
			<h2 id="help-title">Keyboard shortcuts</h2>
			<table class="shortcuts">
				<thead><tr><th scope="col">Key</th><th scope="col">Action</th></tr></thead>
				<tbody>${SHORTCUTS.map(([k, what]) => html`<tr><td><kbd>${k}</kbd></td><td>${what}</td></tr>`)}</tbody>
			</table>
			<button type="button" onClick=${onClose}>Close</button>
		</div>
	</div>`;
}

function Nav({ user, route }) {
	const at = route.parts[0] || 'queue';
	const link = (href, name, key) => html`<a href=${href} aria-current=${at === key ? 'page' : undefined}>${name}</a>`;
	return html`<nav class="topnav" aria-label="Main">
		${link('#/queue/all', 'Queue', 'queue')}
		${link('#/escalations', 'Escalations', 'escalations')}
		${link('#/kb', 'Knowledge base', 'kb')}
		${link('#/dashboard', 'Dashboard', 'dashboard')}
		${user.role === 'admin' ? link('#/admin/users', 'Admin', 'admin') : null}
	</nav>`;
}

function Screen({ user, route }) {
	const [what, a, b] = route.parts;
	switch (what) {
	case 'tickets':
		return html`<${Ticket} key=${a} id=${a} user=${user} />`;
	case 'escalations':
		return html`<${Escalations} user=${user} />`;
	case 'kb':
		return html`<${Knowledge} user=${user} id=${a} />`;
	case 'dashboard':
		return html`<${Dashboard} user=${user} />`;
	case 'admin':
		return user.role === 'admin' ? html`<${Admin} user=${user} page=${a || 'users'} />`
			: html`<main id="main"><h1>Admin</h1><p>This page is for admins.</p></main>`;
	default:
		return html`<${Queue} user=${user} view=${what === 'queue' && a ? a : 'all'} params=${route.params} sub=${b} />`;
	}
}

function App() {
	const [session, setSession] = useState(undefined);
	const [help, setHelp] = useState(false);
	const route = useRoute();

	useEffect(() => {
		whenSignedOut(() => {
			live.disconnect();
			setCsrf(null);
			setSession(null);
		});
		get('/session').then((s) => {
			setCsrf(s.csrf_token);
			setSession(s);
		}, () => setSession(null));
	}, []);
	useEffect(() => {
		if (session)
			live.connect();
	}, [session]);
	useKeys((k) => {
		if (k === '?') {
			setHelp(true);
			return true;
		}
		return false;
	});

	if (session === undefined)
		return html`<main id="main"><p class="boot">Loading the Frontline console…</p></main>`;
	if (!session)
		return html`<${SignIn} onSignedIn=${(s) => {
			setCsrf(s.csrf_token);
			setSession(s);
		}} />`;
	const signOut = async () => {
		try {
			await del('/session');
		} catch {
			/* signed out either way */
		}
		live.disconnect();
		setCsrf(null);
		setSession(null);
	};
	return html`
		<a class="skip" href="#main" onClick=${(e) => {
			e.preventDefault();
			const m = document.getElementById('main');
			m && m.focus();
		}}>Skip to content</a>
		<header class="top">
			<span class="brand">Frontline</span>
			<${Nav} user=${session.user} route=${route} />
			<div class="who">
				<${LiveBadge} />
				<${Availability} user=${session.user} />
				<span class="me">${session.user.name} (${session.user.role})</span>
				<button type="button" class="link" onClick=${() => setHelp(true)} aria-label="Keyboard shortcuts">?</button>
				<button type="button" onClick=${signOut}>Sign out</button>
			</div>
		</header>
		<${Screen} user=${session.user} route=${route} />
		${help ? html`<${Help} onClose=${() => setHelp(false)} />` : null}`;
}

installKeys();
const root = document.getElementById('app');
root.textContent = '';   // the page's "Loading…" line, which Preact would keep beside the app
render(html`<${App} />`, root);
