/*
 * From a matched request to its handler: who is asking (a Bearer token with
 * a role, a console session's cookie with its user's role and, for changes,
 * its CSRF token, or an HMAC signature for the webhook), whether that role
 * may use the route, whether the token or person has requests left in its
 * bucket, and whether the body is the JSON the route expects. Handlers then
 * only do their job.
 *
 * Authorizing runs when the headers are in, before the body: a token found
 * in the lookup cache needs no store connection, and one that is not, like
 * a session, holds a connection only for its lookup. Nothing is held while the client sends
 * its body; the handler's connection is borrowed in server__dispatch.
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"
#include "notify/notify.h"

bool server__changes(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/*
 * Who token is: from the cache, else from the store on a connection held
 * for the lookup alone. An address that presented too many unknown tokens
 * gets 429 before any lookup. Returns 0, 401, 429 (answered) or 503.
 */
static int lookup(struct server_req *r, const char *token)
{
	struct server_tokens *t = r->srv->tokens;
	struct store *st;
	char hash[65];
	int rc, wait;

	if (!server__tokens_cached(t, token, hash, &r->auth))
		return 0;
	wait = server__tokens_fail_wait(t, r->addr, fl_mono_us());
	if (wait) {
		server__rate_limited_by(r, wait, "too many unknown or revoked tokens from this address");
		return 429;
	}
	st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS);
	if (!st)
		return 503;
	rc = server__tokens_fetch(t, st, hash, &r->auth);
	server__pool_put(r->srv->pool, st);
	if (rc == 401)
		server__tokens_fail_note(t, r->addr, fl_mono_us());
	return rc;
}

void server__authorize(struct server_req *r)
{
	const struct server_route *route = r->match.route;
	const char *h, *token;
	int rc, wait;

	if (route->role == SERVER_ROLE_PUBLIC || route->role == SERVER_ROLE_SIGNED)
		return;
	h = server__header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!h && server__session_cookie(r)) {
		/* a person signed in to the console: the session's role, and CSRF for changes */
		if (server__session_auth(r, false))
			return;
		if (server__changes(r->method) && !server__csrf_ok(r->auth.session, server__header(r, "X-CSRF-Token"))) {
			server__forbidden(r, "missing or wrong X-CSRF-Token (GET /api/v1/session gives it)");
			return;
		}
	} else {
		if (!h || strncasecmp(h, "Bearer ", 7)) {
			server__unauthorized(r, "missing bearer token (Authorization: Bearer <token>) or session");
			return;
		}
		token = h + 7;
		while (*token == ' ')
			token++;
		if (!*token || strlen(token) > 200) {
			server__unauthorized(r, "malformed bearer token");
			return;
		}
		rc = lookup(r, token);
		if (rc == 429)
			return;
		if (rc == 401) {
			server__unauthorized(r, "unknown or revoked API token");
			return;
		}
		if (rc) {
			server__unavailable(r, 2, "cannot check the API token now; retry shortly");
			return;
		}
	}
	if (r->auth.role < route->role) {
		server__forbidden(r, route->role == SERVER_ROLE_ADMIN
					     ? "this route needs an admin token"
					     : "this route needs an agent or admin token");
		return;
	}
	/* one bucket per token, and per person (negative keys) */
	wait = server__tokens_take(r->srv->tokens, r->auth.token_id ? r->auth.token_id : -r->auth.user_id,
				   fl_mono_us());
	if (wait)
		server__rate_limited(r, wait);
}

static bool verify_signature(struct server_req *r)
{
	enum notify_verdict v;

	if (!r->srv->webhook_key) {
		/* refusing is safer than accepting unsigned tickets */
		server__unavailable(r, 60, "webhook intake is not configured (FRONTLINE_WEBHOOK_SECRET is unset)");
		return false;
	}
	v = notify_verify_key(r->srv->webhook_key, server__header(r, "X-Frontline-Timestamp"),
			  server__header(r, "X-Frontline-Signature"), r->body.buf, r->body.len,
			  fl_wall_us() / 1000000, r->srv->opts.webhook_tolerance_s);
	if (v != NOTIFY_SIG_OK) {
		server__unauthorized(r, notify_verdict_text(v));
		return false;
	}
	return true;
}

void server__dispatch(struct server_req *r)
{
	const struct server_route *route = r->match.route;

	if (route->role == SERVER_ROLE_SIGNED && !verify_signature(r))
		return;
	if (!(route->flags & SERVER_ROUTE_NO_STORE) && !r->st) {
		r->st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS);
		if (!r->st) {
			fl_log(FL_LOG_WARN, "server: no store connection free within %d ms for %s %s",
			       SERVER_STORE_WAIT_MS, r->method, route->path);
			server__unavailable(r, 1, "the server is busy; retry shortly");
			return;
		}
	}
	if (route->flags & SERVER_ROUTE_JSON_BODY) {
		if (!r->body.len && (route->flags & SERVER_ROUTE_OPTIONAL_BODY)) {
			r->json = json_object();
		} else if (!r->body.len) {
			server__bad_request(r, NULL, "request body is empty; expected a JSON object");
			return;
		} else {
			r->json = server__parse_json(r, r->body.buf, r->body.len, r->srv->opts.max_json_depth, true);
			if (!r->json)
				return;
		}
	}
	route->handler(r);
	if (!r->responded && !r->suspended)
		server__internal(r, "handler for %s %s gave no response", route->method, route->path);
}

char *server__actor(const struct server_req *r)
{
	if (r->auth.token_id || r->auth.user_id)
		return fl_asprintf("%s:%s", server_role_name(r->auth.role), r->auth.name);
	if (r->match.route && r->match.route->role == SERVER_ROLE_SIGNED)
		return fl_strdup("webhook");
	return fl_strdup("api");
}

void server__notify_job(struct server_req *r)
{
	if (r->srv->opts.on_job)
		r->srv->opts.on_job(r->srv->opts.on_job_arg);
}

void server__notify_outbox(struct server_req *r)
{
	if (r->srv->opts.on_outbox)
		r->srv->opts.on_outbox(r->srv->opts.on_outbox_arg);
}
