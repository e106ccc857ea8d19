/*
 * Tests of the support layer: the ingestion rules, each node's contract
 * (what it reads, what it writes, the action it returns), each path through
 * customer_support (standard, high priority, escalation, finalize), the
 * batch and monitoring workflows, determinism, the seed's demo tickets, and
 * persistence exactly once in effect. They use the bundled models
 * (data/models) and articles (data/kb) and a real SQLite store in a temp dir.
 */
#include <math.h>
#include <stdio.h>

#include "test_helpers.h"
#include "support_fixture.h"
#include "flow/flow.h"
#include "kb/kb.h"
#include "store/store.h"
#include "support/support.h"

static int setup(void **state)
{
	return support_fx_setup(state, "support.db", true);
}

static int teardown(void **state)
{
	return support_fx_teardown(state);
}

static json_t *ticket(const char *id, const char *customer, const char *subject, const char *content)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "customer_id", customer, "subject", subject,
			 "content", content, "source", "email");
}

/* Runs one node (as a one-node graph) on shared; returns the action. */
static char *run_node(struct fixture *f, struct flow_node *node, json_t *shared)
{
	struct flow_result *r = support_run(node, NULL, &f->ctx, shared);
	char *action;

	if (flow_result_code(r) != FLOW_OK)
		fail_msg("node '%s' failed: %s", flow_node_name(node), flow_result_error(r));
	action = fl_strdup(flow_result_action(r));
	flow_result_free(r);
	return action;
}

static struct flow_node *node_of(struct flow_node *g, const char *name)
{
	struct flow_node *n = flow_graph_find(g, name);

	assert_non_null(n);
	return n;
}

static bool trace_has(const json_t *trace, const char *node)
{
	size_t i;

	for (i = 0; i < json_array_size(trace); i++)
		if (!strcmp(fl_json_str(json_array_get(trace, i), "node", ""), node))
			return true;
	return false;
}

/* ---- ingestion rules ---- */

static void expect_field_error(json_t *in, const char *field, const char *fragment)
{
	json_t *out = NULL, *errors = NULL;
	char *text;

	assert_int_equal(support_ticket_validate(in, fixed_now(NULL), &out, &errors), SUPPORT_EINVAL);
	assert_null(out);
	text = support_errors_text(errors);
	if (!strstr(text, field) || !strstr(text, fragment))
		fail_msg("expected '%s: ...%s...' in '%s'", field, fragment, text);
	free(text);
	json_decref(errors);
	json_decref(in);
}

static void test_ingestion_rules_name_each_field(void **state)
{
	(void)state;
	expect_field_error(json_pack("{s:s, s:s}", "subject", "x", "content", "long enough content"),
			   "customer_id", "is required");
	expect_field_error(json_pack("{s:s, s:s}", "customer_id", "c", "content", "long enough content"),
			   "subject", "is required");
	expect_field_error(json_pack("{s:s, s:s}", "customer_id", "c", "subject", "s"), "content", "is required");
	expect_field_error(json_pack("{s:s, s:s, s:s}", "customer_id", "c", "subject", "s", "content", "  short  "),
			   "content", "must be 10 to 10000 characters after trimming (got 5)");
	expect_field_error(json_pack("{s:s, s:s, s:i}", "customer_id", "c", "subject", "s", "content", 42),
			   "content", "must be a string");
	expect_field_error(json_pack("{s:s, s:s, s:s}", "customer_id", "c", "subject", "   ",
				     "content", "long enough content"), "subject", "must not be empty");
	expect_field_error(json_pack("{s:s, s:s, s:s, s:s}", "customer_id", "c", "subject", "s",
				     "content", "long enough content", "source", "pigeon"),
			   "source", "must be one of");
	expect_field_error(json_pack("{s:s, s:s, s:s, s:[]}", "customer_id", "c", "subject", "s",
				     "content", "long enough content", "metadata"), "metadata", "must be an object");
	expect_field_error(json_pack("[]"), "", "must be a JSON object");
	{
		/* all violations at once */
		json_t *empty = json_object(), *out, *errors;

		assert_int_equal(support_ticket_validate(empty, 0, &out, &errors), SUPPORT_EINVAL);
		assert_int_equal(json_array_size(errors), 3);
		json_decref(errors);
		json_decref(empty);
	}
}

/* Every violation carries a stable code, and the refusal every door shows names the first. */
static void test_ingestion_errors_carry_codes(void **state)
{
	json_t *in = json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", 42, "subject", "  ", "content", "short",
			       "source", "pigeon", "customer_id", "c");
	json_t *out = NULL, *errors = NULL, *refusal;
	static const char *const want[][2] = {
		{ "id", SUPPORT_FIELD_TYPE }, { "subject", SUPPORT_FIELD_EMPTY },
		{ "content", SUPPORT_FIELD_LENGTH }, { "source", SUPPORT_FIELD_VALUE },
	};
	char *long_id = fl_calloc(130, 1);
	size_t i;

	(void)state;
	assert_int_equal(support_ticket_validate(in, 0, &out, &errors), SUPPORT_EINVAL);
	assert_int_equal(json_array_size(errors), FL_ARRAY_SIZE(want));
	for (i = 0; i < FL_ARRAY_SIZE(want); i++) {
		assert_string_equal(fl_json_str(json_array_get(errors, i), "field", ""), want[i][0]);
		assert_string_equal(fl_json_str(json_array_get(errors, i), "code", ""), want[i][1]);
	}
	refusal = support_ticket_refusal(errors);
	assert_string_equal(fl_json_str(refusal, "code", ""), "validation_failed");
	assert_string_equal(fl_json_str(refusal, "field", ""), "id");
	assert_non_null(strstr(fl_json_str(refusal, "message", ""), "subject: must not be empty"));
	assert_ptr_equal(json_object_get(refusal, "details"), errors);
	json_decref(refusal);
	json_decref(errors);
	json_decref(in);

	/* the sender's id: at most 128 characters, the API's rule at every door */
	memset(long_id, 'x', 129);
	in = json_pack("{s:s, s:s, s:s, s:s}", "id", long_id, "customer_id", "c", "subject", "s",
		       "content", "long enough content");
	assert_int_equal(support_ticket_validate(in, 0, &out, &errors), SUPPORT_EINVAL);
	assert_string_equal(fl_json_str(json_array_get(errors, 0), "code", ""), SUPPORT_FIELD_LENGTH);
	json_decref(errors);
	json_decref(in);
	long_id[128] = '\0';
	in = json_pack("{s:s, s:s, s:s, s:s}", "id", long_id, "customer_id", "c", "subject", "s",
		       "content", "long enough content");
	assert_int_equal(support_ticket_validate(in, 0, &out, &errors), SUPPORT_OK);
	json_decref(out);
	json_decref(in);
	free(long_id);
}

