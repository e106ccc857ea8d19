/*
 * The workers: threads that claim "triage" jobs from the store's queue and
 * run the workflow of the ticket's channel on it (FRONTLINE_WORKFLOW_<CHANNEL>,
 * customer_support when unset: support_routing_new, checked when the
 * workers are made) (support_process_job finishes it, exactly once in
 * effect).
 *
 * - Each worker has its own store connection and its own lease owner name;
 *   a keeper thread (with a connection of its own) extends the leases of the
 *   jobs in flight, so a slow LLM does not lose its job, and a crashed
 *   process's jobs come back when their lease expires.
 * - A failed job is retried after an exponential backoff with jitter (5 s,
 *   10 s, 20 s, ... capped at an hour) and lands in the dead-letter list
 *   after its last attempt (GET /api/v1/jobs?status=dead).
 * - Stopping: no new claims; the jobs in flight get a grace period to
 *   finish; those still running are released to the queue, where another
 *   worker (or the next start) picks them up. Nothing accepted is lost.
 *
 * A triaged ticket's results, its events for integrations (created,
 * escalated) and its job's completion are one transaction, written by
 * support_finish: a worker whose lease passed to another writes nothing
 * (the lease's holder does it all), and a retried job that finds its ticket
 * triaged queues the events (each once) and completes. The workers only
 * count, log, retry failures and wake the dispatcher.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "service_int.h"
#include "flow/flow.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "store/store.h"
#include "support/support.h"

struct worker {
	struct service_workers *w;
	int index;
	pthread_t thread;
	bool started;
	struct store *st;
	char owner[160];
	int64_t job_id;        /* in flight, 0: none (under w->lock) */
	bool busy;             /* inside a job (under w->lock) */
};

struct service_workers {
	struct service__workers_config cfg;
	struct service_workers_options opts;   /* cfg.opts with the defaults filled in */
	char *store_url, *owner;
	struct worker *workers;
	int count;
	struct support_routing *routing;       /* the workflow per channel */
	struct support_crm *crm;               /* the external CRM, shared by the workers; NULL: none */
	struct store *keeper_st;
	pthread_t keeper;
	bool keeper_started;
	pthread_mutex_t lock;
	pthread_cond_t wake, idle, keeper_cond;
	bool stop, abandoned;
	unsigned wakeups;
	uint64_t done, failed;
	struct monitor_family *m_jobs, *m_duration, *m_nodes, *m_busy;
};

static const double job_bounds[] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };

int service__workers_new(const struct service__workers_config *cfg, struct service_workers **out,
			 char **err)
{
	const struct service_workers_options *opts = &cfg->opts;
	static const char *const result_labels[] = { "result" };
	static const char *const node_labels[] = { "node" };
	struct service_workers *w = fl_calloc(1, sizeof(*w));
	char host[128] = "localhost";
	int i, rc = SERVICE_EWORKER;
	long ncores = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	*err = NULL;
	w->cfg = *cfg;
	w->opts = *opts;
	w->store_url = fl_strdup(cfg->store_url);
	if (support_crm_open(&w->crm) != SUPPORT_OK)
		fl_log(FL_LOG_WARN, "CRM_API_URL is not an http(s) URL: the external CRM is not asked");
	gethostname(host, sizeof(host) - 1);
	w->owner = opts->owner ? fl_strdup(opts->owner) : fl_asprintf("%s:%d", host, (int)getpid());
	w->count = opts->count > 0 ? opts->count
		   : (int)fl_config_int("FRONTLINE_WORKERS", ncores > 0 ? ncores : 1);
	if (w->count < 1)
		w->count = 1;
	if (w->count > 256)
		w->count = 256;
	w->opts.lease_s = opts->lease_s > 0 ? opts->lease_s : (int)fl_config_int("FRONTLINE_JOB_LEASE", 300);
	w->opts.backoff_base_ms = opts->backoff_base_ms > 0 ? opts->backoff_base_ms : 5000;
	w->opts.poll_ms = opts->poll_ms > 0 ? opts->poll_ms : 1000;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, NULL);
	pthread_cond_init(&w->keeper_cond, NULL);
	if (!cfg->analyzer) {
		*err = fl_strdup("workers need the analyzer's models");
		goto fail;
	}
	if (support_routing_new(&w->routing, err) != SUPPORT_OK)
		goto fail;
	w->workers = fl_calloc((size_t)w->count, sizeof(*w->workers));
	for (i = 0; i < w->count; i++) {
		struct worker *k = &w->workers[i];

		k->w = w;
		k->index = i;
		snprintf(k->owner, sizeof(k->owner), "%s:w%d", w->owner, i);
		if (store_open(w->store_url, &k->st, err) != STORE_OK) {
			rc = SERVICE_ESTORE;
			goto fail;
		}
	}
	if (store_open(w->store_url, &w->keeper_st, err) != STORE_OK) {
		rc = SERVICE_ESTORE;
		goto fail;
	}
	if (cfg->registry) {
		w->m_jobs = monitor_family_new(cfg->registry, MONITOR_COUNTER, "frontline_jobs_processed_total",
					       "jobs processed by the workers, by result (done, retry, dead, lease_lost)",
					       1, result_labels, NULL, 0);
		w->m_duration = monitor_family_new(cfg->registry, MONITOR_HISTOGRAM,
						   "frontline_job_duration_seconds",
						   "time to process one triage job", 0, NULL, job_bounds,
						   FL_ARRAY_SIZE(job_bounds));
		w->m_nodes = monitor_family_new(cfg->registry, MONITOR_HISTOGRAM,
						"frontline_workflow_node_duration_seconds",
						"time spent in each workflow node (from the run's trace)",
						1, node_labels, job_bounds, FL_ARRAY_SIZE(job_bounds));
		w->m_busy = monitor_family_new(cfg->registry, MONITOR_GAUGE, "frontline_workers_busy",
					       "workers processing a job now", 0, NULL, NULL, 0);
	}
	*out = w;
	return SERVICE_OK;
