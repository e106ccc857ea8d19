/*
 * Reply trimming: the part of a message that its sender wrote.
 *
 * Replies carry the whole thread below (or, bottom-posted, above) the new
 * text. Triage and the agent's view want the new text only; the raw message
 * keeps the rest. The rules, in order:
 *
 *  1. cut at the first separator of a quoted original: "-----Original
 *     Message-----" (and its translations), Outlook's "____" rule followed by
 *     a "From:" line, or an Outlook header block ("From:" then "Sent:"/"Date:"
 *     and "To:"/"Subject:" within a few lines);
 *  2. drop quoted lines ("> ...") and the attribution line that introduces
 *     them ("On Mon, ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :",
 *     possibly wrapped over three lines), keeping inline answers between
 *     quotes;
 *  3. drop the signature: from a "-- " line (RFC 3676 §4.3; "--" too, since
 *     clients strip trailing spaces) when at most 15 lines follow it, and
 *     "Sent from my ..." style lines at the end.
 *
 * A forwarded message ("---------- Forwarded message ---------") is kept:
 * when someone forwards a problem to support, the forwarded text is the
 * problem. When nothing would be left, the whole text is returned.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"

struct lines {
	char **v;
	size_t n;
};

static void lines_split(const char *text, struct lines *l)
{
	const char *s = text, *nl;

	l->v = NULL;
	l->n = 0;
	for (;;) {
		nl = strchr(s, '\n');
		l->v = fl_reallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = nl ? fl_strndup(s, (size_t)(nl - s)) : fl_strdup(s);
		if (!nl)
			break;
		s = nl + 1;
	}
}

static void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The line without leading and trailing whitespace, in buf (NUL-terminated). */
static const char *trimmed(const char *line, char *buf, size_t size)
{
	size_t n = strlen(line);
	const char *s = fl_str_trim(line, &n);

	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static bool blank(const char *line)
{
	for (; *line; line++)
		if (!isspace((unsigned char)*line))
			return false;
	return true;
}

static bool quoted(const char *line)
{
	while (*line == ' ' || *line == '\t')
		line++;
	return *line == '>';
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static bool header_line(const char *line, const char *const *names)
{
	char t[128];

	trimmed(line, t, sizeof(t));
	/* Outlook sometimes bolds these: "*From:* ..." */
	if (t[0] == '*')
		memmove(t, t + 1, strlen(t));
	for (; *names; names++)
		if (has_prefix_ci(t, *names))
			return true;
	return false;
}

static const char *const from_names[] = { "From:", "Von:", "De :", "De:", "Van:", "Da:", "Från:", NULL };
static const char *const sent_names[] = { "Sent:", "Date:", "Gesendet:", "Datum:", "Envoyé :",
					  "Envoyé:", "Enviado:", "Verzonden:", "Inviato:", "Skickat:", NULL };
static const char *const to_names[] = { "To:", "Subject:", "An:", "Betreff:", "À :", "À:", "Objet :",
					"Para:", "Asunto:", "Aan:", "Onderwerp:", "A:", "Oggetto:", "Till:",
					"Ämne:", "Cc:", NULL };

static bool original_separator(const char *line)
{
	static const char *const words[] = {
		"original message", "ursprüngliche nachricht", "message d'origine",
		"mensaje original", "messaggio originale", "oorspronkelijk bericht",
		"originalmeddelande", "mensagem original", NULL,
	};
	char t[128], *p;
	size_t i;

	trimmed(line, t, sizeof(t));
	if (t[0] != '-' && t[0] != '_')
		return false;
	for (p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (i = 0; words[i]; i++)
		if (strstr(t, words[i]))
			return true;
	return false;
}

/* Outlook's rule: a line of 10 or more underscores. */
static bool underscore_rule(const char *line)
{
	char t[128];
	size_t n;

	trimmed(line, t, sizeof(t));
	n = strspn(t, "_");
	return n >= 10 && t[n] == '\0';
}

static bool outlook_block(const struct lines *l, size_t i)
{
	size_t j;
	bool sent = false, to = false;

	if (!header_line(l->v[i], from_names))
		return false;
	for (j = i + 1; j < l->n && j <= i + 5; j++) {
		if (header_line(l->v[j], sent_names))
			sent = true;
		if (header_line(l->v[j], to_names))
			to = true;
	}
	return sent && to;
}

/*
 * When lines i.. form an attribution ("On ... wrote:" over up to three lines),
 * returns how many lines it spans; else 0.
 */
static bool has_verb(const char *s)
{
	static const char *const verbs[] = { "wrote", "schrieb", "écrit", "escribió", "scritto",
					     "schreef", "escreveu", "skrev", "napisał", "writes", NULL };
	size_t k;

	for (k = 0; verbs[k]; k++)
		if (strstr(s, verbs[k]))
			return true;
	return false;
}

static size_t attribution(const struct lines *l, size_t i)
{
	static const char *const starts[] = { "On ", "Am ", "Le ", "El ", "Il ", "Op ", "Em ", "Den ",
					      "W dniu ", NULL };
	static const char *const ends[] = { "wrote:", "schrieb:", "a écrit :", "a écrit:", "escribió:",
					    "ha scritto:", "schreef:", "escreveu:", "skrev:", "napisał:",
					    "writes:", NULL };
	struct fl_buf joined = FL_BUF_INIT;
	size_t span, k;
	bool starts_ok = false, ends_ok = false;
	char t[512];

	trimmed(l->v[i], t, sizeof(t));
	for (k = 0; starts[k]; k++)
		if (fl_str_has_prefix(t, starts[k]))
			starts_ok = true;
	for (span = 1; span <= 3 && i + span <= l->n; span++) {
		if (span > 1)
			fl_buf_addch(&joined, ' ');
		fl_buf_adds(&joined, trimmed(l->v[i + span - 1], t, sizeof(t)));
		for (k = 0; ends[k]; k++)
			if (fl_str_has_suffix(joined.buf, ends[k]))
				ends_ok = true;
		/* "Am 08.01.2024 um 10:02 schrieb Support <help@example.com>:" */
		if (starts_ok && fl_str_has_suffix(joined.buf, ":") && has_verb(joined.buf))
			ends_ok = true;
		if (ends_ok)
			break;
	}
	fl_buf_release(&joined);
	if (!ends_ok)
		return 0;
	/* "X wrote:" without a date-like start still counts when a quote follows */
	if (!starts_ok && span > 1)
		return 0;
	return span;
}

static bool mobile_signature(const char *line)
{
	static const char *const sigs[] = {
		"Sent from my ", "Sent from Mail for Windows", "Sent from Outlook", "Get Outlook for ",
		"Sent from Yahoo Mail", "Sent via ", "Von meinem ", "Envoyé de mon ", "Enviado desde mi ",
		"Inviato da ", "Verstuurd vanaf mijn ", NULL,
	};
	char t[128];
	size_t k;

	trimmed(line, t, sizeof(t));
	for (k = 0; sigs[k]; k++)
		if (has_prefix_ci(t, sigs[k]))
			return true;
	return false;
}

static bool sig_delimiter(const char *line)
{
	return !strcmp(line, "-- ") || !strcmp(line, "--");
}

char *email_trim_reply(const char *text)
{
	struct lines l;
	bool *keep;
	struct fl_buf out = FL_BUF_INIT;
	size_t i, end, last, span, k;
	bool seen_text = false, pending_blank = false;

	lines_split(text ? text : "", &l);
	keep = fl_calloc(l.n + 1, sizeof(*keep));
	end = l.n;
	/* 1. a separator of a quoted original, below some text of the sender's */
	for (i = 0; i < l.n; i++) {
		if (seen_text && (original_separator(l.v[i]) ||
				  (underscore_rule(l.v[i]) && i + 2 < l.n &&
				   (header_line(l.v[i + 1], from_names) ||
				    header_line(l.v[i + 2], from_names))) ||
				  outlook_block(&l, i))) {
			end = i;
			break;
		}
		if (!blank(l.v[i]) && !quoted(l.v[i]))
			seen_text = true;
	}
	/* 2. quoted lines and their attribution */
	for (i = 0; i < end; i++)
		keep[i] = !quoted(l.v[i]);
	for (i = 0; i < end; i++) {
		if (!keep[i] || !(span = attribution(&l, i)))
			continue;
		for (k = i + span; k < end && blank(l.v[k]); k++)
			;
		if (k >= end || quoted(l.v[k]))
			for (k = i; k < i + span; k++)
				keep[k] = false;
	}
	/* 3. the signature: a "-- " line with at most 15 lines after it */
	for (i = 0; i < end; i++) {
		if (keep[i] && sig_delimiter(l.v[i]) && end - i <= 16) {
			end = i;
			break;
		}
	}
	/* and "Sent from my ..." among the last lines */
	for (last = end; last > 0;) {
		last--;
		if (!keep[last] || blank(l.v[last]))
			continue;
		if (!mobile_signature(l.v[last]))
			break;
		keep[last] = false;
	}
	for (i = 0; i < end; i++) {
		if (!keep[i])
			continue;
		if (blank(l.v[i])) {
			pending_blank = out.len > 0;
			continue;
		}
		if (out.len)
			fl_buf_adds(&out, pending_blank ? "\n\n" : "\n");
		pending_blank = false;
		fl_buf_adds(&out, l.v[i]);
	}
	fl_buf_rtrim(&out);
	if (out.len == 0) {
		size_t n = strlen(text ? text : "");
		const char *s = fl_str_trim(text ? text : "", &n);

		fl_buf_add(&out, s, n);
	}
	free(keep);
	lines_free(&l);
	return fl_buf_detach(&out, NULL);
}
