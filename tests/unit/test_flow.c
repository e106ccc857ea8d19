/*
 * Tests of the flow engine: node ops, retries and fallbacks, routing by
 * action, nested graphs, batch and parallel batch, fan-out, the trace, the
 * step limit and deadline, typed errors (a code beside the message),
 * validation and export. Time is a fake clock:
 * nothing here sleeps for real except where concurrency itself is the point.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "test_helpers.h"
#include "flow/flow.h"

/* ---- a fake clock: sleeping advances it and is counted ---- */

struct fake_clock {
	int64_t now;
	int sleeps;
	int64_t slept;
};

static int64_t fake_now(void *arg)
{
	return ((struct fake_clock *)arg)->now;
}

static void fake_sleep(void *arg, int64_t us)
{
	struct fake_clock *c = arg;

	c->sleeps++;
	c->slept += us;
	c->now += us;
}

/* ---- a configurable test node ---- */

struct tnode {
	const char *action;        /* what post returns */
	int fail_times;            /* exec fails this many times, then succeeds */
	atomic_int calls;          /* exec calls */
	int fallback_calls;
	bool fallback_fails;
	int64_t exec_cost_us;      /* advances the fake clock per exec */
	struct fake_clock *clock;
	const char *write_key;     /* post writes exec_res here */
	int loop_limit;            /* for cycle tests: action "again" until shared.loops >= limit */
};

static int t_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	(void)call;
	*out = json_incref(json_object_get(shared, "input"));
	return 0;
}

static int t_exec(struct flow_call *call, json_t *prep_res, json_t **out)
{
	struct tnode *t = flow_call_data(call);
	int n = atomic_fetch_add(&t->calls, 1) + 1;

	if (t->clock)
		t->clock->now += t->exec_cost_us;
	if (n <= t->fail_times)
		return flow_call_fail(call, "boom %d", n);
	*out = json_pack("{s:s, s:i, s:O?}", "by", flow_call_node_name(call),
			 "attempt", flow_call_attempt(call), "in", prep_res);
	return 0;
}

static int t_fallback(struct flow_call *call, json_t *prep_res, const char *error, json_t **out)
{
	struct tnode *t = flow_call_data(call);

	(void)prep_res;
	t->fallback_calls++;
	if (t->fallback_fails)
		return flow_call_fail(call, "fallback broke too");
	*out = json_pack("{s:s, s:s}", "fallback", flow_call_node_name(call), "reason", error);
	flow_call_note(call, "path", json_string("builtin"));
	return 0;
}

static int t_post(struct flow_call *call, json_t *shared, json_t *prep_res, json_t *exec_res,
		  const char **action)
{
	struct tnode *t = flow_call_data(call);
	json_t *visits = json_object_get(shared, "visits");

	(void)prep_res;
	if (!visits) {
		visits = json_array();
		json_object_set_new(shared, "visits", visits);
	}
	json_array_append_new(visits, json_string(flow_call_node_name(call)));
	if (t->write_key)
		json_object_set(shared, t->write_key, exec_res);
	if (t->loop_limit) {
		json_int_t loops = json_integer_value(json_object_get(shared, "loops")) + 1;

		json_object_set_new(shared, "loops", json_integer(loops));
		*action = loops < t->loop_limit ? "again" : "done";
		return 0;
	}
	*action = t->action;
	return 0;
}

static const struct flow_node_ops t_ops = {
	.prep = t_prep, .exec = t_exec, .post = t_post,
};
static const struct flow_node_ops t_ops_fb = {
	.prep = t_prep, .exec = t_exec, .post = t_post, .exec_fallback = t_fallback,
};

static struct flow_node *tnode(const char *name, struct tnode *t)
{
	return flow_node_new(name, &t_ops, t);
}

static struct flow_node *tnode_fb(const char *name, struct tnode *t)
{
	return flow_node_new(name, &t_ops_fb, t);
}

static json_t *step(struct flow_result *r, size_t i)
{
	return json_array_get(flow_result_trace(r), i);
}

static const char *visit(json_t *shared, size_t i)
{
	return json_string_value(json_array_get(json_object_get(shared, "visits"), i));
}

/* ---- basic wiring ---- */

