/*
 * The email channel's records (migration 2: blobs, raw mail, IMAP state,
 * rate hits) for both SQL backends (dialect.h): the row decoders, the hash,
 * the checks and the SQL. Blob bytes are bound with the format's x letter;
 * each dialect carries them its way (SQLite as a blob, PostgreSQL in
 * bytea's hex form).
 */
#include <string.h>

#include <sodium.h>

#include "dialect.h"

static json_t *text_or_null(const struct store__row *r, int c)
{
	const char *s = r->ops->text(r, c);

	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(const struct store__row *r, int c)
{
	char buf[32];

	if (r->ops->is_null(r, c))
		return json_null();
	fl_time_rfc3339(buf, r->ops->i64(r, c));
	return json_string(buf);
}

json_t *store__mail_raw_json(const struct store__row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->ops->i64(r, 0)));
	json_object_set_new(o, "sha256", text_or_null(r, 1));
	json_object_set_new(o, "size", json_integer(r->ops->i64(r, 2)));
	json_object_set_new(o, "source", text_or_null(r, 3));
	json_object_set_new(o, "status", text_or_null(r, 4));
	json_object_set_new(o, "ticket_id", text_or_null(r, 5));
	json_object_set_new(o, "error", text_or_null(r, 6));
	json_object_set_new(o, "received_at", time_or_null(r, 7));
	json_object_set_new(o, "processed_at", time_or_null(r, 8));
	return o;
}

json_t *store__blob_json(const struct store__row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "sha256", text_or_null(r, 0));
	json_object_set_new(o, "size", json_integer(r->ops->i64(r, 1)));
	json_object_set_new(o, "content_type", text_or_null(r, 2));
	json_object_set_new(o, "created_at", time_or_null(r, 3));
	return o;
}

void store__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	fl_hex(out, h, sizeof(h));
}

bool store__is_sha256_hex(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool store__valid_mail_status(const char *status)
{
	static const char *const ok[] = { "ticket", "appended", "duplicate", "quarantined", "failed" };
	size_t i;

	for (i = 0; status && i < FL_ARRAY_SIZE(ok); i++)
		if (!strcmp(status, ok[i]))
			return true;
	return false;
}

/* ---- the SQL ---- */

#define MAIL_RAW_SELECT "SELECT " STORE__MAIL_RAW_COLS \
	" FROM mail_raw r LEFT JOIN tickets t ON t.number = r.ticket_number"

/* Inserts the blob unless its hash exists. */
static int blob_insert(struct store__sql *c, const char *hex, const void *data, size_t len,
		       const char *content_type, bool *created)
{
	int changes = 0;
	int rc = store__sql_exec(c, &changes, "INSERT INTO blobs (sha256, size, content_type, data, created_at)"
				 " VALUES (?, ?, ?, ?::bytea, ?) ON CONFLICT (sha256) DO NOTHING",
				 "titxi", hex, (int64_t)len, content_type, data, len, store__now(&c->base));

	if (created)
		*created = !rc && changes > 0;
	return rc;
}

int store__sql_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
			char sha256_hex[65], bool *created)
{
	store__sha256_hex(data, len, sha256_hex);
	return blob_insert(STORE__SQL(st), sha256_hex, data, len, content_type, created);
}

int store__sql_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len,
			json_t **meta)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	int rc;

	rc = store__sql_query(c, &cur, "SELECT " STORE__BLOB_COLS ", b.data FROM blobs b WHERE b.sha256 = ?",
			      "t", sha256_hex);
	if (rc)
		return rc;
	rc = store__sql_step(c, &cur);
	if (rc < 0) {
		rc = -rc;
	} else if (rc == 0) {
		rc = store__fail(st, STORE_ENOTFOUND, "no blob with hash %s", sha256_hex);
	} else if (!(*data = cur.row.ops->blob(&cur.row, 4, len))) {
		rc = store__fail(st, STORE_EINTERNAL, "blob %s came back in an unexpected form", sha256_hex);
	} else {
		if (meta)
			*meta = store__blob_json(&cur.row);
		rc = STORE_OK;
	}
	store__sql_done(c, &cur);
	return rc;
}

