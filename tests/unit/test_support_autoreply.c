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
#include "support_fixture.h"
#include "flow/flow.h"
#include "kb/kb.h"
#include "store/store.h"
#include "support/support.h"
#include "channels/email/email.h"

static int setup(void **state)
{
	return support_fx_setup(state, "autoreply.db?synchronous=off", false);
}

static int teardown(void **state)
{
	return support_fx_teardown(state);
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

/* A ticket that must not be answered, and the reason it must give. */
struct held {
	const char *channel, *subject, *content, *reason;
};

/* Processes each case (ids prefix0, prefix1, ...) and checks it is held with its reason. */
static void expect_held(struct fixture *f, const char *prefix, const struct held *cases, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		struct support_outcome o;
		char id[64];

		if (snprintf(id, sizeof(id), "%s%zu", prefix, k) >= (int)sizeof(id))
			fail_msg("id prefix '%s' too long", prefix);
		process(f, id, cases[k].channel, cases[k].subject, cases[k].content, NULL, &o);
		if (sent(&o) || strcmp(reason(&o), cases[k].reason))
			fail_msg("'%s': sent %d, reason '%s', want '%s'", cases[k].subject, sent(&o), reason(&o),
				 cases[k].reason);
		support_outcome_release(&o);
	}
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
	static const struct held cases[] = {
		{ "email", "Refund for last month's renewal", "We were charged 240 euros on 2 March for our renewal but stopped "
		  "using the workspace in February. Please refund this charge to our card.", "staff_action" },
		{ "email", "Delete all my data", "I want you to permanently delete my account and all personal data you have.",
		  "staff_action" },
		{ "email", "Someone logged into my account", "I got an email about a new sign-in from Jakarta. I have never been "
		  "there. What do we do now?", "security" },
		{ "email", "Formal notice", "Unless the full amount is refunded within 14 days, our lawyer will file a claim in "
		  "the small claims court.", "legal" },
		{ "email", "Everything is down", "Nobody in our company can sign in since 9:10, the whole company gets 503 "
		  "Service Unavailable. Is there an outage?", "outage" },
		{ "email", "A few problems", "Several things: 1) my card was declined at renewal, 2) the Android app crashes when "
		  "I open the calendar, and 3) how do I give my colleague admin rights?", "several_issues" },
		{ "email", "Calendar shows items on wrong day", "Steps to reproduce: 1. Set the time zone to Pacific/Auckland. "
		  "2. Create an item due on the 15th. 3. Open Calendar view. Expected: the 15th. Actual: the 14th.",
		  "bug_report" },
		{ "email", "Passwort vergessen", "Hallo, ich habe mein Passwort vergessen. Wie kann ich ein neues festlegen?",
		  "not_english" },
		{ "email", "Thank you!", "Just wanted to say thanks for the quick help yesterday, the import worked perfectly!",
		  "thank_you" },
		{ "email", "On-premise version?", "Do you offer a self-hosted version we could run in our own data centre?",
		  "no_article" },
	};
	expect_held(*state, "k", cases, FL_ARRAY_SIZE(cases));
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

/* An email through intake and triage, as the service does; the ticket's id into id (caller frees). */
static char *email_in(struct fixture *f, const char *raw, struct support_outcome *o)
{
	struct email_intake_opts opts = { 0 };
	struct email_intake_result r;
	char *id;

	opts.domain = "help.example.com";
	assert_int_equal(email_intake(f->store, raw, strlen(raw), &opts, &r), EMAIL_OK);
	assert_non_null(r.ticket_id);
	id = fl_strdup(r.ticket_id);
	email_intake_result_release(&r);
	if (support_process_stored(&f->ctx, f->cs, id, o) != SUPPORT_OK)
		fail_msg("process '%s': %s", id, o->error);
	return id;
}

/*
 * No spam makes or updates a CRM customer: the sender of an email becomes
 * one at the finish of a triage that found no spam, whoever's verdict it
 * would have been (here the built-in model's, which only the triage runs).
 */
static void test_spam_makes_no_customer(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	json_t *c = NULL;
	size_t before;
	char *id;

	id = email_in(f, "From: Mail Admin <admin@mailbox-helpdesk.example.top>\r\nTo: help@help.example.com\r\n"
		      "Subject: Your mailbox storage is full\r\nMessage-ID: <sp1@x>\r\n\r\n"
		      "Your mailbox storage is 99% full. Incoming messages will be rejected. Click below to upgrade your "
		      "quota for free and keep receiving mail: http://mail-quota-upgrade.example.top/login\r\n", &o);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "spam");
	assert_string_equal(fl_json_str(json_object_get(o.shared, "spam"), "by", ""), "model");
	assert_int_equal(store_customer_get(f->store, fl_json_str(o.ticket, "customer_id", ""), &c), STORE_ENOTFOUND);
	assert_int_equal(store_customer_find_by_email(f->store, "admin@mailbox-helpdesk.example.top", &c),
			 STORE_ENOTFOUND);
	support_outcome_release(&o);
	free(id);

	/* a person's question: the sender becomes a customer, with one ticket, and gets the answer */
	before = outbox_size(f);
	id = email_in(f, "From: Ann Lee <ann@customer.example>\r\nTo: help@help.example.com\r\n"
		      "Subject: Dark mode\r\nMessage-ID: <h1@x>\r\n\r\nHi, is there a dark mode, and where do I switch "
		      "it on?\r\n\r\nThanks,\r\nAnn\r\n", &o);
	assert_true(sent(&o));
	assert_int_equal(outbox_size(f), before + 1);
	assert_int_equal(store_customer_get(f->store, fl_json_str(o.ticket, "customer_id", ""), &c), STORE_OK);
	assert_string_equal(fl_json_str(c, "email", ""), "ann@customer.example");
	assert_string_equal(fl_json_str(c, "name", ""), "Ann Lee");
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 1);
	json_decref(c);
	c = NULL;
	support_outcome_release(&o);
	free(id);

	/* her next mail is spam to the model: no new ticket in her history, her record as it was */
	id = email_in(f, "From: Ann Lee <ann@customer.example>\r\nTo: help@help.example.com\r\n"
		      "Subject: Cheap meds online - 80% off\r\nMessage-ID: <sp2@x>\r\n\r\nBest prices on viagra, cialis "
		      "and other medications without prescription. Discreet worldwide shipping. Order now and get free "
		      "pills with every order: http://pills.example.top\r\n", &o);
	assert_string_equal(fl_json_str(o.ticket, "status", ""), "spam");
	assert_int_equal(store_customer_find_by_email(f->store, "ann@customer.example", &c), STORE_OK);
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 1);
	json_decref(c);
	support_outcome_release(&o);
	free(id);
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

