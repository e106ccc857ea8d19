/*
 * The policies of DESIGN §5, each as data in one place:
 * - the priority score: one weighted factor per signal, summed, with each
 *   factor's contribution reported so an agent sees why;
 * - the SLA table (first response by priority and customer tier);
 * - the categories DESIGN §5 names (what each covers, its department), and
 *   the departments the rules hand to;
 * - the escalation rules table, evaluated in order of severity;
 * - where notifications go: the Slack channel per kind and severity, and
 *   when the on-call list is mailed (the routes table; notice.c builds them);
 * - the seed's satisfaction and response-quality formulas.
 * Text cues (outage, legal, security, a request for a human) are phrase lists
 * matched on word boundaries in case-folded text.
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "support_int.h"
#include "sla/sla.h"
#include "text/text.h"

/* ---- cue phrases ---- */

struct cue_list {
	const char *name;
	const char *const *phrases;
};

static const char *const cue_outage[] = {
	"outage", "down for everyone", "system down", "systems down", "is down", "went down",
	"not loading for anyone", "all users", "entire team", "whole company", "production down",
	"service unavailable", "complete outage", "total outage", "cannot access anything", NULL,
};
static const char *const cue_legal[] = {
	"lawyer", "lawyers", "attorney", "lawsuit", "legal action", "sue", "suing", "court", "subpoena",
	"gdpr", "data protection authority", "small claims", "breach of contract", NULL,
};
/* "stolen" alone is not here: a stolen phone is a lost two-factor device, not an account incident */
static const char *const cue_security[] = {
	"hacked", "breach", "breached", "data breach", "compromised", "unauthorized", "unauthorised",
	"phishing", "fraud", "fraudulent", "identity theft", "someone logged into", "someone logged in",
	"suspicious login", "suspicious activity", "account takeover", "leaked", "leak", "vulnerability",
	"security issue", "security hole", "exploit", "stolen password", "stolen account", NULL,
};
static const char *const cue_human[] = {
	"speak to a human", "talk to a human", "speak to a person", "talk to a person",
	"real person", "speak to someone", "talk to someone", "speak to a manager",
	"talk to a manager", "your supervisor", "human agent", "live agent", "call me",
	"escalate this",
	/* someone above the first answer: "an escalation to someone senior", "get me a manager" */
	"escalate it", "escalate my", "escalate to", "escalation to", "escalated to", "someone senior",
	"somebody senior", "more senior", "want a manager", "get me a manager", "a supervisor",
	/* to be contacted: "can someone get in touch?", "if nobody calls her back" */
	"get in touch with me", "someone get in touch", "someone to get in touch", "someone contact me",
	"someone to contact me", "somebody contact me", "call me back", "call her back", "call him back", "call us back", "calls me back",
	"calls her back", "calls him back", "calls us back", "a call back", NULL,
};
/*
 * Upset beyond what the words' sentiment shows: a threat to leave or go
 * public ("or we will start looking at alternatives", "she'll go to the
 * press"), and an agent's note of how the call went ("caller very upset",
 * "raised voice throughout").
 */
static const char *const cue_upset[] = {
	"looking at alternatives", "look at alternatives", "looking for alternatives", "look for alternatives",
	"go to the press", "going to the press", "the press", "social media", "post reviews", "bad review",
	"switch to a competitor", "move to a competitor", "moving to a competitor", "take our business elsewhere",
	"take my business elsewhere", "very upset", "caller upset", "customer upset", "was upset", "is upset",
	"raised voice", "raised her voice", "raised his voice", "shouting", "yelling", "very angry", "furious",
	"irate", NULL,
};
static const char *const cue_acknowledge[] = {
	"understand", "sorry", "apologize", "apologise", "apologies", "thank", "thanks",
	"appreciate", NULL,
};

static const struct cue_list cue_lists[] = {
	{ "outage", cue_outage },
	{ "legal", cue_legal },
	{ "security", cue_security },
	{ "human", cue_human },
	{ "upset", cue_upset },
	{ "acknowledge", cue_acknowledge },
};

