/*
 * store_bench: the durable store's speed on SQLite and PostgreSQL.
 *
 * 1. Durable intake (committed before return), one ticket per transaction.
 * 2. Durable intake with group commit, batched into shared transactions
 *    (goal on SQLite: >= 5,000 tickets/s): 64 threads each calling
 *    store_group_intake and waiting, and one thread keeping 64 tickets in
 *    flight with store_group_submit (what frontline serve does: an HTTP
 *    thread hands a ticket over and is told when it is durable).
 * 3. Job claim + complete, 1 and 4 workers (threads with a connection each).
 * 4. List and search latency (p50, p99) on 1,000,000 stored tickets, loaded
 *    with store_ticket_import (goal: list p99 < 20 ms).
 *
 * SQLite runs on disk (/var/tmp) with synchronous=full; PostgreSQL is a
 * private server (tests/harness/pg_harness) with fsync and
 * synchronous_commit on, on the same disk. Prints a Markdown section for
 * docs/BENCHMARKS.md.
 *
 * Usage: store_bench [--tickets N] [--no-postgres]
 */
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "bench_data.h"
#include "pg_harness.h"
#include "store/store.h"
#include "util/util.h"

#define THREADS 64

struct target {
	const char *name;
	char *url;            /* durable */
	double one, group, group_async, batch, jobs1, jobs4, import;
	double group_cpu_us, group_async_cpu_us;  /* CPU of this process per group-committed ticket (SQLite: all of it) */
	double lat[10][2];    /* p50, p99 in ms per query kind */
	double cpu[10][2];    /* the same in CPU time of the querying thread (SQLite: service time) */
};

static struct store *open_or_die(const char *url)
{
	struct store *st = NULL;
	char *err = NULL;

	if (store_open(url, &st, &err))
		fl_die("%s", err);
	return st;
}

static double rate(int64_t n, int64_t us)
{
	return us > 0 ? (double)n * 1e6 / (double)us : 0;
}

/* ---- 1. one by one ---- */

static void bench_one(struct target *t, int n)
{
	struct store *st = open_or_die(t->url);
	int64_t t0 = fl_mono_us();
	int i;

	for (i = 0; i < n; i++) {
		json_t *tk = bench_fake_ticket(100000000 + i, 0, false);

		if (store_ticket_intake(st, tk, "triage", NULL, NULL, NULL))
			fl_die("intake: %s", store_errmsg(st));
		json_decref(tk);
	}
	t->one = rate(n, fl_mono_us() - t0);
	store_close(st);
}

/* ---- 2. group commit ---- */

struct writer {
	struct store_group *g;
	int first, n;
};

static void *group_writer(void *arg)
{
	struct writer *w = arg;
	int i;

	for (i = 0; i < w->n; i++) {
		json_t *tk = bench_fake_ticket(200000000 + w->first + i, 0, false);
		char *err = NULL;

		if (store_group_intake(w->g, tk, "triage", NULL, NULL, NULL, &err))
			fl_die("group intake: %s", err);
		json_decref(tk);
	}
	return NULL;
}

static int64_t process_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void bench_group(struct target *t, int n)
{
	struct store_group *g = NULL;
	int64_t cpu0;
	struct writer w[THREADS];
	pthread_t th[THREADS];
	uint64_t batches = 0, tickets = 0;
	char *err = NULL;
	int64_t t0;
	int i;

	if (store_group_open(t->url, NULL, &g, &err))
		fl_die("%s", err);
	/* Tickets are made in the writers (JSON is cheap next to a commit); this seeds each thread. */
	cpu0 = process_cpu_us();
	t0 = fl_mono_us();
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct writer){ g, i * (n / THREADS), n / THREADS };
		pthread_create(&th[i], NULL, group_writer, &w[i]);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	t->group = rate((n / THREADS) * THREADS, fl_mono_us() - t0);
	store_group_stats(g, &batches, &tickets);
	t->batch = batches ? (double)tickets / (double)batches : 0;
	t->group_cpu_us = (double)(process_cpu_us() - cpu0) / (double)((n / THREADS) * THREADS);
	store_group_close(g);
}

