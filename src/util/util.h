/*
 * util: the few helpers every layer of Frontline needs.
 *
 * - fl_buf: a growable string buffer in the caller's memory (git's strbuf).
 * - allocation that aborts on exhaustion (fl_malloc and friends), so that the
 *   rest of the code base does not carry an out-of-memory path per call.
 * - strings, time (monotonic and wall clock), random bytes, hex.
 * - libcurl's process-wide initialisation, once (fl_curl_global_init).
 * - JSON helpers on top of jansson.
 * - JSON-lines logging on stderr at a configurable level.
 * - the process-wide configuration: flags > environment > config file >
 *   defaults, read-only once the process has started (fl_config_*).
 * - the domain's vocabulary: channels, statuses, priorities, job kinds,
 *   event names and the ticket tag, the words every layer shares (vocab.c).
 * - one HTTP POST with libcurl for every client (http.c).
 *
 * util depends on nothing of Frontline's; everything else may depend on it.
 */
#ifndef FL_UTIL_H
#define FL_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#if defined(__GNUC__)
#define FL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FL_NORETURN __attribute__((noreturn))
#else
#define FL_PRINTF(f, a)
#define FL_NORETURN
#endif

#define FL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- allocation: abort with a message when memory is exhausted ---- */

void *fl_malloc(size_t n);
void *fl_calloc(size_t nmemb, size_t size);
void *fl_realloc(void *p, size_t n);
/* Like reallocarray(3), aborting on overflow or exhaustion. */
void *fl_reallocarray(void *p, size_t nmemb, size_t size);
/* Copies of s (NULL gives NULL). Caller frees. */
char *fl_strdup(const char *s);
char *fl_strndup(const char *s, size_t n);
/* A newly allocated formatted string. Caller frees. */
char *fl_asprintf(const char *fmt, ...) FL_PRINTF(1, 2);
char *fl_vasprintf(const char *fmt, va_list ap) FL_PRINTF(1, 0);
FL_NORETURN void fl_die(const char *fmt, ...) FL_PRINTF(1, 2);

/* ---- fl_buf: growable NUL-terminated buffer ---- */

/*
 * Invariant: buf is never NULL after fl_buf_init or FL_BUF_INIT and always
 * NUL-terminated at len; alloc == 0 means buf points at a shared empty string
 * and nothing is owned.
 */
struct fl_buf {
	char *buf;
	size_t len;
	size_t alloc;
};

extern char fl_buf_empty[];
#define FL_BUF_INIT { fl_buf_empty, 0, 0 }

void fl_buf_init(struct fl_buf *b, size_t hint);
/* Frees the memory and leaves b as after FL_BUF_INIT. */
void fl_buf_release(struct fl_buf *b);
/* Hands the string to the caller (who frees it) and resets b. */
char *fl_buf_detach(struct fl_buf *b, size_t *len);
void fl_buf_reset(struct fl_buf *b);
void fl_buf_grow(struct fl_buf *b, size_t extra);
void fl_buf_add(struct fl_buf *b, const void *data, size_t n);
void fl_buf_adds(struct fl_buf *b, const char *s);
void fl_buf_addch(struct fl_buf *b, int c);
void fl_buf_addf(struct fl_buf *b, const char *fmt, ...) FL_PRINTF(2, 3);
void fl_buf_vaddf(struct fl_buf *b, const char *fmt, va_list ap) FL_PRINTF(2, 0);
void fl_buf_setlen(struct fl_buf *b, size_t len);
/* Removes trailing ASCII whitespace. */
void fl_buf_rtrim(struct fl_buf *b);

/* ---- strings ---- */

bool fl_str_has_prefix(const char *s, const char *prefix);
bool fl_str_has_suffix(const char *s, const char *suffix);
/* True when both are NULL or both equal. */
bool fl_str_eq(const char *a, const char *b);
/* Copies at most size-1 bytes and always NUL-terminates; returns strlen(src). */
size_t fl_strlcpy(char *dst, const char *src, size_t size);
/* Pointer into s past leading ASCII whitespace; *len (in/out) trimmed at both ends. */
const char *fl_str_trim(const char *s, size_t *len);
/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left): 1 for ASCII,
 * 0 when invalid (overlong forms, surrogates, past U+10FFFF, cut short).
 */
