/*
 * kb_fixture: what the knowledge base's test programs share (test_kb,
 * test_kb_query): an in-memory index and a temporary directory per test,
 * and the small steps of writing a file, making and adding an article and
 * listing a search's result ids. A program includes this header after
 * test_helpers.h and runs its tests with kbfx_setup and kbfx_teardown.
 */
#ifndef FL_KB_FIXTURE_H
#define FL_KB_FIXTURE_H

#include "kb/kb.h"

/* One test's state (*state of the cmocka test). */
struct kbfx {
	char *dir;     /* a fresh temporary directory */
	struct kb *kb; /* an empty in-memory index */
};

int kbfx_setup(void **state);
int kbfx_teardown(void **state);

/* Writes text to dir/name; returns the path (caller frees). */
char *kbfx_write_file(const char *dir, const char *name, const char *text);
/* An article object (category "general"); tags is a JSON array text or NULL. */
json_t *kbfx_article(const char *id, const char *title, const char *content, const char *tags);
/* kbfx_article added to kb; the test fails if kb_add does. */
void kbfx_add(struct kb *kb, const char *id, const char *title, const char *content, const char *tags);
/* The ids of a search's results, space-separated (caller frees). */
char *kbfx_search_ids(struct kb *kb, const char *q, int limit);

#endif
