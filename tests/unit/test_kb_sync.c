/*
 * The KB sync (issue 18): kb_sync_fetch (src/kb/sync.c), store_kb_sync
 * (src/store/kbsync.c) and service_kb_sync (src/service/kbsync.c) against a
 * help centre on 127.0.0.1 (the harness's http_receiver, answering each
 * path with the status and body a test sets), on SQLite and on
 * PostgreSQL. Two pages followed through next_page, HTML turned into text,
 * labels, sections and locales mapped, the bearer key sent; an update
 * rewrites only the changed article; an article that disappeared is
 * removed, articles of other sources never are; a failing server,
 * malformed JSON, a malformed item and a next_page loop leave the store
 * and the index as they were.
 */
#include "test_helpers.h"

#include <unistd.h>

#include "http_receiver.h"
#include "store_fixture.h"
#include "kb/kb.h"
#include "service/service.h"

/* Target path answers status and body; "%PORT%" in body becomes the server's port. */
static void hc_page(struct http_receiver *hc, const char *path, int status, const char *body)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p = body, *m;
	char *text;

	while ((m = strstr(p, "%PORT%"))) {
		fl_buf_add(&b, p, (size_t)(m - p));
		fl_buf_addf(&b, "%u", http_receiver_port(hc));
		p = m + 6;
	}
	fl_buf_adds(&b, p);
	text = fl_buf_detach(&b, NULL);
	http_receiver_page(hc, path, (unsigned)status, 0, text);
	free(text);
}

struct sync_fx {
	struct http_receiver *hc;
	struct kb *kb;
	char *url;
	struct kb_sync_opts o;
};

static struct sync_fx *sync_start(void)
{
	struct sync_fx *x = fl_calloc(1, sizeof(*x));
	char *err = NULL;

	x->hc = http_receiver_start();
	assert_non_null(x->hc);
	http_receiver_respond(x->hc, 404, 0);
	x->url = http_receiver_url(x->hc, "/api/v2/help_center/articles.json");
	x->o.url = x->url;
	x->o.key = "kb-secret";
	x->o.timeout_ms = 5000;
	assert_int_equal(kb_open(NULL, &x->kb, &err), KB_OK);
	return x;
}

static void sync_stop(struct sync_fx *x)
{
	http_receiver_stop(x->hc);
	kb_close(x->kb);
	free(x->url);
	free(x);
}

#define PAGE1 "/api/v2/help_center/articles.json"
#define PAGE2 "/api/v2/help_center/articles.json?page=2"

static const char page1[] =
	"{\"articles\": ["
	"{\"id\": 101, \"title\": \"Reset your password\", \"section_id\": 7, \"locale\": \"en-us\","
	" \"label_names\": [\"account\", \"password\"],"
	" \"body\": \"<h2>Steps</h2><p>Open <b>Settings</b> &amp; choose <i>Security</i>.</p>"
	"<ul><li>Click reset</li><li>Check your mail</li></ul><script>alert(1)</script>\"},"
	"{\"id\": \"102\", \"title\": \"Refund policy\", \"section_id\": 8, \"label_names\": [\"billing\"],"
	" \"body\": \"<p>Refunds within 30&nbsp;days.</p>\"},"
	"{\"id\": 103, \"title\": \"Draft article\", \"draft\": true, \"body\": \"<p>secret</p>\"}"
	"], \"next_page\": \"http://127.0.0.1:%PORT%" PAGE2 "\"}";

static const char page2[] =
	"{\"articles\": ["
	"{\"id\": 201, \"title\": \"Versand nach Deutschland\", \"section_id\": 9, \"locale\": \"de-de\","
	" \"label_names\": [], \"body\": \"<p>Der Versand dauert drei Tage.</p>\"}"
	"], \"next_page\": null}";

static json_t *sync_ok(struct fx *f, struct sync_fx *x)
{
	json_t *report = NULL;
	char *err = NULL;
	int rc = service_kb_sync(f->st, x->kb, &x->o, &report, &err);

	if (rc != SERVICE_OK)
		fail_msg("kb sync: %s: %s", service_errname(rc), err);
	return report;
}

