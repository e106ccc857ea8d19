/*
 * Phone calls, provider-neutral (issue 17, point 3), over real HTTP
 * (server_fixture.h) on SQLite and PostgreSQL: POST /api/v1/calls checks
 * its fields (422 naming each) and its token; a call's callbacks in any
 * order build one ticket (the first makes it, later ones complete it, a
 * status never goes back); two callbacks of a new call at once make one
 * ticket; a transcript after the ticket re-runs triage with an event
 * saying why; missed calls become call-back tickets; the caller is matched
 * to a customer by phone number; and, with an LLM (tests/fake_llm), no card
 * number read out in a voicemail reaches the model's requests.
 * And the channel's rules (channels/phone) directly: numbers, statuses.
 */
#include "test_helpers.h"

#include <pthread.h>

#include "channels/phone/phone.h"
#include "fake_llm.h"
#include "llm/llm.h"
#include "server_fixture.h"

static void post_call(struct fx *f, const char *token, json_t *call, struct http_resp *r)
{
	char *body = json_dumps(call, 0);

	fx_call(f, "POST", "/api/v1/calls", token, body, r);
	free(body);
	json_decref(call);
}

static json_t *call_of(const char *id, const char *status)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "provider", "acme-voice", "call_id", id, "from",
			 "+1 415-555-0100", "to", "+18005550199", "status", status);
}

static json_t *get_ticket(struct fx *f, const char *id)
{
	char *path = fl_asprintf("/api/v1/tickets/%s", id);
	struct http_resp r;
	json_t *t;

	fx_call(f, "GET", path, f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	t = json_incref(r.json);
	http_resp_release(&r);
	free(path);
	return t;
}

static size_t events_of(struct fx *f, const char *id, const char *type)
{
	json_t *events = NULL, *e;
	size_t n = 0, i;

	assert_int_equal(store_event_list(f->st, id, 100, &events), STORE_OK);
	json_array_foreach(events, i, e)
		if (fl_str_eq(fl_json_str(e, "type", ""), type))
			n++;
	json_decref(events);
	return n;
}

/* Ticket id's triage jobs in status ("queued", "done", ...). */
static size_t jobs_of(struct fx *f, const char *status, const char *id)
{
	json_t *jobs = NULL, *j;
	size_t i, n = 0;

	assert_int_equal(store_job_list(f->st, status, 100, &jobs), STORE_OK);
	json_array_foreach(jobs, i, j)
		if (fl_str_eq(fl_json_str(j, "ticket_id", ""), id) && fl_str_eq(fl_json_str(j, "kind", ""), "triage"))
			n++;
	json_decref(jobs);
	return n;
}

static void test_numbers_and_statuses(void **state)
{
	char *n;

	(void)state;
	n = phone_normalize("+1 (415) 555-0100");
	assert_string_equal(n, "+14155550100");
	free(n);
	n = phone_normalize("(415) 555.0100");
	assert_string_equal(n, "4155550100");   /* no country assumed */
	free(n);
	n = phone_normalize("0044 20 7946 0000");
	assert_string_equal(n, "00442079460000");   /* "00" stays */
	free(n);
	assert_null(phone_normalize("anonymous"));
	assert_null(phone_normalize("client:alice"));
	assert_null(phone_normalize("+1 415 555 0100 ext 2"));
	assert_null(phone_normalize("12"));
	assert_null(phone_normalize("+1234567890123456"));   /* 16 digits */
	assert_null(phone_normalize("1+2"));
	assert_int_equal(phone_status_rank("ringing"), 2);
	assert_true(phone_status_rank("completed") > phone_status_rank("in-progress"));
	assert_true(phone_status_rank("voicemail") > phone_status_rank("completed"));
	assert_int_equal(phone_status_rank("answered"), 0);
	assert_true(phone_call_missed("no-answer", false, false));
	assert_true(phone_call_missed("busy", false, false));
	assert_true(phone_call_missed("voicemail", false, false));
	assert_false(phone_call_missed("voicemail", true, false));
	assert_false(phone_call_missed("completed", false, false));
	assert_false(phone_call_missed("canceled", false, true));
}

static void test_the_api_checks_its_fields_and_token(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	const struct {
		const char *key, *value;
	} bad[] = {
		{ "provider", NULL }, { "provider", "Acme Voice" }, { "call_id", "" }, { "call_id", "a/b" },
		{ "from", NULL },     { "from", "client:bob" },    { "to", "12" },     { "status", "answered" },
		{ "recording_url", "ftp://x/y" },
	};
	size_t i;

	fx_start(f, -1, false);
	post_call(f, NULL, call_of("CA-v1", "ringing"), &r);
	fx_expect(&r, 401, NULL);
	http_resp_release(&r);
	for (i = 0; i < FL_ARRAY_SIZE(bad); i++) {
		json_t *c = call_of("CA-v1", "ringing");

		if (bad[i].value)
			json_object_set_new(c, bad[i].key, json_string(bad[i].value));
		else
			json_object_del(c, bad[i].key);
		post_call(f, f->integ, c, &r);
		fx_expect(&r, 422, NULL);
		assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), bad[i].key);
		http_resp_release(&r);
	}
	{
		json_t *c = call_of("CA-v1", "ringing");

		json_object_set_new(c, "transcript", json_integer(4));
		post_call(f, f->integ, c, &r);
		fx_expect(&r, 422, NULL);
		assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "transcript");
		http_resp_release(&r);
	}
	{
		json_t *c = call_of("CA-v1", "ringing");
		char *longer = fl_calloc(PHONE_TRANSCRIPT_MAX + 2, 1);

		memset(longer, 'a', PHONE_TRANSCRIPT_MAX + 1);
		json_object_set_new(c, "transcript", json_string(longer));
		free(longer);
		post_call(f, f->integ, c, &r);
		fx_expect(&r, 422, NULL);
		assert_string_equal(fl_json_str(json_object_get(r.json, "error"), "field", ""), "transcript");
		http_resp_release(&r);
	}
	/* nothing was kept of the refused ones */
	fx_call(f, "GET", "/api/v1/tickets/acme-voice_CA-v1", f->admin, NULL, &r);
	fx_expect(&r, 404, NULL);
	http_resp_release(&r);
	/* a withheld number is a caller too */
	{
		json_t *c = call_of("CA-v2", "no-answer");

		json_object_set_new(c, "from", json_string("Anonymous"));
		post_call(f, f->integ, c, &r);
		fx_expect(&r, 201, NULL);
		assert_string_equal(fl_json_str(json_object_get(r.json, "call"), "from", ""), "anonymous");
		http_resp_release(&r);
	}
}

