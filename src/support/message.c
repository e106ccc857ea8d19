/*
 * Reading a customer's message the way an agent does, before anything is
 * searched or answered: the whole message, not its first 500 characters.
 *
 * 1. What is not the customer's ask is set aside (own_words.c): quoted
 *    history ("> ..." lines, "On ... wrote:" and everything after it,
 *    forwarded or original message blocks), the signature (after "-- ",
 *    "Sent from my ...", a closing such as "Best regards," on a line of its
 *    own, or a name alone on the last line) and the greeting line ("Hi
 *    team,", "Dear Support,").
 * 2. The rest is split into sentences (paragraphs, list items, and ". ",
 *    "? ", "! " outside abbreviations and numbers), and each sentence is
 *    read for what it does:
 *    - a request for staff to act on the account: a directive addressed to
 *      us ("please ...", "can you ...", "I want you to ...", an imperative
 *      first word, "... for me") whose verb changes the account (refund,
 *      cancel, delete, change, extend, reissue, transfer, ...), or a demand
 *      for something only staff can give ("I want a refund", "my money
 *      back");
 *    - a question: it ends with "?", or opens as a question does (how,
 *      what, where, is there, can I, ...), or embeds one ("I'd like to
 *      know", "please tell me", "let me know");
 *    - a problem statement: it reports a fault (fails, error, can't, not
 *      working, crashes, ...);
 *    - thanks or praise, and pleasantries ("I hope you are well", "thanks in
 *      advance"), which are not asks;
 *    - reproduction steps: "steps to reproduce", "expected ... actual",
 *      numbered steps with a result, "every time": a bug report.
 * 3. The asks are the questions, or (without any) the problem statements:
 *    what the knowledge base is searched for, one by one when there are
 *    several (src/support/nodes.c).
 *
 * The output is the "message" analysis (support.h). English only: a
 * message in another language is left to the language check.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "support_int.h"
#include "text/text.h"

#define MAX_SENTENCES 64

/* ---- word lists (sorted, lower case; searched with bsearch) ---- */

static int cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

#define IN(list, w) (bsearch((w), (list), FL_ARRAY_SIZE(list), sizeof((list)[0]), cmp_str) != NULL)

/* Verbs that change an account: what a request for staff action asks for. */
static const char *const action_verbs[] = {
	"activate", "amend", "apply", "cancel", "change", "close", "correct", "credit", "deactivate", "delete",
	"disable", "downgrade", "erase", "extend", "increase", "lift", "make", "merge", "move", "process",
	"put", "raise", "reactivate", "refund", "reimburse", "reissue", "remove", "restore", "reverse",
	"stop", "switch", "terminate", "transfer", "turn", "undo", "unlock", "update", "upgrade", "waive", "wipe",
};
/* What staff do to an account, as the object's state wanted: "I want my account deleted". */
static const char *const action_participles[] = {
	"applied", "canceled", "cancelled", "closed", "corrected", "credited", "deactivated", "deleted",
	"erased", "extended", "increased", "merged", "moved", "raised", "re-sent", "reactivated",
	"refunded", "reissued", "removed", "resent", "restored", "reversed", "terminated", "transferred",
	"unlocked", "waived", "wiped",
};
/* Things only staff can give, asked for as a noun ("I want a refund"). */
static const char *const action_nouns[] = {
	"cancellation", "chargeback", "compensation", "credit", "deletion", "discount", "exception",
	"extension", "refund", "reimbursement", "reissue",
};
/* Words that open a question. */
static const char *const question_openers[] = {
	"am", "any", "anyone", "are", "can", "could", "did", "do", "does", "has", "have", "how", "is",
	"may", "might", "shall", "should", "was", "were", "what", "what's", "when", "where",
	"which", "who", "why", "will", "would",
};
/* Words of a fault report. */
static const char *const problem_words[] = {
	"blank", "blocked", "bounced", "broken", "bug", "can't", "cannot", "crash", "crashed",
	"crashes", "crashing", "declined", "disappeared", "doesn't", "don't", "empty",
	"error", "errors", "expired", "fail", "failed", "fails", "failing", "freeze", "freezes", "frozen",
	"hangs", "isn't", "lag", "lags", "locked", "lost", "missing", "never", "problem", "rejected",
	"slow", "spinning", "stopped", "stops", "stuck", "timeout", "timing", "unable", "won't", "wrong",
};
/* Words of thanks and praise. */
static const char *const praise_words[] = {
	"amazing", "appreciate", "appreciated", "awesome", "brilliant", "excellent", "fantastic",
	"great", "helpful", "impressed", "kudos", "love", "lovely", "loves", "perfect", "perfectly", "sorted",
	"superb", "thank",
	"thanks", "thx", "ty", "wonderful",
};
/* Abbreviations whose full stop does not end a sentence. */
static const char *const abbreviations[] = {
	"approx", "dr", "e.g", "eg", "etc", "i.e", "ie", "inc", "jr", "ltd", "mr", "mrs", "ms", "no",
	"nr", "prof", "sr", "st", "vs",
};

