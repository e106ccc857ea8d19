/*
 * People and sessions over real HTTP (server_fixture.h): signing in (the
 * cookie's attributes, the same 401 for a wrong email and a wrong
 * password), the session as a token of the user's role on every route,
 * the CSRF token that changes made with the cookie need (and bearer tokens
 * do not), signing out, sessions that have ended, failed sign-ins slowed
 * then refused per account and per address, /api/v1/users for admins, and
 * sessions looked up without holding a store connection while a body
 * arrives.
 */
#include "test_helpers.h"

#include <unistd.h>

#include "server_fixture.h"

/* Ends every session behind the server's back: their end is in the past. */
static void end_sessions(struct fx *f)
{
	fx_sql(f, "UPDATE sessions SET expires_at = 0");
}

static const char *creds(const char *email, const char *password)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
	return buf;
}

static void test_sign_in_sets_a_strict_cookie_and_gives_the_csrf_token(void **state)
{
	struct fx *f = *state;
	struct fx_session s;
	struct http_resp r;
	char *set;

	fx_make_user(f, "ann@example.com", "agent", "correct horse");
	fx_start(f, 0, false);
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("Ann@Example.com", "correct horse"), &r);
	fx_expect(&r, 200, NULL);
	set = http_resp_header(&r, "Set-Cookie");
	assert_non_null(set);
	assert_true(fl_str_has_prefix(set, "fl_session=fls_"));
	assert_non_null(strstr(set, "; HttpOnly"));
	assert_non_null(strstr(set, "; SameSite=Strict"));
	assert_non_null(strstr(set, "; Path=/"));
	assert_null(strstr(set, "Secure"));   /* no FRONTLINE_PUBLIC_URL: plain http on loopback */
	assert_string_equal(fl_json_str(json_object_get(r.json, "user"), "email", ""), "ann@example.com");
	assert_string_equal(fl_json_str(json_object_get(r.json, "user"), "role", ""), "agent");
	assert_null(json_object_get(json_object_get(r.json, "user"), "password_hash"));
	assert_int_equal(strlen(fl_json_str(r.json, "csrf_token", "")), 64);
	free(set);
	http_resp_release(&r);
	/* a new page load learns who is signed in and the same CSRF token */
	fx_sign_in(f, "ann@example.com", "correct horse", &s);
	fx_call_session(f, "GET", "/api/v1/session", &s, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "csrf_token", ""), s.csrf);
	assert_int_equal(fl_json_int(json_object_get(r.json, "user"), "id", 0), s.user_id);
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/session", NULL, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	http_resp_release(&r);
	/* https: the cookie is Secure */
	fl_config_set("FRONTLINE_PUBLIC_URL", "https://support.example.com");
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("ann@example.com", "correct horse"), &r);
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
	fx_expect(&r, 200, NULL);
	set = http_resp_header(&r, "Set-Cookie");
	assert_non_null(strstr(set, "; Secure"));
	free(set);
	http_resp_release(&r);
}

static void test_wrong_email_and_wrong_password_look_the_same(void **state)
{
	struct fx *f = *state;
	struct http_resp a, b;

	fx_make_user(f, "ann@example.com", "agent", "correct horse");
	fx_start(f, 0, false);
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("ann@example.com", "wrong horse"), &a);
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("nobody@example.com", "wrong horse"), &b);
	fx_expect(&a, 401, "unauthorized");
	fx_expect(&b, 401, "unauthorized");
	assert_string_equal(a.body, b.body);
	assert_string_equal(fl_json_str(json_object_get(a.json, "error"), "message", ""), "wrong email or password");
	assert_null(strstr(a.headers, "Set-Cookie"));
	http_resp_release(&a);
	http_resp_release(&b);
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, "{\"email\":\"ann@example.com\"}", &a);
	fx_expect(&a, 422, "validation_failed");
	http_resp_release(&a);
}

