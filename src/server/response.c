/*
 * Building responses. Every error leaves through server__error, which
 * writes {"error": {"code", "message", "field"}} (the stable code first,
 * h2o's send_error_generic in spirit); the helpers below it fix the status
 * and code for each kind of failure so that handlers cannot drift apart.
 * A handler answers once: a second answer is a bug, logged and ignored.
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"

static void verror(struct server_req *r, unsigned status, const char *code, const char *field,
		   json_t *details, const char *fmt, va_list ap) FL_PRINTF(6, 0);

static bool already(struct server_req *r)
{
	if (!r->responded)
		return false;
	fl_log(FL_LOG_ERROR, "server: second response to %s %s ignored (route %s)", r->method, r->path,
	       r->match.route ? r->match.route->path : "-");
	return true;
}

void server__reply_text(struct server_req *r, unsigned status, const char *ctype, const char *text,
			size_t len)
{
	if (already(r))
		return;
	r->responded = true;
	r->status = status;
	r->content_type = ctype;
	r->resp = fl_malloc(len + 1);
	memcpy(r->resp, text, len);
	r->resp[len] = '\0';
	r->resp_len = len;
}

void server__reply_json(struct server_req *r, unsigned status, json_t *body)
{
	char *text;

	if (already(r)) {
		json_decref(body);
		return;
	}
	if (!body)
		body = json_object();
	{
		struct fl_buf b;

		fl_buf_init(&b, 512);
		if (fl_json_encode(&b, body))
			fl_buf_adds(&b, "{}");
		text = fl_buf_detach(&b, NULL);
	}
	json_decref(body);
	r->responded = true;
	r->status = status;
	r->content_type = "application/json";
	r->resp = text;
	r->resp_len = strlen(text);
}

/* RFC 9110 token characters. */
static bool token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int server__add_header(struct server_req *r, const char *name, const char *value)
{
	const unsigned char *p;
	struct server_header *h;

	for (p = (const unsigned char *)name; *p && token_char(*p); p++)
		;
	if (*p || p == (const unsigned char *)name) {
		fl_log(FL_LOG_ERROR, "server: response header name refused (not a token) in %s %s", r->method,
		       r->path);
		return -1;
	}
	for (p = (const unsigned char *)value; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
			fl_log(FL_LOG_ERROR, "server: value of response header %s refused (control character) in %s %s",
			       name, r->method, r->path);
			return -1;
		}
	}
	r->headers = fl_reallocarray(r->headers, r->nheaders + 1, sizeof(*r->headers));
	h = &r->headers[r->nheaders++];
	h->name = fl_strdup(name);
	h->value = fl_strdup(value);
	return 0;
}

void server__headers_free(struct server_req *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static void verror(struct server_req *r, unsigned status, const char *code, const char *field,
		   json_t *details, const char *fmt, va_list ap)
{
	char *msg = fl_vasprintf(fmt, ap);
	json_t *err, *m;

	/* a message quoting client bytes may not be valid UTF-8: never fail on it */
	m = json_string(msg);
	if (!m)
		m = json_string("(message not shown: it quoted invalid UTF-8)");
	err = json_pack("{s:s, s:o, s:s?}", "code", code, "message", m, "field", field);
	if (!field)
		json_object_set_new(err, "field", json_null());
	if (details)
		json_object_set_new(err, "details", details);
	server__reply_json(r, status, json_pack("{s:o}", "error", err));
	free(msg);
}

void server__error(struct server_req *r, unsigned status, const char *code, const char *field,
		   json_t *details, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, status, code, field, details, fmt, ap);
	va_end(ap);
}

void server__bad_request(struct server_req *r, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, 400, "bad_request", field, NULL, fmt, ap);
	va_end(ap);
}

void server__unauthorized(struct server_req *r, const char *message)
{
	server__add_header(r, "WWW-Authenticate", "Bearer realm=\"frontline\"");
	server__error(r, 401, "unauthorized", NULL, NULL, "%s", message);
}

void server__forbidden(struct server_req *r, const char *message)
{
	server__error(r, 403, "forbidden", NULL, NULL, "%s", message);
}

void server__not_found(struct server_req *r, const char *what, const char *id)
{
	if (id)
		server__error(r, 404, "not_found", NULL, NULL, "%s '%s' not found", what, id);
	else
		server__error(r, 404, "not_found", NULL, NULL, "%s not found", what);
}

void server__conflict(struct server_req *r, json_t *current, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, 409, "conflict", NULL, current ? json_pack("{s:o}", "current", current) : NULL, fmt, ap);
	va_end(ap);
}

void server__too_large(struct server_req *r, size_t limit)
{
	r->close = true;
	server__error(r, 413, "payload_too_large", NULL, NULL,
		      "request body is larger than %zu bytes", limit);
}

void server__unsupported_type(struct server_req *r, const char *got)
{
	server__error(r, 415, "unsupported_media_type", NULL, NULL,
		      "expected Content-Type: application/json, got '%s'", got ? got : "(none)");
}

void server__unprocessable(struct server_req *r, const char *field, json_t *details,
			   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, 422, "validation_failed", field, details, fmt, ap);
	va_end(ap);
}

void server__rate_limited(struct server_req *r, int retry_after_s)
{
	server__rate_limited_by(r, retry_after_s, "too many requests for this token");
}

void server__rate_limited_by(struct server_req *r, int retry_after_s, const char *why)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", retry_after_s > 0 ? retry_after_s : 1);
	server__add_header(r, "Retry-After", v);
	server__error(r, 429, "rate_limited", NULL, NULL, "%s; retry after %s s", why, v);
}

void server__unavailable(struct server_req *r, int retry_after_s, const char *message)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", retry_after_s > 0 ? retry_after_s : 1);
	server__add_header(r, "Retry-After", v);
	server__error(r, 503, "unavailable", NULL, NULL, "%s", message);
}

void server__internal(struct server_req *r, const char *fmt, ...)
{
	va_list ap;
	char *detail;

	va_start(ap, fmt);
	detail = fl_vasprintf(fmt, ap);
	va_end(ap);
	/* the detail goes to the log, tied to the request id; the client gets the id */
	fl_log(FL_LOG_ERROR, "internal error in %s %s: %s", r->method, r->path, detail);
	free(detail);
	server__error(r, 500, "internal", NULL, NULL,
		      "internal error (request id %s; the server log has the detail)", r->request_id);
}
