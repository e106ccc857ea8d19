/*
 * Two readings of a customer's sentence that decide whether a reply may go
 * out alone, beside the cue lists of the escalation rules (policy.c):
 *
 * - how many people a stated failure affects: a count ("300 people", "none
 *   of our 150 field staff", "a 120-person company") or a group ("nobody in
 *   our company", "the whole office", "everyone"), when the same sentence
 *   reports a failure or says that nobody can (or has received ...). Many people failing at once
 *   is an outage until a person has looked, whatever the words for it. A
 *   group is any quantifier over our people ("anyone in our team", "any of
 *   my colleagues", "all of us", "each of us"), a failure any negated
 *   working verb ("nothing syncs", "doesn't load", "not syncing",
 *   "stopped", "loads for none of us"); and others reporting it ("others on Twitter are reporting
 *   the same", "I'm not the only one", "anyone else seeing this") count as
 *   many, whatever the sentence says of a failure;
 * - whether the customer disowns something done on the account: a third
 *   party acted on the account ("someone changed our billing details",
 *   "somebody logged in"; not "someone deleted it by mistake"), or the
 *   customer did not, of something seen ("keys I didn't create", "I didn't
 *   do that", "that wasn't me", "nobody on our team created them",
 *   "without my permission"; not "we didn't change plans"). That is a possible security incident, which a person
 *   answers;
 * - whether a secret was exposed: a key, token, password or credentials
 *   pushed, committed, posted, pasted, published, uploaded or leaked where
 *   others can see it ("we pushed our admin API key to a public repo", "a
 *   token was pasted in a public channel"; not "if a token leaks" nor a key
 *   "shared with a contractor", which the key articles answer): an incident
 *   without an intruder, which a person answers too;
 * - whether the customer sees what belongs to another organisation: a
 *   sight ("I can see", "we get results from", "sees ... in her search
 *   results", "was able to open") near an owner outside theirs ("another
 *   company's tasks", "a different customer", "someone else's projects",
 *   "projects that aren't ours", "a company called ... that we have nothing
 *   to do with"), said as what happened (not "can other companies see ...?",
 *   "we want them to see", "I have not accessed other customers' data"):
 *   a possible leak between customers, which a person answers.
 *
 * All read the words of one sentence (message.c splits and lower-cases
 * them); message.c reports the largest count, any disowned sentence, any
 * exposed secret and any foreign data in the "message" analysis. Last, whether the whole body is
 * a bug report: an observed wrong result with two pieces of evidence of
 * reproducing it (support__bug_report).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "support_int.h"

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* The lists are sorted: bsearch. */
#define ONE_OF(w, list) (bsearch((w), (list), FL_ARRAY_SIZE(list), sizeof((list)[0]), cmp_word) != NULL)

static const char *const people[] = {
	"agents", "colleagues", "customers", "drivers", "employees", "engineers", "members", "people", "person",
	"persons", "staff", "students", "teammates", "users", "workers",
};
static const char *const groups[] = {
	"branch", "company", "department", "employees", "floor", "office", "offices", "org", "organisation",
	"organization", "people", "site", "staff", "team", "teams", "users", "workforce",
};
static const char *const failures[] = {
	"500", "502", "503", "504", "broken", "can't", "cannot", "cant", "couldn't", "crash", "crashes", "down",
	"error", "errors", "fail", "failed", "failing", "fails", "offline", "outage", "timeout", "timing", "unable",
	"unavailable", "unreachable",
};
static const char *const nobody[] = {
	"nobody", "none", "noone",
};
/* quantifiers over our own people: "anyone in our team", "any of my colleagues" (a possessive must follow) */
static const char *const anyone[] = {
	"any", "anybody", "anyone", "each", "every",
};
/* verbs of something working, for "nothing syncs", "doesn't load", "won't open" */
static const char *const working[] = {
	"arrive", "arrives", "connect", "connects", "load", "loads", "log", "login", "open", "opens", "receive",
	"receives", "send", "sends", "show", "shows", "sign", "sync", "syncs", "update", "updates", "upload",
	"work", "works",
};
static const char *const negations[] = {
	"aren't", "can't", "cannot", "cant", "didn't", "doesn't", "don't", "isn't", "never", "nothing", "won't",
};
/* others reporting it: "others are reporting the same", "other users see it", "anyone else seeing this" */
static const char *const reporting[] = {
	"complaining", "experiencing", "getting", "having", "report", "reported", "reporting", "reports", "saw",
	"see", "seeing", "tweeting",
};
/* words after "nobody" (room for a count in brackets: "nobody on my team (15 people, iphone and android) has") */
#define ABLE_WITHIN 12
/* what nobody can do any more: "nobody can sign in", "none of our staff has received" */
static const char *const able[] = {
	"able", "can", "could", "gets", "has", "have", "receive", "received", "receives",
};