static void test_ingestion_normalizes_and_defaults(void **state)
{
	json_t *in = json_pack("{s:s, s:s, s:s}", "customer_id", "cust_9", "subject", "  Hello  ",
			       "content", "\n  My invoice is wrong, please check.  \n");
	json_t *out = NULL, *errors = NULL;
	char *big = fl_calloc(10002, 1);

	(void)state;
	assert_int_equal(support_ticket_validate(in, fixed_now(NULL), &out, &errors), SUPPORT_OK);
	assert_string_equal(fl_json_str(out, "id", ""), "ticket_1709294400_cust_9");
	assert_string_equal(fl_json_str(out, "subject", ""), "Hello");
	assert_string_equal(fl_json_str(out, "content", ""), "My invoice is wrong, please check.");
	assert_string_equal(fl_json_str(out, "channel", ""), "web");
	assert_true(json_is_object(json_object_get(out, "metadata")));
	assert_string_equal(fl_json_str(out, "created_at", ""), "2024-03-01T12:00:00.000Z");
	json_decref(out);
	json_decref(in);
	memset(big, 'a', 10001);
	expect_field_error(json_pack("{s:s, s:s, s:s}", "customer_id", "c", "subject", "s", "content", big),
			   "content", "(got 10001)");
	big[10000] = '\0';
	in = json_pack("{s:s, s:s, s:s}", "customer_id", "c", "subject", "s", "content", big);
	assert_int_equal(support_ticket_validate(in, 0, &out, &errors), SUPPORT_OK);
	json_decref(out);
	json_decref(in);
	free(big);
}

/* ---- node contracts ---- */

static void test_ingestion_node_enriches_from_crm(void **state)
{
	struct fixture *f = *state;
	json_t *shared = json_pack("{s:o}", "incoming_ticket",
				   ticket("t1", "cust_003", "Dashboard question", "How do I export the dashboard data?"));
	char *action = run_node(f, node_of(f->cs, "ticket_ingestion"), shared);
	json_t *meta = json_object_get(json_object_get(shared, "ticket"), "metadata");

	assert_string_equal(action, "sentiment_analysis");
	assert_string_equal(fl_json_str(meta, "customer_tier", ""), "enterprise");
	assert_int_equal(fl_json_int(meta, "previous_interactions", 0), 15);
	assert_string_equal(fl_json_str(json_object_get(shared, "customer"), "name", ""), "Acme Corp");
	free(action);
	json_decref(shared);
}

static void test_ingestion_node_fails_on_invalid_ticket(void **state)
{
	struct fixture *f = *state;
	json_t *shared = json_pack("{s:{s:s, s:s}}", "incoming_ticket", "customer_id", "c", "subject", "s");
	struct flow_result *r = support_run(f->cs, "ticket_ingestion", &f->ctx, shared);

	assert_int_equal(flow_result_code(r), FLOW_EEXEC);
	assert_non_null(strstr(flow_result_error(r), "invalid ticket: content: is required"));
	/* the kind of failure is a code, not the message's words */
	assert_string_equal(flow_result_error_code(r), support_errname(SUPPORT_EINVAL));
	assert_int_equal(flow_result_steps(r), 1);
	flow_result_free(r);
	json_decref(shared);
}

static json_t *ingested(struct fixture *f, json_t *incoming)
{
	json_t *shared = json_pack("{s:o}", "incoming_ticket", incoming);

	free(run_node(f, node_of(f->cs, "ticket_ingestion"), shared));
	return shared;
}

