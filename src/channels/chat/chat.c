/*
 * The chat channel's rules (chat.h): origins, the first message's ticket,
 * the visitor's view of the thread and of the live events.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "chat.h"
#include "util/util.h"

/* ---- origins ---- */

/* Whether host ends with ".suffix" (suffix after "*."), in any case. */
static bool subdomain_of(const char *host, size_t hlen, const char *suffix, size_t slen)
{
	return hlen > slen + 1 && host[hlen - slen - 1] == '.' && !strncasecmp(host + hlen - slen, suffix, slen);
}

/* One allowed origin (len bytes at a) against origin. */
static bool origin_matches(const char *a, size_t len, const char *origin)
{
	const char *as = memchr(a, ':', len), *os = strchr(origin, ':');
	size_t slen, olen = strlen(origin);

	if (!as || !os || len < 4 || strncmp(as, "://", 3) || strncmp(os, "://", 3))
		return false;
	slen = (size_t)(as - a);
	if (slen != (size_t)(os - origin) || strncasecmp(a, origin, slen))
		return false;
	a += slen + 3;
	len -= slen + 3;
	origin += slen + 3;
	olen -= slen + 3;
	if (len > 2 && a[0] == '*' && a[1] == '.') {
		/* "*.example.com[:port]": the host part then the same port */
		const char *ap = memchr(a, ':', len), *op = strchr(origin, ':');
		size_t ah = ap ? (size_t)(ap - a) : len, oh = op ? (size_t)(op - origin) : olen;

		if ((len - ah) != (olen - oh) || strncmp(a + ah, origin + oh, len - ah))
			return false;
		return subdomain_of(origin, oh, a + 2, ah - 2);
	}
	return len == olen && !strncasecmp(a, origin, len);
}

bool chat_origin_allowed(const char *allowed, const char *origin)
{
	const char *p = allowed, *host = origin ? strstr(origin, "://") : NULL;

	/* an origin is scheme://host[:port]: nothing after it, no credentials */
	if (!allowed || !host || strpbrk(host + 3, "/?#@ \t\\"))
		return false;
	while (p && *p) {
		size_t n;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ", \t");
		/* an entry may end in "/" (copied from a browser's address bar) */
		if (n && origin_matches(p, n && p[n - 1] == '/' ? n - 1 : n, origin))
			return true;
		p += n;
	}
	return false;
}

/* Whether len bytes at p are an origin pattern a header may carry: scheme://host[:port], "*." allowed. */
static bool origin_word(const char *p, size_t len)
{
	const char *sep = memchr(p, ':', len);
	size_t i;

	if (!sep || (size_t)(sep - p) + 3 >= len || strncmp(sep, "://", 3))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr(":/.-*[]", p[i]))
			return false;
	return !memchr(sep + 3, '/', len - (size_t)(sep + 3 - p));
}

char *chat_frame_ancestors(const char *allowed)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *p = allowed;

	fl_buf_adds(&b, "frame-ancestors 'self'");
	while (p && *p) {
		size_t n;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, ", \t");
		if (n && p[n - 1] == '/' && n > 1 && origin_word(p, n - 1))
			fl_buf_addf(&b, " %.*s", (int)n - 1, p);
		else if (n && origin_word(p, n))
			fl_buf_addf(&b, " %.*s", (int)n, p);
		p += n;
	}
	return fl_buf_detach(&b, NULL);
}

/* ---- the first message's ticket ---- */

/* The subject: the text's first line, cut at a word before 80 bytes. */
static char *subject_of(const char *text)
{
	size_t n = strcspn(text, "\r\n"), cut;

	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n <= 80)
		return fl_strndup(text, n);
	cut = 80;
	while (cut > 40 && text[cut] != ' ')
		cut--;
	/* never inside a UTF-8 sequence */
	while (cut && ((unsigned char)text[cut] & 0xC0) == 0x80)
		cut--;
	return fl_asprintf("%.*s...", (int)cut, text);
}

