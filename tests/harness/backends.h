/*
 * backends: the store backends a suite runs its tests against, as cmocka
 * groups: "sqlite" (a file in a temporary directory per test) and
 * "postgres" (a private server per program, from pg_harness, and a database
 * per test). Shared by the fixtures of the store's and the HTTP service's
 * test programs (tests/unit/store_fixture.c, tests/unit/server_fixture.c);
 * what a test needs beyond a fresh store URL is theirs.
 *
 * A fixture's group keeps the backend's name and a struct pg_harness
 * (PG_HARNESS_INIT); its group setup calls backend_start, its per-test
 * setup backend_fresh_url, its group teardown pg_harness_stop.
 */
#ifndef FL_BACKENDS_H
#define FL_BACKENDS_H

#include "test_helpers.h"
#include "pg_harness.h"

/*
 * Starts what the backend needs: for "postgres" the server in pg (stopped
 * by pg_harness_stop), for "sqlite" nothing. Returns 0, or -1 having said
 * why on stderr (the group then fails; nothing is skipped).
 */
int backend_start(const char *backend, struct pg_harness *pg);

/*
 * A fresh, empty store for one test: *url (caller frees) names a new SQLite
 * file in a new temporary directory, *dir (caller removes it with
 * test_tmpdir_remove and frees it), or a new database on pg's server (*dir
 * NULL). Returns 0, or -1 having said why on stderr.
 */
int backend_fresh_url(const char *backend, struct pg_harness *pg, char **url, char **dir);

/*
 * Runs count tests on SQLite, then on PostgreSQL, as the groups
 * "<name>_sqlite" and "<name>_postgres" with the given group fixtures.
 * Returns the number of tests that failed.
 */
int backend_run_all(const char *name, const struct CMUnitTest *tests, size_t count,
		    CMFixtureFunction group_sqlite, CMFixtureFunction group_postgres, CMFixtureFunction group_done);

/*
 * The fixture interface: a family of test programs (the store's, the
 * server's) defines these once, in its tests/unit/<family>_fixture.c, with
 * its own struct fx_group and struct fx; a program links one family's.
 */
struct fx_group;

/* Group fixtures: *state becomes the backend's static struct fx_group. */
int fx_group_sqlite(void **state);
int fx_group_postgres(void **state);
int fx_group_done(void **state);
/* Test fixtures: *state becomes a fresh struct fx (freed by fx_teardown). */
int fx_setup(void **state);
int fx_teardown(void **state);
/*
 * The family's process-wide set-up, then backend_run_all with the group
 * fixtures above. Returns the number of tests that failed.
 */
int fx_run(const char *name, const struct CMUnitTest *tests, size_t count);

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
#define FX_RUN(name, tests) fx_run(name, tests, FL_ARRAY_SIZE(tests))

#endif