/*
 * The kinds told by what the message says rather than by cue words: two
 * asks in one sentence, a failure counted in people, an action on the
 * account the customer disowns, a message too vague to answer, and a
 * question about what no article mentions.
 */
static void test_asks_people_and_disowned_actions_are_read(void **state)
{
	static const struct held cases[] = {
		{ "chat", "two things", "how do i change my username, and why are my webhooks failing", "several_issues" },
		{ "web", "Locked out, and an invoice", "My account is locked after too many tries. Also I need a copy of "
		  "the February invoice for our accountant.", "several_issues" },
		{ "email", "Sync broken after your update", "Since your update this morning none of our 90 drivers can "
		  "sync their jobs, every phone shows a sync error.", "outage" },
		{ "web", "Billing details changed", "Someone changed our billing details and the card on file is not "
		  "ours. None of us did this.", "security" },
		{ "web", "Issue", "I have an issue, please get back to me.", "no_article" },
		{ "chat", "apple pay", "can i pay with apple pay", "no_article" },
		/* third round: what nobody here did, named before ("admins that none of us added") or after */
		{ "web", "payment details", "Our card details were changed yesterday but nobody here did it.", "security" },
		{ "email", "Strange admins", "There are two new admins in our workspace that none of us added, and our "
		  "billing email was changed to an address we don't know.", "security" },
		/* a correction only staff can make; "for you to extend" is a request too */
		{ "email", "Invoice correction", "Hi, our March invoice lists the wrong company address. Can you correct "
		  "it and send us a new one?", "staff_action" },
		{ "chat", "trial", "is it possible for you to extend our trial by a week? still waiting for approval",
		  "staff_action" },
		{ "chat", "refund", "could you guys refund me for the extra month, i forgot to cancel in time",
		  "staff_action" },
	};
	struct fixture *f = *state;
	struct support_outcome o;

	expect_held(f, "r", cases, FL_ARRAY_SIZE(cases));
	/* a troubleshooting customer's "nobody changed anything" disowns nothing */
	process(f, "r99", "web", "Pages stopped loading", "Since this morning the pages just spin. Nobody here changed "
		"anything on the network.", NULL, &o);
	assert_false(fl_json_bool(json_object_get(o.shared, "message"), "disowned", true));
	support_outcome_release(&o);
}

