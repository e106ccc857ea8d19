/*
 * A work-around for GMime 3.2's RFC 2047 decoder (Debian 12 ships 3.2.13).
 *
 * GMime joins the payloads of adjacent encoded words in the same charset
 * before it converts them (so that a character split across two words
 * survives), but it carries the base64 decoder's state over the '='
 * padding of the first word, and the words after it vanish:
 * "=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=" decodes to "é", not "éé". Mailers
 * split long subjects into exactly such words (ISO-2022-JP subjects in the
 * test corpus lose half their text).
 *
 * The fix keeps GMime as the decoder: before it runs, each run of adjacent
 * base64 words in one charset (separated only by white space, which RFC 2047
 * §6.2 says to ignore there) is rewritten as one word whose payload is the
 * words' bytes joined and encoded again. What GMime then sees is equivalent
 * and has no padding in the middle.
 */
#include <string.h>
#include <strings.h>

#include "email_int.h"

struct word {
	const char *start, *end;      /* the whole "=?cs?B?...?=" */
	const char *cs, *cs_end;      /* charset (without a *language suffix) */
	const char *text, *text_end;  /* the payload */
	bool base64;
};

/* Parses an encoded word at s; false when s does not start one. */
static bool word_at(const char *s, struct word *w)
{
	const char *p, *q;

	if (s[0] != '=' || s[1] != '?')
		return false;
	w->start = s;
	w->cs = s + 2;
	p = strchr(w->cs, '?');
	if (!p || p == w->cs || (p[1] != 'B' && p[1] != 'b' && p[1] != 'Q' && p[1] != 'q') || p[2] != '?')
		return false;
	for (q = w->cs; q < p; q++)
		if (*q == ' ' || *q == '\t')
			return false;
	w->cs_end = memchr(w->cs, '*', (size_t)(p - w->cs));
	if (!w->cs_end)
		w->cs_end = p;
	w->base64 = p[1] == 'B' || p[1] == 'b';
	w->text = p + 3;
	q = strstr(w->text, "?=");
	if (!q)
		return false;
	for (p = w->text; p < q; p++)
		if (*p == ' ' || *p == '\t')
			return false;
	w->text_end = q;
	w->end = q + 2;
	return true;
}

static bool same_charset(const struct word *a, const struct word *b)
{
	size_t n = (size_t)(a->cs_end - a->cs);

	return n == (size_t)(b->cs_end - b->cs) && !strncasecmp(a->cs, b->cs, n);
}

static void add_decoded(GByteArray *bytes, const struct word *w)
{
	char *b64 = fl_strndup(w->text, (size_t)(w->text_end - w->text));
	gsize n = 0;
	guchar *d = g_base64_decode(b64, &n);

	if (d)
		g_byte_array_append(bytes, d, (guint)n);
	g_free(d);
	free(b64);
}

char *email__rfc2047_merge(const char *raw)
{
	struct fl_buf b = FL_BUF_INIT;
	char *unfolded;
	const char *s;

	unfolded = g_mime_utils_header_unfold(raw ? raw : "");
	s = unfolded;
	while (*s) {
		struct word w, next;
		const char *gap;

		if (!word_at(s, &w) || !w.base64) {
			fl_buf_addch(&b, *s++);
			continue;
		}
		gap = w.end + strspn(w.end, " \t");
		if (!word_at(gap, &next) || !next.base64 || !same_charset(&w, &next)) {
			fl_buf_add(&b, w.start, (size_t)(w.end - w.start));
			s = w.end;
			continue;
		}
		/* a run of two or more: join their bytes into one word */
		{
			GByteArray *bytes = g_byte_array_new();
			gchar *enc;

			add_decoded(bytes, &w);
			for (;;) {
				add_decoded(bytes, &next);
				s = next.end;
				gap = s + strspn(s, " \t");
				if (!word_at(gap, &w) || !w.base64 || !same_charset(&w, &next))
					break;
				next = w;
			}
			enc = g_base64_encode(bytes->data, bytes->len);
			fl_buf_adds(&b, "=?");
			fl_buf_add(&b, next.cs, (size_t)(next.cs_end - next.cs));
			fl_buf_addf(&b, "?B?%s?=", enc);
			g_free(enc);
			g_byte_array_unref(bytes);
		}
	}
	g_free(unfolded);
	return fl_buf_detach(&b, NULL);
}

char *email__header_decode(GMimeParserOptions *opts, const char *raw)
{
	char *merged, *decoded, *res;

	if (!raw)
		return NULL;
	merged = email__rfc2047_merge(raw);
	decoded = g_mime_utils_header_decode_text(opts, merged);
	res = email__utf8_clean(decoded ? decoded : "");
	g_free(decoded);
	free(merged);
	return res;
}
