/*
 * The HTTP server: libmicrohttpd with its internal epoll thread pool, and
 * the path of every request through it.
 *
 *   first call     match the route (404/405), refuse what the headers
 *                  already condemn (503 draining, 413 by Content-Length, 415,
 *                  401/403/429 by token) before reading any body;
 *   upload calls   collect the body up to the limit (413 beyond it);
 *   last call      parse and check the body, run the handler (dispatch.c);
 *   completed      one access-log line, request metrics, cleanup.
 *
 * Limits against slow or hostile clients: libmicrohttpd's per connection
 * memory pool bounds the request line and headers (it answers 414/431
 * itself), its idle timeout closes silent connections, and it caps
 * connections in total and per address (128 by default, so that one
 * address cannot take every connection and /healthz keeps answering
 * others); the guard (guard.c) bounds the whole time a request may take to
 * arrive and closes refused uploads lingering; the framing is checked on the
 * first call (request.c), with the raw request target seen by the URI
 * callback (on_uri), which is where a request's state is made.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_int.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "store/store.h"

const char *server_strerror(int rc)
{
	switch (rc) {
#define SERVER_STR(name, text) case SERVER_##name: return text;
	SERVER_ERRNO_MAP(SERVER_STR)
#undef SERVER_STR
	}
	return "unknown server error";
}

const char *server_errname(int rc)
{
	switch (rc) {
#define SERVER_NAME(name, text) case SERVER_##name: return "SERVER_" #name;
	SERVER_ERRNO_MAP(SERVER_NAME)
#undef SERVER_NAME
	}
	return "SERVER_UNKNOWN";
}

static unsigned cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

static int64_t cfg_int(int64_t given, const char *key, int64_t def)
{
	return given > 0 ? given : fl_config_int(key, def);
}

static const double latency_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

int server_new(const struct server_options *opts, struct server **out, char **err)
{
	static const char *const req_labels[] = { "method", "route", "status" };
	static const char *const lat_labels[] = { "route" };
	static const char *const intake_labels[] = { "channel", "result" };
	struct server *srv = fl_calloc(1, sizeof(*srv));
	struct store_group_options gopts = { 0 };
	int rc = SERVER_ESTORE;

	*out = NULL;
	*err = NULL;
	srv->opts = *opts;
	srv->listen = fl_strdup(opts->listen ? opts->listen : fl_config_get("FRONTLINE_LISTEN"));
	srv->store_url = fl_strdup(opts->store_url ? opts->store_url
						   : fl_config_get("FRONTLINE_DATABASE_URL"));
	srv->webhook_secret = fl_strdup(opts->webhook_secret ? opts->webhook_secret
							     : fl_config_get("FRONTLINE_WEBHOOK_SECRET"));
	if (srv->webhook_secret && *srv->webhook_secret)
		srv->webhook_key = notify_key_new(srv->webhook_secret);
	srv->opts.threads = (unsigned)cfg_int(opts->threads, "FRONTLINE_HTTP_THREADS", cores());
	srv->opts.max_body = (size_t)cfg_int((int64_t)opts->max_body, "FRONTLINE_HTTP_MAX_BODY", 1 << 20);
	srv->opts.max_header = (size_t)cfg_int((int64_t)opts->max_header, "FRONTLINE_HTTP_MAX_HEADER", 16384);
	srv->opts.timeout_s = (unsigned)cfg_int(opts->timeout_s, "FRONTLINE_HTTP_TIMEOUT", 30);
	srv->opts.request_timeout_s = (unsigned)cfg_int(opts->request_timeout_s, "FRONTLINE_HTTP_REQUEST_TIMEOUT", 60);
	srv->opts.max_connections = (unsigned)cfg_int(opts->max_connections,
						      "FRONTLINE_HTTP_MAX_CONNECTIONS", 4096);
	srv->opts.per_ip_connections = (unsigned)cfg_int(opts->per_ip_connections,
							 "FRONTLINE_HTTP_PER_IP_CONNECTIONS", 128);
	srv->opts.webhook_tolerance_s = cfg_int(opts->webhook_tolerance_s, "FRONTLINE_WEBHOOK_TOLERANCE",
						NOTIFY_SIGNATURE_TOLERANCE);
	srv->opts.max_json_depth = opts->max_json_depth > 0 ? opts->max_json_depth : 32;
	if (opts->rate == 0)
		srv->opts.rate = fl_config_num("FRONTLINE_RATE_LIMIT", 50);
	if (opts->burst <= 0)
		srv->opts.burst = fl_config_num("FRONTLINE_RATE_BURST", 100);
	if (opts->auth_failures == 0)
		srv->opts.auth_failures = fl_config_num("FRONTLINE_HTTP_AUTH_FAILURES", 10);
	if (srv->opts.threads > 256)
		srv->opts.threads = 256;
	srv->started_us = fl_wall_us();
	atomic_init(&srv->draining, false);
	atomic_init(&srv->inflight, 0);
	pthread_mutex_init(&srv->idle_lock, NULL);
	pthread_cond_init(&srv->idle_cond, NULL);
	pthread_mutex_init(&srv->auth_lock, NULL);
	srv->later = server__later_new();
	srv->tokens = server__tokens_new(srv->opts.rate, srv->opts.burst, srv->opts.auth_failures);
	srv->chat_limits = server__tokens_new(fl_config_num("FRONTLINE_CHAT_RATE_LIMIT", 2),
					      fl_config_num("FRONTLINE_CHAT_RATE_BURST", 30), 0);
	srv->statics = server__static_new(opts->web_dir);
	srv->opts.web_dir = NULL;   /* the caller's string; statics keeps its own copy */
	srv->registry = opts->registry;
	if (!srv->registry) {
		srv->registry = monitor_registry_new();
		srv->own_registry = true;
	}
	srv->guard = server__guard_new(srv->opts.request_timeout_s, srv->registry);
	srv->m_requests = monitor_family_new(srv->registry, MONITOR_COUNTER, "frontline_http_requests_total",
					     "HTTP requests by method, route and status", 3, req_labels,
					     NULL, 0);
	srv->m_latency = monitor_family_new(srv->registry, MONITOR_HISTOGRAM,
					    "frontline_http_request_duration_seconds",
					    "HTTP request latency by route, from the request's headers to the response",
					    1, lat_labels, latency_bounds, FL_ARRAY_SIZE(latency_bounds));
	srv->m_inflight = monitor_family_new(srv->registry, MONITOR_GAUGE, "frontline_http_requests_in_flight",
					     "HTTP requests being served", 0, NULL, NULL, 0);
	srv->m_intake = monitor_family_new(srv->registry, MONITOR_COUNTER, "frontline_intake_total",
					   "tickets received by channel and result (created, duplicate, rejected, failed, conflict)",
					   2, intake_labels, NULL, 0);
	if (server__pool_new(srv->store_url, srv->opts.threads + 1, &srv->pool, err) != SERVER_OK)
		goto fail;
	if (store_group_open(srv->store_url, &gopts, &srv->group, err) != STORE_OK)
		goto fail;
	if (server__live_new(srv, srv->store_url, &srv->live, err) != SERVER_OK)
		goto fail;
	*out = srv;
	return SERVER_OK;
