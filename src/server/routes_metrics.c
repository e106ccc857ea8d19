/*
 * /api/v1/metrics/summary: the seed's SupportMetrics over a sliding window
 * (tickets created in the last window seconds), with the job queue's
 * counts and the alerts now active, as the console's charts want them.
 */
#include "server_int.h"
#include "store/store.h"

static void summary(struct server_req *r)
{
	struct store *st = server__store(r);
	json_t *m = NULL, *jobs = NULL, *alerts = NULL;
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
	if (rc != STORE_OK) {
		json_decref(m);
		json_decref(jobs);
		server__store_error(r, rc, "metrics", NULL);
		return;
	}
	fl_time_rfc3339(since, now - window * 1000000);
	fl_time_rfc3339(until, now);
	server__reply_json(r, 200, json_pack("{s:I, s:s, s:s, s:o, s:o, s:o}", "window_s", (json_int_t)window,
					     "since", since, "until", until, "metrics", m, "jobs", jobs,
					     "alerts", alerts));
}

const struct server_route server__metrics_routes[] = {
	{ "GET", "/api/v1/metrics/summary", summary, SERVER_ROLE_AGENT, 0,
	  "support metrics over a window (window= seconds, default 3600)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
