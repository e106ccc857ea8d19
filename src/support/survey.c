/*
 * The satisfaction survey (issue 17, point 4): a resolved ticket schedules
 * a "survey" job FRONTLINE_CSAT_DELAY seconds later (support_survey_schedule,
 * in the resolving transaction); the job (support_survey_send, run by the
 * workers) makes the link's token, keeps its SHA-256 with the survey and
 * queues the email, in one transaction, unless the ticket was reopened
 * meanwhile or already had its survey; an answer (support_survey_answer)
 * records the score and comment, puts the rating on the ticket
 * (satisfaction, the score on a 0-1 scale) and on the customer's CRM
 * record (satisfaction_score, which triage reads as satisfaction_history),
 * and writes a "ticket.rated" event, in one transaction.
 *
 * What it leaves to others: the pages (server's routes_forms.c), the mail
 * itself (notice.c builds it, the outbox sends it), the counts (the store).
 */
#include <string.h>
#include <sodium.h>

#include "support_int.h"
#include "store/store.h"

#define SURVEY_TTL_US (28 * 86400 * INT64_C(1000000))

double support_survey_scale(int score)
{
	return (score - 1) / 4.0;
}

void support_survey_token_hash(const char *token, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	fl_hex(out, h, sizeof(h));
}

int support_survey_schedule(struct store *st, const json_t *ticket, int64_t now_us)
{
	int64_t delay = fl_config_int("FRONTLINE_CSAT_DELAY", 86400);
	const char *id = fl_json_str(ticket, "id", NULL);
	char *key;
	int rc;

	if (delay < 0 || !id)
		return STORE_OK;
	key = fl_asprintf("survey:%s", id);
	rc = store_job_enqueue(st, SUPPORT_JOB_SURVEY, id, NULL, 5, now_us + delay * 1000000, key);
	free(key);
	return rc;
}

/* The customer's address: the one the ticket came with, else the CRM's. Caller frees; NULL when none. */
static char *address_of(struct store *st, const json_t *ticket)
{
	const char *a = fl_json_str(json_object_get(ticket, "metadata"), "customer_email", NULL);
	json_t *customer = NULL;
	char *out = NULL;

	if (a && *a)
		return fl_strdup(a);
	if (store_customer_get(st, fl_json_str(ticket, "customer_id", ""), &customer) == STORE_OK) {
		a = fl_json_str(customer, "email", NULL);
		out = a && *a ? fl_strdup(a) : NULL;
	}
	json_decref(customer);
	return out;
}

int support_survey_send(struct store *st, const char *ticket_id, bool *sent)
{
	const char *base = fl_config_get("FRONTLINE_PUBLIC_URL");
	unsigned char raw[32];
	char token[65], hash[65], *to = NULL, *link = NULL;
	json_t *ticket = NULL, *notices = NULL;
	bool created = false;
	size_t n;
	int rc;

	*sent = false;
	if (!base || !*base) {
		fl_log(FL_LOG_WARN, "survey of %s not sent: FRONTLINE_PUBLIC_URL is unset (the link needs it)", ticket_id);
		return STORE_OK;
	}
	rc = store_begin_immediate(st);
	if (rc)
		return rc;
	rc = store_ticket_get(st, ticket_id, false, &ticket);
	if (rc)
		goto out;
	/* reopened since, or never a customer's address: no survey */
	if (strcmp(fl_json_str(ticket, "status", ""), FL_STATUS_RESOLVED) || !(to = address_of(st, ticket)))
		goto out;
	fl_random_bytes(raw, sizeof(raw));
	fl_hex(token, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	support_survey_token_hash(token, hash);
	rc = store_survey_open(st, ticket_id, hash, fl_wall_us() + SURVEY_TTL_US, &created);
	if (rc || !created)
		goto out;
	n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	link = fl_asprintf("%.*s/csat/%s", (int)n, base, token);
	notices = json_array();
	support_notice_survey(notices, ticket, to, link);
	rc = support_notices_enqueue(st, notices);
	if (!rc)
		*sent = true;
out:
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	if (rc)
		*sent = false;
	sodium_memzero(token, sizeof(token));
	if (link)
		sodium_memzero(link, strlen(link));
	free(link);
	free(to);
	json_decref(ticket);
	json_decref(notices);
	return rc;
}

/* The customer's CRM record takes the rating into its satisfaction (the seed's running mean). */
static int rate_customer(struct store *st, const char *customer_id, double rating)
{
	json_t *c = NULL;
	double old;
	int rc;

	if (!customer_id)
		return STORE_OK;
	rc = store_customer_get(st, customer_id, &c);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;   /* not in the CRM: nothing to keep */
	if (rc)
		return rc;
	old = fl_json_num(c, "satisfaction_score", -1);
	json_object_set_new(c, "satisfaction_score", json_real(old < 0 ? rating : (old + rating) / 2));
	rc = store_customer_upsert(st, c);
	json_decref(c);
	return rc;
}

int support_survey_answer(struct store *st, const char *token, int score, const char *comment, json_t **out)
{
	char hash[65];
	json_t *survey = NULL, *fields = NULL, *data = NULL, *updated = NULL;
	double rating = support_survey_scale(score);
	int rc;

	*out = NULL;
	support_survey_token_hash(token, hash);
	rc = store_begin_immediate(st);
	if (rc)
		return rc;
	rc = store_survey_answer(st, hash, score, comment, &survey);
	if (rc)
		goto out;
	fields = json_pack("{s:f}", "satisfaction", rating);
	rc = store_ticket_update(st, fl_json_str(survey, "ticket_id", ""), 0, fields, "customer", &updated);
	if (!rc)
		rc = rate_customer(st, fl_json_str(survey, "customer_id", NULL), rating);
	if (!rc) {
		data = json_pack("{s:i, s:O}", "score", score, "comment", json_object_get(survey, "comment"));
		rc = store_event_append(st, fl_json_str(survey, "ticket_id", ""), FL_EVENT_TICKET_RATED, "customer", data);
	}
out:
	if (!rc)
		rc = store_commit(st);
	else
		store_rollback(st);
	if (!rc) {
		*out = survey;
		survey = NULL;
	}
	json_decref(survey);
	json_decref(fields);
	json_decref(data);
	json_decref(updated);
	return rc;
}

int support_survey_lookup(struct store *st, const char *token, json_t **out)
{
	char hash[65];

	support_survey_token_hash(token, hash);
	return store_survey_find(st, hash, out);
}
