/*
 * The customer's own words in a message: what is left when quoted history
 * ("> ..." lines, "On ... wrote:" and everything after it, forwarded or
 * original-message blocks), the signature (after "-- ", "Sent from my ...",
 * a confidentiality footer, a closing such as "Best regards," on a line of
 * its own, or a name alone on the last line after a blank one) and the
 * greeting line ("Hi team,", "Dear Support,") are set aside. message.c
 * reads what is left sentence by sentence.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "support_int.h"

static bool line_is(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !strncasecmp(line, prefix, n);
}

/* A closing on a line of its own ("Best regards,", "Thanks!", "Cheers"): the signature follows. */
static bool closing_line(const char *line, size_t len)
{
	static const char *const closings[] = {
		"best", "best regards", "best wishes", "cheers", "kind regards", "many thanks", "met vriendelijke groet",
		"regards", "sincerely", "thank you", "thanks", "thanks a lot", "thanks again", "thank you very much",
		"warm regards", "warmly", "with kind regards", "with thanks", "yours", "yours sincerely",
		"yours faithfully", "all the best", "kind regards / met vriendelijke groet", "respectfully", "ty",
		"thx", "many thanks in advance", "thanks in advance", "thank you in advance",
	};
	char buf[64];
	size_t n = 0, i;

	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	while (len && (line[len - 1] == ',' || line[len - 1] == '!' || line[len - 1] == '.'))
		len--;
	if (!len || len >= sizeof(buf))
		return false;
	for (i = 0; i < len; i++)
		buf[n++] = (char)tolower((unsigned char)line[i]);
	buf[n] = '\0';
	for (i = 0; i < FL_ARRAY_SIZE(closings); i++)
		if (!strcmp(buf, closings[i]))
			return true;
	return false;
}

/* A greeting line: "Hi team,", "Hello", "Dear Support Team,", "Good morning,". */
static bool greeting_line(const char *line, size_t len)
{
	static const char *const greetings[] = { "hi", "hello", "hey", "dear", "good morning", "good afternoon",
						 "good evening", "good day", "greetings", "to whom it may concern",
						 "hallo", "bonjour", "hola" };
	size_t i, words = 1;

	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	for (i = 0; i < len; i++)
		words += line[i] == ' ';
	if (!len || words > 6 || (line[len - 1] != ',' && line[len - 1] != '!' && words > 3))
		return false;
	for (i = 0; i < FL_ARRAY_SIZE(greetings); i++) {
		size_t n = strlen(greetings[i]);

		if (len >= n && !strncasecmp(line, greetings[i], n) && (len == n || !isalpha((unsigned char)line[n])))
			return true;
	}
	return false;
}

/* Whether only blank lines follow. */
static bool line_has_more(const char *rest)
{
	for (; rest && *rest; rest++)
		if (!isspace((unsigned char)*rest))
			return true;
	return false;
}

/* One to three capitalised words and nothing else: a name signing off ("Annie", "Tom Whitaker"). */
static bool signed_name(const char *t, size_t tl)
{
	size_t i, words = 0;
	bool start = true;

	if (!tl || tl > 40)
		return false;
	for (i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == ' ') {
			start = true;
			continue;
		}
		if (start) {
			if (!isupper(c) && c < 0x80)
				return false;
			words++;
			start = false;
		} else if (!isalpha(c) && c != '.' && c != '-' && c != '\'' && c < 0x80) {
			return false;
		}
	}
	return words >= 1 && words <= 3;
}

void support__own_words(const char *content, struct fl_buf *out, bool *quoted, bool *signature)
{
	const char *line = content;
	bool first = true;

	*quoted = *signature = false;
	while (line && *line) {
		const char *nl = strchr(line, '\n'), *ls = line;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *t = line;
		size_t tl = len;

		t = fl_str_trim(t, &tl);
		line = nl ? nl + 1 : NULL;
		if (tl && *t == '>') {
			*quoted = true;
			continue;
		}
		if (line_is(t, tl, "-----Original Message") || line_is(t, tl, "----- Original Message") ||
		    line_is(t, tl, "---------- Forwarded message") || line_is(t, tl, "Begin forwarded message") ||
		    ((line_is(t, tl, "On ") || line_is(t, tl, "Am ") || line_is(t, tl, "Le ")) && tl > 8 &&
		     (!strncmp(t + tl - 6, "wrote:", 6) || !strncmp(t + tl - 1, ":", 1))) ||
		    (line_is(t, tl, "From: ") && !first && strstr(content, "\nSent: "))) {
			*quoted = true;
			break;
		}
		if ((tl == 2 && !strncmp(t, "--", 2)) || (len == 3 && !strncmp(ls, "-- ", 3)) ||
		    line_is(t, tl, "Sent from my ") || line_is(t, tl, "Get Outlook for") ||
		    line_is(t, tl, "Sent from Outlook") || line_is(t, tl, "This email and any attachments") ||
		    line_is(t, tl, "This e-mail and any attachments")) {
			*signature = true;
			break;
		}
		if (closing_line(t, tl) && out->len) {
			*signature = true;
			/* what follows the closing is the signature, and often the quoted thread under it */
			*quoted = line && (strstr(line, "\n>") || *line == '>' || strstr(line, " wrote:\n") ||
					   strstr(line, "Original Message"));
			break;
		}
		if (first && tl && greeting_line(t, tl)) {
			first = false;
			continue;
		}
		if (tl)
			first = false;
		/* a name alone on the last line, after a blank one: "\n\nAnnie" */
		if (!line_has_more(line) && signed_name(t, tl) && out->len >= 2 && out->buf[out->len - 1] == '\n' &&
		    out->buf[out->len - 2] == '\n') {
			*signature = true;
			break;
		}
		fl_buf_add(out, t, tl);
		fl_buf_addch(out, '\n');
	}
}
