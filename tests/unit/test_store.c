/*
 * The store's one suite, run against every backend: SQLite (a file in a
 * temporary directory) and PostgreSQL (a private server started by
 * tests/harness/pg_harness from Debian's binaries). Each test gets a fresh
 * database. If the PostgreSQL server cannot start, the postgres group fails
 * with the reason; nothing is skipped.
 *
 * Bad input (corrupt files, read-only directories, full disks, unreachable
 * servers) is in test_store_bad_input.c; crashes in tests/integration.
 */
#include "test_helpers.h"

#include <pthread.h>
#include <sys/stat.h>

#include "pg_harness.h"
#include "store/store.h"
#include <math.h>
#include <libpq-fe.h>
#include <sqlite3.h>

struct group {
	const char *backend;
	struct pg_harness pg;
};

struct fx {
	struct group *g;
	char *dir;
	char *url;
	struct store *st;
	int64_t now;          /* the fake clock */
};

/* Values the tests pass to borrowing functions live until teardown. */
static json_t *arena;

static json_t *keep(json_t *v)
{
	json_array_append_new(arena, v);
	return v;
}

#define J(...) keep(json_pack(__VA_ARGS__))
#define TICKET(id, ch, cust) keep(ticket_new(id, ch, cust))
#define OK(expr) \
	do { \
		int rc_ = (expr); \
		if (rc_ != STORE_OK) \
			fail_msg("%s: %s: %s", #expr, store_errname(rc_), store_errmsg(st)); \
	} while (0)

static json_t *ticket_new(const char *id, const char *channel, const char *customer)
{
	json_t *t = json_pack("{s:s, s:s, s:s, s:s}", "channel", channel, "customer_id", customer,
			      "subject", "Cannot log in", "content", "The password reset email never arrives.");

	if (id)
		json_object_set_new(t, "id", json_string(id));
	return t;
}

/* Runs SQL on the store's database behind its back (sqlite_sql or pg_sql by URL). */
static void behind_the_back(const char *url, const char *sqlite_sql, const char *pg_sql)
{
	if (fl_str_has_prefix(url, "sqlite://")) {
		char *path = fl_strdup(url + strlen("sqlite://"));
		sqlite3 *db = NULL;

		*strchrnul(path, '?') = '\0';
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		if (sqlite3_exec(db, sqlite_sql, NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sqlite_sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		free(path);
	} else {
		PGconn *c = PQconnectdb(url);
		PGresult *r;

		assert_int_equal(PQstatus(c), CONNECTION_OK);
		r = PQexec(c, pg_sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail_msg("%s: %s", pg_sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	}
}

/* Sets the schema version behind the store's back (to test refusal). */
static void set_version(const char *url, int v)
{
	char *a = fl_asprintf("PRAGMA user_version = %d", v);
	char *b = fl_asprintf("UPDATE frontline_schema SET version = %d", v);

	behind_the_back(url, a, b);
	free(a);
	free(b);
}

static int64_t fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static int group_sqlite(void **state)
{
	static struct group g = { "sqlite", PG_HARNESS_INIT };

	*state = &g;
	return 0;
}

static int group_postgres(void **state)
{
	static struct group g = { "postgres", PG_HARNESS_INIT };
	char *url = NULL;

	if (pg_harness_start(&g.pg, &url)) {
		fprintf(stderr, "cannot start the PostgreSQL test server: %s\n", pg_harness_error(&g.pg));
		return -1;
	}
	free(url);
	*state = &g;
	return 0;
}

static int group_done(void **state)
{
	struct group *g = *state;

	pg_harness_stop(&g->pg);
	return 0;
}

static int setup(void **state)
{
	struct group *g = *state;
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *err = NULL;

	f->g = g;
	if (!strcmp(g->backend, "sqlite")) {
		f->dir = test_tmpdir();
		f->url = fl_asprintf("sqlite://%s/frontline.db?synchronous=normal", f->dir);
	} else if (pg_harness_create_db(&g->pg, &f->url)) {
		fprintf(stderr, "%s\n", pg_harness_error(&g->pg));
		free(f);
		return -1;
	}
	if (store_open(f->url, &f->st, &err)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	f->now = 1700000000000000LL;
	arena = json_array();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	json_decref(arena);
	arena = NULL;
	if (f->dir)
		test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
	return 0;
}

/* ---- tests ---- */

static void test_store_open_migrates_to_latest(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *again = NULL;
	int v = -1, from = -1, to = -1;
	char *err = NULL;

	OK(store_schema_version(st, &v));
	assert_int_equal(v, store_schema_latest());
	OK(store_ping(st));
	assert_string_equal(store_backend(st), f->g->backend);
	/* Opening again migrates nothing. */
	assert_int_equal(store_open(f->url, &again, &err), STORE_OK);
	OK(store_migrate(again, &from, &to));
	assert_int_equal(from, store_schema_latest());
	assert_int_equal(to, store_schema_latest());
	store_close(again);
}

static void test_store_rejects_bad_urls(void **state)
{
	struct store *st = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_open("mysql://u:hunter2@h/db", &st, &err), STORE_EURL);
	assert_null(st);
	assert_non_null(strstr(err, "unsupported store URL"));
	assert_null(strstr(err, "hunter2"));
	free(err);
	assert_int_equal(store_open("sqlite:///tmp/x.db?frobnicate=1", &st, &err), STORE_EURL);
	assert_non_null(strstr(err, "frobnicate"));
	free(err);
	assert_string_equal(store_errname(STORE_EVERSION), "STORE_EVERSION");
	assert_true(store_err_is_transient(STORE_EBUSY));
	assert_false(store_err_is_transient(STORE_EINVAL));
}

static void test_store_intake_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *b = NULL, *c = NULL, *counts = NULL, *events = NULL;
	bool created = false;

	OK(store_ticket_intake(st, TICKET("ticket_001", "webhook", "cust_001"), "triage", NULL, &a, &created));
	assert_true(created);
	assert_string_equal(fl_json_str(a, "id", ""), "ticket_001");
	assert_string_equal(fl_json_str(a, "status", ""), "new");
	assert_int_equal(fl_json_int(a, "version", 0), 1);
	OK(store_ticket_intake(st, TICKET("ticket_001", "webhook", "cust_001"), "triage", NULL, &b, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(a, "number", 0), fl_json_int(b, "number", -1));
	/* The same sender id on another channel is another ticket, with its own id. */
	OK(store_ticket_intake(st, TICKET("ticket_001", "email", "cust_002"), "triage", NULL, &c, &created));
	assert_true(created);
	assert_string_equal(fl_json_str(c, "external_id", ""), "ticket_001");
	assert_string_equal(fl_json_str(c, "id", ""), "T-000002");
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 2);
	OK(store_event_list(st, "ticket_001", 0, &events));
	assert_int_equal(json_array_size(events), 1);
	assert_string_equal(fl_json_str(json_array_get(events, 0), "type", ""), "ticket.created");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(counts);
	json_decref(events);
}

static void test_store_intake_honours_idempotency_key(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *b = NULL;
	bool created;

	OK(store_ticket_intake(st, TICKET(NULL, "api", "cust_001"), NULL, "key-1", &a, &created));
	assert_true(created);
	/* A different body with the same key returns the first ticket. */
	OK(store_ticket_intake(st, TICKET("other", "api", "cust_009"), NULL, "key-1", &b, &created));
	assert_false(created);
	assert_string_equal(fl_json_str(a, "id", "a"), fl_json_str(b, "id", "b"));
	assert_string_equal(fl_json_str(a, "id", ""), "T-000001");
	json_decref(a);
	json_decref(b);
}

static void test_store_intake_rejects_invalid_and_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *page = NULL, *t = json_pack("{s:s, s:s}", "id", "x", "subject", "no content");
	json_t *bad_meta = json_pack("{s:s, s:s, s:i}", "id", "y", "content", "hello there", "metadata", 3);
	struct store_ticket_filter all = { 0 };

	assert_int_equal(store_ticket_intake(st, t, "triage", NULL, NULL, NULL), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "content"));
	assert_int_equal(store_ticket_intake(st, bad_meta, "triage", NULL, NULL, NULL), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "metadata"));
	OK(store_ticket_list(st, &all, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(t);
	json_decref(bad_meta);
	json_decref(page);
}

static void test_store_ticket_get_by_id_or_number_with_thread(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *g = NULL, *in = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", "mail-1",
						       "channel", "email", "subject", "Hello",
						       "content", "First message body here", "message",
						       "email_message_id", "<abc@example.com>");

	OK(store_ticket_intake(st, in, NULL, NULL, &t, NULL));
	OK(store_ticket_get(st, "T-000001", true, &g));
	assert_string_equal(fl_json_str(g, "id", ""), "mail-1");
	assert_int_equal(json_array_size(json_object_get(g, "messages")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(g, "messages"), 0), "email_message_id", ""),
			    "<abc@example.com>");
	json_decref(g);
	OK(store_ticket_get(st, "mail-1", false, &g));
	assert_null(json_object_get(g, "messages"));
	json_decref(g);
	assert_int_equal(store_ticket_get(st, "nope", false, &g), STORE_ENOTFOUND);
	assert_null(g);
	assert_non_null(strstr(store_errmsg(st), "nope"));
	OK(store_message_find_by_email_id(st, "<abc@example.com>", &g));
	assert_string_equal(fl_json_str(g, "id", ""), "mail-1");
	json_decref(g);
	json_decref(in);
	json_decref(t);
}

static void test_store_list_filters_and_keyset_pages(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	const char *statuses[] = { "new", "resolved", "escalated" };
	json_t *seen = json_object(), *page = NULL;
	struct store_ticket_filter flt = { 0 };
	char *cursor = NULL;
	int i, total = 0, pages = 0;
	int64_t prev = INT64_MAX;

	for (i = 0; i < 30; i++) {
		char id[16];
		json_t *t = NULL;

		snprintf(id, sizeof(id), "t%02d", i);
		OK(store_ticket_intake(st, TICKET(id, "web", i % 2 ? "cust_a" : "cust_b"), NULL, NULL, &t, NULL));
		if (i % 3)
			OK(store_ticket_update(st, id, 0, J("{s:s}", "status", statuses[i % 3]), "test", NULL));
		json_decref(t);
	}
	flt.limit = 7;
	do {
		json_t *list, *t;
		size_t k;

		flt.cursor = cursor;
		OK(store_ticket_list(st, &flt, &page));
		list = json_object_get(page, "tickets");
		json_array_foreach(list, k, t) {
			assert_true(fl_json_int(t, "number", 0) < prev);
			prev = fl_json_int(t, "number", 0);
			assert_null(json_object_get(t, "trace"));
			assert_null(json_object_get(seen, fl_json_str(t, "id", "")));
			json_object_set_new(seen, fl_json_str(t, "id", ""), json_true());
			total++;
		}
		free(cursor);
		cursor = fl_strdup(fl_json_str(page, "next_cursor", NULL));
		/* A cursor stays valid while tickets are added. */
		if (pages++ == 1)
			OK(store_ticket_intake(st, TICKET("late", "web", "cust_a"), NULL, NULL, NULL, NULL));
		json_decref(page);
	} while (cursor);
	assert_int_equal(total, 30);
	assert_int_equal(pages, 5);
	flt = (struct store_ticket_filter){ .status = "resolved", .customer_id = "cust_a" };
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 5);
	json_decref(page);
	flt = (struct store_ticket_filter){ .cursor = "garbage" };
	assert_int_equal(store_ticket_list(st, &flt, &page), STORE_EINVAL);
	assert_null(page);
	json_decref(seen);
}

