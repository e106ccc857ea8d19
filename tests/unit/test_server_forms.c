/*
 * The public web form over real HTTP (issue 17, point 2; server_fixture.h):
 * GET /support gives the form with its cookie and CSRF token under a CSP
 * without script; a good POST makes a ticket with channel web for the CRM
 * customer with that address, answers 303 to the confirmation naming its
 * reference, and the acknowledgement reaches a real SMTP receiver; bad
 * input gets the form again with its errors and the person's text escaped;
 * a missing or wrong CSRF token is 403, a filled honeypot keeps nothing,
 * too many posts from one address are 429, another body type is 415.
 * Nothing refused leaves a ticket.
 */
#include "test_helpers.h"

#include <ctype.h>
#include <math.h>
#include <curl/curl.h>

#include "server_fixture.h"
#include "smtp_harness.h"
#include "channels/web/web.h"

#define FORM_TYPE "application/x-www-form-urlencoded"

/* The form page's cookie ("fl_form=...") and CSRF token, from GET /support. */
struct form_keys {
	char cookie[128];
	char csrf[WEB_TOKEN_SIZE];
};

static void get_form(struct fx *f, struct form_keys *k, struct http_resp *out)
{
	struct http_req q = { 0 };
	char *url = fl_asprintf("%s/support", f->base), *set;
	const char *p;

	q.url = url;
	http_do(&q, out);
	free(url);
	assert_int_equal(out->status, 200);
	set = http_resp_header(out, "Set-Cookie");
	assert_non_null(set);
	assert_true(fl_str_has_prefix(set, "fl_form="));
	snprintf(k->cookie, sizeof(k->cookie), "%.*s", (int)strcspn(set, ";"), set);
	free(set);
	p = strstr(out->body, "name=\"csrf_token\" value=\"");
	assert_non_null(p);
	p += strlen("name=\"csrf_token\" value=\"");
	snprintf(k->csrf, sizeof(k->csrf), "%.64s", p);
}

/* name=value&... from NULL-terminated pairs, each value URL-encoded. Caller frees. */
static char *encode(const char *const *pairs)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; pairs[i]; i += 2) {
		char *v = curl_easy_escape(NULL, pairs[i + 1], 0);

		fl_buf_addf(&b, "%s%s=%s", i ? "&" : "", pairs[i], v);
		curl_free(v);
	}
	return fl_buf_detach(&b, NULL);
}

/* POST /support with cookie (may be NULL) and the pairs as a form. */
static void post_form(struct fx *f, const char *cookie, const char *const *pairs, const char *type,
		      struct http_resp *out)
{
	char *url = fl_asprintf("%s/support", f->base), *body = encode(pairs), *ch = NULL;
	const char *headers[2] = { NULL, NULL };
	struct http_req q = { 0 };

	if (cookie) {
		ch = fl_asprintf("Cookie: %s", cookie);
		headers[0] = ch;
	}
	q.method = "POST";
	q.url = url;
	q.body = body;
	q.content_type = type ? type : FORM_TYPE;
	q.headers = headers;
	http_do(&q, out);
	free(url);
	free(body);
	free(ch);
}

