/*
 * Tests of the store's SLA calendars and policies (store_sla_*, migration
 * 11) on SQLite and PostgreSQL: bodies round-trip, policies come back in
 * the order they are tried, positions stay on rewrite, every write and
 * deletion is a version, and bad kinds, ids and bodies are refused.
 */
#include "test_helpers.h"
#include "store_fixture.h"

static void test_sla_store_objects_round_trip_and_version(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *o = NULL, *list = NULL, *hist = NULL;
	bool created = false;

	OK(store_sla_put(st, "calendar", "berlin", J("{s:s, s:{s:[[s,s]]}, s:i}", "timezone", "Europe/Berlin",
						      "hours", "mon", "09:00", "17:00", "version", 99),
			 -1, "admin:a", &o, &created));
	assert_true(created);
	assert_string_equal(fl_json_str(o, "timezone", ""), "Europe/Berlin");
	assert_int_equal(fl_json_int(o, "version", 0), 1);   /* the store's, not the body's */
	assert_string_equal(fl_json_str(o, "updated_by", ""), "admin:a");
	json_decref(o);
	OK(store_sla_put(st, "calendar", "berlin", J("{s:s, s:{}}", "timezone", "UTC", "hours"), -1, "admin:b", &o,
			 &created));
	assert_false(created);
	assert_int_equal(fl_json_int(o, "version", 0), 2);
	assert_string_equal(fl_json_str(o, "timezone", ""), "UTC");
	json_decref(o);

	/* policies: new ones go last, a rewrite keeps its place, an explicit position moves it */
	OK(store_sla_put(st, "policy", "vip", J("{s:s}", "calendar", "berlin"), -1, NULL, NULL, NULL));
	OK(store_sla_put(st, "policy", "rest", J("{s:s}", "calendar", "24x7"), -1, NULL, NULL, NULL));
	OK(store_sla_put(st, "policy", "vip", J("{s:s, s:i}", "calendar", "berlin", "first_response_min", 30), -1,
			 NULL, NULL, NULL));
	OK(store_sla_list(st, "policy", &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "vip");
	assert_int_equal(fl_json_int(json_array_get(list, 0), "first_response_min", 0), 30);
	json_decref(list);
	OK(store_sla_put(st, "policy", "rest", J("{s:s}", "calendar", "24x7"), 0, NULL, NULL, NULL));
	OK(store_sla_list(st, "policy", &list));
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "rest");
	json_decref(list);

	/* deletion is a version too; the id may come back and continues its history */
	OK(store_sla_delete(st, "calendar", "berlin"));
	assert_int_equal(store_sla_delete(st, "calendar", "berlin"), STORE_ENOTFOUND);
	OK(store_sla_put(st, "calendar", "berlin", J("{s:s}", "timezone", "Europe/Berlin"), -1, NULL, &o, NULL));
	assert_int_equal(fl_json_int(o, "version", 0), 4);
	json_decref(o);
	OK(store_sla_history(st, "calendar", "berlin", &hist));
	assert_int_equal(json_array_size(hist), 4);
	assert_string_equal(fl_json_str(json_array_get(hist, 0), "timezone", ""), "Europe/Berlin");
	assert_null(json_object_get(json_array_get(hist, 2), "timezone"));   /* the deletion */
	json_decref(hist);
	OK(store_sla_list(st, "calendar", &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
}

static void test_sla_store_refuses_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *list = NULL;

	assert_int_equal(store_sla_put(st, "rule", "x", J("{}"), -1, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_sla_put(st, "policy", "bad id!", J("{}"), -1, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_sla_put(st, "policy", "x", J("[]"), -1, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_sla_list(st, "rule", &list), STORE_EINVAL);
	assert_null(list);
	OK(store_sla_list(st, "policy", &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_sla_store_objects_round_trip_and_version),
	FX_TEST(test_sla_store_refuses_bad_arguments),
};

int main(void)
{
	return FX_RUN("sla_store", tests) ? 1 : 0;
}
