/*
 * Tests of the HTTP service over real HTTP on 127.0.0.1 (libcurl), against
 * a real store: SQLite in a temporary directory and PostgreSQL from the
 * test harness. Every route against every role; every kind of bad input,
 * with the server still serving afterwards; signed, idempotent intake;
 * workers triaging tickets and the agent's verbs; the escalation queue;
 * rate limits; dead letters; draining; notifications to real receivers;
 * and docs/openapi.yaml against the route table.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include "test_helpers.h"
#include "http_client.h"
#include "http_receiver.h"
#include "pg_harness.h"
#include "smtp_harness.h"
#include "kb/kb.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "server/server.h"
#include "store/store.h"
#include "support/support.h"

#define SECRET "whsec_test"

struct group {
	const char *backend;
	struct pg_harness pg;
	struct support_analyzer *analyzer;
};

struct fx {
	struct group *g;
	char *dir, *url;
	struct store *st;
	struct kb *kb;
	struct server *srv;
	struct server_workers *workers;
	struct notify_dispatcher *disp;
	char base[64];
	char admin[64], agent[64], integ[64];
	int64_t integ_id;
};

/* ---- fixtures ---- */

static int group_setup(struct group *g)
{
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb"), *err = NULL;

	fl_config_set("FRONTLINE_KB_DIR", kbdir);
	fl_config_set("FRONTLINE_MODELS_DIR", models);
	if (support_analyzer_open(models, &g->analyzer, &err) != SUPPORT_OK) {
		fprintf(stderr, "cannot load the analyzer: %s\n", err);
		free(err);
		free(models);
		free(kbdir);
		return -1;
	}
	free(models);
	free(kbdir);
	return 0;
}

static int group_sqlite(void **state)
{
	static struct group g = { "sqlite", PG_HARNESS_INIT, NULL };

	*state = &g;
	return group_setup(&g);
}

static int group_postgres(void **state)
{
	static struct group g = { "postgres", PG_HARNESS_INIT, NULL };
	char *url = NULL;

	if (pg_harness_start(&g.pg, &url)) {
		fprintf(stderr, "cannot start the PostgreSQL test server: %s\n", pg_harness_error(&g.pg));
		return -1;
	}
	free(url);
	*state = &g;
	return group_setup(&g);
}

static int group_done(void **state)
{
	struct group *g = *state;

	pg_harness_stop(&g->pg);
	support_analyzer_free(g->analyzer);
	g->analyzer = NULL;
	return 0;
}

static void make_token(struct fx *f, const char *role, char out[64], int64_t *id)
{
	char hash[65];
	json_t *row = NULL;

	server_token_generate(out, hash);
	assert_int_equal(store_token_insert(f->st, role, role, hash, &row), STORE_OK);
	if (id)
		*id = fl_json_int(row, "id", 0);
	json_decref(row);
}

static int setup(void **state)
{
	struct group *g = *state;
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *err = NULL;
	size_t n;

	f->g = g;
	if (!strcmp(g->backend, "sqlite")) {
		f->dir = test_tmpdir();
		f->url = fl_asprintf("sqlite://%s/frontline.db?synchronous=normal", f->dir);
	} else if (pg_harness_create_db(&g->pg, &f->url)) {
		fprintf(stderr, "%s\n", pg_harness_error(&g->pg));
		return -1;
	}
	if (store_open(f->url, &f->st, &err) != STORE_OK || kb_open(NULL, &f->kb, &err) != KB_OK ||
	    support_kb_load(f->st, f->kb, NULL, &n, &err) != SUPPORT_OK ||
	    support_seed_customers(f->st, &err) != SUPPORT_OK) {
		fprintf(stderr, "fixture: %s\n", err ? err : "?");
		free(err);
		return -1;
	}
	make_token(f, "admin", f->admin, NULL);
	make_token(f, "agent", f->agent, NULL);
	make_token(f, "integration", f->integ, &f->integ_id);
	*state = f;
	return 0;
}

static void stop_server(struct fx *f)
{
	server_free(f->srv);
	f->srv = NULL;
	server_workers_free(f->workers);
	f->workers = NULL;
	notify_dispatcher_free(f->disp);
	f->disp = NULL;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	stop_server(f);
	kb_close(f->kb);
	store_close(f->st);
	if (f->dir)
		test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
	return 0;
}

static void wake(void *arg)
{
	server_workers_wake(arg);
}

static void wake_disp(void *arg)
{
	notify_dispatcher_wake(arg);
}

/* Starts the server (and workers when asked) with limits small enough to test. */
static void start(struct fx *f, double rate, bool workers)
{
	struct server_options o = { 0 };
	char *err = NULL;

	if (workers) {
		struct server_workers_options wo = { 0 };

		wo.store_url = f->url;
		wo.count = 2;
		wo.backoff_base_ms = 1;
		wo.poll_ms = 50;
		wo.analyzer = f->g->analyzer;
		wo.kb = f->kb;
		if (server_workers_new(&wo, &f->workers, &err) != SERVER_OK ||
		    server_workers_start(f->workers, &err) != SERVER_OK)
			fail_msg("workers: %s", err);
	}
	o.listen = "127.0.0.1:0";
	o.store_url = f->url;
	o.threads = 2;
	o.max_body = 65536;
	o.max_header = 8192;
	o.timeout_s = 1;
	o.rate = rate;
	o.burst = rate > 0 ? 3 : 0;
	o.webhook_secret = SECRET;
	o.kb = f->kb;
	o.on_job = f->workers ? wake : NULL;
	o.on_job_arg = f->workers;
	o.on_outbox = f->disp ? wake_disp : NULL;
	o.on_outbox_arg = f->disp;
	if (server_new(&o, &f->srv, &err) != SERVER_OK || server_start(f->srv, &err) != SERVER_OK)
		fail_msg("server: %s", err);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", server_port(f->srv));
}

/* ---- requests ---- */

static void call(struct fx *f, const char *method, const char *path, const char *token,
		 const char *body, struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, path);
	struct http_req req = { method, url, token, NULL, body, 0, NULL, 0 };

	http_do(&req, out);
	free(url);
	if (out->error)
		fail_msg("%s %s: %s", method, path, out->error);
}

