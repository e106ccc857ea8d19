/*
 * The store's queues and write paths, against every backend
 * (store_fixture.h): jobs (leases, retries, dead letters, release, claims
 * from two connections), the notification outbox, locks, rate counters,
 * transactions, deferred syncs, and the group commit's batched intake (from
 * threads, with callbacks, its log checkpointed), with the search index
 * following every way a ticket arrives.
 *
 * Tickets are in test_store_tickets.c; the other records in
 * test_store_records.c.
 */
#include "test_helpers.h"

#include <pthread.h>
#include <sys/stat.h>

#include "store_fixture.h"

static void test_store_defer_sync_commits_then_syncs(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL;

	OK(store_defer_sync(st, true));
	OK(store_defer_sync(st, true));   /* again: no change */
	OK(store_ticket_intake(st, TICKET("d1", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_ticket_update(st, "d1", 0, J("{s:s}", "status", "escalated"), "test", NULL));
	/* one transaction inside the run, as the batch's results are */
	OK(store_begin_immediate(st));
	assert_int_equal(store_defer_sync(st, false), STORE_EINVAL);
	OK(store_ticket_intake(st, TICKET("d2", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_commit(st));
	OK(store_defer_sync(st, false));
	OK(store_defer_sync(st, false));   /* not deferring: nothing to do */
	OK(store_ticket_get(st, "d1", false, &t));
	assert_string_equal(fl_json_str(t, "status", ""), "escalated");
	json_decref(t);
	OK(store_ticket_get(st, "d2", false, &t));
	json_decref(t);
	/* later commits are durable at once again, and claims still work */
	OK(store_ticket_intake(st, TICKET("d3", "api", "c"), "triage", NULL, NULL, NULL));
	{
		struct store_job *job = NULL;

		OK(store_job_claim(st, "triage", "w1", 60, &job));
		OK(store_job_complete(st, job->id, "w1"));
		store_job_free(job);
	}
}

static void test_store_outbox_dedupes_retries_and_dies(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *items = NULL, *list = NULL;
	bool created;
	int64_t id;

	store_set_clock(st, fx_fake_now, f);
	OK(store_outbox_enqueue(st, "email", "a@b.c", J("{s:s}", "subject", "hi"), "T-1:resolved", &created));
	assert_true(created);
	OK(store_outbox_enqueue(st, "email", "a@b.c", NULL, "T-1:resolved", &created));
	assert_false(created);
	OK(store_outbox_claim(st, "n1", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	id = fl_json_int(json_array_get(items, 0), "id", 0);
	assert_int_equal(fl_json_int(json_array_get(items, 0), "attempts", 0), 1);
	json_decref(items);
	/* Held: nobody else gets it until the lease ends. */
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	OK(store_outbox_fail(st, id, "smtp 451", 60, 2));
	f->now += 59 * 1000000LL;
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	f->now += 2 * 1000000LL;
	OK(store_outbox_claim(st, "n2", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	json_decref(items);
	OK(store_outbox_fail(st, id, "smtp 550", 60, 2));
	OK(store_outbox_list(st, "dead", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "last_error", ""), "smtp 550");
	json_decref(list);
	assert_int_equal(store_outbox_mark_sent(st, id), STORE_ECONFLICT);
	/* A second item goes through. */
	OK(store_outbox_enqueue(st, "slack", "#support-updates", NULL, NULL, &created));
	OK(store_outbox_claim(st, "n1", 10, 30, &items));
	assert_int_equal(json_array_size(items), 1);
	OK(store_outbox_mark_sent(st, fl_json_int(json_array_get(items, 0), "id", 0)));
	OK(store_outbox_mark_sent(st, fl_json_int(json_array_get(items, 0), "id", 0)));
	json_decref(items);
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "status", ""), "sent");
	json_decref(list);
}

/*
 * An attempt in flight: store_outbox_begin marks it (started_at) and
 * renews the item's lease; only the lease's holder may begin; a heartbeat
 * (store_outbox_extend) keeps every item a dispatcher holds; an expired
 * lease lets another dispatcher take the item, which then still shows the
 * begun attempt (the outcome the dead one never recorded).
 */
static void test_store_outbox_attempts_in_flight(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *items = NULL, *list = NULL;
	int64_t a, b;
	int n = -1;

	store_set_clock(st, fx_fake_now, f);
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "a"), "a", NULL));
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "b"), "b", NULL));
	OK(store_outbox_claim(st, "d1", 10, 10, &items));
	assert_int_equal(json_array_size(items), 2);
	a = fl_json_int(json_array_get(items, 0), "id", 0);
	b = fl_json_int(json_array_get(items, 1), "id", 0);
	assert_true(json_is_null(json_object_get(json_array_get(items, 0), "started_at")));
	json_decref(items);
	assert_int_equal(store_outbox_begin(st, a, "d2", 10), STORE_ELEASE);
	OK(store_outbox_begin(st, a, "d1", 10));
	/* the heartbeat: 8 s later both leases are renewed for 10 s */
	f->now += 8 * 1000000LL;
	OK(store_outbox_extend(st, "d1", 10, &n));
	assert_int_equal(n, 2);
	f->now += 8 * 1000000LL;
	OK(store_outbox_claim(st, "d2", 10, 10, &items));
	assert_int_equal(json_array_size(items), 0);
	json_decref(items);
	/* d1 dies: after the lease d2 takes both; a's begun attempt shows */
	f->now += 3 * 1000000LL;
	OK(store_outbox_claim(st, "d2", 10, 10, &items));
	assert_int_equal(json_array_size(items), 2);
	assert_false(json_is_null(json_object_get(json_array_get(items, 0), "started_at")));
	assert_true(json_is_null(json_object_get(json_array_get(items, 1), "started_at")));
	assert_string_equal(fl_json_str(json_array_get(items, 0), "lease_owner", ""), "d2");
	json_decref(items);
	assert_int_equal(store_outbox_begin(st, b, "d1", 10), STORE_ELEASE);
	OK(store_outbox_extend(st, "d1", 10, &n));
	assert_int_equal(n, 0);
	/* recording the outcome clears the attempt */
	OK(store_outbox_begin(st, b, "d2", 10));
	OK(store_outbox_mark_sent(st, b));
	OK(store_outbox_fail(st, a, "outcome unknown", 0, 1));
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_true(json_is_null(json_object_get(json_array_get(list, 0), "started_at")));
	assert_true(json_is_null(json_object_get(json_array_get(list, 1), "started_at")));
	json_decref(list);
	OK(store_outbox_retry(st, a));
	assert_int_equal(store_outbox_begin(st, a, "d2", 0), STORE_EINVAL);
}

