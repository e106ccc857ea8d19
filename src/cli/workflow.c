/*
 * frontline workflow list|show: the registered workflows, and any one of them
 * drawn as Graphviz DOT, Mermaid or indented text.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flow/flow.h"
#include "support/support.h"
#include "util/util.h"

static const char *const workflow_usage[] = {
	"frontline workflow list [--json]",
	"frontline workflow show NAME [--format text|dot|mermaid]",
	NULL,
};

static char *available_names(void)
{
	const struct support_workflow *w = support_workflows();
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; w[i].name; i++)
		fl_buf_addf(&b, "%s%s", i ? ", " : "", w[i].name);
	return fl_buf_detach(&b, NULL);
}

static int workflow_list(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print a JSON array" },
		CLI_OPTIONS_END,
	};
	const struct support_workflow *w = support_workflows();
	json_t *out = json_array();
	int argi, rc;
	size_t i;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, workflow_usage, &argi);
	if (rc != CLI_PARSED)
		goto done;
	if (argi < argc) {
		rc = cli_usage_error(workflow_usage, opts, "unexpected argument '%s'", argv[argi]);
		goto done;
	}
	for (i = 0; w[i].name; i++) {
		struct flow_node *g = w[i].build();
		json_t *item = json_pack("{s:s, s:s, s:I}", "name", w[i].name, "description",
					 w[i].description, "nodes",
					 (json_int_t)flow_graph_node_count(g));

		if (json)
			json_array_append_new(out, item);
		else
			printf("%-22s %2zu nodes  %s\n", w[i].name, flow_graph_node_count(g),
			       w[i].description);
		if (!json)
			json_decref(item);
		flow_node_free(g);
	}
	if (json) {
		char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		puts(s);
		free(s);
	}
	rc = EX_OK;
done:
	json_decref(out);
	return cli_parse_status(rc);
}

static int workflow_show(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *format = "text";
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'f', "format", &format, "FORMAT", "text (default), dot or mermaid" },
		CLI_OPTIONS_END,
	};
	const struct support_workflow *w;
	struct flow_node *g = NULL;
	char *out = NULL, *names;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, workflow_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi >= argc)
		return cli_usage_error(workflow_usage, opts, "workflow name required");
	if (argi + 1 < argc)
		return cli_usage_error(workflow_usage, opts, "unexpected argument '%s'", argv[argi + 1]);
	if (strcmp(format, "text") && strcmp(format, "dot") && strcmp(format, "mermaid"))
		return cli_usage_error(workflow_usage, opts,
				       "unknown format '%s' (use text, dot or mermaid)", format);
	w = support_workflow_find(argv[argi]);
	if (!w) {
		names = available_names();
		rc = cli_error(EX_USAGE, "unknown workflow '%s' (available: %s)", argv[argi], names);
		free(names);
		return rc;
	}
	g = w->build();
	if (flow_graph_validate(g) != FLOW_OK) {
		rc = cli_error(EX_SOFTWARE, "workflow '%s' is invalid: %s", w->name, flow_graph_errmsg(g));
		flow_node_free(g);
		return rc;
	}
	if (!strcmp(format, "dot"))
		out = flow_graph_dot(g);
	else if (!strcmp(format, "mermaid"))
		out = flow_graph_mermaid(g);
	else
		out = flow_graph_text(g);
	fputs(out, stdout);
	free(out);
	flow_node_free(g);
	return EX_OK;
}

int cmd_workflow(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command sub[] = {
		{ "list", workflow_list, "list the registered workflows" },
		{ "show", workflow_show, "draw a workflow (text, dot or mermaid)" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc - 1, argv + 1, sub, workflow_usage, ctx);
}