/* A webhook signed now (or at ts when not 0) with the test secret. */
static void webhook(struct fx *f, const char *body, int64_t ts, const char *idem, struct http_resp *out)
{
	char sig[NOTIFY_SIGNATURE_LEN], tsbuf[24], h1[64], h2[96], h3[256];
	const char *headers[4] = { h1, h2, NULL, NULL };
	char *url = fl_asprintf("%s/webhooks/tickets", f->base);
	struct http_req req = { "POST", url, NULL, NULL, body, 0, headers, 0 };

	snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)(ts ? ts : fl_wall_us() / 1000000));
	notify_sign(SECRET, tsbuf, body, strlen(body), sig);
	snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", tsbuf);
	snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
	if (idem) {
		snprintf(h3, sizeof(h3), "Idempotency-Key: %s", idem);
		headers[2] = h3;
	}
	http_do(&req, out);
	free(url);
}

static void expect(struct http_resp *r, long status, const char *code)
{
	if (r->status != status || (code && strcmp(http_error_code(r), code)))
		fail_msg("expected %ld %s, got %ld: %s", status, code ? code : "", r->status, r->body);
}

static const char *ticket_body(const char *id, const char *customer, const char *subject, const char *content)
{
	static char buf[2048];

	if (id)
		snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"customer_id\":\"%s\",\"subject\":\"%s\",\"content\":\"%s\"}",
			 id, customer, subject, content);
	else
		snprintf(buf, sizeof(buf), "{\"customer_id\":\"%s\",\"subject\":\"%s\",\"content\":\"%s\"}",
			 customer, subject, content);
	return buf;
}

/* Sets the store's schema version behind the server's back (a newer Frontline migrated it). */
static void set_schema_version(struct fx *f, int v)
{
	char *sql;

	if (!strcmp(f->g->backend, "sqlite")) {
		char *path = fl_asprintf("%s/frontline.db", f->dir);
		sqlite3 *db = NULL;

		sql = fl_asprintf("PRAGMA user_version = %d", v);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		free(path);
	} else {
		PGconn *c = PQconnectdb(f->url);
		PGresult *res;

		sql = fl_asprintf("UPDATE frontline_schema SET version = %d", v);
		res = PQexec(c, sql);
		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		PQfinish(c);
	}
	free(sql);
}

/* ---- tests ---- */

/* The seed's outage escalation demo as a webhook body with the given id. */
#define OUTAGE_TICKET(id)                                                                                   \
	"{\"id\":\"" id "\",\"customer_id\":\"cust_003\",\"subject\":\"CRITICAL: Complete system outage affecting " \
	"all users\",\"source\":\"phone\",\"content\":\"Our entire organization cannot access the platform. All 500 "  \
	"users get error 503.\",\"metadata\":{\"customer_tier\":\"enterprise\",\"users_affected\":500,"                 \
	"\"revenue_impact\":\"high\",\"urgent_flag\":true}}"

static void test_probes_and_metrics(void **state)
{
	struct fx *f = *state;
	struct http_resp r;

	start(f, 0, false);
	call(f, "GET", "/healthz", NULL, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "ok");
	http_resp_release(&r);
	call(f, "GET", "/readyz", NULL, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "store", ""), f->g->backend);
	http_resp_release(&r);
	/* not ready on a schema this build does not know (alive all the same) */
	{
		int v = 0;

		assert_int_equal(store_schema_version(f->st, &v), STORE_OK);
		set_schema_version(f, v + 1);
		call(f, "GET", "/readyz", NULL, NULL, &r);
		expect(&r, 503, NULL);
		assert_non_null(strstr(r.body, "schema"));
		{
			char *after = http_resp_header(&r, "Retry-After");

			assert_non_null(after);
			free(after);
		}
		http_resp_release(&r);
		call(f, "GET", "/healthz", NULL, NULL, &r);
		expect(&r, 200, NULL);
		http_resp_release(&r);
		set_schema_version(f, v);
		call(f, "GET", "/readyz", NULL, NULL, &r);
		expect(&r, 200, NULL);
		http_resp_release(&r);
	}
	call(f, "GET", "/api/v1/tickets", f->agent, NULL, &r);
	http_resp_release(&r);
	call(f, "GET", "/metrics", NULL, NULL, &r);
	expect(&r, 200, NULL);
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

