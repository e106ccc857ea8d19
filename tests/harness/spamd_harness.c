/*
 * spamd_harness (see spamd_harness.h). Readiness is known by connecting to
 * the port; spamd's log goes to a file in its directory, shown when it does
 * not start.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spamd_harness.h"
#include "test_helpers.h"

#define SPAMD "/usr/sbin/spamd"

bool spamd_harness_available(void)
{
	return access(SPAMD, X_OK) == 0;
}

static char *read_log(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct fl_buf b = FL_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return fl_strdup("");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(&b, chunk, n);
	fclose(f);
	return b.buf ? fl_buf_detach(&b, NULL) : fl_strdup("");
}

int spamd_harness_start(struct spamd_harness *h, char **addr)
{
	char *log, *pidfile, port[16];
	int64_t deadline;
	int status;

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
	h->pid = fork();
	if (h->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (geteuid() == 0)
			execl(SPAMD, SPAMD, "--listen", "127.0.0.1", "--port", port, "--local", "--max-children", "1",
			      "--min-children", "1", "--syslog", "stderr", "--nouser-config", "--helper-home-dir",
			      h->dir, "--pidfile", pidfile, "--username", "nobody", (char *)NULL);
		else
			execl(SPAMD, SPAMD, "--listen", "127.0.0.1", "--port", port, "--local", "--max-children", "1",
			      "--min-children", "1", "--syslog", "stderr", "--nouser-config", "--helper-home-dir",
			      h->dir, "--pidfile", pidfile, (char *)NULL);
		_exit(127);
	}
	free(pidfile);
	deadline = fl_mono_us() + 90 * 1000000LL;
	while (!test_can_connect(h->port)) {
		if (waitpid(h->pid, &status, WNOHANG) == h->pid || fl_mono_us() > deadline) {
			char *text = read_log(log);

			h->error = fl_asprintf("spamd did not start on 127.0.0.1:%d: %s", h->port, text);
			free(text);
			free(log);
			if (fl_mono_us() > deadline) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, &status, 0);
			}
			h->pid = 0;
			return -1;
		}
		fl_sleep_us(50000);
	}
	free(log);
	*addr = fl_asprintf("127.0.0.1:%d", h->port);
	return 0;
}

void spamd_harness_stop(struct spamd_harness *h)
{
	if (h->pid > 0) {
		int64_t deadline = fl_mono_us() + 10 * 1000000LL;
		int status;

		kill(h->pid, SIGTERM);
		while (waitpid(h->pid, &status, WNOHANG) != h->pid) {
			if (fl_mono_us() > deadline) {
				kill(h->pid, SIGKILL);
				waitpid(h->pid, &status, 0);
				break;
			}
			fl_sleep_us(20000);
		}
	}
	if (h->dir)
		test_tmpdir_remove(h->dir);
	free(h->dir);
	free(h->error);
	memset(h, 0, sizeof(*h));
}

const char *spamd_harness_error(const struct spamd_harness *h)
{
	return h->error ? h->error : "no error";
}
