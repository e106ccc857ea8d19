/*
 * Chat sessions, for both SQL backends (dialect.h): a visitor of a site
 * that embeds the chat widget opens a session and gets a token; the store
 * keeps the token's SHA-256 (the server hashes it; the secret stays with
 * the visitor's browser), the name and email the visitor gave, whether the
 * conversation continues by email (no agent was available), the client's
 * address, and, once the first message made one, the session's ticket.
 * Finding a session takes its id and the hash together: another visitor's
 * token finds nothing. Also here: whether anyone is there to answer (the
 * console sessions in use lately), and whether a session's visitor is
 * typing, kept in the store so that every replica's live stream reads it
 * (as it reads presence) whichever replica the visitor's request reached.
 */
#include <string.h>

#include "dialect.h"
#include "wrap.h"

#define CHAT_SELECT \
	"SELECT c.id, c.name, c.email, c.by_email, t.id, t.number, t.status, c.created_at, c.updated_at" \
	" FROM chat_sessions c LEFT JOIN tickets t ON t.number = c.ticket_number"

static json_t *chat_json(const struct store__row *r)
{
	char at[32], upd[32];
	const char *name = r->ops->text(r, 1), *email = r->ops->text(r, 2);

	fl_time_rfc3339(at, r->ops->i64(r, 7));
	fl_time_rfc3339(upd, r->ops->i64(r, 8));
	return json_pack("{s:s, s:s?, s:s?, s:b, s:o, s:o, s:o, s:s, s:s}", "id", r->ops->text(r, 0),
			 "name", name, "email", email, "by_email", r->ops->i64(r, 3) != 0,
			 "ticket_id", r->ops->is_null(r, 4) ? json_null() : json_string(r->ops->text(r, 4)),
			 "number", r->ops->is_null(r, 5) ? json_null() : json_integer(r->ops->i64(r, 5)),
			 "ticket_status", r->ops->is_null(r, 6) ? json_null() : json_string(r->ops->text(r, 6)),
			 "created_at", at, "updated_at", upd);
}

int store__sql_chat_session_insert(struct store *st, const char *id, const char *hash_hex, const char *name,
				   const char *email, const char *address, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	json_t *s = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, NULL, "INSERT INTO chat_sessions (id, token_hash, name, email, by_email, address,"
			     " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, false, ?5, ?6, ?6)", "ttttti", id,
			     hash_hex, name, email, address, now);
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "a chat session with this id or token exists");
	if (!rc && out)
		rc = store__sql_one(c, chat_json, &s, CHAT_SELECT " WHERE c.id = ?", "t", id);
	rc = store__sql_tx_end(c, rc);
	if (!rc && out)
		*out = s;
	else
		json_decref(s);
	return rc;
}

int store__sql_chat_session_find(struct store *st, const char *id, const char *hash_hex, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), chat_json, out, CHAT_SELECT " WHERE c.id = ? AND c.token_hash = ?",
				"tt", id, hash_hex);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "no chat session with that id and token") : rc;
}

int store__sql_chat_session_of_ticket(struct store *st, const char *ticket_id, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc) {
		rc = store__sql_one(c, chat_json, out, CHAT_SELECT " WHERE c.ticket_number = ?", "i", number);
		if (rc == STORE_ENOTFOUND)
			store__fail(st, rc, "ticket %s has no chat session", ticket_id);
	}
	rc = store__sql_read_end(c, rc);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int store__sql_chat_session_link(struct store *st, const char *id, const char *ticket_id)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int changes = 0, rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_exec(c, &changes, "UPDATE chat_sessions SET ticket_number = ?, updated_at = ?"
				     " WHERE id = ? AND ticket_number IS NULL", "iit", number, store__now(st), id);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ECONFLICT, "chat session %s is not found or has a ticket already", id);
	return store__sql_tx_end(c, rc);
}

int store__sql_chat_session_by_email(struct store *st, const char *id, const char *email)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes, "UPDATE chat_sessions SET email = ?, by_email = true,"
				 " updated_at = ? WHERE id = ?", "tit", email, store__now(st), id);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "chat session %s not found", id);
	return rc;
}

int store__sql_agents_available(struct store *st, int64_t since_us, int64_t *count)
{
	return store__sql_int(STORE__SQL(st), count, "SELECT count(DISTINCT s.user_id) FROM sessions s"
			      " JOIN users u ON u.id = s.user_id WHERE s.last_seen_at > ? AND s.expires_at > ?"
			      " AND NOT u.disabled", "ii", since_us, store__now(st));
}

int store__sql_chat_typing_set(struct store *st, const char *ticket_id, bool typing)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int changes = 0, rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_exec(c, &changes, typing ? "UPDATE chat_sessions SET typing = true, typing_at = ?"
							   " WHERE ticket_number = ?"
							 : "UPDATE chat_sessions SET typing = false, typing_at = ?"
							   " WHERE ticket_number = ?",
				     "ii", store__now(st), number);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "ticket %s has no chat session", ticket_id);
	return store__sql_tx_end(c, rc);
}

static json_t *typing_json(const struct store__row *r)
{
	char at[32];

	fl_time_rfc3339(at, r->ops->i64(r, 4));
	return json_pack("{s:s, s:s, s:I, s:b, s:s}", "session_id", r->ops->text(r, 0), "ticket_id", r->ops->text(r, 1),
			 "number", (json_int_t)r->ops->i64(r, 2), "typing", r->ops->i64(r, 3) != 0, "at", at);
}

int store__sql_chat_typing_list(struct store *st, int64_t since_us, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), typing_json, out,
			       "SELECT c.id, t.id, t.number, c.typing, c.typing_at FROM chat_sessions c"
			       " JOIN tickets t ON t.number = c.ticket_number WHERE c.typing_at > ?"
			       " ORDER BY c.typing_at, c.id", "i", since_us);
}

/* ---- the public wrappers (typing; the other chat verbs' are in store_console.c) ---- */

int store_chat_typing_set(struct store *st, const char *ticket_id, bool typing)
{
	WRAP(store_chat_typing_set, WR, need(st, ticket_id, "a ticket id"), chat_typing_set(st, ticket_id, typing));
}

int store_chat_typing_list(struct store *st, int64_t since_us, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_chat_typing_list, RD, need(st, out, "an output"), chat_typing_list(st, since_us, out));
}
