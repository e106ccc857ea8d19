/*
 * Notifications: every message Frontline queues for people and systems
 * (the automatic reply to a customer, an agent's reply, the escalation for
 * Slack and the on-call list, a monitoring alert, a ticket event for an
 * integration, the team's update) is built here, by one constructor per
 * kind, and queued by support_notices_enqueue (support_ticket_event does
 * both for the events integrations receive). Where a notice goes (the
 * Slack channel per severity, the on-call list) is the policy's routes table
 * (policy.c); the payloads are what the notify channels read (notify.h).
 *
 * What it leaves to others: delivery (notify's dispatcher claims the outbox),
 * and the transaction: the caller enqueues inside the one that records the
 * change the notice is about.
 */
#include <sodium.h>
#include <string.h>

#include "support_int.h"
#include "store/store.h"

/* the keys are literals: no UTF-8 check of them (json_pack's would cost more than the rest) */
#define SETK(o, k, v) json_object_set_new_nocheck(o, k, v)

/* Appends {"channel", "target", "payload", "key"}; takes payload and key. */
static void add(json_t *notices, const char *channel, const char *target, json_t *payload, char *key)
{
	json_t *n = json_object();

	SETK(n, "channel", json_string(channel));
	SETK(n, "target", json_string(target));
	SETK(n, "payload", payload);
	SETK(n, "key", json_string(key));
	json_array_append_new(notices, n);
	free(key);
}

/* A route's target: the Slack channel, or the on-call list (NULL when unset). */
static const char *route_target(const struct support__route *r)
{
	const char *oncall;

	if (strcmp(r->target, SUPPORT__ONCALL))
		return r->target;
	oncall = fl_config_get("FRONTLINE_ONCALL_EMAILS");
	return oncall && *oncall ? oncall : NULL;
}

void support_notice_auto_reply(json_t *notices, const json_t *ticket, const char *to, const char *body,
			       const char *html)
{
	const char *id = fl_json_str(ticket, "id", "");
	char tag[FL_TICKET_TAG_SIZE];
	json_t *payload;

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	payload = json_object();
	SETK(payload, "to", json_string(to));
	fl_json_set_str(payload, "from", fl_config_get("FRONTLINE_SUPPORT_FROM"));
	SETK(payload, "subject", json_string(fl_json_str(ticket, "subject", "")));
	SETK(payload, "body", json_string(body));
	if (html && *html)
		SETK(payload, "html", json_string(html));
	SETK(payload, "ticket_id", json_string(id));
	SETK(payload, "ticket_tag", json_string(tag));
	SETK(payload, "auto_submitted", json_true());
	add(notices, "email", to, payload, fl_asprintf("ticket:%s:auto_reply", id));
}

void support_notice_customer_email(json_t *notices, const json_t *ticket, const char *to,
				   const char *subject, const char *body, const char *effect)
{
	const char *id = fl_json_str(ticket, "id", "");
	char tag[FL_TICKET_TAG_SIZE];

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	add(notices, "email", to,
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "to", to, "subject", subject, "body", body,
		      "ticket_id", id, "ticket_tag", tag),
	    fl_asprintf("ticket:%s:%s", id, effect));
}

void support_notice_escalation(json_t *notices, const json_t *ticket, const char *department,
			       const char *severity)
{
	support_notice_escalation_at(notices, ticket, department, severity, NULL);
}

void support_notice_escalation_at(json_t *notices, const json_t *ticket, const char *department,
				  const char *severity, const char *occurrence)
{
	const struct support__route *routes[8];
	const char *id = fl_json_str(ticket, "id", "");
	char tag[FL_TICKET_TAG_SIZE];
	json_t *text;
	size_t i, n = support__routes(SUPPORT__NOTICE_ESCALATION, severity, routes, FL_ARRAY_SIZE(routes));

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	text = json_sprintf("Ticket %s (%s) escalated to %s, %s priority: %s", tag, id, department, severity,
			    fl_json_str(ticket, "subject", ""));
	for (i = 0; i < n; i++) {
		const char *target = route_target(routes[i]);
		json_t *payload;

		if (!target)
			continue;
		if (!strcmp(routes[i]->channel, "email"))
			payload = json_pack("{s:s, s:s, s:O, s:s}", "to", target,
					    "subject", "Urgent ticket needs attention", "body", text, "ticket_id", id);
		else
			payload = json_pack("{s:O, s:s, s:s}", "text", text, "ticket_id", id, "severity", severity);
		add(notices, routes[i]->channel, target, payload,
		    occurrence ? fl_asprintf("ticket:%s:%s:%s", id, routes[i]->name, occurrence)
			       : fl_asprintf("ticket:%s:%s", id, routes[i]->name));
	}
	json_decref(text);
}

