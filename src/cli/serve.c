/*
 * frontline serve | worker: the service.
 *
 *   serve     the HTTP API, the workers that triage tickets, the outbox
 *             dispatcher and the periodic monitor, in one process;
 *             --no-workers leaves the background work to `frontline worker`
 *             processes (the monitor still runs, one replica at a time);
 *             --demo loads the seed's customers, KB and demo tickets and
 *             prints a fresh admin token (what `make run` does).
 *   worker    the workers and the dispatcher, without HTTP.
 *
 * Signals: SIGTERM and SIGINT start a graceful stop: stop accepting
 * connections (503 on those still open, /readyz 503), let requests in
 * flight finish, give the jobs in flight FRONTLINE_SHUTDOWN_GRACE seconds and
 * release the rest to the queue, then exit 0. Everything accepted is in the
 * store already, so nothing is lost across a restart.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kb/kb.h"
#include "llm/llm.h"
#include "channels/email/email.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "server/server.h"
#include "store/store.h"
#include "support/support.h"
#include "util/util.h"

static const char *const serve_usage[] = {
	"frontline serve [--listen HOST:PORT] [--workers N] [--no-workers] [--demo]",
	NULL,
};

static const char *const worker_usage[] = {
	"frontline worker [--workers N]",
	NULL,
};

/* ---- metrics read from elsewhere at each scrape ---- */

struct collectors {
	struct store *st;            /* its own connection (scrapes are serialized) */
	struct llm_client *llm;
	struct monitor_family *tickets, *jobs, *outbox, *llm_calls, *llm_tokens, *llm_errors,
		*llm_retries, *llm_cost, *llm_latency;
	/* the monitor's LLM error rate: counts at its previous round */
	pthread_mutex_t lock;
	int64_t last_calls, last_failed;
};

static void set_counts(struct monitor_family *f, const char *label, const json_t *counts)
{
	const char *key;
	json_t *v;

	(void)label;
	json_object_foreach((json_t *)counts, key, v) {
		const char *vals[] = { key };

		if (json_is_number(v))
			monitor_set(f, vals, json_number_value(v));
	}
}

static void collect_store(void *arg, struct monitor_registry *r)
{
	struct collectors *c = arg;
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
		set_counts(c->jobs, "status", jobs);
	if (store_outbox_counts(c->st, &outbox) == STORE_OK)
		set_counts(c->outbox, "status", outbox);
	json_decref(m);
	json_decref(jobs);
	json_decref(outbox);
}

