/*
 * frontline eval category|sentiment --model MODEL --in TEST.jsonl [--json]:
 * scores a model (src/text) on labelled rows and prints accuracy, macro F1,
 * per-label precision/recall/F1, calibration (ECE) and a confusion matrix,
 * or one JSON object with --json. Sentiment adds Pearson r against rows'
 * "score" and, with --lexicon, a VADER-style lexicon baseline computed here
 * from the lexicon file. Further evaluations (kb) join the nested table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "text/text.h"
#include "util/util.h"

static const char *const eval_usage[] = {
	"frontline eval category --model MODEL --in TEST.jsonl [--json] [--reject-label L --threshold P]",
	"frontline eval sentiment --model MODEL --in TEST.jsonl [--json] [--collapse3] [--label-scores] [--lexicon FILE]",
	"frontline eval kb --articles FILE|DIR --queries FILE [--baseline] [--split dev|test|all] [--json]",
	"frontline eval autoreply --in FILE.jsonl [--json] [--rows]",
	"frontline eval language --in FILE.jsonl [--split dev|test|all] [--json]",
	"frontline eval spam --model MODEL --in FILE.jsonl [--json]",
	NULL,
};

static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	puts(s);
	free(s);
}

static void print_table(const json_t *r)
{
	const json_t *labels = json_object_get(r, "labels"), *conf = json_object_get(r, "confusion");
	const json_t *names = json_object_get(conf, "labels"), *matrix = json_object_get(conf, "matrix");
	const char *name;
	json_t *v;
	size_t i, j, k = json_array_size(names);

	printf("n %lld  accuracy %.4f  macro F1 %.4f  weighted F1 %.4f  ECE %.4f  NLL %.4f\n",
	       (long long)fl_json_int(r, "n", 0), fl_json_num(r, "accuracy", 0),
	       fl_json_num(r, "macro_f1", 0), fl_json_num(r, "weighted_f1", 0), fl_json_num(r, "ece", 0),
	       fl_json_num(r, "nll", 0));
	if (json_object_get(r, "in_scope_accuracy"))
		printf("threshold %.3f  in-scope accuracy %.4f  out-of-scope recall %.4f  precision %.4f\n",
		       fl_json_num(r, "threshold", 0), fl_json_num(r, "in_scope_accuracy", 0),
		       fl_json_num(r, "oos_recall", 0), fl_json_num(r, "oos_precision", 0));
	if (json_object_get(r, "pearson_r"))
		printf("Pearson r %.4f against the rows' scores (%lld rows)\n", fl_json_num(r, "pearson_r", 0),
		       (long long)fl_json_int(r, "n_scored", 0));
	if (json_is_number(json_object_get(r, "spearman_rho")))
		printf("rank correlation: Spearman rho %.4f  Kendall tau-b %.4f\n", fl_json_num(r, "spearman_rho", 0),
		       fl_json_num(r, "kendall_tau_b", 0));
	if (json_object_get(r, "lexicon"))
		printf("lexicon baseline: accuracy %.4f  macro F1 %.4f  Pearson r %.4f\n",
		       fl_json_num(json_object_get(r, "lexicon"), "accuracy", 0),
		       fl_json_num(json_object_get(r, "lexicon"), "macro_f1", 0),
		       fl_json_num(json_object_get(r, "lexicon"), "pearson_r", NAN));
	printf("\n%-32s %9s %9s %9s %8s\n", "label", "precision", "recall", "F1", "support");
	json_object_foreach((json_t *)labels, name, v)
		printf("%-32.32s %9.4f %9.4f %9.4f %8lld\n", name, fl_json_num(v, "precision", 0),
		       fl_json_num(v, "recall", 0), fl_json_num(v, "f1", 0),
		       (long long)fl_json_int(v, "support", 0));
	if (k > 12) {
		printf("\nlargest confusions (gold -> predicted: count)\n");
		for (i = 0; i < k; i++)
			for (j = 0; j < k; j++) {
				json_int_t c = json_integer_value(json_array_get(json_array_get(matrix, i), j));

				if (i != j && c >= 3)
					printf("  %s -> %s: %lld\n", json_string_value(json_array_get(names, i)),
					       json_string_value(json_array_get(names, j)), (long long)c);
			}
		return;
	}
	printf("\nconfusion matrix (rows gold, columns predicted)\n%14s", "");
	for (j = 0; j < k; j++)
		printf(" %8.8s", json_string_value(json_array_get(names, j)));
	putchar('\n');
	for (i = 0; i < k; i++) {
		printf("%-14.14s", json_string_value(json_array_get(names, i)));
		for (j = 0; j < k; j++)
			printf(" %8lld", (long long)json_integer_value(json_array_get(json_array_get(matrix, i), j)));
		putchar('\n');
	}
}

/* Lexicon baseline on the same rows: 3 classes at +-0.05, Pearson r on
 * scores (with label_scores, unscored rows count as -1/0/+1 by label). */
