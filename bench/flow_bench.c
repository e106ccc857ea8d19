/*
 * flow_bench: the engine's own overhead and its parallel speed-up.
 *
 * 1. Time per step of a 9-node linear graph of trivial nodes (the cost of
 *    prep/exec/post dispatch, routing and the trace), goal < 1 us per step.
 * 2. Parallel-batch throughput on 10,000 items of 50 us CPU work each with 1
 *    and 2 workers, goal >= 1.8x with 2.
 *
 * Prints a Markdown section for docs/BENCHMARKS.md (scripts/bench splices it
 * in between the flow markers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow/flow.h"
#include "util/util.h"

static int trivial_exec(struct flow_call *call, json_t *prep_res, json_t **out)
{
	(void)call;
	(void)prep_res;
	*out = json_true();
	return 0;
}

static const struct flow_node_ops trivial_ops = { .exec = trivial_exec };

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 50 us of CPU on this thread, whatever else the machine does. */
static int busy_exec(struct flow_call *call, json_t *item, json_t **out)
{
	int64_t until = thread_cpu_us() + 50;
	volatile uint64_t x = (uint64_t)json_integer_value(item);

	(void)call;
	while (thread_cpu_us() < until)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	*out = json_integer((json_int_t)(x & 0xffff));
	return 0;
}

static int items_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	(void)call;
	*out = json_incref(json_object_get(shared, "items"));
	return 0;
}

static const struct flow_node_ops busy_ops = { .prep = items_prep, .exec = busy_exec };

static double linear_step_ns(long runs)
{
	struct flow_node *g = flow_graph_new("linear"), *prev = NULL;
	json_t *shared = json_object();
	int64_t t0;
	long i;
	int k;

	for (k = 0; k < 9; k++) {
		char name[16];
		struct flow_node *n;

		snprintf(name, sizeof(name), "n%d", k);
		n = flow_node_new(name, &trivial_ops, NULL);
		flow_graph_add(g, n);
		if (prev)
			flow_then(prev, n);
		prev = n;
	}
	flow_result_free(flow_run(g, shared, NULL));   /* warm up, validate */
	t0 = fl_mono_us();
	for (i = 0; i < runs; i++) {
		struct flow_result *r = flow_run(g, shared, NULL);

		if (flow_result_code(r) != FLOW_OK || flow_result_steps(r) != 9)
			fl_die("linear run failed: %s", flow_result_error(r));
		flow_result_free(r);
	}
	t0 = fl_mono_us() - t0;
	json_decref(shared);
	flow_node_free(g);
	return (double)t0 * 1000.0 / ((double)runs * 9);
}

static double batch_seconds(int workers, int nitems)
{
	struct flow_node *g = flow_graph_new("batch"), *n = flow_node_new("busy", &busy_ops, NULL);
	json_t *shared = json_object(), *items = json_array();
	struct flow_result *r;
	int64_t t0;
	int i;

	for (i = 0; i < nitems; i++)
		json_array_append_new(items, json_integer(i));
	json_object_set_new(shared, "items", items);
	flow_node_set_batch(n, workers);
	flow_graph_add(g, n);
	t0 = fl_mono_us();
	r = flow_run(g, shared, NULL);
	t0 = fl_mono_us() - t0;
	if (flow_result_code(r) != FLOW_OK)
		fl_die("batch run failed: %s", flow_result_error(r));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
	return (double)t0 / 1e6;
}

int main(int argc, char **argv)
{
	long runs = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	int nitems = 10000;
	double step_ns, t1, t2, best1 = 1e9, best2 = 1e9;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int rep;

	step_ns = linear_step_ns(runs);
	for (rep = 0; rep < 3; rep++) {
		t1 = batch_seconds(1, nitems);
		t2 = batch_seconds(2, nitems);
		best1 = t1 < best1 ? t1 : best1;
		best2 = t2 < best2 ? t2 : best2;
	}
	printf("### Flow engine (`bench/flow_bench`)\n\n");
	printf("| measure | result | goal |\n|---|---|---|\n");
	printf("| time per step, 9-node linear graph of trivial nodes (%ld runs, trace on) | %.0f ns | < 1000 ns |\n",
	       runs, step_ns);
	printf("| parallel batch, %d items x 50 us CPU, 1 worker | %.0f items/s (%.3f s) | |\n",
	       nitems, nitems / best1, best1);
	printf("| parallel batch, %d items x 50 us CPU, 2 workers | %.0f items/s (%.3f s) | |\n",
	       nitems, nitems / best2, best2);
	printf("| speed-up, 2 workers vs 1 (best of 3) | %.2fx | >= 1.8x |\n", best1 / best2);
	printf("\nCPUs online: %ld.\n", ncpu);
	return 0;
}
