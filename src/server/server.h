/*
 * server: Frontline's HTTP service (libmicrohttpd with its internal epoll
 * thread pool). The service module (src/service) runs it beside the
 * workers, the dispatcher and the monitor, and wires the wake-ups
 * (on_job, on_outbox below); server/ knows nothing of them.
 *
 * - Routes are one table {method, path pattern, handler, required role,
 *   flags}, assembled from one small file per resource (routes_*.c);
 *   docs/openapi.yaml describes each and a test keeps the two in step.
 * - Requests: JSON in and out, body and header limits, 415 for another
 *   content type, 400 for bad JSON (with line and column), invalid UTF-8 or
 *   too deep nesting; every error leaves through one function as
 *   {"error": {"code", "message", "field"}}.
 * - Auth: Bearer API tokens (stored as SHA-256 hashes) with roles admin,
 *   agent and integration, a token bucket per token (429 with Retry-After);
 *   POST /webhooks/tickets is authenticated by its HMAC signature instead.
 *   People sign in to the console (POST /api/v1/session: Argon2id
 *   passwords, failures slowed then refused per account and address) and
 *   get a session cookie that every route accepts like a token of their
 *   role; a change made with the cookie needs its X-CSRF-Token.
 * - Live: GET /api/v1/stream (Server-Sent Events): one thread per process
 *   reads new audit events (and presence) from the store and fans them out
 *   to every open stream, which waits suspended between events.
 * - Observability: a request id per request (X-Request-Id, in every log
 *   line), one JSON access-log line per request, request counters and
 *   latency histograms in the metrics registry.
 * - Draining: server_drain closes new connections at once, answers 503 to
 *   requests on connections still open, and /readyz turns 503, so a load
 *   balancer moves traffic elsewhere before the process exits.
 * - Bad clients (docs/OPERATIONS.md, "Security"): framing checked before
 *   any body (400 and close), a total deadline for a request to arrive, a
 *   connection cap per address below the total (health keeps answering
 *   others), signature headers checked before a webhook's body is read,
 *   unknown tokens limited per address, refused uploads closed lingering.
 *
 * Each HTTP thread borrows a store connection from a pool while it runs a
 * request's handler (never while the client is still sending; a token found
 * in the lookup cache needs none); ticket intake goes through the store's
 * group commit, so concurrent intakes share one durable commit.
 */
#ifndef FL_SERVER_H
#define FL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define SERVER_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(ELISTEN, "cannot listen on the address") \
	X(ESTORE, "store error") \
	X(EWORKER, "cannot start the workers")   /* unused since the workers moved to src/service */

enum server_err {
#define SERVER_ENUM(name, text) SERVER_##name,
	SERVER_ERRNO_MAP(SERVER_ENUM)
#undef SERVER_ENUM
};

const char *server_strerror(int rc);
const char *server_errname(int rc);

/* ---- roles ---- */

enum server_role {
	SERVER_ROLE_PUBLIC = 0,     /* no token needed */
	SERVER_ROLE_INTEGRATION,    /* create tickets, read its own */
	SERVER_ROLE_AGENT,          /* work tickets */
	SERVER_ROLE_ADMIN,          /* everything */
	SERVER_ROLE_SIGNED,         /* an HMAC-signed webhook, no token */
};

/* "admin", "agent", "integration" (and "public", "signed"). */
const char *server_role_name(enum server_role role);
/* The role named s (admin, agent, integration), or -1. */
int server_role_parse(const char *s);

/* ---- tokens ---- */

#define SERVER_TOKEN_PREFIX "flt_"

/*
 * A new random API token (SERVER_TOKEN_PREFIX + 48 hex digits) in token
 * (at least 64 bytes) and the hex SHA-256 of it, as stored, in hash_hex[65].
 */
void server_token_generate(char token[64], char hash_hex[65]);
/* The hex SHA-256 of a presented token. */
void server_token_hash(const char *token, char hash_hex[65]);

/* ---- passwords (people who sign in to the console) ---- */

#define SERVER_PASSWORD_HASH_SIZE 128    /* crypto_pwhash_STRBYTES */
#define SERVER_PASSWORD_MIN 8
#define SERVER_PASSWORD_MAX 1024
#define SERVER_PASSWORD_GENERATED 21     /* 20 characters and the NUL */

/*
 * The Argon2id cost a FRONTLINE_PASSWORD_COST value names ("interactive",
 * the default; "moderate"; "min", libsodium's floor, for test suites only):
 * 0, or -1 for an unknown name.
 */
int server_password_cost(const char *name, unsigned long long *ops, size_t *mem);
/* The Argon2id hash of password (crypto_pwhash_str) at that cost into out: 0, or -1. */
int server_password_hash(const char *password, char out[SERVER_PASSWORD_HASH_SIZE]);
/* Whether password matches hash (any cost; constant time in the password). */
bool server_password_verify(const char *hash, const char *password);
/* NULL when password may be chosen (8 to 1024 bytes of UTF-8), else why not. */
const char *server_password_problem(const char *password);
/* A random password of 20 letters and digits (no look-alikes). */
void server_password_generate(char out[SERVER_PASSWORD_GENERATED]);

/* ---- the route table ---- */

struct server_req;

