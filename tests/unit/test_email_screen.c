/*
 * What email intake screens before a person or the triage sees a message:
 * spam verdicts (the mail server's headers: a "yes" decides, a forged "no"
 * does not; a real spamd started by the harness, on SpamAssassin's own
 * corpus messages, and a spamd that is not there; intake with
 * FRONTLINE_SPAMD: the verdict in the ticket's metadata, no automatic reply,
 * no new CRM customer for spam), and a thank-you in an answered ticket's
 * thread, which marks it satisfied instead of reopening it. Also what the
 * automatic reply goes out as: plain text with an HTML alternative.
 */
#include "test_helpers.h"

#include <dirent.h>
#include <stdio.h>

#include "channels/email/email.h"
#include "spamd_harness.h"
#include "store/store.h"

static const char flagged[] =
	"From: deals@cheap-watches.example\r\nTo: help@example.com\r\nSubject: How do I reset my password?\r\n"
	"Message-ID: <s1@x>\r\nX-Spam-Flag: YES\r\n"
	"X-Spam-Status: Yes, score=9.3 required=5.0 tests=HTML_MESSAGE,URIBL_BLACK autolearn=no\r\n\r\n"
	"Best replica watches! http://cheap-watches.example/deal\r\n";

static const char forged_no[] =
	"From: deals@cheap-watches.example\r\nSubject: Hello\r\nMessage-ID: <s2@x>\r\nX-Spam-Flag: NO\r\n"
	"X-Spam-Status: No, score=-1.0 required=5.0\r\n\r\nBuy now.\r\n";

static const char status_only[] =
	"From: x@spam.example\r\nSubject: Win\r\nMessage-ID: <s3@x>\r\n"
	"X-Spam-Status: Yes, hits=12.5 required=6.0 tests=LOTS\r\n\r\nYou won.\r\n";

static const char plain[] =
	"From: Ann <ann@customer.example>\r\nSubject: Invoice question\r\nMessage-ID: <h1@x>\r\n\r\n"
	"Where can I download last month's invoice?\r\n";

static void parse(const char *raw, struct email_msg *m)
{
	char *why = NULL;

	assert_int_equal(email_parse(raw, strlen(raw), NULL, NULL, m, &why), EMAIL_OK);
	free(why);
}

static void test_spam_headers_yes_decides(void **state)
{
	struct email_msg m;
	json_t *j;

	(void)state;
	parse(flagged, &m);
	assert_int_equal(m.spam.verdict, EMAIL_SPAM_SPAM);
	assert_string_equal(m.spam.by, "X-Spam-Flag");
	assert_true(m.spam.score > 9.2 && m.spam.score < 9.4);
	assert_true(m.spam.threshold > 4.9 && m.spam.threshold < 5.1);
	j = email_spam_to_json(&m.spam);
	assert_string_equal(fl_json_str(j, "verdict", ""), "spam");
	json_decref(j);
	email_msg_release(&m);

	parse(status_only, &m);
	assert_int_equal(m.spam.verdict, EMAIL_SPAM_SPAM);
	assert_string_equal(m.spam.by, "X-Spam-Status");
	assert_true(m.spam.score > 12.4 && m.spam.threshold > 5.9);
	email_msg_release(&m);

	/* anyone can write "no" into a message: it is kept as a score, it decides nothing */
	parse(forged_no, &m);
	assert_int_equal(m.spam.verdict, EMAIL_SPAM_UNKNOWN);
	assert_true(m.spam.score == -1.0 || m.spam.score < 0);
	email_msg_release(&m);

	parse(plain, &m);
	assert_int_equal(m.spam.verdict, EMAIL_SPAM_UNKNOWN);
	assert_null(email_spam_to_json(&m.spam));
	email_msg_release(&m);
}

