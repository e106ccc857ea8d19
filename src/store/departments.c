/*
 * Departments and assignment, for both SQL backends (dialect.h): a
 * department's assignment mode ("off", "round_robin", "load"), its default
 * maximum of open tickets per agent and its round-robin cursor; and the
 * assignment itself, which reads the candidates and their open tickets,
 * asks src/assign whom to pick, and sets the assignee with a
 * "ticket.assigned" event (reason "load", "round_robin", "queued: nobody
 * available", "agent available"), all in one write transaction.
 *
 * Several replicas: the transaction first takes the department's row (made
 * with the defaults when missing) FOR UPDATE on PostgreSQL, so two
 * assignments in one department run one after the other and each sees the
 * other's open counts; on SQLite the write transaction holds the one write
 * lock. An agent counts as available when the availability chosen is
 * "available" and the console was in use within idle_s (last_seen_at,
 * written by session use): idle agents are away, computed, no sweep.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "assign/assign.h"

#define DEPARTMENT_COLS "d.id, d.assignment, d.max_open_per_agent, d.updated_by, d.updated_at"
/* A ticket is open unless resolved, closed or spam (written as comparisons: see migration 6). */
#define OPEN_TICKET "t.status <> 'resolved' AND t.status <> 'closed' AND t.status <> 'spam'"
#define AGENT_COLS \
	"u.id, u.email, u.department, u.skills, u.availability, u.last_seen_at, u.max_open, " \
	"u.last_assigned_at, (SELECT count(*) FROM tickets t WHERE t.assignee = u.email AND " OPEN_TICKET ")"

static json_t *department_json(const struct store__row *r)
{
	json_t *d = json_object();
	char at[32];

	json_object_set_new(d, "id", json_string(r->ops->text(r, 0)));
	json_object_set_new(d, "assignment", json_string(r->ops->text(r, 1)));
	json_object_set_new(d, "max_open_per_agent",
			    r->ops->is_null(r, 2) ? json_null() : json_integer(r->ops->i64(r, 2)));
	json_object_set_new(d, "updated_by", r->ops->is_null(r, 3) ? json_null() : json_string(r->ops->text(r, 3)));
	if (r->ops->is_null(r, 4)) {
		json_object_set_new(d, "updated_at", json_null());
	} else {
		fl_time_rfc3339(at, r->ops->i64(r, 4));
		json_object_set_new(d, "updated_at", json_string(at));
	}
	return d;
}

int store__sql_department_list(struct store *st, json_t **out)
{
	/* the stored ones, and the departments agents have that nobody configured (the defaults) */
	return store__sql_rows(STORE__SQL(st), department_json, out,
			       "SELECT " DEPARTMENT_COLS " FROM departments d UNION ALL"
			       " SELECT DISTINCT u.department, 'load', NULL::bigint, NULL::text, NULL::bigint FROM users u"
			       " WHERE u.department IS NOT NULL AND NOT EXISTS"
			       " (SELECT 1 FROM departments x WHERE x.id = u.department) ORDER BY 1", NULL);
}

int store__sql_department_get(struct store *st, const char *id, json_t **out)
{
	int rc = store__sql_one(STORE__SQL(st), department_json, out,
				"SELECT " DEPARTMENT_COLS " FROM departments d WHERE d.id = ?", "t", id);

	if (rc == STORE_ENOTFOUND) {
		/* not configured: the defaults */
		*out = json_pack("{s:s, s:s, s:n, s:n, s:n}", "id", id, "assignment", "load", "max_open_per_agent",
				 "updated_by", "updated_at");
		rc = STORE_OK;
	}
	return rc;
}

int store__sql_department_put(struct store *st, const char *id, const json_t *body, const char *actor,
			      json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	const json_t *mode = json_object_get(body, "assignment"), *max = json_object_get(body, "max_open_per_agent");
	const char *key;
	json_t *v, *d = NULL;
	int rc;

	json_object_foreach((json_t *)body, key, v)
		if (strcmp(key, "assignment") && strcmp(key, "max_open_per_agent"))
			return store__fail(st, STORE_EINVAL, "unknown department field '%s'", key);
	if (mode && (!json_is_string(mode) || assign_mode_parse(json_string_value(mode)) < 0))
		return store__fail(st, STORE_EINVAL, "department field 'assignment' must be off, round_robin or load");
	if (max && !json_is_null(max) &&
	    (!json_is_integer(max) || json_integer_value(max) < 0 || json_integer_value(max) > 100000))
		return store__fail(st, STORE_EINVAL,
				   "department field 'max_open_per_agent' must be an integer of 0 to 100000 or null");
	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_exec(c, NULL, "INSERT INTO departments (id) VALUES (?) ON CONFLICT DO NOTHING", "t", id);
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE departments SET"
				     " assignment = CASE WHEN ?1::boolean THEN ?2::text ELSE assignment END,"
				     " max_open_per_agent = CASE WHEN ?3::boolean THEN ?4::bigint ELSE max_open_per_agent END,"
				     " updated_by = ?5, updated_at = ?6 WHERE id = ?7", "btbjtit", mode != NULL,
				     json_string_value(mode), max != NULL,
				     (int64_t)(max && json_is_integer(max) ? json_integer_value(max) : -1), actor,
				     store__now(st), id);
	if (!rc && out)
		rc = store__sql_one(c, department_json, &d, "SELECT " DEPARTMENT_COLS " FROM departments d"
				    " WHERE d.id = ?", "t", id);
	rc = store__sql_tx_end(c, rc);
	if (!rc && out)
		*out = d;
	else
		json_decref(d);
	return rc;
}

