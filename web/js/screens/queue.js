// The queue: the views Mine, Unassigned, Escalated, All and one per
// department, each with its count of open tickets (GET /tickets/counts);
// filters (status, priority, category, channel, language) and search kept in
// the URL's hash; keyset paging (next_cursor); bulk assign and resolve; live
// (a new or changed ticket reloads the page at once and the counts every
// few seconds at most); j/k, Enter,
// a, e and / from the keyboard.
import { html, useState, useEffect, useRef, useMemo } from '../../vendor/vendor.js';
import { get, post, query } from '../api.js';
import * as live from '../live.js';
import { useLoad, useKeys, debounce, throttle, label, ago, tag, STATUSES, PRIORITIES, CATEGORIES, CHANNELS } from '../util.js';
import { assigneeOf } from '../people.js';
import { SlaBadge } from '../sla.js';

const VIEWS = [['mine', 'Mine'], ['unassigned', 'Unassigned'], ['escalated', 'Escalated'], ['all', 'All']];
const FILTERS = [['status', 'Status', STATUSES], ['priority', 'Priority', PRIORITIES],
	['category', 'Category', CATEGORIES], ['channel', 'Channel', CHANNELS]];
const PAGE = 50;

function hashFor(view, params) {
	const q = params.toString();
	return `#/queue/${encodeURIComponent(view)}${q ? '?' + q : ''}`;
}

function QueueTabs({ view, counts, params }) {
	const q = counts || {};
	const departments = Object.keys(q).filter((k) => k.startsWith('department:')).sort();
	const tabs = [...VIEWS, ...departments.map((d) => [d, label(d.slice(11))])];
	return html`<nav class="views" aria-label="Queues">
		${tabs.map(([key, name]) => html`<a href=${hashFor(key, params)} aria-current=${key === view ? 'page' : undefined}>
			${name} <span class="count" aria-label=${`${q[key] ?? 0} open`}>${q[key] ?? '…'}</span></a>`)}
	</nav>`;
}

