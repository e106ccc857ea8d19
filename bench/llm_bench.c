/*
 * llm_bench: tickets per second through the customer_support workflow with
 * an LLM that takes 500 ms per request (tests/fake_llm, in-process, over
 * loopback HTTP), 16 requests in flight.
 *
 * With c LLM calls per ticket of L seconds each and at most 16 requests in
 * flight, no client can do better than 16 / (c x L) tickets/s, and no ticket
 * can finish sooner than c x L. The goals: >= 90 % of that limit, and
 * per-ticket latency <= 1.2 x c x L. Also printed: calls, requests and
 * tokens per ticket (the fake counts a token per 4 bytes), and the same
 * tickets through the built-in analyzer alone for comparison.
 *
 * Usage: llm_bench [TICKETS [LATENCY_MS]]   (defaults 320, 500), from the
 * project root (data/models, data/kb). Nothing is stored: the workflow's
 * results are discarded, as the point is the LLM path's throughput.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_llm.h"
#include "kb/kb.h"
#include "llm/llm.h"
#include "support/support.h"
#include "util/util.h"

#define INFLIGHT 16

static const struct { const char *subject, *content, *tier; } templates[] = {
	{ "Password reset email never arrives",
	  "I asked for a password reset three times but the email never arrives. I cannot log in.", "standard" },
	{ "Charged twice this month",
	  "My card was charged twice for the March invoice. Please refund the duplicate payment.", "premium" },
	{ "Cannot connect from the office",
	  "The app shows a connection error since this morning when I use the office VPN.", "standard" },
	{ "How do I export reports?",
	  "Is there a way to export the analytics dashboard to CSV for our weekly meeting?", "standard" },
	{ "Invoice address is wrong",
	  "The company address on our last invoice is outdated, how can we change it?", "enterprise" },
	{ "Two-factor device lost",
	  "I lost the phone with my authenticator app and cannot sign in to my account.", "premium" },
	{ "Feature request: dark mode",
	  "Would you consider adding a dark mode to the dashboard? It would help a lot.", "standard" },
	{ "API returns 401",
	  "Our integration gets 401 errors from the API since we rotated the keys yesterday.", "enterprise" },
};

struct bench {
	struct flow_node *cs;
	struct support_ctx ctx;
	int tickets;
	int next;                /* atomic */
	double *latency_s;
	int builtin_steps;       /* atomic: analyses that fell back */
	int failed;              /* atomic */
};

