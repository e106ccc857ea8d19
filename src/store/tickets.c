/*
 * Tickets and their threads, for both SQL backends (dialect.h). Intake
 * writes the ticket, its first message, its job, its "ticket.created" event
 * and its Idempotency-Key in one transaction (or, inside the caller's, with
 * no savepoint of its own: see store__sql_tx_begin_flat), so a crash leaves
 * all of them or none; how a ticket gets its number is the dialect's
 * (ticket_insert). Lists are newest-first keyset pages on the ticket number;
 * the full-text part of a search is the dialect's (search). Updates check
 * the version (on PostgreSQL under the row's lock) and write audit events.
 * Import is each backend's: SQLite inserts row by row, PostgreSQL in
 * batches.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

#define TICKET_SELECT "SELECT " STORE__TICKET_COLS " FROM tickets t WHERE t.number = ?"
#define MESSAGE_SELECT "SELECT " STORE__MESSAGE_COLS \
	" FROM messages m JOIN tickets t ON t.number = m.ticket_number"

int store__sql_ticket_number(struct store__sql *c, const char *ref, int64_t *number)
{
	int64_t n = store__parse_number(ref);
	int rc;

	if (n > 0)
		rc = store__sql_int(c, number, "SELECT number FROM tickets WHERE number = ?", "i", n);
	else
		rc = store__sql_int(c, number, "SELECT number FROM tickets WHERE id = ?", "t", ref);
	if (rc == STORE_ENOTFOUND)
		return store__fail(&c->base, rc, "ticket '%s' not found", ref);
	return rc;
}

int store__sql_ticket_load(struct store__sql *c, int64_t number, json_t **out)
{
	int rc = store__sql_one(c, store__ticket_json, out, TICKET_SELECT, "i", number);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&c->base, rc, "ticket %lld not found", (long long)number);
	return rc;
}

#define TICKET_INSERT \
	"INSERT INTO tickets (number, id, external_id, channel, customer_id, subject, content, metadata," \
	" status, sentiment, category, priority, assigned_department, assignee, created_at, updated_at," \
	" first_response_at, resolved_at, satisfaction)" \
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

int store__sql_ticket_row_insert(struct store__sql *c, const struct store__ticket_in *in,
				 int64_t number, const char *id, int64_t now, bool or_nothing, int *changes)
{
	return store__sql_exec(c, changes, or_nothing ? TICKET_INSERT " ON CONFLICT DO NOTHING" : TICKET_INSERT,
			       "itttttttttttttiijje", number, id, in->external_id, in->channel,
			       in->customer_id, in->subject, in->content, in->metadata, in->status,
			       in->sentiment, in->category, in->priority, in->assigned_department,
			       in->assignee, in->created_at, now > in->created_at ? now : in->created_at,
			       in->first_response_at, in->resolved_at, in->satisfaction);
}

int store__sql_first_message_insert(struct store__sql *c, const struct store__ticket_in *in,
				    int64_t number)
{
	return store__sql_exec(c, NULL, "INSERT INTO messages (ticket_number, direction, author, body,"
			       " created_at, email_message_id, in_reply_to, metadata)"
			       " VALUES (?, 'inbound', ?, ?, ?, ?, ?, ?)",
			       "ittittt", number, in->msg_author, in->content, in->created_at,
			       in->msg_email_id, in->msg_in_reply_to, in->msg_metadata);
}

/* Appends an audit event; takes data. */
static int add_event(struct store__sql *c, int64_t number, const char *type, const char *actor,
		     json_t *data, int64_t now)
{
	char *text = fl_json_dumps(data);
	int rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", number, type, actor, text, now);

	free(text);
	json_decref(data);
	return rc;
}