static void test_analysis_nodes_write_their_keys(void **state)
{
	struct fixture *f = *state;
	json_t *shared = ingested(f, ticket("t2", "cust_002", "Charged twice this month",
					    "I was charged twice for my subscription this month. Please refund the duplicate payment."));
	char *a;
	const json_t *s, *c, *p;

	a = run_node(f, node_of(f->cs, "sentiment_analysis"), shared);
	assert_string_equal(a, "categorization");
	free(a);
	s = json_object_get(shared, "sentiment_analysis");
	assert_non_null(fl_json_str(s, "sentiment", NULL));
	assert_true(fl_json_num(s, "confidence", -1) >= 0 && fl_json_num(s, "confidence", 2) <= 1);
	assert_true(json_is_array(json_object_get(s, "emotional_indicators")));
	assert_non_null(fl_json_str(s, "urgency", NULL));
	assert_non_null(fl_json_str(s, "recommended_approach", NULL));
	assert_string_equal(fl_json_str(s, "path", ""), "builtin");

	a = run_node(f, node_of(f->cs, "ticket_categorization"), shared);
	assert_string_equal(a, "priority_assignment");
	free(a);
	c = json_object_get(shared, "categorization");
	assert_string_equal(fl_json_str(c, "primary_category", ""), "billing");
	assert_string_equal(fl_json_str(c, "suggested_department", ""), "billing");
	assert_true(json_array_size(json_object_get(c, "keywords")) > 0);

	a = run_node(f, node_of(f->cs, "priority_assignment"), shared);
	p = json_object_get(shared, "priority_assignment");
	assert_true(!strcmp(a, "standard_response") || !strcmp(a, "high_priority_workflow"));
	assert_non_null(strstr(fl_json_str(p, "reasoning", ""), "score "));
	assert_true(json_array_size(json_object_get(p, "factors_considered")) > 0);
	assert_non_null(fl_json_str(p, "recommended_response_time", NULL));
	assert_non_null(fl_json_str(p, "escalation_risk", NULL));
	free(a);

	a = run_node(f, node_of(f->cs, "knowledge_base_search"), shared);
	assert_string_equal(a, "response_generation");
	free(a);
	assert_true(fl_json_int(json_object_get(shared, "knowledge_base_results"), "articles_found", 0) > 0);

	a = run_node(f, node_of(f->cs, "response_generation"), shared);
	assert_true(!strcmp(a, "finalize_response") || !strcmp(a, "escalation_decision"));
	free(a);
	assert_non_null(strstr(fl_json_str(json_object_get(shared, "generated_response"), "response", ""), "Hi Jane"));

	a = run_node(f, node_of(f->cs, "escalation_decision"), shared);
	assert_true(!strcmp(a, "human_escalation") || !strcmp(a, "finalize_response"));
	free(a);
	a = run_node(f, node_of(f->cs, "human_escalation"), shared);
	assert_string_equal(a, "notify_human_agents");
	free(a);
	{
		/* the hand-off names the articles; their bodies stay in knowledge_base_results only */
		const json_t *pkg = json_object_get(json_object_get(shared, "escalation_package"), "escalation_package");
		const json_t *kbr = json_object_get(shared, "knowledge_base_results");
		const json_t *brief = json_object_get(json_object_get(pkg, "knowledge_base_results"), "articles");
		const json_t *full = json_object_get(kbr, "articles");
		size_t k;

		assert_non_null(pkg);
		assert_int_equal(json_array_size(brief), json_array_size(full));
		for (k = 0; k < json_array_size(brief); k++) {
			assert_string_equal(fl_json_str(json_array_get(brief, k), "id", "?"),
					    fl_json_str(json_array_get(full, k), "id", "!"));
			assert_null(json_object_get(json_array_get(brief, k), "content"));
			assert_non_null(fl_json_str(json_array_get(full, k), "content", NULL));
		}
	}
	a = run_node(f, node_of(f->cs, "customer_satisfaction"), shared);
	assert_string_equal(a, "complete");
	free(a);
	s = json_object_get(shared, "satisfaction_metrics");
	assert_true(fl_json_num(s, "satisfaction_score", -1) >= 0 && fl_json_num(s, "satisfaction_score", 2) <= 1);
	json_decref(shared);
}

static void test_nodes_name_missing_input(void **state)
{
	struct fixture *f = *state;
	json_t *shared = json_object();
	struct flow_result *r = support_run(node_of(f->cs, "sentiment_analysis"), NULL, &f->ctx, shared);

	assert_int_equal(flow_result_code(r), FLOW_EPREP);
	assert_non_null(strstr(flow_result_error(r), "shared has no 'ticket'"));
	flow_result_free(r);
	/* a run without the support context fails clearly */
	r = flow_run(node_of(f->cs, "sentiment_analysis"), shared, NULL);
	assert_non_null(strstr(flow_result_error(r), "no support context"));
	flow_result_free(r);
	json_decref(shared);
}

/* ---- satisfaction formula ---- */

static void test_satisfaction_follows_the_seed_formula(void **state)
{
	struct fixture *f = *state;
	json_t *shared = json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s, s:s, s:[s]}, s:{s:s}}",
				   "ticket", "id", "x", "created_at", "2024-03-01T11:59:00Z",
				   "sentiment_analysis", "sentiment", "negative",
				   "generated_response", "response", "I understand, sorry about that.",
				   "tone", "empathetic", "next_steps", "do this",
				   "escalation_decision", "escalation_decision", "no_escalation");
	char *a = run_node(f, node_of(f->cs, "customer_satisfaction"), shared);
	const json_t *m = json_object_get(shared, "satisfaction_metrics");

	/* 0.7 + 0.1 (60 s) + 0.1 (negative start) + 0.05 (no escalation) + 0.05 (quality 1.0) */
	assert_true(fabs(fl_json_num(m, "satisfaction_score", 0) - 1.0) < 1e-9);
	assert_true(fabs(fl_json_num(m, "response_quality", 0) - 1.0) < 1e-9);
	assert_int_equal(fl_json_int(m, "resolution_time", -1), 60);
	free(a);
	json_decref(shared);
}

/* ---- paths through customer_support ---- */

static struct flow_result *run_cs(struct fixture *f, json_t *incoming, json_t **shared)
{
	*shared = json_pack("{s:o}", "incoming_ticket", incoming);
	return support_run(f->cs, "ticket_ingestion", &f->ctx, *shared);
}