/* ---- the assignment ---- */

/* The candidates of one decision: the agents and what their strings borrow from. */
struct roster {
	struct assign_agent *a;
	char **email;
	json_t **skills;            /* owned; a's languages and categories point into them */
	const char **lists;         /* one block of pointers for every agent's lists */
	size_t n;
};

static void roster_release(struct roster *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->email[i]);
		free((char *)r->a[i].department);
		json_decref(r->skills[i]);
	}
	free(r->a);
	free(r->email);
	free(r->skills);
	free(r->lists);
	memset(r, 0, sizeof(*r));
}

/* The strings of skills[name] into *list (borrowed), their count returned. */
static size_t skill_list(const json_t *skills, const char *name, const char **list)
{
	const json_t *a = json_object_get(skills, name), *x;
	size_t i, n = 0;

	json_array_foreach(a, i, x)
		if (json_is_string(x))
			list[n++] = json_string_value(x);
	return n;
}

/*
 * Reads the available agents of department (ASCII case-insensitive), or
 * the one agent user_id (> 0) whatever its availability, with their open
 * tickets, into r; an agent counts available only when chosen so and
 * active after active_after.
 */
static int roster_read(struct store__sql *c, const char *department, int64_t user_id, int64_t active_after,
		       struct roster *r)
{
	struct store__cur cur;
	size_t cap = 0, nlists = 0, used = 0, i;
	int rc, s;

	memset(r, 0, sizeof(*r));
	rc = user_id > 0 ? store__sql_query(c, &cur, "SELECT " AGENT_COLS " FROM users u WHERE u.id = ?"
					    " AND NOT u.disabled", "i", user_id)
			 : store__sql_query(c, &cur, "SELECT " AGENT_COLS " FROM users u WHERE"
					    " lower(u.department) = lower(?) AND NOT u.disabled"
					    /* only those who can take a ticket: the others' skills and counts cost */
					    " AND u.availability = 'available' AND u.last_seen_at > ?", "ti", department,
					    active_after);
	if (rc)
		return rc;
	while ((s = store__sql_step(c, &cur)) > 0) {
		const struct store__row *row = &cur.row;
		struct assign_agent *a;
		const char *avail = row->ops->text(row, 4);
		const char *text = row->ops->text(row, 3);
		/* most agents list no skills: no parse for them */
		json_t *skills = !text || !strcmp(text, "{}") ? json_object() : json_loads(text, 0, NULL);

		if (r->n == cap) {
			cap = cap ? 2 * cap : 16;
			r->a = fl_realloc(r->a, cap * sizeof(*r->a));
			r->email = fl_realloc(r->email, cap * sizeof(*r->email));
			r->skills = fl_realloc(r->skills, cap * sizeof(*r->skills));
		}
		a = &r->a[r->n];
		memset(a, 0, sizeof(*a));
		a->id = row->ops->i64(row, 0);
		r->email[r->n] = fl_strdup(row->ops->text(row, 1));
		a->department = row->ops->text(row, 2) ? fl_strdup(row->ops->text(row, 2)) : NULL;
		r->skills[r->n] = skills;
		a->availability = fl_str_eq(avail, "available") ? (row->ops->i64(row, 5) > active_after
								   ? ASSIGN_AVAILABLE : ASSIGN_AWAY)
			: fl_str_eq(avail, "away") ? ASSIGN_AWAY : ASSIGN_OFFLINE;
		a->max_open = row->ops->is_null(row, 6) ? ASSIGN_DEPARTMENT_MAX : (int)row->ops->i64(row, 6);
		a->last_assigned = row->ops->i64(row, 7);
		a->open = (int)row->ops->i64(row, 8);
		nlists += json_array_size(json_object_get(skills, "languages")) +
			  json_array_size(json_object_get(skills, "categories"));
		r->n++;
	}
	store__sql_done(c, &cur);
	if (s < 0)
		return -s;
	/* the lists last, in one block (the agents array no longer moves) */
	r->lists = fl_malloc((nlists ? nlists : 1) * sizeof(*r->lists));
	for (i = 0; i < r->n; i++) {
		r->a[i].languages = r->lists + used;
		used += r->a[i].n_languages = skill_list(r->skills[i], "languages", r->lists + used);
		r->a[i].categories = r->lists + used;
		used += r->a[i].n_categories = skill_list(r->skills[i], "categories", r->lists + used);
	}
	return STORE_OK;
}

