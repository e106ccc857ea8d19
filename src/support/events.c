/*
 * Ticket events for integrations: one outbox item per configured webhook
 * URL (FRONTLINE_EVENT_WEBHOOK_URLS), enqueued in the caller's transaction.
 * The payload is a small, stable projection of the ticket, not the whole
 * record (an integration that wants more asks the API). notify/ delivers
 * the items (its webhook channel); the domain decides what they say, here,
 * so that the finish of a triaged ticket (process.c) writes them in its own
 * transaction without calling up into notify/.
 */
#include <sodium.h>
#include <string.h>

#include "support_int.h"
#include "store/store.h"

static json_t *event_payload(const char *event, const json_t *ticket)
{
	static const char *const keys[] = {
		"id", "number", "status", "priority", "category", "sentiment", "customer_id",
		"subject", "channel", "assignee", "assigned_department", "created_at",
		"updated_at", "resolved_at", "version",
	};
	json_t *t = json_object(), *out;
	char now[32];
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(ticket, keys[i]);

		json_object_set(t, keys[i], v ? v : json_null());
	}
	fl_time_rfc3339(now, fl_wall_us());
	out = json_pack("{s:s, s:o, s:s}", "event", event, "ticket", t, "occurred_at", now);
	return out;
}

int support_ticket_event(struct store *st, const char *event, const json_t *ticket,
			 const char *occurrence)
{
	const char *urls = fl_config_get("FRONTLINE_EVENT_WEBHOOK_URLS");
	const char *p = urls;
	json_t *payload;
	int rc = STORE_OK;

	if (!urls || !*urls || !fl_config_bool("NOTIFICATION_ENABLED", true))
		return STORE_OK;
	payload = event_payload(event, ticket);
	while (*p && rc == STORE_OK) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *u = fl_str_trim(p, &n);

		if (n) {
			unsigned char h[crypto_generichash_BYTES_MIN];
			char hex[2 * sizeof(h) + 1], *url = fl_strndup(u, n), *key;
			bool created;

			/* the key stays short whatever the URL's length */
			crypto_generichash(h, sizeof(h), (const unsigned char *)url, n, NULL, 0);
			fl_hex(hex, h, sizeof(h));
			key = fl_asprintf("event:%s:%s:%s:%s", event, fl_json_str(ticket, "id", ""),
					  occurrence ? occurrence : "once", hex);
			rc = store_outbox_enqueue(st, "webhook", url, payload, key, &created);
			free(key);
			free(url);
		}
		p = end ? end + 1 : p + strlen(p);
	}
	json_decref(payload);
	return rc;
}
