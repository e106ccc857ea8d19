/*
 * The libmicrohttpd functions src/server uses, played without sockets (see
 * fake_mhd.h). They keep libmicrohttpd 0.9.75's contract where the server
 * relies on it: header names are looked up ignoring case and query
 * arguments exactly; a response is queued once per request and only from
 * the access handler; a response holds a reference the server's
 * MHD_destroy_response does not end; header lines with CR or LF are refused;
 * a connection suspended in the handler waits for MHD_resume_connection,
 * which may come from any thread (the store's group commit); a body made by
 * a callback (the live stream) is read after the handler, and the callback
 * may suspend the connection to wait for more.
 *
 * One daemon per process (the last one started), connections one at a time
 * from one thread: the fuzz target's.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fake_mhd.h"
#include "util/util.h"

struct MHD_Daemon {
	MHD_AcceptPolicyCallback apc;
	void *apc_cls;
	MHD_AccessHandlerCallback dh;
	void *dh_cls;
	void *(*uri_cb)(void *cls, const char *uri, struct MHD_Connection *c);
	void *uri_cls;
	MHD_RequestCompletedCallback completed;
	void *completed_cls;
	MHD_NotifyConnectionCallback notify;
	void *notify_cls;
	union MHD_DaemonInfo port;
};

struct value {
	enum MHD_ValueKind kind;
	char *key, *value;
};

struct MHD_Connection {
	struct MHD_Daemon *d;
	struct value *values;
	size_t nvalues;
	struct sockaddr_in addr;
	union MHD_ConnectionInfo info;
	void *socket_context;
	bool in_handler;
	bool in_reader;              /* in a response's content callback (which may suspend) */
	struct MHD_Response *response;
	unsigned status;
	int queued;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool suspended;
	unsigned suspends;           /* MHD_suspend_connection calls in this request */
};

static struct MHD_Daemon *daemon_now;

static void die(const char *what)
{
	fprintf(stderr, "fake_mhd: %s\n", what);
	abort();
}

/* ---- the daemon ---- */

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				   void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	struct MHD_Daemon *d = fl_calloc(1, sizeof(*d));
	enum MHD_OPTION opt;
	va_list ap;

	(void)flags;
	d->apc = apc;
	d->apc_cls = apc_cls;
	d->dh = dh;
	d->dh_cls = dh_cls;
	d->port.port = port;
	va_start(ap, dh_cls);
	while ((opt = va_arg(ap, enum MHD_OPTION)) != MHD_OPTION_END) {
		switch (opt) {
		case MHD_OPTION_EXTERNAL_LOGGER:
			(void)va_arg(ap, MHD_LogCallback);
			(void)va_arg(ap, void *);
			break;
		case MHD_OPTION_SOCK_ADDR:
			(void)va_arg(ap, struct sockaddr *);
			break;
		case MHD_OPTION_THREAD_POOL_SIZE:
		case MHD_OPTION_CONNECTION_LIMIT:
		case MHD_OPTION_PER_IP_CONNECTION_LIMIT:
		case MHD_OPTION_CONNECTION_TIMEOUT:
		case MHD_OPTION_LISTEN_BACKLOG_SIZE:
			(void)va_arg(ap, unsigned int);
			break;
		case MHD_OPTION_CONNECTION_MEMORY_LIMIT:
			(void)va_arg(ap, size_t);
			break;
		case MHD_OPTION_URI_LOG_CALLBACK:
			d->uri_cb = va_arg(ap, void *(*)(void *, const char *, struct MHD_Connection *));
			d->uri_cls = va_arg(ap, void *);
			break;
		case MHD_OPTION_NOTIFY_COMPLETED:
			d->completed = va_arg(ap, MHD_RequestCompletedCallback);
			d->completed_cls = va_arg(ap, void *);
			break;
		case MHD_OPTION_NOTIFY_CONNECTION:
			d->notify = va_arg(ap, MHD_NotifyConnectionCallback);
			d->notify_cls = va_arg(ap, void *);
			break;
		default:
			fprintf(stderr, "fake_mhd: daemon option %d is not played: add it to fake_mhd.c\n", (int)opt);
			abort();
		}
	}
	va_end(ap);
	daemon_now = d;
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
	if (d == daemon_now)
		daemon_now = NULL;
	free(d);
}

