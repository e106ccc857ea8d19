/*
 * store internals shared by the front (store.c, group.c), the SQL layer
 * (dialect.h: sql.c and the verbs written on it) and the backends.
 *
 * struct store is the base every backend embeds first in its own handle (git
 * refs/files-backend.c). struct store_ops is the one seam between the front
 * (store.c, the only caller of the ops) and a backend (sqlite/, postgres/):
 * domain verbs, not "run SQL". New methods go at the end and bump version.
 * Both backends are SQL engines and fill most of their ops table with the
 * verbs written once over dialect.h's seam.
 *
 * What else both backends share exists here once: the column lists their
 * SELECTs use (so that one decoder per entity, rows.c, turns a row into
 * JSON whatever the dialect), input validation (input.c), the ticket-update
 * merge, cursors, and the error helper that writes messages naming the
 * masked URL (store.c).
 */
#ifndef FL_STORE_INT_H
#define FL_STORE_INT_H

#include "store.h"
#include "util/util.h"

#define STORE_OPS_VERSION 15
/* The newest schema version; each backend has exactly this many migrations. */
#define STORE__SCHEMA_VERSION 17
/* application_id of Frontline's SQLite files ("FLst"). */
#define STORE__SQLITE_APP_ID 0x464c7374

struct store_open_args {
	const char *url;         /* as given */
	const char *masked;      /* with its password masked, for messages */
	bool migrate;
	/*
	 * Commits need not wait for the disk; store__sync then makes every
	 * commit so far durable (group commit overlaps that wait with the next
	 * batch). Backends whose commits are durable anyway may ignore it.
	 */
	bool defer_sync;
	/* a database that does not exist is STORE_ENOTFOUND, not created */
	bool must_exist;
};

struct store {
	const struct store_ops *ops;
	char *url;                 /* masked */
	struct fl_buf err;         /* last error message */
	const char *op;            /* the public call in progress, for messages */
	bool user_tx;              /* inside store_begin .. store_commit */
	bool doomed;               /* an operation failed midway inside it: commit must not */
	int64_t (*now)(void *arg);
	void *now_arg;
	struct {
		char *op;
		int countdown;
		int rc;
	} fault;
};

struct store_ops {
	int version;
	const char *name;

	int (*open)(const struct store_open_args *a, struct store **out, char **err);
	void (*close)(struct store *st);
	int (*migrate)(struct store *st, int *from, int *to);
	int (*schema_version)(struct store *st, int *version);
	int (*ping)(struct store *st);
	int (*begin)(struct store *st, bool immediate);
	int (*commit)(struct store *st);
	void (*rollback)(struct store *st);

	int (*ticket_intake)(struct store *st, const json_t *ticket, const char *job_kind,
			     const char *idem_key, json_t **out, bool *created);
	int (*ticket_get)(struct store *st, const char *id, bool with_thread, json_t **out);
	int (*ticket_list)(struct store *st, const struct store_ticket_filter *f, json_t **out);
	int (*ticket_update)(struct store *st, const char *id, int64_t expected_version,
			     const json_t *fields, const char *actor, json_t **out);
	int (*ticket_import)(struct store *st, const json_t *tickets, size_t *imported);

	int (*message_add)(struct store *st, const char *ticket_id, const json_t *msg,
			   json_t **out, bool *created);
	int (*message_list)(struct store *st, const char *ticket_id, json_t **out);
	int (*message_find_by_email_id)(struct store *st, const char *message_id, json_t **ticket);

	int (*customer_get)(struct store *st, const char *id, json_t **out);
	int (*customer_find_by_email)(struct store *st, const char *email, json_t **out);
	int (*customer_upsert)(struct store *st, const json_t *customer);
	int (*customer_update_metrics)(struct store *st, const char *id, double satisfaction);
	int (*customer_list)(struct store *st, int limit, int offset, json_t **out);

