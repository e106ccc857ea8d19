/*
 * Input checks shared by both backends: a ticket for intake or import, the
 * fields of a ticket update (merged against the current row to know what
 * changed), customers, KB articles and messages, plus the store's own small
 * vocabularies (roles, tiers, directions), ticket numbers and keyset
 * cursors. Statuses, priorities, channels and the ticket tag are the
 * domain's words, from util/vocab.c.
 *
 * These are the store's integrity checks (types, required columns), not the
 * ingestion rules: a new ticket passes support_ticket_validate at its door
 * (HTTP, email, CLI) before it reaches the store, and import is for records
 * that passed them once.
 *
 * Everything here is dialect-free: it turns caller JSON into validated
 * values that a backend binds into its own SQL. Errors are STORE_EINVAL
 * recorded on the handle with the field named.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* A language tag: "en", "zh-Hans", "und" (letters and hyphens, at most 15). */
static bool language_tag(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= 15 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == n;
}

/* statuses, priorities and the ticket tag are the domain's words (util/vocab.c) */
static const char *const escalation_priorities[] = { "critical", "high", "medium", "low", NULL };
static const char *const roles[] = { "admin", "agent", "integration", NULL };
static const char *const tiers[] = { "standard", "premium", "enterprise", NULL };
static const char *const directions[] = { "inbound", "outbound", "note", NULL };
static const char *const approvals[] = { "pending", "approved", "declined", NULL };

bool store__valid_status(const char *s)
{
	return fl_word_index(fl_statuses, s) >= 0;
}

bool store__valid_role(const char *s)
{
	return fl_word_index(roles, s) >= 0;
}

int store__escalation_rank(const char *priority)
{
	return fl_word_index(escalation_priorities, priority);
}

int64_t store__parse_number(const char *s)
{
	return fl_ticket_tag_parse(s);
}

bool store__is_number_form(const char *s)
{
	return fl_ticket_tag_form(s);
}

void store__format_number(char out[32], int64_t number)
{
	fl_ticket_tag(out, number);
}

char *store__cursor_encode(int64_t number)
{
	return fl_asprintf("%lld", (long long)number);
}

int store__cursor_decode(const char *cursor, int64_t *number)
{
	return fl_parse_int64(cursor, 1, INT64_MAX, number) ? STORE_EINVAL : STORE_OK;
}

int store__clamp_limit(int limit, int def, int max)
{
	if (limit <= 0)
		return def;
	return limit > max ? max : limit;
}

char *store__json_text(const json_t *v, const char *def)
{
	return v ? fl_json_dumps(v) : fl_strdup(def);
}

json_t *store__query_words(const char *query)
{
	json_t *words = json_array();
	const unsigned char *p = (const unsigned char *)(query ? query : "");

	while (*p && json_array_size(words) < 16) {
		struct fl_buf w = FL_BUF_INIT;

		while (*p && !(isalnum(*p) || *p >= 0x80))
			p++;
		while (*p && (isalnum(*p) || *p >= 0x80)) {
			if (w.len < 64)
				fl_buf_addch(&w, tolower(*p));
			p++;
		}
		if (w.len)
			json_array_append_new(words, json_string(w.buf));
		fl_buf_release(&w);
	}
	if (!json_array_size(words)) {
		json_decref(words);
		return NULL;
	}
	return words;
}

/* ---- field readers: absent is fine, a wrong type is EINVAL naming the field ---- */

static int opt_str(struct store *st, const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return STORE_OK;
	if (!json_is_string(v))
		return store__fail(st, STORE_EINVAL, "field '%s' must be a string", key);
	*out = json_string_value(v);
	return STORE_OK;
}

static int opt_obj(struct store *st, const json_t *o, const char *key, char **out, bool array)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return STORE_OK;
	if (array ? !json_is_array(v) : !json_is_object(v))
		return store__fail(st, STORE_EINVAL, "field '%s' must be a JSON %s", key,
				   array ? "array" : "object");
	free(*out);
	*out = fl_json_dumps(v);
	return STORE_OK;
}

static int opt_time(struct store *st, const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return STORE_OK;
	if (!json_is_string(v) || fl_time_parse(json_string_value(v), out))
		return store__fail(st, STORE_EINVAL, "field '%s' must be an RFC 3339 time", key);
	return STORE_OK;
}