static void test_store_jobs_lease_retry_and_dead_letter(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_job *j = NULL, *k = NULL;
	json_t *counts = NULL, *list = NULL;

	store_set_clock(st, fx_fake_now, f);
	OK(store_ticket_intake(st, TICKET("j", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_job_enqueue(st, "triage", "j", J("{s:i}", "n", 1), 2, 0, "triage:j"));
	OK(store_job_enqueue(st, "triage", "j", NULL, 2, 0, "triage:j")); /* deduped */
	OK(store_job_enqueue(st, "later", NULL, NULL, 0, f->now + 10 * 1000000LL, NULL));
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 2);
	json_decref(counts);
	OK(store_job_claim(st, NULL, "w1", 30, &j));
	assert_string_equal(j->kind, "triage");
	assert_string_equal(j->ticket_id, "j");
	assert_int_equal(j->attempts, 1);
	assert_int_equal(fl_json_int(j->payload, "n", 0), 1);
	assert_int_equal(store_job_claim(st, NULL, "w2", 30, &k), STORE_ENOTFOUND); /* "later" not due */
	OK(store_job_heartbeat(st, j->id, "w1", 30));
	assert_int_equal(store_job_heartbeat(st, j->id, "w2", 30), STORE_ELEASE);
	/* The lease runs out: another worker takes the job, the first loses it. */
	f->now += 31 * 1000000LL;
	OK(store_job_claim(st, "triage", "w2", 30, &k));
	assert_int_equal(k->id, j->id);
	assert_int_equal(k->attempts, 2);
	assert_int_equal(store_job_complete(st, j->id, "w1"), STORE_ELEASE);
	/* The second attempt fails: max_attempts 2, so dead. */
	OK(store_job_fail(st, k->id, "w2", "boom", 1000000));
	OK(store_job_list(st, "dead", 0, &list));
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(fl_json_str(json_array_get(list, 0), "last_error", ""), "boom");
	json_decref(list);
	OK(store_job_retry(st, k->id));
	assert_int_equal(store_job_retry(st, k->id), STORE_ECONFLICT);
	store_job_free(j);
	store_job_free(k);
	j = k = NULL;
	/* Retried: attempts reset; a failure now requeues with backoff. */
	OK(store_job_claim(st, "triage", "w3", 30, &j));
	assert_int_equal(j->attempts, 1);
	OK(store_job_fail(st, j->id, "w3", "transient", 5 * 1000000LL));
	assert_int_equal(store_job_claim(st, "triage", "w3", 30, &k), STORE_ENOTFOUND);
	f->now += 6 * 1000000LL;
	OK(store_job_claim(st, "triage", "w3", 30, &k));
	assert_int_equal(k->attempts, 2);
	OK(store_job_complete(st, k->id, "w3"));
	store_job_free(j);
	store_job_free(k);
	j = k = NULL;
	OK(store_job_claim(st, "later", "w4", 30, &j));
	OK(store_job_complete(st, j->id, "w4"));
	store_job_free(j);
	j = NULL;
	/* A worker that dies on the last attempt: the expired job goes dead, not round again. */
	OK(store_job_enqueue(st, "other", NULL, NULL, 1, 0, NULL));
	OK(store_job_claim(st, "other", "w6", 1, &k));
	store_job_free(k);
	k = NULL;
	f->now += 2 * 1000000LL;
	assert_int_equal(store_job_claim(st, "other", "w7", 1, &k), STORE_ENOTFOUND);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "done", 0), 2);
	assert_int_equal(fl_json_int(counts, "dead", 0), 1);
	assert_int_equal(fl_json_int(counts, "running", 0), 0);
	assert_int_equal(fl_json_int(counts, "queued", 0), 0);
	json_decref(counts);
}

