/*
 * SQLite backend: tickets and their threads. Intake writes the ticket, its
 * first message, its job, its "ticket.created" event and its Idempotency-Key
 * in one transaction (BEGIN IMMEDIATE, or a savepoint inside the caller's),
 * so a crash leaves all of them or none. Lists are keyset-paginated on the
 * ticket number (the rowid), newest first; full-text queries are driven by
 * the FTS5 index in rowid order, so a page costs its own rows, not the whole
 * match set. Updates check the version and write audit events.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define TICKET_SELECT "SELECT " STORE__TICKET_COLS " FROM tickets t WHERE t.number = ?"
#define MESSAGE_SELECT "SELECT " STORE__MESSAGE_COLS \
	" FROM messages m JOIN tickets t ON t.number = m.ticket_number"

int sq_ticket_number(struct sq *q, const char *ref, int64_t *number)
{
	int64_t n = store__parse_number(ref);
	int rc;

	if (n > 0)
		rc = sq_int(q, number, "SELECT number FROM tickets WHERE number = ?", "i", n);
	else
		rc = sq_int(q, number, "SELECT number FROM tickets WHERE id = ?", "t", ref);
	if (rc == STORE_ENOTFOUND)
		return store__fail(&q->base, rc, "ticket '%s' not found", ref);
	return rc;
}

int sq_ticket_load(struct sq *q, int64_t number, json_t **out)
{
	int rc = sq_row(q, store__ticket_json, out, TICKET_SELECT, "i", number);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&q->base, rc, "ticket %lld not found", (long long)number);
	return rc;
}

/*
 * What insert_ticket needs to know before it inserts a ticket with an
 * external id, in one statement (each statement costs its own setup): the
 * ticket already stored under (channel, external_id), the highest number,
 * and whether a ticket has the external id as its id.
 */
#define LOOKUP_SQL \
	"SELECT (SELECT number FROM tickets WHERE channel = ?1 AND external_id = ?2)," \
	" (SELECT IFNULL(max(number), 0) FROM tickets)," \
	" (SELECT number FROM tickets WHERE id = ?2) IS NOT NULL"

/*
 * Inserts a parsed ticket and its first message unless (channel,
 * external_id) exists; then *created is false and *number the existing one.
 * *id (may be NULL) is the id stored: in->external_id or gen. The caller
 * holds the write transaction.
 */
static int insert_ticket(struct sq *q, const struct store__ticket_in *in, int64_t now,
			 int64_t *number, bool *created, char gen[32], const char **id_out)
{
	const char *id = NULL;
	int64_t n, max = 0;
	int rc;

	*created = false;
	if (in->external_id) {
		sqlite3_stmt *s;
		bool id_taken;

		rc = sq_prepare(q, LOOKUP_SQL, &s, "tt", in->channel, in->external_id);
		if (rc)
			return rc;
		rc = sq_step(q, s);
		if (rc <= 0) {
			sq_done(s);
			return rc ? -rc : store__fail(&q->base, STORE_EINTERNAL, "ticket lookup found no row");
		}
		if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
			*number = sqlite3_column_int64(s, 0);
			sq_done(s);
			return STORE_OK;
		}
		max = sqlite3_column_int64(s, 1);
		id_taken = sqlite3_column_int(s, 2);
		sq_done(s);
		if (!id_taken && !store__is_number_form(in->external_id))
			id = in->external_id;
	} else {
		rc = sq_int(q, &max, "SELECT IFNULL(max(number), 0) FROM tickets", NULL);
		if (rc)
			return rc;
	}
	n = max + 1;
	store__format_number(gen, n);
	if (!id)
		id = gen;
	rc = sq_exec(q, NULL,
		     "INSERT INTO tickets (number, id, external_id, channel, customer_id, subject, content,"
		     " metadata, status, sentiment, category, priority, assigned_department, assignee,"
		     " created_at, updated_at, first_response_at, resolved_at, satisfaction)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		     "itttttttttttttiijje", n, id, in->external_id, in->channel,
		     in->customer_id, in->subject, in->content, in->metadata, in->status, in->sentiment,
		     in->category, in->priority, in->assigned_department, in->assignee, in->created_at,
		     now > in->created_at ? now : in->created_at, in->first_response_at, in->resolved_at,
		     in->satisfaction);
	if (!rc)
		rc = sq_exec(q, NULL,
			     "INSERT INTO messages (ticket_number, direction, author, body, created_at,"
			     " email_message_id, in_reply_to, metadata) VALUES (?, 'inbound', ?, ?, ?, ?, ?, ?)",
			     "ittittt", n, in->msg_author, in->content, in->created_at, in->msg_email_id,
			     in->msg_in_reply_to, in->msg_metadata);
	if (!rc) {
		*number = n;
		*created = true;
		if (id_out)
			*id_out = id;
		sq_fts_add(q, n);
	}
	return rc;
}

