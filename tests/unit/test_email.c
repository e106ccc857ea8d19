/*
 * email: charset conversion, HTML to text, reply trimming, threading keys,
 * parsing (structure, encodings, attachments, limits, noise, quarantine) and
 * outbound composition. Hand-written messages, one behaviour each; the
 * real-world corpora are in test_email_corpus.c.
 */
#include "test_helpers.h"

#include <sodium.h>

#include "channels/email/email.h"
#include "text/text.h"

/* ---- charset ---- */

static void test_to_utf8_declared_charsets(void **state)
{
	char *s;
	bool fb;

	(void)state;
	s = email_to_utf8("Gr\xfc\xdf" "e", 5, "iso-8859-1", &fb);
	assert_string_equal(s, "Gr\xC3\xBC\xC3\x9F" "e");
	assert_false(fb);
	free(s);
	/* "iso-8859-1" that really is windows-1252 (curly quotes at 0x93/0x94) */
	s = email_to_utf8("\x93x\x94", 3, "ISO-8859-1", NULL);
	assert_string_equal(s, "\xE2\x80\x9Cx\xE2\x80\x9D");
	free(s);
	s = email_to_utf8("\x93\xfa\x96{\x8c\xea\x83" "e\x83X\x83g", 12, "Shift_JIS", &fb);
	assert_string_equal(s, "日本語テスト");
	assert_false(fb);
	free(s);
	s = email_to_utf8("\x1b$BF|K\\8l%F%9%H\x1b(B", 18, "\"iso-2022-jp\"", NULL);
	assert_string_equal(s, "日本語テスト");
	free(s);
	s = email_to_utf8("\xd0\xd2\xc9\xd7\xc5\xd4", 6, "koi8-r", NULL);
	assert_string_equal(s, "привет");
	free(s);
}

static void test_to_utf8_falls_back_to_windows_1252(void **state)
{
	char *s;
	bool fb = false;

	(void)state;
	/* undeclared UTF-8 stays UTF-8 */
	s = email_to_utf8("caf\xC3\xA9", 5, NULL, &fb);
	assert_string_equal(s, "caf\xC3\xA9");
	assert_false(fb);
	free(s);
	/* "us-ascii" over Latin-1 bytes */
	s = email_to_utf8("caf\xe9", 4, "us-ascii", &fb);
	assert_string_equal(s, "caf\xC3\xA9");
	assert_true(fb);
	free(s);
	/* declared UTF-8 with one stray Latin-1 byte: the rest stays intact */
	s = email_to_utf8("\xC3\xA9t\xE9", 4, "utf-8", &fb);
	assert_string_equal(s, "\xC3\xA9t\xC3\xA9");
	assert_true(fb);
	free(s);
	/* a charset nobody knows */
	s = email_to_utf8("na\xefve", 5, "x-no-such-charset", &fb);
	assert_string_equal(s, "na\xC3\xAFve");
	free(s);
	/* an undefined windows-1252 byte becomes U+FFFD */
	s = email_to_utf8("a\x81z", 3, NULL, NULL);
	assert_string_equal(s, "a\xEF\xBF\xBDz");
	free(s);
}

static void test_to_utf8_normalizes_line_ends_and_nul(void **state)
{
	char *s;

	(void)state;
	s = email_to_utf8("a\r\nb\rc\0d\n", 9, "utf-8", NULL);
	assert_string_equal(s, "a\nb\ncd\n");
	free(s);
	/* an invalid sequence in a multibyte charset is replaced, not fatal */
	s = email_to_utf8("\x93\xfa\xff", 3, "shift_jis", NULL);
	assert_non_null(strstr(s, "日"));
	assert_non_null(strstr(s, "\xEF\xBF\xBD"));
	free(s);
}

/* ---- HTML ---- */