static bool word_char(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/* phrase occurs in text with a word boundary on both sides */
static bool contains_phrase(const char *text, const char *phrase)
{
	size_t n = strlen(phrase);
	const char *p = text;

	while ((p = strstr(p, phrase))) {
		if ((p == text || !word_char((unsigned char)p[-1])) && !word_char((unsigned char)p[n]))
			return true;
		p++;
	}
	return false;
}

bool support__has_cue(const char *text, const char *list)
{
	size_t i, j;

	for (i = 0; i < FL_ARRAY_SIZE(cue_lists); i++) {
		if (strcmp(cue_lists[i].name, list))
			continue;
		for (j = 0; cue_lists[i].phrases[j]; j++)
			if (contains_phrase(text, cue_lists[i].phrases[j]))
				return true;
	}
	return false;
}

/* ---- helpers ---- */

static const char *sentiment_level(const json_t *sentiment)
{
	return fl_json_str(sentiment, "sentiment", "neutral");
}

static const char *customer_tier(const json_t *ticket, const json_t *customer)
{
	const json_t *meta = json_object_get(ticket, "metadata");

	return fl_json_str(meta, "customer_tier", fl_json_str(customer, "tier", "standard"));
}

/*
 * The LLM's triage signals (sentiment_analysis.signals: outage,
 * legal_threat, security_incident, human_requested, users_affected) when an
 * LLM triaged the ticket. They add to the text cues; they never remove one.
 */
static bool llm_signal(const json_t *sentiment, const char *name)
{
	return fl_json_bool(json_object_get(sentiment, "signals"), name, false);
}

static int64_t users_affected(const json_t *ticket, const json_t *sentiment)
{
	int64_t meta = fl_json_int(json_object_get(ticket, "metadata"), "users_affected", 0);
	int64_t llm = fl_json_int(json_object_get(sentiment, "signals"), "users_affected", 0);

	return llm > meta ? llm : meta;
}

/* "high"/"medium"/"low", or a number of dollars, into a level 0..3. */
static int revenue_level(const json_t *ticket)
{
	const json_t *v = json_object_get(json_object_get(ticket, "metadata"), "revenue_impact");
	const char *s;

	if (json_is_number(v)) {
		double d = json_number_value(v);

		return d >= 10000 ? 3 : d >= 1000 ? 2 : d > 0 ? 1 : 0;
	}
	s = json_string_value(v);
	if (!s)
		return 0;
	if (!strcmp(s, "critical") || !strcmp(s, "high"))
		return 3;
	if (!strcmp(s, "medium"))
		return 2;
	return !strcmp(s, "low") ? 1 : 0;
}

static char *normalized_text(const json_t *ticket)
{
	char *raw = support__ticket_text(ticket);
	struct fl_buf b = FL_BUF_INIT;

	text_normalize(raw, strlen(raw), &b);
	free(raw);
	return fl_buf_detach(&b, NULL);
}

/* ---- priority ---- */

struct factor {
	const char *name;
	char value[48];
	double points;
};

static void add_factor(struct factor *f, size_t *n, const char *name, const char *value, double points)
{
	if (points == 0)
		return;
	f[*n].name = name;
	fl_strlcpy(f[*n].value, value, sizeof(f[*n].value));
	f[*n].points = points;
	(*n)++;
}

static double sentiment_points(const char *level)
{
	static const struct { const char *level; double points; } table[] = {
		{ "very_negative", 20 }, { "negative", 10 }, { "neutral", 0 },
		{ "positive", -5 }, { "very_positive", -5 },
	};
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].level, level))
			return table[i].points;
	return 0;
}

static double category_points(const char *category)
{
	static const struct { const char *category; double points; } table[] = {
		{ "technical", 10 }, { "billing", 8 }, { "account", 8 }, { "product", 0 }, { "general", -5 },
	};
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].category, category))
			return table[i].points;
	return 0;
}

/* Score thresholds: score >= min gives the priority. */
static const struct { const char *priority; double min; } priority_bands[] = {
	{ "urgent", 70 }, { "high", 45 }, { "medium", 20 }, { "low", -1000 },
};

