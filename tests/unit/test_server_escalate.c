/*
 * Escalation by hand over real HTTP (server_fixture.h): POST
 * /api/v1/tickets/{id}/escalate runs the registered escalation workflow on
 * a triaged ticket: the escalation queue entry at the level's urgency, the
 * notification in the outbox, the status and department, the event with
 * the reason and who asked; a second while the first is queued, a closed
 * ticket and an untriaged one are 409s, bad fields 422s. And the workers
 * run the workflow FRONTLINE_WORKFLOW_<CHANNEL> names for that channel's
 * tickets.
 */
#include "test_helpers.h"

#include "server_fixture.h"

static void create(struct fx *f, const char *id)
{
	struct http_resp r;

	fx_call(f, "POST", "/api/v1/tickets", f->integ,
		fx_ticket_body(id, "cust_001", "Profile picture", "How do I change the picture on my profile page?"),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
}

static json_t *escalation_of(struct fx *f, const char *id)
{
	json_t *list = NULL, *e, *found = NULL;
	size_t i;

	if (store_escalation_list(f->st, NULL, 1000, &list) != STORE_OK)
		fail_msg("escalations: %s", store_errmsg(f->st));
	json_array_foreach(list, i, e)
		if (!found && !strcmp(fl_json_str(e, "ticket_id", ""), id))
			found = json_incref(e);
	json_decref(list);
	return found;
}

static void test_escalating_by_hand_queues_and_notifies(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *e, *list = NULL, *o, *ev = NULL;
	size_t i, told = 0, by_hand = 0;

	fx_start(f, 0, true);
	create(f, "e1");
	fx_wait_done(f, 1);
	assert_null(escalation_of(f, "e1"));   /* the triage kept it: the agent decides otherwise */
	{
		/* an available agent of the department the escalation names: assigned as triage's escalations are */
		int64_t uid = fx_make_user(f, "manager@example.com", "agent", "agent password");
		struct fx_session s;
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)uid);
		fx_call(f, "PATCH", path, f->admin, "{\"department\":\"account_management\"}", &r);
		fx_expect(&r, 200, NULL);
		http_resp_release(&r);
		fx_sign_in(f, "manager@example.com", "agent password", &s);
		fx_call_session(f, "PUT", "/api/v1/users/me/availability", &s, true, "{\"availability\":\"available\"}",
				&r);
		fx_expect(&r, 200, NULL);
		http_resp_release(&r);
	}
	fx_call(f, "POST", "/api/v1/tickets/e1/escalate", f->agent,
		"{\"reason\":\"customer called twice, wants a manager\",\"level\":\"manager\","
		"\"department\":\"account_management\"}", &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "status", ""), FL_STATUS_ESCALATED);
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "assigned_department", ""),
			    "account_management");
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "assignee", ""), "manager@example.com");
	assert_string_equal(fl_json_str(json_object_get(json_object_get(json_object_get(r.json, "ticket"), "analysis"),
							"escalation_decision"), "escalation_decision", ""), "manager");
	assert_string_equal(fl_json_str(json_object_get(r.json, "escalation"), "status", ""), "open");
	http_resp_release(&r);
	/* the queue entry */
	e = escalation_of(f, "e1");
	assert_non_null(e);
	assert_string_equal(fl_json_str(e, "priority", ""), "high");
	assert_string_equal(fl_json_str(e, "department", ""), "account_management");
	json_decref(e);
	/* the notification, through the outbox */
	if (store_outbox_list(f->st, NULL, 1000, &list) != STORE_OK)
		fail_msg("outbox: %s", store_errmsg(f->st));
	json_array_foreach(list, i, o)
		told += fl_str_eq(fl_json_str(o, "channel", NULL), "slack") &&
			fl_str_eq(fl_json_str(json_object_get(o, "payload"), "ticket_id", NULL), "e1") &&
			strstr(fl_json_str(json_object_get(o, "payload"), "text", ""), "escalated to account_management");
	json_decref(list);
	assert_int_equal(told, 1);
	/* who asked and why */
	if (store_event_list(f->st, "e1", 1000, &ev) != STORE_OK)
		fail_msg("events: %s", store_errmsg(f->st));
	json_array_foreach(ev, i, o)
		if (!strcmp(fl_json_str(o, "type", ""), "ticket.escalated_by_hand")) {
			by_hand++;
			assert_string_equal(fl_json_str(json_object_get(o, "data"), "reason", ""),
					    "customer called twice, wants a manager");
			assert_string_equal(fl_json_str(json_object_get(o, "data"), "level", ""), "manager");
			assert_non_null(strstr(fl_json_str(o, "actor", ""), "agent"));
		}
	json_decref(ev);
	assert_int_equal(by_hand, 1);
	/* once in the queue is enough */
	fx_call(f, "POST", "/api/v1/tickets/e1/escalate", f->agent, "{\"reason\":\"again\"}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
}