fail:
	service__workers_free(w, 0);
	return rc;
}

static void count(struct service_workers *w, const char *result)
{
	const char *v[] = { result };

	monitor_add(w->m_jobs, v, 1);
}

static void observe_trace(struct service_workers *w, const json_t *trace)
{
	const json_t *step;
	size_t i;

	json_array_foreach(trace, i, step) {
		const char *v[] = { fl_json_str(step, "node", "unknown") };

		monitor_observe(w->m_nodes, v, (double)fl_json_int(step, "duration_us", 0) / 1e6);
	}
}

/* The exponential backoff before retry number attempts, with up to 20 % jitter. */
static int64_t backoff_us(struct service_workers *w, int attempts)
{
	double s = w->opts.backoff_base_ms / 1000.0 * pow(2, attempts > 1 ? attempts - 1 : 0);

	if (s > 3600)
		s = 3600;
	return (int64_t)(s * (1 + 0.2 * fl_random_unit()) * 1e6);
}

/* A survey job (support_survey_send): done, or retried after the backoff. */
static void survey(struct worker *k, struct store_job *job)
{
	struct service_workers *w = k->w;
	bool sent = false;
	int rc = support_survey_send(k->st, job->ticket_id ? job->ticket_id : "", &sent);

	if (rc == STORE_OK || rc == STORE_ENOTFOUND) {
		if (store_job_complete(k->st, job->id, k->owner) != STORE_OK)
			fl_log(FL_LOG_WARN, "job %lld: cannot mark the survey done: %s", (long long)job->id,
			       store_errmsg(k->st));
		count(w, "done");
		if (sent)
			notify_dispatcher_wake(w->cfg.dispatcher);
		return;
	}
	fl_log(FL_LOG_WARN, "job %lld: cannot send the survey of %s: %s; will retry", (long long)job->id,
	       job->ticket_id ? job->ticket_id : "", store_errmsg(k->st));
	if (store_job_fail(k->st, job->id, k->owner, store_errmsg(k->st), backoff_us(w, job->attempts)) != STORE_OK)
		fl_log(FL_LOG_ERROR, "job %lld: cannot record the failure: %s", (long long)job->id, store_errmsg(k->st));
	count(w, job->attempts >= job->max_attempts ? "dead" : "retry");
}

