/*
 * Tests of monitor's metrics registry: the Prometheus text exposition
 * (HELP/TYPE lines, label escaping, sorted series, cumulative histogram
 * buckets), family reuse and shape conflicts, collectors, concurrent
 * updates, and the process metrics. Then the monitor over a real store
 * (SQLite and PostgreSQL): alerts raised once while their condition
 * persists, resolved when it clears, each announced once through the
 * outbox, and one replica at a time.
 */
#include <pthread.h>

#include "test_helpers.h"
#include "pg_harness.h"
#include "monitor/monitor.h"
#include "store/store.h"

static void test_counter_and_gauge_exposition(void **state)
{
	static const char *const labels[] = { "route", "status" };
	struct monitor_registry *r = monitor_registry_new();
	struct monitor_family *c, *g;
	struct fl_buf out = FL_BUF_INIT;
	const char *a[] = { "/b", "200" }, *b[] = { "/a", "404" };

	(void)state;
	c = monitor_family_new(r, MONITOR_COUNTER, "x_requests_total", "requests\nby route", 2, labels,
			       NULL, 0);
	g = monitor_family_new(r, MONITOR_GAUGE, "x_depth", "queue depth", 0, NULL, NULL, 0);
	assert_non_null(c);
	assert_non_null(g);
	monitor_add(c, a, 1);
	monitor_add(c, a, 2);
	monitor_add(c, b, 1);
	monitor_add(c, b, -5);       /* counters never go down */
	monitor_set(g, NULL, 7.5);
	monitor_add(g, NULL, -2.5);
	assert_true(monitor_value(c, a) == 3);
	assert_true(monitor_value(g, NULL) == 5);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "# HELP x_requests_total requests\\nby route\n"
					"# TYPE x_requests_total counter\n"
					"x_requests_total{route=\"/a\",status=\"404\"} 1\n"
					"x_requests_total{route=\"/b\",status=\"200\"} 3\n"));
	assert_non_null(strstr(out.buf, "# TYPE x_depth gauge\nx_depth 5\n"));
	fl_buf_release(&out);
	monitor_registry_free(r);
}

static void test_label_values_are_escaped(void **state)
{
	static const char *const labels[] = { "v" };
	struct monitor_registry *r = monitor_registry_new();
	struct monitor_family *g = monitor_family_new(r, MONITOR_GAUGE, "x", "h", 1, labels, NULL, 0);
	struct fl_buf out = FL_BUF_INIT;
	const char *v[] = { "a\"b\\c\nd" };

	(void)state;
	monitor_set(g, v, 1);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "x{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
	fl_buf_release(&out);
	monitor_registry_free(r);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
	static const double bounds[] = { 0.1, 1 };
	static const char *const labels[] = { "node" };
	struct monitor_registry *r = monitor_registry_new();
	struct monitor_family *h = monitor_family_new(r, MONITOR_HISTOGRAM, "x_seconds", "t", 1, labels,
						      bounds, 2);
	struct fl_buf out = FL_BUF_INIT;
	const char *n[] = { "ingest" };

	(void)state;
	monitor_observe(h, n, 0.05);
	monitor_observe(h, n, 0.1);   /* le is inclusive */
	monitor_observe(h, n, 0.5);
	monitor_observe(h, n, 3);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "# TYPE x_seconds histogram\n"
					"x_seconds_bucket{node=\"ingest\",le=\"0.1\"} 2\n"
					"x_seconds_bucket{node=\"ingest\",le=\"1\"} 3\n"
					"x_seconds_bucket{node=\"ingest\",le=\"+Inf\"} 4\n"
					"x_seconds_sum{node=\"ingest\"} 3.65"));
	assert_non_null(strstr(out.buf, "x_seconds_count{node=\"ingest\"} 4\n"));
	assert_true(monitor_value(h, n) == 4);
	fl_buf_release(&out);
	monitor_registry_free(r);
}

static void test_histogram_mirror_keeps_counts(void **state)
{
	static const double bounds[] = { 1, 2 };
	struct monitor_registry *r = monitor_registry_new();
	struct monitor_family *h = monitor_family_new(r, MONITOR_HISTOGRAM, "m", "t", 0, NULL, bounds, 2);
	const int64_t cum[] = { 1, 4, 6 };
	struct fl_buf out = FL_BUF_INIT;

	(void)state;
	monitor_histogram_set(h, NULL, cum, 3, 9.5);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "m_bucket{le=\"1\"} 1\nm_bucket{le=\"2\"} 4\nm_bucket{le=\"+Inf\"} 6\n"
					"m_sum 9.5\nm_count 6\n"));
	fl_buf_release(&out);
	monitor_registry_free(r);
}

