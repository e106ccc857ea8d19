/*
 * A registered workflow run again on a ticket that has been through its
 * workflow already: an agent's escalation by hand runs the escalation
 * workflow on the stored ticket (POST /api/v1/tickets/{id}/escalate).
 *
 * The run starts from what the store keeps (the ticket, its customer, the
 * analyses its first run wrote) plus the caller's input, outside any
 * transaction; its finish then writes, in ONE transaction that first reads
 * the ticket again, the analyses, the escalation (status, department, the
 * queue entry), the outbox rows and the audit events, or nothing. The first
 * run's finish is support_finish (process.c): it owns the auto-reply, the
 * customer's counts and the job; a rerun owns none of those.
 */
#include <string.h>

#include "support_int.h"
#include "flow/flow.h"
#include "store/store.h"

/* The shared object a rerun starts from: the stored ticket, its customer, its analyses, then input. */
static json_t *shared_of(struct store *st, const json_t *ticket, const json_t *input)
{
	const json_t *analysis = json_object_get(ticket, "analysis");
	json_t *shared = json_object(), *t = json_copy((json_t *)ticket), *cust = NULL, *v;
	const char *key;

	json_object_del(t, "analysis");
	json_object_del(t, "trace");
	json_object_del(t, "messages");
	if (json_is_object(analysis))
		json_object_foreach((json_t *)analysis, key, v)
			if (strcmp(key, "paths"))
				json_object_set(shared, key, v);
	json_object_set_new(shared, "ticket", t);
	if (store_customer_get(st, fl_json_str(ticket, "customer_id", ""), &cust) == STORE_OK)
		json_object_set_new(shared, "customer", cust);
	if (json_is_object(input))
		json_object_update(shared, (json_t *)input);
	return shared;
}

/* SUPPORT_ESTATE with the reason, or SUPPORT_OK when the ticket may be run again. */
static int may_rerun(const json_t *t, struct support_outcome *o)
{
	const char *status = fl_json_str(t, "status", FL_STATUS_NEW), *id = fl_json_str(t, "id", "");

	if (!support__processed(t))
		o->error = fl_asprintf("ticket '%s' is %s: its triage has not finished", id, status);
	else if (!strcmp(status, FL_STATUS_CLOSED) || !strcmp(status, FL_STATUS_SPAM))
		o->error = fl_asprintf("ticket '%s' is %s", id, status);
	else
		return SUPPORT_OK;
	return SUPPORT_ESTATE;
}

/* The escalation's part of the finish: the queue entry, its notifications, the integrations' event. */
static int escalate(struct store *st, const json_t *ticket, const json_t *package, const char *department,
		    struct support_outcome *o)
{
	const char *prio = fl_json_str(package, "handoff_priority", "medium");
	json_t *notices;
	bool created = false;
	char occurrence[32];
	int rc = store_escalation_open(st, fl_json_str(ticket, "id", ""), prio, department,
				       json_object_get(package, "escalation_package"), &o->escalation, &created);

	if (rc != STORE_OK)
		return rc;
	if (!created) {
		o->error = fl_asprintf("ticket '%s' is in the escalation queue already (escalation %lld, %s)",
				       fl_json_str(ticket, "id", ""), (long long)fl_json_int(o->escalation, "id", 0),
				       fl_json_str(o->escalation, "status", ""));
		return STORE_ECONFLICT;
	}
	snprintf(occurrence, sizeof(occurrence), "e%lld", (long long)fl_json_int(o->escalation, "id", 0));
	notices = json_array();
	support_notice_escalation_at(notices, ticket, department, prio, occurrence);
	rc = support_notices_enqueue(st, notices);
	json_decref(notices);
	if (rc == STORE_OK)
		rc = support_ticket_event(st, FL_EVENT_TICKET_ESCALATED, ticket, occurrence);
	return rc;
}

static int audit(struct store *st, const char *workflow, const json_t *ticket, const json_t *shared,
		 const json_t *trace, const char *actor, const json_t *escalation)
{
	const json_t *decision = json_object_get(shared, "escalation_decision");
	const json_t *request = json_object_get(shared, "escalation_request");
	const char *id = fl_json_str(ticket, "id", "");
	json_t *data = json_pack("{s:s, s:s, s:s?, s:I, s:b}", "workflow", workflow, "status",
				 fl_json_str(ticket, "status", ""), "escalation",
				 fl_json_str(decision, "escalation_decision", NULL), "steps",
				 (json_int_t)json_array_size(trace), "rerun", 1);
	int rc = store_event_append(st, id, FL_EVENT_WORKFLOW_COMPLETED, actor, data);

	json_decref(data);
	if (rc != STORE_OK || !json_is_object(request) || !escalation)
		return rc;
	data = json_pack("{s:s?, s:s?, s:s?, s:s, s:I}", "reason", fl_json_str(request, "reason", NULL), "level",
			 fl_json_str(decision, "escalation_decision", NULL), "department",
			 fl_json_str(escalation, "department", NULL), "workflow", workflow, "escalation_id",
			 (json_int_t)fl_json_int(escalation, "id", 0));
	rc = store_event_append(st, id, FL_EVENT_TICKET_ESCALATED_BY_HAND, actor, data);
	json_decref(data);
	return rc;
}

