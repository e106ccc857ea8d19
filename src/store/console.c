/*
 * What the agent console reads and writes besides tickets, for both SQL
 * backends (dialect.h): presence on tickets (one row per ticket and user,
 * its state and when it was last said), canned responses, the audit log as
 * the live stream reads it (new events after an id, with their ticket's
 * number and current version), the queues' counts (each a count of one
 * partial index: see migration 7), the dashboard's time series and the
 * agents' corrections that become training rows. People (users,
 * sessions) are in accounts.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

/* ---- presence ---- */

/* Presence rows older than this are forgotten when a new state is said. */
#define PRESENCE_KEEP_US (3600 * INT64_C(1000000))

int store__sql_presence_set(struct store *st, const char *ticket_id, int64_t user_id, const char *state)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number, now = store__now(st);
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_exec(c, NULL, "DELETE FROM presence WHERE updated_at < ?", "i", now - PRESENCE_KEEP_US);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO presence (ticket_number, user_id, state, updated_at)"
				     " VALUES (?, ?, ?, ?) ON CONFLICT (ticket_number, user_id) DO UPDATE SET"
				     " state = excluded.state, updated_at = excluded.updated_at", "iiti", number,
				     user_id, state, now);
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "user %lld not found", (long long)user_id);
	return store__sql_tx_end(c, rc);
}

static json_t *presence_json(const struct store__row *r)
{
	char at[32];

	fl_time_rfc3339(at, r->ops->i64(r, 5));
	return json_pack("{s:s, s:I, s:{s:I, s:s}, s:s, s:s}", "ticket_id", r->ops->text(r, 0),
			 "number", (json_int_t)r->ops->i64(r, 1), "user", "id", (json_int_t)r->ops->i64(r, 2),
			 "name", r->ops->text(r, 3), "state", r->ops->text(r, 4), "at", at);
}

#define PRESENCE_SELECT \
	"SELECT t.id, t.number, u.id, u.name, p.state, p.updated_at FROM presence p" \
	" JOIN tickets t ON t.number = p.ticket_number JOIN users u ON u.id = p.user_id"

int store__sql_presence_list(struct store *st, const char *ticket_id, int64_t since_us, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int rc;

	if (!ticket_id)
		return store__sql_rows(c, presence_json, out, PRESENCE_SELECT " WHERE p.updated_at > ?"
				       " ORDER BY p.updated_at, p.ticket_number, p.user_id", "i", since_us);
	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_rows(c, presence_json, out, PRESENCE_SELECT " WHERE p.ticket_number = ?"
				     " AND p.updated_at > ? ORDER BY p.updated_at, p.user_id", "ii", number, since_us);
	rc = store__sql_read_end(c, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- canned responses ---- */

#define CANNED_SELECT "SELECT " STORE__CANNED_COLS " FROM canned_responses c"

int store__sql_canned_list(struct store *st, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__canned_json, out, CANNED_SELECT " ORDER BY c.title, c.id",
			       NULL);
}

int store__sql_canned_put(struct store *st, const char *id, const char *title, const char *body,
			  const char *actor, json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t n = 0;
	json_t *row = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_int(c, &n, "SELECT count(*) FROM canned_responses WHERE id = ?", "t", id);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO canned_responses (id, title, body, updated_by, updated_at)"
				     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
				     " body = excluded.body, updated_by = excluded.updated_by,"
				     " updated_at = excluded.updated_at", "tttti", id, title, body,
				     actor, store__now(st));
	if (!rc && out)
		rc = store__sql_one(c, store__canned_json, &row, CANNED_SELECT " WHERE c.id = ?", "t", id);
	rc = store__sql_tx_end(c, rc);
	if (rc) {
		json_decref(row);
		return rc;
	}
	if (created)
		*created = n == 0;
	if (out)
		*out = row;
	return STORE_OK;
}

int store__sql_canned_delete(struct store *st, const char *id)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes, "DELETE FROM canned_responses WHERE id = ?", "t", id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "canned response '%s' not found", id);
	return rc;
}

/* ---- the audit log for the live stream ---- */

static json_t *stream_event_json(const struct store__row *r)
{
	const char *data = r->ops->text(r, 6);
	json_t *e = json_object(), *d = data ? json_loads(data, 0, NULL) : NULL;
	char at[32];

	json_object_set_new(e, "id", json_integer(r->ops->i64(r, 0)));
	json_object_set_new(e, "ticket_id", r->ops->is_null(r, 1) ? json_null() : json_string(r->ops->text(r, 1)));
	json_object_set_new(e, "number", r->ops->is_null(r, 2) ? json_null() : json_integer(r->ops->i64(r, 2)));
	json_object_set_new(e, "version", r->ops->is_null(r, 3) ? json_null() : json_integer(r->ops->i64(r, 3)));
	json_object_set_new(e, "type", json_string(r->ops->text(r, 4)));
	json_object_set_new(e, "actor", r->ops->is_null(r, 5) ? json_null() : json_string(r->ops->text(r, 5)));
	json_object_set_new(e, "data", json_is_object(d) ? d : json_object());
	if (d && !json_is_object(d))
		json_decref(d);
	fl_time_rfc3339(at, r->ops->i64(r, 7));
	json_object_set_new(e, "created_at", json_string(at));
	return e;
}

