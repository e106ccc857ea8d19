/*
 * SQLite backend: claims and locks, what its queue does differently (the
 * rest is the shared queue.c). A claim is one probe of the partial due_at
 * index (named: without statistics SQLite would choose the status index and
 * sort the backlog; see docs/STORAGE.md), in an IMMEDIATE transaction:
 * SQLite has one writer at a time, so there is nothing to skip-lock. An
 * empty queue is answered by a read first, so that idle workers do not take
 * the write lock. A job whose lease expired on its last attempt goes to the
 * dead letter list instead of running again: the worker that held it died
 * each time.
 *
 * Named locks are lease rows: a single file has no sessions to tie an
 * advisory lock to; a lease expires if its holder dies.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define OUTBOX_SELECT "SELECT " STORE__OUTBOX_COLS " FROM outbox o"

/* Whether any job is due, without taking the write lock. */
static int job_due(struct sq *q, const char *kind, int64_t now)
{
	int64_t id;

	if (!sqlite3_get_autocommit(q->db))
		return STORE_OK; /* inside a transaction: let the claim itself look */
	if (kind)
		return store__sql_int(&q->c, &id, "SELECT id FROM jobs INDEXED BY jobs_due"
				      " WHERE status IN ('queued', 'running') AND due_at <= ? AND kind = ? LIMIT 1",
				      "it", now, kind);
	return store__sql_int(&q->c, &id, "SELECT id FROM jobs INDEXED BY jobs_due"
			      " WHERE status IN ('queued', 'running') AND due_at <= ? LIMIT 1", "i", now);
}

/* The oldest due job (store__sql_job_lease_next), by the due index. */
static const char *const next_due[2] = {
	"SELECT id, status, attempts, max_attempts FROM jobs INDEXED BY jobs_due"
	" WHERE status IN ('queued', 'running') AND due_at <= ? ORDER BY due_at, id LIMIT 1",
	"SELECT id, status, attempts, max_attempts FROM jobs INDEXED BY jobs_due"
	" WHERE status IN ('queued', 'running') AND due_at <= ? AND kind = ? ORDER BY due_at, id LIMIT 1",
};

int sq_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	bool lazy;
	int rc;

	rc = job_due(q, kind, now);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no job is due");
	if (rc)
		return rc;
	lazy = sq_lazy_begin(&q->c);   /* a claim lost to a power cut only puts the job back */
	rc = store__sql_tx_begin(&q->c, true);
	if (!rc)
		rc = store__sql_job_claim_end(&q->c, store__sql_job_lease_next(&q->c, next_due, kind, owner,
									      now, until, out), out);
	sq_lazy_end(&q->c, lazy);
	return rc;
}

int sq_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out)
{
	struct sq *q = SQ(st);
	struct store__sql *c = &q->c;
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000, id;
	json_t *ids = json_array(), *items = json_array(), *v;
	struct store__cur cur;
	bool lazy = false;
	size_t i;
	int rc, r;

	if (sqlite3_get_autocommit(q->db)) {
		/* Nothing due: answer without taking the write lock. */
		rc = store__sql_int(c, &id, "SELECT id FROM outbox INDEXED BY outbox_due"
				    " WHERE status IN ('pending', 'sending') AND due_at <= ? LIMIT 1", "i", now);
		if (rc == STORE_ENOTFOUND) {
			*out = items;
			items = NULL;
			rc = STORE_OK;
			goto out;
		}
		if (rc)
			goto out;
	}
	lazy = sq_lazy_begin(c);   /* a claim lost to a power cut only makes the items due again */
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_query(c, &cur, "UPDATE outbox SET status = 'sending', attempts = attempts + 1,"
			      " lease_owner = ?1, due_at = ?2 WHERE id IN (SELECT id FROM outbox"
			      " INDEXED BY outbox_due WHERE status IN ('pending', 'sending')"
			      " AND due_at <= ?3 ORDER BY due_at, id LIMIT ?4) RETURNING id",
			      "tiii", owner, until, now, (int64_t)max);
	if (!rc) {
		while ((r = store__sql_step(c, &cur)) > 0)
			json_array_append_new(ids, json_integer(sqlite3_column_int64(cur.stmt, 0)));
		store__sql_done(c, &cur);
		rc = r < 0 ? -r : STORE_OK;
	}
	json_array_foreach(ids, i, v) {
		if (rc)
			break;
		rc = store__sql_rows(c, store__outbox_json, &items, OUTBOX_SELECT " WHERE o.id = ?", "i",
				     (int64_t)json_integer_value(v));
	}
	rc = store__sql_tx_end(c, rc);
	if (!rc) {
		*out = items;
		items = NULL;
	}
out:
	sq_lazy_end(c, lazy);
	json_decref(ids);
	json_decref(items);
	return rc;
}

int sq_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired)
{
	int64_t now = store__now(st);
	int changes = 0;
	/* the upsert takes the row only from its owner or after the lease ran out */
	int rc = store__sql_exec(STORE__SQL(st), &changes,
				 "INSERT INTO locks (name, owner, until) VALUES (?1, ?2, ?3)"
				 " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
				 " WHERE locks.owner = excluded.owner OR locks.until < ?4",
				 "ttii", name, owner, now + (int64_t)ttl_s * 1000000, now);

	*acquired = !rc && changes > 0;
	return rc;
}

int sq_lock_release(struct store *st, const char *name, const char *owner)
{
	return store__sql_exec(STORE__SQL(st), NULL, "DELETE FROM locks WHERE name = ? AND owner = ?", "tt",
			       name, owner);
}