/* A path for route with its parameters filled in. */
static char *fill(const char *pattern, const char *ticket_id, int64_t spare_token)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p = pattern;

	while (*p) {
		if (*p == '{') {
			const char *end = strchr(p, '}');

			if (fl_str_has_prefix(pattern, "/api/v1/tickets"))
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

	start(f, -1, false);
	make_token(f, "integration", spare, &spare_id);
	webhook(f, ticket_body("matrix_1", "cust_001", "Login fails", "I cannot log in since this morning."), 0,
		NULL, &resp);
	expect(&resp, 202, NULL);
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

			call(f, r->method, path, token, body, &resp);
			if (resp.status >= 500)
				fail_msg("%s %s as %s: %ld %s", r->method, path, roles[i] ? roles[i] : "anonymous",
					 resp.status, resp.body);
			if (need == SERVER_ROLE_SIGNED) {
				expect(&resp, 401, "unauthorized");   /* a token is no signature */
			} else if (need == SERVER_ROLE_PUBLIC) {
				assert_true(resp.status < 400);
			} else if (!have) {
				expect(&resp, 401, "unauthorized");
			} else if (have < need) {
				expect(&resp, 403, "forbidden");
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

	start(f, -1, false);
	/* body too large, by Content-Length and in chunks */
	fl_buf_adds(&big, "{\"customer_id\":\"c\",\"subject\":\"s\",\"content\":\"");
	while (big.len < 70000)
		fl_buf_adds(&big, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	fl_buf_adds(&big, "\"}");
	call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	expect(&r, 413, "payload_too_large");
	http_resp_release(&r);
	{
		const char *h[] = { "Transfer-Encoding: chunked", NULL };

		url = fl_asprintf("%s/api/v1/tickets", f->base);
		struct http_req req = { "POST", url, f->admin, NULL, big.buf, big.len, h, 0 };

		http_do(&req, &r);
		expect(&r, 413, "payload_too_large");
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
	call(f, "POST", "/api/v1/tickets", f->admin, "{\"customer_id\":\"c\xff\xfe\",\"subject\":\"s\"}", &r);
	expect(&r, 400, "invalid_utf8");
	http_resp_release(&r);
	fl_buf_reset(&big);
	fl_buf_adds(&big, "{\"metadata\":");
	for (int i = 0; i < 200; i++)
		fl_buf_addch(&big, '[');
	for (int i = 0; i < 200; i++)
		fl_buf_addch(&big, ']');
	fl_buf_addch(&big, '}');
	call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	expect(&r, 400, "too_deep");
	http_resp_release(&r);
	/* the checks answer in this order whatever else is wrong: UTF-8, depth, syntax */
	fl_buf_reset(&big);
	for (int i = 0; i < 5000; i++)
		fl_buf_addch(&big, '[');
	call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	expect(&r, 400, "too_deep");
	http_resp_release(&r);
	fl_buf_adds(&big, "\"\xed\xa0\x80\"");
	call(f, "POST", "/api/v1/tickets", f->admin, big.buf, &r);
	expect(&r, 400, "invalid_utf8");
	assert_non_null(strstr(r.body, "(byte 5001)"));
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets", f->admin, "{\"a\":\"\xc0\xaf\"}", &r);
	expect(&r, 400, "invalid_utf8");
	assert_non_null(strstr(r.body, "(byte 6)"));
	http_resp_release(&r);
	{
		url = fl_asprintf("%s/api/v1/tickets", f->base);
		struct http_req req = { "POST", url, f->admin, "text/plain", "{}", 0, NULL, 0 };

		http_do(&req, &r);
		expect(&r, 415, "unsupported_media_type");
		http_resp_release(&r);
		free(url);
	}
	call(f, "POST", "/api/v1/tickets", f->admin, "{\n  \"customer_id\": \"c\",\n  \"subject\" \"s\"\n}", &r);
	expect(&r, 400, "invalid_json");
	assert_int_equal(fl_json_int(json_object_get(json_object_get(r.json, "error"), "details"), "line", 0), 3);
	assert_non_null(strstr(fl_json_str(json_object_get(r.json, "error"), "message", ""), "line 3, column"));
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets", f->admin, "[1,2]", &r);
	expect(&r, 400, "invalid_json");
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets", f->admin, "{\"a\":1,\"a\":2}", &r);
	expect(&r, 400, "invalid_json");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/nothing-here", f->admin, NULL, &r);
	expect(&r, 404, "not_found");
	http_resp_release(&r);
	call(f, "DELETE", "/api/v1/tickets", f->admin, NULL, &r);
	expect(&r, 405, "method_not_allowed");
	raw = http_resp_header(&r, "Allow");
	assert_non_null(strstr(raw, "GET"));
	assert_non_null(strstr(raw, "POST"));
	free(raw);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets?limit=9999", f->admin, NULL, &r);
	expect(&r, 400, "bad_request");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "limit");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets?status=sleeping", f->admin, NULL, &r);
	expect(&r, 400, "bad_request");
	http_resp_release(&r);

	/* slowloris: a request that never finishes is cut off; others are served meanwhile */
	fd = http_raw_connect(server_port(f->srv));
	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 40), 0);
	call(f, "GET", "/healthz", NULL, NULL, &r);
	expect(&r, 200, NULL);
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

	call(f, "GET", "/healthz", NULL, NULL, &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	fl_buf_release(&big);
}

static void test_webhook_intake_is_signed_durable_and_idempotent(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *t = NULL;
	char *body = fl_strdup(ticket_body("ticket_001", "cust_001", "Password reset not working",
					   "The reset email never arrives, I checked spam too."));
	char *first_id;

	start(f, -1, false);
	webhook(f, body, 0, NULL, &r);
	expect(&r, 202, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), "ticket_001");
	assert_string_equal(fl_json_str(r.json, "status", ""), "new");
	http_resp_release(&r);
	/* stored with its job before the answer */
	assert_int_equal(store_ticket_get(f->st, "ticket_001", true, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "channel", ""), "web");
	json_decref(t);
	{
		json_t *jobs = NULL;

		assert_int_equal(store_job_counts(f->st, &jobs), STORE_OK);
		assert_int_equal(fl_json_int(jobs, "queued", 0), 1);
		json_decref(jobs);
	}
	/* the same id again: the same ticket, nothing new */
	webhook(f, body, 0, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), "ticket_001");
	assert_true(fl_json_bool(r.json, "duplicate", false));
	http_resp_release(&r);
	/* without an id, the Idempotency-Key makes the repeat the same ticket */
	webhook(f, ticket_body(NULL, "cust_002", "Billing question", "When does my billing cycle start?"), 0,
		"key-42", &r);
	expect(&r, 202, NULL);
	first_id = fl_strdup(fl_json_str(r.json, "id", ""));
	assert_true(fl_str_has_prefix(first_id, "T-"));
	http_resp_release(&r);
	webhook(f, ticket_body(NULL, "cust_002", "Billing question (resent)", "When does my billing cycle start?"), 0,
		"key-42", &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), first_id);
	http_resp_release(&r);
	free(first_id);
	/* the phone channel: source phone, a transcript as content */
	webhook(f, "{\"customer_id\":\"cust_003\",\"subject\":\"Call: outage\",\"source\":\"phone\","
		   "\"content\":\"Caller: everything is down for all 500 of our users since 9am.\","
		   "\"metadata\":{\"users_affected\":500,\"api_token_id\":7}}", 0, NULL, &r);
	expect(&r, 202, NULL);
	assert_int_equal(store_ticket_get(f->st, fl_json_str(r.json, "id", ""), false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "channel", ""), "phone");
	/* who submitted a ticket is Frontline's to say: the sender's api_token_id is dropped */
	{
		json_t *want = json_pack("{s:i}", "users_affected", 500);

		assert_true(json_equal(json_object_get(t, "metadata"), want));
		json_decref(want);
	}
	json_decref(t);
	http_resp_release(&r);
	{
		const char *forged = "{\"id\":\"api_9\",\"customer_id\":\"cust_004\",\"subject\":\"Forged owner\","
				     "\"content\":\"This ticket claims another token as its owner.\","
				     "\"metadata\":{\"api_token_id\":999999,\"plan\":\"pro\"}}";
		json_t *made;

		call(f, "POST", "/api/v1/tickets", f->integ, forged, &r);
		expect(&r, 201, NULL);
		assert_int_equal(fl_json_int(json_object_get(r.json, "metadata"), "api_token_id", 0), f->integ_id);
		assert_string_equal(fl_json_str(json_object_get(r.json, "metadata"), "plan", ""), "pro");
		/* the answer (built from what was inserted) is what reading the ticket gives */
		made = json_incref(r.json);
		http_resp_release(&r);
		assert_int_equal(store_ticket_get(f->st, "api_9", false, &t), STORE_OK);
		assert_true(json_equal(made, t));
		json_decref(made);
		json_decref(t);
		/* the request's own body was not edited: a repeat is the same ticket */
		call(f, "POST", "/api/v1/tickets", f->integ, forged, &r);
		expect(&r, 200, NULL);
		assert_int_equal(fl_json_int(json_object_get(r.json, "metadata"), "api_token_id", 0), f->integ_id);
		http_resp_release(&r);
	}

	/* refused: stale, unsigned, tampered, invalid */
	webhook(f, body, fl_wall_us() / 1000000 - 301, NULL, &r);
	expect(&r, 401, "unauthorized");
	assert_non_null(strstr(r.body, "window"));
	http_resp_release(&r);
	call(f, "POST", "/webhooks/tickets", NULL, body, &r);
	expect(&r, 401, "unauthorized");
	http_resp_release(&r);
	{
		char sig[NOTIFY_SIGNATURE_LEN], ts[24], h1[64], h2[96];
		const char *hs[] = { h1, h2, NULL };
		char *url = fl_asprintf("%s/webhooks/tickets", f->base);
		char *signed_body = fl_strdup(body);
		const char *other = ticket_body("ticket_002", "cust_001", "Tampered", "This body was not signed.");
		struct http_req req = { "POST", url, NULL, NULL, other, 0, hs, 0 };

		snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
		/* signed over another body (the first ticket's) */
		notify_sign(SECRET, ts, signed_body, strlen(signed_body), sig);
		snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", ts);
		snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
		http_do(&req, &r);
		expect(&r, 401, "unauthorized");
		http_resp_release(&r);
		free(url);
		free(signed_body);
	}
	webhook(f, "{\"customer_id\":\"cust_001\",\"subject\":\"Hi\",\"content\":\"short\"}", 0, NULL, &r);
	expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "content");
	http_resp_release(&r);
	webhook(f, "{\"subject\":\"Hi\",\"content\":\"A long enough content here.\"}", 0, NULL, &r);
	expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "customer_id");
	http_resp_release(&r);
	webhook(f, "{\"customer_id\":\"c\",\"subject\":\"Hi\",\"content\":\"A long enough content here.\","
		   "\"source\":\"carrier-pigeon\"}", 0, NULL, &r);
	expect(&r, 422, "validation_failed");
	http_resp_release(&r);	free(body);
}

