/*
 * Processing a ticket end to end: intake (durable first), the workflow run,
 * and the finish (support_finish) that stores the results.
 *
 * Exactly once in effect: a run's effects (the ticket's new status, labels,
 * analysis and trace; the auto-reply message; the escalation; notifications;
 * the customer's ticket count; the audit event; for a queue job, the
 * ticket's events for integrations and the job's completion) are written in
 * ONE transaction, which first checks that the ticket has not been
 * processed already. A crash before the commit leaves nothing behind and the
 * job runs again; a crash after it finds the ticket processed and re-applies
 * nothing. The effects also carry keys (effect_key, dedupe_key, one open
 * escalation per ticket) as a second line of defence.
 *
 * The service's workers (src/service/workers.c) claim the jobs and call
 * support_process_job; nothing here calls back up into them.
 */
#include <string.h>

#include "support_int.h"
#include "kb/kb.h"
#include "store/store.h"

void support_outcome_release(struct support_outcome *o)
{
	json_decref(o->ticket);
	json_decref(o->shared);
	json_decref(o->trace);
	json_decref(o->errors);
	json_decref(o->escalation);
	free(o->error);
	memset(o, 0, sizeof(*o));
}

struct flow_result *support_run(struct flow_node *workflow, const char *start,
				struct support_ctx *ctx, json_t *shared)
{
	struct flow_opts opts = { .ctx = ctx, .ctx_type = SUPPORT_CTX, .max_steps = 200 };

	return flow_run_opts(workflow, shared, start, &opts);
}

/* The analyses a run wrote, by key, as the ticket's "analysis" object. */
static const char *const analysis_keys[] = {
	"message", "language", "spam", "sentiment_analysis", "categorization", "priority_assignment",
	"knowledge_base_results", "generated_response", "auto_reply", "escalation_decision", "escalation_package",
	"satisfaction_metrics", "llm_usage",
};

json_t *support__analysis_of(const json_t *shared)
{
	json_t *a = json_object(), *paths = json_object();
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(analysis_keys); i++) {
		json_t *v = json_object_get(shared, analysis_keys[i]);

		if (!v)
			continue;
		json_object_set(a, analysis_keys[i], v);
		if (fl_json_str(v, "path", NULL))
			json_object_set_new(paths, analysis_keys[i], json_string(fl_json_str(v, "path", "")));
	}
	json_object_set_new(a, "paths", paths);
	return a;
}

bool support__processed(const json_t *ticket)
{
	const char *status = fl_json_str(ticket, "status", FL_STATUS_NEW);

	return strcmp(status, FL_STATUS_NEW) && strcmp(status, FL_STATUS_TRIAGING);
}

/* Notifications of a processed ticket, into the outbox (same transaction). */
static int notify(struct store *st, const json_t *ticket, const json_t *shared, bool auto_replied,
		  bool escalated)
{
	const json_t *package = json_object_get(shared, "escalation_package");
	/* a first-time sender is a customer only from this finish on: the address intake kept */
	const char *email = fl_json_str(json_object_get(shared, "customer"), "email",
					fl_json_str(json_object_get(ticket, "metadata"), "customer_email", NULL));
	json_t *notices = json_array();
	int rc;

	/* a chat's answer reaches the visitor's stream (its outbound message), not an inbox */
	if (auto_replied && email && !fl_str_eq(fl_json_str(ticket, "channel", NULL), FL_CHANNEL_CHAT))
		support_notice_auto_reply(notices, ticket, email,
					  fl_json_str(json_object_get(shared, "generated_response"), "response", ""),
					  fl_json_str(json_object_get(shared, "generated_response"), "response_html", NULL));
	if (escalated)
		support_notice_escalation(notices, ticket, fl_json_str(package, "assigned_department", "support"),
					  fl_json_str(package, "handoff_priority", "medium"));
	rc = support_notices_enqueue(st, notices);
	json_decref(notices);
	return rc;
}

/*
 * The sender of an email ticket becomes a customer (the CRM cache) when its
 * triage finds no spam, from what intake kept (metadata customer_email and
 * customer_name): not at intake, where only the mail server's and spamd's
 * verdicts are known, so that spam the built-in model finds never makes a
 * customer. Automated mail (bounces, out-of-office, lists) does not either.
 * A customer that exists is left as it is. In the finish's transaction.
 */
