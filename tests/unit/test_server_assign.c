/*
 * Assignment over real HTTP (issue 18, point 2), on SQLite and PostgreSQL
 * (server_fixture.h), with several agents in two departments: tickets the
 * workers triage and escalate are assigned when finished (by load, ties to
 * the longest idle; round robin; not at all when the department is off;
 * skills and maxima respected); with nobody available a ticket waits in
 * its department's queue and goes to the agent who becomes available
 * (PUT /api/v1/users/me/availability, signing in while available, or the
 * first request after being idle), up
 * to the agent's maximum; the departments' settings (GET and PUT
 * /api/v1/departments/{id}, GET /api/v1/departments) and users' max_open
 * through the user update, with their errors.
 */
#include "test_helpers.h"

#include "server_fixture.h"

/* The seed's outage demo: the built-in triage escalates it (critical). */
static const char *outage(const char *id)
{
	static char body[512];

	snprintf(body, sizeof(body),
		 "{\"id\":\"%s\",\"customer_id\":\"cust_003\",\"subject\":\"CRITICAL: Complete system outage affecting "
		 "all users\",\"source\":\"phone\",\"content\":\"Our entire organization cannot access the platform. "
		 "All 500 users get error 503.\",\"metadata\":{\"customer_tier\":\"enterprise\",\"users_affected\":500,"
		 "\"revenue_impact\":\"high\",\"urgent_flag\":true}}", id);
	return body;
}

/* Sends outage tickets ids[0..n) and waits until the workers have finished done_after jobs in all. */
static void triage(struct fx *f, const char *const *ids, size_t n, uint64_t done_after)
{
	struct http_resp r;
	size_t i;

	for (i = 0; i < n; i++) {
		fx_webhook(f, outage(ids[i]), 0, NULL, &r);
		fx_expect(&r, 202, NULL);
		http_resp_release(&r);
	}
	fx_wait_done(f, done_after);
}

static json_t *ticket(struct fx *f, const char *id)
{
	json_t *t = NULL;

	if (store_ticket_get(f->st, id, false, &t) != STORE_OK)
		fail_msg("ticket %s: %s", id, store_errmsg(f->st));
	return t;
}

static char *assignee_of(struct fx *f, const char *id)
{
	json_t *t = ticket(f, id);
	char *who = fl_strdup(fl_json_str(t, "assignee", ""));

	json_decref(t);
	return who;
}

#define ASSIGNED(f, id, want) \
	do { \
		char *who_ = assignee_of(f, id); \
		if (strcmp(who_, want)) \
			fail_msg("ticket %s is assigned to '%s', not '%s'", id, who_, want); \
		free(who_); \
	} while (0)

/* An agent of department (via the admin API), max_open (< 0: the department's), signed in; its session. */
static int64_t agent(struct fx *f, const char *email, const char *department, int max_open, const char *skills,
		     struct fx_session *s)
{
	int64_t id = fx_make_user(f, email, "agent", "agent password");
	struct http_resp r;
	char path[64], body[256];

	snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)id);
	if (max_open >= 0)
		snprintf(body, sizeof(body), "{\"department\":\"%s\",\"max_open\":%d%s}", department, max_open,
			 skills ? skills : "");
	else
		snprintf(body, sizeof(body), "{\"department\":\"%s\",\"max_open\":null%s}", department,
			 skills ? skills : "");
	fx_call(f, "PATCH", path, f->admin, body, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "department", ""), department);
	assert_string_equal(fl_json_str(r.json, "availability", ""), "offline");
	http_resp_release(&r);
	fx_sign_in(f, email, "agent password", s);
	return id;
}

/* PUT /api/v1/users/me/availability; the ticket ids it assigned, space-separated (caller frees). */
static char *set_availability(struct fx *f, const struct fx_session *s, const char *a)
{
	struct http_resp r;
	struct fl_buf b = FL_BUF_INIT;
	char body[64];
	json_t *id;
	size_t i;

	snprintf(body, sizeof(body), "{\"availability\":\"%s\"}", a);
	fx_call_session(f, "PUT", "/api/v1/users/me/availability", s, true, body, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "availability", ""), a);
	assert_string_equal(fl_json_str(json_object_get(r.json, "user"), "availability", ""), a);
	json_array_foreach(json_object_get(r.json, "assigned"), i, id)
		fl_buf_addf(&b, "%s%s", i ? " " : "", json_string_value(id));
	http_resp_release(&r);
	return b.buf ? fl_buf_detach(&b, NULL) : fl_strdup("");
}

#define AVAILABLE_TAKES(f, s, want) \
	do { \
		char *got_ = set_availability(f, s, "available"); \
		if (strcmp(got_, want)) \
			fail_msg("becoming available took [%s], not [%s]", got_, want); \
		free(got_); \
	} while (0)

