/*
 * /api/v1/users: the people who sign in to the console. Agents may list
 * them (the console's assignment picker shows them); admins create them
 * (a password is generated and shown once when none is given) and change
 * them: name, role, department, skills, disabled, password. Disabling a
 * user or changing a password signs that user out everywhere (the store
 * ends the sessions in the same transaction). The last enabled admin can
 * be neither demoted nor disabled, so that someone can always manage the
 * rest.
 *
 * Assignment (issue 18): admins set a user's max_open (null: the
 * department's maximum) through the same update; an agent sets its own
 * availability (PUT /api/v1/users/me/availability), and becoming available
 * gives it the oldest queued tickets of its department.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_user_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "users", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "users", out));
}

/*
 * The body's "password" checked and hashed into hash; with generate and no
 * password given, a new one in generated. 1 when none was given (and none
 * generated), 0 when hash is set, -1 when answered.
 */
static int password_of(struct server_req *r, bool generate, char hash[SERVER_PASSWORD_HASH_SIZE],
		       char generated[SERVER_PASSWORD_GENERATED])
{
	const char *pw, *problem;

	generated[0] = '\0';
	if (server__body_str(r, "password", false, SERVER_PASSWORD_MAX, &pw))
		return -1;
	if (!pw && !generate)
		return 1;
	if (!pw) {
		server_password_generate(generated);
		pw = generated;
	} else if ((problem = server_password_problem(pw))) {
		server__unprocessable(r, "password", NULL, "%s", problem);
		return -1;
	}
	if (server_password_hash(pw, hash)) {
		server__internal(r, "cannot hash the password (FRONTLINE_PASSWORD_COST is '%s')",
				 fl_config_get("FRONTLINE_PASSWORD_COST"));
		return -1;
	}
	return 0;
}

/* The body without its password (the store takes the hash apart). */
static json_t *fields_of(struct server_req *r)
{
	json_t *f = json_copy(r->json);

	json_object_del(f, "password");
	return f;
}

static void create(struct server_req *r)
{
	char hash[SERVER_PASSWORD_HASH_SIZE], generated[SERVER_PASSWORD_GENERATED];
	json_t *fields, *out = NULL, *body;
	int rc;

	if (password_of(r, true, hash, generated) < 0)
		return;
	fields = fields_of(r);
	rc = store_user_insert(server__store(r), fields, hash, &out);
	json_decref(fields);
	if (rc == STORE_ECONSTRAINT) {
		server__error(r, 409, "conflict", "email", NULL, "a user with the email '%s' exists",
			      fl_json_str(r->json, "email", ""));
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "user", NULL);
		return;
	}
	body = json_pack("{s:o}", "user", out);
	/* the only time a generated password leaves the server */
	if (generated[0])
		json_object_set_new(body, "password", json_string(generated));
	server__reply_json(r, 201, body);
}

/* Whether the change leaves no enabled admin: the target is the last one and stops being one. */
static int last_admin(struct server_req *r, int64_t id, bool *last)
{
	const char *role = fl_json_str(r->json, "role", NULL);
	bool demote = (role && strcmp(role, FL_ROLE_ADMIN)) || fl_json_bool(r->json, "disabled", false);
	json_t *users = NULL, *u;
	int64_t others = 0;
	bool target = false;
	size_t i;
	int rc;

	*last = false;
	if (!demote)
		return STORE_OK;
	rc = store_user_list(server__store(r), &users);
	if (rc != STORE_OK)
		return rc;
	json_array_foreach(users, i, u) {
		bool admin = !strcmp(fl_json_str(u, "role", ""), FL_ROLE_ADMIN) && !fl_json_bool(u, "disabled", false);

		if (fl_json_int(u, "id", 0) == id)
			target = admin;
		else if (admin)
			others++;
	}
	json_decref(users);
	*last = target && !others;
	return STORE_OK;
}

static void update(struct server_req *r)
{
	char hash[SERVER_PASSWORD_HASH_SIZE], generated[SERVER_PASSWORD_GENERATED];
	json_t *fields, *out = NULL;
	int64_t id;
	bool last;
	int rc, pw;

	if (fl_parse_int64(server__param(r, 0), 1, INT64_MAX, &id)) {
		server__not_found(r, "user", server__param(r, 0));
		return;
	}
	if ((pw = password_of(r, false, hash, generated)) < 0)
		return;
	rc = last_admin(r, id, &last);
	if (rc == STORE_OK && last) {
		server__conflict(r, NULL, "user %lld is the last admin: make another admin first", (long long)id);
		return;
	}
	fields = fields_of(r);
	if (rc == STORE_OK)
		rc = store_user_update(server__store(r), id, fields, pw ? NULL : hash, &out);
	json_decref(fields);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "user", server__param(r, 0));
		return;
	}
	server__reply_json(r, 200, out);
}

/* PUT /api/v1/users/me/availability {"availability": "available" | "away" | "offline"} */
static void availability(struct server_req *r)
{
	const char *a;
	json_t *out = NULL, *assigned = NULL, *fields;
	int rc;

	if (!r->auth.user_id) {
		server__forbidden(r, "only a signed-in person has an availability (not an API token)");
		return;
	}
	if (server__body_str(r, "availability", true, 16, &a))
		return;
	if (strcmp(a, "available") && strcmp(a, "away") && strcmp(a, "offline")) {
		server__unprocessable(r, "availability", NULL, "'availability' must be available, away or offline");
		return;
	}
	fields = json_pack("{s:s}", "availability", a);
	rc = store_user_update(server__store(r), r->auth.user_id, fields, NULL, &out);
	json_decref(fields);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "user", NULL);
		return;
	}
	if (!strcmp(a, "available"))
		server__assign_queue(r, r->auth.user_id, &assigned);
	server__reply_json(r, 200, json_pack("{s:s, s:o, s:o}", "availability", a, "user", out, "assigned",
					      assigned ? assigned : json_array()));
}

const struct server_route server__user_routes[] = {
	{ "GET", "/api/v1/users", list, SERVER_ROLE_AGENT, 0, "the people who sign in to the console" },
	{ "POST", "/api/v1/users", create, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "add a person (a generated password is shown once when none is given)" },
	{ "PATCH", "/api/v1/users/{id}", update, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "change a person: name, role, department, skills, disabled, password, max_open" },
	{ "PUT", "/api/v1/users/me/availability", availability, SERVER_ROLE_AGENT, SERVER_ROUTE_JSON_BODY,
	  "set your availability (available, away, offline); available takes your department's queue" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
