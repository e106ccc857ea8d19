/*
 * sla: business time. A calendar is an IANA time zone, weekly opening
 * windows per weekday (a window whose end is not after its start spans
 * midnight into the next day) and holidays (local dates on which no window
 * starts). The module answers two questions in that calendar: when does a
 * clock of N business minutes started at t run out, and how much business
 * time lies between a and b; both skip paused intervals (a ticket waiting
 * on its customer). It also parses and prints a calendar's JSON, the body
 * of PUT /api/v1/sla/calendars/{id}, with a field-level error.
 *
 * Times are seconds since the Unix epoch (UTC). Zones are read from the
 * system's tz database (TZif files under /usr/share/zoneinfo, or
 * $TZDIR) into the calendar, never through the process-wide TZ of
 * localtime_r, so calendars of different zones are used from several
 * threads at once. A calendar is immutable once made.
 *
 * What it leaves to others: which calendar and how many minutes apply to a
 * ticket (the policies, src/store and src/server), when a clock is paused
 * (the ticket's history), and what to do once a clock runs out (the
 * service's sweep).
 */
#ifndef FL_SLA_H
#define FL_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SLA_ERRORS(X)                                                   \
	X(OK, "success")                                                \
	X(EINVAL, "invalid calendar")                                   \
	X(ENOZONE, "unknown time zone")                                 \
	X(ENOMEM, "out of memory")

enum sla_err {
#define SLA_ENUM(name, text) SLA_##name,
	SLA_ERRORS(SLA_ENUM)
#undef SLA_ENUM
};

/* A static description of an error code. */
const char *sla_strerror(int err);

/* "Never": the due time of a clock that cannot run out (paused for good). */
#define SLA_NEVER INT64_MAX

/* An interval [from, to) in seconds; to = SLA_NEVER for one still open. */
struct sla_interval {
	int64_t from, to;
};

struct sla_calendar;

/*
 * A detail of a failed parse: the field (a JSON path such as
 * "hours.mon[0][1]" or "timezone") and a message, both NUL-terminated.
 */
struct sla_error {
	char field[64];
	char message[160];
};

/*
 * Parse a calendar's JSON: {"timezone": "Europe/Berlin", "hours": {"mon":
 * [["09:00", "17:00"]], ...}, "holidays": ["2026-12-25", ...]}. Missing
 * days are closed; "24:00" ends a day; "00:00"-"00:00" is the whole day.
 * "timezone" defaults to "UTC". At least one window is required. On success
 * *out is a new calendar the caller frees with sla_calendar_free. On error
 * returns SLA_EINVAL or SLA_ENOZONE with err (when not NULL) filled.
 */
int sla_calendar_parse(const json_t *doc, struct sla_calendar **out, struct sla_error *err);

/* A new calendar open all the time in UTC (the default policy's); NULL when out of memory. */
struct sla_calendar *sla_calendar_24x7(void);

/* Frees a calendar; NULL is fine. */
void sla_calendar_free(struct sla_calendar *cal);

/* The calendar as JSON in the form sla_calendar_parse reads (normalised); caller decrefs. */
json_t *sla_calendar_json(const struct sla_calendar *cal);

/* The calendar's zone name ("Europe/Berlin"); owned by the calendar. */
const char *sla_calendar_timezone(const struct sla_calendar *cal);

/* True when t lies inside one of the calendar's windows (and not on a holiday's). */
bool sla_is_business_time(const struct sla_calendar *cal, int64_t t);

/*
 * The time at which `seconds` of business time have passed since start,
 * not counting the paused intervals (sorted or not, may overlap, at most a
 * few dozen). A clock that starts outside the windows starts at the next
 * window. Returns SLA_NEVER when the pauses never end before the clock
 * runs out, or when the calendar has no window in the next ten years.
 */
int64_t sla_add_business(const struct sla_calendar *cal, int64_t start, int64_t seconds,
			 const struct sla_interval *paused, size_t npaused);

/* Business seconds in [a, b), not counting the paused intervals; 0 when b <= a. */
int64_t sla_business_between(const struct sla_calendar *cal, int64_t a, int64_t b,
			     const struct sla_interval *paused, size_t npaused);