static void test_store_search_matches_words_with_stemming(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter flt = { 0 };
	json_t *page = NULL, *a = json_pack("{s:s, s:s, s:s}", "id", "a", "subject", "Password reset broken",
					    "content", "The reset emails never arrive in my inbox");
	json_t *b = json_pack("{s:s, s:s, s:s}", "id", "b", "subject", "Invoice question",
			      "content", "I was charged twice for my subscription");

	OK(store_ticket_intake(st, a, NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, b, NULL, NULL, NULL, NULL));
	flt.query = "passwords";
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(page, "tickets"), 0), "id", ""), "a");
	json_decref(page);
	flt.query = "charged SUBSCRIPTION!";
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 1);
	json_decref(page);
	flt.query = "password invoice"; /* every word must match */
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(page);
	flt.query = "reset";
	flt.status = "resolved";
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(page);
	/* A subject change is searchable. */
	OK(store_ticket_update(st, "b", 0, J("{s:s}", "subject", "Refund for duplicate charge"), "t", NULL));
	flt = (struct store_ticket_filter){ .query = "refund" };
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 1);
	json_decref(page);
	flt.query = "\"()*:^ -";  /* no words: no filter, and no syntax error */
	OK(store_ticket_list(st, &flt, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 2);
	json_decref(page);
	json_decref(a);
	json_decref(b);
}

