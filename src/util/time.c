/*
 * Clocks, sleeping and RFC 3339 timestamps, plus secure random numbers from
 * libsodium. Callers that need a fake clock (tests) inject one through their
 * own options; these are the real ones.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "util.h"

int64_t fl_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t fl_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int fl_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec ts;

	if (ms < 0)
		ms = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_cond_timedwait(c, m, &ts);
}

void fl_sleep_us(int64_t us)
{
	struct timespec ts;

	if (us <= 0)
		return;
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void fl_time_rfc3339(char out[32], int64_t wall_us)
{
	time_t secs = (time_t)(wall_us / 1000000);
	struct tm tm;
	char buf[128];
	int ms = (int)((wall_us % 1000000) / 1000);

	if (wall_us < 0 && wall_us % 1000000) {
		secs--;
		ms = (int)((1000000 + wall_us % 1000000) / 1000);
	}
	/* four digits of year, as RFC 3339 and fl_time_parse want (strftime's %Y pads none) */
	if (!gmtime_r(&secs, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		fl_strlcpy(out, "0000-00-00T00:00:00.000Z", 32);
		return;
	}
	snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
	fl_strlcpy(out, buf, 32);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

int fl_time_parse(const char *s, int64_t *wall_us)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac_us = 0, off = 0;
	const char *p = s;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!s || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) ||
	    *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				int scale = 100000;

				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9') {
					frac_us += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if (digits(&p, 2, &oh))
				return -1;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &om))
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* an instant fl_time_rfc3339 can write back: 0000-01-01 to 9999-12-31 in UTC */
	if ((int64_t)t - off < INT64_C(-62167219200) || (int64_t)t - off > INT64_C(253402300799))
		return -1;
	*wall_us = ((int64_t)t - off) * 1000000 + frac_us;
	return 0;
}

static void random_init(void)
{
	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
}

void fl_random_bytes(void *out, size_t n)
{
	random_init();
	randombytes_buf(out, n);
}

uint64_t fl_random_u64(void)
{
	uint64_t v;

	fl_random_bytes(&v, sizeof(v));
	return v;
}

double fl_random_unit(void)
{
	return (double)(fl_random_u64() >> 11) / (double)(UINT64_C(1) << 53);
}
