/*
 * String scanning and conversion helpers: prefix tests, whole-string number
 * parsing (instead of atoi), booleans, hex, and URL/secret masking for
 * messages that must never show a password.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

bool fl_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fl_str_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

bool fl_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

size_t fl_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t m = n < size - 1 ? n : size - 1;

		memcpy(dst, src, m);
		dst[m] = '\0';
	}
	return n;
}

const char *fl_str_trim(const char *s, size_t *len)
{
	size_t n = *len;

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

int fl_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int fl_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int fl_parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < FL_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

void fl_hex(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fl_unhex(unsigned char *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hex_digit(in[2 * i]), lo = hi < 0 ? -1 : hex_digit(in[2 * i + 1]);

		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Masks "password=..." in a libpq keyword/value string. */
static char *mask_conninfo(const char *s)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p = s;

	while (*p) {
		if (!strncasecmp(p, "password", 8) &&
		    (p == s || isspace((unsigned char)p[-1]))) {
			const char *q = p + 8;

			while (*q == ' ')
				q++;
			if (*q == '=') {
				q++;
				while (*q == ' ')
					q++;
				fl_buf_adds(&b, "password=***");
				if (*q == '\'') {
					q++;
					while (*q && *q != '\'')
						q += (*q == '\\' && q[1]) ? 2 : 1;
					if (*q)
						q++;
				} else {
					while (*q && !isspace((unsigned char)*q))
						q++;
				}
				p = q;
				continue;
			}
		}
		fl_buf_addch(&b, *p++);
	}
	return fl_buf_detach(&b, NULL);
}

char *fl_mask_url(const char *url)
{
	const char *scheme_end, *at, *colon, *auth;
	struct fl_buf b = FL_BUF_INIT;

	if (!url)
		return fl_strdup("(none)");
	scheme_end = strstr(url, "://");
	if (!scheme_end)
		return mask_conninfo(url);
	auth = scheme_end + 3;
	at = strchr(auth, '@');
	if (at && memchr(auth, '/', (size_t)(at - auth)))
		at = NULL;
	if (!at)
		return mask_conninfo(url);
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon)
		return mask_conninfo(url);
	fl_buf_add(&b, url, (size_t)(colon - url));
	fl_buf_adds(&b, ":***");
	fl_buf_adds(&b, at);
	{
		char *masked = mask_conninfo(b.buf);

		fl_buf_release(&b);
		return masked;
	}
}

char *fl_mask_secret(const char *s)
{
	size_t n, head, tail;

	if (!s || !*s)
		return fl_strdup("(unset)");
	n = strlen(s);
	if (n < 12)
		return fl_strdup("***");
	/* about 4 bytes at each end, never half a UTF-8 character (the mask goes into JSON) */
	head = 4;
	while (head && ((unsigned char)s[head] & 0xC0) == 0x80)
		head--;
	tail = n - 4;
	while (tail < n && ((unsigned char)s[tail] & 0xC0) == 0x80)
		tail++;
	return fl_asprintf("%.*s...%s (%zu chars)", (int)head, s, s + tail, n);
}

size_t fl_utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

long fl_utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		if (p[i] < 0x80)
			k = 1;
		else if (!(k = fl_utf8_seq(p + i, len - i)))
			return (long)i;
		i += k;
	}
	return -1;
}
