/*
 * The Slack channel: an incoming webhook (FRONTLINE_SLACK_WEBHOOK_URL)
 * receives {"channel": target, "text": payload.text}. The target is the
 * channel the enqueuer chose by severity (#support-alerts for urgent,
 * #support-escalations, #support-monitoring, ...). Incoming webhooks bound
 * to one channel ignore the override; the text still names the alert.
 */
#include "notify_int.h"

static int slack_deliver(struct notify_delivery *d)
{
	const char *url = notify__setting(d->settings ? d->settings->slack_url : NULL,
					  "FRONTLINE_SLACK_WEBHOOK_URL");
	const json_t *payload = json_object_get(d->item, "payload");
	const char *text = fl_json_str(payload, "text", NULL);
	json_t *msg;
	char *body;
	int rc;

	if (!url) {
		d->error = fl_strdup("slack is not configured: set FRONTLINE_SLACK_WEBHOOK_URL");
		return NOTIFY_ECONFIG;
	}
	if (!text || !*text) {
		d->error = fl_strdup("slack notification has no 'text'");
		return NOTIFY_EPERMANENT;
	}
	msg = json_pack("{s:s, s:s, s:s}", "channel", fl_json_str(d->item, "target", ""),
			"text", text, "username", "Frontline");
	body = fl_json_dumps(msg);
	rc = notify__http_post(d, url, body, NULL);
	free(body);
	json_decref(msg);
	return rc;
}

const struct notify_channel_ops notify_slack_ops = {
	.version = 1,
	.name = "slack",
	.deliver = slack_deliver,
};
