/*
 * /api/v1/departments: how each department's tickets find an agent (issue
 * 18, assignment). Admins read and set a department's mode ("off",
 * "round_robin", "load") and its default maximum of open tickets per
 * agent; agents may list the departments. The assignment itself happens in
 * the store (store_ticket_assign, when triage hands a ticket to a human)
 * and here, for the queue: server__assign_queue gives an agent who becomes
 * available (sets the availability, signs in, or whose department opens
 * up) the oldest queued tickets of the department, up to the maximum.
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"
#include "store/store.h"

/* How many queued tickets one call looks at (the oldest first). */
#define QUEUE_LOOK 200

int server__assign_queue(struct server_req *r, int64_t user_id, json_t **assigned)
{
	json_t *out = NULL;
	int rc = store_assign_queued(server__store(r), user_id, (int)fl_config_int("FRONTLINE_AGENT_IDLE_S", 900),
				     QUEUE_LOOK, &out);

	if (assigned)
		*assigned = rc == STORE_OK ? json_incref(json_object_get(out, "assigned")) : json_array();
	if (rc == STORE_OK && json_array_size(json_object_get(out, "assigned")))
		fl_log(FL_LOG_INFO, "assigned %zu queued tickets to user %lld",
		       json_array_size(json_object_get(out, "assigned")), (long long)user_id);
	else if (rc != STORE_OK)
		fl_log(FL_LOG_WARN, "cannot assign the queue to user %lld: %s", (long long)user_id,
		       store_errmsg(server__store(r)));
	json_decref(out);
	return rc;
}

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_department_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "departments", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "departments", out));
}

static void get(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_department_get(server__store(r), server__param(r, 0), &out);

	if (rc == STORE_EINVAL)
		rc = STORE_ENOTFOUND;   /* an id that cannot exist names nothing */
	if (rc != STORE_OK) {
		server__store_error(r, rc, "department", server__param(r, 0));
		return;
	}
	server__reply_json(r, 200, out);
}

static void put(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *out = NULL, *users = NULL, *u, *assigned = json_array(), *got;
	size_t i;
	char *actor;
	int rc;

	actor = server__actor(r);
	rc = store_department_put(server__store(r), id, r->json, actor, &out);
	free(actor);
	if (rc == STORE_EINVAL) {
		const char *msg = store_errmsg(r->st);

		server__unprocessable(r, strstr(msg, "'assignment'") ? "assignment"
				      : strstr(msg, "'max_open_per_agent'") ? "max_open_per_agent" : NULL,
				      NULL, "%s", msg);
		goto out;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "department", id);
		goto out;
	}
	/* a department that opens up (a mode that assigns, a higher maximum) gives its queue to its agents */
	if (strcmp(fl_json_str(out, "assignment", "off"), "off") && store_user_list(server__store(r), &users) == STORE_OK)
		json_array_foreach(users, i, u) {
			if (!fl_str_eq(fl_json_str(u, "availability", NULL), "available") ||
			    !fl_json_str(u, "department", NULL) || strcasecmp(fl_json_str(u, "department", ""), id))
				continue;
			if (server__assign_queue(r, fl_json_int(u, "id", 0), &got) == STORE_OK)
				json_array_extend(assigned, got);
			json_decref(got);
		}
	json_object_set(out, "assigned", assigned);
	server__reply_json(r, 200, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(users);
	json_decref(assigned);
}

const struct server_route server__department_routes[] = {
	{ "GET", "/api/v1/departments", list, SERVER_ROLE_AGENT, 0,
	  "the departments and how their tickets are assigned" },
	{ "GET", "/api/v1/departments/{id}", get, SERVER_ROLE_ADMIN, 0, "a department's assignment settings" },
	{ "PUT", "/api/v1/departments/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "set a department's assignment mode (off, round_robin, load) and maximum per agent" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
