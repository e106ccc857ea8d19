/*
 * email against real servers from Debian: IMAP polling against Dovecot
 * (tests/harness/imap_harness) and replies over SMTP to aiosmtpd
 * (tests/harness/smtp_harness) through the outbox dispatcher (src/notify),
 * with a SQLite store in a temporary directory.
 *
 * IMAP: new and already-read messages are fetched by UID, nothing is marked
 * before the commit (a store failure leaves the message unseen and the UID
 * record where it was), processed mail is marked \Seen or moved, a new
 * UIDVALIDITY is noticed, a customer's reply reopens a resolved ticket, a
 * wrong password is an error. SMTP: a queued reply goes out in the ticket's
 * thread (In-Reply-To, References, subject tag, our Message-ID,
 * Auto-Submitted on automatic replies) and the customer's answer to it
 * comes back into the same ticket; automatic replies to noise, to a sender
 * over the rate limit and to ourselves are withheld (the item is dead, with
 * the reason). And the whole way: a mail in, the triage workflow on it
 * (src/support, built-in analyzer), its auto-reply out over SMTP in the
 * thread, the customer's answer back in. HTTP: POST /api/v1/mail on the
 * real server, with an integration token, and its status codes.
 */
#include "test_helpers.h"

#include <stdio.h>

#include "channels/email/email.h"
#include "http_client.h"
#include "imap_harness.h"
#include "kb/kb.h"
#include "notify/notify.h"
#include "server/server.h"
#include "smtp_harness.h"
#include "store/store.h"
#include "support/support.h"

struct fx {
	char *dir;
	struct store *st;
	struct email_intake_opts in;
};

