/*
 * store: where Frontline keeps everything, behind one interface.
 *
 * Backends (an ops table each, in the manner of SQLite's sqlite3_vfs): sqlite
 * (the embedded default: one file, WAL, STRICT tables, FTS5) and postgres
 * (several replicas on one server; FOR UPDATE SKIP LOCKED for the queue). The
 * backend is chosen by the URL given to store_open:
 *
 *   sqlite:///abs/path/frontline.db   sqlite://./relative.db   sqlite::memory:
 *   postgres://user:pw@host:port/db   postgresql://...   "host=... dbname=..." (libpq)
 *
 * Entities travel as jansson objects in the shape the HTTP API shows (see
 * docs/openapi.yaml); timestamps are RFC 3339 strings in JSON and integer
 * microseconds in the database. Every function borrows its json_t arguments
 * and hands new references to the caller through json_t **out parameters
 * (the caller decrefs them); out parameters are set to NULL on error.
 *
 * Errors: each function returns STORE_OK or a store_err; store_errmsg(st)
 * gives the detail of the last error on that handle (thread-local to the
 * handle: one handle is used by one thread at a time). Messages name the URL
 * with its password masked.
 *
 * Durability: a function that returns STORE_OK has committed, unless it runs
 * inside store_begin/store_commit, where everything commits together.
 *
 * Threads: a struct store is one connection. Give each thread its own
 * (store_open the same URL again); they coordinate through the database.
 */
#ifndef FL_STORE_H
#define FL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define STORE_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(EURL, "unsupported or malformed store URL") \
	X(ENOTFOUND, "not found") \
	X(ECONFLICT, "stale version: the record changed since it was read") \
	X(EBUSY, "store is busy or locked; try again") \
	X(ECONNECT, "cannot connect to the store") \
	X(EIO, "I/O error") \
	X(EFULL, "disk or quota full") \
	X(EREADONLY, "store is read-only") \
	X(ECORRUPT, "not a Frontline database, or corrupt") \
	X(EVERSION, "database was written by a newer Frontline") \
	X(ELEASE, "job lease lost to another worker") \
	X(ECONSTRAINT, "constraint violated") \
	X(EINTERNAL, "internal store error")

enum store_err {
#define STORE_ENUM(name, text) STORE_##name,
	STORE_ERRNO_MAP(STORE_ENUM)
#undef STORE_ENUM
};

const char *store_strerror(int rc);
const char *store_errname(int rc);
/* True for errors worth retrying later (busy, connect, full disk, I/O). */
bool store_err_is_transient(int rc);

struct store;

/* ---- opening ---- */

/*
 * Opens the store at url, creating the database when it does not exist and
 * applying pending migrations. On failure *out is NULL and, when err is not
 * NULL, *err is a message naming the masked URL (caller frees).
 */
int store_open(const char *url, struct store **out, char **err);
/* Like store_open, but does not migrate: STORE_EVERSION/ECORRUPT checks only. */
int store_open_nomigrate(const char *url, struct store **out, char **err);
/*
 * Like store_open, but creates nothing: a SQLite database that does not
 * exist (or whose directory does not) is STORE_ENOTFOUND, and nothing is
 * written to the disk. For programs that must not start an empty store by
 * mistake (mail-in: a wrong URL would take mail into a store nobody reads).
 */
int store_open_existing(const char *url, struct store **out, char **err);
/* Closes the connection. NULL is fine. */
void store_close(struct store *st);
/* "sqlite" or "postgres". */
const char *store_backend(const struct store *st);
/* The message of the last error on st ("" when none). */
const char *store_errmsg(const struct store *st);
/* The URL with its password masked. */
const char *store_url(const struct store *st);

/* Applies pending migrations; *from and *to (may be NULL) report versions. */
int store_migrate(struct store *st, int *from, int *to);
/* The schema version of the database, and the newest this build knows. */
int store_schema_version(struct store *st, int *version);
int store_schema_latest(void);
/* Cheap round trip for readiness probes: STORE_OK when reachable and current. */
int store_ping(struct store *st);

/* ---- transactions ---- */

/*
 * Groups the calls that follow into one transaction (not nestable:
 * STORE_EINVAL inside one). store_begin_immediate takes the write lock at
 * once (SQLite BEGIN IMMEDIATE), avoiding upgrade deadlocks for
 * read-then-write sequences.
 */
/*
 * Deferred durability for a run of commits (a batch's results): after
 * store_defer_sync(st, true), st's commits reach the operating system but do
 * not wait for the disk, until store_defer_sync(st, false), which makes every
 * one of them durable before it returns STORE_OK. A crash of the process
 * loses none of them; a power cut in between may lose some, each whole. Not
 * inside a transaction (STORE_EINVAL). A no-op where commits are not synced
 * anyway (synchronous=normal, :memory:) and on PostgreSQL.
 */
int store_defer_sync(struct store *st, bool on);
int store_begin(struct store *st);
int store_begin_immediate(struct store *st);
int store_commit(struct store *st);
/* Rolls back; always leaves no transaction open. */
void store_rollback(struct store *st);

/* ---- tickets ---- */

/*
 * Ticket object fields (API names): id, number, channel, customer_id, subject,
 * content, metadata {}, status, sentiment, category, priority,
 * assigned_department, assignee, created_at, updated_at, first_response_at,
 * resolved_at, satisfaction, version, analysis {}, trace [], quarantined, language.
 *
 * number is Frontline's own sequence (shown as "T-000042"). The sender's
 * id, where it gave one, is kept as external_id, and (channel, external_id)
 * is unique, which makes intake idempotent. id is unique across all
 * channels, so that every ticket_id argument below names one ticket: it is
 * the sender's id when no other ticket has that id yet and it is not of the
 * reserved "T-<digits>" form, else "T-<number padded to 6>"; in the common
 * case id == external_id. Every ticket_id argument also accepts the
 * "T-000042" form. Ticket objects carry external_id besides the fields
 * above.
 */

