/*
 * Fuzz target: the email body's text helpers, in the order the parser uses
 * them on a part (src/channels/email/body.c): email_to_utf8 (a declared
 * charset, windows-1252 for the undeclared or wrong), text_html_to_text
 * (src/text/html.c, shared with the KB sync: tags, comments, script and
 * style, entities, lists, links) and
 * email_trim_reply (quoted lines, attributions, signatures, forwarded
 * blocks). The first line of the input is the charset ("" for none); the
 * rest is the part's bytes.
 *
 * Checked (email.h, text.h): each step gives valid UTF-8 with LF line ends and no
 * NUL, whatever the bytes; the trimmed reply is never longer than its text.
 */
#include <string.h>

#include "fuzz.h"
#include "channels/email/email.h"
#include "text/text.h"
#include "util/util.h"

static void check_text(const char *s)
{
	FUZZ_CHECK(s);
	FUZZ_CHECK(fl_utf8_invalid_at(s, strlen(s)) < 0);
	FUZZ_CHECK(!strchr(s, '\r'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *charset = fuzz_take(&data, &size, "\n"), *utf8, *text, *trimmed, *direct;
	bool fallback = false;

	utf8 = email_to_utf8((const char *)data, size, charset, &fallback);
	check_text(utf8);
	text = text_html_to_text(utf8);
	check_text(text);
	trimmed = email_trim_reply(text);
	check_text(trimmed);
	FUZZ_CHECK(strlen(trimmed) <= strlen(text));
	/* a text/plain part is trimmed as it is */
	direct = email_trim_reply(utf8);
	check_text(direct);
	free(direct);
	free(trimmed);
	free(text);
	free(utf8);
	free(charset);
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