	int (*kb_upsert)(struct store *st, const json_t *article);
	int (*kb_get)(struct store *st, const char *id, json_t **out);
	int (*kb_list)(struct store *st, json_t **out);
	int (*kb_delete)(struct store *st, const char *id);

	int (*escalation_open)(struct store *st, const char *ticket_id, const char *priority,
			       const char *department, const json_t *package, json_t **out,
			       bool *created);
	int (*escalation_claim)(struct store *st, int64_t id, const char *agent, json_t **out);
	int (*escalation_release)(struct store *st, int64_t id, const char *agent, json_t **out);
	int (*escalation_close)(struct store *st, int64_t id, const char *resolution, json_t **out);
	int (*escalation_get)(struct store *st, int64_t id, json_t **out);
	int (*escalation_list)(struct store *st, const char *status, int limit, json_t **out);

	int (*event_append)(struct store *st, const char *ticket_id, const char *type,
			    const char *actor, const json_t *data);
	int (*event_list)(struct store *st, const char *ticket_id, int limit, json_t **out);

	int (*outbox_enqueue)(struct store *st, const char *channel, const char *target,
			      const json_t *payload, const char *dedupe_key, bool *created);
	int (*outbox_claim)(struct store *st, const char *owner, int max, int lease_s, json_t **out);
	int (*outbox_mark_sent)(struct store *st, int64_t id);
	int (*outbox_fail)(struct store *st, int64_t id, const char *error, int backoff_s,
			   int max_attempts);
	int (*outbox_list)(struct store *st, const char *status, int limit, json_t **out);

	int (*job_enqueue)(struct store *st, const char *kind, const char *ticket_id,
			   const json_t *payload, int max_attempts, int64_t run_at_us,
			   const char *dedupe_key);
	int (*job_claim)(struct store *st, const char *kind, const char *owner, int lease_s,
			 struct store_job **out);
	int (*job_heartbeat)(struct store *st, int64_t id, const char *owner, int lease_s);
	int (*job_complete)(struct store *st, int64_t id, const char *owner);
	int (*job_fail)(struct store *st, int64_t id, const char *owner, const char *error,
			int64_t backoff_us);
	int (*job_retry)(struct store *st, int64_t id);
	int (*job_list)(struct store *st, const char *status, int limit, json_t **out);
	int (*job_counts)(struct store *st, json_t **out);

	int (*metrics)(struct store *st, int64_t since_us, int64_t until_us, json_t **out);

	int (*token_insert)(struct store *st, const char *name, const char *role,
			    const char *hash_hex, json_t **out);
	int (*token_find)(struct store *st, const char *hash_hex, json_t **out);
	int (*token_list)(struct store *st, json_t **out);
	int (*token_revoke)(struct store *st, int64_t id);

	/* version 2: the email channel's records */
	int (*blob_put)(struct store *st, const void *data, size_t len, const char *content_type,
			char sha256_hex[65], bool *created);
	int (*blob_get)(struct store *st, const char *sha256_hex, void **data, size_t *len,
			json_t **meta);
	int (*mail_raw_put)(struct store *st, const void *data, size_t len, const char *source,
			    json_t **out, bool *created);
	int (*mail_raw_finish)(struct store *st, int64_t id, const char *status, const char *ticket_id,
			       const char *error);
	int (*mail_raw_get)(struct store *st, int64_t id, json_t **out);
	int (*mail_raw_list)(struct store *st, const char *status, int limit, json_t **out);
	int (*imap_state_get)(struct store *st, const char *mailbox, int64_t *uidvalidity,
			      int64_t *last_uid);
	int (*imap_state_set)(struct store *st, const char *mailbox, int64_t uidvalidity,
			      int64_t last_uid);
	int (*rate_hit)(struct store *st, const char *key, int window_s, int64_t *count);

