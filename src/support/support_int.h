/*
 * Declarations shared by the support module's files: the analyzer's parts,
 * the policies, the built-in response writer and the node constructors.
 * All functions borrow their json_t arguments and return new references.
 */
#ifndef FL_SUPPORT_INT_H
#define FL_SUPPORT_INT_H

#include <string.h>

#include "support.h"
#include "util/util.h"

struct support_analyzer {
	struct text_model *category;
	struct text_sentiment *sentiment;
	struct text_model *spam;          /* spam.model: labels spam, ham */
	struct text_model *articles;      /* articles.model (optional): "<id>|<title>" and "none" (learned.c) */
	struct text_langid *langid;       /* libexttextcat's profiles */
	struct text_dict *dict;           /* hunspell's words of the KB's language (optional: NULL without) */
	char *models_dir;
	struct support_llm_tasks *llm_tasks;   /* for the category model's labels */
};

/* The language the knowledge base and the built-in replies are written in. */
#define SUPPORT_KB_LANGUAGE "en"

/* ---- analyzer.c: the built-in analyses ---- */

/* Whether w (lower case, NUL-terminated) is a word that carries no topic ("the", "please", "would"). */
bool support__is_stop_word(const char *w);

/* sentiment_analysis for a ticket (subject + content, metadata cues). */
json_t *support__sentiment(const struct support_analyzer *a, const json_t *ticket);
/* categorization: primary/secondary category, confidence, keywords, department. */
json_t *support__categorize(const struct support_analyzer *a, const json_t *ticket);

/* ---- learned.c: the article a model trained on answered tickets names ---- */

/* The model's best article must have this calibrated probability to agree with the search ... */
#define SUPPORT_LEARNED_MIN_PROB 0.5
/* ... and the search's top article at least this relevance (a floor: no agreement on nothing) */
#define SUPPORT_LEARNED_MIN_RELEVANCE 0.1
/*
 * {"article": id or "none", "probability", "agrees"} for text (the ticket's
 * subject and content), agrees when the best label names kb_results' top
 * article (id and title) with at least SUPPORT_LEARNED_MIN_PROB; NULL when
 * no articles.model is loaded.
 */
json_t *support__learned_article(const struct support_analyzer *a, const char *text, const json_t *kb_results);
/* Whether kb_results' "learned" agrees with its top article, which is relevant at least the floor. */
bool support__learned_agrees(const json_t *kb_results);
/*
 * support__learned_agrees, asking the model first when kb_results has no
 * "learned" yet (it is added there) and the top article reaches the floor:
 * the model runs only for a ticket it could still help.
 */
bool support__learned_ask(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results);
/* The label prefix of the kinds a person answers ("hold:outage"): scripts/train-articles */
#define SUPPORT_LEARNED_HOLD "hold:"
/* The share of the kinds held for their words that holds a ticket ... */
#define SUPPORT_LEARNED_HOLD_PROB 0.5
/* ... the probability of another article than the search's top one that holds it ... */
#define SUPPORT_LEARNED_OTHER_PROB 0.9
/* ... and that of no article, or of any kind a person answers, as the model's best label */
#define SUPPORT_LEARNED_NONE_PROB 0.99
/*
 * The kind a person answers ("outage", "angry_escalation": the likeliest of
 * those the model holds for their words) when those kinds together have at
 * least SUPPORT_LEARNED_HOLD_PROB, else NULL; the model is asked first,
 * whatever the search found, when kb_results has no "learned" yet.
 */
const char *support__learned_hold(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results);
/*
 * Whether the model's best label is not the search's top article: another
 * article with at least SUPPORT_LEARNED_OTHER_PROB, or "none" or a kind a
 * person answers (any kind: "needs_human_action" too) with at least
 * SUPPORT_LEARNED_NONE_PROB. The model is asked first when kb_results has
 * no "learned" yet.
 */
bool support__learned_disagrees(const struct support_analyzer *a, const json_t *ticket, json_t *kb_results);
/* Up to max salient keywords of text (normalized words, no stop words). */
json_t *support__keywords(const char *text, size_t max);
/* "subject\n\ncontent", the text the analyses read. Caller frees. */
char *support__ticket_text(const json_t *ticket);

