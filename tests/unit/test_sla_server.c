/*
 * Tests of the SLA admin API (/api/v1/sla, src/server/routes_sla.c) over
 * real HTTP on both backends: the built-in calendar and default policies,
 * calendars and policies written by admins and read by agents, errors
 * naming the failing field, a calendar in use that cannot be deleted, and
 * policies kept in the order they are tried.
 */
#include "test_helpers.h"
#include "server_fixture.h"
#include "support/support.h"

#define BERLIN "{\"timezone\":\"Europe/Berlin\",\"hours\":{\"mon\":[[\"09:00\",\"17:00\"]]," \
	"\"fri\":[[\"22:00\",\"02:00\"]]},\"holidays\":[\"2026-12-25\"]}"

static void expect_field(struct http_resp *r, const char *field)
{
	fx_expect(r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r->json, "error"), "field", ""), field);
}

static void test_sla_defaults_are_the_old_table_on_24x7(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *first;

	fx_start(f, 0, false);
	fx_call(f, "GET", "/api/v1/sla/policies", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	first = json_array_get(json_object_get(r.json, "policies"), 0);
	assert_string_equal(fl_json_str(first, "id", ""), "urgent-enterprise");
	assert_int_equal(fl_json_int(first, "first_response_min", 0), 15);
	assert_true(fl_json_bool(first, "builtin", false));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/sla/calendars/24x7", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "timezone", ""), "UTC");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/calendars/24x7", f->admin, BERLIN, &r);
	fx_expect(&r, 409, NULL);
	http_resp_release(&r);
}

static void test_sla_calendars_and_policies_round_trip(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *list;

	fx_start(f, 0, false);
	fx_call(f, "PUT", "/api/v1/sla/calendars/berlin", f->agent, BERLIN, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/calendars/berlin", f->admin, BERLIN, &r);
	fx_expect(&r, 201, NULL);
	assert_string_equal(json_string_value(json_array_get(json_array_get(json_object_get(
		json_object_get(r.json, "hours"), "fri"), 0), 1)), "02:00");
	assert_int_equal(fl_json_int(r.json, "version", 0), 1);
	http_resp_release(&r);

	fx_call(f, "PUT", "/api/v1/sla/calendars/mars", f->admin,
		"{\"timezone\":\"Mars/Olympus\",\"hours\":{\"mon\":[[\"09:00\",\"17:00\"]]}}", &r);
	expect_field(&r, "timezone");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/calendars/bad", f->admin, "{\"hours\":{\"mon\":[[\"09:00\",\"17:70\"]]}}", &r);
	expect_field(&r, "hours.mon[0][1]");
	http_resp_release(&r);

	fx_call(f, "PUT", "/api/v1/sla/policies/vip", f->admin,
		"{\"calendar\":\"nowhere\",\"first_response_min\":30,\"resolution_min\":480}", &r);
	expect_field(&r, "calendar");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/policies/vip", f->admin,
		"{\"calendar\":\"berlin\",\"match\":{\"customer_tier\":[\"enterprise\"]},\"first_response_min\":0,"
		"\"resolution_min\":480}", &r);
	expect_field(&r, "first_response_min");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/policies/vip", f->admin,
		"{\"calendar\":\"berlin\",\"match\":{\"tier\":[\"enterprise\"]},\"first_response_min\":30,"
		"\"resolution_min\":480}", &r);
	expect_field(&r, "match.tier");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/policies/rest", f->admin,
		"{\"calendar\":\"24x7\",\"first_response_min\":240,\"resolution_min\":2880}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/sla/policies/vip", f->admin,
		"{\"calendar\":\"berlin\",\"match\":{\"customer_tier\":[\"enterprise\"]},\"first_response_min\":30,"
		"\"resolution_min\":480,\"position\":0}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);

	fx_call(f, "GET", "/api/v1/sla/policies", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	list = json_object_get(r.json, "policies");
	assert_int_equal(json_array_size(list), 2);   /* stored policies replace the defaults */
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "vip");
	assert_string_equal(fl_json_str(json_array_get(list, 1), "id", ""), "rest");
	http_resp_release(&r);

	fx_call(f, "DELETE", "/api/v1/sla/calendars/berlin", f->admin, NULL, &r);
	fx_expect(&r, 409, NULL);
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/sla/policies/vip", f->admin, NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/sla/calendars/berlin", f->admin, NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/sla/calendars/berlin", f->agent, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static int64_t us_of(const json_t *o, const char *key)
{
	int64_t us = 0;

	assert_int_equal(fl_time_parse(fl_json_str(o, key, ""), &us), 0);
	return us;
}

