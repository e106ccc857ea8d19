/*
 * support: the customer-support domain on top of the flow engine.
 *
 * - the ticket model and the ingestion rules every door runs
 *   (support_ticket_validate);
 * - the nine nodes of DESIGN §4 and the five workflows (registry below);
 * - the built-in analyzer (category model, sentiment analyzer, KB search),
 *   the policies (priority score, SLA, escalation rules table, where
 *   notifications go, satisfaction);
 * - the LLM tasks the nodes run through the LLM client (llm_tasks.c);
 * - the notices: every outbox item, built by one constructor per kind;
 * - the finish of a triaged ticket: its results, notifications, events and
 *   job completion in one transaction, exactly once in effect;
 * - the seed's demo data.
 *
 * Nodes exchange JSON through the run's shared object under the keys of
 * DESIGN §4 (incoming_ticket, ticket, sentiment_analysis, categorization,
 * priority_assignment, knowledge_base_results, generated_response,
 * escalation_decision, escalation_package, satisfaction_metrics). Node execs
 * are pure computations and may run on worker threads; store I/O happens in
 * prep/post on the calling thread, and persistence after the run.
 */
#ifndef FL_SUPPORT_H
#define FL_SUPPORT_H

#include <stdbool.h>
#include <jansson.h>

#include "flow/flow.h"

struct store;
struct kb;
struct llm_client;
struct text_model;
struct text_sentiment;

#define SUPPORT_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid ticket") \
	X(EMODEL, "cannot load the analyzer's models") \
	X(ESTORE, "store error") \
	X(EKB, "knowledge-base error") \
	X(EFLOW, "workflow failed") \
	X(ENOTFOUND, "not found") \
	X(EDONE, "ticket was already processed") \
	X(ELEASE, "the job's lease passed to another worker") \
	X(ESTATE, "the ticket's state does not allow it") \
	X(ESTALE, "the ticket's text changed during the run: it is triaged again")

enum support_err {
#define SUPPORT_ENUM(name, text) SUPPORT_##name,
	SUPPORT_ERRNO_MAP(SUPPORT_ENUM)
#undef SUPPORT_ENUM
};

const char *support_strerror(int rc);
const char *support_errname(int rc);

/* ---- the analyzer: models shared by every thread ---- */

struct support_analyzer;

/*
 * Loads the built-in analyzer's models from models_dir (category.model and
 * the sentiment analyzer's files). NULL models_dir: FRONTLINE_MODELS_DIR.
 * On failure *err says which file and why (caller frees).
 */
int support_analyzer_open(const char *models_dir, struct support_analyzer **out, char **err);
void support_analyzer_free(struct support_analyzer *a);

/* ---- the LLM tasks (llm_tasks.c): what the nodes ask an LLM ---- */

/*
 * The tasks, their reply schemas, instructions and data, run as structured
 * calls by the LLM client (src/llm, llm_call). The analyzer builds them for
 * its category model's labels (support_analyzer_open); tests and tools build
 * them with support_llm_tasks_new.
 */
enum support_llm_task {
	SUPPORT_LLM_TRIAGE,      /* sentiment + category + urgency + priority signals */
	SUPPORT_LLM_PRIORITY,    /* priority with reasoning and factors */
	SUPPORT_LLM_RESPOND,     /* the reply to the customer, citing KB articles */
	SUPPORT_LLM_ESCALATION,  /* an escalation recommendation (advisory) */
	SUPPORT_LLM__COUNT
};

struct support_llm_tasks;

/* "triage", "priority", "respond", "escalation"; NULL outside the enum. */
const char *support_llm_task_name(enum support_llm_task task);
/* The task called name, or -1. */
int support_llm_task_parse(const char *name);
/*
 * The tasks for a category label set (NULL-terminated; NULL: DESIGN §5's
 * five): the category enum of triage's schema and its instructions list
 * those labels (DESIGN's order first), escalation's department enum the
 * policy's departments. Read-only once built: share it between threads.
 */
struct support_llm_tasks *support_llm_tasks_new(const char *const *categories);
void support_llm_tasks_free(struct support_llm_tasks *t);
/*
 * A new copy of a task's reply schema (the subset of JSON Schema that
 * llm_schema_validate() understands), or NULL outside the enum. For respond
 * the article-id constraints are added per request. Caller owns the result.
 */
