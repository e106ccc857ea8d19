/*
 * The service as an operator runs it: the real `frontline` binary, real
 * HTTP, real signals. Tokens from `frontline token`; `serve --no-workers`
 * accepting tickets that a separate `frontline worker` triages; SIGTERM
 * ending each process with exit 0; tickets accepted just before a SIGTERM
 * triaged after the restart (nothing accepted is lost); requests refused
 * once the server has stopped.
 *
 * With fake_llm, serve --demo triages the demo tickets through the LLM
 * client, and /metrics counts its calls and tokens.
 *
 * Usage: serve_process_test PATH/TO/frontline SOURCE_ROOT PATH/TO/fake_llm
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "http_client.h"
#include "proc_harness.h"
#include "notify/notify.h"
#include "util/util.h"

#define SECRET "whsec_process"

static char *dir;

static long post_ticket(unsigned port, int i)
{
	char body[512], ts[24], sig[NOTIFY_SIGNATURE_LEN], h1[64], h2[96];
	const char *hs[] = { h1, h2, NULL };
	char *url = fl_asprintf("http://127.0.0.1:%u/webhooks/tickets", port);
	struct http_req req = { "POST", url, NULL, NULL, body, 0, hs, 0 };
	struct http_resp r;
	long status;

	snprintf(body, sizeof(body), "{\"id\":\"proc_%03d\",\"customer_id\":\"cust_00%d\",\"subject\":\"%s\","
		 "\"content\":\"%s\"}", i, 1 + i % 3, i % 2 ? "Cannot log in" : "Charged twice this month",
		 i % 2 ? "The password reset email never arrives and I need access for work."
		       : "My card was charged twice for the same invoice, please refund one.");
	snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
	notify_sign(SECRET, ts, body, strlen(body), sig);
	snprintf(h1, sizeof(h1), "X-Frontline-Timestamp: %s", ts);
	snprintf(h2, sizeof(h2), "X-Frontline-Signature: %s", sig);
	http_do(&req, &r);
	status = r.status;
	http_resp_release(&r);
	free(url);
	return status;
}

/* Tickets still waiting for triage (status new), or -1 when the API fails. */
static long untriaged(unsigned port, const char *token)
{
	char *url = fl_asprintf("http://127.0.0.1:%u/api/v1/tickets?status=new&limit=500", port);
	struct http_req req = { "GET", url, token, NULL, NULL, 0, NULL, 0 };
	struct http_resp r;
	long n = -1;

	http_do(&req, &r);
	if (r.status == 200)
		n = (long)json_array_size(json_object_get(r.json, "tickets"));
	http_resp_release(&r);
	free(url);
	return n;
}

static long total(unsigned port, const char *token)
{
	char *url = fl_asprintf("http://127.0.0.1:%u/api/v1/tickets?limit=500", port);
	struct http_req req = { "GET", url, token, NULL, NULL, 0, NULL, 0 };
	struct http_resp r;
	long n = -1;

	http_do(&req, &r);
	if (r.status == 200)
		n = (long)json_array_size(json_object_get(r.json, "tickets"));
	http_resp_release(&r);
	free(url);
	return n;
}

/* GET /metrics (no token: Prometheus scrapes it), or NULL. */
static char *metrics(unsigned port)
{
	char *url = fl_asprintf("http://127.0.0.1:%u/metrics", port), *body = NULL;
	struct http_req req = { "GET", url, NULL, NULL, NULL, 0, NULL, 0 };
	struct http_resp r;

	http_do(&req, &r);
	if (r.status == 200 && r.body)
		body = fl_strdup(r.body);
	http_resp_release(&r);
	free(url);
	return body;
}

/* A JSON log line in dir/log whose fields include all of want (an object), or false. */
static bool logged(const char *log, const char *want_json)
{
	char *path = fl_asprintf("%s/%s", dir, log), *line = NULL;
	json_t *want = json_loads(want_json, 0, NULL);
	FILE *in = fopen(path, "r");
	size_t cap = 0;
	bool found = false;

	while (in && !found && getline(&line, &cap, in) > 0) {
		json_t *j = json_loads(line, 0, NULL), *v;
		const char *k;

		found = json_is_object(j) && json_is_string(json_object_get(j, "request_id")) &&
			json_is_string(json_object_get(j, "level"));
		json_object_foreach(want, k, v)
			found = found && json_equal(json_object_get(j, k), v);
		json_decref(j);
	}
	if (in)
		fclose(in);
	free(line);
	json_decref(want);
	free(path);
	return found;
}

/* The size of the array key in GET path's answer, or -1. */
static long count_of(unsigned port, const char *token, const char *path, const char *key)
{
	char *url = fl_asprintf("http://127.0.0.1:%u%s", port, path);
	struct http_req req = { "GET", url, token, NULL, NULL, 0, NULL, 0 };
	struct http_resp r;
	long n = -1;

	http_do(&req, &r);
	if (r.status == 200)
		n = (long)json_array_size(json_object_get(r.json, key));
	http_resp_release(&r);
	free(url);
	return n;
}