static void test_store_transaction_is_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *t = NULL, *list = NULL;

	OK(store_ticket_intake(st, TICKET("tx", "api", "c"), NULL, NULL, NULL, NULL));
	OK(store_begin(st));
	assert_true(store_in_transaction(st));
	assert_int_equal(store_begin(st), STORE_EINVAL);
	OK(store_ticket_update(st, "tx", 0, J("{s:s}", "status", "resolved"), "agent", NULL));
	store_fault_inject(st, "store_outbox_enqueue", 1, STORE_EIO);
	assert_int_equal(store_outbox_enqueue(st, "email", "x@y.z", NULL, "tx:resolved", NULL), STORE_EIO);
	assert_non_null(strstr(store_errmsg(st), "injected fault"));
	store_rollback(st);
	assert_false(store_in_transaction(st));
	OK(store_ticket_get(st, "tx", false, &t));
	assert_string_equal(fl_json_str(t, "status", ""), "new");
	assert_int_equal(fl_json_int(t, "version", 0), 1);
	json_decref(t);
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	/* And committed together. */
	OK(store_begin_immediate(st));
	OK(store_ticket_update(st, "tx", 1, J("{s:s}", "status", "resolved"), "agent", NULL));
	OK(store_outbox_enqueue(st, "email", "x@y.z", NULL, "tx:resolved", NULL));
	OK(store_commit(st));
	OK(store_outbox_list(st, NULL, 0, &list));
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	/* A failed op inside a transaction leaves the earlier ones intact. */
	OK(store_begin_immediate(st));
	OK(store_event_append(st, "tx", "note", "a", NULL));
	assert_int_equal(store_ticket_intake(st, J("{s:s}", "id", "bad"), NULL, NULL, NULL, NULL),
			 STORE_EINVAL);
	OK(store_commit(st));
	OK(store_event_list(st, "tx", 0, &list));
	assert_string_equal(fl_json_str(json_array_get(list, json_array_size(list) - 1), "type", ""), "note");
	json_decref(list);
}

