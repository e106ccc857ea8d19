/*
 * /api/v1/metrics/summary: the seed's SupportMetrics over a sliding window
 * (tickets created in the last window seconds), with the job queue's
 * counts, the alerts now active and the SLA attainment per policy (tickets
 * created in the last 30 days, whatever the window: support_sla_attainment),
 * as the console's charts want them;
 * /api/v1/metrics/timeseries: the same measures per time bucket.
 */
#include "server_int.h"
#include "store/store.h"
#include "support/support.h"

static void summary(struct server_req *r)
{
	struct store *st = server__store(r);
	json_t *m = NULL, *jobs = NULL, *alerts = NULL, *csat = NULL, *sla = NULL;
	int64_t window, now = fl_wall_us();
	char since[32], until[32];
	int rc;

	if (server__query_int(r, "window", 60, 366 * 86400, 3600, &window))
		return;
	rc = store_metrics(st, now - window * 1000000, now, &m);
	if (rc == STORE_OK)
		rc = store_job_counts(st, &jobs);
	if (rc == STORE_OK)
		rc = store_alert_list(st, "active", 100, &alerts);
	/* the customers' own ratings (the survey, issue 17) answered within the window */
	if (rc == STORE_OK && (rc = store_survey_stats(st, now - window * 1000000, &csat)) == STORE_OK)
		json_object_set_new(csat, "window", json_integer(window));
	if (rc == STORE_OK)
		rc = support_sla_attainment(st, now / 1000000, SLA_METRICS_WINDOW_S, &sla);
	if (rc != STORE_OK) {
		json_decref(csat);
		json_decref(m);
		json_decref(jobs);
		json_decref(alerts);
		server__store_error(r, rc, "metrics", NULL);
		return;
	}
	fl_time_rfc3339(since, now - window * 1000000);
	fl_time_rfc3339(until, now);
	server__reply_json(r, 200, json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "window_s", (json_int_t)window,
					     "since", since, "until", until, "metrics", m, "jobs", jobs,
					     "alerts", alerts, "csat", csat, "sla", sla));
}

/*
 * The dashboard's charts: per bucket of bucket= seconds (default: an hour)
 * over the last window= seconds (default: a week), aligned to whole buckets
 * (UTC), at most 1,000 buckets.
 */
static void timeseries(struct server_req *r)
{
	json_t *out = NULL;
	int64_t window, bucket, now = fl_wall_us(), since;
	int rc;

	if (server__query_int(r, "window", 60, 366 * 86400, 7 * 86400, &window) ||
	    server__query_int(r, "bucket", 60, 31 * 86400, 3600, &bucket))
		return;
	if (window / bucket > 999) {
		server__bad_request(r, "bucket", "window / bucket gives more than 1,000 buckets: use larger buckets");
		return;
	}
	since = (now - window * 1000000) / (bucket * 1000000) * (bucket * 1000000);
	rc = store_metrics_timeseries(server__store(r), since, now, (int)bucket, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "metrics", NULL);
		return;
	}
	json_object_set_new(out, "window_s", json_integer(window));
	json_object_set_new(out, "bucket_s", json_integer(bucket));
	server__reply_json(r, 200, out);
}

const struct server_route server__metrics_routes[] = {
	{ "GET", "/api/v1/metrics/timeseries", timeseries, SERVER_ROLE_AGENT, 0,
	  "the dashboard's series: tickets by channel and sentiment, response and resolution times, escalation "
	  "rate, satisfaction per bucket" },
	{ "GET", "/api/v1/metrics/summary", summary, SERVER_ROLE_AGENT, 0,
	  "support metrics over a window (window= seconds, default 3600)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
