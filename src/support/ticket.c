/*
 * The ingestion rules of DESIGN §5, the one check every door runs on a new
 * ticket (the webhook and the API in server/intake.c, email in
 * channels/email/intake.c, the CLI and batch files through support_process
 * and the batch workflow): which fields a ticket must have, their types and
 * lengths, the defaults (generated id, channel "web", empty metadata) and the
 * normalized form every node reads. Every violation is reported with the
 * field it concerns and a stable code, all at once; a door shows the first
 * one's field (HTTP 422 "field", the CLI's message, email's quarantine).
 *
 * Every field a sender fills is bounded here, once for every door, because
 * what passes is stored and shown again (ticket lists, headers, emails): the
 * id is an identifier safe in a URL path and a header ([A-Za-z0-9._:-],
 * 1 to 128), customer_id at most 128 characters without a line break,
 * subject and content by length, metadata at most 16 KiB as compact JSON
 * and 8 levels deep. Other control characters are kept as sent: where text
 * is shown, its channel escapes them (email headers, Slack, the terminal).
 */
#include <string.h>

#include "support_int.h"

#define CONTENT_MIN 10
#define CONTENT_MAX 10000
#define SUBJECT_MAX 500
#define ID_MAX 128
#define CUSTOMER_MAX 128
#define METADATA_MAX_BYTES 16384
#define METADATA_MAX_DEPTH 8

void support__field_error(json_t *errors, const char *field, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = fl_vasprintf(fmt, ap);
	va_end(ap);
	json_array_append_new(errors, json_pack("{s:s, s:s, s:s}", "field", field, "code", code, "message", msg));
	free(msg);
}

/* Code points in a valid UTF-8 string. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* A required, non-empty string field, trimmed into *out (new reference). */
static bool required_string(const json_t *in, const char *field, json_t *errors, json_t **out)
{
	const json_t *v = json_object_get(in, field);
	const char *s;
	size_t len;

	*out = NULL;
	if (!v || json_is_null(v)) {
		support__field_error(errors, field, SUPPORT_FIELD_MISSING, "is required");
		return false;
	}
	if (!json_is_string(v)) {
		support__field_error(errors, field, SUPPORT_FIELD_TYPE, "must be a string");
		return false;
	}
	len = json_string_length(v);
	s = fl_str_trim(json_string_value(v), &len);
	if (!len) {
		support__field_error(errors, field, SUPPORT_FIELD_EMPTY, "must not be empty");
		return false;
	}
	if (memchr(s, '\0', len)) {
		support__field_error(errors, field, SUPPORT_FIELD_TYPE, "must not contain NUL characters");
		return false;
	}
	*out = json_stringn(s, len);
	return true;
}

/* The id's characters: letters, digits and "._:-", safe unquoted in a URL path and a header. */
static bool id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == ':' || c == '-';
}

static bool id_valid(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!id_char((unsigned char)s[i]))
			return false;
	return len > 0;
}

/* Whether s holds a line break (CR or LF). */
static bool has_line_break(const char *s, size_t len)
{
	return memchr(s, '\r', len) || memchr(s, '\n', len);
}