/* A new ticket's answer is built from what was inserted: it must equal a fresh read. */
static void check_intake_answer(struct fx *f, const json_t *ticket, const char *want_id)
{
	struct store *st = f->st;
	json_t *t = NULL, *cur = NULL;
	bool created = false;

	OK(store_ticket_intake(st, ticket, "triage", NULL, &t, &created));
	assert_true(created);
	if (want_id)
		assert_string_equal(fl_json_str(t, "id", ""), want_id);
	OK(store_ticket_get(st, fl_json_str(t, "id", ""), false, &cur));
	if (!json_equal(t, cur)) {
		char *a = fl_json_dumps(t), *b = fl_json_dumps(cur);

		fail_msg("intake answered %s\nbut the store reads %s", a, b);
	}
	/* SQLite keeps the metadata's key order, so even the text is the same */
	if (!strcmp(f->g->backend, "sqlite")) {
		char *a = fl_json_dumps(t), *b = fl_json_dumps(cur);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	json_decref(t);
	json_decref(cur);
}

static void test_store_intake_answer_equals_a_fresh_read(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;

	store_set_clock(st, fake_now, f);
	/* everything given: the message's fields, reals, nesting, non-ASCII text, an old created_at */
	check_intake_answer(f, J("{s:s, s:s, s:s, s:s, s:s, s:{s:f, s:f, s:i, s:[i, s, n, b], s:{s:s}, s:s},"
				 " s:s, s:{s:s, s:s}}",
				 "id", "ext-1", "source", "email", "customer_id", "cust_001",
				 "subject", "Über ünïcode ✓", "content", "Line one\nline \"two\"\t😀",
				 "metadata", "score", 0.1, "big", 1e300, "n", -42, "list", 1, "x", 1,
				 "inner", "k", "v", "another", "z", "created_at", "2024-01-02T03:04:05.678Z",
				 "message", "author", "Ann <ann@example.com>", "email_message_id", "<m1@example.com>"),
			    "ext-1");
	/* the minimum: a generated number, no customer, no metadata */
	check_intake_answer(f, J("{s:s}", "content", "no id"), NULL);
	/* created in the future: updated_at is created_at; an empty subject */
	check_intake_answer(f, J("{s:s, s:s, s:s, s:s}", "id", "ext-2", "content", "later",
				 "created_at", "2031-05-06T07:08:09Z", "subject", ""), "ext-2");
	/* before 1970 */
	check_intake_answer(f, J("{s:s, s:s, s:s}", "id", "ext-3", "content", "old",
				 "created_at", "1960-01-01T00:00:00Z"), "ext-3");
	/* an id of the reserved form is only the external id */
	check_intake_answer(f, J("{s:s, s:s}", "id", "T-000999", "content", "numbered"), "T-000005");
	/* an external id that is another ticket's id (other channel): the ticket gets a number */
	check_intake_answer(f, J("{s:s, s:s, s:s}", "id", "ext-1", "source", "chat", "content", "same id"),
			    "T-000006");
	/* an empty metadata object */
	check_intake_answer(f, J("{s:s, s:s, s:{}}", "id", "ext-4", "content", "x", "metadata"), "ext-4");
}

/* The opcodes of sql (EXPLAIN) on the SQLite file behind url, space-separated. */
static char *sqlite_opcodes(const char *url, const char *sql)
{
	char *path = fl_strdup(url + strlen("sqlite://")), *x = fl_asprintf("EXPLAIN %s", sql);
	struct fl_buf ops = FL_BUF_INIT;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	*strchrnul(path, '?') = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, x, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", x, sqlite3_errmsg(db));
	while (sqlite3_step(s) == SQLITE_ROW)
		fl_buf_addf(&ops, " %s", (const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(path);
	free(x);
	return fl_buf_detach(&ops, NULL);
}

/*
 * Migration 6 (SQLite) rewrites the CHECKs of messages and jobs so that an
 * insert builds no temporary b-tree for them: the rows stay, the checks hold.
 */
static void test_store_sqlite_migration_6_keeps_rows_and_checks(void **state)
{
	static const char *const inserts[] = {
		"INSERT INTO messages (ticket_number, direction, body, created_at) VALUES (1, 'note', 'b', 1)",
		"INSERT INTO jobs (kind, ticket_number, status, max_attempts, run_at, created_at, updated_at)"
		" VALUES ('triage', 1, 'queued', 5, 1, 1, 1)",
		"UPDATE jobs SET status = 'running' WHERE id = 1",
	};
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *msgs = NULL, *jobs = NULL, *m = NULL;
	char *err = NULL, *ops;
	size_t i;

	if (strcmp(f->g->backend, "sqlite"))
		return; /* PostgreSQL's migration 6 is empty: it has no such cost */
	OK(store_ticket_intake(st, TICKET("m6", "api", "c"), "triage", NULL, NULL, NULL));
	OK(store_message_add(st, "m6", J("{s:s, s:s, s:s}", "direction", "outbound", "body", "On it",
					"effect_key", "ack"), &m, NULL));
	json_decref(m);
	store_close(st);
	f->st = NULL;
	/* the file as version 5 had it: the CHECKs as IN lists */
	behind_the_back(f->url,
		"BEGIN;"
		"CREATE TABLE m5 (id INTEGER PRIMARY KEY, ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
		" direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')), author TEXT,"
		" body TEXT NOT NULL, created_at INTEGER NOT NULL, email_message_id TEXT, in_reply_to TEXT,"
		" effect_key TEXT, metadata TEXT NOT NULL DEFAULT '{}', UNIQUE (ticket_number, effect_key)) STRICT;"
		"INSERT INTO m5 SELECT * FROM messages; DROP TABLE messages; ALTER TABLE m5 RENAME TO messages;"
		"CREATE INDEX messages_email ON messages(email_message_id) WHERE email_message_id IS NOT NULL;"
		"CREATE TABLE j5 (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, ticket_number INTEGER REFERENCES"
		" tickets(number), payload TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL CHECK (status IN"
		" ('queued', 'running', 'done', 'dead')), attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER"
		" NOT NULL, run_at INTEGER NOT NULL, due_at INTEGER, lease_owner TEXT, lease_until INTEGER,"
		" last_error TEXT, dedupe_key TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
		" finished_at INTEGER) STRICT;"
		"INSERT INTO j5 SELECT * FROM jobs; DROP TABLE jobs; ALTER TABLE j5 RENAME TO jobs;"
		"CREATE INDEX jobs_due ON jobs(due_at) WHERE status IN ('queued', 'running');"
		"CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL AND status <> 'done';"
		"CREATE INDEX jobs_status ON jobs(status);"
		"PRAGMA user_version = 5; COMMIT;", NULL);
	ops = sqlite_opcodes(f->url, inserts[0]);
	assert_non_null(strstr(ops, "OpenEphemeral")); /* what migration 6 is for */
	free(ops);
	if (store_open(f->url, &f->st, &err))
		fail_msg("%s", err);
	st = f->st;
	/* the rows, their ids and their job are kept */
	OK(store_message_list(st, "m6", &msgs));
	assert_int_equal(json_array_size(msgs), 2);
	assert_string_equal(fl_json_str(json_array_get(msgs, 1), "effect_key", ""), "ack");
	OK(store_job_counts(st, &jobs));
	assert_int_equal(fl_json_int(jobs, "queued", 0), 1);
	json_decref(msgs);
	json_decref(jobs);
	for (i = 0; i < FL_ARRAY_SIZE(inserts); i++) {
		ops = sqlite_opcodes(f->url, inserts[i]);
		if (strstr(ops, "OpenEphemeral"))
			fail_msg("%s builds a temporary b-tree:%s", inserts[i], ops);
		free(ops);
	}
	/* the checks still refuse what they refused */
	{
		char *path = fl_strdup(f->url + strlen("sqlite://"));
		sqlite3 *db = NULL;

		*strchrnul(path, '?') = '\0';
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "INSERT INTO messages (ticket_number, direction, body, created_at)"
					      " VALUES (1, 'sideways', 'b', 1)", NULL, NULL, NULL), SQLITE_CONSTRAINT);
		assert_int_equal(sqlite3_exec(db, "UPDATE jobs SET status = 'lost'", NULL, NULL, NULL),
				 SQLITE_CONSTRAINT);
		assert_int_equal(sqlite3_exec(db, "INSERT INTO messages (ticket_number, direction, body, created_at)"
					      " VALUES (1, 'note', 'b', 1)", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		free(path);
	}
}

static void test_store_update_checks_version_and_audits(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *cur = NULL, *ev = NULL;

	OK(store_ticket_intake(st, TICKET("u1", "api", "c"), NULL, NULL, &t, NULL));
	json_decref(t);
	OK(store_ticket_update(st, "u1", 1, J("{s:s, s:s, s:{s:s}, s:[{s:s}], s:f, s:s}",
			       "status", "triaging", "priority", "high", "analysis", "path", "builtin",
			       "trace", "node", "ticket_ingestion", "satisfaction", 0.5,
			       "first_response_at", "2024-01-02T03:04:05Z"), "worker", &t));
	assert_int_equal(fl_json_int(t, "version", 0), 2);
	assert_string_equal(fl_json_str(t, "priority", ""), "high");
	assert_string_equal(fl_json_str(json_object_get(t, "analysis"), "path", ""), "builtin");
	assert_int_equal(json_array_size(json_object_get(t, "trace")), 1);
	assert_string_equal(fl_json_str(t, "first_response_at", ""), "2024-01-02T03:04:05.000Z");
	/* what an update hands back is what reading the ticket gives */
	OK(store_ticket_get(st, "u1", false, &cur));
	assert_true(json_equal(t, cur));
	json_decref(cur);
	/* A stale version is a conflict that hands back the current ticket. */
	assert_int_equal(store_ticket_update(st, "u1", 1, J("{s:s}", "status", "resolved"), "agent", &cur),
			 STORE_ECONFLICT);
	assert_non_null(cur);
	assert_int_equal(fl_json_int(cur, "version", 0), 2);
	assert_string_equal(fl_json_str(cur, "status", ""), "triaging");
	json_decref(cur);
	assert_int_equal(store_ticket_update(st, "u1", 0, J("{s:s}", "status", "bogus"), "a", NULL),
			 STORE_EINVAL);
	assert_int_equal(store_ticket_update(st, "u1", 0, J("{s:s}", "id", "x"), "a", NULL), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "'id'"));
	OK(store_event_list(st, "u1", 0, &ev));
	/* created, updated, status */
	assert_int_equal(json_array_size(ev), 3);
	assert_string_equal(fl_json_str(json_array_get(ev, 2), "type", ""), "ticket.status");
	assert_string_equal(fl_json_str(json_object_get(json_array_get(ev, 2), "data"), "to", ""), "triaging");
	assert_string_equal(fl_json_str(json_array_get(ev, 1), "actor", ""), "worker");
	json_decref(ev);
	json_decref(t);
	/* JSON fields count as changed only when their value differs */
	OK(store_ticket_update(st, "u1", 0, J("{s:{s:s}, s:{s:f, s:[i, s]}}", "analysis", "path", "builtin",
			       "metadata", "score", 0.1, "list", 1, "x"), "worker", NULL));
	OK(store_ticket_update(st, "u1", 0, J("{s:{s:s}, s:{s:f, s:[i, s]}}", "analysis", "path", "llm",
			       "metadata", "score", 0.1, "list", 1, "x"), "worker", &t));
	assert_string_equal(fl_json_str(json_object_get(t, "analysis"), "path", ""), "llm");
	OK(store_ticket_get(st, "u1", false, &cur));
	assert_true(json_equal(t, cur));
	json_decref(cur);
	json_decref(t);
	/* every kind of field, nulls included, as reading it back shows it */
	OK(store_ticket_update(st, "u1", 0, J("{s:n, s:s, s:n, s:s, s:b, s:f, s:s, s:n, s:[]}", "assignee",
			       "resolved_at", "2024-05-06T07:08:09.123Z", "first_response_at", "sentiment",
			       "negative", "quarantined", 1, "satisfaction", 0.25, "subject", "Über ünïcode",
			       "priority", "trace"), "agent", &t));
	OK(store_ticket_get(st, "u1", false, &cur));
	assert_true(json_equal(t, cur));
	assert_int_equal(fl_json_int(t, "version", 0), fl_json_int(cur, "version", -1));
	json_decref(cur);
	assert_true(json_equal(json_object_get(t, "metadata"), J("{s:f, s:[i, s]}", "score", 0.1, "list", 1, "x")));
	OK(store_event_list(st, "u1", 0, &ev));
	assert_int_equal(json_array_size(ev), 6);
	/* the first: metadata only (analysis as before); the second: analysis only */
	assert_true(json_equal(json_object_get(json_object_get(json_array_get(ev, 3), "data"), "fields"),
			       J("[s]", "metadata")));
	assert_true(json_equal(json_object_get(json_object_get(json_array_get(ev, 4), "data"), "fields"),
			       J("[s]", "analysis")));
	json_decref(ev);
	json_decref(t);
}

static void test_store_message_effect_key_writes_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *m1 = NULL, *m2 = NULL, *list = NULL;
	json_t *reply = json_pack("{s:s, s:s, s:s, s:s}", "direction", "outbound", "body", "We are on it",
				  "effect_key", "auto_reply", "author", "frontline");
	bool created;

	OK(store_ticket_intake(st, TICKET("m", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_message_add(st, "m", reply, &m1, &created));
	assert_true(created);
	OK(store_message_add(st, "m", reply, &m2, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(m1, "id", 0), fl_json_int(m2, "id", 1));
	OK(store_message_list(st, "m", &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 1), "ticket_id", ""), "m");
	assert_int_equal(store_message_add(st, "nope", reply, NULL, NULL), STORE_ENOTFOUND);
	json_decref(list);
	json_decref(m1);
	json_decref(m2);
	json_decref(reply);
}

static void test_store_customer_metrics_follow_the_seed(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *c = NULL, *list = NULL;
	json_t *john = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "id", "cust_001", "name", "John Doe",
				 "email", "john.doe@company.com", "tier", "premium", "joined_at", "2023-01-15",
				 "total_tickets", 5, "satisfaction_score", 0.85);

	OK(store_customer_upsert(st, john));
	OK(store_customer_update_metrics(st, "cust_001", 0.95));
	OK(store_customer_get(st, "cust_001", &c));
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 6);
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.90) < 1e-9);
	assert_string_equal(fl_json_str(c, "joined_at", ""), "2023-01-15T00:00:00.000Z");
	json_decref(c);
	OK(store_customer_update_metrics(st, "cust_001", -1));
	OK(store_customer_find_by_email(st, "JOHN.DOE@company.com", &c));
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 7);
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.90) < 1e-9);
	json_decref(c);
	/* An upsert keeps the fields it does not name. */
	OK(store_customer_upsert(st, J("{s:s, s:s}", "id", "cust_001", "tier", "enterprise")));
	OK(store_customer_get(st, "cust_001", &c));
	assert_string_equal(fl_json_str(c, "name", ""), "John Doe");
	assert_string_equal(fl_json_str(c, "tier", ""), "enterprise");
	json_decref(c);
	/* No score yet: the first one is taken as is. */
	OK(store_customer_upsert(st, J("{s:s, s:s}", "id", "cust_new", "name", "New")));
	OK(store_customer_update_metrics(st, "cust_new", 0.6));
	OK(store_customer_get(st, "cust_new", &c));
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.6) < 1e-9);
	json_decref(c);
	assert_int_equal(store_customer_update_metrics(st, "ghost", 0.5), STORE_ENOTFOUND);
	assert_int_equal(store_customer_update_metrics(st, "cust_001", 1.5), STORE_EINVAL);
	assert_int_equal(store_customer_upsert(st, J("{s:s, s:s}", "id", "x", "tier", "gold")),
			 STORE_EINVAL);
	OK(store_customer_list(st, 0, 0, &list));
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	json_decref(john);
}

