/*
 * The OpenAI-compatible Chat Completions API: POST {base}/chat/completions
 * with Authorization: Bearer; the system prompt is the first message;
 * structured output by response_format ({"type": "json_object"} or
 * "json_schema"), a forced function call, or the prompt alone. The reply is
 * choices[0].message.content (or .tool_calls[0].function.arguments, a JSON
 * string); usage.prompt_tokens and usage.completion_tokens count the tokens.
 * Spoken by OpenAI, io.net, vLLM, llama.cpp's server and Ollama; their error
 * bodies differ ({"error": {"message"}}, {"error": "..."}, {"detail": ...}),
 * so all are read.
 */
#include <string.h>

#include "llm_int.h"

static char *openai_endpoint(const char *base)
{
	return fl_asprintf("%s/chat/completions", base);
}

static struct curl_slist *openai_headers(struct curl_slist *list, const struct llm__auth *auth)
{
	if (auth->api_key && *auth->api_key) {
		char *h = fl_asprintf("Authorization: Bearer %s", auth->api_key);

		list = curl_slist_append(list, h);
		free(h);
	}
	return list;
}

static json_t *openai_body(const struct llm__request *req)
{
	json_t *b = json_object(), *msgs = json_array(), *m;
	size_t i;

	json_object_set_new(b, "model", json_string(req->model));
	if (req->system)
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system",
						      "content", req->system));
	json_array_foreach(req->messages, i, m)
		json_array_append_new(msgs, json_deep_copy(m));
	json_object_set_new(b, "messages", msgs);
	json_object_set_new(b, "max_tokens", json_integer(req->max_tokens));
	json_object_set_new(b, "temperature", json_real(req->temperature));
	if (!req->schema)
		return b;
	switch (req->mode) {
	case LLM__MODE_JSON_OBJECT:
		json_object_set_new(b, "response_format", json_pack("{s:s}", "type", "json_object"));
		break;
	case LLM__MODE_JSON_SCHEMA:
		json_object_set_new(b, "response_format",
				    json_pack("{s:s, s:{s:s, s:o, s:b}}", "type", "json_schema",
					      "json_schema", "name", req->tool_name,
					      "schema", json_deep_copy(req->schema), "strict", 0));
		break;
	case LLM__MODE_TOOL:
		json_object_set_new(b, "tools",
				    json_pack("[{s:s, s:{s:s, s:s, s:o}}]", "type", "function",
					      "function", "name", req->tool_name, "description",
					      req->tool_description ? req->tool_description : "",
					      "parameters", json_deep_copy(req->schema)));
		json_object_set_new(b, "tool_choice",
				    json_pack("{s:s, s:{s:s}}", "type", "function", "function",
					      "name", req->tool_name));
		break;
	case LLM__MODE_PROMPT:
		break;
	}
	return b;
}

static int openai_parse(const json_t *body, const struct llm__request *req,
			struct llm__reply *out, char **err)
{
	const json_t *choice = json_array_get(json_object_get(body, "choices"), 0);
	const json_t *msg = json_object_get(choice, "message");
	const json_t *usage = json_object_get(body, "usage");
	const json_t *calls = json_object_get(msg, "tool_calls");
	const char *content = fl_json_str(msg, "content", NULL);

	(void)req;
	if (!json_is_object(msg)) {
		*err = fl_strdup("the response has no 'choices[0].message'");
		return -1;
	}
	if (json_array_size(calls)) {
		const json_t *fn = json_object_get(json_array_get(calls, 0), "function");
		const char *args = fl_json_str(fn, "arguments", NULL);
		json_t *input = args ? json_loads(args, 0, NULL) : NULL;

		if (json_is_object(input)) {
			out->tool_input = input;
		} else {
			/* not an object: hand the text to extraction and repair */
			json_decref(input);
			if (args && !content)
				content = args;
		}
	}
	out->text = fl_strdup(content ? content : "");
	out->model = fl_strdup(fl_json_str(body, "model", NULL));
	out->stop_reason = fl_strdup(fl_json_str(choice, "finish_reason", NULL));
	out->input_tokens = fl_json_int(usage, "prompt_tokens", 0);
	out->output_tokens = fl_json_int(usage, "completion_tokens", 0);
	return 0;
}

static char *openai_error_message(const json_t *body)
{
	const json_t *e = json_object_get(body, "error");
	const json_t *detail = json_object_get(body, "detail");

	if (json_is_object(e) && fl_json_str(e, "message", NULL))
		return fl_strdup(fl_json_str(e, "message", NULL));
	if (json_is_string(e))
		return fl_strdup(json_string_value(e));
	if (json_is_string(detail))
		return fl_strdup(json_string_value(detail));
	if (detail)
		return fl_json_dumps(detail);
	if (fl_json_str(body, "message", NULL))
		return fl_strdup(fl_json_str(body, "message", NULL));
	return NULL;
}

const struct llm__provider_ops llm__openai_ops = {
	.version = 1,
	.name = "openai",
	.endpoint = openai_endpoint,
	.headers = openai_headers,
	.body = openai_body,
	.parse = openai_parse,
	.error_message = openai_error_message,
};
