/*
 * flow: a small workflow-graph engine in the manner of KayGraph/PocketFlow.
 *
 * A node has an ops table: prep(shared) -> prep_res, exec(prep_res) ->
 * exec_res (retried, with an optional fallback), post(shared, prep_res,
 * exec_res) -> action. The action string picks the successor; an action with
 * no successor ends the run. A graph is itself a node, so graphs nest and the
 * parent routes on the sub-graph's final action. Batch nodes run exec once per
 * item of an array, sequentially or on a bounded thread pool; fan-out nodes
 * run several child nodes concurrently on the same shared input.
 *
 * Values are jansson json_t. Non-JSON handles (a store, an LLM client, a
 * clock) travel in a typed context pointer handed to every op.
 *
 * The engine knows nothing of tickets, LLMs or stores.
 *
 * Threading: once built (and validated), a graph is read-only during runs and
 * may be run from several threads at once, each with its own shared object.
 * Node data is shared by those runs: ops must not modify it without their own
 * locking. In a parallel batch or a fan-out, exec runs on worker threads; prep
 * and post always run on the thread that called flow_run.
 */
#ifndef FL_FLOW_H
#define FL_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FLOW_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(EDUP, "duplicate node name") \
	X(EEXISTS, "successor already set for this action") \
	X(EUNREACHABLE, "node not reachable from the start") \
	X(EDANGLING, "successor is not in the graph") \
	X(ENOSTART, "graph has no start node") \
	X(EUNKNOWNSTART, "unknown start node") \
	X(EPREP, "prep failed") \
	X(EEXEC, "exec failed") \
	X(EFALLBACK, "exec fallback failed") \
	X(EPOST, "post failed") \
	X(EBATCH, "batch prep did not return an array") \
	X(ESTEPS, "step limit reached") \
	X(EDEADLINE, "deadline passed") \
	X(EOWNED, "node already belongs to a graph")

enum flow_err {
#define FLOW_ENUM(name, text) FLOW_##name,
	FLOW_ERRNO_MAP(FLOW_ENUM)
#undef FLOW_ENUM
};

/* "step limit reached" etc.; "unknown error" outside the enum. */
const char *flow_strerror(int rc);
/* "FLOW_ESTEPS" etc. */
const char *flow_errname(int rc);

#define FLOW_DEFAULT_ACTION "default"
#define FLOW_DEFAULT_MAX_STEPS 1000

struct flow_node;
struct flow_call;
struct flow_result;

/*
 * Node operations. Every op returns 0 on success or -1 on failure, having
 * described the failure with flow_call_fail(). Missing ops behave as: prep
 * and exec give JSON null, post gives the default action.
 *
 * Ownership: *prep_res and *exec_res are new references handed to the engine
 * (NULL is taken as JSON null). shared is borrowed: prep reads it, post may
 * modify it. prep_res, exec_res and error are borrowed by the ops they are
 * passed to. *action must stay valid until post returns plus the engine's copy
 * of it: a static string, one owned by the node's data, or one inside shared,
 * prep_res or exec_res. NULL and "default" both mean the default action.
 */
struct flow_node_ops {
	int (*prep)(struct flow_call *call, json_t *shared, json_t **prep_res);
	int (*exec)(struct flow_call *call, json_t *prep_res, json_t **exec_res);
	int (*post)(struct flow_call *call, json_t *shared, json_t *prep_res,
		    json_t *exec_res, const char **action);
	/* Runs after the last failed exec attempt; error is its message. */
	int (*exec_fallback)(struct flow_call *call, json_t *prep_res,
			     const char *error, json_t **exec_res);
	/* Frees the node's data when the node is freed (may be NULL). */
	void (*free_data)(void *data);
};

/* ---- the per-step handle that ops receive ---- */

/* The data given to flow_node_new. */
void *flow_call_data(const struct flow_call *call);
/*
 * The run's context pointer if the run was started with this ctx_type
 * (compared with strcmp), else NULL: a node written for one kind of context
 * never misreads another's.
 */
