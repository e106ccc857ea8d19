/*
 * SQLite backend: the connection. Opening (URL to path, creating the
 * directory, refusing files that are not Frontline databases before writing
 * a byte to them, WAL, busy_timeout, foreign keys, synchronous), error
 * mapping, the SQLite dialect of the shared SQL layer (prepare, bind, step,
 * rows, the transaction's state; dialect.h, sql.c), durability (lazy
 * commits, deferred syncs) and the ops table: the shared verbs
 * (STORE__SQL_OPS) and this backend's own, in tickets.c (numbers, full-text
 * entries, search, import) and queue.c (claims, locks). The schema and its
 * migrations are in schema.c, checkpoints of a deferred connection in
 * checkpoint.c.
 *
 * A handle is one connection used by one thread at a time (opened
 * SQLITE_OPEN_NOMUTEX); threads and processes coordinate through the
 * database's locks (BEGIN IMMEDIATE for every write, busy_timeout to wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
		return store__fail(&q->c.base, err, "%s (%s)", msg, strerror(sys));
	return store__fail(&q->c.base, err, "%s", msg);
}

/* ---- the dialect: statements ---- */

static int sq_prepare(struct store__sql *c, const char *sql, void **stmt)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v3(SQ(c)->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);

	if (rc != SQLITE_OK)
		return sq_fail(SQ(c), rc);
	*stmt = s;
	return STORE_OK;
}

static void sq_finalize(struct store__sql *c, void *stmt)
{
	(void)c;
	sqlite3_finalize(stmt);
}

static const struct store__row_ops sq_row_ops;

static int sq_run(struct store__sql *c, void *stmt, const struct store__val *v, int n,
		  struct store__cur *cur)
{
	sqlite3_stmt *s = stmt;
	int i, rc = SQLITE_OK;

	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		if (v[i].null) {
			rc = sqlite3_bind_null(s, i + 1);
			continue;
		}
		switch (v[i].kind) {
		case 't':
			rc = sqlite3_bind_text(s, i + 1, v[i].s, -1, SQLITE_TRANSIENT);
			break;
		case 'i':
		case 'b':
			rc = sqlite3_bind_int64(s, i + 1, v[i].i);
			break;
		case 'd':
			rc = sqlite3_bind_double(s, i + 1, v[i].d);
			break;
		case 'x':
			/* bound in place: the statement runs before the caller's bytes go */
			rc = sqlite3_bind_blob64(s, i + 1, v[i].p, v[i].n, SQLITE_STATIC);
			break;
		}
	}
	if (rc != SQLITE_OK) {
		rc = sq_fail(SQ(c), rc);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return rc;
	}
	cur->stmt = s;
	cur->row.ops = &sq_row_ops;
	cur->row.h = s;
	return STORE_OK;
}