static void test_html_to_text(void **state)
{
	char *s;

	(void)state;
	s = text_html_to_text("<html><head><title>T</title><style>p{color:red}</style></head>"
			       "<body><p>Hello&nbsp;there,</p><p>my   order\n#42 &amp; &lt;3 "
			       "&eacute;&#233;&#xE9;&euro;&#8217;</p><script>alert(1)</script>"
			       "<!-- hidden --><ul><li>one</li><li>two</li></ul>"
			       "Line<br>break<br/>"
			       "<a href=\"https://example.com/x?a=1&amp;b=2\">the page</a> "
			       "<a href=\"mailto:a@b.c\">a@b.c</a></body></html>");
	assert_string_equal(s, "Hello there,\n\n"
			       "my order #42 & <3 \xC3\xA9\xC3\xA9\xC3\xA9\xE2\x82\xAC\xE2\x80\x99\n\n"
			       "- one\n- two\n"
			       "Line\nbreak\n"
			       "the page (https://example.com/x?a=1&b=2) a@b.c");
	free(s);
	/* a quoted reply in HTML becomes "> " lines, which the trimmer removes */
	s = text_html_to_text("<div>Thanks, it works now.</div><blockquote type=cite>"
			       "<div>Did you restart it?</div></blockquote>");
	assert_string_equal(s, "Thanks, it works now.\n> Did you restart it?");
	free(s);
	/* broken HTML: unclosed tags, a stray '<', unknown entities, <pre> keeps spaces */
	s = text_html_to_text("<b>a < b &bogus; c<pre>x   y\n  z</pre><p unclosed");
	assert_string_equal(s, "a < b &bogus; c\nx   y\n  z");
	free(s);
	s = text_html_to_text("");
	assert_string_equal(s, "");
	free(s);
}

/* ---- reply trimming ---- */

static void test_trim_gmail_reply(void **state)
{
	char *s;

	(void)state;
	s = email_trim_reply("Yes, that fixed it.\n\nThanks!\n\n"
			     "On Mon, Jan 8, 2024 at 10:02 AM Support <help@example.com>\n"
			     "wrote:\n\n> Please restart the router.\n>\n> Regards\n");
	assert_string_equal(s, "Yes, that fixed it.\n\nThanks!");
	free(s);
	s = email_trim_reply("Danke.\n\nAm 08.01.2024 um 10:02 schrieb Support <help@example.com>:\n> Alt\n");
	assert_string_equal(s, "Danke.");
	free(s);
}

static void test_trim_outlook_reply(void **state)
{
	char *s;

	(void)state;
	s = email_trim_reply("Still broken.\n\n-----Original Message-----\nFrom: Support\n"
			     "Sent: Monday\nTo: me\nSubject: RE: x\n\nOld text\n");
	assert_string_equal(s, "Still broken.");
	free(s);
	s = email_trim_reply("It crashed again.\n\n________________________________\n"
			     "From: Support <help@example.com>\nSent: Monday, January 8, 2024\n"
			     "To: Ann\nSubject: Your ticket\n\nOld\n");
	assert_string_equal(s, "It crashed again.");
	free(s);
	s = email_trim_reply("See below\n\nFrom: Support <help@example.com>\n"
			     "Date: Mon, 8 Jan 2024\nSubject: x\nTo: Ann\n\nOld\n");
	assert_string_equal(s, "See below");
	free(s);
}

static void test_trim_signatures_and_inline_answers(void **state)
{
	char *s;

	(void)state;
	s = email_trim_reply("The export fails.\n\n-- \nAnn Example\nACME Corp\n");
	assert_string_equal(s, "The export fails.");
	free(s);
	s = email_trim_reply("Call me back please.\n\nSent from my iPhone\n");
	assert_string_equal(s, "Call me back please.");
	free(s);
	/* inline answers between quotes are kept */
	s = email_trim_reply("> Which version?\n3.2\n> Which OS?\nDebian 12\n");
	assert_string_equal(s, "3.2\nDebian 12");
	free(s);
	/* a forwarded message is the content */
	s = email_trim_reply("---------- Forwarded message ---------\nFrom: Bob\n\nMy invoice is wrong\n");
	assert_non_null(strstr(s, "My invoice is wrong"));
	free(s);
	/* nothing of the sender's own: the whole text is kept */
	s = email_trim_reply("> only a quote\n");
	assert_string_equal(s, "> only a quote");
	free(s);
	/* a "--" deep in a long text is not a signature */
	{
		struct fl_buf b = FL_BUF_INIT;
		int i;

		fl_buf_adds(&b, "intro\n--\n");
		for (i = 0; i < 30; i++)
			fl_buf_addf(&b, "line %d\n", i);
		s = email_trim_reply(b.buf);
		assert_non_null(strstr(s, "line 29"));
		free(s);
		fl_buf_release(&b);
	}
}

/* ---- threading keys ---- */

