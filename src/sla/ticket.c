/*
 * A ticket's SLA: its three clocks (first response, next response,
 * resolution) under one policy and calendar, read from the ticket record
 * and its audit log, as the API shows them and the service's sweep checks
 * them.
 *
 * The clocks pause while the ticket waits on its customer: from a status
 * change to "pending" or "waiting_on_customer" until the next change to
 * another status or the customer's next message (ticket.customer_replied),
 * whichever comes first, so a customer who writes restarts the clock even
 * before anyone changes the status. The first-response clock runs from
 * creation to first_response_at; the next-response clock from the first
 * customer message after the last outbound reply (ticket.replied) while
 * no reply followed it; the resolution clock from creation to resolved_at.
 * A clock that is met is judged by when it was met; an open one by now.
 */
#include <string.h>

#include "sla/sla.h"
#include "util/util.h"

#define MAX_PAUSES 64

static int64_t secs(const json_t *obj, const char *key)
{
	int64_t us;
	const char *s = fl_json_str(obj, key, NULL);

	return s && !fl_time_parse(s, &us) ? us / 1000000 : 0;
}

static bool pausing(const char *status)
{
	return status && (!strcmp(status, FL_STATUS_PENDING) || !strcmp(status, FL_STATUS_WAITING));
}

/* One clock: its due time, and whether it is breached or near (>= 80 % used) at now. */
static int clock_judge(const struct sla_calendar *cal, int64_t start, int64_t budget, int64_t met, int64_t now,
		       const struct sla_interval *p, size_t np, int64_t *due)
{
	*due = sla_add_business(cal, start, budget, p, np);
	if (met)
		return met > *due ? SLA_STATE_BREACHED : SLA_STATE_OK;
	if (now >= *due)
		return SLA_STATE_BREACHED;
	return sla_business_between(cal, start, now, p, np) * 5 >= budget * 4 ? SLA_STATE_WARNING : SLA_STATE_OK;
}

const char *sla_clock_name(int clock)
{
	return clock == SLA_CLOCK_FIRST_RESPONSE ? "first_response"
	       : clock == SLA_CLOCK_NEXT_RESPONSE ? "next_response" : "resolution";
}

void sla_ticket_evaluate(const struct sla_calendar *cal, const json_t *policy, const json_t *ticket,
			 const json_t *events, int64_t now, struct sla_ticket_state *out)
{
	struct sla_interval pauses[MAX_PAUSES];
	size_t np = 0, i;
	int64_t created = secs(ticket, "created_at"), waiting_since = 0, pause_from = 0;
	int64_t first_min = fl_json_int(policy, "first_response_min", 0);
	int64_t next_min = fl_json_int(policy, "next_response_min", first_min);
	int64_t res_min = fl_json_int(policy, "resolution_min", 0);
	bool paused = false;
	json_t *e;

	memset(out, 0, sizeof(*out));
	out->next_due = SLA_NEVER;
	json_array_foreach(events, i, e) {
		const char *type = fl_json_str(e, "type", "");
		int64_t at = secs(e, "created_at");
		bool resume = false;

		if (!strcmp(type, FL_EVENT_TICKET_STATUS)) {
			const char *to = fl_json_str(json_object_get(e, "data"), "to", NULL);

			if (pausing(to) && !paused) {
				paused = true;
				pause_from = at;
			} else if (!pausing(to)) {
				resume = true;
			}
		} else if (!strcmp(type, FL_EVENT_TICKET_CUSTOMER_REPLIED)) {
			resume = true;
			if (!waiting_since)
				waiting_since = at;
		} else if (!strcmp(type, FL_EVENT_TICKET_REPLIED)) {
			waiting_since = 0;
		}
		if (resume && paused) {
			paused = false;
			if (np < MAX_PAUSES)
				pauses[np++] = (struct sla_interval){ pause_from, at };
		}
	}
	/* the record has the last word on the present: a pause still open */
	if (paused && pausing(fl_json_str(ticket, "status", NULL)) && np < MAX_PAUSES)
		pauses[np++] = (struct sla_interval){ pause_from, SLA_NEVER };
	out->paused = paused && pausing(fl_json_str(ticket, "status", NULL));

	out->clock_state[SLA_CLOCK_FIRST_RESPONSE] = clock_judge(cal, created, first_min * 60,
								 secs(ticket, "first_response_at"), now, pauses, np,
								 &out->first_due);
	if (waiting_since && secs(ticket, "first_response_at"))
		out->clock_state[SLA_CLOCK_NEXT_RESPONSE] = clock_judge(cal, waiting_since, next_min * 60, 0, now,
									pauses, np, &out->next_due);
	out->clock_state[SLA_CLOCK_RESOLUTION] = clock_judge(cal, created, res_min * 60, secs(ticket, "resolved_at"),
							     now, pauses, np, &out->resolution_due);
	for (i = 0; i < SLA_CLOCKS; i++) {
		if (out->paused && out->clock_state[i] == SLA_STATE_WARNING)
			out->clock_state[i] = SLA_STATE_OK;   /* nothing runs out while the customer is asked */
		if (out->clock_state[i] > out->state)
			out->state = out->clock_state[i];
	}
}

static json_t *due_json(int64_t t)
{
	char s[32];

	if (t == SLA_NEVER)
		return json_null();
	fl_time_rfc3339(s, t * 1000000);
	return json_string(s);
}

const char *sla_state_name(int state)
{
	return state == SLA_STATE_BREACHED ? "breached" : state == SLA_STATE_WARNING ? "warning" : "ok";
}

json_t *sla_ticket_state_json(const char *policy_id, const struct sla_ticket_state *s)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:s, s:b}", "policy", policy_id,
			 "first_response_due_at", due_json(s->first_due), "next_response_due_at", due_json(s->next_due),
			 "resolution_due_at", due_json(s->resolution_due), "state", sla_state_name(s->state),
			 "paused", s->paused);
}
