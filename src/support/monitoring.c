/*
 * The real_time_monitoring workflow's nodes: metrics_collector (the seed's
 * SupportMetrics over a sliding window, from the store, or given in
 * shared.metrics), alert_generator (the rules table: the seed's three plus
 * queue depth and LLM error rate, thresholds from configuration) and
 * notification_sender (alerts into the outbox, routed by the policy's routes
 * table: critical ones to Slack #support-alerts and the on-call list,
 * warnings to #support-monitoring; notice.c builds them).
 *
 * Keeping an alert's state while its condition persists, and resolving it
 * when it clears, is the monitor's job around this workflow (src/monitor);
 * notification_sender only delivers what shared.alerts_to_send (or, without
 * it, every alert) lists.
 */
#include <string.h>

#include "support_int.h"
#include "store/store.h"

/* ---- metrics_collector ---- */

/*
 * Satisfaction from the customers' own ratings (the survey) answered in
 * the window, where there are any: their mean on the 0-1 scale replaces
 * the triage's estimate. satisfaction_source says which the rule used.
 */
static void ratings(struct store *st, json_t *m, int64_t since_us)
{
	json_t *csat = NULL;
	int64_t n = 0;

	if (store_survey_stats(st, since_us, &csat) == STORE_OK)
		n = fl_json_int(csat, "responses", 0);
	if (n > 0) {
		json_object_set_new(m, "satisfaction_score",
				    json_real((fl_json_num(csat, "average", 1) - 1) / 4.0));
		json_object_set_new(m, "satisfaction_source", json_string("ratings"));
		json_object_set_new(m, "satisfaction_ratings", json_integer(n));
	} else {
		json_object_set_new(m, "satisfaction_source", json_string("estimate"));
	}
	json_decref(csat);
}

static int collect_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *given = json_object_get(shared, "metrics"), *counts = NULL;
	int64_t window = fl_json_int(shared, "window_s", 3600), now;

	if (!ctx)
		return -1;
	if (json_is_object(given)) {
		*out = json_deep_copy(given);
		return 0;
	}
	if (!ctx->store)
		return flow_call_fail(call, "no metrics given and no store to compute them from");
	now = support_now_us(ctx);
	if (store_metrics(ctx->store, now - window * 1000000, now, out) != STORE_OK)
		return flow_call_fail(call, "cannot compute metrics: %s", store_errmsg(ctx->store));
	json_object_set_new(*out, "window_s", json_integer(window));
	ratings(ctx->store, *out, now - window * 1000000);
	if (store_job_counts(ctx->store, &counts) == STORE_OK) {
		json_object_set_new(*out, "queue_depth", json_integer(fl_json_int(counts, "queued", 0)));
		json_object_set_new(*out, "dead_jobs", json_integer(fl_json_int(counts, "dead", 0)));
	}
	json_decref(counts);
	if (json_is_number(json_object_get(shared, "llm_error_rate")))
		json_object_set(*out, "llm_error_rate", json_object_get(shared, "llm_error_rate"));
	return 0;
}

/* Accepts the seed's short names (response_time, satisfaction, volume) too. */
static int collect_exec(struct flow_call *call, json_t *m, json_t **out)
{
	(void)call;
	*out = json_deep_copy(m);
	if (!json_object_get(*out, "avg_response_time") && json_object_get(m, "response_time"))
		json_object_set(*out, "avg_response_time", json_object_get(m, "response_time"));
	if (!json_object_get(*out, "satisfaction_score") && json_object_get(m, "satisfaction"))
		json_object_set(*out, "satisfaction_score", json_object_get(m, "satisfaction"));
	if (!json_object_get(*out, "total_tickets") && json_object_get(m, "volume"))
		json_object_set(*out, "total_tickets", json_object_get(m, "volume"));
	return 0;
}

static int collect_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			const char **action)
{
	(void)call;
	(void)prep;
	json_object_set(shared, "metrics", res);
	*action = FLOW_DEFAULT_ACTION;
	return 0;
}

static const struct flow_node_ops collect_ops = {
	.prep = collect_prep, .exec = collect_exec, .post = collect_post,
};

struct flow_node *support__node_metrics_collector(void)
{
	return flow_node_new("metrics_collector", &collect_ops, NULL);
}

/* ---- alert_generator: the rules table ---- */

struct alert_rule {
	const char *type;
	const char *metric;
	const char *config;     /* threshold key */
	bool below;             /* fires when the metric is below the threshold */
	const char *severity;
	const char *what;       /* the metric in words */
};

