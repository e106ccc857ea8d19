/*
 * Reply text for people: the articles are written in Markdown (**bold**,
 * *italic*, `code`), which must not reach a customer's plain-text mail as
 * asterisks. A reply is kept twice: plain text with the marks removed, and
 * an HTML alternative with them rendered and everything else escaped.
 */
#include <string.h>

#include "support_int.h"

void support__html_escape(struct fl_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': fl_buf_adds(out, "&amp;"); break;
		case '<': fl_buf_adds(out, "&lt;"); break;
		case '>': fl_buf_adds(out, "&gt;"); break;
		case '"': fl_buf_adds(out, "&quot;"); break;
		case '\'': fl_buf_adds(out, "&#39;"); break;
		default: fl_buf_addch(out, s[i]);
		}
	}
}

/* The length of a Markdown mark at s ("**", "*", "_", "`"), or 0. */
static size_t mark_at(const char *s, const char *start)
{
	if (s[0] == '*' && s[1] == '*')
		return 2;
	if (s[0] == '`')
		return 1;
	/* a single * or _ marks emphasis only at a word's edge: not in "2*3" or "snake_case" */
	if ((s[0] == '*' || s[0] == '_') &&
	    ((s == start || s[-1] == ' ' || s[-1] == '(') || s[1] == ' ' || s[1] == '\0' || strchr(".,;:!?)", s[1])))
		return 1;
	return 0;
}

/* Where the mark opened at s (length n) closes in s's text, or NULL. */
static const char *closing_mark(const char *s, size_t n)
{
	const char *p = s + n;

	for (; *p; p++)
		if (!strncmp(p, s, n) && (n == 2 || p[1] != s[0]))
			return p > s + n ? p : NULL;
	return NULL;
}

void support__md_plain(struct fl_buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n = mark_at(p, s);
		const char *close = n ? closing_mark(p, n) : NULL;

		if (close) {
			fl_buf_add(out, p + n, (size_t)(close - p - n));
			p = close + n;
			continue;
		}
		fl_buf_addch(out, *p++);
	}
}

void support__md_html(struct fl_buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n = mark_at(p, s);
		const char *close = n ? closing_mark(p, n) : NULL;

		if (close) {
			const char *tag = n == 2 ? "strong" : *p == '`' ? "code" : "em";

			fl_buf_addf(out, "<%s>", tag);
			support__html_escape(out, p + n, (size_t)(close - p - n));
			fl_buf_addf(out, "</%s>", tag);
			p = close + n;
			continue;
		}
		support__html_escape(out, p, 1);
		p++;
	}
}
