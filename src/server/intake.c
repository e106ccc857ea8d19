/*
 * Ticket intake, shared by POST /webhooks/tickets (signed) and POST
 * /api/v1/tickets (token): validate by the ingestion rules (support's
 * support_ticket_validate, the check every door runs), store
 * the ticket, its first message and its triage job in one transaction
 * through the store's group commit, and only then answer.
 *
 * The HTTP thread validates, then suspends the connection and submits the
 * ticket to the store's group commit (store_group_submit), so that the few
 * HTTP threads keep serving while every connection's intake can share one
 * durable commit. When the commit is done the group's thread resumes the
 * connection and the HTTP thread writes the answer. A repeat with the
 * same sender id (per channel) or the same Idempotency-Key answers with the
 * ticket stored the first time, when the caller may see it: a ticket is
 * its submitter's (metadata.api_token_id, or none for the webhook and the
 * other doors), and a caller who may not read the ticket the id names gets
 * a 409 without any of it (the id is taken, nothing more). Idempotency-Keys
 * are scoped to their caller, so the same key from two callers makes two
 * tickets.
 *
 * Without an id the seed would make one from the time and the customer
 * ("ticket_<unix time>_<customer_id>"), which merges two tickets a customer
 * sends within a second; Frontline numbers such tickets itself (T-000042).
 */
#include <string.h>

#include "server_int.h"
#include "monitor/monitor.h"
#include "store/store.h"
#include "support/support.h"

/*
 * The Idempotency-Key, scoped to the caller so two clients cannot collide.
 * A signed webhook without an id or a key gets one from its signature: the
 * same signed request sent again within the tolerance window (a replay, or
 * a sender's retry) is then the same ticket, for as long as the store keeps
 * its keys, and a request signed anew is a new one.
 */
static int idem_key(struct server_req *r, bool has_id, char **out)
{
	const char *k = server__header(r, "Idempotency-Key");
	size_t i, n;

	*out = NULL;
	if (!k && !has_id && !r->auth.token_id && r->match.route && r->match.route->role == SERVER_ROLE_SIGNED) {
		const char *sig = server__header(r, "X-Frontline-Signature");

		/* verified before the handler ran: "sha256=" and 64 hex digits */
		if (sig)
			*out = fl_asprintf("webhook-signature:%s", sig);
		return 0;
	}
	if (!k)
		return 0;
	n = strlen(k);
	if (!n || n > 200) {
		server__bad_request(r, "Idempotency-Key", "Idempotency-Key must be 1 to 200 characters");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (k[i] < 0x21 || k[i] > 0x7e) {
			server__bad_request(r, "Idempotency-Key", "Idempotency-Key must be printable ASCII");
			return -1;
		}
	}
	if (r->auth.token_id)
		*out = fl_asprintf("token:%lld:%s", (long long)r->auth.token_id, k);
	else if (r->auth.user_id)
		*out = fl_asprintf("user:%lld:%s", (long long)r->auth.user_id, k);
	else
		*out = fl_asprintf("webhook:%s", k);
	return 0;
}

static void count(struct server_req *r, const char *channel, const char *result)
{
	const char *v[] = { channel ? channel : "unknown", result };

	monitor_add(r->srv->m_intake, v, 1);
}

/*
 * Whether the caller may be shown the ticket its repeat names: what GET
 * would show it (tokens), and for the signed webhook the tickets no token
 * submitted.
 */
static bool may_see_repeat(const struct server_req *r, const json_t *ticket)
{
	if (r->auth.token_id)
		return server__may_see_ticket(r, ticket);
	return !json_object_get(json_object_get(ticket, "metadata"), "api_token_id");
}

/* The answer once the store has spoken (on the HTTP thread). */
static void answer(struct server_req *r)
{
	struct server_intake_job *j = r->intake;

	if (j->rc != STORE_OK) {
		fl_log(FL_LOG_ERROR, "intake failed: %s", j->err ? j->err : store_strerror(j->rc));
		count(r, fl_json_str(j->ticket, "channel", NULL), "failed");
		server__store_error(r, j->rc, "ticket", fl_json_str(j->ticket, "id", NULL));
		return;
	}
	if (!j->created && !may_see_repeat(r, j->out)) {
		count(r, fl_json_str(j->ticket, "channel", NULL), "conflict");
		server__error(r, 409, "conflict", "id", NULL,
			      "a ticket with this id was submitted by another sender; choose another id");
		return;
	}
	count(r, fl_json_str(j->out, "channel", NULL), j->created ? "created" : "duplicate");
	if (j->created)
		server__notify_job(r);
	if (j->then) {
		j->then(r);
	} else if (j->ok_status == 202) {
		json_t *body = json_pack("{s:O, s:O}", "id", json_object_get(j->out, "id"), "status",
					 json_object_get(j->out, "status"));

		if (!j->created)
			json_object_set_new(body, "duplicate", json_true());
		server__reply_json(r, j->created ? 202 : 200, body);
	} else {
		char *loc = fl_asprintf("/api/v1/tickets/%s", fl_json_str(j->out, "id", ""));

		server__add_header(r, "Location", loc);
		free(loc);
		server__reply_json(r, j->created ? j->ok_status : 200, json_incref(j->out));
	}
}

