/*
 * Tests of notify: the webhook signature scheme (a known vector, replays,
 * tampering), email messages (encodings, header injection, addresses),
 * each channel against a real receiver on loopback (an HTTP receiver for
 * Slack and webhooks, Debian's aiosmtpd for SMTP), and the dispatcher over
 * a real store: sent, retried with backoff, dead and visible.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_helpers.h"
#include "http_receiver.h"
#include "smtp_harness.h"
#include "notify/notify.h"
#include "store/store.h"
#include "support/support.h"

/* ---- signatures ---- */

static void test_signature_matches_known_vector(void **state)
{
	const char *body = "{\"customer_id\":\"cust_001\"}";
	char sig[NOTIFY_SIGNATURE_LEN];

	(void)state;
	/* python3: hmac.new(b"whsec_test", b"1700000000." + body, sha256).hexdigest() */
	notify_sign("whsec_test", "1700000000", body, strlen(body), sig);
	assert_string_equal(sig, "sha256=4e752fd076d9e76740d1626e4c3292ebe49c17b9321cf1eed8bede441070c6ca");
	assert_int_equal(notify_verify("whsec_test", "1700000000", sig, body, strlen(body), 1700000100, 300),
			 NOTIFY_SIG_OK);
}

static void test_signature_rejects_tampering_and_replays(void **state)
{
	const char *body = "{\"a\":1}";
	char sig[NOTIFY_SIGNATURE_LEN], upper[NOTIFY_SIGNATURE_LEN];
	size_t i;

	(void)state;
	notify_sign("k", "1000", body, strlen(body), sig);
	assert_int_equal(notify_verify("k", "1000", sig, "{\"a\":2}", 7, 1000, 300), NOTIFY_SIG_MISMATCH);
	assert_int_equal(notify_verify("other", "1000", sig, body, strlen(body), 1000, 300), NOTIFY_SIG_MISMATCH);
	/* the timestamp is signed: moving it breaks the signature */
	assert_int_equal(notify_verify("k", "1001", sig, body, strlen(body), 1000, 300), NOTIFY_SIG_MISMATCH);
	assert_int_equal(notify_verify("k", "1000", sig, body, strlen(body), 1301, 300), NOTIFY_SIG_STALE);
	assert_int_equal(notify_verify("k", "1000", sig, body, strlen(body), 699, 300), NOTIFY_SIG_STALE);
	assert_int_equal(notify_verify("k", "1000", sig, body, strlen(body), 1300, 300), NOTIFY_SIG_OK);
	assert_int_equal(notify_verify("k", NULL, sig, body, strlen(body), 1000, 300), NOTIFY_SIG_MISSING);
	assert_int_equal(notify_verify("k", "1000", NULL, body, strlen(body), 1000, 300), NOTIFY_SIG_MISSING);
	assert_int_equal(notify_verify("k", "soon", sig, body, strlen(body), 1000, 300), NOTIFY_SIG_MALFORMED);
	assert_int_equal(notify_verify("k", "1000", "md5=abc", body, strlen(body), 1000, 300),
			 NOTIFY_SIG_MALFORMED);
	assert_int_equal(notify_verify("k", "1000", sig + 7, body, strlen(body), 1000, 300),
			 NOTIFY_SIG_MALFORMED);
	/* hex digits in upper case are the same signature */
	memcpy(upper, sig, sizeof(sig));
	for (i = 7; upper[i]; i++)
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	assert_int_equal(notify_verify("k", "1000", upper, body, strlen(body), 1000, 300), NOTIFY_SIG_OK);
	assert_non_null(strstr(notify_verdict_text(NOTIFY_SIG_STALE), "window"));
}