static void test_subject_tag(void **state)
{
	char n[32];
	char *s;

	(void)state;
	assert_true(email_subject_tag_find("Re: Login [Frontline #T-000042]", NULL, n));
	assert_string_equal(n, "T-000042");
	assert_true(email_subject_tag_find("AW: [ frontline # t-42 ] x", "Frontline", n));
	assert_string_equal(n, "T-000042");
	assert_true(email_subject_tag_find("[Acme Help #T-7]", "Acme Help", n));
	assert_string_equal(n, "T-000007");
	assert_false(email_subject_tag_find("[Frontline #T-]", NULL, n));
	assert_false(email_subject_tag_find("[Other #T-000042]", NULL, n));
	assert_false(email_subject_tag_find("Frontline #T-000042", NULL, n));
	s = email_subject_with_tag("Login fails", NULL, "T-000042");
	assert_string_equal(s, "Login fails [Frontline #T-000042]");
	free(s);
	s = email_subject_with_tag("Re: Login fails [Frontline #T-000042]", NULL, "T-000042");
	assert_string_equal(s, "Re: Login fails [Frontline #T-000042]");
	free(s);
}

/* Tags with the ticket's secret: read with it, written in place of any tag of ours already there. */
static void test_subject_tag_with_secret(void **state)
{
	char n[32], sec[EMAIL_SECRET_MAX + 1];
	char *s;

	(void)state;
	assert_true(email_subject_tag_parse("Re: Login [Frontline #T-000042-K3q9x7m2ab]", NULL, n, sec));
	assert_string_equal(n, "T-000042");
	assert_string_equal(sec, "k3q9x7m2ab");
	assert_true(email_subject_tag_parse("Re: Login [Frontline #T-42]", NULL, n, sec));
	assert_string_equal(sec, "");
	assert_true(email_subject_tag_find("[Frontline #T-7-abc]", NULL, n));
	assert_string_equal(n, "T-000007");
	assert_false(email_subject_tag_parse("[Frontline #T-7-]", NULL, n, sec));
	assert_false(email_subject_tag_parse("[Frontline #T-7-a b]", NULL, n, sec));
	/* an old tag, another ticket's (forged) or a second one give way to the ticket's own */
	s = email_subject_with_tag("Re: Login [Frontline #T-000042] fails", NULL, "T-000042-k3q9x7m2ab");
	assert_string_equal(s, "Re: Login [Frontline #T-000042-k3q9x7m2ab] fails");
	free(s);
	s = email_subject_with_tag("Invoice [Frontline #T-000008] [frontline #T-9-zzzzzzzzzz]", NULL,
				   "T-000042-k3q9x7m2ab");
	assert_string_equal(s, "Invoice [Frontline #T-000042-k3q9x7m2ab]");
	free(s);
	s = email_subject_with_tag("", NULL, "T-000042-k3q9x7m2ab");
	assert_string_equal(s, "[Frontline #T-000042-k3q9x7m2ab]");
	free(s);
}

static void test_subject_normalize(void **state)
{
	char *s;

	(void)state;
	s = email_subject_normalize("  RE: Fwd: AW:  Login   FAILS [Frontline #T-000042] ");
	assert_string_equal(s, "login fails");
	free(s);
	s = email_subject_normalize("Re[2]: [support-l] Sv: Überweisung");
	assert_string_equal(s, "überweisung");
	free(s);
	s = email_subject_normalize("回复：订单");
	assert_string_equal(s, "订单");
	free(s);
	/* a word that merely starts like a prefix stays */
	s = email_subject_normalize("Refund please");
	assert_string_equal(s, "refund please");
	free(s);
}

/* ---- parsing ---- */

static struct email_msg parse_ok(const char *raw)
{
	struct email_msg m;
	char *why = NULL;

	assert_int_equal(email_parse(raw, strlen(raw), NULL, "help.example.com", &m, &why), EMAIL_OK);
	assert_null(why);
	return m;
}

