/*
 * Tests of the business-time arithmetic (src/sla): tables of clocks in
 * calendars with time zones across the daylight-saving changes of
 * Europe/Berlin and America/New_York (2026: 29 March and 25 October; 8
 * March and 1 November), holidays, windows spanning midnight, overlapping
 * windows and pauses; the zone reader against the tz database (offsets
 * from the table and, past 2037, from the footer's rule); the calendar's
 * JSON with its field-level errors; and the 24x7 default policies against
 * the response-time table.
 */
#include "test_helpers.h"
#include "sla/sla.h"

static int64_t T(const char *s)
{
	int64_t us;

	assert_int_equal(fl_time_parse(s, &us), 0);
	return us / 1000000;
}

static struct sla_calendar *cal_of(const char *json)
{
	struct sla_calendar *cal = NULL;
	struct sla_error err;
	json_error_t jerr;
	json_t *doc = json_loads(json, 0, &jerr);
	int rc;

	assert_non_null(doc);
	rc = sla_calendar_parse(doc, &cal, &err);
	if (rc != SLA_OK)
		fail_msg("calendar %s: %s: %s", json, err.field, err.message);
	json_decref(doc);
	return cal;
}

#define OFFICE(tz, holidays)                                                                        \
	"{\"timezone\": \"" tz "\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]], \"tue\": [[\"09:00\", " \
	"\"17:00\"]], \"wed\": [[\"09:00\", \"17:00\"]], \"thu\": [[\"09:00\", \"17:00\"]], \"fri\": "    \
	"[[\"09:00\", \"17:00\"]]}, \"holidays\": [" holidays "]}"
#define NIGHTS(tz)                                                                                  \
	"{\"timezone\": \"" tz "\", \"hours\": {\"mon\": [[\"22:00\", \"06:00\"]], \"tue\": [[\"22:00\", " \
	"\"06:00\"]], \"wed\": [[\"22:00\", \"06:00\"]], \"thu\": [[\"22:00\", \"06:00\"]], \"fri\": "    \
	"[[\"22:00\", \"06:00\"]], \"sat\": [[\"22:00\", \"06:00\"]], \"sun\": [[\"22:00\", \"06:00\"]]}}"
#define ALWAYS "{\"hours\": {\"mon\": [[\"00:00\", \"24:00\"]], \"tue\": [[\"00:00\", \"00:00\"]], " \
	"\"wed\": [[\"00:00\", \"24:00\"]], \"thu\": [[\"00:00\", \"24:00\"]], \"fri\": [[\"00:00\", " \
	"\"24:00\"]], \"sat\": [[\"00:00\", \"24:00\"]], \"sun\": [[\"00:00\", \"24:00\"]]}}"

