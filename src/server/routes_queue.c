/*
 * What the console's queue and ticket view need beside routes_tickets.c:
 * the queues' counts, a ticket's corrections (PATCH: priority, category,
 * status, department at a version; a change of category or priority is
 * recorded as ticket.corrected, the training rows of `frontline feedback
 * export`), claiming a ticket (assign to me), and bulk assign and resolve.
 * Bulk runs each ticket through the single ticket's handler, in a
 * transaction of its own, so that one stale or missing ticket fails alone
 * and each succeeds exactly as it would by itself.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"

#define BULK_MAX 100

static void counts(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_ticket_counts(server__store(r), r->auth.name[0] ? r->auth.name : NULL, &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "tickets", NULL);
		return;
	}
	server__reply_json(r, 200, out);
}

/* ---- corrections ---- */

/* Checks the body of a PATCH; -1 when answered. */
static int patch_body(struct server_req *r)
{
	static const char *const keys[] = { "version", "priority", "category", "status", "assigned_department", NULL };
	const char *key, *s;
	json_t *v;
	bool any = false;

	json_object_foreach(r->json, key, v) {
		if (fl_word_index(keys, key) < 0) {
			server__unprocessable(r, key, NULL, "'%s' cannot be changed here (priority, category, status, "
					      "assigned_department)", key);
			return -1;
		}
		any = any || strcmp(key, "version");
	}
	if (!json_is_integer(json_object_get(r->json, "version"))) {
		server__unprocessable(r, "version", NULL, "'version' is required: the ticket's version you read");
		return -1;
	}
	if (!any) {
		server__unprocessable(r, NULL, NULL, "nothing to change: give priority, category, status or "
				      "assigned_department");
		return -1;
	}
	if (server__body_str(r, "priority", false, 16, &s) || server__body_str(r, "status", false, 32, &s) ||
	    server__body_str(r, "category", false, 64, &s) || server__body_str(r, "assigned_department", false, 200, &s))
		return -1;
	if ((s = fl_json_str(r->json, "priority", NULL)) && fl_word_index(fl_priorities, s) < 0) {
		server__unprocessable(r, "priority", NULL, "'priority' must be low, medium, high or urgent");
		return -1;
	}
	if ((s = fl_json_str(r->json, "status", NULL)) && fl_word_index(fl_statuses, s) < 0) {
		char *all = fl_words_join(fl_statuses, ", ");

		server__unprocessable(r, "status", NULL, "'status' must be one of: %s", all);
		free(all);
		return -1;
	}
	if (json_is_null(json_object_get(r->json, "priority")) || json_is_null(json_object_get(r->json, "status")) ||
	    json_is_null(json_object_get(r->json, "category")) ||
	    ((s = fl_json_str(r->json, "category", NULL)) && !*s)) {
		server__unprocessable(r, NULL, NULL, "priority, category and status cannot be emptied");
		return -1;
	}
	return 0;
}

json_t *server__patch_fields(const json_t *body, const json_t *t)
{
	static const char *const keys[] = { "priority", "category", "status", "assigned_department" };
	const char *status = fl_json_str(body, "status", NULL), *was = fl_json_str(t, "status", "");
	json_t *fields = json_object();
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(body, keys[i]);

		if (v)
			json_object_set(fields, keys[i], v);
	}
	if (status && !strcmp(status, FL_STATUS_RESOLVED) && strcmp(was, FL_STATUS_RESOLVED)) {
		char now[32];

		fl_time_rfc3339(now, fl_wall_us());
		json_object_set_new(fields, "resolved_at", json_string(now));
	} else if (status && strcmp(status, FL_STATUS_RESOLVED) && strcmp(status, FL_STATUS_CLOSED)) {
		json_object_set_new(fields, "resolved_at", json_null());
	}
	return fields;
}

int server__record_corrections(struct server_req *r, const json_t *before, const json_t *body)
{
	static const char *const labels[] = { "category", "priority" };
	char *actor = server__actor(r), now[32];
	size_t i;
	int rc = STORE_OK;

	fl_time_rfc3339(now, fl_wall_us());
	for (i = 0; i < FL_ARRAY_SIZE(labels) && rc == STORE_OK; i++) {
		const char *to = fl_json_str(body, labels[i], NULL), *from = fl_json_str(before, labels[i], NULL);
		json_t *data;

		if (!to || fl_str_eq(from, to))
			continue;
		data = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "field", labels[i], "from", from, "to", to, "actor", actor,
				 "at", now);
		if (!from)
			json_object_set_new(data, "from", json_null());
		rc = store_event_append(server__store(r), server__param(r, 0), FL_EVENT_TICKET_CORRECTED, actor, data);
		json_decref(data);
	}
	free(actor);
	return rc;
}

static void patch(struct server_req *r)
{
	json_t *t, *fields, *updated = NULL;
	int64_t version;
	int rc;

	if (patch_body(r) || !(t = server__change_begin(r, &version)))
		return;
	fields = server__patch_fields(r->json, t);
	if (server__change_commit(r, fields, version, &updated))
		goto out;
	rc = server__record_corrections(r, t, r->json);
	if (rc != STORE_OK) {
		store_rollback(server__store(r));
		json_decref(updated);
		server__store_error(r, rc, "ticket", server__param(r, 0));
		goto out;
	}
	server__change_finish(r, updated, 200, NULL);
out:
	json_decref(fields);
	json_decref(t);
}

