/*
 * smtp_harness: a real SMTP server for the email tests, Debian's
 * python3-aiosmtpd (installed by scripts/install-deps) with its Mailbox
 * handler writing each message into a Maildir in a temporary directory. It
 * listens on 127.0.0.1 only and dies with the process that started it.
 *
 *   struct smtp_harness h = SMTP_HARNESS_INIT;
 *   char *url;
 *   if (smtp_harness_start(&h, &url)) skip or fail with smtp_harness_error(&h)
 *   ... send to url ...
 *   smtp_harness_wait(&h, 1, 10000);
 *   json_t *msgs = smtp_harness_messages(&h);   // array of raw messages
 *   smtp_harness_stop(&h);
 */
#ifndef FL_SMTP_HARNESS_H
#define FL_SMTP_HARNESS_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct smtp_harness {
	char *dir;
	int port;
	pid_t pid;
	char *error;
};

#define SMTP_HARNESS_INIT { NULL, 0, 0, NULL }

/* Starts the server; *url (caller frees) is "smtp://127.0.0.1:<port>". 0 or -1. */
int smtp_harness_start(struct smtp_harness *h, char **url);
/* Waits until at least n messages arrived or timeout_ms passed; returns the count. */
size_t smtp_harness_wait(struct smtp_harness *h, size_t n, int timeout_ms);
/* The raw messages received, oldest first (new reference). */
json_t *smtp_harness_messages(struct smtp_harness *h);
void smtp_harness_stop(struct smtp_harness *h);
const char *smtp_harness_error(const struct smtp_harness *h);

#endif
