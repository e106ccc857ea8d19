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

struct flow_node *support__build_customer_support(void)
{
	struct flow_node *g = flow_graph_new("customer_support");
	struct flow_node *ing = support__node_ingestion(), *sent = support__node_sentiment();
	struct flow_node *cat = support__node_categorization(), *prio = support__node_priority();
	struct flow_node *kb = support__node_kb_search(), *resp = support__node_response(false);
	struct flow_node *esc = support__node_escalation(false), *human = support__node_human_escalation();
	struct flow_node *sat = support__node_satisfaction(), *high = support__build_high_priority();

	flow_graph_add(g, ing);
	flow_graph_add(g, sent);
	flow_graph_add(g, cat);
	flow_graph_add(g, prio);
	flow_graph_add(g, kb);
	flow_graph_add(g, resp);
	flow_graph_add(g, esc);
	flow_graph_add(g, human);
	flow_graph_add(g, sat);
	flow_graph_add(g, high);
	flow_on(ing, "sentiment_analysis", sent);
	flow_on(sent, "categorization", cat);
	flow_on(cat, "priority_assignment", prio);
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
	  "ticket_ingestion", support__build_customer_support },
	{ "high_priority", "KB, reply, escalation check, hand-off and satisfaction for urgent tickets",
	  "knowledge_base_search", support__build_high_priority },
	{ "escalation", "escalation decision, hand-off to a human and satisfaction",
	  "escalation_decision", build_escalation },
	{ "batch_processing", "many tickets through the real nodes on a worker pool, in order",
	  "batch_process", build_batch },
	{ "real_time_monitoring", "metrics over a window, alert rules, notifications",
	  "metrics_collector", build_monitoring },
	{ NULL, NULL, NULL, NULL },
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