int store__sql_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
			     const char *idem_key, json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__ticket_in in;
	int64_t number = 0, now = store__now(st);
	bool made = false;
	json_t *t = NULL;
	char gen[32];
	const char *id = NULL;
	int rc;

	rc = store__ticket_in_parse(st, ticket, false, &in);
	if (rc)
		goto out;
	rc = store__sql_tx_begin_flat(c);
	if (rc)
		goto out;
	rc = c->d->ticket_insert(c, &in, idem_key, now, &number, &made, gen, &id);
	if (!rc && made && job_kind) {
		char *dedupe;

		store__format_number(gen, number);
		dedupe = fl_asprintf("%s:%s", job_kind, gen);
		rc = store__sql_exec(c, NULL, STORE__SQL_JOB_INSERT, "tjtiiitii", job_kind, number, "{}",
				     (int64_t)5, now, now, dedupe, now, now);
		free(dedupe);
	}
	if (!rc && made)
		rc = add_event(c, number, FL_EVENT_TICKET_CREATED, "intake",
			       json_pack("{s:s, s:s?}", "channel", in.channel, "external_id", in.external_id),
			       now);
	/*
	 * What a read-back would decode, without reading it back, where the
	 * dialect keeps JSON as given: jsonb reorders the metadata's keys and
	 * rewrites its numbers (a real like 1e300 comes back as 301 digits).
	 */
	if (!rc && made && c->d->json_verbatim)
		t = store__ticket_inserted(&in, number, id, now > in.created_at ? now : in.created_at);
	else if (!rc)
		rc = store__sql_ticket_load(c, number, &t);
	rc = store__sql_tx_end(c, rc);
out:
	store__ticket_in_release(&in);
	if (rc) {
		json_decref(t);
		return rc;
	}
	if (created)
		*created = made;
	if (out)
		*out = t;
	else
		json_decref(t);
	return STORE_OK;
}

int store__sql_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *t = NULL, *msgs = NULL;
	int64_t number;
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, id, &number);
	if (!rc)
		rc = store__sql_ticket_load(c, number, &t);
	if (!rc && with_thread) {
		rc = store__sql_rows(c, store__message_json, &msgs,
				     MESSAGE_SELECT " WHERE m.ticket_number = ? ORDER BY m.id", "i", number);
		if (!rc)
			json_object_set_new(t, "messages", msgs);
		else
			json_decref(msgs);
	}
	rc = store__sql_read_end(c, rc);
	if (rc) {
		json_decref(t);
		return rc;
	}
	*out = t;
	return STORE_OK;
}

static struct store__val text_val(const char *s)
{
	struct store__val v = { .kind = 't', .s = s, .null = !s };

	return v;
}

static struct store__val int_val(int64_t i)
{
	struct store__val v = { .kind = 'i', .i = i };

	return v;
}

