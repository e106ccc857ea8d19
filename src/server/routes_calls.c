/*
 * Phone calls, provider-neutral (issue 17, point 3): POST /api/v1/calls
 * (an integration token or higher) takes one callback of a call,
 * {"provider", "call_id", "from", "to", "status", "transcript"?,
 * "recording_url"?}, and Twilio's webhooks (routes_twilio.c) hand theirs
 * to the same path (server__call_callback) as provider "twilio".
 *
 * A callback, in any order with the call's others, is checked (422 naming
 * the field), its numbers normalised and its transcript's card numbers
 * masked (channels/phone) before anything is stored; the call's record is
 * upserted (the store's calls: one per provider and call id, a status that
 * never goes back); the caller is matched to a customer by phone number
 * (the customer's id, or the number itself for an unknown caller); then
 * the call's ticket, id "<provider>_<call_id>", goes through the intake
 * every door uses, made with what is known so far by the first callback
 * (two at once: one ticket, the intake's (channel, id) key settles it) and
 * completed by the later ones (store_call_ticket_sync): the status and
 * recording into its metadata, and a transcript that arrives after the
 * ticket was made without one becomes its content, with triage again.
 * Missed calls (busy, no-answer, failed, canceled, or voicemail without a
 * recording) make a "Missed call from <number>" ticket: a call-back task.
 *
 * The answer: 201 (a new ticket) or 200, {"call", "ticket": {id, number,
 * status}, "created", "retriaged"}.
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"
#include "channels/phone/phone.h"
#include "store/store.h"

#define CALL_URL_MAX 2048
#define CALL_NUMBER_MAX 64

/* The caller's number when it is withheld (Twilio's From for a blocked number: "anonymous" and others). */
static const char *const withheld[] = { "anonymous", "restricted", "unknown", "private", NULL };

static bool chars_ok(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (!strchr(allowed, *s))
			return false;
	return true;
}

