/*
 * The generic webhook channel: ticket events (created, escalated, resolved)
 * POSTed as JSON to an integration's URL, signed with
 * FRONTLINE_EVENT_WEBHOOK_SECRET the same way Frontline's own intake
 * webhook is signed, and carrying a delivery id that stays the same across
 * retries (X-Frontline-Delivery and "delivery_id" in the body) so that the
 * receiver can drop duplicates.
 *
 * The event name goes into a header and the target is a URL: either with a
 * control character or a space could add a header (or a request) of its
 * own, so such an item is refused for good rather than sent.
 */
#include <string.h>

#include "notify_int.h"

/* Whether s has a byte that may not appear in a header value or a URL: controls (CR, LF...) or a space. */
static bool unsafe(const char *s, bool space_too)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || (space_too && *s == ' '))
			return true;
	return false;
}

static int webhook_deliver(struct notify_delivery *d)
{
	const char *secret = notify__setting(d->settings ? d->settings->webhook_secret : NULL,
					     "FRONTLINE_EVENT_WEBHOOK_SECRET");
	const char *url = fl_json_str(d->item, "target", "");
	const json_t *payload = json_object_get(d->item, "payload");
	struct curl_slist *h = NULL;
	char sig[NOTIFY_SIGNATURE_LEN], ts[24], delivery[40], *body = NULL, *line;
	json_t *doc = NULL;
	int rc = NOTIFY_EPERMANENT;

	if (!secret) {
		d->error = fl_strdup("outbound webhooks are not configured: set FRONTLINE_EVENT_WEBHOOK_SECRET");
		return NOTIFY_ECONFIG;
	}
	if (!fl_str_has_prefix(url, "http://") && !fl_str_has_prefix(url, "https://")) {
		d->error = fl_asprintf("webhook target is not an http(s) URL");
		return NOTIFY_EPERMANENT;
	}
	if (unsafe(url, true)) {
		d->error = fl_strdup("webhook target URL has a control character or a space");
		return NOTIFY_EPERMANENT;
	}
	if (!json_is_object(payload)) {
		d->error = fl_strdup("webhook notification has no payload object");
		return NOTIFY_EPERMANENT;
	}
	if (unsafe(fl_json_str(payload, "event", "event"), true)) {
		d->error = fl_strdup("webhook event name has a control character or a space");
		return NOTIFY_EPERMANENT;
	}
	snprintf(delivery, sizeof(delivery), "dlv_%lld", (long long)fl_json_int(d->item, "id", 0));
	doc = json_deep_copy(payload);
	json_object_set_new(doc, "delivery_id", json_string(delivery));
	body = fl_json_dumps(doc);
	snprintf(ts, sizeof(ts), "%lld", (long long)(fl_wall_us() / 1000000));
	notify_sign(secret, ts, body, strlen(body), sig);
	line = fl_asprintf("X-Frontline-Event: %s", fl_json_str(payload, "event", "event"));
	h = curl_slist_append(h, line);
	free(line);
	line = fl_asprintf("X-Frontline-Delivery: %s", delivery);
	h = curl_slist_append(h, line);
	free(line);
	line = fl_asprintf("X-Frontline-Timestamp: %s", ts);
	h = curl_slist_append(h, line);
	free(line);
	line = fl_asprintf("X-Frontline-Signature: %s", sig);
	h = curl_slist_append(h, line);
	free(line);
	rc = notify__http_post(d, url, body, h);
	curl_slist_free_all(h);
	free(body);
	json_decref(doc);
	return rc;
}

const struct notify_channel_ops notify_webhook_ops = {
	.version = 2,
	.name = "webhook",
	.deliver = webhook_deliver,
	.delivery_id = true,   /* a delivery id: at least once */
};
