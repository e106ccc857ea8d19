/*
 * A customer's personal data, for both SQL backends (dialect.h): the export
 * (everything stored about a customer, as JSON) and the erasure (GDPR
 * article 17) that docs/OPERATIONS.md describes.
 *
 * A customer's tickets are those whose customer_id is the customer's id or
 * (the email channel names first-time senders by address) the customer's
 * email address in lower case. The erasure, in one write transaction:
 * gives the customer a random pseudonym ("erased-" and 16 hex digits) in
 * the customer record, on the tickets and as the inbound messages' author;
 * clears the record's name, email and metadata (phone numbers live there);
 * replaces every ticket's subject and content and every message of their
 * threads (replies quote the customer) with STORE_ERASED_MARKER; empties
 * the tickets' metadata, analysis and trace, their escalations' packages,
 * their jobs' payloads, their phone calls' numbers, transcripts and
 * recordings, and the data of their events that are not plain field
 * changes of workflow state; deletes their raw emails and the blobs
 * of those and of the messages' attachments; scrubs notifications and rate
 * counters that name the customer; and appends one "customer.erased" event
 * (who, when, how much; no personal value). Ticket numbers, statuses,
 * times, priorities, categories and satisfaction stay, so metrics do. The
 * dialect's erase_purge hook then drops the erased words from the search
 * index (SQLite: FTS5 keeps deleted terms in old segments until merged;
 * PostgreSQL's tsvector is a generated column and follows the text).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dialect.h"

#define PRIVACY_TICKETS "t.customer_id = ?1 OR (?2::text IS NOT NULL AND t.customer_id = lower(?2))"

/* Fields whose change events are workflow state, not personal data: kept. */
static const char *const plain_fields[] = {
	"status", "priority", "category", "assigned_department", "assignee", "sentiment", "language",
	"satisfaction", "quarantined", NULL,
};

static json_t *number_json(const struct store__row *r)
{
	return json_pack("{s:I, s:s}", "number", (json_int_t)r->ops->i64(r, 0), "id", r->ops->text(r, 1));
}

static json_t *text_json(const struct store__row *r)
{
	const char *s = r->ops->text(r, 0);

	return s ? json_string(s) : json_null();
}

static json_t *event_row_json(const struct store__row *r)
{
	return json_pack("{s:I, s:s?, s:s?}", "id", (json_int_t)r->ops->i64(r, 0), "actor", r->ops->text(r, 1),
			 "data", r->ops->text(r, 2));
}

static json_t *outbox_row_json(const struct store__row *r)
{
	return json_pack("{s:I, s:s?, s:s?}", "id", (json_int_t)r->ops->i64(r, 0), "target", r->ops->text(r, 1),
			 "payload", r->ops->text(r, 2));
}

/* The customer's record (NULL when none) and its tickets ({number, id}); ENOTFOUND when neither. */
static int find(struct store *st, const char *id, json_t **customer, json_t **tickets)
{
	struct store__sql *c = STORE__SQL(st);
	const char *email;
	int rc;

	*customer = *tickets = NULL;
	rc = store__sql_one(c, store__customer_json, customer,
			    "SELECT " STORE__CUSTOMER_COLS " FROM customers c WHERE c.id = ?", "t", id);
	if (rc && rc != STORE_ENOTFOUND)
		return rc;
	email = *customer ? fl_json_str(*customer, "email", NULL) : NULL;
	rc = store__sql_rows(c, number_json, tickets,
			     "SELECT t.number, t.id FROM tickets t WHERE " PRIVACY_TICKETS " ORDER BY t.number",
			     "tt", id, email);
	if (!rc && !*customer && json_array_size(*tickets) == 0)
		rc = store__fail(st, STORE_ENOTFOUND, "customer '%s' not found", id);
	if (!rc && !*tickets)
		*tickets = json_array();
	return rc;
}

static char *base64(const void *data, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = fl_malloc(n);

	return sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
}