fail:
	server_free(srv);
	return rc;
}

struct monitor_registry *server_registry(struct server *srv)
{
	return srv->registry;
}

unsigned server_port(const struct server *srv)
{
	return srv->port;
}

bool server_draining(const struct server *srv)
{
	return atomic_load(&((struct server *)srv)->draining);
}

/* ---- one request ---- */

static void req_free(struct server_req *r)
{
	if (!r)
		return;
	if (r->st)
		server__pool_put(r->srv->pool, r->st);
	if (r->stream)
		server__live_drop(r->stream);
	server_match_release(&r->match);
	fl_buf_release(&r->body);
	json_decref(r->json);
	json_decref(r->user);
	server__intake_job_free(r->intake);
	free(r->path);
	free(r->resp);
	server__headers_free(r);
	free(r);
}

static void set_request_id(struct server_req *r)
{
	const char *given = server__header(r, "X-Request-Id");
	size_t i, n = given ? strlen(given) : 0;
	unsigned char raw[8];

	/* keep a client's id when it is short and plain, so traces join up */
	if (n && n < sizeof(r->request_id)) {
		for (i = 0; i < n; i++)
			if (!(isalnum((unsigned char)given[i]) || strchr("-_.:", given[i])))
				break;
		if (i == n) {
			memcpy(r->request_id, given, n + 1);
			return;
		}
	}
	fl_random_bytes(raw, sizeof(raw));
	fl_hex(r->request_id, raw, sizeof(raw));
}

