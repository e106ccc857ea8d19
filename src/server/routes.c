/*
 * The route table: the resources' tables joined into one, in a fixed order
 * (the order only matters for documentation; matching prefers the most
 * literal pattern). docs/openapi.yaml lists the same routes, and
 * test_openapi_describes_exactly_the_routes (tests/unit/test_server_http.c)
 * checks that the two agree.
 */
#include <pthread.h>
#include <string.h>

#include "server_int.h"

static const struct server_route *const tables[] = {
	server__health_routes,
	server__webhook_routes,
	server__ticket_routes,
	server__customer_routes,
	server__kb_routes,
	server__escalation_routes,
	server__workflow_routes,
	server__metrics_routes,
	server__admin_routes,
	server__mail_routes,
	server__session_routes,
	server__user_routes,
	server__live_routes,
	server__queue_routes,
	server__canned_routes,
	server__form_routes,
	server__twilio_routes,
	server__call_routes,       /* issue 17: phone calls, provider-neutral */
	server__sla_routes,        /* issue 18: SLA calendars and policies */
	server__chat_routes,
	server__macro_routes,      /* issue 18: macros */
	server__department_routes, /* issue 18: assignment */
	server__static_routes,   /* last: its /{file...} takes what no other route does */
};

static struct server_route *all;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void join(void)
{
	size_t n = 0, i;
	const struct server_route *r;

	for (i = 0; i < FL_ARRAY_SIZE(tables); i++)
		for (r = tables[i]; r->method; r++)
			n++;
	/* built once per process and kept for its lifetime, like a static table */
	all = fl_calloc(n + 1, sizeof(*all));
	n = 0;
	for (i = 0; i < FL_ARRAY_SIZE(tables); i++)
		for (r = tables[i]; r->method; r++)
			all[n++] = *r;
}

const struct server_route *server_routes(void)
{
	pthread_once(&once, join);
	return all;
}