static void test_store_kb_articles_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *list = NULL;

	OK(store_kb_upsert(st, J("{s:s, s:s, s:s, s:s, s:[s,s], s:i}", "id", "kb_002", "title",
			   "Common Billing Issues and Solutions", "content", "Refunds take 5-7 business days.",
			   "category", "billing", "tags", "billing", "refund", "views", 10)));
	OK(store_kb_upsert(st, J("{s:s, s:s, s:s}", "id", "kb_001", "title", "How to Reset Your Password",
			   "content", "Use the Forgot Password link.")));
	OK(store_kb_upsert(st, J("{s:s, s:i}", "id", "kb_002", "helpful_votes", 4)));
	OK(store_kb_get(st, "kb_002", &a));
	assert_int_equal(fl_json_int(a, "views", 0), 10);
	assert_int_equal(fl_json_int(a, "helpful_votes", 0), 4);
	assert_int_equal(json_array_size(json_object_get(a, "tags")), 2);
	json_decref(a);
	OK(store_kb_list(st, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "kb_001");
	json_decref(list);
	OK(store_kb_delete(st, "kb_001"));
	assert_int_equal(store_kb_delete(st, "kb_001"), STORE_ENOTFOUND);
	assert_int_equal(store_kb_upsert(st, J("{s:s}", "id", "kb_009")), STORE_EINVAL);
}

