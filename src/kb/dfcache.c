/*
 * A per-connection cache of phrase document frequencies. kb_rank needs each
 * query phrase's df; asking FTS5 (xQueryPhrase) walks the phrase's whole
 * doclist, which for a ticket of fifty phrases costs more than the rest of
 * the search on a small knowledge base. Articles change rarely, so the
 * answers are kept per connection and dropped whenever the handle's write
 * generation moves (any add, replace, remove or clear).
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

#define DFCACHE_MAX 65536

static size_t slot_of(const struct kb_dfcache *c, const char *key)
{
	size_t i = (size_t)kb__fnv1a(key) & (c->cap - 1);

	while (c->slots[i].key && strcmp(c->slots[i].key, key))
		i = (i + 1) & (c->cap - 1);
	return i;
}

bool kb__dfcache_get(const struct kb_dfcache *c, const char *key, double *df)
{
	size_t i;

	if (!c->cap)
		return false;
	i = slot_of(c, key);
	if (!c->slots[i].key)
		return false;
	*df = c->slots[i].df;
	return true;
}

static void grow(struct kb_dfcache *c)
{
	struct kb_dfslot *old = c->slots;
	size_t oldcap = c->cap, i;

	c->cap = oldcap ? 2 * oldcap : 256;
	c->slots = fl_calloc(c->cap, sizeof(*c->slots));
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			c->slots[slot_of(c, old[i].key)] = old[i];
	free(old);
}

void kb__dfcache_put(struct kb_dfcache *c, const char *key, double df)
{
	size_t i;

	if (c->n >= DFCACHE_MAX)
		kb__dfcache_reset(c, c->gen);
	if (2 * (c->n + 1) > c->cap)
		grow(c);
	i = slot_of(c, key);
	if (!c->slots[i].key) {
		c->slots[i].key = fl_strdup(key);
		c->n++;
	}
	c->slots[i].df = df;
}

void kb__dfcache_reset(struct kb_dfcache *c, uint64_t gen)
{
	size_t i;

	for (i = 0; i < c->cap; i++) {
		free(c->slots[i].key);
		c->slots[i].key = NULL;
	}
	c->n = 0;
	c->gen = gen;
	c->have_sizes = false;
}

void kb__dfcache_release(struct kb_dfcache *c)
{
	kb__dfcache_reset(c, 0);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}
