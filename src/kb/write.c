/*
 * Writing articles: add, replace, remove and clear, each in one transaction
 * on a pooled connection, keeping kb_doc and the FTS5 index in step; and the
 * per-article field lengths that kb_rank reads from memory.
 *
 * kb_doc's rowids are never reused (AUTOINCREMENT) and a replaced article
 * gets a new row, so an entry of the length table, once written, is right
 * for its rowid for ever: a search that runs while articles change reads
 * either a correct entry or none (and then asks FTS5, which is slower).
 *
 * Every transaction adds an FTS5 segment (FTS5's automerge only merges them
 * four at a time), and a search looks each query term up in every segment:
 * 45 articles added one by one made the search of a ticket three times
 * slower than the same articles in one segment (docs/BENCHMARKS.md). So a
 * write to an index of up to KB_MERGE_ALWAYS articles, or one that brings
 * the rows changed since the last merge to a quarter of the index, merges it
 * into one segment ('optimize', which also drops the entries of replaced and
 * removed articles). On a small index that costs little; on a large one the
 * cost is amortised: articles added one at a time are rewritten about five
 * times in all (bulk loads should use kb_add_many: one segment at once).
 */
#define KB_MERGE_ALWAYS 500
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

/*
 * The text of the index's middle field: the editor's tags, then the Markdown
 * section headings of the content ("## My payment was declined"). Both name
 * what an article covers more precisely than its body does, and a help
 * article often covers several problems under one general title.
 */
char *kb__tags_text(const json_t *a)
{
	const json_t *tags = json_object_get(a, "tags");
	const char *s = fl_json_str(a, "content", "");
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
		if (i)
			fl_buf_adds(&b, ", ");
		fl_buf_adds(&b, json_string_value(json_array_get(tags, i)));
	}
	while (*s) {
		size_t n = strcspn(s, "\n"), h = strspn(s, "#");

		if (h >= 1 && h <= 6 && (s[h] == ' ' || s[h] == '\t')) {
			fl_buf_adds(&b, b.len ? "\n" : "");
			fl_buf_add(&b, s + h + 1, n - h - 1);
		}
		s += n + (s[n] == '\n');
	}
	return fl_buf_detach(&b, NULL);
}

/* ---- field lengths ---- */

struct counter {
	const struct kb_termset *stop;
	uint32_t terms, words;
};

static int count_term(void *arg, const char *term, int len, int start, int end)
{
	struct counter *c = arg;

	(void)start;
	(void)end;
	c->terms++;
	c->words += !kb__termset_has(c->stop, term, (size_t)len);
	return 0;
}

/* The lengths FTS5 will record for these fields (same term stream), and the title's non-stop words. */
static void measure(struct kb_tok *tok, const struct kb_words *words, const char *const field[3],
		    struct kb_docinfo *info)
{
	int f;

	for (f = 0; f < 3; f++) {
		struct counter c = { &words->stop, 0, 0 };

		kb__tok_terms(tok, field[f], (int)strlen(field[f]), count_term, &c);
		info->len[f] = c.terms;
		if (f == 0)
			info->title_words = c.words;
	}
	info->known = true;
}

void kb__lang_count(struct kb *kb, const char *lang, int delta)
{
	size_t i;

	for (i = 0; i < kb->nlangs; i++)
		if (!strcmp(kb->langs[i].lang, lang))
			break;
	if (i == kb->nlangs) {
		if (delta < 0 || kb->nlangs == KB_LANGS)
			return;
		snprintf(kb->langs[i].lang, sizeof(kb->langs[i].lang), "%s", lang);
		kb->langs[i].n = 0;
		kb->nlangs++;
	}
	if (delta < 0 && kb->langs[i].n < (size_t)-delta)
		kb->langs[i].n = 0;
	else
		kb->langs[i].n += (size_t)delta;
}

