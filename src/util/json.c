/*
 * Small conveniences over jansson for reading optional fields with defaults
 * and for compact encoding. They borrow everything they are given.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
 * Compact encoding, as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) but
 * with a third of its instructions on a ticket's analysis (jansson walks
 * every string one code point at a time through a callback, and the workers
 * write a ~15 KB analysis per ticket) and with reals in their shortest form that reads back exactly
 * ("0.4704", where Debian's jansson 2.14 writes "0.47039999999999998", as
 * newer jansson releases no longer do). Otherwise the same bytes: only '"',
 * '\\' and control characters escaped, keys in insertion order, ".0" on
 * integral reals, exponents without "+" or leading zeros.
 */
#define JSON_MAX_DEPTH 2048

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* True when none of the 8 bytes at s needs a look: ASCII, not a control, '"' or '\\'. */
static inline bool plain8(const unsigned char *s)
{
	uint64_t x, q, bs;

	memcpy(&x, s, 8);
	q = x ^ (ONES * '"');
	bs = x ^ (ONES * '\\');
	/* any byte >= 0x80, < 0x20, == '"' or == '\\' sets its high bit here */
	return !((x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((bs - ONES) & ~bs)) & HIGHS);
}

static inline bool plain1(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static int write_string(struct fl_buf *b, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *end = s + len, *run;

	fl_buf_grow(b, len + 2);
	b->buf[b->len++] = '"';
	while (s < end) {
		run = s;
		for (;;) {
			while (end - s >= 8 && plain8(s))
				s += 8;
			while (s < end && plain1(*s))
				s++;
			if (s < end && *s >= 0x80) {
				size_t n = fl_utf8_seq(s, (size_t)(end - s));

				if (!n)
					return -1;
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
	return 0;
}

/* Decimal digits of u, written backwards ending at end; returns where they start. */
static char *digits_back(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

static void write_integer(struct fl_buf *b, json_int_t i)
{
	char buf[24], *end = buf + sizeof(buf), *p;

	p = digits_back(end, i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i);
	if (i < 0)
		*--p = '-';
	fl_buf_add(b, p, (size_t)(end - p));
}

/*
 * The common case without printf: v is the double nearest to k / 10^d for
 * some d <= 6 (scores rounded to 4 places, amounts, ...). Then its shortest
 * exact form is k's digits with the point put back, which is what "%.15g"
 * prints for it (k has at most 15 digits below 1e9).
 * Returns the length written to buf, 0 when v is not such a value.
 */
static int short_decimal(char *buf, double v)
{
	double a = fabs(v), scale = 1;
	int d;

	if (!(a >= 1e-4 && a < 1e9))
		return 0;
	for (d = 0; d <= 6; d++, scale *= 10) {
		double k = nearbyint(a * scale);
		char tmp[32], *end = tmp + sizeof(tmp), *p;
		uint64_t u, frac, pow10 = 1;
		int i, n = 0;

		if (k / scale != a)
			continue;
		for (i = 0; i < d; i++)
			pow10 *= 10;
		u = (uint64_t)k;
		frac = u % pow10;
		u /= pow10;   /* the smallest such d: frac has no trailing zero */
		if (v < 0)
			buf[n++] = '-';
		p = digits_back(end, u);
		memcpy(buf + n, p, (size_t)(end - p));
		n += (int)(end - p);
		buf[n++] = '.';
		if (d == 0) {
			buf[n++] = '0';
		} else {
			p = digits_back(end, frac);
			for (i = (int)(end - p); i < d; i++)
				buf[n++] = '0';
			memcpy(buf + n, p, (size_t)(end - p));
			n += (int)(end - p);
		}
		return n;
	}
	return 0;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as v, in JSON's form. */
static int write_real(struct fl_buf *b, double v)
{
	char buf[40], *e;
	int n = 0, prec;

	if (!isfinite(v))
		return -1;
	if ((n = short_decimal(buf, v)) > 0) {
		fl_buf_add(b, buf, (size_t)n);
		return 0;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf) - 3, "%.*g", prec, v);
		if (n < 0 || (size_t)n >= sizeof(buf) - 3)
			return -1;
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	e = strchr(buf, 'e');
	if (!e && !strchr(buf, '.')) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	} else if (e) {
		char *digits = e + 1 + (e[1] == '-'), *from = digits + (*digits == '+');

		while (*from == '0' && from[1])
			from++;
		memmove(digits, from, strlen(from) + 1);
		n = (int)strlen(buf);
	}
	fl_buf_add(b, buf, (size_t)n);
	return 0;
}

static int write_value(struct fl_buf *b, const json_t *v, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_NULL: fl_buf_add(b, "null", 4); return 0;
	case JSON_TRUE: fl_buf_add(b, "true", 4); return 0;
	case JSON_FALSE: fl_buf_add(b, "false", 5); return 0;
	case JSON_INTEGER: write_integer(b, json_integer_value(v)); return 0;
	case JSON_REAL: return write_real(b, json_real_value(v));
	case JSON_STRING: return write_string(b, json_string_value(v), json_string_length(v));
	case JSON_ARRAY: {
		size_t i, len = json_array_size(v);

		fl_buf_addch(b, '[');
		for (i = 0; i < len; i++) {
			if (i)
				fl_buf_addch(b, ',');
			if (write_value(b, json_array_get(v, i), depth + 1))
				return -1;
		}
		fl_buf_addch(b, ']');
		return 0;
	}
	case JSON_OBJECT: {
		void *it = json_object_iter((json_t *)v);
		bool first = true;

		fl_buf_addch(b, '{');
		for (; it; it = json_object_iter_next((json_t *)v, it), first = false) {
			if (!first)
				fl_buf_addch(b, ',');
			if (write_string(b, json_object_iter_key(it), json_object_iter_key_len(it)))
				return -1;
			fl_buf_addch(b, ':');
			if (write_value(b, json_object_iter_value(it), depth + 1))
				return -1;
		}
		fl_buf_addch(b, '}');
		return 0;
	}
	}
	return -1;
}

int fl_json_encode(struct fl_buf *b, const json_t *v)
{
	size_t start = b->len;

	if (!v) {
		fl_buf_add(b, "null", 4);
		return 0;
	}
	if (write_value(b, v, 0)) {
		fl_buf_setlen(b, start);
		return -1;
	}
	return 0;
}

char *fl_json_dumps(const json_t *v)
{
	struct fl_buf b;

	fl_buf_init(&b, 256);
	if (fl_json_encode(&b, v))
		fl_die("cannot encode JSON value: invalid UTF-8 in a string or nested too deep");
	return fl_buf_detach(&b, NULL);
}

void fl_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}