/*
 * Inserts ticket (id optional; channel defaults to "api"; status "new") and,
 * in the same transaction, its first inbound message and, when job_kind is not
 * NULL, a job of that kind for it. When a ticket with the same (channel,
 * external_id) exists, nothing is written and *out is the existing ticket
 * with *created false. idem_key, when not NULL, is an Idempotency-Key: a
 * second intake with the same key returns the first ticket whatever its body.
 */
int store_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
			const char *idem_key, json_t **out, bool *created);
/* By id or "T-000042" number form; with "messages" when with_thread. */
int store_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out);

struct store_ticket_filter {
	const char *status, *priority, *category, *channel, *assignee, *customer_id;
	const char *query;      /* full-text over subject and content */
	const char *cursor;     /* from a previous page's next_cursor; NULL: first page */
	int limit;              /* 1..500; 0 means 50 */
	/* appended with the console's queues */
	const char *department; /* assigned_department */
	const char *language;   /* the triage's analysis.language.code */
	bool open;              /* only open tickets: neither resolved, closed nor spam */
	bool unassigned;        /* only tickets without an assignee (assignee is then ignored) */
	/*
	 * Each ticket's analysis holds only what a summary shows, each field
	 * as stored and absent when absent: sentiment_analysis {sentiment,
	 * urgency}, categorization {primary_category, confidence},
	 * priority_assignment {priority, score}, escalation_decision
	 * {escalation_decision, escalation_priority}, auto_reply {sent,
	 * reason}, generated_response {escalation_needed, response}, where
	 * response is its first character only ("" when empty).
	 */
	bool summary;
};

/*
 * A page of tickets, newest first, as {"tickets": [...], "next_cursor": "..."
 * or null}. Keyset pagination: a cursor stays valid while tickets are added.
 * A malformed cursor is STORE_EINVAL. Listed tickets omit "trace" (get has
 * it). A query with no words in it is no filter; words must all match
 * (stemmed: "passwords" finds "password").
 */
int store_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out);
/*
 * Updates the given fields of ticket id (any of status, sentiment, category,
 * priority, assigned_department, assignee, subject, metadata, analysis,
 * trace, satisfaction, first_response_at, resolved_at, quarantined, language) if its
 * version is still expected_version (or any version when expected_version is
 * 0). Bumps version and updated_at; writes a "ticket.updated" event naming
 * the changed fields (and "ticket.status" for a status change) by actor.
 * STORE_ECONFLICT when the version moved, with *out the current ticket.
 * On success *out is the updated ticket; its JSON fields (metadata,
 * analysis, trace) are the values given in fields, shared rather than
 * copied: do not change them afterwards.
 */
int store_ticket_update(struct store *st, const char *id, int64_t expected_version,
			const json_t *fields, const char *actor, json_t **out);

/* ---- messages (the thread of a ticket) ---- */

/*
 * Message fields: id, ticket_id, direction ("inbound", "outbound", "note"),
 * author, body, created_at, email_message_id, in_reply_to, effect_key,
 * metadata {}. effect_key (e.g. "auto_reply") makes the insert happen once
 * per ticket: a repeat returns the existing message with *created false.
 */
int store_message_add(struct store *st, const char *ticket_id, const json_t *msg,
		      json_t **out, bool *created);
int store_message_list(struct store *st, const char *ticket_id, json_t **out);
/* The ticket whose thread holds a message with this email Message-ID. */
int store_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket);

/* ---- customers (the CRM cache) ---- */

/*
 * Customer fields: id, name, email, tier ("standard", "premium",
 * "enterprise"), joined_at, total_tickets, satisfaction_score, metadata {}.
 */
int store_customer_get(struct store *st, const char *id, json_t **out);
int store_customer_find_by_email(struct store *st, const char *email, json_t **out);
int store_customer_upsert(struct store *st, const json_t *customer);
/*
 * The seed's update_customer_metrics: total_tickets + 1; when satisfaction is
 * in [0, 1] it is averaged with the stored score (replacing it when none).
 * Pass a negative satisfaction to count the ticket only.
 */
int store_customer_update_metrics(struct store *st, const char *id, double satisfaction);
int store_customer_list(struct store *st, int limit, int offset, json_t **out);

/*
 * Privacy (docs/OPERATIONS.md, "Privacy"). A customer's tickets are those
 * whose customer_id is the id or the customer record's email in lower case.
 *
 * store_customer_export: everything stored about the customer: {customer_id,
 * exported_at, customer (the record, or null), tickets (each with its
 * messages, events, escalations and phone calls), raw_emails (each with data_base64),
 * attachments ({sha256, data_base64}), survey_answers}. STORE_ENOTFOUND
 * when there is neither a record nor a ticket.
 *
 * store_customer_erase: removes their personal data in one transaction:
 * the record's name, email and metadata; the text of their tickets and of
 * every message of those threads (STORE_ERASED_MARKER); the tickets'
 * metadata, analysis and trace, their escalations' packages, their jobs'
 * payloads (queued ones die), their events' data but plain field changes;
 * their raw emails and the blobs of those and of the attachments;
 * notifications and rate counters naming them; search index entries. The
 * customer's id becomes a random pseudonym everywhere ("erased-..."); ticket
 * numbers, statuses, times and metrics stay. Appends a "customer.erased"
 * event by actor with counts, no personal value. *out (may be NULL):
 * {customer (the pseudonym), record, tickets, messages, events,
 * raw_emails, blobs, notifications, erased_at, erased_by}.
 */
#define STORE_ERASED_MARKER "[erased]"
int store_customer_export(struct store *st, const char *id, json_t **out);
int store_customer_erase(struct store *st, const char *id, const char *actor, json_t **out);

