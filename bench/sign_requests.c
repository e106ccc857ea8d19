/*
 * sign_requests: pre-signed webhook requests for the intake benchmark. wrk's
 * Lua has no HMAC, so the requests are signed here, with the current time
 * (the run is far shorter than the 5-minute tolerance), one per line:
 *
 *   <timestamp> TAB <X-Frontline-Signature> TAB <body>
 *
 * Each body is a new ticket (a unique id), so every request is a durable
 * intake, never an idempotent repeat.
 *
 * Usage: sign_requests COUNT SECRET PREFIX > requests.tsv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "util/util.h"

int main(int argc, char **argv)
{
	static const char *const subjects[] = {
		"Unable to access my account - password reset not working",
		"Charged twice for the same invoice",
		"API returns 401 after rotating keys",
		"How do I export the dashboard as CSV?",
	};
	char ts[24], sig[NOTIFY_SIGNATURE_LEN], body[1024];
	long n, i;

	if (argc != 4 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: sign_requests COUNT SECRET PREFIX\n");
		return 64;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
	for (i = 0; i < n; i++) {
		int len = snprintf(body, sizeof(body),
				   "{\"id\":\"%s_%ld\",\"customer_id\":\"cust_00%ld\",\"subject\":\"%s\","
				   "\"content\":\"Hello, %s. This started this morning and blocks my work; "
				   "please help as soon as you can.\",\"metadata\":{\"previous_interactions\":%ld}}",
				   argv[3], i, 1 + i % 3, subjects[i % 4], subjects[i % 4], i % 5);

		notify_sign(argv[2], ts, body, (size_t)len, sig);
		printf("%s\t%s\t%s\n", ts, sig, body);
	}
	return 0;
}
