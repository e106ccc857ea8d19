/*
 * An agent's decision on mail awaiting approval. Intake keeps mail from an
 * address that is neither the ticket's customer nor an approved CC in the
 * thread, marked "pending" (see intake.c): nothing is lost, and nothing
 * about who gets the ticket's replies changes. The agent then approves it
 * (the sender, a person, joins the ticket's approved CCs: the ticket's
 * replies go to them too) or declines it (it stays in the thread, marked
 * declined). Machine mail (bounces, auto-replies, lists, bulk, our own mail
 * back) never becomes a CC: approving it only marks it read and trusted.
 *
 * What it leaves to others: the route (src/server/routes_mail.c) and who
 * gets a reply (outbox.c reads the CCs).
 */
#include <string.h>
#include <strings.h>

#include "email_int.h"
#include "store/store.h"

/* Whether a message's sender may become a CC: a person's mail, with an address. */
static const char *person_address(const json_t *msg)
{
	const json_t *email = json_object_get(json_object_get(msg, "metadata"), "email"), *n;
	static const char *const machine[] = {
		"auto_submitted", "bulk", "list", "autoreply", "bounce", "null_sender", "ours",
	};
	size_t i, k;

	json_array_foreach(json_object_get(email, "noise"), i, n)
		for (k = 0; k < FL_ARRAY_SIZE(machine); k++)
			if (fl_str_eq(json_string_value(n), machine[k]))
				return NULL;
	return fl_json_str(json_object_get(email, "from"), "addr", NULL);
}

/* addr added to ticket's approved CCs (metadata.email.cc) unless there already or the customer. */
static int add_cc(struct store *st, const json_t *ticket, const char *addr, const char *actor)
{
	json_t *md = json_deep_copy(json_object_get(ticket, "metadata")), *email, *cc, *a, *fields, *out = NULL;
	const char *customer;
	size_t i;
	int rc = STORE_OK;

	if (!json_is_object(md)) {
		json_decref(md);
		md = json_object();
	}
	email = json_object_get(md, "email");
	if (!json_is_object(email)) {
		email = json_object();
		json_object_set_new(md, "email", email);
	}
	customer = fl_json_str(email, "reply_to", fl_json_str(email, "from", fl_json_str(md, "customer_email", "")));
	cc = json_object_get(email, "cc");
	if (!json_is_array(cc)) {
		cc = json_array();
		json_object_set_new(email, "cc", cc);
	}
	json_array_foreach(cc, i, a)
		if (json_is_string(a) && !strcasecmp(json_string_value(a), addr))
			goto out;
	if (!strcasecmp(customer, addr))
		goto out;
	json_array_append_new(cc, json_string(addr));
	fields = json_pack("{s:O}", "metadata", md);
	rc = store_ticket_update(st, fl_json_str(ticket, "id", ""), fl_json_int(ticket, "version", 0), fields, actor,
				 &out);
	json_decref(fields);
out:
	json_decref(out);
	json_decref(md);
	return rc;
}

int email_message_decide(struct store *st, const char *ticket_id, int64_t message_id, bool approve,
			 const char *actor, json_t **message, char **why)
{
	json_t *msg = NULL, *ticket = NULL;
	const char *addr;
	bool decided = false;
	int rc, src;

	*why = NULL;
	if (message)
		*message = NULL;
	if ((src = store_begin_immediate(st)))
		goto fail;
	src = store_message_decide(st, ticket_id, message_id, approve ? "approved" : "declined", actor, &msg);
	decided = src == STORE_OK;
	if (!src && approve && (addr = person_address(msg))) {
		src = store_ticket_get(st, ticket_id, false, &ticket);
		if (!src)
			src = add_cc(st, ticket, addr, actor);
	}
	if (!src)
		src = store_commit(st);
	else
		store_rollback(st);
	if (src)
		goto fail;
	if (message) {
		*message = msg;
		msg = NULL;
	}
	json_decref(msg);
	json_decref(ticket);
	return EMAIL_OK;
fail:
	*why = fl_strdup(store_errmsg(st));
	/* a conflict deciding: not pending; a conflict after it: the ticket moved meanwhile, retry */
	rc = src == STORE_ENOTFOUND ? EMAIL_ENOTFOUND
	     : src == STORE_ECONFLICT && !decided ? EMAIL_ECONFLICT
	     : store_err_is_transient(src) || src == STORE_ECONFLICT ? EMAIL_ETEMP : EMAIL_ESTORE;
	if (rc == EMAIL_ECONFLICT && message) {
		*message = msg;
		msg = NULL;
	}
	json_decref(msg);
	json_decref(ticket);
	return rc;
}
