/*
 * daemon_harness (see daemon_harness.h). The server is a child outside
 * this process: its readiness and its end are polled, at short intervals
 * and with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "test_helpers.h"
#include "util/util.h"

char *daemon_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct fl_buf b = FL_BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(&b, chunk, n);
	fclose(f);
	return fl_buf_detach(&b, NULL);
}

char *daemon_tmpdir(const char *prefix, char **error)
{
	char *dir = fl_asprintf("/tmp/%s-XXXXXX", prefix);

	if (mkdtemp(dir))
		return dir;
	*error = fl_asprintf("cannot create a temporary directory: %s", strerror(errno));
	free(dir);
	return NULL;
}

int daemon_start(const struct daemon_spec *spec, pid_t *pid, char **error)
{
	int64_t deadline;
	int status;

	*pid = fork();
	if (*pid == 0) {
		int fd = open(spec->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, spec->death_sig);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(spec->argv[0], spec->argv);
		_exit(127);
	}
	deadline = fl_mono_us() + spec->timeout_us;
	while (!test_can_connect(spec->port)) {
		bool exited = *pid < 0 || waitpid(*pid, &status, WNOHANG) == *pid;

		if (exited || fl_mono_us() > deadline) {
			char *text = daemon_read_file(spec->log);

			*error = fl_asprintf("%s did not start on 127.0.0.1:%d: %s", spec->name, spec->port,
					     text ? text : "");
			free(text);
			if (!exited) {
				kill(*pid, SIGKILL);
				waitpid(*pid, &status, 0);
			}
			*pid = 0;
			return -1;
		}
		fl_sleep_us(spec->interval_us);
	}
	return 0;
}

void daemon_stop(pid_t *pid, char **dir, char **error, int64_t kill_after_us)
{
	int status;

	if (*pid > 0) {
		int64_t deadline = fl_mono_us() + kill_after_us;
		bool reaped = false;

		kill(*pid, SIGTERM);
		while (kill_after_us >= 0 && !(reaped = waitpid(*pid, &status, WNOHANG) == *pid) &&
		       fl_mono_us() <= deadline)
			fl_sleep_us(20000);
		if (!reaped) {
			if (kill_after_us >= 0)
				kill(*pid, SIGKILL);
			waitpid(*pid, &status, 0);
		}
	}
	*pid = 0;
	test_tmpdir_remove(*dir);
	free(*dir);
	*dir = NULL;
	free(*error);
	*error = NULL;
}