/*
 * The UTC offset in seconds of the calendar's zone at t (east positive),
 * as the tz database has it; exported for the tests and the console.
 */
int32_t sla_utc_offset(const struct sla_calendar *cal, int64_t t);

/*
 * Checks a policy's JSON: {"calendar": id, "match": {"priority": [...],
 * "customer_tier": [...], "channel": [...], "category": [...]},
 * "first_response_min", "next_response_min"?, "resolution_min",
 * "position"?}. Minutes are whole numbers from 1 to a leap year's. The
 * fields the store adds (id, version, updated_by, updated_at) are allowed
 * so that a GET's answer can be PUT back. Whether the calendar exists is
 * not checked here. SLA_OK, or SLA_EINVAL with err (may be NULL) filled.
 */
int sla_policy_check(const json_t *body, struct sla_error *err);

/* What a policy's match looks at; NULL fields match only policies that leave them out. */
struct sla_ticket_facts {
	const char *priority, *customer_tier, *channel, *category;
};

/*
 * The first policy of the list (borrowed from it) whose match admits the
 * ticket: each listed key must hold the ticket's value; an absent or
 * empty list admits every value. NULL when none does.
 */
const json_t *sla_policy_pick(const json_t *policies, const struct sla_ticket_facts *t);

/* ---- a ticket's clocks (ticket.c) ---- */

enum sla_state { SLA_STATE_OK, SLA_STATE_WARNING, SLA_STATE_BREACHED };
enum sla_clock { SLA_CLOCK_FIRST_RESPONSE, SLA_CLOCK_NEXT_RESPONSE, SLA_CLOCK_RESOLUTION, SLA_CLOCKS };

struct sla_ticket_state {
	int64_t first_due, next_due, resolution_due;   /* SLA_NEVER: none, or paused */
	int state;                                     /* enum sla_state: the worst clock's */
	bool paused;                                   /* waiting on the customer now */
	int clock_state[SLA_CLOCKS];                   /* each clock's (a clock not running: ok) */
};

/* "first_response", "next_response", "resolution". */
const char *sla_clock_name(int clock);

/*
 * A ticket's SLA at now (seconds) under policy (first_response_min,
 * next_response_min (default: the first's), resolution_min) in cal: due
 * times in business time, skipping the intervals the ticket waited on its
 * customer (status "pending" or "waiting_on_customer" until another
 * status or the customer's next message). ticket is the store's record
 * (created_at, first_response_at, resolved_at, status); events its audit
 * log oldest first (ticket.status, ticket.replied,
 * ticket.customer_replied). The state is breached when a clock ran out
 * (met late, or open past its due time), warning when an open clock has
 * used 80 % of its time (never while paused), else ok.
 */
void sla_ticket_evaluate(const struct sla_calendar *cal, const json_t *policy, const json_t *ticket,
			 const json_t *events, int64_t now, struct sla_ticket_state *out);

/* "ok", "warning" or "breached". */
const char *sla_state_name(int state);

/*
 * The API's form: {policy, first_response_due_at, next_response_due_at,
 * resolution_due_at (RFC 3339 or null), state, paused}. Caller decrefs.
 */
json_t *sla_ticket_state_json(const char *policy_id, const struct sla_ticket_state *s);

/*
 * The response-time table Frontline has always shown (DESIGN §5): seconds
 * to the first response for a priority ("urgent", "high", "medium", "low")
 * and a customer tier ("enterprise", "premium", anything else standard).
 * An unknown priority gets low's. The default SLA policies reproduce it on
 * a 24x7 calendar.
 */
int64_t sla_default_seconds(const char *priority, const char *tier);

/*
 * The default policies as the JSON list PUT /api/v1/sla/policies/{id}
 * bodies form, each with its "id": one per priority and tier ("urgent-
 * enterprise" ... "low-standard"), in the order they are tried, on the
 * calendar "24x7"; next response as the first, resolution eight times the
 * first. Caller decrefs.
 */
json_t *sla_default_policies(void);

#endif
