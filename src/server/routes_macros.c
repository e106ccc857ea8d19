/*
 * /api/v1/macros and POST /api/v1/tickets/{id}/macros/{name}: named sets of
 * actions an agent applies to a ticket in one step (docs/OPERATIONS.md,
 * "Macros"). Admins write them (PUT creates or replaces, checked by
 * support_macro_check with every violation named by its field), agents
 * list and apply them.
 *
 * Applying is one change of the ticket (server__change_begin .. _finish):
 * the console's corrections (server__patch_fields, the ticket.corrected
 * rows), the assignment, the tags (metadata.tags), and a reply that is sent
 * through the replies route's own steps (server__reply_add, _email), so
 * the message, the email, the events and the fields commit together or
 * not at all. One "ticket.macro" event per change says who applied which
 * macro. A draft reply changes nothing: it comes back for the agent to
 * edit and send.
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"
#include "support/support.h"

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_macro_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "macros", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "macros", out));
}

static void put(struct server_req *r)
{
	const char *name = server__param(r, 0);
	json_t *macro = NULL, *errors = NULL, *out = NULL;
	bool created = false;
	char *actor, *why;
	int rc;

	if (support_macro_check(r->json, &macro, &errors) != SUPPORT_OK) {
		why = support_errors_text(errors);
		server__unprocessable(r, fl_json_str(json_array_get(errors, 0), "field", NULL), errors, "%s", why);
		free(why);
		return;
	}
	actor = server__actor(r);
	rc = store_macro_put(server__store(r), name, fl_json_str(macro, "description", NULL),
			     json_object_get(macro, "actions"), actor, &out, &created);
	free(actor);
	json_decref(macro);
	if (rc == STORE_EINVAL) {
		server__unprocessable(r, "name", NULL, "%s", store_errmsg(server__store(r)));
		return;
	}
	if (rc != STORE_OK) {
		server__store_error(r, rc, "macro", name);
		return;
	}
	server__reply_json(r, created ? 201 : 200, out);
}

static void del(struct server_req *r)
{
	const char *name = server__param(r, 0);
	int rc = store_macro_delete(server__store(r), name);

	if (rc == STORE_EINVAL)
		rc = STORE_ENOTFOUND;   /* a name that cannot exist names nothing */
	if (rc != STORE_OK) {
		server__store_error(r, rc, "macro", name);
		return;
	}
	server__reply_text(r, 204, NULL, "", 0);
}

/* ---- applying ---- */

/* The macro called name with its reply's text resolved; NULL having answered. */
static json_t *load(struct server_req *r, const char *name, const char **text)
{
	struct store *st = server__store(r);
	json_t *macro = NULL, *canned = NULL, *a, *c;
	const char *id = NULL;
	size_t i, k;
	int rc = store_macro_get(st, name, &macro);

	*text = NULL;
	if (rc != STORE_OK) {
		server__store_error(r, rc == STORE_EINVAL ? STORE_ENOTFOUND : rc, "macro", name);
		return NULL;
	}
	json_array_foreach(json_object_get(macro, "actions"), i, a) {
		if (strcmp(fl_json_str(a, "type", ""), "reply"))
			continue;
		if (!(id = fl_json_str(a, "canned", NULL))) {
			*text = fl_json_str(a, "body", NULL);
			return macro;
		}
		if ((rc = store_canned_list(st, &canned)) != STORE_OK) {
			server__store_error(r, rc, "canned responses", NULL);
			json_decref(macro);
			return NULL;
		}
		json_array_foreach(canned, k, c)
			if (!strcmp(fl_json_str(c, "id", ""), id))
				/* the macro keeps the text alive: the list goes */
				json_object_set(a, "body", json_object_get(c, "body"));
		json_decref(canned);
		if (!(*text = fl_json_str(a, "body", NULL))) {
			server__error(r, 409, "conflict", "canned", NULL, "macro '%s' inserts canned response '%s', "
				      "which no longer exists: fix the macro", name, id);
			json_decref(macro);
			return NULL;
		}
	}
	return macro;
}

