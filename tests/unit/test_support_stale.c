/*
 * A run's results are stored only for the text they were computed on
 * (support_finish; issue 17, point 3): a ticket whose subject or content
 * changed while its triage ran gets nothing of that run, a triage job is
 * queued for the new text and a workflow.superseded event says why; a
 * change beside the text (labels, metadata) leaves the run's results to
 * be stored. The worker's path, a call's transcript during the first
 * triage on SQLite and PostgreSQL over HTTP, is in test_server_calls.c.
 * Real SQLite store, bundled models and articles (support_fixture.h).
 */
#include "test_helpers.h"
#include "support_fixture.h"
#include "flow/flow.h"
#include "store/store.h"
#include "support/support.h"

static int setup(void **state)
{
	return support_fx_setup(state, "stale.db", true);
}

static int teardown(void **state)
{
	return support_fx_teardown(state);
}

/* A stored ticket (no job) and the run a worker would make on it now: shared and trace out. */
static void stored_and_run(struct fixture *f, const char *id, const char *subject, const char *content,
			   json_t **shared, json_t **trace)
{
	json_t *in = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "customer_id", "cust_002", "subject", subject,
			       "content", content, "source", "email");
	json_t *valid = NULL, *errors = NULL, *stored = NULL;
	struct flow_result *r;
	bool fresh;

	assert_int_equal(support_ticket_validate(in, fixed_now(NULL), &valid, &errors), SUPPORT_OK);
	assert_int_equal(store_ticket_intake(f->store, valid, NULL, NULL, &stored, &fresh), STORE_OK);
	assert_true(fresh);
	*shared = json_pack("{s:O}", "incoming_ticket", stored);
	r = support_run(f->cs, "ticket_ingestion", &f->ctx, *shared);
	assert_int_equal(flow_result_code(r), FLOW_OK);
	*trace = json_incref(flow_result_trace(r));
	flow_result_free(r);
	json_decref(in);
	json_decref(valid);
	json_decref(errors);
	json_decref(stored);
}

static size_t events_of(struct fixture *f, const char *id, const char *type, json_t **last)
{
	json_t *events = NULL, *e;
	size_t n = 0, i;

	assert_int_equal(store_event_list(f->store, id, 100, &events), STORE_OK);
	json_array_foreach(events, i, e)
		if (fl_str_eq(fl_json_str(e, "type", ""), type)) {
			n++;
			if (last) {
				json_decref(*last);
				*last = json_incref(e);
			}
		}
	json_decref(events);
	return n;
}

static size_t triage_jobs(struct fixture *f, const char *status, const char *id)
{
	json_t *jobs = NULL, *j;
	size_t i, n = 0;

	assert_int_equal(store_job_list(f->store, status, 100, &jobs), STORE_OK);
	json_array_foreach(jobs, i, j)
		if (fl_str_eq(fl_json_str(j, "ticket_id", ""), id) && fl_str_eq(fl_json_str(j, "kind", ""), "triage"))
			n++;
	json_decref(jobs);
	return n;
}

