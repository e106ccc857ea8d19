/*
 * monitor: what Frontline knows about itself.
 *
 * - A metrics registry: counters, gauges and histograms, each a family with
 *   a fixed list of label names and one series per combination of label
 *   values, exposed in the Prometheus text format (version 0.0.4) at
 *   /metrics. Families are created at start-up; updates are thread-safe and
 *   cheap (one mutex per family). Collectors are callbacks run at each
 *   exposition to refresh values read from elsewhere (the store's counts, the
 *   LLM client's cumulative counters, the process's memory).
 * - The monitor: a thread that runs the real_time_monitoring workflow every
 *   FRONTLINE_MONITOR_INTERVAL seconds over a sliding window, keeps the state
 *   of each alert in the store (raised once while its condition persists,
 *   resolved when it clears past a lower threshold than it fired at:
 *   FRONTLINE_ALERT_HYSTERESIS) and, with several replicas, runs on one of them
 *   at a time (a store lock: a PostgreSQL advisory lock, a lease row in
 *   SQLite).
 *
 * The registry knows nothing of HTTP or tickets; the server and the workers
 * create the families they update.
 */
#ifndef FL_MONITOR_H
#define FL_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "util/util.h"

#define MONITOR_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(EEXISTS, "a metric of that name exists with another kind or labels") \
	X(ESTORE, "store error") \
	X(EFLOW, "monitoring workflow failed") \
	X(ELOCKED, "another replica holds the monitoring lock")

enum monitor_err {
#define MONITOR_ENUM(name, text) MONITOR_##name,
	MONITOR_ERRNO_MAP(MONITOR_ENUM)
#undef MONITOR_ENUM
};

const char *monitor_strerror(int rc);
const char *monitor_errname(int rc);

/* ==== the metrics registry ==== */

enum monitor_kind { MONITOR_COUNTER, MONITOR_GAUGE, MONITOR_HISTOGRAM };

struct monitor_registry;
struct monitor_family;

struct monitor_registry *monitor_registry_new(void);
/* Frees the registry and its families. NULL is fine. */
void monitor_registry_free(struct monitor_registry *r);

/*
 * Creates the family name (a Prometheus metric name; for counters it should
 * end in _total) with nlabels label names (copied). Creating an existing name
 * again with the same kind and labels returns the existing family; with
 * another kind or labels it returns NULL. bounds (histograms only, copied) are
 * the upper bounds of the buckets in increasing order, +Inf implied; NULL
 * gives latency buckets from 0.5 ms to 10 s. The registry owns the family.
 */
struct monitor_family *monitor_family_new(struct monitor_registry *r, enum monitor_kind kind,
					  const char *name, const char *help, size_t nlabels,
					  const char *const *labels, const double *bounds,
					  size_t nbounds);
/* The family called name, or NULL. */
struct monitor_family *monitor_family_find(struct monitor_registry *r, const char *name);

/*
 * Updates the series with these label values (as many as the family's label
 * names; borrowed), creating it at zero first. Counters only go up: a
 * negative v is ignored. monitor_set on a counter mirrors a cumulative count
 * kept elsewhere (the LLM client's). NULL fam is a no-op, so optional metrics
 * need no checks at call sites.
 */
void monitor_add(struct monitor_family *fam, const char *const *values, double v);
void monitor_set(struct monitor_family *fam, const char *const *values, double v);
void monitor_observe(struct monitor_family *fam, const char *const *values, double v);
/* Mirrors a histogram computed elsewhere: cumulative counts per bound (+Inf last). */
void monitor_histogram_set(struct monitor_family *fam, const char *const *values,
			   const int64_t *cumulative, size_t n, double sum);
/* Drops every series (a collector refilling a family whose label values come and go). */
void monitor_family_clear(struct monitor_family *fam);
/* The value of a counter or gauge series, or of a histogram's count; 0 when absent. */
double monitor_value(struct monitor_family *fam, const char *const *values);

/*
 * Adds a collector run (in the order added, one exposition at a time) before
 * each exposition. fn must not call monitor_registry_expose.
 */
void monitor_registry_add_collector(struct monitor_registry *r,
				    void (*fn)(void *arg, struct monitor_registry *r), void *arg);
/* Runs the collectors, then appends every family in the text format to out. */
void monitor_registry_expose(struct monitor_registry *r, struct fl_buf *out);

/*
 * Adds the process families (process_resident_memory_bytes,
 * process_start_time_seconds, process_cpu_seconds_total,
 * process_open_fds, frontline_build_info) and their collector.
 */
void monitor_add_process_metrics(struct monitor_registry *r);
/* The resident set size of this process in bytes (from /proc), or -1. */
int64_t monitor_process_rss(void);

/* ==== the monitor: periodic real_time_monitoring with alert state ==== */

struct monitor;
struct support_ctx;
struct store;

struct monitor_options {
	const char *store_url;      /* its own connection */
	int interval_s;             /* 0: FRONTLINE_MONITOR_INTERVAL */
	int window_s;               /* sliding window; 0: FRONTLINE_MONITOR_WINDOW */
	const char *owner;          /* lock owner name; NULL: host:pid */
	/* Returns the LLM error rate (0..1) since the previous call, or a
	 * negative number when unknown (no LLM configured). May be NULL. */
	double (*llm_error_rate)(void *arg);
	void *llm_arg;
	struct monitor_registry *registry;  /* for frontline_alerts_active; may be NULL */
	/* The clock (tests); NULL: fl_wall_us. */
	int64_t (*now_us)(void *arg);
	void *now_arg;
};

/*
 * A monitor with its own store connection. It does not start a thread until
 * monitor_start. On failure *err says why (caller frees).
 */
int monitor_new(const struct monitor_options *opts, struct monitor **out, char **err);
/*
 * One round: takes the lock (MONITOR_ELOCKED when another replica holds it),
 * runs real_time_monitoring, records raised and resolved alerts in the
 * store, notifies (through the workflow's notification_sender: the outbox)
 * about each newly raised and each resolved alert, and releases the lock.
 * *report (may be NULL; caller owns) is {metrics, alerts, raised [],
 * resolved [], held [] (types of active alerts no longer firing but not
 * cleared past the hysteresis), trace}.
 */
int monitor_run_once(struct monitor *m, json_t **report, char **err);
/* Starts the periodic thread (first round after one interval). */
int monitor_start(struct monitor *m);
/* Stops the thread, waiting for a round in progress. */
void monitor_stop(struct monitor *m);
/* Stops and frees. NULL is fine. */
void monitor_free(struct monitor *m);

#endif