size_t fl_utf8_seq(const unsigned char *s, size_t n);
/* Offset of the first invalid UTF-8 byte in s[0..len), -1 when it is all valid. */
long fl_utf8_invalid_at(const char *s, size_t len);
/*
 * Parse a whole decimal integer (optional sign, no trailing junk) into *out.
 * Returns 0, or -1 when s is not a number or out of [min, max].
 */
int fl_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
int fl_parse_double(const char *s, double *out);
/* "1", "true", "yes", "on" and "0", "false", "no", "off" (any case); -1 otherwise. */
int fl_parse_bool(const char *s);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void fl_hex(char *out, const unsigned char *in, size_t n);
/*
 * Decodes n bytes from 2n hex digits (either case) at in into out.
 * Returns 0, or -1 when a character is not a hex digit (out then undefined).
 */
int fl_unhex(unsigned char *out, const char *in, size_t n);

/* ---- time ---- */

/* Monotonic clock in microseconds. */
int64_t fl_mono_us(void);
/* Wall clock, microseconds since the Unix epoch. */
int64_t fl_wall_us(void);
/* Sleep, resuming after signals, for us microseconds. */
void fl_sleep_us(int64_t us);
/*
 * pthread_cond_timedwait for at most ms milliseconds from now (the
 * condition's default clock, CLOCK_REALTIME); m is held, as for
 * pthread_cond_wait. Returns its result (ETIMEDOUT when the time ran out).
 */
int fl_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms);
/*
 * RFC 3339 UTC with milliseconds ("2024-01-02T03:04:05.678Z") into out[32];
 * years 0000 to 9999 (an instant outside gives "0000-00-00T00:00:00.000Z").
 */
void fl_time_rfc3339(char out[32], int64_t wall_us);
/*
 * Parse RFC 3339 / ISO 8601 ("2024-01-02", "...T03:04:05Z", offsets); -1 on
 * error, and for an instant outside 0000-01-01 to 9999-12-31 UTC (which
 * fl_time_rfc3339 could not write back in four digits).
 */
int fl_time_parse(const char *s, int64_t *wall_us);

/* ---- random ---- */

/* Cryptographically secure random bytes (libsodium). */
void fl_random_bytes(void *out, size_t n);
uint64_t fl_random_u64(void);
/* Uniform double in [0, 1). */
double fl_random_unit(void);

/* ---- libcurl ---- */

/*
 * curl_global_init, once per process (thread-safe; aborts if libcurl cannot
 * start). Call it before making a libcurl handle; nothing else calls
 * curl_global_init.
 */
void fl_curl_global_init(void);

/* ---- JSON helpers (all borrow their arguments) ---- */

/* obj[key] as a string, or def when absent or not a string. */
const char *fl_json_str(const json_t *obj, const char *key, const char *def);
int64_t fl_json_int(const json_t *obj, const char *key, int64_t def);
double fl_json_num(const json_t *obj, const char *key, double def);
/* True for JSON true, non-zero numbers, and "true"/"yes"/"1" strings. */
bool fl_json_bool(const json_t *obj, const char *key, bool def);
/*
 * Compact encoding, keys in insertion order, as jansson's
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) but faster and with reals in
 * their shortest exact form ("0.4704", not "0.47039999999999998"). Caller
 * frees. NULL gives "null". Invalid UTF-8 in a string ends the process.
 */
char *fl_json_dumps(const json_t *v);
/* The same, appended to b; -1 (b unchanged) on invalid UTF-8 or nesting deeper than 2048. */
int fl_json_encode(struct fl_buf *b, const json_t *v);
/* Sets obj[key] to a new string (NULL sets null). */
void fl_json_set_str(json_t *obj, const char *key, const char *s);

/* ---- the domain's vocabulary (vocab.c) ---- */

/*
 * The words more than one layer says, in one place: add a word here, not as
 * a literal in two modules. They sit in util because the store (below
 * support, the domain module) validates statuses and resolves ticket tags.
 * Every list is NULL-terminated, in its documented order (DESIGN §3, §5).
 */

/* Ticket channels: where a ticket came from (the API's "channel"/"source"). */
#define FL_CHANNEL_EMAIL "email"
#define FL_CHANNEL_CHAT "chat"
#define FL_CHANNEL_WEB "web"
#define FL_CHANNEL_WEBHOOK "webhook"
#define FL_CHANNEL_PHONE "phone"
#define FL_CHANNEL_API "api"
extern const char *const fl_channels[];

