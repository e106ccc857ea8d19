/*
 * The HTTP service against clients that misbehave on the wire (issue 14),
 * over raw sockets on 127.0.0.1 against a real store on every backend
 * (server_fixture.h): request framing refused and closed (RFC 9112
 * section 6.3), an oversized chunked body answered 413 rather than reset,
 * slow clients cut off by a total deadline while /healthz keeps answering,
 * a webhook's signature headers checked before its body, and bodies held
 * back on more connections than there are store connections, with health,
 * other requests and the service's stop unaffected.
 *
 * Each test was written to fail against the server as the review found it.
 */
#include "test_helpers.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_fixture.h"
#include "server/server_int.h"

/*
 * Sends request on a new connection and reads for up to ms: the answer, and
 * whether the server closed. With until_close, everything up to the close
 * (the server must close: what it sends meanwhile is all in the answer);
 * else up to the first whole answer. Either way the read ends with what it
 * waits for, so ms is a generous bound rather than a time the server must
 * keep under load.
 */
static char *exchange(struct fx *f, const char *request, bool until_close, int ms, bool *closed)
{
	int fd = http_raw_connect(server_port(f->srv));
	char *out;

	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, request, strlen(request)), 0);
	out = until_close ? http_raw_read(fd, ms, closed) : http_raw_read_answer(fd, ms, closed);
	close(fd);
	return out;
}

/* How many HTTP status lines out holds. */
static int answers(const char *out)
{
	int n = 0;

	for (; (out = strstr(out, "HTTP/1.1 ")); out++)
		n++;
	return n;
}

/* ---- point 6: framing ---- */