static void test_sla_tickets_carry_their_clocks_and_pending_pauses_them(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	struct http_resp r;
	const json_t *sla;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("s1", "cust_001", "Invoice", "Charged twice."), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);

	/* the defaults: an untriaged ticket (no priority) gets the fallback, the old low-standard time */
	fx_call(f, "GET", "/api/v1/tickets/s1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	sla = json_object_get(r.json, "sla");
	assert_string_equal(fl_json_str(sla, "policy", ""), "fallback");
	assert_int_equal(us_of(sla, "first_response_due_at") - us_of(r.json, "created_at") / 1000000 * 1000000,
			 72 * INT64_C(3600000000));
	http_resp_release(&r);

	fx_call(f, "PUT", "/api/v1/sla/policies/all", f->admin,
		"{\"calendar\":\"24x7\",\"first_response_min\":60,\"resolution_min\":480}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/s1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	sla = json_object_get(r.json, "sla");
	assert_string_equal(fl_json_str(sla, "policy", ""), "all");
	assert_string_equal(fl_json_str(sla, "state", ""), "ok");
	assert_false(fl_json_bool(sla, "paused", true));
	assert_int_equal(us_of(sla, "resolution_due_at") - us_of(r.json, "created_at") / 1000000 * 1000000,
			 8 * INT64_C(3600000000));
	assert_true(json_is_null(json_object_get(sla, "next_response_due_at")));
	http_resp_release(&r);

	fx_call_session(f, "PATCH", "/api/v1/tickets/s1", &ann, true, "{\"version\":1,\"status\":\"pending\"}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/s1", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	sla = json_object_get(r.json, "sla");
	assert_string_equal(fl_json_str(r.json, "status", ""), "pending");
	assert_true(fl_json_bool(sla, "paused", false));
	assert_true(json_is_null(json_object_get(sla, "first_response_due_at")));
	http_resp_release(&r);
}

/* The number of events of type on ticket id. */
static size_t count_events(struct store *st, const char *id, const char *type, const char **reason)
{
	json_t *events = NULL, *e;
	size_t i, n = 0;

	assert_int_equal(store_event_list(st, id, 1000, &events), STORE_OK);
	json_array_foreach(events, i, e)
		if (!strcmp(fl_json_str(e, "type", ""), type)) {
			n++;
			if (reason)
				*reason = fl_json_str(json_object_get(e, "data"), "reason", NULL) ? "yes" : NULL;
		}
	json_decref(events);
	return n;
}

static void test_sla_sweep_warns_breaches_reminds_resolves_and_closes_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct support_sla_stats s;
	struct http_resp r;
	json_t *t = NULL, *esc = NULL;
	const char *reason = NULL;
	int64_t created;

	fx_start(f, 0, false);
	fx_call(f, "PUT", "/api/v1/sla/policies/all", f->admin,
		"{\"calendar\":\"24x7\",\"first_response_min\":60,\"resolution_min\":480}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("w1", "cust_001", "Invoice", "Charged twice."), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	assert_int_equal(store_ticket_get(st, "w1", false, &t), STORE_OK);
	assert_int_equal(fl_time_parse(fl_json_str(t, "created_at", ""), &created), 0);
	created /= 1000000;
	json_decref(t);

	/* 50 of 60 minutes: a warning, once */
	assert_int_equal(support_sla_sweep(st, created + 50 * 60, &s), STORE_OK);
	assert_int_equal(s.warnings, 1);
	assert_int_equal(s.breaches, 0);
	assert_int_equal(support_sla_sweep(st, created + 55 * 60, &s), STORE_OK);
	assert_int_equal(s.warnings, 0);
	assert_int_equal(count_events(st, "w1", "ticket.sla_warning", NULL), 1);
	/* past the hour: a breach, once, into the escalation queue */
	assert_int_equal(support_sla_sweep(st, created + 61 * 60, &s), STORE_OK);
	assert_int_equal(s.breaches, 1);
	assert_int_equal(support_sla_sweep(st, created + 62 * 60, &s), STORE_OK);
	assert_int_equal(s.breaches, 0);
	assert_int_equal(store_escalation_list(st, NULL, 10, &esc), STORE_OK);
	assert_int_equal(json_array_size(esc), 1);
	json_decref(esc);

	/* pending: one reminder after 48 h, resolved after 168 h, both with their reason */
	{
		json_t *pending = json_pack("{s:s}", "status", "pending");

		assert_int_equal(store_ticket_update(st, "w1", 0, pending, "test", NULL), STORE_OK);
		json_decref(pending);
	}
	assert_int_equal(support_sla_sweep(st, created + 47 * 3600, &s), STORE_OK);
	assert_int_equal(s.reminders, 0);
	assert_int_equal(support_sla_sweep(st, created + 49 * 3600, &s), STORE_OK);
	assert_int_equal(s.reminders, 1);
	assert_int_equal(support_sla_sweep(st, created + 50 * 3600, &s), STORE_OK);
	assert_int_equal(s.reminders, 0);
	assert_int_equal(count_events(st, "w1", "ticket.reminded", &reason), 1);
	assert_non_null(reason);
	assert_int_equal(support_sla_sweep(st, created + 169 * 3600, &s), STORE_OK);
	assert_int_equal(s.resolved, 1);
	assert_int_equal(store_ticket_get(st, "w1", false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "status", ""), "resolved");
	json_decref(t);
	assert_int_equal(count_events(st, "w1", "ticket.auto_resolved", &reason), 1);

	/* resolved: closed after 7 days */
	assert_int_equal(support_sla_sweep(st, created + 169 * 3600 + 6 * 86400, &s), STORE_OK);
	assert_int_equal(s.closed, 0);
	assert_int_equal(support_sla_sweep(st, created + 170 * 3600 + 7 * 86400, &s), STORE_OK);
	assert_int_equal(s.closed, 1);
	assert_int_equal(store_ticket_get(st, "w1", false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "status", ""), "closed");
	json_decref(t);
	assert_int_equal(count_events(st, "w1", "ticket.auto_closed", &reason), 1);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_sla_defaults_are_the_old_table_on_24x7),
	FX_TEST(test_sla_calendars_and_policies_round_trip),
	FX_TEST(test_sla_tickets_carry_their_clocks_and_pending_pauses_them),
	FX_TEST(test_sla_sweep_warns_breaches_reminds_resolves_and_closes_once),
};

int main(void)
{
	return FX_RUN("sla_server", tests) ? 1 : 0;
}
