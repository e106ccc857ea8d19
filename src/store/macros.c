/*
 * Macros, for both SQL backends (dialect.h): named sets of actions an agent
 * applies to a ticket in one step. The store keeps each as its name, a
 * description and the actions as one JSON array, which the caller has
 * checked (support_macro_check); applying them is the server's (the ticket
 * verbs' one transaction), not the store's.
 */
#include <string.h>

#include "dialect.h"

#define MACRO_SELECT "SELECT m.name, m.description, m.actions, m.updated_by, m.updated_at FROM macros m"

static json_t *macro_json(const struct store__row *r)
{
	const char *actions = r->ops->text(r, 2);
	json_t *a = actions ? json_loads(actions, 0, NULL) : NULL;
	char at[32];

	fl_time_rfc3339(at, r->ops->i64(r, 4));
	return json_pack("{s:s, s:s?, s:o, s:s?, s:s}", "name", r->ops->text(r, 0), "description",
			 r->ops->text(r, 1), "actions", json_is_array(a) ? a : (json_decref(a), json_array()),
			 "updated_by", r->ops->text(r, 3), "updated_at", at);
}

int store__sql_macro_list(struct store *st, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), macro_json, out, MACRO_SELECT " ORDER BY m.name", NULL);
}

int store__sql_macro_get(struct store *st, const char *name, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), macro_json, out, MACRO_SELECT " WHERE m.name = ?", "t", name);

	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, STORE_ENOTFOUND, "macro '%s' not found", name);
	return rc;
}

int store__sql_macro_put(struct store *st, const char *name, const char *description, const json_t *actions,
			 const char *actor, json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	char *text = fl_json_dumps(actions);
	int64_t n = 0;
	json_t *row = NULL;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = store__sql_int(c, &n, "SELECT count(*) FROM macros WHERE name = ?", "t", name);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO macros (name, description, actions, updated_by, updated_at)"
				     " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
				     " description = excluded.description, actions = excluded.actions,"
				     " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
				     "tttti", name, description, text, actor, store__now(st));
	if (!rc && out)
		rc = store__sql_one(c, macro_json, &row, MACRO_SELECT " WHERE m.name = ?", "t", name);
	rc = store__sql_tx_end(c, rc);
	if (rc)
		goto out;
	if (created)
		*created = n == 0;
	if (out) {
		*out = row;
		row = NULL;
	}
out:
	json_decref(row);
	free(text);
	return rc;
}

int store__sql_macro_delete(struct store *st, const char *name)
{
	int changes = 0;
	int rc = store__sql_exec(STORE__SQL(st), &changes, "DELETE FROM macros WHERE name = ?", "t", name);

	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "macro '%s' not found", name);
	return rc;
}
