/*
 * Outbound composition: a reply in a ticket's thread as an RFC 5322 message.
 *
 * GMime writes the message (header folding, RFC 2047 encoding of a non-ASCII
 * subject or display name, the choice of quoted-printable or base64 for the
 * body); this file decides what goes in it: the threading headers that let
 * the customer's client and our intake keep the thread (Message-ID of our
 * own form and the subject tag, both with the ticket's secret when given,
 * In-Reply-To, References), the approved CCs, and the headers that
 * keep machines from answering machines (Auto-Submitted: auto-replied and
 * X-Auto-Response-Suppress on automatic replies, RFC 3834; X-Frontline-Loop
 * on everything we send, which noise.c recognises when it comes back).
 *
 * Sending is the outbox dispatcher's part (src/notify, SMTP via libcurl).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"

/* An address we put in a header: local@domain, printable ASCII or UTF-8, no spaces or brackets. */
static bool address_ok(const char *a)
{
	const unsigned char *p;
	const char *at;

	if (!a || !*a || !(at = strchr(a, '@')) || at == a || !at[1] || strchr(at + 1, '@'))
		return false;
	for (p = (const unsigned char *)a; *p; p++)
		if (*p <= ' ' || *p == 127 || strchr("<>()[],;:\\\"", *p))
			return false;
	return true;
}

/* A Message-ID we put in a header: no spaces, brackets or controls. */
static bool id_ok(const char *id)
{
	const unsigned char *p;

	if (!id || !*id || !strchr(id, '@'))
		return false;
	for (p = (const unsigned char *)id; *p; p++)
		if (*p <= ' ' || *p == 127 || *p == '<' || *p == '>')
			return false;
	return true;
}

static bool has_reply_prefix(const char *s)
{
	while (*s == ' ')
		s++;
	return !strncasecmp(s, "re:", 3) || !strncasecmp(s, "aw:", 3) || !strncasecmp(s, "sv:", 3);
}

/* One line (display names and subjects): controls become spaces. Caller frees. */
static char *one_line(const char *s)
{
	char *c = email__utf8_clean(s ? s : ""), *p;

	for (p = c; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 127)
			*p = ' ';
	return c;
}

/* A secret we put in a subject tag and a Message-ID: EMAIL_SECRET_LEN letters and digits. */
static bool secret_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return i == EMAIL_SECRET_LEN;
}

/*
 * A text part of subtype ("plain", "html") holding text as UTF-8 (always:
 * g_mime_text_part_set_text would pick the "best" charset, often
 * ISO-8859-1), in quoted-printable or base64 as its bytes need.
 */
static GMimeTextPart *utf8_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(GMIME_PART(part), dw);
	g_object_unref(dw);
	g_object_unref(s);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(part),
					 g_mime_part_get_best_content_encoding(GMIME_PART(part),
									       GMIME_ENCODING_CONSTRAINT_7BIT));
	return part;
}