static bool has_body(struct server_req *r)
{
	const char *cl = server__header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int64_t n;

	if (server__header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && !fl_parse_int64(cl, 0, INT64_MAX, &n) && n > 0;
}

/* What the headers alone decide: the route, limits, type, and who is asking. */
/* The request's body limit: the server's, or a raw email's (FRONTLINE_EMAIL_MAX_BYTES) when larger. */
static size_t body_limit(const struct server_req *r)
{
	const struct server_route *route = r->match.route;
	size_t limit = r->srv->opts.max_body;

	if (route && (route->flags & SERVER_ROUTE_MAIL_BODY)) {
		size_t mail = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_BYTES", 25 << 20);

		if (mail > limit)
			limit = mail;
	}
	return limit;
}

/*
 * A signed route's headers, checked before its body is read: the secret is
 * configured, and the signature and timestamp headers are there, well
 * formed and fresh. The signature itself needs the body (server__dispatch).
 */
static bool signature_headers_ok(struct server_req *r)
{
	enum notify_verdict v;

	if (!r->srv->webhook_key) {
		/* refusing is safer than accepting unsigned tickets */
		r->close = has_body(r);
		server__unavailable(r, 60, "webhook intake is not configured (FRONTLINE_WEBHOOK_SECRET is unset)");
		return false;
	}
	v = notify_verify_headers(server__header(r, "X-Frontline-Timestamp"),
				  server__header(r, "X-Frontline-Signature"), fl_wall_us() / 1000000,
				  r->srv->opts.webhook_tolerance_s);
	if (v != NOTIFY_SIG_OK) {
		r->close = has_body(r);
		server__unauthorized(r, notify_verdict_text(v));
		return false;
	}
	return true;
}

static void begin(struct server_req *r)
{
	struct server *srv = r->srv;
	const struct server_route *route;
	const char *cl = server__header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	int64_t len;

	set_request_id(r);
	if (atomic_load(&srv->draining)) {
		r->close = true;
		server__unavailable(r, 5, "the server is shutting down; retry on another instance");
		return;
	}
	if (server__check_framing(r))
		return;
	if (r->raw_path_bad) {
		r->close = has_body(r);
		server__bad_request(r, NULL, "the request path encodes a NUL or a '/' inside a segment (%%00, %%2F)");
		return;
	}
	if (fl_utf8_invalid_at(r->path, strlen(r->path)) >= 0) {
		r->close = has_body(r);
		server__bad_request(r, NULL, "the request path is not valid UTF-8");
		return;
	}
	route = server_route_match(server_routes(), r->method, r->path, &r->match);
	if (!route) {
		r->close = has_body(r);
		if (r->match.path_matched) {
			server__add_header(r, "Allow", r->match.allow);
			server__error(r, 405, "method_not_allowed", NULL, NULL,
				      "method %s is not allowed on %s (allowed: %s)", r->method, r->path,
				      r->match.allow);
		} else {
			server__not_found(r, "route", r->path);
		}
		return;
	}
	if (cl && !fl_parse_int64(cl, 0, INT64_MAX, &len) && (uint64_t)len > body_limit(r)) {
		server__too_large(r, body_limit(r));
		return;
	}
	if ((route->flags & SERVER_ROUTE_JSON_BODY) && (has_body(r) || !(route->flags & SERVER_ROUTE_OPTIONAL_BODY))) {
		const char *ct = server__header(r, MHD_HTTP_HEADER_CONTENT_TYPE);

		if (!server__is_json_type(ct)) {
			r->close = has_body(r);
			server__unsupported_type(r, ct);
			return;
		}
	}
	if (route->role == SERVER_ROLE_SIGNED) {
		signature_headers_ok(r);
		return;
	}
	server__authorize(r);
	if (r->responded)
		r->close = has_body(r);
}

/*
 * The method as a metric label: one the routes use, else "other". A series
 * per method a client makes up would grow the server's memory and /metrics
 * without end.
 */
static const char *method_label(const char *method)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL };
	int i = fl_word_index(known, method);

	return i >= 0 ? known[i] : "other";
}

