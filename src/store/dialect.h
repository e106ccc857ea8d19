/*
 * The seam between the store's SQL and its two engines. SQLite's os_unix.c
 * writes one set of methods and shares it across its VFSes, which differ in
 * a few methods only (their locking); here the verbs both backends share
 * are written once (tickets.c, records.c, queue.c, mail.c, service.c,
 * accounts.c, console.c, chat.c), over
 * a small table of connection-level primitives that each backend fills in
 * (struct store__dialect): prepare, bind and step, row access, control
 * statements, the state of the transaction, and the few places where the
 * engines really differ (how a ticket gets its number, full-text search,
 * writes SQLite defers to the commit, commits that need not wait for the
 * disk). What stays in sqlite/ and postgres/ is what differs: opening,
 * errors, schema and migrations, job and outbox claims, locks, import.
 *
 * The SQL text is written once, in one placeholder syntax, and each dialect
 * rewrites it once, when the statement is first prepared on a connection
 * (the statement cache is keyed by the shared text):
 *
 *   ?  ?N      parameters, numbered as SQLite numbers them (?N is the Nth;
 *              a bare ? is one more than the largest so far); PostgreSQL
 *              gets $N
 *   ::type     a cast PostgreSQL needs to type a parameter (CASE WHEN
 *              ?1::boolean ...), the type one word (float8, not double
 *              precision); SQLite drops it, as it takes values as bound
 *   FOR UPDATE at the end: PostgreSQL locks the rows read; SQLite drops it
 *              (its write transaction already holds the database's one
 *              write lock)
 *
 * Everything else is SQL both engines read the same way (ON CONFLICT ... DO
 * UPDATE with excluded, RETURNING, count(*) FILTER, true/false).
 *
 * Values are bound from a format of one letter per parameter:
 *
 *   t  const char *     text, NULL binds NULL
 *   i  int64_t          integer
 *   j  int64_t          integer, negative binds NULL (timestamps, optional ids)
 *   d  double           real
 *   e  double           real, negative binds NULL
 *   b  int              boolean
 *   x  const void *, size_t    bytes (two arguments)
 *
 * Transactions nest: the outermost level is BEGIN (unless the caller is
 * inside store_begin), inner ones savepoints; a "flat" level opens no
 * savepoint, for operations that validate their input before any SQL (see
 * store__sql_tx_begin_flat). A connection is used by one thread at a time.
 */
#ifndef FL_STORE_DIALECT_H
#define FL_STORE_DIALECT_H

#include <stdarg.h>

#include "store_int.h"

/* The most parameters one statement binds. */
#define STORE__MAX_PARAMS 40

/* One bound value (the format letters above, decoded): only its kind's field is read. */
struct store__val {
	char kind;          /* 't', 'i', 'd', 'b' or 'x' */
	bool null;
	const char *s;      /* t */
	int64_t i;          /* i, and b as 0 or 1 */
	double d;           /* d */
	const void *p;      /* x */
	size_t n;           /* x */
};

/* A statement being run: the current row, and the dialect's handle. */
struct store__cur {
	struct store__row row;  /* ops, handle, row index: what decoders read */
	void *stmt;             /* the dialect's prepared statement */
};

/* What the connection's transaction is in (struct store__dialect.state). */
enum store__tx_state {
	STORE__TX_NONE,     /* no transaction is open */
	STORE__TX_OPEN,     /* a transaction is open and can go on */
	STORE__TX_ABORTED,  /* open, but an error has doomed it: only a rollback ends it */
	STORE__TX_LOST,     /* the connection is gone */
};

struct store__sql;

struct store__dialect {
	const char *name;
	/* The rewriting of the shared SQL (above). */
	bool dollar_params;     /* ?N -> $N */
	bool casts;             /* keep ::type */
	bool for_update;        /* keep a trailing FOR UPDATE */
	/*
	 * A read of several statements runs in a transaction (SQLite: one
	 * snapshot, one lock). PostgreSQL, at READ COMMITTED, takes a snapshot
	 * per statement anyway: there it would only cost two round trips.
	 */
	bool read_tx;
	/*
	 * A failing statement dooms the whole transaction (PostgreSQL), so in
	 * the caller's transaction each statement outside an operation's own
	 * savepoint gets one of its own.
	 */
	bool stmt_aborts_tx;
	/* JSON columns give back the text stored (SQLite's TEXT; jsonb rewrites it). */
	bool json_verbatim;
	/* BEGIN for a write transaction ("BEGIN IMMEDIATE" takes SQLite's write lock at once). */
	const char *begin_write;

