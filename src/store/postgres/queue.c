/*
 * PostgreSQL backend: the job queue and the outbox, shared by replicas.
 * A claim walks the partial due_at index in order with FOR UPDATE SKIP
 * LOCKED, so concurrent workers each take a different row without waiting
 * on one another; leases, backoff and the dead letter list work as in
 * sqlite/queue.c (the same columns and states).
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define JOB_SELECT "SELECT " STORE__JOB_COLS " FROM jobs j LEFT JOIN tickets t ON t.number = j.ticket_number"
#define OUTBOX_SELECT "SELECT " STORE__OUTBOX_COLS " FROM outbox o"

int pg_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		   const json_t *payload, int max_attempts, int64_t run_at_us,
		   const char *dedupe_key)
{
	struct pg *p = PG(st);
	char *text = store__json_text(payload, "{}");
	int64_t number = -1, now = store__now(st), run_at = run_at_us ? run_at_us : now;
	int rc = STORE_OK;

	if (ticket_id)
		rc = pg_ticket_number(p, ticket_id, &number);
	if (!rc)
		rc = pg_exec(p, NULL, PG_JOB_INSERT, "tjtiiitii", kind, number, text, (int64_t)max_attempts,
			     run_at, run_at, dedupe_key, now, now);
	free(text);
	return rc;
}

int pg_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	PGresult *res = NULL;
	int rc;

	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	rc = pg_tx_lazy(p);   /* a claim lost to a crash only puts the job back */
	for (; !rc;) {
		int64_t id, attempts, max;
		bool expired_last;

		if (kind)
			rc = pg_query(p, &res, "SELECT id, status, attempts, max_attempts FROM jobs"
				      " WHERE status IN ('queued', 'running') AND due_at <= $1 AND kind = $2"
				      " ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED", "it", now, kind);
		else
			rc = pg_query(p, &res, "SELECT id, status, attempts, max_attempts FROM jobs"
				      " WHERE status IN ('queued', 'running') AND due_at <= $1"
				      " ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED", "i", now);
		if (rc)
			break;
		if (PQntuples(res) < 1) {
			PQclear(res);
			rc = store__fail(st, STORE_ENOTFOUND, "no job is due");
			break;
		}
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		attempts = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
		max = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
		expired_last = !strcmp(PQgetvalue(res, 0, 1), "running") && attempts >= max;
		PQclear(res);
		res = NULL;
		if (expired_last) {
			rc = pg_exec(p, NULL, "UPDATE jobs SET status = 'dead', due_at = NULL, lease_until = NULL,"
				     " last_error = 'lease expired on the last attempt (the worker was lost)',"
				     " finished_at = $1, updated_at = $1 WHERE id = $2", "ii", now, id);
			if (rc)
				break;
			continue;
		}
		rc = pg_exec(p, NULL, "UPDATE jobs SET status = 'running', attempts = attempts + 1,"
			     " lease_owner = $1, lease_until = $2, due_at = $2, updated_at = $3 WHERE id = $4",
			     "tiii", owner, until, now, id);
		if (rc)
			break;
		rc = pg_query(p, &res, JOB_SELECT " WHERE j.id = $1", "i", id);
		if (!rc && PQntuples(res) > 0) {
			struct store__row row = pg_row_of(res, 0);

			*out = store__job_struct(&row);
		} else if (!rc) {
			rc = STORE_EINTERNAL;
		}
		PQclear(res);
		break;
	}
	/* Jobs moved to the dead letter list stay there even when none is left to claim. */
	if (rc == STORE_ENOTFOUND) {
		rc = pg_tx_end(p, STORE_OK);
		if (!rc)
			rc = STORE_ENOTFOUND;
	} else {
		rc = pg_tx_end(p, rc);
	}
	if (rc) {
		store_job_free(*out);
		*out = NULL;
	}
	return rc;
}

/* After a lease-checked update changed nothing: ENOTFOUND or ELEASE. */
static int lease_lost(struct pg *p, int64_t id, const char *owner)
{
	int64_t x;
	int rc = pg_int(p, &x, "SELECT id FROM jobs WHERE id = $1", "i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&p->base, rc, "job %lld not found", (long long)id);
	if (rc)
		return rc;
	return store__fail(&p->base, STORE_ELEASE, "job %lld is not running under '%s'", (long long)id, owner);
}

int pg_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	int changes = 0;
	int rc = pg_exec(p, &changes, "UPDATE jobs SET lease_until = $1, due_at = $1, updated_at = $2"
			 " WHERE id = $3 AND status = 'running' AND lease_owner = $4", "iiit", until, now, id, owner);

	return !rc && !changes ? lease_lost(p, id, owner) : rc;
}

int pg_job_complete(struct store *st, int64_t id, const char *owner)
{
	struct pg *p = PG(st);
	int changes = 0;
	int rc = pg_exec(p, &changes, "UPDATE jobs SET status = 'done', due_at = NULL, lease_until = NULL,"
			 " finished_at = $1, updated_at = $1 WHERE id = $2 AND status = 'running'"
			 " AND lease_owner = $3", "iit", store__now(st), id, owner);

	return !rc && !changes ? lease_lost(p, id, owner) : rc;
}

int pg_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		int64_t backoff_us)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st);
	int changes = 0;
	int rc = pg_exec(p, &changes,
			 "UPDATE jobs SET"
			 " status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,"
			 " run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE $1::bigint END,"
			 " due_at = CASE WHEN attempts >= max_attempts THEN NULL ELSE $1::bigint END,"
			 " finished_at = CASE WHEN attempts >= max_attempts THEN $2::bigint END,"
			 " last_error = $3, lease_owner = NULL, lease_until = NULL, updated_at = $2"
			 " WHERE id = $4 AND status = 'running' AND lease_owner = $5",
			 "iitit", now + backoff_us, now, error ? error : "failed", id, owner);

	return !rc && !changes ? lease_lost(p, id, owner) : rc;
}

