/*
 * imap_harness: a real IMAP server for the email tests, Debian's Dovecot
 * (dovecot-imapd, installed by scripts/install-deps) with a configuration
 * written into a temporary directory: its own base_dir and state_dir, one
 * user ("ann", password "secret") in a passwd-file, Maildir under the
 * directory, plain-text login without TLS, listening on 127.0.0.1 on a free
 * port. It runs in the foreground as a child and dies with the process that
 * started it.
 *
 * As root (CI), Dovecot refuses to run its login processes or to give mail
 * access as root: they run as Debian's "dovenull" and "dovecot" users, and
 * the mail directory is made theirs. Otherwise everything runs as the
 * current user.
 *
 * Messages are delivered the way an MTA does, as files in the Maildir
 * (new/, or cur/ with the \Seen flag for "already read by someone");
 * flags are read back from the file names Dovecot maintains.
 *
 *   struct imap_harness h = IMAP_HARNESS_INIT;
 *   char *url;
 *   if (imap_harness_start(&h, &url)) fail_msg("%s", imap_harness_error(&h));
 *   imap_harness_deliver(&h, NULL, raw, len, false);
 *   ... poll url ...
 *   imap_harness_stop(&h);
 */
#ifndef FL_IMAP_HARNESS_H
#define FL_IMAP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct imap_harness {
	char *dir;
	int port;
	pid_t pid;
	char *error;
	unsigned seq;
};

#define IMAP_HARNESS_INIT { NULL, 0, 0, NULL, 0 }

/* Starts Dovecot; *url (caller frees) is "imap://ann:secret@127.0.0.1:<port>/INBOX". 0 or -1. */
int imap_harness_start(struct imap_harness *h, char **url);
/*
 * Delivers a message into folder (NULL: INBOX), unread, or already read
 * (\Seen) when seen is true. 0 or -1.
 */
int imap_harness_deliver(struct imap_harness *h, const char *folder, const char *raw, size_t len,
			 bool seen);
/* Messages in folder (NULL: INBOX), and how many of them carry \Seen (may be NULL). */
size_t imap_harness_count(struct imap_harness *h, const char *folder, size_t *seen);
void imap_harness_stop(struct imap_harness *h);
const char *imap_harness_error(const struct imap_harness *h);

#endif