int store__sql_event_since(struct store *st, int64_t after_id, int limit, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), stream_event_json, out,
			       "SELECT v.id, t.id, t.number, t.version, v.type, v.actor, v.data, v.created_at"
			       " FROM events v LEFT JOIN tickets t ON t.number = v.ticket_number"
			       " WHERE v.id > ? ORDER BY v.id LIMIT ?", "ii", after_id, (int64_t)limit);
}

int store__sql_event_last_id(struct store *st, int64_t *id)
{
	return store__sql_int(STORE__SQL(st), id, "SELECT coalesce(max(id), 0) FROM events", NULL);
}

/* ---- the queues' counts ---- */

int store__sql_ticket_counts(struct store *st, const char *user, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *q = json_object();
	struct store__cur cur;
	int64_t n = 0;
	int rc, r;

	rc = store__sql_read_begin(c);
	if (rc)
		goto out;
	if (user)
		rc = store__sql_int(c, &n, "SELECT count(*) FROM tickets t WHERE t.assignee = ? AND "
				    STORE__TICKET_OPEN, "t", user);
	json_object_set_new(q, "mine", json_integer(n));
	if (!rc)
		rc = store__sql_int(c, &n, "SELECT count(*) FROM tickets t WHERE t.assignee IS NULL AND "
				    STORE__TICKET_OPEN, NULL);
	json_object_set_new(q, "unassigned", json_integer(n));
	if (!rc)
		rc = store__sql_int(c, &n, "SELECT count(*) FROM tickets t WHERE t.status = '"
				    FL_STATUS_ESCALATED "'", NULL);
	json_object_set_new(q, "escalated", json_integer(n));
	if (!rc)
		rc = store__sql_int(c, &n, "SELECT count(*) FROM tickets t WHERE " STORE__TICKET_OPEN, NULL);
	json_object_set_new(q, "all", json_integer(n));
	if (!rc)
		rc = store__sql_query(c, &cur, "SELECT t.assigned_department, count(*) FROM tickets t"
				      " WHERE t.assigned_department IS NOT NULL AND " STORE__TICKET_OPEN
				      " GROUP BY t.assigned_department", NULL);
	if (!rc) {
		while ((r = store__sql_step(c, &cur)) > 0) {
			char *key = fl_asprintf("department:%s", cur.row.ops->text(&cur.row, 0));

			json_object_set_new(q, key, json_integer(cur.row.ops->i64(&cur.row, 1)));
			free(key);
		}
		store__sql_done(c, &cur);
		rc = r < 0 ? -r : STORE_OK;
	}
	rc = store__sql_read_end(c, rc);
out:
	if (rc) {
		json_decref(q);
		return rc;
	}
	*out = json_pack("{s:o}", "queues", q);
	return STORE_OK;
}

/* ---- the dashboard's time series ---- */

/* The bucket of a row's first column, or -1 when outside (rounding of a clock change). */
static long bucket_of(const struct store__row *r, size_t n)
{
	int64_t b = r->ops->i64(r, 0);

	return b >= 0 && (size_t)b < n ? (long)b : -1;
}

/* Runs sql (?1 since, ?2 until, ?3 bucket) and adds each row's (bucket, key, count) to buckets[b][obj]. */
static int fold_counts(struct store__sql *c, json_t *buckets, const char *obj, const char *sql,
		       int64_t since, int64_t until, int64_t bucket_us)
{
	struct store__cur cur;
	int rc, r;

	rc = store__sql_query(c, &cur, sql, "iii", since, until, bucket_us);
	if (rc)
		return rc;
	while ((r = store__sql_step(c, &cur)) > 0) {
		long b = bucket_of(&cur.row, json_array_size(buckets));
		const char *key = cur.row.ops->text(&cur.row, 1);

		if (b >= 0)
			json_object_set_new(json_object_get(json_array_get(buckets, (size_t)b), obj),
					    key ? key : "unknown", json_integer(cur.row.ops->i64(&cur.row, 2)));
	}
	store__sql_done(c, &cur);
	return r < 0 ? -r : STORE_OK;
}

