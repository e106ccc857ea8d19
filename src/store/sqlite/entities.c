/*
 * SQLite backend: customers (the CRM cache), knowledge-base articles,
 * escalations (the hand-off queue: one open-or-claimed per ticket, enforced
 * by a partial unique index), the audit log, metrics and API tokens.
 * Input is validated by input.c; rows are decoded by rows.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

/* ---- customers ---- */

#define CUSTOMER_SELECT "SELECT " STORE__CUSTOMER_COLS " FROM customers c"

int sq_customer_get(struct store *st, const char *id, json_t **out)
{
	int rc = sq_row(SQ(st), store__customer_json, out, CUSTOMER_SELECT " WHERE c.id = ?", "t", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "customer '%s' not found", id) : rc;
}

int sq_customer_find_by_email(struct store *st, const char *email, json_t **out)
{
	int rc = sq_row(SQ(st), store__customer_json, out,
			CUSTOMER_SELECT " WHERE lower(c.email) = lower(?) ORDER BY c.id LIMIT 1", "t", email);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "no customer with email '%s'", email) : rc;
}

int sq_customer_upsert(struct store *st, const json_t *customer)
{
	struct sq *q = SQ(st);
	struct store__customer_in in = { 0 };
	json_t *cur = NULL;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_row(q, store__customer_json, &cur, CUSTOMER_SELECT " WHERE c.id = ?", "t",
		    fl_json_str(customer, "id", ""));
	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (!rc)
		rc = store__customer_in_parse(st, cur, customer, &in);
	if (!rc)
		rc = sq_exec(q, NULL,
			     "INSERT INTO customers (id, name, email, tier, joined_at, total_tickets,"
			     " satisfaction_score, metadata, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
			     " ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,"
			     " tier = excluded.tier, joined_at = excluded.joined_at,"
			     " total_tickets = excluded.total_tickets,"
			     " satisfaction_score = excluded.satisfaction_score, metadata = excluded.metadata,"
			     " updated_at = excluded.updated_at",
			     "ttttjieti", in.id, in.name, in.email, in.tier, in.joined_at, in.total_tickets,
			     in.satisfaction, in.metadata, store__now(st));
	rc = sq_tx_end(q, rc);
	store__customer_in_release(&in);
	json_decref(cur);
	return rc;
}

int sq_customer_update_metrics(struct store *st, const char *id, double satisfaction)
{
	int changes = 0;
	int rc = sq_exec(SQ(st), &changes,
			 "UPDATE customers SET total_tickets = total_tickets + 1,"
			 " satisfaction_score = CASE WHEN ?1 < 0 THEN satisfaction_score"
			 "  WHEN satisfaction_score IS NULL THEN ?1 ELSE (satisfaction_score + ?1) / 2.0 END,"
			 " updated_at = ?2 WHERE id = ?3",
			 "dit", satisfaction, store__now(st), id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "customer '%s' not found", id);
	return rc;
}

int sq_customer_list(struct store *st, int limit, int offset, json_t **out)
{
	return sq_rows(SQ(st), store__customer_json, out, CUSTOMER_SELECT " ORDER BY c.id LIMIT ? OFFSET ?",
		       "ii", (int64_t)limit, (int64_t)offset);
}

/* ---- knowledge base ---- */

#define KB_SELECT "SELECT " STORE__KB_COLS " FROM kb_articles k"