static void test_standard_path_finalizes_without_escalation(void **state)
{
	struct fixture *f = *state;
	json_t *shared;
	struct flow_result *r = run_cs(f, ticket("std1", "cust_002", "How do I reset my password?",
		"Hi, I forgot my password and would like to reset it. Where do I find the reset link? Thanks!"), &shared);
	const json_t *trace = flow_result_trace(r);

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_true(trace_has(trace, "knowledge_base_search"));
	assert_true(trace_has(trace, "response_generation"));
	assert_false(trace_has(trace, "escalation_decision"));
	assert_true(trace_has(trace, "customer_satisfaction"));
	assert_string_equal(fl_json_str(json_array_get(json_object_get(json_object_get(shared,
		"knowledge_base_results"), "articles"), 0), "id", ""), "kb_001");
	assert_false(fl_json_bool(json_object_get(shared, "generated_response"), "escalation_needed", true));
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(shared,
		"generated_response"), "articles_referenced"), 0)), "kb_001");
	flow_result_free(r);
	json_decref(shared);
}

static void test_reply_quotes_wrapped_steps_whole(void **state)
{
	struct fixture *f = *state;
	json_t *shared, *steps;
	struct flow_result *r = run_cs(f, ticket("wrap1", "cust_002", "Refund for a renewal",
		"My monthly plan renewed yesterday but I have not used the workspace since. "
		"Can I get a refund of the renewal charge?"), &shared);
	const json_t *g;
	size_t i;
	bool found = false;

	assert_int_equal(flow_result_code(r), FLOW_OK);
	g = json_object_get(shared, "generated_response");
	assert_string_equal(json_string_value(json_array_get(json_object_get(g, "articles_referenced"), 0)),
			    "kb_016");
	steps = json_object_get(g, "quoted_steps");
	assert_true(json_array_size(steps) > 0);
	/* kb_016 wraps this item over two lines: it is quoted whole, not cut at "charge you" */
	for (i = 0; i < json_array_size(steps); i++) {
		const char *s = json_string_value(json_array_get(steps, i));

		assert_null(strchr(s, '\n'));
		if (strstr(s, "renewal charge you report within **7 days** if you have not used"))
			found = true;
	}
	assert_true(found);
	flow_result_free(r);
	json_decref(shared);
}

/* The reply quotes the article's list that fits the ticket, numbered on its own, with its heading. */
static void test_reply_quotes_the_section_that_fits(void **state)
{
	static const struct { const char *subject, *content, *first_step, *heading; } cases[] = {
		{ "Unable to access my account - password reset not working", "Hi, I have been trying to reset "
		  "my password for the past hour but the reset email never arrives.", "Wait five minutes",
		  "The reset email does not arrive" },
		{ "Forgot my password", "How do I reset my password? I forgot it and cannot sign in.",
		  "Go to the sign-in page", "Reset your password" },
	};
	struct fixture *f = *state;
	size_t k;

	for (k = 0; k < FL_ARRAY_SIZE(cases); k++) {
		json_t *shared;
		struct flow_result *r = run_cs(f, ticket("sect", "cust_002", cases[k].subject, cases[k].content),
					       &shared);
		const json_t *g = json_object_get(shared, "generated_response");
		const char *reply = fl_json_str(g, "response", "");
		char *want = fl_asprintf("Under \"%s\":\n1. %s", cases[k].heading, cases[k].first_step);

		assert_int_equal(flow_result_code(r), FLOW_OK);
		assert_string_equal(json_string_value(json_array_get(json_object_get(g, "articles_referenced"), 0)),
				    "kb_001");
		assert_non_null(strstr(reply, want));
		/* one list only: the other section's steps are not run on after it */
		assert_null(strstr(reply, k == 0 ? "Forgot Password" : "Wait five minutes"));
		free(want);
		flow_result_free(r);
		json_decref(shared);
	}
}

static void test_ungrounded_ticket_goes_to_a_human(void **state)
{
	struct fixture *f = *state;
	json_t *shared;
	struct flow_result *r = run_cs(f, ticket("std2", "cust_002", "Partnership proposal",
		"We would like to discuss a co-marketing partnership for our llama farm newsletter in Peru."), &shared);
	const json_t *trace = flow_result_trace(r);

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_true(trace_has(trace, "escalation_decision"));
	assert_true(trace_has(trace, "human_escalation"));
	assert_true(fl_json_bool(json_object_get(shared, "generated_response"), "escalation_needed", false));
	assert_string_equal(fl_json_str(json_object_get(shared, "escalation_decision"), "escalation_decision", ""),
			    "tier_2");
	assert_non_null(json_object_get(shared, "escalation_package"));
	flow_result_free(r);
	json_decref(shared);
}

static void test_policy_escalates_even_a_grounded_reply(void **state)
{
	struct fixture *f = *state;
	json_t *legal = ticket("pol1", "cust_002", "How do I reset my password?",
		"I forgot my password and the reset link does not work. If this is not fixed today "
		"my lawyer will hear about it.");
	json_t *human = ticket("pol2", "cust_002", "How do I reset my password?",
		"I forgot my password and would like to reset it. Can I speak to a human about it please?");
	json_t *thread = NULL;
	struct support_outcome o;

	assert_int_equal(support_process(&f->ctx, f->cs, legal, &o), SUPPORT_OK);
	assert_true(trace_has(o.trace, "escalation_decision"));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "escalation_decision"), "rule", ""), "legal_threat");
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "escalated");
	/* the rule is the reply's to carry; the sentiment analysis holds only sentiment */
	assert_string_equal(fl_json_str(json_object_get(o.shared, "generated_response"), "escalation_rule", ""),
			    "legal_threat");
	assert_null(json_object_get(json_object_get(o.shared, "sentiment_analysis"), "escalation_rule"));
	assert_null(json_object_get(json_object_get(o.shared, "sentiment_analysis"), "escalation_needed"));
	support_outcome_release(&o);
	/* a manager answers a legal threat: no automatic reply went out */
	assert_int_equal(store_message_list(f->store, "pol1", &thread), STORE_OK);
	assert_int_equal(json_array_size(thread), 1);
	json_decref(thread);

	assert_int_equal(support_process(&f->ctx, f->cs, human, &o), SUPPORT_OK);
	assert_string_equal(fl_json_str(json_object_get(o.shared, "escalation_decision"), "rule", ""),
			    "human_requested");
	assert_false(fl_json_bool(json_object_get(o.shared, "escalation_decision"), "auto_response_sent", true));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "reason", ""), "upset_customer");
	support_outcome_release(&o);
	/* a customer who asks for a person gets one: the grounded reply is the agent's draft, not sent */
	assert_int_equal(store_message_list(f->store, "pol2", &thread), STORE_OK);
	assert_int_equal(json_array_size(thread), 1);
	json_decref(thread);
	json_decref(legal);
	json_decref(human);
}

