/*
 * text: the classifier (train, predict, save/load, errors, calibration),
 * evaluation, the lexicon baseline and the sentiment analyzer, on small
 * fixtures (tests/fixtures/text/) and the shipped models (data/models/).
 */
#include "test_helpers.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "text/text.h"

static char *fixture(const char *name)
{
	char *rel = fl_asprintf("tests/fixtures/text/%s", name), *p = test_source_path(rel);

	free(rel);
	return p;
}

static struct text_model *train_fixture(void)
{
	struct text_dataset *d = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL;
	char *path = fixture("train.jsonl"), *err = NULL;

	text_train_defaults(&o);
	o.hash_bits = 16;
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_OK);
	assert_int_equal(text_dataset_size(d), 48);
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_null(err);
	free(path);
	text_dataset_free(d);
	return m;
}

static void test_train_predict_save_load_round_trip(void **state)
{
	struct text_model *m = train_fixture(), *m2 = NULL;
	struct text_dataset *t = text_dataset_new();
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/m.model", dir), *tp = fixture("test.jsonl");
	char *err = NULL;
	double p1[3], p2[3];
	size_t i, right = 0;

	(void)state;
	assert_int_equal(text_model_nlabels(m), 3);
	assert_string_equal(text_model_label(m, 0), "account"); /* labels sorted */
	assert_int_equal(text_model_label_index(m, "technical"), 2);
	assert_int_equal(text_model_label_index(m, "nope"), -1);
	assert_int_equal(text_model_save(m, path, &err), TEXT_OK);
	assert_int_equal(text_model_load(path, &m2, &err), TEXT_OK);
	assert_int_equal(text_dataset_load_jsonl(t, tp, &err), TEXT_OK);
	for (i = 0; i < text_dataset_size(t); i++) {
		int b1 = text_model_predict(m, text_dataset_text(t, i), p1);
		int b2 = text_model_predict(m2, text_dataset_text(t, i), p2);
		size_t l;

		assert_int_equal(b1, b2);
		assert_true(fabs(p1[0] + p1[1] + p1[2] - 1.0) < 1e-9);
		for (l = 0; l < 3; l++)
			assert_true(fabs(p1[l] - p2[l]) < 1e-12);
		right += !strcmp(text_model_label(m, (size_t)b1), text_dataset_label(t, i));
	}
	/* unseen phrasings of the three topics: most must be right */
	assert_true(right >= 9);
	assert_int_equal(text_model_predict(m, "", p1) >= 0, 1);
	assert_int_equal(text_model_predict(m, NULL, p1) >= 0, 1);
	text_model_free(m);
	text_model_free(m2);
	text_dataset_free(t);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
	free(tp);
}

/*
 * The models of one ticket share one analysis of its text (the thread's
 * memo): a prediction is the same whether the text was analysed just before
 * or not, and the shared tokens follow the text asked for.
 */
static void test_shared_analysis_gives_the_same_predictions(void **state)
{
	struct text_model *m = train_fixture();
	const char *a = "I cannot log in to my account since yesterday", *b = "Refund my invoice please";
	char copy[64];
	double first[3], again[3], other[3];
	const struct text_tokens *tk;
	size_t l;

	(void)state;
	text_model_predict(m, a, first);
	text_model_predict(m, a, again);          /* from the memo */
	for (l = 0; l < 3; l++)
		assert_true(first[l] == again[l]);
	text_model_predict(m, b, other);          /* another text replaces it */
	fl_strlcpy(copy, a, sizeof(copy));        /* equal text at another address */
	text_model_predict(m, copy, again);
	for (l = 0; l < 3; l++)
		assert_true(first[l] == again[l]);
	copy[0] = 'U';                            /* same length, other text */
	tk = text_tokens_shared(copy);
	assert_string_equal(tk->v[0].norm, "u");
	tk = text_tokens_shared(b);
	assert_int_equal(tk->n, 4);
	assert_string_equal(tk->v[0].norm, "refund");
	assert_int_equal(text_tokens_shared(NULL)->n, 0);
	text_model_free(m);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void test_model_load_errors(void **state)
{
	struct text_model *m = train_fixture(), *bad = NULL;
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/m.model", dir), *err = NULL, *buf;
	FILE *f;
	long n;

	(void)state;
	assert_int_equal(text_model_load("/nonexistent/x.model", &bad, &err), TEXT_ENOMODEL);
	assert_non_null(strstr(err, "cannot open '/nonexistent/x.model'"));
	free(err);
	err = NULL;
	write_file(path, "hello world, not a model", 24);
	assert_int_equal(text_model_load(path, &bad, &err), TEXT_EFORMAT);
	assert_non_null(strstr(err, "not a frontline model file"));
	free(err);
	err = NULL;

	assert_int_equal(text_model_save(m, path, NULL), TEXT_OK);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = fl_malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	write_file(path, buf, (size_t)n - 7); /* truncated */
	assert_int_equal(text_model_load(path, &bad, &err), TEXT_EFORMAT);
	assert_null(bad);
	free(err);
	err = NULL;
	buf[4] = 99; /* future version */
	write_file(path, buf, (size_t)n);
	assert_int_equal(text_model_load(path, &bad, &err), TEXT_EVERSION);
	free(err);
	free(buf);
	text_model_free(m);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
}

static void test_dataset_errors_name_the_line(void **state)
{
	struct text_dataset *d = text_dataset_new();
	char *path = fixture("bad.jsonl"), *err = NULL;

	(void)state;
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_EDATA);
	assert_non_null(strstr(err, "line 3"));
	assert_non_null(strstr(err, "bad.jsonl"));
	free(err);
	err = NULL;
	assert_int_equal(text_dataset_load_jsonl(d, "/nonexistent.jsonl", &err), TEXT_EIO);
	free(err);
	free(path);
	text_dataset_free(d);
}

