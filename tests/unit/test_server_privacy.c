/*
 * Privacy through the API (docs/OPERATIONS.md, "Privacy"), on every
 * backend: an admin exports a customer (an agent may not) and erases them;
 * the ticket stays under its number with its text a marker, the audit log
 * names the admin, and the customer is gone by their old id. What the
 * erasure reaches in the database is test_store_privacy's subject.
 */
#include "test_helpers.h"

#include "server_fixture.h"

static void test_admin_exports_and_erases_a_customer(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *events = NULL;
	char tpath[96];

	fx_start(f, -1, true);
	fx_call(f, "PUT", "/api/v1/customers/cust_gdpr", f->admin,
		"{\"name\":\"Quentin Zabriskie\",\"email\":\"qz@example.org\",\"tier\":\"premium\","
		"\"metadata\":{\"phone\":\"+49 151 99887766\"}}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_webhook(f, fx_ticket_body("gdpr_1", "cust_gdpr", "Passport", "My passport number is XK7781234."), 0,
		   NULL, &r);
	fx_expect(&r, 202, NULL);
	http_resp_release(&r);
	fx_wait_done(f, 1);

	fx_call(f, "GET", "/api/v1/customers/cust_gdpr/export", f->agent, NULL, &r);
	fx_expect(&r, 403, NULL);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/customers/cust_gdpr/export", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "customer"), "name", ""), "Quentin Zabriskie");
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 1);
	assert_non_null(strstr(r.body, "XK7781234"));
	snprintf(tpath, sizeof(tpath), "/api/v1/tickets/%s",
		 fl_json_str(json_array_get(json_object_get(r.json, "tickets"), 0), "id", ""));
	http_resp_release(&r);

	fx_call(f, "POST", "/api/v1/customers/cust_gdpr/erase", f->agent, NULL, &r);
	fx_expect(&r, 403, NULL);
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/customers/cust_gdpr/erase", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(fl_json_int(r.json, "tickets", 0), 1);
	assert_true(fl_str_has_prefix(fl_json_str(r.json, "customer", ""), "erased-"));
	assert_non_null(strstr(fl_json_str(r.json, "erased_by", ""), "admin"));
	http_resp_release(&r);

	fx_call(f, "GET", tpath, f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "content", ""), "[erased]");
	assert_null(strstr(r.body, "XK7781234"));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/customers/cust_gdpr/export", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/customers/cust_gdpr/erase", f->admin, NULL, &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
	/* the audit log names the admin */
	assert_int_equal(store_event_list(f->st, NULL, 1, &events), STORE_OK);
	assert_string_equal(fl_json_str(json_array_get(events, 0), "type", ""), "customer.erased");
	assert_non_null(strstr(fl_json_str(json_array_get(events, 0), "actor", ""), "admin"));
	json_decref(events);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_admin_exports_and_erases_a_customer),
};

int main(void)
{
	return FX_RUN("server_privacy", tests) ? 1 : 0;
}