/* What the macro's actions change: the console's patch body, the assignee, the tags, the reply. */
struct plan {
	json_t *patch;        /* status, priority, category, assigned_department */
	json_t *assignee;     /* borrowed; NULL: untouched, json null: unassigned */
	json_t *tags;         /* the metadata's tags after the macro, or NULL when none added */
	json_t *added;        /* the tags added */
	json_t *status;       /* the status action's value (borrowed), or NULL */
	const char *mode;     /* the reply's, or NULL */
};

static void plan_of(const json_t *macro, const json_t *t, struct plan *p)
{
	static const struct { const char *type, *field; } patched[] = {
		{ "status", "status" }, { "priority", "priority" }, { "category", "category" },
		{ "department", "assigned_department" },
	};
	const json_t *have = json_object_get(json_object_get(t, "metadata"), "tags"), *a;
	size_t i, k;

	memset(p, 0, sizeof(*p));
	p->patch = json_object();
	p->added = json_array();
	json_array_foreach(json_object_get(macro, "actions"), i, a) {
		const char *type = fl_json_str(a, "type", "");
		json_t *v = json_object_get(a, "value");

		for (k = 0; k < FL_ARRAY_SIZE(patched); k++)
			if (!strcmp(type, patched[k].type) && !fl_str_eq(fl_json_str(t, patched[k].field, NULL),
									  json_string_value(v)))
				json_object_set(p->patch, patched[k].field, v);
		if (!strcmp(type, "status"))
			p->status = v;
		if (!strcmp(type, "assignee") && !fl_str_eq(fl_json_str(t, "assignee", NULL), json_string_value(v)))
			p->assignee = v;
		else if (!strcmp(type, "reply"))
			p->mode = fl_json_str(a, "mode", SUPPORT_MACRO_DRAFT);
		else if (!strcmp(type, "tag")) {
			const json_t *x;
			bool dup = false;

			json_array_foreach(have, k, x)
				dup = dup || fl_str_eq(json_string_value(x), json_string_value(v));
			json_array_foreach(p->added, k, x)
				dup = dup || fl_str_eq(json_string_value(x), json_string_value(v));
			if (!dup)
				json_array_append(p->added, v);
		}
	}
	if (json_array_size(p->added)) {
		p->tags = json_is_array(have) ? json_copy((json_t *)have) : json_array();
		json_array_extend(p->tags, p->added);
	}
}

static void plan_release(struct plan *p)
{
	json_decref(p->patch);
	json_decref(p->tags);
	json_decref(p->added);
}

/* The fields the change sets: the reply's first (when sent), then the macro's own, which win. */
static json_t *fields_of(const struct plan *p, const json_t *t, json_t *fields)
{
	json_t *patched = server__patch_fields(p->patch, t);

	json_object_update(fields, patched);
	json_decref(patched);
	if (p->assignee)
		json_object_set(fields, "assignee", p->assignee);
	if (p->tags) {
		json_t *meta = json_is_object(json_object_get(t, "metadata"))
			       ? json_copy(json_object_get(t, "metadata")) : json_object();

		json_object_set(meta, "tags", p->tags);
		json_object_set_new(fields, "metadata", meta);
	}
	return fields;
}

