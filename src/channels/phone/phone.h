/*
 * phone: the phone channel without HTTP (issue 17, point 3): Twilio's
 * request signature (X-Twilio-Signature: Base64 of HMAC-SHA1, keyed by the
 * account's auth token, over the URL Twilio called followed by every POST
 * parameter sorted by name, as name then value; HMAC-SHA1 from nettle),
 * and the masking of card numbers in transcripts before they are stored or
 * shown to an LLM.
 *
 * What it leaves to others: reading the form and answering TwiML (server's
 * routes_twilio.c), the ticket (the intake every door uses).
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

#endif