static void test_spamd_bad_address_and_no_server(void **state)
{
	struct email_spam v = { EMAIL_SPAM_UNKNOWN, -1, -1, "" };
	char *why = NULL;
	int port = test_free_port();
	char *addr = fl_asprintf("127.0.0.1:%d", port);

	(void)state;
	assert_int_equal(email_spamd_check("no-port", plain, strlen(plain), 500, &v, &why), EMAIL_EINVAL);
	assert_non_null(why);
	free(why);
	why = NULL;
	/* nothing listens there: a temporary failure, the verdict stays unknown */
	assert_int_equal(email_spamd_check(addr, plain, strlen(plain), 500, &v, &why), EMAIL_ETEMP);
	assert_non_null(strstr(why, "cannot connect"));
	assert_int_equal(v.verdict, EMAIL_SPAM_UNKNOWN);
	free(why);
	free(addr);
}

/* The raw bytes of the first file in data/email/spamassassin/<group>. Caller frees. */
static char *corpus_message(const char *group, size_t skip, size_t *len)
{
	char *dir = fl_asprintf("%s/email/spamassassin/%s", test_data_dir(), group), *path = NULL, *raw = NULL;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), i;
	size_t seen = 0;

	for (i = 0; i < n; i++) {
		if (!path && names[i]->d_name[0] != '.' && seen++ == skip)
			path = fl_asprintf("%s/%s", dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
	if (path) {
		FILE *f = fopen(path, "rb");
		struct fl_buf b = FL_BUF_INIT;
		char chunk[4096];
		size_t k;

		while (f && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fl_buf_add(&b, chunk, k);
		if (f)
			fclose(f);
		*len = b.len;
		raw = fl_buf_detach(&b, NULL);
	}
	free(path);
	free(dir);
	return raw;
}

struct spamd_fx {
	struct spamd_harness h;
	char *addr;
};

static int spamd_setup(void **state)
{
	struct spamd_fx *f = fl_calloc(1, sizeof(*f));

	*state = f;
	if (!spamd_harness_available())
		return 0;
	if (spamd_harness_start(&f->h, &f->addr)) {
		fprintf(stderr, "%s\n", spamd_harness_error(&f->h));
		return -1;
	}
	return 0;
}

static int spamd_teardown(void **state)
{
	struct spamd_fx *f = *state;

	spamd_harness_stop(&f->h);
	free(f->addr);
	free(f);
	return 0;
}

static void test_spamd_says_spam_and_ham(void **state)
{
	struct spamd_fx *f = *state;
	size_t i, len, spam_right = 0, ham_right = 0;

	if (!f->addr || !test_data_dir()) {
		print_message("skipped: spamd or ../shared/data is not installed\n");
		skip();
	}
	for (i = 0; i < 3; i++) {
		struct email_spam v = { EMAIL_SPAM_UNKNOWN, -1, -1, "" };
		char *why = NULL, *raw = corpus_message("spam-2", i * 7, &len);

		assert_non_null(raw);
		if (email_spamd_check(f->addr, raw, len, 60000, &v, &why) != EMAIL_OK)
			fail_msg("spamd: %s", why);
		assert_string_equal(v.by, "spamd");
		assert_true(v.threshold > 0);
		spam_right += v.verdict == EMAIL_SPAM_SPAM;
		free(raw);

		raw = corpus_message("easy-ham-2", i * 7, &len);
		assert_non_null(raw);
		if (email_spamd_check(f->addr, raw, len, 60000, &v, &why) != EMAIL_OK)
			fail_msg("spamd: %s", why);
		ham_right += v.verdict == EMAIL_SPAM_HAM;
		free(raw);
	}
	/* SpamAssassin's own corpus, offline rules: it need not be perfect, but mostly right */
	assert_true(spam_right >= 2);
	assert_int_equal(ham_right, 3);
}

static void test_intake_asks_spamd_and_creates_no_customer(void **state)
{
	struct spamd_fx *f = *state;
	struct email_intake_opts o = { 0 };
	struct email_intake_result r;
	struct store *st = NULL;
	char *dir, *url, *err = NULL, *raw;
	json_t *t = NULL, *c = NULL, *meta;
	size_t len, i;

	if (!f->addr || !test_data_dir()) {
		print_message("skipped: spamd or ../shared/data is not installed\n");
		skip();
		return;
	}
	dir = test_tmpdir();
	url = fl_asprintf("sqlite://%s/f.db?synchronous=off", dir);
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	o.domain = "help.example.com";
	o.spamd = f->addr;
	/* the first of the corpus's spam that spamd's offline rules call spam */
	for (i = 0;; i++) {
		struct email_spam v = { EMAIL_SPAM_UNKNOWN, -1, -1, "" };

		raw = corpus_message("spam-2", i, &len);
		assert_non_null(raw);
		assert_true(i < 20);
		if (email_spamd_check(f->addr, raw, len, 60000, &v, &err) == EMAIL_OK && v.verdict == EMAIL_SPAM_SPAM)
			break;
		free(err);
		err = NULL;
		free(raw);
	}
	assert_int_equal(email_intake(st, raw, len, &o, &r), EMAIL_OK);
	free(raw);
	assert_int_equal(store_ticket_get(st, r.ticket_id, false, &t), STORE_OK);
	meta = json_object_get(json_object_get(t, "metadata"), "email");
	assert_string_equal(fl_json_str(json_object_get(meta, "spam"), "by", ""), "spamd");
	assert_string_equal(fl_json_str(json_object_get(meta, "spam"), "verdict", ""), "spam");
	assert_false(fl_json_bool(meta, "auto_reply", true));
	assert_int_equal(store_customer_get(st, fl_json_str(t, "customer_id", ""), &c), STORE_ENOTFOUND);
	json_decref(t);
	t = NULL;
	email_intake_result_release(&r);

	/*
	 * a person's message: spamd says ham; the sender becomes a customer only
	 * when the triage's finish finds no spam either (test_support_autoreply)
	 */
	assert_int_equal(email_intake(st, plain, strlen(plain), &o, &r), EMAIL_OK);
	assert_int_equal(store_ticket_get(st, r.ticket_id, false, &t), STORE_OK);
	meta = json_object_get(json_object_get(t, "metadata"), "email");
	assert_string_equal(fl_json_str(json_object_get(meta, "spam"), "verdict", ""), "ham");
	assert_true(fl_json_bool(meta, "auto_reply", false));
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "customer_email", ""), "ann@customer.example");
	assert_int_equal(store_customer_get(st, fl_json_str(t, "customer_id", ""), &c), STORE_ENOTFOUND);
	email_intake_result_release(&r);
	json_decref(c);
	c = NULL;
	json_decref(t);
	t = NULL;

	/* the mail server's "yes" is enough: no customer, no reply, spamd not needed */
	o.spamd = NULL;
	assert_int_equal(email_intake(st, flagged, strlen(flagged), &o, &r), EMAIL_OK);
	assert_int_equal(store_ticket_get(st, r.ticket_id, false, &t), STORE_OK);
	meta = json_object_get(json_object_get(t, "metadata"), "email");
	assert_string_equal(fl_json_str(json_object_get(meta, "spam"), "verdict", ""), "spam");
	assert_false(fl_json_bool(meta, "auto_reply", true));
	assert_int_equal(store_customer_get(st, fl_json_str(t, "customer_id", ""), &c), STORE_ENOTFOUND);
	email_intake_result_release(&r);
	json_decref(t);
	store_close(st);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
	free(err);
}

