/*
 * SLA policies: checking the body of PUT /api/v1/sla/policies/{id} and
 * choosing the policy that applies to a ticket (the first in order whose
 * match admits it; an absent or empty match admits every ticket). A
 * policy is JSON here, as the store keeps it; whether its calendar exists
 * is the caller's question (the store knows the calendars).
 */
#include <string.h>

#include "sla/sla.h"
#include "util/util.h"

static const char *const match_keys[] = { "priority", "customer_tier", "channel", "category" };

static int fail(struct sla_error *err, const char *field, const char *message)
{
	if (err) {
		snprintf(err->field, sizeof(err->field), "%s", field);
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return SLA_EINVAL;
}

static bool minutes_ok(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 366 * 24 * 60;
}

int sla_policy_check(const json_t *body, struct sla_error *err)
{
	static const char *const known[] = { "calendar", "match", "first_response_min", "next_response_min",
					     "resolution_min", "position", "id", "version", "updated_by",
					     "updated_at", "builtin" };
	const char *key, *cal;
	json_t *v, *match;
	size_t i;

	if (!json_is_object(body))
		return fail(err, "", "a policy must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		for (i = 0; i < FL_ARRAY_SIZE(known) && strcmp(key, known[i]); i++)
			;
		if (i == FL_ARRAY_SIZE(known)) {
			char field[64];

			snprintf(field, sizeof(field), "%.60s", key);
			return fail(err, field, "unknown field (expected calendar, match, first_response_min, "
				    "next_response_min, resolution_min, position)");
		}
	}
	cal = fl_json_str(body, "calendar", NULL);
	if (!cal || !*cal || strlen(cal) > 64)
		return fail(err, "calendar", "must name a calendar (\"24x7\" or one PUT under /api/v1/sla/calendars)");
	match = json_object_get(body, "match");
	if (match && !json_is_object(match))
		return fail(err, "match", "must be an object of lists (priority, customer_tier, channel, category)");
	json_object_foreach(match, key, v) {
		char field[64];
		json_t *s;

		for (i = 0; i < FL_ARRAY_SIZE(match_keys) && strcmp(key, match_keys[i]); i++)
			;
		snprintf(field, sizeof(field), "match.%.50s", key);
		if (i == FL_ARRAY_SIZE(match_keys))
			return fail(err, field, "unknown match (expected priority, customer_tier, channel, category)");
		if (!json_is_array(v) || json_array_size(v) > 64)
			return fail(err, field, "must be a list of up to 64 strings");
		json_array_foreach(v, i, s)
			if (!json_is_string(s) || !json_string_length(s) || json_string_length(s) > 64) {
				snprintf(field, sizeof(field), "match.%.20s[%u]", key, (unsigned)(i % 100));
				return fail(err, field, "must be a string of 1 to 64 characters");
			}
	}
	if (!minutes_ok(json_object_get(body, "first_response_min")))
		return fail(err, "first_response_min", "must be a whole number of minutes from 1 to 527040");
	v = json_object_get(body, "next_response_min");
	if (v && !json_is_null(v) && !minutes_ok(v))
		return fail(err, "next_response_min", "must be a whole number of minutes from 1 to 527040");
	if (!minutes_ok(json_object_get(body, "resolution_min")))
		return fail(err, "resolution_min", "must be a whole number of minutes from 1 to 527040");
	v = json_object_get(body, "position");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
		return fail(err, "position", "must be a whole number from 0 to 1000000");
	return SLA_OK;
}

static bool admits(const json_t *list, const char *value)
{
	size_t i;
	json_t *s;

	if (!list || !json_array_size(list))
		return true;
	if (!value)
		return false;
	json_array_foreach(list, i, s)
		if (!strcmp(json_string_value(s), value))
			return true;
	return false;
}

const json_t *sla_policy_pick(const json_t *policies, const struct sla_ticket_facts *t)
{
	size_t i;
	json_t *p;

	json_array_foreach(policies, i, p) {
		const json_t *m = json_object_get(p, "match");

		if (admits(json_object_get(m, "priority"), t->priority) &&
		    admits(json_object_get(m, "customer_tier"), t->customer_tier) &&
		    admits(json_object_get(m, "channel"), t->channel) &&
		    admits(json_object_get(m, "category"), t->category))
			return p;
	}
	return NULL;
}