/* ---- knowledge-base articles ---- */

/* Article fields: id, title, content, category, tags [], views, helpful_votes, updated_at. */
int store_kb_upsert(struct store *st, const json_t *article);
int store_kb_get(struct store *st, const char *id, json_t **out);
/* All articles, ordered by id (the KB module builds its index from these). */
int store_kb_list(struct store *st, json_t **out);
int store_kb_delete(struct store *st, const char *id);
/*
 * The KB sync (src/store/kbsync.c): makes the articles whose "source" is
 * source exactly articles (an array, borrowed; each carries that "source"
 * and a "source_hash"), in one transaction: a new id is inserted, one whose
 * source_hash differs is rewritten (views, helpful votes kept), an equal
 * one is not written at all, and the source's stored articles missing from
 * articles are deleted. An id held by an article of another source (or of
 * none) is left alone and listed as skipped. *out (may be NULL) is
 * {created: [ids], updated: [ids], removed: [ids], unchanged: n,
 * skipped: [ids]}. On any failure nothing changed: STORE_EINVAL (an
 * article without the source or hash, or one the store refuses), or the
 * store's error.
 */
int store_kb_sync(struct store *st, const char *source, const json_t *articles, json_t **out);

/* ---- escalations (the hand-off queue) ---- */

/*
 * Escalation fields: id, ticket_id, status ("open", "claimed", "closed"),
 * priority ("low".."critical"), department, package {}, agent, created_at,
 * claimed_at, closed_at, resolution. One open-or-claimed escalation per
 * ticket: opening again returns the existing one with *created false.
 * out may be NULL (the escalation is then not read back).
 */
int store_escalation_open(struct store *st, const char *ticket_id, const char *priority,
			  const char *department, const json_t *package, json_t **out,
			  bool *created);
/* open -> claimed by agent; STORE_ECONFLICT when not open. */
int store_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out);
/* claimed -> open. */
int store_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out);
/* open|claimed -> closed with a resolution note. */
int store_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out);
int store_escalation_get(struct store *st, int64_t id, json_t **out);
/* By status (NULL: open and claimed), most urgent priority first, then oldest. */
int store_escalation_list(struct store *st, const char *status, int limit, json_t **out);

/* ---- events (append-only audit log) ---- */

/* Event fields: id, ticket_id (may be null), type, actor, data {}, created_at. */
int store_event_append(struct store *st, const char *ticket_id, const char *type,
		       const char *actor, const json_t *data);
/* A ticket's events, oldest first (ticket_id NULL: the latest limit events). */
int store_event_list(struct store *st, const char *ticket_id, int limit, json_t **out);

/* ---- outbox (notifications to deliver) ---- */

/*
 * Outbox fields: id, channel ("email", "slack", "webhook"), target, payload {},
 * status ("pending", "sending", "sent", "dead"), attempts, next_attempt_at,
 * last_error, dedupe_key, created_at, sent_at. A dedupe_key makes the enqueue
 * happen once (a repeat is STORE_OK with *created false). Call inside the
 * transaction of the change that caused the notification.
 */
int store_outbox_enqueue(struct store *st, const char *channel, const char *target,
			 const json_t *payload, const char *dedupe_key, bool *created);
/* Claims up to max due items for lease_s seconds; *out is an array. */
int store_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out);
int store_outbox_mark_sent(struct store *st, int64_t id);
/*
 * Records a failed delivery: retried after backoff_s, or "dead" once
 * attempts reaches max_attempts. Dead items stay visible.
 */
int store_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		      int max_attempts);
/* Items by status (NULL: all), newest first. */
int store_outbox_list(struct store *st, const char *status, int limit, json_t **out);

/* ---- jobs (the work queue) ---- */

struct store_job {
	int64_t id;
	char *kind;          /* e.g. "triage" */
	char *ticket_id;     /* may be NULL */
	json_t *payload;     /* owned */
	int attempts;        /* including this one */
	int max_attempts;
	char *lease_owner;
};

void store_job_free(struct store_job *job);

/*
 * Enqueues a job to run at run_at_us (0: now). dedupe_key, when set, makes
 * the enqueue happen once while such a job is not done.
 */
int store_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		      const json_t *payload, int max_attempts, int64_t run_at_us,
		      const char *dedupe_key);
/*
 * Claims the oldest due job (kind NULL: any kind) for owner with a lease of
 * lease_s seconds; jobs whose lease expired are due again. STORE_ENOTFOUND
 * when there is none. Caller frees *out with store_job_free.
 */
int store_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		    struct store_job **out);
/* Extends the lease; STORE_ELEASE when owner no longer holds it. */
int store_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s);
/* Marks done; STORE_ELEASE when owner no longer holds the lease. */
int store_job_complete(struct store *st, int64_t id, const char *owner);
/*
 * Records a failure: requeued to run after backoff_us, or moved to the dead
 * letter list when attempts reached max_attempts.
 */
int store_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		   int64_t backoff_us);
/* Puts a dead job back in the queue with its attempts reset. */
int store_job_retry(struct store *st, int64_t id);
/* Jobs by status ("queued", "running", "done", "dead"; NULL: all), newest first. */
int store_job_list(struct store *st, const char *status, int limit, json_t **out);
/* Counts by status: {"queued": n, "running": n, "done": n, "dead": n}. */
int store_job_counts(struct store *st, json_t **out);

/* ---- metrics ---- */

/*
 * The seed's SupportMetrics over tickets created in [since_us, until_us):
 * {total_tickets, resolved_tickets, escalated_tickets, avg_response_time (s,
 * creation to first response), avg_resolution_time (s), satisfaction_score
 * (mean), escalation_rate, tickets_by_category {}, tickets_by_priority {},
 * tickets_by_status {}}.
 */
