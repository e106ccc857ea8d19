/*
 * The knowledge base: importing Markdown and JSONL articles (and their
 * errors), adding, replacing and removing, searching (result shape, relevance
 * range, field weights, synonyms, FTS5 syntax in queries), threads, a file
 * index and the bundled articles. Queries of several parts, languages and the
 * evaluation harness are in test_kb_query.c; the fixture is kb_fixture.c.
 */
#include "test_helpers.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kb/kb.h"
#include "kb/kb_int.h"
#include "kb_fixture.h"

static const char *first_id(struct kb *kb, const char *q, char **hold)
{
	char *ids = kbfx_search_ids(kb, q, 5);

	ids[strcspn(ids, " ")] = '\0';
	*hold = ids;
	return ids;
}

/* ---- import ---- */

static void test_kb_import_markdown_reads_front_matter_and_body(void **state)
{
	struct kbfx *f = *state;
	char *path = kbfx_write_file(f->dir, "reset.md",
				"---\n"
				"id: kb_900\n"
				"title: \"How to: Reset\"\n"
				"category: account\n"
				"tags: [password, login, 401]\n"
				"views: 15420\n"
				"helpful_votes: 1243\n"
				"---\n"
				"\n"
				"1. Click **Forgot Password**.\n"
				"2. Follow the link.\n\n");
	json_t *arts = NULL, *a;
	char *err = NULL;

	assert_int_equal(kb_import_path(path, &arts, &err), KB_OK);
	assert_null(err);
	assert_int_equal(json_array_size(arts), 1);
	a = json_array_get(arts, 0);
	assert_string_equal(fl_json_str(a, "id", ""), "kb_900");
	assert_string_equal(fl_json_str(a, "title", ""), "How to: Reset");
	assert_string_equal(fl_json_str(a, "category", ""), "account");
	assert_int_equal(json_array_size(json_object_get(a, "tags")), 3);
	/* a number in a tag list is still a tag */
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "tags"), 2)), "401");
	assert_int_equal(fl_json_int(a, "views", 0), 15420);
	assert_int_equal(fl_json_int(a, "helpful_votes", 0), 1243);
	assert_string_equal(fl_json_str(a, "content", ""),
			    "1. Click **Forgot Password**.\n2. Follow the link.");
	json_decref(arts);
	free(path);
}

static void expect_import_error(const char *dir, const char *name, const char *text, int code,
				const char *needle)
{
	char *path = kbfx_write_file(dir, name, text);
	json_t *arts = NULL;
	char *err = NULL;

	assert_int_equal(kb_import_path(path, &arts, &err), code);
	assert_null(arts);
	assert_non_null(err);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	free(err);
	remove(path);
	free(path);
}

static void test_kb_import_markdown_errors_name_file_and_line(void **state)
{
	struct kbfx *f = *state;

	expect_import_error(f->dir, "a.md", "# Title\n\nno front matter\n", KB_EPARSE, "a.md:1: no front matter");
	expect_import_error(f->dir, "b.md", "---\nid: x\ntitle: y\n", KB_EPARSE, "b.md:1: front matter is not closed");
	expect_import_error(f->dir, "c.md", "---\nid: x\ntitle: [unclosed\n---\nbody\n", KB_EPARSE,
			    "c.md:");
	expect_import_error(f->dir, "d.md", "---\ntitle: no id here\n---\nbody\n", KB_EPARSE,
			    "d.md:1: article 'id' must be a non-empty string");
	expect_import_error(f->dir, "e.md", "---\nid: e\ntitle: t\ntags: {a: 1}\n---\nbody\n", KB_EPARSE,
			    "'tags' must be an array of strings");
	expect_import_error(f->dir, "f.md", "---\n- just\n- a list\n---\nbody\n", KB_EPARSE,
			    "f.md:2: front matter must be a mapping");
	expect_import_error(f->dir, "g.txt", "hello", KB_EIO, "not a directory, nor a .md");
}

/*
 * Found by tests/fuzz/fuzz_jsonl: an alias inside its own anchor
 * ("d: &a [*a, *a]") or a few nested ones expanded into billions of values
 * (2 GB and counting). No value is repeated through an alias.
 */
