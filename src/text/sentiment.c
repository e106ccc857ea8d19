/*
 * The sentiment analyzer behind the `sentiment_analysis` node: a 5-level
 * sentiment model and an emotion model (both trained by `frontline train`,
 * shipped in data/models/), and cue rules for what the models cannot know:
 * emphasis (ALL-CAPS, "!!!", intensifiers) that deepens a negative level,
 * urgency from deadlines, outage and business-impact words and the ticket's
 * metadata, the emotional indicators of DESIGN §5 from the emotion model's
 * GoEmotions labels and from cues, and the recommended approach.
 *
 * The cue lists are English phrases written for Frontline; matching is on
 * stems of normalised tokens, so "outages" matches "outage".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

/* Stems of a text's word tokens (other tokens as their norm, punctuation
 * left out), with a hash of each for a quick first comparison. */
struct stems {
	const char **v;
	uint64_t *h;
	size_t n;
	bool owned; /* v's strings belong to this (cue phrases), else to a doc */
};

struct text_sentiment {
	struct text_model *sent, *emo;
	struct stems *cue_stems; /* [FL_ARRAY_SIZE(cues)] */
};

static void prepare_cues(struct text_sentiment *s);
static void release_cues(struct text_sentiment *s);
static void stems_release(struct stems *s);

static const char *const levels[] = { "very_negative", "negative", "neutral", "positive", "very_positive" };

int text_sentiment_open(const char *models_dir, struct text_sentiment **out, char **err)
{
	struct text_sentiment *s = fl_calloc(1, sizeof(*s));
	char *path = fl_asprintf("%s/sentiment.model", models_dir);
	size_t i;
	int rc;

	*out = NULL;
	rc = text_model_load(path, &s->sent, err);
	if (rc)
		goto out;
	for (i = 0; i < FL_ARRAY_SIZE(levels); i++)
		if (text_model_label_index(s->sent, levels[i]) < 0) {
			if (err)
				*err = fl_asprintf("'%s' lacks the sentiment label '%s'", path, levels[i]);
			rc = TEXT_EFORMAT;
			goto out;
		}
	free(path);
	path = fl_asprintf("%s/emotion.model", models_dir);
	if (text_model_load(path, &s->emo, NULL))
		s->emo = NULL; /* optional: indicators then come from cues only */
	prepare_cues(s);
	*out = s;
	s = NULL;
out:
	free(path);
	text_sentiment_free(s);
	return rc;
}

void text_sentiment_free(struct text_sentiment *s)
{
	if (!s)
		return;
	text_model_free(s->sent);
	text_model_free(s->emo);
	release_cues(s);
	free(s);
}

/* ---- cues ---- */

enum cue_kind { CUE_DEADLINE, CUE_OUTAGE, CUE_IMPACT, CUE_REPEAT, CUE_CONFUSED, CUE_HUMAN };

struct cue {
	enum cue_kind kind;
	const char *phrase; /* words separated by single spaces */
};

