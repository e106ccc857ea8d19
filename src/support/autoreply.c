/*
 * Whether a reply goes to the customer without a person: the one place
 * that decides (DESIGN §10, issue 15). Everything else drafts.
 *
 * A reply is sent only when the ticket is one answerable question, an
 * article's section answers it, and the analysis is confident. The checks
 * run in order and the first that fails gives the reason, which the API and
 * the trace show as auto_reply {"sent": false, "reason": ...}:
 *
 *   spam, automated_mail     the spam screen and email's noise flags
 *   phone_call               a call through the phone doors (voicemail, missed call): an agent calls back
 *   thank_you                thanks or praise, nothing asked (no reply, no hand-off)
 *   outage, legal, security  the escalation rules' cues and signals
 *   not_english              a language the built-in replies are not written in
 *   possible_spam            the spam model is unsure (0.5 <= P < 0.95)
 *   staff_action             a request for staff to act on the account
 *   bug_report               reproduction steps
 *   several_issues           several asks whose searches find different articles, or a list of issues
 *   upset_customer           very negative sentiment, anger, or a request for a person
 *   no_question              nothing asked and no problem stated
 *   no_article               no article relevant enough (relevance < MIN_RELEVANCE)
 *   unclear_article          two articles about as relevant (margin < MIN_MARGIN)
 *   not_answered             the chosen section does not cover what is asked (< MIN_ANSWERED)
 *   low_confidence           the category model is unsure (< MIN_CONFIDENCE)
 *   high_priority            high or urgent, with high escalation risk
 *   reads_like_handoff       the article model reads it as thanks, anger, an outage, ... (learned.c)
 *   model_disagrees          the article model's best label is another article (p >= 0.9), none or a
 *                            kind a person answers (p >= 0.99)
 *
 * The signals are measured, not matched against example tickets: the
 * message analysis (message.c: questions, requests, problems, quoted
 * history set aside), the spam screen and language (screen.c), the
 * sentiment and category models' outputs, the search's relevance and
 * margin, and answerability, the share of the ask's content words that the
 * chosen article's title and section contain. The thresholds were chosen on
 * the dev half of tests/fixtures/autoreply (docs/QUALITY.md, "Automatic
 * replies"), never on its test half.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "support_int.h"
#include "kb/kb.h"
#include "text/text.h"

#define MIN_RELEVANCE SUPPORT_MIN_RELEVANCE   /* of the top article, on its own */
#define FIT_RELEVANCE 0.12   /* ... or this much, when the asks are well answered and the lead clear: */
#define MIN_MATCHED 3.0      /* idf weight of the message's words the top article contains */
#define MIN_FIT 0.6          /* the top article's relevance to the message, part by part (message_fit) */
#define MIN_MARGIN 0.25      /* the top article's lead over the next one, as a share of its relevance */
#define CLEAR_MARGIN 0.5     /* ... a lead under this needs the article to share more than: */
#define CLEAR_MATCHED 8.0    /* ... this idf weight with the message (two rare words, or three of some weight), */
#define CLEAR_RELEVANCE 0.5  /* ... unless its relevance is at least this */
#define MIN_ANSWERED 0.3     /* share of the ask's keys in the article's title, tags and text */
#define UPSET_SCORE -0.3     /* a very negative level counts as upset at this score or below */
#define MIN_CONFIDENCE 0.30  /* of the category model */
#define MIN_AFFECTED 10     /* people a failure affects: an outage (5, 10, 15, 20 hold the same rows on every set) */
#define SEVERAL_WEIGHT 3.0   /* several issues: asks that name a topic (idf weight of their concepts) */
#define SEVERAL_FOLLOWUP 8.0 /* ... a follow-up too when it names this much of its own ("why does the app crash when i open it") */
#define SEVERAL_OWN 0.5      /* ... each relevant to its own article at least this much */
#define SEVERAL_SHARE 0.6    /* ... and to the other ask under this share of that ask's own article's */

