/*
 * HTML to plain text, for HTML-only mail (src/channels/email) and for the
 * articles the KB sync imports from a help centre (src/kb/sync.c).
 *
 * Not an HTML parser: the text goes to triage, to an agent's screen or to
 * the KB index, the original stays where it came from, so a forgiving single
 * pass that never fails is what is wanted (and mail HTML is too broken for a
 * strict parser to help). It drops comments, declarations and the content of <head>,
 * <script>, <style> and <title>; turns block elements and <br> into line
 * breaks and list items into "- " lines; keeps a link's target when the text
 * does not show it; prefixes the text of <blockquote> with "> " so that the
 * reply trimmer treats it as the quote it is; collapses whitespace outside
 * <pre>; and decodes character references (the HTML 4 names that mail uses,
 * decimal and hex), reading &#128;..&#159; as windows-1252 as browsers do.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "text.h"

struct entity {
	const char *name;
	uint32_t cp;
};

/* Names for U+00A0..U+00FF, in order. */
static const char *const latin1_names[96] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
	"uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
	"deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
	"Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil",
	"Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml",
	"ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times",
	"Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig",
	"agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
	"egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml",
	"eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide",
	"oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};

static const struct entity other_entities[] = {
	{ "quot", 34 }, { "amp", 38 }, { "apos", 39 }, { "lt", 60 }, { "gt", 62 },
	{ "OElig", 338 }, { "oelig", 339 }, { "Scaron", 352 }, { "scaron", 353 },
	{ "Yuml", 376 }, { "fnof", 402 }, { "circ", 710 }, { "tilde", 732 },
	{ "ensp", 8194 }, { "emsp", 8195 }, { "thinsp", 8201 }, { "zwnj", 8204 },
	{ "zwj", 8205 }, { "lrm", 8206 }, { "rlm", 8207 }, { "ndash", 8211 },
	{ "mdash", 8212 }, { "lsquo", 8216 }, { "rsquo", 8217 }, { "sbquo", 8218 },
	{ "ldquo", 8220 }, { "rdquo", 8221 }, { "bdquo", 8222 }, { "dagger", 8224 },
	{ "Dagger", 8225 }, { "bull", 8226 }, { "hellip", 8230 }, { "permil", 8240 },
	{ "prime", 8242 }, { "Prime", 8243 }, { "lsaquo", 8249 }, { "rsaquo", 8250 },
	{ "euro", 8364 }, { "trade", 8482 }, { "larr", 8592 }, { "uarr", 8593 },
	{ "rarr", 8594 }, { "darr", 8595 }, { "harr", 8596 }, { "minus", 8722 },
	{ "le", 8804 }, { "ge", 8805 }, { "ne", 8800 }, { "infin", 8734 },
};

/* windows-1252 for &#128;..&#159; (0: undefined) */
static const uint16_t cp1252_refs[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static void put_cp(struct fl_buf *b, uint32_t cp)
{
	unsigned char s[4];

	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		cp = 0xFFFD;
	if (cp >= 0x80 && cp < 0xA0)
		cp = cp1252_refs[cp - 0x80] ? cp1252_refs[cp - 0x80] : 0xFFFD;
	if (cp < 0x80) {
		fl_buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		s[0] = (unsigned char)(0xC0 | (cp >> 6));
		s[1] = (unsigned char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (unsigned char)(0xE0 | (cp >> 12));
		s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[2] = (unsigned char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 3);
	} else {
		s[0] = (unsigned char)(0xF0 | (cp >> 18));
		s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		s[3] = (unsigned char)(0x80 | (cp & 0x3F));
		fl_buf_add(b, s, 4);
	}
}

/*
 * Decodes the character reference at s (s[0] == '&') into out; returns the
 * bytes consumed, or 0 when it is not one (the '&' is then literal).
 */
static size_t entity_decode(const char *s, struct fl_buf *out)
{
	char name[16];
	size_t i = 1, n = 0, k;
	uint32_t cp = 0;

	if (s[1] == '#') {
		bool hex = s[2] == 'x' || s[2] == 'X';

		i = hex ? 3 : 2;
		while (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i])) {
			if (cp < 0x110000)
				cp = cp * (hex ? 16 : 10) +
				     (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0'
									     : (tolower((unsigned char)s[i]) - 'a' + 10));
			i++;
			n++;
		}
		if (!n)
			return 0;
		if (s[i] == ';')
			i++;
		put_cp(out, cp);
		return i;
	}
	while (isalnum((unsigned char)s[i]) && n < sizeof(name) - 1)
		name[n++] = s[i++];
	name[n] = '\0';
	if (!n)
		return 0;
	for (k = 0; k < FL_ARRAY_SIZE(latin1_names); k++) {
		if (!strcmp(name, latin1_names[k])) {
			/* a no-break space is a space in text */
			put_cp(out, k == 0 ? ' ' : 0xA0 + (uint32_t)k);
			return s[i] == ';' ? i + 1 : i;
		}
	}
	for (k = 0; k < FL_ARRAY_SIZE(other_entities); k++) {
		if (!strcmp(name, other_entities[k].name)) {
			put_cp(out, other_entities[k].cp);
			return s[i] == ';' ? i + 1 : i;
		}
	}
	return 0;
}