static int opt_unit(struct store *st, const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return STORE_OK;
	if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1))
		return store__fail(st, STORE_EINVAL, "field '%s' must be a number from 0 to 1", key);
	*out = json_number_value(v);
	return STORE_OK;
}

static int opt_word(struct store *st, const json_t *o, const char *key,
		    const char *const *set, const char **out)
{
	int rc = opt_str(st, o, key, out);

	if (rc == STORE_OK && *out && fl_word_index(set, *out) < 0)
		return store__fail(st, STORE_EINVAL, "invalid %s '%s'", key, *out);
	return rc;
}

/* ---- tickets ---- */

int store__ticket_in_parse(struct store *st, const json_t *t, bool import,
			   struct store__ticket_in *in)
{
	const json_t *msg;
	int rc;

	memset(in, 0, sizeof(*in));
	in->first_response_at = in->resolved_at = -1;
	in->satisfaction = -1;
	in->created_at = store__now(st);
	in->channel = FL_CHANNEL_API;
	in->subject = "";
	in->status = FL_STATUS_NEW;
	if (!json_is_object(t))
		return store__fail(st, STORE_EINVAL, "ticket must be a JSON object");
	if ((rc = opt_str(st, t, "id", &in->external_id)) ||
	    (rc = opt_str(st, t, "source", &in->channel)) ||
	    (rc = opt_str(st, t, "channel", &in->channel)) ||
	    (rc = opt_str(st, t, "customer_id", &in->customer_id)) ||
	    (rc = opt_str(st, t, "subject", &in->subject)) ||
	    (rc = opt_str(st, t, "content", &in->content)) ||
	    (rc = opt_obj(st, t, "metadata", &in->metadata, false)) ||
	    (rc = opt_time(st, t, "created_at", &in->created_at)))
		return rc;
	if (in->external_id && !*in->external_id)
		return store__fail(st, STORE_EINVAL, "field 'id' must not be empty");
	if (!*in->channel || strlen(in->channel) > 32)
		return store__fail(st, STORE_EINVAL, "invalid channel '%s'", in->channel);
	if (!in->content)
		return store__fail(st, STORE_EINVAL, "field 'content' is required");
	if (!in->metadata)
		in->metadata = fl_strdup("{}");
	else
		in->metadata_v = json_object_get(t, "metadata");
	msg = json_object_get(t, "message");
	if (msg && !json_is_null(msg)) {
		if (!json_is_object(msg))
			return store__fail(st, STORE_EINVAL, "field 'message' must be a JSON object");
		if ((rc = opt_str(st, msg, "author", &in->msg_author)) ||
		    (rc = opt_str(st, msg, "email_message_id", &in->msg_email_id)) ||
		    (rc = opt_str(st, msg, "in_reply_to", &in->msg_in_reply_to)) ||
		    (rc = opt_obj(st, msg, "metadata", &in->msg_metadata, false)))
			return rc;
	}
	if (!in->msg_author)
		in->msg_author = in->customer_id;
	if (!in->msg_metadata)
		in->msg_metadata = fl_strdup("{}");
	if (!import)
		return STORE_OK;
	if ((rc = opt_word(st, t, "status", fl_statuses, &in->status)) ||
	    (rc = opt_word(st, t, "priority", fl_priorities, &in->priority)) ||
	    (rc = opt_str(st, t, "sentiment", &in->sentiment)) ||
	    (rc = opt_str(st, t, "category", &in->category)) ||
	    (rc = opt_str(st, t, "assigned_department", &in->assigned_department)) ||
	    (rc = opt_str(st, t, "assignee", &in->assignee)) ||
	    (rc = opt_unit(st, t, "satisfaction", &in->satisfaction)) ||
	    (rc = opt_time(st, t, "first_response_at", &in->first_response_at)) ||
	    (rc = opt_time(st, t, "resolved_at", &in->resolved_at)))
		return rc;
	if (!in->status)
		in->status = FL_STATUS_NEW;
	return STORE_OK;
}