struct signals {
	const json_t *ticket, *message, *language, *spam, *sentiment, *categorization, *priority, *kbr, *response;
	const json_t *top;   /* the top article */
	char *text;          /* normalized subject and body, for the cue lists */
	double relevance, margin, answered, confidence, coverage, fit;
	size_t asks, unknown, ask_unknown;
	json_t *unknown_asked;  /* words of a yes-or-no question that no article has */
	bool named;             /* ... one of which names something (a brand, a product, a language) */
	bool several;
	const struct support_analyzer *analyzer;
	int learned;         /* the article model agrees with the search (learned.c); -1: not asked yet */
};

/* s (NULL: nothing) and a newline: fl_buf_addf's formatting is not free */
static void line(struct fl_buf *out, const char *s)
{
	if (s)
		fl_buf_adds(out, s);
	fl_buf_addch(out, '\n');
}

/* The asks: the questions and requests, or, without any, the problems stated. */
static void ask_text(const json_t *message, const json_t *ticket, struct fl_buf *out)
{
	const json_t *q = json_object_get(message, "questions"), *r = json_object_get(message, "requests");
	const json_t *p = json_object_get(message, "problems"), *v;
	size_t i;

	json_array_foreach(q, i, v)
		line(out, json_string_value(v));
	json_array_foreach(r, i, v)
		line(out, fl_json_str(v, "text", ""));
	json_array_foreach(p, i, v)
		line(out, json_string_value(v));
	if (!out->len)
		fl_buf_adds(out, fl_json_str(message, "body", fl_json_str(ticket, "content", "")));
}

/*
 * The share of the ask's keys found in the article's title, tags and text
 * (the words compared by their first five letters: a stemmer's poor cousin
 * that also sees through the customer's inflections); the subject's keys
 * count too when the ask alone has fewer than three.
 */
static double answerability(const json_t *ticket, const json_t *message, const json_t *article)
{
	struct support_keys ask = { .n = 0 };
	struct fl_buf ans = FL_BUF_INIT, where = FL_BUF_INIT;
	const json_t *v;
	size_t i, hits;

	ask_text(message, ticket, &ans);
	support__keys_of_min(ans.buf, ans.len, 3, &ask);
	if (ask.n < 3)
		support__keys_of_min(fl_json_str(ticket, "subject", ""), strlen(fl_json_str(ticket, "subject", "")), 3,
				     &ask);
	line(&where, fl_json_str(article, "title", ""));
	json_array_foreach(json_object_get(article, "tags"), i, v)
		line(&where, json_string_value(v));
	fl_buf_adds(&where, fl_json_str(article, "content", ""));
	hits = ask.n ? support__keys_overlap_min(&ask, where.buf, where.len, 3) : 0;
	fl_buf_release(&ans);
	fl_buf_release(&where);
	return ask.n ? (double)hits / (double)ask.n : 0;
}

/* Whether a part of the search is something asked: a question or request, a follow-up to one, a problem. */
static bool ask_part(const json_t *part, bool problems, bool followups)
{
	const char *kind = fl_json_str(part, "kind", "");

	return !strcmp(kind, "question") || !strcmp(kind, "request") || (problems && !strcmp(kind, "problem")) ||
	       (followups && !strcmp(kind, "followup"));
}

static double part_num(const json_t *article, const char *field, size_t k)
{
	return json_number_value(json_array_get(json_object_get(article, field), k));
}

static double part_rel(const json_t *article, size_t k)
{
	return part_num(article, "part_relevance", k);
}

/*
 * Several unrelated asks: two asks (questions, requests or problems specific
 * enough to name a topic: idf weight >= SEVERAL_WEIGHT) whose best articles
 * among those found differ, each relevant to its own ask (part relevance
 * >= SEVERAL_OWN) and much less to the other ask than that ask's own article
 * (under SEVERAL_SHARE of it: 0.3 against 0.5, 0.59 against 1.0, "how do I
 * change my email address? and why does the app crash?"). A follow-up
 * ("and how long does it take?") names no topic of its own, and one
 * question asked twice has one article.
 */