static void process(struct worker *k, struct store_job *job)
{
	struct service_workers *w = k->w;
	struct support_ctx ctx = { 0 };
	struct support_outcome o = { 0 };
	struct support_job sj = { job->id, job->ticket_id, k->owner };
	int64_t start = fl_mono_us();
	bool finished;
	int rc;

	ctx.analyzer = w->cfg.analyzer;
	ctx.kb = w->cfg.kb;
	ctx.llm = w->cfg.llm;
	ctx.store = k->st;
	ctx.crm = w->crm;
	ctx.routing = w->routing;
	rc = support_process_job(&ctx, support_routing_graph(w->routing, NULL), &sj, &o);
	/* ESTALE: the text changed during the run; the job is done and a fresh one queued */
	finished = rc == SUPPORT_OK || rc == SUPPORT_EDONE || rc == SUPPORT_ESTALE;
	if (rc == SUPPORT_ESTALE)
		fl_log(FL_LOG_INFO, "job %lld: %s changed during its triage; triaged again on the new text",
		       (long long)job->id, job->ticket_id ? job->ticket_id : "the ticket");
	if (finished || o.already_done) {
		/* already_done yet not finished: triaged by an earlier attempt, its completion failed */
		if (rc == SUPPORT_ELEASE) {
			fl_log(FL_LOG_WARN, "job %lld finished after its lease passed to another worker",
			       (long long)job->id);
		} else if (!finished) {
			/* triaged and stored; the retry finds it done and queues the events */
			fl_log(FL_LOG_ERROR, "job %lld: cannot queue its ticket's events and mark it done: "
			       "%s; will retry", (long long)job->id, o.error ? o.error : support_strerror(rc));
			if (store_job_fail(k->st, job->id, k->owner, store_errmsg(k->st),
					   backoff_us(w, job->attempts)) != STORE_OK)
				fl_log(FL_LOG_ERROR, "job %lld: cannot record the failure: %s",
				       (long long)job->id, store_errmsg(k->st));
		}
		finished = finished || rc == SUPPORT_ELEASE;
		observe_trace(w, o.trace);
		monitor_observe(w->m_duration, NULL, (double)(fl_mono_us() - start) / 1e6);
		count(w, finished ? "done" : "retry");
		pthread_mutex_lock(&w->lock);
		if (finished)
			w->done++;
		else
			w->failed++;
		pthread_mutex_unlock(&w->lock);
		notify_dispatcher_wake(w->cfg.dispatcher);
		if (w->cfg.on_done)
			w->cfg.on_done(w->cfg.on_done_arg);
	} else if (rc == SUPPORT_ELEASE) {
		/* nothing of this run was stored: the lease's new holder runs the job */
		fl_log(FL_LOG_WARN, "job %lld: its lease passed to another worker before the results "
		       "were stored; that worker stores them", (long long)job->id);
		count(w, "lease_lost");
	} else {
		bool dead = job->attempts >= job->max_attempts;
		json_t *f = json_pack("{s:I, s:s, s:i, s:s}", "job_id", (json_int_t)job->id,
				      "ticket_id", job->ticket_id ? job->ticket_id : "", "attempts",
				      job->attempts, "error", o.error ? o.error : support_strerror(rc));

		fl_logj(dead ? FL_LOG_ERROR : FL_LOG_WARN, f, "job %lld failed%s", (long long)job->id,
			dead ? " for the last time: moved to the dead-letter list" : "; will retry");
		json_decref(f);
		if (store_job_fail(k->st, job->id, k->owner, o.error ? o.error : support_strerror(rc),
				   backoff_us(w, job->attempts)) != STORE_OK)
			fl_log(FL_LOG_ERROR, "job %lld: cannot record the failure: %s", (long long)job->id,
			       store_errmsg(k->st));
		count(w, dead ? "dead" : "retry");
		pthread_mutex_lock(&w->lock);
		w->failed++;
		pthread_mutex_unlock(&w->lock);
	}
	support_outcome_release(&o);
}

