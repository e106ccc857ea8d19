/*
 * email intake against a real store (SQLite in a temporary directory): new
 * tickets with their triage job, retries and duplicates, threading (In-Reply-To,
 * References, our own Message-IDs, subject tag, optional sender+subject),
 * reopening, bounces, noise and the rate limit, attachments as blobs,
 * quarantine with the raw message attached, failures (nothing stored for
 * non-messages; temporary store failures retried without duplicates;
 * permanent ones quarantined), and every corpus message through intake.
 */
#include "test_helpers.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "channels/email/email.h"
#include "store/store.h"

struct fx {
	char *dir;
	struct store *st;
	struct email_intake_opts o;
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
	f->o.domain = "help.example.com";
	f->o.source = "pipe";
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

#define INTAKE_OK(f, raw, r) \
	do { \
		int rc_ = email_intake((f)->st, (raw), strlen(raw), &(f)->o, (r)); \
		if (rc_ != EMAIL_OK) \
			fail_msg("email_intake: %s: %s", email_errname(rc_), (r)->detail ? (r)->detail : ""); \
	} while (0)

static json_t *ticket(struct fx *f, const char *id)
{
	json_t *t = NULL;

	assert_int_equal(store_ticket_get(f->st, id, true, &t), STORE_OK);
	return t;
}

static int64_t jobs_queued(struct fx *f)
{
	json_t *c = NULL;
	int64_t n;

	assert_int_equal(store_job_counts(f->st, &c), STORE_OK);
	n = fl_json_int(c, "queued", 0);
	json_decref(c);
	return n;
}

static const char first_mail[] =
	"From: Ann Example <Ann@Example.com>\r\n"
	"To: help@help.example.com\r\n"
	"Subject: Cannot log in\r\n"
	"Message-ID: <first@mail.example.com>\r\n"
	"Date: Mon, 08 Jan 2024 10:00:00 +0000\r\n"
	"\r\n"
	"The password reset email never arrives.\r\n\r\n-- \r\nAnn\r\n";

static void test_intake_new_ticket_with_job(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *t, *msgs, *raw = NULL;

	INTAKE_OK(f, first_mail, &r);
	assert_int_equal(r.outcome, EMAIL_NEW_TICKET);
	assert_true(fl_str_has_prefix(r.ticket_number, "T-"));
	t = ticket(f, r.ticket_id);
	assert_string_equal(fl_json_str(t, "channel", ""), "email");
	assert_string_equal(fl_json_str(t, "subject", ""), "Cannot log in");
	assert_string_equal(fl_json_str(t, "content", ""), "The password reset email never arrives.");
	assert_string_equal(fl_json_str(t, "customer_id", ""), "ann@example.com");
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_true(fl_json_bool(json_object_get(json_object_get(t, "metadata"), "email"), "auto_reply", false));
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "customer_name", ""), "Ann Example");
	msgs = json_object_get(t, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	assert_string_equal(fl_json_str(json_array_get(msgs, 0), "email_message_id", ""), "first@mail.example.com");
	assert_int_equal(jobs_queued(f), 1);
	/*
	 * the sender is not a customer yet: the triage's finish makes one when it
	 * finds no spam (test_support_autoreply), from the address kept here
	 */
	{
		json_t *c = NULL;

		assert_int_equal(store_customer_get(f->st, "ann@example.com", &c), STORE_ENOTFOUND);
		assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "customer_email", ""),
				    "Ann@Example.com");
	}
	assert_int_equal(store_mail_raw_get(f->st, r.raw_id, &raw), STORE_OK);
	assert_string_equal(fl_json_str(raw, "status", ""), "ticket");
	assert_string_equal(fl_json_str(raw, "ticket_id", ""), r.ticket_id);
	json_decref(raw);
	json_decref(t);
	email_intake_result_release(&r);
}

static void test_intake_retries_are_duplicates(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r1, r2, r3;
	char *relayed = fl_asprintf("Received: from relay.example.net\r\n%s", first_mail);
	json_t *list = NULL;

	INTAKE_OK(f, first_mail, &r1);
	/* the mail server retries the same bytes */
	INTAKE_OK(f, first_mail, &r2);
	assert_int_equal(r2.outcome, EMAIL_DUPLICATE);
	assert_string_equal(r2.ticket_id, r1.ticket_id);
	/* the same message by another route (other bytes, same Message-ID) */
	INTAKE_OK(f, relayed, &r3);
	assert_int_equal(r3.outcome, EMAIL_DUPLICATE);
	assert_string_equal(r3.ticket_id, r1.ticket_id);
	assert_int_equal(jobs_queued(f), 1);
	assert_int_equal(store_ticket_list(f->st, NULL, &list), STORE_OK);
	assert_int_equal(json_array_size(json_object_get(list, "tickets")), 1);
	json_decref(list);
	email_intake_result_release(&r1);
	email_intake_result_release(&r2);
	email_intake_result_release(&r3);
	free(relayed);
}

