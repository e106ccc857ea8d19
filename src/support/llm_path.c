/*
 * The nodes' LLM path: what the sentiment and response nodes send to the
 * LLM (the tasks of llm_tasks.c, through the client of src/llm) and how its
 * validated replies become the analyses of DESIGN §4, in the same shape as
 * the built-in analyzer's.
 *
 * Two calls per ticket: one `triage` (sentiment, category, urgency and the
 * priority/escalation signals, read by the sentiment, categorization,
 * priority and escalation nodes) and one `respond`. Priority and escalation
 * stay with the policies (policy.c), which take the LLM's labels and
 * signals as inputs. When a call fails, the node's exec fails and its
 * exec_fallback runs the built-in analyzer; the failed call's accounting is
 * kept all the same.
 */
#include <string.h>

#include "support_int.h"
#include "llm/llm.h"

/* ---- triage ---- */

int support__llm_triage(struct llm_client *llm, const struct support_llm_tasks *tasks, const json_t *ticket,
			const json_t *customer, json_t **sentiment, json_t **triage, json_t **call, char **err)
{
	json_t *input, *out = NULL;
	int rc;

	*sentiment = *triage = NULL;
	input = json_pack("{s:O}", "ticket", ticket);
	if (json_is_object(customer))
		json_object_set_new(input, "customer",
				    json_pack("{s:s?, s:O?}", "tier", fl_json_str(customer, "tier", NULL),
					      "satisfaction_score", json_object_get(customer, "satisfaction_score")));
	rc = support_llm_task_run(llm, tasks, SUPPORT_LLM_TRIAGE, input, &out, call, err);
	json_decref(input);
	if (rc != LLM_OK)
		return -1;
	*sentiment = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}",
			       "sentiment", json_object_get(out, "sentiment"),
			       "confidence", json_object_get(out, "sentiment_confidence"),
			       "emotional_indicators", json_object_get(out, "emotional_indicators"),
			       "urgency", json_object_get(out, "urgency"),
			       "recommended_approach", json_object_get(out, "recommended_approach"),
			       "signals", json_object_get(out, "priority_signals"));
	*triage = out;
	return 0;
}

json_t *support__llm_categorization(const json_t *triage)
{
	const char *primary = fl_json_str(triage, "category", "general");
	const json_t *second = json_object_get(triage, "secondary_category");

	return json_pack("{s:s, s:O, s:O, s:O, s:s}",
			 "primary_category", primary,
			 "confidence", json_object_get(triage, "category_confidence"),
			 "secondary_category", second ? second : json_null(),
			 "keywords", json_object_get(triage, "keywords"),
			 "suggested_department", support__department(primary));
}

/* ---- respond ---- */

int support__llm_respond(struct llm_client *llm, const struct support_llm_tasks *tasks, const json_t *prep,
			 json_t **response, json_t **call, char **err)
{
	const json_t *kb = json_object_get(prep, "knowledge_base_results"), *a;
	const json_t *sentiment = json_object_get(prep, "sentiment_analysis");
	const json_t *categorization = json_object_get(prep, "categorization");
	const json_t *priority = json_object_get(prep, "priority_assignment");
	const json_t *customer = json_object_get(prep, "customer");
	json_t *input, *articles = json_array(), *out = NULL;
	size_t i;
	int rc;

	/* the articles good enough to ground a reply, by the built-in writer's rule */
	json_array_foreach(json_object_get(kb, "articles"), i, a)
		if (fl_json_num(a, "relevance_score", 0) >= SUPPORT_MIN_RELEVANCE)
			json_array_append_new(articles, json_pack("{s:s, s:s, s:s, s:s}",
				"id", fl_json_str(a, "id", ""), "title", fl_json_str(a, "title", ""),
				"category", fl_json_str(a, "category", ""), "content", fl_json_str(a, "content", "")));
	input = json_pack("{s:O, s:o, s:{s:s, s:s, s:s, s:s, s:s}}",
			  "ticket", json_object_get(prep, "ticket"), "articles", articles,
			  "analyses",
			  "sentiment", fl_json_str(sentiment, "sentiment", "neutral"),
			  "recommended_approach", fl_json_str(sentiment, "recommended_approach", ""),
			  "category", fl_json_str(categorization, "primary_category", "general"),
			  "priority", fl_json_str(priority, "priority", "medium"),
			  "recommended_response_time", fl_json_str(priority, "recommended_response_time", ""));
	if (json_is_object(customer))
		json_object_set_new(input, "customer",
				    json_pack("{s:s?, s:s?}", "name", fl_json_str(customer, "name", NULL),
					      "tier", fl_json_str(customer, "tier", NULL)));
	rc = support_llm_task_run(llm, tasks, SUPPORT_LLM_RESPOND, input, &out, call, err);
	json_decref(input);
	if (rc != LLM_OK)
		return -1;
	*response = out;
	return 0;
}

/* ---- accounting ---- */

void support__llm_usage_add(json_t *shared, const json_t *call)
{
	json_t *u = json_object_get(shared, "llm_usage");

	if (!json_is_object(call))
		return;
	if (!json_is_object(u)) {
		u = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i, s:i}", "calls", 0, "failed", 0,
			      "requests", 0, "input_tokens", 0, "output_tokens", 0, "latency_ms", 0,
			      "cost_usd", 0.0, "retries", 0, "repairs", 0);
		json_object_set_new(shared, "llm_usage", u);
	}
	json_object_set_new(u, "calls", json_integer(fl_json_int(u, "calls", 0) + 1));
	if (json_object_get(call, "error"))
		json_object_set_new(u, "failed", json_integer(fl_json_int(u, "failed", 0) + 1));
	json_object_set_new(u, "requests", json_integer(fl_json_int(u, "requests", 0) +
						       fl_json_int(call, "requests", 0)));
	json_object_set_new(u, "input_tokens", json_integer(fl_json_int(u, "input_tokens", 0) +
							   fl_json_int(call, "input_tokens", 0)));
	json_object_set_new(u, "output_tokens", json_integer(fl_json_int(u, "output_tokens", 0) +
							    fl_json_int(call, "output_tokens", 0)));
	json_object_set_new(u, "latency_ms", json_integer(fl_json_int(u, "latency_ms", 0) +
							 fl_json_int(call, "latency_ms", 0)));
	json_object_set_new(u, "cost_usd", json_real(fl_json_num(u, "cost_usd", 0) +
						     fl_json_num(call, "cost_usd", 0)));
	json_object_set_new(u, "retries", json_integer(fl_json_int(u, "retries", 0) +
						      fl_json_int(call, "retries", 0)));
	json_object_set_new(u, "repairs", json_integer(fl_json_int(u, "repairs", 0) +
						      fl_json_bool(call, "repaired", false)));
}