static int64_t ticket_version(struct http_resp *r)
{
	return fl_json_int(json_object_get(r->json, "ticket") ? json_object_get(r->json, "ticket") : r->json,
			   "version", 0);
}

static void test_workers_triage_and_agents_work_tickets(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *events;
	char body[256];
	int64_t v;

	start(f, -1, true);
	call(f, "POST", "/api/v1/tickets", f->integ,
	     ticket_body("api_1", "cust_001", "Cannot reset my password",
			 "Hi, the password reset email never arrives. This is urgent for work."), &r);
	expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(r.json, "channel", ""), "api");
	http_resp_release(&r);
	webhook(f, ticket_body("hook_1", "cust_002", "Question about invoices",
			       "Where can I download the invoice for last month?"), 0, NULL, &r);
	http_resp_release(&r);
	assert_true(server_workers_wait(f->workers, 2, 60000));

	/* triaged: analysis, trace, labels and a thread */
	call(f, "GET", "/api/v1/tickets/api_1", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_not_equal(fl_json_str(r.json, "status", "new"), "new");
	assert_non_null(fl_json_str(r.json, "category", NULL));
	assert_true(json_array_size(json_object_get(r.json, "trace")) >= 5);
	assert_true(json_object_size(json_object_get(r.json, "analysis")) > 0);
	assert_true(json_array_size(json_object_get(r.json, "messages")) >= 1);
	http_resp_release(&r);
	/* an integration reads its own tickets, and no others */
	call(f, "GET", "/api/v1/tickets/api_1", f->integ, NULL, &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets/hook_1", f->integ, NULL, &r);
	expect(&r, 404, "not_found");
	http_resp_release(&r);

	/* the agent's verbs */
	call(f, "POST", "/api/v1/tickets/hook_1/notes", f->agent, "{\"body\":\"Checked billing: invoice exists.\"}", &r);
	expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "direction", ""), "note");
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/assign", f->agent, "{\"assignee\":\"alice\",\"department\":\"billing\"}", &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "assignee", ""), "alice");
	v = ticket_version(&r);
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/replies", f->agent,
	     "{\"body\":\"Hello Jane, the invoice is under Billing > Invoices.\"}", &r);
	expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "direction", ""), "outbound");
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "status", ""), "waiting_on_customer");
	assert_false(json_is_null(json_object_get(json_object_get(r.json, "ticket"), "first_response_at")));
	http_resp_release(&r);
	/* a stale version is a conflict, with the current ticket */
	snprintf(body, sizeof(body), "{\"assignee\":\"bob\",\"version\":%lld}", (long long)v);
	call(f, "POST", "/api/v1/tickets/hook_1/assign", f->agent, body, &r);
	expect(&r, 409, "conflict");
	assert_true(fl_json_int(json_object_get(json_object_get(json_object_get(r.json, "error"), "details"),
						"current"), "version", 0) > v);
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/resolve", f->agent,
	     "{\"resolution\":\"Pointed to the invoices page.\",\"satisfaction\":0.9}", &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "resolved");
	assert_false(json_is_null(json_object_get(r.json, "resolved_at")));
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/resolve", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/api_1/reopen", f->agent, NULL, &r);
	if (strcmp(fl_json_str(r.json, "status", ""), "escalated"))
		expect(&r, 409, "conflict");   /* api_1 was never resolved */
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/reopen", f->agent, "{\"reason\":\"Customer says the link is broken.\"}", &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "escalated");
	assert_true(json_is_null(json_object_get(r.json, "resolved_at")));
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/nope/notes", f->agent, "{\"body\":\"x\"}", &r);
	expect(&r, 404, "not_found");
	http_resp_release(&r);
	call(f, "POST", "/api/v1/tickets/hook_1/replies", f->agent, "{\"body\":\"\"}", &r);
	expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "body");
	http_resp_release(&r);
	/* every change is in the audit log */
	call(f, "GET", "/api/v1/tickets/hook_1/events", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	events = json_object_get(r.json, "events");
	assert_true(json_array_size(events) >= 5);
	assert_non_null(strstr(r.body, "agent:agent"));
	http_resp_release(&r);
	/* the CRM and the KB through the API */
	call(f, "GET", "/api/v1/customers/cust_003", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "tier", ""), "enterprise");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/kb/search?q=reset%20password", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "articles"), 0), "id", ""), "kb_001");
	http_resp_release(&r);
	call(f, "PUT", "/api/v1/kb/articles/kb_900", f->admin,
	     "{\"title\":\"Exporting invoices as CSV\",\"content\":\"Go to Billing, then Export.\",\"category\":\"billing\"}", &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/kb/search?q=export%20invoices%20csv", f->agent, NULL, &r);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "articles"), 0), "id", ""), "kb_900");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/metrics/summary?window=3600", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_int_equal(fl_json_int(json_object_get(r.json, "metrics"), "total_tickets", 0), 2);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/workflows/customer_support?format=dot", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_non_null(strstr(r.body, "digraph"));
	http_resp_release(&r);
	call(f, "GET", "/api/v1/workflows/customer_support?format=mermaid", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_true(fl_str_has_prefix(r.body, "flowchart TD"));
	http_resp_release(&r);
	call(f, "GET", "/api/v1/workflows", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_non_null(strstr(r.body, "customer_support"));
	assert_non_null(strstr(r.body, "real_time_monitoring"));
	http_resp_release(&r);
}

static void test_list_filters_search_and_keyset_pages(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char id[32], path[256], *cursor = NULL;
	int i, seen = 0, pages = 0;

	start(f, -1, false);
	for (i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "list_%d", i);
		webhook(f, ticket_body(id, i % 2 ? "cust_001" : "cust_002", i == 3 ? "Refund for a duplicate charge" : "Login trouble",
				       i == 3 ? "I was charged twice and want my money back." : "I cannot log in to the dashboard."),
			0, NULL, &r);
		expect(&r, 202, NULL);
		http_resp_release(&r);
	}
	do {
		if (cursor)
			snprintf(path, sizeof(path), "/api/v1/tickets?limit=3&cursor=%s", cursor);
		else
			snprintf(path, sizeof(path), "/api/v1/tickets?limit=3");
		free(cursor);
		cursor = NULL;
		call(f, "GET", path, f->agent, NULL, &r);
		expect(&r, 200, NULL);
		seen += (int)json_array_size(json_object_get(r.json, "tickets"));
		if (json_is_string(json_object_get(r.json, "next_cursor")))
			cursor = fl_strdup(fl_json_str(r.json, "next_cursor", ""));
		http_resp_release(&r);
		pages++;
	} while (cursor && pages < 10);
	assert_int_equal(seen, 7);
	assert_int_equal(pages, 3);
	call(f, "GET", "/api/v1/tickets?customer_id=cust_001&status=new", f->agent, NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 3);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets?q=refunds", f->agent, NULL, &r);
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "tickets"), 0), "id", ""), "list_3");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets?cursor=garbage", f->agent, NULL, &r);
	expect(&r, 400, "bad_request");
	http_resp_release(&r);
}

