/*
 * PostgreSQL backend: tickets and their threads. Intake relies on the
 * unique constraints: INSERT ... ON CONFLICT DO NOTHING waits for a
 * concurrent writer of the same (channel, external_id) and then sees its
 * ticket, so replicas taking the same webhook twice make one ticket.
 * Updates lock the row (SELECT ... FOR UPDATE) before checking the version.
 * Lists are keyset pages on the ticket number; search uses the stored
 * tsvector. Import is batched: one statement per 1,000 tickets.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define TICKET_SELECT "SELECT " STORE__TICKET_COLS " FROM tickets t WHERE t.number = $1"
#define MESSAGE_SELECT "SELECT " STORE__MESSAGE_COLS \
	" FROM messages m JOIN tickets t ON t.number = m.ticket_number"

int pg_ticket_number(struct pg *p, const char *ref, int64_t *number)
{
	int64_t n = store__parse_number(ref);
	int rc;

	if (n > 0)
		rc = pg_int(p, number, "SELECT number FROM tickets WHERE number = $1", "i", n);
	else
		rc = pg_int(p, number, "SELECT number FROM tickets WHERE id = $1", "t", ref);
	if (rc == STORE_ENOTFOUND)
		return store__fail(&p->base, rc, "ticket '%s' not found", ref);
	return rc;
}

int pg_ticket_load(struct pg *p, int64_t number, json_t **out)
{
	int rc = pg_row(p, store__ticket_json, out, TICKET_SELECT, "i", number);

	if (rc == STORE_ENOTFOUND)
		return store__fail(&p->base, rc, "ticket %lld not found", (long long)number);
	return rc;
}

/*
 * Records idem_key for ticket number; when another intake holds the key
 * already (its transaction committed first: ON CONFLICT waited for it),
 * *winner is its ticket, else 0. The key's foreign key is checked at commit,
 * so a key may name the number about to be inserted.
 */
static int claim_key(struct pg *p, const char *key, int64_t number, int64_t now, int64_t *winner)
{
	int changes = 0;
	int rc = pg_exec(p, &changes, "INSERT INTO idempotency_keys (key, ticket_number, created_at)"
			 " VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING", "tii", key, number, now);

	*winner = 0;
	if (!rc && !changes)
		rc = pg_int(p, winner, "SELECT ticket_number FROM idempotency_keys WHERE key = $1", "t", key);
	return rc;
}

/*
 * Inserts a parsed ticket and its first message (and its Idempotency-Key)
 * unless the key or (channel, external_id) is known: then *created is false
 * and *number the existing ticket. Nothing here needs a savepoint: a race
 * lost to another replica ends in ON CONFLICT DO NOTHING, not in an error.
 */