static int new_email_customer(struct store *st, const json_t *ticket, const json_t *shared, int64_t now_us)
{
	const json_t *meta = json_object_get(ticket, "metadata");
	const char *id = fl_json_str(ticket, "customer_id", NULL), *email = fl_json_str(meta, "customer_email", NULL);
	json_t *cur = NULL, *cust;
	char joined[32];
	int rc;

	if (!id || !email || !fl_str_eq(fl_json_str(ticket, "channel", NULL), FL_CHANNEL_EMAIL) ||
	    !fl_json_bool(json_object_get(meta, "email"), "auto_reply", false) ||
	    fl_json_bool(json_object_get(shared, "spam"), "automated", false))
		return STORE_OK;
	rc = store_customer_get(st, id, &cur);
	json_decref(cur);
	if (rc != STORE_ENOTFOUND)
		return rc;
	fl_time_rfc3339(joined, now_us);
	cust = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s}}", "id", id, "name",
			 fl_json_str(meta, "customer_name", email), "email", email, "tier", "standard", "joined_at",
			 joined, "metadata", "source", "email");
	rc = store_customer_upsert(st, cust);
	json_decref(cust);
	return rc;
}

/*
 * A job's part of the finish: the ticket's events for integrations (created,
 * escalated) and the job's completion, which fails with STORE_ELEASE when
 * the lease has passed to another worker (that one writes it all).
 */
static int finish_job(struct store *st, const json_t *ticket, const struct support_job *job)
{
	int rc = support_ticket_event(st, FL_EVENT_TICKET_CREATED, ticket, NULL);

	if (rc == STORE_OK && !strcmp(fl_json_str(ticket, "status", ""), FL_STATUS_ESCALATED))
		rc = support_ticket_event(st, FL_EVENT_TICKET_ESCALATED, ticket, NULL);
	if (rc == STORE_OK)
		rc = store_job_complete(st, job->id, job->owner);
	return rc;
}

/*
 * Whether the ticket a run read (shared's incoming_ticket) has the stored
 * ticket's text, its subject and content: a run's results belong to the
 * text it was computed on. A shared object without one (a caller that made
 * it by hand) is taken as the ticket's.
 */
static bool same_text(const json_t *read, const json_t *stored)
{
	return !json_is_object(read) ||
	       (fl_str_eq(fl_json_str(read, "subject", ""), fl_json_str(stored, "subject", "")) &&
		fl_str_eq(fl_json_str(read, "content", ""), fl_json_str(stored, "content", "")));
}

/*
 * A run whose ticket's text changed while it ran (a call's transcript
 * arriving during the first triage: store_call_ticket_sync): nothing of it
 * is stored; its job is completed and a fresh triage job queued (the key
 * intake uses, free once this one is done; an existing live one is kept),
 * with an event saying why. In the finish's transaction.
 */
static int supersede(struct store *st, const json_t *ticket, const json_t *read, const struct support_job *job)
{
	const char *id = fl_json_str(ticket, "id", "");
	char tag[FL_TICKET_TAG_SIZE], *dedupe;
	json_t *data;
	int rc = job ? store_job_complete(st, job->id, job->owner) : STORE_OK;

	if (rc != STORE_OK)
		return rc;
	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	dedupe = fl_asprintf("%s:%s", FL_JOB_TRIAGE, tag);
	rc = store_job_enqueue(st, FL_JOB_TRIAGE, id, NULL, 5, 0, dedupe);
	free(dedupe);
	if (rc != STORE_OK)
		return rc;
	data = json_pack("{s:s, s:o, s:I, s:I}", "reason",
			 "the ticket's text changed while its triage ran: the run's results were not stored and "
			 "it is triaged again on the new text",
			 "job_id", job ? json_integer(job->id) : json_null(), "read_version",
			 (json_int_t)fl_json_int(read, "version", 0), "version",
			 (json_int_t)fl_json_int(ticket, "version", 0));
	rc = store_event_append(st, id, SUPPORT_EVENT_WORKFLOW_SUPERSEDED, "workflow", data);
	json_decref(data);
	return rc;
}

