/*
 * The signature scheme of Frontline's webhooks, in both directions: the
 * server verifies POST /webhooks/tickets with notify_verify, and the webhook
 * channel signs outbound events with notify_sign. HMAC-SHA256 and the
 * constant-time comparison come from libsodium.
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

static void hmac(const char *secret, const char *timestamp, const void *body, size_t len,
		 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (len)
		crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

void notify_sign(const char *secret, const char *timestamp, const void *body, size_t len,
		 char out[NOTIFY_SIGNATURE_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	hmac(secret, timestamp, body, len, mac);
	memcpy(out, "sha256=", 7);
	fl_hex(out + 7, mac, sizeof(mac));
}

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum notify_verdict notify_verify(const char *secret, const char *timestamp,
				  const char *signature, const void *body, size_t len,
				  int64_t now_s, int64_t tolerance_s)
{
	unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
	int64_t ts, skew;
	size_t i;

	if (!timestamp || !*timestamp || !signature || !*signature)
		return NOTIFY_SIG_MISSING;
	if (fl_parse_int64(timestamp, 0, INT64_MAX / 2, &ts))
		return NOTIFY_SIG_MALFORMED;
	if (strncmp(signature, "sha256=", 7) || strlen(signature + 7) != 2 * sizeof(got))
		return NOTIFY_SIG_MALFORMED;
	for (i = 0; i < sizeof(got); i++) {
		int hi = unhex(signature[7 + 2 * i]), lo = unhex(signature[8 + 2 * i]);

		if (hi < 0 || lo < 0)
			return NOTIFY_SIG_MALFORMED;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	skew = now_s - ts;
	if (skew > tolerance_s || skew < -tolerance_s)
		return NOTIFY_SIG_STALE;
	hmac(secret, timestamp, body, len, want);
	return sodium_memcmp(want, got, sizeof(got)) ? NOTIFY_SIG_MISMATCH : NOTIFY_SIG_OK;
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
