/*
 * The job queue and the outbox, for both SQL backends (dialect.h), but for
 * their claims, which are each backend's (SQLite has one writer at a time
 * and claims under its write lock; PostgreSQL walks the due index with FOR
 * UPDATE SKIP LOCKED so that replicas take different rows). Both tables
 * keep a due_at column (run_at or the next attempt while waiting, the lease
 * end while held) under a partial index over the live rows. Completing,
 * failing, extending and releasing a job check its lease: a worker that
 * lost its job to another cannot touch it. A job failing its last attempt,
 * and an item failing its last delivery, are dead until retried.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

#define JOB_SELECT "SELECT " STORE__JOB_COLS " FROM jobs j LEFT JOIN tickets t ON t.number = j.ticket_number"
#define OUTBOX_SELECT "SELECT " STORE__OUTBOX_COLS " FROM outbox o"

int store__sql_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
			   const json_t *payload, int max_attempts, int64_t run_at_us,
			   const char *dedupe_key)
{
	struct store__sql *c = STORE__SQL(st);
	char *text = store__json_text(payload, "{}");
	int64_t number = -1, now = store__now(st), run_at = run_at_us ? run_at_us : now;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (!rc) {
		if (ticket_id)
			rc = store__sql_ticket_number(c, ticket_id, &number);
		if (!rc)
			rc = store__sql_exec(c, NULL, STORE__SQL_JOB_INSERT, "tjtiiitii", kind, number, text,
					     (int64_t)max_attempts, run_at, run_at, dedupe_key, now, now);
		rc = store__sql_tx_end(c, rc);
	}
	free(text);
	return rc;
}

int store__sql_job_lease_next(struct store__sql *c, const char *const next[2], const char *kind,
			      const char *owner, int64_t now, int64_t until, struct store_job **out)
{
	struct store__cur cur;
	int64_t id;
	int rc, r;

	for (;;) {
		int64_t attempts, max;
		bool expired_last;

		rc = kind ? store__sql_query(c, &cur, next[1], "it", now, kind) :
			    store__sql_query(c, &cur, next[0], "i", now);
		if (rc)
			return rc;
		r = store__sql_step(c, &cur);
		if (r <= 0) {
			store__sql_done(c, &cur);
			return r < 0 ? -r : store__fail(&c->base, STORE_ENOTFOUND, "no job is due");
		}
		id = cur.row.ops->i64(&cur.row, 0);
		attempts = cur.row.ops->i64(&cur.row, 2);
		max = cur.row.ops->i64(&cur.row, 3);
		expired_last = !strcmp(cur.row.ops->text(&cur.row, 1), "running") && attempts >= max;
		store__sql_done(c, &cur);
		if (!expired_last)
			break;
		rc = store__sql_exec(c, NULL, "UPDATE jobs SET status = 'dead', due_at = NULL, lease_until = NULL,"
				     " last_error = 'lease expired on the last attempt (the worker was lost)',"
				     " finished_at = ?1, updated_at = ?1 WHERE id = ?2", "ii", now, id);
		if (rc)
			return rc;
	}
	rc = store__sql_exec(c, NULL, "UPDATE jobs SET status = 'running', attempts = attempts + 1,"
			     " lease_owner = ?1, lease_until = ?2, due_at = ?2, updated_at = ?3 WHERE id = ?4",
			     "tiii", owner, until, now, id);
	if (rc)
		return rc;
	rc = store__sql_query(c, &cur, JOB_SELECT " WHERE j.id = ?", "i", id);
	if (rc)
		return rc;
	r = store__sql_step(c, &cur);
	if (r > 0)
		*out = store__job_struct(&cur.row);
	store__sql_done(c, &cur);
	return r > 0 ? STORE_OK : r < 0 ? -r : STORE_EINTERNAL;
}

int store__sql_job_claim_end(struct store__sql *c, int rc, struct store_job **out)
{
	/* Jobs moved to the dead letter list stay there even when none is left to claim. */
	if (rc == STORE_ENOTFOUND) {
		rc = store__sql_tx_end(c, STORE_OK);
		if (!rc)
			rc = STORE_ENOTFOUND;
	} else {
		rc = store__sql_tx_end(c, rc);
	}
	if (rc) {
		store_job_free(*out);
		*out = NULL;
	}
	return rc;
}

/* After a lease-checked update changed nothing: ENOTFOUND or ELEASE. */
static int lease_lost(struct store__sql *c, int64_t id, const char *owner)
{
	int64_t x;
	int rc = store__sql_int(c, &x, "SELECT id FROM jobs WHERE id = ?", "i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&c->base, rc, "job %lld not found", (long long)id);
	if (rc)
		return rc;
	return store__fail(&c->base, STORE_ELEASE, "job %lld is not running under '%s'", (long long)id,
			   owner);
}

int store__sql_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	int changes = 0;
	bool lazy = store__sql_lazy_begin(c);   /* a lost extension costs at most a second run */
	int rc = store__sql_exec(c, &changes, "UPDATE jobs SET lease_until = ?1, due_at = ?1, updated_at = ?2"
				 " WHERE id = ?3 AND status = 'running' AND lease_owner = ?4", "iiit", until,
				 now, id, owner);

	store__sql_lazy_end(c, lazy);
	return !rc && !changes ? lease_lost(c, id, owner) : rc;
}

