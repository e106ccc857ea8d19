/*
 * One intake path: the same bad ticket, sent through every door of the real
 * binary, is refused by the same rule with the same field and code
 * (support_ticket_validate): `frontline process --json` (exit 65 and the
 * API's error object), `frontline mail-in --json` (a quarantined ticket,
 * never a lost message), POST /api/v1/tickets with a token and the signed
 * POST /webhooks/tickets (422 validation_failed). A good ticket passes them
 * all. The bad ones: content too short, subject too long, customer id too
 * long (issue 14's bounds).
 *
 * Usage: intake_doors_test PATH/TO/frontline SOURCE_ROOT
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "http_client.h"
#include "proc_harness.h"
#include "notify/notify.h"
#include "util/util.h"

#define SECRET "whsec_doors"

static char *dir;

/* Runs frontline to its end; *out is its stdout parsed as JSON (NULL if not). Returns the exit code. */
static int run(const char *const *args, const char *in, json_t **out)
{
	static char buf[1 << 18];
	int rc = proc_run(args, in, buf, sizeof(buf));

	*out = json_loads(buf, JSON_DECODE_ANY, NULL);
	return rc;
}

static char *write_file(const char *name, const char *text)
{
	char *path = fl_asprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
	return path;
}

/* POSTs body to path: with the token, or signed like a webhook when token is NULL. */
static void post(unsigned port, const char *path, const char *token, const char *body, struct http_resp *r)
{
	char ts[24], sig[NOTIFY_SIGNATURE_LEN], h1[64], h2[96];
	const char *hs[] = { h1, h2, NULL };
	char *url = fl_asprintf("http://127.0.0.1:%u%s", port, path);
	struct http_req req = { "POST", url, token, NULL, body, 0, token ? NULL : hs, 0 };

	snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
	notify_sign(SECRET, ts, body, strlen(body), sig);
	snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", ts);
	snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
	http_do(&req, r);
	free(url);
}

/* The first refusal's field and code in an API error object. */
static bool refusal_is(const json_t *error, const char *field, const char *code)
{
	return fl_str_eq(fl_json_str(error, "code", NULL), "validation_failed") &&
	       fl_str_eq(fl_json_str(error, "field", NULL), field) &&
	       fl_str_eq(fl_json_str(json_array_get(json_object_get(error, "details"), 0), "code", NULL), code);
}

