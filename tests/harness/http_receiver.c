/*
 * http_receiver (see http_receiver.h): libmicrohttpd with a thread per
 * connection (so that a slow answer holds back only its own client),
 * collecting each request's body and recording it under a mutex. The
 * request's target as sent (path and query) comes from the URI log
 * callback, which runs before the handler and makes the request's state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "http_receiver.h"
#include "util/util.h"

struct http_receiver {
	struct MHD_Daemon *daemon;
	unsigned port;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	json_t *requests;
	json_t *pages;       /* target -> {status, delay_ms, body} */
	unsigned status;
	int retry_after;
	int delay_ms;
};

struct pending {
	char *target;        /* the request line's target: path and query, as sent */
	bool begun;          /* the handler has seen the request */
	struct fl_buf body;
};

/* Every request's state, made when its request line has been read (MHD_OPTION_URI_LOG_CALLBACK). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct pending *p = fl_calloc(1, sizeof(*p));

	(void)cls;
	(void)c;
	p->target = fl_strdup(uri ? uri : "");
	p->body = (struct fl_buf)FL_BUF_INIT;
	return p;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	json_t *h = cls;
	char *lower = fl_strdup(key);
	char *p;

	(void)kind;
	for (p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	json_object_set_new(h, lower, json_string(value ? value : ""));
	free(lower);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **state)
{
	struct http_receiver *r = cls;
	struct pending *p = *state;
	struct MHD_Response *resp;
	json_t *req, *headers, *page;
	enum MHD_Result rc;
	unsigned status;
	int retry, delay;
	char ra[16], *body = NULL;

	(void)version;
	if (!p->begun) {
		p->begun = true;
		return MHD_YES;
	}
	if (*size) {
		fl_buf_add(&p->body, data, *size);
		*size = 0;
		return MHD_YES;
	}
	headers = json_object();
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, headers);
	req = json_pack("{s:s, s:s, s:s, s:o, s:s%}", "method", method, "path", url, "target", p->target,
			"headers", headers, "body", p->body.buf, p->body.len);
	pthread_mutex_lock(&r->lock);
	json_array_append_new(r->requests, req);
	status = r->status;
	retry = r->retry_after;
	delay = r->delay_ms;
	if ((page = json_object_get(r->pages, p->target))) {
		status = (unsigned)fl_json_int(page, "status", 200);
		delay = (int)fl_json_int(page, "delay_ms", 0);
		retry = 0;
		body = fl_strdup(fl_json_str(page, "body", ""));
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	/* a slow receiver: it has the request (Slack would have posted it) and answers late */
	if (delay > 0)
		fl_sleep_us((int64_t)delay * 1000);
	if (body) {
		resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type", "application/json");
	} else {
		resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	}
	if (retry) {
		snprintf(ra, sizeof(ra), "%d", retry);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	rc = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	struct pending *p = *state;

	(void)cls;
	(void)c;
	(void)t;
	if (p) {
		fl_buf_release(&p->body);
		free(p->target);
		free(p);
		*state = NULL;
	}
}

struct http_receiver *http_receiver_start(void)
{
	struct http_receiver *r = fl_calloc(1, sizeof(*r));
	struct sockaddr_in sa = { 0 };
	const union MHD_DaemonInfo *info;

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->requests = json_array();
	r->pages = json_object();
	r->status = 200;
	r->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				     MHD_USE_ERROR_LOG, 0, NULL, NULL,
				     on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, r,
				     MHD_OPTION_URI_LOG_CALLBACK, on_uri, r, MHD_OPTION_END);
	if (!r->daemon) {
		fprintf(stderr, "http_receiver: cannot start\n");
		json_decref(r->requests);
		json_decref(r->pages);
		free(r);
		return NULL;
	}
	info = MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
	r->port = info ? info->port : 0;
	return r;
}

void http_receiver_stop(struct http_receiver *r)
{
	if (!r)
		return;
	MHD_stop_daemon(r->daemon);
	json_decref(r->requests);
	json_decref(r->pages);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

unsigned http_receiver_port(const struct http_receiver *r)
{
	return r->port;
}

char *http_receiver_url(const struct http_receiver *r, const char *path)
{
	return fl_asprintf("http://127.0.0.1:%u%s", r->port, path ? path : "/");
}

void http_receiver_respond(struct http_receiver *r, unsigned status, int retry_after)
{
	pthread_mutex_lock(&r->lock);
	r->status = status;
	r->retry_after = retry_after;
	pthread_mutex_unlock(&r->lock);
}

size_t http_receiver_wait(struct http_receiver *r, size_t n, int timeout_ms)
{
	struct timespec ts;
	size_t got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->lock);
	while (json_array_size(r->requests) < n)
		if (pthread_cond_timedwait(&r->cond, &r->lock, &ts))
			break;
	got = json_array_size(r->requests);
	pthread_mutex_unlock(&r->lock);
	return got;
}

json_t *http_receiver_requests(struct http_receiver *r)
{
	json_t *copy;

	pthread_mutex_lock(&r->lock);
	copy = json_deep_copy(r->requests);
	pthread_mutex_unlock(&r->lock);
	return copy;
}

void http_receiver_clear(struct http_receiver *r)
{
	pthread_mutex_lock(&r->lock);
	json_array_clear(r->requests);
	pthread_mutex_unlock(&r->lock);
}

void http_receiver_delay(struct http_receiver *r, int ms)
{
	pthread_mutex_lock(&r->lock);
	r->delay_ms = ms;
	pthread_mutex_unlock(&r->lock);
}

void http_receiver_page(struct http_receiver *r, const char *target, unsigned status, int delay_ms,
			const char *body)
{
	pthread_mutex_lock(&r->lock);
	json_object_set_new(r->pages, target, json_pack("{s:i, s:i, s:s}", "status", (int)status,
							"delay_ms", delay_ms, "body", body));
	pthread_mutex_unlock(&r->lock);
}

size_t http_receiver_count(struct http_receiver *r)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = json_array_size(r->requests);
	pthread_mutex_unlock(&r->lock);
	return n;
}

json_t *http_receiver_last(struct http_receiver *r)
{
	json_t *last;

	pthread_mutex_lock(&r->lock);
	last = json_deep_copy(json_array_get(r->requests, json_array_size(r->requests) - 1));
	pthread_mutex_unlock(&r->lock);
	return last;
}
