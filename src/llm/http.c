/*
 * One HTTP POST with libcurl: connect and total timeouts, TLS verified
 * (peer and host), http and https only, no redirects, no signals (the client
 * runs on worker threads), a cap on the response size, and the Retry-After
 * header (delta-seconds, an HTTP date, or the non-standard retry-after-ms)
 * picked out of the response headers.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "llm_int.h"

#define MAX_RESPONSE (8u << 20)

int64_t llm__parse_retry_after(const char *value, int64_t now_wall_s)
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

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct llm__http_result *res = arg;
	size_t n = size * nmemb;

	if (res->body.len + n > MAX_RESPONSE)
		return 0; /* CURLE_WRITE_ERROR */
	fl_buf_add(&res->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct llm__http_result *res = arg;
	size_t n = size * nmemb;
	const char *colon = memchr(data, ':', n);
	char *value;

	if (!colon)
		return n;
	value = fl_strndup(colon + 1, n - (size_t)(colon + 1 - data));
	if ((size_t)(colon - data) == 11 && !strncasecmp(data, "retry-after", 11)) {
		int64_t ms = llm__parse_retry_after(value, fl_wall_us() / 1000000);

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

CURLcode llm__http_post(CURL *h, const char *url, const struct curl_slist *headers,
			const char *body, size_t body_len, int64_t timeout_ms,
			int64_t connect_timeout_ms, struct llm__http_result *res)
{
	int64_t t0 = fl_mono_us();

	fl_buf_init(&res->body, 4096);
	res->status = 0;
	res->retry_after_ms = -1;
	res->curl_err[0] = '\0';
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "frontline/" FL_VERSION);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, res);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->curl_err);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	res->curl_rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	/* the error buffer belongs to res, which the handle must not outlive */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	if (res->curl_rc != CURLE_OK && !res->curl_err[0])
		fl_strlcpy(res->curl_err, curl_easy_strerror(res->curl_rc), sizeof(res->curl_err));
	res->elapsed_us = fl_mono_us() - t0;
	return res->curl_rc;
}

void llm__http_result_release(struct llm__http_result *res)
{
	fl_buf_release(&res->body);
}
