/*
 * Customers (the CRM cache), knowledge-base articles, escalations (the
 * hand-off queue: one open-or-claimed per ticket, kept by a partial unique
 * index that an insert's ON CONFLICT settles, also between replicas), the
 * audit log, metrics, API tokens and the server's own secrets, for both
 * SQL backends (dialect.h).
 * State changes are single statements (UPDATE ... WHERE status = ...), so
 * two agents cannot both claim one escalation. Input is validated by
 * input.c; rows are decoded by rows.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dialect.h"

/* ---- customers ---- */

#define CUSTOMER_SELECT "SELECT " STORE__CUSTOMER_COLS " FROM customers c"

int store__sql_customer_get(struct store *st, const char *id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__customer_json, out, CUSTOMER_SELECT " WHERE c.id = ?",
				"t", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "customer '%s' not found", id) : rc;
}

int store__sql_customer_find_by_email(struct store *st, const char *email, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__customer_json, out,
				CUSTOMER_SELECT " WHERE lower(c.email) = lower(?) ORDER BY c.id LIMIT 1", "t",
				email);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "no customer with email '%s'", email) : rc;
}

int store__sql_customer_upsert(struct store *st, const json_t *customer)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__customer_in in = { 0 };
	json_t *cur = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	/* merged with the current row, which no one else changes meanwhile */
	rc = store__sql_one(c, store__customer_json, &cur, CUSTOMER_SELECT " WHERE c.id = ? FOR UPDATE", "t",
			    fl_json_str(customer, "id", ""));
	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (!rc)
		rc = store__customer_in_parse(st, cur, customer, &in);
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "INSERT INTO customers (id, name, email, tier, joined_at, total_tickets,"
				     " satisfaction_score, metadata, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
				     " ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,"
				     " tier = excluded.tier, joined_at = excluded.joined_at,"
				     " total_tickets = excluded.total_tickets,"
				     " satisfaction_score = excluded.satisfaction_score, metadata = excluded.metadata,"
				     " updated_at = excluded.updated_at",
				     "ttttjieti", in.id, in.name, in.email, in.tier, in.joined_at, in.total_tickets,
				     in.satisfaction, in.metadata, store__now(st));
	rc = store__sql_tx_end(c, rc);
	store__customer_in_release(&in);
	json_decref(cur);
	return rc;
}

int store__sql_customer_update_metrics(struct store *st, const char *id, double satisfaction)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes,
				 "UPDATE customers SET total_tickets = total_tickets + 1,"
				 " satisfaction_score = CASE WHEN ?1::float8 < 0 THEN satisfaction_score"
				 "  WHEN satisfaction_score IS NULL THEN ?1 ELSE (satisfaction_score + ?1) / 2.0 END,"
				 " updated_at = ?2 WHERE id = ?3",
				 "dit", satisfaction, store__now(st), id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "customer '%s' not found", id);
	return rc;
}

int store__sql_customer_list(struct store *st, int limit, int offset, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__customer_json, out,
			       CUSTOMER_SELECT " ORDER BY c.id LIMIT ? OFFSET ?", "ii", (int64_t)limit,
			       (int64_t)offset);
}

/* ---- knowledge base ---- */

#define KB_SELECT "SELECT " STORE__KB_COLS " FROM kb_articles k"

int store__sql_kb_upsert(struct store *st, const json_t *article)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__kb_in in = { 0 };
	json_t *cur = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_one(c, store__kb_json, &cur, KB_SELECT " WHERE k.id = ? FOR UPDATE", "t",
			    fl_json_str(article, "id", ""));
	if (rc == STORE_ENOTFOUND)
		rc = STORE_OK;
	if (!rc)
		rc = store__kb_in_parse(st, cur, article, &in);
	if (!rc)
		rc = store__sql_exec(c, NULL,
				     "INSERT INTO kb_articles (id, title, content, category, tags, views,"
				     " helpful_votes, updated_at, language, source, source_hash)"
				     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				     " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
				     " content = excluded.content, category = excluded.category, tags = excluded.tags,"
				     " views = excluded.views, helpful_votes = excluded.helpful_votes,"
				     " updated_at = excluded.updated_at, language = excluded.language,"
				     " source = excluded.source, source_hash = excluded.source_hash",
				     "tttttiiittt", in.id, in.title, in.content, in.category, in.tags, in.views,
				     in.helpful_votes, store__now(st), in.language, in.source, in.source_hash);
	rc = store__sql_tx_end(c, rc);
	store__kb_in_release(&in);
	json_decref(cur);
	return rc;
}