void server__intake_job_free(struct server_intake_job *j)
{
	if (!j)
		return;
	json_decref(j->ticket);
	json_decref(j->out);
	free(j->key);
	free(j->err);
	free(j);
}

static void intake(struct server_req *r, const json_t *incoming, const char *channel, unsigned ok_status,
		   void (*then)(struct server_req *r));

void server__ticket_intake(struct server_req *r, const json_t *incoming, const char *channel,
			   unsigned ok_status)
{
	intake(r, incoming, channel, ok_status, NULL);
}

void server__ticket_intake_then(struct server_req *r, const json_t *incoming, const char *channel,
				void (*then)(struct server_req *r))
{
	intake(r, incoming, channel, 201, then);
}

static void intake(struct server_req *r, const json_t *incoming, const char *channel, unsigned ok_status,
		   void (*then)(struct server_req *r))
{
	/*
	 * A shallow copy, for the two edits below; validation copies what it keeps
	 * (the metadata deeply), so the request's body is never changed.
	 */
	json_t *in = json_copy((json_t *)incoming), *ticket = NULL, *errors = NULL, *meta;
	const json_t *given_id = json_object_get(in, "id");
	struct server_intake_job *j;
	char *key = NULL;
	int rc;

	meta = json_object_get(in, "metadata");
	/* reserved: who submitted it is for Frontline to say */
	if (json_is_object(meta) && json_object_get(meta, "api_token_id")) {
		meta = json_copy(meta);
		json_object_del(meta, "api_token_id");
		json_object_set_new(in, "metadata", meta);
	}
	if (!json_object_get(in, "source") && !json_object_get(in, "channel") && channel)
		json_object_set_new(in, "source", json_string(channel));
	/* the ingestion rules, as every door runs them (support_ticket_validate) */
	rc = support_ticket_validate(in, fl_wall_us(), &ticket, &errors);
	if (rc != SUPPORT_OK) {
		json_t *refusal = support_ticket_refusal(errors);

		server__unprocessable(r, fl_json_str(refusal, "field", NULL),
				      json_incref(json_object_get(refusal, "details")), "%s",
				      fl_json_str(refusal, "message", ""));
		json_decref(refusal);
		count(r, channel, "rejected");
		goto out;
	}
	if (!given_id)
		json_object_del(ticket, "id");
	if (r->auth.token_id) {
		meta = json_object_get(ticket, "metadata");
		if (!json_is_object(meta)) {
			meta = json_object();
			json_object_set_new(ticket, "metadata", meta);
		}
		json_object_set_new(meta, "api_token_id", json_integer(r->auth.token_id));
	}
	if (idem_key(r, given_id != NULL, &key))
		goto out;
	j = fl_calloc(1, sizeof(*j));
	j->ticket = ticket;
	ticket = NULL;
	j->key = key;
	key = NULL;
	j->ok_status = ok_status;
	j->then = then;
	r->intake = j;
	/*
	 * The durable part waits for a group commit: off the HTTP thread, so that
	 * this thread serves other connections and many intakes share a commit.
	 */
	server__intake_submit(r);
out:
	json_decref(in);
	json_decref(ticket);
	json_decref(errors);
	free(key);
}

void server__intake_finish(struct server_req *r)
{
	answer(r);
}

/* ---- the answer of the group commit ---- */

/* Runs on the store group's thread once the ticket is durable (or failed). */
static void on_committed(void *arg, int rc, json_t *out, bool created, const char *err)
{
	struct server_req *r = arg;
	struct server_intake_job *j = r->intake;

	j->rc = rc;
	j->out = out;
	j->created = created;
	j->err = err ? fl_strdup(err) : NULL;
	/* the HTTP thread takes it from here (server.c, on_access) */
	MHD_resume_connection(r->conn);
}

void server__intake_queue(struct server_req *r)
{
	struct server_intake_job *j = r->intake;

	if (store_group_submit(r->srv->group, j->ticket, FL_JOB_TRIAGE, j->key, on_committed, r) != STORE_OK)
		on_committed(r, STORE_EINTERNAL, NULL, false, "cannot queue the ticket for its commit");
}

bool server__may_see_ticket(const struct server_req *r, const json_t *ticket)
{
	if (r->auth.role != SERVER_ROLE_INTEGRATION)
		return true;
	return fl_json_int(json_object_get(ticket, "metadata"), "api_token_id", -1) == r->auth.token_id;
}
