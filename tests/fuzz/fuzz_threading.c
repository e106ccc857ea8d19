/*
 * Fuzz target: the email channel's threading keys, which strangers write:
 * the subject tag "[Frontline #T-000042-k3q9x7m2ab]" (email_subject_tag_parse,
 * email_subject_with_tag, email_subject_normalize), our Message-IDs
 * "frontline.T-000042.<secret>.o17@domain" (email__our_id_parse), the ticket
 * number "T-000042" (fl_ticket_tag_parse, src/util/vocab.c), and the RFC 2047
 * header decoding with its work-around for GMime (email__header_decode,
 * src/channels/email/rfc2047.c). The input is all of these at once: a
 * subject, a Message-ID, a ticket number and a raw header value.
 *
 * Checked (email.h, util.h): a tag found names a ticket number (in its
 * canonical form, from a subject) and a secret of at most EMAIL_SECRET_MAX letters and
 * digits; a subject given our tag by email_subject_with_tag is read back
 * with that ticket and secret, whatever it held before (a forged or stale
 * tag never wins); a Message-ID of ours we make is read back; decoded
 * headers and normalized subjects are valid UTF-8.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "channels/email/email_int.h"
#include "util/util.h"

static GMimeParserOptions *opts;

static void check_utf8(const char *s)
{
	FUZZ_CHECK(s && fl_utf8_invalid_at(s, strlen(s)) < 0);
}

/* A ticket number and secret as read from a key; a subject tag's number is normalized (6 digits at least). */
static void check_tag(const char *number, const char *secret, bool normalized)
{
	char again[FL_TICKET_TAG_SIZE];
	const char *p;

	FUZZ_CHECK(fl_ticket_tag_form(number));
	FUZZ_CHECK(strlen(secret) <= EMAIL_SECRET_MAX);
	for (p = secret; *p; p++)
		FUZZ_CHECK(isdigit((unsigned char)*p) || islower((unsigned char)*p));
	if (normalized && fl_ticket_tag_parse(number) > 0) {
		fl_ticket_tag(again, fl_ticket_tag_parse(number));
		FUZZ_CHECK(!strcmp(again, number));
	}
}

static void subject(const char *s, const char *tag)
{
	char number[32], secret[EMAIL_SECRET_MAX + 1], *with, *norm;

	if (email_subject_tag_parse(s, tag, number, secret))
		check_tag(number, secret, true);
	/* ours replaces whatever tag was there */
	with = email_subject_with_tag(s, tag, "T-000042-k3q9x7m2ab");
	FUZZ_CHECK(email_subject_tag_parse(with, tag, number, secret));
	FUZZ_CHECK(!strcmp(number, "T-000042") && !strcmp(secret, "k3q9x7m2ab"));
	free(with);
	with = email_subject_with_tag(s, tag, "T-000007");
	FUZZ_CHECK(email_subject_tag_parse(with, tag, number, secret));
	FUZZ_CHECK(!strcmp(number, "T-000007") && !*secret);
	free(with);
	if (fl_utf8_invalid_at(s, strlen(s)) < 0) {
		norm = email_subject_normalize(s);
		check_utf8(norm);
		free(norm);
	}
}

static void message_id(const char *id)
{
	char number[32], secret[EMAIL_SECRET_MAX + 1], *ours;

	if (email__our_id_parse(id, "support.example.com", number, secret)) {
		FUZZ_CHECK(email_message_id_is_ours(id, "support.example.com"));
		check_tag(number, secret, false);
	}
	/* one of ours, with this id's text as its last part */
	ours = fl_asprintf("frontline.T-000042.k3q9x7m2ab.%s@support.example.com", id);
	if (!strchr(id, '@')) {
		FUZZ_CHECK(email__our_id_parse(ours, "support.example.com", number, secret));
		FUZZ_CHECK(!strcmp(number, "T-000042") && !strcmp(secret, "k3q9x7m2ab"));
	}
	free(ours);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *subj = fuzz_take(&data, &size, "\n"), *id = fuzz_take(&data, &size, "\n");
	char *num = fuzz_take(&data, &size, "\n"), *raw = fuzz_string(data, size), *dec, *merged;
	int64_t n = fl_ticket_tag_parse(num);

	subject(subj, NULL);
	subject(subj, "Acme Support");
	message_id(id);
	if (n > 0)
		FUZZ_CHECK(fl_ticket_tag_form(num));
	merged = email__rfc2047_merge(raw);
	FUZZ_CHECK(merged);
	dec = email__header_decode(opts, raw);
	check_utf8(dec);
	free(dec);
	free(merged);
	free(subj);
	free(id);
	free(num);
	free(raw);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	email_init();
	opts = email__parser_options();
	return 0;
}