/* The ids of the best kb_search hits for q, joined by ','. Caller frees. */
static char *hits(struct sync_fx *x, const char *q)
{
	struct fl_buf b = FL_BUF_INIT;
	json_t *res = NULL, *a;
	size_t i;

	assert_int_equal(kb_search(x->kb, q, 5, &res), KB_OK);
	json_array_foreach(json_object_get(res, "articles"), i, a)
		fl_buf_addf(&b, "%s%s", i ? "," : "", fl_json_str(a, "id", ""));
	json_decref(res);
	return b.buf ? fl_buf_detach(&b, NULL) : fl_strdup("");
}

/* kb_search's best hit for q is want. */
static void expect_top(struct sync_fx *x, const char *q, const char *want)
{
	char *ids = hits(x, q);

	if (strcmp(strtok(ids, ",") ? ids : "", want))
		fail_msg("'%s' finds '%s' first, not '%s'", q, ids, want);
	free(ids);
}

static void test_two_pages_are_imported_as_text(void **state)
{
	struct fx *f = *state;
	struct sync_fx *x = sync_start();
	json_t *report, *a = NULL, *last;
	const char *content;

	hc_page(x->hc, PAGE1, 200, page1);
	hc_page(x->hc, PAGE2, 200, page2);
	report = sync_ok(f, x);
	assert_int_equal(fl_json_int(report, "pages", 0), 2);
	assert_int_equal(fl_json_int(report, "articles", 0), 3);
	assert_int_equal(fl_json_int(report, "drafts", 0), 1);
	assert_int_equal(json_array_size(json_object_get(report, "created")), 3);
	assert_int_equal(http_receiver_count(x->hc), 2);
	last = http_receiver_last(x->hc);
	assert_string_equal(fl_json_str(json_object_get(last, "headers"), "authorization", ""), "Bearer kb-secret");
	json_decref(last);
	json_decref(report);

	assert_int_equal(store_kb_get(f->st, "101", &a), STORE_OK);
	content = fl_json_str(a, "content", "");
	assert_non_null(strstr(content, "Open Settings & choose Security."));
	assert_non_null(strstr(content, "- Click reset\n- Check your mail"));
	assert_null(strstr(content, "<"));
	assert_null(strstr(content, "alert"));
	assert_string_equal(fl_json_str(a, "category", ""), "section-7");
	assert_string_equal(fl_json_str(a, "language", ""), "en");
	assert_string_equal(fl_json_str(a, "source", ""), KB_SYNC_SOURCE);
	assert_int_equal(strlen(fl_json_str(a, "source_hash", "")), 32);
	assert_string_equal(json_string_value(json_array_get(json_object_get(a, "tags"), 1)), "password");
	json_decref(a);
	assert_int_equal(store_kb_get(f->st, "102", &a), STORE_OK);
	assert_string_equal(fl_json_str(a, "content", ""), "Refunds within 30 days.");
	json_decref(a);
	assert_int_equal(store_kb_get(f->st, "201", &a), STORE_OK);
	assert_string_equal(fl_json_str(a, "language", ""), "de");
	json_decref(a);
	assert_int_equal(store_kb_get(f->st, "103", &a), STORE_ENOTFOUND);

	/* the index follows: searchable at once */
	expect_top(x, "how do I reset my password", "101");
	sync_stop(x);
}