/*
 * Ticket statuses: new -> triaging -> auto_replied | escalated | waiting_on_customer | pending -> resolved -> closed;
 * spam: the triage's spam screen called it spam (listed for review, never answered).
 */
#define FL_STATUS_NEW "new"
#define FL_STATUS_TRIAGING "triaging"
#define FL_STATUS_AUTO_REPLIED "auto_replied"
#define FL_STATUS_ESCALATED "escalated"
#define FL_STATUS_WAITING "waiting_on_customer"
#define FL_STATUS_PENDING "pending"   /* an agent asked the customer something: the SLA clock pauses */
#define FL_STATUS_RESOLVED "resolved"
#define FL_STATUS_CLOSED "closed"
#define FL_STATUS_SPAM "spam"
extern const char *const fl_statuses[];

/* Ticket priorities, lowest first. */
#define FL_PRIORITY_LOW "low"
#define FL_PRIORITY_MEDIUM "medium"
#define FL_PRIORITY_HIGH "high"
#define FL_PRIORITY_URGENT "urgent"
extern const char *const fl_priorities[];

/* Job kinds of the store's queue. */
#define FL_JOB_TRIAGE "triage"      /* run customer_support on a stored ticket */

/*
 * Event names: the audit log (store_event_append, the store's own writes) and
 * the ticket events sent to integrations (support_ticket_event).
 */
#define FL_EVENT_TICKET_CREATED "ticket.created"
#define FL_EVENT_TICKET_UPDATED "ticket.updated"
#define FL_EVENT_TICKET_STATUS "ticket.status"
#define FL_EVENT_TICKET_ESCALATED "ticket.escalated"
#define FL_EVENT_TICKET_RESOLVED "ticket.resolved"
#define FL_EVENT_TICKET_REOPENED "ticket.reopened"
#define FL_EVENT_TICKET_SATISFIED "ticket.satisfied"   /* a thank-you in the thread (email intake) */
#define FL_EVENT_TICKET_RATED "ticket.rated"           /* the customer answered the survey: {score, comment} */
#define FL_EVENT_WORKFLOW_COMPLETED "workflow.completed"
/* an agent approved or declined a message awaiting approval (mail from someone not on the ticket) */
#define FL_EVENT_MESSAGE_APPROVED "message.approved"
#define FL_EVENT_MESSAGE_DECLINED "message.declined"
/* A message joined the thread (written by store_message_add, by the message's direction). */
#define FL_EVENT_TICKET_REPLIED "ticket.replied"                    /* outbound: an agent's or the automatic reply */
#define FL_EVENT_TICKET_NOTED "ticket.noted"                        /* an internal note */
#define FL_EVENT_TICKET_CUSTOMER_REPLIED "ticket.customer_replied"  /* inbound, after the first message */
/* An agent changed a label the triage set: {field, from, to, actor, at} (training rows). */
#define FL_EVENT_TICKET_CORRECTED "ticket.corrected"
/* A macro changed the ticket: one per change, {macro, action, from, to} by the agent who applied it. */
#define FL_EVENT_TICKET_MACRO "ticket.macro"
/* An agent escalated by hand: {reason, level, department, workflow, escalation_id}. */
#define FL_EVENT_TICKET_ESCALATED_BY_HAND "ticket.escalated_by_hand"
/* SLA and housekeeping (issue 18): data {policy, clock, due_at} or {reason} */
#define FL_EVENT_TICKET_SLA_WARNING "ticket.sla_warning"
#define FL_EVENT_TICKET_SLA_BREACHED "ticket.sla_breached"
#define FL_EVENT_TICKET_REMINDED "ticket.reminded"
#define FL_EVENT_TICKET_AUTO_RESOLVED "ticket.auto_resolved"
#define FL_EVENT_TICKET_AUTO_CLOSED "ticket.auto_closed"
/*
 * Names of the live stream (GET /api/v1/stream) for audit events it
 * renames: workflow.completed is ticket.triaged; ticket.updated is
 * ticket.assigned when the assignee changed; ticket.status is
 * ticket.escalated when it went to escalated, else ticket.status_changed.
 * presence is the stream's own (not in the audit log).
 */
