/*
 * Small conveniences over jansson for reading optional fields with defaults
 * and for compact encoding. They borrow everything they are given.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util.h"

const char *fl_json_str(const json_t *obj, const char *key, const char *def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t fl_json_int(const json_t *obj, const char *key, int64_t def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return def;
}

double fl_json_num(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : def;
}

bool fl_json_bool(const json_t *obj, const char *key, bool def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	int b;

	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (json_is_string(v) && (b = fl_parse_bool(json_string_value(v))) >= 0)
		return b;
	return def;
}

/*
 * Compact encoding, byte for byte what json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY) gives with Debian's jansson (reals as "%.17g" with ".0"
 * added to integral values and the exponent's "+" and leading zeros dropped;
 * only '"', '\\' and control characters escaped; keys in insertion order),
 * about ten times faster: jansson walks every string one code point at a
 * time through a callback, and a ticket's analysis is ~15 KB of text that
 * the workers write once per ticket. Invalid UTF-8 (which jansson refuses
 * to encode) is a bug in the caller: it ends the process, as before.
 */
#define JSON_MAX_DEPTH 2048

/* ASCII bytes copied as they are: all but control characters, the quote and the backslash. */
static inline bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid (jansson's rules). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
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

static void write_string(struct fl_buf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *end = s + len, *run;

	fl_buf_grow(b, len + 2);
	fl_buf_addch(b, '"');
	while (s < end) {
		run = s;
		for (;;) {
			while (s < end && json_plain(*s))
				s++;
			if (s < end && *s >= 0x80) {
				size_t n = utf8_seq_len(s, (size_t)(end - s));

				if (!n)
					fl_die("cannot encode JSON value: invalid UTF-8 in a string");
				s += n;
				continue;
			}
			break;
		}
		if (s > run)
			fl_buf_add(b, run, (size_t)(s - run));
		if (s == end)
			break;
		switch (*s) {
		case '"': fl_buf_add(b, "\\\"", 2); break;
		case '\\': fl_buf_add(b, "\\\\", 2); break;
		case '\b': fl_buf_add(b, "\\b", 2); break;
		case '\f': fl_buf_add(b, "\\f", 2); break;
		case '\n': fl_buf_add(b, "\\n", 2); break;
		case '\r': fl_buf_add(b, "\\r", 2); break;
		case '\t': fl_buf_add(b, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[*s >> 4], hex[*s & 15] };

			fl_buf_add(b, u, sizeof(u));
		}
		}
		s++;
	}
	fl_buf_addch(b, '"');
}

static void write_real(struct fl_buf *b, double v)
{
	char buf[64], *e;
	int n = snprintf(buf, sizeof(buf), "%.17g", v);

	if (n < 0 || (size_t)n >= sizeof(buf) - 3)
		fl_die("cannot encode JSON value: real %g", v);
	if (!strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	e = strchr(buf, 'e');
	if (e) {
		char *digits = e + 1, *from;

		if (*digits == '-' || *digits == '+')
			digits += *digits == '-';
		from = digits + (*digits == '+');
		while (*from == '0' && from[1])
			from++;
		memmove(digits, from, strlen(from) + 1);
		n = (int)strlen(buf);
	}
	fl_buf_add(b, buf, (size_t)n);
}

static void write_value(struct fl_buf *b, const json_t *v, int depth)
{
	char num[32];
	int n;

	if (depth > JSON_MAX_DEPTH)
		fl_die("cannot encode JSON value: nested deeper than %d", JSON_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_NULL: fl_buf_add(b, "null", 4); break;
	case JSON_TRUE: fl_buf_add(b, "true", 4); break;
	case JSON_FALSE: fl_buf_add(b, "false", 5); break;
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		fl_buf_add(b, num, (size_t)n);
		break;
	case JSON_REAL: write_real(b, json_real_value(v)); break;
	case JSON_STRING: write_string(b, json_string_value(v), json_string_length(v)); break;
	case JSON_ARRAY: {
		size_t i, len = json_array_size(v);

		fl_buf_addch(b, '[');
		for (i = 0; i < len; i++) {
			if (i)
				fl_buf_addch(b, ',');
			write_value(b, json_array_get(v, i), depth + 1);
		}
		fl_buf_addch(b, ']');
		break;
	}
	case JSON_OBJECT: {
		void *it = json_object_iter((json_t *)v);
		bool first = true;

		fl_buf_addch(b, '{');
		for (; it; it = json_object_iter_next((json_t *)v, it), first = false) {
			if (!first)
				fl_buf_addch(b, ',');
			write_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			fl_buf_addch(b, ':');
			write_value(b, json_object_iter_value(it), depth + 1);
		}
		fl_buf_addch(b, '}');
		break;
	}
	}
}

void fl_json_append(struct fl_buf *b, const json_t *v)
{
	if (!v)
		fl_buf_add(b, "null", 4);
	else
		write_value(b, v, 0);
}

char *fl_json_dumps(const json_t *v)
{
	struct fl_buf b;

	fl_buf_init(&b, 256);
	fl_json_append(&b, v);
	return fl_buf_detach(&b, NULL);
}

void fl_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}
