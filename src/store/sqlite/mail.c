/*
 * SQLite: the email channel's records (migration 2). Blob bytes are bound
 * and read with sqlite3_bind_blob / sqlite3_column_blob directly, since the
 * binding language (sqlite_int.h) has no blob letter: the statement is
 * prepared with the other parameters, then the blob is bound by index.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

#define MAIL_RAW_SELECT "SELECT " STORE__MAIL_RAW_COLS \
	" FROM mail_raw r LEFT JOIN tickets t ON t.number = r.ticket_number"

/* Inserts the blob unless its hash exists; in the caller's transaction. */
static int blob_insert(struct sq *q, const char *hex, const void *data, size_t len,
		       const char *content_type, bool *created)
{
	sqlite3_stmt *s;
	int rc;

	rc = sq_prepare(q, "INSERT INTO blobs (sha256, size, content_type, data, created_at)"
			" VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
			&s, "tit", hex, (int64_t)len, content_type);
	if (rc)
		return rc;
	if (sqlite3_bind_blob64(s, 4, data, len, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, 5, store__now(&q->base)) != SQLITE_OK) {
		rc = sq_fail(q, sqlite3_errcode(q->db));
		sq_done(s);
		return rc;
	}
	rc = sq_step(q, s);
	if (created)
		*created = rc == 0 && sqlite3_changes(q->db) > 0;
	sq_done(s);
	return rc < 0 ? -rc : STORE_OK;
}

int sq_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		char sha256_hex[65], bool *created)
{
	struct sq *q = SQ(st);
	int rc;

	store__sha256_hex(data, len, sha256_hex);
	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = blob_insert(q, sha256_hex, data, len, content_type, created);
	return sq_tx_end(q, rc);
}

int sq_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len, json_t **meta)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	int rc;

	rc = sq_prepare(q, "SELECT " STORE__BLOB_COLS ", b.data FROM blobs b WHERE b.sha256 = ?", &s, "t",
			sha256_hex);
	if (rc)
		return rc;
	rc = sq_step(q, s);
	if (rc == 1) {
		size_t n = (size_t)sqlite3_column_bytes(s, 4);
		const void *b = sqlite3_column_blob(s, 4);
		char *copy = fl_malloc(n + 1);

		if (n)
			memcpy(copy, b, n);
		copy[n] = '\0';
		*data = copy;
		*len = n;
		if (meta) {
			struct store__row r = sq_row_of(s);

			*meta = store__blob_json(&r);
		}
		rc = STORE_OK;
	} else if (rc == 0) {
		rc = store__fail(st, STORE_ENOTFOUND, "no blob with hash %s", sha256_hex);
	} else {
		rc = -rc;
	}
	sq_done(s);
	return rc;
}

int sq_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		    json_t **out, bool *created)
{
	struct sq *q = SQ(st);
	char hex[65];
	int64_t id = 0;
	json_t *r = NULL;
	int rc, changes = 0;

	store__sha256_hex(data, len, hex);
	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = blob_insert(q, hex, data, len, "message/rfc822", NULL);
	if (!rc)
		rc = sq_exec(q, &changes, "INSERT INTO mail_raw (sha256, size, source, received_at)"
			     " VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
			     "titi", hex, (int64_t)len, source, store__now(st));
	if (!rc)
		rc = sq_int(q, &id, "SELECT id FROM mail_raw WHERE sha256 = ?", "t", hex);
	if (!rc)
		rc = sq_row(q, store__mail_raw_json, &r, MAIL_RAW_SELECT " WHERE r.id = ?", "i", id);
	rc = sq_tx_end(q, rc);
	if (rc) {
		json_decref(r);
		return rc;
	}
	if (created)
		*created = changes > 0;
	if (out)
		*out = r;
	else
		json_decref(r);
	return STORE_OK;
}

int sq_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
		       const char *error)
{
	struct sq *q = SQ(st);
	int64_t number = -1;
	int rc, changes = 0;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	if (ticket_id)
		rc = sq_ticket_number(q, ticket_id, &number);
	if (!rc)
		rc = sq_exec(q, &changes, "UPDATE mail_raw SET status = ?, ticket_number = ?, error = ?,"
			     " processed_at = ? WHERE id = ?", "tjtii", status, number, error,
			     store__now(st), id);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "raw message %lld not found", (long long)id);
	return sq_tx_end(q, rc);
}

int sq_mail_raw_get(struct store *st, int64_t id, json_t **out)
{
	int rc = sq_row(SQ(st), store__mail_raw_json, out, MAIL_RAW_SELECT " WHERE r.id = ?", "i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "raw message %lld not found", (long long)id);
	return rc;
}

int sq_mail_raw_list(struct store *st, const char *status, int limit, json_t **out)
{
	int rc;

	if (status)
		rc = sq_rows(SQ(st), store__mail_raw_json, out,
			     MAIL_RAW_SELECT " WHERE r.status = ? ORDER BY r.id LIMIT ?", "ti", status,
			     (int64_t)limit);
	else
		rc = sq_rows(SQ(st), store__mail_raw_json, out, MAIL_RAW_SELECT " ORDER BY r.id LIMIT ?",
			     "i", (int64_t)limit);
	if (!rc && !*out)
		*out = json_array();
	return rc;
}

int sq_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity, int64_t *last_uid)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	int rc;

	rc = sq_prepare(q, "SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox = ?", &s, "t", mailbox);
	if (rc)
		return rc;
	rc = sq_step(q, s);
	if (rc == 1) {
		*uidvalidity = sqlite3_column_int64(s, 0);
		*last_uid = sqlite3_column_int64(s, 1);
		rc = STORE_OK;
	} else if (rc == 0) {
		rc = store__fail(st, STORE_ENOTFOUND, "mailbox '%s' was never polled", mailbox);
	} else {
		rc = -rc;
	}
	sq_done(s);
	return rc;
}

int sq_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity, int64_t last_uid)
{
	return sq_exec(SQ(st), NULL, "INSERT INTO imap_state (mailbox, uidvalidity, last_uid, updated_at)"
		       " VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET"
		       " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
		       " updated_at = excluded.updated_at", "tiii", mailbox, uidvalidity, last_uid,
		       store__now(st));
}

int sq_rate_hit(struct store *st, const char *key, int window_s, int64_t *count)
{
	struct sq *q = SQ(st);
	int64_t now = store__now(st), since = now - (int64_t)window_s * 1000000;
	int rc;

	rc = sq_tx_begin(q, true);
	if (rc)
		return rc;
	rc = sq_exec(q, NULL, "DELETE FROM rate_hits WHERE at <= ?", "i", since);
	if (!rc)
		rc = sq_exec(q, NULL, "INSERT INTO rate_hits (key, at) VALUES (?, ?)", "ti", key, now);
	if (!rc)
		rc = sq_int(q, count, "SELECT count(*) FROM rate_hits WHERE key = ? AND at > ?", "ti", key, since);
	return sq_tx_end(q, rc);
}