static void test_intake_replies_thread_and_reopen(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r, r2;
	struct email_outgoing out = { 0 };
	json_t *t, *fields, *upd = NULL, *events = NULL;
	char *ours = NULL, *raw = NULL, *reply;
	size_t len;
	bool reopened_event = false;
	size_t i;

	INTAKE_OK(f, first_mail, &r);
	fields = json_pack("{s:s}", "status", "resolved");
	assert_int_equal(store_ticket_update(f->st, r.ticket_id, 0, fields, "agent", &upd), STORE_OK);
	json_decref(fields);
	json_decref(upd);
	/* 1. In-Reply-To the customer's own first message */
	reply = "From: ann@example.com\r\nSubject: Re: Cannot log in\r\nMessage-ID: <r1@mail.example.com>\r\n"
		"In-Reply-To: <first@mail.example.com>\r\n\r\nStill broken.\r\n\r\n"
		"On Mon, Ann wrote:\r\n> The password reset email never arrives.\r\n";
	INTAKE_OK(f, reply, &r2);
	assert_int_equal(r2.outcome, EMAIL_APPENDED);
	assert_string_equal(r2.ticket_id, r.ticket_id);
	assert_true(r2.reopened);
	t = ticket(f, r.ticket_id);
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 2);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(t, "messages"), 1), "body", ""),
			    "Still broken.");
	json_decref(t);
	assert_int_equal(store_event_list(f->st, r.ticket_id, 50, &events), STORE_OK);
	for (i = 0; i < json_array_size(events); i++)
		reopened_event |= !strcmp(fl_json_str(json_array_get(events, i), "type", ""), "ticket.reopened");
	assert_true(reopened_event);
	json_decref(events);
	email_intake_result_release(&r2);
	/* 2. a reply to our reply: our Message-ID names the ticket */
	out.from_addr = "help@help.example.com";
	out.to_addr = "ann@example.com";
	out.subject = "Cannot log in";
	out.body = "Please try again.";
	out.ticket_number = r.ticket_number;
	out.domain = "help.example.com";
	assert_int_equal(email_compose(&out, &raw, &len, &ours), EMAIL_OK);
	reply = fl_asprintf("From: ann@example.com\r\nSubject: Re: x\r\nMessage-ID: <r2@mail.example.com>\r\n"
			    "In-Reply-To: <%s>\r\nReferences: <first@mail.example.com> <%s>\r\n\r\nOK now.\r\n",
			    ours, ours);
	INTAKE_OK(f, reply, &r2);
	assert_int_equal(r2.outcome, EMAIL_APPENDED);
	assert_string_equal(r2.ticket_id, r.ticket_id);
	assert_false(r2.reopened);
	email_intake_result_release(&r2);
	free(reply);
	/* 3. only the subject tag (a client that drops In-Reply-To) */
	reply = fl_asprintf("From: ann@example.com\r\nSubject: Re: Cannot log in [Frontline #%s]\r\n"
			    "Message-ID: <r3@mail.example.com>\r\n\r\nOne more thing.\r\n", r.ticket_number);
	INTAKE_OK(f, reply, &r2);
	assert_int_equal(r2.outcome, EMAIL_APPENDED);
	assert_string_equal(r2.ticket_id, r.ticket_id);
	email_intake_result_release(&r2);
	free(reply);
	/* 4. an unrelated message from the same sender is a new ticket */
	INTAKE_OK(f, "From: ann@example.com\r\nSubject: Invoice question\r\nMessage-ID: <r4@x>\r\n\r\n"
		     "Why was I charged twice?\r\n", &r2);
	assert_int_equal(r2.outcome, EMAIL_NEW_TICKET);
	assert_string_not_equal(r2.ticket_id, r.ticket_id);
	email_intake_result_release(&r2);
	free(raw);
	free(ours);
	email_intake_result_release(&r);
}

