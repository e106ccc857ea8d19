/*
 * Answers that wait: a request whose answer is made but must not leave yet
 * (a sign-in slowed after repeated failures) is suspended, not slept on,
 * so that its HTTP thread keeps serving others. One thread per server
 * holds the waiting requests ordered by due time and resumes each when it
 * is due; libmicrohttpd then calls the request's handler again and the
 * server sends the answer (server.c). Draining and stopping resume them
 * all at once: libmicrohttpd must not stop with a connection suspended.
 */
#include <string.h>

#include "server_int.h"

struct waiting {
	struct server_req *r;
	int64_t due_us;
};

struct server_later {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	struct waiting *list;
	size_t n, cap;
	bool stop, flush;
};

/* Resumes the first n entries (due ones come first) and drops them. Under the lock. */
static void resume_first(struct server_later *l, size_t n)
{
	size_t i;

	if (!n)
		return;   /* l->list may still be NULL: memmove must not see it (UBSan) */
	for (i = 0; i < n; i++)
		MHD_resume_connection(l->list[i].r->conn);
	memmove(l->list, l->list + n, (l->n - n) * sizeof(*l->list));
	l->n -= n;
}

static void *run(void *arg)
{
	struct server_later *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		int64_t now = fl_mono_us();
		size_t due = 0;

		while (due < l->n && (l->flush || l->stop || l->list[due].due_us <= now))
			due++;
		resume_first(l, due);
		l->flush = false;
		if (l->stop)
			break;
		if (l->n) {
			/* rounded up: never woken before the first is due */
			fl_cond_wait_ms(&l->cond, &l->lock, (l->list[0].due_us - fl_mono_us() + 999) / 1000);
		} else {
			pthread_cond_wait(&l->cond, &l->lock);
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

void server__signal(pthread_mutex_t *lock, pthread_cond_t *cond, bool *flag)
{
	pthread_mutex_lock(lock);
	*flag = true;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(lock);
}

struct server_later *server__later_new(void)
{
	struct server_later *l = fl_calloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	if (pthread_create(&l->thread, NULL, run, l))
		fl_die("cannot start the server's timer thread");
	return l;
}

void server__later_flush(struct server_later *l)
{
	if (!l)
		return;
	server__signal(&l->lock, &l->cond, &l->flush);
}

void server__later_free(struct server_later *l)
{
	if (!l)
		return;
	server__signal(&l->lock, &l->cond, &l->stop);
	pthread_join(l->thread, NULL);
	free(l->list);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}

void server__answer_later(struct server_req *r, int64_t delay_ms)
{
	if (delay_ms <= 0 || !r->responded)
		return;
	r->later_us = fl_mono_us() + delay_ms * 1000;
	/* suspended before anyone else can resume it; queued once the handler has returned */
	MHD_suspend_connection(r->conn);
	r->suspended = true;
}

void server__later_queue(struct server_later *l, struct server_req *r)
{
	size_t i;

	pthread_mutex_lock(&l->lock);
	if (l->stop) {
		pthread_mutex_unlock(&l->lock);
		MHD_resume_connection(r->conn);
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->list = fl_reallocarray(l->list, l->cap, sizeof(*l->list));
	}
	for (i = l->n; i > 0 && l->list[i - 1].due_us > r->later_us; i--)
		l->list[i] = l->list[i - 1];
	l->list[i].r = r;
	l->list[i].due_us = r->later_us;
	l->n++;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

