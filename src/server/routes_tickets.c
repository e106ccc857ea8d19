/*
 * /api/v1/tickets: create, get (with its thread, analysis and trace), list
 * with filters and keyset pagination (q= is full-text search; the list's
 * items are summaries unless view=full asks for the records; a page's size
 * is bounded whatever the stored data, see list()), the audit
 * events, and the agent's verbs: reply, internal note, assign, resolve,
 * reopen. Each verb is one transaction: the change, its message, its
 * notifications (outbox) and its audit events commit together. A "version"
 * in the body makes the change conditional: 409 with the current ticket
 * when someone changed it meanwhile.
 */
#include <ctype.h>
#include <string.h>

#include "server_int.h"
#include "store/store.h"
#include "support/support.h"
#include "text/text.h"

#define MAX_TEXT 50000


static void create(struct server_req *r)
{
	server__ticket_intake(r, r->json, "api", 201);
}

static void get(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *t = NULL;
	int rc = store_ticket_get(server__store(r), id, true, &t);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "ticket", id);
		return;
	}
	/* an integration sees its own tickets; others do not exist for it */
	if (!server__may_see_ticket(r, t)) {
		json_decref(t);
		server__not_found(r, "ticket", id);
		return;
	}
	/* issue 18: the SLA's clocks, computed from the policy, the calendar and the events */
	json_object_set_new(t, "sla", support_sla_of(server__store(r), t, fl_wall_us() / 1000000));
	server__reply_json(r, 200, t);
}

/* ---- the list's summaries ---- */

/*
 * A page answers at most LIST_MAX_BYTES of tickets (fewer tickets than the
 * limit asked, with the cursor to go on); a record over ITEM_MAX_BYTES is
 * listed as its summary; a summary's strings are cut at SUMMARY_STR_MAX
 * bytes. Either way the item says "truncated": true, and GET
 * /api/v1/tickets/{id} has the whole record. Tickets taken in now are far
 * below these bounds (support_ticket_validate); the bounds hold for data
 * stored before those rules, or by other means.
 */
#define LIST_MAX_BYTES ((size_t)4 << 20)
#define ITEM_MAX_BYTES ((size_t)64 << 10)
#define SUMMARY_STR_MAX 2048

static const char *const views[] = { "summary", "full", NULL };

/* The record's fields a queue shows; the rest (content, metadata, analysis) stays behind. */
static const char *const summary_fields[] = {
	"id", "number", "channel", "customer_id", "subject", "status", "sentiment", "category",
	"priority", "assigned_department", "assignee", "created_at", "updated_at",
	"first_response_at", "resolved_at", "version", "quarantined", "language", "sla", NULL,
};

enum pick_type { PICK_STR, PICK_NUM, PICK_BOOL };

/* Shares src[skey] as dst[dkey] when it is of the type; else leaves dkey absent. */
static void pick(json_t *dst, const char *dkey, const json_t *src, const char *skey, enum pick_type type)
{
	json_t *v = json_object_get(src, skey);
	bool ok = type == PICK_NUM ? json_is_number(v) : type == PICK_BOOL ? json_is_boolean(v) : json_is_string(v);

	if (ok)
		json_object_set(dst, dkey, v);
}

/* Adds o (taken) to tr as key unless it is empty. */
static void add_part(json_t *tr, const char *key, json_t *o)
{
	if (json_object_size(o))
		json_object_set_new(tr, key, o);
	else
		json_decref(o);
}

/*
 * The triage facts of a stored analysis, or NULL when it holds none (an
 * untriaged ticket). Each value is shared from the analysis, never made up:
 * a field the analysis lacks is absent here too. escalation.needed is the
 * workflow's verdict: the escalation decision's (anything but no_escalation)
 * when it made one, else the response generator's escalation_needed.
 */