static void test_kb_import_markdown_refuses_yaml_aliases(void **state)
{
	struct kbfx *f = *state;

	expect_import_error(f->dir, "a.md", "---\nid: a\ntitle: t\ntags: &t [x, y]\nkeywords: *t\n---\nbody\n",
			    KB_EPARSE, "a.md:2: front matter must not repeat a value through an alias");
	expect_import_error(f->dir, "b.md", "---\nid: b\ntitle: t\nd: &a [x, *a, *a]\n---\nbody\n", KB_EPARSE,
			    "b.md:2: front matter must not repeat");
	expect_import_error(f->dir, "c.md",
			    "---\nid: c\ntitle: t\na: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n---\nbody\n",
			    KB_EPARSE, "c.md:2: front matter must not repeat");
}

static void test_kb_import_markdown_yaml_error_has_its_line(void **state)
{
	struct kbfx *f = *state;

	/* the bad line is the file's line 4 */
	expect_import_error(f->dir, "y.md", "---\nid: y\ntitle: t\nx: : :\n---\nbody\n",
			    KB_EPARSE, "y.md:4: invalid front matter: mapping values are not allowed");
}

static void test_kb_import_jsonl_normalises_fields(void **state)
{
	struct kbfx *f = *state;
	char *path = kbfx_write_file(f->dir, "a.jsonl",
				"{\"id\": \"j1\", \"title\": \"T1\", \"answers\": [\"first\", \"second\"]}\n"
				"\n"
				"{\"id\": \"j2\", \"title\": \"T2\", \"body\": \"the body\", \"tags\": \"a, b ,c\"}\n");
	json_t *arts = NULL;
	char *err = NULL;

	assert_int_equal(kb_import_path(path, &arts, &err), KB_OK);
	assert_int_equal(json_array_size(arts), 2);
	assert_string_equal(fl_json_str(json_array_get(arts, 0), "content", ""), "first\n\nsecond");
	assert_string_equal(fl_json_str(json_array_get(arts, 1), "content", ""), "the body");
	assert_int_equal(json_array_size(json_object_get(json_array_get(arts, 1), "tags")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(arts, 1), "tags"), 1)), "b");
	json_decref(arts);
	free(path);
}

static void test_kb_import_jsonl_errors_name_the_line(void **state)
{
	struct kbfx *f = *state;

	expect_import_error(f->dir, "bad.jsonl", "{\"id\": \"1\", \"title\": \"t\"}\n\n{\"id\": \n", KB_EPARSE,
			    "bad.jsonl:3: invalid JSON");
	expect_import_error(f->dir, "notitle.jsonl", "{\"id\": \"1\", \"title\": \"t\"}\n{\"id\": \"2\"}\n",
			    KB_EPARSE, "notitle.jsonl:2: article 'title'");
	expect_import_error(f->dir, "arr.jsonl", "[1, 2]\n", KB_EPARSE, "arr.jsonl:1: an article must be a JSON object");
	expect_import_error(f->dir, "dup.jsonl", "{\"id\": \"1\", \"title\": \"t\"}\n{\"id\": \"1\", \"title\": \"u\"}\n",
			    KB_EPARSE, "dup.jsonl:2: duplicate article id '1' (first at ");
}

static void test_kb_import_directory_in_name_order(void **state)
{
	struct kbfx *f = *state;
	char *sub = fl_asprintf("%s/kb", f->dir), *p[3];
	json_t *arts = NULL;
	char *err = NULL;

	assert_int_equal(mkdir(sub, 0700), 0);
	p[0] = kbfx_write_file(sub, "b.md", "---\nid: b\ntitle: B\n---\nbee\n");
	p[1] = kbfx_write_file(sub, "a.jsonl", "{\"id\": \"a\", \"title\": \"A\", \"content\": \"ay\"}\n");
	p[2] = kbfx_write_file(sub, "README.txt", "not an article");
	assert_int_equal(kb_import_path(sub, &arts, &err), KB_OK);
	assert_int_equal(json_array_size(arts), 2);
	assert_string_equal(fl_json_str(json_array_get(arts, 0), "id", ""), "a");
	assert_string_equal(fl_json_str(json_array_get(arts, 1), "id", ""), "b");
	json_decref(arts);
	free(kbfx_write_file(sub, "c.md", "---\nid: a\ntitle: again\n---\n"));
	assert_int_equal(kb_import_path(sub, &arts, &err), KB_EPARSE);
	assert_non_null(strstr(err, "c.md:1: duplicate article id 'a' (first at "));
	assert_non_null(strstr(err, "a.jsonl:1)"));
	free(err);
	for (int i = 0; i < 3; i++)
		free(p[i]);
	free(sub);
	sub = fl_asprintf("%s/no-such-dir", f->dir);
	assert_int_equal(kb_import_path(sub, &arts, &err), KB_EIO);
	assert_non_null(strstr(err, "cannot open '"));
	assert_non_null(strstr(err, "no-such-dir': No such file or directory"));
	free(err);
	free(sub);
}

