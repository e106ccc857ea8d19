/*
 * SQLite backend: the job queue and the outbox. Both keep a due_at column
 * (run_at or next attempt while waiting, the lease end while held) with a
 * partial index over the live rows, so a claim is one index probe: the
 * oldest due row, whether waiting or held by a worker whose lease ran out.
 *
 * Claims run in an IMMEDIATE transaction (SQLite has one writer at a time,
 * so there is nothing to skip-lock); an empty queue is answered by a read
 * first so that idle workers do not take the write lock. A job whose lease
 * expired on its last attempt goes to the dead letter list instead of
 * running again: the worker that held it died each time.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define JOB_SELECT "SELECT " STORE__JOB_COLS " FROM jobs j LEFT JOIN tickets t ON t.number = j.ticket_number"
#define OUTBOX_SELECT "SELECT " STORE__OUTBOX_COLS " FROM outbox o"

int sq_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		   const json_t *payload, int max_attempts, int64_t run_at_us,
		   const char *dedupe_key)
{
	struct sq *q = SQ(st);
	char *text = store__json_text(payload, "{}");
	int64_t number = -1, now = store__now(st), run_at = run_at_us ? run_at_us : now;
	int rc;

	rc = sq_tx_begin(q, true);
	if (!rc) {
		if (ticket_id)
			rc = sq_ticket_number(q, ticket_id, &number);
		if (!rc)
			rc = sq_exec(q, NULL, SQ_JOB_INSERT, "tjtiiitii", kind, number, text,
				     (int64_t)max_attempts, run_at, run_at, dedupe_key, now, now);
		rc = sq_tx_end(q, rc);
	}
	free(text);
	return rc;
}

/* Whether any job is due, without taking the write lock. */
static int job_due(struct sq *q, const char *kind, int64_t now)
{
	int64_t id;

	if (!sqlite3_get_autocommit(q->db))
		return STORE_OK; /* inside a transaction: let the claim itself look */
	if (kind)
		return sq_int(q, &id, "SELECT id FROM jobs INDEXED BY jobs_due WHERE status IN ('queued', 'running')"
			      " AND due_at <= ? AND kind = ? LIMIT 1", "it", now, kind);
	return sq_int(q, &id, "SELECT id FROM jobs INDEXED BY jobs_due WHERE status IN ('queued', 'running')"
		      " AND due_at <= ? LIMIT 1", "i", now);
}

int sq_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	sqlite3_stmt *s = NULL;
	int rc, r;

	bool lazy;

	rc = job_due(q, kind, now);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no job is due");
	if (rc)
		return rc;
	lazy = sq_lazy_begin(q);   /* a claim lost to a power cut only puts the job back */
	rc = sq_tx_begin(q, true);
	if (rc) {
		sq_lazy_end(q, lazy);
		return rc;
	}
	for (;;) {
		int64_t id, attempts, max;
		const char *status;
		bool expired_last;

		if (kind)
			rc = sq_prepare(q, "SELECT id, status, attempts, max_attempts FROM jobs INDEXED BY jobs_due"
					" WHERE status IN ('queued', 'running') AND due_at <= ? AND kind = ?"
					" ORDER BY due_at, id LIMIT 1", &s, "it", now, kind);
		else
			rc = sq_prepare(q, "SELECT id, status, attempts, max_attempts FROM jobs INDEXED BY jobs_due"
					" WHERE status IN ('queued', 'running') AND due_at <= ?"
					" ORDER BY due_at, id LIMIT 1", &s, "i", now);
		if (rc)
			break;
		r = sq_step(q, s);
		if (r <= 0) {
			sq_done(s);
			rc = r < 0 ? -r : store__fail(st, STORE_ENOTFOUND, "no job is due");
			break;
		}
		id = sqlite3_column_int64(s, 0);
		status = (const char *)sqlite3_column_text(s, 1);
		attempts = sqlite3_column_int64(s, 2);
		max = sqlite3_column_int64(s, 3);
		expired_last = !strcmp(status, "running") && attempts >= max;
		sq_done(s);
		if (expired_last) {
			rc = sq_exec(q, NULL, "UPDATE jobs SET status = 'dead', due_at = NULL, lease_until = NULL,"
				     " last_error = 'lease expired on the last attempt (the worker was lost)',"
				     " finished_at = ?1, updated_at = ?1 WHERE id = ?2", "ii", now, id);
			if (rc)
				break;
			continue;
		}
		rc = sq_exec(q, NULL, "UPDATE jobs SET status = 'running', attempts = attempts + 1,"
			     " lease_owner = ?1, lease_until = ?2, due_at = ?2, updated_at = ?3 WHERE id = ?4",
			     "tiii", owner, until, now, id);
		if (rc)
			break;
		rc = sq_prepare(q, JOB_SELECT " WHERE j.id = ?", &s, "i", id);
		if (rc)
			break;
		r = sq_step(q, s);
		if (r > 0) {
			struct store__row row = sq_row_of(s);

			*out = store__job_struct(&row);
		}
		sq_done(s);
		rc = r > 0 ? STORE_OK : r < 0 ? -r : STORE_EINTERNAL;
		break;
	}
	/* Jobs moved to the dead letter list stay there even when none is left to claim. */
	if (rc == STORE_ENOTFOUND) {
		rc = sq_tx_end(q, STORE_OK);
		if (!rc)
			rc = STORE_ENOTFOUND;
	} else {
		rc = sq_tx_end(q, rc);
	}
	sq_lazy_end(q, lazy);
	if (rc) {
		store_job_free(*out);
		*out = NULL;
	}
	return rc;
}