static json_t *avg_or_null(const struct store__row *r, int col)
{
	return r->ops->is_null(r, col) ? json_null() : json_real(r->ops->dbl(r, col));
}

int store__sql_metrics_timeseries(struct store *st, int64_t since_us, int64_t until_us, int bucket_s,
				  json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t bucket_us = (int64_t)bucket_s * 1000000, i, n;
	json_t *buckets = json_array();
	struct store__cur cur;
	int rc, r;

	n = (until_us - since_us + bucket_us - 1) / bucket_us;
	for (i = 0; i < n; i++) {
		char start[32];

		fl_time_rfc3339(start, since_us + i * bucket_us);
		json_array_append_new(buckets, json_pack("{s:s, s:i, s:{}, s:{}, s:n, s:n, s:n, s:n}", "start", start,
							 "tickets", 0, "by_channel", "by_sentiment",
							 "first_response_s_avg", "resolution_s_avg",
							 "escalation_rate", "satisfaction_avg"));
	}
	rc = store__sql_read_begin(c);
	if (rc)
		goto out;
	rc = store__sql_query(c, &cur,
			      "SELECT (t.created_at - ?1) / ?3, count(*),"
			      " avg((t.first_response_at - t.created_at) / 1e6),"
			      " avg((t.resolved_at - t.created_at) / 1e6),"
			      " count(*) FILTER (WHERE t.status = '" FL_STATUS_ESCALATED "' OR EXISTS (SELECT 1"
			      "   FROM escalations e WHERE e.ticket_number = t.number)),"
			      " avg(t.satisfaction)"
			      " FROM tickets t WHERE t.created_at >= ?1 AND t.created_at < ?2 GROUP BY 1",
			      "iii", since_us, until_us, bucket_us);
	if (!rc) {
		while ((r = store__sql_step(c, &cur)) > 0) {
			long b = bucket_of(&cur.row, (size_t)n);
			json_t *o = b >= 0 ? json_array_get(buckets, (size_t)b) : NULL;
			int64_t total = cur.row.ops->i64(&cur.row, 1);

			if (!o)
				continue;
			json_object_set_new(o, "tickets", json_integer(total));
			json_object_set_new(o, "first_response_s_avg", avg_or_null(&cur.row, 2));
			json_object_set_new(o, "resolution_s_avg", avg_or_null(&cur.row, 3));
			json_object_set_new(o, "escalation_rate",
					    json_real(total ? (double)cur.row.ops->i64(&cur.row, 4) / (double)total : 0));
			json_object_set_new(o, "satisfaction_avg", avg_or_null(&cur.row, 5));
		}
		store__sql_done(c, &cur);
		rc = r < 0 ? -r : STORE_OK;
	}
	if (!rc)
		rc = fold_counts(c, buckets, "by_channel",
				 "SELECT (t.created_at - ?1) / ?3, t.channel, count(*) FROM tickets t"
				 " WHERE t.created_at >= ?1 AND t.created_at < ?2 GROUP BY 1, 2",
				 since_us, until_us, bucket_us);
	if (!rc)
		rc = fold_counts(c, buckets, "by_sentiment",
				 "SELECT (t.created_at - ?1) / ?3, t.sentiment, count(*) FROM tickets t"
				 " WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.sentiment IS NOT NULL"
				 " GROUP BY 1, 2", since_us, until_us, bucket_us);
	rc = store__sql_read_end(c, rc);
out:
	if (rc) {
		json_decref(buckets);
		return rc;
	}
	*out = json_pack("{s:o}", "buckets", buckets);
	return STORE_OK;
}

/* ---- corrections ---- */

static json_t *correction_json(const struct store__row *r)
{
	const char *data = r->ops->text(r, 1);
	json_t *d = data ? json_loads(data, 0, NULL) : NULL, *o;
	char at[32];

	fl_time_rfc3339(at, r->ops->i64(r, 3));
	o = json_pack("{s:s, s:s?, s:O?, s:O?, s:s?, s:s, s:s, s:s}", "ticket_id", r->ops->text(r, 0),
		      "field", fl_json_str(d, "field", NULL), "from", json_object_get(d, "from"),
		      "to", json_object_get(d, "to"), "actor", r->ops->text(r, 2), "at", at,
		      "subject", r->ops->text(r, 4), "content", r->ops->text(r, 5));
	json_decref(d);
	return o;
}

int store__sql_corrections(struct store *st, int64_t since_us, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), correction_json, out,
			       "SELECT t.id, v.data, v.actor, v.created_at, t.subject, t.content"
			       " FROM events v JOIN tickets t ON t.number = v.ticket_number"
			       " WHERE v.type = '" FL_EVENT_TICKET_CORRECTED "' AND v.created_at >= ?"
			       " ORDER BY v.created_at, v.id", "i", since_us);
}
