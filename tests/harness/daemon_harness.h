/*
 * daemon_harness: what the harnesses of real third-party servers share
 * (imap_harness: Dovecot, smtp_harness: aiosmtpd, spamd_harness: spamd):
 * a temporary directory under /tmp, the server started as a child with its
 * stdout and stderr in a log file there and a signal when its parent goes,
 * the wait until it accepts connections on 127.0.0.1 (its log in the error
 * when it does not), and stopping it and removing the directory. Each
 * harness keeps its own configuration, command line and protocol.
 *
 *   h->dir = daemon_tmpdir("fl-x", &h->error);          // NULL: h->error says why
 *   struct daemon_spec spec = { .name = "x", .argv = argv, .log = log, .death_sig = SIGKILL,
 *                               .port = h->port, .timeout_us = 15000000, .interval_us = 20000 };
 *   if (daemon_start(&spec, &h->pid, &h->error))
 *           return -1;                                   // child reaped, h->pid 0
 *   ...
 *   daemon_stop(&h->pid, &h->dir, &h->error, -1);
 *
 * pg_harness is not built on it: its server runs as another user, is
 * probed through libpq and is also linked into bench/store_bench, which has
 * no tests/unit/test_helpers.c. proc_harness runs `frontline` itself.
 */
#ifndef FL_DAEMON_HARNESS_H
#define FL_DAEMON_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

/* The whole file at path, NUL-terminated (caller frees); NULL when it cannot be opened. */
char *daemon_read_file(const char *path);
/*
 * A new directory "/tmp/<prefix>-XXXXXX" (caller frees), or NULL with
 * *error (caller frees) "cannot create a temporary directory: <why>".
 */
char *daemon_tmpdir(const char *prefix, char **error);
/* A server to start: how, where its output goes, and how long to wait for it. */
struct daemon_spec {
	const char *name;    /* in the error: "<name> did not start on 127.0.0.1:<port>: <its log>" */
	char *const *argv;   /* argv[0]: the executable's path; NULL-terminated */
	const char *log;     /* its stdout and stderr, appended (created 0644) */
	int death_sig;       /* sent to it when the thread that started it exits */
	int port;            /* ready when 127.0.0.1:port accepts a connection */
	int64_t timeout_us;  /* how long it may take to get ready */
	int interval_us;     /* how often readiness is tried */
};

/*
 * Forks and execs spec->argv (stdin inherited), then waits until it is
 * ready: 0 with *pid the child's. When it exits first, or the time runs
 * out (it is then killed and reaped): -1, *pid 0 and *error (caller frees)
 * saying so with its log.
 */
int daemon_start(const struct daemon_spec *spec, pid_t *pid, char **error);
/*
 * Stops the child *pid when there is one (SIGTERM; SIGKILL when it is still
 * running after kill_after_us, or never when kill_after_us < 0) and waits
 * for it; removes the directory *dir; frees *dir and *error. All three are
 * then 0/NULL. Idempotent.
 */
void daemon_stop(pid_t *pid, char **dir, char **error, int64_t kill_after_us);

#endif
