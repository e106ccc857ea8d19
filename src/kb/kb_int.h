/*
 * kb internals shared by the files of src/kb: the term stream (tokenizer +
 * stemmer) that both FTS5 and the query planner use, the connection pool, the
 * query plan handed to the kb_rank auxiliary function, and the stop-word and
 * synonym tables.
 */
#ifndef FL_KB_INT_H
#define FL_KB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sqlite3.h>

#include "kb.h"
#include "util/util.h"

/* Bumped whenever the terms an index holds would change: the index is rebuilt. */
#define KB_TOKENIZER_VERSION "frontline-2"
#define KB_TOKENIZER_NAME "frontline"
#define KB_POOL_MAX 8
/* Longest term kept (bytes); longer tokens are cut, as FTS5's own tokenizers do. */
#define KB_TERM_MAX 64
/* Languages whose articles kb_count_language counts (more are not counted). */
#define KB_LANGS 32

/* ---- terms: tokenizer + stemmer (tokenizer.c) ---- */

struct kb_tok;

/* One per thread at a time (the stemmer keeps state). */
struct kb_tok *kb__tok_new(void);
void kb__tok_free(struct kb_tok *tok);
/*
 * Calls cb for each indexable term of text[0..len): the case-folded, stemmed
 * term (not NUL-terminated) and the byte span [start, end) of the word it came
 * from. A non-zero return from cb stops the walk and is returned.
 */
typedef int (*kb__term_cb)(void *arg, const char *term, int term_len, int start, int end);
int kb__tok_terms(struct kb_tok *tok, const char *text, int len, kb__term_cb cb, void *arg);
/*
 * Query text that starts with this byte is a list of final terms separated
 * by ' ' (a phrase's key, see kb__phrase_match): the FTS5 tokenizer hands
 * them on as they are, without tokenizing and stemming them again. Only the
 * query planner writes MATCH expressions; customer text never reaches FTS5
 * as it is.
 */
#define KB_TERMS_MARK '\x01'
/* Registers the "frontline" FTS5 tokenizer and the kb_rank function on db. */
int kb__fts5_register(sqlite3 *db, struct kb *kb);

/* ---- word lists (words.c): built once per handle, read-only afterwards ---- */

/* A sorted set of stemmed terms. */
struct kb_termset {
	char **terms;
	size_t n;
};

bool kb__termset_has(const struct kb_termset *s, const char *term, size_t len);
void kb__termset_release(struct kb_termset *s);

/*
 * One surface form of a synonym entry, with its stemmed terms. Entry r's forms
 * are forms[rule_start[r] .. rule_start[r + 1]); a form on the left side
 * (lhs) is looked for in queries, and expands to the entry's right-side forms
 * (rhs). Both sides are the same set for symmetric entries.
 */
struct kb_syn_form {
	char *surface;
	char **terms;
	size_t nterms;
	char *key;                       /* the terms joined by ' ' */
	uint64_t stopmask;               /* bit t: term t is a stop word */
	size_t rule;
	bool lhs, rhs;
};

struct kb_words {
	struct kb_termset stop;          /* stemmed stop words */
	struct kb_syn_form *forms;
	size_t nforms;
	size_t *rule_start;              /* nrules + 1 entries */
	size_t nrules;
	size_t *by_first;                /* lhs forms' indices, sorted by first term */
	size_t nby_first;
};

int kb__words_init(struct kb_words *w, struct kb_tok *tok);
void kb__words_release(struct kb_words *w);
/* The raw tables (synonyms.c): NULL-terminated lists. */
extern const char *const kb__stop_words[];
/* Each entry is one set: forms separated by '|', e.g. "password|pwd|passcode". */
extern const char *const kb__synonym_sets[];

/* ---- the handle and its connections (kb.c) ---- */

/* An article's field lengths in terms, as FTS5 counts them, and its title's non-stop words. */
struct kb_docinfo {
	uint32_t len[3];
	uint32_t title_words;
	bool known;
	char lang[16];              /* the article's language tag */
};

/* Phrase document frequencies, valid for one write generation (dfcache.c). */
struct kb_dfslot {
	char *key;
	double df;
};

