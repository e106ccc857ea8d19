/*
 * The table of channel backends (curl's available_backends[] in small) and
 * the one function that calls their ops.
 */
#include <string.h>

#include "notify_int.h"

static const struct notify_channel_ops *const channels[] = {
	&notify_slack_ops,
	&notify_email_ops,
	&notify_webhook_ops,
};

const struct notify_channel_ops *notify_channel_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < FL_ARRAY_SIZE(channels); i++)
		if (!strcmp(channels[i]->name, name))
			return channels[i];
	return NULL;
}

bool notify_channel_at_least_once(const char *name)
{
	const struct notify_channel_ops *ops = notify_channel_find(name);

	return ops && ops->version >= 2 && ops->delivery_id;
}

int notify_deliver(struct notify_delivery *d)
{
	const char *name = fl_json_str(d->item, "channel", "");
	const struct notify_channel_ops *ops = notify_channel_find(name);
	int rc;

	d->error = NULL;
	d->retry_after_s = 0;
	d->http_status = 0;
	d->maybe_delivered = false;
	if (!ops) {
		d->error = fl_asprintf("unknown notification channel '%s'", name);
		return NOTIFY_ECHANNEL;
	}
	rc = ops->deliver(d);
	if (rc != NOTIFY_OK && !d->error)
		d->error = fl_strdup(notify_strerror(rc));
	return rc;
}