static json_t *triage_of(const json_t *analysis)
{
	const json_t *sent = json_object_get(analysis, "sentiment_analysis");
	const json_t *cat = json_object_get(analysis, "categorization");
	const json_t *pri = json_object_get(analysis, "priority_assignment");
	const json_t *resp = json_object_get(analysis, "generated_response");
	const json_t *dec = json_object_get(analysis, "escalation_decision");
	const char *verdict = fl_json_str(dec, "escalation_decision", NULL);
	json_t *tr = json_object(), *o;

	o = json_object();
	pick(o, "level", sent, "sentiment", PICK_STR);
	pick(o, "urgency", sent, "urgency", PICK_STR);
	add_part(tr, "sentiment", o);
	o = json_object();
	pick(o, "name", cat, "primary_category", PICK_STR);
	pick(o, "confidence", cat, "confidence", PICK_NUM);
	add_part(tr, "category", o);
	o = json_object();
	pick(o, "level", pri, "priority", PICK_STR);
	pick(o, "score", pri, "score", PICK_NUM);
	add_part(tr, "priority", o);
	o = json_object();
	if (verdict)
		json_object_set_new(o, "needed", json_boolean(strcmp(verdict, "no_escalation") != 0));
	else
		pick(o, "needed", resp, "escalation_needed", PICK_BOOL);
	pick(o, "level", dec, "escalation_decision", PICK_STR);
	pick(o, "priority", dec, "escalation_priority", PICK_STR);
	add_part(tr, "escalation", o);
	if (json_is_object(resp)) {
		const char *draft = fl_json_str(resp, "response", NULL);

		json_object_set_new(tr, "reply_draft", json_boolean(draft && *draft));
	}
	o = json_object();
	pick(o, "sent", json_object_get(analysis, "auto_reply"), "sent", PICK_BOOL);
	pick(o, "reason", json_object_get(analysis, "auto_reply"), "reason", PICK_STR);
	add_part(tr, "auto_reply", o);
	if (!json_object_size(tr)) {
		json_decref(tr);
		return NULL;
	}
	return tr;
}

/*
 * A ticket as a queue shows it: its identity and queue fields and a
 * "triage" object from its analysis (absent when untriaged). The values are
 * shared with ticket, not copied: neither is re-encoded.
 */
static json_t *ticket_summary(const json_t *ticket)
{
	json_t *s = json_object(), *tr;
	bool cut = false;
	size_t i;

	for (i = 0; summary_fields[i]; i++) {
		json_t *v = json_object_get(ticket, summary_fields[i]);

		if (json_is_string(v) && json_string_length(v) > SUMMARY_STR_MAX) {
			size_t n = SUMMARY_STR_MAX;
			const char *str = json_string_value(v);

			/* cut on a character's first byte */
			while (n && ((unsigned char)str[n] & 0xC0) == 0x80)
				n--;
			json_object_set_new(s, summary_fields[i], json_stringn(str, n));
			cut = true;
		} else if (v) {
			json_object_set(s, summary_fields[i], v);
		}
	}
	if (cut)
		json_object_set_new(s, "truncated", json_true());
	tr = triage_of(json_object_get(ticket, "analysis"));
	if (tr)
		json_object_set_new(s, "triage", tr);
	return s;
}

/* Appends ticket as a list shows it: its summary, or its record when full and not too large. */
static void add_item(struct fl_buf *b, const json_t *ticket, bool full)
{
	size_t mark = b->len;
	json_t *s;

	if (full) {
		if (!fl_json_encode(b, ticket) && b->len - mark <= ITEM_MAX_BYTES)
			return;
		fl_buf_setlen(b, mark);
	}
	s = ticket_summary(ticket);
	if (full)
		json_object_set_new(s, "truncated", json_true());
	if (fl_json_encode(b, s))
		fl_buf_adds(b, "{}");
	json_decref(s);
}

/*
 * Gives each ticket of page its "sla" (issue 18), as GET /api/v1/tickets/{id}
 * shows it (support_sla_annotate: the page's events and tiers read at
 * once). A ticket no policy applies to has none; a store error leaves the
 * page without (logged).
 */
static void add_sla(struct store *st, json_t *page)
{
	if (support_sla_annotate(st, json_object_get(page, "tickets"), fl_wall_us() / 1000000) != STORE_OK)
		fl_log(FL_LOG_ERROR, "sla: cannot compute the page's clocks: %s", store_errmsg(st));
}