struct kb_dfcache {
	uint64_t gen;
	/* the index's row count and average field lengths, as FTS5 gives them, once known */
	bool have_sizes;
	double nrows, avglen[3];
	size_t n, cap;
	struct kb_dfslot *slots;
};

bool kb__dfcache_get(const struct kb_dfcache *c, const char *key, double *df);
void kb__dfcache_put(struct kb_dfcache *c, const char *key, double df);
/* Empties the cache and labels it with generation gen. */
void kb__dfcache_reset(struct kb_dfcache *c, uint64_t gen);
void kb__dfcache_release(struct kb_dfcache *c);

struct kb_conn {
	sqlite3 *db;
	struct kb_tok *tok;        /* for query planning on this connection */
	struct kb_dfcache df;
	sqlite3_stmt *rank_st;     /* kept prepared: the search's two statements */
	sqlite3_stmt *get_st;
	sqlite3_stmt *df_st;
	struct kb_qplan *plan;     /* reused by each search on this connection */
	bool busy;
};

struct kb {
	char *path;                 /* NULL: in memory */
	char *uri;                  /* what each connection opens */
	struct kb_words words;
	struct kb_params params;
	pthread_mutex_t lock;       /* guards pool and params */
	pthread_cond_t idle;
	struct kb_conn pool[KB_POOL_MAX];
	size_t npool;
	atomic_size_t count;
	atomic_uint_fast64_t gen;    /* bumped by every committed write */
	atomic_size_t unmerged;      /* rows written or removed since the index was last merged */
	pthread_rwlock_t info_lock;  /* guards info and ninfo */
	struct kb_docinfo *info;     /* by kb_doc rowid (never reused) */
	size_t ninfo;
	/* articles per language (the first KB_LANGS languages met), also under info_lock */
	struct kb_langcount {
		char lang[16];
		size_t n;
	} langs[KB_LANGS];
	size_t nlangs;
	/*
	 * result fields of articles searches returned (artcache.c), by rowid;
	 * art_lock guards the array, entries are freed only under info_lock
	 * held for writing
	 */
	pthread_mutex_t art_lock;
	struct kb_art **art;
	size_t nart, art_bytes;
};

/* Borrows a connection for the calling thread (opening one if the pool allows). */
int kb__conn_get(struct kb *kb, struct kb_conn **out);
void kb__conn_put(struct kb *kb, struct kb_conn *c);
int kb__sql_err(sqlite3 *db, int rc);
/*
 * The result entry of the article at rowid ({id, title, content, category,
 * tags, language, relevance_score, score}, new reference in *out), from the
 * article cache, else read with get (SELECT id, title, body, category,
 * tags_json, language FROM kb_doc WHERE rowid = ?1) and cached. *out stays NULL when the row is gone.
 * The caller holds info_lock for reading. Returns an SQLite code.
 */
int kb__artcache_item(struct kb *kb, sqlite3_stmt *get, sqlite3_int64 rowid, double relevance, double score,
		      json_t **out);
/* Forgets the entry of a removed row; the caller holds info_lock for writing. */
void kb__artcache_drop(struct kb *kb, sqlite3_int64 rowid);
/* Forgets every entry (kb_clear, kb_close); the caller holds info_lock for writing or is the last user. */
void kb__artcache_clear(struct kb *kb);
/* Entries in the cache (tests). */
size_t kb__artcache_count(struct kb *kb);
/* Adds delta to the count of articles in lang; the caller holds info_lock for writing (write.c). */
void kb__lang_count(struct kb *kb, const char *lang, int delta);
/* Reads every article's lengths into kb->info (write.c). */
int kb__docinfo_load(struct kb *kb, sqlite3 *db);

/* ---- query plans (query.c) and ranking (rank.c) ---- */

/* Long tickets: the first concepts carry the subject; beyond this the query grows slower, not better. */
#define KB_MAX_GROUPS 48
#define KB_MAX_PHRASES 160
/* kb_rank keeps per-row bit sets of phrases and concepts in 64-bit words */
#define KB_PHRASE_WORDS ((KB_MAX_PHRASES + 63) / 64)
_Static_assert(KB_MAX_GROUPS <= 64, "kb_rank's concept set is one 64-bit word");

