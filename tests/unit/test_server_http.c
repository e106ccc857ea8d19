/*
 * The HTTP service's surface, over real HTTP on 127.0.0.1 against a real
 * store on every backend (server_fixture.h): probes and metrics (readiness
 * on an unknown schema, request ids), every route against every role, every
 * kind of bad input with the server still serving afterwards, rate limits,
 * draining; and, without a server, docs/openapi.yaml and
 * docs/CONFIGURATION.md against the route and configuration tables.
 *
 * Tickets through the API (intake, triage, agents' verbs, lists,
 * escalations, dead letters, notifications) are in test_server_tickets.c.
 */
#include "test_helpers.h"

#include <ctype.h>
#include <stdio.h>
#include <unistd.h>

#include "server_fixture.h"

/* Sets the store's schema version behind the server's back (a newer Frontline migrated it). */
static void set_schema_version(struct fx *f, int v)
{
	char *sql = !strcmp(f->g->backend, "sqlite") ? fl_asprintf("PRAGMA user_version = %d", v)
						     : fl_asprintf("UPDATE frontline_schema SET version = %d", v);

	fx_sql(f, sql);
	free(sql);
}

static void test_probes_and_metrics(void **state)
{
	struct fx *f = *state;
	struct http_resp r;

	fx_start(f, 0, false);
	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "ok");
	http_resp_release(&r);
	fx_call(f, "GET", "/readyz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "store", ""), f->g->backend);
	http_resp_release(&r);
	/* not ready on a schema this build does not know (alive all the same) */
	{
		int v = 0;

		assert_int_equal(store_schema_version(f->st, &v), STORE_OK);
		set_schema_version(f, v + 1);
		fx_call(f, "GET", "/readyz", NULL, NULL, &r);
		fx_expect(&r, 503, NULL);
		assert_non_null(strstr(r.body, "schema"));
		{
			char *after = http_resp_header(&r, "Retry-After");

			assert_non_null(after);
			free(after);
		}
		http_resp_release(&r);
		fx_call(f, "GET", "/healthz", NULL, NULL, &r);
		fx_expect(&r, 200, NULL);
		http_resp_release(&r);
		set_schema_version(f, v);
		fx_call(f, "GET", "/readyz", NULL, NULL, &r);
		fx_expect(&r, 200, NULL);
		http_resp_release(&r);
	}
	fx_call(f, "GET", "/api/v1/tickets", f->agent, NULL, &r);
	http_resp_release(&r);
	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_non_null(strstr(r.body, "# TYPE frontline_http_requests_total counter"));
	assert_non_null(strstr(r.body, "frontline_http_requests_total{method=\"GET\",route=\"/api/v1/tickets\",status=\"200\"} 1"));
	assert_non_null(strstr(r.body, "frontline_http_request_duration_seconds_bucket{route=\"/healthz\""));
	http_resp_release(&r);
	/* a request id comes back, and a client's own is kept */
	{
		char *url = fl_asprintf("%s/healthz", f->base), *id;
		const char *h[] = { "X-Request-Id: trace-abc.123", NULL };
		struct http_req req = { "GET", url, NULL, NULL, NULL, 0, h, 0 };

		http_do(&req, &r);
		id = http_resp_header(&r, "X-Request-Id");
		assert_string_equal(id, "trace-abc.123");
		free(id);
		free(url);
		http_resp_release(&r);
	}
}

/*
 * Found by tests/fuzz/fuzz_http: every method a client made up got its own
 * series in frontline_http_requests_total, so anyone could grow the
 * server's memory and /metrics without end. Unknown methods count as "other".
 */
static void test_metrics_count_invented_methods_as_other(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int i;

	fx_start(f, 0, false);
	for (i = 0; i < 3; i++) {
		char *url = fl_asprintf("%s/healthz", f->base), method[16];
		struct http_req req = { method, url, NULL, NULL, NULL, 0, NULL, 0 };

		snprintf(method, sizeof(method), "FOO%d", i);
		http_do(&req, &r);
		fx_expect(&r, 405, NULL);
		http_resp_release(&r);
		free(url);
	}
	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_null(strstr(r.body, "method=\"FOO"));
	assert_non_null(strstr(r.body, "frontline_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 3"));
	http_resp_release(&r);
}