static void test_store_defer_sync_commits_then_syncs(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL;

	OK(store_defer_sync(st, true));
	OK(store_defer_sync(st, true));   /* again: no change */
	OK(store_ticket_intake(st, TICKET("d1", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_ticket_update(st, "d1", 0, J("{s:s}", "status", "escalated"), "test", NULL));
	/* one transaction inside the run, as the batch's results are */
	OK(store_begin_immediate(st));
	assert_int_equal(store_defer_sync(st, false), STORE_EINVAL);
	OK(store_ticket_intake(st, TICKET("d2", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_commit(st));
	OK(store_defer_sync(st, false));
	OK(store_defer_sync(st, false));   /* not deferring: nothing to do */
	OK(store_ticket_get(st, "d1", false, &t));
	assert_string_equal(fl_json_str(t, "status", ""), "escalated");
	json_decref(t);
	OK(store_ticket_get(st, "d2", false, &t));
	json_decref(t);
	/* later commits are durable at once again, and claims still work */
	OK(store_ticket_intake(st, TICKET("d3", "api", "c"), "triage", NULL, NULL, NULL));
	{
		struct store_job *job = NULL;

		OK(store_job_claim(st, "triage", "w1", 60, &job));
		OK(store_job_complete(st, job->id, "w1"));
		store_job_free(job);
	}
}

/* A huge real in a JSON field comes back as a number, not as an empty object (PostgreSQL's jsonb prints it whole). */
static void test_store_json_fields_keep_huge_numbers(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = TICKET("big1", "api", "c"), *got = NULL, *m;

	json_object_set_new(t, "metadata", json_pack("{s:f, s:I, s:s}", "huge", 1e300,
						      "count", (json_int_t)42, "tier", "enterprise"));
	OK(store_ticket_intake(st, t, NULL, NULL, NULL, NULL));
	OK(store_ticket_get(st, "big1", false, &got));
	m = json_object_get(got, "metadata");
	assert_string_equal(fl_json_str(m, "tier", ""), "enterprise");
	/* in such a document PostgreSQL's integers come back as reals of the same value */
	assert_true(fl_json_num(m, "count", 0) == 42);
	assert_true(fabs(fl_json_num(m, "huge", 0) / 1e300 - 1) < 1e-9);
	json_decref(got);
}

static void test_store_escalations_one_open_per_ticket(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *e1 = NULL, *e2 = NULL, *e3 = NULL, *list = NULL, *x = NULL;
	bool created;

	store_set_clock(st, fake_now, f);
	OK(store_ticket_intake(st, TICKET("e1", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, TICKET("e2", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_escalation_open(st, "e1", "medium", "support", J("{s:s}", "summary", "x"), &e1, &created));
	assert_true(created);
	f->now += 1000;
	OK(store_escalation_open(st, "e1", "critical", "support", NULL, &e2, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(e1, "id", 0), fl_json_int(e2, "id", 1));
	OK(store_escalation_open(st, "e2", "critical", "engineering", NULL, &e3, &created));
	assert_true(created);
	OK(store_escalation_open(st, "e2", "low", "x", NULL, NULL, &created)); /* without reading it back */
	assert_false(created);
	OK(store_ticket_intake(st, TICKET("e3", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_escalation_open(st, "e3", "low", "x", J("{s:s}", "summary", "y"), NULL, &created));
	assert_true(created);
	OK(store_escalation_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(fl_json_str(json_object_get(json_array_get(list, 2), "package"), "summary", ""), "y");
	assert_string_equal(fl_json_str(json_array_get(list, 0), "ticket_id", ""), "e2"); /* critical first */
	json_decref(list);
	OK(store_escalation_claim(st, fl_json_int(e1, "id", 0), "alice", &x));
	assert_string_equal(fl_json_str(x, "status", ""), "claimed");
	json_decref(x);
	assert_int_equal(store_escalation_claim(st, fl_json_int(e1, "id", 0), "bob", &x), STORE_ECONFLICT);
	assert_int_equal(store_escalation_release(st, fl_json_int(e1, "id", 0), "bob", &x), STORE_ECONFLICT);
	OK(store_escalation_release(st, fl_json_int(e1, "id", 0), "alice", &x));
	assert_string_equal(fl_json_str(x, "status", ""), "open");
	json_decref(x);
	OK(store_escalation_close(st, fl_json_int(e1, "id", 0), "fixed", &x));
	assert_string_equal(fl_json_str(x, "resolution", ""), "fixed");
	json_decref(x);
	assert_int_equal(store_escalation_close(st, fl_json_int(e1, "id", 0), "again", NULL), STORE_ECONFLICT);
	/* Closed: a new one may open. */
	OK(store_escalation_open(st, "e1", "low", NULL, NULL, &x, &created));
	assert_true(created);
	json_decref(x);
	assert_int_equal(store_escalation_open(st, "e1", "urgent", NULL, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_escalation_get(st, 999, &x), STORE_ENOTFOUND);
	OK(store_escalation_list(st, "closed", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
}

static void test_store_events_are_an_append_only_log(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *list = NULL;
	int i;

	OK(store_ticket_intake(st, TICKET("ev", "api", "c"), NULL, NULL, NULL, NULL));
	for (i = 0; i < 5; i++)
		OK(store_event_append(st, i % 2 ? "ev" : NULL, "note", "tester", J("{s:i}", "i", i)));
	OK(store_event_list(st, NULL, 3, &list));
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(fl_json_int(json_object_get(json_array_get(list, 2), "data"), "i", -1), 4);
	json_decref(list);
	OK(store_event_list(st, "ev", 0, &list));
	assert_int_equal(json_array_size(list), 3); /* ticket.created + 2 */
	json_decref(list);
	assert_int_equal(store_event_append(st, "missing", "note", "t", NULL), STORE_ENOTFOUND);
}

static void test_store_outbox_dedupes_retries_and_dies(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *items = NULL, *list = NULL;
	bool created;
	int64_t id;

	store_set_clock(st, fake_now, f);
	OK(store_outbox_enqueue(st, "email", "a@b.c", J("{s:s}", "subject", "hi"), "T-1:resolved", &created));
	assert_true(created);
	OK(store_outbox_enqueue(st, "email", "a@b.c", NULL, "T-1:resolved", &created));
	assert_false(created);
	OK(store_outbox_claim(st, "n1", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	id = fl_json_int(json_array_get(items, 0), "id", 0);
	assert_int_equal(fl_json_int(json_array_get(items, 0), "attempts", 0), 1);
	json_decref(items);
	/* Held: nobody else gets it until the lease ends. */
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	OK(store_outbox_fail(st, id, "smtp 451", 60, 2));
	f->now += 59 * 1000000LL;
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	f->now += 2 * 1000000LL;
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	OK(store_outbox_fail(st, id, "smtp 550", 60, 2));
	OK(store_outbox_list(st, "dead", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "last_error", ""), "smtp 550");
	json_decref(list);
	assert_int_equal(store_outbox_mark_sent(st, id), STORE_ECONFLICT);
	/* A second item goes through. */
	OK(store_outbox_enqueue(st, "slack", "#support-updates", NULL, NULL, &created));
	OK(store_outbox_claim(st, "n1", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	OK(store_outbox_mark_sent(st, fl_json_int(json_array_get(items, 0), "id", 0)));
	OK(store_outbox_mark_sent(st, fl_json_int(json_array_get(items, 0), "id", 0)));
	json_decref(items);
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "status", ""), "sent");
	json_decref(list);
}

static void test_store_jobs_lease_retry_and_dead_letter(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_job *j = NULL, *k = NULL;
	json_t *counts = NULL, *list = NULL;

	store_set_clock(st, fake_now, f);
	OK(store_ticket_intake(st, TICKET("j", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_job_enqueue(st, "triage", "j", J("{s:i}", "n", 1), 2, 0, "triage:j"));
	OK(store_job_enqueue(st, "triage", "j", NULL, 2, 0, "triage:j")); /* deduped */
	OK(store_job_enqueue(st, "later", NULL, NULL, 0, f->now + 10 * 1000000LL, NULL));
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 2);
	json_decref(counts);
	OK(store_job_claim(st, NULL, "w1", 30, &j));
	assert_string_equal(j->kind, "triage");
	assert_string_equal(j->ticket_id, "j");
	assert_int_equal(j->attempts, 1);
	assert_int_equal(fl_json_int(j->payload, "n", 0), 1);
	assert_int_equal(store_job_claim(st, NULL, "w2", 30, &k), STORE_ENOTFOUND); /* "later" not due */
	OK(store_job_heartbeat(st, j->id, "w1", 30));
	assert_int_equal(store_job_heartbeat(st, j->id, "w2", 30), STORE_ELEASE);
	/* The lease runs out: another worker takes the job, the first loses it. */
	f->now += 31 * 1000000LL;
	OK(store_job_claim(st, "triage", "w2", 30, &k));
	assert_int_equal(k->id, j->id);
	assert_int_equal(k->attempts, 2);
	assert_int_equal(store_job_complete(st, j->id, "w1"), STORE_ELEASE);
	/* The second attempt fails: max_attempts 2, so dead. */
	OK(store_job_fail(st, k->id, "w2", "boom", 1000000));
	OK(store_job_list(st, "dead", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "last_error", ""), "boom");
	json_decref(list);
	OK(store_job_retry(st, k->id));
	assert_int_equal(store_job_retry(st, k->id), STORE_ECONFLICT);
	store_job_free(j);
	store_job_free(k);
	j = k = NULL;
	/* Retried: attempts reset; a failure now requeues with backoff. */
	OK(store_job_claim(st, "triage", "w3", 30, &j));
	assert_int_equal(j->attempts, 1);
	OK(store_job_fail(st, j->id, "w3", "transient", 5 * 1000000LL));
	assert_int_equal(store_job_claim(st, "triage", "w3", 30, &k), STORE_ENOTFOUND);
	f->now += 6 * 1000000LL;
	OK(store_job_claim(st, "triage", "w3", 30, &k));
	assert_int_equal(k->attempts, 2);
	OK(store_job_complete(st, k->id, "w3"));
	store_job_free(j);
	store_job_free(k);
	j = k = NULL;
	OK(store_job_claim(st, "later", "w4", 30, &j));
	OK(store_job_complete(st, j->id, "w4"));
	store_job_free(j);
	j = NULL;
	/* A worker that dies on the last attempt: the expired job goes dead, not round again. */
	OK(store_job_enqueue(st, "other", NULL, NULL, 1, 0, NULL));
	OK(store_job_claim(st, "other", "w6", 1, &k));
	store_job_free(k);
	k = NULL;
	f->now += 2 * 1000000LL;
	assert_int_equal(store_job_claim(st, "other", "w7", 1, &k), STORE_ENOTFOUND);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "done", 0), 2);
	assert_int_equal(fl_json_int(counts, "dead", 0), 1);
	assert_int_equal(fl_json_int(counts, "running", 0), 0);
	assert_int_equal(fl_json_int(counts, "queued", 0), 0);
	json_decref(counts);
}

static void test_store_transaction_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *list = NULL;

	OK(store_ticket_intake(st, TICKET("tx", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_begin(st));
	assert_true(store_in_transaction(st));
	assert_int_equal(store_begin(st), STORE_EINVAL);
	OK(store_ticket_update(st, "tx", 0, J("{s:s}", "status", "resolved"), "agent", NULL));
	store_fault_inject(st, "store_outbox_enqueue", 1, STORE_EIO);
	assert_int_equal(store_outbox_enqueue(st, "email", "x@y.z", NULL, "tx:resolved", NULL), STORE_EIO);
	assert_non_null(strstr(store_errmsg(st), "injected fault"));
	store_rollback(st);
	assert_false(store_in_transaction(st));
	OK(store_ticket_get(st, "tx", false, &t));
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_int_equal(fl_json_int(t, "version", 0), 1);
	json_decref(t);
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* And committed together. */
	OK(store_begin_immediate(st));
	OK(store_ticket_update(st, "tx", 1, J("{s:s}", "status", "resolved"), "agent", NULL));
	OK(store_outbox_enqueue(st, "email", "x@y.z", NULL, "tx:resolved", NULL));
	OK(store_commit(st));
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	/* A failed op inside a transaction leaves the earlier ones intact. */
	OK(store_begin_immediate(st));
	OK(store_event_append(st, "tx", "note", "a", NULL));
	assert_int_equal(store_ticket_intake(st, J("{s:s}", "id", "bad"), NULL, NULL, NULL, NULL),
			 STORE_EINVAL);
	OK(store_commit(st));
	OK(store_event_list(st, "tx", 0, &list));
	assert_string_equal(fl_json_str(json_array_get(list, json_array_size(list) - 1), "type", ""), "note");
	json_decref(list);
}

static void test_store_metrics_over_a_window(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *m = NULL;
	int64_t t0;

	fl_time_parse("2024-03-01T00:00:00Z", &t0);
	OK(store_ticket_import(st, J("[{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f}, {s:s,s:s,s:s,s:s,s:s,s:s},"
					     " {s:s,s:s,s:s}]",
		"id", "m1", "content", "c1 c1 c1 c1", "created_at", "2024-03-01T10:00:00Z", "status", "resolved",
		"category", "billing", "priority", "low", "resolved_at", "2024-03-01T11:00:00Z", "satisfaction", 0.8,
		"id", "m2", "content", "c2 c2 c2 c2", "created_at", "2024-03-01T12:00:00Z", "status", "escalated",
		"category", "technical", "first_response_at", "2024-03-01T12:02:00Z",
		"id", "m3", "content", "c3 c3 c3 c3", "created_at", "2024-03-05T00:00:00Z"), NULL));
	OK(store_metrics(st, t0, t0 + 86400LL * 1000000, &m));
	assert_int_equal(fl_json_int(m, "total_tickets", 0), 2);
	assert_int_equal(fl_json_int(m, "resolved_tickets", 0), 1);
	assert_int_equal(fl_json_int(m, "escalated_tickets", 0), 1);
	assert_true(fabs(fl_json_num(m, "avg_resolution_time", 0) - 3600) < 1e-6);
	assert_true(fabs(fl_json_num(m, "avg_response_time", 0) - 120) < 1e-6);
	assert_true(fabs(fl_json_num(m, "satisfaction_score", 0) - 0.8) < 1e-9);
	assert_true(fabs(fl_json_num(m, "escalation_rate", 0) - 0.5) < 1e-9);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_category"), "billing", 0), 1);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_priority"), "low", 0), 1);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_status"), "escalated", 0), 1);
	json_decref(m);
}

static void test_store_tokens_keep_only_hashes(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *k = NULL, *list = NULL;

	OK(store_token_insert(st, "ci", "integration", "ab12", &k));
	assert_string_equal(fl_json_str(k, "role", ""), "integration");
	assert_null(json_object_get(k, "hash"));
	json_decref(k);
	assert_int_equal(store_token_insert(st, "dup", "agent", "ab12", NULL), STORE_ECONSTRAINT);
	assert_int_equal(store_token_insert(st, "x", "root", "cd34", NULL), STORE_EINVAL);
	OK(store_token_find(st, "ab12", &k));
	assert_string_equal(fl_json_str(k, "name", ""), "ci");
	OK(store_token_revoke(st, fl_json_int(k, "id", 0)));
	assert_int_equal(store_token_find(st, "ab12", &list), STORE_ENOTFOUND);
	OK(store_token_list(st, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0), "revoked")));
	assert_non_null(json_object_get(json_array_get(list, 0), "last_used_at"));
	json_decref(list);
	json_decref(k);
}

static void test_store_import_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *batch = json_array();
	size_t n = 0;
	int i;

	for (i = 0; i < 200; i++) {
		char id[16];

		snprintf(id, sizeof(id), "imp%d", i);
		json_array_append(batch, TICKET(id, "import", "c"));
	}
	OK(store_ticket_import(st, batch, &n));
	assert_int_equal(n, 200);
	OK(store_ticket_import(st, batch, &n));
	assert_int_equal(n, 0);
	json_array_append(batch, J("{s:s}", "id", "broken"));
	assert_int_equal(store_ticket_import(st, batch, &n), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "ticket 200"));
	json_decref(batch);
}

struct intake_thread {
	struct store_group *g;
	int thread, n, created, failed;
};

static void *group_writer(void *arg)
{
	struct intake_thread *it = arg;
	int i;

	for (i = 0; i < it->n; i++) {
		char id[32];
		json_t *t, *out = NULL;
		bool created = false;

		/* Half the ids are shared by all threads: each must be created once. */
		if (i % 2)
			snprintf(id, sizeof(id), "shared-%d", i);
		else
			snprintf(id, sizeof(id), "own-%d-%d", it->thread, i);
		t = ticket_new(id, "chat", "c");
		if (store_group_intake(it->g, t, "triage", NULL, &out, &created, NULL) == STORE_OK)
			it->created += created;
		else
			it->failed++;
		json_decref(t);
		json_decref(out);
	}
	return NULL;
}

static void test_store_group_commit_batches_concurrent_intake(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct intake_thread it[6];
	pthread_t th[6];
	json_t *counts = NULL, *bad = json_pack("{s:s}", "id", "x");
	uint64_t batches = 0, tickets = 0;
	char *err = NULL;
	int i, created = 0;

	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 6; i++) {
		it[i] = (struct intake_thread){ g, i, 40, 0, 0 };
		pthread_create(&th[i], NULL, group_writer, &it[i]);
	}
	/* One bad ticket fails alone. */
	assert_int_equal(store_group_intake(g, bad, NULL, NULL, NULL, NULL, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "content"));
	free(err);
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(it[i].failed, 0);
		created += it[i].created;
	}
	store_group_stats(g, &batches, &tickets);
	store_group_close(g);
	assert_int_equal(created, 6 * 20 + 20);
	assert_int_equal(tickets, 6 * 40 + 1);
	assert_true(batches >= 1 && batches <= tickets);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 6 * 20 + 20);
	json_decref(counts);
	json_decref(bad);
}

struct submitted {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls, ok, created, failed;
	char *last_err;
};

static void on_submitted(void *arg, int rc, json_t *out, bool created, const char *err)
{
	struct submitted *s = arg;

	pthread_mutex_lock(&s->lock);
	s->calls++;
	if (rc == STORE_OK) {
		s->ok++;
		s->created += created;
		assert_non_null(out);
		assert_null(err);
	} else {
		s->failed++;
		assert_null(out);
		free(s->last_err);
		s->last_err = fl_strdup(err);
	}
	json_decref(out);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void test_store_group_submit_calls_back_when_durable(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct submitted s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL };
	json_t *tickets = json_array(), *bad = json_pack("{s:s}", "id", "x"), *t = NULL, *counts = NULL;
	char id[32], *err = NULL;
	int i;

	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 60; i++) {
		/* every tenth repeats an earlier id: the same ticket, not a new one */
		snprintf(id, sizeof(id), "async-%d", i % 10 == 9 ? i - 1 : i);
		json_array_append_new(tickets, ticket_new(id, "webhook", "c"));
		assert_int_equal(store_group_submit(g, json_array_get(tickets, (size_t)i), "triage", NULL,
						    on_submitted, &s), STORE_OK);
	}
	assert_int_equal(store_group_submit(g, bad, NULL, NULL, on_submitted, &s), STORE_OK);
	assert_int_equal(store_group_submit(g, NULL, NULL, NULL, on_submitted, &s), STORE_EINVAL);
	pthread_mutex_lock(&s.lock);
	while (s.calls < 61)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	assert_int_equal(s.ok, 60);
	assert_int_equal(s.created, 54);
	assert_int_equal(s.failed, 1);
	assert_non_null(strstr(s.last_err, "content"));
	/* told only once durable: another connection sees them */
	OK(store_ticket_get(st, "async-58", false, &t));
	json_decref(t);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 54);
	json_decref(counts);
	/* closing runs the callbacks still pending */
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "late-%d", i);
		json_array_append_new(tickets, ticket_new(id, "webhook", "c"));
		assert_int_equal(store_group_submit(g, json_array_get(tickets, json_array_size(tickets) - 1),
						    NULL, NULL, on_submitted, &s), STORE_OK);
	}
	store_group_close(g);
	assert_int_equal(s.calls, 66);
	assert_int_equal(s.created, 59);
	free(s.last_err);
	json_decref(tickets);
	json_decref(bad);
}

static int search_count(struct store *st, const char *query)
{
	struct store_ticket_filter flt = { .query = query, .limit = 500 };
	json_t *page = NULL;
	int n;

	OK(store_ticket_list(st, &flt, &page));
	n = (int)json_array_size(json_object_get(page, "tickets"));
	json_decref(page);
	return n;
}

#define WORDS(id, subject, content) J("{s:s, s:s, s:s}", "id", id, "subject", subject, "content", content)

/* New tickets are searchable however they came in (SQLite indexes them once per transaction). */
static void test_store_search_indexes_tickets_however_they_arrive(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct submitted s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL };
	char id[32], *err = NULL;
	int i;

	/* inside a transaction: found before the commit; a subject changed in it too */
	OK(store_begin_immediate(st));
	OK(store_ticket_intake(st, WORDS("tx1", "Zebra crossing", "stripes everywhere"), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, WORDS("tx2", "Walrus tusk", "an ivory question"), NULL, NULL, NULL, NULL));
	assert_int_equal(search_count(st, "zebra"), 1);
	OK(store_ticket_intake(st, WORDS("tx3", "Okapi sighting", "rare animal"), NULL, NULL, NULL, NULL));
	OK(store_ticket_update(st, "tx2", 0, J("{s:s}", "subject", "Narwhal horn"), "t", NULL));
	OK(store_commit(st));
	assert_int_equal(search_count(st, "zebra"), 1);
	assert_int_equal(search_count(st, "okapi"), 1);
	assert_int_equal(search_count(st, "narwhal"), 1);
	assert_int_equal(search_count(st, "walrus"), 0);
	assert_int_equal(search_count(st, "ivory"), 1);
	/* rolled back: not in the index; the next ticket (its number again) by its own words */
	OK(store_begin_immediate(st));
	OK(store_ticket_intake(st, WORDS("rb1", "Giraffe neck", "very tall"), NULL, NULL, NULL, NULL));
	store_rollback(st);
	OK(store_ticket_intake(st, WORDS("rb2", "Penguin feet", "always cold"), NULL, NULL, NULL, NULL));
	assert_int_equal(search_count(st, "giraffe"), 0);
	assert_int_equal(search_count(st, "penguin"), 1);
	/* imported */
	OK(store_ticket_import(st, J("[{s:s, s:s, s:s, s:s, s:s}]", "id", "imp1", "channel", "email",
				     "customer_id", "c", "subject", "Armadillo shell", "content", "hard"),
			       NULL));
	assert_int_equal(search_count(st, "armadillo"), 1);
	/* through the group commit: batches of many tickets */
	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 80; i++) {
		snprintf(id, sizeof(id), "grp-%d", i);
		assert_int_equal(store_group_submit(g, WORDS(id, "Platypus egg", i % 2 ? "odd one" : "even one"),
						    "triage", NULL, on_submitted, &s), STORE_OK);
	}
	pthread_mutex_lock(&s.lock);
	while (s.calls < 80)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	store_group_close(g);
	assert_int_equal(s.ok, 80);
	assert_int_equal(search_count(st, "platypus"), 80);
	assert_int_equal(search_count(st, "platypus odd"), 40);
	/* and the index agrees with the tickets, by FTS5's own check */
	if (!strcmp(f->g->backend, "sqlite"))
		behind_the_back(f->url, "INSERT INTO tickets_fts (tickets_fts) VALUES ('integrity-check')", NULL);
	free(s.last_err);
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long)sb.st_size;
}

