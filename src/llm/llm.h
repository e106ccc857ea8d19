/*
 * llm: Frontline's LLM client.
 *
 * One client per process, created from the configuration and shared by every
 * thread (it is thread-safe). It speaks two wire protocols through a provider
 * ops table: Anthropic's Messages API (POST {base}/v1/messages) and the
 * OpenAI-compatible Chat Completions API (POST {base}/chat/completions),
 * which covers io.net, OpenAI, vLLM, llama.cpp's server and Ollama.
 *
 * Callers make structured calls, llm_call(): a task's spec (its name,
 * instructions and the JSON Schema of its reply) and its data. The client
 * builds the prompt, with the data as quoted data inside an unforgeable
 * delimiter; sends it with retries
 * (timeouts, 408, 409, 429, 5xx and 529, exponential backoff with full
 * jitter, Retry-After honoured) under a process-wide bound on requests in
 * flight; extracts the JSON object from the reply (tool use, code fences,
 * prose around it); validates it against the task's JSON schema; on failure
 * asks once for a repair quoting the validation error; and reports tokens,
 * latency, retries and cost. When the LLM fails, the caller falls back to the
 * built-in analyzer: this module never guesses an answer.
 *
 * What it leaves to others: the tasks themselves, their schemas, prompts and
 * data (support's are in src/support/llm_tasks.c: llm knows nothing of
 * tickets), deciding escalation (the rules table in support/), persisting
 * the per-call accounting (the analysis), exporting the cumulative counters
 * (monitor/ reads llm_client_stats()). docs/LLM.md describes configuration,
 * schemas, retry policy and prompt safety.
 */
#ifndef FL_LLM_H
#define FL_LLM_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define LLM_ERRNO_MAP(X) \
	X(OK, "success") \
	X(ENOTCONFIGURED, "llm not configured") \
	X(ECONFIG, "invalid llm configuration") \
	X(EINVAL, "invalid argument") \
	X(ECONNECT, "cannot connect to the llm endpoint") \
	X(ETIMEDOUT, "llm request timed out") \
	X(ENETWORK, "connection to the llm endpoint failed") \
	X(EAUTH, "llm endpoint rejected the api key") \
	X(EPERM, "llm endpoint denied access") \
	X(ENOTFOUND, "llm endpoint or model not found") \
	X(EBADREQUEST, "llm endpoint rejected the request") \
	X(ERATELIMIT, "llm rate limit exceeded") \
	X(EOVERLOADED, "llm endpoint overloaded") \
	X(ESERVER, "llm endpoint server error") \
	X(EHTTP, "unexpected http status from the llm endpoint") \
	X(EPROTOCOL, "malformed response from the llm endpoint") \
	X(ENOJSON, "llm reply contains no json object") \
	X(EINVALID, "llm reply failed schema validation")

enum llm_err {
#define LLM_ENUM(name, text) LLM_##name,
	LLM_ERRNO_MAP(LLM_ENUM)
#undef LLM_ENUM
};

/* "llm request timed out" etc.; "unknown error" outside the enum. */
const char *llm_strerror(int rc);
/* "LLM_ETIMEDOUT" etc.; "LLM_UNKNOWN" outside the enum. */
const char *llm_errname(int rc);

/* ---- structured calls ---- */

/*
 * What one structured call asks, all borrowed:
 *   name          the task's name: in the prompt ("Task: triage"), as the
 *                 tool or response format's name, in the accounting;
 *   description   one line for the tool or response format (NULL: name);
 *   role          the system prompt's first line: who the model is;
 *   data          what the data block holds, in words ("a support ticket");
 *   instructions  the task, after "Task: <name>" in the system prompt;
 *   schema        the reply's JSON Schema, in the subset that
 *                 llm_schema_validate() understands (llm_schema_check).
 */
struct llm_spec {
	const char *name;
	const char *description;
	const char *role;
	const char *data;
	const char *instructions;
	const json_t *schema;
};

/* ---- the JSON Schema subset and reply extraction (usable on their own) ---- */

/*
 * Validates value against schema. Keywords: type (a name or an array of
 * names), enum, const, properties, required, additionalProperties (false or
 * a schema), items, minItems, maxItems, uniqueItems, minLength, maxLength
 * (code points), minimum, maximum; title and description are ignored.
 * Returns 0, or -1 with *err (caller frees) naming the first violation and
 * its JSON pointer: "at '/sentiment': 'furious' is not one of ...".
 */
int llm_schema_validate(const json_t *schema, const json_t *value, char **err);
/* Checks that schema uses only the keywords above. 0, or -1 with *err. */
int llm_schema_check(const json_t *schema, char **err);
/*
 * The JSON object in a model's reply: the whole text, else the first fenced
 * code block holding an object, else the first object found in the prose.
 * Returns a new reference, or NULL with *err (caller frees) saying why.
 */
json_t *llm_extract_json(const char *text, size_t len, char **err);

/* ---- the client ---- */

