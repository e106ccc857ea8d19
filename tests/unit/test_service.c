/*
 * The service object (src/service): its lifecycle (new, start, stop, free,
 * each safe to repeat; stop before start; free(NULL)), the parts that each
 * preset runs (serve, serve --no-workers, worker), and one ticket end to
 * end through it: a signed webhook over real HTTP, triage by its workers,
 * the ticket's event delivered by its dispatcher to a real receiver, the
 * figures on /metrics. The server family's fixture (server_fixture.h) gives
 * each test a fresh store with the KB, the seed customers and tokens, on
 * SQLite and then on a private PostgreSQL server.
 */
#include "test_helpers.h"

#include <stdio.h>

#include "server_fixture.h"
#include "http_receiver.h"

/* POST /webhooks/tickets, signed now, for a ticket of cust_002; returns the status. */
static long webhook(struct fx *f, const char *id, const char *subject, const char *content)
{
	struct http_resp r;
	long status;

	fx_webhook(f, fx_ticket_body(id, "cust_002", subject, content), 0, NULL, &r);
	status = r.status;
	http_resp_release(&r);
	return status;
}

/* The stored ticket's status ("" when absent); static buffer. */
static const char *status_of(struct fx *f, const char *id)
{
	static char buf[32];
	json_t *ticket = NULL;

	buf[0] = '\0';
	if (store_ticket_get(f->st, id, false, &ticket) == STORE_OK)
		fl_strlcpy(buf, fl_json_str(ticket, "status", ""), sizeof(buf));
	json_decref(ticket);
	return buf;
}

/* GET /metrics; caller frees. */
static char *metrics(struct fx *f)
{
	struct http_resp r;
	char *body;

	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	body = fl_strdup(r.body);
	http_resp_release(&r);
	return body;
}

static void test_free_null_and_stop_before_start(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_SERVE);
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
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_SERVE);
	struct http_resp r;
	unsigned port;
	char *err = NULL;

	fx_start_service(f, &o);
	port = service_port(f->svc);
	assert_true(port > 0);
	assert_int_equal(service_start(f->svc, &err), SERVICE_OK);   /* again: nothing more starts */
	assert_int_equal(service_port(f->svc), port);
	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	assert_int_equal(service_stop(f->svc), 0);                   /* no job was in flight */
	assert_true(server_draining(f->srv));
	assert_int_equal(service_stop(f->svc), 0);
	{
		char *url = fl_asprintf("%s/healthz", f->base);
		struct http_req req = { "GET", url, NULL, NULL, NULL, 0, NULL, 2000 };

		http_do(&req, &r);
		assert_int_equal(r.status, 0);                       /* closed at once: draining */
		http_resp_release(&r);
		free(url);
	}
	fx_stop_server(f);
	fx_stop_server(f);
}

static void test_bad_options_say_what_cannot_start(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_WORKER);
	struct service *s = NULL;
	char *err = NULL;

	o.analyzer = NULL;
	assert_int_equal(service_new(&o, &s, &err), SERVICE_EINVAL);
	assert_null(s);
	assert_string_equal(err, "cannot start the workers: workers need the analyzer's models");
	free(err);
	err = NULL;
	o = fx_options(f, -1, SERVICE_SERVE_NO_WORKERS);
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
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_SERVE_NO_WORKERS);
	uint64_t done = 1, failed = 1;
	char *m;

	o.analyzer = NULL;   /* a process that triages nothing does not load the models */
	fx_start_service(f, &o);
	assert_int_equal(webhook(f, "wait_1", "Cannot log in", "The password reset email never arrives at all."), 202);
	assert_false(service_jobs_wait(f->svc, 1, 10));
	service_jobs_stats(f->svc, &done, &failed);
	assert_int_equal(done, 0);
	assert_int_equal(failed, 0);
	fl_sleep_us(200000);
	assert_string_equal(status_of(f, "wait_1"), "new");
	m = metrics(f);
	assert_non_null(strstr(m, "frontline_jobs{status=\"queued\"} 1"));
	assert_null(strstr(m, "frontline_jobs_processed_total"));
	free(m);
}

/* frontline worker: no HTTP; the queue a server left is triaged */
static void test_worker_only_triages_the_queue(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_WORKER);
	json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "id", "queued_1", "customer_id", "cust_001", "subject",
			       "Charged twice this month", "content", "My card was charged twice for one invoice.");
	json_t *ticket = NULL, *errors = NULL, *out = NULL;
	bool created;

	assert_int_equal(support_ticket_validate(in, fl_wall_us(), &ticket, &errors), SUPPORT_OK);
	assert_int_equal(store_ticket_intake(f->st, ticket, "triage", NULL, &out, &created), STORE_OK);
	fx_start_service(f, &o);
	assert_null(f->srv);
	assert_int_equal(service_port(f->svc), 0);
	fx_wait_done(f, 1);
	assert_string_not_equal(status_of(f, "queued_1"), "new");
	json_decref(in);
	json_decref(ticket);
	json_decref(errors);
	json_decref(out);
}

/* serve: a signed webhook, triage by the workers, the event delivered, the figures on /metrics */
static void test_a_ticket_end_to_end(void **state)
{
	struct fx *f = *state;
	struct http_receiver *rx = http_receiver_start();
	struct notify_options no = { 0 };
	struct service_options o;
	char *hook = http_receiver_url(rx, "/events"), *m;
	json_t *reqs, *event;
	struct http_resp r;

	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", hook);
	no.settings.webhook_secret = "whsec_out";
	f->notify = &no;
	o = fx_options(f, -1, SERVICE_SERVE);
	fx_start_service(f, &o);
	assert_int_equal(webhook(f, "e2e_1", "Cannot reset my password",
				 "Hi, the password reset email never arrives. This is urgent for work."), 202);
	fx_wait_done(f, 1);
	fx_call(f, "GET", "/api/v1/tickets/e2e_1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_not_equal(fl_json_str(r.json, "status", "new"), "new");
	assert_true(json_array_size(json_object_get(r.json, "trace")) >= 5);
	http_resp_release(&r);
	/* the finish queued ticket.created; the dispatcher delivered it */
	assert_true(http_receiver_wait(rx, 1, 30000) >= 1);
	reqs = http_receiver_requests(rx);
	event = json_loads(fl_json_str(json_array_get(reqs, 0), "body", ""), 0, NULL);
	assert_string_equal(fl_json_str(event, "event", ""), "ticket.created");
	assert_string_equal(fl_json_str(json_object_get(event, "ticket"), "id", ""), "e2e_1");
	json_decref(event);
	json_decref(reqs);
	m = metrics(f);
	assert_non_null(strstr(m, "frontline_jobs_processed_total{result=\"done\"} 1"));
	assert_non_null(strstr(m, "frontline_jobs{status=\"done\"} 1"));
	assert_non_null(strstr(m, "frontline_tickets{dimension=\"status\",value=\""));
	free(m);
	assert_int_equal(service_stop(f->svc), 0);
	fx_stop_server(f);
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	http_receiver_stop(rx);
	free(hook);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_free_null_and_stop_before_start),
	FX_TEST(test_start_stop_free_are_safe_to_repeat),
	FX_TEST(test_bad_options_say_what_cannot_start),
	FX_TEST(test_without_workers_tickets_wait_in_the_queue),
	FX_TEST(test_worker_only_triages_the_queue),
	FX_TEST(test_a_ticket_end_to_end),
};

int main(void)
{
	return FX_RUN("service", tests) ? 1 : 0;
}
