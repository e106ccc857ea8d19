/*
 * The front of the store, continued: the wrappers of the console's verbs
 * (users, sessions, failed sign-ins, presence, canned responses, the
 * stream's reads of the audit log, the queues' counts, the dashboard's
 * time series, corrections), split from store.c to keep files small. As
 * there, each public function is one STORE__WRAP (store_int.h): argument
 * checks, cleared out parameters, the handle's error message, fault
 * injection, and the one call of the op.
 */
#include <assert.h>
#include <string.h>

#include "wrap.h"


static int positive(struct store *st, int64_t v, const char *what)
{
	return v > 0 ? STORE_OK : store__fail(st, STORE_EINVAL, "%s must be positive", what);
}

/* A hex SHA-256, as the server hashes secrets. */
static int sha256_hex(struct store *st, const char *h)
{
	if (!h)
		return store__fail(st, STORE_EINVAL, "a hash is required");
	return store__is_sha256_hex(h) ? STORE_OK : store__fail(st, STORE_EINVAL, "a hash is 64 hex digits");
}

/* ---- users ---- */

int store_user_insert(struct store *st, const json_t *user, const char *password_hash, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_user_insert, WR, OR(need(st, user, "a user"), need(st, password_hash, "a password hash")),
	     user_insert(st, user, password_hash, out));
}

int store_user_get(struct store *st, int64_t id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_user_get, RD, STORE_OK, user_get(st, id, out));
}

int store_user_find_by_email(struct store *st, const char *email, json_t **out, char **password_hash)
{
	assert(out);
	*out = NULL;
	OUT_NULL(password_hash);
	WRAP(store_user_find_by_email, RD, need(st, email, "an email"),
	     user_find_by_email(st, email, out, password_hash));
}

int store_user_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_user_list, RD, STORE_OK, user_list(st, out));
}

int store_user_update(struct store *st, int64_t id, const json_t *fields, const char *password_hash,
		      json_t **out)
{
	OUT_NULL(out);
	WRAP(store_user_update, WR, need(st, fields, "user fields"),
	     user_update(st, id, fields, password_hash, out));
}

/* ---- sessions ---- */

int store_session_insert(struct store *st, int64_t user_id, const char *hash_hex, const char *address,
			 int idle_s, int max_s, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_session_insert, WR, OR(sha256_hex(st, hash_hex),
	     OR(positive(st, idle_s, "idle_s"), positive(st, max_s, "max_s"))),
	     session_insert(st, user_id, hash_hex, address, idle_s, max_s, out));
}

int store_session_find(struct store *st, const char *hash_hex, int idle_s, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_session_find, RD, OR(sha256_hex(st, hash_hex), positive(st, idle_s, "idle_s")),
	     session_find(st, hash_hex, idle_s, out));
}

int store_session_delete(struct store *st, const char *hash_hex)
{
	WRAP(store_session_delete, WR, sha256_hex(st, hash_hex), session_delete(st, hash_hex));
}

/* ---- failed sign-ins ---- */

int store_login_failure_add(struct store *st, const char *key, int window_s)
{
	WRAP(store_login_failure_add, WR, OR(need(st, key, "a key"), positive(st, window_s, "the window")),
	     login_failure_add(st, key, window_s));
}

int store_login_failures(struct store *st, const char *key, int window_s, int64_t *count,
			 int64_t *oldest_us)
{
	assert(count);
	*count = 0;
	if (oldest_us)
		*oldest_us = 0;
	WRAP(store_login_failures, RD, OR(need(st, key, "a key"), positive(st, window_s, "the window")),
	     login_failures(st, key, window_s, count, oldest_us));
}

int store_login_failures_clear(struct store *st, const char *key)
{
	WRAP(store_login_failures_clear, WR, need(st, key, "a key"), login_failures_clear(st, key));
}

/* ---- presence ---- */

int store_presence_set(struct store *st, const char *ticket_id, int64_t user_id, const char *state)
{
	WRAP(store_presence_set, WR, OR(need(st, ticket_id, "a ticket id"),
	     fl_word_index(fl_presence_states, state) >= 0 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "a presence state is viewing, replying or left")),
	     presence_set(st, ticket_id, user_id, state));
}

int store_presence_list(struct store *st, const char *ticket_id, int64_t since_us, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_presence_list, RD, STORE_OK, presence_list(st, ticket_id, since_us, out));
}

/* ---- canned responses ---- */

static int canned_id(struct store *st, const char *id)
{
	size_t i, n = id ? strlen(id) : 0;

	if (!n || n > 64)
		return store__fail(st, STORE_EINVAL, "a canned response's id is 1 to 64 characters");
	for (i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return store__fail(st, STORE_EINVAL, "a canned response's id has letters, digits, '-', '_' "
					   "and '.' only");
	}
	return STORE_OK;
}

static int text_of(struct store *st, const char *s, size_t max, const char *what)
{
	if (!s || !*s || strlen(s) > max)
		return store__fail(st, STORE_EINVAL, "%s must be 1 to %zu bytes", what, max);
	return fl_utf8_invalid_at(s, strlen(s)) < 0 ? STORE_OK :
	       store__fail(st, STORE_EINVAL, "%s is not valid UTF-8", what);
}

