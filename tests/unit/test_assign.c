/*
 * Tests of the assignment decision (src/assign): tables of tickets against
 * a roster of agents in two departments (billing, technical) with skills,
 * availabilities, loads, maximums and idle times, under each mode; the
 * round robin's cursor walked over several tickets; and the words of the
 * API (modes, availabilities, reasons).
 */
#include "test_helpers.h"
#include "assign/assign.h"

static const char *const en[] = { "en" };
static const char *const en_de[] = { "en", "DE" };
static const char *const refunds[] = { "refund", "billing" };
static const char *const tech[] = { "technical", "bug" };

#define A ASSIGN_AVAILABLE
#define W ASSIGN_AWAY
#define O ASSIGN_OFFLINE
#define DEF ASSIGN_DEPARTMENT_MAX

/* id, department, languages, categories, availability, open, max, last assigned */
static const struct assign_agent roster[] = {
	{ 11, "billing", NULL, 0, NULL, 0, A, 3, DEF, 500 },
	{ 12, "billing", en, 1, NULL, 0, A, 1, DEF, 900 },
	{ 13, "Billing", en_de, 2, refunds, 2, A, 1, DEF, 100 },
	{ 14, "billing", NULL, 0, NULL, 0, W, 0, DEF, 0 },
	{ 15, "billing", NULL, 0, NULL, 0, O, 0, DEF, 0 },
	{ 21, "technical", NULL, 0, tech, 2, A, 4, 5, 10 },
	{ 22, "technical", en, 1, tech, 2, A, 2, 2, 20 },
	{ 23, "technical", NULL, 0, NULL, 0, A, 4, DEF, 30 },
	{ 31, NULL, NULL, 0, NULL, 0, A, 0, DEF, 0 },
};

static const struct pick_case {
	const char *what;
	const char *department, *language, *category;
	enum assign_mode mode;
	int max_per_agent;
	int64_t cursor;
	int64_t want;       /* agent id, 0: nobody */
	enum assign_reason why;
} cases[] = {
	/* load: fewest open; ties to the longest idle */
	{ "load: fewest open, tie to longest idle", "billing", "en", "refund", ASSIGN_LOAD, ASSIGN_NO_LIMIT, 0, 13,
	  ASSIGN_BY_LOAD },
	{ "load: a french ticket skips the english-only agents", "billing", "fr", NULL, ASSIGN_LOAD,
	  ASSIGN_NO_LIMIT, 0, 11, ASSIGN_BY_LOAD },
	{ "load: languages compare without case", "billing", "de", "refund", ASSIGN_LOAD, ASSIGN_NO_LIMIT, 0, 13,
	  ASSIGN_BY_LOAD },
	{ "load: category outside 13's skills goes to 12", "billing", "en", "account", ASSIGN_LOAD,
	  ASSIGN_NO_LIMIT, 0, 12, ASSIGN_BY_LOAD },
	{ "load: unknown language and category pass the skills", "billing", NULL, NULL, ASSIGN_LOAD,
	  ASSIGN_NO_LIMIT, 0, 13, ASSIGN_BY_LOAD },
	{ "load: department maximum 1: everyone is at it", "billing", "en", "refund", ASSIGN_LOAD, 1,
	  0, 0, ASSIGN_NOBODY_AVAILABLE },
	{ "load: department maximum 2 keeps 12 and 13 (tie: 13 idle longer)", "billing", "en", NULL, ASSIGN_LOAD,
	  2, 0, 13, ASSIGN_BY_LOAD },
	{ "load: own maximum over the department's", "technical", "en", "bug", ASSIGN_LOAD, 1, 0, 21,
	  ASSIGN_BY_LOAD },
	{ "load: 22 at its own maximum of 2", "technical", "en", "technical", ASSIGN_LOAD, ASSIGN_NO_LIMIT, 0, 21,
	  ASSIGN_BY_LOAD },
	{ "load: technical billing question only to 23", "technical", "en", "billing", ASSIGN_LOAD,
	  ASSIGN_NO_LIMIT, 0, 23, ASSIGN_BY_LOAD },
	{ "load: maximum 0 takes nobody", "technical", "en", "billing", ASSIGN_LOAD, 0, 0, 0,
	  ASSIGN_NOBODY_AVAILABLE },
	{ "load: away and offline agents never", "billing", "fr", "account", ASSIGN_LOAD, 3, 0, 0,
	  ASSIGN_NOBODY_AVAILABLE },
	{ "load: a department nobody works in", "sales", "en", NULL, ASSIGN_LOAD, ASSIGN_NO_LIMIT, 0, 0,
	  ASSIGN_NOBODY_AVAILABLE },
	/* round robin: the next eligible after the cursor, wrapping */
	{ "round robin: from the start", "billing", "en", "refund", ASSIGN_ROUND_ROBIN, ASSIGN_NO_LIMIT, 0, 11,
	  ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: after 11", "billing", "en", "refund", ASSIGN_ROUND_ROBIN, ASSIGN_NO_LIMIT, 11, 12,
	  ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: after 12 (load does not matter)", "billing", "en", "refund", ASSIGN_ROUND_ROBIN,
	  ASSIGN_NO_LIMIT, 12, 13, ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: after 13 wraps past away and offline", "billing", "en", "refund", ASSIGN_ROUND_ROBIN,
	  ASSIGN_NO_LIMIT, 13, 11, ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: skips the unskilled", "billing", "fr", NULL, ASSIGN_ROUND_ROBIN, ASSIGN_NO_LIMIT, 11, 11,
	  ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: skips those at their maximum", "billing", "en", NULL, ASSIGN_ROUND_ROBIN, 2, 0, 12,
	  ASSIGN_BY_ROUND_ROBIN },
	{ "round robin: a cursor of a departed agent", "technical", NULL, NULL, ASSIGN_ROUND_ROBIN,
	  ASSIGN_NO_LIMIT, 19, 21, ASSIGN_BY_ROUND_ROBIN },
	/* off, and tickets without a department */
	{ "off: nobody, whoever is free", "billing", "en", NULL, ASSIGN_OFF, ASSIGN_NO_LIMIT, 0, 0,
	  ASSIGN_MODE_OFF },
	{ "no department: nobody (not even the agent without one)", NULL, "en", NULL, ASSIGN_LOAD,
	  ASSIGN_NO_LIMIT, 0, 0, ASSIGN_NO_DEPARTMENT },
};

