/*
 * The nine nodes of DESIGN §4, with the seed's names, shared keys and
 * actions. Each node's prep gathers what it reads from shared (and, for
 * ingestion, the CRM record from the store), its exec is a pure computation
 * by the built-in analyzer and policies (safe on worker threads), and its
 * post writes its result under its key and returns the seed's action.
 *
 * Every analysis carries "path": "builtin" (or "llm" when an LLM decided),
 * and the step's trace entry records the same note, with the "reason" when
 * the built-in analyzer stood in for a configured LLM. With ctx->llm set,
 * sentiment_analysis makes one triage call (read by categorization, priority
 * and escalation too) and response_generation one respond call: their exec
 * uses the LLM and their exec_fallback the built-in analyzer (llm_path.c).
 */
#include <string.h>

#include "support_int.h"
#include "llm/llm.h"
#include "store/store.h"
#include "text/text.h"

struct support_ctx *support__ctx(struct flow_call *call)
{
	struct support_ctx *ctx = flow_call_ctx(call, SUPPORT_CTX);

	if (!ctx)
		flow_call_fail(call, "the run has no support context");
	return ctx;
}

int64_t support_now_us(const struct support_ctx *ctx)
{
	return ctx && ctx->now_us ? ctx->now_us(ctx->now_arg) : fl_wall_us();
}

/* prep helper: an object holding (shared references to) the named keys. */
static json_t *pick(json_t *shared, const char *const *keys)
{
	json_t *o = json_object();

	for (; *keys; keys++) {
		json_t *v = json_object_get(shared, *keys);

		json_object_set(o, *keys, v ? v : json_null());
	}
	return o;
}

static int require(struct flow_call *call, json_t *shared, const char *key)
{
	if (json_object_get(shared, key))
		return 0;
	return flow_call_fail(call, "shared has no '%s' (run this node after the one that writes it)", key);
}

void support__mark_builtin(struct flow_call *call, json_t *result)
{
	json_object_set_new(result, "path", json_string("builtin"));
	flow_call_note(call, "path", json_string("builtin"));
}

static void mark_llm(struct flow_call *call, json_t *result, json_t *llm_call)
{
	json_object_set_new(result, "path", json_string("llm"));
	flow_call_note(call, "path", json_string("llm"));
	if (llm_call) {
		flow_call_note(call, "llm", json_incref(llm_call));
		json_object_set_new(result, "llm", llm_call);
	}
}

/* The built-in analyzer stood in for the LLM: say why, keep a failed call's accounting. */
static void mark_fallback(struct flow_call *call, json_t *result, const char *reason, json_t *prep)
{
	json_t *failed = json_object_get(prep, "llm_failed_call");

	support__mark_builtin(call, result);
	json_object_set_new(result, "reason", json_string(reason));
	flow_call_note(call, "reason", json_string(reason));
	if (failed) {
		json_object_set(result, "llm", failed);
		flow_call_note(call, "llm", json_incref(failed));
	}
}

/*
 * exec's LLM call failed: the call's accounting rides on prep_res (the
 * node's own object, which exec_fallback receives next) and exec fails.
 */
static int llm_failed(struct flow_call *call, json_t *prep, json_t *llm_call, char *err)
{
	if (llm_call)
		json_object_set_new(prep, "llm_failed_call", llm_call);
	flow_call_fail(call, "%s", err ? err : "llm call failed");
	free(err);
	return -1;
}

/* post helper: shared[key] = exec_res, then the action. */
static int store_result(json_t *shared, const char *key, json_t *exec_res)
{
	return json_object_set(shared, key, exec_res);
}

/* ---- 1. ticket_ingestion ---- */

static int ingestion_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *incoming = json_object_get(shared, "incoming_ticket");
	json_t *customer = json_object_get(shared, "customer");

	if (!ctx || require(call, shared, "incoming_ticket"))
		return -1;
	if (customer)
		json_incref(customer);
	else if (ctx->store) {
		const char *cid = fl_json_str(incoming, "customer_id", NULL);
		int rc = cid ? store_customer_get(ctx->store, cid, &customer) : STORE_ENOTFOUND;

		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return flow_call_fail(call, "cannot look up customer '%s': %s", cid,
					      store_errmsg(ctx->store));
		/* someone the store does not know: the external CRM, when there is one */
		if (rc == STORE_ENOTFOUND && ctx->crm)
			support_crm_lookup(ctx->crm, ctx->store, cid, support_now_us(ctx), &customer);
	}
	*out = json_pack("{s:O, s:o, s:I}", "incoming", incoming,
			 "customer", customer ? customer : json_null(),
			 "now", (json_int_t)support_now_us(ctx));
	return 0;
}

