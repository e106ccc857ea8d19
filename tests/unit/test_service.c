/*
 * The service object (src/service): its lifecycle (new, start, stop, free,
 * each safe to repeat; stop before start; free(NULL)), the parts that each
 * preset runs (serve, serve --no-workers, worker), and one ticket end to
 * end through it: a signed webhook over real HTTP, triage by its workers,
 * the ticket's event delivered by its dispatcher to a real receiver, the
 * figures on /metrics. Every test runs on SQLite (a file in a temporary
 * directory), then on a private PostgreSQL server (pg_harness).
 */
#include "test_helpers.h"

#include <stdio.h>
#include <curl/curl.h>

#include "backends.h"
#include "http_client.h"
#include "http_receiver.h"
#include "kb/kb.h"
#include "notify/notify.h"
#include "service/service.h"
#include "store/store.h"
#include "support/support.h"

#define SECRET "whsec_service"

struct group {
	const char *backend;
	struct pg_harness pg;
	struct support_analyzer *analyzer;
};

struct t {
	struct group *g;
	char *dir, *url;
	struct store *st;
	struct kb *kb;
	char token[64];           /* an admin token */
};

static int group_setup(struct group *g)
{
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb"), *err = NULL;
	int rc = 0;

	fl_config_set("FRONTLINE_KB_DIR", kbdir);
	fl_config_set("FRONTLINE_MODELS_DIR", models);
	if (support_analyzer_open(models, &g->analyzer, &err) != SUPPORT_OK) {
		fprintf(stderr, "cannot load the analyzer: %s\n", err);
		rc = -1;
	}
	free(err);
	free(models);
	free(kbdir);
	return rc;
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

	*state = &g;
	return backend_start(g.backend, &g.pg) ? -1 : group_setup(&g);
}

static int group_done(void **state)
{
	struct group *g = *state;

	pg_harness_stop(&g->pg);
	support_analyzer_free(g->analyzer);
	g->analyzer = NULL;
	return 0;
}

static void t_free(struct t *t)
{
	kb_close(t->kb);
	store_close(t->st);
	if (t->dir)
		test_tmpdir_remove(t->dir);
	free(t->dir);
	free(t->url);
	free(t);
}

static int setup(void **state)
{
	struct t *t = fl_calloc(1, sizeof(*t));
	char hash[65], *err = NULL;
	json_t *row = NULL;
	size_t n;

	t->g = *state;
	if (backend_fresh_url(t->g->backend, &t->g->pg, &t->url, &t->dir) ||
	    store_open(t->url, &t->st, &err) != STORE_OK || kb_open(NULL, &t->kb, &err) != KB_OK ||
	    support_kb_load(t->st, t->kb, NULL, &n, &err) != SUPPORT_OK ||
	    support_seed_customers(t->st, &err) != SUPPORT_OK) {
		fprintf(stderr, "setup: %s\n", err ? err : "?");
		free(err);
		t_free(t);
		return -1;
	}
	server_token_generate(t->token, hash);
	if (store_token_insert(t->st, "admin", "admin", hash, &row) != STORE_OK) {
		t_free(t);
		return -1;
	}
	json_decref(row);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	t_free(*state);
	return 0;
}

/* Options for a service on t's store: parts, HTTP on a free port, quick workers, a short grace. */
static struct service_options options(struct t *t, unsigned parts)
{
	struct service_options o = { 0 };

	o.parts = parts;
	o.store_url = t->url;
	o.analyzer = t->g->analyzer;
	o.kb = t->kb;
	o.grace_ms = 5000;
	o.http.listen = "127.0.0.1:0";
	o.http.threads = 2;
	o.http.rate = -1;
	o.http.webhook_secret = SECRET;
	o.workers.count = 2;
	o.workers.poll_ms = 50;
	o.workers.backoff_base_ms = 1;
	o.notify.poll_ms = 50;
	return o;
}

static struct service *start(struct service_options *o)
{
	struct service *s = NULL;
	char *err = NULL;

	if (service_new(o, &s, &err) != SERVICE_OK || service_start(s, &err) != SERVICE_OK)
		fail_msg("service: %s", err);
	return s;
}

/* GET or POST path on the service's port; the caller releases *out. */
static void call(struct service *s, const char *method, const char *path, const char *token, const char *body,
		 const char *const *headers, struct http_resp *out)
{
	char *url = fl_asprintf("http://127.0.0.1:%u%s", service_port(s), path);
	struct http_req req = { method, url, token, NULL, body, 0, headers, 0 };

	http_do(&req, out);
	free(url);
}

