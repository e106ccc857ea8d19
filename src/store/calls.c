/*
 * Phone calls (issue 17, point 3), for both SQL backends (dialect.h), and
 * their public wrappers: one record per (provider, call_id), which every
 * callback of the call upserts in one statement (so two callbacks of a new
 * call at once make one row, on SQLite and PostgreSQL alike): the numbers
 * it knows first, the status that ranks highest (a late "ringing" never
 * moves a completed call back), the latest transcript and recording. Then
 * the call's ticket: linked to the record, and completed by what later
 * callbacks bring (a transcript replaces the content and sends the ticket
 * back to triage). Also here: a customer found by phone number.
 *
 * What it leaves to others: what a status means and the ticket's text
 * (channels/phone), masking (the caller masks before anything is stored),
 * making the ticket (the intake every door uses).
 */
#include <string.h>

#include "dialect.h"
#include "wrap.h"

#define CALL_SELECT STORE__CALL_SELECT

static json_t *text_or_null(const struct store__row *r, int col)
{
	return r->ops->is_null(r, col) ? json_null() : json_string(r->ops->text(r, col));
}

json_t *store__call_json(const struct store__row *r)
{
	char at[32], upd[32];
	json_t *c;

	fl_time_rfc3339(at, r->ops->i64(r, 10));
	fl_time_rfc3339(upd, r->ops->i64(r, 11));
	c = json_pack("{s:s, s:s, s:o, s:o, s:s, s:I, s:o, s:o, s:o, s:o, s:s, s:s}", "provider", r->ops->text(r, 0),
		      "call_id", r->ops->text(r, 1), "from", text_or_null(r, 2), "to", text_or_null(r, 3), "status",
		      r->ops->text(r, 4), "status_rank", (json_int_t)r->ops->i64(r, 5), "transcript",
		      text_or_null(r, 6), "recording_url", text_or_null(r, 7), "ticket_id", text_or_null(r, 8),
		      "number", r->ops->is_null(r, 9) ? json_null() : json_integer(r->ops->i64(r, 9)), "created_at",
		      at, "updated_at", upd);
	return c;
}

int store__sql_call_record(struct store *st, const json_t *call, int status_rank, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	const char *provider = fl_json_str(call, "provider", ""), *id = fl_json_str(call, "call_id", "");
	int64_t now = store__now(st);
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	/* one statement: two first callbacks at once meet in the primary key, not in two rows */
	rc = store__sql_exec(c, NULL, "INSERT INTO calls (provider, call_id, from_number, to_number, status,"
			     " status_rank, transcript, recording_url, created_at, updated_at)"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
			     " ON CONFLICT (provider, call_id) DO UPDATE SET"
			     " from_number = COALESCE(calls.from_number, excluded.from_number),"
			     " to_number = COALESCE(calls.to_number, excluded.to_number),"
			     " status = CASE WHEN excluded.status_rank > calls.status_rank"
			     "   THEN excluded.status ELSE calls.status END,"
			     " status_rank = CASE WHEN excluded.status_rank > calls.status_rank"
			     "   THEN excluded.status_rank ELSE calls.status_rank END,"
			     " transcript = COALESCE(excluded.transcript, calls.transcript),"
			     " recording_url = COALESCE(excluded.recording_url, calls.recording_url),"
			     " updated_at = excluded.updated_at",
			     "tttttitti", provider, id, fl_json_str(call, "from", NULL), fl_json_str(call, "to", NULL),
			     fl_json_str(call, "status", ""), (int64_t)status_rank,
			     fl_json_str(call, "transcript", NULL), fl_json_str(call, "recording_url", NULL), now);
	if (!rc && out)
		rc = store__sql_one(c, store__call_json, out, CALL_SELECT " WHERE c.provider = ? AND c.call_id = ?", "tt",
				    provider, id);
	rc = store__sql_tx_end(c, rc);
	if (rc && out) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int store__sql_call_get(struct store *st, const char *provider, const char *call_id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__call_json, out, CALL_SELECT " WHERE c.provider = ? AND c.call_id = ?",
				"tt", provider, call_id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "no call %s/%s", provider, call_id) : rc;
}

