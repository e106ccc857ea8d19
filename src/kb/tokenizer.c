/*
 * The term stream of the knowledge base, and its registration with FTS5.
 *
 * kb__tok_terms turns text into the terms the index holds, using the text
 * module: text_tokenize (NFKC + case folding, words kept apart from numbers,
 * URLs, e-mail addresses and order numbers), then the Snowball English
 * stemmer (text_stem) on words. Numbers, URLs, e-mail addresses and order
 * numbers are terms as they are; punctuation, emoji and emoticons are not
 * indexed. The same stream feeds FTS5 (the "frontline" tokenizer, for
 * documents, MATCH expressions and kb_rank's title scan) and the query
 * planner, so a query term and an indexed term always agree.
 *
 * FTS5 creates one tokenizer instance per table per connection; a connection
 * is used by one thread at a time (the pool in kb.c), so the stemmer inside
 * needs no lock.
 *
 * Query text: FTS5 tokenizes every quoted phrase of a MATCH expression on
 * each search, and a ticket's search has thirty of them, mostly the same
 * words from one ticket to the next. The instance keeps the terms of the
 * phrases it has tokenized (a memo of a pure function: same text, same
 * terms), up to KB_QMEMO_MAX of them, then starts afresh.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "text/text.h"
#include "util/util.h"

#define KB_QMEMO_MAX 4096

/* One memoized query text: its terms, each as (term, start, end). */
struct qmemo_term {
	int off, len, start, end;  /* term at terms + off */
};

struct qmemo {
	char *text;                /* NULL: empty slot */
	int len;
	uint64_t hash;
	char *terms;
	struct qmemo_term *v;
	size_t n;
};

struct kb_tok {
	struct text_stemmer *stemmer;
	struct text_tokens tokens;
	struct qmemo *memo;        /* open addressing, cap a power of two */
	size_t memo_n, memo_cap;
};

struct kb_tok *kb__tok_new(void)
{
	struct kb_tok *t = fl_calloc(1, sizeof(*t));
	struct text_tokens init = TEXT_TOKENS_INIT;

	t->stemmer = text_stemmer_new();
	t->tokens = init;
	return t;
}

static void qmemo_clear(struct kb_tok *tok)
{
	size_t i;

	if (!tok->memo)
		return;
	for (i = 0; i < tok->memo_cap; i++) {
		free(tok->memo[i].text);
		free(tok->memo[i].terms);
		free(tok->memo[i].v);
	}
	memset(tok->memo, 0, tok->memo_cap * sizeof(*tok->memo));
	tok->memo_n = 0;
}

void kb__tok_free(struct kb_tok *tok)
{
	if (!tok)
		return;
	qmemo_clear(tok);
	free(tok->memo);
	text_stemmer_free(tok->stemmer);
	text_tokens_release(&tok->tokens);
	free(tok);
}

int kb__tok_terms(struct kb_tok *tok, const char *text, int len, kb__term_cb cb, void *arg)
{
	size_t i;
	int rc = 0;

	if (len <= 0)
		return 0;
	/* text_tokenize appends: start from an empty list (the memory is kept) */
	text_tokens_reset(&tok->tokens);
	text_tokenize(text, (size_t)len, &tok->tokens);
	for (i = 0; i < tok->tokens.n && !rc; i++) {
		const struct text_token *t = &tok->tokens.v[i];
		const char *term = t->norm;
		size_t n = t->norm_len;

		switch (t->kind) {
		case TEXT_TOK_WORD:
			term = text_stem(tok->stemmer, t->norm, t->norm_len, &n);
			break;
		case TEXT_TOK_NUMBER:
		case TEXT_TOK_URL:
		case TEXT_TOK_EMAIL:
		case TEXT_TOK_ORDER_ID:
			break;
		case TEXT_TOK_EMOJI:
		case TEXT_TOK_EMOTICON:
		case TEXT_TOK_PUNCT:
			continue;
		}
		if (!n)
			continue;
		if (n > KB_TERM_MAX)
			n = KB_TERM_MAX;
		rc = cb(arg, term, (int)n, (int)t->off, (int)(t->off + t->len));
	}
	return rc;
}

