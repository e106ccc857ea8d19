/*
 * The module's front: error names, GMime's one-time initialisation, the
 * limits, and the checks that decide, before anything is stored, whether
 * the input can be a message at all (email_precheck).
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "email_int.h"

static const char *const errnames[] = {
#define EMAIL_NAME(name, text) "EMAIL_" #name,
	EMAIL_ERRNO_MAP(EMAIL_NAME)
#undef EMAIL_NAME
};

static const char *const errtexts[] = {
#define EMAIL_TEXT(name, text) text,
	EMAIL_ERRNO_MAP(EMAIL_TEXT)
#undef EMAIL_TEXT
};

const char *email_strerror(int rc)
{
	if (rc < 0 || (size_t)rc >= FL_ARRAY_SIZE(errtexts))
		return "unknown email error";
	return errtexts[rc];
}

const char *email_errname(int rc)
{
	if (rc < 0 || (size_t)rc >= FL_ARRAY_SIZE(errnames))
		return "EMAIL_UNKNOWN";
	return errnames[rc];
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gmime(void)
{
	g_mime_init();
	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
}

void email_init(void)
{
	pthread_once(&init_once, init_gmime);
}

void email_limits_from_config(struct email_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->max_message = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_BYTES", 0);
	l->max_attachment = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_ATTACHMENT_BYTES", 0);
	l->max_attachments = (size_t)fl_config_int("FRONTLINE_EMAIL_MAX_ATTACHMENTS", 0);
}

void email__limits_resolve(const struct email_limits *in, struct email_limits *l)
{
	if (in)
		*l = *in;
	else
		memset(l, 0, sizeof(*l));
	if (!l->max_message)
		l->max_message = 25u << 20;
	if (!l->max_attachment)
		l->max_attachment = 10u << 20;
	if (!l->max_attachments)
		l->max_attachments = 100;
	if (!l->max_content)
		l->max_content = 10000;
}

void email__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	fl_hex(out, h, sizeof(h));
}


/*
 * Binary data is not a message: NUL bytes or mostly control characters in
 * the first kilobyte (mail is text, even when its 8-bit bytes are not ASCII).
 */
static bool binary(const void *raw, size_t len)
{
	const unsigned char *p = raw;
	size_t i, n = len < 1024 ? len : 1024, ctl = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			return true;
		if (p[i] < 32 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f')
			ctl++;
	}
	return ctl * 10 > n;
}

int email_precheck(const void *raw, size_t len, const struct email_limits *limits, char **why)
{
	struct email_limits lim;
	size_t i;

	if (why)
		*why = NULL;
	email__limits_resolve(limits, &lim);
	if (len > lim.max_message) {
		if (why)
			*why = fl_asprintf("message of %zu bytes is over the limit of %zu bytes", len,
					   lim.max_message);
		return EMAIL_ETOOBIG;
	}
	for (i = 0; i < len && isspace(((const unsigned char *)raw)[i]); i++)
		;
	if (i == len) {
		if (why)
			*why = fl_strdup("empty input");
		return EMAIL_ENOTMSG;
	}
	if (binary(raw, len)) {
		if (why)
			*why = fl_strdup("input is binary data, not text");
		return EMAIL_ENOTMSG;
	}
	return EMAIL_OK;
}
