/*
 * fake_llm's server: libmicrohttpd with a thread per connection, so that a
 * reply may wait (latency, hang) without holding up the others; the request
 * queue of scripted behaviours, the counters and the request log sit under
 * one mutex. See fake_llm.h for the behaviours.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#include "fake_llm.h"
#include "util/util.h"

#define LOG_KEEP 64
#define HANG_MAX_MS 30000

struct fake_llm {
	struct MHD_Daemon *daemon;
	int port;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char **queue;
	size_t qhead, qlen, qcap;
	char *default_behaviour;
	char *retry_after;
	int latency_ms, slow_ms;
	long requests;
	int concurrent, max_concurrent;
	json_t *log[LOG_KEEP];
	char *log_behaviour[LOG_KEEP];
};

struct conn {
	struct fl_buf body;
};

bool fake_llm_behaviour_known(const char *name)
{
	static const char *const names[] = { "ok", "fence", "prose", "invalid_json", "bad_enum",
					     "bad_citation", "injected", "garbage", "hang", "drop",
					     "slow", "reject_format", "benign", NULL };
	const char *const *n;
	int64_t code;

	if (!name)
		return false;
	for (n = names; *n; n++)
		if (!strcmp(*n, name))
			return true;
	return fl_str_has_prefix(name, "http_") && !fl_parse_int64(name + 5, 100, 599, &code);
}

/* ---- control ---- */

void fake_llm_script(struct fake_llm *f, const char *behaviours)
{
	const char *p = behaviours, *next;

	pthread_mutex_lock(&f->lock);
	for (; p && *p; p = *next ? next + 1 : next) {
		size_t len;
		const char *t;
		char *name;

		next = strchr(p, ',');
		if (!next)
			next = p + strlen(p);
		len = (size_t)(next - p);
		t = fl_str_trim(p, &len);
		if (!len)
			continue;
		name = fl_strndup(t, len);
		if (!fake_llm_behaviour_known(name)) {
			fprintf(stderr, "fake_llm: unknown behaviour '%s' ignored\n", name);
			free(name);
			continue;
		}
		if (f->qhead + f->qlen == f->qcap) {
			if (f->qhead) {
				memmove(f->queue, f->queue + f->qhead, f->qlen * sizeof(*f->queue));
				f->qhead = 0;
			} else {
				f->qcap = f->qcap ? 2 * f->qcap : 16;
				f->queue = fl_reallocarray(f->queue, f->qcap, sizeof(*f->queue));
			}
		}
		f->queue[f->qhead + f->qlen++] = name;
	}
	pthread_mutex_unlock(&f->lock);
}

void fake_llm_set_default(struct fake_llm *f, const char *behaviour)
{
	if (!fake_llm_behaviour_known(behaviour)) {
		fprintf(stderr, "fake_llm: unknown behaviour '%s' ignored\n", behaviour ? behaviour : "");
		return;
	}
	pthread_mutex_lock(&f->lock);
	free(f->default_behaviour);
	f->default_behaviour = fl_strdup(behaviour);
	pthread_mutex_unlock(&f->lock);
}

void fake_llm_set_latency_ms(struct fake_llm *f, int ms)
{
	pthread_mutex_lock(&f->lock);
	f->latency_ms = ms < 0 ? 0 : ms;
	pthread_mutex_unlock(&f->lock);
}

void fake_llm_set_slow_ms(struct fake_llm *f, int ms)
{
	pthread_mutex_lock(&f->lock);
	f->slow_ms = ms < 0 ? 0 : ms;
	pthread_mutex_unlock(&f->lock);
}

void fake_llm_set_retry_after(struct fake_llm *f, const char *value)
{
	pthread_mutex_lock(&f->lock);
	free(f->retry_after);
	f->retry_after = value ? fl_strdup(value) : NULL;
	pthread_mutex_unlock(&f->lock);
}

