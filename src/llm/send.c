/*
 * Sending one request: the bound on requests in flight, the pool of curl
 * handles (kept for their open connections), the retry policy, and the
 * translation of transport and HTTP failures into LLM_E* codes with
 * messages that say what to check. Only this file calls the provider ops
 * that build and parse requests (client.c asks for the endpoint once).
 *
 * Retry policy: timeouts, connection failures, 408, 409, 429, 500, 502, 503,
 * 504 and 529 are retried up to max_retries times. The wait before retry n
 * (0-based) is uniform in [0, min(backoff_max, backoff_base * 2^n)] ("full
 * jitter"), raised to the server's Retry-After when it asks for more; a
 * Retry-After longer than retry_after_max ends the retries at once. 400,
 * 401, 403 and 404 fail at once with a message saying what to check. A 400
 * that names the structured-output parameters (response_format, tools)
 * switches the client to prompt-only JSON once and for all.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "llm_int.h"

/* ---- the in-flight bound and the handle pool ---- */

static CURL *slot_acquire(struct llm_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	while (c->inflight >= c->max_inflight)
		pthread_cond_wait(&c->slot_free, &c->lock);
	c->inflight++;
	if (c->inflight > c->stats.inflight_max)
		c->stats.inflight_max = c->inflight;
	c->stats.requests++;
	if (c->nidle)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	if (!h && !(h = curl_easy_init()))
		fl_die("llm: curl_easy_init failed");
	return h;
}

static void slot_release(struct llm_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	/* at most max_inflight handles exist, so the pool never overflows */
	c->idle[c->nidle++] = h;
	c->inflight--;
	pthread_cond_signal(&c->slot_free);
	pthread_mutex_unlock(&c->lock);
}

/* ---- sending, with retries ---- */

static void default_sleep(void *arg, int64_t us)
{
	(void)arg;
	fl_sleep_us(us);
}

static int64_t backoff_us(const struct llm_client *c, int attempt, int64_t retry_after_ms)
{
	double ceiling = (double)c->backoff_base_ms * ldexp(1.0, attempt > 30 ? 30 : attempt);
	int64_t us;

	if (ceiling > (double)c->backoff_max_ms)
		ceiling = (double)c->backoff_max_ms;
	us = (int64_t)(fl_random_unit() * ceiling * 1000.0);
	if (retry_after_ms >= 0 && retry_after_ms * 1000 > us)
		us = retry_after_ms * 1000;
	return us;
}

