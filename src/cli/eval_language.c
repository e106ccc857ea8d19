/*
 * frontline eval language --in FILE.jsonl [--split dev|test|all] [--json]:
 * accuracy of the language identification (src/text/langid.c) on rows
 * {"text", "lang"} (optional "split"), overall, by language and by length
 * (short: up to 60 characters, medium: up to 300, long: more), with the
 * commonest confusions and the mean confidence of right and wrong answers.
 */
#include <string.h>

#include "cli.h"
#include "text/text.h"
#include "util/util.h"

static const char *const language_usage[] = {
	"frontline eval language --in FILE.jsonl [--split dev|test|all] [--json]",
	NULL,
};

static const char *bucket_of(const char *text)
{
	size_t chars = 0;
	const unsigned char *p = (const unsigned char *)text;

	for (; *p; p++)
		chars += (*p & 0xC0) != 0x80;
	return chars <= 60 ? "short" : chars <= 300 ? "medium" : "long";
}

/* counts[key] = {n, right} */
static void count(json_t *counts, const char *key, bool right)
{
	json_t *c = json_object_get(counts, key);

	if (!c) {
		c = json_pack("{s:i, s:i}", "n", 0, "right", 0);
		json_object_set_new(counts, key, c);
	}
	json_object_set_new(c, "n", json_integer(fl_json_int(c, "n", 0) + 1));
	if (right)
		json_object_set_new(c, "right", json_integer(fl_json_int(c, "right", 0) + 1));
}

static void add_accuracy(json_t *counts)
{
	const char *k;
	json_t *c;

	json_object_foreach(counts, k, c)
		json_object_set_new(c, "accuracy", json_real(fl_json_int(c, "n", 0) ?
			(double)fl_json_int(c, "right", 0) / (double)fl_json_int(c, "n", 0) : 0.0));
}

int cmd_eval__language(int argc, char **argv, struct cli_ctx *cctx)
{
	const char *in = NULL, *split = "all";
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "JSON lines {text, lang[, split]}" },
		{ CLI_OPT_STRING, 0, "split", &split, "S", "dev, test or all (rows without a split count in all)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		CLI_OPTIONS_END,
	};
	struct text_langid *li = NULL;
	json_t *overall = json_object(), *by_lang = json_object(), *by_len = json_object(), *by_both = json_object();
	json_t *confusions = json_object(), *out = NULL;
	double conf_right = 0, conf_wrong = 0;
	size_t n_right = 0, n_wrong = 0;
	FILE *f = NULL;
	char *line = NULL, *err = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int argi, rc;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, language_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (!in || argi < argc) {
		rc = cli_usage_error(language_usage, opts, "--in FILE is required");
		goto out;
	}
	if (!(f = fopen(in, "r"))) {
		rc = cli_error(EX_NOINPUT, "cannot open '%s': %m", in);
		goto out;
	}
	if (text_langid_open(NULL, "en", &li, &err) != TEXT_OK) {
		rc = cli_error(EX_CONFIG, "%s", err);
		goto out;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *row;
		const char *text, *gold, *rsplit, *bucket;
		struct text_language lang;
		char key[64];
		bool right;

		lineno++;
		if (n <= 1)
			continue;
		row = json_loadb(line, (size_t)n, 0, &jerr);
		text = fl_json_str(row, "text", NULL);
		gold = fl_json_str(row, "lang", NULL);
		if (!text || !gold) {
			rc = cli_error(EX_DATAERR, "'%s' line %ld: %s", in, lineno,
				       row ? "expected {\"text\", \"lang\"}" : jerr.text);
			json_decref(row);
			goto out;
		}
		rsplit = fl_json_str(row, "split", NULL);
		if (strcmp(split, "all") && (!rsplit || strcmp(rsplit, split))) {
			json_decref(row);
			continue;
		}
		text_langid_detect(li, text, strlen(text), &lang);
		right = !strcmp(lang.code, gold);
		bucket = bucket_of(text);
		count(overall, "all", right);
		count(by_lang, gold, right);
		count(by_len, bucket, right);
		snprintf(key, sizeof(key), "%s/%s", gold, bucket);
		count(by_both, key, right);
		if (right) {
			conf_right += lang.confidence;
			n_right++;
		} else {
			snprintf(key, sizeof(key), "%s -> %s", gold, lang.code);
			json_object_set_new(confusions, key, json_integer(fl_json_int(confusions, key, 0) + 1));
			conf_wrong += lang.confidence;
			n_wrong++;
		}
		json_decref(row);
	}
	add_accuracy(overall);
	add_accuracy(by_lang);
	add_accuracy(by_len);
	add_accuracy(by_both);
	out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:f, s:f}", "overall", json_object_get(overall, "all"),
			"by_language", by_lang, "by_length", by_len, "by_language_and_length", by_both,
			"confusions", confusions,
			"mean_confidence_right", n_right ? conf_right / (double)n_right : 0.0,
			"mean_confidence_wrong", n_wrong ? conf_wrong / (double)n_wrong : 0.0);
	if (json) {
		cli_print_json(stdout, out);
	} else {
		const char *k;
		json_t *c;

		printf("%lld texts, accuracy %.3f (mean confidence right %.2f, wrong %.2f)\n",
		       (long long)fl_json_int(json_object_get(out, "overall"), "n", 0),
		       fl_json_num(json_object_get(out, "overall"), "accuracy", 0),
		       fl_json_num(out, "mean_confidence_right", 0), fl_json_num(out, "mean_confidence_wrong", 0));
		printf("\n  %-16s %6s %9s\n", "language/length", "n", "accuracy");
		json_object_foreach(by_both, k, c)
			printf("  %-16s %6lld %9.3f\n", k, (long long)fl_json_int(c, "n", 0), fl_json_num(c, "accuracy", 0));
		json_object_foreach(by_len, k, c)
			printf("  %-16s %6lld %9.3f\n", k, (long long)fl_json_int(c, "n", 0), fl_json_num(c, "accuracy", 0));
		if (json_object_size(confusions)) {
			printf("\n  confusions:");
			json_object_foreach(confusions, k, c)
				printf(" %s %lld;", k, (long long)json_integer_value(c));
			putchar('\n');
		}
	}
	rc = EX_OK;
out:
	json_decref(out);
	json_decref(overall);
	json_decref(by_lang);
	json_decref(by_len);
	json_decref(by_both);
	json_decref(confusions);
	text_langid_free(li);
	free(err);
	free(line);
	if (f)
		fclose(f);
	return rc;
}