static void docinfo_put(struct kb *kb, sqlite3_int64 rowid, const struct kb_docinfo *info)
{
	if (rowid < 0)
		return;
	if ((size_t)rowid >= kb->ninfo) {
		size_t n = kb->ninfo ? kb->ninfo : 1024;

		while (n <= (size_t)rowid)
			n *= 2;
		kb->info = fl_reallocarray(kb->info, n, sizeof(*kb->info));
		memset(kb->info + kb->ninfo, 0, (n - kb->ninfo) * sizeof(*kb->info));
		kb->ninfo = n;
	}
	kb->info[rowid] = *info;
}

int kb__docinfo_load(struct kb *kb, sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT rowid, len_title, len_tags, len_body, title_words, language "
				    "FROM kb_doc", -1, &st, NULL);

	pthread_rwlock_wrlock(&kb->info_lock);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kb_docinfo d = { .known = true };
		int f;

		for (f = 0; f < 3; f++)
			d.len[f] = (uint32_t)sqlite3_column_int64(st, f + 1);
		d.title_words = (uint32_t)sqlite3_column_int64(st, 4);
		snprintf(d.lang, sizeof(d.lang), "%s", (const char *)sqlite3_column_text(st, 5));
		docinfo_put(kb, sqlite3_column_int64(st, 0), &d);
		kb__lang_count(kb, d.lang, 1);
		rc = SQLITE_OK;
	}
	pthread_rwlock_unlock(&kb->info_lock);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ---- the writer: statements and changes of one transaction ---- */

struct fresh {
	sqlite3_int64 rowid;
	struct kb_docinfo info;
};

struct writer {
	struct kb *kb;
	struct kb_conn *c;
	sqlite3_stmt *find, *fts_del, *doc_del, *doc_ins, *fts_ins;
	struct fresh *fresh;   /* rows inserted, for the length table after commit */
	size_t nfresh;
	sqlite3_int64 *gone;   /* rows removed, for the article cache after commit */
	size_t ngone;
	bool cleared;          /* every row removed */
	size_t added, removed; /* net change in the number of articles */
};

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int writer_init(struct writer *w, struct kb *kb, struct kb_conn *c)
{
	sqlite3 *db = c->db;
	int rc;

	memset(w, 0, sizeof(*w));
	w->kb = kb;
	w->c = c;
	rc = sqlite3_prepare_v2(db, "SELECT rowid, title, tags, body FROM kb_doc WHERE id = ?1", -1,
				&w->find, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db, "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body) "
					"VALUES('delete', ?1, ?2, ?3, ?4)", -1, &w->fts_del, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db, "DELETE FROM kb_doc WHERE rowid = ?1", -1, &w->doc_del, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db, "INSERT INTO kb_doc(id, title, tags, body, category, tags_json, "
					"article, len_title, len_tags, len_body, title_words, language) "
					"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
					-1, &w->doc_ins, NULL);
	if (!rc)
		rc = sqlite3_prepare_v2(db, "INSERT INTO kb_fts(rowid, title, tags, body) "
					"VALUES(?1, ?2, ?3, ?4)", -1, &w->fts_ins, NULL);
	return rc;
}

static void writer_release(struct writer *w)
{
	sqlite3_finalize(w->find);
	sqlite3_finalize(w->fts_del);
	sqlite3_finalize(w->doc_del);
	sqlite3_finalize(w->doc_ins);
	sqlite3_finalize(w->fts_ins);
	free(w->fresh);
	free(w->gone);
}

