/*
 * Whether an agent's reply asks the customer something (issue 18): the
 * rule that sets a ticket `pending` (its SLA clocks paused until the
 * customer answers) when the agent did not say either way.
 *
 * The reply asks when its last line of at least four words ends with a
 * question mark ('?' or the full-width U+FF1F), closing quotes and
 * brackets after it allowed. Quoted lines ("> ...") are not the agent's
 * and do not count; short lines (a greeting, "Thanks!", a name) are read
 * as the sign-off, so "Could you send the order number?\n\nThanks!\nAnn"
 * asks, and "Did you restart it? It works now." does not: the question
 * must be where the reply ends.
 */
#include <string.h>

#include "text.h"

#define MIN_WORDS 4

static size_t words_in(const char *s, size_t n)
{
	size_t i, w = 0;
	bool in = false;

	for (i = 0; i < n; i++) {
		bool sp = s[i] == ' ' || s[i] == '\t' || s[i] == '\r';

		if (!sp && !in)
			w++;
		in = !sp;
	}
	return w;
}

/* Whether line s[0..n) ends with a question mark, closing quotes, brackets and spaces after it ignored. */
static bool ends_with_question(const char *s, size_t n)
{
	static const char *const closers[] = { "\xe2\x80\x9d", "\xe2\x80\x99", "\xc2\xbb", ")", "]", "\"", "'", " ",
					       "\t", "\r", NULL };
	bool cut = true;
	size_t k;

	while (n && cut) {
		cut = false;
		for (k = 0; closers[k] && !cut; k++) {
			size_t c = strlen(closers[k]);

			if (n >= c && !memcmp(s + n - c, closers[k], c)) {
				n -= c;
				cut = true;
			}
		}
	}
	return (n >= 1 && s[n - 1] == '?') || (n >= 3 && !memcmp(s + n - 3, "\xef\xbc\x9f", 3));
}

bool text_asks_question(const char *reply)
{
	const char *line = reply, *last = NULL;
	size_t last_len = 0;

	while (line && *line) {
		size_t n = strcspn(line, "\n");
		const char *s = line;

		while (s < line + n && (*s == ' ' || *s == '\t'))
			s++;
		if (*s != '>' && words_in(s, (size_t)(line + n - s)) >= MIN_WORDS) {
			last = s;
			last_len = (size_t)(line + n - s);
		}
		line += n + (line[n] == '\n');
	}
	return last && ends_with_question(last, last_len);
}
