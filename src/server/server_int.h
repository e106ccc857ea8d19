/*
 * server's internals: the request every handler receives, the helpers that
 * build responses (errors leave through server__error alone), the store
 * connection pool, auth and rate limiting, and each resource's route table.
 */
#ifndef FL_SERVER_INT_H
#define FL_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <microhttpd.h>

#include "server.h"
#include "util/util.h"

struct store;
struct store_group;
struct monitor_family;

/* ---- the store connection pool ---- */

struct server_pool;

/* How long a request waits for a store connection before a 503 (milliseconds). */
#define SERVER_STORE_WAIT_MS 2000

/* n connections to url; on failure *err (caller frees). */
int server__pool_new(const char *url, size_t n, struct server_pool **out, char **err);
/* Borrows a connection, waiting up to wait_ms while all are busy; NULL when none came free. */
struct store *server__pool_get(struct server_pool *p, int64_t wait_ms);
/* Gives it back (rolling back a transaction left open by mistake). */
void server__pool_put(struct server_pool *p, struct store *st);
void server__pool_free(struct server_pool *p);

/* ---- auth and rate limits ---- */

struct server_auth {
	int64_t token_id;          /* 0: no token */
	int64_t user_id;           /* 0: not a signed-in person */
	char name[256];            /* the token's name, or the user's email */
	enum server_role role;
	bool by_cookie;            /* a session cookie: changes need the CSRF token */
	char session[72];          /* the session's secret (by_cookie) */
};

struct server_tokens;

/* A ticket waiting for its durable commit, and the store's answer. */
struct server_intake_job {
	json_t *ticket;              /* validated */
	char *key;                   /* scoped Idempotency-Key, or NULL */
	unsigned ok_status;          /* 202 (webhook) or 201 (API) */
	int rc;                      /* the store's answer */
	json_t *out;
	bool created;
	char *err;
	/* answers a stored ticket instead of the JSON answer (the web form's 303); NULL: JSON */
	void (*then)(struct server_req *r);
};
void server__intake_job_free(struct server_intake_job *j);

/* Submits r->intake to the group commit (its connection already suspended). */
void server__intake_queue(struct server_req *r);

/* The client address as text ("203.0.113.7", "2001:db8::1"), in buffers of this size. */
#define SERVER_ADDR_LEN 48

/*
 * rate and burst: each token's request budget (rate <= 0: none);
 * fails_per_minute: the unknown or revoked tokens an address may present
 * per minute, in bursts of twice that (<= 0: no limit).
 */
struct server_tokens *server__tokens_new(double rate, double burst, double fails_per_minute);
void server__tokens_free(struct server_tokens *t);
/*
 * Hashes the presented token into hash and fills a from the lookup cache
 * (entries live 10 s). Returns 0, or -1 when it is not cached; needs no
 * store.
 */
int server__tokens_cached(struct server_tokens *t, const char *token, char hash[65], struct server_auth *a);
/*
 * Looks the token's hash up in st and caches what it finds. Returns 0, or
 * an HTTP status: 401 unknown or revoked, 503 store error.
 */
int server__tokens_fetch(struct server_tokens *t, struct store *st, const char hash[65], struct server_auth *a);
/* 0 when addr may present one more token that is not cached, else the seconds to wait (Retry-After). */
int server__tokens_fail_wait(struct server_tokens *t, const char *addr, int64_t now_us);
/* Counts an unknown or revoked token presented from addr. */
void server__tokens_fail_note(struct server_tokens *t, const char *addr, int64_t now_us);
/* Takes one request from the token's bucket: 0, or the seconds to wait (Retry-After). */
int server__tokens_take(struct server_tokens *t, int64_t token_id, int64_t now_us);
/* Forgets cached lookups (after a revocation). */
void server__tokens_forget(struct server_tokens *t);

/* ---- people: passwords and sessions (auth.c) ---- */