/* ---- message.c: the customer's own words, and what each sentence asks ---- */

/* The words of a sentence: lower-case ASCII letters and digits with inner apostrophes, at most 23 bytes each. */
#define SUPPORT_MAX_WORDS 48
struct support_words {
	char w[SUPPORT_MAX_WORDS][24];
	size_t n;
};

/* The words of s[0..len) into out (the first SUPPORT_MAX_WORDS). */
void support__words_of(const char *s, size_t len, struct support_words *out);
/*
 * Whether word k of w is a form of one of verbs[0..n) ("wants", "wanted" of
 * "want"; "creating" of "create"): the same first three letters, then the
 * same Snowball stem (this thread's stemmer: most words never reach it); not
 * an adverb ("likely" is not "like"). Irregular forms ("made") are listed.
 */
bool support__verb_form(const struct support_words *w, size_t k, const char *const *verbs, size_t n);
/* Whether word i of w is s (the first letters compared here: most words differ there, without a call). */
static inline bool support__word_is(const struct support_words *w, size_t i, const char *s)
{
	return i < w->n && w->w[i][0] == s[0] && (!s[0] || (w->w[i][1] == s[1] && (!s[1] || !strcmp(w->w[i] + 2, s + 2))));
}

/*
 * The "message" analysis of subject and content: {"body" (the content
 * without quoted history, greeting, closing and signature), "questions"
 * [text], "requests" [{text, verb}] (staff asked to act on the account),
 * "problems" [text] (fault reports), "quoted_history", "signature",
 * "praise_only" (thanks or praise and nothing to answer), "bug_report"
 * (reproduction steps), "enumerated" (several issues listed), "sentences",
 * "acts" [one per sentence], "pleasantries", "statements" [text] (the
 * sentences that are none of these), "affected" (the most people a stated
 * failure affects, or others report it, incident.c), "disowned" (an
 * action on the account the customer disowns), "exposed" (a secret exposed
 * where others can see it)}. New reference.
 */
json_t *support__message(const char *subject, const char *content);
/* ---- incident.c: many people affected, actions disowned, secrets exposed ---- */

/* A group of people ("everyone", "the whole office") counts as this many. */
#define SUPPORT_MANY_AFFECTED 20
/*
 * How many people a sentence says a failure affects ("300 people", "none of
 * our 150 staff", "nobody in our company": SUPPORT_MANY_AFFECTED); 0 when it
 * names none or reports no failure.
 */
size_t support__affected(const struct support_words *w);
/* Whether a sentence disowns an action on the account ("someone changed", "I didn't create", "wasn't me"). */
bool support__disowned(const struct support_words *w);
/* Whether a sentence says a secret was exposed ("pushed our API key to a public repo", "the token leaked"). */
bool support__exposed(const struct support_words *w);
/* Whether a sentence says the customer sees another organisation's data ("I can see another company's tasks"). */
bool support__foreign_data(const struct support_words *w);
/*
 * Whether a body (in lower case) is a bug report: two pieces of evidence of
 * reproducing a wrong result ("reproduced twice", "tried 5 times" with "top
 * level mentions work", "returns 200" to "PATCH /v1/...", steps, versions).
 */
bool support__bug_report(const char *body);
/*
 * A request addressed to us ("could you ...", "please ...", "I need you to
 * ...") whose verb, whatever it is, acts on an account object (invoice,
 * plan, seats, ...) and does not only ask us to tell, show or help
 * (staff_request.c). *verb gets the verb.
 */
bool support__addressed_act(const struct support_words *w, const char **verb);
/* The state of an account object wished for, any participle: "we'd like the renewal pushed back". */
bool support__wanted_state(const struct support_words *w, const char **verb);

/*
 * own_words.c: the customer's own part of content into out (quoted history,
 * greeting, closing and signature set aside); *quoted and *signature say
 * whether there were any.
 */
void support__own_words(const char *content, struct fl_buf *out, bool *quoted, bool *signature);

/* Whether a sentence refers back to what was said before ("it", "they", "those"): a follow-up, not a new topic. */
bool support__refers_back(const char *sentence);