/*
 * SQLite, durable settings: the group's connection leaves checkpoints to a
 * thread of its own; the log's pages still reach the database file.
 */
static void test_store_group_log_is_checkpointed(void **state)
{
	struct fx *f = *state;
	struct store_group *g = NULL;
	json_t *t = NULL;
	char *url, *db, *err = NULL, id[32];
	int64_t deadline;
	long before;
	int i;

	if (strcmp(f->g->backend, "sqlite"))
		skip();
	url = fl_asprintf("sqlite://%s/frontline.db", f->dir);   /* synchronous=full: deferred syncs */
	db = fl_asprintf("%s/frontline.db", f->dir);
	before = file_size(db);
	assert_int_equal(store_group_open(url, NULL, &g, &err), STORE_OK);
	/* one ticket per commit: well over SQLite's 1,000 frames of log */
	for (i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), "ckpt-%d", i);
		assert_int_equal(store_group_intake(g, TICKET(id, "web", "c"), "triage", NULL, NULL, NULL, &err),
				 STORE_OK);
	}
	deadline = fl_mono_us() + 20 * 1000000LL;
	while (file_size(db) <= before && fl_mono_us() < deadline)
		fl_sleep_us(20000);
	assert_true(file_size(db) > before);
	store_group_close(g);
	{
		struct store *st = f->st;

		OK(store_ticket_get(st, "ckpt-249", false, &t));
	}
	json_decref(t);
	free(url);
	free(db);
}