/* ---- words of a sentence ---- */

void support__words_of(const char *s, size_t len, struct support_words *out)
{
	size_t i = 0;

	out->n = 0;
	while (i < len && out->n < SUPPORT_MAX_WORDS) {
		size_t k = 0;

		while (i < len && !isalnum((unsigned char)s[i]))
			i++;
		while (i < len && (isalnum((unsigned char)s[i]) ||
				   ((s[i] == '\'' || !strncmp(s + i, "\xe2\x80\x99", 3)) && k && i + 1 < len))) {
			if (s[i] == '\'' || (unsigned char)s[i] == 0xe2) {
				if ((unsigned char)s[i] == 0xe2)
					i += 2;
				if (k < sizeof(out->w[0]) - 1)
					out->w[out->n][k++] = '\'';
			} else if (k < sizeof(out->w[0]) - 1) {
				out->w[out->n][k++] = (char)tolower((unsigned char)s[i]);
			}
			i++;
		}
		if (k) {
			const char *written;

			out->w[out->n][k] = '\0';
			/* "dont" is "don't", "u" is "you": every reading below sees one spelling */
			if ((written = text_chat_word(out->w[out->n])) && strlen(written) < sizeof(out->w[0]))
				strcpy(out->w[out->n], written);
			out->n++;
		}
	}
}

static bool has_any(const struct support_words *w, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (bsearch(w->w[i], list, n, sizeof(list[0]), cmp_str))
			return true;
	return false;
}

static size_t count_in(const struct support_words *w, const char *const *list, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < w->n; i++)
		c += bsearch(w->w[i], list, n, sizeof(list[0]), cmp_str) != NULL;
	return c;
}

static bool eq(const struct support_words *w, size_t i, const char *s)
{
	return support__word_is(w, i, s);
}

/* The first word after polite openers ("so", "also", "and", "hi", "ok", "please"...). */
static size_t skip_openers(const struct support_words *w, size_t i)
{
	static const char *const openers[] = { "also", "and", "but", "hey", "hi", "hello", "ok", "okay", "so",
						"then", "well" };
	size_t k;

	for (;;) {
		bool hit = false;

		for (k = 0; k < FL_ARRAY_SIZE(openers) && i < w->n; k++)
			if (!strcmp(w->w[i], openers[k]))
				hit = true;
		if (!hit)
			return i;
		i++;
	}
}

/* ---- what a sentence does ---- */

enum act { ACT_OTHER, ACT_QUESTION, ACT_REQUEST, ACT_PROBLEM, ACT_PRAISE, ACT_PLEASANTRY };