struct intake_thread {
	struct store_group *g;
	int thread, n, created, failed;
};

static void *group_writer(void *arg)
{
	struct intake_thread *it = arg;
	int i;

	for (i = 0; i < it->n; i++) {
		char id[32];
		json_t *t, *out = NULL;
		bool created = false;

		/* Half the ids are shared by all threads: each must be created once. */
		if (i % 2)
			snprintf(id, sizeof(id), "shared-%d", i);
		else
			snprintf(id, sizeof(id), "own-%d-%d", it->thread, i);
		t = fx_ticket_new(id, "chat", "c");
		if (store_group_intake(it->g, t, "triage", NULL, &out, &created, NULL) == STORE_OK)
			it->created += created;
		else
			it->failed++;
		json_decref(t);
		json_decref(out);
	}
	return NULL;
}

static void test_store_group_commit_batches_concurrent_intake(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct intake_thread it[6];
	pthread_t th[6];
	json_t *counts = NULL, *bad = json_pack("{s:s}", "id", "x");
	uint64_t batches = 0, tickets = 0;
	char *err = NULL;
	int i, created = 0;

	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 6; i++) {
		it[i] = (struct intake_thread){ g, i, 40, 0, 0 };
		pthread_create(&th[i], NULL, group_writer, &it[i]);
	}
	/* One bad ticket fails alone. */
	assert_int_equal(store_group_intake(g, bad, NULL, NULL, NULL, NULL, &err), STORE_EINVAL);
	assert_non_null(strstr(err, "content"));
	free(err);
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(it[i].failed, 0);
		created += it[i].created;
	}
	store_group_stats(g, &batches, &tickets);
	store_group_close(g);
	assert_int_equal(created, 6 * 20 + 20);
	assert_int_equal(tickets, 6 * 40 + 1);
	assert_true(batches >= 1 && batches <= tickets);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 6 * 20 + 20);
	json_decref(counts);
	json_decref(bad);
}

struct submitted {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls, ok, created, failed;
	char *last_err;
};

static void on_submitted(void *arg, int rc, json_t *out, bool created, const char *err)
{
	struct submitted *s = arg;

	pthread_mutex_lock(&s->lock);
	s->calls++;
	if (rc == STORE_OK) {
		s->ok++;
		s->created += created;
		assert_non_null(out);
		assert_null(err);
	} else {
		s->failed++;
		assert_null(out);
		free(s->last_err);
		s->last_err = fl_strdup(err);
	}
	json_decref(out);
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static void test_store_group_submit_calls_back_when_durable(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct submitted s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL };
	json_t *tickets = json_array(), *bad = json_pack("{s:s}", "id", "x"), *t = NULL, *counts = NULL;
	char id[32], *err = NULL;
	int i;

	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 60; i++) {
		/* every tenth repeats an earlier id: the same ticket, not a new one */
		snprintf(id, sizeof(id), "async-%d", i % 10 == 9 ? i - 1 : i);
		json_array_append_new(tickets, fx_ticket_new(id, "webhook", "c"));
		assert_int_equal(store_group_submit(g, json_array_get(tickets, (size_t)i), "triage", NULL,
						    on_submitted, &s), STORE_OK);
	}
	assert_int_equal(store_group_submit(g, bad, NULL, NULL, on_submitted, &s), STORE_OK);
	assert_int_equal(store_group_submit(g, NULL, NULL, NULL, on_submitted, &s), STORE_EINVAL);
	pthread_mutex_lock(&s.lock);
	while (s.calls < 61)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	assert_int_equal(s.ok, 60);
	assert_int_equal(s.created, 54);
	assert_int_equal(s.failed, 1);
	assert_non_null(strstr(s.last_err, "content"));
	/* told only once durable: another connection sees them */
	OK(store_ticket_get(st, "async-58", false, &t));
	json_decref(t);
	OK(store_job_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "queued", 0), 54);
	json_decref(counts);
	/* closing runs the callbacks still pending */
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "late-%d", i);
		json_array_append_new(tickets, fx_ticket_new(id, "webhook", "c"));
		assert_int_equal(store_group_submit(g, json_array_get(tickets, json_array_size(tickets) - 1),
						    NULL, NULL, on_submitted, &s), STORE_OK);
	}
	store_group_close(g);
	assert_int_equal(s.calls, 66);
	assert_int_equal(s.created, 59);
	free(s.last_err);
	json_decref(tickets);
	json_decref(bad);
}