static void *worker_main(void *arg)
{
	struct worker *k = arg;
	struct service_workers *w = k->w;
	char rid[40];

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct store_job *job = NULL;
		int rc;

		pthread_mutex_unlock(&w->lock);
		rc = store_job_claim(k->st, FL_JOB_TRIAGE, k->owner, w->opts.lease_s, &job);
		/* triage first; then the satisfaction surveys that have come due (issue 17) */
		if (rc == STORE_ENOTFOUND)
			rc = store_job_claim(k->st, SUPPORT_JOB_SURVEY, k->owner, w->opts.lease_s, &job);
		pthread_mutex_lock(&w->lock);
		if (rc == STORE_OK && w->stop) {
			/* claimed while stopping: hand it straight back */
			pthread_mutex_unlock(&w->lock);
			store_job_release(k->st, job->id, k->owner);
			store_job_free(job);
			pthread_mutex_lock(&w->lock);
			break;
		}
		if (rc != STORE_OK) {
			if (rc != STORE_ENOTFOUND)
				fl_log(FL_LOG_ERROR, "worker %d: cannot claim a job: %s", k->index,
				       store_errmsg(k->st));
			if (!w->wakeups && !w->stop)
				fl_cond_wait_ms(&w->wake, &w->lock, w->opts.poll_ms);
			if (w->wakeups)
				w->wakeups--;
			continue;
		}
		k->job_id = job->id;
		k->busy = true;
		monitor_add(w->m_busy, NULL, 1);
		pthread_mutex_unlock(&w->lock);
		snprintf(rid, sizeof(rid), "job-%lld", (long long)job->id);
		fl_log_set_request_id(rid);
		if (!strcmp(job->kind, SUPPORT_JOB_SURVEY))
			survey(k, job);
		else
			process(k, job);
		fl_log_set_request_id(NULL);
		store_job_free(job);
		pthread_mutex_lock(&w->lock);
		monitor_add(w->m_busy, NULL, -1);
		k->job_id = 0;
		k->busy = false;
		pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Extends the leases of the jobs in flight every third of the lease. */
static void *keeper_main(void *arg)
{
	struct service_workers *w = arg;
	int64_t period_ms = (int64_t)w->opts.lease_s * 1000 / 3;
	int i;

	if (period_ms < 100)
		period_ms = 100;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		fl_cond_wait_ms(&w->keeper_cond, &w->lock, period_ms);
		for (i = 0; i < w->count && !w->stop; i++) {
			int64_t id = w->workers[i].job_id;

			if (!id)
				continue;
			pthread_mutex_unlock(&w->lock);
			if (store_job_heartbeat(w->keeper_st, id, w->workers[i].owner, w->opts.lease_s) != STORE_OK)
				fl_log(FL_LOG_WARN, "job %lld: cannot extend its lease: %s", (long long)id,
				       store_errmsg(w->keeper_st));
			pthread_mutex_lock(&w->lock);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int service__workers_start(struct service_workers *w, char **err)
{
	int i;

	*err = NULL;
	for (i = 0; i < w->count; i++) {
		if (pthread_create(&w->workers[i].thread, NULL, worker_main, &w->workers[i])) {
			*err = fl_asprintf("cannot start worker thread %d", i);
			return SERVICE_EWORKER;
		}
		w->workers[i].started = true;
	}
	if (pthread_create(&w->keeper, NULL, keeper_main, w)) {
		*err = fl_strdup("cannot start the lease keeper thread");
		return SERVICE_EWORKER;
	}
	w->keeper_started = true;
	fl_log(FL_LOG_INFO, "%d workers started (lease %d s)", w->count, w->opts.lease_s);
	return SERVICE_OK;
}

void service__workers_wake(struct service_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->wakeups < (unsigned)w->count)
		w->wakeups++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

static int busy_count(struct service_workers *w)
{
	int i, n = 0;

	for (i = 0; i < w->count; i++)
		n += w->workers[i].busy;
	return n;
}

int service__workers_stop(struct service_workers *w, int64_t grace_ms)
{
	int64_t deadline = fl_mono_us() + grace_ms * 1000;
	int i, released = 0;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (w->stop && !w->keeper_started) {
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	w->stop = true;
	pthread_cond_broadcast(&w->wake);
	pthread_cond_broadcast(&w->keeper_cond);
	while (busy_count(w) && fl_mono_us() < deadline)
		fl_cond_wait_ms(&w->idle, &w->lock, 100);
	/* past the grace period: give the unfinished jobs back to the queue */
	for (i = 0; i < w->count; i++) {
		struct worker *k = &w->workers[i];

		if (!k->busy || !k->job_id)
			continue;
		if (store_job_release(w->keeper_st, k->job_id, k->owner) == STORE_OK) {
			fl_log(FL_LOG_WARN, "job %lld released to the queue at shutdown", (long long)k->job_id);
			released++;
		}
		w->abandoned = true;
	}
	pthread_mutex_unlock(&w->lock);
	if (w->keeper_started) {
		pthread_join(w->keeper, NULL);
		w->keeper_started = false;
	}
	for (i = 0; i < w->count; i++) {
		struct worker *k = &w->workers[i];

		if (!k->started)
			continue;
		if (k->busy) {
			/* still inside the workflow: it dies with the process */
			pthread_detach(k->thread);
		} else {
			pthread_join(k->thread, NULL);
		}
		k->started = false;
	}
	return released;
}

void service__workers_stats(struct service_workers *w, uint64_t *done, uint64_t *failed)
{
	pthread_mutex_lock(&w->lock);
	if (done)
		*done = w->done;
	if (failed)
		*failed = w->failed;
	pthread_mutex_unlock(&w->lock);
}

bool service__workers_wait(struct service_workers *w, uint64_t n, int64_t timeout_ms)
{
	int64_t deadline = fl_mono_us() + timeout_ms * 1000;
	bool ok;

	pthread_mutex_lock(&w->lock);
	while (w->done + w->failed < n && fl_mono_us() < deadline)
		fl_cond_wait_ms(&w->idle, &w->lock, 50);
	ok = w->done + w->failed >= n;
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void service__workers_free(struct service_workers *w, int64_t grace_ms)
{
	int i;

	if (!w)
		return;
	/* a no-op after service__workers_stop */
	service__workers_stop(w, grace_ms);
	if (w->abandoned) {
		/* threads still run on these connections; the process is exiting */
		fl_log(FL_LOG_WARN, "workers: leaving unfinished threads to the process exit");
		return;
	}
	for (i = 0; w->workers && i < w->count; i++)
		store_close(w->workers[i].st);
	store_close(w->keeper_st);
	support_routing_free(w->routing);
	support_crm_free(w->crm);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->keeper_cond);
	free(w->workers);
	free(w->owner);
	free(w->store_url);
	free(w);
}