/* POST /webhooks/tickets, signed now; returns the status. */
static long webhook(struct service *s, const char *id, const char *subject, const char *content)
{
	char *body = fl_asprintf("{\"id\":\"%s\",\"customer_id\":\"cust_002\",\"subject\":\"%s\",\"content\":\"%s\"}",
				 id, subject, content);
	char sig[NOTIFY_SIGNATURE_LEN], ts[24], h1[64], h2[96];
	const char *headers[] = { h1, h2, NULL };
	struct http_resp r;
	long status;

	snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
	notify_sign(SECRET, ts, body, strlen(body), sig);
	snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", ts);
	snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
	call(s, "POST", "/webhooks/tickets", NULL, body, headers, &r);
	status = r.status;
	http_resp_release(&r);
	free(body);
	return status;
}

/* The stored ticket's status ("" when absent); static buffer. */
static const char *status_of(struct t *t, const char *id)
{
	static char buf[32];
	json_t *ticket = NULL;

	buf[0] = '\0';
	if (store_ticket_get(t->st, id, false, &ticket) == STORE_OK)
		fl_strlcpy(buf, fl_json_str(ticket, "status", ""), sizeof(buf));
	json_decref(ticket);
	return buf;
}

/* GET /metrics; caller frees. */
static char *metrics(struct service *s)
{
	struct http_resp r;
	char *body;

	call(s, "GET", "/metrics", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	body = fl_strdup(r.body);
	http_resp_release(&r);
	return body;
}

static void test_free_null_and_stop_before_start(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_SERVE);
	struct service *s = NULL;
	char *err = NULL;

	service_free(NULL);
	assert_int_equal(service_stop(NULL), 0);
	assert_int_equal(service_new(&o, &s, &err), SERVICE_OK);
	assert_null(err);
	assert_non_null(service_server(s));
	assert_non_null(service_registry(s));
	assert_int_equal(service_port(s), 0);          /* not listening before service_start */
	assert_int_equal(service_stop(s), 0);
	assert_int_equal(service_stop(s), 0);
	service_free(s);
}

static void test_start_stop_free_are_safe_to_repeat(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_SERVE);
	struct service *s = start(&o);
	struct http_resp r;
	unsigned port = service_port(s);
	char *err = NULL;

	assert_true(port > 0);
	assert_int_equal(service_start(s, &err), SERVICE_OK);   /* again: nothing more starts */
	assert_int_equal(service_port(s), port);
	call(s, "GET", "/healthz", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	http_resp_release(&r);
	assert_int_equal(service_stop(s), 0);                   /* no job was in flight */
	assert_true(server_draining(service_server(s)));
	assert_int_equal(service_stop(s), 0);
	call(s, "GET", "/healthz", NULL, NULL, NULL, &r);
	assert_int_equal(r.status, 0);                          /* refused: nothing listens */
	http_resp_release(&r);
	service_free(s);
}

static void test_bad_options_say_what_cannot_start(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_WORKER);
	struct service *s = NULL;
	char *err = NULL;

	o.analyzer = NULL;
	assert_int_equal(service_new(&o, &s, &err), SERVICE_EINVAL);
	assert_null(s);
	assert_string_equal(err, "cannot start the workers: workers need the analyzer's models");
	free(err);
	err = NULL;
	o = options(t, SERVICE_SERVE_NO_WORKERS);
	o.http.listen = "127.0.0.1:not-a-port";
	assert_int_equal(service_new(&o, &s, &err), SERVICE_OK);
	assert_int_equal(service_start(s, &err), SERVICE_EHTTP);
	assert_non_null(strstr(err, "127.0.0.1:not-a-port"));
	free(err);
	service_free(s);
	assert_string_equal(service_strerror(SERVICE_EIMAP), "cannot start the IMAP poller");
	assert_string_equal(service_errname(SERVICE_ENOTIFY), "SERVICE_ENOTIFY");
}

/* serve --no-workers: tickets are taken in and wait; /metrics shows the queue */
static void test_without_workers_tickets_wait_in_the_queue(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_SERVE_NO_WORKERS);
	struct service *s;
	uint64_t done = 1, failed = 1;
	char *m;

	o.analyzer = NULL;   /* a process that triages nothing does not load the models */
	s = start(&o);
	assert_int_equal(webhook(s, "wait_1", "Cannot log in", "The password reset email never arrives at all."), 202);
	assert_false(service_jobs_wait(s, 1, 10));
	service_jobs_stats(s, &done, &failed);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 0);
	fl_sleep_us(200000);
	assert_string_equal(status_of(t, "wait_1"), "new");
	m = metrics(s);
	assert_non_null(strstr(m, "frontline_jobs{status=\"queued\"} 1"));
	assert_null(strstr(m, "frontline_jobs_processed_total"));
	free(m);
	service_free(s);
}

