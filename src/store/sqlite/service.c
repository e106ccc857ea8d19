/*
 * SQLite backend: the service's records. Monitoring alerts (one active row
 * per type, kept by a partial unique index), named locks as lease rows (a
 * single file has no sessions to tie an advisory lock to; a lease expires
 * if its holder dies), releasing a job at shutdown, and outbox
 * administration.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define ALERT_SELECT "SELECT " STORE__ALERT_COLS " FROM alerts a"

int sq_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised)
{
	struct sq *q = SQ(st);
	struct store__alert_in in;
	int64_t now = store__now(st), id = 0;
	double value = 0, threshold = 0;
	int rc;

	rc = store__alert_in_parse(st, alert, &in);
	if (rc)
		return rc;
	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_int(q, &id, "SELECT id FROM alerts WHERE type = ? AND status = 'active'", "t", in.type);
	value = in.has_value ? in.value : 0;
	threshold = in.has_threshold ? in.threshold : 0;
	if (rc == STORE_OK) {
		rc = sq_exec(q, NULL, "UPDATE alerts SET severity = ?, metric = ?, message = ?,"
			     " value = CASE WHEN ? THEN ? END, threshold = CASE WHEN ? THEN ? END,"
			     " last_seen_at = ?, observations = observations + 1 WHERE id = ?",
			     "tttbdbdii", in.severity, in.metric, in.message, (int)in.has_value, value,
			     (int)in.has_threshold, threshold, now, id);
		if (raised)
			*raised = false;
	} else if (rc == STORE_ENOTFOUND) {
		rc = sq_exec(q, NULL, "INSERT INTO alerts (type, severity, metric, message, value, threshold,"
			     " status, observations, raised_at, last_seen_at)"
			     " VALUES (?, ?, ?, ?, CASE WHEN ? THEN ? END, CASE WHEN ? THEN ? END, 'active', 1, ?, ?)",
			     "ttttbdbdii", in.type, in.severity, in.metric, in.message, (int)in.has_value, value,
			     (int)in.has_threshold, threshold, now, now);
		if (!rc)
			id = sqlite3_last_insert_rowid(q->db);
		if (raised)
			*raised = true;
	}
	if (!rc && out)
		rc = sq_row(q, store__alert_json, out, ALERT_SELECT " WHERE a.id = ?", "i", id);
	return sq_tx_end(q, rc);
}

int sq_alert_resolve(struct store *st, const char *type, json_t **out)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), id = 0;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_int(q, &id, "SELECT id FROM alerts WHERE type = ? AND status = 'active'", "t", type);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "no active alert of type '%s'", type);
	if (!rc)
		rc = sq_exec(q, NULL, "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ?",
			     "ii", now, id);
	if (!rc && out)
		rc = sq_row(q, store__alert_json, out, ALERT_SELECT " WHERE a.id = ?", "i", id);
	return sq_tx_end(q, rc);
}

int sq_alert_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return sq_rows(SQ(st), store__alert_json, out,
			       ALERT_SELECT " WHERE a.status = ? ORDER BY a.id DESC LIMIT ?", "ti", status,
			       (int64_t)limit);
	return sq_rows(SQ(st), store__alert_json, out, ALERT_SELECT " ORDER BY a.id DESC LIMIT ?", "i",
		       (int64_t)limit);
}

int sq_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired)
{
	int64_t now = store__now(st);
	int changes = 0;
	/* the upsert takes the row only from its owner or after the lease ran out */
	int rc = sq_exec(SQ(st), &changes,
			 "INSERT INTO locks (name, owner, until) VALUES (?1, ?2, ?3)"
			 " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
			 " WHERE locks.owner = excluded.owner OR locks.until < ?4",
			 "ttii", name, owner, now + (int64_t)ttl_s * 1000000, now);

	*acquired = !rc && changes > 0;
	return rc;
}

int sq_lock_release(struct store *st, const char *name, const char *owner)
{
	return sq_exec(SQ(st), NULL, "DELETE FROM locks WHERE name = ? AND owner = ?", "tt", name, owner);
}

int sq_job_release(struct store *st, int64_t id, const char *owner)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), x;
	int changes = 0;
	int rc = sq_exec(q, &changes,
			 "UPDATE jobs SET status = 'queued', attempts = max(attempts - 1, 0), due_at = ?1,"
			 " lease_owner = NULL, lease_until = NULL, updated_at = ?1"
			 " WHERE id = ?2 AND status = 'running' AND lease_owner = ?3", "iit", now, id, owner);

	if (rc || changes)
		return rc;
	rc = sq_int(q, &x, "SELECT id FROM jobs WHERE id = ?", "i", id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "job %lld not found", (long long)id);
	return rc ? rc : store__fail(st, STORE_ELEASE, "job %lld is not running under '%s'", (long long)id, owner);
}

int sq_outbox_retry(struct store *st, int64_t id)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	const char *status;
	json_t *o = NULL;
	int changes = 0;
	int rc = sq_exec(q, &changes, "UPDATE outbox SET status = 'pending', attempts = 0, due_at = ?,"
			 " lease_owner = NULL WHERE id = ? AND status = 'dead'", "ii", now, id);

	if (rc || changes)
		return rc;
	rc = sq_row(q, store__outbox_json, &o, "SELECT " STORE__OUTBOX_COLS " FROM outbox o WHERE o.id = ?",
		    "i", id);
	status = fl_json_str(o, "status", "?");
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "outbox item %lld not found", (long long)id);
	else if (!rc)
		rc = store__fail(st, STORE_ECONFLICT, "outbox item %lld is %s, not dead", (long long)id, status);
	json_decref(o);
	return rc;
}

int sq_outbox_counts(struct store *st, json_t **out)
{
	struct sq *q = SQ(st);
	json_t *c = json_pack("{s:I, s:I, s:I, s:I}", "pending", (json_int_t)0, "sending", (json_int_t)0,
			      "sent", (json_int_t)0, "dead", (json_int_t)0);
	sqlite3_stmt *s;
	int rc, r;

	rc = sq_prepare(q, "SELECT status, count(*) FROM outbox GROUP BY status", &s, NULL);
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
