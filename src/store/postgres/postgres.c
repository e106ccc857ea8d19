/*
 * PostgreSQL backend: the connection. Opening (libpq URL or connection
 * string, a default connect_timeout, schema check and migration under an
 * advisory lock so that replicas starting together migrate once), named
 * prepared statements cached per session, SQLSTATE to store errors,
 * transactions nesting as savepoints, reconnection between transactions,
 * and the ops table. Entity operations: tickets.c, entities.c, queue.c;
 * schema: schema.c.
 *
 * Several replicas share one database: the job and outbox claims use
 * FOR UPDATE SKIP LOCKED, intake relies on unique constraints with
 * ON CONFLICT, and ticket updates lock their row. Times come from the
 * client's clock (store__now) like on SQLite: keep the replicas' clocks in
 * sync (NTP), as leases depend on them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* ---- errors ---- */

static int map_state(const char *s)
{
	if (!s)
		return STORE_ECONNECT;
	if (!strncmp(s, "08", 2) || !strcmp(s, "57P01") || !strcmp(s, "57P02") || !strcmp(s, "57P03"))
		return STORE_ECONNECT;
	if (!strncmp(s, "23", 2))
		return STORE_ECONSTRAINT;
	if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03") || !strcmp(s, "53200") ||
	    !strcmp(s, "53300") || !strcmp(s, "57014"))
		return STORE_EBUSY;
	if (!strcmp(s, "53100"))
		return STORE_EFULL;
	if (!strcmp(s, "25006") || !strcmp(s, "42501"))
		return STORE_EREADONLY;
	if (!strncmp(s, "58", 2))
		return STORE_EIO;
	if (!strcmp(s, "XX001") || !strcmp(s, "XX002"))
		return STORE_ECORRUPT;
	if (!strncmp(s, "22", 2))
		return STORE_EINVAL;
	return STORE_EINTERNAL;
}

/* libpq messages end with a newline; messages here do not. */
static char *trimmed(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	return fl_strndup(s ? s : "", n);
}

int pg_fail(struct pg *p, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char *msg = trimmed(primary ? primary : PQerrorMessage(p->conn));
	int rc = PQstatus(p->conn) == CONNECTION_BAD ? STORE_ECONNECT : map_state(state);

	store__fail(&p->c.base, rc, "%s%s%s%s", msg, state ? " (SQLSTATE " : "", state ? state : "",
		    state ? ")" : "");
	free(msg);
	return rc;
}

static void notice(void *arg, const char *message)
{
	(void)arg;
	if (fl_log_enabled(FL_LOG_DEBUG)) {
		char *m = trimmed(message);

		fl_log(FL_LOG_DEBUG, "postgres: %s", m);
		free(m);
	}
}

/* ---- the dialect: statements ---- */

/* Rollback paths keep the first error: their own failures are not recorded. */
static void pg_quiet(struct store__sql *c, const char *sql)
{
	PQclear(PQexec(PG(c)->conn, sql));
}

/* Between transactions, a lost connection is re-established (statements re-prepared). */
static int pg_ready(struct store__sql *c)
{
	struct pg *p = PG(c);

	if (PQstatus(p->conn) == CONNECTION_OK)
		return STORE_OK;
	if (c->depth || c->base.user_tx)
		return pg_fail(p, NULL);
	PQreset(p->conn);
	store__sql_cache_clear(c);
	if (PQstatus(p->conn) != CONNECTION_OK)
		return pg_fail(p, NULL);
	fl_log(FL_LOG_INFO, "store: reconnected to '%s'", c->base.url);
	return STORE_OK;
}

/* A statement is named in its session; the handle is its name. */
static int pg_prepare(struct store__sql *c, const char *sql, void **stmt)
{
	struct pg *p = PG(c);
	char *name = fl_asprintf("fl%u", p->next_name++);
	PGresult *res = PQprepare(p->conn, name, sql, 0, NULL);
	int rc = STORE_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = pg_fail(p, res);
		free(name);
		name = NULL;
	}
	PQclear(res);
	*stmt = name;
	return rc;
}

static void pg_finalize(struct store__sql *c, void *stmt)
{
	/* the session's statements go with it (closing, or a new session after a reset) */
	(void)c;
	free(stmt);
}

