/*
 * frontline eval autoreply --in FILE.jsonl [--json] [--rows]: how often the
 * workflow answers a ticket on its own, and how often that answer is right.
 *
 * A row is {"ticket": {...}, "expect": {"auto_reply": bool, "articles":
 * ["kb_0NN", ...], "kind": "howto|...|ambiguous"}}. Each ticket is taken in
 * and triaged by support_process on a fresh in-memory SQLite store (the
 * bundled articles, no LLM unless one is configured, nothing on the disk), so
 * the status is the one the store would keep. A reply counts as sent when
 * the ticket's status is auto_replied; it is right when the row expects an
 * automatic reply and the reply references one of the expected articles.
 *
 * precision = right / sent; coverage = right / rows expecting a reply;
 * false_auto_replies counts the sent replies of rows that expect none, by
 * kind; wrong_article the sent replies of answerable rows that cite another
 * article. --rows adds each row's outcome (id, kind, status, cited article,
 * the section quoted, the auto_reply reason and signals, the search's parts
 * with the top article's relevance to each, the category and the sentiment)
 * for reading the misses.
 */
#include <string.h>

#include "cli.h"
#include "util/util.h"

static const char *const autoreply_usage[] = {
	"frontline eval autoreply --in FILE.jsonl [--json] [--rows]",
	NULL,
};

struct tally {
	json_t *by_kind;      /* kind -> {n, expected, sent, right} */
	json_t *false_sends;  /* kind -> count */
	size_t n, expected, sent, right, wrong_article;
};

static void bump(json_t *obj, const char *key, const char *field)
{
	json_t *o = json_object_get(obj, key);

	if (!o) {
		o = json_pack("{s:i, s:i, s:i, s:i}", "n", 0, "expected", 0, "sent", 0, "right", 0);
		json_object_set_new(obj, key, o);
	}
	json_object_set_new(o, field, json_integer(fl_json_int(o, field, 0) + 1));
}

static bool cites_expected(const json_t *cited, const json_t *expected)
{
	size_t i, j;

	for (i = 0; i < json_array_size(cited); i++)
		for (j = 0; j < json_array_size(expected); j++)
			if (fl_str_eq(json_string_value(json_array_get(cited, i)),
				      json_string_value(json_array_get(expected, j))))
				return true;
	return false;
}

/* One row's outcome into the tally; returns the row's summary for --rows. */
static json_t *score_row(struct tally *t, const json_t *expect, const struct support_outcome *o)
{
	const char *kind = fl_json_str(expect, "kind", "unlabelled");
	bool want = fl_json_bool(expect, "auto_reply", false);
	bool sent = fl_str_eq(fl_json_str(o->ticket, "status", ""), "auto_replied");
	const json_t *resp = json_object_get(o->shared, "generated_response");
	const json_t *cited = json_object_get(resp, "articles_referenced");
	const json_t *decision = json_object_get(o->shared, "auto_reply");
	bool right = sent && want && cites_expected(cited, json_object_get(expect, "articles"));
	const json_t *top = json_array_get(json_object_get(json_object_get(o->shared, "knowledge_base_results"),
							   "articles"), 0);
	const json_t *p, *sent_of;
	json_t *parts;
	size_t i;

	t->n++;
	bump(t->by_kind, kind, "n");
	if (want) {
		t->expected++;
		bump(t->by_kind, kind, "expected");
	}
	if (sent) {
		t->sent++;
		bump(t->by_kind, kind, "sent");
		if (!want)
			json_object_set_new(t->false_sends, kind,
					    json_integer(fl_json_int(t->false_sends, kind, 0) + 1));
		else if (!right)
			t->wrong_article++;
	}
	if (right) {
		t->right++;
		bump(t->by_kind, kind, "right");
	}
	parts = json_array();
	json_array_foreach(json_object_get(json_object_get(o->shared, "knowledge_base_results"), "parts"), i, p)
		json_array_append_new(parts, json_pack("{s:s, s:s, s:f, s:f}", "kind", fl_json_str(p, "kind", ""),
						       "text", fl_json_str(p, "text", ""), "weight",
						       fl_json_num(p, "weight", 0), "top_relevance",
						       json_number_value(json_array_get(
							       json_object_get(top, "part_relevance"), i))));
	sent_of = json_object_get(o->shared, "sentiment_analysis");
	return json_pack("{s:s, s:s, s:b, s:b, s:b, s:s, s:O?, s:s?, s:f, s:s?, s:s?, s:O?, s:o, s:s?, s:{s:s?, s:f, s:O?}}",
			 "id", fl_json_str(o->ticket, "id", ""), "kind", kind, "expected", want, "sent", sent,
			 "right", right, "status", fl_json_str(o->ticket, "status", ""),
			 "cited", cited, "top_article", fl_json_str(top, "id", NULL),
			 "top_relevance", fl_json_num(top, "relevance_score", 0),
			 "section", fl_json_str(resp, "section", NULL),
			 "reason", fl_json_str(decision, "reason", NULL),
			 "signals", json_object_get(decision, "signals"), "parts", parts, "category",
			 fl_json_str(json_object_get(o->shared, "categorization"), "primary_category", NULL),
			 "sentiment", "level", fl_json_str(sent_of, "sentiment", NULL), "score",
			 fl_json_num(sent_of, "score", 0), "indicators", json_object_get(sent_of, "emotional_indicators"));
}