/* GET path as the agent: the JSON answer (a new reference), failing on anything but 200. */
static json_t *get_json(struct fx *f, const char *path)
{
	struct http_resp r;
	json_t *out;

	call(f, "GET", path, f->agent, NULL, &r);
	expect(&r, 200, NULL);
	out = json_incref(r.json);
	http_resp_release(&r);
	return out;
}

/* Every ticket of the list in pages of 2 (query: "" or "&view=..."), counting the pages. */
static json_t *all_pages(struct fx *f, const char *query, int *pages)
{
	json_t *all = json_array(), *page;
	char path[512], *cursor = NULL;

	*pages = 0;
	do {
		snprintf(path, sizeof(path), "/api/v1/tickets?limit=2%s%s%s", query, cursor ? "&cursor=" : "",
			 cursor ? cursor : "");
		free(cursor);
		cursor = NULL;
		page = get_json(f, path);
		json_array_extend(all, json_object_get(page, "tickets"));
		if (json_is_string(json_object_get(page, "next_cursor")))
			cursor = fl_strdup(fl_json_str(page, "next_cursor", ""));
		json_decref(page);
		(*pages)++;
	} while (cursor && *pages < 10);
	free(cursor);
	return all;
}

/* A summary's triage against the stored analysis it was taken from. */
static void check_triage(const json_t *tr, const json_t *a)
{
	const json_t *sent = json_object_get(a, "sentiment_analysis"), *cat = json_object_get(a, "categorization");
	const json_t *pri = json_object_get(a, "priority_assignment"), *resp = json_object_get(a, "generated_response");
	const json_t *dec = json_object_get(a, "escalation_decision"), *esc = json_object_get(tr, "escalation");
	const char *draft = fl_json_str(resp, "response", "");

	assert_non_null(tr);
	assert_string_equal(fl_json_str(json_object_get(tr, "sentiment"), "level", "?"), fl_json_str(sent, "sentiment", ""));
	assert_string_equal(fl_json_str(json_object_get(tr, "sentiment"), "urgency", "?"), fl_json_str(sent, "urgency", ""));
	assert_string_equal(fl_json_str(json_object_get(tr, "category"), "name", "?"), fl_json_str(cat, "primary_category", ""));
	assert_true(json_equal(json_object_get(json_object_get(tr, "category"), "confidence"), json_object_get(cat, "confidence")));
	assert_string_equal(fl_json_str(json_object_get(tr, "priority"), "level", "?"), fl_json_str(pri, "priority", ""));
	assert_true(json_equal(json_object_get(json_object_get(tr, "priority"), "score"), json_object_get(pri, "score")));
	if (dec) {
		assert_string_equal(fl_json_str(esc, "level", "?"), fl_json_str(dec, "escalation_decision", ""));
		assert_string_equal(fl_json_str(esc, "priority", "?"), fl_json_str(dec, "escalation_priority", ""));
		assert_int_equal(fl_json_bool(esc, "needed", false),
				 strcmp(fl_json_str(dec, "escalation_decision", ""), "no_escalation") != 0);
	} else {
		assert_null(json_object_get(esc, "level"));
		assert_true(json_equal(json_object_get(esc, "needed"), json_object_get(resp, "escalation_needed")));
	}
	assert_true(json_is_boolean(json_object_get(tr, "reply_draft")));
	assert_int_equal(fl_json_bool(tr, "reply_draft", false), *draft != '\0');
}