/* One "ticket.macro" event per change: {macro, action, from, to}. */
static int record(struct server_req *r, const char *macro, const struct plan *p, const json_t *t,
		  const json_t *msg)
{
	static const struct { const char *action, *field; } fields[] = {
		{ "status", "status" }, { "priority", "priority" }, { "category", "category" },
		{ "department", "assigned_department" },
	};
	struct store *st = server__store(r);
	const char *id = fl_json_str(t, "id", "");
	char *actor = server__actor(r);
	json_t *events = json_array(), *e, *x;
	size_t i;
	int rc = STORE_OK;

	for (i = 0; i < FL_ARRAY_SIZE(fields); i++)
		if ((x = json_object_get(p->patch, fields[i].field)))
			json_array_append_new(events, json_pack("{s:s, s:O, s:O}", "action", fields[i].action, "from",
								json_object_get(t, fields[i].field) ? json_object_get(t, fields[i].field) : json_null(), "to", x));
	if (p->assignee)
		json_array_append_new(events, json_pack("{s:s, s:O, s:O}", "action", "assignee", "from",
							json_object_get(t, "assignee") ? json_object_get(t, "assignee")
										      : json_null(), "to", p->assignee));
	json_array_foreach(p->added, i, x)
		json_array_append_new(events, json_pack("{s:s, s:n, s:O}", "action", "tag", "from", "to", x));
	if (msg)
		json_array_append_new(events, json_pack("{s:s, s:n, s:I}", "action", "reply", "from", "to",
							(json_int_t)fl_json_int(msg, "id", 0)));
	json_array_foreach(events, i, e) {
		json_object_set_new(e, "macro", json_string(macro));
		if (rc == STORE_OK)
			rc = store_event_append(st, id, FL_EVENT_TICKET_MACRO, actor, e);
	}
	if (rc == STORE_OK)
		rc = server__record_corrections(r, t, p->patch);
	json_decref(events);
	free(actor);
	if (rc != STORE_OK) {
		store_rollback(st);
		server__store_error(r, rc, "ticket", id);
		return -1;
	}
	return 0;
}

static void apply(struct server_req *r)
{
	const char *name = server__param(r, 1), *text = NULL;
	json_t *macro, *t = NULL, *fields = NULL, *updated = NULL, *msg = NULL, *extra;
	struct plan p = { 0 };
	bool send;
	int64_t version;

	if (!(macro = load(r, name, &text)) || !(t = server__change_begin(r, &version)))
		goto out;
	plan_of(macro, t, &p);
	send = fl_str_eq(p.mode, SUPPORT_MACRO_SEND);
	/* a sent reply sets the status (waiting): the macro's own status, even the one it has, wins */
	if (send && p.status && !json_object_get(p.patch, "status"))
		json_object_set(p.patch, "status", p.status);
	fields = json_object();
	if (send && server__reply_add(r, t, text, NULL, fields, &msg))
		goto out;
	fields_of(&p, t, fields);
	if (!json_object_size(fields)) {
		/* nothing to change (the ticket is as the macro would leave it, or a draft alone) */
		store_rollback(server__store(r));
		updated = json_incref(t);
	} else if (server__change_commit(r, fields, version, &updated) || record(r, name, &p, t, msg) ||
		   (send && server__reply_email(r, t, updated, text, msg))) {
		goto out;
	}
	extra = json_pack("{s:s, s:O}", "macro", name, "actions", json_object_get(macro, "actions"));
	if (msg)
		json_object_set(extra, "message", msg);
	if (text && !send)
		json_object_set_new(extra, "draft", json_string(text));
	if (!json_object_size(fields)) {
		json_object_set_new(extra, "ticket", updated);
		server__reply_json(r, 200, extra);
	} else {
		server__change_finish(r, updated, 200, extra);
	}
	updated = NULL;
out:
	plan_release(&p);
	json_decref(updated);
	json_decref(fields);
	json_decref(msg);
	json_decref(t);
	json_decref(macro);
}

#define BODY SERVER_ROUTE_JSON_BODY
#define OPT_BODY (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__macro_routes[] = {
	{ "GET", "/api/v1/macros", list, SERVER_ROLE_AGENT, 0, "macros, by name" },
	{ "PUT", "/api/v1/macros/{name}", put, SERVER_ROLE_ADMIN, BODY,
	  "create or replace a macro (its actions checked, each violation named by field)" },
	{ "DELETE", "/api/v1/macros/{name}", del, SERVER_ROLE_ADMIN, 0, "delete a macro" },
	{ "POST", "/api/v1/tickets/{id}/macros/{name}", apply, SERVER_ROLE_AGENT, OPT_BODY,
	  "apply a macro to a ticket: every action in one transaction, one event per change" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