json_t *support__priority(const json_t *ticket, const json_t *customer, const json_t *sentiment,
			  const json_t *categorization)
{
	const json_t *meta = json_object_get(ticket, "metadata");
	const char *level = sentiment_level(sentiment);
	const char *urgency = fl_json_str(sentiment, "urgency", "low");
	const char *category = fl_json_str(categorization, "primary_category", "general");
	const char *tier = customer_tier(ticket, customer);
	const char *priority = "low";
	struct factor f[12];
	size_t n = 0, i;
	double score = 0, positive = 0, csat;
	int64_t prev, users, recent, open;
	int revenue;
	char buf[48], sla[32];
	struct fl_buf reason = FL_BUF_INIT;
	json_t *out, *factors = json_array();
	const char *risk;

	add_factor(f, &n, "sentiment", level, sentiment_points(level));
	add_factor(f, &n, "urgency", urgency,
		   !strcmp(urgency, "high") ? 15 : !strcmp(urgency, "medium") ? 8 : 0);
	add_factor(f, &n, "category", category, category_points(category));
	add_factor(f, &n, "customer_tier", tier,
		   !strcmp(tier, "enterprise") ? 20 : !strcmp(tier, "premium") ? 10 : 0);
	prev = fl_json_int(meta, "previous_interactions", fl_json_int(customer, "total_tickets", 0));
	snprintf(buf, sizeof(buf), "%lld", (long long)prev);
	add_factor(f, &n, "previous_interactions", buf, 1.5 * (double)(prev > 5 ? 5 : prev < 0 ? 0 : prev));
	csat = fl_json_num(meta, "satisfaction_history", fl_json_num(customer, "satisfaction_score", -1));
	if (csat >= 0) {
		snprintf(buf, sizeof(buf), "%.2f", csat);
		add_factor(f, &n, "satisfaction_history", buf, csat < 0.7 ? 10 : csat < 0.8 ? 5 : 0);
	}
	if (fl_json_bool(meta, "urgent_flag", false))
		add_factor(f, &n, "urgent_flag", "true", 15);
	users = users_affected(ticket, sentiment);
	snprintf(buf, sizeof(buf), "%lld", (long long)users);
	add_factor(f, &n, "users_affected", buf, users >= 1000 ? 30 : users >= 100 ? 25 : users >= 10 ? 10 : 0);
	revenue = revenue_level(ticket);
	add_factor(f, &n, "revenue_impact", revenue == 3 ? "high" : revenue == 2 ? "medium" : "low",
		   revenue == 3 ? 20 : revenue == 2 ? 10 : 0);

	for (i = 0; i < n; i++) {
		score += f[i].points;
		if (f[i].points > 0)
			positive += f[i].points;
	}
	if (score > 100)
		score = 100;
	for (i = 0; i < FL_ARRAY_SIZE(priority_bands); i++) {
		if (score >= priority_bands[i].min) {
			priority = priority_bands[i].priority;
			break;
		}
	}
	fl_buf_addf(&reason, "score %.0f/100 -> %s", score < 0 ? 0 : score, priority);
	for (i = 0; i < n; i++) {
		double share = f[i].points > 0 && positive > 0 ? f[i].points / positive : 0;

		fl_buf_addf(&reason, "%s %s=%s %+.1f", i ? ";" : ":", f[i].name, f[i].value, f[i].points);
		if (share > 0)
			fl_buf_addf(&reason, " (%.0f%%)", 100 * share);
		json_array_append_new(factors, json_pack("{s:s, s:s, s:f, s:f}",
			"factor", f[i].name, "value", f[i].value, "points", f[i].points,
			"share", round(share * 1000) / 1000));
	}
	if (!n)
		fl_buf_adds(&reason, ": no factor raised it");
	/*
	 * Escalation risk reads recent volume and open tickets, not the
	 * lifetime count: a customer of many years is not at risk for it, one
	 * who wrote three times this month or has two tickets still open is.
	 */
	recent = fl_json_int(meta, "recent_tickets", 0);
	open = fl_json_int(meta, "open_tickets", 0);
	risk = score >= 60 || !strcmp(level, "very_negative") || recent >= 3 || open >= 2 ? "high"
	       : score >= 35 || !strcmp(level, "negative") || recent >= 2 || open >= 1 ? "medium" : "low";
	support__format_duration(sla, sizeof(sla), support__sla_seconds(priority, tier));
	out = json_pack("{s:s, s:s, s:o, s:s, s:I, s:s, s:f}",
			"priority", priority,
			"reasoning", reason.buf,
			"factors_considered", factors,
			"recommended_response_time", sla,
			"recommended_response_time_s", (json_int_t)support__sla_seconds(priority, tier),
			"escalation_risk", risk,
			"score", score < 0 ? 0.0 : score);
	fl_buf_release(&reason);
	return out;
}