static void test_parse_alternative_prefers_plain(void **state)
{
	struct email_msg m;

	(void)state;
	m = parse_ok("From: =?utf-8?q?Ann_M=C3=BCller?= <ann@example.com>\r\n"
		     "To: help@example.com, \"Bob\" <bob@example.com>\r\n"
		     "Subject: =?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4g4oCUIOKAnHF1b3RlZOKAnQ==?=\r\n"
		     "Message-ID: <abc@mail.example.com>\r\n"
		     "In-Reply-To: <p1@help.example.com>\r\n"
		     "References: <p0@x> <p1@help.example.com>\r\n"
		     "Date: Mon, 08 Jan 2024 10:00:00 +0100\r\n"
		     "MIME-Version: 1.0\r\n"
		     "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
		     "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		     "Gr=FC=DFe, the app cr=\r\nashes.\r\n"
		     "--b\r\nContent-Type: text/html\r\n\r\n<p>HTML version</p>\r\n--b--\r\n");
	assert_string_equal(m.from.addr, "ann@example.com");
	assert_string_equal(m.from.name, "Ann M\xC3\xBCller");
	assert_string_equal(m.subject, "Gr\xC3\xBC\xC3\x9F" "e aus K\xC3\xB6ln \xE2\x80\x94 \xE2\x80\x9Cquoted\xE2\x80\x9D");
	assert_string_equal(m.message_id, "abc@mail.example.com");
	assert_false(m.message_id_synthetic);
	assert_string_equal(m.in_reply_to, "p1@help.example.com");
	assert_int_equal(m.n_references, 2);
	assert_string_equal(m.references[0], "p0@x");
	assert_int_equal(json_array_size(m.to), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m.to, 1), "name")), "Bob");
	assert_int_equal(m.date_us, INT64_C(1704704400) * 1000000);
	assert_string_equal(m.body, "Gr\xC3\xBC\xC3\x9F" "e, the app crashes.");
	assert_false(m.body_from_html);
	assert_int_equal(m.n_attachments, 0);
	assert_int_equal(m.noise, 0);
	assert_null(m.quarantine);
	email_msg_release(&m);
}

static void test_parse_html_only_and_base64(void **state)
{
	struct email_msg m;

	(void)state;
	m = parse_ok("From: ann@example.com\nSubject: hi\nMIME-Version: 1.0\n"
		     "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
		     "PHA+wqFIb2xhIHNlw7FvciE8L3A+PHA+wr9RdcOpIHRhbD88L3A+\n");
	assert_true(m.body_from_html);
	assert_string_equal(m.body, "\xC2\xA1Hola se\xC3\xB1or!\n\n\xC2\xBFQu\xC3\xA9 tal?");
	/* no Message-ID: a synthetic one from the raw bytes' hash */
	assert_true(m.message_id_synthetic);
	assert_true(fl_str_has_suffix(m.message_id, "@frontline.invalid"));
	assert_int_equal(strlen(m.message_id), 64 + strlen("@frontline.invalid"));
	email_msg_release(&m);
}

static void test_parse_rfc2047_runs_gmime_drops(void **state)
{
	struct email_msg m;

	(void)state;
	/* adjacent padded base64 words: GMime 3.2 alone returns the first only */
	m = parse_ok("From: ann@example.com\n"
		     "Subject: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?=\n\t=?UTF-8?B?w6k=?= x =?utf-8?q?=C3=A9?=\n\nbody\n");
	assert_string_equal(m.subject, "\xC3\xA9\xC3\xA9\xC3\xA9 x \xC3\xA9");
	email_msg_release(&m);
	/* an ISO-2022-JP subject split over two words */
	m = parse_ok("From: ann@example.com\n"
		     "Subject: =?iso-2022-jp?B?GyRCRnxLXBsoQg==?=\n =?iso-2022-jp?B?GyRCOGwbKEI=?=\n\nbody\n");
	assert_string_equal(m.subject, "日本語");
	email_msg_release(&m);
	/* raw 8-bit headers take the body's charset */
	m = parse_ok("From: ann@example.com\nSubject: \xb1\xa4\xb0\xed\n"
		     "Content-Type: text/plain; charset=euc-kr\n\nx\n");
	assert_string_equal(m.subject, "광고");
	email_msg_release(&m);
}

static const char mixed_msg[] =
	"From: Ann <ann@example.com>\n"
	"Subject: invoice\n"
	"Message-ID: <m1@example.com>\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	"preamble\n"
	"--outer\nContent-Type: text/plain\n\nMy invoice is wrong, see attached.\n"
	"--outer\nContent-Type: application/pdf; name=\"inv.pdf\"\n"
	"Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\n"
	"Content-Transfer-Encoding: base64\n\n"
	"JVBERi0xLj4Kc3RhcnR4cmVmCjUzNjEwCiUlRU9GCg==\n"
	"--outer\nContent-Type: image/png\nContent-Disposition: inline\nContent-ID: <img1@x>\n"
	"Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
	"--outer\nContent-Type: text/plain; name=\"notes.txt\"\n"
	"Content-Disposition: attachment; filename=\"../../etc/notes.txt\"\n\nsecret notes\n"
	"--outer--\n";

