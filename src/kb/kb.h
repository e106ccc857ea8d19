/*
 * kb: the knowledge base. Help-centre articles, indexed in SQLite FTS5 and
 * searched with Frontline's own ranking.
 *
 * The index is an FTS5 table (title, tags, body) whose tokenizer is ours
 * ("frontline": the text module's tokenizer and Snowball stemmer, registered
 * through fts5_api.xCreateTokenizer), ranked by an FTS5 auxiliary function of
 * ours (kb_rank). A query goes through these steps:
 *
 *   1. tokenize and stem it; drop question words and stop words ("how do I",
 *      "is it possible"); each remaining term is a concept;
 *   2. expand it with a table of synonyms and abbreviations of our own
 *      (pwd/password, 2fa/two-factor, login/sign in, refund/money back, ...),
 *      multi-word forms becoming phrases;
 *   3. match any phrase (an FTS5 OR query) and score each candidate with
 *      BM25F: term frequencies weighted by field (title > tags > body) and
 *      length-normalised per field before one saturation, synonyms counting
 *      for less than the customer's own words;
 *   4. multiply by two coverage boosts: how much of the article's title the
 *      query covers, and how much of the query's weight the title matches.
 *
 * On a large index (kb_params.prune_above articles), articles that share only
 * common words with the query (each in more than prune_df of the articles)
 * are not scored, when the query has rarer words too.
 *
 * docs/QUALITY.md measures each step against plain FTS5 bm25 on StackFAQ.
 *
 * relevance_score: score / ideal, clamped to 0..1. ideal is the score that
 * an article would earn by having the query's five most specific concepts
 * (highest idf, among the words some article contains) once each in a title
 * of average length that the query covers entirely. Within one query it is a
 * monotone (linear, then clamped) function of the ranking score, so it orders
 * results exactly as the ranking does; across queries it reads as "how close
 * this article comes to a perfect match on what is specific in the query".
 * Measured (docs/QUALITY.md): right answers mostly score 0.35 or more,
 * unrelated articles mostly under 0.25; 0.35 is a sensible "relevant enough
 * to quote" threshold.
 *
 * The kb module does not know where articles are stored: the support layer
 * and the CLI feed it (e.g. from store_kb_list). It depends on util and text.
 * It also reads a Help-Center-style article list over HTTP for the KB sync
 * (kb_sync_fetch), which the service and the CLI store with store_kb_sync.
 *
 * Threads: kb_search may be called from several threads at once, as may
 * kb_add and kb_remove; a handle keeps a small pool of SQLite connections to
 * one database (a shared in-memory database, or a file in WAL mode), one
 * connection per concurrent caller.
 */
#ifndef FL_KB_H
#define FL_KB_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define KB_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(ENOTFOUND, "not found") \
	X(EIO, "cannot read file") \
	X(EPARSE, "malformed article file") \
	X(ESQL, "index database error") \
	X(EBUSY, "index is busy") \
	X(EFETCH, "cannot fetch the help-centre articles")

enum kb_err {
#define KB_ENUM(name, text) KB_##name,
	KB_ERRNO_MAP(KB_ENUM)
#undef KB_ENUM
};

/* "not found" etc.; "unknown error" outside the enum. */
const char *kb_strerror(int rc);
/* "KB_ENOTFOUND" etc. */
const char *kb_errname(int rc);

struct kb;

/*
 * Opens an index: in memory when index_path is NULL, else in the SQLite file
 * at index_path (created when missing; its articles are kept between runs).
 * On failure *out is NULL and, when err is not NULL, *err is a message naming
 * the file (caller frees).
 */
int kb_open(const char *index_path, struct kb **out, char **err);
/* Closes the index and frees the handle. NULL is fine. */
void kb_close(struct kb *kb);

/*
 * Adds an article, or replaces the one with the same id. article is borrowed:
 * {id, title, content, category, tags [], language, views, helpful_votes,
 * ...}; id and title are required non-empty strings, content a string, tags
 * an array of strings (or absent), language a language tag (absent:
 * KB_DEFAULT_LANGUAGE). Returns KB_OK, KB_EINVAL for a malformed article
 * (kb_article_check says why), KB_ESQL or KB_EBUSY.
 */