/* The articles shipped in data/kb: at least 40, the five categories, the seed's four. */
static void test_kb_bundled_articles_cover_the_categories_and_seed(void **state)
{
	char *dir = test_source_path("data/kb");
	const char *cats[] = { "technical", "billing", "account", "product", "general" };
	const char *seed[][3] = {
		{ "kb_001", "How to Reset Your Password", "account" },
		{ "kb_002", "Common Billing Issues and Solutions", "billing" },
		{ "kb_003", "Troubleshooting Connection Issues", "technical" },
		{ "kb_004", "Product Features and Usage Guide", "product" },
	};
	json_t *arts = NULL, *a;
	size_t counts[5] = { 0 }, i, c;
	char *err = NULL;

	(void)state;
	if (kb_import_path(dir, &arts, &err) != KB_OK)
		fail_msg("%s", err);
	assert_true(json_array_size(arts) >= 40);
	json_array_foreach(arts, i, a) {
		const char *cat = fl_json_str(a, "category", "");

		for (c = 0; c < 5; c++)
			counts[c] += !strcmp(cat, cats[c]);
		if (!strstr(fl_json_str(a, "content", ""), "\n1. "))
			fail_msg("article %s has no numbered steps", fl_json_str(a, "id", ""));
		assert_true(json_array_size(json_object_get(a, "tags")) >= 3);
		assert_true(fl_json_int(a, "views", 0) > 0);
		assert_true(fl_json_int(a, "helpful_votes", 0) > 0);
	}
	for (c = 0; c < 5; c++)
		if (counts[c] < 5)
			fail_msg("only %zu '%s' articles", counts[c], cats[c]);
	for (c = 0; c < 4; c++) {
		bool found = false;

		json_array_foreach(arts, i, a)
			if (!strcmp(fl_json_str(a, "id", ""), seed[c][0])) {
				found = true;
				assert_string_equal(fl_json_str(a, "title", ""), seed[c][1]);
				assert_string_equal(fl_json_str(a, "category", ""), seed[c][2]);
			}
		assert_true(found);
	}
	json_decref(arts);
	free(dir);
}

/* ---- the index ---- */

static void test_kb_add_replace_remove_and_count(void **state)
{
	struct kbfx *f = *state;
	json_t *got = NULL, *bad;
	char *err = NULL, *ids;

	assert_int_equal(kb_count(f->kb), 0);
	kbfx_add(f->kb, "a", "Reset your password", "Use the forgot password link", "[\"password\"]");
	kbfx_add(f->kb, "b", "Download invoices", "Open billing and download the PDF", NULL);
	assert_int_equal(kb_count(f->kb), 2);
	/* replace: same id, new text; the old words leave the index */
	kbfx_add(f->kb, "a", "Change your avatar", "Upload a new picture in your profile", NULL);
	assert_int_equal(kb_count(f->kb), 2);
	ids = kbfx_search_ids(f->kb, "password", 5);
	assert_string_equal(ids, "");
	free(ids);
	ids = kbfx_search_ids(f->kb, "avatar picture", 5);
	assert_string_equal(ids, "a");
	free(ids);
	assert_int_equal(kb_get(f->kb, "a", &got), KB_OK);
	assert_string_equal(fl_json_str(got, "title", ""), "Change your avatar");
	json_decref(got);
	assert_int_equal(kb_remove(f->kb, "a"), KB_OK);
	assert_int_equal(kb_remove(f->kb, "a"), KB_ENOTFOUND);
	assert_int_equal(kb_get(f->kb, "a", &got), KB_ENOTFOUND);
	assert_null(got);
	assert_int_equal(kb_count(f->kb), 1);
	ids = kbfx_search_ids(f->kb, "avatar", 5);
	assert_string_equal(ids, "");
	free(ids);
	/* malformed articles are refused, with a reason from kb_article_check */
	bad = json_pack("{s:s}", "title", "no id");
	assert_int_equal(kb_add(f->kb, bad), KB_EINVAL);
	assert_int_equal(kb_article_check(bad, &err), KB_EINVAL);
	assert_non_null(strstr(err, "'id'"));
	free(err);
	json_decref(bad);
	bad = json_pack("{s:s, s:s, s:i}", "id", "x", "title", "t", "tags", 3);
	assert_int_equal(kb_add(f->kb, bad), KB_EINVAL);
	json_decref(bad);
	/* kb_add_many is all or nothing */
	bad = json_pack("[{s:s, s:s}, {s:s}]", "id", "ok", "title", "fine", "id", "broken");
	assert_int_equal(kb_add_many(f->kb, bad), KB_EINVAL);
	assert_int_equal(kb_count(f->kb), 1);
	json_decref(bad);
	assert_int_equal(kb_clear(f->kb), KB_OK);
	assert_int_equal(kb_count(f->kb), 0);
}

