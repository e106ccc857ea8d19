/*
 * A private PostgreSQL server for tests and benchmarks, from Debian's
 * binaries (/usr/lib/postgresql/<version>/bin, the newest; PG_BINDIR
 * overrides): initdb into a fresh directory under /tmp, then the server
 * listening only on a Unix socket in that directory, on a free port number.
 * Nothing reaches beyond the machine.
 *
 * As root (CI), initdb refuses to run, so both initdb and the server run as
 * the unprivileged user "nobody" (setgroups/setgid/setuid in the child before
 * exec); the directory is made theirs. The server dies with the process
 * that started it (PR_SET_PDEATHSIG), so a crashed test leaves no server
 * behind; pg_harness_stop shuts it down and removes the directory.
 *
 *   struct pg_harness h = PG_HARNESS_INIT;
 *   char *url;
 *   if (pg_harness_start(&h, &url))
 *           fail_msg("%s", pg_harness_error(&h));   // never skip
 *   ... store_open(url, ...) ...
 *   free(url);
 *   pg_harness_stop(&h);
 *
 * Start it from the thread that stays alive longest (the main thread): the
 * death signal follows the thread that forked the server.
 */
#ifndef FL_PG_HARNESS_H
#define FL_PG_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

struct pg_harness {
	bool durable;       /* set before start: fsync and synchronous_commit on (benchmarks) */
	char *dir;          /* the temporary directory: data/, the socket, logs */
	char *bindir;
	int port;
	pid_t pid;          /* the postmaster */
	int ndb;            /* databases made by pg_harness_create_db */
	char *error;        /* why the last call failed */
};

#define PG_HARNESS_INIT { false, NULL, NULL, 0, 0, 0, NULL }

/*
 * Starts the server and creates a database for the caller: *url_out (caller
 * frees) is its libpq URL. Returns 0, or -1 with pg_harness_error saying why
 * (the server's log included).
 */
int pg_harness_start(struct pg_harness *h, char **url_out);
/* A new empty database on the running server; 0 or -1 as above. */
int pg_harness_create_db(struct pg_harness *h, char **url_out);
/* The URL of an existing database name on the server (caller frees). */
char *pg_harness_url(const struct pg_harness *h, const char *dbname);
/* Stops the server (fast shutdown) and removes its directory. Idempotent. */
void pg_harness_stop(struct pg_harness *h);
const char *pg_harness_error(const struct pg_harness *h);

#endif
