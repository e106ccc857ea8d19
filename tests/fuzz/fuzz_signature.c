/*
 * Fuzz target: the webhook signature check (src/notify/signature.c), what
 * POST /webhooks/tickets runs on X-Frontline-Timestamp and
 * X-Frontline-Signature before it trusts a body.
 *
 * Input: "<timestamp>\n<signature>\n<secret>\n<body>", plus 8 bytes taken
 * from the end, when there are that many, for the receiver's clock and its
 * tolerance (kept to what a clock and FRONTLINE_WEBHOOK_TOLERANCE can be:
 * 0 to 2^40 seconds).
 *
 * Checked (notify.h): the prepared key answers as the secret does; a
 * verdict is OK only for the signature notify_sign makes (hex in either
 * case) with a timestamp in the window; the signature notify_sign makes for
 * the same input is OK exactly when the timestamp is a number in the window.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "notify/notify.h"
#include "util/util.h"

static bool same_hex(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && !strcasecmp(a, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ts, *sig, *secret, good[NOTIFY_SIGNATURE_LEN];
	int64_t now = 1714564800, tolerance = NOTIFY_SIGNATURE_TOLERANCE, t;
	enum notify_verdict v, vk, vgood;
	struct notify_key *key;
	bool in_window;

	if (size >= 8) {
		uint64_t a = 0, b = 0;
		int i;

		for (i = 0; i < 4; i++) {
			a = a << 8 | data[size - 8 + i];
			b = b << 8 | data[size - 4 + i];
		}
		now = (int64_t)(a << 8);          /* 0 to 2^40 */
		tolerance = (int64_t)(b << 8);
		size -= 8;
	}
	ts = fuzz_take(&data, &size, "\n");
	sig = fuzz_take(&data, &size, "\n");
	secret = fuzz_take(&data, &size, "\n");
	key = notify_key_new(secret);

	v = notify_verify(secret, ts, sig, data, size, now, tolerance);
	vk = notify_verify_key(key, ts, sig, data, size, now, tolerance);
	FUZZ_CHECK(v == vk);
	FUZZ_CHECK(*notify_verdict_text(v));

	notify_sign(secret, ts, data, size, good);
	FUZZ_CHECK(strlen(good) == NOTIFY_SIGNATURE_LEN - 1 && !strncmp(good, "sha256=", 7));
	if (v == NOTIFY_SIG_OK)
		FUZZ_CHECK(same_hex(sig, good));
	vgood = notify_verify_key(key, ts, good, data, size, now, tolerance);
	in_window = *ts && !fl_parse_int64(ts, 0, INT64_MAX / 2, &t) && now - t <= tolerance && t - now <= tolerance;
	FUZZ_CHECK((vgood == NOTIFY_SIG_OK) == in_window);
	if (!*ts)
		FUZZ_CHECK(vgood == NOTIFY_SIG_MISSING);

	notify_key_free(key);
	free(ts);
	free(sig);
	free(secret);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}