/*
 * Issue 15, fourth round: chat spellings read as written ("wasnt", "didnt",
 * "u", "pls"), verbs in any form ("wants us to", "asked us to", "adding"),
 * and a second ask joined by a bare "and" with "also" or a question word.
 */
static void test_chat_spellings_verb_forms_and_run_ons(void **state)
{
	static const struct held cases[] = {
		{ "chat", "pw changed", "got a mail that my password was changed. it wasnt me", "security" },
		{ "web", "api keys", "there are api keys on our account and i didnt authorise them", "security" },
		{ "web", "new members", "strange people keep showing up in our members list, none of us are adding them",
		  "security" },
		{ "phone", "closing", "Call note: the customer wants us to close her account today and confirm by "
		  "email.", "staff_action" },
		{ "phone", "yearly", "Call note: caller asked us to move the subscription to the yearly plan.",
		  "staff_action" },
		{ "chat", "downgrade", "could u downgrade us to the team plan from next month", "staff_action" },
		{ "chat", "two things", "how do i turn on dark mode and i also want to know how to add a vat number to "
		  "our invoices", "several_issues" },
	};
	struct fixture *f = *state;
	struct support_outcome o;

	expect_held(f, "c", cases, FL_ARRAY_SIZE(cases));
	/* "likely" is no form of "like"; "i tried and was told" is one clause */
	process(f, "c9", "chat", "dark", "how do i switch the app to dark mode, my eyes hurt at night and it is likely "
		"the reason i get headaches", NULL, &o);
	assert_string_not_equal(reason(&o), "staff_action");
	support_outcome_release(&o);
}

/* Two asks of one topic, a follow-up that refers back, and a deletion by mistake are not reasons to hold. */
static void test_one_topic_asked_twice_is_answered(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *m;

	process(f, "a1", "chat", "remove user", "someone left the company, how do I remove him from our workspace?",
		NULL, &o);
	/* a short question whose top article is relevant only at 0.1-0.25, but fits every part of it */
	assert_true(sent(&o));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "article", ""), "kb_011");
	assert_true(fl_json_num(json_object_get(json_object_get(o.shared, "auto_reply"), "signals"), "relevance", 1) <
		    0.25);
	support_outcome_release(&o);
	process(f, "a2", "web", "Restore an attachment", "Someone deleted a PDF from one of our items by mistake last "
		"week. Can we get it back?", NULL, &o);
	assert_false(fl_json_bool(json_object_get(o.shared, "message"), "disowned", true));
	assert_string_not_equal(reason(&o), "security");
	support_outcome_release(&o);
	/* "I haven't changed anything" is a troubleshooting customer's, not a disowned action */
	process(f, "a4", "web", "App crashes on start", "The iOS app crashes right after the splash screen since this "
		"morning. I haven't changed anything on the phone.", NULL, &o);
	assert_false(fl_json_bool(json_object_get(o.shared, "message"), "disowned", true));
	support_outcome_release(&o);
	process(f, "a3", "email", "Account deactivated", "When I sign in I now see \"Your account has been "
		"deactivated\". Who can turn it back on?", NULL, &o);
	m = json_object_get(json_object_get(o.shared, "knowledge_base_results"), "parts");
	assert_string_equal(fl_json_str(json_array_get(m, json_array_size(m) - 1), "kind", ""), "followup");
	assert_string_not_equal(reason(&o), "several_issues");
	support_outcome_release(&o);
}

