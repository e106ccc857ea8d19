/*
 * The workflows of DESIGN §4, wired as the seed meant them (its `>>` wiring
 * would have stopped after ingestion under KayGraph's rules: here each named
 * action has its successor), and the registry that names them.
 */
#include <string.h>

#include "support_int.h"

/* high_priority: KB search, response, an escalation check that always runs,
 * hand-off when needed, and the satisfaction estimate in every case. */
struct flow_node *support__build_high_priority(void)
{
	struct flow_node *g = flow_graph_new("high_priority");
	struct flow_node *kb = support__node_kb_search(), *resp = support__node_response(true);
	struct flow_node *esc = support__node_escalation(true), *human = support__node_human_escalation();
	struct flow_node *sat = support__node_satisfaction();

	flow_graph_add(g, kb);
	flow_graph_add(g, resp);
	flow_graph_add(g, esc);
	flow_graph_add(g, human);
	flow_graph_add(g, sat);
	flow_on(kb, "response_generation", resp);
	flow_on(resp, "escalation_decision", esc);
	flow_on(esc, "human_escalation", human);
	flow_on(esc, "finalize_response", sat);
	flow_on(human, "notify_human_agents", sat);
	return g;
}

/*
 * The triage every ticket starts with (ingestion, sentiment, categorization,
 * priority), added to g first (its start) and wired; returns the priority
 * node, whose actions ("standard_response", "high_priority_workflow") the
 * caller wires.
 */
static struct flow_node *add_triage(struct flow_node *g)
{
	struct flow_node *ing = support__node_ingestion(), *sent = support__node_sentiment();
	struct flow_node *cat = support__node_categorization(), *prio = support__node_priority();

	flow_graph_add(g, ing);
	flow_graph_add(g, sent);
	flow_graph_add(g, cat);
	flow_graph_add(g, prio);
	flow_on(ing, "sentiment_analysis", sent);
	flow_on(sent, "categorization", cat);
	flow_on(cat, "priority_assignment", prio);
	return prio;
}

struct flow_node *support__build_customer_support(void)
{
	struct flow_node *g = flow_graph_new("customer_support"), *prio = add_triage(g);
	struct flow_node *kb = support__node_kb_search(), *resp = support__node_response(false);
	struct flow_node *esc = support__node_escalation(false), *human = support__node_human_escalation();
	struct flow_node *sat = support__node_satisfaction(), *high = support__build_high_priority();

	flow_graph_add(g, kb);
	flow_graph_add(g, resp);
	flow_graph_add(g, esc);
	flow_graph_add(g, human);
	flow_graph_add(g, sat);
	flow_graph_add(g, high);
	flow_on(prio, "standard_response", kb);
	flow_on(prio, "high_priority_workflow", high);
	flow_on(kb, "response_generation", resp);
	flow_on(resp, "escalation_decision", esc);
	flow_on(resp, "finalize_response", sat);
	flow_on(esc, "human_escalation", human);
	flow_on(esc, "finalize_response", sat);
	flow_on(human, "notify_human_agents", sat);
	return g;
}

static struct flow_node *build_escalation(void)
{
	struct flow_node *g = flow_graph_new("escalation");
	struct flow_node *esc = support__node_escalation(false), *human = support__node_human_escalation();
	struct flow_node *sat = support__node_satisfaction();

	flow_graph_add(g, esc);
	flow_graph_add(g, human);
	flow_graph_add(g, sat);
	flow_on(esc, "human_escalation", human);
	flow_on(esc, "finalize_response", sat);
	flow_on(human, "notify_human_agents", sat);
	return g;
}

static struct flow_node *build_batch(void)
{
	struct flow_node *g = flow_graph_new("batch_processing");
	struct flow_node *run = support__node_batch_process(5), *summary = support__node_batch_summary();

	flow_graph_add(g, run);
	flow_graph_add(g, summary);
	flow_then(run, summary);
	return g;
}

static struct flow_node *build_monitoring(void)
{
	struct flow_node *g = flow_graph_new("real_time_monitoring");
	struct flow_node *collect = support__node_metrics_collector();
	struct flow_node *alerts = support__node_alert_generator();
	struct flow_node *send = support__node_notification_sender();

	flow_graph_add(g, collect);
	flow_graph_add(g, alerts);
	flow_graph_add(g, send);
	flow_then(collect, alerts);
	flow_then(alerts, send);
	return g;
}

static const struct support_workflow workflows[] = {
	{ "customer_support", "a ticket from ingestion to reply or hand-off, with satisfaction",
	  "ticket_ingestion", support__build_customer_support, true },
	{ "high_priority", "KB, reply, escalation check, hand-off and satisfaction for urgent tickets",
	  "knowledge_base_search", support__build_high_priority, true },
	{ "escalation", "escalation decision, hand-off to a human and satisfaction",
	  "escalation_decision", build_escalation, true },
	{ "batch_processing", "many tickets through the real nodes on a worker pool, in order",
	  "batch_process", build_batch, false },
	{ "real_time_monitoring", "metrics over a window, alert rules, notifications",
	  "metrics_collector", build_monitoring, false },
	{ NULL, NULL, NULL, NULL, false },
};