int sq_kb_upsert(struct store *st, const json_t *article)
{
	struct sq *q = SQ(st);
	struct store__kb_in in = { 0 };
	json_t *cur = NULL;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_row(q, store__kb_json, &cur, KB_SELECT " WHERE k.id = ?", "t", fl_json_str(article, "id", ""));
	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (!rc)
		rc = store__kb_in_parse(st, cur, article, &in);
	if (!rc)
		rc = sq_exec(q, NULL,
			     "INSERT INTO kb_articles (id, title, content, category, tags, views, helpful_votes,"
			     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
			     " ON CONFLICT (id) DO UPDATE SET title = excluded.title, content = excluded.content,"
			     " category = excluded.category, tags = excluded.tags, views = excluded.views,"
			     " helpful_votes = excluded.helpful_votes, updated_at = excluded.updated_at",
			     "tttttiii", in.id, in.title, in.content, in.category, in.tags, in.views,
			     in.helpful_votes, store__now(st));
	rc = sq_tx_end(q, rc);
	store__kb_in_release(&in);
	json_decref(cur);
	return rc;
}

int sq_kb_get(struct store *st, const char *id, json_t **out)
{
	int rc = sq_row(SQ(st), store__kb_json, out, KB_SELECT " WHERE k.id = ?", "t", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "article '%s' not found", id) : rc;
}

int sq_kb_list(struct store *st, json_t **out)
{
	return sq_rows(SQ(st), store__kb_json, out, KB_SELECT " ORDER BY k.id", NULL);
}

int sq_kb_delete(struct store *st, const char *id)
{
	int changes = 0;
	int rc = sq_exec(SQ(st), &changes, "DELETE FROM kb_articles WHERE id = ?", "t", id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "article '%s' not found", id);
	return rc;
}

/* ---- escalations ---- */

#define ESC_SELECT "SELECT " STORE__ESCALATION_COLS \
	" FROM escalations e JOIN tickets t ON t.number = e.ticket_number"

int sq_escalation_get(struct store *st, int64_t id, json_t **out)
{
	int rc = sq_row(SQ(st), store__escalation_json, out, ESC_SELECT " WHERE e.id = ?", "i", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "escalation %lld not found", (long long)id) : rc;
}

int sq_escalation_open(struct store *st, const char *ticket_id, const char *priority,
		       const char *department, const json_t *package, json_t **out, bool *created)
{
	struct sq *q = SQ(st);
	char *pkg = store__json_text(package, "{}");
	int64_t number, id = 0;
	bool made = false;
	json_t *e = NULL;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		goto out;
	rc = sq_ticket_number(q, ticket_id, &number);
	if (!rc) {
		rc = sq_int(q, &id, "SELECT id FROM escalations WHERE ticket_number = ? AND status <> 'closed'",
			    "i", number);
		if (rc == STORE_ENOTFOUND) {
			rc = sq_exec(q, NULL,
				     "INSERT INTO escalations (ticket_number, status, priority, rank, department,"
				     " package, created_at) VALUES (?, 'open', ?, ?, ?, ?, ?)",
				     "ititti", number, priority, (int64_t)store__escalation_rank(priority),
				     department, pkg, store__now(st));
			id = sqlite3_last_insert_rowid(q->db);
			made = !rc;
		}
	}
	if (!rc && out)
		rc = sq_escalation_get(st, id, &e);   /* read back only when asked for */
	rc = sq_tx_end(q, rc);
out:
	free(pkg);
	if (rc) {
		json_decref(e);
		return rc;
	}
	if (created)
		*created = made;
	if (out)
		*out = e;
	else
		json_decref(e);
	return STORE_OK;
}

/* Runs a state change; when it changed nothing, says why (missing or wrong state). */
static int transition(struct store *st, int64_t id, json_t **out, const char *want,
		      const char *sql, const char *fmt, ...)
{
	struct sq *q = SQ(st);
	json_t *e = NULL;
	int rc, changes = 0;
	sqlite3_stmt *s;
	va_list ap;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = sq_preparev(q, sql, &s, fmt, ap);
	va_end(ap);
	if (!rc) {
		rc = -sq_step(q, s);
		changes = sqlite3_changes(q->db);
		sq_done(s);
	}
	if (!rc)
		rc = sq_escalation_get(st, id, &e);
	if (!rc && !changes) {
		rc = store__fail(st, STORE_ECONFLICT, "escalation %lld is %s, not %s", (long long)id,
				 fl_json_str(e, "status", "?"), want);
		json_decref(e);
		e = NULL;
	}
	rc = sq_tx_end(q, rc);
	if (!rc && out)
		*out = e;
	else
		json_decref(e);
	return rc;
}

