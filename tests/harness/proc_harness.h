/*
 * proc_harness: the integration tests' side of the real `frontline` binary:
 * its environment for a test service in a temporary directory, starting it
 * (stdin from a file, stdout a pipe, stderr a log file), reading the port
 * `serve` listens on, stopping it with a signal, running a command to its
 * end, and a CHECK that prints "ok:" or "FAIL:" and counts failures.
 */
#ifndef FL_PROC_HARNESS_H
#define FL_PROC_HARNESS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct proc {
	pid_t pid;
	FILE *out;     /* its stdout */
	unsigned port; /* for serve: proc_read_port's answer */
};

/* The failed CHECKs so far. */
extern int proc_failures;

#define CHECK(cond, ...) \
	do { \
		if (cond) { \
			printf("ok: "); \
		} else { \
			printf("FAIL: "); \
			proc_failures++; \
		} \
		printf(__VA_ARGS__); \
		putchar('\n'); \
		fflush(stdout); \
	} while (0)

/* The binary and the directory (logs, the database) the calls below use; call first. */
void proc_init(const char *frontline, const char *dir);
/*
 * The environment of a test service: a SQLite database in the directory,
 * the models and articles of source_root, a free port on 127.0.0.1, the
 * webhook secret, two HTTP threads, no rate limit, no LLM configured.
 */
void proc_service_env(const char *source_root, const char *webhook_secret);
/* Starts frontline with args; stdin from in (NULL: /dev/null), stderr appended to log in the directory. */
struct proc proc_spawn(const char *const *args, const char *in, const char *log);
/* Reads serve's "is serving on http://127.0.0.1:PORT" line; 0 when it never comes. */
unsigned proc_read_port(struct proc *p);
/* Sends sig, waits; the exit code, or 128 + the signal that ended it. */
int proc_stop(struct proc *p, int sig);
/* Runs frontline with args to its end (stderr in cli.log): stdout into out (NUL-terminated); the exit code. */
int proc_run(const char *const *args, const char *in, char *out, size_t outlen);

#endif
