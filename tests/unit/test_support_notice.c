/*
 * Tests of the notices (support/notice.c): each constructor's channel,
 * target, payload and dedupe key, the routes table of the policy (the Slack
 * channel per kind and severity, the on-call list), and the enqueue into a
 * real SQLite outbox: once per key, nothing when notifications are off.
 */
#include "test_helpers.h"
#include "store/store.h"
#include "support/support.h"

static json_t *a_ticket(void)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s}", "id", "ticket_7", "number", 42, "subject", "Cannot log in",
			 "status", "escalated", "customer_id", "cust_001");
}

static const json_t *nth(const json_t *notices, size_t i)
{
	const json_t *n = json_array_get(notices, i);

	assert_non_null(n);
	return n;
}

static void expect(const json_t *n, const char *channel, const char *target, const char *key)
{
	assert_string_equal(fl_json_str(n, "channel", ""), channel);
	assert_string_equal(fl_json_str(n, "target", ""), target);
	assert_string_equal(fl_json_str(n, "key", ""), key);
	assert_true(json_is_object(json_object_get(n, "payload")));
}

static const char *payload_str(const json_t *n, const char *key)
{
	return fl_json_str(json_object_get(n, "payload"), key, "");
}

static void test_escalation_routes_by_severity(void **state)
{
	json_t *t = a_ticket(), *l = json_array();

	(void)state;
	fl_config_set("FRONTLINE_ONCALL_EMAILS", "oncall@example.com, second@example.com");
	support_notice_escalation(l, t, "billing", "medium");
	assert_int_equal(json_array_size(l), 1);
	expect(nth(l, 0), "slack", "#support-escalations", "ticket:ticket_7:escalated");
	assert_string_equal(payload_str(nth(l, 0), "text"),
			    "Ticket T-000042 (ticket_7) escalated to billing, medium priority: Cannot log in");
	assert_string_equal(payload_str(nth(l, 0), "severity"), "medium");
	json_array_clear(l);

	/* critical: the escalations channel, the alerts channel and the on-call list, in that order */
	support_notice_escalation(l, t, "senior_support", "critical");
	assert_int_equal(json_array_size(l), 3);
	expect(nth(l, 0), "slack", "#support-escalations", "ticket:ticket_7:escalated");
	expect(nth(l, 1), "slack", "#support-alerts", "ticket:ticket_7:urgent_alert");
	expect(nth(l, 2), "email", "oncall@example.com, second@example.com", "ticket:ticket_7:oncall_email");
	assert_string_equal(payload_str(nth(l, 2), "subject"), "Urgent ticket needs attention");
	assert_string_equal(payload_str(nth(l, 2), "body"), payload_str(nth(l, 1), "text"));
	json_array_clear(l);

	/* no on-call list: no email */
	fl_config_set("FRONTLINE_ONCALL_EMAILS", "");
	support_notice_escalation(l, t, "senior_support", "critical");
	assert_int_equal(json_array_size(l), 2);
	json_decref(l);
	json_decref(t);
}

static void test_alerts_route_by_severity(void **state)
{
	json_t *l = json_array();
	json_t *critical = json_pack("{s:s, s:s, s:s, s:s}", "type", "low_satisfaction", "severity", "critical",
				     "message", "satisfaction 0.5 is below 0.7", "dedupe_key", "alert:low_satisfaction:9");
	json_t *warning = json_pack("{s:s, s:s, s:s}", "type", "queue_backlog", "severity", "warning",
				    "message", "jobs waiting 120 exceeds 100");
	int64_t now = INT64_C(1709294400000000);

	(void)state;
	fl_config_set("FRONTLINE_ONCALL_EMAILS", "oncall@example.com");
	support_notice_alert(l, critical, now);
	assert_int_equal(json_array_size(l), 2);
	expect(nth(l, 0), "slack", "#support-alerts", "alert:low_satisfaction:9:#support-alerts");
	expect(nth(l, 1), "email", "oncall@example.com", "alert:low_satisfaction:9:oncall@example.com");
	assert_string_equal(payload_str(nth(l, 0), "text"), "[critical] satisfaction 0.5 is below 0.7");
	assert_string_equal(payload_str(nth(l, 1), "subject"), "Frontline alert: critical");
	json_array_clear(l);

	/* a warning goes to the monitoring channel only; without a dedupe key, once an hour */
	support_notice_alert(l, warning, now);
	assert_int_equal(json_array_size(l), 1);
	expect(nth(l, 0), "slack", "#support-monitoring", "alert:queue_backlog:#support-monitoring:474804");
	assert_ptr_equal(json_object_get(json_object_get(nth(l, 0), "payload"), "alert"), warning);
	fl_config_set("FRONTLINE_ONCALL_EMAILS", "");
	json_decref(critical);
	json_decref(warning);
	json_decref(l);
}