int pg_job_retry(struct store *st, int64_t id)
{
	struct pg *p = PG(st);
	json_t *job = NULL;
	int changes = 0, rc;

	rc = pg_exec(p, &changes, "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, due_at = $1,"
		     " lease_owner = NULL, lease_until = NULL, finished_at = NULL, updated_at = $1"
		     " WHERE id = $2 AND status = 'dead'", "ii", store__now(st), id);
	if (rc || changes)
		return rc;
	rc = pg_row(p, store__job_json, &job, JOB_SELECT " WHERE j.id = $1", "i", id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "job %lld not found", (long long)id);
	if (!rc)
		rc = store__fail(st, STORE_ECONFLICT, "job %lld is %s, not dead", (long long)id,
				 fl_json_str(job, "status", "?"));
	json_decref(job);
	return rc;
}

int pg_job_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return pg_rows(PG(st), store__job_json, out,
			       JOB_SELECT " WHERE j.status = $1 ORDER BY j.id DESC LIMIT $2", "ti", status,
			       (int64_t)limit);
	return pg_rows(PG(st), store__job_json, out, JOB_SELECT " ORDER BY j.id DESC LIMIT $1", "i",
		       (int64_t)limit);
}

int pg_job_counts(struct store *st, json_t **out)
{
	json_t *c = json_pack("{s:I, s:I, s:I, s:I}", "queued", (json_int_t)0, "running", (json_int_t)0,
			      "done", (json_int_t)0, "dead", (json_int_t)0);
	PGresult *res;
	int rc, i;

	rc = pg_query(PG(st), &res, "SELECT status, count(*) FROM jobs GROUP BY status", NULL);
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

/* ---- outbox ---- */

int pg_outbox_enqueue(struct store *st, const char *channel, const char *target,
		      const json_t *payload, const char *dedupe_key, bool *created)
{
	char *text = store__json_text(payload, "{}");
	int64_t now = store__now(st);
	int changes = 0;
	int rc = pg_exec(PG(st), &changes,
			 "INSERT INTO outbox (channel, target, payload, status, attempts, due_at, dedupe_key,"
			 " created_at) VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6) ON CONFLICT DO NOTHING",
			 "tttiti", channel, target, text, now, dedupe_key, now);

	free(text);
	if (!rc && created)
		*created = changes > 0;
	return rc;
}

int pg_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	json_t *items = NULL;
	int rc;

	rc = pg_rows(p, store__outbox_json, &items,
		     "WITH claimed AS (UPDATE outbox SET status = 'sending', attempts = attempts + 1,"
		     "  lease_owner = $1, due_at = $2 WHERE id IN (SELECT id FROM outbox"
		     "  WHERE status IN ('pending', 'sending') AND due_at <= $3 ORDER BY due_at, id LIMIT $4"
		     "  FOR UPDATE SKIP LOCKED) RETURNING *)"
		     " SELECT " STORE__OUTBOX_COLS " FROM claimed o ORDER BY o.id",
		     "tiii", owner, until, now, (int64_t)max);
	if (rc) {
		json_decref(items);
		return rc;
	}
	*out = items;
	return STORE_OK;
}

/* After an outbox update changed nothing: why. */
static int outbox_state(struct pg *p, int64_t id, const char *ok_status, const char *want)
{
	json_t *o = NULL;
	int rc = pg_row(p, store__outbox_json, &o, OUTBOX_SELECT " WHERE o.id = $1", "i", id);

	if (rc == STORE_ENOTFOUND)
		rc = store__fail(&p->base, rc, "outbox item %lld not found", (long long)id);
	else if (!rc && !fl_str_eq(fl_json_str(o, "status", NULL), ok_status))
		rc = store__fail(&p->base, STORE_ECONFLICT, "outbox item %lld is %s, not %s", (long long)id,
				 fl_json_str(o, "status", "?"), want);
	json_decref(o);
	return rc;
}

int pg_outbox_mark_sent(struct store *st, int64_t id)
{
	struct pg *p = PG(st);
	int changes = 0;
	int rc = pg_exec(p, &changes, "UPDATE outbox SET status = 'sent', sent_at = $1, due_at = NULL"
			 " WHERE id = $2 AND status IN ('pending', 'sending')", "ii", store__now(st), id);

	/* Marking a sent item sent again is fine: delivery reports may repeat. */
	return !rc && !changes ? outbox_state(p, id, "sent", "pending or sending") : rc;
}

int pg_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		   int max_attempts)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st);
	int changes = 0;
	int rc = pg_exec(p, &changes,
			 "UPDATE outbox SET"
			 " status = CASE WHEN attempts >= $1::integer THEN 'dead' ELSE 'pending' END,"
			 " due_at = CASE WHEN attempts >= $1::integer THEN NULL ELSE $2::bigint END,"
			 " last_error = $3, lease_owner = NULL"
			 " WHERE id = $4 AND status IN ('pending', 'sending')",
			 "iiti", (int64_t)max_attempts, now + (int64_t)backoff_s * 1000000,
			 error ? error : "failed", id);

	return !rc && !changes ? outbox_state(p, id, NULL, "pending or sending") : rc;
}

int pg_outbox_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return pg_rows(PG(st), store__outbox_json, out,
			       OUTBOX_SELECT " WHERE o.status = $1 ORDER BY o.id DESC LIMIT $2", "ti", status,
			       (int64_t)limit);
	return pg_rows(PG(st), store__outbox_json, out, OUTBOX_SELECT " ORDER BY o.id DESC LIMIT $1", "i",
		       (int64_t)limit);
}