static void test_kb_search_result_shape_and_relevance_range(void **state)
{
	struct kbfx *f = *state;
	json_t *res = NULL, *a, *arts;
	double prev = 1e300;
	size_t i;

	kbfx_add(f->kb, "kb_001", "How to Reset Your Password", "1. Click Forgot Password. 2. Check your email.",
	         "[\"password\", \"login\"]");
	kbfx_add(f->kb, "kb_002", "Billing issues", "Declined payments, refunds and invoices.", "[\"billing\"]");
	kbfx_add(f->kb, "kb_003", "Connection problems",
		 "Clear the cache, reset the router, check the password of the wifi.", NULL);
	assert_int_equal(kb_search(f->kb, "I forgot my password and cannot reset it", 0, &res), KB_OK);
	assert_string_equal(fl_json_str(res, "query", ""), "I forgot my password and cannot reset it");
	arts = json_object_get(res, "articles");
	assert_int_equal(fl_json_int(res, "articles_found", -1), (int64_t)json_array_size(arts));
	assert_true(json_array_size(arts) >= 2);
	assert_true(json_is_real(json_object_get(res, "search_time")));
	assert_true(fl_json_num(res, "search_time", -1) >= 0);
	assert_string_equal(fl_json_str(json_array_get(arts, 0), "id", ""), "kb_001");
	json_array_foreach(arts, i, a) {
		double r = fl_json_num(a, "relevance_score", -1);

		assert_non_null(fl_json_str(a, "title", NULL));
		assert_non_null(fl_json_str(a, "content", NULL));
		assert_non_null(fl_json_str(a, "category", NULL));
		assert_true(r >= 0 && r <= 1);
		assert_true(fl_json_num(a, "score", -1) <= prev);
		prev = fl_json_num(a, "score", -1);
	}
	/* monotone: the better article has the higher relevance */
	assert_true(fl_json_num(json_array_get(arts, 0), "relevance_score", 0) >=
		    fl_json_num(json_array_get(arts, 1), "relevance_score", 0));
	/* a title that restates the query is (close to) a perfect match */
	json_decref(res);
	assert_int_equal(kb_search(f->kb, "reset password", 5, &res), KB_OK);
	assert_true(fl_json_num(json_array_get(json_object_get(res, "articles"), 0), "relevance_score", 0) > 0.6);
	json_decref(res);
	/* limit, and queries with nothing to search */
	assert_int_equal(kb_search(f->kb, "password", 1, &res), KB_OK);
	assert_int_equal(json_array_size(json_object_get(res, "articles")), 1);
	json_decref(res);
	assert_int_equal(kb_search(f->kb, "  ?!  ", 5, &res), KB_OK);
	assert_int_equal(fl_json_int(res, "articles_found", -1), 0);
	json_decref(res);
	assert_int_equal(kb_search(f->kb, "zebra quokka", 5, &res), KB_OK);
	assert_int_equal(fl_json_int(res, "articles_found", -1), 0);
	json_decref(res);
	assert_int_equal(kb_search(f->kb, NULL, 5, &res), KB_EINVAL);
	assert_null(res);
}

/* The first result's title and tags (joined by ','), or "" (caller frees). */
static char *first_title_tags(struct kb *kb, const char *q)
{
	json_t *res = NULL, *a, *t;
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	assert_int_equal(kb_search(kb, q, 5, &res), KB_OK);
	a = json_array_get(json_object_get(res, "articles"), 0);
	if (a) {
		fl_buf_adds(&b, fl_json_str(a, "title", "?"));
		json_array_foreach(json_object_get(a, "tags"), i, t)
			fl_buf_addf(&b, "%s%s", i ? "," : " | ", json_string_value(t));
	}
	json_decref(res);
	return fl_buf_detach(&b, NULL);
}

