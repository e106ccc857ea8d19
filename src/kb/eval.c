/*
 * Measuring search: recall@1, recall@5 and MRR of a query set against an
 * article set, for Frontline's ranking (a fresh in-memory kb) or for the
 * baseline, plain SQLite FTS5: the default unicode61 tokenizer (no stemming),
 * title and content columns, the query's words OR-ed, ranked by bm25() with
 * FTS5's default weights.
 *
 * Queries split into dev and test by a stable hash of their text (FNV-1a 64:
 * even = dev, odd = test), so that parameters are tuned on dev alone and the
 * same split comes out on every machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

#define EVAL_DEPTH 100

bool kb_eval_in_split(const char *query, enum kb_eval_split split)
{
	bool dev = (kb__fnv1a(query) & 1) == 0;

	switch (split) {
	case KB_SPLIT_ALL:
		return true;
	case KB_SPLIT_DEV:
		return dev;
	case KB_SPLIT_TEST:
		return !dev;
	}
	return false;
}

/* ---- loading queries ---- */

static size_t split_line(char *line, char **fields, size_t max)
{
	size_t n = 0;

	while (n < max) {
		char *tab = strchr(line, '\t');

		fields[n++] = line;
		if (!tab)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

static void strip_eol(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Adds relevant id to the query's entry (merging rows of the same query). */
static void add_query(json_t *arr, json_t *index, const char *query, const char *id)
{
	json_t *q = json_object_get(index, query);

	if (!q) {
		q = json_pack("{s:s, s:[]}", "query", query, "relevant");
		json_array_append_new(arr, q);
		json_object_set(index, query, q);
	}
	json_array_append_new(json_object_get(q, "relevant"), json_string(id));
}

static int load_tsv(FILE *f, const char *path, json_t *arr, char **err)
{
	json_t *index = json_object();
	char *line = NULL, *fields[16];
	size_t cap = 0, lineno = 0, n, i, qcol = SIZE_MAX, acol = SIZE_MAX;
	int rc = KB_OK;

	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		strip_eol(line);
		if (!*line)
			continue;
		n = split_line(line, fields, FL_ARRAY_SIZE(fields));
		if (qcol == SIZE_MAX) { /* the header */
			for (i = 0; i < n; i++) {
				if (!strcmp(fields[i], "query"))
					qcol = i;
				else if (!strcmp(fields[i], "article_id") || !strcmp(fields[i], "relevant"))
					acol = i;
			}
			if (qcol == SIZE_MAX || acol == SIZE_MAX) {
				*err = fl_asprintf("%s:%zu: the header must name the columns 'query' and "
						   "'article_id'", path, lineno);
				rc = KB_EPARSE;
				break;
			}
			continue;
		}
		if (qcol >= n || acol >= n || !*fields[qcol] || !*fields[acol]) {
			*err = fl_asprintf("%s:%zu: missing query or article_id", path, lineno);
			rc = KB_EPARSE;
			break;
		}
		add_query(arr, index, fields[qcol], fields[acol]);
	}
	if (rc == KB_OK && qcol == SIZE_MAX) {
		*err = fl_asprintf("%s: empty file", path);
		rc = KB_EPARSE;
	}
	free(line);
	json_decref(index);
	return rc;
}

static int load_jsonl(FILE *f, const char *path, json_t *arr, char **err)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, i;
	int rc = KB_OK;

	while (rc == KB_OK && getline(&line, &cap, f) >= 0) {
		json_error_t je;
		json_t *row, *rel, *out;
		size_t len = strlen(line);
		const char *t = fl_str_trim(line, &len);

		lineno++;
		if (!len)
			continue;
		row = json_loadb(t, len, 0, &je);
		rel = json_object_get(row, "relevant");
		if (!row) {
			*err = fl_asprintf("%s:%zu: invalid JSON: %s", path, lineno, je.text);
			rc = KB_EPARSE;
		} else if (!json_is_string(json_object_get(row, "query"))) {
			*err = fl_asprintf("%s:%zu: 'query' must be a string", path, lineno);
			rc = KB_EPARSE;
		} else if (!json_is_string(rel) && !(json_is_array(rel) && json_array_size(rel))) {
			*err = fl_asprintf("%s:%zu: 'relevant' must be an id or a non-empty array of ids",
					   path, lineno);
			rc = KB_EPARSE;
		} else {
			out = json_pack("{s:O, s:[]}", "query", json_object_get(row, "query"), "relevant");
			if (json_is_string(rel))
				json_array_append(json_object_get(out, "relevant"), rel);
			for (i = 0; json_is_array(rel) && i < json_array_size(rel); i++) {
				if (!json_is_string(json_array_get(rel, i))) {
					*err = fl_asprintf("%s:%zu: 'relevant' ids must be strings", path, lineno);
					rc = KB_EPARSE;
					break;
				}
				json_array_append(json_object_get(out, "relevant"), json_array_get(rel, i));
			}
			json_array_append_new(arr, out);
		}
		json_decref(row);
	}
	free(line);
	return rc;
}

int kb_eval_load_queries(const char *path, json_t **queries, char **err)
{
	FILE *f = fopen(path, "r");
	json_t *arr;
	int rc;

	*queries = NULL;
	*err = NULL;
	if (!f) {
		*err = fl_asprintf("cannot open '%s': %s", path, strerror(errno));
		return KB_EIO;
	}
	arr = json_array();
	rc = fl_str_has_suffix(path, ".tsv") ? load_tsv(f, path, arr, err)
					     : load_jsonl(f, path, arr, err);
	fclose(f);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*queries = arr;
	return KB_OK;
}

/* ---- the baseline: plain FTS5 bm25 ---- */

struct baseline {
	sqlite3 *db;
	sqlite3_stmt *search;
};

static int baseline_open(struct baseline *b, const json_t *articles, char **err)
{
	sqlite3_stmt *ins = NULL;
	size_t i;
	int rc;

	memset(b, 0, sizeof(*b));
	rc = sqlite3_open(":memory:", &b->db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(b->db, "CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, title, content);"
				  "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(b->db, "INSERT INTO t(id, title, content) VALUES(?1, ?2, ?3)",
					-1, &ins, NULL);
	for (i = 0; rc == SQLITE_OK && i < json_array_size(articles); i++) {
		const json_t *a = json_array_get(articles, i);

		sqlite3_bind_text(ins, 1, fl_json_str(a, "id", ""), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, fl_json_str(a, "title", ""), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, fl_json_str(a, "content", ""), -1, SQLITE_STATIC);
		rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(b->db, "SELECT id FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT ?2",
					-1, &b->search, NULL);
	if (rc != SQLITE_OK) {
		*err = fl_asprintf("cannot build the baseline index: %s", sqlite3_errmsg(b->db));
		return KB_ESQL;
	}
	return KB_OK;
}

static void baseline_close(struct baseline *b)
{
	sqlite3_finalize(b->search);
	sqlite3_close(b->db);
}

/* The query's words (runs of letters and digits; any non-ASCII byte counts as a letter), OR-ed. */
static char *baseline_match(const char *q)
{
	struct fl_buf b = FL_BUF_INIT;
	const unsigned char *s = (const unsigned char *)q;

	while (*s) {
		size_t n = 0;

		while (s[n] && ((s[n] >= '0' && s[n] <= '9') || (unsigned)((s[n] | 0x20) - 'a') < 26u || s[n] >= 0x80))
			n++;
		if (n) {
			fl_buf_addf(&b, "%s\"%.*s\"", b.len ? " OR " : "", (int)n, (const char *)s);
			s += n;
		} else {
			s++;
		}
	}
	return fl_buf_detach(&b, NULL);
}

static json_t *baseline_search(struct baseline *b, const char *q)
{
	json_t *ids = json_array();
	char *m = baseline_match(q);

	if (*m) {
		sqlite3_bind_text(b->search, 1, m, -1, SQLITE_STATIC);
		sqlite3_bind_int(b->search, 2, EVAL_DEPTH);
		while (sqlite3_step(b->search) == SQLITE_ROW)
			json_array_append_new(ids, json_string((const char *)sqlite3_column_text(b->search, 0)));
		sqlite3_reset(b->search);
	}
	free(m);
	return ids;
}

/* ---- running ---- */

static bool has_id(const json_t *arr, const char *id)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (fl_str_eq(json_string_value(json_array_get(arr, i)), id))
			return true;
	return false;
}

static const char *split_name(enum kb_eval_split s)
{
	return s == KB_SPLIT_DEV ? "dev" : s == KB_SPLIT_TEST ? "test" : "all";
}

int kb_eval_run(const json_t *articles, const json_t *queries, const struct kb_eval_opts *opts,
		json_t **result, char **err)
{
	struct baseline base = { NULL, NULL };
	struct kb *kb = NULL;
	json_t *per = json_array();
	double rr = 0, r1 = 0, r5 = 0;
	int64_t t_search = 0;
	size_t n = 0, i, j;
	int rc;

	*result = NULL;
	*err = NULL;
	if (!json_is_array(articles) || !json_is_array(queries)) {
		*err = fl_strdup("articles and queries must be arrays");
		rc = KB_EINVAL;
		goto out;
	}
	if (opts->baseline) {
		rc = baseline_open(&base, articles, err);
	} else {
		rc = kb_open(NULL, &kb, err);
		if (rc == KB_OK && opts->params)
			kb_set_params(kb, opts->params);
		if (rc == KB_OK && (rc = kb_add_many(kb, articles)) != KB_OK)
			*err = fl_asprintf("cannot index the articles: %s", kb_strerror(rc));
	}
	if (rc)
		goto out;
	for (i = 0; i < json_array_size(queries); i++) {
		const json_t *q = json_array_get(queries, i);
		const char *text = fl_json_str(q, "query", "");
		const json_t *rel = json_object_get(q, "relevant");
		json_t *ids = NULL, *res = NULL;
		double top_rel = 0;
		size_t first = 0, in1 = 0, in5 = 0, nrel = json_array_size(rel);
		int64_t t0;

		if (!nrel || !kb_eval_in_split(text, opts->split))
			continue;
		t0 = fl_mono_us();
		if (kb) {
			rc = kb_search(kb, text, EVAL_DEPTH, &res);
			if (rc) {
				*err = fl_asprintf("search failed for '%s': %s", text, kb_strerror(rc));
				goto out;
			}
			ids = json_array();
			top_rel = fl_json_num(json_array_get(json_object_get(res, "articles"), 0),
					      "relevance_score", 0);
			for (j = 0; j < json_array_size(json_object_get(res, "articles")); j++)
				json_array_append(ids, json_object_get(json_array_get(
					json_object_get(res, "articles"), j), "id"));
			json_decref(res);
		} else {
			ids = baseline_search(&base, text);
		}
		t_search += fl_mono_us() - t0;
		for (j = 0; j < json_array_size(ids); j++) {
			if (!has_id(rel, json_string_value(json_array_get(ids, j))))
				continue;
			if (!first)
				first = j + 1;
			in1 += j < 1;
			in5 += j < 5;
		}
		n++;
		rr += first ? 1.0 / (double)first : 0;
		r1 += (double)in1 / (double)nrel;
		r5 += (double)in5 / (double)nrel;
		if (opts->per_query) {
			json_t *top = json_array();

			for (j = 0; j < 3 && j < json_array_size(ids); j++)
				json_array_append(top, json_array_get(ids, j));
			json_array_append_new(per, json_pack("{s:s, s:O, s:i, s:o}", "query", text, "relevant",
							     rel, "rank", (int)first, "top", top));
			if (kb)
				json_object_set_new(json_array_get(per, json_array_size(per) - 1),
						    "top_relevance", json_real(top_rel));
		}
		json_decref(ids);
	}
	*result = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f}",
			    "method", opts->baseline ? "fts5-bm25" : "frontline",
			    "split", split_name(opts->split),
			    "n", (json_int_t)n,
			    "articles", (json_int_t)json_array_size(articles),
			    "recall@1", n ? r1 / (double)n : 0.0,
			    "recall@5", n ? r5 / (double)n : 0.0,
			    "mrr", n ? rr / (double)n : 0.0,
			    "mean_search_ms", n ? (double)t_search / (double)n / 1000.0 : 0.0);
	if (opts->per_query)
		json_object_set(*result, "queries", per);
	rc = KB_OK;
out:
	json_decref(per);
	kb_close(kb);
	baseline_close(&base);
	return rc;
}