/* A count of people: "300 people", "150 field staff", "120-person" (read as "120", "person"). */
static size_t count_at(const struct support_words *w, size_t i)
{
	const char *t = w->w[i];
	size_t j, n = 0;

	for (j = 0; t[j]; j++)
		if (!isdigit((unsigned char)t[j]))
			return 0;
	if (j > 6)
		return 0;
	n = (size_t)strtoul(t, NULL, 10);
	for (j = i + 1; j < w->n && j <= i + 3; j++)
		if (ONE_OF(w->w[j], people))
			return n;
	return 0;
}

/*
 * Others report the failure too: "others (on twitter) are reporting",
 * "other users/companies see", "anyone else having", "not the only one".
 */
static bool others_report(const struct support_words *w)
{
	size_t i, j;

	for (i = 0; i < w->n; i++) {
		bool others = support__word_is(w, i, "others") ||
			      (support__word_is(w, i, "other") && i + 1 < w->n &&
			       (ONE_OF(w->w[i + 1], people) || ONE_OF(w->w[i + 1], groups) ||
				support__word_is(w, i + 1, "companies") || support__word_is(w, i + 1, "accounts"))) ||
			      (support__word_is(w, i, "else") && i > 0 &&
			       (support__word_is(w, i - 1, "anyone") || support__word_is(w, i - 1, "anybody") ||
				support__word_is(w, i - 1, "everyone") || support__word_is(w, i - 1, "everybody")));

		/* "others on twitter are reporting", "other customers on your community forum are reporting" */
		if (others)
			for (j = i + 1; j < w->n && j <= i + 8; j++)
				if (ONE_OF(w->w[j], reporting))
					return true;
		/* "I'm not the only one", "we are not the only ones" */
		if (support__word_is(w, i, "not") && support__word_is(w, i + 1, "the") &&
		    support__word_is(w, i + 2, "only") &&
		    (support__word_is(w, i + 3, "one") || support__word_is(w, i + 3, "ones")))
			return true;
	}
	return false;
}

/* A group of our people from i: "anyone in our team", "all of us", "any of my 30 colleagues". */
static bool our_group_at(const struct support_words *w, size_t i)
{
	bool ours = false;
	size_t j;
	char c = w->w[i][0];

	/* the quantifiers start with a, e or o: most words go no further */
	if (c != 'a' && c != 'e' && c != 'o')
		return false;
	if (!ONE_OF(w->w[i], anyone) && !support__word_is(w, i, "all") && !support__word_is(w, i, "one"))
		return false;
	/* "all of us", "each one of us", "every one of us" */
	if (support__word_is(w, i + 1, "of") && support__word_is(w, i + 2, "us"))
		return true;
	if (support__word_is(w, i + 1, "one") && support__word_is(w, i + 2, "of") && support__word_is(w, i + 3, "us"))
		return true;
	for (j = i + 1; j < w->n && j <= i + 4; j++) {
		ours |= support__word_is(w, j, "our") || support__word_is(w, j, "my");
		if (ours && (ONE_OF(w->w[j], groups) || ONE_OF(w->w[j], people)))
			return true;
	}
	return false;
}

