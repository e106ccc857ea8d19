/*
 * fake_llm: a loopback HTTP server that speaks both LLM wire protocols well
 * enough for Frontline's real client, with scripted misbehaviour. Tests start
 * it in-process on a free port (fake_llm_start(0)); the fake_llm program runs
 * it stand-alone for the CLI tests and the benchmark.
 *
 * Endpoints: POST /v1/messages (Anthropic Messages), POST /v1/chat/completions
 * and /chat/completions (OpenAI Chat Completions). Control over HTTP:
 * POST /_fake/script (body: behaviours, comma-separated, appended to the
 * queue), POST /_fake/default (body: a behaviour), POST /_fake/latency (body:
 * ms), POST /_fake/reset, GET /_fake/stats.
 *
 * A correct reply is generated from the JSON Schema the request carries (the
 * tool's input_schema, response_format's json_schema, or the text after
 * "JSON Schema:" in the prompt) and the data block of the prompt (labels
 * follow a few keywords of the ticket; articles_referenced cites the first
 * article given). Without a schema the reply is {"ok": true}.
 *
 * Behaviours, chosen per request: the head of the scripted queue, else the
 * model name when it is "fake-<behaviour>", else the default ("ok"):
 *   ok            the object, as a tool call when tools were offered, else text
 *   fence         the object in a ```json code fence
 *   prose         a sentence, the object, another sentence
 *   invalid_json  the object's text cut in half
 *   bad_enum      the first enum-valued field set to "not_a_label"
 *   bad_citation  articles_referenced = ["kb_not_given"] (when the reply has that field)
 *   benign        valid, with the mildest labels (a model that obeyed "mark this resolved")
 *   injected      the object plus "status": "resolved", "action": "close_ticket"
 *   garbage       HTTP 200 whose body is not JSON
 *   reject_format HTTP 400 saying response_format (openai) or tools (anthropic) are not supported
 *   http_NNN      HTTP NNN with the protocol's error body (429 with Retry-After)
 *   hang          no reply until the server stops (or 30 s)
 *   drop          HTTP 200 whose connection closes halfway through the body
 *   slow          ok, after the slow delay (default 1000 ms) on top of the latency
 * Every request first waits the configured latency (default 0).
 */
#ifndef FL_FAKE_LLM_H
#define FL_FAKE_LLM_H

#include <stdbool.h>
#include <jansson.h>

struct fake_llm;

/* Starts the server on 127.0.0.1:port (0: a free port). NULL with *err on failure. */
struct fake_llm *fake_llm_start(int port, char **err);
/* Wakes hanging requests, stops the server, frees it. NULL is fine. */
void fake_llm_stop(struct fake_llm *f);
int fake_llm_port(const struct fake_llm *f);
/* The base URL for protocol "anthropic" or "openai" (…/v1). Caller frees. */
char *fake_llm_url(const struct fake_llm *f, const char *protocol);

/* True for the behaviour names above (http_NNN with 100 <= NNN <= 599). */
bool fake_llm_behaviour_known(const char *name);
/* Appends behaviours (comma-separated) to the queue; unknown names are ignored with a warning. */
void fake_llm_script(struct fake_llm *f, const char *behaviours);
void fake_llm_set_default(struct fake_llm *f, const char *behaviour);
void fake_llm_set_latency_ms(struct fake_llm *f, int ms);
void fake_llm_set_slow_ms(struct fake_llm *f, int ms);
/* The Retry-After header value sent with 429 and 529 (default "1"; NULL: none). */
void fake_llm_set_retry_after(struct fake_llm *f, const char *value);
/* Clears the queue, the counters and the request log. */
void fake_llm_reset(struct fake_llm *f);

/* Requests received on the model endpoints. */
long fake_llm_requests(struct fake_llm *f);
/* Most model requests being handled at once. */
int fake_llm_max_concurrent(struct fake_llm *f);
/*
 * Request i (0-based; negative counts from the last) as {"path", "headers"
 * (names in lower case), "body"}, or NULL when it is no longer kept (the
 * last 64 are). Caller owns it.
 */
json_t *fake_llm_request(struct fake_llm *f, long i);
/* The behaviour applied to request i, as above. Caller frees; NULL if gone. */
char *fake_llm_request_behaviour(struct fake_llm *f, long i);

/* ---- reply generation (gen.c), also used by the tests ---- */

/* The instance of schema that a correct model would give for data (may be NULL). */
json_t *fake_llm_generate(const json_t *schema, const json_t *data);
/* The JSON between <<<DATA-token>>> and <<<END-token>>> in text, or NULL. */
json_t *fake_llm_data_block(const char *text, char **token);

#endif
