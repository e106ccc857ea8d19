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

#define MAX_PARAMS 40

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

	store__fail(&p->base, rc, "%s%s%s%s", msg, state ? " (SQLSTATE " : "", state ? state : "",
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

/* ---- statements ---- */

/* Rollback paths keep the first error: their own failures are not recorded. */
static void quiet(struct pg *p, const char *sql)
{
	PQclear(PQexec(p->conn, sql));
}

static uint64_t hash_sql(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void cache_clear(struct pg *p)
{
	size_t i;

	for (i = 0; i < p->cache_size; i++)
		free(p->cache[i].sql);
	free(p->cache);
	p->cache = NULL;
	p->ncache = p->cache_size = 0;
}

static void cache_grow(struct pg *p)
{
	struct pg_cached *old = p->cache;
	size_t n = p->cache_size, i;

	p->cache_size = n ? n * 2 : 64;
	p->cache = fl_calloc(p->cache_size, sizeof(*p->cache));
	for (i = 0; i < n; i++) {
		size_t j;

		if (!old[i].sql)
			continue;
		for (j = old[i].hash & (p->cache_size - 1); p->cache[j].sql; j = (j + 1) & (p->cache_size - 1))
			;
		p->cache[j] = old[i];
	}
	free(old);
}

/* Between transactions, a lost connection is re-established (statements re-prepared). */
static int ensure_connected(struct pg *p)
{
	if (PQstatus(p->conn) == CONNECTION_OK)
		return STORE_OK;
	if (p->depth || p->base.user_tx)
		return pg_fail(p, NULL);
	PQreset(p->conn);
	cache_clear(p);
	if (PQstatus(p->conn) != CONNECTION_OK)
		return pg_fail(p, NULL);
	fl_log(FL_LOG_INFO, "store: reconnected to '%s'", p->base.url);
	return STORE_OK;
}

static struct pg_cached *prepared(struct pg *p, const char *sql, int nparams, int *rc)
{
	uint64_t h = hash_sql(sql);
	struct pg_cached *c;
	PGresult *res;
	size_t j;

	if (p->ncache * 2 >= p->cache_size)
		cache_grow(p);
	for (j = h & (p->cache_size - 1); p->cache[j].sql; j = (j + 1) & (p->cache_size - 1))
		if (p->cache[j].hash == h && !strcmp(p->cache[j].sql, sql))
			return &p->cache[j];
	c = &p->cache[j];
	snprintf(c->name, sizeof(c->name), "fl%u", p->next_name++);
	res = PQprepare(p->conn, c->name, sql, nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*rc = pg_fail(p, res);
		PQclear(res);
		return NULL;
	}
	PQclear(res);
	c->sql = fl_strdup(sql);
	c->hash = h;
	c->nparams = nparams;
	p->ncache++;
	return c;
}

int pg_queryv(struct pg *p, PGresult **out, const char *sql, const char *fmt, va_list ap)
{
	char nums[MAX_PARAMS][32];
	const char *values[MAX_PARAMS];
	int n = fmt ? (int)strlen(fmt) : 0, i;

	if (n > MAX_PARAMS)
		fl_die("store: too many parameters (%d)", n);
	for (i = 0; i < n; i++) {
		switch (fmt[i]) {
		case 't':
			values[i] = va_arg(ap, const char *);
			break;
		case 'i':
		case 'j': {
			int64_t v = va_arg(ap, int64_t);

			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)v);
			values[i] = fmt[i] == 'j' && v < 0 ? NULL : nums[i];
			break;
		}
		case 'd':
		case 'e': {
			double v = va_arg(ap, double);

			snprintf(nums[i], sizeof(nums[i]), "%.17g", v);
			values[i] = fmt[i] == 'e' && v < 0 ? NULL : nums[i];
			break;
		}
		case 'b':
			values[i] = va_arg(ap, int) ? "t" : "f";
			break;
		default:
			fl_die("store: bad bind format '%c'", fmt[i]);
		}
	}
	return pg_query_values(p, out, sql, n, values);
}