static const struct add_case {
	const char *what, *calendar, *start;
	int64_t minutes;
	const char *due;   /* NULL: never */
	const char *pause_from, *pause_to;   /* pause_to NULL: still paused */
} add_cases[] = {
	{ "berlin: friday to monday across spring forward", OFFICE("Europe/Berlin", ""),
	  "2026-03-27T15:00:00Z", 120, "2026-03-30T08:00:00Z", NULL, NULL },
	{ "berlin: friday to monday across fall back", OFFICE("Europe/Berlin", ""),
	  "2026-10-23T14:00:00Z", 120, "2026-10-26T09:00:00Z", NULL, NULL },
	{ "berlin: inside one day", OFFICE("Europe/Berlin", ""),
	  "2026-06-10T07:00:00Z", 480, "2026-06-10T15:00:00Z", NULL, NULL },
	{ "berlin: a start before opening waits for it", OFFICE("Europe/Berlin", ""),
	  "2026-01-05T05:00:00Z", 30, "2026-01-05T08:30:00Z", NULL, NULL },
	{ "berlin: a start on saturday waits for monday", OFFICE("Europe/Berlin", ""),
	  "2026-01-10T12:00:00Z", 60, "2026-01-12T09:00:00Z", NULL, NULL },
	{ "berlin: exactly at closing lands on closing", OFFICE("Europe/Berlin", ""),
	  "2026-01-05T15:00:00Z", 60, "2026-01-05T16:00:00Z", NULL, NULL },
	{ "berlin: christmas holidays skipped", OFFICE("Europe/Berlin", "\"2026-12-24\", \"2026-12-25\""),
	  "2026-12-23T15:00:00Z", 120, "2026-12-28T09:00:00Z", NULL, NULL },
	{ "berlin: a week of business time is a calendar week", OFFICE("Europe/Berlin", ""),
	  "2026-01-05T08:00:00Z", 5 * 480, "2026-01-09T16:00:00Z", NULL, NULL },
	{ "new york: friday to monday across spring forward", OFFICE("America/New_York", ""),
	  "2026-03-06T21:00:00Z", 120, "2026-03-09T14:00:00Z", NULL, NULL },
	{ "new york: friday to monday across fall back", OFFICE("America/New_York", ""),
	  "2026-10-30T20:00:00Z", 120, "2026-11-02T15:00:00Z", NULL, NULL },
	{ "nights: the short night of spring forward has 7 hours", NIGHTS("Europe/Berlin"),
	  "2026-03-28T21:00:00Z", 480, "2026-03-29T21:00:00Z", NULL, NULL },
	{ "nights: the long night of fall back has 9 hours", NIGHTS("Europe/Berlin"),
	  "2026-10-24T20:00:00Z", 540, "2026-10-25T05:00:00Z", NULL, NULL },
	{ "nights: starting in the middle of a night", NIGHTS("Europe/Berlin"),
	  "2026-01-07T01:00:00Z", 360, "2026-01-07T23:00:00Z", NULL, NULL },
	{ "nights: a holiday's night is skipped, the night before it counts",
	  "{\"timezone\": \"UTC\", \"hours\": {\"mon\": [[\"22:00\", \"06:00\"]], \"tue\": [[\"22:00\", "
	  "\"06:00\"]], \"wed\": [[\"22:00\", \"06:00\"]]}, \"holidays\": [\"2026-01-06\"]}",
	  "2026-01-05T23:00:00Z", 480, "2026-01-07T23:00:00Z", NULL, NULL },
	{ "24x7: a pause adds its length", ALWAYS,
	  "2026-01-05T10:00:00Z", 60, "2026-01-05T11:30:00Z", "2026-01-05T10:30:00Z", "2026-01-05T11:00:00Z" },
	{ "24x7: a pause still open stops the clock", ALWAYS,
	  "2026-01-05T10:00:00Z", 60, NULL, "2026-01-05T10:30:00Z", NULL },
	{ "24x7: a pause before the start changes nothing", ALWAYS,
	  "2026-01-05T10:00:00Z", 60, "2026-01-05T11:00:00Z", "2026-01-05T08:00:00Z", "2026-01-05T09:00:00Z" },
	{ "berlin: a pause over the night resumes the next morning", OFFICE("Europe/Berlin", ""),
	  "2026-01-05T15:00:00Z", 60, "2026-01-06T09:30:00Z", "2026-01-05T15:30:00Z", "2026-01-06T09:00:00Z" },
	{ "overlapping windows count once",
	  "{\"hours\": {\"mon\": [[\"12:00\", \"18:00\"], [\"09:00\", \"17:00\"]]}}",
	  "2026-01-05T08:00:00Z", 540, "2026-01-05T18:00:00Z", NULL, NULL },
	{ "zero minutes is the start", OFFICE("Europe/Berlin", ""),
	  "2026-01-10T12:00:00Z", 0, "2026-01-10T12:00:00Z", NULL, NULL },
};

