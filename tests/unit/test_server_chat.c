/*
 * The chat widget's API over real HTTP (server_fixture.h): a session and
 * its token; the first message makes a chat ticket, later ones join it;
 * the visitor's view of the thread (never notes); the visitor's stream
 * announces an agent's reply at once (not emailed) and shows typing both
 * ways (the visitor's across replicas too); another visitor's token gets
 * nothing; origins and rate limits;
 * continuing by email. And the channel's rules (channels/chat) directly.
 */
#include "test_helpers.h"

#include "channels/chat/chat.h"
#include "server_fixture.h"

#define WAIT_FOR FX_SSE_WAIT

/* A chat request: token as Bearer (may be NULL), an Origin header when origin is not NULL. */
static void chat(struct fx *f, const char *method, const char *path, const char *token, const char *body,
		 const char *origin, struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", f->base, path), h[256];
	const char *headers[2] = { h, NULL };
	struct http_req req = { method, url, token, NULL, body, 0, origin ? headers : NULL, 0 };

	snprintf(h, sizeof(h), "Origin: %s", origin ? origin : "");
	http_do(&req, out);
	free(url);
	if (out->error)
		fail_msg("%s %s: %s", method, path, out->error);
}

struct visitor {
	char id[64], token[96];
};

static void open_session(struct fx *f, const char *body, struct visitor *v)
{
	struct http_resp r;

	chat(f, "POST", "/api/v1/chat/sessions", NULL, body, NULL, &r);
	fx_expect(&r, 201, NULL);
	snprintf(v->id, sizeof(v->id), "%s", fl_json_str(r.json, "session_id", ""));
	snprintf(v->token, sizeof(v->token), "%s", fl_json_str(r.json, "visitor_token", ""));
	assert_true(fl_str_has_prefix(v->id, "chs_"));
	assert_true(fl_str_has_prefix(v->token, "flc_"));
	http_resp_release(&r);
}

/* POST a visitor's message; the ticket's reference into ref (may be NULL). */
static void say(struct fx *f, const struct visitor *v, const char *text, char ref[32])
{
	char *path = fl_asprintf("/api/v1/chat/sessions/%s/messages", v->id);
	json_t *b = json_pack("{s:s}", "text", text);
	char *body = json_dumps(b, 0);
	struct http_resp r;

	chat(f, "POST", path, v->token, body, NULL, &r);
	fx_expect(&r, 201, NULL);
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "text", ""), text);
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "from", ""), "visitor");
	if (ref)
		snprintf(ref, 32, "%s", fl_json_str(r.json, "reference", ""));
	http_resp_release(&r);
	json_decref(b);
	free(body);
	free(path);
}

