/*
 * Tests of what issue 15 asks of automatic replies: the message read whole
 * (quoted history, greeting and signature set aside; questions, requests,
 * thanks and bug reports told apart), the decision (sent only when one
 * question is answered; the kinds that never get an automatic answer, each
 * with its reason in the analysis and the trace), the statuses and effects
 * that follow (spam, thank-you notes), and replies people can read (plain
 * text without Markdown, an HTML alternative, the article cited, no
 * department ids, short on chat). Bundled models and articles, a real SQLite
 * store in a temporary directory.
 */
#include <stdio.h>

#include "test_helpers.h"
#include "flow/flow.h"
#include "kb/kb.h"
#include "store/store.h"
#include "support/support.h"

struct fixture {
	char *dir;
	struct support_analyzer *analyzer;
	struct kb *kb;
	struct store *store;
	struct support_ctx ctx;
	struct flow_node *cs;
};

static int64_t fixed_now(void *arg)
{
	(void)arg;
	return INT64_C(1709294400000000);
}

static int setup(void **state)
{
	struct fixture *f = fl_calloc(1, sizeof(*f));
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb");
	char *url, *err = NULL;
	size_t n;

	f->dir = test_tmpdir();
	url = fl_asprintf("sqlite://%s/autoreply.db?synchronous=off", f->dir);
	if (support_analyzer_open(models, &f->analyzer, &err) != SUPPORT_OK || kb_open(NULL, &f->kb, &err) != KB_OK ||
	    store_open(url, &f->store, &err) != STORE_OK || support_kb_load(f->store, f->kb, kbdir, &n, &err))
		fail_msg("setup: %s", err);
	f->ctx.analyzer = f->analyzer;
	f->ctx.kb = f->kb;
	f->ctx.store = f->store;
	f->ctx.now_us = fixed_now;
	f->cs = support_workflow_find("customer_support")->build();
	free(models);
	free(kbdir);
	free(url);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	flow_node_free(f->cs);
	store_close(f->store);
	kb_close(f->kb);
	support_analyzer_free(f->analyzer);
	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Processes a ticket (stored); o is the caller's to release. */
static void process(struct fixture *f, const char *id, const char *channel, const char *subject,
		    const char *content, json_t *metadata, struct support_outcome *o)
{
	json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", id, "customer_id", "cust_t", "subject", subject,
			      "content", content, "channel", channel, "metadata", metadata ? metadata : json_object());

	if (support_process(&f->ctx, f->cs, t, o) != SUPPORT_OK)
		fail_msg("process '%s': %s", id, o->error);
	json_decref(t);
}

static const char *reason(const struct support_outcome *o)
{
	return fl_json_str(json_object_get(o->shared, "auto_reply"), "reason", "");
}

static bool sent(const struct support_outcome *o)
{
	return !strcmp(fl_json_str(o->ticket, "status", ""), "auto_replied");
}

static size_t outbox_size(struct fixture *f)
{
	json_t *list = NULL;
	size_t n;

	assert_int_equal(store_outbox_list(f->store, NULL, 500, &list), STORE_OK);
	n = json_array_size(json_object_get(list, "items")) + json_array_size(list);
	json_decref(list);
	return n;
}

/* ---- reading the message ---- */

static void test_message_sets_aside_quotes_greeting_and_signature(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *m;

	process(f, "m1", "email", "Re: API integration",
		"Hi again,\n\nWe still get 401 on every request from staging. Could a trailing newline in the key be "
		"the cause?\n\nBest,\nAndres\n\nOn Tue, 14 May 2024 at 16:02, Support <s@example.com> wrote:\n"
		"> Could you try creating a new API key?\n> How do I reset my password?\n", NULL, &o);
	m = json_object_get(o.shared, "message");
	assert_true(fl_json_bool(m, "quoted_history", false));
	assert_true(fl_json_bool(m, "signature", false));
	assert_null(strstr(fl_json_str(m, "body", ""), "reset my password"));
	assert_null(strstr(fl_json_str(m, "body", ""), "Andres"));
	assert_null(strstr(fl_json_str(m, "body", ""), "Hi again"));
	assert_int_equal(json_array_size(json_object_get(m, "questions")), 1);
	assert_non_null(strstr(json_string_value(json_array_get(json_object_get(m, "questions"), 0)), "newline"));
	/* the quoted question is not what was searched for */
	assert_null(strstr(fl_json_str(json_object_get(o.shared, "knowledge_base_results"), "query", ""), "password"));
	support_outcome_release(&o);
}