/*
 * Encodes page ({"tickets", "next_cursor"}) into b as the list answers it.
 * Returns 0, or, when bounded and not all of them fit in LIST_MAX_BYTES,
 * the number of tickets that do (at least one always does), b unfinished.
 */
static size_t encode_page(struct fl_buf *b, const json_t *page, bool full, bool bounded)
{
	const json_t *list = json_object_get(page, "tickets");
	size_t i;

	fl_buf_adds(b, "{\"tickets\":[");
	for (i = 0; i < json_array_size(list); i++) {
		if (i)
			fl_buf_addch(b, ',');
		add_item(b, json_array_get(list, i), full);
		if (bounded && b->len > LIST_MAX_BYTES && i)
			return i;
	}
	fl_buf_adds(b, "],\"next_cursor\":");
	if (fl_json_encode(b, json_object_get(page, "next_cursor")))
		fl_buf_adds(b, "null");
	fl_buf_addch(b, '}');
	return 0;
}

/*
 * Whether a search has a word to look for: a letter or digit, or a byte of a
 * non-ASCII character (the store's rule for a word's characters, see
 * store_ticket_list). The store takes a query without words for no filter.
 */
static bool has_word(const char *q)
{
	for (; *q; q++)
		if (isalnum((unsigned char)*q) || (unsigned char)*q >= 0x80)
			return true;
	return false;
}

static bool blank(const char *q)
{
	for (; *q; q++)
		if (!isspace((unsigned char)*q))
			return false;
	return true;
}

/*
 * The console's queues (queue=): mine (assigned to the caller: a person's
 * email, a token's name), unassigned, escalated, all, department:<d>; each
 * of open tickets (neither resolved, closed nor spam) unless a status is
 * asked for. -1 when answered (400).
 */
static int queue_filter(struct server_req *r, struct store_ticket_filter *f)
{
	const char *q = server__query(r, "queue");

	if (!q || !*q)
		return 0;
	f->open = !f->status;
	if (!strcmp(q, "mine")) {
		f->assignee = r->auth.name;
	} else if (!strcmp(q, "unassigned")) {
		f->unassigned = true;
	} else if (!strcmp(q, "escalated")) {
		if (f->status && strcmp(f->status, FL_STATUS_ESCALATED)) {
			server__bad_request(r, "status", "queue=escalated lists status escalated only");
			return -1;
		}
		f->status = FL_STATUS_ESCALATED;
		f->open = false;
	} else if (!strcmp(q, "all")) {
		/* every open ticket */
	} else if (fl_str_has_prefix(q, "department:") && q[11]) {
		f->department = q + 11;
	} else {
		server__bad_request(r, "queue", "query argument 'queue' must be one of: mine, unassigned, escalated, "
				    "all, department:<name>");
		return -1;
	}
	return 0;
}

static void list(struct server_req *r)
{
	struct store_ticket_filter f = { 0 };
	struct fl_buf b = FL_BUF_INIT;
	const char *view;
	json_t *out = NULL;
	size_t fitted;
	int64_t limit;
	int rc;

	if (server__query_enum(r, "view", views, "summary", &view) ||
	    server__query_enum(r, "status", fl_statuses, NULL, &f.status) ||
	    server__query_enum(r, "priority", fl_priorities, NULL, &f.priority) ||
	    server__query_enum(r, "channel", fl_channels, NULL, &f.channel) ||
	    server__query_int(r, "limit", 1, 500, 50, &limit))
		return;
	f.category = server__query(r, "category");
	f.assignee = server__query(r, "assignee");
	f.customer_id = server__query(r, "customer_id");
	f.language = server__query(r, "language");
	f.department = server__query(r, "department");
	if (queue_filter(r, &f))
		return;
	f.summary = !strcmp(view, "summary");
	f.query = server__query(r, "q");
	if (f.query && !has_word(f.query)) {
		/* blank: no search; only punctuation: a search that matches nothing, not every ticket */
		if (!blank(f.query)) {
			server__reply_json(r, 200, json_pack("{s:[], s:n}", "tickets", "next_cursor"));
			return;
		}
		f.query = NULL;
	}
	f.cursor = server__query(r, "cursor");
	f.limit = (int)limit;
	rc = store_ticket_list(server__store(r), &f, &out);
	if (rc == STORE_EINVAL) {
		server__bad_request(r, "cursor", "invalid cursor or filter: %s", store_errmsg(r->st));
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "tickets", NULL);
		return;
	}
	add_sla(server__store(r), out);
	fitted = encode_page(&b, out, !strcmp(view, "full"), true);
	if (fitted) {
		/*
		 * Over the page's bound: ask again for the tickets that fit, so that
		 * the store gives the cursor after the last of them. Should the
		 * data change meanwhile, each item is still bounded.
		 */
		json_decref(out);
		out = NULL;
		f.limit = (int)fitted;
		rc = store_ticket_list(server__store(r), &f, &out);
		if (rc != STORE_OK) {
			fl_buf_release(&b);
			server__store_error(r, rc, "tickets", NULL);
			return;
		}
		fl_buf_reset(&b);
		add_sla(server__store(r), out);
		encode_page(&b, out, !strcmp(view, "full"), false);
	}
	json_decref(out);
	server__reply_text(r, 200, "application/json", b.buf, b.len);
	fl_buf_release(&b);
}

