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
 *
 * Where the backend allows it (SQLite), the wait for the disk leaves the
 * committer's path: the group's connection commits without fsync
 * (store__open_deferred), and a second thread, the syncer, fsyncs after each
 * batch (store__sync) and only then wakes that batch's callers. So batch
 * k+1 is built while batch k reaches the disk, and every STORE_OK returned
 * is still durable.
 *
 * When nobody waits to be committed and the syncer is idle, the committer
 * syncs a batch itself: at low rates a ticket then crosses one thread fewer
 * on its way to the disk and back.
 *
 * store_group_submit is the same without a waiting thread: the caller's
 * callback runs on the group's threads once the ticket's batch is durable
 * (or has failed). A server holding many requests open uses it to keep as
 * many intakes in one batch as it has connections, without a thread each.
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
	pthread_cond_t wake;      /* a synchronous caller waits here: no herd woken per batch */
	struct group_req *next;
	/* store_group_submit: told by callback instead of waking a waiter; heap-allocated */
	store_group_done_fn *cb;
	void *cb_arg;
};

/* Splits list into its synchronous and its asynchronous requests, keeping their order. */
static void split(struct group_req *list, struct group_req **sync, struct group_req **async)
{
	struct group_req **st = sync, **at = async, *r, *next;

	for (r = list; r; r = next) {
		next = r->next;
		r->next = NULL;
		if (r->cb) {
			*at = r;
			at = &r->next;
		} else {
			*st = r;
			st = &r->next;
		}
	}
	*st = NULL;
	*at = NULL;
}

/* Tells asynchronous callers their outcome (call without the lock) and frees their requests. */
static void finish_async(struct group_req *async)
{
	struct group_req *r, *next;

	for (r = async; r; r = next) {
		next = r->next;
		r->cb(r->cb_arg, r->rc, r->rc == STORE_OK ? r->out : NULL, r->created,
		      r->rc == STORE_OK ? NULL : r->err);
		if (r->rc != STORE_OK)
			json_decref(r->out);
		free(r->err);
		free(r);
	}
}

struct group_batch {
	struct group_req *reqs;
	struct group_batch *next;
};