/*
 * Issue 15, third round: two asks each with an article of its own, though the
 * top article reaches 0.59 on the other (the old rule held only under 0.3); a
 * second question read as a follow-up ("... open it") that names a topic of
 * its own; a guess between neighbouring articles (weak lead, weak relevance,
 * little shared with the message); matters numbered in brackets ("(1) ...
 * (2) ...") and a turn to another matter ("Separately, ..."), the ninth
 * round.
 */
static void test_split_or_weak_evidence_is_held(void **state)
{
	static const struct held cases[] = {
		{ "chat", "two things", "how do i change my email address? and also why does the android app crash "
		  "when i open a project", "several_issues" },
		{ "chat", "name + crash", "how can i change my username? also why does the iphone app crash every time "
		  "i open it", "several_issues" },
		{ "chat", "white page", "just a white page when i open the app in firefox. chrome works",
		  "unclear_article" },
		/* numbered in brackets: separate matters, whatever each reads like */
		{ "email", "Two unrelated things", "Hi, (1) how do I change the name shown on my profile, and (2) can you "
		  "tell me why the calendar view shows tasks a day late?", "several_issues" },
		/* a turn to another matter */
		{ "email", "A couple of matters", "Our calendar view shows due dates one day early. Separately, could you "
		  "tell me where to download last month's invoice?", "several_issues" },
		{ "chat", "exports", "the pdf export cuts off long comments, and unrelated, how do i add my vat number to "
		  "invoices", "several_issues" },
	};
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *sg;

	expect_held(f, "w", cases, FL_ARRAY_SIZE(cases));
	/* the white page: a lead over 25 % (the old bar), but weak on relevance and shared weight */
	process(f, "w9", "chat", "white page", "just a white page when i open the app in firefox. chrome works", NULL,
		&o);
	sg = json_object_get(json_object_get(o.shared, "auto_reply"), "signals");
	assert_true(fl_json_num(sg, "margin", 0) >= 0.25);
	assert_true(fl_json_num(sg, "matched_weight", 99) < 8);
	support_outcome_release(&o);
	/* one bracketed number is a reference, not a list; "separately" and "separate" inside a clause are no turn */
	process(f, "w10", "email", "Export", "As I wrote in point (1) of my last mail, the CSV export fails.", NULL, &o);
	assert_int_equal(fl_json_int(json_object_get(o.shared, "message"), "enumerated", -1), 0);
	support_outcome_release(&o);
	process(f, "w11", "email", "Invoices", "Can each of our departments be invoiced separately? They use separate "
		"passwords too.", NULL, &o);
	assert_int_equal(fl_json_int(json_object_get(o.shared, "message"), "enumerated", -1), 0);
	support_outcome_release(&o);
	/* one word of weight with a relevant article is still answered: "handle" is the username */
	process(f, "w10", "chat", "change handle", "how do i change my handle?", NULL, &o);
	assert_true(sent(&o));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "article", ""), "kb_007");
	support_outcome_release(&o);
	/* asking how to cancel is a question, not a churn threat for a person */
	process(f, "w12", "chat", "cancel", "how do i cancel my subscription", NULL, &o);
	assert_true(sent(&o));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "article", ""), "kb_019");
	support_outcome_release(&o);
	/* what customers call a feature: "ping" is a mention */
	process(f, "w11", "chat", "ping team", "how do i ping my whole design team in a comment at once", NULL, &o);
	assert_true(sent(&o));
	assert_string_equal(fl_json_str(json_object_get(o.shared, "auto_reply"), "article", ""), "kb_035");
	support_outcome_release(&o);
}