static void test_question_late_in_a_long_message_is_answered(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *cited;

	process(f, "m2", "email", "Question about the display",
		"Hello there,\n\nI hope you're all doing well. Our team of twelve has used the product for six months "
		"now and it has changed how we plan our sprints: we used to run everything through a shared "
		"spreadsheet and a lot of email, and now we have a board that everybody looks at. Our designers like "
		"the timeline view, our account managers share read-only links with clients, and the onboarding call "
		"we had in spring was excellent. We have also connected our chat tool and set up a few rules that "
		"assign new items to whoever is on duty, which saves us a lot of back and forth every single week.\n\n"
		"Anyway, the reason I'm writing: I work late most evenings and the bright white screen is hard on my "
		"eyes. Is there a dark mode, and if so, where do I switch it on?\n\nThanks a lot,\nMiriam", NULL, &o);
	cited = json_object_get(json_object_get(o.shared, "generated_response"), "articles_referenced");
	assert_string_equal(json_string_value(json_array_get(cited, 0)), "kb_037");
	assert_true(sent(&o));
	assert_string_equal(reason(&o), "answered");
	support_outcome_release(&o);
}

/* ---- the decision ---- */

static void test_answered_question_is_sent_with_its_reason(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *trace, *step;
	size_t i;
	bool noted = false;

	process(f, "d1", "web", "Promo code says not valid for this plan",
		"I got a 20% code from a webinar but when I apply it, it says \"Not valid for this plan\". I'm on "
		"monthly billing. Why?", NULL, &o);
	assert_true(sent(&o));
	assert_true(fl_json_bool(json_object_get(o.shared, "auto_reply"), "sent", false));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "article", ""), "kb_022");
	/* the trace says it too */
	trace = o.trace;
	json_array_foreach(trace, i, step)
		if (json_object_get(step, "auto_reply"))
			noted = true;
	assert_true(noted);
	/* and the stored analysis */
	assert_non_null(json_object_get(json_object_get(o.ticket, "analysis"), "auto_reply"));
	support_outcome_release(&o);
}

static void test_kinds_that_never_get_an_automatic_answer(void **state)
{
	static const struct { const char *subject, *content, *reason; } cases[] = {
		{ "Refund for last month's renewal", "We were charged 240 euros on 2 March for our renewal but stopped "
		  "using the workspace in February. Please refund this charge to our card.", "staff_action" },
		{ "Delete all my data", "I want you to permanently delete my account and all personal data you have.",
		  "staff_action" },
		{ "Someone logged into my account", "I got an email about a new sign-in from Jakarta. I have never been "
		  "there. What do we do now?", "security" },
		{ "Formal notice", "Unless the full amount is refunded within 14 days, our lawyer will file a claim in "
		  "the small claims court.", "legal" },
		{ "Everything is down", "Nobody in our company can sign in since 9:10, the whole company gets 503 "
		  "Service Unavailable. Is there an outage?", "outage" },
		{ "A few problems", "Several things: 1) my card was declined at renewal, 2) the Android app crashes when "
		  "I open the calendar, and 3) how do I give my colleague admin rights?", "several_issues" },
		{ "Calendar shows items on wrong day", "Steps to reproduce: 1. Set the time zone to Pacific/Auckland. "
		  "2. Create an item due on the 15th. 3. Open Calendar view. Expected: the 15th. Actual: the 14th.",
		  "bug_report" },
		{ "Passwort vergessen", "Hallo, ich habe mein Passwort vergessen. Wie kann ich ein neues festlegen?",
		  "not_english" },
		{ "Thank you!", "Just wanted to say thanks for the quick help yesterday, the import worked perfectly!",
		  "thank_you" },
		{ "On-premise version?", "Do you offer a self-hosted version we could run in our own data centre?",
		  "no_article" },
	};
	struct fixture *f = *state;
	size_t k;

	for (k = 0; k < FL_ARRAY_SIZE(cases); k++) {
		struct support_outcome o;
		char id[16];

		snprintf(id, sizeof(id), "k%zu", k);
		process(f, id, "email", cases[k].subject, cases[k].content, NULL, &o);
		if (sent(&o) || strcmp(reason(&o), cases[k].reason))
			fail_msg("'%s': sent %d, reason '%s', want '%s'", cases[k].subject, sent(&o), reason(&o),
				 cases[k].reason);
		support_outcome_release(&o);
	}
}