	/* ---- statements ---- */

	/* Before a statement: reconnect if needed (NULL: nothing to do). */
	int (*ready)(struct store__sql *c);
	/* Prepares rewritten SQL into *stmt; a store error (recorded) otherwise. */
	int (*prepare)(struct store__sql *c, const char *sql, void **stmt);
	void (*finalize)(struct store__sql *c, void *stmt);
	/* Binds v[0..n) and starts the statement; cur->row is then ready to step. */
	int (*run)(struct store__sql *c, void *stmt, const struct store__val *v, int n,
		   struct store__cur *cur);
	/* 1 with cur->row on the next row, 0 when done, or a negative store error (recorded). */
	int (*step)(struct store__sql *c, struct store__cur *cur);
	/* Ends a run (always, once done with it). */
	void (*done)(struct store__sql *c, struct store__cur *cur);
	/* Rows the finished statement changed (or returned, for RETURNING). */
	int (*changes)(struct store__sql *c, const struct store__cur *cur);

	/* ---- transactions ---- */

	/* A control statement (BEGIN, COMMIT, SAVEPOINT ...); errors recorded. */
	int (*control)(struct store__sql *c, const char *sql);
	/* The same for rollback paths, which keep the first error: nothing recorded. */
	void (*quiet)(struct store__sql *c, const char *sql);
	enum store__tx_state (*state)(struct store__sql *c);
	/* Records why the connection is gone (state STORE__TX_LOST) and returns the error. */
	int (*lost)(struct store__sql *c);
	/*
	 * Writes the dialect defers to the end of a transaction (SQLite: new
	 * tickets' full-text entries), before a commit and before a statement
	 * that reads or edits them; forget drops them (rollback, new
	 * transaction). NULL when there are none.
	 */
	int (*flush)(struct store__sql *c);
	void (*forget)(struct store__sql *c);
	/*
	 * Around a commit a crash may lose without harm (a job's lease
	 * extension, a failed delivery's record): true when the commit inside
	 * will not wait for the disk. NULL: every commit waits.
	 */
	bool (*lazy_begin)(struct store__sql *c);
	void (*lazy_end)(struct store__sql *c, bool lazy);

	/* ---- the schema ---- */

	/*
	 * The schema version (0: a new database); *foreign (may be NULL) true
	 * for a database of another application, which is left untouched.
	 */
	int (*schema_read)(struct store__sql *c, int *version, bool *foreign);
	/* Applies migrations from+1 .. STORE__SCHEMA_VERSION inside the caller's transaction. */
	int (*schema_apply)(struct store__sql *c, int from);
	/*
	 * A statement that takes, for the migrating transaction, a lock keyed by
	 * its one parameter, so that replicas starting together migrate once
	 * (NULL: the write transaction is lock enough).
	 */
	const char *migrate_lock;

	/* ---- the verbs' dialect parts ---- */

