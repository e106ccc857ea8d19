/*
 * The monitor: the seed's real_time_monitoring workflow, run periodically
 * by `frontline serve`, with the state the seed did not keep.
 *
 * A round, under a store lock so that one replica runs it at a time:
 *   1. run the workflow with an empty alerts_to_send: metrics_collector
 *      computes the window's metrics from the store, alert_generator applies
 *      the rules (the seed's three, queue depth, LLM error rate), and
 *      notification_sender has nothing to send yet;
 *   2. compare with the alerts the store holds as active: a new condition
 *      raises an alert, a persisting one only updates it (no new
 *      notification), a cleared one resolves it: cleared means back past a
 *      lower threshold than the one it fired at (FRONTLINE_ALERT_HYSTERESIS,
 *      10 %: an escalation rate that fired above 0.2 resolves at or below
 *      0.18), so a metric hovering at its threshold does not flap;
 *   3. run notification_sender alone on the raised and resolved ones; its
 *      outbox items and the alert state commit in one transaction, so a
 *      crash cannot leave an alert raised but never announced.
 * The workflow's own nodes do the collecting, judging and sending; this
 * file adds the memory between rounds.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "flow/flow.h"
#include "store/store.h"
#include "support/support.h"

#define LOCK_NAME "frontline.monitor"

struct monitor {
	struct monitor_options opts;
	char *store_url, *owner;
	struct store *st;
	struct flow_node *workflow;
	struct monitor_family *m_active, *m_rounds;
	double hysteresis;        /* FRONTLINE_ALERT_HYSTERESIS: how far back past its threshold an alert resolves */
	pthread_t thread;
	bool running, stop;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static int64_t now_us(struct monitor *m)
{
	return m->opts.now_us ? m->opts.now_us(m->opts.now_arg) : fl_wall_us();
}

static int64_t ctx_now(void *arg)
{
	return now_us(arg);
}

int monitor_new(const struct monitor_options *opts, struct monitor **out, char **err)
{
	static const char *const alert_labels[] = { "type", "severity" };
	static const char *const round_labels[] = { "result" };
	const struct support_workflow *wf = support_workflow_find("real_time_monitoring");
	struct monitor *m = fl_calloc(1, sizeof(*m));
	char host[128] = "localhost";

	*out = NULL;
	*err = NULL;
	m->opts = *opts;
	m->store_url = fl_strdup(opts->store_url ? opts->store_url : fl_config_get("FRONTLINE_DATABASE_URL"));
	gethostname(host, sizeof(host) - 1);
	m->owner = opts->owner ? fl_strdup(opts->owner) : fl_asprintf("%s:%d:monitor", host, (int)getpid());
	m->opts.interval_s = opts->interval_s > 0 ? opts->interval_s
			     : (int)fl_config_int("FRONTLINE_MONITOR_INTERVAL", 60);
	m->opts.window_s = opts->window_s > 0 ? opts->window_s
			   : (int)fl_config_int("FRONTLINE_MONITOR_WINDOW", 3600);
	if (m->opts.interval_s < 1)
		m->opts.interval_s = 1;
	m->hysteresis = fl_config_num("FRONTLINE_ALERT_HYSTERESIS", 0.1);
	if (!(m->hysteresis >= 0 && m->hysteresis < 1))
		m->hysteresis = 0.1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	if (!wf || !(m->workflow = wf->build()) || flow_graph_validate(m->workflow) != FLOW_OK) {
		*err = fl_strdup("cannot build the real_time_monitoring workflow");
		monitor_free(m);
		return MONITOR_EFLOW;
	}
	if (store_open(m->store_url, &m->st, err) != STORE_OK) {
		monitor_free(m);
		return MONITOR_ESTORE;
	}
	if (opts->registry) {
		m->m_active = monitor_family_new(opts->registry, MONITOR_GAUGE, "frontline_alerts_active",
						 "monitoring alerts now active, by type and severity", 2,
						 alert_labels, NULL, 0);
		m->m_rounds = monitor_family_new(opts->registry, MONITOR_COUNTER,
						 "frontline_monitor_rounds_total",
						 "monitoring rounds by result (ok, failed, skipped: another replica ran it)",
						 1, round_labels, NULL, 0);
	}
	*out = m;
	return MONITOR_OK;
}

static json_t *find_type(const json_t *list, const char *type)
{
	size_t i;
	json_t *a;

	json_array_foreach(list, i, a)
		if (!strcmp(fl_json_str(a, "type", ""), type))
			return a;
	return NULL;
}

static void set_active_gauge(struct monitor *m, const json_t *active)
{
	size_t i;
	json_t *a;

	if (!m->m_active)
		return;
	monitor_family_clear(m->m_active);
	json_array_foreach(active, i, a) {
		const char *v[] = { fl_json_str(a, "type", ""), fl_json_str(a, "severity", "") };

		monitor_set(m->m_active, v, 1);
	}
}

