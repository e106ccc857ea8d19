/*
 * The one HTTP client of Frontline (the LLM providers, the Slack and
 * webhook notification channels POST; the CRM GETs), with libcurl: connect and total timeouts,
 * TLS verified (peer and host), http and https only, no redirects, no
 * signals (callers run on worker threads), compressed answers accepted, a
 * cap on the answer kept (beyond it: cut, or a failed transfer), and the
 * Retry-After header (delta-seconds, an HTTP date, or the non-standard
 * retry-after-ms) picked out of the answer's headers.
 *
 * What it leaves to its callers: the request's headers, and what an answer
 * means (retry later, refused for good, a reply to parse). libcurl's global
 * set-up is fl_curl_global_init's (curl.c), called here on every request.
 */
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "util.h"

_Static_assert(sizeof(((struct fl_http_result *)0)->error) >= CURL_ERROR_SIZE,
	       "fl_http_result.error holds libcurl's error buffer");

#define DEFAULT_MAX_BODY (8u << 20)

int64_t fl_http_parse_retry_after(const char *value, int64_t now_wall_s)
{
	size_t n;
	const char *v;
	char *copy;
	int64_t secs;
	time_t t;

	if (!value)
		return -1;
	n = strlen(value);
	v = fl_str_trim(value, &n);
	if (!n)
		return -1;
	copy = fl_strndup(v, n);
	if (!fl_parse_int64(copy, 0, INT64_MAX / 1000000, &secs)) {
		free(copy);
		return secs * 1000;
	}
	t = curl_getdate(copy, NULL);
	free(copy);
	if (t == (time_t)-1)
		return -1;
	return t > now_wall_s ? ((int64_t)t - now_wall_s) * 1000 : 0;
}

struct transfer {
	const struct fl_http_post *req;
	struct fl_http_result *res;
	size_t max_body;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	struct fl_buf *b = &t->res->body;
	size_t n = size * nmemb;

	if (b->len + n > t->max_body) {
		if (!t->req->truncate)
			return 0; /* CURLE_WRITE_ERROR */
		fl_buf_add(b, data, t->max_body - b->len);
		return n;
	}
	fl_buf_add(b, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fl_http_result *res = ((struct transfer *)arg)->res;
	size_t n = size * nmemb;
	const char *colon = memchr(data, ':', n);
	char *value;

	if (!colon)
		return n;
	value = fl_strndup(colon + 1, n - (size_t)(colon + 1 - data));
	if ((size_t)(colon - data) == 11 && !strncasecmp(data, "retry-after", 11)) {
		int64_t ms = fl_http_parse_retry_after(value, fl_wall_us() / 1000000);

		if (ms >= 0 && res->retry_after_ms < 0)
			res->retry_after_ms = ms;
	} else if ((size_t)(colon - data) == 14 && !strncasecmp(data, "retry-after-ms", 14)) {
		size_t vlen = strlen(value);
		const char *v = fl_str_trim(value, &vlen);
		char *num = fl_strndup(v, vlen);
		double ms;

		/* the more precise form wins */
		if (!fl_parse_double(num, &ms) && ms >= 0 && ms < 1e12)
			res->retry_after_ms = (int64_t)ms;
		free(num);
	}
	free(value);
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct fl_http_post *req = ((struct transfer *)arg)->req;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return req->progress(req->progress_arg);
}

/* A POST of req->body, or a GET (req's body ignored). */
static int perform(const struct fl_http_post *req, struct fl_http_result *res, bool post)
{
	struct transfer t = { req, res, req->max_body ? req->max_body : DEFAULT_MAX_BODY };
	CURL *h = req->handle;
	int64_t t0 = fl_mono_us();

	fl_curl_global_init();
	fl_buf_init(&res->body, req->truncate ? 0 : 4096);
	res->status = 0;
	res->retry_after_ms = -1;
	res->error[0] = '\0';
	res->request_sent = false;
	if (h) {
		curl_easy_reset(h);
	} else if (!(h = curl_easy_init())) {
		res->curl_rc = CURLE_FAILED_INIT;
		fl_strlcpy(res->error, "cannot create an HTTP client", sizeof(res->error));
		res->elapsed_us = 0;
		return res->curl_rc;
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Frontline/" FL_VERSION);
	if (post) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->error);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (req->progress) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	res->curl_rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	{
		long sent = 0;

		/* the request's header bytes that went out: 0 when connecting failed */
		curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
		res->request_sent = sent > 0;
	}
	if (req->handle) {
		/* the error buffer and the callbacks' data live on our stack: a reused handle forgets them */
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
	} else {
		curl_easy_cleanup(h);
	}
	if (res->curl_rc != CURLE_OK && !res->error[0])
		fl_strlcpy(res->error, curl_easy_strerror(res->curl_rc), sizeof(res->error));
	res->elapsed_us = fl_mono_us() - t0;
	return res->curl_rc;
}

int fl_http_post(const struct fl_http_post *req, struct fl_http_result *res)
{
	return perform(req, res, true);
}

int fl_http_get(const struct fl_http_post *req, struct fl_http_result *res)
{
	return perform(req, res, false);
}

void fl_http_result_release(struct fl_http_result *res)
{
	fl_buf_release(&res->body);
}
