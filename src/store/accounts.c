/*
 * People, for both SQL backends (dialect.h): users, their sessions and the
 * failed sign-ins counted against an account or an address. The store
 * keeps what the server hands it: a password's Argon2id hash and a
 * session's SHA-256 (the secrets themselves stay with the server and the
 * client's cookie). Sessions end by two limits, the caller's: idle_s after
 * their last use and max_s after they began; finding one checks both, and
 * starting one forgets every session that has ended. Disabling a user or
 * changing a password ends that user's sessions in the same transaction.
 * Input is validated by input.c; rows are decoded by rows.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

#define USER_SELECT "SELECT " STORE__USER_COLS " FROM users u"
#define SESSION_SELECT "SELECT " STORE__SESSION_COLS " FROM sessions s JOIN users u ON u.id = s.user_id"

/* A session's use is written at most this often (each request finds the session). */
#define TOUCH_EVERY_US (60 * INT64_C(1000000))

/* ---- users ---- */

int store__sql_user_get(struct store *st, int64_t id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__user_json, out, USER_SELECT " WHERE u.id = ?", "i", id);

	return rc == STORE_ENOTFOUND ? store__fail(st, rc, "user %lld not found", (long long)id) : rc;
}

int store__sql_user_insert(struct store *st, const json_t *user, const char *password_hash, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__user_in in;
	json_t *u = NULL;
	int64_t id = 0, now = store__now(st);
	int rc;

	rc = store__user_in_parse(st, user, false, &in);
	if (rc)
		goto out;
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_int(c, &id, "INSERT INTO users (email, name, role, department, skills, password_hash,"
			    " created_at, updated_at, availability, max_open) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
			    " COALESCE(?::text, 'offline'), ?) RETURNING id", "ttttttiitj",
			    in.email, in.name, in.role, in.department, in.skills, password_hash, now, now,
			    in.availability, in.max_open);
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "a user with the email '%s' exists", in.email);
	if (!rc)
		rc = store__sql_user_get(st, id, &u);
	rc = store__sql_tx_end(c, rc);
out:
	store__user_in_release(&in);
	if (!rc && out)
		*out = u;
	else
		json_decref(u);
	return rc;
}

int store__sql_user_find_by_email(struct store *st, const char *email, json_t **out, char **password_hash)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	char *key = fl_strdup(email), *p;
	int rc, r;

	/* emails are stored with ASCII letters in lower case (input.c): the same key, whatever the case given */
	for (p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	rc = store__sql_query(c, &cur, "SELECT " STORE__USER_COLS ", u.password_hash FROM users u"
			      " WHERE u.email = ?", "t", key);
	free(key);
	if (rc)
		return rc;
	r = store__sql_step(c, &cur);
	if (r > 0) {
		*out = store__user_json(&cur.row);
		if (password_hash)
			*password_hash = fl_strdup(cur.row.ops->text(&cur.row, STORE__USER_NCOLS));
	}
	store__sql_done(c, &cur);
	if (r < 0)
		return -r;
	return r ? STORE_OK : store__fail(st, STORE_ENOTFOUND, "no user with email '%s'", email);
}

int store__sql_user_list(struct store *st, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__user_json, out, USER_SELECT " ORDER BY u.id", NULL);
}

int store__sql_user_update(struct store *st, int64_t id, const json_t *fields, const char *password_hash,
			   json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__user_in in;
	json_t *u = NULL;
	int rc, changes = 0;

	rc = store__user_in_parse(st, fields, true, &in);
	if (rc)
		goto out;
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_exec(c, &changes,
			     "UPDATE users SET"
			     " name = CASE WHEN ?1::boolean THEN ?2::text ELSE name END,"
			     " role = CASE WHEN ?3::boolean THEN ?4::text ELSE role END,"
			     " department = CASE WHEN ?5::boolean THEN ?6::text ELSE department END,"
			     " skills = CASE WHEN ?7::boolean THEN ?8::jsonb ELSE skills END,"
			     " disabled = CASE WHEN ?9::boolean THEN ?10::boolean ELSE disabled END,"
			     " password_hash = CASE WHEN ?11::boolean THEN ?12::text ELSE password_hash END,"
			     " availability = CASE WHEN ?15::boolean THEN ?16::text ELSE availability END,"
			     " max_open = CASE WHEN ?17::boolean THEN ?18::bigint ELSE max_open END,"
			     " updated_at = ?13 WHERE id = ?14",
			     "btbtbtbtbbbtiibtbj", (int)in.has_name, in.name, (int)in.has_role, in.role,
			     (int)in.has_department, in.department, (int)in.has_skills, in.skills,
			     (int)in.has_disabled, (int)in.disabled, password_hash != NULL, password_hash,
			     store__now(st), id, (int)in.has_availability, in.availability, (int)in.has_max_open,
			     in.max_open);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "user %lld not found", (long long)id);
	/* a disabled user, or one whose password changed, is signed out everywhere */
	if (!rc && ((in.has_disabled && in.disabled) || password_hash))
		rc = store__sql_exec(c, NULL, "DELETE FROM sessions WHERE user_id = ?", "i", id);
	if (!rc && out)
		rc = store__sql_user_get(st, id, &u);
	rc = store__sql_tx_end(c, rc);
