/*
 * The HTTP service against hostile clients (issue 14), over real HTTP on
 * 127.0.0.1 against a real store on every backend (server_fixture.h): ids
 * and free fields bounded at every intake door, no header injected through
 * a stored value, one integration unable to read another's tickets through
 * deduplication, request framing refused and closed, slow and stalled
 * clients cut off while health keeps answering, and the lower findings
 * (replayed signed webhooks, punctuation-only searches, unknown tokens
 * guessed in bulk).
 *
 * Each test was written to fail against the server as the review found it.
 */
#include "test_helpers.h"

#include <stdio.h>
#include <unistd.h>

#include "server_fixture.h"

/* The error object's first detail's code (the ingestion rules' code), or "". */
static const char *detail_code(const struct http_resp *r)
{
	const json_t *d = json_object_get(json_object_get(r->json, "error"), "details");

	return fl_json_str(json_array_get(d, 0), "code", "");
}

static const char *error_field(const struct http_resp *r)
{
	return fl_json_str(json_object_get(r->json, "error"), "field", "");
}

/* ---- point 3: ids, and nothing injected into headers ---- */

static void test_ids_outside_the_safe_set_are_refused_at_every_door(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"a\\nSet-Cookie: pwned=1", "a\\r\\nX: y", "a b", "a/b", "../etc", "caf\\u00e9", "a%0a", "a\\u007fb",
	};
	struct http_resp r;
	size_t i;

	fx_start(f, -1, false);
	for (i = 0; i < FL_ARRAY_SIZE(bad); i++) {
		char *body = fl_asprintf("{\"id\":\"%s\",\"customer_id\":\"cust_001\",\"subject\":\"Login\","
					 "\"content\":\"I cannot log in since this morning.\"}", bad[i]);

		fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
		fx_expect(&r, 422, "validation_failed");
		assert_string_equal(error_field(&r), "id");
		assert_string_equal(detail_code(&r), "bad_characters");
		assert_null(strstr(r.headers, "Set-Cookie"));
		http_resp_release(&r);
		fx_webhook(f, body, 0, NULL, &r);
		fx_expect(&r, 422, "validation_failed");
		assert_string_equal(error_field(&r), "id");
		http_resp_release(&r);
		free(body);
	}
	/* the whole safe set passes, up to 128 characters */
	fx_call(f, "POST", "/api/v1/tickets", f->integ,
		fx_ticket_body("Az09._:-x", "cust_001", "Login", "I cannot log in since this morning."), &r);
	fx_expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), "Az09._:-x");
	http_resp_release(&r);
}

static void test_a_stored_value_cannot_inject_a_response_header(void **state)
{
	struct fx *f = *state;
	const char *hs[] = { "Idempotency-Key: k-old", NULL };
	struct http_resp r;
	json_t *old, *out = NULL;
	bool created;
	char *url, key[64];

	/* a ticket stored before ids were checked, under this token's scoped key */
	old = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:I}}", "id", "old\r\nSet-Cookie: pwned=1", "channel", "api",
			"customer_id", "cust_001", "subject", "Old", "content", "Stored before the id rules.",
			"metadata", "api_token_id", (json_int_t)f->integ_id);
	snprintf(key, sizeof(key), "token:%lld:k-old", (long long)f->integ_id);
	assert_int_equal(store_ticket_intake(f->st, old, NULL, key, &out, &created), STORE_OK);
	assert_true(created);
	json_decref(out);
	json_decref(old);

	fx_start(f, -1, false);
	url = fl_asprintf("%s/api/v1/tickets", f->base);
	{
		struct http_req req = { "POST", url, f->integ, NULL,
					fx_ticket_body(NULL, "cust_001", "Again", "The same key as the old ticket."), 0, hs,
					0 };

		http_do(&req, &r);
	}
	fx_expect(&r, 200, NULL);
	if (strstr(r.headers, "Set-Cookie"))
		fail_msg("a header was injected: %s", r.headers);
	/* the value with a line break is not sent at all */
	assert_null(strstr(r.headers, "Location"));
	http_resp_release(&r);
	free(url);
}