static void clear_log_locked(struct fake_llm *f)
{
	size_t i;

	for (i = 0; i < LOG_KEEP; i++) {
		json_decref(f->log[i]);
		f->log[i] = NULL;
		free(f->log_behaviour[i]);
		f->log_behaviour[i] = NULL;
	}
}

void fake_llm_reset(struct fake_llm *f)
{
	pthread_mutex_lock(&f->lock);
	while (f->qlen) {
		free(f->queue[f->qhead++]);
		f->qlen--;
	}
	f->qhead = 0;
	f->requests = 0;
	f->max_concurrent = f->concurrent;
	clear_log_locked(f);
	pthread_mutex_unlock(&f->lock);
}

long fake_llm_requests(struct fake_llm *f)
{
	long n;

	pthread_mutex_lock(&f->lock);
	n = f->requests;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int fake_llm_max_concurrent(struct fake_llm *f)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->max_concurrent;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static long log_slot_locked(struct fake_llm *f, long i)
{
	if (i < 0)
		i += f->requests;
	if (i < 0 || i >= f->requests || i < f->requests - LOG_KEEP)
		return -1;
	return i % LOG_KEEP;
}

json_t *fake_llm_request(struct fake_llm *f, long i)
{
	json_t *v = NULL;
	long slot;

	pthread_mutex_lock(&f->lock);
	slot = log_slot_locked(f, i);
	if (slot >= 0 && f->log[slot])
		v = json_deep_copy(f->log[slot]);
	pthread_mutex_unlock(&f->lock);
	return v;
}

char *fake_llm_request_behaviour(struct fake_llm *f, long i)
{
	char *b = NULL;
	long slot;

	pthread_mutex_lock(&f->lock);
	slot = log_slot_locked(f, i);
	if (slot >= 0)
		b = fl_strdup(f->log_behaviour[slot]);
	pthread_mutex_unlock(&f->lock);
	return b;
}

/* ---- replies ---- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body,
				 const char *retry_after)
{
	char *s = json_dumps(body, JSON_COMPACT);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	json_decref(body);
	return rc;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "text/plain");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

struct drop_state {
	char *data;
	size_t len;
};

static ssize_t drop_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct drop_state *d = cls;
	size_t half = d->len / 2, n;

	if (pos >= half)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = half - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, d->data + pos, n);
	return (ssize_t)n;
}

static void drop_free(void *cls)
{
	struct drop_state *d = cls;

	free(d->data);
	free(d);
}

/* Sends body announcing its full length, then closes the connection halfway. */
static enum MHD_Result send_dropped(struct MHD_Connection *c, json_t *body)
{
	struct drop_state *d = fl_calloc(1, sizeof(*d));
	struct MHD_Response *r;
	enum MHD_Result rc;

	d->data = json_dumps(body, JSON_COMPACT);
	d->len = strlen(d->data);
	json_decref(body);
	r = MHD_create_response_from_callback(d->len, 1024, drop_reader, d, drop_free);
	MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return rc;
}

/* Waits ms (or until the server stops); false when it is stopping. */
static bool wait_ms(struct fake_llm *f, int64_t ms)
{
	struct timespec ts;
	bool running;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&f->lock);
	while (!f->stopping && pthread_cond_timedwait(&f->wake, &f->lock, &ts) != ETIMEDOUT)
		;
	running = !f->stopping;
	pthread_mutex_unlock(&f->lock);
	return running;
}

/* All the prompt text of a request: system and messages, strings or blocks. */
static void prompt_text(const json_t *req, struct fl_buf *b)
{
	const json_t *sys = json_object_get(req, "system"), *m, *blk;
	size_t i, j;

	if (json_is_string(sys))
		fl_buf_addf(b, "%s\n", json_string_value(sys));
	json_array_foreach(json_object_get(req, "messages"), i, m) {
		const json_t *content = json_object_get(m, "content");

		if (json_is_string(content))
			fl_buf_addf(b, "%s\n", json_string_value(content));
		json_array_foreach(content, j, blk)
			if (fl_json_str(blk, "text", NULL))
				fl_buf_addf(b, "%s\n", fl_json_str(blk, "text", NULL));
	}
}