/* Removes the article id (index entry and row); *found says whether it was there. */
static int remove_row(struct writer *w, const char *id, bool *found)
{
	sqlite3_int64 rowid = 0;
	int rc;

	*found = false;
	sqlite3_bind_text(w->find, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(w->find);
	if (rc == SQLITE_ROW) {
		*found = true;
		rowid = sqlite3_column_int64(w->find, 0);
		sqlite3_bind_int64(w->fts_del, 1, rowid);
		sqlite3_bind_value(w->fts_del, 2, sqlite3_column_value(w->find, 1));
		sqlite3_bind_value(w->fts_del, 3, sqlite3_column_value(w->find, 2));
		sqlite3_bind_value(w->fts_del, 4, sqlite3_column_value(w->find, 3));
		rc = step_done(w->fts_del);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(w->doc_del, 1, rowid);
			rc = step_done(w->doc_del);
		}
		if (rc == SQLITE_OK) {
			w->gone = fl_reallocarray(w->gone, w->ngone + 1, sizeof(*w->gone));
			w->gone[w->ngone++] = rowid;
		}
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_reset(w->find);
	return rc;
}

static int write_one(struct writer *w, const json_t *a)
{
	const char *id = fl_json_str(a, "id", "");
	const json_t *tag_arr = json_object_get(a, "tags");
	char *tags = kb__tags_text(a), *json = fl_json_dumps(a);
	char *tags_json = json_is_array(tag_arr) ? fl_json_dumps(tag_arr) : fl_strdup("[]");
	const char *field[3] = { fl_json_str(a, "title", ""), tags, fl_json_str(a, "content", "") };
	struct kb_docinfo info;
	sqlite3_int64 rowid;
	bool replaced;
	int rc, f;

	rc = remove_row(w, id, &replaced);
	if (rc)
		goto out;
	measure(w->c->tok, &w->kb->words, field, &info);
	snprintf(info.lang, sizeof(info.lang), "%s", fl_json_str(a, "language", KB_DEFAULT_LANGUAGE));
	sqlite3_bind_text(w->doc_ins, 1, id, -1, SQLITE_STATIC);
	for (f = 0; f < 3; f++) {
		sqlite3_bind_text(w->doc_ins, 2 + f, field[f], -1, SQLITE_STATIC);
		sqlite3_bind_int64(w->doc_ins, 8 + f, info.len[f]);
	}
	sqlite3_bind_text(w->doc_ins, 5, fl_json_str(a, "category", "general"), -1, SQLITE_STATIC);
	sqlite3_bind_text(w->doc_ins, 6, tags_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->doc_ins, 7, json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(w->doc_ins, 11, info.title_words);
	sqlite3_bind_text(w->doc_ins, 12, info.lang, -1, SQLITE_STATIC);
	rc = step_done(w->doc_ins);
	if (rc)
		goto out;
	rowid = sqlite3_last_insert_rowid(w->c->db);
	sqlite3_bind_int64(w->fts_ins, 1, rowid);
	for (f = 0; f < 3; f++)
		sqlite3_bind_text(w->fts_ins, 2 + f, field[f], -1, SQLITE_STATIC);
	rc = step_done(w->fts_ins);
	if (rc)
		goto out;
	w->fresh = fl_reallocarray(w->fresh, w->nfresh + 1, sizeof(*w->fresh));
	w->fresh[w->nfresh++] = (struct fresh){ rowid, info };
	w->added += !replaced;
out:
	free(tags);
	free(tags_json);
	free(json);
	return rc;
}

/*
 * Runs fn in one IMMEDIATE transaction on a pooled connection; after the
 * commit, records the new rows' lengths and the change in count. fn returns
 * an SQLite code, or -1 for "not found".
 */
static int in_transaction(struct kb *kb, int (*fn)(struct writer *w, const void *arg), const void *arg)
{
	struct kb_conn *c = NULL;
	struct writer w;
	size_t i, changed = 0;
	bool merge = false;
	int rc, src;

	rc = kb__conn_get(kb, &c);
	if (rc)
		return rc;
	memset(&w, 0, sizeof(w));
	src = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (src == SQLITE_OK)
		src = writer_init(&w, kb, c);
	if (src == SQLITE_OK)
		src = fn(&w, arg);
	if (src == SQLITE_OK) {
		size_t after = atomic_load(&kb->count) + w.added - w.removed;

		changed = atomic_load(&kb->unmerged) + w.nfresh + w.removed;
		merge = after > 0 && changed > 0 && (after <= KB_MERGE_ALWAYS || 4 * changed >= after);
		if (merge)
			src = sqlite3_exec(c->db, "INSERT INTO kb_fts(kb_fts) VALUES('optimize')", NULL, NULL,
					   NULL);
	}
	if (src == SQLITE_OK)
		src = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	if (src == SQLITE_OK) {
		pthread_rwlock_wrlock(&kb->info_lock);
		for (i = 0; i < w.nfresh; i++) {
			docinfo_put(kb, w.fresh[i].rowid, &w.fresh[i].info);
			kb__lang_count(kb, w.fresh[i].info.lang, 1);
		}
		/* no search runs now: the entries of removed rows can go */
		if (w.cleared)
			kb__artcache_clear(kb);
		for (i = 0; i < w.ngone; i++) {
			kb__artcache_drop(kb, w.gone[i]);
			if (w.gone[i] >= 0 && (size_t)w.gone[i] < kb->ninfo && kb->info[w.gone[i]].known) {
				kb->info[w.gone[i]].known = false;
				kb__lang_count(kb, kb->info[w.gone[i]].lang, -1);
			}
		}
		if (w.cleared) {
			for (i = 0; i < kb->ninfo; i++)
				kb->info[i].known = false;
			kb->nlangs = 0;
		}
		pthread_rwlock_unlock(&kb->info_lock);
		atomic_fetch_add(&kb->count, w.added);
		atomic_fetch_sub(&kb->count, w.removed);
		atomic_fetch_add(&kb->gen, 1);
		atomic_store(&kb->unmerged, merge ? 0 : changed);
	} else {
		rc = src == -1 ? KB_ENOTFOUND : kb__sql_err(c->db, src);
		if (!sqlite3_get_autocommit(c->db))
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	writer_release(&w);
	kb__conn_put(kb, c);
	return rc;
}

static int add_many_fn(struct writer *w, const void *arg)
{
	const json_t *arr = arg;
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < json_array_size(arr) && rc == SQLITE_OK; i++)
		rc = write_one(w, json_array_get(arr, i));
	return rc;
}

int kb_add_many(struct kb *kb, const json_t *articles)
{
	size_t i;

	if (!kb || !json_is_array(articles))
		return KB_EINVAL;
	for (i = 0; i < json_array_size(articles); i++)
		if (kb_article_check(json_array_get(articles, i), NULL))
			return KB_EINVAL;
	return in_transaction(kb, add_many_fn, articles);
}

int kb_add(struct kb *kb, const json_t *article)
{
	json_t *one;
	int rc;

	if (!kb || kb_article_check(article, NULL))
		return KB_EINVAL;
	one = json_array();
	json_array_append(one, (json_t *)article);
	rc = kb_add_many(kb, one);
	json_decref(one);
	return rc;
}

static int remove_fn(struct writer *w, const void *arg)
{
	bool found;
	int rc = remove_row(w, arg, &found);

	if (rc == SQLITE_OK && !found)
		return -1;
	w->removed += found;
	return rc;
}

int kb_remove(struct kb *kb, const char *id)
{
	if (!kb || !id)
		return KB_EINVAL;
	return in_transaction(kb, remove_fn, id);
}

static int clear_fn(struct writer *w, const void *arg)
{
	(void)arg;
	w->removed = atomic_load(&w->kb->count);
	w->cleared = true;
	return sqlite3_exec(w->c->db, "DELETE FROM kb_doc; INSERT INTO kb_fts(kb_fts) VALUES('delete-all');",
			    NULL, NULL, NULL);
}

int kb_clear(struct kb *kb)
{
	int rc;

	if (!kb)
		return KB_EINVAL;
	rc = in_transaction(kb, clear_fn, NULL);
	if (rc == KB_OK)
		atomic_store(&kb->count, 0);
	return rc;
}