/* A prepared key answers as the secret does, any number of times (the key is only read). */
static void test_signature_prepared_key_answers_as_the_secret(void **state)
{
	const char *secrets[] = { "whsec_test", "k", "",
		"a secret longer than one SHA-256 block, which HMAC hashes before it pads it: 0123456789" };
	const char *bodies[] = { "{\"customer_id\":\"cust_001\"}", "", "{\"a\":1}" };
	const char *stamps[] = { "1700000000", "1700000301", "soon", NULL };
	char sig[NOTIFY_SIGNATURE_LEN];
	size_t i, j, k, round;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(secrets); i++) {
		struct notify_key *key = notify_key_new(secrets[i]);

		for (round = 0; round < 2; round++) {
			for (j = 0; j < FL_ARRAY_SIZE(bodies); j++) {
				notify_sign(secrets[i], "1700000000", bodies[j], strlen(bodies[j]), sig);
				for (k = 0; k < FL_ARRAY_SIZE(stamps); k++) {
					const char *b = bodies[(j + round) % FL_ARRAY_SIZE(bodies)];
					enum notify_verdict want = notify_verify(secrets[i], stamps[k], sig, b, strlen(b),
										 1700000000, 300);

					assert_int_equal(notify_verify_key(key, stamps[k], sig, b, strlen(b), 1700000000,
									   300), want);
				}
				assert_int_equal(notify_verify_key(key, "1700000000", sig, bodies[j], strlen(bodies[j]),
								   1700000100, 300), NOTIFY_SIG_OK);
				assert_int_equal(notify_verify_key(key, "1700000000", NULL, bodies[j], strlen(bodies[j]),
								   1700000100, 300), NOTIFY_SIG_MISSING);
			}
		}
		notify_key_free(key);
	}
	notify_key_free(NULL);
}

/* ---- messages ---- */

static void test_email_message_is_well_formed(void **state)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:b}", "subject", "Password reset\r\nBcc: evil@x.com",
			      "body", "Hello =)\nA long line " "0123456789012345678901234567890123456789"
			      "0123456789012345678901234567890123456789 end\n.dot line\ntrailing space \n",
			      "ticket_tag", "T-000042", "auto_submitted", 1);
	char *err = NULL, *m = notify_email_build(p, "support@frontline.localhost", "a@b.com, c@d.org",
						  "<m1@frontline.localhost>", INT64_C(1700000000000000), &err);

	(void)state;
	assert_non_null(m);
	assert_non_null(strstr(m, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(m, "From: support@frontline.localhost\r\nTo: a@b.com, c@d.org\r\n"));
	/* CR LF in the subject cannot add a header */
	assert_non_null(strstr(m, "Subject: [T-000042] Password reset  Bcc: evil@x.com\r\n"));
	assert_null(strstr(m, "\r\nBcc:"));
	assert_non_null(strstr(m, "Message-ID: <m1@frontline.localhost>\r\n"));
	assert_non_null(strstr(m, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello =3D)\r\n"));
	assert_non_null(strstr(m, "=\r\n"));               /* a soft line break */
	assert_non_null(strstr(m, "trailing space=20\r\n"));
	free(m);
	json_decref(p);
}

static void test_email_subject_in_utf8_is_encoded(void **state)
{
	json_t *p = json_pack("{s:s, s:s}", "subject", "Réinitialisation du mot de passe — urgent ✓",
			      "body", "Bonjour, café ☕");
	char *err = NULL, *m = notify_email_build(p, "s@x.org", "a@b.com", "<1@x.org>", 0, &err);

	(void)state;
	assert_non_null(m);
	assert_non_null(strstr(m, "Subject: =?UTF-8?B?"));
	assert_null(strstr(m, "Réinitialisation"));
	assert_non_null(strstr(m, "caf=C3=A9 =E2=98=95"));
	free(m);
	json_decref(p);
}

static void test_address_lists_are_checked(void **state)
{
	char *err = NULL;
	json_t *l = notify_address_list(" a@b.com ,c@d.org,", &err);

	(void)state;
	assert_non_null(l);
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(json_string_value(json_array_get(l, 1)), "c@d.org");
	json_decref(l);
	assert_null(notify_address_list("a@b.com, not-an-address", &err));
	assert_non_null(strstr(err, "'not-an-address'"));
	free(err);
	assert_null(notify_address_list("x@y.z\r\nRCPT TO:<e@v.il>", &err));
	free(err);
	assert_null(notify_address_list("", &err));
	free(err);
}

static void test_backoff_doubles_up_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(notify_backoff_s(1, 5, 3600), 5);
	assert_int_equal(notify_backoff_s(2, 5, 3600), 10);
	assert_int_equal(notify_backoff_s(4, 5, 3600), 40);
	assert_int_equal(notify_backoff_s(30, 5, 3600), 3600);
}