static void put_department(struct fx *f, const char *id, const char *body)
{
	struct http_resp r;
	char path[128];

	snprintf(path, sizeof(path), "/api/v1/departments/%s", id);
	fx_call(f, "PUT", path, f->admin, body, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
}

static bool has_event(struct fx *f, const char *id, const char *reason)
{
	json_t *events = NULL, *e;
	bool found = false;
	size_t i;

	if (store_event_list(f->st, id, 100, &events) != STORE_OK)
		fail_msg("events of %s: %s", id, store_errmsg(f->st));
	json_array_foreach(events, i, e)
		if (!strcmp(fl_json_str(e, "type", ""), "ticket.assigned") &&
		    !strcmp(fl_json_str(json_object_get(e, "data"), "reason", ""), reason))
			found = true;
	json_decref(events);
	return found;
}

/* The department triage gives the outage ticket (asked once per test, from the first ticket). */
static char *department_of(struct fx *f, const char *id)
{
	json_t *t = ticket(f, id);
	char *d;

	assert_string_equal(fl_json_str(t, "status", ""), "escalated");
	assert_non_null(fl_json_str(t, "assigned_department", NULL));
	d = fl_strdup(fl_json_str(t, "assigned_department", ""));
	json_decref(t);
	return d;
}

static void test_assign_queues_then_balances_the_load(void **state)
{
	struct fx *f = *state;
	struct fx_session ann, bob, cy;
	const char *first[] = { "q1" }, *next[] = { "l1" }, *more[] = { "l2" }, *last[] = { "l3", "l4" };
	char *dept;

	fx_start(f, -1, true);
	/* nobody in the department yet: the ticket waits in its queue, and its history says so */
	triage(f, first, 1, 1);
	dept = department_of(f, "q1");
	ASSIGNED(f, "q1", "");
	assert_true(has_event(f, "q1", "queued: nobody available"));
	/* ann joins, signs in (offline: nothing), becomes available: the queue is hers */
	agent(f, "ann@x.org", dept, -1, NULL, &ann);
	ASSIGNED(f, "q1", "");
	AVAILABLE_TAKES(f, &ann, "q1");
	ASSIGNED(f, "q1", "ann@x.org");
	/* bob (available) and cy (German only) join: the next ticket goes to bob, who has none */
	agent(f, "bob@x.org", dept, -1, NULL, &bob);
	AVAILABLE_TAKES(f, &bob, "");
	agent(f, "cy@x.org", dept, -1, ",\"skills\":{\"languages\":[\"de\"]}", &cy);
	AVAILABLE_TAKES(f, &cy, "");
	triage(f, next, 1, 2);
	ASSIGNED(f, "l1", "bob@x.org");
	assert_true(has_event(f, "l1", "load"));
	/* one each: the tie goes to ann, given hers longest ago */
	triage(f, more, 1, 3);
	ASSIGNED(f, "l2", "ann@x.org");
	/* bob may hold 1 at most: both of the next go to ann (2, then 3) */
	{
		struct http_resp r;
		char path[64];
		json_t *u = NULL;

		assert_int_equal(store_user_find_by_email(f->st, "bob@x.org", &u, NULL), STORE_OK);
		snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)fl_json_int(u, "id", 0));
		json_decref(u);
		fx_call(f, "PATCH", path, f->admin, "{\"max_open\":1}", &r);
		fx_expect(&r, 200, NULL);
		assert_int_equal(fl_json_int(r.json, "max_open", 0), 1);
		http_resp_release(&r);
	}
	triage(f, last, 2, 5);
	ASSIGNED(f, "l3", "ann@x.org");
	ASSIGNED(f, "l4", "ann@x.org");
	free(dept);
}

static void test_assign_round_robin_off_and_the_maximum(void **state)
{
	struct fx *f = *state;
	struct fx_session ann, bob;
	const char *probe[] = { "p0" }, *rr[] = { "r1", "r2" }, *off[] = { "o1" }, *full[] = { "m1" };
	struct http_resp r;
	char *dept, *a, *b, path[128];
	int anns = 0;

	fx_start(f, -1, true);
	triage(f, probe, 1, 1);
	dept = department_of(f, "p0");
	agent(f, "ann@x.org", dept, -1, NULL, &ann);
	agent(f, "bob@x.org", dept, -1, NULL, &bob);
	AVAILABLE_TAKES(f, &ann, "p0");
	AVAILABLE_TAKES(f, &bob, "");
	/* round robin ignores the load: ann has 1, bob 0, and each gets one of the next two */
	put_department(f, dept, "{\"assignment\":\"round_robin\"}");
	triage(f, rr, 2, 3);
	a = assignee_of(f, "r1");
	b = assignee_of(f, "r2");
	anns = !strcmp(a, "ann@x.org") + !strcmp(b, "ann@x.org");
	if (anns != 1 || (strcmp(a, "bob@x.org") && strcmp(b, "bob@x.org")))
		fail_msg("round robin gave r1 to '%s' and r2 to '%s'", a, b);
	assert_true(has_event(f, "r1", "round_robin"));
	free(a);
	free(b);
	/* off: nobody is assigned, nothing is queued */
	put_department(f, dept, "{\"assignment\":\"off\"}");
	triage(f, off, 1, 4);
	ASSIGNED(f, "o1", "");
	assert_false(has_event(f, "o1", "queued: nobody available"));
	/* by load with at most 2 each: ann (2) and bob (1) ... bob takes o1 when the department opens up */
	snprintf(path, sizeof(path), "/api/v1/departments/%s", dept);
	fx_call(f, "PUT", path, f->admin, "{\"assignment\":\"load\",\"max_open_per_agent\":2}", &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "assignment", ""), "load");
	assert_int_equal(fl_json_int(r.json, "max_open_per_agent", 0), 2);
	assert_int_equal(json_array_size(json_object_get(r.json, "assigned")), 1);
	http_resp_release(&r);
	ASSIGNED(f, "o1", "bob@x.org");
	/* everyone at the maximum: queued; bob resolves one and, available again, takes it */
	triage(f, full, 1, 5);
	ASSIGNED(f, "m1", "");
	fx_call_session(f, "POST", "/api/v1/tickets/o1/resolve", &bob, true, "{}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	AVAILABLE_TAKES(f, &bob, "m1");
	ASSIGNED(f, "m1", "bob@x.org");
	/* away: signing in again takes nothing, whatever waits */
	free(set_availability(f, &ann, "away"));
	free(dept);
}

