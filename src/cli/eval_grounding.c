/*
 * frontline eval grounding --in FILE.jsonl: how often the built-in reply is
 * grounded in the right knowledge-base article, and how often it is
 * grounded when no article answers the ticket. Rows are {"subject",
 * "content", "article": id or null}. Each row runs through customer_support
 * (nothing stored); the figures are the KB's top-1 accuracy, the share of
 * answerable tickets whose reply cites the right article, the share of
 * unanswerable tickets that got a grounded reply anyway, and the same two
 * rates for a sweep of relevance thresholds (how SUPPORT_MIN_RELEVANCE was
 * chosen).
 */
#include <string.h>

#include "cli.h"
#include "util/util.h"

static const char *const grounding_usage[] = {
	"frontline eval grounding --in FILE.jsonl [--json]",
	NULL,
};

static const double sweep[] = { 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.50 };

int cmd_eval__grounding(int argc, char **argv, struct cli_ctx *cctx)
{
	const char *in = NULL;
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "JSON lines {subject, content, article|null}" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		CLI_OPTIONS_END,
	};
	struct cli_triage t = { 0 };
	size_t answerable = 0, unanswerable = 0, top1 = 0, right = 0, wrong = 0, false_ground = 0;
	size_t hits[FL_ARRAY_SIZE(sweep)] = { 0 }, fps[FL_ARRAY_SIZE(sweep)] = { 0 }, i;
	json_t *out = NULL, *rows_sweep;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int argi, rc;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, grounding_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (!in || argi < argc)
		return cli_usage_error(grounding_usage, opts, "--in FILE is required");
	if (!(f = fopen(in, "r")))
		return cli_error(EX_NOINPUT, "cannot open '%s': %m", in);
	if ((rc = cli_triage_open(&t, "customer_support", false)) != EX_OK)
		goto out;
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *row, *ticket;
		struct support_outcome o;
		const char *want, *got, *cited;
		double rel;
		size_t k;

		lineno++;
		if (n <= 1)
			continue;
		row = json_loadb(line, (size_t)n, 0, &jerr);
		if (!json_is_object(row) || !fl_json_str(row, "content", NULL)) {
			json_decref(row);
			rc = cli_error(EX_DATAERR, "'%s' line %ld: %s", in, lineno,
				       row ? "expected {subject, content, article}" : jerr.text);
			goto out;
		}
		want = fl_json_str(row, "article", NULL);
		ticket = json_pack("{s:s, s:s, s:O, s:O}", "id", "grounding", "customer_id", "eval",
				   "subject", json_object_get(row, "subject"), "content", json_object_get(row, "content"));
		if (support_process(&t.ctx, t.workflow, ticket, &o) != SUPPORT_OK) {
			rc = cli_error(EX_DATAERR, "'%s' line %ld: %s", in, lineno, o.error);
			support_outcome_release(&o);
			json_decref(ticket);
			json_decref(row);
			goto out;
		}
		{
			const json_t *top = json_array_get(json_object_get(json_object_get(o.shared,
				"knowledge_base_results"), "articles"), 0);
			const json_t *resp = json_object_get(o.shared, "generated_response");

			got = fl_json_str(top, "id", "");
			rel = fl_json_num(top, "relevance_score", 0);
			cited = json_string_value(json_array_get(json_object_get(resp, "articles_referenced"), 0));
			if (want) {
				answerable++;
				top1 += !strcmp(got, want);
				if (cited && !strcmp(cited, want))
					right++;
				else if (cited)
					wrong++;
			} else {
				unanswerable++;
				false_ground += cited != NULL;
			}
			for (k = 0; k < FL_ARRAY_SIZE(sweep); k++) {
				if (rel < sweep[k])
					continue;
				if (want)
					hits[k] += !strcmp(got, want);
				else
					fps[k]++;
			}
		}
		support_outcome_release(&o);
		json_decref(ticket);
		json_decref(row);
	}
	rows_sweep = json_array();
	for (i = 0; i < FL_ARRAY_SIZE(sweep); i++)
		json_array_append_new(rows_sweep, json_pack("{s:f, s:f, s:f}", "threshold", sweep[i],
			"right_grounding", answerable ? (double)hits[i] / answerable : 0.0,
			"false_grounding", unanswerable ? (double)fps[i] / unanswerable : 0.0));
	out = json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:o}",
			"n", (json_int_t)(answerable + unanswerable), "answerable", (json_int_t)answerable,
			"unanswerable", (json_int_t)unanswerable,
			"kb_top1_accuracy", answerable ? (double)top1 / answerable : 0.0,
			"right_grounding", answerable ? (double)right / answerable : 0.0,
			"wrong_grounding", answerable ? (double)wrong / answerable : 0.0,
			"false_grounding", unanswerable ? (double)false_ground / unanswerable : 0.0,
			"sweep", rows_sweep);
	if (json) {
		cli_print_json(stdout, out);
	} else {
		printf("%zu tickets (%zu answerable by an article, %zu not)\n", answerable + unanswerable,
		       answerable, unanswerable);
		printf("  KB top-1 is the right article      %.3f\n", fl_json_num(out, "kb_top1_accuracy", 0));
		printf("  reply grounded in the right article %.3f\n", fl_json_num(out, "right_grounding", 0));
		printf("  reply grounded in another article   %.3f\n", fl_json_num(out, "wrong_grounding", 0));
		printf("  reply grounded with no answer in KB %.3f\n", fl_json_num(out, "false_grounding", 0));
		printf("\n  threshold  right grounding  false grounding\n");
		for (i = 0; i < json_array_size(rows_sweep); i++) {
			const json_t *r = json_array_get(rows_sweep, i);

			printf("  %9.2f  %15.3f  %15.3f\n", fl_json_num(r, "threshold", 0),
			       fl_json_num(r, "right_grounding", 0), fl_json_num(r, "false_grounding", 0));
		}
	}
	rc = EX_OK;
out:
	json_decref(out);
	free(line);
	if (f)
		fclose(f);
	cli_triage_close(&t);
	return rc;
}
