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
 * The model is data/models/articles.model (optional: without it nothing
 * here applies), made by scripts/train-articles with `frontline train
 * category` from labelled tickets: each label is "<article id>|<title>",
 * and "none" for questions no article answers. Agreement needs both the id
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

json_t *support__learned_article(const struct support_analyzer *a, const char *text, const json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);
	size_t n;
	double *probs;
	const char *label, *bar;
	json_t *out;
	int best;

	if (!a || !a->articles || !text)
		return NULL;
	n = text_model_nlabels(a->articles);
	probs = fl_calloc(n ? n : 1, sizeof(*probs));
	best = text_model_predict(a->articles, text, probs);
	label = best >= 0 ? text_model_label(a->articles, (size_t)best) : "none";
	bar = strchr(label, '|');
	out = json_pack("{s:s%, s:f, s:b}", "article", label, bar ? (size_t)(bar - label) : strlen(label),
			"probability", best >= 0 ? probs[best] : 0.0, "agrees",
			best >= 0 && top && probs[best] >= SUPPORT_LEARNED_MIN_PROB && label_names(label, top));
	free(probs);
	return out;
}

bool support__learned_ask(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);
	json_t *learned;
	char *text;

	if (!json_object_get(kb_results, "learned") && a && a->articles && ticket &&
	    fl_json_num(top, "relevance_score", 0) >= SUPPORT_LEARNED_MIN_RELEVANCE) {
		text = support__ticket_text(ticket);
		learned = support__learned_article(a, text, kb_results);
		free(text);
		if (learned)
			json_object_set_new(kb_results, "learned", learned);
	}
	return support__learned_agrees(kb_results);
}

bool support__learned_agrees(const json_t *kb_results)
{
	const json_t *top = json_array_get(json_object_get(kb_results, "articles"), 0);

	return fl_json_bool(json_object_get(kb_results, "learned"), "agrees", false) &&
	       fl_json_num(top, "relevance_score", 0) >= SUPPORT_LEARNED_MIN_RELEVANCE;
}
