/*
 * A fixed pool of store connections for the HTTP threads (a store handle is
 * used by one thread at a time), and the mapping from store errors to HTTP
 * answers. The pool holds one connection more than there are HTTP threads,
 * and a handle is held only while a thread works for a request (the
 * handler, a token lookup), never while a request waits for its client:
 * so a request does not wait for one in practice. The wait is there for
 * safety and has a deadline (SERVER_STORE_WAIT_MS): past it the request is
 * answered 503 with Retry-After instead of an HTTP thread hanging.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

struct server_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct store **all, **free_list;
	size_t n, nfree;
};

int server__pool_new(const char *url, size_t n, struct server_pool **out, char **err)
{
	struct server_pool *p = fl_calloc(1, sizeof(*p));
	size_t i;

	*out = NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->all = fl_calloc(n, sizeof(*p->all));
	p->free_list = fl_calloc(n, sizeof(*p->free_list));
	for (i = 0; i < n; i++) {
		if (store_open(url, &p->all[i], err) != STORE_OK) {
			server__pool_free(p);
			return SERVER_ESTORE;
		}
		p->n++;
		p->free_list[p->nfree++] = p->all[i];
	}
	*out = p;
	return SERVER_OK;
}

struct store *server__pool_get(struct server_pool *p, int64_t wait_ms)
{
	int64_t deadline = fl_mono_us() + wait_ms * 1000;
	struct store *st = NULL;

	pthread_mutex_lock(&p->lock);
	while (!p->nfree && fl_mono_us() < deadline)
		fl_cond_wait_ms(&p->cond, &p->lock, (deadline - fl_mono_us()) / 1000 + 1);
	if (p->nfree)
		st = p->free_list[--p->nfree];
	pthread_mutex_unlock(&p->lock);
	return st;
}

void server__pool_put(struct server_pool *p, struct store *st)
{
	if (!st)
		return;
	if (store_in_transaction(st)) {
		fl_log(FL_LOG_ERROR, "server: a handler left a transaction open; rolled back");
		store_rollback(st);
	}
	pthread_mutex_lock(&p->lock);
	p->free_list[p->nfree++] = st;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void server__pool_free(struct server_pool *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		store_close(p->all[i]);
	free(p->all);
	free(p->free_list);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

struct store *server__store(struct server_req *r)
{
	if (r->st)
		return r->st;
	/*
	 * server__dispatch borrows the handle before the handler runs, unless
	 * the route says SERVER_ROUTE_NO_STORE: a handler of such a route that
	 * still asks for one is a bug, said here and served all the same.
	 */
	fl_log(FL_LOG_ERROR, "server: route %s %s uses the store but is marked NO_STORE", r->method,
	       r->match.route ? r->match.route->path : "-");
	r->st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS);
	if (!r->st)
		fl_die("server: no store connection within %d ms", SERVER_STORE_WAIT_MS);
	return r->st;
}

void server__store_error(struct server_req *r, int rc, const char *what, const char *id)
{
	const char *detail = r->st ? store_errmsg(r->st) : store_strerror(rc);

	switch (rc) {
	case STORE_ENOTFOUND:
		server__not_found(r, what, id);
		return;
	case STORE_ECONFLICT:
	case STORE_ELEASE:
		server__conflict(r, NULL, "%s '%s' changed meanwhile: %s", what, id ? id : "",
				 store_strerror(rc));
		return;
	case STORE_ECONSTRAINT:
		server__error(r, 409, "conflict", NULL, NULL, "%s: %s", what, store_strerror(rc));
		return;
	case STORE_EINVAL:
		server__unprocessable(r, NULL, NULL, "invalid %s: %s", what, detail);
		return;
	case STORE_EBUSY:
	case STORE_ECONNECT:
	case STORE_EFULL:
	case STORE_EIO:
	case STORE_EREADONLY:
		fl_log(FL_LOG_ERROR, "store unavailable in %s %s: %s", r->method, r->path, detail);
		server__unavailable(r, 2, "the store is unavailable; retry shortly");
		return;
	default:
		server__internal(r, "store error (%s): %s", store_errname(rc), detail);
		return;
	}
}