int store_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out);

/* ---- API tokens ---- */

/*
 * Token fields: id, name, role ("admin", "agent", "integration"), created_at,
 * last_used_at, revoked. Only a hash of the secret is stored.
 */
int store_token_insert(struct store *st, const char *name, const char *role,
		       const char *hash_hex, json_t **out);
/* The live token with this hash; revoked tokens are STORE_ENOTFOUND.
 * Records last_used_at (at most once a minute per token). */
int store_token_find(struct store *st, const char *hash_hex, json_t **out);
int store_token_list(struct store *st, json_t **out);
int store_token_revoke(struct store *st, int64_t id);

/* ==== additions (appended with the backends; nothing above changed) ==== */

/*
 * Intake's ticket object may also carry (all optional): "created_at" (RFC
 * 3339; default now) and "message": {author, email_message_id, in_reply_to,
 * metadata} for the first inbound message (author defaults to customer_id).
 * Intake writes a "ticket.created" event in the same transaction. Inside
 * store_begin .. store_commit, an intake that fails on invalid input wrote
 * nothing; one that fails for another reason (I/O, full disk, a lost
 * connection) may have written part of the ticket, so the transaction is
 * doomed: store_commit rolls it back and fails (store_rollback is fine). A job made
 * by intake has max_attempts 5 and dedupe_key "<job_kind>:T-000042" (the
 * ticket's number form).
 */

/* A ticket_id argument naming no ticket is STORE_ENOTFOUND everywhere. */

/*
 * Bulk import: tickets (an array of ticket objects) each with its first
 * inbound message, honouring their created_at, status, priority, category,
 * sentiment, assignee, satisfaction, first_response_at and resolved_at. No
 * jobs or events. Idempotent like intake: a ticket whose (channel,
 * external_id) exists is skipped. *imported (may be NULL) counts the new ones. Runs in one
 * transaction (or the caller's); for loading history and benchmarks. An
 * invalid ticket fails the whole import, naming its index.
 */
int store_ticket_import(struct store *st, const json_t *tickets, size_t *imported);

/*
 * Group commit: concurrent intake calls from many threads share one
 * transaction, so one durable commit (one fsync) serves a whole batch. A
 * group owns one connection, a committer thread and (for SQLite) a syncer
 * thread that fsyncs each batch while the next one is built. store_group_intake
 * behaves as store_ticket_intake and returns only once the batch holding its
 * ticket has committed and reached the disk (or failed: then, but for a
 * failed fsync after the commit, nothing of it was written; *err, when not
 * NULL, is the message, caller frees; retrying is safe, intake being
 * idempotent). One caller's invalid ticket fails that caller only; a failure
 * midway fails its batch. Any number of threads may call it at once.
 */
struct store_group;

struct store_group_options {
	int max_batch;          /* tickets per transaction at most; 0: 512 */
};

int store_group_open(const char *url, const struct store_group_options *opts,
		     struct store_group **out, char **err);
int store_group_intake(struct store_group *g, const json_t *ticket, const char *job_kind,
		       const char *idem_key, json_t **out, bool *created, char **err);
/*
 * The asynchronous form of store_group_intake (appended with the service): queues
 * the ticket and returns at once (STORE_EINVAL for a NULL argument). When the
 * batch holding it is durable, or has failed, done(arg, rc, out, created, err)
 * runs on one of the group's threads: out (the stored ticket, or NULL on
 * failure) is the callback's to release, err (NULL on success) is borrowed.
 * ticket, job_kind and idem_key are borrowed until done runs. done must be
 * quick and must not call the group. store_group_close runs every pending
 * callback before it returns.
 */
typedef void store_group_done_fn(void *arg, int rc, json_t *out, bool created, const char *err);
int store_group_submit(struct store_group *g, const json_t *ticket, const char *job_kind,
		       const char *idem_key, store_group_done_fn *done, void *arg);
/* Batches committed and tickets in them so far (statistics; may be NULL). */
void store_group_stats(struct store_group *g, uint64_t *batches, uint64_t *tickets);
/* Waits for pending calls to finish, then closes. NULL is fine. */
void store_group_close(struct store_group *g);

/*
 * The clock the store uses for timestamps, leases and backoff (default: the
 * wall clock, fl_wall_us). For tests; now_us(arg) returns microseconds.
 */
void store_set_clock(struct store *st, int64_t (*now_us)(void *arg), void *arg);

/*
 * Fault injection (tests): the nth next call (1: the very next) of the
 * public function named op (e.g. "store_outbox_enqueue") fails with rc
 * before reaching the backend, with an "injected fault" message. One fault
 * at a time; rc STORE_OK clears it.
 */
void store_fault_inject(struct store *st, const char *op, int nth, int rc);

/* Whether a transaction begun by store_begin is open on st. */
bool store_in_transaction(const struct store *st);

/* ==== the email channel's records (appended; see src/channels/email) ==== */

/*
 * Blobs: bytes kept once per SHA-256 (attachments, raw messages). Blob
 * fields: sha256 (hex), size, content_type, created_at. store_blob_put
 * computes the hash, writes *sha256_hex (65 bytes) and stores the bytes
 * unless a blob with that hash exists (*created false; its content_type is
 * kept). store_blob_get hands the bytes to the caller (*data, caller frees,
 * NUL-terminated beyond *len) and, when meta is not NULL, the fields.
 */
int store_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		   char sha256_hex[65], bool *created);
int store_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len,
		   json_t **meta);

/*
 * Raw inbound mail, recorded before it is parsed (a mail server's retry, an
 * IMAP refetch or an HTTP retry of the same bytes finds the first record).
 * Fields: id, sha256, size, source ("pipe", "http", "imap", ...), status
 * ("received", then "ticket", "appended", "duplicate", "quarantined" or
 * "failed"), ticket_id (null until linked), error, received_at,
 * processed_at. The bytes are a blob (message/rfc822) under sha256.
 *
 * store_mail_raw_put stores the blob and the record, or finds the record of
 * the same bytes (*created false, whatever its status). *out is the record.
 */