static void test_sla_add_business_table(void **state)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(add_cases); i++) {
		const struct add_case *c = &add_cases[i];
		struct sla_calendar *cal = cal_of(c->calendar);
		struct sla_interval pause;
		int64_t start = T(c->start), due;
		size_t np = 0;

		if (c->pause_from) {
			pause.from = T(c->pause_from);
			pause.to = c->pause_to ? T(c->pause_to) : SLA_NEVER;
			np = 1;
		}
		due = sla_add_business(cal, start, c->minutes * 60, &pause, np);
		if (due != (c->due ? T(c->due) : SLA_NEVER)) {
			char got[32];

			fl_time_rfc3339(got, due == SLA_NEVER ? 0 : due * 1000000);
			fail_msg("%s: due %s, expected %s", c->what, due == SLA_NEVER ? "never" : got,
				 c->due ? c->due : "never");
		}
		/* the inverse: the business time between start and due is what was added */
		if (c->due && c->minutes)
			assert_int_equal(sla_business_between(cal, start, due, &pause, np), c->minutes * 60);
		sla_calendar_free(cal);
	}
}

static const struct between_case {
	const char *what, *calendar, *a, *b;
	int64_t minutes;
} between_cases[] = {
	{ "berlin: a full week", OFFICE("Europe/Berlin", ""), "2026-03-23T00:00:00Z", "2026-03-30T00:00:00Z", 2400 },
	{ "berlin: the week of spring forward has 40 hours", OFFICE("Europe/Berlin", ""),
	  "2026-03-27T00:00:00Z", "2026-04-03T00:00:00Z", 2400 },
	{ "berlin: a weekend has none", OFFICE("Europe/Berlin", ""), "2026-01-10T00:00:00Z", "2026-01-12T00:00:00Z", 0 },
	{ "berlin: a holiday has none", OFFICE("Europe/Berlin", "\"2026-12-25\""),
	  "2026-12-25T00:00:00Z", "2026-12-26T00:00:00Z", 0 },
	{ "nights: spring forward night 7h", NIGHTS("Europe/Berlin"), "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", 420 },
	{ "nights: fall back night 9h", NIGHTS("Europe/Berlin"), "2026-10-24T12:00:00Z", "2026-10-25T12:00:00Z", 540 },
	{ "new york: a partial day", OFFICE("America/New_York", ""), "2026-07-01T15:30:00Z", "2026-07-01T23:00:00Z", 330 },
	{ "b before a is zero", ALWAYS, "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z", 0 },
	{ "24x7: a year", ALWAYS, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 365 * 1440 },
};

static void test_sla_business_between_table(void **state)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(between_cases); i++) {
		const struct between_case *c = &between_cases[i];
		struct sla_calendar *cal = cal_of(c->calendar);
		int64_t got = sla_business_between(cal, T(c->a), T(c->b), NULL, 0);

		if (got != c->minutes * 60)
			fail_msg("%s: %lld s, expected %lld", c->what, (long long)got, (long long)c->minutes * 60);
		sla_calendar_free(cal);
	}
}

static void test_sla_business_between_skips_pauses(void **state)
{
	struct sla_calendar *cal = cal_of(ALWAYS);
	struct sla_interval p[2] = { { T("2026-01-05T10:30:00Z"), T("2026-01-05T11:00:00Z") },
				     { T("2026-01-05T10:45:00Z"), T("2026-01-05T11:15:00Z") } };

	/* two overlapping pauses: 10:30-11:15 off, 75 of 120 minutes left */
	assert_int_equal(sla_business_between(cal, T("2026-01-05T10:00:00Z"), T("2026-01-05T12:00:00Z"), p, 2),
			 75 * 60);
	sla_calendar_free(cal);
}

static const struct offset_case {
	const char *zone, *at;
	int32_t offset;
} offset_cases[] = {
	{ "Europe/Berlin", "2026-03-29T00:59:59Z", 3600 },
	{ "Europe/Berlin", "2026-03-29T01:00:00Z", 7200 },
	{ "Europe/Berlin", "2026-10-25T00:59:59Z", 7200 },
	{ "Europe/Berlin", "2026-10-25T01:00:00Z", 3600 },
	{ "America/New_York", "2026-03-08T06:59:59Z", -18000 },
	{ "America/New_York", "2026-03-08T07:00:00Z", -14400 },
	{ "America/New_York", "2026-11-01T06:00:00Z", -18000 },
	/* past the table of a "fat" file: the footer's rule */
	{ "Europe/Berlin", "2045-07-01T12:00:00Z", 7200 },
	{ "Europe/Berlin", "2045-01-01T12:00:00Z", 3600 },
	{ "Europe/Berlin", "2045-03-26T01:00:00Z", 7200 },   /* last Sunday of March 2045 */
	{ "Europe/Berlin", "2045-03-26T00:59:59Z", 3600 },
	{ "America/New_York", "2045-07-04T12:00:00Z", -14400 },
	{ "Australia/Sydney", "2045-01-15T00:00:00Z", 39600 },   /* southern summer */
	{ "Australia/Sydney", "2045-07-15T00:00:00Z", 36000 },
	{ "Asia/Tokyo", "2026-06-01T00:00:00Z", 32400 },
	{ "UTC", "2026-06-01T00:00:00Z", 0 },
};

