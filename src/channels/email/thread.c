/*
 * Threading keys that need no store: the subject tag that carries a ticket's
 * number ("[Frontline #T-000042]") and the normalized subject used by the
 * optional same-sender-same-subject rule. Finding the ticket from these keys
 * (and from Message-ID / In-Reply-To / References) is intake.c's part.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parses "[<tag> #T-000042]" at s; returns the end past ']' or NULL. */
static const char *tag_at(const char *s, const char *tag, char out[32])
{
	size_t tlen = strlen(tag);
	long long num = 0;
	int digits = 0;

	if (*s != '[')
		return NULL;
	s = skip_ws(s + 1);
	if (strncasecmp(s, tag, tlen))
		return NULL;
	s = skip_ws(s + tlen);
	if (*s != '#')
		return NULL;
	s = skip_ws(s + 1);
	if ((*s != 'T' && *s != 't') || s[1] != '-')
		return NULL;
	s += 2;
	while (isdigit((unsigned char)*s) && digits < 12) {
		num = num * 10 + (*s - '0');
		s++;
		digits++;
	}
	if (!digits || isdigit((unsigned char)*s))
		return NULL;
	s = skip_ws(s);
	if (*s != ']')
		return NULL;
	if (out)
		fl_ticket_tag(out, num);
	return s + 1;
}

bool email_subject_tag_find(const char *subject, const char *tag, char out[32])
{
	const char *s;

	if (!subject)
		return false;
	if (!tag || !*tag)
		tag = EMAIL_DEFAULT_TAG;
	for (s = strchr(subject, '['); s; s = strchr(s + 1, '['))
		if (tag_at(s, tag, out))
			return true;
	return false;
}

char *email_subject_with_tag(const char *subject, const char *tag, const char *number)
{
	char found[32];

	if (!tag || !*tag)
		tag = EMAIL_DEFAULT_TAG;
	if (!subject)
		subject = "";
	if (!number || email_subject_tag_find(subject, tag, found))
		return fl_strdup(subject);
	return *subject ? fl_asprintf("%s [%s #%s]", subject, tag, number)
			: fl_asprintf("[%s #%s]", tag, number);
}

/* Length of a reply/forward prefix ("Re:", "AW:", "Fwd[2]:", "回复：") at s, or 0. */
static size_t reply_prefix(const char *s)
{
	static const char *const words[] = {
		"re", "fw", "fwd", "aw", "wg", "sv", "vs", "antw", "antwort", "r", "rif", "tr",
		"ref", "odp", "res", "enc", "réf", "továbbítás", "vá", "ynt", NULL,
	};
	static const char *const cjk[] = { "回复", "答复", "转发", "回覆", "轉寄", NULL };
	const char *p;
	size_t k, n;

	for (k = 0; cjk[k]; k++) {
		n = strlen(cjk[k]);
		if (!strncmp(s, cjk[k], n)) {
			p = s + n;
			goto colon;
		}
	}
	for (k = 0; words[k]; k++) {
		n = strlen(words[k]);
		if (!strncasecmp(s, words[k], n) && !isalnum((unsigned char)s[n])) {
			p = s + n;
			goto colon;
		}
	}
	return 0;
colon:
	p = skip_ws(p);
	if (*p == '[' || *p == '(') { /* "Re[2]:", "Re(3):" */
		char close = *p == '[' ? ']' : ')';
		const char *q = p + 1;

		while (isdigit((unsigned char)*q))
			q++;
		if (q == p + 1 || *q != close)
			return 0;
		p = skip_ws(q + 1);
	}
	if (*p == ':')
		return (size_t)(p + 1 - s);
	if (!strncmp(p, "\xEF\xBC\x9A", 3)) /* full-width colon */
		return (size_t)(p + 3 - s);
	return 0;
}

char *email_subject_normalize(const char *subject)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *s = subject ? subject : "", *e;
	char *folded, *p;
	bool changed = true, space = false;

	s = skip_ws(s);
	while (changed) {
		size_t k;

		changed = false;
		if ((k = reply_prefix(s))) {
			s = skip_ws(s + k);
			changed = true;
		} else if (*s == '[' && (e = strchr(s, ']')) && e - s < 64) {
			/* a list or ticket tag at the front: "[support-l]", "[Frontline #T-1]" */
			s = skip_ws(e + 1);
			changed = true;
		}
	}
	for (; *s; s++) {
		/* a ticket tag anywhere, whatever its word: "[Acme Support #T-000042]" */
		if (*s == '[' && (e = strchr(s, ']')) && e - s < 64 &&
		    memmem(s, (size_t)(e - s), "#T-", 3)) {
			s = e;
			space = true;
			continue;
		}
		if (isspace((unsigned char)*s)) {
			space = true;
			continue;
		}
		if (space && b.len)
			fl_buf_addch(&b, ' ');
		space = false;
		fl_buf_addch(&b, *s);
	}
	email_init();
	folded = g_utf8_casefold(b.buf, (gssize)b.len);
	fl_buf_release(&b);
	p = fl_strdup(folded);
	g_free(folded);
	return p;
}
