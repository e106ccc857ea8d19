/*
 * store_fixture: the fixture of the store's test programs (see
 * store_fixture.h): backend groups, a fresh store per test, the values kept
 * until teardown, SQL behind the store's back, and the fake clock. The tests
 * themselves are in test_store_*.c.
 */
#include "test_helpers.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "backends.h"
#include "store_fixture.h"

/* Values the tests pass to borrowing functions live until teardown. */
static json_t *arena;

json_t *fx_keep(json_t *v)
{
	json_array_append_new(arena, v);
	return v;
}

json_t *fx_ticket_new(const char *id, const char *channel, const char *customer)
{
	json_t *t = json_pack("{s:s, s:s, s:s, s:s}", "channel", channel, "customer_id", customer,
			      "subject", "Cannot log in", "content", "The password reset email never arrives.");

	if (id)
		json_object_set_new(t, "id", json_string(id));
	return t;
}

void fx_behind_the_back(const char *url, const char *sqlite_sql, const char *pg_sql)
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

int64_t fx_fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

int fx_group_sqlite(void **state)
{
	static struct fx_group g = { "sqlite", PG_HARNESS_INIT };

	*state = &g;
	return 0;
}

int fx_group_postgres(void **state)
{
	static struct fx_group g = { "postgres", PG_HARNESS_INIT };

	*state = &g;
	return backend_start(g.backend, &g.pg);
}

int fx_group_done(void **state)
{
	struct fx_group *g = *state;

	pg_harness_stop(&g->pg);
	return 0;
}

/* Frees f and what it still holds (the store, the kept values, the SQLite directory). */
static void fx_free(struct fx *f)
{
	store_close(f->st);
	json_decref(arena);
	arena = NULL;
	if (f->dir)
		test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
}

int fx_setup(void **state)
{
	struct fx_group *g = *state;
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *err = NULL;
	int rc = -1;

	f->g = g;
	if (backend_fresh_url(g->backend, &g->pg, &f->url, &f->dir))
		goto out;
	if (store_open(f->url, &f->st, &err)) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	f->now = 1700000000000000LL;
	arena = json_array();
	*state = f;
	f = NULL;
	rc = 0;
out:
	if (f)
		fx_free(f);
	free(err);
	return rc;
}

int fx_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

int fx_run(const char *name, const struct CMUnitTest *tests, size_t count)
{
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	return backend_run_all(name, tests, count, fx_group_sqlite, fx_group_postgres, fx_group_done);
}
