/*
 * Assignment in the store, against every backend (store_fixture.h):
 * departments (defaults, changes, bad fields), agents' availability and
 * maximum, and store_ticket_assign with several agents in two departments:
 * by load (ties to the longest idle), skills, maxima (the agent's and the
 * department's), round robin with its cursor, off, the queue when nobody is
 * available (with its event), idle agents counting as away; the queue given
 * to an agent who becomes available; and two handles assigning at once
 * (two replicas), which share the load without passing a maximum.
 */
#include "test_helpers.h"

#include <pthread.h>

#include "store_fixture.h"

#define SEC INT64_C(1000000)
#define IDLE 900

static const char *hash_of(int n)
{
	static char h[65];

	snprintf(h, sizeof(h), "%064x", n);
	return h;
}

/* An agent of department with skills (JSON text, NULL: none), active now (a session). */
static int64_t agent(struct store *st, const char *email, const char *department, const char *skills,
		     const char *availability, int max_open)
{
	json_t *u = NULL, *body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "email", email, "name", email, "role",
					    "agent", "department", department, "availability", availability);
	static int sessions;
	int64_t id;

	if (skills)
		json_object_set_new(body, "skills", json_loads(skills, 0, NULL));
	if (max_open >= 0)
		json_object_set_new(body, "max_open", json_integer(max_open));
	OK(store_user_insert(st, body, "$argon2id$fake", &u));
	json_decref(body);
	id = fl_json_int(u, "id", 0);
	json_decref(u);
	OK(store_session_insert(st, id, hash_of(++sessions), NULL, 28800, 86400, NULL));
	return id;
}

/* A ticket handed to department, in language about category; its id (static buffer). */
static const char *escalated(struct store *st, const char *id, const char *department, const char *language,
			     const char *category)
{
	json_t *t = NULL;

	OK(store_ticket_intake(st, TICKET(id, "web", "cust"), NULL, NULL, &t, NULL));
	json_decref(t);
	OK(store_ticket_update(st, id, 0, J("{s:s, s:s, s:s, s:s}", "status", "escalated", "assigned_department",
					    department, "language", language, "category", category), "workflow", NULL));
	return id;
}

/* Assigns ticket id; the assignee's email or "" and the reason into reason (may be NULL). */
static char *assign(struct store *st, const char *id, char reason[64])
{
	json_t *r = NULL;
	char *who;

	OK(store_ticket_assign(st, id, IDLE, &r));
	/* "assigned already" names the assignee there was; only an assignment made now counts */
	who = fl_strdup(fl_json_bool(r, "assigned", false) ? fl_json_str(r, "assignee", "") : "");
	if (reason)
		snprintf(reason, 64, "%s", fl_json_str(r, "reason", ""));
	json_decref(r);
	return who;
}

#define ASSIGNS_TO(st, id, want, want_reason) \
	do { \
		char why_[64]; \
		char *who_ = assign(st, id, why_); \
		if (strcmp(who_, want) || strcmp(why_, want_reason)) \
			fail_msg("ticket %s went to '%s' (%s), not '%s' (%s)", id, who_, why_, want, want_reason); \
		free(who_); \
	} while (0)

static void clock_now(struct fx *f)
{
	f->now = 1800000000 * SEC;
	store_set_clock(f->st, fx_fake_now, f);
}

