/*
 * knowledge_base_search (DESIGN §4): what the ticket asks, searched in the
 * knowledge base.
 *
 * The query is made of parts (kb_search_query): the subject, then each ask
 * the message analysis found (its questions and requests, else the problems
 * it states), so that a question after 600 characters of context is what
 * the search sees. A short message (KB_SHORT_BODY bytes of the customer's
 * own words) is all ask: its problems and other statements are parts too,
 * since they carry the context a short question needs ("how do I make a new
 * one?"). Without any ask, the start of the customer's own words is the
 * query. The parts are searched as one text and ranked once; the results
 * then say, per part, how much of it each article returned covers
 * ("part_coverage", "part_relevance") and which of its words no article
 * has: that is how the decision (autoreply.c) tells several unrelated asks
 * from one, and an ask the articles answer from one they only come near.
 * Each part of the results' "parts" carries its "kind" (subject, question,
 * request, followup, problem, context) and "text".
 *
 * Language: a ticket is searched in the articles of its language when the
 * knowledge base has any (German articles for a German ticket), else in
 * every article. The built-in replies are written in English only, so a
 * ticket in another language is still never answered without a person
 * (autoreply.c); the articles found go to the agent's draft.
 */
#include <string.h>

#include "support_int.h"
#include "kb/kb.h"

/* At most this many bytes of a query, cut at a character boundary. */
#define KB_QUERY_BYTES 600
/* A message body up to this many bytes is searched whole. */
#define KB_SHORT_BODY 200

struct parts {
	json_t *list;   /* [{kind, text}] */
	size_t bytes;
	size_t asks;    /* questions and requests seen */
};

/* Appends a part, clipped so that the query stays within KB_QUERY_BYTES; nothing once full. */
static void add_part(struct parts *p, const char *kind, const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (!n || json_array_size(p->list) >= KB_MAX_PARTS || p->bytes >= KB_QUERY_BYTES)
		return;
	if (n > KB_QUERY_BYTES - p->bytes) {
		n = KB_QUERY_BYTES - p->bytes;
		while (n && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
	}
	p->bytes += n + 1;
	json_array_append_new(p->list, json_pack("{s:s, s:s%}", "kind", kind, "text", text, n));
}

/*
 * Appends each sentence of arr as a part of kind; an ask after the first
 * that refers back to it ("who can turn it back on?", "do they count as a
 * seat?") is a "followup": part of the same topic, not a topic of its own.
 */
static void add_parts(struct parts *p, const char *kind, const json_t *arr)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		const char *text = json_is_string(v) ? json_string_value(v) : fl_json_str(v, "text", NULL);
		bool asked = !strcmp(kind, "question") || !strcmp(kind, "request");

		add_part(p, asked && p->asks++ && text && support__refers_back(text) ? "followup" : kind, text);
	}
}

/* The keys of the asks (questions and requests) added so far. */
static size_t ask_keys(const json_t *list)
{
	struct support_keys keys = { .n = 0 };
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *kind = fl_json_str(v, "kind", ""), *text = fl_json_str(v, "text", "");

		if (!strcmp(kind, "question") || !strcmp(kind, "request"))
			support__keys_of_min(text, strlen(text), 3, &keys);
	}
	return keys.n;
}

static int kb_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	const json_t *ticket = json_object_get(shared, "ticket"), *message = json_object_get(shared, "message");
	struct parts p = { json_array(), 0, 0 };
	const char *body;
	size_t before;

	if (!support__ctx(call) || !ticket) {
		json_decref(p.list);
		return ticket ? -1 : flow_call_fail(call, "shared has no 'ticket' (run this node after ingestion)");
	}
	add_part(&p, "subject", fl_json_str(ticket, "subject", ""));
	if (!json_array_size(p.list)) /* an empty subject still holds the first place */
		json_array_append_new(p.list, json_pack("{s:s, s:s}", "kind", "subject", "text", ""));
	body = fl_json_str(message, "body", fl_json_str(ticket, "content", ""));
	before = json_array_size(p.list);
	add_parts(&p, "question", json_object_get(message, "questions"));
	add_parts(&p, "request", json_object_get(message, "requests"));
	if (strlen(body) <= KB_SHORT_BODY) {
		/* a short message is all ask: its other words are context the search needs */
		add_parts(&p, "problem", json_object_get(message, "problems"));
		add_parts(&p, "context", json_object_get(message, "statements"));
	} else if (ask_keys(p.list) < 3) {
		/* the problems stated tell what a short question ("how do I make a new one?") is about */
		add_parts(&p, "problem", json_object_get(message, "problems"));
	}
	/* nothing asked and nothing stated: the customer's own words as they come */
	if (json_array_size(p.list) == before)
		add_part(&p, "context", body);
	*out = json_pack("{s:o, s:s?}", "parts", p.list, "language",
			 fl_json_str(json_object_get(shared, "language"), "code", NULL));
	return 0;
}

static int kb_exec(struct flow_call *call, json_t *prep, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	const json_t *plist = json_object_get(prep, "parts"), *v;
	json_t *found, *part;
	const char *texts[KB_MAX_PARTS], *language = fl_json_str(prep, "language", NULL);
	struct kb_query q = { texts, 0, NULL, 5 };
	size_t i;
	int rc;

	json_array_foreach(plist, i, v)
		if (q.nparts < KB_MAX_PARTS)
			texts[q.nparts++] = fl_json_str(v, "text", "");
	if (!ctx->kb) {
		struct fl_buf query = FL_BUF_INIT;

		for (i = 0; i < q.nparts; i++)
			fl_buf_addf(&query, "%s%s", i ? "\n" : "", texts[i]);
		*out = json_pack("{s:s, s:i, s:[], s:f}", "query", query.buf ? query.buf : "", "articles_found", 0,
				 "articles", "search_time", 0.0);
		fl_buf_release(&query);
		support__mark_builtin(call, *out);
		return 0;
	}
	/* the ticket's language, when some articles are written in it */
	if (language && kb_count_language(ctx->kb, language) > 0)
		q.language = language;
	if ((rc = kb_search_query(ctx->kb, &q, out)) != KB_OK)
		return flow_call_fail(call, "knowledge-base search failed: %s", kb_strerror(rc));
	/* each part says what it was: the decision reads the asks' coverage */
	found = json_object_get(*out, "parts");
	json_array_foreach(found, i, part) {
		const json_t *mine = json_array_get(plist, i);

		json_object_set(part, "kind", json_object_get(mine, "kind"));
		json_object_set(part, "text", json_object_get(mine, "text"));
	}
	support__mark_builtin(call, *out);
	return 0;
}

static int kb_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res, const char **action)
{
	(void)call;
	(void)prep;
	json_object_set(shared, "knowledge_base_results", res);
	*action = "response_generation";
	return 0;
}

static const struct flow_node_ops kb_ops = { .prep = kb_prep, .exec = kb_exec, .post = kb_post };

struct flow_node *support__node_kb_search(void)
{
	struct flow_node *n = flow_node_new("knowledge_base_search", &kb_ops, NULL);

	flow_node_set_retries(n, 2, 10000);
	return n;
}