static void test_train_needs_two_labels(void **state)
{
	struct text_dataset *d = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL;
	char *err = NULL;

	(void)state;
	text_train_defaults(&o);
	o.hash_bits = 12;
	text_dataset_add(d, "only one", "a");
	text_dataset_add(d, "label here", "a");
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_ENOLABELS);
	assert_null(m);
	free(err);
	err = NULL;
	o.hash_bits = 40;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_EINVAL);
	free(err);
	text_dataset_free(d);
}

/* Noisy synthetic data large enough for a held-out share: calibration runs. */
static void test_training_calibrates_on_held_out_rows(void **state)
{
	static const char *const topic[3][4] = {
		{ "refund", "invoice", "charged", "payment" },
		{ "password", "login", "profile", "locked" },
		{ "crash", "error", "outage", "timeout" },
	};
	static const char *const names[3] = { "billing", "account", "technical" };
	static const char *const filler[6] = { "please", "help", "my", "the", "today", "again" };
	struct text_dataset *d = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL;
	uint64_t x = 42;
	size_t i;
	char *err = NULL;

	(void)state;
	for (i = 0; i < 900; i++) {
		size_t l = i % 3, other = (l + 1 + (i / 3) % 2) % 3;
		char *s;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		/* one in five rows carries a word of another topic only: label noise */
		s = fl_asprintf("%s %s %s %zu", filler[(x >> 33) % 6],
				(x >> 40) % 5 ? topic[l][(x >> 20) % 4] : topic[other][(x >> 20) % 4],
				filler[(x >> 50) % 6], i);
		text_dataset_add(d, s, names[l]);
		free(s);
	}
	text_train_defaults(&o);
	o.hash_bits = 14;
	o.epochs = 5;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_true(fl_json_int(text_model_info(m), "held_out", 0) >= 30);
	assert_true(fl_json_num(text_model_info(m), "held_out_accuracy", 0) > 0.6);
	/* calibrated confidence is close to accuracy on the held-out rows */
	assert_true(fl_json_num(text_model_info(m), "held_out_ece", 1) < 0.15);
	text_model_free(m);
	text_dataset_free(d);
}

/*
 * Rated rows (a synthetic valence: each word's value summed, like a mean
 * human rating) in a JSON-lines file: the regression head learns the
 * rating, survives save and load, and evaluation reports its Pearson r.
 */