static void test_an_update_rewrites_only_the_changed_article(void **state)
{
	struct fx *f = *state;
	struct sync_fx *x = sync_start();
	json_t *report, *before = NULL, *after = NULL, *changed = NULL;

	hc_page(x->hc, PAGE1, 200, page1);
	hc_page(x->hc, PAGE2, 200, page2);
	json_decref(sync_ok(f, x));
	assert_int_equal(store_kb_get(f->st, "101", &before), STORE_OK);
	f->now += 60 * 1000000LL;
	/* 102's body changes; 101 and 201 stay as they were */
	hc_page(x->hc, PAGE1, 200,
		"{\"articles\": ["
		"{\"id\": 101, \"title\": \"Reset your password\", \"section_id\": 7, \"locale\": \"en-us\","
		" \"label_names\": [\"account\", \"password\"],"
		" \"body\": \"<h2>Steps</h2><p>Open <b>Settings</b> &amp; choose <i>Security</i>.</p>"
		"<ul><li>Click reset</li><li>Check your mail</li></ul><script>alert(1)</script>\"},"
		"{\"id\": \"102\", \"title\": \"Refund policy\", \"section_id\": 8, \"label_names\": [\"billing\"],"
		" \"body\": \"<p>Refunds within 60 days, paid back by bank transfer.</p>\"}"
		"], \"next_page\": \"http://127.0.0.1:%PORT%" PAGE2 "\"}");
	report = sync_ok(f, x);
	assert_int_equal(json_array_size(json_object_get(report, "created")), 0);
	assert_int_equal(json_array_size(json_object_get(report, "updated")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(report, "updated"), 0)), "102");
	assert_int_equal(fl_json_int(report, "unchanged", 0), 2);
	json_decref(report);
	/* the unchanged article was not written (its updated_at is the first run's) */
	assert_int_equal(store_kb_get(f->st, "101", &after), STORE_OK);
	assert_true(json_equal(before, after));
	assert_int_equal(store_kb_get(f->st, "102", &changed), STORE_OK);
	assert_non_null(strstr(fl_json_str(changed, "content", ""), "bank transfer"));
	expect_top(x, "refund by bank transfer", "102");
	json_decref(before);
	json_decref(after);
	json_decref(changed);
	sync_stop(x);
}

static void test_a_disappeared_article_is_removed_others_stay(void **state)
{
	struct fx *f = *state;
	struct sync_fx *x = sync_start();
	json_t *report, *a = NULL;
	json_t *local = json_pack("{s:s, s:s, s:s}", "id", "local-1", "title", "Shipping to Mars",
				  "content", "We do not ship to Mars yet.");
	json_t *clash = json_pack("{s:s, s:s, s:s}", "id", "201", "title", "Our own article",
				  "content", "Written here, not in the help centre.");
	char *ids;

	/* an article of our own, and one whose id the help centre also uses */
	assert_int_equal(store_kb_upsert(f->st, local), STORE_OK);
	assert_int_equal(store_kb_upsert(f->st, clash), STORE_OK);
	hc_page(x->hc, PAGE1, 200, page1);
	hc_page(x->hc, PAGE2, 200, page2);
	report = sync_ok(f, x);
	assert_int_equal(json_array_size(json_object_get(report, "created")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(report, "skipped"), 0)), "201");
	json_decref(report);
	assert_int_equal(store_kb_get(f->st, "201", &a), STORE_OK);
	assert_string_equal(fl_json_str(a, "title", ""), "Our own article");
	json_decref(a);

	/* 101 is gone from the help centre */
	hc_page(x->hc, PAGE1, 200,
		"{\"articles\": [{\"id\": \"102\", \"title\": \"Refund policy\", \"section_id\": 8,"
		" \"label_names\": [\"billing\"], \"body\": \"<p>Refunds within 30&nbsp;days.</p>\"}],"
		" \"next_page\": \"\"}");
	report = sync_ok(f, x);
	assert_int_equal(json_array_size(json_object_get(report, "removed")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(report, "removed"), 0)), "101");
	assert_int_equal(fl_json_int(report, "unchanged", 0), 1);
	json_decref(report);
	assert_int_equal(store_kb_get(f->st, "101", &a), STORE_ENOTFOUND);
	assert_int_equal(store_kb_get(f->st, "local-1", &a), STORE_OK);
	json_decref(a);
	assert_int_equal(store_kb_get(f->st, "201", &a), STORE_OK);
	json_decref(a);
	ids = hits(x, "reset password settings security");
	assert_null(strstr(ids, "101"));
	free(ids);
	json_decref(local);
	json_decref(clash);
	sync_stop(x);
}

/* The store's articles as one JSON text, to compare before and after a failed run. */
static char *stored(struct fx *f)
{
	json_t *all = NULL;
	char *s;

	assert_int_equal(store_kb_list(f->st, &all), STORE_OK);
	s = json_dumps(all, JSON_SORT_KEYS);
	json_decref(all);
	return s;
}