void store__ticket_in_release(struct store__ticket_in *in)
{
	free(in->metadata);
	free(in->msg_metadata);
	in->metadata = in->msg_metadata = NULL;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_str(int64_t t)
{
	char buf[32];

	fl_time_rfc3339(buf, t);
	return json_string(buf);
}

/* for the columns bound with "j": negative is NULL */
static json_t *time_or_null(int64_t t)
{
	return t < 0 ? json_null() : time_str(t);
}

/* the keys are literals: no UTF-8 check of them */
#define SETK(o, k, v) json_object_set_new_nocheck(o, k, v)

json_t *store__ticket_inserted(const struct store__ticket_in *in, int64_t number, const char *id,
			       int64_t updated_at)
{
	json_t *t = json_object();
	char created[32];

	/* the keys in the order of store__ticket_json (rows.c), so the text is the same */
	SETK(t, "id", json_string(id));
	SETK(t, "number", json_integer(number));
	SETK(t, "external_id", str_or_null(in->external_id));
	SETK(t, "channel", json_string(in->channel));
	SETK(t, "customer_id", str_or_null(in->customer_id));
	SETK(t, "subject", json_string(in->subject));
	SETK(t, "content", json_string(in->content));
	/* its text reads back as an equal value (fl_json_dumps writes reals exactly) */
	SETK(t, "metadata", in->metadata_v ? json_deep_copy(in->metadata_v) : json_object());
	SETK(t, "status", json_string(in->status));
	SETK(t, "sentiment", str_or_null(in->sentiment));
	SETK(t, "category", str_or_null(in->category));
	SETK(t, "priority", str_or_null(in->priority));
	SETK(t, "assigned_department", str_or_null(in->assigned_department));
	SETK(t, "assignee", str_or_null(in->assignee));
	fl_time_rfc3339(created, in->created_at);
	SETK(t, "created_at", json_string(created));
	/* usually the same instant (created_at defaults to the store's clock) */
	if (updated_at == in->created_at)
		SETK(t, "updated_at", json_string(created));
	else
		SETK(t, "updated_at", time_str(updated_at));
	SETK(t, "first_response_at", time_or_null(in->first_response_at));
	SETK(t, "resolved_at", time_or_null(in->resolved_at));
	SETK(t, "satisfaction", in->satisfaction < 0 ? json_null() : json_real(in->satisfaction));
	SETK(t, "version", json_integer(1));
	SETK(t, "analysis", json_object());
	SETK(t, "trace", json_array());
	SETK(t, "quarantined", json_false());
	SETK(t, "language", json_null());
	return t;
}

#undef SETK

const struct store__tf_desc store__tf_fields[STORE__TF_COUNT] = {
	[STORE__TF_STATUS] = { "status", STORE__TEXT },
	[STORE__TF_SENTIMENT] = { "sentiment", STORE__TEXT },
	[STORE__TF_CATEGORY] = { "category", STORE__TEXT },
	[STORE__TF_PRIORITY] = { "priority", STORE__TEXT },
	[STORE__TF_DEPARTMENT] = { "assigned_department", STORE__TEXT },
	[STORE__TF_ASSIGNEE] = { "assignee", STORE__TEXT },
	[STORE__TF_SUBJECT] = { "subject", STORE__TEXT },
	[STORE__TF_METADATA] = { "metadata", STORE__JSON },
	[STORE__TF_ANALYSIS] = { "analysis", STORE__JSON },
	[STORE__TF_TRACE] = { "trace", STORE__JSON },
	[STORE__TF_SATISFACTION] = { "satisfaction", STORE__REAL },
	[STORE__TF_FIRST_RESPONSE_AT] = { "first_response_at", STORE__TIME },
	[STORE__TF_RESOLVED_AT] = { "resolved_at", STORE__TIME },
	[STORE__TF_QUARANTINED] = { "quarantined", STORE__BOOL },
	[STORE__TF_LANGUAGE] = { "language", STORE__TEXT },
};

static int tf_index(const char *name)
{
	int i;

	for (i = 0; i < STORE__TF_COUNT; i++)
		if (!strcmp(store__tf_fields[i].name, name))
			return i;
	return -1;
}

/* The new value as the decoder would show it, to compare with the current one. */
static json_t *shown(const struct store__tval *v, enum store__tf_kind kind)
{
	char buf[32];

	if (v->null)
		return json_null();
	switch (kind) {
	case STORE__TEXT:
		return json_string(v->s);
	case STORE__JSON: /* not reached: the caller compares the given value */
		return json_loads(v->s, JSON_DECODE_ANY, NULL);
	case STORE__TIME:
		fl_time_rfc3339(buf, v->i);
		return json_string(buf);
	case STORE__REAL:
		return json_real(v->d);
	case STORE__BOOL:
		return json_boolean(v->i);
	}
	return json_null();
}

static int upd_value(struct store *st, int f, const json_t *val, struct store__tval *v)
{
	const char *name = store__tf_fields[f].name;

	v->set = true;
	v->null = json_is_null(val);
	switch (store__tf_fields[f].kind) {
	case STORE__TEXT:
		if (v->null) {
			if (f == STORE__TF_STATUS || f == STORE__TF_SUBJECT)
				return store__fail(st, STORE_EINVAL, "field '%s' cannot be null", name);
			return STORE_OK;
		}
		if (!json_is_string(val))
			return store__fail(st, STORE_EINVAL, "field '%s' must be a string", name);
		v->s = json_string_value(val);
		if (f == STORE__TF_STATUS && !store__valid_status(v->s))
			return store__fail(st, STORE_EINVAL, "invalid status '%s'", v->s);
		if (f == STORE__TF_PRIORITY && fl_word_index(fl_priorities, v->s) < 0)
			return store__fail(st, STORE_EINVAL, "invalid priority '%s'", v->s);
		if (f == STORE__TF_LANGUAGE && !language_tag(v->s))
			return store__fail(st, STORE_EINVAL, "invalid language '%.32s'", v->s);
		return STORE_OK;
	case STORE__JSON:
		if (v->null || (f == STORE__TF_TRACE ? !json_is_array(val) : !json_is_object(val)))
			return store__fail(st, STORE_EINVAL, "field '%s' must be a JSON %s", name,
					   f == STORE__TF_TRACE ? "array" : "object");
		v->s = v->owned = fl_json_dumps(val);
		return STORE_OK;
	case STORE__TIME:
		if (!v->null && (!json_is_string(val) || fl_time_parse(json_string_value(val), &v->i)))
			return store__fail(st, STORE_EINVAL, "field '%s' must be an RFC 3339 time or null",
					   name);
		return STORE_OK;
	case STORE__REAL:
		if (v->null)
			return STORE_OK;
		if (!json_is_number(val) || !(json_number_value(val) >= 0 && json_number_value(val) <= 1))
			return store__fail(st, STORE_EINVAL, "field '%s' must be a number from 0 to 1 or null",
					   name);
		v->d = json_number_value(val);
		return STORE_OK;
	case STORE__BOOL:
		if (!json_is_boolean(val))
			return store__fail(st, STORE_EINVAL, "field '%s' must be true or false", name);
		v->i = json_is_true(val);
		return STORE_OK;
	}
	return STORE_OK;
}

int store__ticket_upd_parse(struct store *st, const json_t *cur, const json_t *fields,
			    struct store__ticket_upd *upd)
{
	const char *key;
	json_t *val;
	int rc;

	memset(upd, 0, sizeof(*upd));
	upd->changed = json_array();
	if (!json_is_object(fields))
		return store__fail(st, STORE_EINVAL, "ticket fields must be a JSON object");
	json_object_foreach((json_t *)fields, key, val) {
		int f = tf_index(key);
		json_t *now;

		if (f < 0)
			return store__fail(st, STORE_EINVAL, "unknown or read-only ticket field '%s'", key);
		if ((rc = upd_value(st, f, val, &upd->v[f])))
			return rc;
		/* a JSON field compares as given: no decode of what was just encoded */
		now = store__tf_fields[f].kind == STORE__JSON && !upd->v[f].null
			? json_incref(val) : shown(&upd->v[f], store__tf_fields[f].kind);
		if (!json_equal(now, json_object_get(cur, key)) &&
		    !(json_is_null(now) && !json_object_get(cur, key)))
			json_array_append_new(upd->changed, json_string(key));
		json_decref(now);
	}
	if (upd->v[STORE__TF_STATUS].set &&
	    !fl_str_eq(upd->v[STORE__TF_STATUS].s, fl_json_str(cur, "status", NULL)))
		upd->status_change = json_pack("{s:s?, s:s}", "from", fl_json_str(cur, "status", NULL),
					       "to", upd->v[STORE__TF_STATUS].s);
	return STORE_OK;
}

json_t *store__ticket_updated(const json_t *cur, const json_t *fields,
			      const struct store__ticket_upd *upd, int64_t now)
{
	json_t *t = json_copy((json_t *)cur), *val;
	const char *key;
	char buf[32];
	int f;

	json_object_foreach((json_t *)fields, key, val) {
		if ((f = tf_index(key)) < 0 || !upd->v[f].set)
			continue;
		/* JSON fields are shared with the caller's (store.h says so): an analysis is ~15 KB */
		json_object_set_new(t, key, store__tf_fields[f].kind == STORE__JSON
				    ? json_incref(val) : shown(&upd->v[f], store__tf_fields[f].kind));
	}
	json_object_set_new(t, "version", json_integer(fl_json_int(cur, "version", 0) + 1));
	fl_time_rfc3339(buf, now);
	json_object_set_new(t, "updated_at", json_string(buf));
	return t;
}

void store__ticket_upd_release(struct store__ticket_upd *upd)
{
	int i;

	for (i = 0; i < STORE__TF_COUNT; i++)
		free(upd->v[i].owned);
	json_decref(upd->changed);
	json_decref(upd->status_change);
	memset(upd, 0, sizeof(*upd));
}

/* ---- customers, KB articles, messages ---- */

/* Reads key from the given object, falling back to the current row. */
static const json_t *pick(const json_t *given, const json_t *cur, const char *key)
{
	const json_t *v = json_object_get(given, key);

	return v ? v : json_object_get(cur, key);
}

int store__customer_in_parse(struct store *st, const json_t *cur, const json_t *c,
			     struct store__customer_in *in)
{
	json_t *m = json_object();
	const char *keys[] = { "name", "email", "tier", "joined_at", "total_tickets",
			       "satisfaction_score", "metadata" };
	const json_t *tt;
	size_t i;
	int rc;

	memset(in, 0, sizeof(*in));
	in->joined_at = -1;
	in->satisfaction = -1;
	if (!json_is_object(c))
		rc = store__fail(st, STORE_EINVAL, "customer must be a JSON object");
	else if (!fl_json_str(c, "id", NULL) || !*fl_json_str(c, "id", ""))
		rc = store__fail(st, STORE_EINVAL, "field 'id' is required");
	else
		rc = STORE_OK;
	if (rc)
		goto out;
	in->id = fl_json_str(c, "id", NULL);
	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		const json_t *v = pick(c, cur, keys[i]);

		if (v)
			json_object_set(m, keys[i], (json_t *)v);
	}
	if ((rc = opt_str(st, m, "name", &in->name)) || (rc = opt_str(st, m, "email", &in->email)) ||
	    (rc = opt_word(st, m, "tier", tiers, &in->tier)) ||
	    (rc = opt_time(st, m, "joined_at", &in->joined_at)) ||
	    (rc = opt_unit(st, m, "satisfaction_score", &in->satisfaction)) ||
	    (rc = opt_obj(st, m, "metadata", &in->metadata, false)))
		goto out;
	tt = json_object_get(m, "total_tickets");
	if (tt && !json_is_null(tt) && (!json_is_integer(tt) || json_integer_value(tt) < 0)) {
		rc = store__fail(st, STORE_EINVAL, "field 'total_tickets' must be a whole number >= 0");
		goto out;
	}
	in->total_tickets = tt ? json_integer_value(tt) : 0;
	if (!in->metadata)
		in->metadata = fl_strdup("{}");
out:
	/* The strings point into c or cur (values json_object_set shared), which
	 * outlive this call; m only held extra references. */
	json_decref(m);
	return rc;
}

