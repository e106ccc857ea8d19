/*
 * The console's work on tickets over real HTTP (server_fixture.h): the
 * queues (queue=, language, department) and their counts, PATCH at a
 * version with corrections recorded as ticket.corrected, claiming, bulk
 * assign and resolve (each ticket on its own), canned responses, and the
 * dashboard's time series.
 */
#include "test_helpers.h"

#include "server_fixture.h"

static void create(struct fx *f, const char *id)
{
	struct http_resp r;

	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body(id, "cust_001", "Invoice", "I was charged twice."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
}

/* The ids of a list answer, joined by spaces (newest first). */
static char *ids_of(const struct http_resp *r)
{
	struct fl_buf b = FL_BUF_INIT;
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(r->json, "tickets"), i, t)
		fl_buf_addf(&b, "%s%s", i ? " " : "", fl_json_str(t, "id", ""));
	return fl_buf_detach(&b, NULL);
}

static void expect_list(struct fx *f, const struct fx_session *s, const char *query, const char *ids)
{
	char *path = fl_asprintf("/api/v1/tickets?%s", query), *got;
	struct http_resp r;

	fx_call_session(f, "GET", path, s, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	got = ids_of(&r);
	if (strcmp(got, ids))
		fail_msg("GET %s: [%s], expected [%s]", path, got, ids);
	free(got);
	free(path);
	http_resp_release(&r);
}

static void set(struct fx *f, const char *id, json_t *fields)
{
	if (store_ticket_update(f->st, id, 0, fields, "test", NULL) != STORE_OK)
		fail_msg("update %s: %s", id, store_errmsg(f->st));
	json_decref(fields);
}

static void test_queues_list_and_count_open_tickets(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	struct http_resp r;
	json_t *q;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	create(f, "q1");
	create(f, "q2");
	create(f, "q3");
	create(f, "q4");
	set(f, "q1", json_pack("{s:s, s:s, s:s}", "assignee", "ann@example.com", "assigned_department", "billing",
			       "language", "de"));
	set(f, "q2", json_pack("{s:s, s:s}", "status", "escalated", "assigned_department", "technical"));
	set(f, "q3", json_pack("{s:s, s:s}", "status", "resolved", "assignee", "ann@example.com"));
	set(f, "q4", json_pack("{s:s}", "assigned_department", "billing"));
	expect_list(f, &ann, "queue=mine", "q1");
	expect_list(f, &ann, "queue=unassigned", "q4 q2");
	expect_list(f, &ann, "queue=escalated", "q2");
	expect_list(f, &ann, "queue=all", "q4 q2 q1");
	expect_list(f, &ann, "queue=department:billing", "q4 q1");
	expect_list(f, &ann, "queue=mine&status=resolved", "q3");   /* a status replaces "open" */
	expect_list(f, &ann, "language=de", "q1");
	expect_list(f, &ann, "department=technical", "q2");
	expect_list(f, &ann, "queue=all&limit=2", "q4 q2");
	fx_call_session(f, "GET", "/api/v1/tickets?queue=everything", &ann, false, NULL, &r);
	fx_expect(&r, 400, "bad_request");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "queue");
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tickets?queue=escalated&status=new", &ann, false, NULL, &r);
	fx_expect(&r, 400, "bad_request");
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tickets/counts", &ann, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	q = json_object_get(r.json, "queues");
	assert_int_equal(fl_json_int(q, "mine", -1), 1);
	assert_int_equal(fl_json_int(q, "unassigned", -1), 2);
	assert_int_equal(fl_json_int(q, "escalated", -1), 1);
	assert_int_equal(fl_json_int(q, "all", -1), 3);
	assert_int_equal(fl_json_int(q, "department:billing", -1), 2);
	assert_int_equal(fl_json_int(q, "department:technical", -1), 1);
	http_resp_release(&r);
	/* a token's "mine" is what was assigned to its name */
	fx_call(f, "GET", "/api/v1/tickets/counts", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(fl_json_int(json_object_get(r.json, "queues"), "mine", -1), 0);
	http_resp_release(&r);
}

static void test_patch_changes_at_a_version_and_records_corrections(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	struct http_resp r;
	json_t *ev, *e, *d;
	size_t i, corrected = 0;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	create(f, "c1");
	set(f, "c1", json_pack("{s:s, s:s}", "category", "general", "priority", "low"));   /* the triage's */
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true,
			"{\"version\":2,\"category\":\"billing\",\"priority\":\"high\",\"assigned_department\":\"finance\"}",
			&r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "category", ""), "billing");
	assert_string_equal(fl_json_str(r.json, "priority", ""), "high");
	assert_string_equal(fl_json_str(r.json, "assigned_department", ""), "finance");
	assert_int_equal(fl_json_int(r.json, "version", 0), 3);
	http_resp_release(&r);
	/* stale: 409 with the ticket as it is now */
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true, "{\"version\":2,\"priority\":\"low\"}", &r);
	fx_expect(&r, 409, "conflict");
	assert_int_equal(fl_json_int(json_object_get(json_object_get(json_object_get(r.json, "error"), "details"),
						     "current"), "version", 0), 3);
	http_resp_release(&r);
	/* resolving by status records when */
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true, "{\"version\":3,\"status\":\"resolved\"}", &r);
	fx_expect(&r, 200, NULL);
	assert_non_null(fl_json_str(r.json, "resolved_at", NULL));
	http_resp_release(&r);
	/* the corrections: who, from, to */
	fx_call_session(f, "GET", "/api/v1/tickets/c1/events", &ann, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	ev = json_object_get(r.json, "events");
	json_array_foreach(ev, i, e) {
		if (strcmp(fl_json_str(e, "type", ""), FL_EVENT_TICKET_CORRECTED))
			continue;
		d = json_object_get(e, "data");
		corrected++;
		assert_string_equal(fl_json_str(e, "actor", ""), "agent:ann@example.com");
		assert_string_equal(fl_json_str(d, "actor", ""), "agent:ann@example.com");
		assert_non_null(fl_json_str(d, "at", NULL));
		if (!strcmp(fl_json_str(d, "field", ""), "category")) {
			assert_string_equal(fl_json_str(d, "from", ""), "general");
			assert_string_equal(fl_json_str(d, "to", ""), "billing");
		} else {
			assert_string_equal(fl_json_str(d, "field", ""), "priority");
			assert_string_equal(fl_json_str(d, "from", ""), "low");
			assert_string_equal(fl_json_str(d, "to", ""), "high");
		}
	}
	assert_int_equal(corrected, 2);
	http_resp_release(&r);
	/* bad bodies */
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true, "{\"priority\":\"high\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "version");
	http_resp_release(&r);
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true, "{\"version\":4,\"priority\":\"asap\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call_session(f, "PATCH", "/api/v1/tickets/c1", &ann, true, "{\"version\":4,\"subject\":\"x\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "subject");
	http_resp_release(&r);
	fx_call_session(f, "PATCH", "/api/v1/tickets/nope", &ann, true, "{\"version\":1,\"priority\":\"low\"}", &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static void test_claim_takes_an_unassigned_ticket(void **state)
{
	struct fx *f = *state;
	struct fx_session ann, bob;
	struct http_resp r;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_make_user(f, "bob@example.com", "agent", "bob password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	fx_sign_in(f, "bob@example.com", "bob password", &bob);
	create(f, "k1");
	fx_call_session(f, "POST", "/api/v1/tickets/k1/claim", &ann, true, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "assignee", ""), "ann@example.com");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/k1/claim", &ann, true, NULL, &r);
	fx_expect(&r, 200, NULL);   /* mine already */
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/k1/claim", &bob, true, NULL, &r);
	fx_expect(&r, 409, "conflict");
	assert_string_equal(fl_json_str(json_object_get(json_object_get(json_object_get(r.json, "error"), "details"),
						      "current"), "assignee", ""), "ann@example.com");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/k1/claim", &bob, true, "{\"version\":1}", &r);
	fx_expect(&r, 409, "conflict");   /* stale, too */
	http_resp_release(&r);
}

static void test_bulk_assigns_and_resolves_each_ticket_on_its_own(void **state)
{
	struct fx *f = *state;
	struct fx_session ann;
	struct http_resp r;
	json_t *res, *t = NULL;

	fx_make_user(f, "ann@example.com", "agent", "ann password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "ann password", &ann);
	create(f, "b1");
	create(f, "b2");
	fx_call_session(f, "POST", "/api/v1/tickets/bulk", &ann, true,
			"{\"ids\":[\"b1\",\"nope\",\"b2\"],\"action\":\"assign\"}", &r);
	fx_expect(&r, 200, NULL);
	res = json_object_get(r.json, "results");
	assert_int_equal(json_array_size(res), 3);
	assert_true(fl_json_bool(json_array_get(res, 0), "ok", false));
	assert_false(fl_json_bool(json_array_get(res, 1), "ok", true));
	assert_string_equal(fl_json_str(json_object_get(json_array_get(res, 1), "error"), "code", ""), "not_found");
	assert_true(fl_json_bool(json_array_get(res, 2), "ok", false));
	assert_string_equal(fl_json_str(json_array_get(res, 2), "id", ""), "b2");
	http_resp_release(&r);
	assert_int_equal(store_ticket_get(f->st, "b2", false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "assignee", ""), "ann@example.com");
	json_decref(t);
	fx_call_session(f, "POST", "/api/v1/tickets/bulk", &ann, true,
			"{\"ids\":[\"b1\",\"b2\"],\"action\":\"assign\",\"assignee\":null}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	assert_int_equal(store_ticket_get(f->st, "b1", false, &t), STORE_OK);
	assert_true(json_is_null(json_object_get(t, "assignee")));
	json_decref(t);
	fx_call_session(f, "POST", "/api/v1/tickets/bulk", &ann, true, "{\"ids\":[\"b1\",\"b2\"],\"action\":\"resolve\"}",
			&r);
	fx_expect(&r, 200, NULL);
	res = json_object_get(r.json, "results");
	assert_true(fl_json_bool(json_array_get(res, 0), "ok", false));
	assert_true(fl_json_bool(json_array_get(res, 1), "ok", false));
	http_resp_release(&r);
	assert_int_equal(store_ticket_get(f->st, "b2", false, &t), STORE_OK);
	assert_string_equal(fl_json_str(t, "status", ""), "resolved");
	json_decref(t);
	fx_call_session(f, "POST", "/api/v1/tickets/bulk", &ann, true, "{\"ids\":[],\"action\":\"resolve\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/tickets/bulk", &ann, true, "{\"ids\":[\"b1\"],\"action\":\"delete\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
}

static void test_canned_responses_for_agents_managed_by_admins(void **state)
{
	struct fx *f = *state;
	struct http_resp r;

	fx_start(f, 0, false);
	fx_call(f, "PUT", "/api/v1/canned/refund-time", f->admin,
		"{\"title\":\"Refund time\",\"body\":\"Refunds take 5-7 business days.\"}", &r);
	fx_expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(r.json, "id", ""), "refund-time");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/canned/refund-time", f->admin, "{\"title\":\"Refunds\",\"body\":\"A week.\"}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/canned/hello", f->agent, "{\"title\":\"Hi\",\"body\":\"Hello!\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call(f, "PUT", "/api/v1/canned/bad%20id", f->admin, "{\"title\":\"Hi\",\"body\":\"Hello!\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/canned", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "canned")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(r.json, "canned"), 0), "body", ""), "A week.");
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/canned/refund-time", f->admin, NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	fx_call(f, "DELETE", "/api/v1/canned/refund-time", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

static void test_timeseries_gives_whole_buckets(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *b, *last;
	int64_t total = 0;
	size_t i;

	fx_start(f, 0, false);
	create(f, "t1");
	create(f, "t2");
	fx_call(f, "GET", "/api/v1/metrics/timeseries?window=86400&bucket=3600", f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	b = json_object_get(r.json, "buckets");
	assert_true(json_array_size(b) == 24 || json_array_size(b) == 25);
	json_array_foreach(b, i, last)
		total += fl_json_int(last, "tickets", 0);
	assert_int_equal(total, 2);
	last = json_array_get(b, json_array_size(b) - 1);
	assert_int_equal(fl_json_int(json_object_get(last, "by_channel"), "api", 0), 2);
	assert_non_null(json_object_get(last, "by_sentiment"));
	assert_non_null(json_object_get(last, "escalation_rate"));
	assert_true(fl_str_has_suffix(fl_json_str(json_array_get(b, 0), "start", ""), ":00:00.000Z"));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/metrics/timeseries?window=604800&bucket=60", f->agent, NULL, &r);
	fx_expect(&r, 400, "bad_request");
	http_resp_release(&r);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_queues_list_and_count_open_tickets),
	FX_TEST(test_patch_changes_at_a_version_and_records_corrections),
	FX_TEST(test_claim_takes_an_unassigned_ticket),
	FX_TEST(test_bulk_assigns_and_resolves_each_ticket_on_its_own),
	FX_TEST(test_canned_responses_for_agents_managed_by_admins),
	FX_TEST(test_timeseries_gives_whole_buckets),
};

int main(void)
{
	return FX_RUN("server_queue", tests) ? 1 : 0;
}