int store__sql_kb_get(struct store *st, const char *id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__kb_json, out, KB_SELECT " WHERE k.id = ?", "t", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "article '%s' not found", id) : rc;
}

int store__sql_kb_list(struct store *st, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__kb_json, out, KB_SELECT " ORDER BY k.id", NULL);
}

int store__sql_kb_delete(struct store *st, const char *id)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes, "DELETE FROM kb_articles WHERE id = ?", "t", id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "article '%s' not found", id);
	return rc;
}

/* ---- escalations ---- */

#define ESC_SELECT "SELECT " STORE__ESCALATION_COLS \
	" FROM escalations e JOIN tickets t ON t.number = e.ticket_number"

int store__sql_escalation_get(struct store *st, int64_t id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__escalation_json, out, ESC_SELECT " WHERE e.id = ?",
				"i", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "escalation %lld not found", (long long)id) : rc;
}

int store__sql_escalation_open(struct store *st, const char *ticket_id, const char *priority,
			       const char *department, const json_t *package, json_t **out,
			       bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	char *pkg = store__json_text(package, "{}");
	int64_t number, id = 0;
	bool made = false;
	json_t *e = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc) {
		/* an open (or claimed) escalation of the ticket stays the one */
		rc = store__sql_int(c, &id,
				    "INSERT INTO escalations (ticket_number, status, priority, rank, department,"
				    " package, created_at) VALUES (?, 'open', ?, ?, ?, ?, ?)"
				    " ON CONFLICT (ticket_number) WHERE status <> 'closed' DO NOTHING RETURNING id",
				    "ititti", number, priority, (int64_t)store__escalation_rank(priority),
				    department, pkg, store__now(st));
		made = rc == STORE_OK;
		if (rc == STORE_ENOTFOUND)
			rc = store__sql_int(c, &id, "SELECT id FROM escalations WHERE ticket_number = ?"
					    " AND status <> 'closed'", "i", number);
	}
	if (!rc && out)
		rc = store__sql_escalation_get(st, id, &e);   /* read back only when asked for */
	rc = store__sql_tx_end(c, rc);
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
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	json_t *e = NULL;
	int rc, changes = 0;
	va_list ap;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	va_start(ap, fmt);
	rc = store__sql_queryv(c, &cur, sql, fmt, ap);
	va_end(ap);
	if (!rc) {
		rc = -store__sql_step(c, &cur);
		changes = c->d->changes(c, &cur);
		store__sql_done(c, &cur);
	}
	if (!rc)
		rc = store__sql_escalation_get(st, id, &e);
	if (!rc && !changes) {
		rc = store__fail(st, STORE_ECONFLICT, "escalation %lld is %s, not %s", (long long)id,
				 fl_json_str(e, "status", "?"), want);
		json_decref(e);
		e = NULL;
	}
	rc = store__sql_tx_end(c, rc);
	if (!rc && out)
		*out = e;
	else
		json_decref(e);
	return rc;
}

int store__sql_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out)
{
	return transition(st, id, out, "open",
			  "UPDATE escalations SET status = 'claimed', agent = ?, claimed_at = ?"
			  " WHERE id = ? AND status = 'open'", "tii", agent, store__now(st), id);
}

int store__sql_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out)
{
	return transition(st, id, out, "claimed by that agent",
			  "UPDATE escalations SET status = 'open', agent = NULL, claimed_at = NULL"
			  " WHERE agent = ? AND id = ? AND status = 'claimed'", "ti", agent, id);
}

