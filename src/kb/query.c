/*
 * Query planning: from the customer's text to the phrases that FTS5 matches
 * and kb_rank weighs.
 *
 * Each word that is not a stop word becomes a concept (a group) with its own
 * word as the primary phrase; repeated words share one concept. Then every
 * synonym form found in the query's term sequence (stop words included, so
 * "sign in" and "more than one" are found) adds the forms it expands to as
 * phrases of the same concept, with the synonym weight. The MATCH expression
 * is the OR of all phrases, each quoted so that FTS5's query syntax never
 * applies to customer text; on a large index it becomes (selective phrases)
 * AND (all phrases), see kb__qplan_match.
 *
 * A phrase's text in the expression is its key (its stemmed terms) behind
 * KB_TERMS_MARK: FTS5's tokenizer passes such text on as it is, so FTS5
 * looks up exactly the terms the plan has, without stemming them a second
 * time. The phrases are found again by their key through a small hash table
 * in the plan; the synonym forms' keys and stop-word masks are made once,
 * with the word lists.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

struct qtok {
	size_t term;    /* offset in the term buffer */
	uint64_t hash;  /* of the term (FNV-1a), to compare terms quickly */
	int start, end;
	bool stop;      /* left out of the concepts */
	bool stopword;  /* in the stop list (whatever stop says) */
	size_t group;   /* SIZE_MAX: none */
};

/* Tokens of a query: on the planner's stack up to QTOK_STACK of them (no malloc for most queries). */
#define QTOK_STACK 128

struct qtoks {
	struct qtok *t;
	size_t n, alloc;
	struct fl_buf terms;  /* each token's term, NUL-terminated */
	const struct kb_words *words;
	bool use_stop;
	struct qtok *stack;   /* t's first home */
};

static int collect_qtok(void *arg, const char *term, int len, int start, int end)
{
	struct qtoks *q = arg;
	struct qtok *t;

	if (q->n == q->alloc) {
		struct qtok *grown = fl_reallocarray(q->t == q->stack ? NULL : q->t, 2 * q->alloc, sizeof(*q->t));

		if (q->t == q->stack)
			memcpy(grown, q->stack, q->n * sizeof(*q->t));
		q->t = grown;
		q->alloc *= 2;
	}
	t = &q->t[q->n++];
	t->term = q->terms.len;
	fl_buf_add(&q->terms, term, (size_t)len);
	fl_buf_addch(&q->terms, '\0');
	t->hash = kb__fnv1a(q->terms.buf + t->term);
	t->start = start;
	t->end = end;
	t->stopword = kb__termset_has(&q->words->stop, term, (size_t)len);
	t->stop = q->use_stop && t->stopword;
	t->group = SIZE_MAX;
	return 0;
}

static const char *qterm(const struct qtoks *q, size_t i)
{
	return q->terms.buf + q->t[i].term;
}

/* The slot of key in the plan's hash table: its phrase's, or the empty one where it would go. */
static size_t key_slot(const struct kb_qplan *p, const char *key)
{
	size_t i = (size_t)kb__fnv1a(key) & (KB_QPLAN_SLOTS - 1);

	while (p->slot[i] && strcmp(p->ph[p->slot[i] - 1].key, key))
		i = (i + 1) & (KB_QPLAN_SLOTS - 1);
	return i;
}

static struct kb_phrase *find_phrase(struct kb_qplan *p, const char *key)
{
	size_t i = key_slot(p, key);

	return p->slot[i] ? &p->ph[p->slot[i] - 1] : NULL;
}

/*
 * Adds a phrase unless one with the same terms is there; key is borrowed
 * (the plan's term buffer or the word lists outlive the plan's use of it).
 * Returns the index of the phrase with these terms, or SIZE_MAX when the
 * plan is full.
 */
static size_t add_phrase(struct kb_qplan *p, const char *key, const struct kb_syn_form *form, size_t group,
			 double weight, bool primary, size_t src, uint64_t stopmask)
{
	size_t slot = key_slot(p, key);
	struct kb_phrase *ph;

	if (p->slot[slot])
		return p->slot[slot] - 1u;
	if (p->nph >= KB_MAX_PHRASES)
		return SIZE_MAX;
	ph = &p->ph[p->nph];
	memset(ph, 0, sizeof(*ph));
	p->omit[p->nph] = KB_OMIT_NONE;
	ph->key = key;
	ph->form = form;
	ph->group = group;
	ph->weight = weight;
	ph->primary = primary;
	ph->src = src;
	ph->nterms = form ? (unsigned)form->nterms : 1;
	ph->stopmask = p->params.stop_words ? stopmask : 0;
	p->slot[slot] = (uint16_t)(p->nph + 1);
	return p->nph++;
}

static int cmp_form_first(const struct kb_words *w, size_t idx, const char *term)
{
	return strcmp(w->forms[idx].terms[0], term);
}

/* A synonym form found in the query: tokens [at, at + f->nterms). */
struct match {
	size_t at;
	const struct kb_syn_form *f;
};