void sq_fts_add(struct sq *q, int64_t number)
{
	if (q->fts_n == q->fts_cap) {
		q->fts_cap = q->fts_cap ? 2 * q->fts_cap : 64;
		q->fts_pending = fl_realloc(q->fts_pending, q->fts_cap * sizeof(*q->fts_pending));
	}
	q->fts_pending[q->fts_n++] = number;
}

int sq_fts_flush(struct sq *q)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	int rc;

	if (!q->fts_n)
		return STORE_OK;
	fl_buf_addch(&b, '[');
	for (i = 0; i < q->fts_n; i++)
		fl_buf_addf(&b, "%s%lld", i ? "," : "", (long long)q->fts_pending[i]);
	fl_buf_addch(&b, ']');
	rc = sq_exec(q, NULL,
		     "INSERT INTO tickets_fts (rowid, subject, content) SELECT number, subject, content"
		     " FROM tickets WHERE number IN (SELECT value FROM json_each(?))",
		     "t", b.buf);
	fl_buf_release(&b);
	if (!rc)
		q->fts_n = 0;
	return rc;
}

void sq_fts_forget(struct sq *q)
{
	q->fts_n = 0;
}

int sq_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
		     const char *idem_key, json_t **out, bool *created)
{
	struct sq *q = SQ(st);
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
	rc = sq_tx_begin_flat(q);
	if (rc)
		goto out;
	if (idem_key) {
		rc = sq_int(q, &number, "SELECT ticket_number FROM idempotency_keys WHERE key = ?", "t",
			    idem_key);
		if (rc == STORE_OK)
			goto load;
		if (rc != STORE_ENOTFOUND)
			goto end;
	}
	rc = insert_ticket(q, &in, now, &number, &made, gen, &id);
	if (!rc && made && job_kind) {
		char *dedupe = fl_asprintf("%s:%s", job_kind, gen);

		rc = sq_exec(q, NULL, SQ_JOB_INSERT, "tjtiiitii", job_kind, number, "{}", (int64_t)5, now,
			     now, dedupe, now, now);
		free(dedupe);
	}
	if (!rc && made) {
		json_t *data = json_pack("{s:s, s:s?}", "channel", in.channel, "external_id", in.external_id);
		char *text = fl_json_dumps(data);

		rc = sq_exec(q, NULL, SQ_EVENT_INSERT, "jttti", number, "ticket.created", "intake", text, now);
		free(text);
		json_decref(data);
	}
	if (!rc && idem_key)
		rc = sq_exec(q, NULL, "INSERT INTO idempotency_keys (key, ticket_number, created_at) VALUES (?, ?, ?)",
			     "tii", idem_key, number, now);
	if (rc)
		goto end;
	if (made) {
		/* what a read-back would decode, without reading it back */
		t = store__ticket_inserted(&in, number, id, now > in.created_at ? now : in.created_at);
		goto end;
	}
load:
	rc = sq_ticket_load(q, number, &t);
end:
	rc = sq_tx_end(q, rc);
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

int sq_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out)
{
	struct sq *q = SQ(st);
	json_t *t = NULL, *msgs = NULL;
	int64_t number;
	int rc;

	rc = sq_tx_begin(q, false);
	if (rc)
		return rc;
	rc = sq_ticket_number(q, id, &number);
	if (!rc)
		rc = sq_ticket_load(q, number, &t);
	if (!rc && with_thread) {
		rc = sq_rows(q, store__message_json, &msgs, MESSAGE_SELECT " WHERE m.ticket_number = ? ORDER BY m.id",
			     "i", number);
		if (!rc)
			json_object_set_new(t, "messages", msgs);
		else
			json_decref(msgs);
	}
	rc = sq_tx_end(q, rc);
	if (rc) {
		json_decref(t);
		return rc;
	}
	*out = t;
	return STORE_OK;
}

