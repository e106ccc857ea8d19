/*
 * What a call's callbacks mean, without HTTP or the store (phone.h): a
 * number in its one written form (E.164-ish, no country assumed), a call
 * status's place in a call's life (so that a late callback cannot move it
 * back), whether the call was missed, and the ticket a call makes.
 */
#include <string.h>

#include "phone.h"
#include "util/util.h"

char *phone_normalize(const char *number)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t digits = 0;
	const char *s;

	if (!number)
		return NULL;
	for (s = number; *s == ' ' || *s == '\t'; s++)
		;
	if (*s == '+') {
		fl_buf_addch(&b, '+');
		s++;
	}
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			fl_buf_addch(&b, *s);
			digits++;
		} else if (!strchr(PHONE_NUMBER_SEPARATORS, *s)) {
			fl_buf_release(&b);
			return NULL;
		}
	}
	if (digits < PHONE_DIGITS_MIN || digits > PHONE_DIGITS_MAX) {
		fl_buf_release(&b);
		return NULL;
	}
	return fl_buf_detach(&b, NULL);
}

/* Twilio's CallStatus values, and "voicemail", in the order a call lives them. */
static const struct {
	const char *name;
	int rank;
	bool missed;
} statuses[] = {
	{ "queued", 1, false },      { "initiated", 1, false }, { "ringing", 2, false },
	{ "in-progress", 3, false }, { "voicemail", 6, false }, { "completed", 5, false },
	{ "busy", 5, true },         { "no-answer", 5, true },  { "failed", 5, true },
	{ "canceled", 5, true },
};

int phone_status_rank(const char *status)
{
	size_t i;

	for (i = 0; status && i < FL_ARRAY_SIZE(statuses); i++)
		if (!strcmp(statuses[i].name, status))
			return statuses[i].rank;
	return 0;
}

bool phone_call_missed(const char *status, bool has_recording, bool has_transcript)
{
	size_t i;

	if (has_transcript)
		return false;
	if (status && !strcmp(status, "voicemail"))
		return !has_recording;
	for (i = 0; status && i < FL_ARRAY_SIZE(statuses); i++)
		if (!strcmp(statuses[i].name, status))
			return statuses[i].missed;
	return false;
}

json_t *phone_call_ticket(const json_t *call, const char *customer_id)
{
	const char *provider = fl_json_str(call, "provider", ""), *id = fl_json_str(call, "call_id", "");
	const char *from = fl_json_str(call, "from", "an unknown number"), *to = fl_json_str(call, "to", NULL);
	const char *status = fl_json_str(call, "status", ""), *text = fl_json_str(call, "transcript", NULL);
	const char *rec = fl_json_str(call, "recording_url", NULL);
	bool missed = phone_call_missed(status, rec != NULL, text != NULL);
	char *tid = fl_asprintf("%s_%s", provider, id), *subject, *content;
	json_t *t;

	if (missed) {
		subject = fl_asprintf("Missed call from %s", from);
		content = fl_asprintf("Missed call from %s%s%s (call status: %s). Call the customer back.", from,
				      to ? " to " : "", to ? to : "", status);
	} else if (text) {
		subject = fl_asprintf("Voicemail from %s", from);
		/* a ticket's content is 10 characters at least: a short message says whose it is */
		content = strlen(text) >= PHONE_TRANSCRIPT_ALONE ? fl_strdup(text)
								  : fl_asprintf("Voicemail from %s: %s", from, text);
	} else {
		bool voicemail = fl_str_eq(status, "voicemail");

		subject = fl_asprintf("%s from %s", voicemail ? "Voicemail" : "Call", from);
		content = fl_asprintf("%s from %s%s%s (call status: %s); no transcript yet.%s%s",
				      voicemail ? "Voicemail" : "Call", from, to ? " to " : "", to ? to : "", status,
				      rec ? " Recording: " : "", rec ? rec : "");
	}
	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s?, s:s, s:s?, s:b, s:b, s:b}}", "id", tid,
		      "channel", FL_CHANNEL_PHONE, "customer_id", customer_id ? customer_id : from, "subject",
		      subject, "content", content, "metadata", "provider", provider, "call_id", id, "caller", from,
		      "to", to, "call_status", status, "recording_url", rec, "missed_call", missed, "call_back",
		      missed, "transcribed", text != NULL);
	free(tid);
	free(subject);
	free(content);
	return t;
}
