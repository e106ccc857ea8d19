/*
 * Intake: one raw message into the store, exactly once, never lost.
 *
 * The order is Request Tracker's rt-mailgate's: the raw bytes are committed
 * before anything else can fail, so that a crash, a full disk or a parser
 * surprise leaves the message either in the store or with the sender (the
 * mail server retries a temporary failure; IMAP keeps it unseen; an HTTP
 * client retries a 503). Then the message is parsed and, in one
 * transaction, deduplicated, threaded, appended or turned into a ticket
 * with its triage job; its attachments become blobs; the raw record is
 * linked to the ticket. Every retry of the same bytes or the same
 * Message-ID lands on the same ticket.
 *
 * Who may write into a thread (docs/EMAIL.md): a key that proves knowledge
 * of the thread (the ticket's secret in our tag or Message-ID, or a
 * Message-ID the thread holds) threads anyone's mail, and a stranger's
 * (neither the ticket's customer nor an approved CC) waits for an agent's
 * approval; a key anyone can make from the ticket's number threads only the
 * customer's and the CCs' mail, and a stranger's becomes a ticket of its own.
 *
 * What it leaves to others: running triage (the worker claims the job),
 * sending replies (the outbox dispatcher; see outbox.c), and the transports
 * (cli/mail_in.c, the HTTP route, imap.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "email_int.h"
#include "store/store.h"
#include "support/support.h"

void email_intake_opts_from_config(struct email_intake_opts *o)
{
	const char *from = fl_config_get("FRONTLINE_SUPPORT_FROM");

	memset(o, 0, sizeof(*o));
	o->domain = fl_config_get("FRONTLINE_EMAIL_DOMAIN");
	if ((!o->domain || !*o->domain) && from && strrchr(from, '@')) {
		/* "Acme Support <help@example.com>": the domain ends before '>' */
		const char *d = strrchr(from, '@') + 1;
		size_t n = strcspn(d, "> \t");

		if (n && n < sizeof(o->domain_buf)) {
			memcpy(o->domain_buf, d, n);
			o->domain_buf[n] = '\0';
			o->domain = o->domain_buf;
		}
	}
	o->tag = fl_config_get("FRONTLINE_EMAIL_TAG");
	o->thread_subject_days = (int)fl_config_int("FRONTLINE_EMAIL_THREAD_BY_SUBJECT_DAYS", 0);
	o->rate_limit = (int)fl_config_int("FRONTLINE_EMAIL_RATE_LIMIT", 10);
	o->rate_window_s = (int)fl_config_int("FRONTLINE_EMAIL_RATE_WINDOW", 3600);
	o->spamd = fl_config_get("FRONTLINE_SPAMD");
	email_limits_from_config(&o->limits);
}

const char *email_outcome_name(enum email_outcome o)
{
	switch (o) {
	case EMAIL_NEW_TICKET: return "ticket";
	case EMAIL_APPENDED: return "appended";
	case EMAIL_DUPLICATE: return "duplicate";
	case EMAIL_QUARANTINED: return "quarantined";
	}
	return "unknown";
}

void email_intake_result_release(struct email_intake_result *r)
{
	if (!r)
		return;
	free(r->ticket_id);
	free(r->ticket_number);
	free(r->detail);
	free(r->refused_field);
	free(r->refused_code);
	memset(r, 0, sizeof(*r));
}

/* Store errors that a later retry may not meet. */
static bool temporary(int rc)
{
	return store_err_is_transient(rc) || rc == STORE_EREADONLY;
}

static void set_ticket(struct email_intake_result *r, const json_t *ticket)
{
	char num[FL_TICKET_TAG_SIZE];

	free(r->ticket_id);
	free(r->ticket_number);
	r->ticket_id = fl_strdup(fl_json_str(ticket, "id", ""));
	fl_ticket_tag(num, fl_json_int(ticket, "number", 0));
	r->ticket_number = fl_strdup(num);
}