static void test_store_departments_have_defaults_and_change(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *d = NULL, *list = NULL;

	OK(store_department_get(st, "billing", &d));
	assert_string_equal(fl_json_str(d, "assignment", ""), "load");
	assert_true(json_is_null(json_object_get(d, "max_open_per_agent")));
	json_decref(d);
	agent(st, "a@x.org", "technical", NULL, "available", -1);
	OK(store_department_put(st, "billing", J("{s:s, s:i}", "assignment", "round_robin", "max_open_per_agent", 3),
				"admin@x.org", &d));
	assert_string_equal(fl_json_str(d, "assignment", ""), "round_robin");
	assert_int_equal(fl_json_int(d, "max_open_per_agent", 0), 3);
	assert_string_equal(fl_json_str(d, "updated_by", ""), "admin@x.org");
	json_decref(d);
	/* a change of one field keeps the other; null lifts the limit */
	OK(store_department_put(st, "billing", J("{s:n}", "max_open_per_agent"), "admin@x.org", &d));
	assert_string_equal(fl_json_str(d, "assignment", ""), "round_robin");
	assert_true(json_is_null(json_object_get(d, "max_open_per_agent")));
	json_decref(d);
	OK(store_department_list(st, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "billing");
	assert_string_equal(fl_json_str(json_array_get(list, 1), "id", ""), "technical");
	assert_string_equal(fl_json_str(json_array_get(list, 1), "assignment", ""), "load");
	json_decref(list);
	assert_int_equal(store_department_put(st, "billing", J("{s:s}", "assignment", "random"), NULL, NULL),
			 STORE_EINVAL);
	assert_int_equal(store_department_put(st, "billing", J("{s:i}", "max_open_per_agent", -1), NULL, NULL),
			 STORE_EINVAL);
	assert_int_equal(store_department_put(st, "billing", J("{s:i}", "color", 1), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_department_put(st, "bad id", J("{}"), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_department_get(st, "", &d), STORE_EINVAL);
}

static void test_store_users_have_availability_and_maximum(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *u = NULL;
	int64_t id;

	OK(store_user_insert(st, J("{s:s, s:s, s:s}", "email", "n@x.org", "name", "N", "role", "agent"), "h", &u));
	assert_string_equal(fl_json_str(u, "availability", ""), "offline");
	assert_true(json_is_null(json_object_get(u, "max_open")));
	assert_true(json_is_null(json_object_get(u, "last_assigned_at")));
	id = fl_json_int(u, "id", 0);
	json_decref(u);
	OK(store_user_update(st, id, J("{s:s, s:i}", "availability", "available", "max_open", 4), NULL, &u));
	assert_string_equal(fl_json_str(u, "availability", ""), "available");
	assert_int_equal(fl_json_int(u, "max_open", 0), 4);
	json_decref(u);
	OK(store_user_update(st, id, J("{s:n}", "max_open"), NULL, &u));
	assert_true(json_is_null(json_object_get(u, "max_open")));
	assert_string_equal(fl_json_str(u, "availability", ""), "available");
	json_decref(u);
	assert_int_equal(store_user_update(st, id, J("{s:s}", "availability", "busy"), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_user_update(st, id, J("{s:i}", "max_open", -2), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_user_update(st, id, J("{s:s}", "max_open", "3"), NULL, NULL), STORE_EINVAL);
}

static void test_store_assign_by_load_skills_and_maximum(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *events = NULL, *e;
	size_t i;
	bool seen = false;

	clock_now(f);
	agent(st, "ann@x.org", "billing", NULL, "available", 2);
	agent(st, "bob@x.org", "billing", "{\"languages\": [\"de\"]}", "available", -1);
	agent(st, "cat@x.org", "billing", "{\"categories\": [\"refund\"]}", "available", -1);
	agent(st, "dan@x.org", "billing", NULL, "away", -1);
	agent(st, "eve@x.org", "technical", NULL, "available", -1);
	OK(store_department_put(st, "billing", J("{s:i}", "max_open_per_agent", 3), NULL, NULL));
	/* everyone at 0: the longest idle (never assigned) by id first, then the next */
	ASSIGNS_TO(st, escalated(st, "t1", "billing", "en", "billing"), "ann@x.org", "load");
	f->now += SEC;
	/* bob takes only German; cat only refunds: an English billing question goes to ann (1) or nobody else */
	ASSIGNS_TO(st, escalated(st, "t2", "billing", "en", "billing"), "ann@x.org", "load");
	f->now += SEC;
	/* ann is at her own maximum of 2 */
	ASSIGNS_TO(st, escalated(st, "t3", "billing", "en", "billing"), "", "queued: nobody available");
	ASSIGNS_TO(st, escalated(st, "t4", "billing", "de", "refund"), "bob@x.org", "load");
	f->now += SEC;
	ASSIGNS_TO(st, escalated(st, "t5", "billing", "de", "refund"), "cat@x.org", "load");
	f->now += SEC;
	/* bob and cat at 1 each: the tie goes to bob, idle longer */
	ASSIGNS_TO(st, escalated(st, "t6", "billing", "de", "refund"), "bob@x.org", "load");
	f->now += SEC;
	ASSIGNS_TO(st, escalated(st, "t7", "technical", "en", "bug"), "eve@x.org", "load");
	/* resolving frees a place */
	OK(store_ticket_update(st, "t1", 0, J("{s:s}", "status", "resolved"), "ann@x.org", NULL));
	ASSIGNS_TO(st, escalated(st, "t8", "billing", "en", "billing"), "ann@x.org", "load");
	/* an assigned ticket is not assigned again; a ticket with no department is nobody's */
	ASSIGNS_TO(st, "t8", "", "assigned already");
	OK(store_ticket_intake(st, TICKET("t9", "web", "c"), NULL, NULL, &t, NULL));
	json_decref(t);
	ASSIGNS_TO(st, "t9", "", "no department");
	assert_int_equal(store_ticket_assign(st, "nope", IDLE, NULL), STORE_ENOTFOUND);
	/* the ticket shows its assignee; its history says why */
	OK(store_ticket_get(st, "t4", false, &t));
	assert_string_equal(fl_json_str(t, "assignee", ""), "bob@x.org");
	json_decref(t);
	OK(store_event_list(st, "t3", 50, &events));
	json_array_foreach(events, i, e)
		if (!strcmp(fl_json_str(e, "type", ""), "ticket.assigned")) {
			assert_string_equal(fl_json_str(json_object_get(e, "data"), "reason", ""),
					    "queued: nobody available");
			seen = true;
		}
	assert_true(seen);
	json_decref(events);
}

static void test_store_assign_round_robin_off_and_idle(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *q = NULL;
	int64_t r3;

	clock_now(f);
	agent(st, "r1@x.org", "sales", NULL, "available", -1);
	agent(st, "r2@x.org", "sales", NULL, "available", -1);
	r3 = agent(st, "r3@x.org", "sales", NULL, "offline", -1);
	agent(st, "r4@x.org", "sales", NULL, "available", -1);
	OK(store_department_put(st, "sales", J("{s:s}", "assignment", "round_robin"), NULL, NULL));
	ASSIGNS_TO(st, escalated(st, "s1", "sales", "en", "general"), "r1@x.org", "round_robin");
	ASSIGNS_TO(st, escalated(st, "s2", "sales", "en", "general"), "r2@x.org", "round_robin");
	ASSIGNS_TO(st, escalated(st, "s3", "sales", "en", "general"), "r4@x.org", "round_robin");
	ASSIGNS_TO(st, escalated(st, "s4", "sales", "en", "general"), "r1@x.org", "round_robin");
	/* the department's case does not matter to its agents */
	ASSIGNS_TO(st, escalated(st, "s5", "Sales", "en", "general"), "r2@x.org", "load");
	/* off: by hand, no event */
	OK(store_department_put(st, "sales", J("{s:s}", "assignment", "off"), NULL, NULL));
	ASSIGNS_TO(st, escalated(st, "s6", "sales", "en", "general"), "", "off");
	/* idle past FRONTLINE_AGENT_IDLE_S: away, though "available" */
	OK(store_department_put(st, "sales", J("{s:s}", "assignment", "load"), NULL, NULL));
	f->now += (IDLE + 1) * SEC;
	ASSIGNS_TO(st, escalated(st, "s7", "sales", "en", "general"), "", "queued: nobody available");
	/* the queue: s6 and s7, oldest first, to the agent who is back (up to the department's maximum) */
	OK(store_department_put(st, "sales", J("{s:i}", "max_open_per_agent", 2), NULL, NULL));
	OK(store_session_insert(st, r3, hash_of(1000), NULL, 28800, 86400, NULL));   /* r3: active, offline */
	OK(store_assign_queued(st, r3, IDLE, 50, &q));
	assert_int_equal(json_array_size(json_object_get(q, "assigned")), 0);
	json_decref(q);
	OK(store_user_update(st, r3, J("{s:s}", "availability", "available"), NULL, NULL));
	OK(store_assign_queued(st, r3, IDLE, 50, &q));
	assert_int_equal(json_array_size(json_object_get(q, "assigned")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(q, "assigned"), 0)), "s6");
	assert_string_equal(json_string_value(json_array_get(json_object_get(q, "assigned"), 1)), "s7");
	json_decref(q);
	/* at the department's maximum: a third ticket stays queued, until the agent's own maximum is higher */
	ASSIGNS_TO(st, escalated(st, "s8", "sales", "en", "general"), "", "queued: nobody available");
	OK(store_assign_queued(st, r3, IDLE, 50, &q));
	assert_int_equal(json_array_size(json_object_get(q, "assigned")), 0);
	json_decref(q);
	OK(store_user_update(st, r3, J("{s:i}", "max_open", 3), NULL, NULL));
	OK(store_assign_queued(st, r3, IDLE, 50, &q));
	assert_int_equal(json_array_size(json_object_get(q, "assigned")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(q, "assigned"), 0)), "s8");
	json_decref(q);
}

/* Two replicas: two handles assign a department's tickets at once. */
struct racer {
	const char *url;
	int first, count;
	int errors;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct store *st = NULL;
	char *err = NULL, id[32];
	int i;

	if (store_open(r->url, &st, &err)) {
		free(err);
		r->errors = r->count;
		return NULL;
	}
	for (i = 0; i < r->count; i++) {
		snprintf(id, sizeof(id), "p%d", r->first + i);
		if (store_ticket_assign(st, id, IDLE, NULL))
			r->errors++;
	}
	store_close(st);
	return NULL;
}

static void test_store_assign_from_two_replicas_keeps_the_maximum(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct racer a = { f->url, 0, 20, 0 }, b = { f->url, 20, 20, 0 };
	pthread_t ta, tb;
	json_t *list = NULL, *t;
	int per[4] = { 0 }, assigned = 0, k;
	char id[32];
	size_t i;

	for (k = 0; k < 4; k++) {
		char email[32];

		snprintf(email, sizeof(email), "p%d@x.org", k);
		agent(st, email, "support", NULL, "available", -1);
	}
	OK(store_department_put(st, "support", J("{s:i}", "max_open_per_agent", 8), NULL, NULL));
	for (k = 0; k < 40; k++) {
		snprintf(id, sizeof(id), "p%d", k);
		escalated(st, id, "support", "en", "general");
	}
	assert_int_equal(pthread_create(&ta, NULL, race, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, race, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.errors + b.errors, 0);
	OK(store_ticket_list(st, &(struct store_ticket_filter){ .limit = 100 }, &list));
	json_array_foreach(json_object_get(list, "tickets"), i, t) {
		const char *who = fl_json_str(t, "assignee", NULL);

		if (!who)
			continue;
		assigned++;
		per[who[1] - '0']++;
	}
	json_decref(list);
	/* 4 agents at most 8 each: 32 assigned, 8 each, none past the maximum */
	assert_int_equal(assigned, 32);
	for (k = 0; k < 4; k++)
		assert_int_equal(per[k], 8);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_departments_have_defaults_and_change),
	FX_TEST(test_store_users_have_availability_and_maximum),
	FX_TEST(test_store_assign_by_load_skills_and_maximum),
	FX_TEST(test_store_assign_round_robin_off_and_idle),
	FX_TEST(test_store_assign_from_two_replicas_keeps_the_maximum),
};

int main(void)
{
	return FX_RUN("store_assign", tests) ? 1 : 0;
}
