/*
 * The external CRM (src/support/crm.c) against a CRM on 127.0.0.1 (the
 * harness's http_receiver, answering GET /customers/{id} per id: a record,
 * 404, 500, or nothing for 3 s): a known customer becomes the store's
 * record and reaches the triage (tier, previous interactions, satisfaction
 * history in the ticket's metadata); the bearer key is sent; answers and
 * unknowns are cached (one request for two lookups); 404, 5xx, a CRM that
 * is down and one that does not answer within 2 s all leave intake going,
 * the customer unknown.
 */
#include "test_helpers.h"

#include "http_receiver.h"
#include "store/store.h"
#include "support/support.h"

struct fx {
	char *dir;
	struct store *st;
	struct http_receiver *srv;
	struct support_crm *crm;
};

static int setup(void **state)
{
	struct fx *f = fl_calloc(1, sizeof(*f));
	char *url, *crm_url, *err = NULL;

	f->dir = test_tmpdir();
	url = fl_asprintf("sqlite://%s/crm.db", f->dir);
	if (store_open(url, &f->st, &err) != STORE_OK)
		fail_msg("store: %s", err);
	f->srv = http_receiver_start();
	assert_non_null(f->srv);
	http_receiver_respond(f->srv, 404, 0);
	http_receiver_page(f->srv, "/api/customers/cust_crm", 200, 0,
			   "{\"id\":\"cust_crm\",\"name\":\"Carla CRM\",\"email\":\"carla@example.com\","
			   "\"tier\":\"enterprise\",\"previous_interactions\":17,\"satisfaction_history\":[0.5,0.7]}");
	http_receiver_page(f->srv, "/api/customers/broken", 500, 0, "{}");
	http_receiver_page(f->srv, "/api/customers/slow", 200, 3000, "{}");
	crm_url = http_receiver_url(f->srv, "/api/");
	fl_config_set("CRM_API_URL", crm_url);
	fl_config_set("CRM_API_KEY", "crm-secret-key");
	fl_config_set("FRONTLINE_CRM_CACHE_S", "60");
	assert_int_equal(support_crm_open(&f->crm), SUPPORT_OK);
	assert_non_null(f->crm);
	free(url);
	free(crm_url);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	support_crm_free(f->crm);
	http_receiver_stop(f->srv);
	store_close(f->st);
	fl_config_set("CRM_API_URL", "");
	fl_config_set("CRM_API_KEY", "");
	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static int requests(struct fx *f)
{
	return (int)http_receiver_count(f->srv);
}

static void test_a_known_customer_becomes_the_record(void **state)
{
	struct fx *f = *state;
	json_t *c = NULL, *stored = NULL, *last;

	assert_int_equal(support_crm_lookup(f->crm, f->st, "cust_crm", 1000000, &c), SUPPORT_OK);
	assert_non_null(c);
	last = http_receiver_last(f->srv);
	assert_string_equal(fl_json_str(last, "target", ""), "/api/customers/cust_crm");
	assert_string_equal(fl_json_str(json_object_get(last, "headers"), "authorization", ""),
			    "Bearer crm-secret-key");
	json_decref(last);
	assert_string_equal(fl_json_str(c, "name", ""), "Carla CRM");
	json_decref(c);
	assert_int_equal(store_customer_get(f->st, "cust_crm", &stored), STORE_OK);
	assert_string_equal(fl_json_str(stored, "tier", ""), "enterprise");
	assert_string_equal(fl_json_str(stored, "email", ""), "carla@example.com");
	assert_int_equal(fl_json_int(json_object_get(stored, "metadata"), "previous_interactions", 0), 17);
	assert_int_equal(json_array_size(json_object_get(json_object_get(stored, "metadata"),
							 "satisfaction_history")), 2);
	json_decref(stored);
	/* cached: a second lookup asks nobody */
	assert_int_equal(support_crm_lookup(f->crm, NULL, "cust_crm", 2000000, &c), SUPPORT_OK);
	assert_non_null(c);
	json_decref(c);
	assert_int_equal(requests(f), 1);
	/* after FRONTLINE_CRM_CACHE_S it asks again */
	assert_int_equal(support_crm_lookup(f->crm, NULL, "cust_crm", 62000000, &c), SUPPORT_OK);
	json_decref(c);
	assert_int_equal(requests(f), 2);
}

static void test_unknown_failing_and_slow_crms_never_block(void **state)
{
	struct fx *f = *state;
	json_t *c = NULL, *stored = NULL;
	int64_t t0;

	/* 404: unknown, remembered as unknown */
	assert_int_equal(support_crm_lookup(f->crm, f->st, "nobody", 1000000, &c), SUPPORT_OK);
	assert_null(c);
	assert_int_equal(support_crm_lookup(f->crm, f->st, "nobody", 1000001, &c), SUPPORT_OK);
	assert_null(c);
	assert_int_equal(requests(f), 1);
	assert_int_equal(store_customer_get(f->st, "nobody", &stored), STORE_ENOTFOUND);
	/* 500 */
	assert_int_equal(support_crm_lookup(f->crm, f->st, "broken", 1000000, &c), SUPPORT_OK);
	assert_null(c);
	/* no answer within 2 s */
	t0 = fl_mono_us();
	assert_int_equal(support_crm_lookup(f->crm, f->st, "slow", 1000000, &c), SUPPORT_OK);
	assert_null(c);
	assert_true(fl_mono_us() - t0 < 2900000);
	assert_true(fl_mono_us() - t0 >= 1900000);
	/* a CRM that is down */
	support_crm_free(f->crm);
	fl_config_set("CRM_API_URL", "http://127.0.0.1:1/");
	assert_int_equal(support_crm_open(&f->crm), SUPPORT_OK);
	assert_int_equal(support_crm_lookup(f->crm, f->st, "cust_crm", 1000000, &c), SUPPORT_OK);
	assert_null(c);
	/* not configured, or not http */
	support_crm_free(f->crm);
	fl_config_set("CRM_API_URL", "");
	assert_int_equal(support_crm_open(&f->crm), SUPPORT_OK);
	assert_null(f->crm);
	fl_config_set("CRM_API_URL", "ftp://crm.example.com");
	assert_int_equal(support_crm_open(&f->crm), SUPPORT_EINVAL);
	assert_null(f->crm);
}

/* The triage of a ticket from the CRM's customer reads the CRM's figures. */
static void test_the_triage_reads_the_crm(void **state)
{
	struct fx *f = *state;
	struct support_analyzer *an = NULL;
	struct support_ctx ctx = { 0 };
	struct support_outcome o = { 0 };
	struct flow_node *cs = support_workflow_find("customer_support")->build();
	char *models = test_source_path("data/models"), *err = NULL;
	json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "id", "crm_t1", "customer_id", "cust_crm", "subject",
			       "Invoice question", "content", "Could you explain the second line of my invoice?");
	const json_t *meta;

	if (support_analyzer_open(models, &an, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);
	ctx.analyzer = an;
	ctx.store = f->st;
	ctx.crm = f->crm;
	assert_int_equal(support_process(&ctx, cs, in, &o), SUPPORT_OK);
	meta = json_object_get(json_object_get(o.shared, "ticket"), "metadata");
	assert_string_equal(fl_json_str(meta, "customer_tier", ""), "enterprise");
	assert_int_equal(fl_json_int(meta, "previous_interactions", 0), 17);
	assert_true(fl_json_num(meta, "satisfaction_history", 0) > 0.59 && fl_json_num(meta, "satisfaction_history", 0) < 0.61);
	assert_int_equal(requests(f), 1);
	support_outcome_release(&o);
	json_decref(in);
	flow_node_free(cs);
	support_analyzer_free(an);
	free(models);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_known_customer_becomes_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_failing_and_slow_crms_never_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_triage_reads_the_crm, setup, teardown),
	};

	fl_curl_global_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