	/*
	 * Inserts a validated ticket and its first message, unless idem_key
	 * (may be NULL) or (channel, external_id) names a stored ticket; records
	 * idem_key. *number is the new or the existing ticket, *created whether
	 * it is new, and then *id the id stored (in->external_id, or gen, where
	 * "T-<number>" is written). Runs inside the caller's transaction.
	 */
	int (*ticket_insert)(struct store__sql *c, const struct store__ticket_in *in,
			     const char *idem_key, int64_t now, int64_t *number, bool *created,
			     char gen[32], const char **id);
	/*
	 * The full-text part of a ticket list: appends to sql (which holds
	 * "SELECT <columns> ") the FROM and WHERE that keep the tickets matching
	 * words (a JSON array of words) with one parameter, *match (caller
	 * frees) its value, and *key the column that orders the page and is
	 * compared with the cursor.
	 */
	int (*search)(struct store__sql *c, const json_t *words, struct fl_buf *sql, char **match,
		      const char **key);
	/*
	 * An expression of t.analysis giving the parts a ticket summary reads
	 * (store.h, struct store_ticket_filter's summary), so that a page of
	 * summaries does not carry and decode each triage's whole analysis
	 * (12 KB, most of it the articles found): a JSON array of the fields
	 * rows.c's summary_fields lists, in that order (the response's first
	 * character may do), null where absent, which the ticket's decoder
	 * turns back into an analysis of those fields.
	 */
	const char *analysis_summary;
	/*
	 * After a customer's erasure (privacy.c), inside its transaction: drops
	 * the erased words from the search index where deleted entries
	 * outlive the text (NULL: the index follows the text).
	 */
	int (*erase_purge)(struct store__sql *c);
	/*
	 * A customer's metadata.phone with spaces, hyphens, parentheses and dots
	 * dropped (the form phone_normalize writes), as an expression of the
	 * customers table's metadata column: the customers_phone index is on
	 * it, so a lookup by number is one index probe.
	 */
	const char *customer_phone;
};

/* A cached statement: the shared text (the key) and the dialect's handle. */
struct store__sql_cached {
	char *sql;
	uint64_t hash;
	void *stmt;
};

/* The base of both SQL backends' handles (which embed it first). */
struct store__sql {
	struct store base;
	const struct store__dialect *d;
	struct store__sql_cached *cache;   /* open addressing, power-of-two size */
	size_t ncache, cache_size;
	int depth;                         /* nesting of store__sql_tx_begin */
	uint32_t flat;                     /* levels opened without a savepoint */
	bool own_tx;                       /* the outermost level issued BEGIN */
};

#define STORE__SQL(st) ((struct store__sql *)(st))

/* ---- the driver (sql.c) ---- */

/* The SQL d runs for the shared text sql. Caller frees. */
char *store__sql_rewrite(const struct store__dialect *d, const char *sql);
/* Decodes a format and its arguments into v (at most STORE__MAX_PARAMS); returns the count. */
int store__sql_vals(struct store__val *v, const char *fmt, va_list ap);

/*
 * Runs sql (cached, rewritten on first use) with the values bound; then
 * step with store__sql_step and always end with store__sql_done. On error
 * nothing is left to end.
 */
int store__sql_query(struct store__sql *c, struct store__cur *cur, const char *sql,
		     const char *fmt, ...);
int store__sql_queryv(struct store__sql *c, struct store__cur *cur, const char *sql,
		      const char *fmt, va_list ap);
int store__sql_query_vals(struct store__sql *c, struct store__cur *cur, const char *sql,
			  const struct store__val *v, int n);
/* 1 for a row (cur->row), 0 when done, or a negative store error (recorded). */
int store__sql_step(struct store__sql *c, struct store__cur *cur);
void store__sql_done(struct store__sql *c, struct store__cur *cur);

/* Runs a statement to completion; *changes (may be NULL) gets the rows it changed. */
int store__sql_exec(struct store__sql *c, int *changes, const char *sql, const char *fmt, ...);
/* The first column of the first row as an integer; ENOTFOUND (not recorded) when no row. */
int store__sql_int(struct store__sql *c, int64_t *out, const char *sql, const char *fmt, ...);
/* Appends decode(row) for each row to *arr (created if NULL). */
int store__sql_rows(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t **arr,
		    const char *sql, const char *fmt, ...);
/* At most one row: *out = decode(row), ENOTFOUND (not recorded) otherwise. */
int store__sql_one(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t **out,
		   const char *sql, const char *fmt, ...);

/*
 * Transactions. store__sql_tx_begin opens a level (write: the dialect's
 * begin_write when outermost); store__sql_tx_end closes it, committing or
 * releasing when rc is STORE_OK, rolling back otherwise, and returns rc or
 * the commit's error.
 */