json_t *support_llm_task_schema(const struct support_llm_tasks *t, enum support_llm_task task);
/*
 * Runs one task through llm. input (borrowed) is
 *   {"ticket": {"subject", "content", "metadata"?, "customer_tier"?, ...},
 *    "customer": {...}?, "articles": [{"id", "title", "content", ...}] (respond),
 *    "analyses": {...} (respond, escalation, priority)}
 * and becomes the prompt's data block (the ticket's content cut at 10,000
 * bytes, at most 5 articles of 2,000). Returns as llm_call (LLM_OK with
 * *output the validated object, *call_info the accounting; an llm_err with
 * *err), and LLM_EINVAL without a request when the input has no ticket
 * content.
 */
int support_llm_task_run(struct llm_client *llm, const struct support_llm_tasks *t,
			 enum support_llm_task task, const json_t *input, json_t **output,
			 json_t **call_info, char **err);

/* ---- the context every node receives (flow_call_ctx(call, SUPPORT_CTX)) ---- */

#define SUPPORT_CTX "support_ctx"

struct support_ctx {
	struct support_analyzer *analyzer;  /* required; shared, thread-safe */
	struct kb *kb;                      /* KB index; NULL: no articles */
	struct llm_client *llm;             /* NULL: built-in analyzer only */
	struct store *store;                /* this thread's connection; NULL: nothing persisted */
	/* wall clock in microseconds (NULL: fl_wall_us); tests inject a fixed one */
	int64_t (*now_us)(void *arg);
	void *now_arg;
	/* batch runs: called from worker threads once per finished item */
	void (*progress)(void *arg, bool ok);
	void *progress_arg;
	int batch_workers;                  /* batch_processing workers; 0: 5 */
	/* the external CRM (support_crm_open); NULL: the store's customers are all there is */
	struct support_crm *crm;
	/* the workflow per channel (support_routing_new); NULL: the workflow the caller gives */
	const struct support_routing *routing;
};

/* ---- the external CRM (crm.c; docs/CONFIGURATION.md, CRM_API_URL) ---- */

struct support_crm;

/*
 * A CRM client from CRM_API_URL, CRM_API_KEY and FRONTLINE_CRM_CACHE_S:
 * *out NULL when CRM_API_URL is unset; SUPPORT_EINVAL when it is not an
 * http(s) URL. Thread-safe; one per worker or shared.
 */
int support_crm_open(struct support_crm **out);
void support_crm_free(struct support_crm *c);
/*
 * The CRM's record of customer id (GET {url}/customers/{id}, 2 s), upserted
 * into st (may be NULL) and returned as stored (*out, new reference), or
 * *out NULL when the CRM does not know them, fails or is not configured
 * (c NULL): never an error for the caller. Answers are cached per client.
 */
int support_crm_lookup(struct support_crm *c, struct store *st, const char *id, int64_t now_us, json_t **out);

/* The context's clock. */
int64_t support_now_us(const struct support_ctx *ctx);

/* ---- tickets ---- */

/*
 * The ingestion rules of DESIGN §5: the one validation every door (webhook,
 * API, email, CLI, batch) runs on an incoming ticket, and the normalized
 * ticket it returns: id (the sender's: 1 to 128 of [A-Za-z0-9._:-];
 * generated "ticket_<unix time>_<customer_id>" when absent, other
 * characters made '_'), customer_id (at most 128 characters, no line
 * break), subject (at most 500 characters), content (trimmed, 10 to 10,000
 * characters), channel (from
 * "channel" or "source", one of fl_channels, default "web"), metadata
 * (object, default {}; at most 16 KiB as compact JSON and 8 levels deep),
 * status "new", created_at (the sender's when readable, else now_us).
 * On failure returns SUPPORT_EINVAL and *errors is an array of
 * {"field", "code", "message"} (new reference; code is one of the
 * SUPPORT_FIELD_* below), every violation at once, *out NULL.
 */
int support_ticket_validate(const json_t *incoming, int64_t now_us, json_t **out, json_t **errors);