static void test_family_reuse_and_conflicts(void **state)
{
	static const char *const one[] = { "a" }, *const other[] = { "b" };
	struct monitor_registry *r = monitor_registry_new();
	struct monitor_family *f = monitor_family_new(r, MONITOR_COUNTER, "c_total", "h", 1, one, NULL, 0);

	(void)state;
	assert_ptr_equal(monitor_family_new(r, MONITOR_COUNTER, "c_total", "h", 1, one, NULL, 0), f);
	assert_null(monitor_family_new(r, MONITOR_GAUGE, "c_total", "h", 1, one, NULL, 0));
	assert_null(monitor_family_new(r, MONITOR_COUNTER, "c_total", "h", 1, other, NULL, 0));
	assert_ptr_equal(monitor_family_find(r, "c_total"), f);
	assert_null(monitor_family_find(r, "nope"));
	monitor_add(NULL, NULL, 1);   /* optional metrics: no-op */
	monitor_registry_free(r);
}

static void collect(void *arg, struct monitor_registry *r)
{
	static const char *const labels[] = { "status" };
	int *calls = arg;
	struct monitor_family *f = monitor_family_new(r, MONITOR_GAUGE, "tickets", "by status", 1, labels,
						      NULL, 0);
	const char *open[] = { "open" }, *done[] = { "done" };

	(*calls)++;
	/* label values come and go: the collector refills from scratch */
	monitor_family_clear(f);
	monitor_set(f, *calls == 1 ? open : done, *calls);
}

static void test_collectors_refresh_each_scrape(void **state)
{
	struct monitor_registry *r = monitor_registry_new();
	struct fl_buf out = FL_BUF_INIT;
	int calls = 0;

	(void)state;
	monitor_registry_add_collector(r, collect, &calls);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "tickets{status=\"open\"} 1\n"));
	fl_buf_reset(&out);
	monitor_registry_expose(r, &out);
	assert_null(strstr(out.buf, "status=\"open\""));
	assert_non_null(strstr(out.buf, "tickets{status=\"done\"} 2\n"));
	assert_int_equal(calls, 2);
	fl_buf_release(&out);
	monitor_registry_free(r);
}

struct hammer {
	struct monitor_family *f;
	int id;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	char label[16];
	const char *v[] = { label };
	int i;

	for (i = 0; i < 20000; i++) {
		snprintf(label, sizeof(label), "s%d", i % 50);
		monitor_add(h->f, v, 1);
	}
	return NULL;
}

static void test_concurrent_updates_are_not_lost(void **state)
{
	static const char *const labels[] = { "series" };
	struct monitor_registry *r = monitor_registry_new();
	struct hammer h[4];
	pthread_t t[4];
	double total = 0;
	char label[16];
	const char *v[] = { label };
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		h[i].f = monitor_family_new(r, MONITOR_COUNTER, "hits_total", "h", 1, labels, NULL, 0);
		h[i].id = i;
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 50; i++) {
		snprintf(label, sizeof(label), "s%d", i);
		total += monitor_value(h[0].f, v);
	}
	assert_true(total == 80000);
	monitor_registry_free(r);
}

static void test_process_metrics(void **state)
{
	struct monitor_registry *r = monitor_registry_new();
	struct fl_buf out = FL_BUF_INIT;

	(void)state;
	monitor_add_process_metrics(r);
	monitor_registry_expose(r, &out);
	assert_non_null(strstr(out.buf, "# TYPE process_resident_memory_bytes gauge\n"));
	assert_non_null(strstr(out.buf, "frontline_build_info{version=\"" FL_VERSION "\"} 1\n"));
	assert_null(strstr(out.buf, "process_resident_memory_bytes -1"));
	assert_true(monitor_process_rss() > 1024 * 1024);
	fl_buf_release(&out);
	monitor_registry_free(r);
}

/* ---- the monitor over a real store ---- */

struct group {
	const char *backend;
	struct pg_harness pg;
};

struct fx {
	char *dir, *url;
	struct store *st;
	struct monitor *m;
	struct monitor_registry *reg;
	double llm_rate;
};

static int group_sqlite(void **state)
{
	static struct group g = { "sqlite", PG_HARNESS_INIT };

	*state = &g;
	return 0;
}

