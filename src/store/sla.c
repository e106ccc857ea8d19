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

/* ---- the attainment's tickets (issue 18) ---- */

/*
 * The fields sla_ticket_evaluate and the policy match read, without the
 * text; the customer's tier (from the customers table) as column 24.
 */
#define WINDOW_TICKET_COLS \
	"t.number, t.id, t.external_id, t.channel, t.customer_id, NULL, NULL, t.metadata, t.status, NULL, " \
	"t.category, t.priority, NULL, NULL, t.created_at, t.updated_at, t.first_response_at, t.resolved_at, " \
	"NULL, t.version, NULL, NULL, t.quarantined, t.language, c.tier"

static json_t *window_ticket_json(const struct store__row *r)
{
	json_t *t = store__ticket_json(r), *meta = json_object_get(t, "metadata");
	const char *tier = r->ops->text(r, STORE__TICKET_NCOLS);

	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(t, "metadata", meta);
	}
	if (tier && !json_object_get(meta, "customer_tier"))
		json_object_set_new(meta, "customer_tier", json_string(tier));
	return t;
}

int store__sql_sla_window(struct store *st, int64_t since_us, int64_t until_us, int limit, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	json_t *tickets = NULL, *events = NULL;
	bool truncated = false;
	int64_t last = INT64_MAX;
	int rc;

	rc = store__sql_read_begin(c);
	if (rc)
		return rc;
	rc = store__sql_rows(c, window_ticket_json, &tickets,
			     "SELECT " WINDOW_TICKET_COLS " FROM tickets t LEFT JOIN customers c ON c.id = t.customer_id"
			     " WHERE t.created_at >= ? AND t.created_at < ? ORDER BY t.number LIMIT ?", "iii",
			     since_us, until_us, (int64_t)limit + 1);
	if (!rc && json_array_size(tickets) > (size_t)limit) {
		truncated = true;
		json_array_remove(tickets, (size_t)limit);
	}
	if (!rc && json_array_size(tickets))
		last = fl_json_int(json_array_get(tickets, json_array_size(tickets) - 1), "number", 0);
	if (!rc)
		rc = store__sql_rows(c, store__event_json, &events,
				     "SELECT " STORE__EVENT_COLS " FROM events v JOIN tickets t ON t.number = v.ticket_number"
				     " WHERE t.created_at >= ? AND t.created_at < ? AND t.number <= ?"
				     " AND v.type IN ('" FL_EVENT_TICKET_STATUS "', '" FL_EVENT_TICKET_REPLIED "', '"
				     FL_EVENT_TICKET_CUSTOMER_REPLIED "') ORDER BY v.ticket_number, v.id", "iii",
				     since_us, until_us, last);
	rc = store__sql_read_end(c, rc);
	if (!rc)
		*out = json_pack("{s:o, s:o, s:b}", "tickets", tickets, "events", events, "truncated", truncated);
	else {
		json_decref(tickets);
		json_decref(events);
	}
	return rc;
}

/* ---- a page's clocks: the events and tiers of given tickets (issue 18) ---- */

/* Keys per statement: a short chunk repeats its first key (IN ignores it). */
#define FACTS_CHUNK 32
#define IN_CHUNK "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

static json_t *tier_row(const struct store__row *r)
{
	const char *id = r->ops->text(r, 0), *tier = r->ops->text(r, 1);

	return json_pack("[s, s?]", id ? id : "", tier);
}

/* Runs sql (FACTS_CHUNK parameters) once per chunk of the n keys, appending decode(row) to arr. */
static int chunked(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t *arr,
		   const char *sql, const struct store__val *keys, size_t n)
{
	struct store__val v[FACTS_CHUNK];
	size_t i, k;
	int rc = STORE_OK;

	for (i = 0; !rc && i < n; i += FACTS_CHUNK) {
		struct store__cur cur;

		for (k = 0; k < FACTS_CHUNK; k++)
			v[k] = keys[i + k < n ? i + k : i];
		rc = store__sql_query_vals(c, &cur, sql, v, FACTS_CHUNK);
		if (rc)
			break;
		while ((rc = store__sql_step(c, &cur)) > 0)
			json_array_append_new(arr, decode(&cur.row));
		store__sql_done(c, &cur);
		rc = rc < 0 ? -rc : STORE_OK;
	}
	return rc;
}

int store__sql_sla_facts(struct store *st, const json_t *tickets, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	size_t n = json_array_size(tickets), i, ncust = 0;
	struct store__val *nums = fl_calloc(n + 1, sizeof(*nums)), *custs = fl_calloc(n + 1, sizeof(*custs));
	json_t *events = json_array(), *pairs = json_array(), *tiers = json_object(), *p;
	int rc;

	for (i = 0; i < n; i++) {
		const json_t *t = json_array_get(tickets, i);

		nums[i].kind = 'i';
		nums[i].i = fl_json_int(t, "number", 0);
		if (fl_json_str(t, "customer_id", NULL)) {
			custs[ncust].kind = 't';
			custs[ncust++].s = fl_json_str(t, "customer_id", NULL);
		}
	}
	rc = store__sql_read_begin(c);
	if (!rc)
		rc = chunked(c, store__event_json, events,
			     "SELECT " STORE__EVENT_COLS " FROM events v JOIN tickets t ON t.number = v.ticket_number"
			     " WHERE v.ticket_number IN (" IN_CHUNK ") AND v.type IN ('" FL_EVENT_TICKET_STATUS "', '"
			     FL_EVENT_TICKET_REPLIED "', '" FL_EVENT_TICKET_CUSTOMER_REPLIED "')"
			     " ORDER BY v.ticket_number, v.id", nums, n);
	if (!rc)
		rc = chunked(c, tier_row, pairs, "SELECT c.id, c.tier FROM customers c WHERE c.id IN (" IN_CHUNK ")",
			     custs, ncust);
	rc = store__sql_read_end(c, rc);
	/* a customer without a tier: "" (known, none), so the caller asks no more */
	json_array_foreach(pairs, i, p) {
		json_t *tier = json_array_get(p, 1);

		json_object_set_new(tiers, json_string_value(json_array_get(p, 0)),
				    json_is_string(tier) ? json_incref(tier) : json_string(""));
	}
	if (!rc) {
		*out = json_pack("{s:o, s:o}", "events", events, "tiers", tiers);
	} else {
		json_decref(events);
		json_decref(tiers);
	}
	json_decref(pairs);
	free(nums);
	free(custs);
	return rc;
}