/* The ticket's metadata with the call's status and recording; whether that changed it. */
static bool call_metadata(json_t *meta, const json_t *call)
{
	const char *keys[][2] = { { "call_status", "status" }, { "recording_url", "recording_url" } };
	bool changed = false;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		const char *v = fl_json_str(call, keys[i][1], NULL);

		if (v && !fl_str_eq(v, fl_json_str(meta, keys[i][0], NULL))) {
			json_object_set_new(meta, keys[i][0], json_string(v));
			changed = true;
		}
	}
	return changed;
}

static bool flag(const json_t *ticket, const char *key)
{
	return json_is_true(json_object_get(json_object_get(ticket, "metadata"), key));
}

/*
 * Why the ticket's text changes, or NULL: a transcript where it had none, or
 * a missed call where it had neither.
 */
static const char *why_rewrite(const json_t *t, const json_t *want)
{
	if (!want || flag(t, "transcribed"))
		return NULL;
	if (flag(want, "transcribed"))
		return "transcript";
	if (flag(want, "missed_call") && !flag(t, "missed_call"))
		return "missed_call";
	return NULL;
}

/*
 * The ticket's text as want has it, and triage again unless it is over; an
 * event says why. The job goes in under intake's dedupe key: while the
 * first triage job runs it is that one, whose finish (support_finish)
 * sees the text changed and queues the next.
 */
static int rewrite(struct store__sql *c, const json_t *t, json_t *meta, const json_t *want, const char *why,
		   const char *provider, const char *call_id, bool *retriaged)
{
	const char *status = fl_json_str(t, "status", FL_STATUS_NEW), *content = fl_json_str(want, "content", "");
	bool reopen = !fl_str_eq(status, FL_STATUS_RESOLVED) && !fl_str_eq(status, FL_STATUS_CLOSED) &&
		      !fl_str_eq(status, FL_STATUS_SPAM);
	int64_t number = fl_json_int(t, "number", 0), now = store__now(&c->base);
	const char *keys[] = { "transcribed", "missed_call", "call_back" };
	char *text, *d;
	json_t *data;
	size_t i;
	int rc;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++)
		json_object_set(meta, keys[i], json_object_get(json_object_get(want, "metadata"), keys[i]));
	text = fl_json_dumps(meta);
	rc = store__sql_exec(c, NULL, "UPDATE tickets SET subject = ?, content = ?, metadata = ?, status = ?,"
			     " version = version + 1, updated_at = ? WHERE number = ?", "ttttii",
			     fl_json_str(want, "subject", ""), content, text, reopen ? FL_STATUS_NEW : status, now, number);
	free(text);
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE messages SET body = ? WHERE id = (SELECT min(id) FROM messages"
				     " WHERE ticket_number = ? AND direction = 'inbound')", "ti", content, number);
	if (!rc && reopen) {
		char ref[32], *dedupe;

		store__format_number(ref, number);
		dedupe = fl_asprintf("%s:%s", FL_JOB_TRIAGE, ref);
		rc = store__sql_exec(c, NULL, STORE__SQL_JOB_INSERT, "tjtiiitii", FL_JOB_TRIAGE, number, "{}",
				     (int64_t)5, now, now, dedupe, now, now);
		free(dedupe);
	}
	if (rc)
		return rc;
	data = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "reason",
			 fl_str_eq(why, "transcript") ? "the call's transcript arrived after its ticket was made without one"
						      : "the call turned out to be a missed call",
			 "change", why, "provider", provider, "call_id", call_id, "retriage", reopen, "previous_status",
			 status);
	d = fl_json_dumps(data);
	rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", number, STORE_EVENT_CALL_TICKET, "phone", d,
			     now);
	free(d);
	json_decref(data);
	if (!rc)
		*retriaged = reopen;
	return rc;
}

