// The composer: a reply to the customer or an internal note. The AI's draft
// (analysis.generated_response.response) is inserted by a button and stays
// editable; "/" at the start of a line opens the canned responses (arrows
// choose, Enter inserts, Escape closes). The text is kept in sessionStorage
// per ticket and mode on every keystroke, so a reload never loses it.
// "Waiting on the customer" sends the reply with pending: true (the ticket
// becomes pending, its SLA paused); left unticked, the server decides by
// the reply itself (pending when it ends with a question; docs/API.md).
import { html, useState, useEffect, useRef } from '../../vendor/vendor.js';
import { get } from '../api.js';
import { loadDraft, saveDraft } from '../util.js';

export function Composer({ ticketId, mode, setMode, draft, busy, onSend, onTyping, focusRef }) {
	const [texts, setTexts] = useState(() => ({ reply: loadDraft(ticketId, 'reply'), note: loadDraft(ticketId, 'note') }));
	const [menu, setMenu] = useState(null);   // {start, index, items}
	const [canned, setCanned] = useState([]);
	const [waiting, setWaiting] = useState(false);
	const area = useRef(null);
	const text = texts[mode];

	useEffect(() => {
		// read each time a composer opens: an admin's new canned response shows at once
		get('/canned').then((r) => setCanned(r.canned || []), () => setCanned([]));
	}, []);
	useEffect(() => {
		if (focusRef)
			focusRef.current = () => area.current && area.current.focus();
	});

	const set = (t) => {
		setTexts((x) => ({ ...x, [mode]: t }));
		saveDraft(ticketId, mode, t);
		onTyping && onTyping(mode, t);
	};
	const matches = (start, value, caret) => {
		const word = value.slice(start + 1, caret).toLowerCase();
		return canned.filter((c) => c.title.toLowerCase().includes(word) || String(c.id).toLowerCase().includes(word));
	};
	const onInput = (e) => {
		const v = e.target.value;
		const caret = e.target.selectionStart;
		set(v);
		if (menu) {
			if (caret <= menu.start || v[menu.start] !== '/' || /\s/.test(v.slice(menu.start + 1, caret)))
				setMenu(null);
			else
				setMenu({ ...menu, index: 0, items: matches(menu.start, v, caret) });
		} else if (v[caret - 1] === '/' && (caret === 1 || v[caret - 2] === '\n')) {
			setMenu({ start: caret - 1, index: 0, items: matches(caret - 1, v, caret) });
		}
	};
	const insertCanned = (c) => {
		const el = area.current;
		const caret = el ? el.selectionStart : text.length;
		const v = text.slice(0, menu.start) + c.body + text.slice(caret);
		set(v);
		setMenu(null);
		requestAnimationFrame(() => {
			if (!el)
				return;
			el.focus();
			el.selectionStart = el.selectionEnd = menu.start + c.body.length;
		});
	};
	const onKeyDown = (e) => {
		if (menu && menu.items.length) {
			if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
				e.preventDefault();
				const n = menu.items.length;
				setMenu({ ...menu, index: (menu.index + (e.key === 'ArrowDown' ? 1 : n - 1)) % n });
				return;
			}
			if (e.key === 'Enter' || e.key === 'Tab') {
				e.preventDefault();
				insertCanned(menu.items[menu.index]);
				return;
			}
		}
		if (e.key === 'Escape') {
			if (menu)
				setMenu(null);
			else
				e.target.blur();
			e.preventDefault();
			return;
		}
		if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
			e.preventDefault();
			send();
		}
	};
	const insertDraft = () => {
		set(text.trim() ? `${text.replace(/\s+$/, '')}\n\n${draft}` : draft);
		area.current && area.current.focus();
	};
	const send = async () => {
		if (!text.trim() || busy)
			return;
		if (await onSend(mode, text, mode === 'reply' && waiting ? { pending: true } : {})) {
			setWaiting(false);
			setTexts((x) => ({ ...x, [mode]: '' }));
			saveDraft(ticketId, mode, '');
			onTyping && onTyping(mode, '');
		}
	};
	const labelText = mode === 'reply' ? 'Reply to the customer' : 'Internal note (agents only)';
	return html`<section class="composer panel" aria-labelledby="composer-h">
		<h2 id="composer-h" class="sr-only">Write</h2>
		<div class="modes" role="group" aria-label="What to write">
			<button type="button" aria-pressed=${mode === 'reply'} onClick=${() => setMode('reply')}>Reply</button>
			<button type="button" aria-pressed=${mode === 'note'} onClick=${() => setMode('note')}>Note</button>
			${mode === 'reply' && draft ? html`<button type="button" onClick=${insertDraft}>Insert AI draft</button>` : null}
		</div>
		<label for="composer">${labelText}</label>
		<textarea id="composer" ref=${area} rows="8" class=${mode} value=${text} onInput=${onInput} onKeyDown=${onKeyDown}
			aria-describedby="composer-help"></textarea>
		<p id="composer-help" class="hint">Type / at the start of a line for canned responses; Ctrl+Enter sends.</p>
		${menu ? html`<ul class="canned" role="listbox" aria-label="Canned responses">
			${menu.items.length ? menu.items.map((c, i) => html`<li role="option" aria-selected=${i === menu.index}
				class=${i === menu.index ? 'active' : ''} onMouseDown=${(e) => {
					e.preventDefault();
					insertCanned(c);
				}}>${c.title}</li>`) : html`<li class="muted" role="option" aria-selected="false" aria-disabled="true">no canned response matches</li>`}
		</ul>` : null}
		${mode === 'reply' ? html`<label class="check"><input type="checkbox" checked=${waiting}
			onChange=${(e) => setWaiting(e.target.checked)} /> Waiting on the customer (pending: the SLA pauses;
			a reply that ends with a question does this by itself)</label>` : null}
		<button type="button" class="primary" disabled=${busy || !text.trim()} onClick=${send}>
			${mode === 'reply' ? 'Send reply' : 'Add note'}</button>
	</section>`;
}