static void test_high_priority_path_always_checks_escalation(void **state)
{
	struct fixture *f = *state;
	json_t *shared, *in = support_demo_ticket("escalation");
	struct flow_result *r = run_cs(f, in, &shared);
	const json_t *trace = flow_result_trace(r);
	const json_t *esc = json_object_get(shared, "escalation_decision");

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_true(trace_has(trace, "high_priority/knowledge_base_search"));
	assert_true(trace_has(trace, "high_priority/escalation_decision"));
	assert_true(trace_has(trace, "high_priority/human_escalation"));
	assert_true(trace_has(trace, "high_priority/customer_satisfaction"));
	assert_false(trace_has(trace, "knowledge_base_search"));
	assert_string_equal(fl_json_str(json_object_get(shared, "priority_assignment"), "priority", ""), "urgent");
	assert_string_equal(fl_json_str(esc, "escalation_decision", ""), "emergency");
	assert_string_equal(fl_json_str(esc, "escalation_priority", ""), "critical");
	assert_string_equal(fl_json_str(json_object_get(shared, "categorization"), "primary_category", ""), "technical");
	flow_result_free(r);
	json_decref(shared);
}

static void test_escalation_workflow_from_its_start(void **state)
{
	struct fixture *f = *state;
	struct flow_node *g = support_workflow_find("escalation")->build();
	json_t *shared = json_pack("{s:{s:s, s:s, s:s, s:s, s:{}}, s:{s:s, s:f}, s:{s:s, s:f}, s:{s:s, s:s}, s:{s:b}}",
		"ticket", "id", "e1", "customer_id", "cust_001", "subject", "I want to talk to a human",
		"content", "Please let me speak to a human about my order.", "metadata",
		"sentiment_analysis", "sentiment", "negative", "confidence", 0.9,
		"categorization", "primary_category", "general", "confidence", 0.9,
		"priority_assignment", "priority", "medium", "escalation_risk", "medium",
		"generated_response", "escalation_needed", 0);
	struct flow_result *r = support_run(g, "escalation_decision", &f->ctx, shared);

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(fl_json_str(json_object_get(shared, "escalation_decision"), "rule", ""), "human_requested");
	assert_true(trace_has(flow_result_trace(r), "human_escalation"));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_runs_are_deterministic(void **state)
{
	struct fixture *f = *state;
	char *out[2];
	int i;

	for (i = 0; i < 2; i++) {
		json_t *shared;
		struct flow_result *r = run_cs(f, support_demo_ticket("single"), &shared);
		json_t *kbr = json_object_get(shared, "knowledge_base_results");

		assert_int_equal(flow_result_code(r), FLOW_OK);
		json_object_del(kbr, "search_time");   /* wall time, the one thing allowed to vary */
		json_object_del(json_object_get(json_object_get(json_object_get(shared, "escalation_package"),
								"escalation_package"), "knowledge_base_results"),
				"search_time");
		out[i] = fl_json_dumps(shared);
		flow_result_free(r);
		json_decref(shared);
	}
	assert_string_equal(out[0], out[1]);
	free(out[0]);
	free(out[1]);
}

/* ---- the seed's demo tickets ---- */

static void test_demo_tickets_get_sensible_labels(void **state)
{
	struct fixture *f = *state;
	/* a feature request is product (features) or general (feedback): either is sensible */
	static const struct { const char *id, *category, *also, *sentiment_not; } batch[] = {
		{ "batch_001", "billing", "billing", "very_negative" },
		{ "batch_002", "technical", "technical", "very_positive" },
		{ "batch_003", "product", "general", "negative" },
	};
	json_t *shared, *tickets = support_demo_ticket("batch");
	struct flow_result *r = run_cs(f, support_demo_ticket("single"), &shared);
	const char *prio;
	size_t i;

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_string_equal(fl_json_str(json_object_get(shared, "categorization"), "primary_category", ""), "account");
	prio = fl_json_str(json_object_get(shared, "priority_assignment"), "priority", "");
	assert_true(!strcmp(prio, "high") || !strcmp(prio, "urgent"));
	assert_string_equal(fl_json_str(json_object_get(shared, "sentiment_analysis"), "urgency", ""), "high");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(json_object_get(shared,
		"knowledge_base_results"), "articles"), 0), "id", ""), "kb_001");
	assert_non_null(strstr(fl_json_str(json_object_get(shared, "generated_response"), "response", ""), "Hi John"));
	flow_result_free(r);
	json_decref(shared);
	for (i = 0; i < FL_ARRAY_SIZE(batch); i++) {
		const json_t *s;
		const char *got;

		r = run_cs(f, json_incref(json_array_get(tickets, i)), &shared);
		assert_int_equal(flow_result_code(r), FLOW_OK);
		got = fl_json_str(json_object_get(shared, "categorization"), "primary_category", "");

		if (strcmp(got, batch[i].category) && strcmp(got, batch[i].also))
			fail_msg("%s: category %s, expected %s", batch[i].id,
				 fl_json_str(json_object_get(shared, "categorization"), "primary_category", ""),
				 batch[i].category);
		s = json_object_get(shared, "sentiment_analysis");
		assert_string_not_equal(fl_json_str(s, "sentiment", ""), batch[i].sentiment_not);
		flow_result_free(r);
		json_decref(shared);
	}
	json_decref(tickets);
}