/* An agent retitles the ticket while its triage runs: the run is superseded, the new text triaged. */
static void test_a_text_change_during_the_run_supersedes_it(void **state)
{
	struct fixture *f = *state;
	json_t *shared = NULL, *trace = NULL, *fields, *upd = NULL, *t = NULL, *ev = NULL;
	struct store_job *job = NULL;
	struct support_outcome o;
	struct support_job sj;
	char *err = NULL;

	stored_and_run(f, "stale1", "Question", "Hello, I have a question about something on my account today.",
		       &shared, &trace);
	fields = json_pack("{s:s}", "subject", "I was charged twice and want a refund");
	assert_int_equal(store_ticket_update(f->store, "stale1", 0, fields, "agent@example.com", &upd), STORE_OK);
	json_decref(fields);
	json_decref(upd);
	assert_int_equal(triage_jobs(f, "queued", "stale1"), 0);

	assert_int_equal(support_finish(&f->ctx, "stale1", shared, trace, NULL, &t, &err), SUPPORT_ESTALE);
	assert_non_null(strstr(err, "changed during its triage"));
	free(err);
	err = NULL;
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_string_equal(fl_json_str(t, "subject", ""), "I was charged twice and want a refund");
	assert_true(json_is_null(json_object_get(t, "category")) || !json_object_get(t, "category"));
	assert_true(json_object_size(json_object_get(t, "analysis")) == 0);
	json_decref(t);
	t = NULL;
	assert_int_equal(events_of(f, "stale1", FL_EVENT_WORKFLOW_COMPLETED, NULL), 0);
	assert_int_equal(events_of(f, "stale1", SUPPORT_EVENT_WORKFLOW_SUPERSEDED, &ev), 1);
	assert_true(json_is_null(json_object_get(json_object_get(ev, "data"), "job_id")));
	assert_true(fl_json_int(json_object_get(ev, "data"), "version", 0) >
		    fl_json_int(json_object_get(ev, "data"), "read_version", 0));
	json_decref(ev);
	/* the new text is queued for triage, once however often the stale run finishes */
	assert_int_equal(triage_jobs(f, "queued", "stale1"), 1);
	assert_int_equal(support_finish(&f->ctx, "stale1", shared, trace, NULL, &t, &err), SUPPORT_ESTALE);
	free(err);
	err = NULL;
	json_decref(t);
	t = NULL;
	assert_int_equal(triage_jobs(f, "queued", "stale1"), 1);

	/* the queued job triages the new text; nothing of the first run is left */
	assert_int_equal(store_job_claim(f->store, "triage", "worker-a", 60, &job), STORE_OK);
	assert_string_equal(job->ticket_id, "stale1");
	sj = (struct support_job){ job->id, job->ticket_id, "worker-a" };
	assert_int_equal(support_process_job(&f->ctx, f->cs, &sj, &o), SUPPORT_OK);
	assert_string_equal(fl_json_str(json_object_get(o.shared, "incoming_ticket"), "subject", ""),
			    "I was charged twice and want a refund");
	assert_string_not_equal(fl_json_str(o.ticket, "status", "new"), "new");
	assert_string_equal(fl_json_str(o.ticket, "category", ""), "billing");
	support_outcome_release(&o);
	assert_int_equal(events_of(f, "stale1", FL_EVENT_WORKFLOW_COMPLETED, NULL), 1);
	assert_int_equal(triage_jobs(f, "queued", "stale1"), 0);
	assert_int_equal(triage_jobs(f, "done", "stale1"), 1);
	store_job_free(job);
	json_decref(shared);
	json_decref(trace);
}

/* A change beside the text while the run ran (the version moved): the run's results are stored. */
static void test_a_change_beside_the_text_keeps_the_run(void **state)
{
	struct fixture *f = *state;
	json_t *shared = NULL, *trace = NULL, *fields, *upd = NULL, *t = NULL;
	char *err = NULL;

	stored_and_run(f, "stale2", "How do I reset my password?",
		       "Hi, I forgot my password and would like to reset it. Where is the link?", &shared, &trace);
	fields = json_pack("{s:{s:s}}", "metadata", "note", "seen by an agent");
	assert_int_equal(store_ticket_update(f->store, "stale2", 0, fields, "agent@example.com", &upd), STORE_OK);
	json_decref(fields);
	json_decref(upd);
	assert_int_equal(support_finish(&f->ctx, "stale2", shared, trace, NULL, &t, &err), SUPPORT_OK);
	assert_null(err);
	assert_string_not_equal(fl_json_str(t, "status", "new"), "new");
	assert_non_null(json_object_get(json_object_get(t, "analysis"), "categorization"));
	json_decref(t);
	assert_int_equal(events_of(f, "stale2", FL_EVENT_WORKFLOW_COMPLETED, NULL), 1);
	assert_int_equal(events_of(f, "stale2", SUPPORT_EVENT_WORKFLOW_SUPERSEDED, NULL), 0);
	assert_int_equal(triage_jobs(f, "queued", "stale2"), 0);
	json_decref(shared);
	json_decref(trace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_text_change_during_the_run_supersedes_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_change_beside_the_text_keeps_the_run, setup, teardown),
	};

	return cmocka_run_group_tests_name("support_stale", tests, NULL, NULL);
}
