/*
 * smtp_harness (see smtp_harness.h). The server is a child process
 * (daemon_harness: started, awaited on its port, stopped); messages are
 * known by the files in the Maildir's new/ directory, polled at short
 * intervals and with a deadline.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "smtp_harness.h"
#include "test_helpers.h"
#include "util/util.h"

#define PYTHON "/usr/bin/python3"

int smtp_harness_start(struct smtp_harness *h, char **url)
{
	char *maildir, *log, listen[64];
	int rc;

	*url = NULL;
	if (access(PYTHON, X_OK) || system(PYTHON " -c 'import aiosmtpd' 2>/dev/null")) {
		h->error = fl_strdup("python3-aiosmtpd is not installed (scripts/install-deps installs it)");
		return -1;
	}
	if (!(h->dir = daemon_tmpdir("fl-smtp", &h->error)))
		return -1;
	h->port = test_free_port();
	maildir = fl_asprintf("%s/mail", h->dir);
	log = fl_asprintf("%s/log", h->dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", h->port);
	{
		char *argv[] = { PYTHON, "-m", "aiosmtpd", "-n", "-l", listen, "-c", "aiosmtpd.handlers.Mailbox",
				 maildir, NULL };
		struct daemon_spec spec = { .name = "aiosmtpd", .argv = argv, .log = log, .death_sig = SIGKILL,
					    .port = h->port, .timeout_us = 15 * 1000000LL, .interval_us = 20000 };

		rc = daemon_start(&spec, &h->pid, &h->error);
	}
	free(maildir);
	free(log);
	if (rc)
		return -1;
	*url = fl_asprintf("smtp://127.0.0.1:%d", h->port);
	return 0;
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
		char *path = fl_asprintf("%s/%s", dir, names[i]), *text = daemon_read_file(path);

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
	daemon_stop(&h->pid, &h->dir, &h->error, -1);
}

const char *smtp_harness_error(const struct smtp_harness *h)
{
	return h->error ? h->error : "";
}