/* Counted when answered, so that a client reading the metrics next sees its request. */
static void count(struct server_req *r)
{
	const char *route = r->match.route ? r->match.route->path : "unmatched";
	char status[8];
	const char *v[] = { method_label(r->method), route, status };
	const char *l[] = { route };

	snprintf(status, sizeof(status), "%u", r->status);
	monitor_add(r->srv->m_requests, v, 1);
	monitor_observe(r->srv->m_latency, l, (double)(fl_mono_us() - r->start_us) / 1e6);
}

void server__uncount(struct server_req *r)
{
	struct server *srv = r->srv;

	if (!r->counted)
		return;
	r->counted = false;
	monitor_add(srv->m_inflight, NULL, -1);
	if (atomic_fetch_sub(&srv->inflight, 1) == 1 && atomic_load(&srv->draining)) {
		pthread_mutex_lock(&srv->idle_lock);
		pthread_cond_broadcast(&srv->idle_cond);
		pthread_mutex_unlock(&srv->idle_lock);
	}
}

void server_changed(struct server *srv)
{
	if (srv)
		server__live_wake(srv->live);
}

static enum MHD_Result queue(struct server_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i;

	count(r);
	/* a change made here reaches the live streams now, not at their next poll */
	if (r->status < 400 && server__changes(r->method))
		server__live_wake(r->srv->live);
	if (r->stream) {
		resp = server__live_response(r->stream);   /* takes the stream */
		r->stream = NULL;
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	} else {
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			return MHD_NO;
		r->resp = NULL;   /* libmicrohttpd frees it */
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				r->cache_control ? r->cache_control : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	/* answered before the body's end: the client may still be sending it */
	if (r->close && !r->body_done && has_body(r))
		server__conn_linger(r->gconn);
	server__conn_answering(r->gconn);
	ret = MHD_queue_response(r->conn, r->status ? r->status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Counts the request in flight: from when the server works on it (all of it
 * in, or answered from its headers) to its end. A client still sending is
 * not in flight: draining does not wait for it (stopping closes it).
 */
static void in_flight(struct server_req *r)
{
	if (r->counted)
		return;
	r->counted = true;
	atomic_fetch_add(&r->srv->inflight, 1);
	monitor_add(r->srv->m_inflight, NULL, 1);
}

static struct server_req *new_request(struct server *srv, struct MHD_Connection *conn, const char *uri)
{
	struct server_req *r = fl_calloc(1, sizeof(*r));

	r->srv = srv;
	r->conn = conn;
	r->start_us = fl_mono_us();
	r->body = (struct fl_buf)FL_BUF_INIT;
	r->raw_path_bad = uri && !server__raw_path_ok(uri);
	return r;
}

/*
 * The accept policy: while draining, a new connection is closed as soon as
 * it is accepted, before a byte of a request is read, so its client fails
 * at once and tries another replica.
 *
 * Not MHD_quiesce_daemon: with MHD_USE_EPOLL and an internal thread, it
 * races the event loop to take the listening socket out of the epoll set,
 * and the loser of that race makes libmicrohttpd 0.9.75 abort the process
 * ("Failed to remove listen FD from epoll set"; seen in CI at a test's
 * stop). The listening socket itself closes in MHD_stop_daemon.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)addr;
	(void)addrlen;
	return server_draining(cls) ? MHD_NO : MHD_YES;
}

/*
 * The URI callback: libmicrohttpd's first word on a request, with its
 * target as sent (the access handler gets it decoded, where "%00" has cut
 * it short and "%2F" has become a "/"). The request's state starts here.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	return new_request(cls, conn, uri);
}

static void client_address(struct MHD_Connection *conn, char out[SERVER_ADDR_LEN])
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;

	out[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, SERVER_ADDR_LEN);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, SERVER_ADDR_LEN);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct server_req *r = *con_cls;

	(void)version;
	if (!r)   /* made by on_uri; absent only if libmicrohttpd skipped it */
		*con_cls = r = new_request(srv, conn, NULL);
	if (!r->begun) {
		r->begun = true;
		r->method = method;
		r->path = fl_strdup(url);
		r->gconn = server__guard_conn(conn);
		client_address(conn, r->addr);
		begin(r);
		if (r->responded) {
			in_flight(r);
			return queue(r);
		}
		return MHD_YES;
	}
	if (r->suspended && r->later_us) {
		/* resumed by the timer: the answer was made before it waited */
		r->suspended = false;
		return queue(r);
	}
	if (r->responded)   /* answered early: ignore the rest of the body */
		return MHD_YES;
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_large) {
			/*
			 * Read and drop the rest, so that the client, still sending,
			 * reads a clean 413 at the end instead of a reset: libmicrohttpd
			 * takes an answer only before the body or after it. The guard's
			 * deadline bounds how long a body may go on.
			 */
			r->discarded += n;
			return MHD_YES;
		}
		if (r->body.len + n > body_limit(r)) {
			r->too_large = true;
			r->discarded = r->body.len + n;
			fl_buf_release(&r->body);
			return MHD_YES;
		}
		fl_buf_add(&r->body, upload_data, n);
		return MHD_YES;
	}
	/* the last call: the request is all in */
	r->body_done = true;
	server__conn_answering(r->gconn);
	in_flight(r);
	if (r->too_large) {
		server__too_large(r, body_limit(r));
		return queue(r);
	}
	if (r->suspended) {
		/* resumed by the group commit: the ticket is stored (or not) */
		r->suspended = false;
		server__intake_finish(r);
		return queue(r);
	}
	fl_log_set_request_id(r->request_id);
	server__dispatch(r);
	fl_log_set_request_id(NULL);
	/* the store connection goes back as soon as the handler is done */
	if (r->st) {
		server__pool_put(srv->pool, r->st);
		r->st = NULL;
	}
	if (r->suspended) {
		/* handed over only now that nothing on this thread touches r */
		if (r->later_us)
			server__later_queue(srv->later, r);
		else
			server__intake_queue(r);
		return MHD_YES;
	}
	return queue(r);
}

