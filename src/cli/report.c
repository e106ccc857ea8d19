/*
 * Printing a processed ticket: a readable account for people (every analysis
 * with the path that decided it and its confidence, the reply, the
 * escalation, the satisfaction estimate and the trace) and the JSON form for
 * scripts.
 */
#include <string.h>

#include "cli.h"
#include "util/util.h"

void cli_print_json(FILE *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	fputs(s ? s : "null", out);
	fputc('\n', out);
	free(s);
}

static const char *s(const json_t *o, const char *key)
{
	return fl_json_str(o, key, "-");
}

static void join_array(struct fl_buf *b, const json_t *arr, const char *sep)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);

		fl_buf_addf(b, "%s%s", i ? sep : "", json_is_string(v) ? json_string_value(v) : "?");
	}
	if (!json_array_size(arr))
		fl_buf_adds(b, "none");
}

static void print_indented(FILE *out, const char *text, const char *prefix)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		fprintf(out, "%s%.*s\n", prefix, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* The account itself, of an outcome whose strings are escaped already. */
static void print_outcome(FILE *out, const struct support_outcome *o)
{
	const json_t *sh = o->shared, *t = o->ticket;
	const json_t *sent = json_object_get(sh, "sentiment_analysis");
	const json_t *cat = json_object_get(sh, "categorization");
	const json_t *prio = json_object_get(sh, "priority_assignment");
	const json_t *kbr = json_object_get(sh, "knowledge_base_results");
	const json_t *resp = json_object_get(sh, "generated_response");
	const json_t *esc = json_object_get(sh, "escalation_decision");
	const json_t *pkg = json_object_get(sh, "escalation_package");
	const json_t *sat = json_object_get(sh, "satisfaction_metrics");
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	if (!sh && t) {
		/* processed earlier: show what the store holds */
		sh = json_object_get(t, "analysis");
		sent = json_object_get(sh, "sentiment_analysis");
		cat = json_object_get(sh, "categorization");
		prio = json_object_get(sh, "priority_assignment");
		kbr = json_object_get(sh, "knowledge_base_results");
		resp = json_object_get(sh, "generated_response");
		esc = json_object_get(sh, "escalation_decision");
		pkg = json_object_get(sh, "escalation_package");
		sat = json_object_get(sh, "satisfaction_metrics");
	}
	fprintf(out, "Ticket %s", s(t, "id"));
	if (fl_json_int(t, "number", 0)) {
		char tag[FL_TICKET_TAG_SIZE];

		fl_ticket_tag(tag, fl_json_int(t, "number", 0));
		fprintf(out, " (%s)", tag);
	}
	fprintf(out, " from %s via %s, status %s%s\n", s(t, "customer_id"), s(t, "channel"), s(t, "status"),
		o->already_done ? " (processed earlier: stored results shown)" : "");
	fprintf(out, "  subject: %s\n", s(t, "subject"));
	if (sent) {
		fl_buf_reset(&b);
		join_array(&b, json_object_get(sent, "emotional_indicators"), ", ");
		fprintf(out, "  sentiment     %s (confidence %.2f, %s); urgency %s; indicators: %s\n"
			     "                approach: %s\n",
			s(sent, "sentiment"), fl_json_num(sent, "confidence", 0), s(sent, "path"),
			s(sent, "urgency"), b.buf, s(sent, "recommended_approach"));
	}
	if (cat) {
		fl_buf_reset(&b);
		join_array(&b, json_object_get(cat, "keywords"), ", ");
		fprintf(out, "  category      %s (confidence %.2f, %s)%s%s; department %s\n"
			     "                keywords: %s\n",
			s(cat, "primary_category"), fl_json_num(cat, "confidence", 0), s(cat, "path"),
			fl_json_str(cat, "secondary_category", NULL) ? "; also " : "",
			fl_json_str(cat, "secondary_category", ""), s(cat, "suggested_department"), b.buf);
	}
	if (prio)
		fprintf(out, "  priority      %s (%s); respond within %s; escalation risk %s\n"
			     "                %s\n",
			s(prio, "priority"), s(prio, "path"), s(prio, "recommended_response_time"),
			s(prio, "escalation_risk"), s(prio, "reasoning"));
	if (kbr) {
		const json_t *arts = json_object_get(kbr, "articles");

		fprintf(out, "  knowledge     %lld article(s) for \"%.60s...\"\n",
			(long long)fl_json_int(kbr, "articles_found", 0), s(kbr, "query"));
		for (i = 0; i < json_array_size(arts) && i < 3; i++)
			fprintf(out, "                %s  %.2f  %s\n", s(json_array_get(arts, i), "id"),
				fl_json_num(json_array_get(arts, i), "relevance_score", 0),
				s(json_array_get(arts, i), "title"));
	}
	if (resp) {
		fl_buf_reset(&b);
		join_array(&b, json_object_get(resp, "next_steps"), "; ");
		fprintf(out, "  response      tone %s (%s)%s; estimated resolution %s\n",
			s(resp, "tone"), s(resp, "path"),
			fl_json_bool(resp, "escalation_needed", false) ? "; needs a human" : "",
			s(resp, "estimated_resolution_time"));
		print_indented(out, s(resp, "response"), "                | ");
		fprintf(out, "                next steps: %s\n", b.buf);
	}
	if (esc)
		fprintf(out, "  escalation    %s -> %s, %s priority, human response within %s\n"
			     "                %s\n",
			s(esc, "escalation_decision"), s(esc, "assigned_department"),
			s(esc, "escalation_priority"), s(esc, "estimated_human_response_time"),
			s(esc, "reasoning"));
	if (pkg)
		fprintf(out, "  hand-off      queued for %s at %s (%s priority)\n",
			s(pkg, "assigned_department"), s(pkg, "handoff_timestamp"), s(pkg, "handoff_priority"));
	if (sat)
		fprintf(out, "  satisfaction  %.2f (%s), response quality %.2f\n",
			fl_json_num(sat, "satisfaction_score", 0), s(sat, "basis"),
			fl_json_num(sat, "response_quality", 0));
	if (o->trace && json_array_size(o->trace)) {
		int64_t total = 0;

		fputs("  trace        ", out);
		for (i = 0; i < json_array_size(o->trace); i++) {
			const json_t *st = json_array_get(o->trace, i);

			if (fl_json_str(st, "kind", NULL) && !strcmp(fl_json_str(st, "kind", ""), "graph"))
				continue;
			total += fl_json_int(st, "duration_us", 0);
			fprintf(out, "%s%s", i ? " > " : " ", s(st, "node"));
			if (fl_json_bool(st, "fallback", false))
				fputs("(fallback)", out);
		}
		fprintf(out, "\n                %zu steps, %lld us\n", json_array_size(o->trace), (long long)total);
	}
	fl_buf_release(&b);
}

/*
 * Every string of the ticket and its analyses comes from a customer, a
 * model or an integration: printed escaped (cli_escape), the reply and the
 * content with their lines.
 */
void cli_print_outcome(FILE *out, const struct support_outcome *o)
{
	static const char *const multiline[] = { "response", "content", NULL };
	struct support_outcome shown = *o;

	shown.shared = cli_escape_json(o->shared, multiline);
	shown.ticket = cli_escape_json(o->ticket, multiline);
	shown.trace = cli_escape_json(o->trace, NULL);
	print_outcome(out, &shown);
	json_decref(shown.shared);
	json_decref(shown.ticket);
	json_decref(shown.trace);
}

json_t *cli_outcome_json(const struct support_outcome *o)
{
	json_t *analysis = json_object(), *ticket;
	static const char *const keys[] = {
		"message", "language", "spam", "sentiment_analysis", "categorization", "priority_assignment",
		"knowledge_base_results", "generated_response", "auto_reply", "escalation_decision", "escalation_package",
		"satisfaction_metrics",
	};
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(o->shared, keys[i]);

		if (!v)
			v = json_object_get(json_object_get(o->ticket, "analysis"), keys[i]);
		if (v)
			json_object_set(analysis, keys[i], v);
	}
	/* the ticket without its analysis and trace, which have their own keys */
	ticket = o->ticket ? json_copy(o->ticket) : NULL;
	json_object_del(ticket, "analysis");
	json_object_del(ticket, "trace");
	return json_pack("{s:o?, s:b, s:b, s:o, s:O?}",
			 "ticket", ticket, "created", o->created, "already_processed", o->already_done,
			 "analysis", analysis,
			 "trace", o->trace ? o->trace : json_object_get(o->ticket, "trace"));
}