/* How many tickets came through the web form's channel. */
static size_t web_tickets(struct fx *f)
{
	struct http_resp r;
	size_t n;

	fx_call(f, "GET", "/api/v1/tickets?channel=web&limit=100", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	n = json_array_size(json_object_get(r.json, "tickets"));
	http_resp_release(&r);
	return n;
}

/*
 * Starts a real SMTP receiver and has the server's notifier (no, polling
 * every 50 ms) deliver through it; *url is the receiver's (smtp_stop frees it).
 */
static void smtp_start(struct fx *f, struct smtp_harness *smtp, struct notify_options *no, char **url)
{
	if (smtp_harness_start(smtp, url))
		fail_msg("%s", smtp_harness_error(smtp));
	no->store_url = f->url;
	no->poll_ms = 50;
	no->settings.smtp_url = *url;
	no->settings.smtp_from = "support@frontline.localhost";
	f->notify = no;
}

/* Stops the server, then the SMTP receiver smtp_start started. */
static void smtp_stop(struct fx *f, struct smtp_harness *smtp, char *url)
{
	fx_stop_server(f);
	smtp_harness_stop(smtp);
	free(url);
}

static void test_the_form_page_has_its_token_and_no_script(void **state)
{
	struct fx *f = *state;
	struct form_keys k;
	struct http_resp r;
	char *csp, *type, want[WEB_TOKEN_SIZE];

	fx_start(f, -1, false);
	get_form(f, &k, &r);
	csp = http_resp_header(&r, "Content-Security-Policy");
	type = http_resp_header(&r, "Content-Type");
	assert_non_null(csp);
	assert_non_null(strstr(csp, "default-src 'none'"));
	assert_null(strstr(csp, "unsafe-inline"));
	assert_true(fl_str_has_prefix(type, "text/html"));
	assert_null(strstr(r.body, "<script"));
	assert_null(strstr(r.body, "style=\""));
	/* every field labelled; the honeypot out of the tab order */
	assert_non_null(strstr(r.body, "<label for=\"f-name\">"));
	assert_non_null(strstr(r.body, "<label for=\"f-email\">"));
	assert_non_null(strstr(r.body, "<label for=\"f-subject\">"));
	assert_non_null(strstr(r.body, "<label for=\"f-message\">"));
	assert_non_null(strstr(r.body, "name=\"website\" type=\"text\" tabindex=\"-1\""));
	/* the token is the cookie's */
	web_csrf_token(k.cookie + strlen("fl_form="), want);
	assert_string_equal(k.csrf, want);
	assert_true(web_csrf_ok(k.cookie + strlen("fl_form="), k.csrf));
	assert_false(web_csrf_ok(k.cookie + strlen("fl_form="), k.cookie + strlen("fl_form=")));
	free(csp);
	free(type);
	http_resp_release(&r);
}

static void test_a_good_post_makes_a_web_ticket_and_an_acknowledgement(void **state)
{
	struct fx *f = *state;
	struct smtp_harness smtp = SMTP_HARNESS_INIT;
	struct notify_options no = { 0 };
	struct form_keys k;
	struct http_resp r;
	char *smtp_url = NULL, *loc, *path;
	const char *ref;
	json_t *msgs;
	size_t i;
	bool found = false;

	smtp_start(f, &smtp, &no, &smtp_url);
	fx_start(f, -1, false);
	get_form(f, &k, &r);
	http_resp_release(&r);
	{
		const char *pairs[] = { "csrf_token", k.csrf, "website", "", "name", "John Doe",
					"email", " John.Doe@Company.com ", "subject", "Invoice shows the wrong VAT number",
					"message", "The invoice for March shows our old VAT number; please correct it.", NULL };

		post_form(f, k.cookie, pairs, NULL, &r);
	}
	assert_int_equal(r.status, 303);
	loc = http_resp_header(&r, "Location");
	assert_non_null(loc);
	assert_true(fl_str_has_prefix(loc, "/support/sent?ref=T-"));
	ref = loc + strlen("/support/sent?ref=");
	http_resp_release(&r);
	/* the ticket: channel web, the CRM's customer with that address */
	path = fl_asprintf("/api/v1/tickets/%s", ref);
	fx_call(f, "GET", path, f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "channel", ""), "web");
	assert_string_equal(fl_json_str(r.json, "customer_id", ""), "cust_001");
	assert_string_equal(fl_json_str(json_object_get(r.json, "metadata"), "customer_email", ""),
			    "john.doe@company.com");
	http_resp_release(&r);
	free(path);
	/* the confirmation page names the reference */
	{
		struct http_req q = { 0 };
		char *url = fl_asprintf("%s%s", f->base, loc);

		q.url = url;
		http_do(&q, &r);
		free(url);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, ref));
		http_resp_release(&r);
	}
	/* the acknowledgement, with the reference, at a real SMTP server */
	assert_true(smtp_harness_wait(&smtp, 1, 30000) >= 1);
	msgs = smtp_harness_messages(&smtp);
	json_array_foreach(msgs, i, r.json) {
		const char *m = json_string_value(r.json);

		found = found || (strstr(m, ref) && strstr(m, "john.doe@company.com") &&
				  strstr(m, "We received your request"));
	}
	r.json = NULL;
	assert_true(found);
	json_decref(msgs);
	smtp_stop(f, &smtp, smtp_url);
	free(loc);
}

