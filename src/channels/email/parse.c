/*
 * Parsing one raw message with GMime 3 into a struct email_msg.
 *
 * What GMime does: the MIME structure, transfer decodings (base64,
 * quoted-printable, uuencode), RFC 2047 header words (with windows-1252 as
 * the fallback for raw 8-bit headers), address lists, Message-ID and
 * References syntax. What this file adds: the choice of the body (in
 * multipart/alternative the text/plain part unless it is empty, else the
 * HTML converted to text; in other multiparts the inline text parts in order),
 * charset conversion (charset.c), the attachments with their SHA-256 and the
 * size caps, the id of the message a bounce returns, a synthetic Message-ID
 * for messages without one, and the decision to quarantine what cannot be
 * trusted as a ticket. Nothing here fails on bad input: the worst case is a
 * quarantined message with whatever text could be recovered.
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "email_int.h"

static const char *const errnames[] = {
#define EMAIL_NAME(name, text) "EMAIL_" #name,
	EMAIL_ERRNO_MAP(EMAIL_NAME)
#undef EMAIL_NAME
};

static const char *const errtexts[] = {
#define EMAIL_TEXT(name, text) text,
	EMAIL_ERRNO_MAP(EMAIL_TEXT)
#undef EMAIL_TEXT
};

const char *email_strerror(int rc)
{
	if (rc < 0 || (size_t)rc >= FL_ARRAY_SIZE(errtexts))
		return "unknown email error";
	return errtexts[rc];
}

const char *email_errname(int rc)
{
	if (rc < 0 || (size_t)rc >= FL_ARRAY_SIZE(errnames))
		return "EMAIL_UNKNOWN";
	return errnames[rc];
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gmime(void)
{
	g_mime_init();
	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
}

void email_init(void)
{
	pthread_once(&init_once, init_gmime);
}

void email_limits_from_config(struct email_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_message = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_BYTES", 0);
	l->max_attachment = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_ATTACHMENT_BYTES", 0);
	l->max_attachments = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_ATTACHMENTS", 0);
}

static void limits_resolve(const struct email_limits *in, struct email_limits *l)
{
	if (in)
		*l = *in;
	else
		memset(l, 0, sizeof(*l));
	if (!l->max_message)
		l->max_message = 25u << 20;
	if (!l->max_attachment)
		l->max_attachment = 10u << 20;
	if (!l->max_attachments)
		l->max_attachments = 100;
	if (!l->max_content)
		l->max_content = 10000;
}

void email__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	fl_hex(out, h, sizeof(h));
}

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

/* ---- the walk over the MIME tree ---- */

enum walk_mode {
	WALK_ALL,          /* body text and attachments */
	WALK_ATTACHMENTS,  /* attachments only (a non-chosen alternative) */
	WALK_TEXT,         /* body text only (an attached message, when the mail has no text) */
};

struct walk {
	struct email_msg *msg;
	const struct email_limits *lim;
	GMimeParserOptions *opts;
	struct fl_buf plain;
	struct fl_buf html;
	bool in_report;
	bool too_deep;
	GMimeMessage *first_inner;    /* first attached message (borrowed) */
	GPtrArray *owned;             /* messages parsed from encoded message/rfc822 parts */
};

static void append_text(struct fl_buf *b, const char *text)
{
	size_t n = strlen(text);
	const char *s = fl_str_trim(text, &n);

	if (!n || b->len >= EMAIL_MAX_BODY)
		return;
	if (b->len)
		fl_buf_adds(b, "\n\n");
	if (n > EMAIL_MAX_BODY - b->len)
		n = EMAIL_MAX_BODY - b->len;
	fl_buf_add(b, s, n);
}

static char *part_text(GMimePart *part, bool *fallback)
{
	GByteArray *bytes = email__part_bytes(part);
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	bool fb = false;
	char *text;

	text = email_to_utf8((const char *)bytes->data, bytes->len, cs, &fb);
	g_byte_array_unref(bytes);
	if (fb && fallback)
		*fallback = true;
	return text;
}