/* Sets "data_base64" on each object of arr (which has a "sha256") from its blob. */
static int add_blob_data(struct store *st, json_t *arr)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o) {
		void *data = NULL;
		char *b64;
		size_t len = 0;
		int rc = store__sql_blob_get(st, fl_json_str(o, "sha256", ""), &data, &len, NULL);

		if (rc == STORE_ENOTFOUND) {
			store__clear_error(st);
			json_object_set_new(o, "data_base64", json_null());
			continue;
		}
		if (rc)
			return rc;
		b64 = base64(data, len);
		json_object_set_new(o, "data_base64", json_string_nocheck(b64));
		free(b64);
		free(data);
	}
	return STORE_OK;
}

/* The message's attachments' hashes, appended to hashes. */
static void attachment_hashes(const json_t *msg_metadata, json_t *hashes)
{
	const json_t *a = json_object_get(json_object_get(msg_metadata, "email"), "attachments");
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x) {
		const char *h = fl_json_str(x, "sha256", NULL);

		if (h && store__is_sha256_hex(h))
			json_array_append_new(hashes, json_string(h));
	}
}

/* Sets ticket's key to the rows sql (one parameter: the ticket number n) reads. */
static int add_rows(struct store__sql *c, json_t *ticket, const char *key,
		    json_t *(*decode)(const struct store__row *), const char *sql, int64_t n)
{
	json_t *rows = json_array();
	int rc = store__sql_rows(c, decode, &rows, sql, "i", n);

	json_object_set_new(ticket, key, rows);
	return rc;
}

static int export_ticket(struct store *st, json_t *t, json_t *attachments)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t n = fl_json_int(t, "number", 0);
	json_t *ticket = NULL, *m;
	size_t i;
	int rc;

	rc = store__sql_one(c, store__ticket_json, &ticket,
			    "SELECT " STORE__TICKET_COLS " FROM tickets t WHERE t.number = ?", "i", n);
	if (rc)
		return rc;
	json_object_set_new(t, "ticket", ticket);
	rc = add_rows(c, ticket, "messages", store__message_json,
		      "SELECT " STORE__MESSAGE_COLS " FROM messages m JOIN tickets t"
		      " ON t.number = m.ticket_number WHERE m.ticket_number = ? ORDER BY m.id", n);
	json_array_foreach(json_object_get(ticket, "messages"), i, m)
		attachment_hashes(json_object_get(m, "metadata"), attachments);
	if (!rc)
		rc = add_rows(c, ticket, "events", store__event_json,
			      "SELECT " STORE__EVENT_COLS " FROM events v JOIN tickets t"
			      " ON t.number = v.ticket_number WHERE v.ticket_number = ? ORDER BY v.id", n);
	if (!rc)
		rc = add_rows(c, ticket, "escalations", store__escalation_json,
			      "SELECT " STORE__ESCALATION_COLS " FROM escalations e JOIN tickets t"
			      " ON t.number = e.ticket_number WHERE e.ticket_number = ? ORDER BY e.id", n);
	if (!rc)
		rc = add_rows(c, ticket, "calls", store__call_json,
			      STORE__CALL_SELECT " WHERE c.ticket_number = ? ORDER BY c.created_at, c.call_id", n);
	return rc;
}

