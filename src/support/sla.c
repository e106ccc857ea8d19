/*
 * The SLA at work (issue 18): which policy and calendar apply to a ticket
 * and what its clocks say (for the API and the sweep), and the sweep
 * itself: one round over the open tickets raising each warning (80 % of a
 * clock, only inside the calendar's hours) and each breach once, as an
 * event, notices through the outbox and, for a breach, a hand-off in the
 * escalation queue; then the housekeeping of point 3: one reminder to the
 * customer of a ticket pending for FRONTLINE_PENDING_REMIND_HOURS, the
 * ticket resolved after FRONTLINE_PENDING_RESOLVE_HOURS, resolved tickets
 * closed after FRONTLINE_AUTOCLOSE_DAYS, unless the customer wrote.
 *
 * "Once" is read from the ticket's own audit log: an event of the same
 * kind, clock and due time means it was done (a reply or a resumed pause
 * moves the due time, and a new crossing is news). Each ticket's actions
 * are one transaction. The arithmetic is src/sla's; running the round
 * every FRONTLINE_SLA_SWEEP_INTERVAL on one replica is src/service's.
 */
#include <stdlib.h>
#include <string.h>

#include "support_int.h"
#include "sla/sla.h"
#include "store/store.h"

#define BUILTIN_CALENDAR "24x7"
#define MAX_CALENDARS 64
#define EVENTS_MAX 10000
#define PAGE 500

struct support_sla {
	json_t *policies;          /* in force, in order */
	json_t *calendars;         /* the stored ones */
	struct {
		char *id;
		struct sla_calendar *cal;
	} cache[MAX_CALENDARS];
	size_t ncache;
	struct sla_calendar *always;
};

void support_sla_free(struct support_sla *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ncache; i++) {
		free(s->cache[i].id);
		sla_calendar_free(s->cache[i].cal);
	}
	sla_calendar_free(s->always);
	json_decref(s->policies);
	json_decref(s->calendars);
	free(s);
}

int support_sla_load(struct store *st, struct support_sla **out)
{
	struct support_sla *s = fl_calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->always = sla_calendar_24x7();
	rc = store_sla_list(st, "policy", &s->policies);
	if (rc == STORE_OK)
		rc = store_sla_list(st, "calendar", &s->calendars);
	if (rc != STORE_OK) {
		support_sla_free(s);
		return rc;
	}
	if (!json_array_size(s->policies)) {
		json_decref(s->policies);
		s->policies = sla_default_policies();
	}
	*out = s;
	return STORE_OK;
}

const struct sla_calendar *support_sla_calendar(struct support_sla *s, const char *id)
{
	struct sla_calendar *cal = NULL;
	json_t *c, *body;
	size_t i;

	if (!strcmp(id, BUILTIN_CALENDAR))
		return s->always;
	for (i = 0; i < s->ncache; i++)
		if (!strcmp(s->cache[i].id, id))
			return s->cache[i].cal;
	json_array_foreach(s->calendars, i, c) {
		if (strcmp(fl_json_str(c, "id", ""), id))
			continue;
		body = json_pack("{s:O?, s:O?, s:O?}", "timezone", json_object_get(c, "timezone"), "hours",
				 json_object_get(c, "hours"), "holidays", json_object_get(c, "holidays"));
		if (sla_calendar_parse(body, &cal, NULL) != SLA_OK)
			fl_log(FL_LOG_ERROR, "sla: the stored calendar '%s' no longer parses", id);
		json_decref(body);
		break;
	}
	if (cal && s->ncache < MAX_CALENDARS) {
		s->cache[s->ncache].id = fl_strdup(id);
		s->cache[s->ncache++].cal = cal;
	} else {
		sla_calendar_free(cal);   /* more calendars than the cache: unreachable in practice */
		cal = NULL;
	}
	return cal;
}

