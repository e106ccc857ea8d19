/*
 * PostgreSQL backend: claims and locks, what its queue does differently
 * (the rest is the shared queue.c). Replicas share the queues: a claim
 * walks the partial due_at index in order with FOR UPDATE SKIP LOCKED, so
 * concurrent workers each take a different row without waiting on one
 * another; its commit does not wait for the WAL to reach the disk (a claim
 * lost to a crash only puts the job back).
 *
 * Named locks are session-level advisory locks: the lock goes with the
 * connection, so a crashed replica cannot hold it.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/* The oldest due job (store__sql_job_lease_next) that no other replica holds. */
static const char *const next_due[2] = {
	"SELECT id, status, attempts, max_attempts FROM jobs WHERE status IN ('queued', 'running')"
	" AND due_at <= ? ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
	"SELECT id, status, attempts, max_attempts FROM jobs WHERE status IN ('queued', 'running')"
	" AND due_at <= ? AND kind = ? ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
};

int pg_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	int rc;

	rc = store__sql_tx_begin(&p->c, true);
	if (rc)
		return rc;
	rc = pg_tx_lazy(p);
	if (!rc)
		rc = store__sql_job_lease_next(&p->c, next_due, kind, owner, now, until, out);
	return store__sql_job_claim_end(&p->c, rc, out);
}

int pg_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out)
{
	int64_t now = store__now(st), until = now + (int64_t)lease_s * 1000000;
	json_t *items = NULL;
	int rc;

	rc = store__sql_rows(STORE__SQL(st), store__outbox_json, &items,
			     "WITH claimed AS (UPDATE outbox SET status = 'sending', attempts = attempts + 1,"
			     "  lease_owner = ?, due_at = ? WHERE id IN (SELECT id FROM outbox"
			     "  WHERE status IN ('pending', 'sending') AND due_at <= ? ORDER BY due_at, id LIMIT ?"
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

/* The advisory lock key of a name; the same on every replica. */
#define LOCK_KEY "hashtextextended(?, 0)"

/* Whether this session holds the advisory lock of name (they nest: take it once). */
static int lock_held(struct store__sql *c, const char *name, bool *held)
{
	int64_t n = 0;
	int rc = store__sql_int(c, &n, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
				" AND pid = pg_backend_pid() AND granted AND objsubid = 1"
				" AND ((classid::bigint << 32) | objid::bigint) = " LOCK_KEY, "t", name);

	*held = n > 0;
	return rc;
}

int pg_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired)
{
	struct store__sql *c = STORE__SQL(st);
	bool held;
	int64_t got = 0;
	int rc = lock_held(c, name, &held);

	(void)owner;
	(void)ttl_s;
	if (rc || held) {
		*acquired = !rc;
		return rc;
	}
	rc = store__sql_int(c, &got, "SELECT pg_try_advisory_lock(" LOCK_KEY ")::integer", "t", name);
	*acquired = !rc && got;
	return rc;
}

int pg_lock_release(struct store *st, const char *name, const char *owner)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t x;
	bool held;
	int rc = lock_held(c, name, &held);

	(void)owner;
	if (rc || !held)
		return rc;
	return store__sql_int(c, &x, "SELECT pg_advisory_unlock(" LOCK_KEY ")::integer", "t", name);
}
