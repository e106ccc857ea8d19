/*
 * bench_serve: what the benchmarks that talk to a running `frontline serve`
 * share: a temporary directory, as many open files as the hard limit allows
 * (one per stream), and starting the service on a database with the request limits off, so that
 * what is measured is the service and not its guards.
 */
#ifndef FL_BENCH_SERVE_H
#define FL_BENCH_SERVE_H

#include "proc_harness.h"

/*
 * The process's set-up: makes the temporary directory dir (a mkdtemp
 * template), raises the soft limit on open files to the hard one, ignores
 * SIGPIPE, logs warnings only, initialises libcurl. Exits on failure.
 */
void bench_prepare(char *dir);

/*
 * Starts `frontline serve --no-workers` (proc_init called before) on
 * db_url, on a free port of 127.0.0.1, with the rate limits, the per-address
 * connection limit and the monitor off, SSE streams up to 10,000, logging
 * warnings to dir's serve.log. extra_env (may be NULL): "NAME=value"
 * strings, ended by NULL, set before the start. Exits the program with a
 * message when the service does not start; returns it with its port.
 */
struct proc bench_serve(const char *dir, const char *db_url, const char *const *extra_env);

#endif