static void test_ticket_is_searched_in_its_language(void **state)
{
	struct fixture *f = *state;
	struct support_outcome o;
	const json_t *kbr;

	process(f, "de1", "email", "Passwort vergessen", "Hallo, ich habe mein Passwort vergessen und komme nicht mehr "
		"in mein Konto. Wie kann ich ein neues festlegen?", NULL, &o);
	kbr = json_object_get(o.shared, "knowledge_base_results");
	assert_string_equal(fl_json_str(kbr, "language", ""), "de");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(kbr, "articles"), 0), "id", ""), "kb_001_de");
	/* the built-in replies are English: a person answers */
	assert_false(sent(&o));
	assert_string_equal(reason(&o), "not_english");
	support_outcome_release(&o);
	/* French: the French billing-cycle article */
	process(f, "fr1", "web", "Cycle de facturation", "Bonjour, comment passer de la facturation mensuelle à la "
		"facturation annuelle ? Merci.", NULL, &o);
	kbr = json_object_get(o.shared, "knowledge_base_results");
	assert_string_equal(fl_json_str(kbr, "language", ""), "fr");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(kbr, "articles"), 0), "id", ""), "kb_014_fr");
	assert_false(sent(&o));
	support_outcome_release(&o);
	/* Spanish: no Spanish articles, so every article is searched */
	process(f, "es1", "email", "Cancelar suscripción", "Hola, ¿cómo puedo cancelar mi suscripción? No quiero que me "
		"cobren el próximo mes.", NULL, &o);
	kbr = json_object_get(o.shared, "knowledge_base_results");
	assert_null(json_object_get(kbr, "language"));
	assert_false(sent(&o));
	support_outcome_release(&o);
	/* English tickets never meet the translations */
	process(f, "en1", "web", "Forgot my password", "I forgot my password. How do I set a new one?", NULL, &o);
	kbr = json_object_get(o.shared, "knowledge_base_results");
	assert_string_equal(fl_json_str(kbr, "language", ""), "en");
	assert_string_equal(fl_json_str(json_array_get(json_object_get(kbr, "articles"), 0), "id", ""), "kb_001");
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

/*
 * Issue 15, fifth round (fresh4's misses): a request for someone senior or
 * to be contacted, a threat to leave or go public, an agent's note that the
 * caller was upset, a question whether something is down, a team counted
 * in brackets, and a yes-or-no question naming a product no article has,
 * however relevant the neighbouring article.
 */