/* The CRM's facts about the customer join the ticket's metadata when absent. */
static void enrich_metadata(json_t *ticket, const json_t *customer)
{
	json_t *meta = json_object_get(ticket, "metadata");
	const json_t *crm = json_object_get(customer, "metadata");

	if (!json_is_object(customer))
		return;
	if (!json_object_get(meta, "customer_tier") && fl_json_str(customer, "tier", NULL))
		json_object_set_new(meta, "customer_tier", json_string(fl_json_str(customer, "tier", "")));
	/* the external CRM's figures (crm.c keeps them in the record's metadata) before our own counts */
	if (!json_object_get(meta, "previous_interactions") &&
	    json_is_integer(json_object_get(crm, "previous_interactions")))
		json_object_set(meta, "previous_interactions", json_object_get(crm, "previous_interactions"));
	if (!json_object_get(meta, "previous_interactions"))
		json_object_set_new(meta, "previous_interactions",
				    json_integer(fl_json_int(customer, "total_tickets", 0)));
	if (!json_object_get(meta, "satisfaction_history")) {
		/* a score, or a list of them: their mean is what the priority policy weighs */
		const json_t *h = json_object_get(crm, "satisfaction_history"), *x;
		double sum = 0;
		size_t i, n = 0;

		if (json_is_number(h))
			json_object_set(meta, "satisfaction_history", (json_t *)h);
		json_array_foreach(h, i, x)
			if (json_is_number(x)) {
				sum += json_number_value(x);
				n++;
			}
		if (n)
			json_object_set_new(meta, "satisfaction_history", json_real(sum / (double)n));
	}
	if (!json_object_get(meta, "satisfaction_history") &&
	    json_is_number(json_object_get(customer, "satisfaction_score")))
		json_object_set(meta, "satisfaction_history", json_object_get(customer, "satisfaction_score"));
}

static int ingestion_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *ticket = NULL, *errors = NULL, *customer = json_object_get(prep, "customer"), *message;

	if (support_ticket_validate(json_object_get(prep, "incoming"), fl_json_int(prep, "now", 0),
				    &ticket, &errors) != SUPPORT_OK) {
		char *text = support_errors_text(errors);

		flow_call_error(call, support_errname(SUPPORT_EINVAL), "invalid ticket: %s", text);
		free(text);
		json_decref(errors);
		return -1;
	}
	enrich_metadata(ticket, customer);
	/* the customer's own words, what they ask, spam and language: read once, used by every node */
	message = support__message(fl_json_str(ticket, "subject", ""), fl_json_str(ticket, "content", ""));
	*out = json_pack("{s:O, s:O, s:o}", "ticket", ticket, "customer", customer, "message", message);
	if (ctx && ctx->analyzer) {
		json_t *lang = support__language(ctx->analyzer, ticket, message);

		json_object_set_new(*out, "spam", support__spam(ctx->analyzer, ticket));
		json_object_set(json_object_get(*out, "ticket"), "language", json_object_get(lang, "code"));
		json_object_set_new(*out, "language", lang);
	}
	json_decref(ticket);
	return 0;
}

static int ingestion_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			  const char **action)
{
	(void)call;
	(void)prep;
	json_object_set(shared, "ticket", json_object_get(res, "ticket"));
	json_object_set(shared, "customer", json_object_get(res, "customer"));
	json_object_set(shared, "message", json_object_get(res, "message"));
	if (json_object_get(res, "spam")) {
		json_object_set(shared, "spam", json_object_get(res, "spam"));
		json_object_set(shared, "language", json_object_get(res, "language"));
	}
	*action = "sentiment_analysis";
	return 0;
}

static const struct flow_node_ops ingestion_ops = {
	.prep = ingestion_prep, .exec = ingestion_exec, .post = ingestion_post,
};

struct flow_node *support__node_ingestion(void)
{
	return flow_node_new("ticket_ingestion", &ingestion_ops, NULL);
}

/* ---- 2. sentiment_analysis ---- */

static const char *const sentiment_keys[] = { "ticket", "customer", NULL };

static int sentiment_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	if (!support__ctx(call) || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, sentiment_keys);
	return 0;
}

static int sentiment_builtin(struct flow_call *call, json_t *prep, const char *reason, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);

	*out = support__sentiment(ctx->analyzer, json_object_get(prep, "ticket"));
	if (!*out)
		return flow_call_fail(call, "the sentiment analyzer returned nothing");
	if (reason)
		mark_fallback(call, *out, reason, prep);
	else
		support__mark_builtin(call, *out);
	return 0;
}