#define SERVER_SESSION_COOKIE "fl_session"
#define SERVER_SESSION_SIZE 69      /* "fls_" + 64 hex digits + NUL */

/* Checks password against hash; a NULL hash (no such user) costs the same and fails. */
bool server__password_check(struct server *srv, const char *hash, const char *password);
/* A new session secret and the hex SHA-256 the store keeps. */
void server__session_new(char secret[SERVER_SESSION_SIZE], char hash_hex[65]);
/* The session's CSRF token (64 hex digits) into out: 0, or -1 for a malformed secret. */
int server__csrf_token(const char *secret, char out[65]);
/* Whether presented is the CSRF token of secret (constant time). */
bool server__csrf_ok(const char *secret, const char *presented);
/* The request's session cookie, or NULL. */
const char *server__session_cookie(struct server_req *r);
/* Set-Cookie for secret (NULL: clears the cookie), Secure when FRONTLINE_PUBLIC_URL is https. */
void server__set_session_cookie(struct server_req *r, const char *secret, int max_age_s);
/*
 * Authenticates r by its session cookie: fills r->auth (the user's role,
 * email as name, by_cookie) and r->user. Returns 0, or 401 (no live
 * session) or 503 (store error), having answered unless quiet.
 */
int server__session_auth(struct server_req *r, bool quiet);

/* ---- answers that wait (later.c) ---- */

struct server_later;

struct server_later *server__later_new(void);
/* Resumes every waiting request now and stops the thread. NULL is fine. */
void server__later_free(struct server_later *l);
/* Resumes every waiting request now (draining). */
void server__later_flush(struct server_later *l);
/*
 * Sends r's answer (already made) delay_ms from now: suspends the
 * connection; the server hands it to the timer once the handler returns.
 */
void server__answer_later(struct server_req *r, int64_t delay_ms);
/* Queues r (suspended by server__answer_later) on the timer (server.c, after the handler). */
void server__later_queue(struct server_later *l, struct server_req *r);
/*
 * Sets *flag and signals cond, under lock: how a worker thread (the timer
 * here, the live stream's poller) is told to stop, flush or wake.
 */
void server__signal(pthread_mutex_t *lock, pthread_cond_t *cond, bool *flag);

/* ---- the live stream (live.c, live_stream.c) ---- */

struct server_live;
struct server_stream;

/* The poller and its store connection; nothing runs until server__live_start. */
int server__live_new(struct server *srv, const char *url, struct server_live **out, char **err);
int server__live_start(struct server_live *l, char **err);
/* Something changed in the store: read it now rather than at the next poll. NULL is fine. */
void server__live_wake(struct server_live *l);
/* Ends every stream and refuses new ones (draining). NULL is fine. */
void server__live_close(struct server_live *l);
/* Stops the poller thread (streams must be closed). */
void server__live_stop(struct server_live *l);
/* After libmicrohttpd has stopped (its streams freed). NULL is fine. */
void server__live_free(struct server_live *l);
/*
 * A new stream for r sending the events after id after (-1: only new
 * ones): 0 with *out set, 1 while draining, 2 when FRONTLINE_STREAM_MAX
 * streams are open.
 */
int server__live_open(struct server_req *r, int64_t after, struct server_stream **out);
/* The response that sends s (takes s; NULL on failure, s freed). */
struct MHD_Response *server__live_response(struct server_stream *s);
/* Frees a stream never handed to a response. */
void server__live_drop(struct server_stream *s);
/* Streams open now. */
size_t server__live_count(struct server_live *l);
/*
 * A chat visitor's stream of session (its ticket number, 0 before the first
 * message made one): the visitor texts of its ticket's events, typing and
 * heartbeats (live_stream.c). Answers as server__live_open.
 */
int server__live_open_visitor(struct server_req *r, const char *session, int64_t number,
			      struct server_stream **out);