static void collect_llm(void *arg, struct monitor_registry *r)
{
	struct collectors *c = arg;
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

/* For the monitor's llm_errors rule: failed share of the calls since its last round. */
static double llm_error_rate(void *arg)
{
	struct collectors *c = arg;
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

static void collectors_init(struct collectors *c, struct monitor_registry *r, struct store *st,
			    struct llm_client *llm)
{
	static const char *const t_labels[] = { "dimension", "value" };
	static const char *const s_labels[] = { "status" };
	static const char *const r_labels[] = { "result" };
	static const char *const d_labels[] = { "direction" };
	static const char *const e_labels[] = { "code" };

	memset(c, 0, sizeof(*c));
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
}

/* ---- demo data ---- */

static int load_demo(struct store *st, char *token, size_t token_len)
{
	static const char *const which[] = { "single", "batch", "escalation" };
	json_t *tokens = NULL, *row = NULL, *t;
	char *err = NULL, hash[65], tok[64];
	size_t i, k, n = 0;
	int rc;

	if (support_seed_customers(st, &err) != SUPPORT_OK) {
		rc = cli_error(EX_SOFTWARE, "cannot load the demo customers: %s", err);
		free(err);
		return rc;
	}
	for (i = 0; i < FL_ARRAY_SIZE(which); i++) {
		json_t *demo = support_demo_ticket(which[i]), *list = json_is_array(demo) ? json_incref(demo)
											 : json_pack("[O]", demo);

		json_array_foreach(list, k, t) {
			json_t *ticket = NULL, *errors = NULL, *out = NULL;
			bool created = false;

			if (support_ticket_validate(t, fl_wall_us(), &ticket, &errors) == SUPPORT_OK &&
			    store_ticket_intake(st, ticket, "triage", NULL, &out, &created) == STORE_OK && created)
				n++;
			json_decref(ticket);
			json_decref(errors);
			json_decref(out);
		}
		json_decref(list);
		json_decref(demo);
	}
	/* a fresh admin token each start; the previous demo ones are revoked */
	if (store_token_list(st, &tokens) == STORE_OK) {
		json_array_foreach(tokens, i, t)
			if (!strcmp(fl_json_str(t, "name", ""), "demo-admin") && !fl_json_bool(t, "revoked", false))
				store_token_revoke(st, fl_json_int(t, "id", 0));
	}
	json_decref(tokens);
	server_token_generate(tok, hash);
	rc = store_token_insert(st, "demo-admin", "admin", hash, &row);
	json_decref(row);
	if (rc != STORE_OK)
		return cli_error(cli_store_exit(rc), "cannot create the demo token: %s", store_errmsg(st));
	fl_strlcpy(token, tok, token_len);
	fl_log(FL_LOG_INFO, "demo data loaded: %zu new demo tickets queued for triage", n);
	return EX_OK;
}

/* ---- running ---- */

struct service {
	struct cli_triage t;
	struct llm_client *llm;
	struct monitor_registry *registry;
	struct collectors col;
	struct store *col_st;
	struct server *srv;
	struct server_workers *workers;
	struct notify_dispatcher *dispatcher;
	struct monitor *monitor;
	struct email_imap_poller *imap;   /* when FRONTLINE_IMAP_URL is set */
};

static void wake_workers(void *arg)
{
	server_workers_wake(arg);
}

static void wake_dispatcher(void *arg)
{
	notify_dispatcher_wake(arg);
}

static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int start_background(struct service *s, long workers, bool with_workers)
{
	struct server_workers_options wo = { 0 };
	struct notify_options no = { 0 };
	char *err = NULL;
	int rc;

	if (!with_workers)
		return EX_OK;
	no.store_url = fl_config_get("FRONTLINE_DATABASE_URL");
	no.registry = s->registry;
	if (notify_dispatcher_new(&no, &s->dispatcher, &err) != NOTIFY_OK) {
		rc = cli_error(EX_UNAVAILABLE, "cannot start the notification dispatcher: %s", err);
		free(err);
		return rc;
	}
	wo.store_url = no.store_url;
	wo.count = (int)workers;
	wo.analyzer = s->t.analyzer;
	wo.kb = s->t.kb;
	wo.llm = s->llm;
	wo.registry = s->registry;
	wo.on_outbox = wake_dispatcher;
	wo.on_outbox_arg = s->dispatcher;
	if (server_workers_new(&wo, &s->workers, &err) != SERVER_OK ||
	    server_workers_start(s->workers, &err) != SERVER_OK) {
		rc = cli_error(EX_UNAVAILABLE, "cannot start the workers: %s", err);
		free(err);
		return rc;
	}
	notify_dispatcher_start(s->dispatcher);
	if (email_imap_poller_start(no.store_url, &s->imap, &err) != EMAIL_OK) {
		rc = cli_error(EX_UNAVAILABLE, "cannot start the IMAP poller: %s", err);
		free(err);
		return rc;
	}
	return EX_OK;
}

static int64_t grace_ms(void)
{
	return fl_config_int("FRONTLINE_SHUTDOWN_GRACE", 30) * 1000;
}

static void stop_all(struct service *s)
{
	int64_t start = fl_mono_us(), grace = grace_ms(), left;
	int released;

	if (s->srv) {
		server_drain(s->srv);
		if (!server_wait_idle(s->srv, grace))
			fl_log(FL_LOG_WARN, "requests still in flight after the grace period");
	}
	monitor_stop(s->monitor);
	email_imap_poller_stop(s->imap);
	s->imap = NULL;
	left = grace - (fl_mono_us() - start) / 1000;
	released = server_workers_stop(s->workers, left > 1000 ? left : 1000);
	if (released)
		fl_log(FL_LOG_WARN, "%d jobs released to the queue for the next start", released);
	notify_dispatcher_stop(s->dispatcher);
}

static void free_all(struct service *s)
{
	email_imap_poller_stop(s->imap);
	s->imap = NULL;
	server_free(s->srv);
	monitor_free(s->monitor);
	server_workers_free(s->workers);
	notify_dispatcher_free(s->dispatcher);
	monitor_registry_free(s->registry);
	if (s->col_st)
		pthread_mutex_destroy(&s->col.lock);
	store_close(s->col_st);
	cli_triage_close(&s->t);
}

/* with_workers: this process triages (it needs the analyzer's models) */
static int open_common(struct service *s, bool with_workers)
{
	char *err = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = with_workers ? cli_triage_open(&s->t, "customer_support", true)
			  : cli_triage_open_no_analyzer(&s->t, "customer_support", true);
	if (rc != EX_OK)
		return rc;
	s->llm = s->t.llm;   /* the process's one client, made (and freed) by cli_triage_open/close */
	s->registry = monitor_registry_new();
	monitor_add_process_metrics(s->registry);
	if (store_open(fl_config_get("FRONTLINE_DATABASE_URL"), &s->col_st, &err) != STORE_OK) {
		rc = cli_error(EX_UNAVAILABLE, "%s", err);
		free(err);
		return rc;
	}
	collectors_init(&s->col, s->registry, s->col_st, s->llm);
	return EX_OK;
}

static int wait_for_signal(sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig))
		;
	fl_log(FL_LOG_INFO, "received %s: stopping gracefully (grace %lld s)",
	       sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)(grace_ms() / 1000));
	return sig;
}

