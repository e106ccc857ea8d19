/*
 * Building graphs: nodes, successors, graphs and fan-outs, and the validation
 * that runs before a graph is first used. Running is in run.c and export in
 * export.c.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_int.h"

const char *flow_strerror(int rc)
{
	switch (rc) {
#define FLOW_STR(name, text) case FLOW_##name: return text;
	FLOW_ERRNO_MAP(FLOW_STR)
#undef FLOW_STR
	}
	return "unknown error";
}

const char *flow_errname(int rc)
{
	switch (rc) {
#define FLOW_NAME(name, text) case FLOW_##name: return "FLOW_" #name;
	FLOW_ERRNO_MAP(FLOW_NAME)
#undef FLOW_NAME
	}
	return "FLOW_UNKNOWN";
}

static struct flow_node *node_alloc(const char *name, enum flow_kind kind)
{
	struct flow_node *n;

	if (!name || !*name)
		return NULL;
	n = fl_calloc(1, sizeof(*n));
	n->name = fl_strdup(name);
	n->kind = kind;
	n->max_retries = 1;
	atomic_init(&n->validated, 0);
	pthread_mutex_init(&n->validate_lock, NULL);
	return n;
}

struct flow_node *flow_node_new(const char *name, const struct flow_node_ops *ops, void *data)
{
	struct flow_node *n;

	if (!ops)
		return NULL;
	n = node_alloc(name, FLOW_KIND_NODE);
	if (n) {
		n->ops = ops;
		n->data = data;
	}
	return n;
}

struct flow_node *flow_graph_new(const char *name)
{
	return node_alloc(name, FLOW_KIND_GRAPH);
}

struct flow_node *flow_fanout_new(const char *name, int max_workers)
{
	struct flow_node *n = node_alloc(name, FLOW_KIND_FANOUT);

	if (n)
		n->fanout_workers = max_workers < 1 ? 1 : max_workers;
	return n;
}

void flow_node_free(struct flow_node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nchildren; i++)
		flow_node_free(n->children[i]);
	free(n->children);
	for (i = 0; i < n->nsucc; i++)
		free(n->succ[i].action);
	free(n->succ);
	if (n->ops && n->ops->free_data)
		n->ops->free_data(n->data);
	pthread_mutex_destroy(&n->validate_lock);
	free(n->add_error);
	free(n->errmsg);
	free(n->name);
	free(n);
}

const char *flow_node_name(const struct flow_node *n)
{
	return n ? n->name : NULL;
}

const char *flow_node_kind(const struct flow_node *n)
{
	switch (n->kind) {
	case FLOW_KIND_GRAPH:
		return "graph";
	case FLOW_KIND_FANOUT:
		return "fanout";
	case FLOW_KIND_NODE:
		break;
	}
	if (n->batch_workers > 1)
		return "parallel_batch";
	return n->batch_workers ? "batch" : "node";
}

int flow_node_set_retries(struct flow_node *n, int max_retries, int64_t wait_us)
{
	if (!n || max_retries < 1 || wait_us < 0)
		return FLOW_EINVAL;
	n->max_retries = max_retries;
	n->wait_us = wait_us;
	return FLOW_OK;
}

int flow_node_set_batch(struct flow_node *n, int max_workers)
{
	if (!n || n->kind != FLOW_KIND_NODE || max_workers < 1)
		return FLOW_EINVAL;
	n->batch_workers = max_workers;
	return FLOW_OK;
}

int flow_on(struct flow_node *a, const char *action, struct flow_node *b)
{
	size_t i;

	if (!a || !b || !action || !*action)
		return FLOW_EINVAL;
	for (i = 0; i < a->nsucc; i++)
		if (!strcmp(a->succ[i].action, action))
			return FLOW_EEXISTS;
	a->succ = fl_reallocarray(a->succ, a->nsucc + 1, sizeof(*a->succ));
	a->succ[a->nsucc].action = fl_strdup(action);
	a->succ[a->nsucc].node = b;
	a->nsucc++;
	return FLOW_OK;
}

int flow_then(struct flow_node *a, struct flow_node *b)
{
	return flow_on(a, FLOW_DEFAULT_ACTION, b);
}

size_t flow_node_successor_count(const struct flow_node *n)
{
	return n ? n->nsucc : 0;
}

struct flow_node *flow_node_successor(const struct flow_node *n, size_t i, const char **action)
{
	if (!n || i >= n->nsucc)
		return NULL;
	if (action)
		*action = n->succ[i].action;
	return n->succ[i].node;
}

static void add_child(struct flow_node *parent, struct flow_node *child)
{
	parent->children = fl_reallocarray(parent->children, parent->nchildren + 1,
					   sizeof(*parent->children));
	parent->children[parent->nchildren++] = child;
	child->owner = parent;
}

static void record_add_error(struct flow_node *parent, int rc, char *msg)
{
	if (!parent->add_error) {
		parent->add_error = msg;
		parent->add_rc = rc;
	} else {
		free(msg);
	}
}

int flow_graph_add(struct flow_node *g, struct flow_node *node)
{
	if (!g || g->kind != FLOW_KIND_GRAPH) {
		flow_node_free(node);
		return FLOW_EINVAL;
	}
	if (!node) {
		record_add_error(g, FLOW_EINVAL, fl_asprintf("cannot add a NULL node to graph '%s'", g->name));
		return FLOW_EINVAL;
	}
	if (node->owner || node == g) {
		record_add_error(g, FLOW_EINVAL, fl_asprintf("node '%s' already belongs to graph '%s'", node->name,
						node->owner ? node->owner->name : g->name));
		/* Ownership was promised to us; the other owner still frees it. */
		return FLOW_EOWNED;
	}
	if (flow_graph_find(g, node->name)) {
		record_add_error(g, FLOW_EDUP,
				 fl_asprintf("duplicate node name '%s' in graph '%s'", node->name, g->name));
		add_child(g, node);
		return FLOW_EDUP;
	}
	add_child(g, node);
	if (!g->start)
		g->start = node;
	atomic_store(&g->validated, 0);
	return FLOW_OK;
}

