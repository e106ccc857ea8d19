/*
 * The batch_processing workflow: a list of tickets (shared.batch_tickets)
 * through the real nodes (the customer_support graph, run per ticket) on a
 * bounded worker pool, results kept in input order, then a summary.
 *
 * prep (calling thread) looks each customer up in the CRM and stores each
 * valid ticket durably before any work starts; exec (worker threads) runs the
 * graph with no store access; post (calling thread) persists each result.
 * Invalid tickets are reported with their reasons, never dropped silently.
 */
#include <string.h>

#include "support_int.h"
#include "store/store.h"

struct batch_data {
	struct flow_node *graph;   /* customer_support, shared read-only by the workers */
};

static void batch_data_free(void *p)
{
	struct batch_data *d = p;

	if (!d)
		return;
	flow_node_free(d->graph);
	free(d);
}

static int batch_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call);
	json_t *tickets = json_object_get(shared, "batch_tickets");
	size_t i;

	if (!ctx)
		return -1;
	if (!json_is_array(tickets))
		return flow_call_fail(call, "shared 'batch_tickets' must be an array of tickets");
	/*
	 * One transaction takes in the whole list (durable first: it is
	 * committed before any ticket is processed); a commit per ticket cost
	 * more than its triage.
	 */
	if (ctx->store && store_begin_immediate(ctx->store) != STORE_OK)
		return flow_call_fail(call, "cannot store tickets: %s", store_errmsg(ctx->store));
	*out = json_array();
	for (i = 0; i < json_array_size(tickets); i++) {
		json_t *incoming = json_array_get(tickets, i), *customer = NULL, *ticket = NULL;
		json_t *errors = NULL, *stored = NULL;
		const char *cid = fl_json_str(incoming, "customer_id", NULL);
		bool created;

		if (ctx->store && cid && store_customer_get(ctx->store, cid, &customer) != STORE_OK)
			customer = NULL;
		/* durable first: a valid ticket is stored before it is processed */
		if (ctx->store &&
		    support_ticket_validate(incoming, support_now_us(ctx), &ticket, &errors) == SUPPORT_OK) {
			if (store_ticket_intake(ctx->store, ticket, NULL, NULL, &stored, &created) != STORE_OK) {
				int frc = flow_call_fail(call, "cannot store ticket %zu: %s", i,
							 store_errmsg(ctx->store));

				store_rollback(ctx->store);
				json_decref(ticket);
				json_decref(customer);
				json_decref(*out);
				*out = NULL;
				return frc;
			}
			json_decref(ticket);
			ticket = stored;
		}
		json_decref(errors);
		json_array_append_new(*out, json_pack("{s:I, s:O, s:o, s:b}", "index", (json_int_t)i,
			"incoming_ticket", ticket ? ticket : incoming,
			"customer", customer ? customer : json_null(),
			"already_done", ticket && strcmp(fl_json_str(ticket, "status", FL_STATUS_NEW), FL_STATUS_NEW)));
		json_decref(ticket);
	}
	if (ctx->store && store_commit(ctx->store) != STORE_OK) {
		int frc = flow_call_fail(call, "cannot store tickets: %s", store_errmsg(ctx->store));

		store_rollback(ctx->store);
		json_decref(*out);
		*out = NULL;
		return frc;
	}
	return 0;
}

static int batch_exec(struct flow_call *call, json_t *item, json_t **out)
{
	struct support_ctx *ctx = support__ctx(call), local;
	struct batch_data *d = flow_call_data(call);
	json_t *shared = json_pack("{s:O}", "incoming_ticket", json_object_get(item, "incoming_ticket"));
	struct flow_result *r;
	bool ok;

	if (!json_is_null(json_object_get(item, "customer")))
		json_object_set(shared, "customer", json_object_get(item, "customer"));
	local = *ctx;
	local.store = NULL;   /* workers never touch the calling thread's connection */
	r = support_run(d->graph, "ticket_ingestion", &local, shared);
	ok = flow_result_code(r) == FLOW_OK;
	*out = json_pack("{s:O, s:b, s:s?, s:o, s:O}",
			 "index", json_object_get(item, "index"),
			 "ok", ok,
			 "error", ok ? NULL : flow_result_error(r),
			 "shared", shared,
			 "trace", flow_result_trace(r));
	json_object_set(*out, "already_done", json_object_get(item, "already_done"));
	flow_result_free(r);
	if (ctx->progress)
		ctx->progress(ctx->progress_arg, ok);
	return 0;
}