static void test_spam_is_listed_not_answered(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	json_t *meta = json_pack("{s:{s:b, s:{s:s, s:s}}}", "email", "auto_reply", 0, "spam", "verdict", "spam",
				 "by", "X-Spam-Flag");
	size_t before = outbox_size(f);

	process(f, "s1", "email", "How do I reset my password?",
		"Best replica watches and designer handbags! http://cheap-watches.example/deal", meta, &o);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "spam");
	assert_string_equal(reason(&o), "spam");
	assert_null(json_object_get(o.shared, "escalation_package"));
	assert_true(json_is_null(json_object_get(json_object_get(o.shared, "satisfaction_metrics"),
						  "satisfaction_score")));
	assert_int_equal(outbox_size(f), before);   /* no reply, no notification */
	support_outcome_release(&o);

	/* the model, without any header: a phishing text */
	process(f, "s2", "web", "Verify your mailbox now",
		"Your mailbox storage is 99% full. Incoming messages will be rejected. Click below to upgrade your quota "
		"for free and keep receiving mail: http://mail-quota-upgrade.example.top/login", NULL, &o);
	assert_string_equal(fl_json_str(json_object_get(o.shared, "spam"), "by", ""), "model");
	assert_false(sent(&o));
	support_outcome_release(&o);
}

static void test_thank_you_needs_no_reply_and_no_handoff(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;

	process(f, "ty1", "chat", "thanks", "perfect, all sorted now. thank you!! :)", NULL, &o);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "resolved");
	assert_null(json_object_get(o.shared, "escalation_package"));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "satisfaction_metrics"), "basis", ""),
			    "not_applicable");
	assert_true(support_is_thanks("Re: your ticket", "Thank you very much, much appreciated."));
	assert_false(support_is_thanks("Thanks", "Thanks! One more thing: how do I export my data?"));
	support_outcome_release(&o);
}

static void test_language_routes_to_a_language_queue(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *lang;

	process(f, "l1", "web", "Dunkelmodus", "Gibt es einen Dunkelmodus für die Web-App? Wo kann ich ihn einschalten?",
		NULL, &o);
	lang = json_object_get(o.shared, "language");
	assert_string_equal(fl_json_str(lang, "code", ""), "de");
	assert_true(fl_json_num(lang, "confidence", 0) > 0.5);
	assert_false(sent(&o));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "escalation_decision"), "assigned_department", ""),
			    "multilingual_support");
	/* kept on the ticket (its own column, migration 7), which summaries show */
	assert_string_equal(fl_json_str(o.ticket, "language", ""), "de");
	{
		json_t *page = NULL, *upd = NULL, *bad = json_pack("{s:s}", "language", "not a tag!");
		struct store_ticket_filter flt = { .customer_id = "cust_t", .limit = 50 };
		size_t i;
		bool found = false;

		assert_int_equal(store_ticket_list(f->store, &flt, &page), STORE_OK);
		for (i = 0; i < json_array_size(json_object_get(page, "tickets")); i++) {
			const json_t *t = json_array_get(json_object_get(page, "tickets"), i);

			if (!strcmp(fl_json_str(t, "id", ""), "l1"))
				found = fl_str_eq(fl_json_str(t, "language", ""), "de");
		}
		assert_true(found);
		assert_int_equal(store_ticket_update(f->store, "l1", 0, bad, "test", &upd), STORE_EINVAL);
		json_decref(bad);
		json_decref(upd);
		json_decref(page);
	}
	support_outcome_release(&o);
}