static void test_callbacks_in_any_order_build_one_ticket(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *c, *t;

	fx_start(f, -1, false);
	/* status first: the ticket with what is known */
	post_call(f, f->integ, call_of("CA-1", "ringing"), &r);
	fx_expect(&r, 201, NULL);
	assert_true(json_is_true(json_object_get(r.json, "created")));
	assert_string_equal(fl_json_str(json_object_get(r.json, "ticket"), "id", ""), "acme-voice_CA-1");
	assert_string_equal(fl_json_str(json_object_get(r.json, "call"), "from", ""), "+14155550100");
	http_resp_release(&r);
	post_call(f, f->integ, call_of("CA-1", "completed"), &r);
	fx_expect(&r, 200, NULL);
	assert_false(json_is_true(json_object_get(r.json, "created")));
	assert_false(json_is_true(json_object_get(r.json, "retriaged")));
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-1");
	assert_string_equal(fl_json_str(t, "channel", ""), "phone");
	assert_string_equal(fl_json_str(t, "subject", ""), "Call from +14155550100");
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "call_status", ""), "completed");
	json_decref(t);
	/* then the transcript (with a recording): it completes the same ticket, triage again */
	c = call_of("CA-1", "voicemail");
	json_object_set_new(c, "transcript", json_string("My card 4111 1111 1111 1111 was charged twice, please refund."));
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-1.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 200, NULL);
	assert_true(json_is_true(json_object_get(r.json, "retriaged")));
	assert_null(strstr(r.body, "4111 1111 1111 1111"));
	http_resp_release(&r);
	/* a late "ringing" moves nothing back; a repeat of the transcript changes nothing */
	post_call(f, f->integ, call_of("CA-1", "ringing"), &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "call"), "status", ""), "voicemail");
	assert_false(json_is_true(json_object_get(r.json, "retriaged")));
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-1");
	assert_string_equal(fl_json_str(t, "subject", ""), "Voicemail from +14155550100");
	assert_string_equal(fl_json_str(t, "content", ""),
			    "My card **** **** **** 1111 was charged twice, please refund.");
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "recording_url", ""),
			    "https://rec.example.com/CA-1.wav");
	assert_true(json_is_true(json_object_get(json_object_get(t, "metadata"), "transcribed")));
	json_decref(t);
	assert_int_equal(events_of(f, "acme-voice_CA-1", STORE_EVENT_CALL_TICKET), 1);
	assert_int_equal(events_of(f, "acme-voice_CA-1", FL_EVENT_TICKET_CREATED), 1);
	/* the triage job is back for it (the first is still queued: no workers here) */
	assert_int_equal(jobs_of(f, "queued", "acme-voice_CA-1"), 1);
	/* the other order: transcript first, then the status; one ticket, not re-triaged */
	c = call_of("CA-2", "voicemail");
	json_object_set_new(c, "transcript", json_string("Please call me back about my invoice."));
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-2.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	post_call(f, f->integ, call_of("CA-2", "completed"), &r);
	fx_expect(&r, 200, NULL);
	assert_false(json_is_true(json_object_get(r.json, "retriaged")));
	assert_string_equal(fl_json_str(json_object_get(r.json, "call"), "status", ""), "voicemail");
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-2");
	assert_string_equal(fl_json_str(t, "content", ""), "Please call me back about my invoice.");
	json_decref(t);
	assert_int_equal(events_of(f, "acme-voice_CA-2", STORE_EVENT_CALL_TICKET), 0);
	/* a short message still makes a ticket (whose content has 10 characters at least); blanks are none */
	c = call_of("CA-3", "voicemail");
	json_object_set_new(c, "transcript", json_string("  Call me.  "));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "call"), "transcript", ""), "Call me.");
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-3");
	assert_string_equal(fl_json_str(t, "content", ""), "Voicemail from +14155550100: Call me.");
	json_decref(t);
	c = call_of("CA-4", "voicemail");
	json_object_set_new(c, "transcript", json_string("   "));
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-4.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	assert_true(json_is_null(json_object_get(json_object_get(r.json, "call"), "transcript")));
	http_resp_release(&r);
}