/* "I'd like to know", "I was wondering", "please tell me", "let me know": an embedded question. */
static bool embedded_question(const struct support_words *w)
{
	size_t i;

	for (i = 0; i + 1 < w->n; i++) {
		if ((eq(w, i, "to") && (eq(w, i + 1, "know") || eq(w, i + 1, "ask"))) || eq(w, i, "wondering") ||
		    eq(w, i, "wonder") || (eq(w, i, "let") && eq(w, i + 1, "me") && eq(w, i + 2, "know")) ||
		    (eq(w, i, "tell") && (eq(w, i + 1, "me") || eq(w, i + 1, "us"))) ||
		    (eq(w, i, "is") && eq(w, i + 1, "there")) || eq(w, i, "whether"))
			return true;
		/* a question inside a chat line: "my card was replaced, where do i update it" */
		if ((eq(w, i, "how") || eq(w, i, "where") || eq(w, i, "what") || eq(w, i, "why") ||
		     eq(w, i, "which")) &&
		    (eq(w, i + 1, "do") || eq(w, i + 1, "does") || eq(w, i + 1, "can") || eq(w, i + 1, "should") ||
		     eq(w, i + 1, "to") || eq(w, i + 1, "is") || eq(w, i + 1, "are")) && i > 0)
			return true;
	}
	/* "need the receipt for expenses, where": a question word at the end */
	return w->n > 2 && (eq(w, w->n - 1, "where") || eq(w, w->n - 1, "how") || eq(w, w->n - 1, "why"));
}

/* Verbs that ask: their forms ask too ("wants", "asked", "requesting"). */
static const char *const asking_verbs[] = { "ask", "expect", "like", "need", "request", "want" };
static const char *const wanting_verbs[] = { "demand", "expect", "like", "need", "request", "want" };
static const char *const wishing_verbs[] = { "ask", "like", "need", "request", "want" };

/* strncmp(a, b, 3) == 0, inline: it runs for every word of every sentence */
static inline bool same3(const char *a, const char *b)
{
	return a[0] == b[0] && (!a[0] || (a[1] == b[1] && (!a[1] || a[2] == b[2])));
}

bool support__verb_form(const struct support_words *w, size_t k, const char *const *verbs, size_t n)
{
	struct text_stemmer *st;
	const char *word, *stem;
	char mine[sizeof(w->w[0])];
	size_t len, sl, i, vl;

	if (k >= w->n)
		return false;
	word = w->w[k];
	for (i = 0; i < n && !same3(word, verbs[i]); i++)
		;
	if (i == n)
		return false;
	len = strlen(word);
	if (len > 3 && !strcmp(word + len - 2, "ly"))
		return false;
	for (; i < n; i++) {
		if (!same3(word, verbs[i]))
			continue;
		if (!strcmp(word, verbs[i]))
			return true;
		st = text_stemmer_this_thread();
		stem = text_stem(st, word, len, &sl);
		if (!stem || sl >= sizeof(mine))
			continue;
		memcpy(mine, stem, sl);
		mine[sl] = '\0';
		vl = strlen(verbs[i]);
		stem = text_stem(st, verbs[i], vl, &vl);
		/* Porter2 undoubles a final consonant after -ed and -ing: "added" is "ad", "add" is "add" */
		if (stem && (sl == vl || (sl + 1 == vl && stem[vl - 1] == mine[sl - 1])) && !memcmp(stem, mine, sl))
			return true;
	}
	return false;
}

#define ASKS(w, k, list) support__verb_form((w), (k), (list), FL_ARRAY_SIZE(list))

/*
 * A request for staff to act: a directive to us with an account-changing
 * verb, or a demand for what only staff can give. *verb gets the verb.
 */