static void events(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *out = NULL;
	int64_t limit;
	int rc;

	if (server__query_int(r, "limit", 1, 1000, 200, &limit))
		return;
	rc = store_event_list(server__store(r), id, (int)limit, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "ticket", id);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "events", out));
}

/* ---- the verbs ---- */

/*
 * Starts a change: opens the transaction and reads the ticket, checking the
 * body's "version" when given. On failure has answered and rolled back.
 */
json_t *server__change_begin(struct server_req *r, int64_t *version)
{
	const char *id = server__param(r, 0);
	struct store *st = server__store(r);
	json_t *t = NULL;
	bool given;
	int rc;

	*version = 0;
	if (server__body_int(r, "version", 1, INT64_MAX, version, &given))
		return NULL;
	rc = store_begin_immediate(st);
	if (rc == STORE_OK)
		rc = store_ticket_get(st, id, false, &t);
	if (rc != STORE_OK) {
		store_rollback(st);
		server__store_error(r, rc, "ticket", id);
		return NULL;
	}
	if (given && fl_json_int(t, "version", 0) != *version) {
		store_rollback(st);
		server__conflict(r, t, "ticket '%s' is at version %lld, not %lld: reload and retry", id,
				 (long long)fl_json_int(t, "version", 0), (long long)*version);
		return NULL;
	}
	*version = fl_json_int(t, "version", 0);
	return t;
}

/* Applies fields at version and commits; answers with the updated ticket. */
int server__change_commit(struct server_req *r, json_t *fields, int64_t version, json_t **updated)
{
	const char *id = server__param(r, 0);
	struct store *st = server__store(r);
	char *actor = server__actor(r);
	json_t *cur = NULL;
	int rc;

	*updated = NULL;
	rc = store_ticket_update(st, id, version, fields, actor, &cur);
	free(actor);
	if (rc == STORE_ECONFLICT) {
		store_rollback(st);
		server__conflict(r, cur, "ticket '%s' changed meanwhile: reload and retry", id);
		return -1;
	}
	if (rc != STORE_OK) {
		json_decref(cur);
		store_rollback(st);
		server__store_error(r, rc, "ticket", id);
		return -1;
	}
	*updated = cur;
	return 0;
}

int server__change_finish(struct server_req *r, json_t *ticket, unsigned status, json_t *extra)
{
	struct store *st = server__store(r);
	int rc = store_commit(st);

	if (rc != STORE_OK) {
		store_rollback(st);
		json_decref(ticket);
		json_decref(extra);
		server__store_error(r, rc, "ticket", server__param(r, 0));
		return -1;
	}
	server__notify_outbox(r);
	if (extra) {
		json_object_set_new(extra, "ticket", ticket);
		server__reply_json(r, status, extra);
	} else {
		server__reply_json(r, status, ticket);
	}
	return 0;
}