/*
 * Results come from the handle's article cache once an article has been
 * returned: a replaced article's new title and tags, a removed article's
 * absence and a cleared index are seen by the next search, and the cache
 * lets go of the rows that are gone.
 */
static void test_kb_search_results_follow_replaced_and_removed_articles(void **state)
{
	struct kbfx *f = *state;
	char *s;
	json_t *res = NULL;

	kbfx_add(f->kb, "a", "Router lights blinking", "Unplug the router for ten seconds.", "[\"router\", \"wifi\"]");
	kbfx_add(f->kb, "b", "Invoices by email", "Invoices arrive each month.", NULL);
	for (int i = 0; i < 2; i++) { /* the second search reads the cache */
		s = first_title_tags(f->kb, "router blinking");
		assert_string_equal(s, "Router lights blinking | router,wifi");
		free(s);
	}
	assert_int_equal(kb__artcache_count(f->kb), 1);
	kbfx_add(f->kb, "a", "Router lights blinking orange", "Reset the router.", "[\"modem\"]");
	assert_int_equal(kb__artcache_count(f->kb), 0);
	s = first_title_tags(f->kb, "router blinking");
	assert_string_equal(s, "Router lights blinking orange | modem");
	free(s);
	/* the body is new too */
	assert_int_equal(kb_search(f->kb, "router blinking", 5, &res), KB_OK);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(res, "articles"), 0), "content", ""),
			    "Reset the router.");
	json_decref(res);
	s = first_title_tags(f->kb, "invoices email");
	assert_string_equal(s, "Invoices by email");
	free(s);
	assert_int_equal(kb__artcache_count(f->kb), 2);
	assert_int_equal(kb_remove(f->kb, "a"), KB_OK);
	assert_int_equal(kb__artcache_count(f->kb), 1);
	s = first_title_tags(f->kb, "router blinking");
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(kb_clear(f->kb), KB_OK);
	assert_int_equal(kb__artcache_count(f->kb), 0);
	s = first_title_tags(f->kb, "invoices email");
	assert_string_equal(s, "");
	free(s);
	/* the same id added again after a clear */
	kbfx_add(f->kb, "b", "Invoices by post", "Paper invoices.", "[\"paper\"]");
	s = first_title_tags(f->kb, "invoices");
	assert_string_equal(s, "Invoices by post | paper");
	free(s);
}

/* A search's articles with their scores, as text (caller frees). */
static char *search_scores(struct kb *kb, const char *q)
{
	json_t *res = NULL, *a;
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	assert_int_equal(kb_search(kb, q, 10, &res), KB_OK);
	json_array_foreach(json_object_get(res, "articles"), i, a)
		fl_buf_addf(&b, "%s=%.4f/%.4f ", fl_json_str(a, "id", "?"), fl_json_num(a, "score", -1),
			    fl_json_num(a, "relevance_score", -1));
	json_decref(res);
	return fl_buf_detach(&b, NULL);
}

/*
 * Once the connection's df cache knows them, phrases in no article and the
 * customer's multi-word forms whose words are primaries are left out of the
 * MATCH expression: the scores must be the same as when FTS5 saw them all
 * (the first search of a query after a write).
 */
static void test_kb_search_leaving_phrases_out_keeps_scores(void **state)
{
	struct kbfx *f = *state;
	const char *q = "I cannot sign in after I turn on two-factor and my pwd is locked out of the account";
	struct kb_qplan *plan;
	char *cold, *warm;

	kbfx_add(f->kb, "login", "Cannot sign in", "Check caps lock. To sign in again, reset the password.", "[\"login\"]");
	kbfx_add(f->kb, "2fa", "Two-factor authentication", "Turn on two-factor in settings, then scan the code.", NULL);
	kbfx_add(f->kb, "lock", "Locked out of your account", "After five failed attempts the account is locked out.",
	         "[\"account\", \"security\"]");
	kbfx_add(f->kb, "bill", "Invoices", "Invoices are sent each month.", NULL);
	cold = search_scores(f->kb, q); /* every phrase goes to FTS5 */
	assert_true(strlen(cold) > 0);
	warm = search_scores(f->kb, q);
	assert_string_equal(warm, cold);
	/* the second search did leave phrases out, of both kinds */
	plan = f->kb->pool[0].plan;
	assert_non_null(plan);
	assert_true(plan->omitted[KB_OMIT_ABSENT] > 0);
	assert_true(plan->omitted[KB_OMIT_REDUNDANT] > 0);
	free(warm);
	/* a write empties the cache: the next search is cold again, and still the same */
	kbfx_add(f->kb, "bill", "Invoices", "Invoices are sent each month.", NULL);
	warm = search_scores(f->kb, q);
	assert_int_equal(plan->omitted[KB_OMIT_ABSENT] + plan->omitted[KB_OMIT_REDUNDANT], 0);
	assert_string_equal(warm, cold);
	free(warm);
	free(cold);
}