static void test_score_head_learns_ratings(void **state)
{
	static const char *const words[8] = { "awful", "bad", "poor", "fine", "okay", "good", "great", "superb" };
	static const double value[8] = { -3, -1.5, -1, 0, 0.5, 1.5, 2, 3 };
	static const char *const filler[5] = { "the", "service", "was", "and", "product" };
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/rated.jsonl", dir), *mpath = fl_asprintf("%s/r.model", dir);
	char *err = NULL;
	struct text_dataset *d = text_dataset_new(), *t = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL, *m2 = NULL;
	double *x = fl_calloc(200, sizeof(*x)), *y = fl_calloc(200, sizeof(*y)), p1[3], p2[3], h1, h2;
	uint64_t r = 7;
	size_t i, k = 0;
	FILE *f = fopen(path, "w");
	json_t *res;

	(void)state;
	assert_non_null(f);
	for (i = 0; i < 1200; i++) {
		size_t a, b;
		double sc;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		a = (r >> 33) % 8;
		b = (r >> 45) % 8;
		sc = value[a] + value[b];
		fprintf(f, "{\"text\": \"%s %s %s %s %zu\", \"label\": \"%s\", \"score\": %.2f}\n",
			filler[(r >> 20) % 5], words[a], filler[(r >> 25) % 5], words[b], i,
			sc < -0.5 ? "negative" : sc > 0.5 ? "positive" : "neutral", sc);
	}
	fclose(f);
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_OK);
	text_train_defaults(&o);
	o.hash_bits = 14;
	o.epochs = 8;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_true(text_model_has_score(m));
	assert_true(fl_json_num(json_object_get(text_model_info(m), "score"), "held_out_pearson_r", 0) > 0.8);
	assert_int_equal(text_model_save(m, mpath, &err), TEXT_OK);
	assert_int_equal(text_model_load(mpath, &m2, &err), TEXT_OK);
	assert_true(text_model_has_score(m2));
	/* unseen pairs: the head predicts their rating */
	for (i = 0; i < 64; i++) {
		char *s = fl_asprintf("%s it was %s", words[i % 8], words[i / 8]);

		text_model_predict_score(m, s, p1, &h1);
		text_model_predict_score(m2, s, p2, &h2);
		assert_true(fabs(h1 - h2) < 1e-9);
		assert_true(fabs(p1[0] - p2[0]) < 1e-12);
		/* the blended score stays in -1..1 */
		assert_true(fabs(text_model_score(m, p1, h1)) <= 1.0);
		x[k] = h1;
		y[k++] = value[i % 8] + value[i / 8];
		text_dataset_add(t, s, "neutral");
		free(s);
	}
	assert_true(text_pearson(x, y, k) > 0.85);
	/* without the head: NAN, and the score is the valence of the probabilities */
	text_model_free(m);
	m = NULL;
	o.score_head = false;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_false(text_model_has_score(m));
	text_model_predict_score(m, "good and great", p1, &h1);
	assert_true(isnan(h1));
	assert_true(text_model_score(m, p1, h1) > 0);
	/* evaluation on rated rows reports the head and the valence apart */
	res = text_evaluate(m2, d, NULL);
	assert_true(fl_json_num(res, "pearson_r", 0) > 0.8);
	assert_non_null(json_object_get(res, "pearson_r_head"));
	assert_non_null(json_object_get(res, "pearson_r_valence"));
	json_decref(res);
	text_model_free(m);
	text_model_free(m2);
	text_dataset_free(d);
	text_dataset_free(t);
	free(x);
	free(y);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
	free(mpath);
}

/*
 * head_only rows: the classifier is exactly what it is without them; the
 * regression head learns them (their class's mean score as the target).
 */
static void test_head_only_rows_teach_the_head_only(void **state)
{
	static const char *const pos[4] = { "lovely", "brilliant", "splendid", "superb" };
	static const char *const neg[4] = { "awful", "dreadful", "terrible", "horrid" };
	static const char *const novel[2][3] = { { "yay", "woot", "stoked" }, { "meh", "ugh", "bleh" } };
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/rows.jsonl", dir), *err = NULL;
	struct text_dataset *d = text_dataset_new(), *d2 = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL, *m2 = NULL;
	double p1[3], p2[3], h1, h2, hy, hn;
	uint64_t r = 11;
	size_t i, l;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	for (i = 0; i < 600; i++) {
		bool good = i % 2;
		double sc;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		sc = good ? 1.5 + (double)((r >> 40) % 10) / 10 : -1.5 - (double)((r >> 40) % 10) / 10;
		fprintf(f, "{\"text\": \"it was %s %zu\", \"label\": \"%s\", \"score\": %.1f}\n",
			good ? pos[(r >> 33) % 4] : neg[(r >> 33) % 4], i, good ? "positive" : "negative", sc);
	}
	fclose(f);
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_OK);
	/* the same rows, and words the rated rows never have, labelled but head_only */
	f = fopen(path, "a");
	for (i = 0; i < 600; i++)
		fprintf(f, "{\"text\": \"so %s %zu\", \"label\": \"%s\", \"head_only\": true}\n",
			novel[i % 2][(i / 2) % 3], i, i % 2 ? "negative" : "positive");
	/* a head_only row with a class the classifier never sees */
	fprintf(f, "{\"text\": \"whatever\", \"label\": \"neutral\", \"head_only\": true}\n");
	fclose(f);
	assert_int_equal(text_dataset_load_jsonl(d2, path, &err), TEXT_OK);
	assert_int_equal(text_dataset_size(d2), 1201);
	assert_false(text_dataset_head_only(d2, 599));
	assert_true(text_dataset_head_only(d2, 600));
	text_train_defaults(&o);
	o.hash_bits = 14;
	o.epochs = 6;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_int_equal(text_train(d2, &o, &m2, &err), TEXT_OK);
	assert_true(text_model_has_score(m2));
	/* the classifier's probabilities do not move (labels are sorted: negative, positive[, neutral]) */
	for (i = 0; i < 8; i++) {
		char *s2 = fl_asprintf("it was %s", i < 4 ? pos[i] : neg[i - 4]);

		text_model_predict_score(m, s2, p1, &h1);
		text_model_predict_score(m2, s2, p2, &h2);
		for (l = 0; l < 2; l++)
			assert_true(fabs(p1[text_model_label_index(m, text_model_label(m, l))] -
					 p2[text_model_label_index(m2, text_model_label(m, l))]) < 1e-6);
		free(s2);
	}
	/* the head has learnt the head_only words, the classifier has not */
	text_model_predict_score(m2, "so woot", p2, &hy);
	text_model_predict_score(m2, "so ugh", p2, &hn);
	assert_true(hy > hn + 1.0);
	text_model_predict_score(m, "so woot", p1, &hy);
	text_model_predict_score(m, "so ugh", p1, &hn);
	assert_true(fabs(hy - hn) < 0.2);
	/* the head's share was fitted on rated and class rows together */
	assert_non_null(json_object_get(json_object_get(text_model_info(m2), "score"),
					"held_out_pearson_r_blend_class"));
	text_model_free(m);
	text_model_free(m2);
	m = NULL;
	/* every row head_only: nothing for the classifier */
	f = fopen(path, "w");
	fprintf(f, "{\"text\": \"a\", \"label\": \"x\", \"head_only\": true}\n"
		   "{\"text\": \"b\", \"label\": \"y\", \"head_only\": true}\n");
	fclose(f);
	text_dataset_free(d);
	d = text_dataset_new();
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_OK);
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_EINVAL);
	assert_non_null(strstr(err, "head_only"));
	free(err);
	err = NULL;
	/* head_only must be a boolean */
	f = fopen(path, "w");
	fprintf(f, "{\"text\": \"a\", \"label\": \"x\", \"head_only\": 1}\n");
	fclose(f);
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_EDATA);
	assert_non_null(strstr(err, "line 1"));
	free(err);
	text_dataset_free(d);
	text_dataset_free(d2);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
}

