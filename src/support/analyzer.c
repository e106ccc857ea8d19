/*
 * The built-in analyzer: the category, sentiment and spam models and the
 * language profiles from src/text, loaded once and shared by every thread,
 * the small pieces of domain knowledge around them (keywords), and the LLM
 * tasks built for the category model's labels (llm_tasks.c).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support_int.h"
#include "text/text.h"

const char *support_strerror(int rc)
{
	switch (rc) {
#define SUPPORT_STR(name, text) case SUPPORT_##name: return text;
	SUPPORT_ERRNO_MAP(SUPPORT_STR)
#undef SUPPORT_STR
	}
	return "unknown error";
}

const char *support_errname(int rc)
{
	switch (rc) {
#define SUPPORT_NAME(name, text) case SUPPORT_##name: return "SUPPORT_" #name;
	SUPPORT_ERRNO_MAP(SUPPORT_NAME)
#undef SUPPORT_NAME
	}
	return "SUPPORT_UNKNOWN";
}

int support_analyzer_open(const char *models_dir, struct support_analyzer **out, char **err)
{
	struct support_analyzer *a = fl_calloc(1, sizeof(*a));
	char *path = NULL, *why = NULL;
	int rc = SUPPORT_EMODEL;

	*out = NULL;
	if (!models_dir)
		models_dir = fl_config_get("FRONTLINE_MODELS_DIR");
	/* the configuration fills the key at load; a program that loaded none gets the same rule */
	a->models_dir = models_dir ? fl_strdup(models_dir) : fl_share_path("models");
	path = fl_asprintf("%s/category.model", a->models_dir);
	if (text_model_load(path, &a->category, &why)) {
		*err = fl_asprintf("cannot load the category model '%s': %s", path, why);
		goto out;
	}
	free(why);
	why = NULL;
	if (text_sentiment_open(a->models_dir, &a->sentiment, &why)) {
		*err = fl_asprintf("cannot load the sentiment analyzer from '%s': %s", a->models_dir, why);
		goto out;
	}
	free(why);
	why = NULL;
	free(path);
	path = fl_asprintf("%s/spam.model", a->models_dir);
	if (text_model_load(path, &a->spam, &why) || text_model_label_index(a->spam, "spam") < 0) {
		*err = fl_asprintf("cannot load the spam model '%s': %s", path, why ? why : "it has no label 'spam'");
		goto out;
	}
	/* optional: the article model (learned.c); a file that is there must load */
	free(path);
	path = fl_asprintf("%s/articles.model", a->models_dir);
	if (access(path, F_OK) == 0 && text_model_load(path, &a->articles, &why)) {
		*err = fl_asprintf("cannot load the article model '%s': %s", path, why);
		goto out;
	}
	if (text_langid_open(NULL, SUPPORT_KB_LANGUAGE, &a->langid, &why)) {
		*err = fl_asprintf("cannot load the language profiles: %s", why);
		goto out;
	}
	/* optional: without it, only a capital tells a name (autoreply.c) */
	free(why);
	why = NULL;
	if (text_dict_open(fl_config_get("FRONTLINE_DICTIONARY"), &a->dict, &why))
		fl_log(FL_LOG_WARN, "%s: a lower-case name in a question is not told from a word", why);
	/* the LLM's category labels are the configured ones: the model's */
	{
		size_t i, n = text_model_nlabels(a->category);
		const char **labels = fl_calloc(n + 1, sizeof(*labels));

		for (i = 0; i < n; i++)
			labels[i] = text_model_label(a->category, i);
		a->llm_tasks = support_llm_tasks_new(labels);
		free(labels);
	}
	*out = a;
	a = NULL;
	rc = SUPPORT_OK;
out:
	free(why);
	free(path);
	support_analyzer_free(a);
	return rc;
}

void support_analyzer_free(struct support_analyzer *a)
{
	if (!a)
		return;
	text_model_free(a->category);
	text_sentiment_free(a->sentiment);
	text_model_free(a->spam);
	text_model_free(a->articles);
	text_langid_free(a->langid);
	text_dict_free(a->dict);
	support_llm_tasks_free(a->llm_tasks);
	free(a->models_dir);
	free(a);
}

char *support__ticket_text(const json_t *ticket)
{
	return fl_asprintf("%s\n\n%s", fl_json_str(ticket, "subject", ""), fl_json_str(ticket, "content", ""));
}

