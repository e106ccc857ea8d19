/*
 * The store's dialect seam (src/store/dialect.h, sql.c), against every
 * backend (store_fixture.h): the shared SQL rewritten per dialect, every
 * kind of bound value coming back as bound, transactions nesting as
 * savepoints (inside Frontline's own transaction and the caller's), the
 * statement cache (one prepare per text per connection, a new session
 * prepares again), and the engines' errors mapped to the same store codes.
 *
 * The verbs written on the seam are tested through the public API by
 * test_store_tickets.c, test_store_queue.c and test_store_records.c.
 */
#include "test_helpers.h"

#include <string.h>

#include "store_fixture.h"
#include "store/dialect.h"

static bool on_postgres(struct store *st)
{
	return !strcmp(store_backend(st), "postgres");
}

/* A scratch table of this session's, outside the schema. */
static void scratch(struct store__sql *c)
{
	struct store *st = &c->base;

	OK(c->d->control(c, "CREATE TEMP TABLE seam (k text PRIMARY KEY, v bigint NOT NULL)"));
}

static void put(struct store__sql *c, const char *k, int rc)
{
	struct store *st = &c->base;

	if (rc == STORE_OK)
		OK(store__sql_exec(c, NULL, "INSERT INTO seam (k, v) VALUES (?, 1)", "t", k));
	else
		assert_int_equal(store__sql_exec(c, NULL, "INSERT INTO seam (k, v) VALUES (?, 1)", "t", k), rc);
}

/* The keys in seam, in order, joined by commas. */
static char *keys(struct store__sql *c)
{
	struct store *st = &c->base;
	struct fl_buf b = FL_BUF_INIT;
	struct store__cur cur;
	int r;

	OK(store__sql_query(c, &cur, "SELECT k FROM seam ORDER BY k", NULL));
	while ((r = store__sql_step(c, &cur)) > 0)
		fl_buf_addf(&b, "%s%s", b.len ? "," : "", cur.row.ops->text(&cur.row, 0));
	store__sql_done(c, &cur);
	assert_int_equal(r, 0);
	return fl_buf_detach(&b, NULL);
}

static void expect_keys(struct store__sql *c, const char *want)
{
	char *got = keys(c);

	assert_string_equal(got, want);
	free(got);
}

static void test_store_dialect_rewrites_the_shared_sql(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store__sql *c = STORE__SQL(st);
	bool pg = on_postgres(st);
	char *sql;
	int64_t n = 0;
	struct store__cur cur;

	sql = store__sql_rewrite(c->d, "SELECT ?, ?3, ?, 'it''s ?', \"a?b\" FROM t WHERE x = ?1::bigint"
				 " AND y::text = ?2::float8 FOR UPDATE");
	assert_string_equal(sql, pg ?
			    "SELECT $1, $3, $4, 'it''s ?', \"a?b\" FROM t WHERE x = $1::bigint"
			    " AND y::text = $2::float8 FOR UPDATE" :
			    "SELECT ?, ?3, ?, 'it''s ?', \"a?b\" FROM t WHERE x = ?1 AND y = ?2");
	free(sql);
	/* FOR UPDATE goes only at the end; ::casts go only outside strings */
	sql = store__sql_rewrite(c->d, "SELECT 'a::b FOR UPDATE', ?::jsonb FROM t FOR UPDATE SKIP LOCKED");
	assert_string_equal(sql, pg ? "SELECT 'a::b FOR UPDATE', $1::jsonb FROM t FOR UPDATE SKIP LOCKED" :
			    "SELECT 'a::b FOR UPDATE', ? FROM t FOR UPDATE SKIP LOCKED");
	free(sql);

	/* numbered and bare placeholders run as numbered: ?2 - ?1 + ?(3) */
	OK(store__sql_int(c, &n, "SELECT ?2::bigint - ?1::bigint + ?::bigint", "iii", (int64_t)2,
			  (int64_t)10, (int64_t)34));
	assert_int_equal(n, 42);
	OK(store__sql_query(c, &cur, "SELECT ?2::text || ?1::text, 'it''s ?'", "tt", "x", "y"));
	assert_int_equal(store__sql_step(c, &cur), 1);
	assert_string_equal(cur.row.ops->text(&cur.row, 0), "yx");
	assert_string_equal(cur.row.ops->text(&cur.row, 1), "it's ?");
	assert_int_equal(store__sql_step(c, &cur), 0);
	store__sql_done(c, &cur);
}