int store__sql_customer_export(struct store *st, const char *id, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *customer = NULL, *tickets = NULL, *raw = NULL, *att = json_array(), *list = json_array();
	char now[32];
	size_t i;
	json_t *t;
	int rc;

	rc = store__sql_read_begin(c);
	if (!rc)
		rc = find(st, id, &customer, &tickets);
	json_array_foreach(tickets, i, t) {
		if (rc)
			break;
		rc = export_ticket(st, t, att);
		if (!rc)
			json_array_append(list, json_object_get(t, "ticket"));
		if (!rc)
			rc = store__sql_rows(c, store__mail_raw_json, &raw,
					     "SELECT " STORE__MAIL_RAW_COLS " FROM mail_raw r JOIN tickets t"
					     " ON t.number = r.ticket_number WHERE r.ticket_number = ? ORDER BY r.id",
					     "i", fl_json_int(t, "number", 0));
	}
	if (!raw)
		raw = json_array();
	if (!rc)
		rc = add_blob_data(st, raw);
	if (!rc) {
		json_t *blobs = json_array();
		json_t *h;

		json_array_foreach(att, i, h)
			json_array_append_new(blobs, json_pack("{s:O}", "sha256", h));
		json_decref(att);
		att = blobs;
		rc = add_blob_data(st, att);
	}
	rc = store__sql_read_end(c, rc);
	if (!rc) {
		fl_time_rfc3339(now, store__now(st));
		*out = json_pack("{s:s, s:s, s:O, s:o, s:O, s:O, s:[]}", "customer_id", id, "exported_at", now,
				 "customer", customer ? customer : json_null(), "tickets", list,
				 "raw_emails", raw, "attachments", att, "survey_answers");
		list = NULL;
	}
	json_decref(list);
	json_decref(customer);
	json_decref(tickets);
	json_decref(raw);
	json_decref(att);
	return rc;
}

/* ---- erasure ---- */

/*
 * What names the customer: their id and email (whole values: a target, an
 * actor, the part of a rate counter's key after its "kind:"), and, inside
 * texts, their email, their name, and their id and tickets' ids as JSON
 * writes them (quoted: a short id such as "c1" is no word of its own).
 */
struct who {
	const char *id, *email;
	const char **needles;  /* inside texts */
	size_t n;
};

static bool is_them(const struct who *w, const char *s)
{
	return s && ((w->id && !strcasecmp(s, w->id)) || (w->email && !strcasecmp(s, w->email)));
}

/* Whether s holds any of the needles (case-insensitively; NULL and "" needles never match). */
static bool names_them(const struct who *w, const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < w->n; i++)
		if (w->needles[i] && *w->needles[i] && strcasestr(s, w->needles[i]))
			return true;
	return false;
}

static bool plain_change(const char *data)
{
	json_t *d = json_loads(data ? data : "{}", 0, NULL);
	const char *field = fl_json_str(d, "field", NULL);
	bool plain = false;
	size_t i;

	for (i = 0; field && plain_fields[i]; i++)
		plain = plain || !strcmp(field, plain_fields[i]);
	json_decref(d);
	return plain;
}

/* Empties the events of ticket n that carry more than a plain field change; the customer as actor goes. */
static int erase_events(struct store__sql *c, int64_t n, const struct who *w, const char *pseudonym,
			int *count)
{
	json_t *rows = NULL, *e;
	size_t i;
	int rc = store__sql_rows(c, event_row_json, &rows,
				 "SELECT v.id, v.actor, v.data FROM events v WHERE v.ticket_number = ?", "i", n);

	json_array_foreach(rows, i, e) {
		const char *actor = fl_json_str(e, "actor", NULL);
		bool scrub_actor = is_them(w, actor);
		bool keep = plain_change(fl_json_str(e, "data", NULL)) && !names_them(w, fl_json_str(e, "data", NULL));

		if (rc)
			break;
		if (keep && !scrub_actor)
			continue;
		rc = store__sql_exec(c, NULL,
				     "UPDATE events SET actor = CASE WHEN ?1::boolean THEN ?2 ELSE actor END,"
				     " data = CASE WHEN ?3::boolean THEN data ELSE '{\"erased\": true}' END WHERE id = ?4",
				     "btbi", scrub_actor, pseudonym, keep, fl_json_int(e, "id", 0));
		++*count;
	}
	json_decref(rows);
	return rc;
}

