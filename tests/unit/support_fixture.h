/*
 * support_fixture: what the support tests share: the bundled models and KB
 * articles, a real SQLite store in a temporary directory, the context the
 * nodes run with (a fixed clock) and the customer_support workflow.
 */
#ifndef FRONTLINE_SUPPORT_FIXTURE_H
#define FRONTLINE_SUPPORT_FIXTURE_H

#include "flow/flow.h"
#include "kb/kb.h"
#include "store/store.h"
#include "support/support.h"

struct fixture {
	char *dir;
	struct support_analyzer *analyzer;
	struct kb *kb;
	struct store *store;
	struct support_ctx ctx;
	struct flow_node *cs;
};

/* The fixed clock of every support test: 2024-03-01T12:00:00Z. */
int64_t fixed_now(void *arg);

/*
 * cmocka setup: opens the fixture with a store at "<tmp>/<db>" (store URL
 * query options allowed, e.g. "support.db" or "autoreply.db?synchronous=off"),
 * the bundled KB loaded into it and, when seed is true, the seed's customers.
 */
int support_fx_setup(void **state, const char *db, bool seed);
/* cmocka teardown for support_fx_setup. */
int support_fx_teardown(void **state);

#endif
