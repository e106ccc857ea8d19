/*
 * support_bench: tickets per second through the customer_support workflow
 * in process (the nine nodes on the built-in analyzer, KB search included,
 * nothing persisted), on one core; and the same through the stored path
 * (intake, run, persist in SQLite) for comparison.
 *
 * Usage: support_bench SOURCE_ROOT [N]
 * Prints a Markdown section for docs/BENCHMARKS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow/flow.h"
#include "kb/kb.h"
#include "store/store.h"
#include "support/support.h"
#include "util/util.h"

static const char *const subjects[] = {
	"Password reset email never arrives", "Charged twice this month", "Website keeps timing out",
	"How do I export the analytics dashboard?", "Feature request: dark mode",
	"Cannot log in after enabling two-factor", "Refund for cancelled subscription",
	"API returns 401 since this morning", "Where can I change my billing address?",
	"Thanks for the quick fix yesterday",
};

static const char *const bodies[] = {
	"I requested a reset three times and nothing arrives, not even in spam. I need access for work today.",
	"My card was charged twice for the same invoice. Please refund the duplicate payment as soon as possible.",
	"Since this morning every page times out with a connection error, in Chrome and Firefox, on two networks.",
	"I would like to export the dashboard data to CSV and share a report with my team. Where is that option?",
	"Would it be possible to add a dark mode? Working late at night would be much easier on the eyes.",
	"After turning on two-factor authentication the code is always rejected and now I'm locked out of my account.",
	"I cancelled my subscription last week but was billed again. How long does a refund take?",
	"Our integration gets 401 Unauthorized on every call although the API key did not change. Developers are blocked.",
	"We moved offices and the invoices should show the new address. How do I update it?",
	"Just wanted to say thank you, the sync problem is gone and everything works perfectly now!",
};

/* CPU time of this thread: the machine may be shared, and this is one core's work */
static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static json_t *make_ticket(int i)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}",
			 "customer_id", i % 3 == 0 ? "cust_001" : i % 3 == 1 ? "cust_002" : "cust_003",
			 "subject", subjects[i % 10], "content", bodies[(i / 10 + i) % 10],
			 "source", "email", "metadata", "customer_tier", i % 5 == 0 ? "enterprise" : "standard");
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	int n = argc > 2 ? atoi(argv[2]) : 5000, i, stored_n = n / 5;
	char *models = fl_asprintf("%s/data/models", root), *kbdir = fl_asprintf("%s/data/kb", root);
	char dir[] = "/tmp/frontline-bench-XXXXXX", *url, *err = NULL;
	struct support_analyzer *an = NULL;
	struct kb *kb = NULL;
	struct store *st = NULL;
	struct support_ctx ctx = { 0 };
	struct flow_node *g;
	json_t *articles = NULL;
	int64_t t0, c0, pure_us, nokb_us, stored_us, stored_cpu;
	size_t k, count;
	char loadavg[64];

	{
		FILE *la = fopen("/proc/loadavg", "r");

		if (!la || !fgets(loadavg, sizeof(loadavg), la))
			fl_strlcpy(loadavg, "unknown", sizeof(loadavg));
		loadavg[strcspn(loadavg, " ")] = '\0';
		if (la)
			fclose(la);
	}
	if (support_analyzer_open(models, &an, &err) || kb_open(NULL, &kb, &err))
		fl_die("%s", err);
	if (kb_import_path(kbdir, &articles, &err))
		fl_die("%s", err);
	for (k = 0; k < json_array_size(articles); k++)
		kb_add(kb, json_array_get(articles, k));
	ctx.analyzer = an;
	ctx.kb = kb;
	g = support_workflow_find("customer_support")->build();

	/* warm-up, then N tickets on this thread, nothing stored */
	for (i = 0; i < 50; i++) {
		struct support_outcome o;
		json_t *t = make_ticket(i);

		support_process(&ctx, g, t, &o);
		support_outcome_release(&o);
		json_decref(t);
	}
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		struct support_outcome o;
		json_t *t = make_ticket(i);

		if (support_process(&ctx, g, t, &o) != SUPPORT_OK)
			fl_die("ticket %d failed: %s", i, o.error);
		support_outcome_release(&o);
		json_decref(t);
	}
	pure_us = cpu_us() - t0;

	/* the analyzer alone: the same without KB search, to show where time goes */
	ctx.kb = NULL;
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		struct support_outcome o;
		json_t *t = make_ticket(i);

		if (support_process(&ctx, g, t, &o) != SUPPORT_OK)
			fl_die("ticket %d failed: %s", i, o.error);
		support_outcome_release(&o);
		json_decref(t);
	}
	nokb_us = cpu_us() - t0;
	ctx.kb = kb;

	/* the stored path: intake, run, persist (SQLite, WAL, one transaction each) */
	if (!mkdtemp(dir))
		fl_die("mkdtemp failed");
	url = fl_asprintf("sqlite://%s/bench.db", dir);
	/* the store gets the same articles (kb_add replaces articles with the same id) */
	if (store_open(url, &st, &err) || support_seed_customers(st, &err) ||
	    support_kb_load(st, kb, kbdir, &count, &err))
		fl_die("%s", err);
	ctx.store = st;
	t0 = fl_mono_us();
	c0 = cpu_us();
	for (i = 0; i < stored_n; i++) {
		struct support_outcome o;
		json_t *t = make_ticket(i);

		json_object_set_new(t, "id", json_sprintf("bench_%d", i));
		if (support_process(&ctx, g, t, &o) != SUPPORT_OK)
			fl_die("stored ticket %d failed: %s", i, o.error);
		support_outcome_release(&o);
		json_decref(t);
	}
	stored_us = fl_mono_us() - t0;
	stored_cpu = cpu_us() - c0;

	printf("### Triage throughput (`bench/support_bench`)\n\n");
	printf("Rates are per CPU-second of the benchmark's thread (the machine may be shared); the stored\n"
	       "path also gives wall-clock time, which includes waiting for the disk. Load average at the\n"
	       "start: %s.\n\n", loadavg);
	printf("| path | tickets | tickets/s on one core | per ticket | goal |\n|---|---:|---:|---:|---|\n");
	printf("| customer_support in process (9 nodes, models, KB of %zu articles; nothing stored) | %d | %.0f | %.0f us | >= 10,000/s per core |\n",
	       json_array_size(articles), n, n / (pure_us / 1e6), (double)pure_us / n);
	printf("| the same without KB search (analyzer, policies, reply) | %d | %.0f | %.0f us | |\n",
	       n, n / (nokb_us / 1e6), (double)nokb_us / n);
	printf("| the same, stored: intake + run + persist on SQLite (commit per ticket) | %d | %.0f (wall: %.0f) | %.0f us (wall: %.0f us) | |\n",
	       stored_n, stored_n / (stored_cpu / 1e6), stored_n / (stored_us / 1e6),
	       (double)stored_cpu / stored_n, (double)stored_us / stored_n);
	printf("\nRatio to the in-process goal: %.2f.\n", (n / (pure_us / 1e6)) / 10000.0);
	store_close(st);
	{
		char *cmd = fl_asprintf("rm -rf '%s'", dir);

		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", dir);
		free(cmd);
	}
	flow_node_free(g);
	kb_close(kb);
	support_analyzer_free(an);
	json_decref(articles);
	free(url);
	free(models);
	free(kbdir);
	return 0;
}