/* Appends the lhs forms that occur at position i of the query. */
static void find_forms_at(const struct kb_words *w, const struct qtoks *q, size_t i,
			  struct match **m, size_t *nm)
{
	size_t lo = 0, hi = w->nby_first, k, j;
	const char *term = qterm(q, i);

	while (lo < hi) { /* first lhs form whose first term is >= the token's */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_form_first(w, w->by_first[mid], term) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < w->nby_first && !cmp_form_first(w, w->by_first[k], term); k++) {
		const struct kb_syn_form *f = &w->forms[w->by_first[k]];

		if (i + f->nterms > q->n)
			continue;
		for (j = 1; j < f->nterms; j++)
			if (strcmp(f->terms[j], qterm(q, i + j)))
				break;
		if (j < f->nterms)
			continue;
		*m = fl_reallocarray(*m, *nm + 1, sizeof(**m));
		(*m)[(*nm)++] = (struct match){ i, f };
	}
}

/* Union-find over token positions: tokens of one concept share a root. */
static size_t root(size_t *parent, size_t i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

static void unite(size_t *parent, size_t a, size_t b)
{
	a = root(parent, a);
	b = root(parent, b);
	if (a != b)
		parent[a > b ? a : b] = a < b ? a : b;
}

/*
 * Adds the phrases of one synonym match: the customer's own multi-word form
 * (as a phrase of weight 0: its words count already as primaries), then the
 * forms it expands to, with the synonym weight. Each expansion remembers its
 * source phrase, so that kb_rank can give it full weight when the customer's
 * form appears in no article (an abbreviation the help centre never uses).
 */
static void expand_match(struct kb_qplan *p, const struct qtoks *q, const struct match *m)
{
	const struct kb_words *w = p->words;
	const struct kb_syn_form *f = m->f;
	size_t j, group = SIZE_MAX, src;

	for (j = 0; j < f->nterms && group == SIZE_MAX; j++)
		group = q->t[m->at + j].group;
	if (group == SIZE_MAX) /* only stop words matched */
		return;
	if (f->nterms > 1) {
		/* weight 0: its words already count; it is here for its document frequency */
		src = add_phrase(p, f->key, f, group, 0.0, false, SIZE_MAX, f->stopmask);
	} else {
		struct kb_phrase *own = find_phrase(p, f->terms[0]);

		src = own ? (size_t)(own - p->ph) : SIZE_MAX;
	}
	for (j = w->rule_start[f->rule]; j < w->rule_start[f->rule + 1]; j++) {
		const struct kb_syn_form *g = &w->forms[j];

		if (g == f || !g->rhs)
			continue;
		add_phrase(p, g->key, g, group, p->params.synonym_weight, false, src, g->stopmask);
	}
}

void kb__phrase_match(struct fl_buf *b, const struct kb_phrase *ph)
{
	const char *s = ph->key, *quote;

	fl_buf_addch(b, '"');
	fl_buf_addch(b, KB_TERMS_MARK);
	while ((quote = strchr(s, '"'))) { /* a '"' inside an FTS5 string is written twice */
		fl_buf_add(b, s, (size_t)(quote - s + 1));
		fl_buf_addch(b, '"');
		s = quote + 1;
	}
	fl_buf_adds(b, s);
	fl_buf_addch(b, '"');
}

/* Appends phrase i to the MATCH text and the FTS5-phrase map. */
static void map_phrase(struct kb_qplan *p, struct fl_buf *b, size_t i, bool count, bool first_in_group)
{
	if (!first_in_group)
		fl_buf_adds(b, " OR ");
	kb__phrase_match(b, &p->ph[i]);
	if (p->first_fts[i] == SIZE_MAX)
		p->first_fts[i] = p->nfts;
	p->fts_map[p->nfts] = i;
	p->fts_count[p->nfts++] = count;
}

void kb__qplan_match(struct kb_qplan *p, const bool *selective)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i, nsel = 0, npresent = 0;
	bool first = true, prune;

	free(p->match);
	p->match = NULL;
	p->nfts = 0;
	for (i = 0; i < p->nph; i++) {
		p->first_fts[i] = SIZE_MAX;
		if (p->omit[i] == KB_OMIT_ABSENT)
			continue;
		npresent++;
		nsel += selective && selective[i];
	}
	prune = nsel && nsel < npresent;
	if (!npresent)
		return; /* no phrase is in any article: nothing can match */
	if (prune) {
		/*
		 * (selective phrases) AND (every phrase): the candidates are the
		 * articles with a selective phrase, and FTS5 still reports where
		 * the common phrases occur in them. The selective phrases' second
		 * copies are not counted twice. Redundant phrases stay: they
		 * may be what makes an article a candidate.
		 */
		fl_buf_addch(&b, '(');
		for (i = 0; i < p->nph; i++)
			if (selective[i] && !(p->omit[i] == KB_OMIT_ABSENT)) {
				map_phrase(p, &b, i, true, first);
				first = false;
			}
		fl_buf_adds(&b, ") AND (");
		first = true;
		for (i = 0; i < p->nph; i++) {
			if (p->omit[i] == KB_OMIT_ABSENT)
				continue;
			map_phrase(p, &b, i, !selective[i], first);
			first = false;
		}
		fl_buf_addch(&b, ')');
	} else {
		for (i = 0; i < p->nph; i++) {
			if (p->omit[i] != KB_OMIT_NONE)
				continue;
			map_phrase(p, &b, i, true, first);
			first = false;
		}
	}
	p->match = b.len ? fl_buf_detach(&b, NULL) : NULL;
	fl_buf_release(&b);
}

