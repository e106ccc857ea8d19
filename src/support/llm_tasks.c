/*
 * The support layer's LLM tasks: their reply schemas (the one place where
 * they are defined), their instructions, the words that frame them, and the
 * data each one sends (the ticket, the customer, earlier analyses, KB
 * articles). The LLM client (src/llm) runs them as structured calls and
 * knows nothing of tickets.
 *
 * Labels are DESIGN §5's, and the configured ones where the set is
 * configuration: the category enum (and the instructions' list of
 * categories) is the category model's label set, in DESIGN's order for the
 * labels it names; the department enum is the policy's departments. Every
 * object schema says additionalProperties: false and lists every property as
 * required, so the model can only fill in the fields and labels given here;
 * a reply that tries to set anything else (a status, an action) fails
 * validation.
 *
 * For respond, the article ids given become the enum of articles_referenced
 * in that request's schema (at least one when articles are given, none
 * otherwise), so a reply citing an article that was not given fails
 * validation like any other wrong label.
 */
#include <string.h>

#include "support_int.h"
#include "llm/llm.h"

#define MAX_CONTENT_BYTES 10000
#define MAX_ARTICLES 5
#define MAX_ARTICLE_BYTES 2000

static const char triage_schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"sentiment\", \"sentiment_confidence\", \"emotional_indicators\", \"urgency\","
	"  \"recommended_approach\", \"category\", \"category_confidence\", \"secondary_category\","
	"  \"keywords\", \"priority_signals\"],"
	" \"properties\": {"
	"  \"sentiment\": {\"type\": \"string\", \"enum\": [\"very_negative\", \"negative\", \"neutral\", \"positive\", \"very_positive\"]},"
	"  \"sentiment_confidence\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1},"
	"  \"emotional_indicators\": {\"type\": \"array\", \"maxItems\": 8, \"uniqueItems\": true,"
	"   \"items\": {\"type\": \"string\", \"enum\": [\"urgent\", \"frustrated\", \"confused\", \"angry\","
	"    \"anxious\", \"disappointed\", \"satisfied\", \"grateful\"]}},"
	"  \"urgency\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\"]},"
	"  \"recommended_approach\": {\"type\": \"string\", \"minLength\": 3, \"maxLength\": 120},"
	"  \"category\": {\"type\": \"string\", \"enum\": \"CATEGORIES\"},"
	"  \"category_confidence\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1},"
	"  \"secondary_category\": {\"type\": [\"string\", \"null\"], \"enum\": \"CATEGORIES_OR_NULL\"},"
	"  \"keywords\": {\"type\": \"array\", \"maxItems\": 10,"
	"   \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40}},"
	"  \"priority_signals\": {\"type\": \"object\", \"additionalProperties\": false,"
	"   \"required\": [\"suggested_priority\", \"escalation_risk\", \"human_requested\","
	"    \"legal_threat\", \"security_incident\", \"outage\", \"users_affected\"],"
	"   \"properties\": {"
	"    \"suggested_priority\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\", \"urgent\"]},"
	"    \"escalation_risk\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\"]},"
	"    \"human_requested\": {\"type\": \"boolean\"},"
	"    \"legal_threat\": {\"type\": \"boolean\"},"
	"    \"security_incident\": {\"type\": \"boolean\"},"
	"    \"outage\": {\"type\": \"boolean\"},"
	"    \"users_affected\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 100000000}}}}}";

static const char priority_schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"priority\", \"reasoning\", \"factors_considered\", \"recommended_response_time\","
	"  \"escalation_risk\"],"
	" \"properties\": {"
	"  \"priority\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\", \"urgent\"]},"
	"  \"reasoning\": {\"type\": \"string\", \"minLength\": 3, \"maxLength\": 600},"
	"  \"factors_considered\": {\"type\": \"array\", \"maxItems\": 10,"
	"   \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 80}},"
	"  \"recommended_response_time\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40},"
	"  \"escalation_risk\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\"]}}}";

