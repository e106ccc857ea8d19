/*
 * Fuzz target: the email parser on raw bytes, as `frontline mail-in`, POST
 * /api/v1/mail and the IMAP poller hand it a message: email_precheck, then
 * email_parse (GMime, the RFC 2047 work-around, charsets, the body walk,
 * HTML to text, reply trimming, noise and spam headers), then what intake
 * reads from the result (the metadata JSON, the subject's threading keys).
 *
 * Checked (email.h): a parsed message has a Message-ID and a subject; its
 * text is valid UTF-8 with LF line ends; content is no longer than
 * max_content characters; the metadata encodes as JSON.
 */
#include <string.h>

#include "fuzz.h"
#include "channels/email/email.h"
#include "util/util.h"

static void check_text(const char *s)
{
	if (!s)
		return;
	FUZZ_CHECK(fl_utf8_invalid_at(s, strlen(s)) < 0);
	FUZZ_CHECK(!strchr(s, '\r'));
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct email_limits lim = { .max_message = 1 << 20, .max_attachment = 64 << 10, .max_attachments = 8,
				    .max_content = 2000 };
	struct email_msg msg;
	char *why = NULL, number[32], secret[EMAIL_SECRET_MAX + 1], *norm, *text;
	json_t *meta;
	int rc;

	rc = email_precheck(data, size, &lim, &why);
	free(why);
	why = NULL;
	if (rc != EMAIL_OK)
		return 0;
	memset(&msg, 0, sizeof(msg));
	rc = email_parse(data, size, &lim, "support.example.com", &msg, &why);
	if (rc != EMAIL_OK) {
		FUZZ_CHECK(rc == EMAIL_ENOTMSG || rc == EMAIL_ETOOBIG);
		free(why);
		return 0;
	}
	FUZZ_CHECK(msg.message_id && *msg.message_id);
	FUZZ_CHECK(msg.subject);
	check_text(msg.subject);
	check_text(msg.body);
	check_text(msg.content);
	check_text(msg.from.name);
	if (msg.content)
		FUZZ_CHECK(chars(msg.content) <= lim.max_content);
	FUZZ_CHECK(msg.n_attachments <= lim.max_attachments);
	FUZZ_CHECK(msg.raw_size == size);

	meta = email_msg_to_json(&msg);
	FUZZ_CHECK(meta);
	text = fl_json_dumps(meta);
	FUZZ_CHECK(text);
	free(text);
	json_decref(meta);
	meta = email_noise_names(msg.noise);
	json_decref(meta);
	meta = email_spam_to_json(&msg.spam);
	json_decref(meta);

	/* what intake reads to thread it */
	if (email_subject_tag_parse(msg.subject, NULL, number, secret))
		FUZZ_CHECK(fl_ticket_tag_form(number) && strlen(secret) <= EMAIL_SECRET_MAX);
	norm = email_subject_normalize(msg.subject);
	check_text(norm);
	free(norm);
	email_msg_release(&msg);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	email_init();
	return 0;
}
