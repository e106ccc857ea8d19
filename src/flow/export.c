/*
 * Graph export: Graphviz DOT, Mermaid flowcharts and an indented text form.
 * Nested graphs and fan-outs are drawn as clusters/subgraphs; an edge into a
 * nested graph points at its start node.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "flow_int.h"

static char *path_of(const char *prefix, const struct flow_node *n)
{
	return prefix ? fl_asprintf("%s/%s", prefix, n->name) : fl_strdup(n->name);
}

static void dot_quote(struct fl_buf *b, const char *s)
{
	fl_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fl_buf_addch(b, '\\');
		fl_buf_addch(b, *s);
	}
	fl_buf_addch(b, '"');
}

static bool is_container(const struct flow_node *n)
{
	return n->kind != FLOW_KIND_NODE;
}

/* The drawable node an edge into n lands on: a container's first leaf. */
static char *entry_of(const char *prefix, const struct flow_node *n)
{
	char *path = path_of(prefix, n), *inner;
	const struct flow_node *first;

	if (!is_container(n))
		return path;
	first = n->kind == FLOW_KIND_GRAPH ? n->start : (n->nchildren ? n->children[0] : NULL);
	if (!first)
		return path;
	inner = entry_of(path, first);
	free(path);
	return inner;
}

static void indent(struct fl_buf *b, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		fl_buf_adds(b, "  ");
}

static void dot_nodes(struct fl_buf *b, const struct flow_node *g, const char *prefix, int depth)
{
	size_t i;

	for (i = 0; i < g->nchildren; i++) {
		const struct flow_node *n = g->children[i];
		char *path = path_of(prefix, n);

		indent(b, depth);
		if (is_container(n)) {
			fl_buf_adds(b, "subgraph ");
			{
				char *cl = fl_asprintf("cluster_%s", path);

				dot_quote(b, cl);
				free(cl);
			}
			fl_buf_adds(b, " {\n");
			indent(b, depth + 1);
			fl_buf_adds(b, "label=");
			{
				char *label = fl_asprintf("%s (%s)", n->name, flow_node_kind(n));

				dot_quote(b, label);
				free(label);
			}
			fl_buf_adds(b, "; style=dashed;\n");
			dot_nodes(b, n, path, depth + 1);
			indent(b, depth);
			fl_buf_adds(b, "}\n");
		} else {
			dot_quote(b, path);
			fl_buf_adds(b, " [label=");
			dot_quote(b, n->name);
			if (n->batch_workers)
				fl_buf_adds(b, ", shape=box3d");
			fl_buf_adds(b, "];\n");
		}
		free(path);
	}
}

static void dot_edges(struct fl_buf *b, const struct flow_node *g, const char *prefix)
{
	size_t i, j;

	for (i = 0; i < g->nchildren; i++) {
		const struct flow_node *n = g->children[i];
		char *path = path_of(prefix, n);

		for (j = 0; j < n->nsucc; j++) {
			const struct flow_node *t = n->succ[j].node;
			char *from = entry_of(prefix, n), *to = entry_of(prefix, t);
			bool deflt = !strcmp(n->succ[j].action, FLOW_DEFAULT_ACTION);

			fl_buf_adds(b, "  ");
			dot_quote(b, from);
			fl_buf_adds(b, " -> ");
			dot_quote(b, to);
			fl_buf_adds(b, " [");
			if (!deflt) {
				fl_buf_adds(b, "label=");
				dot_quote(b, n->succ[j].action);
			}
			if (is_container(n)) {
				char *cl = fl_asprintf("cluster_%s", path);

				fl_buf_adds(b, deflt ? "ltail=" : ", ltail=");
				dot_quote(b, cl);
				free(cl);
				deflt = false;
			}
			if (is_container(t)) {
				char *tp = path_of(prefix, t), *cl = fl_asprintf("cluster_%s", tp);

				fl_buf_adds(b, deflt ? "lhead=" : ", lhead=");
				dot_quote(b, cl);
				free(cl);
				free(tp);
			}
			fl_buf_adds(b, "];\n");
			free(from);
			free(to);
		}
		if (n->kind == FLOW_KIND_GRAPH)
			dot_edges(b, n, path);
		free(path);
	}
}

char *flow_graph_dot(const struct flow_node *g)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_adds(&b, "digraph ");
	dot_quote(&b, g->name);
	fl_buf_adds(&b, " {\n  rankdir=TB;\n  compound=true;\n"
		    "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
		    "  edge [fontname=\"Helvetica\", fontsize=10];\n");
	if (g->kind == FLOW_KIND_NODE) {
		fl_buf_adds(&b, "  ");
		dot_quote(&b, g->name);
		fl_buf_adds(&b, ";\n}\n");
		return fl_buf_detach(&b, NULL);
	}
	dot_nodes(&b, g, NULL, 1);
	if (g->kind == FLOW_KIND_GRAPH && g->start) {
		char *s = entry_of(NULL, g->start);

		fl_buf_adds(&b, "  \"__start\" [shape=point];\n  \"__start\" -> ");
		dot_quote(&b, s);
		fl_buf_adds(&b, ";\n");
		free(s);
	}
	dot_edges(&b, g, NULL);
	fl_buf_adds(&b, "}\n");
	return fl_buf_detach(&b, NULL);
}