/* Whether the word at i reports a failure: "error", "stopped", "not syncing", "nothing syncs", "works for nobody". */
static bool failed_at(const struct support_words *w, size_t i)
{
	const char *t = w->w[i];
	size_t len;

	if (ONE_OF(t, failures) || support__word_is(w, i, "stopped"))
		return true;
	if (support__word_is(w, i, "not") && i + 1 < w->n) {
		/* "not able", "not working", "not syncing", "not loading" */
		len = strlen(w->w[i + 1]);
		return support__word_is(w, i + 1, "able") || (len > 4 && !strcmp(w->w[i + 1] + len - 3, "ing"));
	}
	/* "nothing syncs", "doesn't load", "won't open" (a word between: "doesn't even load") */
	if (ONE_OF(t, negations))
		return (i + 1 < w->n && ONE_OF(w->w[i + 1], working)) ||
		       (i + 2 < w->n && ONE_OF(w->w[i + 2], working));
	/* "the dashboards load for none of us", "it works for nobody" */
	return support__word_is(w, i + 1, "for") && i + 2 < w->n &&
	       (ONE_OF(w->w[i + 2], nobody) || support__word_is(w, i + 2, "no")) && ONE_OF(t, working);
}

size_t support__affected(const struct support_words *w)
{
	bool failure = false, none = false;
	size_t i, j, most = 0;

	if (others_report(w))
		return SUPPORT_MANY_AFFECTED;
	for (i = 0; i < w->n; i++) {
		failure = failure || failed_at(w, i);
		if (!none && (ONE_OF(w->w[i], nobody) || (support__word_is(w, i, "no") && support__word_is(w, i + 1, "one"))))
			for (j = i + 1; j < w->n && j <= i + ABLE_WITHIN; j++)
				none |= ONE_OF(w->w[j], able);
	}
	if (!failure && !none)
		return 0;
	for (i = 0; i < w->n; i++) {
		size_t n = count_at(w, i);

		if (n > most)
			most = n;
		/* a group: "the whole office", "all our users", "everyone", "nobody in our company" */
		if (support__word_is(w, i, "everyone") || support__word_is(w, i, "everybody"))
			n = SUPPORT_MANY_AFFECTED;
		if (our_group_at(w, i))
			n = SUPPORT_MANY_AFFECTED;
		if (support__word_is(w, i, "whole") || support__word_is(w, i, "entire") ||
		    support__word_is(w, i, "all") || ONE_OF(w->w[i], nobody) || support__word_is(w, i, "one"))
			for (j = i + 1; j < w->n && j <= i + 4; j++)
				if (ONE_OF(w->w[j], groups) || ONE_OF(w->w[j], people))
					n = SUPPORT_MANY_AFFECTED;
		if (n > most)
			most = n;
	}
	return most;
}

static const char *const third_parties[] = {
	"attacker", "hacker", "hackers", "somebody", "someone", "stranger", "strangers",
};
/* what a third party did to the account (deleting an item is what teammates do) */
static const char *const acts[] = {
	"accessed", "bought", "changed", "got", "has", "is", "logged", "ordered", "reset", "signed", "tried",
	"used", "using",
};
/*
 * what may follow a disclaimed act: something seen ("I didn't do that",
 * "keys I didn't create."); not "anything", which is a troubleshooting
 * customer's "I haven't changed anything"
 */
static const char *const disclaimed[] = {
	"it", "that", "them", "these", "this", "those",
};
/* what a troubleshooting customer says nobody touched: "nobody changed anything" */
static const char *const anything[] = {
	"any", "anything", "something",
};
/*
 * verbs, in any form (support__verb_form), and the irregular past forms; "log"
 * and "sign" only as they are ("nobody logged in" is a customer's usage, not a
 * disclaimer)
 */
static const char *const own_acts[] = {
	"add", "approve", "authorise", "authorize", "bought", "buy", "change", "create", "delete", "did", "do",
	"made", "make", "order", "purchase", "request", "send", "sent", "set", "write", "wrote",
};