static int batch_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *results,
		      const char **action)
{
	struct support_ctx *ctx = support__ctx(call);
	size_t i;

	(void)prep;
	/*
	 * The results reach the disk together, with one sync at the end (a
	 * commit each, without waiting for the disk in between): nothing is
	 * reported stored before it is durable, and a power cut in between
	 * leaves those tickets new, for the next run to triage.
	 */
	if (ctx->store && store_defer_sync(ctx->store, true) != STORE_OK)
		return flow_call_fail(call, "cannot store results: %s", store_errmsg(ctx->store));
	for (i = 0; ctx->store && i < json_array_size(results); i++) {
		json_t *res = json_array_get(results, i), *ticket = NULL;
		json_t *ishared = json_object_get(res, "shared");
		char *err = NULL;
		int rc;

		if (!fl_json_bool(res, "ok", false) || fl_json_bool(res, "already_done", false))
			continue;
		rc = support_finish(ctx, fl_json_str(json_object_get(ishared, "ticket"), "id", ""), ishared,
				    json_object_get(res, "trace"), NULL, &ticket, &err);
		if (rc == SUPPORT_OK || rc == SUPPORT_EDONE) {
			json_object_set_new(res, "stored", json_true());
			json_object_set_new(res, "number", json_integer(fl_json_int(ticket, "number", 0)));
		} else {
			json_object_set_new(res, "ok", json_false());
			json_object_set_new(res, "error", json_string(err));
		}
		json_decref(ticket);
		free(err);
	}
	if (ctx->store && store_defer_sync(ctx->store, false) != STORE_OK) {
		char *why = fl_asprintf("the results were not made durable: %s", store_errmsg(ctx->store));

		for (i = 0; i < json_array_size(results); i++) {
			json_t *res = json_array_get(results, i);

			if (!fl_json_bool(res, "stored", false))
				continue;
			json_object_set_new(res, "ok", json_false());
			json_object_set_new(res, "stored", json_false());
			json_object_set_new(res, "error", json_string(why));
		}
		free(why);
	}
	json_object_set(shared, "batch_results", results);
	*action = FLOW_DEFAULT_ACTION;
	return 0;
}

static const struct flow_node_ops batch_ops = {
	.prep = batch_prep, .exec = batch_exec, .post = batch_post, .free_data = batch_data_free,
};

struct flow_node *support__node_batch_process(int max_workers)
{
	struct batch_data *d = fl_calloc(1, sizeof(*d));
	struct flow_node *n;

	d->graph = support__build_customer_support();
	n = flow_node_new("batch_process", &batch_ops, d);
	flow_node_set_batch(n, max_workers);
	return n;
}

/* ---- the summary ---- */

static void count(json_t *counts, const char *key)
{
	json_object_set_new(counts, key, json_integer(fl_json_int(counts, key, 0) + 1));
}

static int summary_prep(struct flow_call *call, json_t *shared, json_t **out)
{
	json_t *results = json_object_get(shared, "batch_results");

	if (!json_is_array(results))
		return flow_call_fail(call, "shared has no 'batch_results' (run batch_process first)");
	*out = json_incref(results);
	return 0;
}

static int summary_exec(struct flow_call *call, json_t *results, json_t **out)
{
	json_t *by_cat = json_object(), *by_prio = json_object(), *by_esc = json_object();
	json_t *failures = json_array();
	size_t i, ok = 0;

	(void)call;
	for (i = 0; i < json_array_size(results); i++) {
		const json_t *r = json_array_get(results, i), *s = json_object_get(r, "shared");

		if (!fl_json_bool(r, "ok", false)) {
			json_array_append_new(failures, json_pack("{s:O, s:s?, s:s}",
				"index", json_object_get(r, "index"),
				"id", fl_json_str(json_object_get(s, "incoming_ticket"), "id", NULL),
				"error", fl_json_str(r, "error", "unknown error")));
			continue;
		}
		ok++;
		count(by_cat, fl_json_str(json_object_get(s, "categorization"), "primary_category", "none"));
		count(by_prio, fl_json_str(json_object_get(s, "priority_assignment"), "priority", "none"));
		count(by_esc, fl_json_str(json_object_get(s, "escalation_decision"), "escalation_decision",
					  "no_escalation"));
	}
	*out = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o}",
			 "total", (json_int_t)json_array_size(results), "processed", (json_int_t)ok,
			 "failed", (json_int_t)json_array_size(failures),
			 "by_category", by_cat, "by_priority", by_prio, "by_escalation", by_esc,
			 "failures", failures);
	return 0;
}

static int summary_post(struct flow_call *call, json_t *shared, json_t *prep, json_t *res,
			const char **action)
{
	(void)call;
	(void)prep;
	json_object_set(shared, "batch_summary", res);
	*action = "complete";
	return 0;
}

static const struct flow_node_ops summary_ops = {
	.prep = summary_prep, .exec = summary_exec, .post = summary_post,
};

struct flow_node *support__node_batch_summary(void)
{
	return flow_node_new("batch_summary", &summary_ops, NULL);
}
