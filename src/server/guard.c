/*
 * The connection guard: what libmicrohttpd does not bound on its own.
 *
 * libmicrohttpd closes a connection that stays idle for
 * FRONTLINE_HTTP_TIMEOUT, but a client that sends a byte now and then is
 * never idle: it can take as long as it likes over its headers and body, one
 * connection each, up to the connection limits. The guard gives every
 * request a total deadline instead. Each connection (libmicrohttpd's
 * socket context, from its connection notifications) records when its
 * current request began to arrive: when the connection opened, or when the
 * previous answer was sent. Once the request is all in, it is being
 * answered and the deadline no longer applies. A thread of the guard looks
 * every quarter second and shuts down (shutdown(2), from its thread) every
 * connection still receiving after the deadline; libmicrohttpd then sees
 * the socket end and closes it as usual. A connection is shut down under
 * the guard's lock, and libmicrohttpd's "closed" notification, which comes
 * before it closes the socket, takes the same lock to forget it: the guard
 * never touches a descriptor that may have been reused.
 *
 * The same thread gives refused uploads a lingering close. When the server
 * answers before reading a body it does not want (413, 401, a bad framing)
 * and closes, the client is often still sending; closing a socket with
 * unread data makes the kernel send a reset, which can destroy the answer
 * before the client reads it. So such a connection's socket is kept (a
 * duplicate of its descriptor, taken in the "closed" notification) for up
 * to LINGER_US while its input is read and dropped, and closed when the
 * client closes its end or the time is up (nginx and Apache do the same).
 *
 * What a request does with the guard costs two atomic stores; the lock is
 * taken when a connection opens and closes.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_int.h"
#include "monitor/monitor.h"

#define SWEEP_MS 250
#define LINGER_US (5 * INT64_C(1000000))
#define MAX_LINGER 256

struct server_conn {
	struct server_conn *prev, *next;
	MHD_socket fd;
	_Atomic int64_t since_us;    /* when the current request began to arrive */
	atomic_bool answering;       /* the request is all in */
	atomic_bool linger;          /* close it lingering (an upload refused before its end) */
	bool cut;                    /* shut down by the guard */
};

struct lingering {
	int fd;
	int64_t until_us;
};

struct server_guard {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	int64_t deadline_us;           /* a request's total time to arrive; 0: none */
	struct server_conn head;       /* the open connections, a circular list */
	struct lingering lingering[MAX_LINGER];
	size_t nlingering;
	struct monitor_family *m_cut, *m_linger;
};

struct server_guard *server__guard_new(unsigned request_timeout_s, struct monitor_registry *registry)
{
	struct server_guard *g = fl_calloc(1, sizeof(*g));

	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->deadline_us = (int64_t)request_timeout_s * 1000000;
	g->head.next = g->head.prev = &g->head;
	g->m_cut = monitor_family_new(registry, MONITOR_COUNTER, "frontline_http_slow_requests_total",
				      "connections closed because their request took longer than "
				      "FRONTLINE_HTTP_REQUEST_TIMEOUT to arrive", 0, NULL, NULL, 0);
	g->m_linger = monitor_family_new(registry, MONITOR_COUNTER, "frontline_http_lingering_closes_total",
					 "refused uploads whose connection was drained before closing", 0, NULL, NULL,
					 0);
	return g;
}

/* Reads and drops what a lingering socket has; true when it is done (closed by the peer, or an error). */
static bool drain(int fd)
{
	char scratch[16384];
	int i;

	for (i = 0; i < 64; i++) {
		ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return false;
		return true;
	}
	return false;
}

/* Shuts down connections whose request is late; the lock held. */
static void sweep(struct server_guard *g, int64_t now)
{
	struct server_conn *c;

	if (!g->deadline_us)
		return;
	for (c = g->head.next; c != &g->head; c = c->next) {
		if (c->cut || atomic_load(&c->answering) || now - atomic_load(&c->since_us) <= g->deadline_us)
			continue;
		c->cut = true;
		shutdown(c->fd, SHUT_RDWR);
		monitor_add(g->m_cut, NULL, 1);
		fl_log(FL_LOG_INFO, "server: closed a connection whose request took more than %lld s to arrive",
		       (long long)(g->deadline_us / 1000000));
	}
}