static const char respond_schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"response\", \"tone\", \"articles_referenced\", \"next_steps\","
	"  \"estimated_resolution_time\", \"escalation_needed\"],"
	" \"properties\": {"
	"  \"response\": {\"type\": \"string\", \"minLength\": 20, \"maxLength\": 4000},"
	"  \"tone\": {\"type\": \"string\", \"enum\": [\"empathetic\", \"professional\", \"friendly\", \"apologetic\","
	"   \"reassuring\"]},"
	"  \"articles_referenced\": {\"type\": \"array\", \"uniqueItems\": true, \"maxItems\": 10,"
	"   \"items\": {\"type\": \"string\"}},"
	"  \"next_steps\": {\"type\": \"array\", \"maxItems\": 5,"
	"   \"items\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 200}},"
	"  \"estimated_resolution_time\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 60},"
	"  \"escalation_needed\": {\"type\": \"boolean\"}}}";

static const char escalation_schema[] =
	"{\"type\": \"object\", \"additionalProperties\": false,"
	" \"required\": [\"escalation_decision\", \"escalation_priority\", \"assigned_department\", \"reasoning\","
	"  \"estimated_human_response_time\"],"
	" \"properties\": {"
	"  \"escalation_decision\": {\"type\": \"string\", \"enum\": [\"no_escalation\", \"tier_2\", \"specialist\","
	"   \"manager\", \"emergency\"]},"
	"  \"escalation_priority\": {\"type\": \"string\", \"enum\": [\"low\", \"medium\", \"high\", \"critical\"]},"
	"  \"assigned_department\": {\"type\": \"string\", \"enum\": \"DEPARTMENTS\"},"
	"  \"reasoning\": {\"type\": \"string\", \"minLength\": 3, \"maxLength\": 600},"
	"  \"estimated_human_response_time\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40}}}";

/* The triage instructions around the list of categories (built from the label set). */
static const char triage_head[] =
	"Triage the ticket in one pass.\n"
	"- sentiment: the customer's sentiment (very_negative, negative, neutral, positive, "
	"very_positive) and your confidence from 0 to 1; emotional_indicators among urgent, "
	"frustrated, confused, angry, anxious, disappointed, satisfied, grateful; urgency low, "
	"medium or high; recommended_approach in a few words (e.g. \"empathetic + solution-focused\").\n"
	"- category: ";
static const char triage_tail[] =
	"; your confidence from 0 to 1; a "
	"secondary category or null; up to 10 keywords taken from the ticket.\n"
	"- priority_signals: the priority you would suggest (low, medium, high, urgent), the risk "
	"that the ticket needs a human (low, medium, high), whether the customer explicitly asks "
	"for a human, threatens legal action, reports a security incident (breach, fraud, "
	"account takeover) or an outage, and the number of users affected (0 when not stated).";

static const struct {
	const char *name;
	const char *schema;
	const char *description;
	const char *instructions;   /* NULL: triage's, built from the labels */
} tasks[SUPPORT_LLM__COUNT] = {
	[SUPPORT_LLM_TRIAGE] = { "triage", triage_schema, "Record the triage of one support ticket.", NULL },
	[SUPPORT_LLM_PRIORITY] = { "priority", priority_schema,
		"Record the priority of one support ticket.",
		"Assign the ticket's priority (low, medium, high, urgent) from its text, the analyses "
		"and the metadata (customer_tier, previous_interactions, urgent_flag, users_affected, "
		"revenue_impact). Explain the reasoning briefly, list the factors considered, give a "
		"recommended response time (e.g. \"4 hours\") and the escalation risk (low, medium, high)." },
	[SUPPORT_LLM_RESPOND] = { "respond", respond_schema,
		"Record the draft reply to the customer.",
		"Draft the reply to the customer, in the customer's language, grounded in the "
		"knowledge-base articles of the data block: use only facts from those articles and from "
		"the ticket, and never invent policies, prices, refunds or deadlines. List in "
		"articles_referenced the id of every article you used, and only ids that appear in the "
		"data block; when articles are given, use at least one. When no article answers the "
		"question, say that a specialist will follow up and set escalation_needed to true. Give "
		"the tone (empathetic, professional, friendly, apologetic, reassuring), up to 5 next steps "
		"and an estimated resolution time (e.g. \"24 hours\")." },
	[SUPPORT_LLM_ESCALATION] = { "escalation", escalation_schema,
		"Record an escalation recommendation.",
		"Recommend whether the ticket needs a human: no_escalation, tier_2, specialist, manager "
		"or emergency; the escalation priority (low, medium, high, critical); the department; a "
		"short reasoning; and the estimated time until a human responds (e.g. \"1 hour\"). "
		"Frontline's rules make the final decision; your recommendation is one of its inputs." },
};

