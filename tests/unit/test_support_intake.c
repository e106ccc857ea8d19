/*
 * The ingestion rules' bounds (support_ticket_validate, issue 14): the id's
 * character set, the customer id's length and line breaks, the metadata's
 * size and depth, and the generated id kept within the id's rules. The rules themselves (required fields,
 * lengths, defaults, codes) are tested in test_support.c; every door runs
 * them (tests/integration/intake_doors_test.c, test_server_hardening.c).
 */
#include "test_helpers.h"

#include "support/support.h"

/* Validates in (taken) and returns the first error's code, or "" when it passed. */
static const char *first_code(json_t *in, json_t **out_ticket)
{
	static char code[32];
	json_t *out = NULL, *errors = NULL;

	code[0] = '\0';
	if (support_ticket_validate(in, INT64_C(1709294400000000), &out, &errors) != SUPPORT_OK)
		fl_strlcpy(code, fl_json_str(json_array_get(errors, 0), "code", "?"), sizeof(code));
	if (out_ticket)
		*out_ticket = out;
	else
		json_decref(out);
	json_decref(errors);
	json_decref(in);
	return code;
}

static json_t *ticket(const char *id, const char *customer)
{
	json_t *t = json_pack("{s:s, s:s, s:s}", "customer_id", customer, "subject", "Login",
			      "content", "I cannot log in since this morning.");

	if (id)
		json_object_set_new(t, "id", json_string(id));
	return t;
}

static void test_ids_are_letters_digits_and_four_marks(void **state)
{
	static const char *const bad[] = { "a\nb", "a\r\nSet-Cookie: x=1", "a b", "a/b", "a?b", "a#b", "a%2F",
					   "caf\xc3\xa9", "a\x7f", "<id>", "a\"b", "a;b" };
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(bad); i++)
		assert_string_equal(first_code(ticket(bad[i], "c"), NULL), SUPPORT_FIELD_CHARS);
	assert_string_equal(first_code(ticket("ticket_001", "c"), NULL), "");
	assert_string_equal(first_code(ticket("Az-09.x_y:z", "c"), NULL), "");
	/* trimmed first, as before: surrounding blanks are not part of the id */
	assert_string_equal(first_code(ticket("  ticket_002 ", "c"), NULL), "");
}

static void test_customer_id_is_bounded(void **state)
{
	char id[130];

	(void)state;
	memset(id, 'c', 129);
	id[129] = '\0';
	assert_string_equal(first_code(ticket(NULL, id), NULL), SUPPORT_FIELD_LENGTH);
	id[128] = '\0';
	assert_string_equal(first_code(ticket(NULL, id), NULL), "");
	/* characters, not bytes: 128 two-byte letters pass */
	{
		struct fl_buf b = FL_BUF_INIT;
		int i;

		for (i = 0; i < 128; i++)
			fl_buf_adds(&b, "\xc3\xa9");
		assert_string_equal(first_code(ticket(NULL, b.buf), NULL), "");
		fl_buf_release(&b);
	}
	assert_string_equal(first_code(ticket(NULL, "cust\n001"), NULL), SUPPORT_FIELD_CHARS);
	assert_string_equal(first_code(ticket(NULL, "cust\r001"), NULL), SUPPORT_FIELD_CHARS);
	/* other control characters are the showing channel's to escape (the CLI's test shows one) */
	assert_string_equal(first_code(ticket(NULL, "cust\033[1m"), NULL), "");
}

static json_t *nested(int levels)
{
	json_t *v = json_integer(1);
	int i;

	for (i = 0; i < levels; i++)
		v = json_pack("{s:o}", "a", v);
	return v;
}

static void test_metadata_is_bounded_in_size_and_depth(void **state)
{
	json_t *t;
	char *blob = fl_calloc(16400, 1);

	(void)state;
	t = ticket(NULL, "c");
	json_object_set_new(t, "metadata", nested(9));
	assert_string_equal(first_code(t, NULL), SUPPORT_FIELD_DEPTH);
	t = ticket(NULL, "c");
	json_object_set_new(t, "metadata", nested(8));
	assert_string_equal(first_code(t, NULL), "");
	/* arrays count as levels too */
	t = ticket(NULL, "c");
	json_object_set_new(t, "metadata", json_pack("{s:[[[[[[[[i]]]]]]]]}", "a", 1));
	assert_string_equal(first_code(t, NULL), SUPPORT_FIELD_DEPTH);
	/* 16 KiB as compact JSON: {"b":"..."} is 8 bytes around the string */
	memset(blob, 'x', 16384 - 8);
	t = ticket(NULL, "c");
	json_object_set_new(t, "metadata", json_pack("{s:s}", "b", blob));
	assert_string_equal(first_code(t, NULL), "");
	blob[16384 - 8] = 'x';
	t = ticket(NULL, "c");
	json_object_set_new(t, "metadata", json_pack("{s:s}", "b", blob));
	assert_string_equal(first_code(t, NULL), SUPPORT_FIELD_LENGTH);
	free(blob);
}

static void test_generated_ids_keep_the_rules(void **state)
{
	json_t *out = NULL;
	char longer[200];

	(void)state;
	assert_string_equal(first_code(ticket(NULL, "Jane Doe <jane@example.com>"), &out), "");
	assert_string_equal(fl_json_str(out, "id", ""), "ticket_1709294400_Jane_Doe__jane_example.com_");
	json_decref(out);
	memset(longer, 'c', 120);
	longer[120] = '\0';
	assert_string_equal(first_code(ticket(NULL, longer), &out), "");
	assert_int_equal(strlen(fl_json_str(out, "id", "")), 128);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_are_letters_digits_and_four_marks),
		cmocka_unit_test(test_customer_id_is_bounded),
		cmocka_unit_test(test_metadata_is_bounded_in_size_and_depth),
		cmocka_unit_test(test_generated_ids_keep_the_rules),
	};

	return cmocka_run_group_tests_name("support_intake", tests, NULL, NULL);
}