/* Drains the lingering sockets for up to SWEEP_MS; the lock held on entry and exit. */
static void linger_round(struct server_guard *g)
{
	struct pollfd fds[MAX_LINGER];
	size_t i, n = g->nlingering;
	int64_t now;

	for (i = 0; i < n; i++) {
		fds[i].fd = g->lingering[i].fd;
		fds[i].events = POLLIN;
		fds[i].revents = 0;
	}
	pthread_mutex_unlock(&g->lock);
	/* only this thread removes lingering entries: the first n stay valid */
	poll(fds, (nfds_t)n, SWEEP_MS);
	for (i = 0; i < n; i++)
		if (fds[i].revents && drain(fds[i].fd))
			fds[i].fd = -1;
	pthread_mutex_lock(&g->lock);
	now = fl_mono_us();
	for (i = 0; i < n; i++) {
		if (fds[i].fd == -1 || now > g->lingering[i].until_us) {
			close(g->lingering[i].fd);
			g->lingering[i].fd = -1;
		}
	}
	/* compact, keeping entries added meanwhile */
	for (i = n = 0; i < g->nlingering; i++)
		if (g->lingering[i].fd != -1)
			g->lingering[n++] = g->lingering[i];
	g->nlingering = n;
}

static void *guard_main(void *arg)
{
	struct server_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		sweep(g, fl_mono_us());
		if (g->nlingering)
			linger_round(g);
		else
			fl_cond_wait_ms(&g->cond, &g->lock, SWEEP_MS);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int server__guard_start(struct server_guard *g)
{
	if (pthread_create(&g->thread, NULL, guard_main, g))
		return -1;
	g->started = true;
	return 0;
}

void server__guard_free(struct server_guard *g)
{
	size_t i;

	if (!g)
		return;
	if (g->started) {
		pthread_mutex_lock(&g->lock);
		g->stop = true;
		pthread_cond_signal(&g->cond);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
	}
	for (i = 0; i < g->nlingering; i++)
		close(g->lingering[i].fd);
	/* libmicrohttpd has closed every connection (and said so) before this */
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
}

void server__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server_guard *g = cls;
	struct server_conn *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = fl_calloc(1, sizeof(*c));
		c->fd = info ? info->connect_fd : MHD_INVALID_SOCKET;
		atomic_init(&c->since_us, fl_mono_us());
		atomic_init(&c->answering, false);
		atomic_init(&c->linger, false);
		*socket_context = c;
		if (c->fd == MHD_INVALID_SOCKET)
			return;
		pthread_mutex_lock(&g->lock);
		c->next = &g->head;
		c->prev = g->head.prev;
		g->head.prev->next = c;
		g->head.prev = c;
		pthread_mutex_unlock(&g->lock);
		return;
	}
	if (toe != MHD_CONNECTION_NOTIFY_CLOSED || !c)
		return;
	*socket_context = NULL;
	if (c->fd != MHD_INVALID_SOCKET) {
		pthread_mutex_lock(&g->lock);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		/* the descriptor is still open here: libmicrohttpd closes it after this call */
		if (atomic_load(&c->linger) && !c->cut && g->nlingering < MAX_LINGER && !g->stop) {
			int fd = dup(c->fd);

			if (fd >= 0) {
				g->lingering[g->nlingering].fd = fd;
				g->lingering[g->nlingering].until_us = fl_mono_us() + LINGER_US;
				g->nlingering++;
				monitor_add(g->m_linger, NULL, 1);
				pthread_cond_signal(&g->cond);
			}
		}
		pthread_mutex_unlock(&g->lock);
	}
	free(c);
}

struct server_conn *server__guard_conn(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void server__conn_answering(struct server_conn *c)
{
	if (c)
		atomic_store(&c->answering, true);
}

void server__conn_next(struct server_conn *c)
{
	if (!c)
		return;
	atomic_store(&c->since_us, fl_mono_us());
	atomic_store(&c->answering, false);
}

void server__conn_linger(struct server_conn *c)
{
	if (c)
		atomic_store(&c->linger, true);
}
