/*
 * Chat sessions in the store, against every backend (store_fixture.h): a
 * session is found by its id and its token's hash together (another
 * visitor's hash finds nothing), links to the ticket its first message
 * made (once), goes on by email when asked, and is found from its ticket;
 * agents are available while their console sessions are in use.
 */
#include "test_helpers.h"

#include "store_fixture.h"

static const char *hash_of(int n)
{
	static char h[65];

	snprintf(h, sizeof(h), "%064x", n);
	return h;
}

static void test_store_chat_session_needs_its_own_token(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *s = NULL;
	char mine[65];

	snprintf(mine, sizeof(mine), "%s", hash_of(1));
	OK(store_chat_session_insert(st, "chs_a", mine, "Vera Visitor", NULL, "203.0.113.7", &s));
	assert_string_equal(fl_json_str(s, "id", ""), "chs_a");
	assert_string_equal(fl_json_str(s, "name", ""), "Vera Visitor");
	assert_true(json_is_null(json_object_get(s, "email")));
	assert_true(json_is_null(json_object_get(s, "ticket_id")));
	assert_false(fl_json_bool(s, "by_email", true));
	json_decref(s);
	OK(store_chat_session_insert(st, "chs_b", hash_of(2), NULL, "otto@example.com", NULL, NULL));
	OK(store_chat_session_find(st, "chs_a", mine, &s));
	assert_string_equal(fl_json_str(s, "id", ""), "chs_a");
	json_decref(s);
	/* b's token on a's session, an unknown token, an unknown session: nothing */
	assert_int_equal(store_chat_session_find(st, "chs_a", hash_of(2), &s), STORE_ENOTFOUND);
	assert_null(s);
	assert_int_equal(store_chat_session_find(st, "chs_a", hash_of(3), &s), STORE_ENOTFOUND);
	assert_int_equal(store_chat_session_find(st, "chs_c", mine, &s), STORE_ENOTFOUND);
	/* the same token twice, a bad hash, a bad email */
	assert_int_equal(store_chat_session_insert(st, "chs_c", mine, NULL, NULL, NULL, NULL), STORE_ECONSTRAINT);
	assert_int_equal(store_chat_session_insert(st, "chs_d", "abc", NULL, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_chat_session_insert(st, "chs_d", hash_of(4), NULL, "\xff", NULL, NULL), STORE_EINVAL);
}

static void test_store_chat_session_links_its_ticket_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *s = NULL, *t = NULL;

	OK(store_chat_session_insert(st, "chs_a", hash_of(1), NULL, NULL, NULL, NULL));
	OK(store_chat_session_insert(st, "chs_b", hash_of(2), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, TICKET("c1", "chat", "v1"), NULL, NULL, &t, NULL));
	assert_int_equal(store_chat_session_of_ticket(st, "c1", &s), STORE_ENOTFOUND);
	OK(store_chat_session_link(st, "chs_a", "c1"));
	assert_int_equal(store_chat_session_link(st, "chs_a", "c1"), STORE_ECONFLICT);
	/* a ticket is one session's */
	assert_int_equal(store_chat_session_link(st, "chs_b", "c1"), STORE_ECONSTRAINT);
	assert_int_equal(store_chat_session_link(st, "chs_b", "nope"), STORE_ENOTFOUND);
	OK(store_chat_session_find(st, "chs_a", hash_of(1), &s));
	assert_string_equal(fl_json_str(s, "ticket_id", ""), "c1");
	assert_int_equal(fl_json_int(s, "number", 0), fl_json_int(t, "number", -1));
	assert_string_equal(fl_json_str(s, "ticket_status", ""), fl_json_str(t, "status", "?"));
	json_decref(s);
	OK(store_chat_session_of_ticket(st, fl_json_str(t, "id", ""), &s));
	assert_string_equal(fl_json_str(s, "id", ""), "chs_a");
	json_decref(s);
	OK(store_chat_session_by_email(st, "chs_a", "vera@example.com"));
	OK(store_chat_session_of_ticket(st, "c1", &s));
	assert_true(fl_json_bool(s, "by_email", false));
	assert_string_equal(fl_json_str(s, "email", ""), "vera@example.com");
	json_decref(s);
	assert_int_equal(store_chat_session_by_email(st, "chs_z", "x@example.com"), STORE_ENOTFOUND);
	json_decref(t);
}

static void test_store_agents_available_while_their_sessions_are_used(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *u = NULL;
	int64_t n = -1, before = fl_wall_us() - 1000;

	OK(store_agents_available(st, before, &n));
	assert_int_equal(n, 0);
	OK(store_user_insert(st, J("{s:s, s:s, s:s}", "email", "ann@x.org", "name", "Ann", "role", "agent"),
			     "$argon2id$fake", &u));
	OK(store_session_insert(st, fl_json_int(u, "id", 0), hash_of(9), NULL, 3600, 86400, NULL));
	OK(store_agents_available(st, before, &n));
	assert_int_equal(n, 1);
	OK(store_agents_available(st, fl_wall_us() + 60 * INT64_C(1000000), &n));
	assert_int_equal(n, 0);
	OK(store_user_update(st, fl_json_int(u, "id", 0), J("{s:b}", "disabled", 1), NULL, NULL));
	OK(store_agents_available(st, before, &n));
	assert_int_equal(n, 0);
	json_decref(u);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_chat_session_needs_its_own_token),
	FX_TEST(test_store_chat_session_links_its_ticket_once),
	FX_TEST(test_store_agents_available_while_their_sessions_are_used),
};

int main(void)
{
	return FX_RUN("store_chat", tests) ? 1 : 0;
}
