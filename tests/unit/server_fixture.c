/*
 * server_fixture: the fixture of the HTTP service's test programs (see
 * server_fixture.h): backend groups with the analyzer, a fresh store with
 * the KB, seed customers and tokens per test, the service (server, and
 * workers and dispatcher when asked) started on request through
 * src/service, and the requests the tests make. The tests themselves are in
 * test_server_*.c.
 */
#include "test_helpers.h"

#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "backends.h"
#include "server_fixture.h"

static int group_setup(struct fx_group *g)
{
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb"), *err = NULL;
	int rc = -1;

	fl_config_set("FRONTLINE_KB_DIR", kbdir);
	fl_config_set("FRONTLINE_MODELS_DIR", models);
	if (support_analyzer_open(models, &g->analyzer, &err) != SUPPORT_OK) {
		fprintf(stderr, "cannot load the analyzer: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	free(err);
	free(models);
	free(kbdir);
	return rc;
}

int fx_group_sqlite(void **state)
{
	static struct fx_group g = { "sqlite", PG_HARNESS_INIT, NULL };

	*state = &g;
	return group_setup(&g);
}

int fx_group_postgres(void **state)
{
	static struct fx_group g = { "postgres", PG_HARNESS_INIT, NULL };

	*state = &g;
	return backend_start(g.backend, &g.pg) ? -1 : group_setup(&g);
}

int fx_group_done(void **state)
{
	struct fx_group *g = *state;

	pg_harness_stop(&g->pg);
	support_analyzer_free(g->analyzer);
	g->analyzer = NULL;
	return 0;
}

void fx_make_token(struct fx *f, const char *role, char out[64], int64_t *id)
{
	char hash[65];
	json_t *row = NULL;

	server_token_generate(out, hash);
	assert_int_equal(store_token_insert(f->st, role, role, hash, &row), STORE_OK);
	if (id)
		*id = fl_json_int(row, "id", 0);
	json_decref(row);
}

void fx_stop_server(struct fx *f)
{
	service_free(f->svc);
	f->svc = NULL;
	f->srv = NULL;
}

/* Frees f and what it still holds (the server, the KB, the store, the SQLite directory). */
static void fx_free(struct fx *f)
{
	fx_stop_server(f);
	kb_close(f->kb);
	store_close(f->st);
	if (f->dir)
		test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
}

int fx_setup(void **state)
{
	struct fx_group *g = *state;
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *err = NULL;
	size_t n;
	int rc = -1;

	f->g = g;
	if (backend_fresh_url(g->backend, &g->pg, &f->url, &f->dir))
		goto out;
	if (store_open(f->url, &f->st, &err) != STORE_OK || kb_open(NULL, &f->kb, &err) != KB_OK ||
	    support_kb_load(f->st, f->kb, NULL, &n, &err) != SUPPORT_OK ||
	    support_seed_customers(f->st, &err) != SUPPORT_OK) {
		fprintf(stderr, "fixture: %s\n", err ? err : "?");
		goto out;
	}
	fx_make_token(f, "admin", f->admin, NULL);
	fx_make_token(f, "agent", f->agent, NULL);
	fx_make_token(f, "integration", f->integ, &f->integ_id);
	*state = f;
	f = NULL;
	rc = 0;
out:
	if (f)
		fx_free(f);
	free(err);
	return rc;
}

int fx_teardown(void **state)
{
	fx_free(*state);
	return 0;
}

int fx_run(const char *name, const struct CMUnitTest *tests, size_t count)
{
	char *err = NULL;
	int failed;

	fl_config_load(NULL, false, &err);
	free(err);
	/* libsodium's lowest Argon2id cost: hashes in microseconds, also under sanitizers */
	fl_config_set("FRONTLINE_PASSWORD_COST", "min");
	fl_log_setup(getenv("TEST_DEBUG") ? FL_LOG_DEBUG : FL_LOG_ERROR, NULL, NULL);
	fl_curl_global_init();
	failed = backend_run_all(name, tests, count, fx_group_sqlite, fx_group_postgres, fx_group_done);
	fl_config_free();
	curl_global_cleanup();
	return failed;
}

struct service_options fx_options(struct fx *f, double rate, unsigned parts)
{
	struct service_options o = { 0 };

	o.parts = parts;
	o.store_url = f->url;
	o.analyzer = f->g->analyzer;
	o.kb = f->kb;
	o.workers.count = 2;
	o.workers.backoff_base_ms = 1;
	o.workers.poll_ms = 50;
	if (f->notify)
		o.notify = *f->notify;
	o.notify.poll_ms = 50;
	o.http.listen = "127.0.0.1:0";
	o.http.threads = 2;
	o.http.max_body = 65536;
	o.http.max_header = 8192;
	o.http.timeout_s = 1;
	o.http.rate = rate;
	o.http.burst = rate > 0 ? 3 : 0;
	/* the route matrix presents a bad token many times; test_server_hardening tests the limit */
	o.http.auth_failures = -1;
	o.http.webhook_secret = FX_WEBHOOK_SECRET;
	return o;
}

void fx_start_service(struct fx *f, const struct service_options *o)
{
	char *err = NULL;

	if (service_new(o, &f->svc, &err) != SERVICE_OK || service_start(f->svc, &err) != SERVICE_OK)
		fail_msg("service: %s", err);
	f->srv = service_server(f->svc);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", service_port(f->svc));
}

void fx_start(struct fx *f, double rate, bool workers)
{
	struct service_options o = fx_options(f, rate, SERVICE_HTTP | (workers ? SERVICE_WORKERS : 0) |
						       (f->notify ? SERVICE_DISPATCHER : 0));

	fx_start_service(f, &o);
}

void fx_wait_jobs(struct fx *f, uint64_t n)
{
	uint64_t done = 0, failed = 0;

	if (!service_jobs_wait(f->svc, n, 60000)) {
		service_jobs_stats(f->svc, &done, &failed);
		fail_msg("the workers finished %llu and failed %llu jobs in a minute; expected %llu in all",
			 (unsigned long long)done, (unsigned long long)failed, (unsigned long long)n);
	}
}

void fx_wait_done(struct fx *f, uint64_t n)
{
	int64_t deadline = fl_mono_us() + 60 * INT64_C(1000000);
	uint64_t done = 0, failed = 0;

	/* a failed attempt is retried: wait for one more outcome until n jobs are done */
	for (;;) {
		service_jobs_stats(f->svc, &done, &failed);
		if (done >= n || fl_mono_us() >= deadline)
			break;
		service_jobs_wait(f->svc, done + failed + 1, 1000);
	}
	if (done < n)
		fail_msg("the workers finished %llu jobs (and failed %llu attempts) in a minute; expected %llu done",
			 (unsigned long long)done, (unsigned long long)failed, (unsigned long long)n);
}

/* ---- requests ---- */

void fx_call(struct fx *f, const char *method, const char *path, const char *token, const char *body,
	     struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, path);
	struct http_req req = { method, url, token, NULL, body, 0, NULL, 0 };

	http_do(&req, out);
	free(url);
	if (out->error)
		fail_msg("%s %s: %s", method, path, out->error);
}

void fx_webhook(struct fx *f, const char *body, int64_t ts, const char *idem, struct http_resp *out)
{
	char sig[NOTIFY_SIGNATURE_LEN], tsbuf[24], h1[64], h2[96], h3[256];
	const char *headers[4] = { h1, h2, NULL, NULL };
	char *url = fl_asprintf("%s/webhooks/tickets", f->base);
	struct http_req req = { "POST", url, NULL, NULL, body, 0, headers, 0 };

	snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)(ts ? ts : fl_wall_us() / 1000000));
	notify_sign(FX_WEBHOOK_SECRET, tsbuf, body, strlen(body), sig);
	snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", tsbuf);
	snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
	if (idem) {
		snprintf(h3, sizeof(h3), "Idempotency-Key: %s", idem);
		headers[2] = h3;
	}
	http_do(&req, out);
	free(url);
}