/* The system prompt's opening: who the model is, and what the data block holds. */
static const char role[] = "You are the analysis engine of Frontline, a customer-support system.";
static const char data_words[] = "a support ticket and, for some tasks, knowledge-base articles and earlier analyses";

struct support_llm_tasks {
	json_t *schema[SUPPORT_LLM__COUNT];
	char *triage_instructions;
	struct llm_spec spec[SUPPORT_LLM__COUNT];
};

const char *support_llm_task_name(enum support_llm_task task)
{
	if ((int)task < 0 || task >= SUPPORT_LLM__COUNT)
		return NULL;
	return tasks[task].name;
}

int support_llm_task_parse(const char *name)
{
	int i;

	for (i = 0; name && i < SUPPORT_LLM__COUNT; i++)
		if (!strcmp(tasks[i].name, name))
			return i;
	return -1;
}

/* The label set in DESIGN's order for the labels it names (policy.c), then the others as given. */
static json_t *category_enum(const char *const *labels)
{
	json_t *out = json_array();
	const char *known;
	size_t i;

	for (i = 0; (known = support__category_known(i, NULL)); i++)
		if (!labels || fl_word_index(labels, known) >= 0)
			json_array_append_new(out, json_string(known));
	for (i = 0; labels && labels[i]; i++)
		if (!support__category_covers(labels[i]))
			json_array_append_new(out, json_string(labels[i]));
	return out;
}

/* "technical (bugs, ...), billing (...) or general (...)" for the categories in cats. */
static char *category_words(const json_t *cats)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i, n = json_array_size(cats);

	for (i = 0; i < n; i++) {
		const char *label = json_string_value(json_array_get(cats, i));
		const char *covers = support__category_covers(label);

		fl_buf_addf(&b, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", label);
		if (covers)
			fl_buf_addf(&b, " (%s)", covers);
	}
	return fl_buf_detach(&b, NULL);
}

/* Replaces the placeholder string value of properties[prop].enum with values (taken). */
static void set_enum(json_t *schema, const char *prop, json_t *values)
{
	json_object_set_new(json_object_get(json_object_get(schema, "properties"), prop), "enum", values);
}

struct support_llm_tasks *support_llm_tasks_new(const char *const *categories)
{
	struct support_llm_tasks *t = fl_calloc(1, sizeof(*t));
	const char *departments[32];
	json_t *cats = category_enum(categories), *deps = json_array(), *with_null;
	size_t i, n = support__departments(departments, FL_ARRAY_SIZE(departments));
	char *words, *err = NULL;

	for (i = 0; i < n; i++)
		json_array_append_new(deps, json_string(departments[i]));
	for (i = 0; i < SUPPORT_LLM__COUNT; i++) {
		json_error_t jerr;

		t->schema[i] = json_loads(tasks[i].schema, 0, &jerr);
		if (!t->schema[i])   /* a typo in the literals above: the unit tests catch it first */
			fl_die("support: schema of task '%s' is not JSON: %s", tasks[i].name, jerr.text);
	}
	with_null = json_copy(cats);
	json_array_append_new(with_null, json_null());
	set_enum(t->schema[SUPPORT_LLM_TRIAGE], "category", cats);
	set_enum(t->schema[SUPPORT_LLM_TRIAGE], "secondary_category", with_null);
	set_enum(t->schema[SUPPORT_LLM_ESCALATION], "assigned_department", deps);
	words = category_words(cats);
	t->triage_instructions = fl_asprintf("%s%s%s", triage_head, words, triage_tail);
	free(words);
	for (i = 0; i < SUPPORT_LLM__COUNT; i++) {
		if (llm_schema_check(t->schema[i], &err))
			fl_die("support: schema of task '%s' uses an unsupported feature: %s", tasks[i].name, err);
		t->spec[i] = (struct llm_spec){
			.name = tasks[i].name, .description = tasks[i].description, .role = role,
			.data = data_words,
			.instructions = tasks[i].instructions ? tasks[i].instructions : t->triage_instructions,
			.schema = t->schema[i],
		};
	}
	return t;
}

void support_llm_tasks_free(struct support_llm_tasks *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < SUPPORT_LLM__COUNT; i++)
		json_decref(t->schema[i]);
	free(t->triage_instructions);
	free(t);
}

json_t *support_llm_task_schema(const struct support_llm_tasks *t, enum support_llm_task task)
{
	if (!t || (int)task < 0 || task >= SUPPORT_LLM__COUNT)
		return NULL;
	return json_deep_copy(t->schema[task]);
}