/*
 * Row weights: rows whose label the annotators doubted (here: the same words
 * under the opposite label) count for less; weight 0 rows teach nothing, and
 * a bad weight names its line.
 */
static double weighted_p_positive(const char *rows_path, double noisy_weight)
{
	static const char *const words[4] = { "fine", "smooth", "quick", "easy" };
	struct text_dataset *d = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL;
	char *err = NULL;
	double p[2];
	size_t i;
	FILE *f = fopen(rows_path, "w");

	assert_non_null(f);
	for (i = 0; i < 400; i++) {
		const char *w = words[i % 4];

		/* 200 clean rows each way, then the doubted rows: the same phrases labelled negative */
		if (i < 200)
			fprintf(f, "{\"text\": \"it went %s %zu\", \"label\": \"positive\"}\n", w, i);
		else
			fprintf(f, "{\"text\": \"it broke %zu\", \"label\": \"negative\"}\n", i);
	}
	for (i = 0; i < 300; i++)
		fprintf(f, "{\"text\": \"it went %s %zu\", \"label\": \"negative\", \"weight\": %g}\n",
			words[i % 4], 1000 + i, noisy_weight);
	fclose(f);
	assert_int_equal(text_dataset_load_jsonl(d, rows_path, &err), TEXT_OK);
	assert_true(fabs(text_dataset_weight(d, 0) - 1.0) < 1e-12);
	assert_true(fabs(text_dataset_weight(d, 699) - noisy_weight) < 1e-12);
	text_train_defaults(&o);
	o.hash_bits = 14;
	o.epochs = 8;
	o.holdout = 0;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	text_model_predict(m, "it went smooth", p);
	text_dataset_free(d);
	i = text_model_label_index(m, "positive");
	text_model_free(m);
	return p[i];
}

static void test_row_weights_discount_doubted_labels(void **state)
{
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/rows.jsonl", dir), *err = NULL;
	double full = weighted_p_positive(path, 1.0), low = weighted_p_positive(path, 0.1),
	       none = weighted_p_positive(path, 0.0);
	struct text_dataset *d = text_dataset_new();
	static const char *const bad[] = { "-0.5", "\"1\"", "null", "true" };
	size_t i;
	FILE *f;

	(void)state;
	/* at full weight the doubted rows outnumber the clean ones; discounted, the clean ones win */
	assert_true(full < 0.5);
	assert_true(low > 0.8);
	assert_true(none > low);
	for (i = 0; i < FL_ARRAY_SIZE(bad); i++) {
		f = fopen(path, "w");
		fprintf(f, "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\", \"weight\": %s}\n",
			bad[i]);
		fclose(f);
		assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_EDATA);
		assert_non_null(strstr(err, "line 2"));
		assert_non_null(strstr(err, "\"weight\": number >= 0"));
		free(err);
		err = NULL;
	}
	text_dataset_free(d);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
}