int flow_fanout_add(struct flow_node *fan, struct flow_node *child)
{
	if (!fan || fan->kind != FLOW_KIND_FANOUT || !child) {
		if (fan && !child)
			record_add_error(fan, FLOW_EINVAL, fl_asprintf("cannot add a NULL node to fan-out '%s'", fan->name));
		flow_node_free(child);
		return FLOW_EINVAL;
	}
	if (child->owner) {
		record_add_error(fan, FLOW_EINVAL, fl_asprintf("node '%s' already belongs to '%s'",
						  child->name, child->owner->name));
		return FLOW_EOWNED;
	}
	if (child->kind != FLOW_KIND_NODE) {
		record_add_error(fan, FLOW_EINVAL, fl_asprintf("fan-out '%s' cannot run %s '%s': children must be plain or batch nodes",
						  fan->name, flow_node_kind(child), child->name));
		flow_node_free(child);
		return FLOW_EINVAL;
	}
	add_child(fan, child);
	return FLOW_OK;
}

int flow_graph_set_start(struct flow_node *g, const char *name)
{
	struct flow_node *n;

	if (!g || g->kind != FLOW_KIND_GRAPH || !name)
		return FLOW_EINVAL;
	n = flow_graph_find(g, name);
	if (!n)
		return FLOW_EUNKNOWNSTART;
	g->start = n;
	atomic_store(&g->validated, 0);
	return FLOW_OK;
}

struct flow_node *flow_graph_find(const struct flow_node *g, const char *name)
{
	size_t i;

	if (!g || !name)
		return NULL;
	for (i = 0; i < g->nchildren; i++)
		if (!strcmp(g->children[i]->name, name))
			return g->children[i];
	return NULL;
}