/* ---- Mermaid ---- */

static void mermaid_id(struct fl_buf *b, const char *path)
{
	fl_buf_adds(b, "n_");
	for (; *path; path++)
		fl_buf_addch(b, isalnum((unsigned char)*path) ? *path : '_');
}

static void mermaid_label(struct fl_buf *b, const char *s)
{
	fl_buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			fl_buf_adds(b, "#quot;");
		else
			fl_buf_addch(b, *s);
	}
	fl_buf_addch(b, '"');
}

static void mermaid_nodes(struct fl_buf *b, const struct flow_node *g, const char *prefix, int depth)
{
	size_t i, j;

	for (i = 0; i < g->nchildren; i++) {
		const struct flow_node *n = g->children[i];
		char *path = path_of(prefix, n);

		indent(b, depth);
		if (is_container(n)) {
			char *label = fl_asprintf("%s (%s)", n->name, flow_node_kind(n));

			fl_buf_adds(b, "subgraph ");
			mermaid_id(b, path);
			fl_buf_adds(b, " [");
			mermaid_label(b, label);
			fl_buf_adds(b, "]\n");
			free(label);
			mermaid_nodes(b, n, path, depth + 1);
			indent(b, depth);
			fl_buf_adds(b, "end\n");
		} else {
			mermaid_id(b, path);
			fl_buf_adds(b, n->batch_workers ? "[[" : "[");
			mermaid_label(b, n->name);
			fl_buf_adds(b, n->batch_workers ? "]]\n" : "]\n");
		}
		free(path);
	}
	for (i = 0; i < g->nchildren; i++) {
		const struct flow_node *n = g->children[i];
		char *path = path_of(prefix, n);

		for (j = 0; j < n->nsucc; j++) {
			char *to = path_of(prefix, n->succ[j].node);

			indent(b, depth);
			mermaid_id(b, path);
			if (strcmp(n->succ[j].action, FLOW_DEFAULT_ACTION)) {
				fl_buf_adds(b, " -->|");
				mermaid_label(b, n->succ[j].action);
				fl_buf_adds(b, "| ");
			} else {
				fl_buf_adds(b, " --> ");
			}
			mermaid_id(b, to);
			fl_buf_addch(b, '\n');
			free(to);
		}
		free(path);
	}
}

char *flow_graph_mermaid(const struct flow_node *g)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_adds(&b, "flowchart TD\n");
	if (g->kind == FLOW_KIND_NODE) {
		fl_buf_adds(&b, "  ");
		mermaid_id(&b, g->name);
		fl_buf_adds(&b, "[");
		mermaid_label(&b, g->name);
		fl_buf_adds(&b, "]\n");
		return fl_buf_detach(&b, NULL);
	}
	if (g->kind == FLOW_KIND_GRAPH && g->start) {
		fl_buf_adds(&b, "  start((start)) --> ");
		mermaid_id(&b, g->start->name);
		fl_buf_addch(&b, '\n');
	}
	mermaid_nodes(&b, g, NULL, 1);
	return fl_buf_detach(&b, NULL);
}

/* ---- text ---- */

static void text_graph(struct fl_buf *b, const struct flow_node *g, int depth)
{
	size_t i, j;

	for (i = 0; i < g->nchildren; i++) {
		const struct flow_node *n = g->children[i];

		indent(b, depth);
		fl_buf_addf(b, "%s [%s", n->name, flow_node_kind(n));
		if (n == g->start)
			fl_buf_adds(b, ", start");
		if (n->max_retries > 1)
			fl_buf_addf(b, ", max_retries=%d", n->max_retries);
		if (n->batch_workers > 1)
			fl_buf_addf(b, ", max_workers=%d", n->batch_workers);
		if (n->kind == FLOW_KIND_FANOUT)
			fl_buf_addf(b, ", max_workers=%d", n->fanout_workers);
		if (n->ops && n->ops->exec_fallback)
			fl_buf_adds(b, ", fallback");
		fl_buf_adds(b, "]\n");
		for (j = 0; j < n->nsucc; j++) {
			indent(b, depth + 2);
			fl_buf_addf(b, "--%s--> %s\n", n->succ[j].action, n->succ[j].node->name);
		}
		if (is_container(n))
			text_graph(b, n, depth + 1);
	}
}

char *flow_graph_text(const struct flow_node *g)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_addf(&b, "%s [%s", g->name, flow_node_kind(g));
	if (g->kind == FLOW_KIND_GRAPH && g->start)
		fl_buf_addf(&b, ", start: %s", g->start->name);
	fl_buf_adds(&b, "]\n");
	if (is_container(g))
		text_graph(&b, g, 1);
	return fl_buf_detach(&b, NULL);
}
