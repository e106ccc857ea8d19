/*
 * The satisfaction survey's records (issue 17, point 4), for both SQL
 * backends (dialect.h), and their public wrappers: one survey per ticket
 * (opened when its email goes out), found by its link's token as a
 * SHA-256 (the token itself is never stored), answered and answered again
 * until it expires, and the ratings' count and mean over a window.
 *
 * What it leaves to others: the token and the email (support's survey.c),
 * what a rating changes on the ticket and the customer (the caller, in the
 * same transaction as the answer).
 */
#include <string.h>

#include "dialect.h"
#include "wrap.h"

#define SURVEY_SELECT \
	"SELECT t.id, t.number, t.subject, s.customer_id, s.score, s.comment, s.sent_at, s.expires_at," \
	" s.answered_at FROM surveys s JOIN tickets t ON t.number = s.ticket_number"

static json_t *at_or_null(const struct store__row *r, int col)
{
	char at[32];

	if (r->ops->is_null(r, col))
		return json_null();
	fl_time_rfc3339(at, r->ops->i64(r, col));
	return json_string(at);
}

static json_t *survey_json(const struct store__row *r)
{
	json_t *s = json_pack("{s:s, s:I, s:s}", "ticket_id", r->ops->text(r, 0), "number",
			      (json_int_t)r->ops->i64(r, 1), "subject", r->ops->text(r, 2) ? r->ops->text(r, 2) : "");

	json_object_set_new(s, "customer_id", r->ops->is_null(r, 3) ? json_null() : json_string(r->ops->text(r, 3)));
	json_object_set_new(s, "score", r->ops->is_null(r, 4) ? json_null() : json_integer(r->ops->i64(r, 4)));
	json_object_set_new(s, "comment", r->ops->is_null(r, 5) ? json_null() : json_string(r->ops->text(r, 5)));
	json_object_set_new(s, "sent_at", at_or_null(r, 6));
	json_object_set_new(s, "expires_at", at_or_null(r, 7));
	json_object_set_new(s, "answered_at", at_or_null(r, 8));
	return s;
}

int store__sql_survey_open(struct store *st, const char *ticket_id, const char *token_hash, int64_t expires_at_us,
			   bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t number;
	int changes = 0, rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_exec(c, &changes, "INSERT INTO surveys (ticket_number, token_hash, customer_id, sent_at,"
				     " expires_at) SELECT number, ?, customer_id, ?, ? FROM tickets WHERE number = ?"
				     " ON CONFLICT (ticket_number) DO NOTHING", "tiii", token_hash, store__now(st),
				     expires_at_us, number);
	rc = store__sql_tx_end(c, rc);
	if (!rc)
		*created = changes > 0;
	return rc;
}

int store__sql_survey_find(struct store *st, const char *token_hash, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), survey_json, out, SURVEY_SELECT " WHERE s.token_hash = ?"
				" AND s.expires_at > ?", "ti", token_hash, store__now(st));

	if (rc == STORE_ENOTFOUND)
		store__fail(st, rc, "no survey with this token, or it has expired");
	return rc;
}

int store__sql_survey_answer(struct store *st, const char *token_hash, int score, const char *comment,
			     json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	int64_t now = store__now(st);
	int changes = 0, rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, &changes, "UPDATE surveys SET score = ?, comment = ?, answered_at = ?"
			     " WHERE token_hash = ? AND expires_at > ?", "ititi", (int64_t)score, comment, now,
			     token_hash, now);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "no survey with this token, or it has expired");
	if (!rc)
		rc = store__sql_one(c, survey_json, out, SURVEY_SELECT " WHERE s.token_hash = ?", "t", token_hash);
	return store__sql_tx_end(c, rc);
}

int store__sql_survey_stats(struct store *st, int64_t since_us, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct store__cur cur;
	int rc, r;

	rc = store__sql_query(c, &cur, "SELECT count(*), avg(score) FROM surveys WHERE answered_at >= ?", "i",
			      since_us);
	if (rc)
		return rc;
	r = store__sql_step(c, &cur);
	if (r > 0)
		*out = json_pack("{s:I, s:o}", "responses", (json_int_t)cur.row.ops->i64(&cur.row, 0), "average",
				 cur.row.ops->is_null(&cur.row, 1) ? json_null()
								   : json_real(cur.row.ops->dbl(&cur.row, 1)));
	store__sql_done(c, &cur);
	return r < 0 ? -r : STORE_OK;
}

/* ---- the public wrappers ---- */

static int token_hash_ok(struct store *st, const char *h)
{
	if (!h)
		return store__fail(st, STORE_EINVAL, "a token hash is required");
	return store__is_sha256_hex(h) ? STORE_OK : store__fail(st, STORE_EINVAL, "a token hash is 64 hex digits");
}

int store_survey_open(struct store *st, const char *ticket_id, const char *token_hash, int64_t expires_at_us,
		      bool *created)
{
	bool ignored;

	if (!created)
		created = &ignored;
	*created = false;
	WRAP(store_survey_open, WR, OR(need(st, ticket_id, "a ticket id"), token_hash_ok(st, token_hash)),
	     survey_open(st, ticket_id, token_hash, expires_at_us, created));
}

int store_survey_find(struct store *st, const char *token_hash, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_survey_find, RD, OR(need(st, out, "an output"), token_hash_ok(st, token_hash)),
	     survey_find(st, token_hash, out));
}

static int score_ok(struct store *st, int score)
{
	return score >= 1 && score <= 5 ? STORE_OK : store__fail(st, STORE_EINVAL, "a score is 1 to 5");
}

int store_survey_answer(struct store *st, const char *token_hash, int score, const char *comment, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_survey_answer, WR,
	     OR(need(st, out, "an output"), OR(token_hash_ok(st, token_hash), score_ok(st, score))),
	     survey_answer(st, token_hash, score, comment, out));
}

int store_survey_stats(struct store *st, int64_t since_us, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_survey_stats, RD, need(st, out, "an output"), survey_stats(st, since_us, out));
}