int support__assign(struct store *st, const char *ticket_id, json_t **ticket)
{
	json_t *res = NULL, *t = NULL;
	int rc = store_ticket_assign(st, ticket_id, (int)fl_config_int("FRONTLINE_AGENT_IDLE_S", 900), &res);

	if (rc == STORE_OK && fl_json_bool(res, "assigned", false) &&
	    (rc = store_ticket_get(st, ticket_id, false, &t)) == STORE_OK) {
		json_decref(*ticket);
		*ticket = t;
	}
	json_decref(res);
	return rc;
}

static int finish_once(struct support_ctx *ctx, const char *ticket_id, const json_t *shared,
		       const json_t *trace, const struct support_job *job, json_t **ticket_out,
		       char **err, int *store_rc)
{
	struct store *st = ctx->store;
	const json_t *response = json_object_get(shared, "generated_response");
	const json_t *decision = json_object_get(shared, "escalation_decision");
	const json_t *package = json_object_get(shared, "escalation_package");
	const json_t *sat = json_object_get(shared, "satisfaction_metrics");
	const json_t *cat = json_object_get(shared, "categorization");
	json_t *cur = NULL, *fields = NULL, *updated = NULL, *msg = NULL;
	bool escalated = json_is_object(package), auto_replied, created, done = false;
	const char *status, *department;
	char ts[32];
	int rc = SUPPORT_ESTORE, src;

	*ticket_out = NULL;
	*err = NULL;
	/* the escalation decision says whether the reply goes out before a human answers */
	auto_replied = json_is_object(decision) ? fl_json_bool(decision, "auto_response_sent", false)
						: support__reply_sendable(response);
	if ((src = store_begin_immediate(st)) != STORE_OK)
		goto out;
	if ((src = store_ticket_get(st, ticket_id, false, &cur)) != STORE_OK)
		goto out;
	if (!shared || support__processed(cur)) {
		/* an earlier attempt stored the results; a retried job still owes its events and completion */
		done = true;
		if (job && (src = finish_job(st, cur, job)) != STORE_OK)
			goto out;
		if (!job)
			store_rollback(st);
		else if ((src = store_commit(st)) != STORE_OK)
			goto out;
		*ticket_out = cur;
		cur = NULL;
		return SUPPORT_EDONE;
	}
	if (!same_text(json_object_get(shared, "incoming_ticket"), cur)) {
		done = true;
		if ((src = supersede(st, cur, json_object_get(shared, "incoming_ticket"), job)) != STORE_OK ||
		    (src = store_commit(st)) != STORE_OK)
			goto out;
		*ticket_out = cur;
		cur = NULL;
		*err = fl_asprintf("the text of ticket '%s' changed during its triage: the run's results were not "
				   "stored and it is queued to be triaged again", ticket_id);
		return SUPPORT_ESTALE;
	}
	if (fl_str_eq(fl_json_str(json_object_get(shared, "auto_reply"), "reason", NULL), "spam"))
		status = FL_STATUS_SPAM;      /* listed for review (GET /api/v1/tickets?status=spam), nobody answers */
	else if (fl_str_eq(fl_json_str(json_object_get(shared, "auto_reply"), "reason", NULL), "thank_you"))
		status = FL_STATUS_RESOLVED;  /* a thank-you note: nothing to answer, nobody to hand it to */
	else if (escalated)
		status = FL_STATUS_ESCALATED;
	else if (auto_replied)
		status = FL_STATUS_AUTO_REPLIED;
	else if (json_is_object(decision) && strcmp(fl_json_str(decision, "escalation_decision", ""), "no_escalation"))
		status = FL_STATUS_ESCALATED;
	else
		status = FL_STATUS_WAITING;
	department = fl_json_str(package, "assigned_department",
				 fl_json_str(decision, "assigned_department",
					     fl_json_str(cat, "suggested_department", NULL)));
	fields = json_pack("{s:s, s:o, s:O}", "status", status, "analysis", support__analysis_of(shared),
			   "trace", trace ? (json_t *)trace : json_null());
	if (fl_json_str(json_object_get(shared, "sentiment_analysis"), "sentiment", NULL))
		json_object_set(fields, "sentiment",
				json_object_get(json_object_get(shared, "sentiment_analysis"), "sentiment"));
	if (fl_json_str(cat, "primary_category", NULL))
		json_object_set(fields, "category", json_object_get(cat, "primary_category"));
	if (fl_json_str(json_object_get(shared, "language"), "code", NULL))
		json_object_set(fields, "language", json_object_get(json_object_get(shared, "language"), "code"));
	if (fl_json_str(json_object_get(shared, "priority_assignment"), "priority", NULL))
		json_object_set(fields, "priority",
				json_object_get(json_object_get(shared, "priority_assignment"), "priority"));
	if (department)
		json_object_set_new(fields, "assigned_department", json_string(department));
	if (json_is_number(json_object_get(sat, "satisfaction_score")))
		json_object_set(fields, "satisfaction", json_object_get(sat, "satisfaction_score"));
	if (auto_replied) {
		fl_time_rfc3339(ts, support_now_us(ctx));
		json_object_set_new(fields, "first_response_at", json_string(ts));
	}
	if (!strcmp(status, FL_STATUS_RESOLVED)) {
		fl_time_rfc3339(ts, support_now_us(ctx));
		json_object_set_new(fields, "resolved_at", json_string(ts));
	}
	if ((src = store_ticket_update(st, ticket_id, fl_json_int(cur, "version", 0), fields, "workflow",
				       &updated)) != STORE_OK)
		goto out;
	if (auto_replied) {
		msg = json_pack("{s:s, s:s, s:s, s:s, s:{s:O}}", "direction", "outbound",
				"author", "frontline", "body", fl_json_str(response, "response", ""),
				"effect_key", "auto_reply", "metadata", "articles_referenced",
				json_object_get(response, "articles_referenced"));
		if ((src = store_message_add(st, ticket_id, msg, NULL, &created)) != STORE_OK)
			goto out;
	}
	if (escalated &&
	    (src = store_escalation_open(st, ticket_id, fl_json_str(package, "handoff_priority", "medium"),
					 department ? department : "customer_support",
					 json_object_get(package, "escalation_package"), NULL, &created)) != STORE_OK)
		goto out;
	/* a ticket handed to a human goes to an agent of its department, or waits in its queue */
	if (!strcmp(status, FL_STATUS_ESCALATED) && (src = support__assign(st, ticket_id, &updated)) != STORE_OK)
		goto out;
	if ((src = notify(st, updated, shared, auto_replied, escalated)) != STORE_OK)
		goto out;
	/* spam is nobody's ticket: it makes no customer and does not count in the sender's history */
	if (strcmp(status, FL_STATUS_SPAM) && (src = new_email_customer(st, updated, shared, support_now_us(ctx))))
		goto out;
	src = strcmp(status, FL_STATUS_SPAM)
		      ? store_customer_update_metrics(st, fl_json_str(updated, "customer_id", ""), -1)
		      : STORE_OK;
	if (src != STORE_OK && src != STORE_ENOTFOUND)
		goto out;
	{
		json_t *data = json_pack("{s:s, s:s?, s:s?, s:s?, s:I}", "status", status,
					 "category", fl_json_str(updated, "category", NULL),
					 "priority", fl_json_str(updated, "priority", NULL),
					 "escalation", fl_json_str(decision, "escalation_decision", NULL),
					 "steps", (json_int_t)json_array_size(trace));

		src = store_event_append(st, ticket_id, FL_EVENT_WORKFLOW_COMPLETED, "workflow", data);
		json_decref(data);
		if (src != STORE_OK)
			goto out;
	}
	if (job && (src = finish_job(st, updated, job)) != STORE_OK)
		goto out;
	if ((src = store_commit(st)) != STORE_OK)
		goto out;
	*ticket_out = updated;
	updated = NULL;
	rc = SUPPORT_OK;
out:
	if (rc != SUPPORT_OK) {
		if (src == STORE_ELEASE)
			rc = SUPPORT_ELEASE;
		*err = fl_asprintf(done ? "cannot complete the job of ticket '%s': %s"
					: "cannot persist the results of ticket '%s': %s", ticket_id,
				   store_errmsg(st)[0] ? store_errmsg(st) : store_strerror(src));
		store_rollback(st);
	}
	*store_rc = src;
	json_decref(cur);
	json_decref(fields);
	json_decref(updated);
	json_decref(msg);
	return rc;
}

