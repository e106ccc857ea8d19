/*
 * Operating the service through the API: dead-letter jobs (list, retry),
 * the outbox (list by status, retry a dead notification), alerts (active
 * and resolved), and API tokens (create: the secret is shown once; list;
 * revoke). Jobs, outbox and tokens are admin-only; agents may read alerts.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

static int path_id(struct server_req *r, const char *what, int64_t *id)
{
	if (fl_parse_int64(server__param(r, 0), 1, INT64_MAX, id)) {
		server__not_found(r, what, server__param(r, 0));
		return -1;
	}
	return 0;
}

/*
 * ?status= (one of statuses, or all) and ?limit= (1-1000, default 100), then
 * list(store, status, limit, out). On bad input or a store error the answer
 * is sent and -1 returned; what names the list in the error.
 */
static int list_by_status(struct server_req *r, const char *const *statuses,
			  int (*list)(struct store *, const char *, int, json_t **), const char *what,
			  json_t **out)
{
	const char *status;
	int64_t limit;
	int rc;

	*out = NULL;
	if (server__query_enum(r, "status", statuses, NULL, &status) ||
	    server__query_int(r, "limit", 1, 1000, 100, &limit))
		return -1;
	rc = list(server__store(r), status, (int)limit, out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, what, NULL);
		return -1;
	}
	return 0;
}

static void jobs(struct server_req *r)
{
	static const char *const statuses[] = { "queued", "running", "done", "dead", NULL };
	json_t *out = NULL, *counts = NULL;
	int rc;

	if (list_by_status(r, statuses, store_job_list, "jobs", &out))
		return;
	rc = store_job_counts(r->st, &counts);
	if (rc != STORE_OK) {
		json_decref(out);
		server__store_error(r, rc, "jobs", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o, s:o}", "jobs", out, "counts", counts));
}

static void job_retry(struct server_req *r)
{
	int64_t id;
	int rc;

	if (path_id(r, "job", &id))
		return;
	rc = store_job_retry(server__store(r), id);
	if (rc == STORE_ECONFLICT || rc == STORE_EINVAL) {
		server__conflict(r, NULL, "job %lld is not dead", (long long)id);
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "job", server__param(r, 0));
		return;
	}
	server__notify_job(r);
	server__reply_json(r, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "queued"));
}

static void outbox(struct server_req *r)
{
	static const char *const statuses[] = { "pending", "sending", "sent", "dead", NULL };
	json_t *out;

	if (!list_by_status(r, statuses, store_outbox_list, "outbox", &out))
		server__reply_json(r, 200, json_pack("{s:o}", "notifications", out));
}

static void outbox_retry(struct server_req *r)
{
	int64_t id;
	int rc;

	if (path_id(r, "notification", &id))
		return;
	rc = store_outbox_retry(server__store(r), id);
	if (rc == STORE_ECONFLICT) {
		server__conflict(r, NULL, "notification %lld is not dead", (long long)id);
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "notification", server__param(r, 0));
		return;
	}
	server__notify_outbox(r);
	server__reply_json(r, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "pending"));
}

static void alerts(struct server_req *r)
{
	static const char *const statuses[] = { "active", "resolved", NULL };
	json_t *out;

	if (!list_by_status(r, statuses, store_alert_list, "alerts", &out))
		server__reply_json(r, 200, json_pack("{s:o}", "alerts", out));
}

static void tokens(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_token_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "tokens", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "tokens", out));
}

static void token_create(struct server_req *r)
{
	const char *name, *role;
	char token[64], hash[65];
	json_t *out = NULL;
	int rc;

	if (server__body_str(r, "name", true, 63, &name) || server__body_str(r, "role", true, 16, &role))
		return;
	if (server_role_parse(role) < 0) {
		server__unprocessable(r, "role", NULL, "'role' must be admin, agent or integration");
		return;
	}
	server_token_generate(token, hash);
	rc = store_token_insert(server__store(r), name, role, hash, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "token", name);
		return;
	}
	/* the only time the secret leaves the server */
	json_object_set_new(out, "token", json_string(token));
	server__reply_json(r, 201, out);
}

static void token_revoke(struct server_req *r)
{
	int64_t id;
	int rc;

	if (path_id(r, "token", &id))
		return;
	rc = store_token_revoke(server__store(r), id);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "token", server__param(r, 0));
		return;
	}
	server__tokens_forget(r->srv->tokens);
	server__reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}

#define OPT_BODY (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__admin_routes[] = {
	{ "GET", "/api/v1/jobs", jobs, SERVER_ROLE_ADMIN, 0,
	  "jobs by status (status=dead: the dead-letter list) with counts" },
	{ "POST", "/api/v1/jobs/{id}/retry", job_retry, SERVER_ROLE_ADMIN, OPT_BODY,
	  "put a dead job back in the queue" },
	{ "GET", "/api/v1/outbox", outbox, SERVER_ROLE_ADMIN, 0,
	  "notifications by status (status=dead: undeliverable ones)" },
	{ "POST", "/api/v1/outbox/{id}/retry", outbox_retry, SERVER_ROLE_ADMIN, OPT_BODY,
	  "deliver a dead notification again" },
	{ "GET", "/api/v1/alerts", alerts, SERVER_ROLE_AGENT, 0, "monitoring alerts (status active or resolved)" },
	{ "GET", "/api/v1/tokens", tokens, SERVER_ROLE_ADMIN, 0, "API tokens (never their secrets)" },
	{ "POST", "/api/v1/tokens", token_create, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create an API token (the secret is shown once)" },
	{ "DELETE", "/api/v1/tokens/{id}", token_revoke, SERVER_ROLE_ADMIN, 0, "revoke an API token" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
