/*
 * The PostgreSQL backend's private declarations: the handle (embedding
 * struct store__sql, and through it struct store, first), the PostgreSQL
 * dialect of the shared SQL layer (dialect.h: named prepared statements per
 * session, parameters and results as text, $N placeholders), and what only
 * this backend does: ticket numbers from a sequence, tsvector search,
 * batched import, claims with FOR UPDATE SKIP LOCKED, advisory locks.
 */
#ifndef FL_STORE_PG_INT_H
#define FL_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store/dialect.h"

struct pg {
	struct store__sql c;
	PGconn *conn;
	unsigned next_name;           /* of the next prepared statement */
};

#define PG(st) ((struct pg *)(st))

/* Records the error of a failed result (or of the connection) on p. */
int pg_fail(struct pg *p, const PGresult *res);
/* A simple control statement (BEGIN, SAVEPOINT ..., DDL); the dialect's control. */
int pg_control(struct store__sql *c, const char *sql);

/*
 * Inside a transaction store__sql_tx_begin has just opened as the outermost
 * one: its commit does not wait for the WAL to reach the disk (what a crash
 * may lose without harm: a job's claim; see sq_lazy_begin). A no-op
 * otherwise.
 */
int pg_tx_lazy(struct pg *p);

/* Migrations (schema.c). */
int pg_schema_read(struct store__sql *c, int *version, bool *foreign);
int pg_schema_apply(struct store__sql *c, int from);

/* The dialect's verb parts and this backend's own ops (tickets.c, queue.c). */
int pg_ticket_insert(struct store__sql *c, const struct store__ticket_in *in, const char *idem_key,
		     int64_t now, int64_t *number, bool *created, char gen[32], const char **id);
int pg_search(struct store__sql *c, const json_t *words, struct fl_buf *sql, char **match,
	      const char **key);
int pg_ticket_import(struct store *st, const json_t *tickets, size_t *imported);
int pg_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		 struct store_job **out);
int pg_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out);
int pg_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired);
int pg_lock_release(struct store *st, const char *name, const char *owner);

/* A customer's phone number as phone_normalize writes it (dialect.h customer_phone; migration 14's index). */
#define PG_CUSTOMER_PHONE \
	"replace(replace(replace(replace(replace(metadata ->> 'phone', ' ', ''), '-', ''), '(', ''),"\
	" ')', ''), '.', '')"

#endif
