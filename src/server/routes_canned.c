/*
 * /api/v1/canned: canned responses, the texts agents insert into a reply
 * (the console offers them after '/'). Agents read them; admins write them
 * under an id of their choosing (PUT creates or replaces) and delete them.
 */
#include "server_int.h"
#include "store/store.h"

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_canned_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "canned responses", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "canned", out));
}

static void put(struct server_req *r)
{
	const char *title, *body, *id = server__param(r, 0);
	char *actor;
	json_t *out = NULL;
	bool created = false;
	int rc;

	if (server__body_str(r, "title", true, 200, &title) || server__body_str(r, "body", true, 50000, &body))
		return;
	actor = server__actor(r);
	rc = store_canned_put(server__store(r), id, title, body, actor, &out, &created);
	free(actor);
	if (rc == STORE_EINVAL) {
		server__unprocessable(r, NULL, NULL, "%s", store_errmsg(r->st));
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "canned response", id);
		return;
	}
	server__reply_json(r, created ? 201 : 200, out);
}

static void del(struct server_req *r)
{
	const char *id = server__param(r, 0);
	int rc = store_canned_delete(server__store(r), id);

	if (rc == STORE_EINVAL)
		rc = STORE_ENOTFOUND;   /* an id that cannot exist names nothing */
	if (rc != STORE_OK) {
		server__store_error(r, rc, "canned response", id);
		return;
	}
	server__reply_text(r, 204, NULL, "", 0);
}

const struct server_route server__canned_routes[] = {
	{ "GET", "/api/v1/canned", list, SERVER_ROLE_AGENT, 0, "canned responses, by title" },
	{ "PUT", "/api/v1/canned/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create or replace a canned response" },
	{ "DELETE", "/api/v1/canned/{id}", del, SERVER_ROLE_ADMIN, 0, "delete a canned response" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
