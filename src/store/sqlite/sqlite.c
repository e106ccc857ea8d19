/*
 * SQLite backend: the connection. Opening (URL to path, creating the
 * directory, refusing files that are not Frontline databases before writing
 * a byte to them, WAL, busy_timeout, foreign keys, synchronous), the
 * per-connection statement cache, error mapping, transactions that nest as
 * savepoints, and the ops table. The entity operations are in tickets.c,
 * entities.c and queue.c; the schema and its migrations in schema.c.
 *
 * A handle is one connection used by one thread at a time (opened
 * SQLITE_OPEN_NOMUTEX); threads and processes coordinate through the
 * database's locks (BEGIN IMMEDIATE for every write, busy_timeout to wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sqlite_int.h"

/* ---- errors ---- */

static int map_rc(int rc, int sys)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_EBUSY;
	case SQLITE_FULL:
		return STORE_EFULL;
	case SQLITE_IOERR:
		return sys == ENOSPC || sys == EFBIG || sys == EDQUOT ? STORE_EFULL : STORE_EIO;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return STORE_EREADONLY;
	case SQLITE_CANTOPEN:
		return sys == EACCES || sys == EROFS || sys == EPERM ? STORE_EREADONLY : STORE_EIO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_ECORRUPT;
	case SQLITE_CONSTRAINT:
		return STORE_ECONSTRAINT;
	case SQLITE_NOMEM:
		fl_die("out of memory in SQLite");
	}
	return STORE_EINTERNAL;
}

int sq_fail(struct sq *q, int rc)
{
	/*
	 * SQLite does not always keep the errno of a failed write (a write past
	 * RLIMIT_FSIZE reports SQLITE_IOERR_WRITE with system errno 0), but
	 * errno still holds it: nothing ran since the failing call.
	 */
	int saved = errno;
	int sys = q->db ? sqlite3_system_errno(q->db) : 0;
	int err;

	if (!sys && (rc & 0xff) == SQLITE_IOERR && (saved == EFBIG || saved == ENOSPC || saved == EDQUOT))
		sys = saved;
	err = map_rc(rc, sys);
	const char *msg = q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc);

	if (sys && (err == STORE_EFULL || err == STORE_EIO || err == STORE_EREADONLY))
		return store__fail(&q->base, err, "%s (%s)", msg, strerror(sys));
	return store__fail(&q->base, err, "%s", msg);
}

/* ---- statements ---- */