int store__sql_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct { const char *col, *val; } eq[] = {
		{ "t.status", f->status }, { "t.priority", f->priority }, { "t.category", f->category },
		{ "t.channel", f->channel }, { "t.assignee", f->unassigned ? NULL : f->assignee },
		{ "t.customer_id", f->customer_id }, { "t.assigned_department", f->department },
		{ "t.language", f->language },
	};
	struct store__val v[12];
	struct store__cur cur;
	struct fl_buf sql = FL_BUF_INIT;
	json_t *words = store__query_words(f->query), *list = json_array(), *page;
	const char *key = "t.number";
	char *match = NULL;
	int64_t cursor = 0, last = 0;
	int limit = store__clamp_limit(f->limit, 50, 500), rc, i, n = 0, rows = 0;
	size_t k;

	if (f->cursor && store__cursor_decode(f->cursor, &cursor)) {
		rc = store__fail(st, STORE_EINVAL, "malformed cursor '%s'", f->cursor);
		goto out;
	}
	if (f->summary)
		fl_buf_addf(&sql, "SELECT " STORE__TICKET_SUMMARY_HEAD "%s" STORE__TICKET_SUMMARY_TAIL " ",
			    c->d->analysis_summary);
	else
		fl_buf_adds(&sql, "SELECT " STORE__TICKET_LIST_COLS " ");
	if (words) {
		rc = c->d->search(c, words, &sql, &match, &key);
		if (rc)
			goto out;
		v[n++] = text_val(match);
	} else {
		fl_buf_adds(&sql, "FROM tickets t WHERE true");
	}
	if (cursor) {
		fl_buf_addf(&sql, " AND %s < ?", key);
		v[n++] = int_val(cursor);
	}
	for (k = 0; k < FL_ARRAY_SIZE(eq); k++) {
		if (!eq[k].val)
			continue;
		fl_buf_addf(&sql, " AND %s = ?", eq[k].col);
		v[n++] = text_val(eq[k].val);
	}
	/* the queues: the terms of their partial indexes, word for word (store_int.h) */
	if (f->unassigned)
		fl_buf_adds(&sql, " AND t.assignee IS NULL");
	if (f->open)
		fl_buf_adds(&sql, " AND " STORE__TICKET_OPEN);
	fl_buf_addf(&sql, " ORDER BY %s DESC LIMIT ?", key);
	v[n++] = int_val(limit + 1);
	rc = store__sql_query_vals(c, &cur, sql.buf, v, n);
	if (rc)
		goto out;
	while ((i = store__sql_step(c, &cur)) > 0) {
		if (rows++ == limit)
			break;
		last = cur.row.ops->i64(&cur.row, 0);
		json_array_append_new(list, store__ticket_json(&cur.row));
	}
	store__sql_done(c, &cur);
	if (i < 0) {
		rc = -i;
		goto out;
	}
	page = json_pack("{s:O, s:o}", "tickets", list, "next_cursor", json_null());
	if (rows > limit) {
		char *next = store__cursor_encode(last);

		json_object_set_new(page, "next_cursor", json_string(next));
		free(next);
	}
	*out = page;
out:
	json_decref(words);
	json_decref(list);
	free(match);
	fl_buf_release(&sql);
	return rc;
}

static const char update_sql[] =
	"UPDATE tickets SET"
	" status = CASE WHEN ?1::boolean THEN ?2::text ELSE status END,"
	" sentiment = CASE WHEN ?3::boolean THEN ?4::text ELSE sentiment END,"
	" category = CASE WHEN ?5::boolean THEN ?6::text ELSE category END,"
	" priority = CASE WHEN ?7::boolean THEN ?8::text ELSE priority END,"
	" assigned_department = CASE WHEN ?9::boolean THEN ?10::text ELSE assigned_department END,"
	" assignee = CASE WHEN ?11::boolean THEN ?12::text ELSE assignee END,"
	" subject = CASE WHEN ?13::boolean THEN ?14::text ELSE subject END,"
	" metadata = CASE WHEN ?15::boolean THEN ?16::jsonb ELSE metadata END,"
	" analysis = CASE WHEN ?17::boolean THEN ?18::jsonb ELSE analysis END,"
	" trace = CASE WHEN ?19::boolean THEN ?20::jsonb ELSE trace END,"
	" satisfaction = CASE WHEN ?21::boolean THEN ?22::float8 ELSE satisfaction END,"
	" first_response_at = CASE WHEN ?23::boolean THEN ?24::bigint ELSE first_response_at END,"
	" resolved_at = CASE WHEN ?25::boolean THEN ?26::bigint ELSE resolved_at END,"
	" quarantined = CASE WHEN ?27::boolean THEN ?28::boolean ELSE quarantined END,"
	" language = CASE WHEN ?29::boolean THEN ?30::text ELSE language END,"
	" version = version + 1, updated_at = ?31 WHERE number = ?32";