static int sq_step(struct store__sql *c, struct store__cur *cur)
{
	int rc = sqlite3_step(cur->stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return -sq_fail(SQ(c), rc);
}

static void sq_done(struct store__sql *c, struct store__cur *cur)
{
	(void)c;
	if (cur->stmt) {
		sqlite3_reset(cur->stmt);
		sqlite3_clear_bindings(cur->stmt);
	}
}

static int sq_changes(struct store__sql *c, const struct store__cur *cur)
{
	(void)cur;
	return sqlite3_changes(SQ(c)->db);
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

static void *row_blob(const struct store__row *r, int c, size_t *len)
{
	const void *b = sqlite3_column_blob(r->h, c);
	size_t n = (size_t)sqlite3_column_bytes(r->h, c);
	char *copy = fl_malloc(n + 1);

	if (n)
		memcpy(copy, b, n);
	copy[n] = '\0';
	*len = n;
	return copy;
}

static const struct store__row_ops sq_row_ops = { row_is_null, row_text, row_i64, row_dbl, row_blob };

/* ---- the dialect: transactions ---- */

/* Control statements run cached, like any other. */
static int sq_control(struct store__sql *c, const char *sql)
{
	return store__sql_exec(c, NULL, sql, NULL);
}

/* Runs control SQL, ignoring errors (rollback paths keep the first error). */
static void sq_quiet(struct store__sql *c, const char *sql)
{
	sqlite3_exec(SQ(c)->db, sql, NULL, NULL, NULL);
}

/* SQLite rolls a transaction back itself on some errors (a full disk): then there is none. */
static enum store__tx_state sq_state(struct store__sql *c)
{
	return sqlite3_get_autocommit(SQ(c)->db) ? STORE__TX_NONE : STORE__TX_OPEN;
}

static int sq_lost(struct store__sql *c)
{
	return store__fail(&c->base, STORE_EIO, "the database connection is gone");
}

bool sq_lazy_begin(struct store__sql *c)
{
	struct sq *q = SQ(c);

	if (!q->sync_full || q->deferring || c->depth || !sqlite3_get_autocommit(q->db))
		return false;
	return sqlite3_exec(q->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) == SQLITE_OK;
}

void sq_lazy_end(struct store__sql *c, bool lazy)
{
	struct sq *q = SQ(c);

	/* back to the level given at opening; should that fail, SQLite keeps NORMAL */
	if (lazy && sqlite3_exec(q->db, q->sync_pragma, NULL, NULL, NULL) != SQLITE_OK)
		fl_log(FL_LOG_ERROR, "store: cannot restore '%s' on '%s': %s", q->sync_pragma,
		       c->base.url, sqlite3_errmsg(q->db));
}

static const struct store__dialect sq_dialect = {
	.name = "sqlite",
	.read_tx = true,
	.json_verbatim = true,
	.begin_write = "BEGIN IMMEDIATE",
	.prepare = sq_prepare,
	.finalize = sq_finalize,
	.run = sq_run,
	.step = sq_step,
	.done = sq_done,
	.changes = sq_changes,
	.control = sq_control,
	.quiet = sq_quiet,
	.state = sq_state,
	.lost = sq_lost,
	.flush = sq_fts_flush,
	.forget = sq_fts_forget,
	.lazy_begin = sq_lazy_begin,
	.lazy_end = sq_lazy_end,
	.schema_read = sq_schema_read,
	.schema_apply = sq_schema_apply,
	.ticket_insert = sq_ticket_insert,
	.search = sq_search,
	.erase_purge = sq_erase_purge,
	/* one parse of the analysis per row, several paths: a JSON array of the fields (rows.c) */
	.customer_phone = SQ_CUSTOMER_PHONE,
	.analysis_summary =
		"json_extract(t.analysis, '$.sentiment_analysis.sentiment', '$.sentiment_analysis.urgency',"
		" '$.categorization.primary_category', '$.categorization.confidence',"
		" '$.priority_assignment.priority', '$.priority_assignment.score',"
		" '$.escalation_decision.escalation_decision', '$.escalation_decision.escalation_priority',"
		" '$.auto_reply.sent', '$.auto_reply.reason',"
		" '$.generated_response.escalation_needed', '$.generated_response.response')",
};

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

/* mkdir -p for the directory of path; what it creates is private (0700). */
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
		if (mkdir(dir, 0700) && errno != EEXIST) {
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

	sq_ckpt_stop(q);
	store__sql_cache_clear(&q->c);
	free(q->fts_pending);
	/* SQLite's advice: refresh the planner's statistics now and then, cheaply. */
	if (q->opened && sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "PRAGMA analysis_limit = 1000; PRAGMA optimize", NULL, NULL, NULL);
	sqlite3_close_v2(q->db);
	free(q->path);
	free(q);
}

static int sq_open(const struct store_open_args *a, struct store **out, char **err)
{
	struct sq *q = fl_calloc(1, sizeof(*q));
	struct sq_url u = { 0 };
	bool created = false, memory, foreign;
	struct stat sb;
	char *why = NULL;
	int rc, version;

	store__sql_init(&q->c, &sq_dialect);
	q->c.base.url = fl_strdup(a->masked);
	q->c.base.op = "open";
	rc = parse_url(a->url, a->masked, &u, err);
	if (rc)
		goto fail_msg;
	memory = !strcmp(u.path, ":memory:");
	if (!memory && stat(u.path, &sb) != 0 && a->must_exist) {
		rc = STORE_ENOTFOUND;
		*err = store__open_message(a->masked, rc, "the database does not exist (it is not created here: "
					   "check the URL, or create it with 'frontline migrate')");
		goto fail_msg;
	}
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
		/*
		 * Private from the start: SQLite would create the file 0644 (less
		 * the umask), and it gives the -wal and -shm files the database
		 * file's mode, so creating it 0600 first covers all three.
		 */
		{
			int fd = open(u.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

			if (fd >= 0)
				close(fd);
		}
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
		rc = store__fail(&q->c.base, STORE_EREADONLY, "the database file is not writable");
		goto fail;
	}
	/* Identify the file before writing to it: foreign or newer files stay untouched. */
	rc = sq_schema_read(&q->c, &version, &foreign);
	if (rc)
		goto fail;
	if (foreign) {
		rc = store__fail(&q->c.base, STORE_ECORRUPT,
				 "not a Frontline database (it holds other tables); refusing to touch it");
		goto fail;
	}
	if (version > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(version);

		rc = store__fail(&q->c.base, STORE_EVERSION, "%s", d);
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
		q->c.base.op = "migrate";
		rc = store__sql_migrate(&q->c.base, NULL, NULL);
		if (rc)
			goto fail;
	}
	if (q->defer_sync) {
		rc = sq_ckpt_start(q);
		if (rc)
			goto fail;
	}
	q->c.base.op = NULL;
	q->opened = true;
	free(u.path);
	free(u.synchronous);
	*out = &q->c.base;
	return STORE_OK;
fail:
	if ((rc == STORE_EREADONLY || rc == STORE_EIO) && !memory && !dir_writable(u.path)) {
		rc = STORE_EREADONLY;
		*err = store__open_message(a->masked, rc, "its directory is not writable (SQLite keeps "
					   "its write-ahead log beside the database)");
	} else {
		*err = fl_strdup(q->c.base.err.buf);
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
	fl_buf_release(&q->c.base.err);
	free(q->c.base.url);
	q->c.base.url = NULL;
	sq_close(&q->c.base);
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
	STORE__SQL_OPS,
	.ticket_import = sq_ticket_import,
	.job_claim = sq_job_claim,
	.outbox_claim = sq_outbox_claim,
	.lock_try = sq_lock_try,
	.lock_release = sq_lock_release,
	.sync = sq_sync,
	.defer_sync = sq_defer_sync,
};
