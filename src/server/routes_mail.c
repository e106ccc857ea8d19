/*
 * POST /api/v1/mail: one raw RFC 5322 message in the body, for mail servers
 * and gateways that post instead of piping (the same intake as `frontline
 * mail-in`, see src/channels/email/intake.c). The answer carries the same
 * meaning as mail-in's exit code: 202 stored (a new ticket, a reply in a
 * thread, or a quarantined ticket), 200 a duplicate of one stored before,
 * 400 not a message at all and 413 over FRONTLINE_EMAIL_MAX_BYTES (never),
 * 503 with Retry-After when the store is busy (retry; nothing is stored
 * twice). ?queue=Q records a queue name on a new ticket. A new ticket is
 * the posting token's (metadata.api_token_id), so that an integration reads
 * what it mailed; an answer about a ticket the caller may not read (a reply
 * threaded into it, a duplicate of another's message) leaves out its id and
 * number.
 *
 * POST /api/v1/tickets/{id}/messages/{message_id}/approval: an agent's
 * decision on mail awaiting approval (from an address that is neither the
 * ticket's customer nor an approved CC): {"decision": "approve"} makes its
 * sender a CC of the ticket's replies, {"decision": "decline"} keeps it
 * declined (email_message_decide).
 */
#include <string.h>

#include "channels/email/email.h"
#include "server_int.h"
#include "store/store.h"

/* Whether the caller may read the ticket the message went to. */
static bool may_see(struct server_req *r, const char *ticket_id)
{
	json_t *t = NULL;
	bool ok;

	if (!ticket_id || store_ticket_get(server__store(r), ticket_id, false, &t) != STORE_OK)
		return false;
	ok = server__may_see_ticket(r, t);
	json_decref(t);
	return ok;
}

static void mail(struct server_req *r)
{
	struct email_intake_opts o;
	struct email_intake_result res;
	int rc;

	email_intake_opts_from_config(&o);
	o.source = "http";
	o.queue = server__query(r, "queue");
	o.api_token_id = r->auth.token_id;
	rc = email_intake(server__store(r), r->body.buf, r->body.len, &o, &res);
	switch (rc) {
	case EMAIL_OK: {
		bool shown = may_see(r, res.ticket_id);

		if (res.outcome == EMAIL_NEW_TICKET)
			server__notify_job(r);
		server__reply_json(r, res.outcome == EMAIL_DUPLICATE ? 200 : 202,
				   json_pack("{s:s, s:s*, s:s*, s:I, s:o, s:b, s:b}", "outcome",
					     email_outcome_name(res.outcome), "ticket_id", shown ? res.ticket_id : NULL,
					     "ticket_number", shown ? res.ticket_number : NULL,
					     "raw_id", (json_int_t)res.raw_id,
					     "noise", email_noise_names(res.noise), "reopened", res.reopened,
					     "pending_approval", res.pending));
		break;
	}
	case EMAIL_ENOTMSG:
		server__error(r, 400, "not_a_message", NULL, NULL, "the body is not an email message: %s",
			      res.detail ? res.detail : "unknown reason");
		break;
	case EMAIL_ETOOBIG:
		server__too_large(r, o.limits.max_message ? o.limits.max_message : r->body.len - 1);
		break;
	case EMAIL_ETEMP:
		fl_log(FL_LOG_WARN, "mail: %s", res.detail ? res.detail : email_strerror(rc));
		server__unavailable(r, 5, "the store is busy; retry the message later");
		break;
	default:
		server__internal(r, "cannot store the message");
		fl_log(FL_LOG_ERROR, "mail: %s", res.detail ? res.detail : email_strerror(rc));
		break;
	}
	email_intake_result_release(&res);
}

static void approval(struct server_req *r)
{
	const char *decision, *id = server__param(r, 0);
	json_t *msg = NULL, *ticket = NULL;
	char *actor, *why = NULL;
	int64_t mid;
	int rc;

	if (fl_parse_int64(server__param(r, 1), 1, INT64_MAX, &mid)) {
		server__not_found(r, "message", server__param(r, 1));
		return;
	}
	if (server__body_str(r, "decision", true, 16, &decision))
		return;
	if (strcmp(decision, "approve") && strcmp(decision, "decline")) {
		server__unprocessable(r, "decision", NULL, "'decision' must be approve or decline");
		return;
	}
	actor = server__actor(r);
	rc = email_message_decide(server__store(r), id, mid, !strcmp(decision, "approve"), actor, &msg, &why);
	free(actor);
	switch (rc) {
	case EMAIL_OK:
		if (store_ticket_get(server__store(r), id, true, &ticket) != STORE_OK)
			ticket = json_null();
		server__reply_json(r, 200, json_pack("{s:o, s:o}", "message", msg, "ticket", ticket));
		msg = NULL;
		break;
	case EMAIL_ENOTFOUND:
		server__error(r, 404, "not_found", NULL, NULL, "ticket '%s' has no message %lld", id, (long long)mid);
		break;
	case EMAIL_ECONFLICT:
		server__conflict(r, msg, "message %lld is not awaiting approval", (long long)mid);
		msg = NULL;
		break;
	case EMAIL_ETEMP:
		server__unavailable(r, 1, "the store is busy or the ticket changed; retry");
		break;
	default:
		fl_log(FL_LOG_ERROR, "approval: %s", why ? why : email_strerror(rc));
		server__internal(r, "cannot record the decision");
		break;
	}
	json_decref(msg);
	free(why);
}

const struct server_route server__mail_routes[] = {
	{ "POST", "/api/v1/mail", mail, SERVER_ROLE_INTEGRATION,
	  SERVER_ROUTE_RAW_BODY | SERVER_ROUTE_MAIL_BODY,
	  "take one raw email message (RFC 5322), as a mail server would pipe it" },
	{ "POST", "/api/v1/tickets/{id}/messages/{message_id}/approval", approval, SERVER_ROLE_AGENT,
	  SERVER_ROUTE_JSON_BODY, "approve or decline mail awaiting approval (approving makes its sender a CC)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
