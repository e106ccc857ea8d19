/*
 * The console's live routes: GET /api/v1/stream (Server-Sent Events of
 * the audit log and presence; live.c runs it) and a ticket's presence
 * (POST says "I am viewing / replying / gone", GET lists who is there).
 * Presence is a signed-in person's (a session), kept in the store so that
 * every replica's streams see it, and lasts 60 seconds unless repeated
 * (the console repeats it every 20 seconds while a ticket is open).
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

#define PRESENCE_TTL_US (60 * INT64_C(1000000))

static void stream(struct server_req *r)
{
	const char *h = server__header(r, "Last-Event-ID");
	const char *q = server__query(r, "last_event_id");
	const char *given = h && *h ? h : q && *q ? q : NULL;
	struct server_stream *s = NULL;
	int64_t after = -1;
	int rc;

	if (given && fl_parse_int64(given, 0, INT64_MAX, &after)) {
		server__bad_request(r, h && *h ? "Last-Event-ID" : "last_event_id",
				    "Last-Event-ID must be an event id (a non-negative integer)");
		return;
	}
	rc = server__live_open(r, after, &s);
	server__live_answer(r, rc, s);
}

void server__live_answer(struct server_req *r, int rc, struct server_stream *s)
{
	if (rc == 1) {
		server__unavailable(r, 2, "the server is shutting down; reconnect to another instance");
		return;
	}
	if (rc) {
		server__unavailable(r, 10, "too many live streams on this server (FRONTLINE_STREAM_MAX)");
		return;
	}
	r->stream = s;
	r->responded = true;
	r->status = 200;
	r->content_type = "text/event-stream; charset=utf-8";
	/* open for hours: not a request in flight that a stop should wait for */
	server__uncount(r);
}

static void presence_set(struct server_req *r)
{
	const char *state, *id = server__param(r, 0);
	int rc;

	if (!r->auth.user_id) {
		server__forbidden(r, "presence is a signed-in person's: use the console's session");
		return;
	}
	if (server__body_str(r, "state", true, 16, &state))
		return;
	if (fl_word_index(fl_presence_states, state) < 0) {
		server__unprocessable(r, "state", NULL, "'state' must be viewing, replying or left");
		return;
	}
	rc = store_presence_set(server__store(r), id, r->auth.user_id, state);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "ticket", id);
		return;
	}
	server__reply_text(r, 204, NULL, "", 0);
}

static void presence_get(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *rows = NULL, *out = json_array(), *p;
	size_t i;
	int rc = store_presence_list(server__store(r), id, fl_wall_us() - PRESENCE_TTL_US, &rows);

	if (rc != STORE_OK) {
		json_decref(out);
		server__store_error(r, rc, "ticket", id);
		return;
	}
	json_array_foreach(rows, i, p) {
		if (!strcmp(fl_json_str(p, "state", ""), FL_PRESENCE_LEFT))
			continue;
		json_array_append_new(out, json_pack("{s:O, s:O, s:O}", "user", json_object_get(p, "user"), "state",
						     json_object_get(p, "state"), "at", json_object_get(p, "at")));
	}
	json_decref(rows);
	server__reply_json(r, 200, json_pack("{s:o}", "presence", out));
}

const struct server_route server__live_routes[] = {
	{ "GET", "/api/v1/stream", stream, SERVER_ROLE_AGENT, 0,
	  "the live stream (Server-Sent Events): ticket events and presence" },
	{ "POST", "/api/v1/tickets/{id}/presence", presence_set, SERVER_ROLE_AGENT, SERVER_ROUTE_JSON_BODY,
	  "say who is viewing or replying to a ticket (lasts 60 s unless repeated)" },
	{ "GET", "/api/v1/tickets/{id}/presence", presence_get, SERVER_ROLE_AGENT, 0,
	  "who is viewing or replying to a ticket now" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
