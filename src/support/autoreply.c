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
#include <string.h>

#include "support_int.h"
#include "text/text.h"

#define MIN_RELEVANCE SUPPORT_MIN_RELEVANCE   /* of the top article: the reply cites none below it */
#define MIN_MARGIN 0.30      /* the top article's lead over the next one, as a share of its relevance */
#define MIN_ANSWERED 0.3     /* share of the ask's keys in the article's title, tags and text */
#define UPSET_SCORE -0.3     /* a very negative level counts as upset at this score or below */
#define MIN_CONFIDENCE 0.30  /* of the category model */

struct signals {
	const json_t *ticket, *message, *language, *spam, *sentiment, *categorization, *priority, *kbr, *response;
	const json_t *top;   /* the top article */
	char *text;          /* normalized subject and body, for the cue lists */
	double relevance, margin, answered, confidence;
	size_t asks;
	bool several;
};

/* The asks: the questions and requests, or, without any, the problems stated. */
static void ask_text(const json_t *message, const json_t *ticket, struct fl_buf *out)
{
	const json_t *q = json_object_get(message, "questions"), *r = json_object_get(message, "requests");
	const json_t *p = json_object_get(message, "problems"), *v;
	size_t i;

	json_array_foreach(q, i, v)
		fl_buf_addf(out, "%s\n", json_string_value(v));
	json_array_foreach(r, i, v)
		fl_buf_addf(out, "%s\n", fl_json_str(v, "text", ""));
	json_array_foreach(p, i, v)
		fl_buf_addf(out, "%s\n", json_string_value(v));
	if (!out->len)
		fl_buf_adds(out, fl_json_str(message, "body", fl_json_str(ticket, "content", "")));
}

/*
 * The share of the ask's keys found in the article's title, tags and the
 * section the reply quotes (its heading and steps); the subject's keys
 * count too when the ask alone has fewer than three.
 */
static double answerability(const json_t *ticket, const json_t *message, const json_t *article,
			    const json_t *response)
{
	struct support_keys ask = { .n = 0 };
	struct fl_buf ans = FL_BUF_INIT, where = FL_BUF_INIT;
	const json_t *steps = json_object_get(response, "quoted_steps"), *v;
	size_t i, hits;

	ask_text(message, ticket, &ans);
	support__keys_of_min(ans.buf, ans.len, 3, &ask);
	if (ask.n < 3)
		support__keys_of_min(fl_json_str(ticket, "subject", ""), strlen(fl_json_str(ticket, "subject", "")), 3,
				     &ask);
	fl_buf_addf(&where, "%s\n%s\n", fl_json_str(article, "title", ""), fl_json_str(response, "section", ""));
	json_array_foreach(json_object_get(article, "tags"), i, v)
		fl_buf_addf(&where, "%s\n", json_string_value(v) ? json_string_value(v) : "");
	(void)steps;
	fl_buf_adds(&where, fl_json_str(article, "content", ""));
	hits = ask.n ? support__keys_overlap_min(&ask, where.buf, where.len, 3) : 0;
	fl_buf_release(&ans);
	fl_buf_release(&where);
	return ask.n ? (double)hits / (double)ask.n : 0;
}

