/*
 * assign_bench: the cost of assignment (issue 18, point 8: the decision <
 * 1 ms per ticket with 500 agents).
 *
 * 1. The decision alone (src/assign): 500 agents in 5 departments (a third
 *    with languages, a third with categories, a tenth away, a tenth
 *    offline, maxima of none, 8 or 20), 10,000 tickets of random
 *    departments, languages and categories; each pick updates the chosen
 *    agent's load and last assignment as the store would, and a ticket in
 *    twenty is resolved (a random agent's load drops), so agents fill up
 *    and free again. Every agent is passed to every decision (the store
 *    passes a department's only): the worst case of 500 candidates. By load
 *    and by round robin; CPU time per decision.
 * 2. The store's transaction (store_ticket_assign) on SQLite with 500
 *    agents in one department: reading them with their open tickets,
 *    deciding, writing the assignee, the cursor or last assignment and the
 *    event, committed; wall time per ticket over 1,000 escalated tickets.
 *
 * Prints a Markdown section for docs/BENCHMARKS.md (between the assign markers).
 * Usage: assign_bench [tickets for part 1] [tickets for part 2]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_data.h"
#include "assign/assign.h"
#include "store/store.h"
#include "util/util.h"

#define AGENTS 500

static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *const depts[] = { "billing", "technical", "account", "sales", "multilingual" };
static const char *const langs[] = { "en", "de", "fr", "es", "it" };
static const char *const cats[] = { "billing", "technical", "account", "feature_request", "bug", "general" };

/* Part 1: n decisions under mode; CPU us in total, how many found nobody in *none. */
static int64_t decide(enum assign_mode mode, size_t n, size_t *none)
{
	struct assign_agent *a = calloc(AGENTS, sizeof(*a));
	struct assign_department d[FL_ARRAY_SIZE(depts)];
	unsigned seed = 18;
	int64_t t0, t1, clock = 1;
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(depts); i++)
		d[i] = (struct assign_department){ mode, i % 2 ? 20 : ASSIGN_NO_LIMIT, 0 };
	for (i = 0; i < AGENTS; i++) {
		a[i].id = (int64_t)i + 1;
		a[i].department = depts[i % FL_ARRAY_SIZE(depts)];
		if (i % 3 == 1) {
			a[i].languages = &langs[rand_r(&seed) % 4];
			a[i].n_languages = 2;
		} else if (i % 3 == 2) {
			a[i].categories = &cats[rand_r(&seed) % 4];
			a[i].n_categories = 3;
		}
		a[i].availability = i % 10 == 3 ? ASSIGN_AWAY : i % 10 == 7 ? ASSIGN_OFFLINE : ASSIGN_AVAILABLE;
		a[i].max_open = i % 4 == 0 ? 8 : ASSIGN_DEPARTMENT_MAX;
		a[i].open = rand_r(&seed) % 6;
		a[i].last_assigned = rand_r(&seed) % 1000;
	}
	*none = 0;
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		size_t k = (size_t)rand_r(&seed) % FL_ARRAY_SIZE(depts);
		struct assign_ticket t = { depts[k], langs[rand_r(&seed) % FL_ARRAY_SIZE(langs)],
					   cats[rand_r(&seed) % FL_ARRAY_SIZE(cats)] };
		long pick = assign_pick(&t, &d[k], a, AGENTS, NULL);

		if (pick < 0) {
			(*none)++;
		} else {
			a[pick].open++;
			a[pick].last_assigned = 1000 + clock++;
			d[k].cursor = a[pick].id;
		}
		if (i % 20 == 0) {
			struct assign_agent *x = &a[rand_r(&seed) % AGENTS];

			if (x->open)
				x->open--;
		}
	}
	t1 = cpu_us();
	free(a);
	return t1 - t0;
}

static void fail(struct store *st, const char *what)
{
	fl_die("assign_bench: %s: %s", what, st ? store_errmsg(st) : "");
}

