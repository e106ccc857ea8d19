/*
 * The assignment decision (assign.h): a filter (department, skills,
 * availability, maximum) and a choice among those that pass (by load or
 * round robin). One pass over the agents, no allocation: the store calls
 * it once per ticket inside the assignment's transaction.
 */
#include <string.h>
#include <strings.h>

#include "assign.h"
#include "util/util.h"

static bool listed(const char *const *list, size_t n, const char *v)
{
	size_t i;

	if (!n || !v || !*v)
		return true;
	for (i = 0; i < n; i++)
		if (list[i] && !strcasecmp(list[i], v))
			return true;
	return false;
}

static int max_of(const struct assign_department *d, const struct assign_agent *a)
{
	return a->max_open >= 0 ? a->max_open : d->max_open_per_agent;
}

bool assign_eligible(const struct assign_ticket *t, const struct assign_department *d,
		     const struct assign_agent *a)
{
	int max = max_of(d, a);

	if (!t->department || !a->department || strcasecmp(t->department, a->department))
		return false;
	if (!listed(a->languages, a->n_languages, t->language) ||
	    !listed(a->categories, a->n_categories, t->category))
		return false;
	return a->availability == ASSIGN_AVAILABLE && (max < 0 || a->open < max);
}

/* Whether a goes before b by load: fewer open, then longer idle, then lower id. */
static bool lighter(const struct assign_agent *a, const struct assign_agent *b)
{
	if (a->open != b->open)
		return a->open < b->open;
	if (a->last_assigned != b->last_assigned)
		return a->last_assigned < b->last_assigned;
	return a->id < b->id;
}

long assign_pick(const struct assign_ticket *t, const struct assign_department *d,
		 const struct assign_agent *agents, size_t n, enum assign_reason *why)
{
	enum assign_reason r;
	long best = -1, after = -1, lowest = -1;
	size_t i;

	if (!t->department) {
		r = ASSIGN_NO_DEPARTMENT;
		goto out;
	}
	if (d->mode == ASSIGN_OFF) {
		r = ASSIGN_MODE_OFF;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct assign_agent *a = &agents[i];

		if (!assign_eligible(t, d, a))
			continue;
		if (d->mode == ASSIGN_LOAD) {
			if (best < 0 || lighter(a, &agents[best]))
				best = (long)i;
			continue;
		}
		/* round robin: the lowest id above the cursor, else the lowest of all */
		if (a->id > d->cursor && (after < 0 || a->id < agents[after].id))
			after = (long)i;
		if (lowest < 0 || a->id < agents[lowest].id)
			lowest = (long)i;
	}
	if (d->mode == ASSIGN_ROUND_ROBIN)
		best = after >= 0 ? after : lowest;
	r = best < 0 ? ASSIGN_NOBODY_AVAILABLE : d->mode == ASSIGN_LOAD ? ASSIGN_BY_LOAD : ASSIGN_BY_ROUND_ROBIN;
out:
	if (why)
		*why = r;
	return r == ASSIGN_BY_LOAD || r == ASSIGN_BY_ROUND_ROBIN ? best : -1;
}

static const char *const mode_names[] = { [ASSIGN_OFF] = "off", [ASSIGN_ROUND_ROBIN] = "round_robin",
					  [ASSIGN_LOAD] = "load" };
static const char *const availability_names[] = { [ASSIGN_AVAILABLE] = "available", [ASSIGN_AWAY] = "away",
						  [ASSIGN_OFFLINE] = "offline" };

static int index_of(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int assign_mode_parse(const char *s)
{
	return index_of(mode_names, FL_ARRAY_SIZE(mode_names), s);
}

const char *assign_mode_name(enum assign_mode m)
{
	return (unsigned)m < FL_ARRAY_SIZE(mode_names) ? mode_names[m] : "off";
}

int assign_availability_parse(const char *s)
{
	return index_of(availability_names, FL_ARRAY_SIZE(availability_names), s);
}

const char *assign_availability_name(enum assign_availability a)
{
	return (unsigned)a < FL_ARRAY_SIZE(availability_names) ? availability_names[a]
											   : "offline";
}

const char *assign_reason_name(enum assign_reason r)
{
	switch (r) {
	case ASSIGN_BY_LOAD:
		return "load";
	case ASSIGN_BY_ROUND_ROBIN:
		return "round_robin";
	case ASSIGN_NOBODY_AVAILABLE:
		return "queued: nobody available";
	case ASSIGN_MODE_OFF:
		return "off";
	case ASSIGN_NO_DEPARTMENT:
		return "no department";
	}
	return "off";
}
