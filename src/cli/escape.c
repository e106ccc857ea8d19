/*
 * User text on a terminal: names, subjects and replies come from customers,
 * integrations and mail, and a terminal obeys the control characters in
 * them (an escape sequence can clear the screen, recolour or hide text, or
 * retitle the window; a carriage return or a newline can forge a line of a
 * listing). Every listing of the command line prints such text through
 * these helpers, which make each control character visible instead.
 *
 * What it leaves to others: the JSON output (--json), which jansson escapes
 * itself, and logs (JSON lines, escaped the same way).
 */
#include <string.h>

#include "cli.h"
#include "util/util.h"

/* Bytes of the UTF-8 sequence at s (1 to 4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong three- and four-byte forms, surrogates, past U+10FFFF */
	if ((n == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (n == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
	    (n == 4 && s[0] == 0xF0 && s[1] < 0x90) || (n == 4 && s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return n;
}

char *cli_escape(const char *s, bool keep_lines)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_init(&b, strlen((const char *)p) + 1);
	while (*p) {
		size_t n = utf8_len(p);

		if (keep_lines && (*p == '\n' || *p == '\t')) {
			fl_buf_addch(&b, (char)*p++);
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			fl_buf_addch(&b, '\\');
			fl_buf_addch(&b, *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
			p++;
		} else if (n == 0 || *p < 0x20 || *p == 0x7F) {
			fl_buf_addf(&b, "\\x%02x", *p++);
		} else if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) {
			/* C1 controls, U+0080..U+009F: CSI (U+009B) starts a sequence as ESC [ does */
			fl_buf_addf(&b, "\\u%04x", p[1]);
			p += 2;
		} else {
			fl_buf_add(&b, p, n);
			p += n;
		}
	}
	return fl_buf_detach(&b, NULL);
}

static bool listed(const char *key, const char *const *keys)
{
	for (; key && keys && *keys; keys++)
		if (!strcmp(key, *keys))
			return true;
	return false;
}

static json_t *escape_json(const json_t *v, const char *key, const char *const *keep_lines)
{
	json_t *out, *item;
	const char *k;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING: {
		char *e = cli_escape(json_string_value(v), listed(key, keep_lines));

		out = json_string(e);
		free(e);
		return out;
	}
	case JSON_OBJECT:
		out = json_object();
		json_object_foreach((json_t *)v, k, item) {
			char *ek = cli_escape(k, false);

			json_object_set_new(out, ek, escape_json(item, k, keep_lines));
			free(ek);
		}
		return out;
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(out, escape_json(item, key, keep_lines));
		return out;
	default:
		return json_deep_copy(v);
	}
}

json_t *cli_escape_json(const json_t *v, const char *const *keep_lines)
{
	return v ? escape_json(v, NULL, keep_lines) : NULL;
}
