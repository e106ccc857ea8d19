/*
 * Time zones from the system's tz database without the process-wide TZ:
 * a TZif file (RFC 8536) is read into a table of transitions and offsets,
 * and the POSIX TZ string of its footer gives the offsets after the last
 * transition (Debian's "fat" files list transitions up to 2037; "slim"
 * ones stop at the last rule change and rely on the footer).
 *
 * Only the version 2+ 64-bit data block is used; leap seconds are ignored
 * (the "right/" zones are not meant for civil time). The footer rules
 * understood are the "Mm.w.d[/time]" form every current zone uses; a footer
 * in the Julian forms is treated as absent (the last offset stays).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla/sla_int.h"
#include "util/util.h"

#define ZONE_MAX_FILE (256 * 1024)

int64_t sla__days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's days_from_civil */
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void sla__civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

void sla__zone_utc(struct sla__zone *z)
{
	memset(z, 0, sizeof(*z));
}

void sla__zone_release(struct sla__zone *z)
{
	free(z->at);
	free(z->off);
	memset(z, 0, sizeof(*z));
}

static int64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	if (n == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}

/* ---- the footer: "CET-1CEST,M3.5.0,M10.5.0/3" ---- */

static bool tz_name(const char **s)
{
	const char *p = *s;

	if (*p == '<') {
		p = strchr(p, '>');
		if (!p)
			return false;
		*s = p + 1;
		return true;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return false;
	*s = p;
	return true;
}

static bool tz_num(const char **s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	v = strtol(*s, &end, 10);
	if (errno || v < lo || v > hi)
		return false;
	*s = end;
	*out = v;
	return true;
}

/* [+-]hh[:mm[:ss]] as seconds */
static bool tz_hms(const char **s, long max_hours, int32_t *out)
{
	long h, m = 0, sec = 0;
	int sign = 1;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!tz_num(s, 0, max_hours, &h))
		return false;
	if (**s == ':') {
		(*s)++;
		if (!tz_num(s, 0, 59, &m))
			return false;
		if (**s == ':') {
			(*s)++;
			if (!tz_num(s, 0, 59, &sec))
				return false;
		}
	}
	*out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return true;
}

static bool tz_rule(const char **s, struct sla__rule *r)
{
	long v;

	if (*(*s)++ != 'M' || !tz_num(s, 1, 12, &v))
		return false;
	r->month = (int)v;
	if (*(*s)++ != '.' || !tz_num(s, 1, 5, &v))
		return false;
	r->week = (int)v;
	if (*(*s)++ != '.' || !tz_num(s, 0, 6, &v))
		return false;
	r->wday = (int)v;
	r->time = 7200;
	if (**s == '/') {
		(*s)++;
		return tz_hms(s, 167, &r->time);
	}
	return true;
}

static void parse_footer(struct sla__zone *z, const char *s)
{
	int32_t std, dst;

	if (!tz_name(&s) || !tz_hms(&s, 24, &std))
		return;
	z->std_off = -std;
	z->has_footer = true;
	if (!*s)
		return;
	if (!tz_name(&s))
		goto bad;
	dst = std - 3600;
	if (*s != ',' && !tz_hms(&s, 24, &dst))
		goto bad;
	z->dst_off = -dst;
	if (*s++ != ',' || !tz_rule(&s, &z->start) || *s++ != ',' || !tz_rule(&s, &z->end) || *s)
		goto bad;
	z->has_dst = true;
	return;
bad:
	z->has_footer = false;
	z->has_dst = false;
}

