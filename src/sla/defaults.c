/*
 * The default SLA: the response-time table Frontline showed before it had
 * policies (DESIGN §5, "recommended_response_time"), and the policies that
 * reproduce it on a 24x7 calendar, one per priority and customer tier.
 */
#include <string.h>

#include "sla/sla.h"
#include "util/util.h"

static const struct {
	const char *priority;
	int64_t enterprise, premium, standard;   /* seconds to first response */
} sla_table[] = {
	{ "urgent", 15 * 60, 30 * 60, 60 * 60 },
	{ "high", 60 * 60, 2 * 3600, 4 * 3600 },
	{ "medium", 4 * 3600, 8 * 3600, 24 * 3600 },
	{ "low", 24 * 3600, 48 * 3600, 72 * 3600 },
};

int64_t sla_default_seconds(const char *priority, const char *tier)
{
	size_t i;

	for (i = 0; priority && i < FL_ARRAY_SIZE(sla_table); i++) {
		if (strcmp(sla_table[i].priority, priority))
			continue;
		if (tier && !strcmp(tier, "enterprise"))
			return sla_table[i].enterprise;
		if (tier && !strcmp(tier, "premium"))
			return sla_table[i].premium;
		return sla_table[i].standard;
	}
	return sla_table[FL_ARRAY_SIZE(sla_table) - 1].standard;
}

json_t *sla_default_policies(void)
{
	static const char *const tiers[] = { "enterprise", "premium", "standard" };
	json_t *list = json_array();
	size_t i, k;

	for (i = 0; i < FL_ARRAY_SIZE(sla_table); i++)
		for (k = 0; k < FL_ARRAY_SIZE(tiers); k++) {
			int64_t min = sla_default_seconds(sla_table[i].priority, tiers[k]) / 60;
			char id[32];
			json_t *match;

			snprintf(id, sizeof(id), "%s-%s", sla_table[i].priority, tiers[k]);
			/* standard is every tier but the two named: its match leaves tier out */
			match = k < 2 ? json_pack("{s:[s], s:[s]}", "priority", sla_table[i].priority,
						  "customer_tier", tiers[k])
				      : json_pack("{s:[s]}", "priority", sla_table[i].priority);
			json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:I, s:I, s:I}", "id", id,
							      "calendar", "24x7", "match", match,
							      "first_response_min", (json_int_t)min,
							      "next_response_min", (json_int_t)min,
							      "resolution_min", (json_int_t)(min * 8)));
		}
	/* a priority outside the table: low's standard time, as before */
	json_array_append_new(list, json_pack("{s:s, s:s, s:{}, s:I, s:I, s:I}", "id", "fallback",
					      "calendar", "24x7", "match", "first_response_min",
					      (json_int_t)(72 * 60), "next_response_min", (json_int_t)(72 * 60),
					      "resolution_min", (json_int_t)(72 * 60 * 8)));
	return list;
}
