/*
 * The SQLite backend's private declarations: the handle (embedding struct
 * store first), the per-connection statement cache, transactions that nest
 * as savepoints, and a small binding language shared by its files:
 *
 *   t  const char *     text, NULL binds NULL
 *   i  int64_t          integer
 *   j  int64_t          integer, negative binds NULL (timestamps, optional ids)
 *   d  double           real
 *   e  double           real, negative binds NULL
 *   b  int              0 or 1
 */
#ifndef FL_STORE_SQLITE_INT_H
#define FL_STORE_SQLITE_INT_H

#include <stdarg.h>
#include <sqlite3.h>

#include "store/store_int.h"

struct sq_cached {
	char *sql;
	uint64_t hash;
	sqlite3_stmt *stmt;
};

struct sq {
	struct store base;
	sqlite3 *db;
	char *path;
	struct sq_cached *cache;      /* open addressing, power-of-two size */
	size_t ncache, cache_size;
	int64_t busy_ms, busy_since;  /* waiting for a lock (busy_wait) */
	int depth;                    /* nesting of sq_tx_begin */
	uint32_t flat;                /* levels opened by sq_tx_begin_flat without a savepoint */
	bool own_tx;                  /* the outermost sq_tx_begin issued BEGIN */
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

/*
 * Lazy commits for what a crash may lose without harm (a job's claim or lease
 * extension: lost, the job is claimed again; its results and completion are
 * stored in one durable transaction): between sq_lazy_begin and sq_lazy_end
 * an outermost commit reaches the OS but does not wait for the disk. It
 * survives a process crash; after a power loss it may be gone. The next
 * durable commit carries it to the disk. No-ops unless every commit fsyncs
 * and no transaction is open.
 */
bool sq_lazy_begin(struct sq *q);
void sq_lazy_end(struct sq *q, bool lazy);
/* Maps a SQLite result to a store error recorded on q (with SQLite's message). */
int sq_fail(struct sq *q, int rc);
/* Prepared (cached) statement for sql with the arguments bound. */
int sq_prepare(struct sq *q, const char *sql, sqlite3_stmt **out, const char *fmt, ...);
int sq_preparev(struct sq *q, const char *sql, sqlite3_stmt **out, const char *fmt, va_list ap);
/* Steps: 1 for a row, 0 when done, or a negative store error (recorded). */
int sq_step(struct sq *q, sqlite3_stmt *s);
/* Resets a statement after use (always call once done with a query). */
void sq_done(sqlite3_stmt *s);
/* Runs a statement to completion; *changes (may be NULL) gets the rows changed. */
int sq_exec(struct sq *q, int *changes, const char *sql, const char *fmt, ...);
/* Runs a query expected to return one integer; ENOTFOUND when no row. */
int sq_int(struct sq *q, int64_t *out, const char *sql, const char *fmt, ...);
/* Runs a query and appends decode(row) for each row to *arr (created if NULL). */
int sq_rows(struct sq *q, json_t *(*decode)(const struct store__row *), json_t **arr,
	    const char *sql, const char *fmt, ...);
/* Runs a query for at most one row: *out = decode(row), ENOTFOUND otherwise. */
int sq_row(struct sq *q, json_t *(*decode)(const struct store__row *), json_t **out,
	   const char *sql, const char *fmt, ...);
/* The row accessor over a statement positioned on a row. */
struct store__row sq_row_of(sqlite3_stmt *s);

/*
 * Transactions: the outermost sq_tx_begin issues BEGIN IMMEDIATE (write) or
 * BEGIN (read) unless the caller is inside store_begin; nested ones are
 * savepoints. sq_tx_end commits (rc STORE_OK) or rolls back, and returns rc
 * or the commit's error.
 */
int sq_tx_begin(struct sq *q, bool write);
int sq_tx_end(struct sq *q, int rc);
/*
 * A write transaction, or inside one no savepoint: for operations that
 * validate their input before any SQL, so that what fails afterwards is the
 * environment. FTS5 flushes its pending index at every savepoint, so a
 * group commit of intakes each in a savepoint wrote one index segment per
 * ticket. A failure after some writes dooms the caller's transaction.
 */
int sq_tx_begin_flat(struct sq *q);

/* Statements more than one file runs (bind formats beside them). */
#define SQ_JOB_INSERT /* tjtiiitii */ \
	"INSERT INTO jobs (kind, ticket_number, payload, status, attempts, max_attempts, run_at, " \
	"due_at, dedupe_key, created_at, updated_at) " \
	"VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
#define SQ_EVENT_INSERT /* jttti */ \
	"INSERT INTO events (ticket_number, type, actor, data, created_at) VALUES (?, ?, ?, ?, ?)"

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
 * still present: a savepoint may have rolled one back) and is called before
 * a commit and before anything that reads or edits the index inside the
 * transaction (search, a subject change); sq_fts_forget drops the notes
 * (rollback, a new transaction).
 */