static bool several_topics(const json_t *kbr)
{
	const json_t *parts = json_object_get(kbr, "parts"), *articles = json_object_get(kbr, "articles");
	size_t best[KB_MAX_PARTS], n = json_array_size(parts), k, l, a;

	if (n > KB_MAX_PARTS)
		n = KB_MAX_PARTS;
	for (k = 0; k < n; k++) {
		const json_t *p = json_array_get(parts, k);

		best[k] = SIZE_MAX;
		if (!(ask_part(p, true, false) && fl_json_num(p, "weight", 0) >= SEVERAL_WEIGHT) &&
		    !(ask_part(p, false, true) && fl_json_num(p, "weight", 0) >= SEVERAL_FOLLOWUP))
			continue;
		for (a = 0; a < json_array_size(articles); a++)
			if (best[k] == SIZE_MAX ||
			    part_rel(json_array_get(articles, a), k) > part_rel(json_array_get(articles, best[k]), k))
				best[k] = a;
	}
	for (k = 0; k < n; k++)
		for (l = k + 1; best[k] != SIZE_MAX && l < n; l++) {
			const json_t *ak, *al;

			if (best[l] == SIZE_MAX || best[l] == best[k])
				continue;
			ak = json_array_get(articles, best[k]);
			al = json_array_get(articles, best[l]);
			if (part_rel(ak, k) >= SEVERAL_OWN && part_rel(al, l) >= SEVERAL_OWN &&
			    part_rel(ak, l) < SEVERAL_SHARE * part_rel(al, l) &&
			    part_rel(al, k) < SEVERAL_SHARE * part_rel(ak, k))
				return true;
		}
	return false;
}

/*
 * How well an article fits the customer's words, part by part of the
 * search (kbsearch.c): its relevance for each part (the subject, each ask,
 * the statements of a short message), weighted by the part's idf weight (a
 * part that names a topic counts for more than "what else can I try?"); and
 * how many of the asks' words no article has.
 */
static void message_fit(const json_t *kbr, const json_t *article, double *rel, size_t *unknown)
{
	const json_t *parts = json_object_get(kbr, "parts"), *p;
	double r = 0, weight = 0;
	size_t k;

	*unknown = 0;
	*rel = fl_json_num(article, "relevance_score", 0);
	if (!json_array_size(parts)) { /* one part: the whole query */
		*unknown = json_array_size(json_object_get(kbr, "unknown_words"));
		return;
	}
	json_array_foreach(parts, k, p) {
		double w = fl_json_num(p, "weight", 0);

		r += w * part_rel(article, k);
		weight += w;
		if (ask_part(p, true, true))
			*unknown += json_array_size(json_object_get(p, "unknown_words"));
	}
	if (weight > 0)
		*rel = r / weight;
}

static double margin_of(const json_t *kbr)
{
	const json_t *articles = json_object_get(kbr, "articles");
	double top = fl_json_num(json_array_get(articles, 0), "relevance_score", 0);

	return top > 0 ? (top - fl_json_num(json_array_get(articles, 1), "relevance_score", 0)) / top : 0;
}

/*
 * support__article_fits, with the asks' share of words in the article
 * (answerability) measured by the caller or, when *answered < 0 and it is
 * needed, here (into *answered).
 */