/*
 * The store reports the means of an empty window as 0, which would read as
 * "satisfaction 0": an idle night would page the on-call. Rules on
 * per-ticket means judge nothing when the window holds no ticket.
 */
static bool without_data(const json_t *metrics, const json_t *alert)
{
	static const char *const means[] = { "satisfaction_score", "avg_response_time", "escalation_rate" };
	const char *metric = fl_json_str(alert, "metric", "");
	size_t i;

	if (fl_json_int(metrics, "total_tickets", 1) > 0)
		return false;
	for (i = 0; i < FL_ARRAY_SIZE(means); i++)
		if (!strcmp(metric, means[i]))
			return true;
	return false;
}

/*
 * Whether the active alert a has cleared, by its metric's value now: past
 * the threshold it fired at by the hysteresis fraction, in the direction
 * away from firing (it fired above its threshold: at or below
 * threshold * (1 - h); below: at or above threshold * (1 + h)). A metric
 * not measured now (no LLM any more, an empty window) clears it.
 */
static bool cleared(const json_t *metrics, const json_t *a, double h)
{
	const json_t *v = json_object_get(metrics, fl_json_str(a, "metric", ""));
	double value, threshold = fl_json_num(a, "threshold", 0), fired = fl_json_num(a, "value", 0);

	if (!json_is_number(v) || without_data(metrics, a))
		return true;
	value = json_number_value(v);
	if (fired >= threshold)
		return value <= threshold * (1 - h);
	return value >= threshold * (1 + h);
}

/* Steps 2 and 3, inside the caller's transaction. */
static int apply(struct monitor *m, struct support_ctx *ctx, json_t *shared, json_t *report, char **err)
{
	json_t *alerts = json_array(), *active = NULL, *to_send = json_array();
	json_t *raised = json_object_get(report, "raised"), *resolved = json_object_get(report, "resolved");
	struct flow_result *res = NULL;
	size_t i;
	json_t *a;
	int rc = MONITOR_ESTORE;

	json_array_foreach(json_object_get(shared, "alerts"), i, a)
		if (!without_data(json_object_get(shared, "metrics"), a))
			json_array_append(alerts, a);
	json_object_set(report, "alerts", alerts);
	if (store_alert_list(m->st, "active", 1000, &active) != STORE_OK)
		goto store_fail;
	json_array_foreach(alerts, i, a) {
		json_t *row = NULL, *send;
		bool is_new = false;
		char key[160];

		if (store_alert_raise(m->st, a, &row, &is_new) != STORE_OK)
			goto store_fail;
		if (is_new) {
			send = json_deep_copy(a);
			snprintf(key, sizeof(key), "alert:%s:%lld", fl_json_str(a, "type", ""),
				 (long long)fl_json_int(row, "id", 0));
			json_object_set_new(send, "dedupe_key", json_string(key));
			json_object_set_new(send, "alert_id", json_integer(fl_json_int(row, "id", 0)));
			json_array_append_new(to_send, send);
			json_array_append(raised, row);
		}
		json_decref(row);
	}
	json_array_foreach(active, i, a) {
		const char *type = fl_json_str(a, "type", "");
		json_t *row = NULL, *send;
		char key[160], *msg;

		if (find_type(alerts, type))
			continue;
		if (!cleared(json_object_get(shared, "metrics"), a, m->hysteresis)) {
			/* between the two thresholds: still active, nothing to announce */
			json_array_append_new(json_object_get(report, "held"), json_string(type));
			continue;
		}
		if (store_alert_resolve(m->st, type, &row) != STORE_OK)
			goto store_fail;
		msg = fl_asprintf("resolved: %s", fl_json_str(a, "message", type));
		send = json_pack("{s:s, s:s, s:s, s:s, s:b}", "type", type, "severity",
				 fl_json_str(a, "severity", "warning"), "metric", fl_json_str(a, "metric", ""),
				 "message", msg, "resolved", 1);
		snprintf(key, sizeof(key), "alert:%s:%lld:resolved", type, (long long)fl_json_int(a, "id", 0));
		json_object_set_new(send, "dedupe_key", json_string(key));
		json_array_append_new(to_send, send);
		json_array_append_new(resolved, row);
		free(msg);
	}
	if (json_array_size(to_send)) {
		json_object_set(shared, "alerts_to_send", to_send);
		res = support_run(m->workflow, "notification_sender", ctx, shared);
		json_array_extend(json_object_get(report, "trace"), flow_result_trace(res));
		if (flow_result_code(res) != FLOW_OK) {
			*err = fl_asprintf("notification_sender failed: %s", flow_result_error(res));
			rc = MONITOR_EFLOW;
			goto out;
		}
	}
	json_decref(active);
	active = NULL;
	if (store_alert_list(m->st, "active", 1000, &active) == STORE_OK)
		set_active_gauge(m, active);
	rc = MONITOR_OK;
	goto out;
store_fail:
	*err = fl_asprintf("alert state: %s", store_errmsg(m->st));
out:
	flow_result_free(res);
	json_decref(active);
	json_decref(to_send);
	json_decref(alerts);
	return rc;
}

