/*
 * The SQLite backend's private declarations: the handle (embedding struct
 * store__sql, and through it struct store, first), the SQLite dialect of
 * the shared SQL layer (dialect.h), and what only this backend does:
 * full-text entries written once per transaction, commits that need not
 * wait for the disk, checkpoints on a thread of their own, claims under the
 * database's one write lock, locks as lease rows.
 */
#ifndef FL_STORE_SQLITE_INT_H
#define FL_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/dialect.h"

struct sq {
	struct store__sql c;
	sqlite3 *db;
	char *path;
	int64_t busy_ms, busy_since;  /* waiting for a lock (busy_wait) */
	bool opened;                  /* a Frontline database, fully opened */
	bool defer_sync;              /* synchronous=normal; sq_sync fsyncs the WAL */
	bool sync_full;               /* synchronous is full or extra (every commit fsyncs) */
	char sync_pragma[40];         /* "PRAGMA synchronous=...": the level given at opening */
	bool deferring;               /* inside store_defer_sync(true .. false) */
	struct sq_ckpt *ckpt;         /* defer_sync: checkpoints on a thread (checkpoint.c) */
	int64_t *fts_pending;         /* tickets inserted in this transaction, not yet in tickets_fts */
	size_t fts_n, fts_cap;
};

#define SQ(st) ((struct sq *)(st))

/* Maps a SQLite result to a store error recorded on q (with SQLite's message). */
int sq_fail(struct sq *q, int rc);

/*
 * Lazy commits for what a crash may lose without harm (a job's claim or lease
 * extension: lost, the job is claimed again; its results and completion are
 * stored in one durable transaction): between sq_lazy_begin and sq_lazy_end
 * an outermost commit reaches the OS but does not wait for the disk. It
 * survives a process crash; after a power loss it may be gone. The next
 * durable commit carries it to the disk. No-ops unless every commit fsyncs
 * and no transaction is open. (The dialect's lazy_begin, lazy_end.)
 */
bool sq_lazy_begin(struct store__sql *c);
void sq_lazy_end(struct store__sql *c, bool lazy);

/*
 * The full-text entries of the tickets inserted in the current transaction
 * are written by one statement just before it commits, not by a trigger per
 * ticket: FTS5 writes its pending terms to disk at the end of every
 * statement that runs with a statement journal (an insert with constraints,
 * inside a transaction), so a trigger made one index segment per ticket, and
 * merging those segments cost more than the rest of an intake. One statement
 * per transaction makes one segment per group commit.
 *
 * sq_fts_add notes a new ticket; sq_fts_flush indexes the noted ones (those
 * still present: a savepoint may have rolled one back) and runs before a
 * commit and before anything that reads or edits the index inside the
 * transaction (search, a subject change); sq_fts_forget drops the notes
 * (rollback, a new transaction). (The dialect's flush and forget.)
 */
void sq_fts_add(struct sq *q, int64_t number);
int sq_fts_flush(struct store__sql *c);
/* The dialect's erase_purge: merges the full-text index's segments, dropping deleted terms. */
int sq_erase_purge(struct store__sql *c);
void sq_fts_forget(struct store__sql *c);

/*
 * A deferred connection's checkpoints run on a thread with a connection of
 * its own (checkpoint.c); start once the database is migrated, stop before
 * closing q->db.
 */
int sq_ckpt_start(struct sq *q);
void sq_ckpt_stop(struct sq *q);

/* Migrations (schema.c). */
int sq_schema_read(struct store__sql *c, int *version, bool *foreign);
int sq_schema_apply(struct store__sql *c, int from);

/* The dialect's verb parts and this backend's own ops (tickets.c, queue.c). */
int sq_ticket_insert(struct store__sql *c, const struct store__ticket_in *in, const char *idem_key,
		     int64_t now, int64_t *number, bool *created, char gen[32], const char **id);
int sq_search(struct store__sql *c, const json_t *words, struct fl_buf *sql, char **match,
	      const char **key);
int sq_ticket_import(struct store *st, const json_t *tickets, size_t *imported);
int sq_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out);
int sq_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out);
int sq_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired);
int sq_lock_release(struct store *st, const char *name, const char *owner);

/* A customer's phone number as phone_normalize writes it (dialect.h customer_phone; migration 14's index). */
#define SQ_CUSTOMER_PHONE \
	"replace(replace(replace(replace(replace(json_extract(metadata, '$.phone'), ' ', ''), '-', ''), '(', ''),"\
	" ')', ''), '.', '')"

#endif