/* The codes of the ingestion rules' errors. */
#define SUPPORT_FIELD_MISSING "missing"       /* absent or null */
#define SUPPORT_FIELD_TYPE "wrong_type"       /* not a string (an object for metadata), or NUL characters */
#define SUPPORT_FIELD_EMPTY "empty"           /* nothing left after trimming */
#define SUPPORT_FIELD_LENGTH "bad_length"     /* too short or too long */
#define SUPPORT_FIELD_VALUE "unknown_value"   /* not one of the allowed words */
#define SUPPORT_FIELD_CHARS "bad_characters"  /* the id outside [A-Za-z0-9._:-], a line break in customer_id */
#define SUPPORT_FIELD_DEPTH "too_deep"        /* metadata nested deeper than 8 levels */

/* One line naming each invalid field, from the errors array. Caller frees. */
char *support_errors_text(const json_t *errors);
/*
 * How every door shows a refused ticket: {"code": "validation_failed",
 * "message": support_errors_text, "field": the first error's field,
 * "details": errors} (the API's error object). New reference.
 */
json_t *support_ticket_refusal(const json_t *errors);
#define SUPPORT_REFUSAL_CODE "validation_failed"

/* ---- the satisfaction survey (survey.c; issue 17, point 4) ---- */

/* The job kind that sends a resolved ticket's survey. */
#define SUPPORT_JOB_SURVEY "survey"

/*
 * Schedules ticket's survey (just resolved, in the caller's transaction):
 * a SUPPORT_JOB_SURVEY job due FRONTLINE_CSAT_DELAY seconds after now_us
 * (negative: no surveys). Returns a store code.
 */
int support_survey_schedule(struct store *st, const json_t *ticket, int64_t now_us);
/*
 * The job: when the ticket is still resolved, has a customer's address,
 * and had no survey, makes the link's token (256 random bits, hex), keeps
 * its SHA-256 with the survey (28 days) and queues the email with
 * FRONTLINE_PUBLIC_URL/csat/<token>, in one transaction (*sent then true).
 * Without FRONTLINE_PUBLIC_URL it logs a warning and sends nothing.
 * Returns a store code.
 */
int support_survey_send(struct store *st, const char *ticket_id, bool *sent);
/* The survey of a link's token (store_survey_find; STORE_ENOTFOUND when unknown or expired). */
int support_survey_lookup(struct store *st, const char *token, json_t **out);
/*
 * Records score (1-5) and comment (may be NULL) for token's survey, again
 * if answered before: the survey, the ticket's satisfaction
 * (support_survey_scale), the customer's satisfaction_score, and a
 * "ticket.rated" event, in one transaction. *out the survey (caller frees).
 * Returns a store code (STORE_ENOTFOUND: unknown or expired token).
 */
int support_survey_answer(struct store *st, const char *token, int score, const char *comment, json_t **out);
/* A score of 1 to 5 on the 0-1 scale of satisfaction: (score - 1) / 4. */
double support_survey_scale(int score);
/* The hex SHA-256 of a link's token, as the store keeps it. */
void support_survey_token_hash(const char *token, char out[65]);

/* ---- macros (macro.c; docs/OPERATIONS.md, "Macros") ---- */

/* A reply action's mode: put the text in the agent's reply box, or send it as the agent's reply. */
#define SUPPORT_MACRO_DRAFT "draft"
#define SUPPORT_MACRO_SEND "send"

/*
 * Checks a macro's body: {"description"?: string (at most 500 bytes),
 * "actions": [1 to 20 of {"type", ...}]}, where an action is one of
 * status, priority, category (DESIGN §5's labels), department, tag
 * ({"type", "value": string}), assignee ("value": a name, or null to
 * unassign) and reply ({"type": "reply", "canned": id | "body": text,
 * "mode": "draft" (default) | "send"}); one of each type but tag. On
 * success *out is {description, actions} normalized (new reference). On
 * failure SUPPORT_EINVAL and *errors every violation as
 * {"field" ("actions[2].value"), "code" (SUPPORT_FIELD_*), "message"}.
 */
int support_macro_check(const json_t *body, json_t **out, json_t **errors);

/* ---- workflows ---- */

struct support_workflow {
	const char *name;
	const char *description;
	const char *start;   /* the start node's name, as the seed calls run(start_node=...) */
	/* Builds a new graph; the caller frees it with flow_node_free. */
	struct flow_node *(*build)(void);
	/* runs on one ticket (support_workflow_ticket_graph); batch and monitoring do not */
	bool on_ticket;
};

