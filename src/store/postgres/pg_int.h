/*
 * The PostgreSQL backend's private declarations: the handle (embedding
 * struct store first), the per-session cache of named prepared statements,
 * transactions that nest as savepoints, and the binding language its files
 * share (the same letters as the SQLite backend's; parameters travel as
 * text, $1..$n in the SQL):
 *
 *   t  const char *     text, NULL binds NULL
 *   i  int64_t          integer
 *   j  int64_t          integer, negative binds NULL
 *   d  double           real
 *   e  double           real, negative binds NULL
 *   b  int              boolean
 */
#ifndef FL_STORE_PG_INT_H
#define FL_STORE_PG_INT_H

#include <stdarg.h>
#include <libpq-fe.h>

#include "store/store_int.h"

struct pg_cached {
	char *sql;
	uint64_t hash;
	int nparams;
	char name[16];
};

struct pg {
	struct store base;
	PGconn *conn;
	struct pg_cached *cache;      /* open addressing, power-of-two size */
	size_t ncache, cache_size;
	unsigned next_name;
	int depth;                    /* nesting of pg_tx_begin */
	uint32_t flat;                /* levels opened by pg_tx_begin_flat without a savepoint */
	bool own_tx;
};

#define PG(st) ((struct pg *)(st))

/* Records the error of a failed result (or of the connection) on p. */
int pg_fail(struct pg *p, const PGresult *res);
/* Runs a cached prepared statement; *res (caller PQclears) on success. */
int pg_query(struct pg *p, PGresult **res, const char *sql, const char *fmt, ...);
int pg_queryv(struct pg *p, PGresult **res, const char *sql, const char *fmt, va_list ap);
/* The same with parameters already as text (NULL: SQL NULL). */
int pg_query_values(struct pg *p, PGresult **res, const char *sql, int n, const char *const *values);
/* Runs a statement; *changes (may be NULL) gets the rows it changed or returned. */
int pg_exec(struct pg *p, int *changes, const char *sql, const char *fmt, ...);
/* One integer from the first row; ENOTFOUND when no row. */
int pg_int(struct pg *p, int64_t *out, const char *sql, const char *fmt, ...);
/* Appends decode(row) for each row to *arr (created if NULL). */
int pg_rows(struct pg *p, json_t *(*decode)(const struct store__row *), json_t **arr,
	    const char *sql, const char *fmt, ...);
/* At most one row: *out = decode(row), ENOTFOUND otherwise. */
int pg_row(struct pg *p, json_t *(*decode)(const struct store__row *), json_t **out,
	   const char *sql, const char *fmt, ...);
struct store__row pg_row_of(PGresult *res, int row);
/* Simple control statements (BEGIN, SAVEPOINT...). */
int pg_control(struct pg *p, const char *sql);

/*
 * Transactions: the outermost pg_tx_begin issues BEGIN unless the caller is
 * inside store_begin; nested ones are savepoints. pg_tx_end commits (rc
 * STORE_OK) or rolls back, and returns rc or the commit's error.
 */
int pg_tx_begin(struct pg *p);
int pg_tx_end(struct pg *p, int rc);
/*
 * Like pg_tx_begin, but inside a transaction it opens no savepoint: each
 * savepoint is a subtransaction, and a transaction with more than 64 of them
 * (a group commit of 512 intakes) slows every session's snapshot checks.
 * For operations that validate their input first, so that SQL errors are
 * environmental: such an error dooms the caller's transaction instead.
 */
int pg_tx_begin_flat(struct pg *p);
/*
 * Inside a transaction pg_tx_begin has just opened as the outermost one:
 * its commit does not wait for the WAL to reach the disk (what a crash may
 * lose without harm: a job's claim; see sq_lazy_begin). A no-op otherwise.
 */
int pg_tx_lazy(struct pg *p);

int pg_ticket_number(struct pg *p, const char *ref, int64_t *number);
int pg_ticket_load(struct pg *p, int64_t number, json_t **out);

#define PG_JOB_INSERT /* tjtiiitii */ \
	"INSERT INTO jobs (kind, ticket_number, payload, status, attempts, max_attempts, run_at, " \
	"due_at, dedupe_key, created_at, updated_at) " \
	"VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
