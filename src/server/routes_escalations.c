/*
 * /api/v1/escalations: the hand-off queue. Listed most urgent first, then
 * oldest (each with its age); an agent claims one, releases it back, or
 * closes it with a resolution note. Claiming what another agent holds is a
 * 409, so two agents never work the same hand-off unknowingly.
 *
 * POST /api/v1/tickets/{id}/escalate is an agent's escalation by hand: the
 * registered escalation workflow run on the stored ticket with the agent's
 * reason, level and department (support_workflow_run_stored: the package,
 * the queue entry, the notifications and the events in one transaction).
 */
#include <string.h>

#include "server_int.h"
#include "store/store.h"
#include "support/support.h"

static const char *const statuses[] = { "open", "claimed", "closed", NULL };

static void add_age(json_t *e, int64_t now_us)
{
	int64_t created;

	if (!fl_time_parse(fl_json_str(e, "created_at", ""), &created))
		json_object_set_new(e, "age_s", json_integer((now_us - created) / 1000000));
}

static void list(struct server_req *r)
{
	const char *status;
	json_t *out = NULL, *e;
	int64_t limit, now = fl_wall_us();
	size_t i;
	int rc;

	if (server__query_enum(r, "status", statuses, NULL, &status) ||
	    server__query_int(r, "limit", 1, 500, 100, &limit))
		return;
	rc = store_escalation_list(server__store(r), status, (int)limit, &out);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "escalations", NULL);
		return;
	}
	json_array_foreach(out, i, e)
		add_age(e, now);
	server__reply_json(r, 200, json_pack("{s:o}", "escalations", out));
}

static int escalation_id(struct server_req *r, int64_t *id)
{
	if (fl_parse_int64(server__param(r, 0), 1, INT64_MAX, id)) {
		server__not_found(r, "escalation", server__param(r, 0));
		return -1;
	}
	return 0;
}

/* rc and out come from the store call made just before (never in the same
 * argument list: the order in which arguments are evaluated is unspecified). */
static void answer(struct server_req *r, int rc, json_t *out, const char *verb)
{
	if (rc == STORE_ECONFLICT) {
		json_t *cur = NULL;
		int64_t id = 0;

		escalation_id(r, &id);
		store_escalation_get(server__store(r), id, &cur);
		json_decref(out);
		server__conflict(r, cur, "cannot %s escalation %s in its current state (%s)", verb,
				 server__param(r, 0), fl_json_str(cur, "status", "unknown"));
		return;
	}
	if (rc != STORE_OK) {
		json_decref(out);
		server__store_error(r, rc, "escalation", server__param(r, 0));
		return;
	}
	add_age(out, fl_wall_us());
	server__reply_json(r, 200, out);
}

static void get(struct server_req *r)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if (escalation_id(r, &id))
		return;
	rc = store_escalation_get(server__store(r), id, &out);
	answer(r, rc, out, "read");
}

/* The agent named in the body, else the token's name. */
static const char *agent_of(struct server_req *r)
{
	const char *a = fl_json_str(r->json, "agent", NULL);

	return a && *a ? a : r->auth.name;
}

static void claim(struct server_req *r)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if (escalation_id(r, &id))
		return;
	rc = store_escalation_claim(server__store(r), id, agent_of(r), &out);
	answer(r, rc, out, "claim");
}

static void release(struct server_req *r)
{
	json_t *out = NULL;
	int64_t id;
	int rc;

	if (escalation_id(r, &id))
		return;
	rc = store_escalation_release(server__store(r), id, agent_of(r), &out);
	answer(r, rc, out, "release");
}

static void close_(struct server_req *r)
{
	const char *resolution;
	json_t *out = NULL;
	int64_t id;
	int rc;

	if (escalation_id(r, &id) || server__body_str(r, "resolution", true, 50000, &resolution))
		return;
	rc = store_escalation_close(server__store(r), id, resolution, &out);
	answer(r, rc, out, "close");
}

/* ---- escalation by hand ---- */

static void escalate(struct server_req *r)
{
	const char *reason, *level, *department, *id = server__param(r, 0);
	struct support_ctx ctx = { .store = server__store(r) };
	struct support_outcome o;
	json_t *input;
	char *actor;
	int rc;

	if (server__body_str(r, "reason", true, 2000, &reason) || server__body_str(r, "level", false, 32, &level) ||
	    server__body_str(r, "department", false, 200, &department))
		return;
	if (level && fl_word_index(support_escalation_levels, level) < 0) {
		char *all = fl_words_join(support_escalation_levels, ", ");

		server__unprocessable(r, "level", NULL, "'level' must be one of: %s", all);
		free(all);
		return;
	}
	actor = server__actor(r);
	input = json_pack("{s:{s:s, s:s, s:s?, s:s}}", "escalation_request", "reason", reason, "level",
			  level ? level : support_escalation_levels[0], "department", department, "actor", actor);
	rc = support_workflow_run_stored(&ctx, "escalation", id, input, actor, &o);
	json_decref(input);
	free(actor);
	switch (rc) {
	case SUPPORT_OK:
		server__notify_outbox(r);
		server__reply_json(r, 200, json_pack("{s:O, s:O}", "ticket", o.ticket, "escalation",
						     o.escalation ? o.escalation : json_null()));
		break;
	case SUPPORT_ENOTFOUND:
		server__not_found(r, "ticket", id);
		break;
	case SUPPORT_ESTATE:
		server__error(r, 409, "conflict", NULL, NULL, "%s", o.error);
		break;
	default:
		server__internal(r, "cannot escalate ticket '%s': %s", id, o.error ? o.error : support_strerror(rc));
		break;
	}
	support_outcome_release(&o);
}

#define OPT_BODY (SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_OPTIONAL_BODY)

const struct server_route server__escalation_routes[] = {
	{ "POST", "/api/v1/tickets/{id}/escalate", escalate, SERVER_ROLE_AGENT, SERVER_ROUTE_JSON_BODY,
	  "escalate by hand: the escalation workflow on the ticket (package, queue entry, notifications)" },
	{ "GET", "/api/v1/escalations", list, SERVER_ROLE_AGENT, 0,
	  "the hand-off queue: most urgent first, then oldest" },
	{ "GET", "/api/v1/escalations/{id}", get, SERVER_ROLE_AGENT, 0, "an escalation with its package" },
	{ "POST", "/api/v1/escalations/{id}/claim", claim, SERVER_ROLE_AGENT, OPT_BODY,
	  "claim an open escalation" },
	{ "POST", "/api/v1/escalations/{id}/release", release, SERVER_ROLE_AGENT, OPT_BODY,
	  "release a claimed escalation back to the queue" },
	{ "POST", "/api/v1/escalations/{id}/close", close_, SERVER_ROLE_AGENT, SERVER_ROUTE_JSON_BODY,
	  "close an escalation with a resolution note" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