static int setup(void **state)
{
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *url, *err = NULL;

	f->dir = test_tmpdir();
	url = fl_asprintf("sqlite://%s/frontline.db?synchronous=off", f->dir);
	if (store_open(url, &f->st, &err)) {
		fprintf(stderr, "%s\n", err);
		free(err);
		free(url);
		return -1;
	}
	free(url);
	f->in.domain = "help.example.com";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *mail(const char *from, const char *subject, const char *id, const char *extra, const char *body)
{
	return fl_asprintf("From: %s\r\nTo: help@help.example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s\r\n%s\r\n",
			   from, subject, id, extra ? extra : "", body);
}

static void deliver(struct imap_harness *h, const char *folder, char *raw, bool seen)
{
	if (imap_harness_deliver(h, folder, raw, strlen(raw), seen))
		fail_msg("%s", imap_harness_error(h));
	free(raw);
}

static int poll_ok(struct fx *f, struct email_imap_opts *io, struct email_imap_stats *s)
{
	char *err = NULL;
	int rc = email_imap_poll(f->st, io, &f->in, s, &err);

	if (rc != EMAIL_OK)
		fail_msg("email_imap_poll: %s: %s", email_errname(rc), err ? err : "");
	free(err);
	return rc;
}

static int64_t tickets(struct fx *f)
{
	json_t *page = NULL;
	int64_t n;
	struct store_ticket_filter flt = { 0 };

	flt.limit = 500;
	assert_int_equal(store_ticket_list(f->st, &flt, &page), STORE_OK);
	n = (int64_t)json_array_size(json_object_get(page, "tickets"));
	json_decref(page);
	return n;
}

static void start_imap(struct imap_harness *h, char **url)
{
	if (imap_harness_start(h, url))
		fail_msg("%s", imap_harness_error(h)); /* install-deps installs Dovecot: its absence is a broken setup */
}

/* ---- IMAP ---- */

static void test_imap_fetches_new_and_already_read_mail(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	char *url = NULL;
	size_t seen;

	start_imap(&h, &url);
	io.url = url;
	deliver(&h, NULL, mail("a@example.com", "one", "i1@x", NULL, "The first problem here."), false);
	deliver(&h, NULL, mail("b@example.com", "two", "i2@x", NULL, "The second problem here."), false);
	/* someone read this one in a mail client before Frontline polled */
	deliver(&h, NULL, mail("c@example.com", "three", "i3@x", NULL, "The third problem here."), true);
	poll_ok(f, &io, &s);
	assert_int_equal(s.server_messages, 3);
	assert_int_equal(s.server_unseen, 2);
	assert_int_equal(s.candidates, 3);
	assert_int_equal(s.fetched, 3);
	assert_int_equal(s.stored, 3);
	assert_int_equal(s.last_uid, 3);
	assert_true(s.uidvalidity > 0);
	assert_int_equal(tickets(f), 3);
	assert_int_equal(imap_harness_count(&h, NULL, &seen), 3);
	assert_int_equal(seen, 3);
	/* nothing new: nothing fetched */
	poll_ok(f, &io, &s);
	assert_int_equal(s.candidates, 0);
	assert_int_equal(s.fetched, 0);
	/* one more, already read: found by its UID, not its flag */
	deliver(&h, NULL, mail("d@example.com", "four", "i4@x", NULL, "The fourth problem here."), true);
	poll_ok(f, &io, &s);
	assert_int_equal(s.candidates, 1);
	assert_int_equal(s.stored, 1);
	assert_int_equal(s.last_uid, 4);
	assert_int_equal(tickets(f), 4);
	imap_harness_stop(&h);
	free(url);
}

static void test_imap_marks_nothing_before_the_commit(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	char *url = NULL, *err = NULL, key[128];
	size_t seen;
	int64_t v, uid;

	start_imap(&h, &url);
	io.url = url;
	deliver(&h, NULL, mail("a@example.com", "one", "j1@x", NULL, "The printer is on fire."), false);
	deliver(&h, NULL, mail("b@example.com", "two", "j2@x", NULL, "The scanner is on fire."), false);
	/* the store is locked when the second message is to be kept */
	store_fault_inject(f->st, "store_mail_raw_put", 2, STORE_EBUSY);
	assert_int_equal(email_imap_poll(f->st, &io, &f->in, &s, &err), EMAIL_ETEMP);
	assert_non_null(strstr(err, "UID 2"));
	free(err);
	assert_int_equal(s.stored, 1);
	/* the first is committed, so marked; the second is not */
	assert_int_equal(imap_harness_count(&h, NULL, &seen), 2);
	assert_int_equal(seen, 1);
	/* the UID record stops below the message that is not stored */
	snprintf(key, sizeof(key), "imap://ann@127.0.0.1:%d/INBOX", h.port);
	assert_int_equal(store_imap_state_get(f->st, key, &v, &uid), STORE_OK);
	assert_int_equal(uid, 1);
	/* the next poll takes the second */
	poll_ok(f, &io, &s);
	assert_int_equal(s.candidates, 1);
	assert_int_equal(s.stored, 1);
	assert_int_equal(imap_harness_count(&h, NULL, &seen), 2);
	assert_int_equal(seen, 2);
	assert_int_equal(tickets(f), 2);
	imap_harness_stop(&h);
	free(url);
}

static void test_imap_moves_processed_mail(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	char *url = NULL;

	start_imap(&h, &url);
	io.url = url;
	io.move_to = "Frontline Done";
	deliver(&h, NULL, mail("a@example.com", "one", "k1@x", NULL, "Please call me back."), false);
	deliver(&h, NULL, mail("b@example.com", "two", "k2@x", NULL, "Please call me back too."), true);
	poll_ok(f, &io, &s);
	assert_int_equal(s.stored, 2);
	assert_int_equal(imap_harness_count(&h, NULL, NULL), 0);
	assert_int_equal(imap_harness_count(&h, "Frontline Done", NULL), 2);
	/* the same messages back in the inbox (someone moved them back): duplicates, nothing new */
	deliver(&h, NULL, mail("a@example.com", "one", "k1@x", NULL, "Please call me back."), false);
	poll_ok(f, &io, &s);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(tickets(f), 2);
	imap_harness_stop(&h);
	free(url);
}

static void test_imap_notices_a_new_uidvalidity(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	char *url = NULL, key[128];
	int64_t v = 0, uid = 0;

	start_imap(&h, &url);
	io.url = url;
	deliver(&h, NULL, mail("a@example.com", "one", "l1@x", NULL, "The first problem here."), true);
	poll_ok(f, &io, &s);
	assert_int_equal(s.stored, 1);
	/* pretend the recorded state came from an older incarnation of the mailbox */
	snprintf(key, sizeof(key), "imap://ann@127.0.0.1:%d/INBOX", h.port);
	assert_int_equal(store_imap_state_get(f->st, key, &v, &uid), STORE_OK);
	assert_int_equal(uid, 1);
	assert_int_equal(store_imap_state_set(f->st, key, v + 1, 99), STORE_OK);
	poll_ok(f, &io, &s);
	assert_true(s.uidvalidity_changed);
	assert_int_equal(s.candidates, 1);
	assert_int_equal(s.duplicates, 1);
	assert_int_equal(tickets(f), 1);
	assert_int_equal(store_imap_state_get(f->st, key, &v, &uid), STORE_OK);
	assert_int_equal(v, s.uidvalidity);
	assert_int_equal(uid, 1);
	imap_harness_stop(&h);
	free(url);
}

static void test_imap_reply_reopens_a_resolved_ticket(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	json_t *page = NULL, *t = NULL, *fields, *upd = NULL;
	const char *id;
	char *url = NULL;

	start_imap(&h, &url);
	io.url = url;
	deliver(&h, NULL, mail("ann@example.com", "Refund", "m1@x", NULL, "Where is my refund?"), false);
	poll_ok(f, &io, &s);
	assert_int_equal(store_ticket_list(f->st, NULL, &page), STORE_OK);
	id = fl_json_str(json_array_get(json_object_get(page, "tickets"), 0), "id", "");
	fields = json_pack("{s:s}", "status", "resolved");
	assert_int_equal(store_ticket_update(f->st, id, 0, fields, "agent", &upd), STORE_OK);
	deliver(&h, NULL, mail("ann@example.com", "Re: Refund", "m2@x", "In-Reply-To: <m1@x>\r\n",
			       "It has still not arrived."), false);
	poll_ok(f, &io, &s);
	assert_int_equal(s.stored, 1);
	assert_int_equal(store_ticket_get(f->st, id, true, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 2);
	assert_int_equal(tickets(f), 1);
	json_decref(t);
	json_decref(upd);
	json_decref(fields);
	json_decref(page);
	imap_harness_stop(&h);
	free(url);
}

static void test_imap_wrong_password_is_an_error(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_opts io = { 0 };
	struct email_imap_stats s;
	char *url = NULL, *bad, *err = NULL;

	start_imap(&h, &url);
	bad = fl_asprintf("imap://ann:wrong@127.0.0.1:%d/INBOX", h.port);
	io.url = bad;
	assert_int_equal(email_imap_poll(f->st, &io, &f->in, &s, &err), EMAIL_EIMAP);
	assert_non_null(err);
	assert_null(strstr(err, "wrong")); /* the password is masked */
	free(err);
	io.url = "http://example.com/";
	assert_int_equal(email_imap_poll(f->st, &io, &f->in, &s, &err), EMAIL_EINVAL);
	free(err);
	imap_harness_stop(&h);
	free(bad);
	free(url);
}

static void test_imap_poller_thread(void **state)
{
	struct fx *f = *state;
	struct imap_harness h = IMAP_HARNESS_INIT;
	struct email_imap_poller *p = NULL;
	char *url = NULL, *err = NULL;
	int64_t deadline;

	/* not configured: nothing runs */
	fl_config_set("FRONTLINE_IMAP_URL", "");
	assert_int_equal(email_imap_poller_start(store_url(f->st), &p, &err), EMAIL_OK);
	assert_null(p);
	start_imap(&h, &url);
	fl_config_set("FRONTLINE_IMAP_URL", url);
	fl_config_set("FRONTLINE_IMAP_INTERVAL", "1");
	deliver(&h, NULL, mail("a@example.com", "poller", "pt1@x", NULL, "Found by the poller thread."), false);
	assert_int_equal(email_imap_poller_start(store_url(f->st), &p, &err), EMAIL_OK);
	assert_non_null(p);
	/* wait for the outcome, with a deadline */
	for (deadline = fl_mono_us() + 20 * 1000000; tickets(f) < 1 && fl_mono_us() < deadline;)
		fl_sleep_us(50000);
	assert_int_equal(tickets(f), 1);
	deliver(&h, NULL, mail("b@example.com", "poller 2", "pt2@x", NULL, "And the next one too."), false);
	for (deadline = fl_mono_us() + 20 * 1000000; tickets(f) < 2 && fl_mono_us() < deadline;)
		fl_sleep_us(50000);
	assert_int_equal(tickets(f), 2);
	email_imap_poller_stop(p);
	fl_config_set("FRONTLINE_IMAP_URL", "");
	fl_config_set("FRONTLINE_IMAP_INTERVAL", "60");
	imap_harness_stop(&h);
	free(url);
}

/* ---- SMTP through the outbox ---- */

/* The value of header name in raw (first line only), or NULL. Caller frees. */
static char *header(const char *raw, const char *name)
{
	char *pat = fl_asprintf("\n%s: ", name);
	const char *p = strstr(raw, pat), *e;
	char *v = NULL;

	if (p) {
		p += strlen(pat);
		e = strpbrk(p, "\r\n");
		v = fl_strndup(p, e ? (size_t)(e - p) : strlen(p));
	}
	free(pat);
	return v;
}

static json_t *enqueue_reply(struct fx *f, const char *ticket_id, const char *body, bool automatic)
{
	json_t *payload = json_pack("{s:s, s:s, s:s, s:b}", "to", "crm-address@example.com", "body", body,
				    "ticket_id", ticket_id, "auto_submitted", automatic);
	char key[128];
	bool created;

	snprintf(key, sizeof(key), "reply:%s:%s", ticket_id, body);
	assert_int_equal(store_outbox_enqueue(f->st, "email", "crm-address@example.com", payload, key, &created),
			 STORE_OK);
	return payload;
}

static struct notify_dispatcher *dispatcher(struct fx *f, const char *smtp_url)
{
	struct notify_options o = { 0 };
	struct notify_dispatcher *d = NULL;
	char *err = NULL;

	o.store = f->st;
	o.settings.smtp_url = smtp_url;
	o.settings.smtp_from = "Acme Support <help@help.example.com>";
	o.max_attempts = 1;
	assert_int_equal(notify_dispatcher_new(&o, &d, &err), NOTIFY_OK);
	return d;
}

static void test_smtp_reply_threads_and_the_answer_comes_back(void **state)
{
	struct fx *f = *state;
	struct smtp_harness h = SMTP_HARNESS_INIT;
	struct email_intake_result r, back;
	struct notify_dispatcher *d;
	json_t *msgs, *payload;
	char *url = NULL, *raw, *err = NULL, *v, *answer, *mid;
	int sent = 0, failed = 0;

	if (smtp_harness_start(&h, &url))
		fail_msg("%s", smtp_harness_error(&h));
	raw = mail("Ann Example <ann@example.com>", "Printer on fire", "p1@mail.example.com",
		   "References: <p0@mail.example.com>\r\nReply-To: ann.private@example.org\r\n",
		   "Help, the printer is on fire.");
	assert_int_equal(email_intake(f->st, raw, strlen(raw), &f->in, &r), EMAIL_OK);
	free(raw);
	payload = enqueue_reply(f, r.ticket_id, "We are sending the fire brigade.\n.\nRegards", true);
	d = dispatcher(f, url);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(failed, 0);
	assert_int_equal(smtp_harness_wait(&h, 1, 10000), 1);
	msgs = smtp_harness_messages(&h);
	raw = fl_strdup(json_string_value(json_array_get(msgs, 0)));
	/* answered where the customer asked: the Reply-To */
	assert_non_null(strstr(raw, "\nTo: ann.private@example.org"));
	assert_non_null(strstr(raw, "Acme Support <help@help.example.com>"));
	v = header(raw, "In-Reply-To");
	assert_string_equal(v, "<p1@mail.example.com>");
	free(v);
	v = header(raw, "References");
	assert_string_equal(v, "<p0@mail.example.com> <p1@mail.example.com>");
	free(v);
	v = header(raw, "Subject");
	assert_non_null(strstr(v, "Re: Printer on fire [Frontline #"));
	free(v);
	v = header(raw, "Auto-Submitted");
	assert_string_equal(v, "auto-replied");
	free(v);
	mid = header(raw, "Message-Id");
	assert_non_null(mid);
	assert_non_null(strstr(mid, "@help.example.com>"));
	/* the lone dot line survived SMTP */
	assert_non_null(strstr(raw, "\n.\n") ? strstr(raw, "\n.\n") : strstr(raw, "\r\n.\r\n"));
	/* the customer answers our reply: back into the same ticket */
	answer = fl_asprintf("From: ann@example.com\r\nSubject: Re: Printer on fire\r\nMessage-ID: <p2@mail.example.com>\r\n"
			     "In-Reply-To: %s\r\n\r\nThe fire brigade is here, thanks.\r\n", mid);
	assert_int_equal(email_intake(f->st, answer, strlen(answer), &f->in, &back), EMAIL_OK);
	assert_int_equal(back.outcome, EMAIL_APPENDED);
	assert_string_equal(back.ticket_id, r.ticket_id);
	email_intake_result_release(&back);
	free(answer);
	free(mid);
	free(raw);
	json_decref(msgs);
	json_decref(payload);
	notify_dispatcher_free(d);
	email_intake_result_release(&r);
	smtp_harness_stop(&h);
	free(url);
}

static void test_smtp_automatic_replies_are_withheld_from_machines(void **state)
{
	struct fx *f = *state;
	struct smtp_harness h = SMTP_HARNESS_INIT;
	struct email_intake_result r;
	struct notify_dispatcher *d;
	json_t *payload, *dead = NULL, *item;
	char *url = NULL, *raw, *err = NULL;
	int sent = 0, failed = 0, i;

	if (smtp_harness_start(&h, &url))
		fail_msg("%s", smtp_harness_error(&h));
	d = dispatcher(f, url);
	/* an out-of-office reply became a ticket: no automatic reply to it */
	raw = mail("away@example.com", "Automatic reply: your ticket", "o1@x", "Auto-Submitted: auto-replied\r\n",
		   "I am out of the office.");
	assert_int_equal(email_intake(f->st, raw, strlen(raw), &f->in, &r), EMAIL_OK);
	free(raw);
	payload = enqueue_reply(f, r.ticket_id, "Thanks for your message.", true);
	json_decref(payload);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(store_outbox_list(f->st, "dead", 10, &dead), STORE_OK);
	item = json_array_get(dead, 0);
	assert_non_null(strstr(fl_json_str(item, "last_error", ""), "withheld"));
	json_decref(dead);
	/* but an agent may still answer it */
	payload = enqueue_reply(f, r.ticket_id, "An agent writes.", false);
	json_decref(payload);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent, 1);
	email_intake_result_release(&r);
	/* another helpdesk without Auto-Submitted: the rate limit stops the ping-pong */
	for (i = 1; i <= 12; i++) {
		char body[64];

		raw = fl_asprintf("From: robot@other.example\r\nSubject: Your request %d\r\nMessage-ID: <q%d@other>\r\n\r\n"
				  "We have received your request.\r\n", i, i);
		assert_int_equal(email_intake(f->st, raw, strlen(raw), &f->in, &r), EMAIL_OK);
		free(raw);
		snprintf(body, sizeof(body), "Auto-reply number %d", i);
		payload = enqueue_reply(f, r.ticket_id, body, true);
		json_decref(payload);
		email_intake_result_release(&r);
		assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	}
	/* the agent's reply plus the first ten automatic ones went out; no more */
	assert_int_equal(smtp_harness_wait(&h, 11, 10000), 11);
	assert_int_equal(store_outbox_list(f->st, "dead", 50, &dead), STORE_OK);
	assert_int_equal(json_array_size(dead), 3);
	json_decref(dead);
	/* never to ourselves */
	raw = mail("help@help.example.com", "loop", "self1@elsewhere", NULL, "A message from our own address.");
	assert_int_equal(email_intake(f->st, raw, strlen(raw), &f->in, &r), EMAIL_OK);
	free(raw);
	payload = enqueue_reply(f, r.ticket_id, "To ourselves?", true);
	json_decref(payload);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(failed, 1);
	email_intake_result_release(&r);
	notify_dispatcher_free(d);
	smtp_harness_stop(&h);
	free(url);
}

static void test_mail_triage_auto_reply_and_answer(void **state)
{
	struct fx *f = *state;
	struct smtp_harness h = SMTP_HARNESS_INIT;
	struct support_analyzer *analyzer = NULL;
	struct support_ctx ctx = { 0 };
	struct support_outcome o = { 0 };
	struct email_intake_result r, back;
	struct notify_dispatcher *d;
	struct flow_node *cs;
	struct kb *kb = NULL;
	json_t *msgs = NULL, *t = NULL;
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb");
	char *url = NULL, *raw, *err = NULL, *v, *mid, *answer;
	size_t n;
	int sent = 0, failed = 0;

	if (smtp_harness_start(&h, &url))
		fail_msg("%s", smtp_harness_error(&h));
	if (support_analyzer_open(models, &analyzer, &err) != SUPPORT_OK || kb_open(NULL, &kb, &err) != KB_OK ||
	    support_kb_load(f->st, kb, kbdir, &n, &err) != SUPPORT_OK)
		fail_msg("%s", err);
	ctx.analyzer = analyzer;
	ctx.kb = kb;
	ctx.store = f->st;
	cs = support_workflow_find("customer_support")->build();
	f->in.domain = "frontline.localhost"; /* FRONTLINE_SUPPORT_FROM's, as from the configuration */
	raw = mail("Jane Doe <jane@startup.example>", "How do I reset my password?", "pw1@startup.example", NULL,
		   "Hi, how do I reset my password? I would like to change it. Thanks, Jane");
	assert_int_equal(email_intake(f->st, raw, strlen(raw), &f->in, &r), EMAIL_OK);
	free(raw);
	assert_int_equal(r.outcome, EMAIL_NEW_TICKET);
	/* the worker's job */
	assert_int_equal(support_process_stored(&ctx, cs, r.ticket_id, &o), SUPPORT_OK);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "auto_replied");
	d = dispatcher(f, url);
	assert_int_equal(notify_dispatcher_run_once(d, &sent, &failed, &err), NOTIFY_OK);
	assert_int_equal(sent, 1);
	assert_int_equal(smtp_harness_wait(&h, 1, 10000), 1);
	msgs = smtp_harness_messages(&h);
	raw = fl_strdup(json_string_value(json_array_get(msgs, 0)));
	assert_non_null(strstr(raw, "\nTo: Jane Doe <jane@startup.example>"));
	v = header(raw, "In-Reply-To");
	assert_string_equal(v, "<pw1@startup.example>");
	free(v);
	v = header(raw, "Subject");
	assert_non_null(strstr(v, "[Frontline #T-"));
	free(v);
	v = header(raw, "Auto-Submitted");
	assert_string_equal(v, "auto-replied");
	free(v);
	mid = header(raw, "Message-Id");
	answer = fl_asprintf("From: jane@startup.example\r\nSubject: Re: How do I reset my password?\r\n"
			     "Message-ID: <pw2@startup.example>\r\nIn-Reply-To: %s\r\n\r\nThat worked, thank you!\r\n",
			     mid);
	assert_int_equal(email_intake(f->st, answer, strlen(answer), &f->in, &back), EMAIL_OK);
	assert_int_equal(back.outcome, EMAIL_APPENDED);
	assert_string_equal(back.ticket_id, r.ticket_id);
	assert_int_equal(store_ticket_get(f->st, r.ticket_id, true, &t), STORE_OK);
	/* inbound, the auto-reply, the answer */
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 3);
	json_decref(t);
	email_intake_result_release(&back);
	free(answer);
	free(mid);
	free(raw);
	json_decref(msgs);
	notify_dispatcher_free(d);
	support_outcome_release(&o);
	email_intake_result_release(&r);
	flow_node_free(cs);
	kb_close(kb);
	support_analyzer_free(analyzer);
	free(models);
	free(kbdir);
	smtp_harness_stop(&h);
	free(url);
}