static json_t *lexicon_baseline(const struct text_lexicon *lx, const struct text_dataset *d, bool label_scores)
{
	size_t n = text_dataset_size(d), i, k, right = 0, nscored = 0, tp[3] = { 0 }, gold_n[3] = { 0 },
	       pred_n[3] = { 0 };
	double *x = fl_calloc(n + 1, sizeof(*x)), *y = fl_calloc(n + 1, sizeof(*y)), macro = 0, r;
	json_t *res;

	for (i = 0; i < n; i++) {
		double s = text_lexicon_score(lx, text_dataset_text(d, i)), gs = text_dataset_score(d, i);
		const char *gold = text_dataset_label(d, i);
		int p = s >= 0.05 ? 2 : s <= -0.05 ? 0 : 1, g = -1;

		if (strstr(gold, "negative"))
			g = 0;
		else if (!strcmp(gold, "neutral"))
			g = 1;
		else if (strstr(gold, "positive"))
			g = 2;
		if (isnan(gs) && label_scores && g >= 0)
			gs = g - 1;
		if (g >= 0) {
			gold_n[g]++;
			right += p == g;
			tp[g] += p == g;
		}
		pred_n[p]++;
		if (!isnan(gs)) {
			x[nscored] = s;
			y[nscored++] = gs;
		}
	}
	for (k = 0; k < 3; k++) {
		double pr = pred_n[k] ? (double)tp[k] / (double)pred_n[k] : 0;
		double rc = gold_n[k] ? (double)tp[k] / (double)gold_n[k] : 0;

		macro += pr + rc > 0 ? 2 * pr * rc / (pr + rc) : 0;
	}
	res = json_pack("{s:s, s:I, s:f, s:f}", "method", "lexicon sum with cue rules, 3 classes at +-0.05",
			"n", (json_int_t)n, "accuracy", n ? (double)right / (double)n : 0, "macro_f1",
			macro / 3);
	r = text_pearson(x, y, nscored);
	if (nscored >= 2 && !isnan(r)) {
		json_object_set_new(res, "pearson_r", json_real(r));
		json_object_set_new(res, "spearman_rho", json_real(text_spearman(x, y, nscored)));
		json_object_set_new(res, "kendall_tau_b", json_real(text_kendall_tau_b(x, y, nscored)));
	}
	free(x);
	free(y);
	return res;
}

static int eval_task(int argc, char **argv, bool sentiment)
{
	const char *model = NULL, *in = NULL, *reject = NULL, *lexicon = NULL;
	double threshold = 0;
	bool json = false, collapse3 = false, label_scores = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'm', "model", &model, "MODEL", "model file (frontline train)" },
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "test rows, JSON lines {\"text\",\"label\"[,\"score\"]}" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		{ CLI_OPT_STRING, 0, "reject-label", &reject, "LABEL", "label of out-of-scope rows (e.g. oos)" },
		{ CLI_OPT_DOUBLE, 0, "threshold", &threshold, "P", "below this confidence, predict the reject label" },
		{ CLI_OPT_BOOL, 0, "collapse3", &collapse3, NULL, "sentiment: score 5 levels as negative/neutral/positive" },
		{ CLI_OPT_BOOL, 0, "label-scores", &label_scores, NULL,
		  "sentiment: rows without a score count as -1/0/+1 by label (Pearson r on class data)" },
		{ CLI_OPT_STRING, 0, "lexicon", &lexicon, "FILE", "sentiment: also score a word<TAB>valence lexicon" },
		CLI_OPTIONS_END,
	};
	struct text_eval_opts eo = { NULL, 0, false, false };
	struct text_dataset *d = NULL;
	struct text_model *m = NULL;
	struct text_lexicon *lx = NULL;
	json_t *res = NULL;
	char *err = NULL;
	int argi, rc;

	rc = cli_parse(argc, argv, opts, eval_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(eval_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!model || !in)
		return cli_usage_error(eval_usage, opts, "--model and --in are required");
	if (threshold < 0 || threshold > 1)
		return cli_usage_error(eval_usage, opts, "--threshold must be within 0..1");
	if (!sentiment && (collapse3 || lexicon || label_scores))
		return cli_usage_error(eval_usage, opts, "--collapse3, --label-scores and --lexicon are for sentiment");
	rc = text_model_load(model, &m, &err);
	if (rc) {
		rc = cli_error(rc == TEXT_ENOMODEL || rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if (lexicon && text_lexicon_load(lexicon, &lx, &err)) {
		rc = cli_error(EX_NOINPUT, "%s", err);
		goto out;
	}
	d = text_dataset_new();
	rc = text_dataset_load_jsonl(d, in, &err);
	if (rc) {
		rc = cli_error(rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if (!text_dataset_size(d)) {
		rc = cli_error(EX_DATAERR, "'%s' has no rows", in);
		goto out;
	}
	eo.reject_label = reject;
	eo.threshold = threshold;
	eo.collapse3 = collapse3;
	eo.label_scores = label_scores;
	res = text_evaluate(m, d, &eo);
	json_object_set_new(res, "model", json_string(model));
	if (lx)
		json_object_set_new(res, "lexicon", lexicon_baseline(lx, d, label_scores));
	if (json)
		print_json(res);
	else
		print_table(res);
	rc = EX_OK;
out:
	json_decref(res);
	free(err);
	text_lexicon_free(lx);
	text_model_free(m);
	text_dataset_free(d);
	return rc;
}

static int eval_category(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return eval_task(argc, argv, false);
}

static int eval_sentiment(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return eval_task(argc, argv, true);
}

int cmd_eval(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command sub[] = {
		{ "category", eval_category, "score a classifier on labelled rows" },
		{ "sentiment", eval_sentiment, "score a sentiment model (Pearson r, lexicon baseline)" },
		{ "grounding", cmd_eval__grounding, "how often replies are grounded in the right KB article" },
		{ "spam", cmd_eval__spam, "precision and recall of the spam model over thresholds" },
		{ "language", cmd_eval__language, "accuracy of language identification by language and length" },
		{ "autoreply", cmd_eval__autoreply, "precision and coverage of automatic replies on labelled tickets" },
		{ "kb", cmd_eval__kb, "recall@1, recall@5 and MRR of knowledge-base search" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc - 1, argv + 1, sub, eval_usage, ctx);
}
