// Two small SVG charts for the dashboard, no library: stacked bars (counts
// by a key over time) and lines (a value over time). Each is an image
// (role img) whose text alternative gives its totals or latest values; each
// bar and point has its figure as a tooltip.
import { html } from '../vendor/vendor.js';

// Colours with at least 3:1 contrast on white, told apart by the legend too.
export const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#a16207', '#be123c', '#0e7490', '#4d4d4d'];

const W = 560;
const H = 180;
const PAD = { l: 44, r: 8, t: 10, b: 24 };

function hour(iso) {
	const d = new Date(iso);
	return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function axes(max, n, fmt, starts) {
	// 0, half and the top, without two ticks that read the same (a top of 1 count)
	const ticks = [0, max / 2, max].filter((v, i, a) => i === 0 || fmt(v) !== fmt(a[i - 1]));
	const step = Math.max(1, Math.ceil(n / 6));
	return html`<g class="axis">
		${ticks.map((v) => {
			const y = PAD.t + (H - PAD.t - PAD.b) * (1 - v / (max || 1));
			return html`<g><line x1=${PAD.l} x2=${W - PAD.r} y1=${y} y2=${y} /><text x=${PAD.l - 4} y=${y + 4} text-anchor="end">${fmt(v)}</text></g>`;
		})}
		${starts.map((s, i) => (i % step ? null : html`<text x=${PAD.l + (i + 0.5) * ((W - PAD.l - PAD.r) / n)} y=${H - 6} text-anchor="middle">${hour(s)}</text>`))}
	</g>`;
}

function Legend({ keys }) {
	return html`<ul class="legend">${keys.map((k, i) => html`<li><span class="swatch" style=${`background:${PALETTE[i % PALETTE.length]}`}></span>${k}</li>`)}</ul>`;
}

function Empty({ title }) {
	return html`<figure class="chart"><figcaption>${title}</figcaption><p class="muted">No data in this window.</p></figure>`;
}

export function StackedBars({ id, title, buckets, field }) {
	if (!buckets.length)
		return html`<${Empty} title=${title} />`;
	const keys = [...new Set(buckets.flatMap((b) => Object.keys(b[field] || {})))].sort();
	const totals = buckets.map((b) => keys.reduce((s, k) => s + ((b[field] || {})[k] || 0), 0));
	const max = Math.max(1, ...totals);
	const n = Math.max(1, buckets.length);
	const bw = (W - PAD.l - PAD.r) / n;
	const sum = keys.map((k) => [k, buckets.reduce((s, b) => s + ((b[field] || {})[k] || 0), 0)]);
	const desc = `${totals.reduce((a, b) => a + b, 0)} in all: ${sum.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`;
	return html`<figure class="chart">
		<figcaption id=${id + '-t'}>${title}</figcaption>
		<svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby=${`${id}-t ${id}-d`}>
			<desc id=${id + '-d'}>${desc}</desc>
			${axes(max, n, (v) => String(Math.round(v)), buckets.map((b) => b.start))}
			${buckets.map((b, i) => {
				let y = H - PAD.b;
				return keys.map((k, j) => {
					const v = (b[field] || {})[k] || 0;
					const h = (H - PAD.t - PAD.b) * (v / max);
					y -= h;
					return v ? html`<rect x=${PAD.l + i * bw + 2} y=${y} width=${Math.max(1, bw - 4)} height=${h} fill=${PALETTE[j % PALETTE.length]}><title>${`${hour(b.start)} ${k}: ${v}`}</title></rect>` : null;
				});
			})}
		</svg>
		<${Legend} keys=${keys} />
	</figure>`;
}

export function Lines({ id, title, buckets, fields, fmt }) {
	if (!buckets.length)
		return html`<${Empty} title=${title} />`;
	const vals = buckets.flatMap((b) => fields.map(([f]) => b[f]).filter((v) => v != null));
	const max = Math.max(1e-9, ...vals);
	const n = Math.max(1, buckets.length);
	const x = (i) => PAD.l + (i + 0.5) * ((W - PAD.l - PAD.r) / n);
	const y = (v) => PAD.t + (H - PAD.t - PAD.b) * (1 - v / max);
	const last = fields.map(([f, name]) => {
		const seen = buckets.map((b) => b[f]).filter((v) => v != null);
		return `${name}: ${seen.length ? fmt(seen[seen.length - 1]) : 'no data'}`;
	}).join('; ');
	return html`<figure class="chart">
		<figcaption id=${id + '-t'}>${title}</figcaption>
		<svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-labelledby=${`${id}-t ${id}-d`}>
			<desc id=${id + '-d'}>${`latest ${last}`}</desc>
			${axes(max, n, fmt, buckets.map((b) => b.start))}
			${fields.map(([f], j) => {
				const pts = buckets.map((b, i) => (b[f] == null ? null : `${x(i)},${y(b[f])}`)).filter(Boolean);
				return html`<g>
					<polyline points=${pts.join(' ')} fill="none" stroke=${PALETTE[j]} stroke-width="2" />
					${buckets.map((b, i) => (b[f] == null ? null : html`<circle cx=${x(i)} cy=${y(b[f])} r="3" fill=${PALETTE[j]}><title>${`${hour(b.start)}: ${fmt(b[f])}`}</title></circle>`))}
				</g>`;
			})}
		</svg>
		${fields.length > 1 ? html`<${Legend} keys=${fields.map(([, name]) => name)} />` : null}
	</figure>`;
}
