/*
 * frontline batch FILE.jsonl: many tickets through the batch_processing
 * workflow (the real nodes, on --workers threads, results in input order).
 * Every ticket is stored before it is processed. A line that is not JSON, or
 * a ticket that breaks the ingestion rules, is reported with its line number
 * and reason, never dropped. On a terminal a progress bar shows the rate and
 * the time left; at the end a summary counts tickets by category, priority
 * and escalation level and lists the failures. --json prints one JSON line
 * per input line, then a summary line.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/util.h"

static const char *const batch_usage[] = {
	"frontline batch [--workers N] [--json] [--no-store] FILE.jsonl",
	NULL,
};

struct progress {
	atomic_size_t done;
	atomic_size_t failed;
	size_t total;
	int64_t start_us;
	int64_t last_us;
	bool show;
	pthread_mutex_t mu;
};

static void progress_draw(struct progress *p, bool final)
{
	size_t done = atomic_load(&p->done), failed = atomic_load(&p->failed);
	double secs = (double)(fl_mono_us() - p->start_us) / 1e6, rate = secs > 0 ? done / secs : 0;
	double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
	int width = 30, filled = p->total ? (int)(width * done / p->total) : width;

	fprintf(stderr, "\r[%.*s%*s] %zu/%zu %3.0f%%  %.0f tickets/s  ETA %.0fs  failed %zu%s",
		filled, "==============================", width - filled, "", done, p->total,
		p->total ? 100.0 * done / p->total : 100.0, rate, eta, failed, final ? "\n" : "");
	fflush(stderr);
}

static void on_progress(void *arg, bool ok)
{
	struct progress *p = arg;
	int64_t now;

	atomic_fetch_add(&p->done, 1);
	if (!ok)
		atomic_fetch_add(&p->failed, 1);
	if (!p->show)
		return;
	now = fl_mono_us();
	pthread_mutex_lock(&p->mu);
	if (now - p->last_us >= 100000) {
		p->last_us = now;
		progress_draw(p, false);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Reads the JSON-lines file: objects into tickets (with their line numbers),
 * unreadable lines into bad as {line, error}. */
static int read_lines(const char *path, json_t *tickets, json_t *lines, json_t *bad)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;

	if (!f)
		return cli_error(EX_NOINPUT, "cannot open '%s': %m", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		size_t len = (size_t)n;
		json_t *v;

		lineno++;
		fl_str_trim(line, &len);
		if (!len)
			continue;
		v = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
		if (!v || !json_is_object(v)) {
			json_array_append_new(bad, json_pack("{s:I, s:b, s:s}", "line", (json_int_t)lineno, "ok", 0,
				"error", v ? "not a JSON object" : jerr.text));
			json_decref(v);
			continue;
		}
		json_array_append_new(tickets, v);
		json_array_append_new(lines, json_integer(lineno));
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return EX_OK;
}

static json_t *result_line(const json_t *res, json_int_t lineno)
{
	const json_t *sh = json_object_get(res, "shared");
	const json_t *ticket = json_object_get(sh, "ticket");

	if (!ticket)
		ticket = json_object_get(sh, "incoming_ticket");
	return json_pack("{s:I, s:s?, s:b, s:s?, s:s?, s:s?, s:s?, s:s?}",
		"line", lineno, "id", fl_json_str(ticket, "id", NULL), "ok", fl_json_bool(res, "ok", false),
		"sentiment", fl_json_str(json_object_get(sh, "sentiment_analysis"), "sentiment", NULL),
		"category", fl_json_str(json_object_get(sh, "categorization"), "primary_category", NULL),
		"priority", fl_json_str(json_object_get(sh, "priority_assignment"), "priority", NULL),
		"escalation", fl_json_str(json_object_get(sh, "escalation_decision"), "escalation_decision", NULL),
		"error", fl_json_str(res, "error", NULL));
}