int kb__qplan_build(struct kb_qplan *p, struct kb_tok *tok, const struct kb_words *words,
		    const struct kb_params *params, const char *query)
{
	size_t end = strlen(query);

	return kb__qplan_build_parts(p, tok, words, params, query, &end, 1);
}

int kb__qplan_build_parts(struct kb_qplan *p, struct kb_tok *tok, const struct kb_words *words,
			  const struct kb_params *params, const char *query, const size_t *part_end,
			  size_t nparts)
{
	struct qtok qstack[QTOK_STACK];
	struct qtoks q = { qstack, 0, QTOK_STACK, FL_BUF_INIT, words, params->stop_words, qstack };
	struct match *m = NULL;
	size_t i, j, nm = 0, nonstop = 0, *parent = NULL, *group_of = NULL;
	size_t pstack[QTOK_STACK], gstack[QTOK_STACK];

	memset(p, 0, offsetof(struct kb_qplan, ph));
	p->params = *params;
	p->words = words;
	p->query = query;
	p->nparts = nparts < KB_MAX_PARTS ? nparts : KB_MAX_PARTS;
	memcpy(p->part_end, part_end, p->nparts * sizeof(*part_end));
	kb__tok_terms(tok, query, (int)strlen(query), collect_qtok, &q);
	if (!q.n)
		goto out;
	/* the buffer is complete: its terms may now be pointed at */
	p->terms = fl_buf_detach(&q.terms, NULL);
	q.terms.buf = p->terms;
	for (i = 0; i < q.n; i++)
		nonstop += !q.t[i].stop;
	if (!nonstop) /* only stop words: search them rather than nothing */
		for (i = 0; i < q.n; i++)
			q.t[i].stop = false;
	if (params->synonyms)
		for (i = 0; i < q.n; i++)
			find_forms_at(words, &q, i, &m, &nm);
	/* concepts: a repeated word, and the words of one multi-word form, are one concept */
	parent = q.n <= QTOK_STACK ? pstack : fl_calloc(q.n, sizeof(*parent));
	group_of = q.n <= QTOK_STACK ? gstack : fl_calloc(q.n, sizeof(*group_of));
	for (i = 0; i < q.n; i++) {
		parent[i] = i;
		group_of[i] = SIZE_MAX;
		for (j = 0; j < i; j++)
			if (q.t[j].hash == q.t[i].hash && !strcmp(qterm(&q, j), qterm(&q, i))) {
				unite(parent, j, i);
				break;
			}
	}
	for (i = 0; i < nm; i++) {
		size_t first = SIZE_MAX;

		for (j = m[i].at; j < m[i].at + m[i].f->nterms; j++) {
			if (q.t[j].stop)
				continue;
			if (first == SIZE_MAX)
				first = j;
			else
				unite(parent, first, j);
		}
	}
	for (i = 0; i < q.n; i++) {
		struct qtok *t = &q.t[i];
		size_t r = root(parent, i);

		if (t->stop)
			continue;
		if (group_of[r] == SIZE_MAX) {
			if (p->ngroups >= KB_MAX_GROUPS)
				continue;
			p->gspan[p->ngroups][0] = t->start;
			p->gspan[p->ngroups][1] = t->end;
			group_of[r] = p->ngroups++;
		}
		t->group = group_of[r];
		for (j = 0; j + 1 < p->nparts && (size_t)t->start >= p->part_end[j]; j++)
			;
		p->gparts[t->group] |= (uint16_t)(1u << j);
		add_phrase(p, qterm(&q, i), NULL, t->group, 1.0, true, SIZE_MAX, t->stopword ? 1 : 0);
	}
	for (i = 0; i < nm; i++)
		expand_match(p, &q, &m[i]);
out:
	if (!p->terms)
		fl_buf_release(&q.terms);
	if (q.t != qstack)
		free(q.t);
	free(m);
	if (parent != pstack)
		free(parent);
	if (group_of != gstack)
		free(group_of);
	return KB_OK;
}

struct kb_qplan *kb__qplan_new(void)
{
	return fl_calloc(1, sizeof(struct kb_qplan));
}

void kb__qplan_free(struct kb_qplan *p)
{
	if (!p)
		return;
	kb__qplan_release(p);
	free(p->top);
	free(p->covered);
	free(p->rowmask);
	free(p);
}

void kb__qplan_top(struct kb_qplan *p, size_t ktop)
{
	if (ktop > p->top_alloc) {
		p->top = fl_reallocarray(p->top, ktop, sizeof(*p->top));
		p->top_alloc = ktop;
	}
	p->ktop = ktop;
	p->ntop = 0;
}

void kb__qplan_release(struct kb_qplan *p)
{
	free(p->terms);
	free(p->match);
	p->terms = NULL;
	p->match = NULL;
	p->nph = 0;
}