int cmd_serve(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *listen = NULL;
	long workers = 0;
	bool no_workers = false, demo = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'l', "listen", &listen, "HOST:PORT", "address to listen on (FRONTLINE_LISTEN)" },
		{ CLI_OPT_INT, 'w', "workers", &workers, "N", "worker threads (FRONTLINE_WORKERS; default: cores)" },
		{ CLI_OPT_BOOL, 0, "no-workers", &no_workers, NULL, "serve HTTP only; run `frontline worker` elsewhere" },
		{ CLI_OPT_BOOL, 0, "demo", &demo, NULL, "load the seed's demo data and print an admin token" },
		CLI_OPTIONS_END,
	};
	struct server_options so = { 0 };
	struct monitor_options mo = { 0 };
	struct service s;
	char token[64] = "", *err = NULL;
	sigset_t set;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, serve_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(serve_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (workers < 0 || workers > 256)
		return cli_usage_error(serve_usage, opts, "--workers must be 0 to 256");
	if (listen)
		fl_config_set("FRONTLINE_LISTEN", listen);
	block_signals(&set);
	rc = open_common(&s, !no_workers);
	if (rc != EX_OK)
		goto out;
	if (demo && (rc = load_demo(s.t.store, token, sizeof(token))) != EX_OK)
		goto out;
	rc = start_background(&s, workers, !no_workers);
	if (rc != EX_OK)
		goto out;
	mo.registry = s.registry;
	mo.llm_error_rate = llm_error_rate;
	mo.llm_arg = &s.col;
	if (monitor_new(&mo, &s.monitor, &err) != MONITOR_OK) {
		rc = cli_error(EX_UNAVAILABLE, "cannot start the monitor: %s", err);
		goto out;
	}
	so.registry = s.registry;
	so.kb = s.t.kb;
	so.on_job = s.workers ? wake_workers : NULL;
	so.on_job_arg = s.workers;
	so.on_outbox = s.dispatcher ? wake_dispatcher : NULL;
	so.on_outbox_arg = s.dispatcher;
	if (server_new(&so, &s.srv, &err) != SERVER_OK) {
		rc = cli_error(EX_UNAVAILABLE, "%s", err);
		goto out;
	}
	if (server_start(s.srv, &err) != SERVER_OK) {
		rc = cli_error(EX_UNAVAILABLE, "%s", err);
		goto out;
	}
	monitor_start(s.monitor);
	{
		const char *l = fl_config_get("FRONTLINE_LISTEN");
		const char *colon = strrchr(l, ':');
		char host[128];
		size_t hlen = colon ? (size_t)(colon - l) : 0;
		char *db = fl_mask_url(fl_config_get("FRONTLINE_DATABASE_URL"));

		snprintf(host, sizeof(host), "%.*s", (int)(hlen ? hlen : 9), hlen ? l : "127.0.0.1");
		if (!strcmp(host, "0.0.0.0") || !strcmp(host, "[::]"))
			fl_strlcpy(host, "127.0.0.1", sizeof(host));
		fl_logj(FL_LOG_INFO, NULL, "listening on http://%s:%u", host, server_port(s.srv));
		printf("Frontline %s is serving on http://%s:%u (store %s, %s)\n", FL_VERSION, host,
		       server_port(s.srv), db, no_workers ? "no workers" : "workers running");
		printf("  health    http://%s:%u/healthz\n", host, server_port(s.srv));
		printf("  metrics   http://%s:%u/metrics\n", host, server_port(s.srv));
		printf("  tickets   http://%s:%u/api/v1/tickets\n", host, server_port(s.srv));
		printf("  queue     http://%s:%u/api/v1/escalations\n", host, server_port(s.srv));
		if (*token) {
			printf("\nAdmin token (shown once): %s\n", token);
			printf("  curl -H 'Authorization: Bearer %s' http://%s:%u/api/v1/tickets\n", token, host,
			       server_port(s.srv));
		} else {
			printf("\nCreate an API token with: frontline token create --role admin --name me\n");
		}
		printf("Stop with Ctrl-C (or SIGTERM).\n");
		fflush(stdout);
		free(db);
	}
	wait_for_signal(&set);
	stop_all(&s);
	rc = EX_OK;
out:
	free(err);
	free_all(&s);
	if (rc == EX_OK)
		fl_log(FL_LOG_INFO, "stopped");
	return rc;
}

int cmd_worker(int argc, char **argv, struct cli_ctx *ctx)
{
	long workers = 0;
	const struct cli_option opts[] = {
		{ CLI_OPT_INT, 'w', "workers", &workers, "N", "worker threads (FRONTLINE_WORKERS; default: cores)" },
		CLI_OPTIONS_END,
	};
	struct service s;
	sigset_t set;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, worker_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(worker_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (workers < 0 || workers > 256)
		return cli_usage_error(worker_usage, opts, "--workers must be 0 to 256");
	block_signals(&set);
	rc = open_common(&s, true);
	if (rc == EX_OK)
		rc = start_background(&s, workers, true);
	if (rc == EX_OK) {
		fl_log(FL_LOG_INFO, "worker running (no HTTP); stop with SIGTERM");
		wait_for_signal(&set);
		stop_all(&s);
	}
	free_all(&s);
	return rc;
}