/* bytea's hex input form of data. Caller frees. */
static char *bytea_hex(const void *data, size_t len)
{
	char *s = fl_malloc(2 * len + 3);

	s[0] = '\\';
	s[1] = 'x';
	fl_hex(s + 2, data, len);
	return s;
}

static const struct store__row_ops pg_row_ops;

/* Parameters travel as text; the whole result comes back at once. */
static int pg_run(struct store__sql *c, void *stmt, const struct store__val *v, int n,
		  struct store__cur *cur)
{
	struct pg *p = PG(c);
	char nums[STORE__MAX_PARAMS][32];
	const char *values[STORE__MAX_PARAMS] = { 0 };
	char *bytes[STORE__MAX_PARAMS];
	PGresult *res;
	int i, nbytes = 0, rc = STORE_OK;

	for (i = 0; i < n; i++) {
		if (v[i].null)
			continue;
		switch (v[i].kind) {
		case 't':
			values[i] = v[i].s;
			break;
		case 'i':
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v[i].i);
			values[i] = nums[i];
			break;
		case 'd':
			snprintf(nums[i], sizeof(nums[i]), "%.17g", v[i].d);
			values[i] = nums[i];
			break;
		case 'b':
			values[i] = v[i].i ? "t" : "f";
			break;
		case 'x':
			values[i] = bytes[nbytes++] = bytea_hex(v[i].p, v[i].n);
			break;
		}
	}
	res = PQexecPrepared(p->conn, stmt, n, values, NULL, NULL, 0);
	while (nbytes)
		free(bytes[--nbytes]);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = pg_fail(p, res);
		PQclear(res);
		return rc;
	}
	cur->stmt = res;
	cur->row.ops = &pg_row_ops;
	cur->row.h = res;
	cur->row.row = -1;
	return STORE_OK;
}

static int pg_step(struct store__sql *c, struct store__cur *cur)
{
	(void)c;
	return ++cur->row.row < PQntuples(cur->stmt) ? 1 : 0;
}

static void pg_done(struct store__sql *c, struct store__cur *cur)
{
	(void)c;
	PQclear(cur->stmt);
	cur->stmt = NULL;
}

static int pg_changes(struct store__sql *c, const struct store__cur *cur)
{
	(void)c;
	if (PQresultStatus(cur->stmt) == PGRES_TUPLES_OK)
		return PQntuples(cur->stmt);
	return (int)strtol(PQcmdTuples(cur->stmt), NULL, 10);
}

static bool row_is_null(const struct store__row *r, int c)
{
	return PQgetisnull(r->h, r->row, c);
}

static const char *row_text(const struct store__row *r, int c)
{
	return PQgetisnull(r->h, r->row, c) ? NULL : PQgetvalue(r->h, r->row, c);
}

static int64_t row_i64(const struct store__row *r, int c)
{
	const char *s = row_text(r, c);

	if (!s)
		return 0;
	if (*s == 't' || *s == 'f') /* booleans */
		return *s == 't';
	return strtoll(s, NULL, 10);
}

static double row_dbl(const struct store__row *r, int c)
{
	const char *s = row_text(r, c);

	return s ? strtod(s, NULL) : 0.0;
}

/* Decodes bytea's hex output form ("\x4865..."); NULL when it is not in that form. */
static void *row_blob(const struct store__row *r, int c, size_t *len)
{
	const char *s = row_text(r, c);
	unsigned char *b;
	size_t n;

	if (!s || s[0] != '\\' || s[1] != 'x')
		return NULL;
	s += 2;
	n = strlen(s);
	if (n % 2)
		return NULL;
	b = fl_malloc(n / 2 + 1);
	if (fl_unhex(b, s, n / 2)) {
		free(b);
		return NULL;
	}
	b[n / 2] = '\0';
	*len = n / 2;
	return b;
}

static const struct store__row_ops pg_row_ops = { row_is_null, row_text, row_i64, row_dbl, row_blob };

/* ---- the dialect: transactions ---- */

int pg_control(struct store__sql *c, const char *sql)
{
	PGresult *res;
	int rc = pg_ready(c);

	if (rc)
		return rc;
	res = PQexec(PG(c)->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(PG(c), res);
	PQclear(res);
	return rc;
}

static enum store__tx_state pg_state(struct store__sql *c)
{
	PGconn *conn = PG(c)->conn;

	if (PQstatus(conn) != CONNECTION_OK)
		return STORE__TX_LOST;
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_IDLE:
		return STORE__TX_NONE;
	case PQTRANS_INERROR:
		return STORE__TX_ABORTED;
	case PQTRANS_ACTIVE:
	case PQTRANS_INTRANS:
		return STORE__TX_OPEN;
	case PQTRANS_UNKNOWN:
		break;
	}
	return STORE__TX_LOST;
}

