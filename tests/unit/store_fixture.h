/*
 * store_fixture: what the store's test programs share (test_store_tickets,
 * test_store_queue, test_store_records). Each program's tests run twice,
 * against every backend: SQLite (a file in a temporary directory) and
 * PostgreSQL (a private server started by tests/harness/pg_harness from
 * Debian's binaries, one per program). Each test gets a fresh database. If
 * the PostgreSQL server cannot start, the postgres group fails with the
 * reason; nothing is skipped.
 *
 * A program includes this header after test_helpers.h, lists its tests with
 * FX_TEST and runs them with FX_RUN:
 *
 *   static const struct CMUnitTest tests[] = { FX_TEST(test_store_x), ... };
 *   int main(void) { return FX_RUN("store_x", tests) ? 1 : 0; }
 *
 * Programs run in parallel without meeting: SQLite files live in a
 * directory of test_tmpdir's, each program starts its own PostgreSQL server
 * in a directory of its own (a Unix socket there, no TCP listener).
 */
#ifndef FL_STORE_FIXTURE_H
#define FL_STORE_FIXTURE_H

#include "backends.h"
#include "pg_harness.h"
#include "store/store.h"

/* One backend's group: static, lives for the whole program. */
struct fx_group {
	const char *backend;  /* "sqlite" or "postgres" */
	struct pg_harness pg; /* the server (postgres group only) */
};

/* One test's state, made by fx_setup and freed by fx_teardown. */
struct fx {
	struct fx_group *g;
	char *dir;            /* SQLite's temporary directory (NULL on PostgreSQL) */
	char *url;
	struct store *st;     /* open on url; a test may close and reopen it (NULL allowed at teardown) */
	int64_t now;          /* the fake clock read by fx_fake_now */
};

/*
 * fx_group_sqlite, fx_group_postgres, fx_group_done, fx_setup, fx_teardown,
 * fx_run, FX_TEST and FX_RUN: the fixture interface of backends.h. Here
 * fx_run logs errors only and runs the tests on SQLite, then on PostgreSQL.
 */

/*
 * Keeps v (a new reference: takes ownership) until the test's teardown and
 * returns it, borrowed: for values handed to functions that only borrow them.
 */
json_t *fx_keep(json_t *v);

/* A new ticket body (caller owns the reference); id may be NULL. */
json_t *fx_ticket_new(const char *id, const char *channel, const char *customer);

/* A JSON value packed as json_pack does, kept until teardown (borrowed). */
#define J(...) fx_keep(json_pack(__VA_ARGS__))
/* A ticket body as fx_ticket_new makes it, kept until teardown (borrowed). */
#define TICKET(id, ch, cust) fx_keep(fx_ticket_new(id, ch, cust))
/* Fails the test with the store's message unless expr is STORE_OK (needs `st` in scope). */
#define OK(expr) \
	do { \
		int rc_ = (expr); \
		if (rc_ != STORE_OK) \
			fail_msg("%s: %s: %s", #expr, store_errname(rc_), store_errmsg(st)); \
	} while (0)

/*
 * Runs SQL on the store's database behind its back: sqlite_sql on a SQLite
 * URL, pg_sql on a PostgreSQL one. Fails the test if the statement fails.
 */
void fx_behind_the_back(const char *url, const char *sqlite_sql, const char *pg_sql);

/* A store clock (store_set_clock) reading ((struct fx *)arg)->now. */
int64_t fx_fake_now(void *arg);

#endif