int kb_add(struct kb *kb, const json_t *article);
/* Adds an array of articles in one transaction (all or none). Same errors. */
int kb_add_many(struct kb *kb, const json_t *articles);
/* Removes the article id: KB_OK, or KB_ENOTFOUND when it is not there. */
int kb_remove(struct kb *kb, const char *id);
/* Removes every article. */
int kb_clear(struct kb *kb);
/* Number of articles in the index. */
size_t kb_count(const struct kb *kb);
/* The article with this id as it was added (new reference), or KB_ENOTFOUND. */
int kb_get(struct kb *kb, const char *id, json_t **out);

/*
 * Checks an article's fields. Returns KB_OK, or KB_EINVAL and, when err is not
 * NULL, a message naming the field (caller frees).
 */
int kb_article_check(const json_t *article, char **err);

/*
 * Searches the index. *out is the knowledge_base_results object of DESIGN §4
 * (new reference):
 *   {query, articles_found, articles: [{id, title, content, category, tags,
 *    relevance_score (0..1), score}], search_time (seconds)}
 * articles are best first; articles_found is their number; score is the raw
 * ranking score. limit <= 0 means 5. A query without a searchable word gives
 * no articles (not an error). Safe to call from several threads at once.
 * Returns KB_OK, KB_EINVAL (NULL query), KB_ESQL or KB_EBUSY.
 */
int kb_search(struct kb *kb, const char *query, int limit, json_t **out);

/* A query's parts at most (kb_query.nparts). */
#define KB_MAX_PARTS 8
/* The language of an article that names none. */
#define KB_DEFAULT_LANGUAGE "en"

/*
 * A search of a query made of parts, e.g. a ticket's subject and each
 * question it asks: the parts are searched as one text (joined by
 * newlines), ranked as kb_search ranks, and each part is also measured on
 * its own against the articles returned.
 */
struct kb_query {
	const char *const *parts;  /* nparts strings, none NULL */
	size_t nparts;             /* 1 .. KB_MAX_PARTS */
	const char *language;      /* only articles in this language; NULL: any */
	int limit;                 /* as kb_search's */
};

/*
 * kb_search for a struct kb_query. The results are kb_search's, and:
 *   - each article has "language", "coverage" (the idf-weighted share of
 *     the query's concepts, among those some article contains, that the
 *     article contains in any field, synonyms included: how much of what is
 *     asked the article speaks of), "matched_weight" (the idf those
 *     concepts add up to), for the top article "missing" (the concepts it
 *     lacks, most specific first, as the query wrote them; at most five),
 *     and with several parts "part_relevance" (relevance_score for each
 *     part alone, without the title boosts; 0 for a part none of whose
 *     concepts any article contains);
 *   - "unknown_words": the query's words that no article contains (typos,
 *     names, what the articles never mention), and "parts": for each part
 *     {"concepts": its number of concepts, "weight": the sum of their idf
 *     (those some article contains: how specific the part is),
 *     "unknown_words": [...]}.
 * kb_search(kb, q, limit, out) is one part, any language. Returns KB_OK,
 * KB_EINVAL (no parts, too many, a NULL part), KB_ESQL or KB_EBUSY.
 */
int kb_search_query(struct kb *kb, const struct kb_query *q, json_t **out);
/* How many articles the index holds in language ("en", "de", ...; counted for its first 32 languages). */
size_t kb_count_language(struct kb *kb, const char *language);
/* Whether s is a language tag an article may carry: "en", "de", "pt-BR" (letters, digits, '-'; 2 to 15). */
bool kb_language_valid(const char *s);

/*
 * Ranking parameters (docs/QUALITY.md says how the defaults were chosen, on
 * the dev half of StackFAQ only).
 */
struct kb_params {
	double w_title, w_tags, w_body;  /* BM25F field weights */
	double b_title, b_tags, b_body;  /* length normalisation per field */
	double k1;                       /* term-frequency saturation */
	double synonym_weight;           /* a synonym's weight relative to the query's own word */
	double title_coverage;           /* boost for the share of the title the query covers */
	double query_coverage;           /* boost for the share of the query the title matches */
	/*
	 * A query of more concepts than this (its words after stop words,
	 * with their synonyms, whether an article has them or not) gets the
	 * title-coverage boost times this / its concepts: a long ticket
	 * covers a short title's words by chance ("log in" in the
	 * single-sign-on title). 0 turns it off.
	 */
	double title_concepts;
	bool stop_words;                 /* drop question and stop words from queries */
	bool synonyms;                   /* expand with the synonym table */
	/*
	 * Speed on large indexes: from prune_above articles on, when a query
	 * has phrases in at most prune_df of the articles (selective ones) and
	 * others, only articles with a selective phrase are scored (the others
	 * still count in their scores). 0 turns it off.
	 */
	double prune_above;
	double prune_df;
};