const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	if (type != MHD_DAEMON_INFO_BIND_PORT)
		die("only MHD_DAEMON_INFO_BIND_PORT is played");
	return &d->port;
}

/* ---- connections ---- */

struct MHD_Connection *fake_conn_open(void)
{
	struct MHD_Connection *c = fl_calloc(1, sizeof(*c));

	if (!daemon_now)
		die("no daemon started");
	c->d = daemon_now;
	c->addr.sin_family = AF_INET;
	c->addr.sin_port = htons(40000);
	c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->d->apc && c->d->apc(c->d->apc_cls, (const struct sockaddr *)&c->addr, sizeof(c->addr)) != MHD_YES) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (c->d->notify)
		c->d->notify(c->d->notify_cls, c, &c->socket_context, MHD_CONNECTION_NOTIFY_STARTED);
	return c;
}

static void response_unref(struct MHD_Response *r)
{
	size_t i;

	if (!r || --r->refs > 0)
		return;
	if (r->mode == MHD_RESPMEM_MUST_FREE)
		free(r->body);
	if (r->reader_free)
		r->reader_free(r->reader_cls);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r);
}

void fake_conn_next(struct MHD_Connection *c)
{
	size_t i;

	for (i = 0; i < c->nvalues; i++) {
		free(c->values[i].key);
		free(c->values[i].value);
	}
	free(c->values);
	c->values = NULL;
	c->nvalues = 0;
	response_unref(c->response);
	c->response = NULL;
	c->status = 0;
	c->queued = 0;
	c->suspended = false;
	c->suspends = 0;
}

void fake_conn_close(struct MHD_Connection *c)
{
	if (!c)
		return;
	if (c->d->notify)
		c->d->notify(c->d->notify_cls, c, &c->socket_context, MHD_CONNECTION_NOTIFY_CLOSED);
	fake_conn_next(c);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void fake_conn_add_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key, const char *value)
{
	c->values = fl_reallocarray(c->values, c->nvalues + 1, sizeof(*c->values));
	c->values[c->nvalues].kind = kind;
	c->values[c->nvalues].key = fl_strdup(key);
	c->values[c->nvalues].value = value ? fl_strdup(value) : NULL;
	c->nvalues++;
}

void *fake_uri(struct MHD_Connection *c, const char *uri)
{
	return c->d->uri_cb ? c->d->uri_cb(c->d->uri_cls, uri, c) : NULL;
}

enum MHD_Result fake_access(struct MHD_Connection *c, const char *url, const char *method, const char *version,
			    const char *upload, size_t *upload_size, void **con_cls)
{
	enum MHD_Result rc;

	c->in_handler = true;
	rc = c->d->dh(c->d->dh_cls, c, url, method, version, upload, upload_size, con_cls);
	c->in_handler = false;
	return rc;
}

unsigned fake_suspends(struct MHD_Connection *c)
{
	unsigned n;

	pthread_mutex_lock(&c->lock);
	n = c->suspends;
	pthread_mutex_unlock(&c->lock);
	return n;
}

bool fake_wait_resumed(struct MHD_Connection *c, long timeout_ms)
{
	struct timespec until;
	bool resumed;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->lock);
	while (c->suspended && pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
		;
	resumed = !c->suspended;
	pthread_mutex_unlock(&c->lock);
	return resumed;
}

void fake_completed(struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	if (c->d->completed)
		c->d->completed(c->d->completed_cls, c, con_cls, toe);
}

/* Reads a callback's body into r->body (see fake_mhd.h). */
static void read_body(struct MHD_Connection *c, struct MHD_Response *r)
{
	struct fl_buf b = FL_BUF_INIT;
	char *block;
	bool waits;
	int calls;

	if (!r || !r->reader || r->read)
		return;
	r->read = true;
	block = fl_malloc(r->block);
	c->in_reader = true;
	for (calls = 0; calls < 64 && b.len < 65536; calls++) {
		ssize_t n = r->reader(r->reader_cls, b.len, block, r->block);

		if (n < 0) /* MHD_CONTENT_READER_END_OF_STREAM or _END_WITH_ERROR */
			break;
		if ((size_t)n > r->block)
			die("a content callback returned more than its block");
		fl_buf_add(&b, block, (size_t)n);
		pthread_mutex_lock(&c->lock);
		waits = c->suspended;
		c->suspended = false;
		pthread_mutex_unlock(&c->lock);
		if (waits)
			break;
	}
	c->in_reader = false;
	free(block);
	r->body = fl_buf_detach(&b, &r->len);
}