static bool fits(const json_t *kbr, const json_t *ticket, const json_t *message, double *answered)
{
	const json_t *top = json_array_get(json_object_get(kbr, "articles"), 0);
	double rel = fl_json_num(top, "relevance_score", 0), fit;
	size_t unknown;

	/* the article model names the search's top article too (learned.c) */
	if (support__learned_agrees(kbr))
		return true;
	/* what the article shares with the message: one rare word, or two of some weight ("issue" alone is not) */
	if (!top || fl_json_num(top, "matched_weight", 0) < MIN_MATCHED)
		return false;
	if (rel >= MIN_RELEVANCE)
		return true;
	if (rel < FIT_RELEVANCE)
		return false;
	message_fit(kbr, top, &fit, &unknown);
	if (fit < MIN_FIT || margin_of(kbr) < MIN_MARGIN)
		return false;
	if (*answered < 0)
		*answered = answerability(ticket, message, top);
	return *answered >= MIN_ANSWERED;
}

bool support__article_fits(const json_t *kbr, const json_t *ticket, const json_t *message)
{
	double answered = -1;

	return fits(kbr, ticket, message, &answered);
}

/*
 * A word that names something, a brand, a product or a language
 * ("YubiKey", "FIDO2", "SDK", "Python"): a capital after its first letter,
 * letters with digits, or a capital where the part's text does not start;
 * or, written all in lower case as chat is, a word of three letters or more
 * that the dictionary does not know ("paypal", "huawei": a dictionary
 * spells names with their capitals; text/dict.c).
 */
static bool naming_word(const char *word, const char *text, struct text_dict *dict)
{
	/* capitalized, but naming a time: "every Friday", "since March" */
	static const char *const times[] = {
		"april", "august", "december", "february", "friday", "january", "july", "june", "march", "may",
		"monday", "november", "october", "saturday", "september", "sunday", "thursday", "tuesday",
		"wednesday",
	};
	const char *at = strstr(text, word), *start = text;
	bool letters = false, digits = false;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(times); i++)
		if (!strcasecmp(word, times[i]))
			return false;

	for (i = 0; word[i]; i++) {
		if (i && isupper((unsigned char)word[i]))
			return true;
		letters |= isalpha((unsigned char)word[i]) != 0;
		digits |= isdigit((unsigned char)word[i]) != 0;
	}
	if (letters && digits)
		return true;
	while (*start && !isalnum((unsigned char)*start))
		start++;
	if (isupper((unsigned char)word[0]))
		return at && at != start;
	for (i = 0; word[i]; i++)
		if (!islower((unsigned char)word[i]))
			return false;
	return i >= 3 && text_dict_knows(dict, word) == 0;
}

/* The words of unknown (a part's unknown_words) that name something, into out; whether there was one. */
static bool naming_words(const json_t *unknown, const char *text, struct text_dict *dict, json_t *out)
{
	const json_t *v;
	size_t i;
	bool any = false;

	json_array_foreach(unknown, i, v)
		if (json_is_string(v) && naming_word(json_string_value(v), text, dict)) {
			if (out)
				json_array_append(out, (json_t *)v);
			any = true;
		}
	return any;
}

/*
 * A yes-or-no question about something no article mentions: "can I pay
 * with Apple Pay?", "is there an add-in for Outlook?". The articles cannot
 * say yes, and an article on the neighbouring topic would answer another
 * question. The question's words that no article contains go into *words;
 * a question that points back ("can we use those for two-factor sign-in?")
 * takes the naming words (naming_word) of the statements around it. Whether
 * one of them names something goes into *named: then no article's
 * relevance, however high, answers it (the 2FA article on authenticator
 * apps is not an answer about YubiKeys).
 */