static void test_request_framing_is_refused_and_closed(void **state)
{
	struct fx *f = *state;
	const char *body = "{\"customer_id\":\"c1\",\"subject\":\"Hello\",\"content\":\"Some content here please.\"}";
	size_t n = strlen(body);
	struct {
		const char *what, *field;
		char *headers;
	} cases[] = {
		{ "two lengths", "Content-Length", fl_asprintf("Content-Length: %zu\r\nContent-Length: 5\r\n", n) },
		{ "length and chunks", "Transfer-Encoding",
		  fl_asprintf("Content-Length: %zu\r\nTransfer-Encoding: chunked\r\n", n) },
		{ "an unknown coding", "Transfer-Encoding", fl_strdup("Transfer-Encoding: gzip\r\n") },
		{ "a coding before chunked", "Transfer-Encoding", fl_strdup("Transfer-Encoding: gzip, chunked\r\n") },
		/* libmicrohttpd refuses this one itself (its own 400) */
		{ "a length that is no number", "400", fl_asprintf("Content-Length: %zux\r\n", n) },
	};
	size_t i;
	bool closed;
	char *out, *req;

	fx_start(f, -1, false);
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		char *headers = cases[i].headers;

		/* a second request follows, as a smuggler would hide it */
		req = fl_asprintf("POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
				  "Content-Type: application/json\r\n%s\r\n%s"
				  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", f->integ, headers, body);
		out = exchange(f, req, true, 30000, &closed);
		/* (libmicrohttpd's own 400 comes with its status line twice: not a second answer) */
		if (!strstr(out, "HTTP/1.1 400") || !closed || strstr(out, "HTTP/1.1 200") ||
		    (strcmp(cases[i].field, "400") && answers(out) != 1) || !strstr(out, cases[i].field))
			fail_msg("%s: expected one 400 naming %s and a close, got (closed %d): %s", cases[i].what,
				 cases[i].field, closed, out);
		if (strcmp(cases[i].field, "400"))
			assert_non_null(strstr(out, "\"code\":\"bad_request\""));
		free(out);
		free(req);
		free(headers);
	}
	/* an encoded NUL or "/" inside a path segment */
	out = exchange(f, "GET /api/v1/tickets/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", false, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 400") || !strstr(out, "bad_request"))
		fail_msg("%%00: %s", out);
	free(out);
	out = exchange(f, "GET /api/v1/tickets/a%2fb HTTP/1.1\r\nHost: x\r\n\r\n", false, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 400") || !strstr(out, "bad_request"))
		fail_msg("%%2F: %s", out);
	free(out);
	/* %2F after the path, in the query, is fine */
	req = fl_asprintf("GET /api/v1/tickets?q=a%%2Fb HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
			  f->agent);
	out = exchange(f, req, false, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 200"))
		fail_msg("a query with %%2F: %s", out);
	free(out);
	free(req);
	/* a garbage request line gets a 400 from libmicrohttpd */
	out = exchange(f, "HELLO /\r\n\r\n", true, 30000, &closed);
	assert_non_null(strstr(out, "HTTP/1.1 400"));
	assert_true(closed);
	free(out);
	/* and the server serves on */
	out = exchange(f, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", false, 30000, &closed);
	assert_non_null(strstr(out, "HTTP/1.1 200"));
	free(out);
}

static void test_an_oversized_chunked_body_gets_a_413_not_a_reset(void **state)
{
	struct fx *f = *state;
	const size_t total = 4 << 20;   /* 64 times the fixture's 64 KiB limit */
	char chunk[8192 + 16], *head, *out;
	size_t sent = 0;
	int fd;
	bool closed;

	memset(chunk, 'a', sizeof(chunk));
	fx_start(f, -1, false);
	fd = http_raw_connect(server_port(f->srv));
	assert_true(fd >= 0);
	head = fl_asprintf("POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", f->integ);
	assert_int_equal(http_raw_send(fd, head, strlen(head)), 0);
	while (sent < total) {
		char line[16];

		snprintf(line, sizeof(line), "%x\r\n", 8192);
		if (http_raw_send(fd, line, strlen(line)) || http_raw_send(fd, chunk, 8192) || http_raw_send(fd, "\r\n", 2))
			fail_msg("the server cut the upload off after %zu bytes (errno %d)", sent, errno);
		sent += 8192;
	}
	assert_int_equal(http_raw_send(fd, "0\r\n\r\n", 5), 0);
	out = http_raw_read_answer(fd, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 413") || !strstr(out, "payload_too_large"))
		fail_msg("expected a 413 after %zu bytes, got: %s", sent, out);
	free(out);
	free(head);
	close(fd);
}

/* ---- point 4: slow clients ---- */

/* Starts the service with HTTP limits for the slow-client tests. */
static void start_limited(struct fx *f, unsigned request_timeout_s, unsigned per_ip)
{
	struct service_options o = fx_options(f, -1, SERVICE_HTTP);

	o.http.timeout_s = 30;             /* idle: not what these tests are about */
	o.http.request_timeout_s = request_timeout_s;
	o.http.per_ip_connections = per_ip;
	o.http.max_connections = 64;
	fx_start_service(f, &o);
}

static void test_slow_clients_are_cut_off_and_health_answers(void **state)
{
	struct fx *f = *state;
	enum { HELD = 4 };
	int fds[HELD + 1], i, open_ = HELD;
	int64_t start, closed_at[HELD] = { 0 };
	char *body_head;
	struct http_resp r;

	start_limited(f, 3, HELD);
	/* one address holds its maximum: two trickle headers, two a body */
	body_head = fl_asprintf("POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
				"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", f->integ);
	for (i = 0; i < HELD; i++) {
		fds[i] = http_raw_connect_from(server_port(f->srv), "127.0.0.2");
		assert_true(fds[i] >= 0);
		if (i < 2)
			assert_int_equal(http_raw_send(fds[i], "GET /healthz HTTP/1.1\r\nX-A: ", 28), 0);
		else
			assert_int_equal(http_raw_send(fds[i], body_head, strlen(body_head)), 0);
	}
	free(body_head);
	/* one more from that address is refused at once */
	fds[HELD] = http_raw_connect_from(server_port(f->srv), "127.0.0.2");
	if (fds[HELD] >= 0) {
		http_raw_send(fds[HELD], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34);
		assert_true(http_raw_closed(fds[HELD], 30000));   /* at once; the bound is for a loaded machine */
		close(fds[HELD]);
	}
	/* health answers the others meanwhile */
	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* keep trickling, a byte each 300 ms: never idle, yet cut off after 3 s (waited for up to 30 s) */
	start = fl_mono_us();
	while (open_ && fl_mono_us() - start < 30 * INT64_C(1000000)) {
		for (i = 0; i < HELD; i++) {
			if (closed_at[i])
				continue;
			if (http_raw_closed(fds[i], 1) || http_raw_send(fds[i], "a", 1)) {
				closed_at[i] = fl_mono_us() - start;
				open_--;
			}
		}
		fl_sleep_us(300000);
	}
	for (i = 0; i < HELD; i++) {
		if (!closed_at[i])
			fail_msg("a trickling connection (%d) was still open after 30 s", i);
		close(fds[i]);
	}
	fx_call(f, "GET", "/healthz", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* the metric counts them */
	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	assert_non_null(strstr(r.body, "frontline_http_slow_requests_total 4"));
	http_resp_release(&r);
}

static void test_a_webhook_signature_is_checked_before_its_body(void **state)
{
	struct fx *f = *state;
	char *req, *out;
	bool closed;
	int fd;

	fx_start(f, -1, false);
	/* a stale timestamp: refused without waiting for the 50,000 bytes announced */
	req = fl_asprintf("POST /webhooks/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			  "X-Frontline-Timestamp: %lld\r\nX-Frontline-Signature: sha256=%064d\r\n"
			  "Content-Length: 50000\r\n\r\n{", (long long)(fl_wall_us() / 1000000 - 3600), 0);
	fd = http_raw_connect(server_port(f->srv));
	assert_int_equal(http_raw_send(fd, req, strlen(req)), 0);
	out = http_raw_read_answer(fd, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 401") || !strstr(out, "window"))
		fail_msg("expected a 401 before the body, got: %s", out);
	free(out);
	free(req);
	close(fd);
	/* no signature at all */
	fd = http_raw_connect(server_port(f->srv));
	req = fl_strdup("POST /webhooks/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			"Content-Length: 50000\r\n\r\n{");
	assert_int_equal(http_raw_send(fd, req, strlen(req)), 0);
	out = http_raw_read_answer(fd, 30000, &closed);
	if (!strstr(out, "HTTP/1.1 401"))
		fail_msg("expected a 401 before the body, got: %s", out);
	free(out);
	free(req);
	close(fd);
}

/* ---- point 11: stalled bodies ---- */

struct stopper {
	struct fx *f;
	bool done;
};

static void *stop_service(void *arg)
{
	struct stopper *s = arg;

	fx_stop_server(s->f);
	s->done = true;
	return NULL;
}

static void test_stalled_bodies_hold_no_store_connection(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_HTTP);
	enum { STALLED = 10 };
	int fds[STALLED], i;
	struct stopper s = { f, false };
	struct http_resp r;
	struct timespec until;
	pthread_t t;
	int64_t t0;

	/* two HTTP threads: three store connections; idle and request timeouts well past the test */
	o.http.threads = 2;
	o.http.timeout_s = 120;
	o.http.request_timeout_s = 120;
	fx_start_service(f, &o);
	/* headers with a valid token, then the body held back (Python's http.client sends it apart) */
	for (i = 0; i < STALLED; i++) {
		char *req = i % 2
			? fl_asprintf("POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
				      "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{", f->integ)
			: fl_asprintf("POST /api/v1/tickets/T-000001/notes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
				      "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{", f->agent);

		fds[i] = http_raw_connect(server_port(f->srv));
		assert_true(fds[i] >= 0);
		assert_int_equal(http_raw_send(fds[i], req, strlen(req)), 0);
		free(req);
	}
	fl_sleep_us(300000);
	/* health, a read from the store and an intake still answer, at once */
	t0 = fl_mono_us();
	{
		char *url = fl_asprintf("%s/healthz", f->base);
		struct http_req req = { "GET", url, NULL, NULL, NULL, 0, NULL, 3000 };

		http_do(&req, &r);
		if (r.status != 200)
			fail_msg("/healthz with %d stalled bodies: %ld %s", STALLED, r.status, r.error ? r.error : r.body);
		http_resp_release(&r);
		free(url);
		url = fl_asprintf("%s/api/v1/tickets", f->base);
		req.url = url;
		req.token = f->agent;
		http_do(&req, &r);
		if (r.status != 200)
			fail_msg("a list with %d stalled bodies: %ld %s", STALLED, r.status, r.error ? r.error : r.body);
		http_resp_release(&r);
		req.method = "POST";
		req.token = f->integ;
		req.body = fx_ticket_body("alive_1", "cust_001", "Still here", "The server answers while bodies stall.");
		http_do(&req, &r);
		if (r.status != 201)
			fail_msg("an intake with %d stalled bodies: %ld %s", STALLED, r.status, r.error ? r.error : r.body);
		http_resp_release(&r);
		free(url);
	}
	assert_true(fl_mono_us() - t0 < 5 * INT64_C(1000000));
	/* the service stops (what SIGTERM does) with the bodies still held back */
	assert_int_equal(pthread_create(&t, NULL, stop_service, &s), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 15;
	if (pthread_timedjoin_np(t, NULL, &until))
		fail_msg("the service did not stop within 15 s with %d stalled bodies", STALLED);
	assert_true(s.done);
	for (i = 0; i < STALLED; i++)
		close(fds[i]);
}

/* The pool's wait has a deadline: a second borrower of a one-connection pool gets NULL, not a hang. */
static void test_waiting_for_a_store_connection_has_a_deadline(void **state)
{
	struct fx *f = *state;
	struct server_pool *p = NULL;
	struct store *a, *b;
	char *err = NULL;
	int64_t t0;

	assert_int_equal(server__pool_new(f->url, 1, &p, &err), SERVER_OK);
	a = server__pool_get(p, 100);
	assert_non_null(a);
	t0 = fl_mono_us();
	b = server__pool_get(p, 200);
	assert_null(b);
	assert_true(fl_mono_us() - t0 >= 190000);
	server__pool_put(p, a);
	b = server__pool_get(p, 100);
	assert_ptr_equal(a, b);
	server__pool_put(p, b);
	server__pool_free(p);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_request_framing_is_refused_and_closed),
	FX_TEST(test_an_oversized_chunked_body_gets_a_413_not_a_reset),
	FX_TEST(test_slow_clients_are_cut_off_and_health_answers),
	FX_TEST(test_a_webhook_signature_is_checked_before_its_body),
	FX_TEST(test_stalled_bodies_hold_no_store_connection),
	FX_TEST(test_waiting_for_a_store_connection_has_a_deadline),
};

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return FX_RUN("server_clients", tests) ? 1 : 0;
}
