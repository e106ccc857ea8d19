// The ticket view's side panels: the triage (sentiment, category, priority
// with their reasons and confidence, the escalation decision, the trace),
// the knowledge-base articles the workflow found with the section it used,
// and the customer (CRM record and past tickets). Everything here is text
// from the analysis or the CRM, rendered as text.
import { html } from '../../vendor/vendor.js';
import { get, query } from '../api.js';
import { useLoad, label, pct, ago, tag } from '../util.js';

function Row({ name, children }) {
	return html`<div class="kv"><dt>${name}</dt><dd>${children}</dd></div>`;
}

export function Triage({ analysis, trace }) {
	const a = analysis || {};
	const s = a.sentiment_analysis;
	const c = a.categorization;
	const p = a.priority_assignment;
	const e = a.escalation_decision;
	if (!s && !c && !p)
		return html`<section class="panel" aria-labelledby="triage-h"><h2 id="triage-h">Triage</h2>
			<p class="muted">Not triaged yet.</p></section>`;
	return html`<section class="panel triage" aria-labelledby="triage-h">
		<h2 id="triage-h">Triage</h2>
		${s ? html`<h3>Sentiment</h3><dl>
			<${Row} name="Sentiment">${label(s.sentiment)} (confidence ${pct(s.confidence)})<//>
			<${Row} name="Urgency">${label(s.urgency)}<//>
			${s.emotional_indicators && s.emotional_indicators.length ? html`<${Row} name="Signals">${s.emotional_indicators.map(label).join(', ')}<//>` : null}
			${s.recommended_approach ? html`<${Row} name="Approach">${s.recommended_approach}<//>` : null}
			<${Row} name="Decided by">${s.path || 'builtin'}<//>
		</dl>` : null}
		${c ? html`<h3>Category</h3><dl>
			<${Row} name="Category">${label(c.primary_category)} (confidence ${pct(c.confidence)})<//>
			${c.secondary_category ? html`<${Row} name="Also">${label(c.secondary_category)}<//>` : null}
			${c.keywords && c.keywords.length ? html`<${Row} name="Keywords">${c.keywords.join(', ')}<//>` : null}
			${c.suggested_department ? html`<${Row} name="Department">${label(c.suggested_department)}<//>` : null}
		</dl>` : null}
		${p ? html`<h3>Priority</h3><dl>
			<${Row} name="Priority">${label(p.priority)}${p.score != null ? ` (score ${Math.round(p.score)}/100)` : ''}<//>
			${p.recommended_response_time ? html`<${Row} name="Respond within">${p.recommended_response_time}<//>` : null}
			${p.escalation_risk ? html`<${Row} name="Escalation risk">${label(p.escalation_risk)}<//>` : null}
		</dl>
		${p.factors_considered && p.factors_considered.length && typeof p.factors_considered[0] === 'object' ? html`
			<table class="factors"><caption>Why this priority</caption>
				<thead><tr><th scope="col">Factor</th><th scope="col">Value</th><th scope="col">Points</th><th scope="col">Share</th></tr></thead>
				<tbody>${p.factors_considered.map((f) => html`<tr><td>${label(f.factor)}</td><td>${String(f.value)}</td>
					<td>${f.points}</td><td>${pct(f.share)}</td></tr>`)}</tbody>
			</table>` : p.reasoning ? html`<p class="reason">${p.reasoning}</p>` : null}` : null}
		${e ? html`<h3>Escalation</h3><dl>
			<${Row} name="Decision">${label(e.escalation_decision)}${e.escalation_priority ? ` (${label(e.escalation_priority)})` : ''}<//>
			${e.reasoning ? html`<${Row} name="Reason">${e.reasoning}<//>` : null}
			${e.assigned_department ? html`<${Row} name="Department">${label(e.assigned_department)}<//>` : null}
			${e.rule ? html`<${Row} name="Rule">${e.rule}<//>` : null}
		</dl>` : null}
		${trace && trace.length ? html`<details class="trace"><summary>Workflow trace (${trace.length} steps)</summary>
			<table><thead><tr><th scope="col">Step</th><th scope="col">Action</th><th scope="col">Path</th><th scope="col">Time</th></tr></thead>
			<tbody>${trace.map((t) => html`<tr><td>${t.node}</td><td>${t.action || ''}</td><td>${t.path || ''}${t.fallback ? ' (fallback)' : ''}${t.error ? ` error: ${t.error}` : ''}</td>
				<td>${t.duration_us != null ? `${(t.duration_us / 1000).toFixed(1)} ms` : ''}</td></tr>`)}</tbody></table>
		</details>` : null}
	</section>`;
}

export function Articles({ analysis }) {
	const kb = analysis && analysis.knowledge_base_results;
	const resp = analysis && analysis.generated_response;
	const articles = (kb && kb.articles) || [];
	const used = new Set((resp && resp.articles_referenced) || []);
	return html`<section class="panel" aria-labelledby="kb-h">
		<h2 id="kb-h">Knowledge base</h2>
		${!articles.length ? html`<p class="muted">No article found.</p>` : html`<ul class="articles">
			${articles.map((a) => html`<li>
				<a href=${`#/kb/${encodeURIComponent(a.id)}`}>${a.title}</a>
				<span class="muted"> ${label(a.category)} · relevance ${pct(a.relevance_score)}</span>
				${used.has(a.id) ? html`<span class="badge used">used in the draft</span>` : null}
				${a.section ? html`<p class="section">Section used: ${a.section.title || a.section.heading || ''}</p>` : null}
				${used.has(a.id) && resp.quoted_steps && resp.quoted_steps.length && !a.section ? html`
					<details><summary>Steps quoted in the draft</summary>
						<ol>${resp.quoted_steps.map((s) => html`<li>${s}</li>`)}</ol></details>` : null}
			</li>`)}
		</ul>`}
	</section>`;
}

export function Customer({ customerId, ticketId }) {
	const cust = useLoad(() => get(`/customers/${encodeURIComponent(customerId)}`).catch((e) => {
		if (e.status === 404)
			return null;
		throw e;
	}), [customerId]);
	const past = useLoad(() => get('/tickets' + query({ customer_id: customerId, limit: 10 })), [customerId]);
	const c = cust.data;
	const others = ((past.data && past.data.tickets) || []).filter((t) => t.id !== ticketId);
	return html`<section class="panel" aria-labelledby="cust-h">
		<h2 id="cust-h">Customer</h2>
		${c ? html`<dl>
			<${Row} name="Name">${c.name}<//>
			<${Row} name="Email">${c.email}<//>
			<${Row} name="Tier">${label(c.tier)}<//>
			${c.joined_at ? html`<${Row} name="Since">${c.joined_at.slice(0, 10)}<//>` : null}
			<${Row} name="Tickets">${c.total_tickets}<//>
			${c.satisfaction_score != null ? html`<${Row} name="Satisfaction">${pct(c.satisfaction_score)}<//>` : null}
		</dl>` : html`<p>${customerId} <span class="muted">(not in the CRM)</span></p>`}
		<h3>Past tickets</h3>
		${others.length ? html`<ul class="past">${others.map((t) => html`<li>
			<a href=${`#/tickets/${encodeURIComponent(t.id)}`}>${tag(t.number)} ${t.subject}</a>
			<span class="muted"> ${label(t.status)}, ${ago(t.created_at)}</span></li>`)}</ul>`
		: html`<p class="muted">None.</p>`}
	</section>`;
}
