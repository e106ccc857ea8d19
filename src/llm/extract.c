/*
 * Finding the JSON object in a model's reply. Models asked for "JSON only"
 * still wrap it in ```json fences or a sentence of prose; this accepts, in
 * order: the whole reply, the first fenced block that holds an object, the
 * first '{' from which jansson parses an object (JSON_DISABLE_EOF_CHECK
 * stops at the end of the value, so trailing prose does not matter).
 */
#include <string.h>

#include "llm_int.h"

#define MAX_CANDIDATES 256

static json_t *parse_object(const char *p, size_t n, size_t flags, json_error_t *jerr)
{
	json_t *v = json_loadb(p, n, flags, jerr);

	if (v && !json_is_object(v)) {
		json_decref(v);
		snprintf(jerr->text, sizeof(jerr->text), "the JSON value is not an object");
		return NULL;
	}
	return v;
}

/* The content of the fenced block starting at the "```" at p, or NULL. */
static const char *fence_body(const char *p, const char *end, size_t *len)
{
	const char *body, *close;

	p += 3;
	while (p < end && *p != '\n')  /* language tag */
		p++;
	if (p >= end)
		return NULL;
	body = p + 1;
	close = memmem(body, (size_t)(end - body), "```", 3);
	if (!close)
		return NULL;
	*len = (size_t)(close - body);
	return body;
}

json_t *llm_extract_json(const char *text, size_t len, char **err)
{
	const char *p, *end, *trimmed;
	json_error_t jerr, first_err;
	bool have_err = false;
	size_t n = len;
	json_t *v;
	int tries = 0;

	*err = NULL;
	if (!text || !len) {
		*err = fl_strdup("the reply is empty");
		return NULL;
	}
	end = text + len;
	trimmed = fl_str_trim(text, &n);
	if (n && trimmed[0] == '{') {
		v = parse_object(trimmed, n, 0, &jerr);
		if (v)
			return v;
	}
	for (p = memmem(text, len, "```", 3); p; p = memmem(p, (size_t)(end - p), "```", 3)) {
		size_t blen;
		const char *body = fence_body(p, end, &blen);

		if (!body)
			break;
		trimmed = fl_str_trim(body, &blen);
		if (blen && trimmed[0] == '{') {
			v = parse_object(trimmed, blen, 0, &jerr);
			if (v)
				return v;
		}
		p = body + blen + 3;
		if (p >= end)
			break;
	}
	for (p = memchr(text, '{', len); p && tries < MAX_CANDIDATES;
	     p = memchr(p + 1, '{', (size_t)(end - p - 1)), tries++) {
		v = parse_object(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, &jerr);
		if (v)
			return v;
		if (!have_err) {
			first_err = jerr;
			have_err = true;
		}
		if (p + 1 >= end)
			break;
	}
	if (have_err)
		*err = fl_asprintf("the reply has no valid JSON object: %s (line %d, column %d)",
				   first_err.text, first_err.line, first_err.column);
	else
		*err = fl_strdup("the reply has no JSON object");
	return NULL;
}