static void print_counts(const char *title, const json_t *counts)
{
	const char *key;
	json_t *v;

	printf("  %-12s", title);
	json_object_foreach((json_t *)counts, key, v)
		printf(" %s %lld ", key, (long long)json_integer_value(v));
	if (!json_object_size(counts))
		printf(" none");
	putchar('\n');
}

/*
 * Tickets go through the workflow in chunks: a chunk is taken in (stored in
 * one transaction), triaged on the workers and its results stored before the
 * next one starts, so memory stays bounded whatever the file's length (the
 * whole file at once held ~60 KB per ticket) and an interrupted batch keeps
 * what it finished. The chunk is large enough to keep every worker busy.
 */
#define BATCH_CHUNK 512

/* into[key] += from[key] for each key of from */
static void add_counts(json_t *into, const json_t *from)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)from, key, v)
		json_object_set_new(into, key, json_integer(fl_json_int(into, key, 0) + json_integer_value(v)));
}

static void print_row(json_t *row)
{
	char *s = fl_json_dumps(row);

	puts(s);
	free(s);
	json_decref(row);
}

/* --json: the unreadable lines before line `before` (all of them when before < 0), in order */
static void print_bad_before(const json_t *bad, size_t *j, json_int_t before)
{
	while (*j < json_array_size(bad) &&
	       (before < 0 || fl_json_int(json_array_get(bad, *j), "line", 0) < before)) {
		print_row(json_incref(json_array_get(bad, *j)));
		(*j)++;
	}
}

