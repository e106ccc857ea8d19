// A small, safe Markdown: the knowledge base's preview. It never makes HTML
// from text: it builds Preact elements, whose text Preact escapes, so an
// article's "<script>" shows as those characters. The subset: headings (#,
// ##, ###), paragraphs, bullet and numbered lists, **bold**, *italic*,
// `code`, fenced code blocks, and [links](https://...) to http(s) and mailto
// only (anything else stays text).
import { html } from '../vendor/vendor.js';

function inline(text) {
	const out = [];
	const re = /(\*\*([^*]+)\*\*|\*([^*]+)\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\))/g;
	let last = 0;
	let m;
	while ((m = re.exec(text))) {
		if (m.index > last)
			out.push(text.slice(last, m.index));
		if (m[2] !== undefined)
			out.push(html`<strong>${m[2]}</strong>`);
		else if (m[3] !== undefined)
			out.push(html`<em>${m[3]}</em>`);
		else if (m[4] !== undefined)
			out.push(html`<code>${m[4]}</code>`);
		else if (/^(https?:|mailto:)/i.test(m[6]))
			out.push(html`<a href=${m[6]} rel="noopener noreferrer" target="_blank">${m[5]}</a>`);
		else
			out.push(m[0]);
		last = re.lastIndex;
	}
	if (last < text.length)
		out.push(text.slice(last));
	return out;
}

export function markdown(src) {
	const lines = String(src || '').replace(/\r\n?/g, '\n').split('\n');
	const blocks = [];
	let i = 0;
	while (i < lines.length) {
		const line = lines[i];
		let m;
		if (/^\s*$/.test(line)) {
			i++;
		} else if (/^```/.test(line)) {
			const code = [];
			for (i++; i < lines.length && !/^```/.test(lines[i]); i++)
				code.push(lines[i]);
			i++;
			blocks.push(html`<pre><code>${code.join('\n')}</code></pre>`);
		} else if ((m = /^(#{1,3})\s+(.*)$/.exec(line))) {
			const level = m[1].length + 2;   // h3-h5: the page has its own h1 and h2
			const text = inline(m[2]);
			blocks.push(level === 3 ? html`<h3>${text}</h3>` : level === 4 ? html`<h4>${text}</h4>` : html`<h5>${text}</h5>`);
			i++;
		} else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
			const ordered = /^\s*\d/.test(line);
			const item = ordered ? /^\s*\d+[.)]\s+/ : /^\s*[-*+]\s+/;
			const items = [];
			while (i < lines.length && item.test(lines[i])) {
				let item = lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, '');
				for (i++; i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++)
					item += ' ' + lines[i].trim();
				items.push(html`<li>${inline(item)}</li>`);
			}
			blocks.push(ordered ? html`<ol>${items}</ol>` : html`<ul>${items}</ul>`);
		} else {
			const para = [];
			while (i < lines.length && !/^\s*$/.test(lines[i]) && !/^(#{1,3}\s|```|\s*([-*+]|\d+[.)])\s+)/.test(lines[i]))
				para.push(lines[i++].trim());
			blocks.push(html`<p>${inline(para.join(' '))}</p>`);
		}
	}
	return blocks;
}