int sq_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out)
{
	return transition(st, id, out, "open",
			  "UPDATE escalations SET status = 'claimed', agent = ?, claimed_at = ?"
			  " WHERE id = ? AND status = 'open'", "tii", agent, store__now(st), id);
}

int sq_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out)
{
	return transition(st, id, out, "claimed by that agent",
			  "UPDATE escalations SET status = 'open', agent = NULL, claimed_at = NULL"
			  " WHERE agent = ? AND id = ? AND status = 'claimed'", "ti", agent, id);
}

int sq_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out)
{
	return transition(st, id, out, "open or claimed",
			  "UPDATE escalations SET status = 'closed', resolution = ?, closed_at = ?"
			  " WHERE id = ? AND status <> 'closed'", "tii", resolution, store__now(st), id);
}

int sq_escalation_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (!status)
		return sq_rows(SQ(st), store__escalation_json, out,
			       ESC_SELECT " WHERE e.status IN ('open', 'claimed')"
			       " ORDER BY e.rank, e.created_at, e.id LIMIT ?", "i", (int64_t)limit);
	return sq_rows(SQ(st), store__escalation_json, out,
		       ESC_SELECT " WHERE e.status = ? ORDER BY e.rank, e.created_at, e.id LIMIT ?", "ti",
		       status, (int64_t)limit);
}

/* ---- events ---- */

#define EVENT_SELECT "SELECT " STORE__EVENT_COLS \
	" FROM events v LEFT JOIN tickets t ON t.number = v.ticket_number"

int sq_event_append(struct store *st, const char *ticket_id, const char *type, const char *actor,
		    const json_t *data)
{
	struct sq *q = SQ(st);
	char *text = store__json_text(data, "{}");
	int64_t number = -1;
	int rc;

	rc = sq_tx_begin(q, true);
	if (!rc) {
		if (ticket_id)
			rc = sq_ticket_number(q, ticket_id, &number);
		if (!rc)
			rc = sq_exec(q, NULL, SQ_EVENT_INSERT, "jttti", number, type, actor, text, store__now(st));
		rc = sq_tx_end(q, rc);
	}
	free(text);
	return rc;
}

