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
 * Limits against slow or hostile clients are libmicrohttpd's: a per
 * connection memory pool that bounds the request line and headers (it
 * answers 414/431 itself), an idle timeout (slowloris), a cap on connections
 * in total and per IP address.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
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
	srv->opts.max_header = (size_t)cfg_int((int64_t)opts->max_header, "FRONTLINE_HTTP_MAX_HEADER", 32768);
	srv->opts.timeout_s = (unsigned)cfg_int(opts->timeout_s, "FRONTLINE_HTTP_TIMEOUT", 30);
	srv->opts.max_connections = (unsigned)cfg_int(opts->max_connections,
						      "FRONTLINE_HTTP_MAX_CONNECTIONS", 1024);
	srv->opts.per_ip_connections = (unsigned)cfg_int(opts->per_ip_connections,
							 "FRONTLINE_HTTP_PER_IP_CONNECTIONS", 0);
	srv->opts.webhook_tolerance_s = cfg_int(opts->webhook_tolerance_s, "FRONTLINE_WEBHOOK_TOLERANCE",
						NOTIFY_SIGNATURE_TOLERANCE);
	srv->opts.max_json_depth = opts->max_json_depth > 0 ? opts->max_json_depth : 32;
	if (opts->rate == 0)
		srv->opts.rate = fl_config_num("FRONTLINE_RATE_LIMIT", 50);
	if (opts->burst <= 0)
		srv->opts.burst = fl_config_num("FRONTLINE_RATE_BURST", 100);
	srv->quiesced_fd = MHD_INVALID_SOCKET;
	if (srv->opts.threads > 256)
		srv->opts.threads = 256;
	srv->started_us = fl_wall_us();
	atomic_init(&srv->draining, false);
	atomic_init(&srv->inflight, 0);
	pthread_mutex_init(&srv->idle_lock, NULL);
	pthread_cond_init(&srv->idle_cond, NULL);
	srv->tokens = server__tokens_new(srv->opts.rate, srv->opts.burst);
	srv->registry = opts->registry;
	if (!srv->registry) {
		srv->registry = monitor_registry_new();
		srv->own_registry = true;
	}
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
					   "tickets received by channel and result (created, duplicate, rejected)",
					   2, intake_labels, NULL, 0);
	if (server__pool_new(srv->store_url, srv->opts.threads + 1, &srv->pool, err) != SERVER_OK)
		goto fail;
	if (store_group_open(srv->store_url, &gopts, &srv->group, err) != STORE_OK)
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
	server_match_release(&r->match);
	fl_buf_release(&r->body);
	json_decref(r->json);
	server__intake_job_free(r->intake);
	free(r->path);
	free(r->resp);
	free(r->extra_headers);
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
	if (fl_utf8_invalid_at(r->path, strlen(r->path)) >= 0) {
		server__bad_request(r, NULL, "the request path is not valid UTF-8");
		return;
	}
	route = server_route_match(server_routes(), r->method, r->path, &r->match);
	if (!route) {
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
	server__authorize(r);
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

static enum MHD_Result queue(struct server_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *line, *next;

	count(r);

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		return MHD_NO;
	r->resp = NULL;   /* libmicrohttpd frees it */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (line = r->extra_headers; line && *line; line = next) {
		char *colon = strchr(line, ':'), *nl = strchr(line, '\n');

		next = nl ? nl + 1 : line + strlen(line);
		if (!colon || !nl)
			break;
		*colon = '\0';
		*nl = '\0';
		MHD_add_response_header(resp, line, colon + 2);
		*colon = ':';
		*nl = '\n';
	}
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, r->status ? r->status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct server *srv = cls;
	struct server_req *r = *con_cls;

	(void)version;
	if (!r) {
		r = fl_calloc(1, sizeof(*r));
		r->srv = srv;
		r->conn = conn;
		r->start_us = fl_mono_us();
		r->method = method;
		r->path = fl_strdup(url);
		r->body = (struct fl_buf)FL_BUF_INIT;
		*con_cls = r;
		atomic_fetch_add(&srv->inflight, 1);
		monitor_add(srv->m_inflight, NULL, 1);
		r->counted = true;
		begin(r);
		if (r->responded)
			return queue(r);
		return MHD_YES;
	}
	if (r->responded)   /* answered early: ignore the rest of the body */
		return MHD_YES;
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_large) {
			/*
			 * Read and drop the rest, so that the client, still sending,
			 * reads a clean 413 instead of a reset; an endless body is cut
			 * off at sixteen times the limit.
			 */
			r->discarded += n;
			if (r->discarded <= body_limit(r) * 16)
				return MHD_YES;
			server__too_large(r, body_limit(r));
			return queue(r);
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
		/* submitted only now that nothing on this thread touches r */
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
	struct server *srv = cls;
	struct server_req *r = *con_cls;
	const char *route;
	double secs;

	(void)conn;
	if (!r)
		return;
	*con_cls = NULL;
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
			if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
				json_object_set_new(f, "aborted", json_true());
			fl_log_set_request_id(r->request_id);
			fl_logj(lvl, f, "%s %s %u", r->method, r->match.route ? route : "-", r->status);
			fl_log_set_request_id(NULL);
			json_decref(f);
		}
	}
	if (r->counted)
		monitor_add(srv->m_inflight, NULL, -1);
	if (r->counted && atomic_fetch_sub(&srv->inflight, 1) == 1 && atomic_load(&srv->draining)) {
		pthread_mutex_lock(&srv->idle_lock);
		pthread_cond_broadcast(&srv->idle_cond);
		pthread_mutex_unlock(&srv->idle_lock);
	}
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
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_access, srv,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, srv->opts.threads,
		MHD_OPTION_CONNECTION_LIMIT, srv->opts.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->opts.per_ip_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, srv->opts.timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->opts.max_header,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (!srv->daemon) {
		*err = fl_asprintf("cannot listen on '%s': %s", srv->listen,
				   errno ? strerror(errno) : "libmicrohttpd refused the options");
		return SERVER_ELISTEN;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	return SERVER_OK;
}

void server_drain(struct server *srv)
{
	MHD_socket s;

	if (atomic_exchange(&srv->draining, true))
		return;
	if (srv->daemon) {
		s = MHD_quiesce_daemon(srv->daemon);
		/*
		 * Closed after MHD_stop_daemon, as libmicrohttpd asks; shut down
		 * now so that new clients are refused at once instead of waiting
		 * in the backlog of a socket nobody accepts from.
		 */
		if (s != MHD_INVALID_SOCKET)
			shutdown(s, SHUT_RDWR);
		srv->quiesced_fd = s;
	}
}

bool server_wait_idle(struct server *srv, int64_t timeout_ms)
{
	int64_t deadline = fl_mono_us() + timeout_ms * 1000;
	bool idle;

	pthread_mutex_lock(&srv->idle_lock);
	while (atomic_load(&srv->inflight) > 0 && fl_mono_us() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->idle_cond, &srv->idle_lock, &ts);
	}
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
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	if (srv->quiesced_fd != MHD_INVALID_SOCKET)
		close(srv->quiesced_fd);
	server__pool_free(srv->pool);
	server__tokens_free(srv->tokens);
	if (srv->own_registry)
		monitor_registry_free(srv->registry);
	pthread_mutex_destroy(&srv->idle_lock);
	pthread_cond_destroy(&srv->idle_cond);
	free(srv->listen);
	free(srv->store_url);
	free(srv->webhook_secret);
	notify_key_free(srv->webhook_key);
	free(srv);
}