/* ---- SLA ---- */

/* The table lives with the SLA arithmetic (sla_default_seconds); the policies start from it. */
int64_t support__sla_seconds(const char *priority, const char *tier)
{
	return sla_default_seconds(priority, tier);
}

void support__format_duration(char *out, size_t size, int64_t s)
{
	if (s < 3600)
		snprintf(out, size, "%lld minutes", (long long)((s + 59) / 60));
	else if (s < 2 * 86400)
		snprintf(out, size, "%lld hour%s", (long long)(s / 3600), s / 3600 == 1 ? "" : "s");
	else
		snprintf(out, size, "%lld days", (long long)(s / 86400));
}

/* ---- categories and departments ---- */

/*
 * DESIGN §5's categories, in its order: what each covers (the LLM's
 * instructions say it) and the department that handles it. The label set
 * itself is configuration (the category model's labels); a label not listed
 * here goes to customer_support.
 */
static const struct {
	const char *label, *covers, *department;
} categories[] = {
	{ "technical", "bugs, errors, outages, connection", "technical_support" },
	{ "billing", "payment, subscription, invoice, refund", "billing" },
	{ "account", "access, login, password, profile, settings", "account_management" },
	{ "product", "features, usage, how-to", "product_support" },
	{ "general", "inquiries, feedback, other", "customer_support" },
};

static int category_index(const char *label)
{
	size_t i;

	for (i = 0; label && i < FL_ARRAY_SIZE(categories); i++)
		if (!strcmp(categories[i].label, label))
			return (int)i;
	return -1;
}

const char *support__department(const char *category)
{
	int i = category_index(category);

	return i >= 0 ? categories[i].department : "customer_support";
}

const char *support__category_known(size_t i, const char **covers)
{
	if (i >= FL_ARRAY_SIZE(categories))
		return NULL;
	if (covers)
		*covers = categories[i].covers;
	return categories[i].label;
}

const char *support__category_covers(const char *label)
{
	int i = category_index(label);

	return i >= 0 ? categories[i].covers : NULL;
}

/* ---- escalation rules ---- */

struct esc_input {
	const char *sentiment, *priority, *category, *tier, *risk, *department;
	const char *withheld;     /* the automatic reply's reason when it was not sent (autoreply.c), or NULL */
	int64_t users;
	double confidence;
	bool outage, legal, security, human, needed, always_check, auto_sent;
};

struct esc_rule {
	const char *name;
	bool (*match)(const struct esc_input *in);
	const char *decision;     /* no_escalation, tier_2, specialist, manager, emergency */
	const char *priority;     /* NULL: from the ticket's priority */
	const char *department;   /* NULL: the category's department */
	bool hold_reply;          /* a human answers first: no automatic reply goes out */
	const char *reason;
};

static bool r_spam(const struct esc_input *in)
{
	return fl_str_eq(in->withheld, "spam");
}

static bool r_thanks(const struct esc_input *in)
{
	return fl_str_eq(in->withheld, "thank_you");
}

static bool r_language(const struct esc_input *in)
{
	return fl_str_eq(in->withheld, "not_english");
}

static bool r_outage(const struct esc_input *in)
{
	return in->users >= 100 && (in->outage || !strcmp(in->category, "technical"));
}

static bool r_legal(const struct esc_input *in)
{
	return in->legal;
}

static bool r_security(const struct esc_input *in)
{
	return in->security;
}