int store_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		       json_t **out, bool *created);
/* Sets status, ticket (may be NULL), error (may be NULL) and processed_at of record id. */
int store_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
			  const char *error);
int store_mail_raw_get(struct store *st, int64_t id, json_t **out);
/* Records by status (NULL: all), oldest first, at most limit (0: 50). */
int store_mail_raw_list(struct store *st, const char *status, int limit, json_t **out);

/*
 * IMAP polling state per mailbox (a key such as the URL without its
 * password): the mailbox's UIDVALIDITY and the highest UID processed.
 * STORE_ENOTFOUND when the mailbox was never polled.
 */
int store_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity,
			 int64_t *last_uid);
int store_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity,
			 int64_t last_uid);

/*
 * A sliding-window counter (per-sender rate limits): records one hit for key
 * now and sets *count to the hits for key within the last window_s seconds,
 * this one included. Hits older than window_s are forgotten for every key,
 * so use one window per purpose.
 */
int store_rate_hit(struct store *st, const char *key, int window_s, int64_t *count);

/* ==== the service's records (appended; see src/server, src/monitor, src/notify) ==== */

/*
 * Alerts of the monitoring workflow, with their state between rounds.
 * Alert fields: id, type, severity, metric, message, value, threshold,
 * status ("active", "resolved"), observations (rounds that saw the
 * condition), raised_at, last_seen_at, resolved_at. At most one alert of a
 * type is active at a time.
 *
 * store_alert_raise takes {type, severity, message, metric?, value?,
 * threshold?}: when an alert of that type is active it is updated (severity,
 * message, metric, value, threshold, last_seen_at, observations + 1) and
 * *raised is false; else a new active alert is inserted and *raised is true.
 * *out (may be NULL) is the alert as stored.
 */
int store_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised);
/* Resolves the active alert of type (resolved_at now); STORE_ENOTFOUND when none is active. */
int store_alert_resolve(struct store *st, const char *type, json_t **out);
/* Alerts by status ("active", "resolved"; NULL: all), newest first, at most limit (0: 100). */
int store_alert_list(struct store *st, const char *status, int limit, json_t **out);

/*
 * A named lock, so that one replica at a time runs a periodic task (the
 * monitor). PostgreSQL: a session-level advisory lock, released by
 * store_lock_release or when the connection ends, whatever happens to the
 * process (ttl_s is not used). SQLite: a lease row that another owner may
 * take once ttl_s seconds have passed. Taking a lock the same owner holds
 * succeeds again (renewing the lease). *acquired false: another owner has it.
 */
int store_lock_try(struct store *st, const char *name, const char *owner, int ttl_s,
		   bool *acquired);
/* Releases name if owner holds it; not holding it is not an error. */
int store_lock_release(struct store *st, const char *name, const char *owner);

/*
 * Gives a running job back to the queue, due now, without counting the
 * attempt (a worker stopping before it could finish). STORE_ELEASE when
 * owner does not hold it.
 */
int store_job_release(struct store *st, int64_t id, const char *owner);
/* Puts a dead notification back to pending, due now, attempts reset; STORE_ECONFLICT when not dead. */
int store_outbox_retry(struct store *st, int64_t id);
/* Notifications by status: {"pending": n, "sending": n, "sent": n, "dead": n}. */
int store_outbox_counts(struct store *st, json_t **out);

/* ---- hardening (appended with schema version 8) ---- */

/*
 * The server's secret called name (e.g. "email.threads"): len bytes (16 to
 * 64), random, made on first use and kept in the store, so that every
 * replica and every restart shares it. Never logged. STORE_ECORRUPT when
 * the stored secret has another length.
 */
int store_secret_get(struct store *st, const char *name, unsigned char *out, size_t len);

/*
 * Messages may carry "approval": "pending" (store_message_add): mail from
 * someone who is not the ticket's customer nor an approved CC, kept in the
 * thread but not trusted until an agent decides. Message objects show
 * "approval" (null for messages that needed none). store_message_decide
 * moves message_id of ticket_id from pending to approval ("approved" or
 * "declined") and writes a "message.approved" or "message.declined" event
 * by actor; *out (may be NULL) is the message after. STORE_ENOTFOUND: no
 * such message on that ticket; STORE_ECONFLICT: it is not pending (*out is
 * the message as it is); STORE_EINVAL: another decision.
 */
int store_message_decide(struct store *st, const char *ticket_id, int64_t message_id, const char *approval,
			 const char *actor, json_t **out);

/*
 * A delivery attempt of a claimed outbox item begins: records started_at
 * and holds the item lease_s more seconds (a durable commit, so that a
 * crash during the attempt leaves it marked as begun). STORE_ELEASE when
 * owner no longer holds the item (its lease ran out and another took it):
 * do not send. Outbox items show "started_at" (null unless an attempt is in
 * flight, or died in flight); store_outbox_mark_sent, _fail and _retry clear it.
 */
int store_outbox_begin(struct store *st, int64_t id, const char *owner, int lease_s);
/*
 * Extends to lease_s seconds from now the lease of every item owner holds
 * (a heartbeat while a delivery runs); *extended (may be NULL) counts them.
 * Not waiting for the disk: lost to a power cut, the leases end sooner.
 */
int store_outbox_extend(struct store *st, const char *owner, int lease_s, int *extended);

/* ==== the console's records (appended; see src/server: sessions, the live stream) ==== */

