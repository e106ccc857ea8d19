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

#endif