static int insert_ticket(struct pg *p, const struct store__ticket_in *in, const char *idem_key,
			 int64_t now, int64_t *number, bool *created)
{
	char gen[32];
	const char *id;
	int64_t n, winner = 0;
	int rc, changes = 0, attempt;

	*created = false;
	if (idem_key) {
		rc = pg_int(p, number, "SELECT ticket_number FROM idempotency_keys WHERE key = $1", "t", idem_key);
		if (rc != STORE_ENOTFOUND)
			return rc;
	}
	/* Repeats (webhook retries) are common: find them before taking a number. */
	if (in->external_id) {
		rc = pg_int(p, number, "SELECT number FROM tickets WHERE channel = $1 AND external_id = $2",
			    "tt", in->channel, in->external_id);
		if (rc == STORE_OK && idem_key && !(rc = claim_key(p, idem_key, *number, now, &winner)) && winner)
			*number = winner;
		if (rc != STORE_ENOTFOUND)
			return rc;
	}
	rc = pg_int(p, &n, "SELECT nextval('tickets_number_seq')", NULL);
	if (!rc && idem_key)
		rc = claim_key(p, idem_key, n, now, &winner);
	if (rc || winner) {
		*number = winner;
		return rc;
	}
	store__format_number(gen, n);
	id = in->external_id && !store__is_number_form(in->external_id) ? in->external_id : gen;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = pg_exec(p, &changes,
			     "INSERT INTO tickets (number, id, external_id, channel, customer_id, subject, content,"
			     " metadata, status, sentiment, category, priority, assigned_department, assignee,"
			     " created_at, updated_at, first_response_at, resolved_at, satisfaction)"
			     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
			     " $17, $18, $19) ON CONFLICT DO NOTHING",
			     "itttttttttttttiijje", n, id, in->external_id, in->channel, in->customer_id,
			     in->subject, in->content, in->metadata, in->status, in->sentiment, in->category,
			     in->priority, in->assigned_department, in->assignee, in->created_at,
			     now > in->created_at ? now : in->created_at, in->first_response_at,
			     in->resolved_at, in->satisfaction);
		if (rc || changes)
			break;
		/* Nothing inserted: another replica just took (channel, external_id), or the id. */
		if (in->external_id) {
			rc = pg_int(p, number, "SELECT number FROM tickets WHERE channel = $1 AND external_id = $2",
				    "tt", in->channel, in->external_id);
			if (rc == STORE_OK && idem_key)
				rc = pg_exec(p, NULL, "UPDATE idempotency_keys SET ticket_number = $1 WHERE key = $2",
					     "it", *number, idem_key);
			if (rc != STORE_ENOTFOUND)
				return rc;
			rc = STORE_OK;
		}
		id = gen;
	}
	if (!rc && !changes)
		rc = store__fail(&p->base, STORE_EINTERNAL, "cannot insert ticket %s", gen);
	if (!rc)
		rc = pg_exec(p, NULL,
			     "INSERT INTO messages (ticket_number, direction, author, body, created_at,"
			     " email_message_id, in_reply_to, metadata) VALUES ($1, 'inbound', $2, $3, $4, $5, $6, $7)",
			     "ittittt", n, in->msg_author, in->content, in->created_at, in->msg_email_id,
			     in->msg_in_reply_to, in->msg_metadata);
	if (!rc) {
		*number = n;
		*created = true;
	}
	return rc;
}

int pg_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
		     const char *idem_key, json_t **out, bool *created)
{
	struct pg *p = PG(st);
	struct store__ticket_in in;
	int64_t number = 0, now = store__now(st);
	bool made = false;
	json_t *t = NULL;
	int rc;

	rc = store__ticket_in_parse(st, ticket, false, &in);
	if (rc)
		goto out;
	rc = pg_tx_begin_flat(p);
	if (rc)
		goto out;
	rc = insert_ticket(p, &in, idem_key, now, &number, &made);
	if (!rc && made && job_kind) {
		char gen[32], *dedupe;

		store__format_number(gen, number);
		dedupe = fl_asprintf("%s:%s", job_kind, gen);
		rc = pg_exec(p, NULL, PG_JOB_INSERT, "tjtiiitii", job_kind, number, "{}", (int64_t)5, now, now,
			     dedupe, now, now);
		free(dedupe);
	}
	if (!rc && made) {
		json_t *data = json_pack("{s:s, s:s?}", "channel", in.channel, "external_id", in.external_id);
		char *text = fl_json_dumps(data);

		rc = pg_exec(p, NULL, PG_EVENT_INSERT, "jttti", number, "ticket.created", "intake", text, now);
		free(text);
		json_decref(data);
	}
	/*
	 * Read back, unlike SQLite's intake: jsonb reorders the metadata's keys and
	 * rewrites its numbers (a real like 1e300 comes back as 301 digits), so the
	 * ticket as inserted is not what a read of it shows.
	 */
	if (!rc)
		rc = pg_ticket_load(p, number, &t);
	rc = pg_tx_end(p, rc);
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

int pg_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out)
{
	struct pg *p = PG(st);
	json_t *t = NULL, *msgs = NULL;
	int64_t number;
	int rc;

	rc = pg_ticket_number(p, id, &number);
	if (!rc)
		rc = pg_ticket_load(p, number, &t);
	if (!rc && with_thread) {
		rc = pg_rows(p, store__message_json, &msgs, MESSAGE_SELECT " WHERE m.ticket_number = $1 ORDER BY m.id",
			     "i", number);
		if (!rc)
			json_object_set_new(t, "messages", msgs);
		else
			json_decref(msgs);
	}
	if (rc) {
		json_decref(t);
		return rc;
	}
	*out = t;
	return STORE_OK;
}