/* Notifications (their target or payload) and rate counters (their key) that name the customer or a ticket. */
static int erase_mentions(struct store__sql *c, const struct who *w, int *count)
{
	json_t *rows = NULL, *o;
	size_t i;
	int rc = store__sql_rows(c, outbox_row_json, &rows, "SELECT o.id, o.target, o.payload FROM outbox o", NULL);

	json_array_foreach(rows, i, o) {
		if (rc)
			break;
		if (!is_them(w, fl_json_str(o, "target", NULL)) && !names_them(w, fl_json_str(o, "payload", NULL)))
			continue;
		rc = store__sql_exec(c, NULL,
				     "UPDATE outbox SET target = '" STORE_ERASED_MARKER "', payload = '{}',"
				     " last_error = CASE WHEN status = 'pending' OR status = 'sending'"
				     "  THEN 'customer erased' ELSE last_error END,"
				     " status = CASE WHEN status = 'pending' OR status = 'sending' THEN 'dead'"
				     "  ELSE status END, lease_owner = NULL WHERE id = ?",
				     "i", fl_json_int(o, "id", 0));
		++*count;
	}
	json_decref(rows);
	rows = NULL;
	if (!rc)
		rc = store__sql_rows(c, text_json, &rows, "SELECT DISTINCT key FROM rate_hits", NULL);
	json_array_foreach(rows, i, o) {
		const char *key = json_string_value(o), *colon = key ? strchr(key, ':') : NULL;

		if (rc)
			break;
		if (is_them(w, colon ? colon + 1 : key))
			rc = store__sql_exec(c, NULL, "DELETE FROM rate_hits WHERE key = ?", "t",
					     json_string_value(o));
	}
	json_decref(rows);
	return rc;
}

struct erase_counts {
	int tickets, messages, events, raw_emails, blobs, notifications;
};

static int erase_ticket(struct store__sql *c, int64_t n, const struct who *w, const char *pseudonym,
			json_t *hashes, struct erase_counts *k)
{
	json_t *rows = NULL, *x;
	size_t i;
	int changes = 0;
	int rc;

	/* blobs to delete: the attachments the thread lists and the raw emails */
	rc = store__sql_rows(c, text_json, &rows, "SELECT m.metadata FROM messages m WHERE m.ticket_number = ?",
			     "i", n);
	json_array_foreach(rows, i, x) {
		json_t *meta = json_loads(json_string_value(x) ? json_string_value(x) : "{}", 0, NULL);

		attachment_hashes(meta, hashes);
		json_decref(meta);
	}
	json_decref(rows);
	rows = NULL;
	if (!rc)
		rc = store__sql_rows(c, text_json, &rows, "SELECT r.sha256 FROM mail_raw r WHERE r.ticket_number = ?",
				     "i", n);
	json_array_foreach(rows, i, x)
		json_array_append(hashes, x);
	json_decref(rows);
	if (!rc)
		rc = store__sql_exec(c, &changes, "DELETE FROM mail_raw WHERE ticket_number = ?", "i", n);
	k->raw_emails += changes;
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "UPDATE tickets SET customer_id = ?1, subject = '" STORE_ERASED_MARKER "',"
				     " content = '" STORE_ERASED_MARKER "', metadata = '{}', analysis = '{}',"
				     " trace = '[]', version = version + 1 WHERE number = ?2", "ti", pseudonym, n);
	if (!rc)
		rc = store__sql_exec(c, &changes,
				     "UPDATE messages SET body = '" STORE_ERASED_MARKER "', metadata = '{}',"
				     " author = CASE WHEN direction = 'inbound' THEN ?1 ELSE author END"
				     " WHERE ticket_number = ?2", "ti", pseudonym, n);
	k->messages += rc ? 0 : changes;
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "UPDATE escalations SET package = '{}', resolution = CASE WHEN resolution IS NULL"
				     " THEN NULL ELSE '" STORE_ERASED_MARKER "' END WHERE ticket_number = ?", "i", n);
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "UPDATE jobs SET payload = '{}', last_error = NULL,"
				     " status = CASE WHEN status = 'queued' OR status = 'running' THEN 'dead' ELSE status END,"
				     " lease_owner = NULL WHERE ticket_number = ?", "i", n);
	/* a phone call's record: the caller's number, the transcript and the recording's link */
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "UPDATE calls SET from_number = ?1, recording_url = NULL, transcript = CASE WHEN"
				     " transcript IS NULL THEN NULL ELSE '" STORE_ERASED_MARKER "' END"
				     " WHERE ticket_number = ?2", "ti", pseudonym, n);
	if (!rc)
		rc = erase_events(c, n, w, pseudonym, &k->events);
	k->tickets++;
	return rc;
}

