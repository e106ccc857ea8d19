/*
 * support_bench: tickets per second through the customer_support workflow
 * in process (the nine nodes on the built-in analyzer, KB search included,
 * nothing persisted), on one core; and the same through the stored path
 * (intake, run, persist in SQLite) for comparison; and, given the CLI,
 * `frontline batch --workers 2` on a stored SQLite database (the rate from
 * wall time, and per CPU-second of the whole process).
 *
 * Usage: support_bench SOURCE_ROOT [N [FRONTLINE_BINARY [BATCH_N]]]
 * Prints a Markdown section for docs/BENCHMARKS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* CPU time (user + system) of the children waited for so far */
static int64_t children_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static json_t *make_ticket(int i)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}",
			 "customer_id", i % 3 == 0 ? "cust_001" : i % 3 == 1 ? "cust_002" : "cust_003",
			 "subject", subjects[i % 10], "content", bodies[(i / 10 + i) % 10],
			 "source", "email", "metadata", "customer_tier", i % 5 == 0 ? "enterprise" : "standard");
}

struct batch_run {
	int n;
	double wall_s, cpu_s;
	bool ok;
};

/*
 * frontline --database sqlite://DIR/batch.db batch --workers 2 FILE on n
 * tickets (the bundled models and articles of root); wall and CPU time of
 * the whole process, start-up (models, articles) included.
 */
static struct batch_run run_batch(const char *bin, const char *root, const char *dir, int n)
{
	struct batch_run r = { n, 0, 0, false };
	char *file = fl_asprintf("%s/batch.jsonl", dir), *cmd;
	FILE *f = fopen(file, "w");
	int64_t t0, c0;
	int i;

	if (!f)
		fl_die("cannot write '%s'", file);
	for (i = 0; i < n; i++) {
		json_t *t = make_ticket(i);
		char *line;

		json_object_set_new(t, "id", json_sprintf("batch_%d", i));
		line = json_dumps(t, JSON_COMPACT);
		fprintf(f, "%s\n", line);
		free(line);
		json_decref(t);
	}
	if (fclose(f))
		fl_die("cannot write '%s'", file);
	cmd = fl_asprintf("FRONTLINE_MODELS_DIR='%s/data/models' FRONTLINE_KB_DIR='%s/data/kb' "
			  "'%s' --database 'sqlite://%s/batch.db' batch --workers 2 '%s' >'%s/batch.out' 2>&1",
			  root, root, bin, dir, file, dir);
	t0 = fl_mono_us();
	c0 = children_cpu_us();
	r.ok = system(cmd) == 0;
	r.wall_s = (double)(fl_mono_us() - t0) / 1e6;
	r.cpu_s = (double)(children_cpu_us() - c0) / 1e6;
	if (!r.ok)
		fprintf(stderr, "support_bench: '%s' failed (see %s/batch.out)\n", cmd, dir);
	free(cmd);
	free(file);
	return r;
}

int main(int argc, char **argv)
{
	const char *root = argc > 1 ? argv[1] : ".";
	int n = argc > 2 ? atoi(argv[2]) : 5000, i, stored_n = n / 5;
	const char *bin = argc > 3 ? argv[3] : NULL;
	int batch_n = argc > 4 ? atoi(argv[4]) : 20000;
	struct batch_run batch = { 0, 0, 0, false };
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
	if (bin && access(bin, X_OK) == 0)
		batch = run_batch(bin, root, dir, batch_n);

	printf("### Triage throughput (`bench/support_bench`)\n\n");
	printf("Rates are per CPU-second of the benchmark's thread (the machine may be shared); the stored\n"
	       "path also gives wall-clock time, which includes waiting for the disk. Load average at the\n"
	       "start: %s. Where a ticket's time goes, and what was made faster: docs/TRIAGE.md (Speed).\n\n",
	       loadavg);
	printf("| path | tickets | tickets/s on one core | per ticket | goal |\n|---|---:|---:|---:|---|\n");
	printf("| customer_support in process (9 nodes, models, KB of %zu articles; nothing stored) | %d | %.0f | %.0f us | >= 10,000/s per core |\n",
	       json_array_size(articles), n, n / (pure_us / 1e6), (double)pure_us / n);
	printf("| the same without KB search (analyzer, policies, reply) | %d | %.0f | %.0f us | |\n",
	       n, n / (nokb_us / 1e6), (double)nokb_us / n);
	printf("| the same, stored: intake + run + persist on SQLite (commit per ticket) | %d | %.0f (wall: %.0f) | %.0f us (wall: %.0f us) | |\n",
	       stored_n, stored_n / (stored_cpu / 1e6), stored_n / (stored_us / 1e6),
	       (double)stored_cpu / stored_n, (double)stored_us / stored_n);
	if (batch.ok)
		printf("| `frontline batch --workers 2` on a stored SQLite database (CLI process: start-up, intake, run, persist) | %d | %.0f per CPU-second of the process (wall: %.0f/s) | %.0f us CPU (wall: %.0f us) | |\n",
		       batch.n, batch.n / batch.cpu_s, batch.n / batch.wall_s, batch.cpu_s * 1e6 / batch.n,
		       batch.wall_s * 1e6 / batch.n);
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
