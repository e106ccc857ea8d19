/*
 * Allocation that aborts on exhaustion, and fl_buf, the growable string
 * buffer that lives in the caller's memory (modelled on git's strbuf).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

char fl_buf_empty[1];

void fl_die(const char *fmt, ...)
{
	va_list ap;

	fputs("frontline: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *fl_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fl_die("out of memory allocating %zu bytes", n);
	return p;
}

void *fl_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		fl_die("out of memory allocating %zu x %zu bytes", nmemb, size);
	return p;
}

void *fl_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		fl_die("out of memory reallocating %zu bytes", n);
	return q;
}

void *fl_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		fl_die("allocation of %zu x %zu bytes overflows", nmemb, size);
	return fl_realloc(p, nmemb * size);
}

char *fl_strdup(const char *s)
{
	return s ? fl_strndup(s, strlen(s)) : NULL;
}

char *fl_strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	n = strnlen(s, n);
	p = fl_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *fl_vasprintf(const char *fmt, va_list ap)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_vaddf(&b, fmt, ap);
	return fl_buf_detach(&b, NULL);
}

char *fl_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = fl_vasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void fl_buf_init(struct fl_buf *b, size_t hint)
{
	b->buf = fl_buf_empty;
	b->len = 0;
	b->alloc = 0;
	if (hint)
		fl_buf_grow(b, hint);
}

void fl_buf_release(struct fl_buf *b)
{
	if (b->alloc)
		free(b->buf);
	fl_buf_init(b, 0);
}

char *fl_buf_detach(struct fl_buf *b, size_t *len)
{
	char *s;

	if (!b->alloc)
		fl_buf_grow(b, 0);
	s = b->buf;
	if (len)
		*len = b->len;
	fl_buf_init(b, 0);
	return s;
}

void fl_buf_reset(struct fl_buf *b)
{
	fl_buf_setlen(b, 0);
}

void fl_buf_grow(struct fl_buf *b, size_t extra)
{
	size_t need;

	if (extra > SIZE_MAX - b->len - 1)
		fl_die("buffer of %zu bytes cannot grow by %zu", b->len, extra);
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (!b->alloc)
		b->buf = NULL;
	b->alloc = b->alloc ? b->alloc : 64;
	while (b->alloc < need)
		b->alloc = b->alloc < SIZE_MAX / 2 ? b->alloc * 2 : need;
	b->buf = fl_realloc(b->buf, b->alloc);
	b->buf[b->len] = '\0';
}

void fl_buf_add(struct fl_buf *b, const void *data, size_t n)
{
	if (!n)
		return;
	fl_buf_grow(b, n);
	memcpy(b->buf + b->len, data, n);
	fl_buf_setlen(b, b->len + n);
}

void fl_buf_adds(struct fl_buf *b, const char *s)
{
	fl_buf_add(b, s, strlen(s));
}

void fl_buf_addch(struct fl_buf *b, int c)
{
	fl_buf_grow(b, 1);
	b->buf[b->len] = (char)c;
	fl_buf_setlen(b, b->len + 1);
}

void fl_buf_vaddf(struct fl_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	fl_buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		fl_die("vsnprintf failed for format '%s'", fmt);
	if ((size_t)n >= b->alloc - b->len) {
		fl_buf_grow(b, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
		va_end(cp);
	}
	fl_buf_setlen(b, b->len + (size_t)n);
}

void fl_buf_addf(struct fl_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fl_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void fl_buf_setlen(struct fl_buf *b, size_t len)
{
	if (len > (b->alloc ? b->alloc - 1 : 0))
		fl_die("fl_buf_setlen beyond buffer (%zu > %zu)", len, b->alloc);
	b->len = len;
	if (b->alloc)
		b->buf[len] = '\0';
}

void fl_buf_rtrim(struct fl_buf *b)
{
	size_t n = b->len;

	while (n && (b->buf[n - 1] == ' ' || b->buf[n - 1] == '\t' ||
		     b->buf[n - 1] == '\n' || b->buf[n - 1] == '\r'))
		n--;
	fl_buf_setlen(b, n);
}