static void test_escalations_outages_and_unknown_products_are_held(void **state)
{
	static const struct held cases[] = {
		{ "email", "CSV export", "The CSV export has failed all week. I want this escalated to a senior engineer "
		  "today.", "upset_customer" },
		{ "email", "Export again", "How do I export all our projects to CSV? If this keeps breaking we will take "
		  "our business elsewhere.", "upset_customer" },
		{ "phone", "Invoices", "Call note: the customer was shouting throughout, her invoices do not open in the "
		  "app.", "upset_customer" },
		{ "web", "My plan", "I have a question about my plan. Could you get in touch with me?", "upset_customer" },
		{ "chat", "app", "is the mobile app down right now? it will not sync for me", "outage" },
		{ "chat", "calendar", "anyone else seeing the calendar down today?", "outage" },
		{ "email", "Notifications", "Nobody in our support group (11 agents, all on laptops) has received a "
		  "notification since 10am.", "outage" },
		{ "email", "Client library", "Is there an official Rust or Kotlin client library for your REST API?",
		  "not_in_kb" },
		{ "email", "Passkeys", "Our IT department only allows Bitwarden passkeys. Can we use those for "
		  "two-factor sign-in?", "not_in_kb" },
	};
	struct fixture *f = *state;
	struct support_outcome o;

	expect_held(f, "e", cases, FL_ARRAY_SIZE(cases));
	/* a day of the week is no product: "every Friday" */
	process(f, "e9", "web", "Schedule a report", "Can a report be emailed to my manager every Friday "
		"automatically?", NULL, &o);
	assert_string_not_equal(reason(&o), "not_in_kb");
	support_outcome_release(&o);
	/*
	 * a name in chat's lower case: no dictionary has "venmo" (the article
	 * model alone would hold it otherwise, as another kind); a word the
	 * dictionary has, no article does and the question does not turn on,
	 * is no name ("students" of the nonprofit discount)
	 */
	process(f, "e10", "chat", "can i pay with venmo?", "can i pay with venmo? i dont have a card", NULL, &o);
	assert_string_equal(reason(&o), "not_in_kb");
	{
		const json_t *said = json_object_get(json_object_get(json_object_get(o.shared, "auto_reply"), "signals"),
						     "not_mentioned");

		assert_string_equal(json_string_value(json_array_get(said, 0)), "venmo");
	}
	support_outcome_release(&o);
	process(f, "e11", "chat", "discount", "do you have any discount for nonprofits or students", NULL, &o);
	assert_true(sent(&o));
	support_outcome_release(&o);
}

/*
 * The sixth round's readings, in words of no set: an outage said of any
 * group of ours or by others reporting it, a secret exposed without an
 * intruder, and a bug report's evidence without "steps to reproduce"
 * (reproduced, repeated tries beside a case that works, an exact request
 * with a 2xx). Each case is answered, or held for another reason, before
 * these readings.
 */
static void test_group_failures_exposed_secrets_and_reproduced_bugs_are_held(void **state)
{
	static const struct held cases[] = {
		{ "web", "Dashboards", "Since lunch the dashboards load for none of us here and all of us just see a "
		  "spinner.", "outage" },
		{ "email", "Calendar", "The calendar doesn't load for any of my 25 colleagues since this morning.", "outage" },
		{ "chat", "sync", "the desktop app stopped syncing for everyone in our office, what should we do", "outage" },
		{ "email", "Reports", "Scheduled reports are not arriving. Other customers on your community forum are "
		  "reporting the same problem.", "outage" },
		{ "chat", "notifications", "push notifications are not working, and i'm not the only one, my friend at "
		  "another company has it too", "outage" },
		{ "chat", "files", "attachments wont upload for anybody in my department, is something wrong on your end",
		  "outage" },
		{ "email", "Token", "A developer posted our personal access token in a public Slack community yesterday. "
		  "What should we do now?", "security" },
		{ "web", "Credentials", "Our service account credentials were committed to a public repo by mistake last "
		  "night.", "security" },
		{ "chat", "pw", "i pasted my admin password into a google doc that the whole agency can see, how bad is "
		  "that", "security" },
		{ "email", "Filter", "The due-date filter drops tasks that are due today. I reproduced it on two accounts.",
		  "bug_report" },
		{ "chat", "export", "exporting a board to pdf cuts off the last column. did it 4 times, the csv export of "
		  "the same board works fine", "bug_report" },
		{ "api", "Search API", "POST /v1/search with {\"q\":\"invoice\"} returns 200 but an empty list, while the "
		  "same search in the web app finds 12 items.", "bug_report" },
		{ "web", "Comments", "Editing a comment with a link in it erases the link, consistently, while comments "
		  "without links save fine.", "bug_report" },
	};
	/* the same words in questions an article answers */
	static const struct held answered[] = {
		{ "chat", "pw reset", "i tried 3 times to reset my password and never got the email, what am i doing "
		  "wrong", NULL },
		{ "chat", "app", "does the mobile app work offline?", NULL },
		{ "email", "Token", "How do I rotate an API token that I shared with a contractor?", NULL },
		{ "api", "403", "GET works fine but POST /v1/items returns 403. How do I fix this?", NULL },
	};
	struct fixture *f = *state;
	size_t k;

	expect_held(f, "g", cases, FL_ARRAY_SIZE(cases));
	for (k = 0; k < FL_ARRAY_SIZE(answered); k++) {
		struct support_outcome o;
		char id[32];

		snprintf(id, sizeof(id), "ga%zu", k);
		process(f, id, answered[k].channel, answered[k].subject, answered[k].content, NULL, &o);
		if (!sent(&o))
			fail_msg("'%s': held as '%s', want it answered", answered[k].content, reason(&o));
		support_outcome_release(&o);
	}
}

