/*
 * The metrics that are read from elsewhere at each scrape of /metrics,
 * rather than counted where they happen: tickets by status, category and
 * priority, jobs and notifications by status (from a store connection of
 * the collectors' own: scrapes are serialized by the registry), and the
 * LLM client's calls, tokens, errors, retries, cost and latency histogram,
 * and the SLA attainment per policy over the last 30 days (recomputed at
 * most once a minute: it evaluates every ticket of the window). Also the monitor's LLM error-rate input, which reads the same client.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "llm/llm.h"
#include "store/store.h"
#include "support/support.h"

#define CSAT_WINDOW_S (30 * 86400)
#define SLA_REFRESH_US (60 * INT64_C(1000000))

struct service_collectors {
	struct store *st;            /* its own connection (scrapes are serialized) */
	struct llm_client *llm;
	struct monitor_family *csat_responses, *csat_average;   /* the survey's ratings, last 30 days */
	struct monitor_family *sla_ratio, *sla_clocks;           /* SLA attainment, last 30 days */
	int64_t sla_at;                                          /* when they were last computed (monotonic) */
	struct monitor_family *tickets, *jobs, *outbox, *llm_calls, *llm_tokens, *llm_errors,
		*llm_retries, *llm_cost, *llm_latency;
	/* the monitor's LLM error rate: counts at its previous round */
	pthread_mutex_t lock;
	int64_t last_calls, last_failed;
};

static void set_counts(struct monitor_family *f, const json_t *counts)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)counts, key, v) {
		const char *vals[] = { key };

		if (json_is_number(v))
			monitor_set(f, vals, json_number_value(v));
	}
}

/* The SLA attainment's families, from support_sla_attainment, once a minute at most. */
static void collect_sla(struct service_collectors *c)
{
	static const char *const targets[] = { "first_response", "resolution" };
	json_t *a = NULL, *p;
	const char *policy;
	size_t k;

	if (c->sla_at && fl_mono_us() - c->sla_at < SLA_REFRESH_US)
		return;
	if (support_sla_attainment(c->st, fl_wall_us() / 1000000, SLA_METRICS_WINDOW_S, &a) != STORE_OK) {
		fl_log(FL_LOG_WARN, "metrics: cannot compute the SLA attainment: %s", store_errmsg(c->st));
		return;
	}
	c->sla_at = fl_mono_us();
	monitor_family_clear(c->sla_ratio);
	monitor_family_clear(c->sla_clocks);
	json_object_foreach(json_object_get(a, "policies"), policy, p) {
		for (k = 0; k < FL_ARRAY_SIZE(targets); k++) {
			const json_t *t = json_object_get(p, targets[k]);
			const char *met[] = { policy, targets[k], "met" }, *breached[] = { policy, targets[k], "breached" };
			const char *ratio[] = { policy, targets[k] };

			monitor_set(c->sla_clocks, met, (double)fl_json_int(t, "met", 0));
			monitor_set(c->sla_clocks, breached, (double)fl_json_int(t, "breached", 0));
			if (json_is_number(json_object_get(t, "attainment")))
				monitor_set(c->sla_ratio, ratio, fl_json_num(t, "attainment", 0));
		}
	}
	json_decref(a);
}

static void collect_store(void *arg, struct monitor_registry *r)
{
	struct service_collectors *c = arg;
	json_t *m = NULL, *jobs = NULL, *outbox = NULL;
	static const char *const dims[] = { "status", "category", "priority" };
	size_t i;

	(void)r;
	if (store_metrics(c->st, 0, INT64_MAX / 2, &m) == STORE_OK) {
		monitor_family_clear(c->tickets);
		for (i = 0; i < FL_ARRAY_SIZE(dims); i++) {
			char key[40];
			const char *k;
			json_t *v;

			snprintf(key, sizeof(key), "tickets_by_%s", dims[i]);
			json_object_foreach(json_object_get(m, key), k, v) {
				const char *vals[] = { dims[i], k };

				monitor_set(c->tickets, vals, json_number_value(v));
			}
		}
	}
	if (store_job_counts(c->st, &jobs) == STORE_OK)
		set_counts(c->jobs, jobs);
	if (store_outbox_counts(c->st, &outbox) == STORE_OK)
		set_counts(c->outbox, outbox);
	{
		json_t *csat = NULL;

		if (store_survey_stats(c->st, fl_wall_us() - CSAT_WINDOW_S * INT64_C(1000000), &csat) == STORE_OK) {
			monitor_set(c->csat_responses, NULL, (double)fl_json_int(csat, "responses", 0));
			/* no answers: no mean (NaN), rather than a 0 that reads as "very dissatisfied" */
			monitor_set(c->csat_average, NULL, fl_json_num(csat, "average", NAN));
		}
		json_decref(csat);
	}
	collect_sla(c);
	json_decref(m);
	json_decref(jobs);
	json_decref(outbox);
}