bool support__disowned(const struct support_words *w)
{
	size_t i, j;

	/* "someone deleted it by mistake", "I accidentally changed": a slip, not an intruder */
	for (i = 0; i < w->n; i++)
		if (support__word_is(w, i, "accidentally") || support__word_is(w, i, "mistake") ||
		    support__word_is(w, i, "accident"))
			return false;
	for (i = 0; i < w->n; i++) {
		/* "someone changed ...", "somebody logged in" */
		if (ONE_OF(w->w[i], third_parties))
			for (j = i + 1; j < w->n && j <= i + 3; j++)
				if (ONE_OF(w->w[j], acts))
					return true;
		/* "I didn't create", "we never made", "nobody on our team created" */
		if (support__word_is(w, i, "i") || support__word_is(w, i, "we") || ONE_OF(w->w[i], nobody)) {
			for (j = i + 1; j < w->n && j <= i + 5; j++) {
				/* the act names no object of its own, or a pronoun for what was seen */
				if ((ONE_OF(w->w[i], nobody) || support__word_is(w, j - 1, "didn't") ||
				     support__word_is(w, j - 1, "never") || support__word_is(w, j - 1, "haven't") ||
				     (support__word_is(w, j - 1, "not") &&
				      (support__word_is(w, j - 2, "did") || support__word_is(w, j - 2, "have")))) &&
				    (support__verb_form(w, j, own_acts, FL_ARRAY_SIZE(own_acts)) ||
				     support__word_is(w, j, "log") || support__word_is(w, j, "sign")) &&
				    (j + 1 >= w->n || ONE_OF(w->w[j + 1], disclaimed) || ONE_OF(w->w[j + 1], acts) ||
				     support__word_is(w, j + 1, "with") || support__word_is(w, j + 1, "on") ||
				     support__word_is(w, j + 1, "in") || support__word_is(w, j + 1, "last") ||
				     /* "admins that none of us added, and ...": what nobody did was named before */
				     (ONE_OF(w->w[i], nobody) && !ONE_OF(w->w[j + 1], anything))))
					return true;
			}
		}
		/* "that wasn't me", "not us", "without my permission", "I don't recognise" */
		if ((support__word_is(w, i, "wasn't") || support__word_is(w, i, "not")) &&
		    (support__word_is(w, i + 1, "me") || support__word_is(w, i + 1, "us")))
			return true;
		if (support__word_is(w, i, "without") &&
		    (support__word_is(w, i + 1, "my") || support__word_is(w, i + 1, "our")) &&
		    (support__word_is(w, i + 2, "permission") || support__word_is(w, i + 2, "consent") ||
		     support__word_is(w, i + 2, "knowledge") || support__word_is(w, i + 2, "authorisation") ||
		     support__word_is(w, i + 2, "authorization")))
			return true;
		if ((support__word_is(w, i, "recognise") || support__word_is(w, i, "recognize")) && i > 0 &&
		    (support__word_is(w, i - 1, "don't") || support__word_is(w, i - 1, "not") ||
		     support__word_is(w, i - 1, "didn't")))
			return true;
	}
	return false;
}

/* secrets, and what exposes them where others can see */
static const char *const secrets[] = {
	"credential", "credentials", "key", "keys", "password", "passwords", "secret", "secrets", "token", "tokens",
};
static const char *const exposures[] = {
	"committed", "exposed", "leaked", "leaking", "leaks", "pasted", "posted", "published", "pushed",
	"uploaded",
};
/* how far apart a secret and its exposure may be: "pushed a file with our admin API key" */
#define EXPOSED_WITHIN 8

bool support__exposed(const struct support_words *w)
{
	size_t i, j;

	for (i = 0; i < w->n; i++) {
		char c = w->w[i][0];
		bool exposure;

		/* "what happens if a token leaks?", "in case our key is exposed": a question of what to do, not an incident */
		if (support__word_is(w, i, "if") || (support__word_is(w, i, "in") && support__word_is(w, i + 1, "case")))
			return false;
		/* the exposures start with c, e, l, p or u: most words go no further */
		if (c != 'c' && c != 'e' && c != 'l' && c != 'p' && c != 'u')
			continue;
		exposure = ONE_OF(w->w[i], exposures) ||
			   /* "made public", "publicly visible" */
			   (support__word_is(w, i, "public") && i > 0 && support__word_is(w, i - 1, "made")) ||
			   support__word_is(w, i, "publicly");
		if (!exposure)
			continue;
		for (j = i > EXPOSED_WITHIN ? i - EXPOSED_WITHIN : 0; j < w->n && j <= i + EXPOSED_WITHIN; j++)
			if (ONE_OF(w->w[j], secrets))
				return true;
	}
	return false;
}