static void test_missed_calls_become_call_back_tickets(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *t, *c;

	fx_start(f, -1, false);
	post_call(f, f->integ, call_of("CA-m1", "no-answer"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-m1");
	assert_string_equal(fl_json_str(t, "subject", ""), "Missed call from +14155550100");
	assert_true(json_is_true(json_object_get(json_object_get(t, "metadata"), "call_back")));
	assert_true(json_is_true(json_object_get(json_object_get(t, "metadata"), "missed_call")));
	json_decref(t);
	/* ringing first, then busy: the ticket becomes the missed call */
	post_call(f, f->integ, call_of("CA-m2", "ringing"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	post_call(f, f->integ, call_of("CA-m2", "busy"), &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-m2");
	assert_string_equal(fl_json_str(t, "subject", ""), "Missed call from +14155550100");
	assert_non_null(strstr(fl_json_str(t, "content", ""), "Call the customer back"));
	json_decref(t);
	assert_int_equal(events_of(f, "acme-voice_CA-m2", STORE_EVENT_CALL_TICKET), 1);
	/* a voicemail with no recording is missed; one with a recording is not */
	post_call(f, f->integ, call_of("CA-m3", "voicemail"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-m3");
	assert_string_equal(fl_json_str(t, "subject", ""), "Missed call from +14155550100");
	json_decref(t);
	c = call_of("CA-m4", "voicemail");
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-m4.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-m4");
	assert_string_equal(fl_json_str(t, "subject", ""), "Voicemail from +14155550100");
	assert_false(json_is_true(json_object_get(json_object_get(t, "metadata"), "call_back")));
	json_decref(t);
}

static void test_the_caller_is_matched_by_phone_number(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *t, *c;

	fx_start(f, -1, false);
	fx_call(f, "PUT", "/api/v1/customers/cust-phone", f->admin,
		"{\"name\": \"Pat Caller\", \"email\": \"pat@example.com\", \"metadata\": {\"phone\": \"+1 (415) 555-0142\"}}",
		&r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	c = call_of("CA-c1", "no-answer");
	json_object_set_new(c, "from", json_string("+14155550142"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-c1");
	assert_string_equal(fl_json_str(t, "customer_id", ""), "cust-phone");
	assert_string_equal(fl_json_str(json_object_get(t, "metadata"), "caller", ""), "+14155550142");
	json_decref(t);
	/* an unknown caller keeps the number */
	post_call(f, f->integ, call_of("CA-c2", "no-answer"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	t = get_ticket(f, "acme-voice_CA-c2");
	assert_string_equal(fl_json_str(t, "customer_id", ""), "+14155550100");
	json_decref(t);
	/* the store's lookup normalises the stored number as phone_normalize does */
	{
		json_t *cust = NULL;

		assert_int_equal(store_customer_find_by_phone(f->st, "+14155550142", &cust), STORE_OK);
		assert_string_equal(fl_json_str(cust, "id", ""), "cust-phone");
		json_decref(cust);
		assert_int_equal(store_customer_find_by_phone(f->st, "+14155550143", &cust), STORE_ENOTFOUND);
	}
}

/* Triaged, a missed call stays a task for an agent: no automatic reply goes to anyone. */
static void test_a_missed_call_gets_no_automatic_reply(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *t, *msgs = NULL, *m;
	size_t i;

	fx_start(f, -1, true);
	fx_call(f, "PUT", "/api/v1/customers/cust-missed", f->admin,
		"{\"name\": \"Sam\", \"email\": \"sam@example.com\", \"metadata\": {\"phone\": \"+14155550100\"}}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	post_call(f, f->integ, call_of("CA-noreply", "no-answer"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_wait_done(f, 1);
	t = get_ticket(f, "acme-voice_CA-noreply");
	assert_string_equal(fl_json_str(t, "customer_id", ""), "cust-missed");
	assert_false(json_is_true(json_object_get(json_object_get(json_object_get(t, "analysis"), "auto_reply"), "sent")));
	assert_true(strcmp(fl_json_str(t, "status", ""), FL_STATUS_AUTO_REPLIED) != 0);
	json_decref(t);
	assert_int_equal(store_message_list(f->st, "acme-voice_CA-noreply", &msgs), STORE_OK);
	json_array_foreach(msgs, i, m)
		assert_string_not_equal(fl_json_str(m, "direction", ""), "outbound");
	json_decref(msgs);
}

/* A customer's export has their calls' records, and erasing the caller erases them too. */
static void test_erasing_the_caller_erases_the_call(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	json_t *c, *call = NULL;

	fx_start(f, -1, false);
	c = call_of("CA-erase", "voicemail");
	json_object_set_new(c, "transcript", json_string("This is Robin, my account number is 4471, call me."));
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-erase.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* the export has the call's record with its ticket */
	fx_call(f, "GET", "/api/v1/customers/+14155550100/export", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	{
		const json_t *calls = json_object_get(json_array_get(json_object_get(r.json, "tickets"), 0), "calls");

		if (json_array_size(calls) != 1)
			fail_msg("the export has no call: %s", r.body);
		assert_string_equal(fl_json_str(json_array_get(calls, 0), "call_id", ""), "CA-erase");
	}
	http_resp_release(&r);
	fx_call(f, "POST", "/api/v1/customers/+14155550100/erase", f->admin, "{}", &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	assert_int_equal(store_call_get(f->st, "acme-voice", "CA-erase", &call), STORE_OK);
	assert_true(fl_str_has_prefix(fl_json_str(call, "from", ""), "erased-"));
	assert_string_equal(fl_json_str(call, "transcript", ""), STORE_ERASED_MARKER);
	assert_true(json_is_null(json_object_get(call, "recording_url")));
	json_decref(call);
}

struct racer {
	struct fx *f;
	json_t *call;
	pthread_barrier_t *go;
	long status;
	bool created;
};

static void *race(void *arg)
{
	struct racer *x = arg;
	char *url = fl_asprintf("%s/api/v1/calls", x->f->base), *body = json_dumps(x->call, 0);
	struct http_req q = { "POST", url, x->f->integ, NULL, body, 0, NULL, 0 };
	struct http_resp r;

	pthread_barrier_wait(x->go);
	http_do(&q, &r);
	x->status = r.status;
	x->created = json_is_true(json_object_get(r.json, "created"));
	http_resp_release(&r);
	free(url);
	free(body);
	return NULL;
}

static void test_two_callbacks_at_once_make_one_ticket(void **state)
{
	struct fx *f = *state;
	int round;

	fx_start(f, -1, false);
	for (round = 0; round < 8; round++) {
		char id[32];
		pthread_barrier_t go;
		struct racer x[2];
		pthread_t th[2];
		struct http_resp r;
		char *q;
		int i;

		snprintf(id, sizeof(id), "CA-race-%d", round);
		pthread_barrier_init(&go, NULL, 2);
		for (i = 0; i < 2; i++) {
			x[i] = (struct racer){ f, call_of(id, i ? "ringing" : "voicemail"), &go, 0, false };
			if (!i)
				json_object_set_new(x[i].call, "transcript", json_string("Hello, please call me back."));
			assert_int_equal(pthread_create(&th[i], NULL, race, &x[i]), 0);
		}
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		assert_true(x[0].status == 201 || x[0].status == 200);
		assert_true(x[1].status == 201 || x[1].status == 200);
		assert_int_equal((int)x[0].created + (int)x[1].created, 1);
		json_decref(x[0].call);
		json_decref(x[1].call);
		/* one ticket, and it has the transcript whichever came first */
		q = fl_asprintf("/api/v1/tickets?channel=phone&limit=100");
		fx_call(f, "GET", q, f->admin, NULL, &r);
		fx_expect(&r, 200, NULL);
		assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), (size_t)round + 1);
		http_resp_release(&r);
		free(q);
		{
			char tid[64];
			json_t *t;

			snprintf(tid, sizeof(tid), "acme-voice_%s", id);
			t = get_ticket(f, tid);
			assert_string_equal(fl_json_str(t, "content", ""), "Hello, please call me back.");
			json_decref(t);
		}
	}
}

static size_t outbound_of(struct fx *f, const char *id)
{
	json_t *t = NULL, *m;
	size_t i, n = 0;

	assert_int_equal(store_ticket_get(f->st, id, true, &t), STORE_OK);
	json_array_foreach(json_object_get(t, "messages"), i, m)
		if (fl_str_eq(fl_json_str(m, "direction", ""), "outbound"))
			n++;
	json_decref(t);
	return n;
}

/*
 * A transcript arriving while the ticket's first triage runs (a worker's
 * run, here driven step by step: claim, read, run, then the transcript,
 * then the finish): the run's results are not stored over the new text;
 * its job is done and a fresh one queued, an event says why, and the
 * second run triages the transcript. At most one automatic reply.
 */
static void test_a_transcript_during_the_first_triage_triages_again(void **state)
{
	struct fx *f = *state;
	struct support_routing *routing = NULL;
	struct support_ctx ctx = { 0 };
	struct support_outcome o;
	struct store_job *job = NULL, *next = NULL;
	struct support_job sj;
	struct flow_result *res;
	struct http_resp r;
	json_t *read = NULL, *shared, *t = NULL, *c, *events = NULL, *e;
	const char *id = "acme-voice_CA-race";
	char *err = NULL;
	size_t i;

	assert_int_equal(support_routing_new(&routing, &err), SUPPORT_OK);
	ctx.analyzer = f->g->analyzer;
	ctx.kb = f->kb;
	ctx.store = f->st;
	ctx.routing = routing;
	fx_start(f, -1, false);
	post_call(f, f->integ, call_of("CA-race", "completed"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* the worker claims the first job and reads the ticket: the call without its transcript */
	assert_int_equal(store_job_claim(f->st, "triage", "worker-a", 60, &job), STORE_OK);
	assert_string_equal(job->ticket_id, id);
	assert_int_equal(store_ticket_get(f->st, id, false, &read), STORE_OK);
	shared = json_pack("{s:O}", "incoming_ticket", read);
	res = support_run(support_routing_graph(routing, "phone"), "ticket_ingestion", &ctx, shared);
	assert_int_equal(flow_result_code(res), FLOW_OK);
	/* meanwhile the transcript: the ticket's text changes, its triage job is the running one */
	c = call_of("CA-race", "voicemail");
	json_object_set_new(c, "transcript",
			    json_string("I was charged twice for my subscription this month, please refund one charge."));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 200, NULL);
	assert_true(json_is_true(json_object_get(r.json, "retriaged")));
	http_resp_release(&r);
	assert_int_equal(jobs_of(f, "queued", id), 0);
	/* the run finishes on the old text: nothing of it stored, its job done, a fresh one queued */
	sj = (struct support_job){ job->id, job->ticket_id, "worker-a" };
	assert_int_equal(support_finish(&ctx, id, shared, flow_result_trace(res), &sj, &t, &err), SUPPORT_ESTALE);
	assert_non_null(strstr(err, "changed during its triage"));
	free(err);
	err = NULL;
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_string_equal(fl_json_str(t, "content", ""),
			    "I was charged twice for my subscription this month, please refund one charge.");
	json_decref(t);
	t = get_ticket(f, id);
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_true(json_is_null(json_object_get(t, "category")) || !json_object_get(t, "category"));
	json_decref(t);
	assert_int_equal(events_of(f, id, FL_EVENT_WORKFLOW_COMPLETED), 0);
	assert_int_equal(events_of(f, id, SUPPORT_EVENT_WORKFLOW_SUPERSEDED), 1);
	assert_int_equal(events_of(f, id, FL_EVENT_TICKET_CREATED), 1);
	assert_int_equal(outbound_of(f, id), 0);
	assert_int_equal(jobs_of(f, "done", id), 1);
	assert_int_equal(jobs_of(f, "queued", id), 1);
	assert_int_equal(store_event_list(f->st, id, 100, &events), STORE_OK);
	json_array_foreach(events, i, e)
		if (fl_str_eq(fl_json_str(e, "type", ""), SUPPORT_EVENT_WORKFLOW_SUPERSEDED)) {
			assert_non_null(strstr(fl_json_str(json_object_get(e, "data"), "reason", ""), "text changed"));
			assert_int_equal(fl_json_int(json_object_get(e, "data"), "job_id", 0), job->id);
		}
	json_decref(events);
	/* the same finish again (a worker that did not hear the commit): the job is done, nothing written */
	assert_int_equal(support_finish(&ctx, id, shared, flow_result_trace(res), &sj, &t, &err), SUPPORT_ELEASE);
	assert_null(t);
	assert_non_null(err);
	free(err);
	err = NULL;
	assert_int_equal(jobs_of(f, "queued", id), 1);
	assert_int_equal(events_of(f, id, SUPPORT_EVENT_WORKFLOW_SUPERSEDED), 1);
	json_decref(shared);
	flow_result_free(res);
	/* the fresh job triages the transcript; a write meeting a changed version reads again */
	assert_int_equal(store_job_claim(f->st, "triage", "worker-b", 60, &next), STORE_OK);
	assert_string_equal(next->ticket_id, id);
	sj = (struct support_job){ next->id, next->ticket_id, "worker-b" };
	store_fault_inject(f->st, "store_ticket_update", 1, STORE_ECONFLICT);
	assert_int_equal(support_process_job(&ctx, support_routing_graph(routing, NULL), &sj, &o), SUPPORT_OK);
	store_fault_inject(f->st, NULL, 0, STORE_OK);
	assert_string_not_equal(fl_json_str(o.ticket, "status", "new"), "new");
	assert_string_equal(fl_json_str(json_object_get(o.shared, "incoming_ticket"), "content", ""),
			    "I was charged twice for my subscription this month, please refund one charge.");
	support_outcome_release(&o);
	t = get_ticket(f, id);
	assert_string_equal(fl_json_str(t, "category", ""), "billing");
	json_decref(t);
	assert_int_equal(events_of(f, id, FL_EVENT_WORKFLOW_COMPLETED), 1);
	assert_int_equal(events_of(f, id, SUPPORT_EVENT_WORKFLOW_SUPERSEDED), 1);
	assert_true(outbound_of(f, id) <= 1);
	assert_int_equal(jobs_of(f, "done", id), 2);
	assert_int_equal(jobs_of(f, "queued", id), 0);
	json_decref(read);
	store_job_free(job);
	store_job_free(next);
	support_routing_free(routing);
}

/* ---- with an LLM: what reaches it ---- */

static void test_no_card_number_reaches_the_llm(void **state)
{
	struct fx *f = *state;
	struct fake_llm *fake;
	struct llm_settings s;
	struct llm_client *llm = NULL;
	struct service_options o;
	struct http_resp r;
	char *url, *err = NULL;
	json_t *c;
	long i, n;

	fake = fake_llm_start(0, &err);
	assert_non_null(fake);
	llm_settings_init(&s);
	url = fake_llm_url(fake, "anthropic");
	s.base_url = url;
	s.api_key = "test-key";
	s.model = "fake-model";
	assert_int_equal(llm_client_new(&llm, &s, &err), LLM_OK);
	o = fx_options(f, -1, SERVICE_HTTP | SERVICE_WORKERS);
	o.llm = llm;
	fx_start_service(f, &o);
	/* a call without its transcript yet: triaged once */
	post_call(f, f->integ, call_of("CA-llm", "completed"), &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_wait_done(f, 1);
	/* the voicemail's transcript, a card number read out in it: triaged again, masked */
	c = call_of("CA-llm", "voicemail");
	json_object_set_new(c, "transcript",
			    json_string("Hi, I was charged twice on my card 4111-1111-1111-1111, expiry 04/29. "
					"Please refund one of the charges for order 8812."));
	json_object_set_new(c, "recording_url", json_string("https://rec.example.com/CA-llm.wav"));
	post_call(f, f->integ, c, &r);
	fx_expect(&r, 200, NULL);
	assert_true(json_is_true(json_object_get(r.json, "retriaged")));
	http_resp_release(&r);
	fx_wait_done(f, 2);
	n = fake_llm_requests(fake);
	assert_true(n > 0);
	{
		bool saw_masked = false;

		for (i = 0; i < n; i++) {
			json_t *q = fake_llm_request(fake, i);
			char *body;

			if (!q)
				continue;
			body = json_dumps(json_object_get(q, "body"), JSON_ENCODE_ANY);
			assert_null(strstr(body, "4111-1111-1111-1111"));
			assert_null(strstr(body, "4111111111111111"));
			assert_null(strstr(body, "4111 1111 1111 1111"));
			if (strstr(body, "****-****-****-1111"))
				saw_masked = true;
			free(body);
			json_decref(q);
		}
		/* the re-triage read the masked transcript: the check above looked at its requests */
		assert_true(saw_masked);
	}
	fx_stop_server(f);
	llm_client_free(llm);
	fake_llm_stop(fake);
	free(url);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_numbers_and_statuses),
	FX_TEST(test_the_api_checks_its_fields_and_token),
	FX_TEST(test_callbacks_in_any_order_build_one_ticket),
	FX_TEST(test_missed_calls_become_call_back_tickets),
	FX_TEST(test_the_caller_is_matched_by_phone_number),
	FX_TEST(test_a_missed_call_gets_no_automatic_reply),
	FX_TEST(test_erasing_the_caller_erases_the_call),
	FX_TEST(test_two_callbacks_at_once_make_one_ticket),
	FX_TEST(test_a_transcript_during_the_first_triage_triages_again),
	FX_TEST(test_no_card_number_reaches_the_llm),
};

int main(void)
{
	return FX_RUN("server_calls", tests) ? 1 : 0;
}