static void test_list_items_are_summaries_unless_view_full(void **state)
{
	static const char *const kept[] = { "id", "number", "channel", "customer_id", "subject", "status",
					     "created_at", "updated_at", "version", NULL };
	static const char *const dropped[] = { "content", "metadata", "analysis", "trace", "messages", NULL };
	struct fx *f = *state;
	struct http_resp r;
	json_t *in, *out = NULL, *page, *full, *item, *t, *walked, *again;
	char path[256];
	bool created;
	size_t i, k;
	int pages, triaged = 0, decided = 0;

	start(f, -1, true);
	webhook(f, OUTAGE_TICKET("sum_esc"), 0, NULL, &r);
	expect(&r, 202, NULL);
	http_resp_release(&r);
	webhook(f, ticket_body("sum_inv", "cust_001", "Question about invoices",
			       "Where can I download the invoice for last month?"), 0, NULL, &r);
	expect(&r, 202, NULL);
	http_resp_release(&r);
	assert_true(server_workers_wait(f->workers, 2, 60000));
	/* one never triaged (no job), one whose analysis holds only part of a triage */
	in = json_pack("{s:s, s:s, s:s, s:s}", "id", "sum_new", "customer_id", "cust_002", "subject", "Untriaged",
		       "content", "Nobody has looked at this one yet.");
	assert_int_equal(store_ticket_intake(f->st, in, NULL, NULL, &out, &created), STORE_OK);
	json_decref(out);
	json_object_set_new(in, "id", json_string("sum_part"));
	assert_int_equal(store_ticket_intake(f->st, in, NULL, NULL, &out, &created), STORE_OK);
	json_decref(out);
	json_decref(in);
	in = json_pack("{s:{s:{s:s, s:[]}, s:{s:s}}}", "analysis", "sentiment_analysis", "sentiment", "negative",
		       "emotional_indicators", "categorization", "primary_category", "billing");
	assert_int_equal(store_ticket_update(f->st, "sum_part", 0, in, "test", &out), STORE_OK);
	json_decref(out);
	json_decref(in);

	/* the default: summaries, their triage taken from the stored analysis */
	page = get_json(f, "/api/v1/tickets");
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 4);
	json_array_foreach(json_object_get(page, "tickets"), i, item) {
		const char *id = fl_json_str(item, "id", "");
		const json_t *tr = json_object_get(item, "triage");
		const char *key;
		json_t *v;

		snprintf(path, sizeof(path), "/api/v1/tickets/%s", id);
		t = get_json(f, path);
		for (k = 0; kept[k]; k++)
			if (!json_equal(json_object_get(item, kept[k]), json_object_get(t, kept[k])))
				fail_msg("summary of %s: '%s' differs from the ticket's", id, kept[k]);
		for (k = 0; dropped[k]; k++)
			if (json_object_get(item, dropped[k]))
				fail_msg("summary of %s carries '%s'", id, dropped[k]);
		/* every other field is the record's own */
		json_object_foreach(item, key, v)
			if (strcmp(key, "triage") && !json_equal(v, json_object_get(t, key)))
				fail_msg("summary of %s: '%s' is not the record's", id, key);
		if (!strcmp(id, "sum_new")) {
			assert_null(tr);
		} else if (!strcmp(id, "sum_part")) {
			json_t *want = json_pack("{s:{s:s}, s:{s:s}}", "sentiment", "level", "negative",
						 "category", "name", "billing");

			if (!json_equal(tr, want))
				fail_msg("partial triage: %s", json_dumps(tr, JSON_COMPACT));
			json_decref(want);
		} else {
			check_triage(tr, json_object_get(t, "analysis"));
			triaged++;
			decided += json_object_get(json_object_get(t, "analysis"), "escalation_decision") != NULL;
		}
		json_decref(t);
	}
	assert_int_equal(triaged, 2);
	assert_true(decided >= 1);
	/* view=summary says the default */
	again = get_json(f, "/api/v1/tickets?view=summary");
	assert_true(json_equal(again, page));
	json_decref(again);
	json_decref(page);

	/* view=full: the records as before, each the ticket GET returns without its thread and trace */
	full = get_json(f, "/api/v1/tickets?view=full");
	assert_int_equal(json_array_size(json_object_get(full, "tickets")), 4);
	json_array_foreach(json_object_get(full, "tickets"), i, item) {
		snprintf(path, sizeof(path), "/api/v1/tickets/%s", fl_json_str(item, "id", ""));
		t = get_json(f, path);
		assert_non_null(json_object_get(item, "analysis"));
		assert_non_null(json_object_get(item, "content"));
		json_object_del(t, "messages");
		json_object_del(t, "trace");
		if (!json_equal(item, t))
			fail_msg("full list item %s differs from GET by id", fl_json_str(item, "id", ""));
		json_decref(t);
	}

	/* pages in both views: the same tickets in the same order */
	walked = all_pages(f, "&view=full", &pages);
	assert_int_equal(pages, 2);
	assert_true(json_equal(walked, json_object_get(full, "tickets")));
	json_decref(walked);
	walked = all_pages(f, "", &pages);
	assert_int_equal(pages, 2);
	assert_int_equal(json_array_size(walked), 4);
	json_array_foreach(walked, i, item) {
		assert_string_equal(fl_json_str(item, "id", ""),
				    fl_json_str(json_array_get(json_object_get(full, "tickets"), i), "id", "?"));
		assert_null(json_object_get(item, "analysis"));
	}
	json_decref(walked);
	json_decref(full);

	/* search: the same default and view */
	page = get_json(f, "/api/v1/tickets?q=invoice");
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 1);
	item = json_array_get(json_object_get(page, "tickets"), 0);
	assert_null(json_object_get(item, "analysis"));
	assert_non_null(json_object_get(item, "triage"));
	json_decref(page);
	page = get_json(f, "/api/v1/tickets?q=invoice&view=full");
	assert_non_null(json_object_get(json_array_get(json_object_get(page, "tickets"), 0), "analysis"));
	json_decref(page);

	/* an unknown view is the client's mistake, named */
	call(f, "GET", "/api/v1/tickets?view=brief", f->agent, NULL, &r);
	expect(&r, 400, "bad_request");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "view");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/tickets?q=invoice&view=FULL", f->agent, NULL, &r);
	expect(&r, 400, "bad_request");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "view");
	http_resp_release(&r);
}