/* ---- policy.c: priority, SLA, escalation rules, satisfaction ---- */

/* priority_assignment from the ticket, analyses and CRM record (may be NULL). */
json_t *support__priority(const json_t *ticket, const json_t *customer, const json_t *sentiment,
			  const json_t *categorization);
/* The department that handles a category (customer_support for one DESIGN §5 does not name). */
const char *support__department(const char *category);
/* DESIGN §5's category i, in its order (NULL past the last), and what it covers into *covers (may be NULL). */
const char *support__category_known(size_t i, const char **covers);
/* What a DESIGN §5 category covers ("bugs, errors, outages, connection"), or NULL. */
const char *support__category_covers(const char *label);
/* Every department the policy hands tickets to (the categories', then the rules'), at most max; their number. */
size_t support__departments(const char **out, size_t max);
/* First-response SLA in seconds for a priority and customer tier. */
int64_t support__sla_seconds(const char *priority, const char *tier);
/* "15 minutes", "4 hours", "1 day"... into out. */
void support__format_duration(char *out, size_t size, int64_t seconds);
/*
 * escalation_decision by the rules table. always_check: the high-priority
 * path, where high escalation risk alone is a reason for a human.
 */
/*
 * Appends {"field", "code" (SUPPORT_FIELD_*), "message"} to errors: one
 * violation, as the ingestion rules and the macro check report them
 * (ticket.c).
 */
void support__field_error(json_t *errors, const char *field, const char *code, const char *fmt, ...)
	FL_PRINTF(4, 5);
/* The analyses a run wrote into shared, as a ticket's "analysis" object (process.c). New reference. */
json_t *support__analysis_of(const json_t *shared);
/* Whether a stored ticket has been through its workflow (neither new nor triaging). */
bool support__processed(const json_t *ticket);
/*
 * An agent's escalation by hand (shared "escalation_request": {reason,
 * level, department?, actor}) decides over the policy's: the level is the
 * decision, its urgency a floor under the policy's priority, the
 * department the request's when given, the reason the reasoning.
 */
void support__escalation_by_hand(json_t *decision, const json_t *request);
json_t *support__escalation(const json_t *ticket, const json_t *customer, const json_t *sentiment,
			    const json_t *categorization, const json_t *priority,
			    const json_t *response, bool always_check);
/* How soon a human answers an escalation of this escalation_priority, in seconds. */
int64_t support__human_response_seconds(const char *esc_priority);
/* Whether a reply may go to the customer on its own: grounded and confident. */
bool support__reply_sendable(const json_t *response);
/* The escalation_package handed to humans, from everything known. */
json_t *support__escalation_package(const json_t *shared, int64_t now_us);
/* Response quality 0..1 by the seed's rule. */
double support__response_quality(const json_t *response);
/* satisfaction_metrics by the seed's formula. */
json_t *support__satisfaction(const json_t *ticket, const json_t *sentiment, const json_t *response,
			      const json_t *escalation, int64_t now_us);
/* True when text contains one of the cue phrases of the named list. */
bool support__has_cue(const char *normalized_text, const char *list);

/* Where notifications go: a row of the routes table. */
enum support__notice_kind {
	SUPPORT__NOTICE_ESCALATION,   /* a ticket handed to humans; severity: its handoff priority */
	SUPPORT__NOTICE_ALERT,        /* a monitoring alert; severity: warning or critical */
	SUPPORT__NOTICE_UPDATE,       /* news about a ticket for the team */
	SUPPORT__NOTICE_SLA,          /* an SLA clock near its end or past it; severity: warning or breached */
};
/*
 * Assigns an escalated ticket (store_ticket_assign, inside the caller's
 * transaction: the department's mode, skills, availability and maxima; a
 * ticket with an assignee keeps it); when someone took it, *ticket is read
 * again to show the assignee. A store code.
 */