static const struct cue cues[] = {
	{ CUE_DEADLINE, "asap" }, { CUE_DEADLINE, "as soon as possible" }, { CUE_DEADLINE, "urgent" },
	{ CUE_DEADLINE, "immediately" }, { CUE_DEADLINE, "right now" },
	{ CUE_DEADLINE, "right away" }, { CUE_DEADLINE, "today" }, { CUE_DEADLINE, "tonight" },
	{ CUE_DEADLINE, "by tomorrow" }, { CUE_DEADLINE, "deadline" }, { CUE_DEADLINE, "end of day" },
	{ CUE_DEADLINE, "eod" }, { CUE_DEADLINE, "time sensitive" }, { CUE_DEADLINE, "emergency" },
	{ CUE_DEADLINE, "critical" }, { CUE_DEADLINE, "within the hour" }, { CUE_DEADLINE, "before the meeting" },
	{ CUE_OUTAGE, "outage" }, { CUE_OUTAGE, "is down" }, { CUE_OUTAGE, "are down" },
	{ CUE_OUTAGE, "went down" }, { CUE_OUTAGE, "offline" }, { CUE_OUTAGE, "unavailable" },
	{ CUE_OUTAGE, "crash" }, { CUE_OUTAGE, "freezes" },
	{ CUE_OUTAGE, "not working" }, { CUE_OUTAGE, "stopped working" }, { CUE_OUTAGE, "data loss" },
	{ CUE_OUTAGE, "lost data" }, { CUE_OUTAGE, "breach" }, { CUE_OUTAGE, "hacked" },
	{ CUE_OUTAGE, "cannot access" }, { CUE_OUTAGE, "can't access" }, { CUE_OUTAGE, "unable to access" },
	{ CUE_OUTAGE, "can't log in" }, { CUE_OUTAGE, "cannot log in" }, { CUE_OUTAGE, "locked out" },
	{ CUE_OUTAGE, "system failure" }, { CUE_OUTAGE, "error 500" }, { CUE_OUTAGE, "service disruption" },
	{ CUE_IMPACT, "production" }, { CUE_IMPACT, "all users" }, { CUE_IMPACT, "all our users" },
	{ CUE_IMPACT, "all customers" }, { CUE_IMPACT, "our customers" }, { CUE_IMPACT, "revenue" },
	{ CUE_IMPACT, "losing money" }, { CUE_IMPACT, "losing customers" }, { CUE_IMPACT, "business" },
	{ CUE_IMPACT, "blocking" }, { CUE_IMPACT, "payroll" }, { CUE_IMPACT, "entire team" },
	{ CUE_IMPACT, "whole company" }, { CUE_IMPACT, "for work" }, { CUE_IMPACT, "sla" },
	{ CUE_REPEAT, "again" }, { CUE_REPEAT, "still" }, { CUE_REPEAT, "third time" },
	{ CUE_REPEAT, "second time" }, { CUE_REPEAT, "keeps" }, { CUE_REPEAT, "yet another" },
	{ CUE_REPEAT, "already" }, { CUE_REPEAT, "days" }, { CUE_REPEAT, "weeks" },
	{ CUE_CONFUSED, "how do i" }, { CUE_CONFUSED, "how can i" }, { CUE_CONFUSED, "don't understand" },
	{ CUE_CONFUSED, "do not understand" }, { CUE_CONFUSED, "confused" }, { CUE_CONFUSED, "confusing" },
	{ CUE_CONFUSED, "unclear" }, { CUE_CONFUSED, "not sure" }, { CUE_CONFUSED, "what does" },
	{ CUE_HUMAN, "speak to a human" }, { CUE_HUMAN, "talk to a human" }, { CUE_HUMAN, "real person" },
	{ CUE_HUMAN, "speak to a manager" }, { CUE_HUMAN, "your manager" }, { CUE_HUMAN, "supervisor" },
	{ CUE_HUMAN, "lawyer" }, { CUE_HUMAN, "legal action" }, { CUE_HUMAN, "cancel my subscription" },
};

static void stems_of(const struct text__doc *doc, bool copy, struct stems *out)
{
	const struct text_tokens *t = &doc->tokens;
	size_t i, n;

	out->v = fl_calloc(t->n + 1, sizeof(*out->v));
	out->h = fl_calloc(t->n + 1, sizeof(*out->h));
	out->n = 0;
	out->owned = copy;
	for (i = 0; i < t->n; i++) {
		const struct text_token *k = &t->v[i];
		const char *w;

		if (k->kind == TEXT_TOK_PUNCT)
			continue;
		if (k->kind == TEXT_TOK_WORD) {
			w = text__doc_stem(doc, i, &n);
		} else {
			w = k->norm;
			n = k->norm_len;
		}
		out->h[out->n] = text__hash(w, n, 0);
		out->v[out->n++] = copy ? fl_strndup(w, n) : w;
	}
}

static void stems_release(struct stems *s)
{
	size_t i;

	for (i = 0; s->owned && i < s->n; i++)
		free((char *)s->v[i]);
	free(s->v);
	free(s->h);
}

static void prepare_cues(struct text_sentiment *s)
{
	struct text_stemmer *st = text_stemmer_new();
	struct text__doc doc = TEXT__DOC_INIT;
	size_t i;

	s->cue_stems = fl_calloc(FL_ARRAY_SIZE(cues), sizeof(*s->cue_stems));
	for (i = 0; i < FL_ARRAY_SIZE(cues); i++) {
		text__doc_set(&doc, cues[i].phrase, st);
		stems_of(&doc, true, &s->cue_stems[i]);
	}
	text__doc_release(&doc);
	text_stemmer_free(st);
}

static void release_cues(struct text_sentiment *s)
{
	size_t i;

	if (!s->cue_stems)
		return;
	for (i = 0; i < FL_ARRAY_SIZE(cues); i++)
		stems_release(&s->cue_stems[i]);
	free(s->cue_stems);
}

/* True when the stemmed phrase ps occurs in s. */
static bool has_phrase(const struct stems *s, const struct stems *ps)
{
	size_t i, j;

	for (i = 0; ps->n && i + ps->n <= s->n; i++) {
		for (j = 0; j < ps->n; j++)
			if (s->h[i + j] != ps->h[j] || strcmp(s->v[i + j], ps->v[j]))
				break;
		if (j == ps->n)
			return true;
	}
	return false;
}

