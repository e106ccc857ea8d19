/*
 * backends: a fresh store per test on each backend, and a suite run once
 * per backend (see backends.h). The servers themselves are pg_harness's.
 */
#include <stdio.h>

#include "backends.h"

int backend_start(const char *backend, struct pg_harness *pg)
{
	char *url = NULL;

	if (strcmp(backend, "postgres"))
		return 0;
	if (pg_harness_start(pg, &url)) {
		fprintf(stderr, "cannot start the PostgreSQL test server: %s\n", pg_harness_error(pg));
		return -1;
	}
	free(url);
	return 0;
}

int backend_fresh_url(const char *backend, struct pg_harness *pg, char **url, char **dir)
{
	*url = *dir = NULL;
	if (!strcmp(backend, "sqlite")) {
		*dir = test_tmpdir();
		*url = fl_asprintf("sqlite://%s/frontline.db?synchronous=normal", *dir);
		return 0;
	}
	if (pg_harness_create_db(pg, url)) {
		fprintf(stderr, "%s\n", pg_harness_error(pg));
		return -1;
	}
	return 0;
}

int backend_run_all(const char *name, const struct CMUnitTest *tests, size_t count,
		    CMFixtureFunction group_sqlite, CMFixtureFunction group_postgres, CMFixtureFunction group_done)
{
	char *sqlite = fl_asprintf("%s_sqlite", name), *postgres = fl_asprintf("%s_postgres", name);
	int failed = 0;

	/* what cmocka_run_group_tests_name expands to, with a count known only here */
	failed += _cmocka_run_group_tests(sqlite, tests, count, group_sqlite, group_done);
	failed += _cmocka_run_group_tests(postgres, tests, count, group_postgres, group_done);
	free(sqlite);
	free(postgres);
	return failed;
}