static void test_store_dialect_binds_every_kind_of_value(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store__sql *c = STORE__SQL(st);
	static const unsigned char bytes[] = { 'a', 0, 0xff, '\\', 'x', 0x7f };
	struct store__cur cur;
	void *got;
	size_t len = 0;

	OK(store__sql_query(c, &cur, "SELECT ?1::text, ?2::text, ?3::bigint, ?4::bigint, ?5::bigint,"
			    " ?6::float8, ?7::float8, ?8::boolean, ?9::boolean, ?10::bytea",
			    "ttijjdebbx", "a 'quoted' text", (const char *)NULL, (int64_t)-7,
			    (int64_t)1700000000000000, (int64_t)-1, 0.25, -1.0, 1, 0,
			    (const void *)bytes, sizeof(bytes)));
	assert_int_equal(store__sql_step(c, &cur), 1);
	assert_string_equal(cur.row.ops->text(&cur.row, 0), "a 'quoted' text");
	assert_true(cur.row.ops->is_null(&cur.row, 1));
	assert_null(cur.row.ops->text(&cur.row, 1));
	assert_int_equal(cur.row.ops->i64(&cur.row, 2), -7);
	assert_int_equal(cur.row.ops->i64(&cur.row, 3), 1700000000000000);
	assert_true(cur.row.ops->is_null(&cur.row, 4));        /* j: negative binds NULL */
	assert_true(cur.row.ops->dbl(&cur.row, 5) == 0.25);
	assert_true(cur.row.ops->is_null(&cur.row, 6));        /* e: negative binds NULL */
	assert_int_equal(cur.row.ops->i64(&cur.row, 7), 1);
	assert_int_equal(cur.row.ops->i64(&cur.row, 8), 0);
	got = cur.row.ops->blob(&cur.row, 9, &len);
	assert_non_null(got);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(got, bytes, sizeof(bytes));
	assert_int_equal(((char *)got)[len], '\0');
	free(got);
	store__sql_done(c, &cur);
}

static void test_store_dialect_transactions_nest_as_savepoints(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store__sql *c = STORE__SQL(st);

	scratch(c);
	/* Frontline's own transaction: a failed inner level takes only its own writes back */
	OK(store__sql_tx_begin(c, true));
	put(c, "a", STORE_OK);
	OK(store__sql_tx_begin(c, true));
	put(c, "b", STORE_OK);
	OK(store__sql_tx_begin(c, true));
	put(c, "c", STORE_OK);
	assert_int_equal(store__sql_tx_end(c, STORE_EIO), STORE_EIO);  /* c goes */
	OK(store__sql_tx_end(c, STORE_OK));                              /* b stays */
	OK(store__sql_tx_begin(c, true));
	put(c, "d", STORE_OK);
	put(c, "d", STORE_ECONSTRAINT);   /* a failed statement inside the level ... */
	assert_int_equal(store__sql_tx_end(c, STORE_ECONSTRAINT), STORE_ECONSTRAINT); /* ... ends it */
	put(c, "e", STORE_OK);
	assert_int_equal(c->depth, 1);
	OK(store__sql_tx_end(c, STORE_OK));
	assert_int_equal(c->depth, 0);
	assert_false(c->own_tx);
	assert_int_equal(c->d->state(c), STORE__TX_NONE);
	expect_keys(c, "a,b,e");

	/* a whole transaction that fails leaves nothing */
	OK(store__sql_tx_begin(c, true));
	put(c, "f", STORE_OK);
	assert_int_equal(store__sql_tx_end(c, STORE_EBUSY), STORE_EBUSY);
	assert_int_equal(c->d->state(c), STORE__TX_NONE);
	expect_keys(c, "a,b,e");

	/*
	 * The caller's transaction: a level is a savepoint, and a statement that
	 * fails outside any level does not doom the statements before it.
	 */
	OK(store_begin(st));
	OK(store__sql_tx_begin(c, true));
	put(c, "g", STORE_OK);
	assert_int_equal(store__sql_tx_end(c, STORE_EINVAL), STORE_EINVAL);
	put(c, "h", STORE_OK);
	put(c, "a", STORE_ECONSTRAINT);
	put(c, "i", STORE_OK);
	OK(store_commit(st));
	expect_keys(c, "a,b,e,h,i");

	/* a flat level opens no savepoint: its failure dooms the caller's transaction */
	OK(store_begin(st));
	put(c, "j", STORE_OK);
	OK(store__sql_tx_begin_flat(c));
	assert_int_equal(c->depth, 1);
	put(c, "k", STORE_OK);
	assert_int_equal(store__sql_tx_end(c, STORE_EIO), STORE_EIO);
	assert_true(c->base.doomed);
	assert_int_equal(store_commit(st), STORE_EIO);
	assert_false(store_in_transaction(st));
	expect_keys(c, "a,b,e,h,i");

	/* outside any transaction a flat level is a transaction of its own */
	OK(store__sql_tx_begin_flat(c));
	assert_true(c->own_tx);
	put(c, "l", STORE_OK);
	OK(store__sql_tx_end(c, STORE_OK));
	expect_keys(c, "a,b,e,h,i,l");
}

