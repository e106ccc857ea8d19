/*
 * Parsing one raw message with GMime 3 into a struct email_msg.
 *
 * What GMime does: the MIME structure, transfer decodings (base64,
 * quoted-printable, uuencode), RFC 2047 header words (with the body's
 * charset, then windows-1252, as the fallback for raw 8-bit headers),
 * address lists, Message-ID and References syntax. What this file adds: the
 * headers as the ticket needs them (rfc2047.c works around a GMime bug),
 * a synthetic Message-ID for messages without one, the reply-trimmed and
 * capped content, the noise flags (noise.c), and the decision to
 * quarantine what cannot be trusted as a ticket. The body and attachments
 * are body.c's. Nothing here fails on bad input: the worst case is a
 * quarantined message with whatever text could be recovered.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"

/* ---- parser options and warnings ---- */

static const char *warning_text(GMimeParserWarning w)
{
	switch (w) {
	case GMIME_WARN_DUPLICATED_HEADER: return "duplicated header";
	case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated parameter";
	case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded 8-bit header";
	case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid content type";
	case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid RFC 2047 header value";
	case GMIME_WARN_MALFORMED_MULTIPART: return "malformed multipart";
	case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated message";
	case GMIME_WARN_MALFORMED_MESSAGE: return "malformed message";
	case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid header name";
	case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting header";
	case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting parameter";
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart without boundary";
	case GMIME_WARN_INVALID_PARAMETER: return "invalid parameter";
	case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid address list";
	case GMIME_CRIT_NESTING_OVERFLOW: return "nesting overflow";
	case GMIME_WARN_PART_WITHOUT_CONTENT: return "part without content";
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part without headers or content";
	}
	return "parser warning";
}

struct warn_sink {
	json_t *list;
	bool nesting_overflow;
};

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer arg)
{
	struct warn_sink *w = arg;
	char *s, *clean;

	if (code == GMIME_CRIT_NESTING_OVERFLOW)
		w->nesting_overflow = true;
	if (json_array_size(w->list) >= 20)
		return;
	s = item && *item ? fl_asprintf("%s '%.80s' at byte %lld", warning_text(code), item, (long long)offset)
			  : fl_asprintf("%s at byte %lld", warning_text(code), (long long)offset);
	clean = email__utf8_clean(s);
	json_array_append_new(w->list, json_string(clean));
	free(clean);
	free(s);
}

GMimeParserOptions *email__parser_options(void)
{
	static const char *fallback[] = { "utf-8", "windows-1252", NULL };
	GMimeParserOptions *o;

	email_init();
	o = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(o, fallback);
	g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
	g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	return o;
}

GByteArray *email__part_bytes(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *arr;

	if (w)
		g_mime_data_wrapper_write_to_stream(w, mem);
	/* take the array from the stream (an owning stream would empty it on unref) */
	arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_object_unref(mem);
	return arr;
}

/* ---- headers ---- */

static void first_mailbox(InternetAddressList *list, struct email_address *a)
{
	int i, n;

	if (!list || a->addr)
		return;
	n = internet_address_list_length(list);
	for (i = 0; i < n && !a->addr; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *name = internet_address_get_name(ia);

			if (!addr || !*addr)
				continue;
			a->addr = email__utf8_clean(addr);
			a->name = name && *name ? email__utf8_clean(name) : NULL;
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			first_mailbox(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), a);
		}
	}
}

const char *email__raw_header(GMimeObject *o, const char *name)
{
	GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(o), name);

	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* The first mailbox of header name, parsed from its raw value (see rfc2047.c for why). */
static void mailbox_header(GMimeMessage *m, GMimeParserOptions *opts, const char *name,
			   struct email_address *a)
{
	const char *raw = email__raw_header(GMIME_OBJECT(m), name);
	InternetAddressList *list;
	char *merged;

	if (!raw || a->addr)
		return;
	merged = email__rfc2047_merge(raw);
	list = internet_address_list_parse(opts, merged);
	if (list) {
		first_mailbox(list, a);
		g_object_unref(list);
	}
	free(merged);
}

static void list_json(InternetAddressList *list, json_t *out)
{
	int i, n;

	if (!list)
		return;
	n = internet_address_list_length(list);
	for (i = 0; i < n && json_array_size(out) < 100; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *name = internet_address_get_name(ia);
			char *a = email__utf8_clean(addr ? addr : ""), *nm = name ? email__utf8_clean(name) : NULL;

			json_array_append_new(out, json_pack("{s:s?, s:s}", "name", nm, "addr", a));
			free(a);
			free(nm);
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			list_json(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
		}
	}
}