/* ---- channels against real receivers ---- */

static json_t *item(const char *channel, const char *target, json_t *payload)
{
	return json_pack("{s:i, s:s, s:s, s:o, s:i, s:s}", "id", 7, "channel", channel, "target", target,
			 "payload", payload, "attempts", 1, "created_at", "2024-01-02T03:04:05.000Z");
}

static void test_slack_posts_channel_and_text(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *url = http_receiver_url(rx, "/services/T0/B0/x");
	struct notify_settings s = { .slack_url = url };
	json_t *it = item("slack", "#support-alerts", json_pack("{s:s}", "text", "[critical] satisfaction low"));
	struct notify_delivery d = { .settings = &s, .item = it };
	json_t *reqs, *body;

	(void)state;
	assert_int_equal(notify_deliver(&d), NOTIFY_OK);
	reqs = http_receiver_requests(rx);
	assert_int_equal(json_array_size(reqs), 1);
	assert_string_equal(fl_json_str(json_array_get(reqs, 0), "path", ""), "/services/T0/B0/x");
	body = json_loads(fl_json_str(json_array_get(reqs, 0), "body", ""), 0, NULL);
	assert_string_equal(fl_json_str(body, "channel", ""), "#support-alerts");
	assert_string_equal(fl_json_str(body, "text", ""), "[critical] satisfaction low");
	json_decref(body);
	json_decref(reqs);

	/* a 5xx is retried later, 429 carries its Retry-After, a 4xx is refused for good */
	http_receiver_respond(rx, 503, 0);
	assert_int_equal(notify_deliver(&d), NOTIFY_ETRANSIENT);
	assert_non_null(strstr(d.error, "503"));
	free(d.error);
	http_receiver_respond(rx, 429, 42);
	assert_int_equal(notify_deliver(&d), NOTIFY_ETRANSIENT);
	assert_int_equal(d.retry_after_s, 42);
	free(d.error);
	http_receiver_respond(rx, 404, 0);
	assert_int_equal(notify_deliver(&d), NOTIFY_EPERMANENT);
	free(d.error);
	http_receiver_stop(rx);

	/* nobody listening: a transport error, retried */
	assert_int_equal(notify_deliver(&d), NOTIFY_ETRANSIENT);
	assert_non_null(strstr(d.error, "cannot reach"));
	free(d.error);
	/* no URL configured: refused, naming the setting */
	s.slack_url = "";
	assert_int_equal(notify_deliver(&d), NOTIFY_ECONFIG);
	assert_non_null(strstr(d.error, "FRONTLINE_SLACK_WEBHOOK_URL"));
	free(d.error);
	free(url);
	json_decref(it);
}