static int run_update(struct store__sql *c, const struct store__ticket_upd *u, int64_t now,
		      int64_t number)
{
	struct store__val v[2 * STORE__TF_COUNT + 2] = { 0 };
	struct store__cur cur;
	int f, rc;

	for (f = 0; f < STORE__TF_COUNT; f++) {
		const struct store__tval *tv = &u->v[f];
		struct store__val *x = &v[2 * f + 1];

		v[2 * f].kind = 'b';
		v[2 * f].i = tv->set;
		x->kind = 't';
		x->null = !tv->set || tv->null;
		if (x->null)
			continue;
		switch (store__tf_fields[f].kind) {
		case STORE__TEXT:
		case STORE__JSON:
			x->s = tv->s;
			break;
		case STORE__TIME:
			x->kind = 'i';
			x->i = tv->i;
			break;
		case STORE__BOOL:
			x->kind = 'b';
			x->i = tv->i ? 1 : 0;
			break;
		case STORE__REAL:
			x->kind = 'd';
			x->d = tv->d;
			break;
		}
	}
	v[2 * STORE__TF_COUNT] = int_val(now);
	v[2 * STORE__TF_COUNT + 1] = int_val(number);
	rc = store__sql_query_vals(c, &cur, update_sql, v, 2 * STORE__TF_COUNT + 2);
	if (rc)
		return rc;
	while ((rc = store__sql_step(c, &cur)) > 0)
		;
	store__sql_done(c, &cur);
	return -rc;
}

int store__sql_ticket_update(struct store *st, const char *id, int64_t expected_version,
			     const json_t *fields, const char *actor, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__ticket_upd upd = { 0 };
	int64_t number, now = store__now(st);
	json_t *cur = NULL, *t = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, id, &number);
	if (!rc) {
		rc = store__sql_one(c, store__ticket_json, &cur, TICKET_SELECT " FOR UPDATE", "i", number);
		if (rc == STORE_ENOTFOUND)
			rc = store__fail(st, rc, "ticket '%s' not found", id);
	}
	if (rc)
		goto end;
	if (expected_version && fl_json_int(cur, "version", 0) != expected_version) {
		rc = store__fail(st, STORE_ECONFLICT, "ticket '%s' is at version %lld, not %lld", id,
				 (long long)fl_json_int(cur, "version", 0), (long long)expected_version);
		goto end;
	}
	rc = store__ticket_upd_parse(st, cur, fields, &upd);
	/* a subject change edits SQLite's index: this transaction's new tickets go in first */
	if (!rc && c->d->flush)
		rc = c->d->flush(c);
	if (!rc)
		rc = run_update(c, &upd, now, number);
	if (!rc && json_array_size(upd.changed))
		rc = add_event(c, number, FL_EVENT_TICKET_UPDATED, actor,
			       json_pack("{s:O, s:I}", "fields", upd.changed, "version",
					 (json_int_t)fl_json_int(cur, "version", 0) + 1), now);
	if (!rc && upd.status_change)
		rc = add_event(c, number, FL_EVENT_TICKET_STATUS, actor, json_incref(upd.status_change), now);
	if (!rc && out)
		t = store__ticket_updated(cur, fields, &upd, now);
end:
	rc = store__sql_tx_end(c, rc);
	store__ticket_upd_release(&upd);
	if (rc == STORE_ECONFLICT && out) {
		*out = cur;
		cur = NULL;
	} else if (!rc && out) {
		*out = t;
		t = NULL;
	}
	json_decref(cur);
	json_decref(t);
	return rc;
}

/* ---- messages ---- */

/* The event a new message of direction writes. */
static const char *message_event(const char *direction)
{
	if (!strcmp(direction, "outbound"))
		return FL_EVENT_TICKET_REPLIED;
	if (!strcmp(direction, "note"))
		return FL_EVENT_TICKET_NOTED;
	return FL_EVENT_TICKET_CUSTOMER_REPLIED;
}

