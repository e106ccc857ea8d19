/*
 * The workers: threads that claim "triage" jobs from the store's queue and
 * run the customer_support workflow on the job's ticket
 * (support_process_stored persists the results, exactly once in effect).
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
 * Ticket events for integrations (created, escalated) are enqueued here,
 * after processing and before the job completes, with keys that make a
 * retried job enqueue them once.
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"
#include "flow/flow.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "store/store.h"
#include "support/support.h"

struct worker {
	struct server_workers *w;
	int index;
	pthread_t thread;
	bool started;
	struct store *st;
	char owner[160];
	int64_t job_id;        /* in flight, 0: none (under w->lock) */
	bool busy;             /* inside a job (under w->lock) */
};

struct server_workers {
	struct server_workers_options opts;
	char *store_url, *owner;
	struct worker *workers;
	int count;
	struct flow_node *workflow;
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

static void timed_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(c, m, &ts);
}

int server_workers_new(const struct server_workers_options *opts, struct server_workers **out,
		       char **err)
{
	static const char *const result_labels[] = { "result" };
	static const char *const node_labels[] = { "node" };
	struct server_workers *w = fl_calloc(1, sizeof(*w));
	const struct support_workflow *wf = support_workflow_find("customer_support");
	char host[128] = "localhost";
	int i, rc = SERVER_EWORKER;
	long ncores = sysconf(_SC_NPROCESSORS_ONLN);

	*out = NULL;
	*err = NULL;
	w->opts = *opts;
	w->store_url = fl_strdup(opts->store_url ? opts->store_url : fl_config_get("FRONTLINE_DATABASE_URL"));
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
	if (!opts->analyzer) {
		*err = fl_strdup("workers need the analyzer's models");
		goto fail;
	}
	if (!wf || !(w->workflow = wf->build()) || flow_graph_validate(w->workflow) != FLOW_OK) {
		*err = fl_asprintf("cannot build the customer_support workflow%s%s",
				   w->workflow ? ": " : "", w->workflow ? flow_graph_errmsg(w->workflow) : "");
		goto fail;
	}
	w->workers = fl_calloc((size_t)w->count, sizeof(*w->workers));
	for (i = 0; i < w->count; i++) {
		struct worker *k = &w->workers[i];

		k->w = w;
		k->index = i;
		snprintf(k->owner, sizeof(k->owner), "%s:w%d", w->owner, i);
		if (store_open(w->store_url, &k->st, err) != STORE_OK) {
			rc = SERVER_ESTORE;
			goto fail;
		}
	}
	if (store_open(w->store_url, &w->keeper_st, err) != STORE_OK) {
		rc = SERVER_ESTORE;
		goto fail;
	}
	if (opts->registry) {
		w->m_jobs = monitor_family_new(opts->registry, MONITOR_COUNTER, "frontline_jobs_processed_total",
					       "jobs processed by the workers, by result (done, retry, dead, lease_lost)",
					       1, result_labels, NULL, 0);
		w->m_duration = monitor_family_new(opts->registry, MONITOR_HISTOGRAM,
						   "frontline_job_duration_seconds",
						   "time to process one triage job", 0, NULL, job_bounds,
						   FL_ARRAY_SIZE(job_bounds));
		w->m_nodes = monitor_family_new(opts->registry, MONITOR_HISTOGRAM,
						"frontline_workflow_node_duration_seconds",
						"time spent in each workflow node (from the run's trace)",
						1, node_labels, job_bounds, FL_ARRAY_SIZE(job_bounds));
		w->m_busy = monitor_family_new(opts->registry, MONITOR_GAUGE, "frontline_workers_busy",
					       "workers processing a job now", 0, NULL, NULL, 0);
	}
	*out = w;
	return SERVER_OK;
fail:
	server_workers_free(w);
	return rc;
}

static void count(struct server_workers *w, const char *result)
{
	const char *v[] = { result };

	monitor_add(w->m_jobs, v, 1);
}

static void observe_trace(struct server_workers *w, const json_t *trace)
{
	const json_t *step;
	size_t i;

	json_array_foreach(trace, i, step) {
		const char *v[] = { fl_json_str(step, "node", "unknown") };

		monitor_observe(w->m_nodes, v, (double)fl_json_int(step, "duration_us", 0) / 1e6);
	}
}

/* The exponential backoff before retry number attempts, with up to 20 % jitter. */
static int64_t backoff_us(struct server_workers *w, int attempts)
{
	double s = w->opts.backoff_base_ms / 1000.0 * pow(2, attempts > 1 ? attempts - 1 : 0);

	if (s > 3600)
		s = 3600;
	return (int64_t)(s * (1 + 0.2 * fl_random_unit()) * 1e6);
}

/*
 * A triaged ticket's events (created, escalated) and its job's completion
 * are written in the transaction that stores the triage (support's
 * before_commit): one commit per ticket, and a worker whose lease passed to
 * another writes nothing (the lease's holder does it all).
 */
struct finish {
	struct worker *k;
	const struct store_job *job;
	int rc;                    /* what the writes below returned */
};

static int finish_in_tx(void *arg, struct store *st, const json_t *ticket)
{
	struct finish *f = arg;
	int rc = notify_ticket_event(st, FL_EVENT_TICKET_CREATED, ticket, NULL);

	if (rc == STORE_OK && !strcmp(fl_json_str(ticket, "status", ""), "escalated"))
		rc = notify_ticket_event(st, FL_EVENT_TICKET_ESCALATED, ticket, NULL);
	if (rc == STORE_OK)
		rc = store_job_complete(st, f->job->id, f->k->owner);
	f->rc = rc;
	return rc;
}