/* The UTC instant of a rule in year y, its time read in the offset `off`. */
static int64_t rule_instant(const struct sla__rule *r, int y, int32_t off)
{
	int64_t first = sla__days_from_civil(y, r->month, 1);
	int wday_first = (int)(((first % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday */
	int64_t day = first + (r->wday - wday_first + 7) % 7 + (int64_t)(r->week - 1) * 7;
	int ny = r->month == 12 ? y + 1 : y, nm = r->month == 12 ? 1 : r->month + 1;
	int64_t next = sla__days_from_civil(ny, nm, 1);

	while (day >= next)
		day -= 7;
	return day * 86400 + r->time - off;
}

static int32_t footer_offset(const struct sla__zone *z, int64_t t)
{
	int y, m, d;
	int64_t start, end;

	if (!z->has_dst)
		return z->std_off;
	sla__civil_from_days(sla__floordiv(t + z->std_off, 86400), &y, &m, &d);
	start = rule_instant(&z->start, y, z->std_off);
	end = rule_instant(&z->end, y, z->dst_off);
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	/* southern hemisphere: DST spans the new year */
	return t >= end && t < start ? z->std_off : z->dst_off;
}

int32_t sla__zone_offset(const struct sla__zone *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (!z->n || t < z->at[0])
		return z->n || !z->has_footer ? z->first_off : footer_offset(z, t);
	if (t >= z->at[z->n - 1] && z->has_footer)
		return footer_offset(z, t);
	while (hi - lo > 1) {   /* at[lo] <= t < at[hi] */
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

int64_t sla__zone_to_utc(const struct sla__zone *z, int64_t local)
{
	/* the offsets in force a day either side bound every candidate */
	int32_t before = sla__zone_offset(z, local - 86400), after = sla__zone_offset(z, local + 86400);
	int64_t u1 = local - before, u2 = local - after;
	bool ok1 = sla__zone_offset(z, u1) == before, ok2 = sla__zone_offset(z, u2) == after;

	if (ok1 && ok2)
		return u1 < u2 ? u1 : u2;   /* twice: the first */
	if (ok1)
		return u1;
	if (ok2)
		return u2;
	/* skipped: as far after the change as local is after the gap's start */
	return local - before;
}

static bool name_ok(const char *name)
{
	const char *p;

	if (!*name || *name == '/' || strstr(name, "..") || strlen(name) > 64)
		return false;
	for (p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '/' || *p == '_' || *p == '+' || *p == '-'))
			return false;
	return true;
}

static int parse_tzif(struct sla__zone *z, const unsigned char *p, size_t len)
{
	int64_t cnt[6];
	size_t skip, i, need;
	const unsigned char *q, *types, *idx;
	int k;

	if (len < 44 || memcmp(p, "TZif", 4))
		return SLA_ENOZONE;
	if (p[4] < '2')
		return SLA_ENOZONE;   /* version 1 files: 32-bit only, not shipped since 2005 */
	/* skip the version 1 block: counts isutc, isstd, leap, time, type, char */
	for (k = 0; k < 6; k++)
		cnt[k] = be(p + 20 + 4 * k, 4);
	skip = 44 + (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 + (size_t)cnt[5] + (size_t)cnt[2] * 8 +
	       (size_t)cnt[1] + (size_t)cnt[0];
	if (skip + 44 > len || memcmp(p + skip, "TZif", 4))
		return SLA_ENOZONE;
	q = p + skip;
	for (k = 0; k < 6; k++) {
		cnt[k] = be(q + 20 + 4 * k, 4);
		if (cnt[k] < 0 || cnt[k] > 100000)
			return SLA_ENOZONE;
	}
	need = 44 + (size_t)cnt[3] * 9 + (size_t)cnt[4] * 6 + (size_t)cnt[5] + (size_t)cnt[2] * 12 +
	       (size_t)cnt[1] + (size_t)cnt[0];
	if (skip + need > len || cnt[4] < 1)
		return SLA_ENOZONE;
	idx = q + 44 + (size_t)cnt[3] * 8;
	types = idx + (size_t)cnt[3];
	z->n = (size_t)cnt[3];
	if (z->n) {
		z->at = malloc(z->n * sizeof(*z->at));
		z->off = malloc(z->n * sizeof(*z->off));
		if (!z->at || !z->off)
			return SLA_ENOMEM;
	}
	for (i = 0; i < z->n; i++) {
		if (idx[i] >= cnt[4])
			return SLA_ENOZONE;
		z->at[i] = be(q + 44 + i * 8, 8);
		z->off[i] = (int32_t)be(types + (size_t)idx[i] * 6, 4);
		if (i && z->at[i] <= z->at[i - 1])
			return SLA_ENOZONE;
	}
	/* before the first transition: the first non-DST type, else type 0 (RFC 8536 §3.2) */
	z->first_off = (int32_t)be(types, 4);
	for (k = 0; k < cnt[4]; k++)
		if (!types[(size_t)k * 6 + 4]) {
			z->first_off = (int32_t)be(types + (size_t)k * 6, 4);
			break;
		}
	q += need;
	if (q < p + len && *q == '\n') {
		const unsigned char *nl = memchr(q + 1, '\n', (size_t)(p + len - q - 1));
		char footer[128];

		if (nl && (size_t)(nl - q - 1) < sizeof(footer)) {
			memcpy(footer, q + 1, (size_t)(nl - q - 1));
			footer[nl - q - 1] = '\0';
			parse_footer(z, footer);
		}
	}
	return SLA_OK;
}

int sla__zone_load(struct sla__zone *z, const char *name)
{
	const char *dir = getenv("TZDIR");
	struct fl_buf path = FL_BUF_INIT;
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc = SLA_ENOZONE;

	sla__zone_utc(z);
	if (!name_ok(name))
		goto out;
	fl_buf_addf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	f = fopen(path.buf, "rb");
	if (!f)
		goto out;
	data = malloc(ZONE_MAX_FILE);
	if (!data) {
		rc = SLA_ENOMEM;
		goto out;
	}
	len = fread(data, 1, ZONE_MAX_FILE, f);
	if (ferror(f) || len == ZONE_MAX_FILE)
		goto out;
	rc = parse_tzif(z, data, len);
out:
	if (rc != SLA_OK)
		sla__zone_release(z);
	if (f)
		fclose(f);
	free(data);
	fl_buf_release(&path);
	return rc;
}