/* The registered workflows, ended by an entry whose name is NULL. */
const struct support_workflow *support_workflows(void);
/* The workflow called name, or NULL. */
const struct support_workflow *support_workflow_find(const char *name);

/*
 * A new graph that runs wf on one incoming ticket from "ticket_ingestion"
 * (what support_process starts at): customer_support itself; another
 * ticket workflow after the triage (ingestion, sentiment, categorization,
 * priority) that gives its nodes the ticket and its analyses. NULL for a
 * workflow that does not run on a ticket. Caller frees (flow_node_free).
 */
struct flow_node *support_workflow_ticket_graph(const struct support_workflow *wf);
/*
 * The ticket workflow called name (*out), or SUPPORT_ENOTFOUND with *err
 * saying it is unknown or does not run on a ticket and naming the ones
 * that do (caller frees).
 */
int support_workflow_check_name(const char *name, const struct support_workflow **out, char **err);

/*
 * The workflow each channel's tickets run: FRONTLINE_WORKFLOW_<CHANNEL>
 * (EMAIL, CHAT, WEB, WEBHOOK, PHONE, API; unset: customer_support), each
 * graph built once and validated. support_routing_new fails with
 * SUPPORT_EINVAL and *err naming the key and the ticket workflows when a
 * name is unknown (a configuration error at start-up, not at the first
 * ticket). Read-only once made: share it between threads. Set as
 * ctx->routing, support_process, _process_stored and _process_job run the
 * ticket's channel's graph instead of the one they are given.
 */
struct support_routing;
int support_routing_new(struct support_routing **out, char **err);
void support_routing_free(struct support_routing *r);
/* The graph for channel's tickets (a channel outside fl_channels: customer_support's). Borrowed. */
struct flow_node *support_routing_graph(const struct support_routing *r, const char *channel);
/* The name of the workflow channel's tickets run. */
const char *support_routing_workflow(const struct support_routing *r, const char *channel);

/*
 * Runs workflow (built by the caller, reusable across runs and threads) on
 * shared with ctx. Returns the flow result (caller frees).
 */
struct flow_result *support_run(struct flow_node *workflow, const char *start,
				struct support_ctx *ctx, json_t *shared);

/* ---- processing one ticket end to end ---- */

struct support_outcome {
	json_t *ticket;      /* the stored ticket after processing (new reference) */
	json_t *shared;      /* the run's shared object: every analysis (new reference) */
	json_t *trace;       /* the run's trace (new reference) */
	bool created;        /* false when intake found the ticket already stored */
	bool already_done;   /* the ticket had been processed before: nothing re-applied */
	char *error;         /* on failure: what went wrong (caller frees) */
	json_t *errors;      /* SUPPORT_EINVAL: the ingestion rules' errors (new reference) */
	json_t *escalation;  /* support_workflow_run_stored: the escalation it opened, or NULL */
};

void support_outcome_release(struct support_outcome *o);

/*
 * The whole job for one incoming ticket: validate; store it durably
 * (idempotent intake) when ctx->store is set; run customer_support; persist
 * the results (status, labels, analysis, trace, auto-reply, escalation,
 * notifications, customer metrics) in one transaction, exactly once in
 * effect. Returns SUPPORT_OK, SUPPORT_EINVAL (o->error names the fields),
 * SUPPORT_ESTORE, SUPPORT_EFLOW, or SUPPORT_ESTALE when the ticket's text
 * changed during the run (nothing of it stored, a triage job queued:
 * support_finish).
 */
int support_process(struct support_ctx *ctx, struct flow_node *workflow,
		    const json_t *incoming, struct support_outcome *o);
/*
 * Runs the workflow for a ticket already in the store and finishes it
 * (support_finish, no job); SUPPORT_EDONE (and OK semantics) when it had
 * been processed already; SUPPORT_ESTALE as support_process.
 */
int support_process_stored(struct support_ctx *ctx, struct flow_node *workflow,
			   const char *ticket_id, struct support_outcome *o);