int support_finish(struct support_ctx *ctx, const char *ticket_id, const json_t *shared,
		   const json_t *trace, const struct support_job *job, json_t **ticket_out,
		   char **err)
{
	int rc, src, tries;

	/*
	 * A ticket changed between the finish's read and its write (PostgreSQL
	 * reads without the row's lock; the write checks the version under it):
	 * read again, which finds a new text and supersedes the run, or stores
	 * its results on what changed beside the text.
	 */
	for (tries = 0;; tries++) {
		src = STORE_OK;   /* an early return (done, superseded) leaves it */
		rc = finish_once(ctx, ticket_id, shared, trace, job, ticket_out, err, &src);
		if (rc == SUPPORT_OK || src != STORE_ECONFLICT || tries == 2)
			return rc;
		free(*err);
	}
}

/*
 * Runs workflow (or, with ctx->routing, the graph of the ticket's channel) on
 * ticket (already validated/stored) and finishes it (with job, may be NULL).
 */
static int run_and_finish(struct support_ctx *ctx, struct flow_node *workflow, json_t *ticket,
			  const struct support_job *job, struct support_outcome *o)
{
	struct flow_result *r;
	int rc;

	if (ctx->routing)
		workflow = support_routing_graph(ctx->routing, fl_json_str(ticket, "channel", NULL));
	o->shared = json_pack("{s:O}", "incoming_ticket", ticket);
	r = support_run(workflow, "ticket_ingestion", ctx, o->shared);
	o->trace = json_incref(flow_result_trace(r));
	if (flow_result_code(r) != FLOW_OK) {
		/* the nodes say the kind of failure with a code: support_errname's */
		rc = fl_str_eq(flow_result_error_code(r), support_errname(SUPPORT_EINVAL)) ? SUPPORT_EINVAL
											   : SUPPORT_EFLOW;
		o->error = fl_strdup(flow_result_error(r));
		flow_result_free(r);
		return rc;
	}
	flow_result_free(r);
	if (!ctx->store) {
		o->ticket = json_incref(json_object_get(o->shared, "ticket"));
		return SUPPORT_OK;
	}
	rc = support_finish(ctx, fl_json_str(ticket, "id", ""), o->shared, o->trace, job, &o->ticket,
			    &o->error);
	if (rc == SUPPORT_EDONE) {
		o->already_done = true;
		rc = SUPPORT_OK;
	}
	return rc;
}