static bool r_very_negative_urgent(const struct esc_input *in)
{
	return !strcmp(in->sentiment, "very_negative") && !strcmp(in->priority, "urgent");
}

static bool r_technical_enterprise(const struct esc_input *in)
{
	return !strcmp(in->category, "technical") && !strcmp(in->tier, "enterprise");
}

static bool r_human(const struct esc_input *in)
{
	return in->human;
}

static bool r_low_confidence(const struct esc_input *in)
{
	return in->confidence < SUPPORT_MIN_CONFIDENCE;
}

static bool r_ungrounded(const struct esc_input *in)
{
	return in->needed;
}

static bool r_high_risk(const struct esc_input *in)
{
	return in->always_check && !strcmp(in->risk, "high");
}

/* In order of severity: the first rule that matches decides. */
static const struct esc_rule esc_rules[] = {
	{ "spam", r_spam, "no_escalation", NULL, NULL, true, "spam: listed for review, nobody answers" },
	{ "thank_you", r_thanks, "no_escalation", NULL, NULL, true, "a thank-you note: nothing to answer" },
	{ "outage_many_users", r_outage, "emergency", "critical", "engineering_oncall", true,
	  "outage affecting many users" },
	{ "legal_threat", r_legal, "manager", "high", "legal", true,
	  "legal words in the ticket: a manager and legal must review" },
	{ "security_incident", r_security, "specialist", "high", "security", true,
	  "possible security incident" },
	{ "not_english", r_language, "tier_2", NULL, "multilingual_support", true,
	  "written in a language the automatic replies are not written in: a language-capable queue" },
	{ "very_negative_urgent", r_very_negative_urgent, "manager", "critical", "senior_support", true,
	  "very negative sentiment on an urgent ticket" },
	{ "technical_enterprise", r_technical_enterprise, "specialist", NULL, "technical_specialist", false,
	  "technical issue for an enterprise customer" },
	{ "human_requested", r_human, "tier_2", NULL, NULL, false, "the customer asked for a human" },
	{ "low_confidence", r_low_confidence, "tier_2", NULL, "human_review", false,
	  "the analyzer is not confident enough to answer alone" },
	{ "reply_withheld", r_ungrounded, "tier_2", NULL, NULL, false,
	  "the automatic reply was withheld" },
	{ "high_escalation_risk", r_high_risk, "tier_2", NULL, NULL, false,
	  "high-priority ticket with high escalation risk" },
};

size_t support__departments(const char **out, size_t max)
{
	size_t i, k, n = 0;

	for (i = 0; i < FL_ARRAY_SIZE(categories) + FL_ARRAY_SIZE(esc_rules); i++) {
		const char *d = i < FL_ARRAY_SIZE(categories) ? categories[i].department
			: esc_rules[i - FL_ARRAY_SIZE(categories)].department;

		for (k = 0; d && k < n && strcmp(out[k], d); k++)
			;
		if (d && k == n && n < max)
			out[n++] = d;
	}
	return n;
}

static const char *escalation_priority_of(const char *priority)
{
	if (!strcmp(priority, "urgent"))
		return "critical";
	if (!strcmp(priority, "high"))
		return "high";
	return !strcmp(priority, "medium") ? "medium" : "low";
}

int64_t support__human_response_seconds(const char *esc_priority)
{
	if (!strcmp(esc_priority, "critical"))
		return 15 * 60;
	if (!strcmp(esc_priority, "high"))
		return 3600;
	return !strcmp(esc_priority, "medium") ? 4 * 3600 : 24 * 3600;
}

bool support__reply_sendable(const json_t *response)
{
	const json_t *decision = json_object_get(response, "auto_reply");

	if (!json_is_object(response))
		return false;
	/* the decision of autoreply.c; older analyses say only whether a human is needed */
	if (json_is_object(decision))
		return fl_json_bool(decision, "sent", false);
	return fl_json_bool(response, "grounded", !fl_json_bool(response, "escalation_needed", false));
}

