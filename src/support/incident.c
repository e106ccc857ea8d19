/*
 * Two readings of a customer's sentence that decide whether a reply may go
 * out alone, beside the cue lists of the escalation rules (policy.c):
 *
 * - how many people a stated failure affects: a count ("300 people", "none
 *   of our 150 field staff", "a 120-person company") or a group ("nobody in
 *   our company", "the whole office", "everyone"), when the same sentence
 *   reports a failure or says that nobody can (or has received ...). Many people failing at once
 *   is an outage until a person has looked, whatever the words for it;
 * - whether the customer disowns something done on the account: a third
 *   party acted on the account ("someone changed our billing details",
 *   "somebody logged in"; not "someone deleted it by mistake"), or the
 *   customer did not, of something seen ("keys I didn't create", "I didn't
 *   do that", "that wasn't me", "nobody on our team created them",
 *   "without my permission"; not "we didn't change plans"). That is a possible security incident, which a person
 *   answers.
 *
 * Both read the words of one sentence (message.c splits and lower-cases
 * them); message.c reports the largest count and any disowned sentence in
 * the "message" analysis.
 */
#include <ctype.h>
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

size_t support__affected(const struct support_words *w)
{
	bool failure = false, none = false;
	size_t i, j, most = 0;

	for (i = 0; i < w->n; i++) {
		failure |= ONE_OF(w->w[i], failures) ||
			   (support__word_is(w, i, "not") && (support__word_is(w, i + 1, "working") ||
							       support__word_is(w, i + 1, "loading") ||
							       support__word_is(w, i + 1, "able")));
		if (ONE_OF(w->w[i], nobody) || (support__word_is(w, i, "no") && support__word_is(w, i + 1, "one")))
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
