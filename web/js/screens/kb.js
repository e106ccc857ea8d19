// The knowledge base: the articles, an editor (admins) with a live preview
// of the Markdown (web/js/markdown.js: escaped, a small safe subset), saved
// with PUT /kb/articles/{id}, which the server indexes at once.
import { html, useState, useEffect } from '../../vendor/vendor.js';
import { get, put, del } from '../api.js';
import { useLoad, label, CATEGORIES } from '../util.js';
import { markdown } from '../markdown.js';

function slug(s) {
	return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60);
}

// Keyed by the article's id: another article is a fresh editor.
function Editor({ article, canEdit, onSaved }) {
	const [a, setA] = useState(article);
	const [tags, setTags] = useState((article.tags || []).join(', '));
	const [notice, setNotice] = useState(null);
	const [busy, setBusy] = useState(false);

	const save = async (e) => {
		e.preventDefault();
		setBusy(true);
		const id = a.id || 'kb_' + slug(a.title || 'article');
		try {
			const saved = await put(`/kb/articles/${encodeURIComponent(id)}`, {
				title: a.title, category: a.category, content: a.content,
				tags: tags.split(',').map((t) => t.trim()).filter(Boolean),
			});
			onSaved(saved, 'Saved and indexed.');
		} catch (err) {
			setNotice(`Cannot save: ${err.message}`);
		} finally {
			setBusy(false);
		}
	};
	const remove = async () => {
		if (!confirm(`Delete the article "${a.title}"?`))
			return;
		try {
			await del(`/kb/articles/${encodeURIComponent(a.id)}`);
			onSaved(null, `Deleted "${a.title}".`);
		} catch (err) {
			setNotice(`Cannot delete: ${err.message}`);
		}
	};
	return html`<form class="kb-editor" onSubmit=${save}>
		<h2>${a.id ? a.title || a.id : 'New article'}</h2>
		<label for="kb-title">Title</label>
		<input id="kb-title" value=${a.title || ''} readOnly=${!canEdit} required onInput=${(e) => setA({ ...a, title: e.target.value })} />
		<label for="kb-category">Category</label>
		<select id="kb-category" value=${a.category || 'general'} disabled=${!canEdit} onChange=${(e) => setA({ ...a, category: e.target.value })}>
			${(CATEGORIES.includes(a.category) || !a.category ? CATEGORIES : [a.category, ...CATEGORIES]).map((c) => html`<option value=${c}>${label(c)}</option>`)}
		</select>
		<label for="kb-tags">Tags (comma-separated)</label>
		<input id="kb-tags" value=${tags} readOnly=${!canEdit} onInput=${(e) => setTags(e.target.value)} />
		<div class="split">
			<div>
				<label for="kb-content">Content (Markdown)</label>
				<textarea id="kb-content" rows="22" value=${a.content || ''} readOnly=${!canEdit}
					onInput=${(e) => setA({ ...a, content: e.target.value })}></textarea>
			</div>
			<div>
				<h3 id="kb-preview-h">Preview</h3>
				<div class="preview" role="region" tabindex="0" aria-labelledby="kb-preview-h">${markdown(a.content)}</div>
			</div>
		</div>
		${notice ? html`<p class="notice" role="status">${notice}</p>` : null}
		${canEdit ? html`<div class="row"><button type="submit" class="primary" disabled=${busy}>Save article</button>
			${a.id ? html`<button type="button" onClick=${remove}>Delete</button>` : null}</div>`
			: html`<p class="muted">Only admins edit the knowledge base.</p>`}
	</form>`;
}

export function Knowledge({ user, id }) {
	const list = useLoad(() => get('/kb/articles?limit=500'), []);
	const [loaded, setLoaded] = useState(null);   // the article #/kb/<id> names
	const [draft, setDraft] = useState(null);     // a new article being written (#/kb)
	const [filter, setFilter] = useState('');
	const [saved, setSaved] = useState(null);   // what the last save or delete did
	const articles = (list.data && list.data.articles) || [];
	const current = id ? loaded : draft;

	useEffect(() => {
		if (!id) {
			setLoaded(null);
			return;
		}
		setDraft(null);
		const found = articles.find((x) => x.id === id);
		if (found)
			setLoaded(found);
		else
			get(`/kb/articles/${encodeURIComponent(id)}`).then(setLoaded, () => setLoaded(null));
	}, [id, list.data]);

	const shown = articles.filter((a) => !filter || (a.title + ' ' + (a.tags || []).join(' ')).toLowerCase().includes(filter.toLowerCase()));
	const canEdit = user.role === 'admin';
	return html`<main id="main" class="kb" tabindex="-1">
		<h1>Knowledge base</h1>
		<div class="kb-grid">
			<nav aria-label="Articles">
				<label for="kb-filter">Filter articles</label>
				<input id="kb-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.target.value)} />
				${canEdit ? html`<button type="button" onClick=${() => {
					location.hash = '#/kb';
					setSaved(null);
					setDraft({ title: '', category: 'general', content: '', tags: [] });
				}}>New article</button>` : null}
				<ul class="kb-list">${shown.map((a) => html`<li><a href=${`#/kb/${encodeURIComponent(a.id)}`}
					aria-current=${current && current.id === a.id ? 'page' : undefined}>${a.title}</a>
					<span class="muted"> ${label(a.category)}</span></li>`)}</ul>
			</nav>
			<section aria-label="Article">
				${saved && saved.id === (current ? current.id : null) ? html`<p class="notice" role="status">${saved.text}</p>` : null}
				${current ? html`<${Editor} key=${current.id || 'new'} article=${current} canEdit=${canEdit} onSaved=${(article, what) => {
					setSaved({ id: article ? article.id : null, text: what });
					list.reload();
					if (article)
						setLoaded(article);
					setDraft(null);
					location.hash = article ? `#/kb/${encodeURIComponent(article.id)}` : '#/kb';
				}} />` : html`<p class="muted">Choose an article${canEdit ? ', or write a new one' : ''}.</p>`}
			</section>
		</div>
	</main>`;
}