int store__sql_tx_begin(struct store__sql *c, bool write);
/*
 * A write transaction, or inside one no savepoint: for operations that
 * validate their input before any SQL, so that what fails afterwards is
 * the environment. Savepoints are not free: FTS5 flushes its pending index
 * at each, and each is a PostgreSQL subtransaction (more than 64 in one
 * transaction, as a group commit of intakes would open, slow every
 * session). A failure after some writes dooms the caller's transaction.
 */
int store__sql_tx_begin_flat(struct store__sql *c);
int store__sql_tx_end(struct store__sql *c, int rc);
/* A read of several statements: a transaction where the dialect wants one (read_tx). */
int store__sql_read_begin(struct store__sql *c);
int store__sql_read_end(struct store__sql *c, int rc);
/* The dialect's lazy_begin/lazy_end, or nothing. */
bool store__sql_lazy_begin(struct store__sql *c);
void store__sql_lazy_end(struct store__sql *c, bool lazy);

/* Initialises the shared part of a backend's handle (zeroed before). */
void store__sql_init(struct store__sql *c, const struct store__dialect *d);
/* Finalizes and forgets every cached statement (closing, or a new session). */
void store__sql_cache_clear(struct store__sql *c);

/* The ops for store_migrate, store_schema_version, store_ping. */
int store__sql_migrate(struct store *st, int *from, int *to);
int store__sql_schema_version(struct store *st, int *version);
int store__sql_ping(struct store *st);
/* The ops for store_begin, store_commit and store_rollback. */
int store__sql_begin(struct store *st, bool immediate);
int store__sql_commit(struct store *st);
void store__sql_rollback(struct store *st);

/* ---- shared statements and helpers of the verbs ---- */

#define STORE__SQL_JOB_INSERT /* tjtiiitii */ \
	"INSERT INTO jobs (kind, ticket_number, payload, status, attempts, max_attempts, run_at, " \
	"due_at, dedupe_key, created_at, updated_at) " \
	"VALUES (?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
#define STORE__SQL_EVENT_INSERT /* jttti */ \
	"INSERT INTO events (ticket_number, type, actor, data, created_at) VALUES (?, ?, ?, ?, ?)"

/* The ticket number for a ticket_id argument ("T-000042" or an id); ENOTFOUND recorded. */
int store__sql_ticket_number(struct store__sql *c, const char *ref, int64_t *number);
int store__sql_ticket_load(struct store__sql *c, int64_t number, json_t **out);

/*
 * A validated ticket's row as number with id (the updated_at stored is now,
 * or created_at when later); or_nothing adds ON CONFLICT DO NOTHING, and
 * *changes (may be NULL) then says whether it went in. Then its first
 * message, the inbound one with the ticket's content.
 */
int store__sql_ticket_row_insert(struct store__sql *c, const struct store__ticket_in *in,
				 int64_t number, const char *id, int64_t now, bool or_nothing, int *changes);
int store__sql_first_message_insert(struct store__sql *c, const struct store__ticket_in *in,
				    int64_t number);

/*
 * A job claim's work inside the claim's write transaction: runs next[1]
 * (with kind) or next[0] (any kind), the dialect's query for the id,
 * status, attempts and max_attempts of the oldest due job, with now as the
 * first parameter and kind the second; moves a job whose lease ran out on
 * its last attempt to the dead letter list and looks again; leases the
 * first other one to owner until until and reads it into *out. ENOTFOUND
 * (recorded) when no job is due.
 */
int store__sql_job_lease_next(struct store__sql *c, const char *const next[2], const char *kind,
			      const char *owner, int64_t now, int64_t until, struct store_job **out);
/*
 * Ends the claim's transaction: commits what it did also when it found no
 * job (the dead letters it moved stay moved); frees *out on error.
 */
int store__sql_job_claim_end(struct store__sql *c, int rc, struct store_job **out);

/* ---- the shared verbs (tickets.c, records.c, queue.c, mail.c, service.c) ---- */

int store__sql_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
			     const char *idem_key, json_t **out, bool *created);
int store__sql_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out);
int store__sql_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out);
int store__sql_ticket_update(struct store *st, const char *id, int64_t expected_version,
			     const json_t *fields, const char *actor, json_t **out);