struct kb_phrase {
	const char *key;      /* its stemmed terms joined by ' ' (owned by the plan or the word lists) */
	const struct kb_syn_form *form; /* a synonym-table form: the one it comes from; NULL: a query word */
	size_t group;         /* the query concept it stands for */
	double weight;        /* 1 for the query's own words, synonym_weight for synonyms */
	bool primary;
	size_t src;           /* a synonym: the phrase it stands for; SIZE_MAX otherwise */
	unsigned nterms;      /* terms in the phrase */
	uint64_t stopmask;    /* bit t: term t is a stop word */
	/* filled by kb_rank on its first row; df beforehand when the df cache knew it (df_known) */
	double df, idf;
	bool df_known;
};

/* Why a phrase is not in the MATCH expression (kb_qplan.omit). */
enum kb_omit {
	KB_OMIT_NONE,
	/* in no article (df 0 in the connection's cache): it matches nothing */
	KB_OMIT_ABSENT,
	/*
	 * a customer's multi-word form (weight 0) whose df the cache knows:
	 * each of its non-stop words is a primary phrase of the same concept,
	 * whose instances give kb_rank everything the form's would (title
	 * positions, title hit), and its weight adds nothing to the score.
	 * Left in when the candidates are restricted (kb__qplan_match's
	 * selective phrases).
	 */
	KB_OMIT_REDUNDANT,
};

#define KB_QPLAN_SLOTS 512 /* > 2 x KB_MAX_PHRASES: the plan's key hash table */

/*
 * A query plan. Each connection keeps one (kb_conn.plan) and reuses it: the
 * fields from ph on are storage kept between plans (no allocation per
 * search), the ones before it are cleared by kb__qplan_build.
 */
struct kb_qplan {
	size_t nph;
	size_t ngroups;
	uint16_t slot[KB_QPLAN_SLOTS]; /* phrase index + 1 by key hash, 0: empty */
	char *terms;                /* the query's terms, NUL-separated (primary phrases' keys) */
	char *match;                /* the FTS5 MATCH expression; NULL: nothing to search */
	size_t omitted[3];          /* phrases left out, by enum kb_omit (kept by kb__qplan_release) */
	/* FTS5 phrase i stands for plan phrase fts_map[i]; count its instances when fts_count[i] */
	size_t nfts;
	struct kb_params params;
	const struct kb_words *words;
	/* the handle's length table, read-locked by kb_search for the plan's lifetime */
	const struct kb_docinfo *info;
	size_t ninfo;
	struct kb_dfcache *dfc;     /* the connection's df cache, or NULL */
	/* per-query statistics, computed by kb_rank on its first row */
	bool stats_ready;
	double nrows;
	double avglen[3];
	double gidf_total;
	double title_boost;          /* title_coverage, less for a long query (kb_params.title_concepts) */
	double ideal;               /* score of a perfect match, for relevance_score */
	int rc;                     /* first error met inside kb_rank */
	/*
	 * The best final scores so far (a min-heap of at most ktop, in top): a
	 * row whose score could not reach the smallest of them even with full
	 * coverage is not in the top ktop, and kb_rank skips its title scan.
	 */
	size_t ntop, ktop;
	size_t ncovered;            /* title positions covered in the current row */
	/*
	 * What each concept is in the query: the byte span of its first word
	 * (query is the text kb__qplan_build planned, borrowed for the plan's
	 * life), for naming the concepts an article lacks (kb__coverage).
	 */
	const char *query;
	int gspan[KB_MAX_GROUPS][2];
	size_t nrowmask;            /* entries of rowmask in use */
	/* the query's parts (kb_query): part k ends at byte part_end[k]; bit k of gparts[g]: concept g is in part k */
	size_t nparts;
	size_t part_end[KB_MAX_PARTS];
	uint16_t gparts[KB_MAX_GROUPS];
	/* only articles in this language are scored (NULL: any) */
	const char *language;
	/* kb__coverage's per-query figures, computed on its first call */
	bool cov_ready;
	double cw[KB_MAX_GROUPS];        /* per concept: its best idf among phrases some article has */
	double cw_total, part_ideal[KB_MAX_PARTS];