static bool asks_unknown(const json_t *kbr, struct text_dict *dict, json_t *words, bool *named)
{
	static const char *const openers[] = {
		"are", "can", "could", "do", "does", "has", "have", "is", "will", "would",
	};
	static const char *const back[] = { "these", "they", "them", "those" };
	const json_t *parts = json_object_get(kbr, "parts"), *p, *o;
	size_t k, i, j;

	*named = false;
	json_array_foreach(parts, k, p) {
		const json_t *unknown = json_object_get(p, "unknown_words");
		struct support_words w;
		const char *text = fl_json_str(p, "text", "");
		bool yes_no = false, refers = false;

		if (!ask_part(p, false, true))
			continue;
		support__words_of(text, strlen(text), &w);
		for (i = 0; i < FL_ARRAY_SIZE(openers); i++)
			yes_no |= support__word_is(&w, 0, openers[i]);
		if (!yes_no)
			continue;
		json_array_extend(words, (json_t *)unknown);
		*named |= naming_words(unknown, text, dict, NULL);
		for (i = 1; i < w.n && !refers; i++)
			for (j = 0; j < FL_ARRAY_SIZE(back); j++)
				refers |= support__word_is(&w, i, back[j]);
		if (refers)
			json_array_foreach(parts, i, o)
				if (!ask_part(o, true, true))
					*named |= naming_words(json_object_get(o, "unknown_words"),
							       fl_json_str(o, "text", ""), dict, words);
	}
	return json_array_size(words) > 0;
}

/* ---- the checks, in order ---- */

struct check {
	const char *reason;
	bool (*fails)(const struct signals *s);
	const char *why;
};

static bool c_spam(const struct signals *s)
{
	return fl_str_eq(fl_json_str(s->spam, "verdict", ""), "spam");
}

static bool c_automated(const struct signals *s)
{
	return fl_json_bool(s->spam, "automated", false);
}

/*
 * A call that came through the phone doors (Twilio, /api/v1/calls: the
 * ticket's metadata names its call_id): the caller left a voicemail or
 * missed us, and a written answer has no way to reach them (no inbox, no
 * chat stream); an automatic reply would only mark the ticket answered. An
 * agent calls back. (A phone ticket an integration files through the
 * ticket API, e.g. a call centre's transcript of a known customer, is
 * answered like any other: the integration delivers it.)
 */
static bool c_phone(const struct signals *s)
{
	return fl_str_eq(fl_json_str(s->ticket, "channel", fl_json_str(s->ticket, "source", "")), FL_CHANNEL_PHONE) &&
	       fl_json_str(json_object_get(s->ticket, "metadata"), "call_id", NULL);
}

static bool c_thanks(const struct signals *s)
{
	return fl_json_bool(s->message, "praise_only", false);
}

static bool c_language(const struct signals *s)
{
	return s->language && !fl_json_bool(s->language, "replies", true);
}

static bool c_suspect(const struct signals *s)
{
	return fl_str_eq(fl_json_str(s->spam, "verdict", ""), "suspect");
}

/*
 * A question whether something is down: "is mobile sync down?", "are your
 * servers down right now?", "anyone else seeing sync down?". It opens with
 * "is", "are", "anyone" or "anybody" and "down" comes in its last three
 * words; only a person who has looked can answer it.
 */
static bool asks_if_down(const json_t *message)
{
	const json_t *q;
	size_t i, k;

	json_array_foreach(json_object_get(message, "questions"), i, q) {
		const char *text = json_string_value(q);
		struct support_words w;

		if (!text)
			continue;
		support__words_of(text, strlen(text), &w);
		if (!support__word_is(&w, 0, "is") && !support__word_is(&w, 0, "are") &&
		    !support__word_is(&w, 0, "anyone") && !support__word_is(&w, 0, "anybody"))
			continue;
		for (k = w.n > 3 ? w.n - 3 : 2; k < w.n; k++)
			if (k >= 2 && support__word_is(&w, k, "down"))
				return true;
	}
	return false;
}

static bool c_outage(const struct signals *s)
{
	return support__has_cue(s->text, "outage") || fl_json_int(s->message, "affected", 0) >= MIN_AFFECTED ||
	       asks_if_down(s->message) ||
	       fl_json_int(json_object_get(s->ticket, "metadata"), "users_affected", 0) >= 100 ||
	       fl_json_bool(json_object_get(s->sentiment, "signals"), "outage", false);
}

static bool c_legal(const struct signals *s)
{
	return support__has_cue(s->text, "legal") ||
	       fl_json_bool(json_object_get(s->sentiment, "signals"), "legal_threat", false);
}