static void test_bad_input_gets_the_form_again_escaped(void **state)
{
	struct fx *f = *state;
	struct form_keys k;
	struct http_resp r;
	const char *pairs[] = { "csrf_token", NULL, "name", "<script>alert(1)</script>", "email", "not-an-address",
				"subject", "", "message", "ab\"<i>", NULL };

	fx_start(f, -1, false);
	get_form(f, &k, &r);
	http_resp_release(&r);
	pairs[1] = k.csrf;
	post_form(f, k.cookie, pairs, NULL, &r);
	assert_int_equal(r.status, 422);
	assert_null(strstr(r.body, "<script>alert"));
	assert_non_null(strstr(r.body, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
	assert_non_null(strstr(r.body, "ab&quot;&lt;i&gt;</textarea>"));
	assert_non_null(strstr(r.body, "role=\"alert\""));
	assert_non_null(strstr(r.body, "id=\"e-email\""));
	assert_non_null(strstr(r.body, "aria-describedby=\"e-email\""));
	assert_non_null(strstr(r.body, "id=\"e-subject\""));
	assert_non_null(strstr(r.body, "id=\"e-message\""));
	assert_null(strstr(r.body, "id=\"e-name\""));   /* the name was given */
	/* the same token still works: the page kept it */
	assert_non_null(strstr(r.body, k.csrf));
	http_resp_release(&r);
	assert_int_equal(web_tickets(f), 0);
}

static void test_csrf_honeypot_and_body_type_are_enforced(void **state)
{
	struct fx *f = *state;
	struct form_keys k, other;
	struct http_resp r;
	char *loc;
	const char *pairs[] = { "csrf_token", NULL, "name", "Mallory", "email", "mallory@example.com",
				"subject", "Free money", "message", "Click here for your prize, it is waiting.", NULL };

	fx_start(f, -1, false);
	get_form(f, &k, &r);
	http_resp_release(&r);
	get_form(f, &other, &r);
	http_resp_release(&r);
	/* no cookie, a token of another cookie, no token */
	pairs[1] = k.csrf;
	post_form(f, NULL, pairs, NULL, &r);
	assert_int_equal(r.status, 403);
	http_resp_release(&r);
	post_form(f, other.cookie, pairs, NULL, &r);
	assert_int_equal(r.status, 403);
	/* the form comes back with the text kept, under a new cookie */
	assert_non_null(strstr(r.body, "Click here for your prize"));
	loc = http_resp_header(&r, "Set-Cookie");
	assert_non_null(loc);
	free(loc);
	http_resp_release(&r);
	pairs[1] = "";
	post_form(f, k.cookie, pairs, NULL, &r);
	assert_int_equal(r.status, 403);
	http_resp_release(&r);
	/* JSON is not a form */
	pairs[1] = k.csrf;
	post_form(f, k.cookie, pairs, "application/json", &r);
	assert_int_equal(r.status, 415);
	http_resp_release(&r);
	/* a robot filled the honeypot: thanked, nothing kept */
	{
		const char *robot[] = { "csrf_token", k.csrf, "website", "http://spam.example", "name", "Bot",
					"email", "bot@example.com", "subject", "Buy now",
					"message", "Cheap watches, cheap watches, cheap watches.", NULL };

		post_form(f, k.cookie, robot, NULL, &r);
	}
	assert_int_equal(r.status, 303);
	loc = http_resp_header(&r, "Location");
	assert_string_equal(loc, "/support/sent");
	free(loc);
	http_resp_release(&r);
	assert_int_equal(web_tickets(f), 0);
}

static void test_posts_are_limited_per_address(void **state)
{
	struct fx *f = *state;
	struct form_keys k;
	struct http_resp r;
	char *ra;
	int i;
	const char *pairs[] = { "csrf_token", NULL, "name", "Ann Example", "email", "ann@example.com",
				"subject", "Where is my parcel", "message", "The parcel was due on Monday and has not come.",
				NULL };

	fl_config_set("FRONTLINE_FORM_RATE_LIMIT", "2");
	fx_start(f, -1, false);
	get_form(f, &k, &r);
	http_resp_release(&r);
	pairs[1] = k.csrf;
	for (i = 0; i < 2; i++) {
		post_form(f, k.cookie, pairs, NULL, &r);
		assert_int_equal(r.status, 303);
		http_resp_release(&r);
	}
	post_form(f, k.cookie, pairs, NULL, &r);
	fl_config_set("FRONTLINE_FORM_RATE_LIMIT", "10");
	assert_int_equal(r.status, 429);
	ra = http_resp_header(&r, "Retry-After");
	assert_non_null(ra);
	assert_true(atoi(ra) > 0);
	assert_non_null(strstr(r.body, "Where is my parcel"));
	free(ra);
	http_resp_release(&r);
	assert_int_equal(web_tickets(f), 2);
}

static void test_the_confirmation_shows_only_a_reference(void **state)
{
	struct fx *f = *state;
	struct http_req q = { 0 };
	struct http_resp r;
	char *url;

	fx_start(f, -1, false);
	url = fl_asprintf("%s/support/sent?ref=%%3Cscript%%3Ex", f->base);
	q.url = url;
	http_do(&q, &r);
	free(url);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "<script"));
	assert_null(strstr(r.body, "&lt;script"));
	http_resp_release(&r);
}

