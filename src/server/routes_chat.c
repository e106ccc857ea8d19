/*
 * The chat widget's public API (issue 17; docs/CHANNELS.md): a visitor
 * opens a session and gets a token (POST /api/v1/chat/sessions), sends
 * messages, reads the conversation, follows it live, says it is typing
 * and, when nobody is there, leaves an email address to continue by
 * email. The token is the visitor's alone: the store keeps its SHA-256,
 * and every route but the first needs the session's id and its token
 * together (another visitor's token gets a 404 like a session that does
 * not exist). The routes are public (no API token); a request that carries
 * an Origin must come from Frontline's own origin (the widget's iframe) or
 * one in FRONTLINE_CHAT_ORIGINS; requests are limited per token and per
 * address (the rate limiter of API tokens, a bucket per key).
 *
 * The first message makes a ticket with channel chat, with its triage job
 * (the workflow runs as for any ticket; an automatic answer is an outbound
 * message, which the visitor's stream announces); later ones join its
 * thread. An agent's reply (console or POST /api/v1/tickets/{id}/replies)
 * is an outbound message of the ticket: the visitor's stream (live.c)
 * announces it at once, and it goes by email only when the visitor asked
 * to continue by email (server__chat_reply_address).
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"
#include "channels/chat/chat.h"
#include "store/store.h"
#include "support/support.h"

#define TOKEN_PREFIX "flc_"
#define TOKEN_MAX 80
/* A console session used this recently (or an agent's stream open here) counts as someone there. */
#define AGENT_IDLE_S 300

/* A rate-limit key from text (FNV-1a): one bucket per token, one per address. */
static int64_t key_of(const char *kind, const char *text)
{
	uint64_t h = 1469598103934665603ULL;
	const char *p;

	for (p = kind; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (p = text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (int64_t)(h >> 1);
}

/*
 * Whether the request's Origin (when it has one) may use the chat: the
 * widget's own page (same origin: FRONTLINE_PUBLIC_URL, or the Host the
 * request was sent to) or a site of FRONTLINE_CHAT_ORIGINS. 403 answered
 * when not.
 */
static bool origin_ok(struct server_req *r)
{
	const char *origin = server__header(r, "Origin"), *own = fl_config_get("FRONTLINE_PUBLIC_URL");
	const char *host = server__header(r, "Host"), *o;
	size_t n;

	if (!origin)
		return true;   /* not a browser's cross-site request: a browser always says where it runs */
	o = strstr(origin, "://");
	if (o && host && *host && !strcasecmp(o + 3, host))
		return true;
	if (own && *own) {
		n = strlen(own);
		while (n && own[n - 1] == '/')
			n--;
		if (strlen(origin) == n && !strncmp(origin, own, n))
			return true;
	}
	if (chat_origin_allowed(fl_config_get("FRONTLINE_CHAT_ORIGINS"), origin))
		return true;
	server__forbidden(r, "this origin may not use the chat (FRONTLINE_CHAT_ORIGINS)");
	return false;
}

/* One request from key's bucket; 429 answered when empty. */
static bool take(struct server_req *r, int64_t key)
{
	int wait = server__tokens_take(r->srv->chat_limits, key, fl_mono_us());

	if (!wait)
		return true;
	server__rate_limited_by(r, wait, "too many chat requests; slow down");
	return false;
}

/* The visitor's token: the Bearer header, or ?token= (an EventSource cannot send headers). */
static const char *token_of(struct server_req *r, bool query_too)
{
	const char *h = server__header(r, MHD_HTTP_HEADER_AUTHORIZATION);

	if (h && !strncasecmp(h, "Bearer ", 7)) {
		h += 7;
		while (*h == ' ')
			h++;
		return h;
	}
	return query_too ? server__query(r, "token") : NULL;
}

/*
 * The session of path parameter 0 for the request's token, after the
 * origin and the rate limits; NULL when answered (401, 403, 404, 429, 503).
 */
static json_t *visitor(struct server_req *r, bool query_token)
{
	const char *token = token_of(r, query_token);
	json_t *s = NULL;
	char hash[65];
	int rc;

	if (!origin_ok(r) || !take(r, key_of("a:", r->addr)))
		return NULL;
	if (!token || !*token || strlen(token) > TOKEN_MAX || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX))) {
		server__unauthorized(r, "missing or malformed visitor token (Authorization: Bearer <visitor_token>)");
		return NULL;
	}
	server_token_hash(token, hash);
	if (!take(r, key_of("t:", hash)))
		return NULL;
	rc = store_chat_session_find(server__store(r), server__param(r, 0), hash, &s);
	if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL) {
		/* the same answer for a wrong token and a session that does not exist */
		server__not_found(r, "chat session", server__param(r, 0));
		return NULL;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "chat session", server__param(r, 0));
		return NULL;
	}
	return s;
}