int store__sql_call_ticket_sync(struct store *st, const char *provider, const char *call_id,
				const char *ticket_id, const json_t *want, bool *retriaged)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *call = NULL, *t = NULL, *meta = NULL;
	int64_t number = 0;
	const char *why;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_int(c, &number, "SELECT number FROM tickets WHERE id = ? FOR UPDATE", "t", ticket_id);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "ticket '%s' not found", ticket_id);
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE calls SET ticket_number = ? WHERE provider = ? AND call_id = ?"
				     " AND ticket_number IS NULL", "itt", number, provider, call_id);
	if (!rc)
		rc = store__sql_one(c, store__call_json, &call, CALL_SELECT " WHERE c.provider = ? AND c.call_id = ?", "tt",
				    provider, call_id);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "no call %s/%s", provider, call_id);
	if (!rc)
		rc = store__sql_ticket_load(c, number, &t);
	if (rc)
		goto out;
	meta = json_deep_copy(json_object_get(t, "metadata"));
	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	why = why_rewrite(t, want);
	if (why) {
		call_metadata(meta, call);
		rc = rewrite(c, t, meta, want, why, provider, call_id, retriaged);
	} else if (call_metadata(meta, call)) {
		char *text = fl_json_dumps(meta);

		rc = store__sql_exec(c, NULL, "UPDATE tickets SET metadata = ?, version = version + 1, updated_at = ?"
				     " WHERE number = ?", "tii", text, store__now(st), number);
		free(text);
	}
out:
	rc = store__sql_tx_end(c, rc);
	json_decref(call);
	json_decref(t);
	json_decref(meta);
	return rc;
}

int store__sql_customer_find_by_phone(struct store *st, const char *number, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	char *sql = fl_asprintf("SELECT " STORE__CUSTOMER_COLS " FROM customers c WHERE %s = ? ORDER BY c.id LIMIT 1",
				c->d->customer_phone);
	int rc = store__sql_one(c, store__customer_json, out, sql, "t", number);

	free(sql);
	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "no customer with phone number '%s'", number) : rc;
}

/* ---- the public wrappers ---- */

static int word(struct store *st, const char *s, size_t max, const char *what)
{
	size_t n = s ? strlen(s) : 0, i;

	if (!n || n > max)
		return store__fail(st, STORE_EINVAL, "%s is 1 to %zu characters", what, max);
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", s[i]))
			return store__fail(st, STORE_EINVAL, "%s may hold only letters, digits, '.', '_', ':' and '-'",
					   what);
	return STORE_OK;
}

static int call_ok(struct store *st, const json_t *call, int status_rank)
{
	int rc = need(st, call, "a call");

	if (!rc)
		rc = word(st, fl_json_str(call, "provider", NULL), STORE_CALL_PROVIDER_MAX, "a call's provider");
	if (!rc)
		rc = word(st, fl_json_str(call, "call_id", NULL), STORE_CALL_ID_MAX, "a call's id");
	if (!rc && (!fl_json_str(call, "status", NULL) || status_rank < 0))
		rc = store__fail(st, STORE_EINVAL, "a call has a status and a rank of 0 or more");
	return rc;
}

int store_call_record(struct store *st, const json_t *call, int status_rank, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_call_record, WR, call_ok(st, call, status_rank), call_record(st, call, status_rank, out));
}

int store_call_get(struct store *st, const char *provider, const char *call_id, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_call_get, RD,
	     OR(need(st, out, "an output"), OR(need(st, provider, "a provider"), need(st, call_id, "a call id"))),
	     call_get(st, provider, call_id, out));
}

int store_call_ticket_sync(struct store *st, const char *provider, const char *call_id, const char *ticket_id,
			   const json_t *want, bool *retriaged)
{
	bool ignored;

	if (!retriaged)
		retriaged = &ignored;
	*retriaged = false;
	WRAP(store_call_ticket_sync, WR,
	     OR(OR(need(st, provider, "a provider"), need(st, call_id, "a call id")), need(st, ticket_id, "a ticket id")),
	     call_ticket_sync(st, provider, call_id, ticket_id, want, retriaged));
}

int store_customer_find_by_phone(struct store *st, const char *number, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_customer_find_by_phone, RD, OR(need(st, out, "an output"), need(st, number, "a number")),
	     customer_find_by_phone(st, number, out));
}