static int group_postgres(void **state)
{
	static struct group g = { "postgres", PG_HARNESS_INIT };
	char *url = NULL;

	if (pg_harness_start(&g.pg, &url)) {
		fprintf(stderr, "cannot start the PostgreSQL test server: %s\n", pg_harness_error(&g.pg));
		return -1;
	}
	free(url);
	*state = &g;
	return 0;
}

static int group_done(void **state)
{
	pg_harness_stop(&((struct group *)*state)->pg);
	return 0;
}

static double llm_rate(void *arg)
{
	return ((struct fx *)arg)->llm_rate;
}

static int setup(void **state)
{
	struct group *g = *state;
	struct fx *f = fl_calloc(1, sizeof(*f));
	struct monitor_options o = { 0 };
	char *err = NULL;

	if (!strcmp(g->backend, "sqlite")) {
		f->dir = test_tmpdir();
		f->url = fl_asprintf("sqlite://%s/m.db", f->dir);
	} else if (pg_harness_create_db(&g->pg, &f->url)) {
		return -1;
	}
	if (store_open(f->url, &f->st, &err) != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->reg = monitor_registry_new();
	f->llm_rate = -1;
	o.store_url = f->url;
	o.interval_s = 60;
	o.window_s = 3600;
	o.owner = "replica-a";
	o.registry = f->reg;
	o.llm_error_rate = llm_rate;
	o.llm_arg = f;
	if (monitor_new(&o, &f->m, &err) != MONITOR_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	/* one queued job is a backlog; the other rules stay quiet without tickets */
	fl_config_set("FRONTLINE_ALERT_QUEUE_DEPTH", "0");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fl_config_set("FRONTLINE_ALERT_QUEUE_DEPTH", "100");
	monitor_free(f->m);
	monitor_registry_free(f->reg);
	store_close(f->st);
	if (f->dir)
		test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f->url);
	free(f);
	return 0;
}

static size_t count_outbox(struct store *st, const char *needle)
{
	json_t *list = NULL, *o;
	size_t i, n = 0;

	assert_int_equal(store_outbox_list(st, NULL, 1000, &list), STORE_OK);
	json_array_foreach(list, i, o) {
		char *text = fl_json_dumps(json_object_get(o, "payload"));

		n += strstr(text, needle) != NULL;
		free(text);
	}
	json_decref(list);
	return n;
}

static void run_round(struct fx *f, json_t **report)
{
	char *err = NULL;
	int rc = monitor_run_once(f->m, report, &err);

	if (rc != MONITOR_OK)
		fail_msg("monitor round: %s: %s", monitor_errname(rc), err ? err : "");
}

static void test_alerts_are_raised_once_and_resolved(void **state)
{
	struct fx *f = *state;
	struct store_job *job = NULL;
	struct fl_buf out = FL_BUF_INIT;
	json_t *report = NULL, *active = NULL;

	assert_int_equal(store_job_enqueue(f->st, "triage", NULL, NULL, 3, 0, NULL), STORE_OK);
	run_round(f, &report);
	if (json_array_size(json_object_get(report, "raised")) != 1) {
		char *t = fl_json_dumps(json_object_get(report, "alerts"));
		fail_msg("alerts: %s", t);
	}
	assert_string_equal(fl_json_str(json_array_get(json_object_get(report, "raised"), 0), "type", ""),
			    "queue_backlog");
	assert_true(json_array_size(json_object_get(report, "trace")) >= 4);
	json_decref(report);
	assert_int_equal(count_outbox(f->st, "queue"), 1);
	monitor_registry_expose(f->reg, &out);
	assert_non_null(strstr(out.buf, "frontline_alerts_active{type=\"queue_backlog\",severity=\"warning\"} 1"));
	fl_buf_release(&out);

	/* the condition persists: no second notification */
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "raised")), 0);
	assert_int_equal(json_array_size(json_object_get(report, "alerts")), 1);
	json_decref(report);
	assert_int_equal(count_outbox(f->st, "queue"), 1);
	assert_int_equal(store_alert_list(f->st, "active", 0, &active), STORE_OK);
	assert_int_equal(json_array_size(active), 1);
	assert_int_equal(fl_json_int(json_array_get(active, 0), "observations", 0), 2);
	json_decref(active);

	/* it clears: resolved, and announced once */
	assert_int_equal(store_job_claim(f->st, "triage", "w", 60, &job), STORE_OK);
	assert_int_equal(store_job_complete(f->st, job->id, "w"), STORE_OK);
	store_job_free(job);
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "resolved")), 1);
	json_decref(report);
	assert_int_equal(count_outbox(f->st, "resolved: "), 1);
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "resolved")), 0);
	json_decref(report);
	assert_int_equal(count_outbox(f->st, "resolved: "), 1);
	assert_int_equal(store_alert_list(f->st, "active", 0, &active), STORE_OK);
	assert_int_equal(json_array_size(active), 0);
	json_decref(active);
	fl_buf_init(&out, 0);
	monitor_registry_expose(f->reg, &out);
	assert_null(strstr(out.buf, "frontline_alerts_active{"));
	fl_buf_release(&out);
}

