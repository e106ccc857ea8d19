/*
 * Calendars and the business-time arithmetic over them.
 *
 * A calendar's windows are minutes after local midnight [start, end) per
 * weekday; a window spanning midnight has end > 1440 (22:00-06:00 is
 * 1320-1800). Business time is real elapsed time inside the windows, so a
 * night window shrinks by an hour when the clocks go forward inside it and
 * grows when they go back. A holiday is a local date on which no window
 * starts (the tail of the previous night's window still counts).
 *
 * The arithmetic walks the windows in order from a point in time: the
 * first window that ends after t (windows of one local day are sorted, and
 * each day's start after the previous day's), clipped to t, then the paused
 * intervals cut out of it. Overlapping windows need no merging: the walk
 * resumes from the end of what it consumed.
 */
#include <stdlib.h>
#include <string.h>

#include "sla/sla_int.h"
#include "util/util.h"

#define SLA_MAX_WINDOWS 8          /* per weekday */
#define SLA_MAX_HOLIDAYS 1000
#define SLA_SEARCH_DAYS 3660       /* how far a clock looks for the next window */

struct sla_window {
	int16_t start, end;        /* minutes after local midnight; end <= start + 1440 */
};

struct sla_calendar {
	char *timezone;
	struct sla__zone zone;
	struct sla_window win[7][SLA_MAX_WINDOWS];   /* Sunday first */
	int nwin[7];
	int64_t *holidays;         /* local days since the epoch, ascending */
	size_t nholidays;
};

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

const char *sla_strerror(int err)
{
	switch (err) {
#define SLA_STR(name, text) case SLA_##name: return text;
	SLA_ERRORS(SLA_STR)
#undef SLA_STR
	}
	return "unknown error";
}

void sla_calendar_free(struct sla_calendar *cal)
{
	if (!cal)
		return;
	sla__zone_release(&cal->zone);
	free(cal->timezone);
	free(cal->holidays);
	free(cal);
}

static struct sla_calendar *calendar_new(const char *tz)
{
	struct sla_calendar *cal = calloc(1, sizeof(*cal));

	if (!cal)
		return NULL;
	cal->timezone = strdup(tz);
	if (!cal->timezone) {
		free(cal);
		return NULL;
	}
	sla__zone_utc(&cal->zone);
	return cal;
}

struct sla_calendar *sla_calendar_24x7(void)
{
	struct sla_calendar *cal = calendar_new("UTC");
	int d;

	if (!cal)
		return NULL;
	for (d = 0; d < 7; d++) {
		cal->win[d][0] = (struct sla_window){ 0, 1440 };
		cal->nwin[d] = 1;
	}
	return cal;
}

const char *sla_calendar_timezone(const struct sla_calendar *cal)
{
	return cal->timezone;
}

int32_t sla_utc_offset(const struct sla_calendar *cal, int64_t t)
{
	return sla__zone_offset(&cal->zone, t);
}

/* ---- parsing ---- */

static int fail(struct sla_error *err, int rc, const char *field, const char *message)
{
	if (err) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return rc;
}

static bool digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "HH:MM" into minutes; "24:00" only when end */
static bool parse_hhmm(const char *s, bool end, int *out)
{
	int h, m;

	if (strlen(s) != 5 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2))
		return false;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m || !end)))
		return false;
	*out = h * 60 + m;
	return true;
}