/* store_group_submit with a bounded number in flight, as the server uses it. */
struct inflight {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int n, failed;
};

/* One submitted ticket: the group borrows it until its callback. */
struct submission {
	struct inflight *f;
	json_t *ticket;
};

static void submitted(void *arg, int rc, json_t *out, bool created, const char *err)
{
	struct submission *sub = arg;
	struct inflight *f = sub->f;

	(void)created;
	json_decref(out);
	json_decref(sub->ticket);
	free(sub);
	pthread_mutex_lock(&f->lock);
	if (rc) {
		fprintf(stderr, "store_bench: group submit: %s\n", err ? err : "failed");
		f->failed++;
	}
	f->n--;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void bench_group_async(struct target *t, int n)
{
	struct inflight f = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct store_group *g = NULL;
	char *err = NULL;
	int64_t t0, cpu0;
	int i;

	if (store_group_open(t->url, NULL, &g, &err))
		fl_die("%s", err);
	cpu0 = process_cpu_us();
	t0 = fl_mono_us();
	for (i = 0; i < n; i++) {
		struct submission *sub = fl_malloc(sizeof(*sub));

		sub->f = &f;
		sub->ticket = bench_fake_ticket(300000000 + i, 0, false);
		pthread_mutex_lock(&f.lock);
		while (f.n >= THREADS)
			pthread_cond_wait(&f.cond, &f.lock);
		f.n++;
		pthread_mutex_unlock(&f.lock);
		if (store_group_submit(g, sub->ticket, "triage", NULL, submitted, sub))
			fl_die("group submit refused");
	}
	pthread_mutex_lock(&f.lock);
	while (f.n > 0)
		pthread_cond_wait(&f.cond, &f.lock);
	pthread_mutex_unlock(&f.lock);
	if (f.failed)
		fl_die("%d group submits failed", f.failed);
	t->group_async = rate(n, fl_mono_us() - t0);
	t->group_async_cpu_us = (double)(process_cpu_us() - cpu0) / (double)n;
	store_group_close(g);
}

/* ---- 3. jobs ---- */

struct jobber {
	const char *url;
	int done;
};

static void *jobber(void *arg)
{
	struct jobber *j = arg;
	struct store *st = open_or_die(j->url);
	char owner[32];

	snprintf(owner, sizeof(owner), "bench-%p", arg);
	for (;;) {
		struct store_job *job = NULL;
		int rc = store_job_claim(st, "bench", owner, 60, &job);

		if (rc == STORE_ENOTFOUND)
			break;
		if (rc == STORE_EBUSY)
			continue;
		if (rc)
			fl_die("claim: %s", store_errmsg(st));
		if (store_job_complete(st, job->id, owner))
			fl_die("complete: %s", store_errmsg(st));
		store_job_free(job);
		j->done++;
	}
	store_close(st);
	return NULL;
}

static double bench_jobs(struct target *t, int n, int workers)
{
	struct store *st = open_or_die(t->url);
	struct jobber j[4] = { { t->url, 0 }, { t->url, 0 }, { t->url, 0 }, { t->url, 0 } };
	pthread_t th[4];
	int64_t t0;
	int i, done = 0;

	if (store_begin(st))
		fl_die("%s", store_errmsg(st));
	for (i = 0; i < n; i++)
		if (store_job_enqueue(st, "bench", NULL, NULL, 3, 0, NULL))
			fl_die("enqueue: %s", store_errmsg(st));
	if (store_commit(st))
		fl_die("%s", store_errmsg(st));
	store_close(st);
	t0 = fl_mono_us();
	for (i = 0; i < workers; i++)
		pthread_create(&th[i], NULL, jobber, &j[i]);
	for (i = 0; i < workers; i++) {
		pthread_join(th[i], NULL);
		done += j[i].done;
	}
	if (done != n)
		fl_die("jobs: %d of %d done", done, n);
	return rate(n, fl_mono_us() - t0);
}

/* ---- 4. a million tickets: import, then list and search ---- */

static void bench_import(struct target *t, int64_t n)
{
	struct store *st = open_or_die(t->url);
	int64_t t0 = fl_mono_us(), i = 0;

	while (i < n) {
		json_t *batch = json_array();
		size_t made = 0;
		int64_t k;

		for (k = 0; k < 5000 && i < n; k++, i++)
			json_array_append_new(batch, bench_fake_ticket(i, n, true));
		if (store_ticket_import(st, batch, &made))
			fl_die("import: %s", store_errmsg(st));
		json_decref(batch);
		if (i % 100000 == 0)
			fprintf(stderr, "store_bench: %s: %lld tickets imported\n", t->name, (long long)i);
	}
	t->import = rate(n, fl_mono_us() - t0);
	store_close(st);
}

/* Planner statistics after the bulk load, as an operator would refresh them. */
static void analyze(const struct target *t)
{
	if (!strcmp(t->name, "SQLite")) {
		char *path = fl_strdup(t->url + strlen("sqlite://"));
		sqlite3 *db;

		*strchrnul(path, '?') = '\0';
		if (sqlite3_open(path, &db) == SQLITE_OK)
			sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL);
		sqlite3_close(db);
		free(path);
	} else {
		PGconn *c = PQconnectdb(t->url);

		PQclear(PQexec(c, "VACUUM ANALYZE"));
		PQfinish(c);
	}
}

