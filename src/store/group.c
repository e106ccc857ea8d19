/*
 * Group commit for ticket intake. Many threads call store_group_intake; one
 * committer thread owns the group's connection, takes every request queued
 * while the previous commit was in flight, runs them in one transaction
 * (each inside its own savepoint, so one bad ticket fails alone) and commits
 * once. Callers sleep until the batch holding their ticket has committed:
 * every STORE_OK returned is durable, and one fsync serves the batch.
 *
 * The batch size adapts by itself: when commits are slow, more requests
 * gather behind the one in flight. Built on the public store functions, so
 * it works the same on every backend.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

struct group_req {
	const json_t *ticket;
	const char *job_kind, *idem_key;
	json_t *out;
	bool created, done;
	int rc;
	char *err;
	struct group_req *next;
};

struct store_group {
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t more;      /* the committer waits for requests */
	pthread_cond_t done;      /* callers wait for their batch */
	struct group_req *head, **tail;
	int max_batch;
	bool stop;
	uint64_t batches, tickets;
};

/* Errors that concern one ticket; anything else (busy, I/O, full) ends the batch. */
static bool per_ticket(int rc)
{
	return rc == STORE_EINVAL || rc == STORE_ECONSTRAINT || rc == STORE_ENOTFOUND ||
	       rc == STORE_ECONFLICT;
}

static void fail_all(struct group_req *batch, int rc, const char *msg)
{
	struct group_req *r;

	for (r = batch; r; r = r->next) {
		json_decref(r->out);
		r->out = NULL;
		r->created = false;
		r->rc = rc;
		free(r->err);
		r->err = fl_strdup(msg);
	}
}

static void run_batch(struct store_group *g, struct group_req *batch)
{
	struct group_req *r;
	int rc;

	rc = store_begin_immediate(g->st);
	if (rc) {
		fail_all(batch, rc, store_errmsg(g->st));
		return;
	}
	for (r = batch; r; r = r->next) {
		r->rc = store_ticket_intake(g->st, r->ticket, r->job_kind, r->idem_key, &r->out, &r->created);
		if (r->rc == STORE_OK)
			continue;
		r->err = fl_strdup(store_errmsg(g->st));
		if (!per_ticket(r->rc)) {
			char *msg = fl_strdup(r->err);

			rc = r->rc;
			store_rollback(g->st);
			fail_all(batch, rc, msg);
			free(msg);
			return;
		}
	}
	rc = store_commit(g->st);
	if (rc)
		fail_all(batch, rc, store_errmsg(g->st));
}

static void *committer(void *arg)
{
	struct store_group *g = arg;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct group_req *batch, *r;
		int n = 1;

		while (!g->head && !g->stop)
			pthread_cond_wait(&g->more, &g->lock);
		if (!g->head)
			break;
		batch = r = g->head;
		while (r->next && n < g->max_batch) {
			r = r->next;
			n++;
		}
		g->head = r->next;
		if (!g->head)
			g->tail = &g->head;
		r->next = NULL;
		pthread_mutex_unlock(&g->lock);

		run_batch(g, batch);

		pthread_mutex_lock(&g->lock);
		g->batches++;
		g->tickets += (uint64_t)n;
		for (r = batch; r; r = r->next)
			r->done = true;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

int store_group_open(const char *url, const struct store_group_options *opts,
		     struct store_group **out, char **err)
{
	struct store_group *g;
	int rc;

	*out = NULL;
	g = fl_calloc(1, sizeof(*g));
	rc = store_open(url, &g->st, err);
	if (rc) {
		free(g);
		return rc;
	}
	g->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : 512;
	g->tail = &g->head;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->more, NULL);
	pthread_cond_init(&g->done, NULL);
	if (pthread_create(&g->thread, NULL, committer, g)) {
		if (err)
			*err = fl_strdup("cannot start the group-commit thread");
		store_close(g->st);
		pthread_mutex_destroy(&g->lock);
		pthread_cond_destroy(&g->more);
		pthread_cond_destroy(&g->done);
		free(g);
		return STORE_EINTERNAL;
	}
	*out = g;
	return STORE_OK;
}

int store_group_intake(struct store_group *g, const json_t *ticket, const char *job_kind,
		       const char *idem_key, json_t **out, bool *created, char **err)
{
	struct group_req req = { ticket, job_kind, idem_key, NULL, false, false, STORE_OK, NULL, NULL };

	if (out)
		*out = NULL;
	if (created)
		*created = false;
	if (err)
		*err = NULL;
	pthread_mutex_lock(&g->lock);
	*g->tail = &req;
	g->tail = &req.next;
	pthread_cond_signal(&g->more);
	while (!req.done)
		pthread_cond_wait(&g->done, &g->lock);
	pthread_mutex_unlock(&g->lock);
	if (req.rc == STORE_OK) {
		if (out)
			*out = req.out;
		else
			json_decref(req.out);
		if (created)
			*created = req.created;
	}
	if (err && req.rc)
		*err = req.err;
	else
		free(req.err);
	return req.rc;
}

void store_group_stats(struct store_group *g, uint64_t *batches, uint64_t *tickets)
{
	pthread_mutex_lock(&g->lock);
	if (batches)
		*batches = g->batches;
	if (tickets)
		*tickets = g->tickets;
	pthread_mutex_unlock(&g->lock);
}

void store_group_close(struct store_group *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->more);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	store_close(g->st);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->more);
	pthread_cond_destroy(&g->done);
	free(g);
}
