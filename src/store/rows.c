/*
 * Rows to JSON: one decoder per entity, shared by both backends. A backend
 * selects the columns listed in store_int.h (STORE__*_COLS) in that order
 * and hands its row through the small store__row accessor; the decoders
 * build the objects the API shows (timestamps as RFC 3339, JSON columns
 * parsed). Metrics are folded here too, from rows of aggregates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static bool isnull(const struct store__row *r, int c)
{
	return r->ops->is_null(r, c);
}

static json_t *str(const struct store__row *r, int c)
{
	const char *s = r->ops->text(r, c);

	return s ? json_string(s) : json_null();
}

static json_t *i64(const struct store__row *r, int c)
{
	return isnull(r, c) ? json_null() : json_integer(r->ops->i64(r, c));
}

static json_t *num(const struct store__row *r, int c)
{
	return isnull(r, c) ? json_null() : json_real(r->ops->dbl(r, c));
}

static json_t *boolean(const struct store__row *r, int c)
{
	return json_boolean(!isnull(r, c) && r->ops->i64(r, c) != 0);
}

static json_t *ts(const struct store__row *r, int c)
{
	char buf[32];

	if (isnull(r, c))
		return json_null();
	fl_time_rfc3339(buf, r->ops->i64(r, c));
	return json_string(buf);
}

/*
 * A JSON column: parsed, or def (a new empty object/array) when null or bad.
 * A number too large for a JSON integer (PostgreSQL's jsonb writes the real
 * 1e300 as its 301 digits) is read as a real rather than losing the document;
 * the document's integers then come back as reals of the same value.
 */
static json_t *doc(const struct store__row *r, int c, bool array)
{
	const char *s = r->ops->text(r, c);
	json_error_t e;
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, &e) : NULL;

	if (!v && s && json_error_code(&e) == json_error_numeric_overflow)
		v = json_loads(s, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, NULL);
	if (!v)
		return array ? json_array() : json_object();
	return v;
}

#define SET(o, k, v) json_object_set_new(o, k, v)

/* The fields of a summary's analysis, in the order of the dialects' analysis_summary arrays. */
static const struct { const char *part, *field; } summary_fields[] = {
	{ "sentiment_analysis", "sentiment" }, { "sentiment_analysis", "urgency" },
	{ "categorization", "primary_category" }, { "categorization", "confidence" },
	{ "priority_assignment", "priority" }, { "priority_assignment", "score" },
	{ "escalation_decision", "escalation_decision" }, { "escalation_decision", "escalation_priority" },
	{ "auto_reply", "sent" }, { "auto_reply", "reason" },
	{ "generated_response", "escalation_needed" }, { "generated_response", "response" },
};

/* A summary's analysis (an array of summary_fields' values) as store.h describes it; takes a. */
static json_t *summary_analysis(json_t *a)
{
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(summary_fields); i++) {
		json_t *part;

		if (!(v = json_array_get(a, i)) || json_is_null(v))
			continue;
		if (!(part = json_object_get(o, summary_fields[i].part))) {
			part = json_object();
			SET(o, summary_fields[i].part, part);
		}
		if (!strcmp(summary_fields[i].field, "response") && json_is_string(v)) {
			/* whether there is a draft is what a summary shows: its first character does */
			const char *s = json_string_value(v);
			size_t n = *s ? fl_utf8_seq((const unsigned char *)s, strlen(s)) : 0;

			SET(part, "response", json_stringn(s, n));
		} else {
			json_object_set(part, summary_fields[i].field, v);
		}
	}
	json_decref(a);
	return o;
}

json_t *store__ticket_json(const struct store__row *r)
{
	json_t *t = json_object();

	SET(t, "id", str(r, 1));
	SET(t, "number", i64(r, 0));
	SET(t, "external_id", str(r, 2));
	SET(t, "channel", str(r, 3));
	SET(t, "customer_id", str(r, 4));
	SET(t, "subject", str(r, 5));
	SET(t, "content", str(r, 6));
	SET(t, "metadata", doc(r, 7, false));
	SET(t, "status", str(r, 8));
	SET(t, "sentiment", str(r, 9));
	SET(t, "category", str(r, 10));
	SET(t, "priority", str(r, 11));
	SET(t, "assigned_department", str(r, 12));
	SET(t, "assignee", str(r, 13));
	SET(t, "created_at", ts(r, 14));
	SET(t, "updated_at", ts(r, 15));
	SET(t, "first_response_at", ts(r, 16));
	SET(t, "resolved_at", ts(r, 17));
	SET(t, "satisfaction", num(r, 18));
	SET(t, "version", i64(r, 19));
	{
		json_t *a = doc(r, 20, false);

		/* an array only from a list of summaries: analysis is an object, always */
		SET(t, "analysis", json_is_array(a) ? summary_analysis(a) : a);
	}
	if (!isnull(r, 21))
		SET(t, "trace", doc(r, 21, true));
	SET(t, "quarantined", boolean(r, 22));
	SET(t, "language", str(r, 23));
	return t;
}

