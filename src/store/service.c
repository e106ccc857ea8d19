/*
 * The service's monitoring alerts for both SQL backends (dialect.h): the
 * row decoder, the checks of an alert to raise, and the SQL. One alert per
 * type is active at a time, kept by a partial unique index that raising
 * upserts on (a repeat counts an observation). The service's other records
 * are elsewhere: named locks are each backend's (lease rows on SQLite,
 * advisory locks on PostgreSQL), releasing a job and outbox administration
 * are in queue.c.
 */
#include <string.h>

#include "dialect.h"

static json_t *text_or_null(const struct store__row *r, int c)
{
	const char *s = r->ops->text(r, c);

	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(const struct store__row *r, int c)
{
	char buf[32];

	if (r->ops->is_null(r, c))
		return json_null();
	fl_time_rfc3339(buf, r->ops->i64(r, c));
	return json_string(buf);
}

static json_t *real_or_null(const struct store__row *r, int c)
{
	return r->ops->is_null(r, c) ? json_null() : json_real(r->ops->dbl(r, c));
}

json_t *store__alert_json(const struct store__row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->ops->i64(r, 0)));
	json_object_set_new(o, "type", text_or_null(r, 1));
	json_object_set_new(o, "severity", text_or_null(r, 2));
	json_object_set_new(o, "metric", text_or_null(r, 3));
	json_object_set_new(o, "message", text_or_null(r, 4));
	json_object_set_new(o, "value", real_or_null(r, 5));
	json_object_set_new(o, "threshold", real_or_null(r, 6));
	json_object_set_new(o, "status", text_or_null(r, 7));
	json_object_set_new(o, "observations", json_integer(r->ops->i64(r, 8)));
	json_object_set_new(o, "raised_at", time_or_null(r, 9));
	json_object_set_new(o, "last_seen_at", time_or_null(r, 10));
	json_object_set_new(o, "resolved_at", time_or_null(r, 11));
	return o;
}

static int opt_text(struct store *st, const json_t *a, const char *key, bool required, const char **out)
{
	const json_t *v = json_object_get(a, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return store__fail(st, STORE_EINVAL, "alert '%s' is required", key);
		return STORE_OK;
	}
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 2000)
		return store__fail(st, STORE_EINVAL, "alert '%s' must be a string of 1 to 2000 bytes", key);
	*out = json_string_value(v);
	return STORE_OK;
}

static int opt_number(struct store *st, const json_t *a, const char *key, double *out, bool *has)
{
	const json_t *v = json_object_get(a, key);

	*has = false;
	*out = 0;
	if (!v || json_is_null(v))
		return STORE_OK;
	if (!json_is_number(v))
		return store__fail(st, STORE_EINVAL, "alert '%s' must be a number", key);
	*out = json_number_value(v);
	*has = true;
	return STORE_OK;
}

int store__alert_in_parse(struct store *st, const json_t *alert, struct store__alert_in *in)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(alert))
		return store__fail(st, STORE_EINVAL, "an alert is a JSON object");
	if ((rc = opt_text(st, alert, "type", true, &in->type)) ||
	    (rc = opt_text(st, alert, "severity", true, &in->severity)) ||
	    (rc = opt_text(st, alert, "message", true, &in->message)) ||
	    (rc = opt_text(st, alert, "metric", false, &in->metric)) ||
	    (rc = opt_number(st, alert, "value", &in->value, &in->has_value)) ||
	    (rc = opt_number(st, alert, "threshold", &in->threshold, &in->has_threshold)))
		return rc;
	return STORE_OK;
}

/* ---- the SQL ---- */

#define ALERT_SELECT "SELECT " STORE__ALERT_COLS " FROM alerts a"

int store__sql_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__alert_in in;
	struct store__cur cur;
	int64_t id = 0, observations = 0;
	int rc;

	rc = store__alert_in_parse(st, alert, &in);
	if (rc)
		return rc;
	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	/* a new alert is at its first observation; a repeat counts one more */
	rc = store__sql_query(c, &cur,
			      "INSERT INTO alerts (type, severity, metric, message, value, threshold, status,"
			      " observations, raised_at, last_seen_at)"
			      " VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5::boolean THEN ?6::float8 END,"
			      " CASE WHEN ?7::boolean THEN ?8::float8 END, 'active', 1, ?9, ?9)"
			      " ON CONFLICT (type) WHERE status = 'active' DO UPDATE SET"
			      " severity = excluded.severity, metric = excluded.metric, message = excluded.message,"
			      " value = excluded.value, threshold = excluded.threshold,"
			      " last_seen_at = excluded.last_seen_at, observations = alerts.observations + 1"
			      " RETURNING id, observations",
			      "ttttbdbdi", in.type, in.severity, in.metric, in.message, (int)in.has_value,
			      in.has_value ? in.value : 0.0, (int)in.has_threshold,
			      in.has_threshold ? in.threshold : 0.0, store__now(st));
	if (!rc) {
		rc = store__sql_step(c, &cur);
		if (rc > 0) {
			id = cur.row.ops->i64(&cur.row, 0);
			observations = cur.row.ops->i64(&cur.row, 1);
		}
		rc = rc > 0 ? STORE_OK : rc < 0 ? -rc : store__fail(st, STORE_EINTERNAL, "alert upsert returned no row");
		store__sql_done(c, &cur);
	}
	if (!rc && raised)
		*raised = observations == 1;
	if (!rc && out)
		rc = store__sql_one(c, store__alert_json, out, ALERT_SELECT " WHERE a.id = ?", "i", id);
	return store__sql_tx_end(c, rc);
}

int store__sql_alert_resolve(struct store *st, const char *type, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t id = 0;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_int(c, &id, "UPDATE alerts SET status = 'resolved', resolved_at = ?"
			    " WHERE type = ? AND status = 'active' RETURNING id", "it", store__now(st), type);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "no active alert of type '%s'", type);
	if (!rc && out)
		rc = store__sql_one(c, store__alert_json, out, ALERT_SELECT " WHERE a.id = ?", "i", id);
	return store__sql_tx_end(c, rc);
}

int store__sql_alert_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return store__sql_rows(STORE__SQL(st), store__alert_json, out,
				       ALERT_SELECT " WHERE a.status = ? ORDER BY a.id DESC LIMIT ?", "ti", status,
				       (int64_t)limit);
	return store__sql_rows(STORE__SQL(st), store__alert_json, out, ALERT_SELECT " ORDER BY a.id DESC LIMIT ?",
			       "i", (int64_t)limit);
}