struct bad {
	const char *what;
	const char *field, *code;
	char *json;    /* the ticket for the API, the webhook and the CLI */
	char *mail;    /* the same ticket as a message */
};

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/fl-doors-XXXXXX", token[128] = "", *p, *big;
	const char *create[] = { "token", "create", "--role", "integration", "--name", "doors", NULL };
	const char *serve[] = { "serve", "--no-workers", NULL };
	struct bad bad[3];
	struct proc s;
	unsigned port;
	json_t *out = NULL;
	size_t i;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FRONTLINE SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(tmpl))
		return 1;
	dir = tmpl;
	proc_init(argv[1], dir);
	fl_curl_global_init();
	proc_service_env(argv[2], SECRET);
	setenv("SUPPORT_LOG_LEVEL", "error", 1);
	if (chdir(dir))
		return 1;

	/* too short: "Hi" and "ok" are 6 characters even as the email's "subject\n\ntext" */
	bad[0] = (struct bad){ "too short", "content", "bad_length",
		fl_strdup("{\"customer_id\": \"ann@example.com\", \"subject\": \"Hi\", \"content\": \"ok\"}"),
		fl_strdup("From: Ann <ann@example.com>\r\nTo: help@example.com\r\nSubject: Hi\r\n"
			  "Message-ID: <short@example.com>\r\n\r\nok\r\n") };
	/*
	 * a subject over 500 characters (an email's content cannot be too long:
	 * the email door keeps its first 10,000 characters, the whole message
	 * stays in the raw record)
	 */
	big = fl_calloc(502, 1);
	memset(big, 's', 501);
	bad[1] = (struct bad){ "subject too long", "subject", "bad_length",
		fl_asprintf("{\"customer_id\": \"bob@example.com\", \"subject\": \"%s\", "
			    "\"content\": \"The export to CSV fails with an error.\"}", big),
		fl_asprintf("From: bob@example.com\r\nTo: help@example.com\r\nSubject: %s\r\n"
			    "Message-ID: <long@example.com>\r\n\r\nThe export to CSV fails with an error.\r\n", big) };
	/* a customer id over 128 characters (an email's is its sender's address) */
	memset(big, 'd', 140);
	big[140] = '\0';
	bad[2] = (struct bad){ "customer id too long", "customer_id", "bad_length",
		fl_asprintf("{\"customer_id\": \"x@%s.example.com\", \"subject\": \"Export\", "
			    "\"content\": \"The export to CSV fails with an error.\"}", big),
		fl_asprintf("From: x@%s.example.com\r\nTo: help@example.com\r\nSubject: Export\r\n"
			    "Message-ID: <cust@example.com>\r\n\r\nThe export to CSV fails with an error.\r\n", big) };
	free(big);

	{
		/* the token is the first word of stdout */
		static char said[4096];

		rc = proc_run(create, NULL, said, sizeof(said));
		said[strcspn(said, " \n")] = '\0';
		fl_strlcpy(token, said, sizeof(token));
	}
	CHECK(rc == 0 && fl_str_has_prefix(token, "flt_"), "an integration token");
	s = proc_spawn(serve, NULL, "serve.log");
	port = proc_read_port(&s);
	CHECK(port > 0, "serve listens (port %u)", port);

	for (i = 0; i < FL_ARRAY_SIZE(bad); i++) {
		const char *cli[] = { "process", "--json", "ticket.json", NULL };
		const char *mail[] = { "mail-in", "--json", NULL };
		char *file = write_file("ticket.json", bad[i].json), *eml = write_file("message.eml", bad[i].mail);
		struct http_resp r;

		/* the CLI: exit 65, the API's error object with --json */
		rc = run(cli, NULL, &out);
		CHECK(rc == 65 && refusal_is(json_object_get(out, "error"), bad[i].field, bad[i].code),
		      "%s: process refuses it: exit %d, %s %s", bad[i].what, rc, bad[i].field, bad[i].code);
		json_decref(out);

		/* email: never lost; quarantined, saying which rule */
		rc = run(mail, eml, &out);
		CHECK(rc == 0 && fl_str_eq(fl_json_str(out, "outcome", NULL), "quarantined") &&
		      fl_str_eq(fl_json_str(json_object_get(out, "refused"), "field", NULL), bad[i].field) &&
		      fl_str_eq(fl_json_str(json_object_get(out, "refused"), "code", NULL), bad[i].code),
		      "%s: mail-in quarantines it: exit %d, %s %s", bad[i].what, rc, bad[i].field, bad[i].code);
		json_decref(out);

		/* the API and the signed webhook: 422 */
		post(port, "/api/v1/tickets", token, bad[i].json, &r);
		CHECK(r.status == 422 && refusal_is(json_object_get(r.json, "error"), bad[i].field, bad[i].code),
		      "%s: POST /api/v1/tickets refuses it: %ld", bad[i].what, r.status);
		http_resp_release(&r);
		post(port, "/webhooks/tickets", NULL, bad[i].json, &r);
		CHECK(r.status == 422 && refusal_is(json_object_get(r.json, "error"), bad[i].field, bad[i].code),
		      "%s: POST /webhooks/tickets refuses it: %ld", bad[i].what, r.status);
		http_resp_release(&r);
		free(file);
		free(eml);
		free(bad[i].json);
		free(bad[i].mail);
	}

	/* a good ticket passes every door */
	{
		const char *good = "{\"customer_id\": \"ann@example.com\", \"subject\": \"Cannot log in\", "
				   "\"content\": \"The password reset email never arrives.\"}";
		const char *cli[] = { "process", "--json", "--no-store", "good.json", NULL };
		const char *mail[] = { "mail-in", "--json", NULL };
		char *file = write_file("good.json", good);
		char *eml = write_file("good.eml", "From: Ann <ann@example.com>\r\nTo: help@example.com\r\n"
					"Subject: Cannot log in\r\nMessage-ID: <good@example.com>\r\n\r\n"
					"The password reset email never arrives.\r\n");
		struct http_resp r;

		rc = run(cli, NULL, &out);
		CHECK(rc == 0 && json_object_get(out, "ticket"), "good: process triages it (exit %d)", rc);
		json_decref(out);
		rc = run(mail, eml, &out);
		CHECK(rc == 0 && fl_str_eq(fl_json_str(out, "outcome", NULL), "ticket") && !json_object_get(out, "refused"),
		      "good: mail-in makes a ticket (exit %d)", rc);
		json_decref(out);
		post(port, "/api/v1/tickets", token, good, &r);
		CHECK(r.status == 201, "good: POST /api/v1/tickets creates it: %ld", r.status);
		http_resp_release(&r);
		post(port, "/webhooks/tickets", NULL, good, &r);
		CHECK(r.status == 202, "good: POST /webhooks/tickets accepts it: %ld", r.status);
		http_resp_release(&r);
		free(file);
		free(eml);
	}

	proc_stop(&s, SIGTERM);
	if (proc_failures) {
		p = fl_asprintf("cat %s/serve.log %s/cli.log", dir, dir);
		if (system(p) < 0)
			perror("cat");
		free(p);
	}
	p = fl_asprintf("rm -rf %s", dir);
	if (system(p) < 0)
		perror("rm");
	free(p);
	curl_global_cleanup();
	printf("%s\n", proc_failures ? "FAILED" : "all doors agree");
	return proc_failures ? 1 : 0;
}