static void test_linear_graph_passes_values_and_routes_default(void **state)
{
	struct tnode a = { 0 }, b = { 0 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b),
			 *nc = tnode("c", &c);
	json_t *shared = json_pack("{s:s}", "input", "hello");
	struct flow_result *r;

	(void)state;
	c.write_key = "out";
	assert_int_equal(flow_graph_add(g, na), FLOW_OK);
	assert_int_equal(flow_graph_add(g, nb), FLOW_OK);
	assert_int_equal(flow_graph_add(g, nc), FLOW_OK);
	assert_int_equal(flow_then(na, nb), FLOW_OK);
	assert_int_equal(flow_then(nb, nc), FLOW_OK);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_null(flow_result_error(r));
	assert_int_equal(flow_result_steps(r), 3);
	assert_string_equal(visit(shared, 0), "a");
	assert_string_equal(visit(shared, 2), "c");
	assert_string_equal(fl_json_str(json_object_get(shared, "out"), "in", ""), "hello");
	assert_string_equal(flow_result_action(r), "default");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_named_action_picks_successor(void **state)
{
	struct tnode a = { .action = "right" }, l = { 0 }, rr = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nl = tnode("left", &l),
			 *nr = tnode("right", &rr);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nl);
	flow_graph_add(g, nr);
	flow_on(na, "left", nl);
	flow_on(na, "right", nr);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(visit(shared, 1), "right");
	assert_int_equal(json_array_size(json_object_get(shared, "visits")), 2);
	assert_int_equal(atomic_load(&l.calls), 0);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_duplicate_successor_is_refused(void **state)
{
	struct tnode a = { 0 }, b = { 0 };
	struct flow_node *na = tnode("a", &a), *nb = tnode("b", &b);

	(void)state;
	assert_int_equal(flow_on(na, "x", nb), FLOW_OK);
	assert_int_equal(flow_on(na, "x", nb), FLOW_EEXISTS);
	assert_int_equal(flow_then(na, nb), FLOW_OK);
	assert_int_equal(flow_then(na, nb), FLOW_EEXISTS);
	assert_int_equal(flow_on(na, "", nb), FLOW_EINVAL);
	assert_int_equal(flow_then(na, NULL), FLOW_EINVAL);
	flow_node_free(na);
	flow_node_free(nb);
}

struct warn_log {
	int count;
	char last[512];
};

static void capture_warn(void *arg, const char *msg)
{
	struct warn_log *w = arg;

	w->count++;
	fl_strlcpy(w->last, msg, sizeof(w->last));
}

static void test_unknown_action_ends_run_with_warning(void **state)
{
	struct tnode a = { .action = "sideways" }, b = { 0 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b),
			 *nc = tnode("c", &c);
	struct warn_log w = { 0 };
	struct flow_opts opts = { .warn = capture_warn, .warn_arg = &w };
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, nc);
	flow_on(na, "up", nb);
	flow_on(na, "down", nc);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(flow_result_steps(r), 1);
	assert_string_equal(flow_result_action(r), "sideways");
	assert_int_equal(w.count, 1);
	assert_non_null(strstr(w.last, "'sideways'"));
	assert_non_null(strstr(w.last, "'a'"));
	assert_non_null(strstr(w.last, "up, down"));
	assert_int_equal(json_array_size(flow_result_warnings(r)), 1);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_last_node_without_successors_ends_quietly(void **state)
{
	struct tnode a = { .action = "anything" };
	struct flow_node *g = flow_graph_new("g");
	struct warn_log w = { 0 };
	struct flow_opts opts = { .warn = capture_warn, .warn_arg = &w };
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, tnode("a", &a));
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(w.count, 0);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

/* ---- typed context ---- */

static int ctx_exec(struct flow_call *call, json_t *prep_res, json_t **out)
{
	int *right = flow_call_ctx(call, "test_ctx");
	void *wrong = flow_call_ctx(call, "other_ctx");

	(void)prep_res;
	*out = json_pack("{s:i, s:b}", "value", right ? *right : -1, "wrong_is_null", wrong == NULL);
	return 0;
}

static int ctx_post(struct flow_call *call, json_t *shared, json_t *p, json_t *e, const char **a)
{
	(void)call;
	(void)p;
	(void)a;
	json_object_set(shared, "res", e);
	return 0;
}

static void test_typed_context_reaches_ops(void **state)
{
	static const struct flow_node_ops ops = { .exec = ctx_exec, .post = ctx_post };
	struct flow_node *g = flow_graph_new("g");
	int value = 42;
	struct flow_opts opts = { .ctx = &value, .ctx_type = "test_ctx" };
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, flow_node_new("n", &ops, NULL));
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(fl_json_int(json_object_get(shared, "res"), "value", 0), 42);
	assert_true(fl_json_bool(json_object_get(shared, "res"), "wrong_is_null", false));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

/* ---- retries and fallback ---- */

static void test_retries_are_counted_exactly_and_wait_between(void **state)
{
	struct fake_clock clk = { 0 };
	struct flow_clock fc = { fake_now, fake_sleep, &clk };
	struct flow_opts opts = { .clock = &fc };
	struct tnode a = { .fail_times = 2, .clock = &clk, .exec_cost_us = 10, .write_key = "out" };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a);
	json_t *shared = json_object(), *s;
	struct flow_result *r;

	(void)state;
	assert_int_equal(flow_node_set_retries(na, 3, 500), FLOW_OK);
	flow_graph_add(g, na);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(atomic_load(&a.calls), 3);
	assert_int_equal(clk.sleeps, 2);          /* between attempts, not after the last */
	assert_int_equal(clk.slept, 1000);
	s = step(r, 0);
	assert_int_equal(fl_json_int(s, "attempts", 0), 3);
	assert_false(fl_json_bool(s, "fallback", true));
	/* the step's duration is measured on the injected clock: 3 execs + 2 waits */
	assert_int_equal(fl_json_int(s, "duration_us", 0), 3 * 10 + 2 * 500);
	/* the last failure's text stays in the trace even though a retry succeeded */
	assert_string_equal(fl_json_str(s, "error", ""), "boom 2");
	assert_int_equal(fl_json_int(json_object_get(shared, "out"), "attempt", 0), 3);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_exhausted_retries_fail_run_naming_node(void **state)
{
	struct fake_clock clk = { 0 };
	struct flow_clock fc = { fake_now, fake_sleep, &clk };
	struct flow_opts opts = { .clock = &fc };
	struct tnode a = { 0 }, b = { .fail_times = 100 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("flaky", &b),
			 *nc = tnode("c", &c);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_node_set_retries(nb, 4, 1000);
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, nc);
	flow_then(na, nb);
	flow_then(nb, nc);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_non_null(strstr(flow_result_error(r), "'flaky'"));
	assert_non_null(strstr(flow_result_error(r), "4 attempts"));
	assert_non_null(strstr(flow_result_error(r), "boom 4"));
	assert_string_equal(flow_result_failed_node(r), "flaky");
	assert_int_equal(atomic_load(&b.calls), 4);
	assert_int_equal(atomic_load(&c.calls), 0);
	assert_int_equal(clk.sleeps, 3);
	assert_int_equal(flow_result_steps(r), 2);
	assert_non_null(strstr(fl_json_str(step(r, 1), "error", ""), "boom 4"));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_fallback_output_is_used_after_last_failure(void **state)
{
	struct fake_clock clk = { 0 };
	struct flow_clock fc = { fake_now, fake_sleep, &clk };
	struct flow_opts opts = { .clock = &fc };
	struct tnode a = { .fail_times = 100, .write_key = "out" };
	struct flow_node *g = flow_graph_new("g"), *na = tnode_fb("a", &a);
	json_t *shared = json_object(), *out, *s;
	struct flow_result *r;

	(void)state;
	flow_node_set_retries(na, 2, 0);
	flow_graph_add(g, na);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(atomic_load(&a.calls), 2);
	assert_int_equal(a.fallback_calls, 1);
	out = json_object_get(shared, "out");
	assert_string_equal(fl_json_str(out, "fallback", ""), "a");
	assert_string_equal(fl_json_str(out, "reason", ""), "boom 2");
	s = step(r, 0);
	assert_true(fl_json_bool(s, "fallback", false));
	assert_int_equal(fl_json_int(s, "attempts", 0), 2);
	assert_string_equal(fl_json_str(s, "path", ""), "builtin");
	assert_int_equal(clk.sleeps, 0);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_failing_fallback_fails_run(void **state)
{
	struct tnode a = { .fail_times = 100, .fallback_fails = true };
	struct flow_node *g = flow_graph_new("g");
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, tnode_fb("a", &a));
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EFALLBACK);
	assert_non_null(strstr(flow_result_error(r), "fallback broke too"));
	assert_non_null(strstr(flow_result_error(r), "boom 1"));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_retry_runs_are_deterministic(void **state)
{
	char *traces[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct fake_clock clk = { 0 };
		struct flow_clock fc = { fake_now, fake_sleep, &clk };
		struct flow_opts opts = { .clock = &fc };
		struct tnode a = { .fail_times = 3, .clock = &clk, .exec_cost_us = 7 };
		struct flow_node *g = flow_graph_new("g"), *na = tnode_fb("a", &a);
		json_t *shared = json_object();
		struct flow_result *r;

		flow_node_set_retries(na, 3, 250);
		flow_graph_add(g, na);
		r = flow_run_opts(g, shared, NULL, &opts);
		traces[i] = fl_json_dumps(flow_result_trace(r));
		flow_result_free(r);
		json_decref(shared);
		flow_node_free(g);
	}
	assert_string_equal(traces[0], traces[1]);
	assert_non_null(strstr(traces[0], "\"duration_us\":521"));
	free(traces[0]);
	free(traces[1]);
}

static void test_invalid_retry_settings_are_refused(void **state)
{
	struct tnode a = { 0 };
	struct flow_node *na = tnode("a", &a);

	(void)state;
	assert_int_equal(flow_node_set_retries(na, 0, 0), FLOW_EINVAL);
	assert_int_equal(flow_node_set_retries(na, 1, -1), FLOW_EINVAL);
	assert_null(flow_node_new("", &t_ops, NULL));
	assert_null(flow_node_new(NULL, &t_ops, NULL));
	assert_null(flow_node_new("x", NULL, NULL));
	flow_node_free(na);
}

/* ---- prep and post failures ---- */

static int failing_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	(void)shared;
	(void)out;
	return flow_call_fail(call, "missing key 'ticket'");
}

static int failing_post(struct flow_call *call, json_t *shared, json_t *p, json_t *e, const char **a)
{
	(void)shared;
	(void)p;
	(void)e;
	(void)a;
	return flow_call_fail(call, "cannot store result");
}

static void test_prep_and_post_failures_name_node(void **state)
{
	static const struct flow_node_ops bad_prep = { .prep = failing_prep };
	static const struct flow_node_ops bad_post = { .post = failing_post };
	struct flow_node *g1 = flow_graph_new("g1"), *g2 = flow_graph_new("g2");
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g1, flow_node_new("p", &bad_prep, NULL));
	flow_graph_add(g2, flow_node_new("q", &bad_post, NULL));
	r = flow_run(g1, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EPREP);
	assert_string_equal(flow_result_error(r), "node 'p': prep failed: missing key 'ticket'");
	flow_result_free(r);
	r = flow_run(g2, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EPOST);
	assert_string_equal(flow_result_error(r), "node 'q': post failed: cannot store result");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g1);
	flow_node_free(g2);
}