/* ---- point 2: one integration cannot read another's tickets ---- */

static void test_deduplication_shows_no_other_callers_ticket(void **state)
{
	struct fx *f = *state;
	char *body = fl_strdup(fx_ticket_body("shared_1", "cust_001", "Invoice 4411 is wrong",
					      "My invoice details: account 123456, amount 9,400 EUR."));
	char other[64], *url;
	int64_t other_id;
	struct http_resp r;

	fx_make_token(f, "integration", other, &other_id);
	fx_start(f, -1, false);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* another integration with the same id: no record, and GET agrees it is not theirs */
	fx_call(f, "POST", "/api/v1/tickets", other, body, &r);
	fx_expect(&r, 409, "conflict");
	assert_string_equal(error_field(&r), "id");
	assert_null(strstr(r.body, "123456"));
	assert_null(strstr(r.body, "cust_001"));
	assert_null(json_object_get(json_object_get(r.json, "error"), "details"));
	assert_null(strstr(r.headers, "Location"));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/shared_1", other, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	/* the signed webhook may not read a token's ticket either (the source is the sender's to say) */
	fx_webhook(f, "{\"id\":\"shared_1\",\"source\":\"api\",\"customer_id\":\"c\",\"subject\":\"s\","
		      "\"content\":\"Trying to read someone else's ticket.\"}", 0, NULL, &r);
	fx_expect(&r, 409, "conflict");
	assert_null(strstr(r.body, "\"status\""));
	http_resp_release(&r);
	/* nor an integration a webhook's ticket, whatever source it claims */
	fx_webhook(f, fx_ticket_body("hook_1", "cust_002", "Billing", "When does my billing cycle start?"), 0, NULL,
		   &r);
	fx_expect(&r, 202, NULL);
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->integ,
		"{\"id\":\"hook_1\",\"source\":\"web\",\"customer_id\":\"c\",\"subject\":\"s\","
		"\"content\":\"Trying to read the webhook's ticket.\"}", &r);
	fx_expect(&r, 409, "conflict");
	assert_null(strstr(r.body, "billing"));
	http_resp_release(&r);
	/* the owner's repeat, and an agent's, still answer the record */
	fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), "shared_1");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->agent, body, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* Idempotency-Keys are each caller's own: the same key makes two tickets */
	url = fl_asprintf("%s/api/v1/tickets", f->base);
	{
		const char *hs[] = { "Idempotency-Key: same-key", NULL };
		struct http_req a = { "POST", url, f->integ, NULL,
				      fx_ticket_body(NULL, "cust_001", "One", "The first caller's ticket."), 0, hs, 0 };
		char *first;

		http_do(&a, &r);
		fx_expect(&r, 201, NULL);
		first = fl_strdup(fl_json_str(r.json, "id", ""));
		http_resp_release(&r);
		a.token = other;
		a.body = fx_ticket_body(NULL, "cust_001", "Two", "The second caller's ticket.");
		http_do(&a, &r);
		fx_expect(&r, 201, NULL);
		assert_string_not_equal(fl_json_str(r.json, "id", ""), first);
		http_resp_release(&r);
		free(first);
	}
	free(url);
	free(body);
}