enum tag_kind { TAG_INLINE, TAG_BLOCK, TAG_BREAK, TAG_ITEM, TAG_CELL, TAG_SKIP, TAG_PRE,
		TAG_QUOTE, TAG_LINK };

static enum tag_kind tag_kind(const char *name)
{
	static const char *const blocks[] = {
		"p", "div", "table", "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
		"h5", "h6", "hr", "section", "article", "header", "footer", "form", "center",
		"address", "body", "html", "tbody", "thead", "tfoot", "caption", "nav", "aside",
		"main", "figure", "figcaption", "fieldset", NULL,
	};
	static const char *const skips[] = { "script", "style", "head", "title", "noscript",
					     "template", "xml", "object", NULL };
	size_t i;

	if (!strcasecmp(name, "br"))
		return TAG_BREAK;
	if (!strcasecmp(name, "li"))
		return TAG_ITEM;
	if (!strcasecmp(name, "td") || !strcasecmp(name, "th"))
		return TAG_CELL;
	if (!strcasecmp(name, "pre"))
		return TAG_PRE;
	if (!strcasecmp(name, "blockquote"))
		return TAG_QUOTE;
	if (!strcasecmp(name, "a"))
		return TAG_LINK;
	for (i = 0; blocks[i]; i++)
		if (!strcasecmp(name, blocks[i]))
			return TAG_BLOCK;
	for (i = 0; skips[i]; i++)
		if (!strcasecmp(name, skips[i]))
			return TAG_SKIP;
	return TAG_INLINE;
}

struct conv {
	struct fl_buf out;
	int newlines;         /* line breaks at the end of out (0: mid-line) */
	bool space;           /* whitespace pending before the next text */
	int quote;            /* blockquote depth */
	int pre;              /* <pre> depth */
	char *href;           /* the open link's target */
	size_t link_start;    /* out.len when the link opened */
};

static void line_break(struct conv *c, int want)
{
	c->space = false;
	if (c->out.len == 0)
		return;
	while (c->newlines < want) {
		fl_buf_addch(&c->out, '\n');
		c->newlines++;
	}
}

static void text_prefix(struct conv *c)
{
	int i;

	if (c->newlines > 0 || c->out.len == 0) {
		for (i = 0; i < c->quote; i++)
			fl_buf_adds(&c->out, "> ");
	} else if (c->space) {
		fl_buf_addch(&c->out, ' ');
	}
	c->space = false;
	c->newlines = 0;
}

static void text_char(struct conv *c, const char *s, size_t n)
{
	if (c->pre && *s == '\n') {
		fl_buf_addch(&c->out, '\n');
		c->newlines = c->newlines > 0 ? c->newlines + 1 : 1;
		return;
	}
	if (!c->pre && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')) {
		c->space = true;
		return;
	}
	text_prefix(c);
	fl_buf_add(&c->out, s, n);
}

/* The value of attribute attr in the tag text [s, end), decoded; caller frees; NULL if absent. */
static char *tag_attr(const char *s, const char *end, const char *attr)
{
	size_t alen = strlen(attr);
	const char *p = s;

	while (p < end) {
		const char *v, *ve;
		char q;

		while (p < end && !isalpha((unsigned char)*p))
			p++;
		if (p >= end)
			break;
		v = p;
		while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == ':'))
			p++;
		{
			bool match = (size_t)(p - v) == alen && !strncasecmp(v, attr, alen);

			while (p < end && isspace((unsigned char)*p))
				p++;
			if (p >= end || *p != '=') {
				if (match)
					return fl_strdup("");
				continue;
			}
			p++;
			while (p < end && isspace((unsigned char)*p))
				p++;
			q = (p < end && (*p == '"' || *p == '\'')) ? *p++ : 0;
			v = p;
			while (p < end && (q ? *p != q : !isspace((unsigned char)*p)))
				p++;
			ve = p;
			if (q && p < end)
				p++;
			if (match) {
				struct fl_buf b = FL_BUF_INIT;
				char *raw = fl_strndup(v, (size_t)(ve - v)), *r;

				for (r = raw; *r;) {
					size_t k = *r == '&' ? entity_decode(r, &b) : 0;

					if (k) {
						r += k;
					} else {
						fl_buf_addch(&b, *r);
						r++;
					}
				}
				free(raw);
				return fl_buf_detach(&b, NULL);
			}
		}
	}
	return NULL;
}

static void link_close(struct conv *c)
{
	const char *target;
	char *shown;

	if (!c->href)
		return;
	target = c->href;
	if (!strncasecmp(target, "mailto:", 7))
		target += 7;
	shown = fl_strndup(c->out.buf + c->link_start, c->out.len - c->link_start);
	if (*target && c->out.len > c->link_start && target[0] != '#' &&
	    strncasecmp(target, "javascript:", 11) && !strstr(shown, target)) {
		fl_buf_adds(&c->out, " (");
		fl_buf_adds(&c->out, target);
		fl_buf_addch(&c->out, ')');
		c->newlines = 0;
	}
	free(shown);
	free(c->href);
	c->href = NULL;
}