static void test_escalating_by_hand_refuses_what_it_cannot_do(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *closed;

	fx_start(f, 0, false);
	create(f, "e2");   /* no workers: never triaged */
	fx_call(f, "POST", "/api/v1/tickets/e2/escalate", f->agent, "{\"reason\":\"now\"}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	closed = json_pack("{s:s}", "status", FL_STATUS_CLOSED);
	if (store_ticket_update(f->st, "e2", 0, closed, "test", NULL) != STORE_OK)
		fail_msg("update: %s", store_errmsg(f->st));
	json_decref(closed);
	fx_call(f, "POST", "/api/v1/tickets/e2/escalate", f->agent, "{\"reason\":\"now\"}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	assert_null(escalation_of(f, "e2"));
	fx_call(f, "POST", "/api/v1/tickets/nope/escalate", f->agent, "{\"reason\":\"now\"}", &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets/e2/escalate", f->agent, "{\"level\":\"manager\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets/e2/escalate", f->agent, "{\"reason\":\"x\",\"level\":\"boss\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "level");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets/e2/escalate", f->integ, "{\"reason\":\"x\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
}

/* Whether the stored ticket's trace has a step called node. */
static bool ran(struct fx *f, const char *id, const char *node)
{
	json_t *t = NULL, *step;
	bool found = false;
	size_t i;

	if (store_ticket_get(f->st, id, false, &t) != STORE_OK)
		fail_msg("get %s: %s", id, store_errmsg(f->st));
	json_array_foreach(json_object_get(t, "trace"), i, step)
		found = found || fl_str_eq(fl_json_str(step, "node", NULL), node);
	json_decref(t);
	return found;
}

static void test_a_channels_tickets_run_its_workflow(void **state)
{
	struct fx *f = *state;
	struct http_resp r;

	fl_config_set("FRONTLINE_WORKFLOW_API", "escalation");
	fl_config_set("FRONTLINE_WORKFLOW_WEBHOOK", "high_priority");
	fx_start(f, 0, true);
	create(f, "w1");   /* POST /api/v1/tickets: channel api */
	fx_call(f, "POST", "/api/v1/tickets", f->integ,
		"{\"id\":\"w2\",\"channel\":\"chat\",\"customer_id\":\"cust_001\",\"subject\":\"Hi\","
		"\"content\":\"How do I change the picture on my profile page?\"}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_wait_done(f, 2);
	fl_config_set("FRONTLINE_WORKFLOW_API", "");
	fl_config_set("FRONTLINE_WORKFLOW_WEBHOOK", "");
	assert_true(ran(f, "w1", "escalation/escalation_decision"));
	assert_false(ran(f, "w1", "knowledge_base_search"));
	/* chat is not configured: customer_support, as before */
	assert_true(ran(f, "w2", "knowledge_base_search"));
	assert_false(ran(f, "w2", "escalation/escalation_decision"));
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_a_channels_tickets_run_its_workflow),
	FX_TEST(test_escalating_by_hand_queues_and_notifies),
	FX_TEST(test_escalating_by_hand_refuses_what_it_cannot_do),
};

int main(void)
{
	return FX_RUN("server_escalate", tests) ? 1 : 0;
}