int store__sql_customer_erase(struct store *st, const char *id, const char *actor, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *customer = NULL, *tickets = NULL, *hashes = json_array(), *t, *data = NULL;
	struct who w = { 0 };
	struct erase_counts k = { 0 };
	unsigned char rnd[8];
	char pseudonym[32], hex[17], *text = NULL, *quoted_id = NULL, now[32];
	size_t i;
	int changes = 0;
	int rc;

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(pseudonym, sizeof(pseudonym), "erased-%s", hex);
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	/* tickets this transaction wrote are indexed before their text changes */
	if (c->d->flush)
		rc = c->d->flush(c);
	if (!rc)
		rc = find(st, id, &customer, &tickets);
	if (rc)
		goto end;
	w.id = id;
	w.email = fl_json_str(customer, "email", NULL);
	w.needles = fl_calloc(3 + json_array_size(tickets), sizeof(*w.needles));
	quoted_id = fl_asprintf("\"%s\"", id);
	w.needles[w.n++] = quoted_id;
	w.needles[w.n++] = w.email;
	w.needles[w.n++] = fl_json_str(customer, "name", NULL);
	json_array_foreach(tickets, i, t) {
		json_object_set_new(t, "quoted", json_sprintf("\"%s\"", fl_json_str(t, "id", "")));
		w.needles[w.n++] = fl_json_str(t, "quoted", NULL);
	}
	json_array_foreach(tickets, i, t) {
		rc = erase_ticket(c, fl_json_int(t, "number", 0), &w, pseudonym, hashes, &k);
		if (rc)
			goto end;
	}
	json_array_foreach(hashes, i, t) {
		rc = store__sql_exec(c, &changes, "DELETE FROM blobs WHERE sha256 = ?1 AND NOT EXISTS"
				     " (SELECT 1 FROM mail_raw WHERE sha256 = ?1)", "t", json_string_value(t));
		if (rc)
			goto end;
		k.blobs += changes;
	}
	if (customer)
		rc = store__sql_exec(c, NULL,
				     "UPDATE customers SET id = ?, name = NULL, email = NULL, metadata = '{}',"
				     " updated_at = ? WHERE id = ?", "tit", pseudonym, store__now(st), id);
	if (!rc)
		rc = erase_mentions(c, &w, &k.notifications);
	if (!rc) {
		data = json_pack("{s:s, s:b, s:i, s:i, s:i, s:i, s:i, s:i}", "customer", pseudonym, "record",
				 customer != NULL, "tickets", k.tickets, "messages", k.messages, "events", k.events,
				 "raw_emails", k.raw_emails, "blobs", k.blobs, "notifications", k.notifications);
		text = store__json_text(data, "{}");
		rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", (int64_t)-1, "customer.erased",
				     actor, text, store__now(st));
	}
	if (!rc && c->d->erase_purge)
		rc = c->d->erase_purge(c);
end:
	rc = store__sql_tx_end(c, rc);
	if (!rc && out) {
		fl_time_rfc3339(now, store__now(st));
		json_object_set_new(data, "erased_at", json_string(now));
		json_object_set_new(data, "erased_by", actor ? json_string(actor) : json_null());
		*out = json_incref(data);
	}
out:
	free(text);
	free(w.needles);
	free(quoted_id);
	json_decref(data);
	json_decref(customer);
	json_decref(tickets);
	json_decref(hashes);
	return rc;
}