static void test_an_integration_reads_the_tickets_it_mailed(void **state)
{
	struct fx *f = *state;
	const char *mail = "From: Ann <ann@example.com>\r\nTo: help@example.com\r\nSubject: Export fails\r\n"
			   "Message-ID: <m1@example.com>\r\n\r\nThe export to CSV fails with an error.\r\n";
	char *url, *path, other[64];
	struct http_resp r;

	fx_make_token(f, "integration", other, NULL);
	fx_start(f, -1, false);
	url = fl_asprintf("%s/api/v1/mail", f->base);
	{
		struct http_req req = { "POST", url, f->integ, "message/rfc822", mail, 0, NULL, 0 };

		http_do(&req, &r);
	}
	fx_expect(&r, 202, NULL);
	path = fl_asprintf("/api/v1/tickets/%s", fl_json_str(r.json, "ticket_id", ""));
	http_resp_release(&r);
	fx_call(f, "GET", path, f->integ, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", path, other, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	/* the same message from another integration: a duplicate, without naming a ticket it may not read */
	{
		struct http_req req = { "POST", url, other, "message/rfc822", mail, 0, NULL, 0 };

		http_do(&req, &r);
	}
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "outcome", ""), "duplicate");
	assert_null(json_object_get(r.json, "ticket_id"));
	assert_null(json_object_get(r.json, "ticket_number"));
	http_resp_release(&r);
	free(path);
	free(url);
}

/* ---- point 5: bounded fields, bounded lists ---- */

/* A ticket body whose customer_id, metadata (a raw JSON text) are given. */
static char *body_with(const char *customer, const char *metadata)
{
	return fl_asprintf("{\"customer_id\":\"%s\",\"subject\":\"Login\",\"content\":\"I cannot log in "
			   "since this morning.\",\"metadata\":%s}", customer, metadata ? metadata : "{}");
}