static void test_parse_attachments(void **state)
{
	struct email_msg m;
	const char pdf[] = "%PDF-1.>\nstartxref\n53610\n%%EOF\n";
	char hex[65];
	struct email_attachment *a;
	json_t *j;

	(void)state;
	m = parse_ok(mixed_msg);
	assert_string_equal(m.body, "My invoice is wrong, see attached.");
	assert_int_equal(m.n_attachments, 3);
	a = &m.attachments[0];
	assert_string_equal(a->filename, "Rechnung M\xC3\xA4rz.pdf");
	assert_string_equal(a->content_type, "application/pdf");
	assert_int_equal(a->size, strlen(pdf));
	assert_memory_equal(a->data, pdf, strlen(pdf));
	{
		unsigned char h[32];

		crypto_hash_sha256(h, (const unsigned char *)pdf, strlen(pdf));
		fl_hex(hex, h, 32);
	}
	assert_string_equal(a->sha256, hex);
	assert_false(a->omitted);
	a = &m.attachments[1];
	assert_string_equal(a->content_type, "image/png");
	assert_true(a->is_inline);
	assert_string_equal(a->content_id, "img1@x");
	assert_string_equal(a->filename, "attachment-2");
	/* a file name never carries a path */
	assert_string_equal(m.attachments[2].filename, ".._.._etc_notes.txt");
	j = email_msg_to_json(&m);
	assert_int_equal(json_array_size(json_object_get(j, "attachments")), 3);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(j, "attachments"), 0), "sha256", ""), hex);
	json_decref(j);
	email_msg_release(&m);
}

static void test_parse_limits(void **state)
{
	struct email_limits lim = { 0 };
	struct email_msg m;
	char *why = NULL;

	(void)state;
	lim.max_attachment = 10;      /* the PDF (31 bytes) is over, the PNG (8) is not */
	lim.max_attachments = 2;
	assert_int_equal(email_parse(mixed_msg, strlen(mixed_msg), &lim, NULL, &m, &why), EMAIL_OK);
	assert_int_equal(m.n_attachments, 2);
	assert_int_equal(m.n_attachments_dropped, 1);
	assert_true(m.attachments[0].omitted);
	assert_null(m.attachments[0].data);
	assert_int_equal(m.attachments[0].size, 31);
	assert_int_equal(strlen(m.attachments[0].sha256), 64);
	assert_false(m.attachments[1].omitted);
	email_msg_release(&m);

	lim.max_message = 100;
	assert_int_equal(email_parse(mixed_msg, strlen(mixed_msg), &lim, NULL, &m, &why), EMAIL_ETOOBIG);
	assert_non_null(strstr(why, "over the limit"));
	free(why);

	/* content is capped (in characters, on a UTF-8 boundary); the body is not */
	{
		struct fl_buf b = FL_BUF_INIT;
		int i;

		fl_buf_adds(&b, "From: a@b.c\nSubject: long\nContent-Type: text/plain; charset=utf-8\n\n");
		for (i = 0; i < 20000; i++)
			fl_buf_adds(&b, "\xC3\xA9");
		memset(&lim, 0, sizeof(lim));
		assert_int_equal(email_parse(b.buf, b.len, &lim, NULL, &m, &why), EMAIL_OK);
		assert_int_equal(strlen(m.content), 20000);
		assert_int_equal(strlen(m.body), 40000);
		email_msg_release(&m);
		fl_buf_release(&b);
	}
}

static void test_parse_not_a_message(void **state)
{
	struct email_msg m;
	char *why = NULL;
	const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

	(void)state;
	assert_int_equal(email_parse("", 0, NULL, NULL, &m, &why), EMAIL_ENOTMSG);
	assert_string_equal(why, "empty input");
	free(why);
	assert_int_equal(email_parse(" \r\n\n", 4, NULL, NULL, &m, &why), EMAIL_ENOTMSG);
	free(why);
	assert_int_equal(email_parse(png, sizeof(png) - 1, NULL, NULL, &m, &why), EMAIL_ENOTMSG);
	assert_non_null(strstr(why, "binary"));
	free(why);
}

