/*
 * What both backends share for the email channel's records (blobs, raw
 * mail, IMAP state, rate hits): the row decoders, the hash, and the checks.
 * The SQL is each backend's (sqlite/mail.c, postgres/mail.c).
 */
#include <string.h>

#include <sodium.h>

#include "store_int.h"

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