/* A string field: NULL when absent or null (or "" for optional ones); -1 having answered 422. */
static int field(struct server_req *r, const json_t *in, const char *key, bool required, size_t max,
		 const char **out)
{
	const json_t *v = json_object_get(in, key);

	*out = NULL;
	if (!v || json_is_null(v) || (!required && json_is_string(v) && !json_string_length(v))) {
		if (!required)
			return 0;
		server__unprocessable(r, key, NULL, "'%s' is required", key);
		return -1;
	}
	if (!json_is_string(v) || !json_string_length(v)) {
		server__unprocessable(r, key, NULL, "'%s' must be a non-empty string", key);
		return -1;
	}
	if (json_string_length(v) > max) {
		server__unprocessable(r, key, NULL, "'%s' must be at most %zu bytes", key, max);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/* A number field in its normal form (or "anonymous" for a withheld caller); NULL having answered 422. */
static char *number(struct server_req *r, const char *key, const char *v, bool may_withhold)
{
	char *n = phone_normalize(v);
	size_t i;

	for (i = 0; !n && may_withhold && withheld[i]; i++)
		if (!strcasecmp(v, withheld[i]))
			n = fl_strdup("anonymous");
	if (!n)
		server__unprocessable(r, key, NULL, "'%s' is not a phone number: digits with an optional leading '+',"
				      " spaces, hyphens, dots and parentheses allowed, 3 to 15 digits", key);
	return n;
}

/* The callback as the store takes it: numbers normalised, transcript masked; NULL having answered 422. */
static json_t *checked(struct server_req *r, const json_t *in, int *rank)
{
	const char *provider, *id, *from, *to, *status, *text, *url;
	char *nfrom = NULL, *nto = NULL, *masked = NULL;
	json_t *call = NULL;

	if (!json_is_object(in)) {
		server__unprocessable(r, NULL, NULL, "a call must be a JSON object");
		return NULL;
	}
	if (field(r, in, "provider", true, STORE_CALL_PROVIDER_MAX, &provider) ||
	    field(r, in, "call_id", true, STORE_CALL_ID_MAX, &id) ||
	    field(r, in, "from", true, CALL_NUMBER_MAX, &from) || field(r, in, "to", true, CALL_NUMBER_MAX, &to) ||
	    field(r, in, "status", true, 32, &status) ||
	    field(r, in, "transcript", false, PHONE_TRANSCRIPT_MAX, &text) ||
	    field(r, in, "recording_url", false, CALL_URL_MAX, &url))
		return NULL;
	if (!chars_ok(provider, "abcdefghijklmnopqrstuvwxyz0123456789-")) {
		server__unprocessable(r, "provider", NULL, "'provider' may hold only lower-case letters, digits and '-'");
		return NULL;
	}
	if (!chars_ok(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")) {
		server__unprocessable(r, "call_id", NULL, "'call_id' may hold only letters, digits, '.', '_', ':' and '-'");
		return NULL;
	}
	*rank = phone_status_rank(status);
	if (!*rank) {
		server__unprocessable(r, "status", NULL, "'status' must be one of queued, initiated, ringing, in-progress,"
				      " completed, voicemail, busy, no-answer, failed, canceled");
		return NULL;
	}
	if (url && !fl_str_has_prefix(url, "https://") && !fl_str_has_prefix(url, "http://")) {
		server__unprocessable(r, "recording_url", NULL, "'recording_url' must be an http(s) URL");
		return NULL;
	}
	if (!(nfrom = number(r, "from", from, true)) || !(nto = number(r, "to", to, false)))
		goto out;
	if (text) {
		size_t len = strlen(text);
		const char *t = fl_str_trim(text, &len);
		char *trimmed = len ? fl_strndup(t, len) : NULL;

		/* only spaces: no transcript */
		masked = trimmed ? phone_mask_cards(trimmed) : NULL;
		free(trimmed);
	}
	call = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "provider", provider, "call_id", id, "from", nfrom,
			 "to", nto, "status", status, "transcript", masked, "recording_url", url);
	if (!call)
		server__unprocessable(r, NULL, NULL, "the call's text is not valid UTF-8");
out:
	free(nfrom);
	free(nto);
	free(masked);
	return call;
}

/* After the intake: the ticket completed with what the record knows by now, then the answer. */
static void ticketed(struct server_req *r)
{
	const struct server_intake_job *j = r->intake;
	const json_t *meta = json_object_get(j->ticket, "metadata");
	const char *provider = fl_json_str(meta, "provider", ""), *id = fl_json_str(meta, "call_id", "");
	const char *tid = fl_json_str(j->out, "id", "");
	json_t *call = NULL, *ticket = NULL;
	bool retriaged = false;
	struct store *st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS);
	int rc;

	if (!st) {
		server__unavailable(r, 1, "the call's ticket is stored; no store connection to complete it");
		return;
	}
	rc = store_call_get(st, provider, id, &call);
	if (rc == STORE_OK) {
		json_t *want = phone_call_ticket(call, NULL);

		rc = store_call_ticket_sync(st, provider, id, tid, want, &retriaged);
		json_decref(want);
	}
	if (rc == STORE_OK)
		rc = store_ticket_get(st, tid, false, &ticket);
	if (rc == STORE_OK) {
		json_decref(call);
		rc = store_call_get(st, provider, id, &call);
	}
	if (rc != STORE_OK) {
		fl_log(FL_LOG_ERROR, "call %s/%s: cannot complete ticket %s: %s", provider, id, tid, store_errmsg(st));
		server__pool_put(r->srv->pool, st);
		server__internal(r, "cannot complete the call's ticket");
		goto out;
	}
	server__pool_put(r->srv->pool, st);
	if (retriaged)
		server__notify_job(r);
	server__reply_json(r, j->created ? 201 : 200,
			   json_pack("{s:O, s:{s:O, s:O, s:O}, s:b, s:b}", "call", call, "ticket", "id",
				     json_object_get(ticket, "id"), "number", json_object_get(ticket, "number"),
				     "status", json_object_get(ticket, "status"), "created", j->created, "retriaged",
				     retriaged));
out:
	json_decref(call);
	json_decref(ticket);
}

void server__call_callback(struct server_req *r, const json_t *in)
{
	json_t *call, *stored = NULL, *customer = NULL, *ticket = NULL;
	const char *from;
	int rank = 0, rc;

	call = checked(r, in, &rank);
	if (!call)
		return;
	from = fl_json_str(call, "from", "");
	rc = strcmp(from, "anonymous") ? store_customer_find_by_phone(server__store(r), from, &customer)
				       : STORE_ENOTFOUND;
	if (rc != STORE_OK && rc != STORE_ENOTFOUND) {
		server__store_error(r, rc, "customer", NULL);
		goto out;
	}
	rc = store_call_record(server__store(r), call, rank, &stored);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "call", fl_json_str(call, "call_id", NULL));
		goto out;
	}
	ticket = phone_call_ticket(stored, fl_json_str(customer, "id", NULL));
	server__ticket_intake_then(r, ticket, FL_CHANNEL_PHONE, ticketed);
out:
	json_decref(call);
	json_decref(stored);
	json_decref(customer);
	json_decref(ticket);
}

static void post_call(struct server_req *r)
{
	server__call_callback(r, r->json);
}

const struct server_route server__call_routes[] = {
	{ "POST", "/api/v1/calls", post_call, SERVER_ROLE_INTEGRATION, SERVER_ROUTE_JSON_BODY,
	  "a phone call's callback (provider-neutral; any order): the call's record and its one ticket" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
