/*
 * Durable first, exactly once in effect: a crash test of the store.
 *
 * Phase 1 (SQLite): 5,000 tickets are taken in, each with a job, while a
 * worker process claims the jobs and writes their effects: an outbound
 * message keyed "auto_reply", an escalation for every third ticket (one open
 * per ticket), then, in one transaction with the job's completion, an outbox
 * notification with a dedupe key and a "worker.completed" event. The worker
 * is killed with SIGKILL at least 20 times at random points: by itself at a
 * step drawn from a seeded PRNG (between effects, inside the final
 * transaction before COMMIT) and by this process at random moments of the
 * intake (inside SQLite, mid-fsync, anywhere). Each time it is restarted. A
 * job whose worker died is claimed again once its 1 s lease ends, and its
 * effects, keyed by ticket and step, are not written twice.
 *
 * Phase 2 (PostgreSQL, a private server): the same with three workers and
 * 10,000 jobs, killed at least 20 times in all; each job must be completed
 * exactly once.
 *
 * At the end: every ticket processed, no effect twice, none lost, counted
 * with SQL behind the store's back. The seed is printed; FRONTLINE_CRASH_SEED
 * replays a run's kill schedule.
 *
 * Usage: store_crash            (the test)
 *        store_crash worker URL TAG DIE_AFTER DONE_FILE   (internal)
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pg_harness.h"
#include "store/store.h"
#include "util/util.h"

#define LEASE_S 1
#define MAX_WORKERS 3

/* ---- the worker ---- */

static long die_after, steps;