	/* version 3: the service's records (alerts, locks, releases, outbox admin) */
	int (*alert_raise)(struct store *st, const json_t *alert, json_t **out, bool *raised);
	int (*alert_resolve)(struct store *st, const char *type, json_t **out);
	int (*alert_list)(struct store *st, const char *status, int limit, json_t **out);
	int (*lock_try)(struct store *st, const char *name, const char *owner, int ttl_s,
			bool *acquired);
	int (*lock_release)(struct store *st, const char *name, const char *owner);
	int (*job_release)(struct store *st, int64_t id, const char *owner);
	int (*outbox_retry)(struct store *st, int64_t id);
	int (*outbox_counts)(struct store *st, json_t **out);

	/* version 4 */
	/* Makes every commit so far durable; may run on another thread than the handle's. */
	int (*sync)(struct store *st);

	/* version 5: store_defer_sync (NULL: commits are always durable at once) */
	int (*defer_sync)(struct store *st, bool on);

	/* version 6: hardening (email approval, the server's secrets, outbox attempts) */
	int (*secret_get)(struct store *st, const char *name, unsigned char *out, size_t len);
	int (*message_decide)(struct store *st, const char *ticket_id, int64_t message_id, const char *approval,
			      const char *actor, json_t **out);
	int (*outbox_begin)(struct store *st, int64_t id, const char *owner, int lease_s);
	int (*outbox_extend)(struct store *st, const char *owner, int lease_s, int *extended);

	/* version 7: the console's records (users, sessions, presence, canned, queues, stream) */
	int (*user_insert)(struct store *st, const json_t *user, const char *password_hash, json_t **out);
	int (*user_get)(struct store *st, int64_t id, json_t **out);
	int (*user_find_by_email)(struct store *st, const char *email, json_t **out, char **password_hash);
	int (*user_list)(struct store *st, json_t **out);
	int (*user_update)(struct store *st, int64_t id, const json_t *fields, const char *password_hash,
			   json_t **out);
	int (*session_insert)(struct store *st, int64_t user_id, const char *hash_hex, const char *address,
			      int idle_s, int max_s, json_t **out);
	int (*session_find)(struct store *st, const char *hash_hex, int idle_s, json_t **out);
	int (*session_delete)(struct store *st, const char *hash_hex);
	int (*login_failure_add)(struct store *st, const char *key, int window_s);
	int (*login_failures)(struct store *st, const char *key, int window_s, int64_t *count,
			      int64_t *oldest_us);
	int (*login_failures_clear)(struct store *st, const char *key);
	int (*presence_set)(struct store *st, const char *ticket_id, int64_t user_id, const char *state);
	int (*presence_list)(struct store *st, const char *ticket_id, int64_t since_us, json_t **out);
	int (*canned_list)(struct store *st, json_t **out);
	int (*canned_put)(struct store *st, const char *id, const char *title, const char *body,
			  const char *actor, json_t **out, bool *created);
	int (*canned_delete)(struct store *st, const char *id);
	int (*event_since)(struct store *st, int64_t after_id, int limit, json_t **out);
	int (*event_last_id)(struct store *st, int64_t *id);
	int (*ticket_counts)(struct store *st, const char *user, json_t **out);
	int (*metrics_timeseries)(struct store *st, int64_t since_us, int64_t until_us, int bucket_s,
				  json_t **out);
	int (*corrections)(struct store *st, int64_t since_us, json_t **out);