/* Two members (words, characters): probabilities averaged, saved and read back. */
static void test_ensemble_round_trip(void **state)
{
	struct text_dataset *d = text_dataset_new(), *t = text_dataset_new();
	struct text_train_opts o;
	struct text_model *m = NULL, *m2 = NULL, *single = NULL;
	char *path = fixture("train.jsonl"), *tp = fixture("test.jsonl"), *err = NULL;
	char *dir = test_tmpdir(), *mpath = fl_asprintf("%s/e.model", dir), *buf;
	double p1[3], p2[3];
	size_t i, right = 0, differ = 0;
	FILE *f;
	long n;

	(void)state;
	assert_int_equal(text_dataset_load_jsonl(d, path, &err), TEXT_OK);
	assert_int_equal(text_dataset_load_jsonl(t, tp, &err), TEXT_OK);
	text_train_defaults(&o);
	o.hash_bits = 16;
	assert_int_equal(text_train(d, &o, &single, &err), TEXT_OK);
	o.ensemble = true;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_OK);
	assert_int_equal(json_array_size(json_object_get(text_model_info(m), "ensemble")), 2);
	assert_int_equal(text_model_save(m, mpath, &err), TEXT_OK);
	assert_int_equal(text_model_load(mpath, &m2, &err), TEXT_OK);
	for (i = 0; i < text_dataset_size(t); i++) {
		int b1 = text_model_predict(m, text_dataset_text(t, i), p1);
		int b2 = text_model_predict(m2, text_dataset_text(t, i), p2);
		size_t l;

		assert_int_equal(b1, b2);
		assert_true(fabs(p1[0] + p1[1] + p1[2] - 1.0) < 1e-9);
		for (l = 0; l < 3; l++)
			assert_true(fabs(p1[l] - p2[l]) < 1e-12);
		right += !strcmp(text_model_label(m, (size_t)b1), text_dataset_label(t, i));
		text_model_predict(single, text_dataset_text(t, i), p2);
		differ += fabs(p1[0] - p2[0]) > 1e-6;
	}
	assert_true(right >= 9);
	assert_true(differ > 0); /* not the single model under another name */
	/* a truncated second member is a malformed file */
	f = fopen(mpath, "rb");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = fl_malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	write_file(mpath, buf, (size_t)n - 3);
	text_model_free(m2);
	m2 = NULL;
	assert_int_equal(text_model_load(mpath, &m2, &err), TEXT_EFORMAT);
	assert_null(m2);
	free(err);
	err = NULL;
	free(buf);
	/* an ensemble needs both feature kinds */
	text_model_free(m);
	m = NULL;
	o.char_min = 0;
	assert_int_equal(text_train(d, &o, &m, &err), TEXT_EINVAL);
	assert_null(m);
	free(err);
	text_model_free(single);
	text_dataset_free(d);
	text_dataset_free(t);
	test_tmpdir_remove(dir);
	free(dir);
	free(mpath);
	free(path);
	free(tp);
}