#define FL_EVENT_TICKET_TRIAGED "ticket.triaged"
#define FL_EVENT_TICKET_ASSIGNED "ticket.assigned"
#define FL_EVENT_TICKET_STATUS_CHANGED "ticket.status_changed"
#define FL_EVENT_PRESENCE "presence"

/* A person's roles (users): agents work tickets, admins also manage people and settings. */
#define FL_ROLE_AGENT "agent"
#define FL_ROLE_ADMIN "admin"
extern const char *const fl_user_roles[];

/* Presence on a ticket (POST /api/v1/tickets/{id}/presence). */
#define FL_PRESENCE_VIEWING "viewing"
#define FL_PRESENCE_REPLYING "replying"
#define FL_PRESENCE_LEFT "left"
extern const char *const fl_presence_states[];

/* Index of word in a NULL-terminated set, or -1 (also for a NULL word). */
int fl_word_index(const char *const *set, const char *word);
/* The set's words joined by sep ("email, chat, web"). Caller frees. */
char *fl_words_join(const char *const *set, const char *sep);

/*
 * The ticket tag: "T-" and Frontline's ticket number padded to six digits
 * ("T-000042"), the short name agents, customers' subjects and the store's
 * ticket_id arguments use. FL_TICKET_TAG_SIZE holds any int64 number.
 */
#define FL_TICKET_TAG_PREFIX "T-"
#define FL_TICKET_TAG_FMT "T-%06lld"
#define FL_TICKET_TAG_SIZE 32
/* The tag of number into out. */
void fl_ticket_tag(char out[FL_TICKET_TAG_SIZE], int64_t number);
/* The number a whole tag names ("T-000042", "T-42" -> 42); -1 when s is not one (or names 0). */
int64_t fl_ticket_tag_parse(const char *s);
/* Whether s has the tag's form, "T-" and one or more digits, whatever the number (ids of that form are reserved). */
bool fl_ticket_tag_form(const char *s);

/* ---- HTTP (http.c): the one libcurl client of the LLM client, the notify channels and the CRM ---- */

struct curl_slist;

struct fl_http_post {
	const char *url;                    /* http or https only; no redirects are followed */
	const struct curl_slist *headers;   /* borrowed (Content-Type and the like); may be NULL */
	const char *body;
	size_t body_len;
	long timeout_ms;                    /* the whole request */
	long connect_timeout_ms;
	size_t max_body;                    /* answer bytes kept; 0: 8 MiB */
	bool truncate;                      /* past max_body: keep what fits (else the transfer fails, CURLE_WRITE_ERROR) */
	void *handle;                       /* a CURL * to reuse for its connections (reset first); NULL: one for this request */
	/* called about once a second while the request runs (a heartbeat); non-zero aborts it. May be NULL. */
	int (*progress)(void *arg);
	void *progress_arg;
};

struct fl_http_result {
	long status;                        /* the HTTP status; 0 when no answer came */
	int curl_rc;                        /* the CURLcode; 0 (CURLE_OK): the transfer completed */
	char error[256];                    /* libcurl's message when curl_rc is not 0 */
	struct fl_buf body;                 /* the answer (up to max_body bytes) */
	int64_t retry_after_ms;             /* Retry-After or retry-after-ms; -1: none */
	int64_t elapsed_us;
	bool request_sent;                  /* bytes of the request left: the receiver may have acted on it */
};

/*
 * POSTs req->body with TLS verified (peer and host), no signals, compressed
 * answers accepted and User-Agent "Frontline/<version>". Always fills res
 * (release it with fl_http_result_release) and returns res->curl_rc.
 */
int fl_http_post(const struct fl_http_post *req, struct fl_http_result *res);
/* The same as a GET of req->url (req->body ignored): the CRM and the KB sync read with it. */
int fl_http_get(const struct fl_http_post *req, struct fl_http_result *res);
void fl_http_result_release(struct fl_http_result *res);
/* A Retry-After value (delta-seconds or an HTTP date) in ms from now_wall_s; -1 if invalid. */
int64_t fl_http_parse_retry_after(const char *value, int64_t now_wall_s);

/* ---- logging ---- */

enum fl_log_level { FL_LOG_DEBUG, FL_LOG_INFO, FL_LOG_WARN, FL_LOG_ERROR };