	/* version 8: privacy (a customer's export and erasure) */
	int (*customer_export)(struct store *st, const char *id, json_t **out);
	int (*customer_erase)(struct store *st, const char *id, const char *actor, json_t **out);
	/* version 9: the satisfaction survey (issue 17) */
	int (*survey_open)(struct store *st, const char *ticket_id, const char *token_hash, int64_t expires_at_us,
			   bool *created);
	int (*survey_find)(struct store *st, const char *token_hash, json_t **out);
	int (*survey_answer)(struct store *st, const char *token_hash, int score, const char *comment,
			     json_t **out);
	int (*survey_stats)(struct store *st, int64_t since_us, json_t **out);
	/* version 10: SLA calendars and policies (kind "calendar" or "policy"), versioned */
	int (*sla_list)(struct store *st, const char *kind, json_t **out);
	int (*sla_put)(struct store *st, const char *kind, const char *id, const json_t *body, int64_t position,
		       const char *actor, json_t **out, bool *created);
	int (*sla_delete)(struct store *st, const char *kind, const char *id);
	int (*sla_history)(struct store *st, const char *kind, const char *id, json_t **out);
	/* version 11: chat sessions (issue 17) */
	int (*chat_session_insert)(struct store *st, const char *id, const char *hash_hex, const char *name,
				   const char *email, const char *address, json_t **out);
	int (*chat_session_find)(struct store *st, const char *id, const char *hash_hex, json_t **out);
	int (*chat_session_of_ticket)(struct store *st, const char *ticket_id, json_t **out);
	int (*chat_session_link)(struct store *st, const char *id, const char *ticket_id);
	int (*chat_session_by_email)(struct store *st, const char *id, const char *email);
	int (*agents_available)(struct store *st, int64_t since_us, int64_t *count);
	/* version 12: macros (issue 18) */
	int (*macro_list)(struct store *st, json_t **out);
	int (*macro_get)(struct store *st, const char *name, json_t **out);
	int (*macro_put)(struct store *st, const char *name, const char *description, const json_t *actions,
			 const char *actor, json_t **out, bool *created);
	int (*macro_delete)(struct store *st, const char *name);
	/* version 13: assignment (issue 18): departments, assigning a ticket, an agent's queue */
	int (*department_list)(struct store *st, json_t **out);
	int (*department_get)(struct store *st, const char *id, json_t **out);
	int (*department_put)(struct store *st, const char *id, const json_t *body, const char *actor, json_t **out);
	int (*ticket_assign)(struct store *st, const char *ticket_id, int idle_s, json_t **out);
	int (*assign_queued)(struct store *st, int64_t user_id, int idle_s, int limit, json_t **out);
	/* version 14: the SLA attainment's tickets and events (issue 18) */
	int (*sla_window)(struct store *st, int64_t since_us, int64_t until_us, int limit, json_t **out);
	int (*sla_facts)(struct store *st, const json_t *tickets, json_t **out);
	/* version 15: phone calls and customers by phone number (issue 17) */
	int (*call_record)(struct store *st, const json_t *call, int status_rank, json_t **out);
	int (*call_get)(struct store *st, const char *provider, const char *call_id, json_t **out);
	int (*call_ticket_sync)(struct store *st, const char *provider, const char *call_id, const char *ticket_id,
				const json_t *want, bool *retriaged);
	int (*customer_find_by_phone)(struct store *st, const char *number, json_t **out);
	/* ... and a chat visitor's typing, for every replica's live stream */
	int (*chat_typing_set)(struct store *st, const char *ticket_id, bool typing);
	int (*chat_typing_list)(struct store *st, int64_t since_us, json_t **out);
};

extern const struct store_ops store__sqlite_ops;
extern const struct store_ops store__postgres_ops;

/* ---- group commit's helpers (store.c) ---- */

/* store_open with defer_sync (see struct store_open_args). */
int store__open_deferred(const char *url, struct store **out, char **err);
/*
 * The ops' sync: safe to call from another thread while the handle's owner
 * works; records nothing on the handle. STORE_OK or STORE_EIO.
 */
int store__sync(struct store *st);

/* ---- the public functions' wrappers (store.c, store_console.c) ---- */

/*
 * Every public function is one WRAP: store__enter starts the call (clears
 * the error, names the call for messages, maybe injects a fault), checks
 * run in order (OR: the first failing one), then the op, then
 * store__leave (makes sure a failure has a message, logs it at debug
 * level). Only these wrappers call the ops.
 */