/* A path for route with its parameters filled in. */
static char *fill(const char *pattern, const char *ticket_id, int64_t spare_token)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p = pattern;

	while (*p) {
		if (*p == '{') {
			const char *end = strchr(p, '}');

			if (!strcmp(pattern, "/{file...}"))
				fl_buf_adds(&b, "index.html");
			else if (fl_str_has_prefix(pattern, "/api/v1/tickets"))
				fl_buf_adds(&b, ticket_id);
			else if (fl_str_has_prefix(pattern, "/api/v1/workflows"))
				fl_buf_adds(&b, "customer_support");
			else if (fl_str_has_prefix(pattern, "/api/v1/tokens"))
				fl_buf_addf(&b, "%lld", (long long)spare_token);
			else if (fl_str_has_prefix(pattern, "/api/v1/customers"))
				fl_buf_adds(&b, "cust_001");
			else if (fl_str_has_prefix(pattern, "/api/v1/kb"))
				fl_buf_adds(&b, "kb_matrix");
			else
				fl_buf_adds(&b, "1");
			p = end + 1;
		} else {
			fl_buf_addch(&b, *p++);
		}
	}
	return fl_buf_detach(&b, NULL);
}

/*
 * fx_call, but a live stream (which never ends by itself) is read for half
 * a second: its status is what its headers said.
 */
static void call_route(struct fx *f, const struct server_route *r, const char *path, const char *token,
		       const char *body, struct http_resp *resp)
{
	char *url;

	if (strcmp(r->path, "/api/v1/stream")) {
		fx_call(f, r->method, path, token, body, resp);
		return;
	}
	url = fl_asprintf("%s%s", f->base, path);
	{
		struct http_req req = { r->method, url, token, NULL, body, 0, NULL, 500 };

		http_do(&req, resp);
	}
	free(url);
	if (resp->error) {
		assert_non_null(strstr(resp->headers, "HTTP/1.1 200"));
		assert_non_null(strstr(resp->body, "retry: "));
		resp->status = 200;
	}
}