/* With an LLM: one triage call; the whole reply rides along to post as "triage". */
static int sentiment_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *triage = NULL, *llm_call = NULL;
	char *err = NULL;

	if (!ctx->llm)
		return sentiment_builtin(call, prep, NULL, out);
	if (support__llm_triage(ctx->llm, ctx->analyzer->llm_tasks, json_object_get(prep, "ticket"),
				json_object_get(prep, "customer"), out, &triage, &llm_call, &err))
		return llm_failed(call, prep, llm_call, err);
	mark_llm(call, *out, llm_call);
	support__llm_floor_sentiment(ctx->analyzer, json_object_get(prep, "ticket"), *out);
	json_object_set_new(*out, "triage", triage);
	return 0;
}

static int sentiment_fallback(struct flow_call *call, json_t *prep, const char *error, json_t **out)
{
	return sentiment_builtin(call, prep, error, out);
}

static int sentiment_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			  const char **action)
{
	json_t *triage = json_object_get(res, "triage"), *analysis;

	(void)call;
	(void)prep;
	support__llm_usage_add(shared, json_object_get(res, "llm"));
	if (triage) {
		json_object_set(shared, "llm_triage", triage);
		analysis = json_deep_copy(res);
		json_object_del(analysis, "triage");
		json_object_set_new(shared, "sentiment_analysis", analysis);
	} else {
		store_result(shared, "sentiment_analysis", res);
	}
	*action = "categorization";
	return 0;
}

static const struct flow_node_ops sentiment_ops = {
	.prep = sentiment_prep, .exec = sentiment_exec, .post = sentiment_post,
	.exec_fallback = sentiment_fallback,
};

struct flow_node *support__node_sentiment(void)
{
	return flow_node_new("sentiment_analysis", &sentiment_ops, NULL);
}

/* ---- 3. ticket_categorization ---- */

static const char *const categorization_keys[] = { "ticket", "llm_triage", NULL };

static int categorization_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	if (!support__ctx(call) || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, categorization_keys);
	return 0;
}

/* The triage call already categorized the ticket; without it, the built-in model does. */
static int categorization_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	const json_t *triage = json_object_get(prep, "llm_triage");

	if (json_is_object(triage)) {
		*out = support__llm_categorization(triage);
		mark_llm(call, *out, NULL);
		return 0;
	}
	*out = support__categorize(ctx->analyzer, json_object_get(prep, "ticket"));
	if (ctx->llm)
		mark_fallback(call, *out, "the llm triage failed (see sentiment_analysis)", prep);
	else
		support__mark_builtin(call, *out);
	return 0;
}

static int categorization_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			       const char **action)
{
	(void)call;
	(void)prep;
	store_result(shared, "categorization", res);
	*action = "priority_assignment";
	return 0;
}

static const struct flow_node_ops categorization_ops = {
	.prep = categorization_prep, .exec = categorization_exec, .post = categorization_post,
};

struct flow_node *support__node_categorization(void)
{
	return flow_node_new("ticket_categorization", &categorization_ops, NULL);
}

/* ---- 4. priority_assignment ---- */

static const char *const priority_keys[] = { "ticket", "customer", "sentiment_analysis", "categorization", NULL };

static int priority_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	if (!support__ctx(call) || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, priority_keys);
	return 0;
}

static int priority_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	*out = support__priority(json_object_get(prep, "ticket"), json_object_get(prep, "customer"),
				 json_object_get(prep, "sentiment_analysis"),
				 json_object_get(prep, "categorization"));
	support__mark_builtin(call, *out);
	support__llm_floor_priority(call, prep, *out);
	return 0;
}

static int priority_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			 const char **action)
{
	const char *p = fl_json_str(res, "priority", "medium");

	(void)call;
	(void)prep;
	store_result(shared, "priority_assignment", res);
	*action = !strcmp(p, "high") || !strcmp(p, "urgent") ? "high_priority_workflow" : "standard_response";
	return 0;
}

static const struct flow_node_ops priority_ops = {
	.prep = priority_prep, .exec = priority_exec, .post = priority_post,
};

struct flow_node *support__node_priority(void)
{
	return flow_node_new("priority_assignment", &priority_ops, NULL);
}

/* ---- 5. knowledge_base_search: kbsearch.c ---- */

/* ---- 6. response_generation ---- */

static const char *const response_keys[] = {
	"ticket", "customer", "sentiment_analysis", "categorization", "priority_assignment",
	"knowledge_base_results", "message", "language", "spam", NULL,
};

struct node_flags {
	bool high_priority;   /* response_generation: always check escalation */
	bool always_check;    /* escalation_decision: high-risk tickets go to a human */
};