int64_t fx_make_user(struct fx *f, const char *email, const char *role, const char *password)
{
	char hash[SERVER_PASSWORD_HASH_SIZE];
	json_t *u = json_pack("{s:s, s:s, s:s}", "email", email, "name", email, "role", role), *row = NULL;
	int64_t id;

	assert_int_equal(server_password_hash(password, hash), 0);
	if (store_user_insert(f->st, u, hash, &row) != STORE_OK)
		fail_msg("cannot add user '%s': %s", email, store_errmsg(f->st));
	id = fl_json_int(row, "id", 0);
	json_decref(u);
	json_decref(row);
	return id;
}

void fx_call_session(struct fx *f, const char *method, const char *path, const struct fx_session *s, bool csrf,
		     const char *body, struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, path), cookie[128], token[128];
	const char *headers[3] = { NULL, NULL, NULL };
	struct http_req req = { method, url, NULL, NULL, body, 0, headers, 0 };
	size_t n = 0;

	if (s) {
		snprintf(cookie, sizeof(cookie), "Cookie: %s", s->cookie);
		headers[n++] = cookie;
		if (csrf) {
			snprintf(token, sizeof(token), "X-CSRF-Token: %s", s->csrf);
			headers[n++] = token;
		}
	}
	http_do(&req, out);
	free(url);
	if (out->error)
		fail_msg("%s %s: %s", method, path, out->error);
}