/* Handles the tag at s (s[0] == '<'); returns the bytes consumed (0: a literal '<'). */
static size_t tag(struct conv *c, const char *s)
{
	char name[16];
	const char *p = s + 1, *attrs, *end;
	bool closing = false;
	size_t n = 0;
	char q = 0;

	if (!strncmp(s, "<!--", 4)) {
		end = strstr(s + 4, "-->");
		return end ? (size_t)(end + 3 - s) : strlen(s);
	}
	if (*p == '!' || *p == '?') {
		end = strchr(p, '>');
		return end ? (size_t)(end + 1 - s) : strlen(s);
	}
	if (*p == '/') {
		closing = true;
		p++;
	}
	if (!isalpha((unsigned char)*p))
		return 0;
	while ((isalnum((unsigned char)*p) || *p == ':' || *p == '-') && n < sizeof(name) - 1)
		name[n++] = *p++;
	while (isalnum((unsigned char)*p) || *p == ':' || *p == '-')
		p++;
	name[n] = '\0';
	attrs = p;
	for (end = p; *end; end++) {
		if (q) {
			if (*end == q)
				q = 0;
		} else if (*end == '"' || *end == '\'') {
			/* quotes count only as attribute values (after '=') */
			const char *b = end - 1;

			while (b > attrs && isspace((unsigned char)*b))
				b--;
			if (*b == '=')
				q = *end;
		} else if (*end == '>') {
			break;
		}
	}
	switch (tag_kind(name)) {
	case TAG_SKIP:
		if (!closing && !(end > attrs && end[-1] == '/')) {
			/* skip to the matching end tag */
			const char *e = *end ? end + 1 : end;

			while ((e = strchr(e, '<'))) {
				if (e[1] == '/' && !strncasecmp(e + 2, name, n) &&
				    !isalnum((unsigned char)e[2 + n])) {
					const char *gt = strchr(e, '>');

					return gt ? (size_t)(gt + 1 - s) : strlen(s);
				}
				e++;
			}
			return strlen(s);
		}
		break;
	case TAG_BREAK:
		if (c->newlines >= 1 || c->out.len == 0)
			fl_buf_addch(&c->out, '\n'), c->newlines++;
		else
			line_break(c, 1);
		c->space = false;
		break;
	case TAG_BLOCK:
		line_break(c, !strcasecmp(name, "p") || name[0] == 'h' ? 2 : 1);
		break;
	case TAG_ITEM:
		if (!closing) {
			line_break(c, 1);
			text_prefix(c);
			fl_buf_adds(&c->out, "- ");
		}
		break;
	case TAG_CELL:
		if (!closing)
			c->space = true;
		break;
	case TAG_PRE:
		line_break(c, 1);
		c->pre += closing ? (c->pre > 0 ? -1 : 0) : 1;
		break;
	case TAG_QUOTE:
		line_break(c, 1);
		c->quote += closing ? (c->quote > 0 ? -1 : 0) : 1;
		break;
	case TAG_LINK:
		if (closing) {
			link_close(c);
		} else {
			link_close(c);
			c->href = tag_attr(attrs, end, "href");
			if (c->space && c->out.len && c->newlines == 0) {
				fl_buf_addch(&c->out, ' ');
				c->space = false;
			}
			c->link_start = c->out.len;
		}
		break;
	case TAG_INLINE:
		break;
	}
	return *end ? (size_t)(end + 1 - s) : strlen(s);
}

char *text_html_to_text(const char *html)
{
	struct conv c = { FL_BUF_INIT, 0, false, 0, 0, NULL, 0 };
	struct fl_buf tidy = FL_BUF_INIT;
	const char *s = html;
	size_t i, line_start = 0;
	int blank = 0;

	while (*s) {
		size_t k;

		if (*s == '<' && (k = tag(&c, s))) {
			s += k;
		} else if (*s == '&') {
			struct fl_buf ent = FL_BUF_INIT;

			k = entity_decode(s, &ent);
			if (k) {
				text_char(&c, ent.buf, ent.len);
				s += k;
			} else {
				text_char(&c, s, 1);
				s++;
			}
			fl_buf_release(&ent);
		} else {
			text_char(&c, s, 1);
			s++;
		}
	}
	link_close(&c);
	/* trailing spaces off each line, at most one blank line in a row, no blank edges */
	for (i = 0; i <= c.out.len; i++) {
		if (i < c.out.len && c.out.buf[i] != '\n')
			continue;
		{
			size_t len = i - line_start;
			const char *line = c.out.buf + line_start;

			while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
				len--;
			if (len == 0) {
				blank++;
			} else {
				if (tidy.len)
					fl_buf_adds(&tidy, blank ? "\n\n" : "\n");
				fl_buf_add(&tidy, line, len);
				blank = 0;
			}
		}
		line_start = i + 1;
	}
	fl_buf_release(&c.out);
	return fl_buf_detach(&tidy, NULL);
}