static void test_webhook_is_signed_with_a_delivery_id(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *url = http_receiver_url(rx, "/hooks/frontline");
	struct notify_settings s = { .webhook_secret = "whsec_out" };
	json_t *it = item("webhook", url, json_pack("{s:s, s:{s:s}}", "event", "ticket.resolved", "ticket",
						   "id", "ticket_001"));
	struct notify_delivery d = { .settings = &s, .item = it };
	json_t *reqs, *req, *h, *body;
	const char *raw;

	(void)state;
	assert_int_equal(notify_deliver(&d), NOTIFY_OK);
	reqs = http_receiver_requests(rx);
	req = json_array_get(reqs, 0);
	h = json_object_get(req, "headers");
	raw = fl_json_str(req, "body", "");
	assert_string_equal(fl_json_str(h, "x-frontline-event", ""), "ticket.resolved");
	assert_string_equal(fl_json_str(h, "x-frontline-delivery", ""), "dlv_7");
	assert_string_equal(fl_json_str(h, "content-type", ""), "application/json");
	/* the receiver checks it exactly as Frontline checks its own intake */
	assert_int_equal(notify_verify("whsec_out", fl_json_str(h, "x-frontline-timestamp", NULL),
				       fl_json_str(h, "x-frontline-signature", NULL), raw, strlen(raw),
				       fl_wall_us() / 1000000, 300), NOTIFY_SIG_OK);
	body = json_loads(raw, 0, NULL);
	assert_string_equal(fl_json_str(body, "delivery_id", ""), "dlv_7");
	assert_string_equal(fl_json_str(json_object_get(body, "ticket"), "id", ""), "ticket_001");
	json_decref(body);
	json_decref(reqs);
	http_receiver_stop(rx);
	free(url);
	json_decref(it);

	/* not an http(s) URL: refused for good */
	it = item("webhook", "file:///etc/passwd", json_pack("{s:s}", "event", "x"));
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_EPERMANENT);
	free(d.error);
	json_decref(it);
}

/*
 * Slack reads "<...>" as markup: "<!channel>" pings everyone, "<url|label>"
 * shows a label over any link. Frontline's Slack text is plain text built
 * from what customers write (the subject of an escalated ticket): every
 * "&", "<" and ">" goes as "&amp;", "&lt;", "&gt;", which Slack shows as
 * typed.
 */
static void test_slack_text_is_escaped(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *url = http_receiver_url(rx, "/services/T0/B0/x");
	struct notify_settings s = { .slack_url = url };
	json_t *ticket = json_pack("{s:s, s:i, s:s}", "id", "ticket_9", "number", 9, "subject",
				   "<!channel> urgent: see <https://evil.example/login|your invoice> & pay");
	json_t *notices = json_array(), *it = NULL, *reqs, *body;
	struct notify_delivery d = { .settings = &s };
	size_t i;

	(void)state;
	support_notice_escalation(notices, ticket, "billing", "critical");
	for (i = 0; i < json_array_size(notices); i++)
		if (!strcmp(fl_json_str(json_array_get(notices, i), "channel", ""), "slack") && !it)
			it = item("slack", fl_json_str(json_array_get(notices, i), "target", ""),
				  json_incref(json_object_get(json_array_get(notices, i), "payload")));
	assert_non_null(it);
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_OK);
	reqs = http_receiver_requests(rx);
	body = json_loads(fl_json_str(json_array_get(reqs, 0), "body", ""), 0, NULL);
	assert_non_null(strstr(fl_json_str(body, "text", ""),
			       "&lt;!channel&gt; urgent: see &lt;https://evil.example/login|your invoice&gt; &amp; pay"));
	assert_null(strchr(fl_json_str(body, "text", ""), '<'));
	assert_null(strchr(fl_json_str(body, "text", ""), '>'));
	json_decref(body);
	json_decref(reqs);
	http_receiver_stop(rx);
	json_decref(it);
	json_decref(notices);
	json_decref(ticket);
	free(url);
}

/*
 * An outbound webhook's headers carry the payload's event name: a CR or LF
 * there would add a header of the sender's choosing; the delivery is
 * refused for good instead, and nothing is sent. A target URL with spaces
 * or control characters is refused the same way.
 */
static void test_webhook_refuses_header_injection(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *url = http_receiver_url(rx, "/hooks/frontline"), *bad_url = fl_asprintf("%s\r\nX-Evil: 1", url);
	struct notify_settings s = { .webhook_secret = "whsec_out" };
	json_t *it = item("webhook", url, json_pack("{s:s}", "event", "ticket.created\r\nX-Evil: 1"));
	struct notify_delivery d = { .settings = &s, .item = it };

	(void)state;
	assert_int_equal(notify_deliver(&d), NOTIFY_EPERMANENT);
	assert_non_null(strstr(d.error, "event"));
	free(d.error);
	json_decref(it);
	it = item("webhook", bad_url, json_pack("{s:s}", "event", "ticket.created"));
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_EPERMANENT);
	free(d.error);
	assert_int_equal(http_receiver_wait(rx, 1, 300), 0);
	json_decref(it);
	http_receiver_stop(rx);
	free(url);
	free(bad_url);
}

