/*
 * SLA attainment (issue 18) over real HTTP on both backends: per policy,
 * first-response and resolution clocks met or breached among the tickets
 * created in the last 30 days, in GET /api/v1/metrics/summary ("sla") and
 * in /metrics (frontline_sla_attainment_ratio, frontline_sla_clocks); the
 * "sla" of each ticket in the list's summaries; a reply that asks (or says
 * so) sets the ticket pending, pausing its clocks;
 * store_sla_window's tickets, events and limit.
 */
#include "test_helpers.h"

#include <math.h>

#include "server_fixture.h"
#include "text/text.h"

#define MIN_US (60 * INT64_C(1000000))

static void make_ticket(struct fx *f, const char *id, int64_t created, int64_t first_response, int64_t resolved)
{
	struct http_resp r;
	char sql[512];

	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body(id, "cust_001", "Invoice", "Charged twice."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	snprintf(sql, sizeof(sql), "UPDATE tickets SET created_at = %lld, first_response_at = %s%lld%s,"
		 " resolved_at = %s%lld%s WHERE id = '%s'", (long long)created,
		 first_response ? "" : "NULLIF(", (long long)first_response, first_response ? "" : ", 0)",
		 resolved ? "" : "NULLIF(", (long long)resolved, resolved ? "" : ", 0)", id);
	fx_sql(f, sql);
}

/* The list's item for ticket id (a new reference), from GET /api/v1/tickets. */
static json_t *list_item(struct fx *f, const char *id)
{
	struct http_resp r;
	json_t *t, *found = NULL;
	size_t i;

	fx_call(f, "GET", "/api/v1/tickets?limit=50", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	json_array_foreach(json_object_get(r.json, "tickets"), i, t)
		if (!strcmp(fl_json_str(t, "id", ""), id))
			found = json_incref(t);
	http_resp_release(&r);
	assert_non_null(found);
	return found;
}

static void expect_clock(const json_t *policy, const char *target, int met, int breached, double attainment)
{
	const json_t *c = json_object_get(policy, target);

	assert_int_equal(fl_json_int(c, "met", -1), met);
	assert_int_equal(fl_json_int(c, "breached", -1), breached);
	if (attainment < 0)
		assert_true(json_is_null(json_object_get(c, "attainment")));
	else
		assert_true(fabs(fl_json_num(c, "attainment", -1) - attainment) < 1e-9);
}

static void test_sla_attainment_per_policy_in_summary_and_metrics(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	const json_t *sla, *all;
	json_t *w = NULL;
	int64_t now = fl_wall_us();

	fx_start(f, 0, false);
	fx_call(f, "PUT", "/api/v1/sla/policies/all", f->admin,
		"{\"calendar\":\"24x7\",\"first_response_min\":60,\"resolution_min\":480}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* answered in 30 min, resolved in 1 h: both met */
	make_ticket(f, "m1", now - 120 * MIN_US, now - 90 * MIN_US, now - 60 * MIN_US);
	/* answered after 90 min (late), resolution still within its 8 h: not decided */
	make_ticket(f, "m2", now - 180 * MIN_US, now - 90 * MIN_US, 0);
	/* never answered, 10 h old: both breached */
	make_ticket(f, "m3", now - 600 * MIN_US, 0, 0);
	/* 40 days old: outside the window */
	make_ticket(f, "m4", now - 40 * 1440 * MIN_US, 0, 0);
	/* brand new: nothing decided yet */
	make_ticket(f, "m5", now - MIN_US, 0, 0);

	fx_call(f, "GET", "/api/v1/metrics/summary", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	sla = json_object_get(r.json, "sla");
	assert_int_equal(fl_json_int(sla, "window", 0), 30 * 86400);
	assert_int_equal(fl_json_int(sla, "tickets", 0), 4);
	assert_false(fl_json_bool(sla, "truncated", true));
	all = json_object_get(json_object_get(sla, "policies"), "all");
	assert_non_null(all);
	expect_clock(all, "first_response", 1, 2, 1.0 / 3.0);
	expect_clock(all, "resolution", 1, 1, 0.5);
	assert_int_equal(json_object_size(json_object_get(sla, "policies")), 1);
	http_resp_release(&r);

	fx_call(f, "GET", "/metrics", NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	if (!strstr(r.body, "frontline_sla_attainment_ratio{policy=\"all\",target=\"resolution\"} 0.5") ||
	    !strstr(r.body, "frontline_sla_clocks{policy=\"all\",target=\"first_response\",result=\"breached\"} 2") ||
	    !strstr(r.body, "frontline_sla_clocks{policy=\"all\",target=\"resolution\",result=\"met\"} 1"))
		fail_msg("/metrics lacks the SLA attainment:\n%s", r.body);
	http_resp_release(&r);

	/* the list's summaries carry each ticket's clocks (issue 18, point 1) */
	fx_call(f, "GET", "/api/v1/tickets?limit=10", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	{
		const json_t *items = json_object_get(r.json, "tickets"), *t;
		size_t i, n = 0;

		assert_int_equal(json_array_size(items), 5);
		json_array_foreach(items, i, t) {
			const json_t *s = json_object_get(t, "sla");
			const char *id = fl_json_str(t, "id", "");

			assert_string_equal(fl_json_str(s, "policy", ""), "all");
			if (!strcmp(id, "m3") || !strcmp(id, "m4"))
				assert_string_equal(fl_json_str(s, "state", ""), "breached"), n++;
			if (!strcmp(id, "m5"))
				assert_string_equal(fl_json_str(s, "state", ""), "ok"), n++;
		}
		assert_int_equal(n, 3);
	}
	http_resp_release(&r);

	/* the store's window: oldest first, at most limit, the events of those only */
	assert_int_equal(store_sla_window(f->st, now - 31 * 1440 * MIN_US, now, 2, &w), STORE_OK);
	assert_int_equal(json_array_size(json_object_get(w, "tickets")), 2);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(w, "tickets"), 0), "id", ""), "m1");
	assert_true(fl_json_bool(w, "truncated", false));
	/* no text: only what the clocks and the policies read */
	{
		const json_t *content = json_object_get(json_array_get(json_object_get(w, "tickets"), 0), "content");

		assert_true(!content || json_is_null(content));
	}
	json_decref(w);
	assert_int_equal(store_sla_window(f->st, now, now - 1, 2, &w), STORE_EINVAL);
}

static void test_sla_attainment_picks_the_policy_by_the_customer_tier(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *a = NULL;
	const json_t *p;
	int64_t now = fl_wall_us();
	char sql[512];

	fx_start(f, 0, false);
	fx_call(f, "PUT", "/api/v1/sla/policies/vip", f->admin,
		"{\"calendar\":\"24x7\",\"match\":{\"customer_tier\":[\"enterprise\"]},\"first_response_min\":30,"
		"\"resolution_min\":60}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/policies/rest", f->admin,
		"{\"calendar\":\"24x7\",\"first_response_min\":60,\"resolution_min\":480}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* the tier comes from the customer record */
	{
		json_t *c = json_pack("{s:s, s:s, s:s}", "id", "cust_vip", "email", "vip@example.com", "tier",
				      "enterprise");

		assert_int_equal(store_customer_upsert(f->st, c), STORE_OK);
		json_decref(c);
	}
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("v1", "cust_vip", "Outage", "Everything is down since noon."), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	snprintf(sql, sizeof(sql), "UPDATE tickets SET created_at = %lld, first_response_at = %lld WHERE id = 'v1'",
		 (long long)(now - 120 * MIN_US), (long long)(now - 100 * MIN_US));
	fx_sql(f, sql);
	make_ticket(f, "r1", now - 120 * MIN_US, now - 100 * MIN_US, now - 90 * MIN_US);

	/* the list reads the tiers with the page */
	{
		json_t *v = list_item(f, "v1"), *o = list_item(f, "r1");

		assert_string_equal(fl_json_str(json_object_get(v, "sla"), "policy", ""), "vip");
		assert_string_equal(fl_json_str(json_object_get(o, "sla"), "policy", ""), "rest");
		json_decref(v);
		json_decref(o);
	}
	assert_int_equal(support_sla_attainment(f->st, now / 1000000, 30 * 86400, &a), STORE_OK);
	p = json_object_get(json_object_get(a, "policies"), "vip");
	assert_non_null(p);
	expect_clock(p, "first_response", 1, 0, 1.0);
	expect_clock(p, "resolution", 0, 1, 0.0);   /* open 2 h past a 1 h resolution */
	p = json_object_get(json_object_get(a, "policies"), "rest");
	expect_clock(p, "first_response", 1, 0, 1.0);
	expect_clock(p, "resolution", 1, 0, 1.0);
	json_decref(a);
}

/* Replies body (JSON) on ticket p1, then checks the ticket's status (and its list item's clocks). */
static void reply_then(struct fx *f, const char *body, const char *status)
{
	struct http_resp r;

	fx_call(f, "POST", "/api/v1/tickets/p1/replies", f->agent, body, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/p1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "status", ""), status);
	if (!strcmp(status, "pending"))
		assert_true(fl_json_bool(json_object_get(r.json, "sla"), "paused", false));
	/* the list reads the page's events at once, and says the same */
	{
		json_t *item = list_item(f, "p1");

		if (!json_equal(json_object_get(item, "sla"), json_object_get(r.json, "sla")))
			fail_msg("the list's sla differs from the ticket's");
		json_decref(item);
	}
	http_resp_release(&r);
}

static void test_a_reply_that_asks_sets_pending(void **state)
{
	static const struct { const char *text; bool asks; } cases[] = {
		{ "Could you send me the order number?", true },
		{ "Hello Ann,\n\nCould you send me the order number?\n\nThanks!\nAnn", true },
		{ "Could you try the link below (it expires today)?  ", true },
		{ "Would you confirm \u201cthe new address\u201d is right?\u201d", true },
		{ "> Is it fixed yet? Please tell me now?\nYes, it is fixed now, sorry for the wait.", false },
		{ "Did you restart it? Anyway it works now, we fixed the server.", false },
		{ "The refund is on its way to your account.", false },
		{ "OK?", false },
		{ "Could you tell us which browser you use\uff1f", true },
		{ "", false },
	};
	struct fx *f = *state;
	struct http_resp r;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(cases); i++)
		if (text_asks_question(cases[i].text) != cases[i].asks)
			fail_msg("text_asks_question(\"%s\") should be %d", cases[i].text, cases[i].asks);
	assert_false(text_asks_question(NULL));

	fx_start(f, 0, false);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("p1", "cust_001", "Invoice", "Charged twice."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* asking: pending, the clocks paused */
	reply_then(f, "{\"body\": \"Sorry about that. Could you send me the invoice number?\\n\\nThanks!\\nAnn\"}",
		   "pending");
	/* telling: waiting on the customer, as before */
	reply_then(f, "{\"body\": \"Did you see our mail? The refund went out this morning.\"}", "waiting_on_customer");
	/* the composer's choice wins either way */
	reply_then(f, "{\"body\": \"The refund went out this morning.\", \"pending\": true}", "pending");
	reply_then(f, "{\"body\": \"Would you mind checking your bank account again?\", \"pending\": false}",
		   "waiting_on_customer");
	fx_call(f, "POST", "/api/v1/tickets/p1/replies", f->agent, "{\"body\": \"Hello there.\", \"pending\": \"yes\"}",
		&r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "pending");
	http_resp_release(&r);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		FX_TEST(test_sla_attainment_per_policy_in_summary_and_metrics),
		FX_TEST(test_sla_attainment_picks_the_policy_by_the_customer_tier),
		FX_TEST(test_a_reply_that_asks_sets_pending),
	};

	return FX_RUN("server_sla_metrics", tests) ? 1 : 0;
}