static void test_sla_zone_offsets(void **state)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(offset_cases); i++) {
		char json[128];
		struct sla_calendar *cal;
		int32_t got;

		snprintf(json, sizeof(json), "{\"timezone\": \"%s\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}}",
			 offset_cases[i].zone);
		cal = cal_of(json);
		got = sla_utc_offset(cal, T(offset_cases[i].at));
		if (got != offset_cases[i].offset)
			fail_msg("%s at %s: %d, expected %d", offset_cases[i].zone, offset_cases[i].at, got,
				 offset_cases[i].offset);
		sla_calendar_free(cal);
	}
}

static void test_sla_is_business_time(void **state)
{
	struct sla_calendar *cal = cal_of(OFFICE("Europe/Berlin", "\"2026-12-25\""));

	assert_true(sla_is_business_time(cal, T("2026-07-01T07:00:00Z")));    /* 09:00 CEST */
	assert_false(sla_is_business_time(cal, T("2026-07-01T06:59:59Z")));
	assert_false(sla_is_business_time(cal, T("2026-07-01T15:00:00Z")));   /* 17:00 CEST */
	assert_false(sla_is_business_time(cal, T("2026-12-25T10:00:00Z")));
	assert_false(sla_is_business_time(cal, T("2026-07-04T10:00:00Z")));   /* Saturday */
	sla_calendar_free(cal);
}

static const struct parse_case {
	const char *json;
	int rc;
	const char *field;
} parse_cases[] = {
	{ "[]", SLA_EINVAL, "" },
	{ "{\"hours\": {}}", SLA_EINVAL, "hours" },
	{ "{}", SLA_EINVAL, "hours" },
	{ "{\"timezone\": \"Mars/Olympus\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}}", SLA_ENOZONE, "timezone" },
	{ "{\"timezone\": \"../../etc/passwd\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}}", SLA_ENOZONE, "timezone" },
	{ "{\"timezone\": 5, \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}}", SLA_EINVAL, "timezone" },
	{ "{\"hours\": {\"monday\": [[\"09:00\", \"17:00\"]]}}", SLA_EINVAL, "hours.monday" },
	{ "{\"hours\": {\"mon\": [[\"09:00\"]]}}", SLA_EINVAL, "hours.mon[0]" },
	{ "{\"hours\": {\"mon\": [[\"9:00\", \"17:00\"]]}}", SLA_EINVAL, "hours.mon[0][0]" },
	{ "{\"hours\": {\"mon\": [[\"24:00\", \"17:00\"]]}}", SLA_EINVAL, "hours.mon[0][0]" },
	{ "{\"hours\": {\"tue\": [[\"09:00\", \"17:00\"], [\"09:00\", \"25:00\"]]}}", SLA_EINVAL, "hours.tue[1][1]" },
	{ "{\"hours\": {\"mon\": [[\"09:00\", \"17:60\"]]}}", SLA_EINVAL, "hours.mon[0][1]" },
	{ "{\"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}, \"holidays\": [\"2026-02-30\"]}", SLA_EINVAL, "holidays[0]" },
	{ "{\"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}, \"holidays\": \"2026-12-25\"}", SLA_EINVAL, "holidays" },
	{ "{\"hours\": {\"mon\": [[\"09:00\", \"17:00\"]]}, \"holiday\": []}", SLA_EINVAL, "holiday" },
};

