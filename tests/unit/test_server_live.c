/*
 * The live stream and presence over real HTTP (server_fixture.h): events
 * of the audit log with their names, ids and data, resuming after
 * Last-Event-ID (from the ring and from the store), heartbeats, a change
 * made through another replica, presence (said, listed, left, expired),
 * the cap on streams, and a stop that does not wait for open streams.
 */
#include "test_helpers.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_fixture.h"

/* GET /api/v1/stream on port with extra header lines. */
static void sse_open(struct fx_sse *s, unsigned port, const char *headers)
{
	fx_sse_open(s, port, "/api/v1/stream", headers);
}

static char *bearer(const char *token)
{
	return fl_asprintf("Authorization: Bearer %s\r\n", token);
}

#define WAIT_FOR FX_SSE_WAIT

static void post(struct fx *f, const char *path, const char *body, long status)
{
	struct http_resp r;

	fx_call(f, "POST", path, f->agent, body, &r);
	fx_expect(&r, status, NULL);
	http_resp_release(&r);
}

static void test_stream_sends_ticket_events_with_ids(void **state)
{
	struct fx *f = *state;
	char *h = bearer(f->agent);
	struct fx_sse s;
	struct http_resp r;
	const char *data;
	json_t *d;

	fx_start(f, 0, false);
	sse_open(&s, service_port(f->svc), h);
	WAIT_FOR(&s, "retry: ");
	assert_non_null(strstr(s.text.buf, "200 OK"));
	assert_non_null(strstr(s.text.buf, "Content-Type: text/event-stream"));
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("l1", "cust_001", "Login", "I cannot log in."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	WAIT_FOR(&s, "event: ticket.created\n");
	post(f, "/api/v1/tickets/l1/notes", "{\"body\":\"looking\"}", 201);
	WAIT_FOR(&s, "event: ticket.noted\n");
	post(f, "/api/v1/tickets/l1/assign", "{\"assignee\":\"ann@example.com\"}", 200);
	WAIT_FOR(&s, "event: ticket.assigned\n");
	post(f, "/api/v1/tickets/l1/replies", "{\"body\":\"Try again now.\"}", 201);
	WAIT_FOR(&s, "event: ticket.replied\n");
	WAIT_FOR(&s, "event: ticket.status_changed\n");
	/* the data of one: the ticket, its version, who, when */
	data = strstr(strstr(s.text.buf, "event: ticket.assigned\n"), "data: ") + 6;
	d = json_loadb(data, strcspn(data, "\n"), 0, NULL);
	assert_non_null(d);
	assert_string_equal(fl_json_str(d, "ticket_id", ""), "l1");
	assert_int_equal(fl_json_int(d, "number", 0), 1);
	assert_int_equal(fl_json_int(d, "version", 0), 2);
	assert_true(fl_str_has_prefix(fl_json_str(d, "actor", ""), "agent:"));
	assert_non_null(fl_json_str(d, "at", NULL));
	json_decref(d);
	/* each with the events table's id */
	assert_non_null(strstr(s.text.buf, "id: 1\nevent: ticket.created\n"));
	assert_non_null(strstr(s.text.buf, "id: 2\nevent: ticket.noted\n"));
	fx_sse_close(&s);
	free(h);
}

static void test_stream_resumes_after_last_event_id(void **state)
{
	struct fx *f = *state;
	char *h = bearer(f->agent), *h2;
	struct fx_sse s;
	int i;

	/* made before the server starts: not in its ring, so from the store */
	for (i = 0; i < 3; i++) {
		char id[8];
		json_t *t;

		snprintf(id, sizeof(id), "r%d", i);
		t = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "customer_id", "c1", "subject", "Hello", "content",
			      "The reset email never arrives.");
		assert_int_equal(store_ticket_intake(f->st, t, NULL, NULL, NULL, NULL), STORE_OK);
		json_decref(t);
	}
	fx_start(f, 0, false);
	h2 = fl_asprintf("%sLast-Event-ID: 1\r\n", h);
	sse_open(&s, service_port(f->svc), h2);
	WAIT_FOR(&s, "id: 3\n");
	assert_null(strstr(s.text.buf, "id: 1\n"));
	assert_non_null(strstr(s.text.buf, "id: 2\n"));
	fx_sse_close(&s);
	free(h2);
	/* EventSource's reconnect form: the query argument; and from the ring */
	post(f, "/api/v1/tickets/r0/notes", "{\"body\":\"seen\"}", 201);
	{
		struct fx_sse live;

		sse_open(&live, service_port(f->svc), h);
		/* registered once its first line is out: what is posted after reaches it */
		WAIT_FOR(&live, "retry: ");
		post(f, "/api/v1/tickets/r1/notes", "{\"body\":\"seen\"}", 201);
		WAIT_FOR(&live, "id: 5\n");
		fx_sse_close(&live);
	}
	{
		char *req = fl_asprintf("GET /api/v1/stream?last_event_id=3 HTTP/1.1\r\nHost: x\r\n%s\r\n", h);
		struct fx_sse q = { -1, FL_BUF_INIT, false };

		q.fd = http_raw_connect(service_port(f->svc));
		assert_int_equal(http_raw_send(q.fd, req, strlen(req)), 0);
		WAIT_FOR(&q, "id: 5\n");
		assert_non_null(strstr(q.text.buf, "id: 4\n"));
		assert_null(strstr(q.text.buf, "id: 3\n"));
		fx_sse_close(&q);
		free(req);
	}
	{
		char *bad = fl_asprintf("%sLast-Event-ID: yesterday\r\n", h);
		struct fx_sse b;

		sse_open(&b, service_port(f->svc), bad);
		WAIT_FOR(&b, "400 Bad Request");
		fx_sse_close(&b);
		free(bad);
	}
	free(h);
}