static void test_escalation_queue(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char path[128];
	int64_t id;

	start(f, -1, true);
	webhook(f, OUTAGE_TICKET("esc_1"), 0, NULL, &r);
	expect(&r, 202, NULL);
	http_resp_release(&r);
	assert_true(server_workers_wait(f->workers, 1, 60000));
	call(f, "GET", "/api/v1/escalations", f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "escalations")), 1);
	id = fl_json_int(json_array_get(json_object_get(r.json, "escalations"), 0), "id", 0);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "escalations"), 0), "priority", ""), "critical");
	assert_true(json_is_integer(json_object_get(json_array_get(json_object_get(r.json, "escalations"), 0), "age_s")));
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/escalations/%lld/claim", (long long)id);
	call(f, "POST", path, f->agent, NULL, &r);
	expect(&r, 200, NULL);
	if (strcmp(fl_json_str(r.json, "status", ""), "claimed")) fail_msg("claim: %s", r.body);
	assert_string_equal(fl_json_str(r.json, "agent", ""), "agent");
	http_resp_release(&r);
	call(f, "POST", path, f->admin, NULL, &r);
	expect(&r, 409, "conflict");
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/escalations/%lld/release", (long long)id);
	call(f, "POST", path, f->agent, NULL, &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "open");
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/escalations/%lld/close", (long long)id);
	call(f, "POST", path, f->agent, "{}", &r);
	expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	call(f, "POST", path, f->agent, "{\"resolution\":\"Restarted the auth cluster\"}", &r);
	expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), "closed");
	http_resp_release(&r);
	call(f, "GET", "/api/v1/escalations/999999", f->agent, NULL, &r);
	expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static void test_rate_limit_answers_429_with_retry_after(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char *after;
	int i, limited = 0;

	start(f, 0.5, false);   /* a burst of 3, then one every 2 s */
	for (i = 0; i < 6; i++) {
		call(f, "GET", "/api/v1/customers", f->agent, NULL, &r);
		if (r.status == 429) {
			limited++;
			expect(&r, 429, "rate_limited");
			after = http_resp_header(&r, "Retry-After");
			assert_non_null(after);
			assert_true(atoi(after) >= 1);
			free(after);
		}
		http_resp_release(&r);
	}
	assert_int_equal(limited, 3);
	/* per token: another token still has its burst */
	call(f, "GET", "/api/v1/customers", f->admin, NULL, &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	/* probes are not rate limited */
	for (i = 0; i < 5; i++) {
		call(f, "GET", "/healthz", NULL, NULL, &r);
		expect(&r, 200, NULL);
		http_resp_release(&r);
	}
}

static void test_dead_letters_are_visible_and_retried(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char path[64];
	int64_t id;

	/* a job whose ticket does not exist fails every time */
	assert_int_equal(store_job_enqueue(f->st, "triage", NULL, NULL, 2, 0, "doomed"), STORE_OK);
	start(f, -1, true);
	assert_true(server_workers_wait(f->workers, 2, 60000));
	call(f, "GET", "/api/v1/jobs?status=dead", f->admin, NULL, &r);
	expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 1);
	id = fl_json_int(json_array_get(json_object_get(r.json, "jobs"), 0), "id", 0);
	assert_non_null(fl_json_str(json_array_get(json_object_get(r.json, "jobs"), 0), "last_error", NULL));
	assert_int_equal(fl_json_int(json_object_get(r.json, "counts"), "dead", 0), 1);
	http_resp_release(&r);
	call(f, "GET", "/api/v1/jobs?status=dead", f->agent, NULL, &r);
	expect(&r, 403, "forbidden");
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/jobs/%lld/retry", (long long)id);
	call(f, "POST", path, f->admin, NULL, &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	assert_true(server_workers_wait(f->workers, 4, 60000));
	call(f, "POST", path, f->admin, NULL, &r);
	if (r.status != 200)
		expect(&r, 409, "conflict");
	http_resp_release(&r);
}

static void test_draining_refuses_politely(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int fd;
	char *raw;
	bool closed;

	start(f, -1, false);
	/* a keep-alive connection opened before the drain */
	fd = http_raw_connect(server_port(f->srv));
	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34), 0);
	raw = http_raw_read(fd, 500, &closed);
	assert_non_null(strstr(raw, "200 OK"));
	free(raw);
	server_drain(f->srv);
	assert_true(server_draining(f->srv));
	assert_int_equal(http_raw_send(fd, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", 33), 0);
	raw = http_raw_read(fd, 2000, &closed);
	if (!strstr(raw, "503"))
		fail_msg("after the drain: closed %d: %s", closed, raw);
	assert_non_null(strstr(raw, "Retry-After"));
	free(raw);
	close(fd);
	/* new connections are refused at once */
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

static void test_notifications_reach_real_receivers(void **state)
{
	struct fx *f = *state;
	struct http_receiver *rx = http_receiver_start();
	struct smtp_harness smtp = SMTP_HARNESS_INIT;
	struct notify_options no = { 0 };
	char *hook = http_receiver_url(rx, "/events"), *slack = http_receiver_url(rx, "/slack"), *smtp_url = NULL;
	char *err = NULL;
	struct http_resp r;
	json_t *reqs, *req;
	size_t i;
	bool saw_resolved = false, saw_slack = false;

	if (smtp_harness_start(&smtp, &smtp_url))
		fail_msg("%s", smtp_harness_error(&smtp));
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", hook);
	no.store_url = f->url;
	no.poll_ms = 50;
	no.settings.slack_url = slack;
	no.settings.smtp_url = smtp_url;
	no.settings.smtp_from = "support@frontline.localhost";
	no.settings.webhook_secret = "whsec_out";
	assert_int_equal(notify_dispatcher_new(&no, &f->disp, &err), NOTIFY_OK);
	assert_int_equal(notify_dispatcher_start(f->disp), NOTIFY_OK);
	start(f, -1, true);
	webhook(f, "{\"id\":\"n_1\",\"customer_id\":\"cust_003\",\"subject\":\"CRITICAL: Complete system outage affecting all users\","
		   "\"content\":\"All 500 of our users get error 503 and cannot log in. We are losing revenue.\","
		   "\"metadata\":{\"customer_tier\":\"enterprise\",\"users_affected\":500,\"revenue_impact\":\"high\",\"urgent_flag\":true}}",
		0, NULL, &r);
	expect(&r, 202, NULL);
	http_resp_release(&r);
	assert_true(server_workers_wait(f->workers, 1, 60000));
	call(f, "POST", "/api/v1/tickets/n_1/resolve", f->agent, "{\"resolution\":\"Fixed the auth cluster.\"}", &r);
	expect(&r, 200, NULL);
	http_resp_release(&r);
	/* created + escalated + resolved events, the escalation on Slack, the customer's email */
	assert_true(http_receiver_wait(rx, 5, 30000) >= 5);
	reqs = http_receiver_requests(rx);
	json_array_foreach(reqs, i, req) {
		const json_t *h = json_object_get(req, "headers");
		const char *body = fl_json_str(req, "body", "");

		if (!strcmp(fl_json_str(req, "path", ""), "/slack")) {
			saw_slack = saw_slack || strstr(body, "n_1");
			continue;
		}
		assert_int_equal(notify_verify("whsec_out", fl_json_str(h, "x-frontline-timestamp", NULL),
					       fl_json_str(h, "x-frontline-signature", NULL), body, strlen(body),
					       fl_wall_us() / 1000000, 300), NOTIFY_SIG_OK);
		assert_true(fl_str_has_prefix(fl_json_str(h, "x-frontline-delivery", ""), "dlv_"));
		if (!strcmp(fl_json_str(h, "x-frontline-event", ""), "ticket.resolved"))
			saw_resolved = true;
	}
	assert_true(saw_resolved);
	assert_true(saw_slack);
	json_decref(reqs);
	assert_true(smtp_harness_wait(&smtp, 1, 30000) >= 1);
	{
		json_t *msgs = smtp_harness_messages(&smtp);
		bool found = false;

		json_array_foreach(msgs, i, req)
			found = found || strstr(json_string_value(req), "Your support ticket has been resolved");
		assert_true(found);
		json_decref(msgs);
	}
	/* nothing left behind, nothing dead */
	call(f, "GET", "/api/v1/outbox?status=dead", f->admin, NULL, &r);
	expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "notifications")), 0);
	http_resp_release(&r);
	stop_server(f);
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	smtp_harness_stop(&smtp);
	http_receiver_stop(rx);
	free(hook);
	free(slack);
	free(smtp_url);
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_probes_and_metrics),
	T(test_every_route_against_every_role),
	T(test_bad_input_is_refused_and_the_server_keeps_serving),
	T(test_webhook_intake_is_signed_durable_and_idempotent),
	T(test_workers_triage_and_agents_work_tickets),
	T(test_list_filters_search_and_keyset_pages),
	T(test_list_items_are_summaries_unless_view_full),
	T(test_escalation_queue),
	T(test_rate_limit_answers_429_with_retry_after),
	T(test_dead_letters_are_visible_and_retried),
	T(test_draining_refuses_politely),
	T(test_notifications_reach_real_receivers),
};

int main(void)
{
	const struct CMUnitTest docs[] = {
		cmocka_unit_test(test_openapi_describes_exactly_the_routes),
		cmocka_unit_test(test_configuration_doc_lists_every_key),
	};
	int failed = 0;
	char *err = NULL;

	fl_config_load(NULL, false, &err);
	fl_log_setup(getenv("TEST_DEBUG") ? FL_LOG_DEBUG : FL_LOG_ERROR, NULL, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	failed += cmocka_run_group_tests_name("server_docs", docs, NULL, NULL);
	failed += cmocka_run_group_tests_name("server_sqlite", tests, group_sqlite, group_done);
	failed += cmocka_run_group_tests_name("server_postgres", tests, group_postgres, group_done);
	fl_config_free();
	curl_global_cleanup();
	return failed ? 1 : 0;
}