/*
 * Runs the registered workflow called name on ticket_id, a ticket in the
 * store that has been through its workflow already, and finishes it in
 * ONE transaction (as support_finish does a first run): the run's analyses
 * join the ticket's analysis; an escalation package makes the ticket
 * escalated (its department the package's), opens its escalation queue
 * entry (o->escalation) and queues the escalation's notifications and the
 * ticket.escalated event for integrations, each keyed to this escalation;
 * a "workflow.completed" event {workflow, status, escalation, steps} is
 * written by actor and, for a shared "escalation_request" (input's:
 * {reason, level, department?, actor}, see the escalation node), a
 * "ticket.escalated_by_hand" event {reason, level, department, workflow,
 * escalation_id}. input's keys (may be NULL) join the shared object the
 * run starts from: the stored ticket, its customer and its analyses.
 * Nothing is sent before the commit; an auto-reply the run may draft is
 * not sent (an agent asked for this run).
 * Returns SUPPORT_OK with o->ticket; SUPPORT_ENOTFOUND (unknown workflow
 * or ticket), SUPPORT_ESTATE (the ticket is new, triaging, closed or spam,
 * or already has an open escalation), SUPPORT_EFLOW or SUPPORT_ESTORE,
 * o->error saying why, nothing written.
 */
int support_workflow_run_stored(struct support_ctx *ctx, const char *name, const char *ticket_id,
				const json_t *input, const char *actor, struct support_outcome *o);

/* The levels of an escalation by hand, lowest first: tier_2, specialist, manager, emergency. */
extern const char *const support_escalation_levels[];

/* A queue job ("triage") whose run a finish completes, and who holds its lease. */
struct support_job {
	int64_t id;
	const char *ticket_id;
	const char *owner;
};

/*
 * The worker's job: support_process_stored for job->ticket_id, finished
 * with the job (support_finish). A ticket processed already (by an earlier
 * attempt) is not run again: its events are queued (each once) and the job
 * completed, and the call returns SUPPORT_EDONE with o->already_done set.
 * SUPPORT_ELEASE: the lease passed to another worker and nothing was
 * written. SUPPORT_ESTALE: the ticket's text changed during the run; the
 * job is completed and a fresh one queued (support_finish). Other failures
 * leave the job to the caller (store_job_fail).
 */
int support_process_job(struct support_ctx *ctx, struct flow_node *workflow,
			const struct support_job *job, struct support_outcome *o);

/*
 * Finishes a triaged ticket: ONE transaction on ctx->store that checks the
 * ticket has not been processed yet, then writes the run's results (status,
 * labels, analysis, trace), the auto-reply message, the escalation, the
 * outbox notifications (auto-reply email, Slack, on-call), the customer's
 * ticket count, the "workflow.completed" audit event, for an escalated
 * ticket its assignment (store_ticket_assign: an agent of its department,
 * or its department's queue; FRONTLINE_AGENT_IDLE_S); with a job (may be
 * NULL) also the ticket's events for integrations (ticket.created, and
 * ticket.escalated; support_ticket_event) and the job's completion. All of
 * it commits or none of it.
 *
 * Layering: notify/ sits above support/, so everything the finish tells
 * the outside world is an outbox row written through the store; notify's
 * dispatcher delivers it later.
 *
 * A ticket processed already: SUPPORT_EDONE with *ticket_out the stored
 * ticket; with a job, its events (each once: they carry delivery keys) and
 * the job's completion are written first.
 *
 * A ticket whose text (subject, content) is no longer the one the run read
 * (shared's incoming_ticket; a call's transcript arriving while the first
 * triage ran, store_call_ticket_sync): SUPPORT_ESTALE with *ticket_out the
 * stored ticket and *err saying so (caller frees), nothing of the run
 * stored; in the same transaction the job (if any) is completed, a fresh
 * triage job queued (dedupe key "triage:T-000042", as intake's: one live
 * triage job per ticket) and a SUPPORT_EVENT_WORKFLOW_SUPERSEDED event
 * {reason, job_id, read_version, version} written. A results' write that
 * meets a version changed since the finish read the ticket
 * (STORE_ECONFLICT) reads it again (up to 3 times).
 *
 * SUPPORT_ELEASE: the job's lease is no longer the caller's; nothing was
 * written. SUPPORT_ESTORE: *err says why (caller frees); nothing was
 * written.
 */
int support_finish(struct support_ctx *ctx, const char *ticket_id, const json_t *shared,
		   const json_t *trace, const struct support_job *job, json_t **ticket_out,
		   char **err);
