/*
 * SLA attainment (issue 18): per policy, how many of the tickets created
 * in a window met their first-response and resolution due times, and how
 * many did not, for GET /api/v1/metrics/summary and /metrics.
 *
 * A clock counts once it is decided: met when it was met on time, breached
 * when it was met late or is still open past its due time (the state
 * sla_ticket_evaluate gives at now); a clock still running within its time
 * is not counted yet. attainment = met / (met + breached), null when
 * neither. Tickets no policy applies to are not counted. The tickets and
 * their events come from one store call (store_sla_window, at most
 * SLA_METRICS_MAX tickets: "truncated" says when there were more); the
 * arithmetic is src/sla's.
 *
 * Also the clocks of a page of tickets (the list's summaries): the events
 * and customer tiers of the whole page in a few statements
 * (store_sla_facts) rather than two reads per ticket.
 */
#include <string.h>

#include "support_int.h"
#include "sla/sla.h"
#include "store/store.h"

static void count(json_t *policy_out, const char *target, int state, bool met_at)
{
	json_t *c = json_object_get(policy_out, target);
	const char *key = state == SLA_STATE_BREACHED ? "breached" : met_at ? "met" : NULL;
	json_int_t met, breached;

	if (!key)
		return;
	json_object_set_new(c, key, json_integer(fl_json_int(c, key, 0) + 1));
	met = fl_json_int(c, "met", 0);
	breached = fl_json_int(c, "breached", 0);
	json_object_set_new(c, "attainment", json_real((double)met / (double)(met + breached)));
}

static json_t *policy_entry(void)
{
	return json_pack("{s:{s:i, s:i, s:n}, s:{s:i, s:i, s:n}}", "first_response", "met", 0, "breached", 0,
			 "attainment", "resolution", "met", 0, "breached", 0, "attainment");
}

int support_sla_attainment(struct store *st, int64_t now, int64_t window_s, json_t **out)
{
	struct support_sla *s = NULL;
	json_t *win = NULL, *policies = json_object(), *t;
	const json_t *events;
	size_t i, e = 0;
	char since[32], until[32];
	int rc;

	*out = NULL;
	rc = support_sla_load(st, &s);
	if (rc == STORE_OK)
		rc = store_sla_window(st, (now - window_s) * 1000000, (now + 1) * 1000000, SLA_METRICS_MAX, &win);
	if (rc != STORE_OK)
		goto out;
	events = json_object_get(win, "events");
	json_array_foreach(json_object_get(win, "tickets"), i, t) {
		const char *id = fl_json_str(t, "id", "");
		json_t *mine = json_array(), *entry;
		struct sla_ticket_state state;
		const json_t *policy = NULL;

		/* the events come by ticket number, as the tickets do */
		while (e < json_array_size(events) &&
		       !strcmp(fl_json_str(json_array_get(events, e), "ticket_id", ""), id))
			json_array_append(mine, json_array_get(events, e++));
		if (support_sla_ticket(s, st, t, mine, now, &state, &policy, NULL) == 1) {
			const char *pid = fl_json_str(policy, "id", "");

			if (!(entry = json_object_get(policies, pid))) {
				entry = policy_entry();
				json_object_set_new(policies, pid, entry);
			}
			count(entry, "first_response", state.clock_state[SLA_CLOCK_FIRST_RESPONSE],
			      fl_json_str(t, "first_response_at", NULL) != NULL);
			count(entry, "resolution", state.clock_state[SLA_CLOCK_RESOLUTION],
			      fl_json_str(t, "resolved_at", NULL) != NULL);
		}
		json_decref(mine);
	}
	fl_time_rfc3339(since, (now - window_s) * 1000000);
	fl_time_rfc3339(until, now * 1000000);
	*out = json_pack("{s:I, s:s, s:s, s:I, s:O, s:O}", "window", (json_int_t)window_s, "since", since, "until",
			 until, "tickets", (json_int_t)json_array_size(json_object_get(win, "tickets")), "truncated",
			 json_object_get(win, "truncated"), "policies", policies);
out:
	json_decref(win);
	json_decref(policies);
	support_sla_free(s);
	return rc;
}

int support_sla_annotate(struct store *st, json_t *tickets, int64_t now)
{
	struct support_sla *s = NULL;
	json_t *facts = NULL, *by_ticket = json_object(), *none = json_array(), *e, *t;
	const json_t *tiers;
	size_t i;
	int rc;

	rc = support_sla_load(st, &s);
	if (rc == STORE_OK)
		rc = store_sla_facts(st, tickets, &facts);
	if (rc != STORE_OK)
		goto out;
	json_array_foreach(json_object_get(facts, "events"), i, e) {
		const char *id = fl_json_str(e, "ticket_id", "");
		json_t *list = json_object_get(by_ticket, id);

		if (!list) {
			list = json_array();
			json_object_set_new(by_ticket, id, list);
		}
		json_array_append(list, e);
	}
	tiers = json_object_get(facts, "tiers");
	json_array_foreach(tickets, i, t) {
		const json_t *meta = json_object_get(t, "metadata"), *events, *policy = NULL;
		const char *tier = fl_json_str(tiers, fl_json_str(t, "customer_id", ""), "");
		struct sla_ticket_state state;
		json_t *view = NULL;

		/* the tier read with the page, so that support_sla_ticket asks the store nothing more */
		if (!fl_json_str(meta, "customer_tier", NULL)) {
			json_t *m = json_is_object(meta) ? json_copy((json_t *)meta) : json_object();

			json_object_set_new(m, "customer_tier", json_string(tier));
			view = json_copy(t);
			json_object_set_new(view, "metadata", m);
		}
		events = json_object_get(by_ticket, fl_json_str(t, "id", ""));
		if (support_sla_ticket(s, st, view ? view : t, events ? events : none, now, &state, &policy, NULL) == 1)
			json_object_set_new(t, "sla", sla_ticket_state_json(fl_json_str(policy, "id", ""), &state));
		json_decref(view);
	}
out:
	json_decref(facts);
	json_decref(by_ticket);
	json_decref(none);
	support_sla_free(s);
	return rc;
}
