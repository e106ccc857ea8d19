/*
 * /api/v1/sla: the calendars and policies of issue 18. Agents read them;
 * admins write them. A calendar's body is checked and normalised by the
 * SLA module (sla_calendar_parse: time zone, windows, holidays, with the
 * failing field); a policy's by sla_policy_check, and its calendar must
 * exist ("24x7", built in, or a stored one). Policies are tried by
 * position; while none is stored, the built-in defaults (the old
 * response-time table on the 24x7 calendar) apply and are what GET lists,
 * marked "builtin". Every write is versioned by the store.
 */
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "sla/sla.h"
#include "support/support.h"
#include "store/store.h"

#define BUILTIN_CALENDAR "24x7"

static const char *kind_of(struct server_req *r)
{
	/* the routes below put the kind in the path: /api/v1/sla/calendars/... or /policies/... */
	return strstr(r->path, "/sla/calendars") ? "calendar" : "policy";
}

/* The built-in 24x7 calendar as the API shows it. */
static json_t *builtin_calendar(void)
{
	struct sla_calendar *cal = sla_calendar_24x7();
	json_t *doc = cal ? sla_calendar_json(cal) : NULL;

	sla_calendar_free(cal);
	if (doc) {
		json_object_set_new(doc, "id", json_string(BUILTIN_CALENDAR));
		json_object_set_new(doc, "builtin", json_true());
	}
	return doc;
}

static json_t *builtin_policies(void)
{
	json_t *list = sla_default_policies(), *p;
	size_t i;

	json_array_foreach(list, i, p) {
		json_object_set_new(p, "position", json_integer((json_int_t)i + 1));
		json_object_set_new(p, "builtin", json_true());
	}
	return list;
}

static void list(struct server_req *r)
{
	const char *kind = kind_of(r);
	json_t *out = NULL;
	int rc = store_sla_list(server__store(r), kind, &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "SLA objects", NULL);
		return;
	}
	if (!strcmp(kind, "calendar")) {
		json_array_insert_new(out, 0, builtin_calendar());
		server__reply_json(r, 200, json_pack("{s:o}", "calendars", out));
		return;
	}
	if (!json_array_size(out)) {
		json_decref(out);
		out = builtin_policies();
	}
	server__reply_json(r, 200, json_pack("{s:o}", "policies", out));
}

static json_t *find(const json_t *objects, const char *id)
{
	size_t i;
	json_t *o;

	json_array_foreach(objects, i, o)
		if (!strcmp(fl_json_str(o, "id", ""), id))
			return o;
	return NULL;
}

static void get(struct server_req *r)
{
	const char *kind = kind_of(r), *id = server__param(r, 0);
	json_t *out = NULL, *hit;
	int rc;

	if (!strcmp(kind, "calendar") && !strcmp(id, BUILTIN_CALENDAR)) {
		server__reply_json(r, 200, builtin_calendar());
		return;
	}
	rc = store_sla_list(server__store(r), kind, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "SLA objects", NULL);
		return;
	}
	if (!strcmp(kind, "policy") && !json_array_size(out)) {
		json_decref(out);
		out = builtin_policies();
	}
	hit = find(out, id);
	if (!hit)
		server__not_found(r, !strcmp(kind, "calendar") ? "SLA calendar" : "SLA policy", id);
	else
		server__reply_json(r, 200, json_incref(hit));
	json_decref(out);
}

/* 0 when the calendar named by a policy exists, else answers 422 and returns -1. */
static int calendar_exists(struct server_req *r, const char *id)
{
	json_t *cals = NULL;
	int rc, found;

	if (!strcmp(id, BUILTIN_CALENDAR))
		return 0;
	rc = store_sla_list(server__store(r), "calendar", &cals);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "SLA calendars", NULL);
		return -1;
	}
	found = find(cals, id) != NULL;
	json_decref(cals);
	if (!found)
		server__unprocessable(r, "calendar", NULL, "no SLA calendar '%s' (\"24x7\" or one PUT under "
				      "/api/v1/sla/calendars)", id);
	return found ? 0 : -1;
}

