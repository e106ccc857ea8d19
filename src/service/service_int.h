/*
 * service's internals: the workers (workers.c) and the metric collectors
 * (collectors.c) that service.c assembles with the server, the dispatcher,
 * the monitor and the IMAP poller.
 */
#ifndef FL_SERVICE_INT_H
#define FL_SERVICE_INT_H

#include <pthread.h>

#include "service.h"
#include "util/util.h"

/* ---- a periodic thread (ticker.c): the SLA sweep's and the KB sync's ---- */

struct service__ticker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop, at_once;
	int interval_s;
	void (*round)(void *arg);
	void *arg;
};

/* Sets t up (no thread yet): round(arg) every interval_s s, the first at once when at_once. */
void service__ticker_init(struct service__ticker *t, int interval_s, bool at_once, void (*round)(void *arg),
			  void *arg);
/* Starts the thread (again: a no-op). SERVICE_EINVAL when it cannot start. */
int service__ticker_start(struct service__ticker *t);
/* Ends the thread after its current round; false when it was not running. */
bool service__ticker_stop(struct service__ticker *t);
/* Stops and releases what init made. */
void service__ticker_release(struct service__ticker *t);

/* ---- the workers ---- */

struct service_workers;

struct service__workers_config {
	const char *store_url;                /* required */
	struct service_workers_options opts;
	struct support_analyzer *analyzer;    /* borrowed; required */
	struct kb *kb;                        /* borrowed; may be NULL */
	struct llm_client *llm;               /* borrowed; may be NULL */
	struct monitor_registry *registry;    /* borrowed; may be NULL */
	struct notify_dispatcher *dispatcher; /* woken after a job wrote to the outbox; may be NULL */
	/* Called after a job's results are stored (the live streams read them at once); may be NULL. */
	void (*on_done)(void *arg);
	void *on_done_arg;
};

/*
 * Opens one store connection per worker and one for the lease keeper, and
 * builds the customer_support workflow; threads start with
 * service__workers_start. SERVICE_EWORKER or SERVICE_ESTORE with *err
 * (caller frees) on failure.
 */
int service__workers_new(const struct service__workers_config *cfg, struct service_workers **out,
			 char **err);
int service__workers_start(struct service_workers *w, char **err);
/* Wakes idle workers (a job was enqueued). NULL is fine. */
void service__workers_wake(struct service_workers *w);
/*
 * Stops claiming; waits up to grace_ms for the jobs in flight to finish,
 * then releases those still running back to the queue (another worker or
 * the next start picks them up). Returns the number released. NULL is fine.
 */
int service__workers_stop(struct service_workers *w, int64_t grace_ms);
void service__workers_stats(struct service_workers *w, uint64_t *done, uint64_t *failed);
/* Waits until done + failed reaches n or timeout_ms passed; true when it did. */
bool service__workers_wait(struct service_workers *w, uint64_t n, int64_t timeout_ms);
/* Stops (with grace_ms unless stopped already) and frees. NULL is fine. */
void service__workers_free(struct service_workers *w, int64_t grace_ms);

/* ---- the SLA sweep (sla.c) ---- */

struct service_sla;

/*
 * The sweep's thread on a store connection of its own: *out NULL when
 * FRONTLINE_SLA_SWEEP_INTERVAL is 0 (off); SERVICE_ESTORE with *err
 * (caller frees) when the store cannot be opened.
 */
int service__sla_new(const char *store_url, struct service_sla **out, char **err);
/* Starts the rounds (the first after one interval); NULL is fine. */
int service__sla_start(struct service_sla *s);
/* Ends the thread after its current round and releases the lock; NULL is fine. */
void service__sla_stop(struct service_sla *s);
void service__sla_free(struct service_sla *s);

/* ---- the KB sync's thread (kbsync.c) ---- */

struct service_kbsync;

/*
 * The KB sync's thread on a store connection of its own, keeping kb
 * (borrowed; may be NULL) in line: *out NULL when KB_API_URL is unset (or
 * not http(s): a warning) or FRONTLINE_KB_SYNC_INTERVAL is 0; SERVICE_ESTORE
 * with *err (caller frees) when the store cannot be opened.
 */
int service__kbsync_new(const char *store_url, struct kb *kb, struct service_kbsync **out, char **err);
/* Starts the rounds (the first at once); NULL is fine. */
int service__kbsync_start(struct service_kbsync *s);
/* Ends the thread after its current round and releases the lock; NULL is fine. */
void service__kbsync_stop(struct service_kbsync *s);
void service__kbsync_free(struct service_kbsync *s);

/* ---- the collectors ---- */

struct service_collectors;

/*
 * Registers the families that are read from elsewhere at each scrape
 * (tickets, jobs and outbox by status from a store connection of their
 * own; the LLM client's figures when llm is not NULL). SERVICE_ESTORE with
 * *err (caller frees) when the store cannot be opened.
 */
int service__collectors_new(struct monitor_registry *r, const char *store_url, struct llm_client *llm,
			    struct service_collectors **out, char **err);
/*
 * The monitor's llm_error_rate input (arg: the collectors): the failed
 * share of the LLM calls since its previous call, or -1 when there were
 * none or no LLM is configured.
 */
double service__llm_error_rate(void *arg);
/* Frees (after the registry's last scrape). NULL is fine. */
void service__collectors_free(struct service_collectors *c);

#endif