int store__sql_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out)
{
	return transition(st, id, out, "open or claimed",
			  "UPDATE escalations SET status = 'closed', resolution = ?, closed_at = ?"
			  " WHERE id = ? AND status <> 'closed'", "tii", resolution, store__now(st), id);
}

int store__sql_escalation_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (!status)
		return store__sql_rows(STORE__SQL(st), store__escalation_json, out,
				       ESC_SELECT " WHERE e.status IN ('open', 'claimed')"
				       " ORDER BY e.rank, e.created_at, e.id LIMIT ?", "i", (int64_t)limit);
	return store__sql_rows(STORE__SQL(st), store__escalation_json, out,
			       ESC_SELECT " WHERE e.status = ? ORDER BY e.rank, e.created_at, e.id LIMIT ?",
			       "ti", status, (int64_t)limit);
}

/* ---- events ---- */

#define EVENT_SELECT "SELECT " STORE__EVENT_COLS \
	" FROM events v LEFT JOIN tickets t ON t.number = v.ticket_number"

int store__sql_event_append(struct store *st, const char *ticket_id, const char *type,
			    const char *actor, const json_t *data)
{
	struct store__sql *c = STORE__SQL(st);
	char *text = store__json_text(data, "{}");
	int64_t number = -1;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (!rc) {
		if (ticket_id)
			rc = store__sql_ticket_number(c, ticket_id, &number);
		if (!rc)
			rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", number, type, actor,
					     text, store__now(st));
		rc = store__sql_tx_end(c, rc);
	}
	free(text);
	return rc;
}

int store__sql_event_list(struct store *st, const char *ticket_id, int limit, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int rc;

	if (!ticket_id)
		return store__sql_rows(c, store__event_json, out,
				       EVENT_SELECT " WHERE v.id IN (SELECT id FROM events ORDER BY id DESC"
				       " LIMIT ?) ORDER BY v.id", "i", (int64_t)limit);
	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_rows(c, store__event_json, out,
				     EVENT_SELECT " WHERE v.ticket_number = ? ORDER BY v.id LIMIT ?", "ii",
				     number, (int64_t)limit);
	rc = store__sql_read_end(c, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- metrics ---- */

/* Runs a query of aggregates and folds each row into m. */
static int fold(struct store__sql *c, json_t *m, void (*add)(json_t *, const struct store__row *),
		const char *sql, int64_t since_us, int64_t until_us)
{
	struct store__cur cur;
	int rc, r;

	rc = store__sql_query(c, &cur, sql, "ii", since_us, until_us);
	if (rc)
		return rc;
	while ((r = store__sql_step(c, &cur)) > 0)
		add(m, &cur.row);
	store__sql_done(c, &cur);
	return r < 0 ? -r : STORE_OK;
}

int store__sql_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *m = store__metrics_new();
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		goto out;
	rc = fold(c, m, store__metrics_totals,
		  "SELECT count(*),"
		  " count(*) FILTER (WHERE t.status IN ('resolved', 'closed') OR t.resolved_at IS NOT NULL),"
		  " count(*) FILTER (WHERE t.status = 'escalated' OR EXISTS (SELECT 1 FROM escalations e"
		  "   WHERE e.ticket_number = t.number)),"
		  " avg((t.first_response_at - t.created_at) / 1e6),"
		  " avg((t.resolved_at - t.created_at) / 1e6),"
		  " avg(t.satisfaction)"
		  " FROM tickets t WHERE t.created_at >= ?1 AND t.created_at < ?2", since_us, until_us);
	if (!rc)
		rc = fold(c, m, store__metrics_count,
			  "SELECT 'category', t.category, count(*) FROM tickets t WHERE t.created_at >= ?1"
			  " AND t.created_at < ?2 AND t.category IS NOT NULL GROUP BY t.category"
			  " UNION ALL SELECT 'priority', t.priority, count(*) FROM tickets t"
			  " WHERE t.created_at >= ?1 AND t.created_at < ?2 AND t.priority IS NOT NULL"
			  " GROUP BY t.priority"
			  " UNION ALL SELECT 'status', t.status, count(*) FROM tickets t"
			  " WHERE t.created_at >= ?1 AND t.created_at < ?2 GROUP BY t.status",
			  since_us, until_us);
	rc = store__sql_read_end(c, rc);
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

int store__sql_token_insert(struct store *st, const char *name, const char *role,
			    const char *hash_hex, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *k = NULL;
	int64_t id = 0;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_int(c, &id, "INSERT INTO api_tokens (name, role, hash, created_at)"
			    " VALUES (?, ?, ?, ?) RETURNING id", "ttti", name, role, hash_hex, store__now(st));
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "a token with this hash exists");
	if (!rc)
		rc = store__sql_one(c, store__token_json, &k, TOKEN_SELECT " WHERE k.id = ?", "i", id);
	rc = store__sql_tx_end(c, rc);
	if (!rc && out)
		*out = k;
	else
		json_decref(k);
	return rc;
}

int store__sql_token_find(struct store *st, const char *hash_hex, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *k = NULL;
	int rc;

	rc = store__sql_one(c, store__token_json, &k, TOKEN_SELECT " WHERE k.hash = ? AND NOT k.revoked", "t",
			    hash_hex);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no live token with that hash");
	if (rc)
		return rc;
	/* Write last_used_at at most once a minute: a token authenticates every request. */
	rc = store__sql_exec(c, NULL, "UPDATE api_tokens SET last_used_at = ?1 WHERE hash = ?2"
			     " AND (last_used_at IS NULL OR last_used_at < ?1::bigint - 60000000)", "it",
			     store__now(st), hash_hex);
	if (rc == STORE_EBUSY)
		rc = STORE_OK; /* a busy database must not refuse a valid token */
	if (rc) {
		json_decref(k);
		return rc;
	}
	*out = k;
	return STORE_OK;
}

int store__sql_token_list(struct store *st, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__token_json, out, TOKEN_SELECT " ORDER BY k.id", NULL);
}