/* ---- emotions to indicators ---- */

struct emo_map {
	const char *emotion;   /* GoEmotions label */
	const char *indicator; /* DESIGN §5 indicator */
};

static const struct emo_map emo_map[] = {
	{ "anger", "angry" }, { "disgust", "angry" }, { "annoyance", "frustrated" },
	{ "disappointment", "disappointed" }, { "sadness", "disappointed" },
	{ "confusion", "confused" }, { "nervousness", "anxious" },
	{ "fear", "anxious" }, { "gratitude", "grateful" }, { "approval", "satisfied" },
	{ "joy", "satisfied" }, { "relief", "satisfied" }, { "admiration", "satisfied" },
	{ "excitement", "satisfied" }, { "love", "satisfied" },
};

/* An indicator is reported from this strength (emotion probability or cue weight) on. */
#define INDICATOR_MIN 0.2

static void add_indicator(json_t *ind, const char *name, double strength)
{
	json_t *cur = json_object_get(ind, name);

	if (!cur || json_real_value(cur) < strength)
		json_object_set_new(ind, name, json_real(strength));
}

static int cmp_ind(const void *a, const void *b)
{
	const double *x = *(const double *const *)a, *y = *(const double *const *)b;

	return *x < *y ? 1 : *x > *y ? -1 : 0;
}

/* Indicators with strength >= INDICATOR_MIN, strongest first, as names. */
static json_t *indicator_list(json_t *ind)
{
	const char *key;
	json_t *v, *arr = json_array();
	size_t n = json_object_size(ind), i = 0;
	struct { double s; const char *k; } *items = fl_calloc(n + 1, sizeof(*items));
	double **order = fl_calloc(n + 1, sizeof(*order));

	json_object_foreach(ind, key, v) {
		items[i].s = json_real_value(v);
		items[i].k = key;
		order[i] = &items[i].s;
		i++;
	}
	qsort(order, n, sizeof(*order), cmp_ind);
	for (i = 0; i < n; i++) {
		size_t k = (size_t)((char *)order[i] - (char *)items) / sizeof(*items);

		if (items[k].s >= INDICATOR_MIN)
			json_array_append_new(arr, json_string(items[k].k));
	}
	free(items);
	free(order);
	return arr;
}

static bool has_ind(const json_t *ind, const char *name)
{
	return json_real_value(json_object_get(ind, name)) >= INDICATOR_MIN;
}

static const char *approach_of(int level, const char *urgency, const json_t *ind)
{
	bool angry = has_ind(ind, "angry"), confused = has_ind(ind, "confused");
	bool anxious = has_ind(ind, "anxious"), high = !strcmp(urgency, "high");

	if (level == 0 || angry)
		return high ? "empathetic + apologetic + urgent resolution" : "empathetic + apologetic + solution-focused";
	if (level == 1)
		return high ? "empathetic + urgent resolution" : "empathetic + solution-focused";
	if (anxious)
		return "reassuring + clear next steps";
	if (confused)
		return "patient + step-by-step guidance";
	if (high)
		return "prompt + solution-focused";
	if (level >= 3)
		return "friendly + appreciative";
	return "professional + informative";
}

