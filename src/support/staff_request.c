/*
 * A request addressed to us whose verb acts on the customer's own account,
 * whatever the verb: "could you redo the march invoice with our new
 * address", "pls merge our two workspaces", "we need you to split the
 * charge over two cards". message.c's request reading knows the verbs
 * that change an account (refund, cancel, reissue, ...); a customer has
 * more words for them than any list, so here the form decides:
 *
 * - the request is addressed to us: "can/could/would/will you ...",
 *   "please/kindly ..." (chat's "pls" is "please", "u" is "you"), or
 *   "I need/want/ask you to ...", "they want us to ...";
 * - its verb is not one that asks us only to tell, show or help ("can you
 *   tell me how", "could you explain why", "please let me know", "can you
 *   help me change it"): those ask how, which an article may answer; "give"
 *   acts when it grants ("give us two more weeks on the trial"), not when
 *   it informs ("give me an overview of the plans");
 * - what it acts on, in the words after the verb, is an account object:
 *   invoice, charge, plan, subscription, account, data, seats, trial, ...
 *
 * A question that asks how the customer does it ("how do I", "can I", "is
 * it possible to", "where do I") is not addressed to us, and is left to
 * the question reading.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "support_int.h"

static int cmp_word(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

#define IN(list, w) (bsearch((w), (list), FL_ARRAY_SIZE(list), sizeof((list)[0]), cmp_word) != NULL)

/* Words between "you" (or "please") and the verb: politeness and adverbs (sorted). */
static const char *const fillers[] = {
	"all", "also", "folks", "guys", "just", "kindly", "maybe", "please", "possibly", "quickly", "still",
};
/*
 * Verbs that ask us to tell, show, help or answer ("please reply to my
 * email"), that are no act at all ("can you be ...", "would you have
 * ..."), or that say what the product does ("can you export our data to
 * csv?"): not a staff action (sorted).
 */
static const char *const telling[] = {
	"advise", "answer", "be", "call", "check", "clarify", "confirm", "connect", "contact", "describe",
	"do", "explain", "export", "find", "get", "give", "guide", "handle", "have", "help", "import",
	"integrate", "know", "let", "look", "note", "point", "read", "recommend", "reply", "respond", "run",
	"say", "see", "send", "share", "show", "suggest", "support", "sync", "teach", "tell", "think", "walk",
	"work",
};
/* What a customer's account is made of: the objects staff act on (sorted). */
static const char *const account_objects[] = {
	"account", "accounts", "billing", "charge", "charges", "data", "email", "invoice", "invoices",
	"license", "licenses", "payment", "payments", "plan", "receipt", "receipts", "renewal", "seat",
	"seats", "subscription", "trial", "username", "workspace", "workspaces",
};
/* Verbs of asking, in any form: "I need you to", "they want us to" (support__verb_form). */
static const char *const asking[] = { "ask", "expect", "like", "need", "request", "want" };

/*
 * "give us two more weeks", "give me 5 extra seats": a grant, not
 * information ("give me an overview of the plans" is a question).
 */
static bool grant(const struct support_words *w, size_t k)
{
	size_t j;

	if (!support__word_is(w, k, "give") || !(support__word_is(w, k + 1, "us") || support__word_is(w, k + 1, "me")))
		return false;
	for (j = k + 2; j < w->n && j <= k + 4; j++)
		if (support__word_is(w, j, "more") || support__word_is(w, j, "extra") ||
		    support__word_is(w, j, "another") || isdigit((unsigned char)w->w[j][0]) ||
		    support__word_is(w, j, "two") || support__word_is(w, j, "three") || support__word_is(w, j, "few"))
			return true;
	return false;
}

/* The verb at word k acts on an account object named within the next eight words. */
static bool acts_on_account(const struct support_words *w, size_t k)
{
	size_t j;

	if (k >= w->n || (IN(telling, w->w[k]) && !grant(w, k)) || IN(account_objects, w->w[k]))
		return false;
	for (j = k + 1; j < w->n && j <= k + 8; j++)
		if (IN(account_objects, w->w[j]))
			return true;
	return false;
}

/* The first word from k on that is not a filler. */
static size_t past_fillers(const struct support_words *w, size_t k)
{
	while (k < w->n && IN(fillers, w->w[k]))
		k++;
	return k;
}

bool support__addressed_act(const struct support_words *w, const char **verb)
{
	size_t k, v;

	for (k = 0; k < w->n; k++) {
		v = SIZE_MAX;
		/* "could you (guys) redo ...", "would you please merge ..." */
		if ((support__word_is(w, k, "can") || support__word_is(w, k, "could") ||
		     support__word_is(w, k, "would") || support__word_is(w, k, "will")) &&
		    support__word_is(w, k + 1, "you"))
			v = past_fillers(w, k + 2);
		/* "please split ...", "kindly redo ..." */
		else if (support__word_is(w, k, "please") || support__word_is(w, k, "kindly"))
			v = past_fillers(w, k + 1);
		/* "I need you to redo ...", "they want us to split ..." */
		else if ((support__word_is(w, k, "you") || support__word_is(w, k, "us")) &&
			 support__word_is(w, k + 1, "to") && k > 0 &&
			 support__verb_form(w, k - 1, asking, FL_ARRAY_SIZE(asking)))
			v = past_fillers(w, k + 2);
		if (v != SIZE_MAX && acts_on_account(w, v)) {
			*verb = w->w[v];
			return true;
		}
	}
	return false;
}

/*
 * The state of an account object wanted, whatever the verb: "we'd like the
 * renewal pushed back by four weeks", "I need the invoice addressed to our
 * new company": a wish ("like", "need", "want", ... in any form), the
 * object within the next four words, and a participle (-ed) right after it.
 */
bool support__wanted_state(const struct support_words *w, const char **verb)
{
	size_t k, j;

	for (k = 0; k < w->n; k++) {
		if (!support__verb_form(w, k, asking, FL_ARRAY_SIZE(asking)))
			continue;
		for (j = k + 1; j + 1 < w->n && j <= k + 4; j++) {
			const char *p = w->w[j + 1];
			size_t len = strlen(p);

			if (IN(account_objects, w->w[j]) && len >= 5 && !strcmp(p + len - 2, "ed")) {
				*verb = p;
				return true;
			}
		}
	}
	return false;
}