json_t *chat_first_ticket(const json_t *session, const char *text)
{
	const char *id = fl_json_str(session, "id", ""), *email = fl_json_str(session, "email", NULL);
	const char *name = fl_json_str(session, "name", NULL);
	char *subject = subject_of(text), *customer = email && *email ? fl_strdup(email) : fl_asprintf("chat:%s", id);
	json_t *meta = json_pack("{s:s}", "chat_session", id), *t;

	if (name && *name)
		json_object_set_new(meta, "customer_name", json_string(name));
	if (email && *email)
		json_object_set_new(meta, "customer_email", json_string(email));
	t = json_pack("{s:s, s:s, s:s, s:s, s:o}", "channel", FL_CHANNEL_CHAT, "customer_id", customer, "subject",
		      *subject ? subject : "Chat", "content", text, "metadata", meta);
	free(subject);
	free(customer);
	return t;
}

/* ---- what a visitor sees ---- */

/* Whether a message is the conversation's: the visitor's, or a reply sent (not one awaiting approval). */
static const char *visible_from(const json_t *m)
{
	const char *dir = fl_json_str(m, "direction", ""), *approval = fl_json_str(m, "approval", NULL);

	if (!strcmp(dir, "inbound"))
		return "visitor";
	if (!strcmp(dir, "outbound") && (!approval || !strcmp(approval, "approved")))
		return "agent";
	return NULL;
}

json_t *chat_visible_messages(const json_t *messages, int64_t after_id)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(messages, i, m) {
		const char *from = visible_from(m);
		int64_t id = fl_json_int(m, "id", 0);

		if (!from || id <= after_id)
			continue;
		json_array_append_new(out, json_pack("{s:I, s:s, s:b, s:s, s:O?}", "id", (json_int_t)id, "from", from,
						     "automatic", !strcmp(fl_json_str(m, "author", ""), "frontline"),
						     "text", fl_json_str(m, "body", ""), "at",
						     json_object_get(m, "created_at")));
	}
	return out;
}

static char *sse(const char *name, json_t *data, size_t *len)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_addf(&b, "event: %s\ndata: ", name);
	if (!data || fl_json_encode(&b, data)) {
		json_decref(data);
		fl_buf_release(&b);
		return NULL;
	}
	json_decref(data);
	fl_buf_adds(&b, "\n\n");
	return fl_buf_detach(&b, len);
}

char *chat_visitor_event(const char *type, const json_t *data, size_t *len)
{
	const char *dir = fl_json_str(data, "direction", "");

	if ((!strcmp(type, FL_EVENT_TICKET_REPLIED) && !strcmp(dir, "outbound")) ||
	    !strcmp(type, FL_EVENT_TICKET_CUSTOMER_REPLIED) || !strcmp(type, FL_EVENT_MESSAGE_APPROVED))
		return sse("message", json_pack("{s:I}", "message_id", (json_int_t)fl_json_int(data, "message_id", 0)),
			   len);
	if (!strcmp(type, FL_EVENT_TICKET_STATUS)) {
		const char *to = chat_visitor_status(fl_json_str(data, "to", ""));
		const char *from = chat_visitor_status(fl_json_str(data, "from", ""));

		/* the triage's statuses (escalated, spam, ...) are the agents': settled or open, when it changes */
		if (to && from && strcmp(to, from))
			return sse("status", json_pack("{s:s}", "status", to), len);
	}
	return NULL;
}

const char *chat_visitor_status(const char *status)
{
	if (!status || !*status)
		return NULL;
	if (!strcmp(status, FL_STATUS_RESOLVED) || !strcmp(status, FL_STATUS_CLOSED))
		return status;
	return "open";
}

char *chat_typing_event(const char *who, bool typing, size_t *len)
{
	return sse("typing", json_pack("{s:s, s:b}", "who", who, "typing", typing), len);
}
