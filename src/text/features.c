/*
 * Hashed features of a text, shared by training and prediction so that the
 * two can never disagree. Each feature is a 64-bit FNV-1a hash of a kind byte
 * and a string, cut to hash_bits. Groups (words+bigrams+cues, character
 * n-grams) are each scaled to unit L2 norm, then the whole vector is, so that
 * long texts and long words do not drown the rest.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

enum feat_kind {
	F_WORD = 1, F_NEG, F_BOOST, F_BIGRAM, F_CHAR, F_KIND, F_SYMBOL, F_CUE, F_CONTRAST,
};

uint64_t text__hash(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* a final mix: FNV's low bits are weak for short keys */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void fv_push(struct text__fvec *fv, uint32_t idx, float val)
{
	if (fv->n == fv->alloc) {
		fv->alloc = fv->alloc ? fv->alloc * 2 : 256;
		fv->v = fl_reallocarray(fv->v, fv->alloc, sizeof(*fv->v));
	}
	fv->v[fv->n].idx = idx;
	fv->v[fv->n].val = val;
	fv->n++;
}

static void add(struct text__fvec *fv, uint32_t mask, enum feat_kind k, const char *s, size_t n)
{
	fv_push(fv, (uint32_t)(text__hash(s, n, (uint64_t)k * 0x9e3779b97f4a7c15ULL) & mask), 1.0f);
}

static void add2(struct text__fvec *fv, uint32_t mask, const char *a, size_t na, const char *b, size_t nb)
{
	uint64_t h = text__hash(a, na, (uint64_t)F_BIGRAM * 0x9e3779b97f4a7c15ULL);

	h = text__hash(b, nb, h);
	fv_push(fv, (uint32_t)(h & mask), 1.0f);
}

/*
 * Merges duplicate indices of v[start..n) (an open-addressing table of
 * positions: sorting was the largest cost of prediction), then gives each
 * feature 1 + log(count) and scales the group to unit norm. The order of the
 * features is their first appearance.
 */
static void finish_group(struct text__fvec *fv, size_t start)
{
	size_t i, o, cap = 16, n = fv->n - start;
	double norm = 0;

	if (!n)
		return;
	while (cap < 2 * n)
		cap *= 2;
	if (cap > fv->tab_cap) {
		free(fv->tab);
		fv->tab = fl_calloc(cap, sizeof(*fv->tab));
		fv->tab_cap = cap;
	}
	memset(fv->tab, 0, cap * sizeof(*fv->tab));
	for (i = start, o = start; i < fv->n; i++) {
		uint32_t h = (uint32_t)(fv->v[i].idx * 2654435761u) & (uint32_t)(cap - 1);

		for (;;) {
			uint32_t pos = fv->tab[h];

			if (!pos) {
				fv->tab[h] = (uint32_t)(o + 1);
				fv->v[o++] = fv->v[i];
				break;
			}
			if (fv->v[pos - 1].idx == fv->v[i].idx) {
				fv->v[pos - 1].val += fv->v[i].val;
				break;
			}
			h = (h + 1) & (uint32_t)(cap - 1);
		}
	}
	fv->n = o;
	for (i = start; i < fv->n; i++) {
		if (fv->v[i].val != 1.0f) /* 1 + log 1 is 1: most features occur once */
			fv->v[i].val = 1.0f + logf(fv->v[i].val);
		norm += (double)fv->v[i].val * fv->v[i].val;
	}
	norm = sqrt(norm);
	for (i = start; i < fv->n; i++)
		fv->v[i].val = (float)(fv->v[i].val / norm);
}

void text__doc_set(struct text__doc *doc, const char *text, struct text_stemmer *st)
{
	size_t i, n;

	text_tokens_reset(&doc->tokens);
	fl_buf_reset(&doc->stems);
	if (text)
		text_tokenize(text, strlen(text), &doc->tokens);
	if (doc->tokens.n > doc->alloc) {
		doc->alloc = doc->tokens.n * 2;
		doc->stem_off = fl_reallocarray(doc->stem_off, doc->alloc, sizeof(*doc->stem_off));
		doc->stem_len = fl_reallocarray(doc->stem_len, doc->alloc, sizeof(*doc->stem_len));
	}
	for (i = 0; i < doc->tokens.n; i++) {
		const struct text_token *t = &doc->tokens.v[i];
		const char *r;

		doc->stem_off[i] = doc->stems.len;
		doc->stem_len[i] = 0;
		if (t->kind != TEXT_TOK_WORD) {
			fl_buf_addch(&doc->stems, 0);
			continue;
		}
		r = text_stem(st, t->norm, t->norm_len, &n);
		fl_buf_add(&doc->stems, r, n);
		fl_buf_addch(&doc->stems, 0);
		doc->stem_len[i] = n;
	}
}

void text__doc_release(struct text__doc *doc)
{
	text_tokens_release(&doc->tokens);
	fl_buf_release(&doc->stems);
	free(doc->stem_off);
	free(doc->stem_len);
	doc->stem_off = doc->stem_len = NULL;
	doc->alloc = 0;
}