/* Several asks whose own searches found different relevant articles. */
static bool several_topics(const json_t *kbr)
{
	const json_t *asks = json_object_get(kbr, "asks"), *a;
	const char *first = NULL;
	size_t i;

	json_array_foreach(asks, i, a) {
		const char *top = fl_json_str(a, "top", NULL);

		if (!top || fl_json_num(a, "relevance", 0) < MIN_RELEVANCE)
			continue;
		if (!first)
			first = top;
		else if (strcmp(first, top))
			return true;
	}
	return false;
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

static bool c_outage(const struct signals *s)
{
	return support__has_cue(s->text, "outage") ||
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
	return support__has_cue(s->text, "security") ||
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
 * Upset: very negative, angry, or asking for a person; or negative and
 * frustrated with shouting (ALL CAPS, "!!").
 */
static bool c_upset(const struct signals *s)
{
	const json_t *ind = json_object_get(s->sentiment, "emotional_indicators"), *v;
	const json_t *cues = json_object_get(s->sentiment, "cues");
	const char *level = fl_json_str(s->sentiment, "sentiment", "");
	bool frustrated = false;
	size_t i;

	/* the level alone is a model's guess: very negative counts when the score agrees */
	if ((!strcmp(level, "very_negative") && fl_json_num(s->sentiment, "score", 0) <= UPSET_SCORE) ||
	    support__has_cue(s->text, "human") ||
	    fl_json_bool(cues, "human_requested", false))
		return true;
	json_array_foreach(ind, i, v) {
		if (fl_str_eq(json_string_value(v), "angry"))
			return true;
		frustrated |= fl_str_eq(json_string_value(v), "frustrated");
	}
	return frustrated && !strcmp(level, "negative") &&
	       (fl_json_int(cues, "caps_words", 0) >= 1 || fl_json_int(cues, "exclamations", 0) >= 2);
}

static bool c_no_question(const struct signals *s)
{
	return !json_array_size(json_object_get(s->message, "questions")) &&
	       !json_array_size(json_object_get(s->message, "problems"));
}

static bool c_no_article(const struct signals *s)
{
	return s->relevance < MIN_RELEVANCE || !json_array_size(json_object_get(s->response, "articles_referenced"));
}

static bool c_unclear(const struct signals *s)
{
	return s->margin < MIN_MARGIN;
}

/* Computed here, when the checks before have passed: it reads the whole article. */
static bool c_not_answered(const struct signals *s)
{
	struct signals *w = (struct signals *)s;

	w->answered = w->top ? answerability(s->ticket, s->message, s->top, s->response) : 0;
	return s->answered < MIN_ANSWERED;
}

static bool c_confidence(const struct signals *s)
{
	return s->confidence < MIN_CONFIDENCE;
}

/* A high or urgent ticket whose customer is at high risk of escalating: a person answers. */
static bool c_high_risk(const struct signals *s)
{
	const char *p = fl_json_str(s->priority, "priority", "");

	return (!strcmp(p, "urgent") || !strcmp(p, "high")) &&
	       fl_str_eq(fl_json_str(s->priority, "escalation_risk", ""), "high");
}

static const struct check checks[] = {
	{ "spam", c_spam, "the spam filter called it spam" },
	{ "automated_mail", c_automated, "automated mail (bounce, out-of-office, list): nobody to answer" },
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
	{ "unclear_article", c_unclear, "two articles fit about equally well" },
	{ "not_answered", c_not_answered, "the article's section does not cover what is asked" },
	{ "low_confidence", c_confidence, "the analysis is not confident" },
	{ "high_priority", c_high_risk, "a high-priority ticket at high risk of escalating: a person answers" },
};

json_t *support__autoreply(const struct support_autoreply_in *in)
{
	struct signals s = { 0 };
	const json_t *articles = json_object_get(in->kb_results, "articles");
	const json_t *top = json_array_get(articles, 0), *next = json_array_get(articles, 1);
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
	s.margin = s.relevance > 0 ? (s.relevance - fl_json_num(next, "relevance_score", 0)) / s.relevance : 0;
	s.confidence = fl_json_num(in->categorization, "confidence", 1);
	s.asks = json_array_size(json_object_get(in->message, "questions")) +
		 json_array_size(json_object_get(in->message, "requests"));
	s.several = several_topics(in->kb_results) || fl_json_int(in->message, "enumerated", 0) >= 2 ||
		    (fl_json_int(in->message, "enumerated", 0) == 1 &&
		     (s.asks >= 2 || json_array_size(json_object_get(in->message, "problems")) >= 2));
	s.top = top;
	s.answered = -1;   /* not measured: a check before it failed */
	for (i = 0; i < FL_ARRAY_SIZE(checks) && !failed; i++)
		if (checks[i].fails(&s))
			failed = &checks[i];
	out = json_pack("{s:b, s:s, s:s, s:{s:f, s:f, s:f, s:f, s:I, s:b}}",
			"sent", !failed,
			"reason", failed ? failed->reason : "answered",
			"detail", failed ? failed->why : "one question, answered by the article's section",
			"signals", "relevance", s.relevance, "margin", s.margin, "answered", s.answered,
			"confidence", s.confidence, "asks", (json_int_t)s.asks, "several_issues", s.several);
	if (!failed && top) {
		json_object_set_new(out, "article", json_string(fl_json_str(top, "id", "")));
		if (fl_json_str(in->response, "section", NULL))
			json_object_set(out, "section", json_object_get(in->response, "section"));
	}
	fl_buf_release(&norm);
	return out;
}

bool support__autoreply_no_handoff(const json_t *decision)
{
	const char *r = fl_json_str(decision, "reason", "");

	return !strcmp(r, "spam") || !strcmp(r, "thank_you");
}