static void test_evaluate_counts_and_metrics(void **state)
{
	struct text_model *m = train_fixture();
	struct text_dataset *t = text_dataset_new();
	struct text_eval_opts eo = { "nothing", 1.0, false, false };
	char *tp = fixture("test.jsonl"), *err = NULL;
	json_t *r, *matrix;
	double probs[3];
	size_t i, j, sum = 0, right = 0;

	(void)state;
	assert_int_equal(text_dataset_load_jsonl(t, tp, &err), TEXT_OK);
	r = text_evaluate(m, t, NULL);
	assert_int_equal(fl_json_int(r, "n", 0), 12);
	for (i = 0; i < 12; i++)
		right += !strcmp(text_model_label(m, (size_t)text_model_predict(m, text_dataset_text(t, i), probs)),
				 text_dataset_label(t, i));
	assert_true(fabs(fl_json_num(r, "accuracy", -1) - (double)right / 12.0) < 1e-9);
	assert_non_null(json_object_get(json_object_get(r, "labels"), "billing"));
	assert_true(json_is_number(json_object_get(json_object_get(json_object_get(r, "labels"), "account"), "f1")));
	matrix = json_object_get(json_object_get(r, "confusion"), "matrix");
	for (i = 0; i < json_array_size(matrix); i++)
		for (j = 0; j < json_array_size(json_array_get(matrix, i)); j++)
			sum += (size_t)json_integer_value(json_array_get(json_array_get(matrix, i), j));
	assert_int_equal(sum, 12);
	json_decref(r);
	/* a threshold above every confidence routes everything to the reject label */
	r = text_evaluate(m, t, &eo);
	assert_true(fl_json_num(r, "accuracy", -1) == 0.0);
	assert_true(fl_json_num(r, "in_scope_accuracy", -1) == 0.0);
	json_decref(r);
	assert_true(fabs(text_pearson((double[]){ 1, 2, 3 }, (double[]){ 2, 4, 6.5 }, 3) - 0.9986) < 1e-3);
	assert_true(isnan(text_pearson((double[]){ 1, 1 }, (double[]){ 2, 3 }, 2)));
	/* rank correlations: one swapped pair of four; ties in one variable (tau-b: 2 / sqrt(3 * 2)) */
	assert_true(fabs(text_spearman((double[]){ 1, 2, 3, 4 }, (double[]){ 1, 3, 2, 4 }, 4) - 0.8) < 1e-9);
	assert_true(fabs(text_kendall_tau_b((double[]){ 1, 2, 3, 4 }, (double[]){ 1, 3, 2, 4 }, 4) - 4.0 / 6.0) < 1e-9);
	assert_true(fabs(text_kendall_tau_b((double[]){ 1, 1, 2 }, (double[]){ 1, 2, 3 }, 3) - 2 / sqrt(6)) < 1e-9);
	/* tied rows share their mean rank: x's ranks 1.5, 1.5, 3 against 1, 2, 3 */
	assert_true(fabs(text_spearman((double[]){ 1, 1, 2 }, (double[]){ 1, 2, 3 }, 3) - 1.5 / sqrt(3)) < 1e-9);
	assert_true(isnan(text_kendall_tau_b((double[]){ 1, 1 }, (double[]){ 2, 2 }, 2)));
	assert_true(isnan(text_spearman((double[]){ 1 }, (double[]){ 2 }, 1)));
	text_model_free(m);
	text_dataset_free(t);
	free(tp);
}

static void test_lexicon_scoring_uses_cues(void **state)
{
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/lex.txt", dir), *err = NULL;
	const char *lex = "good\t1.9\t0.9\t[2, 2]\nbad\t-2.5\t0.5\t[-3, -2]\n:)\t2.0\t0\t[]\n";
	struct text_lexicon *lx = NULL;

	(void)state;
	write_file(path, lex, strlen(lex));
	assert_int_equal(text_lexicon_load(path, &lx, &err), TEXT_OK);
	assert_int_equal(text_lexicon_size(lx), 3);
	assert_true(text_lexicon_score(lx, "good") > 0.3);
	assert_true(text_lexicon_score(lx, "not good") < 0);
	assert_true(text_lexicon_score(lx, "very good") > text_lexicon_score(lx, "good"));
	assert_true(text_lexicon_score(lx, "it is GOOD") > text_lexicon_score(lx, "it is good"));
	assert_true(text_lexicon_score(lx, "good!!!") > text_lexicon_score(lx, "good"));
	assert_true(text_lexicon_score(lx, "good but bad") < 0);
	assert_true(text_lexicon_score(lx, "thanks :)") > 0);
	assert_true(text_lexicon_score(lx, "nothing here") == 0);
	text_lexicon_free(lx);
	write_file(path, "no tabs\n", 8);
	assert_int_equal(text_lexicon_load(path, &lx, &err), TEXT_EDATA);
	free(err);
	test_tmpdir_remove(dir);
	free(dir);
	free(path);
}

static struct text_sentiment *shipped_sentiment(void)
{
	char *dir = test_source_path("data/models"), *err = NULL;
	struct text_sentiment *s = NULL;

	if (text_sentiment_open(dir, &s, &err))
		fail_msg("cannot open the shipped models: %s", err);
	free(dir);
	return s;
}

static void test_sentiment_object_has_the_design_fields(void **state)
{
	struct text_sentiment *s = shipped_sentiment();
	json_t *r = text_sentiment_analyze(s, "Thanks, that works.", NULL);
	const char *lvl = fl_json_str(r, "sentiment", "");

	(void)state;
	assert_true(!strcmp(lvl, "very_negative") || !strcmp(lvl, "negative") || !strcmp(lvl, "neutral") ||
		    !strcmp(lvl, "positive") || !strcmp(lvl, "very_positive"));
	assert_true(fl_json_num(r, "confidence", -1) > 0 && fl_json_num(r, "confidence", 2) <= 1);
	assert_true(json_is_array(json_object_get(r, "emotional_indicators")));
	assert_non_null(json_object_get(r, "recommended_approach"));
	assert_true(fl_json_num(r, "score", -2) >= -1 && fl_json_num(r, "score", 2) <= 1);
	assert_string_equal(fl_json_str(r, "urgency", ""), "low");
	json_decref(r);
	text_sentiment_free(s);
}