int store__sql_message_add(struct store *st, const char *ticket_id, const json_t *msg,
			   json_t **out, bool *created);
int store__sql_message_list(struct store *st, const char *ticket_id, json_t **out);
int store__sql_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket);

int store__sql_customer_get(struct store *st, const char *id, json_t **out);
int store__sql_customer_find_by_email(struct store *st, const char *email, json_t **out);
int store__sql_customer_upsert(struct store *st, const json_t *customer);
int store__sql_customer_update_metrics(struct store *st, const char *id, double satisfaction);
int store__sql_customer_list(struct store *st, int limit, int offset, json_t **out);
int store__sql_kb_upsert(struct store *st, const json_t *article);
int store__sql_kb_get(struct store *st, const char *id, json_t **out);
int store__sql_kb_list(struct store *st, json_t **out);
int store__sql_kb_delete(struct store *st, const char *id);
int store__sql_escalation_open(struct store *st, const char *ticket_id, const char *priority,
			       const char *department, const json_t *package, json_t **out,
			       bool *created);
int store__sql_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out);
int store__sql_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out);
int store__sql_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out);
int store__sql_escalation_get(struct store *st, int64_t id, json_t **out);
int store__sql_escalation_list(struct store *st, const char *status, int limit, json_t **out);
int store__sql_event_append(struct store *st, const char *ticket_id, const char *type,
			    const char *actor, const json_t *data);
int store__sql_event_list(struct store *st, const char *ticket_id, int limit, json_t **out);
int store__sql_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out);
int store__sql_token_insert(struct store *st, const char *name, const char *role,
			    const char *hash_hex, json_t **out);
int store__sql_token_find(struct store *st, const char *hash_hex, json_t **out);
int store__sql_token_list(struct store *st, json_t **out);
int store__sql_token_revoke(struct store *st, int64_t id);

int store__sql_outbox_enqueue(struct store *st, const char *channel, const char *target,
			      const json_t *payload, const char *dedupe_key, bool *created);
int store__sql_outbox_mark_sent(struct store *st, int64_t id);
int store__sql_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
			   int max_attempts);
int store__sql_outbox_list(struct store *st, const char *status, int limit, json_t **out);
int store__sql_outbox_retry(struct store *st, int64_t id);
int store__sql_outbox_begin(struct store *st, int64_t id, const char *owner, int lease_s);
int store__sql_outbox_extend(struct store *st, const char *owner, int lease_s, int *extended);
int store__sql_secret_get(struct store *st, const char *name, unsigned char *out, size_t len);
int store__sql_message_decide(struct store *st, const char *ticket_id, int64_t message_id,
			      const char *approval, const char *actor, json_t **out);
int store__sql_outbox_counts(struct store *st, json_t **out);
int store__sql_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
			   const json_t *payload, int max_attempts, int64_t run_at_us,
			   const char *dedupe_key);
int store__sql_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s);
int store__sql_job_complete(struct store *st, int64_t id, const char *owner);
int store__sql_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
			int64_t backoff_us);
int store__sql_job_retry(struct store *st, int64_t id);
int store__sql_job_release(struct store *st, int64_t id, const char *owner);
int store__sql_job_list(struct store *st, const char *status, int limit, json_t **out);
int store__sql_job_counts(struct store *st, json_t **out);

int store__sql_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
			char sha256_hex[65], bool *created);
int store__sql_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len,
			json_t **meta);
int store__sql_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
			    json_t **out, bool *created);
int store__sql_mail_raw_finish(struct store *st, int64_t id, const char *status,
			       const char *ticket_id, const char *error);
int store__sql_mail_raw_get(struct store *st, int64_t id, json_t **out);
int store__sql_mail_raw_list(struct store *st, const char *status, int limit, json_t **out);
int store__sql_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity,
			      int64_t *last_uid);
int store__sql_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity,
			      int64_t last_uid);
int store__sql_rate_hit(struct store *st, const char *key, int window_s, int64_t *count);

