/*
 * Private declarations shared by the flow engine's files: the node structure
 * (plain, graph and fan-out nodes share it) and the run state.
 */
#ifndef FL_FLOW_INT_H
#define FL_FLOW_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "flow.h"
#include "util/util.h"

enum flow_kind { FLOW_KIND_NODE, FLOW_KIND_GRAPH, FLOW_KIND_FANOUT };

struct flow_succ {
	char *action;
	struct flow_node *node;
};

struct flow_node {
	char *name;
	enum flow_kind kind;
	const struct flow_node_ops *ops;
	void *data;
	int max_retries;
	int64_t wait_us;
	int batch_workers;          /* 0: not a batch node */
	struct flow_succ *succ;
	size_t nsucc;
	struct flow_node *owner;    /* the graph or fan-out that owns this node */

	/* graphs and fan-outs */
	struct flow_node **children;
	size_t nchildren;
	struct flow_node *start;    /* graphs */
	int fanout_workers;         /* fan-outs */
	char *add_error;            /* first failed flow_graph_add, reported by validation */
	int add_rc;                 /* its code (FLOW_EDUP, FLOW_EINVAL) */
	char *errmsg;               /* last validation error */
	atomic_int validated;       /* 1 once validation passed */
	pthread_mutex_t validate_lock;
};

struct flow_result {
	struct flow_clock clock;
	void *ctx;
	const char *ctx_type;
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
	int64_t deadline;           /* monotonic us; 0: none */
	unsigned max_steps;
	unsigned steps;
	json_t *trace;
	json_t *warnings;
	int rc;
	char *error;
	char *error_code;           /* the failed op's code (flow_call_error), or NULL */
	char *failed_node;
	char *action;
	pthread_mutex_t lock;       /* trace notes from worker threads */
};

struct flow_call {
	struct flow_result *run;
	struct flow_node *node;
	int attempt;
	long item;
	struct fl_buf err;
	char *code;                 /* flow_call_error's code, or NULL */
	json_t *step;               /* trace entry for notes; may be NULL */
};

/*
 * ---- the per-step handle's life (call.c holds the ops' side) ----
 * Inline: the engine calls them around every op of every step.
 */

static inline void flow__call_init(struct flow_call *call, struct flow_result *run,
				   struct flow_node *node, json_t *step)
{
	call->run = run;
	call->node = node;
	call->attempt = 0;
	call->item = -1;
	fl_buf_init(&call->err, 0);
	call->code = NULL;
	call->step = step;
}

/* Forgets the last failure (message and code) before the next op. */
static inline void flow__call_reset(struct flow_call *call)
{
	fl_buf_reset(&call->err);
	free(call->code);
	call->code = NULL;
}

static inline void flow__call_release(struct flow_call *call)
{
	fl_buf_release(&call->err);
	free(call->code);
	call->code = NULL;
}

/* The op's message, or what when it failed without saying why. */
static inline const char *flow__call_error(const struct flow_call *call, const char *what)
{
	return call->err.len ? call->err.buf : what;
}

/* Runs a validated graph from start; in run.c. */
int flow__run_graph(struct flow_result *run, struct flow_node *graph, json_t *shared,
		    struct flow_node *start, const char *prefix);

#endif