/* Part 2: n assignments through the store on SQLite; per-ticket wall times (us) into us[], CPU in all into *cpu. */
static void store_part(size_t n, double *us, size_t *assigned, int64_t *cpu)
{
	char dir[] = "/tmp/assign_bench.XXXXXX", hash[65], id[32], *url, *err = NULL;
	struct store *st = NULL;
	size_t i;

	if (!mkdtemp(dir))
		fl_die("mkdtemp: %s", strerror(errno));
	url = fl_asprintf("sqlite://%s/assign.db", dir);
	if (store_open(url, &st, &err))
		fl_die("assign_bench: %s", err);
	if (store_begin(st))
		fail(st, "begin");
	for (i = 0; i < AGENTS; i++) {
		char email[64];
		json_t *u = NULL, *body;

		snprintf(email, sizeof(email), "agent%03zu@example.com", i);
		body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "email", email, "name", email, "role", "agent",
				 "department", "support", "availability", i % 10 == 3 ? "away" : "available");
		if (i % 3 == 1)
			json_object_set_new(body, "skills", json_pack("{s:[s, s]}", "languages", "en", "de"));
		else if (i % 3 == 2)
			json_object_set_new(body, "skills", json_pack("{s:[s, s, s]}", "categories", "billing",
								      "technical", "general"));
		if (store_user_insert(st, body, "$argon2id$bench", &u))
			fail(st, "user");
		snprintf(hash, sizeof(hash), "%064zx", i + 1);
		if (store_session_insert(st, fl_json_int(u, "id", 0), hash, NULL, 28800, 86400, NULL))
			fail(st, "session");
		json_decref(u);
		json_decref(body);
	}
	for (i = 0; i < n; i++) {
		json_t *t = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "", "channel", "web", "customer_id", "c1",
				      "subject", "Cannot log in", "content", "The reset email never arrives.");

		snprintf(id, sizeof(id), "b%zu", i);
		json_object_set_new(t, "id", json_string(id));
		if (store_ticket_intake(st, t, NULL, NULL, NULL, NULL))
			fail(st, "intake");
		json_decref(t);
		t = json_pack("{s:s, s:s, s:s, s:s}", "status", "escalated", "assigned_department", "support",
			      "language", langs[i % 3], "category", cats[i % FL_ARRAY_SIZE(cats)]);
		if (store_ticket_update(st, id, 0, t, "bench", NULL))
			fail(st, "update");
		json_decref(t);
	}
	if (store_commit(st))
		fail(st, "commit");
	*assigned = 0;
	*cpu = cpu_us();
	for (i = 0; i < n; i++) {
		json_t *r = NULL;
		int64_t t0 = fl_mono_us();

		snprintf(id, sizeof(id), "b%zu", i);
		if (store_ticket_assign(st, id, 900, &r))
			fail(st, "assign");
		us[i] = (double)(fl_mono_us() - t0);
		*assigned += fl_json_bool(r, "assigned", false);
		json_decref(r);
	}
	*cpu = cpu_us() - *cpu;
	store_close(st);
	free(url);
	bench_rm_tree(dir);
}

int main(int argc, char **argv)
{
	size_t n1 = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000, n2 = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	size_t none_load, none_rr, assigned;
	int64_t load_us, rr_us, cpu;
	double total = 0, *us;
	size_t i;

	if (!n1 || !n2)
		fl_die("usage: assign_bench [decisions] [store tickets]");
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	load_us = decide(ASSIGN_LOAD, n1, &none_load);
	rr_us = decide(ASSIGN_ROUND_ROBIN, n1, &none_rr);
	us = calloc(n2, sizeof(*us));
	store_part(n2, us, &assigned, &cpu);
	for (i = 0; i < n2; i++)
		total += us[i];
	qsort(us, n2, sizeof(*us), bench_cmp_double);

	printf("### Assignment: the decision with %d agents, and the store's transaction\n\n", AGENTS);
	printf("| what | tickets | per ticket | nobody eligible | goal |\n|---|---|---|---|---|\n");
	printf("| decision, by load (CPU) | %zu | %.2f us | %zu | < 1 ms |\n", n1, (double)load_us / (double)n1,
	       none_load);
	printf("| decision, round robin (CPU) | %zu | %.2f us | %zu | < 1 ms |\n", n1, (double)rr_us / (double)n1,
	       none_rr);
	printf("| store_ticket_assign on SQLite, %d agents in the department (wall) | %zu | mean %.0f us, "
	       "median %.0f us, p99 %.0f us | %zu | |\n", AGENTS, n2, total / (double)n2,
	       bench_quantile(us, n2, 0.5), bench_quantile(us, n2, 0.99), n2 - assigned);
	printf("| the same (CPU) | %zu | %.0f us | | |\n\n", n2, (double)cpu / (double)n2);
	printf("The decision (src/assign, bench/assign_bench.c) sees all %d agents of 5 departments in each call\n"
	       "(the store passes one department's): skills, availability and maxima filter, then the load or the\n"
	       "round robin's cursor chooses; loads rise with each pick and one ticket in twenty frees a place.\n"
	       "The store's transaction reads the department's agents with their open tickets, decides, and\n"
	       "writes the assignee, the agent's last assignment and the event, committed (one write\n"
	       "transaction per ticket, waiting for the disk). One thread.\n", AGENTS);
	free(us);
	return 0;
}
