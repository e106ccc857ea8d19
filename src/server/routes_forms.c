/*
 * The public web form (issue 17, point 2): GET /support serves it with a
 * form cookie and its CSRF token; POST /support (form-encoded, read with
 * libmicrohttpd's post processor) checks the token, drops what filled the
 * honeypot, counts the address against FRONTLINE_FORM_RATE_LIMIT per hour,
 * finds the customer by address and hands the ticket (channel "web") to
 * the intake every door uses; once it is stored, the acknowledgement is
 * queued and the browser goes 303 to GET /support/sent, which names the
 * ticket's reference. Bad input gets the form again, with its errors and
 * the person's text.
 *
 * The fields, checks and pages are channels/web; this file is the HTTP.
 */
#include <string.h>
#include <strings.h>

#include "server_int.h"
#include "channels/web/web.h"
#include "store/store.h"
#include "support/support.h"

#define FORM_COOKIE "fl_form"
#define FORM_CSP "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define FORM_RATE_WINDOW_S 3600

static void page(struct server_req *r, unsigned status, char *html)
{
	server__add_header(r, "Content-Security-Policy", FORM_CSP);
	server__add_header(r, "Referrer-Policy", "same-origin");
	server__add_header(r, "X-Frame-Options", "DENY");
	server__reply_text(r, status, "text/html; charset=utf-8", html, strlen(html));
	free(html);
}

/* The request's form cookie when well formed; else a new one, set on the answer. */
static void cookie(struct server_req *r, char out[WEB_TOKEN_SIZE], bool fresh)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, FORM_COOKIE);
	const char *pub = fl_config_get("FRONTLINE_PUBLIC_URL");
	char *v;

	if (!fresh && web_cookie_ok(c)) {
		memcpy(out, c, WEB_TOKEN_SIZE);
		return;
	}
	web_cookie_new(out);
	v = fl_asprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/support; Max-Age=86400%s", FORM_COOKIE, out,
			pub && !strncasecmp(pub, "https:", 6) ? "; Secure" : "");
	server__add_header(r, "Set-Cookie", v);
	free(v);
}

/* The form again (f may be NULL), with a new token when the cookie was refused. */
static void form(struct server_req *r, unsigned status, const struct web_form *f, const json_t *errors,
		 const char *notice, bool fresh)
{
	char c[WEB_TOKEN_SIZE], csrf[WEB_TOKEN_SIZE];

	cookie(r, c, fresh);
	web_csrf_token(c, csrf);
	page(r, status, web_form_page(f, errors, notice, csrf));
}

static void get_form(struct server_req *r)
{
	form(r, 200, NULL, NULL, NULL, false);
}

static void get_sent(struct server_req *r)
{
	const char *ref = server__query(r, "ref");

	page(r, 200, web_sent_page(ref && fl_ticket_tag_form(ref) ? ref : NULL));
}

/* A form-encoded body's fields, handed one piece at a time to add (which returns -1 for "too long"). */
struct fields {
	int (*add)(void *arg, const char *key, const char *data, size_t n);
	void *arg;
	bool too_long;
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				const char *content_type, const char *transfer_encoding, const char *data,
				uint64_t off, size_t size)
{
	struct fields *fs = cls;

	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding, (void)off;
	if (size && fs->add(fs->arg, key, data, size))
		fs->too_long = true;
	return fs->too_long ? MHD_NO : MHD_YES;
}

int server__read_form(struct server_req *r, int (*add)(void *, const char *, const char *, size_t), void *arg,
		      size_t limit)
{
	struct fields fs = { add, arg, false };
	struct MHD_PostProcessor *pp = MHD_create_post_processor(r->conn, 4096, on_field, &fs);
	bool ok;

	if (!pp) {
		server__unsupported_type(r, server__header(r, MHD_HTTP_HEADER_CONTENT_TYPE));
		return -1;
	}
	ok = !r->body.len || MHD_post_process(pp, r->body.buf, r->body.len) == MHD_YES;
	MHD_destroy_post_processor(pp);
	if (fs.too_long) {
		server__too_large(r, limit);
		return -1;
	}
	if (!ok) {
		server__bad_request(r, NULL, "the body is not a well-formed form");
		return -1;
	}
	return 0;
}