/* ---- HTTP: POST /api/v1/mail ---- */

/* The HTTP server on the test's store, on a free port (max_body 0: the default). */
static struct server *start_server(struct fx *f, size_t max_body)
{
	struct server_options so = { 0 };
	struct server *srv = NULL;
	char *err = NULL;

	so.listen = "127.0.0.1:0";
	so.store_url = store_url(f->st);
	so.threads = 2;
	so.max_body = max_body;
	so.rate = -1;
	if (server_new(&so, &srv, &err) || server_start(srv, &err))
		fail_msg("server: %s", err);
	return srv;
}

static void test_http_mail_endpoint(void **state)
{
	struct fx *f = *state;
	struct server *srv = NULL;
	struct http_req req = { 0 };
	struct http_resp resp;
	char token[64], hash[65], agent[64], url[96], *raw, *big;
	json_t *row = NULL, *t = NULL;
	size_t i;

	server_token_generate(token, hash);
	assert_int_equal(store_token_insert(f->st, "mail server", "integration", hash, &row), STORE_OK);
	json_decref(row);
	srv = start_server(f, 65536);   /* the API's body limit: a mail may be larger */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/mail?queue=sales", server_port(srv));
	req.method = "POST";
	req.url = url;
	req.token = token;
	req.content_type = "message/rfc822";
	raw = mail("Ann <ann@example.com>", "Quote request", "h1@example.com", NULL, "Please send a quote for 40 seats.");
	req.body = raw;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 202);
	assert_string_equal(fl_json_str(resp.json, "outcome", ""), "ticket");
	assert_int_equal(store_ticket_get(f->st, fl_json_str(resp.json, "ticket_id", ""), false, &t), STORE_OK);
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "queue", ""), "sales");
	json_decref(t);
	http_resp_release(&resp);
	/* the retry a mail server makes after a timeout: the same ticket, 200 */
	http_do(&req, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(fl_json_str(resp.json, "outcome", ""), "duplicate");
	http_resp_release(&resp);
	free(raw);
	/* larger than the API's body limit, within FRONTLINE_EMAIL_MAX_BYTES */
	{
		struct fl_buf b = FL_BUF_INIT;

		fl_buf_adds(&b, "From: bob@example.com\r\nSubject: log file\r\nMessage-ID: <h2@example.com>\r\n\r\n");
		for (i = 0; i < 4000; i++)
			fl_buf_adds(&b, "2024-01-08 10:00:00 ERROR export failed: internal error in the CSV writer\r\n");
		big = fl_buf_detach(&b, NULL);
	}
	req.body = big;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 202);
	http_resp_release(&resp);
	/* never: not a message (binary) */
	req.body = "\x7f" "ELF\x02\x01\x01\0\0\0\0";
	req.len = 12;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 400);
	assert_string_equal(http_error_code(&resp), "not_a_message");
	http_resp_release(&resp);
	req.len = 0;
	/* never: over FRONTLINE_EMAIL_MAX_BYTES */
	fl_config_set("FRONTLINE_EMAIL_MAX_BYTES", "100000");
	req.body = big;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 413);
	http_resp_release(&resp);
	fl_config_set("FRONTLINE_EMAIL_MAX_BYTES", "26214400");
	/* a token is required; roles above integration may post too */
	req.token = NULL;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 401);
	http_resp_release(&resp);
	server_token_generate(agent, hash);
	assert_int_equal(store_token_insert(f->st, "agent", "agent", hash, &row), STORE_OK);
	json_decref(row);
	req.token = agent;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 200); /* the same log file again: a duplicate */
	http_resp_release(&resp);
	free(big);
	server_free(srv);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * Mail awaiting approval through the API: a stranger's mail that knows the
 * thread's secret is stored pending (POST /api/v1/mail says so, the thread
 * shows it), and an agent approves or declines it by
 * POST /api/v1/tickets/{id}/messages/{message_id}/approval.
 */
