/*
 * Macros over real HTTP (server_fixture.h): admins write them (each
 * violation named by its field), agents list and apply them; applying
 * changes the ticket through the console's own verbs in one transaction
 * with one "ticket.macro" event per change, sends a canned reply (the
 * message and the email to the customer) or hands back a draft, and a
 * failing action leaves the ticket, its thread and the outbox as they were.
 */
#include "test_helpers.h"

#include "server_fixture.h"

#define REFUND_MACRO \
	"{\"description\":\"refund asked\",\"actions\":[" \
	"{\"type\":\"priority\",\"value\":\"high\"}," \
	"{\"type\":\"category\",\"value\":\"billing\"}," \
	"{\"type\":\"department\",\"value\":\"billing\"}," \
	"{\"type\":\"assignee\",\"value\":\"ann@example.com\"}," \
	"{\"type\":\"tag\",\"value\":\"refund\"}," \
	"{\"type\":\"reply\",\"canned\":\"refund-time\",\"mode\":\"send\"}]}"

static void create(struct fx *f, const char *id)
{
	struct http_resp r;

	fx_call(f, "POST", "/api/v1/tickets", f->integ,
		fx_ticket_body(id, "cust_001", "Refund", "I want my money back for the double charge."), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
}

static void put(struct fx *f, const char *path, const char *body, unsigned status)
{
	struct http_resp r;

	fx_call(f, "PUT", path, f->admin, body, &r);
	fx_expect(&r, status, NULL);
	http_resp_release(&r);
}

/* How many of the ticket's events are of type. */
static size_t events_of(struct fx *f, const char *id, const char *type)
{
	json_t *list = NULL, *e;
	size_t i, n = 0;

	if (store_event_list(f->st, id, 1000, &list) != STORE_OK)
		fail_msg("events of %s: %s", id, store_errmsg(f->st));
	json_array_foreach(list, i, e)
		n += !strcmp(fl_json_str(e, "type", ""), type);
	json_decref(list);
	return n;
}

static size_t outbox_to(struct fx *f, const char *target)
{
	json_t *list = NULL, *o;
	size_t i, n = 0;

	if (store_outbox_list(f->st, NULL, 1000, &list) != STORE_OK)
		fail_msg("outbox: %s", store_errmsg(f->st));
	json_array_foreach(list, i, o)
		n += fl_str_eq(fl_json_str(o, "target", NULL), target);
	json_decref(list);
	return n;
}

static void test_macros_are_written_by_admins_and_checked(void **state)
{
	struct fx *f = *state;
	struct http_resp r;

	fx_start(f, 0, false);
	put(f, "/api/v1/macros/refund", REFUND_MACRO, 201);
	put(f, "/api/v1/macros/refund", REFUND_MACRO, 200);
	fx_call(f, "PUT", "/api/v1/macros/mine", f->agent, "{\"actions\":[{\"type\":\"tag\",\"value\":\"x\"}]}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	/* every violation, each by its field; the first is the error's field */
	fx_call(f, "PUT", "/api/v1/macros/bad", f->admin,
		"{\"actions\":[{\"type\":\"explode\"},{\"type\":\"status\",\"value\":\"sleeping\"},"
		"{\"type\":\"category\",\"value\":\"gardening\"},{\"type\":\"priority\",\"value\":\"meh\"},"
		"{\"type\":\"reply\",\"mode\":\"shout\",\"body\":\"hi\"}]}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "actions[0].type");
	{
		const char *fields[] = { "actions[0].type", "actions[1].value", "actions[2].value",
					 "actions[3].value", "actions[4].mode" };
		json_t *details = json_object_get(json_object_get(r.json, "error"), "details");
		size_t i;

		assert_int_equal(json_array_size(details), FL_ARRAY_SIZE(fields));
		for (i = 0; i < FL_ARRAY_SIZE(fields); i++)
			assert_string_equal(fl_json_str(json_array_get(details, i), "field", ""), fields[i]);
	}
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/macros/bad", f->admin, "{\"actions\":[]}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "actions");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/macros/bad%20name", f->admin, "{\"actions\":[{\"type\":\"tag\",\"value\":\"x\"}]}",
		&r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/macros", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "macros")), 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(r.json, "macros"), 0),
							 "actions")), 6);
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/macros/refund", f->admin, NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/macros/refund", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static void test_applying_a_macro_changes_the_ticket_in_one_step(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *t, *tags;

	fx_start(f, 0, false);
	put(f, "/api/v1/canned/refund-time", "{\"title\":\"Refund time\",\"body\":\"Refunds take 5-7 days.\"}", 201);
	put(f, "/api/v1/macros/refund", REFUND_MACRO, 201);
	create(f, "m1");
	fx_call(f, "POST", "/api/v1/tickets/m1/macros/refund", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	t = json_object_get(r.json, "ticket");
	assert_string_equal(fl_json_str(t, "priority", ""), "high");
	assert_string_equal(fl_json_str(t, "category", ""), "billing");
	assert_string_equal(fl_json_str(t, "assigned_department", ""), "billing");
	assert_string_equal(fl_json_str(t, "assignee", ""), "ann@example.com");
	assert_string_equal(fl_json_str(t, "status", ""), FL_STATUS_WAITING);   /* the reply's */
	tags = json_object_get(json_object_get(t, "metadata"), "tags");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_array_get(tags, 0)), "refund");
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "body", ""), "Refunds take 5-7 days.");
	assert_string_equal(fl_json_str(r.json, "macro", ""), "refund");
	http_resp_release(&r);
	/* one event per change: priority, category, department, assignee, tag, reply */
	assert_int_equal(events_of(f, "m1", "ticket.macro"), 6);
	assert_int_equal(events_of(f, "m1", "ticket.corrected"), 2);
	assert_int_equal(outbox_to(f, "john.doe@company.com"), 1);
	/* again: nothing left to change but the reply, sent again */
	fx_call(f, "POST", "/api/v1/tickets/m1/macros/refund", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	assert_int_equal(events_of(f, "m1", "ticket.macro"), 7);
	assert_int_equal(outbox_to(f, "john.doe@company.com"), 2);
	/* unknown macro, unknown ticket */
	fx_call(f, "POST", "/api/v1/tickets/m1/macros/nope", f->agent, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets/nope/macros/refund", f->agent, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static void test_a_draft_reply_changes_nothing_but_comes_back(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int64_t version;

	fx_start(f, 0, false);
	put(f, "/api/v1/macros/sorry", "{\"actions\":[{\"type\":\"reply\",\"body\":\"We are sorry.\"}]}", 201);
	put(f, "/api/v1/macros/resolve", "{\"actions\":[{\"type\":\"status\",\"value\":\"resolved\"},"
	    "{\"type\":\"reply\",\"body\":\"Done, see you.\",\"mode\":\"draft\"}]}", 201);
	create(f, "m2");
	fx_call(f, "POST", "/api/v1/tickets/m2/macros/sorry", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "draft", ""), "We are sorry.");
	assert_null(json_object_get(r.json, "message"));
	version = fl_json_int(json_object_get(r.json, "ticket"), "version", 0);
	http_resp_release(&r);
	assert_int_equal(events_of(f, "m2", "ticket.macro"), 0);
	/* a stale version is refused before anything changes */
	fx_call(f, "POST", "/api/v1/tickets/m2/macros/resolve", f->agent, "{\"version\":999}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/tickets/m2/macros/resolve", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "status", ""), "resolved");
	assert_non_null(fl_json_str(json_object_get(r.json, "ticket"), "resolved_at", NULL));
	assert_int_equal(fl_json_int(json_object_get(r.json, "ticket"), "version", 0), version + 1);
	assert_string_equal(fl_json_str(r.json, "draft", ""), "Done, see you.");
	http_resp_release(&r);
	assert_int_equal(events_of(f, "m2", "ticket.macro"), 1);
}