/* ---- the satisfaction survey ---- */

/* The survey link in a raw message (quoted-printable undone), or NULL. Caller frees. */
static char *survey_link(const char *raw)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p, *end;
	char *text, *link = NULL;

	for (p = raw; *p; p++) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n')
			p += 2;
		else if (p[0] == '=' && p[1] == '\n')
			p += 1;
		else if (p[0] == '=' && p[1] == '3' && p[2] == 'D')
			fl_buf_addch(&b, '='), p += 2;
		else
			fl_buf_addch(&b, *p);
	}
	text = fl_buf_detach(&b, NULL);
	p = strstr(text, "/csat/");
	if (p) {
		end = p + strlen("/csat/");
		while (isxdigit((unsigned char)*end))
			end++;
		link = fl_strndup(p, (size_t)(end - p));
	}
	free(text);
	return link;
}

static void post_answer(struct fx *f, const char *link, const char *const *pairs, struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, link), *body = encode(pairs);
	struct http_req q = { 0 };

	q.method = "POST";
	q.url = url;
	q.body = body;
	q.content_type = FORM_TYPE;
	http_do(&q, out);
	free(url);
	free(body);
}

static void get_page(struct fx *f, const char *link, struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, link);
	struct http_req q = { 0 };

	q.url = url;
	http_do(&q, out);
	free(url);
}