/* The reply schema a request carries, and whether it forces a tool call. */
static json_t *request_schema(const json_t *req, const char *text, const char **tool_name)
{
	const json_t *tool = json_array_get(json_object_get(req, "tools"), 0);
	const json_t *rf = json_object_get(req, "response_format");
	const char *marker = strstr(text, "JSON Schema:\n");

	*tool_name = NULL;
	if (tool && json_object_get(tool, "input_schema")) {
		*tool_name = fl_json_str(tool, "name", "tool");
		return json_incref(json_object_get(tool, "input_schema"));
	}
	if (tool && json_object_get(tool, "function")) {
		const json_t *fn = json_object_get(tool, "function");

		*tool_name = fl_json_str(fn, "name", "tool");
		return json_incref(json_object_get(fn, "parameters"));
	}
	if (json_object_get(json_object_get(rf, "json_schema"), "schema"))
		return json_incref(json_object_get(json_object_get(rf, "json_schema"), "schema"));
	if (marker)
		return json_loads(marker + 13, JSON_DISABLE_EOF_CHECK, NULL);
	return NULL;
}

/* Sets the first enum-valued field (depth first) to "not_a_label". */
static bool break_enum(json_t *obj, const json_t *schema)
{
	const json_t *props = json_object_get(schema, "properties"), *sub;
	const char *key;

	json_object_foreach((json_t *)props, key, sub) {
		json_t *v = json_object_get(obj, key);

		if (json_object_get(sub, "enum") && json_is_string(v)) {
			json_object_set_new(obj, key, json_string("not_a_label"));
			return true;
		}
		if (json_is_object(v) && break_enum(v, sub))
			return true;
	}
	return false;
}

/*
 * A model talked into obeying the ticket ("this is resolved, do not
 * escalate"): still valid JSON, with the mildest labels the schema allows.
 */
static void make_benign(json_t *obj)
{
	static const struct { const char *key, *value; } labels[] = {
		{ "sentiment", "very_positive" }, { "urgency", "low" }, { "suggested_priority", "low" },
		{ "escalation_risk", "low" }, { "priority", "low" }, { "escalation_decision", "no_escalation" },
		{ "escalation_priority", "low" },
	};
	static const char *const flags[] = { "human_requested", "legal_threat", "security_incident",
					     "outage", "escalation_needed" };
	json_t *signals = json_object_get(obj, "priority_signals");
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(labels); i++) {
		if (json_object_get(obj, labels[i].key))
			json_object_set_new(obj, labels[i].key, json_string(labels[i].value));
		if (json_object_get(signals, labels[i].key))
			json_object_set_new(signals, labels[i].key, json_string(labels[i].value));
	}
	for (i = 0; i < FL_ARRAY_SIZE(flags); i++) {
		if (json_object_get(obj, flags[i]))
			json_object_set_new(obj, flags[i], json_false());
		if (json_object_get(signals, flags[i]))
			json_object_set_new(signals, flags[i], json_false());
	}
	if (json_object_get(signals, "users_affected"))
		json_object_set_new(signals, "users_affected", json_integer(0));
	if (json_object_get(obj, "emotional_indicators"))
		json_object_set_new(obj, "emotional_indicators", json_pack("[s]", "satisfied"));
}

static json_t *error_body(bool anthropic, unsigned status)
{
	const char *type, *msg;

	switch (status) {
	case 400: type = "invalid_request_error"; msg = "fake: invalid request"; break;
	case 401: type = "authentication_error"; msg = "fake: invalid x-api-key"; break;
	case 403: type = "permission_error"; msg = "fake: permission denied"; break;
	case 404: type = "not_found_error"; msg = "fake: model not found"; break;
	case 429: type = "rate_limit_error"; msg = "fake: rate limited"; break;
	case 529: type = "overloaded_error"; msg = "Overloaded"; break;
	default: type = "api_error"; msg = "fake: internal server error"; break;
	}
	if (anthropic)
		return json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error", "type", type,
				 "message", msg);
	return json_pack("{s:{s:s, s:s, s:n}}", "error", "message", msg, "type", type, "code");
}