static void test_store_dialect_caches_each_statement_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store__sql *c = STORE__SQL(st);
	int64_t n = 0;
	size_t before;
	int i;

	OK(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)41));
	assert_int_equal(n, 42);
	before = c->ncache;
	OK(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)1));
	assert_int_equal(n, 2);
	assert_int_equal(c->ncache, before);
	/* the table grows past its first size and still finds every statement */
	for (i = 0; i < 200; i++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SELECT %d + ?::bigint", i);
		OK(store__sql_int(c, &n, sql, "i", (int64_t)1));
		assert_int_equal(n, i + 1);
	}
	assert_int_equal(c->ncache, before + 200);
	assert_true(c->cache_size >= 2 * c->ncache);
	for (i = 0; i < 200; i += 37) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SELECT %d + ?::bigint", i);
		OK(store__sql_int(c, &n, sql, "i", (int64_t)2));
		assert_int_equal(n, i + 2);
	}
	assert_int_equal(c->ncache, before + 200);
	if (!on_postgres(st))
		return;
	/* PostgreSQL: the session holds exactly the cached statements ... */
	OK(store__sql_int(c, &n, "SELECT count(*) FROM pg_prepared_statements", NULL));
	assert_int_equal(n, (int64_t)c->ncache);
	/* ... and a new session (the old one killed) prepares them again, between transactions */
	fx_behind_the_back(f->url, "SELECT 1",
			   "DO $$BEGIN PERFORM pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
			   " WHERE datname = current_database() AND pid <> pg_backend_pid(); END$$");
	/* the loss shows at the next statement; the one after reconnects */
	assert_int_equal(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)5), STORE_ECONNECT);
	OK(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)6));
	assert_int_equal(n, 7);
	assert_int_equal(c->ncache, 1);
	OK(store__sql_int(c, &n, "SELECT count(*) FROM pg_prepared_statements", NULL));
	assert_int_equal(n, 2);
	/* a transaction begun first after a loss starts on a new session (not a SAVEPOINT outside one) */
	fx_behind_the_back(f->url, "SELECT 1",
			   "DO $$BEGIN PERFORM pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
			   " WHERE datname = current_database() AND pid <> pg_backend_pid(); END$$");
	assert_int_equal(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)5), STORE_ECONNECT);
	OK(store__sql_tx_begin(c, true));
	OK(store__sql_int(c, &n, "SELECT ?::bigint + 1", "i", (int64_t)8));
	assert_int_equal(n, 9);
	OK(store__sql_tx_end(c, STORE_OK));
}

static void test_store_dialect_maps_errors_alike(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store__sql *c = STORE__SQL(st);
	int64_t n = 0;

	scratch(c);
	put(c, "a", STORE_OK);
	/* a unique key and a NOT NULL column */
	put(c, "a", STORE_ECONSTRAINT);
	assert_true(strlen(store_errmsg(st)) > 0);
	assert_int_equal(store__sql_exec(c, NULL, "INSERT INTO seam (k, v) VALUES (?, ?)", "tj", "b",
					 (int64_t)-1), STORE_ECONSTRAINT);
	/* SQL neither engine reads */
	assert_int_equal(store__sql_exec(c, NULL, "SELEC 1", NULL), STORE_EINTERNAL);
	assert_int_equal(store__sql_exec(c, NULL, "SELECT k FROM no_such_table", NULL), STORE_EINTERNAL);
	/* nothing found is not an error of the engine's, and is not recorded */
	store__clear_error(st);
	assert_int_equal(store__sql_int(c, &n, "SELECT v FROM seam WHERE k = ?", "t", "zz"), STORE_ENOTFOUND);
	assert_string_equal(store_errmsg(st), "");
	/* the connection goes on after each */
	OK(store__sql_int(c, &n, "SELECT count(*) FROM seam", NULL));
	assert_int_equal(n, 1);
	/* a failed statement inside a transaction's level: the level ends, the rest commits */
	OK(store__sql_tx_begin(c, true));
	put(c, "c", STORE_OK);
	OK(store__sql_tx_begin(c, true));
	assert_int_equal(store__sql_exec(c, NULL, "SELEC 1", NULL), STORE_EINTERNAL);
	assert_int_equal(store__sql_tx_end(c, STORE_EINTERNAL), STORE_EINTERNAL);
	OK(store__sql_tx_end(c, STORE_OK));
	expect_keys(c, "a,c");
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_dialect_rewrites_the_shared_sql),
	FX_TEST(test_store_dialect_binds_every_kind_of_value),
	FX_TEST(test_store_dialect_transactions_nest_as_savepoints),
	FX_TEST(test_store_dialect_caches_each_statement_once),
	FX_TEST(test_store_dialect_maps_errors_alike),
};

int main(void)
{
	return FX_RUN("store_dialect", tests) ? 1 : 0;
}