/* The first message of session made ticket number: its open streams follow it. NULL is fine. */
void server__live_chat_bind(struct server_live *l, const char *session, int64_t number);
/*
 * A visitor is typing (or stopped) on ticket: recorded through st (the
 * request's store connection) so that every replica's agents' streams get a
 * chat.typing event. l NULL is fine.
 */
void server__live_chat_typing(struct server_live *l, struct store *st, const char *ticket_id, int64_t number,
			      bool typing);
/* Answers r with the stream s that server__live_open(_visitor) answered rc for (503 when rc is not 0). */
void server__live_answer(struct server_req *r, int rc, struct server_stream *s);
/* The agents' streams open now (the console is open somewhere on this server). */
size_t server__live_agents(struct server_live *l);

/*
 * The live stream's insides, shared by its two files: live.c (the poller
 * and the ring it fills) and live_stream.c (a stream: its reader, its
 * opening and catching up, chat visitors). The ring, its head, last_id,
 * the gaps, the streams and their counts are under lock; st, presence,
 * typing and the times are the poller thread's own.
 */
#define SERVER_LIVE_RING 4096   /* recent events kept (a power of two) */
#define SERVER_LIVE_BATCH 500   /* events read per query */
#define SERVER_LIVE_GAPS 256    /* skipped ids awaited at most */

struct server_live_entry {
	int64_t id;          /* the event's id; 0: no id (presence, heartbeat) */
	char *text;          /* for the agents' streams; NULL: none */
	size_t len;
	int64_t number;      /* the ticket's number; 0: none (a heartbeat) */
	char *vtext;         /* for its ticket's visitor streams (every one's when number is 0); NULL: none */
	size_t vlen;
};

struct server_stream {
	struct server_live *live;
	struct MHD_Connection *conn;
	uint64_t start;      /* the ring's head when it opened: older entries without an id are not replayed */
	uint64_t seq;        /* the next ring entry to send */
	size_t off;          /* bytes of it sent */
	struct fl_buf pre;   /* sent first: retry and the events missed since Last-Event-ID */
	size_t pre_off;
	bool suspended, closing;
	bool visitor;        /* a chat visitor's: its ticket's visitor texts only */
	int64_t number;      /* the visitor's ticket (0 until its first message made one) */
	char session[72];    /* the visitor's chat session */
	struct server_stream *prev, *next;
};

struct server_live_gap {
	int64_t id, since_us;
};

struct server_live {
	struct server *srv;
	struct store *st;            /* the poller's connection (the poller's thread only) */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, wake, closing;
	struct server_live_entry ring[SERVER_LIVE_RING];
	uint64_t head;               /* sequence number of the next entry */
	int64_t last_id;             /* highest event id sent */
	struct server_live_gap gaps[SERVER_LIVE_GAPS];
	size_t ngaps;
	struct server_stream *streams;
	size_t nstreams, max_streams;
	size_t nvisitors;            /* of the streams, chat visitors' */
	json_t *presence;            /* "number/user" -> the last presence seen */
	json_t *typing;              /* chat session id -> the last typing seen */
	int64_t poll_us, heartbeat_us, last_beat_us, last_presence_us;
	struct monitor_family *m_streams, *m_events;
};

/* The sequence number of the oldest entry the ring still holds. Under the lock. */
static inline uint64_t server__live_oldest(const struct server_live *l)
{
	return l->head > SERVER_LIVE_RING ? l->head - SERVER_LIVE_RING : 0;
}

/* One event (a row of store_event_since) as text for the ring (caller frees), or NULL to skip it (live.c). */
char *server__live_format(const json_t *e, size_t *len);
/* Takes r out of the requests in flight (a stream is not one: stopping never waits for it). */
void server__uncount(struct server_req *r);

/* ---- the server ---- */