json_t *support__escalation(const json_t *ticket, const json_t *customer, const json_t *sentiment,
			    const json_t *categorization, const json_t *priority,
			    const json_t *response, bool always_check)
{
	struct esc_input in;
	char *text = normalized_text(ticket), when[32];
	const struct esc_rule *rule = NULL;
	const char *esc_priority, *department, *decision;
	double sconf = fl_json_num(sentiment, "confidence", 1), cconf;
	json_t *matched = json_array(), *out;
	size_t i;

	cconf = fl_json_num(categorization, "confidence", 1);
	in.sentiment = sentiment_level(sentiment);
	in.priority = fl_json_str(priority, "priority", "medium");
	in.category = fl_json_str(categorization, "primary_category", "general");
	in.tier = customer_tier(ticket, customer);
	in.risk = fl_json_str(priority, "escalation_risk", "low");
	in.department = fl_json_str(categorization, "suggested_department", support__department(in.category));
	in.users = users_affected(ticket, sentiment);
	in.confidence = sconf < cconf ? sconf : cconf;
	in.outage = support__has_cue(text, "outage") || llm_signal(sentiment, "outage");
	in.legal = support__has_cue(text, "legal") || llm_signal(sentiment, "legal_threat");
	in.security = support__has_cue(text, "security") || llm_signal(sentiment, "security_incident");
	in.human = support__has_cue(text, "human") || llm_signal(sentiment, "human_requested");
	in.needed = fl_json_bool(response, "escalation_needed", false);
	in.withheld = json_is_object(json_object_get(response, "auto_reply")) &&
		      !fl_json_bool(json_object_get(response, "auto_reply"), "sent", true)
		      ? fl_json_str(json_object_get(response, "auto_reply"), "reason", NULL) : NULL;
	in.always_check = always_check;
	in.auto_sent = fl_json_bool(json_object_get(response, "auto_reply"), "sent", false);

	for (i = 0; i < FL_ARRAY_SIZE(esc_rules); i++) {
		if (!esc_rules[i].match(&in))
			continue;
		json_array_append_new(matched, json_string(esc_rules[i].name));
		/*
		 * An answer that autoreply.c let go out needs nobody (issue 15): the
		 * rules that would only have a person look too (technical_enterprise,
		 * low_confidence, ...) are listed but do not decide; the ones that
		 * hold a reply cannot match what autoreply.c sent.
		 */
		if (!rule && !(in.auto_sent && !esc_rules[i].hold_reply))
			rule = &esc_rules[i];
	}
	decision = rule ? rule->decision : "no_escalation";
	esc_priority = rule && rule->priority ? rule->priority : escalation_priority_of(in.priority);
	department = rule && rule->department ? rule->department : in.department;
	support__format_duration(when, sizeof(when), support__human_response_seconds(esc_priority));
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:o}",
			"escalation_decision", decision,
			"reasoning", rule && rule->match == r_ungrounded && in.withheld
				     ? fl_json_str(json_object_get(response, "auto_reply"), "detail", rule->reason)
				     : rule ? rule->reason : "no escalation rule matched: the reply can go out",
			"escalation_priority", esc_priority,
			"assigned_department", department,
			"estimated_human_response_time", rule ? when : "n/a",
			"auto_response_sent", support__reply_sendable(response) && !(rule && rule->hold_reply),
			"rule", rule ? rule->name : NULL,
			"rules_matched", matched);
	free(text);
	return out;
}

const char *const support_escalation_levels[] = { "tier_2", "specialist", "manager", "emergency", NULL };

