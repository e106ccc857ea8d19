/*
 * The English Snowball (Porter2) stemmer from libstemmer. A thin wrapper so
 * that the rest of Frontline does not include libstemmer.h, and so that the
 * stemmer's one-per-thread rule is stated in one place (text.h).
 */
#include <stdlib.h>
#include <libstemmer.h>

#include "text_int.h"

struct text_stemmer {
	struct sb_stemmer *sb;
};

struct text_stemmer *text_stemmer_new(void)
{
	struct text_stemmer *st = fl_calloc(1, sizeof(*st));

	st->sb = sb_stemmer_new("english", "UTF_8");
	if (!st->sb)
		fl_die("cannot create the english snowball stemmer");
	return st;
}

const char *text_stem(struct text_stemmer *st, const char *word, size_t len, size_t *outlen)
{
	const sb_symbol *r;

	r = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
	if (!r) /* out of memory inside libstemmer */
		fl_die("snowball stemmer out of memory");
	if (outlen)
		*outlen = (size_t)sb_stemmer_length(st->sb);
	return (const char *)r;
}

void text_stemmer_free(struct text_stemmer *st)
{
	if (!st)
		return;
	sb_stemmer_delete(st->sb);
	free(st);
}