enum server_route_flags {
	SERVER_ROUTE_JSON_BODY = 1 << 0,   /* requires an application/json body */
	SERVER_ROUTE_RAW_BODY = 1 << 1,    /* keeps the raw body (signatures) */
	SERVER_ROUTE_NO_LOG = 1 << 2,      /* access log at debug level (probes) */
	SERVER_ROUTE_OPTIONAL_BODY = 1 << 3,  /* a JSON body is allowed but not required */
	SERVER_ROUTE_MAIL_BODY = 1 << 4,   /* a raw email: up to FRONTLINE_EMAIL_MAX_BYTES */
	SERVER_ROUTE_NO_STORE = 1 << 5,    /* the handler needs no store connection (probes, the group commit) */
};

struct server_route {
	const char *method;        /* "GET", "POST", "PUT", "DELETE" */
	const char *path;          /* "/api/v1/tickets/{id}": {name} matches one segment */
	void (*handler)(struct server_req *r);
	enum server_role role;     /* the least role allowed */
	unsigned flags;
	const char *summary;       /* one line, as in docs/openapi.yaml */
};

/* Every route the server serves, ended by an entry whose method is NULL. */
const struct server_route *server_routes(void);

#define SERVER_MAX_PARAMS 4

struct server_match {
	const struct server_route *route;
	char *params[SERVER_MAX_PARAMS];   /* captured segments, in order (owned) */
	size_t nparams;
	bool path_matched;                  /* some route has this path, another method */
	char allow[64];                     /* those methods, for 405's Allow header */
};

/*
 * Matches method and path (already percent-decoded, without the query)
 * against table. Returns the route or NULL; m is filled either way and must
 * be released with server_match_release.
 */
const struct server_route *server_route_match(const struct server_route *table, const char *method,
					      const char *path, struct server_match *m);
void server_match_release(struct server_match *m);

/* ---- the server ---- */

struct server;
struct monitor_registry;
struct kb;

struct server_options {
	const char *listen;             /* "host:port"; NULL: FRONTLINE_LISTEN */
	const char *store_url;          /* NULL: FRONTLINE_DATABASE_URL */
	unsigned threads;               /* HTTP threads; 0: FRONTLINE_HTTP_THREADS or cores */
	size_t max_body;                /* bytes; 0: FRONTLINE_HTTP_MAX_BODY */
	size_t max_header;              /* request line + headers; 0: FRONTLINE_HTTP_MAX_HEADER */
	unsigned timeout_s;             /* idle connections; 0: FRONTLINE_HTTP_TIMEOUT */
	unsigned request_timeout_s;     /* a request's whole arrival; 0: FRONTLINE_HTTP_REQUEST_TIMEOUT */
	unsigned max_connections;       /* 0: FRONTLINE_HTTP_MAX_CONNECTIONS */
	unsigned per_ip_connections;    /* 0: FRONTLINE_HTTP_PER_IP_CONNECTIONS */
	double rate;                    /* per token, requests/s; <0: none; 0: FRONTLINE_RATE_LIMIT */
	double burst;                   /* 0: FRONTLINE_RATE_BURST */
	double auth_failures;           /* unknown tokens per address per minute; <0: none; 0: FRONTLINE_HTTP_AUTH_FAILURES */
	const char *webhook_secret;     /* NULL: FRONTLINE_WEBHOOK_SECRET */
	int64_t webhook_tolerance_s;    /* 0: FRONTLINE_WEBHOOK_TOLERANCE */
	int max_json_depth;             /* 0: 32 */
	struct monitor_registry *registry;  /* borrowed; NULL: the server makes its own */
	struct kb *kb;                  /* borrowed; NULL: KB search through the store */
	const char *web_dir;            /* the console's files; NULL: fl_share_path("web") */
	/* Called after a job was enqueued by this process (wakes local workers). */
	void (*on_job)(void *arg);
	void *on_job_arg;
	/* Called after an outbox item was enqueued by this process. */
	void (*on_outbox)(void *arg);
	void *on_outbox_arg;
};

/*
 * Opens the store connections and prepares the server; nothing listens
 * until server_start. On failure *err says why (caller frees).
 */
int server_new(const struct server_options *opts, struct server **out, char **err);
/* Binds and starts the HTTP threads. */
int server_start(struct server *srv, char **err);
/* The bound port (useful after listening on port 0). */
unsigned server_port(const struct server *srv);
/* The metrics registry the server updates. */
struct monitor_registry *server_registry(struct server *srv);
/*
 * Closes each new connection as soon as it is accepted; requests still
 * arriving on open connections get 503 with Connection: close; /readyz
 * answers 503. The listening socket closes in server_free.
 */
void server_drain(struct server *srv);
bool server_draining(const struct server *srv);
/* Waits until no request is in flight or timeout_ms passed; true when idle. */
bool server_wait_idle(struct server *srv, int64_t timeout_ms);
/*
 * The store changed outside the HTTP requests (a worker stored a ticket's
 * triage): the live streams read it now instead of at their next poll.
 * Safe from any thread; NULL is fine.
 */
void server_changed(struct server *srv);
/* Stops the HTTP threads and frees everything. NULL is fine. */
void server_free(struct server *srv);

#endif