void support__escalation_by_hand(json_t *decision, const json_t *request)
{
	const char *level = fl_json_str(request, "level", "tier_2");
	const char *dept = fl_json_str(request, "department", NULL);
	const char *prio = fl_json_str(decision, "escalation_priority", "medium");
	char when[32], *why;

	if (!json_is_object(request))
		return;
	/* the level sets a floor under the urgency the policy found */
	if (!strcmp(level, "emergency"))
		prio = "critical";
	else if ((!strcmp(level, "manager") || !strcmp(level, "specialist")) && strcmp(prio, "critical"))
		prio = "high";
	prio = fl_strdup(prio);
	support__format_duration(when, sizeof(when), support__human_response_seconds(prio));
	why = fl_asprintf("escalated by hand by %s: %s", fl_json_str(request, "actor", "an agent"),
			  fl_json_str(request, "reason", ""));
	json_object_set_new(decision, "escalation_decision", json_string(level));
	json_object_set_new(decision, "escalation_priority", json_string(prio));
	if (dept)
		json_object_set_new(decision, "assigned_department", json_string(dept));
	json_object_set_new(decision, "reasoning", json_string(why));
	json_object_set_new(decision, "estimated_human_response_time", json_string(when));
	json_object_set_new(decision, "auto_response_sent", json_false());
	json_object_set_new(decision, "rule", json_string("by_hand"));
	json_object_set(decision, "request", (json_t *)request);
	free((char *)prio);
	free(why);
}

/*
 * The KB results as the hand-off carries them: each article by id, title,
 * category and relevance, without its content. The agent opens an article
 * by id; the ticket's own knowledge_base_results keep the contents, so the
 * package does not store every article body a second time (they were about
 * two thirds of an escalated ticket's analysis).
 */
static json_t *kb_results_brief(const json_t *kbr)
{
	json_t *articles = json_object_get(kbr, "articles"), *a, *brief, *list;
	size_t i;

	if (!json_is_object(kbr))
		return NULL;
	brief = json_copy((json_t *)kbr); /* shallow: the small values are shared, not copied */
	list = json_array();
	json_array_foreach(articles, i, a) {
		json_t *item = json_copy(a);

		json_object_del(item, "content");
		json_array_append_new(list, item);
	}
	json_object_set_new(brief, "articles", list);
	return brief;
}

json_t *support__escalation_package(const json_t *shared, int64_t now_us)
{
	const json_t *ticket = json_object_get(shared, "ticket");
	const json_t *decision = json_object_get(shared, "escalation_decision");
	const json_t *customer = json_object_get(shared, "customer");
	char ts[32], when[32];
	const char *esc_priority = fl_json_str(decision, "escalation_priority", "medium");
	json_t *summary, *package;

	fl_time_rfc3339(ts, now_us);
	support__format_duration(when, sizeof(when), support__human_response_seconds(esc_priority));
	summary = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}",
			    "ticket_id", fl_json_str(ticket, "id", NULL),
			    "customer_id", fl_json_str(ticket, "customer_id", NULL),
			    "customer_name", fl_json_str(customer, "name", NULL),
			    "customer_tier", customer_tier(ticket, customer),
			    "subject", fl_json_str(ticket, "subject", NULL),
			    "channel", fl_json_str(ticket, "channel", NULL));
	package = json_pack("{s:o, s:s, s:O?, s:O?, s:O?, s:o?, s:O?, s:O?, s:s?}",
			    "ticket_summary", summary,
			    "content", fl_json_str(ticket, "content", ""),
			    "sentiment_analysis", json_object_get(shared, "sentiment_analysis"),
			    "categorization", json_object_get(shared, "categorization"),
			    "priority_assignment", json_object_get(shared, "priority_assignment"),
			    "knowledge_base_results", kb_results_brief(json_object_get(shared, "knowledge_base_results")),
			    "draft_response", json_object_get(shared, "generated_response"),
			    "escalation_decision", decision,
			    "reason", fl_json_str(decision, "reasoning", NULL));
	return json_pack("{s:o, s:s, s:s, s:s, s:s}",
			 "escalation_package", package,
			 "handoff_priority", esc_priority,
			 "assigned_department", fl_json_str(decision, "assigned_department", "customer_support"),
			 "estimated_response_time", when,
			 "handoff_timestamp", ts);
}

/* ---- where notifications go ---- */

/*
 * Per kind, in order: every row whose severity matches (NULL: any) applies,
 * and a matching row marked last ends the list. The notices of one
 * occurrence are queued in this order.
 */
