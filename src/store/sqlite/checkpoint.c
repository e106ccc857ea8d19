/*
 * Checkpoints for the group commit's connection (defer_sync), off its path.
 *
 * SQLite's automatic checkpoint runs in the committing thread right after a
 * commit once the write-ahead log holds 1,000 frames: it fsyncs the log,
 * copies the pages into the database file and fsyncs that, tens of
 * milliseconds during which no batch commits and every intake waits. Here
 * the connection's WAL hook only wakes a thread of its own, with its own
 * connection, which runs PASSIVE checkpoints (they never block the writer)
 * while the committer goes on. A pass copies the frames present when it
 * starts; a few passes catch up with a writer that pauses now and then, and
 * the log starts over at the next commit once all of it is copied.
 *
 * A writer that never pauses keeps the log from starting over; when it
 * reaches SQ_CKPT_HARD_FRAMES the committer waits for the thread's pass and
 * checkpoints itself, as SQLite would: the log stays bounded (about 64 MB
 * with 4 KiB pages).
 *
 * Durability is unchanged: a checkpoint fsyncs the log before copying from
 * it and the database file before the log may start over (both connections
 * run at synchronous NORMAL or above).
 */
#include <pthread.h>
#include <stdlib.h>

#include "sqlite_int.h"

enum {
	SQ_CKPT_FRAMES = 1000,        /* SQLite's own threshold */
	SQ_CKPT_HARD_FRAMES = 16000,
	SQ_CKPT_PASSES = 4,
};

struct sq_ckpt {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle;
	sqlite3 *db;                  /* the thread's own connection */
	bool wanted, running, stop;
};

static void *checkpointer(void *arg)
{
	struct sq_ckpt *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		int i;

		while (!c->wanted && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (c->stop)
			break;
		c->wanted = false;
		c->running = true;
		pthread_mutex_unlock(&c->lock);
		for (i = 0; i < SQ_CKPT_PASSES; i++) {
			int log = 0, copied = 0;

			if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
						      &copied) != SQLITE_OK || copied >= log)
				break;
		}
		pthread_mutex_lock(&c->lock);
		c->running = false;
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Runs on the committing thread after each commit. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sq_ckpt *c = arg;

	if (frames < SQ_CKPT_FRAMES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->lock);
	if (frames < SQ_CKPT_HARD_FRAMES) {
		c->wanted = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		return SQLITE_OK;
	}
	while (c->running)
		pthread_cond_wait(&c->idle, &c->lock);
	c->running = true;            /* the thread stays out meanwhile */
	pthread_mutex_unlock(&c->lock);
	sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	pthread_mutex_lock(&c->lock);
	c->running = false;
	c->wanted = false;
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

int sq_ckpt_start(struct sq *q)
{
	struct sq_ckpt *c = fl_calloc(1, sizeof(*c));
	int rc;

	rc = sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = store__fail(&q->c.base, STORE_EIO, "cannot open the checkpoint connection: %s",
				 sqlite3_errmsg(c->db));
		sqlite3_close_v2(c->db);
		free(c);
		return rc;
	}
	/* a connection finds the log at its first read: until then it checkpoints nothing */
	rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		rc = store__fail(&q->c.base, STORE_EIO, "cannot read through the checkpoint connection: %s",
				 sqlite3_errmsg(c->db));
		sqlite3_close_v2(c->db);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	pthread_cond_init(&c->idle, NULL);
	if (pthread_create(&c->thread, NULL, checkpointer, c))
		fl_die("cannot start the SQLite checkpoint thread");
	q->ckpt = c;
	sqlite3_wal_hook(q->db, wal_hook, c);
	return STORE_OK;
}

void sq_ckpt_stop(struct sq *q)
{
	struct sq_ckpt *c = q->ckpt;

	if (!c)
		return;
	sqlite3_wal_hook(q->db, NULL, NULL);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sqlite3_close_v2(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->idle);
	free(c);
	q->ckpt = NULL;
}