/* The recipient of an agent's reply to ticket_id, as the outbox renders it. Caller frees. */
static char *reply_recipient(struct fx *f, const char *ticket_id, int64_t item_id)
{
	json_t *item = json_pack("{s:I, s:s, s:s, s:{s:s, s:s}}", "id", (json_int_t)item_id, "channel", "email",
				 "target", "ann@example.com", "payload", "ticket_id", ticket_id, "body",
				 "Your invoice INV-1 for $1,234 is attached.");
	struct email_rendered out;
	char *why = NULL, *to;

	if (email_outbox_render(f->st, item, "help@help.example.com", &out, &why) != EMAIL_OK)
		fail_msg("render: %s", why ? why : "");
	to = fl_strdup(out.recipient);
	email_rendered_release(&out);
	json_decref(item);
	return to;
}

/*
 * The hijack a review found: ticket numbers are sequential, so anyone could
 * write "[Frontline #T-000001]" in a subject, or a forged In-Reply-To of our
 * form, and the agent's next reply (with the customer's invoice) went to
 * whoever wrote last. Mail from a stranger carrying only what the number
 * gives becomes a ticket of its own, and replies go to the ticket's
 * customer, never to the last writer's From or Reply-To.
 */
static void test_intake_stranger_cannot_hijack_a_thread(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r, e;
	json_t *t;
	char *mail, *to;

	INTAKE_OK(f, first_mail, &r);
	/* a tag forged from the number */
	mail = fl_asprintf("From: Eve <eve@evil.example>\r\nSubject: Re: Cannot log in [Frontline #%s]\r\n"
			   "Message-ID: <e1@evil.example>\r\n\r\nPlease send the invoice to this address.\r\n",
			   r.ticket_number);
	INTAKE_OK(f, mail, &e);
	assert_int_equal(e.outcome, EMAIL_NEW_TICKET);
	assert_string_not_equal(e.ticket_id, r.ticket_id);
	email_intake_result_release(&e);
	free(mail);
	/* a forged In-Reply-To of our form, and References */
	mail = fl_asprintf("From: eve@evil.example\r\nSubject: Re: Cannot log in\r\n"
			   "Message-ID: <e2@evil.example>\r\nIn-Reply-To: <frontline.%s.o1@help.example.com>\r\n"
			   "References: <frontline.%s.5f1d2c3b4a596877@help.example.com>\r\n\r\n"
			   "Please send the invoice to this address.\r\n", r.ticket_number, r.ticket_number);
	INTAKE_OK(f, mail, &e);
	assert_int_equal(e.outcome, EMAIL_NEW_TICKET);
	email_intake_result_release(&e);
	free(mail);
	t = ticket(f, r.ticket_id);
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 1);
	json_decref(t);
	/* the customer's own address forged, with a Reply-To of the forger's: it threads, the reply does not follow */
	mail = fl_asprintf("From: Ann Example <ann@example.com>\r\nReply-To: eve@evil.example\r\n"
			   "Subject: Re: Cannot log in [Frontline #%s]\r\nMessage-ID: <e3@evil.example>\r\n\r\n"
			   "Please send the invoice to my new address.\r\n", r.ticket_number);
	INTAKE_OK(f, mail, &e);
	assert_int_equal(e.outcome, EMAIL_APPENDED);
	email_intake_result_release(&e);
	free(mail);
	to = reply_recipient(f, r.ticket_id, 1);
	assert_string_equal(to, "Ann@Example.com");
	free(to);
	email_intake_result_release(&r);
}

/* The id of the thread message with this Message-ID. */
static int64_t message_with(struct fx *f, const char *ticket_id, const char *email_id, const char **approval)
{
	json_t *t = ticket(f, ticket_id), *m;
	int64_t id = 0;
	size_t i;

	json_array_foreach(json_object_get(t, "messages"), i, m)
		if (fl_str_eq(fl_json_str(m, "email_message_id", NULL), email_id)) {
			id = fl_json_int(m, "id", 0);
			if (approval) {
				const char *a = fl_json_str(m, "approval", NULL);

				/* a literal: the ticket is freed below */
				*approval = !a ? NULL : !strcmp(a, "pending") ? "pending"
					  : !strcmp(a, "approved") ? "approved" : "declined";
			}
		}
	json_decref(t);
	assert_true(id > 0);
	return id;
}