/* Whether someone can answer now: an agent's stream open here, or a console session in use lately. */
static bool agents_available(struct server_req *r)
{
	int64_t n = 0;

	if (r->srv->live && server__live_agents(r->srv->live))
		return true;
	return store_agents_available(server__store(r), fl_wall_us() - AGENT_IDLE_S * INT64_C(1000000), &n) ==
		       STORE_OK && n > 0;
}

/* The session as the visitor sees it. */
static json_t *session_view(struct server_req *r, const json_t *s)
{
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:s?, s:b}", "session_id", json_object_get(s, "id"), "name",
			 json_object_get(s, "name"), "email", json_object_get(s, "email"), "by_email",
			 json_object_get(s, "by_email"), "reference", json_object_get(s, "ticket_id"), "status",
			 chat_visitor_status(fl_json_str(s, "ticket_status", NULL)), "agents_available",
			 agents_available(r));
}

/* Optional body string: NULL when absent or empty after the body's checks. */
static int optional(struct server_req *r, const char *key, size_t max, const char **out)
{
	if (server__body_str(r, key, false, max, out))
		return -1;
	if (*out && !**out)
		*out = NULL;
	if (*out && fl_utf8_invalid_at(*out, strlen(*out)) >= 0) {
		server__unprocessable(r, key, NULL, "'%s' is not valid UTF-8", key);
		return -1;
	}
	return 0;
}

static bool plausible_email(const char *e)
{
	const char *at = strchr(e, '@');

	return at && at != e && !strchr(at + 1, '@') && strchr(at + 1, '.') && !strpbrk(e, " \t\r\n<>,;\"");
}

static void session_create(struct server_req *r)
{
	const char *name, *email;
	unsigned char raw[24];
	char token[TOKEN_MAX], hash[65], id[64], hex[49];
	json_t *s = NULL;
	int rc;

	if (!origin_ok(r) || !take(r, key_of("a:", r->addr)))
		return;
	if (optional(r, "name", 200, &name) || optional(r, "email", 254, &email))
		return;
	if (email && !plausible_email(email)) {
		server__unprocessable(r, "email", NULL, "'email' is not an email address");
		return;
	}
	fl_random_bytes(raw, sizeof(raw));
	fl_hex(hex, raw, sizeof(raw));
	snprintf(token, sizeof(token), TOKEN_PREFIX "%s", hex);
	server_token_hash(token, hash);
	fl_random_bytes(raw, 16);
	fl_hex(hex, raw, 16);
	snprintf(id, sizeof(id), "chs_%s", hex);
	rc = store_chat_session_insert(server__store(r), id, hash, name, email, r->addr, &s);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "chat session", NULL);
		return;
	}
	server__reply_json(r, 201, json_pack("{s:s, s:s, s:b}", "session_id", id, "visitor_token", token,
					     "agents_available", agents_available(r)));
	json_decref(s);
}

static void session_get(struct server_req *r)
{
	json_t *s = visitor(r, false);

	if (!s)
		return;
	server__reply_json(r, 200, session_view(r, s));
	json_decref(s);
}

/* The first message: its ticket (validated as every door does), linked to the session, one transaction. */
static json_t *first_message(struct server_req *r, const json_t *s, const char *text)
{
	struct store *st = server__store(r);
	json_t *in = chat_first_ticket(s, text), *ticket = NULL, *errors = NULL, *out = NULL, *cust = NULL;
	char *key;
	int rc;

	/* a visitor the CRM knows by email is that customer */
	if (fl_json_str(s, "email", NULL) &&
	    store_customer_find_by_email(st, fl_json_str(s, "email", ""), &cust) == STORE_OK)
		json_object_set(in, "customer_id", json_object_get(cust, "id"));
	json_decref(cust);
	if (support_ticket_validate(in, fl_wall_us(), &ticket, &errors) != SUPPORT_OK) {
		json_t *refusal = support_ticket_refusal(errors);
		const char *field = fl_json_str(refusal, "field", "");

		server__unprocessable(r, !strcmp(field, "content") ? "text" : field,
				      json_incref(json_object_get(refusal, "details")), "%s",
				      fl_json_str(refusal, "message", ""));
		json_decref(refusal);
		goto out;
	}
	json_object_del(ticket, "id");   /* Frontline numbers it (T-000042) */
	key = fl_asprintf("chat:%s", fl_json_str(s, "id", ""));
	rc = store_begin(st);
	if (!rc)
		rc = store_ticket_intake(st, ticket, FL_JOB_TRIAGE, key, &out, NULL);
	if (!rc)
		rc = store_chat_session_link(st, fl_json_str(s, "id", ""), fl_json_str(out, "id", ""));
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	free(key);
	if (rc != STORE_OK) {
		json_decref(out);
		out = NULL;
		/* two first messages at once: the other made the ticket; this one joins it */
		server__store_error(r, rc, "chat session", fl_json_str(s, "id", NULL));
		goto out;
	}
	server__notify_job(r);
	server__live_chat_bind(r->srv->live, fl_json_str(s, "id", ""), fl_json_int(out, "number", 0));
out:
	json_decref(in);
	json_decref(ticket);
	json_decref(errors);
	return out;
}