/* The audit event of a run whose results were not stored because the ticket's text changed. */
#define SUPPORT_EVENT_WORKFLOW_SUPERSEDED "workflow.superseded"

/*
 * Enqueues event (FL_EVENT_TICKET_CREATED, _ESCALATED, _RESOLVED, ...) about
 * ticket for each URL of FRONTLINE_EVENT_WEBHOOK_URLS (comma-separated;
 * none: nothing to do) on the outbox's webhook channel: the notices of
 * support_notice_ticket_event (below), enqueued. The dedupe key names the
 * event, the ticket, occurrence (NULL: the event happens once per ticket;
 * else e.g. "v7" for a ticket resolved again later) and the target, so a
 * retried caller enqueues once. Call inside the transaction of the change.
 * Returns a store code.
 */
int support_ticket_event(struct store *st, const char *event, const json_t *ticket,
			 const char *occurrence);

/* ---- the SLA at work (sla.c) ---- */

struct sla_calendar;
struct sla_ticket_state;

/* The policies in force (stored, else the defaults) and the calendars they name, read once. */
struct support_sla;
/* Reads them from st into *out (support_sla_free); a store code. */
int support_sla_load(struct store *st, struct support_sla **out);
void support_sla_free(struct support_sla *s);
/* The calendar named id ("24x7" built in), parsed once per support_sla; NULL when unknown or bad. */
const struct sla_calendar *support_sla_calendar(struct support_sla *s, const char *id);
/*
 * Evaluates ticket (a store record) at now (seconds) under the first
 * policy that admits it (its tier: metadata.customer_tier, else the
 * customer record's), with its events (NULL: read from st). Returns 1 with
 * *state, *policy and *cal (borrowed from s; may be NULL) set, 0 when no
 * policy applies or its calendar is unknown, or -(store code) on error.
 */
int support_sla_ticket(struct support_sla *s, struct store *st, const json_t *ticket, const json_t *events,
		       int64_t now, struct sla_ticket_state *state, const json_t **policy,
		       const struct sla_calendar **cal);
/* A ticket's "sla" as the API shows it (sla_ticket_state_json), or NULL (none applies, or a store error, logged). */
json_t *support_sla_of(struct store *st, const json_t *ticket, int64_t now);

struct support_sla_stats {
	int64_t tickets, warnings, breaches, reminders, resolved, closed;
};
/*
 * One round at now (seconds): every open ticket's clocks (a warning once
 * per clock and due time, inside the calendar's hours only; a breach once,
 * into the escalation queue), pending tickets' reminder and resolution,
 * resolved tickets' closing. Each ticket's actions are one transaction;
 * the first store error ends the round and is returned.
 */
int support_sla_sweep(struct store *st, int64_t now, struct support_sla_stats *stats);

/* The window of the SLA attainment the summary and /metrics show: 30 days. */
#define SLA_METRICS_WINDOW_S (30 * 86400)
/* Tickets counted at most (the oldest of the window first). */
#define SLA_METRICS_MAX 100000
/*
 * SLA attainment (sla_metrics.c) at now (seconds) of the tickets created
 * in the last window_s seconds: *out (new) is {window (s), since, until,
 * tickets, truncated, policies: {id: {first_response: {met, breached,
 * attainment (met share, null when none decided)}, resolution: {...}}}}.
 * A clock is met when met on time, breached when met late or open past
 * its due time; a clock still running in time is not counted. A store code.
 */
int support_sla_attainment(struct store *st, int64_t now, int64_t window_s, json_t **out);
/*
 * Sets "sla" (sla_ticket_state_json) on each ticket of tickets (an array
 * of store records or summaries, changed in place) at now (seconds), as
 * support_sla_of would one by one, reading the page's events and customer
 * tiers at once (store_sla_facts). A ticket no policy applies to gets
 * none. A store code (nothing set on failure but what was set before).
 */
int support_sla_annotate(struct store *st, json_t *tickets, int64_t now);

/* ---- notifications (notice.c): what Frontline tells people, built in one place ---- */

/*
 * A notice is one outbox item as JSON, {"channel" ("email", "slack",
 * "webhook"), "target", "payload", "key" (the outbox's dedupe key)}. Each
 * constructor appends the notices of one occurrence to the array notices,
 * routed by the policy's routes table (policy.c: the Slack channel per kind
 * and severity, the on-call list FRONTLINE_ONCALL_EMAILS), with the payload
 * the notify channels read (notify.h). Arguments are borrowed.
 */