static void test_llm_error_rate_is_a_rule(void **state)
{
	struct fx *f = *state;
	json_t *report = NULL;

	f->llm_rate = 0.5;
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "raised")), 1);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(report, "raised"), 0), "type", ""),
			    "llm_errors");
	json_decref(report);
	f->llm_rate = 0.01;
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "resolved")), 1);
	json_decref(report);
}

/*
 * Hysteresis: a metric hovering at its threshold must not raise and resolve
 * its alert on every round (high_escalation_rate flapped 12 times in one
 * run). An alert resolves only once its metric is back past a lower
 * threshold than the one it fired at: by FRONTLINE_ALERT_HYSTERESIS (10 %),
 * at or below 0.18 for the LLM error rate's 0.2.
 */
static void test_alerts_do_not_flap_at_the_threshold(void **state)
{
	static const double rates[] = { 0.25, 0.19, 0.21, 0.185, 0.22, 0.19, 0.205, 0.181 };
	struct fx *f = *state;
	json_t *report = NULL;
	size_t i, raised = 0, resolved = 0;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		f->llm_rate = rates[i];
		run_round(f, &report);
		raised += json_array_size(json_object_get(report, "raised"));
		resolved += json_array_size(json_object_get(report, "resolved"));
		json_decref(report);
	}
	assert_int_equal(raised, 1);
	assert_int_equal(resolved, 0);
	assert_int_equal(count_outbox(f->st, "LLM error rate"), 1);
	/* back below the lower threshold: resolved once, and raised again only above 0.2 */
	f->llm_rate = 0.18;
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "resolved")), 1);
	json_decref(report);
	f->llm_rate = 0.195;
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "raised")), 0);
	json_decref(report);
	f->llm_rate = 0.3;
	run_round(f, &report);
	assert_int_equal(json_array_size(json_object_get(report, "raised")), 1);
	json_decref(report);
}

static void test_one_replica_runs_it_at_a_time(void **state)
{
	struct fx *f = *state;
	struct store *other = NULL;
	json_t *report = NULL;
	char *err = NULL;
	bool got = false;

	assert_int_equal(store_open(f->url, &other, &err), STORE_OK);
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 300, &got), STORE_OK);
	assert_true(got);
	assert_int_equal(monitor_run_once(f->m, &report, &err), MONITOR_ELOCKED);
	assert_null(report);
	assert_int_equal(store_lock_release(other, "frontline.monitor", "replica-b"), STORE_OK);
	run_round(f, &report);
	json_decref(report);
	store_close(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_and_gauge_exposition),
		cmocka_unit_test(test_label_values_are_escaped),
		cmocka_unit_test(test_histogram_buckets_are_cumulative),
		cmocka_unit_test(test_histogram_mirror_keeps_counts),
		cmocka_unit_test(test_family_reuse_and_conflicts),
		cmocka_unit_test(test_collectors_refresh_each_scrape),
		cmocka_unit_test(test_concurrent_updates_are_not_lost),
		cmocka_unit_test(test_process_metrics),
	};

	const struct CMUnitTest store_tests[] = {
		cmocka_unit_test_setup_teardown(test_alerts_are_raised_once_and_resolved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_llm_error_rate_is_a_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alerts_do_not_flap_at_the_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_replica_runs_it_at_a_time, setup, teardown),
	};
	char *err = NULL;
	int failed = 0;

	fl_config_load(NULL, false, &err);
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	failed += cmocka_run_group_tests_name("registry", tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("monitor_sqlite", store_tests, group_sqlite, group_done);
	failed += cmocka_run_group_tests_name("monitor_postgres", store_tests, group_postgres, group_done);
	fl_config_free();
	return failed ? 1 : 0;
}
