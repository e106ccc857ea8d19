/*
 * server_fixture: what the HTTP service's test programs share
 * (test_server_tickets, test_server_http, test_service). Their tests speak real HTTP on
 * 127.0.0.1 (libcurl, tests/harness/http_client.h) to the service
 * (src/service: the same object `frontline serve` runs) started on a free
 * port, against a real store: SQLite in a temporary directory, then
 * PostgreSQL on a private server of the program's own (pg_harness, a Unix
 * socket in its own directory). Each test gets a fresh database with the KB
 * and the seed customers loaded and three tokens made (admin, agent,
 * integration); the analyzer is loaded once per backend group.
 *
 * A program includes this header after test_helpers.h, lists its tests with
 * FX_TEST and runs them with FX_RUN:
 *
 *   static const struct CMUnitTest tests[] = { FX_TEST(test_x), ... };
 *   int main(void) { return FX_RUN("server_x", tests) ? 1 : 0; }
 *
 * Programs running in parallel do not meet: ports are the kernel's choice
 * (127.0.0.1:0), directories come from mkdtemp.
 */
#ifndef FL_SERVER_FIXTURE_H
#define FL_SERVER_FIXTURE_H

#include "backends.h"
#include "http_client.h"
#include "kb/kb.h"
#include "notify/notify.h"
#include "pg_harness.h"
#include "server/server.h"
#include "service/service.h"
#include "store/store.h"
#include "support/support.h"

/* The secret the server checks webhooks against (fx_webhook signs with it). */
#define FX_WEBHOOK_SECRET "whsec_test"

/* One backend's group: static, lives for the whole program. */
struct fx_group {
	const char *backend;                 /* "sqlite" or "postgres" */
	struct pg_harness pg;                /* the server (postgres group only) */
	struct support_analyzer *analyzer;   /* the shipped models, for the workers */
};

/* One test's state, made by fx_setup and freed by fx_teardown. */
struct fx {
	struct fx_group *g;
	char *dir, *url;                     /* dir: SQLite's temporary directory (NULL on PostgreSQL) */
	struct store *st;                    /* the test's own connection to url */
	struct kb *kb;
	struct service *svc;                 /* NULL until fx_start */
	struct server *srv;                  /* its HTTP server (borrowed), NULL until fx_start */
	/* a test may set this before fx_start: the service then runs a dispatcher with these */
	const struct notify_options *notify;
	char base[64];                       /* "http://127.0.0.1:<port>" once started */
	char admin[64], agent[64], integ[64];   /* the three tokens */
	int64_t integ_id;                    /* the integration token's id */
};

/*
 * fx_group_sqlite, fx_group_postgres, fx_group_done, fx_setup, fx_teardown,
 * fx_run, FX_TEST and FX_RUN: the fixture interface of backends.h. Here
 * fx_run loads the configuration, logs errors only (everything with
 * TEST_DEBUG set), sets up libcurl, and runs the tests on SQLite, then on
 * PostgreSQL.
 */

/* A new token of role in the store: the token in out, its row id in *id (id may be NULL). */
void fx_make_token(struct fx *f, const char *role, char out[64], int64_t *id);

/*
 * The service options the fixture starts: parts (enum service_part) on
 * f's store, with the group's analyzer and f's KB, HTTP on a free port with
 * limits small enough to test (rate requests per second per token in
 * bursts of 3; 0: the configured limit and burst, below 0: no limit; 64 KiB
 * bodies, 8 KiB headers, 1 s timeouts, no limit on unknown tokens, the
 * webhook secret), two workers
 * polling every 50 ms with a 1 ms first backoff, a dispatcher polling every
 * 50 ms with f->notify's settings when set.
 */
struct service_options fx_options(struct fx *f, double rate, unsigned parts);
/* Starts the service o describes as f->svc (f->srv, f->base set); fails the test if it cannot start. */
void fx_start_service(struct fx *f, const struct service_options *o);
/*
 * fx_start_service(fx_options(...)) for HTTP, and two workers when asked,
 * and a dispatcher when f->notify is set.
 */
void fx_start(struct fx *f, double rate, bool workers);
/*
 * Waits (up to a minute) until the workers have finished or failed n jobs
 * in all; fails the test if not. For tests about failing jobs: a test that
 * needs its tickets triaged waits with fx_wait_done, since a failed attempt
 * (retried later) counts here.
 */
void fx_wait_jobs(struct fx *f, uint64_t n);
/* Waits (up to a minute) until the workers have finished n jobs; fails the test if not. */
void fx_wait_done(struct fx *f, uint64_t n);
/* Stops the service: the server, its workers and the dispatcher (idempotent; teardown does it too). */
void fx_stop_server(struct fx *f);

/*
 * method path (with token as bearer, body as JSON when not NULL); the answer
 * in *out, which the caller releases (http_resp_release). Fails the test if
 * the request gets no answer.
 */
void fx_call(struct fx *f, const char *method, const char *path, const char *token, const char *body,
	     struct http_resp *out);
/* POST /webhooks/tickets signed now (or at ts when not 0); idem: an Idempotency-Key or NULL. */
void fx_webhook(struct fx *f, const char *body, int64_t ts, const char *idem, struct http_resp *out);
/* A person signed in to the console: the cookie to send and the session's CSRF token. */
struct fx_session {
	char cookie[96];                     /* "fl_session=fls_..." */
	char csrf[72];
	int64_t user_id;
};

/* A user of role with password in the store (FRONTLINE_PASSWORD_COST is "min" in these tests); its id. */
int64_t fx_make_user(struct fx *f, const char *email, const char *role, const char *password);
/* POST /api/v1/session: fails the test unless it answers 200; fills s. */
void fx_sign_in(struct fx *f, const char *email, const char *password, struct fx_session *s);
/*
 * method path with s's cookie (and its CSRF token when csrf is true), body
 * as JSON when not NULL; the answer in *out (http_resp_release).
 */
void fx_call_session(struct fx *f, const char *method, const char *path, const struct fx_session *s, bool csrf,
		     const char *body, struct http_resp *out);

/* The outbox items (the first 100) whose target has to in it. */
size_t fx_outbox_to(struct fx *f, const char *to);
/* Runs sql on f's database behind the service's back (SQLite or PostgreSQL alike); fails the test if it fails. */
void fx_sql(struct fx *f, const char *sql);

/* A live stream read on a raw socket (Server-Sent Events): its socket and everything read so far. */
struct fx_sse {
	int fd;
	struct fl_buf text;
	bool closed;
};

/* GET path on port with extra header lines ("Name: value\r\n"...); fails the test if it cannot connect. */
void fx_sse_open(struct fx_sse *s, unsigned port, const char *path, const char *headers);
/* Reads until the text holds needle or timeout_ms passes; whether it came. */
bool fx_sse_wait(struct fx_sse *s, const char *needle, int timeout_ms);
void fx_sse_close(struct fx_sse *s);
/* Fails the test unless the stream has needle within 5 s. */
#define FX_SSE_WAIT(s, needle) \
	do { \
		if (!fx_sse_wait(s, needle, 5000)) \
			fail_msg("the stream has no '%s' after 5 s:\n%s", needle, (s)->text.buf); \
	} while (0)

/* Fails the test unless r has status (and, when code is not NULL, that error code). */
void fx_expect(struct http_resp *r, long status, const char *code);
/*
 * A ticket's JSON (no "id" when id is NULL) in a static buffer, valid until
 * the next call: one thread only.
 */
const char *fx_ticket_body(const char *id, const char *customer, const char *subject, const char *content);

#endif
