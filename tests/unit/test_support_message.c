/*
 * The message reading's request for staff action (message.c,
 * staff_request.c), without the rest of the triage: a request addressed to
 * us whose verb acts on the customer's account is a staff action whatever
 * the verb ("could you redo the march invoice"), so is the state of one
 * wished for ("we'd like the renewal pushed back"), and a question that asks
 * how, or asks us only to tell, show or help, is not.
 */
#include "test_helpers.h"

#include "support/support.h"
#include "support/support_int.h"

/* The verb of the message's first request, or NULL when it has none. */
static char *request_verb(const char *content)
{
	json_t *m = support__message("", content);
	const json_t *r = json_array_get(json_object_get(m, "requests"), 0);
	char *verb = r ? fl_strdup(fl_json_str(r, "verb", "")) : NULL;

	json_decref(m);
	return verb;
}

static void test_any_verb_addressed_to_us_on_the_account_is_a_request(void **state)
{
	static const char *const cases[][2] = {
		{ "could you redo the march invoice with our new company address on it", "redo" },
		{ "pls merge our two workspaces into one", "merge" },
		{ "we need you to split the last charge across two cards", "split" },
		{ "can u guys bump our seats to 12 from monday", "bump" },
		{ "Would you please backdate the subscription to the 1st?", "backdate" },
		{ "can you guys give us two more weeks on the trial, our boss is away", "give" },
		{ "Our budget is signed off late. We'd like the renewal pushed back by four weeks.", "pushed" },
		{ "Kindly rerun the payment on our account, the card is topped up now.", "rerun" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		char *verb = request_verb(cases[i][0]);

		if (!verb || strcmp(verb, cases[i][1]))
			fail_msg("'%s': verb '%s', expected '%s'", cases[i][0], verb ? verb : "(no request)", cases[i][1]);
		free(verb);
	}
}

static void test_asking_how_or_to_be_told_is_not_a_request(void **state)
{
	static const char *const cases[] = {
		"can you tell me how to redo an invoice with a new address",
		"could you explain why our invoice went up this month",
		"how do i split a charge across two cards",
		"can i bump the seats on our plan myself",
		"is it possible to backdate a subscription",
		"where do i re-run a failed payment on my account",
		"please let me know where the invoice for march is",
		"can you help me move my data to the new workspace",
		"can you export our data to csv?",
		"could you walk me through adding seats to the plan",
		"could you give me an overview of what each plan includes",
		"we'd like to know which day the renewal is charged",
		"i need the invoice that was emailed last week, where is it",
		"please reply to my email about the invoice, it has been a week",
	};
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		char *verb = request_verb(cases[i]);

		if (verb)
			fail_msg("'%s' read as a request (verb '%s')", cases[i], verb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_verb_addressed_to_us_on_the_account_is_a_request),
		cmocka_unit_test(test_asking_how_or_to_be_told_is_not_a_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
