/*
 * The web form's submission (web.h): its fields, the checks a person is
 * told about, the incoming ticket, and the CSRF token of a form cookie.
 * Pages are in page.c.
 *
 * The CSRF token is the form cookie's BLAKE2b under a fixed key: the page
 * that sets the cookie (HttpOnly, SameSite=Strict) carries the token in a
 * hidden field, and a POST must bring both. Another site can neither read
 * the cookie nor make the browser send it with its own form.
 */
#include <ctype.h>
#include <string.h>
#include <sodium.h>

#include "web.h"
#include "support/support.h"
#include "util/util.h"

#define NAME_MAX_LEN 200
#define EMAIL_MAX_LEN 254

static const unsigned char csrf_key[crypto_generichash_KEYBYTES] = "frontline web form csrf token";

static char **field(struct web_form *f, const char *key)
{
	if (!strcmp(key, "name"))
		return &f->name;
	if (!strcmp(key, "email"))
		return &f->email;
	if (!strcmp(key, "subject"))
		return &f->subject;
	if (!strcmp(key, "message"))
		return &f->message;
	if (!strcmp(key, "csrf_token"))
		return &f->csrf_token;
	if (!strcmp(key, "website"))
		return &f->website;
	return NULL;
}

int web_form_add(struct web_form *f, const char *key, const char *data, size_t n)
{
	char **v = field(f, key);
	size_t have;

	if (!v)
		return 0;
	have = *v ? strlen(*v) : 0;
	if (have + n > WEB_FIELD_MAX)
		return -1;
	*v = fl_realloc(*v, have + n + 1);
	memcpy(*v + have, data, n);
	(*v)[have + n] = '\0';
	return 0;
}

void web_form_release(struct web_form *f)
{
	free(f->name);
	free(f->email);
	free(f->subject);
	free(f->message);
	free(f->csrf_token);
	free(f->website);
	memset(f, 0, sizeof(*f));
}

bool web_form_is_robot(const struct web_form *f)
{
	return f->website && *f->website;
}

/* s without surrounding white space (caller frees; "" for NULL). */
static char *trimmed(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	const char *t = s ? fl_str_trim(s, &n) : "";

	return fl_strndup(t, n);
}

char *web_form_address(const struct web_form *f)
{
	char *a = trimmed(f->email), *p;

	if (!*a) {
		free(a);
		return NULL;
	}
	for (p = a; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return a;
}

/* An address a mail server would take: local@domain.tld, printable, no spaces. */
static bool address_ok(const char *a)
{
	const char *at = strchr(a, '@'), *p;

	if (!at || at == a || strchr(at + 1, '@') || strlen(a) > EMAIL_MAX_LEN)
		return false;
	for (p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return false;
	p = strchr(at + 1, '.');
	return p && p != at + 1 && p[1] && a[strlen(a) - 1] != '.';
}

static void add_error(json_t *errors, const char *field_name, const char *message)
{
	json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field_name, "message", message));
}

static bool has_field(const json_t *errors, const char *name)
{
	const json_t *e;
	size_t i;

	json_array_foreach(errors, i, e)
		if (!strcmp(fl_json_str(e, "field", ""), name))
			return true;
	return false;
}

/* The form's name for a field of the ingestion rules. */
static const char *form_field(const char *rule_field)
{
	if (!strcmp(rule_field, "content"))
		return "message";
	if (!strcmp(rule_field, "customer_id"))
		return "email";
	return rule_field;
}

int web_form_check(const struct web_form *f, const char *customer_id, json_t **incoming, json_t **errors)
{
	json_t *errs = json_array(), *in = NULL, *ticket = NULL, *rule_errors = NULL, *e;
	char *name = trimmed(f->name), *addr = web_form_address(f), *subject = trimmed(f->subject);
	size_t i;
	int rc = -1;

	*incoming = NULL;
	*errors = NULL;
	if (!*name)
		add_error(errs, "name", "Enter your name");
	else if (strlen(name) > NAME_MAX_LEN || strpbrk(name, "\r\n"))
		add_error(errs, "name", "Enter a name of at most 200 characters on one line");
	if (!addr)
		add_error(errs, "email", "Enter your email address");
	else if (!address_ok(addr))
		add_error(errs, "email", "Enter an email address like name@example.com");
	if (!*subject)
		add_error(errs, "subject", "Enter a subject");
	in = json_pack("{s:s, s:s, s:s, s:s?, s:{s:s, s:s, s:s}}", "channel", FL_CHANNEL_WEB, "customer_id",
		       customer_id ? customer_id : (addr ? addr : ""), "subject", subject, "content", f->message,
		       "metadata", "customer_email", addr ? addr : "", "customer_name", name, "form", "support");
	if (!in) {
		add_error(errs, "message", "The form holds text that is not valid UTF-8");
		goto out;
	}
	if (support_ticket_validate(in, fl_wall_us(), &ticket, &rule_errors) != SUPPORT_OK) {
		json_array_foreach(rule_errors, i, e) {
			const char *ff = form_field(fl_json_str(e, "field", ""));
			char *msg;

			/* one message per field: the form's own checks speak first */
			if (has_field(errs, ff))
				continue;
			if (!strcmp(ff, "message") && !strcmp(fl_json_str(e, "code", ""), SUPPORT_FIELD_MISSING))
				msg = fl_strdup("Enter your message");
			else
				msg = fl_asprintf("The %s %s", ff, fl_json_str(e, "message", "is not valid"));
			add_error(errs, ff, msg);
			free(msg);
		}
	}
	if (json_array_size(errs))
		goto out;
	*incoming = in;
	in = NULL;
	rc = 0;
out:
	if (rc)
		*errors = json_incref(errs);
	json_decref(errs);
	json_decref(in);
	json_decref(ticket);
	json_decref(rule_errors);
	free(name);
	free(addr);
	free(subject);
	return rc;
}

void web_cookie_new(char out[WEB_TOKEN_SIZE])
{
	unsigned char raw[32];

	fl_random_bytes(raw, sizeof(raw));
	fl_hex(out, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

bool web_cookie_ok(const char *s)
{
	size_t i;

	if (!s || strlen(s) != WEB_TOKEN_SIZE - 1)
		return false;
	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

void web_csrf_token(const char *cookie, char out[WEB_TOKEN_SIZE])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)cookie, strlen(cookie), csrf_key, sizeof(csrf_key));
	fl_hex(out, h, sizeof(h));
}

bool web_csrf_ok(const char *cookie, const char *presented)
{
	char want[WEB_TOKEN_SIZE];

	if (!web_cookie_ok(cookie) || !presented || strlen(presented) != WEB_TOKEN_SIZE - 1)
		return false;
	web_csrf_token(cookie, want);
	return sodium_memcmp(want, presented, WEB_TOKEN_SIZE - 1) == 0;
}