static void test_every_route_against_every_role(void **state)
{
	struct fx *f = *state;
	const struct server_route *r;
	const char *roles[] = { NULL, "bad", "integration", "agent", "admin" };
	char spare[64];
	int64_t spare_id;
	struct http_resp resp;
	int checked = 0;
	size_t i;

	fl_config_set("FRONTLINE_CHAT_RATE_LIMIT", "0");   /* the chat's buckets per address: one address here */
	fx_start(f, -1, false);
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", "matrix");
	fl_config_set("FRONTLINE_PUBLIC_URL", "https://support.example.com");
	fl_config_set("FRONTLINE_CHAT_RATE_LIMIT", "2");
	fx_make_token(f, "integration", spare, &spare_id);
	fx_webhook(f, fx_ticket_body("matrix_1", "cust_001", "Login fails", "I cannot log in since this morning."), 0,
		   NULL, &resp);
	fx_expect(&resp, 202, NULL);
	http_resp_release(&resp);
	for (r = server_routes(); r->method; r++) {
		char *path = fill(r->path, "matrix_1", spare_id);
		const char *body = (r->flags & SERVER_ROUTE_JSON_BODY) ? "{}" : NULL;

		for (i = 0; i < FL_ARRAY_SIZE(roles); i++) {
			const char *token = !roles[i] ? NULL
					    : !strcmp(roles[i], "bad") ? "flt_0000000000000000000000000000000000000000000000ff"
					    : !strcmp(roles[i], "integration") ? f->integ
					    : !strcmp(roles[i], "agent") ? f->agent : f->admin;
			int need = r->role, have = !roles[i] || !strcmp(roles[i], "bad") ? 0
						   : server_role_parse(roles[i]);

			call_route(f, r, path, token, body, &resp);
			if (resp.status >= 500)
				fail_msg("%s %s as %s: %ld %s", r->method, path, roles[i] ? roles[i] : "anonymous",
					 resp.status, resp.body);
			if (need == SERVER_ROLE_SIGNED) {
				fx_expect(&resp, 401, "unauthorized");   /* a token is no signature */
			} else if (need == SERVER_ROLE_PUBLIC && fl_str_has_prefix(r->path, "/api/v1/session")) {
				/* the session's routes check the cookie themselves: no token is a session */
				if (!(resp.status == 401 || resp.status == 422 || resp.status == 204))
					fail_msg("%s %s: %ld %s", r->method, path, resp.status, resp.body);
			} else if (need == SERVER_ROLE_PUBLIC && !strcmp(r->method, "POST") && !strcmp(r->path, "/support")) {
				/* the web form takes a form, not nothing (test_server_forms.c) */
				assert_int_equal(resp.status, 415);
			} else if (need == SERVER_ROLE_PUBLIC && fl_str_has_prefix(r->path, "/webhooks/twilio/")) {
				/* signed by Twilio over a form: no form (415), and a token is no signature (403) */
				if (resp.status != 415 && resp.status != 403)
					fail_msg("%s %s: %ld %s", r->method, path, resp.status, resp.body);
			} else if (need == SERVER_ROLE_PUBLIC && fl_str_has_prefix(r->path, "/csat/")) {
				/* no such survey: a page for people, not a JSON error (test_server_forms.c) */
				assert_int_equal(resp.status, 404);
				http_resp_release(&resp);
				checked++;
				continue;
			} else if (need == SERVER_ROLE_PUBLIC && fl_str_has_prefix(r->path, "/api/v1/chat/")) {
				/* the chat's routes check the visitor's token themselves: no API token is one */
				if (!(resp.status == 401 || resp.status == 201))
					fail_msg("%s %s: %ld %s", r->method, path, resp.status, resp.body);
			} else if (need == SERVER_ROLE_PUBLIC) {
				assert_true(resp.status < 400);
			} else if (!have) {
				fx_expect(&resp, 401, "unauthorized");
			} else if (have < need) {
				fx_expect(&resp, 403, "forbidden");
			} else if (fl_str_has_suffix(r->path, "/presence") && !strcmp(r->method, "POST")) {
				fx_expect(&resp, 403, "forbidden");   /* presence is a person's, not a token's */
			} else if (!strcmp(r->path, "/api/v1/users/me/availability")) {
				fx_expect(&resp, 403, "forbidden");   /* so is an availability (issue 18) */
			} else if (resp.status == 401 || resp.status == 403) {
				fail_msg("%s %s as %s refused: %s", r->method, path, roles[i], resp.body);
			}
			/* errors always have the one shape */
			if (resp.status >= 400) {
				json_t *e = json_object_get(resp.json, "error");

				assert_true(json_is_string(json_object_get(e, "code")));
				assert_true(json_is_string(json_object_get(e, "message")));
				assert_non_null(json_object_get(e, "field"));
			}
			http_resp_release(&resp);
			checked++;
		}
		free(path);
	}
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", "");
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
	assert_true(checked >= 5 * 30);
}

