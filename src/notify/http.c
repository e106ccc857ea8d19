/*
 * The HTTP side of the Slack and webhook channels: one POST with libcurl,
 * a bounded time, no redirects, http(s) only, and the receiver's answer
 * classified as sent, retry later, or refused for good.
 */
#include <string.h>
#include <strings.h>

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

struct response {
	struct fl_buf body;
	int retry_after;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct response *r = arg;

	size_t i;

	/* keep the first 512 bytes, as printable ASCII, for the error message */
	for (i = 0; i < size * n && r->body.len < 512; i++)
		fl_buf_addch(&r->body, p[i] >= 0x20 && p[i] < 0x7f ? p[i] : ' ');
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
		char tmp[32];
		size_t vlen = len - 12;
		const char *v = fl_str_trim(p + 12, &vlen);
		int64_t s;

		if (vlen < sizeof(tmp)) {
			memcpy(tmp, v, vlen);
			tmp[vlen] = '\0';
			if (!fl_parse_int64(tmp, 0, 86400, &s))
				r->retry_after = (int)s;
		}
	}
	return len;
}

int notify__http_post(struct notify_delivery *d, const char *url, const char *body,
		      struct curl_slist *headers)
{
	struct response r = { FL_BUF_INIT, 0 };
	struct curl_slist *h = NULL, *it;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int rc = NOTIFY_ETRANSIENT;

	fl_curl_global_init();
	c = curl_easy_init();
	if (!c) {
		d->error = fl_strdup("cannot create an HTTP client");
		goto out;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: Frontline/" FL_VERSION);
	for (it = headers; it; it = it->next)
		h = curl_slist_append(h, it->data);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, notify__timeout_ms(d->settings));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		char *masked = fl_mask_url(url);

		d->error = fl_asprintf("cannot reach '%s': %s", masked, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		free(masked);
		rc = cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ? NOTIFY_EPERMANENT
										  : NOTIFY_ETRANSIENT;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	d->http_status = status;
	d->retry_after_s = r.retry_after;
	if (status >= 200 && status < 300) {
		rc = NOTIFY_OK;
		goto out;
	}
	fl_buf_rtrim(&r.body);
	d->error = fl_asprintf("receiver answered HTTP %ld%s%s", status, r.body.len ? ": " : "", r.body.buf);
	rc = status == 408 || status == 425 || status == 429 || status >= 500 ? NOTIFY_ETRANSIENT
									    : NOTIFY_EPERMANENT;
out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	fl_buf_release(&r.body);
	return rc;
}