static void expect_refused(struct fx *f, const char *body, const char *field, const char *code)
{
	struct http_resp r;

	fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(error_field(&r), field);
	assert_string_equal(detail_code(&r), code);
	http_resp_release(&r);
	fx_webhook(f, body, 0, NULL, &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(error_field(&r), field);
	http_resp_release(&r);
}

static void test_free_fields_are_bounded_at_intake(void **state)
{
	struct fx *f = *state;
	struct fl_buf big = FL_BUF_INIT, meta = FL_BUF_INIT;
	struct http_resp r;
	char *body;
	int i;

	fx_start(f, -1, false);
	/* customer_id: 128 characters at most, no line break */
	for (i = 0; i < 129; i++)
		fl_buf_addch(&big, 'c');
	body = body_with(big.buf, NULL);
	expect_refused(f, body, "customer_id", "bad_length");
	free(body);
	fl_buf_setlen(&big, 128);
	body = body_with(big.buf, NULL);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	free(body);
	body = body_with("cust\\n001", NULL);
	expect_refused(f, body, "customer_id", "bad_characters");
	free(body);
	/* metadata: 16 KiB as compact JSON, 8 levels */
	fl_buf_adds(&meta, "{\"notes\":\"");
	while (meta.len < 16400)
		fl_buf_adds(&meta, "0123456789");
	fl_buf_adds(&meta, "\"}");
	body = body_with("cust_001", meta.buf);
	expect_refused(f, body, "metadata", "bad_length");
	free(body);
	for (int levels = 9; levels >= 8; levels--) {
		fl_buf_reset(&meta);
		for (i = 0; i < levels; i++)
			fl_buf_adds(&meta, "{\"a\":");
		fl_buf_adds(&meta, "1");
		for (i = 0; i < levels; i++)
			fl_buf_addch(&meta, '}');
		body = body_with("cust_001", meta.buf);
		if (levels == 9) {
			expect_refused(f, body, "metadata", "too_deep");
		} else {
			fx_call(f, "POST", "/api/v1/tickets", f->integ, body, &r);
			fx_expect(&r, 201, NULL);
			http_resp_release(&r);
		}
		free(body);
	}
	fl_buf_release(&meta);
	fl_buf_release(&big);
}

static void test_the_list_is_bounded_whatever_the_data(void **state)
{
	struct fx *f = *state;
	struct fl_buf huge = FL_BUF_INIT;
	json_t *seen = json_object();
	const char *view;
	int i, pages;

	/*
	 * Tickets stored before the rules (or by other means): each with a
	 * customer id over the summary's cut (PostgreSQL's indexes refuse
	 * much larger ones) and a large metadata: 80 of 62 KB (a page of them
	 * is over 4 MiB) and 10 of 300 KB (each over a listed record's bound).
	 */
	while (huge.len < 300000)
		fl_buf_adds(&huge, "0123456789");
	for (i = 0; i < 90; i++) {
		char id[32];
		json_t *t, *out = NULL;
		bool created;

		snprintf(id, sizeof(id), "big_%02d", i);
		t = json_pack("{s:s, s:s#, s:s, s:s, s:s, s:{s:s#}}", "id", id, "customer_id", huge.buf, (size_t)2200,
			      "channel", "api", "subject", "Large", "content", "A ticket with a very long customer id.",
			      "metadata", "blob", huge.buf, (size_t)(i < 80 ? 60000 : 300000));
		assert_int_equal(store_ticket_intake(f->st, t, NULL, NULL, &out, &created), STORE_OK);
		json_decref(out);
		json_decref(t);
	}
	fx_start(f, -1, false);
	for (view = "summary"; view; view = !strcmp(view, "summary") ? "full" : NULL) {
		char *cursor = NULL;
		bool full = !strcmp(view, "full");
		int cut = 0;

		json_object_clear(seen);
		for (pages = 0; pages < 40; pages++) {
			char *path = fl_asprintf("/api/v1/tickets?limit=500&view=%s%s%s", view, cursor ? "&cursor=" : "",
						 cursor ? cursor : "");
			struct http_resp r;
			json_t *t;
			size_t k;

			fx_call(f, "GET", path, f->agent, NULL, &r);
			fx_expect(&r, 200, NULL);
			/* 4 MiB and the ticket that crossed it */
			if (r.len > ((size_t)4 << 20) + ((size_t)64 << 10))
				fail_msg("a page of %zu bytes (view %s)", r.len, view);
			json_array_foreach(json_object_get(r.json, "tickets"), k, t) {
				bool truncated = fl_json_bool(t, "truncated", false);

				/* summaries cut long strings; a record too large is listed as its summary */
				if (!full || json_string_length(json_object_get(json_object_get(t, "metadata"), "blob")) == 0) {
					assert_true(truncated);
					assert_true(json_string_length(json_object_get(t, "customer_id")) <= 2048);
					assert_null(json_object_get(t, "metadata"));
					cut++;
				} else {
					assert_false(truncated);
				}
				json_object_set_new(seen, fl_json_str(t, "id", ""), json_true());
			}
			free(cursor);
			cursor = json_is_string(json_object_get(r.json, "next_cursor"))
					 ? fl_strdup(fl_json_str(r.json, "next_cursor", "")) : NULL;
			http_resp_release(&r);
			free(path);
			if (!cursor)
				break;
		}
		/* every ticket is listed once the pages are followed; full records took several pages */
		assert_int_equal(json_object_size(seen), 90);
		assert_int_equal(cut, full ? 10 : 90);
		if (full)
			assert_true(pages >= 1);
	}
	json_decref(seen);
	fl_buf_release(&huge);
}

/* ---- point 9: the lower findings of the HTTP side ---- */

static void test_a_replayed_webhook_without_id_is_one_ticket(void **state)
{
	struct fx *f = *state;
	const char *body = "{\"customer_id\":\"cust_001\",\"subject\":\"Refund\",\"content\":\"Please refund my last invoice.\"}";
	int64_t ts = fl_wall_us() / 1000000;
	struct http_resp r;
	char *first;

	fx_start(f, -1, false);
	fx_webhook(f, body, ts, NULL, &r);
	fx_expect(&r, 202, NULL);
	first = fl_strdup(fl_json_str(r.json, "id", ""));
	http_resp_release(&r);
	/* the same signed request again, within the tolerance window: the same ticket */
	fx_webhook(f, body, ts, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), first);
	assert_true(fl_json_bool(r.json, "duplicate", false));
	http_resp_release(&r);
	/* signed anew (another second) it is a new request: a new ticket */
	fx_webhook(f, body, ts - 1, NULL, &r);
	fx_expect(&r, 202, NULL);
	assert_string_not_equal(fl_json_str(r.json, "id", ""), first);
	http_resp_release(&r);
	free(first);
}