static bool action_request(const struct support_words *w, const char **verb)
{
	size_t i = skip_openers(w, 0), k, j;

	/* an imperative first word: "cancel my subscription please", "refund the second charge" */
	if (i < w->n && IN(action_verbs, w->w[i]) && i + 1 < w->n &&
	    (eq(w, i + 1, "my") || eq(w, i + 1, "our") || eq(w, i + 1, "the") || eq(w, i + 1, "us") ||
	     eq(w, i + 1, "me") || eq(w, i + 1, "this") || eq(w, i + 1, "it") || eq(w, i + 1, "all"))) {
		*verb = w->w[i];
		return true;
	}
	for (k = 0; k < w->n; k++) {
		/* "please cancel ...", "kindly refund ..." */
		if ((eq(w, k, "please") || eq(w, k, "kindly")) &&
		    k + 1 < w->n && IN(action_verbs, w->w[k + 1])) {
			*verb = w->w[k + 1];
			return true;
		}
		/* "can you (please) extend ...", "could you make me the owner" */
		if ((eq(w, k, "can") || eq(w, k, "could") || eq(w, k, "would") || eq(w, k, "will")) &&
		    eq(w, k + 1, "you")) {
			j = k + 2;
			if (eq(w, j, "please") || eq(w, j, "kindly") || eq(w, j, "guys") || eq(w, j, "folks"))
				j++;
			if (j < w->n && IN(action_verbs, w->w[j])) {
				*verb = w->w[j];
				return true;
			}
		}
		/* "is it possible for you to extend ...", "would it be ok for you to move ..." */
		if (eq(w, k, "for") && eq(w, k + 1, "you") && eq(w, k + 2, "to") &&
		    k + 3 < w->n && IN(action_verbs, w->w[k + 3])) {
			*verb = w->w[k + 3];
			return true;
		}
		/* "I want you to (permanently) delete ...", "he asked us to switch off ..." */
		if ((eq(w, k, "you") || eq(w, k, "us")) && eq(w, k + 1, "to") && k > 0 &&
		    ASKS(w, k - 1, asking_verbs)) {
			for (j = k + 2; j < w->n && j <= k + 3; j++)
				if (IN(action_verbs, w->w[j])) {
					*verb = w->w[j];
					return true;
				}
		}
		/* "I want a refund", "we would like the nonprofit discount applied", "my money back" */
		if (!eq(w, k + 1, "to") && ASKS(w, k, wanting_verbs)) {
			for (j = k + 1; j < w->n && j <= k + 4; j++)
				if (IN(action_nouns, w->w[j]) || (eq(w, j, "money") && eq(w, j + 1, "back"))) {
					*verb = w->w[j];
					return true;
				}
		}
	}
	/*
	 * the state wanted, by the customer or for a caller: "I want my account
	 * deleted", "we need the invoice reissued", "caller wants the VAT line
	 * removed from the invoice"
	 */
	for (k = 0; k < w->n; k++)
		if (ASKS(w, k, wishing_verbs))
			for (j = k + 2; j < w->n && j <= k + 7; j++)
				if (IN(action_participles, w->w[j])) {
					*verb = w->w[j];
					return true;
				}
	/* "... for me": "change it for me", "switch off two-factor for me" */
	if (w->n >= 3 && eq(w, w->n - 2, "for") && eq(w, w->n - 1, "me"))
		for (k = 0; k < w->n; k++)
			if (IN(action_verbs, w->w[k])) {
				*verb = w->w[k];
				return true;
			}
	/* any verb addressed to us that acts on the account: "could you redo the march invoice" */
	if (support__addressed_act(w, verb) || support__wanted_state(w, verb))
		return true;
	/* a data-protection request addressed to us: "please send me ... all personal data you hold" */
	for (k = 0; k + 1 < w->n; k++)
		if ((eq(w, k, "send") || eq(w, k, "provide")) && (eq(w, k + 1, "me") || eq(w, k + 1, "us")))
			for (j = k + 2; j < w->n; j++)
				if (eq(w, j, "data") || eq(w, j, "records")) {
					*verb = "send";
					return true;
				}
	return false;
}

/*
 * A need stated, not a request for staff to act: "I need a copy of the
 * invoice", "we'd like to show the dashboard on a TV", "I want to get
 * emails flowing again": the customer asks how, which is a question.
 */
static bool stated_need(const struct support_words *w)
{
	size_t i;

	for (i = 0; i + 2 < w->n; i++) {
		if (!(eq(w, i, "i") || eq(w, i, "we") || eq(w, i, "i'd") || eq(w, i, "we'd")))
			continue;
		if ((eq(w, i + 1, "need") || eq(w, i + 1, "want") || eq(w, i + 1, "needs")) &&
		    (eq(w, i + 2, "to") || eq(w, i + 2, "a") || eq(w, i + 2, "an") || eq(w, i + 2, "the") ||
		     eq(w, i + 2, "some") || eq(w, i + 2, "access")))
			return true;
		if ((eq(w, i, "i'd") || eq(w, i, "we'd")) && eq(w, i + 1, "like") && eq(w, i + 2, "to"))
			return true;
		if ((eq(w, i + 1, "would") && eq(w, i + 2, "like")) && eq(w, i + 3, "to"))
			return true;
	}
	return false;
}

