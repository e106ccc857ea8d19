/*
 * The email channel: SMTP through libcurl to FRONTLINE_SMTP_URL
 * (smtp://host:port, or smtps://; credentials in the URL), STARTTLS when the
 * server offers it. The message comes from notify_email_build; its
 * Message-ID is derived from the outbox item, so a retried delivery carries
 * the same id and mail clients fold duplicates. 4xx SMTP replies and
 * transport errors are retried; 5xx replies (a refused recipient) are not.
 */
#include <string.h>

#include "channels/email/email.h"
#include "notify_int.h"

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t left = u->len - u->off, want = size * n;

	if (want > left)
		want = left;
	memcpy(p, u->data + u->off, want);
	u->off += want;
	return want;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct notify_delivery *d = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return d->heartbeat(d->heartbeat_arg);
}

static int email_deliver(struct notify_delivery *d)
{
	const struct notify_settings *s = d->settings;
	const char *url = notify__setting(s ? s->smtp_url : NULL, "FRONTLINE_SMTP_URL");
	const json_t *payload = json_object_get(d->item, "payload");
	const char *from = fl_json_str(payload, "from", NULL);
	const char *to = fl_json_str(d->item, "target", NULL);
	struct curl_slist *rcpt = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *msg = NULL, *err = NULL, *mid = NULL, *sender = NULL;
	const char *domain;
	json_t *rcpts = NULL, *froms = NULL;
	struct upload u;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;
	size_t i;
	int rc = NOTIFY_EPERMANENT;

	if (!from || !*from)
		from = notify__setting(s ? s->smtp_from : NULL, "FRONTLINE_SUPPORT_FROM");
	if (!url) {
		d->error = fl_strdup("email is not configured: set FRONTLINE_SMTP_URL");
		return NOTIFY_ECONFIG;
	}
	if (!to || !*to)
		to = fl_json_str(payload, "to", NULL);
	if (s && s->store && fl_json_str(payload, "ticket_id", NULL)) {
		/* a reply in a ticket's email thread: the email channel renders it */
		struct email_rendered r;
		int erc = email_outbox_render(s->store, d->item, from, &r, &err);

		if (erc != EMAIL_OK) {
			d->error = err;
			err = NULL;
			rc = erc == EMAIL_ETEMP || erc == EMAIL_ESTORE ? NOTIFY_ETRANSIENT : NOTIFY_EPERMANENT;
			goto out;
		}
		froms = json_pack("[s]", r.sender);
		/* the ticket's customer and the CCs an agent approved */
		rcpts = json_pack("[s]", r.recipient);
		json_array_extend(rcpts, r.cc);
		msg = r.raw;
		r.raw = NULL;
		email_rendered_release(&r);
		goto send;
	}
	froms = notify_address_list(from, &err);
	if (!froms)
		goto bad;
	rcpts = notify_address_list(to, &err);
	if (!rcpts)
		goto bad;
	domain = strchr(json_string_value(json_array_get(froms, 0)), '@') + 1;
	{
		/* the same item gives the same id on every attempt */
		const char *created = fl_json_str(d->item, "created_at", "");
		char stamp[32];
		size_t k = 0;

		for (; *created && k + 1 < sizeof(stamp); created++)
			if (*created >= '0' && *created <= '9')
				stamp[k++] = *created;
		stamp[k] = '\0';
		mid = fl_asprintf("<frontline.%lld.%s@%s>", (long long)fl_json_int(d->item, "id", 0),
				  stamp, domain);
	}
	msg = notify_email_build(payload, from, to, mid, fl_wall_us(), &err);
	if (!msg)
		goto bad;
send:
	fl_curl_global_init();
	c = curl_easy_init();
	if (!c) {
		d->error = fl_strdup("cannot create an SMTP client");
		rc = NOTIFY_ETRANSIENT;
		goto out;
	}
	sender = fl_asprintf("<%s>", json_string_value(json_array_get(froms, 0)));
	for (i = 0; i < json_array_size(rcpts); i++) {
		char *r = fl_asprintf("<%s>", json_string_value(json_array_get(rcpts, i)));

		rcpt = curl_slist_append(rcpt, r);
		free(r);
	}
	u.data = msg;
	u.len = strlen(msg);
	u.off = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, notify__timeout_ms(s));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, sender);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (d->heartbeat) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	d->http_status = code;
	if (cc == CURLE_OK) {
		rc = NOTIFY_OK;
		goto out;
	}
	{
		char *masked = fl_mask_url(url);

		d->error = fl_asprintf("cannot send email through '%s': %s%s%.0ld", masked,
				       errbuf[0] ? errbuf : curl_easy_strerror(cc),
				       code ? "; SMTP reply " : "", code);
		free(masked);
	}
	/* 5xx: the server refused for good (unknown recipient, policy) */
	rc = code >= 500 && code < 600 ? NOTIFY_EPERMANENT : NOTIFY_ETRANSIENT;
	goto out;
bad:
	d->error = err;
	err = NULL;
	rc = NOTIFY_EPERMANENT;
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	json_decref(froms);
	json_decref(rcpts);
	free(sender);
	free(msg);
	free(mid);
	free(err);
	return rc;
}

const struct notify_channel_ops notify_email_ops = {
	.version = 2,
	.name = "email",
	.deliver = email_deliver,
	.delivery_id = true,   /* a delivery id: at least once */
};