static json_t *csat_summary(struct fx *f)
{
	struct http_resp r;
	json_t *c;

	fx_call(f, "GET", "/api/v1/metrics/summary?window=86400", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	c = json_incref(json_object_get(r.json, "csat"));
	http_resp_release(&r);
	assert_non_null(c);
	assert_int_equal(fl_json_int(c, "window", 0), 86400);
	return c;
}

static void test_a_resolved_ticket_gets_a_survey_whose_link_records_the_rating(void **state)
{
	struct fx *f = *state;
	struct smtp_harness smtp = SMTP_HARNESS_INIT;
	struct notify_options no = { 0 };
	struct http_resp r;
	char *smtp_url = NULL, *link = NULL;
	json_t *msgs, *m, *c;
	size_t i, n;

	smtp_start(f, &smtp, &no, &smtp_url);
	fx_start(f, -1, true);
	fl_config_set("FRONTLINE_CSAT_DELAY", "0");
	fl_config_set("FRONTLINE_PUBLIC_URL", f->base);
	fx_webhook(f, fx_ticket_body("csat_1", "cust_001", "Cannot export reports",
				     "The export button on the reports page does nothing since Tuesday."), 0, NULL, &r);
	fx_expect(&r, 202, NULL);
	http_resp_release(&r);
	fx_wait_done(f, 1);
	fx_call(f, "POST", "/api/v1/tickets/csat_1/resolve", f->agent, "{\"resolution\":\"Fixed in 4.2.\"}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* the survey mail, caught by the SMTP receiver */
	for (n = 1; n < 10 && !link; n++) {
		smtp_harness_wait(&smtp, n, 30000);
		msgs = smtp_harness_messages(&smtp);
		json_array_foreach(msgs, i, m)
			if (!link && strstr(json_string_value(m), "How did we do"))
				link = survey_link(json_string_value(m));
		json_decref(msgs);
	}
	fl_config_set("FRONTLINE_CSAT_DELAY", "86400");
	assert_non_null(link);
	assert_int_equal(strlen(link), strlen("/csat/") + 64);
	/* GET shows the question and records nothing */
	get_page(f, link, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "Cannot export reports"));
	assert_non_null(strstr(r.body, "name=\"score\" value=\"5\""));
	assert_null(strstr(r.body, "<script"));
	http_resp_release(&r);
	c = csat_summary(f);
	assert_int_equal(fl_json_int(c, "responses", -1), 0);
	assert_true(json_is_null(json_object_get(c, "average")));
	json_decref(c);
	/* a bad score is refused with the question again */
	{
		const char *bad[] = { "score", "9", "comment", "x", NULL };

		post_answer(f, link, bad, &r);
		assert_int_equal(r.status, 422);
		assert_non_null(strstr(r.body, "role=\"alert\""));
		http_resp_release(&r);
	}
	/* POST records it: the survey, the ticket, the customer, the summary, Prometheus */
	{
		const char *answer[] = { "score", "2", "comment", "Took <b>three</b> days", NULL };

		post_answer(f, link, answer, &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.body, "2 - dissatisfied"));
		http_resp_release(&r);
	}
	c = csat_summary(f);
	assert_int_equal(fl_json_int(c, "responses", -1), 1);
	assert_true(fabs(fl_json_num(c, "average", 0) - 2) < 1e-9);
	json_decref(c);
	fx_call(f, "GET", "/api/v1/tickets/csat_1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_true(fabs(fl_json_num(r.json, "satisfaction", -1) - 0.25) < 1e-9);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/csat_1/events", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_non_null(strstr(r.body, "ticket.rated"));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/customers/cust_001", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_true(fl_json_num(r.json, "satisfaction_score", 1) < 0.9);
	http_resp_release(&r);
	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	assert_non_null(strstr(r.body, "frontline_csat_responses 1"));
	assert_non_null(strstr(r.body, "frontline_csat_average 2"));
	http_resp_release(&r);
	/* changed until it expires: one answer per ticket, the new one */
	{
		const char *answer[] = { "score", "5", NULL };

		post_answer(f, link, answer, &r);
		assert_int_equal(r.status, 200);
		http_resp_release(&r);
	}
	get_page(f, link, &r);
	assert_non_null(strstr(r.body, "value=\"5\" checked"));
	http_resp_release(&r);
	c = csat_summary(f);
	assert_int_equal(fl_json_int(c, "responses", -1), 1);
	assert_true(fabs(fl_json_num(c, "average", 0) - 5) < 1e-9);
	json_decref(c);
	/* a resolve again sends no second survey; a bad token and an expired one are 404 */
	get_page(f, "/csat/0000000000000000000000000000000000000000000000000000000000000000", &r);
	assert_int_equal(r.status, 404);
	http_resp_release(&r);
	get_page(f, "/csat/nothex", &r);
	assert_int_equal(r.status, 404);
	http_resp_release(&r);
	fx_sql(f, "UPDATE surveys SET expires_at = 0");
	get_page(f, link, &r);
	assert_int_equal(r.status, 404);
	http_resp_release(&r);
	{
		const char *answer[] = { "score", "1", NULL };

		post_answer(f, link, answer, &r);
		assert_int_equal(r.status, 404);
		http_resp_release(&r);
	}
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
	smtp_stop(f, &smtp, smtp_url);
	free(link);
}

/*
 * The acknowledgement is queued after the ticket's commit, on its own: when
 * the outbox refuses it (a trigger behind the server's back), the ticket is
 * still stored and the browser still goes to its reference.
 */
static void test_a_failed_acknowledgement_keeps_the_ticket(void **state)
{
	struct fx *f = *state;
	const char *to = "ack.failure@example.com";
	struct form_keys k;
	struct http_resp r;
	char *loc, *path;
	int round;

	fx_start(f, -1, false);
	if (!strcmp(f->g->backend, "sqlite"))
		fx_sql(f, "CREATE TRIGGER outbox_refused BEFORE INSERT ON outbox"
			  " BEGIN SELECT RAISE(ABORT, 'the test refuses the outbox'); END;");
	else
		fx_sql(f, "CREATE FUNCTION outbox_refused() RETURNS trigger LANGUAGE plpgsql AS"
			  " $$ BEGIN RAISE EXCEPTION 'the test refuses the outbox'; END $$;"
			  "CREATE TRIGGER outbox_refused BEFORE INSERT ON outbox"
			  " FOR EACH ROW EXECUTE FUNCTION outbox_refused();");
	for (round = 0; round < 2; round++) {
		const char *pairs[] = { "csrf_token", NULL, "website", "", "name", "Ada", "email", to, "subject",
					"Cannot download my invoice", "message",
					"The download button on the billing page does nothing.", NULL };

		get_form(f, &k, &r);
		http_resp_release(&r);
		pairs[1] = k.csrf;
		post_form(f, k.cookie, pairs, NULL, &r);
		assert_int_equal(r.status, 303);
		loc = http_resp_header(&r, "Location");
		assert_true(fl_str_has_prefix(loc, "/support/sent?ref=T-"));
		http_resp_release(&r);
		path = fl_asprintf("/api/v1/tickets/%s", loc + strlen("/support/sent?ref="));
		fx_call(f, "GET", path, f->admin, NULL, &r);
		fx_expect(&r, 200, NULL);
		assert_string_equal(fl_json_str(r.json, "channel", ""), "web");
		http_resp_release(&r);
		free(path);
		free(loc);
		if (!round) {
			/* refused: no acknowledgement, the ticket kept; then the outbox takes them again */
			assert_int_equal(fx_outbox_to(f, to), 0);
			fx_sql(f, strcmp(f->g->backend, "sqlite")
					  ? "DROP TRIGGER outbox_refused ON outbox; DROP FUNCTION outbox_refused();"
					  : "DROP TRIGGER outbox_refused;");
		} else {
			assert_int_equal(fx_outbox_to(f, to), 1);
		}
	}
	assert_int_equal(web_tickets(f), 2);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_the_form_page_has_its_token_and_no_script),
	FX_TEST(test_a_good_post_makes_a_web_ticket_and_an_acknowledgement),
	FX_TEST(test_a_failed_acknowledgement_keeps_the_ticket),
	FX_TEST(test_bad_input_gets_the_form_again_escaped),
	FX_TEST(test_csrf_honeypot_and_body_type_are_enforced),
	FX_TEST(test_posts_are_limited_per_address),
	FX_TEST(test_the_confirmation_shows_only_a_reference),
	FX_TEST(test_a_resolved_ticket_gets_a_survey_whose_link_records_the_rating),
};

int main(void)
{
	return FX_RUN("server_forms", tests) ? 1 : 0;
}