void fx_sign_in(struct fx *f, const char *email, const char *password, struct fx_session *s)
{
	json_t *body = json_pack("{s:s, s:s}", "email", email, "password", password);
	char *text = fl_json_dumps(body), *set, *semi;
	struct http_resp r;

	fx_call_session(f, "POST", "/api/v1/session", NULL, false, text, &r);
	fx_expect(&r, 200, NULL);
	set = http_resp_header(&r, "Set-Cookie");
	assert_non_null(set);
	semi = strchr(set, ';');
	if (semi)
		*semi = '\0';
	fl_strlcpy(s->cookie, set, sizeof(s->cookie));
	fl_strlcpy(s->csrf, fl_json_str(r.json, "csrf_token", ""), sizeof(s->csrf));
	s->user_id = fl_json_int(json_object_get(r.json, "user"), "id", 0);
	assert_int_equal(strlen(s->csrf), 64);
	free(set);
	free(text);
	json_decref(body);
	http_resp_release(&r);
}

size_t fx_outbox_to(struct fx *f, const char *to)
{
	json_t *list = NULL, *o;
	size_t i, n = 0;

	assert_int_equal(store_outbox_list(f->st, NULL, 100, &list), STORE_OK);
	json_array_foreach(list, i, o)
		if (strstr(fl_json_str(o, "target", ""), to))
			n++;
	json_decref(list);
	return n;
}

void fx_sql(struct fx *f, const char *sql)
{
	if (!strcmp(f->g->backend, "sqlite")) {
		char *path = fl_asprintf("%s/frontline.db", f->dir);
		sqlite3 *db = NULL;

		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_close(db);
		free(path);
	} else {
		PGconn *c = PQconnectdb(f->url);
		PGresult *res = PQexec(c, sql);

		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		PQclear(res);
		PQfinish(c);
	}
}

void fx_expect(struct http_resp *r, long status, const char *code)
{
	if (r->status != status || (code && strcmp(http_error_code(r), code)))
		fail_msg("expected %ld %s, got %ld: %s", status, code ? code : "", r->status, r->body);
}

const char *fx_ticket_body(const char *id, const char *customer, const char *subject, const char *content)
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

void fx_sse_open(struct fx_sse *s, unsigned port, const char *path, const char *headers)
{
	char *req = fl_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s\r\n", path,
				headers ? headers : "");

	memset(s, 0, sizeof(*s));
	s->text = (struct fl_buf)FL_BUF_INIT;
	s->fd = http_raw_connect(port);
	assert_true(s->fd >= 0);
	assert_int_equal(http_raw_send(s->fd, req, strlen(req)), 0);
	free(req);
}

bool fx_sse_wait(struct fx_sse *s, const char *needle, int timeout_ms)
{
	int64_t deadline = fl_mono_us() + (int64_t)timeout_ms * 1000;

	while (!strstr(s->text.buf, needle) && !s->closed) {
		struct pollfd p = { s->fd, POLLIN, 0 };
		int64_t left = (deadline - fl_mono_us()) / 1000;
		char chunk[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(s->fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			s->closed = true;
		else
			fl_buf_add(&s->text, chunk, (size_t)n);
	}
	return strstr(s->text.buf, needle) != NULL;
}

void fx_sse_close(struct fx_sse *s)
{
	if (s->fd >= 0)
		close(s->fd);
	fl_buf_release(&s->text);
}