static int intake(struct store *st, const struct email_intake_opts *o, const char *raw,
		  struct email_intake_result *r)
{
	return email_intake(st, raw, strlen(raw), o, r);
}

static void test_thank_you_reply_marks_the_ticket_satisfied(void **state)
{
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/t.db?synchronous=off", dir), *err = NULL;
	struct email_intake_opts o = { 0 };
	struct email_intake_result r, r2;
	struct store *st = NULL;
	json_t *t = NULL, *fields, *upd = NULL;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	o.domain = "help.example.com";
	assert_int_equal(intake(st, &o, plain, &r), EMAIL_OK);
	/* answered automatically */
	fields = json_pack("{s:s}", "status", "auto_replied");
	assert_int_equal(store_ticket_update(st, r.ticket_id, 0, fields, "test", &upd), STORE_OK);
	json_decref(fields);
	json_decref(upd);
	assert_int_equal(intake(st, &o, "From: Ann <ann@customer.example>\r\nSubject: Re: Invoice question\r\n"
				"Message-ID: <h2@x>\r\nIn-Reply-To: <h1@x>\r\n\r\nThanks, that fixed it!\r\n", &r2), EMAIL_OK);
	assert_int_equal(r2.outcome, EMAIL_APPENDED);
	assert_false(r2.reopened);
	assert_int_equal(store_ticket_get(st, r.ticket_id, false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "status", ""), "resolved");
	assert_true(fl_json_num(t, "satisfaction", 0) == 1.0);
	json_decref(t);
	email_intake_result_release(&r2);
	/* a thank-you to a resolved ticket does not reopen it; a question does */
	assert_int_equal(intake(st, &o, "From: ann@customer.example\r\nSubject: Re: Invoice question\r\n"
				"Message-ID: <h3@x>\r\nIn-Reply-To: <h1@x>\r\n\r\nThank you very much!\r\n", &r2), EMAIL_OK);
	assert_false(r2.reopened);
	email_intake_result_release(&r2);
	assert_int_equal(intake(st, &o, "From: ann@customer.example\r\nSubject: Re: Invoice question\r\n"
				"Message-ID: <h4@x>\r\nIn-Reply-To: <h1@x>\r\n\r\nThanks. How do I add a VAT number?\r\n",
				&r2), EMAIL_OK);
	assert_true(r2.reopened);
	email_intake_result_release(&r2);
	email_intake_result_release(&r);
	store_close(st);
	test_tmpdir_remove(dir);
	free(dir);
	free(url);
}