/*
 * Our tags and Message-IDs carry the ticket's secret. Mail that proves
 * knowledge of the thread (the secret, or a Message-ID the thread holds)
 * joins it whoever sends it, a stranger's awaiting an agent's approval, and
 * changes nothing about who gets replies; a wrong secret is a ticket of its
 * own. Approving a person's message makes them a CC; declining keeps it.
 */
static void test_intake_secret_keys_and_approval(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r, b;
	struct email_rendered out;
	char secret[EMAIL_SECRET_LEN + 1], other[EMAIL_SECRET_LEN + 1], *mail, *why = NULL, *tag, *mid;
	json_t *item, *fields, *upd = NULL, *t, *m = NULL;
	const char *approval = NULL;
	int64_t bob, carol;
	size_t i;

	INTAKE_OK(f, first_mail, &r);
	assert_int_equal(email_ticket_secret(f->st, r.ticket_id, secret), EMAIL_OK);
	assert_int_equal(strlen(secret), EMAIL_SECRET_LEN);
	assert_int_equal(strspn(secret, "abcdefghijklmnopqrstuvwxyz234567"), EMAIL_SECRET_LEN);
	assert_int_equal(email_ticket_secret(f->st, "another-ticket", other), EMAIL_OK);
	assert_string_not_equal(secret, other);
	fields = json_pack("{s:s}", "status", "resolved");
	assert_int_equal(store_ticket_update(f->st, r.ticket_id, 0, fields, "agent", &upd), STORE_OK);
	json_decref(fields);
	json_decref(upd);
	/* the agent's reply carries the secret in its tag and its Message-ID */
	item = json_pack("{s:i, s:s, s:s, s:{s:s, s:s}}", "id", 5, "channel", "email", "target", "ann@example.com",
			 "payload", "ticket_id", r.ticket_id, "body", "Try the link again.");
	assert_int_equal(email_outbox_render(f->st, item, "help@help.example.com", &out, &why), EMAIL_OK);
	tag = fl_asprintf("[Frontline #%s-%s]", r.ticket_number, secret);
	mid = fl_asprintf("frontline.%s.%s.o5@help.example.com", r.ticket_number, secret);
	assert_non_null(strstr(out.raw, tag));
	assert_string_equal(out.message_id, mid);
	assert_string_equal(out.recipient, "Ann@Example.com");
	email_rendered_release(&out);
	/* a colleague Ann forwarded it to answers it: in the thread, awaiting approval, the ticket stays resolved */
	mail = fl_asprintf("From: Bob <bob@example.com>\r\nSubject: Re: Cannot log in\r\nMessage-ID: <b1@example.com>\r\n"
			   "In-Reply-To: <%s>\r\n\r\nI have the same problem on my account.\r\n", mid);
	INTAKE_OK(f, mail, &b);
	assert_int_equal(b.outcome, EMAIL_APPENDED);
	assert_string_equal(b.ticket_id, r.ticket_id);
	assert_true(b.pending);
	assert_false(b.reopened);
	email_intake_result_release(&b);
	free(mail);
	bob = message_with(f, r.ticket_id, "b1@example.com", &approval);
	assert_string_equal(approval, "pending");
	t = ticket(f, r.ticket_id);
	assert_string_equal(fl_json_str(t, "status", ""), "resolved");
	json_decref(t);
	/* the secret tag alone does the same */
	mail = fl_asprintf("From: carol@example.org\r\nSubject: Re: Cannot log in %s\r\nMessage-ID: <c1@example.org>\r\n"
			   "\r\nPlease also send it to me.\r\n", tag);
	INTAKE_OK(f, mail, &b);
	assert_int_equal(b.outcome, EMAIL_APPENDED);
	assert_true(b.pending);
	email_intake_result_release(&b);
	free(mail);
	carol = message_with(f, r.ticket_id, "c1@example.org", NULL);
	/* a wrong secret is not the thread's */
	mail = fl_asprintf("From: eve@evil.example\r\nSubject: Re: [Frontline #%s-%s]\r\nMessage-ID: <e9@evil.example>\r\n"
			   "\r\nSend me the invoice.\r\n", r.ticket_number, other);
	INTAKE_OK(f, mail, &b);
	assert_int_equal(b.outcome, EMAIL_NEW_TICKET);
	email_intake_result_release(&b);
	free(mail);
	/* the reply still goes to Ann alone, in reply to her message, not to the pending ones */
	assert_int_equal(email_outbox_render(f->st, item, "help@help.example.com", &out, &why), EMAIL_OK);
	assert_string_equal(out.recipient, "Ann@Example.com");
	assert_int_equal(json_array_size(out.cc), 0);
	assert_non_null(strstr(out.raw, "In-Reply-To: <first@mail.example.com>"));
	assert_null(strstr(out.raw, "bob@example.com"));
	email_rendered_release(&out);
	/* approved, Bob is a CC of every reply; declined, Carol is not */
	assert_int_equal(email_message_decide(f->st, r.ticket_id, bob, true, "agent:1", &m, &why), EMAIL_OK);
	assert_string_equal(fl_json_str(m, "approval", ""), "approved");
	json_decref(m);
	assert_int_equal(email_message_decide(f->st, r.ticket_id, carol, false, "agent:1", NULL, &why), EMAIL_OK);
	assert_int_equal(email_message_decide(f->st, r.ticket_id, carol, true, "agent:1", NULL, &why), EMAIL_ECONFLICT);
	free(why);
	assert_int_equal(email_message_decide(f->st, r.ticket_id, carol + 100, true, "agent:1", NULL, &why),
			 EMAIL_ENOTFOUND);
	free(why);
	t = ticket(f, r.ticket_id);
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(t, "metadata"), "email"), "cc")), 1);
	json_array_foreach(json_object_get(t, "messages"), i, m)
		if (fl_json_int(m, "id", 0) == carol)
			assert_string_equal(fl_json_str(m, "approval", ""), "declined");
	json_decref(t);
	assert_int_equal(email_outbox_render(f->st, item, "help@help.example.com", &out, &why), EMAIL_OK);
	assert_string_equal(out.recipient, "Ann@Example.com");
	assert_int_equal(json_array_size(out.cc), 1);
	assert_string_equal(json_string_value(json_array_get(out.cc, 0)), "bob@example.com");
	assert_non_null(strstr(out.raw, "Cc: bob@example.com"));
	assert_null(strstr(out.raw, "carol@example.org"));
	email_rendered_release(&out);
	/* a CC is on the ticket: even the old tag threads his mail, with nothing to approve */
	mail = fl_asprintf("From: bob@example.com\r\nSubject: Re: [Frontline #%s]\r\nMessage-ID: <b2@example.com>\r\n"
			   "\r\nIt works for me now.\r\n", r.ticket_number);
	INTAKE_OK(f, mail, &b);
	assert_int_equal(b.outcome, EMAIL_APPENDED);
	assert_false(b.pending);
	email_intake_result_release(&b);
	free(mail);
	json_decref(item);
	free(tag);
	free(mid);
	email_intake_result_release(&r);
}