int store__sql_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
			    json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	char hex[65];
	int64_t id = 0;
	json_t *r = NULL;
	int rc, changes = 0;

	store__sha256_hex(data, len, hex);
	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = blob_insert(c, hex, data, len, "message/rfc822", NULL);
	if (!rc)
		rc = store__sql_exec(c, &changes, "INSERT INTO mail_raw (sha256, size, source, received_at)"
				     " VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
				     "titi", hex, (int64_t)len, source, store__now(st));
	if (!rc)
		rc = store__sql_int(c, &id, "SELECT id FROM mail_raw WHERE sha256 = ?", "t", hex);
	if (!rc)
		rc = store__sql_one(c, store__mail_raw_json, &r, MAIL_RAW_SELECT " WHERE r.id = ?", "i", id);
	rc = store__sql_tx_end(c, rc);
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

int store__sql_mail_raw_finish(struct store *st, int64_t id, const char *status,
			       const char *ticket_id, const char *error)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number = -1;
	int rc, changes = 0;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	if (ticket_id)
		rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_exec(c, &changes, "UPDATE mail_raw SET status = ?, ticket_number = ?, error = ?,"
				     " processed_at = ? WHERE id = ?", "tjtii", status, number, error,
				     store__now(st), id);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "raw message %lld not found", (long long)id);
	return store__sql_tx_end(c, rc);
}

int store__sql_mail_raw_get(struct store *st, int64_t id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), store__mail_raw_json, out, MAIL_RAW_SELECT " WHERE r.id = ?",
				"i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "raw message %lld not found", (long long)id);
	return rc;
}

int store__sql_mail_raw_list(struct store *st, const char *status, int limit, json_t **out)
{
	if (status)
		return store__sql_rows(STORE__SQL(st), store__mail_raw_json, out,
				       MAIL_RAW_SELECT " WHERE r.status = ? ORDER BY r.id LIMIT ?", "ti", status,
				       (int64_t)limit);
	return store__sql_rows(STORE__SQL(st), store__mail_raw_json, out,
			       MAIL_RAW_SELECT " ORDER BY r.id LIMIT ?", "i", (int64_t)limit);
}

int store__sql_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity,
			      int64_t *last_uid)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	int rc;

	rc = store__sql_query(c, &cur, "SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox = ?", "t",
			      mailbox);
	if (rc)
		return rc;
	rc = store__sql_step(c, &cur);
	if (rc > 0) {
		*uidvalidity = cur.row.ops->i64(&cur.row, 0);
		*last_uid = cur.row.ops->i64(&cur.row, 1);
		rc = STORE_OK;
	} else if (rc == 0) {
		rc = store__fail(st, STORE_ENOTFOUND, "mailbox '%s' was never polled", mailbox);
	} else {
		rc = -rc;
	}
	store__sql_done(c, &cur);
	return rc;
}

int store__sql_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity,
			      int64_t last_uid)
{
	return store__sql_exec(STORE__SQL(st), NULL,
			       "INSERT INTO imap_state (mailbox, uidvalidity, last_uid, updated_at)"
			       " VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET"
			       " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
			       " updated_at = excluded.updated_at", "tiii", mailbox, uidvalidity, last_uid,
			       store__now(st));
}

int store__sql_rate_hit(struct store *st, const char *key, int window_s, int64_t *count)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st), since = now - (int64_t)window_s * 1000000;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, NULL, "DELETE FROM rate_hits WHERE at <= ?", "i", since);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO rate_hits (key, at) VALUES (?, ?)", "ti", key, now);
	if (!rc)
		rc = store__sql_int(c, count, "SELECT count(*) FROM rate_hits WHERE key = ? AND at > ?", "ti",
				    key, since);
	return store__sql_tx_end(c, rc);
}