static void test_store_refuses_a_newer_schema(void **state)
{
	struct fx *f = *state;
	struct store *st = NULL;
	char *err = NULL;

	store_close(f->st);
	f->st = NULL;
	set_version(f->url, store_schema_latest() + 1);
	assert_int_equal(store_open(f->url, &st, &err), STORE_EVERSION);
	assert_null(st);
	assert_non_null(strstr(err, "newer"));
	free(err);
	assert_int_equal(store_open_nomigrate(f->url, &st, &err), STORE_EVERSION);
	free(err);
	/* Back to current: fine again. */
	set_version(f->url, store_schema_latest());
	assert_int_equal(store_open(f->url, &f->st, &err), STORE_OK);
}

static void test_store_claims_never_hand_a_job_twice(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *other = NULL;
	struct store_job *a = NULL, *b = NULL;
	char *err = NULL;
	int i, got = 0;

	assert_int_equal(store_open(f->url, &other, &err), STORE_OK);
	for (i = 0; i < 20; i++)
		OK(store_job_enqueue(st, "k", NULL, NULL, 3, 0, NULL));
	for (i = 0; i < 10; i++) {
		OK(store_job_claim(st, "k", "a", 60, &a));
		assert_int_equal(store_job_claim(other, "k", "b", 60, &b), STORE_OK);
		assert_true(a->id != b->id);
		OK(store_job_complete(st, a->id, "a"));
		assert_int_equal(store_job_complete(other, b->id, "b"), STORE_OK);
		store_job_free(a);
		store_job_free(b);
		got += 2;
	}
	assert_int_equal(store_job_claim(st, "k", "a", 60, &a), STORE_ENOTFOUND);
	assert_int_equal(got, 20);
	store_close(other);
}

/* ---- the email channel's records ---- */

static void test_store_blobs_are_kept_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	const char data[] = "PDF\0\xff\x80 bytes";
	char hex[65], hex2[65];
	void *back = NULL;
	size_t len = 0;
	json_t *meta = NULL;
	bool created;

	OK(store_blob_put(st, data, sizeof(data), "application/pdf", hex, &created));
	assert_true(created);
	assert_int_equal(strlen(hex), 64);
	OK(store_blob_put(st, data, sizeof(data), "text/plain", hex2, &created));
	assert_false(created);
	assert_string_equal(hex, hex2);
	OK(store_blob_get(st, hex, &back, &len, &meta));
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	assert_string_equal(fl_json_str(meta, "content_type", ""), "application/pdf");
	assert_int_equal(fl_json_int(meta, "size", 0), sizeof(data));
	free(back);
	json_decref(meta);
	/* empty bytes are a blob too */
	OK(store_blob_put(st, "", 0, NULL, hex2, &created));
	assert_string_equal(hex2, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	OK(store_blob_get(st, hex2, &back, &len, NULL));
	assert_int_equal(len, 0);
	free(back);
	assert_int_equal(store_blob_get(st, "0000000000000000000000000000000000000000000000000000000000000000",
					&back, &len, NULL), STORE_ENOTFOUND);
	assert_int_equal(store_blob_get(st, "xyz", &back, &len, NULL), STORE_EINVAL);
	assert_null(back);
}

static void test_store_mail_raw_is_kept_first_and_linked(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	const char raw[] = "From: a@b.c\r\nSubject: caf\xe9\r\n\r\nbody\0with a NUL\r\n";
	json_t *r1 = NULL, *r2 = NULL, *list = NULL, *got = NULL;
	void *back = NULL;
	size_t len;
	bool created;
	int64_t id;

	OK(store_mail_raw_put(st, raw, sizeof(raw) - 1, "pipe", &r1, &created));
	assert_true(created);
	id = fl_json_int(r1, "id", 0);
	assert_true(id > 0);
	assert_string_equal(fl_json_str(r1, "status", ""), "received");
	assert_string_equal(fl_json_str(r1, "source", ""), "pipe");
	assert_int_equal(fl_json_int(r1, "size", 0), sizeof(raw) - 1);
	assert_true(json_is_null(json_object_get(r1, "ticket_id")));
	/* the same bytes again (a mail server's retry): the first record */
	OK(store_mail_raw_put(st, raw, sizeof(raw) - 1, "imap", &r2, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(r2, "id", 0), id);
	/* the bytes are a blob under the record's hash */
	OK(store_blob_get(st, fl_json_str(r1, "sha256", ""), &back, &len, NULL));
	assert_int_equal(len, sizeof(raw) - 1);
	assert_memory_equal(back, raw, len);
	free(back);
	OK(store_mail_raw_list(st, "received", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	OK(store_ticket_intake(st, TICKET("mail-1", "email", "a@b.c"), NULL, NULL, NULL, NULL));
	OK(store_mail_raw_finish(st, id, "ticket", "mail-1", NULL));
	OK(store_mail_raw_get(st, id, &got));
	assert_string_equal(fl_json_str(got, "status", ""), "ticket");
	assert_string_equal(fl_json_str(got, "ticket_id", ""), "mail-1");
	assert_non_null(fl_json_str(got, "processed_at", NULL));
	OK(store_mail_raw_list(st, "received", 0, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	OK(store_mail_raw_finish(st, id, "failed", NULL, "parser crashed"));
	json_decref(got);
	OK(store_mail_raw_get(st, id, &got));
	assert_string_equal(fl_json_str(got, "error", ""), "parser crashed");
	assert_true(json_is_null(json_object_get(got, "ticket_id")));
	assert_int_equal(store_mail_raw_finish(st, id, "received", NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_mail_raw_finish(st, id + 100, "ticket", NULL, NULL), STORE_ENOTFOUND);
	assert_int_equal(store_mail_raw_finish(st, id, "ticket", "no-such-ticket", NULL), STORE_ENOTFOUND);
	json_decref(got);
	json_decref(r1);
	json_decref(r2);
}

static void test_store_imap_state_round_trips(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t v, uid;

	assert_int_equal(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid), STORE_ENOTFOUND);
	OK(store_imap_state_set(st, "imap://a@h/INBOX", 1795628429, 3));
	OK(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid));
	assert_int_equal(v, 1795628429);
	assert_int_equal(uid, 3);
	OK(store_imap_state_set(st, "imap://a@h/INBOX", 42, 0));
	OK(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid));
	assert_int_equal(v, 42);
	assert_int_equal(uid, 0);
	assert_int_equal(store_imap_state_get(st, "imap://a@h/Other", &v, &uid), STORE_ENOTFOUND);
	assert_int_equal(store_imap_state_set(st, "x", -1, 0), STORE_EINVAL);
}

static void test_store_rate_hits_slide(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t n = 0;
	int i;

	store_set_clock(st, fake_now, f);
	for (i = 1; i <= 5; i++) {
		OK(store_rate_hit(st, "email:a@b.c", 60, &n));
		assert_int_equal(n, i);
		f->now += 10 * 1000000LL;
	}
	OK(store_rate_hit(st, "email:other@b.c", 60, &n));
	assert_int_equal(n, 1);
	/* at 70 s the hits at 0 s and 10 s have left the 60 s window */
	f->now += 20 * 1000000LL;
	OK(store_rate_hit(st, "email:a@b.c", 60, &n));
	assert_int_equal(n, 4);
	f->now += 3600 * 1000000LL;
	OK(store_rate_hit(st, "email:a@b.c", 60, &n));
	assert_int_equal(n, 1);
	assert_int_equal(store_rate_hit(st, "k", 0, &n), STORE_EINVAL);
}

static void test_store_alerts_raise_once_and_resolve(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *list = NULL;
	bool raised = false;

	store_set_clock(st, fake_now, f);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s, s:s, s:f, s:f}", "type", "low_satisfaction", "severity",
				   "critical", "metric", "satisfaction_score", "message", "satisfaction 0.6 is below 0.7",
				   "value", 0.6, "threshold", 0.7), &a, &raised));
	assert_true(raised);
	assert_string_equal(fl_json_str(a, "status", ""), "active");
	assert_true(fabs(fl_json_num(a, "value", 0) - 0.6) < 1e-9);
	json_decref(a);
	/* the condition persists: the same alert, seen again */
	f->now += 60 * 1000000LL;
	OK(store_alert_raise(st, J("{s:s, s:s, s:s, s:f}", "type", "low_satisfaction", "severity", "critical",
				   "message", "satisfaction 0.5 is below 0.7", "value", 0.5), &a, &raised));
	assert_false(raised);
	assert_int_equal(fl_json_int(a, "observations", 0), 2);
	assert_string_equal(fl_json_str(a, "message", ""), "satisfaction 0.5 is below 0.7");
	assert_true(json_is_null(json_object_get(a, "threshold")));
	assert_string_not_equal(fl_json_str(a, "raised_at", ""), fl_json_str(a, "last_seen_at", ""));
	json_decref(a);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s}", "type", "queue_backlog", "severity", "warning",
				   "message", "jobs waiting"), NULL, &raised));
	assert_true(raised);
	OK(store_alert_list(st, "active", 0, &list));
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	/* cleared: resolved, and a new occurrence is a new alert */
	OK(store_alert_resolve(st, "low_satisfaction", &a));
	assert_string_equal(fl_json_str(a, "status", ""), "resolved");
	assert_false(json_is_null(json_object_get(a, "resolved_at")));
	json_decref(a);
	assert_int_equal(store_alert_resolve(st, "low_satisfaction", NULL), STORE_ENOTFOUND);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s}", "type", "low_satisfaction", "severity", "critical",
				   "message", "again"), NULL, &raised));
	assert_true(raised);
	OK(store_alert_list(st, "resolved", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	OK(store_alert_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	assert_int_equal(store_alert_raise(st, J("{s:s}", "type", "x"), NULL, &raised), STORE_EINVAL);
	assert_int_equal(store_alert_list(st, "sleeping", 0, &list), STORE_EINVAL);
}

static void test_store_lock_has_one_holder(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *other = NULL;
	bool got = false;
	char *err = NULL;

	store_set_clock(st, fake_now, f);
	assert_int_equal(store_open(f->url, &other, &err), STORE_OK);
	store_set_clock(other, fake_now, f);
	OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
	assert_true(got);
	OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
	assert_true(got);     /* its holder may take it again */
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_false(got);
	assert_int_equal(store_lock_try(other, "frontline.other", "replica-b", 120, &got), STORE_OK);
	assert_true(got);     /* locks are independent by name */
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_true(got);
	assert_int_equal(store_lock_release(other, "frontline.monitor", "replica-b"), STORE_OK);
	/* a holder that vanishes: its connection (PostgreSQL) or its lease (SQLite) ends */
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_true(got);
	store_close(other);
	f->now += 121 * 1000000LL;
	{
		/* PostgreSQL ends the closed session's backend asynchronously: wait for it, bounded */
		int64_t deadline = fl_mono_us() + 10 * 1000000LL;

		do {
			OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
			if (!got)
				fl_sleep_us(10000);
		} while (!got && fl_mono_us() < deadline);
	}
	assert_true(got);
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));   /* not held: fine */
	assert_int_equal(store_lock_try(st, "x", "o", 0, &got), STORE_EINVAL);
}