void support_notice_sla(json_t *notices, const json_t *ticket, const char *state, const char *clock,
			const char *due_at)
{
	const struct support__route *routes[8];
	const char *id = fl_json_str(ticket, "id", ""), *assignee = fl_json_str(ticket, "assignee", NULL);
	const char *dept = fl_json_str(ticket, "assigned_department", NULL);
	char tag[FL_TICKET_TAG_SIZE];
	json_t *text;
	size_t i, n = support__routes(SUPPORT__NOTICE_SLA, state, routes, FL_ARRAY_SIZE(routes));

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	text = json_sprintf("SLA %s: ticket %s (%s)%s%s, %s due %s: %s", state, tag, id, dept ? " in " : "",
			    dept ? dept : "", clock, due_at, fl_json_str(ticket, "subject", ""));
	for (i = 0; i < n; i++) {
		const char *target = routes[i]->target;
		json_t *payload;

		if (!strcmp(target, SUPPORT__ASSIGNEE))
			target = assignee && strchr(assignee, '@') ? assignee : NULL;
		else if (!strcmp(target, SUPPORT__ONCALL))
			target = route_target(routes[i]);
		if (!target)
			continue;
		if (!strcmp(routes[i]->channel, "email"))
			payload = json_pack("{s:s, s:s, s:O, s:s}", "to", target, "subject",
					    !strcmp(state, "breached") ? "SLA breached" : "SLA warning", "body", text,
					    "ticket_id", id);
		else
			payload = json_pack("{s:O, s:s, s:s, s:s?}", "text", text, "ticket_id", id, "severity", state,
					    "department", dept);
		/* once per ticket, state, clock and due time: a later due time (a reply, a resume) is news again */
		add(notices, routes[i]->channel, target, payload,
		    fl_asprintf("ticket:%s:sla_%s:%s:%s:%s", id, state, clock, due_at, routes[i]->name));
	}
	json_decref(text);
}

void support_notice_alert(json_t *notices, const json_t *alert, int64_t now_us)
{
	const struct support__route *routes[8];
	const char *severity = fl_json_str(alert, "severity", "warning");
	const char *dedupe = fl_json_str(alert, "dedupe_key", NULL);
	json_t *text = json_sprintf("[%s] %s", severity, fl_json_str(alert, "message", ""));
	size_t i, n = support__routes(SUPPORT__NOTICE_ALERT, fl_json_str(alert, "severity", ""), routes,
				      FL_ARRAY_SIZE(routes));

	for (i = 0; i < n; i++) {
		const char *target = route_target(routes[i]);
		json_t *payload;
		char *key;

		if (!target)
			continue;
		if (!strcmp(routes[i]->channel, "email"))
			payload = json_pack("{s:s, s:O, s:O}", "subject", "Frontline alert: critical", "body", text,
					    "alert", alert);
		else
			payload = json_pack("{s:O, s:O}", "text", text, "alert", alert);
		/* one delivery per alert occurrence and target (an hourly bucket without a dedupe key) */
		if (dedupe)
			key = fl_asprintf("%s:%s", dedupe, target);
		else
			key = fl_asprintf("%s:%s:%s:%lld", routes[i]->name, fl_json_str(alert, "type", ""), target,
					  (long long)(now_us / 1000000 / 3600));
		add(notices, routes[i]->channel, target, payload, key);
	}
	json_decref(text);
}

void support_notice_ticket_event(json_t *notices, const char *event, const json_t *ticket,
				 const char *occurrence, int64_t now_us)
{
	static const char *const keys[] = {
		"id", "number", "status", "priority", "category", "sentiment", "customer_id",
		"subject", "channel", "assignee", "assigned_department", "created_at",
		"updated_at", "resolved_at", "version",
	};
	const char *urls = fl_config_get("FRONTLINE_EVENT_WEBHOOK_URLS"), *p = urls;
	json_t *t, *payload;
	char now[32];
	size_t i;

	if (!urls || !*urls)
		return;
	/* a small, stable projection of the ticket: an integration that wants more asks the API */
	t = json_object();
	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(ticket, keys[i]);

		json_object_set(t, keys[i], v ? v : json_null());
	}
	fl_time_rfc3339(now, now_us);
	payload = json_pack("{s:s, s:o, s:s}", "event", event, "ticket", t, "occurred_at", now);
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *u = fl_str_trim(p, &n);

		if (n) {
			unsigned char h[crypto_generichash_BYTES_MIN];
			char hex[2 * sizeof(h) + 1], *url = fl_strndup(u, n);

			/* the key stays short whatever the URL's length */
			crypto_generichash(h, sizeof(h), (const unsigned char *)url, n, NULL, 0);
			fl_hex(hex, h, sizeof(h));
			add(notices, "webhook", url, json_incref(payload),
			    fl_asprintf("event:%s:%s:%s:%s", event, fl_json_str(ticket, "id", ""),
					occurrence ? occurrence : "once", hex));
			free(url);
		}
		p = end ? end + 1 : p + strlen(p);
	}
	json_decref(payload);
}