int support_process(struct support_ctx *ctx, struct flow_node *workflow,
		    const json_t *incoming, struct support_outcome *o)
{
	json_t *ticket = NULL, *errors = NULL, *stored = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	o->created = true;
	if (support_ticket_validate(incoming, support_now_us(ctx), &ticket, &errors) != SUPPORT_OK) {
		o->error = support_errors_text(errors);
		o->errors = errors;
		return SUPPORT_EINVAL;
	}
	if (ctx->store) {
		rc = store_ticket_intake(ctx->store, ticket, NULL, NULL, &stored, &o->created);
		json_decref(ticket);
		if (rc != STORE_OK) {
			o->error = fl_asprintf("cannot store the ticket: %s", store_errmsg(ctx->store));
			return SUPPORT_ESTORE;
		}
		ticket = stored;
		if (support__processed(ticket)) {
			o->ticket = ticket;
			o->already_done = true;
			return SUPPORT_OK;
		}
	}
	rc = run_and_finish(ctx, workflow, ticket, NULL, o);
	json_decref(ticket);
	return rc;
}

static int process_stored(struct support_ctx *ctx, struct flow_node *workflow, const char *ticket_id,
			  const struct support_job *job, struct support_outcome *o)
{
	json_t *ticket = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!ctx->store)
		return SUPPORT_ESTORE;
	rc = store_ticket_get(ctx->store, ticket_id, false, &ticket);
	if (rc == STORE_ENOTFOUND) {
		o->error = fl_asprintf("ticket '%s' not found", ticket_id);
		return SUPPORT_ENOTFOUND;
	}
	if (rc != STORE_OK) {
		o->error = fl_asprintf("cannot read ticket '%s': %s", ticket_id, store_errmsg(ctx->store));
		return SUPPORT_ESTORE;
	}
	if (support__processed(ticket)) {
		o->already_done = true;
		if (!job) {
			o->ticket = ticket;
			return SUPPORT_EDONE;
		}
		json_decref(ticket);
		/* the job still owes its events and completion */
		return support_finish(ctx, ticket_id, NULL, NULL, job, &o->ticket, &o->error);
	}
	rc = run_and_finish(ctx, workflow, ticket, job, o);
	json_decref(ticket);
	if (rc == SUPPORT_OK && o->already_done)
		rc = SUPPORT_EDONE;
	return rc;
}