static const struct support__route routes[] = {
	/* a ticket handed to humans; critical ones wake the on-call list too */
	{ SUPPORT__NOTICE_ESCALATION, NULL, "slack", "#support-escalations", "escalated", false },
	{ SUPPORT__NOTICE_ESCALATION, "critical", "slack", "#support-alerts", "urgent_alert", false },
	{ SUPPORT__NOTICE_ESCALATION, "critical", "email", SUPPORT__ONCALL, "oncall_email", false },
	/* a monitoring alert (DESIGN §5: an urgent one by email to on-call and to #support-alerts) */
	{ SUPPORT__NOTICE_ALERT, "critical", "slack", "#support-alerts", "alert", false },
	{ SUPPORT__NOTICE_ALERT, "critical", "email", SUPPORT__ONCALL, "alert", true },
	{ SUPPORT__NOTICE_ALERT, NULL, "slack", "#support-monitoring", "alert", false },
	/* news about a ticket for the team (the demo's resolved ticket) */
	{ SUPPORT__NOTICE_UPDATE, NULL, "slack", "#support-updates", "resolved_slack", false },
	/* SLA clocks (issue 18): the assignee by email, the escalations channel; breaches to #support-alerts too */
	{ SUPPORT__NOTICE_SLA, NULL, "email", SUPPORT__ASSIGNEE, "sla_assignee", false },
	{ SUPPORT__NOTICE_SLA, NULL, "slack", "#support-escalations", "sla_slack", false },
	{ SUPPORT__NOTICE_SLA, "breached", "slack", "#support-alerts", "sla_alert", false },
};

size_t support__routes(enum support__notice_kind kind, const char *severity,
		       const struct support__route **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < FL_ARRAY_SIZE(routes) && n < max; i++) {
		if (routes[i].kind != kind || (routes[i].severity && !fl_str_eq(routes[i].severity, severity)))
			continue;
		out[n++] = &routes[i];
		if (routes[i].last)
			break;
	}
	return n;
}

/* ---- satisfaction (the seed's formulas) ---- */

double support__response_quality(const json_t *response)
{
	const char *text = fl_json_str(response, "response", "");
	const char *tone = fl_json_str(response, "tone", "");
	struct fl_buf norm = FL_BUF_INIT;
	double q = 0.5;

	if (!response)
		return 0;
	text_normalize(text, strlen(text), &norm);
	if (support__has_cue(norm.buf, "acknowledge"))
		q += 0.1;
	if (json_array_size(json_object_get(response, "next_steps")) > 0)
		q += 0.2;
	if (strstr(tone, "empathetic") || strstr(tone, "professional"))
		q += 0.2;
	fl_buf_release(&norm);
	return q > 1 ? 1 : q;
}

json_t *support__satisfaction(const json_t *ticket, const json_t *sentiment, const json_t *response,
			      const json_t *escalation, int64_t now_us)
{
	const char *level = sentiment_level(sentiment);
	const char *decision = fl_json_str(escalation, "escalation_decision", "no_escalation");
	bool escalated = strcmp(decision, "no_escalation") != 0;
	double score = 0.7, quality = support__response_quality(response);
	int64_t created, resolution;

	if (fl_time_parse(fl_json_str(ticket, "created_at", ""), &created))
		created = now_us;
	resolution = (now_us - created) / 1000000;
	if (resolution < 0)
		resolution = 0;
	/* an escalated ticket is resolved by a human: count the promised response time */
	if (escalated)
		resolution += support__human_response_seconds(fl_json_str(escalation, "escalation_priority", "medium"));
	if (resolution <= 300)
		score += 0.1;
	else if (resolution > 3600)
		score -= 0.1;
	if (!strcmp(level, "negative") || !strcmp(level, "very_negative") || !strcmp(level, "neutral"))
		score += 0.1;
	if (!escalated)
		score += 0.05;
	if (quality > 0.8)
		score += 0.05;
	score = score < 0 ? 0 : score > 1 ? 1 : score;
	return json_pack("{s:f, s:I, s:f, s:f, s:s}",
			 "satisfaction_score", round(score * 1000) / 1000,
			 "resolution_time", (json_int_t)resolution,
			 "escalation_rate", escalated ? 1.0 : 0.0,
			 "response_quality", round(quality * 1000) / 1000,
			 "basis", "estimate");
}
