/*
 * Whether a word is in a dictionary of the knowledge base's language:
 * libhunspell over Debian's hunspell-en-us (/usr/share/hunspell/en_US.aff
 * and .dic), affixes included ("handed", "touching" are words; "paypal",
 * "huawei" are not: a dictionary spells names with their capitals).
 *
 * The decision asks it about the few words of a yes-or-no question that no
 * article contains (src/support/autoreply.c), so the dictionary is read on
 * first use, not at start: most tickets never ask, and a process that never
 * asks never pays the ~50 ms and few megabytes of reading it. Hunspell's
 * handle is not documented as safe across threads: lookups take a mutex
 * (they are rare and take microseconds).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hunspell.h>

#include "text_int.h"

#ifndef TEXT_DICT_PATH
#define TEXT_DICT_PATH "/usr/share/hunspell/en_US"
#endif

#define MAX_WORD 64   /* longer is no word of a dictionary */

struct text_dict {
	char *aff, *dic;
	pthread_mutex_t lock;
	bool tried;            /* under lock: the dictionary was read, or failed to be */
	Hunhandle *h;          /* NULL until read, or when it could not be */
};

const char *text_dict_default_path(void)
{
	return TEXT_DICT_PATH;
}

int text_dict_open(const char *path, struct text_dict **out, char **err)
{
	struct text_dict *d;

	*out = NULL;
	if (!path || !*path)
		path = TEXT_DICT_PATH;
	d = fl_calloc(1, sizeof(*d));
	d->aff = fl_asprintf("%s.aff", path);
	d->dic = fl_asprintf("%s.dic", path);
	pthread_mutex_init(&d->lock, NULL);
	if (access(d->aff, R_OK) || access(d->dic, R_OK)) {
		if (err)
			*err = fl_asprintf("no dictionary '%s' (.aff and .dic; Debian: hunspell-en-us)", path);
		text_dict_free(d);
		return TEXT_ENOMODEL;
	}
	*out = d;
	return TEXT_OK;
}

void text_dict_free(struct text_dict *d)
{
	if (!d)
		return;
	if (d->h)
		Hunspell_destroy(d->h);
	pthread_mutex_destroy(&d->lock);
	free(d->aff);
	free(d->dic);
	free(d);
}

int text_dict_knows(struct text_dict *d, const char *word)
{
	int known = -1;

	if (!d || !word || !*word || strlen(word) >= MAX_WORD)
		return -1;
	pthread_mutex_lock(&d->lock);
	if (!d->tried) {
		d->tried = true;
		d->h = Hunspell_create(d->aff, d->dic);
	}
	if (d->h)
		known = Hunspell_spell(d->h, word) != 0;
	pthread_mutex_unlock(&d->lock);
	return known;
}