static void test_intake_thread_by_subject_is_optional(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r, r2;
	const char *again = "From: ann@example.com\r\nSubject: RE: cannot  LOG in\r\nMessage-ID: <s1@x>\r\n\r\n"
			    "Any news on this?\r\n";

	INTAKE_OK(f, first_mail, &r);
	INTAKE_OK(f, again, &r2);
	assert_int_equal(r2.outcome, EMAIL_NEW_TICKET);
	email_intake_result_release(&r2);
	f->o.thread_subject_days = 30;
	INTAKE_OK(f, "From: ann@example.com\r\nSubject: Re: Cannot log in\r\nMessage-ID: <s2@x>\r\n\r\n"
		     "Any news on this?\r\n", &r2);
	assert_int_equal(r2.outcome, EMAIL_APPENDED);
	email_intake_result_release(&r2);
	/* another sender with the same subject is not the same thread */
	INTAKE_OK(f, "From: bob@example.com\r\nSubject: Cannot log in\r\nMessage-ID: <s3@x>\r\n\r\n"
		     "Me neither, since this morning.\r\n", &r2);
	assert_int_equal(r2.outcome, EMAIL_NEW_TICKET);
	email_intake_result_release(&r2);
	email_intake_result_release(&r);
}

static void test_intake_noise_and_rate_limit(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *t;
	int i;

	INTAKE_OK(f, "From: news@list.example.org\r\nSubject: Weekly digest\r\nPrecedence: bulk\r\n"
		     "List-Id: <news.list.example.org>\r\nMessage-ID: <n1@x>\r\n\r\nThis week in news...\r\n", &r);
	assert_int_equal(r.outcome, EMAIL_NEW_TICKET);
	assert_true(r.noise & EMAIL_NOISE_BULK);
	t = ticket(f, r.ticket_id);
	assert_false(fl_json_bool(json_object_get(json_object_get(t, "metadata"), "email"), "auto_reply", true));
	json_decref(t);
	email_intake_result_release(&r);
	/* another helpdesk answering every message: after the limit, no more auto-replies */
	f->o.rate_limit = 3;
	for (i = 1; i <= 5; i++) {
		char *raw = fl_asprintf("From: robot@other-helpdesk.example\r\nSubject: Ticket %d received\r\n"
					"Message-ID: <loop%d@other>\r\n\r\nWe received your request.\r\n", i, i);

		INTAKE_OK(f, raw, &r);
		if (i <= 3)
			assert_false(r.noise & EMAIL_NOISE_RATE);
		else
			assert_true(r.noise & EMAIL_NOISE_RATE);
		t = ticket(f, r.ticket_id);
		assert_int_equal(fl_json_bool(json_object_get(json_object_get(t, "metadata"), "email"), "auto_reply",
					      true), i <= 3);
		json_decref(t);
		email_intake_result_release(&r);
		free(raw);
	}
}