static char *lower(const char *s)
{
	char *d = fl_strdup(s ? s : ""), *p;

	for (p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* ---- threading ---- */

struct ctx {
	struct store *st;
	const struct email_intake_opts *o;
	const char *domain;
	struct email_msg *msg;
	int64_t raw_id;
	char *customer_id;
	bool pending;            /* the thread's ticket was found, the sender is not on it: awaits approval */
};

static bool same_address(const char *a, const char *b)
{
	return a && b && *a && !strcasecmp(a, b);
}

/*
 * Whether the sender is on the ticket: its customer (the same customer
 * record, or the address the ticket's first mail came from or asked
 * replies to go to) or a CC an agent approved.
 */
static bool sender_on_ticket(struct ctx *c, const json_t *ticket)
{
	const json_t *md = json_object_get(ticket, "metadata"), *email = json_object_get(md, "email"), *cc;
	const char *from = c->msg->from.addr;
	size_t i;

	if (c->customer_id && fl_str_eq(c->customer_id, fl_json_str(ticket, "customer_id", NULL)))
		return true;
	if (same_address(from, fl_json_str(md, "customer_email", NULL)) ||
	    same_address(from, fl_json_str(email, "from", NULL)) || same_address(from, fl_json_str(email, "reply_to", NULL)))
		return true;
	json_array_foreach(json_object_get(email, "cc"), i, cc)
		if (same_address(from, json_string_value(cc)))
			return true;
	return false;
}

/*
 * A key found *ticket: keep it or not. A key that proves knowledge of the
 * thread (the ticket's secret in our tag or Message-ID, or a Message-ID the
 * thread holds) threads anyone's mail, a stranger's awaiting approval; a key
 * anyone can make from the ticket's number (the old tag and Message-ID)
 * threads only the mail of someone on the ticket. A key not kept lets the
 * next key look, and in the end the message opens a ticket of its own.
 */
static int judge(struct ctx *c, json_t **ticket, const char *secret, bool proven, const char *how,
		 const char **found_how)
{
	bool on = sender_on_ticket(c, *ticket);
	int rc;

	if (secret && *secret && !proven && (rc = email__secret_check(c->st, fl_json_str(*ticket, "id", ""),
								     secret, &proven)))
		return rc;
	if (proven || on) {
		c->pending = !on;
		*found_how = how;
		return STORE_OK;
	}
	fl_log(FL_LOG_INFO, "email: %s from a stranger names ticket %s by %s without its secret: a ticket of its own",
	       c->msg->message_id, fl_json_str(*ticket, "id", ""), how);
	json_decref(*ticket);
	*ticket = NULL;
	return STORE_OK;
}

/* The ticket a Message-ID names or belongs to, judged; *ticket NULL when none is kept. */
static int ticket_of_id(struct ctx *c, const char *id, const char *how, json_t **ticket, const char **found_how)
{
	char num[32], secret[EMAIL_SECRET_MAX + 1];
	int rc;

	if (email__our_id_parse(id, c->domain, num, secret)) {
		rc = store_ticket_get(c->st, num, false, ticket);
		return rc ? rc : judge(c, ticket, secret, false, how, found_how);
	}
	rc = store_message_find_by_email_id(c->st, id, ticket);
	return rc ? rc : judge(c, ticket, NULL, true, how, found_how);
}

/* Finds the thread; *ticket NULL when the message starts a new one. */
static int find_thread(struct ctx *c, json_t **ticket, const char **how)
{
	struct email_msg *m = c->msg;
	char num[32], secret[EMAIL_SECRET_MAX + 1];
	size_t i;
	int rc;

	*ticket = NULL;
	/* In-Reply-To, then References newest first, then what a bounce returns */
	for (i = 0; i < m->n_references + 2; i++) {
		const char *id = i == 0 ? m->in_reply_to
			       : i <= m->n_references ? m->references[m->n_references - i]
						      : m->bounce_of;

		if (!id)
			continue;
		rc = ticket_of_id(c, id, i == m->n_references + 1 ? "bounce" : "references", ticket, how);
		if (rc == STORE_OK && *ticket)
			return STORE_OK;
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return rc;
	}
	/* our own message come back: its Message-ID names its ticket */
	if ((m->noise & EMAIL_NOISE_OURS) && !m->message_id_synthetic) {
		rc = ticket_of_id(c, m->message_id, "own message", ticket, how);
		if (rc == STORE_OK && *ticket)
			return STORE_OK;
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return rc;
	}
	if (email_subject_tag_parse(m->subject, c->o->tag, num, secret)) {
		rc = store_ticket_get(c->st, num, false, ticket);
		if (rc == STORE_OK)
			rc = judge(c, ticket, secret, false, "subject tag", how);
		if (rc == STORE_OK && *ticket)
			return STORE_OK;
		if (rc != STORE_OK && rc != STORE_ENOTFOUND)
			return rc;
	}
	/* the sender's own tickets only: no stranger's mail is threaded by subject */
	if (c->o->thread_subject_days > 0 && c->customer_id) {
		struct store_ticket_filter f = { 0 };
		json_t *page = NULL;
		char *want = email_subject_normalize(m->subject);
		int64_t since = fl_wall_us() - (int64_t)c->o->thread_subject_days * 86400 * 1000000;

		f.customer_id = c->customer_id;
		f.channel = FL_CHANNEL_EMAIL;
		f.limit = 50;
		rc = *want ? store_ticket_list(c->st, &f, &page) : STORE_OK;
		for (i = 0; !rc && i < json_array_size(json_object_get(page, "tickets")); i++) {
			json_t *t = json_array_get(json_object_get(page, "tickets"), i);
			char *have = email_subject_normalize(fl_json_str(t, "subject", ""));
			int64_t at = 0;

			if (!strcmp(have, want) && !fl_time_parse(fl_json_str(t, "updated_at", ""), &at) &&
			    at >= since) {
				*ticket = json_incref(t);
				*how = "sender and subject";
			}
			free(have);
			if (*ticket)
				break;
		}
		json_decref(page);
		free(want);
		if (rc)
			return rc;
	}
	return STORE_OK;
}

/* ---- the pieces of a ticket ---- */

/* Stores the attachments' bytes as blobs and returns the message's metadata. New reference. */
static int message_metadata(struct ctx *c, json_t **out)
{
	struct email_msg *m = c->msg;
	json_t *email = email_msg_to_json(m);
	size_t i;
	int rc = STORE_OK;

	*out = NULL;
	for (i = 0; i < m->n_attachments && !rc; i++) {
		char hex[65];

		if (m->attachments[i].data)
			rc = store_blob_put(c->st, m->attachments[i].data, m->attachments[i].size,
					    m->attachments[i].content_type, hex, NULL);
	}
	if (rc) {
		json_decref(email);
		return rc;
	}
	json_object_set_new(email, "raw_id", json_integer(c->raw_id));
	if (m->quarantine) /* the raw message, for an agent to open */
		json_array_append_new(json_object_get(email, "attachments"),
				      json_pack("{s:s, s:s, s:I, s:s, s:b, s:b}", "filename", "original.eml",
						"content_type", "message/rfc822", "size", (json_int_t)m->raw_size,
						"sha256", m->raw_sha256, "inline", 0, "omitted", 0));
	*out = json_pack("{s:o}", "email", email);
	return STORE_OK;
}

/* The ticket's content: the sender's text, with the subject when the text is very short. */
static char *ticket_content(const struct email_msg *m)
{
	const char *text = m->content && *m->content ? m->content : m->body ? m->body : "";
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	if (strlen(text) >= 10)
		return fl_strdup(text);
	if (*m->subject)
		fl_buf_addf(&b, "%s\n\n", m->subject);
	fl_buf_adds(&b, text);
	if (!*text) {
		if (m->n_attachments) {
			fl_buf_addf(&b, "(no text; %zu attachment%s:", m->n_attachments,
				    m->n_attachments == 1 ? "" : "s");
			for (i = 0; i < m->n_attachments && i < 10; i++)
				fl_buf_addf(&b, " %s", m->attachments[i].filename);
			fl_buf_addch(&b, ')');
		} else {
			fl_buf_adds(&b, "(empty message)");
		}
	}
	fl_buf_rtrim(&b);
	return fl_buf_detach(&b, NULL);
}

static json_t *ticket_metadata(struct ctx *c)
{
	struct email_msg *m = c->msg;
	json_t *md = json_object(), *email;

	email = json_pack("{s:s, s:s?, s:s?, s:b, s:o}", "message_id", m->message_id, "from", m->from.addr,
			  "reply_to", m->reply_to.addr,
			  "auto_reply", !email_noise_blocks_autoreply(m->noise) && m->spam.verdict != EMAIL_SPAM_SPAM,
			  "noise", email_noise_names(m->noise));
	if (m->spam.verdict != EMAIL_SPAM_UNKNOWN || m->spam.score >= 0)
		json_object_set_new(email, "spam", email_spam_to_json(&m->spam));
	if (m->quarantine)
		json_object_set_new(email, "quarantine", json_string(m->quarantine));
	json_object_set_new(md, "email", email);
	if (m->from.addr)
		json_object_set_new(md, "customer_email", json_string(m->from.addr));
	if (m->from.name)
		json_object_set_new(md, "customer_name", json_string(m->from.name));
	if (c->o->queue && *c->o->queue)
		json_object_set_new(md, "queue", json_string(c->o->queue));
	/* whose ticket it is: server__may_see_ticket lets that integration read it */
	if (c->o->api_token_id)
		json_object_set_new(md, "api_token_id", json_integer(c->o->api_token_id));
	return md;
}

/* A reply in an existing thread (a stranger's, c->pending, awaiting approval). */
static int append(struct ctx *c, json_t *ticket, struct email_intake_result *r)
{
	struct email_msg *m = c->msg;
	const char *status = fl_json_str(ticket, "status", "");
	const char *id = fl_json_str(ticket, "id", "");
	json_t *meta = NULL, *msg = NULL, *updated = NULL;
	bool created = false, thanks;
	int rc;

	if ((rc = message_metadata(c, &meta)))
		return rc;
	msg = json_pack("{s:s, s:s?, s:s, s:s, s:s?, s:O, s:s?}", "direction", "inbound", "author", c->customer_id,
			"body", m->content, "email_message_id", m->message_id, "in_reply_to", m->in_reply_to,
			"metadata", meta, "approval", c->pending ? "pending" : NULL);
	rc = store_message_add(c->st, id, msg, NULL, &created);
	/* a stranger's mail awaiting approval neither thanks nor reopens */
	thanks = !rc && !c->pending && !email_noise_blocks_autoreply(m->noise) &&
		 support_is_thanks(m->subject, m->content);
	if (thanks) {
		/*
		 * A thank-you marks the ticket satisfied: nothing to answer, no
		 * reopening; an answered ticket waiting on the customer is resolved.
		 */
		bool resolve = !strcmp(status, FL_STATUS_AUTO_REPLIED) || !strcmp(status, FL_STATUS_WAITING);
		json_t *fields = json_pack("{s:f}", "satisfaction", 1.0);
		char ts[32];

		if (resolve) {
			fl_time_rfc3339(ts, fl_wall_us());
			json_object_set_new(fields, "status", json_string(FL_STATUS_RESOLVED));
			json_object_set_new(fields, "resolved_at", json_string(ts));
		}
		rc = store_ticket_update(c->st, id, fl_json_int(ticket, "version", 0), fields, "email", &updated);
		json_decref(fields);
		if (!rc) {
			json_t *data = json_pack("{s:s, s:s}", "from", status, "message_id", m->message_id);

			rc = store_event_append(c->st, id, FL_EVENT_TICKET_SATISFIED, "email", data);
			json_decref(data);
		}
	}
	/* a customer's reply reopens a resolved ticket; machines', strangers' mail and thank-you notes do not */
	if (!rc && !thanks && !c->pending && (!strcmp(status, FL_STATUS_RESOLVED) || !strcmp(status, FL_STATUS_CLOSED)) &&
	    !email_noise_blocks_autoreply(m->noise)) {
		json_t *fields = json_pack("{s:s, s:n}", "status", FL_STATUS_NEW, "resolved_at");

		rc = store_ticket_update(c->st, id, fl_json_int(ticket, "version", 0), fields, "email", &updated);
		json_decref(fields);
		if (!rc) {
			json_t *data = json_pack("{s:s, s:s}", "from", status, "message_id", m->message_id);

			rc = store_event_append(c->st, id, FL_EVENT_TICKET_REOPENED, "email", data);
			json_decref(data);
			r->reopened = true;
		}
	}
	if (!rc)
		rc = store_mail_raw_finish(c->st, c->raw_id, "appended", id, NULL);
	if (!rc) {
		r->outcome = EMAIL_APPENDED;
		r->pending = c->pending;
		set_ticket(r, ticket);
	}
	json_decref(updated);
	json_decref(msg);
	json_decref(meta);
	return rc;
}

/*
 * The ingestion rules every door runs (support_ticket_validate), on the
 * ticket this message would open: a ticket they refuse is quarantined, with
 * the reason, instead of waiting for a triage that cannot run; one they
 * accept keeps their normalized subject and content (*subject, *content).
 */
static void check_ticket(struct ctx *c, char **subject, char **content, struct email_intake_result *r)
{
	json_t *in, *valid = NULL, *errors = NULL;

	in = json_pack("{s:s, s:s?, s:s, s:s}", "channel", FL_CHANNEL_EMAIL, "customer_id", c->customer_id,
		       "subject", *subject, "content", *content);
	if (support_ticket_validate(in, fl_wall_us(), &valid, &errors) == SUPPORT_OK) {
		free(*subject);
		free(*content);
		*subject = fl_strdup(fl_json_str(valid, "subject", ""));
		*content = fl_strdup(fl_json_str(valid, "content", ""));
	} else {
		json_t *refusal = support_ticket_refusal(errors);

		c->msg->quarantine = fl_asprintf("the ticket breaks the ingestion rules: %s",
						 fl_json_str(refusal, "message", ""));
		r->refused_field = fl_strdup(fl_json_str(refusal, "field", ""));
		r->refused_code = fl_strdup(fl_json_str(json_array_get(errors, 0), "code", ""));
		json_decref(refusal);
	}
	json_decref(in);
	json_decref(valid);
	json_decref(errors);
}

/* A new ticket, quarantined when the message cannot be trusted or the ticket breaks the rules. */
static int create(struct ctx *c, struct email_intake_result *r)
{
	struct email_msg *m = c->msg;
	json_t *meta = NULL, *ticket = NULL, *out = NULL, *upd = NULL;
	size_t slen = strlen(m->subject);
	char *content = ticket_content(m), *idem = fl_asprintf("email:%s", m->message_id);
	char *subject = fl_strdup(fl_str_trim(m->subject, &slen)[0] ? m->subject : "(no subject)");
	const char *job = c->o->job_kind ? c->o->job_kind : FL_JOB_TRIAGE;
	bool created = false;
	int rc;

	if (!m->quarantine)
		check_ticket(c, &subject, &content, r);
	if ((rc = message_metadata(c, &meta)))
		goto out;
	ticket = json_pack("{s:s, s:s?, s:s, s:s, s:o, s:{s:s?, s:s, s:s?, s:O}}", "channel", FL_CHANNEL_EMAIL,
			   "customer_id", c->customer_id, "subject", subject,
			   "content", content, "metadata", ticket_metadata(c), "message", "author", c->customer_id,
			   "email_message_id", m->message_id, "in_reply_to", m->in_reply_to, "metadata", meta);
	rc = store_ticket_intake(c->st, ticket, m->quarantine || !*job ? NULL : job, idem, &out, &created);
	if (!rc && m->quarantine) {
		json_t *fields = json_pack("{s:b}", "quarantined", 1);

		rc = store_ticket_update(c->st, fl_json_str(out, "id", ""), 0, fields, "email", &upd);
		json_decref(fields);
	}
	if (!rc)
		rc = store_mail_raw_finish(c->st, c->raw_id, !created ? "duplicate" : m->quarantine ? "quarantined" : "ticket",
					   fl_json_str(out, "id", ""), m->quarantine);
	if (!rc) {
		r->outcome = !created ? EMAIL_DUPLICATE : m->quarantine ? EMAIL_QUARANTINED : EMAIL_NEW_TICKET;
		set_ticket(r, out);
	}
out:
	json_decref(upd);
	json_decref(out);
	json_decref(ticket);
	json_decref(meta);
	free(content);
	free(subject);
	free(idem);
	return rc;
}

/* Everything after the raw message is kept, in one transaction. */
static int deliver(struct ctx *c, struct email_intake_result *r)
{
	struct email_msg *m = c->msg;
	json_t *ticket = NULL, *customer = NULL;
	const char *how = NULL;
	int rc;

	c->pending = false;
	if ((rc = store_begin_immediate(c->st)))
		return rc;
	/* the same Message-ID in a thread already: a retry, a refetch, or a copy via another route */
	rc = store_message_find_by_email_id(c->st, m->message_id, &ticket);
	if (rc == STORE_OK) {
		rc = store_mail_raw_finish(c->st, c->raw_id, "duplicate", fl_json_str(ticket, "id", ""), NULL);
		if (!rc) {
			r->outcome = EMAIL_DUPLICATE;
			set_ticket(r, ticket);
		}
		goto out;
	}
	if (rc != STORE_ENOTFOUND)
		goto out;
	json_decref(ticket);
	ticket = NULL;
	if (m->from.addr) {
		rc = store_customer_find_by_email(c->st, m->from.addr, &customer);
		if (rc == STORE_OK) {
			c->customer_id = fl_strdup(fl_json_str(customer, "id", ""));
		} else if (rc == STORE_ENOTFOUND) {
			/*
			 * A person writing for the first time becomes a customer (the CRM
			 * cache) when the triage finishes and finds no spam (the headers,
			 * spamd, or the built-in model, which only the triage runs):
			 * support_finish, from the ticket's customer_email and _name.
			 */
			c->customer_id = lower(m->from.addr);
			rc = STORE_OK;
		} else {
			goto out;
		}
	}
	if (m->from.addr && c->o->rate_limit > 0) {
		char *key = fl_asprintf("email-in:%s", c->customer_id ? c->customer_id : "");
		int64_t n = 0;

		rc = store_rate_hit(c->st, key, c->o->rate_window_s > 0 ? c->o->rate_window_s : 3600, &n);
		free(key);
		if (rc)
			goto out;
		if (n > c->o->rate_limit)
			m->noise |= EMAIL_NOISE_RATE;
	}
	r->noise = m->noise;
	if (!m->quarantine && (rc = find_thread(c, &ticket, &how)))
		goto out;
	if (ticket) {
		fl_log(FL_LOG_DEBUG, "email: %s joins %s by %s%s", m->message_id, fl_json_str(ticket, "id", ""), how,
		       c->pending ? ", awaiting approval (the sender is not on the ticket)" : "");
		rc = append(c, ticket, r);
	} else {
		rc = create(c, r);
	}
out:
	if (!rc)
		rc = store_commit(c->st);
	else
		store_rollback(c->st);
	json_decref(ticket);
	json_decref(customer);
	return rc;
}

/* The last resort when the store refuses the ticket: a quarantined one that only says so. */
static int quarantine_fallback(struct ctx *c, const char *why, struct email_intake_result *r)
{
	struct email_msg *m = c->msg;

	free(m->quarantine);
	m->quarantine = fl_asprintf("the store refused the message: %s", why);
	free(m->content);
	m->content = fl_strdup(m->quarantine);
	free(m->subject);
	m->subject = fl_strdup("(unprocessable message)");
	free(c->customer_id);
	c->customer_id = NULL;
	/* nothing of the message's own but what identifies it */
	while (m->n_attachments) {
		struct email_attachment *a = &m->attachments[--m->n_attachments];

		free(a->filename);
		free(a->content_type);
		free(a->content_id);
		free(a->data);
	}
	return deliver(c, r);
}

int email_intake(struct store *st, const void *raw, size_t len, const struct email_intake_opts *o,
		 struct email_intake_result *r)
{
	struct email_intake_opts defaults;
	struct email_msg msg;
	struct ctx c;
	json_t *rec = NULL;
	char *why = NULL;
	bool parsed = false, created = false;
	int rc, src;

	memset(r, 0, sizeof(*r));
	if (!o) {
		memset(&defaults, 0, sizeof(defaults));
		o = &defaults;
	}
	if ((rc = email_precheck(raw, len, &o->limits, &why)) != EMAIL_OK) {
		r->detail = why;
		return rc;
	}
	/* 1. the raw bytes, committed before anything else */
	src = store_mail_raw_put(st, raw, len, o->source ? o->source : "pipe", &rec, &created);
	if (src) {
		r->detail = fl_asprintf("cannot keep the raw message: %s", store_errmsg(st));
		return temporary(src) ? EMAIL_ETEMP : EMAIL_ESTORE;
	}
	r->raw_id = fl_json_int(rec, "id", 0);
	if (!created && strcmp(fl_json_str(rec, "status", ""), "received") &&
	    strcmp(fl_json_str(rec, "status", ""), "failed") && fl_json_str(rec, "ticket_id", NULL)) {
		/* these very bytes were processed before */
		json_t *t = NULL;

		src = store_ticket_get(st, fl_json_str(rec, "ticket_id", ""), false, &t);
		if (src == STORE_OK) {
			r->outcome = EMAIL_DUPLICATE;
			set_ticket(r, t);
			json_decref(t);
			json_decref(rec);
			return EMAIL_OK;
		}
		if (temporary(src)) {
			r->detail = fl_asprintf("cannot read the store: %s", store_errmsg(st));
			json_decref(rec);
			return EMAIL_ETEMP;
		}
	}
	json_decref(rec);

	/* 2. parse (after the precheck this cannot refuse the input) */
	if (email_parse(raw, len, &o->limits, o->domain, &msg, &why) != EMAIL_OK) {
		r->detail = fl_asprintf("cannot parse the message: %s", why ? why : "unknown reason");
		free(why);
		return EMAIL_EPARSE;
	}
	parsed = true;
	/* the filter's word, when one is configured and the mail server's headers did not say spam already */
	if (o->spamd && *o->spamd && msg.spam.verdict != EMAIL_SPAM_SPAM) {
		struct email_spam verdict = { EMAIL_SPAM_UNKNOWN, -1, -1, "" };

		if (email_spamd_check(o->spamd, raw, len, 0, &verdict, &why) == EMAIL_OK)
			msg.spam = verdict;
		else
			fl_log(FL_LOG_WARN, "email: no spam verdict for %s: %s", msg.message_id, why);
		free(why);
		why = NULL;
	}

	/* 3. the ticket */
	memset(&c, 0, sizeof(c));
	c.st = st;
	c.o = o;
	c.domain = o->domain && *o->domain ? o->domain : EMAIL_DEFAULT_DOMAIN;
	c.msg = &msg;
	c.raw_id = r->raw_id;
	src = deliver(&c, r);
	if (src && !temporary(src)) {
		char *detail = fl_strdup(store_errmsg(st));

		fl_log(FL_LOG_WARN, "email: message %s refused (%s); keeping it quarantined", msg.message_id,
		       detail);
		src = quarantine_fallback(&c, detail, r);
		free(detail);
	}
	if (src) {
		r->detail = fl_asprintf("cannot store the ticket: %s", store_errmsg(st));
		rc = temporary(src) ? EMAIL_ETEMP : EMAIL_ESTORE;
	} else {
		rc = EMAIL_OK;
	}
	free(c.customer_id);
	if (parsed)
		email_msg_release(&msg);
	return rc;
}