struct llm_client;

/*
 * Everything a client needs; llm_settings_from_config() fills it from the
 * configuration. Strings are borrowed by llm_client_new(), which copies them.
 */
struct llm_settings {
	const char *provider;       /* anthropic, io_net, z_ai, openai, ollama; NULL: from base_url */
	const char *base_url;       /* NULL: the provider's default */
	const char *api_key;        /* NULL or "": no key (local servers) */
	const char *api_key_source; /* config key the key came from, for display */
	const char *model;          /* NULL: the provider's default, if it has one */
	const char *output_mode;    /* auto, tool, json_schema, json_object, prompt */
	const char *prices;         /* "model=in:out,..." USD per million tokens; '*' suffix matches a prefix */
	int64_t timeout_ms;         /* whole request (default 60000) */
	int64_t connect_timeout_ms; /* default 10000 */
	int max_retries;            /* retries after the first attempt (default 3) */
	int64_t backoff_base_ms;    /* first backoff ceiling (default 500) */
	int64_t backoff_max_ms;     /* backoff ceiling (default 8000) */
	int64_t retry_after_max_ms; /* a longer Retry-After ends the retries (default 60000) */
	int max_inflight;           /* requests in flight across the client (default 16) */
	int max_tokens;             /* reply budget per request (default 1024) */
	double temperature;         /* default 0 */
	/* Backoff sleeps go through this when set (tests record them instead). */
	void (*sleep_us)(void *arg, int64_t us);
	void *sleep_arg;
};

/* Defaults everywhere, nothing configured. */
void llm_settings_init(struct llm_settings *s);
/*
 * From the configuration: API_KEY, ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN
 * (first set wins), ANTHROPIC_BASE_URL, ANTHROPIC_MODEL or CLAUDE_MODEL,
 * CLAUDE_PROVIDER, FRONTLINE_LLM_* . Strings point into the configuration.
 */
void llm_settings_from_config(struct llm_settings *s);

/*
 * A new client. Returns LLM_OK; LLM_ENOTCONFIGURED (with *out NULL and no
 * message) when neither a key nor a base URL nor the ollama provider is set;
 * LLM_ECONFIG with *err (caller frees) for an unknown provider, a bad URL,
 * no model, a malformed price table or out-of-range numbers.
 */
int llm_client_new(struct llm_client **out, const struct llm_settings *s, char **err);
/* llm_client_new(llm_settings_from_config()). */
int llm_client_from_config(struct llm_client **out, char **err);
/* Frees the client (NULL is fine). No call may be running. */
void llm_client_free(struct llm_client *c);

/*
 * The effective configuration, for display: {provider, protocol, base_url,
 * endpoint, model, api_key (masked), api_key_source, output_mode,
 * timeout_ms, connect_timeout_ms, max_retries, max_inflight, max_tokens,
 * temperature, price_in_per_mtok, price_out_per_mtok}. Caller owns it.
 */
json_t *llm_client_describe(const struct llm_client *c);

/*
 * One structured call: spec (borrowed) says what is asked, data (borrowed)
 * is the object put in the prompt's data block, as untrusted data. On
 * LLM_OK *output is the reply's object, valid against spec->schema (caller
 * owns). *call_info, when call_info is not NULL, is set whenever a request
 * was sent, also on failure (tokens spent on a failed call still count):
 * {task (spec->name), provider, protocol, model, latency_ms, requests,
 * input_tokens, output_tokens, retries, cost_usd, repaired, error?}; caller
 * owns it. On failure returns the error code with *err (caller frees): a
 * transport error after the retries, or LLM_ENOJSON / LLM_EINVALID after
 * one repair request; LLM_EINVAL for an incomplete spec, sending nothing.
 */
int llm_call(struct llm_client *c, const struct llm_spec *spec, const json_t *data,
	     json_t **output, json_t **call_info, char **err);

/*
 * One tiny request ("reply with {"ok": true}") to check the endpoint, key and
 * model. On LLM_OK *info (caller owns) is {latency_ms, model (as reported by
 * the server), input_tokens, output_tokens, retries, reply}; on failure the
 * error code and *err.
 */
int llm_ping(struct llm_client *c, json_t **info, char **err);

/*
 * Cumulative counters since the client was created (caller owns the
 * object): {provider, model, calls, calls_ok, calls_failed, requests,
 * retries, repairs, repairs_ok, input_tokens, output_tokens, cost_usd,
 * latency_ms_sum, latency_ms_max, inflight, inflight_max, max_inflight,
 * errors: {LLM_E...: n}, tasks: {name: {calls, ok, failed}} (by spec name,
 * in the order first called; at most LLM_STATS_TASKS names, the rest
 * counted under "other"),
 * latency_buckets: {le_seconds: [...], counts: [...]} (cumulative, Prometheus style)}.
 */
json_t *llm_client_stats(struct llm_client *c);
#define LLM_STATS_TASKS 16

#endif