static bool c_security(const struct signals *s)
{
	return support__has_cue(s->text, "security") || fl_json_bool(s->message, "disowned", false) ||
	       fl_json_bool(s->message, "exposed", false) || fl_json_bool(s->message, "foreign_data", false) ||
	       fl_json_bool(json_object_get(s->sentiment, "signals"), "security_incident", false);
}

static bool c_action(const struct signals *s)
{
	return json_array_size(json_object_get(s->message, "requests")) > 0;
}

static bool c_bug(const struct signals *s)
{
	return fl_json_bool(s->message, "bug_report", false);
}

static bool c_several(const struct signals *s)
{
	return s->several;
}

/*
 * Upset: very negative, angry, or asking for a person (the escalation
 * rules' list, or the sentiment cues', which also counts the threat to
 * "cancel my subscription": not when a question asks how to); or negative
 * and frustrated with shouting (ALL CAPS, "!!").
 */
/* A question of the message asks about cancelling: "how do i cancel my subscription". */
static bool asks_how_to_cancel(const json_t *message)
{
	const json_t *q;
	size_t i;

	json_array_foreach(json_object_get(message, "questions"), i, q)
		if (json_is_string(q) && strcasestr(json_string_value(q), "cancel my subscription"))
			return true;
	return false;
}

static bool c_upset(const struct signals *s)
{
	const json_t *ind = json_object_get(s->sentiment, "emotional_indicators"), *v;
	const json_t *cues = json_object_get(s->sentiment, "cues");
	const char *level = fl_json_str(s->sentiment, "sentiment", "");
	bool frustrated = false;
	size_t i;

	/* the level alone is a model's guess: very negative counts when the score agrees */
	if ((!strcmp(level, "very_negative") && fl_json_num(s->sentiment, "score", 0) <= UPSET_SCORE) ||
	    support__has_cue(s->text, "human") || support__has_cue(s->text, "upset") ||
	    (fl_json_bool(cues, "human_requested", false) && !asks_how_to_cancel(s->message)))
		return true;
	json_array_foreach(ind, i, v) {
		if (fl_str_eq(json_string_value(v), "angry"))
			return true;
		frustrated |= fl_str_eq(json_string_value(v), "frustrated");
	}
	return frustrated && !strcmp(level, "negative") &&
	       (fl_json_int(cues, "caps_words", 0) >= 1 || fl_json_int(cues, "exclamations", 0) >= 2);
}

/* Nothing asked, no problem and nothing else stated (a short symptom report is an ask too). */
static bool c_no_question(const struct signals *s)
{
	return !json_array_size(json_object_get(s->message, "questions")) &&
	       !json_array_size(json_object_get(s->message, "problems")) &&
	       !json_array_size(json_object_get(s->message, "statements"));
}

/* Whether the article model names the top article too (asked once, only when a measure falls short). */
static bool learned(const struct signals *s)
{
	struct signals *w = (struct signals *)s;

	if (w->learned < 0)
		w->learned = support__learned_ask(s->analyzer, s->ticket, (json_t *)s->kbr);
	return w->learned;
}

static bool c_no_article(const struct signals *s)
{
	struct signals *w = (struct signals *)s;

	return !(fits(s->kbr, s->ticket, s->message, &w->answered) || learned(s)) ||
	       !json_array_size(json_object_get(s->response, "articles_referenced"));
}

/*
 * A yes-or-no question about what no article has: the article must be
 * relevant on its own; when the unknown word names something (a brand, a
 * product, a language), no relevance is enough.
 */
static bool c_not_in_kb(const struct signals *s)
{
	return json_array_size(s->unknown_asked) > 0 && (s->named || s->relevance < MIN_RELEVANCE);
}

/*
 * Unclear: the top article hardly leads the next, or it is weak on all
 * three counts: it leads only somewhat, is not very relevant, and shares
 * little with the message (a guess between neighbours: "white page in
 * firefox" between the slow-app and connection articles).
 */
