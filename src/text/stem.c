/*
 * The English Snowball (Porter2) stemmer from libstemmer, behind a small
 * direct-mapped cache of recent words (stemming is the largest cost of
 * predicting: most words of support text repeat from one message to the
 * next). The rest of Frontline does not include libstemmer.h.
 *
 * text__thread_stemmer gives each thread one stemmer, kept in a pthread key
 * whose destructor frees it when the thread exits: models and the sentiment
 * analyzer are shared by threads, the stemmer state cannot be.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>

#include "text_int.h"

#define CACHE_SLOTS 4096   /* a power of two */
#define CACHE_WORD 23      /* longest word and stem cached, in bytes */

struct stem_slot {
	uint64_t hash;
	unsigned char wlen, slen;
	char word[CACHE_WORD + 1];
	char stem[CACHE_WORD + 1];
};

struct text_stemmer {
	struct sb_stemmer *sb;
	struct stem_slot *cache;
};

struct text_stemmer *text_stemmer_new(void)
{
	struct text_stemmer *st = fl_calloc(1, sizeof(*st));

	st->sb = sb_stemmer_new("english", "UTF_8");
	if (!st->sb)
		fl_die("cannot create the english snowball stemmer");
	st->cache = fl_calloc(CACHE_SLOTS, sizeof(*st->cache));
	return st;
}

const char *text_stem(struct text_stemmer *st, const char *word, size_t len, size_t *outlen)
{
	struct stem_slot *slot = NULL;
	const sb_symbol *r;
	size_t n;

	if (len && len <= CACHE_WORD) {
		uint64_t h = text__hash(word, len, 0);

		slot = &st->cache[h & (CACHE_SLOTS - 1)];
		if (slot->hash == h && slot->wlen == len && !memcmp(slot->word, word, len)) {
			if (outlen)
				*outlen = slot->slen;
			return slot->stem;
		}
		slot->hash = h;
		slot->wlen = 0; /* invalid until filled below */
	}
	r = sb_stemmer_stem(st->sb, (const sb_symbol *)word, (int)len);
	if (!r) /* out of memory inside libstemmer */
		fl_die("snowball stemmer out of memory");
	n = (size_t)sb_stemmer_length(st->sb);
	if (slot && n <= CACHE_WORD) {
		memcpy(slot->word, word, len);
		slot->word[len] = 0;
		memcpy(slot->stem, r, n);
		slot->stem[n] = 0;
		slot->wlen = (unsigned char)len;
		slot->slen = (unsigned char)n;
	}
	if (outlen)
		*outlen = n;
	return (const char *)r;
}

void text_stemmer_free(struct text_stemmer *st)
{
	if (!st)
		return;
	sb_stemmer_delete(st->sb);
	free(st->cache);
	free(st);
}

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;

static void thread_stemmer_free(void *p)
{
	text_stemmer_free(p);
}

static void thread_key_init(void)
{
	if (pthread_key_create(&thread_key, thread_stemmer_free))
		fl_die("cannot create a thread key for the stemmer");
}

struct text_stemmer *text__thread_stemmer(void)
{
	struct text_stemmer *st;

	pthread_once(&thread_once, thread_key_init);
	st = pthread_getspecific(thread_key);
	if (!st) {
		st = text_stemmer_new();
		pthread_setspecific(thread_key, st);
	}
	return st;
}

struct text_stemmer *text_stemmer_this_thread(void)
{
	return text__thread_stemmer();
}
