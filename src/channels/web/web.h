/*
 * web: the public web form at /support (issue 17, point 2), without HTTP.
 * What a submission holds, the checks a person gets told about (the form's
 * own: a name, an address that looks like one; then the ingestion rules of
 * support_ticket_validate, the one check every door runs, whose errors are
 * put in the form's words), the incoming ticket it makes (channel "web",
 * the customer's address and name in its metadata as the email channel
 * keeps them), the CSRF token a form cookie gives, and the pages, every
 * value HTML-escaped.
 *
 * What it leaves to others: reading the form-encoded body, cookies, the
 * rate limit and the intake itself (server's routes_forms.c), finding the
 * customer by address (the store), the acknowledgement (support's notices).
 */
#ifndef FL_WEB_H
#define FL_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* The form's fields, as the person typed them (each NULL until set). */
struct web_form {
	char *name, *email, *subject, *message;
	char *csrf_token;
	char *website;   /* the honeypot: people leave it empty, form-filling robots do not */
};

#define WEB_FORM_INIT { NULL, NULL, NULL, NULL, NULL, NULL }

/* The longest value kept per field (longer input is refused by the checks, not cut). */
#define WEB_FIELD_MAX 20000

/*
 * Appends data (n bytes) to the field called key (unknown keys are
 * ignored). Returns 0, or -1 when the field would exceed WEB_FIELD_MAX.
 */
int web_form_add(struct web_form *f, const char *key, const char *data, size_t n);
void web_form_release(struct web_form *f);

/* Whether the honeypot was filled in (a robot: thank it and keep nothing). */
bool web_form_is_robot(const struct web_form *f);

/*
 * Checks f and builds the incoming ticket for the intake: {"channel":
 * "web", "customer_id", "subject", "content", "metadata": {"customer_email",
 * "customer_name", "form": "support"}}, customer_id being customer_id when
 * given (the CRM's customer with this address) or the address in lower
 * case. Runs support_ticket_validate on it. Returns 0 with *incoming set
 * (new reference), or -1 with *errors, an array of {"field" (the form's
 * name), "message"} for every problem (new reference).
 */
int web_form_check(const struct web_form *f, const char *customer_id, json_t **incoming, json_t **errors);

/* The address of f in lower case, or NULL when it has none (caller frees). */
char *web_form_address(const struct web_form *f);

/* The size of a form cookie's value and of its CSRF token (64 hex digits and NUL). */
#define WEB_TOKEN_SIZE 65

/* A new form cookie value (256 random bits, hex). */
void web_cookie_new(char out[WEB_TOKEN_SIZE]);
/* Whether s is a well-formed form cookie value. */
bool web_cookie_ok(const char *s);
/* The CSRF token that goes with cookie (a keyed BLAKE2b of it, hex). */
void web_csrf_token(const char *cookie, char out[WEB_TOKEN_SIZE]);
/* Whether presented is cookie's CSRF token (constant time; NULLs are false). */
bool web_csrf_ok(const char *cookie, const char *presented);

/*
 * The form page: f's values (may be NULL: an empty form), errors (may be
 * NULL) listed above the form and beside their fields, notice (may be
 * NULL) said above it, csrf the hidden token. Caller frees.
 */
char *web_form_page(const struct web_form *f, const json_t *errors, const char *notice, const char *csrf);
/* The confirmation page naming the ticket's reference ("T-000042"; escaped). Caller frees. */
char *web_sent_page(const char *reference);

/* ---- the satisfaction survey's pages (survey.c) ---- */

/* Whether token has the form of a survey link's token (64 lower-case hex digits). */
bool web_survey_token_ok(const char *token);
/* The longest comment kept (longer is refused). */
#define WEB_COMMENT_MAX 2000
/*
 * The survey's question for survey (store_survey_find's: its subject,
 * reference and any earlier answer, preselected), posting to action;
 * score (0: none) and comment (may be NULL) override the stored answer,
 * error (may be NULL) is said above the form. Caller frees.
 */
char *web_survey_page(const json_t *survey, const char *action, int score, const char *comment, const char *error);
/* The thanks after an answer (its score; changeable until expires_at). Caller frees. */
char *web_survey_thanks_page(const json_t *survey);
/* The page of an unknown or expired survey link. Caller frees. */
char *web_survey_gone_page(void);

#endif