static uint64_t hash_sql(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void cache_grow(struct sq *q)
{
	struct sq_cached *old = q->cache;
	size_t n = q->cache_size, i;

	q->cache_size = n ? n * 2 : 64;
	q->cache = fl_calloc(q->cache_size, sizeof(*q->cache));
	for (i = 0; i < n; i++) {
		size_t j;

		if (!old[i].sql)
			continue;
		for (j = old[i].hash & (q->cache_size - 1); q->cache[j].sql; j = (j + 1) & (q->cache_size - 1))
			;
		q->cache[j] = old[i];
	}
	free(old);
}

static int bindv(struct sq *q, sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 1; fmt && *fmt && rc == SQLITE_OK; fmt++, i++) {
		switch (*fmt) {
		case 't': {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
			break;
		case 'j': {
			int64_t v = va_arg(ap, int64_t);

			rc = v < 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_int64(s, i, v);
			break;
		}
		case 'd':
			rc = sqlite3_bind_double(s, i, va_arg(ap, double));
			break;
		case 'e': {
			double v = va_arg(ap, double);

			rc = v < 0 ? sqlite3_bind_null(s, i) : sqlite3_bind_double(s, i, v);
			break;
		}
		case 'b':
			rc = sqlite3_bind_int(s, i, va_arg(ap, int) ? 1 : 0);
			break;
		default:
			fl_die("store: bad bind format '%c'", *fmt);
		}
	}
	return rc == SQLITE_OK ? STORE_OK : sq_fail(q, rc);
}

int sq_preparev(struct sq *q, const char *sql, sqlite3_stmt **out, const char *fmt, va_list ap)
{
	uint64_t h = hash_sql(sql);
	size_t j;
	int rc;

	*out = NULL;
	if (q->ncache * 2 >= q->cache_size)
		cache_grow(q);
	for (j = h & (q->cache_size - 1); q->cache[j].sql; j = (j + 1) & (q->cache_size - 1))
		if (q->cache[j].hash == h && !strcmp(q->cache[j].sql, sql))
			break;
	if (!q->cache[j].sql) {
		sqlite3_stmt *s = NULL;

		rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
		if (rc != SQLITE_OK)
			return sq_fail(q, rc);
		q->cache[j].sql = fl_strdup(sql);
		q->cache[j].hash = h;
		q->cache[j].stmt = s;
		q->ncache++;
	}
	*out = q->cache[j].stmt;
	rc = bindv(q, *out, fmt, ap);
	if (rc) {
		sq_done(*out);
		*out = NULL;
	}
	return rc;
}

int sq_prepare(struct sq *q, const char *sql, sqlite3_stmt **out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sq_preparev(q, sql, out, fmt, ap);
	va_end(ap);
	return rc;
}

int sq_step(struct sq *q, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -sq_fail(q, rc);
}

void sq_done(sqlite3_stmt *s)
{
	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

int sq_exec(struct sq *q, int *changes, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sq_preparev(q, sql, &s, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	while ((rc = sq_step(q, s)) > 0)
		;
	if (changes)
		*changes = sqlite3_changes(q->db);
	sq_done(s);
	return -rc;
}

int sq_int(struct sq *q, int64_t *out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sq_preparev(q, sql, &s, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	rc = sq_step(q, s);
	if (rc > 0)
		*out = sqlite3_column_int64(s, 0);
	sq_done(s);
	return rc > 0 ? STORE_OK : rc == 0 ? STORE_ENOTFOUND : -rc;
}

static bool row_is_null(const struct store__row *r, int c)
{
	return sqlite3_column_type(r->h, c) == SQLITE_NULL;
}

static const char *row_text(const struct store__row *r, int c)
{
	return (const char *)sqlite3_column_text(r->h, c);
}

static int64_t row_i64(const struct store__row *r, int c)
{
	return sqlite3_column_int64(r->h, c);
}

static double row_dbl(const struct store__row *r, int c)
{
	return sqlite3_column_double(r->h, c);
}

static const struct store__row_ops sq_row_ops = { row_is_null, row_text, row_i64, row_dbl };

struct store__row sq_row_of(sqlite3_stmt *s)
{
	struct store__row r = { &sq_row_ops, s, 0 };

	return r;
}

static int rows_v(struct sq *q, json_t *(*decode)(const struct store__row *), json_t **arr,
		  int max, const char *sql, const char *fmt, va_list ap)
{
	sqlite3_stmt *s;
	int rc, n = 0;

	rc = sq_preparev(q, sql, &s, fmt, ap);
	if (rc)
		return rc;
	if (!*arr && max != 1)
		*arr = json_array();
	while ((rc = sq_step(q, s)) > 0) {
		struct store__row r = sq_row_of(s);

		if (max == 1) {
			*arr = decode(&r);
			n++;
			break;
		}
		json_array_append_new(*arr, decode(&r));
	}
	sq_done(s);
	if (rc < 0)
		return -rc;
	return max == 1 && !n ? STORE_ENOTFOUND : STORE_OK;
}

int sq_rows(struct sq *q, json_t *(*decode)(const struct store__row *), json_t **arr,
	    const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rows_v(q, decode, arr, 0, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int sq_row(struct sq *q, json_t *(*decode)(const struct store__row *), json_t **out,
	   const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	*out = NULL;
	va_start(ap, fmt);
	rc = rows_v(q, decode, out, 1, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- transactions ---- */

/* Runs control SQL, ignoring errors (rollback paths keep the first error). */
static void quiet(struct sq *q, const char *sql)
{
	sqlite3_exec(q->db, sql, NULL, NULL, NULL);
}

int sq_tx_begin(struct sq *q, bool write)
{
	int rc;

	if (q->depth == 0 && sqlite3_get_autocommit(q->db)) {
		sq_fts_forget(q);
		rc = sq_exec(q, NULL, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL);
		if (rc)
			return rc;
		q->own_tx = true;
	} else {
		rc = sq_exec(q, NULL, "SAVEPOINT sq", NULL);
		if (rc)
			return rc;
	}
	q->depth++;
	return STORE_OK;
}

bool sq_lazy_begin(struct sq *q)
{
	if (!q->sync_full || q->deferring || q->depth || !sqlite3_get_autocommit(q->db))
		return false;
	return sqlite3_exec(q->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK;
}

void sq_lazy_end(struct sq *q, bool lazy)
{
	/* back to the level given at opening; should that fail, SQLite keeps NORMAL */
	if (lazy && sqlite3_exec(q->db, q->sync_pragma, NULL, NULL, NULL) != SQLITE_OK)
		fl_log(FL_LOG_ERROR, "store: cannot restore '%s' on '%s': %s", q->sync_pragma,
		       q->base.url, sqlite3_errmsg(q->db));
}

int sq_tx_begin_flat(struct sq *q)
{
	if (q->depth == 0 && sqlite3_get_autocommit(q->db))
		return sq_tx_begin(q, true);
	if (q->depth >= 32)
		return store__fail(&q->base, STORE_EINTERNAL, "transactions nested too deep");
	q->flat |= 1u << q->depth;
	q->depth++;
	return STORE_OK;
}

int sq_tx_end(struct sq *q, int rc)
{
	q->depth--;
	if (q->flat & (1u << q->depth)) {
		/* No savepoint: an error dooms the caller's transaction (store_commit refuses it). */
		q->flat &= ~(1u << q->depth);
		if (rc)
			q->base.doomed = true;
		return rc;
	}
	if (q->depth == 0 && q->own_tx) {
		q->own_tx = false;
		if (rc == STORE_OK)
			rc = sq_fts_flush(q);
		if (rc == STORE_OK) {
			rc = sq_exec(q, NULL, "COMMIT", NULL);
			if (rc && !sqlite3_get_autocommit(q->db))
				quiet(q, "ROLLBACK");
		} else if (!sqlite3_get_autocommit(q->db)) {
			quiet(q, "ROLLBACK");
		}
		sq_fts_forget(q);
		return rc;
	}
	if (sqlite3_get_autocommit(q->db))
		return rc ? rc : store__fail(&q->base, STORE_EIO, "the transaction was rolled back");
	if (rc == STORE_OK)
		return sq_exec(q, NULL, "RELEASE sq", NULL);
	quiet(q, "ROLLBACK TO sq");
	quiet(q, "RELEASE sq");
	return rc;
}

static int sq_begin(struct store *st, bool immediate)
{
	sq_fts_forget(SQ(st));
	return sq_exec(SQ(st), NULL, immediate ? "BEGIN IMMEDIATE" : "BEGIN", NULL);
}

static int sq_commit(struct store *st)
{
	struct sq *q = SQ(st);
	int rc;

	if (sqlite3_get_autocommit(q->db)) {
		sq_fts_forget(q);
		return store__fail(st, STORE_EIO, "the transaction was rolled back by an earlier error");
	}
	rc = sq_fts_flush(q);
	if (!rc)
		rc = sq_exec(q, NULL, "COMMIT", NULL);
	if (rc && !sqlite3_get_autocommit(q->db))
		quiet(q, "ROLLBACK");
	sq_fts_forget(q);
	return rc;
}

static void sq_rollback(struct store *st)
{
	struct sq *q = SQ(st);

	if (!sqlite3_get_autocommit(q->db))
		quiet(q, "ROLLBACK");
	sq_fts_forget(q);
	q->depth = 0;
	q->flat = 0;
	q->own_tx = false;
}

/* ---- waiting for the write lock ---- */

/*
 * SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between
 * tries; a write transaction here lasts well under a millisecond, so those
 * sleeps, not the work, would bound throughput when intake and workers
 * write at once. This one retries after 50 us, doubling up to 2 ms, with
 * jitter, until busy_timeout has passed since the first try.
 */
static int busy_wait(void *arg, int count)
{
	struct sq *q = arg;
	int64_t now = fl_mono_us(), pause;

	if (count == 0)
		q->busy_since = now;
	if (now - q->busy_since >= q->busy_ms * 1000)
		return 0;
	pause = count < 6 ? 50LL << count : 2000;
	fl_sleep_us(pause / 2 + (int64_t)(fl_random_u64() % (uint64_t)pause));
	return 1;
}

/* ---- opening ---- */

struct sq_url {
	char *path;
	char *synchronous;
	int64_t busy_ms;
};

static int parse_url(const char *url, const char *masked, struct sq_url *u, char **err)
{
	const char *p = url + strlen("sqlite:"), *q;
	char *query, *tok, *next;
	int rc = STORE_OK;

	u->synchronous = fl_strdup("full");
	u->busy_ms = 5000;
	if (fl_str_has_prefix(p, "//"))
		p += 2;
	q = strchr(p, '?');
	u->path = q ? fl_strndup(p, (size_t)(q - p)) : fl_strdup(p);
	if (!*u->path) {
		*err = fl_asprintf("unsupported store URL '%s': no database path", masked);
		return STORE_EURL;
	}
	if (!q)
		return STORE_OK;
	query = fl_strdup(q + 1);
	for (tok = query; tok && *tok; tok = next) {
		char *eq;

		next = strchr(tok, '&');
		if (next)
			*next++ = '\0';
		eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		if (eq && !strcmp(tok, "synchronous") &&
		    (!strcmp(eq, "off") || !strcmp(eq, "normal") || !strcmp(eq, "full") ||
		     !strcmp(eq, "extra"))) {
			free(u->synchronous);
			u->synchronous = fl_strdup(eq);
		} else if (!(eq && !strcmp(tok, "busy_timeout") &&
			     !fl_parse_int64(eq, 0, 3600000, &u->busy_ms))) {
			*err = fl_asprintf("unsupported store URL '%s': unknown or invalid parameter '%s' "
					   "(known: synchronous=off|normal|full|extra, busy_timeout=MS)",
					   masked, tok);
			rc = STORE_EURL;
			break;
		}
	}
	free(query);
	return rc;
}

/* mkdir -p for the directory of path. */
static int make_parent(const char *path, char **why)
{
	char *copy = fl_strdup(path), *dir = dirname(copy), *p;
	struct stat sb;
	int rc = 0;

	if (stat(dir, &sb) == 0)
		goto out;
	for (p = dir + 1; ; p++) {
		char save = *p;

		if (save != '/' && save)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			*why = fl_asprintf("cannot create directory '%s': %s", dir, strerror(errno));
			rc = errno == EACCES || errno == EROFS || errno == EPERM ? STORE_EREADONLY : STORE_EIO;
			goto out;
		}
		*p = save;
		if (!save)
			break;
	}
out:
	free(copy);
	return rc;
}

static bool dir_writable(const char *path)
{
	char *copy = fl_strdup(path);
	bool ok = access(dirname(copy), W_OK | X_OK) == 0;

	free(copy);
	return ok;
}

static void remove_files(const char *path)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(suffix); i++) {
		char *f = fl_asprintf("%s%s", path, suffix[i]);

		unlink(f);
		free(f);
	}
}

static void sq_close(struct store *st)
{
	struct sq *q = SQ(st);
	size_t i;

	sq_ckpt_stop(q);
	for (i = 0; i < q->cache_size; i++) {
		if (q->cache[i].sql) {
			sqlite3_finalize(q->cache[i].stmt);
			free(q->cache[i].sql);
		}
	}
	free(q->cache);
	free(q->fts_pending);
	/* SQLite's advice: refresh the planner's statistics now and then, cheaply. */
	if (q->opened && sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "PRAGMA analysis_limit = 1000; PRAGMA optimize", NULL, NULL, NULL);
	sqlite3_close_v2(q->db);
	free(q->path);
	free(q);
}

static int sq_migrate(struct store *st, int *from, int *to);

static int sq_open(const struct store_open_args *a, struct store **out, char **err)
{
	struct sq *q = fl_calloc(1, sizeof(*q));
	struct sq_url u = { 0 };
	bool created = false, memory, foreign;
	struct stat sb;
	char *why = NULL;
	int rc, version;

	q->base.url = fl_strdup(a->masked);
	q->base.op = "open";
	rc = parse_url(a->url, a->masked, &u, err);
	if (rc)
		goto fail_msg;
	memory = !strcmp(u.path, ":memory:");
	if (!memory && stat(u.path, &sb) != 0) {
		rc = make_parent(u.path, &why);
		if (!rc && !dir_writable(u.path)) {
			rc = STORE_EREADONLY;
			why = fl_strdup("its directory is not writable");
		}
		if (rc) {
			*err = store__open_message(a->masked, rc, why);
			goto fail_msg;
		}
		created = true;
	} else if (!memory && S_ISDIR(sb.st_mode)) {
		rc = STORE_EIO;
		*err = store__open_message(a->masked, rc, "it is a directory");
		goto fail_msg;
	}
	rc = sqlite3_open_v2(u.path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		rc = sq_fail(q, rc);
		goto fail;
	}
	q->path = fl_strdup(u.path);
	sqlite3_extended_result_codes(q->db, 1);
	q->busy_ms = u.busy_ms;
	sqlite3_busy_handler(q->db, busy_wait, q);
	if (!memory && sqlite3_db_readonly(q->db, "main") == 1) {
		rc = store__fail(&q->base, STORE_EREADONLY, "the database file is not writable");
		goto fail;
	}
	/* Identify the file before writing to it: foreign or newer files stay untouched. */
	rc = sq_schema_read(q, &version, &foreign);
	if (rc)
		goto fail;
	if (foreign) {
		rc = store__fail(&q->base, STORE_ECORRUPT,
				 "not a Frontline database (it holds other tables); refusing to touch it");
		goto fail;
	}
	if (version > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(version);

		rc = store__fail(&q->base, STORE_EVERSION, "%s", d);
		free(d);
		goto fail;
	}
	if (a->defer_sync && !memory && (!strcmp(u.synchronous, "full") || !strcmp(u.synchronous, "extra"))) {
		/* Commits reach the OS; sq_sync makes them durable (see store__sync). */
		free(u.synchronous);
		u.synchronous = fl_strdup("normal");
		q->defer_sync = true;
	}
	{
		char *pragmas = fl_asprintf("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
					    "PRAGMA synchronous=%s;", u.synchronous);

		q->sync_full = !memory && (!strcmp(u.synchronous, "full") || !strcmp(u.synchronous, "extra"));
		snprintf(q->sync_pragma, sizeof(q->sync_pragma), "PRAGMA synchronous=%s", u.synchronous);

		rc = sqlite3_exec(q->db, pragmas, NULL, NULL, NULL);
		free(pragmas);
		if (rc != SQLITE_OK) {
			rc = sq_fail(q, rc);
			goto fail;
		}
	}
	if (a->migrate) {
		q->base.op = "migrate";
		rc = sq_migrate(&q->base, NULL, NULL);
		if (rc)
			goto fail;
	}
	if (q->defer_sync) {
		rc = sq_ckpt_start(q);
		if (rc)
			goto fail;
	}
	q->base.op = NULL;
	q->opened = true;
	free(u.path);
	free(u.synchronous);
	*out = &q->base;
	return STORE_OK;
fail:
	if ((rc == STORE_EREADONLY || rc == STORE_EIO) && !memory && !dir_writable(u.path)) {
		rc = STORE_EREADONLY;
		*err = store__open_message(a->masked, rc, "its directory is not writable (SQLite keeps "
					   "its write-ahead log beside the database)");
	} else {
		*err = fl_strdup(q->base.err.buf);
	}
fail_msg:
	free(why);
	if (created) {
		/* Nothing half-written: a database this call created goes again. */
		sqlite3_close_v2(q->db);
		q->db = NULL;
		remove_files(u.path);
	}
	free(u.path);
	free(u.synchronous);
	fl_buf_release(&q->base.err);
	free(q->base.url);
	q->base.url = NULL;
	sq_close(&q->base);
	return rc;
}

static int sq_schema_version(struct store *st, int *version)
{
	bool foreign;

	return sq_schema_read(SQ(st), version, &foreign);
}

static int sq_migrate(struct store *st, int *from, int *to)
{
	struct sq *q = SQ(st);
	bool foreign;
	int rc, v = 0;

	if (st->user_tx)
		return store__fail(st, STORE_EINVAL, "cannot migrate inside a transaction");
	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_schema_read(q, &v, &foreign);
	if (!rc && foreign)
		rc = store__fail(st, STORE_ECORRUPT, "not a Frontline database");
	if (!rc && v > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(v);

		rc = store__fail(st, STORE_EVERSION, "%s", d);
		free(d);
	}
	if (!rc && v < STORE__SCHEMA_VERSION)
		rc = sq_schema_apply(q, v);
	rc = sq_tx_end(q, rc);
	if (from)
		*from = v;
	if (to)
		*to = rc ? v : STORE__SCHEMA_VERSION;
	if (!rc && v < STORE__SCHEMA_VERSION)
		fl_log(FL_LOG_INFO, "store: migrated '%s' from schema version %d to %d", st->url, v,
		       STORE__SCHEMA_VERSION);
	return rc;
}

static int sq_ping(struct store *st)
{
	int rc, v = 0;

	rc = sq_schema_version(st, &v);
	if (rc == STORE_OK && v != STORE__SCHEMA_VERSION)
		rc = store__fail(st, STORE_EVERSION, "schema version %d, this build needs %d%s", v,
				 STORE__SCHEMA_VERSION, v < STORE__SCHEMA_VERSION ? ": run 'frontline migrate'" : "");
	return rc;
}

/*
 * With synchronous=normal a WAL commit is written but not fsynced; fsyncing
 * the -wal file afterwards makes it durable. A checkpoint, which may restart
 * the WAL, fsyncs it first itself, so no acknowledged frame is ever
 * overwritten before it reached the disk. Opens the file by name: this runs
 * on another thread than the connection's, which it never touches.
 */
/* fdatasync of the write-ahead log: every commit in it is then on the disk */
static int fsync_wal(struct sq *q)
{
	char *wal;
	int fd, rc = STORE_OK;

	wal = fl_asprintf("%s-wal", q->path);
	fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		rc = STORE_EIO;
	if (fd >= 0 && fdatasync(fd))
		rc = errno == ENOSPC || errno == EDQUOT ? STORE_EFULL : STORE_EIO;
	if (fd >= 0)
		close(fd);
	free(wal);
	return rc;
}

static int sq_sync(struct store *st)
{
	struct sq *q = SQ(st);

	return q->defer_sync ? fsync_wal(q) : STORE_OK;
}

/*
 * store_defer_sync: commits at synchronous=NORMAL reach the WAL without an
 * fsync; at the end one fsync of the WAL makes them all durable (a
 * checkpoint in between syncs the WAL before it copies pages and the
 * database file after, so nothing committed is only in an unsynced place).
 */
static int sq_defer_sync(struct store *st, bool on)
{
	struct sq *q = SQ(st);
	int rc;

	if (!q->sync_full || q->deferring == on)
		return STORE_OK;
	rc = sqlite3_exec(q->db, on ? "PRAGMA synchronous=NORMAL" : q->sync_pragma, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sq_fail(q, rc);
	q->deferring = on;
	if (!on && (rc = fsync_wal(q)) != STORE_OK)
		return store__fail(st, rc, "the write-ahead log could not be synced to the disk");
	return STORE_OK;
}

const struct store_ops store__sqlite_ops = {
	.version = STORE_OPS_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.migrate = sq_migrate,
	.schema_version = sq_schema_version,
	.ping = sq_ping,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.ticket_intake = sq_ticket_intake,
	.ticket_get = sq_ticket_get,
	.ticket_list = sq_ticket_list,
	.ticket_update = sq_ticket_update,
	.ticket_import = sq_ticket_import,
	.message_add = sq_message_add,
	.message_list = sq_message_list,
	.message_find_by_email_id = sq_message_find_by_email_id,
	.customer_get = sq_customer_get,
	.customer_find_by_email = sq_customer_find_by_email,
	.customer_upsert = sq_customer_upsert,
	.customer_update_metrics = sq_customer_update_metrics,
	.customer_list = sq_customer_list,
	.kb_upsert = sq_kb_upsert,
	.kb_get = sq_kb_get,
	.kb_list = sq_kb_list,
	.kb_delete = sq_kb_delete,
	.escalation_open = sq_escalation_open,
	.escalation_claim = sq_escalation_claim,
	.escalation_release = sq_escalation_release,
	.escalation_close = sq_escalation_close,
	.escalation_get = sq_escalation_get,
	.escalation_list = sq_escalation_list,
	.event_append = sq_event_append,
	.event_list = sq_event_list,
	.outbox_enqueue = sq_outbox_enqueue,
	.outbox_claim = sq_outbox_claim,
	.outbox_mark_sent = sq_outbox_mark_sent,
	.outbox_fail = sq_outbox_fail,
	.outbox_list = sq_outbox_list,
	.job_enqueue = sq_job_enqueue,
	.job_claim = sq_job_claim,
	.job_heartbeat = sq_job_heartbeat,
	.job_complete = sq_job_complete,
	.job_fail = sq_job_fail,
	.job_retry = sq_job_retry,
	.job_list = sq_job_list,
	.job_counts = sq_job_counts,
	.metrics = sq_metrics,
	.token_insert = sq_token_insert,
	.token_find = sq_token_find,
	.token_list = sq_token_list,
	.token_revoke = sq_token_revoke,
	.blob_put = sq_blob_put,
	.blob_get = sq_blob_get,
	.mail_raw_put = sq_mail_raw_put,
	.mail_raw_finish = sq_mail_raw_finish,
	.mail_raw_get = sq_mail_raw_get,
	.mail_raw_list = sq_mail_raw_list,
	.imap_state_get = sq_imap_state_get,
	.imap_state_set = sq_imap_state_set,
	.rate_hit = sq_rate_hit,
	.alert_raise = sq_alert_raise,
	.alert_resolve = sq_alert_resolve,
	.alert_list = sq_alert_list,
	.lock_try = sq_lock_try,
	.lock_release = sq_lock_release,
	.job_release = sq_job_release,
	.outbox_retry = sq_outbox_retry,
	.outbox_counts = sq_outbox_counts,
	.sync = sq_sync,
	.defer_sync = sq_defer_sync,
};
