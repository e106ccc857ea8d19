/*
 * frontline train category|sentiment|emotion|spam --in TRAIN.jsonl --out MODEL: trains a
 * linear classifier (src/text) on rows {"text": ..., "label": ...} with any
 * label set and writes the model file. The two tasks differ only in their
 * defaults and in the task recorded in the model; docs/QUALITY.md has the
 * commands that made the models in data/models/. --feedback adds the rows
 * of `frontline feedback export` that teach the task (agents' corrections).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "text/text.h"
#include "util/util.h"

static const char *const train_usage[] = {
	"frontline train category|sentiment|emotion|spam --in TRAIN.jsonl --out MODEL [options]",
	NULL,
};

/*
 * Adds the rows of a `frontline feedback export` file that teach task
 * (their "task" is task, or they have none) to d: agents' corrections.
 * Returns EX_OK with *added, or an exit code after saying why.
 */
static int add_feedback(struct text_dataset *d, const char *path, const char *task, size_t *added)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = EX_OK;

	*added = 0;
	if (!f)
		return cli_error(EX_NOINPUT, "cannot open '%s'", path);
	while (getline(&line, &cap, f) >= 0) {
		json_t *row;
		const char *t;

		lineno++;
		if (!*line || *line == '\n')
			continue;
		row = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
		t = fl_json_str(row, "task", NULL);
		if (!json_is_string(json_object_get(row, "text")) || !json_is_string(json_object_get(row, "label")) ||
		    (json_object_get(row, "task") && !t)) {
			json_decref(row);
			rc = cli_error(EX_DATAERR, "'%s' line %zu: expected {\"text\", \"label\", \"task\"?}", path, lineno);
			break;
		}
		if (!t || !strcmp(t, task)) {
			text_dataset_add(d, fl_json_str(row, "text", ""), fl_json_str(row, "label", ""));
			(*added)++;
		}
		json_decref(row);
	}
	free(line);
	fclose(f);
	return rc;
}