/* The nesting of v (0 for a scalar, 1 for a container of scalars), or limit + 1 once past limit. */
static int json_depth(const json_t *v, int limit)
{
	const char *key;
	json_t *x;
	size_t i;
	int max = 0, d;

	if (!json_is_object(v) && !json_is_array(v))
		return 0;
	if (limit <= 0)
		return 1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, x) {
			if ((d = json_depth(x, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
	} else {
		json_array_foreach(v, i, x) {
			if ((d = json_depth(x, limit - 1)) > max)
				max = d;
			if (max >= limit)
				break;
		}
	}
	return max + 1;
}

/* The metadata's bounds: depth first (so that its size is never measured deep), then size. */
static void check_metadata(const json_t *meta, json_t *errors)
{
	size_t n;

	if (json_depth(meta, METADATA_MAX_DEPTH) > METADATA_MAX_DEPTH) {
		support__field_error(errors, "metadata", SUPPORT_FIELD_DEPTH, "must be at most %d levels deep",
			  METADATA_MAX_DEPTH);
		return;
	}
	/* jansson measures without writing when given no buffer */
	n = json_dumpb(meta, NULL, 0, JSON_COMPACT);
	if (n > METADATA_MAX_BYTES)
		support__field_error(errors, "metadata", SUPPORT_FIELD_LENGTH,
			  "must be at most %d bytes as compact JSON (got %zu)", METADATA_MAX_BYTES, n);
}

/* The seed's generated id, "ticket_<unix time>_<customer_id>", kept within the id's rules. */
static json_t *generated_id(int64_t now_us, const json_t *customer)
{
	char *s = fl_asprintf("ticket_%lld_%s", (long long)(now_us / 1000000), json_string_value(customer));
	size_t i, n = strlen(s);
	json_t *id;

	if (n > ID_MAX)
		n = ID_MAX;
	for (i = 0; i < n; i++)
		if (!id_char((unsigned char)s[i]))
			s[i] = '_';
	id = json_stringn(s, n);
	free(s);
	return id;
}

int support_ticket_validate(const json_t *in, int64_t now_us, json_t **out, json_t **errors_out)
{
	json_t *errors = json_array(), *ticket = NULL, *v;
	json_t *id = NULL, *customer = NULL, *subject = NULL, *content = NULL;
	const json_t *meta, *ch;
	const char *channel = FL_CHANNEL_WEB;
	char ts[32];

	*out = NULL;
	*errors_out = NULL;
	if (!json_is_object(in)) {
		support__field_error(errors, "", SUPPORT_FIELD_TYPE, "a ticket must be a JSON object");
		goto out;
	}
	/* the sender's id: its idempotency key, so a string as the API says */
	v = json_object_get(in, "id");
	if (v && !json_is_null(v) && required_string(in, "id", errors, &id)) {
		if (json_string_length(id) > ID_MAX)
			support__field_error(errors, "id", SUPPORT_FIELD_LENGTH, "must be at most %d characters", ID_MAX);
		else if (!id_valid(json_string_value(id), json_string_length(id)))
			support__field_error(errors, "id", SUPPORT_FIELD_CHARS,
				  "may hold only letters, digits, '.', '_', ':' and '-'");
	}
	if (required_string(in, "customer_id", errors, &customer)) {
		if (utf8_chars(json_string_value(customer), json_string_length(customer)) > CUSTOMER_MAX)
			support__field_error(errors, "customer_id", SUPPORT_FIELD_LENGTH, "must be at most %d characters",
				  CUSTOMER_MAX);
		else if (has_line_break(json_string_value(customer), json_string_length(customer)))
			support__field_error(errors, "customer_id", SUPPORT_FIELD_CHARS, "must not contain a line break");
	}
	if (required_string(in, "subject", errors, &subject) &&
	    utf8_chars(json_string_value(subject), json_string_length(subject)) > SUBJECT_MAX)
		support__field_error(errors, "subject", SUPPORT_FIELD_LENGTH, "must be at most %d characters", SUBJECT_MAX);
	if (required_string(in, "content", errors, &content)) {
		size_t n = utf8_chars(json_string_value(content), json_string_length(content));

		if (n < CONTENT_MIN || n > CONTENT_MAX)
			support__field_error(errors, "content", SUPPORT_FIELD_LENGTH,
				  "must be %d to %d characters after trimming (got %zu)", CONTENT_MIN, CONTENT_MAX, n);
	}
	ch = json_object_get(in, "channel");
	if (!ch || json_is_null(ch))
		ch = json_object_get(in, "source");
	if (ch && !json_is_null(ch)) {
		int k = json_is_string(ch) ? fl_word_index(fl_channels, json_string_value(ch)) : -1;

		if (k >= 0) {
			channel = fl_channels[k];
		} else {
			char *list = fl_words_join(fl_channels, ", ");

			support__field_error(errors, json_object_get(in, "channel") ? "channel" : "source", SUPPORT_FIELD_VALUE,
				  "must be one of %s", list);
			free(list);
		}
	}
	meta = json_object_get(in, "metadata");
	if (meta && !json_is_null(meta) && !json_is_object(meta))
		support__field_error(errors, "metadata", SUPPORT_FIELD_TYPE, "must be an object");
	else if (json_is_object(meta))
		check_metadata(meta, errors);
	if (json_array_size(errors))
		goto out;

	if (!id)
		id = generated_id(now_us, customer);
	fl_time_rfc3339(ts, now_us);
	/* a deep copy: nodes add CRM facts to the ticket's metadata */
	ticket = json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:s, s:s}",
			   "id", id, "customer_id", customer, "subject", subject, "content", content,
			   "channel", channel,
			   "metadata", json_is_object(meta) ? json_deep_copy(meta) : json_object(),
			   "status", FL_STATUS_NEW, "created_at", ts);
	id = customer = subject = content = NULL;
	/* keep created_at when the sender gave one we can read */
	v = json_object_get(in, "created_at");
	if (json_is_string(v)) {
		int64_t t;

		if (!fl_time_parse(json_string_value(v), &t)) {
			fl_time_rfc3339(ts, t);
			json_object_set_new(ticket, "created_at", json_string(ts));
		}
	}
	*out = ticket;
out:
	json_decref(id);
	json_decref(customer);
	json_decref(subject);
	json_decref(content);
	if (json_array_size(errors)) {
		*errors_out = errors;
		return SUPPORT_EINVAL;
	}
	json_decref(errors);
	return SUPPORT_OK;
}

char *support_errors_text(const json_t *errors)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; i < json_array_size(errors); i++) {
		const json_t *e = json_array_get(errors, i);
		const char *field = fl_json_str(e, "field", "");

		fl_buf_addf(&b, "%s%s%s%s", i ? "; " : "", field, *field ? ": " : "",
			    fl_json_str(e, "message", ""));
	}
	return fl_buf_detach(&b, NULL);
}

json_t *support_ticket_refusal(const json_t *errors)
{
	char *text = support_errors_text(errors);
	json_t *r = json_pack("{s:s, s:s, s:s?, s:O}", "code", SUPPORT_REFUSAL_CODE, "message", text,
			      "field", fl_json_str(json_array_get(errors, 0), "field", NULL), "details", errors);

	free(text);
	return r;
}