static void test_sla_calendar_parse_errors(void **state)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(parse_cases); i++) {
		json_t *doc = json_loads(parse_cases[i].json, 0, NULL);
		struct sla_calendar *cal = (struct sla_calendar *)1;
		struct sla_error err;
		int rc;

		assert_non_null(doc);
		rc = sla_calendar_parse(doc, &cal, &err);
		if (rc != parse_cases[i].rc || strcmp(err.field, parse_cases[i].field))
			fail_msg("%s: %s at '%s' (%s), expected %s at '%s'", parse_cases[i].json, sla_strerror(rc),
				 err.field, err.message, sla_strerror(parse_cases[i].rc), parse_cases[i].field);
		assert_null(cal);
		assert_true(err.message[0]);
		json_decref(doc);
	}
}

static void test_sla_calendar_json_round_trips(void **state)
{
	struct sla_calendar *cal = cal_of("{\"timezone\": \"Europe/Berlin\", \"hours\": {\"sun\": [[\"22:00\", \"06:00\"]], "
					  "\"mon\": [[\"13:00\", \"17:00\"], [\"08:00\", \"12:00\"]], \"tue\": [[\"00:00\", "
					  "\"00:00\"]]}, \"holidays\": [\"2026-12-26\", \"2026-12-25\"]}");
	json_t *doc = sla_calendar_json(cal), *want = json_loads(
		"{\"timezone\": \"Europe/Berlin\", \"hours\": {\"mon\": [[\"08:00\", \"12:00\"], [\"13:00\", \"17:00\"]], "
		"\"tue\": [[\"00:00\", \"24:00\"]], \"sun\": [[\"22:00\", \"06:00\"]]}, "
		"\"holidays\": [\"2026-12-25\", \"2026-12-26\"]}", 0, NULL);
	struct sla_calendar *again = NULL;

	assert_true(json_equal(doc, want));
	assert_int_equal(sla_calendar_parse(doc, &again, NULL), SLA_OK);
	assert_string_equal(sla_calendar_timezone(again), "Europe/Berlin");
	sla_calendar_free(again);
	sla_calendar_free(cal);
	json_decref(doc);
	json_decref(want);
}

/* The 24x7 calendar and the default policies reproduce the old response-time table. */
static void test_sla_defaults_reproduce_the_table(void **state)
{
	static const struct {
		const char *priority, *tier;
		int64_t minutes;
	} table[] = {
		{ "urgent", "enterprise", 15 }, { "urgent", "premium", 30 }, { "urgent", "standard", 60 },
		{ "high", "enterprise", 60 }, { "high", "premium", 120 }, { "high", NULL, 240 },
		{ "medium", "enterprise", 240 }, { "medium", "premium", 480 }, { "medium", "standard", 1440 },
		{ "low", "enterprise", 1440 }, { "low", "premium", 2880 }, { "low", "basic", 4320 },
		{ "unheard-of", NULL, 4320 },
	};
	struct sla_calendar *cal = sla_calendar_24x7();
	json_t *policies = sla_default_policies();
	int64_t start = T("2026-03-28T23:30:00Z");
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(table); i++) {
		struct sla_ticket_facts facts = { NULL, NULL, "email", "billing" };
		const json_t *hit;

		assert_int_equal(sla_default_seconds(table[i].priority, table[i].tier), table[i].minutes * 60);
		assert_int_equal(sla_add_business(cal, start, table[i].minutes * 60, NULL, 0),
				 start + table[i].minutes * 60);
		facts.priority = table[i].priority;
		facts.customer_tier = table[i].tier;
		hit = sla_policy_pick(policies, &facts);
		assert_non_null(hit);
		assert_int_equal(fl_json_int(hit, "first_response_min", 0), table[i].minutes);
		assert_string_equal(fl_json_str(hit, "calendar", ""), "24x7");
	}
	json_decref(policies);
	sla_calendar_free(cal);
}

