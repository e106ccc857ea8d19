/*
 * sla_bench: recomputing the SLA state of 100,000 open tickets (issue 18,
 * point 8: < 1 s of CPU). Each ticket is what the sweep reads from the
 * store: the record (created_at, status, priority, tier, first_response_at)
 * and its audit log (0 to 4 status changes, replies and customer
 * messages). The policies are the built-in table plus one stored-style
 * policy on an office calendar in Europe/Berlin (09:00-17:00 on weekdays,
 * holidays), so half the tickets walk business windows across days and
 * a daylight-saving change; the other half run on 24x7. Measured: the CPU
 * time of choosing each ticket's policy and evaluating its three clocks,
 * building the inputs excluded.
 *
 * Prints a Markdown section for docs/BENCHMARKS.md (between the sla markers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sla/sla.h"
#include "util/util.h"

#define TICKETS 100000

static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static json_t *at(int64_t t)
{
	char s[32];

	fl_time_rfc3339(s, t * 1000000);
	return json_string(s);
}

int main(int argc, char **argv)
{
	static const char *const prios[] = { "urgent", "high", "medium", "low" };
	static const char *const tiers[] = { "enterprise", "premium", "standard" };
	json_t *policies = sla_default_policies(), *office_doc, **tickets, **events;
	struct sla_calendar *office = NULL, *always = sla_calendar_24x7();
	int64_t now = 1774915200;   /* 2026-03-31T00:00:00Z: the spring-forward weekend behind */
	int64_t t0, t1, counts[3] = { 0, 0, 0 };
	size_t i, n = argc > 1 ? strtoul(argv[1], NULL, 10) : TICKETS;
	unsigned seed = 18;

	office_doc = json_loads("{\"timezone\": \"Europe/Berlin\", \"hours\": {\"mon\": [[\"09:00\", \"17:00\"]], "
				"\"tue\": [[\"09:00\", \"17:00\"]], \"wed\": [[\"09:00\", \"17:00\"]], \"thu\": "
				"[[\"09:00\", \"17:00\"]], \"fri\": [[\"09:00\", \"17:00\"]]}, \"holidays\": "
				"[\"2026-04-03\", \"2026-04-06\", \"2026-05-01\", \"2026-12-25\"]}", 0, NULL);
	if (sla_calendar_parse(office_doc, &office, NULL) != SLA_OK) {
		fprintf(stderr, "sla_bench: cannot read Europe/Berlin from the tz database\n");
		return 1;
	}
	json_array_insert_new(policies, 0, json_pack("{s:s, s:s, s:{s:[s]}, s:i, s:i, s:i}", "id", "office",
						     "calendar", "office", "match", "customer_tier", "premium",
						     "first_response_min", 240, "next_response_min", 480,
						     "resolution_min", 2400));
	tickets = calloc(n, sizeof(*tickets));
	events = calloc(n, sizeof(*events));
	for (i = 0; i < n; i++) {
		int64_t created = now - (int64_t)(rand_r(&seed) % (14 * 86400));
		int k, nev = rand_r(&seed) % 5;

		tickets[i] = json_pack("{s:o, s:s, s:s, s:{s:s}}", "created_at", at(created), "status",
				       nev % 2 ? "pending" : "escalated", "priority", prios[rand_r(&seed) % 4],
				       "metadata", "customer_tier", tiers[rand_r(&seed) % 3]);
		events[i] = json_array();
		for (k = 0; k < nev; k++) {
			int64_t when = created + (k + 1) * (now - created) / (nev + 1);

			if (k == 0) {
				json_object_set_new(tickets[i], "first_response_at", at(when));
				json_array_append_new(events[i], json_pack("{s:s, s:o}", "type", "ticket.replied",
									   "created_at", at(when)));
			} else if (k % 2) {
				json_array_append_new(events[i], json_pack("{s:s, s:o, s:{s:s}}", "type",
									   "ticket.status", "created_at", at(when),
									   "data", "to", "pending"));
			} else {
				json_array_append_new(events[i], json_pack("{s:s, s:o}", "type",
									   "ticket.customer_replied", "created_at",
									   at(when)));
			}
		}
	}

	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		const json_t *meta = json_object_get(tickets[i], "metadata");
		struct sla_ticket_facts f = { fl_json_str(tickets[i], "priority", NULL),
					      fl_json_str(meta, "customer_tier", NULL), "email", "billing" };
		const json_t *p = sla_policy_pick(policies, &f);
		struct sla_ticket_state st;

		sla_ticket_evaluate(strcmp(fl_json_str(p, "calendar", ""), "office") ? always : office, p, tickets[i],
				    events[i], now, &st);
		counts[st.state]++;
	}
	t1 = cpu_us();

	printf("### SLA: recomputing the state of %zu open tickets\n\n", n);
	printf("| tickets | CPU s | us per ticket | ok | warning | breached | goal |\n|---|---|---|---|---|---|---|\n");
	printf("| %zu | %.3f | %.2f | %lld | %lld | %lld | < 1 s |\n\n", n, (double)(t1 - t0) / 1e6,
	       (double)(t1 - t0) / (double)n, (long long)counts[0], (long long)counts[1], (long long)counts[2]);
	printf("Policy choice and the three clocks of each ticket (bench/sla_bench.c): a third of the tickets on\n"
	       "a Europe/Berlin office calendar with holidays, the rest on 24x7; 0-4 events each; inputs built\n"
	       "beforehand. One thread.\n");
	for (i = 0; i < n; i++) {
		json_decref(tickets[i]);
		json_decref(events[i]);
	}
	free(tickets);
	free(events);
	json_decref(policies);
	json_decref(office_doc);
	sla_calendar_free(office);
	sla_calendar_free(always);
	return 0;
}