static char *fts_query(const json_t *words)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	json_t *w;

	json_array_foreach(words, i, w)
		fl_buf_addf(&b, "%s\"%s\"", i ? " " : "", json_string_value(w));
	return fl_buf_detach(&b, NULL);
}

int sq_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out)
{
	struct sq *q = SQ(st);
	struct { const char *col, *val; } eq[] = {
		{ "t.status", f->status }, { "t.priority", f->priority }, { "t.category", f->category },
		{ "t.channel", f->channel }, { "t.assignee", f->assignee }, { "t.customer_id", f->customer_id },
	};
	struct fl_buf sql = FL_BUF_INIT;
	json_t *words = store__query_words(f->query), *list = json_array(), *page;
	char *match = NULL;
	int64_t cursor = 0, last = 0;
	int limit = store__clamp_limit(f->limit, 50, 500), rc, i, p = 1, n = 0;
	sqlite3_stmt *s = NULL;
	size_t k;

	if (f->cursor && store__cursor_decode(f->cursor, &cursor)) {
		rc = store__fail(st, STORE_EINVAL, "malformed cursor '%s'", f->cursor);
		goto out;
	}
	if (words) {
		/* a search inside a transaction sees the tickets it inserted */
		rc = sq_fts_flush(q);
		if (rc)
			goto out;
		match = fts_query(words);
		fl_buf_adds(&sql, "SELECT " STORE__TICKET_LIST_COLS " FROM tickets_fts"
			    " JOIN tickets t ON t.number = tickets_fts.rowid WHERE tickets_fts MATCH ?");
		if (cursor)
			fl_buf_adds(&sql, " AND tickets_fts.rowid < ?");
	} else {
		fl_buf_adds(&sql, "SELECT " STORE__TICKET_LIST_COLS " FROM tickets t WHERE 1");
		if (cursor)
			fl_buf_adds(&sql, " AND t.number < ?");
	}
	for (k = 0; k < FL_ARRAY_SIZE(eq); k++)
		if (eq[k].val)
			fl_buf_addf(&sql, " AND %s = ?", eq[k].col);
	fl_buf_adds(&sql, words ? " ORDER BY tickets_fts.rowid DESC LIMIT ?" : " ORDER BY t.number DESC LIMIT ?");
	rc = sq_prepare(q, sql.buf, &s, NULL);
	if (rc)
		goto out;
	if (match)
		sqlite3_bind_text(s, p++, match, -1, SQLITE_TRANSIENT);
	if (cursor)
		sqlite3_bind_int64(s, p++, cursor);
	for (k = 0; k < FL_ARRAY_SIZE(eq); k++)
		if (eq[k].val)
			sqlite3_bind_text(s, p++, eq[k].val, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(s, p, limit + 1);
	while ((i = sq_step(q, s)) > 0) {
		struct store__row r = sq_row_of(s);

		if (n++ == limit)
			break;
		last = sqlite3_column_int64(s, 0);
		json_array_append_new(list, store__ticket_json(&r));
	}
	sq_done(s);
	if (i < 0) {
		rc = -i;
		goto out;
	}
	page = json_pack("{s:O, s:o}", "tickets", list, "next_cursor", json_null());
	if (n > limit) {
		char *c = store__cursor_encode(last);

		json_object_set_new(page, "next_cursor", json_string(c));
		free(c);
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
	" status = CASE WHEN ?1 THEN ?2 ELSE status END,"
	" sentiment = CASE WHEN ?3 THEN ?4 ELSE sentiment END,"
	" category = CASE WHEN ?5 THEN ?6 ELSE category END,"
	" priority = CASE WHEN ?7 THEN ?8 ELSE priority END,"
	" assigned_department = CASE WHEN ?9 THEN ?10 ELSE assigned_department END,"
	" assignee = CASE WHEN ?11 THEN ?12 ELSE assignee END,"
	" subject = CASE WHEN ?13 THEN ?14 ELSE subject END,"
	" metadata = CASE WHEN ?15 THEN ?16 ELSE metadata END,"
	" analysis = CASE WHEN ?17 THEN ?18 ELSE analysis END,"
	" trace = CASE WHEN ?19 THEN ?20 ELSE trace END,"
	" satisfaction = CASE WHEN ?21 THEN ?22 ELSE satisfaction END,"
	" first_response_at = CASE WHEN ?23 THEN ?24 ELSE first_response_at END,"
	" resolved_at = CASE WHEN ?25 THEN ?26 ELSE resolved_at END,"
	" quarantined = CASE WHEN ?27 THEN ?28 ELSE quarantined END,"
	" version = version + 1, updated_at = ?29 WHERE number = ?30";

static int bind_update(sqlite3_stmt *s, const struct store__ticket_upd *u, int64_t now, int64_t number)
{
	int f, rc = SQLITE_OK;

	for (f = 0; f < STORE__TF_COUNT && rc == SQLITE_OK; f++) {
		const struct store__tval *v = &u->v[f];
		int i = 2 * f + 1;

		rc = sqlite3_bind_int(s, i, v->set);
		if (rc != SQLITE_OK || !v->set)
			continue;
		if (v->null) {
			rc = sqlite3_bind_null(s, i + 1);
			continue;
		}
		switch (store__tf_fields[f].kind) {
		case STORE__TEXT:
		case STORE__JSON:
			rc = sqlite3_bind_text(s, i + 1, v->s, -1, SQLITE_TRANSIENT);
			break;
		case STORE__TIME:
		case STORE__BOOL:
			rc = sqlite3_bind_int64(s, i + 1, v->i);
			break;
		case STORE__REAL:
			rc = sqlite3_bind_double(s, i + 1, v->d);
			break;
		}
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 29, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 30, number);
	return rc;
}

/* Appends an audit event; takes data. */
static int add_event(struct sq *q, int64_t number, const char *type, const char *actor,
		     json_t *data, int64_t now)
{
	char *text = fl_json_dumps(data);
	int rc = sq_exec(q, NULL, SQ_EVENT_INSERT, "jttti", number, type, actor, text, now);

	free(text);
	json_decref(data);
	return rc;
}

int sq_ticket_update(struct store *st, const char *id, int64_t expected_version,
		     const json_t *fields, const char *actor, json_t **out)
{
	struct sq *q = SQ(st);
	struct store__ticket_upd upd = { 0 };
	int64_t number, now = store__now(st);
	json_t *cur = NULL, *t = NULL;
	sqlite3_stmt *s;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_ticket_number(q, id, &number);
	if (!rc)
		rc = sq_ticket_load(q, number, &cur);
	if (rc)
		goto end;
	if (expected_version && fl_json_int(cur, "version", 0) != expected_version) {
		rc = store__fail(st, STORE_ECONFLICT, "ticket '%s' is at version %lld, not %lld", id,
				 (long long)fl_json_int(cur, "version", 0), (long long)expected_version);
		goto end;
	}
	rc = store__ticket_upd_parse(st, cur, fields, &upd);
	/* the subject's trigger edits the index: this transaction's new tickets go in first */
	if (!rc)
		rc = sq_fts_flush(q);
	if (rc)
		goto end;
	rc = sq_prepare(q, update_sql, &s, NULL);
	if (rc)
		goto end;
	rc = bind_update(s, &upd, now, number);
	rc = rc == SQLITE_OK ? -sq_step(q, s) : sq_fail(q, rc);
	sq_done(s);
	if (!rc && json_array_size(upd.changed))
		rc = add_event(q, number, "ticket.updated", actor,
			       json_pack("{s:O, s:I}", "fields", upd.changed, "version",
					 (json_int_t)fl_json_int(cur, "version", 0) + 1), now);
	if (!rc && upd.status_change)
		rc = add_event(q, number, "ticket.status", actor, json_incref(upd.status_change), now);
	if (!rc && out)
		t = store__ticket_updated(cur, fields, &upd, now);
end:
	rc = sq_tx_end(q, rc);
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

int sq_ticket_import(struct store *st, const json_t *tickets, size_t *imported)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	size_t i, count = 0;
	json_t *t;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	json_array_foreach(tickets, i, t) {
		struct store__ticket_in in;
		int64_t number;
		bool made;

		rc = store__ticket_in_parse(st, t, true, &in);
		if (rc) {
			char *why = fl_strdup(st->err.buf);

			store__fail(st, rc, "ticket %zu: %s", i, why);
			free(why);
		} else {
			char gen[32];

			rc = insert_ticket(q, &in, now, &number, &made, gen, NULL);
		}
		store__ticket_in_release(&in);
		if (rc)
			break;
		count += made;
	}
	rc = sq_tx_end(q, rc);
	if (!rc && imported)
		*imported = count;
	return rc;
}

/* ---- messages ---- */

int sq_message_add(struct store *st, const char *ticket_id, const json_t *msg, json_t **out,
		   bool *created)
{
	struct sq *q = SQ(st);
	struct store__message_in in;
	int64_t number, id = 0;
	bool made = false;
	json_t *m = NULL;
	int rc;

	rc = store__message_in_parse(st, msg, &in);
	if (rc)
		goto out;
	rc = sq_tx_begin(q, true);
	if (rc)
		goto out;
	rc = sq_ticket_number(q, ticket_id, &number);
	if (!rc && in.effect_key) {
		rc = sq_int(q, &id, "SELECT id FROM messages WHERE ticket_number = ? AND effect_key = ?",
			    "it", number, in.effect_key);
		if (rc == STORE_ENOTFOUND)
			rc = STORE_OK, id = 0;
	}
	if (!rc && !id) {
		rc = sq_exec(q, NULL,
			     "INSERT INTO messages (ticket_number, direction, author, body, created_at,"
			     " email_message_id, in_reply_to, effect_key, metadata)"
			     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			     "itttitttt", number, in.direction, in.author, in.body, in.created_at,
			     in.email_message_id, in.in_reply_to, in.effect_key, in.metadata);
		id = sqlite3_last_insert_rowid(q->db);
		made = !rc;
	}
	if (!rc)
		rc = sq_row(q, store__message_json, &m, MESSAGE_SELECT " WHERE m.id = ?", "i", id);
	rc = sq_tx_end(q, rc);
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

int sq_message_list(struct store *st, const char *ticket_id, json_t **out)
{
	struct sq *q = SQ(st);
	int64_t number;
	int rc;

	rc = sq_tx_begin(q, false);
	if (rc)
		return rc;
	rc = sq_ticket_number(q, ticket_id, &number);
	if (!rc)
		rc = sq_rows(q, store__message_json, out, MESSAGE_SELECT " WHERE m.ticket_number = ? ORDER BY m.id",
			     "i", number);
	rc = sq_tx_end(q, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int sq_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket)
{
	struct sq *q = SQ(st);
	int64_t number;
	int rc;

	rc = sq_tx_begin(q, false);
	if (rc)
		return rc;
	rc = sq_int(q, &number, "SELECT ticket_number FROM messages WHERE email_message_id = ?"
		    " ORDER BY id DESC LIMIT 1", "t", message_id);
	if (rc == STORE_ENOTFOUND)
		store__fail(st, rc, "no message with Message-ID '%s'", message_id);
	if (!rc)
		rc = sq_ticket_load(q, number, ticket);
	return sq_tx_end(q, rc);
}