static void test_parse_quarantine(void **state)
{
	struct email_msg m;

	(void)state;
	/* text without a header: kept, quarantined, the text is the content */
	m = parse_ok("Hello, I never got my refund.\nPlease help.\n");
	assert_non_null(m.quarantine);
	assert_non_null(strstr(m.content, "never got my refund"));
	email_msg_release(&m);
	/* no sender address */
	m = parse_ok("Subject: who am I\n\nbody\n");
	assert_non_null(strstr(m.quarantine, "no sender"));
	email_msg_release(&m);
	/* Reply-To stands in for a missing From */
	m = parse_ok("Reply-To: r@example.com\nSubject: x\n\nbody\n");
	assert_null(m.quarantine);
	assert_string_equal(m.from.addr, "r@example.com");
	email_msg_release(&m);
	/* an mbox "From " line (Postfix pipe with the F flag) is skipped */
	m = parse_ok("From ann@example.com Mon Jan  8 10:00:00 2024\nFrom: ann@example.com\nSubject: s\n\nb\n");
	assert_null(m.quarantine);
	assert_string_equal(m.subject, "s");
	email_msg_release(&m);
	/* broken MIME: a multipart without its boundary still yields text */
	m = parse_ok("From: a@b.c\nContent-Type: multipart/mixed\n\nsome text\n");
	assert_null(m.quarantine);
	assert_non_null(strstr(m.body, "some text"));
	email_msg_release(&m);
}

static void test_parse_deep_nesting_is_quarantined(void **state)
{
	struct fl_buf b = FL_BUF_INIT;
	struct email_msg m;
	char *why = NULL;
	int i;

	(void)state;
	fl_buf_adds(&b, "From: a@b.c\nSubject: deep\n");
	for (i = 0; i < 60; i++)
		fl_buf_addf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	fl_buf_adds(&b, "Content-Type: text/plain\n\ndeep text\n");
	for (i = 59; i >= 0; i--)
		fl_buf_addf(&b, "--b%d--\n", i);
	assert_int_equal(email_parse(b.buf, b.len, NULL, NULL, &m, &why), EMAIL_OK);
	assert_non_null(m.quarantine);
	assert_non_null(strstr(m.quarantine, "nest"));
	email_msg_release(&m);
	fl_buf_release(&b);
}

static void test_parse_bounce_finds_original(void **state)
{
	struct email_msg m;

	(void)state;
	m = parse_ok("From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		     "Subject: Undelivered Mail Returned to Sender\nReturn-Path: <>\n"
		     "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
		     "--r\nContent-Type: text/plain\n\nI'm sorry to have to inform you...\n"
		     "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
		     "Final-Recipient: rfc822; x@y\nAction: failed\nStatus: 5.1.1\n"
		     "--r\nContent-Type: text/rfc822-headers\n\n"
		     "From: help@help.example.com\nMessage-ID: <frontline.T-000042.aa@help.example.com>\n"
		     "Subject: Re: x\n--r--\n");
	assert_true(m.noise & EMAIL_NOISE_BOUNCE);
	assert_true(m.noise & EMAIL_NOISE_NULL_SENDER);
	assert_string_equal(m.bounce_of, "frontline.T-000042.aa@help.example.com");
	assert_true(email_noise_blocks_autoreply(m.noise));
	email_msg_release(&m);
	/* the same with the original as message/rfc822 */
	m = parse_ok("From: postmaster@example.net\nSubject: failure\n"
		     "Content-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
		     "--r\nContent-Type: text/plain\n\nfailed\n"
		     "--r\nContent-Type: message/rfc822\n\n"
		     "From: help@help.example.com\nMessage-ID: <orig@help.example.com>\n\nhello\n--r--\n");
	assert_string_equal(m.bounce_of, "orig@help.example.com");
	assert_int_equal(m.n_attachments, 1);
	assert_string_equal(m.attachments[0].content_type, "message/rfc822");
	email_msg_release(&m);
}