static int add_form_field(void *arg, const char *key, const char *data, size_t n)
{
	return web_form_add(arg, key, data, n);
}

static void redirect(struct server_req *r, const char *location)
{
	server__add_header(r, "Location", location);
	page(r, 303, fl_asprintf("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sent</title>"
				 "</head><body><p><a href=\"%s\">Continue</a></p></body></html>\n", location));
}

/* After the intake stored the ticket: the acknowledgement, then 303 to its reference. */
static void stored(struct server_req *r)
{
	const json_t *ticket = r->intake->out, *md = json_object_get(ticket, "metadata");
	const char *to = fl_json_str(md, "customer_email", NULL);
	char tag[FL_TICKET_TAG_SIZE], *loc;
	struct store *st;

	fl_ticket_tag(tag, fl_json_int(ticket, "number", 0));
	st = server__pool_get(r->srv->pool, SERVER_STORE_WAIT_MS);
	if (!st) {
		fl_log(FL_LOG_WARN, "web form: ticket %s stored, but no store connection for its acknowledgement",
		       fl_json_str(ticket, "id", ""));
	} else if (to && *to) {
		json_t *notices = json_array();
		int rc;

		support_notice_acknowledgement(notices, ticket, to, fl_json_str(md, "customer_name", NULL));
		rc = support_notices_enqueue(st, notices);
		if (rc != STORE_OK)
			fl_log(FL_LOG_ERROR, "web form: cannot queue the acknowledgement of %s: %s",
			       fl_json_str(ticket, "id", ""), store_errmsg(st));
		else
			server__notify_outbox(r);
		json_decref(notices);
	}
	if (st)
		server__pool_put(r->srv->pool, st);
	loc = fl_asprintf("/support/sent?ref=%s", tag);
	redirect(r, loc);
	free(loc);
}

static void post_form(struct server_req *r)
{
	struct { struct web_form f; } fs = { WEB_FORM_INIT };
	json_t *incoming = NULL, *errors = NULL, *customer = NULL;
	char *addr = NULL, *key = NULL;
	const char *customer_id = NULL;
	int64_t hits = 0, limit = fl_config_int("FRONTLINE_FORM_RATE_LIMIT", 10);
	int rc;

	if (server__read_form(r, add_form_field, &fs.f, WEB_FIELD_MAX))
		goto out;
	if (!web_csrf_ok(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, FORM_COOKIE), fs.f.csrf_token)) {
		form(r, 403, &fs.f, NULL,
		     "This form has expired or your browser did not send its cookie. Please check it and send it again.",
		     true);
		goto out;
	}
	if (web_form_is_robot(&fs.f)) {
		fl_log(FL_LOG_INFO, "web form: honeypot filled from %s; nothing kept", r->addr);
		redirect(r, "/support/sent");
		goto out;
	}
	if (limit > 0) {
		key = fl_asprintf("web-form:%s", r->addr);
		rc = store_rate_hit(server__store(r), key, FORM_RATE_WINDOW_S, &hits);
		if (rc != STORE_OK) {
			server__store_error(r, rc, "rate", key);
			goto out;
		}
		if (hits > limit) {
			char *ra = fl_asprintf("%d", FORM_RATE_WINDOW_S);

			server__add_header(r, "Retry-After", ra);
			free(ra);
			form(r, 429, &fs.f, NULL, "Too many requests from your address: please try again in an hour.", false);
			goto out;
		}
	}
	addr = web_form_address(&fs.f);
	if (addr) {
		rc = store_customer_find_by_email(server__store(r), addr, &customer);
		if (rc == STORE_OK) {
			customer_id = fl_json_str(customer, "id", NULL);
		} else if (rc != STORE_ENOTFOUND) {
			server__store_error(r, rc, "customer", NULL);
			goto out;
		}
	}
	if (web_form_check(&fs.f, customer_id, &incoming, &errors)) {
		form(r, 422, &fs.f, errors, NULL, false);
		goto out;
	}
	server__ticket_intake_then(r, incoming, FL_CHANNEL_WEB, stored);
