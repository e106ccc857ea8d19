/*
 * spamd_harness (see spamd_harness.h), started, awaited and stopped by
 * daemon_harness: readiness is known by connecting to the port; spamd's log
 * goes to a file in its directory, shown when it does not start.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "spamd_harness.h"
#include "test_helpers.h"

#define SPAMD "/usr/sbin/spamd"

bool spamd_harness_available(void)
{
	return access(SPAMD, X_OK) == 0;
}

int spamd_harness_start(struct spamd_harness *h, char **addr)
{
	char *log, *pidfile, port[16];
	int rc;

	*addr = NULL;
	h->dir = test_tmpdir();
	chmod(h->dir, 0777); /* spamd as "nobody" keeps its helper home here */
	h->port = test_free_port();
	if (h->port < 0) {
		h->error = fl_strdup("no free port");
		return -1;
	}
	snprintf(port, sizeof(port), "%d", h->port);
	log = fl_asprintf("%s/spamd.log", h->dir);
	pidfile = fl_asprintf("%s/spamd.pid", h->dir);
	{
		/* as root, spamd drops to "nobody" (the last two arguments) */
		char *argv[] = { SPAMD, "--listen", "127.0.0.1", "--port", port, "--local", "--max-children", "1",
				 "--min-children", "1", "--syslog", "stderr", "--nouser-config", "--helper-home-dir",
				 h->dir, "--pidfile", pidfile, "--username", "nobody", NULL };

		struct daemon_spec spec = { .name = "spamd", .argv = argv, .log = log, .death_sig = SIGTERM,
					    .port = h->port, .timeout_us = 90 * 1000000LL, .interval_us = 50000 };

		if (geteuid() != 0)
			argv[FL_ARRAY_SIZE(argv) - 3] = NULL;
		rc = daemon_start(&spec, &h->pid, &h->error);
	}
	free(pidfile);
	free(log);
	if (rc)
		return -1;
	*addr = fl_asprintf("127.0.0.1:%d", h->port);
	return 0;
}

void spamd_harness_stop(struct spamd_harness *h)
{
	daemon_stop(&h->pid, &h->dir, &h->error, 10 * 1000000LL);
	memset(h, 0, sizeof(*h));
}

const char *spamd_harness_error(const struct spamd_harness *h)
{
	return h->error ? h->error : "no error";
}