struct server {
	struct server_options opts;
	char *listen, *store_url, *webhook_secret;
	struct notify_key *webhook_key; /* webhook_secret prepared; NULL when unset */
	struct MHD_Daemon *daemon;
	unsigned port;
	struct server_pool *pool;
	struct store_group *group;
	struct server_tokens *tokens;
	struct server_tokens *chat_limits;  /* chat visitors' buckets, per token and per address */
	struct server_guard *guard;
	struct monitor_registry *registry;
	bool own_registry;
	struct monitor_family *m_requests, *m_latency, *m_inflight, *m_intake;
	struct server_static *statics;  /* the console's files (static.c) */
	atomic_bool draining;
	atomic_int inflight;
	pthread_mutex_t idle_lock;
	pthread_cond_t idle_cond;
	int64_t started_us;
	struct server_later *later;
	struct server_live *live;
	pthread_mutex_t auth_lock;
	char dummy_hash[SERVER_PASSWORD_HASH_SIZE];   /* for unknown emails (auth.c), made on first use */
};

/* ---- a request ---- */

struct server_req {
	struct server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char *path;
	struct server_match match;
	char request_id[40];
	char addr[SERVER_ADDR_LEN];  /* the client's address */
	struct server_conn *gconn;   /* the guard's record of the connection */
	bool begun;                  /* the access handler has seen the request */
	bool raw_path_bad;           /* "%00" or "%2F" in the request target's path */
	bool body_done;              /* the whole body was read */
	int64_t start_us;
	struct fl_buf body;
	size_t discarded;            /* bytes of a too-large body read and dropped */
	bool too_large, responded, counted;
	json_t *json;                /* the parsed body (JSON routes) */
	struct server_intake_job *intake;   /* an intake waiting for its commit */
	bool suspended;              /* the connection waits for the group commit, or the timer */
	int64_t later_us;            /* suspended until then (monotonic), its answer made */
	struct server_auth auth;
	json_t *user;                /* the signed-in user (session cookie), or NULL */
	struct server_stream *stream;   /* the answer is a live stream (owned until queued) */
	struct store *st;            /* borrowed from the pool on first use */
	/* the response */
	unsigned status;
	char *resp;
	size_t resp_len;
	const char *content_type;
	struct server_header *headers;   /* extra response headers, in order */
	size_t nheaders;
	const char *cache_control;   /* NULL: "no-store" (static strings only) */
	bool close;
};

/* A response header, kept as its name and value (never joined into lines and split again). */
struct server_header {
	char *name, *value;
};

/*
 * This request's store connection: borrowed by server__dispatch before the
 * handler runs (routes without SERVER_ROUTE_NO_STORE) and given back when
 * the handler returns, so it is never held while the client sends.
 */
struct store *server__store(struct server_req *r);
/* Path parameter i (0-based), or "". */
const char *server__param(const struct server_req *r, size_t i);
/* A query argument, or NULL. */
const char *server__query(struct server_req *r, const char *name);
/* A request header, or NULL. */
const char *server__header(struct server_req *r, const char *name);

/*
 * Query parsers: on a bad value they answer 400 naming the argument and
 * return -1; absent arguments give def.
 */
int server__query_int(struct server_req *r, const char *name, int64_t min, int64_t max,
		      int64_t def, int64_t *out);
/* One of the values in allowed (NULL-terminated), or def. */
int server__query_enum(struct server_req *r, const char *name, const char *const *allowed,
		       const char *def, const char **out);

/* ---- responses ---- */

/* Answers status with body (takes ownership; may be NULL for "{}") as JSON. */
void server__reply_json(struct server_req *r, unsigned status, json_t *body);
/* Answers status with text of content type ctype (copied). */
void server__reply_text(struct server_req *r, unsigned status, const char *ctype, const char *text,
			size_t len);
/*
 * Adds a response header (name and value copied). A name that is not an
 * HTTP token, or a value holding CR, LF or another control character but
 * tab, is refused: logged as an error and not sent, so that nothing a
 * client or the store put in a value can start a header of its own.
 * Returns 0, or -1 when refused.
 */