static json_t *envelope(bool anthropic, const char *model, long n, const char *text,
			const char *tool_name, json_t *tool_input, size_t in_bytes)
{
	json_int_t in = (json_int_t)(in_bytes / 4 + 1);
	json_int_t out = (json_int_t)((text ? strlen(text) : 0) / 4 + 1);
	json_t *r;

	if (tool_input) {
		char *s = fl_json_dumps(tool_input);

		out = (json_int_t)(strlen(s) / 4 + 1);
		free(s);
	}
	if (anthropic) {
		json_t *content = json_array();

		if (text)
			json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text", "text", text));
		if (tool_input)
			json_array_append_new(content, json_pack("{s:s, s:s+, s:s, s:O}", "type", "tool_use",
								 "id", "toolu_fake_", tool_name, "name",
								 tool_name, "input", tool_input));
		r = json_pack("{s:s+, s:s, s:s, s:s, s:o, s:s, s:n, s:{s:I, s:I}}",
			      "id", "msg_fake_", model, "type", "message", "role", "assistant",
			      "model", model, "content", content,
			      "stop_reason", tool_input ? "tool_use" : "end_turn", "stop_sequence",
			      "usage", "input_tokens", in, "output_tokens", out);
	} else {
		json_t *msg = json_pack("{s:s, s:s?}", "role", "assistant", "content", text);

		if (!text)
			json_object_set_new(msg, "content", json_null());
		if (tool_input) {
			char *args = fl_json_dumps(tool_input);

			json_object_set_new(msg, "tool_calls",
					    json_pack("[{s:s, s:s, s:{s:s, s:s}}]", "id", "call_fake", "type",
						      "function", "function", "name", tool_name,
						      "arguments", args));
			free(args);
		}
		r = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:s}], s:{s:I, s:I, s:I}}",
			      "id", "chatcmpl-fake", "object", "chat.completion",
			      "created", (json_int_t)(fl_wall_us() / 1000000), "model", model,
			      "choices", "index", 0, "message", msg,
			      "finish_reason", tool_input ? "tool_calls" : "stop",
			      "usage", "prompt_tokens", in, "completion_tokens", out, "total_tokens", in + out);
	}
	(void)n;
	return r;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	char *lower = fl_strdup(key), *p;

	(void)kind;
	for (p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	json_object_set_new(cls, lower, json_string(value ? value : ""));
	free(lower);
	return MHD_YES;
}

