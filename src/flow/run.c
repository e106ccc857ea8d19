/*
 * Running graphs: the step loop, retries with waits and fallbacks, batch and
 * parallel-batch nodes, fan-outs, nested graphs, the step limit and deadline,
 * and the trace. Building and validation are in node.c; the per-step handle
 * that ops receive is in call.c.
 *
 * A failure travels as a message and, when the op gave one
 * (flow_call_error), a code: the first failure of a run sets both, the
 * failed step's trace entry records them ("error", "error_code").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_int.h"

/* ---- run state ---- */

static int64_t real_now(void *arg)
{
	(void)arg;
	return fl_mono_us();
}

static void real_sleep(void *arg, int64_t us)
{
	(void)arg;
	fl_sleep_us(us);
}

static const struct flow_clock real_clock = { real_now, real_sleep, NULL };

static int64_t run_now(const struct flow_result *run)
{
	return run->clock.now_us(run->clock.arg);
}

/* Records the run's failure once: the first error wins. code: the op's, or NULL. */
static int run_fail_code(struct flow_result *run, int rc, const char *code, const char *node,
			 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int run_vfail(struct flow_result *run, int rc, const char *code, const char *node,
		     const char *fmt, va_list ap) FL_PRINTF(5, 0);

static int run_vfail(struct flow_result *run, int rc, const char *code, const char *node,
		     const char *fmt, va_list ap)
{
	/* batch children of a fan-out fail from worker threads */
	pthread_mutex_lock(&run->lock);
	if (run->rc != FLOW_OK) {
		rc = run->rc;
		goto out;
	}
	run->rc = rc;
	run->error = fl_vasprintf(fmt, ap);
	run->error_code = code ? fl_strdup(code) : NULL;
	run->failed_node = fl_strdup(node);
out:
	pthread_mutex_unlock(&run->lock);
	return rc;
}

static int run_fail_code(struct flow_result *run, int rc, const char *code, const char *node,
			 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = run_vfail(run, rc, code, node, fmt, ap);
	va_end(ap);
	return rc;
}

static int run_fail(struct flow_result *run, int rc, const char *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int run_fail(struct flow_result *run, int rc, const char *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = run_vfail(run, rc, NULL, node, fmt, ap);
	va_end(ap);
	return rc;
}

static void run_warn(struct flow_result *run, char *msg)
{
	json_array_append_new(run->warnings, json_string(msg));
	if (run->warn)
		run->warn(run->warn_arg, msg);
	else
		fl_log(FL_LOG_WARN, "%s", msg);
	free(msg);
}

static bool deadline_passed(const struct flow_result *run)
{
	return run->deadline && run_now(run) >= run->deadline;
}

static char *path_of(const char *prefix, const struct flow_node *n)
{
	return prefix ? fl_asprintf("%s/%s", prefix, n->name) : fl_strdup(n->name);
}

static json_t *step_new(const char *path, const char *kind)
{
	json_t *step = json_object();

	/* names and actions were checked when they were set: skip re-validation */
	json_object_set_new_nocheck(step, "node", json_string(path));
	if (kind)
		json_object_set_new_nocheck(step, "kind", json_string_nocheck(kind));
	return step;
}

static void step_finish(struct flow_result *run, json_t *step, const char *action,
			int attempts, int64_t t0, bool fallback, const char *error, const char *code)
{
	json_object_set_new_nocheck(step, "action", json_string(action ? action : FLOW_DEFAULT_ACTION));
	json_object_set_new_nocheck(step, "attempts", json_integer(attempts));
	json_object_set_new_nocheck(step, "duration_us", json_integer(run_now(run) - t0));
	json_object_set_new_nocheck(step, "fallback", json_boolean(fallback));
	if (error)
		json_object_set_new(step, "error", json_string(error));
	if (error && code)
		json_object_set_new(step, "error_code", json_string(code));
}

/* ---- exec with retries and fallback ---- */

struct exec_out {
	json_t *res;        /* owned */
	int attempts;
	bool fallback;
	int rc;             /* FLOW_OK, FLOW_EEXEC, FLOW_EFALLBACK or FLOW_EDEADLINE */
	char *error;        /* last exec error (kept even when the fallback succeeded) */
	char *code;         /* its code (flow_call_error), or NULL */
};

static void exec_out_release(struct exec_out *o)
{
	json_decref(o->res);
	free(o->error);
	free(o->code);
	memset(o, 0, sizeof(*o));
}

/* Keeps the call's error (or what) and its code as the exec's last error. */
static void exec_out_error(struct exec_out *o, const struct flow_call *call, const char *what)
{
	free(o->error);
	free(o->code);
	o->error = fl_strdup(flow__call_error(call, what));
	o->code = call->code ? fl_strdup(call->code) : NULL;
}

static void exec_with_retries(struct flow_call *call, json_t *prep_res, struct exec_out *out)
{
	struct flow_node *n = call->node;
	struct flow_result *run = call->run;
	json_t *res = NULL;
	int attempt;

	memset(out, 0, sizeof(*out));
	for (attempt = 1; attempt <= n->max_retries; attempt++) {
		if (deadline_passed(run)) {
			out->rc = FLOW_EDEADLINE;
			free(out->error);
			out->error = fl_strdup("deadline passed");
			return;
		}
		call->attempt = attempt;
		out->attempts = attempt;
		flow__call_reset(call);
		res = NULL;
		if (!n->ops->exec || n->ops->exec(call, prep_res, &res) == 0) {
			out->res = res ? res : json_null();
			out->rc = FLOW_OK;
			return;
		}
		json_decref(res);
		exec_out_error(out, call, "exec failed");
		if (attempt < n->max_retries && n->wait_us > 0)
			run->clock.sleep_us(run->clock.arg, n->wait_us);
	}
	if (!n->ops->exec_fallback) {
		out->rc = FLOW_EEXEC;
		return;
	}
	out->fallback = true;
	flow__call_reset(call);
	res = NULL;
	if (n->ops->exec_fallback(call, prep_res, out->error, &res) == 0) {
		out->res = res ? res : json_null();
		out->rc = FLOW_OK;
		return;
	}
	json_decref(res);
	{
		char *msg = fl_asprintf("%s (after exec error: %s)",
					flow__call_error(call, "fallback failed"), out->error);

		free(out->error);
		out->error = msg;
		/* the fallback's code, else the exec's: what the caller can act on */
		if (call->code) {
			free(out->code);
			out->code = fl_strdup(call->code);
		}
	}
	out->rc = FLOW_EFALLBACK;
}

/* Turns a failed exec_out into the run's error. */
static int fail_exec(struct flow_result *run, const char *path, const struct exec_out *o, long item)
{
	char where[48] = "";

	if (item >= 0)
		snprintf(where, sizeof(where), " (batch item %ld)", item);
	switch (o->rc) {
	case FLOW_EDEADLINE:
		return run_fail(run, FLOW_EDEADLINE, path, "deadline passed at node '%s'%s", path, where);
	case FLOW_EFALLBACK:
		return run_fail_code(run, FLOW_EFALLBACK, o->code, path, "node '%s'%s: fallback failed: %s", path,
				     where, o->error);
	default:
		return run_fail_code(run, FLOW_EEXEC, o->code, path, "node '%s'%s failed after %d attempt%s: %s",
				     path, where, o->attempts, o->attempts == 1 ? "" : "s", o->error);
	}
}

/* ---- a bounded pool of threads over an index range ---- */

struct pool {
	size_t n;
	atomic_size_t next;
	atomic_int stop;
	void (*work)(struct pool *p, size_t i);
	void *arg;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while (!atomic_load(&p->stop) && (i = atomic_fetch_add(&p->next, 1)) < p->n)
		p->work(p, i);
	return NULL;
}

/* Runs work(i) for i in [0, n) on up to workers threads, the caller being one. */
static void pool_run(struct pool *p, int workers)
{
	pthread_t *tids;
	size_t extra, started = 0, i;

	atomic_init(&p->next, 0);
	atomic_init(&p->stop, 0);
	extra = workers > 1 ? (size_t)workers - 1 : 0;
	if (extra > p->n)
		extra = p->n ? p->n - 1 : 0;
	tids = extra ? fl_calloc(extra, sizeof(*tids)) : NULL;
	for (i = 0; i < extra; i++)
		if (pthread_create(&tids[i], NULL, pool_worker, p) == 0)
			started++;
		else
			break;   /* fewer threads, same result: the caller works too */
	pool_worker(p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
}

/* ---- batch nodes ---- */

struct batch_job {
	struct flow_result *run;
	struct flow_node *node;
	json_t *step;
	json_t *items;
	struct exec_out *outs;
};

static void batch_item(struct pool *p, size_t i)
{
	struct batch_job *job = p->arg;
	struct flow_call call;

	flow__call_init(&call, job->run, job->node, job->step);
	call.item = (long)i;
	exec_with_retries(&call, json_array_get(job->items, i), &job->outs[i]);
	flow__call_release(&call);
	if (job->outs[i].rc != FLOW_OK)
		atomic_store(&p->stop, 1);   /* the node fails: stop taking items */
}

/*
 * Runs exec per item; on success *res is the array of results in input order.
 * On failure the run's error names the first failed item.
 */
static int run_batch(struct flow_result *run, struct flow_node *n, const char *path,
		     json_t *step, json_t *items, json_t **res, int *attempts, bool *fallback,
		     char **last_error, char **last_code)
{
	size_t count = json_array_size(items), i;
	struct batch_job job = { run, n, step, items, NULL };
	struct pool pool = { 0 };
	int rc = FLOW_OK;

	job.outs = fl_calloc(count ? count : 1, sizeof(*job.outs));
	pool.n = count;
	pool.work = batch_item;
	pool.arg = &job;
	if (n->batch_workers > 1) {
		pool_run(&pool, n->batch_workers);
	} else {
		for (i = 0; i < count && !atomic_load(&pool.stop); i++)
			batch_item(&pool, i);
	}
	*res = json_array();
	*attempts = 0;
	*fallback = false;
	for (i = 0; i < count; i++) {
		struct exec_out *o = &job.outs[i];

		*attempts += o->attempts;
		*fallback |= o->fallback;
		if (o->error && !*last_error) {
			*last_error = fl_strdup(o->error);
			*last_code = o->code ? fl_strdup(o->code) : NULL;
		}
		if (rc == FLOW_OK && o->attempts && o->rc != FLOW_OK)
			rc = fail_exec(run, path, o, (long)i);
		if (rc == FLOW_OK)
			json_array_append(*res, o->res);
		exec_out_release(o);
	}
	if (rc == FLOW_OK && json_array_size(*res) != count)
		rc = run_fail(run, FLOW_EEXEC, path, "node '%s': batch stopped early", path);
	free(job.outs);
	if (rc != FLOW_OK) {
		json_decref(*res);
		*res = NULL;
	}
	return rc;
}

/* ---- one plain or batch node ---- */

static int count_step(struct flow_result *run, const char *path)
{
	if (run->steps >= run->max_steps)
		return run_fail(run, FLOW_ESTEPS, path, "step limit of %u reached at node '%s'",
				run->max_steps, path);
	if (deadline_passed(run))
		return run_fail(run, FLOW_EDEADLINE, path, "deadline passed before node '%s'", path);
	run->steps++;
	return FLOW_OK;
}

static int run_prep(struct flow_result *run, struct flow_node *n, const char *path,
		    struct flow_call *call, json_t *shared, json_t **prep_res)
{
	*prep_res = NULL;
	if (n->ops->prep && n->ops->prep(call, shared, prep_res) != 0) {
		json_decref(*prep_res);
		*prep_res = NULL;
		return run_fail_code(run, FLOW_EPREP, call->code, path, "node '%s': prep failed: %s", path,
				     flow__call_error(call, "no reason given"));
	}
	if (!*prep_res)
		*prep_res = json_null();
	if (n->batch_workers && !json_is_array(*prep_res))
		return run_fail(run, FLOW_EBATCH, path, "node '%s': batch prep returned %s, not an array",
				path, json_is_object(*prep_res) ? "an object" : "a non-array value");
	return FLOW_OK;
}

static int run_post(struct flow_result *run, struct flow_node *n, const char *path,
		    struct flow_call *call, json_t *shared, json_t *prep_res, json_t *exec_res,
		    char **action)
{
	const char *act = NULL;

	flow__call_reset(call);
	if (n->ops->post && n->ops->post(call, shared, prep_res, exec_res, &act) != 0)
		return run_fail_code(run, FLOW_EPOST, call->code, path, "node '%s': post failed: %s", path,
				     flow__call_error(call, "no reason given"));
	*action = fl_strdup(act && *act ? act : FLOW_DEFAULT_ACTION);
	return FLOW_OK;
}

/* Runs one plain or batch node; *action is the action it returned (caller frees). */
static int run_node(struct flow_result *run, struct flow_node *n, json_t *shared,
		    const char *prefix, char **action)
{
	char *path = path_of(prefix, n), *last_error = NULL, *last_code = NULL;
	json_t *step, *prep_res = NULL, *exec_res = NULL;
	struct flow_call call;
	struct exec_out out = { 0 };
	int64_t t0 = run_now(run);
	int rc, attempts = 0;
	bool fallback = false;

	*action = NULL;
	if ((rc = count_step(run, path)) != FLOW_OK) {
		free(path);
		return rc;
	}
	step = step_new(path, n->batch_workers ? flow_node_kind(n) : NULL);
	flow__call_init(&call, run, n, step);
	rc = run_prep(run, n, path, &call, shared, &prep_res);
	if (rc != FLOW_OK)
		goto out;
	if (n->batch_workers) {
		json_object_set_new(step, "items", json_integer((json_int_t)json_array_size(prep_res)));
		rc = run_batch(run, n, path, step, prep_res, &exec_res, &attempts, &fallback, &last_error,
			       &last_code);
	} else {
		exec_with_retries(&call, prep_res, &out);
		if (out.rc != FLOW_OK)
			rc = fail_exec(run, path, &out, -1);
		attempts = out.attempts;
		fallback = out.fallback;
		last_error = out.error;
		last_code = out.code;
		out.error = out.code = NULL;
		exec_res = out.res;
		out.res = NULL;
	}
	if (rc != FLOW_OK)
		goto out;
	rc = run_post(run, n, path, &call, shared, prep_res, exec_res, action);
out:
	step_finish(run, step, *action, attempts, t0, fallback,
		    rc != FLOW_OK && run->error ? run->error : last_error,
		    rc != FLOW_OK && run->error ? run->error_code : last_code);
	json_array_append_new(run->trace, step);
	exec_out_release(&out);
	json_decref(prep_res);
	json_decref(exec_res);
	flow__call_release(&call);
	free(last_error);
	free(last_code);
	free(path);
	return rc;
}

/* ---- fan-out ---- */

struct fanout_job {
	struct flow_result *run;
	struct flow_node *fan;
	json_t **steps;
	json_t **prep;
	struct exec_out *outs;
	json_t **batch_res;
	int *batch_rc;
	char **paths;
};

static void fanout_child(struct pool *p, size_t i)
{
	struct fanout_job *job = p->arg;
	struct flow_node *c = job->fan->children[i];
	struct flow_call call;

	if (c->batch_workers) {
		char *last_error = NULL, *last_code = NULL;

		job->batch_rc[i] = run_batch(job->run, c, job->paths[i], job->steps[i], job->prep[i],
					     &job->batch_res[i], &job->outs[i].attempts,
					     &job->outs[i].fallback, &last_error, &last_code);
		job->outs[i].error = last_error;
		job->outs[i].code = last_code;
		return;
	}
	flow__call_init(&call, job->run, c, job->steps[i]);
	exec_with_retries(&call, job->prep[i], &job->outs[i]);
	flow__call_release(&call);
}

static int run_fanout(struct flow_result *run, struct flow_node *fan, json_t *shared,
		      const char *prefix, char **action)
{
	size_t k = fan->nchildren, i, prepared = 0;
	struct fanout_job job = { run, fan, NULL, NULL, NULL, NULL, NULL, NULL };
	struct pool pool = { 0 };
	char *path = path_of(prefix, fan);
	json_t *fan_step;
	int64_t t0 = run_now(run), *starts;
	int rc;

	*action = NULL;
	if ((rc = count_step(run, path)) != FLOW_OK) {
		free(path);
		return rc;
	}
	fan_step = step_new(path, "fanout");
	job.steps = fl_calloc(k, sizeof(*job.steps));
	job.prep = fl_calloc(k, sizeof(*job.prep));
	job.outs = fl_calloc(k, sizeof(*job.outs));
	job.batch_res = fl_calloc(k, sizeof(*job.batch_res));
	job.batch_rc = fl_calloc(k, sizeof(*job.batch_rc));
	job.paths = fl_calloc(k, sizeof(*job.paths));
	starts = fl_calloc(k, sizeof(*starts));

	/* prep in order on this thread: ops may read shared safely */
	for (i = 0; i < k && rc == FLOW_OK; i++) {
		struct flow_call call;

		job.paths[i] = path_of(path, fan->children[i]);
		job.steps[i] = step_new(job.paths[i], fan->children[i]->batch_workers ?
					flow_node_kind(fan->children[i]) : NULL);
		starts[i] = run_now(run);
		flow__call_init(&call, run, fan->children[i], job.steps[i]);
		rc = run_prep(run, fan->children[i], job.paths[i], &call, shared, &job.prep[i]);
		flow__call_release(&call);
		prepared++;
	}
	if (rc == FLOW_OK) {
		pool.n = k;
		pool.work = fanout_child;
		pool.arg = &job;
		pool_run(&pool, fan->fanout_workers);
	}
	/* join: post in order on this thread */
	for (i = 0; i < prepared; i++) {
		struct flow_node *c = fan->children[i];
		struct exec_out *o = &job.outs[i];
		json_t *res = c->batch_workers ? job.batch_res[i] : o->res;
		char *child_action = NULL;
		struct flow_call call;
		const char *err = o->error, *code = o->code;

		if (rc == FLOW_OK && c->batch_workers && job.batch_rc[i] != FLOW_OK)
			rc = job.batch_rc[i];
		else if (rc == FLOW_OK && !c->batch_workers && o->rc != FLOW_OK)
			rc = fail_exec(run, job.paths[i], o, -1);
		else if (rc == FLOW_OK) {
			flow__call_init(&call, run, c, job.steps[i]);
			rc = run_post(run, c, job.paths[i], &call, shared, job.prep[i], res, &child_action);
			flow__call_release(&call);
		}
		if (rc != FLOW_OK && run->failed_node && !strcmp(run->failed_node, job.paths[i])) {
			err = run->error;
			code = run->error_code;
		}
		step_finish(run, job.steps[i], child_action, o->attempts, starts[i], o->fallback, err, code);
		json_array_append_new(run->trace, job.steps[i]);
		job.steps[i] = NULL;
		free(child_action);
	}
	if (rc == FLOW_OK)
		*action = fl_strdup(FLOW_DEFAULT_ACTION);
	step_finish(run, fan_step, *action, 1, t0, false, rc == FLOW_OK ? NULL : run->error,
		    rc == FLOW_OK ? NULL : run->error_code);
	json_array_append_new(run->trace, fan_step);
	for (i = 0; i < k; i++) {
		json_decref(job.steps[i]);
		json_decref(job.prep[i]);
		json_decref(job.batch_res[i]);
		exec_out_release(&job.outs[i]);
		free(job.paths[i]);
	}
	free(job.steps);
	free(job.prep);
	free(job.outs);
	free(job.batch_res);
	free(job.batch_rc);
	free(job.paths);
	free(starts);
	free(path);
	return rc;
}

/* ---- graphs ---- */

static struct flow_node *find_successor(const struct flow_node *n, const char *action)
{
	size_t i;

	for (i = 0; i < n->nsucc; i++)
		if (!strcmp(n->succ[i].action, action))
			return n->succ[i].node;
	return NULL;
}

static void warn_dead_end(struct flow_result *run, const struct flow_node *n,
			  const char *path, const char *action)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	fl_buf_addf(&b, "node '%s' returned action '%s', which has no successor; the run ends here "
		    "(available actions: ", path, action);
	for (i = 0; i < n->nsucc; i++)
		fl_buf_addf(&b, "%s%s", i ? ", " : "", n->succ[i].action);
	fl_buf_adds(&b, ")");
	run_warn(run, fl_buf_detach(&b, NULL));
}

int flow__run_graph(struct flow_result *run, struct flow_node *g, json_t *shared,
		    struct flow_node *start, const char *prefix)
{
	struct flow_node *cur = start;
	int rc = FLOW_OK;

	while (cur) {
		char *action = NULL, *path = path_of(prefix, cur);
		struct flow_node *next;

		switch (cur->kind) {
		case FLOW_KIND_GRAPH: {
			int64_t t0 = run_now(run);
			json_t *step;

			rc = flow__run_graph(run, cur, shared, cur->start, path);
			if (rc == FLOW_OK)
				action = fl_strdup(run->action ? run->action : FLOW_DEFAULT_ACTION);
			step = step_new(path, "graph");
			step_finish(run, step, action, 1, t0, false, rc == FLOW_OK ? NULL : run->error,
				    rc == FLOW_OK ? NULL : run->error_code);
			json_array_append_new(run->trace, step);
			break;
		}
		case FLOW_KIND_FANOUT:
			rc = run_fanout(run, cur, shared, prefix, &action);
			break;
		case FLOW_KIND_NODE:
			rc = run_node(run, cur, shared, prefix, &action);
			break;
		}
		if (rc != FLOW_OK) {
			free(action);
			free(path);
			return rc;
		}
		free(run->action);
		run->action = action;
		next = find_successor(cur, action);
		if (!next && cur->nsucc)
			warn_dead_end(run, cur, path, action);
		free(path);
		cur = next;
	}
	(void)g;
	return rc;
}

static char *node_names(const struct flow_node *g)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; i < g->nchildren; i++)
		fl_buf_addf(&b, "%s%s", i ? ", " : "", g->children[i]->name);
	return fl_buf_detach(&b, NULL);
}