static void test_store_job_release_does_not_count_the_attempt(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_job *job = NULL;

	store_set_clock(st, fake_now, f);
	OK(store_job_enqueue(st, "triage", NULL, NULL, 3, 0, NULL));
	OK(store_job_claim(st, "triage", "w1", 300, &job));
	assert_int_equal(job->attempts, 1);
	assert_int_equal(store_job_release(st, job->id, "w2"), STORE_ELEASE);
	OK(store_job_release(st, job->id, "w1"));
	assert_int_equal(store_job_complete(st, job->id, "w1"), STORE_ELEASE);
	store_job_free(job);
	/* due again at once, with the attempt given back */
	OK(store_job_claim(st, "triage", "w2", 300, &job));
	assert_int_equal(job->attempts, 1);
	OK(store_job_complete(st, job->id, "w2"));
	assert_int_equal(store_job_release(st, 999999, "w2"), STORE_ENOTFOUND);
	store_job_free(job);
}

static void test_store_outbox_retry_and_counts(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *items = NULL, *counts = NULL;
	bool created;
	int64_t id;

	store_set_clock(st, fake_now, f);
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "a"), "a", &created));
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "b"), "b", &created));
	OK(store_outbox_claim(st, "n", 1, 30, &items));
	id = fl_json_int(json_array_get(items, 0), "id", 0);
	json_decref(items);
	assert_int_equal(store_outbox_retry(st, id), STORE_ECONFLICT);
	OK(store_outbox_fail(st, id, "HTTP 404", 10, 1));
	OK(store_outbox_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "dead", -1), 1);
	assert_int_equal(fl_json_int(counts, "pending", -1), 1);
	assert_int_equal(fl_json_int(counts, "sent", -1), 0);
	json_decref(counts);
	OK(store_outbox_retry(st, id));
	OK(store_outbox_claim(st, "n", 10, 30, &items));
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(fl_json_int(json_array_get(items, 0), "attempts", 0) +
			 fl_json_int(json_array_get(items, 1), "attempts", 0), 2);
	json_decref(items);
	OK(store_outbox_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "sending", -1), 2);
	json_decref(counts);
	assert_int_equal(store_outbox_retry(st, 424242), STORE_ENOTFOUND);
}

static void test_store_intake_failing_midway_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter all = { 0 };
	json_t *page = NULL, *events = NULL;

	/* The first message's insert fails after the ticket's: a fault in the middle of intake. */
	behind_the_back(f->url,
			"CREATE TRIGGER boom BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'boom'); END",
			"CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS"
			" $$ BEGIN RAISE EXCEPTION 'boom'; END $$;"
			"CREATE TRIGGER boom BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION boom()");
	OK(store_event_append(st, NULL, "before", "test", NULL));
	assert_int_not_equal(store_ticket_intake(st, TICKET("half", "api", "c"), "triage", NULL, NULL, NULL),
			     STORE_OK);
	OK(store_ticket_list(st, &all, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(page);
	/* Inside a transaction the failure dooms it: nothing of it is committed. */
	OK(store_begin(st));
	OK(store_event_append(st, NULL, "inside", "test", NULL));
	assert_int_not_equal(store_ticket_intake(st, TICKET("half", "api", "c"), "triage", NULL, NULL, NULL),
			     STORE_OK);
	assert_int_equal(store_commit(st), STORE_EIO);
	assert_non_null(strstr(store_errmsg(st), "rolled back"));
	assert_false(store_in_transaction(st));
	OK(store_ticket_list(st, &all, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(page);
	OK(store_event_list(st, NULL, 10, &events));
	assert_int_equal(json_array_size(events), 1);
	assert_string_equal(fl_json_str(json_array_get(events, 0), "type", ""), "before");
	json_decref(events);
	/* And the handle works on. */
	behind_the_back(f->url, "DROP TRIGGER boom", "DROP TRIGGER boom ON messages");
	OK(store_ticket_intake(st, TICKET("half", "api", "c"), "triage", NULL, NULL, NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_store_open_migrates_to_latest),
	T(test_store_rejects_bad_urls),
	T(test_store_intake_is_idempotent),
	T(test_store_intake_answer_equals_a_fresh_read),
	T(test_store_sqlite_migration_6_keeps_rows_and_checks),
	T(test_store_intake_honours_idempotency_key),
	T(test_store_intake_rejects_invalid_and_writes_nothing),
	T(test_store_ticket_get_by_id_or_number_with_thread),
	T(test_store_list_filters_and_keyset_pages),
	T(test_store_search_matches_words_with_stemming),
	T(test_store_update_checks_version_and_audits),
	T(test_store_message_effect_key_writes_once),
	T(test_store_customer_metrics_follow_the_seed),
	T(test_store_kb_articles_round_trip),
	T(test_store_defer_sync_commits_then_syncs),
	T(test_store_json_fields_keep_huge_numbers),
	T(test_store_escalations_one_open_per_ticket),
	T(test_store_events_are_an_append_only_log),
	T(test_store_outbox_dedupes_retries_and_dies),
	T(test_store_jobs_lease_retry_and_dead_letter),
	T(test_store_transaction_is_all_or_nothing),
	T(test_store_metrics_over_a_window),
	T(test_store_tokens_keep_only_hashes),
	T(test_store_import_is_idempotent),
	T(test_store_group_commit_batches_concurrent_intake),
	T(test_store_group_submit_calls_back_when_durable),
	T(test_store_search_indexes_tickets_however_they_arrive),
	T(test_store_group_log_is_checkpointed),
	T(test_store_refuses_a_newer_schema),
	T(test_store_claims_never_hand_a_job_twice),
	T(test_store_intake_failing_midway_writes_nothing),
	T(test_store_blobs_are_kept_once),
	T(test_store_mail_raw_is_kept_first_and_linked),
	T(test_store_imap_state_round_trips),
	T(test_store_rate_hits_slide),
	T(test_store_alerts_raise_once_and_resolve),
	T(test_store_lock_has_one_holder),
	T(test_store_job_release_does_not_count_the_attempt),
	T(test_store_outbox_retry_and_counts),
};

int main(void)
{
	int failed = 0;

	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	failed += cmocka_run_group_tests_name("store_sqlite", tests, group_sqlite, group_done);
	failed += cmocka_run_group_tests_name("store_postgres", tests, group_postgres, group_done);
	return failed ? 1 : 0;
}