int support_sla_ticket(struct support_sla *s, struct store *st, const json_t *ticket, const json_t *events,
		       int64_t now, struct sla_ticket_state *state, const json_t **policy,
		       const struct sla_calendar **cal)
{
	const json_t *meta = json_object_get(ticket, "metadata"), *p;
	struct sla_ticket_facts facts;
	const struct sla_calendar *c;
	json_t *customer = NULL, *own = NULL;
	int rc = STORE_OK;

	facts.priority = fl_json_str(ticket, "priority", NULL);
	facts.channel = fl_json_str(ticket, "channel", NULL);
	facts.category = fl_json_str(ticket, "category", NULL);
	facts.customer_tier = fl_json_str(meta, "customer_tier", NULL);
	if (!facts.customer_tier && fl_json_str(ticket, "customer_id", NULL) &&
	    store_customer_get(st, fl_json_str(ticket, "customer_id", NULL), &customer) == STORE_OK)
		facts.customer_tier = fl_json_str(customer, "tier", NULL);
	p = sla_policy_pick(s->policies, &facts);
	c = p ? support_sla_calendar(s, fl_json_str(p, "calendar", BUILTIN_CALENDAR)) : NULL;
	if (!p || !c) {
		json_decref(customer);
		return 0;
	}
	if (!events) {
		rc = store_event_list(st, fl_json_str(ticket, "id", ""), EVENTS_MAX, &own);
		events = own;
	}
	if (rc == STORE_OK)
		sla_ticket_evaluate(c, p, ticket, events, now, state);
	json_decref(own);
	json_decref(customer);
	if (rc != STORE_OK)
		return -rc;
	if (policy)
		*policy = p;
	if (cal)
		*cal = c;
	return 1;
}

json_t *support_sla_of(struct store *st, const json_t *ticket, int64_t now)
{
	struct support_sla *s = NULL;
	struct sla_ticket_state state;
	const json_t *policy;
	json_t *out = NULL;

	if (support_sla_load(st, &s) != STORE_OK) {
		fl_log(FL_LOG_ERROR, "sla: cannot read the policies: %s", store_errmsg(st));
		return NULL;
	}
	if (support_sla_ticket(s, st, ticket, NULL, now, &state, &policy, NULL) == 1)
		out = sla_ticket_state_json(fl_json_str(policy, "id", ""), &state);
	support_sla_free(s);
	return out;
}

/* ---- the sweep ---- */

static json_t *at_json(int64_t t)
{
	char s[32];

	fl_time_rfc3339(s, t * 1000000);
	return json_string(s);
}

static int64_t secs_of(const json_t *o, const char *key)
{
	int64_t us;
	const char *s = fl_json_str(o, key, NULL);

	return s && !fl_time_parse(s, &us) ? us / 1000000 : 0;
}

/* True when events hold type with data's clock and due_at (NULL: any data). */
static bool done_before(const json_t *events, const char *type, const char *clock, const char *due_at)
{
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e) {
		const json_t *d = json_object_get(e, "data");

		if (strcmp(fl_json_str(e, "type", ""), type))
			continue;
		if (!clock || (!strcmp(fl_json_str(d, "clock", ""), clock) &&
			       !strcmp(fl_json_str(d, "due_at", ""), due_at)))
			return true;
	}
	return false;
}

/* The time of the last event of type (with data.to == to when given) at or after since, or 0. */
static int64_t last_event(const json_t *events, const char *type, const char *to, int64_t since)
{
	int64_t last = 0;
	size_t i;
	json_t *e;

	json_array_foreach(events, i, e) {
		int64_t t = secs_of(e, "created_at");

		if (!strcmp(fl_json_str(e, "type", ""), type) && t >= since &&
		    (!to || !strcmp(fl_json_str(json_object_get(e, "data"), "to", ""), to)))
			last = t;
	}
	return last;
}

static int raise_clock(struct store *st, const json_t *ticket, const json_t *policy, int clock, int state,
		       int64_t due, struct support_sla_stats *stats)
{
	const char *id = fl_json_str(ticket, "id", ""), *name = sla_clock_name(clock);
	const char *word = state == SLA_STATE_BREACHED ? "breached" : "warning";
	json_t *data = NULL, *notices = json_array(), *package = NULL, *due_j = at_json(due);
	int rc;

	rc = store_begin(st);
	if (rc != STORE_OK)
		goto out;
	data = json_pack("{s:s, s:s, s:O}", "policy", fl_json_str(policy, "id", ""), "clock", name, "due_at", due_j);
	rc = store_event_append(st, id, state == SLA_STATE_BREACHED ? FL_EVENT_TICKET_SLA_BREACHED
				: FL_EVENT_TICKET_SLA_WARNING, "sla", data);
	if (rc == STORE_OK) {
		support_notice_sla(notices, ticket, word, name, json_string_value(due_j));
		rc = support_notices_enqueue(st, notices);
	}
	if (rc == STORE_OK && state == SLA_STATE_BREACHED) {
		package = json_pack("{s:s, s:O}", "reason", "sla_breached", "sla", data);
		rc = store_escalation_open(st, id, "high", fl_json_str(ticket, "assigned_department", "customer_support"),
					   package, NULL, NULL);
	}
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK)
		store_rollback(st);
	else if (state == SLA_STATE_BREACHED)
		stats->breaches++;
	else
		stats->warnings++;