json_t *text_sentiment_analyze(const struct text_sentiment *s, const char *text, const json_t *metadata)
{
	const struct text__doc *doc = text__doc_for(text);   /* shared with the category model */
	struct text__fvec *fv = text__thread_fvec();
	const struct text_tokens *tk = &doc->tokens;
	struct stems stems;
	size_t nl = text_model_nlabels(s->sent), i, words = 0, caps = 0, bangs = 0, negs = 0, boosts = 0;
	double *p = fl_calloc(nl, sizeof(*p)), lp[5], score, head, conf, found[6] = { 0 };
	json_t *res, *probs = json_object(), *ind = json_object(), *cuej = json_array(), *emo = json_object();
	int level = 2, urg = 0;
	const char *urgency;

	stems_of(doc, false, &stems);
	for (i = 0; i < tk->n; i++) {
		const struct text_token *k = &tk->v[i];

		if (k->kind == TEXT_TOK_WORD) {
			words++;
			/* shouting, not an acronym: "TV", "SLA" and "API" are not raised voices */
			caps += (k->flags & TEXT_TOK_ALLCAPS) && k->norm_len >= 4;
			negs += (k->flags & TEXT_TOK_NEGATOR) != 0;
			boosts += (k->flags & TEXT_TOK_INTENSIFIER) != 0;
		} else if (k->kind == TEXT_TOK_PUNCT && k->norm[0] == '!') {
			bangs += k->norm_len;
		}
	}
	for (i = 0; i < FL_ARRAY_SIZE(cues); i++)
		if (has_phrase(&stems, &s->cue_stems[i])) {
			found[cues[i].kind] += 1;
			json_array_append_new(cuej, json_string(cues[i].phrase));
		}

	/* the sentiment model, then emphasis */
	text__model_predict_doc_score(s->sent, doc, fv, p, &head);
	for (i = 0; i < 5; i++)
		lp[i] = p[text_model_label_index(s->sent, levels[i])];
	level = 0;
	for (i = 1; i < 5; i++)
		if (lp[i] > lp[level])
			level = (int)i;
	score = text__model_tokens_score(s->sent, tk, p, head);   /* with the lexicon, when it has one */
	conf = lp[level];
	{
		int emphasis = (bangs >= 2) + (caps >= 2 || (words >= 3 && caps * 2 >= words)) + (boosts > 0);

		if (score < 0 && emphasis) /* shouting deepens a complaint */
			score = fmax(-1.0, score - 0.15 * emphasis);
		if (level == 1 && emphasis >= 2) {
			conf = lp[0] + lp[1];
			level = 0;
		}
	}
	for (i = 0; i < 5; i++)
		json_object_set_new(probs, levels[i], json_real(lp[i]));

	/* emotions */
	if (s->emo) {
		size_t ne = text_model_nlabels(s->emo), k;
		double *ep = fl_calloc(ne, sizeof(*ep));

		text__model_predict_doc(s->emo, doc, fv, ep);
		for (k = 0; k < ne; k++) {
			const char *name = text_model_label(s->emo, k);
			size_t j;

			if (ep[k] >= 0.1)
				json_object_set_new(emo, name, json_real(ep[k]));
			for (j = 0; j < FL_ARRAY_SIZE(emo_map); j++)
				if (!strcmp(emo_map[j].emotion, name))
					add_indicator(ind, emo_map[j].indicator, ep[k]);
		}
		free(ep);
	}
	if (found[CUE_REPEAT] && score < -0.2)
		add_indicator(ind, "frustrated", 0.5);
	if (found[CUE_CONFUSED])
		add_indicator(ind, "confused", 0.4);
	if (level == 0 && (bangs >= 3 || caps >= 3))
		add_indicator(ind, "angry", 0.4);
	/* satisfaction and gratitude do not sit with a negative level */
	if (level <= 1) {
		json_object_del(ind, "satisfied");
		if (json_real_value(json_object_get(ind, "grateful")) < 0.5)
			json_object_del(ind, "grateful");
	}

	/* urgency */
	urg += found[CUE_DEADLINE] ? 2 : 0;
	urg += found[CUE_OUTAGE] ? 2 : 0;
	urg += found[CUE_IMPACT] ? 1 : 0;
	urg += bangs >= 3 ? 1 : 0;
	urg += level == 0 ? 1 : 0;
	if (metadata) {
		const char *rev = fl_json_str(metadata, "revenue_impact", "");

		if (fl_json_bool(metadata, "urgent_flag", false)) {
			urg += 3;
			json_array_append_new(cuej, json_string("metadata: urgent_flag"));
		}
		if (fl_json_int(metadata, "users_affected", 0) >= 100) {
			urg += 3;
			json_array_append_new(cuej, json_string("metadata: users_affected"));
		}
		if (!strcmp(rev, "high") || !strcmp(rev, "critical")) {
			urg += 2;
			json_array_append_new(cuej, json_string("metadata: revenue_impact"));
		}
	}
	urgency = urg >= 3 ? "high" : urg >= 1 ? "medium" : "low";
	if (urg >= 3)
		add_indicator(ind, "urgent", 1.0);
	if (found[CUE_OUTAGE] && score < 0)
		add_indicator(ind, "anxious", 0.2);

	res = json_pack("{s:s, s:f, s:o, s:s, s:s, s:f, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:b, s:o}}",
			"sentiment", levels[level], "confidence", conf,
			"emotional_indicators", indicator_list(ind), "urgency", urgency,
			"recommended_approach", approach_of(level, urgency, ind), "score", score,
			"probabilities", probs, "emotions", emo, "cues", "negations", (json_int_t)negs,
			"intensifiers", (json_int_t)boosts, "caps_words", (json_int_t)caps,
			"exclamations", (json_int_t)bangs, "human_requested", found[CUE_HUMAN] > 0,
			"phrases", cuej);
	json_decref(ind);
	free(p);
	stems_release(&stems);
	return res;
}
