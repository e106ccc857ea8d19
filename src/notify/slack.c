/*
 * The Slack channel: an incoming webhook (FRONTLINE_SLACK_WEBHOOK_URL)
 * receives {"channel": target, "text": payload.text}. The target is the
 * channel the enqueuer chose by severity (#support-alerts for urgent,
 * #support-escalations, #support-monitoring, ...). Incoming webhooks bound
 * to one channel ignore the override; the text still names the alert.
 *
 * The text is plain text, built from what customers and integrations wrote
 * (a ticket's subject): Slack would read "<!channel>" as a mention of
 * everyone and "<https://x|label>" as a link under any label, so every
 * "&", "<" and ">" is sent as "&amp;", "&lt;", "&gt;" (Slack's own
 * escaping), and Slack shows the text as typed. Frontline writes no Slack
 * markup of its own.
 */
#include <string.h>

#include "notify_int.h"

char *notify_slack_escape(const char *text)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p;

	fl_buf_init(&b, strlen(text) + 16);
	for (p = text; *p; p++) {
		if (*p == '&')
			fl_buf_adds(&b, "&amp;");
		else if (*p == '<')
			fl_buf_adds(&b, "&lt;");
		else if (*p == '>')
			fl_buf_adds(&b, "&gt;");
		else
			fl_buf_addch(&b, *p);
	}
	return fl_buf_detach(&b, NULL);
}

static int slack_deliver(struct notify_delivery *d)
{
	const char *url = notify__setting(d->settings ? d->settings->slack_url : NULL,
					  "FRONTLINE_SLACK_WEBHOOK_URL");
	const json_t *payload = json_object_get(d->item, "payload");
	const char *text = fl_json_str(payload, "text", NULL);
	json_t *msg;
	char *body, *escaped;
	int rc;

	if (!url) {
		d->error = fl_strdup("slack is not configured: set FRONTLINE_SLACK_WEBHOOK_URL");
		return NOTIFY_ECONFIG;
	}
	if (!text || !*text) {
		d->error = fl_strdup("slack notification has no 'text'");
		return NOTIFY_EPERMANENT;
	}
	escaped = notify_slack_escape(text);
	msg = json_pack("{s:s, s:s, s:s}", "channel", fl_json_str(d->item, "target", ""),
			"text", escaped, "username", "Frontline");
	free(escaped);
	body = fl_json_dumps(msg);
	rc = notify__http_post(d, url, body, NULL);
	free(body);
	json_decref(msg);
	return rc;
}

const struct notify_channel_ops notify_slack_ops = {
	.version = 2,
	.name = "slack",
	.deliver = slack_deliver,
	.delivery_id = false,   /* no delivery id: at most once */
};