static int add_message(struct server_req *r, const char *direction, const char *body, json_t **msg)
{
	json_t *m = json_pack("{s:s, s:s, s:s}", "direction", direction, "author", r->auth.name,
			      "body", body);
	bool created;
	int rc = store_message_add(server__store(r), server__param(r, 0), m, msg, &created);

	json_decref(m);
	if (rc != STORE_OK) {
		store_rollback(server__store(r));
		server__store_error(r, rc, "ticket", server__param(r, 0));
		return -1;
	}
	return 0;
}

/*
 * An email to the ticket's customer, when the CRM knows an address; a
 * chat's reaches the visitor's stream, and is emailed only when the
 * visitor asked to continue by email.
 */
static int email_customer(struct server_req *r, const json_t *ticket, const char *subject,
			  const char *body, const char *effect)
{
	struct store *st = server__store(r);
	json_t *cust = NULL, *notices;
	const char *email;
	int rc;

	if (!strcmp(fl_json_str(ticket, "channel", ""), FL_CHANNEL_CHAT))
		email = server__chat_reply_address(r, ticket, &cust);
	else if (store_customer_get(st, fl_json_str(ticket, "customer_id", ""), &cust) != STORE_OK)
		return 0;
	else
		email = fl_json_str(cust, "email", NULL);
	if (!email || !*email) {
		json_decref(cust);
		return 0;
	}
	notices = json_array();
	support_notice_customer_email(notices, ticket, email, subject, body, effect);
	rc = support_notices_enqueue(st, notices);
	json_decref(notices);
	json_decref(cust);
	if (rc != STORE_OK) {
		store_rollback(st);
		server__store_error(r, rc, "notification", NULL);
		return -1;
	}
	return 0;
}

int server__reply_add(struct server_req *r, const json_t *t, const char *body, const json_t *pending, json_t *fields,
		      json_t **msg)
{
	const char *status = fl_json_str(t, "status", FL_STATUS_NEW);
	char now[32];

	if (add_message(r, "outbound", body, msg))
		return -1;
	/*
	 * answered: the ball is in the customer's court, unless already settled;
	 * pending (the SLA paused, a reminder due) when the agent says so or,
	 * saying nothing, when the reply ends with a question (text_asks_question)
	 */
	if (strcmp(status, FL_STATUS_RESOLVED) && strcmp(status, FL_STATUS_CLOSED))
		json_object_set_new(fields, "status", json_string((pending ? json_is_true(pending) : text_asks_question(body))
								  ? FL_STATUS_PENDING : FL_STATUS_WAITING));
	if (json_is_null(json_object_get(t, "first_response_at")) || !json_object_get(t, "first_response_at")) {
		fl_time_rfc3339(now, fl_wall_us());
		json_object_set_new(fields, "first_response_at", json_string(now));
	}
	return 0;
}

int server__reply_email(struct server_req *r, const json_t *t, const json_t *updated, const char *body,
			const json_t *msg)
{
	char *subject = fl_asprintf("Re: %s", fl_json_str(t, "subject", ""));
	char *effect = fl_asprintf("reply:%lld", (long long)fl_json_int(msg, "id", 0));
	int bad = email_customer(r, updated, subject, body, effect);

	free(subject);
	free(effect);
	return bad;
}

static void reply(struct server_req *r)
{
	const char *body;
	json_t *t = NULL, *msg = NULL, *fields = NULL, *updated = NULL;
	int64_t version;
	const json_t *pending = json_object_get(r->json, "pending");

	if (pending && !json_is_boolean(pending)) {
		server__unprocessable(r, "pending", NULL, "'pending' must be true or false");
		return;
	}
	if (server__body_str(r, "body", true, MAX_TEXT, &body) || !(t = server__change_begin(r, &version)))
		return;
	fields = json_object();
	if (server__reply_add(r, t, body, pending, fields, &msg) || server__change_commit(r, fields, version, &updated))
		goto out;
	if (server__reply_email(r, t, updated, body, msg))
		goto out;
	server__change_finish(r, updated, 201, json_pack("{s:O}", "message", msg));
	updated = NULL;
out:
	json_decref(updated);
	json_decref(fields);
	json_decref(t);
	json_decref(msg);
}