static void test_noise_headers(void **state)
{
	static const struct {
		const char *headers;
		unsigned expect;
	} cases[] = {
		{ "Auto-Submitted: auto-replied\n", EMAIL_NOISE_AUTO_SUBMITTED },
		{ "Auto-Submitted: auto-generated; type=x\n", EMAIL_NOISE_AUTO_SUBMITTED },
		{ "Auto-Submitted: no\n", 0 },
		{ "Precedence: bulk\n", EMAIL_NOISE_BULK },
		{ "Precedence: JUNK\n", EMAIL_NOISE_BULK },
		{ "Precedence: list\n", EMAIL_NOISE_BULK },
		{ "Precedence: first-class\n", 0 },
		{ "List-Id: Users <users.lists.example.org>\n", EMAIL_NOISE_LIST },
		{ "List-Unsubscribe: <mailto:u@example.org>\n", EMAIL_NOISE_LIST },
		{ "X-Autoreply: yes\n", EMAIL_NOISE_AUTOREPLY },
		{ "X-Autorespond: on vacation\n", EMAIL_NOISE_AUTOREPLY },
		{ "X-Auto-Response-Suppress: DR, OOF\n", EMAIL_NOISE_SUPPRESS },
		{ "X-Auto-Response-Suppress: All\n", EMAIL_NOISE_SUPPRESS },
		{ "X-Auto-Response-Suppress: DR, NDR\n", 0 },
		{ "Return-Path: <>\n", EMAIL_NOISE_NULL_SENDER },
		{ "Return-Path: <ann@example.com>\n", 0 },
		{ "X-Frontline-Loop: help.example.com\n", EMAIL_NOISE_OURS },
		{ "X-Frontline-Loop: other.example.com\n", 0 },
		{ "Message-ID: <frontline.T-000001.ab@help.example.com>\n", EMAIL_NOISE_OURS },
		{ "Message-ID: <frontline.T-000001.ab@other.example.com>\n", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		char *raw = fl_asprintf("From: ann@example.com\nSubject: s\n%s\nbody\n", cases[i].headers);
		struct email_msg m = parse_ok(raw);

		if (m.noise != cases[i].expect)
			fail_msg("'%s': noise %#x, expected %#x", cases[i].headers, m.noise, cases[i].expect);
		email_msg_release(&m);
		free(raw);
	}
	{
		struct email_msg m = parse_ok("From: ann@example.com\nSubject: Automatic reply: your ticket\n\nI am away\n");
		json_t *names;

		assert_true(m.noise & EMAIL_NOISE_AUTOREPLY);
		names = email_noise_names(m.noise | EMAIL_NOISE_RATE);
		assert_string_equal(json_string_value(json_array_get(names, 0)), "autoreply");
		assert_string_equal(json_string_value(json_array_get(names, 1)), "rate_limited");
		json_decref(names);
		email_msg_release(&m);
	}
	assert_false(email_noise_blocks_autoreply(0));
	assert_true(email_message_id_is_ours("frontline.T-1.x@Help.Example.com", "help.example.com"));
	assert_false(email_message_id_is_ours("abc@help.example.com", "help.example.com"));
	assert_false(email_message_id_is_ours(NULL, NULL));
}

/* ---- composition ---- */

static void test_compose_reply(void **state)
{
	struct email_outgoing o = { 0 };
	json_t *refs = json_pack("[s, s]", "p0@x", "abc@mail.example.com");
	char *raw = NULL, *id = NULL;
	size_t len = 0;
	struct email_msg m;

	(void)state;
	o.from_addr = "help@help.example.com";
	o.from_name = "Acme Support";
	o.to_addr = "ann@example.com";
	o.to_name = "Ann M\xC3\xBCller";
	o.subject = "Gr\xC3\xBC\xC3\x9F" "e: login fails";
	o.ticket_number = "T-000042";
	o.body = "Hello Ann,\n\nplease try again. Gr\xC3\xBC\xC3\x9F" "e\n.\nA line with a dot above.";
	o.in_reply_to = "abc@mail.example.com";
	o.references = refs;
	o.automatic = true;
	o.domain = "help.example.com";
	o.date_us = INT64_C(1704704400) * 1000000;
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_OK);
	assert_int_equal(strlen(raw), len);
	assert_true(fl_str_has_prefix(id, "frontline.T-000042."));
	assert_true(email_message_id_is_ours(id, "help.example.com"));
	/* CRLF line ends throughout, no bare LF */
	for (size_t i = 0; i < len; i++)
		if (raw[i] == '\n')
			assert_true(i > 0 && raw[i - 1] == '\r');
	assert_non_null(strstr(raw, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(raw, "X-Auto-Response-Suppress: All\r\n"));
	assert_non_null(strstr(raw, "In-Reply-To: <abc@mail.example.com>\r\n"));
	assert_non_null(strstr(raw, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(raw, "charset=utf-8"));
	assert_non_null(strstr(raw, "Content-Transfer-Encoding: "));
	assert_non_null(strcasestr(raw, "Subject: Re: =?utf-8?")); /* RFC 2047 */
	/* and it reads back as what was meant */
	m = parse_ok(raw);
	assert_string_equal(m.subject, "Re: Gr\xC3\xBC\xC3\x9F" "e: login fails [Frontline #T-000042]");
	assert_string_equal(m.from.name, "Acme Support");
	assert_string_equal(json_string_value(json_object_get(json_array_get(m.to, 0), "name")), "Ann M\xC3\xBCller");
	assert_string_equal(m.message_id, id);
	assert_string_equal(m.in_reply_to, "abc@mail.example.com");
	assert_int_equal(m.n_references, 2);
	assert_string_equal(m.references[0], "p0@x");
	assert_string_equal(m.references[1], "abc@mail.example.com");
	assert_string_equal(m.body, "Hello Ann,\n\nplease try again. Gr\xC3\xBC\xC3\x9F" "e\n.\nA line with a dot above.");
	assert_int_equal(m.date_us, o.date_us);
	/* our own reply coming back is recognised */
	assert_true(m.noise & EMAIL_NOISE_AUTO_SUBMITTED);
	assert_true(m.noise & EMAIL_NOISE_OURS);
	email_msg_release(&m);
	free(raw);
	free(id);
	json_decref(refs);
}

static void test_compose_agent_reply_and_errors(void **state)
{
	struct email_outgoing o = { 0 };
	char *raw = NULL, *id = NULL;
	size_t len;

	(void)state;
	o.from_addr = "help@example.com";
	o.to_addr = "ann@example.com";
	o.subject = "Login";
	o.body = "plain ascii";
	o.ticket_number = "T-000001";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_OK);
	assert_null(strstr(raw, "Auto-Submitted"));
	assert_non_null(strstr(raw, "Subject: Login [Frontline #T-000001]\r\n"));
	assert_non_null(strstr(raw, "X-Frontline-Loop: frontline.invalid\r\n"));
	free(raw);
	free(id);
	/* header injection through an address is refused */
	o.to_addr = "ann@example.com\r\nBcc: all@example.com";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_EINVAL);
	assert_null(raw);
	assert_null(id);
	o.to_addr = "not-an-address";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_EINVAL);
	o.to_addr = "ann@example.com";
	o.in_reply_to = "bad id\r\nX: y";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_EINVAL);
	o.in_reply_to = NULL;
	o.subject = "evil\r\nBcc: all@example.com";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_OK);
	assert_null(strstr(raw, "\r\nBcc:"));
	free(raw);
	free(id);
	/* nor through a display name (the customer's own From header), on either side */
	o.to_name = "Ann\r\nBcc: all@example.com";
	o.from_name = "Help\nX-Evil: 1";
	assert_int_equal(email_compose(&o, &raw, &len, &id), EMAIL_OK);
	assert_null(strstr(raw, "\r\nBcc:"));
	assert_null(strstr(raw, "\nX-Evil:"));
	free(raw);
	free(id);
	o.to_name = o.from_name = NULL;
	assert_string_equal(email_errname(EMAIL_ENOTMSG), "EMAIL_ENOTMSG");
	assert_string_equal(email_strerror(EMAIL_ETOOBIG), "message is over the size limit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_to_utf8_declared_charsets),
		cmocka_unit_test(test_to_utf8_falls_back_to_windows_1252),
		cmocka_unit_test(test_to_utf8_normalizes_line_ends_and_nul),
		cmocka_unit_test(test_html_to_text),
		cmocka_unit_test(test_trim_gmail_reply),
		cmocka_unit_test(test_trim_outlook_reply),
		cmocka_unit_test(test_trim_signatures_and_inline_answers),
		cmocka_unit_test(test_subject_tag),
		cmocka_unit_test(test_subject_tag_with_secret),
		cmocka_unit_test(test_subject_normalize),
		cmocka_unit_test(test_parse_alternative_prefers_plain),
		cmocka_unit_test(test_parse_html_only_and_base64),
		cmocka_unit_test(test_parse_rfc2047_runs_gmime_drops),
		cmocka_unit_test(test_parse_attachments),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_not_a_message),
		cmocka_unit_test(test_parse_quarantine),
		cmocka_unit_test(test_parse_deep_nesting_is_quarantined),
		cmocka_unit_test(test_parse_bounce_finds_original),
		cmocka_unit_test(test_noise_headers),
		cmocka_unit_test(test_compose_reply),
		cmocka_unit_test(test_compose_agent_reply_and_errors),
	};

	email_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