static int search_count(struct store *st, const char *query)
{
	struct store_ticket_filter flt = { .query = query, .limit = 500 };
	json_t *page = NULL;
	int n;

	OK(store_ticket_list(st, &flt, &page));
	n = (int)json_array_size(json_object_get(page, "tickets"));
	json_decref(page);
	return n;
}

#define WORDS(id, subject, content) J("{s:s, s:s, s:s}", "id", id, "subject", subject, "content", content)

/* New tickets are searchable however they came in (SQLite indexes them once per transaction). */
static void test_store_search_indexes_tickets_however_they_arrive(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_group *g = NULL;
	struct submitted s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL };
	char id[32], *err = NULL;
	int i;

	/* inside a transaction: found before the commit; a subject changed in it too */
	OK(store_begin_immediate(st));
	OK(store_ticket_intake(st, WORDS("tx1", "Zebra crossing", "stripes everywhere"), NULL, NULL, NULL, NULL));
	OK(store_ticket_intake(st, WORDS("tx2", "Walrus tusk", "an ivory question"), NULL, NULL, NULL, NULL));
	assert_int_equal(search_count(st, "zebra"), 1);
	OK(store_ticket_intake(st, WORDS("tx3", "Okapi sighting", "rare animal"), NULL, NULL, NULL, NULL));
	OK(store_ticket_update(st, "tx2", 0, J("{s:s}", "subject", "Narwhal horn"), "t", NULL));
	OK(store_commit(st));
	assert_int_equal(search_count(st, "zebra"), 1);
	assert_int_equal(search_count(st, "okapi"), 1);
	assert_int_equal(search_count(st, "narwhal"), 1);
	assert_int_equal(search_count(st, "walrus"), 0);
	assert_int_equal(search_count(st, "ivory"), 1);
	/* rolled back: not in the index; the next ticket (its number again) by its own words */
	OK(store_begin_immediate(st));
	OK(store_ticket_intake(st, WORDS("rb1", "Giraffe neck", "very tall"), NULL, NULL, NULL, NULL));
	store_rollback(st);
	OK(store_ticket_intake(st, WORDS("rb2", "Penguin feet", "always cold"), NULL, NULL, NULL, NULL));
	assert_int_equal(search_count(st, "giraffe"), 0);
	assert_int_equal(search_count(st, "penguin"), 1);
	/* imported */
	OK(store_ticket_import(st, J("[{s:s, s:s, s:s, s:s, s:s}]", "id", "imp1", "channel", "email",
				     "customer_id", "c", "subject", "Armadillo shell", "content", "hard"),
			       NULL));
	assert_int_equal(search_count(st, "armadillo"), 1);
	/* through the group commit: batches of many tickets */
	assert_int_equal(store_group_open(f->url, NULL, &g, &err), STORE_OK);
	for (i = 0; i < 80; i++) {
		snprintf(id, sizeof(id), "grp-%d", i);
		assert_int_equal(store_group_submit(g, WORDS(id, "Platypus egg", i % 2 ? "odd one" : "even one"),
						    "triage", NULL, on_submitted, &s), STORE_OK);
	}
	pthread_mutex_lock(&s.lock);
	while (s.calls < 80)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	store_group_close(g);
	assert_int_equal(s.ok, 80);
	assert_int_equal(search_count(st, "platypus"), 80);
	assert_int_equal(search_count(st, "platypus odd"), 40);
	/* and the index agrees with the tickets, by FTS5's own check */
	if (!strcmp(f->g->backend, "sqlite"))
		fx_behind_the_back(f->url, "INSERT INTO tickets_fts (tickets_fts) VALUES ('integrity-check')", NULL);
	free(s.last_err);
}

static long file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (long)sb.st_size;
}

/*
 * SQLite, durable settings: the group's connection leaves checkpoints to a
 * thread of its own; the log's pages still reach the database file.
 */
