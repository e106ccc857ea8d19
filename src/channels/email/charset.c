/*
 * Charset conversion to UTF-8 for message text.
 *
 * Mail declares its charset in the Content-Type, and a good part of real mail
 * declares it wrongly: "us-ascii" over Latin-1 bytes, "iso-8859-1" over
 * Windows-1252 quotes, no charset at all over UTF-8. The rules here follow
 * what mail clients and browsers settled on (the WHATWG Encoding standard
 * maps the Latin-1 labels to windows-1252): a declared charset that iconv
 * knows is used, with U+FFFD for the bytes that do not convert; undeclared,
 * ASCII-declared, UTF-8-declared and unknown charsets keep every valid UTF-8
 * sequence and read each remaining byte as windows-1252. The output always
 * is valid UTF-8 with LF line ends and no NUL bytes, which is what the store
 * and the analyzer expect.
 *
 * Conversion uses GMime's iconv wrappers (g_mime_iconv_open resolves charset
 * aliases such as "latin1" or "ks_c_5601-1987"); header decoding is GMime's
 * own (RFC 2047, with the fallback charsets set in parse.c).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "email_int.h"

#define REPLACEMENT "\xEF\xBF\xBD"

/* windows-1252 0x80..0x9F; 0 marks the five undefined bytes. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static void add_utf8(struct fl_buf *b, uint32_t cp)
{
	char s[4];

	if (cp < 0x80) {
		fl_buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		s[0] = (char)(0xC0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xE0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 3);
	} else {
		s[0] = (char)(0xF0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 4);
	}
}

void email__add_cp1252(struct fl_buf *b, unsigned char c)
{
	if (c < 0x80)
		fl_buf_addch(b, c);
	else if (c < 0xA0)
		cp1252_high[c - 0x80] ? add_utf8(b, cp1252_high[c - 0x80]) : fl_buf_adds(b, REPLACEMENT);
	else
		add_utf8(b, c);
}

/* Valid UTF-8 kept, every other byte read as windows-1252. Returns true when a byte needed it. */
static bool decode_utf8_or_cp1252(const char *data, size_t len, struct fl_buf *out)
{
	const unsigned char *p = (const unsigned char *)data;
	bool fallback = false;
	size_t i = 0, k;

	while (i < len) {
		k = fl_utf8_seq(p + i, len - i);
		if (k) {
			fl_buf_add(out, p + i, k);
			i += k;
		} else {
			email__add_cp1252(out, p[i]);
			fallback = true;
			i++;
		}
	}
	return fallback;
}

/* iconv from charset; false when iconv does not know it. */
static bool decode_iconv(const char *charset, const char *data, size_t len, struct fl_buf *out)
{
	iconv_t cd;
	char *in = (char *)data, *o, tmp[4096];
	size_t inleft = len, oleft, r;

	cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return false;
	while (inleft > 0) {
		o = tmp;
		oleft = sizeof(tmp);
		r = iconv(cd, &in, &inleft, &o, &oleft);
		fl_buf_add(out, tmp, (size_t)(o - tmp));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL (a truncated sequence at the end): one byte becomes U+FFFD */
		fl_buf_adds(out, REPLACEMENT);
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	o = tmp;
	oleft = sizeof(tmp);
	iconv(cd, NULL, NULL, &o, &oleft); /* shift back to the initial state (ISO-2022-JP) */
	fl_buf_add(out, tmp, (size_t)(o - tmp));
	g_mime_iconv_close(cd);
	return true;
}

static bool is_label(const char *cs, const char *const *labels)
{
	for (; *labels; labels++)
		if (!strcasecmp(cs, *labels))
			return true;
	return false;
}

/* CRLF and lone CR to LF, NUL dropped; the result is valid UTF-8 (checked once more). */
static char *finish(struct fl_buf *b)
{
	struct fl_buf out = FL_BUF_INIT;
	size_t i;

	fl_buf_grow(&out, b->len);
	for (i = 0; i < b->len; i++) {
		char c = b->buf[i];

		if (c == '\r') {
			fl_buf_addch(&out, '\n');
			if (i + 1 < b->len && b->buf[i + 1] == '\n')
				i++;
		} else if (c != '\0') {
			fl_buf_addch(&out, c);
		}
	}
	if (fl_utf8_invalid_at(out.buf, out.len) >= 0) {
		/* iconv produced something odd: never hand on invalid UTF-8 */
		struct fl_buf fixed = FL_BUF_INIT;

		decode_utf8_or_cp1252(out.buf, out.len, &fixed);
		fl_buf_release(&out);
		out = fixed;
	}
	return fl_buf_detach(&out, NULL);
}

char *email_to_utf8(const char *data, size_t len, const char *charset, bool *fallback)
{
	static const char *const utf8ish[] = {
		"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "utf-8", "utf8",
		"unknown-8bit", "x-unknown", "unknown", "default", "7bit", "8bit", "x-user-defined",
		NULL,
	};
	static const char *const latin1[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819",
		"ibm819", "windows-1252", "cp1252", "x-cp1252", NULL,
	};
	struct fl_buf b = FL_BUF_INIT;
	char cs[64];
	size_t n;
	bool fb = false;
	char *res;

	email_init();
	cs[0] = '\0';
	if (charset) {
		const char *s = charset;

		n = strlen(s);
		s = fl_str_trim(s, &n);
		while (n && (*s == '"' || *s == '\'')) {
			s++;
			n--;
		}
		while (n && (s[n - 1] == '"' || s[n - 1] == '\''))
			n--;
		if (n < sizeof(cs)) {
			memcpy(cs, s, n);
			cs[n] = '\0';
		}
	}
	fl_buf_grow(&b, len + len / 8);
	if (!cs[0] || is_label(cs, utf8ish)) {
		fb = decode_utf8_or_cp1252(data, len, &b);
	} else if (is_label(cs, latin1)) {
		for (n = 0; n < len; n++)
			email__add_cp1252(&b, (unsigned char)data[n]);
	} else if (!decode_iconv(cs, data, len, &b)) {
		fl_buf_reset(&b);
		fb = decode_utf8_or_cp1252(data, len, &b);
	}
	res = finish(&b);
	fl_buf_release(&b);
	if (fallback)
		*fallback = fb;
	return res;
}

char *email__utf8_clean(const char *s)
{
	if (!s)
		return NULL;
	return email_to_utf8(s, strlen(s), "utf-8", NULL);
}
