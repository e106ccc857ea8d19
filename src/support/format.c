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
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *e = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;"
				: s[i] == '"' ? "&quot;" : s[i] == '\'' ? "&#39;" : NULL;

		if (!e)
			continue;
		fl_buf_add(out, s + run, i - run);
		fl_buf_adds(out, e);
		run = i + 1;
	}
	fl_buf_add(out, s + run, n - run);
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

/* The next place a mark may start: "*", "_" or "`". */
static const char *next_mark(const char *p)
{
	return p + strcspn(p, "*_`");
}

void support__md_plain(struct fl_buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *m = next_mark(p), *close;
		size_t n;

		fl_buf_add(out, p, (size_t)(m - p));
		if (!*m)
			break;
		n = mark_at(m, s);
		close = n ? closing_mark(m, n) : NULL;
		if (close) {
			fl_buf_add(out, m + n, (size_t)(close - m - n));
			p = close + n;
		} else {
			fl_buf_addch(out, *m);
			p = m + 1;
		}
	}
}

void support__md_html(struct fl_buf *out, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *m = next_mark(p), *close;
		size_t n;

		support__html_escape(out, p, (size_t)(m - p));
		if (!*m)
			break;
		n = mark_at(m, s);
		close = n ? closing_mark(m, n) : NULL;
		if (close) {
			const char *tag = n == 2 ? "strong" : *m == '`' ? "code" : "em";

			fl_buf_addch(out, '<');
			fl_buf_adds(out, tag);
			fl_buf_addch(out, '>');
			support__html_escape(out, m + n, (size_t)(close - m - n));
			fl_buf_adds(out, "</");
			fl_buf_adds(out, tag);
			fl_buf_addch(out, '>');
			p = close + n;
		} else {
			support__html_escape(out, m, 1);
			p = m + 1;
		}
	}
}