/* After a lease-checked update changed nothing: ENOTFOUND or ELEASE. */
static int lease_lost(struct sq *q, int64_t id, const char *owner)
{
	int64_t x;
	int rc = sq_int(q, &x, "SELECT id FROM jobs WHERE id = ?", "i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&q->base, rc, "job %lld not found", (long long)id);
	if (rc)
		return rc;
	return store__fail(&q->base, STORE_ELEASE, "job %lld is not running under '%s'", (long long)id, owner);
}

int sq_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	int changes = 0;
	bool lazy = sq_lazy_begin(q);   /* a lost extension costs at most a second run */
	int rc = sq_exec(q, &changes, "UPDATE jobs SET lease_until = ?1, due_at = ?1, updated_at = ?2"
			 " WHERE id = ?3 AND status = 'running' AND lease_owner = ?4", "iiit", until, now, id, owner);

	sq_lazy_end(q, lazy);
	return !rc && !changes ? lease_lost(q, id, owner) : rc;
}

int sq_job_complete(struct store *st, int64_t id, const char *owner)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	int changes = 0;
	int rc = sq_exec(q, &changes, "UPDATE jobs SET status = 'done', due_at = NULL, lease_until = NULL,"
			 " finished_at = ?1, updated_at = ?1 WHERE id = ?2 AND status = 'running'"
			 " AND lease_owner = ?3", "iit", now, id, owner);

	return !rc && !changes ? lease_lost(q, id, owner) : rc;
}

int sq_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		int64_t backoff_us)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	int changes = 0;
	int rc = sq_exec(q, &changes,
			 "UPDATE jobs SET"
			 " status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,"
			 " run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE ?1 END,"
			 " due_at = CASE WHEN attempts >= max_attempts THEN NULL ELSE ?1 END,"
			 " finished_at = CASE WHEN attempts >= max_attempts THEN ?2 END,"
			 " last_error = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?2"
			 " WHERE id = ?4 AND status = 'running' AND lease_owner = ?5",
			 "iitit", now + backoff_us, now, error ? error : "failed", id, owner);

	return !rc && !changes ? lease_lost(q, id, owner) : rc;
}

int sq_job_retry(struct store *st, int64_t id)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	json_t *job = NULL;
	int changes = 0, rc;

	rc = sq_exec(q, &changes, "UPDATE jobs SET status = 'queued', attempts = 0, run_at = ?1, due_at = ?1,"
		     " lease_owner = NULL, lease_until = NULL, finished_at = NULL, updated_at = ?1"
		     " WHERE id = ?2 AND status = 'dead'", "ii", now, id);
	if (rc || changes)
		return rc;
	rc = sq_row(q, store__job_json, &job, JOB_SELECT " WHERE j.id = ?", "i", id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "job %lld not found", (long long)id);
	if (!rc)
		rc = store__fail(st, STORE_ECONFLICT, "job %lld is %s, not dead", (long long)id,
				 fl_json_str(job, "status", "?"));
	json_decref(job);
	return rc;
}

int sq_job_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return sq_rows(SQ(st), store__job_json, out, JOB_SELECT " WHERE j.status = ? ORDER BY j.id DESC LIMIT ?",
			       "ti", status, (int64_t)limit);
	return sq_rows(SQ(st), store__job_json, out, JOB_SELECT " ORDER BY j.id DESC LIMIT ?", "i",
		       (int64_t)limit);
}

int sq_job_counts(struct store *st, json_t **out)
{
	struct sq *q = SQ(st);
	json_t *c = json_pack("{s:I, s:I, s:I, s:I}", "queued", (json_int_t)0, "running", (json_int_t)0,
			      "done", (json_int_t)0, "dead", (json_int_t)0);
	sqlite3_stmt *s;
	int rc, r;

	rc = sq_prepare(q, "SELECT status, count(*) FROM jobs GROUP BY status", &s, NULL);
	if (rc) {
		json_decref(c);
		return rc;
	}
	while ((r = sq_step(q, s)) > 0)
		json_object_set_new(c, (const char *)sqlite3_column_text(s, 0),
				    json_integer(sqlite3_column_int64(s, 1)));
	sq_done(s);
	if (r < 0) {
		json_decref(c);
		return -r;
	}
	*out = c;
	return STORE_OK;
}

/* ---- outbox ---- */