int server__add_header(struct server_req *r, const char *name, const char *value);
/* Frees r's extra response headers (none left). */
void server__headers_free(struct server_req *r);

/*
 * The one exit for errors: {"error": {"code", "message", "field"}} with the
 * status; field may be NULL; details (taken; may be NULL) joins the error
 * object as "details".
 */
void server__error(struct server_req *r, unsigned status, const char *code, const char *field,
		   json_t *details, const char *fmt, ...) FL_PRINTF(6, 7);
/* The helpers per status. */
void server__bad_request(struct server_req *r, const char *field, const char *fmt, ...) FL_PRINTF(3, 4);
void server__unauthorized(struct server_req *r, const char *message);
void server__forbidden(struct server_req *r, const char *message);
void server__not_found(struct server_req *r, const char *what, const char *id);
void server__conflict(struct server_req *r, json_t *current, const char *fmt, ...) FL_PRINTF(3, 4);
void server__too_large(struct server_req *r, size_t limit);
void server__unsupported_type(struct server_req *r, const char *got);
void server__unprocessable(struct server_req *r, const char *field, json_t *details,
			   const char *fmt, ...) FL_PRINTF(4, 5);
void server__rate_limited(struct server_req *r, int retry_after_s);
/* 429 with Retry-After, saying why ("too many ..."). */
void server__rate_limited_by(struct server_req *r, int retry_after_s, const char *why);
void server__unavailable(struct server_req *r, int retry_after_s, const char *message);
void server__internal(struct server_req *r, const char *fmt, ...) FL_PRINTF(2, 3);
/*
 * Answers a store error: 404 ENOTFOUND (naming what and id), 409
 * ECONFLICT/ECONSTRAINT/ELEASE, 503 busy or unreachable, else 500. Logs the
 * store's message; the client sees no internals.
 */
void server__store_error(struct server_req *r, int rc, const char *what, const char *id);

/* ---- framing ---- */

/*
 * Checks the request's framing headers: at most one Content-Length, all
 * digits; Transfer-Encoding only alone, once, and "chunked". On a violation
 * answers 400 naming the header, marks the connection to close, and returns
 * -1; else 0.
 */
int server__check_framing(struct server_req *r);
/* Whether a raw request target's path is free of "%00" and "%2F" (an encoded "/" inside a segment). */
bool server__raw_path_ok(const char *uri);

/* ---- the connection guard (guard.c) ---- */

struct server_guard;
struct server_conn;

/*
 * The guard of a server's connections: a request must arrive whole within
 * request_timeout_s of its connection opening or of the previous answer
 * (0: no limit); refused uploads get a lingering close. Counts in registry.
 */
struct server_guard *server__guard_new(unsigned request_timeout_s, struct monitor_registry *registry);
/* Starts its thread; 0 or -1. */
int server__guard_start(struct server_guard *g);
/* Stops it (after libmicrohttpd stopped) and closes lingering sockets. NULL is fine. */
void server__guard_free(struct server_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION's callback; cls is the guard. */
void server__guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe);
/* The guard's record of conn (NULL when it has none). */
struct server_conn *server__guard_conn(struct MHD_Connection *conn);
/* The request is all in: the deadline no longer applies until server__conn_next. */
void server__conn_answering(struct server_conn *c);
/* An answer was sent: the next request's time starts now. */
void server__conn_next(struct server_conn *c);
/* Closing this connection should linger (its client may still be sending a refused body). */
void server__conn_linger(struct server_conn *c);

/* ---- request bodies ---- */

/*
 * Checks the body: valid UTF-8, nesting at most max_depth, JSON (an object
 * when want_object). On failure answers 400 (invalid_utf8, too_deep,
 * invalid_json with line and column) and returns NULL.
 */
json_t *server__parse_json(struct server_req *r, const char *body, size_t len, int max_depth,
			   bool want_object);