/* ---- FTS5 glue ---- */

struct fts5_cb_arg {
	void *ctx;
	int (*xToken)(void *ctx, int flags, const char *token, int ntoken, int start, int end);
};

static int fts5_term(void *arg, const char *term, int term_len, int start, int end)
{
	struct fts5_cb_arg *a = arg;

	return a->xToken(a->ctx, 0, term, term_len, start, end);
}

static int tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)ctx;
	(void)argv;
	if (argc > 0)
		return SQLITE_ERROR; /* no options */
	*out = (Fts5Tokenizer *)kb__tok_new();
	return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
	kb__tok_free((struct kb_tok *)t);
}

static uint64_t hash_text(const char *s, int len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct qmemo *qmemo_slot(struct kb_tok *tok, const char *text, int len, uint64_t h)
{
	size_t i = (size_t)h & (tok->memo_cap - 1);

	while (tok->memo[i].text && (tok->memo[i].hash != h || tok->memo[i].len != len ||
				     memcmp(tok->memo[i].text, text, (size_t)len)))
		i = (i + 1) & (tok->memo_cap - 1);
	return &tok->memo[i];
}

struct qmemo_build {
	struct fl_buf terms;
	struct qmemo_term *v;
	size_t n;
};

static int memo_term(void *arg, const char *term, int term_len, int start, int end)
{
	struct qmemo_build *b = arg;

	b->v = fl_reallocarray(b->v, b->n + 1, sizeof(*b->v));
	b->v[b->n++] = (struct qmemo_term){ (int)b->terms.len, term_len, start, end };
	fl_buf_add(&b->terms, term, (size_t)term_len);
	return 0;
}

/* The memo entry for a query text, tokenized now when it is not there yet. */
static const struct qmemo *qmemo_get(struct kb_tok *tok, const char *text, int len)
{
	uint64_t h = hash_text(text, len);
	struct qmemo_build b = { FL_BUF_INIT, NULL, 0 };
	struct qmemo *m;

	if (!tok->memo_cap) {
		tok->memo_cap = 2 * KB_QMEMO_MAX;
		tok->memo = fl_calloc(tok->memo_cap, sizeof(*tok->memo));
	}
	m = qmemo_slot(tok, text, len, h);
	if (m->text)
		return m;
	if (tok->memo_n >= KB_QMEMO_MAX) {
		qmemo_clear(tok);
		m = qmemo_slot(tok, text, len, h);
	}
	kb__tok_terms(tok, text, len, memo_term, &b);
	m->text = fl_strndup(text, (size_t)len);
	m->len = len;
	m->hash = h;
	m->terms = fl_buf_detach(&b.terms, NULL);
	m->v = b.v;
	m->n = b.n;
	tok->memo_n++;
	return m;
}

static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
			int (*xToken)(void *, int, const char *, int, int, int))
{
	struct kb_tok *tok = (struct kb_tok *)t;
	struct fts5_cb_arg a = { ctx, xToken };
	const struct qmemo *m;
	size_t i;
	int rc = SQLITE_OK;

	if (flags != FTS5_TOKENIZE_QUERY || len <= 0)
		return kb__tok_terms(tok, text, len, fts5_term, &a);
	m = qmemo_get(tok, text, len);
	for (i = 0; i < m->n && rc == SQLITE_OK; i++)
		rc = xToken(ctx, 0, m->terms + m->v[i].off, m->v[i].len, m->v[i].start, m->v[i].end);
	return rc;
}

static fts5_api *fts5_api_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

int kb__fts5_register(sqlite3 *db, struct kb *kb)
{
	/* FTS5 copies the methods, so a local table is enough */
	fts5_tokenizer tokenizer = { tok_create, tok_delete, tok_tokenize };
	fts5_api *api = fts5_api_of(db);
	int rc;

	if (!api || api->iVersion < 2)
		return SQLITE_ERROR;
	rc = api->xCreateTokenizer(api, KB_TOKENIZER_NAME, NULL, &tokenizer, NULL);
	if (rc == SQLITE_OK)
		rc = api->xCreateFunction(api, "kb_rank", kb, kb__rank_fn, NULL);
	return rc;
}