int pg_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out)
{
	struct pg *p = PG(st);
	struct { const char *col, *val; } eq[] = {
		{ "t.status", f->status }, { "t.priority", f->priority }, { "t.category", f->category },
		{ "t.channel", f->channel }, { "t.assignee", f->assignee }, { "t.customer_id", f->customer_id },
	};
	const char *values[10];
	char curs[32], lim[16];
	struct fl_buf sql = FL_BUF_INIT, text = FL_BUF_INIT;
	json_t *words = store__query_words(f->query), *list = json_array(), *w;
	int64_t cursor = 0, last = 0;
	int limit = store__clamp_limit(f->limit, 50, 500), rc, n = 0, i, rows;
	PGresult *res = NULL;
	size_t k;

	if (f->cursor && store__cursor_decode(f->cursor, &cursor)) {
		rc = store__fail(st, STORE_EINVAL, "malformed cursor '%s'", f->cursor);
		goto out;
	}
	fl_buf_adds(&sql, "SELECT " STORE__TICKET_LIST_COLS " FROM tickets t WHERE true");
	if (words) {
		json_array_foreach(words, k, w)
			fl_buf_addf(&text, "%s%s", k ? " " : "", json_string_value(w));
		values[n++] = text.buf;
		fl_buf_addf(&sql, " AND t.search @@ plainto_tsquery('english', $%d)", n);
	}
	if (cursor) {
		snprintf(curs, sizeof(curs), "%lld", (long long)cursor);
		values[n++] = curs;
		fl_buf_addf(&sql, " AND t.number < $%d", n);
	}
	for (k = 0; k < FL_ARRAY_SIZE(eq); k++) {
		if (!eq[k].val)
			continue;
		values[n++] = eq[k].val;
		fl_buf_addf(&sql, " AND %s = $%d", eq[k].col, n);
	}
	snprintf(lim, sizeof(lim), "%d", limit + 1);
	values[n++] = lim;
	fl_buf_addf(&sql, " ORDER BY t.number DESC LIMIT $%d", n);
	rc = pg_query_values(p, &res, sql.buf, n, values);
	if (rc)
		goto out;
	rows = PQntuples(res);
	for (i = 0; i < rows && i < limit; i++) {
		struct store__row r = pg_row_of(res, i);

		last = r.ops->i64(&r, 0);
		json_array_append_new(list, store__ticket_json(&r));
	}
	*out = json_pack("{s:O, s:o}", "tickets", list, "next_cursor", json_null());
	if (rows > limit) {
		char *c = store__cursor_encode(last);

		json_object_set_new(*out, "next_cursor", json_string(c));
		free(c);
	}
out:
	PQclear(res);
	json_decref(words);
	json_decref(list);
	fl_buf_release(&sql);
	fl_buf_release(&text);
	return rc;
}

