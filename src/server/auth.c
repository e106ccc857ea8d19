/*
 * People's credentials: passwords and console sessions.
 *
 * Passwords are hashed with libsodium's Argon2id (crypto_pwhash_str), at
 * the cost FRONTLINE_PASSWORD_COST names: libsodium's INTERACTIVE limits by
 * default, MODERATE when asked; "min" (libsodium's MIN limits, never lower)
 * is for test suites, where sanitizers make the full cost slow. A hash
 * carries its own cost, so verifying needs no setting. An email that names
 * no user is verified against a hash of the same cost, so that a wrong
 * email takes as long as a wrong password.
 *
 * A session is a random secret ("fls_" and 64 hex digits) in an HttpOnly,
 * SameSite=Strict cookie; the store keeps only its SHA-256 (256 random bits
 * leave nothing to brute-force). Its CSRF token is derived from the secret
 * (BLAKE2b keyed by it), so that GET /api/v1/session can give a new page
 * the token again without the store holding it; a request that changes
 * anything with the cookie must present it in X-CSRF-Token, compared in
 * constant time. Bearer tokens need none: a cross-site page cannot send
 * them.
 */
#include <string.h>
#include <strings.h>
#include <sodium.h>

#include "server_int.h"
#include "store/store.h"

#define SESSION_PREFIX "fls_"
#define SESSION_RAW 32
#define CSRF_CONTEXT "frontline csrf v1"

static void sodium_ready(void)
{
	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
}

/* ---- passwords ---- */

int server_password_cost(const char *name, unsigned long long *ops, size_t *mem)
{
	if (!name || !strcmp(name, "interactive")) {
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (!strcmp(name, "moderate")) {
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (!strcmp(name, "min")) {
		/* for test suites only (docs/CONFIGURATION.md); libsodium's floor, never below it */
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		return -1;
	}
	return 0;
}

int server_password_hash(const char *password, char out[SERVER_PASSWORD_HASH_SIZE])
{
	unsigned long long ops;
	size_t mem;

	sodium_ready();
	if (server_password_cost(fl_config_get("FRONTLINE_PASSWORD_COST"), &ops, &mem))
		return -1;
	return crypto_pwhash_str(out, password, strlen(password), ops, mem) ? -1 : 0;
}

bool server_password_verify(const char *hash, const char *password)
{
	sodium_ready();
	return hash && password && !crypto_pwhash_str_verify(hash, password, strlen(password));
}

const char *server_password_problem(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	if (n < SERVER_PASSWORD_MIN)
		return "a password has at least 8 characters";
	if (n > SERVER_PASSWORD_MAX)
		return "a password has at most 1024 bytes";
	if (fl_utf8_invalid_at(password, n) >= 0)
		return "a password must be valid UTF-8";
	return NULL;
}

void server_password_generate(char out[SERVER_PASSWORD_GENERATED])
{
	/* no 0/O, 1/l/I: read aloud or copied by hand without doubt */
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t i;

	sodium_ready();
	for (i = 0; i < SERVER_PASSWORD_GENERATED - 1; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[i] = '\0';
}

/* The hash an unknown email is checked against (same cost as a real one), made on first use. */
static const char *dummy_hash(struct server *srv)
{
	pthread_mutex_lock(&srv->auth_lock);
	if (!srv->dummy_hash[0]) {
		char pw[SERVER_PASSWORD_GENERATED];

		server_password_generate(pw);
		if (server_password_hash(pw, srv->dummy_hash))
			srv->dummy_hash[0] = '\0';
	}
	pthread_mutex_unlock(&srv->auth_lock);
	return srv->dummy_hash;
}

bool server__password_check(struct server *srv, const char *hash, const char *password)
{
	if (!hash) {
		/* the work a real check does, and a refusal whatever the password */
		server_password_verify(dummy_hash(srv), password);
		return false;
	}
	return server_password_verify(hash, password);
}

/* ---- sessions ---- */

void server__session_new(char secret[SERVER_SESSION_SIZE], char hash_hex[65])
{
	unsigned char raw[SESSION_RAW];

	fl_random_bytes(raw, sizeof(raw));
	memcpy(secret, SESSION_PREFIX, sizeof(SESSION_PREFIX) - 1);
	fl_hex(secret + sizeof(SESSION_PREFIX) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	server_token_hash(secret, hash_hex);
}

/* Whether s has the form of a session secret, with its raw bytes in raw. */
static bool session_raw(const char *s, unsigned char raw[SESSION_RAW])
{
	return s && strlen(s) == SERVER_SESSION_SIZE - 1 && !strncmp(s, SESSION_PREFIX, 4) &&
	       !fl_unhex(raw, s + 4, SESSION_RAW);
}

int server__csrf_token(const char *secret, char out[65])
{
	unsigned char raw[SESSION_RAW], mac[32];

	if (!session_raw(secret, raw))
		return -1;
	sodium_ready();
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)CSRF_CONTEXT, sizeof(CSRF_CONTEXT) - 1, raw,
			   sizeof(raw));
	fl_hex(out, mac, sizeof(mac));
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

bool server__csrf_ok(const char *secret, const char *presented)
{
	char want[65];
	bool ok;

	if (!presented || strlen(presented) != 64 || server__csrf_token(secret, want))
		return false;
	ok = !sodium_memcmp(want, presented, 64);
	sodium_memzero(want, sizeof(want));
	return ok;
}

const char *server__session_cookie(struct server_req *r)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, SERVER_SESSION_COOKIE);

	return v && *v ? v : NULL;
}

void server__set_session_cookie(struct server_req *r, const char *secret, int max_age_s)
{
	const char *pub = fl_config_get("FRONTLINE_PUBLIC_URL");
	bool secure = pub && !strncasecmp(pub, "https:", 6);
	char *v = fl_asprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s", SERVER_SESSION_COOKIE,
			      secret ? secret : "", secret ? max_age_s : 0, secure ? "; Secure" : "");

	server__add_header(r, "Set-Cookie", v);
	free(v);
}