int store__sql_message_add(struct store *st, const char *ticket_id, const json_t *msg,
			   json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__message_in in;
	int64_t number, id = 0;
	bool made = false;
	json_t *m = NULL;
	int rc;

	rc = store__message_in_parse(st, msg, &in);
	if (rc)
		goto out;
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc) {
		/* an effect_key already used on the ticket names its message (a re-run's) */
		rc = store__sql_int(c, &id,
				    "INSERT INTO messages (ticket_number, direction, author, body, created_at,"
				    " email_message_id, in_reply_to, effect_key, metadata, approval)"
				    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				    " ON CONFLICT (ticket_number, effect_key) DO NOTHING RETURNING id",
				    "itttittttt", number, in.direction, in.author, in.body, in.created_at,
				    in.email_message_id, in.in_reply_to, in.effect_key, in.metadata, in.approval);
		made = rc == STORE_OK;
		if (rc == STORE_ENOTFOUND)
			rc = store__sql_int(c, &id, "SELECT id FROM messages WHERE ticket_number = ?"
					    " AND effect_key = ?", "it", number, in.effect_key);
	}
	/* a new message is an event of its ticket's (the live stream tells the console) */
	if (!rc && made)
		rc = add_event(c, number, message_event(in.direction), in.author,
			       json_pack("{s:I, s:s}", "message_id", (json_int_t)id, "direction", in.direction),
			       store__now(st));
	if (!rc)
		rc = store__sql_one(c, store__message_json, &m, MESSAGE_SELECT " WHERE m.id = ?", "i", id);
	rc = store__sql_tx_end(c, rc);
out:
	store__message_in_release(&in);
	if (rc) {
		json_decref(m);
		return rc;
	}
	if (created)
		*created = made;
	if (out)
		*out = m;
	else
		json_decref(m);
	return STORE_OK;
}

int store__sql_message_decide(struct store *st, const char *ticket_id, int64_t message_id,
			      const char *approval, const char *actor, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *m = NULL, *data = NULL;
	char *text = NULL;
	int64_t number;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc) {
		rc = store__sql_one(c, store__message_json, &m, MESSAGE_SELECT " WHERE m.id = ? AND m.ticket_number = ?"
				    " FOR UPDATE", "ii", message_id, number);
		if (rc == STORE_ENOTFOUND)
			rc = store__fail(st, rc, "ticket '%s' has no message %lld", ticket_id, (long long)message_id);
	}
	if (!rc && !fl_str_eq(fl_json_str(m, "approval", NULL), "pending"))
		rc = store__fail(st, STORE_ECONFLICT, "message %lld is %s, not pending", (long long)message_id,
				 fl_json_str(m, "approval", "not awaiting approval"));
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE messages SET approval = ? WHERE id = ?", "ti", approval,
				     message_id);
	if (!rc) {
		data = json_pack("{s:I, s:s}", "message_id", (json_int_t)message_id, "approval", approval);
		text = store__json_text(data, "{}");
		rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", number,
				     !strcmp(approval, "approved") ? FL_EVENT_MESSAGE_APPROVED : FL_EVENT_MESSAGE_DECLINED,
				     actor, text, store__now(st));
	}
	if (!rc) {
		json_decref(m);
		m = NULL;
		rc = store__sql_one(c, store__message_json, &m, MESSAGE_SELECT " WHERE m.id = ?", "i", message_id);
	}
	rc = store__sql_tx_end(c, rc);
	free(text);
	json_decref(data);
	if (out && (!rc || rc == STORE_ECONFLICT)) {
		*out = m;
		m = NULL;
	}
	json_decref(m);
	return rc;
}

int store__sql_message_list(struct store *st, const char *ticket_id, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_rows(c, store__message_json, out,
				     MESSAGE_SELECT " WHERE m.ticket_number = ? ORDER BY m.id", "i", number);
	rc = store__sql_read_end(c, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int store__sql_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_int(c, &number, "SELECT ticket_number FROM messages WHERE email_message_id = ?"
			    " ORDER BY id DESC LIMIT 1", "t", message_id);
	if (rc == STORE_ENOTFOUND)
		store__fail(st, rc, "no message with Message-ID '%s'", message_id);
	if (!rc)
		rc = store__sql_ticket_load(c, number, ticket);
	return store__sql_read_end(c, rc);
}
