/*
 * Tests of the article model (src/support/learned.c): it agrees with the
 * search only on the article it was trained for (id and title), with enough
 * probability and over the relevance floor; without the model nothing
 * changes, a bad model file is an error at start-up, and a ticket the
 * hand-set measures hold is answered when the model agrees (and held by the
 * same measures without it); the model's last word holds a ticket it reads
 * as a kind a person answers (thanks, anger, an outage, ...: not the kinds
 * told by structure) or whose article it names otherwise with confidence
 * (another article, none, or any kind a person answers).
 * Models trained here on a few rows; the
 * bundled category, sentiment, emotion and spam models; the bundled KB in a
 * real SQLite store.
 */
#include <stdio.h>
#include <unistd.h>

#include "test_helpers.h"
#include "support_fixture.h"
#include "support/support_int.h"
#include "text/text.h"

#define FILES_TITLE "File Uploads Fail or Attachments Are Missing"
#define RESET "kb_001", "How to Reset Your Password"

/* A models directory: the bundled models but articles.model, which is written from rows or raw bytes. */
static char *models_dir(const char *const *rows, const char *raw)
{
	static const char *const bundled[] = { "category", "sentiment", "emotion", "spam" };
	char *dir = test_tmpdir(), *path, *err = NULL;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(bundled); i++) {
		char *rel = fl_asprintf("data/models/%s.model", bundled[i]), *src = test_source_path(rel);

		path = fl_asprintf("%s/%s.model", dir, bundled[i]);
		assert_int_equal(symlink(src, path), 0);
		free(path);
		free(src);
		free(rel);
	}
	path = fl_asprintf("%s/articles.model", dir);
	if (rows) {
		struct text_dataset *d = text_dataset_new();
		struct text_train_opts o;
		struct text_model *m = NULL;
		int k;

		text_train_defaults(&o);
		/* each row (text, label) five times: a few rows must still make a confident model */
		for (k = 0; k < 5; k++)
			for (i = 0; rows[i]; i += 2)
				text_dataset_add(d, rows[i], rows[i + 1]);
		if (text_train(d, &o, &m, &err) != TEXT_OK || text_model_save(m, path, &err) != TEXT_OK)
			fail_msg("articles model: %s", err);
		text_model_free(m);
		text_dataset_free(d);
	} else if (raw) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(raw, f);
		fclose(f);
	}
	free(path);
	return dir;
}

static const char *const rows[] = {
	"someone removed a file from our task, can i restore it", "kb_029|" FILES_TITLE,
	"a colleague deleted an attachment by mistake, how do i get it back", "kb_029|" FILES_TITLE,
	"the pdf on the card is gone, is there a way to recover the attachment", "kb_029|" FILES_TITLE,
	"how do i get back in, forgot my password", "kb_001|How to Reset Your Password",
	"cannot remember my password, how do i make a new one", "kb_001|How to Reset Your Password",
	"need a new password, the old one is lost", "kb_001|How to Reset Your Password",
	"do you have a gantt chart view", "none",
	"can i pay you in bitcoin", "none",
	"is there a linux desktop app", "none",
	NULL,
};

/* The rows above, and kinds a person answers: thanks (held for its words) and several issues (not). */
static const char *const hold_rows[] = {
	"someone removed a file from our task, can i restore it", "kb_029|" FILES_TITLE,
	"a colleague deleted an attachment by mistake, how do i get it back", "kb_029|" FILES_TITLE,
	"how do i get back in, forgot my password", "kb_001|How to Reset Your Password",
	"cannot remember my password, how do i make a new one", "kb_001|How to Reset Your Password",
	"do you have a gantt chart view", "none",
	"thank you so much, that fixed it, you are wonderful", SUPPORT_LEARNED_HOLD "praise_only",
	"many thanks for the quick help yesterday, all good now", SUPPORT_LEARNED_HOLD "praise_only",
	"the invoice is wrong and also the calendar sync stopped and the app crashes", SUPPORT_LEARNED_HOLD "multi_issue",
	"three things: billing address, a missing export, and the api limit", SUPPORT_LEARNED_HOLD "multi_issue",
	NULL,
};

