/*
 * The outbox side: a queued reply rendered as a message in its ticket's
 * email thread, for the dispatcher (src/notify) to send over SMTP.
 *
 * Whoever enqueues a reply (the workflow's auto-reply, an agent's answer)
 * knows the ticket, not the email thread; this file finds the thread's last
 * trusted message with a Message-ID and answers it: In-Reply-To it,
 * References its chain, with the subject tag and a Message-ID carrying the
 * ticket's secret. The reply goes to the ticket's customer (the Reply-To,
 * else the From, of the mail that opened the ticket; else the customer's
 * address the enqueuer gave) with the CCs an agent approved: never to an
 * address because it wrote last, so mail forged into a thread (a Reply-To
 * of the forger's on a message "from" the customer) cannot redirect the
 * answer. It is also the last line of loop protection: an automatic reply to a ticket
 * whose mail forbade one, to a recipient who already had the window's share
 * of automatic replies (two helpdesks answering each other), or to
 * ourselves, is withheld, whatever the workflow decided.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"
#include "store/store.h"

void email_rendered_release(struct email_rendered *r)
{
	if (!r)
		return;
	free(r->raw);
	free(r->sender);
	free(r->recipient);
	free(r->message_id);
	json_decref(r->cc);
	memset(r, 0, sizeof(*r));
}

/* "Acme Support <help@example.com>" -> name and bare address; false when there is no address. */
static bool split_address(const char *s, char **name, char **addr)
{
	GMimeParserOptions *opts;
	InternetAddressList *list;
	bool ok = false;

	*name = *addr = NULL;
	if (!s || !*s)
		return false;
	opts = email__parser_options();
	list = internet_address_list_parse(opts, s);
	if (list && internet_address_list_length(list) > 0) {
		InternetAddress *ia = internet_address_list_get_address(list, 0);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			const char *n = internet_address_get_name(ia);

			if (a && strchr(a, '@')) {
				*addr = fl_strdup(a);
				*name = n && *n ? fl_strdup(n) : NULL;
				ok = true;
			}
		}
	}
	if (list)
		g_object_unref(list);
	g_mime_parser_options_free(opts);
	return ok;
}

/*
 * The thread's latest inbound message that came by email and needs no
 * approval (or got it), or NULL (borrowed from ticket): what the reply
 * answers. A stranger's message awaiting approval is not answered.
 */
static const json_t *last_email(const json_t *ticket)
{
	const json_t *msgs = json_object_get(ticket, "messages"), *found = NULL;
	size_t i;

	for (i = 0; i < json_array_size(msgs); i++) {
		const json_t *m = json_array_get(msgs, i);
		const char *approval = fl_json_str(m, "approval", NULL);

		if (!strcmp(fl_json_str(m, "direction", ""), "inbound") && fl_json_str(m, "email_message_id", NULL) &&
		    (!approval || !strcmp(approval, "approved")))
			found = m;
	}
	return found;
}

/* The approved CCs' bare addresses, without to (the customer) and without duplicates. New reference. */
static json_t *approved_cc(const json_t *ticket, const char *to)
{
	const json_t *cc = json_object_get(json_object_get(json_object_get(ticket, "metadata"), "email"), "cc"), *a;
	json_t *out = json_array(), *b;
	size_t i, k;

	json_array_foreach(cc, i, a) {
		const char *addr = json_string_value(a);
		bool dup = !addr || !strcasecmp(addr, to);

		json_array_foreach(out, k, b)
			dup |= !strcasecmp(json_string_value(b), addr);
		if (!dup)
			json_array_append_new(out, json_string(addr));
	}
	return out;
}

/* The domain of an address, or NULL. */
static const char *domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at && at[1] ? at + 1 : NULL;
}