int store__sql_job_complete(struct store *st, int64_t id, const char *owner)
{
	struct store__sql *c = STORE__SQL(st);
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "UPDATE jobs SET status = 'done', due_at = NULL,"
				 " lease_until = NULL, finished_at = ?1, updated_at = ?1 WHERE id = ?2"
				 " AND status = 'running' AND lease_owner = ?3", "iit", store__now(st), id, owner);

	return !rc && !changes ? lease_lost(c, id, owner) : rc;
}

int store__sql_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
			int64_t backoff_us)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	int changes = 0;
	int rc = store__sql_exec(c, &changes,
				 "UPDATE jobs SET"
				 " status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,"
				 " run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE ?1::bigint END,"
				 " due_at = CASE WHEN attempts >= max_attempts THEN NULL ELSE ?1::bigint END,"
				 " finished_at = CASE WHEN attempts >= max_attempts THEN ?2::bigint END,"
				 " last_error = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?2"
				 " WHERE id = ?4 AND status = 'running' AND lease_owner = ?5",
				 "iitit", now + backoff_us, now, error ? error : "failed", id, owner);

	return !rc && !changes ? lease_lost(c, id, owner) : rc;
}

int store__sql_job_release(struct store *st, int64_t id, const char *owner)
{
	struct store__sql *c = STORE__SQL(st);
	int changes = 0;
	/* the attempt did not happen: it is not counted */
	int rc = store__sql_exec(c, &changes,
				 "UPDATE jobs SET status = 'queued',"
				 " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, due_at = ?1,"
				 " lease_owner = NULL, lease_until = NULL, updated_at = ?1"
				 " WHERE id = ?2 AND status = 'running' AND lease_owner = ?3", "iit",
				 store__now(st), id, owner);

	return !rc && !changes ? lease_lost(c, id, owner) : rc;
}

int store__sql_job_retry(struct store *st, int64_t id)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *job = NULL;
	int changes = 0, rc;

	rc = store__sql_exec(c, &changes, "UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?1,"
			     " due_at = ?1, lease_owner = NULL, lease_until = NULL, finished_at = NULL,"
			     " updated_at = ?1 WHERE id = ?2 AND status = 'dead'", "ii", store__now(st), id);
	if (rc || changes)
		return rc;
	rc = store__sql_one(c, store__job_json, &job, JOB_SELECT " WHERE j.id = ?", "i", id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "job %lld not found", (long long)id);
	if (!rc)
		rc = store__fail(st, STORE_ECONFLICT, "job %lld is %s, not dead", (long long)id,
				 fl_json_str(job, "status", "?"));
	json_decref(job);
	return rc;
}

int store__sql_job_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return store__sql_rows(STORE__SQL(st), store__job_json, out,
				       JOB_SELECT " WHERE j.status = ? ORDER BY j.id DESC LIMIT ?", "ti", status,
				       (int64_t)limit);
	return store__sql_rows(STORE__SQL(st), store__job_json, out, JOB_SELECT " ORDER BY j.id DESC LIMIT ?",
			       "i", (int64_t)limit);
}

/* Rows of (status, count) into c, which lists every status at 0; takes c. */
static int counts(struct store__sql *c, json_t *by_status, const char *sql, json_t **out)
{
	struct store__cur cur;
	int rc, r;

	rc = store__sql_query(c, &cur, sql, NULL);
	if (rc) {
		json_decref(by_status);
		return rc;
	}
	while ((r = store__sql_step(c, &cur)) > 0)
		json_object_set_new(by_status, cur.row.ops->text(&cur.row, 0),
				    json_integer(cur.row.ops->i64(&cur.row, 1)));
	store__sql_done(c, &cur);
	if (r < 0) {
		json_decref(by_status);
		return -r;
	}
	*out = by_status;
	return STORE_OK;
}

int store__sql_job_counts(struct store *st, json_t **out)
{
	return counts(STORE__SQL(st), json_pack("{s:I, s:I, s:I, s:I}", "queued", (json_int_t)0, "running",
						(json_int_t)0, "done", (json_int_t)0, "dead", (json_int_t)0),
		      "SELECT status, count(*) FROM jobs GROUP BY status", out);
}

/* ---- outbox ---- */

