/*
 * frontline serve | worker: the service (src/service runs it; this file
 * parses the options, prints what an operator needs and waits for a signal).
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

#include "cli.h"
#include "service/service.h"
#include "util/util.h"

static const char *const serve_usage[] = {
	"frontline serve [--listen HOST:PORT] [--workers N] [--no-workers] [--demo]",
	NULL,
};

static const char *const worker_usage[] = {
	"frontline worker [--workers N]",
	NULL,
};

/* Blocked before any thread starts, so that only sigwait below takes them. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void wait_for_signal(sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig))
		;
	fl_log(FL_LOG_INFO, "received %s: stopping gracefully (grace %lld s)",
	       sig == SIGTERM ? "SIGTERM" : "SIGINT",
	       (long long)fl_config_int("FRONTLINE_SHUTDOWN_GRACE", 30));
}

/*
 * Opens the triage set-up (t: store migrated, models unless parts has no
 * workers, KB, LLM), then makes and starts the service. Prints the error
 * and returns an exit code on failure; *out is then NULL.
 */
static int run_service(struct cli_triage *t, unsigned parts, long workers, bool demo, char *token,
		       size_t token_len, struct service **out)
{
	struct service_options so = { 0 };
	char *err = NULL;
	int rc;

	*out = NULL;
	rc = (parts & SERVICE_WORKERS) ? cli_triage_open(t, "customer_support", true)
				       : cli_triage_open_no_analyzer(t, "customer_support", true);
	if (rc != EX_OK)
		return rc;
	if (demo && (rc = cli_demo_load(t->store, token, token_len)) != EX_OK)
		return rc;
	so.parts = parts;
	so.analyzer = t->analyzer;
	so.kb = t->kb;
	so.llm = t->llm;   /* the process's one client, made (and freed) by cli_triage_open/close */
	so.workers.count = (int)workers;
	if (service_new(&so, out, &err) != SERVICE_OK || service_start(*out, &err) != SERVICE_OK)
		rc = cli_error(EX_UNAVAILABLE, "%s", err);
	free(err);
	return rc;
}

/* The banner: where the service listens, and how to get in. */
static void print_banner(const struct service *s, bool no_workers, const char *token)
{
	const char *l = fl_config_get("FRONTLINE_LISTEN");
	const char *colon = strrchr(l, ':');
	size_t hlen = colon ? (size_t)(colon - l) : 0;
	unsigned port = service_port(s);
	char host[128], *db = fl_mask_url(fl_config_get("FRONTLINE_DATABASE_URL"));

	snprintf(host, sizeof(host), "%.*s", (int)(hlen ? hlen : 9), hlen ? l : "127.0.0.1");
	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "[::]"))
		fl_strlcpy(host, "127.0.0.1", sizeof(host));
	fl_logj(FL_LOG_INFO, NULL, "listening on http://%s:%u", host, port);
	printf("Frontline %s is serving on http://%s:%u (store %s, %s)\n", FL_VERSION, host, port, db,
	       no_workers ? "no workers" : "workers running");
	printf("  health    http://%s:%u/healthz\n", host, port);
	printf("  metrics   http://%s:%u/metrics\n", host, port);
	printf("  tickets   http://%s:%u/api/v1/tickets\n", host, port);
	printf("  queue     http://%s:%u/api/v1/escalations\n", host, port);
	if (*token) {
		printf("\nAdmin token (shown once): %s\n", token);
		printf("  curl -H 'Authorization: Bearer %s' http://%s:%u/api/v1/tickets\n", token, host, port);
	} else {
		printf("\nCreate an API token with: frontline token create --role admin --name me\n");
	}
	printf("Stop with Ctrl-C (or SIGTERM).\n");
	fflush(stdout);
	free(db);
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
	struct cli_triage t;
	struct service *s = NULL;
	char token[64] = "";
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
	rc = run_service(&t, no_workers ? SERVICE_SERVE_NO_WORKERS : SERVICE_SERVE, workers, demo, token,
			 sizeof(token), &s);
	if (rc == EX_OK) {
		print_banner(s, no_workers, token);
		wait_for_signal(&set);
		service_stop(s);
	}
	service_free(s);
	cli_triage_close(&t);
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
	struct cli_triage t;
	struct service *s = NULL;
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
	rc = run_service(&t, SERVICE_WORKER, workers, false, NULL, 0, &s);
	if (rc == EX_OK) {
		fl_log(FL_LOG_INFO, "worker running (no HTTP); stop with SIGTERM");
		wait_for_signal(&set);
		service_stop(s);
	}
	service_free(s);
	cli_triage_close(&t);
	return rc;
}