static void test_bad_input_is_refused_and_the_server_keeps_serving(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	struct fl_buf big = FL_BUF_INIT;
	char *url, *raw;
	bool closed;
	int fd;

	fx_start(f, -1, false);
	/* body too large, by Content-Length and in chunks */
	fl_buf_adds(&big, "{\"customer_id\":\"c\",\"subject\":\"s\",\"content\":\"");
	while (big.len < 70000)
		fl_buf_adds(&big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	fl_buf_adds(&big, "\"}");
	fx_call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	fx_expect(&r, 413, "payload_too_large");
	http_resp_release(&r);
	{
		const char *h[] = { "Transfer-Encoding: chunked", NULL };

		url = fl_asprintf("%s/api/v1/tickets", f->base);
		struct http_req req = { "POST", url, f->admin, NULL, big.buf, big.len, h, 0 };

		http_do(&req, &r);
		fx_expect(&r, 413, "payload_too_large");
		http_resp_release(&r);
		free(url);
	}
	/* headers and URL beyond the per-connection memory */
	{
		struct fl_buf h = FL_BUF_INIT;
		const char *hs[2];

		fl_buf_adds(&h, "X-Padding: ");
		while (h.len < 16000)
			fl_buf_adds(&h, "0123456789");
		hs[0] = h.buf;
		hs[1] = NULL;
		url = fl_asprintf("%s/healthz", f->base);
		struct http_req req = { "GET", url, NULL, NULL, NULL, 0, hs, 0 };

		http_do(&req, &r);
		assert_true(r.status == 431 || r.status == 413);
		http_resp_release(&r);
		free(url);
		fl_buf_reset(&h);
		fl_buf_addf(&h, "%s/api/v1/tickets/", f->base);
		while (h.len < 16000)
			fl_buf_adds(&h, "abcdefghij");
		struct http_req req2 = { "GET", h.buf, f->admin, NULL, NULL, 0, NULL, 0 };

		http_do(&req2, &r);
		assert_true(r.status == 414 || r.status == 431);
		http_resp_release(&r);
		fl_buf_release(&h);
	}
	/* invalid UTF-8, deep nesting, wrong type, bad JSON (with line and column), empty */
	fx_call(f, "POST", "/api/v1/tickets", f->admin, "{\"customer_id\":\"c\xff\xfe\",\"subject\":\"s\"}", &r);
	fx_expect(&r, 400, "invalid_utf8");
	http_resp_release(&r);
	fl_buf_reset(&big);
	fl_buf_adds(&big, "{\"metadata\":");
	for (int i = 0; i < 200; i++)
		fl_buf_addch(&big, '[');
	for (int i = 0; i < 200; i++)
		fl_buf_addch(&big, ']');
	fl_buf_addch(&big, '}');
	fx_call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	fx_expect(&r, 400, "too_deep");
	http_resp_release(&r);
	/* the checks answer in this order whatever else is wrong: UTF-8, depth, syntax */
	fl_buf_reset(&big);
	for (int i = 0; i < 5000; i++)
		fl_buf_addch(&big, '[');
	fx_call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	fx_expect(&r, 400, "too_deep");
	http_resp_release(&r);
	fl_buf_adds(&big, "\"\xed\xa0\x80\"");
	fx_call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	fx_expect(&r, 400, "invalid_utf8");
	assert_non_null(strstr(r.body, "(byte 5001)"));
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->admin, "{\"a\":\"\xc0\xaf\"}", &r);
	fx_expect(&r, 400, "invalid_utf8");
	assert_non_null(strstr(r.body, "(byte 6)"));
	http_resp_release(&r);
	{
		url = fl_asprintf("%s/api/v1/tickets", f->base);
		struct http_req req = { "POST", url, f->admin, "text/plain", "{}", 0, NULL, 0 };

		http_do(&req, &r);
		fx_expect(&r, 415, "unsupported_media_type");
		http_resp_release(&r);
		free(url);
	}
	fx_call(f, "POST", "/api/v1/tickets", f->admin, "{\n  \"customer_id\": \"c\",\n  \"subject\" \"s\"\n}", &r);
	fx_expect(&r, 400, "invalid_json");
	assert_int_equal(fl_json_int(json_object_get(json_object_get(r.json, "error"), "details"), "line", 0), 3);
	assert_non_null(strstr(fl_json_str(json_object_get(r.json, "error"), "message", ""), "line 3, column"));
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->admin, "[1,2]", &r);
	fx_expect(&r, 400, "invalid_json");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->admin, "{\"a\":1,\"a\":2}", &r);
	fx_expect(&r, 400, "invalid_json");
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/nothing-here", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/tickets", f->admin, NULL, &r);
	fx_expect(&r, 405, "method_not_allowed");
	raw = http_resp_header(&r, "Allow");
	assert_non_null(strstr(raw, "GET"));
	assert_non_null(strstr(raw, "POST"));
	free(raw);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets?limit=9999", f->admin, NULL, &r);
	fx_expect(&r, 400, "bad_request");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "limit");
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets?status=sleeping", f->admin, NULL, &r);
	fx_expect(&r, 400, "bad_request");
	http_resp_release(&r);

	/* slowloris: a request that never finishes is cut off; others are served meanwhile */
	fd = http_raw_connect(server_port(f->srv));
	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 40), 0);
	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	raw = http_raw_read(fd, 15000, &closed);
	assert_true(closed);
	assert_null(strstr(raw, "200 OK"));
	free(raw);
	close(fd);
	/* and a client that sends a body slower than allowed */
	fd = http_raw_connect(server_port(f->srv));
	raw = fl_asprintf("POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			  "Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"cus", f->admin);
	assert_int_equal(http_raw_send(fd, raw, strlen(raw)), 0);
	free(raw);
	raw = http_raw_read(fd, 15000, &closed);
	assert_true(closed);
	assert_null(strstr(raw, "HTTP/1.1 2"));
	free(raw);
	close(fd);

	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fl_buf_release(&big);
}

