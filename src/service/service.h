/*
 * service: the running Frontline service, as `frontline serve` and
 * `frontline worker` run it and as the tests start it. One object owns the
 * parts and the wiring between them:
 *
 *   HTTP        the server (src/server): the API, webhooks, /metrics;
 *   workers     threads that claim "triage" jobs from the store's queue and
 *               run customer_support on their ticket; support_process_job
 *               finishes each (results, events, job completion) in one
 *               transaction; a keeper thread extends the leases;
 *   dispatcher  delivery of the store's outbox (src/notify);
 *   monitor     the periodic real_time_monitoring round (src/monitor), fed
 *               the LLM error rate since its previous round;
 *   IMAP        the mailbox poller, when FRONTLINE_IMAP_URL is set;
 *   KB sync     the help centre's articles into the store and the KB index,
 *               every FRONTLINE_KB_SYNC_INTERVAL s, when KB_API_URL is set;
 *   collectors  metrics read at each scrape of /metrics: tickets, jobs and
 *               outbox by status from the store, the LLM client's calls,
 *               tokens, errors, retries, cost and latency.
 *
 * Wake-ups: a ticket taken in over HTTP wakes this process's workers; an
 * HTTP change or a finished job that wrote to the outbox wakes its
 * dispatcher. Other replicas find the work by polling the store.
 *
 * Layering: cli -> service -> server, channels, monitor, notify -> support.
 * Nothing below depends on service/; signals stay with the caller (the CLI
 * blocks SIGTERM/SIGINT before service_new, so no thread here takes them,
 * and calls service_stop when one arrives).
 *
 * Each part has its own store connections (a store handle is used by one
 * thread at a time). The analyzer, the KB index and the LLM client are
 * borrowed: one per process, shared by every thread.
 */
#ifndef FL_SERVICE_H
#define FL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"
#include "notify/notify.h"
#include "server/server.h"

#define SERVICE_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid service options") \
	X(ESTORE, "cannot open the store") \
	X(EHTTP, "cannot start the HTTP server") \
	X(EWORKER, "cannot start the workers") \
	X(ENOTIFY, "cannot start the notification dispatcher") \
	X(EMONITOR, "cannot start the monitor") \
	X(EIMAP, "cannot start the IMAP poller") \
	X(EKBFETCH, "cannot fetch the help-centre articles") \
	X(EKBDATA, "malformed help-centre articles")

enum service_err {
#define SERVICE_ENUM(name, text) SERVICE_##name,
	SERVICE_ERRNO_MAP(SERVICE_ENUM)
#undef SERVICE_ENUM
};

const char *service_strerror(int rc);
const char *service_errname(int rc);

/* ---- what runs ---- */

enum service_part {
	SERVICE_HTTP = 1 << 0,        /* the HTTP server, with the collectors behind /metrics */
	SERVICE_WORKERS = 1 << 1,     /* triage workers (need the analyzer) */
	SERVICE_DISPATCHER = 1 << 2,  /* outbox delivery */
	SERVICE_MONITOR = 1 << 3,     /* the periodic monitor */
	SERVICE_IMAP = 1 << 4,        /* the IMAP poller (nothing runs without FRONTLINE_IMAP_URL) */
};

/* frontline serve: everything in one process. */
#define SERVICE_SERVE (SERVICE_HTTP | SERVICE_WORKERS | SERVICE_DISPATCHER | SERVICE_MONITOR | SERVICE_IMAP)
/* frontline serve --no-workers: HTTP and the monitor; `frontline worker` elsewhere does the rest. */
#define SERVICE_SERVE_NO_WORKERS (SERVICE_HTTP | SERVICE_MONITOR)
/* frontline worker: the background work without HTTP. */
#define SERVICE_WORKER (SERVICE_WORKERS | SERVICE_DISPATCHER | SERVICE_IMAP)

struct support_analyzer;
struct kb;
struct llm_client;

/* The workers' settings (each 0 or NULL: its default). */
struct service_workers_options {
	int count;              /* threads; 0: FRONTLINE_WORKERS or the cores (at most 256) */
	int lease_s;            /* job lease; 0: FRONTLINE_JOB_LEASE (300) */
	int backoff_base_ms;    /* first retry delay, doubling, capped at an hour; 0: 5000 */
	int poll_ms;            /* idle polling of the queue; 0: 1000 */
	const char *owner;      /* lease owner prefix; NULL: host:pid */
};