static void test_sla_policy_check_names_the_field(void **state)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{ "{\"first_response_min\": 5, \"resolution_min\": 60}", "calendar" },
		{ "{\"calendar\": \"c\", \"resolution_min\": 60}", "first_response_min" },
		{ "{\"calendar\": \"c\", \"first_response_min\": 5.5, \"resolution_min\": 60}", "first_response_min" },
		{ "{\"calendar\": \"c\", \"first_response_min\": 5, \"next_response_min\": -1, \"resolution_min\": 60}",
		  "next_response_min" },
		{ "{\"calendar\": \"c\", \"first_response_min\": 5}", "resolution_min" },
		{ "{\"calendar\": \"c\", \"match\": [], \"first_response_min\": 5, \"resolution_min\": 60}", "match" },
		{ "{\"calendar\": \"c\", \"match\": {\"priority\": [1]}, \"first_response_min\": 5, \"resolution_min\": 60}",
		  "match.priority[0]" },
		{ "{\"calendar\": \"c\", \"first_response_min\": 5, \"resolution_min\": 60, \"position\": -2}", "position" },
		{ "{\"calendar\": \"c\", \"first_response_min\": 5, \"resolution_min\": 60, \"sla\": 1}", "sla" },
	};
	struct sla_error err;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		json_t *doc = json_loads(cases[i].json, 0, NULL);

		assert_non_null(doc);
		assert_int_equal(sla_policy_check(doc, &err), SLA_EINVAL);
		if (strcmp(err.field, cases[i].field))
			fail_msg("%s: field '%s', expected '%s'", cases[i].json, err.field, cases[i].field);
		json_decref(doc);
	}
}

static void test_sla_policy_pick_takes_the_first_match(void **state)
{
	json_t *list = json_loads("[{\"id\": \"vip-chat\", \"match\": {\"customer_tier\": [\"enterprise\"], "
				  "\"channel\": [\"chat\", \"phone\"]}}, {\"id\": \"billing\", \"match\": "
				  "{\"category\": [\"billing\"], \"priority\": []}}, {\"id\": \"rest\"}]", 0, NULL);
	struct sla_ticket_facts vip = { "low", "enterprise", "chat", "billing" },
				vip_mail = { "low", "enterprise", "email", "billing" },
				none = { NULL, NULL, NULL, NULL };

	assert_non_null(list);
	assert_string_equal(fl_json_str(sla_policy_pick(list, &vip), "id", ""), "vip-chat");
	assert_string_equal(fl_json_str(sla_policy_pick(list, &vip_mail), "id", ""), "billing");
	assert_string_equal(fl_json_str(sla_policy_pick(list, &none), "id", ""), "rest");
	json_array_remove(list, 2);
	assert_null(sla_policy_pick(list, &none));
	json_decref(list);
}

static const struct ticket_case {
	const char *what, *status, *first_response_at, *events, *now;
	const char *first_due, *next_due;   /* NULL: none */
	const char *state;
	bool paused;
	const char *res_due;   /* NULL: none (paused) */
} ticket_cases[] = {
	{ "fresh", "escalated", NULL, "[]", "10:30", "11:00", NULL, "ok", false, "18:00" },
	{ "80 % of the first response used", "escalated", NULL, "[]", "10:48", "11:00", NULL, "warning", false, "18:00" },
	{ "first response late", "escalated", NULL, "[]", "11:01", "11:00", NULL, "breached", false, "18:00" },
	{ "answered late stays breached", "waiting_on_customer", "11:30", "[]", "11:40", "11:00", NULL, "breached", false, "18:00" },
	{ "answered in time, resolution nearly used", "escalated", "10:20", "[]", "17:00", "11:00", NULL, "warning", false, "18:00" },
	{ "pending: the clock stops", "pending", NULL,
	  "[{\"type\": \"ticket.status\", \"created_at\": \"2026-01-05T10:10:00Z\", \"data\": {\"to\": \"pending\"}}]",
	  "12:00", NULL, NULL, "ok", true, NULL },
	{ "the customer writes: the clock resumes", "pending", NULL,
	  "[{\"type\": \"ticket.status\", \"created_at\": \"2026-01-05T10:10:00Z\", \"data\": {\"to\": \"pending\"}},"
	  " {\"type\": \"ticket.customer_replied\", \"created_at\": \"2026-01-05T10:40:00Z\"}]",
	  "10:50", "11:30", NULL, "ok", false, "18:30" },
	{ "a status change resumes it", "escalated", NULL,
	  "[{\"type\": \"ticket.status\", \"created_at\": \"2026-01-05T10:10:00Z\", \"data\": {\"to\": \"pending\"}},"
	  " {\"type\": \"ticket.status\", \"created_at\": \"2026-01-05T10:25:00Z\", \"data\": {\"to\": \"escalated\"}}]",
	  "11:05", "11:15", NULL, "warning", false, "18:15" },
	{ "the next response runs from the customer's message", "escalated", "10:20",
	  "[{\"type\": \"ticket.replied\", \"created_at\": \"2026-01-05T10:20:00Z\"},"
	  " {\"type\": \"ticket.customer_replied\", \"created_at\": \"2026-01-05T13:00:00Z\"}]",
	  "13:30", "11:00", "14:00", "ok", false, "18:00" },
	{ "a reply meets the next response", "waiting_on_customer", "10:20",
	  "[{\"type\": \"ticket.replied\", \"created_at\": \"2026-01-05T10:20:00Z\"},"
	  " {\"type\": \"ticket.customer_replied\", \"created_at\": \"2026-01-05T13:00:00Z\"},"
	  " {\"type\": \"ticket.replied\", \"created_at\": \"2026-01-05T13:10:00Z\"}]",
	  "15:30", "11:00", NULL, "ok", false, "18:00" },
};