static void test_store_group_log_is_checkpointed(void **state)
{
	struct fx *f = *state;
	struct store_group *g = NULL;
	json_t *t = NULL;
	char *url, *db, *err = NULL, id[32];
	int64_t deadline;
	long before;
	int i;

	if (strcmp(f->g->backend, "sqlite"))
		skip();
	url = fl_asprintf("sqlite://%s/frontline.db", f->dir);   /* synchronous=full: deferred syncs */
	db = fl_asprintf("%s/frontline.db", f->dir);
	before = file_size(db);
	assert_int_equal(store_group_open(url, NULL, &g, &err), STORE_OK);
	/* one ticket per commit: well over SQLite's 1,000 frames of log */
	for (i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), "ckpt-%d", i);
		assert_int_equal(store_group_intake(g, TICKET(id, "web", "c"), "triage", NULL, NULL, NULL, &err),
				 STORE_OK);
	}
	deadline = fl_mono_us() + 20 * 1000000LL;
	while (file_size(db) <= before && fl_mono_us() < deadline)
		fl_sleep_us(20000);
	assert_true(file_size(db) > before);
	store_group_close(g);
	{
		struct store *st = f->st;

		OK(store_ticket_get(st, "ckpt-249", false, &t));
	}
	json_decref(t);
	free(url);
	free(db);
}

static void test_store_claims_never_hand_a_job_twice(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *other = NULL;
	struct store_job *a = NULL, *b = NULL;
	char *err = NULL;
	int i, got = 0;

	assert_int_equal(store_open(f->url, &other, &err), STORE_OK);
	for (i = 0; i < 20; i++)
		OK(store_job_enqueue(st, "k", NULL, NULL, 3, 0, NULL));
	for (i = 0; i < 10; i++) {
		OK(store_job_claim(st, "k", "a", 60, &a));
		assert_int_equal(store_job_claim(other, "k", "b", 60, &b), STORE_OK);
		assert_true(a->id != b->id);
		OK(store_job_complete(st, a->id, "a"));
		assert_int_equal(store_job_complete(other, b->id, "b"), STORE_OK);
		store_job_free(a);
		store_job_free(b);
		got += 2;
	}
	assert_int_equal(store_job_claim(st, "k", "a", 60, &a), STORE_ENOTFOUND);
	assert_int_equal(got, 20);
	store_close(other);
}

static void test_store_rate_hits_slide(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	int64_t n = 0;
	int i;

	store_set_clock(st, fx_fake_now, f);
	for (i = 1; i <= 5; i++) {
		OK(store_rate_hit(st, "email:a@b.c", 60, &n));
		assert_int_equal(n, i);
		f->now += 10 * 1000000LL;
	}
	OK(store_rate_hit(st, "email:other@b.c", 60, &n));
	assert_int_equal(n, 1);
	/* at 70 s the hits at 0 s and 10 s have left the 60 s window */
	f->now += 20 * 1000000LL;
	OK(store_rate_hit(st, "email:a@b.c", 60, &n));
	assert_int_equal(n, 4);
	f->now += 3600 * 1000000LL;
	OK(store_rate_hit(st, "email:a@b.c", 60, &n));
	assert_int_equal(n, 1);
	assert_int_equal(store_rate_hit(st, "k", 0, &n), STORE_EINVAL);
}

static void test_store_lock_has_one_holder(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st, *other = NULL;
	bool got = false;
	char *err = NULL;

	store_set_clock(st, fx_fake_now, f);
	assert_int_equal(store_open(f->url, &other, &err), STORE_OK);
	store_set_clock(other, fx_fake_now, f);
	OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
	assert_true(got);
	OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
	assert_true(got);     /* its holder may take it again */
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_false(got);
	assert_int_equal(store_lock_try(other, "frontline.other", "replica-b", 120, &got), STORE_OK);
	assert_true(got);     /* locks are independent by name */
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_true(got);
	assert_int_equal(store_lock_release(other, "frontline.monitor", "replica-b"), STORE_OK);
	/* a holder that vanishes: its connection (PostgreSQL) or its lease (SQLite) ends */
	assert_int_equal(store_lock_try(other, "frontline.monitor", "replica-b", 120, &got), STORE_OK);
	assert_true(got);
	store_close(other);
	f->now += 121 * 1000000LL;
	{
		/* PostgreSQL ends the closed session's backend asynchronously: wait for it, bounded */
		int64_t deadline = fl_mono_us() + 10 * 1000000LL;

		do {
			OK(store_lock_try(st, "frontline.monitor", "replica-a", 120, &got));
			if (!got)
				fl_sleep_us(10000);
		} while (!got && fl_mono_us() < deadline);
	}
	assert_true(got);
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));
	OK(store_lock_release(st, "frontline.monitor", "replica-a"));   /* not held: fine */
	assert_int_equal(store_lock_try(st, "x", "o", 0, &got), STORE_EINVAL);
}