int store__sql_outbox_enqueue(struct store *st, const char *channel, const char *target,
			      const json_t *payload, const char *dedupe_key, bool *created)
{
	char *text = store__json_text(payload, "{}");
	int64_t now = store__now(st);
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes,
				 "INSERT INTO outbox (channel, target, payload, status, attempts, due_at,"
				 " dedupe_key, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)"
				 " ON CONFLICT DO NOTHING", "tttiti", channel, target, text, now, dedupe_key, now);

	free(text);
	if (!rc && created)
		*created = changes > 0;
	return rc;
}

/* After an outbox update changed nothing: why. */
static int outbox_state(struct store__sql *c, int64_t id, const char *ok_status, const char *want)
{
	json_t *o = NULL;
	int rc = store__sql_one(c, store__outbox_json, &o, OUTBOX_SELECT " WHERE o.id = ?", "i", id);

	if (rc == STORE_ENOTFOUND)
		rc = store__fail(&c->base, rc, "outbox item %lld not found", (long long)id);
	else if (!rc && !fl_str_eq(fl_json_str(o, "status", NULL), ok_status))
		rc = store__fail(&c->base, STORE_ECONFLICT, "outbox item %lld is %s, not %s", (long long)id,
				 fl_json_str(o, "status", "?"), want);
	json_decref(o);
	return rc;
}

int store__sql_outbox_mark_sent(struct store *st, int64_t id)
{
	struct store__sql *c = STORE__SQL(st);
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "UPDATE outbox SET status = 'sent', sent_at = ?, due_at = NULL,"
				 " started_at = NULL WHERE id = ? AND status IN ('pending', 'sending')", "ii",
				 store__now(st), id);

	/* Marking a sent item sent again is fine: delivery reports may repeat. */
	return !rc && !changes ? outbox_state(c, id, "sent", "pending or sending") : rc;
}

int store__sql_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
			   int max_attempts)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	int changes = 0;
	bool lazy = store__sql_lazy_begin(c);   /* lost to a power cut, the item is tried once more */
	int rc = store__sql_exec(c, &changes,
				 "UPDATE outbox SET"
				 " status = CASE WHEN attempts >= ?1::integer THEN 'dead' ELSE 'pending' END,"
				 " due_at = CASE WHEN attempts >= ?1::integer THEN NULL ELSE ?2::bigint END,"
				 " last_error = ?3, lease_owner = NULL, started_at = NULL"
				 " WHERE id = ?4 AND status IN ('pending', 'sending')",
				 "iiti", (int64_t)max_attempts, now + (int64_t)backoff_s * 1000000,
				 error ? error : "failed", id);

	store__sql_lazy_end(c, lazy);
	return !rc && !changes ? outbox_state(c, id, NULL, "pending or sending") : rc;
}

int store__sql_outbox_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return store__sql_rows(STORE__SQL(st), store__outbox_json, out,
				       OUTBOX_SELECT " WHERE o.status = ? ORDER BY o.id DESC LIMIT ?", "ti",
				       status, (int64_t)limit);
	return store__sql_rows(STORE__SQL(st), store__outbox_json, out,
			       OUTBOX_SELECT " ORDER BY o.id DESC LIMIT ?", "i", (int64_t)limit);
}

int store__sql_outbox_retry(struct store *st, int64_t id)
{
	struct store__sql *c = STORE__SQL(st);
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "UPDATE outbox SET status = 'pending', attempts = 0,"
				 " due_at = ?, lease_owner = NULL, started_at = NULL WHERE id = ? AND status = 'dead'", "ii",
				 store__now(st), id);

	return !rc && !changes ? outbox_state(c, id, NULL, "dead") : rc;
}

int store__sql_outbox_begin(struct store *st, int64_t id, const char *owner, int lease_s)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	int changes = 0;
	/* durable: once it returns, a crash leaves the item marked as begun */
	int rc = store__sql_exec(c, &changes, "UPDATE outbox SET started_at = ?, due_at = ?"
				 " WHERE id = ? AND status = 'sending' AND lease_owner = ?", "iiit",
				 now, now + (int64_t)lease_s * 1000000, id, owner);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ELEASE, "outbox item %lld is not held by '%s'", (long long)id, owner);
	return rc;
}

int store__sql_outbox_extend(struct store *st, const char *owner, int lease_s, int *extended)
{
	struct store__sql *c = STORE__SQL(st);
	bool lazy = store__sql_lazy_begin(c);   /* lost to a power cut, the leases end a little sooner */
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "UPDATE outbox SET due_at = ? WHERE status = 'sending'"
				 " AND lease_owner = ?", "it", store__now(st) + (int64_t)lease_s * 1000000, owner);

	store__sql_lazy_end(c, lazy);
	if (extended)
		*extended = rc ? 0 : changes;
	return rc;
}

int store__sql_outbox_counts(struct store *st, json_t **out)
{
	return counts(STORE__SQL(st), json_pack("{s:I, s:I, s:I, s:I}", "pending", (json_int_t)0, "sending",
						(json_int_t)0, "sent", (json_int_t)0, "dead", (json_int_t)0),
		      "SELECT status, count(*) FROM outbox GROUP BY status", out);
}