/* Search results whose top article is (id, title) at this relevance. */
static json_t *results(const char *id, const char *title, double relevance)
{
	return json_pack("{s:[{s:s, s:s, s:f}]}", "articles", "id", id, "title", title, "relevance_score", relevance);
}

/* results(id, title, 0.3) with the model's reading of text in "learned". */
static json_t *read_with(const struct support_analyzer *a, const char *text, const char *id, const char *title)
{
	json_t *kbr = results(id, title, 0.3);

	json_object_set_new(kbr, "learned", support__learned_article(a, text, kbr));
	return kbr;
}

static void test_agrees_only_with_its_own_article(void **state)
{
	char *dir = models_dir(rows, NULL), *err = NULL;
	struct support_analyzer *a = NULL;
	const char *text = "someone deleted a file from a task, can i restore it";
	json_t *kbr, *l;

	(void)state;
	if (support_analyzer_open(dir, &a, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);

	kbr = results("kb_029", FILES_TITLE, 0.3);
	l = support__learned_article(a, text, kbr);
	assert_string_equal(fl_json_str(l, "article", ""), "kb_029");
	assert_true(fl_json_num(l, "probability", 0) >= SUPPORT_LEARNED_MIN_PROB);
	assert_true(fl_json_bool(l, "agrees", false));
	json_object_set_new(kbr, "learned", l);
	assert_true(support__learned_agrees(kbr));
	json_decref(kbr);

	/* the same id with another title: another knowledge base's article, or one renamed since training */
	kbr = results("kb_029", "Attachments", 0.3);
	l = support__learned_article(a, text, kbr);
	assert_false(fl_json_bool(l, "agrees", true));
	json_decref(l);
	json_decref(kbr);

	/* the search's top article is another one */
	kbr = results("kb_001", "How to Reset Your Password", 0.3);
	l = support__learned_article(a, text, kbr);
	assert_false(fl_json_bool(l, "agrees", true));
	json_decref(l);
	json_decref(kbr);

	/* agreement on an article the search hardly finds relevant does not count */
	kbr = results("kb_029", FILES_TITLE, SUPPORT_LEARNED_MIN_RELEVANCE / 2);
	json_object_set_new(kbr, "learned", support__learned_article(a, text, kbr));
	assert_true(fl_json_bool(json_object_get(kbr, "learned"), "agrees", false));
	assert_false(support__learned_agrees(kbr));
	json_decref(kbr);

	/* what no article answers is "none", and never agrees */
	kbr = results("kb_029", FILES_TITLE, 0.3);
	l = support__learned_article(a, "can i pay you in bitcoin", kbr);
	assert_string_equal(fl_json_str(l, "article", ""), "none");
	assert_false(fl_json_bool(l, "agrees", true));
	json_decref(l);
	json_decref(kbr);

	support_analyzer_free(a);
	test_tmpdir_remove(dir);
	free(dir);
}

static void test_holds_the_kinds_told_by_words(void **state)
{
	char *dir = models_dir(hold_rows, NULL), *err = NULL;
	struct support_analyzer *a = NULL;
	json_t *kbr;

	(void)state;
	if (support_analyzer_open(dir, &a, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);

	/* thanks: held, and the object says which kind and how likely; no article named */
	kbr = results("kb_001", "How to Reset Your Password", 0.3);
	assert_null(support__learned_hold(a, NULL, kbr)); /* no ticket to read, nothing learned yet */
	json_object_set_new(kbr, "learned", support__learned_article(a, "thank you so much, all good now", kbr));
	assert_string_equal(support__learned_hold(a, NULL, kbr), "praise_only");
	assert_string_equal(fl_json_str(json_object_get(kbr, "learned"), "article", ""), "none");
	assert_true(fl_json_num(json_object_get(json_object_get(kbr, "learned"), "hold"), "probability", 0) >=
		    SUPPORT_LEARNED_HOLD_PROB);
	assert_false(support__learned_agrees(kbr));
	json_decref(kbr);

	/* several issues are the structure's to tell: learned, never held for */
	kbr = read_with(a, "the invoice is wrong and also the app crashes", RESET);
	assert_null(support__learned_hold(a, NULL, kbr));
	json_decref(kbr);

	/* a question the model names an article for is not held */
	kbr = read_with(a, "a colleague deleted an attachment, can i restore it", "kb_029", FILES_TITLE);
	assert_null(support__learned_hold(a, NULL, kbr));
	assert_false(support__learned_disagrees(a, NULL, kbr));
	json_decref(kbr);

	/* ... unless the search's top article is another one, and the model is sure of its own */
	kbr = read_with(a, "a colleague deleted an attachment, can i restore it", RESET);
	assert_string_equal(fl_json_str(json_object_get(kbr, "learned"), "article", ""), "kb_029");
	assert_true(fl_json_num(json_object_get(kbr, "learned"), "probability", 0) >= SUPPORT_LEARNED_OTHER_PROB);
	assert_true(support__learned_disagrees(a, NULL, kbr));
	json_decref(kbr);

	/* no article, sure of it: disagrees too; a "none" it is not sure of does not */
	kbr = read_with(a, "do you have a gantt chart view", RESET);
	assert_string_equal(fl_json_str(json_object_get(kbr, "learned"), "article", ""), "none");
	assert_true(fl_json_num(json_object_get(kbr, "learned"), "probability", 0) >= SUPPORT_LEARNED_NONE_PROB);
	assert_true(support__learned_disagrees(a, NULL, kbr));
	json_object_set_new(json_object_get(kbr, "learned"), "probability", json_real(SUPPORT_LEARNED_NONE_PROB / 2));
	assert_false(support__learned_disagrees(a, NULL, kbr));
	json_decref(kbr);

	/* a kind a person answers as the best label, several issues too: "none" with the kind */
	kbr = read_with(a, "three things: billing address, a missing export, and the api limit", RESET);
	assert_string_equal(fl_json_str(json_object_get(kbr, "learned"), "article", ""), "none");
	assert_string_equal(fl_json_str(json_object_get(kbr, "learned"), "kind", ""), "multi_issue");
	assert_int_equal(support__learned_disagrees(a, NULL, kbr),
			 fl_json_num(json_object_get(kbr, "learned"), "probability", 0) >= SUPPORT_LEARNED_NONE_PROB);
	json_decref(kbr);

	support_analyzer_free(a);
	test_tmpdir_remove(dir);
	free(dir);
}

static void test_without_the_model_nothing_is_learned(void **state)
{
	char *dir = models_dir(NULL, NULL), *err = NULL;
	struct support_analyzer *a = NULL;
	json_t *kbr = results("kb_029", FILES_TITLE, 0.3);

	(void)state;
	if (support_analyzer_open(dir, &a, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);
	assert_null(support__learned_article(a, "someone deleted a file, can i restore it", kbr));
	assert_false(support__learned_agrees(kbr));
	json_decref(kbr);
	support_analyzer_free(a);
	test_tmpdir_remove(dir);
	free(dir);
}

static void test_a_bad_model_file_is_an_error(void **state)
{
	char *dir = models_dir(NULL, "not a model\n"), *err = NULL;
	struct support_analyzer *a = NULL;

	(void)state;
	assert_int_not_equal(support_analyzer_open(dir, &a, &err), SUPPORT_OK);
	assert_null(a);
	assert_non_null(strstr(err, "article model"));
	assert_non_null(strstr(err, "articles.model"));
	free(err);
	test_tmpdir_remove(dir);
	free(dir);
}

static int setup(void **state)
{
	return support_fx_setup(state, "learned.db?synchronous=off", false);
}

static int teardown(void **state)
{
	return support_fx_teardown(state);
}

/* Triages text with the fixture's context (its analyzer as set); o is the caller's to release. */
static void triage(struct fixture *f, const char *id, const char *text, struct support_outcome *o)
{
	json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}}", "id", id, "customer_id", "cust_l", "subject",
			      "file gone", "content", text, "channel", "chat", "metadata");

	if (support_process(&f->ctx, f->cs, t, o) != SUPPORT_OK)
		fail_msg("process '%s': %s", id, o->error);
	json_decref(t);
}

