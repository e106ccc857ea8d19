/*
 * llm internals: the provider ops table, the request and reply that travel
 * between the client and a provider, prompts. The HTTP transfer is util's
 * fl_http_post.
 * Only client.c calls the provider ops.
 */
#ifndef FL_LLM_INT_H
#define FL_LLM_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>

#include "llm.h"
#include "util/util.h"

/* How a request asks for structured output. */
enum llm__mode {
	LLM__MODE_TOOL,        /* a forced tool call whose input is the object */
	LLM__MODE_JSON_SCHEMA, /* OpenAI response_format json_schema */
	LLM__MODE_JSON_OBJECT, /* OpenAI response_format json_object */
	LLM__MODE_PROMPT,      /* the prompt alone asks for JSON */
};

const char *llm__mode_name(enum llm__mode m);
int llm__mode_parse(const char *s); /* -1 for unknown; "auto" is not a mode */

/* One request as the client sees it, independent of the wire protocol. */
struct llm__request {
	const char *model;
	const char *system;
	const json_t *messages;       /* [{"role": "user"|"assistant", "content": "..."}] */
	const char *tool_name;        /* names the schema (tool or json_schema name) */
	const char *tool_description;
	const json_t *schema;         /* NULL: free text */
	enum llm__mode mode;
	int max_tokens;
	double temperature;
};

/* What a provider parsed out of a successful response. */
struct llm__reply {
	char *text;          /* the text blocks, concatenated ("" when none) */
	json_t *tool_input;  /* the forced tool's input, or NULL */
	char *model;         /* as reported by the server, or NULL */
	char *stop_reason;   /* stop_reason / finish_reason, or NULL */
	int64_t input_tokens, output_tokens;
};

void llm__reply_release(struct llm__reply *r);

struct llm__auth {
	const char *api_key; /* NULL: none */
	bool bearer;         /* anthropic: also send Authorization: Bearer */
};

/*
 * A wire protocol. version is bumped when methods are appended.
 */
struct llm__provider_ops {
	int version;
	const char *name;
	/* The endpoint for a base URL (no trailing slash). Caller frees. */
	char *(*endpoint)(const char *base);
	/* Appends the protocol's headers (authentication, version). */
	struct curl_slist *(*headers)(struct curl_slist *list, const struct llm__auth *auth);
	/* The request body. Caller owns it. */
	json_t *(*body)(const struct llm__request *req);
	/* Parses a 2xx body. 0, or -1 with *err. */
	int (*parse)(const json_t *body, const struct llm__request *req, struct llm__reply *out, char **err);
	/* The error message inside an error body, or NULL. Caller frees. */
	char *(*error_message)(const json_t *body);
};

extern const struct llm__provider_ops llm__anthropic_ops;
extern const struct llm__provider_ops llm__openai_ops;

/* A named provider: its protocol and defaults. */
struct llm__provider {
	const char *name;
	const struct llm__provider_ops *ops;
	const char *default_base;
	const char *default_model;  /* NULL: must be configured */
	enum llm__mode default_mode;
};

const struct llm__provider *llm__provider_find(const char *name);
/* The provider a base URL points at (never NULL). */
const struct llm__provider *llm__provider_detect(const char *base_url);
/* "anthropic, io_net, ..." (static). */
const char *llm__provider_names(void);

/* ---- the client ---- */

#define LLM__LATENCY_BUCKETS 10

struct llm__stats {
	int64_t calls, calls_ok, calls_failed, requests, retries, repairs, repairs_ok;
	int64_t input_tokens, output_tokens, latency_ms_sum, latency_ms_max;
	double cost_usd;
	int64_t errors[32];
	struct {
		char name[32];
		int64_t calls, ok, failed;
	} tasks[LLM_STATS_TASKS + 1];  /* by spec name; the last is "other" */
	int ntasks;
	int64_t latency_buckets[LLM__LATENCY_BUCKETS + 1];
	int inflight_max;
};

struct llm__price {
	char *pattern; /* exact model, or a prefix when prefix is true */
	bool prefix;
	double in_per_mtok, out_per_mtok;
};

struct llm_client {
	const struct llm__provider *provider;
	char *base_url, *endpoint, *api_key, *api_key_source, *model;
	bool bearer;
	enum llm__mode mode;
	atomic_int mode_downgraded; /* the server refused structured output: prompt only */
	int64_t timeout_ms, connect_timeout_ms, backoff_base_ms, backoff_max_ms, retry_after_max_ms;
	int max_retries, max_inflight, max_tokens;
	double temperature;
	struct llm__price *prices;
	size_t nprices;
	double price_in, price_out; /* for this client's model; < 0: unpriced */
	void (*sleep_us)(void *arg, int64_t us);
	void *sleep_arg;

	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t slot_free;
	int inflight;
	CURL **idle;              /* curl handles kept for their connections */
	size_t nidle;
	struct llm__stats stats;
};

/* Accounting of one logical call (a task run or a ping). */
struct llm__usage {
	int requests, retries;
	int64_t input_tokens, output_tokens;
	double cost_usd;
};

/*
 * Sends req with the retry policy, under the in-flight bound. On LLM_OK
 * fills *reply (caller releases). usage accumulates across calls.
 */
int llm__send(struct llm_client *c, const struct llm__request *req, struct llm__reply *reply,
	      struct llm__usage *usage, char **err);
/* Records one finished logical call (task: its spec's name; NULL for a ping) in the cumulative counters. */
void llm__stats_record(struct llm_client *c, const char *task, int rc,
		       const struct llm__usage *u, int64_t latency_ms, bool repaired, bool repair_ok);
double llm__cost(const struct llm_client *c, int64_t in, int64_t out);
int llm__prices_parse(const char *spec, struct llm__price **out, size_t *n, char **err);
void llm__prices_free(struct llm__price *p, size_t n);

/* ---- prompt.c: the safety frame ---- */

/*
 * The data block: the JSON of data with '<' and '>' escaped as \u003c and
 * \u003e (so no delimiter can appear inside it), between
 * "<<<DATA-token>>>" and "<<<END-token>>>" lines. token is 32 hex digits.
 */
void llm__data_block(struct fl_buf *b, const json_t *data, const char *token);
/* A fresh random boundary token (33 bytes with the NUL). */
void llm__boundary_token(char out[33]);
/* The system prompt for a spec and boundary token. Caller frees. */
char *llm__system_prompt(const struct llm_spec *spec, const char *token);

#endif