static int pg_lost(struct store__sql *c)
{
	return pg_fail(PG(c), NULL);
}

int pg_tx_lazy(struct pg *p)
{
	if (!p->c.own_tx || p->c.depth != 1)
		return STORE_OK;
	return pg_control(&p->c, "SET LOCAL synchronous_commit = off");
}

static const struct store__dialect pg_dialect = {
	.name = "postgres",
	.dollar_params = true,
	.casts = true,
	.for_update = true,
	.stmt_aborts_tx = true,
	.begin_write = "BEGIN",   /* row locks do what SQLite's IMMEDIATE does */
	.ready = pg_ready,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.run = pg_run,
	.step = pg_step,
	.done = pg_done,
	.changes = pg_changes,
	.control = pg_control,
	.quiet = pg_quiet,
	.state = pg_state,
	.lost = pg_lost,
	.migrate_lock = "SELECT pg_advisory_xact_lock(?)",
	.schema_read = pg_schema_read,
	.schema_apply = pg_schema_apply,
	.ticket_insert = pg_ticket_insert,
	.search = pg_search,
	.customer_phone = PG_CUSTOMER_PHONE,
	.analysis_summary =
		"jsonb_build_array(t.analysis #> '{sentiment_analysis,sentiment}',"
		" t.analysis #> '{sentiment_analysis,urgency}', t.analysis #> '{categorization,primary_category}',"
		" t.analysis #> '{categorization,confidence}', t.analysis #> '{priority_assignment,priority}',"
		" t.analysis #> '{priority_assignment,score}', t.analysis #> '{escalation_decision,escalation_decision}',"
		" t.analysis #> '{escalation_decision,escalation_priority}', t.analysis #> '{auto_reply,sent}',"
		" t.analysis #> '{auto_reply,reason}',"
		" t.analysis #> '{generated_response,escalation_needed}',"
		" left(t.analysis #>> '{generated_response,response}', 1))",
};

/* ---- opening ---- */

static void pgb_close(struct store *st)
{
	struct pg *p = PG(st);

	store__sql_cache_clear(&p->c);
	PQfinish(p->conn);
	free(p);
}

static int pgb_open(const struct store_open_args *a, struct store **out, char **err)
{
	const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "10", "frontline", a->url, NULL };
	struct pg *p = fl_calloc(1, sizeof(*p));
	int rc, v = 0;

	store__sql_init(&p->c, &pg_dialect);
	p->c.base.url = fl_strdup(a->masked);
	p->c.base.op = "open";
	/* The URL's own connect_timeout, if any, overrides the default before it. */
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		rc = pg_fail(p, NULL);
		goto fail;
	}
	PQsetNoticeProcessor(p->conn, notice, NULL);
	rc = pg_control(&p->c, "SET client_min_messages = warning");
	if (!rc)
		rc = pg_schema_read(&p->c, &v, NULL);
	if (rc)
		goto fail;
	if (v > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(v);

		rc = store__fail(&p->c.base, STORE_EVERSION, "%s", d);
		free(d);
		goto fail;
	}
	if (a->migrate && v < STORE__SCHEMA_VERSION) {
		p->c.base.op = "migrate";
		rc = store__sql_migrate(&p->c.base, NULL, NULL);
		if (rc)
			goto fail;
	}
	p->c.base.op = NULL;
	*out = &p->c.base;
	return STORE_OK;
fail:
	*err = fl_strdup(p->c.base.err.buf);
	fl_buf_release(&p->c.base.err);
	free(p->c.base.url);
	pgb_close(&p->c.base);
	return rc;
}

const struct store_ops store__postgres_ops = {
	.version = STORE_OPS_VERSION,
	.name = "postgres",
	.open = pgb_open,
	.close = pgb_close,
	STORE__SQL_OPS,
	.ticket_import = pg_ticket_import,
	.job_claim = pg_job_claim,
	.outbox_claim = pg_outbox_claim,
	.lock_try = pg_lock_try,
	.lock_release = pg_lock_release,
};