/* A short, printable excerpt of an error body with no structure we know. */
static char *body_excerpt(const struct fl_buf *b)
{
	struct fl_buf out = FL_BUF_INIT;
	size_t i;

	for (i = 0; i < b->len && out.len < 200; i++) {
		unsigned char ch = (unsigned char)b->buf[i];

		fl_buf_addch(&out, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	if (i < b->len)
		fl_buf_adds(&out, "...");
	return fl_buf_detach(&out, NULL);
}

static bool mentions_structured_output(const char *msg)
{
	static const char *const words[] = { "response_format", "json_schema", "json_object",
					     "tool_choice", "tools", "tool" };
	size_t i;

	for (i = 0; msg && i < FL_ARRAY_SIZE(words); i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

struct attempt {
	int rc;
	bool retryable;
	bool downgrade;
	char *msg;
};

static void classify_transport(const struct llm_client *c, const struct fl_http_result *res,
			       struct attempt *a)
{
	switch ((CURLcode)res->curl_rc) {
	case CURLE_OPERATION_TIMEDOUT:
		a->rc = LLM_ETIMEDOUT;
		a->retryable = true;
		a->msg = fl_asprintf("no complete response within %lld ms", (long long)c->timeout_ms);
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		a->rc = LLM_ECONNECT;
		a->retryable = true;
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		a->rc = LLM_ENETWORK;
		a->retryable = true;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		a->rc = LLM_ECONNECT;
		a->msg = fl_asprintf("tls: %s", res->error);
		return;
	case CURLE_WRITE_ERROR:
		a->rc = LLM_EPROTOCOL;
		a->msg = fl_strdup("response larger than 8 MiB");
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		a->rc = LLM_ECONFIG;
		break;
	default:
		a->rc = LLM_ENETWORK;
		break;
	}
	a->msg = fl_strdup(res->error);
}

static void classify_status(const struct llm_client *c, const struct llm__request *req,
			    const struct fl_http_result *res, struct attempt *a)
{
	json_t *j = json_loadb(res->body.buf, res->body.len, 0, NULL);
	char *detail = j ? c->provider->ops->error_message(j) : NULL;
	const char *hint = "";
	char *tmp = NULL;

	json_decref(j);
	if (!detail)
		detail = body_excerpt(&res->body);
	switch (res->status) {
	case 400:
	case 413:
	case 422:
		a->rc = LLM_EBADREQUEST;
		a->downgrade = req->schema && req->mode != LLM__MODE_PROMPT &&
			       mentions_structured_output(detail);
		break;
	case 401:
		a->rc = LLM_EAUTH;
		hint = tmp = fl_asprintf(" (check the api key in %s)", c->api_key_source);
		break;
	case 403:
		a->rc = LLM_EPERM;
		hint = tmp = fl_asprintf(" (the key in %s may not be allowed to use model '%s')",
					 c->api_key_source, c->model);
		break;
	case 404:
		a->rc = LLM_ENOTFOUND;
		hint = tmp = fl_asprintf(" (check ANTHROPIC_BASE_URL and the model '%s')", c->model);
		break;
	case 408:
		a->rc = LLM_ETIMEDOUT;
		a->retryable = true;
		break;
	case 409:
		a->rc = LLM_EHTTP;
		a->retryable = true;
		break;
	case 429:
		a->rc = LLM_ERATELIMIT;
		a->retryable = true;
		break;
	case 529:
		a->rc = LLM_EOVERLOADED;
		a->retryable = true;
		break;
	case 500:
	case 502:
	case 503:
	case 504:
		a->rc = LLM_ESERVER;
		a->retryable = true;
		break;
	default:
		a->rc = res->status >= 500 ? LLM_ESERVER : LLM_EHTTP;
		break;
	}
	a->msg = fl_asprintf("HTTP %ld: %s%s", res->status, *detail ? detail : "(empty body)", hint);
	free(detail);
	free(tmp);
}

static void classify_ok(const struct llm_client *c, const struct llm__request *req,
			const struct fl_http_result *res, struct llm__reply *reply, struct attempt *a)
{
	json_error_t jerr;
	json_t *j = json_loadb(res->body.buf, res->body.len, 0, &jerr);
	char *perr = NULL;

	if (!j) {
		a->rc = LLM_EPROTOCOL;
		a->msg = fl_asprintf("HTTP %ld with a body that is not JSON: %s", res->status, jerr.text);
		return;
	}
	if (c->provider->ops->parse(j, req, reply, &perr)) {
		llm__reply_release(reply);
		a->rc = LLM_EPROTOCOL;
		a->msg = fl_asprintf("unexpected %s response: %s", c->provider->ops->name, perr);
		free(perr);
	} else {
		a->rc = LLM_OK;
	}
	json_decref(j);
}

void llm__reply_release(struct llm__reply *r)
{
	free(r->text);
	json_decref(r->tool_input);
	free(r->model);
	free(r->stop_reason);
	memset(r, 0, sizeof(*r));
}

/*
 * Switches req to prompt-only JSON: the prompt built for a tool or
 * response_format did not carry the schema, so the system prompt does.
 */
static const char *system_with_schema(struct llm__request *req, char **owned)
{
	char *schema = json_dumps(req->schema, JSON_COMPACT | JSON_PRESERVE_ORDER);

	free(*owned);
	*owned = fl_asprintf("%s\nThe reply must be one JSON object matching this JSON Schema:\n%s\n",
			     req->system ? req->system : "", schema);
	free(schema);
	req->mode = LLM__MODE_PROMPT;
	return *owned;
}

int llm__send(struct llm_client *c, const struct llm__request *req_in, struct llm__reply *reply,
	      struct llm__usage *u, char **err)
{
	struct llm__request req = *req_in;
	struct llm__auth auth = { c->api_key, c->bearer };
	struct curl_slist *headers = NULL;
	struct attempt a = { LLM_EINVAL, false, false, NULL };
	char *body = NULL, *system = NULL;
	bool downgraded_here = false;
	int attempt;

	*err = NULL;
	memset(reply, 0, sizeof(*reply));
	if (req.schema && req.mode != LLM__MODE_PROMPT && atomic_load(&c->mode_downgraded))
		req.system = system_with_schema(&req, &system);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Accept: application/json");
	headers = curl_slist_append(headers, "Expect:");
	headers = c->provider->ops->headers(headers, &auth);
	for (attempt = 0;; attempt++) {
		struct fl_http_result res;
		int64_t wait_us;
		CURL *h;

		if (!body) {
			json_t *j = c->provider->ops->body(&req);

			body = json_dumps(j, JSON_COMPACT);
			json_decref(j);
		}
		free(a.msg);
		memset(&a, 0, sizeof(a));
		h = slot_acquire(c);
		u->requests++;
		{
			struct fl_http_post post = {
				.url = c->endpoint, .headers = headers, .body = body, .body_len = strlen(body),
				.timeout_ms = (long)c->timeout_ms, .connect_timeout_ms = (long)c->connect_timeout_ms,
				.handle = h,
			};

			fl_http_post(&post, &res);
		}
		slot_release(c, h);
		if (res.curl_rc != CURLE_OK)
			classify_transport(c, &res, &a);
		else if (res.status >= 200 && res.status < 300)
			classify_ok(c, &req, &res, reply, &a);
		else
			classify_status(c, &req, &res, &a);
		if (a.rc == LLM_OK) {
			u->input_tokens += reply->input_tokens;
			u->output_tokens += reply->output_tokens;
			u->cost_usd += llm__cost(c, reply->input_tokens, reply->output_tokens);
			fl_http_result_release(&res);
			break;
		}
		if (a.downgrade && !downgraded_here) {
			/* the server does not take response_format / tools: ask in the prompt */
			fl_log(FL_LOG_WARN, "llm: %s refused %s output (%s); asking for JSON in the "
			       "prompt from now on", c->provider->name, llm__mode_name(req.mode), a.msg);
			atomic_store(&c->mode_downgraded, 1);
			req.system = system_with_schema(&req, &system);
			downgraded_here = true;
			free(body);
			body = NULL;
			fl_http_result_release(&res);
			attempt--;
			continue;
		}
		wait_us = -1;
		if (a.retryable && attempt < c->max_retries) {
			if (res.retry_after_ms > c->retry_after_max_ms) {
				char *m = fl_asprintf("%s; the server asks to retry after %lld s, more than "
						      "FRONTLINE_LLM_RETRY_AFTER_MAX (%lld s)", a.msg,
						      (long long)(res.retry_after_ms / 1000),
						      (long long)(c->retry_after_max_ms / 1000));

				free(a.msg);
				a.msg = m;
			} else {
				wait_us = backoff_us(c, attempt, res.retry_after_ms);
			}
		}
		fl_http_result_release(&res);
		if (wait_us < 0)
			break;
		fl_log(FL_LOG_DEBUG, "llm: %s (%s); retry %d of %d in %lld ms", llm_strerror(a.rc), a.msg,
		       attempt + 1, c->max_retries, (long long)(wait_us / 1000));
		if (c->sleep_us)
			c->sleep_us(c->sleep_arg, wait_us);
		else
			default_sleep(NULL, wait_us);
		u->retries++;
	}
	if (a.rc != LLM_OK) {
		char *where = fl_mask_url(c->endpoint);

		*err = fl_asprintf("llm request to '%s' failed after %d attempt%s: %s: %s", where,
				   attempt + 1, attempt ? "s" : "", llm_strerror(a.rc), a.msg);
		free(where);
	}
	free(a.msg);
	free(body);
	free(system);
	curl_slist_free_all(headers);
	return a.rc;
}