static void test_http_approval_route(void **state)
{
	struct fx *f = *state;
	struct server *srv = NULL;
	struct http_req req = { 0 };
	struct http_resp resp;
	char integ[64], agent[64], hash[65], url[160], secret[EMAIL_SECRET_LEN + 1], *raw, *subject;
	char ticket_id[64];
	json_t *row = NULL, *msgs, *m;
	int64_t pending = 0;
	size_t i;

	server_token_generate(integ, hash);
	assert_int_equal(store_token_insert(f->st, "mail server", "integration", hash, &row), STORE_OK);
	json_decref(row);
	server_token_generate(agent, hash);
	assert_int_equal(store_token_insert(f->st, "agent", "agent", hash, &row), STORE_OK);
	json_decref(row);
	srv = start_server(f, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/mail", server_port(srv));
	req.method = "POST";
	req.url = url;
	req.token = integ;
	req.content_type = "message/rfc822";
	raw = mail("Ann <ann@example.com>", "Quote request", "q1@example.com", NULL, "Please send a quote for 40 seats.");
	req.body = raw;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 202);
	assert_false(fl_json_bool(resp.json, "pending_approval", true));
	fl_strlcpy(ticket_id, fl_json_str(resp.json, "ticket_id", ""), sizeof(ticket_id));
	assert_int_equal(email_ticket_secret(f->st, ticket_id, secret), EMAIL_OK);
	subject = fl_asprintf("Re: Quote request [Frontline #%s-%s]", fl_json_str(resp.json, "ticket_number", ""),
			      secret);
	http_resp_release(&resp);
	free(raw);
	raw = mail("Bob <bob@example.com>", subject, "q2@example.com", NULL, "Make it 60 seats, and send it to me.");
	req.body = raw;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 202);
	assert_string_equal(fl_json_str(resp.json, "outcome", ""), "appended");
	assert_true(fl_json_bool(resp.json, "pending_approval", false));
	http_resp_release(&resp);
	free(raw);
	free(subject);
	/* the thread shows it awaiting approval */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/tickets/%s", server_port(srv), ticket_id);
	req.method = "GET";
	req.token = agent;
	req.body = NULL;
	req.content_type = NULL;
	http_do(&req, &resp);
	assert_int_equal(resp.status, 200);
	msgs = json_object_get(resp.json, "messages");
	json_array_foreach(msgs, i, m)
		if (fl_str_eq(fl_json_str(m, "approval", NULL), "pending"))
			pending = fl_json_int(m, "id", 0);
	assert_true(pending > 0);
	http_resp_release(&resp);
	/* an integration may not decide; a bad decision is named; then approve once */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/tickets/%s/messages/%lld/approval", server_port(srv),
		 ticket_id, (long long)pending);
	req.method = "POST";
	req.token = integ;
	req.body = "{\"decision\": \"approve\"}";
	http_do(&req, &resp);
	assert_int_equal(resp.status, 403);
	http_resp_release(&resp);
	req.token = agent;
	req.body = "{\"decision\": \"maybe\"}";
	http_do(&req, &resp);
	assert_int_equal(resp.status, 422);
	assert_string_equal(fl_json_str(json_object_get(resp.json, "error"), "field", ""), "decision");
	http_resp_release(&resp);
	req.body = "{\"decision\": \"approve\"}";
	http_do(&req, &resp);
	assert_int_equal(resp.status, 200);
	assert_string_equal(fl_json_str(json_object_get(resp.json, "message"), "approval", ""), "approved");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(json_object_get(
		json_object_get(resp.json, "ticket"), "metadata"), "email"), "cc"), 0)), "bob@example.com");
	http_resp_release(&resp);
	http_do(&req, &resp);
	assert_int_equal(resp.status, 409);
	http_resp_release(&resp);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/tickets/%s/messages/999999/approval", server_port(srv),
		 ticket_id);
	http_do(&req, &resp);
	assert_int_equal(resp.status, 404);
	http_resp_release(&resp);
	server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_imap_fetches_new_and_already_read_mail),
		T(test_imap_marks_nothing_before_the_commit),
		T(test_imap_moves_processed_mail),
		T(test_imap_notices_a_new_uidvalidity),
		T(test_imap_reply_reopens_a_resolved_ticket),
		T(test_imap_wrong_password_is_an_error),
		T(test_imap_poller_thread),
		T(test_smtp_reply_threads_and_the_answer_comes_back),
		T(test_smtp_automatic_replies_are_withheld_from_machines),
		T(test_mail_triage_auto_reply_and_answer),
		T(test_http_mail_endpoint),
		T(test_http_approval_route),
	};

	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	email_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