out:
	json_decref(data);
	json_decref(notices);
	json_decref(package);
	json_decref(due_j);
	return rc;
}

/* A status change by the sweep with its reason as an event of its own, in one transaction. */
static int housekeep(struct store *st, const json_t *ticket, const char *status, const char *event,
		     const char *reason, int64_t now)
{
	const char *id = fl_json_str(ticket, "id", "");
	json_t *fields = json_pack("{s:s}", "status", status), *data = json_pack("{s:s}", "reason", reason);
	int rc;

	if (!strcmp(status, FL_STATUS_RESOLVED))
		json_object_set_new(fields, "resolved_at", at_json(now));
	rc = store_begin(st);
	if (rc == STORE_OK)
		rc = store_ticket_update(st, id, fl_json_int(ticket, "version", 0), fields, "sla", NULL);
	if (rc == STORE_OK)
		rc = store_event_append(st, id, event, "sla", data);
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK)
		store_rollback(st);
	json_decref(fields);
	json_decref(data);
	return rc == STORE_ECONFLICT ? STORE_OK : rc;   /* someone changed it meanwhile: next round decides */
}

static int remind(struct store *st, const json_t *ticket, int64_t since)
{
	const char *id = fl_json_str(ticket, "id", "");
	json_t *customer = NULL, *notices = json_array(), *data = json_pack("{s:s}", "reason", "pending_reminder");
	char effect[48], *subject = fl_asprintf("Re: %s", fl_json_str(ticket, "subject", ""));
	int rc = STORE_OK;

	snprintf(effect, sizeof(effect), "reminder:%lld", (long long)since);
	if (fl_json_str(ticket, "customer_id", NULL))
		store_customer_get(st, fl_json_str(ticket, "customer_id", NULL), &customer);
	if (fl_json_str(customer, "email", NULL))
		support_notice_customer_email(notices, ticket, fl_json_str(customer, "email", ""), subject,
					      "We are still waiting for your answer to our last message; reply to this "
					      "email and we will pick it up from there.", effect);
	rc = store_begin(st);
	if (rc == STORE_OK)
		rc = store_event_append(st, id, FL_EVENT_TICKET_REMINDED, "sla", data);
	if (rc == STORE_OK)
		rc = support_notices_enqueue(st, notices);
	if (rc == STORE_OK)
		rc = store_commit(st);
	if (rc != STORE_OK)
		store_rollback(st);
	json_decref(customer);
	json_decref(notices);
	json_decref(data);
	free(subject);
	return rc;
}

static int sweep_ticket(struct support_sla *s, struct store *st, const json_t *ticket, int64_t now,
			struct support_sla_stats *stats)
{
	const char *status = fl_json_str(ticket, "status", "");
	int64_t remind_s = fl_config_int("FRONTLINE_PENDING_REMIND_HOURS", 48) * 3600;
	int64_t resolve_s = fl_config_int("FRONTLINE_PENDING_RESOLVE_HOURS", 168) * 3600;
	const struct sla_calendar *cal = NULL;
	struct sla_ticket_state state;
	const json_t *policy = NULL;
	json_t *events = NULL;
	int rc, k;

