/*
 * assign: who takes a ticket. The decision alone, pure (no store, no I/O,
 * no clock): given a ticket's department, language and category, the
 * department's assignment mode with its round-robin cursor, and the agents
 * (their department, skills, availability, open tickets, maximum and when
 * they were last given a ticket), pick one agent or none.
 *
 * The rules, in order:
 *   1. the agent is of the ticket's department (ASCII case-insensitive);
 *   2. skills filter: an agent with no languages listed takes any language,
 *      one with languages takes only those (likewise categories); a ticket
 *      whose language or category is unknown passes that filter;
 *   3. only agents ASSIGN_AVAILABLE and under their maximum (their own
 *      max_open, else the department's max_open_per_agent; none: no limit);
 *   4. ASSIGN_LOAD: the fewest open tickets, ties to the longest idle (the
 *      earliest last_assigned), then the lowest id; ASSIGN_ROUND_ROBIN: the
 *      eligible agent with the lowest id above the cursor, else (wrapping)
 *      the lowest id; ASSIGN_OFF: nobody.
 *
 * What it leaves to others: reading the agents and counting their open
 * tickets in one transaction, when an agent counts as away (idle), writing
 * the assignee and moving the cursor (src/store, store_ticket_assign).
 */
#ifndef FL_ASSIGN_H
#define FL_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum assign_mode {
	ASSIGN_OFF,
	ASSIGN_ROUND_ROBIN,
	ASSIGN_LOAD,
};

enum assign_availability {
	ASSIGN_AVAILABLE,
	ASSIGN_AWAY,
	ASSIGN_OFFLINE,
};

/* No maximum (struct assign_department.max_open_per_agent) / the department's (struct assign_agent.max_open). */
#define ASSIGN_NO_LIMIT (-1)
#define ASSIGN_DEPARTMENT_MAX (-1)

struct assign_ticket {
	const char *department;   /* NULL: nobody's, never assigned */
	const char *language;     /* NULL: unknown, any agent's languages do */
	const char *category;     /* NULL: unknown */
};

struct assign_department {
	enum assign_mode mode;
	int max_open_per_agent;   /* ASSIGN_NO_LIMIT or >= 0 */
	int64_t cursor;           /* round robin: the id of the agent picked last (0: none yet) */
};

struct assign_agent {
	int64_t id;
	const char *department;
	const char *const *languages;   /* n_languages strings; none: any */
	size_t n_languages;
	const char *const *categories;
	size_t n_categories;
	enum assign_availability availability;
	int open;                 /* open tickets assigned to the agent */
	int max_open;             /* ASSIGN_DEPARTMENT_MAX or >= 0 */
	int64_t last_assigned;    /* when the agent was last given a ticket (any unit; 0: never) */
};

/* Why assign_pick picked whom it picked (or nobody). */
enum assign_reason {
	ASSIGN_BY_LOAD,
	ASSIGN_BY_ROUND_ROBIN,
	ASSIGN_NOBODY_AVAILABLE,   /* the mode assigns, but no agent passes the filters */
	ASSIGN_MODE_OFF,           /* the department assigns by hand */
	ASSIGN_NO_DEPARTMENT,      /* the ticket has no department */
};

/*
 * The index in agents[0..n) of the agent ticket t goes to under department
 * d, or -1 for none; *why (may be NULL) says why. Agents may come in any
 * order; nothing is kept between calls.
 */
long assign_pick(const struct assign_ticket *t, const struct assign_department *d,
		 const struct assign_agent *agents, size_t n, enum assign_reason *why);

/*
 * Whether agent a may take ticket t at all: of its department, skills
 * matching, available and under its maximum (rules 1 to 3 above).
 */
bool assign_eligible(const struct assign_ticket *t, const struct assign_department *d,
		     const struct assign_agent *a);

/* The words of the API and the store: "off", "round_robin", "load"; -1 when s is none of them. */
int assign_mode_parse(const char *s);
const char *assign_mode_name(enum assign_mode m);
/* "available", "away", "offline"; -1 when s is none of them. */
int assign_availability_parse(const char *s);
const char *assign_availability_name(enum assign_availability a);
/*
 * The reason an assignment event records: "load", "round_robin", "queued:
 * nobody available", "off", "no department".
 */
const char *assign_reason_name(enum assign_reason r);

#endif