enum { Q_NEWEST, Q_STATUS, Q_STATUS_PRIO, Q_CUSTOMER, Q_ASSIGNEE, Q_DEEP, Q_WORD, Q_TWO, Q_RARE, NQ };

static const char *const q_names[NQ] = {
	"list newest 50",
	"list status = X (weighted like the data)",
	"list status = new and priority = urgent",
	"list by customer_id",
	"list by assignee",
	"list, page 20 (cursor)",
	"search one common word",
	"search two common words",
	"search a rare word",
};

static void bench_queries(struct target *t, int rounds)
{
	struct store *st = open_or_die(t->url);
	double *lat = fl_calloc((size_t)rounds, sizeof(double));
	double *cpu = fl_calloc((size_t)rounds, sizeof(double));
	int q, r;

	for (q = 0; q < NQ; q++) {
		for (r = -10; r < rounds; r++) { /* 10 rounds of warm-up */
			struct store_ticket_filter f = { .limit = 50 };
			char cust[32], agent[32], rare[32], two[64];
			char *cursor = NULL;
			json_t *page = NULL;
			int64_t t0, c0;
			int p;

			snprintf(cust, sizeof(cust), "cust_%05llu", (unsigned long long)(bench_next() % 50000));
			snprintf(agent, sizeof(agent), "agent_%03llu", (unsigned long long)(bench_next() % 200));
			snprintf(rare, sizeof(rare), "w%llu", (unsigned long long)(5000 + bench_next() % 15000));
			snprintf(two, sizeof(two), "%s %s", bench_common_words[bench_next() % bench_ncommon_words],
				 bench_common_words[bench_next() % bench_ncommon_words]);
			switch (q) {
			case Q_STATUS: f.status = bench_pick(bench_statuses, bench_status_w, BENCH_NSTATUSES); break;
			case Q_STATUS_PRIO: f.status = "new"; f.priority = "urgent"; break;
			case Q_CUSTOMER: f.customer_id = cust; break;
			case Q_ASSIGNEE: f.assignee = agent; break;
			case Q_WORD: f.query = bench_common_words[bench_next() % bench_ncommon_words]; break;
			case Q_TWO: f.query = two; break;
			case Q_RARE: f.query = rare; break;
			}
			t0 = fl_mono_us();
			c0 = thread_cpu_us();
			for (p = 0; p < (q == Q_DEEP ? 20 : 1); p++) {
				f.cursor = cursor;
				if (store_ticket_list(st, &f, &page))
					fl_die("list: %s", store_errmsg(st));
				free(cursor);
				cursor = fl_strdup(fl_json_str(page, "next_cursor", NULL));
				json_decref(page);
				page = NULL;
				if (q == Q_DEEP && p == 18) {
					t0 = fl_mono_us(); /* measure page 20 alone */
					c0 = thread_cpu_us();
				}
			}
			free(cursor);
			if (r >= 0) {
				lat[r] = (double)(fl_mono_us() - t0) / 1000.0;
				cpu[r] = (double)(thread_cpu_us() - c0) / 1000.0;
			}
		}
		qsort(lat, (size_t)rounds, sizeof(double), bench_cmp_double);
		t->lat[q][0] = lat[rounds / 2];
		t->lat[q][1] = lat[(rounds * 99) / 100];
		qsort(cpu, (size_t)rounds, sizeof(double), bench_cmp_double);
		t->cpu[q][0] = cpu[rounds / 2];
		t->cpu[q][1] = cpu[(rounds * 99) / 100];
	}
	free(lat);
	free(cpu);
	store_close(st);
}