void server__intake_submit(struct server_req *r)
{
	/* suspended before anyone else can resume it */
	MHD_suspend_connection(r->conn);
	r->suspended = true;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server_req *r = *con_cls;
	const char *route;
	double secs;

	(void)cls;
	server__conn_next(server__guard_conn(conn));
	if (!r)
		return;
	*con_cls = NULL;
	if (!r->begun) {
		/* refused by libmicrohttpd before the headers were in (414, 431, 400) */
		fl_log(FL_LOG_DEBUG, "server: a request was refused before its headers were read");
		req_free(r);
		return;
	}
	route = r->match.route ? r->match.route->path : "unmatched";
	secs = (double)(fl_mono_us() - r->start_us) / 1e6;
	{
		enum fl_log_level lvl = r->match.route && (r->match.route->flags & SERVER_ROUTE_NO_LOG)
						? FL_LOG_DEBUG : FL_LOG_INFO;

		if (r->status >= 500)
			lvl = FL_LOG_WARN;
		if (fl_log_enabled(lvl)) {
			json_t *f = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I}", "method", r->method,
					      "route", route, "path", r->path, "status", (int)r->status,
					      "duration_us", (json_int_t)(secs * 1e6),
					      "bytes", (json_int_t)r->resp_len);

			if (!json_object_get(f, "path"))
				json_object_set_new(f, "path", json_string("(not UTF-8)"));
			if (r->auth.token_id)
				json_object_set_new(f, "token", json_string(r->auth.name));
			else if (r->auth.user_id)
				json_object_set_new(f, "user", json_string(r->auth.name));
			if (r->addr[0])
				json_object_set_new(f, "client", json_string(r->addr));
			if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
				json_object_set_new(f, "aborted", json_true());
			fl_log_set_request_id(r->request_id);
			fl_logj(lvl, f, "%s %s %u", r->method, r->match.route ? route : "-", r->status);
			fl_log_set_request_id(NULL);
			json_decref(f);
		}
	}
	server__uncount(r);
	req_free(r);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) FL_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char *msg = fl_vasprintf(fmt, ap);
	size_t n = strlen(msg);

	(void)cls;
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	fl_log(FL_LOG_DEBUG, "libmicrohttpd: %s", msg);
	free(msg);
}

