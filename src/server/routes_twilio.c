/*
 * Twilio's voice webhooks (issue 17, point 3), signed as Twilio signs them
 * (channels/phone: X-Twilio-Signature over FRONTLINE_PUBLIC_URL, the path
 * and the sorted POST parameters, keyed by FRONTLINE_TWILIO_AUTH_TOKEN):
 *
 * - POST /webhooks/twilio/voice answers TwiML that greets the caller and
 *   records a voicemail with transcription, the transcript going to
 * - POST /webhooks/twilio/transcription (CallSid, From, To,
 *   TranscriptionText, TranscriptionStatus, RecordingUrl): the voicemail,
 *   status "voicemail" with its transcript (card numbers masked) when
 *   Twilio transcribed it and its recording;
 * - POST /webhooks/twilio/status (the call's StatusCallback: CallSid, From,
 *   To, CallStatus): the call's status; busy, no-answer, failed and
 *   canceled are missed calls.
 *
 * Both go through the provider-neutral calls path (routes_calls.c,
 * provider "twilio"): one record and one ticket per call, id
 * "twilio_<CallSid>", whatever order the callbacks come in.
 *
 * A wrong or missing signature is 403; without the auth token or the public
 * URL the routes are 503 (unsigned calls are never accepted).
 */
#include <string.h>

#include "server_int.h"
#include "channels/phone/phone.h"
#include "store/store.h"

#define TWILIO_FIELD_MAX 16384

static int add_param(void *arg, const char *key, const char *data, size_t n)
{
	json_t *params = arg;
	const char *have = json_string_value(json_object_get(params, key));
	size_t len = have ? strlen(have) : 0;
	char *v;

	if (len + n > TWILIO_FIELD_MAX)
		return -1;
	v = fl_malloc(len + n + 1);
	memcpy(v, have ? have : "", len);
	memcpy(v + len, data, n);
	v[len + n] = '\0';
	json_object_set_new(params, key, json_stringn_nocheck(v, len + n));
	free(v);
	return 0;
}

/* The public URL without its trailing slashes (caller frees), or NULL. */
static char *public_base(void)
{
	const char *b = fl_config_get("FRONTLINE_PUBLIC_URL");
	size_t n = b ? strlen(b) : 0;

	while (n && b[n - 1] == '/')
		n--;
	return n ? fl_strndup(b, n) : NULL;
}

/* The request's parameters once its signature holds; NULL having answered (503, 403, 4xx). */
static json_t *signed_params(struct server_req *r)
{
	const char *token = fl_config_get("FRONTLINE_TWILIO_AUTH_TOKEN");
	char *base = public_base(), *url = NULL;
	json_t *params = json_object();

	if (!token || !*token || !base) {
		server__unavailable(r, 60, "Twilio webhooks are not configured (FRONTLINE_TWILIO_AUTH_TOKEN and "
				    "FRONTLINE_PUBLIC_URL)");
		goto fail;
	}
	if (server__read_form(r, add_param, params, TWILIO_FIELD_MAX))
		goto fail;
	url = fl_asprintf("%s%s", base, r->path);
	if (!phone_twilio_verify(token, url, params, server__header(r, "X-Twilio-Signature"))) {
		server__forbidden(r, "missing or wrong X-Twilio-Signature");
		goto fail;
	}
	free(base);
	free(url);
	return params;
fail:
	free(base);
	free(url);
	json_decref(params);
	return NULL;
}

/* XML text: &, <, >, " escaped. */
static void xml(struct fl_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fl_buf_adds(b, "&amp;");
		else if (*s == '<')
			fl_buf_adds(b, "&lt;");
		else if (*s == '>')
			fl_buf_adds(b, "&gt;");
		else if (*s == '"')
			fl_buf_adds(b, "&quot;");
		else
			fl_buf_addch(b, *s);
	}
}

static void voice(struct server_req *r)
{
	json_t *params = signed_params(r);
	struct fl_buf b = FL_BUF_INIT;
	char *base;

	if (!params)
		return;
	base = public_base();
	fl_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n"
			"<Say>Thank you for calling support. Please leave a message after the tone, and we will "
			"get back to you.</Say>\n<Record maxLength=\"300\" playBeep=\"true\" transcribe=\"true\" "
			"transcribeCallback=\"");
	xml(&b, base);
	fl_buf_adds(&b, "/webhooks/twilio/transcription\"/>\n<Say>We did not get a message. Goodbye.</Say>\n"
			"</Response>\n");
	server__reply_text(r, 200, "text/xml; charset=utf-8", b.buf, b.len);
	fl_buf_release(&b);
	free(base);
	json_decref(params);
}

/* Twilio's parameter key as the calls API's field key, when present and not empty. */
static void copy(json_t *call, const json_t *params, const char *from, const char *to)
{
	const char *v = json_string_value(json_object_get(params, from));

	if (v && *v)
		json_object_set_new(call, to, json_string(v));
}

/*
 * The callback as the calls API takes it (provider twilio). A
 * transcription callback is the voicemail: its transcript when Twilio
 * transcribed it (TranscriptionStatus completed), its recording; without
 * either, a voicemail with no recording, which is a missed call.
 */
static json_t *as_call(const json_t *params, bool transcription)
{
	json_t *call = json_pack("{s:s}", "provider", "twilio");
	const char *ts = json_string_value(json_object_get(params, "TranscriptionStatus"));

	copy(call, params, "CallSid", "call_id");
	copy(call, params, "From", "from");
	copy(call, params, "To", "to");
	copy(call, params, "RecordingUrl", "recording_url");
	if (transcription) {
		json_object_set_new(call, "status", json_string("voicemail"));
		if (ts && !strcmp(ts, "completed"))
			copy(call, params, "TranscriptionText", "transcript");
	} else {
		copy(call, params, "CallStatus", "status");
	}
	return call;
}

static void transcription(struct server_req *r)
{
	json_t *params = signed_params(r), *call;

	if (!params)
		return;
	call = as_call(params, true);
	server__call_callback(r, call);
	json_decref(call);
	json_decref(params);
}

static void status(struct server_req *r)
{
	json_t *params = signed_params(r), *call;

	if (!params)
		return;
	call = as_call(params, false);
	server__call_callback(r, call);
	json_decref(call);
	json_decref(params);
}

const struct server_route server__twilio_routes[] = {
	{ "POST", "/webhooks/twilio/voice", voice, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_STORE,
	  "Twilio's incoming call (X-Twilio-Signature): TwiML recording a voicemail with transcription" },
	{ "POST", "/webhooks/twilio/transcription", transcription, SERVER_ROLE_PUBLIC, 0,
	  "Twilio's transcription callback (X-Twilio-Signature): the call's voicemail, its one ticket (channel phone)" },
	{ "POST", "/webhooks/twilio/status", status, SERVER_ROLE_PUBLIC, 0,
	  "Twilio's call status callback (X-Twilio-Signature): the call's status; a missed call makes a ticket" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