static bool pleasantry(const struct support_words *w)
{
	size_t i;

	for (i = 0; i + 1 < w->n; i++) {
		if ((eq(w, i, "hope") && (eq(w, i + 1, "you") || eq(w, i + 1, "this") || eq(w, i + 1, "all"))) ||
		    (eq(w, i, "in") && eq(w, i + 1, "advance")) ||
		    (eq(w, i, "nice") && (eq(w, i + 1, "day") || eq(w, i + 1, "weekend"))) ||
		    (eq(w, i, "sorry") && eq(w, i + 1, "to")) || (eq(w, i, "silly") && eq(w, i + 1, "question")))
			return true;
	}
	return w->n <= 3 && (eq(w, 0, "hi") || eq(w, 0, "hello") || eq(w, 0, "hey") || eq(w, 0, "dear") ||
			     eq(w, 0, "good") || eq(w, 0, "greetings") || eq(w, 0, "anyway"));
}

static enum act classify(const char *s, size_t len, const struct support_words *w, const char **verb)
{
	size_t i, praise;
	bool ends_q = false;

	for (i = len; i > 0 && isspace((unsigned char)s[i - 1]); i--)
		;
	ends_q = i > 0 && s[i - 1] == '?';
	if (!w->n)
		return ACT_OTHER;
	if (action_request(w, verb))
		return ACT_REQUEST;
	i = skip_openers(w, 0);
	if (ends_q || (i < w->n && IN(question_openers, w->w[i]) && w->n > i + 1) || embedded_question(w) ||
	    stated_need(w))
		return ACT_QUESTION;
	if (pleasantry(w))
		return ACT_PLEASANTRY;
	praise = count_in(w, praise_words, FL_ARRAY_SIZE(praise_words));
	/* "we would love to invite ...", "I'd love to know": a wish, not praise */
	for (i = 0; i + 1 < w->n; i++)
		if ((eq(w, i, "love") || eq(w, i, "loves")) && eq(w, i + 1, "to") && praise)
			praise--;
	if (has_any(w, problem_words, FL_ARRAY_SIZE(problem_words)))
		return ACT_PROBLEM;
	if (praise)
		return ACT_PRAISE;
	return ACT_OTHER;
}

/* ---- sentences ---- */

struct span {
	size_t off, len;
};

static bool abbreviation_before(const char *s, size_t dot)
{
	char w[8];
	size_t start = dot, n, i;

	while (start > 0 && (isalpha((unsigned char)s[start - 1]) || s[start - 1] == '.'))
		start--;
	n = dot - start;
	if (!n || n >= sizeof(w))
		return false;
	for (i = 0; i < n; i++)
		w[i] = (char)tolower((unsigned char)s[start + i]);
	w[n] = '\0';
	return IN(abbreviations, w);
}

/* A line that starts a list item ("1. ", "2) ", "- ", "* "). */
static bool list_start(const char *s)
{
	const char *p = s;

	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p))
			p++;
		return (*p == '.' || *p == ')') && p[1] == ' ';
	}
	return (*p == '-' || *p == '*' || *p == '\xe2') && p[1] == ' ';
}