static char *lower_dup(const char *s)
{
	char *d = fl_strdup(s), *p;

	for (p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static void add_attachment(struct walk *w, const char *filename, const char *type,
			   const char *content_id, bool is_inline, const unsigned char *data, size_t size)
{
	struct email_msg *m = w->msg;
	struct email_attachment *a;

	if (m->n_attachments >= w->lim->max_attachments) {
		m->n_attachments_dropped++;
		return;
	}
	m->attachments = fl_reallocarray(m->attachments, m->n_attachments + 1, sizeof(*a));
	a = &m->attachments[m->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->filename = filename && *filename ? email__utf8_clean(filename)
					    : fl_asprintf("attachment-%zu", m->n_attachments);
	/* a file name is a name, not a path */
	{
		char *p;

		for (p = a->filename; *p; p++)
			if (*p == '/' || *p == '\\' || *p == '\n')
				*p = '_';
	}
	a->content_type = lower_dup(type ? type : "application/octet-stream");
	a->content_id = content_id ? email__utf8_clean(content_id) : NULL;
	a->is_inline = is_inline;
	a->size = size;
	email__sha256_hex(data, size, a->sha256);
	if (size > w->lim->max_attachment) {
		a->omitted = true;
	} else {
		a->data = fl_malloc(size ? size : 1);
		if (size)
			memcpy(a->data, data, size);
	}
}

static char *mime_type(GMimeObject *o)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	char *s, *d;

	if (!ct)
		return fl_strdup("application/octet-stream");
	s = g_mime_content_type_get_mime_type(ct);
	d = lower_dup(s ? s : "application/octet-stream");
	g_free(s);
	return d;
}

static void walk(struct walk *w, GMimeObject *o, int depth, enum walk_mode mode);

static void walk_message(struct walk *w, GMimeMessage *inner, int depth, enum walk_mode mode)
{
	GMimeFormatOptions *fmt;
	char *raw, *name;
	const char *subject;

	if (!inner)
		return;
	if (w->in_report && !w->msg->bounce_of && g_mime_message_get_message_id(inner))
		w->msg->bounce_of = email__utf8_clean(g_mime_message_get_message_id(inner));
	if (mode == WALK_TEXT) {
		walk(w, g_mime_message_get_mime_part(inner), depth + 1, WALK_TEXT);
		return;
	}
	if (!w->first_inner)
		w->first_inner = inner;
	fmt = g_mime_format_options_new();
	raw = g_mime_object_to_string(GMIME_OBJECT(inner), fmt);
	g_mime_format_options_free(fmt);
	subject = g_mime_message_get_subject(inner);
	name = fl_asprintf("%s.eml", subject && *subject ? subject : "message");
	add_attachment(w, name, "message/rfc822", NULL, false, (const unsigned char *)raw, strlen(raw));
	free(name);
	g_free(raw);
	/* and the files inside it, so that a forwarded message's PDF is listed with the rest */
	walk(w, g_mime_message_get_mime_part(inner), depth + 1, WALK_ATTACHMENTS);
}

/* The Message-ID in a text/rfc822-headers part of a bounce. */
static void report_headers(struct walk *w, GMimePart *part)
{
	GByteArray *bytes = email__part_bytes(part);
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *m;

	if (!bytes->len) {
		g_byte_array_unref(bytes);
		return;
	}
	s = g_mime_stream_mem_new_with_buffer((const char *)bytes->data, bytes->len);
	p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(p, w->opts);
	if (m && g_mime_message_get_message_id(m))
		w->msg->bounce_of = email__utf8_clean(g_mime_message_get_message_id(m));
	if (m)
		g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	g_byte_array_unref(bytes);
}

/*
 * A message/rfc822 part with a base64 or quoted-printable encoding (which RFC
 * 2046 forbids, and mailers do) is a GMimePart to GMime: parse its content.
 */
static bool encoded_message(struct walk *w, GMimePart *part, int depth, enum walk_mode mode)
{
	GByteArray *bytes;
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *m;

	bytes = email__part_bytes(part);
	if (!bytes->len) {
		g_byte_array_unref(bytes);
		return false;
	}
	s = g_mime_stream_mem_new_with_buffer((const char *)bytes->data, bytes->len);
	p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(p, w->opts);
	g_object_unref(p);
	g_object_unref(s);
	g_byte_array_unref(bytes);
	if (!m)
		return false;
	if (!w->owned)
		w->owned = g_ptr_array_new_with_free_func(g_object_unref);
	g_ptr_array_add(w->owned, m);
	walk_message(w, m, depth, mode);
	return true;
}

static void walk_part(struct walk *w, GMimePart *part, int depth, enum walk_mode mode)
{
	GMimeObject *o = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	const char *disp = g_mime_object_get_disposition(o);
	const char *filename = g_mime_part_get_filename(part);
	bool attachment = disp && !strcasecmp(disp, "attachment");
	bool is_plain = !ct || g_mime_content_type_is_type(ct, "text", "plain");
	bool is_html = ct && g_mime_content_type_is_type(ct, "text", "html");
	bool is_enriched = ct && (g_mime_content_type_is_type(ct, "text", "enriched") ||
				  g_mime_content_type_is_type(ct, "text", "richtext"));

	if (ct && g_mime_content_type_is_type(ct, "message", "rfc822") &&
	    encoded_message(w, part, depth, mode))
		return;
	if (ct && g_mime_content_type_is_type(ct, "text", "rfc822-headers") && w->in_report &&
	    !w->msg->bounce_of)
		report_headers(w, part);
	/* body text: inline text parts; a named text/plain part after the body is an attachment */
	if (!attachment && (is_plain || is_html || is_enriched) &&
	    !(filename && (w->plain.len || w->html.len))) {
		char *text;

		if (mode == WALK_ATTACHMENTS)
			return;
		text = part_text(part, &w->msg->charset_fallback);
		if (is_html) {
			char *plain = email_html_to_text(text);

			append_text(&w->html, plain);
			free(plain);
		} else if (is_enriched) {
			/* text/enriched is text with <tags>: the HTML converter reads it well enough */
			char *plain = email_html_to_text(text);

			append_text(&w->plain, plain);
			free(plain);
		} else {
			append_text(&w->plain, text);
		}
		free(text);
		return;
	}
	if (mode == WALK_TEXT)
		return;
	{
		GByteArray *bytes = email__part_bytes(part);
		char *type = mime_type(o);
		const char *cid = g_mime_part_get_content_id(part);

		add_attachment(w, filename, type, cid, disp && !strcasecmp(disp, "inline"),
			       bytes->data, bytes->len);
		free(type);
		g_byte_array_unref(bytes);
	}
}

/* In multipart/alternative, the index of the part to read: text/plain with text, else HTML, else the last. */
static int choose_alternative(GMimeMultipart *mp)
{
	int i, n = g_mime_multipart_get_count(mp), html = -1, other = -1;

	for (i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);
		GMimeContentType *ct = g_mime_object_get_content_type(c);

		if (GMIME_IS_PART(c) && (!ct || g_mime_content_type_is_type(ct, "text", "plain"))) {
			GByteArray *b = email__part_bytes(GMIME_PART(c));
			size_t k;
			bool empty = true;

			for (k = 0; k < b->len && empty; k++)
				empty = isspace(b->data[k]) != 0;
			g_byte_array_unref(b);
			if (!empty)
				return i;
		} else if (GMIME_IS_PART(c) && g_mime_content_type_is_type(ct, "text", "html")) {
			if (html < 0)
				html = i;
		} else if (GMIME_IS_MULTIPART(c)) {
			other = i;
		}
	}
	if (html >= 0)
		return html;
	if (other >= 0)
		return other;
	return n - 1;
}

static void walk(struct walk *w, GMimeObject *o, int depth, enum walk_mode mode)
{
	if (!o)
		return;
	if (depth > EMAIL_MAX_DEPTH) {
		w->too_deep = true;
		return;
	}
	if (GMIME_IS_MESSAGE_PART(o)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));

		if (inner)
			walk_message(w, inner, depth, mode);
	} else if (GMIME_IS_MULTIPART(o)) {
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		int i, n = g_mime_multipart_get_count(mp), chosen = -1;
		bool report = ct && g_mime_content_type_is_type(ct, "multipart", "report");
		bool was_report = w->in_report;

		if (GMIME_IS_MULTIPART_ENCRYPTED(o))
			mode = mode == WALK_TEXT ? WALK_TEXT : WALK_ATTACHMENTS;
		if (ct && g_mime_content_type_is_type(ct, "multipart", "alternative"))
			chosen = choose_alternative(mp);
		if (n == 0 && mode != WALK_ATTACHMENTS && g_mime_multipart_get_prologue(mp)) {
			/* a multipart without (a matching) boundary: GMime keeps the text as its prologue */
			const char *pro = g_mime_multipart_get_prologue(mp);
			char *text = email_to_utf8(pro, strlen(pro), NULL, &w->msg->charset_fallback);

			append_text(&w->plain, text);
			free(text);
		}
		if (report)
			w->in_report = true;
		for (i = 0; i < n; i++) {
			enum walk_mode m = mode;

			if (chosen >= 0 && i != chosen)
				m = mode == WALK_TEXT ? WALK_TEXT : WALK_ATTACHMENTS;
			if (chosen >= 0 && i != chosen && mode == WALK_TEXT)
				continue;
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1, m);
		}
		w->in_report = was_report;
	} else if (GMIME_IS_PART(o)) {
		walk_part(w, GMIME_PART(o), depth, mode);
	}
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

