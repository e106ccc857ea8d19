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
 * each search, and a ticket's search has thirty of them. The planner writes
 * each phrase as its terms behind KB_TERMS_MARK (kb__phrase_match), which
 * this tokenizer hands on as they are: a phrase's terms are stemmed once,
 * by the planner, and FTS5 looks up exactly those.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "text/text.h"
#include "util/util.h"

struct kb_tok {
	struct text_stemmer *stemmer;
	struct text_tokens tokens;
};

struct kb_tok *kb__tok_new(void)
{
	struct kb_tok *t = fl_calloc(1, sizeof(*t));
	struct text_tokens init = TEXT_TOKENS_INIT;

	t->stemmer = text_stemmer_new();
	t->tokens = init;
	return t;
}

void kb__tok_free(struct kb_tok *tok)
{
	if (!tok)
		return;
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

/* Query text written by the planner: KB_TERMS_MARK, then terms separated by ' '. */
static int marked_terms(void *ctx, const char *text, int len,
			int (*xToken)(void *, int, const char *, int, int, int))
{
	int i = 1, rc = SQLITE_OK;

	while (i < len && rc == SQLITE_OK) {
		const char *sp = memchr(text + i, ' ', (size_t)(len - i));
		int end = sp ? (int)(sp - text) : len;

		if (end > i)
			rc = xToken(ctx, 0, text + i, end - i, i, end);
		i = end + 1;
	}
	return rc;
}

static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
			int (*xToken)(void *, int, const char *, int, int, int))
{
	struct kb_tok *tok = (struct kb_tok *)t;
	struct fts5_cb_arg a = { ctx, xToken };

	if (flags == FTS5_TOKENIZE_QUERY && len > 0 && text[0] == KB_TERMS_MARK)
		return marked_terms(ctx, text, len, xToken);
	return kb__tok_terms(tok, text, len, fts5_term, &a);
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