	/* ---- storage kept between plans ---- */
	struct kb_phrase ph[KB_MAX_PHRASES];
	/*
	 * omit[i] (enum kb_omit): phrase i is left out of the MATCH expression;
	 * kb_rank still counts its df (set in ph[i].df).
	 */
	unsigned char omit[KB_MAX_PHRASES];
	size_t fts_map[2 * KB_MAX_PHRASES + 1], first_fts[KB_MAX_PHRASES + 1];
	bool fts_count[2 * KB_MAX_PHRASES + 1];
	double gidf[KB_MAX_GROUPS];  /* per group: idf of its primary phrase */
	/* per-row scratch: term frequencies (nph x 3 fields), zero between rows */
	double scratch[KB_MAX_PHRASES * 3];
	double *top;
	size_t top_alloc;
	/* per-row scratch: title positions covered by the query */
	int *covered;
	size_t covered_alloc;
	/* the concepts each scored row contains, in any field (bit g: concept g), for kb__coverage */
	struct kb_rowmask {
		int64_t rowid;
		uint64_t mask;
		float part_score[KB_MAX_PARTS]; /* the score's BM25F sum over each part's concepts */
	} *rowmask;
	size_t rowmask_alloc;
};

/* A plan's storage (caller frees with kb__qplan_free). */
struct kb_qplan *kb__qplan_new(void);
void kb__qplan_free(struct kb_qplan *plan);
/*
 * Plans query: its phrases, concepts and terms (then kb__qplan_match makes
 * the expression). Whatever plan held before is forgotten.
 */
int kb__qplan_build(struct kb_qplan *plan, struct kb_tok *tok, const struct kb_words *words,
		    const struct kb_params *params, const char *query);
/* The same for a query of nparts parts, part k ending at byte part_end[k] of query. */
int kb__qplan_build_parts(struct kb_qplan *plan, struct kb_tok *tok, const struct kb_words *words,
			  const struct kb_params *params, const char *query, const size_t *part_end,
			  size_t nparts);
/* Frees what the plan allocated for its query (its storage stays for the next one). */
void kb__qplan_release(struct kb_qplan *plan);
/* Makes room for the ktop best scores (kb_rank's heap). */
void kb__qplan_top(struct kb_qplan *plan, size_t ktop);
/* Appends phrase ph as an FTS5 string ("\x01terms"), quoted, to b. */
void kb__phrase_match(struct fl_buf *b, const struct kb_phrase *ph);
/*
 * (Re)builds the MATCH expression, without the plan's omitted phrases.
 * selective (NULL, or one flag per phrase): when some but not all of the
 * other phrases are flagged, only articles with a flagged phrase are
 * candidates, the other phrases still count in their scores.
 */
void kb__qplan_match(struct kb_qplan *plan, const bool *selective);
/* The kb_rank FTS5 auxiliary function: kb_rank(kb_fts, plan pointer). */
void kb__rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
		 sqlite3_value **val);
/* relevance_score of a ranking score under this plan (after ranking ran). */
double kb__relevance(const struct kb_qplan *plan, double score);
/*
 * Sets item's "coverage" (the idf-weighted share of the query's concepts
 * that some article contains which the article at rowid contains, in any
 * field, synonyms included), "missing" (those it lacks, most specific
 * first, as the query wrote them; at most five), and per part of the query
 * "part_relevance" (the BM25F score of
 * the part's concepts over that of the part's five most specific concepts
 * once in an average title, clamped to 1: relevance_score for the part
 * alone, without the title boosts), when the query has several parts;
 * "missing" only when asked (the top article). After ranking ran.
 */
void kb__coverage(struct kb_qplan *plan, int64_t rowid, json_t *item, bool missing);
/* Each part's {"concepts", "unknown_words"}: new array. */
json_t *kb__parts(const struct kb_qplan *plan);
/* The query's words that no article contains (typos, names, what the articles never mention): new array. */
json_t *kb__unknown_words(const struct kb_qplan *plan);

#define KB_QPLAN_PTR "frontline_kb_qplan"

/* ---- articles (kb.c) ---- */

/* The tags field: "a, b, c" from the tags array, then the section headings (caller frees). */
char *kb__tags_text(const json_t *article);
/* 64-bit FNV-1a. */
uint64_t kb__fnv1a(const char *s);

#endif