static void test_assign_picks_by_the_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		const struct pick_case *c = &cases[i];
		struct assign_ticket t = { c->department, c->language, c->category };
		struct assign_department d = { c->mode, c->max_per_agent, c->cursor };
		enum assign_reason why = ASSIGN_BY_LOAD;
		long k = assign_pick(&t, &d, roster, FL_ARRAY_SIZE(roster), &why);
		int64_t got = k < 0 ? 0 : roster[k].id;

		if (got != c->want || why != c->why)
			fail_msg("%s: picked %lld (%s), want %lld (%s)", c->what, (long long)got,
				 assign_reason_name(why), (long long)c->want, assign_reason_name(c->why));
	}
}

/* The same roster in reverse order decides the same: order does not matter. */
static void test_assign_ignores_the_roster_order(void **state)
{
	struct assign_agent rev[FL_ARRAY_SIZE(roster)];
	size_t i, n = FL_ARRAY_SIZE(roster);

	(void)state;
	for (i = 0; i < n; i++)
		rev[i] = roster[n - 1 - i];
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		const struct pick_case *c = &cases[i];
		struct assign_ticket t = { c->department, c->language, c->category };
		struct assign_department d = { c->mode, c->max_per_agent, c->cursor };
		long k = assign_pick(&t, &d, rev, n, NULL);

		if ((k < 0 ? 0 : rev[k].id) != c->want)
			fail_msg("%s (reversed): picked %lld", c->what, (long long)(k < 0 ? 0 : rev[k].id));
	}
}

/* Several tickets in a row, as the store does: the cursor and loads move. */
static void test_assign_round_robin_and_load_over_a_series(void **state)
{
	struct assign_agent team[] = {
		{ 5, "support", NULL, 0, NULL, 0, A, 0, DEF, 0 },
		{ 2, "support", NULL, 0, NULL, 0, A, 0, DEF, 0 },
		{ 9, "support", NULL, 0, NULL, 0, A, 0, 1, 0 },
	};
	struct assign_ticket t = { "support", "en", "general" };
	struct assign_department rr = { ASSIGN_ROUND_ROBIN, ASSIGN_NO_LIMIT, 0 };
	struct assign_department load = { ASSIGN_LOAD, 2, 0 };
	const int64_t want_rr[] = { 2, 5, 9, 2, 5, 2, 5 };   /* 9 stops at its maximum of 1 */
	const int64_t want_load[] = { 2, 5, 9, 2, 5 };       /* then everyone is at the maximum */
	int64_t clock = 1;
	size_t i;
	long k;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(want_rr); i++) {
		k = assign_pick(&t, &rr, team, FL_ARRAY_SIZE(team), NULL);
		assert_true(k >= 0);
		assert_int_equal(team[k].id, want_rr[i]);
		rr.cursor = team[k].id;
		team[k].open++;
	}
	for (i = 0; i < FL_ARRAY_SIZE(team); i++)
		team[i].open = 0;
	for (i = 0; i < FL_ARRAY_SIZE(want_load); i++) {
		k = assign_pick(&t, &load, team, FL_ARRAY_SIZE(team), NULL);
		assert_true(k >= 0);
		assert_int_equal(team[k].id, want_load[i]);
		team[k].open++;
		team[k].last_assigned = clock++;
	}
	assert_int_equal(assign_pick(&t, &load, team, FL_ARRAY_SIZE(team), NULL), -1);
}

static void test_assign_words(void **state)
{
	(void)state;
	assert_int_equal(assign_mode_parse("off"), ASSIGN_OFF);
	assert_int_equal(assign_mode_parse("round_robin"), ASSIGN_ROUND_ROBIN);
	assert_int_equal(assign_mode_parse("load"), ASSIGN_LOAD);
	assert_int_equal(assign_mode_parse("Load"), -1);
	assert_int_equal(assign_mode_parse(NULL), -1);
	assert_string_equal(assign_mode_name(ASSIGN_ROUND_ROBIN), "round_robin");
	assert_int_equal(assign_availability_parse("away"), ASSIGN_AWAY);
	assert_int_equal(assign_availability_parse("busy"), -1);
	assert_string_equal(assign_availability_name(ASSIGN_OFFLINE), "offline");
	assert_string_equal(assign_reason_name(ASSIGN_NOBODY_AVAILABLE), "queued: nobody available");
	assert_string_equal(assign_reason_name(ASSIGN_BY_LOAD), "load");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assign_picks_by_the_table),
		cmocka_unit_test(test_assign_ignores_the_roster_order),
		cmocka_unit_test(test_assign_round_robin_and_load_over_a_series),
		cmocka_unit_test(test_assign_words),
	};

	return cmocka_run_group_tests_name("assign", tests, NULL, NULL);
}