static int finish(struct support_ctx *ctx, const char *workflow, const char *ticket_id, const json_t *shared,
		  const json_t *trace, const char *actor, struct support_outcome *o)
{
	struct store *st = ctx->store;
	const json_t *package = json_object_get(shared, "escalation_package");
	json_t *cur = NULL, *fields = NULL, *analysis, *updated = NULL;
	const char *department = fl_json_str(package, "assigned_department", "customer_support");
	int rc = SUPPORT_ESTORE, src;

	if ((src = store_begin_immediate(st)) != STORE_OK || (src = store_ticket_get(st, ticket_id, false, &cur)))
		goto out;
	/* read again in the transaction: someone may have closed it while the workflow ran */
	if ((rc = may_rerun(cur, o)) != SUPPORT_OK)
		goto out;
	rc = SUPPORT_ESTORE;
	analysis = json_is_object(json_object_get(cur, "analysis")) ? json_copy(json_object_get(cur, "analysis"))
								      : json_object();
	{
		/* the run's analyses replace the first run's of the same name; the paths of both stay */
		json_t *mine = support__analysis_of(shared), *paths = json_object_get(analysis, "paths");

		paths = json_is_object(paths) ? json_copy(paths) : json_object();
		json_object_update(paths, json_object_get(mine, "paths"));
		json_object_update(analysis, mine);
		json_object_set_new(analysis, "paths", paths);
		json_decref(mine);
	}
	fields = json_pack("{s:o}", "analysis", analysis);
	if (json_is_object(package)) {
		json_object_set_new(fields, "status", json_string(FL_STATUS_ESCALATED));
		json_object_set_new(fields, "assigned_department", json_string(department));
		json_object_set_new(fields, "resolved_at", json_null());
	}
	if ((src = store_ticket_update(st, ticket_id, fl_json_int(cur, "version", 0), fields, actor, &updated)))
		goto out;
	if (json_is_object(package) && (src = escalate(st, updated, package, department, o)) != STORE_OK) {
		if (src == STORE_ECONFLICT)
			rc = SUPPORT_ESTATE;
		goto out;
	}
	/* escalated by hand: assigned as triage's escalations are (or queued in the department) */
	if (json_is_object(package) && (src = support__assign(st, ticket_id, &updated)) != STORE_OK)
		goto out;
	if ((src = audit(st, workflow, updated, shared, trace, actor, o->escalation)) != STORE_OK ||
	    (src = store_commit(st)) != STORE_OK)
		goto out;
	o->ticket = updated;
	updated = NULL;
	rc = SUPPORT_OK;
out:
	if (rc != SUPPORT_OK) {
		if (!o->error)
			o->error = fl_asprintf("cannot persist the %s run of ticket '%s': %s", workflow, ticket_id,
					       store_errmsg(st)[0] ? store_errmsg(st) : store_strerror(src));
		if (src == STORE_ENOTFOUND)
			rc = SUPPORT_ENOTFOUND;
		store_rollback(st);
		json_decref(o->escalation);
		o->escalation = NULL;
	}
	json_decref(cur);
	json_decref(fields);
	json_decref(updated);
	return rc;
}

int support_workflow_run_stored(struct support_ctx *ctx, const char *name, const char *ticket_id,
				const json_t *input, const char *actor, struct support_outcome *o)
{
	const struct support_workflow *wf = support_workflow_find(name);
	struct flow_node *graph = NULL;
	struct flow_result *r = NULL;
	json_t *ticket = NULL;
	int rc, src;

	memset(o, 0, sizeof(*o));
	if (!ctx->store)
		return SUPPORT_ESTORE;
	if (!wf) {
		o->error = fl_asprintf("unknown workflow '%s'", name ? name : "");
		return SUPPORT_ENOTFOUND;
	}
	src = store_ticket_get(ctx->store, ticket_id, false, &ticket);
	if (src != STORE_OK) {
		o->error = src == STORE_ENOTFOUND ? fl_asprintf("ticket '%s' not found", ticket_id)
			   : fl_asprintf("cannot read ticket '%s': %s", ticket_id, store_errmsg(ctx->store));
		return src == STORE_ENOTFOUND ? SUPPORT_ENOTFOUND : SUPPORT_ESTORE;
	}
	if ((rc = may_rerun(ticket, o)) != SUPPORT_OK)
		goto out;
	graph = wf->build();
	o->shared = shared_of(ctx->store, ticket, input);
	r = support_run(graph, wf->start, ctx, o->shared);
	o->trace = json_incref(flow_result_trace(r));
	if (flow_result_code(r) != FLOW_OK) {
		o->error = fl_asprintf("the %s workflow failed on ticket '%s': %s", name, ticket_id,
				       flow_result_error(r));
		rc = SUPPORT_EFLOW;
		goto out;
	}
	rc = finish(ctx, wf->name, fl_json_str(ticket, "id", ticket_id), o->shared, o->trace, actor, o);
out:
	flow_result_free(r);
	flow_node_free(graph);
	json_decref(ticket);
	return rc;
}
