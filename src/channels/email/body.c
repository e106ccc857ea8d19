/*
 * The body of a message: a walk over GMime's MIME tree that collects the
 * text and the attachments.
 *
 * The text: in multipart/alternative the text/plain part unless it is
 * empty, else the HTML converted to text (src/text/html.c), else the richest nested
 * multipart; in other multiparts every inline text part in order; a
 * multipart whose boundary never appears keeps its text as the prologue.
 * When the mail has no text of its own but carries a message (a forward as
 * attachment), the attached message's text is used.
 *
 * The attachments: every other leaf part, with its decoded bytes, SHA-256,
 * name (RFC 2231/2047 decoded by GMime, never a path) and type; an attached
 * message is one attachment (message/rfc822) and its own files are listed
 * too; message/rfc822 parts that are base64-encoded (which RFC 2046 forbids
 * and mailers do) are parsed all the same. Over limits, a part keeps its
 * metadata and loses its bytes. Bounces (multipart/report) give up the
 * Message-ID of the message they return.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"
#include "text/text.h"

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
			char *plain = text_html_to_text(text);

			append_text(&w->html, plain);
			free(plain);
		} else if (is_enriched) {
			/* text/enriched is text with <tags>: the HTML converter reads it well enough */
			char *plain = text_html_to_text(text);

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

bool email__walk_body(struct email_msg *msg, GMimeMessage *m, GMimeParserOptions *opts,
		      const struct email_limits *lim)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.msg = msg;
	w.lim = lim;
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
	return w.too_deep;
}