json_t *store__message_json(const struct store__row *r)
{
	json_t *m = json_object();

	SET(m, "id", i64(r, 0));
	SET(m, "ticket_id", str(r, 1));
	SET(m, "direction", str(r, 2));
	SET(m, "author", str(r, 3));
	SET(m, "body", str(r, 4));
	SET(m, "created_at", ts(r, 5));
	SET(m, "email_message_id", str(r, 6));
	SET(m, "in_reply_to", str(r, 7));
	SET(m, "effect_key", str(r, 8));
	SET(m, "metadata", doc(r, 9, false));
	/* null: nothing to approve (the customer's, an agent's); else pending, approved, declined */
	SET(m, "approval", str(r, 10));
	return m;
}

json_t *store__customer_json(const struct store__row *r)
{
	json_t *c = json_object();

	SET(c, "id", str(r, 0));
	SET(c, "name", str(r, 1));
	SET(c, "email", str(r, 2));
	SET(c, "tier", str(r, 3));
	SET(c, "joined_at", ts(r, 4));
	SET(c, "total_tickets", i64(r, 5));
	SET(c, "satisfaction_score", num(r, 6));
	SET(c, "metadata", doc(r, 7, false));
	SET(c, "updated_at", ts(r, 8));
	return c;
}

json_t *store__kb_json(const struct store__row *r)
{
	json_t *k = json_object();

	SET(k, "id", str(r, 0));
	SET(k, "title", str(r, 1));
	SET(k, "content", str(r, 2));
	SET(k, "category", str(r, 3));
	SET(k, "tags", doc(r, 4, true));
	SET(k, "views", i64(r, 5));
	SET(k, "helpful_votes", i64(r, 6));
	SET(k, "updated_at", ts(r, 7));
	SET(k, "language", str(r, 8));
	/* the KB sync's bookkeeping, only on the articles it imported */
	if (r->ops->text(r, 9)) {
		SET(k, "source", str(r, 9));
		SET(k, "source_hash", str(r, 10));
	}
	return k;
}

json_t *store__escalation_json(const struct store__row *r)
{
	json_t *e = json_object();

	SET(e, "id", i64(r, 0));
	SET(e, "ticket_id", str(r, 1));
	SET(e, "status", str(r, 2));
	SET(e, "priority", str(r, 3));
	SET(e, "department", str(r, 4));
	SET(e, "package", doc(r, 5, false));
	SET(e, "agent", str(r, 6));
	SET(e, "created_at", ts(r, 7));
	SET(e, "claimed_at", ts(r, 8));
	SET(e, "closed_at", ts(r, 9));
	SET(e, "resolution", str(r, 10));
	return e;
}

json_t *store__event_json(const struct store__row *r)
{
	json_t *e = json_object();

	SET(e, "id", i64(r, 0));
	SET(e, "ticket_id", str(r, 1));
	SET(e, "type", str(r, 2));
	SET(e, "actor", str(r, 3));
	SET(e, "data", doc(r, 4, false));
	SET(e, "created_at", ts(r, 5));
	return e;
}

json_t *store__outbox_json(const struct store__row *r)
{
	json_t *o = json_object();
	const char *status = r->ops->text(r, 4);

	SET(o, "id", i64(r, 0));
	SET(o, "channel", str(r, 1));
	SET(o, "target", str(r, 2));
	SET(o, "payload", doc(r, 3, false));
	SET(o, "status", str(r, 4));
	SET(o, "attempts", i64(r, 5));
	/* due_at is the next attempt for pending items, the lease end while sending. */
	SET(o, "next_attempt_at", status && !strcmp(status, "pending") ? ts(r, 6) : json_null());
	SET(o, "last_error", str(r, 7));
	SET(o, "dedupe_key", str(r, 8));
	SET(o, "created_at", ts(r, 9));
	SET(o, "sent_at", ts(r, 10));
	SET(o, "lease_owner", str(r, 11));
	/* an attempt began and its outcome is not recorded yet (the dispatcher may have died in it) */
	SET(o, "started_at", ts(r, 12));
	return o;
}

json_t *store__job_json(const struct store__row *r)
{
	json_t *j = json_object();

	SET(j, "id", i64(r, 0));
	SET(j, "kind", str(r, 1));
	SET(j, "ticket_id", str(r, 2));
	SET(j, "payload", doc(r, 3, false));
	SET(j, "status", str(r, 4));
	SET(j, "attempts", i64(r, 5));
	SET(j, "max_attempts", i64(r, 6));
	SET(j, "run_at", ts(r, 7));
	SET(j, "lease_owner", str(r, 8));
	SET(j, "lease_until", ts(r, 9));
	SET(j, "last_error", str(r, 10));
	SET(j, "dedupe_key", str(r, 11));
	SET(j, "created_at", ts(r, 12));
	SET(j, "updated_at", ts(r, 13));
	SET(j, "finished_at", ts(r, 14));
	return j;
}

struct store_job *store__job_struct(const struct store__row *r)
{
	struct store_job *job = fl_calloc(1, sizeof(*job));