/* ---- the thread's memo of its last doc ---- */

/*
 * The feature vectors made from the memo's doc, by feature settings: the
 * spam and category models read the same ticket text with the same
 * settings, and the second gets the first's vector instead of hashing every
 * word and character n-gram again.
 */
#define FEAT_MEMO 3

struct doc_memo {
	struct text__fvec scratch; /* text__thread_fvec */
	struct text__doc doc;
	struct fl_buf text;    /* the text doc was made from */
	bool valid;
	struct {
		struct text__feat_opts fo;
		struct text__feat *v;
		size_t n, alloc;
		bool valid;
	} feats[FEAT_MEMO];
	size_t next;           /* the entry the next new settings replace */
};

static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static pthread_key_t memo_key;

static void memo_free(void *p)
{
	struct doc_memo *m = p;
	size_t i;

	for (i = 0; i < FEAT_MEMO; i++)
		free(m->feats[i].v);
	text__fvec_release(&m->scratch);
	text__doc_release(&m->doc);
	fl_buf_release(&m->text);
	free(m);
}

static void memo_key_init(void)
{
	if (pthread_key_create(&memo_key, memo_free))
		fl_die("cannot create a thread key for the text analysis memo");
}

/* This thread's memo, made on first use. */
static struct doc_memo *memo_this_thread(void)
{
	struct doc_memo *m;

	pthread_once(&memo_once, memo_key_init);
	m = pthread_getspecific(memo_key);
	if (!m) {
		m = fl_calloc(1, sizeof(*m));
		m->doc = (struct text__doc)TEXT__DOC_INIT;
		fl_buf_init(&m->text, 0);
		pthread_setspecific(memo_key, m);
	}
	return m;
}

struct text__fvec *text__thread_fvec(void)
{
	return &memo_this_thread()->scratch;
}

const struct text__doc *text__doc_for(const char *text)
{
	struct doc_memo *m = memo_this_thread();
	size_t n;

	if (!text)
		text = "";
	n = strlen(text);
	if (m->valid && m->text.len == n && !memcmp(m->text.buf, text, n))
		return &m->doc;
	m->valid = false;
	for (size_t i = 0; i < FEAT_MEMO; i++)
		m->feats[i].valid = false;
	text__doc_set(&m->doc, text, text__thread_stemmer());
	fl_buf_reset(&m->text);
	fl_buf_add(&m->text, text, n);
	m->valid = true;
	return &m->doc;
}

const struct text_tokens *text_tokens_shared(const char *text)
{
	return &text__doc_for(text)->tokens;
}

/* The unit of a token for words and bigrams: a stem or a placeholder. */
static const char *unit_of(const struct text__feat_opts *o, const struct text__doc *doc, size_t i, size_t *n)
{
	const struct text_token *t = &doc->tokens.v[i];

	switch (t->kind) {
	case TEXT_TOK_WORD:
		if ((o->extra & TEXT_FEAT_SOCIAL) && (t->flags & TEXT_TOK_MENTION)) {
			*n = 6;
			return "<user>";
		}
		return text__doc_stem(doc, i, n);
	case TEXT_TOK_NUMBER: *n = 5; return "<num>";
	case TEXT_TOK_URL: *n = 5; return "<url>";
	case TEXT_TOK_EMAIL: *n = 7; return "<email>";
	case TEXT_TOK_ORDER_ID: *n = 7; return "<order>";
	case TEXT_TOK_EMOJI:
	case TEXT_TOK_EMOTICON:
		*n = t->norm_len;
		return t->norm;
	case TEXT_TOK_PUNCT:
		break;
	}
	*n = 0;
	return NULL;
}

static void char_ngrams(const struct text__feat_opts *o, struct text__fvec *fv, uint32_t mask,
			const char *w, size_t n)
{
	char buf[66];
	size_t len, i, k;

	if (n > 64)
		n = 64;
	buf[0] = '<';
	memcpy(buf + 1, w, n);
	buf[n + 1] = '>';
	len = n + 2;
	for (k = o->char_min; k <= o->char_max; k++)
		for (i = 0; i + k <= len; i++) {
			/* skip n-grams that start inside a UTF-8 sequence */
			if (((unsigned char)buf[i] & 0xC0) == 0x80)
				continue;
			add(fv, mask, F_CHAR, buf + i, k);
		}
}

static bool same_opts(const struct text__feat_opts *a, const struct text__feat_opts *b)
{
	return a->hash_bits == b->hash_bits && a->words == b->words && a->bigrams == b->bigrams &&
	       a->char_min == b->char_min && a->char_max == b->char_max && a->extra == b->extra;
}

/* This thread's memo when doc is its (valid) doc, else NULL. */
static struct doc_memo *memo_of(const struct text__doc *doc)
{
	struct doc_memo *m;

	pthread_once(&memo_once, memo_key_init);
	m = pthread_getspecific(memo_key);
	return m && m->valid && doc == &m->doc ? m : NULL;
}