/* ---- report ---- */

/* A figure with as many decimals as asked, or n/a. */
static void row(const char *what, bool pg, double va, double vb, int decimals, const char *goal)
{
	char x[64], y[64];

	snprintf(x, sizeof(x), "%.*f", decimals, va);
	if (pg)
		snprintf(y, sizeof(y), "%.*f", decimals, vb);
	else
		snprintf(y, sizeof(y), "n/a");
	printf("| %s | %s | %s | %s |\n", what, x, y, goal ? goal : "");
}

int main(int argc, char **argv)
{
	struct target sq = { .name = "SQLite" }, pg = { .name = "PostgreSQL" };
	struct pg_harness h = PG_HARNESS_INIT;
	int64_t tickets = 1000000;
	bool use_pg = true;
	char dir[] = "/var/tmp/frontline-bench-XXXXXX", goal[128];
	double worst = 0, worst_cpu = 0, load_start = bench_loadavg(), load_end;
	int i, q;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--tickets") && i + 1 < argc)
			tickets = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--no-postgres"))
			use_pg = false;
		else
			fl_die("usage: store_bench [--tickets N] [--no-postgres]");
	}
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	if (!mkdtemp(dir))
		fl_die("cannot create a directory under /var/tmp");
	h.durable = true;
	if (use_pg && pg_harness_start(&h, &pg.url))
		fl_die("cannot start PostgreSQL: %s", pg_harness_error(&h));
	for (i = 0; i < (use_pg ? 2 : 1); i++) {
		struct target *t = i ? &pg : &sq;
		char *url;

		if (!i)
			t->url = fl_asprintf("sqlite://%s/intake.db", dir);
		fprintf(stderr, "store_bench: %s: intake\n", t->name);
		bench_one(t, i ? 3000 : 1000);
		bench_group(t, 64000);
		bench_group_async(t, 64000);
		fprintf(stderr, "store_bench: %s: jobs\n", t->name);
		if (!i)
			url = fl_asprintf("sqlite://%s/jobs.db", dir);
		else if (pg_harness_create_db(&h, &url))
			fl_die("%s", pg_harness_error(&h));
		free(t->url);
		t->url = url;
		t->jobs1 = bench_jobs(t, i ? 4000 : 1000, 1);
		t->jobs4 = bench_jobs(t, i ? 8000 : 2000, 4);
		if (!i)
			url = fl_asprintf("sqlite://%s/million.db", dir);
		else if (pg_harness_create_db(&h, &url))
			fl_die("%s", pg_harness_error(&h));
		free(t->url);
		t->url = url;
		bench_import(t, tickets);
		analyze(t);
		fprintf(stderr, "store_bench: %s: queries\n", t->name);
		bench_queries(t, 300);
	}
	load_end = bench_loadavg();
	printf("### Store (`bench/store_bench`)\n\n");
	printf("| measure | SQLite | PostgreSQL | goal |\n|---|---|---|---|\n");
	row("durable intake, one per transaction (tickets/s)", use_pg, sq.one, pg.one, 0, NULL);
	snprintf(goal, sizeof(goal), ">= 5,000/s on SQLite: %.2fx", sq.group / 5000.0);
	row("durable intake, group commit, 64 threads (tickets/s)", use_pg, sq.group, pg.group, 0, goal);
	snprintf(goal, sizeof(goal), ">= 5,000/s on SQLite: %.2fx", sq.group_async / 5000.0);
	row("durable intake, group commit, 64 in flight by store_group_submit, as the server (tickets/s)",
	    use_pg, sq.group_async, pg.group_async, 0, goal);
	row("mean tickets per group-commit transaction", use_pg, sq.batch, pg.batch, 1, NULL);
	row("job claim + complete, 1 worker (jobs/s)", use_pg, sq.jobs1, pg.jobs1, 0, NULL);
	row("job claim + complete, 4 workers (jobs/s)", use_pg, sq.jobs4, pg.jobs4, 0, NULL);
	row("bulk import (store_ticket_import, tickets/s)", use_pg, sq.import, pg.import, 0, NULL);
	for (q = 0; q < NQ; q++) {
		char what[160], a[64], b[64];

		snprintf(what, sizeof(what), "%s, %lld tickets: p50 / p99 (ms)", q_names[q], (long long)tickets);
		snprintf(a, sizeof(a), "%.2f / %.2f", sq.lat[q][0], sq.lat[q][1]);
		snprintf(b, sizeof(b), "%.2f / %.2f", pg.lat[q][0], pg.lat[q][1]);
		if (q < Q_WORD) {
			worst = fmax(worst, fmax(sq.lat[q][1], use_pg ? pg.lat[q][1] : 0));
			worst_cpu = fmax(worst_cpu, sq.cpu[q][1]);
			snprintf(goal, sizeof(goal), "p99 < 20 ms");
		} else {
			goal[0] = '\0';
		}
		printf("| %s | %s | %s | %s |\n", what, a, use_pg ? b : "n/a", goal);
	}
	printf("\nThe same SQLite queries in CPU time of the querying thread (their service time: the data "
	       "is in memory, so this is what they take when they need not wait for a CPU):\n\n");
	printf("| query | p50 / p99 (ms) |\n|---|---|\n");
	for (q = 0; q < NQ; q++)
		printf("| %s | %.2f / %.2f |\n", q_names[q], sq.cpu[q][0], sq.cpu[q][1]);
	printf("\nGoals. List p99: %.2f ms worst wall-clock on both backends (%s, %.1fx under the 20 ms "
	       "goal); %.2f ms worst SQLite service time (%.1fx under it).\n",
	       worst, worst < 20.0 ? "met" : "missed", worst > 0 ? 20.0 / worst : 0, worst_cpu,
	       worst_cpu > 0 ? 20.0 / worst_cpu : 0);
	printf("\nGroup commit on SQLite: %.0f tickets/s with 64 threads that each wait for their "
	       "ticket (%.2fx the 5,000/s goal; %.0f us of CPU per ticket in all: committer, syncer, "
	       "callers, and a thread wake-up for each); %.0f tickets/s with 64 in flight through "
	       "store_group_submit, as frontline serve takes tickets in (%.2fx the goal; %.0f us of CPU "
	       "per ticket, %.0f tickets/s per core that the process gets).\n",
	       sq.group, sq.group / 5000.0, sq.group_cpu_us, sq.group_async, sq.group_async / 5000.0,
	       sq.group_async_cpu_us, sq.group_async_cpu_us > 0 ? 1e6 / sq.group_async_cpu_us : 0);
	printf("\nMachine load: the 1-minute load average was %.1f when the run began and %.1f when it "
	       "ended, on 2 CPUs shared with other builds and test suites: a wall-clock figure here includes "
	       "waiting for a CPU, which the p99s and the throughputs show most.\n", load_start, load_end);
	printf("\nSQLite: a file on disk (/var/tmp), WAL, synchronous=full (every commit fsynced; group "
	       "commit fsyncs once per batch on its syncer thread). PostgreSQL %s: a private server on the "
	       "same disk, fsync and synchronous_commit on, Unix socket. Job claims and completions are "
	       "durable commits each. Queries after ANALYZE, 300 runs each after 10 warm-up runs; the data: "
	       "%lld imported tickets over a year, 50,000 customers, 200 agents, statuses, priorities and "
	       "words skewed as in a helpdesk.\n", use_pg ? "15" : "(not run)", (long long)tickets);
	pg_harness_stop(&h);
	bench_rm_tree(dir);
	free(sq.url);
	free(pg.url);
	return 0;
}