/* an owner outside the customer's organisation: "another company", "a different customer's" */
static const char *const others_marks[] = { "another", "different", "other" };
static const char *const orgs[] = {
	"business", "business's", "businesses", "client's", "companies", "companies'", "company", "company's",
	"customer", "customer's", "customers", "customers'", "organisation", "organisation's", "organisations",
	"organization", "organization's", "organizations", "tenant", "tenant's", "tenants", "workspace's",
};
/* seeing, opening or getting what is theirs */
static const char *const sights[] = {
	"access", "accessed", "appear", "appeared", "appearing", "appears", "open", "opened", "receive", "received",
	"receiving", "results", "saw", "see", "seeing", "seen", "sees", "show", "showing", "shown", "shows",
	"visible",
};
/* a clause that asks: "can other companies see ...?", "is it possible that ..." */
static const char *const askers[] = {
	"are", "can", "could", "do", "does", "how", "if", "is", "should", "what", "whether", "will", "would",
};
/* just before the sight, a wish or a condition rather than what happened: "we want them to see" */
static const char *const wishes[] = {
	"allow", "if", "let", "like", "share", "sharing", "should", "want", "wants", "whether", "would",
};
static const char *const first_person[] = { "i", "i'm", "i've", "me", "my", "our", "us", "we", "we're", "we've" };
/* how far apart the owner and the sight may be: "get results from a company called ... that we have nothing to do with" */
#define FOREIGN_WITHIN 12

/* Whether word i starts an owner outside the customer's organisation. */
static bool foreign_at(const struct support_words *w, size_t i)
{
	/*
	 * "another company's tasks", "a different organisation", "other
	 * customers' files"; not where someone works: "my colleague at another
	 * company sees the same"
	 */
	if (ONE_OF(w->w[i], others_marks))
		return !(i > 0 && support__word_is(w, i - 1, "at")) &&
		       ((i + 1 < w->n && ONE_OF(w->w[i + 1], orgs)) || (i + 2 < w->n && ONE_OF(w->w[i + 2], orgs)));
	/* "someone else's projects" */
	if (support__word_is(w, i, "else's"))
		return true;
	/* "projects that aren't ours" */
	if (support__word_is(w, i, "ours"))
		return i > 0 && (support__word_is(w, i - 1, "aren't") || support__word_is(w, i - 1, "isn't") ||
				 support__word_is(w, i - 1, "not") || support__word_is(w, i - 1, "weren't"));
	/* "don't belong to us" */
	if (support__word_is(w, i, "belong") && i > 0 &&
	    (support__word_is(w, i - 1, "don't") || support__word_is(w, i - 1, "doesn't") ||
	     support__word_is(w, i - 1, "not")))
		return true;
	/* "a company ... that we have nothing to do with" (not "nothing to do with you" nor "with my question") */
	return support__word_is(w, i, "nothing") && support__word_is(w, i + 1, "to") && support__word_is(w, i + 2, "do") &&
	       support__word_is(w, i + 3, "with") && i + 4 >= w->n;
}