static const struct node_flags flags_standard = { false, false };
static const struct node_flags flags_high = { true, true };

static int response_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	if (!support__ctx(call) || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, response_keys);
	return 0;
}

/*
 * Whether the reply goes out alone (autoreply.c), for the built-in and the
 * LLM's replies alike: a reply that may not is routed through
 * escalation_decision with the reason, in the analysis and the trace.
 */
static void decide(struct flow_call *call, json_t *prep, json_t *response)
{
	struct support_autoreply_in in = {
		json_object_get(prep, "ticket"), json_object_get(prep, "message"), json_object_get(prep, "language"),
		json_object_get(prep, "spam"), json_object_get(prep, "sentiment_analysis"),
		json_object_get(prep, "categorization"), json_object_get(prep, "priority_assignment"),
		json_object_get(prep, "knowledge_base_results"), response, support__ctx(call)->analyzer,
	};
	json_t *d = support__autoreply(&in);

	if (!fl_json_bool(d, "sent", false))
		json_object_set_new(response, "escalation_needed", json_true());
	flow_call_note(call, "auto_reply", json_pack("{s:O, s:O}", "sent", json_object_get(d, "sent"),
						     "reason", json_object_get(d, "reason")));
	json_object_set_new(response, "auto_reply", d);
}

static int response_builtin(struct flow_call *call, json_t *prep, const char *reason, json_t **out)
{
	*out = support__response_builtin(support__ctx(call)->analyzer, json_object_get(prep, "ticket"),
					 json_object_get(prep, "customer"),
					 json_object_get(prep, "sentiment_analysis"),
					 json_object_get(prep, "categorization"),
					 json_object_get(prep, "priority_assignment"),
					 json_object_get(prep, "knowledge_base_results"),
					 json_object_get(prep, "message"));
	/*
	 * "The policy asks for a human": when a rule of the escalation table
	 * matches even a grounded reply (a legal threat, a request for a person),
	 * the reply is routed through escalation_decision.
	 */
	if (!fl_json_bool(*out, "escalation_needed", false)) {
		json_t *check = support__escalation(json_object_get(prep, "ticket"),
						    json_object_get(prep, "customer"),
						    json_object_get(prep, "sentiment_analysis"),
						    json_object_get(prep, "categorization"),
						    json_object_get(prep, "priority_assignment"), *out, false);
		const char *rule = fl_json_str(check, "rule", NULL);

		if (rule) {
			json_object_set_new(*out, "escalation_needed", json_true());
			json_object_set_new(*out, "escalation_rule", json_string(rule));
		}
		json_decref(check);
	}
	decide(call, prep, *out);
	if (reason)
		mark_fallback(call, *out, reason, prep);
	else
		support__mark_builtin(call, *out);
	return 0;
}

static int response_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *llm_call = NULL;
	char *err = NULL;

	if (!ctx->llm)
		return response_builtin(call, prep, NULL, out);
	if (support__llm_respond(ctx->llm, ctx->analyzer->llm_tasks, prep, out, &llm_call, &err))
		return llm_failed(call, prep, llm_call, err);
	decide(call, prep, *out);
	mark_llm(call, *out, llm_call);
	return 0;
}

static int response_fallback(struct flow_call *call, json_t *prep, const char *error, json_t **out)
{
	return response_builtin(call, prep, error, out);
}

static int response_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			 const char **action)
{
	const struct node_flags *f = flow_call_data(call);

	(void)prep;
	support__llm_usage_add(shared, json_object_get(res, "llm"));
	store_result(shared, "generated_response", res);
	if (json_object_get(res, "auto_reply"))
		json_object_set(shared, "auto_reply", json_object_get(res, "auto_reply"));
	/* A reply the LLM wrote always passes the rules table: the model cannot skip it. */
	*action = f->high_priority || fl_json_bool(res, "escalation_needed", false) ||
		  fl_str_eq(fl_json_str(res, "path", NULL), "llm")
		  ? "escalation_decision" : "finalize_response";
	return 0;
}

static const struct flow_node_ops response_ops = {
	.prep = response_prep, .exec = response_exec, .post = response_post,
	.exec_fallback = response_fallback,
};

struct flow_node *support__node_response(bool high_priority)
{
	return flow_node_new("response_generation", &response_ops,
			     (void *)(high_priority ? &flags_high : &flags_standard));
}

/* ---- 7. escalation_decision ---- */

static const char *const escalation_keys[] = {
	"ticket", "customer", "sentiment_analysis", "categorization", "priority_assignment",
	"generated_response", "escalation_request", NULL,
};