static void features(const struct text__feat_opts *o, const struct text__doc *doc, struct text__fvec *fv);

void text__features(const struct text__feat_opts *o, const struct text__doc *doc, struct text__fvec *fv)
{
	struct doc_memo *m = memo_of(doc);
	size_t i;

	if (!m) {
		features(o, doc, fv);
		return;
	}
	for (i = 0; i < FEAT_MEMO; i++)
		if (m->feats[i].valid && same_opts(&m->feats[i].fo, o)) {
			if (fv->alloc < m->feats[i].n) {
				fv->alloc = m->feats[i].n;
				fv->v = fl_reallocarray(fv->v, fv->alloc, sizeof(*fv->v));
			}
			if (m->feats[i].n) /* an empty text: no vector, and memcpy may not take NULL */
				memcpy(fv->v, m->feats[i].v, m->feats[i].n * sizeof(*fv->v));
			fv->n = m->feats[i].n;
			return;
		}
	features(o, doc, fv);
	i = m->next;
	m->next = (m->next + 1) % FEAT_MEMO;
	if (m->feats[i].alloc < fv->n) {
		m->feats[i].alloc = fv->n;
		m->feats[i].v = fl_reallocarray(m->feats[i].v, fv->n ? fv->n : 1, sizeof(*fv->v));
	}
	if (fv->n)
		memcpy(m->feats[i].v, fv->v, fv->n * sizeof(*fv->v));
	m->feats[i].n = fv->n;
	m->feats[i].fo = *o;
	m->feats[i].valid = true;
}

static void features(const struct text__feat_opts *o, const struct text__doc *doc, struct text__fvec *fv)
{
	const struct text_tokens *tokens = &doc->tokens;
	uint32_t mask = (uint32_t)((1ULL << o->hash_bits) - 1);
	const char *prev = NULL;
	size_t i, start, caps = 0, words = 0, bangs = 0, prev_len = 0, elong = 0;

	fv->n = 0;
	for (i = 0; i < tokens->n; i++) {
		const struct text_token *t = &tokens->v[i];
		const char *u;
		size_t n;

		if (t->kind == TEXT_TOK_PUNCT) {
			if (t->norm[0] == '!' || t->norm[0] == '?') {
				add(fv, mask, F_SYMBOL, t->norm, t->norm_len > 2 ? 2 : t->norm_len);
				if (t->norm[0] == '!')
					bangs += t->norm_len;
			}
			prev = NULL;
			continue;
		}
		u = unit_of(o, doc, i, &n);
		if (t->kind == TEXT_TOK_WORD) {
			words++;
			if (t->flags & TEXT_TOK_ALLCAPS)
				caps++;
			elong += (t->flags & TEXT_TOK_ELONGATED) != 0;
			if (o->words && (o->extra & TEXT_FEAT_CONTRAST) && (t->flags & TEXT_TOK_CONTRAST))
				add(fv, mask, F_CONTRAST, u, n);
			if (o->words)
				add(fv, mask, F_WORD, u, n);
			if (o->words && (t->flags & TEXT_TOK_NEGATED))
				add(fv, mask, F_NEG, u, n);
			if (o->words && (t->flags & TEXT_TOK_INTENSIFIED))
				add(fv, mask, F_BOOST, u, n);
		} else {
			add(fv, mask, t->kind == TEXT_TOK_EMOJI || t->kind == TEXT_TOK_EMOTICON ? F_SYMBOL : F_KIND,
			    u, n);
		}
		if (o->bigrams && prev)
			add2(fv, mask, prev, prev_len, u, n);
		prev = u;
		prev_len = n;
	}
	if (caps && words >= 3 && caps * 2 >= words)
		add(fv, mask, F_CUE, "allcaps", 7);
	else if (caps)
		add(fv, mask, F_CUE, "somecaps", 8);
	if (bangs >= 3)
		add(fv, mask, F_CUE, "bangs", 5);
	if (elong && (o->extra & TEXT_FEAT_SOCIAL))
		add(fv, mask, F_CUE, "elong", 5);
	finish_group(fv, 0);
	start = fv->n;
	if (o->char_min && o->char_max >= o->char_min)
		for (i = 0; i < tokens->n; i++)
			if (tokens->v[i].kind == TEXT_TOK_WORD &&
			    !((o->extra & TEXT_FEAT_SOCIAL) && (tokens->v[i].flags & TEXT_TOK_MENTION)))
				char_ngrams(o, fv, mask, tokens->v[i].norm, tokens->v[i].norm_len);
	finish_group(fv, start);
	if (start && fv->n > start) /* two unit groups: the whole has norm sqrt(2) */
		for (i = 0; i < fv->n; i++)
			fv->v[i].val *= (float)M_SQRT1_2;
}

void text__fvec_release(struct text__fvec *fv)
{
	free(fv->v);
	free(fv->tab);
	fv->v = NULL;
	fv->tab = NULL;
	fv->n = fv->alloc = fv->tab_cap = 0;
}