/* A point where the worker may die: the PRNG chose which one. */
static void step(void)
{
	if (die_after && ++steps >= die_after)
		raise(SIGKILL);
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static int ticket_index(const char *id)
{
	const char *dash = strrchr(id ? id : "", '-');

	return dash ? (int)strtol(dash + 1, NULL, 10) : -1;
}

static void worker_fail(struct store *st, const char *what, int rc)
{
	fprintf(stderr, "worker %d: %s: %s: %s\n", (int)getpid(), what, store_errname(rc), store_errmsg(st));
	exit(2);
}

/* Runs one claimed job; returns when its effects and completion are written or lost. */
static void run_job(struct store *st, struct store_job *job, const char *owner)
{
	json_t *reply = json_pack("{s:s, s:s, s:s, s:s}", "direction", "outbound", "author", "frontline",
				  "body", "Thanks, we are looking into it.", "effect_key", "auto_reply");
	json_t *note = json_pack("{s:s, s:s}", "subject", "Your ticket", "ticket", job->ticket_id);
	json_t *data = json_pack("{s:I}", "job", (json_int_t)job->id);
	char *dedupe = fl_asprintf("ticket:%s:notified", job->ticket_id);
	int rc;

	rc = store_message_add(st, job->ticket_id, reply, NULL, NULL);
	if (rc)
		worker_fail(st, "auto reply", rc);
	step();
	rc = store_job_heartbeat(st, job->id, owner, LEASE_S);
	if (rc == STORE_ELEASE)
		goto out; /* taken over by another worker after our lease ran out */
	if (rc)
		worker_fail(st, "heartbeat", rc);
	if (ticket_index(job->ticket_id) % 3 == 0) {
		rc = store_escalation_open(st, job->ticket_id, "high", "support", NULL, NULL, NULL);
		if (rc)
			worker_fail(st, "escalation", rc);
		step();
	}
	rc = store_begin_immediate(st);
	if (rc)
		worker_fail(st, "begin", rc);
	rc = store_outbox_enqueue(st, "email", "customer@example.com", note, dedupe, NULL);
	if (!rc)
		rc = store_event_append(st, job->ticket_id, "worker.completed", owner, data);
	if (rc)
		worker_fail(st, "outbox", rc);
	step(); /* dying here leaves the transaction uncommitted */
	rc = store_job_complete(st, job->id, owner);
	if (rc == STORE_ELEASE) {
		store_rollback(st);
		goto out;
	}
	if (rc)
		worker_fail(st, "complete", rc);
	rc = store_commit(st);
	if (rc)
		worker_fail(st, "commit", rc);
	step();
out:
	json_decref(reply);
	json_decref(note);
	json_decref(data);
	free(dedupe);
}

static int worker_main(int argc, char **argv)
{
	struct store *st = NULL;
	char *err = NULL, *owner;
	const char *done_file;

	if (argc != 7)
		return 64;
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	die_after = strtol(argv[4], NULL, 10);
	done_file = argv[5];
	owner = fl_asprintf("%s-w%s-%d", argv[6], argv[3], (int)getpid());
	if (store_open(argv[2], &st, &err)) {
		fprintf(stderr, "worker: %s\n", err);
		return 2;
	}
	for (;;) {
		struct store_job *job = NULL;
		json_t *counts = NULL;
		int rc;

		step();
		rc = store_job_claim(st, "process", owner, LEASE_S, &job);
		if (rc == STORE_OK) {
			step();
			run_job(st, job, owner);
			store_job_free(job);
			continue;
		}
		if (rc != STORE_ENOTFOUND && rc != STORE_EBUSY)
			worker_fail(st, "claim", rc);
		/* Nothing due: finished once intake is over and no job is left, even leased. */
		if (file_exists(done_file) && store_job_counts(st, &counts) == STORE_OK &&
		    fl_json_int(counts, "queued", 1) == 0 && fl_json_int(counts, "running", 1) == 0) {
			json_decref(counts);
			break;
		}
		json_decref(counts);
		fl_sleep_us(rc == STORE_EBUSY ? 1000 : 20000); /* waiting for intake or a lease to end */
	}
	store_close(st);
	free(owner);
	return 0;
}

/* ---- the test ---- */

static uint64_t prng_state;

/* splitmix64: small, seeded, the same everywhere. */
static uint64_t prng(void)
{
	uint64_t z = (prng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static long prng_range(long lo, long hi)
{
	return lo + (long)(prng() % (uint64_t)(hi - lo + 1));
}

struct phase {
	const char *name;
	const char *url;
	const char *done_file;
	int tickets, nworkers, min_kills, batch;
	pid_t pid[MAX_WORKERS];
	int kills, spawned;
};

static pid_t spawn(struct phase *ph, int w, long die)
{
	char tag[16], dies[32];
	pid_t pid;

	snprintf(tag, sizeof(tag), "%d", w);
	snprintf(dies, sizeof(dies), "%ld", die);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *args[] = { "store_crash", "worker", (char *)ph->url, tag, dies, (char *)ph->done_file,
				 (char *)ph->name, NULL };

		execv("/proc/self/exe", args);
		_exit(127);
	}
	if (pid < 0)
		fl_die("cannot fork: %s", strerror(errno));
	ph->spawned++;
	return pid;
}

enum { RUNNING, KILLED, FINISHED };

/* Reaps worker w if it ended: KILLED (counted) or FINISHED; fails the test on any other end. */
static int reap(struct phase *ph, int w, bool block)
{
	int status;
	pid_t r = waitpid(ph->pid[w], &status, block ? 0 : WNOHANG);

	if (r == 0)
		return RUNNING;
	if (r < 0)
		fl_die("waitpid: %s", strerror(errno));
	ph->pid[w] = 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		ph->kills++;
		return KILLED;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return FINISHED;
	fl_die("%s: worker %d ended with status %d", ph->name, w, status);
}

static void intake_all(struct phase *ph, struct store *st, int nexternal)
{
	int *kill_at = fl_calloc((size_t)nexternal + 1, sizeof(int)), next = 0, i, k, rc;

	for (k = 0; k < nexternal; k++)
		kill_at[k] = (int)prng_range(1, ph->tickets - 1);
	/* sorted, so that the kills happen in order during intake */
	for (i = 1; i < nexternal; i++)
		for (k = i; k > 0 && kill_at[k - 1] > kill_at[k]; k--) {
			int t = kill_at[k];

			kill_at[k] = kill_at[k - 1];
			kill_at[k - 1] = t;
		}
	kill_at[nexternal] = -1;
	for (i = 0; i < ph->tickets; i++) {
		char id[32];
		json_t *t;
		int w;

		if (ph->batch > 1 && i % ph->batch == 0 && (rc = store_begin(st)))
			fl_die("begin: %s", store_errmsg(st));
		snprintf(id, sizeof(id), "crash-%05d", i);
		t = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "channel", "webhook", "customer_id",
			      "cust_001", "subject", "Crash test", "content", "Please process me exactly once.");
		rc = store_ticket_intake(st, t, "process", NULL, NULL, NULL);
		json_decref(t);
		if (rc)
			fl_die("%s: intake %d: %s", ph->name, i, store_errmsg(st));
		if (ph->batch > 1 && (i % ph->batch == ph->batch - 1 || i == ph->tickets - 1) &&
		    (rc = store_commit(st)))
			fl_die("commit: %s", store_errmsg(st));
		while (next < nexternal && kill_at[next] == i) {
			w = (int)prng_range(0, ph->nworkers - 1);
			if (ph->pid[w])
				kill(ph->pid[w], SIGKILL);
			next++;
		}
		/* Enough kills: the next workers live (starting processes is slow under ASan). */
		for (w = 0; w < ph->nworkers; w++)
			if (!ph->pid[w] || reap(ph, w, false) != RUNNING)
				ph->pid[w] = spawn(ph, w, ph->kills < ph->min_kills ? prng_range(1, 150) : 0);
	}
	free(kill_at);
}

/* One number from SQL run behind the store's back. */
static int64_t sql_count(const char *url, const char *sql)
{
	int64_t n = -1;

	if (fl_str_has_prefix(url, "sqlite://")) {
		char *path = fl_strdup(url + strlen("sqlite://"));
		sqlite3 *db = NULL;
		sqlite3_stmt *s = NULL;

		*strchrnul(path, '?') = '\0';
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		else
			fprintf(stderr, "sql: %s: %s\n", sql, sqlite3_errmsg(db));
		sqlite3_finalize(s);
		sqlite3_close(db);
		free(path);
	} else {
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, sql);

		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else
			fprintf(stderr, "sql: %s: %s\n", sql, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
	}
	return n;
}

static int check(const struct phase *ph, const char *what, const char *sql, int64_t want)
{
	int64_t got = sql_count(ph->url, sql);

	printf("%s: %-58s %6" PRId64 " %s\n", ph->name, what, got, got == want ? "ok" : "FAIL");
	if (got != want)
		printf("%s:   expected %" PRId64 "\n", ph->name, want);
	return got == want ? 0 : 1;
}

static int verify(const struct phase *ph)
{
	int64_t n = ph->tickets, esc = (ph->tickets + 2) / 3;
	int fails = 0;

	fails += check(ph, "tickets", "SELECT count(*) FROM tickets", n);
	fails += check(ph, "jobs done", "SELECT count(*) FROM jobs WHERE status = 'done'", n);
	fails += check(ph, "jobs not done", "SELECT count(*) FROM jobs WHERE status <> 'done'", 0);
	fails += check(ph, "auto replies", "SELECT count(*) FROM messages WHERE effect_key = 'auto_reply'", n);
	fails += check(ph, "tickets with an auto reply",
		       "SELECT count(DISTINCT ticket_number) FROM messages WHERE effect_key = 'auto_reply'", n);
	fails += check(ph, "outbound messages", "SELECT count(*) FROM messages WHERE direction = 'outbound'", n);
	fails += check(ph, "escalations", "SELECT count(*) FROM escalations", esc);
	fails += check(ph, "tickets with an escalation", "SELECT count(DISTINCT ticket_number) FROM escalations", esc);
	fails += check(ph, "outbox items", "SELECT count(*) FROM outbox", n);
	fails += check(ph, "outbox dedupe keys", "SELECT count(DISTINCT dedupe_key) FROM outbox", n);
	fails += check(ph, "completions recorded (one per job)",
		       "SELECT count(*) FROM events WHERE type = 'worker.completed'", n);
	fails += check(ph, "jobs completed more than once",
		       "SELECT count(*) FROM (SELECT data FROM events WHERE type = 'worker.completed'"
		       " GROUP BY data HAVING count(*) > 1) x", 0);
	fails += check(ph, "tickets completed more than once",
		       "SELECT count(*) FROM (SELECT ticket_number FROM events WHERE type = 'worker.completed'"
		       " GROUP BY ticket_number HAVING count(*) > 1) x", 0);
	return fails;
}

static int run_phase(struct phase *ph, int nexternal)
{
	struct store *st = NULL;
	char *err = NULL;
	int64_t t0 = fl_mono_us();
	int w, fails;
	FILE *fp;

	if (store_open(ph->url, &st, &err))
		fl_die("%s: %s", ph->name, err);
	unlink(ph->done_file);
	for (w = 0; w < ph->nworkers; w++)
		ph->pid[w] = spawn(ph, w, prng_range(1, 150));
	intake_all(ph, st, nexternal);
	store_close(st);
	printf("%s: intake done after %.1f s, %d kills so far\n", ph->name, (double)(fl_mono_us() - t0) / 1e6,
	       ph->kills);
	fp = fopen(ph->done_file, "w");
	if (fp)
		fclose(fp);
	/* Keep killing until enough kills happened; workers die by their own schedule. */
	while (ph->kills < ph->min_kills) {
		for (w = 0; w < ph->nworkers && ph->kills < ph->min_kills; w++) {
			int end = ph->pid[w] ? reap(ph, w, w == 0) : KILLED;

			if (end == FINISHED) {
				printf("%s: FAIL: the queue drained after only %d kills\n", ph->name, ph->kills);
				return 1;
			}
			if (end == KILLED)
				ph->pid[w] = spawn(ph, w, prng_range(1, 150));
		}
	}
	/* The last ones die too; then workers that are not killed finish the queue. */
	for (w = 0; w < ph->nworkers; w++) {
		if (ph->pid[w]) {
			kill(ph->pid[w], SIGKILL);
			reap(ph, w, true);
		}
	}
	for (w = 0; w < ph->nworkers; w++)
		ph->pid[w] = spawn(ph, w, 0);
	for (w = 0; w < ph->nworkers; w++)
		reap(ph, w, true);
	printf("%s: %d tickets, %d worker(s), %d processes started, %d killed with SIGKILL, %.1f s\n",
	       ph->name, ph->tickets, ph->nworkers, ph->spawned, ph->kills, (double)(fl_mono_us() - t0) / 1e6);
	fails = verify(ph);
	if (ph->kills < ph->min_kills) {
		printf("%s: FAIL: only %d kills\n", ph->name, ph->kills);
		fails++;
	}
	return fails;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	struct pg_harness pg = PG_HARNESS_INIT;
	const char *env = getenv("FRONTLINE_CRASH_SEED");
	char *dir, *url, *done, *pg_url = NULL;
	uint64_t seed;
	int fails = 0;

	if (argc > 1 && !strcmp(argv[1], "worker"))
		return worker_main(argc, argv);
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	seed = env && *env ? strtoull(env, NULL, 10) : fl_random_u64() % 1000000000ULL;
	prng_state = seed;
	printf("store_crash: seed %" PRIu64 " (FRONTLINE_CRASH_SEED=%" PRIu64 " replays this kill schedule)\n",
	       seed, seed);
	/*
	 * The SQLite file lives on tmpfs when there is one: what is tested is a
	 * process killed mid-write (the kernel keeps what it was given), not a
	 * power cut, and tmpfs keeps the run short under ASan.
	 */
	dir = fl_asprintf("%s/frontline-crash-%d", file_exists("/dev/shm") ? "/dev/shm" : "/tmp", (int)getpid());
	if (mkdir(dir, 0700))
		fl_die("cannot create '%s': %s", dir, strerror(errno));
	url = fl_asprintf("sqlite://%s/crash.db", dir);
	done = fl_asprintf("%s/intake-done", dir);
	{
		struct phase ph = { "sqlite", url, done, 5000, 1, 20, 1, { 0 }, 0, 0 };

		fails += run_phase(&ph, 8);
	}
	if (pg_harness_start(&pg, &pg_url)) {
		printf("postgres: FAIL: cannot start the PostgreSQL test server: %s\n", pg_harness_error(&pg));
		fails++;
	} else {
		struct phase ph = { "postgres", pg_url, done, 10000, 3, 20, 100, { 0 }, 0, 0 };

		fails += run_phase(&ph, 8);
	}
	pg_harness_stop(&pg);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	printf("store_crash: %s (seed %" PRIu64 ")\n", fails ? "FAILED" : "all checks passed", seed);
	free(pg_url);
	free(url);
	free(done);
	free(dir);
	return fails ? 1 : 0;
}