/* A Message-ID as we keep it: cleaned, without <>, at most 500 bytes; NULL for none. */
static char *clean_id(const char *id)
{
	char *c;
	size_t n;

	if (!id)
		return NULL;
	n = strlen(id);
	id = fl_str_trim(id, &n);
	while (n && *id == '<') {
		id++;
		n--;
	}
	while (n && id[n - 1] == '>')
		n--;
	if (!n || n > 500)
		return NULL;
	c = fl_strndup(id, n);
	{
		char *d = email__utf8_clean(c);

		free(c);
		c = d;
	}
	return c;
}

static void references(GMimeMessage *m, GMimeParserOptions *opts, struct email_msg *msg)
{
	const char *v;
	GMimeReferences *refs;
	int i, n;

	if ((v = g_mime_object_get_header(GMIME_OBJECT(m), "In-Reply-To"))) {
		refs = g_mime_references_parse(opts, v);
		if (refs && g_mime_references_length(refs) > 0)
			msg->in_reply_to = clean_id(g_mime_references_get_message_id(refs, 0));
		if (refs)
			g_mime_references_free(refs);
	}
	if ((v = g_mime_object_get_header(GMIME_OBJECT(m), "References"))) {
		refs = g_mime_references_parse(opts, v);
		n = refs ? g_mime_references_length(refs) : 0;
		/* the newest 50 are plenty to find a thread */
		for (i = n > 50 ? n - 50 : 0; i < n; i++) {
			char *id = clean_id(g_mime_references_get_message_id(refs, i));

			if (!id)
				continue;
			msg->references = fl_reallocarray(msg->references, msg->n_references + 1,
							  sizeof(char *));
			msg->references[msg->n_references++] = id;
		}
		if (refs)
			g_mime_references_free(refs);
	}
}

static char *clean_subject(const char *s)
{
	struct fl_buf b = FL_BUF_INIT;
	char *c = email__utf8_clean(s ? s : "");
	const char *p;
	bool space = false;

	for (p = c; *p; p++) {
		if (isspace((unsigned char)*p)) {
			space = b.len > 0;
			continue;
		}
		if (space)
			fl_buf_addch(&b, ' ');
		space = false;
		fl_buf_addch(&b, *p);
		if (b.len > 998)
			break;
	}
	free(c);
	return fl_buf_detach(&b, NULL);
}

/*
 * Raw 8-bit headers carry no charset; the body's is the best guess for them
 * (an EUC-KR body comes with EUC-KR headers), before windows-1252.
 */
static void charset_hint(GMimeMessage *m, GMimeParserOptions *opts)
{
	GMimeObject *o = g_mime_message_get_mime_part(m);
	const char *cs;
	int depth = 0;

	while (o && GMIME_IS_MULTIPART(o) && depth++ < 8 && g_mime_multipart_get_count(GMIME_MULTIPART(o)) > 0)
		o = g_mime_multipart_get_part(GMIME_MULTIPART(o), 0);
	cs = o ? g_mime_object_get_content_type_parameter(o, "charset") : NULL;
	if (cs && strlen(cs) < 40 && strcasecmp(cs, "us-ascii") && strcasecmp(cs, "utf-8") &&
	    strcasecmp(cs, "iso-8859-1") && strcasecmp(cs, "windows-1252")) {
		iconv_t cd = g_mime_iconv_open("UTF-8", cs);

		if (cd != (iconv_t)-1) {
			const char *fallback[] = { "utf-8", cs, "windows-1252", NULL };

			g_mime_iconv_close(cd);
			g_mime_parser_options_set_fallback_charsets(opts, fallback);
		}
	}
}

/* ---- the checks before GMime ---- */

/* Skips an mbox "From " line (Postfix's pipe and spool files start with one). */
static size_t envelope_line(const char *raw, size_t len)
{
	const char *nl;

	if (len < 5 || memcmp(raw, "From ", 5) != 0)
		return 0;
	nl = memchr(raw, '\n', len);
	return nl ? (size_t)(nl + 1 - raw) : len;
}

