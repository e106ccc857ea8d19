/*
 * Macros in the store, against every backend (store_fixture.h): a macro is
 * kept with its actions as given, replaced under its name (created says
 * which), listed by name, deleted once; names are checked like canned
 * responses' ids.
 */
#include "test_helpers.h"

#include "store_fixture.h"

static void test_store_macro_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *m = NULL, *list = NULL;
	bool created = false;

	OK(store_macro_put(st, "close-spam", "spam: close and tag",
			   J("[{s:s, s:s}, {s:s, s:s}]", "type", "status", "value", "spam", "type", "tag", "value", "spam"),
			   "admin:root", &m, &created));
	assert_true(created);
	assert_string_equal(fl_json_str(m, "name", ""), "close-spam");
	assert_string_equal(fl_json_str(m, "description", ""), "spam: close and tag");
	assert_string_equal(fl_json_str(m, "updated_by", ""), "admin:root");
	assert_int_equal(json_array_size(json_object_get(m, "actions")), 2);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(m, "actions"), 1), "value", ""), "spam");
	json_decref(m);
	OK(store_macro_put(st, "close-spam", NULL, J("[{s:s, s:s}]", "type", "priority", "value", "low"), "admin:b",
			   &m, &created));
	assert_false(created);
	assert_true(json_is_null(json_object_get(m, "description")));
	assert_int_equal(json_array_size(json_object_get(m, "actions")), 1);
	json_decref(m);
	OK(store_macro_put(st, "apology", "say sorry", J("[{s:s, s:s, s:s}]", "type", "reply", "body", "Sorry!",
							  "mode", "draft"), NULL, NULL, NULL));
	OK(store_macro_list(st, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "name", ""), "apology");
	assert_string_equal(fl_json_str(json_array_get(list, 1), "name", ""), "close-spam");
	json_decref(list);
	OK(store_macro_get(st, "apology", &m));
	assert_string_equal(fl_json_str(json_array_get(json_object_get(m, "actions"), 0), "body", ""), "Sorry!");
	json_decref(m);
	OK(store_macro_delete(st, "apology"));
	assert_int_equal(store_macro_delete(st, "apology"), STORE_ENOTFOUND);
	assert_int_equal(store_macro_get(st, "apology", &m), STORE_ENOTFOUND);
	assert_null(m);
}

static void test_store_macro_refuses_bad_names_and_actions(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *list = NULL;

	assert_int_equal(store_macro_put(st, "bad name!", NULL, J("[]"), NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_macro_put(st, "", NULL, J("[]"), NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_macro_put(st, "ok", NULL, J("{}"), NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_macro_put(st, "ok", NULL, NULL, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_macro_get(st, "bad name!", &list), STORE_EINVAL);
	OK(store_macro_list(st, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_macro_round_trip),
	FX_TEST(test_store_macro_refuses_bad_names_and_actions),
};

int main(void)
{
	return FX_RUN("store_macros", tests) ? 1 : 0;
}