int support_process_stored(struct support_ctx *ctx, struct flow_node *workflow,
			   const char *ticket_id, struct support_outcome *o)
{
	return process_stored(ctx, workflow, ticket_id, NULL, o);
}

int support_process_job(struct support_ctx *ctx, struct flow_node *workflow,
			const struct support_job *job, struct support_outcome *o)
{
	return process_stored(ctx, workflow, job->ticket_id, job, o);
}

int support_kb_load(struct store *st, struct kb *kb, const char *kb_dir, size_t *count, char **err)
{
	json_t *articles = NULL, *imported = NULL;
	const char *dir = kb_dir ? kb_dir : fl_config_get("FRONTLINE_KB_DIR");
	int rc = SUPPORT_ESTORE;
	size_t i;

	*count = 0;
	*err = NULL;
	if (store_kb_list(st, &articles) != STORE_OK) {
		*err = fl_asprintf("cannot list knowledge-base articles: %s", store_errmsg(st));
		goto out;
	}
	if (!json_array_size(articles) && dir) {
		char *why = NULL;

		if (kb_import_path(dir, &imported, &why) != KB_OK) {
			*err = fl_asprintf("cannot import the bundled articles: %s", why);
			free(why);
			rc = SUPPORT_EKB;
			goto out;
		}
		/* all of them or none, in one commit */
		if (store_begin_immediate(st) != STORE_OK) {
			*err = fl_asprintf("cannot store the bundled articles: %s", store_errmsg(st));
			goto out;
		}
		for (i = 0; i < json_array_size(imported); i++)
			if (store_kb_upsert(st, json_array_get(imported, i)) != STORE_OK) {
				*err = fl_asprintf("cannot store article '%s': %s",
						   fl_json_str(json_array_get(imported, i), "id", "?"),
						   store_errmsg(st));
				store_rollback(st);
				goto out;
			}
		if (store_commit(st) != STORE_OK) {
			*err = fl_asprintf("cannot store the bundled articles: %s", store_errmsg(st));
			goto out;
		}
		json_decref(articles);
		articles = NULL;
		if (store_kb_list(st, &articles) != STORE_OK) {
			*err = fl_asprintf("cannot list knowledge-base articles: %s", store_errmsg(st));
			goto out;
		}
	}
	/* one transaction: the index gets one segment, not one per article (src/kb/write.c) */
	for (i = 0; i < json_array_size(articles); i++) {
		char *why = NULL;

		if (kb_article_check(json_array_get(articles, i), &why) != KB_OK) {
			*err = fl_asprintf("cannot index article '%s': %s",
					   fl_json_str(json_array_get(articles, i), "id", "?"), why);
			free(why);
			rc = SUPPORT_EKB;
			goto out;
		}
	}
	if (kb_add_many(kb, articles) != KB_OK) {
		*err = fl_asprintf("cannot index the %zu knowledge-base articles", json_array_size(articles));
		rc = SUPPORT_EKB;
		goto out;
	}
	*count = json_array_size(articles);
	rc = SUPPORT_OK;
out:
	json_decref(articles);
	json_decref(imported);
	return rc;
}