static json_t *make_ticket(int i)
{
	size_t t = (size_t)i % FL_ARRAY_SIZE(templates);
	char id[32];

	snprintf(id, sizeof(id), "bench_%05d", i);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "id", id, "customer_id", "cust_001",
			 "subject", templates[t].subject, "content", templates[t].content, "source", "email",
			 "metadata", "customer_tier", templates[t].tier);
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	int i;

	while ((i = __atomic_fetch_add(&b->next, 1, __ATOMIC_SEQ_CST)) < b->tickets) {
		json_t *shared = json_pack("{s:o}", "incoming_ticket", make_ticket(i));
		int64_t t0 = fl_mono_us();
		struct flow_result *r = support_run(b->cs, "ticket_ingestion", &b->ctx, shared);
		const json_t *s;
		size_t k;

		b->latency_s[i] = (double)(fl_mono_us() - t0) / 1e6;
		if (flow_result_code(r) != FLOW_OK) {
			fprintf(stderr, "llm_bench: ticket %d failed: %s\n", i, flow_result_error(r));
			__atomic_add_fetch(&b->failed, 1, __ATOMIC_SEQ_CST);
		}
		json_array_foreach(flow_result_trace(r), k, s)
			if (b->ctx.llm && json_is_true(json_object_get(s, "fallback")))
				__atomic_add_fetch(&b->builtin_steps, 1, __ATOMIC_SEQ_CST);
		flow_result_free(r);
		json_decref(shared);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs the tickets on INFLIGHT threads; returns the wall time in seconds. */
static double run(struct bench *b)
{
	pthread_t th[INFLIGHT];
	int64_t t0 = fl_mono_us();
	int i;

	b->next = 0;
	for (i = 0; i < INFLIGHT; i++)
		pthread_create(&th[i], NULL, worker, b);
	for (i = 0; i < INFLIGHT; i++)
		pthread_join(th[i], NULL);
	return (double)(fl_mono_us() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	int64_t tickets = 320, latency_ms = 500;
	struct support_analyzer *analyzer = NULL;
	struct kb *kb = NULL;
	struct fake_llm *fake;
	struct llm_settings s;
	struct llm_client *llm = NULL;
	struct bench b;
	json_t *articles = NULL, *stats;
	char *err = NULL, *url;
	double wall, builtin_wall, calls, limit, rate, lat_limit, mean = 0, *sorted;
	double in_tok, out_tok, requests;
	int i;

	if ((argc > 1 && fl_parse_int64(argv[1], INFLIGHT, 1000000, &tickets)) ||
	    (argc > 2 && fl_parse_int64(argv[2], 1, 60000, &latency_ms)) || argc > 3) {
		fprintf(stderr, "usage: llm_bench [TICKETS >= %d [LATENCY_MS]]\n", INFLIGHT);
		return 64;
	}
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	if (support_analyzer_open("data/models", &analyzer, &err) != SUPPORT_OK ||
	    kb_open(NULL, &kb, &err) != KB_OK || kb_import_path("data/kb", &articles, &err) != KB_OK ||
	    kb_add_many(kb, articles) != KB_OK) {
		fprintf(stderr, "llm_bench: %s (run from the project root)\n", err ? err : "cannot load the KB");
		return 69;
	}
	json_decref(articles);
	fake = fake_llm_start(0, &err);
	if (!fake) {
		fprintf(stderr, "llm_bench: %s\n", err);
		return 69;
	}
	fake_llm_set_latency_ms(fake, latency_ms);
	url = fake_llm_url(fake, "anthropic");
	llm_settings_init(&s);
	s.base_url = url;
	s.api_key = "sk-bench-0123456789abcdef";
	s.model = "fake-model";
	s.max_inflight = INFLIGHT;
	s.timeout_ms = 30000;
	if (llm_client_new(&llm, &s, &err) != LLM_OK) {
		fprintf(stderr, "llm_bench: %s\n", err);
		return 69;
	}

	memset(&b, 0, sizeof(b));
	b.cs = support_workflow_find("customer_support")->build();
	b.ctx.analyzer = analyzer;
	b.ctx.kb = kb;
	b.tickets = (int)tickets;
	b.latency_s = fl_calloc((size_t)tickets, sizeof(double));

	/* the built-in analyzer alone, for comparison */
	builtin_wall = run(&b);

	b.ctx.llm = llm;
	wall = run(&b);
	stats = llm_client_stats(llm);

	calls = (double)fl_json_int(stats, "calls", 0) / tickets;
	requests = (double)fl_json_int(stats, "requests", 0) / tickets;
	in_tok = (double)fl_json_int(stats, "input_tokens", 0) / tickets;
	out_tok = (double)fl_json_int(stats, "output_tokens", 0) / tickets;
	limit = INFLIGHT / (calls * latency_ms / 1000.0);
	rate = tickets / wall;
	lat_limit = 1.2 * calls * latency_ms / 1000.0;
	sorted = fl_calloc((size_t)tickets, sizeof(double));
	memcpy(sorted, b.latency_s, (size_t)tickets * sizeof(double));
	qsort(sorted, (size_t)tickets, sizeof(double), cmp_double);
	for (i = 0; i < tickets; i++)
		mean += sorted[i] / tickets;

	printf("### LLM path (`bench/llm_bench`)\n\n");
	printf("%lld tickets (8 kinds) through `customer_support`, %d at a time, the real LLM client against "
	       "`fake_llm` (Anthropic protocol, loopback HTTP) answering each request after %lld ms; "
	       "`FRONTLINE_LLM_MAX_INFLIGHT`=%d; nothing stored.\n\n", (long long)tickets, INFLIGHT,
	       (long long)latency_ms, INFLIGHT);
	printf("| measure | result | goal |\n|---|---|---|\n");
	printf("| LLM calls per ticket | %.2f | <= 2 (the seed made 5) |\n", calls);
	printf("| HTTP requests per ticket | %.2f | |\n", requests);
	printf("| tokens per ticket (in + out, fake's count: 1 per 4 bytes) | %.0f + %.0f | |\n", in_tok, out_tok);
	printf("| throughput | %.2f tickets/s (%.1f s) | |\n", rate, wall);
	printf("| limit 16 / (calls x %.1f s) | %.2f tickets/s | |\n", latency_ms / 1000.0, limit);
	printf("| ratio to the limit | %.1f %% | >= 90 %% |\n", 100 * rate / limit);
	printf("| per-ticket latency: mean, p50, p95, max | %.3f, %.3f, %.3f, %.3f s | max <= %.2f s "
	       "(1.2 x calls x %.1f s) |\n", mean, sorted[tickets / 2], sorted[(int)(tickets * 0.95)],
	       sorted[tickets - 1], lat_limit, latency_ms / 1000.0);
	printf("| analyses that fell back to the built-in analyzer | %d | 0 |\n", b.builtin_steps);
	printf("| failed runs | %d | 0 |\n", b.failed);
	printf("| built-in analyzer alone, same tickets and threads | %.0f tickets/s | |\n",
	       tickets / builtin_wall);

	json_decref(stats);
	free(sorted);
	free(b.latency_s);
	flow_node_free(b.cs);
	llm_client_free(llm);
	fake_llm_stop(fake);
	free(url);
	kb_close(kb);
	support_analyzer_free(analyzer);
	return b.failed ? 1 : 0;
}