static void note(struct server_req *r)
{
	const char *body;
	json_t *t = NULL, *msg = NULL;
	int64_t version;

	if (server__body_str(r, "body", true, MAX_TEXT, &body) || !(t = server__change_begin(r, &version)))
		return;
	if (add_message(r, "note", body, &msg))
		goto out;
	server__change_finish(r, json_incref(t), 201, json_pack("{s:O}", "message", msg));
out:
	json_decref(t);
	json_decref(msg);
}

void server__ticket_assign(struct server_req *r)
{
	const char *assignee, *department;
	json_t *t = NULL, *fields, *updated = NULL;
	int64_t version;

	if (!json_object_get(r->json, "assignee")) {
		server__unprocessable(r, "assignee", NULL, "'assignee' is required (null unassigns)");
		return;
	}
	if (server__body_str(r, "assignee", false, 200, &assignee) ||
	    server__body_str(r, "department", false, 200, &department) ||
	    !(t = server__change_begin(r, &version)))
		return;
	fields = json_pack("{s:s?}", "assignee", assignee);
	if (!assignee)
		json_object_set_new(fields, "assignee", json_null());
	if (department)
		json_object_set_new(fields, "assigned_department", json_string(department));
	if (!server__change_commit(r, fields, version, &updated))
		server__change_finish(r, updated, 200, NULL);
	json_decref(fields);
	json_decref(t);
}

/* Closes the ticket's open or claimed escalation, if any. */
static int close_escalation(struct server_req *r, const char *ticket_id, const char *resolution)
{
	struct store *st = server__store(r);
	json_t *list = NULL, *e;
	size_t i;
	int rc = store_escalation_list(st, NULL, 1000, &list);

	json_array_foreach(list, i, e) {
		if (rc != STORE_OK)
			break;
		if (!strcmp(fl_json_str(e, "ticket_id", ""), ticket_id)) {
			json_t *closed = NULL;

			rc = store_escalation_close(st, fl_json_int(e, "id", 0), resolution, &closed);
			json_decref(closed);
		}
	}
	json_decref(list);
	if (rc != STORE_OK) {
		store_rollback(st);
		server__store_error(r, rc, "escalation", NULL);
		return -1;
	}
	return 0;
}

void server__ticket_resolve(struct server_req *r)
{
	const char *resolution;
	json_t *t = NULL, *fields = NULL, *updated = NULL, *msg = NULL;
	double satisfaction = 0;
	bool has_sat, notify_customer = fl_json_bool(r->json, "notify_customer", true);
	int64_t version;
	char now[32], occurrence[32];

	if (server__body_str(r, "resolution", false, MAX_TEXT, &resolution) ||
	    server__body_num(r, "satisfaction", 0, 1, &satisfaction, &has_sat) ||
	    !(t = server__change_begin(r, &version)))
		return;
	if (!strcmp(fl_json_str(t, "status", ""), FL_STATUS_RESOLVED) && !has_sat && !resolution) {
		/* already resolved: saying so again changes nothing */
		store_rollback(server__store(r));
		server__reply_json(r, 200, t);
		return;
	}
	if (resolution && add_message(r, "note", resolution, &msg))
		goto out;
	fl_time_rfc3339(now, fl_wall_us());
	fields = json_pack("{s:s, s:s}", "status", FL_STATUS_RESOLVED, "resolved_at", now);
	if (has_sat)
		json_object_set_new(fields, "satisfaction", json_real(satisfaction));
	if (close_escalation(r, fl_json_str(t, "id", ""), resolution ? resolution : "ticket resolved"))
		goto out;
	if (server__change_commit(r, fields, version, &updated))
		goto out;
	snprintf(occurrence, sizeof(occurrence), "v%lld", (long long)fl_json_int(updated, "version", 0));
	if (support_ticket_event(server__store(r), FL_EVENT_TICKET_RESOLVED, updated, occurrence) != STORE_OK ||
	    support_survey_schedule(server__store(r), updated, fl_wall_us()) != STORE_OK) {
		store_rollback(server__store(r));
		server__store_error(r, STORE_EIO, "notification", NULL);
		goto out;
	}
	if (notify_customer) {
		char *body = fl_asprintf("Hello,\n\nyour support ticket \"%s\" has been resolved.%s%s\n\n"
					 "If anything is still wrong, just reply to this email and the "
					 "ticket will be reopened.\n",
					 fl_json_str(t, "subject", ""), resolution ? "\n\n" : "",
					 resolution ? resolution : "");
		char *effect = fl_asprintf("resolved:v%lld", (long long)fl_json_int(updated, "version", 0));
		int bad = email_customer(r, updated, "Your support ticket has been resolved", body, effect);

		free(body);
		free(effect);
		if (bad)
			goto out;
	}
	server__change_finish(r, updated, 200, NULL);
	updated = NULL;
out:
	json_decref(updated);
	json_decref(fields);
	json_decref(msg);
	json_decref(t);
}