struct service_options {
	unsigned parts;                     /* enum service_part bits; 0: SERVICE_SERVE */
	const char *store_url;              /* NULL: FRONTLINE_DATABASE_URL; every part connects to it */
	struct support_analyzer *analyzer;  /* borrowed; required with SERVICE_WORKERS */
	struct kb *kb;                      /* borrowed; may be NULL (HTTP searches the store) */
	struct llm_client *llm;             /* borrowed; NULL: the built-in analyzer only */
	int64_t grace_ms;                   /* service_stop's grace; 0: FRONTLINE_SHUTDOWN_GRACE s (30) */
	/*
	 * Each part's own settings, defaults where 0 or NULL. The service sets
	 * the store URL, the metrics registry, the KB, the LLM error rate and
	 * the wake-ups itself; whatever the caller put there is ignored (except
	 * notify.store: a borrowed connection, for tests with a fake clock).
	 */
	struct server_options http;
	struct service_workers_options workers;
	struct notify_options notify;
	struct monitor_options monitor;
};

/* ---- the lifecycle ---- */

struct service;

/*
 * Makes the parts that opts->parts names: the metrics registry (with the
 * process metrics), the store connections, the HTTP server (not listening
 * yet), the workers' workflow. No thread runs until service_start. On
 * failure returns a service_err, *out NULL and *err (caller frees) says
 * what could not start and why, in the words `frontline serve` prints.
 */
int service_new(const struct service_options *opts, struct service **out, char **err);
/*
 * Starts the parts: workers, dispatcher, IMAP poller, then the HTTP server
 * (listening) and the monitor. On failure the parts already started keep
 * running until service_stop or service_free; *err (caller frees) says why.
 * Starting twice is a no-op.
 */
int service_start(struct service *s, char **err);
/*
 * The graceful stop (SIGTERM): HTTP stops accepting (503 on connections
 * still open, /readyz 503) and the requests in flight finish; the monitor
 * and the IMAP poller stop; the jobs in flight get what is left of the
 * grace period (at least one second) and are then released to the queue
 * for another worker or the next start; the dispatcher stops after the
 * delivery in progress. Returns the number of jobs released. A second call,
 * or a call before service_start, does nothing and returns 0. NULL is fine.
 */
int service_stop(struct service *s);
/* Stops (as service_stop, when it is running) and frees everything. NULL is fine. */
void service_free(struct service *s);

/* ---- what the callers and tests look at ---- */

/* The HTTP port bound (after service_start; useful with port 0), or 0 without HTTP. */
unsigned service_port(const struct service *s);
/* The HTTP server (borrowed; NULL without HTTP): drain and idle waits for tests. */
struct server *service_server(struct service *s);
/* The metrics registry every part updates (borrowed). */
struct monitor_registry *service_registry(struct service *s);
/* Jobs the workers finished and failed so far (0 and 0 without workers). */
void service_jobs_stats(struct service *s, uint64_t *done, uint64_t *failed);
/*
 * Waits until the workers have finished or failed n jobs in all, or
 * timeout_ms passed; true when they did. False at once without workers.
 */
bool service_jobs_wait(struct service *s, uint64_t n, int64_t timeout_ms);

/* ---- the KB sync (kbsync.c; docs/OPERATIONS.md) ---- */

struct kb_sync_opts;
struct store;

/*
 * One KB sync run: fetches the help centre's articles (o: KB_API_URL and
 * KB_API_KEY; kb_sync_fetch), makes them the store's "kb_api" articles
 * (store_kb_sync, one transaction) and, when kb is not NULL, indexes the
 * created and updated ones again and removes the removed ones from it. On
 * success *report (new) is {pages, items, drafts, articles, created [ids],
 * updated [ids], removed [ids], unchanged, skipped [ids]}. On failure
 * nothing changed and *err (caller frees) says why: SERVICE_EINVAL (not an
 * http(s) URL), SERVICE_EKBFETCH (a page could not be fetched),
 * SERVICE_EKBDATA (a page is not a valid article list), SERVICE_ESTORE.
 */
int service_kb_sync(struct store *st, struct kb *kb, const struct kb_sync_opts *o, json_t **report, char **err);

#endif