/* Triage happens in other processes: poll, with a deadline. */
static bool wait_triaged(unsigned port, const char *token, int seconds)
{
	int64_t deadline = fl_mono_us() + (int64_t)seconds * 1000000;

	while (fl_mono_us() < deadline) {
		if (untriaged(port, token) == 0)
			return true;
		fl_sleep_us(50000);
	}
	return false;
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/fl-serve-XXXXXX", out[4096], token[128] = "", *p;
	const char *create[] = { "token", "create", "--role", "admin", "--name", "ops", NULL };
	const char *list[] = { "token", "list", NULL };
	const char *serve_nw[] = { "serve", "--no-workers", NULL };
	const char *serve[] = { "serve", "--workers", "2", NULL };
	const char *worker[] = { "worker", "--workers", "2", NULL };
	struct proc s, w;
	int i, rc, ok;

	if (argc != 4) {
		fprintf(stderr, "usage: %s FRONTLINE SOURCE_ROOT FAKE_LLM\n", argv[0]);
		return 2;
	}
	if (!mkdtemp(tmpl))
		return 1;
	dir = tmpl;
	proc_init(argv[1], dir);
	fl_curl_global_init();
	proc_service_env(argv[2], SECRET);
	setenv("FRONTLINE_SHUTDOWN_GRACE", "20", 1);
	if (chdir(dir))
		return 1;

	/* tokens: shown once on stdout, listed without their secret */
	rc = proc_run(create, NULL, out, sizeof(out));
	CHECK(rc == 0 && fl_str_has_prefix(out, "flt_"), "token create prints the token (exit %d)", rc);
	sscanf(out, "%127s", token);
	rc = proc_run(list, NULL, out, sizeof(out));
	CHECK(rc == 0 && strstr(out, "ops") && !strstr(out, token), "token list shows no secret");

	/* HTTP only: tickets are accepted and wait */
	s = proc_spawn(serve_nw, NULL, "serve.log");
	s.port = proc_read_port(&s);
	CHECK(s.port > 0, "serve --no-workers listens (port %u)", s.port);
	for (i = 0, ok = 0; i < 20; i++)
		ok += post_ticket(s.port, i) == 202;
	CHECK(ok == 20, "20 tickets accepted (%d)", ok);
	CHECK(untriaged(s.port, token) == 20, "without workers they wait for triage");

	/* a separate worker process triages them */
	w = proc_spawn(worker, NULL, "worker.log");
	CHECK(wait_triaged(s.port, token, 120), "frontline worker triaged them");
	rc = proc_stop(&w, SIGTERM);
	CHECK(rc == 0, "worker exits 0 on SIGTERM (%d)", rc);

	/* accepted right before SIGTERM, without workers to triage them yet */
	for (i = 20, ok = 0; i < 40; i++)
		ok += post_ticket(s.port, i) == 202;
	CHECK(ok == 20, "20 more accepted (%d)", ok);
	rc = proc_stop(&s, SIGTERM);
	CHECK(rc == 0, "serve exits 0 on SIGTERM (%d)", rc);
	CHECK(post_ticket(s.port, 99) == 0, "a stopped server refuses connections");

	/* after a restart with workers, nothing accepted was lost */
	s = proc_spawn(serve, NULL, "serve.log");
	s.port = proc_read_port(&s);
	CHECK(s.port > 0, "serve restarts (port %u)", s.port);
	CHECK(wait_triaged(s.port, token, 120), "the tickets accepted before the stop are triaged");
	CHECK(total(s.port, token) == 40, "all 40 tickets are there (%ld)", total(s.port, token));
	/* SIGTERM with work in flight: exit 0, and the rest after another restart */
	for (i = 40, ok = 0; i < 70; i++)
		ok += post_ticket(s.port, i) == 202;
	/* observability: the metrics an operator graphs, and JSON log lines with a request id */
	{
		static const char *const want[] = {
			"frontline_http_requests_total{method=\"POST\",route=\"/webhooks/tickets\",status=\"202\"}",
			"frontline_http_request_duration_seconds_bucket{route=\"/api/v1/tickets\"",
			"frontline_tickets{dimension=\"status\",value=\"",
			"frontline_tickets{dimension=\"category\",value=\"",
			"frontline_tickets{dimension=\"priority\",value=\"",
			"frontline_jobs{status=\"queued\"}",
			"frontline_jobs{status=\"dead\"}",
			"frontline_job_duration_seconds_bucket{",
			"frontline_workflow_node_duration_seconds_bucket{",
			"frontline_outbox{status=\"pending\"}",
			"frontline_intake_total{",
			NULL,
		};
		char *m = metrics(s.port);
		size_t k;

		CHECK(m != NULL, "GET /metrics answers 200");
		for (k = 0; m && want[k]; k++)
			CHECK(strstr(m, want[k]) != NULL, "/metrics has %s", want[k]);
		free(m);
		CHECK(logged("serve.log", "{\"method\": \"POST\", \"route\": \"/webhooks/tickets\", \"status\": 202}"),
		      "serve.log has a JSON line per request, with its request id");
	}
	rc = proc_stop(&s, SIGTERM);
	CHECK(rc == 0, "serve exits 0 on SIGTERM with jobs in flight (%d)", rc);
	s = proc_spawn(serve, NULL, "serve.log");
	s.port = proc_read_port(&s);
	CHECK(wait_triaged(s.port, token, 120) && total(s.port, token) == 40 + ok,
	      "after another restart all %d are triaged", 40 + ok);
	rc = proc_stop(&s, SIGINT);
	CHECK(rc == 0, "serve exits 0 on SIGINT (%d)", rc);

	/*
	 * make run: serve --demo loads the seed's data and prints the URLs and an
	 * admin token; here with an LLM (fake_llm), whose calls /metrics counts
	 */
	{
		const char *serve_demo[] = { "serve", "--demo", "--workers", "2", NULL };
		char line[512], demo_token[128] = "", *portfile = fl_asprintf("%s/llm.port", dir), *m;
		pid_t llm = fork();
		int64_t deadline = fl_mono_us() + 10 * 1000000LL;
		long llm_port = 0;
		bool urls = false;

		if (llm == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			execl(argv[3], argv[3], "--port-file", portfile, (char *)NULL);
			_exit(127);
		}
		while (llm_port <= 0 && fl_mono_us() < deadline) {
			FILE *pf = fopen(portfile, "r");

			if (!pf || fscanf(pf, "%ld", &llm_port) != 1)
				fl_sleep_us(20000);
			if (pf)
				fclose(pf);
		}
		CHECK(llm_port > 0, "fake_llm listens (port %ld)", llm_port);
		p = fl_asprintf("http://127.0.0.1:%ld", llm_port);
		setenv("ANTHROPIC_BASE_URL", p, 1);
		free(p);
		setenv("API_KEY", "sk-test-0123456789abcdef", 1);
		setenv("ANTHROPIC_MODEL", "fake-model", 1);

		s = proc_spawn(serve_demo, NULL, "demo.log");
		s.port = proc_read_port(&s);
		CHECK(s.port > 0, "serve --demo listens (port %u)", s.port);
		while (fgets(line, sizeof(line), s.out)) {
			const char *at = strstr(line, "Admin token (shown once): ");

			urls = urls || strstr(line, "/api/v1/tickets") != NULL;
			if (at) {
				sscanf(at + strlen("Admin token (shown once): "), "%127s", demo_token);
				break;
			}
		}
		CHECK(urls && fl_str_has_prefix(demo_token, "flt_"), "serve --demo prints the URLs and an admin token");
		CHECK(count_of(s.port, demo_token, "/api/v1/customers", "customers") >= 3,
		      "the demo token works and the seed's customers are there");
		CHECK(count_of(s.port, demo_token, "/api/v1/kb/articles", "articles") >= 3,
		      "the bundled knowledge base is loaded");
		CHECK(total(s.port, demo_token) > 40 + ok, "the demo tickets were added (%ld tickets)",
		      total(s.port, demo_token));
		CHECK(wait_triaged(s.port, demo_token, 120), "the demo tickets are triaged");
		m = metrics(s.port);
		CHECK(m && strstr(m, "frontline_llm_calls_total{result=\"ok\"} ") &&
		      !strstr(m, "frontline_llm_calls_total{result=\"ok\"} 0\n"),
		      "/metrics counts the LLM calls of the triage");
		CHECK(m && strstr(m, "frontline_llm_tokens_total{direction=\"input\"}"), "/metrics has the LLM tokens");
		CHECK(m && strstr(m, "frontline_llm_errors_total"), "/metrics has the LLM errors family");
		free(m);
		rc = proc_stop(&s, SIGTERM);
		CHECK(rc == 0, "serve --demo exits 0 on SIGTERM (%d)", rc);
		kill(llm, SIGTERM);
		waitpid(llm, NULL, 0);
		free(portfile);
	}

	if (proc_failures) {
		char *cmd = fl_asprintf("tail -n 30 %s/serve.log %s/worker.log", dir, dir);

		if (system(cmd) < 0)
			perror("system");
		free(cmd);
	} else {
		char *cmd = fl_asprintf("rm -rf %s", dir);

		if (system(cmd) < 0)
			perror("system");
		free(cmd);
	}
	curl_global_cleanup();
	printf("%s\n", proc_failures ? "FAILED" : "all passed");
	return proc_failures ? 1 : 0;
}