/* The automatic reply to the customer at to, in the ticket's thread: body, and html as its alternative (may be NULL). */
void support_notice_auto_reply(json_t *notices, const json_t *ticket, const char *to, const char *body,
			       const char *html);
/* An agent's email to the customer at to, in the ticket's thread; effect names it in the key ("reply:42"). */
void support_notice_customer_email(json_t *notices, const json_t *ticket, const char *to,
				   const char *subject, const char *body, const char *effect);
/* A ticket handed to department with severity (its handoff priority: low ... critical). */
/*
 * support_notice_escalation for one of several escalations of a ticket:
 * occurrence (e.g. "e12", the escalation's id) joins the dedupe keys, so a
 * later escalation of the same ticket is told again.
 */
void support_notice_escalation_at(json_t *notices, const json_t *ticket, const char *department,
				  const char *severity, const char *occurrence);
void support_notice_escalation(json_t *notices, const json_t *ticket, const char *department,
			       const char *severity);
/*
 * An SLA clock of ticket ("first_response", "next_response", "resolution")
 * in state "warning" (80 % used) or "breached", due at due_at (RFC 3339):
 * an email to the assignee when it is an address, the escalations channel
 * on Slack (naming the department), and #support-alerts for a breach. Once
 * per ticket, state, clock and due time.
 */
void support_notice_sla(json_t *notices, const json_t *ticket, const char *state, const char *clock,
			const char *due_at);
/*
 * A monitoring alert {type, severity, message, dedupe_key?, ...}; without a
 * dedupe key, one per hour of now_us.
 */
void support_notice_alert(json_t *notices, const json_t *alert, int64_t now_us);
/*
 * A ticket event (FL_EVENT_*) for each URL of FRONTLINE_EVENT_WEBHOOK_URLS
 * (none: nothing): {event, ticket {id, number, status, ...}, occurred_at}.
 * occurrence: NULL when the event happens once per ticket, else e.g. "v7".
 */
void support_notice_ticket_event(json_t *notices, const char *event, const json_t *ticket,
				 const char *occurrence, int64_t now_us);
/* A resolved ticket: the email to its customer and the team's update; keys "<key_prefix>:...". */
void support_notice_resolved(json_t *notices, const char *ticket_id, const char *name, const char *email,
			     const char *tier, const char *key_prefix);
/*
 * A ticket from the web form: the acknowledgement to its customer at to,
 * naming the ticket's reference (T-000042) and its subject; key
 * "ticket:<id>:acknowledgement", so it goes once.
 */
void support_notice_acknowledgement(json_t *notices, const json_t *ticket, const char *to, const char *name);
/*
 * A resolved ticket's satisfaction survey to its customer at to, with the
 * link (which holds the survey's token: the notice is the one place it is
 * written); key "ticket:<id>:survey".
 */
void support_notice_survey(json_t *notices, const json_t *ticket, const char *to, const char *link);
/*
 * Enqueues the notices into st's outbox (in the caller's transaction, if
 * any), marking each "queued": true, or false when its key was queued
 * before. Nothing when NOTIFICATION_ENABLED is off. Returns a store code.
 */
int support_notices_enqueue(struct store *st, json_t *notices);

/*
 * Whether a message is only thanks or praise, with nothing asked and no
 * problem stated ("Thanks, that fixed it!"): the message analysis of
 * src/support/message.c. Email intake reads a thank-you on an answered
 * ticket as the customer's satisfaction instead of reopening it.
 */
bool support_is_thanks(const char *subject, const char *content);

/* ---- knowledge base and demo data ---- */

/*
 * Fills kb from the store's articles; when the store has none, imports the
 * bundled articles from kb_dir (NULL: FRONTLINE_KB_DIR) into the store first.
 * *count is the number indexed.
 */
int support_kb_load(struct store *st, struct kb *kb, const char *kb_dir, size_t *count, char **err);
/* The seed's three customers (DESIGN §9), upserted into the store. */
int support_seed_customers(struct store *st, char **err);
/* The seed's demo tickets: "single", "batch" (array), "escalation". New reference. */
json_t *support_demo_ticket(const char *which);

#endif