static void test_email_arrives_at_a_real_smtp_server(void **state)
{
	struct smtp_harness h = SMTP_HARNESS_INIT;
	struct notify_settings s = { 0 };
	json_t *it, *msgs;
	struct notify_delivery d = { .settings = &s };
	const char *m;
	char *url = NULL;

	(void)state;
	if (smtp_harness_start(&h, &url)) {
		/* install-deps installs aiosmtpd: its absence is a broken setup */
		fail_msg("%s", smtp_harness_error(&h));
	}
	s.smtp_url = url;
	s.smtp_from = "support@frontline.localhost";
	it = item("email", "john.doe@company.com", json_pack("{s:s, s:s, s:s}", "subject",
			"Your support ticket has been resolved", "body", "Hello John,\n.\nAll fixed.",
			"ticket_tag", "T-000007"));
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_OK);
	assert_int_equal(smtp_harness_wait(&h, 1, 10000), 1);
	msgs = smtp_harness_messages(&h);
	m = json_string_value(json_array_get(msgs, 0));
	assert_non_null(strstr(m, "Subject: [T-000007] Your support ticket has been resolved"));
	assert_non_null(strstr(m, "To: john.doe@company.com"));
	assert_non_null(strstr(m, "Message-ID: <frontline.7.20240102030405000@frontline.localhost>"));
	/* the lone dot survived SMTP's end-of-data marker */
	assert_non_null(strstr(m, "Hello John,\n.\nAll fixed."));
	json_decref(msgs);
	json_decref(it);
	smtp_harness_stop(&h);

	/* the server is gone: retried later */
	it = item("email", "a@b.com", json_pack("{s:s, s:s}", "subject", "x", "body", "y"));
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_ETRANSIENT);
	free(d.error);
	json_decref(it);
	/* a bad recipient is refused without trying */
	it = item("email", "nobody", json_pack("{s:s, s:s}", "subject", "x", "body", "y"));
	d.item = it;
	assert_int_equal(notify_deliver(&d), NOTIFY_EPERMANENT);
	assert_non_null(strstr(d.error, "invalid email address"));
	free(d.error);
	json_decref(it);
	free(url);
}

/* ---- the dispatcher over a real store ---- */

struct clock {
	int64_t now;
};

static int64_t fake_now(void *arg)
{
	return ((struct clock *)arg)->now;
}

/* store_outbox_enqueue borrows the payload: this takes it */
static int enqueue(struct store *st, const char *channel, const char *target, json_t *payload,
		   const char *key)
{
	bool created;
	int rc = store_outbox_enqueue(st, channel, target, payload, key, &created);

	json_decref(payload);
	return rc;
}