static bool has_indicator(const json_t *r, const char *name)
{
	const json_t *a = json_object_get(r, "emotional_indicators");
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (!strcmp(json_string_value(json_array_get(a, i)), name))
			return true;
	return false;
}

static void test_sentiment_levels_and_urgency(void **state)
{
	struct text_sentiment *s = shipped_sentiment();
	json_t *meta = json_pack("{s:b}", "urgent_flag", 1), *r;

	(void)state;
	r = text_sentiment_analyze(s, "This is the worst, most useless service I have ever paid for. Awful.", NULL);
	assert_true(fl_json_num(r, "score", 1) < -0.2);
	assert_non_null(strstr(fl_json_str(r, "sentiment", ""), "negative"));
	assert_non_null(strstr(fl_json_str(r, "recommended_approach", ""), "empathetic"));
	json_decref(r);

	r = text_sentiment_analyze(s, "Wonderful support, thank you so much, I love this product!", NULL);
	assert_true(fl_json_num(r, "score", -1) > 0.2);
	assert_non_null(strstr(fl_json_str(r, "sentiment", ""), "positive"));
	assert_true(has_indicator(r, "grateful") || has_indicator(r, "satisfied"));
	json_decref(r);

	/* deadline + outage words make it urgent even without metadata */
	r = text_sentiment_analyze(s, "Our production server is down and we need it fixed ASAP", NULL);
	assert_string_equal(fl_json_str(r, "urgency", ""), "high");
	assert_true(has_indicator(r, "urgent"));
	json_decref(r);

	/* the urgent flag alone */
	r = text_sentiment_analyze(s, "Could you look at my ticket when you can?", meta);
	assert_string_equal(fl_json_str(r, "urgency", ""), "high");
	json_decref(r);

	/* negation and shouting are counted as cues */
	r = text_sentiment_analyze(s, "The password reset is NOT WORKING!!! I still can't log in", NULL);
	assert_true(fl_json_int(json_object_get(r, "cues"), "negations", 0) >= 2);
	assert_true(fl_json_int(json_object_get(r, "cues"), "exclamations", 0) == 3);
	assert_true(fl_json_num(r, "score", 1) < 0);
	assert_string_equal(fl_json_str(r, "urgency", ""), "high");
	json_decref(r);

	r = text_sentiment_analyze(s, "I want to speak to a human right now", NULL);
	assert_true(fl_json_bool(json_object_get(r, "cues"), "human_requested", false));
	json_decref(r);
	json_decref(meta);
	text_sentiment_free(s);
}

/*
 * Polite requests about a problem are not praise, whatever their "please"
 * and "thanks"; short social-media text (elongation, "!!!", emoticons,
 * @mentions, emoji) reads the way a person reads it. None of these
 * sentences is a training row.
 */
static void test_sentiment_polite_complaints_and_social_text(void **state)
{
	static const char *const not_positive[] = {
		"Please refund my duplicate charge.",
		"Please refund my duplicate charge, thanks.",
		"Could you please fix the broken sync? Thanks.",
		"Hi, I was charged twice for my subscription. Please refund one of the charges.",
		"Kindly look into why my invoice is wrong. Thank you.",
		/* faults in a formal e-mail's courteous frame */
		"Dear Support, my tablet overheats and the screen flickers since the update. I would appreciate your "
		"assistance. Kind regards, Ben",
		"Hello, our team cannot open any attachments in the portal this week. Thank you in advance for looking "
		"into it. Best regards, Julia",
		"Dear Sir or Madam, I hope you are well. I am writing because the scanner we bought last month no longer "
		"connects to our network. I would be grateful if you could advise. Yours faithfully, Paul",
		"Hi there, I hope this email finds you well. Unfortunately our nightly import has been failing with a "
		"timeout since the weekend. Your support would be highly appreciated. Best, Lena",
	};
	static const char *const negative[] = {
		"This is sooo bad!!! :(",
		"@acme my parcel is a week late and nobody answers :(",
		"worst update ever 😡",
		"Ugh, the app crashed AGAIN and I lost my work",
	};
	static const char *const positive[] = {
		"Thank you so much, that fixed it!",
		"love the new dashboard 😍",
		"@acme you guys rock, sorted in 5 minutes :)",
		"Dear Support, thank you for fixing our login problem so quickly yesterday, everything works again. "
		"Best regards, Felix",
	};
	struct text_sentiment *s = shipped_sentiment();
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(not_positive); i++) {
		json_t *r = text_sentiment_analyze(s, not_positive[i], NULL);

		if (strstr(fl_json_str(r, "sentiment", ""), "positive"))
			fail_msg("'%s': %s (score %.2f), want neutral or negative", not_positive[i],
				 fl_json_str(r, "sentiment", ""), fl_json_num(r, "score", 0));
		json_decref(r);
	}
	for (i = 0; i < FL_ARRAY_SIZE(negative); i++) {
		json_t *r = text_sentiment_analyze(s, negative[i], NULL);

		if (!strstr(fl_json_str(r, "sentiment", ""), "negative") || fl_json_num(r, "score", 0) >= 0)
			fail_msg("'%s': %s (score %.2f), want negative", negative[i], fl_json_str(r, "sentiment", ""),
				 fl_json_num(r, "score", 0));
		json_decref(r);
	}
	for (i = 0; i < FL_ARRAY_SIZE(positive); i++) {
		json_t *r = text_sentiment_analyze(s, positive[i], NULL);

		if (!strstr(fl_json_str(r, "sentiment", ""), "positive") || fl_json_num(r, "score", 0) <= 0)
			fail_msg("'%s': %s (score %.2f), want positive", positive[i], fl_json_str(r, "sentiment", ""),
				 fl_json_num(r, "score", 0));
		json_decref(r);
	}
	text_sentiment_free(s);
}