	rc = store_event_list(st, fl_json_str(ticket, "id", ""), EVENTS_MAX, &events);
	if (rc != STORE_OK)
		return rc;
	stats->tickets++;
	if (!strcmp(status, FL_STATUS_PENDING)) {
		int64_t since = last_event(events, FL_EVENT_TICKET_STATUS, FL_STATUS_PENDING, 0);

		/* the customer wrote since: their answer waits for an agent, not for them */
		if (since && !last_event(events, FL_EVENT_TICKET_CUSTOMER_REPLIED, NULL, since)) {
			if (resolve_s > 0 && now - since >= resolve_s) {
				rc = housekeep(st, ticket, FL_STATUS_RESOLVED, FL_EVENT_TICKET_AUTO_RESOLVED,
					       "no answer from the customer while pending", now);
				stats->resolved += rc == STORE_OK;
				goto out;
			}
			if (remind_s > 0 && now - since >= remind_s &&
			    !last_event(events, FL_EVENT_TICKET_REMINDED, NULL, since)) {
				rc = remind(st, ticket, since);
				stats->reminders += rc == STORE_OK;
				if (rc != STORE_OK)
					goto out;
			}
		}
	}
	rc = support_sla_ticket(s, st, ticket, events, now, &state, &policy, &cal);
	if (rc <= 0) {
		rc = -rc;
		goto out;
	}
	rc = STORE_OK;
	for (k = 0; k < SLA_CLOCKS && rc == STORE_OK; k++) {
		int64_t due = k == SLA_CLOCK_FIRST_RESPONSE ? state.first_due
			      : k == SLA_CLOCK_NEXT_RESPONSE ? state.next_due : state.resolution_due;
		const char *type;
		char due_s[32];

		if (state.clock_state[k] == SLA_STATE_OK || due == SLA_NEVER)
			continue;
		/* a clock already met (late) was judged when it ran out: only open clocks raise */
		if ((k == SLA_CLOCK_FIRST_RESPONSE && secs_of(ticket, "first_response_at")) ||
		    (k == SLA_CLOCK_RESOLUTION && secs_of(ticket, "resolved_at")))
			continue;
		type = state.clock_state[k] == SLA_STATE_BREACHED ? FL_EVENT_TICKET_SLA_BREACHED
			: FL_EVENT_TICKET_SLA_WARNING;
		fl_time_rfc3339(due_s, due * 1000000);
		if (done_before(events, type, sla_clock_name(k), due_s))
			continue;
		/* warnings wait for business hours (zammad#4432: no escalation mail at midnight) */
		if (state.clock_state[k] == SLA_STATE_WARNING && !sla_is_business_time(cal, now))
			continue;
		rc = raise_clock(st, ticket, policy, k, state.clock_state[k], due, stats);
	}
out:
	json_decref(events);
	return rc;
}

static int sweep_status(struct support_sla *s, struct store *st, const char *status, bool open, int64_t now,
			struct support_sla_stats *stats)
{
	int64_t close_s = fl_config_int("FRONTLINE_AUTOCLOSE_DAYS", 7) * 86400;
	struct store_ticket_filter f = { 0 };
	char *cursor = NULL;
	int rc = STORE_OK;

	f.status = status;
	f.open = open;
	f.limit = PAGE;
	do {
		json_t *page = NULL, *t;
		size_t i;

		f.cursor = cursor;
		rc = store_ticket_list(st, &f, &page);
		free(cursor);
		cursor = NULL;
		if (rc != STORE_OK)
			break;
		json_array_foreach(json_object_get(page, "tickets"), i, t) {
			if (open) {
				rc = sweep_ticket(s, st, t, now, stats);
			} else if (close_s > 0 && secs_of(t, "resolved_at") &&
				   now - secs_of(t, "resolved_at") >= close_s) {
				json_t *events = NULL;

				rc = store_event_list(st, fl_json_str(t, "id", ""), EVENTS_MAX, &events);
				if (rc == STORE_OK &&
				    !last_event(events, FL_EVENT_TICKET_CUSTOMER_REPLIED, NULL, secs_of(t, "resolved_at"))) {
					rc = housekeep(st, t, FL_STATUS_CLOSED, FL_EVENT_TICKET_AUTO_CLOSED,
						       "resolved and no word from the customer since", now);
					stats->closed += rc == STORE_OK;
				}
				json_decref(events);
			}
			if (rc != STORE_OK)
				break;
		}
		if (rc == STORE_OK && fl_json_str(page, "next_cursor", NULL))
			cursor = fl_strdup(fl_json_str(page, "next_cursor", NULL));
		json_decref(page);
	} while (rc == STORE_OK && cursor);
	free(cursor);
	return rc;
}

int support_sla_sweep(struct store *st, int64_t now, struct support_sla_stats *stats)
{
	struct support_sla *s = NULL;
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = support_sla_load(st, &s);
	if (rc == STORE_OK)
		rc = sweep_status(s, st, NULL, true, now, stats);
	if (rc == STORE_OK)
		rc = sweep_status(s, st, FL_STATUS_RESOLVED, false, now, stats);
	support_sla_free(s);
	return rc;
}