static const char with_attachment[] =
	"From: ann@example.com\r\nSubject: screenshot\r\nMessage-ID: <%s@x>\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n\r\nThe error is in the attached screenshot.\r\n"
	"--b\r\nContent-Type: image/png; name=shot.png\r\nContent-Disposition: attachment\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk\r\n"
	"--b--\r\n";

static void test_intake_attachments_are_blobs(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *t, *att, *meta = NULL;
	char *raw;
	void *data = NULL;
	size_t len;
	int i;

	for (i = 0; i < 2; i++) {
		raw = fl_asprintf(with_attachment, i ? "a2" : "a1");
		INTAKE_OK(f, raw, &r);
		free(raw);
		t = ticket(f, r.ticket_id);
		att = json_array_get(json_object_get(json_object_get(json_object_get(
			json_array_get(json_object_get(t, "messages"), 0), "metadata"), "email"), "attachments"), 0);
		assert_string_equal(fl_json_str(att, "filename", ""), "shot.png");
		assert_int_equal(store_blob_get(f->st, fl_json_str(att, "sha256", ""), &data, &len, &meta), STORE_OK);
		assert_int_equal(len, fl_json_int(att, "size", -1));
		assert_memory_equal(data, "\x89PNG", 4);
		assert_string_equal(fl_json_str(meta, "content_type", ""), "image/png");
		free(data);
		json_decref(meta);
		json_decref(t);
		email_intake_result_release(&r);
	}
}

static void test_intake_quarantine_keeps_the_raw(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	const char *raw = "Subject: no sender\r\n\r\nWho sent this?\r\n";
	json_t *t, *atts;
	void *data = NULL;
	size_t len, i;
	bool found = false;

	INTAKE_OK(f, raw, &r);
	assert_int_equal(r.outcome, EMAIL_QUARANTINED);
	t = ticket(f, r.ticket_id);
	assert_true(fl_json_bool(t, "quarantined", false));
	assert_int_equal(jobs_queued(f), 0);
	atts = json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(t, "messages"), 0),
							       "metadata"), "email"), "attachments");
	for (i = 0; i < json_array_size(atts); i++) {
		json_t *a = json_array_get(atts, i);

		if (strcmp(fl_json_str(a, "filename", ""), "original.eml"))
			continue;
		found = true;
		assert_int_equal(store_blob_get(f->st, fl_json_str(a, "sha256", ""), &data, &len, NULL), STORE_OK);
		assert_int_equal(len, strlen(raw));
		assert_memory_equal(data, raw, len);
		free(data);
	}
	assert_true(found);
	json_decref(t);
	email_intake_result_release(&r);
}