static void expect_failure(struct fx *f, struct sync_fx *x, int want, const char *says)
{
	json_t *report = NULL;
	char *err = NULL, *before = stored(f), *after;
	int rc = service_kb_sync(f->st, x->kb, &x->o, &report, &err);

	if (rc != want)
		fail_msg("kb sync: %s (%s), wanted %s", service_errname(rc), err ? err : "", service_errname(want));
	assert_null(report);
	assert_non_null(err);
	if (!strstr(err, says))
		fail_msg("'%s' does not say '%s'", err, says);
	after = stored(f);
	assert_string_equal(before, after);
	/* the index still has what the first run gave it */
	expect_top(x, "reset my password", "101");
	free(before);
	free(after);
	free(err);
}

static void test_failures_leave_the_kb_as_it_was(void **state)
{
	struct fx *f = *state;
	struct sync_fx *x = sync_start();
	struct kb_sync_opts good = x->o;

	hc_page(x->hc, PAGE1, 200, page1);
	hc_page(x->hc, PAGE2, 200, page2);
	json_decref(sync_ok(f, x));
	/* the second page fails: nothing of the first is written either */
	hc_page(x->hc, PAGE1, 200, "{\"articles\": [{\"id\": 101, \"title\": \"Changed\", \"body\": \"x\"}],"
		" \"next_page\": \"http://127.0.0.1:%PORT%" PAGE2 "\"}");
	hc_page(x->hc, PAGE2, 500, "{\"error\": \"boom\"}");
	expect_failure(f, x, SERVICE_EKBFETCH, "HTTP 500");
	/* malformed JSON */
	hc_page(x->hc, PAGE2, 200, "{\"articles\": [{\"id\": 5, ");
	expect_failure(f, x, SERVICE_EKBDATA, "is not JSON");
	/* not an article list */
	hc_page(x->hc, PAGE2, 200, "[1, 2]");
	expect_failure(f, x, SERVICE_EKBDATA, "not an article list");
	/* an item without a title */
	hc_page(x->hc, PAGE2, 200, "{\"articles\": [{\"id\": 7, \"body\": \"<p>x</p>\"}]}");
	expect_failure(f, x, SERVICE_EKBDATA, "article '7' has no 'title'");
	/* next_page loops back to the first page */
	hc_page(x->hc, PAGE2, 200, "{\"articles\": [], \"next_page\": \"http://127.0.0.1:%PORT%" PAGE1 "\"}");
	expect_failure(f, x, SERVICE_EKBDATA, "loops back");
	/* more pages than the limit */
	x->o.max_pages = 1;
	expect_failure(f, x, SERVICE_EKBDATA, "more than 1 pages");
	/* nobody listening */
	x->o = good;
	x->o.url = "http://127.0.0.1:1/articles";
	expect_failure(f, x, SERVICE_EKBFETCH, "cannot fetch 'http://127.0.0.1:1/articles'");
	x->o.url = "ftp://example.com/articles";
	expect_failure(f, x, SERVICE_EINVAL, "not an http or https URL");
	x->o = good;
	sync_stop(x);
}

static void test_an_item_maps_to_an_article(void **state)
{
	json_t *item = json_pack("{s:s, s:s, s:s, s:[s, i, s], s:s, s:s}", "id", "abc", "title", "Two factor",
				 "body", "<p>Use an <a href=\"https://example.com/app\">authenticator app</a>.</p>",
				 "label_names", "2fa", 3, "", "section_id", "security", "locale", "pt-br");
	json_t *a = NULL, *b = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(kb_sync_article(item, &a, &err), KB_OK);
	assert_string_equal(fl_json_str(a, "id", ""), "abc");
	assert_string_equal(fl_json_str(a, "content", ""),
			    "Use an authenticator app (https://example.com/app).");
	assert_int_equal(json_array_size(json_object_get(a, "tags")), 1);
	assert_string_equal(fl_json_str(a, "category", ""), "section-security");
	assert_string_equal(fl_json_str(a, "language", ""), "pt");
	assert_int_equal(kb_article_check(a, NULL), KB_OK);
	/* the hash follows the content, and only it */
	json_object_set_new(item, "body", json_string("<p>Use an app.</p>"));
	assert_int_equal(kb_sync_article(item, &b, &err), KB_OK);
	assert_string_not_equal(fl_json_str(a, "source_hash", ""), fl_json_str(b, "source_hash", ""));
	json_decref(b);
	json_object_set_new(item, "body", json_string("<p>Use an <a href=\"https://example.com/app\">authenticator"
						      " app</a>.</p>"));
	json_object_set_new(item, "updated_at", json_string("2026-12-01T00:00:00Z"));
	assert_int_equal(kb_sync_article(item, &b, &err), KB_OK);
	assert_string_equal(fl_json_str(a, "source_hash", ""), fl_json_str(b, "source_hash", ""));
	json_decref(b);
	json_decref(a);
	/* no id */
	json_object_del(item, "id");
	assert_int_equal(kb_sync_article(item, &a, &err), KB_EPARSE);
	assert_null(a);
	assert_non_null(strstr(err, "no 'id'"));
	free(err);
	json_decref(item);
}