	job->id = r->ops->i64(r, 0);
	job->kind = fl_strdup(r->ops->text(r, 1));
	job->ticket_id = fl_strdup(r->ops->text(r, 2));
	job->payload = doc(r, 3, false);
	job->attempts = (int)r->ops->i64(r, 5);
	job->max_attempts = (int)r->ops->i64(r, 6);
	job->lease_owner = fl_strdup(r->ops->text(r, 8));
	return job;
}

json_t *store__token_json(const struct store__row *r)
{
	json_t *k = json_object();

	SET(k, "id", i64(r, 0));
	SET(k, "name", str(r, 1));
	SET(k, "role", str(r, 2));
	SET(k, "created_at", ts(r, 3));
	SET(k, "last_used_at", ts(r, 4));
	SET(k, "revoked", boolean(r, 5));
	return k;
}

json_t *store__user_json_at(const struct store__row *r, int c)
{
	json_t *u = json_object();

	SET(u, "id", i64(r, c));
	SET(u, "email", str(r, c + 1));
	SET(u, "name", str(r, c + 2));
	SET(u, "role", str(r, c + 3));
	SET(u, "department", str(r, c + 4));
	SET(u, "skills", doc(r, c + 5, false));
	SET(u, "disabled", boolean(r, c + 6));
	SET(u, "created_at", ts(r, c + 7));
	SET(u, "updated_at", ts(r, c + 8));
	SET(u, "last_seen_at", ts(r, c + 9));
	SET(u, "availability", str(r, c + 10));
	SET(u, "max_open", i64(r, c + 11));
	SET(u, "last_assigned_at", ts(r, c + 12));
	return u;
}

json_t *store__user_json(const struct store__row *r)
{
	return store__user_json_at(r, 0);
}

json_t *store__session_json(const struct store__row *r)
{
	json_t *s = json_object();

	SET(s, "id", i64(r, 0));
	SET(s, "user_id", i64(r, 1));
	SET(s, "address", str(r, 2));
	SET(s, "created_at", ts(r, 3));
	SET(s, "last_seen_at", ts(r, 4));
	SET(s, "expires_at", ts(r, 5));
	SET(s, "user", store__user_json_at(r, 6));
	return s;
}

json_t *store__canned_json(const struct store__row *r)
{
	json_t *c = json_object();

	SET(c, "id", str(r, 0));
	SET(c, "title", str(r, 1));
	SET(c, "body", str(r, 2));
	SET(c, "updated_by", str(r, 3));
	SET(c, "updated_at", ts(r, 4));
	return c;
}

/* An SLA calendar or policy: its body's fields, then the store's (id, position, version, updated_*). */
json_t *store__sla_object_json(const struct store__row *r)
{
	json_t *o = doc(r, 2, false);

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	SET(o, "id", str(r, 0));
	SET(o, "position", i64(r, 1));
	SET(o, "version", i64(r, 3));
	SET(o, "updated_by", str(r, 4));
	SET(o, "updated_at", ts(r, 5));
	return o;
}

/* ---- metrics ---- */

json_t *store__metrics_new(void)
{
	return json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:{}, s:{}, s:{}}",
			 "total_tickets", (json_int_t)0, "resolved_tickets", (json_int_t)0,
			 "escalated_tickets", (json_int_t)0, "avg_response_time", 0.0,
			 "avg_resolution_time", 0.0, "satisfaction_score", 0.0,
			 "escalation_rate", 0.0, "tickets_by_category", "tickets_by_priority",
			 "tickets_by_status");
}

void store__metrics_totals(json_t *m, const struct store__row *r)
{
	/* total, resolved, escalated, avg response s, avg resolution s, avg satisfaction */
	SET(m, "total_tickets", json_integer(r->ops->i64(r, 0)));
	SET(m, "resolved_tickets", json_integer(r->ops->i64(r, 1)));
	SET(m, "escalated_tickets", json_integer(r->ops->i64(r, 2)));
	SET(m, "avg_response_time", json_real(isnull(r, 3) ? 0.0 : r->ops->dbl(r, 3)));
	SET(m, "avg_resolution_time", json_real(isnull(r, 4) ? 0.0 : r->ops->dbl(r, 4)));
	SET(m, "satisfaction_score", json_real(isnull(r, 5) ? 0.0 : r->ops->dbl(r, 5)));
}

void store__metrics_count(json_t *m, const struct store__row *r)
{
	/* dimension ("category", "priority", "status"), value, count */
	const char *dim = r->ops->text(r, 0), *val = r->ops->text(r, 1);
	json_t *obj;
	char key[64];

	if (!dim || !val)
		return;
	snprintf(key, sizeof(key), "tickets_by_%s", dim);
	obj = json_object_get(m, key);
	if (obj)
		SET(obj, val, json_integer(r->ops->i64(r, 2)));
}

void store__metrics_finish(json_t *m)
{
	json_int_t total = json_integer_value(json_object_get(m, "total_tickets"));
	json_int_t esc = json_integer_value(json_object_get(m, "escalated_tickets"));

	SET(m, "escalation_rate", json_real(total ? (double)esc / (double)total : 0.0));
}