static void test_the_session_works_like_a_token_of_its_role(void **state)
{
	struct fx *f = *state;
	struct fx_session agent, admin;
	struct http_resp r;
	char *set;
	char path[128];

	fx_make_user(f, "ann@example.com", "agent", "agent password");
	fx_make_user(f, "root@example.com", "admin", "admin password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "agent password", &agent);
	fx_sign_in(f, "root@example.com", "admin password", &admin);
	fx_call(f, "POST", "/api/v1/tickets", f->integ, fx_ticket_body("s1", "cust_001", "Login", "I cannot log in."),
		&r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tickets", &agent, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "tickets")), 1);
	http_resp_release(&r);
	/* a change with the cookie needs the CSRF token */
	snprintf(path, sizeof(path), "/api/v1/tickets/s1/notes");
	fx_call_session(f, "POST", path, &agent, false, "{\"body\":\"checked the logs\"}", &r);
	fx_expect(&r, 403, "forbidden");
	assert_non_null(strstr(fl_json_str(json_object_get(r.json, "error"), "message", ""), "X-CSRF-Token"));
	http_resp_release(&r);
	{
		struct fx_session wrong = agent;

		wrong.csrf[0] = wrong.csrf[0] == 'a' ? 'b' : 'a';
		fx_call_session(f, "POST", path, &wrong, true, "{\"body\":\"checked the logs\"}", &r);
		fx_expect(&r, 403, "forbidden");
		http_resp_release(&r);
		/* another session's token is not this one's */
		memcpy(wrong.csrf, admin.csrf, sizeof(wrong.csrf));
		fx_call_session(f, "POST", path, &wrong, true, "{\"body\":\"checked the logs\"}", &r);
		fx_expect(&r, 403, "forbidden");
		http_resp_release(&r);
	}
	fx_call_session(f, "POST", path, &agent, true, "{\"body\":\"checked the logs\"}", &r);
	fx_expect(&r, 201, NULL);
	/* the note is the user's: author and audit actor */
	assert_string_equal(fl_json_str(json_object_get(r.json, "message"), "author", ""), "ann@example.com");
	http_resp_release(&r);
	/* an agent's session is no admin's */
	fx_call_session(f, "GET", "/api/v1/tokens", &agent, false, NULL, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tokens", &admin, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	/* bearer tokens need no CSRF token */
	fx_call(f, "POST", path, f->agent, "{\"body\":\"by token\"}", &r);
	fx_expect(&r, 201, NULL);
	http_resp_release(&r);
	/* a forged or ended session is no session */
	{
		struct fx_session forged = agent;

		memcpy(forged.cookie + strlen("fl_session=fls_"), "00000000", 8);
		fx_call_session(f, "GET", "/api/v1/tickets", &forged, false, NULL, &r);
		fx_expect(&r, 401, "unauthorized");
		http_resp_release(&r);
	}
	end_sessions(f);
	fx_call_session(f, "GET", "/api/v1/tickets", &agent, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	/* the dead cookie is cleared: the browser does not send it again */
	set = http_resp_header(&r, "Set-Cookie");
	if (!set || !fl_str_has_prefix(set, "fl_session=;") || !strstr(set, "Max-Age=0"))
		fail_msg("401 for an ended session: Set-Cookie %s", set ? set : "(none)");
	free(set);
	http_resp_release(&r);
	/* without a cookie, none is set */
	fx_call_session(f, "GET", "/api/v1/session", NULL, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	set = http_resp_header(&r, "Set-Cookie");
	assert_null(set);
	http_resp_release(&r);
}

static void test_sign_out_needs_the_csrf_token_and_clears_the_cookie(void **state)
{
	struct fx *f = *state;
	struct fx_session s;
	struct http_resp r;
	char *set;

	fx_make_user(f, "ann@example.com", "agent", "agent password");
	fx_start(f, 0, false);
	fx_sign_in(f, "ann@example.com", "agent password", &s);
	fx_call_session(f, "DELETE", "/api/v1/session", &s, false, NULL, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call_session(f, "DELETE", "/api/v1/session", &s, true, NULL, &r);
	fx_expect(&r, 204, NULL);
	set = http_resp_header(&r, "Set-Cookie");
	assert_non_null(set);
	assert_true(fl_str_has_prefix(set, "fl_session=;"));
	assert_non_null(strstr(set, "Max-Age=0"));
	free(set);
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/session", &s, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	http_resp_release(&r);
	/* signed out already: the cookie is cleared all the same */
	fx_call_session(f, "DELETE", "/api/v1/session", &s, false, NULL, &r);
	fx_expect(&r, 204, NULL);
	http_resp_release(&r);
}

static void test_failed_sign_ins_are_slowed_then_refused_per_account(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	int64_t t0;
	char *retry;
	int i;

	fx_make_user(f, "ann@example.com", "agent", "agent password");
	fl_config_set("FRONTLINE_LOGIN_MAX_FAILURES", "4");   /* slowed from 2, refused at 4 */
	fx_start(f, 0, false);
	for (i = 0; i < 4; i++) {
		t0 = fl_mono_us();
		fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("ann@example.com", "guess"), &r);
		fx_expect(&r, 401, "unauthorized");
		http_resp_release(&r);
		/* the first two at once; then one second more per failure */
		if (i < 2)
			assert_true(fl_mono_us() - t0 < 900000);
		else
			assert_true(fl_mono_us() - t0 >= (i - 1) * INT64_C(1000000));
	}
	/* refused now, even with the right password */
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("ANN@example.com", "agent password"), &r);
	fx_expect(&r, 429, "rate_limited");
	retry = http_resp_header(&r, "Retry-After");
	assert_non_null(retry);
	assert_true(atoi(retry) > 800 && atoi(retry) <= 900);
	free(retry);
	http_resp_release(&r);
	/* another account from the same address is not refused */
	fx_make_user(f, "bob@example.com", "agent", "bob password");
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("bob@example.com", "bob password"), &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fl_config_set("FRONTLINE_LOGIN_MAX_FAILURES", "10");
}

static void test_failed_sign_ins_are_refused_per_address(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char email[64];
	int i;

	fx_make_user(f, "ann@example.com", "agent", "agent password");
	/* one failure per account; an address gets five times that */
	fl_config_set("FRONTLINE_LOGIN_MAX_FAILURES", "1");
	fx_start(f, 0, false);
	for (i = 0; i < 5; i++) {
		snprintf(email, sizeof(email), "guess%d@example.com", i);
		fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds(email, "guess"), &r);
		fx_expect(&r, 401, "unauthorized");
		http_resp_release(&r);
	}
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("ann@example.com", "agent password"), &r);
	fx_expect(&r, 429, "rate_limited");
	assert_non_null(strstr(fl_json_str(json_object_get(r.json, "error"), "message", ""), "address"));
	http_resp_release(&r);
	fl_config_set("FRONTLINE_LOGIN_MAX_FAILURES", "10");
}

static void test_admins_manage_users_over_the_api(void **state)
{
	struct fx *f = *state;
	struct fx_session admin, agent;
	struct http_resp r;
	char path[64], password[64];
	int64_t root, id;

	root = fx_make_user(f, "root@example.com", "admin", "admin password");
	fx_start(f, 0, false);
	fx_sign_in(f, "root@example.com", "admin password", &admin);
	/* a generated password, shown once */
	fx_call_session(f, "POST", "/api/v1/users", &admin, true,
			"{\"email\":\"Bob@Example.com\",\"name\":\"Bob\",\"role\":\"agent\",\"department\":\"billing\"}", &r);
	fx_expect(&r, 201, NULL);
	id = fl_json_int(json_object_get(r.json, "user"), "id", 0);
	assert_string_equal(fl_json_str(json_object_get(r.json, "user"), "email", ""), "bob@example.com");
	fl_strlcpy(password, fl_json_str(r.json, "password", ""), sizeof(password));
	assert_int_equal(strlen(password), 20);
	http_resp_release(&r);
	fx_sign_in(f, "bob@example.com", password, &agent);
	/* the email is taken in any case; a short password is refused */
	fx_call_session(f, "POST", "/api/v1/users", &admin, true,
			"{\"email\":\"bob@EXAMPLE.com\",\"name\":\"Bob 2\",\"role\":\"agent\"}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/users", &admin, true,
			"{\"email\":\"c@example.com\",\"name\":\"C\",\"role\":\"agent\",\"password\":\"short\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/users", &admin, true,
			"{\"email\":\"c@example.com\",\"name\":\"C\",\"role\":\"boss\"}", &r);
	fx_expect(&r, 422, "validation_failed");
	http_resp_release(&r);
	/* agents may list people (the assignment picker), not add them */
	fx_call_session(f, "GET", "/api/v1/users", &agent, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(r.json, "users")), 2);
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/users", &agent, true,
			"{\"email\":\"d@example.com\",\"name\":\"D\",\"role\":\"admin\"}", &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	/* the last admin stays one */
	snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)root);
	fx_call_session(f, "PATCH", path, &admin, true, "{\"role\":\"agent\"}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	fx_call_session(f, "PATCH", path, &admin, true, "{\"disabled\":true}", &r);
	fx_expect(&r, 409, "conflict");
	http_resp_release(&r);
	/* a new password signs the user out everywhere */
	snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)id);
	fx_call_session(f, "PATCH", path, &admin, true, "{\"name\":\"Bob B\",\"password\":\"a new password\"}", &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "name", ""), "Bob B");
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/session", &agent, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	http_resp_release(&r);
	fx_sign_in(f, "bob@example.com", "a new password", &agent);
	/* a disabled user cannot sign in */
	fx_call_session(f, "PATCH", path, &admin, true, "{\"disabled\":true}", &r);
	fx_expect(&r, 200, NULL);
	assert_true(fl_json_bool(r.json, "disabled", false));
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tickets", &agent, false, NULL, &r);
	fx_expect(&r, 401, "unauthorized");
	http_resp_release(&r);
	fx_call_session(f, "POST", "/api/v1/session", NULL, false, creds("bob@example.com", "a new password"), &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	fx_call_session(f, "PATCH", "/api/v1/users/9999", &admin, true, "{\"name\":\"X\"}", &r);
	fx_expect(&r, 404, "not_found");
	http_resp_release(&r);
}

