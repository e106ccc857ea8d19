/*
 * spamd_harness: a real SpamAssassin daemon for the spam tests, Debian's
 * spamd (installed by scripts/install-deps) with the rules Debian ships,
 * listening on 127.0.0.1 on a free port, with network tests off (--local),
 * no per-user configuration and its home in a temporary directory. It runs
 * in the foreground as a child, dies with the process that started it, and
 * takes about ten seconds to start (it compiles its rules).
 *
 * As root (CI), spamd will not run as root: it drops to "nobody".
 *
 *   struct spamd_harness h = SPAMD_HARNESS_INIT;
 *   char *addr;
 *   if (spamd_harness_start(&h, &addr)) fail_msg("%s", spamd_harness_error(&h));
 *   ... email_spamd_check(addr, raw, len, ...) ...
 *   spamd_harness_stop(&h);
 */
#ifndef FL_SPAMD_HARNESS_H
#define FL_SPAMD_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

struct spamd_harness {
	char *dir;
	int port;
	pid_t pid;
	char *error;
};

#define SPAMD_HARNESS_INIT { NULL, 0, 0, NULL }

/* Whether spamd is installed (tests skip, saying so, when not). */
bool spamd_harness_available(void);
/* Starts spamd; *addr (caller frees) is "127.0.0.1:<port>". 0 or -1 (see spamd_harness_error). */
int spamd_harness_start(struct spamd_harness *h, char **addr);
/* Stops spamd (SIGTERM, then SIGKILL after 10 s) and removes its directory. */
void spamd_harness_stop(struct spamd_harness *h);
const char *spamd_harness_error(const struct spamd_harness *h);

#endif