/* Takes the department's row (made with the defaults when missing): FOR UPDATE on PostgreSQL. */
static int department_lock(struct store__sql *c, const char *id, struct assign_department *d)
{
	struct store__cur cur;
	int rc, s;

	rc = store__sql_exec(c, NULL, "INSERT INTO departments (id) VALUES (?) ON CONFLICT DO NOTHING", "t", id);
	if (!rc)
		rc = store__sql_query(c, &cur, "SELECT assignment, max_open_per_agent, rr_cursor FROM departments"
				      " WHERE id = ? FOR UPDATE", "t", id);
	if (rc)
		return rc;
	s = store__sql_step(c, &cur);
	if (s > 0) {
		int m = assign_mode_parse(cur.row.ops->text(&cur.row, 0));

		d->mode = m < 0 ? ASSIGN_OFF : (enum assign_mode)m;
		d->max_open_per_agent = cur.row.ops->is_null(&cur.row, 1) ? ASSIGN_NO_LIMIT
									  : (int)cur.row.ops->i64(&cur.row, 1);
		d->cursor = cur.row.ops->i64(&cur.row, 2);
	}
	store__sql_done(c, &cur);
	return s < 0 ? -s : s == 0 ? store__fail(&c->base, STORE_ENOTFOUND, "department '%s' vanished", id)
				 : STORE_OK;
}

/* Appends ticket number's "ticket.assigned" event; takes data. */
static int assign_event(struct store__sql *c, int64_t number, json_t *data, int64_t now)
{
	char *text = fl_json_dumps(data);
	int rc = store__sql_exec(c, NULL, STORE__SQL_EVENT_INSERT, "jttti", number, FL_EVENT_TICKET_ASSIGNED,
				 "assignment", text, now);

	free(text);
	json_decref(data);
	return rc;
}

/* Sets ticket number's assignee (still unassigned) and records it; *changed whether it was. */
static int assign_write(struct store__sql *c, int64_t number, const char *email, int64_t user_id,
			const char *reason, int64_t now, bool *changed)
{
	int64_t version = 0;
	int rc;

	*changed = false;
	rc = store__sql_int(c, &version, "UPDATE tickets SET assignee = ?, version = version + 1, updated_at = ?"
			    " WHERE number = ? AND assignee IS NULL RETURNING version", "tii", email, now, number);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;    /* someone took it meanwhile */
	if (!rc)
		rc = store__sql_exec(c, NULL, "UPDATE users SET last_assigned_at = ? WHERE id = ?", "ii", now,
				     user_id);
	if (rc)
		return rc;
	rc = assign_event(c, number, json_pack("{s:s, s:s, s:I}", "assignee", email, "reason", reason, "version",
					       (json_int_t)version), now);
	*changed = !rc;
	return rc;
}

static json_t *ticket_bits_json(const struct store__row *r)
{
	return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s, s:s}", "number", (json_int_t)r->ops->i64(r, 0),
			 "department", r->ops->text(r, 1), "language", r->ops->text(r, 2), "category",
			 r->ops->text(r, 3), "assignee", r->ops->text(r, 4), "status", r->ops->text(r, 5), "id",
			 r->ops->text(r, 6));
}

