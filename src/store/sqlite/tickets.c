/*
 * SQLite backend: what its tickets do differently (the rest is the shared
 * tickets.c). A ticket's number is the rowid, one more than the highest:
 * every write holds the database's one write lock, so nothing races for
 * it. New tickets' full-text entries are written once per transaction (see
 * sq_fts_add), and a search is driven by the FTS5 index in rowid order, so
 * a page costs its own rows, not the whole match set. Import inserts row by
 * row in one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

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
 * *id is the id stored: in->external_id or gen. The caller holds the write
 * transaction.
 */
static int insert_ticket(struct sq *q, const struct store__ticket_in *in, int64_t now,
			 int64_t *number, bool *created, char gen[32], const char **id_out)
{
	struct store__sql *c = &q->c;
	const char *id = NULL;
	int64_t n, max = 0;
	int rc;

	*created = false;
	if (in->external_id) {
		struct store__cur cur;
		bool id_taken;

		rc = store__sql_query(c, &cur, LOOKUP_SQL, "tt", in->channel, in->external_id);
		if (rc)
			return rc;
		rc = store__sql_step(c, &cur);
		if (rc <= 0) {
			store__sql_done(c, &cur);
			return rc ? -rc : store__fail(&c->base, STORE_EINTERNAL, "ticket lookup found no row");
		}
		if (sqlite3_column_type(cur.stmt, 0) != SQLITE_NULL) {
			*number = sqlite3_column_int64(cur.stmt, 0);
			store__sql_done(c, &cur);
			return STORE_OK;
		}
		max = sqlite3_column_int64(cur.stmt, 1);
		id_taken = sqlite3_column_int(cur.stmt, 2);
		store__sql_done(c, &cur);
		if (!id_taken && !store__is_number_form(in->external_id))
			id = in->external_id;
	} else {
		rc = store__sql_int(c, &max, "SELECT IFNULL(max(number), 0) FROM tickets", NULL);
		if (rc)
			return rc;
	}
	n = max + 1;
	store__format_number(gen, n);
	if (!id)
		id = gen;
	rc = store__sql_ticket_row_insert(c, in, n, id, now, false, NULL);
	if (!rc)
		rc = store__sql_first_message_insert(c, in, n);
	if (!rc) {
		*number = n;
		*created = true;
		*id_out = id;
		sq_fts_add(q, n);
	}
	return rc;
}

int sq_ticket_insert(struct store__sql *c, const struct store__ticket_in *in, const char *idem_key,
		     int64_t now, int64_t *number, bool *created, char gen[32], const char **id)
{
	int rc;

	*created = false;
	if (idem_key) {
		rc = store__sql_int(c, number, "SELECT ticket_number FROM idempotency_keys WHERE key = ?", "t",
				    idem_key);
		if (rc != STORE_ENOTFOUND)
			return rc;
	}
	rc = insert_ticket(SQ(c), in, now, number, created, gen, id);
	if (!rc && idem_key)
		rc = store__sql_exec(c, NULL, "INSERT INTO idempotency_keys (key, ticket_number, created_at)"
				     " VALUES (?, ?, ?)", "tii", idem_key, *number, now);
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

int sq_fts_flush(struct store__sql *c)
{
	struct sq *q = SQ(c);
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	int rc;

	if (!q->fts_n)
		return STORE_OK;
	fl_buf_addch(&b, '[');
	for (i = 0; i < q->fts_n; i++)
		fl_buf_addf(&b, "%s%lld", i ? "," : "", (long long)q->fts_pending[i]);
	fl_buf_addch(&b, ']');
	rc = store__sql_exec(c, NULL,
			     "INSERT INTO tickets_fts (rowid, subject, content) SELECT number, subject, content"
			     " FROM tickets WHERE number IN (SELECT value FROM json_each(?))",
			     "t", b.buf);
	fl_buf_release(&b);
	if (!rc)
		q->fts_n = 0;
	return rc;
}

/*
 * After an erasure: FTS5 records a deletion as a tombstone in a newer
 * segment and keeps the erased terms in the older ones until they merge;
 * 'optimize' merges every segment into one, without them. It rewrites the
 * whole index (about as long as indexing every ticket once, under the write
 * lock), which erasures, being rare, can afford.
 */
int sq_erase_purge(struct store__sql *c)
{
	return store__sql_exec(c, NULL, "INSERT INTO tickets_fts (tickets_fts) VALUES ('optimize')", NULL);
}

void sq_fts_forget(struct store__sql *c)
{
	SQ(c)->fts_n = 0;
}

int sq_search(struct store__sql *c, const json_t *words, struct fl_buf *sql, char **match,
	      const char **key)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	json_t *w;
	/* a search inside a transaction sees the tickets it inserted */
	int rc = sq_fts_flush(c);

	if (rc)
		return rc;
	json_array_foreach(words, i, w)
		fl_buf_addf(&b, "%s\"%s\"", i ? " " : "", json_string_value(w));
	*match = fl_buf_detach(&b, NULL);
	*key = "tickets_fts.rowid";
	fl_buf_adds(sql, "FROM tickets_fts JOIN tickets t ON t.number = tickets_fts.rowid"
		    " WHERE tickets_fts MATCH ?");
	return STORE_OK;
}

int sq_ticket_import(struct store *st, const json_t *tickets, size_t *imported)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	size_t i, count = 0;
	json_t *t;
	int rc;

	rc = store__sql_tx_begin(&q->c, true);
	if (rc)
		return rc;
	json_array_foreach(tickets, i, t) {
		struct store__ticket_in in;
		const char *id;
		int64_t number;
		bool made = false;

		rc = store__ticket_in_parse(st, t, true, &in);
		if (rc) {
			char *why = fl_strdup(st->err.buf);

			store__fail(st, rc, "ticket %zu: %s", i, why);
			free(why);
		} else {
			char gen[32];

			rc = insert_ticket(q, &in, now, &number, &made, gen, &id);
		}
		store__ticket_in_release(&in);
		if (rc)
			break;
		count += made;
	}
	rc = store__sql_tx_end(&q->c, rc);
	if (!rc && imported)
		*imported = count;
	return rc;
}
