/*
 * The store's other records, against every backend (store_fixture.h):
 * customers and their metrics, KB articles, escalations (one open per
 * ticket), the append-only event log, metrics over a window, API tokens
 * (hashes only), the email channel's records (blobs, raw mail, IMAP state)
 * and monitor alerts.
 *
 * Tickets are in test_store_tickets.c; queues, leases, transactions and
 * group commit in test_store_queue.c.
 */
#include "test_helpers.h"

#include <math.h>

#include "store_fixture.h"

static void test_store_customer_metrics_follow_the_seed(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *c = NULL, *list = NULL;
	json_t *john = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "id", "cust_001", "name", "John Doe",
				 "email", "john.doe@company.com", "tier", "premium", "joined_at", "2023-01-15",
				 "total_tickets", 5, "satisfaction_score", 0.85);

	OK(store_customer_upsert(st, john));
	OK(store_customer_update_metrics(st, "cust_001", 0.95));
	OK(store_customer_get(st, "cust_001", &c));
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 6);
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.90) < 1e-9);
	assert_string_equal(fl_json_str(c, "joined_at", ""), "2023-01-15T00:00:00.000Z");
	json_decref(c);
	OK(store_customer_update_metrics(st, "cust_001", -1));
	OK(store_customer_find_by_email(st, "JOHN.DOE@company.com", &c));
	assert_int_equal(fl_json_int(c, "total_tickets", 0), 7);
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.90) < 1e-9);
	json_decref(c);
	/* An upsert keeps the fields it does not name. */
	OK(store_customer_upsert(st, J("{s:s, s:s}", "id", "cust_001", "tier", "enterprise")));
	OK(store_customer_get(st, "cust_001", &c));
	assert_string_equal(fl_json_str(c, "name", ""), "John Doe");
	assert_string_equal(fl_json_str(c, "tier", ""), "enterprise");
	json_decref(c);
	/* No score yet: the first one is taken as is. */
	OK(store_customer_upsert(st, J("{s:s, s:s}", "id", "cust_new", "name", "New")));
	OK(store_customer_update_metrics(st, "cust_new", 0.6));
	OK(store_customer_get(st, "cust_new", &c));
	assert_true(fabs(fl_json_num(c, "satisfaction_score", 0) - 0.6) < 1e-9);
	json_decref(c);
	assert_int_equal(store_customer_update_metrics(st, "ghost", 0.5), STORE_ENOTFOUND);
	assert_int_equal(store_customer_update_metrics(st, "cust_001", 1.5), STORE_EINVAL);
	assert_int_equal(store_customer_upsert(st, J("{s:s, s:s}", "id", "x", "tier", "gold")),
			 STORE_EINVAL);
	OK(store_customer_list(st, 0, 0, &list));
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	json_decref(john);
}