size_t flow_graph_node_count(const struct flow_node *g)
{
	return g ? g->nchildren : 0;
}

struct flow_node *flow_graph_node_at(const struct flow_node *g, size_t i)
{
	return g && i < g->nchildren ? g->children[i] : NULL;
}

struct flow_node *flow_graph_start(const struct flow_node *g)
{
	return g ? g->start : NULL;
}

const char *flow_graph_errmsg(const struct flow_node *g)
{
	return g && g->errmsg ? g->errmsg : "";
}

static int set_error(struct flow_node *g, int rc, char *msg)
{
	free(g->errmsg);
	g->errmsg = msg;
	return rc;
}

static long child_index(const struct flow_node *g, const struct flow_node *n)
{
	size_t i;

	for (i = 0; i < g->nchildren; i++)
		if (g->children[i] == n)
			return (long)i;
	return -1;
}

static int validate_locked(struct flow_node *g)
{
	size_t i, j, head = 0, tail = 0;
	unsigned char *seen = NULL;
	struct flow_node **queue = NULL;
	int rc;

	if (g->add_error)
		return set_error(g, g->add_rc, fl_strdup(g->add_error));
	if (g->kind == FLOW_KIND_FANOUT) {
		if (!g->nchildren)
			return set_error(g, FLOW_ENOSTART, fl_asprintf("fan-out '%s' has no children", g->name));
		return FLOW_OK;
	}
	if (!g->nchildren || !g->start)
		return set_error(g, FLOW_ENOSTART, fl_asprintf("graph '%s' has no nodes", g->name));
	for (i = 0; i < g->nchildren; i++) {
		struct flow_node *n = g->children[i];

		for (j = 0; j < n->nsucc; j++)
			if (child_index(g, n->succ[j].node) < 0)
				return set_error(g, FLOW_EDANGLING,
					fl_asprintf("node '%s' in graph '%s': action '%s' leads to '%s', which is not in the graph",
						    n->name, g->name, n->succ[j].action, n->succ[j].node->name));
	}
	/* Breadth-first walk from the start marks what is reachable. */
	seen = fl_calloc(g->nchildren, 1);
	queue = fl_calloc(g->nchildren, sizeof(*queue));
	queue[tail++] = g->start;
	seen[child_index(g, g->start)] = 1;
	while (head < tail) {
		struct flow_node *n = queue[head++];

		for (j = 0; j < n->nsucc; j++) {
			long k = child_index(g, n->succ[j].node);

			if (!seen[k]) {
				seen[k] = 1;
				queue[tail++] = n->succ[j].node;
			}
		}
	}
	rc = FLOW_OK;
	for (i = 0; i < g->nchildren && rc == FLOW_OK; i++)
		if (!seen[i])
			rc = set_error(g, FLOW_EUNREACHABLE,
				fl_asprintf("node '%s' in graph '%s' is not reachable from start '%s'",
					    g->children[i]->name, g->name, g->start->name));
	/* Nested graphs and fan-outs validate themselves; their message is ours. */
	for (i = 0; i < g->nchildren && rc == FLOW_OK; i++) {
		struct flow_node *c = g->children[i];

		if (c->kind != FLOW_KIND_NODE && (rc = flow_graph_validate(c)) != FLOW_OK)
			set_error(g, rc, fl_strdup(c->errmsg));
	}
	free(seen);
	free(queue);
	return rc;
}

int flow_graph_validate(struct flow_node *g)
{
	int rc;

	if (!g || g->kind == FLOW_KIND_NODE)
		return FLOW_EINVAL;
	if (atomic_load(&g->validated))
		return FLOW_OK;
	pthread_mutex_lock(&g->validate_lock);
	rc = validate_locked(g);
	if (rc == FLOW_OK)
		atomic_store(&g->validated, 1);
	pthread_mutex_unlock(&g->validate_lock);
	return rc;
}