/* "host:port", "[v6]:port", ":port" (all interfaces). */
static int resolve(const char *listen, struct sockaddr_storage *ss, bool *v6, char **err)
{
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = { 0 }, *res = NULL;
	char host[256], port[16];
	size_t hlen;
	int64_t p;
	int gai;

	if (!colon || fl_parse_int64(colon + 1, 0, 65535, &p)) {
		*err = fl_asprintf("invalid listen address '%s' (expected host:port)", listen);
		return -1;
	}
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		*err = fl_asprintf("invalid listen address '%s'", listen);
		return -1;
	}
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	snprintf(port, sizeof(port), "%lld", (long long)p);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	gai = getaddrinfo(hlen ? host : NULL, port, &hints, &res);
	if (gai) {
		*err = fl_asprintf("cannot resolve listen address '%s': %s", host, gai_strerror(gai));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}

/*
 * Each connection is a file descriptor: raises the soft open-files limit
 * (often 1,024) toward what the connection limit needs, up to the hard
 * limit, and says so when the hard limit is lower.
 */
static void raise_open_files(const struct server *srv)
{
	rlim_t need = (rlim_t)srv->opts.max_connections + (rlim_t)srv->opts.threads * 4 + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		fl_log(FL_LOG_WARN, "open files are limited to %llu, fewer than FRONTLINE_HTTP_MAX_CONNECTIONS (%u) "
		       "needs: raise the hard limit (systemd: LimitNOFILE)", (unsigned long long)rl.rlim_cur,
		       srv->opts.max_connections);
}

int server_start(struct server *srv, char **err)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	bool v6 = false;

	*err = NULL;
	if (resolve(srv->listen, &ss, &v6, err))
		return SERVER_EINVAL;
	if (v6)
		flags |= MHD_USE_IPv6;
	raise_open_files(srv);
	srv->daemon = MHD_start_daemon(flags, 0, on_accept, srv, on_access, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, srv->opts.threads,
		MHD_OPTION_CONNECTION_LIMIT, srv->opts.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->opts.per_ip_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, srv->opts.timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->opts.max_header,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, server__guard_notify, srv->guard,
		MHD_OPTION_END);
	if (!srv->daemon) {
		*err = fl_asprintf("cannot listen on '%s': %s", srv->listen,
				   errno ? strerror(errno) : "libmicrohttpd refused the options");
		return SERVER_ELISTEN;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	if (server__guard_start(srv->guard)) {
		*err = fl_strdup("cannot start the connection guard's thread");
		return SERVER_ELISTEN;
	}
	return server__live_start(srv->live, err);
}

void server_drain(struct server *srv)
{
	/* from now on on_accept closes every new connection */
	if (atomic_exchange(&srv->draining, true))
		return;
	server__later_flush(srv->later);
	/* the streams end now (their clients reconnect elsewhere); they are no requests in flight */
	server__live_close(srv->live);
}

bool server_wait_idle(struct server *srv, int64_t timeout_ms)
{
	int64_t deadline = fl_mono_us() + timeout_ms * 1000;
	bool idle;

	pthread_mutex_lock(&srv->idle_lock);
	while (atomic_load(&srv->inflight) > 0 && fl_mono_us() < deadline)
		fl_cond_wait_ms(&srv->idle_cond, &srv->idle_lock, 50);
	idle = atomic_load(&srv->inflight) == 0;
	pthread_mutex_unlock(&srv->idle_lock);
	return idle;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	/*
	 * No new requests; the requests in flight finish (intakes get their
	 * commit); closing the group runs the callbacks still pending, which
	 * resumes every suspended connection before the daemon stops.
	 */
	server_drain(srv);
	if (srv->daemon)
		server_wait_idle(srv, 5000);
	store_group_close(srv->group);
	srv->group = NULL;
	/* libmicrohttpd must not stop with a connection suspended */
	server__later_free(srv->later);
	srv->later = NULL;
	server__live_stop(srv->live);
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	server__live_free(srv->live);   /* after the daemon: its streams are freed by then */
	/* after libmicrohttpd: it has said every connection closed */
	server__guard_free(srv->guard);
	server__pool_free(srv->pool);
	server__tokens_free(srv->tokens);
	server__tokens_free(srv->chat_limits);
	server__static_free(srv->statics);
	if (srv->own_registry)
		monitor_registry_free(srv->registry);
	pthread_mutex_destroy(&srv->idle_lock);
	pthread_mutex_destroy(&srv->auth_lock);
	pthread_cond_destroy(&srv->idle_cond);
	free(srv->listen);
	free(srv->store_url);
	free(srv->webhook_secret);
	notify_key_free(srv->webhook_key);
	free(srv);
}
