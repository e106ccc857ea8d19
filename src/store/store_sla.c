/*
 * The front of the store for SLA calendars and policies (issue 18): the
 * wrappers (STORE__WRAP, store_int.h) that check the kind, the id and the
 * body before the one call of the op. What a body must hold is the SLA
 * module's and the server's business (src/sla, src/server/routes_sla.c);
 * here a body is any JSON object, stored without the fields the store
 * itself sets (id, position, version, updated_by, updated_at).
 */
#include <assert.h>
#include <string.h>

#include "wrap.h"

static int sla_kind(struct store *st, const char *kind)
{
	if (kind && (!strcmp(kind, "calendar") || !strcmp(kind, "policy")))
		return STORE_OK;
	return store__fail(st, STORE_EINVAL, "an SLA object's kind is 'calendar' or 'policy'");
}

static int sla_id(struct store *st, const char *id)
{
	size_t i, n = id ? strlen(id) : 0;

	if (!n || n > 64)
		return store__fail(st, STORE_EINVAL, "an SLA id is 1 to 64 characters");
	for (i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return store__fail(st, STORE_EINVAL, "an SLA id has letters, digits, '-', '_' and '.' only");
	}
	return STORE_OK;
}

static int sla_body(struct store *st, const json_t *body)
{
	return json_is_object(body) ? STORE_OK : store__fail(st, STORE_EINVAL, "an SLA body is a JSON object");
}

int store_sla_list(struct store *st, const char *kind, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_sla_list, RD, sla_kind(st, kind), sla_list(st, kind, out));
}

int store_sla_put(struct store *st, const char *kind, const char *id, const json_t *body, int64_t position,
		  const char *actor, json_t **out, bool *created)
{
	static const char *const own[] = { "id", "position", "version", "updated_by", "updated_at" };
	json_t *copy = json_is_object(body) ? json_copy((json_t *)body) : NULL;
	size_t i;
	int rc_;

	OUT_NULL(out);
	if (created)
		*created = false;
	for (i = 0; copy && i < sizeof(own) / sizeof(own[0]); i++)
		json_object_del(copy, own[i]);
	rc_ = store__enter(st, "store_sla_put", WR);
	if (rc_ == STORE_OK)
		rc_ = OR(sla_kind(st, kind), OR(sla_id(st, id), sla_body(st, copy)));
	if (rc_ == STORE_OK)
		rc_ = st->ops->sla_put(st, kind, id, copy, position, actor, out, created);
	json_decref(copy);
	return store__leave(st, "store_sla_put", rc_);
}

int store_sla_delete(struct store *st, const char *kind, const char *id)
{
	WRAP(store_sla_delete, WR, OR(sla_kind(st, kind), sla_id(st, id)), sla_delete(st, kind, id));
}

int store_sla_history(struct store *st, const char *kind, const char *id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_sla_history, RD, OR(sla_kind(st, kind), sla_id(st, id)), sla_history(st, kind, id, out));
}

int store_sla_window(struct store *st, int64_t since_us, int64_t until_us, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_sla_window, RD,
	     limit >= 1 && until_us >= since_us ? STORE_OK
	     : store__fail(st, STORE_EINVAL, "an SLA window needs since <= until and a limit of at least 1"),
	     sla_window(st, since_us, until_us, limit, out));
}

int store_sla_facts(struct store *st, const json_t *tickets, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_sla_facts, RD,
	     json_is_array(tickets) ? STORE_OK : store__fail(st, STORE_EINVAL, "the SLA facts need an array of tickets"),
	     sla_facts(st, tickets, out));
}