static const struct alert_rule alert_rules[] = {
	{ "high_response_time", "avg_response_time", "FRONTLINE_ALERT_RESPONSE_TIME", false, "warning",
	  "average response time (s)" },
	{ "low_satisfaction", "satisfaction_score", "FRONTLINE_ALERT_SATISFACTION", true, "critical",
	  "satisfaction" },
	{ "high_escalation_rate", "escalation_rate", "FRONTLINE_ALERT_ESCALATION_RATE", false, "warning",
	  "escalation rate" },
	{ "queue_backlog", "queue_depth", "FRONTLINE_ALERT_QUEUE_DEPTH", false, "warning",
	  "jobs waiting in the queue" },
	{ "llm_errors", "llm_error_rate", "FRONTLINE_ALERT_LLM_ERROR_RATE", false, "warning",
	  "LLM error rate" },
};

static int alerts_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	json_t *m = json_object_get(shared, "metrics");

	if (!json_is_object(m))
		return flow_call_fail(call, "shared has no 'metrics' (run metrics_collector first)");
	*out = json_pack("{s:O, s:{}}", "metrics", m, "thresholds");
	{
		size_t i;

		for (i = 0; i < FL_ARRAY_SIZE(alert_rules); i++)
			json_object_set_new(json_object_get(*out, "thresholds"), alert_rules[i].type,
					    json_real(fl_config_num(alert_rules[i].config, 0)));
	}
	return 0;
}

static int alerts_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	const json_t *m = json_object_get(prep, "metrics"), *th = json_object_get(prep, "thresholds");
	size_t i;

	(void)call;
	*out = json_array();
	for (i = 0; i < FL_ARRAY_SIZE(alert_rules); i++) {
		const struct alert_rule *r = &alert_rules[i];
		const json_t *v = json_object_get(m, r->metric);
		double value, threshold = fl_json_num(th, r->type, 0);
		char msg[160];

		if (!json_is_number(v))
			continue;
		value = json_number_value(v);
		if (r->below ? !(value < threshold) : !(value > threshold))
			continue;
		snprintf(msg, sizeof(msg), "%s %g %s %g", r->what, value,
			 r->below ? "is below" : "exceeds", threshold);
		if (!strcmp(r->metric, "satisfaction_score") && json_object_get(m, "satisfaction_source")) {
			size_t len = strlen(msg);

			if (!strcmp(fl_json_str(m, "satisfaction_source", ""), "ratings"))
				snprintf(msg + len, sizeof(msg) - len, " (from %lld customer ratings)",
					 (long long)fl_json_int(m, "satisfaction_ratings", 0));
			else
				snprintf(msg + len, sizeof(msg) - len, " (estimated by triage: no customer ratings in the window)");
		}
		json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}",
			"type", r->type, "severity", r->severity, "metric", r->metric, "message", msg,
			"value", value, "threshold", threshold));
	}
	return 0;
}

static int alerts_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
		       const char **action)
{
	(void)call;
	(void)prep;
	json_object_set(shared, "alerts", res);
	*action = FLOW_DEFAULT_ACTION;
	return 0;
}

static const struct flow_node_ops alerts_ops = {
	.prep = alerts_prep, .exec = alerts_exec, .post = alerts_post,
};

struct flow_node *support__node_alert_generator(void)
{
	return flow_node_new("alert_generator", &alerts_ops, NULL);
}

/* ---- notification_sender ---- */

static int send_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *list = json_object_get(shared, "alerts_to_send");

	if (!ctx)
		return -1;
	if (!list)
		list = json_object_get(shared, "alerts");
	*out = json_pack("{s:o, s:I}", "alerts", json_is_array(list) ? json_incref(list) : json_array(),
			 "now", (json_int_t)support_now_us(ctx));
	return 0;
}

static int send_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	const json_t *alerts = json_object_get(prep, "alerts");
	int64_t now = fl_json_int(prep, "now", 0);
	size_t i;

	(void)call;
	*out = json_array();
	for (i = 0; i < json_array_size(alerts); i++)
		support_notice_alert(*out, json_array_get(alerts, i), now);
	return 0;
}

static int send_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
		     const char **action)
{
	struct support_ctx *ctx = support__ctx(call);

	(void)prep;
	/* one delivery per alert occurrence and target: the notices' keys say which */
	if (ctx->store && support_notices_enqueue(ctx->store, res) != STORE_OK)
		return flow_call_fail(call, "cannot queue a notification: %s", store_errmsg(ctx->store));
	json_object_set(shared, "notifications", res);
	*action = "complete";
	return 0;
}

static const struct flow_node_ops send_ops = { .prep = send_prep, .exec = send_exec, .post = send_post };

struct flow_node *support__node_notification_sender(void)
{
	return flow_node_new("notification_sender", &send_ops, NULL);
}