struct flow_result *flow_run_opts(struct flow_node *graph, json_t *shared,
				  const char *start_name, const struct flow_opts *opts)
{
	struct flow_result *run = fl_calloc(1, sizeof(*run));
	struct flow_node *start;
	int rc;

	run->clock = opts && opts->clock ? *opts->clock : real_clock;
	run->ctx = opts ? opts->ctx : NULL;
	run->ctx_type = opts ? opts->ctx_type : NULL;
	run->warn = opts ? opts->warn : NULL;
	run->warn_arg = opts ? opts->warn_arg : NULL;
	run->max_steps = opts && opts->max_steps ? opts->max_steps : FLOW_DEFAULT_MAX_STEPS;
	run->trace = json_array();
	run->warnings = json_array();
	pthread_mutex_init(&run->lock, NULL);
	if (opts && opts->timeout_us > 0)
		run->deadline = run_now(run) + opts->timeout_us;

	if (!graph) {
		run_fail(run, FLOW_EINVAL, NULL, "cannot run a NULL graph");
		return run;
	}
	if (graph->kind != FLOW_KIND_GRAPH) {
		/* A lone node runs as a one-node graph. */
		char *action = NULL;

		if (start_name && strcmp(start_name, graph->name))
			run_fail(run, FLOW_EUNKNOWNSTART, NULL, "unknown start node '%s' (available: %s)",
				 start_name, graph->name);
		else if (graph->kind == FLOW_KIND_FANOUT && (rc = flow_graph_validate(graph)) != FLOW_OK)
			run_fail(run, rc, graph->name, "%s", graph->errmsg);
		else if (graph->kind == FLOW_KIND_FANOUT)
			rc = run_fanout(run, graph, shared, NULL, &action);
		else
			rc = run_node(run, graph, shared, NULL, &action);
		run->action = action;
		return run;
	}
	if ((rc = flow_graph_validate(graph)) != FLOW_OK) {
		run_fail(run, rc, NULL, "%s", graph->errmsg);
		return run;
	}
	start = start_name ? flow_graph_find(graph, start_name) : graph->start;
	if (!start) {
		char *names = node_names(graph);

		run_fail(run, FLOW_EUNKNOWNSTART, NULL,
			 "unknown start node '%s' in graph '%s' (available: %s)",
			 start_name, graph->name, names);
		free(names);
		return run;
	}
	flow__run_graph(run, graph, shared, start, NULL);
	return run;
}

struct flow_result *flow_run(struct flow_node *graph, json_t *shared, const char *start_name)
{
	return flow_run_opts(graph, shared, start_name, NULL);
}

int flow_result_code(const struct flow_result *r)
{
	return r->rc;
}

const char *flow_result_error(const struct flow_result *r)
{
	return r->error;
}

const char *flow_result_error_code(const struct flow_result *r)
{
	return r->error_code;
}

const char *flow_result_failed_node(const struct flow_result *r)
{
	return r->failed_node;
}

const char *flow_result_action(const struct flow_result *r)
{
	return r->action;
}

json_t *flow_result_trace(const struct flow_result *r)
{
	return r->trace;
}

json_t *flow_result_warnings(const struct flow_result *r)
{
	return r->warnings;
}

size_t flow_result_steps(const struct flow_result *r)
{
	return json_array_size(r->trace);
}

void flow_result_free(struct flow_result *r)
{
	if (!r)
		return;
	json_decref(r->trace);
	json_decref(r->warnings);
	pthread_mutex_destroy(&r->lock);
	free(r->error);
	free(r->error_code);
	free(r->failed_node);
	free(r->action);
	free(r);
}