void support_notice_resolved(json_t *notices, const char *ticket_id, const char *name, const char *email,
			     const char *tier, const char *key_prefix)
{
	const struct support__route *routes[8];
	int first = (int)strcspn(name, " ");
	json_t *body;
	size_t i, n;

	/* the customer's first name and the ticket's id */
	body = json_sprintf("Hi %.*s,\n\nyour ticket %s has been resolved. Reply to this email if anything is "
			    "still not working.\n\nFrontline Support", first, name, ticket_id);
	add(notices, "email", email,
	    json_pack("{s:s, s:s?, s:s, s:o}", "to", email, "from", fl_config_get("FRONTLINE_SUPPORT_FROM"),
		      "subject", "Your support ticket has been resolved", "body", body),
	    fl_asprintf("%s:resolved_email", key_prefix));
	n = support__routes(SUPPORT__NOTICE_UPDATE, NULL, routes, FL_ARRAY_SIZE(routes));
	for (i = 0; i < n; i++)
		add(notices, routes[i]->channel, routes[i]->target,
		    json_pack("{s:o}", "text", json_sprintf("Ticket %s resolved for %s (%s)", ticket_id, name, tier)),
		    fl_asprintf("%s:%s", key_prefix, routes[i]->name));
}

void support_notice_acknowledgement(json_t *notices, const json_t *ticket, const char *to, const char *name)
{
	const char *id = fl_json_str(ticket, "id", ""), *subject = fl_json_str(ticket, "subject", "");
	int first = name ? (int)strcspn(name, " ") : 0;
	char tag[FL_TICKET_TAG_SIZE];
	json_t *body, *title;

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	body = json_sprintf("Hi%s%.*s,\n\nthank you for writing to us. We have your request \"%s\"; its reference "
			    "is %s. Reply to this email to add anything: keep the reference in the subject.\n\n"
			    "Frontline Support", first ? " " : "", first, first ? name : "", subject, tag);
	title = json_sprintf("[%s] We received your request: %s", tag, subject);
	add(notices, "email", to,
	    json_pack("{s:s, s:s?, s:o, s:o, s:s, s:s, s:b}", "to", to, "from", fl_config_get("FRONTLINE_SUPPORT_FROM"),
		      "subject", title, "body", body, "ticket_id", id, "ticket_tag", tag, "auto_submitted", 1),
	    fl_asprintf("ticket:%s:acknowledgement", id));
}

void support_notice_survey(json_t *notices, const json_t *ticket, const char *to, const char *link)
{
	const char *id = fl_json_str(ticket, "id", ""), *subject = fl_json_str(ticket, "subject", "");
	char tag[FL_TICKET_TAG_SIZE];
	json_t *body, *title;

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	body = json_sprintf("Hello,\n\nyour request \"%s\" (%s) was resolved. How satisfied are you with the help you "
			    "got? Rate it from 1 to 5, with a comment if you like:\n\n%s\n\nThe link works for 28 days; "
			    "you can change your answer until then.\n\nFrontline Support", subject, tag, link);
	title = json_sprintf("[%s] How did we do?", tag);
	add(notices, "email", to,
	    json_pack("{s:s, s:s?, s:o, s:o, s:s, s:s, s:b}", "to", to, "from", fl_config_get("FRONTLINE_SUPPORT_FROM"),
		      "subject", title, "body", body, "ticket_id", id, "ticket_tag", tag, "auto_submitted", 1),
	    fl_asprintf("ticket:%s:survey", id));
}

int support_ticket_event(struct store *st, const char *event, const json_t *ticket,
			 const char *occurrence)
{
	json_t *notices = json_array();
	int rc;

	support_notice_ticket_event(notices, event, ticket, occurrence, fl_wall_us());
	rc = support_notices_enqueue(st, notices);
	json_decref(notices);
	return rc;
}

int support_notices_enqueue(struct store *st, json_t *notices)
{
	json_t *n;
	size_t i;
	int rc;

	if (!fl_config_bool("NOTIFICATION_ENABLED", true))
		return STORE_OK;
	json_array_foreach(notices, i, n) {
		bool created = false;

		rc = store_outbox_enqueue(st, fl_json_str(n, "channel", ""), fl_json_str(n, "target", ""),
					  json_object_get(n, "payload"), fl_json_str(n, "key", NULL), &created);
		if (rc != STORE_OK)
			return rc;
		SETK(n, "queued", json_boolean(created));
	}
	return STORE_OK;
}