static void collect_llm(void *arg, struct monitor_registry *r)
{
	struct service_collectors *c = arg;
	json_t *s, *buckets, *le, *counts;
	const char *key;
	json_t *v;

	if (!c->llm)
		return;
	s = llm_client_stats(c->llm);
	{
		const char *ok[] = { "ok" }, *failed[] = { "failed" }, *in[] = { "input" }, *out[] = { "output" };

		monitor_set(c->llm_calls, ok, (double)fl_json_int(s, "calls_ok", 0));
		monitor_set(c->llm_calls, failed, (double)fl_json_int(s, "calls_failed", 0));
		monitor_set(c->llm_tokens, in, (double)fl_json_int(s, "input_tokens", 0));
		monitor_set(c->llm_tokens, out, (double)fl_json_int(s, "output_tokens", 0));
	}
	monitor_set(c->llm_retries, NULL, (double)fl_json_int(s, "retries", 0));
	monitor_set(c->llm_cost, NULL, fl_json_num(s, "cost_usd", 0));
	json_object_foreach(json_object_get(s, "errors"), key, v) {
		const char *vals[] = { key };

		monitor_set(c->llm_errors, vals, json_number_value(v));
	}
	buckets = json_object_get(s, "latency_buckets");
	le = json_object_get(buckets, "le_seconds");
	counts = json_object_get(buckets, "counts");
	if (!c->llm_latency && json_array_size(le) > 1) {
		size_t n = json_array_size(le) - 1, i;
		double *bounds = fl_calloc(n, sizeof(double));

		for (i = 0; i < n; i++)
			bounds[i] = json_number_value(json_array_get(le, i));
		c->llm_latency = monitor_family_new(r, MONITOR_HISTOGRAM, "frontline_llm_request_duration_seconds",
						    "LLM call latency", 0, NULL, bounds, n);
		free(bounds);
	}
	if (c->llm_latency && json_array_size(counts) == json_array_size(le)) {
		size_t n = json_array_size(counts), i;
		int64_t *cum = fl_calloc(n, sizeof(int64_t));

		for (i = 0; i < n; i++)
			cum[i] = json_integer_value(json_array_get(counts, i));
		monitor_histogram_set(c->llm_latency, NULL, cum, n, fl_json_num(s, "latency_ms_sum", 0) / 1000);
		free(cum);
	}
	json_decref(s);
}

double service__llm_error_rate(void *arg)
{
	struct service_collectors *c = arg;
	json_t *s;
	int64_t calls, failed;
	double rate = -1;

	if (!c->llm)
		return -1;
	s = llm_client_stats(c->llm);
	calls = fl_json_int(s, "calls", 0);
	failed = fl_json_int(s, "calls_failed", 0);
	json_decref(s);
	pthread_mutex_lock(&c->lock);
	if (calls > c->last_calls)
		rate = (double)(failed - c->last_failed) / (double)(calls - c->last_calls);
	c->last_calls = calls;
	c->last_failed = failed;
	pthread_mutex_unlock(&c->lock);
	return rate;
}

int service__collectors_new(struct monitor_registry *r, const char *store_url, struct llm_client *llm,
			    struct service_collectors **out, char **err)
{
	static const char *const t_labels[] = { "dimension", "value" };
	static const char *const s_labels[] = { "status" };
	static const char *const r_labels[] = { "result" };
	static const char *const d_labels[] = { "direction" };
	static const char *const e_labels[] = { "code" };
	static const char *const sla_labels[] = { "policy", "target", "result" };
	struct service_collectors *c;
	struct store *st = NULL;

	*out = NULL;
	if (store_open(store_url, &st, err) != STORE_OK)
		return SERVICE_ESTORE;
	c = fl_calloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->st = st;
	c->llm = llm;
	c->tickets = monitor_family_new(r, MONITOR_GAUGE, "frontline_tickets",
					"tickets in the store by status, category and priority "
					"(dimension names which)", 2, t_labels, NULL, 0);
	c->jobs = monitor_family_new(r, MONITOR_GAUGE, "frontline_jobs",
				     "jobs by status (queued is the queue depth; dead the dead-letter list)",
				     1, s_labels, NULL, 0);
	c->outbox = monitor_family_new(r, MONITOR_GAUGE, "frontline_outbox",
				       "notifications by status (pending and sending are the backlog)",
				       1, s_labels, NULL, 0);
	c->csat_responses = monitor_family_new(r, MONITOR_GAUGE, "frontline_csat_responses",
					       "satisfaction survey answers given in the last 30 days", 0, NULL, NULL, 0);
	c->csat_average = monitor_family_new(r, MONITOR_GAUGE, "frontline_csat_average",
					     "mean survey score (1-5) of the last 30 days (NaN: no answers)", 0, NULL, NULL, 0);
	c->sla_ratio = monitor_family_new(r, MONITOR_GAUGE, "frontline_sla_attainment_ratio",
					  "share of the decided SLA clocks met on time, per policy and target "
					  "(first_response, resolution), tickets created in the last 30 days", 2, sla_labels,
					  NULL, 0);
	c->sla_clocks = monitor_family_new(r, MONITOR_GAUGE, "frontline_sla_clocks",
					   "SLA clocks met or breached (result), per policy and target, tickets created "
					   "in the last 30 days", 3, sla_labels, NULL, 0);
	monitor_registry_add_collector(r, collect_store, c);
	if (llm) {
		c->llm_calls = monitor_family_new(r, MONITOR_COUNTER, "frontline_llm_calls_total",
						  "LLM task calls by result", 1, r_labels, NULL, 0);
		c->llm_tokens = monitor_family_new(r, MONITOR_COUNTER, "frontline_llm_tokens_total",
						   "LLM tokens by direction", 1, d_labels, NULL, 0);
		c->llm_errors = monitor_family_new(r, MONITOR_COUNTER, "frontline_llm_errors_total",
						   "failed LLM calls by error", 1, e_labels, NULL, 0);
		c->llm_retries = monitor_family_new(r, MONITOR_COUNTER, "frontline_llm_retries_total",
						    "LLM requests retried", 0, NULL, NULL, 0);
		c->llm_cost = monitor_family_new(r, MONITOR_COUNTER, "frontline_llm_cost_usd_total",
						 "estimated LLM cost in US dollars", 0, NULL, NULL, 0);
		monitor_registry_add_collector(r, collect_llm, c);
	}
	*out = c;
	return SERVICE_OK;
}

void service__collectors_free(struct service_collectors *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	store_close(c->st);
	free(c);
}