void sq_fts_add(struct sq *q, int64_t number);
int sq_fts_flush(struct sq *q);
void sq_fts_forget(struct sq *q);

/*
 * A deferred connection's checkpoints run on a thread with a connection of
 * its own (checkpoint.c); start once the database is migrated, stop before
 * closing q->db.
 */
int sq_ckpt_start(struct sq *q);
void sq_ckpt_stop(struct sq *q);

/* The ticket number for a ticket_id argument ("T-000042" or an id). */
int sq_ticket_number(struct sq *q, const char *ref, int64_t *number);
int sq_ticket_load(struct sq *q, int64_t number, json_t **out);

/* Migrations (schema.c). */
int sq_schema_apply(struct sq *q, int from);
int sq_schema_read(struct sq *q, int *version, bool *foreign);

/* The ops, by file. */
int sq_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
		     const char *idem_key, json_t **out, bool *created);
int sq_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out);
int sq_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out);
int sq_ticket_update(struct store *st, const char *id, int64_t expected_version,
		     const json_t *fields, const char *actor, json_t **out);
int sq_ticket_import(struct store *st, const json_t *tickets, size_t *imported);
int sq_message_add(struct store *st, const char *ticket_id, const json_t *msg, json_t **out,
		   bool *created);
int sq_message_list(struct store *st, const char *ticket_id, json_t **out);
int sq_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket);

int sq_customer_get(struct store *st, const char *id, json_t **out);
int sq_customer_find_by_email(struct store *st, const char *email, json_t **out);
int sq_customer_upsert(struct store *st, const json_t *customer);
int sq_customer_update_metrics(struct store *st, const char *id, double satisfaction);
int sq_customer_list(struct store *st, int limit, int offset, json_t **out);
int sq_kb_upsert(struct store *st, const json_t *article);
int sq_kb_get(struct store *st, const char *id, json_t **out);
int sq_kb_list(struct store *st, json_t **out);
int sq_kb_delete(struct store *st, const char *id);
int sq_escalation_open(struct store *st, const char *ticket_id, const char *priority,
		       const char *department, const json_t *package, json_t **out, bool *created);
int sq_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out);
int sq_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out);
int sq_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out);
int sq_escalation_get(struct store *st, int64_t id, json_t **out);
int sq_escalation_list(struct store *st, const char *status, int limit, json_t **out);
int sq_event_append(struct store *st, const char *ticket_id, const char *type, const char *actor,
		    const json_t *data);
int sq_event_list(struct store *st, const char *ticket_id, int limit, json_t **out);
int sq_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out);
int sq_token_insert(struct store *st, const char *name, const char *role, const char *hash_hex,
		    json_t **out);
int sq_token_find(struct store *st, const char *hash_hex, json_t **out);
int sq_token_list(struct store *st, json_t **out);
int sq_token_revoke(struct store *st, int64_t id);

int sq_outbox_enqueue(struct store *st, const char *channel, const char *target,
		      const json_t *payload, const char *dedupe_key, bool *created);
int sq_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out);
int sq_outbox_mark_sent(struct store *st, int64_t id);
int sq_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		   int max_attempts);
int sq_outbox_list(struct store *st, const char *status, int limit, json_t **out);
int sq_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		   const json_t *payload, int max_attempts, int64_t run_at_us,
		   const char *dedupe_key);
int sq_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out);
int sq_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s);
int sq_job_complete(struct store *st, int64_t id, const char *owner);
int sq_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		int64_t backoff_us);
int sq_job_retry(struct store *st, int64_t id);
int sq_job_list(struct store *st, const char *status, int limit, json_t **out);
int sq_job_counts(struct store *st, json_t **out);

/* The email channel's records (mail.c). */
int sq_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		char sha256_hex[65], bool *created);
int sq_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len, json_t **meta);
int sq_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		    json_t **out, bool *created);
int sq_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
		       const char *error);
int sq_mail_raw_get(struct store *st, int64_t id, json_t **out);
int sq_mail_raw_list(struct store *st, const char *status, int limit, json_t **out);
int sq_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity, int64_t *last_uid);
int sq_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity, int64_t last_uid);
int sq_rate_hit(struct store *st, const char *key, int window_s, int64_t *count);

/* The service's records (service.c). */
int sq_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised);
int sq_alert_resolve(struct store *st, const char *type, json_t **out);
int sq_alert_list(struct store *st, const char *status, int limit, json_t **out);
int sq_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired);
int sq_lock_release(struct store *st, const char *name, const char *owner);
int sq_job_release(struct store *st, int64_t id, const char *owner);
int sq_outbox_retry(struct store *st, int64_t id);
int sq_outbox_counts(struct store *st, json_t **out);

#endif