int cmd_batch(int argc, char **argv, struct cli_ctx *cctx)
{
	bool json = false, no_store = false;
	long workers = 5;
	const struct cli_option opts[] = {
		{ CLI_OPT_INT, 'w', "workers", &workers, "N", "worker threads (default 5)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "one JSON line per ticket, then a summary line" },
		{ CLI_OPT_BOOL, 0, "no-store", &no_store, NULL, "analyse only: store nothing" },
		CLI_OPTIONS_END,
	};
	json_t *tickets = json_array(), *lines = json_array(), *bad = json_array(), *shared = NULL;
	json_t *results, *summary, *failures, *totals = NULL;
	struct progress prog = { 0 };
	struct cli_triage t = { 0 };
	struct flow_result *r = NULL;
	size_t i, j = 0, start, ok_total = 0;
	int argi, rc;

	(void)cctx;
	pthread_mutex_init(&prog.mu, NULL);
	rc = cli_parse(argc, argv, opts, batch_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (argi != argc - 1) {
		rc = cli_usage_error(batch_usage, opts, "one JSON-lines file (or -) is required");
		goto out;
	}
	if (workers < 1 || workers > 256) {
		rc = cli_usage_error(batch_usage, opts, "--workers must be 1 to 256, not %ld", workers);
		goto out;
	}
	if ((rc = read_lines(argv[argi], tickets, lines, bad)) != EX_OK)
		goto out;
	if ((rc = cli_triage_open(&t, "batch_processing", !no_store)) != EX_OK)
		goto out;
	flow_node_set_batch(flow_graph_find(t.workflow, "batch_process"), (int)workers);
	prog.total = json_array_size(tickets);
	prog.start_us = fl_mono_us();
	prog.show = !json && isatty(STDERR_FILENO);
	t.ctx.progress = on_progress;
	t.ctx.progress_arg = &prog;
	totals = json_pack("{s:I, s:I, s:I, s:{}, s:{}, s:{}, s:[]}", "total", (json_int_t)0,
			   "processed", (json_int_t)0, "failed", (json_int_t)0,
			   "by_category", "by_priority", "by_escalation", "failures");
	failures = json_object_get(totals, "failures");
	for (start = 0; start < json_array_size(tickets); start += BATCH_CHUNK) {
		json_t *part = json_array(), *chunk;

		for (i = start; i < json_array_size(tickets) && i < start + BATCH_CHUNK; i++)
			json_array_append(part, json_array_get(tickets, i));
		shared = json_pack("{s:o}", "batch_tickets", part);
		r = support_run(t.workflow, t.start, &t.ctx, shared);
		if (flow_result_code(r) != FLOW_OK) {
			if (prog.show)
				progress_draw(&prog, true);
			rc = cli_error(EX_SOFTWARE, "batch failed: %s", flow_result_error(r));
			goto out;
		}
		results = json_object_get(shared, "batch_results");
		chunk = json_object_get(shared, "batch_summary");
		json_object_set_new(totals, "processed", json_integer(fl_json_int(totals, "processed", 0) +
								      fl_json_int(chunk, "processed", 0)));
		add_counts(json_object_get(totals, "by_category"), json_object_get(chunk, "by_category"));
		add_counts(json_object_get(totals, "by_priority"), json_object_get(chunk, "by_priority"));
		add_counts(json_object_get(totals, "by_escalation"), json_object_get(chunk, "by_escalation"));
		/* the chunk's indexes are positions in the chunk: give line numbers */
		for (i = 0; i < json_array_size(json_object_get(chunk, "failures")); i++) {
			json_t *f = json_array_get(json_object_get(chunk, "failures"), i);
			size_t at = start + (size_t)fl_json_int(f, "index", 0);

			json_object_set_new(f, "index", json_integer((json_int_t)at));
			json_object_set(f, "line", json_array_get(lines, at));
			json_array_append(failures, f);
		}
		for (i = 0; json && i < json_array_size(results); i++) {
			json_int_t li = json_integer_value(json_array_get(lines, start + i));

			print_bad_before(bad, &j, li);
			print_row(result_line(json_array_get(results, i), li));
		}
		fflush(stdout);
		ok_total += json_array_size(results);
		flow_result_free(r);
		r = NULL;
		json_decref(shared);
		shared = NULL;
	}
	if (prog.show)
		progress_draw(&prog, true);
	for (i = 0; i < json_array_size(bad); i++)
		json_array_append_new(failures, json_pack("{s:O, s:O}", "line",
			json_object_get(json_array_get(bad, i), "line"),
			"error", json_object_get(json_array_get(bad, i), "error")));
	json_object_set_new(totals, "failed", json_integer((json_int_t)json_array_size(failures)));
	json_object_set_new(totals, "total", json_integer((json_int_t)(ok_total + json_array_size(bad))));
	summary = totals;
	if (json) {
		json_t *sl = json_pack("{s:O}", "summary", summary);

		print_bad_before(bad, &j, -1);
		print_row(sl);
	} else {
		double secs = (double)(fl_mono_us() - prog.start_us) / 1e6;

		printf("Batch of %lld ticket(s): %lld processed, %lld failed, %.2f s (%.0f tickets/s, %ld workers)%s\n",
		       (long long)fl_json_int(summary, "total", 0), (long long)fl_json_int(summary, "processed", 0),
		       (long long)fl_json_int(summary, "failed", 0), secs,
		       secs > 0 ? (double)fl_json_int(summary, "processed", 0) / secs : 0, workers,
		       no_store ? "" : ", stored");
		print_counts("category", json_object_get(summary, "by_category"));
		print_counts("priority", json_object_get(summary, "by_priority"));
		print_counts("escalation", json_object_get(summary, "by_escalation"));
		json_t *shown = cli_escape_json(failures, NULL);   /* ids and errors quote the input */

		for (i = 0; i < json_array_size(shown); i++) {
			const json_t *f = json_array_get(shown, i);

			printf("  failed: line %lld%s%s: %s\n", (long long)fl_json_int(f, "line", 0),
			       fl_json_str(f, "id", NULL) ? " id " : "", fl_json_str(f, "id", ""),
			       fl_json_str(f, "error", ""));
		}
		json_decref(shown);
	}
	rc = json_array_size(failures) ? EX_DATAERR : EX_OK;
out:
	flow_result_free(r);
	json_decref(shared);
	json_decref(totals);
	json_decref(tickets);
	json_decref(lines);
	json_decref(bad);
	cli_triage_close(&t);
	pthread_mutex_destroy(&prog.mu);
	return rc;
}