static void test_store_job_release_does_not_count_the_attempt(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_job *job = NULL;

	store_set_clock(st, fx_fake_now, f);
	OK(store_job_enqueue(st, "triage", NULL, NULL, 3, 0, NULL));
	OK(store_job_claim(st, "triage", "w1", 300, &job));
	assert_int_equal(job->attempts, 1);
	assert_int_equal(store_job_release(st, job->id, "w2"), STORE_ELEASE);
	OK(store_job_release(st, job->id, "w1"));
	assert_int_equal(store_job_complete(st, job->id, "w1"), STORE_ELEASE);
	store_job_free(job);
	/* due again at once, with the attempt given back */
	OK(store_job_claim(st, "triage", "w2", 300, &job));
	assert_int_equal(job->attempts, 1);
	OK(store_job_complete(st, job->id, "w2"));
	assert_int_equal(store_job_release(st, 999999, "w2"), STORE_ENOTFOUND);
	store_job_free(job);
}

static void test_store_outbox_retry_and_counts(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *items = NULL, *counts = NULL;
	bool created;
	int64_t id;

	store_set_clock(st, fx_fake_now, f);
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "a"), "a", &created));
	OK(store_outbox_enqueue(st, "slack", "#x", J("{s:s}", "text", "b"), "b", &created));
	OK(store_outbox_claim(st, "n", 1, 30, &items));
	id = fl_json_int(json_array_get(items, 0), "id", 0);
	json_decref(items);
	assert_int_equal(store_outbox_retry(st, id), STORE_ECONFLICT);
	OK(store_outbox_fail(st, id, "HTTP 404", 10, 1));
	OK(store_outbox_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "dead", -1), 1);
	assert_int_equal(fl_json_int(counts, "pending", -1), 1);
	assert_int_equal(fl_json_int(counts, "sent", -1), 0);
	json_decref(counts);
	OK(store_outbox_retry(st, id));
	OK(store_outbox_claim(st, "n", 10, 30, &items));
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(fl_json_int(json_array_get(items, 0), "attempts", 0) +
			 fl_json_int(json_array_get(items, 1), "attempts", 0), 2);
	json_decref(items);
	OK(store_outbox_counts(st, &counts));
	assert_int_equal(fl_json_int(counts, "sending", -1), 2);
	json_decref(counts);
	assert_int_equal(store_outbox_retry(st, 424242), STORE_ENOTFOUND);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_store_defer_sync_commits_then_syncs),
	FX_TEST(test_store_outbox_dedupes_retries_and_dies),
	FX_TEST(test_store_outbox_attempts_in_flight),
	FX_TEST(test_store_jobs_lease_retry_and_dead_letter),
	FX_TEST(test_store_transaction_is_all_or_nothing),
	FX_TEST(test_store_group_commit_batches_concurrent_intake),
	FX_TEST(test_store_group_submit_calls_back_when_durable),
	FX_TEST(test_store_search_indexes_tickets_however_they_arrive),
	FX_TEST(test_store_group_log_is_checkpointed),
	FX_TEST(test_store_claims_never_hand_a_job_twice),
	FX_TEST(test_store_rate_hits_slide),
	FX_TEST(test_store_lock_has_one_holder),
	FX_TEST(test_store_job_release_does_not_count_the_attempt),
	FX_TEST(test_store_outbox_retry_and_counts),
};

int main(void)
{
	return FX_RUN("store_queue", tests) ? 1 : 0;
}