static void test_rate_limit_answers_429_with_retry_after(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char *after;
	int i, limited = 0;

	/*
	 * A burst of 3, then one an hour: no request comes back into the
	 * bucket while the test runs, however slow the machine (at one every
	 * 2 s, six requests taking over 2 s under load let a fourth through).
	 */
	fx_start(f, 1.0 / 3600, false);
	for (i = 0; i < 6; i++) {
		fx_call(f, "GET", "/api/v1/customers", f->agent, NULL, &r);
		if (r.status == 429) {
			limited++;
			fx_expect(&r, 429, "rate_limited");
			after = http_resp_header(&r, "Retry-After");
			assert_non_null(after);
			/* the wait for the next token: most of the hour */
			assert_true(atoi(after) > 3000 && atoi(after) <= 3600);
			free(after);
		}
		http_resp_release(&r);
	}
	assert_int_equal(limited, 3);
	/* per token: another token still has its burst */
	fx_call(f, "GET", "/api/v1/customers", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* probes are not rate limited */
	for (i = 0; i < 5; i++) {
		fx_call(f, "GET", "/healthz", NULL, NULL, &r);
		fx_expect(&r, 200, NULL);
		http_resp_release(&r);
	}
}

static void test_draining_refuses_politely(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int fd;
	char *raw;
	bool closed;

	fx_start(f, -1, false);
	/* a keep-alive connection opened before the drain */
	fd = http_raw_connect(server_port(f->srv));
	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34), 0);
	raw = http_raw_read_answer(fd, 30000, &closed);
	assert_non_null(strstr(raw, "200 OK"));
	free(raw);
	server_drain(f->srv);
	assert_true(server_draining(f->srv));
	assert_int_equal(http_raw_send(fd, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 33), 0);
	raw = http_raw_read_answer(fd, 30000, &closed);
	if (!strstr(raw, "503"))
		fail_msg("after the drain: closed %d: %s", closed, raw);
	assert_non_null(strstr(raw, "Retry-After"));
	free(raw);
	close(fd);
	/* new connections are closed at once, before a request is read */
	{
		char *url = fl_asprintf("%s/healthz", f->base);
		struct http_req req = { "GET", url, NULL, NULL, NULL, 0, NULL, 3000 };

		http_do(&req, &r);
		assert_int_equal(r.status, 0);
		http_resp_release(&r);
		free(url);
	}
	assert_true(server_wait_idle(f->srv, 5000));
}

/* ---- docs/openapi.yaml against the route table ---- */