static void put(struct server_req *r)
{
	const char *kind = kind_of(r), *id = server__param(r, 0);
	struct sla_calendar *cal = NULL;
	struct sla_error err = { "", "" };
	json_t *body = NULL, *out = NULL;
	int64_t position = -1;
	bool created = false;
	char *actor = NULL;
	int rc;

	if (!strcmp(kind, "calendar")) {
		if (!strcmp(id, BUILTIN_CALENDAR)) {
			server__conflict(r, NULL, "the calendar '%s' is built in and cannot be changed", id);
			goto out;
		}
		if (sla_calendar_parse(r->json, &cal, &err) != SLA_OK) {
			server__unprocessable(r, err.field, NULL, "%s: %s", err.field, err.message);
			goto out;
		}
		body = sla_calendar_json(cal);
	} else {
		if (sla_policy_check(r->json, &err) != SLA_OK) {
			server__unprocessable(r, err.field, NULL, "%s: %s", err.field, err.message);
			goto out;
		}
		if (calendar_exists(r, fl_json_str(r->json, "calendar", "")))
			goto out;
		body = json_deep_copy(r->json);
		position = fl_json_int(body, "position", -1);
		json_object_del(body, "position");
		json_object_del(body, "builtin");
	}
	actor = server__actor(r);
	rc = store_sla_put(server__store(r), kind, id, body, position, actor, &out, &created);
	if (rc == STORE_EINVAL) {
		server__unprocessable(r, NULL, NULL, "%s", store_errmsg(r->st));
		goto out;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, kind, id);
		goto out;
	}
	server__reply_json(r, created ? 201 : 200, out);
	out = NULL;
out:
	json_decref(out);
	json_decref(body);
	sla_calendar_free(cal);
	free(actor);
}

static void del(struct server_req *r)
{
	const char *kind = kind_of(r), *id = server__param(r, 0);
	json_t *policies = NULL, *p;
	size_t i;
	int rc;

	if (!strcmp(kind, "calendar")) {
		if (!strcmp(id, BUILTIN_CALENDAR)) {
			server__conflict(r, NULL, "the calendar '%s' is built in and cannot be deleted", id);
			return;
		}
		rc = store_sla_list(server__store(r), "policy", &policies);
		if (rc != STORE_OK) {
			server__store_error(r, rc, "SLA policies", NULL);
			return;
		}
		json_array_foreach(policies, i, p)
			if (!strcmp(fl_json_str(p, "calendar", ""), id)) {
				server__conflict(r, NULL, "the calendar '%s' is used by the policy '%s'", id,
						 fl_json_str(p, "id", ""));
				json_decref(policies);
				return;
			}
		json_decref(policies);
	}
	rc = store_sla_delete(server__store(r), kind, id);
	if (rc == STORE_EINVAL)
		rc = STORE_ENOTFOUND;   /* an id that cannot exist names nothing */
	if (rc != STORE_OK) {
		server__store_error(r, rc, !strcmp(kind, "calendar") ? "SLA calendar" : "SLA policy", id);
		return;
	}
	server__reply_text(r, 204, NULL, "", 0);
}

const struct server_route server__sla_routes[] = {
	{ "GET", "/api/v1/sla/calendars", list, SERVER_ROLE_AGENT, 0, "SLA calendars (the built-in 24x7 first)" },
	{ "GET", "/api/v1/sla/calendars/{id}", get, SERVER_ROLE_AGENT, 0, "one SLA calendar" },
	{ "PUT", "/api/v1/sla/calendars/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create or replace an SLA calendar (time zone, weekly hours, holidays)" },
	{ "DELETE", "/api/v1/sla/calendars/{id}", del, SERVER_ROLE_ADMIN, 0,
	  "delete an SLA calendar no policy uses" },
	{ "GET", "/api/v1/sla/policies", list, SERVER_ROLE_AGENT, 0, "SLA policies in the order they are tried" },
	{ "GET", "/api/v1/sla/policies/{id}", get, SERVER_ROLE_AGENT, 0, "one SLA policy" },
	{ "PUT", "/api/v1/sla/policies/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create or replace an SLA policy" },
	{ "DELETE", "/api/v1/sla/policies/{id}", del, SERVER_ROLE_ADMIN, 0, "delete an SLA policy" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