static void reopen(struct server_req *r)
{
	const char *reason;
	json_t *t = NULL, *fields = NULL, *updated = NULL, *msg = NULL;
	const char *status;
	int64_t version;
	char occurrence[32];

	if (server__body_str(r, "reason", false, MAX_TEXT, &reason) || !(t = server__change_begin(r, &version)))
		return;
	status = fl_json_str(t, "status", "");
	if (strcmp(status, FL_STATUS_RESOLVED) && strcmp(status, FL_STATUS_CLOSED)) {
		store_rollback(server__store(r));
		server__conflict(r, t, "ticket '%s' is %s, not resolved or closed", server__param(r, 0), status);
		return;
	}
	if (reason && add_message(r, "note", reason, &msg))
		goto out;
	/* back with a human: it needs an agent's attention again */
	fields = json_pack("{s:s, s:n}", "status", FL_STATUS_ESCALATED, "resolved_at");
	if (server__change_commit(r, fields, version, &updated))
		goto out;
	snprintf(occurrence, sizeof(occurrence), "v%lld", (long long)fl_json_int(updated, "version", 0));
	if (support_ticket_event(server__store(r), FL_EVENT_TICKET_REOPENED, updated, occurrence) != STORE_OK) {
		store_rollback(server__store(r));
		server__store_error(r, STORE_EIO, "notification", NULL);
		goto out;
	}
	server__change_finish(r, updated, 200, NULL);
	updated = NULL;
out:
	json_decref(updated);
	json_decref(fields);
	json_decref(msg);
	json_decref(t);
}

#define BODY SERVER_ROUTE_JSON_BODY
#define OPT_BODY (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__ticket_routes[] = {
	{ "POST", "/api/v1/tickets", create, SERVER_ROLE_INTEGRATION, BODY | SERVER_ROUTE_NO_STORE,
	  "create a ticket (idempotent on id or Idempotency-Key)" },
	{ "GET", "/api/v1/tickets", list, SERVER_ROLE_AGENT, 0,
	  "list tickets as summaries (view=full: the records): filters, full-text q, keyset pagination" },
	{ "GET", "/api/v1/tickets/{id}", get, SERVER_ROLE_INTEGRATION, 0,
	  "a ticket with its thread, analysis and trace" },
	{ "GET", "/api/v1/tickets/{id}/events", events, SERVER_ROLE_AGENT, 0,
	  "the ticket's audit events, oldest first" },
	{ "POST", "/api/v1/tickets/{id}/replies", reply, SERVER_ROLE_AGENT, BODY,
	  "reply to the customer (emailed when the CRM knows the address)" },
	{ "POST", "/api/v1/tickets/{id}/notes", note, SERVER_ROLE_AGENT, BODY,
	  "add an internal note" },
	{ "POST", "/api/v1/tickets/{id}/assign", server__ticket_assign, SERVER_ROLE_AGENT, BODY,
	  "assign to an agent (null unassigns) and optionally a department" },
	{ "POST", "/api/v1/tickets/{id}/resolve", server__ticket_resolve, SERVER_ROLE_AGENT, OPT_BODY,
	  "resolve, closing its escalation and telling the customer" },
	{ "POST", "/api/v1/tickets/{id}/reopen", reopen, SERVER_ROLE_AGENT, OPT_BODY,
	  "reopen a resolved or closed ticket" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