/*
 * A session is looked up when the headers are in, on a store connection
 * borrowed for the lookup alone: bodies held back with a session cookie on
 * more connections than the pool has leave sign-in checks, reads and
 * changes answering (harden-http's rule, as for tokens).
 */
static void test_stalled_bodies_with_a_session_hold_no_store_connection(void **state)
{
	struct fx *f = *state;
	struct service_options o = fx_options(f, -1, SERVICE_HTTP);
	enum { STALLED = 8 };
	int fds[STALLED], i;
	struct fx_session s;
	struct http_resp r;
	int64_t t0;

	fx_make_user(f, "ann@example.com", "agent", "correct horse");
	o.http.threads = 2;   /* three store connections */
	o.http.timeout_s = 120;
	o.http.request_timeout_s = 120;
	fx_start_service(f, &o);
	fx_sign_in(f, "ann@example.com", "correct horse", &s);
	for (i = 0; i < STALLED; i++) {
		char *req = fl_asprintf("POST /api/v1/tickets/T-000001/notes HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n"
					"X-CSRF-Token: %s\r\nContent-Type: application/json\r\n"
					"Content-Length: 500\r\n\r\n{", s.cookie, s.csrf);

		fds[i] = http_raw_connect(server_port(f->srv));
		assert_true(fds[i] >= 0);
		assert_int_equal(http_raw_send(fds[i], req, strlen(req)), 0);
		free(req);
	}
	fl_sleep_us(300000);
	t0 = fl_mono_us();
	fx_call_session(f, "GET", "/api/v1/session", &s, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_call_session(f, "GET", "/api/v1/tickets/counts", &s, false, NULL, &r);
	fx_expect(&r, 200, NULL);
	http_resp_release(&r);
	fx_call_session(f, "PUT", "/api/v1/canned/greeting", &s, true, "{\"title\":\"Hi\",\"body\":\"Hello\"}", &r);
	fx_expect(&r, 403, "forbidden");   /* an agent: the role is checked, not a busy server's 503 */
	http_resp_release(&r);
	if (fl_mono_us() - t0 > 5 * INT64_C(1000000))
		fail_msg("requests with %d stalled session bodies took %lld ms", STALLED,
			 (long long)((fl_mono_us() - t0) / 1000));
	for (i = 0; i < STALLED; i++)
		close(fds[i]);
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_sign_in_sets_a_strict_cookie_and_gives_the_csrf_token),
	FX_TEST(test_wrong_email_and_wrong_password_look_the_same),
	FX_TEST(test_the_session_works_like_a_token_of_its_role),
	FX_TEST(test_sign_out_needs_the_csrf_token_and_clears_the_cookie),
	FX_TEST(test_failed_sign_ins_are_slowed_then_refused_per_account),
	FX_TEST(test_failed_sign_ins_are_refused_per_address),
	FX_TEST(test_admins_manage_users_over_the_api),
	FX_TEST(test_stalled_bodies_with_a_session_hold_no_store_connection),
};

int main(void)
{
	return FX_RUN("server_session", tests) ? 1 : 0;
}