int email_outbox_render(struct store *st, const json_t *item, const char *from,
			struct email_rendered *out, char **why)
{
	const json_t *payload = json_object_get(item, "payload"), *last, *email, *tmeta;
	const char *ticket_id = fl_json_str(payload, "ticket_id", NULL);
	const char *from_cfg = fl_json_str(payload, "from", NULL);
	const char *to_cfg, *domain;
	bool automatic = fl_json_bool(payload, "auto_submitted", false);
	struct email_outgoing o = { 0 };
	json_t *ticket = NULL, *refs = NULL, *cc = NULL;
	char *from_name = NULL, *from_addr = NULL, *to_name = NULL, *to_addr = NULL, *id = NULL;
	char number[FL_TICKET_TAG_SIZE], secret[EMAIL_SECRET_LEN + 1], *mid = NULL;
	int rc = EMAIL_EINVAL, src;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!ticket_id) {
		*why = fl_strdup("the email names no ticket (payload.ticket_id)");
		goto out;
	}
	if (!fl_json_str(payload, "body", NULL)) {
		*why = fl_strdup("the email has no body (payload.body)");
		goto out;
	}
	src = store_ticket_get(st, ticket_id, true, &ticket);
	if (src) {
		*why = fl_asprintf("cannot read ticket '%s': %s", ticket_id, store_errmsg(st));
		rc = store_err_is_transient(src) ? EMAIL_ETEMP : src == STORE_ENOTFOUND ? EMAIL_EINVAL : EMAIL_ESTORE;
		goto out;
	}
	fl_ticket_tag(number, fl_json_int(ticket, "number", 0));
	rc = email_ticket_secret(st, fl_json_str(ticket, "id", ""), secret);
	if (rc != EMAIL_OK) {
		*why = fl_asprintf("cannot make ticket %s's secret: %s", number, store_errmsg(st));
		goto out;
	}
	rc = EMAIL_EINVAL;

	/* From: the caller's, else the payload's, else the configuration's */
	if (from && *from)
		from_cfg = from;
	if (!from_cfg || !*from_cfg)
		from_cfg = fl_config_get("FRONTLINE_SUPPORT_FROM");
	if (!split_address(from_cfg, &from_name, &from_addr)) {
		*why = fl_strdup("no sender address: set FRONTLINE_SUPPORT_FROM");
		goto out;
	}
	/*
	 * To: the ticket's customer, as the mail that opened the ticket named
	 * them (its Reply-To, else its From), else the enqueuer's address for
	 * the customer; never whoever wrote last
	 */
	tmeta = json_object_get(json_object_get(ticket, "metadata"), "email");
	to_cfg = fl_json_str(tmeta, "reply_to", fl_json_str(tmeta, "from", NULL));
	if (!to_cfg)
		to_cfg = fl_json_str(item, "target", fl_json_str(payload, "to", NULL));
	if (!split_address(to_cfg, &to_name, &to_addr)) {
		*why = fl_asprintf("no recipient address for ticket %s", number);
		goto out;
	}
	if (!to_name && !fl_json_str(tmeta, "reply_to", NULL) &&
	    fl_json_str(json_object_get(ticket, "metadata"), "customer_name", NULL))
		to_name = fl_strdup(fl_json_str(json_object_get(ticket, "metadata"), "customer_name", ""));
	cc = approved_cc(ticket, to_addr);
	last = last_email(ticket);
	email = json_object_get(json_object_get(last, "metadata"), "email");

	domain = fl_config_get("FRONTLINE_EMAIL_DOMAIN");
	if (!domain || !*domain)
		domain = domain_of(from_addr);

	if (automatic) {
		int64_t n = 0;
		int limit = (int)fl_config_int("FRONTLINE_EMAIL_RATE_LIMIT", 10);
		int window = (int)fl_config_int("FRONTLINE_EMAIL_RATE_WINDOW", 3600);

		if (json_is_false(json_object_get(tmeta, "auto_reply"))) {
			char *names = fl_json_dumps(json_object_get(tmeta, "noise"));

			*why = fl_asprintf("automatic reply to ticket %s withheld: its mail was %s", number, names);
			free(names);
			rc = EMAIL_ESUPPRESSED;
			goto out;
		}
		if (!strcasecmp(to_addr, from_addr)) {
			*why = fl_asprintf("automatic reply to ticket %s withheld: it would go to ourselves", number);
			rc = EMAIL_ESUPPRESSED;
			goto out;
		}
		if (limit > 0) {
			char *key = fl_asprintf("email-out:%s", to_addr), *p;

			for (p = key; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			src = store_rate_hit(st, key, window > 0 ? window : 3600, &n);
			free(key);
			if (src) {
				*why = fl_asprintf("cannot count automatic replies: %s", store_errmsg(st));
				rc = store_err_is_transient(src) ? EMAIL_ETEMP : EMAIL_ESTORE;
				goto out;
			}
			if (n > limit) {
				*why = fl_asprintf("automatic reply to ticket %s withheld: %s had %lld in %d s "
						   "(FRONTLINE_EMAIL_RATE_LIMIT %d)", number, to_addr, (long long)n,
						   window, limit);
				rc = EMAIL_ESUPPRESSED;
				goto out;
			}
		}
	}

	/* the thread: In-Reply-To the customer's latest mail, References its chain */
	if (last) {
		size_t i;

		refs = json_array();
		for (i = 0; i < json_array_size(json_object_get(email, "references")); i++)
			json_array_append(refs, json_array_get(json_object_get(email, "references"), i));
		o.in_reply_to = fl_json_str(last, "email_message_id", NULL);
		/* an id we could not write back as a header (spaces, brackets) is not answered */
		if (o.in_reply_to && o.in_reply_to[strcspn(o.in_reply_to, " \t<>\"")])
			o.in_reply_to = NULL;
		o.references = refs;
	}
	mid = fl_asprintf("frontline.%s.%s.o%lld@%s", number, secret, (long long)fl_json_int(item, "id", 0),
			  domain ? domain : EMAIL_DEFAULT_DOMAIN);
	o.from_addr = from_addr;
	o.from_name = from_name;
	o.to_addr = to_addr;
	o.to_name = to_name;
	o.cc = cc;
	o.ticket_secret = secret;
	o.subject = fl_json_str(payload, "subject", fl_json_str(ticket, "subject", ""));
	o.tag = fl_config_get("FRONTLINE_EMAIL_TAG");
	o.ticket_number = number;
	o.body = fl_json_str(payload, "body", "");
	o.html = fl_json_str(payload, "html", NULL);
	o.automatic = automatic;
	o.domain = domain;
	o.message_id = mid;
	rc = email_compose(&o, &out->raw, &out->len, &id);
	if (rc) {
		*why = fl_asprintf("cannot compose the reply to ticket %s: %s", number, email_strerror(rc));
		goto out;
	}
	out->sender = from_addr;
	out->recipient = to_addr;
	out->message_id = id;
	out->cc = cc;
	from_addr = to_addr = id = NULL;
	cc = NULL;
out:
	json_decref(ticket);
	json_decref(refs);
	json_decref(cc);
	free(from_name);
	free(from_addr);
	free(to_name);
	free(to_addr);
	free(id);
	free(mid);
	return rc;
}