int store__sql_ticket_assign(struct store *st, const char *ticket_id, int idle_s, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct assign_department d = { ASSIGN_OFF, ASSIGN_NO_LIMIT, 0 };
	struct roster r = { 0 };
	enum assign_reason why = ASSIGN_NO_DEPARTMENT;
	int64_t number, now = store__now(st);
	json_t *t = NULL, *res = NULL;
	const char *dept, *status, *reason;
	bool changed = false;
	long k = -1;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	rc = store__sql_ticket_number(c, ticket_id, &number);
	if (!rc)
		rc = store__sql_one(c, ticket_bits_json, &t, "SELECT t.number, t.assigned_department, t.language,"
				    " t.category, t.assignee, t.status, t.id FROM tickets t WHERE t.number = ?", "i", number);
	if (rc == STORE_ENOTFOUND)
		rc = store__fail(st, rc, "ticket '%s' not found", ticket_id);
	if (rc)
		goto end;
	dept = fl_json_str(t, "department", NULL);
	status = fl_json_str(t, "status", "");
	if (fl_json_str(t, "assignee", NULL)) {
		res = json_pack("{s:b, s:s, s:s}", "assigned", 0, "assignee", fl_json_str(t, "assignee", ""), "reason",
				"assigned already");
		goto end;
	}
	if (!strcmp(status, FL_STATUS_RESOLVED) || !strcmp(status, FL_STATUS_CLOSED) ||
	    !strcmp(status, FL_STATUS_SPAM)) {
		res = json_pack("{s:b, s:n, s:s}", "assigned", 0, "assignee", "reason", "not open");
		goto end;
	}
	if (dept) {
		rc = department_lock(c, dept, &d);
		if (!rc && d.mode != ASSIGN_OFF)
			rc = roster_read(c, dept, 0, now - (int64_t)idle_s * 1000000, &r);
		if (rc)
			goto end;
		{
			struct assign_ticket at = { dept, fl_json_str(t, "language", NULL),
						    fl_json_str(t, "category", NULL) };

			k = assign_pick(&at, &d, r.a, r.n, &why);
		}
	}
	reason = assign_reason_name(why);
	if (k >= 0) {
		rc = assign_write(c, number, r.email[k], r.a[k].id, reason, now, &changed);
		if (!rc && changed && d.mode == ASSIGN_ROUND_ROBIN)
			rc = store__sql_exec(c, NULL, "UPDATE departments SET rr_cursor = ? WHERE id = ?", "it",
					     r.a[k].id, dept);
	} else if (why == ASSIGN_NOBODY_AVAILABLE) {
		/* in the department's queue: said in the ticket's history */
		rc = assign_event(c, number, json_pack("{s:n, s:s, s:s}", "assignee", "reason", reason, "department",
						       dept), now);
	}
	if (!rc)
		res = json_pack("{s:b, s:s?, s:s, s:s?}", "assigned", changed, "assignee", changed ? r.email[k] : NULL,
				"reason", changed || k < 0 ? reason : "assigned already", "department", dept);
end:
	rc = store__sql_tx_end(c, rc);
	roster_release(&r);
	json_decref(t);
	if (!rc && out)
		*out = res;
	else
		json_decref(res);
	return rc;
}

int store__sql_assign_queued(struct store *st, int64_t user_id, int idle_s, int limit, json_t **out)
{
	struct store__sql *c = STORE__SQL(st);
	struct assign_department d = { ASSIGN_OFF, ASSIGN_NO_LIMIT, 0 };
	struct roster r = { 0 };
	int64_t now = store__now(st);
	json_t *queued = NULL, *done = json_array(), *q;
	const char *dept;
	size_t i;
	int rc;

	rc = store__sql_tx_begin(c, true);
	if (rc)
		goto out;
	rc = roster_read(c, NULL, user_id, now - (int64_t)idle_s * 1000000, &r);
	if (rc || r.n != 1 || !(dept = r.a[0].department) || r.a[0].availability != ASSIGN_AVAILABLE)
		goto end;
	rc = department_lock(c, dept, &d);
	if (rc || d.mode == ASSIGN_OFF)
		goto end;
	/* the department's queue, oldest first */
	rc = store__sql_rows(c, ticket_bits_json, &queued, "SELECT t.number, t.assigned_department, t.language,"
			     " t.category, t.assignee, t.status, t.id FROM tickets t WHERE t.status = 'escalated'"
			     " AND t.assignee IS NULL AND lower(t.assigned_department) = lower(?)"
			     " ORDER BY t.number LIMIT ?", "ti", dept, (int64_t)limit);
	json_array_foreach(queued, i, q) {
		struct assign_ticket at = { fl_json_str(q, "department", NULL), fl_json_str(q, "language", NULL),
					    fl_json_str(q, "category", NULL) };
		int64_t number = fl_json_int(q, "number", 0);
		bool changed = false;

		if (rc)
			break;
		if (!assign_eligible(&at, &d, &r.a[0])) {
			/* at the maximum: done; a skill missing: the next may fit */
			if (r.a[0].max_open >= 0 ? r.a[0].open >= r.a[0].max_open
			    : d.max_open_per_agent >= 0 && r.a[0].open >= d.max_open_per_agent)
				break;
			continue;
		}
		rc = assign_write(c, number, r.email[0], r.a[0].id, "agent available", now, &changed);
		if (!rc && changed) {
			r.a[0].open++;
			json_array_append_new(done, json_string(fl_json_str(q, "id", "")));
		}
	}
end:
	rc = store__sql_tx_end(c, rc);
out:
	roster_release(&r);
	json_decref(queued);
	if (!rc && out)
		*out = json_pack("{s:o}", "assigned", done);
	else
		json_decref(done);
	return rc;
}