int store__enter(struct store *st, const char *fn, const char *verb);
int store__leave(struct store *st, const char *fn, int rc);
/* Argument checks for values callers pass through from users. */
int store__need(struct store *st, const void *p, const char *what);

#define STORE__RD "read from"
#define STORE__WR "write to"

/* The first failing check (inside STORE__WRAP, where rc_ is in scope). */
#define STORE__OR(a, b) ((rc_ = (a)) != STORE_OK ? rc_ : (b))
#define STORE__OUT_NULL(p) do { if (p) *(p) = NULL; } while (0)
#define STORE__WRAP(fn, verb, checks, call) \
	do { \
		int rc_ = store__enter(st, #fn, verb); \
		if (rc_ == STORE_OK) \
			rc_ = (checks); \
		if (rc_ == STORE_OK) \
			rc_ = st->ops->call; \
		return store__leave(st, #fn, rc_); \
	} while (0)

/* ---- errors and time (store.c) ---- */

/*
 * Records an error on st and returns rc. For errors of the environment
 * (connect, I/O, full, read-only, corrupt, busy, version) the message reads
 * "cannot <op> in '<masked url>': <detail>"; otherwise it is the detail.
 */
int store__fail(struct store *st, int rc, const char *fmt, ...) FL_PRINTF(3, 4);
void store__clear_error(struct store *st);
/* The message store__fail would write, for open failures (caller frees). */
char *store__open_message(const char *masked, int rc, const char *detail);
int64_t store__now(struct store *st);
/* The EVERSION detail for a database at version v. Caller frees. */
char *store__version_detail(int v);

/* ---- rows: one decoder per entity for both dialects (rows.c) ---- */

struct store__row;
struct store__row_ops {
	bool (*is_null)(const struct store__row *r, int col);
	const char *(*text)(const struct store__row *r, int col);   /* NULL when null */
	int64_t (*i64)(const struct store__row *r, int col);       /* 0 when null */
	double (*dbl)(const struct store__row *r, int col);
	/* Bytes: a copy with a NUL after them (caller frees), or NULL when unreadable. */
	void *(*blob)(const struct store__row *r, int col, size_t *len);
};
struct store__row {
	const struct store__row_ops *ops;
	void *h;
	int row;
};

/* Column lists (tickets are "t", joined tables name t.id as the ticket_id). */
#define STORE__TICKET_COLS \
	"t.number, t.id, t.external_id, t.channel, t.customer_id, t.subject, t.content, " \
	"t.metadata, t.status, t.sentiment, t.category, t.priority, t.assigned_department, " \
	"t.assignee, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, " \
	"t.satisfaction, t.version, t.analysis, t.trace, t.quarantined, t.language"
/* The same without the trace (lists). */
#define STORE__TICKET_LIST_COLS \
	"t.number, t.id, t.external_id, t.channel, t.customer_id, t.subject, t.content, " \
	"t.metadata, t.status, t.sentiment, t.category, t.priority, t.assigned_department, " \
	"t.assignee, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, " \
	"t.satisfaction, t.version, t.analysis, NULL, t.quarantined, t.language"
/* The same, the analysis being the dialect's analysis_summary (lists of summaries). */
#define STORE__TICKET_SUMMARY_HEAD \
	"t.number, t.id, t.external_id, t.channel, t.customer_id, t.subject, t.content, " \
	"t.metadata, t.status, t.sentiment, t.category, t.priority, t.assigned_department, " \
	"t.assignee, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, " \
	"t.satisfaction, t.version, "
#define STORE__TICKET_SUMMARY_TAIL ", NULL, t.quarantined, t.language"
#define STORE__TICKET_NCOLS 24
#define STORE__MESSAGE_COLS \
	"m.id, t.id, m.direction, m.author, m.body, m.created_at, m.email_message_id, " \
	"m.in_reply_to, m.effect_key, m.metadata, m.approval"
#define STORE__CUSTOMER_COLS \
	"c.id, c.name, c.email, c.tier, c.joined_at, c.total_tickets, c.satisfaction_score, " \
	"c.metadata, c.updated_at"
#define STORE__KB_COLS \
	"k.id, k.title, k.content, k.category, k.tags, k.views, k.helpful_votes, k.updated_at, k.language, " \
	"k.source, k.source_hash"
#define STORE__ESCALATION_COLS \
	"e.id, t.id, e.status, e.priority, e.department, e.package, e.agent, e.created_at, " \
	"e.claimed_at, e.closed_at, e.resolution"
#define STORE__EVENT_COLS "v.id, t.id, v.type, v.actor, v.data, v.created_at"
#define STORE__OUTBOX_COLS \
	"o.id, o.channel, o.target, o.payload, o.status, o.attempts, o.due_at, o.last_error, " \
	"o.dedupe_key, o.created_at, o.sent_at, o.lease_owner, o.started_at"
#define STORE__JOB_COLS \
	"j.id, j.kind, t.id, j.payload, j.status, j.attempts, j.max_attempts, j.run_at, " \
	"j.lease_owner, j.lease_until, j.last_error, j.dedupe_key, j.created_at, j.updated_at, " \
	"j.finished_at"
#define STORE__TOKEN_COLS "k.id, k.name, k.role, k.created_at, k.last_used_at, k.revoked"

json_t *store__ticket_json(const struct store__row *r);
json_t *store__message_json(const struct store__row *r);
json_t *store__customer_json(const struct store__row *r);
json_t *store__kb_json(const struct store__row *r);
json_t *store__escalation_json(const struct store__row *r);
json_t *store__event_json(const struct store__row *r);
json_t *store__outbox_json(const struct store__row *r);
json_t *store__job_json(const struct store__row *r);
struct store_job *store__job_struct(const struct store__row *r);
json_t *store__token_json(const struct store__row *r);

/* ---- the email channel's records (mail.c) ---- */

#define STORE__MAIL_RAW_COLS \
	"r.id, r.sha256, r.size, r.source, r.status, t.id, r.error, r.received_at, r.processed_at"
#define STORE__BLOB_COLS "b.sha256, b.size, b.content_type, b.created_at"
json_t *store__mail_raw_json(const struct store__row *r);
json_t *store__blob_json(const struct store__row *r);
/* SHA-256 of data as lower-case hex. */
void store__sha256_hex(const void *data, size_t len, char out[65]);
/* Whether s is 64 lower-case hex digits. */
bool store__is_sha256_hex(const char *s);
/* A mail_raw status the store accepts (not "received", which only put sets). */
bool store__valid_mail_status(const char *status);

/* ---- the service's records (service.c) ---- */

#define STORE__ALERT_COLS \
	"a.id, a.type, a.severity, a.metric, a.message, a.value, a.threshold, a.status, " \
	"a.observations, a.raised_at, a.last_seen_at, a.resolved_at"
json_t *store__alert_json(const struct store__row *r);

/* ---- the console's records (accounts.c, console.c) ---- */

#define STORE__USER_COLS \
	"u.id, u.email, u.name, u.role, u.department, u.skills, u.disabled, u.created_at, u.updated_at, " \
	"u.last_seen_at, u.availability, u.max_open, u.last_assigned_at"
#define STORE__USER_NCOLS 13
/* A session's columns, then the user's. */
#define STORE__SESSION_COLS \
	"s.id, s.user_id, s.address, s.created_at, s.last_seen_at, s.expires_at, " STORE__USER_COLS
#define STORE__SLA_COLS "s.id, s.position, s.body, s.version, s.updated_by, s.updated_at"
json_t *store__sla_object_json(const struct store__row *r);
#define STORE__CANNED_COLS "c.id, c.title, c.body, c.updated_by, c.updated_at"
/* The user of a row whose columns start at col (STORE__USER_COLS' order). */
json_t *store__user_json_at(const struct store__row *r, int col);
json_t *store__user_json(const struct store__row *r);
json_t *store__session_json(const struct store__row *r);
json_t *store__canned_json(const struct store__row *r);

/*
 * An open ticket, as the queues' partial indexes say it (sqlite/schema.c,
 * postgres/schema.c: migration 7): a query must repeat these terms word for
 * word for the engine to use them. spam is the spam screen's status.
 */
#define STORE__TICKET_OPEN \
	"t.status <> '" FL_STATUS_RESOLVED "' AND t.status <> '" FL_STATUS_CLOSED "' AND t.status <> 'spam'"

/*
 * A validated user: for store_user_insert (update false: email, name and
 * role required) or the fields of store_user_update (update true: any of
 * name, role, department, skills, disabled; the has_ flags say which were
 * given). Strings borrow from the JSON; EINVAL (recorded) names a bad or
 * unknown field.
 */
struct store__user_in {
	char *email;                /* lower case, owned */
	const char *name, *role, *department;
	char *skills;               /* JSON text, owned */
	bool disabled;
	bool has_name, has_role, has_department, has_skills, has_disabled;
	/* assignment (issue 18): availability, max_open (-1: null, the department's) */
	const char *availability;
	int64_t max_open;
	bool has_availability, has_max_open;
};
int store__user_in_parse(struct store *st, const json_t *u, bool update, struct store__user_in *in);
void store__user_in_release(struct store__user_in *in);

/* A validated alert for store_alert_raise; strings borrow from the JSON. */
struct store__alert_in {
	const char *type, *severity, *metric, *message;
	double value, threshold;
	bool has_value, has_threshold;
};
int store__alert_in_parse(struct store *st, const json_t *alert, struct store__alert_in *in);

/* ---- input (input.c) ---- */

/* "T-000042" -> 42; -1 when s is not of that form. */
int64_t store__parse_number(const char *s);
/* "T-000042" for 42 into out. */
void store__format_number(char out[32], int64_t number);
/* Whether s is of the reserved "T-<digits>" form. */
bool store__is_number_form(const char *s);

/* A ticket to insert, validated; strings borrow from the JSON given. */
struct store__ticket_in {
	const char *external_id, *channel, *customer_id, *subject, *content;
	const char *status, *sentiment, *category, *priority, *assigned_department, *assignee;
	char *metadata;             /* JSON text, owned */
	const json_t *metadata_v;   /* the metadata object given (borrowed), NULL: none */
	int64_t created_at;
	int64_t first_response_at, resolved_at;     /* -1: null */
	double satisfaction;        /* < 0: null */
	const char *msg_author, *msg_email_id, *msg_in_reply_to;
	char *msg_metadata;         /* JSON text, owned */
};

/*
 * Validates a ticket for intake (import false: status "new", analysis fields
 * ignored) or import (true: they are kept). Returns STORE_OK or EINVAL
 * recorded on st.
 */
int store__ticket_in_parse(struct store *st, const json_t *ticket, bool import,
			   struct store__ticket_in *in);
void store__ticket_in_release(struct store__ticket_in *in);
/*
 * The ticket as a fresh read decodes the row that in was just inserted as:
 * number, id (the one stored), updated_at (the value stored) and the
 * schema's defaults (version 1, empty analysis and trace, not quarantined).
 * Saves the intake a read-back. New reference.
 */
json_t *store__ticket_inserted(const struct store__ticket_in *in, int64_t number, const char *id,
			       int64_t updated_at);

/* The updatable ticket fields in the order backends bind them. */
enum store__tf {
	STORE__TF_STATUS, STORE__TF_SENTIMENT, STORE__TF_CATEGORY, STORE__TF_PRIORITY,
	STORE__TF_DEPARTMENT, STORE__TF_ASSIGNEE, STORE__TF_SUBJECT, STORE__TF_METADATA,
	STORE__TF_ANALYSIS, STORE__TF_TRACE, STORE__TF_SATISFACTION,
	STORE__TF_FIRST_RESPONSE_AT, STORE__TF_RESOLVED_AT, STORE__TF_QUARANTINED, STORE__TF_LANGUAGE,
	STORE__TF_COUNT
};
enum store__tf_kind { STORE__TEXT, STORE__JSON, STORE__TIME, STORE__REAL, STORE__BOOL };

struct store__tval {
	bool set, null;
	const char *s;      /* TEXT (borrowed) and JSON (points into owned) */
	char *owned;
	int64_t i;          /* TIME, BOOL */
	double d;           /* REAL */
};

struct store__ticket_upd {
	struct store__tval v[STORE__TF_COUNT];
	json_t *changed;            /* array of changed field names */
	json_t *status_change;      /* {"from", "to"} or NULL */
};

extern const struct store__tf_desc {
	const char *name;
	enum store__tf_kind kind;
} store__tf_fields[STORE__TF_COUNT];

/*
 * Validates fields against the current ticket cur (as decoded) and fills upd
 * with what to set; EINVAL (recorded) names a bad field.
 */
int store__ticket_upd_parse(struct store *st, const json_t *cur, const json_t *fields,
			    struct store__ticket_upd *upd);
void store__ticket_upd_release(struct store__ticket_upd *upd);
/*
 * The ticket as it reads after an update parsed into upd from fields has been
 * written at now: cur with the fields replaced as the row decoder shows them,
 * the version one up and updated_at now. Saves reading back (and decoding the
 * large analysis of) the row just written. New reference.
 */
json_t *store__ticket_updated(const json_t *cur, const json_t *fields,
			      const struct store__ticket_upd *upd, int64_t now);

/* Validated customer and KB rows (merged with the current row when any). */
struct store__customer_in {
	const char *id, *name, *email, *tier;
	int64_t joined_at;          /* -1: null */
	int64_t total_tickets;
	double satisfaction;        /* < 0: null */
	char *metadata;
};
int store__customer_in_parse(struct store *st, const json_t *cur, const json_t *c,
			     struct store__customer_in *in);
void store__customer_in_release(struct store__customer_in *in);

struct store__kb_in {
	const char *id, *title, *content, *category, *language;
	const char *source, *source_hash;   /* the KB sync's bookkeeping; NULL: none */
	char *tags;
	int64_t views, helpful_votes;
};
int store__kb_in_parse(struct store *st, const json_t *cur, const json_t *a, struct store__kb_in *in);
void store__kb_in_release(struct store__kb_in *in);

/* Message input: direction checked, metadata as text. */
struct store__message_in {
	const char *direction, *author, *body, *email_message_id, *in_reply_to, *effect_key, *approval;
	char *metadata;
	int64_t created_at;
};
int store__message_in_parse(struct store *st, const json_t *m, struct store__message_in *in);
void store__message_in_release(struct store__message_in *in);

/* 0 for critical .. 3 for low; -1 for anything else. */
int store__escalation_rank(const char *priority);
bool store__valid_role(const char *role);
bool store__valid_status(const char *status);
/* Keyset cursor: the last number of a page. */
char *store__cursor_encode(int64_t number);
int store__cursor_decode(const char *cursor, int64_t *number);
/* limit 0 -> def; clamped to [1, max]. */
int store__clamp_limit(int limit, int def, int max);
/* JSON text of v, or def when v is NULL. Caller frees. */
char *store__json_text(const json_t *v, const char *def);
/* The words of a search query (letters and digits), or NULL when none. */
json_t *store__query_words(const char *query);
/* Metric folding shared by both backends (see store_metrics). */
json_t *store__metrics_new(void);
/* Row: total, resolved, escalated, avg response s, avg resolution s, avg satisfaction. */
void store__metrics_totals(json_t *m, const struct store__row *r);
/* Row: dimension ("category", "priority" or "status"), value, count. */
void store__metrics_count(json_t *m, const struct store__row *r);
void store__metrics_finish(json_t *m);

#endif