/* Splits text into sentence spans (at most MAX_SENTENCES). */
static size_t sentences(const char *text, struct span *out)
{
	size_t n = 0, i = 0, start = 0, len = strlen(text);

	while (i <= len && n < MAX_SENTENCES) {
		bool end = false;
		size_t stop = i;

		if (i == len) {
			end = true;
		} else if (text[i] == '\n') {
			/* a paragraph break, a list item, or a line ending a sentence */
			end = (i + 1 < len && (text[i + 1] == '\n' || list_start(text + i + 1))) ||
			      (i > 0 && strchr(".?!:", text[i - 1]));
		} else if ((text[i] == '.' || text[i] == '?' || text[i] == '!') &&
			   (i + 1 == len || isspace((unsigned char)text[i + 1]))) {
			end = text[i] != '.' || (!abbreviation_before(text, i) && !(i > 0 && isdigit((unsigned char)text[i - 1]) &&
										     i - start <= 3));
			stop = i + 1;
		}
		if (end) {
			size_t a = start, b = stop;

			while (a < b && isspace((unsigned char)text[a]))
				a++;
			while (b > a && isspace((unsigned char)text[b - 1]))
				b--;
			if (b > a) {
				out[n].off = a;
				out[n].len = b - a;
				n++;
			}
			start = stop < i + 1 ? i + 1 : stop;
			i = start;
			continue;
		}
		i++;
	}
	return n;
}

/*
 * A second ask joined to the first inside one sentence: "how do I change my
 * username, and why are my webhooks failing", "when does the trial end, and
 * separately, why do we get 401", "emails do not arrive, and I also want to
 * know whether ...", "sso says invalid response and i also want to know
 * how refunds work". The clause after a coordinator (", and", "; ", ",
 * also", ", plus", " and also", " also,") is split off when it opens as a
 * question or says "also" or "separately" in its first words; after a bare
 * " and " or " plus " only when it opens with a question word (how, what,
 * ...) or says "also" in its first words ("i tried and was told" is one
 * clause). Both sides have three words or more. Returns the offset in
 * s[0..len) where the second clause starts (*cut: where the first ends), or 0.
 */
static size_t second_clause(const char *s, size_t len, size_t *cut)
{
	static const char *const joints[] = { ", and ", "; ", ", also ", ", plus ", " and also ", ", but also ",
					      " also, ", " and ", " plus " };
	/* the joints from here on are bare: the clause after them must open with a question word or "also" */
	static const size_t bare = 7;
	static const char *const wh[] = { "how", "what", "what's", "when", "where", "which", "who", "why" };
	size_t i, j, spaces = 0;

	for (i = 0; i < len; i++) {
		spaces += s[i] == ' ';
		/* every joint starts with ',', ';', " and", " also" or " plus": the other characters start none */
		if (s[i] != ',' && s[i] != ';' &&
		    !(s[i] == ' ' && i + 1 < len && strchr("aApP", s[i + 1])))
			continue;
		for (j = 0; j < FL_ARRAY_SIZE(joints); j++) {
			size_t jl = strlen(joints[j]), k = 0, r = i + jl;
			struct support_words right;

			/* three words on the left: at least two spaces before the joint */
			if (spaces < 2 || r > len || strncasecmp(s + i, joints[j], jl))
				continue;
			/* the first words decide: a question word, "also" or "separately" */
			support__words_of(s + r, len - r < 48 ? len - r : 48, &right);
			if (right.n < 3)
				continue;
			while (k < right.n && (eq(&right, k, "and") || eq(&right, k, "separately") ||
					       eq(&right, k, "secondly") || eq(&right, k, "second") ||
					       eq(&right, k, "unrelated") || eq(&right, k, "btw") || eq(&right, k, "also")))
				k++;
			if ((k < right.n && (k > 0 || (j >= bare ? IN(wh, right.w[k]) : IN(question_openers, right.w[k])))) ||
			    eq(&right, 1, "also") || eq(&right, 2, "also")) {
				*cut = i;
				return r;
			}
		}
	}
	return 0;
}

/* Splits each sentence at second_clause, in place (at most MAX_SENTENCES spans). */
static size_t clauses(const char *text, struct span *sp, size_t n)
{
	size_t i;

	for (i = 0; i < n && n < MAX_SENTENCES; i++) {
		size_t cut = 0, at = second_clause(text + sp[i].off, sp[i].len, &cut);

		if (!at)
			continue;
		memmove(&sp[i + 2], &sp[i + 1], (n - i - 1) * sizeof(*sp));
		sp[i + 1].off = sp[i].off + at;
		sp[i + 1].len = sp[i].len - at;
		sp[i].len = cut;
		n++;
	}
	return n;
}