/* The same in a transaction of its own, for a ticket triaged by an earlier attempt. */
static int finish_job(struct finish *f, const json_t *ticket)
{
	int rc = store_begin_immediate(f->k->st);

	if (rc == STORE_OK)
		rc = finish_in_tx(f, f->k->st, ticket);
	if (rc == STORE_OK)
		return store_commit(f->k->st);
	store_rollback(f->k->st);
	return rc;
}

static void process(struct worker *k, struct store_job *job)
{
	struct server_workers *w = k->w;
	struct support_ctx ctx = { 0 };
	struct support_outcome o = { 0 };
	struct finish fin = { k, job, STORE_OK };
	int64_t start = fl_mono_us();
	int rc;

	ctx.analyzer = w->opts.analyzer;
	ctx.kb = w->opts.kb;
	ctx.llm = w->opts.llm;
	ctx.store = k->st;
	ctx.before_commit = finish_in_tx;
	ctx.before_commit_arg = &fin;
	rc = support_process_stored(&ctx, w->workflow, job->ticket_id, &o);
	if (rc == SUPPORT_OK || rc == SUPPORT_EDONE) {
		int frc = rc == SUPPORT_EDONE ? finish_job(&fin, o.ticket) : STORE_OK;

		if (frc == STORE_ELEASE) {
			fl_log(FL_LOG_WARN, "job %lld finished after its lease passed to another worker",
			       (long long)job->id);
		} else if (frc != STORE_OK) {
			/* triaged and stored; the retry finds it done and queues the events */
			fl_log(FL_LOG_ERROR, "job %lld: cannot queue its ticket's events and mark it done: "
			       "%s; will retry", (long long)job->id, store_errmsg(k->st));
			if (store_job_fail(k->st, job->id, k->owner, store_errmsg(k->st),
					   backoff_us(w, job->attempts)) != STORE_OK)
				fl_log(FL_LOG_ERROR, "job %lld: cannot record the failure: %s",
				       (long long)job->id, store_errmsg(k->st));
		}
		observe_trace(w, o.trace);
		monitor_observe(w->m_duration, NULL, (double)(fl_mono_us() - start) / 1e6);
		count(w, frc == STORE_OK || frc == STORE_ELEASE ? "done" : "retry");
		pthread_mutex_lock(&w->lock);
		if (frc == STORE_OK || frc == STORE_ELEASE)
			w->done++;
		else
			w->failed++;
		pthread_mutex_unlock(&w->lock);
		if (w->opts.on_outbox)
			w->opts.on_outbox(w->opts.on_outbox_arg);
	} else if (fin.rc == STORE_ELEASE) {
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
	struct server_workers *w = k->w;
	char rid[40];

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct store_job *job = NULL;
		int rc;

		pthread_mutex_unlock(&w->lock);
		rc = store_job_claim(k->st, FL_JOB_TRIAGE, k->owner, w->opts.lease_s, &job);
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
				timed_wait(&w->wake, &w->lock, w->opts.poll_ms);
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
	struct server_workers *w = arg;
	int64_t period_ms = (int64_t)w->opts.lease_s * 1000 / 3;
	int i;

	if (period_ms < 100)
		period_ms = 100;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		timed_wait(&w->keeper_cond, &w->lock, period_ms);
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

int server_workers_start(struct server_workers *w, char **err)
{
	int i;

	*err = NULL;
	for (i = 0; i < w->count; i++) {
		if (pthread_create(&w->workers[i].thread, NULL, worker_main, &w->workers[i])) {
			*err = fl_asprintf("cannot start worker thread %d", i);
			return SERVER_EWORKER;
		}
		w->workers[i].started = true;
	}
	if (pthread_create(&w->keeper, NULL, keeper_main, w)) {
		*err = fl_strdup("cannot start the lease keeper thread");
		return SERVER_EWORKER;
	}
	w->keeper_started = true;
	fl_log(FL_LOG_INFO, "%d workers started (lease %d s)", w->count, w->opts.lease_s);
	return SERVER_OK;
}

void server_workers_wake(struct server_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	if (w->wakeups < (unsigned)w->count)
		w->wakeups++;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

static int busy_count(struct server_workers *w)
{
	int i, n = 0;

	for (i = 0; i < w->count; i++)
		n += w->workers[i].busy;
	return n;
}

int server_workers_stop(struct server_workers *w, int64_t grace_ms)
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
		timed_wait(&w->idle, &w->lock, 100);
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

void server_workers_stats(struct server_workers *w, uint64_t *done, uint64_t *failed)
{
	pthread_mutex_lock(&w->lock);
	if (done)
		*done = w->done;
	if (failed)
		*failed = w->failed;
	pthread_mutex_unlock(&w->lock);
}

bool server_workers_wait(struct server_workers *w, uint64_t n, int64_t timeout_ms)
{
	int64_t deadline = fl_mono_us() + timeout_ms * 1000;
	bool ok;

	pthread_mutex_lock(&w->lock);
	while (w->done + w->failed < n && fl_mono_us() < deadline)
		timed_wait(&w->idle, &w->lock, 50);
	ok = w->done + w->failed >= n;
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void server_workers_free(struct server_workers *w)
{
	int i;

	if (!w)
		return;
	/* a no-op after server_workers_stop; otherwise the usual grace */
	server_workers_stop(w, fl_config_int("FRONTLINE_SHUTDOWN_GRACE", 30) * 1000);
	if (w->abandoned) {
		/* threads still run on these connections; the process is exiting */
		fl_log(FL_LOG_WARN, "workers: leaving unfinished threads to the process exit");
		return;
	}
	for (i = 0; w->workers && i < w->count; i++)
		store_close(w->workers[i].st);
	store_close(w->keeper_st);
	flow_node_free(w->workflow);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	pthread_cond_destroy(&w->keeper_cond);
	free(w->workers);
	free(w->owner);
	free(w->store_url);
	free(w);
}