/* Waits up to 15 s for kb's best hit for q to be want ("" : no hit). */
static bool wait_hit(struct kb *kb, const char *q, const char *want)
{
	int64_t end = fl_mono_us() + 15000000;

	while (fl_mono_us() < end) {
		json_t *res = NULL;
		const char *top;
		bool ok;

		assert_int_equal(kb_search(kb, q, 1, &res), KB_OK);
		top = fl_json_str(json_array_get(json_object_get(res, "articles"), 0), "id", "");
		ok = !strcmp(top, want);
		json_decref(res);
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

static void test_the_service_syncs_and_every_replica_follows(void **state)
{
	struct fx *f = *state;
	struct sync_fx *x = sync_start();
	struct service_options so = { .parts = SERVICE_MONITOR };
	struct service *a = NULL, *b = NULL;
	struct kb *kb2 = NULL;
	char *err = NULL;

	hc_page(x->hc, PAGE1, 200, page1);
	hc_page(x->hc, PAGE2, 200, page2);
	fl_config_set("KB_API_URL", x->url);
	fl_config_set("KB_API_KEY", "kb-secret");
	fl_config_set("FRONTLINE_KB_SYNC_INTERVAL", "1");
	assert_int_equal(kb_open(NULL, &kb2, &err), KB_OK);
	so.store_url = f->url;
	so.kb = x->kb;
	if (service_new(&so, &a, &err) != SERVICE_OK)
		fail_msg("service: %s", err);
	so.kb = kb2;
	if (service_new(&so, &b, &err) != SERVICE_OK)
		fail_msg("service: %s", err);
	assert_int_equal(service_start(a, &err), SERVICE_OK);
	assert_int_equal(service_start(b, &err), SERVICE_OK);
	/* one replica fetched; both indexes have the articles */
	assert_true(wait_hit(x->kb, "reset my password", "101"));
	assert_true(wait_hit(kb2, "reset my password", "101"));
	/* the help centre drops 101 and rewrites 102: both follow */
	hc_page(x->hc, PAGE1, 200,
		"{\"articles\": [{\"id\": \"102\", \"title\": \"Refund policy\", \"section_id\": 8,"
		" \"body\": \"<p>Refunds are paid back in gold bars.</p>\"}], \"next_page\": null}");
	assert_true(wait_hit(x->kb, "gold bars", "102"));
	assert_true(wait_hit(kb2, "gold bars", "102"));
	assert_true(wait_hit(x->kb, "reset my password", ""));
	assert_true(wait_hit(kb2, "reset my password", ""));
	service_free(a);
	service_free(b);
	fl_config_set("KB_API_URL", "");
	fl_config_set("KB_API_KEY", "");
	fl_config_set("FRONTLINE_KB_SYNC_INTERVAL", "3600");
	kb_close(kb2);
	sync_stop(x);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		FX_TEST(test_two_pages_are_imported_as_text),
		FX_TEST(test_an_update_rewrites_only_the_changed_article),
		FX_TEST(test_a_disappeared_article_is_removed_others_stay),
		FX_TEST(test_failures_leave_the_kb_as_it_was),
		FX_TEST(test_an_item_maps_to_an_article),
		FX_TEST(test_the_service_syncs_and_every_replica_follows),
	};

	return FX_RUN("kb_sync", tests) ? 1 : 0;
}