void *flow_call_ctx(const struct flow_call *call, const char *ctx_type);
const char *flow_call_node_name(const struct flow_call *call);
/* 1-based attempt of exec; in exec_fallback, the number of attempts made. */
int flow_call_attempt(const struct flow_call *call);
/* Index of the batch item being executed, or -1 outside a batch. */
long flow_call_item(const struct flow_call *call);
/* The run's clock (injected or real), in microseconds. */
int64_t flow_call_now_us(const struct flow_call *call);
/* Records why the op fails (printf-style) and returns -1 for the op to return. */
int flow_call_fail(struct flow_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The same, with a typed error: code (copied; a short stable word such as
 * "SUPPORT_EINVAL", chosen by the node's module) travels beside the message,
 * so the caller acts on the kind of failure without reading the text. It
 * lands in the failed step's trace entry ("error_code") and, when the
 * failure ends the run, in flow_result_error_code(). When exec_fallback
 * fails too, the fallback's code wins if it gave one, else exec's stays.
 */
int flow_call_error(struct flow_call *call, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Attaches key: value to this step's trace entry (for example "path":
 * "builtin"). Takes ownership of value. Thread-safe within a batch.
 */
void flow_call_note(struct flow_call *call, const char *key, json_t *value);

/* ---- nodes ---- */

/*
 * A new node named name (copied; must be non-empty) with the given ops
 * (borrowed: must outlive the node) and data (owned by the node when
 * ops->free_data is set). Returns NULL when name or ops is NULL or name is
 * empty. Defaults: one attempt, no wait, not a batch.
 */
struct flow_node *flow_node_new(const char *name, const struct flow_node_ops *ops, void *data);
/* Frees a node that no graph owns (graphs free their own). NULL is fine. */
void flow_node_free(struct flow_node *node);
const char *flow_node_name(const struct flow_node *node);
/* "node", "graph", "batch", "parallel_batch" or "fanout". */
const char *flow_node_kind(const struct flow_node *node);

/*
 * exec runs up to max_retries attempts (>= 1; KayGraph's name) with wait_us
 * between them. Returns FLOW_EINVAL for max_retries < 1 or wait_us < 0.
 */
int flow_node_set_retries(struct flow_node *node, int max_retries, int64_t wait_us);
/*
 * Makes node a batch node: prep must return an array; exec runs per item
 * (each item with its own retries and fallback) and post receives the array
 * of results in input order. max_workers 1 runs the items in order on the
 * calling thread; more runs them on a pool of that many threads.
 */
int flow_node_set_batch(struct flow_node *node, int max_workers);

/*
 * Wiring. flow_then(a, b) is a >> b (the default action); flow_on(a, action,
 * b) is a - "action" >> b. The action is copied. FLOW_EEXISTS when a already
 * has a successor for that action, FLOW_EINVAL for NULL nodes or an empty
 * action. Successors must belong to the same graph (checked at validation).
 */
int flow_then(struct flow_node *a, struct flow_node *b);
int flow_on(struct flow_node *a, const char *action, struct flow_node *b);
/* Number of successors, and the i-th (action, node); NULL past the end. */
size_t flow_node_successor_count(const struct flow_node *node);
struct flow_node *flow_node_successor(const struct flow_node *node, size_t i, const char **action);

/* ---- fan-out ---- */

/*
 * A node that runs its children concurrently on the same shared input and
 * joins them: each child's prep runs in order on the calling thread, their
 * execs run on up to max_workers threads, then each child's post runs in
 * order. The fan-out's action is the default one. Children are plain or batch
 * nodes (not graphs or fan-outs).
 */
struct flow_node *flow_fanout_new(const char *name, int max_workers);
/* Takes ownership of child, even on failure. */
int flow_fanout_add(struct flow_node *fanout, struct flow_node *child);

/* ---- graphs ---- */

/* A new, empty graph node. */
struct flow_node *flow_graph_new(const char *name);
/*
 * Adds node to graph; the graph takes ownership of node even when this fails
 * (a NULL node is recorded as an error that validation reports). The first
 * node added is the start unless flow_graph_set_start says otherwise.
 */
int flow_graph_add(struct flow_node *graph, struct flow_node *node);
int flow_graph_set_start(struct flow_node *graph, const char *name);
/* The node named name (NULL if none), searched in this graph only. */
struct flow_node *flow_graph_find(const struct flow_node *graph, const char *name);
size_t flow_graph_node_count(const struct flow_node *graph);
struct flow_node *flow_graph_node_at(const struct flow_node *graph, size_t i);
struct flow_node *flow_graph_start(const struct flow_node *graph);
/*
 * Checks the graph and its nested graphs: a NULL node was added, duplicate
 * names, a successor outside the graph, nodes not reachable from the start,
 * no nodes. Returns FLOW_OK or the first error, with a message naming the
 * node in flow_graph_errmsg(). flow_run validates too.
 */
int flow_graph_validate(struct flow_node *graph);
/* The message of the last validation error, or "" when none. */
const char *flow_graph_errmsg(const struct flow_node *graph);

/* Graph export. Caller frees the returned string. */
char *flow_graph_dot(const struct flow_node *graph);
char *flow_graph_mermaid(const struct flow_node *graph);
char *flow_graph_text(const struct flow_node *graph);

/* ---- running ---- */

struct flow_clock {
	int64_t (*now_us)(void *arg);           /* monotonic microseconds */
	void (*sleep_us)(void *arg, int64_t us);
	void *arg;
};

struct flow_opts {
	void *ctx;               /* handed to ops through flow_call_ctx */
	const char *ctx_type;    /* its type tag */
	unsigned max_steps;      /* 0: FLOW_DEFAULT_MAX_STEPS */
	int64_t timeout_us;      /* 0: no deadline */
	const struct flow_clock *clock;  /* NULL: the real clock */
	/* Warnings (an action with no successor); NULL: logged with fl_log. */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};

/*
 * Runs graph on shared (borrowed; nodes read and write it) from the node
 * named start_name, or from the graph's start when NULL. Never returns NULL.
 * The result holds the outcome, the final action and the trace; the caller
 * frees it with flow_result_free. An unknown start_name fails with
 * FLOW_EUNKNOWNSTART and a message listing the node names.
 */
struct flow_result *flow_run(struct flow_node *graph, json_t *shared, const char *start_name);
struct flow_result *flow_run_opts(struct flow_node *graph, json_t *shared,
				  const char *start_name, const struct flow_opts *opts);

/* FLOW_OK or the error that ended the run. */
int flow_result_code(const struct flow_result *r);
/* The error message (naming the node), or NULL on success. */
const char *flow_result_error(const struct flow_result *r);
/*
 * The code of the op's error that ended the run (flow_call_error), or NULL:
 * on success, for the engine's own errors (step limit, deadline, validation)
 * and for ops that failed with flow_call_fail.
 */
const char *flow_result_error_code(const struct flow_result *r);
/* The node where the run failed, or NULL. */
const char *flow_result_failed_node(const struct flow_result *r);
/* The last action returned ("default" for the default one); NULL if no step ran. */
const char *flow_result_action(const struct flow_result *r);
/*
 * The trace: an array of steps {"node", "action", "attempts", "duration_us",
 * "fallback", "error"?, "error_code"?, "items"?, notes...}, in the order they ran. Nested
 * steps are named "graph/node". Borrowed: valid until flow_result_free.
 */
json_t *flow_result_trace(const struct flow_result *r);
/* Warnings raised during the run (array of strings), borrowed. */
json_t *flow_result_warnings(const struct flow_result *r);
size_t flow_result_steps(const struct flow_result *r);
void flow_result_free(struct flow_result *r);

#endif
