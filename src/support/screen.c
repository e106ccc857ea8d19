/*
 * The first look at a ticket, before it is analysed: is it spam or
 * automated mail, and what language is it written in.
 *
 * Spam, strongest word first: the mail server's verdict headers or spamd's
 * answer, recorded by email intake (metadata.email.spam, verdict "spam");
 * then the built-in model (data/models/spam.model, `frontline train spam`)
 * on the subject and content, for every channel: P(spam) >= SPAM_SURE is
 * spam (status spam, no reply, no hand-off), >= SPAM_SUSPECT a suspicion
 * (no automatic reply; a person looks). The thresholds were read off
 * `frontline eval spam` on the dev split of SpamAssassin's corpus
 * (docs/QUALITY.md, "Spam"): 0.95 flags 0.24 % of ham there and none of
 * our dev tickets. Automated mail (bounces, out-of-office, lists) is what
 * email intake's noise flags say (metadata.email.auto_reply false).
 *
 * Language: text_langid_detect on the subject and the customer's own words
 * (the message analysis's body, so that a quoted English reply does not
 * make a German ticket English).
 */
#include <string.h>

#include "support_int.h"
#include "text/text.h"

#define SPAM_SURE 0.95
#define SPAM_SUSPECT 0.5

json_t *support__spam(const struct support_analyzer *a, const json_t *ticket)
{
	const json_t *email = json_object_get(json_object_get(ticket, "metadata"), "email");
	const json_t *header = json_object_get(email, "spam");
	size_t n = text_model_nlabels(a->spam);
	double *probs = fl_calloc(n ? n : 1, sizeof(*probs)), p;
	char *text = support__ticket_text(ticket);
	const char *verdict;
	json_t *out;

	text_model_predict(a->spam, text, probs);
	p = probs[text_model_label_index(a->spam, "spam")];
	free(text);
	free(probs);
	if (fl_str_eq(fl_json_str(header, "verdict", NULL), "spam")) {
		out = json_pack("{s:s, s:s, s:f}", "verdict", "spam", "by", fl_json_str(header, "by", "mail server"),
				"probability", p);
		if (json_is_number(json_object_get(header, "score")))
			json_object_set(out, "score", json_object_get(header, "score"));
		return out;
	}
	verdict = p >= SPAM_SURE ? "spam" : p >= SPAM_SUSPECT ? "suspect" : "ham";
	out = json_pack("{s:s, s:s, s:f}", "verdict", verdict, "by", "model", "probability", p);
	if (json_is_object(email) && !fl_json_bool(email, "auto_reply", true))
		json_object_set_new(out, "automated", json_true());
	return out;
}

json_t *support__language(const struct support_analyzer *a, const json_t *ticket, const json_t *message)
{
	const char *body = fl_json_str(message, "body", NULL);
	char *text = fl_asprintf("%s\n%s", fl_json_str(ticket, "subject", ""),
				 body ? body : fl_json_str(ticket, "content", ""));
	struct text_language l;
	json_t *out;

	text_langid_detect(a->langid, text, strlen(text), &l);
	free(text);
	out = json_pack("{s:s, s:f}", "code", l.code, "confidence", l.confidence);
	if (l.runner_up[0])
		json_object_set_new(out, "runner_up", json_pack("{s:s, s:f}", "code", l.runner_up,
								"confidence", l.runner_up_confidence));
	json_object_set_new(out, "replies", json_boolean(!strcmp(l.code, SUPPORT_KB_LANGUAGE)));
	return out;
}