static bool c_unclear(const struct signals *s)
{
	return (s->margin < MIN_MARGIN ||
		(s->margin < CLEAR_MARGIN && s->relevance < CLEAR_RELEVANCE &&
		 fl_json_num(s->top, "matched_weight", 0) < CLEAR_MATCHED)) && !learned(s);
}

/* Computed here, when the checks before have passed: it reads the whole article. */
static bool c_not_answered(const struct signals *s)
{
	struct signals *w = (struct signals *)s;

	if (s->learned > 0) /* the article model took the article already: nothing to measure */
		return false;
	if (w->answered < 0) /* not measured by c_no_article */
		w->answered = w->top ? answerability(s->ticket, s->message, s->top) : 0;
	return (s->answered < MIN_ANSWERED || s->fit < MIN_FIT) && !learned(s);
}

static bool c_confidence(const struct signals *s)
{
	return s->confidence < MIN_CONFIDENCE && !learned(s);
}

/* A high or urgent ticket whose customer is at high risk of escalating: a person answers. */
static bool c_high_risk(const struct signals *s)
{
	const char *p = fl_json_str(s->priority, "priority", "");

	return (!strcmp(p, "urgent") || !strcmp(p, "high")) &&
	       fl_str_eq(fl_json_str(s->priority, "escalation_risk", ""), "high");
}

/*
 * The article model's last word (learned.c), when everything else would
 * send: it reads the ticket as a kind a person answers, or its best label
 * is another article, no article or such a kind, with confidence.
 */
static bool c_reads_like(const struct signals *s)
{
	return support__learned_hold(s->analyzer, s->ticket, (json_t *)s->kbr) != NULL;
}

static bool c_disagrees(const struct signals *s)
{
	return support__learned_disagrees(s->analyzer, s->ticket, (json_t *)s->kbr);
}

static const struct check checks[] = {
	{ "spam", c_spam, "the spam filter called it spam" },
	{ "automated_mail", c_automated, "automated mail (bounce, out-of-office, list): nobody to answer" },
	{ "phone_call", c_phone, "a phone call: an agent calls back (a written answer cannot reach the caller)" },
	{ "thank_you", c_thanks, "thanks or praise, nothing asked: no reply and no hand-off needed" },
	{ "outage", c_outage, "reports an outage" },
	{ "legal", c_legal, "legal words: a person answers" },
	{ "security", c_security, "a possible security incident: a person answers" },
	{ "not_english", c_language, "written in a language the automatic replies are not written in" },
	{ "possible_spam", c_suspect, "the spam model is not sure it is a real request" },
	{ "staff_action", c_action, "asks staff to act on the account" },
	{ "bug_report", c_bug, "a bug report with reproduction steps" },
	{ "several_issues", c_several, "several issues in one message" },
	{ "upset_customer", c_upset, "the customer is upset or asked for a person" },
	{ "no_question", c_no_question, "no question or problem to answer" },
	{ "no_article", c_no_article, "no article answers it well enough" },
	{ "not_in_kb", c_not_in_kb, "asks about something no article mentions" },
	{ "unclear_article", c_unclear, "two articles fit about equally well" },
	{ "not_answered", c_not_answered, "the article's section does not cover what is asked" },
	{ "low_confidence", c_confidence, "the analysis is not confident" },
	{ "high_priority", c_high_risk, "a high-priority ticket at high risk of escalating: a person answers" },
	{ "reads_like_handoff", c_reads_like, "reads like tickets a person answers (thanks, anger, an outage, ...)" },
	{ "model_disagrees", c_disagrees, "the article model reads it otherwise: another article, none, or a person's" },
};