static int escalation_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	if (!support__ctx(call) || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, escalation_keys);
	return 0;
}

static int escalation_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	const struct node_flags *f = flow_call_data(call);
	const json_t *response = json_object_get(prep, "generated_response");

	*out = support__escalation(json_object_get(prep, "ticket"), json_object_get(prep, "customer"),
				   json_object_get(prep, "sentiment_analysis"),
				   json_object_get(prep, "categorization"),
				   json_object_get(prep, "priority_assignment"),
				   json_is_object(response) ? response : NULL, f->always_check);
	support__llm_floor_escalation(call, prep, f->always_check, out);
	support__escalation_by_hand(*out, json_object_get(prep, "escalation_request"));
	support__mark_builtin(call, *out);
	return 0;
}

static int escalation_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			   const char **action)
{
	(void)call;
	(void)prep;
	store_result(shared, "escalation_decision", res);
	*action = strcmp(fl_json_str(res, "escalation_decision", "no_escalation"), "no_escalation")
		  ? "human_escalation" : "finalize_response";
	return 0;
}

static const struct flow_node_ops escalation_ops = {
	.prep = escalation_prep, .exec = escalation_exec, .post = escalation_post,
};

struct flow_node *support__node_escalation(bool always_check)
{
	return flow_node_new("escalation_decision", &escalation_ops,
			     (void *)(always_check ? &flags_high : &flags_standard));
}

/* ---- 8. human_escalation ---- */

static const char *const handoff_keys[] = {
	"ticket", "customer", "sentiment_analysis", "categorization", "priority_assignment",
	"knowledge_base_results", "generated_response", "escalation_decision", NULL,
};

static int handoff_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);

	if (!ctx || require(call, shared, "ticket") || require(call, shared, "escalation_decision"))
		return -1;
	*out = pick(shared, handoff_keys);
	json_object_set_new(*out, "now", json_integer(support_now_us(ctx)));
	return 0;
}

static int handoff_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	*out = support__escalation_package(prep, fl_json_int(prep, "now", 0));
	support__mark_builtin(call, *out);
	return 0;
}

/*
 * The hand-off is queued (the store's escalation queue) and the humans are
 * notified (the outbox) when the run's results are persisted, in the same
 * transaction as the ticket's new status: see support_finish.
 */
static int handoff_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			const char **action)
{
	(void)call;
	(void)prep;
	store_result(shared, "escalation_package", res);
	*action = "notify_human_agents";
	return 0;
}

static const struct flow_node_ops handoff_ops = {
	.prep = handoff_prep, .exec = handoff_exec, .post = handoff_post,
};

struct flow_node *support__node_human_escalation(void)
{
	return flow_node_new("human_escalation", &handoff_ops, NULL);
}

/* ---- 9. customer_satisfaction ---- */

static const char *const satisfaction_keys[] = {
	"ticket", "sentiment_analysis", "generated_response", "escalation_decision", "auto_reply", NULL,
};

static int satisfaction_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);

	if (!ctx || require(call, shared, "ticket"))
		return -1;
	*out = pick(shared, satisfaction_keys);
	json_object_set_new(*out, "now", json_integer(support_now_us(ctx)));
	return 0;
}

static int satisfaction_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	const json_t *response = json_object_get(prep, "generated_response");
	const json_t *escalation = json_object_get(prep, "escalation_decision");

	/* spam and thank-you notes are not support tickets: no estimate to count in the averages */
	if (support__autoreply_no_handoff(json_object_get(prep, "auto_reply"))) {
		*out = json_pack("{s:n, s:s, s:s}", "satisfaction_score", "basis", "not_applicable", "reason",
				 fl_json_str(json_object_get(prep, "auto_reply"), "reason", ""));
		support__mark_builtin(call, *out);
		return 0;
	}
	*out = support__satisfaction(json_object_get(prep, "ticket"),
				     json_object_get(prep, "sentiment_analysis"),
				     json_is_object(response) ? response : NULL,
				     json_is_object(escalation) ? escalation : NULL,
				     fl_json_int(prep, "now", 0));
	support__mark_builtin(call, *out);
	return 0;
}

static int satisfaction_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			     const char **action)
{
	(void)call;
	(void)prep;
	store_result(shared, "satisfaction_metrics", res);
	*action = "complete";
	return 0;
}

static const struct flow_node_ops satisfaction_ops = {
	.prep = satisfaction_prep, .exec = satisfaction_exec, .post = satisfaction_post,
};

struct flow_node *support__node_satisfaction(void)
{
	return flow_node_new("customer_satisfaction", &satisfaction_ops, NULL);
}