static void test_intake_refuses_non_messages_and_stores_nothing(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *list = NULL;

	assert_int_equal(email_intake(f->st, "", 0, &f->o, &r), EMAIL_ENOTMSG);
	assert_non_null(r.detail);
	email_intake_result_release(&r);
	assert_int_equal(email_intake(f->st, "\x7f" "ELF\x02\x01\x01\0\0\0", 10, &f->o, &r), EMAIL_ENOTMSG);
	email_intake_result_release(&r);
	f->o.limits.max_message = 64;
	assert_int_equal(email_intake(f->st, first_mail, strlen(first_mail), &f->o, &r), EMAIL_ETOOBIG);
	assert_non_null(strstr(r.detail, "over the limit"));
	email_intake_result_release(&r);
	assert_int_equal(store_mail_raw_list(f->st, NULL, 0, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static void test_intake_temporary_failure_then_retry(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *list = NULL;

	/* the raw message cannot even be kept: temporary, nothing stored */
	store_fault_inject(f->st, "store_mail_raw_put", 1, STORE_EFULL);
	assert_int_equal(email_intake(f->st, first_mail, strlen(first_mail), &f->o, &r), EMAIL_ETEMP);
	email_intake_result_release(&r);
	assert_int_equal(store_mail_raw_list(f->st, NULL, 0, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* kept, but the ticket's transaction meets a locked store */
	store_fault_inject(f->st, "store_ticket_intake", 1, STORE_EBUSY);
	assert_int_equal(email_intake(f->st, first_mail, strlen(first_mail), &f->o, &r), EMAIL_ETEMP);
	email_intake_result_release(&r);
	assert_int_equal(store_mail_raw_list(f->st, "received", 0, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	/* the mail server's retry: one ticket, one job */
	INTAKE_OK(f, first_mail, &r);
	assert_int_equal(r.outcome, EMAIL_NEW_TICKET);
	assert_int_equal(jobs_queued(f), 1);
	email_intake_result_release(&r);
	assert_int_equal(store_mail_raw_list(f->st, "received", 0, &list), STORE_OK);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static void test_intake_permanent_failure_is_quarantined(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r;
	json_t *t;

	store_fault_inject(f->st, "store_ticket_intake", 1, STORE_ECONSTRAINT);
	INTAKE_OK(f, first_mail, &r);
	assert_int_equal(r.outcome, EMAIL_QUARANTINED);
	t = ticket(f, r.ticket_id);
	assert_true(fl_json_bool(t, "quarantined", false));
	assert_non_null(strstr(fl_json_str(t, "content", ""), "refused"));
	json_decref(t);
	email_intake_result_release(&r);
}

static void test_intake_bounce_joins_its_ticket(void **state)
{
	struct fx *f = *state;
	struct email_intake_result r, b;
	struct email_outgoing out = { 0 };
	char *raw = NULL, *ours = NULL, *bounce, secret[EMAIL_SECRET_LEN + 1];
	size_t len;
	json_t *t;

	INTAKE_OK(f, first_mail, &r);
	assert_int_equal(email_ticket_secret(f->st, r.ticket_id, secret), EMAIL_OK);
	out.from_addr = "help@help.example.com";
	out.to_addr = "ann@example.com";
	out.subject = "Cannot log in";
	out.body = "Hello";
	out.ticket_number = r.ticket_number;
	out.ticket_secret = secret;
	out.automatic = true;
	out.domain = "help.example.com";
	assert_int_equal(email_compose(&out, &raw, &len, &ours), EMAIL_OK);
	bounce = fl_asprintf("From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail\r\n"
			     "Message-ID: <bounce1@mx>\r\n"
			     "Content-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
			     "--r\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n"
			     "--r\r\nContent-Type: message/rfc822\r\n\r\n%s\r\n--r--\r\n", raw);
	INTAKE_OK(f, bounce, &b);
	assert_int_equal(b.outcome, EMAIL_APPENDED);
	assert_string_equal(b.ticket_id, r.ticket_id);
	assert_true(b.noise & EMAIL_NOISE_BOUNCE);
	assert_false(b.reopened);
	/* the mail server is not on the ticket: its report waits for an agent */
	assert_true(b.pending);
	t = ticket(f, r.ticket_id);
	assert_int_equal(json_array_size(json_object_get(t, "messages")), 2);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(t, "messages"), 1), "approval", ""), "pending");
	json_decref(t);
	email_intake_result_release(&b);
	email_intake_result_release(&r);
	free(bounce);
	free(raw);
	free(ours);
}

/* ---- every corpus message through intake ---- */

#if defined(__SANITIZE_ADDRESS__)
#define SPAM_EVERY 3
#else
#define SPAM_EVERY 1
#endif

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct fl_buf b = FL_BUF_INIT;
	char tmp[65536];
	size_t n;

	if (!fp)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		fl_buf_add(&b, tmp, n);
	fclose(fp);
	return fl_buf_detach(&b, len);
}

struct corpus_tally {
	size_t messages, outcomes[4];
};

static void intake_dir(struct fx *f, const char *dir, const char *suffix, const char *prefix, int every,
		       struct corpus_tally *t)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int k = 0;

	if (!d)
		fail_msg("cannot open '%s'", dir);
	while ((e = readdir(d))) {
		char *path, *raw;
		size_t len;
		struct email_intake_result r;
		int rc;

		if (e->d_name[0] == '.' || !fl_str_has_suffix(e->d_name, suffix) ||
		    (prefix && !fl_str_has_prefix(e->d_name, prefix)) || k++ % every)
			continue;
		path = fl_asprintf("%s/%s", dir, e->d_name);
		raw = slurp(path, &len);
		assert_non_null(raw);
		rc = email_intake(f->st, raw, len, &f->o, &r);
		if (rc != EMAIL_OK)
			fail_msg("%s: %s: %s", path, email_errname(rc), r.detail ? r.detail : "");
		t->messages++;
		t->outcomes[r.outcome]++;
		email_intake_result_release(&r);
		free(raw);
		free(path);
	}
	closedir(d);
}

static void test_intake_every_corpus_message_is_kept(void **state)
{
	static const char *const spam_dirs[] = { "easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2" };
	struct fx *f = *state;
	const char *data = test_data_dir();
	struct corpus_tally t = { 0 };
	json_t *raws = NULL, *counts = NULL;
	char *dir;
	size_t i, unlinked = 0;
	int64_t t0 = fl_mono_us();

	if (!data) {
		print_message("skipped: no data directory at FRONTLINE_DATA_DIR\n");
		skip();
		return;
	}
	dir = fl_asprintf("%s/email/cpython-test_email", data);
	intake_dir(f, dir, ".txt", "msg_", 1, &t);
	free(dir);
	dir = fl_asprintf("%s/email/mime4j-testmsgs/testmsgs", data);
	intake_dir(f, dir, ".msg", NULL, 1, &t);
	free(dir);
	dir = fl_asprintf("%s/email/mime4j-testmsgs/mimetools-testmsgs", data);
	intake_dir(f, dir, ".msg", NULL, 1, &t);
	free(dir);
	/*
	 * All 6,046 spamassassin mails in the plain build; under ASan a stable
	 * third (test_email_corpus parses every one of them under ASan too).
	 */
	for (i = 0; i < FL_ARRAY_SIZE(spam_dirs); i++) {
		dir = fl_asprintf("%s/email/spamassassin/%s", data, spam_dirs[i]);
		intake_dir(f, dir, ".eml", NULL, SPAM_EVERY, &t);
		free(dir);
	}
	print_message("intake: %zu corpus messages in %.1f s: %zu tickets, %zu appended, %zu duplicates, "
		      "%zu quarantined\n", t.messages, (double)(fl_mono_us() - t0) / 1e6,
		      t.outcomes[EMAIL_NEW_TICKET], t.outcomes[EMAIL_APPENDED], t.outcomes[EMAIL_DUPLICATE],
		      t.outcomes[EMAIL_QUARANTINED]);
	assert_true(t.messages > 6046 / SPAM_EVERY);
	/* none lost: every raw record is linked to a ticket */
	assert_int_equal(store_mail_raw_list(f->st, NULL, 500, &raws), STORE_OK);
	for (i = 0; i < json_array_size(raws); i++)
		if (!fl_json_str(json_array_get(raws, i), "ticket_id", NULL))
			unlinked++;
	assert_int_equal(unlinked, 0);
	assert_int_equal(store_mail_raw_list(f->st, "received", 500, &counts), STORE_OK);
	assert_int_equal(json_array_size(counts), 0);
	json_decref(counts);
	assert_int_equal(store_mail_raw_list(f->st, "failed", 500, &counts), STORE_OK);
	assert_int_equal(json_array_size(counts), 0);
	json_decref(raws);
	json_decref(counts);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_intake_new_ticket_with_job),
		T(test_intake_retries_are_duplicates),
		T(test_intake_replies_thread_and_reopen),
		T(test_intake_stranger_cannot_hijack_a_thread),
		T(test_intake_secret_keys_and_approval),
		T(test_intake_thread_by_subject_is_optional),
		T(test_intake_noise_and_rate_limit),
		T(test_intake_attachments_are_blobs),
		T(test_intake_quarantine_keeps_the_raw),
		T(test_intake_refuses_non_messages_and_stores_nothing),
		T(test_intake_temporary_failure_then_retry),
		T(test_intake_permanent_failure_is_quarantined),
		T(test_intake_bounce_joins_its_ticket),
		T(test_intake_every_corpus_message_is_kept),
	};

	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	email_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