static char *on_the_day(char out[32], const char *hhmm)
{
	snprintf(out, 32, "2026-01-05T%s:00Z", hhmm);
	return out;
}

static void test_sla_ticket_clocks_table(void **state)
{
	struct sla_calendar *cal = sla_calendar_24x7();
	json_t *policy = json_pack("{s:s, s:i, s:i, s:i}", "id", "p", "first_response_min", 60, "next_response_min", 60,
				   "resolution_min", 480);
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(ticket_cases); i++) {
		const struct ticket_case *c = &ticket_cases[i];
		char b1[32], b2[32];
		json_t *ticket = json_pack("{s:s, s:s, s:s?}", "created_at", "2026-01-05T10:00:00Z", "status", c->status,
					   "first_response_at",
					   c->first_response_at ? on_the_day(b1, c->first_response_at) : NULL);
		json_t *events = json_loads(c->events, 0, NULL), *doc;
		struct sla_ticket_state st;

		assert_non_null(events);
		sla_ticket_evaluate(cal, policy, ticket, events, T(on_the_day(b2, c->now)), &st);
		doc = sla_ticket_state_json("p", &st);
		if (strcmp(fl_json_str(doc, "state", ""), c->state) || st.paused != c->paused ||
		    st.first_due != (c->first_due ? T(on_the_day(b1, c->first_due)) : SLA_NEVER) ||
		    st.next_due != (c->next_due ? T(on_the_day(b2, c->next_due)) : SLA_NEVER)) {
			char *s = json_dumps(doc, 0);

			fail_msg("%s: got %s", c->what, s);
		}
		if (st.resolution_due != (c->res_due ? T(on_the_day(b1, c->res_due)) : SLA_NEVER))
			fail_msg("%s: resolution due %s", c->what, fl_json_str(doc, "resolution_due_at", "null"));
		json_decref(doc);
		json_decref(events);
		json_decref(ticket);
	}
	json_decref(policy);
	sla_calendar_free(cal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sla_add_business_table),
		cmocka_unit_test(test_sla_business_between_table),
		cmocka_unit_test(test_sla_business_between_skips_pauses),
		cmocka_unit_test(test_sla_zone_offsets),
		cmocka_unit_test(test_sla_is_business_time),
		cmocka_unit_test(test_sla_calendar_parse_errors),
		cmocka_unit_test(test_sla_calendar_json_round_trips),
		cmocka_unit_test(test_sla_defaults_reproduce_the_table),
		cmocka_unit_test(test_sla_policy_check_names_the_field),
		cmocka_unit_test(test_sla_policy_pick_takes_the_first_match),
		cmocka_unit_test(test_sla_ticket_clocks_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