struct store_group {
	struct store *st;
	pthread_t thread, syncer;
	pthread_mutex_t lock;
	pthread_cond_t more;      /* the committer waits for requests */
	pthread_cond_t synced;    /* the syncer waits for committed batches */
	struct group_req *head, **tail;
	struct group_batch *sync_head, **sync_tail;
	int max_batch;
	bool stop, committer_done;
	bool syncing;             /* a thread is in sync_and_tell */
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

/* Runs a batch in one transaction; returns true when it committed (then it awaits the syncer). */
static bool run_batch(struct store_group *g, struct group_req *batch)
{
	struct group_req *r;
	int rc;

	rc = store_begin_immediate(g->st);
	if (rc) {
		fail_all(batch, rc, store_errmsg(g->st));
		return false;
	}
	for (r = batch; r; r = r->next) {
		r->rc = store_ticket_intake(g->st, r->ticket, r->job_kind, r->idem_key, &r->out, &r->created);
		if (r->rc == STORE_OK)
			continue;
		r->err = fl_strdup(store_errmsg(g->st));
		/* Failed midway (doomed): part of it is in the transaction, so the batch goes. */
		if (!per_ticket(r->rc) || g->st->doomed) {
			char *msg = fl_strdup(r->err);

			rc = r->rc;
			store_rollback(g->st);
			fail_all(batch, rc, msg);
			free(msg);
			return false;
		}
	}
	rc = store_commit(g->st);
	if (rc)
		fail_all(batch, rc, store_errmsg(g->st));
	return rc == STORE_OK;
}

/* Wakes the synchronous callers of a batch (with g->lock held: a woken caller frees its request). */
static void wake_all(struct group_req *reqs)
{
	struct group_req *r, *next;

	for (r = reqs; r; r = next) {
		next = r->next;
		r->done = true;
		pthread_cond_signal(&r->wake);
	}
}

/*
 * Makes the committed batches of list durable with one fsync and tells
 * their callers (call without g->lock; frees list).
 */
static void sync_and_tell(struct store_group *g, struct group_batch *list)
{
	struct group_batch *b;
	struct group_req *r;
	int rc;

	rc = store__sync(g->st);
	for (b = list; rc && b; b = b->next)
		for (r = b->reqs; r; r = r->next)
			if (r->rc == STORE_OK) {
				json_decref(r->out);
				r->out = NULL;
				r->rc = rc;
				r->err = fl_asprintf("ticket committed to '%s' but not confirmed on disk: "
						     "fsync failed (%s); retry, intake is idempotent",
						     store_url(g->st), store_strerror(rc));
			}

	/* asynchronous callers are told now, outside the lock */
	for (b = list; b; b = b->next) {
		struct group_req *async;

		split(b->reqs, &b->reqs, &async);
		finish_async(async);
	}
	pthread_mutex_lock(&g->lock);
	while (list) {
		b = list;
		list = b->next;
		wake_all(b->reqs);
		free(b);
	}
	pthread_mutex_unlock(&g->lock);
}

static void *syncer(void *arg)
{
	struct store_group *g = arg;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct group_batch *list;

		while (!g->sync_head && !g->committer_done)
			pthread_cond_wait(&g->synced, &g->lock);
		if (!g->sync_head)
			break;
		list = g->sync_head;
		g->sync_head = NULL;
		g->sync_tail = &g->sync_head;
		g->syncing = true;
		pthread_mutex_unlock(&g->lock);
		/* One fsync covers every batch committed so far. */
		sync_and_tell(g, list);
		pthread_mutex_lock(&g->lock);
		g->syncing = false;
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void *committer(void *arg)
{
	struct store_group *g = arg;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct group_req *batch, *r;
		bool committed;
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

		committed = run_batch(g, batch);

		pthread_mutex_lock(&g->lock);
		g->batches++;
		g->tickets += (uint64_t)n;
		if (committed && !g->head && !g->syncing && !g->sync_head) {
			/*
			 * Nobody waits to be committed and the syncer is idle: sync
			 * here, one thread hop fewer for this batch. Under load the
			 * syncer is busy and the next batch commits meanwhile.
			 */
			struct group_batch *b = fl_calloc(1, sizeof(*b));

			b->reqs = batch;
			g->syncing = true;
			pthread_mutex_unlock(&g->lock);
			sync_and_tell(g, b);
			pthread_mutex_lock(&g->lock);
			g->syncing = false;
		} else if (committed) {
			struct group_batch *b = fl_calloc(1, sizeof(*b));

			b->reqs = batch;
			*g->sync_tail = b;
			g->sync_tail = &b->next;
			pthread_cond_signal(&g->synced);
		} else {
			struct group_req *sync, *async;

			split(batch, &sync, &async);
			pthread_mutex_unlock(&g->lock);
			finish_async(async);
			pthread_mutex_lock(&g->lock);
			wake_all(sync);
		}
	}
	g->committer_done = true;
	pthread_cond_signal(&g->synced);
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
	rc = store__open_deferred(url, &g->st, err);
	if (rc) {
		free(g);
		return rc;
	}
	g->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : 512;
	g->tail = &g->head;
	g->sync_tail = &g->sync_head;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->more, NULL);
	pthread_cond_init(&g->synced, NULL);
	if (pthread_create(&g->syncer, NULL, syncer, g))
		fl_die("cannot start the group-commit syncer thread");
	if (pthread_create(&g->thread, NULL, committer, g))
		fl_die("cannot start the group-commit thread");
	*out = g;
	return STORE_OK;
}

int store_group_intake(struct store_group *g, const json_t *ticket, const char *job_kind,
		       const char *idem_key, json_t **out, bool *created, char **err)
{
	struct group_req req = { .ticket = ticket, .job_kind = job_kind, .idem_key = idem_key };

	if (out)
		*out = NULL;
	if (created)
		*created = false;
	if (err)
		*err = NULL;
	pthread_cond_init(&req.wake, NULL);
	pthread_mutex_lock(&g->lock);
	*g->tail = &req;
	g->tail = &req.next;
	pthread_cond_signal(&g->more);
	while (!req.done)
		pthread_cond_wait(&req.wake, &g->lock);
	pthread_mutex_unlock(&g->lock);
	pthread_cond_destroy(&req.wake);
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

int store_group_submit(struct store_group *g, const json_t *ticket, const char *job_kind,
		       const char *idem_key, store_group_done_fn *done, void *arg)
{
	struct group_req *req;

	if (!g || !ticket || !done)
		return STORE_EINVAL;
	req = fl_calloc(1, sizeof(*req));
	req->ticket = ticket;
	req->job_kind = job_kind;
	req->idem_key = idem_key;
	req->rc = STORE_OK;
	req->cb = done;
	req->cb_arg = arg;
	pthread_mutex_lock(&g->lock);
	*g->tail = req;
	g->tail = &req->next;
	pthread_cond_signal(&g->more);
	pthread_mutex_unlock(&g->lock);
	return STORE_OK;
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
	pthread_join(g->syncer, NULL);
	store_close(g->st);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->more);
	pthread_cond_destroy(&g->synced);
	free(g);
}