bool support__foreign_data(const struct support_words *w)
{
	size_t i, j, k;
	bool ours = false;

	if (!w->n || ONE_OF(w->w[0], askers))
		return false;
	for (i = 0; i < w->n; i++)
		ours |= ONE_OF(w->w[i], first_person);
	if (!ours)
		return false;
	for (i = 0; i < w->n; i++) {
		if (!foreign_at(w, i))
			continue;
		for (j = i > FOREIGN_WITHIN ? i - FOREIGN_WITHIN : 0; j < w->n && j <= i + FOREIGN_WITHIN; j++) {
			bool said = true;

			if (!ONE_OF(w->w[j], sights))
				continue;
			/* "we want a contractor from another company to see ...": not what happened */
			for (k = 0; k < j; k++)
				said &= !ONE_OF(w->w[k], wishes);
			/* "I have not accessed other customers' data"; "other companies ... and they see the same" */
			for (k = j > 3 ? j - 3 : 0; k < j; k++)
				said &= !(support__word_is(w, k, "not") || support__word_is(w, k, "never") ||
					  support__word_is(w, k, "haven't") || support__word_is(w, k, "didn't") ||
					  support__word_is(w, k, "don't") || support__word_is(w, k, "they"));
			/* what is seen is ours: "a consultant from another company can see all our projects" */
			for (k = j + 1; k < w->n && k <= j + 3; k++)
				said &= !ONE_OF(w->w[k], first_person);
			if (said)
				return true;
		}
	}
	return false;
}

/* ---- bug reports: an observed wrong result with evidence of reproducing it ---- */

/* A product and its version: "chrome 120", "ios 17.2", "android 14", "version 3.1", "v2.4". */
static bool software_version(const char *low)
{
	static const char *const products[] = {
		"android ", "chrome ", "edge ", "firefox ", "ios ", "macos ", "safari ", "version ", "windows ",
	};
	const char *p;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(products); i++)
		for (p = low; (p = strstr(p, products[i])); p++)
			if (isdigit((unsigned char)p[strlen(products[i])]) &&
			    (p == low || !isalnum((unsigned char)p[-1])))
				return true;
	for (p = low; (p = strstr(p, " v")); p++)
		if (isdigit((unsigned char)p[2]) && p[3] == '.')
			return true;
	return false;
}

/* whether the word ending at b (spaces skipped) is one of list */
static bool word_before(const char *low, const char *b, const char *const *list, size_t n)
{
	size_t i;

	while (b > low && b[-1] == ' ')
		b--;
	for (i = 0; i < n; i++) {
		size_t m = strlen(list[i]);

		if ((size_t)(b - low) >= m && !strncmp(b - m, list[i], m) &&
		    (b - m == low || !isalnum((unsigned char)b[-(ptrdiff_t)m - 1])))
			return true;
	}
	return false;
}

/* "tried 5 times", "twice", "several times", "each time": the customer repeated it (one pass over " time") */
static bool repeated(const char *low)
{
	static const char *const counts[] = {
		"each", "few", "five", "four", "many", "multiple", "several", "single", "three",
	};
	const char *p;

	if (strstr(low, "twice") || strstr(low, "over and over"))
		return true;
	for (p = low; (p = strstr(p, " time")); p++) {
		if (p[5] != 's' && isalnum((unsigned char)p[5]))
			continue;
		/* a number other than 1: "5 times", "12 times" */
		if (p > low && isdigit((unsigned char)p[-1]) &&
		    (p[-1] != '1' || (p - 1 > low && isdigit((unsigned char)p[-2]))))
			return true;
		if (word_before(low, p, counts, FL_ARRAY_SIZE(counts)))
			return true;
	}
	return false;
}

/*
 * A case that works beside the one that does not: "top level mentions
 * work", "without the emoji it works", "comments without links save fine",
 * "other projects archive normally". Not in a question ("does it work on
 * android 9?"), not negated ("doesn't work", "no longer works", "not
 * fine"), not a wish or a place ("to work", "at work", "my work phone"),
 * not "workspace"; "fine" not of a person or a state ("I'm fine", "that is
 * fine").
 */
