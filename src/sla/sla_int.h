/*
 * sla's internals: the time zone read from a TZif file (zone.c), used by
 * the calendar arithmetic (calendar.c).
 */
#ifndef FL_SLA_INT_H
#define FL_SLA_INT_H

#include "sla/sla.h"

/* A POSIX TZ rule "Mm.w.d/time" (the TZif footer's, for times after the table). */
struct sla__rule {
	int month, week, wday;   /* 1-12, 1-5 (5 = last), 0-6 (Sunday 0) */
	int32_t time;            /* seconds after local midnight */
};

struct sla__zone {
	size_t n;                /* transitions */
	int64_t *at;             /* UTC instants, ascending */
	int32_t *off;            /* the offset in force from at[i] on */
	int32_t first_off;       /* before at[0] */
	/* the footer: std_off alone, or with DST between the two rules */
	bool has_footer, has_dst;
	int32_t std_off, dst_off;
	struct sla__rule start, end;
};

/*
 * Load zone `name` ("UTC", "Europe/Berlin") from $TZDIR or
 * /usr/share/zoneinfo into z. Rejects names with "..", a leading "/" or
 * characters outside [A-Za-z0-9/_+-]. Returns SLA_OK, SLA_ENOZONE (no
 * such zone or not a TZif file) or SLA_ENOMEM.
 */
int sla__zone_load(struct sla__zone *z, const char *name);
void sla__zone_release(struct sla__zone *z);
/* A fixed UTC zone. */
void sla__zone_utc(struct sla__zone *z);
/* The offset at UTC instant t. */
int32_t sla__zone_offset(const struct sla__zone *z, int64_t t);
/*
 * The UTC instant of local time `local` (seconds since the epoch as if the
 * zone were UTC). A local time skipped by a change forward maps to the
 * same distance after the change; one that occurs twice maps to the first.
 */
int64_t sla__zone_to_utc(const struct sla__zone *z, int64_t local);

/* a / b rounded down (b > 0) */
static inline int64_t sla__floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t sla__days_from_civil(int y, int m, int d);
void sla__civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
