/*
 * Tests of monitor's metrics registry: the Prometheus text exposition
 * (HELP/TYPE lines, label escaping, sorted series, cumulative histogram
 * buckets), family reuse and shape conflicts, collectors, concurrent
 * updates, and the process metrics.
 */
#include <pthread.h>

#include "test_helpers.h"
#include "monitor/monitor.h"

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

	return cmocka_run_group_tests(tests, NULL, NULL);
}