static void test_dispatcher_sends_retries_and_buries(void **state)
{
	struct http_receiver *ok = http_receiver_start(), *bad = http_receiver_start();
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/n.db", dir), *err = NULL;
	char *slack = http_receiver_url(ok, "/slack"), *hook_ok = http_receiver_url(ok, "/hook");
	char *hook_bad = http_receiver_url(bad, "/hook");
	struct clock clk = { INT64_C(1700000000000000) };
	struct notify_options o = { 0 };
	struct notify_dispatcher *d = NULL;
	struct store *st = NULL;
	json_t *list = NULL;
	int sent, failed;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	store_set_clock(st, fake_now, &clk);
	http_receiver_respond(bad, 500, 0);
	assert_int_equal(enqueue(st, "slack", "#support-escalations", json_pack("{s:s}", "text", "escalated"),
				 "k1"), STORE_OK);
	assert_int_equal(enqueue(st, "webhook", hook_ok, json_pack("{s:s}", "event", "e"), "k2"), STORE_OK);
	assert_int_equal(enqueue(st, "webhook", hook_bad, json_pack("{s:s}", "event", "e"), "k3"), STORE_OK);
	assert_int_equal(enqueue(st, "pager", "x", json_object(), "k4"), STORE_OK);
	o.store = st;
	o.max_attempts = 2;
	o.backoff_base_s = 10;
	o.settings.slack_url = slack;
	o.settings.webhook_secret = "s";
	assert_int_equal(notify_dispatcher_new(&o, &d, &err), NOTIFY_OK);

	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent, 2);
	assert_int_equal(failed, 2);
	assert_int_equal(http_receiver_wait(ok, 2, 5000), 2);
	/* the unknown channel is dead at once; the 500 waits for its backoff */
	assert_int_equal(store_outbox_list(st, "dead", 10, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 1);
	assert_non_null(strstr(fl_json_str(json_array_get(list, 0), "last_error", ""), "pager"));
	json_decref(list);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent + failed, 0);
	clk.now += 11 * INT64_C(1000000);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(failed, 1);
	assert_int_equal(http_receiver_wait(bad, 2, 5000), 2);
	/* second and last attempt: dead, with the receiver's answer kept */
	assert_int_equal(store_outbox_list(st, "dead", 10, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 2);
	/* newest first: the webhook (id 3) after the unknown channel (id 4) */
	assert_int_equal(fl_json_int(json_array_get(list, 1), "id", 0), 3);
	assert_non_null(strstr(fl_json_str(json_array_get(list, 1), "last_error", ""), "HTTP 500"));
	json_decref(list);
	assert_int_equal(store_outbox_list(st, "sent", 10, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);

	notify_dispatcher_free(d);
	store_close(st);
	http_receiver_stop(ok);
	http_receiver_stop(bad);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
	free(slack);
	free(hook_ok);
	free(hook_bad);
}

static void test_dispatcher_thread_delivers_when_woken(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/n.db", dir), *err = NULL;
	char *slack = http_receiver_url(rx, "/slack");
	struct notify_options o = { 0 };
	struct notify_dispatcher *d = NULL;
	struct store *st = NULL;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	o.store_url = url;
	o.poll_ms = 60000;   /* only the wake-up can make it deliver in time */
	o.settings.slack_url = slack;
	assert_int_equal(notify_dispatcher_new(&o, &d, &err), NOTIFY_OK);
	assert_int_equal(notify_dispatcher_start(d), NOTIFY_OK);
	assert_int_equal(enqueue(st, "slack", "#x", json_pack("{s:s}", "text", "hi"), NULL), STORE_OK);
	notify_dispatcher_wake(d);
	assert_int_equal(http_receiver_wait(rx, 1, 10000), 1);
	notify_dispatcher_free(d);
	store_close(st);
	http_receiver_stop(rx);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
	free(slack);
}

/* A dispatcher in a child process (to be killed): owner, lease, batch; never returns. */
static void dispatcher_child(const char *url, const char *owner, int lease_s, const char *slack, const char *secret)
{
	struct notify_options o = { 0 };
	struct notify_dispatcher *d = NULL;
	char *err = NULL;

	o.store_url = url;
	o.owner = owner;
	o.lease_s = lease_s;
	o.batch = 16;
	o.poll_ms = 100;
	o.settings.slack_url = slack;
	o.settings.webhook_secret = secret;
	if (notify_dispatcher_new(&o, &d, &err) != NOTIFY_OK || notify_dispatcher_start(d) != NOTIFY_OK)
		_exit(3);
	for (;;)
		pause();
}

/* Whether every item is settled (sent or dead). */
static bool settled(struct store *st)
{
	json_t *c = NULL;
	bool done;

	if (store_outbox_counts(st, &c) != STORE_OK)
		return false;
	done = fl_json_int(c, "pending", 1) == 0 && fl_json_int(c, "sending", 1) == 0;
	json_decref(c);
	return done;
}

/*
 * Notifications under a slow receiver and a killed dispatcher. 12 Slack
 * messages and 12 webhooks; a receiver that answers each request 0.8 s
 * after it has it; two dispatchers (one in a child process) with a 3 s
 * lease claiming batches of 16, the child SIGKILLed mid-delivery. Counted
 * at the receiver: no Slack message posted twice (Slack has no delivery id:
 * at most once; one whose attempt died in flight is dead, its outcome
 * unknown), every webhook posted at least once and sent (its delivery id
 * lets the receiver drop a repeat), and the killed dispatcher's items taken
 * over soon after its lease.
 */
static void test_slow_receiver_and_killed_dispatcher(void **state)
{
	enum { N = 12, LEASE = 3 };
	struct http_receiver *rx = http_receiver_start();
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/n.db?synchronous=normal", dir), *err = NULL;
	char *slack = http_receiver_url(rx, "/slack"), *hook = http_receiver_url(rx, "/hook");
	struct notify_options o = { 0 };
	struct notify_dispatcher *b = NULL;
	struct store *st = NULL;
	json_t *reqs, *req, *list = NULL, *it;
	int slack_posts[N] = { 0 }, hook_posts[N] = { 0 }, status, i, dead = 0;
	int64_t killed_at, done_at;
	size_t k;
	pid_t a;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	for (i = 0; i < N; i++) {
		char key[32], text[32];

		snprintf(key, sizeof(key), "slack-%d", i);
		snprintf(text, sizeof(text), "slack-%d", i);
		assert_int_equal(enqueue(st, "slack", "#support-alerts", json_pack("{s:s}", "text", text), key), STORE_OK);
		snprintf(key, sizeof(key), "hook-%d", i);
		assert_int_equal(enqueue(st, "webhook", hook, json_pack("{s:s, s:i}", "event", "ticket.created", "n", i),
					 key), STORE_OK);
	}
	http_receiver_delay(rx, 800);
	fflush(NULL);
	a = fork();
	assert_true(a >= 0);
	if (a == 0)
		dispatcher_child(url, "A", LEASE, slack, "s");
	o.store_url = url;
	o.owner = "B";
	o.lease_s = LEASE;
	o.batch = 16;
	o.poll_ms = 100;
	o.settings.slack_url = slack;
	o.settings.webhook_secret = "s";
	assert_int_equal(notify_dispatcher_new(&o, &b, &err), NOTIFY_OK);
	assert_int_equal(notify_dispatcher_start(b), NOTIFY_OK);
	/* both are delivering; kill A while its request waits for the slow answer */
	assert_true(http_receiver_wait(rx, 6, 30000) >= 6);
	fl_sleep_us(300000);
	kill(a, SIGKILL);
	assert_int_equal(waitpid(a, &status, 0), a);
	killed_at = fl_mono_us();
	while (!settled(st) && fl_mono_us() - killed_at < 90 * INT64_C(1000000))
		fl_sleep_us(100000);
	done_at = fl_mono_us();
	notify_dispatcher_free(b);
	assert_true(settled(st));

	reqs = http_receiver_requests(rx);
	json_array_foreach(reqs, k, req) {
		json_t *body = json_loads(fl_json_str(req, "body", ""), 0, NULL);
		const char *text = fl_json_str(body, "text", NULL);

		if (fl_str_eq(fl_json_str(req, "path", ""), "/slack") && text && fl_str_has_prefix(text, "slack-"))
			slack_posts[atoi(text + 6) % N]++;
		else if (fl_str_eq(fl_json_str(req, "path", ""), "/hook"))
			hook_posts[fl_json_int(body, "n", 0) % N]++;
		json_decref(body);
	}
	json_decref(reqs);
	for (i = 0; i < N; i++) {
		if (slack_posts[i] > 1)
			fail_msg("slack-%d was posted %d times", i, slack_posts[i]);
		if (hook_posts[i] < 1)
			fail_msg("webhook %d was never posted", i);
	}
	/* every item settled as its channel promises */
	assert_int_equal(store_outbox_list(st, NULL, 100, &list), STORE_OK);
	json_array_foreach(list, k, it) {
		const char *status_s = fl_json_str(it, "status", "");

		if (fl_str_eq(fl_json_str(it, "channel", ""), "webhook")) {
			assert_string_equal(status_s, "sent");
		} else if (!strcmp(status_s, "dead")) {
			dead++;
			if (!strstr(fl_json_str(it, "last_error", ""), "outcome unknown"))
				fail_msg("a dead slack item says '%s'", fl_json_str(it, "last_error", ""));
		} else {
			assert_string_equal(status_s, "sent");
			assert_int_equal(slack_posts[atoi(fl_json_str(json_object_get(it, "payload"), "text", "slack-0") + 6)
						     % N], 1);
		}
	}
	assert_true(dead <= 1);   /* only the one A was sending */
	json_decref(list);
	fprintf(stderr, "notify crash test: settled %.1f s after the kill (lease %d s, 0.8 s per delivery), "
		"%d slack item(s) dead with an unknown outcome\n", (double)(done_at - killed_at) / 1e6, LEASE, dead);
	store_close(st);
	http_receiver_stop(rx);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
	free(slack);
	free(hook);
}

/* Counts the warning lines about unconfigured channels. */
static void count_warnings(void *arg, const char *line)
{
	if (strstr(line, "\"level\":\"warning\"") && strstr(line, "not configured"))
		++*(int *)arg;
}

static void test_unconfigured_channel_warns_once_and_keeps_the_items(void **state)
{
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/n.db", dir), *err = NULL;
	struct notify_options o = { 0 };
	struct notify_dispatcher *d = NULL;
	struct store *st = NULL;
	json_t *list = NULL;
	int sent, failed, warnings = 0, i;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	for (i = 0; i < 3; i++) {
		char key[16];

		snprintf(key, sizeof(key), "s%d", i);
		assert_int_equal(enqueue(st, "slack", "#support-escalations",
					 json_pack("{s:s}", "text", "escalated"), key), STORE_OK);
	}
	assert_int_equal(enqueue(st, "webhook", "http://127.0.0.1:9/hook", json_object(), "w"), STORE_OK);
	o.store = st; /* no Slack URL, no webhook secret */
	assert_int_equal(notify_dispatcher_new(&o, &d, &err), NOTIFY_OK);
	fl_log_setup(FL_LOG_DEBUG, count_warnings, &warnings);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 4);
	/* one warning per channel, not one per item; every item kept as dead */
	assert_int_equal(warnings, 2);
	assert_int_equal(store_outbox_list(st, "dead", 10, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 4);
	json_decref(list);

	notify_dispatcher_free(d);
	store_close(st);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_matches_known_vector),
		cmocka_unit_test(test_signature_rejects_tampering_and_replays),
		cmocka_unit_test(test_signature_prepared_key_answers_as_the_secret),
		cmocka_unit_test(test_email_message_is_well_formed),
		cmocka_unit_test(test_email_subject_in_utf8_is_encoded),
		cmocka_unit_test(test_address_lists_are_checked),
		cmocka_unit_test(test_backoff_doubles_up_to_the_cap),
		cmocka_unit_test(test_slack_posts_channel_and_text),
		cmocka_unit_test(test_webhook_is_signed_with_a_delivery_id),
		cmocka_unit_test(test_slack_text_is_escaped),
		cmocka_unit_test(test_webhook_refuses_header_injection),
		cmocka_unit_test(test_email_arrives_at_a_real_smtp_server),
		cmocka_unit_test(test_dispatcher_sends_retries_and_buries),
		cmocka_unit_test(test_dispatcher_thread_delivers_when_woken),
		cmocka_unit_test(test_unconfigured_channel_warns_once_and_keeps_the_items),
		cmocka_unit_test(test_slow_receiver_and_killed_dispatcher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