out:
	web_form_release(&fs.f);
	json_decref(incoming);
	json_decref(errors);
	json_decref(customer);
	free(addr);
	free(key);
}

/* ---- the satisfaction survey: GET shows the question and records nothing (mail scanners open links) ---- */

static void gone(struct server_req *r)
{
	page(r, 404, web_survey_gone_page());
}

/* The survey of the path's token, or NULL having answered (404, or the store's error). */
static json_t *survey_of(struct server_req *r)
{
	const char *token = server__param(r, 0);
	json_t *survey = NULL;
	int rc;

	if (!web_survey_token_ok(token)) {
		gone(r);
		return NULL;
	}
	rc = support_survey_lookup(server__store(r), token, &survey);
	if (rc == STORE_ENOTFOUND)
		gone(r);
	else if (rc)
		server__store_error(r, rc, "survey", NULL);
	return rc ? NULL : survey;
}

static void get_survey(struct server_req *r)
{
	json_t *survey = survey_of(r);

	if (!survey)
		return;
	page(r, 200, web_survey_page(survey, r->path, 0, NULL, NULL));
	json_decref(survey);
}

struct answer {
	struct fl_buf score, comment;
};

static int add_answer_field(void *arg, const char *key, const char *data, size_t n)
{
	struct answer *a = arg;
	struct fl_buf *b = !strcmp(key, "score") ? &a->score : !strcmp(key, "comment") ? &a->comment : NULL;

	if (!b)
		return 0;
	if (b->len + n > WEB_COMMENT_MAX * 4)
		return -1;
	fl_buf_add(b, data, n);
	return 0;
}

/* Characters (not bytes) in s, valid UTF-8. */
static size_t chars(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static void post_survey(struct server_req *r)
{
	struct answer a = { FL_BUF_INIT, FL_BUF_INIT };
	json_t *survey = survey_of(r), *answered = NULL;
	int64_t score = 0;
	size_t n;
	const char *comment;
	int rc;

	if (!survey || server__read_form(r, add_answer_field, &a, WEB_COMMENT_MAX * 4))
		goto out;
	n = a.comment.len;
	comment = fl_str_trim(a.comment.buf, &n);
	if (fl_parse_int64(a.score.buf, 1, 5, &score)) {
		page(r, 422, web_survey_page(survey, r->path, 0, a.comment.buf,
					     "Choose a score from 1 (very dissatisfied) to 5 (very satisfied)"));
		goto out;
	}
	if (fl_utf8_invalid_at(a.comment.buf, a.comment.len) >= 0 || chars(comment, n) > WEB_COMMENT_MAX) {
		page(r, 422, web_survey_page(survey, r->path, (int)score, NULL,
					     "Write a comment of at most 2,000 characters"));
		goto out;
	}
	{
		char *c = n ? fl_strndup(comment, n) : NULL;

		rc = support_survey_answer(server__store(r), server__param(r, 0), (int)score, c, &answered);
		free(c);
	}
	if (rc == STORE_ENOTFOUND) {
		gone(r);
		goto out;
	}
	if (rc) {
		server__store_error(r, rc, "survey", NULL);
		goto out;
	}
	server__live_wake(r->srv->live);
	page(r, 200, web_survey_thanks_page(answered));
out:
	fl_buf_release(&a.score);
	fl_buf_release(&a.comment);
	json_decref(survey);
	json_decref(answered);
}

const struct server_route server__form_routes[] = {
	{ "GET", "/support", get_form, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_STORE,
	  "the public support form (HTML; sets its CSRF cookie)" },
	{ "POST", "/support", post_form, SERVER_ROLE_PUBLIC, 0,
	  "submit the support form (form-encoded): a ticket with channel web, 303 to /support/sent" },
	{ "GET", "/support/sent", get_sent, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_STORE,
	  "the support form's confirmation page, naming the ticket's reference" },
	{ "GET", "/csat/{token}", get_survey, SERVER_ROLE_PUBLIC, 0,
	  "the satisfaction survey of an emailed link (HTML; records nothing)" },
	{ "POST", "/csat/{token}", post_survey, SERVER_ROLE_PUBLIC, 0,
	  "answer the satisfaction survey (form-encoded score 1-5, comment); changeable until it expires" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