int sq_outbox_enqueue(struct store *st, const char *channel, const char *target,
		      const json_t *payload, const char *dedupe_key, bool *created)
{
	char *text = store__json_text(payload, "{}");
	int64_t now = store__now(st);
	int changes = 0;
	int rc = sq_exec(SQ(st), &changes,
			 "INSERT INTO outbox (channel, target, payload, status, attempts, due_at, dedupe_key,"
			 " created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT DO NOTHING",
			 "tttiti", channel, target, text, now, dedupe_key, now);

	free(text);
	if (!rc && created)
		*created = changes > 0;
	return rc;
}

int sq_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000, id;
	json_t *ids = json_array(), *items = json_array(), *v;
	sqlite3_stmt *s;
	bool lazy = false;
	size_t i;
	int rc, r;

	if (sqlite3_get_autocommit(q->db)) {
		/* Nothing due: answer without taking the write lock. */
		rc = sq_int(q, &id, "SELECT id FROM outbox INDEXED BY outbox_due WHERE status IN ('pending', 'sending')"
			    " AND due_at <= ? LIMIT 1", "i", now);
		if (rc == STORE_ENOTFOUND) {
			*out = items;
			items = NULL;
			rc = STORE_OK;
			goto out;
		}
		if (rc)
			goto out;
	}
	lazy = sq_lazy_begin(q);   /* a claim lost to a power cut only makes the items due again */
	rc = sq_tx_begin(q, true);
	if (rc)
		goto out;
	rc = sq_prepare(q, "UPDATE outbox SET status = 'sending', attempts = attempts + 1, lease_owner = ?1,"
			" due_at = ?2 WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_due"
			" WHERE status IN ('pending', 'sending')"
			" AND due_at <= ?3 ORDER BY due_at, id LIMIT ?4) RETURNING id",
			&s, "tiii", owner, until, now, (int64_t)max);
	if (!rc) {
		while ((r = sq_step(q, s)) > 0)
			json_array_append_new(ids, json_integer(sqlite3_column_int64(s, 0)));
		sq_done(s);
		rc = r < 0 ? -r : STORE_OK;
	}
	json_array_foreach(ids, i, v) {
		if (rc)
			break;
		rc = sq_rows(q, store__outbox_json, &items, OUTBOX_SELECT " WHERE o.id = ?", "i",
			     (int64_t)json_integer_value(v));
	}
	rc = sq_tx_end(q, rc);
	if (!rc) {
		*out = items;
		items = NULL;
	}
out:
	sq_lazy_end(q, lazy);
	json_decref(ids);
	json_decref(items);
	return rc;
}

/* After an outbox update changed nothing: why. */
static int outbox_state(struct sq *q, int64_t id, const char *ok_status, const char *want)
{
	json_t *o = NULL;
	int rc = sq_row(q, store__outbox_json, &o, OUTBOX_SELECT " WHERE o.id = ?", "i", id);

	if (rc == STORE_ENOTFOUND)
		rc = store__fail(&q->base, rc, "outbox item %lld not found", (long long)id);
	else if (!rc && !fl_str_eq(fl_json_str(o, "status", NULL), ok_status))
		rc = store__fail(&q->base, STORE_ECONFLICT, "outbox item %lld is %s, not %s", (long long)id,
				 fl_json_str(o, "status", "?"), want);
	json_decref(o);
	return rc;
}

int sq_outbox_mark_sent(struct store *st, int64_t id)
{
	struct sq *q = SQ(st);
	int changes = 0;
	int rc = sq_exec(q, &changes, "UPDATE outbox SET status = 'sent', sent_at = ?, due_at = NULL"
			 " WHERE id = ? AND status IN ('pending', 'sending')", "ii", store__now(st), id);

	/* Marking a sent item sent again is fine: delivery reports may repeat. */
	return !rc && !changes ? outbox_state(q, id, "sent", "pending or sending") : rc;
}

int sq_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		   int max_attempts)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	int changes = 0;
	bool lazy = sq_lazy_begin(q);   /* lost to a power cut, the item is tried once more */
	int rc = sq_exec(q, &changes,
			 "UPDATE outbox SET"
			 " status = CASE WHEN attempts >= ?1 THEN 'dead' ELSE 'pending' END,"
			 " due_at = CASE WHEN attempts >= ?1 THEN NULL ELSE ?2 END,"
			 " last_error = ?3, lease_owner = NULL"
			 " WHERE id = ?4 AND status IN ('pending', 'sending')",
			 "iiti", (int64_t)max_attempts, now + (int64_t)backoff_s * 1000000,
			 error ? error : "failed", id);

	sq_lazy_end(q, lazy);
	return !rc && !changes ? outbox_state(q, id, NULL, "pending or sending") : rc;
}

int sq_outbox_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return sq_rows(SQ(st), store__outbox_json, out,
			       OUTBOX_SELECT " WHERE o.status = ? ORDER BY o.id DESC LIMIT ?", "ti", status,
			       (int64_t)limit);
	return sq_rows(SQ(st), store__outbox_json, out, OUTBOX_SELECT " ORDER BY o.id DESC LIMIT ?", "i",
		       (int64_t)limit);
}