/* A header field name followed by ':' at s (field names are printable ASCII, RFC 5322 §2.2). */
static bool header_field_at(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] > ' ' && s[i] < 127 && s[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < len && (s[i] == ' ' || s[i] == '\t')) /* "Subject :" happens */
		i++;
	return i < len && s[i] == ':';
}

/* ---- the whole ---- */

static void truncate_chars(char *s, size_t max_chars)
{
	size_t i = 0, chars = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (p[i]) {
		if (chars == max_chars) {
			s[i] = '\0';
			return;
		}
		size_t k = (p[i] & 0x80) ? fl_utf8_seq(p + i, strlen(s + i)) : 1;

		i += k ? k : 1;
		chars++;
	}
}

int email_parse(const void *raw, size_t len, const struct email_limits *limits,
		const char *domain, struct email_msg *out, char **why)
{
	struct email_limits lim;
	bool too_deep;
	struct warn_sink sink = { NULL, false };
	GMimeParserOptions *opts = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *m = NULL;
	struct email_msg *msg = out;
	const char *start;
	size_t skip;
	GDateTime *date;

	int rc;

	email__limits_resolve(limits, &lim);
	if (!domain || !*domain)
		domain = EMAIL_DEFAULT_DOMAIN;
	if ((rc = email_precheck(raw, len, &lim, why)) != EMAIL_OK)
		return rc;
	skip = envelope_line(raw, len);
	start = (const char *)raw + skip;

	email_init();
	memset(msg, 0, sizeof(*msg));
	msg->spam.score = msg->spam.threshold = -1;
	msg->raw_size = len;
	email__sha256_hex(raw, len, msg->raw_sha256);
	msg->to = json_array();
	msg->cc = json_array();
	msg->warnings = json_array();
	msg->subject = fl_strdup("");
	sink.list = msg->warnings;

	opts = email__parser_options();
	g_mime_parser_options_set_warning_callback(opts, on_warning, &sink);
	stream = g_mime_stream_mem_new_with_buffer(start, len - skip);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	if (header_field_at(start, len - skip))
		m = g_mime_parser_construct_message(parser, opts);
	if (!m) {
		msg->quarantine = fl_strdup(header_field_at(start, len - skip)
					    ? "GMime could not build a message from the input"
					    : "no header fields: the input is text without a message header");
		msg->message_id = fl_asprintf("%s@frontline.invalid", msg->raw_sha256);
		msg->message_id_synthetic = true;
		msg->body = email_to_utf8(start, len - skip > EMAIL_MAX_BODY ? EMAIL_MAX_BODY : len - skip,
					  NULL, &msg->charset_fallback);
		msg->content = fl_strdup(msg->body);
		truncate_chars(msg->content, lim.max_content);
		goto out;
	}

	charset_hint(m, opts);
	free(msg->subject);
	{
		char *subject = email__header_decode(opts, email__raw_header(GMIME_OBJECT(m), "Subject"));

		msg->subject = clean_subject(subject);
		free(subject);
	}
	msg->message_id = clean_id(g_mime_message_get_message_id(m));
	if (!msg->message_id) {
		msg->message_id = fl_asprintf("%s@frontline.invalid", msg->raw_sha256);
		msg->message_id_synthetic = true;
	}
	references(m, opts, msg);
	mailbox_header(m, opts, "From", &msg->from);
	mailbox_header(m, opts, "Sender", &msg->from);
	mailbox_header(m, opts, "Reply-To", &msg->reply_to);
	list_json(g_mime_message_get_to(m), msg->to);
	list_json(g_mime_message_get_cc(m), msg->cc);
	if (!msg->from.addr && msg->reply_to.addr) {
		msg->from.addr = fl_strdup(msg->reply_to.addr);
		msg->from.name = msg->reply_to.name ? fl_strdup(msg->reply_to.name) : NULL;
	}
	if ((date = g_mime_message_get_date(m)))
		msg->date_us = g_date_time_to_unix(date) * 1000000 + g_date_time_get_microsecond(date);

	too_deep = email__walk_body(msg, m, opts, &lim);
	msg->content = email_trim_reply(msg->body);
	truncate_chars(msg->content, lim.max_content);

	email__noise_classify(m, msg, domain);
	email__spam_headers(m, msg);

	if (too_deep || sink.nesting_overflow)
		msg->quarantine = fl_asprintf("MIME parts nest deeper than %d levels", EMAIL_MAX_DEPTH);
	else if (!msg->from.addr || !strchr(msg->from.addr, '@'))
		msg->quarantine = fl_strdup("no sender address (From, Sender or Reply-To)");
out:
	if (m)
		g_object_unref(m);
	if (parser)
		g_object_unref(parser);
	if (stream)
		g_object_unref(stream);
	if (opts)
		g_mime_parser_options_free(opts);
	return EMAIL_OK;
}