int monitor_run_once(struct monitor *m, json_t **report_out, char **err)
{
	struct support_ctx ctx = { 0 };
	struct flow_result *res = NULL;
	json_t *shared = NULL, *report = NULL;
	bool locked = false;
	int rc;

	*err = NULL;
	if (report_out)
		*report_out = NULL;
	rc = store_lock_try(m->st, LOCK_NAME, m->owner, m->opts.interval_s * 2 + 60, &locked);
	if (rc != STORE_OK) {
		*err = fl_asprintf("cannot take the monitoring lock: %s", store_errmsg(m->st));
		return MONITOR_ESTORE;
	}
	if (!locked) {
		const char *v[] = { "skipped" };

		monitor_add(m->m_rounds, v, 1);
		return MONITOR_ELOCKED;
	}
	ctx.store = m->st;
	ctx.now_us = ctx_now;
	ctx.now_arg = m;
	shared = json_pack("{s:i, s:[]}", "window_s", m->opts.window_s, "alerts_to_send");
	if (m->opts.llm_error_rate) {
		double rate = m->opts.llm_error_rate(m->opts.llm_arg);

		if (rate >= 0)
			json_object_set_new(shared, "llm_error_rate", json_real(rate));
	}
	res = support_run(m->workflow, "metrics_collector", &ctx, shared);
	report = json_pack("{s:O, s:O, s:[], s:[], s:[], s:O}", "metrics", json_object_get(shared, "metrics"),
			   "alerts", json_object_get(shared, "alerts"), "raised", "resolved", "held", "trace",
			   flow_result_trace(res));
	if (flow_result_code(res) != FLOW_OK) {
		*err = fl_asprintf("real_time_monitoring failed at %s: %s",
				   flow_result_failed_node(res) ? flow_result_failed_node(res) : "?",
				   flow_result_error(res));
		rc = MONITOR_EFLOW;
		goto out;
	}
	rc = store_begin_immediate(m->st);
	if (rc != STORE_OK) {
		*err = fl_asprintf("cannot record alerts: %s", store_errmsg(m->st));
		rc = MONITOR_ESTORE;
		goto out;
	}
	rc = apply(m, &ctx, shared, report, err);
	if (rc == MONITOR_OK && store_commit(m->st) != STORE_OK) {
		*err = fl_asprintf("cannot record alerts: %s", store_errmsg(m->st));
		rc = MONITOR_ESTORE;
	}
	if (rc != MONITOR_OK)
		store_rollback(m->st);
out:
	store_lock_release(m->st, LOCK_NAME, m->owner);
	{
		const char *v[] = { rc == MONITOR_OK ? "ok" : "failed" };

		monitor_add(m->m_rounds, v, 1);
	}
	flow_result_free(res);
	json_decref(shared);
	if (report_out && rc == MONITOR_OK)
		*report_out = report;
	else
		json_decref(report);
	return rc;
}

static void *monitor_main(void *arg)
{
	struct monitor *m = arg;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		struct timespec ts;
		json_t *report = NULL;
		char *err = NULL;
		int rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += m->opts.interval_s;
		pthread_cond_timedwait(&m->cond, &m->lock, &ts);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->lock);
		rc = monitor_run_once(m, &report, &err);
		if (rc == MONITOR_OK) {
			size_t nr = json_array_size(json_object_get(report, "raised"));
			size_t nc = json_array_size(json_object_get(report, "resolved"));

			fl_log(nr || nc ? FL_LOG_INFO : FL_LOG_DEBUG,
			       "monitoring: %zu alerts firing, %zu raised, %zu resolved",
			       json_array_size(json_object_get(report, "alerts")), nr, nc);
		} else if (rc == MONITOR_ELOCKED) {
			fl_log(FL_LOG_DEBUG, "monitoring: another replica holds the lock; skipped");
		} else {
			fl_log(FL_LOG_ERROR, "monitoring: %s", err ? err : monitor_strerror(rc));
		}
		json_decref(report);
		free(err);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int monitor_start(struct monitor *m)
{
	if (m->running)
		return MONITOR_OK;
	m->stop = false;
	if (pthread_create(&m->thread, NULL, monitor_main, m))
		return MONITOR_EINVAL;
	m->running = true;
	return MONITOR_OK;
}

void monitor_stop(struct monitor *m)
{
	if (!m || !m->running)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	m->running = false;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	monitor_stop(m);
	store_close(m->st);
	flow_node_free(m->workflow);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m->store_url);
	free(m->owner);
	free(m);
}