/* ---- replies people can read ---- */

static void test_reply_is_plain_text_with_an_html_alternative(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *g;
	const char *text, *html;

	fl_config_set("FRONTLINE_PUBLIC_URL", "https://help.example.com/");
	process(f, "r1", "email", "Dark theme on phone only",
		"I'd like the app dark on my phone but light on my work computer. Is that possible?", NULL, &o);
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
	g = json_object_get(o.shared, "generated_response");
	text = fl_json_str(g, "response", "");
	html = fl_json_str(g, "response_html", "");
	assert_true(sent(&o));
	/* the article's **Settings > Appearance** without the marks in text, in <strong> in HTML */
	assert_null(strstr(text, "**"));
	assert_non_null(strstr(text, "Settings > Appearance"));
	assert_non_null(strstr(html, "<strong>Settings &gt; Appearance</strong>"));
	assert_non_null(strstr(html, "<ol>"));
	/* cited with its title and link */
	assert_non_null(strstr(text, "\"Using Dark Mode and Display Settings\""));
	assert_non_null(strstr(text, "https://help.example.com/articles/kb_037"));
	assert_non_null(strstr(html, "href=\"https://help.example.com/articles/kb_037\""));
	support_outcome_release(&o);

	/* a draft never names an internal department */
	process(f, "r2", "email", "Reseller program", "We'd like to resell your product to our clients with a "
		"margin. Do you have a partner or reseller program?", NULL, &o);
	text = fl_json_str(json_object_get(o.shared, "generated_response"), "response", "");
	assert_null(strchr(text, '_'));
	support_outcome_release(&o);
}

static void test_chat_reply_is_short(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o, e;

	process(f, "c1", "chat", "promo code", "where do i enter a promo code?", NULL, &o);
	process(f, "c2", "email", "promo code", "where do i enter a promo code?", NULL, &e);
	assert_true(sent(&o));
	assert_null(strstr(fl_json_str(json_object_get(o.shared, "generated_response"), "response", ""),
			   "Best regards"));
	assert_true(strlen(fl_json_str(json_object_get(o.shared, "generated_response"), "response", "")) <
		    strlen(fl_json_str(json_object_get(e.shared, "generated_response"), "response", "")));
	support_outcome_release(&o);
	support_outcome_release(&e);
}

/* ---- priority ---- */

static void test_lifetime_count_alone_is_no_escalation_risk(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;

	/* ten years of tickets, none of them recent or open */
	process(f, "p1", "web", "promo code", "where do i enter a promo code?",
		json_pack("{s:i}", "previous_interactions", 40), &o);
	assert_string_equal(fl_json_str(json_object_get(o.shared, "priority_assignment"), "escalation_risk", ""),
			    "low");
	support_outcome_release(&o);
	/* three tickets this month and two still open: a risk */
	process(f, "p2", "web", "promo code", "where do i enter a promo code?",
		json_pack("{s:i, s:i}", "recent_tickets", 3, "open_tickets", 2), &o);
	assert_string_equal(fl_json_str(json_object_get(o.shared, "priority_assignment"), "escalation_risk", ""),
			    "high");
	support_outcome_release(&o);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_message_sets_aside_quotes_greeting_and_signature),
		T(test_question_late_in_a_long_message_is_answered),
		T(test_answered_question_is_sent_with_its_reason),
		T(test_kinds_that_never_get_an_automatic_answer),
		T(test_spam_is_listed_not_answered),
		T(test_thank_you_needs_no_reply_and_no_handoff),
		T(test_language_routes_to_a_language_queue),
		T(test_reply_is_plain_text_with_an_html_alternative),
		T(test_chat_reply_is_short),
		T(test_lifetime_count_alone_is_no_escalation_risk),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