static void test_agreement_answers_what_the_measures_hold(void **state)
{
	struct fixture *f = *state;
	const char *text = "someone removed a file from a task yesterday, can i restore it";
	char *dir = models_dir(rows, NULL), *none = models_dir(NULL, NULL), *err = NULL;
	struct support_analyzer *with = NULL, *without = NULL;
	struct support_outcome o;
	const json_t *d;

	if (support_analyzer_open(dir, &with, &err) != SUPPORT_OK ||
	    support_analyzer_open(none, &without, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);

	/* without the model: the search finds the article, too weakly for the measures alone */
	f->ctx.analyzer = without;
	triage(f, "l1", text, &o);
	d = json_object_get(o.shared, "auto_reply");
	assert_false(fl_json_bool(d, "sent", true));
	assert_string_equal(fl_json_str(d, "reason", ""), "no_article");
	assert_null(json_object_get(json_object_get(d, "signals"), "learned"));
	support_outcome_release(&o);

	/* with it: the model names the search's top article: answered, and the reply cites it */
	f->ctx.analyzer = with;
	triage(f, "l2", text, &o);
	d = json_object_get(o.shared, "auto_reply");
	assert_true(fl_json_bool(d, "sent", false));
	assert_string_equal(fl_json_str(d, "reason", ""), "answered");
	assert_string_equal(fl_json_str(d, "article", ""), "kb_029");
	assert_true(fl_json_bool(json_object_get(json_object_get(d, "signals"), "learned"), "agrees", false));
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "auto_replied");
	support_outcome_release(&o);

	/* the earlier checks still come first: a staff action is held whatever the model says */
	triage(f, "l3", "please restore the file someone removed from our task yesterday for us", &o);
	assert_false(fl_json_bool(json_object_get(o.shared, "auto_reply"), "sent", true));
	support_outcome_release(&o);

	f->ctx.analyzer = f->analyzer;
	support_analyzer_free(with);
	support_analyzer_free(without);
	test_tmpdir_remove(dir);
	test_tmpdir_remove(none);
	free(dir);
	free(none);
}