static void test_stream_sends_heartbeats_and_needs_an_agent(void **state)
{
	struct fx *f = *state;
	char *h = bearer(f->agent), *hi = bearer(f->integ);
	struct fx_sse s;

	fl_config_set("FRONTLINE_STREAM_HEARTBEAT", "1");
	fx_start(f, 0, false);
	fl_config_set("FRONTLINE_STREAM_HEARTBEAT", "15");
	sse_open(&s, service_port(f->svc), h);
	WAIT_FOR(&s, ": heartbeat\n\n");
	fx_sse_close(&s);
	sse_open(&s, service_port(f->svc), hi);
	WAIT_FOR(&s, "403 Forbidden");
	fx_sse_close(&s);
	sse_open(&s, service_port(f->svc), NULL);
	WAIT_FOR(&s, "401 Unauthorized");
	fx_sse_close(&s);
	free(h);
	free(hi);
}

static void test_stream_sees_changes_made_through_another_replica(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, 0, SERVICE_HTTP);
	struct service *other = NULL;
	char *h = bearer(f->agent), *err = NULL, *url;
	struct http_resp r;
	struct fx_sse s;

	fx_start(f, 0, false);
	if (service_new(&o, &other, &err) != SERVICE_OK || service_start(other, &err) != SERVICE_OK)
		fail_msg("the second replica: %s", err);
	sse_open(&s, service_port(f->svc), h);
	WAIT_FOR(&s, "retry: ");
	url = fl_asprintf("http://127.0.0.1:%u/api/v1/tickets", service_port(other));
	{
		struct http_req req = { "POST", url, f->integ, NULL,
					fx_ticket_body("x1", "cust_001", "Login", "I cannot log in."), 0, NULL, 0 };

		http_do(&req, &r);
	}
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* read from the store by this replica's poller (FRONTLINE_STREAM_POLL_MS) */
	WAIT_FOR(&s, "event: ticket.created\n");
	assert_non_null(strstr(s.text.buf, "\"ticket_id\":\"x1\""));
	fx_sse_close(&s);
	service_free(other);
	free(url);
	free(h);
}

/* Presence last said two minutes ago, behind the server's back. */
static void age_presence(struct fx *f)
{
	char *sql = fl_asprintf("UPDATE presence SET updated_at = %lld",
				(long long)(fl_wall_us() - 120 * INT64_C(1000000)));

	fx_sql(f, sql);
	free(sql);
}

