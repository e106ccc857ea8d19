/*
 * frontline mail-in: one RFC 5322 message on stdin into the store, the way
 * a mail server hands mail to a program (Postfix pipe(8) and aliases(5),
 * Exim's pipe transport, .forward, procmail, fetchmail's --mda).
 *
 * The exit code is the whole conversation with the mail server, so it
 * follows sysexits.h as those servers read it:
 *   0  (EX_OK)        stored: a new ticket, a reply in a thread, a duplicate
 *                     of one already stored, or a quarantined ticket;
 *   65 (EX_DATAERR)   never will be: not a message at all, or over the size
 *                     limit (the server bounces it, with our reason from stderr);
 *   75 (EX_TEMPFAIL)  not now: the store is locked, unreachable, full or
 *                     misconfigured, or does not exist (mail-in never creates
 *                     one: a wrong URL must not take mail into an empty store
 *                     nobody reads); the server keeps the message and retries,
 *                     and whatever was stored already makes the retry a no-op.
 * The message is read whole before the store is touched; the raw bytes are
 * committed before they are parsed (see src/channels/email/intake.c).
 *
 * Also here: frontline mail-poll, the same intake fed from an IMAP mailbox
 * (FRONTLINE_IMAP_URL) once or every FRONTLINE_IMAP_INTERVAL seconds.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channels/email/email.h"
#include "cli.h"
#include "store/store.h"
#include "util/util.h"

static const char *const mail_in_usage[] = {
	"frontline mail-in [--queue Q] [--source NAME] [--json] < message",
	NULL,
};

/*
 * Reads fd to the end, or to max + 1 bytes (enough to know it is too big).
 * Returns 0, or -1 with errno set.
 */
static int read_all(int fd, size_t max, struct fl_buf *b)
{
	char tmp[65536];
	ssize_t n;

	for (;;) {
		size_t want = sizeof(tmp);

		if (b->len > max)
			return 0;
		if (max + 1 - b->len < want)
			want = max + 1 - b->len;
		n = read(fd, tmp, want);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		fl_buf_add(b, tmp, (size_t)n);
	}
}

int cmd_mail_in(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *queue = NULL, *source = "pipe";
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'q', "queue", &queue, "Q", "queue name recorded on new tickets" },
		{ CLI_OPT_STRING, 0, "source", &source, "NAME", "where the message came from (default: pipe)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the outcome as a JSON object" },
		CLI_OPTIONS_END,
	};
	struct email_intake_opts o;
	struct email_intake_result r = { 0 };
	struct fl_buf raw = FL_BUF_INIT;
	struct store *st = NULL;
	const char *url = fl_config_get("FRONTLINE_DATABASE_URL");
	char *err = NULL;
	int argi, rc, src;
	size_t max;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, mail_in_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(mail_in_usage, opts, "unexpected argument '%s'", argv[argi]);
	email_intake_opts_from_config(&o);
	o.queue = queue;
	o.source = source;
	max = o.limits.max_message ? o.limits.max_message : (size_t)25 << 20;
	if (read_all(STDIN_FILENO, max, &raw)) {
		/* an interrupted pipe: the mail server still has the message */
		rc = cli_error(EX_TEMPFAIL, "cannot read the message from standard input: %s", strerror(errno));
		goto out;
	}
	/* refuse what can never be a message before touching the store */
	if (raw.len > max) {
		rc = cli_error(EX_DATAERR, "message refused: it is over the limit of %zu bytes "
			       "(FRONTLINE_EMAIL_MAX_BYTES)", max);
		goto out;
	}
	if ((rc = email_precheck(raw.buf, raw.len, &o.limits, &err)) != EMAIL_OK) {
		rc = cli_error(EX_DATAERR, "message refused: %s", err);
		goto out;
	}
	src = store_open_existing(url, &st, &err);
	if (src) {
		/* locked, unreachable, full, misconfigured or missing: keep it queued at the mail server */
		rc = cli_error(EX_TEMPFAIL, "%s; the mail server will retry",
			       err ? err : store_strerror(src));
		goto out;
	}
	switch (email_intake(st, raw.buf, raw.len, &o, &r)) {
	case EMAIL_OK:
		rc = EX_OK;
		break;
	case EMAIL_ENOTMSG:
	case EMAIL_ETOOBIG:
		rc = cli_error(EX_DATAERR, "message refused: %s", r.detail ? r.detail : "not a message");
		goto out;
	default:
		rc = cli_error(EX_TEMPFAIL, "%s; the mail server will retry", r.detail ? r.detail : "cannot store");
		goto out;
	}
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:o, s:b, s:b}", "outcome", email_outcome_name(r.outcome),
				      "ticket_id", r.ticket_id, "ticket_number", r.ticket_number,
				      "raw_id", (json_int_t)r.raw_id, "noise", email_noise_names(r.noise),
				      "reopened", r.reopened, "pending_approval", r.pending);
		char *s;

		/* a ticket the ingestion rules refused (quarantined): which field, which code */
		if (r.refused_field)
			json_object_set_new(j, "refused", json_pack("{s:s, s:s?}", "field", r.refused_field,
								    "code", r.refused_code));
		s = fl_json_dumps(j);

		printf("%s\n", s);
		free(s);
		json_decref(j);
	}
	fl_log(FL_LOG_INFO, "mail-in: %s %s (%s)", email_outcome_name(r.outcome), r.ticket_number, r.ticket_id);