static bool parse_date(const char *s, int64_t *day)
{
	int y, m, d, yy, mm, dd;

	if (strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return false;
	y = (int)strtol(s, NULL, 10);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	*day = sla__days_from_civil(y, m, d);
	sla__civil_from_days(*day, &yy, &mm, &dd);
	return yy == y && mm == m && dd == d;   /* rejects 2026-02-30 */
}

static int cmp_window(const void *a, const void *b)
{
	const struct sla_window *x = a, *y = b;

	return x->start - y->start;
}

static int cmp_day(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int parse_hours(struct sla_calendar *cal, const json_t *hours, struct sla_error *err)
{
	char field[64];
	const char *key;
	json_t *list;
	int total = 0;

	if (!json_is_object(hours))
		return fail(err, SLA_EINVAL, "hours", "must be an object of weekdays (\"mon\" ... \"sun\")");
	json_object_foreach((json_t *)hours, key, list) {
		int d, n = 0;
		size_t i;
		json_t *w;

		for (d = 0; d < 7 && strcmp(key, day_names[d]); d++)
			;
		snprintf(field, sizeof(field), "hours.%.20s", key);
		if (d == 7)
			return fail(err, SLA_EINVAL, field, "unknown weekday (expected mon, tue, wed, thu, fri, sat or sun)");
		if (!json_is_array(list))
			return fail(err, SLA_EINVAL, field, "must be a list of [\"HH:MM\", \"HH:MM\"] windows");
		if (json_array_size(list) > SLA_MAX_WINDOWS)
			return fail(err, SLA_EINVAL, field, "too many windows (at most 8 a day)");
		json_array_foreach(list, i, w) {
			int start, end;

			snprintf(field, sizeof(field), "hours.%s[%zu]", key, i);
			if (!json_is_array(w) || json_array_size(w) != 2)
				return fail(err, SLA_EINVAL, field, "must be a pair [\"HH:MM\", \"HH:MM\"]");
			snprintf(field, sizeof(field), "hours.%s[%zu][0]", key, i);
			if (!json_is_string(json_array_get(w, 0)) ||
			    !parse_hhmm(json_string_value(json_array_get(w, 0)), false, &start))
				return fail(err, SLA_EINVAL, field, "must be a time \"HH:MM\" from 00:00 to 23:59");
			snprintf(field, sizeof(field), "hours.%s[%zu][1]", key, i);
			if (!json_is_string(json_array_get(w, 1)) ||
			    !parse_hhmm(json_string_value(json_array_get(w, 1)), true, &end))
				return fail(err, SLA_EINVAL, field, "must be a time \"HH:MM\" from 00:00 to 24:00");
			if (end <= start)
				end += 1440;   /* spans midnight; 00:00-00:00 is the whole day */
			cal->win[d][n++] = (struct sla_window){ (int16_t)start, (int16_t)end };
		}
		qsort(cal->win[d], (size_t)n, sizeof(cal->win[d][0]), cmp_window);
		cal->nwin[d] = n;
		total += n;
	}
	if (!total)
		return fail(err, SLA_EINVAL, "hours", "needs at least one window");
	return SLA_OK;
}

static int parse_holidays(struct sla_calendar *cal, const json_t *list, struct sla_error *err)
{
	char field[64];
	size_t i, n = 0;
	json_t *v;

	if (!list)
		return SLA_OK;
	if (!json_is_array(list))
		return fail(err, SLA_EINVAL, "holidays", "must be a list of dates \"YYYY-MM-DD\"");
	if (json_array_size(list) > SLA_MAX_HOLIDAYS)
		return fail(err, SLA_EINVAL, "holidays", "too many holidays (at most 1000)");
	cal->holidays = malloc((json_array_size(list) + 1) * sizeof(*cal->holidays));
	if (!cal->holidays)
		return fail(err, SLA_ENOMEM, "holidays", "out of memory");
	json_array_foreach(list, i, v) {
		int64_t day;

		snprintf(field, sizeof(field), "holidays[%zu]", i);
		if (!json_is_string(v) || !parse_date(json_string_value(v), &day))
			return fail(err, SLA_EINVAL, field, "must be a date \"YYYY-MM-DD\"");
		cal->holidays[n++] = day;
	}
	qsort(cal->holidays, n, sizeof(*cal->holidays), cmp_day);
	cal->nholidays = n;
	return SLA_OK;
}

int sla_calendar_parse(const json_t *doc, struct sla_calendar **out, struct sla_error *err)
{
	struct sla_calendar *cal = NULL;
	const char *key, *tz = "UTC";
	json_t *v;
	int rc = SLA_EINVAL;

	*out = NULL;
	if (!json_is_object(doc)) {
		rc = fail(err, SLA_EINVAL, "", "a calendar must be a JSON object");
		goto out;
	}
	json_object_foreach((json_t *)doc, key, v) {
		if (strcmp(key, "timezone") && strcmp(key, "hours") && strcmp(key, "holidays")) {
			char field[64];

			snprintf(field, sizeof(field), "%.60s", key);
			rc = fail(err, SLA_EINVAL, field, "unknown field (expected timezone, hours, holidays)");
			goto out;
		}
	}
	v = json_object_get(doc, "timezone");
	if (v && !json_is_string(v)) {
		rc = fail(err, SLA_EINVAL, "timezone", "must be an IANA time zone name such as \"Europe/Berlin\"");
		goto out;
	}
	if (v)
		tz = json_string_value(v);
	cal = calendar_new(tz);
	if (!cal) {
		rc = fail(err, SLA_ENOMEM, "", "out of memory");
		goto out;
	}
	if (strcmp(tz, "UTC")) {
		rc = sla__zone_load(&cal->zone, tz);
		if (rc != SLA_OK) {
			rc = fail(err, rc, "timezone", rc == SLA_ENOZONE
				  ? "unknown time zone (an IANA name such as \"Europe/Berlin\")" : "out of memory");
			goto out;
		}
	}
	if (!json_object_get(doc, "hours")) {
		rc = fail(err, SLA_EINVAL, "hours", "is required");
		goto out;
	}
	rc = parse_hours(cal, json_object_get(doc, "hours"), err);
	if (rc != SLA_OK)
		goto out;
	rc = parse_holidays(cal, json_object_get(doc, "holidays"), err);
	if (rc != SLA_OK)
		goto out;
	*out = cal;
	cal = NULL;
out:
	sla_calendar_free(cal);
	return rc;
}

static void add_hhmm(json_t *pair, int minutes)
{
	char s[8];

	if (minutes != 1440)
		minutes %= 1440;
	snprintf(s, sizeof(s), "%02d:%02d", minutes / 60, minutes % 60);
	json_array_append_new(pair, json_string(s));
}

json_t *sla_calendar_json(const struct sla_calendar *cal)
{
	json_t *doc = json_object(), *hours = json_object(), *hol = json_array();
	size_t i;
	int d, k;

	for (d = 1; d <= 7; d++) {   /* Monday first, as people write them */
		int wd = d % 7;
		json_t *list;

		if (!cal->nwin[wd])
			continue;
		list = json_array();
		for (k = 0; k < cal->nwin[wd]; k++) {
			json_t *pair = json_array();

			add_hhmm(pair, cal->win[wd][k].start);
			add_hhmm(pair, cal->win[wd][k].end);
			json_array_append_new(list, pair);
		}
		json_object_set_new(hours, day_names[wd], list);
	}
	for (i = 0; i < cal->nholidays; i++) {
		char s[16];
		int y, m, dd;

		sla__civil_from_days(cal->holidays[i], &y, &m, &dd);
		snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, dd);
		json_array_append_new(hol, json_string(s));
	}
	json_object_set_new(doc, "timezone", json_string(cal->timezone));
	json_object_set_new(doc, "hours", hours);
	json_object_set_new(doc, "holidays", hol);
	return doc;
}

/* ---- the arithmetic ---- */

static bool is_holiday(const struct sla_calendar *cal, int64_t day)
{
	size_t lo = 0, hi = cal->nholidays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->holidays[mid] == day)
			return true;
		if (cal->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* The first window [*from, *to) with *to > t; false when none within SLA_SEARCH_DAYS. */
static bool next_window(const struct sla_calendar *cal, int64_t t, int64_t *from, int64_t *to)
{
	int64_t day = sla__floordiv(t + sla__zone_offset(&cal->zone, t), 86400) - 2, end = day + SLA_SEARCH_DAYS;

	for (; day < end; day++) {
		int wd = (int)(((day + 4) % 7 + 7) % 7), k;

		if (!cal->nwin[wd] || is_holiday(cal, day))
			continue;
		for (k = 0; k < cal->nwin[wd]; k++) {
			int64_t e = sla__zone_to_utc(&cal->zone, day * 86400 + cal->win[wd][k].end * 60);

			if (e <= t)
				continue;
			*from = sla__zone_to_utc(&cal->zone, day * 86400 + cal->win[wd][k].start * 60);
			*to = e;
			return true;
		}
	}
	return false;
}

/*
 * The first stretch [*from, *to) at or after t inside a window and outside
 * every pause; false when there is none (no window, or a pause that never ends).
 */
static bool next_active(const struct sla_calendar *cal, int64_t t, const struct sla_interval *paused,
			size_t npaused, int64_t *from, int64_t *to)
{
	for (;;) {
		int64_t wf, wt, s;
		bool moved;
		size_t i;

		if (t == SLA_NEVER || !next_window(cal, t, &wf, &wt))
			return false;
		s = wf > t ? wf : t;
		do {   /* pauses may chain: repeat until s is outside all */
			moved = false;
			for (i = 0; i < npaused; i++)
				if (paused[i].from <= s && s < paused[i].to) {
					s = paused[i].to;
					moved = true;
				}
		} while (moved && s != SLA_NEVER);
		if (s >= wt) {
			t = s;
			continue;
		}
		*from = s;
		*to = wt;
		for (i = 0; i < npaused; i++)
			if (paused[i].from > s && paused[i].from < *to)
				*to = paused[i].from;
		return true;
	}
}

int64_t sla_add_business(const struct sla_calendar *cal, int64_t start, int64_t seconds,
			 const struct sla_interval *paused, size_t npaused)
{
	int64_t t = start, from, to;

	if (seconds <= 0)
		return start;
	while (next_active(cal, t, paused, npaused, &from, &to)) {
		if (to - from >= seconds)
			return from + seconds;
		seconds -= to - from;
		t = to;
	}
	return SLA_NEVER;
}

int64_t sla_business_between(const struct sla_calendar *cal, int64_t a, int64_t b,
			     const struct sla_interval *paused, size_t npaused)
{
	int64_t t = a, from, to, sum = 0;

	while (t < b && next_active(cal, t, paused, npaused, &from, &to) && from < b) {
		sum += (to < b ? to : b) - from;
		t = to;
	}
	return sum;
}

bool sla_is_business_time(const struct sla_calendar *cal, int64_t t)
{
	int64_t from, to;

	return next_window(cal, t, &from, &to) && from <= t;
}