int store__sql_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised);
int store__sql_alert_resolve(struct store *st, const char *type, json_t **out);
int store__sql_alert_list(struct store *st, const char *status, int limit, json_t **out);

int store__sql_user_insert(struct store *st, const json_t *user, const char *password_hash, json_t **out);
int store__sql_user_get(struct store *st, int64_t id, json_t **out);
int store__sql_user_find_by_email(struct store *st, const char *email, json_t **out, char **password_hash);
int store__sql_user_list(struct store *st, json_t **out);
int store__sql_user_update(struct store *st, int64_t id, const json_t *fields, const char *password_hash,
			   json_t **out);
int store__sql_session_insert(struct store *st, int64_t user_id, const char *hash_hex, const char *address,
			      int idle_s, int max_s, json_t **out);
int store__sql_session_find(struct store *st, const char *hash_hex, int idle_s, json_t **out);
int store__sql_session_delete(struct store *st, const char *hash_hex);
int store__sql_login_failure_add(struct store *st, const char *key, int window_s);
int store__sql_login_failures(struct store *st, const char *key, int window_s, int64_t *count,
			      int64_t *oldest_us);
int store__sql_login_failures_clear(struct store *st, const char *key);
int store__sql_presence_set(struct store *st, const char *ticket_id, int64_t user_id, const char *state);
int store__sql_presence_list(struct store *st, const char *ticket_id, int64_t since_us, json_t **out);
int store__sql_canned_list(struct store *st, json_t **out);
int store__sql_canned_put(struct store *st, const char *id, const char *title, const char *body,
			  const char *actor, json_t **out, bool *created);
int store__sql_canned_delete(struct store *st, const char *id);
/* macros.c */
int store__sql_macro_list(struct store *st, json_t **out);
int store__sql_macro_get(struct store *st, const char *name, json_t **out);
int store__sql_macro_put(struct store *st, const char *name, const char *description, const json_t *actions,
			 const char *actor, json_t **out, bool *created);
int store__sql_macro_delete(struct store *st, const char *name);
/* surveys.c */
int store__sql_survey_open(struct store *st, const char *ticket_id, const char *token_hash, int64_t expires_at_us,
			   bool *created);
int store__sql_survey_find(struct store *st, const char *token_hash, json_t **out);
int store__sql_survey_answer(struct store *st, const char *token_hash, int score, const char *comment,
			     json_t **out);
int store__sql_survey_stats(struct store *st, int64_t since_us, json_t **out);
int store__sql_event_since(struct store *st, int64_t after_id, int limit, json_t **out);
int store__sql_event_last_id(struct store *st, int64_t *id);
int store__sql_ticket_counts(struct store *st, const char *user, json_t **out);
int store__sql_metrics_timeseries(struct store *st, int64_t since_us, int64_t until_us, int bucket_s,
				  json_t **out);
int store__sql_corrections(struct store *st, int64_t since_us, json_t **out);
int store__sql_customer_export(struct store *st, const char *id, json_t **out);
int store__sql_customer_erase(struct store *st, const char *id, const char *actor, json_t **out);
int store__sql_sla_list(struct store *st, const char *kind, json_t **out);
int store__sql_sla_put(struct store *st, const char *kind, const char *id, const json_t *body, int64_t position,
		       const char *actor, json_t **out, bool *created);
int store__sql_sla_delete(struct store *st, const char *kind, const char *id);
int store__sql_sla_history(struct store *st, const char *kind, const char *id, json_t **out);
int store__sql_chat_session_insert(struct store *st, const char *id, const char *hash_hex, const char *name,
				   const char *email, const char *address, json_t **out);
int store__sql_chat_session_find(struct store *st, const char *id, const char *hash_hex, json_t **out);
int store__sql_chat_session_of_ticket(struct store *st, const char *ticket_id, json_t **out);
int store__sql_chat_session_link(struct store *st, const char *id, const char *ticket_id);
int store__sql_chat_session_by_email(struct store *st, const char *id, const char *email);
int store__sql_agents_available(struct store *st, int64_t since_us, int64_t *count);
/* departments.c: assignment (issue 18) */
int store__sql_department_list(struct store *st, json_t **out);
int store__sql_department_get(struct store *st, const char *id, json_t **out);
int store__sql_department_put(struct store *st, const char *id, const json_t *body, const char *actor,
			      json_t **out);