/* An automatic reply: multipart/alternative, the plain text first, then the HTML; both parse back. */
static void test_reply_has_an_html_alternative(void **state)
{
	struct email_outgoing o = { 0 };
	struct email_msg m;
	char *raw = NULL, *id = NULL, *why = NULL;
	size_t len = 0;

	(void)state;
	o.from_addr = "help@example.com";
	o.to_addr = "ann@customer.example";
	o.subject = "Dark mode";
	o.body = "Our help article \"Using Dark Mode\" covers this:\n1. Click Settings > Appearance.\n";
	o.html = "<p>Our help article &ldquo;Using Dark Mode&rdquo; covers this:</p>\n<ol>\n"
		 "<li>Click <strong>Settings &gt; Appearance</strong>.</li>\n</ol>\n";
	o.automatic = true;
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_OK);
	assert_non_null(strstr(raw, "multipart/alternative"));
	assert_non_null(strstr(raw, "text/plain; charset=utf-8"));
	assert_non_null(strstr(raw, "text/html; charset=utf-8"));
	assert_true(strstr(raw, "text/plain") < strstr(raw, "text/html"));
	/* a reader that takes the plain part gets the text without markup */
	assert_int_equal(email_parse(raw, len, NULL, NULL, &m, &why), EMAIL_OK);
	assert_non_null(strstr(m.body, "Click Settings > Appearance."));
	assert_null(strstr(m.body, "<strong>"));
	email_msg_release(&m);
	free(raw);
	free(id);
	free(why);
}

int main(void)
{
	const struct CMUnitTest plain_tests[] = {
		cmocka_unit_test(test_spam_headers_yes_decides),
		cmocka_unit_test(test_spamd_bad_address_and_no_server),
		cmocka_unit_test(test_thank_you_reply_marks_the_ticket_satisfied),
		cmocka_unit_test(test_reply_has_an_html_alternative),
	};
	const struct CMUnitTest spamd_tests[] = {
		cmocka_unit_test(test_spamd_says_spam_and_ham),
		cmocka_unit_test(test_intake_asks_spamd_and_creates_no_customer),
	};
	int rc = cmocka_run_group_tests_name("headers", plain_tests, NULL, NULL);

	return rc | cmocka_run_group_tests_name("spamd", spamd_tests, spamd_setup, spamd_teardown);
}