/*
 * Users: the people who sign in to the console. User fields: id, email
 * (stored in lower case; unique), name, role ("agent", "admin"), department
 * (null: none), skills {languages: [...], categories: [...]} (an object;
 * assignment by skills reads it), disabled, created_at, updated_at,
 * last_seen_at, and for assignment (migration 15) availability
 * ("available", "away", "offline"; new users "offline"), max_open (null:
 * the department's) and last_assigned_at. The password is kept as the hash the caller made
 * (server_password_hash: Argon2id); no function shows it but
 * store_user_find_by_email.
 *
 * store_user_insert takes {email, name, role, department?, skills?,
 * availability?, max_open?};
 * STORE_ECONSTRAINT when a user has that email (in any case), EINVAL
 * naming a bad field. *out (may be NULL) is the user.
 */
int store_user_insert(struct store *st, const json_t *user, const char *password_hash, json_t **out);
int store_user_get(struct store *st, int64_t id, json_t **out);
/*
 * The user with this email (any case); *password_hash (may be NULL; caller
 * frees) is the stored hash, for signing in.
 */
int store_user_find_by_email(struct store *st, const char *email, json_t **out, char **password_hash);
/* Every user, by id. */
int store_user_list(struct store *st, json_t **out);
/*
 * Changes the given fields of user id (name, role, department, skills,
 * disabled, availability, max_open) and, when password_hash is not NULL, the password. Disabling a
 * user or changing the password ends every session of the user, in the same
 * transaction. *out (may be NULL) is the user as updated.
 */
int store_user_update(struct store *st, int64_t id, const json_t *fields, const char *password_hash,
		      json_t **out);

/*
 * Sessions: a signed-in user's, found by the hash of its secret (the
 * server keeps the secret in the client's cookie only). A session ends
 * max_s seconds after it began, or idle_s seconds after it was last used,
 * whichever comes first. Session fields: id, user_id, address, created_at,
 * last_seen_at, expires_at, and user (the user's fields).
 *
 * store_session_insert starts one for user_id (STORE_ENOTFOUND for no such
 * user, STORE_ECONFLICT for a disabled one) and forgets the sessions of
 * every user that have ended by either limit.
 */
int store_session_insert(struct store *st, int64_t user_id, const char *hash_hex, const char *address,
			 int idle_s, int max_s, json_t **out);
/*
 * The live session with this hash: STORE_ENOTFOUND when there is none, it
 * has ended (idle_s, or its end), or its user is disabled. Records its use
 * (last_seen_at, the user's too) at most once a minute.
 */
int store_session_find(struct store *st, const char *hash_hex, int idle_s, json_t **out);
/* Ends the session with this hash (signing out); none is not an error. */
int store_session_delete(struct store *st, const char *hash_hex);

/*
 * Failed sign-ins, counted per key ("account:<email>", "address:<ip>"):
 * store_login_failure_add records one now and forgets those older than
 * window_s (for every key: one window for this table);
 * store_login_failures counts key's within the last window_s seconds and
 * gives the time of the oldest of them (0 when none) in *oldest_us (may be
 * NULL); store_login_failures_clear forgets key's (a successful sign-in).
 */
int store_login_failure_add(struct store *st, const char *key, int window_s);
int store_login_failures(struct store *st, const char *key, int window_s, int64_t *count,
			 int64_t *oldest_us);
int store_login_failures_clear(struct store *st, const char *key);

/*
 * Presence: who is viewing or replying to a ticket, shared by every replica
 * through the store. store_presence_set records user_id's state on
 * ticket_id ("viewing", "replying" or "left") now. store_presence_list
 * gives the states recorded after since_us, of ticket_id (NULL: of every
 * ticket), oldest first: [{ticket_id, number, user: {id, name}, state,
 * at}].
 */
int store_presence_set(struct store *st, const char *ticket_id, int64_t user_id, const char *state);
int store_presence_list(struct store *st, const char *ticket_id, int64_t since_us, json_t **out);

/*
 * Canned responses: texts agents insert into replies. Fields: id (a name
 * the admin chooses: letters, digits, '-', '_', '.', 1 to 64), title, body,
 * updated_by, updated_at. store_canned_put creates or replaces id
 * (*created says which; may be NULL).
 */
int store_canned_list(struct store *st, json_t **out);
int store_canned_put(struct store *st, const char *id, const char *title, const char *body,
		     const char *actor, json_t **out, bool *created);
int store_canned_delete(struct store *st, const char *id);

/*
 * Macros: named sets of actions an agent applies to a ticket in one step
 * (docs/OPERATIONS.md, "Macros"). Fields: name (as a canned response's id),
 * description (may be null), actions (an array the caller has checked:
 * support_macro_check), updated_by, updated_at. store_macro_put creates or
 * replaces name (*created says which; may be NULL); store_macro_get and
 * store_macro_delete are STORE_ENOTFOUND for an unknown name.
 */
int store_macro_list(struct store *st, json_t **out);
int store_macro_get(struct store *st, const char *name, json_t **out);
int store_macro_put(struct store *st, const char *name, const char *description, const json_t *actions,
		    const char *actor, json_t **out, bool *created);
int store_macro_delete(struct store *st, const char *name);

/*
 * SLA calendars and policies (kind "calendar" or "policy"; ids as canned
 * responses'), each a JSON body the caller has checked (src/sla). Objects
 * come back as the body's fields plus id, position, version (1 on the
 * first write, +1 on each write or deletion), updated_by and updated_at.
 * store_sla_list gives a kind's objects by position, then id (the order
 * policies are tried in). store_sla_put creates or replaces id; position
 * < 0 keeps an existing object's place or puts a new one last; *created
 * (may be NULL) says which. store_sla_delete is STORE_ENOTFOUND for an
 * unknown id. store_sla_history gives every version of id, oldest first
 * (a deletion's body is empty).
 */