/* The visitor's conversation (GET .../messages), a new reference. */
static json_t *conversation(struct fx *f, const struct visitor *v)
{
	char *path = fl_asprintf("/api/v1/chat/sessions/%s/messages", v->id);
	struct http_resp r;
	json_t *m;

	chat(f, "GET", path, v->token, NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	m = json_incref(json_object_get(r.json, "messages"));
	http_resp_release(&r);
	free(path);
	return m;
}

static void agent_post(struct fx *f, const char *path, const char *body, long status)
{
	struct http_resp r;

	fx_call(f, "POST", path, f->agent, body, &r);
	fx_expect(&r, status, NULL);
	http_resp_release(&r);
}

static void test_chat_first_message_makes_a_ticket_and_replies_reach_the_stream(void **state)
{
	struct fx *f = *state;
	struct visitor v;
	char ref[32], path[256], *agent_h = fl_asprintf("Authorization: Bearer %s\r\n", f->agent);
	struct fx_sse vs, as;
	struct http_resp r;
	json_t *conv;

	fx_start(f, 0, false);
	open_session(f, "{\"name\":\"Vera Visitor\",\"email\":\"vera@example.com\"}", &v);
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/stream?token=%s", v.id, v.token);
	fx_sse_open(&vs, service_port(f->svc), path, NULL);
	WAIT_FOR(&vs, "retry: ");
	assert_non_null(strstr(vs.text.buf, "Content-Type: text/event-stream"));
	fx_sse_open(&as, service_port(f->svc), "/api/v1/stream", agent_h);
	WAIT_FOR(&as, "retry: ");

	say(f, &v, "My parcel has not arrived after two weeks.", ref);
	assert_true(fl_str_has_prefix(ref, "T-"));
	snprintf(path, sizeof(path), "/api/v1/tickets/%s", ref);
	fx_call(f, "GET", path, f->agent, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "channel", ""), "chat");
	assert_string_equal(fl_json_str(r.json, "content", ""), "My parcel has not arrived after two weeks.");
	assert_string_equal(fl_json_str(json_object_get(r.json, "metadata"), "chat_session", ""), v.id);
	http_resp_release(&r);

	/* a note is the agents' alone; a reply reaches the visitor's stream, and no inbox */
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/notes", ref);
	agent_post(f, path, "{\"body\":\"internal: courier lost it\"}", 201);
	WAIT_FOR(&as, "event: ticket.noted\n");
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/replies", ref);
	agent_post(f, path, "{\"body\":\"Sorry! A new parcel goes out today.\"}", 201);
	WAIT_FOR(&vs, "event: message\n");
	assert_null(strstr(vs.text.buf, "courier"));
	assert_null(strstr(vs.text.buf, "ticket.noted"));
	assert_int_equal(fx_outbox_to(f, "vera@example.com"), 0);
	conv = conversation(f, &v);
	assert_int_equal(json_array_size(conv), 2);
	assert_string_equal(fl_json_str(json_array_get(conv, 1), "from", ""), "agent");
	assert_string_equal(fl_json_str(json_array_get(conv, 1), "text", ""), "Sorry! A new parcel goes out today.");
	json_decref(conv);

	/* a later message joins the thread */
	say(f, &v, "Thanks, that is great news.", NULL);
	WAIT_FOR(&as, "event: ticket.customer_replied\n");
	conv = conversation(f, &v);
	assert_int_equal(json_array_size(conv), 3);
	json_decref(conv);

	/* typing both ways: the agent's presence, the visitor's typing */
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/typing", v.id);
	chat(f, "POST", path, v.token, "{\"typing\":true}", NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&as, "event: chat.typing\n");
	/* settled: the visitor is told, and nothing is emailed */
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/resolve", ref);
	agent_post(f, path, "{}", 200);
	WAIT_FOR(&vs, "event: status\ndata: {\"status\":\"resolved\"}");
	assert_int_equal(fx_outbox_to(f, "vera@example.com"), 0);
	fx_sse_close(&vs);
	fx_sse_close(&as);
	free(agent_h);
}

static void test_chat_agent_typing_reaches_the_visitor(void **state)
{
	struct fx *f = *state;
	struct visitor v;
	struct fx_session s;
	char ref[32], path[256];
	struct fx_sse vs;
	struct http_resp r;

	fx_make_user(f, "ann@example.com", "agent", "correct horse battery");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "correct horse battery", &s);
	open_session(f, NULL, &v);
	say(f, &v, "Can I change my delivery address?", ref);
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/stream", v.id);
	{
		char *h = fl_asprintf("Authorization: Bearer %s\r\n", v.token);

		fx_sse_open(&vs, service_port(f->svc), path, h);
		free(h);
	}
	WAIT_FOR(&vs, "retry: ");
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/presence", ref);
	fx_call_session(f, "POST", path, &s, true, "{\"state\":\"replying\"}", &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&vs, "\"who\":\"agent\",\"typing\":true");
	/* the agent's name and email stay with the agents */
	assert_null(strstr(vs.text.buf, "ann@example.com"));
	/* someone is there: the console was used a moment ago */
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s", v.id);
	chat(f, "GET", path, v.token, NULL, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_true(fl_json_bool(r.json, "agents_available", false));
	http_resp_release(&r);
	fx_sse_close(&vs);
}

static void test_chat_another_visitors_token_gets_nothing(void **state)
{
	struct fx *f = *state;
	struct visitor a, b;
	char path[256], ref[32];
	const char *paths[] = { "", "/messages", "/stream" };
	struct http_resp r;
	struct fx_sse bs;
	size_t i;

	fx_start(f, 0, false);
	open_session(f, NULL, &a);
	open_session(f, NULL, &b);
	say(f, &a, "Private: my account number is 12345678.", ref);
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/stream?token=%s", b.id, b.token);
	fx_sse_open(&bs, service_port(f->svc), path, NULL);
	WAIT_FOR(&bs, "retry: ");
	for (i = 0; i < FL_ARRAY_SIZE(paths); i++) {
		snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s%s", a.id, paths[i]);
		chat(f, "GET", path, b.token, NULL, NULL, &r);
		fx_expect(&r, 404, "not_found");
		assert_null(strstr(r.body, "12345678"));
		http_resp_release(&r);
		chat(f, "GET", path, NULL, NULL, NULL, &r);
		fx_expect(&r, 401, NULL);
		http_resp_release(&r);
	}
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/messages", a.id);
	chat(f, "POST", path, b.token, "{\"text\":\"I am not who you think I am.\"}", NULL, &r);
	fx_expect(&r, 404, NULL);
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/email", a.id);
	chat(f, "POST", path, b.token, "{\"email\":\"thief@example.com\"}", NULL, &r);
	fx_expect(&r, 404, NULL);
	http_resp_release(&r);
	/* a's session's events never reach b's stream */
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/replies", ref);
	agent_post(f, path, "{\"body\":\"We have noted your account.\"}", 201);
	assert_false(fx_sse_wait(&bs, "event: message", 1500));
	assert_false(fx_sse_wait(&bs, "event: typing", 10));
	fx_sse_close(&bs);
	/* an admin token is not a visitor token */
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/messages", a.id);
	chat(f, "GET", path, f->admin, NULL, NULL, &r);
	fx_expect(&r, 401, NULL);
	http_resp_release(&r);
}