void store__customer_in_release(struct store__customer_in *in)
{
	free(in->metadata);
	in->metadata = NULL;
}

int store__kb_in_parse(struct store *st, const json_t *cur, const json_t *a, struct store__kb_in *in)
{
	json_t *m = json_object();
	const char *keys[] = { "title", "content", "category", "tags", "views", "helpful_votes", "language",
			       "source", "source_hash" };
	const json_t *tags;
	size_t i;
	int rc = STORE_OK;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(a) || !fl_json_str(a, "id", NULL) || !*fl_json_str(a, "id", "")) {
		rc = store__fail(st, STORE_EINVAL, "an article needs a JSON object with an 'id'");
		goto out;
	}
	in->id = fl_json_str(a, "id", NULL);
	for (i = 0; i < FL_ARRAY_SIZE(keys); i++) {
		const json_t *v = pick(a, cur, keys[i]);

		if (v)
			json_object_set(m, keys[i], (json_t *)v);
	}
	if ((rc = opt_str(st, m, "title", &in->title)) || (rc = opt_str(st, m, "content", &in->content)) ||
	    (rc = opt_str(st, m, "category", &in->category)) || (rc = opt_str(st, m, "language", &in->language)) ||
	    (rc = opt_str(st, m, "source", &in->source)) || (rc = opt_str(st, m, "source_hash", &in->source_hash)))
		goto out;
	if (!in->language)
		in->language = "en";
	if (!language_tag(in->language)) {
		rc = store__fail(st, STORE_EINVAL, "invalid language '%.32s'", in->language);
		goto out;
	}
	if (!in->title || !in->content) {
		rc = store__fail(st, STORE_EINVAL, "field '%s' is required", in->title ? "content" : "title");
		goto out;
	}
	tags = json_object_get(m, "tags");
	if (tags && !json_is_null(tags)) {
		size_t k;
		json_t *t;

		if (!json_is_array(tags)) {
			rc = store__fail(st, STORE_EINVAL, "field 'tags' must be an array of strings");
			goto out;
		}
		json_array_foreach(tags, k, t) {
			if (!json_is_string(t)) {
				rc = store__fail(st, STORE_EINVAL, "field 'tags' must be an array of strings");
				goto out;
			}
		}
	}
	in->tags = tags && !json_is_null(tags) ? fl_json_dumps(tags) : fl_strdup("[]");
	in->views = fl_json_int(m, "views", 0);
	in->helpful_votes = fl_json_int(m, "helpful_votes", 0);
	if (in->views < 0 || in->helpful_votes < 0)
		rc = store__fail(st, STORE_EINVAL, "fields 'views' and 'helpful_votes' must be >= 0");