int store__sql_ticket_assign(struct store *st, const char *ticket_id, int idle_s, json_t **out);
int store__sql_assign_queued(struct store *st, int64_t user_id, int idle_s, int limit, json_t **out);
int store__sql_sla_window(struct store *st, int64_t since_us, int64_t until_us, int limit, json_t **out);
int store__sql_sla_facts(struct store *st, const json_t *tickets, json_t **out);
int store__sql_chat_typing_set(struct store *st, const char *ticket_id, bool typing);
int store__sql_chat_typing_list(struct store *st, int64_t since_us, json_t **out);

/* calls.c (and privacy.c's export: a call's row, decoded) */
#define STORE__CALL_SELECT \
	"SELECT c.provider, c.call_id, c.from_number, c.to_number, c.status, c.status_rank, c.transcript," \
	" c.recording_url, t.id, t.number, c.created_at, c.updated_at" \
	" FROM calls c LEFT JOIN tickets t ON t.number = c.ticket_number"
json_t *store__call_json(const struct store__row *r);
int store__sql_call_record(struct store *st, const json_t *call, int status_rank, json_t **out);
int store__sql_call_get(struct store *st, const char *provider, const char *call_id, json_t **out);
int store__sql_call_ticket_sync(struct store *st, const char *provider, const char *call_id,
				const char *ticket_id, const json_t *want, bool *retriaged);
int store__sql_customer_find_by_phone(struct store *st, const char *number, json_t **out);

/*
 * The shared verbs as ops-table entries: a backend's struct store_ops lists
 * STORE__SQL_OPS beside its own open, close, ticket_import, job_claim,
 * outbox_claim, lock_try, lock_release, sync and defer_sync.
 */
