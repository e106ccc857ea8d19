/*
 * /api/v1/workflows: the registered workflows and their graphs, drawn by
 * the flow engine as DOT, Mermaid or text (what `frontline workflow show`
 * prints).
 */
#include <string.h>

#include "server_int.h"
#include "flow/flow.h"
#include "support/support.h"

static void list(struct server_req *r)
{
	const struct support_workflow *w;
	json_t *out = json_array();

	for (w = support_workflows(); w->name; w++)
		json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name", w->name,
						     "description", w->description, "start", w->start));
	server__reply_json(r, 200, json_pack("{s:o}", "workflows", out));
}

static void show(struct server_req *r)
{
	static const char *const formats[] = { "json", "dot", "mermaid", "text", NULL };
	const struct support_workflow *w = support_workflow_find(server__param(r, 0));
	struct flow_node *g;
	const char *format;
	char *text = NULL;
	size_t i;

	if (!w) {
		server__not_found(r, "workflow", server__param(r, 0));
		return;
	}
	if (server__query_enum(r, "format", formats, "json", &format))
		return;
	g = w->build();
	if (!g || flow_graph_validate(g) != FLOW_OK) {
		server__internal(r, "workflow '%s' does not validate: %s", w->name,
				 g ? flow_graph_errmsg(g) : "cannot build");
		flow_node_free(g);
		return;
	}
	if (!strcmp(format, "dot")) {
		text = flow_graph_dot(g);
		server__reply_text(r, 200, "text/vnd.graphviz; charset=utf-8", text, strlen(text));
	} else if (!strcmp(format, "mermaid")) {
		text = flow_graph_mermaid(g);
		server__reply_text(r, 200, "text/plain; charset=utf-8", text, strlen(text));
	} else if (!strcmp(format, "text")) {
		text = flow_graph_text(g);
		server__reply_text(r, 200, "text/plain; charset=utf-8", text, strlen(text));
	} else {
		json_t *nodes = json_array();

		for (i = 0; i < flow_graph_node_count(g); i++) {
			struct flow_node *n = flow_graph_node_at(g, i);
			json_t *succ = json_object();
			size_t k;

			for (k = 0; k < flow_node_successor_count(n); k++) {
				const char *action;
				struct flow_node *s = flow_node_successor(n, k, &action);

				json_object_set_new(succ, action ? action : FLOW_DEFAULT_ACTION,
						    json_string(flow_node_name(s)));
			}
			json_array_append_new(nodes, json_pack("{s:s, s:s, s:o}", "name", flow_node_name(n),
							       "kind", flow_node_kind(n), "successors", succ));
		}
		text = flow_graph_mermaid(g);
		server__reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:o, s:s}", "name", w->name,
						     "description", w->description, "start", w->start,
						     "nodes", nodes, "mermaid", text));
	}
	free(text);
	flow_node_free(g);
}

const struct server_route server__workflow_routes[] = {
	{ "GET", "/api/v1/workflows", list, SERVER_ROLE_AGENT, 0, "the registered workflows" },
	{ "GET", "/api/v1/workflows/{name}", show, SERVER_ROLE_AGENT, 0,
	  "a workflow's graph (format json, dot, mermaid or text)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