/* A ticket the measures answer on their own is held when the model reads it otherwise. */
static void test_the_models_last_word_holds(void **state)
{
	struct fixture *f = *state;
	const char *text = "how do i reset my password? i forgot it and the login page does not accept the old one";
	static const char *const as_thanks[] = {
		"how do i reset my password, i forgot it", SUPPORT_LEARNED_HOLD "outage",
		"reset password forgot login page old one", SUPPORT_LEARNED_HOLD "outage",
		"someone removed a file from our task, can i restore it", "kb_029|" FILES_TITLE,
		"do you have a gantt chart view", "none",
		NULL,
	};
	static const char *const as_files[] = {
		"how do i reset my password, i forgot it", "kb_029|" FILES_TITLE,
		"reset password forgot login page old one", "kb_029|" FILES_TITLE,
		"do you have a gantt chart view", "none",
		"is there a linux desktop app", "none",
		NULL,
	};
	char *none = models_dir(NULL, NULL), *held = models_dir(as_thanks, NULL), *other = models_dir(as_files, NULL);
	struct support_analyzer *a[3] = { NULL, NULL, NULL };
	const char *const want[3] = { "answered", "reads_like_handoff", "model_disagrees" };
	char *dirs[3] = { none, held, other }, *err = NULL;
	struct support_outcome o;
	size_t i;

	for (i = 0; i < 3; i++) {
		char id[8];

		if (support_analyzer_open(dirs[i], &a[i], &err) != SUPPORT_OK)
			fail_msg("analyzer: %s", err);
		f->ctx.analyzer = a[i];
		snprintf(id, sizeof(id), "w%zu", i);
		triage(f, id, text, &o);
		assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "reason", ""), want[i]);
		assert_int_equal(fl_json_bool(json_object_get(o.shared, "auto_reply"), "sent", false), i == 0);
		support_outcome_release(&o);
	}
	f->ctx.analyzer = f->analyzer;
	for (i = 0; i < 3; i++) {
		support_analyzer_free(a[i]);
		test_tmpdir_remove(dirs[i]);
		free(dirs[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_only_with_its_own_article),
		cmocka_unit_test(test_holds_the_kinds_told_by_words),
		cmocka_unit_test(test_without_the_model_nothing_is_learned),
		cmocka_unit_test(test_a_bad_model_file_is_an_error),
		cmocka_unit_test_setup_teardown(test_agreement_answers_what_the_measures_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_models_last_word_holds, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
