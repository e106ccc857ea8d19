/*
 * The front of the store, continued: the wrappers of the assignment's
 * verbs (departments, assigning a ticket, giving an agent the queue), one
 * STORE__WRAP each as in store.c. The work is in departments.c.
 */
#include <assert.h>
#include <string.h>

#include "wrap.h"

/* A department's id: 1 to 64 letters, digits, '-', '_' or '.'. */
static int department_id(struct store *st, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (!n || n > 64 || strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n)
		return store__fail(st, STORE_EINVAL, "a department's id is 1 to 64 letters, digits, '-', '_' or '.'");
	return STORE_OK;
}

static int non_negative(struct store *st, int64_t v, const char *what)
{
	return v >= 0 ? STORE_OK : store__fail(st, STORE_EINVAL, "%s must not be negative", what);
}

int store_department_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_department_list, RD, STORE_OK, department_list(st, out));
}

int store_department_get(struct store *st, const char *id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_department_get, RD, department_id(st, id), department_get(st, id, out));
}

int store_department_put(struct store *st, const char *id, const json_t *body, const char *actor, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_department_put, WR,
	     OR(department_id(st, id), json_is_object(body) ? STORE_OK
				       : store__fail(st, STORE_EINVAL, "a department is a JSON object")),
	     department_put(st, id, body, actor, out));
}

int store_ticket_assign(struct store *st, const char *ticket_id, int idle_s, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_ticket_assign, WR, OR(need(st, ticket_id, "a ticket id"), non_negative(st, idle_s, "idle_s")),
	     ticket_assign(st, ticket_id, idle_s, out));
}

int store_assign_queued(struct store *st, int64_t user_id, int idle_s, int limit, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_assign_queued, WR,
	     OR(non_negative(st, idle_s, "idle_s"),
		limit > 0 ? STORE_OK : store__fail(st, STORE_EINVAL, "limit must be positive")),
	     assign_queued(st, user_id, idle_s, limit, out));
}