/*
 * Binary data is not a message: NUL bytes or mostly control characters in
 * the first kilobyte (mail is text, even when its 8-bit bytes are not ASCII).
 */
static bool binary(const void *raw, size_t len)
{
	const unsigned char *p = raw;
	size_t i, n = len < 1024 ? len : 1024, ctl = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			return true;
		if (p[i] < 32 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f')
			ctl++;
	}
	return ctl * 10 > n;
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
		size_t k = (p[i] & 0x80) ? email__utf8_seq(p + i, strlen(s + i)) : 1;

		i += k ? k : 1;
		chars++;
	}
}

int email_parse(const void *raw, size_t len, const struct email_limits *limits,
		const char *domain, struct email_msg *out, char **why)
{
	struct email_limits lim;
	struct walk w;
	struct warn_sink sink = { NULL, false };
	GMimeParserOptions *opts = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *m = NULL;
	struct email_msg *msg = out;
	const char *start;
	size_t skip, i;
	GDateTime *date;

	if (why)
		*why = NULL;
	limits_resolve(limits, &lim);
	if (!domain || !*domain)
		domain = EMAIL_DEFAULT_DOMAIN;
	if (len > lim.max_message) {
		if (why)
			*why = fl_asprintf("message of %zu bytes is over the limit of %zu bytes", len,
					   lim.max_message);
		return EMAIL_ETOOBIG;
	}
	for (i = 0; i < len && isspace(((const unsigned char *)raw)[i]); i++)
		;
	if (i == len) {
		if (why)
			*why = fl_strdup("empty input");
		return EMAIL_ENOTMSG;
	}
	if (binary(raw, len)) {
		if (why)
			*why = fl_strdup("input is binary data, not text");
		return EMAIL_ENOTMSG;
	}
	skip = envelope_line(raw, len);
	start = (const char *)raw + skip;

	email_init();
	memset(msg, 0, sizeof(*msg));
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

	memset(&w, 0, sizeof(w));
	w.msg = msg;
	w.lim = &lim;
	w.opts = opts;
	w.plain = (struct fl_buf)FL_BUF_INIT;
	w.html = (struct fl_buf)FL_BUF_INIT;
	walk(&w, g_mime_message_get_mime_part(m), 0, WALK_ALL);
	if (!w.plain.len && !w.html.len && w.first_inner)
		walk(&w, g_mime_message_get_mime_part(w.first_inner), 1, WALK_TEXT);
	if (w.plain.len) {
		msg->body = fl_buf_detach(&w.plain, NULL);
	} else {
		msg->body = fl_buf_detach(&w.html, NULL);
		msg->body_from_html = msg->body[0] != '\0';
	}
	fl_buf_release(&w.plain);
	fl_buf_release(&w.html);
	if (w.owned)
		g_ptr_array_unref(w.owned);
	msg->content = email_trim_reply(msg->body);
	truncate_chars(msg->content, lim.max_content);

	email__noise_classify(m, msg, domain);

	if (w.too_deep || sink.nesting_overflow)
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
	json_object_set_new(o, "body_from_html", json_boolean(msg->body_from_html));
	json_object_set_new(o, "charset_fallback", json_boolean(msg->charset_fallback));
	json_object_set(o, "warnings", msg->warnings);
	if (msg->quarantine)
		json_object_set_new(o, "quarantine", json_string(msg->quarantine));
	json_object_set_new(o, "raw_sha256", json_string(msg->raw_sha256));
	json_object_set_new(o, "raw_size", json_integer((json_int_t)msg->raw_size));
	return o;
}