/* ---- persistence ---- */

static void test_process_stores_results_exactly_once(void **state)
{
	struct fixture *f = *state;
	json_t *in = support_demo_ticket("escalation"), *queue = NULL, *thread = NULL, *outbox = NULL;
	struct support_outcome o;
	size_t before;

	assert_int_equal(store_escalation_list(f->store, NULL, 100, &queue), STORE_OK);
	before = json_array_size(queue);
	json_decref(queue);
	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_OK);
	assert_true(o.created);
	assert_false(o.already_done);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "escalated");
	assert_string_equal(fl_json_str(o.ticket, "priority", ""), "urgent");
	assert_string_equal(fl_json_str(json_object_get(json_object_get(o.ticket, "analysis"), "paths"),
					"categorization", ""), "builtin");
	assert_true(json_array_size(json_object_get(o.ticket, "trace")) > 5);
	support_outcome_release(&o);

	/* again, as a retried job would: nothing re-applied */
	assert_int_equal(support_process_stored(&f->ctx, f->cs, "escalation_demo_001", &o), SUPPORT_EDONE);
	assert_true(o.already_done);
	support_outcome_release(&o);
	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_OK);
	assert_false(o.created);
	assert_true(o.already_done);
	support_outcome_release(&o);

	assert_int_equal(store_escalation_list(f->store, NULL, 100, &queue), STORE_OK);
	assert_int_equal(json_array_size(queue), before + 1);
	assert_int_equal(store_outbox_list(f->store, NULL, 100, &outbox), STORE_OK);
	assert_true(json_array_size(outbox) >= 2);   /* escalation + urgent alert on Slack */
	assert_int_equal(store_message_list(f->store, "escalation_demo_001", &thread), STORE_OK);
	assert_int_equal(json_array_size(thread), 1);   /* the inbound message; no auto-reply */
	json_decref(queue);
	json_decref(outbox);
	json_decref(thread);
	json_decref(in);
}

/* Rows of list (an array of objects) whose key equals value. */
static size_t rows_with(const json_t *list, const char *key, const char *value)
{
	const json_t *row;
	size_t i, n = 0;

	json_array_foreach(list, i, row)
		n += !strcmp(fl_json_str(row, key, ""), value);
	return n;
}

/* The ticket's "workflow.completed" events and the outbox's ticket.created events for it. */
static void finish_rows(struct fixture *f, const char *id, size_t *completed, size_t *created)
{
	json_t *events = NULL, *outbox = NULL, *row;
	size_t i;

	assert_int_equal(store_event_list(f->store, id, 100, &events), STORE_OK);
	*completed = rows_with(events, "type", "workflow.completed");
	assert_int_equal(store_outbox_list(f->store, NULL, 100, &outbox), STORE_OK);
	*created = 0;
	json_array_foreach(outbox, i, row) {
		const json_t *payload = json_object_get(row, "payload");

		*created += !strcmp(fl_json_str(row, "channel", ""), "webhook") &&
			    !strcmp(fl_json_str(payload, "event", ""), "ticket.created") &&
			    !strcmp(fl_json_str(json_object_get(payload, "ticket"), "id", ""), id);
	}
	json_decref(events);
	json_decref(outbox);
}

static int64_t jobs_done(struct fixture *f)
{
	json_t *counts = NULL;
	int64_t n;

	assert_int_equal(store_job_counts(f->store, &counts), STORE_OK);
	n = fl_json_int(counts, "done", 0);
	json_decref(counts);
	return n;
}

/*
 * A job's finish is one transaction: the results, the events for
 * integrations and the job's completion commit together; a failed write or
 * a lease that passed to another worker leaves nothing behind; a retried
 * job finds the ticket triaged, queues nothing twice and completes.
 */
