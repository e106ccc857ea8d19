/*
 * email: declarations shared by the module's own files only.
 */
#ifndef FL_EMAIL_INT_H
#define FL_EMAIL_INT_H

#include <gmime/gmime.h>

#include "email.h"
#include "util/util.h"

#define EMAIL_DEFAULT_DOMAIN "frontline.invalid"
#define EMAIL_DEFAULT_TAG "Frontline"
/* Text kept from one message's body (bytes); the raw message keeps everything. */
#define EMAIL_MAX_BODY (1024 * 1024)
/* MIME nesting deeper than this is not walked (and the message is quarantined). */
#define EMAIL_MAX_DEPTH 32

/* charset.c */
void email__add_cp1252(struct fl_buf *b, unsigned char c);
/* s as valid UTF-8 with LF line ends (NULL gives NULL). Caller frees. */
char *email__utf8_clean(const char *s);

/* noise.c: sets msg->noise, auto_submitted, precedence, list_id from the headers. */
void email__noise_classify(GMimeMessage *m, struct email_msg *msg, const char *domain);

/* spam.c: msg->spam from the X-Spam-Flag and X-Spam-Status headers (a "yes" decides). */
void email__spam_headers(GMimeMessage *m, struct email_msg *msg);

/*
 * rfc2047.c: an unfolded copy of a raw header value with each run of adjacent
 * base64 encoded words in one charset joined into one word (GMime 3.2 loses
 * the words after a padded one). Caller frees.
 */
char *email__rfc2047_merge(const char *raw);
/* The raw header value decoded to UTF-8 text (RFC 2047, 8-bit fallback). Caller frees. */
char *email__header_decode(GMimeParserOptions *opts, const char *raw);
/* The raw value of the first header called name, or NULL. */
const char *email__raw_header(GMimeObject *o, const char *name);

/* parse.c: the parser options every GMime parse in this module uses. Caller frees. */
GMimeParserOptions *email__parser_options(void);
/* Bytes of a part's decoded content. Caller frees with g_byte_array_unref. */
GByteArray *email__part_bytes(GMimePart *part);

/* email.c: limits with the defaults for zero fields (in may be NULL). */
void email__limits_resolve(const struct email_limits *in, struct email_limits *out);

/*
 * body.c: fills msg->body, body_from_html, charset_fallback and the
 * attachments from m's MIME tree; true when the tree nests too deep.
 */
bool email__walk_body(struct email_msg *msg, GMimeMessage *m, GMimeParserOptions *opts,
		      const struct email_limits *lim);

/*
 * thread.c: the parts of one of our Message-IDs ("frontline.T-000042.<secret>.<rest>@domain",
 * or the old "frontline.T-000042.<rest>@domain"): true with number and secret ("" for the
 * old form) when id is ours and names a ticket.
 */
bool email__our_id_parse(const char *id, const char *domain, char number[32], char secret[EMAIL_SECRET_MAX + 1]);

/* secret.c: *valid when secret is ticket_id's (compared in constant time); STORE_OK or the store's error. */
int email__secret_check(struct store *st, const char *ticket_id, const char *secret, bool *valid);

/* SHA-256 of data as lower-case hex into out[65]. */
void email__sha256_hex(const void *data, size_t len, char out[65]);

#endif
