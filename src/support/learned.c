/*
 * The article that answered tickets like this one: a classifier trained on
 * tickets whose answer was one knowledge-base article, asked beside the
 * search (issue 15, fifth round).
 *
 * The search ranks articles by the words a ticket shares with them; a
 * customer who describes a symptom ("my late stuff", "an email every time
 * someone comments") shares few. A model that has seen how customers ask
 * for each article reads those words. Neither is trusted alone: when the
 * model's best article is the search's top article, with a calibrated
 * probability of at least SUPPORT_LEARNED_MIN_PROB, the two agree, and the
 * decision (autoreply.c) takes that agreement for a good enough fit where
 * its own measures of relevance, margin and answerability fall short. Every
 * other check (spam, staff actions, security, several issues, ...) still
 * applies first.
 *
 * The model also learns the tickets a person answers (seventh and eighth
 * rounds), and has the last word when a reply would go out: a ticket that
 * reads like the kinds told by words and tone (support__learned_hold), or
 * whose best label is confidently not the search's top article
 * (support__learned_disagrees), is held.
 *
 * The model is data/models/articles.model (optional: without it nothing
 * here applies), made by scripts/train-articles with `frontline train
 * category` from labelled tickets: each label is "<article id>|<title>",
 * "none" for questions no article answers, and "hold:<kind>" for the other
 * kinds a person answers ("hold:outage"). Agreement needs both the id
 * and the title of the search's top article to match the label, so a model
 * trained for one knowledge base never speaks for another's articles, and
 * an article whose title was changed stops agreeing until the model is
 * trained again.
 */
#include <stdlib.h>
#include <string.h>

#include "support_int.h"
#include "text/text.h"

/* Whether label ("<id>|<title>") names article (its "id" and "title"). */
static bool label_names(const char *label, const json_t *article)
{
	const char *bar = strchr(label, '|');
	const char *id = fl_json_str(article, "id", NULL), *title = fl_json_str(article, "title", NULL);

	return bar && id && title && strlen(id) == (size_t)(bar - label) && !memcmp(label, id, (size_t)(bar - label)) &&
	       !strcmp(bar + 1, title);
}

/*
 * The kinds a person answers that the model may hold a ticket for: the ones
 * its words and tone tell (thanks, anger, an outage, an incident, a legal
 * threat, a bug report, junk). Several issues, a request for staff to act,
 * a language or a question no article answers are told by the message's
 * structure, which the checks before measure; the model learns them too
 * (their labels take their share of the probability) but does not hold a
 * ticket for them: out of fold it held right answers for them ("android
 * app crashes when i open it" read as several issues), and none wrong.
 */
static const char *const word_kinds[] = {
	"praise_only", "angry_escalation", "outage", "security_incident", "legal", "bug_report", "spam",
};

static bool word_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(word_kinds); i++)
		if (!strcmp(kind, word_kinds[i]))
			return true;
	return false;
}

json_t *support__learned_article(const struct support_analyzer *a, const char *text, const json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);
	size_t i, n, prefix = strlen(SUPPORT_LEARNED_HOLD);
	double *probs, p, held = 0;
	const char *label, *l, *bar, *kind = NULL;
	json_t *out;
	int best, likeliest = -1;

	if (!a || !a->articles || !text)
		return NULL;
	n = text_model_nlabels(a->articles);
	probs = fl_calloc(n ? n : 1, sizeof(*probs));
	best = text_model_predict(a->articles, text, probs);
	label = best >= 0 ? text_model_label(a->articles, (size_t)best) : "none";
	p = best >= 0 ? probs[best] : 0.0;
	/* the kinds held for their words, together: their share, and the likeliest */
	for (i = 0; best >= 0 && i < n; i++) {
		l = text_model_label(a->articles, i);
		if (!strncmp(l, SUPPORT_LEARNED_HOLD, prefix) && word_kind(l + prefix)) {
			held += probs[i];
			if (likeliest < 0 || probs[i] > probs[likeliest])
				likeliest = (int)i;
		}
	}
	if (likeliest >= 0)
		kind = text_model_label(a->articles, (size_t)likeliest) + prefix;
	free(probs);
	bar = strchr(label, '|');
	out = json_pack("{s:s%, s:f, s:b}", "article", label, bar ? (size_t)(bar - label) : strlen(label),
			"probability", p, "agrees",
			best >= 0 && top && p >= SUPPORT_LEARNED_MIN_PROB && label_names(label, top));
	if (!strncmp(label, SUPPORT_LEARNED_HOLD, prefix)) { /* a kind, not an article: "none", and which */
		json_object_set_new(out, "article", json_string("none"));
		json_object_set_new(out, "kind", json_string(label + prefix));
	}
	if (kind)
		json_object_set_new(out, "hold", json_pack("{s:s, s:f}", "kind", kind, "probability", held));
	return out;
}

/* kb_results' "learned", asking the model first when there is none yet (it is added there). */
static const json_t *learned_of(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results)
{
	json_t *learned;
	char *text;

	if (!json_object_get(kb_results, "learned") && a && a->articles && ticket) {
		text = support__ticket_text(ticket);
		learned = support__learned_article(a, text, kb_results);
		free(text);
		if (learned)
			json_object_set_new(kb_results, "learned", learned);
	}
	return json_object_get(kb_results, "learned");
}

bool support__learned_ask(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);

	if (fl_json_num(top, "relevance_score", 0) >= SUPPORT_LEARNED_MIN_RELEVANCE)
		learned_of(a, ticket, kb_results);
	return support__learned_agrees(kb_results);
}

bool support__learned_agrees(const json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);

	return fl_json_bool(json_object_get(kb_results, "learned"), "agrees", false) &&
	       fl_json_num(top, "relevance_score", 0) >= SUPPORT_LEARNED_MIN_RELEVANCE;
}

const char *support__learned_hold(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results)
{
	const json_t *hold = json_object_get(learned_of(a, ticket, kb_results), "hold");

	return fl_json_num(hold, "probability", 0) >= SUPPORT_LEARNED_HOLD_PROB ? fl_json_str(hold, "kind", NULL) : NULL;
}

bool support__learned_disagrees(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results)
{
	const json_t *learned = learned_of(a, ticket, kb_results);
	const char *id = fl_json_str(json_array_get(json_object_get(kb_results, "articles"), 0), "id", "");
	const char *article = fl_json_str(learned, "article", "none");
	double p = fl_json_num(learned, "probability", 0);

	if (!learned)
		return false;
	if (strcmp(article, "none"))
		return strcmp(article, id) && p >= SUPPORT_LEARNED_OTHER_PROB;
	return p >= SUPPORT_LEARNED_NONE_PROB; /* no article, or a kind a person answers */
}