/*
 * Another organisation's data in front of the customer, in words of no set:
 * a leak between customers, held as a security incident whatever the
 * search finds. The same words asked or wished, or said of a person from
 * elsewhere who sees ours, are not.
 */
static void test_another_organisations_data_is_a_security_incident(void **state)
{
	static const struct held cases[] = {
		{ "email", "Search results", "Since this morning our search shows invoices from another company. I can "
		  "open them.", "security" },
		{ "chat", "sidebar", "i'm seeing a project called Q3 Roadmap in my sidebar that isn't ours", "security" },
		{ "chat", "board", "one of my team just opened a board that belongs to a different customer, with their "
		  "contacts in it", "security" },
		{ "email", "Export", "We received the weekly export email, but it has someone else's tasks in the "
		  "attachment.", "security" },
		{ "web", "Activity feed", "Our activity feed is showing comments from another organisation, with names "
		  "we have never heard of.", "security" },
		{ "chat", "files", "hey i can see files in the shared folder that don't belong to us, looks like another "
		  "client's stuff", "security" },
	};
	static const char *const not_foreign[] = {
		"How do I share a board with another company we work with?",
		"Can other companies see our projects if we make a public link?",
		"We want a contractor from another company to see only one project. How do we do that?",
		"We invited a consultant from another company and she can see all our projects. How do I limit her?",
		"I have not accessed other customers' data, I only tested my own workspace.",
		"My colleague at another company sees the same thing, they get a blank page too.",
	};
	struct fixture *f = *state;
	size_t k;

	expect_held(f, "fd", cases, FL_ARRAY_SIZE(cases));
	for (k = 0; k < FL_ARRAY_SIZE(not_foreign); k++) {
		struct support_outcome o;
		char id[32];

		snprintf(id, sizeof(id), "nf%zu", k);
		process(f, id, "email", "A question", not_foreign[k], NULL, &o);
		if (fl_json_bool(json_object_get(o.shared, "message"), "foreign_data", false))
			fail_msg("'%s' read as another organisation's data", not_foreign[k]);
		support_outcome_release(&o);
	}
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
		T(test_spam_makes_no_customer),
		T(test_thank_you_needs_no_reply_and_no_handoff),
		T(test_language_routes_to_a_language_queue),
		T(test_asks_people_and_disowned_actions_are_read),
		T(test_chat_spellings_verb_forms_and_run_ons),
	T(test_one_topic_asked_twice_is_answered),
		T(test_split_or_weak_evidence_is_held),
		T(test_ticket_is_searched_in_its_language),
		T(test_reply_is_plain_text_with_an_html_alternative),
		T(test_chat_reply_is_short),
		T(test_lifetime_count_alone_is_no_escalation_risk),
		T(test_escalations_outages_and_unknown_products_are_held),
		T(test_group_failures_exposed_secrets_and_reproduced_bugs_are_held),
		T(test_another_organisations_data_is_a_security_incident),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