/* ---- the analysis ---- */

static const char *act_name(enum act a)
{
	switch (a) {
	case ACT_QUESTION: return "question";
	case ACT_REQUEST: return "request";
	case ACT_PROBLEM: return "problem";
	case ACT_PRAISE: return "praise";
	case ACT_PLEASANTRY: return "pleasantry";
	case ACT_OTHER: return "statement";
	}
	return "statement";
}

/*
 * Several issues announced: "several things", "two unrelated questions",
 * "three items", "(1) ... (2) ...", a turn to another matter (2 = announced), or a numbered list ("1) ... 2) ...",
 * "first, ... second, ...": 1 = listed, which may also be the steps a
 * customer tried).
 */
/*
 * A turn to another matter: "separately" or "unrelated" where a clause
 * starts (after a stop, a comma, a colon, a bracket, a dash, or "and",
 * "also", "but": "... never arrives. (2) Separately, she wants ...", "and
 * unrelated, the invoice ..."), and "separate" before issues, problems,
 * things, questions or matters. Not "bill each team separately" nor
 * "separate passwords".
 */
static bool turns_to_another_matter(const char *body)
{
	static const char *const turns[] = { "separately", "unrelated" };
	static const char *const joins[] = { "and", "also", "but" };
	static const char *const matters[] = { "issues", "problems", "things", "questions", "matters" };
	const char *p, *q;
	size_t i, j;

	for (i = 0; i < FL_ARRAY_SIZE(turns); i++)
		for (p = body; (p = strstr(p, turns[i])); p++) {
			size_t n = strlen(turns[i]);

			if ((p > body && isalnum((unsigned char)p[-1])) || isalnum((unsigned char)p[n]))
				continue;
			for (q = p; q > body && q[-1] == ' '; q--)
				;
			if (q == body || strchr(".,:;()-\n", q[-1]))
				return true;
			for (j = 0; j < FL_ARRAY_SIZE(joins); j++) {
				size_t m = strlen(joins[j]);

				if ((size_t)(q - body) >= m && !strncmp(q - m, joins[j], m) &&
				    (q - m == body || !isalnum((unsigned char)q[-(ptrdiff_t)m - 1])))
					return true;
			}
		}
	for (p = body; (p = strstr(p, "separate ")); p++)
		for (j = 0; j < FL_ARRAY_SIZE(matters); j++)
			if (!strncmp(p + 9, matters[j], strlen(matters[j])) && (p == body || !isalnum((unsigned char)p[-1])))
				return true;
	return false;
}

static int enumerated(const char *body)
{
	/* body: in lower case */
	static const char *const announced[] = {
		"several things", "a few things", "two things", "three things", "few problems", "two unrelated",
		"several problems", "several issues", "multiple issues", "three items", "two questions",
		"a few questions", "several questions", "couple of things", "couple of questions",
	};
	const char *p;
	size_t items = 0, bracketed = 0, i;

	for (i = 0; i < FL_ARRAY_SIZE(announced); i++)
		if (strstr(body, announced[i]))
			return 2;
	if (turns_to_another_matter(body))
		return 2;
	for (p = body; (p = strpbrk(p, "123")); p++) {
		if (p[1] == ')' && (p == body || p[-1] == ' ' || p[-1] == '\n'))
			items++;
		else if (p[1] == ')' && p > body && p[-1] == '(')
			bracketed++;
	}
	/* "(1) ... (2) ...": how an agent's note or a customer numbers separate matters (never a fix tried in our sets) */
	if (bracketed >= 2)
		return 2;
	if (items >= 2 || ((strstr(body, "first,") || strstr(body, "firstly")) &&
			   (strstr(body, "second,") || strstr(body, "secondly"))))
		return 1;
	return 0;
}