json_t *support__autoreply(const struct support_autoreply_in *in)
{
	struct signals s = { 0 };
	const json_t *articles = json_object_get(in->kb_results, "articles");
	const json_t *top = json_array_get(articles, 0);
	const struct check *failed = NULL;
	struct fl_buf norm = FL_BUF_INIT;
	char *raw;
	json_t *out;
	size_t i;

	s.ticket = in->ticket;
	s.message = in->message;
	s.language = in->language;
	s.spam = in->spam;
	s.sentiment = in->sentiment;
	s.categorization = in->categorization;
	s.priority = in->priority;
	s.kbr = in->kb_results;
	s.response = in->response;
	raw = fl_asprintf("%s\n%s", fl_json_str(in->ticket, "subject", ""),
			  fl_json_str(in->message, "body", fl_json_str(in->ticket, "content", "")));
	text_normalize(raw, strlen(raw), &norm);
	free(raw);
	s.text = norm.buf;
	s.relevance = fl_json_num(top, "relevance_score", 0);
	s.coverage = fl_json_num(top, "coverage", 0);
	s.unknown = json_array_size(json_object_get(in->kb_results, "unknown_words"));
	if (top)
		message_fit(in->kb_results, top, &s.fit, &s.ask_unknown);
	s.unknown_asked = json_array();
	asks_unknown(in->kb_results, in->analyzer ? in->analyzer->dict : NULL, s.unknown_asked, &s.named);
	s.margin = margin_of(in->kb_results);
	s.confidence = fl_json_num(in->categorization, "confidence", 1);
	s.asks = json_array_size(json_object_get(in->message, "questions")) +
		 json_array_size(json_object_get(in->message, "requests"));
	s.several = several_topics(in->kb_results) || fl_json_int(in->message, "enumerated", 0) >= 2 ||
		    (fl_json_int(in->message, "enumerated", 0) == 1 &&
		     (s.asks >= 2 || json_array_size(json_object_get(in->message, "problems")) >= 2));
	s.top = top;
	s.analyzer = in->analyzer;
	s.learned = -1;
	s.answered = -1;   /* not measured: a check before it failed */
	for (i = 0; i < FL_ARRAY_SIZE(checks) && !failed; i++)
		if (checks[i].fails(&s))
			failed = &checks[i];
	out = json_pack("{s:b, s:s, s:s, s:{s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:b}}",
			"sent", !failed,
			"reason", failed ? failed->reason : "answered",
			"detail", failed ? failed->why : "one question, answered by the article's section",
			"signals", "relevance", s.relevance, "margin", s.margin, "answered", s.answered,
			"coverage", s.coverage, "confidence", s.confidence, "asks", (json_int_t)s.asks,
			"unknown", (json_int_t)s.unknown, "several_issues", s.several);
	json_object_set_new(json_object_get(out, "signals"), "fit", json_real(s.fit));
	json_object_set_new(json_object_get(out, "signals"), "matched_weight",
			    json_real(fl_json_num(top, "matched_weight", 0)));
	json_object_set_new(json_object_get(out, "signals"), "ask_unknown", json_integer((json_int_t)s.ask_unknown));
	if (json_object_get(in->kb_results, "learned"))
		json_object_set(json_object_get(out, "signals"), "learned", json_object_get(in->kb_results, "learned"));
	if (s.unknown)
		json_object_set(json_object_get(out, "signals"), "unknown_words",
				json_object_get(in->kb_results, "unknown_words"));
	if (!failed && top) {
		json_object_set_new(out, "article", json_string(fl_json_str(top, "id", "")));
		if (fl_json_str(in->response, "section", NULL))
			json_object_set(out, "section", json_object_get(in->response, "section"));
	}
	if (json_array_size(s.unknown_asked))
		json_object_set(json_object_get(out, "signals"), "not_mentioned", s.unknown_asked);
	json_decref(s.unknown_asked);
	fl_buf_release(&norm);
	return out;
}

bool support__autoreply_no_handoff(const json_t *decision)
{
	const char *r = fl_json_str(decision, "reason", "");

	return !strcmp(r, "spam") || !strcmp(r, "thank_you");
}
