/*
 * /api/v1/customers: the CRM cache (the seed's customers and whoever
 * writes to us). Agents read; admins write. Privacy (docs/OPERATIONS.md):
 * admins export everything stored about a customer and erase it
 * (store_customer_export, store_customer_erase), the erasure audited under
 * the admin's name.
 */
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "store/store.h"

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int64_t limit, offset;
	int rc;

	if (server__query_int(r, "limit", 1, 500, 100, &limit) ||
	    server__query_int(r, "offset", 0, INT32_MAX, 0, &offset))
		return;
	rc = store_customer_list(server__store(r), (int)limit, (int)offset, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "customers", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "customers", out));
}

static void get(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *out = NULL;
	int rc = store_customer_get(server__store(r), id, &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "customer", id);
		return;
	}
	server__reply_json(r, 200, out);
}

static void put(struct server_req *r)
{
	const char *id = server__param(r, 0);
	const json_t *given = json_object_get(r->json, "id");
	json_t *c, *out = NULL;
	const char *tier;
	int rc;

	if (given && (!json_is_string(given) || strcmp(json_string_value(given), id))) {
		server__unprocessable(r, "id", NULL, "'id' in the body must match the path ('%s')", id);
		return;
	}
	if (server__body_str(r, "tier", false, 32, &tier))
		return;
	c = json_deep_copy(r->json);
	json_object_set_new(c, "id", json_string(id));
	rc = store_customer_upsert(server__store(r), c);
	json_decref(c);
	if (rc == STORE_EINVAL) {
		server__unprocessable(r, NULL, NULL, "invalid customer: %s", store_errmsg(r->st));
		return;
	}
	if (rc == STORE_OK)
		rc = store_customer_get(server__store(r), id, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "customer", id);
		return;
	}
	server__reply_json(r, 200, out);
}

static void export(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *out = NULL;
	int rc = store_customer_export(server__store(r), id, &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "customer", id);
		return;
	}
	server__reply_json(r, 200, out);
}

static void erase(struct server_req *r)
{
	const char *id = server__param(r, 0);
	char *actor = server__actor(r);
	json_t *out = NULL;
	int rc = store_customer_erase(server__store(r), id, actor, &out);

	free(actor);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "customer", id);
		return;
	}
	server__reply_json(r, 200, out);
}

const struct server_route server__customer_routes[] = {
	{ "GET", "/api/v1/customers", list, SERVER_ROLE_AGENT, 0, "list customers" },
	{ "GET", "/api/v1/customers/{id}", get, SERVER_ROLE_AGENT, 0, "a customer (CRM record)" },
	{ "PUT", "/api/v1/customers/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create or update a customer" },
	{ "GET", "/api/v1/customers/{id}/export", export, SERVER_ROLE_ADMIN, 0,
	  "everything stored about a customer (privacy)" },
	{ "POST", "/api/v1/customers/{id}/erase", erase, SERVER_ROLE_ADMIN, 0,
	  "erase a customer's personal data (privacy)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