int sq_event_list(struct store *st, const char *ticket_id, int limit, json_t **out)
{
	struct sq *q = SQ(st);
	int64_t number;
	int rc;

	if (!ticket_id)
		return sq_rows(q, store__event_json, out,
			       EVENT_SELECT " WHERE v.id IN (SELECT id FROM events ORDER BY id DESC LIMIT ?)"
			       " ORDER BY v.id", "i", (int64_t)limit);
	rc = sq_tx_begin(q, false);
	if (rc)
		return rc;
	rc = sq_ticket_number(q, ticket_id, &number);
	if (!rc)
		rc = sq_rows(q, store__event_json, out, EVENT_SELECT " WHERE v.ticket_number = ? ORDER BY v.id LIMIT ?",
			     "ii", number, (int64_t)limit);
	rc = sq_tx_end(q, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- metrics ---- */

int sq_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out)
{
	struct sq *q = SQ(st);
	json_t *m = store__metrics_new();
	sqlite3_stmt *s;
	int rc, r;

	rc = sq_tx_begin(q, false);
	if (rc)
		goto out;
	rc = sq_prepare(q,
			"SELECT count(*),"
			" coalesce(sum(t.status IN ('resolved', 'closed') OR t.resolved_at IS NOT NULL), 0),"
			" coalesce(sum(t.status = 'escalated' OR EXISTS (SELECT 1 FROM escalations e"
			"   WHERE e.ticket_number = t.number)), 0),"
			" avg((t.first_response_at - t.created_at) / 1e6),"
			" avg((t.resolved_at - t.created_at) / 1e6),"
			" avg(t.satisfaction)"
			" FROM tickets t WHERE t.created_at >= ? AND t.created_at < ?",
			&s, "ii", since_us, until_us);
	if (!rc) {
		r = sq_step(q, s);
		if (r > 0) {
			struct store__row row = sq_row_of(s);

			store__metrics_totals(m, &row);
		}
		rc = r < 0 ? -r : STORE_OK;
		sq_done(s);
	}
	if (!rc)
		rc = sq_prepare(q,
				"SELECT 'category', t.category, count(*) FROM tickets t WHERE t.created_at >= ?1"
				" AND t.created_at < ?2 AND t.category IS NOT NULL GROUP BY t.category"
				" UNION ALL SELECT 'priority', t.priority, count(*) FROM tickets t"
				" WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.priority IS NOT NULL"
				" GROUP BY t.priority"
				" UNION ALL SELECT 'status', t.status, count(*) FROM tickets t"
				" WHERE t.created_at >= ?1 AND t.created_at < ?2 GROUP BY t.status",
				&s, "ii", since_us, until_us);
	if (!rc) {
		while ((r = sq_step(q, s)) > 0) {
			struct store__row row = sq_row_of(s);

			store__metrics_count(m, &row);
		}
		rc = r < 0 ? -r : STORE_OK;
		sq_done(s);
	}
	rc = sq_tx_end(q, rc);
out:
	if (rc) {
		json_decref(m);
		return rc;
	}
	store__metrics_finish(m);
	*out = m;
	return STORE_OK;
}

/* ---- API tokens ---- */

#define TOKEN_SELECT "SELECT " STORE__TOKEN_COLS " FROM api_tokens k"

int sq_token_insert(struct store *st, const char *name, const char *role, const char *hash_hex,
		    json_t **out)
{
	struct sq *q = SQ(st);
	json_t *k = NULL;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_exec(q, NULL, "INSERT INTO api_tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)",
		     "ttti", name, role, hash_hex, store__now(st));
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "a token with this hash exists");
	if (!rc)
		rc = sq_row(q, store__token_json, &k, TOKEN_SELECT " WHERE k.id = ?", "i",
			    (int64_t)sqlite3_last_insert_rowid(q->db));
	rc = sq_tx_end(q, rc);
	if (!rc && out)
		*out = k;
	else
		json_decref(k);
	return rc;
}

int sq_token_find(struct store *st, const char *hash_hex, json_t **out)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st);
	json_t *k = NULL;
	int rc;

	rc = sq_row(q, store__token_json, &k, TOKEN_SELECT " WHERE k.hash = ? AND k.revoked = 0", "t", hash_hex);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no live token with that hash");
	if (rc)
		return rc;
	/* Write last_used_at at most once a minute: a token authenticates every request. */
	rc = sq_exec(q, NULL, "UPDATE api_tokens SET last_used_at = ?1 WHERE hash = ?2"
		     " AND (last_used_at IS NULL OR last_used_at < ?1 - 60000000)", "it", now, hash_hex);
	if (rc == STORE_EBUSY)
		rc = STORE_OK; /* a busy database must not refuse a valid token */
	if (rc) {
		json_decref(k);
		return rc;
	}
	*out = k;
	return STORE_OK;
}

int sq_token_list(struct store *st, json_t **out)
{
	return sq_rows(SQ(st), store__token_json, out, TOKEN_SELECT " ORDER BY k.id", NULL);
}

int sq_token_revoke(struct store *st, int64_t id)
{
	int changes = 0;
	int rc = sq_exec(SQ(st), &changes, "UPDATE api_tokens SET revoked = 1 WHERE id = ?", "i", id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "token %lld not found", (long long)id);
	return rc;
}