static void test_sentiment_open_errors(void **state)
{
	struct text_sentiment *s = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(text_sentiment_open("/nonexistent", &s, &err), TEXT_ENOMODEL);
	assert_null(s);
	assert_non_null(strstr(err, "sentiment.model"));
	free(err);
	text_sentiment_free(NULL);
}

struct thread_job {
	const struct text_model *m;
	const struct text_sentiment *s;
	const char *const *texts;
	size_t n;
	int best[8];
	char *sentiment[8];
};

static void *thread_run(void *arg)
{
	struct thread_job *j = arg;
	double probs[8];
	size_t i, round;

	for (round = 0; round < 20; round++)
		for (i = 0; i < j->n; i++) {
			json_t *r = text_sentiment_analyze(j->s, j->texts[i], NULL);

			j->best[i] = text_model_predict(j->m, j->texts[i], probs);
			free(j->sentiment[i]);
			j->sentiment[i] = fl_json_dumps(r);
			json_decref(r);
		}
	return NULL;
}

/* Models and the analyzer are shared by threads; each thread gets its own stemmer. */
static void test_predictions_are_thread_safe_and_deterministic(void **state)
{
	static const char *const texts[] = {
		"I was charged twice, please refund me", "The app crashes on start!!!",
		"How do I change my password?", "Thanks, works great now :)",
	};
	struct text_model *m = train_fixture();
	struct text_sentiment *s = shipped_sentiment();
	struct thread_job jobs[4], ref;
	pthread_t th[4];
	size_t i, k;

	(void)state;
	memset(&ref, 0, sizeof(ref));
	ref.m = m;
	ref.s = s;
	ref.texts = texts;
	ref.n = FL_ARRAY_SIZE(texts);
	thread_run(&ref);
	for (i = 0; i < 4; i++) {
		jobs[i] = ref;
		memset(jobs[i].sentiment, 0, sizeof(jobs[i].sentiment));
		assert_int_equal(pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		for (k = 0; k < ref.n; k++) {
			assert_int_equal(jobs[i].best[k], ref.best[k]);
			assert_string_equal(jobs[i].sentiment[k], ref.sentiment[k]);
			free(jobs[i].sentiment[k]);
		}
	}
	for (k = 0; k < ref.n; k++)
		free(ref.sentiment[k]);
	text_sentiment_free(s);
	text_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_predict_save_load_round_trip),
		cmocka_unit_test(test_shared_analysis_gives_the_same_predictions),
		cmocka_unit_test(test_model_load_errors),
		cmocka_unit_test(test_dataset_errors_name_the_line),
		cmocka_unit_test(test_train_needs_two_labels),
		cmocka_unit_test(test_training_calibrates_on_held_out_rows),
		cmocka_unit_test(test_score_head_learns_ratings),
		cmocka_unit_test(test_head_only_rows_teach_the_head_only),
		cmocka_unit_test(test_row_weights_discount_doubted_labels),
		cmocka_unit_test(test_ensemble_round_trip),
		cmocka_unit_test(test_evaluate_counts_and_metrics),
		cmocka_unit_test(test_lexicon_scoring_uses_cues),
		cmocka_unit_test(test_sentiment_object_has_the_design_fields),
		cmocka_unit_test(test_sentiment_levels_and_urgency),
		cmocka_unit_test(test_sentiment_polite_complaints_and_social_text),
		cmocka_unit_test(test_sentiment_open_errors),
		cmocka_unit_test(test_predictions_are_thread_safe_and_deterministic),
	};

	return cmocka_run_group_tests_name("text_model", tests, NULL, NULL);
}