json_t *support__message(const char *subject, const char *content)
{
	struct fl_buf body = FL_BUF_INIT, low = FL_BUF_INIT;
	struct span sp[MAX_SENTENCES];
	json_t *out, *questions = json_array(), *requests = json_array(), *problems = json_array(),
	       *acts = json_array(), *statements = json_array();
	size_t n, i, praise = 0, pleasantries = 0, asks = 0, other = 0, affected = 0;
	bool quoted, signature, disowned = false, exposed = false, foreign = false;

	support__own_words(content ? content : "", &body, &quoted, &signature);
	if (!body.len) /* nothing but a greeting or a signature: keep the text as it came */
		fl_buf_adds(&body, content ? content : "");
	fl_buf_grow(&low, body.len + 1);
	for (i = 0; i < body.len; i++)
		low.buf[i] = (char)tolower((unsigned char)body.buf[i]);
	low.buf[body.len] = '\0';
	low.len = body.len;
	n = clauses(body.buf, sp, sentences(body.buf, sp));
	for (i = 0; i < n; i++) {
		const char *s = body.buf + sp[i].off, *verb = NULL;
		struct support_words w;
		size_t people;
		enum act a;

		support__words_of(s, sp[i].len, &w);
		a = classify(s, sp[i].len, &w, &verb);
		json_array_append_new(acts, json_string(act_name(a)));
		people = support__affected(&w);
		if (people > affected)
			affected = people;
		disowned = disowned || support__disowned(&w);
		exposed = exposed || support__exposed(&w);
		foreign = foreign || support__foreign_data(&w);
		switch (a) {
		case ACT_QUESTION:
			json_array_append_new(questions, json_stringn(s, sp[i].len));
			asks++;
			break;
		case ACT_REQUEST:
			json_array_append_new(requests, json_pack("{s:s%, s:s}", "text", s, sp[i].len, "verb", verb));
			asks++;
			break;
		case ACT_PROBLEM:
			json_array_append_new(problems, json_stringn(s, sp[i].len));
			break;
		case ACT_PRAISE:
			praise++;
			break;
		case ACT_PLEASANTRY:
			pleasantries++;
			break;
		case ACT_OTHER:
			json_array_append_new(statements, json_stringn(s, sp[i].len));
			other++;
			break;
		}
	}
	/* the subject asks when the body does not: "How do I export?" with a body of context */
	if (!json_array_size(questions) && subject && *subject) {
		struct support_words w;
		const char *verb = NULL;

		support__words_of(subject, strlen(subject), &w);
		if (classify(subject, strlen(subject), &w, &verb) == ACT_QUESTION)
			json_array_append_new(questions, json_string(subject));
	}
	out = json_pack("{s:s, s:o, s:o, s:o, s:b, s:b, s:b, s:b, s:i, s:I, s:o}",
			"body", body.buf,
			"questions", questions,
			"requests", requests,
			"problems", problems,
			"quoted_history", quoted,
			"signature", signature,
			"praise_only", praise > 0 && !asks && !json_array_size(problems) && other <= 1,
			"bug_report", support__bug_report(low.buf),
			"enumerated", enumerated(low.buf),
			"sentences", (json_int_t)n,
			"acts", acts);
	json_object_set_new(out, "pleasantries", json_integer((json_int_t)pleasantries));
	json_object_set_new(out, "statements", statements);
	json_object_set_new(out, "affected", json_integer((json_int_t)affected));
	json_object_set_new(out, "disowned", json_boolean(disowned));
	json_object_set_new(out, "exposed", json_boolean(exposed));
	json_object_set_new(out, "foreign_data", json_boolean(foreign));
	fl_buf_release(&body);
	fl_buf_release(&low);
	return out;
}

bool support__refers_back(const char *sentence)
{
	static const char *const anaphors[] = { "it", "its", "they", "them", "their", "these", "those" };
	struct support_words w;
	size_t i, j;

	support__words_of(sentence, strlen(sentence), &w);
	for (i = 0; i < w.n; i++)
		for (j = 0; j < FL_ARRAY_SIZE(anaphors); j++)
			if (!strcmp(w.w[i], anaphors[j]))
				return true;
	return false;
}

bool support_is_thanks(const char *subject, const char *content)
{
	json_t *m = support__message(subject, content);
	bool thanks = fl_json_bool(m, "praise_only", false);

	json_decref(m);
	return thanks;
}
