/*
 * Building the email messages the email channel sends: headers with CR and
 * LF removed (no header injection from a ticket's subject), a subject
 * encoded per RFC 2047 when it is not plain ASCII, and a UTF-8 body in
 * quoted-printable so that long lines and any byte survive SMTP. Address
 * lists are checked here too. Parsing inbound mail is the channels module's
 * business (GMime); this file only writes.
 */
#include <string.h>
#include <time.h>

#include "notify.h"
#include "util/util.h"

json_t *notify_address_list(const char *list, char **err)
{
	json_t *out = json_array();
	const char *p = list ? list : "";

	*err = NULL;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *a = fl_str_trim(p, &n), *at;
		size_t i;

		if (n) {
			at = memchr(a, '@', n);
			if (!at || at == a || at == a + n - 1)
				goto bad;
			for (i = 0; i < n; i++)
				if ((unsigned char)a[i] <= ' ' || strchr("<>()[]\\,;:\"", a[i]))
					goto bad;
			json_array_append_new(out, json_stringn(a, n));
		}
		p = end ? end + 1 : p + strlen(p);
		continue;
bad:
		*err = fl_asprintf("invalid email address '%.*s'", (int)n, a);
		json_decref(out);
		return NULL;
	}
	if (!json_array_size(out)) {
		*err = fl_strdup("no email address given");
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Appends s without CR or LF (header values). */
static void add_header_value(struct fl_buf *b, const char *s)
{
	for (; *s; s++)
		fl_buf_addch(b, *s == '\r' || *s == '\n' ? ' ' : *s);
}

static bool is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static void base64(struct fl_buf *b, const unsigned char *in, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		fl_buf_addch(b, tab[in[i] >> 2]);
		fl_buf_addch(b, tab[(in[i] & 3) << 4 | in[i + 1] >> 4]);
		fl_buf_addch(b, tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6]);
		fl_buf_addch(b, tab[in[i + 2] & 63]);
	}
	if (n - i == 1) {
		fl_buf_addch(b, tab[in[i] >> 2]);
		fl_buf_addch(b, tab[(in[i] & 3) << 4]);
		fl_buf_adds(b, "==");
	} else if (n - i == 2) {
		fl_buf_addch(b, tab[in[i] >> 2]);
		fl_buf_addch(b, tab[(in[i] & 3) << 4 | in[i + 1] >> 4]);
		fl_buf_addch(b, tab[(in[i + 1] & 15) << 2]);
		fl_buf_addch(b, '=');
	}
}

/*
 * RFC 2047 "B" encoded words of at most 45 input bytes each (60 base64
 * characters, under the 75-character limit), never splitting a UTF-8
 * sequence, folded onto continuation lines.
 */
static void add_encoded_subject(struct fl_buf *b, const char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		size_t n = len - i > 45 ? 45 : len - i;

		while (n < len - i && n > 0 && ((unsigned char)s[i + n] & 0xc0) == 0x80)
			n--;
		if (!n)
			n = len - i > 45 ? 45 : len - i;
		if (i)
			fl_buf_adds(b, "\r\n ");
		fl_buf_adds(b, "=?UTF-8?B?");
		base64(b, (const unsigned char *)s + i, n);
		fl_buf_adds(b, "?=");
		i += n;
	}
}

/* Quoted-printable (RFC 2045) with CRLF line ends and soft breaks at 76. */
static void add_qp(struct fl_buf *b, const char *s)
{
	size_t col = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[4];
		size_t n;

		if (c == '\r')
			continue;
		if (c == '\n') {
			fl_buf_adds(b, "\r\n");
			col = 0;
			continue;
		}
		/* trailing whitespace before a line end must be encoded */
		if ((c == ' ' || c == '\t') && (s[1] == '\n' || s[1] == '\r' || !s[1]))
			n = (size_t)snprintf(enc, sizeof(enc), "=%02X", c);
		else if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t')
			enc[0] = (char)c, enc[1] = '\0', n = 1;
		else
			n = (size_t)snprintf(enc, sizeof(enc), "=%02X", c);
		/* a leading dot is escaped by libcurl's SMTP dot-stuffing; "From " is not an issue in SMTP */
		if (col + n > 75) {
			fl_buf_adds(b, "=\r\n");
			col = 0;
		}
		fl_buf_add(b, enc, n);
		col += n;
	}
	fl_buf_adds(b, "\r\n");
}

char *notify_email_build(const json_t *payload, const char *from, const char *to,
			 const char *message_id, int64_t now_us, char **err)
{
	const char *subject = fl_json_str(payload, "subject", "");
	const char *body = fl_json_str(payload, "body", fl_json_str(payload, "text", ""));
	const char *tag = fl_json_str(payload, "ticket_tag", NULL);
	const char *in_reply_to = fl_json_str(payload, "in_reply_to", NULL);
	json_t *froms = NULL, *tos = NULL;
	struct fl_buf b = FL_BUF_INIT;
	char date[64], *full_subject = NULL, *out = NULL;
	time_t t = (time_t)(now_us / 1000000);
	struct tm tm;
	size_t i;

	*err = NULL;
	froms = notify_address_list(from, err);
	if (!froms)
		goto out;
	if (json_array_size(froms) != 1) {
		*err = fl_asprintf("the sender must be one address, not '%s'", from);
		goto out;
	}
	tos = notify_address_list(to, err);
	if (!tos)
		goto out;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (tag && *tag && !strstr(subject, tag))
		full_subject = fl_asprintf("[%s] %s", tag, subject);
	else
		full_subject = fl_strdup(subject);

	fl_buf_addf(&b, "Date: %s\r\nFrom: ", date);
	add_header_value(&b, json_string_value(json_array_get(froms, 0)));
	fl_buf_adds(&b, "\r\nTo: ");
	for (i = 0; i < json_array_size(tos); i++) {
		if (i)
			fl_buf_adds(&b, ", ");
		add_header_value(&b, json_string_value(json_array_get(tos, i)));
	}
	fl_buf_adds(&b, "\r\nSubject: ");
	{
		char *clean;
		struct fl_buf s = FL_BUF_INIT;

		add_header_value(&s, full_subject);
		clean = fl_buf_detach(&s, NULL);
		if (is_ascii_printable(clean) && strlen(clean) < 900)
			fl_buf_adds(&b, clean);
		else
			add_encoded_subject(&b, clean);
		free(clean);
	}
	fl_buf_adds(&b, "\r\nMessage-ID: ");
	add_header_value(&b, message_id);
	if (in_reply_to && *in_reply_to) {
		fl_buf_adds(&b, "\r\nIn-Reply-To: ");
		add_header_value(&b, in_reply_to);
		fl_buf_adds(&b, "\r\nReferences: ");
		add_header_value(&b, in_reply_to);
	}
	if (fl_json_bool(payload, "auto_submitted", false))
		fl_buf_adds(&b, "\r\nAuto-Submitted: auto-replied");
	fl_buf_adds(&b, "\r\nMIME-Version: 1.0\r\n"
			"Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	add_qp(&b, body);
	out = fl_buf_detach(&b, NULL);
out:
	fl_buf_release(&b);
	free(full_subject);
	json_decref(froms);
	json_decref(tos);
	return out;
}
