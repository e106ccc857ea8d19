/*
 * The result fields of articles that searches have returned (id, title,
 * content, category and the parsed tags), kept by kb_doc rowid so that a
 * search builds its results without an SQL lookup and a JSON parse per
 * article.
 *
 * Rowids are never reused and a replaced article gets a new row, so an entry
 * is right for its rowid as long as the row exists; the writer drops the
 * entries of the rows it removes (kb__artcache_drop, under the handle's
 * info_lock held for writing), so an entry is freed only while no search
 * runs. Entries are immutable once published. The cache holds at most
 * KB_ARTCACHE_BYTES of text: past that, further articles are read from SQL
 * each time (a large index whose searches touch every article).
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

#define KB_ARTCACHE_BYTES ((size_t)32 << 20)

struct kb_art {
	json_t *id, *title, *content, *category, *tags, *language; /* never handed out: results get copies */
	size_t bytes;
};

static void art_free(struct kb_art *a)
{
	if (!a)
		return;
	json_decref(a->id);
	json_decref(a->title);
	json_decref(a->content);
	json_decref(a->category);
	json_decref(a->tags);
	json_decref(a->language);
	free(a);
}

/* A text column as a JSON string; the index only holds text that came from jansson (valid UTF-8). */
static json_t *column_string(sqlite3_stmt *st, int col)
{
	return json_stringn_nocheck((const char *)sqlite3_column_text(st, col),
				    (size_t)sqlite3_column_bytes(st, col));
}

/* The entry of the row that st (SELECT id, title, body, category, tags_json, language) stands on. */
static struct kb_art *art_from_row(sqlite3_stmt *st)
{
	struct kb_art *a = fl_calloc(1, sizeof(*a));
	json_t *tags = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
	int i;

	a->id = column_string(st, 0);
	a->title = column_string(st, 1);
	a->content = column_string(st, 2);
	a->category = column_string(st, 3);
	a->language = column_string(st, 5);
	if (!json_is_array(tags)) {
		json_decref(tags);
		tags = json_array();
	}
	a->tags = tags;
	a->bytes = sizeof(*a);
	for (i = 0; i < 6; i++)
		a->bytes += (size_t)sqlite3_column_bytes(st, i);
	return a;
}

static json_t *string_copy(const json_t *s)
{
	return json_stringn_nocheck(json_string_value(s), json_string_length(s));
}

/* The result entry for an article: {id, title, content, category, tags, language, relevance_score, score}. */
static json_t *art_item(const struct kb_art *a, double relevance, double score)
{
	json_t *item = json_object(), *tags = json_array();
	size_t i;

	for (i = 0; i < json_array_size(a->tags); i++)
		json_array_append_new(tags, string_copy(json_array_get(a->tags, i)));
	json_object_set_new_nocheck(item, "id", string_copy(a->id));
	json_object_set_new_nocheck(item, "title", string_copy(a->title));
	json_object_set_new_nocheck(item, "content", string_copy(a->content));
	json_object_set_new_nocheck(item, "category", string_copy(a->category));
	json_object_set_new_nocheck(item, "tags", tags);
	json_object_set_new_nocheck(item, "language", string_copy(a->language));
	json_object_set_new_nocheck(item, "relevance_score", json_real(relevance));
	json_object_set_new_nocheck(item, "score", json_real(score));
	return item;
}

int kb__artcache_item(struct kb *kb, sqlite3_stmt *get, sqlite3_int64 rowid, double relevance, double score,
		      json_t **out)
{
	struct kb_art *a = NULL;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&kb->art_lock);
	if (rowid >= 0 && (size_t)rowid < kb->nart)
		a = kb->art[rowid];
	pthread_mutex_unlock(&kb->art_lock);
	if (a) {
		*out = art_item(a, relevance, score);
		return SQLITE_OK;
	}
	sqlite3_bind_int64(get, 1, rowid);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW) {
		a = art_from_row(get);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) { /* removed meanwhile */
		rc = SQLITE_OK;
	}
	sqlite3_reset(get);
	if (!a)
		return rc;
	*out = art_item(a, relevance, score);
	pthread_mutex_lock(&kb->art_lock);
	if (rowid >= 0 && kb->art_bytes + a->bytes <= KB_ARTCACHE_BYTES &&
	    ((size_t)rowid >= kb->nart || !kb->art[rowid])) {
		if ((size_t)rowid >= kb->nart) {
			size_t n = kb->nart ? kb->nart : 256;

			while (n <= (size_t)rowid)
				n *= 2;
			kb->art = fl_reallocarray(kb->art, n, sizeof(*kb->art));
			memset(kb->art + kb->nart, 0, (n - kb->nart) * sizeof(*kb->art));
			kb->nart = n;
		}
		kb->art[rowid] = a;
		kb->art_bytes += a->bytes;
		a = NULL;
	}
	pthread_mutex_unlock(&kb->art_lock);
	art_free(a); /* another search cached it first, or the cache is full */
	return SQLITE_OK;
}

void kb__artcache_drop(struct kb *kb, sqlite3_int64 rowid)
{
	pthread_mutex_lock(&kb->art_lock);
	if (rowid >= 0 && (size_t)rowid < kb->nart && kb->art[rowid]) {
		kb->art_bytes -= kb->art[rowid]->bytes;
		art_free(kb->art[rowid]);
		kb->art[rowid] = NULL;
	}
	pthread_mutex_unlock(&kb->art_lock);
}

void kb__artcache_clear(struct kb *kb)
{
	size_t i;

	pthread_mutex_lock(&kb->art_lock);
	for (i = 0; i < kb->nart; i++)
		art_free(kb->art[i]);
	free(kb->art);
	kb->art = NULL;
	kb->nart = 0;
	kb->art_bytes = 0;
	pthread_mutex_unlock(&kb->art_lock);
}

size_t kb__artcache_count(struct kb *kb)
{
	size_t i, n = 0;

	pthread_mutex_lock(&kb->art_lock);
	for (i = 0; i < kb->nart; i++)
		n += kb->art[i] != NULL;
	pthread_mutex_unlock(&kb->art_lock);
	return n;
}