/* The deepest nesting of arrays and objects in a JSON text (strings skipped). */
int server__json_depth(const char *s, size_t len, int stop_at);
/* Whether a Content-Type header names JSON (application/json or +json, any charset=utf-8). */
bool server__is_json_type(const char *content_type);

/* Body field helpers for handlers: on a wrong type they answer 422 naming the field. */
int server__body_str(struct server_req *r, const char *key, bool required, size_t max_len,
		     const char **out);
int server__body_int(struct server_req *r, const char *key, int64_t min, int64_t max,
		     int64_t *out, bool *present);
int server__body_num(struct server_req *r, const char *key, double min, double max,
		     double *out, bool *present);

/* ---- dispatch ---- */

/* Whether a method changes anything (POST, PUT, PATCH, DELETE): a session's request then needs its CSRF token. */
bool server__changes(const char *method);
/*
 * Checks the bearer token or the session cookie (and, for a change made
 * with the cookie, its CSRF token), the route's role and the principal's
 * rate (answering 401, 403, 429).
 */
void server__authorize(struct server_req *r);
/* Checks a signed route's signature, parses a JSON body, runs the handler. */
void server__dispatch(struct server_req *r);
/* The acting principal for audit events: "agent:<token name>", "webhook", ... Caller frees. */
char *server__actor(const struct server_req *r);
/* Tells the process's workers and dispatcher that work is waiting. */
void server__notify_job(struct server_req *r);
void server__notify_outbox(struct server_req *r);

/* ---- the console's files (static.c) ---- */

struct server_static;

/*
 * The files of the web directory dir (NULL: fl_share_path("web")); a
 * missing directory is logged and makes every console path a 404.
 */
struct server_static *server__static_new(const char *dir);
void server__static_free(struct server_static *s);
/* Whether rel (a path below the web directory, no leading '/') may be served at all. */
bool server__static_path_ok(const char *rel);
/* Whether an Accept-Encoding header (may be NULL) accepts gzip. */
bool server__static_accepts_gzip(const char *accept_encoding);

/* ---- the resources' route tables (each ends with a NULL method) ---- */

extern const struct server_route server__health_routes[];
extern const struct server_route server__webhook_routes[];
extern const struct server_route server__ticket_routes[];
extern const struct server_route server__customer_routes[];
extern const struct server_route server__kb_routes[];
extern const struct server_route server__escalation_routes[];
extern const struct server_route server__workflow_routes[];
extern const struct server_route server__metrics_routes[];
extern const struct server_route server__admin_routes[];
extern const struct server_route server__mail_routes[];
extern const struct server_route server__static_routes[];
extern const struct server_route server__session_routes[];
extern const struct server_route server__user_routes[];
extern const struct server_route server__live_routes[];
extern const struct server_route server__queue_routes[];
extern const struct server_route server__canned_routes[];
/* issue 17's channels: the web form, the survey, Twilio */
extern const struct server_route server__form_routes[];
extern const struct server_route server__twilio_routes[];
/*
 * Phone calls (routes_calls.c): one callback of a call, provider-neutral
 * ({provider, call_id, from, to, status, transcript?, recording_url?}, as
 * POST /api/v1/calls takes it): checked (422), recorded, and the call's one
 * ticket made or completed; answers.
 */
void server__call_callback(struct server_req *r, const json_t *call);
extern const struct server_route server__call_routes[];
/*
 * Reads r's body (form-encoded or multipart) with libmicrohttpd's post
 * processor, handing each piece of a field to add (which returns -1 when
 * the field grows past limit). Returns 0, or -1 having answered (415,
 * 400, 413). routes_forms.c
 */
int server__read_form(struct server_req *r, int (*add)(void *arg, const char *key, const char *data, size_t n),
		      void *arg, size_t limit);
extern const struct server_route server__sla_routes[];