out:
	json_decref(m);
	return rc;
}

void store__kb_in_release(struct store__kb_in *in)
{
	free(in->tags);
	in->tags = NULL;
}

int store__message_in_parse(struct store *st, const json_t *m, struct store__message_in *in)
{
	int rc;

	memset(in, 0, sizeof(*in));
	in->created_at = store__now(st);
	if (!json_is_object(m))
		return store__fail(st, STORE_EINVAL, "message must be a JSON object");
	if ((rc = opt_word(st, m, "direction", directions, &in->direction)) ||
	    (rc = opt_str(st, m, "author", &in->author)) || (rc = opt_str(st, m, "body", &in->body)) ||
	    (rc = opt_str(st, m, "email_message_id", &in->email_message_id)) ||
	    (rc = opt_str(st, m, "in_reply_to", &in->in_reply_to)) ||
	    (rc = opt_str(st, m, "effect_key", &in->effect_key)) ||
	    (rc = opt_obj(st, m, "metadata", &in->metadata, false)) ||
	    (rc = opt_time(st, m, "created_at", &in->created_at)) ||
	    (rc = opt_word(st, m, "approval", approvals, &in->approval)))
		return rc;
	if (!in->direction)
		return store__fail(st, STORE_EINVAL, "field 'direction' is required (inbound, outbound or note)");
	if (!in->body)
		return store__fail(st, STORE_EINVAL, "field 'body' is required");
	if (!in->metadata)
		in->metadata = fl_strdup("{}");
	return STORE_OK;
}