/* A later message joins the thread; a settled ticket is reopened as email does. */
static int later_message(struct server_req *r, const json_t *s, const char *text)
{
	struct store *st = server__store(r);
	const char *id = fl_json_str(s, "ticket_id", ""), *status = fl_json_str(s, "ticket_status", "");
	const char *author = fl_json_str(s, "name", fl_json_str(s, "email", "visitor"));
	json_t *m = json_pack("{s:s, s:s, s:s}", "direction", "inbound", "author", author, "body", text);
	json_t *t = NULL, *upd = NULL;
	int rc;

	rc = store_begin(st);
	if (!rc)
		rc = store_message_add(st, id, m, NULL, NULL);
	if (!rc && (!strcmp(status, FL_STATUS_RESOLVED) || !strcmp(status, FL_STATUS_CLOSED))) {
		json_t *fields = json_pack("{s:s, s:n}", "status", FL_STATUS_NEW, "resolved_at");

		rc = store_ticket_get(st, id, false, &t);
		if (!rc)
			rc = store_ticket_update(st, id, fl_json_int(t, "version", 0), fields, "chat", &upd);
		if (!rc) {
			json_t *data = json_pack("{s:s}", "from", status);

			rc = store_event_append(st, id, FL_EVENT_TICKET_REOPENED, "chat", data);
			json_decref(data);
		}
		json_decref(fields);
	}
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	json_decref(m);
	json_decref(t);
	json_decref(upd);
	if (rc != STORE_OK)
		server__store_error(r, rc, "ticket", id);
	return rc;
}

static void message_post(struct server_req *r)
{
	json_t *s = visitor(r, false), *t = NULL, *msgs = NULL, *seen;
	const char *text;
	int64_t last = 0;
	size_t n;

	if (!s)
		return;
	if (server__body_str(r, "text", true, CHAT_TEXT_MAX, &text))
		goto out;
	if (json_is_null(json_object_get(s, "ticket_id"))) {
		if (!(t = first_message(r, s, text)))
			goto out;
		json_object_set(s, "ticket_id", json_object_get(t, "id"));
	} else if (later_message(r, s, text)) {
		goto out;
	}
	server__live_wake(r->srv->live);
	/* the visitor's message as the conversation shows it: the thread's last inbound */
	if (store_message_list(server__store(r), fl_json_str(s, "ticket_id", ""), &msgs) != STORE_OK) {
		server__store_error(r, STORE_EINTERNAL, "ticket", fl_json_str(s, "ticket_id", NULL));
		goto out;
	}
	seen = chat_visible_messages(msgs, 0);
	for (n = json_array_size(seen); n > 0; n--)
		if (!strcmp(fl_json_str(json_array_get(seen, n - 1), "from", ""), "visitor")) {
			last = n;
			break;
		}
	server__reply_json(r, 201, json_pack("{s:O, s:O}", "message",
					     last ? json_array_get(seen, last - 1) : json_null(), "reference",
					     json_object_get(s, "ticket_id")));
	json_decref(seen);
out:
	json_decref(msgs);
	json_decref(t);
	json_decref(s);
}