int support__assign(struct store *st, const char *ticket_id, json_t **ticket);
/* The target that stands for the ticket's assignee (when it is an email address). */
#define SUPPORT__ASSIGNEE "@assignee"
/* The target that stands for the on-call list (FRONTLINE_ONCALL_EMAILS; no notice when unset). */
#define SUPPORT__ONCALL "@oncall"
struct support__route {
	enum support__notice_kind kind;
	const char *severity;     /* NULL: any */
	const char *channel;      /* the outbox channel: "slack" or "email" */
	const char *target;       /* a Slack channel, or SUPPORT__ONCALL */
	const char *name;         /* the dedupe key's last part */
	bool last;                /* when it matches, the rows after it do not apply */
};
/* The routes of kind for severity into out (at most max), in order; their number. */
size_t support__routes(enum support__notice_kind kind, const char *severity,
		       const struct support__route **out, size_t max);

/* ---- response.c: the built-in reply writer ---- */

/*
 * Words compared by their first SUPPORT_KEY_LEN letters, a stemmer's poor
 * cousin that is enough to see "arrives" in "does not arrive" (one Snowball
 * stemmer per reply would cost more than the reply): the distinct keys of
 * the words of 4 or more letters (ASCII letters and digits) that are not
 * stop words.
 */
#define SUPPORT_KEY_LEN 5
#define SUPPORT_MAX_KEYS 96

struct support_keys {
	char k[SUPPORT_MAX_KEYS][SUPPORT_KEY_LEN + 1];
	size_t n;
};

/* Adds the keys of s[0..len) to out. */
void support__keys_of(const char *s, size_t len, struct support_keys *out);
/* The same with words of at least min letters ("api", "sso" and "vat" at 3). */
void support__keys_of_min(const char *s, size_t len, size_t min, struct support_keys *out);
/* How many of keys the text s[0..len) has. */
size_t support__keys_overlap(const struct support_keys *keys, const char *s, size_t len);
/* The same, the text's words of at least min letters. */
size_t support__keys_overlap_min(const struct support_keys *keys, const char *s, size_t len, size_t min);

/*
 * The built-in reply: grounded in the top article's section that answers
 * the message's questions, as plain text ("response", no Markdown) and an
 * HTML alternative ("response_html"); the article cited by title (and
 * linked under FRONTLINE_PUBLIC_URL); short for chat. message may be NULL.
 * An article the measures do not take is taken when the article model
 * agrees (analyzer may be NULL; support__learned_ask adds its answer to
 * kb_results).
 */
json_t *support__response_builtin(const struct support_analyzer *analyzer, const json_t *ticket,
				  const json_t *customer, const json_t *sentiment, const json_t *categorization,
				  const json_t *priority, json_t *kb_results, const json_t *message);

/* ---- format.c: Markdown made plain text or HTML ---- */

void support__html_escape(struct fl_buf *out, const char *s, size_t n);
/* s without its Markdown marks (**bold**, *em*, `code`). */
void support__md_plain(struct fl_buf *out, const char *s);
/* s as HTML: marks rendered, everything else escaped. */
void support__md_html(struct fl_buf *out, const char *s);

/* ---- screen.c: spam and language ---- */

/*
 * The spam screen: {"verdict": "spam"|"suspect"|"ham", "by": "model" or the
 * mail server's header or "spamd", "probability": P(spam) of the built-in
 * model, "automated": true for automated mail}. New reference.
 */
json_t *support__spam(const struct support_analyzer *a, const json_t *ticket);
/*
 * The language of the subject and the message's body: {"code", "confidence",
 * "runner_up", "replies": whether automatic replies are written in it}.
 */
json_t *support__language(const struct support_analyzer *a, const json_t *ticket, const json_t *message);

/* ---- autoreply.c: whether a reply goes out without a person ---- */

struct support_autoreply_in {
	const json_t *ticket, *message, *language, *spam, *sentiment, *categorization, *priority, *kb_results;
	const json_t *response;
	const struct support_analyzer *analyzer;   /* for the article model (learned.c); may be NULL */
};

/*
 * The decision: {"sent", "reason" ("answered" or why not), "detail",
 * "signals" {relevance, margin, answered, confidence, asks, several_issues},
 * "article", "section"}. Any input but ticket may be NULL. New reference.
 */
json_t *support__autoreply(const struct support_autoreply_in *in);
/*
 * Whether the top article of knowledge_base_results answers what the
 * ticket asks well enough to quote: relevance >= SUPPORT_MIN_RELEVANCE, or
 * a lower relevance with the asks' own parts of the search well answered
 * and a clear lead over the next article, and most of the asks' words in
 * the article. The reply writer grounds on it. message may be NULL.
 */