static enum MHD_Result model_request(struct fake_llm *f, struct MHD_Connection *c, bool anthropic,
				     const char *url, const struct fl_buf *raw)
{
	json_t *req = json_loadb(raw->buf, raw->len, 0, NULL), *schema = NULL, *data, *obj, *reply;
	const char *model = fl_json_str(req, "model", "fake-model"), *tool_name = NULL;
	struct fl_buf text = FL_BUF_INIT;
	char *behaviour = NULL, *retry_after = NULL, *out_text = NULL;
	enum MHD_Result rc;
	int latency, slow;
	long n, slot;

	if (!json_is_object(req)) {
		json_decref(req);
		return send_json(c, 400, error_body(anthropic, 400), NULL);
	}
	pthread_mutex_lock(&f->lock);
	if (f->qlen) {
		behaviour = f->queue[f->qhead++];
		if (!--f->qlen)
			f->qhead = 0;
	} else if (fl_str_has_prefix(model, "fake-") && fake_llm_behaviour_known(model + 5)) {
		behaviour = fl_strdup(model + 5);
	} else {
		behaviour = fl_strdup(f->default_behaviour);
	}
	n = f->requests++;
	slot = n % LOG_KEEP;
	json_decref(f->log[slot]);
	free(f->log_behaviour[slot]);
	f->log[slot] = json_pack("{s:s, s:o, s:O}", "path", url, "headers", json_object(), "body", req);
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, json_object_get(f->log[slot], "headers"));
	f->log_behaviour[slot] = fl_strdup(behaviour);
	if (++f->concurrent > f->max_concurrent)
		f->max_concurrent = f->concurrent;
	latency = f->latency_ms;
	slow = f->slow_ms;
	retry_after = f->retry_after ? fl_strdup(f->retry_after) : NULL;
	pthread_mutex_unlock(&f->lock);

	if (latency)
		wait_ms(f, latency);
	if (!strcmp(behaviour, "slow"))
		wait_ms(f, slow);
	if (!strcmp(behaviour, "hang"))
		wait_ms(f, HANG_MAX_MS);

	if (fl_str_has_prefix(behaviour, "http_")) {
		unsigned status = (unsigned)strtoul(behaviour + 5, NULL, 10);

		rc = send_json(c, status, error_body(anthropic, status),
			       status == 429 || status == 529 ? retry_after : NULL);
		goto out;
	}
	if (!strcmp(behaviour, "reject_format")) {
		const char *msg = anthropic ? "tools: tool use is not supported by this model"
					    : "response_format is not supported by this model";

		rc = send_json(c, 400, anthropic ? json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
							     "type", "invalid_request_error", "message", msg)
						 : json_pack("{s:{s:s, s:s}}", "error", "message", msg,
							     "type", "invalid_request_error"), NULL);
		goto out;
	}
	if (!strcmp(behaviour, "garbage")) {
		rc = send_text(c, 200, "this is not JSON");
		goto out;
	}
	prompt_text(req, &text);
	schema = request_schema(req, text.buf, &tool_name);
	data = fake_llm_data_block(text.buf, NULL);
	obj = schema ? fake_llm_generate(schema, data) : json_pack("{s:b}", "ok", 1);
	json_decref(data);
	if (!strcmp(behaviour, "bad_enum"))
		break_enum(obj, schema);
	if (!strcmp(behaviour, "bad_citation") && json_object_get(obj, "articles_referenced"))
		json_object_set_new(obj, "articles_referenced", json_pack("[s]", "kb_not_given"));
	if (!strcmp(behaviour, "benign"))
		make_benign(obj);
	if (!strcmp(behaviour, "injected")) {
		json_object_set_new(obj, "status", json_string("resolved"));
		json_object_set_new(obj, "action", json_string("close_ticket"));
	}
	if (!strcmp(behaviour, "fence")) {
		char *s = json_dumps(obj, JSON_INDENT(2));

		out_text = fl_asprintf("```json\n%s\n```", s);
		free(s);
	} else if (!strcmp(behaviour, "prose")) {
		char *s = fl_json_dumps(obj);

		out_text = fl_asprintf("Here is the analysis you asked for:\n%s\nLet me know if anything "
				       "else is needed.", s);
		free(s);
	} else if (!strcmp(behaviour, "invalid_json")) {
		char *s = fl_json_dumps(obj);

		out_text = fl_strndup(s, strlen(s) / 2);
		free(s);
	} else if (!tool_name) {
		out_text = fl_json_dumps(obj);
	}
	reply = envelope(anthropic, model, n, out_text, tool_name, out_text ? NULL : obj, raw->len);
	json_decref(obj);
	if (!strcmp(behaviour, "drop"))
		rc = send_dropped(c, reply);
	else
		rc = send_json(c, 200, reply, NULL);
out:
	pthread_mutex_lock(&f->lock);
	f->concurrent--;
	pthread_mutex_unlock(&f->lock);
	fl_buf_release(&text);
	json_decref(schema);
	json_decref(req);
	free(behaviour);
	free(retry_after);
	free(out_text);
	return rc;
}