static void test_chat_checks_origins_and_limits_requests(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int i, limited = 0;

	fl_config_set("FRONTLINE_CHAT_ORIGINS", "https://shop.example.com, https://*.example.org");
	fl_config_set("FRONTLINE_CHAT_RATE_LIMIT", "0.01");
	fl_config_set("FRONTLINE_CHAT_RATE_BURST", "4");
	fx_start(f, 0, false);
	chat(f, "POST", "/api/v1/chat/sessions", NULL, NULL, "https://evil.example.net", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	chat(f, "POST", "/api/v1/chat/sessions", NULL, NULL, "https://shop.example.com", &r);
	fx_expect(&r, 201, NULL);
	assert_false(fl_json_bool(r.json, "agents_available", true));   /* nobody signed in */
	http_resp_release(&r);
	chat(f, "POST", "/api/v1/chat/sessions", NULL, "{\"email\":\"not an address\"}", "https://help.example.org",
	     &r);
	fx_expect(&r, 422, NULL);
	http_resp_release(&r);
	/* four in a burst per address, then 429 with Retry-After */
	for (i = 0; i < 4; i++) {
		chat(f, "POST", "/api/v1/chat/sessions", NULL, NULL, NULL, &r);
		if (r.status == 429) {
			char *ra = http_resp_header(&r, "Retry-After");

			assert_non_null(ra);
			free(ra);
			limited++;
		}
		http_resp_release(&r);
	}
	assert_true(limited >= 1);
	fl_config_set("FRONTLINE_CHAT_ORIGINS", "");
	fl_config_set("FRONTLINE_CHAT_RATE_LIMIT", "2");
	fl_config_set("FRONTLINE_CHAT_RATE_BURST", "30");
}

static void test_chat_continues_by_email_when_asked(void **state)
{
	struct fx *f = *state;
	struct visitor v;
	char path[256], ref[32];
	struct http_resp r;

	fx_start(f, 0, false);
	open_session(f, "{\"name\":\"Otto\"}", &v);
	say(f, &v, "Is anyone there? I need help with an invoice.", ref);
	snprintf(path, sizeof(path), "/api/v1/chat/sessions/%s/email", v.id);
	chat(f, "POST", path, v.token, "{\"email\":\"otto@example.com\"}", NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_true(fl_json_bool(r.json, "by_email", false));
	assert_string_equal(fl_json_str(r.json, "reference", ""), ref);
	http_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/tickets/%s/replies", ref);
	agent_post(f, path, "{\"body\":\"Here is your corrected invoice.\"}", 201);
	assert_int_equal(fx_outbox_to(f, "otto@example.com"), 1);
}

static void test_chat_rules(void **state)
{
	json_t *msgs, *seen, *t, *s;
	char *text;
	size_t len;

	(void)state;
	assert_true(chat_origin_allowed("https://a.example.com,https://b.example.com", "https://b.example.com"));
	assert_true(chat_origin_allowed("https://A.example.com/", "https://a.example.com"));
	assert_true(chat_origin_allowed("https://*.example.com", "https://x.y.example.com"));
	assert_false(chat_origin_allowed("https://*.example.com", "https://example.com"));
	assert_false(chat_origin_allowed("https://*.example.com", "https://evilexample.com"));
	assert_false(chat_origin_allowed("https://a.example.com", "http://a.example.com"));
	assert_false(chat_origin_allowed("https://a.example.com", "https://a.example.com:8443"));
	assert_false(chat_origin_allowed("https://a.example.com", "https://a.example.com.evil.net"));
	assert_false(chat_origin_allowed("https://a.example.com", "https://a.example.com/x"));
	assert_false(chat_origin_allowed("", "https://a.example.com"));
	assert_false(chat_origin_allowed(NULL, "https://a.example.com"));
	msgs = json_pack("[{s:i, s:s, s:s, s:s}, {s:i, s:s, s:s, s:s}, {s:i, s:s, s:s, s:s, s:s},"
			 " {s:i, s:s, s:s, s:s}]", "id", 1, "direction", "inbound", "author", "v", "body", "hi there",
			 "id", 2, "direction", "note", "author", "a", "body", "secret", "id", 3, "direction",
			 "outbound", "author", "frontline", "body", "draft", "approval", "pending", "id", 4,
			 "direction", "outbound", "author", "frontline", "body", "answer");
	assert_non_null(msgs);
	seen = chat_visible_messages(msgs, 0);
	assert_int_equal(json_array_size(seen), 2);
	assert_string_equal(fl_json_str(json_array_get(seen, 1), "text", ""), "answer");
	assert_true(fl_json_bool(json_array_get(seen, 1), "automatic", false));
	json_decref(seen);
	seen = chat_visible_messages(msgs, 1);
	assert_int_equal(json_array_size(seen), 1);
	json_decref(seen);
	json_decref(msgs);
	s = json_pack("{s:s, s:s}", "id", "chs_1", "name", "Vera");
	t = chat_first_ticket(s, "Where is my parcel?\nOrdered on Monday.");
	assert_string_equal(fl_json_str(t, "subject", ""), "Where is my parcel?");
	assert_string_equal(fl_json_str(t, "customer_id", ""), "chat:chs_1");
	assert_string_equal(fl_json_str(t, "channel", ""), "chat");
	json_decref(t);
	json_decref(s);
	t = json_pack("{s:i, s:s}", "message_id", 3, "direction", "outbound");
	assert_null(chat_visitor_event("ticket.noted", t, &len));
	text = chat_visitor_event("ticket.replied", t, &len);
	assert_string_equal(text, "event: message\ndata: {\"message_id\":3}\n\n");
	assert_int_equal(len, strlen(text));
	free(text);
	json_decref(t);
	/* the triage's statuses are not the visitor's; settling is */
	t = json_pack("{s:s, s:s}", "from", "new", "to", "escalated");
	assert_null(chat_visitor_event("ticket.status", t, &len));
	json_decref(t);
	t = json_pack("{s:s, s:s}", "from", "waiting_on_customer", "to", "resolved");
	text = chat_visitor_event("ticket.status", t, &len);
	assert_string_equal(text, "event: status\ndata: {\"status\":\"resolved\"}\n\n");
	free(text);
	json_decref(t);
}

/*
 * Two replicas on one store: the visitor's typing reaches replica B, the
 * agent's stream is on replica A, and sees it (read from the store).
 */
static void test_chat_visitor_typing_reaches_agents_on_another_replica(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, 0, SERVICE_HTTP);
	struct service *other = NULL;
	struct visitor v;
	char ref[32], *url, *auth = fl_asprintf("Authorization: Bearer %s\r\n", f->agent), *err = NULL;
	struct fx_sse as;
	struct http_resp r;

	fx_start(f, 0, false);
	if (service_new(&o, &other, &err) != SERVICE_OK || service_start(other, &err) != SERVICE_OK)
		fail_msg("the second replica: %s", err);
	open_session(f, NULL, &v);
	say(f, &v, "Is my order on its way?", ref);
	fx_sse_open(&as, service_port(f->svc), "/api/v1/stream", auth);
	WAIT_FOR(&as, "retry: ");
	url = fl_asprintf("http://127.0.0.1:%u/api/v1/chat/sessions/%s/typing", service_port(other), v.id);
	{
		struct http_req q = { "POST", url, v.token, NULL, "{\"typing\":true}", 0, NULL, 0 };

		http_do(&q, &r);
	}
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&as, "event: chat.typing\n");
	assert_non_null(strstr(as.text.buf, "\"typing\":true"));
	{
		struct http_req q = { "POST", url, v.token, NULL, "{\"typing\":false}", 0, NULL, 0 };

		http_do(&q, &r);
	}
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
	WAIT_FOR(&as, "\"typing\":false");
	fx_sse_close(&as);
	service_free(other);
	free(url);
	free(auth);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_chat_rules),
	FX_TEST(test_chat_first_message_makes_a_ticket_and_replies_reach_the_stream),
	FX_TEST(test_chat_agent_typing_reaches_the_visitor),
	FX_TEST(test_chat_visitor_typing_reaches_agents_on_another_replica),
	FX_TEST(test_chat_another_visitors_token_gets_nothing),
	FX_TEST(test_chat_checks_origins_and_limits_requests),
	FX_TEST(test_chat_continues_by_email_when_asked),
};

int main(void)
{
	return FX_RUN("server_chat", tests) ? 1 : 0;
}