json_t *support__sentiment(const struct support_analyzer *a, const json_t *ticket)
{
	char *text = support__ticket_text(ticket);
	json_t *out = text_sentiment_analyze(a->sentiment, text, json_object_get(ticket, "metadata"));

	free(text);
	return out;
}

/* Words that carry no topic (sorted, C locale: is_stop_word searches it). */
static const char *const stop_words[] = {
	"a", "able", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any",
	"anyone", "are", "as", "at", "be", "been", "before", "being", "but", "by", "can", "can't",
	"cannot", "could", "did", "didn't", "do", "does", "doesn't", "doing", "don't", "even", "every",
	"for", "from", "get", "getting", "got", "had", "has", "have", "having", "he", "hello", "help",
	"her", "here", "hi", "him", "his", "how", "i", "i'm", "i've", "if", "in", "into", "is", "isn't",
	"it", "it's", "its", "just", "keep", "keeps", "know", "like", "me", "more", "my", "need", "no",
	"not", "now", "of", "on", "one", "or", "our", "out", "please", "really", "since", "so", "some",
	"someone", "still", "than", "thank", "thanks", "that", "the", "their", "them", "then", "there",
	"these", "they", "this", "to", "today", "too", "tried", "trying", "up", "us", "very", "want",
	"was", "wasn't", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will",
	"with", "won't", "would", "you", "your",
};

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

bool support__is_stop_word(const char *w)
{
	return bsearch(w, stop_words, FL_ARRAY_SIZE(stop_words), sizeof(stop_words[0]), cmp_word) != NULL;
}

json_t *support__keywords(const char *text, size_t max)
{
	const struct text_tokens *toks = text_tokens_shared(text);   /* the category model's */
	struct kw { const char *w; size_t n; int count; size_t first; } *kws;
	size_t nkw = 0, i, j;
	json_t *out = json_array();

	kws = fl_calloc(toks->n + 1, sizeof(*kws));
	for (i = 0; i < toks->n; i++) {
		const struct text_token *t = &toks->v[i];

		if (t->kind != TEXT_TOK_WORD && t->kind != TEXT_TOK_ORDER_ID)
			continue;
		if (t->norm_len < 3 || support__is_stop_word(t->norm))
			continue;
		for (j = 0; j < nkw; j++)
			if (kws[j].n == t->norm_len && !memcmp(kws[j].w, t->norm, t->norm_len))
				break;
		if (j == nkw) {
			kws[nkw].w = t->norm;
			kws[nkw].n = t->norm_len;
			kws[nkw].first = i;
			nkw++;
		}
		kws[j].count++;
	}
	/* most frequent first, then earliest: a stable, explainable order */
	for (i = 0; i < max && i < nkw; i++) {
		size_t best = i;

		for (j = i + 1; j < nkw; j++)
			if (kws[j].count > kws[best].count ||
			    (kws[j].count == kws[best].count && kws[j].first < kws[best].first))
				best = j;
		if (best != i) {
			struct kw tmp = kws[i];

			kws[i] = kws[best];
			kws[best] = tmp;
		}
		json_array_append_new(out, json_stringn(kws[i].w, kws[i].n));
	}
	free(kws);
	return out;
}

json_t *support__categorize(const struct support_analyzer *a, const json_t *ticket)
{
	size_t n = text_model_nlabels(a->category), i, second = (size_t)-1;
	double *probs = fl_calloc(n ? n : 1, sizeof(*probs));
	char *text = support__ticket_text(ticket);
	int best = text_model_predict(a->category, text, probs);
	const char *primary = text_model_label(a->category, (size_t)best);
	json_t *out;

	for (i = 0; i < n; i++)
		if ((int)i != best && (second == (size_t)-1 || probs[i] > probs[second]))
			second = i;
	out = json_pack("{s:s, s:f, s:s?, s:o, s:s, s:o}",
			"primary_category", primary,
			"confidence", probs[best],
			"secondary_category",
			second != (size_t)-1 && probs[second] >= 0.15 ? text_model_label(a->category, second) : NULL,
			"keywords", support__keywords(text, 5),
			"suggested_department", support__department(primary),
			"probabilities", json_object());
	for (i = 0; i < n; i++)
		json_object_set_new(json_object_get(out, "probabilities"), text_model_label(a->category, i),
				    json_real(probs[i]));
	free(text);
	free(probs);
	return out;
}
