/*
 * The Anthropic Messages API: POST {base}/v1/messages with x-api-key and
 * anthropic-version; the system prompt is a top-level field; structured
 * output is a forced tool call (tool_choice {"type": "tool"}) whose input is
 * the object, or JSON asked for in the prompt. The reply's content is an
 * array of blocks ("text", "tool_use"); usage.input_tokens and
 * usage.output_tokens count the tokens. Errors come as
 * {"type": "error", "error": {"type", "message"}}.
 * Also spoken by Z.ai's Anthropic-compatible endpoint.
 */
#include <string.h>

#include "llm_int.h"

#define ANTHROPIC_VERSION "2023-06-01"

static char *anthropic_endpoint(const char *base)
{
	/* "https://api.z.ai/api/anthropic/v1" and ".../anthropic" both work */
	if (fl_str_has_suffix(base, "/v1"))
		return fl_asprintf("%s/messages", base);
	return fl_asprintf("%s/v1/messages", base);
}

static struct curl_slist *anthropic_headers(struct curl_slist *list, const struct llm__auth *auth)
{
	list = curl_slist_append(list, "anthropic-version: " ANTHROPIC_VERSION);
	if (auth->api_key && *auth->api_key) {
		char *h = fl_asprintf("x-api-key: %s", auth->api_key);

		list = curl_slist_append(list, h);
		free(h);
		if (auth->bearer) {
			h = fl_asprintf("Authorization: Bearer %s", auth->api_key);
			list = curl_slist_append(list, h);
			free(h);
		}
	}
	return list;
}

static json_t *anthropic_body(const struct llm__request *req)
{
	json_t *b = json_object();

	json_object_set_new(b, "model", json_string(req->model));
	json_object_set_new(b, "max_tokens", json_integer(req->max_tokens));
	json_object_set_new(b, "temperature", json_real(req->temperature));
	if (req->system)
		json_object_set_new(b, "system", json_string(req->system));
	json_object_set_new(b, "messages", json_deep_copy(req->messages));
	if (req->schema && req->mode == LLM__MODE_TOOL) {
		json_t *tool = json_object();

		json_object_set_new(tool, "name", json_string(req->tool_name));
		if (req->tool_description)
			json_object_set_new(tool, "description", json_string(req->tool_description));
		json_object_set_new(tool, "input_schema", json_deep_copy(req->schema));
		json_object_set_new(b, "tools", json_pack("[o]", tool));
		json_object_set_new(b, "tool_choice",
				    json_pack("{s:s, s:s}", "type", "tool", "name", req->tool_name));
	}
	return b;
}

static int anthropic_parse(const json_t *body, const struct llm__request *req,
			   struct llm__reply *out, char **err)
{
	const json_t *content = json_object_get(body, "content");
	const json_t *usage = json_object_get(body, "usage");
	struct fl_buf text = FL_BUF_INIT;
	json_t *block;
	size_t i;

	if (!json_is_array(content)) {
		*err = fl_strdup("the response has no 'content' array");
		return -1;
	}
	json_array_foreach(content, i, block) {
		const char *type = fl_json_str(block, "type", "");

		if (!strcmp(type, "text")) {
			fl_buf_adds(&text, fl_json_str(block, "text", ""));
		} else if (!strcmp(type, "tool_use") && !out->tool_input) {
			json_t *input = json_object_get(block, "input");

			if (req->tool_name && !fl_str_eq(fl_json_str(block, "name", NULL), req->tool_name))
				continue;
			if (json_is_object(input))
				out->tool_input = json_incref(input);
		}
	}
	out->text = fl_buf_detach(&text, NULL);
	out->model = fl_strdup(fl_json_str(body, "model", NULL));
	out->stop_reason = fl_strdup(fl_json_str(body, "stop_reason", NULL));
	out->input_tokens = fl_json_int(usage, "input_tokens", 0);
	out->output_tokens = fl_json_int(usage, "output_tokens", 0);
	return 0;
}

static char *anthropic_error_message(const json_t *body)
{
	const json_t *e = json_object_get(body, "error");
	const char *type = fl_json_str(e, "type", NULL), *msg = fl_json_str(e, "message", NULL);

	if (!msg && json_is_string(json_object_get(body, "message")))
		msg = fl_json_str(body, "message", NULL);
	if (!msg)
		return NULL;
	return type ? fl_asprintf("%s: %s", type, msg) : fl_strdup(msg);
}

const struct llm__provider_ops llm__anthropic_ops = {
	.version = 1,
	.name = "anthropic",
	.endpoint = anthropic_endpoint,
	.headers = anthropic_headers,
	.body = anthropic_body,
	.parse = anthropic_parse,
	.error_message = anthropic_error_message,
};
