/*
 * The web form's pages (web.h): the form, with its errors listed above it
 * and beside each field, and the confirmation naming the ticket's
 * reference. Everything a person typed is HTML-escaped; the pages carry no
 * script and no inline style (the server's CSP allows neither), their look
 * is web/support/form.css.
 *
 * Accessibility: every field has a label, required fields say so, a field
 * in error has aria-invalid and its message through aria-describedby, and
 * the error summary is announced (role="alert") and links each field.
 */
#include <string.h>

#include "web_int.h"

void web__esc(struct fl_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fl_buf_adds(b, "&amp;"); break;
		case '<': fl_buf_adds(b, "&lt;"); break;
		case '>': fl_buf_adds(b, "&gt;"); break;
		case '"': fl_buf_adds(b, "&quot;"); break;
		case '\'': fl_buf_adds(b, "&#39;"); break;
		default: fl_buf_addch(b, *s);
		}
	}
}

void web__head(struct fl_buf *b, const char *title)
{
	fl_buf_adds(b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	web__esc(b, title);
	fl_buf_adds(b, "</title>\n<link rel=\"stylesheet\" href=\"/support/form.css\">\n</head>\n<body>\n<main>\n");
}

static const char *error_of(const json_t *errors, const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
		if (!strcmp(fl_json_str(e, "field", ""), name))
			return fl_json_str(e, "message", "");
	return NULL;
}

/* One labelled field; textarea when rows > 0. */
static void input(struct fl_buf *b, const char *name, const char *label, const char *type, const char *autocomplete,
		  int rows, int maxlength, const char *value, const json_t *errors)
{
	const char *err = error_of(errors, name);

	fl_buf_addf(b, "<div class=\"field%s\">\n<label for=\"f-%s\">%s</label>\n", err ? " invalid" : "", name, label);
	if (err) {
		fl_buf_addf(b, "<p class=\"error\" id=\"e-%s\">", name);
		web__esc(b, err);
		fl_buf_adds(b, "</p>\n");
	}
	if (rows)
		fl_buf_addf(b, "<textarea id=\"f-%s\" name=\"%s\" rows=\"%d\" maxlength=\"%d\" required", name, name, rows,
			    maxlength);
	else
		fl_buf_addf(b, "<input id=\"f-%s\" name=\"%s\" type=\"%s\" maxlength=\"%d\" autocomplete=\"%s\" required",
			    name, name, type, maxlength, autocomplete);
	if (err)
		fl_buf_addf(b, " aria-invalid=\"true\" aria-describedby=\"e-%s\"", name);
	if (rows) {
		fl_buf_adds(b, ">");
		web__esc(b, value);
		fl_buf_adds(b, "</textarea>\n</div>\n");
	} else {
		fl_buf_adds(b, " value=\"");
		web__esc(b, value);
		fl_buf_adds(b, "\">\n</div>\n");
	}
}

char *web_form_page(const struct web_form *f, const json_t *errors, const char *notice, const char *csrf)
{
	static const struct web_form empty = WEB_FORM_INIT;
	struct fl_buf b = FL_BUF_INIT;
	const json_t *e;
	size_t i;

	if (!f)
		f = &empty;
	web__head(&b, json_array_size(errors) ? "Error: contact support" : "Contact support");
	fl_buf_adds(&b, "<h1>Contact support</h1>\n");
	if (notice) {
		fl_buf_adds(&b, "<div class=\"notice\" role=\"alert\"><p>");
		web__esc(&b, notice);
		fl_buf_adds(&b, "</p></div>\n");
	}
	if (json_array_size(errors)) {
		fl_buf_adds(&b, "<div class=\"summary\" role=\"alert\" aria-labelledby=\"summary-title\">\n"
				"<h2 id=\"summary-title\">Please correct the following</h2>\n<ul>\n");
		json_array_foreach(errors, i, e) {
			fl_buf_addf(&b, "<li><a href=\"#f-%s\">", fl_json_str(e, "field", "message"));
			web__esc(&b, fl_json_str(e, "message", ""));
			fl_buf_adds(&b, "</a></li>\n");
		}
		fl_buf_adds(&b, "</ul>\n</div>\n");
	}
	fl_buf_adds(&b, "<p>Tell us what you need and we will answer by email. All fields are required.</p>\n"
			"<form method=\"post\" action=\"/support\" novalidate>\n"
			"<input type=\"hidden\" name=\"csrf_token\" value=\"");
	web__esc(&b, csrf);
	fl_buf_adds(&b, "\">\n");
	input(&b, "name", "Your name", "text", "name", 0, 200, f->name, errors);
	input(&b, "email", "Email address", "email", "email", 0, 254, f->email, errors);
	input(&b, "subject", "Subject", "text", "off", 0, 500, f->subject, errors);
	input(&b, "message", "How can we help?", NULL, NULL, 8, 10000, f->message, errors);
	/* the honeypot: out of sight and out of the tab order; robots fill it in */
	fl_buf_adds(&b, "<div class=\"hp\" aria-hidden=\"true\">\n<label for=\"f-website\">Leave this field empty</label>\n"
			"<input id=\"f-website\" name=\"website\" type=\"text\" tabindex=\"-1\" autocomplete=\"off\" value=\"\">\n"
			"</div>\n<button type=\"submit\">Send</button>\n</form>\n</main>\n</body>\n</html>\n");
	return fl_buf_detach(&b, NULL);
}

char *web_sent_page(const char *reference)
{
	struct fl_buf b = FL_BUF_INIT;

	web__head(&b, "Request received");
	fl_buf_adds(&b, "<h1>Thank you</h1>\n");
	if (reference && *reference) {
		fl_buf_adds(&b, "<p>We have your request. Its reference is <strong class=\"reference\">");
		web__esc(&b, reference);
		fl_buf_adds(&b, "</strong>; we have sent it to you by email as well.</p>\n");
	} else {
		fl_buf_adds(&b, "<p>We have your request and will answer by email.</p>\n");
	}
	fl_buf_adds(&b, "<p><a href=\"/support\">Send another request</a></p>\n</main>\n</body>\n</html>\n");
	return fl_buf_detach(&b, NULL);
}