/* A copy of s cut to at most max bytes on a UTF-8 boundary. */
static json_t *cut_string(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return json_string(s);
	while (n > 0 && (n > max || ((unsigned char)s[n] & 0xC0) == 0x80))
		n--;
	return json_stringn(s, n);
}

/*
 * The data block of a task from its input, and for respond the articles'
 * ids as the enum of articles_referenced in *schema (a copy of the task's).
 */
static int build_data(enum support_llm_task task, const json_t *input, json_t *schema, json_t **out,
		      char **err)
{
	static const char *const ticket_fields[] = {
		"id", "channel", "source", "subject", "customer_tier", "metadata",
	};
	const json_t *ticket = json_object_get(input, "ticket");
	const char *content = fl_json_str(ticket, "content", NULL);
	json_t *data, *t, *v;
	size_t i;

	if (!json_is_object(ticket) || !content || !*content) {
		*err = fl_strdup("input has no ticket with a non-empty 'content'");
		return LLM_EINVAL;
	}
	data = json_object();
	t = json_object();
	for (i = 0; i < FL_ARRAY_SIZE(ticket_fields); i++)
		if ((v = json_object_get(ticket, ticket_fields[i])) && !json_is_null(v))
			json_object_set_new(t, ticket_fields[i], json_deep_copy(v));
	json_object_set_new(t, "content", cut_string(content, MAX_CONTENT_BYTES));
	json_object_set_new(data, "ticket", t);
	if ((v = json_object_get(input, "customer")) && json_is_object(v))
		json_object_set_new(data, "customer", json_deep_copy(v));
	if (task != SUPPORT_LLM_TRIAGE && (v = json_object_get(input, "analyses")) && json_is_object(v))
		json_object_set_new(data, "analyses", json_deep_copy(v));
	if (task == SUPPORT_LLM_RESPOND) {
		const json_t *articles = json_object_get(input, "articles");
		json_t *list = json_array(), *ids = json_array(), *a;
		json_t *cited = json_object_get(json_object_get(schema, "properties"), "articles_referenced");

		json_array_foreach(articles, i, a) {
			const char *id = fl_json_str(a, "id", NULL);
			json_t *copy;

			if (!id || !*id || json_array_size(list) >= MAX_ARTICLES)
				continue;
			copy = json_pack("{s:s}", "id", id);
			if (fl_json_str(a, "title", NULL))
				json_object_set_new(copy, "title", json_string(fl_json_str(a, "title", NULL)));
			if (fl_json_str(a, "category", NULL))
				json_object_set_new(copy, "category",
						    json_string(fl_json_str(a, "category", NULL)));
			if (fl_json_str(a, "content", NULL))
				json_object_set_new(copy, "content",
						    cut_string(fl_json_str(a, "content", NULL), MAX_ARTICLE_BYTES));
			json_array_append_new(list, copy);
			json_array_append_new(ids, json_string(id));
		}
		json_object_set_new(data, "articles", list);
		if (json_array_size(ids)) {
			json_object_set_new(json_object_get(cited, "items"), "enum", ids);
			json_object_set_new(cited, "minItems", json_integer(1));
		} else {
			json_decref(ids);
			json_object_set_new(cited, "maxItems", json_integer(0));
		}
	}
	*out = data;
	return LLM_OK;
}

int support_llm_task_run(struct llm_client *llm, const struct support_llm_tasks *t,
			 enum support_llm_task task, const json_t *input, json_t **output,
			 json_t **call_info, char **err)
{
	struct llm_spec spec;
	json_t *schema = NULL, *data = NULL;
	int rc;

	*output = NULL;
	*err = NULL;
	if (call_info)
		*call_info = NULL;
	if (!llm || !t || (int)task < 0 || task >= SUPPORT_LLM__COUNT || !json_is_object(input)) {
		*err = fl_strdup("support_llm_task_run: no client, no tasks, unknown task or input not an object");
		return LLM_EINVAL;
	}
	spec = t->spec[task];
	/* respond's schema changes per request (the articles given); the others are shared, read-only */
	if (task == SUPPORT_LLM_RESPOND)
		spec.schema = schema = json_deep_copy(t->schema[task]);
	rc = build_data(task, input, schema, &data, err);
	if (rc == LLM_OK)
		rc = llm_call(llm, &spec, data, output, call_info, err);
	json_decref(schema);
	json_decref(data);
	return rc;
}