static void test_a_status_action_wins_over_the_replys(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *esc = json_pack("{s:s}", "status", FL_STATUS_ESCALATED);

	fx_start(f, 0, false);
	put(f, "/api/v1/macros/hold", "{\"actions\":[{\"type\":\"status\",\"value\":\"escalated\"},"
	    "{\"type\":\"reply\",\"body\":\"A specialist will call you.\",\"mode\":\"send\"}]}", 201);
	create(f, "m4");
	if (store_ticket_update(f->st, "m4", 0, esc, "test", NULL) != STORE_OK)
		fail_msg("update: %s", store_errmsg(f->st));
	json_decref(esc);
	fx_call(f, "POST", "/api/v1/tickets/m4/macros/hold", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	/* the reply alone would leave it waiting on the customer */
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "status", ""), FL_STATUS_ESCALATED);
	assert_non_null(fl_json_str(json_object_get(r.json, "ticket"), "first_response_at", NULL));
	http_resp_release(&r);
}

static void test_a_failing_action_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *before = NULL, *after = NULL;

	fx_start(f, 0, false);
	put(f, "/api/v1/canned/refund-time", "{\"title\":\"Refund time\",\"body\":\"Refunds take 5-7 days.\"}", 201);
	put(f, "/api/v1/macros/refund", REFUND_MACRO, 201);
	create(f, "m3");
	/* the database refuses the tag's event: the last write of the change */
	if (!strcmp(f->g->backend, "sqlite"))
		fx_sql(f, "CREATE TRIGGER no_tags BEFORE INSERT ON events WHEN NEW.type = 'ticket.macro'"
			  " AND NEW.data LIKE '%\"tag\"%' BEGIN SELECT RAISE(ABORT, 'no tags today'); END;");
	else
		fx_sql(f, "CREATE FUNCTION no_tags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
			  " IF NEW.type = 'ticket.macro' AND NEW.data->>'action' = 'tag' THEN"
			  " RAISE EXCEPTION 'no tags today'; END IF; RETURN NEW; END $$;"
			  "CREATE TRIGGER no_tags BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION no_tags();");
	if (store_ticket_get(f->st, "m3", true, &before) != STORE_OK)
		fail_msg("get: %s", store_errmsg(f->st));
	fx_call(f, "POST", "/api/v1/tickets/m3/macros/refund", f->agent, NULL, &r);
	assert_true(r.status >= 500 || r.status == 409);
	http_resp_release(&r);
	if (store_ticket_get(f->st, "m3", true, &after) != STORE_OK)
		fail_msg("get: %s", store_errmsg(f->st));
	assert_int_equal(fl_json_int(after, "version", 0), fl_json_int(before, "version", -1));
	assert_true(json_equal(json_object_get(after, "priority"), json_object_get(before, "priority")));
	assert_true(json_is_null(json_object_get(after, "assignee")) || !json_object_get(after, "assignee"));
	assert_int_equal(json_array_size(json_object_get(after, "messages")),
			 json_array_size(json_object_get(before, "messages")));
	assert_int_equal(events_of(f, "m3", "ticket.macro"), 0);
	assert_int_equal(outbox_to(f, "john.doe@company.com"), 0);
	json_decref(before);
	json_decref(after);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_macros_are_written_by_admins_and_checked),
	FX_TEST(test_applying_a_macro_changes_the_ticket_in_one_step),
	FX_TEST(test_a_draft_reply_changes_nothing_but_comes_back),
	FX_TEST(test_a_status_action_wins_over_the_replys),
	FX_TEST(test_a_failing_action_changes_nothing),
};

int main(void)
{
	return FX_RUN("server_macros", tests) ? 1 : 0;
}