#define STORE__SQL_OPS \
	.migrate = store__sql_migrate, \
	.schema_version = store__sql_schema_version, \
	.ping = store__sql_ping, \
	.begin = store__sql_begin, \
	.commit = store__sql_commit, \
	.rollback = store__sql_rollback, \
	.ticket_intake = store__sql_ticket_intake, \
	.ticket_get = store__sql_ticket_get, \
	.ticket_list = store__sql_ticket_list, \
	.ticket_update = store__sql_ticket_update, \
	.message_add = store__sql_message_add, \
	.message_list = store__sql_message_list, \
	.message_find_by_email_id = store__sql_message_find_by_email_id, \
	.customer_get = store__sql_customer_get, \
	.customer_find_by_email = store__sql_customer_find_by_email, \
	.customer_upsert = store__sql_customer_upsert, \
	.customer_update_metrics = store__sql_customer_update_metrics, \
	.customer_list = store__sql_customer_list, \
	.kb_upsert = store__sql_kb_upsert, \
	.kb_get = store__sql_kb_get, \
	.kb_list = store__sql_kb_list, \
	.kb_delete = store__sql_kb_delete, \
	.escalation_open = store__sql_escalation_open, \
	.escalation_claim = store__sql_escalation_claim, \
	.escalation_release = store__sql_escalation_release, \
	.escalation_close = store__sql_escalation_close, \
	.escalation_get = store__sql_escalation_get, \
	.escalation_list = store__sql_escalation_list, \
	.event_append = store__sql_event_append, \
	.event_list = store__sql_event_list, \
	.outbox_enqueue = store__sql_outbox_enqueue, \
	.outbox_mark_sent = store__sql_outbox_mark_sent, \
	.outbox_fail = store__sql_outbox_fail, \
	.outbox_list = store__sql_outbox_list, \
	.job_enqueue = store__sql_job_enqueue, \
	.job_heartbeat = store__sql_job_heartbeat, \
	.job_complete = store__sql_job_complete, \
	.job_fail = store__sql_job_fail, \
	.job_retry = store__sql_job_retry, \
	.job_list = store__sql_job_list, \
	.job_counts = store__sql_job_counts, \
	.metrics = store__sql_metrics, \
	.token_insert = store__sql_token_insert, \
	.token_find = store__sql_token_find, \
	.token_list = store__sql_token_list, \
	.token_revoke = store__sql_token_revoke, \
	.blob_put = store__sql_blob_put, \
	.blob_get = store__sql_blob_get, \
	.mail_raw_put = store__sql_mail_raw_put, \
	.mail_raw_finish = store__sql_mail_raw_finish, \
	.mail_raw_get = store__sql_mail_raw_get, \
	.mail_raw_list = store__sql_mail_raw_list, \
	.imap_state_get = store__sql_imap_state_get, \
	.imap_state_set = store__sql_imap_state_set, \
	.rate_hit = store__sql_rate_hit, \
	.alert_raise = store__sql_alert_raise, \
	.alert_resolve = store__sql_alert_resolve, \
	.alert_list = store__sql_alert_list, \
	.job_release = store__sql_job_release, \
	.outbox_retry = store__sql_outbox_retry, \
	.outbox_counts = store__sql_outbox_counts, \
	.secret_get = store__sql_secret_get, \
	.message_decide = store__sql_message_decide, \
	.outbox_begin = store__sql_outbox_begin, \
	.outbox_extend = store__sql_outbox_extend, \
	.user_insert = store__sql_user_insert, \
	.user_get = store__sql_user_get, \
	.user_find_by_email = store__sql_user_find_by_email, \
	.user_list = store__sql_user_list, \
	.user_update = store__sql_user_update, \
	.session_insert = store__sql_session_insert, \
	.session_find = store__sql_session_find, \
	.session_delete = store__sql_session_delete, \
	.login_failure_add = store__sql_login_failure_add, \
	.login_failures = store__sql_login_failures, \
	.login_failures_clear = store__sql_login_failures_clear, \
	.presence_set = store__sql_presence_set, \
	.presence_list = store__sql_presence_list, \
	.canned_list = store__sql_canned_list, \
	.canned_put = store__sql_canned_put, \
	.canned_delete = store__sql_canned_delete, \
	.event_since = store__sql_event_since, \
	.event_last_id = store__sql_event_last_id, \
	.ticket_counts = store__sql_ticket_counts, \
	.metrics_timeseries = store__sql_metrics_timeseries, \
	.corrections = store__sql_corrections, \
	.customer_export = store__sql_customer_export, \
	.customer_erase = store__sql_customer_erase, \
	.survey_open = store__sql_survey_open, \
	.survey_find = store__sql_survey_find, \
	.survey_answer = store__sql_survey_answer, \
	.survey_stats = store__sql_survey_stats, \
	.sla_list = store__sql_sla_list, \
	.sla_put = store__sql_sla_put, \
	.sla_delete = store__sql_sla_delete, \
	.sla_history = store__sql_sla_history, \
	.chat_session_insert = store__sql_chat_session_insert, \
	.chat_session_find = store__sql_chat_session_find, \
	.chat_session_of_ticket = store__sql_chat_session_of_ticket, \
	.chat_session_link = store__sql_chat_session_link, \
	.chat_session_by_email = store__sql_chat_session_by_email, \
	.agents_available = store__sql_agents_available, \
	.macro_list = store__sql_macro_list, \
	.macro_get = store__sql_macro_get, \
	.macro_put = store__sql_macro_put, \
	.macro_delete = store__sql_macro_delete, \
	.department_list = store__sql_department_list, \
	.department_get = store__sql_department_get, \
	.department_put = store__sql_department_put, \
	.ticket_assign = store__sql_ticket_assign, \
	.assign_queued = store__sql_assign_queued, \
	.sla_window = store__sql_sla_window, \
	.sla_facts = store__sql_sla_facts, \
	.call_record = store__sql_call_record, \
	.call_get = store__sql_call_get, \
	.call_ticket_sync = store__sql_call_ticket_sync, \
	.customer_find_by_phone = store__sql_customer_find_by_phone, \
	.chat_typing_set = store__sql_chat_typing_set, \
	.chat_typing_list = store__sql_chat_typing_list

#endif
