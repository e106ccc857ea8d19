/*
 * frontline eval spam --model MODEL --in FILE.jsonl [--json]: the spam
 * model's precision and recall on rows {"text", "label": "spam"|"ham"} at a
 * sweep of thresholds on its calibrated P(spam), and the share of ham it
 * would take for spam (the cost that matters: a customer's ticket hidden in
 * the spam list). The support module's threshold (SUPPORT_SPAM_THRESHOLD)
 * was chosen from this table on the dev split.
 */
#include <string.h>

#include "cli.h"
#include "text/text.h"
#include "util/util.h"

static const char *const spam_usage[] = {
	"frontline eval spam --model MODEL --in FILE.jsonl [--json]",
	NULL,
};

static const double thresholds[] = { 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99 };

int cmd_eval__spam(int argc, char **argv, struct cli_ctx *cctx)
{
	const char *model = NULL, *in = NULL;
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'm', "model", &model, "MODEL", "spam model (frontline train spam)" },
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "JSON lines {\"text\", \"label\": \"spam\"|\"ham\"}" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		CLI_OPTIONS_END,
	};
	size_t tp[FL_ARRAY_SIZE(thresholds)] = { 0 }, fp[FL_ARRAY_SIZE(thresholds)] = { 0 };
	size_t nspam = 0, nham = 0, i, k;
	struct text_dataset *d = NULL;
	struct text_model *m = NULL;
	double *probs = NULL;
	json_t *out = NULL, *sweep;
	char *err = NULL;
	int argi, rc, spam;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, spam_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (!model || !in || argi < argc)
		return cli_usage_error(spam_usage, opts, "--model and --in are required");
	if ((rc = text_model_load(model, &m, &err))) {
		rc = cli_error(rc == TEXT_ENOMODEL || rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if ((spam = text_model_label_index(m, "spam")) < 0) {
		rc = cli_error(EX_DATAERR, "'%s' has no label 'spam'", model);
		goto out;
	}
	d = text_dataset_new();
	if ((rc = text_dataset_load_jsonl(d, in, &err))) {
		rc = cli_error(rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	probs = fl_calloc(text_model_nlabels(m), sizeof(*probs));
	for (i = 0; i < text_dataset_size(d); i++) {
		bool is_spam = !strcmp(text_dataset_label(d, i), "spam");

		text_model_predict(m, text_dataset_text(d, i), probs);
		is_spam ? nspam++ : nham++;
		for (k = 0; k < FL_ARRAY_SIZE(thresholds); k++) {
			if (probs[spam] < thresholds[k])
				continue;
			if (is_spam)
				tp[k]++;
			else
				fp[k]++;
		}
	}
	sweep = json_array();
	for (k = 0; k < FL_ARRAY_SIZE(thresholds); k++)
		json_array_append_new(sweep, json_pack("{s:f, s:f, s:f, s:f, s:I}", "threshold", thresholds[k],
			"precision", tp[k] + fp[k] ? (double)tp[k] / (double)(tp[k] + fp[k]) : 1.0,
			"recall", nspam ? (double)tp[k] / (double)nspam : 0.0,
			"ham_flagged", nham ? (double)fp[k] / (double)nham : 0.0, "ham_flagged_n", (json_int_t)fp[k]));
	out = json_pack("{s:s, s:I, s:I, s:o}", "model", model, "spam", (json_int_t)nspam, "ham", (json_int_t)nham,
			"sweep", sweep);
	if (json) {
		cli_print_json(stdout, out);
	} else {
		printf("%zu spam, %zu ham\n\n  threshold  precision  recall  ham flagged\n", nspam, nham);
		for (k = 0; k < FL_ARRAY_SIZE(thresholds); k++)
			printf("  %9.2f  %9.3f  %6.3f  %6.4f (%zu)\n", thresholds[k],
			       fl_json_num(json_array_get(sweep, k), "precision", 0),
			       fl_json_num(json_array_get(sweep, k), "recall", 0),
			       fl_json_num(json_array_get(sweep, k), "ham_flagged", 0), fp[k]);
	}
	rc = EX_OK;
out:
	json_decref(out);
	free(probs);
	free(err);
	text_model_free(m);
	text_dataset_free(d);
	return rc;
}
