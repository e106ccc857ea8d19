/*
 * SLA calendars and policies for both SQL backends (dialect.h): one table
 * of current objects by kind ("calendar", "policy") and id, with the
 * position policies are tried in, and one of every version written (a
 * deletion is a version with no body). The bodies are the JSON the admin
 * API accepted (checked by src/sla and the server, not here), stored as
 * compact text so both dialects read them back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

#define SLA_SELECT "SELECT " STORE__SLA_COLS " FROM sla_objects s"

int store__sql_sla_list(struct store *st, const char *kind, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__sla_object_json, out,
			       SLA_SELECT " WHERE s.kind = ? ORDER BY s.position, s.id", "t", kind);
}

int store__sql_sla_put(struct store *st, const char *kind, const char *id, const json_t *body, int64_t position,
		       const char *actor, json_t **out, bool *created)
{
	struct store__sql *c = STORE__SQL(st);
	char *text = fl_json_dumps(body);
	int64_t version = 0, now = store__now(st);
	json_t *row = NULL;
	int rc;

	if (!text)
		return store__fail(st, STORE_EINTERNAL, "cannot encode the %s", kind);
	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	/* the next version counts deletions too: ids reused keep one history */
	rc = store__sql_int(c, &version, "SELECT COALESCE(MAX(version), 0) FROM sla_versions WHERE kind = ? AND id = ?",
			    "tt", kind, id);
	if (!rc && position < 0) {
		rc = store__sql_int(c, &position, "SELECT position FROM sla_objects WHERE kind = ? AND id = ?",
				    "tt", kind, id);
		if (rc == STORE_ENOTFOUND)
			rc = store__sql_int(c, &position, "SELECT COALESCE(MAX(position), 0) + 1 FROM sla_objects"
					    " WHERE kind = ?", "t", kind);
	}
	if (!rc && created) {
		int64_t n = 0;

		rc = store__sql_int(c, &n, "SELECT count(*) FROM sla_objects WHERE kind = ? AND id = ?", "tt", kind, id);
		*created = n == 0;
	}
	version++;
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO sla_objects (kind, id, position, body, version, updated_by,"
				     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET"
				     " position = excluded.position, body = excluded.body, version = excluded.version,"
				     " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
				     "ttititi", kind, id, position, text, version, actor, now);
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO sla_versions (kind, id, position, body, version, updated_by,"
				     " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", "ttititi", kind, id, position, text,
				     version, actor, now);
	if (!rc && out)
		rc = store__sql_one(c, store__sla_object_json, &row, SLA_SELECT " WHERE s.kind = ? AND s.id = ?",
				    "tt", kind, id);
	rc = store__sql_tx_end(c, rc);
	if (!rc && out) {
		*out = row;
		row = NULL;
	}
out:
	json_decref(row);
	free(text);
	return rc;
}

int store__sql_sla_delete(struct store *st, const char *kind, const char *id)
{
	struct store__sql *c = STORE__SQL(st);
	int changes = 0;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, NULL, "INSERT INTO sla_versions (kind, id, position, body, version, updated_by,"
			     " updated_at) SELECT kind, id, position, NULL, version + 1, NULL, ? FROM sla_objects"
			     " WHERE kind = ? AND id = ?", "itt", store__now(st), kind, id);
	if (!rc)
		rc = store__sql_exec(c, &changes, "DELETE FROM sla_objects WHERE kind = ? AND id = ?", "tt", kind, id);
	if (!rc && !changes)
		rc = store__fail(st, STORE_ENOTFOUND, "SLA %s '%s' not found", kind, id);
	return store__sql_tx_end(c, rc);
}

int store__sql_sla_history(struct store *st, const char *kind, const char *id, json_t **out)
{
	return store__sql_rows(STORE__SQL(st), store__sla_object_json, out,
			       "SELECT " STORE__SLA_COLS " FROM sla_versions s WHERE s.kind = ? AND s.id = ?"
			       " ORDER BY s.version", "tt", kind, id);
}
