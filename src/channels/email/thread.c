/*
 * Threading keys that need no store: the subject tag that carries a ticket's
 * number and secret ("[Frontline #T-000042-k3q9x7m2ab]"; the old form
 * without the secret is still read), our Message-IDs' parts
 * ("frontline.T-000042.k3q9x7m2ab.o17@domain"), and the normalized subject
 * used by the optional same-sender-same-subject rule. Finding the ticket
 * from these keys, and checking the secret, is intake.c's part (secret.c
 * computes it).
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

/*
 * Parses "[<tag> #T-000042]" or "[<tag> #T-000042-<secret>]" at s; returns
 * the end past ']' or NULL. The secret (lower-cased, "" when absent) goes
 * to secret when not NULL.
 */
static const char *tag_at(const char *s, const char *tag, char out[32], char secret[EMAIL_SECRET_MAX + 1])
{
	size_t tlen = strlen(tag), n = 0;
	long long num = 0;
	int digits = 0;
	char sec[EMAIL_SECRET_MAX + 1];

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
	if (*s == '-') {
		for (s++; isalnum((unsigned char)*s) && n < EMAIL_SECRET_MAX; s++)
			sec[n++] = (char)tolower((unsigned char)*s);
		if (!n || isalnum((unsigned char)*s))
			return NULL;
	}
	sec[n] = '\0';
	s = skip_ws(s);
	if (*s != ']')
		return NULL;
	if (out)
		fl_ticket_tag(out, num);
	if (secret)
		memcpy(secret, sec, n + 1);
	return s + 1;
}

bool email_subject_tag_parse(const char *subject, const char *tag, char number[32],
			     char secret[EMAIL_SECRET_MAX + 1])
{
	const char *s;

	if (!subject)
		return false;
	if (!tag || !*tag)
		tag = EMAIL_DEFAULT_TAG;
	for (s = strchr(subject, '['); s; s = strchr(s + 1, '['))
		if (tag_at(s, tag, number, secret))
			return true;
	return false;
}

bool email_subject_tag_find(const char *subject, const char *tag, char out[32])
{
	return email_subject_tag_parse(subject, tag, out, NULL);
}

char *email_subject_with_tag(const char *subject, const char *tag, const char *token)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *s, *end;
	bool placed = false;

	if (!tag || !*tag)
		tag = EMAIL_DEFAULT_TAG;
	if (!subject)
		subject = "";
	if (!token)
		return fl_strdup(subject);
	/* every tag of ours already there (the thread's, or a stale or forged one) gives way to the ticket's */
	for (s = subject; *s; ) {
		if (*s == '[' && (end = tag_at(s, tag, NULL, NULL))) {
			if (!placed)
				fl_buf_addf(&b, "[%s #%s]", tag, token);
			placed = true;
			s = end;
			continue;
		}
		fl_buf_addch(&b, *s++);
	}
	fl_buf_rtrim(&b);
	if (!placed)
		fl_buf_addf(&b, "%s[%s #%s]", b.len ? " " : "", tag, token);
	return fl_buf_detach(&b, NULL);
}

bool email__our_id_parse(const char *id, const char *domain, char number[32], char secret[EMAIL_SECRET_MAX + 1])
{
	const char *p, *dot, *at;
	size_t n;

	if (!email_message_id_is_ours(id, domain))
		return false;
	p = id + strlen("frontline.");
	at = strrchr(p, '@');
	dot = memchr(p, '.', (size_t)(at - p));
	if (!dot || (n = (size_t)(dot - p)) == 0 || n >= 32)
		return false;
	memcpy(number, p, n);
	number[n] = '\0';
	if (!fl_ticket_tag_form(number))
		return false;
	/* frontline.<number>.<secret>.<rest>@: a secret is a middle part; old ids have two parts */
	secret[0] = '\0';
	p = dot + 1;
	dot = memchr(p, '.', (size_t)(at - p));
	if (dot && (n = (size_t)(dot - p)) > 0 && n <= EMAIL_SECRET_MAX) {
		size_t i;

		for (i = 0; i < n && isalnum((unsigned char)p[i]); i++)
			secret[i] = (char)tolower((unsigned char)p[i]);
		secret[i == n ? n : 0] = '\0';
	}
	return true;
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