const struct support_workflow *support_workflows(void)
{
	return workflows;
}

const struct support_workflow *support_workflow_find(const char *name)
{
	size_t i;

	for (i = 0; name && workflows[i].name; i++)
		if (!strcmp(workflows[i].name, name))
			return &workflows[i];
	return NULL;
}

/* ---- one ticket through any ticket workflow, and the workflow per channel ---- */

struct flow_node *support_workflow_ticket_graph(const struct support_workflow *wf)
{
	struct flow_node *g, *prio, *inner;
	char *name;

	if (!wf || !wf->on_ticket)
		return NULL;
	if (!strcmp(wf->start, "ticket_ingestion"))
		return wf->build();
	/*
	 * The workflow after the triage (ingestion, sentiment, categorization,
	 * priority) that gives it its "ticket" and the analyses its nodes read;
	 * it nests as customer_support nests high_priority, so the trace names
	 * its steps "<workflow>/<node>".
	 */
	name = fl_asprintf("%s_on_ticket", wf->name);
	g = flow_graph_new(name);
	free(name);
	prio = add_triage(g);
	inner = wf->build();
	flow_graph_add(g, inner);
	flow_on(prio, "standard_response", inner);
	flow_on(prio, "high_priority_workflow", inner);
	return g;
}

/* more than fl_channels has: support_routing_new stops at this many */
#define ROUTING_MAX 16

struct support_routing {
	const struct support_workflow *wf[ROUTING_MAX];
	struct flow_node *graph[ROUTING_MAX];
	bool owned[ROUTING_MAX];     /* channels with the same workflow share one graph */
	struct flow_node *fallback;      /* customer_support's, for a channel outside fl_channels */
};

static char *ticket_workflow_names(void)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; workflows[i].name; i++)
		if (workflows[i].on_ticket)
			fl_buf_addf(&b, "%s%s", b.len ? ", " : "", workflows[i].name);
	return fl_buf_detach(&b, NULL);
}

int support_workflow_check_name(const char *name, const struct support_workflow **out, char **err)
{
	const struct support_workflow *wf = support_workflow_find(name);
	char *names;

	*out = NULL;
	*err = NULL;
	if (wf && wf->on_ticket) {
		*out = wf;
		return SUPPORT_OK;
	}
	names = ticket_workflow_names();
	*err = wf ? fl_asprintf("workflow '%s' does not run on a ticket: one of %s", name, names)
		  : fl_asprintf("unknown workflow '%s': one of %s", name ? name : "", names);
	free(names);
	return SUPPORT_ENOTFOUND;
}

int support_routing_new(struct support_routing **out, char **err)
{
	struct support_routing *r = fl_calloc(1, sizeof(*r));
	size_t i, k;

	*out = NULL;
	*err = NULL;
	for (i = 0; i < ROUTING_MAX && fl_channels[i]; i++) {
		char key[64], *upper = fl_strdup(fl_channels[i]), *why = NULL, *p;
		const char *name;

		for (p = upper; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		snprintf(key, sizeof(key), "FRONTLINE_WORKFLOW_%s", upper);
		free(upper);
		name = fl_config_get(key);
		if (!name || !*name)
			name = "customer_support";
		if (support_workflow_check_name(name, &r->wf[i], &why) != SUPPORT_OK) {
			*err = fl_asprintf("%s: %s", key, why);
			free(why);
			support_routing_free(r);
			return SUPPORT_EINVAL;
		}
		for (k = 0; k < i && r->wf[k] != r->wf[i]; k++)
			;
		if (k < i) {
			r->graph[i] = r->graph[k];
			continue;
		}
		r->graph[i] = support_workflow_ticket_graph(r->wf[i]);
		r->owned[i] = true;
		if (flow_graph_validate(r->graph[i]) != FLOW_OK) {
			*err = fl_asprintf("%s: workflow '%s' does not validate: %s", key, name,
					   flow_graph_errmsg(r->graph[i]));
			support_routing_free(r);
			return SUPPORT_EFLOW;
		}
	}
	r->fallback = support__build_customer_support();
	*out = r;
	return SUPPORT_OK;
}

void support_routing_free(struct support_routing *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < ROUTING_MAX; i++)
		if (r->owned[i])
			flow_node_free(r->graph[i]);
	flow_node_free(r->fallback);
	free(r);
}

static int channel_index(const char *channel)
{
	return channel ? fl_word_index(fl_channels, channel) : -1;
}

struct flow_node *support_routing_graph(const struct support_routing *r, const char *channel)
{
	int i = channel_index(channel);

	return i >= 0 && i < ROUTING_MAX && r->graph[i] ? r->graph[i] : r->fallback;
}

const char *support_routing_workflow(const struct support_routing *r, const char *channel)
{
	int i = channel_index(channel);

	return i >= 0 && i < ROUTING_MAX && r->wf[i] ? r->wf[i]->name : "customer_support";
}