static void test_job_finish_is_one_transaction(void **state)
{
	struct fixture *f = *state;
	json_t *in = ticket("job1", "cust_002", "How do I reset my password?",
			    "Hi, I forgot my password and would like to reset it. Where is the link?");
	json_t *valid = NULL, *errors = NULL, *stored = NULL, *cur = NULL;
	struct store_job *job = NULL, *again = NULL;
	struct support_outcome o;
	struct support_job sj;
	size_t completed, created;
	bool fresh;

	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "http://127.0.0.1:9/events");
	assert_int_equal(support_ticket_validate(in, fixed_now(NULL), &valid, &errors), SUPPORT_OK);
	assert_int_equal(store_ticket_intake(f->store, valid, "triage", NULL, &stored, &fresh), STORE_OK);
	assert_true(fresh);
	assert_int_equal(store_job_claim(f->store, "triage", "worker-a", 60, &job), STORE_OK);
	assert_string_equal(job->ticket_id, "job1");

	/* another worker's lease: nothing of the run is stored, the ticket waits as it came */
	sj = (struct support_job){ job->id, job->ticket_id, "worker-b" };
	assert_int_equal(support_process_job(&f->ctx, f->cs, &sj, &o), SUPPORT_ELEASE);
	assert_non_null(o.error);
	support_outcome_release(&o);
	/* the last write of the finish fails: the same */
	sj.owner = "worker-a";
	store_fault_inject(f->store, "store_job_complete", 1, STORE_EIO);
	assert_int_equal(support_process_job(&f->ctx, f->cs, &sj, &o), SUPPORT_ESTORE);
	support_outcome_release(&o);
	assert_int_equal(store_ticket_get(f->store, "job1", false, &cur), STORE_OK);
	assert_string_equal(fl_json_str(cur, "status", ""), "new");
	json_decref(cur);
	finish_rows(f, "job1", &completed, &created);
	assert_int_equal(completed, 0);
	assert_int_equal(created, 0);
	assert_int_equal(jobs_done(f), 0);

	/* the lease's holder: the results, the event and the completion commit together */
	assert_int_equal(support_process_job(&f->ctx, f->cs, &sj, &o), SUPPORT_OK);
	assert_false(o.already_done);
	assert_string_not_equal(fl_json_str(o.ticket, "status", "new"), "new");
	support_outcome_release(&o);
	finish_rows(f, "job1", &completed, &created);
	assert_int_equal(completed, 1);
	assert_int_equal(created, 1);
	assert_int_equal(jobs_done(f), 1);

	/* a retried job for the triaged ticket: not run again, nothing queued twice, completed */
	assert_int_equal(store_job_enqueue(f->store, "triage", "job1", NULL, 3, 0, NULL), STORE_OK);
	assert_int_equal(store_job_claim(f->store, "triage", "worker-a", 60, &again), STORE_OK);
	sj = (struct support_job){ again->id, again->ticket_id, "worker-a" };
	assert_int_equal(support_process_job(&f->ctx, f->cs, &sj, &o), SUPPORT_EDONE);
	assert_true(o.already_done);
	assert_null(o.trace);
	support_outcome_release(&o);
	finish_rows(f, "job1", &completed, &created);
	assert_int_equal(completed, 1);
	assert_int_equal(created, 1);
	assert_int_equal(jobs_done(f), 2);

	fl_config_set("FRONTLINE_EVENT_WEBHOOK_URLS", "");
	store_job_free(job);
	store_job_free(again);
	json_decref(valid);
	json_decref(errors);
	json_decref(stored);
	json_decref(in);
}

static void test_auto_reply_is_stored_once(void **state)
{
	struct fixture *f = *state;
	json_t *in = ticket("reply1", "cust_002", "How do I reset my password?",
			    "Hi, I forgot my password and would like to reset it. Where is the link?");
	json_t *thread = NULL, *customer = NULL;
	struct support_outcome o;
	int64_t tickets_before;

	assert_int_equal(store_customer_get(f->store, "cust_002", &customer), STORE_OK);
	tickets_before = fl_json_int(customer, "total_tickets", 0);
	json_decref(customer);
	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_OK);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "auto_replied");
	assert_non_null(fl_json_str(o.ticket, "first_response_at", NULL));
	support_outcome_release(&o);
	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_OK);
	support_outcome_release(&o);
	assert_int_equal(store_message_list(f->store, "reply1", &thread), STORE_OK);
	assert_int_equal(json_array_size(thread), 2);
	assert_string_equal(fl_json_str(json_array_get(thread, 1), "direction", ""), "outbound");
	assert_int_equal(store_customer_get(f->store, "cust_002", &customer), STORE_OK);
	assert_int_equal(fl_json_int(customer, "total_tickets", 0), tickets_before + 1);
	json_decref(customer);
	json_decref(thread);
	json_decref(in);
}

/*
 * The same answerable question left as a voicemail (a call of the phone
 * doors: its call_id): a written answer cannot reach a caller, an agent
 * calls back.
 */
static void test_phone_ticket_is_never_auto_replied(void **state)
{
	struct fixture *f = *state;
	json_t *in = ticket("call1", "+15550102000", "Voicemail from +15550102000",
			    "Hi, I forgot my password and would like to reset it. Where is the link?");
	struct support_outcome o;
	const json_t *ar;

	json_object_set_new(in, "source", json_string(FL_CHANNEL_PHONE));
	json_object_set_new(in, "metadata", json_pack("{s:s, s:s}", "provider", "twilio", "call_id", "CA0001"));
	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_OK);
	assert_string_not_equal(fl_json_str(o.ticket, "status", ""), "auto_replied");
	ar = json_object_get(json_object_get(o.ticket, "analysis"), "auto_reply");
	assert_false(fl_json_bool(ar, "sent", true));
	assert_string_equal(fl_json_str(ar, "reason", ""), "phone_call");
	support_outcome_release(&o);
	json_decref(in);
}

static void test_process_reports_invalid_ticket(void **state)
{
	struct fixture *f = *state;
	json_t *in = json_pack("{s:s, s:s, s:s}", "customer_id", "c", "subject", "s", "content", "short");
	struct support_outcome o;

	assert_int_equal(support_process(&f->ctx, f->cs, in, &o), SUPPORT_EINVAL);
	assert_non_null(strstr(o.error, "content: must be 10 to 10000 characters"));
	assert_string_equal(fl_json_str(json_array_get(o.errors, 0), "field", ""), "content");
	assert_string_equal(fl_json_str(json_array_get(o.errors, 0), "code", ""), SUPPORT_FIELD_LENGTH);
	support_outcome_release(&o);
	json_decref(in);
}