static void test_kb_search_survives_fts5_syntax_in_queries(void **state)
{
	struct kbfx *f = *state;
	const char *queries[] = {
		"password AND NOT \"billing", "reset* OR (password", "title:password NEAR(a b)",
		"\"\"\"", "^password -billing +x", "NOT", "passw\xc3\xb6rd \xf0\x9f\x98\x80 :)",
		"\xff\xfe broken utf-8 password",
	};
	json_t *res;
	size_t i;

	kbfx_add(f->kb, "p", "Reset your password", "Forgot password link", NULL);
	for (i = 0; i < FL_ARRAY_SIZE(queries); i++) {
		res = NULL;
		assert_int_equal(kb_search(f->kb, queries[i], 5, &res), KB_OK);
		assert_non_null(res);
		json_decref(res);
	}
}

static void test_kb_search_field_weights_title_over_tags_over_body(void **state)
{
	struct kbfx *f = *state;
	char *hold;

	kbfx_add(f->kb, "body", "Getting started", "Everything about invoices and more words to make the body longer", NULL);
	kbfx_add(f->kb, "tags", "Getting going", "Some other words to make the body about as long as the others",
		 "[\"invoices\"]");
	kbfx_add(f->kb, "title", "Invoices", "Some other words to make the body about as long as the others again", NULL);
	assert_string_equal(first_id(f->kb, "invoices", &hold), "title");
	free(hold);
	assert_int_equal(kb_remove(f->kb, "title"), KB_OK);
	assert_string_equal(first_id(f->kb, "invoices", &hold), "tags");
	free(hold);
}

static void test_kb_search_expands_synonyms_and_abbreviations(void **state)
{
	struct kbfx *f = *state;
	struct kb_params p;
	const char *pairs[][2] = {
		{ "I lost my pwd", "pw" },
		{ "how do I set up 2FA", "2fa" },
		{ "I want my money back", "refund" },
		{ "cannot sign in", "login" },
		{ "the page will not load, is there an outage", "status" },
	};
	char *hold, *ids;
	size_t i;

	kbfx_add(f->kb, "pw", "Resetting a forgotten password", "Use the reset link we email to you.", NULL);
	kbfx_add(f->kb, "2fa", "Two-factor authentication", "Scan the QR code with an authenticator app.", NULL);
	kbfx_add(f->kb, "refund", "Refunds", "Refunds take 5-7 business days to reach your card.", NULL);
	kbfx_add(f->kb, "login", "Login problems", "Check caps lock and your keyboard layout.", NULL);
	kbfx_add(f->kb, "status", "Service status", "Downtime and incidents are posted on the status page.", NULL);
	for (i = 0; i < FL_ARRAY_SIZE(pairs); i++) {
		if (strcmp(first_id(f->kb, pairs[i][0], &hold), pairs[i][1]))
			fail_msg("'%s' found '%s', expected '%s'", pairs[i][0], hold, pairs[i][1]);
		free(hold);
	}
	/* without the table, none of these words are in the articles */
	kb_params_default(&p);
	p.synonyms = false;
	kb_set_params(f->kb, &p);
	ids = kbfx_search_ids(f->kb, "pwd money back 2fa", 5);
	assert_string_equal(ids, "");
	free(ids);
}

/*
 * A long ticket covers a short title's words by chance: "sign in" fills the
 * title "Signing in", while the ticket is about changing its email address. Its
 * title boost shrinks with the query's concepts (title_concepts); a short
 * query keeps the whole boost, so its scores are those without the rule.
 */
