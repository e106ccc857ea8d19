/*
 * The store's tickets, against every backend (store_fixture.h): opening and
 * migrating the schema (and refusing a newer one), intake (idempotent, by
 * key, invalid, failing midway), its answer against a fresh read, reads by id
 * or number with the thread, keyset pages, search, versioned updates with
 * their audit events, messages, JSON fields and bulk import.
 *
 * Queues, leases, transactions and group commit are in test_store_queue.c;
 * customers, KB, escalations, events and the other records in
 * test_store_records.c; bad input in test_store_bad_input.c.
 */
#include "test_helpers.h"

#include <math.h>
#include <sqlite3.h>

#include "store_fixture.h"

/* Sets the schema version behind the store's back (to test refusal). */
static void set_version(const char *url, int v)
{
	char *a = fl_asprintf("PRAGMA user_version = %d", v);
	char *b = fl_asprintf("UPDATE frontline_schema SET version = %d", v);

	fx_behind_the_back(url, a, b);
	free(a);
	free(b);
}

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

	store_set_clock(st, fx_fake_now, f);
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
	/* the file as version 5 had it: the CHECKs as IN lists, and nothing of migrations 7 and 8 */
	fx_behind_the_back(f->url,
		"BEGIN;"
		"DROP TABLE surveys;" /* migration 11's */
		"DROP TABLE chat_sessions;" /* migration 13's */
		"DROP TABLE macros;" /* migration 14's */
		"DROP TABLE departments;" /* migration 15's */
		"DROP TABLE calls; DROP INDEX customers_phone;" /* migration 17's */
		"DROP TABLE canned_responses; DROP TABLE presence; DROP TABLE login_failures; DROP TABLE sessions;"
		"DROP TABLE users; DROP INDEX events_corrected; DROP INDEX tickets_language; DROP INDEX tickets_open;"
		"DROP INDEX tickets_open_assignee; DROP INDEX tickets_open_department;"
		"DROP TABLE sla_objects; DROP TABLE sla_versions;" /* migration 12's */
		"CREATE TABLE m5 (id INTEGER PRIMARY KEY, ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
		" direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')), author TEXT,"
		" body TEXT NOT NULL, created_at INTEGER NOT NULL, email_message_id TEXT, in_reply_to TEXT,"
		" effect_key TEXT, metadata TEXT NOT NULL DEFAULT '{}', UNIQUE (ticket_number, effect_key)) STRICT;"
		"INSERT INTO m5 SELECT id, ticket_number, direction, author, body, created_at, email_message_id,"
		" in_reply_to, effect_key, metadata FROM messages;"
		" DROP TABLE messages; ALTER TABLE m5 RENAME TO messages;"
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
		"ALTER TABLE tickets DROP COLUMN language;" /* migration 7's */
		/* and without what version 8 added */
		"DROP TABLE secrets; ALTER TABLE outbox DROP COLUMN started_at;"
		"ALTER TABLE kb_articles DROP COLUMN language;" /* migration 9's */
		"ALTER TABLE kb_articles DROP COLUMN source; ALTER TABLE kb_articles DROP COLUMN source_hash;" /* 16's */
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

static void test_store_intake_failing_midway_writes_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter all = { 0 };
	json_t *page = NULL, *events = NULL;

	/* The first message's insert fails after the ticket's: a fault in the middle of intake. */
	fx_behind_the_back(f->url,
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
	fx_behind_the_back(f->url, "DROP TRIGGER boom", "DROP TRIGGER boom ON messages");
	OK(store_ticket_intake(st, TICKET("half", "api", "c"), "triage", NULL, NULL, NULL));
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_open_migrates_to_latest),
	FX_TEST(test_store_rejects_bad_urls),
	FX_TEST(test_store_intake_is_idempotent),
	FX_TEST(test_store_intake_answer_equals_a_fresh_read),
	FX_TEST(test_store_sqlite_migration_6_keeps_rows_and_checks),
	FX_TEST(test_store_intake_honours_idempotency_key),
	FX_TEST(test_store_intake_rejects_invalid_and_writes_nothing),
	FX_TEST(test_store_ticket_get_by_id_or_number_with_thread),
	FX_TEST(test_store_list_filters_and_keyset_pages),
	FX_TEST(test_store_search_matches_words_with_stemming),
	FX_TEST(test_store_update_checks_version_and_audits),
	FX_TEST(test_store_message_effect_key_writes_once),
	FX_TEST(test_store_json_fields_keep_huge_numbers),
	FX_TEST(test_store_import_is_idempotent),
	FX_TEST(test_store_refuses_a_newer_schema),
	FX_TEST(test_store_intake_failing_midway_writes_nothing),
};

int main(void)
{
	return FX_RUN("store_tickets", tests) ? 1 : 0;
}
