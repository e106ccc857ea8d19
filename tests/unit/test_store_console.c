/*
 * The console's records in the store, against every backend
 * (store_fixture.h): users (email unique in any case, validation, the last
 * use), sessions (idle and absolute ends on a fake clock, disabled users
 * and password changes end them), failed sign-ins per key, presence,
 * canned responses, the audit log as the live stream reads it (messages
 * write events), the queues' filters and counts, the dashboard's time
 * series and agents' corrections.
 */
#include "test_helpers.h"

#include <math.h>

#include "store_fixture.h"

/* A hash the server would store (64 hex digits), distinct per n. */
static const char *hash_of(int n)
{
	static char h[65];

	snprintf(h, sizeof(h), "%064x", n);
	return h;
}

static int64_t add_user(struct store *st, const char *email, const char *role)
{
	json_t *u = NULL;
	int64_t id;

	OK(store_user_insert(st, J("{s:s, s:s, s:s}", "email", email, "name", "Ann Agent", "role", role),
			     "$argon2id$v=19$m=8,t=1,p=1$fake", &u));
	id = fl_json_int(u, "id", 0);
	json_decref(u);
	return id;
}

static void test_store_users_are_unique_by_email_in_any_case(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *u = NULL, *list = NULL;
	char *hash = NULL;

	OK(store_user_insert(st, J("{s:s, s:s, s:s, s:s, s:{s:[s], s:[s]}}", "email", "Ann.Agent@Example.COM",
				   "name", "Ann", "role", "agent", "department", "billing", "skills", "languages",
				   "de", "categories", "billing"), "$argon2id$h1", &u));
	assert_string_equal(fl_json_str(u, "email", ""), "ann.agent@example.com");
	assert_string_equal(fl_json_str(u, "department", ""), "billing");
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(u, "skills"),
							     "languages"), 0)), "de");
	assert_false(fl_json_bool(u, "disabled", true));
	assert_null(json_object_get(u, "password_hash"));
	json_decref(u);
	assert_int_equal(store_user_insert(st, J("{s:s, s:s, s:s}", "email", "ANN.AGENT@example.com", "name", "B",
						 "role", "agent"), "$argon2id$h2", NULL), STORE_ECONSTRAINT);
	OK(store_user_find_by_email(st, "ann.AGENT@EXAMPLE.com", &u, &hash));
	assert_string_equal(hash, "$argon2id$h1");
	json_decref(u);
	free(hash);
	assert_int_equal(store_user_find_by_email(st, "nobody@example.com", &u, NULL), STORE_ENOTFOUND);
	/* validation names the field */
	assert_int_equal(store_user_insert(st, J("{s:s, s:s, s:s}", "email", "no-at-sign", "name", "C", "role",
						 "agent"), "h", NULL), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "email"));
	assert_int_equal(store_user_insert(st, J("{s:s, s:s, s:s}", "email", "c@x", "name", "C", "role",
						 "integration"), "h", NULL), STORE_EINVAL);
	assert_non_null(strstr(store_errmsg(st), "role"));
	assert_int_equal(store_user_insert(st, J("{s:s, s:s, s:s, s:s}", "email", "c@x", "name", "C", "role",
						 "agent", "password_hash", "x"), "h", NULL), STORE_EINVAL);
	assert_int_equal(store_user_insert(st, J("{s:s, s:s, s:s, s:{s:i}}", "email", "c@x", "name", "C",
						 "role", "agent", "skills", "languages", 3), "h", NULL), STORE_EINVAL);
	OK(store_user_list(st, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
}

static void test_store_user_update_changes_what_it_names(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t id = add_user(st, "a@example.com", "agent");
	json_t *u = NULL;
	char *hash = NULL;

	OK(store_user_update(st, id, J("{s:s, s:s, s:n}", "name", "Ann B", "role", "admin", "department"),
			     NULL, &u));
	assert_string_equal(fl_json_str(u, "name", ""), "Ann B");
	assert_string_equal(fl_json_str(u, "role", ""), "admin");
	assert_true(json_is_null(json_object_get(u, "department")));
	json_decref(u);
	OK(store_user_update(st, id, J("{}"), "$argon2id$new", NULL));
	OK(store_user_find_by_email(st, "a@example.com", &u, &hash));
	assert_string_equal(hash, "$argon2id$new");
	assert_string_equal(fl_json_str(u, "name", ""), "Ann B");
	json_decref(u);
	free(hash);
	assert_int_equal(store_user_update(st, id, J("{s:s}", "email", "b@x"), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_user_update(st, id, J("{s:s}", "disabled", "yes"), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_user_update(st, id + 100, J("{s:s}", "name", "X"), NULL, NULL), STORE_ENOTFOUND);
}

static void test_store_sessions_end_when_idle_or_too_old(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t id = add_user(st, "s@example.com", "agent"), hour = 3600 * INT64_C(1000000);
	json_t *s = NULL;

	f->now = 1800000000 * INT64_C(1000000);
	store_set_clock(st, fx_fake_now, f);
	OK(store_session_insert(st, id, hash_of(1), "127.0.0.1", 7200, 3 * 3600, &s));
	assert_string_equal(fl_json_str(json_object_get(s, "user"), "email", ""), "s@example.com");
	assert_string_equal(fl_json_str(s, "address", ""), "127.0.0.1");
	json_decref(s);
	/* used within the idle time, again and again: alive until its end */
	f->now += hour;
	OK(store_session_find(st, hash_of(1), 7200, &s));
	assert_int_equal(fl_json_int(json_object_get(s, "user"), "id", 0), id);
	assert_non_null(fl_json_str(json_object_get(s, "user"), "last_seen_at", NULL));
	json_decref(s);
	f->now += hour + hour / 2;
	OK(store_session_find(st, hash_of(1), 7200, &s));
	json_decref(s);
	f->now += hour;   /* 3.5 h after it began: past its end, though used 1 h ago */
	assert_int_equal(store_session_find(st, hash_of(1), 7200, &s), STORE_ENOTFOUND);
	assert_null(s);
	/* idle too long */
	OK(store_session_insert(st, id, hash_of(2), NULL, 7200, 24 * 3600, NULL));
	f->now += 2 * hour;
	assert_int_equal(store_session_find(st, hash_of(2), 7200, &s), STORE_ENOTFOUND);
	/* a new session forgets ended ones; one with the same hash cannot exist twice */
	OK(store_session_insert(st, id, hash_of(3), NULL, 7200, 24 * 3600, NULL));
	assert_int_equal(store_session_insert(st, id, hash_of(3), NULL, 7200, 24 * 3600, NULL), STORE_ECONSTRAINT);
	OK(store_session_delete(st, hash_of(3)));
	assert_int_equal(store_session_find(st, hash_of(3), 7200, &s), STORE_ENOTFOUND);
	OK(store_session_delete(st, hash_of(3)));   /* signing out twice is fine */
	assert_int_equal(store_session_find(st, "not-a-hash", 7200, &s), STORE_EINVAL);
	assert_int_equal(store_session_insert(st, id + 100, hash_of(4), NULL, 60, 60, NULL), STORE_ENOTFOUND);
}

static void test_store_disabling_or_a_new_password_ends_sessions(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t id = add_user(st, "d@example.com", "agent");
	json_t *s = NULL;

	OK(store_session_insert(st, id, hash_of(1), NULL, 60, 60, NULL));
	OK(store_user_update(st, id, J("{}"), "$argon2id$other", NULL));
	assert_int_equal(store_session_find(st, hash_of(1), 60, &s), STORE_ENOTFOUND);
	OK(store_session_insert(st, id, hash_of(2), NULL, 60, 60, NULL));
	OK(store_user_update(st, id, J("{s:s}", "name", "Still D"), NULL, NULL));
	OK(store_session_find(st, hash_of(2), 60, &s));   /* other changes keep it */
	json_decref(s);
	OK(store_user_update(st, id, J("{s:b}", "disabled", 1), NULL, NULL));
	assert_int_equal(store_session_find(st, hash_of(2), 60, &s), STORE_ENOTFOUND);
	assert_int_equal(store_session_insert(st, id, hash_of(3), NULL, 60, 60, NULL), STORE_ECONFLICT);
	OK(store_user_update(st, id, J("{s:b}", "disabled", 0), NULL, NULL));
	OK(store_session_insert(st, id, hash_of(3), NULL, 60, 60, NULL));
}

static void test_store_login_failures_count_per_key_in_a_window(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t n = -1, oldest = -1, t0 = 1800000000 * INT64_C(1000000);
	int i;

	f->now = t0;
	store_set_clock(st, fx_fake_now, f);
	OK(store_login_failures(st, "account:a@x", 900, &n, &oldest));
	assert_int_equal(n, 0);
	assert_int_equal(oldest, 0);
	for (i = 0; i < 3; i++) {
		OK(store_login_failure_add(st, "account:a@x", 900));
		f->now += 100 * INT64_C(1000000);
	}
	OK(store_login_failure_add(st, "address:10.0.0.1", 900));
	OK(store_login_failures(st, "account:a@x", 900, &n, &oldest));
	assert_int_equal(n, 3);
	assert_int_equal(oldest, t0);
	f->now = t0 + 950 * INT64_C(1000000);   /* the first has left the window */
	OK(store_login_failures(st, "account:a@x", 900, &n, &oldest));
	assert_int_equal(n, 2);
	assert_int_equal(oldest, t0 + 100 * INT64_C(1000000));
	OK(store_login_failures_clear(st, "account:a@x"));
	OK(store_login_failures(st, "account:a@x", 900, &n, NULL));
	assert_int_equal(n, 0);
	OK(store_login_failures(st, "address:10.0.0.1", 900, &n, NULL));
	assert_int_equal(n, 1);
}

static void test_store_presence_is_kept_per_ticket_and_user(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t ann = add_user(st, "ann@x.org", "agent"), bob = add_user(st, "bob@x.org", "agent");
	json_t *t = NULL, *list = NULL;

	OK(store_ticket_intake(st, TICKET("p1", "api", "c1"), NULL, NULL, &t, NULL));
	OK(store_presence_set(st, "p1", ann, "viewing"));
	OK(store_presence_set(st, fl_json_str(t, "id", ""), bob, "replying"));
	OK(store_presence_set(st, "p1", ann, "replying"));   /* a repeat replaces the state */
	OK(store_presence_list(st, "p1", 0, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "ticket_id", ""), "p1");
	assert_string_equal(fl_json_str(json_object_get(json_array_get(list, 0), "user"), "name", ""), "Ann Agent");
	assert_string_equal(fl_json_str(json_array_get(list, 1), "state", ""), "replying");
	json_decref(list);
	OK(store_presence_list(st, NULL, fl_wall_us() + 60 * INT64_C(1000000), &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	assert_int_equal(store_presence_set(st, "p1", ann, "typing"), STORE_EINVAL);
	assert_int_equal(store_presence_set(st, "nope", ann, "viewing"), STORE_ENOTFOUND);
	assert_int_equal(store_presence_list(st, "nope", 0, &list), STORE_ENOTFOUND);
	json_decref(t);
}

static void test_store_canned_responses_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *c = NULL, *list = NULL;
	bool created = false;

	OK(store_canned_put(st, "refund-time", "Refund time", "Refunds take 5-7 business days.", "admin:root", &c,
			    &created));
	assert_true(created);
	assert_string_equal(fl_json_str(c, "updated_by", ""), "admin:root");
	json_decref(c);
	OK(store_canned_put(st, "refund-time", "Refunds", "Refunds take a week.", "admin:b", &c, &created));
	assert_false(created);
	assert_string_equal(fl_json_str(c, "body", ""), "Refunds take a week.");
	json_decref(c);
	OK(store_canned_put(st, "apology", "Apology", "We are sorry.", NULL, NULL, NULL));
	OK(store_canned_list(st, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "apology");
	json_decref(list);
	OK(store_canned_delete(st, "apology"));
	assert_int_equal(store_canned_delete(st, "apology"), STORE_ENOTFOUND);
	assert_int_equal(store_canned_put(st, "bad id!", "t", "b", NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_canned_put(st, "x", "", "b", NULL, NULL, NULL), STORE_EINVAL);
}

static void test_store_events_since_an_id_carry_the_ticket(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *list = NULL, *e;
	int64_t last = -1;
	size_t i;

	OK(store_event_last_id(st, &last));
	assert_int_equal(last, 0);
	OK(store_ticket_intake(st, TICKET("e1", "api", "c1"), NULL, NULL, &t, NULL));
	OK(store_message_add(st, "e1", J("{s:s, s:s, s:s}", "direction", "outbound", "author", "ann", "body", "Hi"),
			     NULL, NULL));
	OK(store_message_add(st, "e1", J("{s:s, s:s, s:s}", "direction", "note", "author", "ann", "body", "fyi"),
			     NULL, NULL));
	OK(store_message_add(st, "e1", J("{s:s, s:s, s:s}", "direction", "inbound", "author", "c1", "body", "Thanks"),
			     NULL, NULL));
	/* an effect's repeat is no new message, and no event */
	OK(store_message_add(st, "e1", J("{s:s, s:s, s:s, s:s}", "direction", "outbound", "body", "auto",
					 "effect_key", "auto_reply", "author", "frontline"), NULL, NULL));
	OK(store_message_add(st, "e1", J("{s:s, s:s, s:s, s:s}", "direction", "outbound", "body", "auto",
					 "effect_key", "auto_reply", "author", "frontline"), NULL, NULL));
	OK(store_event_append(st, NULL, "system.note", "test", NULL));
	OK(store_event_since(st, 0, 0, &list));
	assert_int_equal(json_array_size(list), 6);
	{
		static const char *const types[] = { FL_EVENT_TICKET_CREATED, FL_EVENT_TICKET_REPLIED,
			FL_EVENT_TICKET_NOTED, FL_EVENT_TICKET_CUSTOMER_REPLIED, FL_EVENT_TICKET_REPLIED, "system.note" };

		json_array_foreach(list, i, e)
			assert_string_equal(fl_json_str(e, "type", ""), types[i]);
	}
	e = json_array_get(list, 1);
	assert_string_equal(fl_json_str(e, "ticket_id", ""), "e1");
	assert_int_equal(fl_json_int(e, "number", 0), fl_json_int(t, "number", -1));
	assert_int_equal(fl_json_int(e, "version", 0), 1);
	assert_string_equal(fl_json_str(e, "actor", ""), "ann");
	assert_string_equal(fl_json_str(json_object_get(e, "data"), "direction", ""), "outbound");
	assert_true(json_is_null(json_object_get(json_array_get(list, 5), "ticket_id")));
	last = fl_json_int(json_array_get(list, 3), "id", 0);
	json_decref(list);
	OK(store_event_since(st, last, 1, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(fl_json_int(json_array_get(list, 0), "id", 0), last + 1);
	json_decref(list);
	OK(store_event_last_id(st, &last));
	OK(store_event_since(st, last, 10, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	json_decref(t);
}

/* Four tickets in the queues: mine (ann), unassigned, escalated, resolved; departments and languages. */
static void queue_tickets(struct store *st)
{
	static const struct { const char *id, *status, *assignee, *dept, *lang; } q[] = {
		{ "q1", "waiting_on_customer", "ann@x.org", "billing", "de" },
		{ "q2", "new", NULL, "billing", NULL },
		{ "q3", "escalated", NULL, "technical", "en" },
		{ "q4", "resolved", "ann@x.org", "billing", "de" },
		{ "q5", "closed", NULL, "technical", "en" },
	};
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(q); i++) {
		json_t *fields = json_pack("{s:s, s:s, s:s?}", "status", q[i].status, "assigned_department", q[i].dept,
					   "assignee", q[i].assignee);

		OK(store_ticket_intake(st, TICKET(q[i].id, "api", "c1"), NULL, NULL, NULL, NULL));
		if (q[i].lang)
			json_object_set_new(fields, "language", json_string(q[i].lang));
		OK(store_ticket_update(st, q[i].id, 0, fields, "test", NULL));
		json_decref(fields);
	}
}

/* The ids of a page, newest first, joined by spaces. */
static char *page_ids(struct store *st, const struct store_ticket_filter *f)
{
	struct fl_buf b = FL_BUF_INIT;
	json_t *page = NULL, *t;
	size_t i;

	OK(store_ticket_list(st, f, &page));
	json_array_foreach(json_object_get(page, "tickets"), i, t)
		fl_buf_addf(&b, "%s%s", i ? " " : "", fl_json_str(t, "id", ""));
	json_decref(page);
	return fl_buf_detach(&b, NULL);
}

#define EXPECT_PAGE(filter, ids) \
	do { \
		char *got_ = page_ids(st, filter); \
		assert_string_equal(got_, ids); \
		free(got_); \
	} while (0)

static void test_store_queues_filter_and_count_open_tickets(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter mine = { .assignee = "ann@x.org", .open = true };
	struct store_ticket_filter unassigned = { .unassigned = true, .open = true, .assignee = "ignored" };
	struct store_ticket_filter escalated = { .status = "escalated" };
	struct store_ticket_filter all = { .open = true };
	struct store_ticket_filter billing = { .department = "billing", .open = true };
	struct store_ticket_filter german = { .language = "de" };
	struct store_ticket_filter page = { .open = true, .limit = 2 };
	json_t *counts = NULL, *q, *p = NULL;

	queue_tickets(st);
	EXPECT_PAGE(&mine, "q1");
	EXPECT_PAGE(&unassigned, "q3 q2");
	EXPECT_PAGE(&escalated, "q3");
	EXPECT_PAGE(&all, "q3 q2 q1");
	EXPECT_PAGE(&billing, "q2 q1");
	EXPECT_PAGE(&german, "q4 q1");
	/* keyset pages of a queue */
	OK(store_ticket_list(st, &page, &p));
	page.cursor = fl_json_str(p, "next_cursor", NULL);
	assert_non_null(page.cursor);
	EXPECT_PAGE(&page, "q1");
	json_decref(p);
	OK(store_ticket_counts(st, "ann@x.org", &counts));
	q = json_object_get(counts, "queues");
	assert_int_equal(fl_json_int(q, "mine", -1), 1);
	assert_int_equal(fl_json_int(q, "unassigned", -1), 2);
	assert_int_equal(fl_json_int(q, "escalated", -1), 1);
	assert_int_equal(fl_json_int(q, "all", -1), 3);
	assert_int_equal(fl_json_int(q, "department:billing", -1), 2);
	assert_int_equal(fl_json_int(q, "department:technical", -1), 1);
	json_decref(counts);
	OK(store_ticket_counts(st, NULL, &counts));
	assert_int_equal(fl_json_int(json_object_get(counts, "queues"), "mine", -1), 0);
	json_decref(counts);
}

static void test_store_timeseries_buckets_the_window(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t t0 = 1800000000 * INT64_C(1000000), hour = 3600 * INT64_C(1000000);
	json_t *out = NULL, *b;
	char ts[32];
	int i;

	for (i = 0; i < 3; i++) {
		char id[8];
		json_t *t = fx_ticket_new(NULL, i == 2 ? "email" : "chat", "c1");

		fl_time_rfc3339(ts, t0 + (i == 2 ? 2 * hour + 5 : 10 + i));
		json_object_set_new(t, "created_at", json_string(ts));
		snprintf(id, sizeof(id), "ts%d", i);
		json_object_set_new(t, "id", json_string(id));
		OK(store_ticket_intake(st, t, NULL, NULL, NULL, NULL));
		json_decref(t);
		fl_time_rfc3339(ts, t0 + (i == 2 ? 2 * hour + 5 : 10 + i) + 60 * INT64_C(1000000));
		OK(store_ticket_update(st, id, 0, J("{s:s, s:s, s:f}", "sentiment", i ? "negative" : "positive",
						    "first_response_at", ts, "satisfaction", 0.5 + 0.1 * i), "t", NULL));
	}
	OK(store_ticket_update(st, "ts1", 0, J("{s:s}", "status", "escalated"), "t", NULL));
	OK(store_metrics_timeseries(st, t0, t0 + 3 * hour, 3600, &out));
	assert_int_equal(json_array_size(json_object_get(out, "buckets")), 3);
	b = json_array_get(json_object_get(out, "buckets"), 0);
	fl_time_rfc3339(ts, t0);
	assert_string_equal(fl_json_str(b, "start", ""), ts);
	assert_int_equal(fl_json_int(b, "tickets", 0), 2);
	assert_int_equal(fl_json_int(json_object_get(b, "by_channel"), "chat", 0), 2);
	assert_int_equal(fl_json_int(json_object_get(b, "by_sentiment"), "positive", 0), 1);
	assert_int_equal(fl_json_int(json_object_get(b, "by_sentiment"), "negative", 0), 1);
	assert_true(fabs(fl_json_num(b, "first_response_s_avg", 0) - 60) < 0.01);
	assert_true(fabs(fl_json_num(b, "escalation_rate", 0) - 0.5) < 1e-9);
	assert_true(fabs(fl_json_num(b, "satisfaction_avg", 0) - 0.55) < 1e-9);
	b = json_array_get(json_object_get(out, "buckets"), 1);
	assert_int_equal(fl_json_int(b, "tickets", -1), 0);
	assert_true(json_is_null(json_object_get(b, "satisfaction_avg")));
	b = json_array_get(json_object_get(out, "buckets"), 2);
	assert_int_equal(fl_json_int(json_object_get(b, "by_channel"), "email", 0), 1);
	json_decref(out);
	assert_int_equal(store_metrics_timeseries(st, t0, t0 + 2000 * hour, 3600, &out), STORE_EINVAL);
	assert_int_equal(store_metrics_timeseries(st, t0, t0, 3600, &out), STORE_EINVAL);
	OK(store_metrics_timeseries(st, t0, t0 + 1000 * hour, 3600, &out));
	assert_int_equal(json_array_size(json_object_get(out, "buckets")), 1000);
	json_decref(out);
}

static void test_store_corrections_come_with_the_ticket_text(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *list = NULL, *c;

	OK(store_ticket_intake(st, TICKET("k1", "api", "c1"), NULL, NULL, NULL, NULL));
	OK(store_event_append(st, "k1", FL_EVENT_TICKET_CORRECTED, "agent:ann",
			      J("{s:s, s:s, s:s}", "field", "category", "from", "general", "to", "account")));
	OK(store_event_append(st, "k1", FL_EVENT_TICKET_UPDATED, "agent:ann", J("{}")));
	OK(store_corrections(st, 0, &list));
	assert_int_equal(json_array_size(list), 1);
	c = json_array_get(list, 0);
	assert_string_equal(fl_json_str(c, "ticket_id", ""), "k1");
	assert_string_equal(fl_json_str(c, "field", ""), "category");
	assert_string_equal(fl_json_str(c, "from", ""), "general");
	assert_string_equal(fl_json_str(c, "to", ""), "account");
	assert_string_equal(fl_json_str(c, "actor", ""), "agent:ann");
	assert_string_equal(fl_json_str(c, "subject", ""), "Cannot log in");
	json_decref(list);
	OK(store_corrections(st, fl_wall_us() + 60 * INT64_C(1000000), &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static void test_store_summaries_carry_only_the_triage_they_show(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter full = { 0 }, slim = { .summary = true };
	json_t *a, *page = NULL, *t;

	OK(store_ticket_intake(st, TICKET("s1", "api", "c1"), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, TICKET("s2", "api", "c1"), NULL, NULL, NULL, NULL));
	OK(store_ticket_update(st, "s1", 0, J("{s:{s:{s:s, s:s}, s:{s:s, s:f}, s:{s:[{s:s}]}, s:{s:s, s:b, s:s},"
					     "}}", "analysis",
					     "sentiment_analysis", "sentiment", "negative", "urgency", "high",
					     "categorization", "primary_category", "account", "confidence", 0.9,
					     "knowledge_base_results", "articles", "content", "long article text",
					     "generated_response", "response", "Hello, please try the link again.",
					     "escalation_needed", 0, "tone", "empathetic"), "t", NULL));
	OK(store_ticket_list(st, &slim, &page));
	t = json_array_get(json_object_get(page, "tickets"), 1);
	a = json_object_get(t, "analysis");
	assert_string_equal(fl_json_str(t, "id", ""), "s1");
	assert_string_equal(fl_json_str(json_object_get(a, "sentiment_analysis"), "urgency", ""), "high");
	assert_string_equal(fl_json_str(json_object_get(a, "sentiment_analysis"), "sentiment", ""), "negative");
	assert_string_equal(fl_json_str(json_object_get(a, "categorization"), "primary_category", ""), "account");
	assert_true(fabs(fl_json_num(json_object_get(a, "categorization"), "confidence", 0) - 0.9) < 1e-9);
	assert_true(json_is_false(json_object_get(json_object_get(a, "generated_response"), "escalation_needed")));
	assert_string_equal(fl_json_str(json_object_get(a, "generated_response"), "response", ""), "H");
	assert_null(json_object_get(json_object_get(a, "generated_response"), "tone"));
	assert_null(json_object_get(a, "knowledge_base_results"));
	assert_null(json_object_get(a, "priority_assignment"));   /* absent stays absent */
	/* an untriaged ticket: an empty analysis */
	assert_int_equal(json_object_size(json_object_get(json_array_get(json_object_get(page, "tickets"), 0),
							  "analysis")), 0);
	json_decref(page);
	OK(store_ticket_list(st, &full, &page));
	a = json_object_get(json_array_get(json_object_get(page, "tickets"), 1), "analysis");
	assert_non_null(json_object_get(a, "knowledge_base_results"));
	json_decref(page);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_summaries_carry_only_the_triage_they_show),
	FX_TEST(test_store_users_are_unique_by_email_in_any_case),
	FX_TEST(test_store_user_update_changes_what_it_names),
	FX_TEST(test_store_sessions_end_when_idle_or_too_old),
	FX_TEST(test_store_disabling_or_a_new_password_ends_sessions),
	FX_TEST(test_store_login_failures_count_per_key_in_a_window),
	FX_TEST(test_store_presence_is_kept_per_ticket_and_user),
	FX_TEST(test_store_canned_responses_round_trip),
	FX_TEST(test_store_events_since_an_id_carry_the_ticket),
	FX_TEST(test_store_queues_filter_and_count_open_tickets),
	FX_TEST(test_store_timeseries_buckets_the_window),
	FX_TEST(test_store_corrections_come_with_the_ticket_text),
};

int main(void)
{
	return FX_RUN("store_console", tests) ? 1 : 0;
}