static void test_presence_is_said_listed_and_expires(void **state)
{
	struct fx *f = *state;
	struct fx_session ann, bob;
	struct http_resp r;
	struct fx_sse s;
	char *cookie;
	json_t *p;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_make_user(f, "bob@example.com", "agent", "bob password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	fx_sign_in(f, "bob@example.com", "bob password", &bob);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("p1", "cust_001", "Login", "I cannot log in."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* bob watches the stream with his cookie (a GET: no CSRF token) */
	cookie = fl_asprintf("Cookie: %s\r\n", bob.cookie);
	sse_open(&s, service_port(f->svc), cookie);
	WAIT_FOR(&s, "retry: ");
	fx_call_session(f, "POST", "/api/v1/tickets/p1/presence", &ann, true, "{\"state\":\"viewing\"}", &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&s, "event: presence\n");
	WAIT_FOR(&s, "\"state\":\"viewing\"");
	assert_non_null(strstr(s.text.buf, "\"name\":\"ann@example.com\""));
	fx_call_session(f, "POST", "/api/v1/tickets/p1/presence", &ann, true, "{\"state\":\"replying\"}", &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&s, "\"state\":\"replying\"");
	fx_call_session(f, "GET", "/api/v1/tickets/p1/presence", &bob, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "presence")), 1);
	p = json_array_get(json_object_get(r.json, "presence"), 0);
	assert_string_equal(fl_json_str(p, "state", ""), "replying");
	assert_int_equal(fl_json_int(json_object_get(p, "user"), "id", 0), ann.user_id);
	http_resp_release(&r);
	/* not repeated for a minute: gone, for the list and the stream */
	age_presence(f);
	WAIT_FOR(&s, "\"state\":\"left\"");
	fx_call_session(f, "GET", "/api/v1/tickets/p1/presence", &bob, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "presence")), 0);
	http_resp_release(&r);
	/* tokens have no presence; states are checked; tickets must exist */
	fx_call(f, "POST", "/api/v1/tickets/p1/presence", f->agent, "{\"state\":\"viewing\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/p1/presence", &ann, true, "{\"state\":\"typing\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/nope/presence", &ann, true, "{\"state\":\"viewing\"}", &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_sse_close(&s);
	free(cookie);
}

static void test_stream_cap_and_stop_with_open_streams(void **state)
{
	struct fx *f = *state;
	char *h = bearer(f->agent);
	struct fx_sse a, b;
	int64_t t0;

	fl_config_set("FRONTLINE_STREAM_MAX", "2");
	fx_start(f, 0, false);
	fl_config_set("FRONTLINE_STREAM_MAX", "3072");
	sse_open(&a, service_port(f->svc), h);
	WAIT_FOR(&a, "retry: ");
	sse_open(&b, service_port(f->svc), h);
	WAIT_FOR(&b, "retry: ");
	{
		struct fx_sse c;

		sse_open(&c, service_port(f->svc), h);
		WAIT_FOR(&c, "503 Service Unavailable");
		WAIT_FOR(&c, "FRONTLINE_STREAM_MAX");
		fx_sse_close(&c);
	}
	/* a client that never reads does not hold the stop either */
	t0 = fl_mono_us();
	fx_stop_server(f);
	assert_true(fl_mono_us() - t0 < 3 * INT64_C(1000000));
	/* the stream ended: the chunked body's end, then the connection closes */
	assert_true(fx_sse_wait(&a, "\r\n0\r\n\r\n", 2000) || a.closed);
	fx_sse_close(&a);
	fx_sse_close(&b);
	free(h);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_stream_sends_ticket_events_with_ids),
	FX_TEST(test_stream_resumes_after_last_event_id),
	FX_TEST(test_stream_sends_heartbeats_and_needs_an_agent),
	FX_TEST(test_stream_sees_changes_made_through_another_replica),
	FX_TEST(test_presence_is_said_listed_and_expires),
	FX_TEST(test_stream_cap_and_stop_with_open_streams),
};

int main(void)
{
	return FX_RUN("server_live", tests) ? 1 : 0;
}