static const char update_sql[] =
	"UPDATE tickets SET"
	" status = CASE WHEN $1::boolean THEN $2::text ELSE status END,"
	" sentiment = CASE WHEN $3::boolean THEN $4::text ELSE sentiment END,"
	" category = CASE WHEN $5::boolean THEN $6::text ELSE category END,"
	" priority = CASE WHEN $7::boolean THEN $8::text ELSE priority END,"
	" assigned_department = CASE WHEN $9::boolean THEN $10::text ELSE assigned_department END,"
	" assignee = CASE WHEN $11::boolean THEN $12::text ELSE assignee END,"
	" subject = CASE WHEN $13::boolean THEN $14::text ELSE subject END,"
	" metadata = CASE WHEN $15::boolean THEN $16::jsonb ELSE metadata END,"
	" analysis = CASE WHEN $17::boolean THEN $18::jsonb ELSE analysis END,"
	" trace = CASE WHEN $19::boolean THEN $20::jsonb ELSE trace END,"
	" satisfaction = CASE WHEN $21::boolean THEN $22::double precision ELSE satisfaction END,"
	" first_response_at = CASE WHEN $23::boolean THEN $24::bigint ELSE first_response_at END,"
	" resolved_at = CASE WHEN $25::boolean THEN $26::bigint ELSE resolved_at END,"
	" quarantined = CASE WHEN $27::boolean THEN $28::boolean ELSE quarantined END,"
	" version = version + 1, updated_at = $29 WHERE number = $30";

static int run_update(struct pg *p, const struct store__ticket_upd *u, int64_t now, int64_t number)
{
	char nums[STORE__TF_COUNT + 2][32];
	const char *values[2 * STORE__TF_COUNT + 2];
	PGresult *res = NULL;
	int f, rc;

	for (f = 0; f < STORE__TF_COUNT; f++) {
		const struct store__tval *v = &u->v[f];

		values[2 * f] = v->set ? "t" : "f";
		values[2 * f + 1] = NULL;
		if (!v->set || v->null)
			continue;
		switch (store__tf_fields[f].kind) {
		case STORE__TEXT:
		case STORE__JSON:
			values[2 * f + 1] = v->s;
			break;
		case STORE__TIME:
			snprintf(nums[f], sizeof(nums[f]), "%lld", (long long)v->i);
			values[2 * f + 1] = nums[f];
			break;
		case STORE__BOOL:
			values[2 * f + 1] = v->i ? "t" : "f";
			break;
		case STORE__REAL:
			snprintf(nums[f], sizeof(nums[f]), "%.17g", v->d);
			values[2 * f + 1] = nums[f];
			break;
		}
	}
	snprintf(nums[STORE__TF_COUNT], 32, "%lld", (long long)now);
	snprintf(nums[STORE__TF_COUNT + 1], 32, "%lld", (long long)number);
	values[2 * STORE__TF_COUNT] = nums[STORE__TF_COUNT];
	values[2 * STORE__TF_COUNT + 1] = nums[STORE__TF_COUNT + 1];
	rc = pg_query_values(p, &res, update_sql, 2 * STORE__TF_COUNT + 2, values);
	PQclear(res);
	return rc;
}

/* Appends an audit event; takes data. */
static int add_event(struct pg *p, int64_t number, const char *type, const char *actor,
		     json_t *data, int64_t now)
{
	char *text = fl_json_dumps(data);
	int rc = pg_exec(p, NULL, PG_EVENT_INSERT, "jttti", number, type, actor, text, now);

	free(text);
	json_decref(data);
	return rc;
}