int store_sla_list(struct store *st, const char *kind, json_t **out);
int store_sla_put(struct store *st, const char *kind, const char *id, const json_t *body, int64_t position,
		  const char *actor, json_t **out, bool *created);
int store_sla_delete(struct store *st, const char *kind, const char *id);
int store_sla_history(struct store *st, const char *kind, const char *id, json_t **out);
/*
 * What the SLA attainment (issue 18) reads, in two queries: {"tickets":
 * [the tickets created in [since_us, until_us), oldest first, at most
 * limit, without subject, content, analysis and trace; metadata's
 * customer_tier filled from the customer's record when absent],
 * "events": [their ticket.status, ticket.replied and
 * ticket.customer_replied events, by ticket then id], "truncated": more
 * tickets than limit}. STORE_EINVAL for limit < 1 or since > until.
 */
int store_sla_window(struct store *st, int64_t since_us, int64_t until_us, int limit, json_t **out);
/*
 * What the clocks of a page of tickets (an array of ticket objects with
 * "number" and "customer_id", borrowed) read, in a few statements whatever
 * the page's size: {"events": [their ticket.status, ticket.replied and
 * ticket.customer_replied events, by ticket then id], "tiers":
 * {customer_id: tier ("" for a customer without one)}} (customers the
 * store does not know are absent). STORE_EINVAL when tickets is not an
 * array.
 */
int store_sla_facts(struct store *st, const json_t *tickets, json_t **out);

/*
 * The audit log for the live stream: up to limit events with ids above
 * after_id, oldest first, each {id, ticket_id, number, version (the
 * ticket's now), type, actor, data, created_at}; *out an array.
 * store_event_last_id: the highest id (0 when there is none).
 */
int store_event_since(struct store *st, int64_t after_id, int limit, json_t **out);
int store_event_last_id(struct store *st, int64_t *id);

/*
 * The console's queue counts, of open tickets (neither resolved, closed nor
 * spam): {"mine": n (assignee is user; 0 when user is NULL), "unassigned":
 * n, "escalated": n (status escalated), "all": n, "department:<d>": n for
 * each department that has open tickets}.
 */
int store_ticket_counts(struct store *st, const char *user, json_t **out);

/*
 * Metrics per bucket of bucket_s seconds over tickets created in [since_us,
 * until_us): {"buckets": [{start (RFC 3339), tickets, by_channel {},
 * by_sentiment {}, first_response_s_avg, resolution_s_avg,
 * escalation_rate, satisfaction_avg}]}, every bucket present (zero counts
 * and null averages where no ticket was created). At most 1,000 buckets
 * (STORE_EINVAL beyond).
 */
int store_metrics_timeseries(struct store *st, int64_t since_us, int64_t until_us, int bucket_s,
			     json_t **out);

/*
 * Agents' corrections (ticket.corrected events) recorded at or after
 * since_us, oldest first: [{ticket_id, field, from, to, actor, at, subject,
 * content}] (subject and content as the ticket has them now).
 */
int store_corrections(struct store *st, int64_t since_us, json_t **out);

/* ---- the satisfaction survey (issue 17; surveys.c) ---- */

/*
 * A survey is {ticket_id, number, subject, customer_id, score (1-5 or
 * null), comment, sent_at, expires_at, answered_at (null until
 * answered)}, one per ticket, found by the SHA-256 (64 hex digits) of its
 * link's token.
 *
 * store_survey_open records the ticket's survey sent now with token_hash,
 * expiring at expires_at_us; *created (may be NULL) is false when the
 * ticket had one already (nothing changes: one survey per ticket).
 * STORE_ENOTFOUND for an unknown ticket.
 * store_survey_find: the survey of token_hash; STORE_ENOTFOUND when there
 * is none or it has expired.
 * store_survey_answer records score (1 to 5) and comment (may be NULL) as
 * the answer now, replacing an earlier one; *out the survey as it is then;
 * STORE_ENOTFOUND as store_survey_find.
 * store_survey_stats: {"responses", "average" (of the scores, null when
 * none)} of the answers given at or after since_us.
 */
int store_survey_open(struct store *st, const char *ticket_id, const char *token_hash, int64_t expires_at_us,
		      bool *created);
int store_survey_find(struct store *st, const char *token_hash, json_t **out);
int store_survey_answer(struct store *st, const char *token_hash, int score, const char *comment, json_t **out);
int store_survey_stats(struct store *st, int64_t since_us, json_t **out);
/*
 * Chat sessions (the chat widget's visitors). id is the server's ("chs_" and
 * hex); hash_hex the SHA-256 of the visitor's token (64 hex digits); name,
 * email and address may be NULL. A session is {id, name, email, by_email,
 * ticket_id, number, ticket_status (null until the first message made the
 * ticket), created_at, updated_at}. store_chat_session_find needs the id
 * and the hash together (ENOTFOUND otherwise: another visitor's token finds
 * nothing); store_chat_session_of_ticket gives a ticket's session
 * (ENOTFOUND: not a chat's); store_chat_session_link records the ticket the
 * first message made (ECONFLICT when the session has one already);
 * store_chat_session_by_email records an email address and that the
 * conversation continues by email. store_agents_available counts the
 * people whose console sessions were in use after since_us and have not
 * ended.
 */
int store_chat_session_insert(struct store *st, const char *id, const char *hash_hex, const char *name,
			      const char *email, const char *address, json_t **out);
int store_chat_session_find(struct store *st, const char *id, const char *hash_hex, json_t **out);
int store_chat_session_of_ticket(struct store *st, const char *ticket_id, json_t **out);
int store_chat_session_link(struct store *st, const char *id, const char *ticket_id);
int store_chat_session_by_email(struct store *st, const char *id, const char *email);
int store_agents_available(struct store *st, int64_t since_us, int64_t *count);

/* ---- assignment (issue 18; departments.c) ---- */