int email_compose(const struct email_outgoing *o, char **raw, size_t *len, char **message_id)
{
	GMimeMessage *m = NULL;
	GMimeTextPart *body = NULL;
	GMimeFormatOptions *fmt = NULL;
	GDateTime *date = NULL;
	struct fl_buf refs = FL_BUF_INIT, idbuf = FL_BUF_INIT;
	char *subject = NULL, *tagged = NULL, *text = NULL, *from_name = NULL, *to_name = NULL, *token = NULL;
	char *str = NULL, *id = NULL, rnd[17];
	const char *domain = o->domain && *o->domain ? o->domain : EMAIL_DEFAULT_DOMAIN;
	unsigned char rb[8];
	int64_t now = o->date_us ? o->date_us : fl_wall_us();
	size_t i, n, first;
	int rc = EMAIL_EINVAL;

	*raw = NULL;
	*len = 0;
	*message_id = NULL;
	if (!address_ok(o->from_addr) || !address_ok(o->to_addr) || !o->body)
		goto out;
	if (o->in_reply_to && !id_ok(o->in_reply_to))
		goto out;
	if (o->ticket_secret && !secret_ok(o->ticket_secret))
		goto out;
	for (i = 0; o->cc && i < json_array_size(o->cc); i++)
		if (!address_ok(json_string_value(json_array_get(o->cc, i))))
			goto out;
	email_init();

	/* Message-ID: the caller's, or frontline.<ticket>.<random>@<domain> */
	if (o->message_id) {
		id = fl_strdup(o->message_id);
	} else {
		fl_random_bytes(rb, sizeof(rb));
		fl_hex(rnd, rb, sizeof(rb));
		fl_buf_adds(&idbuf, "frontline.");
		for (const char *p = o->ticket_number ? o->ticket_number : "x"; *p; p++)
			fl_buf_addch(&idbuf, isalnum((unsigned char)*p) || *p == '-' ? *p : '_');
		if (o->ticket_number && o->ticket_secret)
			fl_buf_addf(&idbuf, ".%s", o->ticket_secret);
		fl_buf_addf(&idbuf, ".%s@%s", rnd, domain);
		id = fl_buf_detach(&idbuf, NULL);
	}
	if (!id_ok(id))
		goto out;

	m = g_mime_message_new(TRUE);
	from_name = o->from_name ? one_line(o->from_name) : NULL;
	to_name = o->to_name ? one_line(o->to_name) : NULL;
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, from_name, o->from_addr);
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, to_name, o->to_addr);
	for (i = 0; o->cc && i < json_array_size(o->cc); i++)
		g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_CC, NULL, json_string_value(json_array_get(o->cc, i)));

	subject = one_line(o->subject);
	if (o->in_reply_to && *subject && !has_reply_prefix(subject)) {
		char *re = fl_asprintf("Re: %s", subject);

		free(subject);
		subject = re;
	}
	if (o->ticket_number)
		token = o->ticket_secret ? fl_asprintf("%s-%s", o->ticket_number, o->ticket_secret)
					 : fl_strdup(o->ticket_number);
	tagged = email_subject_with_tag(subject, o->tag, token);
	g_mime_message_set_subject(m, tagged, "utf-8");

	date = g_date_time_new_from_unix_utc(now / 1000000);
	g_mime_message_set_date(m, date);
	g_mime_message_set_message_id(m, id);

	/* References: the thread's (the newest 20 are enough to thread) then the parent */
	n = o->references ? json_array_size(o->references) : 0;
	first = n > 20 ? n - 20 : 0;
	for (i = first; i < n; i++) {
		const char *r = json_string_value(json_array_get(o->references, i));

		if (!id_ok(r) || (o->in_reply_to && !strcmp(r, o->in_reply_to)))
			continue;
		fl_buf_addf(&refs, "%s<%s>", refs.len ? " " : "", r);
	}
	if (o->in_reply_to) {
		char *irt = fl_asprintf("<%s>", o->in_reply_to);

		g_mime_object_set_header(GMIME_OBJECT(m), "In-Reply-To", irt, NULL);
		fl_buf_addf(&refs, "%s%s", refs.len ? " " : "", irt);
		free(irt);
	}
	if (refs.len)
		g_mime_object_set_header(GMIME_OBJECT(m), "References", refs.buf, NULL);
	if (o->automatic) {
		g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted", "auto-replied", NULL);
		g_mime_object_set_header(GMIME_OBJECT(m), "X-Auto-Response-Suppress", "All", NULL);
	}
	g_mime_object_set_header(GMIME_OBJECT(m), "X-Frontline-Loop", domain, NULL);
	if (o->ticket_number)
		g_mime_object_set_header(GMIME_OBJECT(m), "X-Frontline-Ticket", o->ticket_number, NULL);

	/* the text, ending in a newline, as text/plain in the encoding its bytes need */
	text = email__utf8_clean(o->body);
	if (!*text || text[strlen(text) - 1] != '\n') {
		char *t = fl_asprintf("%s\n", text);

		free(text);
		text = t;
	}
	body = utf8_part("plain", text);
	if (o->html && *o->html) {
		/* the plain text first, the HTML last: mail readers show the last part they can */
		char *html = email__utf8_clean(o->html);
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
		GMimeTextPart *hpart = utf8_part("html", html);

		g_mime_multipart_add(alt, GMIME_OBJECT(body));
		g_mime_multipart_add(alt, GMIME_OBJECT(hpart));
		g_object_unref(hpart);
		g_object_unref(body);
		body = (GMimeTextPart *)(void *)alt;   /* released below as the GMimeObject it is */
		free(html);
	}
	g_mime_message_set_mime_part(m, GMIME_OBJECT(body));

	fmt = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
	str = g_mime_object_to_string(GMIME_OBJECT(m), fmt);
	if (!str) {
		rc = EMAIL_ECOMPOSE;
		goto out;
	}
	*raw = fl_strdup(str);
	*len = strlen(str);
	*message_id = id;
	id = NULL;
	rc = EMAIL_OK;
out:
	g_free(str);
	if (fmt)
		g_mime_format_options_free(fmt);
	if (body)
		g_object_unref(body);
	if (date)
		g_date_time_unref(date);
	if (m)
		g_object_unref(m);
	fl_buf_release(&refs);
	fl_buf_release(&idbuf);
	free(subject);
	free(tagged);
	free(token);
	free(text);
	free(from_name);
	free(to_name);
	free(id);
	return rc;
}