int pg_ticket_update(struct store *st, const char *id, int64_t expected_version,
		     const json_t *fields, const char *actor, json_t **out)
{
	struct pg *p = PG(st);
	struct store__ticket_upd upd = { 0 };
	int64_t number, now = store__now(st);
	json_t *cur = NULL, *t = NULL;
	int rc;

	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	rc = pg_ticket_number(p, id, &number);
	if (!rc) {
		rc = pg_row(p, store__ticket_json, &cur, TICKET_SELECT " FOR UPDATE", "i", number);
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
	if (!rc)
		rc = run_update(p, &upd, now, number);
	if (!rc && json_array_size(upd.changed))
		rc = add_event(p, number, "ticket.updated", actor,
			       json_pack("{s:O, s:I}", "fields", upd.changed, "version",
					 (json_int_t)fl_json_int(cur, "version", 0) + 1), now);
	if (!rc && upd.status_change)
		rc = add_event(p, number, "ticket.status", actor, json_incref(upd.status_change), now);
	if (!rc && out)
		t = store__ticket_updated(cur, fields, &upd, now);
end:
	rc = pg_tx_end(p, rc);
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

/* ---- import: 1,000 tickets per statement ---- */

#define IMPORT_BATCH 1000

static const char import_sql[] =
	"WITH input AS ("
	"  SELECT * FROM jsonb_to_recordset($1::jsonb) AS x (number bigint, want_id text, gen_id text,"
	"   external_id text, channel text, customer_id text, subject text, content text, metadata jsonb,"
	"   status text, sentiment text, category text, priority text, assigned_department text,"
	"   assignee text, created_at bigint, updated_at bigint, first_response_at bigint,"
	"   resolved_at bigint, satisfaction double precision, author text, email_message_id text,"
	"   in_reply_to text, msg_metadata jsonb)"
	"), ins AS ("
	"  INSERT INTO tickets (number, id, external_id, channel, customer_id, subject, content, metadata,"
	"   status, sentiment, category, priority, assigned_department, assignee, created_at, updated_at,"
	"   first_response_at, resolved_at, satisfaction)"
	"  SELECT number, CASE WHEN want_id IS NOT NULL AND NOT EXISTS"
	"    (SELECT 1 FROM tickets o WHERE o.id = want_id) THEN want_id ELSE gen_id END,"
	"   external_id, channel, customer_id, subject, content, metadata, status, sentiment, category,"
	"   priority, assigned_department, assignee, created_at, updated_at, first_response_at,"
	"   resolved_at, satisfaction FROM input"
	"  ON CONFLICT (channel, external_id) DO NOTHING RETURNING number"
	") INSERT INTO messages (ticket_number, direction, author, body, created_at, email_message_id,"
	"  in_reply_to, metadata)"
	" SELECT i.number, 'inbound', i.author, i.content, i.created_at, i.email_message_id, i.in_reply_to,"
	"  i.msg_metadata FROM input i JOIN ins USING (number)";

static json_t *import_record(const struct store__ticket_in *in, int64_t number, const char *want,
			     int64_t now)
{
	char gen[32];
	json_t *r;

	store__format_number(gen, number);
	r = json_pack("{s:I, s:s?, s:s, s:s?, s:s, s:s?, s:s, s:s, s:o, s:s, s:s?, s:s?, s:s?, s:s?, s:s?,"
		      " s:I, s:I, s:s?, s:s?, s:s?, s:o}",
		      "number", (json_int_t)number, "want_id", want, "gen_id", gen, "external_id",
		      in->external_id, "channel", in->channel, "customer_id", in->customer_id, "subject",
		      in->subject, "content", in->content, "metadata",
		      json_loads(in->metadata, 0, NULL), "status", in->status, "sentiment", in->sentiment,
		      "category", in->category, "priority", in->priority, "assigned_department",
		      in->assigned_department, "assignee", in->assignee, "created_at",
		      (json_int_t)in->created_at, "updated_at",
		      (json_int_t)(now > in->created_at ? now : in->created_at), "author", in->msg_author,
		      "email_message_id", in->msg_email_id, "in_reply_to", in->msg_in_reply_to,
		      "msg_metadata", json_loads(in->msg_metadata, 0, NULL));
	if (in->first_response_at >= 0)
		json_object_set_new(r, "first_response_at", json_integer(in->first_response_at));
	if (in->resolved_at >= 0)
		json_object_set_new(r, "resolved_at", json_integer(in->resolved_at));
	if (in->satisfaction >= 0)
		json_object_set_new(r, "satisfaction", json_real(in->satisfaction));
	return r;
}

/* Numbers for a batch from the sequence, in one round trip. */
static int reserve_numbers(struct pg *p, size_t n, int64_t *out)
{
	PGresult *res;
	size_t i;
	int rc = pg_query(p, &res, "SELECT nextval('tickets_number_seq') FROM generate_series(1, $1)", "i",
			  (int64_t)n);

	if (rc)
		return rc;
	for (i = 0; i < n && i < (size_t)PQntuples(res); i++)
		out[i] = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int pg_ticket_import(struct store *st, const json_t *tickets, size_t *imported)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), numbers[IMPORT_BATCH];
	size_t total = json_array_size(tickets), start, count = 0;
	int rc;

	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	for (start = 0; !rc && start < total; start += IMPORT_BATCH) {
		size_t n = total - start < IMPORT_BATCH ? total - start : IMPORT_BATCH, i;
		json_t *batch = json_array(), *wanted = json_object();
		char *text;
		int changes = 0;

		rc = reserve_numbers(p, n, numbers);
		for (i = 0; !rc && i < n; i++) {
			struct store__ticket_in in;
			const char *want = NULL;

			rc = store__ticket_in_parse(st, json_array_get(tickets, start + i), true, &in);
			if (rc) {
				char *why = fl_strdup(st->err.buf);

				store__fail(st, rc, "ticket %zu: %s", start + i, why);
				free(why);
				break;
			}
			/* Within a batch, the first ticket wanting an id gets it. */
			if (in.external_id && !store__is_number_form(in.external_id) &&
			    !json_object_get(wanted, in.external_id)) {
				want = in.external_id;
				json_object_set_new(wanted, want, json_true());
			}
			json_array_append_new(batch, import_record(&in, numbers[i], want, now));
			store__ticket_in_release(&in);
		}
		if (!rc) {
			text = fl_json_dumps(batch);
			rc = pg_exec(p, &changes, import_sql, "t", text);
			free(text);
			count += (size_t)changes;
		}
		json_decref(batch);
		json_decref(wanted);
	}
	rc = pg_tx_end(p, rc);
	if (!rc && imported)
		*imported = count;
	return rc;
}

/* ---- messages ---- */

int pg_message_add(struct store *st, const char *ticket_id, const json_t *msg, json_t **out,
		   bool *created)
{
	struct pg *p = PG(st);
	struct store__message_in in;
	int64_t number, id = 0;
	bool made = false;
	json_t *m = NULL;
	int rc;

	rc = store__message_in_parse(st, msg, &in);
	if (rc)
		goto out;
	rc = pg_ticket_number(p, ticket_id, &number);
	if (!rc) {
		rc = pg_int(p, &id,
			    "INSERT INTO messages (ticket_number, direction, author, body, created_at,"
			    " email_message_id, in_reply_to, effect_key, metadata)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
			    " ON CONFLICT (ticket_number, effect_key) DO NOTHING RETURNING id",
			    "itttitttt", number, in.direction, in.author, in.body, in.created_at,
			    in.email_message_id, in.in_reply_to, in.effect_key, in.metadata);
		made = rc == STORE_OK;
		if (rc == STORE_ENOTFOUND)
			rc = pg_int(p, &id, "SELECT id FROM messages WHERE ticket_number = $1 AND effect_key = $2",
				    "it", number, in.effect_key);
	}
	if (!rc)
		rc = pg_row(p, store__message_json, &m, MESSAGE_SELECT " WHERE m.id = $1", "i", id);
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

int pg_message_list(struct store *st, const char *ticket_id, json_t **out)
{
	struct pg *p = PG(st);
	int64_t number;
	int rc;

	rc = pg_ticket_number(p, ticket_id, &number);
	if (!rc)
		rc = pg_rows(p, store__message_json, out, MESSAGE_SELECT " WHERE m.ticket_number = $1 ORDER BY m.id",
			     "i", number);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int pg_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket)
{
	struct pg *p = PG(st);
	int64_t number;
	int rc;

	rc = pg_int(p, &number, "SELECT ticket_number FROM messages WHERE email_message_id = $1"
		    " ORDER BY id DESC LIMIT 1", "t", message_id);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no message with Message-ID '%s'", message_id);
	if (!rc)
		rc = pg_ticket_load(p, number, ticket);
	return rc;
}
