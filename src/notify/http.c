/*
 * The HTTP side of the Slack and webhook channels: one POST (util's
 * fl_http_post: a bounded time, no redirects, http(s) only, the delivery's
 * heartbeat while it waits), and the receiver's answer classified as sent,
 * retry later, or refused for good; a failure after the request went out
 * says the receiver may have acted on it (maybe_delivered).
 */
#include <string.h>

#include "notify_int.h"

const char *notify__setting(const char *given, const char *config_key)
{
	const char *v = given ? given : fl_config_get(config_key);

	return v && *v ? v : NULL;
}

long notify__timeout_ms(const struct notify_settings *s)
{
	return s && s->timeout_ms > 0 ? s->timeout_ms : 10000;
}

int notify__http_post(struct notify_delivery *d, const char *url, const char *body,
		      struct curl_slist *headers)
{
	struct fl_http_post post = {
		.url = url, .body = body, .body_len = strlen(body),
		.timeout_ms = notify__timeout_ms(d->settings), .connect_timeout_ms = 5000,
		/* the first 512 bytes of the answer, for the error message */
		.max_body = 512, .truncate = true,
		.progress = d->heartbeat, .progress_arg = d->heartbeat_arg,
	};
	struct fl_http_result res;
	struct curl_slist *h = NULL, *it;
	size_t i;
	int rc;

	fl_curl_global_init();
	h = curl_slist_append(h, "Content-Type: application/json");
	for (it = headers; it; it = it->next)
		h = curl_slist_append(h, it->data);
	post.headers = h;
	if (fl_http_post(&post, &res) != CURLE_OK) {
		char *masked = fl_mask_url(url);

		d->error = fl_asprintf("cannot reach '%s': %s", masked, res.error);
		free(masked);
		/* the request went out and no answer came: it may have been acted on */
		d->maybe_delivered = res.request_sent;
		rc = res.curl_rc == CURLE_UNSUPPORTED_PROTOCOL || res.curl_rc == CURLE_URL_MALFORMAT
			? NOTIFY_EPERMANENT : NOTIFY_ETRANSIENT;
		goto out;
	}
	d->http_status = res.status;
	/* whole seconds, within a day */
	d->retry_after_s = res.retry_after_ms >= 0 && res.retry_after_ms <= 86400 * 1000
		? (int)((res.retry_after_ms + 999) / 1000) : 0;
	if (res.status >= 200 && res.status < 300) {
		rc = NOTIFY_OK;
		goto out;
	}
	/* as printable ASCII */
	for (i = 0; i < res.body.len; i++)
		if (res.body.buf[i] < 0x20 || res.body.buf[i] >= 0x7f)
			res.body.buf[i] = ' ';
	fl_buf_rtrim(&res.body);
	d->error = fl_asprintf("receiver answered HTTP %ld%s%s", res.status, res.body.len ? ": " : "",
			       res.body.buf);
	rc = res.status == 408 || res.status == 425 || res.status == 429 || res.status >= 500
		? NOTIFY_ETRANSIENT : NOTIFY_EPERMANENT;
out:
	curl_slist_free_all(h);
	fl_http_result_release(&res);
	return rc;
}