bool support__article_fits(const json_t *kb_results, const json_t *ticket, const json_t *message);
/* Whether the decision needs nobody: spam and thank-you notes. */
bool support__autoreply_no_handoff(const json_t *decision);
/* Relevance below which a KB article does not ground a reply. */
#define SUPPORT_MIN_RELEVANCE 0.25
/* Analyzer confidence below which a human should review. */
#define SUPPORT_MIN_CONFIDENCE 0.40

/* ---- llm_path.c: the nodes' LLM path (two calls per ticket) ---- */

/*
 * One triage call: *sentiment is the sentiment_analysis (with the LLM's
 * priority/escalation "signals"), *triage the whole validated reply. Returns
 * 0, or -1 with *err; *call is the call's accounting whenever a request went
 * out (also on failure), else NULL. All new references / caller frees.
 */
int support__llm_triage(struct llm_client *llm, const struct support_llm_tasks *tasks, const json_t *ticket,
			const json_t *customer, json_t **sentiment, json_t **triage, json_t **call, char **err);
/* The categorization from a triage reply, in the built-in analyzer's shape. */
json_t *support__llm_categorization(const json_t *triage);
/*
 * One respond call from the response node's prep (ticket, customer, analyses,
 * knowledge_base_results): the articles above SUPPORT_MIN_RELEVANCE are the
 * ones it may cite. Same conventions as support__llm_triage.
 */
int support__llm_respond(struct llm_client *llm, const struct support_llm_tasks *tasks, const json_t *prep,
			 json_t **response, json_t **call, char **err);
/* Adds a call's accounting to shared["llm_usage"] (calls, tokens, cost ...). */
void support__llm_usage_add(json_t *shared, const json_t *call);
/*
 * The built-in floor under an LLM's triage (see llm_path.c). The sentiment
 * node, after a triage call decided: the built-in analyses of the ticket go
 * under sentiment["builtin"] and its urgency is raised to theirs. The
 * priority node: priority is raised to the built-in priority (and escalation
 * risk) when higher. The escalation node: *decision (replaced, old reference
 * released) becomes the built-in one when that is higher, and a strong
 * disagreement on urgency, priority or escalation routes it to a human.
 * Each does nothing when no triage call decided; each notes what it changed
 * in call's trace.
 */
void support__llm_floor_sentiment(const struct support_analyzer *a, const json_t *ticket, json_t *sentiment);
void support__llm_floor_priority(struct flow_call *call, const json_t *prep, json_t *priority);
void support__llm_floor_escalation(struct flow_call *call, const json_t *prep, bool always_check,
				   json_t **decision);

/* ---- nodes.c: the nine nodes ---- */

struct flow_node *support__node_ingestion(void);
struct flow_node *support__node_sentiment(void);
struct flow_node *support__node_categorization(void);
struct flow_node *support__node_priority(void);
struct flow_node *support__node_kb_search(void);   /* kbsearch.c */
struct flow_node *support__node_response(bool high_priority);
struct flow_node *support__node_escalation(bool always_check);
struct flow_node *support__node_human_escalation(void);
struct flow_node *support__node_satisfaction(void);
/* The context of a call, or NULL with the call failed when the run has none. */
struct support_ctx *support__ctx(struct flow_call *call);
/* Marks a node's result, and its step in the trace, as the built-in path's ("path": "builtin"). */
void support__mark_builtin(struct flow_call *call, json_t *result);

/* ---- monitoring.c: the real_time_monitoring workflow's nodes ---- */

struct flow_node *support__node_metrics_collector(void);
struct flow_node *support__node_alert_generator(void);
struct flow_node *support__node_notification_sender(void);

/* ---- batch.c: the batch_processing workflow's nodes ---- */

struct flow_node *support__node_batch_process(int max_workers);
struct flow_node *support__node_batch_summary(void);

/* ---- graphs.c ---- */

struct flow_node *support__build_customer_support(void);
struct flow_node *support__build_high_priority(void);

#endif
