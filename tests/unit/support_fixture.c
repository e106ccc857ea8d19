/* support_fixture (see support_fixture.h). */
#include <stdio.h>

#include "support_fixture.h"
#include "test_helpers.h"

int64_t fixed_now(void *arg)
{
	(void)arg;
	return INT64_C(1709294400000000);
}

int support_fx_setup(void **state, const char *db, bool seed)
{
	struct fixture *f = fl_calloc(1, sizeof(*f));
	char *models = test_source_path("data/models"), *kbdir = test_source_path("data/kb");
	char *url, *err = NULL;
	size_t n = 0;

	f->dir = test_tmpdir();
	url = fl_asprintf("sqlite://%s/%s", f->dir, db);
	if (support_analyzer_open(models, &f->analyzer, &err) != SUPPORT_OK)
		fail_msg("analyzer: %s", err);
	if (kb_open(NULL, &f->kb, &err) != KB_OK)
		fail_msg("kb: %s", err);
	if (store_open(url, &f->store, &err) != STORE_OK)
		fail_msg("store: %s", err);
	if (support_kb_load(f->store, f->kb, kbdir, &n, &err) != SUPPORT_OK)
		fail_msg("kb load: %s", err);
	assert_true(n >= 40);
	if (seed && support_seed_customers(f->store, &err) != SUPPORT_OK)
		fail_msg("customers: %s", err);
	f->ctx.analyzer = f->analyzer;
	f->ctx.kb = f->kb;
	f->ctx.store = f->store;
	f->ctx.now_us = fixed_now;
	f->cs = support_workflow_find("customer_support")->build();
	free(models);
	free(kbdir);
	free(url);
	*state = f;
	return 0;
}

int support_fx_teardown(void **state)
{
	struct fixture *f = *state;

	flow_node_free(f->cs);
	store_close(f->store);
	kb_close(f->kb);
	support_analyzer_free(f->analyzer);
	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}