static bool works_elsewhere(const char *low)
{
	static const char *const before[] = {
		"at", "can", "can't", "cannot", "could", "did", "didn't", "do", "does", "doesn't", "don't", "for", "from",
		"isn't", "longer", "my", "never", "not", "of", "our", "should", "stopped", "the", "to", "will", "won't",
		"would", "your",
	};
	static const char *const states[] = {
		"all", "am", "are", "be", "been", "feel", "i'm", "is", "it's", "looks", "not", "seems", "that's", "was",
		"were", "we're", "you're",
	};
	static const char *const how[] = { "work", "fine", "normally", "correctly" };
	const char *p, *e;
	size_t k;

	for (k = 0; k < FL_ARRAY_SIZE(how); k++)
		for (p = low; (p = strstr(p, how[k])); p++) {
			if (p > low && isalnum((unsigned char)p[-1]))
				continue;
			e = p + strlen(how[k]);
			if (k == 0 && *e == 's')
				e++;
			else if (k == 0 && !strncmp(e, "ed", 2))
				e += 2;
			if (isalnum((unsigned char)*e) || *e == '\'')
				continue;
			/* a question: the sentence ends in "?" */
			e += strcspn(e, ".?!\n");
			if (*e == '?')
				continue;
			if (word_before(low, p, before, FL_ARRAY_SIZE(before)))
				continue;
			if (k > 0 && (p == low || word_before(low, p, states, FL_ARRAY_SIZE(states))))
				continue;
			return true;
		}
	return false;
}

/*
 * An exact request and its result: "PATCH /v1/items/{id} ... returns 200"
 * (2), "returned 502" (1). A 4xx is the client's error, which an article
 * answers: no evidence at all, whatever the request. One pass over the
 * three-digit numbers.
 */
static int exact_request(const char *low)
{
	static const char *const methods[] = { "get /", "post /", "put /", "patch /", "delete /" };
	static const char *const results[] = { "returns", "returned", "responds with", "responded with",
					       "response is", "status" };
	const char *p;
	int n = 0, status = 0;
	size_t i;

	for (p = low; (p = strpbrk(p, "0123456789")); p++) {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) || isalnum((unsigned char)p[3]) ||
		    p == low || p[-1] != ' ' || !word_before(low, p, results, FL_ARRAY_SIZE(results))) {
			while (isdigit((unsigned char)p[1]))
				p++;
			continue;
		}
		if (p[0] == '4')
			return 0;
		/* a success with the wrong result, or our failure */
		status |= p[0] == '2' || p[0] == '5';
		p += 2;
	}
	if (!status)
		return 0;
	for (i = 0; i < FL_ARRAY_SIZE(methods) && !n; i++)
		n = (p = strstr(low, methods[i])) && (p == low || !isalnum((unsigned char)p[-1]));
	return 1 + n;
}

/*
 * A bug report: an observed wrong result with evidence of reproducing it.
 * Each piece of evidence counts, two make a report: reproduction steps or
 * "reproduced" (2), expected against actual (2), a version or a console
 * (1), "every time" or repeated tries (1), a case that works beside the one
 * that does not (1), a 2xx or 5xx returned (1) to an exact request
 * (method and path: 1 more), a request id (1), numbered steps then a result (1). low: the body
 * in lower case.
 */
bool support__bug_report(const char *low)
{
	size_t steps = 0;
	int signals = 0;
	const char *p;

	if (strstr(low, "steps to reproduce") || strstr(low, "repro:") || strstr(low, "repro ") ||
	    strstr(low, "reproduc") || strstr(low, "steps:"))
		signals += 2;
	/* the versions a report names ("firefox 121", "android 14", "v2.3") and what a console says */
	if (software_version(low) || strstr(low, "console") || strstr(low, "stack trace") ||
	    strstr(low, "exception"))
		signals++;
	if (strstr(low, "expected") && (strstr(low, "actual") || strstr(low, "instead")))
		signals += 2;
	if (strstr(low, "every time") || strstr(low, "consistently") || strstr(low, "out of 5") ||
	    strstr(low, "consistent,") || repeated(low))
		signals++;
	if (works_elsewhere(low))
		signals++;
	signals += exact_request(low);
	if (strstr(low, "request id") || strstr(low, "req_") || strstr(low, "http 500"))
		signals++;
	/* "1. do this 2. then that" inline or as lines, then a result */
	for (p = low; (p = strpbrk(p, "0123456789")); p++)
		if ((p[1] == '.' || p[1] == ')') && p[2] == ' ' && (p == low || !isalnum((unsigned char)p[-1])))
			steps++;
	if (steps >= 2 && (strstr(low, "then") || strstr(low, "result") || strstr(low, "shows") ||
			   strstr(low, "happens")))
		signals++;
	return signals >= 2;
}