#define PG_EVENT_INSERT /* jttti */ \
	"INSERT INTO events (ticket_number, type, actor, data, created_at) VALUES ($1, $2, $3, $4, $5)"

/* Migrations (schema.c). */
int pg_schema_read(struct pg *p, int *version);
int pg_schema_apply(struct pg *p, int from);

int pg_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
		     const char *idem_key, json_t **out, bool *created);
int pg_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out);
int pg_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out);
int pg_ticket_update(struct store *st, const char *id, int64_t expected_version,
		     const json_t *fields, const char *actor, json_t **out);
int pg_ticket_import(struct store *st, const json_t *tickets, size_t *imported);
int pg_message_add(struct store *st, const char *ticket_id, const json_t *msg, json_t **out,
		   bool *created);
int pg_message_list(struct store *st, const char *ticket_id, json_t **out);
int pg_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket);

int pg_customer_get(struct store *st, const char *id, json_t **out);
int pg_customer_find_by_email(struct store *st, const char *email, json_t **out);
int pg_customer_upsert(struct store *st, const json_t *customer);
int pg_customer_update_metrics(struct store *st, const char *id, double satisfaction);
int pg_customer_list(struct store *st, int limit, int offset, json_t **out);
int pg_kb_upsert(struct store *st, const json_t *article);
int pg_kb_get(struct store *st, const char *id, json_t **out);
int pg_kb_list(struct store *st, json_t **out);
int pg_kb_delete(struct store *st, const char *id);
int pg_escalation_open(struct store *st, const char *ticket_id, const char *priority,
		       const char *department, const json_t *package, json_t **out, bool *created);
int pg_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out);
int pg_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out);
int pg_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out);
int pg_escalation_get(struct store *st, int64_t id, json_t **out);
int pg_escalation_list(struct store *st, const char *status, int limit, json_t **out);
int pg_event_append(struct store *st, const char *ticket_id, const char *type, const char *actor,
		    const json_t *data);
int pg_event_list(struct store *st, const char *ticket_id, int limit, json_t **out);
int pg_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out);
int pg_token_insert(struct store *st, const char *name, const char *role, const char *hash_hex,
		    json_t **out);
int pg_token_find(struct store *st, const char *hash_hex, json_t **out);
int pg_token_list(struct store *st, json_t **out);
int pg_token_revoke(struct store *st, int64_t id);

int pg_outbox_enqueue(struct store *st, const char *channel, const char *target,
		      const json_t *payload, const char *dedupe_key, bool *created);
int pg_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out);
int pg_outbox_mark_sent(struct store *st, int64_t id);
int pg_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		   int max_attempts);
int pg_outbox_list(struct store *st, const char *status, int limit, json_t **out);
int pg_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		   const json_t *payload, int max_attempts, int64_t run_at_us,
		   const char *dedupe_key);
int pg_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out);
int pg_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s);
int pg_job_complete(struct store *st, int64_t id, const char *owner);
int pg_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		int64_t backoff_us);
int pg_job_retry(struct store *st, int64_t id);
int pg_job_list(struct store *st, const char *status, int limit, json_t **out);
int pg_job_counts(struct store *st, json_t **out);

/* The email channel's records (mail.c). */
int pg_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		char sha256_hex[65], bool *created);
int pg_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len, json_t **meta);
int pg_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		    json_t **out, bool *created);
int pg_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
		       const char *error);
int pg_mail_raw_get(struct store *st, int64_t id, json_t **out);
int pg_mail_raw_list(struct store *st, const char *status, int limit, json_t **out);
int pg_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity, int64_t *last_uid);
int pg_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity, int64_t last_uid);
int pg_rate_hit(struct store *st, const char *key, int window_s, int64_t *count);

/* The service's records (service.c). */
int pg_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised);
int pg_alert_resolve(struct store *st, const char *type, json_t **out);
int pg_alert_list(struct store *st, const char *status, int limit, json_t **out);
int pg_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired);
int pg_lock_release(struct store *st, const char *name, const char *owner);
int pg_job_release(struct store *st, int64_t id, const char *owner);
int pg_outbox_retry(struct store *st, int64_t id);
int pg_outbox_counts(struct store *st, json_t **out);

#endif
