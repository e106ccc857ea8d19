/*
 * PostgreSQL: the email channel's records (migration 2). Parameters and
 * results travel as text, so blob bytes go in and come out in bytea's hex
 * form ("\x4865..."), which PostgreSQL reads and writes by default.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

#define MAIL_RAW_SELECT "SELECT " STORE__MAIL_RAW_COLS \
	" FROM mail_raw r LEFT JOIN tickets t ON t.number = r.ticket_number"

/* bytea's hex input form of data. Caller frees. */
static char *bytea_hex(const void *data, size_t len)
{
	char *s = fl_malloc(2 * len + 3);

	s[0] = '\\';
	s[1] = 'x';
	fl_hex(s + 2, data, len);
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes bytea's hex output; false when it is not in that form. */
static bool bytea_unhex(const char *s, unsigned char **out, size_t *len)
{
	size_t n, i;
	unsigned char *b;

	if (!s || s[0] != '\\' || s[1] != 'x')
		return false;
	s += 2;
	n = strlen(s);
	if (n % 2)
		return false;
	b = fl_malloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return false;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	b[n / 2] = '\0';
	*out = b;
	*len = n / 2;
	return true;
}

static int blob_insert(struct pg *p, const char *hex, const void *data, size_t len,
		       const char *content_type, bool *created)
{
	char *bytes = bytea_hex(data, len);
	int rc, changes = 0;

	rc = pg_exec(p, &changes, "INSERT INTO blobs (sha256, size, content_type, data, created_at)"
		     " VALUES ($1, $2, $3, $4::bytea, $5) ON CONFLICT (sha256) DO NOTHING",
		     "titti", hex, (int64_t)len, content_type, bytes, store__now(&p->base));
	free(bytes);
	if (created)
		*created = !rc && changes > 0;
	return rc;
}

int pg_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		char sha256_hex[65], bool *created)
{
	store__sha256_hex(data, len, sha256_hex);
	return blob_insert(PG(st), sha256_hex, data, len, content_type, created);
}

int pg_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len, json_t **meta)
{
	struct pg *p = PG(st);
	PGresult *res;
	unsigned char *b;
	int rc;

	rc = pg_query(p, &res, "SELECT " STORE__BLOB_COLS ", b.data FROM blobs b WHERE b.sha256 = $1", "t",
		      sha256_hex);
	if (rc)
		return rc;
	if (PQntuples(res) < 1) {
		rc = store__fail(st, STORE_ENOTFOUND, "no blob with hash %s", sha256_hex);
	} else if (!bytea_unhex(PQgetvalue(res, 0, 4), &b, len)) {
		rc = store__fail(st, STORE_EINTERNAL, "blob %s came back in an unexpected form", sha256_hex);
	} else {
		*data = b;
		if (meta) {
			struct store__row r = pg_row_of(res, 0);

			*meta = store__blob_json(&r);
		}
	}
	PQclear(res);
	return rc;
}

int pg_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		    json_t **out, bool *created)
{
	struct pg *p = PG(st);
	char hex[65];
	int64_t id = 0;
	json_t *r = NULL;
	int rc, changes = 0;

	store__sha256_hex(data, len, hex);
	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	rc = blob_insert(p, hex, data, len, "message/rfc822", NULL);
	if (!rc)
		rc = pg_exec(p, &changes, "INSERT INTO mail_raw (sha256, size, source, received_at)"
			     " VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
			     "titi", hex, (int64_t)len, source, store__now(st));
	if (!rc)
		rc = pg_int(p, &id, "SELECT id FROM mail_raw WHERE sha256 = $1", "t", hex);
	if (!rc)
		rc = pg_row(p, store__mail_raw_json, &r, MAIL_RAW_SELECT " WHERE r.id = $1", "i", id);
	rc = pg_tx_end(p, rc);
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

int pg_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
		       const char *error)
{
	struct pg *p = PG(st);
	int64_t number = -1;
	int rc, changes = 0;

	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	if (ticket_id)
		rc = pg_ticket_number(p, ticket_id, &number);
	if (!rc)
		rc = pg_exec(p, &changes, "UPDATE mail_raw SET status = $1, ticket_number = $2, error = $3,"
			     " processed_at = $4 WHERE id = $5", "tjtii", status, number, error,
			     store__now(st), id);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "raw message %lld not found", (long long)id);
	return pg_tx_end(p, rc);
}

int pg_mail_raw_get(struct store *st, int64_t id, json_t **out)
{
	int rc = pg_row(PG(st), store__mail_raw_json, out, MAIL_RAW_SELECT " WHERE r.id = $1", "i", id);

	if (rc == STORE_ENOTFOUND)
		return store__fail(st, rc, "raw message %lld not found", (long long)id);
	return rc;
}

int pg_mail_raw_list(struct store *st, const char *status, int limit, json_t **out)
{
	int rc;

	if (status)
		rc = pg_rows(PG(st), store__mail_raw_json, out,
			     MAIL_RAW_SELECT " WHERE r.status = $1 ORDER BY r.id LIMIT $2", "ti", status,
			     (int64_t)limit);
	else
		rc = pg_rows(PG(st), store__mail_raw_json, out, MAIL_RAW_SELECT " ORDER BY r.id LIMIT $1",
			     "i", (int64_t)limit);
	if (!rc && !*out)
		*out = json_array();
	return rc;
}

int pg_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity, int64_t *last_uid)
{
	struct pg *p = PG(st);
	PGresult *res;
	int rc;

	rc = pg_query(p, &res, "SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox = $1", "t", mailbox);
	if (rc)
		return rc;
	if (PQntuples(res) < 1) {
		rc = store__fail(st, STORE_ENOTFOUND, "mailbox '%s' was never polled", mailbox);
	} else {
		struct store__row r = pg_row_of(res, 0);

		*uidvalidity = r.ops->i64(&r, 0);
		*last_uid = r.ops->i64(&r, 1);
	}
	PQclear(res);
	return rc;
}

int pg_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity, int64_t last_uid)
{
	return pg_exec(PG(st), NULL, "INSERT INTO imap_state (mailbox, uidvalidity, last_uid, updated_at)"
		       " VALUES ($1, $2, $3, $4) ON CONFLICT (mailbox) DO UPDATE SET"
		       " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
		       " updated_at = excluded.updated_at", "tiii", mailbox, uidvalidity, last_uid,
		       store__now(st));
}

int pg_rate_hit(struct store *st, const char *key, int window_s, int64_t *count)
{
	struct pg *p = PG(st);
	int64_t now = store__now(st), since = now - (int64_t)window_s * 1000000;
	int rc;

	rc = pg_tx_begin(p);
	if (rc)
		return rc;
	rc = pg_exec(p, NULL, "DELETE FROM rate_hits WHERE at <= $1", "i", since);
	if (!rc)
		rc = pg_exec(p, NULL, "INSERT INTO rate_hits (key, at) VALUES ($1, $2)", "ti", key, now);
	if (!rc)
		rc = pg_int(p, count, "SELECT count(*) FROM rate_hits WHERE key = $1 AND at > $2", "ti", key,
			    since);
	return pg_tx_end(p, rc);
}