static void test_a_query_without_letters_or_digits_finds_nothing(void **state)
{
	struct fx *f = *state;
	static const char *const none[] = { "%21%21%21", "%2A", "%22%22", "-", "%28%29%3A" };
	struct http_resp r;
	size_t i;

	fx_start(f, -1, false);
	fx_webhook(f, fx_ticket_body("q_1", "cust_001", "Login fails", "I cannot log in since this morning."), 0, NULL,
		   &r);
	http_resp_release(&r);
	fx_webhook(f, fx_ticket_body("q_2", "cust_002", "Billing", "When does my billing cycle start?"), 0, NULL, &r);
	http_resp_release(&r);
	for (i = 0; i < FL_ARRAY_SIZE(none); i++) {
		char *path = fl_asprintf("/api/v1/tickets?q=%s", none[i]);

		fx_call(f, "GET", path, f->agent, NULL, &r);
		fx_expect(&r, 200, NULL);
		if (json_array_size(json_object_get(r.json, "tickets")))
			fail_msg("q=%s found %zu tickets", none[i], json_array_size(json_object_get(r.json, "tickets")));
		assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
		http_resp_release(&r);
		free(path);
	}
	/* a word finds its ticket; an empty q is no search */
	fx_call(f, "GET", "/api/v1/tickets?q=login", f->agent, NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 1);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets?q=", f->agent, NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 2);
	http_resp_release(&r);
}

static void test_unknown_tokens_are_limited_per_address(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_HTTP);
	char bad[64], *req, *out;
	struct http_resp r;
	bool closed;
	int i, fd;

	o.http.auth_failures = 6;   /* per minute, bursts of 12 */
	fx_start_service(f, &o);
	fx_call(f, "GET", "/api/v1/customers", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	for (i = 0; i < 12; i++) {
		snprintf(bad, sizeof(bad), "flt_%048d", i);
		fx_call(f, "GET", "/api/v1/customers", bad, NULL, &r);
		fx_expect(&r, 401, "unauthorized");
		http_resp_release(&r);
	}
	fx_call(f, "GET", "/api/v1/customers", "flt_000000000000000000000000000000000000000000000099", NULL, &r);
	fx_expect(&r, 429, "rate_limited");
	out = http_resp_header(&r, "Retry-After");
	assert_non_null(out);
	assert_true(atoi(out) >= 1);
	free(out);
	http_resp_release(&r);
	/* a known token from the same address still works */
	fx_call(f, "GET", "/api/v1/customers", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* another address has its own allowance */
	fd = http_raw_connect_from(server_port(f->srv), "127.0.0.2");
	assert_true(fd >= 0);
	req = fl_asprintf("GET /api/v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", bad);
	assert_int_equal(http_raw_send(fd, req, strlen(req)), 0);
	out = http_raw_read_answer(fd, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 401"))
		fail_msg("another address: %s", out);
	free(out);
	free(req);
	close(fd);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_ids_outside_the_safe_set_are_refused_at_every_door),
	FX_TEST(test_a_stored_value_cannot_inject_a_response_header),
	FX_TEST(test_deduplication_shows_no_other_callers_ticket),
	FX_TEST(test_an_integration_reads_the_tickets_it_mailed),
	FX_TEST(test_free_fields_are_bounded_at_intake),
	FX_TEST(test_the_list_is_bounded_whatever_the_data),
	FX_TEST(test_a_replayed_webhook_without_id_is_one_ticket),
	FX_TEST(test_a_query_without_letters_or_digits_finds_nothing),
	FX_TEST(test_unknown_tokens_are_limited_per_address),
};

int main(void)
{
	return FX_RUN("server_hardening", tests) ? 1 : 0;
}