/* 401 for a request without a live session; a cookie it brought is cleared, so that it is not sent again. */
static void no_session(struct server_req *r, const char *secret)
{
	if (secret)
		server__set_session_cookie(r, NULL, 0);
	server__unauthorized(r, "not signed in (or the session has ended): sign in again");
}

/*
 * An available agent whose previous request is older than
 * FRONTLINE_AGENT_IDLE_S counted as away; this request ends that, and the
 * agent takes the department's queue as on becoming available (issue 18,
 * assignment). user is the session's, its last_seen_at as before this
 * request. Failures are logged: the request goes on.
 */
static void back_from_idle(struct store *st, const json_t *user)
{
	int idle = (int)fl_config_int("FRONTLINE_AGENT_IDLE_S", 900);
	int64_t seen;

	if (!fl_str_eq(fl_json_str(user, "availability", NULL), "available") ||
	    !fl_json_str(user, "department", NULL) || fl_time_parse(fl_json_str(user, "last_seen_at", ""), &seen) ||
	    fl_wall_us() - seen < (int64_t)idle * 1000000)
		return;
	if (store_assign_queued(st, fl_json_int(user, "id", 0), idle, 200, NULL) != STORE_OK)
		fl_log(FL_LOG_WARN, "cannot assign the queue to user %lld back from idle: %s",
		       (long long)fl_json_int(user, "id", 0), store_errmsg(st));
}

int server__session_auth(struct server_req *r, bool quiet)
{
	const char *secret = server__session_cookie(r);
	struct store *st = r->st;
	char hash[65];
	json_t *s = NULL, *u;
	int rc, role;

	if (!secret || strlen(secret) != SERVER_SESSION_SIZE - 1) {
		if (!quiet)
			no_session(r, secret);
		return 401;
	}
	server_token_hash(secret, hash);
	/*
	 * Authorizing runs before the body: a connection is borrowed for the
	 * lookup alone (a handler's own, when it asks, is already there).
	 */
	if (!st && !(st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS))) {
		if (!quiet)
			server__unavailable(r, 1, "the server is busy; retry shortly");
		return 503;
	}
	rc = store_session_find(st, hash, (int)fl_config_int("FRONTLINE_SESSION_IDLE_S", 28800), &s);
	if (rc != STORE_OK && rc != STORE_ENOTFOUND)
		fl_log(FL_LOG_ERROR, "cannot look up a session: %s", store_errmsg(st));
	if (rc == STORE_OK)
		back_from_idle(st, json_object_get(s, "user"));
	if (st != r->st)
		server__pool_put(r->srv->pool, st);
	if (rc == STORE_ENOTFOUND) {
		if (!quiet)
			no_session(r, secret);
		return 401;
	}
	if (rc != STORE_OK) {
		if (!quiet)
			server__unavailable(r, 2, "cannot check the session now; retry shortly");
		return 503;
	}
	u = json_object_get(s, "user");
	role = server_role_parse(fl_json_str(u, "role", ""));
	memset(&r->auth, 0, sizeof(r->auth));
	r->auth.user_id = fl_json_int(u, "id", 0);
	r->auth.role = role == SERVER_ROLE_ADMIN ? SERVER_ROLE_ADMIN : SERVER_ROLE_AGENT;
	r->auth.by_cookie = true;
	fl_strlcpy(r->auth.name, fl_json_str(u, "email", ""), sizeof(r->auth.name));
	fl_strlcpy(r->auth.session, secret, sizeof(r->auth.session));
	json_decref(r->user);
	r->user = json_incref(u);
	json_decref(s);
	return 0;
}