extern const struct server_route server__chat_routes[];
/* issue 18: macros (routes_macros.c) */
extern const struct server_route server__macro_routes[];
/* issue 18: assignment (routes_departments.c) */
extern const struct server_route server__department_routes[];
/*
 * Gives user_id, when available, the oldest queued tickets of the user's
 * department up to the maximum (store_assign_queued; FRONTLINE_AGENT_IDLE_S);
 * *assigned (may be NULL; caller frees) the ticket ids, [] on failure, which
 * is logged and returned (a store code) but answers nothing.
 */
int server__assign_queue(struct server_req *r, int64_t user_id, json_t **assigned);

/*
 * The address a reply to a chat ticket is emailed to: the visitor's, when
 * the visitor asked to continue by email; NULL when the reply reaches the
 * visitor's stream only, or ticket is not a chat's. *session (caller
 * frees) holds the returned string (routes_chat.c).
 */
const char *server__chat_reply_address(struct server_req *r, const json_t *ticket, json_t **session);

/* Ticket helpers shared by the ticket and webhook routes. */
/* Validates an incoming ticket and stores it with its triage job (group commit). */
void server__ticket_intake(struct server_req *r, const json_t *incoming, const char *channel,
			   unsigned ok_status);
/*
 * server__ticket_intake for a door that answers in its own way (the web
 * form): once the ticket is stored, then(r) answers, r->intake->out the
 * ticket; refusals and store errors are answered as the API does.
 */
void server__ticket_intake_then(struct server_req *r, const json_t *incoming, const char *channel,
				void (*then)(struct server_req *r));
/* Suspends the connection and queues r->intake (server.c). */
void server__intake_submit(struct server_req *r);
/* Writes the answer of a finished intake (on the HTTP thread). */
void server__intake_finish(struct server_req *r);
/* Whether the request's principal may see ticket (integrations: their own). */
bool server__may_see_ticket(const struct server_req *r, const json_t *ticket);

/*
 * A change to the ticket of path parameter 0, one transaction
 * (routes_tickets.c): server__change_begin opens it and reads the ticket,
 * checking the body's "version" when given (409 with the current ticket
 * when stale), and sets *version to the ticket's; server__change_commit
 * applies fields at that version (the store's events are written by it);
 * server__change_finish commits and answers status with the ticket
 * (inside extra as "ticket" when extra is not NULL; both taken). Each
 * answers and rolls back on failure (NULL or -1).
 */
json_t *server__change_begin(struct server_req *r, int64_t *version);
int server__change_commit(struct server_req *r, json_t *fields, int64_t version, json_t **updated);
int server__change_finish(struct server_req *r, json_t *ticket, unsigned status, json_t *extra);
/* The handlers of POST /api/v1/tickets/{id}/assign and /resolve (bulk runs them per ticket). */
void server__ticket_assign(struct server_req *r);
void server__ticket_resolve(struct server_req *r);
/*
 * An agent's reply inside a change (routes_tickets.c): server__reply_add
 * adds body as the agent's outbound message (*msg, caller frees) and puts
 * what a reply changes into fields (status waiting unless resolved or
 * closed, first_response_at when unset); after server__change_commit,
 * server__reply_email queues the email to the customer (t as read, updated
 * as committed). Each answers and rolls back on failure (-1).
 */
int server__reply_add(struct server_req *r, const json_t *t, const char *body, const json_t *pending, json_t *fields,
		      json_t **msg);
int server__reply_email(struct server_req *r, const json_t *t, const json_t *updated, const char *body,
			const json_t *msg);
/*
 * The console's corrections (routes_queue.c): the fields a body of
 * priority, category, status and assigned_department sets on ticket t
 * (resolved_at following the status; new reference), and the
 * ticket.corrected events for each label body changes from before's.
 */
json_t *server__patch_fields(const json_t *body, const json_t *t);
int server__record_corrections(struct server_req *r, const json_t *before, const json_t *body);

#endif