void store__message_in_release(struct store__message_in *in)
{
	free(in->metadata);
	in->metadata = NULL;
}

/* ---- users ---- */

/*
 * An email address as users are keyed: one '@' between non-empty parts,
 * no spaces or control characters, at most 254 bytes; ASCII letters in
 * lower case (so that the unique key ignores case). NULL when malformed.
 */
static char *email_key(const char *s)
{
	size_t n = strlen(s), i, at = 0, ats = 0;
	char *k;

	if (!n || n > 254)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == ';')
			return NULL;
		if (ch == '@') {
			ats++;
			at = i;
		}
	}
	if (ats != 1 || at == 0 || at == n - 1 || fl_utf8_invalid_at(s, n) >= 0)
		return NULL;
	k = fl_strdup(s);
	for (i = 0; i < n; i++)
		if (k[i] >= 'A' && k[i] <= 'Z')
			k[i] = (char)(k[i] - 'A' + 'a');
	return k;
}

/* A string field of 1 to max bytes, or null when nullable. */
static int user_text(struct store *st, const json_t *v, const char *key, size_t max, bool nullable,
		     const char **out)
{
	*out = NULL;
	if (json_is_null(v) && nullable)
		return STORE_OK;
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max)
		return store__fail(st, STORE_EINVAL, "user field '%s' must be a string of 1 to %zu bytes%s", key,
				   max, nullable ? " or null" : "");
	*out = json_string_value(v);
	return STORE_OK;
}

