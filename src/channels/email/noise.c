/*
 * Loop and noise protection: which inbound messages must never get an
 * automatic reply.
 *
 * The signals are the ones RFC 3834 ("Recommendations for Automatic
 * Responses to Electronic Mail") and practice name: Auto-Submitted other than
 * "no"; Precedence bulk, junk or list; List-Id and List-Unsubscribe (mailing
 * lists, newsletters); X-Autoreply / X-Autorespond and the subjects of
 * vacation replies; Microsoft's X-Auto-Response-Suppress; bounces
 * (mailer-daemon or postmaster senders, multipart/report delivery-status);
 * a null reverse-path (Return-Path: <>), which RFC 5321 §4.5.5 says must
 * never be answered; and our own mail coming back (a Message-ID we made, or
 * our X-Frontline-Loop header). The per-sender rate limit that stops two
 * helpdesks from answering each other forever is the store's part
 * (EMAIL_NOISE_RATE is set by intake).
 *
 * A flagged message is still kept and becomes a ticket or joins its thread;
 * only the automatic reply is withheld.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"

static const char *const noise_names[] = {
	"auto_submitted", "bulk", "list", "autoreply", "suppress", "bounce", "null_sender",
	"ours", "rate_limited",
};

json_t *email_noise_names(unsigned noise)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(noise_names); i++)
		if (noise & (1u << i))
			json_array_append_new(a, json_string(noise_names[i]));
	return a;
}

bool email_noise_blocks_autoreply(unsigned noise)
{
	return noise != 0;
}

bool email_message_id_is_ours(const char *id, const char *domain)
{
	const char *at;

	if (!id)
		return false;
	if (!domain || !*domain)
		domain = EMAIL_DEFAULT_DOMAIN;
	at = strrchr(id, '@');
	return at && !strncmp(id, "frontline.", 10) && !strcasecmp(at + 1, domain);
}

/* The header's value trimmed and lower-cased up to the first ';', into buf. */
static const char *token(GMimeObject *o, const char *name, char *buf, size_t size)
{
	const char *v = g_mime_object_get_header(o, name);
	size_t n, i;

	if (!v)
		return NULL;
	n = strcspn(v, ";");
	v = fl_str_trim(v, &n);
	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)v[i]);
	buf[n] = '\0';
	return buf;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strcasestr(p, word)); p += n) {
		bool start = p == list || !isalnum((unsigned char)p[-1]);
		bool end = !isalnum((unsigned char)p[n]);

		if (start && end)
			return true;
	}
	return false;
}

static bool autoreply_subject(const char *subject)
{
	static const char *const prefixes[] = {
		"Automatic reply:", "Auto-Reply:", "Autoreply:", "Auto Reply:", "Out of Office:",
		"Out of Office AutoReply:", "Abwesenheitsnotiz:", "Automatische Antwort:",
		"Réponse automatique :", "Réponse automatique:", "Respuesta automática:", NULL,
	};
	size_t k;

	if (!subject)
		return false;
	while (*subject == ' ')
		subject++;
	for (k = 0; prefixes[k]; k++)
		if (!strncasecmp(subject, prefixes[k], strlen(prefixes[k])))
			return true;
	return false;
}

static bool daemon_sender(const char *addr)
{
	static const char *const locals[] = { "mailer-daemon", "postmaster", "mail-daemon",
					      "mailerdaemon", NULL };
	const char *at;
	size_t k, n;

	if (!addr)
		return false;
	at = strchr(addr, '@');
	n = at ? (size_t)(at - addr) : strlen(addr);
	for (k = 0; locals[k]; k++)
		if (n == strlen(locals[k]) && !strncasecmp(addr, locals[k], n))
			return true;
	return false;
}

void email__noise_classify(GMimeMessage *m, struct email_msg *msg, const char *domain)
{
	GMimeObject *o = GMIME_OBJECT(m);
	GMimeObject *body = g_mime_message_get_mime_part(m);
	const char *v;
	char t[256];

	if (token(o, "Auto-Submitted", t, sizeof(t))) {
		msg->auto_submitted = fl_strdup(t);
		if (strcmp(t, "no") != 0)
			msg->noise |= EMAIL_NOISE_AUTO_SUBMITTED;
	}
	if (token(o, "Precedence", t, sizeof(t))) {
		msg->precedence = fl_strdup(t);
		if (!strcmp(t, "bulk") || !strcmp(t, "junk") || !strcmp(t, "list"))
			msg->noise |= EMAIL_NOISE_BULK;
	}
	if ((v = g_mime_object_get_header(o, "List-Id"))) {
		msg->list_id = email__utf8_clean(v);
		msg->noise |= EMAIL_NOISE_LIST;
	}
	if (g_mime_object_get_header(o, "List-Unsubscribe"))
		msg->noise |= EMAIL_NOISE_LIST;
	if ((token(o, "X-Autoreply", t, sizeof(t)) && strcmp(t, "no")) ||
	    (token(o, "X-Autorespond", t, sizeof(t)) && strcmp(t, "no")) ||
	    (token(o, "X-Autoresponder", t, sizeof(t)) && strcmp(t, "no")) ||
	    autoreply_subject(msg->subject))
		msg->noise |= EMAIL_NOISE_AUTOREPLY;
	if ((v = g_mime_object_get_header(o, "X-Auto-Response-Suppress")) &&
	    (has_word(v, "all") || has_word(v, "autoreply") || has_word(v, "oof")))
		msg->noise |= EMAIL_NOISE_SUPPRESS;
	if (daemon_sender(msg->from.addr))
		msg->noise |= EMAIL_NOISE_BOUNCE;
	if (body && GMIME_IS_MULTIPART(body)) {
		GMimeContentType *ct = g_mime_object_get_content_type(body);
		const char *rt = ct ? g_mime_content_type_get_parameter(ct, "report-type") : NULL;

		if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
			if (rt && !strcasecmp(rt, "delivery-status"))
				msg->noise |= EMAIL_NOISE_BOUNCE;
			else /* disposition-notification (read receipts) and the like */
				msg->noise |= EMAIL_NOISE_AUTOREPLY;
		}
	}
	if ((v = g_mime_object_get_header(o, "Return-Path"))) {
		size_t n = strlen(v);
		const char *s = fl_str_trim(v, &n);

		if (n == 0 || (n == 2 && !strncmp(s, "<>", 2)))
			msg->noise |= EMAIL_NOISE_NULL_SENDER;
	}
	if (!msg->message_id_synthetic && email_message_id_is_ours(msg->message_id, domain))
		msg->noise |= EMAIL_NOISE_OURS;
	if ((v = g_mime_object_get_header(o, "X-Frontline-Loop"))) {
		size_t n = strlen(v);
		const char *s = fl_str_trim(v, &n);

		if (n == strlen(domain) && !strncasecmp(s, domain, n))
			msg->noise |= EMAIL_NOISE_OURS;
	}
}