static int train_task(int argc, char **argv, const char *task)
{
	const char *feedback = NULL;
	size_t feedback_rows = 0;
	const char *in = NULL, *out = NULL, *lexicon = NULL;
	long bits, epochs, cmin, cmax, seed = 1, lex_short_words = 12;
	double lex_share = 0.1, lex_short_share = 0.1, lex_cue_share = 0.1;
	double l2, lr, holdout, prune, score_l2, score_lr;
	bool no_bigrams = false, no_words = false, verbose = false, json = false, no_score = false;
	bool ensemble = false, social = false, contrast = false, rated_only = false;
	bool head_class = false;
	struct text_train_opts o;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'i', "in", &in, "FILE", "training rows, JSON lines {\"text\",\"label\"}" },
		{ CLI_OPT_STRING, 'o', "out", &out, "MODEL", "model file to write" },
		{ CLI_OPT_INT, 0, "hash-bits", &bits, "N", "feature space 2^N (default 20)" },
		{ CLI_OPT_INT, 0, "epochs", &epochs, "N", "most passes over the data (default 20)" },
		{ CLI_OPT_DOUBLE, 0, "l2", &l2, "X", "L2 regularisation (default 1e-5)" },
		{ CLI_OPT_DOUBLE, 0, "lr", &lr, "X", "AdaGrad learning rate (default 0.2)" },
		{ CLI_OPT_INT, 0, "char-min", &cmin, "N", "shortest character n-gram, 0: none (default 2)" },
		{ CLI_OPT_INT, 0, "char-max", &cmax, "N", "longest character n-gram (default 5)" },
		{ CLI_OPT_BOOL, 0, "no-bigrams", &no_bigrams, NULL, "no word bigrams" },
		{ CLI_OPT_BOOL, 0, "no-words", &no_words, NULL, "no word unigrams" },
		{ CLI_OPT_DOUBLE, 0, "holdout", &holdout, "X", "share held out for calibration (default 0.1)" },
		{ CLI_OPT_DOUBLE, 0, "prune", &prune, "X", "drop weights smaller than X (default 1e-3)" },
		{ CLI_OPT_INT, 0, "seed", &seed, "N", "shuffling seed (default 1)" },
		{ CLI_OPT_DOUBLE, 0, "score-l2", &score_l2, "X", "L2 of the score regression head (default 1e-3)" },
		{ CLI_OPT_DOUBLE, 0, "score-lr", &score_lr, "X", "learning rate of the score head (default 0.1)" },
		{ CLI_OPT_BOOL, 0, "no-score-head", &no_score, NULL, "no regression head on rows' \"score\"" },
		{ CLI_OPT_BOOL, 0, "ensemble", &ensemble, NULL, "two models (words, characters), probabilities averaged" },
		{ CLI_OPT_BOOL, 0, "blend-rated-only", &rated_only, NULL,
		  "fit the score head's share on rated rows only, not also on class rows" },
		{ CLI_OPT_BOOL, 0, "head-class-rows", &head_class, NULL,
		  "the score head also learns rows without a score (target: their class's mean score)" },
		{ CLI_OPT_BOOL, 0, "social", &social, NULL, "\"@name\" as one <user> feature, an elongation (\"sooo\") cue" },
		{ CLI_OPT_BOOL, 0, "contrast", &contrast, NULL, "words after \"but\"/\"however\" also as contrast features" },
		{ CLI_OPT_STRING, 0, "lexicon", &lexicon, "FILE", "sentiment: blend this word<TAB>valence lexicon into the score" },
		{ CLI_OPT_DOUBLE, 0, "lexicon-share", &lex_share, "X", "the lexicon's share of the score (default 0.1)" },
		{ CLI_OPT_DOUBLE, 0, "lexicon-short-share", &lex_short_share, "X",
		  "added for short texts (default 0.1)" },
		{ CLI_OPT_INT, 0, "lexicon-short-words", &lex_short_words, "N", "short: at most N words (default 12)" },
		{ CLI_OPT_DOUBLE, 0, "lexicon-cue-share", &lex_cue_share, "X",
		  "added for texts with social-media cues (default 0.1)" },
		{ CLI_OPT_STRING, 0, "feedback", &feedback, "FILE",
		  "also agents' corrections of this task (frontline feedback export)" },
		{ CLI_OPT_BOOL, 'v', "verbose", &verbose, NULL, "progress per epoch on stderr" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the model's summary as JSON" },
		CLI_OPTIONS_END,
	};
	struct text_dataset *d = NULL;
	struct text_model *m = NULL;
	json_t *info;
	char *err = NULL, *s;
	struct stat sb;
	int argi, rc;

	text_train_defaults(&o);
	bits = o.hash_bits;
	epochs = o.epochs;
	cmin = o.char_min;
	cmax = o.char_max;
	l2 = o.l2;
	lr = o.lr;
	holdout = o.holdout;
	prune = o.prune;
	score_l2 = o.score_l2;
	score_lr = o.score_lr;
	rc = cli_parse(argc, argv, opts, train_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(train_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!in || !out)
		return cli_usage_error(train_usage, opts, "--in and --out are required");
	if (bits < 8 || bits > 26 || epochs < 1 || epochs > 1000 || cmin < 0 || cmax < 0 || cmax > 16 ||
	    (cmin && cmin > cmax) || l2 < 0 || lr <= 0 || holdout < 0 || holdout >= 1 || prune < 0 ||
	    score_l2 < 0 || score_lr <= 0)
		return cli_usage_error(train_usage, opts, "a setting is out of range");
	o.hash_bits = (unsigned)bits;
	o.epochs = (unsigned)epochs;
	o.char_min = (unsigned)cmin;
	o.char_max = (unsigned)cmax;
	o.l2 = l2;
	o.lr = lr;
	o.holdout = holdout;
	o.prune = prune;
	o.seed = (uint64_t)seed;
	o.bigrams = !no_bigrams;
	o.words = !no_words;
	o.verbose = verbose;
	o.score_head = !no_score;
	o.ensemble = ensemble;
	o.blend_rated_only = rated_only;
	o.head_class_rows = head_class;
	o.extra = (social ? TEXT_FEAT_SOCIAL : 0) | (contrast ? TEXT_FEAT_CONTRAST : 0);
	o.score_l2 = score_l2;
	o.score_lr = score_lr;

	d = text_dataset_new();
	rc = text_dataset_load_jsonl(d, in, &err);
	if (rc) {
		rc = cli_error(rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if (feedback && (rc = add_feedback(d, feedback, task, &feedback_rows)) != EX_OK)
		goto out;
	if (feedback)
		fprintf(stderr, "%zu rows of agents' corrections from '%s'\n", feedback_rows, feedback);
	if (!text_dataset_size(d)) {
		rc = cli_error(EX_DATAERR, "'%s' has no rows", in);
		goto out;
	}
	rc = text_train(d, &o, &m, &err);
	if (rc) {
		rc = cli_error(EX_DATAERR, "cannot train on '%s': %s", in, err);
		goto out;
	}
	text_model_info_set(m, "task", json_string(task));
	if (lexicon) {
		struct text_lexicon *lx = NULL;

		if (lex_share < 0 || lex_short_share < 0 || lex_cue_share < 0 || lex_short_words < 0) {
			rc = cli_usage_error(train_usage, opts, "the lexicon's shares must not be negative");
			goto out;
		}
		if ((rc = text_lexicon_load(lexicon, &lx, &err))) {
			rc = cli_error(rc == TEXT_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
			goto out;
		}
		text_model_info_set(m, "lexicon", json_pack("{s:s, s:f, s:f, s:I, s:f, s:o}", "source", strrchr(lexicon, '/') ? strrchr(lexicon, '/') + 1 : lexicon,
			"share", lex_share, "short_share", lex_short_share, "short_words", (json_int_t)lex_short_words,
			"cue_share", lex_cue_share, "entries", text_lexicon_entries(lx)));
		text_lexicon_free(lx);
	}
	rc = text_model_save(m, out, &err);
	if (rc) {
		rc = cli_error(EX_CANTCREAT, "%s", err);
		goto out;
	}
	info = json_deep_copy(text_model_info(m));
	json_object_del(info, "scales");
	json_object_set_new(info, "labels", json_integer((json_int_t)text_model_nlabels(m)));
	if (!stat(out, &sb))
		json_object_set_new(info, "file_bytes", json_integer((json_int_t)sb.st_size));
	if (json) {
		s = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
	} else {
		printf("trained %s model '%s': %zu rows, %zu labels, %lld epochs, %lld bytes\n", task, out,
		       text_dataset_size(d), text_model_nlabels(m),
		       (long long)fl_json_int(info, "epochs", 0), (long long)fl_json_int(info, "file_bytes", 0));
		if (json_object_get(info, "held_out_accuracy"))
			printf("held-out %lld rows: accuracy %.4f, ECE %.4f raw -> %.4f calibrated\n",
			       (long long)fl_json_int(info, "held_out", 0),
			       fl_json_num(info, "held_out_accuracy", 0), fl_json_num(info, "held_out_ece_raw", 0),
			       fl_json_num(info, "held_out_ece", 0));
		if (json_object_get(info, "score"))
			printf("score head: %lld scored rows, %lld epochs, held-out Pearson r %.4f\n",
			       (long long)fl_json_int(json_object_get(info, "score"), "rows", 0),
			       (long long)fl_json_int(json_object_get(info, "score"), "epochs", 0),
			       fl_json_num(json_object_get(info, "score"), "held_out_pearson_r", NAN));
	}
	json_decref(info);
	rc = EX_OK;
out:
	free(err);
	text_model_free(m);
	text_dataset_free(d);
	return rc;
}

static int train_category(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return train_task(argc, argv, "category");
}

static int train_sentiment(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return train_task(argc, argv, "sentiment");
}

static int train_emotion(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return train_task(argc, argv, "emotion");
}

static int train_spam(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return train_task(argc, argv, "spam");
}

int cmd_train(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command sub[] = {
		{ "category", train_category, "train a category (or any label set) classifier" },
		{ "sentiment", train_sentiment, "train a sentiment classifier (very_negative..very_positive)" },
		{ "emotion", train_emotion, "train an emotion classifier (GoEmotions-style labels)" },
		{ "spam", train_spam, "train the spam filter (labels spam, ham)" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc - 1, argv + 1, sub, train_usage, ctx);
}