static void test_store_kb_articles_round_trip(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *list = NULL;

	OK(store_kb_upsert(st, J("{s:s, s:s, s:s, s:s, s:[s,s], s:i}", "id", "kb_002", "title",
			   "Common Billing Issues and Solutions", "content", "Refunds take 5-7 business days.",
			   "category", "billing", "tags", "billing", "refund", "views", 10)));
	OK(store_kb_upsert(st, J("{s:s, s:s, s:s}", "id", "kb_001", "title", "How to Reset Your Password",
			   "content", "Use the Forgot Password link.")));
	OK(store_kb_upsert(st, J("{s:s, s:i}", "id", "kb_002", "helpful_votes", 4)));
	OK(store_kb_upsert(st, J("{s:s, s:s, s:s, s:s}", "id", "kb_001-de", "title", "Passwort zurücksetzen",
			   "content", "Klicken Sie auf Passwort vergessen.", "language", "de")));
	OK(store_kb_get(st, "kb_002", &a));
	assert_int_equal(fl_json_int(a, "views", 0), 10);
	assert_int_equal(fl_json_int(a, "helpful_votes", 0), 4);
	assert_int_equal(json_array_size(json_object_get(a, "tags")), 2);
	/* an article that names no language is in the default one, and an update keeps it */
	assert_string_equal(fl_json_str(a, "language", ""), "en");
	json_decref(a);
	OK(store_kb_upsert(st, J("{s:s, s:i}", "id", "kb_001-de", "views", 3)));
	OK(store_kb_get(st, "kb_001-de", &a));
	assert_string_equal(fl_json_str(a, "language", ""), "de");
	json_decref(a);
	OK(store_kb_list(st, &list));
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "id", ""), "kb_001");
	json_decref(list);
	OK(store_kb_delete(st, "kb_001-de"));
	assert_int_equal(store_kb_upsert(st, J("{s:s, s:s, s:s, s:s}", "id", "kb_003", "title", "T", "content", "C",
						"language", "de'; --")), STORE_EINVAL);
	OK(store_kb_delete(st, "kb_001"));
	assert_int_equal(store_kb_delete(st, "kb_001"), STORE_ENOTFOUND);
	assert_int_equal(store_kb_upsert(st, J("{s:s}", "id", "kb_009")), STORE_EINVAL);
}