/*
 * Departments: {id, assignment ("off", "round_robin", "load"),
 * max_open_per_agent (null: no limit), updated_by, updated_at}. A
 * department nobody configured assigns by load with no limit. Ids are 1
 * to 64 letters, digits, '-', '_' or '.' (EINVAL otherwise).
 * store_department_list: the configured ones and those users belong to
 * (with the defaults), by id. store_department_get: id's (the defaults
 * when not configured). store_department_put changes the fields body
 * gives (assignment, max_open_per_agent; EINVAL naming a bad or unknown
 * one); *out (may be NULL) the department then.
 *
 * Agents (users with a department; user fields availability "available",
 * "away" or "offline" (new users: offline), max_open (null: the
 * department's) and last_assigned_at) count as available when their
 * availability is "available" and their console was in use within idle_s
 * seconds (last_seen_at): idle agents are away.
 *
 * store_ticket_assign assigns ticket_id, when open and unassigned, to an
 * agent of its department (src/assign decides: skills, availability,
 * maxima, the department's mode), in one write transaction that holds the
 * department's row (PostgreSQL: FOR UPDATE), counts the agents' open
 * tickets, sets the assignee (the agent's email; version + 1), the agent's
 * last_assigned_at and the round-robin cursor, and appends a
 * "ticket.assigned" event {assignee, reason, version}. Nobody available: a
 * "ticket.assigned" event {assignee: null, reason: "queued: nobody
 * available", department} and the ticket stays in the department's queue.
 * *out (may be NULL): {assigned (bool), assignee (null unless assigned),
 * reason ("load", "round_robin", "queued: nobody available", "off", "no
 * department", "assigned already", "not open"), department}.
 *
 * store_assign_queued gives agent user_id, when available, the oldest
 * unassigned escalated tickets of the agent's department (at most limit
 * looked at) that the agent's skills fit, up to the agent's maximum, each
 * with a "ticket.assigned" event (reason "agent available"); nothing when
 * the department's mode is off. *out (may be NULL): {assigned: [ticket
 * ids]}.
 */
int store_department_list(struct store *st, json_t **out);
int store_department_get(struct store *st, const char *id, json_t **out);
int store_department_put(struct store *st, const char *id, const json_t *body, const char *actor, json_t **out);
int store_ticket_assign(struct store *st, const char *ticket_id, int idle_s, json_t **out);
int store_assign_queued(struct store *st, int64_t user_id, int idle_s, int limit, json_t **out);
/* ---- phone calls (issue 17; calls.c) ---- */

/*
 * A call is {provider, call_id, from, to, status, status_rank, transcript,
 * recording_url (each null when unknown), ticket_id, number (its ticket,
 * null until linked), created_at, updated_at}; one per (provider,
 * call_id). provider is 1 to STORE_CALL_PROVIDER_MAX and call_id 1 to
 * STORE_CALL_ID_MAX letters, digits, '.', '_', ':' or '-' (STORE_EINVAL).
 *
 * store_call_record upserts a callback's call ({provider, call_id, status,
 * from?, to?, transcript?, recording_url?}; transcript already masked) in
 * one statement, so callbacks of one new call at once make one record:
 * from and to are kept once known, status changes only to one of a higher
 * status_rank (the caller's ranking: phone_status_rank), transcript and
 * recording_url take the latest given. *out (may be NULL): the call as it
 * is then.
 *
 * store_call_get: the call; STORE_ENOTFOUND when there is none.
 *
 * store_call_ticket_sync completes the call's ticket ticket_id, in one
 * transaction: links the record to it (once), copies the call's status and
 * recording into the ticket's metadata (call_status, recording_url), and
 * rewrites the ticket's text as want (may be NULL: the ticket the call
 * would make now, phone_call_ticket) has it when the ticket is not
 * metadata.transcribed already and want is transcribed (a transcript that
 * arrived after the ticket was made without one) or want is a missed_call
 * the ticket is not: its subject, its content and its first message's body
 * become want's, with want's transcribed, missed_call and call_back flags,
 * and, unless the ticket is resolved, closed or spam, its status goes back
 * to new with a triage job (*retriaged true; none is added while the
 * ticket's triage job is live: a running one's finish, support_finish,
 * then finds the text changed, stores nothing and queues a fresh one); a
 * STORE_EVENT_CALL_TICKET event says why. STORE_ENOTFOUND when the ticket
 * or the call is not there.
 *
 * store_customer_find_by_phone: the customer whose metadata.phone, with
 * spaces, hyphens, parentheses and dots dropped, is number (which the
 * caller gives in that form: phone_normalize); the lowest id when several
 * are; STORE_ENOTFOUND when none. An index keeps it one lookup.
 */
#define STORE_CALL_PROVIDER_MAX 32
#define STORE_CALL_ID_MAX 90
#define STORE_EVENT_CALL_TICKET "ticket.call"
int store_call_record(struct store *st, const json_t *call, int status_rank, json_t **out);
int store_call_get(struct store *st, const char *provider, const char *call_id, json_t **out);
int store_call_ticket_sync(struct store *st, const char *provider, const char *call_id, const char *ticket_id,
			   const json_t *want, bool *retriaged);
int store_customer_find_by_phone(struct store *st, const char *number, json_t **out);

/*
 * A chat visitor's typing (issue 17), kept so that every replica's live
 * stream learns it: store_chat_typing_set records that the visitor of
 * ticket_id's chat session is typing (or stopped) now (STORE_ENOTFOUND:
 * no chat session has that ticket); store_chat_typing_list: the sessions
 * whose visitor said either since since_us, as [{session_id, ticket_id,
 * number, typing, at}], oldest first.
 */
int store_chat_typing_set(struct store *st, const char *ticket_id, bool typing);
int store_chat_typing_list(struct store *st, int64_t since_us, json_t **out);

#endif
