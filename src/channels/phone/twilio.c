/*
 * Twilio's request signature (phone.h), with nettle's HMAC-SHA1 (libsodium
 * has none) and libsodium's Base64 and constant-time compare.
 */
#include <stdlib.h>
#include <string.h>
#include <nettle/hmac.h>
#include <sodium.h>

#include "phone.h"
#include "util/util.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void phone_twilio_signature(const char *auth_token, const char *url, const json_t *params,
			    char out[PHONE_SIGNATURE_SIZE])
{
	struct hmac_sha1_ctx ctx;
	uint8_t mac[SHA1_DIGEST_SIZE];
	const char **names, *key;
	json_t *v;
	size_t n = 0, i;

	names = fl_calloc(json_object_size(params) + 1, sizeof(*names));
	json_object_foreach((json_t *)params, key, v)
		if (json_is_string(v))
			names[n++] = key;
	qsort(names, n, sizeof(*names), by_name);
	hmac_sha1_set_key(&ctx, strlen(auth_token), (const uint8_t *)auth_token);
	hmac_sha1_update(&ctx, strlen(url), (const uint8_t *)url);
	for (i = 0; i < n; i++) {
		const char *value = json_string_value(json_object_get(params, names[i]));

		hmac_sha1_update(&ctx, strlen(names[i]), (const uint8_t *)names[i]);
		hmac_sha1_update(&ctx, json_string_length(json_object_get(params, names[i])), (const uint8_t *)value);
	}
	hmac_sha1_digest(&ctx, sizeof(mac), mac);
	sodium_bin2base64(out, PHONE_SIGNATURE_SIZE, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	free(names);
}

bool phone_twilio_verify(const char *auth_token, const char *url, const json_t *params, const char *presented)
{
	char want[PHONE_SIGNATURE_SIZE];

	if (!presented || strlen(presented) != PHONE_SIGNATURE_SIZE - 1 || !auth_token || !*auth_token)
		return false;
	phone_twilio_signature(auth_token, url, params, want);
	return sodium_memcmp(want, presented, PHONE_SIGNATURE_SIZE - 1) == 0;
}
