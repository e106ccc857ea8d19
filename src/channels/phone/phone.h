/*
 * phone: the phone channel without HTTP (issue 17, point 3): Twilio's
 * request signature (X-Twilio-Signature: Base64 of HMAC-SHA1, keyed by the
 * account's auth token, over the URL Twilio called followed by every POST
 * parameter sorted by name, as name then value; HMAC-SHA1 from nettle),
 * the masking of card numbers in transcripts before they are stored or
 * shown to an LLM, and what a call's callbacks mean (call.c): the caller's
 * number in one form, a status's place in the call's life, a missed call,
 * and the ticket a call makes.
 *
 * What it leaves to others: reading the form and answering TwiML (server's
 * routes_twilio.c), the calls API and the call record (routes_calls.c, the
 * store's calls), the ticket (the intake every door uses).
 */
#ifndef FL_PHONE_H
#define FL_PHONE_H

#include <stdbool.h>
#include <jansson.h>

/* Base64 of a SHA-1 HMAC: 28 characters and NUL. */
#define PHONE_SIGNATURE_SIZE 29

/*
 * The signature Twilio sends for a request to url with the POST
 * parameters params (an object of strings; others are skipped) under
 * auth_token, into out.
 */
void phone_twilio_signature(const char *auth_token, const char *url, const json_t *params,
			    char out[PHONE_SIGNATURE_SIZE]);
/* Whether presented (may be NULL) is that signature (constant time). */
bool phone_twilio_verify(const char *auth_token, const char *url, const json_t *params, const char *presented);

/*
 * text with every card number masked: a run of 13 to 19 digits (spaces or
 * hyphens between them allowed) that passes the Luhn check keeps its last
 * four digits, the others become '*'. Caller frees.
 */
char *phone_mask_cards(const char *text);

/* ---- calls (call.c) ---- */

/* A transcript's longest (bytes), so that a ticket holds it (content: 10,000 characters at most). */
#define PHONE_TRANSCRIPT_MAX 9000
#define PHONE_TRANSCRIPT_ALONE 20

/* What a number may hold besides digits and one leading '+'; dropped. */
#define PHONE_NUMBER_SEPARATORS " -()."
#define PHONE_DIGITS_MIN 3
#define PHONE_DIGITS_MAX 15   /* E.164's longest */

/*
 * number in the one form Frontline keeps and matches numbers in: a leading
 * '+' kept, then the digits, with spaces, hyphens, dots and parentheses
 * dropped ("+1 (415) 555-0100" -> "+14155550100"). No country is assumed:
 * a national number stays national ("(415) 555-0100" -> "4155550100"), and
 * "00" is not turned into '+', so a customer's number must be written as
 * callers' numbers arrive (Twilio sends E.164). NULL (not a number) for
 * anything else, or fewer than 3 or more than 15 digits: "anonymous",
 * "client:alice", "sip:...". Caller frees.
 */
char *phone_normalize(const char *number);

/*
 * A call status's place in the life of a call: queued and initiated 1,
 * ringing 2, in-progress 3, the ends 5: completed and the missed ones,
 * busy, no-answer, failed and canceled (Twilio's CallStatus values), and 6
 * voicemail (a call that ended in voicemail: more than "completed", which
 * Twilio's status callback says of it too). 0: not a status. A callback
 * whose status ranks lower than, or as, the one recorded does not change
 * it (so "completed" then a late "ringing" stays completed).
 */
int phone_status_rank(const char *status);

/*
 * Whether the call is a missed call, a call-back task for an agent: no
 * transcript, and busy, no-answer, failed or canceled, or voicemail without
 * a recording.
 */
bool phone_call_missed(const char *status, bool has_recording, bool has_transcript);

/*
 * The ticket a call makes, from what is known of it (call: {provider,
 * call_id, from, to?, status, transcript? (masked), recording_url?}): id
 * "<provider>_<call_id>" (one ticket per call), channel phone, the customer
 * customer_id (NULL: the caller's number), and
 * - a missed call: "Missed call from <number>", a task to call back;
 * - with a transcript: "Voicemail from <number>", the transcript as content
 *   (one shorter than PHONE_TRANSCRIPT_ALONE bytes as "Voicemail from
 *   <number>: <transcript>", since a ticket's content has 10 characters at
 *   least);
 * - else: "Voicemail from <number>" (status voicemail) or "Call from
 *   <number>", its status and recording as content until more arrives;
 * metadata {provider, call_id, caller, to, call_status, recording_url,
 * missed_call, call_back, transcribed (whether the content is the
 * transcript)}. New reference.
 */
json_t *phone_call_ticket(const json_t *call, const char *customer_id);

#endif
