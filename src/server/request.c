/*
 * Reading requests: the framing a request must have before anything else
 * is read (RFC 9112 section 6.3: one Content-Length or one
 * "Transfer-Encoding: chunked", never both, nothing else; a path without
 * encoded NUL or "/" in a segment), the checks a body goes through before
 * any handler sees it (UTF-8, nesting depth, JSON syntax with line and
 * column), the content-type test, and small accessors for path parameters,
 * query arguments, headers and body fields that answer the client's
 * mistakes with a precise 400 or 422 naming the field.
 *
 * libmicrohttpd 0.9.75 takes the first of two Content-Lengths and keeps a
 * connection that sent both a length and chunks, which is how a request is
 * smuggled past a proxy that reads the framing the other way; it waits for
 * the end of a body in a coding it does not know. So the server looks at
 * every framing header itself as soon as the headers are in, and refuses
 * with a 400 that closes the connection: what follows cannot be trusted to
 * be the next request.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

struct framing {
	unsigned lengths, codings;
	const char *length, *coding;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		f->lengths++;
		f->length = value;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->codings++;
		f->coding = value;
	}
	return MHD_YES;
}

/* Whether s is one or more decimal digits and nothing else. */
static bool all_digits(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Whether v is "chunked", ignoring case and surrounding blanks. */
static bool is_chunked(const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n == 7 && !strncasecmp(v, "chunked", 7);
}

static int refuse_framing(struct server_req *r, const char *field, const char *message)
{
	r->close = true;
	server__bad_request(r, field, "%s", message);
	return -1;
}

int server__check_framing(struct server_req *r)
{
	struct framing f = { 0 };

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.lengths > 1)
		return refuse_framing(r, "Content-Length", "more than one Content-Length header");
	if (f.codings && f.lengths)
		return refuse_framing(r, "Transfer-Encoding", "both Content-Length and Transfer-Encoding");
	if (f.codings > 1 || (f.codings && !is_chunked(f.coding)))
		return refuse_framing(r, "Transfer-Encoding", "the only transfer coding accepted is chunked");
	if (f.lengths && !all_digits(f.length))
		return refuse_framing(r, "Content-Length", "Content-Length is not a decimal number");
	return 0;
}

bool server__raw_path_ok(const char *uri)
{
	const char *p;

	/* the path ends at the query; "%00" and "%2F" may not appear before it */
	for (p = uri; *p && *p != '?'; p++) {
		if (*p != '%')
			continue;
		if ((p[1] == '0' && p[2] == '0') || (p[1] == '2' && (p[2] == 'f' || p[2] == 'F')))
			return false;
	}
	return true;
}

int server__json_depth(const char *s, size_t len, int stop_at)
{
	int depth = 0, max = 0;
	bool in_string = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max) {
				max = depth;
				if (stop_at > 0 && max > stop_at)
					return max;
			}
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return max;
}

bool server__is_json_type(const char *ct)
{
	size_t n;
	const char *semi;

	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	semi = strchr(ct, ';');
	n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n && ct[n - 1] == ' ')
		n--;
	if (!(n == 16 && !strncasecmp(ct, "application/json", 16)) &&
	    !(n > 17 && !strncasecmp(ct, "application/", 12) && !strncasecmp(ct + n - 5, "+json", 5)))
		return false;
	/* a charset other than UTF-8 is not JSON as RFC 8259 defines it */
	if (semi) {
		const char *cs = strcasestr(semi, "charset=");

		if (cs) {
			cs += 8;
			if (*cs == '"')
				cs++;
			if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4))
				return false;
		}
	}
	return true;
}

json_t *server__parse_json(struct server_req *r, const char *body, size_t len, int max_depth,
			   bool want_object)
{
	json_error_t e;
	json_t *v;
	long bad;

	/*
	 * jansson rejects what fl_utf8_invalid_at does (overlong forms,
	 * surrogates, beyond U+10FFFF, stray bytes), so a body it parses is
	 * valid UTF-8 and only a failure needs the UTF-8 pass, to tell which
	 * error to answer: UTF-8 first, then depth, then syntax.
	 */
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!v && (bad = fl_utf8_invalid_at(body, len)) >= 0) {
		server__error(r, 400, "invalid_utf8", NULL, NULL,
			      "request body is not valid UTF-8 (byte %ld)", bad);
		return NULL;
	}
	if (server__json_depth(body, len, max_depth) > max_depth) {
		json_decref(v);
		server__error(r, 400, "too_deep", NULL, NULL,
			      "JSON nesting is deeper than %d levels", max_depth);
		return NULL;
	}
	if (!v) {
		server__error(r, 400, "invalid_json", NULL,
			      json_pack("{s:i, s:i}", "line", e.line, "column", e.column),
			      "invalid JSON at line %d, column %d: %s", e.line, e.column, e.text);
		return NULL;
	}
	if (want_object && !json_is_object(v)) {
		json_decref(v);
		server__error(r, 400, "invalid_json", NULL, NULL, "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

const char *server__param(const struct server_req *r, size_t i)
{
	return i < r->match.nparams ? r->match.params[i] : "";
}

const char *server__query(struct server_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *server__header(struct server_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int server__query_int(struct server_req *r, const char *name, int64_t min, int64_t max,
		      int64_t def, int64_t *out)
{
	const char *v = server__query(r, name);

	*out = def;
	if (!v)
		return 0;
	if (fl_parse_int64(v, min, max, out)) {
		server__bad_request(r, name, "query argument '%s' must be an integer from %lld to %lld",
				    name, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

int server__query_enum(struct server_req *r, const char *name, const char *const *allowed,
		       const char *def, const char **out)
{
	const char *v = server__query(r, name);
	struct fl_buf list = FL_BUF_INIT;
	size_t i;

	*out = def;
	if (!v || !*v)
		return 0;
	for (i = 0; allowed[i]; i++) {
		if (!strcmp(allowed[i], v)) {
			*out = allowed[i];
			fl_buf_release(&list);
			return 0;
		}
		fl_buf_addf(&list, "%s%s", i ? ", " : "", allowed[i]);
	}
	server__bad_request(r, name, "query argument '%s' must be one of: %s", name, list.buf);
	fl_buf_release(&list);
	return -1;
}

int server__body_str(struct server_req *r, const char *key, bool required, size_t max_len,
		     const char **out)
{
	json_t *v = json_object_get(r->json, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		server__unprocessable(r, key, NULL, "'%s' is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		server__unprocessable(r, key, NULL, "'%s' must be a string", key);
		return -1;
	}
	if (required && !json_string_length(v)) {
		server__unprocessable(r, key, NULL, "'%s' must not be empty", key);
		return -1;
	}
	if (max_len && json_string_length(v) > max_len) {
		server__unprocessable(r, key, NULL, "'%s' is longer than %zu bytes", key, max_len);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int server__body_int(struct server_req *r, const char *key, int64_t min, int64_t max,
		     int64_t *out, bool *present)
{
	json_t *v = json_object_get(r->json, key);

	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		server__unprocessable(r, key, NULL, "'%s' must be an integer from %lld to %lld", key,
				      (long long)min, (long long)max);
		return -1;
	}
	*out = json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

int server__body_num(struct server_req *r, const char *key, double min, double max,
		     double *out, bool *present)
{
	json_t *v = json_object_get(r->json, key);

	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max) {
		server__unprocessable(r, key, NULL, "'%s' must be a number from %g to %g", key, min, max);
		return -1;
	}
	*out = json_number_value(v);
	if (present)
		*present = true;
	return 0;
}