/* skills: {languages: [strings], categories: [strings]}; other keys are kept as given. */
static int user_skills(struct store *st, const json_t *v, char **out)
{
	static const char *const lists[] = { "languages", "categories" };
	size_t i, j;

	if (!json_is_object(v))
		return store__fail(st, STORE_EINVAL, "user field 'skills' must be an object "
				   "{languages: [...], categories: [...]}");
	for (i = 0; i < FL_ARRAY_SIZE(lists); i++) {
		const json_t *a = json_object_get(v, lists[i]), *x;

		if (!a)
			continue;
		if (!json_is_array(a))
			return store__fail(st, STORE_EINVAL, "user skills '%s' must be an array of strings", lists[i]);
		json_array_foreach(a, j, x)
			if (!json_is_string(x) || !json_string_length(x))
				return store__fail(st, STORE_EINVAL, "user skills '%s' must be an array of strings",
						   lists[i]);
	}
	free(*out);
	*out = fl_json_dumps(v);
	return STORE_OK;
}

int store__user_in_parse(struct store *st, const json_t *u, bool update, struct store__user_in *in)
{
	const char *key;
	json_t *v;
	int rc = STORE_OK;

	memset(in, 0, sizeof(*in));
	in->max_open = -1;
	if (!json_is_object(u))
		return store__fail(st, STORE_EINVAL, "a user is a JSON object");
	json_object_foreach((json_t *)u, key, v) {
		if (!strcmp(key, "email") && !update) {
			if (!json_is_string(v) || !(in->email = email_key(json_string_value(v))))
				return store__fail(st, STORE_EINVAL, "user field 'email' must be an email address");
		} else if (!strcmp(key, "name")) {
			rc = user_text(st, v, key, 200, false, &in->name);
			in->has_name = true;
		} else if (!strcmp(key, "role")) {
			if (!json_is_string(v) || fl_word_index(fl_user_roles, json_string_value(v)) < 0)
				return store__fail(st, STORE_EINVAL, "user field 'role' must be agent or admin");
			in->role = json_string_value(v);
			in->has_role = true;
		} else if (!strcmp(key, "department")) {
			rc = user_text(st, v, key, 200, true, &in->department);
			in->has_department = true;
		} else if (!strcmp(key, "skills")) {
			rc = user_skills(st, v, &in->skills);
			in->has_skills = true;
		} else if (!strcmp(key, "availability")) {
			if (!json_is_string(v) || (!fl_str_eq(json_string_value(v), "available") &&
			    !fl_str_eq(json_string_value(v), "away") && !fl_str_eq(json_string_value(v), "offline")))
				return store__fail(st, STORE_EINVAL,
						   "user field 'availability' must be available, away or offline");
			in->availability = json_string_value(v);
			in->has_availability = true;
		} else if (!strcmp(key, "max_open")) {
			if (!json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0 ||
						 json_integer_value(v) > 100000))
				return store__fail(st, STORE_EINVAL,
						   "user field 'max_open' must be an integer of 0 to 100000 or null");
			in->max_open = json_is_null(v) ? -1 : (int64_t)json_integer_value(v);
			in->has_max_open = true;
		} else if (!strcmp(key, "disabled") && update) {
			if (!json_is_boolean(v))
				return store__fail(st, STORE_EINVAL, "user field 'disabled' must be true or false");
			in->disabled = json_is_true(v);
			in->has_disabled = true;
		} else {
			return store__fail(st, STORE_EINVAL, "unknown or read-only user field '%s'", key);
		}
		if (rc)
			return rc;
	}
	if (!update && (!in->email || !in->name || !in->role))
		return store__fail(st, STORE_EINVAL, "user field '%s' is required",
				   !in->email ? "email" : !in->name ? "name" : "role");
	if (!update && !in->skills)
		in->skills = fl_strdup("{}");
	return STORE_OK;
}

void store__user_in_release(struct store__user_in *in)
{
	free(in->email);
	free(in->skills);
	memset(in, 0, sizeof(*in));
}