static void test_kb_search_title_boost_shrinks_for_long_queries(void **state)
{
	struct kbfx *f = *state;
	struct kb_params p;
	const char *ticket = "i got married and my surname changed, so my company gave me a new work address with "
			     "my new name. what do i do so that i sign in with the new address from now on";
	char *hold, *on, *off;

	kbfx_add(f->kb, "signin", "Signing in", "Sign in with your work email and your password on the sign-in page.",
		 NULL);
	kbfx_add(f->kb, "email", "Changing your email address or username",
		 "Open your profile, click change next to your email address, enter the new address and confirm it "
		 "from the message we send there.", NULL);
	kbfx_add(f->kb, "other", "Exporting your data", "Export projects as CSV from the settings page.", NULL);
	assert_string_equal(first_id(f->kb, ticket, &hold), "email");
	free(hold);
	on = kbfx_search_ids(f->kb, "sign in", 5);
	kb_params_default(&p);
	p.title_concepts = 0;
	kb_set_params(f->kb, &p);
	assert_string_equal(first_id(f->kb, ticket, &hold), "signin");
	free(hold);
	off = kbfx_search_ids(f->kb, "sign in", 5);
	assert_string_equal(on, off);
	free(on);
	free(off);
}

/* On a large index only articles with a selective word are scored; their scores do not change. */
static void test_kb_search_pruning_keeps_scores(void **state)
{
	struct kbfx *f = *state;
	struct kb_params p;
	json_t *full = NULL, *pruned = NULL;
	char id[16];

	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "acc%d", i);
		kbfx_add(f->kb, id, "Account settings", "Your account and its settings", NULL);
	}
	kbfx_add(f->kb, "target", "Change your avatar", "Upload a new avatar in your account settings", NULL);
	assert_int_equal(kb_search(f->kb, "account avatar", 20, &full), KB_OK);
	kb_params_default(&p);
	p.prune_above = 1;
	p.prune_df = 0.2;
	kb_set_params(f->kb, &p);
	assert_int_equal(kb_search(f->kb, "account avatar", 20, &pruned), KB_OK);
	assert_int_equal(json_array_size(json_object_get(full, "articles")), 11);
	assert_int_equal(json_array_size(json_object_get(pruned, "articles")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(pruned, "articles"), 0), "id", ""), "target");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(full, "articles"), 0), "id", ""), "target");
	assert_true(fl_json_num(json_array_get(json_object_get(pruned, "articles"), 0), "score", 0) ==
		    fl_json_num(json_array_get(json_object_get(full, "articles"), 0), "score", -1));
	json_decref(full);
	json_decref(pruned);
	/* only common words: every match is scored */
	assert_int_equal(kb_search(f->kb, "account settings", 20, &pruned), KB_OK);
	assert_int_equal(json_array_size(json_object_get(pruned, "articles")), 11);
	json_decref(pruned);
}

static void test_kb_params_set_parses_and_refuses(void **state)
{
	struct kb_params p;
	char *err = NULL;

	(void)state;
	kb_params_default(&p);
	assert_int_equal(kb_params_set(&p, "k1=2.5", &err), KB_OK);
	assert_true(p.k1 == 2.5);
	assert_int_equal(kb_params_set(&p, "synonyms=false", &err), KB_OK);
	assert_false(p.synonyms);
	assert_int_equal(kb_params_set(&p, "nope=1", &err), KB_EINVAL);
	assert_non_null(strstr(err, "unknown parameter 'nope'"));
	free(err);
	assert_int_equal(kb_params_set(&p, "k1=-1", &err), KB_EINVAL);
	assert_non_null(strstr(err, "invalid value"));
	free(err);
	assert_int_equal(kb_params_set(&p, "k1", &err), KB_EINVAL);
	free(err);
	assert_string_equal(kb_strerror(KB_ENOTFOUND), "not found");
	assert_string_equal(kb_errname(KB_EPARSE), "KB_EPARSE");
	assert_string_equal(kb_strerror(999), "unknown error");
}

/* ---- threads ---- */

struct worker {
	struct kb *kb;
	int id, failures;
};

static void *search_worker(void *arg)
{
	struct worker *w = arg;
	const char *qs[] = { "reset password", "refund invoice", "connection vpn", "dark mode" };

	for (int i = 0; i < 150; i++) {
		json_t *res = NULL;

		if (kb_search(w->kb, qs[(i + w->id) % 4], 3, &res) != KB_OK ||
		    !json_is_array(json_object_get(res, "articles")))
			w->failures++;
		json_decref(res);
	}
	return NULL;
}