out:
	email_intake_result_release(&r);
	store_close(st);
	free(err);
	fl_buf_release(&raw);
	return rc;
}

/* ---- frontline mail-poll: IMAP ---- */

static const char *const mail_poll_usage[] = {
	"frontline mail-poll [--once] [--json]",
	NULL,
};

static volatile sig_atomic_t stop_polling;

static void on_stop(int sig)
{
	(void)sig;
	stop_polling = 1;
}

static void print_stats(const struct email_imap_stats *s, bool json)
{
	if (json) {
		json_t *j = json_pack("{s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
				      "uidvalidity", (json_int_t)s->uidvalidity, "last_uid", (json_int_t)s->last_uid,
				      "uidvalidity_changed", s->uidvalidity_changed,
				      "server_messages", (json_int_t)s->server_messages,
				      "server_unseen", (json_int_t)s->server_unseen,
				      "candidates", (json_int_t)s->candidates, "fetched", (json_int_t)s->fetched,
				      "stored", (json_int_t)s->stored, "duplicates", (json_int_t)s->duplicates,
				      "quarantined", (json_int_t)s->quarantined, "refused", (json_int_t)s->refused,
				      "failed", (json_int_t)s->failed);
		char *t = fl_json_dumps(j);

		printf("%s\n", t);
		free(t);
		json_decref(j);
	} else if (s->candidates) {
		fl_log(FL_LOG_INFO, "mail-poll: %zu fetched, %zu stored, %zu duplicates, %zu quarantined, "
		       "%zu refused, %zu failed (last UID %lld)", s->fetched, s->stored, s->duplicates,
		       s->quarantined, s->refused, s->failed, (long long)s->last_uid);
	}
}

int cmd_mail_poll(int argc, char **argv, struct cli_ctx *ctx)
{
	bool once = false, json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "once", &once, NULL, "poll once and exit (default: every FRONTLINE_IMAP_INTERVAL seconds)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print each poll's counts as a JSON object" },
		CLI_OPTIONS_END,
	};
	struct email_intake_opts in;
	struct email_imap_opts io;
	struct email_imap_stats s;
	struct store *st = NULL;
	int64_t interval = fl_config_int("FRONTLINE_IMAP_INTERVAL", 60);
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, mail_poll_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(mail_poll_usage, opts, "unexpected argument '%s'", argv[argi]);
	email_intake_opts_from_config(&in);
	email_imap_opts_from_config(&io);
	if (!io.url || !*io.url)
		return cli_error(EX_CONFIG, "IMAP is not configured: set FRONTLINE_IMAP_URL");
	rc = cli_store_open(true, &st);
	if (rc != EX_OK)
		return rc;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	do {
		char *err = NULL;
		int prc = email_imap_poll(st, &io, &in, &s, &err);

		if (prc == EMAIL_OK) {
			print_stats(&s, json);
			rc = EX_OK;
		} else {
			rc = prc == EMAIL_EINVAL ? EX_CONFIG : prc == EMAIL_ETEMP ? EX_TEMPFAIL
			   : prc == EMAIL_EIMAP ? EX_UNAVAILABLE : EX_SOFTWARE;
			if (once)
				cli_error(rc, "%s", err ? err : email_strerror(prc));
			else
				fl_log(FL_LOG_ERROR, "mail-poll: %s", err ? err : email_strerror(prc));
		}
		free(err);
		/* the interval, in short naps so that a signal ends the wait */
		for (int64_t t = 0; !once && !stop_polling && t < interval * 10; t++)
			fl_sleep_us(100000);
	} while (!once && !stop_polling && rc != EX_CONFIG);
	store_close(st);
	return rc;
}