export function Queue({ user, view, params }) {
	const [cursors, setCursors] = useState([null]);   // the cursor of each page seen, for going back
	const [sel, setSel] = useState(0);
	const [checked, setChecked] = useState(new Set());
	const [notice, setNotice] = useState(null);
	const [search, setSearch] = useState(params.get('q') || '');
	const searchRef = useRef(null);
	const cursor = cursors[cursors.length - 1];
	const filterKey = params.toString();

	useEffect(() => {
		setCursors([null]);
		setSel(0);
		setChecked(new Set());
	}, [view, filterKey]);

	const list = useLoad(() => get('/tickets' + query({
		queue: view, status: params.get('status'), priority: params.get('priority'),
		category: params.get('category'), channel: params.get('channel'), language: params.get('language'),
		q: params.get('q'), limit: PAGE, cursor,
	})), [view, filterKey, cursor]);
	const counts = useLoad(() => get('/tickets/counts'), []);

	// the page at once (batched over 100 ms); the counts every 5 s at most (each reads an index, openapi.yaml)
	useEffect(() => {
		const page = debounce(list.reload, 100);
		const tally = throttle(counts.reload, 5000);
		return live.subscribe((name) => {
			if (name !== 'presence') {
				page();
				tally();
			}
		});
	}, [list.reload, counts.reload]);

	const tickets = (list.data && list.data.tickets) || [];
	const setParam = (k, v) => {
		const p = new URLSearchParams(params);
		if (v)
			p.set(k, v);
		else
			p.delete(k);
		location.hash = hashFor(view, p);
	};
	const open = (t) => {
		location.hash = `#/tickets/${encodeURIComponent(t.id)}`;
	};
	const bulk = async (action, ids) => {
		setNotice(null);
		try {
			const body = { ids, action };
			if (action === 'assign')
				body.assignee = assigneeOf(user);
			const res = await post('/tickets/bulk', body);
			const failed = (res.results || []).filter((r) => !r.ok);
			setNotice(failed.length ? `${ids.length - failed.length} done, ${failed.length} failed: ${failed.map((f) => `${f.id} (${f.error && f.error.message || f.error})`).join(', ')}`
				: `${ids.length} ticket${ids.length > 1 ? 's' : ''} ${action === 'assign' ? 'assigned to you' : 'resolved'}`);
			setChecked(new Set());
		} catch (err) {
			setNotice(err.message);
		}
		list.reload();
		counts.reload();
	};

	useKeys((k) => {
		if (k === 'j') {
			setSel((s) => Math.min(s + 1, tickets.length - 1));
			return true;
		}
		if (k === 'k') {
			setSel((s) => Math.max(s - 1, 0));
			return true;
		}
		if (k === 'Enter' && tickets[sel] && !(document.activeElement && document.activeElement.closest('a,button'))) {
			open(tickets[sel]);
			return true;
		}
		if (k === '/') {
			searchRef.current && searchRef.current.focus();
			return true;
		}
		if ((k === 'a' || k === 'e') && tickets[sel]) {
			bulk(k === 'a' ? 'assign' : 'resolve', [tickets[sel].id]);
			return true;
		}
		return false;
	});

	useEffect(() => {
		const row = document.querySelector(`tr[data-index="${sel}"]`);
		row && row.scrollIntoView && row.scrollIntoView({ block: 'nearest' });
	}, [sel]);

	const toggle = (id) => {
		const n = new Set(checked);
		n.has(id) ? n.delete(id) : n.add(id);
		setChecked(n);
	};
	const allChecked = tickets.length > 0 && tickets.every((t) => checked.has(t.id));
	const title = useMemo(() => {
		const v = VIEWS.find(([k]) => k === view);
		return v ? v[1] : label(view.replace(/^department:/, ''));
	}, [view]);

	return html`<main id="main" class="queue" tabindex="-1">
		<h1>Queue: ${title}</h1>
		<${QueueTabs} view=${view} counts=${counts.data && counts.data.queues} params=${params} />
		<form class="filters" role="search" onSubmit=${(e) => {
			e.preventDefault();
			setParam('q', search.trim());
		}}>
			<label for="q">Search tickets</label>
			<input id="q" type="search" ref=${searchRef} value=${search} onInput=${(e) => setSearch(e.target.value)}
				placeholder="words, a customer, T-000042" />
			<button type="submit">Search</button>
			${FILTERS.map(([k, name, values]) => html`<label for=${'f-' + k}>${name}</label>
				<select id=${'f-' + k} value=${params.get(k) || ''} onChange=${(e) => setParam(k, e.target.value)}>
					<option value="">any</option>
					${values.map((v) => html`<option value=${v}>${label(v)}</option>`)}
				</select>`)}
			<label for="f-language">Language</label>
			<input id="f-language" class="short" value=${params.get('language') || ''} placeholder="en"
				onChange=${(e) => setParam('language', e.target.value.trim())} />
		</form>
		<div class="bulk" role="group" aria-label="Bulk actions">
			<span>${checked.size} selected</span>
			<button type="button" disabled=${!checked.size} onClick=${() => bulk('assign', [...checked])}>Assign to me</button>
			<button type="button" disabled=${!checked.size} onClick=${() => bulk('resolve', [...checked])}>Resolve</button>
		</div>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		${list.error ? html`<p class="error" role="alert">Cannot load the queue: ${list.error.message}</p>` : null}
		<table class="tickets">
			<caption class="sr-only">Tickets in ${title}; j and k move, Enter opens</caption>
			<thead><tr>
				<th scope="col"><input type="checkbox" aria-label="Select all on this page" checked=${allChecked}
					onChange=${() => setChecked(allChecked ? new Set() : new Set(tickets.map((t) => t.id)))} /></th>
				<th scope="col">Ticket</th><th scope="col">Subject</th><th scope="col">Customer</th>
				<th scope="col">Status</th><th scope="col">SLA</th><th scope="col">Priority</th><th scope="col">Category</th>
				<th scope="col">Channel</th><th scope="col">Assignee</th><th scope="col">Updated</th>
			</tr></thead>
			<tbody>
				${tickets.map((t, i) => html`<tr key=${t.id} data-index=${i} data-id=${t.id}
						class=${i === sel ? 'selected' : ''} aria-current=${i === sel ? 'true' : undefined}
						onClick=${(e) => {
							if (e.target.closest('input,a'))
								return;
							setSel(i);
							open(t);
						}}>
					<td><input type="checkbox" aria-label=${`Select ${tag(t.number)}`} checked=${checked.has(t.id)}
						onChange=${() => toggle(t.id)} /></td>
					<td><a href=${`#/tickets/${encodeURIComponent(t.id)}`}>${tag(t.number)}</a></td>
					<td class="subject">${t.subject}</td>
					<td>${t.customer_id}</td>
					<td><span class=${'badge status-' + t.status}>${label(t.status)}</span></td>
					<td><${SlaBadge} t=${t} /></td>
					<td><span class=${'badge prio-' + t.priority}>${label(t.priority)}</span></td>
					<td>${label(t.category)}</td>
					<td>${t.channel}</td>
					<td>${t.assignee || html`<span class="muted">nobody</span>`}</td>
					<td><time datetime=${t.updated_at} title=${t.updated_at}>${ago(t.updated_at)}</time></td>
				</tr>`)}
			</tbody>
		</table>
		${!list.loading && !tickets.length ? html`<p class="empty">No tickets here.</p>` : null}
		<div class="pager">
			<button type="button" disabled=${cursors.length < 2} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous page</button>
			<span>Page ${cursors.length}</span>
			<button type="button" disabled=${!(list.data && list.data.next_cursor)}
				onClick=${() => setCursors([...cursors, list.data.next_cursor])}>Next page</button>
		</div>
	</main>`;
}
