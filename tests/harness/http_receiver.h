/*
 * http_receiver: a small HTTP server on 127.0.0.1 for tests that check what
 * Frontline sends (Slack incoming webhooks, signed outbound webhooks) or
 * that need a service to fetch from (a CRM, a help centre). It records
 * every request (method, path, target, lower-cased headers, body) and
 * answers with a status the test chooses (default 200), optionally with a
 * Retry-After header, or, for a target given a page, with that page's
 * status and JSON body. Tests wait for requests on a condition variable.
 */
#ifndef FL_HTTP_RECEIVER_H
#define FL_HTTP_RECEIVER_H

#include <stddef.h>
#include <jansson.h>

struct http_receiver;

/* Starts on a free port; NULL on failure (with a message on stderr). */
struct http_receiver *http_receiver_start(void);
void http_receiver_stop(struct http_receiver *r);
unsigned http_receiver_port(const struct http_receiver *r);
/* "http://127.0.0.1:<port><path>". Caller frees. */
char *http_receiver_url(const struct http_receiver *r, const char *path);
/*
 * A slow receiver: each following request is recorded when it arrives and
 * answered ms later (0: at once). Connections are served in parallel.
 */
void http_receiver_delay(struct http_receiver *r, int ms);
/* The status of the following answers, and their Retry-After (0: none). */
void http_receiver_respond(struct http_receiver *r, unsigned status, int retry_after);
/* Waits until at least n requests arrived or timeout_ms passed; returns how many did. */
size_t http_receiver_wait(struct http_receiver *r, size_t n, int timeout_ms);
/*
 * Requests whose target (path and query, as sent: "/a?page=2") is target
 * are answered, delay_ms later (0: at once), with status and body (copied)
 * as application/json, whatever http_receiver_respond and
 * http_receiver_delay say; the others as they say. Setting a target again
 * replaces its page.
 */
void http_receiver_page(struct http_receiver *r, const char *target, unsigned status, int delay_ms,
			const char *body);
/* The requests so far: [{method, path, target, headers {}, body}] (new reference). */
json_t *http_receiver_requests(struct http_receiver *r);
/* How many requests came so far. */
size_t http_receiver_count(struct http_receiver *r);
/* The last request as in http_receiver_requests (new reference), or NULL before the first. */
json_t *http_receiver_last(struct http_receiver *r);
/* Forgets the requests so far. */
void http_receiver_clear(struct http_receiver *r);

#endif
