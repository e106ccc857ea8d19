/*
 * PostgreSQL backend: what its tickets do differently (the rest is the
 * shared tickets.c). Numbers come from a sequence, and intake relies on the
 * unique constraints: INSERT ... ON CONFLICT DO NOTHING waits for a
 * concurrent writer of the same (channel, external_id) or Idempotency-Key
 * and then sees its ticket, so replicas taking the same webhook twice make
 * one ticket. Search uses the stored tsvector. Import is batched: one
 * statement per 1,000 tickets.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

/*
 * Records idem_key for ticket number; when another intake holds the key
 * already (its transaction committed first: ON CONFLICT waited for it),
 * *winner is its ticket, else 0. The key's foreign key is checked at commit,
 * so a key may name the number about to be inserted.
 */
static int claim_key(struct store__sql *c, const char *key, int64_t number, int64_t now,
		     int64_t *winner)
{
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "INSERT INTO idempotency_keys (key, ticket_number, created_at)"
				 " VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING", "tii", key, number, now);

	*winner = 0;
	if (!rc && !changes)
		rc = store__sql_int(c, winner, "SELECT ticket_number FROM idempotency_keys WHERE key = ?", "t",
				    key);
	return rc;
}

/* The ticket stored under (channel, external_id); ENOTFOUND when none. */
static int find_external(struct store__sql *c, const struct store__ticket_in *in, int64_t *number)
{
	return store__sql_int(c, number, "SELECT number FROM tickets WHERE channel = ? AND external_id = ?",
			      "tt", in->channel, in->external_id);
}

/*
 * The dialect's ticket_insert. Nothing here needs a savepoint: a race lost
 * to another replica ends in ON CONFLICT DO NOTHING, not in an error.
 */
int pg_ticket_insert(struct store__sql *c, const struct store__ticket_in *in, const char *idem_key,
		     int64_t now, int64_t *number, bool *created, char gen[32], const char **id)
{
	int64_t n, winner = 0;
	int rc, changes = 0, attempt;

	*created = false;
	if (idem_key) {
		rc = store__sql_int(c, number, "SELECT ticket_number FROM idempotency_keys WHERE key = ?", "t",
				    idem_key);
		if (rc != STORE_ENOTFOUND)
			return rc;
	}
	/* Repeats (webhook retries) are common: find them before taking a number. */
	if (in->external_id) {
		rc = find_external(c, in, number);
		if (rc == STORE_OK && idem_key && !(rc = claim_key(c, idem_key, *number, now, &winner)) && winner)
			*number = winner;
		if (rc != STORE_ENOTFOUND)
			return rc;
	}
	rc = store__sql_int(c, &n, "SELECT nextval('tickets_number_seq')", NULL);
	if (!rc && idem_key)
		rc = claim_key(c, idem_key, n, now, &winner);
	if (rc || winner) {
		*number = winner;
		return rc;
	}
	store__format_number(gen, n);
	*id = in->external_id && !store__is_number_form(in->external_id) ? in->external_id : gen;
	for (attempt = 0; attempt < 2; attempt++) {
		rc = store__sql_ticket_row_insert(c, in, n, *id, now, true, &changes);
		if (rc || changes)
			break;
		/* Nothing inserted: another replica just took (channel, external_id), or the id. */
		if (in->external_id) {
			rc = find_external(c, in, number);
			if (rc == STORE_OK && idem_key)
				rc = store__sql_exec(c, NULL, "UPDATE idempotency_keys SET ticket_number = ?"
						     " WHERE key = ?", "it", *number, idem_key);
			if (rc != STORE_ENOTFOUND)
				return rc;
			rc = STORE_OK;
		}
		*id = gen;
	}
	if (!rc && !changes)
		rc = store__fail(&c->base, STORE_EINTERNAL, "cannot insert ticket %s", gen);
	if (!rc)
		rc = store__sql_first_message_insert(c, in, n);
	if (!rc) {
		*number = n;
		*created = true;
	}
	return rc;
}

int pg_search(struct store__sql *c, const json_t *words, struct fl_buf *sql, char **match,
	      const char **key)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	json_t *w;

	(void)c;
	json_array_foreach(words, i, w)
		fl_buf_addf(&b, "%s%s", i ? " " : "", json_string_value(w));
	*match = fl_buf_detach(&b, NULL);
	*key = "t.number";
	fl_buf_adds(sql, "FROM tickets t WHERE t.search @@ plainto_tsquery('english', ?)");
	return STORE_OK;
}

/* ---- import: 1,000 tickets per statement ---- */

#define IMPORT_BATCH 1000

static const char import_sql[] =
	"WITH input AS ("
	"  SELECT * FROM jsonb_to_recordset(?::jsonb) AS x (number bigint, want_id text, gen_id text,"
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
static int reserve_numbers(struct store__sql *c, size_t n, int64_t *out)
{
	struct store__cur cur;
	size_t i = 0;
	int rc = store__sql_query(c, &cur, "SELECT nextval('tickets_number_seq') FROM generate_series(1, ?)",
				  "i", (int64_t)n);

	if (rc)
		return rc;
	while (i < n && (rc = store__sql_step(c, &cur)) > 0)
		out[i++] = cur.row.ops->i64(&cur.row, 0);
	store__sql_done(c, &cur);
	return rc < 0 ? -rc : STORE_OK;
}

int pg_ticket_import(struct store *st, const json_t *tickets, size_t *imported)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st), numbers[IMPORT_BATCH];
	size_t total = json_array_size(tickets), start, count = 0;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	for (start = 0; !rc && start < total; start += IMPORT_BATCH) {
		size_t n = total - start < IMPORT_BATCH ? total - start : IMPORT_BATCH, i;
		json_t *batch = json_array(), *wanted = json_object();
		char *text;
		int changes = 0;

		rc = reserve_numbers(c, n, numbers);
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
			rc = store__sql_exec(c, &changes, import_sql, "t", text);
			free(text);
			count += (size_t)changes;
		}
		json_decref(batch);
		json_decref(wanted);
	}
	rc = store__sql_tx_end(c, rc);
	if (!rc && imported)
		*imported = count;
	return rc;
}