void email_msg_release(struct email_msg *msg)
{
	size_t i;

	if (!msg)
		return;
	free(msg->message_id);
	free(msg->in_reply_to);
	for (i = 0; i < msg->n_references; i++)
		free(msg->references[i]);
	free(msg->references);
	free(msg->bounce_of);
	free(msg->from.name);
	free(msg->from.addr);
	free(msg->reply_to.name);
	free(msg->reply_to.addr);
	json_decref(msg->to);
	json_decref(msg->cc);
	free(msg->subject);
	free(msg->body);
	free(msg->content);
	for (i = 0; i < msg->n_attachments; i++) {
		free(msg->attachments[i].filename);
		free(msg->attachments[i].content_type);
		free(msg->attachments[i].content_id);
		free(msg->attachments[i].data);
	}
	free(msg->attachments);
	free(msg->auto_submitted);
	free(msg->precedence);
	free(msg->list_id);
	json_decref(msg->warnings);
	free(msg->quarantine);
	memset(msg, 0, sizeof(*msg));
}

json_t *email_msg_to_json(const struct email_msg *msg)
{
	json_t *o = json_object(), *refs = json_array(), *atts = json_array();
	char date[32];
	size_t i;

	for (i = 0; i < msg->n_references; i++)
		json_array_append_new(refs, json_string(msg->references[i]));
	for (i = 0; i < msg->n_attachments; i++) {
		const struct email_attachment *a = &msg->attachments[i];

		json_array_append_new(atts, json_pack("{s:s, s:s, s:s?, s:I, s:s, s:b, s:b}",
						      "filename", a->filename, "content_type", a->content_type,
						      "content_id", a->content_id, "size", (json_int_t)a->size,
						      "sha256", a->sha256, "inline", a->is_inline,
						      "omitted", a->omitted));
	}
	json_object_set_new(o, "message_id", json_string(msg->message_id));
	json_object_set_new(o, "message_id_synthetic", json_boolean(msg->message_id_synthetic));
	json_object_set_new(o, "in_reply_to", msg->in_reply_to ? json_string(msg->in_reply_to) : json_null());
	json_object_set_new(o, "references", refs);
	if (msg->bounce_of)
		json_object_set_new(o, "bounce_of", json_string(msg->bounce_of));
	json_object_set_new(o, "from", json_pack("{s:s?, s:s?}", "name", msg->from.name, "addr", msg->from.addr));
	if (msg->reply_to.addr)
		json_object_set_new(o, "reply_to", json_pack("{s:s?, s:s}", "name", msg->reply_to.name,
							      "addr", msg->reply_to.addr));
	json_object_set(o, "to", msg->to);
	json_object_set(o, "cc", msg->cc);
	json_object_set_new(o, "subject", json_string(msg->subject));
	if (msg->date_us) {
		fl_time_rfc3339(date, msg->date_us);
		json_object_set_new(o, "date", json_string(date));
	}
	json_object_set_new(o, "attachments", atts);
	if (msg->n_attachments_dropped)
		json_object_set_new(o, "attachments_dropped", json_integer((json_int_t)msg->n_attachments_dropped));
	json_object_set_new(o, "noise", email_noise_names(msg->noise));
	if (msg->spam.verdict != EMAIL_SPAM_UNKNOWN || msg->spam.score >= 0)
		json_object_set_new(o, "spam", email_spam_to_json(&msg->spam));
	json_object_set_new(o, "body_from_html", json_boolean(msg->body_from_html));
	json_object_set_new(o, "charset_fallback", json_boolean(msg->charset_fallback));
	json_object_set(o, "warnings", msg->warnings);
	if (msg->quarantine)
		json_object_set_new(o, "quarantine", json_string(msg->quarantine));
	json_object_set_new(o, "raw_sha256", json_string(msg->raw_sha256));
	json_object_set_new(o, "raw_size", json_integer((json_int_t)msg->raw_size));
	return o;
}