struct MHD_Response *fake_response(struct MHD_Connection *c, unsigned *status, int *queued)
{
	*status = c->status;
	*queued = c->queued;
	read_body(c, c->response);
	return c->response;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key)
{
	size_t i;

	for (i = 0; i < c->nvalues; i++) {
		const struct value *v = &c->values[i];

		if (!(v->kind & kind))
			continue;
		if (kind == MHD_HEADER_KIND ? !strcasecmp(v->key, key) : !strcmp(v->key, key))
			return v->value;
	}
	return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind, MHD_KeyValueIterator it,
			      void *cls)
{
	size_t i;
	int n = 0;

	for (i = 0; i < c->nvalues; i++) {
		if (!(c->values[i].kind & kind))
			continue;
		n++;
		if (it && it(cls, c->values[i].kind, c->values[i].key, c->values[i].value) != MHD_YES)
			break;
	}
	return n;
}

const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c, enum MHD_ConnectionInfoType type,
							...)
{
	switch (type) {
	case MHD_CONNECTION_INFO_CLIENT_ADDRESS:
		c->info.client_addr = (struct sockaddr *)&c->addr;
		return &c->info;
	case MHD_CONNECTION_INFO_CONNECTION_FD:
		/* no socket: the connection guard (src/server/guard.c) does not track it */
		c->info.connect_fd = MHD_INVALID_SOCKET;
		return &c->info;
	case MHD_CONNECTION_INFO_SOCKET_CONTEXT:
		c->info.socket_context = c->socket_context;
		return &c->info;
	default:
		fprintf(stderr, "fake_mhd: connection info %d is not played: add it to fake_mhd.c\n", (int)type);
		abort();
	}
}

void MHD_suspend_connection(struct MHD_Connection *c)
{
	if (!c->in_handler && !c->in_reader)
		die("MHD_suspend_connection outside the access handler and the content callback");
	pthread_mutex_lock(&c->lock);
	c->suspended = true;
	c->suspends++;
	pthread_mutex_unlock(&c->lock);
}

void MHD_resume_connection(struct MHD_Connection *c)
{
	pthread_mutex_lock(&c->lock);
	c->suspended = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* ---- responses ---- */

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = fl_calloc(1, sizeof(*r));

	r->refs = 1;
	r->len = size;
	r->mode = mode;
	if (mode == MHD_RESPMEM_MUST_COPY) {
		r->body = fl_malloc(size + 1);
		memcpy(r->body, buffer, size);
		r->mode = MHD_RESPMEM_MUST_FREE;
	} else {
		r->body = buffer;
	}
	return r;
}

struct MHD_Response *MHD_create_response_from_callback(uint64_t size, size_t block_size, MHD_ContentReaderCallback crc,
						       void *crc_cls, MHD_ContentReaderFreeCallback crfc)
{
	struct MHD_Response *r = fl_calloc(1, sizeof(*r));

	(void)size;
	r->refs = 1;
	r->mode = MHD_RESPMEM_MUST_FREE;
	r->reader = crc;
	r->reader_cls = crc_cls;
	r->reader_free = crfc;
	r->block = block_size ? block_size : 4096;
	return r;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *name, const char *value)
{
	/* libmicrohttpd refuses a line that would end the header early */
	if (!*name || strpbrk(name, "\r\n\t :") || strpbrk(value, "\r\n"))
		return MHD_NO;
	r->headers = fl_reallocarray(r->headers, r->nheaders + 1, sizeof(*r->headers));
	r->headers[r->nheaders].name = fl_strdup(name);
	r->headers[r->nheaders].value = fl_strdup(value);
	r->nheaders++;
	return MHD_YES;
}

void MHD_destroy_response(struct MHD_Response *r)
{
	response_unref(r);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r)
{
	if (!c->in_handler)
		die("MHD_queue_response outside the access handler");
	c->queued++;
	if (c->response)
		return MHD_NO;
	c->response = r;
	r->refs++;
	c->status = status;
	return MHD_YES;
}