static void *write_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 60; i++) {
		char id[32];
		json_t *a;

		snprintf(id, sizeof(id), "tmp_%d", i % 7);
		a = kbfx_article(id, "Temporary article about password resets", "reset password refund", NULL);
		if (kb_add(w->kb, a) != KB_OK)
			w->failures++;
		json_decref(a);
		if (i % 3 == 2 && kb_remove(w->kb, id) != KB_OK)
			w->failures++;
	}
	return NULL;
}

static void test_kb_search_from_several_threads_while_writing(void **state)
{
	struct kbfx *f = *state;
	pthread_t th[5];
	struct worker w[5];
	int i;

	kbfx_add(f->kb, "a", "Reset your password", "Forgot password link", NULL);
	kbfx_add(f->kb, "b", "Refunds and invoices", "Refund takes a week", NULL);
	kbfx_add(f->kb, "c", "Connection problems", "Disable your VPN", NULL);
	kbfx_add(f->kb, "d", "Dark mode", "Appearance settings", NULL);
	for (i = 0; i < 5; i++) {
		w[i] = (struct worker){ f->kb, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, i == 4 ? write_worker : search_worker, &w[i]), 0);
	}
	for (i = 0; i < 5; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	/* the writer left tmp_0..tmp_6 in a known state: count matches the rows */
	{
		size_t n = 0;
		json_t *got;
		char id[32];

		for (i = 0; i < 7; i++) {
			snprintf(id, sizeof(id), "tmp_%d", i);
			if (kb_get(f->kb, id, &got) == KB_OK) {
				n++;
				json_decref(got);
			}
		}
		assert_int_equal(kb_count(f->kb), 4 + n);
	}
}

static void test_kb_file_index_keeps_articles(void **state)
{
	struct kbfx *f = *state;
	char *path = fl_asprintf("%s/index.db", f->dir), *err = NULL, *ids, *bad;
	struct kb *kb = NULL;

	assert_int_equal(kb_open(path, &kb, &err), KB_OK);
	kbfx_add(kb, "a", "Reset your password", "Forgot password link", NULL);
	kbfx_add(kb, "b", "Refunds", "Money back in a week", NULL);
	kb_close(kb);
	assert_int_equal(kb_open(path, &kb, &err), KB_OK);
	assert_int_equal(kb_count(kb), 2);
	ids = kbfx_search_ids(kb, "forgot password", 5);
	assert_string_equal(ids, "a");
	free(ids);
	kb_close(kb);
	/* a path whose parent is a file, not a directory */
	free(path);
	path = kbfx_write_file(f->dir, "plain", "x");
	bad = fl_asprintf("%s/index.db", path);
	assert_int_equal(kb_open(bad, &kb, &err), KB_ESQL);
	assert_null(kb);
	assert_non_null(strstr(err, "cannot open knowledge-base index '"));
	assert_non_null(strstr(err, "plain/index.db'"));
	free(err);
	free(bad);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, kbfx_setup, kbfx_teardown)
		T(test_kb_import_markdown_reads_front_matter_and_body),
		T(test_kb_import_markdown_errors_name_file_and_line),
		T(test_kb_import_markdown_yaml_error_has_its_line),
		T(test_kb_import_markdown_refuses_yaml_aliases),
		T(test_kb_import_jsonl_normalises_fields),
		T(test_kb_import_jsonl_errors_name_the_line),
		T(test_kb_import_directory_in_name_order),
		T(test_kb_bundled_articles_cover_the_categories_and_seed),
		T(test_kb_add_replace_remove_and_count),
		T(test_kb_search_result_shape_and_relevance_range),
		T(test_kb_search_results_follow_replaced_and_removed_articles),
		T(test_kb_search_leaving_phrases_out_keeps_scores),
		T(test_kb_search_survives_fts5_syntax_in_queries),
		T(test_kb_search_field_weights_title_over_tags_over_body),
		T(test_kb_search_expands_synonyms_and_abbreviations),
		T(test_kb_search_title_boost_shrinks_for_long_queries),
		T(test_kb_search_pruning_keeps_scores),
		T(test_kb_params_set_parses_and_refuses),
		T(test_kb_search_from_several_threads_while_writing),
		T(test_kb_file_index_keeps_articles),
#undef T
	};

	return cmocka_run_group_tests_name("kb", tests, NULL, NULL);
}