/* The defaults. */
void kb_params_default(struct kb_params *p);
/*
 * Sets one parameter from "name=value" (names as in struct kb_params; bools
 * take 0/1/true/false). Returns KB_OK or KB_EINVAL with *err (caller frees).
 */
int kb_params_set(struct kb_params *p, const char *assignment, char **err);
/* Uses p for the searches that start after this call (copied). */
void kb_set_params(struct kb *kb, const struct kb_params *p);

/*
 * Reads articles from a Markdown file with YAML front matter (id, title,
 * category, tags, views, helpful_votes, ...; the body is the content; no
 * value repeated through a YAML alias), from a JSONL file (one article
 * object a line; "content" may also be given as "body", or as an "answers"
 * array that is joined), or from a directory of such files (*.md,
 * *.markdown, *.jsonl, in name order, not recursive).
 * *articles is a new array of article objects. On failure *articles is NULL
 * and *err names the file and line (caller frees): KB_EIO or KB_EPARSE.
 */
int kb_import_path(const char *path, json_t **articles, char **err);

/* ---- the help-centre import of the KB sync (sync.c; docs/OPERATIONS.md) ---- */

/* The "source" of the articles the sync imports (store_kb_sync keeps them apart). */
#define KB_SYNC_SOURCE "kb_api"
/* Pages followed at most when kb_sync_opts.max_pages is 0. */
#define KB_SYNC_MAX_PAGES 1000

struct kb_sync_opts {
	const char *url;    /* KB_API_URL: the first page (http or https) */
	const char *key;    /* KB_API_KEY: sent as "Authorization: Bearer KEY"; NULL or "": none */
	long timeout_ms;    /* per page; 0: 30 s */
	int max_pages;      /* 0: KB_SYNC_MAX_PAGES */
};

/*
 * One help-centre item {"id", "title", "body" (HTML), "label_names" [],
 * "section_id", "locale"} as a KB article (new reference): {id, title,
 * content (the body as text), tags, category "section-<id>", language
 * (the locale's), source KB_SYNC_SOURCE, source_hash (hex digest of the
 * rest)}. KB_EPARSE and *err (caller frees) when the item has no id or
 * title or a body that is not a string.
 */
int kb_sync_article(const json_t *item, json_t **out, char **err);
/*
 * Fetches the list at o->url and every next_page after it, all or nothing:
 * *articles (new array, one per id; drafts left out) and, when stats is not
 * NULL, *stats {pages, items, drafts}. On failure *articles is NULL and
 * *err (caller frees) names the page: KB_EINVAL (not an http(s) URL),
 * KB_EFETCH (no answer, or a status other than 200), KB_EPARSE (not JSON,
 * not an article list, a malformed item, a next_page that is not a URL or
 * loops back, more than max_pages pages).
 */
int kb_sync_fetch(const struct kb_sync_opts *o, json_t **articles, json_t **stats, char **err);

/* ---- evaluation (frontline eval kb) ---- */

enum kb_eval_split { KB_SPLIT_ALL, KB_SPLIT_DEV, KB_SPLIT_TEST };

struct kb_eval_opts {
	bool baseline;                 /* plain FTS5 bm25 (unicode61, OR of the words) */
	enum kb_eval_split split;      /* queries by a stable hash of their text */
	const struct kb_params *params; /* NULL: defaults */
	bool per_query;                /* add "queries": [{query, relevant, rank, top}] */
};

/*
 * Reads evaluation queries: JSONL rows {"query": ..., "relevant": [ids]} (or
 * "relevant": "id"), or a TSV file with a header naming the columns "query"
 * and "article_id" (StackFAQ's queries.tsv). New array of {query, relevant}.
 */
int kb_eval_load_queries(const char *path, json_t **queries, char **err);
/* True when query text falls in the split (FNV-1a 64 of the text: even = dev). */
bool kb_eval_in_split(const char *query, enum kb_eval_split split);
/*
 * Indexes articles (array, borrowed) and runs each query in queries (array of
 * {query, relevant}, borrowed) that falls in the split. *result (new) is
 * {method, split, n, articles, "recall@1", "recall@5", mrr, mean_search_ms}:
 * recall@k is the mean share of a query's relevant articles in the top k; mrr
 * the mean reciprocal rank of the first relevant article (0 when not in the
 * top 100).
 */
int kb_eval_run(const json_t *articles, const json_t *queries, const struct kb_eval_opts *opts,
		json_t **result, char **err);

#endif
