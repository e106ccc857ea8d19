/*
 * bench_data: what the store's and the console's benchmarks share: a
 * seeded generator, helpdesk-like words (60 common ones, 20,000 others with
 * a Zipf-like skew), weighted picks, tickets spread over a year with
 * statuses, priorities, categories, channels and assignees skewed as in a
 * helpdesk, percentiles, the load average and removing a directory tree.
 */
#ifndef FL_BENCH_DATA_H
#define FL_BENCH_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The next pseudo-random number (splitmix64, one seeded sequence per process). */
uint64_t bench_next(void);

extern const char *const bench_common_words[];
extern const size_t bench_ncommon_words;
/* n words separated by spaces. Caller frees. */
char *bench_words(int n);
/* One of v[0..n) by weights. */
const char *bench_pick(const char *const *v, const int *weights, size_t n);

/* The data's distributions (store_bench documents them). */
extern const char *const bench_statuses[];
extern const int bench_status_w[];
#define BENCH_NSTATUSES 7

/*
 * Ticket i of total ("bench-%07lld"): channel, customer (one of 50,000),
 * subject and content; with history, also created_at spread over a year,
 * status, priority, category and, for 70 %, an assignee (agent_000 to
 * agent_199). New reference.
 */
json_t *bench_fake_ticket(int64_t i, int64_t total, bool history);

/* qsort's comparison of doubles; the q-th quantile (0..1) of v[0..n) sorted. */
int bench_cmp_double(const void *a, const void *b);
double bench_quantile(const double *sorted, size_t n, double q);
/* The 1-minute load average, or -1. */
double bench_loadavg(void);
/* Removes path and everything under it. */
void bench_rm_tree(const char *path);

#endif