static void test_customer_emails_carry_the_ticket_tag(void **state)
{
	json_t *t = a_ticket(), *l = json_array();

	(void)state;
	support_notice_auto_reply(l, t, "john@example.com", "Here is how to reset your password.",
				  "<p>Here is how to reset your password.</p>");
	support_notice_customer_email(l, t, "john@example.com", "Re: Cannot log in", "Done.", "reply:5");
	expect(nth(l, 0), "email", "john@example.com", "ticket:ticket_7:auto_reply");
	assert_string_equal(payload_str(nth(l, 0), "ticket_tag"), "T-000042");
	assert_string_equal(payload_str(nth(l, 0), "ticket_id"), "ticket_7");
	assert_string_equal(payload_str(nth(l, 0), "subject"), "Cannot log in");
	assert_true(fl_json_bool(json_object_get(nth(l, 0), "payload"), "auto_submitted", false));
	assert_string_equal(payload_str(nth(l, 0), "html"), "<p>Here is how to reset your password.</p>");
	expect(nth(l, 1), "email", "john@example.com", "ticket:ticket_7:reply:5");
	assert_string_equal(payload_str(nth(l, 1), "ticket_tag"), "T-000042");
	assert_null(json_object_get(json_object_get(nth(l, 1), "payload"), "auto_submitted"));
	json_decref(l);
	json_decref(t);
}

static void test_ticket_events_go_to_each_configured_url(void **state)
{
	json_t *t = a_ticket(), *l = json_array();

	(void)state;
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	support_notice_ticket_event(l, FL_EVENT_TICKET_ESCALATED, t, NULL, 0);
	assert_int_equal(json_array_size(l), 0);
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", " https://a.example/hook , https://b.example/hook");
	support_notice_ticket_event(l, FL_EVENT_TICKET_RESOLVED, t, "v3", INT64_C(1709294400000000));
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(fl_json_str(nth(l, 0), "target", ""), "https://a.example/hook");
	assert_string_equal(fl_json_str(nth(l, 1), "target", ""), "https://b.example/hook");
	assert_true(fl_str_has_prefix(fl_json_str(nth(l, 0), "key", ""), "event:ticket.resolved:ticket_7:v3:"));
	assert_string_not_equal(fl_json_str(nth(l, 0), "key", ""), fl_json_str(nth(l, 1), "key", ""));
	assert_string_equal(payload_str(nth(l, 0), "event"), "ticket.resolved");
	assert_string_equal(payload_str(nth(l, 0), "occurred_at"), "2024-03-01T12:00:00.000Z");
	/* a stable projection: the listed fields, null when the ticket lacks them */
	assert_int_equal(fl_json_int(json_object_get(json_object_get(nth(l, 0), "payload"), "ticket"), "number", 0), 42);
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(nth(l, 0), "payload"), "ticket"),
						 "assignee")));
	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	json_decref(l);
	json_decref(t);
}

static void test_enqueue_once_per_key_and_not_when_off(void **state)
{
	char *dir = test_tmpdir(), *url = fl_asprintf("sqlite://%s/n.db", dir), *err = NULL;
	json_t *t = a_ticket(), *l = json_array(), *items = NULL;
	struct store *st = NULL;

	(void)state;
	if (store_open(url, &st, &err) != STORE_OK)
		fail_msg("store: %s", err);
	support_notice_resolved(l, "ticket_demo_001", "John Doe", "john.doe@company.com", "premium",
				"demo:ticket_demo_001");
	assert_int_equal(json_array_size(l), 2);
	expect(nth(l, 0), "email", "john.doe@company.com", "demo:ticket_demo_001:resolved_email");
	assert_string_equal(payload_str(nth(l, 0), "body"),
			    "Hi John,\n\nyour ticket ticket_demo_001 has been resolved. Reply to this email if "
			    "anything is still not working.\n\nFrontline Support");
	expect(nth(l, 1), "slack", "#support-updates", "demo:ticket_demo_001:resolved_slack");
	assert_string_equal(payload_str(nth(l, 1), "text"), "Ticket ticket_demo_001 resolved for John Doe (premium)");

	fl_config_set("NOTIFICATION_ENABLED", "false");
	assert_int_equal(support_notices_enqueue(st, l), STORE_OK);
	assert_null(json_object_get(nth(l, 0), "queued"));
	assert_int_equal(store_outbox_list(st, NULL, 10, &items), STORE_OK);
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);

	fl_config_set("NOTIFICATION_ENABLED", "true");
	assert_int_equal(support_notices_enqueue(st, l), STORE_OK);
	assert_true(fl_json_bool(nth(l, 0), "queued", false));
	assert_true(fl_json_bool(nth(l, 1), "queued", false));
	assert_int_equal(support_notices_enqueue(st, l), STORE_OK);
	assert_false(fl_json_bool(nth(l, 0), "queued", true));
	assert_int_equal(store_outbox_list(st, NULL, 10, &items), STORE_OK);
	assert_int_equal(json_array_size(items), 2);
	json_decref(items);

	store_close(st);
	test_tmpdir_remove(dir);
	json_decref(l);
	json_decref(t);
	free(dir);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escalation_routes_by_severity),
		cmocka_unit_test(test_alerts_route_by_severity),
		cmocka_unit_test(test_customer_emails_carry_the_ticket_tag),
		cmocka_unit_test(test_ticket_events_go_to_each_configured_url),
		cmocka_unit_test(test_enqueue_once_per_key_and_not_when_off),
	};
	int rc = cmocka_run_group_tests_name("support_notice", tests, NULL, NULL);

	fl_config_free();
	return rc;
}