static void test_store_escalations_one_open_per_ticket(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *e1 = NULL, *e2 = NULL, *e3 = NULL, *list = NULL, *x = NULL;
	bool created;

	store_set_clock(st, fx_fake_now, f);
	OK(store_ticket_intake(st, TICKET("e1", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, TICKET("e2", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_escalation_open(st, "e1", "medium", "support", J("{s:s}", "summary", "x"), &e1, &created));
	assert_true(created);
	f->now += 1000;
	OK(store_escalation_open(st, "e1", "critical", "support", NULL, &e2, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(e1, "id", 0), fl_json_int(e2, "id", 1));
	OK(store_escalation_open(st, "e2", "critical", "engineering", NULL, &e3, &created));
	assert_true(created);
	OK(store_escalation_open(st, "e2", "low", "x", NULL, NULL, &created)); /* without reading it back */
	assert_false(created);
	OK(store_ticket_intake(st, TICKET("e3", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_escalation_open(st, "e3", "low", "x", J("{s:s}", "summary", "y"), NULL, &created));
	assert_true(created);
	OK(store_escalation_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(fl_json_str(json_object_get(json_array_get(list, 2), "package"), "summary", ""), "y");
	assert_string_equal(fl_json_str(json_array_get(list, 0), "ticket_id", ""), "e2"); /* critical first */
	json_decref(list);
	OK(store_escalation_claim(st, fl_json_int(e1, "id", 0), "alice", &x));
	assert_string_equal(fl_json_str(x, "status", ""), "claimed");
	json_decref(x);
	assert_int_equal(store_escalation_claim(st, fl_json_int(e1, "id", 0), "bob", &x), STORE_ECONFLICT);
	assert_int_equal(store_escalation_release(st, fl_json_int(e1, "id", 0), "bob", &x), STORE_ECONFLICT);
	OK(store_escalation_release(st, fl_json_int(e1, "id", 0), "alice", &x));
	assert_string_equal(fl_json_str(x, "status", ""), "open");
	json_decref(x);
	OK(store_escalation_close(st, fl_json_int(e1, "id", 0), "fixed", &x));
	assert_string_equal(fl_json_str(x, "resolution", ""), "fixed");
	json_decref(x);
	assert_int_equal(store_escalation_close(st, fl_json_int(e1, "id", 0), "again", NULL), STORE_ECONFLICT);
	/* Closed: a new one may open. */
	OK(store_escalation_open(st, "e1", "low", NULL, NULL, &x, &created));
	assert_true(created);
	json_decref(x);
	assert_int_equal(store_escalation_open(st, "e1", "urgent", NULL, NULL, NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_escalation_get(st, 999, &x), STORE_ENOTFOUND);
	OK(store_escalation_list(st, "closed", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	json_decref(e1);
	json_decref(e2);
	json_decref(e3);
}

static void test_store_events_are_an_append_only_log(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *list = NULL;
	int i;

	OK(store_ticket_intake(st, TICKET("ev", "api", "c"), NULL, NULL, NULL, NULL));
	for (i = 0; i < 5; i++)
		OK(store_event_append(st, i % 2 ? "ev" : NULL, "note", "tester", J("{s:i}", "i", i)));
	OK(store_event_list(st, NULL, 3, &list));
	assert_int_equal(json_array_size(list), 3);
	assert_int_equal(fl_json_int(json_object_get(json_array_get(list, 2), "data"), "i", -1), 4);
	json_decref(list);
	OK(store_event_list(st, "ev", 0, &list));
	assert_int_equal(json_array_size(list), 3); /* ticket.created + 2 */
	json_decref(list);
	assert_int_equal(store_event_append(st, "missing", "note", "t", NULL), STORE_ENOTFOUND);
}

static void test_store_metrics_over_a_window(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *m = NULL;
	int64_t t0;

	fl_time_parse("2024-03-01T00:00:00Z", &t0);
	OK(store_ticket_import(st, J("[{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f}, {s:s,s:s,s:s,s:s,s:s,s:s},"
					     " {s:s,s:s,s:s}]",
		"id", "m1", "content", "c1 c1 c1 c1", "created_at", "2024-03-01T10:00:00Z", "status", "resolved",
		"category", "billing", "priority", "low", "resolved_at", "2024-03-01T11:00:00Z", "satisfaction", 0.8,
		"id", "m2", "content", "c2 c2 c2 c2", "created_at", "2024-03-01T12:00:00Z", "status", "escalated",
		"category", "technical", "first_response_at", "2024-03-01T12:02:00Z",
		"id", "m3", "content", "c3 c3 c3 c3", "created_at", "2024-03-05T00:00:00Z"), NULL));
	OK(store_metrics(st, t0, t0 + 86400LL * 1000000, &m));
	assert_int_equal(fl_json_int(m, "total_tickets", 0), 2);
	assert_int_equal(fl_json_int(m, "resolved_tickets", 0), 1);
	assert_int_equal(fl_json_int(m, "escalated_tickets", 0), 1);
	assert_true(fabs(fl_json_num(m, "avg_resolution_time", 0) - 3600) < 1e-6);
	assert_true(fabs(fl_json_num(m, "avg_response_time", 0) - 120) < 1e-6);
	assert_true(fabs(fl_json_num(m, "satisfaction_score", 0) - 0.8) < 1e-9);
	assert_true(fabs(fl_json_num(m, "escalation_rate", 0) - 0.5) < 1e-9);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_category"), "billing", 0), 1);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_priority"), "low", 0), 1);
	assert_int_equal(fl_json_int(json_object_get(m, "tickets_by_status"), "escalated", 0), 1);
	json_decref(m);
}

static void test_store_tokens_keep_only_hashes(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *k = NULL, *list = NULL;

	OK(store_token_insert(st, "ci", "integration", "ab12", &k));
	assert_string_equal(fl_json_str(k, "role", ""), "integration");
	assert_null(json_object_get(k, "hash"));
	json_decref(k);
	assert_int_equal(store_token_insert(st, "dup", "agent", "ab12", NULL), STORE_ECONSTRAINT);
	assert_int_equal(store_token_insert(st, "x", "root", "cd34", NULL), STORE_EINVAL);
	OK(store_token_find(st, "ab12", &k));
	assert_string_equal(fl_json_str(k, "name", ""), "ci");
	OK(store_token_revoke(st, fl_json_int(k, "id", 0)));
	assert_int_equal(store_token_find(st, "ab12", &list), STORE_ENOTFOUND);
	OK(store_token_list(st, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0), "revoked")));
	assert_non_null(json_object_get(json_array_get(list, 0), "last_used_at"));
	json_decref(list);
	json_decref(k);
}

/* ---- the email channel's records ---- */

static void test_store_blobs_are_kept_once(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	const char data[] = "PDF\0\xff\x80 bytes";
	char hex[65], hex2[65];
	void *back = NULL;
	size_t len = 0;
	json_t *meta = NULL;
	bool created;

	OK(store_blob_put(st, data, sizeof(data), "application/pdf", hex, &created));
	assert_true(created);
	assert_int_equal(strlen(hex), 64);
	OK(store_blob_put(st, data, sizeof(data), "text/plain", hex2, &created));
	assert_false(created);
	assert_string_equal(hex, hex2);
	OK(store_blob_get(st, hex, &back, &len, &meta));
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	assert_string_equal(fl_json_str(meta, "content_type", ""), "application/pdf");
	assert_int_equal(fl_json_int(meta, "size", 0), sizeof(data));
	free(back);
	json_decref(meta);
	/* empty bytes are a blob too */
	OK(store_blob_put(st, "", 0, NULL, hex2, &created));
	assert_string_equal(hex2, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	OK(store_blob_get(st, hex2, &back, &len, NULL));
	assert_int_equal(len, 0);
	free(back);
	assert_int_equal(store_blob_get(st, "0000000000000000000000000000000000000000000000000000000000000000",
					&back, &len, NULL), STORE_ENOTFOUND);
	assert_int_equal(store_blob_get(st, "xyz", &back, &len, NULL), STORE_EINVAL);
	assert_null(back);
}

static void test_store_mail_raw_is_kept_first_and_linked(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	const char raw[] = "From: a@b.c\r\nSubject: caf\xe9\r\n\r\nbody\0with a NUL\r\n";
	json_t *r1 = NULL, *r2 = NULL, *list = NULL, *got = NULL;
	void *back = NULL;
	size_t len;
	bool created;
	int64_t id;

	OK(store_mail_raw_put(st, raw, sizeof(raw) - 1, "pipe", &r1, &created));
	assert_true(created);
	id = fl_json_int(r1, "id", 0);
	assert_true(id > 0);
	assert_string_equal(fl_json_str(r1, "status", ""), "received");
	assert_string_equal(fl_json_str(r1, "source", ""), "pipe");
	assert_int_equal(fl_json_int(r1, "size", 0), sizeof(raw) - 1);
	assert_true(json_is_null(json_object_get(r1, "ticket_id")));
	/* the same bytes again (a mail server's retry): the first record */
	OK(store_mail_raw_put(st, raw, sizeof(raw) - 1, "imap", &r2, &created));
	assert_false(created);
	assert_int_equal(fl_json_int(r2, "id", 0), id);
	/* the bytes are a blob under the record's hash */
	OK(store_blob_get(st, fl_json_str(r1, "sha256", ""), &back, &len, NULL));
	assert_int_equal(len, sizeof(raw) - 1);
	assert_memory_equal(back, raw, len);
	free(back);
	OK(store_mail_raw_list(st, "received", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	OK(store_ticket_intake(st, TICKET("mail-1", "email", "a@b.c"), NULL, NULL, NULL, NULL));
	OK(store_mail_raw_finish(st, id, "ticket", "mail-1", NULL));
	OK(store_mail_raw_get(st, id, &got));
	assert_string_equal(fl_json_str(got, "status", ""), "ticket");
	assert_string_equal(fl_json_str(got, "ticket_id", ""), "mail-1");
	assert_non_null(fl_json_str(got, "processed_at", NULL));
	OK(store_mail_raw_list(st, "received", 0, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	OK(store_mail_raw_finish(st, id, "failed", NULL, "parser crashed"));
	json_decref(got);
	OK(store_mail_raw_get(st, id, &got));
	assert_string_equal(fl_json_str(got, "error", ""), "parser crashed");
	assert_true(json_is_null(json_object_get(got, "ticket_id")));
	assert_int_equal(store_mail_raw_finish(st, id, "received", NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_mail_raw_finish(st, id + 100, "ticket", NULL, NULL), STORE_ENOTFOUND);
	assert_int_equal(store_mail_raw_finish(st, id, "ticket", "no-such-ticket", NULL), STORE_ENOTFOUND);
	json_decref(got);
	json_decref(r1);
	json_decref(r2);
}

static void test_store_imap_state_round_trips(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t v, uid;

	assert_int_equal(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid), STORE_ENOTFOUND);
	OK(store_imap_state_set(st, "imap://a@h/INBOX", 1795628429, 3));
	OK(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid));
	assert_int_equal(v, 1795628429);
	assert_int_equal(uid, 3);
	OK(store_imap_state_set(st, "imap://a@h/INBOX", 42, 0));
	OK(store_imap_state_get(st, "imap://a@h/INBOX", &v, &uid));
	assert_int_equal(v, 42);
	assert_int_equal(uid, 0);
	assert_int_equal(store_imap_state_get(st, "imap://a@h/Other", &v, &uid), STORE_ENOTFOUND);
	assert_int_equal(store_imap_state_set(st, "x", -1, 0), STORE_EINVAL);
}

static void test_store_alerts_raise_once_and_resolve(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *a = NULL, *list = NULL;
	bool raised = false;

	store_set_clock(st, fx_fake_now, f);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s, s:s, s:f, s:f}", "type", "low_satisfaction", "severity",
				   "critical", "metric", "satisfaction_score", "message", "satisfaction 0.6 is below 0.7",
				   "value", 0.6, "threshold", 0.7), &a, &raised));
	assert_true(raised);
	assert_string_equal(fl_json_str(a, "status", ""), "active");
	assert_true(fabs(fl_json_num(a, "value", 0) - 0.6) < 1e-9);
	json_decref(a);
	/* the condition persists: the same alert, seen again */
	f->now += 60 * 1000000LL;
	OK(store_alert_raise(st, J("{s:s, s:s, s:s, s:f}", "type", "low_satisfaction", "severity", "critical",
				   "message", "satisfaction 0.5 is below 0.7", "value", 0.5), &a, &raised));
	assert_false(raised);
	assert_int_equal(fl_json_int(a, "observations", 0), 2);
	assert_string_equal(fl_json_str(a, "message", ""), "satisfaction 0.5 is below 0.7");
	assert_true(json_is_null(json_object_get(a, "threshold")));
	assert_string_not_equal(fl_json_str(a, "raised_at", ""), fl_json_str(a, "last_seen_at", ""));
	json_decref(a);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s}", "type", "queue_backlog", "severity", "warning",
				   "message", "jobs waiting"), NULL, &raised));
	assert_true(raised);
	OK(store_alert_list(st, "active", 0, &list));
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	/* cleared: resolved, and a new occurrence is a new alert */
	OK(store_alert_resolve(st, "low_satisfaction", &a));
	assert_string_equal(fl_json_str(a, "status", ""), "resolved");
	assert_false(json_is_null(json_object_get(a, "resolved_at")));
	json_decref(a);
	assert_int_equal(store_alert_resolve(st, "low_satisfaction", NULL), STORE_ENOTFOUND);
	OK(store_alert_raise(st, J("{s:s, s:s, s:s}", "type", "low_satisfaction", "severity", "critical",
				   "message", "again"), NULL, &raised));
	assert_true(raised);
	OK(store_alert_list(st, "resolved", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	OK(store_alert_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
	assert_int_equal(store_alert_raise(st, J("{s:s}", "type", "x"), NULL, &raised), STORE_EINVAL);
	assert_int_equal(store_alert_list(st, "sleeping", 0, &list), STORE_EINVAL);
}

/* The server's secrets: made once, the same for every connection, refused at a wrong length. */
static void test_store_secrets_are_made_once_and_shared(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *other = NULL;
	unsigned char a[32], b[32], c[32], zero[32] = { 0 };
	char *err = NULL;

	OK(store_secret_get(st, "email.threads", a, sizeof(a)));
	assert_memory_not_equal(a, zero, sizeof(a));
	OK(store_open(f->url, &other, &err));
	st = other;
	OK(store_secret_get(other, "email.threads", b, sizeof(b)));
	assert_memory_equal(a, b, sizeof(a));
	OK(store_secret_get(other, "another", c, sizeof(c)));
	assert_memory_not_equal(a, c, sizeof(a));
	assert_int_equal(store_secret_get(other, "email.threads", c, 16), STORE_ECORRUPT);
	assert_int_equal(store_secret_get(other, "email.threads", c, 8), STORE_EINVAL);
	store_close(other);
}

/* A message awaiting approval: pending until an agent decides, once, with an event. */
static void test_store_messages_await_approval(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *m = NULL, *list = NULL, *events = NULL;
	int64_t id;

	OK(store_ticket_intake(st, TICKET("ap", "email", "ann"), NULL, NULL, NULL, NULL));
	OK(store_message_add(st, "ap", J("{s:s, s:s, s:s, s:s}", "direction", "inbound", "author", "eve",
					 "body", "send the invoice to me instead", "approval", "pending"), &m, NULL));
	assert_string_equal(fl_json_str(m, "approval", ""), "pending");
	id = fl_json_int(m, "id", 0);
	json_decref(m);
	OK(store_message_list(st, "ap", &list));
	assert_true(json_is_null(json_object_get(json_array_get(list, 0), "approval")));
	assert_string_equal(fl_json_str(json_array_get(list, 1), "approval", ""), "pending");
	json_decref(list);
	assert_int_equal(store_message_add(st, "ap", J("{s:s, s:s, s:s}", "direction", "inbound", "body", "x",
						       "approval", "maybe"), NULL, NULL), STORE_EINVAL);
	assert_int_equal(store_message_decide(st, "ap", id, "pending", "agent", NULL), STORE_EINVAL);
	assert_int_equal(store_message_decide(st, "ap", id + 100, "approved", "agent", NULL), STORE_ENOTFOUND);
	assert_int_equal(store_message_decide(st, "missing", id, "approved", "agent", NULL), STORE_ENOTFOUND);
	OK(store_message_decide(st, "ap", id, "declined", "agent", &m));
	assert_string_equal(fl_json_str(m, "approval", ""), "declined");
	json_decref(m);
	m = NULL;
	assert_int_equal(store_message_decide(st, "ap", id, "approved", "agent", &m), STORE_ECONFLICT);
	assert_string_equal(fl_json_str(m, "approval", ""), "declined");
	json_decref(m);
	OK(store_event_list(st, "ap", 0, &events));
	assert_string_equal(fl_json_str(json_array_get(events, json_array_size(events) - 1), "type", ""),
			    "message.declined");
	json_decref(events);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_customer_metrics_follow_the_seed),
	FX_TEST(test_store_kb_articles_round_trip),
	FX_TEST(test_store_escalations_one_open_per_ticket),
	FX_TEST(test_store_events_are_an_append_only_log),
	FX_TEST(test_store_metrics_over_a_window),
	FX_TEST(test_store_tokens_keep_only_hashes),
	FX_TEST(test_store_blobs_are_kept_once),
	FX_TEST(test_store_mail_raw_is_kept_first_and_linked),
	FX_TEST(test_store_imap_state_round_trips),
	FX_TEST(test_store_alerts_raise_once_and_resolve),
	FX_TEST(test_store_secrets_are_made_once_and_shared),
	FX_TEST(test_store_messages_await_approval),
};

int main(void)
{
	return FX_RUN("store_records", tests) ? 1 : 0;
}