/* ---- start node ---- */

static void test_run_from_named_start(void **state)
{
	struct tnode a = { 0 }, b = { 0 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b),
			 *nc = tnode("c", &c);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, nc);
	flow_then(na, nb);
	flow_then(nb, nc);
	r = flow_run(g, shared, "b");
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(visit(shared, 0), "b");
	assert_int_equal(atomic_load(&a.calls), 0);
	flow_result_free(r);

	r = flow_run(g, shared, "nope");
	assert_int_equal(flow_result_code(r), FLOW_EUNKNOWNSTART);
	assert_string_equal(flow_result_error(r),
			    "unknown start node 'nope' in graph 'g' (available: a, b, c)");
	flow_result_free(r);
	assert_int_equal(flow_graph_set_start(g, "c"), FLOW_OK);
	assert_int_equal(flow_graph_set_start(g, "zzz"), FLOW_EUNKNOWNSTART);
	assert_string_equal(flow_node_name(flow_graph_start(g)), "c");
	json_decref(shared);
	flow_node_free(g);
}

/* ---- nested graphs ---- */

static void test_nested_graph_routes_parent_on_final_action(void **state)
{
	struct tnode in = { 0 }, s1 = { 0 }, s2 = { .action = "escalate" }, esc = { 0 }, done = { 0 };
	struct flow_node *outer = flow_graph_new("outer"), *sub = flow_graph_new("sub");
	struct flow_node *nin = tnode("in", &in), *n1 = tnode("s1", &s1), *n2 = tnode("s2", &s2);
	struct flow_node *nesc = tnode("esc", &esc), *ndone = tnode("done", &done);
	json_t *shared = json_object(), *st;
	struct flow_result *r;

	(void)state;
	flow_graph_add(sub, n1);
	flow_graph_add(sub, n2);
	flow_then(n1, n2);
	flow_graph_add(outer, nin);
	flow_graph_add(outer, sub);
	flow_graph_add(outer, nesc);
	flow_graph_add(outer, ndone);
	flow_then(nin, sub);
	flow_on(sub, "escalate", nesc);
	flow_then(sub, ndone);
	r = flow_run(outer, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(visit(shared, 0), "in");
	assert_string_equal(visit(shared, 1), "s1");
	assert_string_equal(visit(shared, 2), "s2");
	assert_string_equal(visit(shared, 3), "esc");
	assert_int_equal(atomic_load(&done.calls), 0);
	/* trace: in, sub/s1, sub/s2, sub (graph), esc */
	assert_int_equal(flow_result_steps(r), 5);
	assert_string_equal(fl_json_str(step(r, 1), "node", ""), "sub/s1");
	st = step(r, 3);
	assert_string_equal(fl_json_str(st, "node", ""), "sub");
	assert_string_equal(fl_json_str(st, "kind", ""), "graph");
	assert_string_equal(fl_json_str(st, "action", ""), "escalate");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(outer);
}

/* ---- cycles, step limit, deadline ---- */

static void test_cycles_run_until_they_exit(void **state)
{
	struct tnode a = { 0 }, b = { .loop_limit = 5 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b),
			 *nc = tnode("c", &c);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, nc);
	flow_then(na, nb);
	flow_on(nb, "again", na);
	flow_on(nb, "done", nc);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(atomic_load(&a.calls), 5);
	assert_int_equal(atomic_load(&c.calls), 1);
	assert_int_equal(flow_result_steps(r), 11);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_runaway_cycle_trips_step_limit(void **state)
{
	struct tnode a = { 0 }, b = { .loop_limit = 1000000 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b);
	struct flow_opts opts = { .max_steps = 25 };
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_then(na, nb);
	flow_on(nb, "again", na);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_ESTEPS);
	assert_string_equal(flow_result_error(r), "step limit of 25 reached at node 'b'");
	assert_int_equal(flow_result_steps(r), 25);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_deadline_stops_run_at_node(void **state)
{
	struct fake_clock clk = { 0 };
	struct flow_clock fc = { fake_now, fake_sleep, &clk };
	struct flow_opts opts = { .clock = &fc, .timeout_us = 1000 };
	struct tnode a = { .clock = &clk, .exec_cost_us = 600 }, b = { .clock = &clk, .exec_cost_us = 600 },
		     c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b),
			 *nc = tnode("c", &c);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, nc);
	flow_then(na, nb);
	flow_then(nb, nc);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_EDEADLINE);
	assert_string_equal(flow_result_error(r), "deadline passed before node 'c'");
	assert_int_equal(atomic_load(&c.calls), 0);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_deadline_stops_retries(void **state)
{
	struct fake_clock clk = { 0 };
	struct flow_clock fc = { fake_now, fake_sleep, &clk };
	struct flow_opts opts = { .clock = &fc, .timeout_us = 2500 };
	struct tnode a = { .fail_times = 100 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode_fb("a", &a);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_node_set_retries(na, 10, 1000);
	flow_graph_add(g, na);
	r = flow_run_opts(g, shared, NULL, &opts);
	assert_int_equal(flow_result_code(r), FLOW_EDEADLINE);
	assert_int_equal(atomic_load(&a.calls), 3);
	assert_int_equal(a.fallback_calls, 0);
	assert_string_equal(flow_result_error(r), "deadline passed at node 'a'");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

/* ---- batch ---- */

struct bnode {
	atomic_int calls;
	atomic_int in_flight;
	atomic_int max_in_flight;
	int fail_first_of_item;    /* item index whose first attempt fails; -1 none */
	int fail_always_item;      /* -1 none */
	bool sleep;
	int nitems;
};

static int b_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct bnode *b = flow_call_data(call);
	int i;

	(void)shared;
	*out = json_array();
	for (i = 0; i < b->nitems; i++)
		json_array_append_new(*out, json_integer(i));
	return 0;
}

static int b_exec(struct flow_call *call, json_t *item, json_t **out)
{
	struct bnode *b = flow_call_data(call);
	json_int_t v = json_integer_value(item);
	int now, prev;

	atomic_fetch_add(&b->calls, 1);
	assert_int_equal(flow_call_item(call), v);
	now = atomic_fetch_add(&b->in_flight, 1) + 1;
	prev = atomic_load(&b->max_in_flight);
	while (now > prev && !atomic_compare_exchange_weak(&b->max_in_flight, &prev, now))
		;
	if (b->sleep && v < 2) {
		/*
		 * Items 0 and 1 meet: each waits (up to 10 s) until two items are
		 * in flight, so that concurrency is shown however busy the machine
		 * is; a pool that ran items one at a time would fail below.
		 */
		struct timespec tick = { 0, 100000 };
		int waited;

		for (waited = 0; atomic_load(&b->in_flight) < 2 && waited < 100000; waited++)
			nanosleep(&tick, NULL);
	}
	if (b->sleep) {
		/* scramble completion order: later items finish first */
		struct timespec ts = { 0, (long)(100 - v % 100) * 5000 };

		nanosleep(&ts, NULL);
	}
	atomic_fetch_sub(&b->in_flight, 1);
	if (v == b->fail_always_item)
		return flow_call_fail(call, "item %d is poison", (int)v);
	if (v == b->fail_first_of_item && flow_call_attempt(call) == 1)
		return flow_call_fail(call, "transient");
	*out = json_integer(v * v);
	return 0;
}

static int b_post(struct flow_call *call, json_t *shared, json_t *p, json_t *e, const char **a)
{
	(void)call;
	(void)p;
	(void)a;
	json_object_set(shared, "results", e);
	return 0;
}

static const struct flow_node_ops b_ops = { .prep = b_prep, .exec = b_exec, .post = b_post };

static void check_batch(int workers, int nitems)
{
	struct bnode b = { .fail_first_of_item = 3, .fail_always_item = -1, .sleep = workers > 1,
			   .nitems = nitems };
	struct flow_node *g = flow_graph_new("g"), *n = flow_node_new("squares", &b_ops, &b);
	json_t *shared = json_object(), *res;
	struct flow_result *r;
	int i;

	flow_node_set_retries(n, 2, 0);
	assert_int_equal(flow_node_set_batch(n, workers), FLOW_OK);
	flow_graph_add(g, n);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	res = json_object_get(shared, "results");
	assert_int_equal(json_array_size(res), nitems);
	for (i = 0; i < nitems; i++)
		assert_int_equal(json_integer_value(json_array_get(res, i)), (json_int_t)i * i);
	/* one extra attempt for item 3 only: retries are per item */
	assert_int_equal(atomic_load(&b.calls), nitems + 1);
	assert_int_equal(fl_json_int(step(r, 0), "attempts", 0), nitems + 1);
	assert_int_equal(fl_json_int(step(r, 0), "items", 0), nitems);
	if (workers > 1) {
		assert_true(atomic_load(&b.max_in_flight) >= 2);
		assert_true(atomic_load(&b.max_in_flight) <= workers);
		assert_string_equal(fl_json_str(step(r, 0), "kind", ""), "parallel_batch");
	} else {
		assert_int_equal(atomic_load(&b.max_in_flight), 1);
	}
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_batch_runs_each_item_in_order(void **state)
{
	(void)state;
	check_batch(1, 20);
}

static void test_parallel_batch_keeps_input_order(void **state)
{
	(void)state;
	check_batch(4, 100);
}

static void test_batch_item_failure_names_item(void **state)
{
	struct bnode b = { .fail_first_of_item = -1, .fail_always_item = 7, .nitems = 10 };
	struct flow_node *g = flow_graph_new("g"), *n = flow_node_new("items", &b_ops, &b);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_node_set_batch(n, 3);
	flow_graph_add(g, n);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_non_null(strstr(flow_result_error(r), "batch item 7"));
	assert_non_null(strstr(flow_result_error(r), "item 7 is poison"));
	assert_null(json_object_get(shared, "results"));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_batch_prep_must_return_array(void **state)
{
	struct tnode a = { 0 };
	struct flow_node *g = flow_graph_new("g"), *n = tnode("a", &a);
	json_t *shared = json_pack("{s:{}}", "input");
	struct flow_result *r;

	(void)state;
	flow_node_set_batch(n, 1);
	flow_graph_add(g, n);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EBATCH);
	assert_string_equal(flow_result_error(r), "node 'a': batch prep returned an object, not an array");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

/* ---- fan-out ---- */

struct rendezvous {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int arrived;
	int expected;
};

static int meet_exec(struct flow_call *call, json_t *prep_res, json_t **out)
{
	struct rendezvous *rv = flow_call_data(call);
	struct timespec until;
	bool met;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&rv->mu);
	rv->arrived++;
	pthread_cond_broadcast(&rv->cv);
	while (rv->arrived < rv->expected &&
	       pthread_cond_timedwait(&rv->cv, &rv->mu, &until) == 0)
		;
	met = rv->arrived >= rv->expected;
	pthread_mutex_unlock(&rv->mu);
	if (!met)
		return flow_call_fail(call, "children did not run concurrently");
	*out = json_pack("{s:s, s:O}", "child", flow_call_node_name(call), "saw", prep_res);
	return 0;
}

static int meet_post(struct flow_call *call, json_t *shared, json_t *p, json_t *e, const char **a)
{
	json_t *order = json_object_get(shared, "order");

	(void)p;
	(void)a;
	json_array_append_new(order, json_string(flow_call_node_name(call)));
	json_object_set(shared, flow_call_node_name(call), e);
	return 0;
}

static void test_fanout_runs_children_concurrently_and_joins(void **state)
{
	static const struct flow_node_ops ops = { .prep = t_prep, .exec = meet_exec, .post = meet_post };
	struct rendezvous rv = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 2 };
	struct tnode after = { 0 };
	struct flow_node *g = flow_graph_new("g"), *fan = flow_fanout_new("analysis", 2),
			 *nafter = tnode("after", &after);
	json_t *shared = json_pack("{s:s, s:[]}", "input", "ticket text", "order");
	struct flow_result *r;

	(void)state;
	assert_int_equal(flow_fanout_add(fan, flow_node_new("sentiment", &ops, &rv)), FLOW_OK);
	assert_int_equal(flow_fanout_add(fan, flow_node_new("category", &ops, &rv)), FLOW_OK);
	flow_graph_add(g, fan);
	flow_graph_add(g, nafter);
	flow_then(fan, nafter);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(fl_json_str(json_object_get(shared, "sentiment"), "saw", ""), "ticket text");
	assert_string_equal(fl_json_str(json_object_get(shared, "category"), "saw", ""), "ticket text");
	/* posts ran in child order after the join */
	assert_string_equal(json_string_value(json_array_get(json_object_get(shared, "order"), 0)), "sentiment");
	assert_string_equal(json_string_value(json_array_get(json_object_get(shared, "order"), 1)), "category");
	assert_int_equal(atomic_load(&after.calls), 1);
	assert_string_equal(fl_json_str(step(r, 0), "node", ""), "analysis/sentiment");
	assert_string_equal(fl_json_str(step(r, 2), "kind", ""), "fanout");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_fanout_child_failure_fails_run(void **state)
{
	struct tnode ok = { 0 }, bad = { .fail_times = 100 };
	struct flow_node *g = flow_graph_new("g"), *fan = flow_fanout_new("fan", 2);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_fanout_add(fan, tnode("ok", &ok));
	flow_fanout_add(fan, tnode("bad", &bad));
	assert_int_equal(flow_fanout_add(fan, flow_graph_new("nested")), FLOW_EINVAL);
	flow_graph_add(g, fan);
	r = flow_run(g, shared, NULL);
	/* the fan-out itself recorded the refused child */
	assert_int_equal(flow_result_code(r), FLOW_EINVAL);
	flow_result_free(r);
	flow_node_free(g);

	g = flow_graph_new("g");
	fan = flow_fanout_new("fan", 2);
	flow_fanout_add(fan, tnode("ok", &ok));
	flow_fanout_add(fan, tnode("bad", &bad));
	flow_graph_add(g, fan);
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_string_equal(flow_result_failed_node(r), "fan/bad");
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

/* ---- typed errors: a code beside the message ---- */

/*
 * A node whose ops fail with codes: exec fails with exec_code (or plainly
 * when NULL) for the first fail_times attempts; the fallback, when set,
 * fails with fallback_code (plainly when NULL) or succeeds when
 * fallback_ok; prep or post fail with a code when asked.
 */
struct enode {
	int fail_times;
	const char *exec_code;
	int plain_from;            /* attempts from this one on fail without a code (0: never) */
	bool fallback_ok;
	const char *fallback_code;
	const char *prep_code;
	const char *post_code;
	atomic_int calls;
};

static int e_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct enode *e = flow_call_data(call);

	(void)shared;
	if (e->prep_code)
		return flow_call_error(call, e->prep_code, "prep refused: %s", "no input");
	*out = json_array();
	json_array_append_new(*out, json_integer(1));
	return 0;
}

static int e_exec(struct flow_call *call, json_t *prep_res, json_t **out)
{
	struct enode *e = flow_call_data(call);
	int n = atomic_fetch_add(&e->calls, 1) + 1;

	(void)prep_res;
	if (n > e->fail_times) {
		*out = json_string("done");
		return 0;
	}
	if (e->plain_from && n >= e->plain_from)
		return flow_call_fail(call, "plain failure %d", n);
	if (!e->exec_code)
		return flow_call_fail(call, "plain failure %d", n);
	return flow_call_error(call, e->exec_code, "typed failure %d", n);
}

static int e_fallback(struct flow_call *call, json_t *prep_res, const char *error, json_t **out)
{
	struct enode *e = flow_call_data(call);

	(void)prep_res;
	if (e->fallback_ok) {
		*out = json_pack("{s:s}", "stood_in_for", error);
		return 0;
	}
	if (e->fallback_code)
		return flow_call_error(call, e->fallback_code, "fallback refused too");
	return flow_call_fail(call, "fallback broke");
}

static int e_post(struct flow_call *call, json_t *shared, json_t *prep_res, json_t *exec_res,
		  const char **action)
{
	struct enode *e = flow_call_data(call);

	(void)shared;
	(void)prep_res;
	(void)exec_res;
	if (e->post_code)
		return flow_call_error(call, e->post_code, "post refused");
	*action = NULL;
	return 0;
}

static const struct flow_node_ops e_ops = { .prep = e_prep, .exec = e_exec, .post = e_post };
static const struct flow_node_ops e_ops_fb = {
	.prep = e_prep, .exec = e_exec, .post = e_post, .exec_fallback = e_fallback,
};

/* Runs one node (in a graph named g) and returns the result; *shared is freed by the caller. */
static struct flow_result *run_one(struct flow_node *n, struct flow_node **g)
{
	json_t *shared = json_object();
	struct flow_result *r;

	*g = flow_graph_new("g");
	flow_graph_add(*g, n);
	r = flow_run(*g, shared, NULL);
	json_decref(shared);
	return r;
}

/* The run failed with rc and code, and its one step says the code; frees r and g. */
static void expect_typed(struct flow_result *r, struct flow_node *g, int rc, const char *code)
{
	assert_int_equal(flow_result_code(r), rc);
	assert_string_equal(flow_result_error_code(r), code);
	assert_string_equal(fl_json_str(step(r, 0), "error_code", ""), code);
	flow_result_free(r);
	flow_node_free(g);
}

static void test_typed_exec_error_reaches_result_and_trace(void **state)
{
	struct enode e = { .fail_times = 100, .exec_code = "E_TICKET" };
	struct flow_node *g, *n = flow_node_new("check", &e_ops, &e);
	struct flow_result *r;

	(void)state;
	flow_node_set_retries(n, 2, 0);
	r = run_one(n, &g);
	/* the message is the op's, unchanged, with the engine's frame */
	assert_string_equal(flow_result_error(r), "node 'check' failed after 2 attempts: typed failure 2");
	assert_string_equal(fl_json_str(step(r, 0), "error", ""), flow_result_error(r));
	expect_typed(r, g, FLOW_EEXEC, "E_TICKET");
}

static void test_plain_failure_has_no_code(void **state)
{
	/* a retry that fails plainly forgets the code of the attempt before */
	struct enode e = { .fail_times = 100, .exec_code = "E_FIRST", .plain_from = 2 };
	struct flow_node *g, *n = flow_node_new("check", &e_ops, &e);
	struct flow_result *r;

	(void)state;
	flow_node_set_retries(n, 2, 0);
	r = run_one(n, &g);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_null(flow_result_error_code(r));
	assert_null(json_object_get(step(r, 0), "error_code"));
	assert_non_null(strstr(flow_result_error(r), "plain failure 2"));
	flow_result_free(r);
	flow_node_free(g);

	/* and an engine error (the step limit) has none either */
	{
		struct tnode a = { .loop_limit = 1000 };
		struct flow_node *loop = flow_graph_new("loop"), *na = tnode("a", &a);
		json_t *shared = json_object();
		struct flow_opts opts = { .max_steps = 3 };

		flow_graph_add(loop, na);
		flow_on(na, "again", na);
		r = flow_run_opts(loop, shared, NULL, &opts);
		assert_int_equal(flow_result_code(r), FLOW_ESTEPS);
		assert_null(flow_result_error_code(r));
		flow_result_free(r);
		json_decref(shared);
		flow_node_free(loop);
	}
}

static void test_typed_error_through_fallbacks(void **state)
{
	struct enode stood = { .fail_times = 100, .exec_code = "E_LLM", .fallback_ok = true };
	struct enode both = { .fail_times = 100, .exec_code = "E_LLM", .fallback_code = "E_BUILTIN" };
	struct enode plain_fb = { .fail_times = 100, .exec_code = "E_LLM" };
	struct flow_node *g;
	struct flow_result *r;

	(void)state;
	/* the fallback stood in: the run succeeds; the step keeps exec's error and its code */
	r = run_one(flow_node_new("n", &e_ops_fb, &stood), &g);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_null(flow_result_error_code(r));
	assert_true(fl_json_bool(step(r, 0), "fallback", false));
	assert_string_equal(fl_json_str(step(r, 0), "error", ""), "typed failure 1");
	assert_string_equal(fl_json_str(step(r, 0), "error_code", ""), "E_LLM");
	flow_result_free(r);
	flow_node_free(g);

	/* both failed with codes: the fallback's wins */
	r = run_one(flow_node_new("n", &e_ops_fb, &both), &g);
	expect_typed(r, g, FLOW_EFALLBACK, "E_BUILTIN");

	/* the fallback failed plainly: exec's code stays */
	r = run_one(flow_node_new("n", &e_ops_fb, &plain_fb), &g);
	expect_typed(r, g, FLOW_EFALLBACK, "E_LLM");
}

static void test_typed_prep_and_post_errors(void **state)
{
	struct enode p = { .prep_code = "E_PREP" }, q = { .post_code = "E_POST" };
	struct flow_node *g;
	struct flow_result *r;

	(void)state;
	r = run_one(flow_node_new("p", &e_ops, &p), &g);
	assert_string_equal(flow_result_error(r), "node 'p': prep failed: prep refused: no input");
	assert_int_equal(atomic_load(&p.calls), 0);
	expect_typed(r, g, FLOW_EPREP, "E_PREP");

	r = run_one(flow_node_new("q", &e_ops, &q), &g);
	expect_typed(r, g, FLOW_EPOST, "E_POST");
}

static void test_typed_error_leaves_nested_graph_batch_and_fanout(void **state)
{
	struct enode inner = { .fail_times = 100, .exec_code = "E_INNER" };
	struct enode item = { .fail_times = 100, .exec_code = "E_ITEM" };
	struct enode child = { .fail_times = 100, .exec_code = "E_CHILD" };
	struct tnode ok = { 0 };
	struct flow_node *outer = flow_graph_new("outer"), *sub = flow_graph_new("sub");
	struct flow_node *g, *batch, *fan;
	json_t *shared = json_object();
	struct flow_result *r;
	size_t i;

	(void)state;
	/* a graph inside a graph: the code reaches the outer run and both steps */
	flow_graph_add(sub, flow_node_new("check", &e_ops, &inner));
	flow_graph_add(outer, sub);
	r = flow_run(outer, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_string_equal(flow_result_failed_node(r), "sub/check");
	assert_string_equal(flow_result_error_code(r), "E_INNER");
	for (i = 0; i < flow_result_steps(r); i++)
		assert_string_equal(fl_json_str(step(r, i), "error_code", ""), "E_INNER");
	assert_int_equal(flow_result_steps(r), 2);
	flow_result_free(r);
	flow_node_free(outer);

	/* a batch item */
	batch = flow_node_new("items", &e_ops, &item);
	flow_node_set_batch(batch, 2);
	r = run_one(batch, &g);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_string_equal(flow_result_error_code(r), "E_ITEM");
	assert_non_null(strstr(flow_result_error(r), "batch item 0"));
	flow_result_free(r);
	flow_node_free(g);

	/* a fan-out child */
	fan = flow_fanout_new("fan", 2);
	flow_fanout_add(fan, tnode("ok", &ok));
	flow_fanout_add(fan, flow_node_new("bad", &e_ops, &child));
	r = run_one(fan, &g);
	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_string_equal(flow_result_failed_node(r), "fan/bad");
	assert_string_equal(flow_result_error_code(r), "E_CHILD");
	flow_result_free(r);
	flow_node_free(g);
	json_decref(shared);
}

/* ---- validation ---- */

static void test_validation_reports_duplicate_names(void **state)
{
	struct tnode a = { 0 };
	struct flow_node *g = flow_graph_new("g");

	(void)state;
	flow_graph_add(g, tnode("a", &a));
	assert_int_equal(flow_graph_add(g, tnode("a", &a)), FLOW_EDUP);
	assert_int_equal(flow_graph_validate(g), FLOW_EDUP);
	assert_string_equal(flow_graph_errmsg(g), "duplicate node name 'a' in graph 'g'");
	flow_node_free(g);
}

static void test_validation_reports_unreachable_node(void **state)
{
	struct tnode a = { 0 }, b = { 0 }, c = { 0 };
	struct flow_node *g = flow_graph_new("g"), *na = tnode("a", &a), *nb = tnode("b", &b);
	json_t *shared = json_object();
	struct flow_result *r;

	(void)state;
	flow_graph_add(g, na);
	flow_graph_add(g, nb);
	flow_graph_add(g, tnode("orphan", &c));
	flow_then(na, nb);
	assert_int_equal(flow_graph_validate(g), FLOW_EUNREACHABLE);
	assert_string_equal(flow_graph_errmsg(g), "node 'orphan' in graph 'g' is not reachable from start 'a'");
	r = flow_run(g, shared, NULL);
	assert_int_equal(flow_result_code(r), FLOW_EUNREACHABLE);
	assert_int_equal(atomic_load(&a.calls), 0);
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_validation_reports_null_node_and_dangling_successor(void **state)
{
	struct tnode a = { 0 }, b = { 0 };
	struct flow_node *g = flow_graph_new("g"), *g2 = flow_graph_new("g2"), *na = tnode("a", &a),
			 *outside = tnode("outside", &b), *empty = flow_graph_new("empty");

	(void)state;
	flow_graph_add(g, na);
	assert_int_equal(flow_graph_add(g, NULL), FLOW_EINVAL);
	assert_int_equal(flow_graph_validate(g), FLOW_EINVAL);
	assert_string_equal(flow_graph_errmsg(g), "cannot add a NULL node to graph 'g'");

	flow_graph_add(g2, tnode("a", &a));
	flow_then(flow_graph_find(g2, "a"), outside);
	assert_int_equal(flow_graph_validate(g2), FLOW_EDANGLING);
	assert_non_null(strstr(flow_graph_errmsg(g2), "leads to 'outside', which is not in the graph"));

	assert_int_equal(flow_graph_validate(empty), FLOW_ENOSTART);
	assert_string_equal(flow_graph_errmsg(empty), "graph 'empty' has no nodes");
	flow_node_free(g);
	flow_node_free(g2);
	flow_node_free(outside);
	flow_node_free(empty);
}

static void test_validation_reaches_into_nested_graphs(void **state)
{
	struct tnode a = { 0 }, b = { 0 }, c = { 0 };
	struct flow_node *outer = flow_graph_new("outer"), *sub = flow_graph_new("sub");

	(void)state;
	flow_graph_add(sub, tnode("x", &a));
	flow_graph_add(sub, tnode("stray", &b));
	flow_graph_add(outer, tnode("in", &c));
	flow_graph_add(outer, sub);
	flow_then(flow_graph_find(outer, "in"), sub);
	assert_int_equal(flow_graph_validate(outer), FLOW_EUNREACHABLE);
	assert_string_equal(flow_graph_errmsg(outer), "node 'stray' in graph 'sub' is not reachable from start 'x'");
	flow_node_free(outer);
}

static void test_node_cannot_join_two_graphs(void **state)
{
	struct tnode a = { 0 };
	struct flow_node *g1 = flow_graph_new("g1"), *g2 = flow_graph_new("g2"), *na = tnode("a", &a);

	(void)state;
	assert_int_equal(flow_graph_add(g1, na), FLOW_OK);
	assert_int_equal(flow_graph_add(g2, na), FLOW_EOWNED);
	flow_node_free(g1);
	flow_node_free(g2);
}

/* ---- export ---- */

static struct flow_node *export_graph(struct tnode *t)
{
	struct flow_node *g = flow_graph_new("support"), *sub = flow_graph_new("high");
	struct flow_node *a = tnode("ingest", t), *b = tnode("kb", t), *c = tnode("reply", t);
	struct flow_node *d = tnode("done", t);

	flow_graph_add(sub, b);
	flow_graph_add(g, a);
	flow_graph_add(g, sub);
	flow_graph_add(g, c);
	flow_graph_add(g, d);
	flow_on(a, "urgent", sub);
	flow_on(a, "standard", c);
	flow_then(sub, d);
	flow_then(c, d);
	return g;
}

static void test_export_dot(void **state)
{
	struct tnode t = { 0 };
	struct flow_node *g = export_graph(&t);
	char *dot = flow_graph_dot(g);

	(void)state;
	assert_true(fl_str_has_prefix(dot, "digraph \"support\" {"));
	assert_non_null(strstr(dot, "\"ingest\" -> \"reply\" [label=\"standard\"];"));
	assert_non_null(strstr(dot, "\"ingest\" -> \"high/kb\" [label=\"urgent\", lhead=\"cluster_high\"];"));
	assert_non_null(strstr(dot, "subgraph \"cluster_high\""));
	assert_non_null(strstr(dot, "\"high/kb\" -> \"done\" [ltail=\"cluster_high\"];"));
	assert_non_null(strstr(dot, "\"__start\" -> \"ingest\";"));
	assert_true(fl_str_has_suffix(dot, "}\n"));
	free(dot);
	flow_node_free(g);
}

static void test_export_mermaid_and_text(void **state)
{
	struct tnode t = { 0 };
	struct flow_node *g = export_graph(&t);
	char *m = flow_graph_mermaid(g), *txt = flow_graph_text(g);

	(void)state;
	assert_true(fl_str_has_prefix(m, "flowchart TD\n"));
	assert_non_null(strstr(m, "n_ingest -->|\"urgent\"| n_high"));
	assert_non_null(strstr(m, "subgraph n_high [\"high (graph)\"]"));
	assert_non_null(strstr(m, "n_reply --> n_done"));
	assert_non_null(strstr(txt, "support [graph, start: ingest]"));
	assert_non_null(strstr(txt, "--urgent--> high"));
	free(m);
	free(txt);
	flow_node_free(g);
}

static void test_errnames_and_messages(void **state)
{
	(void)state;
	assert_string_equal(flow_errname(FLOW_ESTEPS), "FLOW_ESTEPS");
	assert_string_equal(flow_strerror(FLOW_EDUP), "duplicate node name");
	assert_string_equal(flow_strerror(9999), "unknown error");
	assert_string_equal(flow_strerror(FLOW_OK), "success");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear_graph_passes_values_and_routes_default),
		cmocka_unit_test(test_named_action_picks_successor),
		cmocka_unit_test(test_duplicate_successor_is_refused),
		cmocka_unit_test(test_unknown_action_ends_run_with_warning),
		cmocka_unit_test(test_last_node_without_successors_ends_quietly),
		cmocka_unit_test(test_typed_context_reaches_ops),
		cmocka_unit_test(test_retries_are_counted_exactly_and_wait_between),
		cmocka_unit_test(test_exhausted_retries_fail_run_naming_node),
		cmocka_unit_test(test_fallback_output_is_used_after_last_failure),
		cmocka_unit_test(test_failing_fallback_fails_run),
		cmocka_unit_test(test_retry_runs_are_deterministic),
		cmocka_unit_test(test_invalid_retry_settings_are_refused),
		cmocka_unit_test(test_prep_and_post_failures_name_node),
		cmocka_unit_test(test_run_from_named_start),
		cmocka_unit_test(test_nested_graph_routes_parent_on_final_action),
		cmocka_unit_test(test_cycles_run_until_they_exit),
		cmocka_unit_test(test_runaway_cycle_trips_step_limit),
		cmocka_unit_test(test_deadline_stops_run_at_node),
		cmocka_unit_test(test_deadline_stops_retries),
		cmocka_unit_test(test_batch_runs_each_item_in_order),
		cmocka_unit_test(test_parallel_batch_keeps_input_order),
		cmocka_unit_test(test_batch_item_failure_names_item),
		cmocka_unit_test(test_batch_prep_must_return_array),
		cmocka_unit_test(test_fanout_runs_children_concurrently_and_joins),
		cmocka_unit_test(test_fanout_child_failure_fails_run),
		cmocka_unit_test(test_typed_exec_error_reaches_result_and_trace),
		cmocka_unit_test(test_plain_failure_has_no_code),
		cmocka_unit_test(test_typed_error_through_fallbacks),
		cmocka_unit_test(test_typed_prep_and_post_errors),
		cmocka_unit_test(test_typed_error_leaves_nested_graph_batch_and_fanout),
		cmocka_unit_test(test_validation_reports_duplicate_names),
		cmocka_unit_test(test_validation_reports_unreachable_node),
		cmocka_unit_test(test_validation_reports_null_node_and_dangling_successor),
		cmocka_unit_test(test_validation_reaches_into_nested_graphs),
		cmocka_unit_test(test_node_cannot_join_two_graphs),
		cmocka_unit_test(test_export_dot),
		cmocka_unit_test(test_export_mermaid_and_text),
		cmocka_unit_test(test_errnames_and_messages),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