/* ---- claiming ---- */

static void claim(struct server_req *r)
{
	json_t *t, *fields, *updated = NULL;
	const char *held;
	int64_t version;

	if (!(t = server__change_begin(r, &version)))
		return;
	held = fl_json_str(t, "assignee", NULL);
	if (held && strcmp(held, r->auth.name)) {
		char *who = fl_strdup(held);

		store_rollback(server__store(r));
		server__conflict(r, t, "ticket '%s' is assigned to %s: assign it to take it over", server__param(r, 0),
				 who);
		free(who);
		return;
	}
	if (held) {
		/* mine already: nothing to change */
		store_rollback(server__store(r));
		server__reply_json(r, 200, t);
		return;
	}
	fields = json_pack("{s:s}", "assignee", r->auth.name);
	if (!server__change_commit(r, fields, version, &updated))
		server__change_finish(r, updated, 200, NULL);
	json_decref(fields);
	json_decref(t);
}

/* ---- bulk ---- */

/*
 * Runs handler as if for one ticket (path parameter id, body taken) and
 * appends {id, ok, error?} to results: the handler's own transaction,
 * checks and answer, kept as the result.
 */
static void run_one(struct server_req *r, void (*handler)(struct server_req *), const char *id, json_t *body,
		    json_t *results)
{
	struct server_req sub = *r;
	json_t *res, *answer;

	sub.match.params[0] = (char *)id;   /* borrowed: sub's match is never released */
	sub.match.nparams = 1;
	sub.json = body;
	sub.responded = false;
	sub.status = 0;
	sub.resp = NULL;
	sub.resp_len = 0;
	sub.headers = NULL;
	sub.nheaders = 0;
	sub.content_type = NULL;
	handler(&sub);
	r->st = sub.st;   /* the store connection it borrowed, if it did */
	res = json_pack("{s:s, s:b}", "id", id, "ok", sub.status >= 200 && sub.status < 300);
	answer = sub.resp ? json_loads(sub.resp, 0, NULL) : NULL;
	if (sub.status >= 300) {
		json_t *e = json_object_get(answer, "error");

		json_object_set_new(res, "error", json_pack("{s:s, s:s, s:i}", "code", fl_json_str(e, "code", "internal"),
							    "message", fl_json_str(e, "message", ""),
							    "status", (int)sub.status));
	} else if (json_is_object(answer)) {
		json_object_set(res, "version", json_object_get(answer, "version"));
	}
	json_array_append_new(results, res);
	json_decref(answer);
	json_decref(body);
	free(sub.resp);
	server__headers_free(&sub);
}

static void bulk(struct server_req *r)
{
	static const char *const actions[] = { "assign", "resolve", NULL };
	json_t *ids = json_object_get(r->json, "ids"), *id, *results;
	const json_t *assignee = json_object_get(r->json, "assignee");
	const char *action;
	size_t i;

	if (server__body_str(r, "action", true, 16, &action))
		return;
	if (fl_word_index(actions, action) < 0) {
		server__unprocessable(r, "action", NULL, "'action' must be assign or resolve");
		return;
	}
	if (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > BULK_MAX) {
		server__unprocessable(r, "ids", NULL, "'ids' must be an array of 1 to %d ticket ids", BULK_MAX);
		return;
	}
	json_array_foreach(ids, i, id) {
		if (!json_is_string(id) || !json_string_length(id) || json_string_length(id) > 200) {
			server__unprocessable(r, "ids", NULL, "'ids' must hold ticket ids (strings)");
			return;
		}
	}
	if (assignee && !json_is_null(assignee) && !json_is_string(assignee)) {
		server__unprocessable(r, "assignee", NULL, "'assignee' must be a string or null (unassign)");
		return;
	}
	results = json_array();
	json_array_foreach(ids, i, id) {
		if (!strcmp(action, "assign"))
			/* absent: the caller; null: nobody */
			run_one(r, server__ticket_assign, json_string_value(id),
				json_pack("{s:o}", "assignee", assignee ? json_incref((json_t *)assignee)
								       : json_string(r->auth.name)), results);
		else
			run_one(r, server__ticket_resolve, json_string_value(id), json_object(), results);
	}
	server__reply_json(r, 200, json_pack("{s:o}", "results", results));
}

#define BODY SERVER_ROUTE_JSON_BODY
#define OPT_BODY (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__queue_routes[] = {
	{ "GET", "/api/v1/tickets/counts", counts, SERVER_ROLE_AGENT, 0,
	  "the console's queues' counts of open tickets (mine, unassigned, escalated, all, per department)" },
	{ "PATCH", "/api/v1/tickets/{id}", patch, SERVER_ROLE_AGENT, BODY,
	  "change priority, category, status or department at a version (corrections are recorded)" },
	{ "POST", "/api/v1/tickets/{id}/claim", claim, SERVER_ROLE_AGENT, OPT_BODY, "assign the ticket to me" },
	{ "POST", "/api/v1/tickets/bulk", bulk, SERVER_ROLE_AGENT, BODY,
	  "assign or resolve several tickets, each on its own" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