static enum MHD_Result control_request(struct fake_llm *f, struct MHD_Connection *c,
				       const char *url, const char *method, const struct fl_buf *body)
{
	if (!strcmp(method, "GET") && !strcmp(url, "/_fake/stats")) {
		json_t *s;

		pthread_mutex_lock(&f->lock);
		s = json_pack("{s:I, s:i, s:i, s:i, s:s}", "requests", (json_int_t)f->requests,
			      "max_concurrent", f->max_concurrent, "queued", (int)f->qlen,
			      "latency_ms", f->latency_ms, "default", f->default_behaviour);
		pthread_mutex_unlock(&f->lock);
		return send_json(c, 200, s, NULL);
	}
	if (strcmp(method, "POST"))
		return send_json(c, 405, json_pack("{s:s}", "error", "method not allowed"), NULL);
	if (!strcmp(url, "/_fake/script")) {
		fake_llm_script(f, body->buf);
	} else if (!strcmp(url, "/_fake/default")) {
		size_t n = body->len;
		const char *t = fl_str_trim(body->buf, &n);
		char *b = fl_strndup(t, n);

		fake_llm_set_default(f, b);
		free(b);
	} else if (!strcmp(url, "/_fake/latency")) {
		int64_t ms;
		size_t n = body->len;
		const char *t = fl_str_trim(body->buf, &n);
		char *b = fl_strndup(t, n);

		if (!fl_parse_int64(b, 0, 600000, &ms))
			fake_llm_set_latency_ms(f, (int)ms);
		free(b);
	} else if (!strcmp(url, "/_fake/reset")) {
		fake_llm_reset(f);
	} else {
		return send_json(c, 404, json_pack("{s:s}", "error", "no such control"), NULL);
	}
	return send_json(c, 200, json_pack("{s:b}", "ok", 1), NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct fake_llm *f = cls;
	struct conn *st = *con_cls;

	(void)version;
	if (!st) {
		st = fl_calloc(1, sizeof(*st));
		fl_buf_init(&st->body, 1024);
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size) {
		fl_buf_add(&st->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (fl_str_has_prefix(url, "/_fake/"))
		return control_request(f, c, url, method, &st->body);
	if (strcmp(method, "POST"))
		return send_json(c, 405, json_pack("{s:s}", "error", "method not allowed"), NULL);
	if (!strcmp(url, "/v1/messages"))
		return model_request(f, c, true, url, &st->body);
	if (!strcmp(url, "/v1/chat/completions") || !strcmp(url, "/chat/completions"))
		return model_request(f, c, false, url, &st->body);
	return send_json(c, 404, json_pack("{s:{s:s}}", "error", "message", "fake: no such endpoint"), NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn *st = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (st) {
		fl_buf_release(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

struct fake_llm *fake_llm_start(int port, char **err)
{
	struct fake_llm *f = fl_calloc(1, sizeof(*f));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	pthread_condattr_t attr;

	*err = NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &attr);
	pthread_condattr_destroy(&attr);
	f->default_behaviour = fl_strdup("ok");
	f->retry_after = fl_strdup("1");
	f->slow_ms = 1000;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				     MHD_USE_POLL,
				     0, NULL, NULL, on_request, f,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				     MHD_OPTION_END);
	if (!f->daemon) {
		*err = fl_asprintf("cannot start fake_llm on 127.0.0.1:%d: %s", port, strerror(errno));
		fake_llm_stop(f);
		return NULL;
	}
	info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	f->port = info ? info->port : port;
	return f;
}

void fake_llm_stop(struct fake_llm *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	if (f->daemon)
		MHD_stop_daemon(f->daemon);
	fake_llm_reset(f);
	free(f->queue);
	free(f->default_behaviour);
	free(f->retry_after);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int fake_llm_port(const struct fake_llm *f)
{
	return f->port;
}

char *fake_llm_url(const struct fake_llm *f, const char *protocol)
{
	if (protocol && !strcmp(protocol, "openai"))
		return fl_asprintf("http://127.0.0.1:%d/v1", f->port);
	return fl_asprintf("http://127.0.0.1:%d", f->port);
}