out:
	store__user_in_release(&in);
	if (!rc && out)
		*out = u;
	else
		json_decref(u);
	return rc;
}

/* ---- sessions ---- */

int store__sql_session_insert(struct store *st, int64_t user_id, const char *hash_hex, const char *address,
			      int idle_s, int max_s, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st), id = 0, disabled = 0;
	json_t *s = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_int(c, &disabled, "SELECT CASE WHEN disabled THEN 1 ELSE 0 END FROM users WHERE id = ?",
			    "i", user_id);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "user %lld not found", (long long)user_id);
	if (!rc && disabled)
		rc = store__fail(st, STORE_ECONFLICT, "user %lld is disabled", (long long)user_id);
	/* the sessions that have ended, anyone's, go as a new one begins */
	if (!rc)
		rc = store__sql_exec(c, NULL, "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at <= ?2",
				     "ii", now, now - (int64_t)idle_s * 1000000);
	if (!rc)
		rc = store__sql_int(c, &id, "INSERT INTO sessions (user_id, hash, address, created_at, last_seen_at,"
				    " expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5) RETURNING id", "ittii", user_id,
				    hash_hex, address, now, now + (int64_t)max_s * 1000000);
	if (rc == STORE_ECONSTRAINT)
		store__fail(st, rc, "a session with this hash exists");
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE users SET last_seen_at = ? WHERE id = ?", "ii", now, user_id);
	if (!rc && out)
		rc = store__sql_one(c, store__session_json, &s, SESSION_SELECT " WHERE s.id = ?", "i", id);
	rc = store__sql_tx_end(c, rc);
	if (!rc && out)
		*out = s;
	else
		json_decref(s);
	return rc;
}

int store__sql_session_find(struct store *st, const char *hash_hex, int idle_s, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st), seen, ends;
	json_t *s = NULL, *u;
	int rc;

	rc = store__sql_one(c, store__session_json, &s, SESSION_SELECT " WHERE s.hash = ?", "t", hash_hex);
	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "no session with that hash");
	if (rc)
		return rc;
	u = json_object_get(s, "user");
	if (fl_time_parse(fl_json_str(s, "last_seen_at", ""), &seen) ||
	    fl_time_parse(fl_json_str(s, "expires_at", ""), &ends))
		seen = ends = 0;
	if (now >= ends || now - seen >= (int64_t)idle_s * 1000000 || fl_json_bool(u, "disabled", false)) {
		json_decref(s);
		/* an ended session is forgotten; a busy store may do it at the next sign-in */
		rc = store__sql_exec(c, NULL, "DELETE FROM sessions WHERE hash = ?", "t", hash_hex);
		if (rc && rc != STORE_EBUSY)
			return rc;
		return store__fail(st, STORE_ENOTFOUND, "the session has ended");
	}
	if (now - seen >= TOUCH_EVERY_US) {
		rc = store__sql_tx_begin(c, true);
		if (!rc) {
			rc = store__sql_exec(c, NULL, "UPDATE sessions SET last_seen_at = ? WHERE hash = ?", "it",
					     now, hash_hex);
			if (!rc)
				rc = store__sql_exec(c, NULL, "UPDATE users SET last_seen_at = ? WHERE id = ?", "ii",
						     now, fl_json_int(u, "id", 0));
			rc = store__sql_tx_end(c, rc);
		}
		if (rc == STORE_EBUSY)
			rc = STORE_OK;   /* a busy database must not sign anyone out */
		if (rc) {
			json_decref(s);
			return rc;
		}
	}
	*out = s;
	return STORE_OK;
}

int store__sql_session_delete(struct store *st, const char *hash_hex)
{
	return store__sql_exec(STORE__SQL(st), NULL, "DELETE FROM sessions WHERE hash = ?", "t", hash_hex);
}

/* ---- failed sign-ins ---- */

int store__sql_login_failure_add(struct store *st, const char *key, int window_s)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, NULL, "DELETE FROM login_failures WHERE at <= ?", "i",
			     now - (int64_t)window_s * 1000000);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO login_failures (key, at) VALUES (?, ?)", "ti", key, now);
	return store__sql_tx_end(c, rc);
}

int store__sql_login_failures(struct store *st, const char *key, int window_s, int64_t *count,
			      int64_t *oldest_us)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	int rc;

	rc = store__sql_query(c, &cur, "SELECT count(*), coalesce(min(at), 0) FROM login_failures"
			      " WHERE key = ? AND at > ?", "ti", key,
			      store__now(st) - (int64_t)window_s * 1000000);
	if (rc)
		return rc;
	rc = store__sql_step(c, &cur);
	if (rc > 0) {
		*count = cur.row.ops->i64(&cur.row, 0);
		if (oldest_us)
			*oldest_us = cur.row.ops->i64(&cur.row, 1);
	}
	store__sql_done(c, &cur);
	return rc < 0 ? -rc : STORE_OK;
}

int store__sql_login_failures_clear(struct store *st, const char *key)
{
	return store__sql_exec(STORE__SQL(st), NULL, "DELETE FROM login_failures WHERE key = ?", "t", key);
}