int store__sql_token_revoke(struct store *st, int64_t id)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes, "UPDATE api_tokens SET revoked = true WHERE id = ?",
				 "i", id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "token %lld not found", (long long)id);
	return rc;
}

/* ---- the server's secrets ---- */

/* The stored secret called name into out: STORE_ENOTFOUND when there is none yet. */
static int secret_read(struct store *st, const char *name, unsigned char *out, size_t len)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	void *have = NULL;
	size_t n = 0;
	int rc;

	rc = store__sql_query(c, &cur, "SELECT value FROM secrets WHERE name = ?", "t", name);
	if (rc)
		return rc;
	rc = store__sql_step(c, &cur);
	if (rc < 0)
		rc = -rc;
	else if (rc == 0)
		rc = STORE_ENOTFOUND;
	else if (!(have = cur.row.ops->blob(&cur.row, 0, &n)) || n != len)
		rc = store__fail(st, STORE_ECORRUPT, "secret '%s' has %zu bytes, not %zu", name, n, len);
	else
		rc = STORE_OK;
	store__sql_done(c, &cur);
	if (!rc)
		memcpy(out, have, len);
	if (have)
		sodium_memzero(have, n);
	free(have);
	return rc;
}

int store__sql_secret_get(struct store *st, const char *name, unsigned char *out, size_t len)
{
	unsigned char *fresh;
	int rc = secret_read(st, name, out, len);

	if (rc != STORE_ENOTFOUND)
		return rc;
	/* made on first use, by whichever replica comes first; the others read that one */
	fresh = fl_malloc(len);
	fl_random_bytes(fresh, len);
	rc = store__sql_exec(STORE__SQL(st), NULL, "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)"
			     " ON CONFLICT (name) DO NOTHING", "txi", name, fresh, len, store__now(st));
	sodium_memzero(fresh, len);
	free(fresh);
	if (!rc)
		rc = secret_read(st, name, out, len);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "no secret '%s'", name);
	return rc;
}