/* frontline worker: no HTTP; the queue a server left is triaged */
static void test_worker_only_triages_the_queue(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_WORKER);
	json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "id", "queued_1", "customer_id", "cust_001", "subject",
			       "Charged twice this month", "content", "My card was charged twice for one invoice.");
	json_t *ticket = NULL, *errors = NULL, *out = NULL;
	struct service *s;
	bool created;

	assert_int_equal(support_ticket_validate(in, fl_wall_us(), &ticket, &errors), SUPPORT_OK);
	assert_int_equal(store_ticket_intake(t->st, ticket, "triage", NULL, &out, &created), STORE_OK);
	s = start(&o);
	assert_null(service_server(s));
	assert_int_equal(service_port(s), 0);
	assert_true(service_jobs_wait(s, 1, 60000));
	assert_string_not_equal(status_of(t, "queued_1"), "new");
	service_free(s);
	json_decref(in);
	json_decref(ticket);
	json_decref(errors);
	json_decref(out);
}

/* serve: a signed webhook, triage by the workers, the event delivered, the figures on /metrics */
static void test_a_ticket_end_to_end(void **state)
{
	struct t *t = *state;
	struct service_options o = options(t, SERVICE_SERVE);
	struct http_receiver *rx = http_receiver_start();
	char *hook = http_receiver_url(rx, "/events"), *m;
	json_t *reqs, *event;
	struct http_resp r;
	struct service *s;

	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", hook);
	o.notify.settings.webhook_secret = "whsec_out";
	s = start(&o);
	assert_int_equal(webhook(s, "e2e_1", "Cannot reset my password",
				 "Hi, the password reset email never arrives. This is urgent for work."), 202);
	assert_true(service_jobs_wait(s, 1, 60000));
	call(s, "GET", "/api/v1/tickets/e2e_1", t->token, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_not_equal(fl_json_str(r.json, "status", "new"), "new");
	assert_true(json_array_size(json_object_get(r.json, "trace")) >= 5);
	http_resp_release(&r);
	/* the finish queued ticket.created; the dispatcher, woken by the worker, delivered it */
	assert_true(http_receiver_wait(rx, 1, 30000) >= 1);
	reqs = http_receiver_requests(rx);
	event = json_loads(fl_json_str(json_array_get(reqs, 0), "body", ""), 0, NULL);
	assert_string_equal(fl_json_str(event, "event", ""), "ticket.created");
	assert_string_equal(fl_json_str(json_object_get(event, "ticket"), "id", ""), "e2e_1");
	json_decref(event);
	json_decref(reqs);
	m = metrics(s);
	assert_non_null(strstr(m, "frontline_jobs_processed_total{result=\"done\"} 1"));
	assert_non_null(strstr(m, "frontline_jobs{status=\"done\"} 1"));
	assert_non_null(strstr(m, "frontline_tickets{dimension=\"status\",value=\""));
	free(m);
	assert_int_equal(service_stop(s), 0);
	service_free(s);
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	http_receiver_stop(rx);
	free(hook);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_free_null_and_stop_before_start, setup, teardown),
	cmocka_unit_test_setup_teardown(test_start_stop_free_are_safe_to_repeat, setup, teardown),
	cmocka_unit_test_setup_teardown(test_bad_options_say_what_cannot_start, setup, teardown),
	cmocka_unit_test_setup_teardown(test_without_workers_tickets_wait_in_the_queue, setup, teardown),
	cmocka_unit_test_setup_teardown(test_worker_only_triages_the_queue, setup, teardown),
	cmocka_unit_test_setup_teardown(test_a_ticket_end_to_end, setup, teardown),
};

int main(void)
{
	char *err = NULL;
	int failed;

	fl_config_load(NULL, false, &err);
	free(err);
	fl_log_setup(getenv("TEST_DEBUG") ? FL_LOG_DEBUG : FL_LOG_ERROR, NULL, NULL);
	fl_curl_global_init();
	failed = backend_run_all("service", tests, FL_ARRAY_SIZE(tests), group_sqlite, group_postgres, group_done);
	fl_config_free();
	curl_global_cleanup();
	return failed ? 1 : 0;
}
