/*
 * http_client: the HTTP client side of the server tests, over libcurl, plus
 * a raw socket for what a well-behaved client library will not send
 * (stalled requests, oversized request lines).
 */
#ifndef FL_HTTP_CLIENT_H
#define FL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct http_resp {
	long status;          /* 0: the request failed at the transport level */
	char *body;           /* NUL-terminated */
	size_t len;
	json_t *json;         /* the body parsed, when it is JSON */
	char *headers;        /* raw response headers */
	char *error;          /* transport error */
};

struct http_req {
	const char *method;   /* NULL: GET */
	const char *url;
	const char *token;    /* Authorization: Bearer, or NULL */
	const char *content_type;   /* NULL: application/json when body is set */
	const char *body;
	size_t len;           /* 0: strlen(body) */
	const char *const *headers;  /* extra "Name: value" lines, NULL-terminated, or NULL */
	long timeout_ms;      /* 0: 10000 */
};

/* Sends req; the response's fields are owned by resp (http_resp_release). */
void http_do(const struct http_req *req, struct http_resp *resp);
void http_resp_release(struct http_resp *resp);
/* A response header's value (case-insensitive name), or NULL. Caller frees. */
char *http_resp_header(const struct http_resp *resp, const char *name);
/* The "error.code" of a JSON error body, or "". */
const char *http_error_code(const struct http_resp *resp);

/*
 * A raw connection to 127.0.0.1:port: sends data (may be partial) and
 * returns the fd, or -1.
 */
int http_raw_connect(unsigned port);
/*
 * The same from a given local address (e.g. "127.0.0.2": every 127.x.y.z
 * is the loopback), so that a test can be two clients; -1 on failure.
 */
int http_raw_connect_from(unsigned port, const char *source);
/*
 * Whether the peer has closed fd (or reset it) within timeout_ms (at least
 * 1 to look at all); what arrived meanwhile is read and dropped.
 */
bool http_raw_closed(int fd, int timeout_ms);
/* Sends everything; 0 or -1. */
int http_raw_send(int fd, const void *data, size_t len);
/*
 * Reads until the peer closes or timeout_ms passes; returns what arrived
 * (caller frees) and *closed whether the peer closed the connection.
 */
char *http_raw_read(int fd, int timeout_ms, bool *closed);
/*
 * Reads until one whole answer is in (its headers and the body its
 * Content-Length or chunked coding announces), the peer closes, or
 * timeout_ms passes; returns what arrived (caller frees) and *closed
 * whether the peer closed. For an answer on a connection the server keeps
 * open: it returns as soon as the answer is in, so the deadline can be
 * generous without slowing the test.
 */
char *http_raw_read_answer(int fd, int timeout_ms, bool *closed);

#endif