int store_canned_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_canned_list, RD, STORE_OK, canned_list(st, out));
}

int store_canned_put(struct store *st, const char *id, const char *title, const char *body,
		     const char *actor, json_t **out, bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_canned_put, WR, OR(canned_id(st, id), OR(text_of(st, title, 200, "the title"),
	     text_of(st, body, 50000, "the body"))), canned_put(st, id, title, body, actor, out, created));
}

int store_canned_delete(struct store *st, const char *id)
{
	WRAP(store_canned_delete, WR, canned_id(st, id), canned_delete(st, id));
}

/* ---- macros ---- */

static int macro_name(struct store *st, const char *name)
{
	/* the same names as canned responses', said of a macro */
	return canned_id(st, name) == STORE_OK ? STORE_OK
	       : store__fail(st, STORE_EINVAL, "a macro's name is 1 to 64 letters, digits, '-', '_' and '.'");
}

int store_macro_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_macro_list, RD, STORE_OK, macro_list(st, out));
}

int store_macro_get(struct store *st, const char *name, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_macro_get, RD, macro_name(st, name), macro_get(st, name, out));
}

int store_macro_put(struct store *st, const char *name, const char *description, const json_t *actions,
		    const char *actor, json_t **out, bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_macro_put, WR, OR(macro_name(st, name), OR(need(st, actions, "the actions"),
	     json_is_array(actions) ? STORE_OK : store__fail(st, STORE_EINVAL, "a macro's actions are an array"))),
	     macro_put(st, name, description, actions, actor, out, created));
}

int store_macro_delete(struct store *st, const char *name)
{
	WRAP(store_macro_delete, WR, macro_name(st, name), macro_delete(st, name));
}

/* ---- the audit log, queues, dashboard, corrections ---- */

int store_event_since(struct store *st, int64_t after_id, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_event_since, RD, STORE_OK,
	     event_since(st, after_id < 0 ? 0 : after_id, store__clamp_limit(limit, 1000, 10000), out));
}

int store_event_last_id(struct store *st, int64_t *id)
{
	assert(id);
	*id = 0;
	WRAP(store_event_last_id, RD, STORE_OK, event_last_id(st, id));
}

int store_ticket_counts(struct store *st, const char *user, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_ticket_counts, RD, STORE_OK, ticket_counts(st, user, out));
}

int store_metrics_timeseries(struct store *st, int64_t since_us, int64_t until_us, int bucket_s,
			     json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_metrics_timeseries, RD,
	     bucket_s < 1 || until_us <= since_us ?
	     store__fail(st, STORE_EINVAL, "the window must end after it starts, buckets at least one second") :
	     (until_us - since_us - 1) / ((int64_t)bucket_s * 1000000) >= 1000 ?
	     store__fail(st, STORE_EINVAL, "at most 1,000 buckets") : STORE_OK,
	     metrics_timeseries(st, since_us, until_us, bucket_s, out));
}

int store_corrections(struct store *st, int64_t since_us, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_corrections, RD, STORE_OK, corrections(st, since_us, out));
}

/* ---- chat sessions ---- */

static int chat_id(struct store *st, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (!n || n > 64)
		return store__fail(st, STORE_EINVAL, "a chat session's id is 1 to 64 characters");
	return STORE_OK;
}

static int optional_text(struct store *st, const char *s, size_t max, const char *what)
{
	return s ? text_of(st, s, max, what) : STORE_OK;
}

int store_chat_session_insert(struct store *st, const char *id, const char *hash_hex, const char *name,
			      const char *email, const char *address, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_chat_session_insert, WR,
	     OR(OR(chat_id(st, id), sha256_hex(st, hash_hex)),
		OR(optional_text(st, name, 200, "a name"), optional_text(st, email, 254, "an email"))),
	     chat_session_insert(st, id, hash_hex, name, email, address, out));
}

int store_chat_session_find(struct store *st, const char *id, const char *hash_hex, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_chat_session_find, RD, OR(chat_id(st, id), sha256_hex(st, hash_hex)),
	     chat_session_find(st, id, hash_hex, out));
}

int store_chat_session_of_ticket(struct store *st, const char *ticket_id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_chat_session_of_ticket, RD, need(st, ticket_id, "a ticket id"),
	     chat_session_of_ticket(st, ticket_id, out));
}

int store_chat_session_link(struct store *st, const char *id, const char *ticket_id)
{
	WRAP(store_chat_session_link, WR, OR(chat_id(st, id), need(st, ticket_id, "a ticket id")),
	     chat_session_link(st, id, ticket_id));
}

int store_chat_session_by_email(struct store *st, const char *id, const char *email)
{
	WRAP(store_chat_session_by_email, WR, OR(chat_id(st, id), text_of(st, email, 254, "an email")),
	     chat_session_by_email(st, id, email));
}

int store_agents_available(struct store *st, int64_t since_us, int64_t *count)
{
	assert(count);
	*count = 0;
	WRAP(store_agents_available, RD, STORE_OK, agents_available(st, since_us, count));
}
