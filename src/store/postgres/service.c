/*
 * PostgreSQL backend: the service's records. Monitoring alerts (one active
 * row per type: an upsert on the partial unique index), named locks as
 * session-level advisory locks (several replicas share the database; the
 * lock goes with the connection, so a crashed replica cannot hold it),
 * releasing a job at shutdown, and outbox administration.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define ALERT_SELECT "SELECT " STORE__ALERT_COLS " FROM alerts a"
/* The advisory lock key of a name; the same on every replica. */
#define LOCK_KEY "hashtextextended($1, 0)"

int pg_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised)
{
	struct pg *p = PG(st);
	struct store__alert_in in;
	PGresult *res = NULL;
	int64_t id;
	bool inserted;
	int rc;

	rc = store__alert_in_parse(st, alert, &in);
	if (rc)
		return rc;
	rc = pg_query(p, &res,
		      "INSERT INTO alerts (type, severity, metric, message, value, threshold, status,"
		      " observations, raised_at, last_seen_at)"
		      " VALUES ($1, $2, $3, $4, CASE WHEN $5::boolean THEN $6::double precision END,"
		      " CASE WHEN $7::boolean THEN $8::double precision END, 'active', 1, $9, $9)"
		      " ON CONFLICT (type) WHERE status = 'active' DO UPDATE SET"
		      " severity = excluded.severity, metric = excluded.metric, message = excluded.message,"
		      " value = excluded.value, threshold = excluded.threshold,"
		      " last_seen_at = excluded.last_seen_at, observations = alerts.observations + 1"
		      " RETURNING id, (xmax = 0)",
		      "ttttbdbdi", in.type, in.severity, in.metric, in.message, (int)in.has_value,
		      in.has_value ? in.value : 0.0, (int)in.has_threshold,
		      in.has_threshold ? in.threshold : 0.0, store__now(st));
	if (rc)
		return rc;
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	inserted = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (raised)
		*raised = inserted;
	if (out)
		rc = pg_row(p, store__alert_json, out, ALERT_SELECT " WHERE a.id = $1", "i", id);
	return rc;
}

int pg_alert_resolve(struct store *st, const char *type, json_t **out)
{
	struct pg *p = PG(st);
	int64_t id = 0;
	int rc = pg_int(p, &id, "UPDATE alerts SET status = 'resolved', resolved_at = $1"
			" WHERE type = $2 AND status = 'active' RETURNING id", "it", store__now(st), type);

	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no active alert of type '%s'", type);
	if (!rc && out)
		rc = pg_row(p, store__alert_json, out, ALERT_SELECT " WHERE a.id = $1", "i", id);
	return rc;
}

int pg_alert_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return pg_rows(PG(st), store__alert_json, out,
			       ALERT_SELECT " WHERE a.status = $1 ORDER BY a.id DESC LIMIT $2", "ti", status,
			       (int64_t)limit);
	return pg_rows(PG(st), store__alert_json, out, ALERT_SELECT " ORDER BY a.id DESC LIMIT $1", "i",
		       (int64_t)limit);
}

/* Whether this session holds the advisory lock of name (they nest: take it once). */
static int lock_held(struct pg *p, const char *name, bool *held)
{
	int64_t n = 0;
	int rc = pg_int(p, &n, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
			" AND pid = pg_backend_pid() AND granted AND objsubid = 1"
			" AND ((classid::bigint << 32) | objid::bigint) = " LOCK_KEY, "t", name);

	*held = n > 0;
	return rc;
}

int pg_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired)
{
	struct pg *p = PG(st);
	bool held;
	int64_t got = 0;
	int rc = lock_held(p, name, &held);

	(void)owner;
	(void)ttl_s;
	if (rc || held) {
		*acquired = !rc;
		return rc;
	}
	rc = pg_int(p, &got, "SELECT pg_try_advisory_lock(" LOCK_KEY ")::integer", "t", name);
	*acquired = !rc && got;
	return rc;
}

int pg_lock_release(struct store *st, const char *name, const char *owner)
{
	struct pg *p = PG(st);
	int64_t x;
	bool held;
	int rc = lock_held(p, name, &held);

	(void)owner;
	if (rc || !held)
		return rc;
	return pg_int(p, &x, "SELECT pg_advisory_unlock(" LOCK_KEY ")::integer", "t", name);
}

int pg_job_release(struct store *st, int64_t id, const char *owner)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), x;
	int changes = 0;
	int rc = pg_exec(p, &changes,
			 "UPDATE jobs SET status = 'queued', attempts = GREATEST(attempts - 1, 0), due_at = $1,"
			 " lease_owner = NULL, lease_until = NULL, updated_at = $1"
			 " WHERE id = $2 AND status = 'running' AND lease_owner = $3", "iit", now, id, owner);

	if (rc || changes)
		return rc;
	rc = pg_int(p, &x, "SELECT id FROM jobs WHERE id = $1", "i", id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "job %lld not found", (long long)id);
	return rc ? rc : store__fail(st, STORE_ELEASE, "job %lld is not running under '%s'", (long long)id, owner);
}

int pg_outbox_retry(struct store *st, int64_t id)
{
	struct pg *p = PG(st);
	json_t *o = NULL;
	int changes = 0;
	int rc = pg_exec(p, &changes, "UPDATE outbox SET status = 'pending', attempts = 0, due_at = $1,"
			 " lease_owner = NULL WHERE id = $2 AND status = 'dead'", "ii", store__now(st), id);

	if (rc || changes)
		return rc;
	rc = pg_row(p, store__outbox_json, &o, "SELECT " STORE__OUTBOX_COLS " FROM outbox o WHERE o.id = $1",
		    "i", id);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "outbox item %lld not found", (long long)id);
	else if (!rc)
		rc = store__fail(st, STORE_ECONFLICT, "outbox item %lld is %s, not dead", (long long)id,
				 fl_json_str(o, "status", "?"));
	json_decref(o);
	return rc;
}

int pg_outbox_counts(struct store *st, json_t **out)
{
	json_t *c = json_pack("{s:I, s:I, s:I, s:I}", "pending", (json_int_t)0, "sending", (json_int_t)0,
			      "sent", (json_int_t)0, "dead", (json_int_t)0);
	PGresult *res;
	int rc, i;

	rc = pg_query(PG(st), &res, "SELECT status, count(*) FROM outbox GROUP BY status", NULL);
	if (rc) {
		json_decref(c);
		return rc;
	}
	for (i = 0; i < PQntuples(res); i++)
		json_object_set_new(c, PQgetvalue(res, i, 0), json_integer(strtoll(PQgetvalue(res, i, 1), NULL, 10)));
	PQclear(res);
	*out = c;
	return STORE_OK;
}