/* A stored ticket that breaks the rules (imported, or from before them) fails by the node's code. */
static void test_process_stored_reports_invalid_ticket_by_code(void **state)
{
	struct fixture *f = *state;
	json_t *in = json_pack("{s:s, s:s, s:s, s:s}", "channel", "api", "customer_id", "cust_001",
			       "subject", "s", "content", "short"), *stored = NULL;
	struct support_outcome o;
	bool created;

	assert_int_equal(store_ticket_intake(f->store, in, NULL, NULL, &stored, &created), STORE_OK);
	assert_int_equal(support_process_stored(&f->ctx, f->cs, fl_json_str(stored, "id", ""), &o), SUPPORT_EINVAL);
	assert_non_null(strstr(o.error, "invalid ticket: content: must be 10 to 10000 characters"));
	support_outcome_release(&o);
	json_decref(stored);
	json_decref(in);
}

/* ---- batch and monitoring ---- */

struct counter {
	int ok, failed;
};

static void count_progress(void *arg, bool ok)
{
	struct counter *c = arg;

	/* called from worker threads; each test item increments one field */
	__atomic_add_fetch(ok ? &c->ok : &c->failed, 1, __ATOMIC_SEQ_CST);
}

static void test_batch_keeps_order_and_reports_invalid(void **state)
{
	struct fixture *f = *state;
	struct flow_node *g = support_workflow_find("batch_processing")->build();
	json_t *tickets = support_demo_ticket("batch"), *shared, *results, *summary;
	struct counter c = { 0, 0 };
	struct flow_result *r;

	json_array_insert_new(tickets, 1, json_pack("{s:s, s:s}", "id", "bad", "customer_id", "cust_001"));
	shared = json_pack("{s:o}", "batch_tickets", tickets);
	flow_node_set_batch(flow_graph_find(g, "batch_process"), 3);
	f->ctx.progress = count_progress;
	f->ctx.progress_arg = &c;
	r = support_run(g, "batch_process", &f->ctx, shared);
	f->ctx.progress = NULL;
	assert_int_equal(flow_result_code(r), FLOW_OK);
	results = json_object_get(shared, "batch_results");
	assert_int_equal(json_array_size(results), 4);
	assert_string_equal(fl_json_str(json_object_get(json_object_get(json_array_get(results, 0), "shared"),
					"ticket"), "id", ""), "batch_001");
	assert_false(fl_json_bool(json_array_get(results, 1), "ok", true));
	assert_non_null(strstr(fl_json_str(json_array_get(results, 1), "error", ""), "subject: is required"));
	assert_string_equal(fl_json_str(json_object_get(json_object_get(json_array_get(results, 3), "shared"),
					"ticket"), "id", ""), "batch_003");
	summary = json_object_get(shared, "batch_summary");
	assert_int_equal(fl_json_int(summary, "processed", 0), 3);
	assert_int_equal(fl_json_int(summary, "failed", 0), 1);
	assert_int_equal(c.ok, 3);
	assert_int_equal(c.failed, 1);
	assert_true(fl_json_bool(json_array_get(results, 2), "stored", false));
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
}

static void test_monitoring_alerts_by_the_rules(void **state)
{
	struct fixture *f = *state;
	struct flow_node *g = support_workflow_find("real_time_monitoring")->build();
	json_t *calm = json_pack("{s:{s:i, s:i, s:f, s:f}}", "metrics", "volume", 45, "response_time", 180,
				 "satisfaction", 0.82, "escalation_rate", 0.15);
	json_t *bad = json_pack("{s:{s:i, s:f, s:f}}", "metrics", "response_time", 900,
				"satisfaction", 0.5, "escalation_rate", 0.4);
	struct flow_result *r = support_run(g, NULL, &f->ctx, calm);

	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(json_array_size(json_object_get(calm, "alerts")), 0);
	flow_result_free(r);
	r = support_run(g, NULL, &f->ctx, bad);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	assert_int_equal(json_array_size(json_object_get(bad, "alerts")), 3);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(bad, "alerts"), 1), "severity", ""), "critical");
	assert_true(json_array_size(json_object_get(bad, "notifications")) >= 3);
	flow_result_free(r);
	json_decref(calm);
	json_decref(bad);
	flow_node_free(g);
}

static void test_every_workflow_validates(void **state)
{
	const struct support_workflow *w = support_workflows();
	size_t i;

	(void)state;
	for (i = 0; w[i].name; i++) {
		struct flow_node *g = w[i].build();

		if (flow_graph_validate(g) != FLOW_OK)
			fail_msg("workflow %s: %s", w[i].name, flow_graph_errmsg(g));
		assert_non_null(flow_graph_find(g, w[i].start));
		flow_node_free(g);
	}
	assert_non_null(support_workflow_find("customer_support"));
	assert_null(support_workflow_find("nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingestion_rules_name_each_field),
		cmocka_unit_test(test_ingestion_errors_carry_codes),
		cmocka_unit_test(test_ingestion_normalizes_and_defaults),
		cmocka_unit_test(test_every_workflow_validates),
		cmocka_unit_test_setup_teardown(test_ingestion_node_enriches_from_crm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingestion_node_fails_on_invalid_ticket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_analysis_nodes_write_their_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_name_missing_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_satisfaction_follows_the_seed_formula, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standard_path_finalizes_without_escalation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_quotes_wrapped_steps_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_quotes_the_section_that_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ungrounded_ticket_goes_to_a_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_escalates_even_a_grounded_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_high_priority_path_always_checks_escalation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalation_workflow_from_its_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_are_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_tickets_get_sensible_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_stores_results_exactly_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_finish_is_one_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_reply_is_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phone_ticket_is_never_auto_replied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_reports_invalid_ticket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_stored_reports_invalid_ticket_by_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_keeps_order_and_reports_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitoring_alerts_by_the_rules, setup, teardown),
	};

	return cmocka_run_group_tests_name("support", tests, NULL, NULL);
}
