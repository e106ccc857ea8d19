/*
 * server_fixture: the fixture of the HTTP service's test programs (see
 * server_fixture.h): backend groups with the analyzer, a fresh store with
 * the KB, seed customers and tokens per test, the service (server, and
 * workers and dispatcher when asked) started on request through
 * src/service, and the requests the tests make. The tests themselves are in
 * test_server_*.c.
 */
#include "test_helpers.h"

#include <stdio.h>
#include <curl/curl.h>

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
