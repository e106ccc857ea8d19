/*
 * /api/v1/session: signing in to the console, who is signed in, signing
 * out (auth.c has the passwords, cookies and CSRF tokens).
 *
 * Failed sign-ins are counted in the store (so every replica sees them)
 * per account and per client address over FRONTLINE_LOGIN_WINDOW seconds.
 * From half of FRONTLINE_LOGIN_MAX_FAILURES on, every answer for that
 * account or address is slowed, one second more per failure (at most
 * ten), the connection suspended meanwhile rather than an HTTP thread
 * asleep (later.c); at the maximum the answer is 429 with Retry-After
 * until the oldest failure leaves the window. An address gets five times
 * an account's allowance (an office shares one). A wrong email and a
 * wrong password are the same 401 after the same work.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

#define WRONG "wrong email or password"
#define MAX_DELAY_MS 10000
#define ADDRESS_FACTOR 5

/* The user as the session shows it. */
static json_t *user_view(const json_t *u)
{
	json_t *v = json_object();
	static const char *const keys[] = { "id", "email", "name", "role", "department", "skills", "availability",
					    "max_open" };
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		json_t *x = json_object_get(u, keys[i]);

		json_object_set(v, keys[i], x ? x : json_null());
	}
	return v;
}

static json_t *session_body(const json_t *user, const char *secret)
{
	char csrf[65];

	if (server__csrf_token(secret, csrf))
		csrf[0] = '\0';
	return json_pack("{s:o, s:s}", "user", user_view(user), "csrf_token", csrf);
}

/* Failures of key: *n and the seconds until the oldest leaves the window. */
static int failures(struct server_req *r, const char *key, int window, int64_t *n, int64_t *retry_s)
{
	int64_t oldest = 0;
	int rc = store_login_failures(server__store(r), key, window, n, &oldest);

	*retry_s = oldest ? (oldest + (int64_t)window * 1000000 - fl_wall_us() + 999999) / 1000000 : 1;
	if (*retry_s < 1)
		*retry_s = 1;
	return rc;
}

/* The delay of an answer after n failures where max refuses. */
static int64_t slowdown_ms(int64_t n, int64_t max)
{
	int64_t from = max / 2, ms;

	if (n < from || from < 1)
		return 0;
	ms = (n - from + 1) * 1000;
	return ms > MAX_DELAY_MS ? MAX_DELAY_MS : ms;
}

static void sign_in(struct server_req *r)
{
	struct store *st = server__store(r);
	int64_t max = fl_config_int("FRONTLINE_LOGIN_MAX_FAILURES", 10);
	int window = (int)fl_config_int("FRONTLINE_LOGIN_WINDOW", 900);
	int idle = (int)fl_config_int("FRONTLINE_SESSION_IDLE_S", 28800);
	int maxage = (int)fl_config_int("FRONTLINE_SESSION_MAX_S", 86400);
	const char *email, *password, *addr;
	char secret[SERVER_SESSION_SIZE], hash[65], *akey = NULL, *ikey = NULL, *stored = NULL;
	int64_t na = 0, ni = 0, ra = 0, ri = 0, delay;
	json_t *user = NULL, *session = NULL;
	char *p;
	int rc;

	if (server__body_str(r, "email", true, 254, &email) ||
	    server__body_str(r, "password", true, SERVER_PASSWORD_MAX, &password))
		return;
	if (max < 1)
		max = 1;
	if (window < 1)
		window = 1;
	/* the client's address, as server.c read it (empty only off a socket) */
	addr = r->addr[0] ? r->addr : "unknown";
	akey = fl_asprintf("account:%s", email);
	for (p = akey; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	ikey = fl_asprintf("address:%s", addr);
	if ((rc = failures(r, akey, window, &na, &ra)) || (rc = failures(r, ikey, window, &ni, &ri))) {
		server__store_error(r, rc, "sign-in", NULL);
		goto out;
	}
	if (na >= max || ni >= max * ADDRESS_FACTOR) {
		char v[24];

		snprintf(v, sizeof(v), "%lld", (long long)(na >= max ? ra : ri));
		server__add_header(r, "Retry-After", v);
		server__error(r, 429, "rate_limited", NULL, NULL,
			      "too many failed sign-ins for this %s; retry after %s s",
			      na >= max ? "account" : "address", v);
		goto out;
	}
	delay = slowdown_ms(na, max);
	if (slowdown_ms(ni, max * ADDRESS_FACTOR) > delay)
		delay = slowdown_ms(ni, max * ADDRESS_FACTOR);
	rc = store_user_find_by_email(st, email, &user, &stored);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND) {
		server__store_error(r, rc, "sign-in", NULL);
		goto out;
	}
	if (!server__password_check(r->srv, stored, password)) {
		if ((rc = store_login_failure_add(st, akey, window)) || (rc = store_login_failure_add(st, ikey, window))) {
			server__store_error(r, rc, "sign-in", NULL);
			goto out;
		}
		fl_log(FL_LOG_INFO, "failed sign-in for '%s' from %s", email, addr);
		server__unauthorized(r, WRONG);
		server__answer_later(r, delay);
		goto out;
	}
	if (fl_json_bool(user, "disabled", false)) {
		server__forbidden(r, "this account is disabled: ask an admin");
		server__answer_later(r, delay);
		goto out;
	}
	server__session_new(secret, hash);
	if ((rc = store_login_failures_clear(st, akey)) ||
	    (rc = store_session_insert(st, fl_json_int(user, "id", 0), hash, addr, idle, maxage, &session))) {
		server__store_error(r, rc, "session", NULL);
		goto out;
	}
	/* back at the console: an available agent takes the department's queue (issue 18, assignment) */
	if (fl_str_eq(fl_json_str(user, "availability", NULL), "available"))
		server__assign_queue(r, fl_json_int(user, "id", 0), NULL);
	server__set_session_cookie(r, secret, maxage);
	server__reply_json(r, 200, session_body(json_object_get(session, "user"), secret));
	server__answer_later(r, delay);
out:
	if (stored)
		memset(stored, 0, strlen(stored));
	free(stored);
	free(akey);
	free(ikey);
	json_decref(user);
	json_decref(session);
}

static void whoami(struct server_req *r)
{
	if (server__session_auth(r, false))
		return;
	server__reply_json(r, 200, session_body(r->user, r->auth.session));
}

static void sign_out(struct server_req *r)
{
	char hash[65];
	int rc;

	/* no live session: nothing to end, but the cookie goes all the same */
	if (!server__session_auth(r, true)) {
		if (!server__csrf_ok(r->auth.session, server__header(r, "X-CSRF-Token"))) {
			server__forbidden(r, "missing or wrong X-CSRF-Token (GET /api/v1/session gives it)");
			return;
		}
		server_token_hash(r->auth.session, hash);
		rc = store_session_delete(server__store(r), hash);
		if (rc != STORE_OK) {
			server__store_error(r, rc, "session", NULL);
			return;
		}
	}
	server__set_session_cookie(r, NULL, 0);
	server__reply_text(r, 204, NULL, "", 0);
}

const struct server_route server__session_routes[] = {
	{ "POST", "/api/v1/session", sign_in, SERVER_ROLE_PUBLIC, SERVER_ROUTE_JSON_BODY,
	  "sign in to the console: a session cookie and its CSRF token" },
	{ "GET", "/api/v1/session", whoami, SERVER_ROLE_PUBLIC, 0,
	  "who is signed in, and the session's CSRF token" },
	{ "DELETE", "/api/v1/session", sign_out, SERVER_ROLE_PUBLIC, 0, "sign out" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