int pg_query_values(struct pg *p, PGresult **out, const char *sql, int n, const char *const *values)
{
	struct pg_cached *c;
	PGresult *res;
	int rc;

	bool guard = p->base.user_tx && p->depth == 0;

	*out = NULL;
	if ((rc = ensure_connected(p)))
		return rc;
	/*
	 * In the caller's transaction, a failing statement must not doom the
	 * statements before it (as on SQLite): a savepoint of its own.
	 * Operations of several statements have one already (pg_tx_begin).
	 */
	if (guard && (rc = pg_control(p, "SAVEPOINT st")))
		return rc;
	c = prepared(p, sql, n, &rc);
	if (c) {
		res = PQexecPrepared(p->conn, c->name, n, values, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
			*out = res;
		} else {
			rc = pg_fail(p, res);
			PQclear(res);
		}
	}
	if (guard && rc) {
		quiet(p, "ROLLBACK TO SAVEPOINT st");
		quiet(p, "RELEASE SAVEPOINT st");
	} else if (guard && (rc = pg_control(p, "RELEASE SAVEPOINT st"))) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

int pg_query(struct pg *p, PGresult **res, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pg_queryv(p, res, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int pg_exec(struct pg *p, int *changes, const char *sql, const char *fmt, ...)
{
	PGresult *res;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pg_queryv(p, &res, sql, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	if (changes)
		*changes = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : (int)strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int pg_int(struct pg *p, int64_t *out, const char *sql, const char *fmt, ...)
{
	PGresult *res;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pg_queryv(p, &res, sql, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	if (PQntuples(res) < 1) {
		rc = STORE_ENOTFOUND;
	} else {
		struct store__row r = pg_row_of(res, 0);

		*out = r.ops->i64(&r, 0);
	}
	PQclear(res);
	return rc;
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

static const struct store__row_ops pg_row_ops = { row_is_null, row_text, row_i64, row_dbl };

struct store__row pg_row_of(PGresult *res, int row)
{
	struct store__row r = { &pg_row_ops, res, row };

	return r;
}

static int rows_v(struct pg *p, json_t *(*decode)(const struct store__row *), json_t **arr, bool one,
		  const char *sql, const char *fmt, va_list ap)
{
	PGresult *res;
	int rc, i, n;

	rc = pg_queryv(p, &res, sql, fmt, ap);
	if (rc)
		return rc;
	n = PQntuples(res);
	if (one) {
		if (n > 0) {
			struct store__row r = pg_row_of(res, 0);

			*arr = decode(&r);
		}
		PQclear(res);
		return n > 0 ? STORE_OK : STORE_ENOTFOUND;
	}
	if (!*arr)
		*arr = json_array();
	for (i = 0; i < n; i++) {
		struct store__row r = pg_row_of(res, i);

		json_array_append_new(*arr, decode(&r));
	}
	PQclear(res);
	return STORE_OK;
}

int pg_rows(struct pg *p, json_t *(*decode)(const struct store__row *), json_t **arr,
	    const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rows_v(p, decode, arr, false, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int pg_row(struct pg *p, json_t *(*decode)(const struct store__row *), json_t **out,
	   const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	*out = NULL;
	va_start(ap, fmt);
	rc = rows_v(p, decode, out, true, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int pg_control(struct pg *p, const char *sql)
{
	PGresult *res;
	int rc = ensure_connected(p);

	if (rc)
		return rc;
	res = PQexec(p->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(p, res);
	PQclear(res);
	return rc;
}

/* ---- transactions ---- */

int pg_tx_begin(struct pg *p)
{
	int rc;

	if (p->depth == 0 && PQtransactionStatus(p->conn) == PQTRANS_IDLE && !p->base.user_tx) {
		rc = pg_control(p, "BEGIN");
		if (rc)
			return rc;
		p->own_tx = true;
	} else {
		rc = pg_control(p, "SAVEPOINT sp");
		if (rc)
			return rc;
	}
	p->depth++;
	return STORE_OK;
}

int pg_tx_lazy(struct pg *p)
{
	if (!p->own_tx || p->depth != 1)
		return STORE_OK;
	return pg_control(p, "SET LOCAL synchronous_commit = off");
}

int pg_tx_begin_flat(struct pg *p)
{
	if (p->depth == 0 && !p->base.user_tx)
		return pg_tx_begin(p);
	if (p->depth >= 32)
		return store__fail(&p->base, STORE_EINTERNAL, "transactions nested too deep");
	p->flat |= 1u << p->depth;
	p->depth++;
	return STORE_OK;
}

int pg_tx_end(struct pg *p, int rc)
{
	p->depth--;
	if (p->flat & (1u << p->depth)) {
		/* No savepoint: an error dooms the caller's transaction (store_commit refuses it). */
		p->flat &= ~(1u << p->depth);
		if (rc)
			p->base.doomed = true;
		return rc;
	}
	if (p->depth == 0 && p->own_tx) {
		p->own_tx = false;
		if (rc == STORE_OK) {
			rc = pg_control(p, "COMMIT");
			/* COMMIT of a failed transaction reports success but rolls back. */
			if (!rc && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
				quiet(p, "ROLLBACK");
		} else {
			quiet(p, "ROLLBACK");
		}
		return rc;
	}
	if (PQstatus(p->conn) != CONNECTION_OK)
		return rc ? rc : pg_fail(p, NULL);
	if (rc == STORE_OK)
		return pg_control(p, "RELEASE SAVEPOINT sp");
	quiet(p, "ROLLBACK TO SAVEPOINT sp");
	quiet(p, "RELEASE SAVEPOINT sp");
	return rc;
}

static int pgb_begin(struct store *st, bool immediate)
{
	/* Row locks do what SQLite's IMMEDIATE does: both are a plain BEGIN here. */
	(void)immediate;
	return pg_control(PG(st), "BEGIN");
}

static int pgb_commit(struct store *st)
{
	struct pg *p = PG(st);
	PGresult *res;
	int rc = STORE_OK;

	if (PQtransactionStatus(p->conn) == PQTRANS_INERROR) {
		quiet(p, "ROLLBACK");
		return store__fail(st, STORE_EIO, "the transaction was rolled back by an earlier error");
	}
	res = PQexec(p->conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pg_fail(p, res);
	PQclear(res);
	if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		quiet(p, "ROLLBACK");
	return rc;
}

static void pgb_rollback(struct store *st)
{
	struct pg *p = PG(st);

	if (PQstatus(p->conn) == CONNECTION_OK && PQtransactionStatus(p->conn) != PQTRANS_IDLE)
		quiet(p, "ROLLBACK");
	p->depth = 0;
	p->flat = 0;
	p->own_tx = false;
}

/* ---- opening ---- */

static void pgb_close(struct store *st)
{
	struct pg *p = PG(st);

	cache_clear(p);
	PQfinish(p->conn);
	free(p);
}

static int pgb_migrate(struct store *st, int *from, int *to)
{
	struct pg *p = PG(st);
	int rc, v = 0;

	if (st->user_tx)
		return store__fail(st, STORE_EINVAL, "cannot migrate inside a transaction");
	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	/* One migrator at a time across replicas; the others then find it done. */
	rc = pg_exec(p, NULL, "SELECT pg_advisory_xact_lock($1)", "i", (int64_t)STORE__SQLITE_APP_ID);
	if (!rc)
		rc = pg_schema_read(p, &v);
	if (!rc && v > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(v);

		rc = store__fail(st, STORE_EVERSION, "%s", d);
		free(d);
	}
	if (!rc && v < STORE__SCHEMA_VERSION)
		rc = pg_schema_apply(p, v);
	rc = pg_tx_end(p, rc);
	if (from)
		*from = v;
	if (to)
		*to = rc ? v : STORE__SCHEMA_VERSION;
	if (!rc && v < STORE__SCHEMA_VERSION)
		fl_log(FL_LOG_INFO, "store: migrated '%s' from schema version %d to %d", st->url, v,
		       STORE__SCHEMA_VERSION);
	return rc;
}

static int pgb_open(const struct store_open_args *a, struct store **out, char **err)
{
	const char *keys[] = { "connect_timeout", "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "10", "frontline", a->url, NULL };
	struct pg *p = fl_calloc(1, sizeof(*p));
	int rc, v = 0;

	p->base.url = fl_strdup(a->masked);
	p->base.op = "open";
	/* The URL's own connect_timeout, if any, overrides the default before it. */
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		rc = pg_fail(p, NULL);
		goto fail;
	}
	PQsetNoticeProcessor(p->conn, notice, NULL);
	rc = pg_control(p, "SET client_min_messages = warning");
	if (!rc)
		rc = pg_schema_read(p, &v);
	if (rc)
		goto fail;
	if (v > STORE__SCHEMA_VERSION) {
		char *d = store__version_detail(v);

		rc = store__fail(&p->base, STORE_EVERSION, "%s", d);
		free(d);
		goto fail;
	}
	if (a->migrate && v < STORE__SCHEMA_VERSION) {
		p->base.op = "migrate";
		rc = pgb_migrate(&p->base, NULL, NULL);
		if (rc)
			goto fail;
	}
	p->base.op = NULL;
	*out = &p->base;
	return STORE_OK;
fail:
	*err = fl_strdup(p->base.err.buf);
	fl_buf_release(&p->base.err);
	free(p->base.url);
	pgb_close(&p->base);
	return rc;
}

static int pgb_schema_version(struct store *st, int *version)
{
	return pg_schema_read(PG(st), version);
}

static int pgb_ping(struct store *st)
{
	int rc, v = 0;

	rc = pgb_schema_version(st, &v);
	if (rc == STORE_OK && v != STORE__SCHEMA_VERSION)
		rc = store__fail(st, STORE_EVERSION, "schema version %d, this build needs %d%s", v,
				 STORE__SCHEMA_VERSION, v < STORE__SCHEMA_VERSION ? ": run 'frontline migrate'" : "");
	return rc;
}

const struct store_ops store__postgres_ops = {
	.version = STORE_OPS_VERSION,
	.name = "postgres",
	.open = pgb_open,
	.close = pgb_close,
	.migrate = pgb_migrate,
	.schema_version = pgb_schema_version,
	.ping = pgb_ping,
	.begin = pgb_begin,
	.commit = pgb_commit,
	.rollback = pgb_rollback,
	.ticket_intake = pg_ticket_intake,
	.ticket_get = pg_ticket_get,
	.ticket_list = pg_ticket_list,
	.ticket_update = pg_ticket_update,
	.ticket_import = pg_ticket_import,
	.message_add = pg_message_add,
	.message_list = pg_message_list,
	.message_find_by_email_id = pg_message_find_by_email_id,
	.customer_get = pg_customer_get,
	.customer_find_by_email = pg_customer_find_by_email,
	.customer_upsert = pg_customer_upsert,
	.customer_update_metrics = pg_customer_update_metrics,
	.customer_list = pg_customer_list,
	.kb_upsert = pg_kb_upsert,
	.kb_get = pg_kb_get,
	.kb_list = pg_kb_list,
	.kb_delete = pg_kb_delete,
	.escalation_open = pg_escalation_open,
	.escalation_claim = pg_escalation_claim,
	.escalation_release = pg_escalation_release,
	.escalation_close = pg_escalation_close,
	.escalation_get = pg_escalation_get,
	.escalation_list = pg_escalation_list,
	.event_append = pg_event_append,
	.event_list = pg_event_list,
	.outbox_enqueue = pg_outbox_enqueue,
	.outbox_claim = pg_outbox_claim,
	.outbox_mark_sent = pg_outbox_mark_sent,
	.outbox_fail = pg_outbox_fail,
	.outbox_list = pg_outbox_list,
	.job_enqueue = pg_job_enqueue,
	.job_claim = pg_job_claim,
	.job_heartbeat = pg_job_heartbeat,
	.job_complete = pg_job_complete,
	.job_fail = pg_job_fail,
	.job_retry = pg_job_retry,
	.job_list = pg_job_list,
	.job_counts = pg_job_counts,
	.metrics = pg_metrics,
	.token_insert = pg_token_insert,
	.token_find = pg_token_find,
	.token_list = pg_token_list,
	.token_revoke = pg_token_revoke,
	.blob_put = pg_blob_put,
	.blob_get = pg_blob_get,
	.mail_raw_put = pg_mail_raw_put,
	.mail_raw_finish = pg_mail_raw_finish,
	.mail_raw_get = pg_mail_raw_get,
	.mail_raw_list = pg_mail_raw_list,
	.imap_state_get = pg_imap_state_get,
	.imap_state_set = pg_imap_state_set,
	.rate_hit = pg_rate_hit,
	.alert_raise = pg_alert_raise,
	.alert_resolve = pg_alert_resolve,
	.alert_list = pg_alert_list,
	.lock_try = pg_lock_try,
	.lock_release = pg_lock_release,
	.job_release = pg_job_release,
	.outbox_retry = pg_outbox_retry,
	.outbox_counts = pg_outbox_counts,
};
