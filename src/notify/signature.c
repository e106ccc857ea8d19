/*
 * The signature scheme of Frontline's webhooks, in both directions: the
 * server verifies POST /webhooks/tickets with notify_verify, and the webhook
 * channel signs outbound events with notify_sign. HMAC-SHA256 and the
 * constant-time comparison come from libsodium. A receiver that checks many
 * requests against one secret prepares it once (notify_key_new): HMAC's
 * keying hashes two blocks of the ~9 a webhook's signature takes.
 */
#include <string.h>
#include <sodium.h>

#include "notify.h"
#include "util/util.h"

const char *notify_strerror(int rc)
{
	switch (rc) {
#define NOTIFY_STR(name, text) case NOTIFY_##name: return text;
	NOTIFY_ERRNO_MAP(NOTIFY_STR)
#undef NOTIFY_STR
	}
	return "unknown notify error";
}

const char *notify_errname(int rc)
{
	switch (rc) {
#define NOTIFY_NAME(name, text) case NOTIFY_##name: return "NOTIFY_" #name;
	NOTIFY_ERRNO_MAP(NOTIFY_NAME)
#undef NOTIFY_NAME
	}
	return "NOTIFY_UNKNOWN";
}

struct notify_key {
	crypto_auth_hmacsha256_state keyed;     /* the secret's pads absorbed, nothing else */
};

static void key_init(crypto_auth_hmacsha256_state *st, const char *secret)
{
	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
	crypto_auth_hmacsha256_init(st, (const unsigned char *)secret, strlen(secret));
}

/* HMAC of timestamp "." body from a copy of a keyed state (HMAC's init hashes two blocks). */
static void hmac_keyed(const crypto_auth_hmacsha256_state *keyed, const char *timestamp,
		       const void *body, size_t len, unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st = *keyed;

	crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (len)
		crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

struct notify_key *notify_key_new(const char *secret)
{
	struct notify_key *k = fl_calloc(1, sizeof(*k));

	key_init(&k->keyed, secret);
	return k;
}

void notify_key_free(struct notify_key *k)
{
	if (!k)
		return;
	sodium_memzero(k, sizeof(*k));
	free(k);
}

void notify_sign(const char *secret, const char *timestamp, const void *body, size_t len,
		 char out[NOTIFY_SIGNATURE_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state keyed;

	key_init(&keyed, secret);
	hmac_keyed(&keyed, timestamp, body, len, mac);
	sodium_memzero(&keyed, sizeof(keyed));
	memcpy(out, "sha256=", 7);
	fl_hex(out + 7, mac, sizeof(mac));
}

/* The checks before any hashing: the headers' form and the timestamp's age; got: the MAC given. */
static enum notify_verdict check_headers(const char *timestamp, const char *signature, int64_t now_s,
					 int64_t tolerance_s,
					 unsigned char got[crypto_auth_hmacsha256_BYTES])
{
	int64_t ts, skew;

	if (!timestamp || !*timestamp || !signature || !*signature)
		return NOTIFY_SIG_MISSING;
	if (fl_parse_int64(timestamp, 0, INT64_MAX / 2, &ts))
		return NOTIFY_SIG_MALFORMED;
	if (strncmp(signature, "sha256=", 7) || strlen(signature + 7) != 2 * crypto_auth_hmacsha256_BYTES)
		return NOTIFY_SIG_MALFORMED;
	if (fl_unhex(got, signature + 7, crypto_auth_hmacsha256_BYTES))
		return NOTIFY_SIG_MALFORMED;
	skew = now_s - ts;
	if (skew > tolerance_s || skew < -tolerance_s)
		return NOTIFY_SIG_STALE;
	return NOTIFY_SIG_OK;
}

static enum notify_verdict verify(const crypto_auth_hmacsha256_state *keyed, const char *timestamp,
				  const void *body, size_t len,
				  const unsigned char got[crypto_auth_hmacsha256_BYTES])
{
	unsigned char want[crypto_auth_hmacsha256_BYTES];

	hmac_keyed(keyed, timestamp, body, len, want);
	return sodium_memcmp(want, got, sizeof(want)) ? NOTIFY_SIG_MISMATCH : NOTIFY_SIG_OK;
}

enum notify_verdict notify_verify(const char *secret, const char *timestamp,
				  const char *signature, const void *body, size_t len,
				  int64_t now_s, int64_t tolerance_s)
{
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state keyed;
	enum notify_verdict v = check_headers(timestamp, signature, now_s, tolerance_s, got);

	if (v != NOTIFY_SIG_OK)
		return v;
	key_init(&keyed, secret);
	v = verify(&keyed, timestamp, body, len, got);
	sodium_memzero(&keyed, sizeof(keyed));
	return v;
}

enum notify_verdict notify_verify_key(const struct notify_key *key, const char *timestamp,
				      const char *signature, const void *body, size_t len,
				      int64_t now_s, int64_t tolerance_s)
{
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	enum notify_verdict v = check_headers(timestamp, signature, now_s, tolerance_s, got);

	return v != NOTIFY_SIG_OK ? v : verify(&key->keyed, timestamp, body, len, got);
}

enum notify_verdict notify_verify_headers(const char *timestamp, const char *signature, int64_t now_s,
					  int64_t tolerance_s)
{
	unsigned char got[crypto_auth_hmacsha256_BYTES];

	return check_headers(timestamp, signature, now_s, tolerance_s, got);
}

const char *notify_verdict_text(enum notify_verdict v)
{
	switch (v) {
	case NOTIFY_SIG_OK:
		return "signature is valid";
	case NOTIFY_SIG_MISSING:
		return "missing X-Frontline-Timestamp or X-Frontline-Signature header";
	case NOTIFY_SIG_MALFORMED:
		return "malformed signature: expected a Unix timestamp and 'sha256=<64 hex digits>'";
	case NOTIFY_SIG_STALE:
		return "timestamp is outside the allowed window (replayed or clock skew)";
	case NOTIFY_SIG_MISMATCH:
		return "signature does not match the body";
	}
	return "invalid signature";
}