/* Idle past FRONTLINE_AGENT_IDLE_S: away (tickets queue); the next request takes the queue. */
static void test_assign_idle_agent_is_away_until_back(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	const char *probe[] = { "p0" }, *later[] = { "i1" };
	struct http_resp r;
	char *dept;

	fx_start(f, -1, true);
	triage(f, probe, 1, 1);
	dept = department_of(f, "p0");
	agent(f, "ann@x.org", dept, -1, NULL, &ann);
	AVAILABLE_TAKES(f, &ann, "p0");
	/* 1,000 s without a request (the default idle time is 900 s) */
	fx_sql(f, "UPDATE users SET last_seen_at = last_seen_at - 1000000000");
	fx_sql(f, "UPDATE sessions SET last_seen_at = last_seen_at - 1000000000");
	triage(f, later, 1, 2);
	ASSIGNED(f, "i1", "");
	assert_true(has_event(f, "i1", "queued: nobody available"));
	/* back: any request of the session */
	fx_call_session(f, "GET", "/api/v1/tickets/counts", &ann, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	ASSIGNED(f, "i1", "ann@x.org");
	assert_true(has_event(f, "i1", "agent available"));
	free(dept);
}

static void test_departments_api_and_errors(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	struct http_resp r;

	fx_make_user(f, "ann@x.org", "agent", "agent password");
	fx_start(f, -1, false);
	fx_sign_in(f, "ann@x.org", "agent password", &ann);
	/* a department nobody configured: the defaults */
	fx_call(f, "GET", "/api/v1/departments/billing", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "assignment", ""), "load");
	assert_true(json_is_null(json_object_get(r.json, "max_open_per_agent")));
	http_resp_release(&r);
	put_department(f, "billing", "{\"assignment\":\"round_robin\",\"max_open_per_agent\":5}");
	fx_call(f, "GET", "/api/v1/departments", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "departments")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "departments"), 0), "assignment", ""),
			    "round_robin");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "departments"), 0), "updated_by", ""),
			    "admin:admin");
	http_resp_release(&r);
	/* bad fields, bad ids, the wrong role */
	fx_call(f, "PUT", "/api/v1/departments/billing", f->admin, "{\"assignment\":\"random\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "assignment");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/departments/billing", f->admin, "{\"max_open_per_agent\":-1}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "max_open_per_agent");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/departments/bil%20ling", f->admin, "{}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/departments/bil%20ling", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/departments/billing", f->agent, "{\"assignment\":\"off\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	/* availability: a person's only, one of three words, with the CSRF token */
	fx_call(f, "PUT", "/api/v1/users/me/availability", f->agent, "{\"availability\":\"available\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call_session(f, "PUT", "/api/v1/users/me/availability", &ann, true, "{\"availability\":\"busy\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "availability");
	http_resp_release(&r);
	fx_call_session(f, "PUT", "/api/v1/users/me/availability", &ann, false, "{\"availability\":\"away\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	/* the session shows the availability chosen */
	free(set_availability(f, &ann, "away"));
	fx_call_session(f, "GET", "/api/v1/session", &ann, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "user"), "availability", ""), "away");
	http_resp_release(&r);
	/* max_open through the user update: a count or null */
	fx_call(f, "PATCH", "/api/v1/users/1", f->admin, "{\"max_open\":\"many\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_assign_queues_then_balances_the_load),
	FX_TEST(test_assign_round_robin_off_and_the_maximum),
	FX_TEST(test_assign_idle_agent_is_away_until_back),
	FX_TEST(test_departments_api_and_errors),
};

int main(void)
{
	return FX_RUN("server_assign", tests) ? 1 : 0;
}