static void messages_get(struct server_req *r)
{
	json_t *s = visitor(r, false), *msgs = NULL, *view;
	int64_t after;
	int rc;

	if (!s)
		return;
	if (server__query_int(r, "after", 0, INT64_MAX, 0, &after))
		goto out;
	if (json_is_null(json_object_get(s, "ticket_id"))) {
		view = json_array();
	} else {
		rc = store_message_list(server__store(r), fl_json_str(s, "ticket_id", ""), &msgs);
		if (rc != STORE_OK) {
			server__store_error(r, rc, "ticket", fl_json_str(s, "ticket_id", NULL));
			goto out;
		}
		view = chat_visible_messages(msgs, after);
	}
	server__reply_json(r, 200, json_pack("{s:o, s:s?, s:b}", "messages", view, "status",
					     chat_visitor_status(fl_json_str(s, "ticket_status", NULL)), "agents_available",
					     agents_available(r)));
out:
	json_decref(msgs);
	json_decref(s);
}

static void stream(struct server_req *r)
{
	json_t *s = visitor(r, true);
	struct server_stream *str = NULL;
	int rc;

	if (!s)
		return;
	rc = server__live_open_visitor(r, fl_json_str(s, "id", ""), fl_json_int(s, "number", 0), &str);
	json_decref(s);
	server__live_answer(r, rc, str);
}

static void typing(struct server_req *r)
{
	json_t *s = visitor(r, false), *v;

	if (!s)
		return;
	v = json_object_get(r->json, "typing");
	if (!json_is_boolean(v)) {
		server__unprocessable(r, "typing", NULL, "'typing' must be true or false");
	} else {
		if (!json_is_null(json_object_get(s, "number")))
			server__live_chat_typing(r->srv->live, server__store(r), fl_json_str(s, "ticket_id", ""),
						 fl_json_int(s, "number", 0), json_is_true(v));
		server__reply_text(r, 204, NULL, "", 0);
	}
	json_decref(s);
}

static void by_email(struct server_req *r)
{
	json_t *s = visitor(r, false), *again = NULL;
	const char *email;
	char hash[65];
	int rc;

	if (!s)
		return;
	if (server__body_str(r, "email", true, 254, &email))
		goto out;
	if (!plausible_email(email)) {
		server__unprocessable(r, "email", NULL, "'email' is not an email address");
		goto out;
	}
	rc = store_chat_session_by_email(server__store(r), fl_json_str(s, "id", ""), email);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "chat session", fl_json_str(s, "id", NULL));
		goto out;
	}
	server_token_hash(token_of(r, false), hash);
	rc = store_chat_session_find(server__store(r), fl_json_str(s, "id", ""), hash, &again);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "chat session", fl_json_str(s, "id", NULL));
		goto out;
	}
	server__reply_json(r, 200, session_view(r, again));
out:
	json_decref(again);
	json_decref(s);
}

const char *server__chat_reply_address(struct server_req *r, const json_t *ticket, json_t **session)
{
	*session = NULL;
	if (store_chat_session_of_ticket(server__store(r), fl_json_str(ticket, "id", ""), session) != STORE_OK)
		return NULL;
	if (!fl_json_bool(*session, "by_email", false))
		return NULL;
	return fl_json_str(*session, "email", NULL);
}

#define BODY SERVER_ROUTE_JSON_BODY
#define OPT (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__chat_routes[] = {
	{ "POST", "/api/v1/chat/sessions", session_create, SERVER_ROLE_PUBLIC, OPT,
	  "open a chat session (the widget's visitor): its id and the visitor's token, shown once" },
	{ "GET", "/api/v1/chat/sessions/{id}", session_get, SERVER_ROLE_PUBLIC, 0,
	  "a chat session as its visitor sees it (visitor token)" },
	{ "POST", "/api/v1/chat/sessions/{id}/messages", message_post, SERVER_ROLE_PUBLIC, BODY,
	  "the visitor's message: the first makes a ticket (channel chat), later ones join it (visitor token)" },
	{ "GET", "/api/v1/chat/sessions/{id}/messages", messages_get, SERVER_ROLE_PUBLIC, 0,
	  "the conversation, never notes, analysis or drafts (visitor token)" },
	{ "GET", "/api/v1/chat/sessions/{id}/stream", stream, SERVER_ROLE_PUBLIC, 0,
	  "the visitor's live stream (Server-Sent Events): new messages, typing, status (token as Bearer or ?token=)" },
	{ "POST", "/api/v1/chat/sessions/{id}/typing", typing, SERVER_ROLE_PUBLIC, BODY,
	  "the visitor is typing or stopped (visitor token)" },
	{ "POST", "/api/v1/chat/sessions/{id}/email", by_email, SERVER_ROLE_PUBLIC, BODY,
	  "continue the conversation by email at this address (visitor token)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