/*
 * Writes one JSON line to the log sink (stderr by default):
 * {"ts":..., "level":..., "msg":..., <fields>}. fields is borrowed and may
 * be NULL. Lines below the configured level are dropped.
 */
void fl_log(enum fl_log_level level, const char *fmt, ...) FL_PRINTF(2, 3);
void fl_logj(enum fl_log_level level, const json_t *fields, const char *fmt, ...) FL_PRINTF(3, 4);
bool fl_log_enabled(enum fl_log_level level);
/* Parses "debug", "info", "warning"/"warn", "error" (any case); -1 otherwise. */
int fl_log_level_parse(const char *s);
/* Start-up only: the level and the sink (NULL: stderr). */
void fl_log_setup(enum fl_log_level level, void (*sink)(void *arg, const char *line), void *arg);
/* The request id stamped on this thread's log lines (NULL clears). */
void fl_log_set_request_id(const char *id);

/* ---- configuration ---- */

/*
 * The process-wide configuration. Keys are listed once in config.c with their
 * default and a one-line description (docs/CONFIGURATION.md mirrors them).
 * Precedence: flags (fl_config_set) > environment > config file > defaults.
 * Load and set at start-up only; afterwards the configuration is read-only
 * and safe to read from any thread.
 */
enum fl_config_kind {
	FL_CONFIG_PLAIN,
	FL_CONFIG_SECRET, /* never shown: fl_config_dump masks it */
	FL_CONFIG_URL,    /* shown with its password masked */
};

struct fl_config_key {
	const char *name;
	const char *def;   /* NULL: unset */
	const char *help;
	enum fl_config_kind kind;
};

/* The table of known keys, ended by a {NULL} entry. */
const struct fl_config_key *fl_config_keys(void);
/*
 * Reads the environment and, when path is not NULL, a file of KEY=value lines
 * ('#' comments, optional quotes, an optional "export " before the key).
 * Returns 0, or -1 with a message in err (caller frees) when the file cannot
 * be read or has a malformed line, or a value (in the file or the
 * environment) is not valid UTF-8.
 * A missing file is an error only when required is true. Then fills the
 * defaults that follow other keys (see fl_share_path): FRONTLINE_SHARE_DIR
 * for an installed binary, FRONTLINE_MODELS_DIR and FRONTLINE_KB_DIR in the
 * share directory, and FRONTLINE_DATABASE_URL as
 * sqlite://<FRONTLINE_STATE_DIR>/frontline.db.
 */
int fl_config_load(const char *path, bool required, char **err);
/* Overrides a key, as a command-line flag does. Copies value. */
void fl_config_set(const char *name, const char *value);
/* The effective value, or NULL when unset. */
const char *fl_config_get(const char *name);
int64_t fl_config_int(const char *name, int64_t def);
double fl_config_num(const char *name, double def);
bool fl_config_bool(const char *name, bool def);
/* Where the effective value came from: "flag", "env", "file", "default" or "unset". */
const char *fl_config_source(const char *name);
/* All keys with effective values; secrets masked. Caller owns the result. */
json_t *fl_config_dump(void);
/* Frees what the configuration holds (for leak checkers at exit). */
void fl_config_free(void);
/*
 * The path of a directory of the shipped data ("models", "kb", "web"). Caller
 * frees. The one rule, in this order:
 *   1. FRONTLINE_SHARE_DIR, when set (flag, environment or file): <it>/<name>;
 *   2. a binary run from its meson build directory (the tests, `make run`):
 *      the source tree it was built from (data/<name>; web/ at the root);
 *   3. an installed binary: <prefix>/share/frontline/<name>, <prefix> found
 *      from the executable's location (so DESTDIR trees and moved trees
 *      work), else the datadir the build was configured with.
 * The path is not checked: opening it reports what is missing.
 */
char *fl_share_path(const char *name);
/* True when this process's executable lies in the build directory the
 * library was compiled for (rule 2 above). */
bool fl_running_from_build(void);
/* Masks the password of a URL or libpq connection string for messages. Caller frees. */
char *fl_mask_url(const char *url);
/* "abcd…wxyz"-style masking of a secret for display. Caller frees. */
char *fl_mask_secret(const char *s);

#endif