static double ratio(size_t a, size_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void print_text(const json_t *out)
{
	const json_t *by = json_object_get(out, "by_kind"), *fa = json_object_get(out, "false_auto_replies"), *v;
	const char *kind;

	printf("%lld tickets, %lld expecting an automatic reply\n", (long long)fl_json_int(out, "n", 0),
	       (long long)fl_json_int(out, "expected", 0));
	printf("  sent %lld, right %lld, wrong article %lld\n", (long long)fl_json_int(out, "sent", 0),
	       (long long)fl_json_int(out, "right", 0), (long long)fl_json_int(out, "wrong_article", 0));
	printf("  precision %.3f  coverage %.3f\n", fl_json_num(out, "precision", 0),
	       fl_json_num(out, "coverage", 0));
	printf("\n  %-20s %5s %8s %5s %6s\n", "kind", "n", "expected", "sent", "right");
	json_object_foreach((json_t *)by, kind, v)
		printf("  %-20s %5lld %8lld %5lld %6lld\n", kind, (long long)fl_json_int(v, "n", 0),
		       (long long)fl_json_int(v, "expected", 0), (long long)fl_json_int(v, "sent", 0),
		       (long long)fl_json_int(v, "right", 0));
	if (json_object_size(fa)) {
		printf("\n  automatic replies that should not have gone out:");
		json_object_foreach((json_t *)fa, kind, v)
			printf(" %s %lld", kind, (long long)json_integer_value(v));
		putchar('\n');
	}
}

static void print_rows(const json_t *rows)
{
	const json_t *r;
	size_t i;

	json_array_foreach(rows, i, r) {
		const json_t *cited = json_object_get(r, "cited");

		if (fl_json_bool(r, "sent", false) == fl_json_bool(r, "expected", false) &&
		    fl_json_bool(r, "right", false) == fl_json_bool(r, "sent", false))
			continue;
		printf("  %-8s %-18s expected %-3s sent %-3s cited %-6s top %s %.2f margin %.2f answered %.2f  %s\n",
		       fl_json_str(r, "id", ""), fl_json_str(r, "kind", ""),
		       fl_json_bool(r, "expected", false) ? "yes" : "no",
		       fl_json_bool(r, "sent", false) ? "yes" : "no",
		       json_array_size(cited) ? json_string_value(json_array_get(cited, 0)) : "-",
		       fl_json_str(r, "top_article", "-"), fl_json_num(r, "top_relevance", 0),
		       fl_json_num(json_object_get(r, "signals"), "margin", 0),
		       fl_json_num(json_object_get(r, "signals"), "answered", 0),
		       fl_json_str(r, "reason", ""));
	}
}

int cmd_eval__autoreply(int argc, char **argv, struct cli_ctx *cctx)
{
	const char *in = NULL;
	bool json = false, want_rows = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "JSON lines {ticket, expect: {auto_reply, articles, kind}}" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		{ CLI_OPT_BOOL, 0, "rows", &want_rows, NULL, "add every row's outcome (the misses, in text)" },
		CLI_OPTIONS_END,
	};
	struct tally t = { json_object(), json_object(), 0, 0, 0, 0, 0 };
	struct cli_triage tr = { 0 };
	json_t *out = NULL, *rows = json_array();
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int argi, rc;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, autoreply_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (!in || argi < argc) {
		rc = cli_usage_error(autoreply_usage, opts, "--in FILE is required");
		goto out;
	}
	if (!(f = fopen(in, "r"))) {
		rc = cli_error(EX_NOINPUT, "cannot open '%s': %m", in);
		goto out;
	}
	/* a fresh store of our own: the statuses are the store's, nothing reaches the disk */
	fl_config_set("FRONTLINE_DATABASE_URL", "sqlite::memory:");
	if ((rc = cli_triage_open(&tr, "customer_support", true)) != EX_OK)
		goto out;
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *row;
		const json_t *ticket, *expect;
		struct support_outcome o;

		lineno++;
		if (n <= 1)
			continue;
		row = json_loadb(line, (size_t)n, 0, &jerr);
		ticket = json_object_get(row, "ticket");
		expect = json_object_get(row, "expect");
		if (!json_is_object(ticket) || !json_is_object(expect) ||
		    !json_is_boolean(json_object_get(expect, "auto_reply"))) {
			rc = cli_error(EX_DATAERR, "'%s' line %ld: %s", in, lineno,
				       row ? "expected {\"ticket\": {...}, \"expect\": {\"auto_reply\": bool, ...}}"
					   : jerr.text);
			json_decref(row);
			goto out;
		}
		if (support_process(&tr.ctx, tr.workflow, ticket, &o) != SUPPORT_OK || !o.ticket) {
			rc = cli_error(EX_DATAERR, "'%s' line %ld: %s", in, lineno, o.error ? o.error : "not processed");
			support_outcome_release(&o);
			json_decref(row);
			goto out;
		}
		json_array_append_new(rows, score_row(&t, expect, &o));
		support_outcome_release(&o);
		json_decref(row);
	}
	out = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:O, s:O}",
			"n", (json_int_t)t.n, "expected", (json_int_t)t.expected, "sent", (json_int_t)t.sent,
			"right", (json_int_t)t.right, "precision", ratio(t.right, t.sent),
			"coverage", ratio(t.right, t.expected), "wrong_article", (json_int_t)t.wrong_article,
			"false_auto_replies", t.false_sends, "by_kind", t.by_kind);
	if (want_rows)
		json_object_set(out, "rows", rows);
	if (json) {
		cli_print_json(stdout, out);
	} else {
		print_text(out);
		if (want_rows) {
			printf("\n  rows where the outcome differs from the label:\n");
			print_rows(rows);
		}
	}
	rc = EX_OK;
out:
	json_decref(out);
	json_decref(rows);
	json_decref(t.by_kind);
	json_decref(t.false_sends);
	free(line);
	if (f)
		fclose(f);
	cli_triage_close(&tr);
	return rc;
}