static void test_openapi_describes_exactly_the_routes(void **state)
{
	char *path = test_source_path("docs/openapi.yaml"), *line = NULL, current[256] = "";
	FILE *in = fopen(path, "r");
	json_t *documented = json_object();
	const struct server_route *r;
	size_t cap = 0, n = 0;
	bool in_paths = false;
	const char *key;
	json_t *v;

	(void)state;
	assert_non_null(in);
	/* paths:\n  /x:\n    get: ... (the file keeps this indentation) */
	while (getline(&line, &cap, in) > 0) {
		if (!strncmp(line, "paths:", 6)) {
			in_paths = true;
			continue;
		}
		if (in_paths && line[0] != ' ' && line[0] != '\n' && line[0] != '#')
			in_paths = false;
		if (!in_paths)
			continue;
		if (!strncmp(line, "  /", 3)) {
			char *colon = strrchr(line, ':');

			*colon = '\0';
			fl_strlcpy(current, line + 2, sizeof(current));
		} else if (!strncmp(line, "    ", 4) && line[4] != ' ') {
			static const char *const methods[] = { "get", "post", "put", "delete", "patch" };
			size_t i;

			for (i = 0; i < FL_ARRAY_SIZE(methods); i++) {
				size_t len = strlen(methods[i]);

				if (!strncmp(line + 4, methods[i], len) && line[4 + len] == ':') {
					char k[300], up[8];
					size_t j;

					for (j = 0; j <= len; j++)
						up[j] = (char)toupper((unsigned char)methods[i][j]);
					snprintf(k, sizeof(k), "%s %s", up, current);
					json_object_set_new(documented, k, json_true());
				}
			}
		}
	}
	fclose(in);
	free(line);
	for (r = server_routes(); r->method; r++) {
		char k[300];

		snprintf(k, sizeof(k), "%s %s", r->method, r->path);
		if (!json_object_get(documented, k))
			fail_msg("route %s is served but not in docs/openapi.yaml", k);
		json_object_del(documented, k);
		n++;
	}
	json_object_foreach(documented, key, v)
		fail_msg("docs/openapi.yaml describes %s, which the server does not serve", key);
	assert_true(n > 30);
	json_decref(documented);
	free(path);
}

/* docs/CONFIGURATION.md lists every key of the configuration table, and no other. */
static void test_configuration_doc_lists_every_key(void **state)
{
	char *path = test_source_path("docs/CONFIGURATION.md"), *line = NULL;
	const struct fl_config_key *k;
	struct fl_buf doc = FL_BUF_INIT;
	FILE *in = fopen(path, "r");
	size_t cap = 0;

	(void)state;
	assert_non_null(in);
	while (getline(&line, &cap, in) > 0) {
		fl_buf_adds(&doc, line);
		/* a table row: | `KEY` | default | meaning | */
		if (!strncmp(line, "| `", 3)) {
			char *end = strchr(line + 3, '`');
			bool known = false;

			*end = '\0';
			for (k = fl_config_keys(); k->name; k++)
				known = known || !strcmp(k->name, line + 3);
			if (!known)
				fail_msg("docs/CONFIGURATION.md documents '%s', which is not a configuration key", line + 3);
		}
	}
	fclose(in);
	for (k = fl_config_keys(); k->name; k++) {
		char *row = fl_asprintf("| `%s` |", k->name);

		if (!strstr(doc.buf, row))
			fail_msg("configuration key %s is missing from docs/CONFIGURATION.md (run scripts/config-doc)", k->name);
		free(row);
	}
	fl_buf_release(&doc);
	free(line);
	free(path);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_probes_and_metrics),
	FX_TEST(test_metrics_count_invented_methods_as_other),
	FX_TEST(test_every_route_against_every_role),
	FX_TEST(test_bad_input_is_refused_and_the_server_keeps_serving),
	FX_TEST(test_rate_limit_answers_429_with_retry_after),
	FX_TEST(test_draining_refuses_politely),
};

int main(void)
{
	/* these read docs and static tables: no server, no configuration */
	const struct CMUnitTest docs[] = {
		cmocka_unit_test(test_openapi_describes_exactly_the_routes),
		cmocka_unit_test(test_configuration_doc_lists_every_key),
	};
	int failed = cmocka_run_group_tests_name("server_docs", docs, NULL, NULL);

	failed += FX_RUN("server_http", tests);
	return failed ? 1 : 0;
}
