/*
 * smtp_harness (see smtp_harness.h). The server is a child process; its
 * readiness is known by connecting to its port, and messages by the files
 * in the Maildir's new/ directory. Both are outside this process, so they
 * are polled, at short intervals and with a deadline.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtp_harness.h"
#include "test_helpers.h"
#include "util/util.h"

#define PYTHON "/usr/bin/python3"

static char *read_file(const char *path)
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

int smtp_harness_start(struct smtp_harness *h, char **url)
{
	char tmpl[] = "/tmp/fl-smtp-XXXXXX", *maildir, *log, listen[64], port_s[16];
	int64_t deadline;
	int status;

	*url = NULL;
	if (access(PYTHON, X_OK) || system(PYTHON " -c 'import aiosmtpd' 2>/dev/null")) {
		h->error = fl_strdup("python3-aiosmtpd is not installed (scripts/install-deps installs it)");
		return -1;
	}
	if (!mkdtemp(tmpl)) {
		h->error = fl_asprintf("cannot create a temporary directory: %s", strerror(errno));
		return -1;
	}
	h->dir = fl_strdup(tmpl);
	h->port = test_free_port();
	maildir = fl_asprintf("%s/mail", h->dir);
	log = fl_asprintf("%s/log", h->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", h->port);
	snprintf(port_s, sizeof(port_s), "%d", h->port);
	h->pid = fork();
	if (h->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(PYTHON, PYTHON, "-m", "aiosmtpd", "-n", "-l", listen, "-c",
		      "aiosmtpd.handlers.Mailbox", maildir, (char *)NULL);
		_exit(127);
	}
	free(maildir);
	deadline = fl_mono_us() + 15 * 1000000;
	while (!test_can_connect(h->port)) {
		if (waitpid(h->pid, &status, WNOHANG) == h->pid || fl_mono_us() > deadline) {
			char *text = read_file(log);

			h->error = fl_asprintf("aiosmtpd did not start on %s: %s", listen, text ? text : "");
			free(text);
			free(log);
			if (fl_mono_us() > deadline)
				kill(h->pid, SIGKILL), waitpid(h->pid, &status, 0);
			h->pid = 0;
			return -1;
		}
		fl_sleep_us(20000);
	}
	free(log);
	*url = fl_asprintf("smtp://127.0.0.1:%d", h->port);
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *smtp_harness_messages(struct smtp_harness *h)
{
	char *dir = fl_asprintf("%s/mail/new", h->dir);
	json_t *out = json_array();
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = fl_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = fl_strdup(e->d_name);
	}
	if (d)
		closedir(d);
	/* Maildir names start with the delivery time: sorting keeps arrival order */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		char *path = fl_asprintf("%s/%s", dir, names[i]), *text = read_file(path);

		if (text)
			json_array_append_new(out, json_string(text));
		free(text);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
	return out;
}

size_t smtp_harness_wait(struct smtp_harness *h, size_t n, int timeout_ms)
{
	int64_t deadline = fl_mono_us() + (int64_t)timeout_ms * 1000;
	size_t got;

	for (;;) {
		json_t *m = smtp_harness_messages(h);

		got = json_array_size(m);
		json_decref(m);
		if (got >= n || fl_mono_us() > deadline)
			return got;
		fl_sleep_us(20000);
	}
}

void smtp_harness_stop(struct smtp_harness *h)
{
	int status;

	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		waitpid(h->pid, &status, 0);
		h->pid = 0;
	}
	if (h->dir) {
		nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(h->dir);
		h->dir = NULL;
	}
	free(h->error);
	h->error = NULL;
}

const char *smtp_harness_error(const struct smtp_harness *h)
{
	return h->error ? h->error : "";
}
