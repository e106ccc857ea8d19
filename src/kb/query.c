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
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

struct qtok {
	char *term;
	int start, end;
	bool stop;
	size_t group;   /* SIZE_MAX: none */
};

/* Tokens of a query: on the planner's stack up to QTOK_STACK of them (no malloc for most queries). */
#define QTOK_STACK 128

struct qtoks {
	struct qtok *t;
	size_t n, alloc;
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
	t->term = fl_strndup(term, (size_t)len);
	t->start = start;
	t->end = end;
	t->stop = q->use_stop && kb__termset_has(&q->words->stop, term, (size_t)len);
	t->group = SIZE_MAX;
	return 0;
}

static struct kb_phrase *find_phrase(struct kb_qplan *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nph; i++)
		if (!strcmp(p->ph[i].key, key))
			return &p->ph[i];
	return NULL;
}

/*
 * Adds a phrase unless one with the same terms is there; takes surface and
 * key. Returns the index of the phrase with these terms, or SIZE_MAX when the
 * plan is full.
 */
static size_t add_phrase(struct kb_qplan *p, char *surface, char *key, size_t group, double weight,
			 bool primary, size_t src)
{
	struct kb_phrase *ph = find_phrase(p, key);

	if (ph || p->nph >= KB_MAX_PHRASES) {
		free(surface);
		free(key);
		return ph ? (size_t)(ph - p->ph) : SIZE_MAX;
	}
	if (!p->nph || !(p->nph & (p->nph - 1))) /* at 1, 2, 4, 8 ...: room for twice as many */
		p->ph = fl_reallocarray(p->ph, p->nph ? 2 * p->nph : 1, sizeof(*p->ph));
	ph = &p->ph[p->nph];
	memset(ph, 0, sizeof(*ph));
	ph->surface = surface;
	ph->key = key;
	ph->group = group;
	ph->weight = weight;
	ph->primary = primary;
	ph->src = src;
	return p->nph++;
}

static char *join_terms(char *const *terms, size_t n)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			fl_buf_addch(&b, ' ');
		fl_buf_adds(&b, terms[i]);
	}
	return fl_buf_detach(&b, NULL);
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

	while (lo < hi) { /* first lhs form whose first term is >= the token's */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_form_first(w, w->by_first[mid], q->t[i].term) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < w->nby_first && !cmp_form_first(w, w->by_first[k], q->t[i].term); k++) {
		const struct kb_syn_form *f = &w->forms[w->by_first[k]];

		if (i + f->nterms > q->n)
			continue;
		for (j = 1; j < f->nterms; j++)
			if (strcmp(f->terms[j], q->t[i + j].term))
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
static void expand_match(struct kb_qplan *p, const struct qtoks *q, const struct match *m,
			 const char *query)
{
	const struct kb_words *w = p->words;
	const struct kb_syn_form *f = m->f;
	size_t j, group = SIZE_MAX, src;

	for (j = 0; j < f->nterms && group == SIZE_MAX; j++)
		group = q->t[m->at + j].group;
	if (group == SIZE_MAX) /* only stop words matched */
		return;
	if (f->nterms > 1) {
		const struct qtok *first = &q->t[m->at], *last = &q->t[m->at + f->nterms - 1];

		/* weight 0: its words already count; it is here for its document frequency */
		src = add_phrase(p, fl_strndup(query + first->start, (size_t)(last->end - first->start)),
				 join_terms(f->terms, f->nterms), group, 0.0, false, SIZE_MAX);
	} else {
		src = find_phrase(p, f->terms[0]) ? (size_t)(find_phrase(p, f->terms[0]) - p->ph) : SIZE_MAX;
	}
	for (j = w->rule_start[f->rule]; j < w->rule_start[f->rule + 1]; j++) {
		const struct kb_syn_form *g = &w->forms[j];

		if (g == f || !g->rhs)
			continue;
		add_phrase(p, fl_strdup(g->surface), join_terms(g->terms, g->nterms), group,
			   p->params.synonym_weight, false, src);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The qterms set, and each phrase's term count and stop-word mask. */
static void build_qterms(struct kb_qplan *p)
{
	char **terms = NULL;
	size_t n = 0, alloc = 0, i, j;

	for (i = 0; i < p->nph; i++) {
		const char *s = p->ph[i].key;

		p->ph[i].nterms = 0;
		p->ph[i].stopmask = 0;
		while (*s) {
			size_t len = strcspn(s, " ");

			if (!(p->params.stop_words && kb__termset_has(&p->words->stop, s, len))) {
				if (n == alloc) {
					alloc = alloc ? 2 * alloc : 32;
					terms = fl_reallocarray(terms, alloc, sizeof(*terms));
				}
				terms[n++] = fl_strndup(s, len);
			} else if (p->ph[i].nterms < 64) {
				p->ph[i].stopmask |= (uint64_t)1 << p->ph[i].nterms;
			}
			p->ph[i].nterms++;
			s += len;
			s += *s == ' ';
		}
	}
	if (n)
		qsort(terms, n, sizeof(*terms), cmp_str);
	for (i = j = 0; i < n; i++) {
		if (j && !strcmp(terms[j - 1], terms[i]))
			free(terms[i]);
		else
			terms[j++] = terms[i];
	}
	p->qterms.terms = terms;
	p->qterms.n = j;
}

static void add_quoted(struct fl_buf *b, const char *surface)
{
	const char *c;

	fl_buf_addch(b, '"');
	for (c = surface; *c; c++) {
		if (*c == '"')
			fl_buf_addch(b, '"');
		fl_buf_addch(b, *c);
	}
	fl_buf_addch(b, '"');
}

/* Appends phrase i to the MATCH text and the FTS5-phrase map. */
static void map_phrase(struct kb_qplan *p, struct fl_buf *b, size_t i, bool count, bool first_in_group)
{
	if (!first_in_group)
		fl_buf_adds(b, " OR ");
	add_quoted(b, p->ph[i].surface);
	if (p->first_fts[i] == SIZE_MAX)
		p->first_fts[i] = p->nfts;
	p->fts_map[p->nfts] = i;
	p->fts_count[p->nfts++] = count;
}

void kb__qplan_match(struct kb_qplan *p, const bool *selective)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i, nsel = 0, npresent = 0;
	bool first = true;

	free(p->match);
	free(p->fts_map);
	free(p->fts_count);
	free(p->first_fts);
	p->match = NULL;
	p->fts_map = fl_calloc(2 * p->nph + 1, sizeof(*p->fts_map));
	p->fts_count = fl_calloc(2 * p->nph + 1, sizeof(*p->fts_count));
	p->first_fts = fl_calloc(p->nph + 1, sizeof(*p->first_fts));
	p->nfts = 0;
	for (i = 0; i < p->nph; i++) {
		p->first_fts[i] = SIZE_MAX;
		if (p->absent && p->absent[i])
			continue;
		npresent++;
		nsel += selective && selective[i];
	}
	if (!npresent)
		return; /* no phrase is in any article: nothing can match */
	if (nsel && nsel < npresent) {
		/*
		 * (selective phrases) AND (every phrase): the candidates are the
		 * articles with a selective phrase, and FTS5 still reports where
		 * the common phrases occur in them. The selective phrases' second
		 * copies are not counted twice.
		 */
		fl_buf_addch(&b, '(');
		for (i = 0; i < p->nph; i++)
			if (selective[i] && !(p->absent && p->absent[i])) {
				map_phrase(p, &b, i, true, first);
				first = false;
			}
		fl_buf_adds(&b, ") AND (");
		first = true;
		for (i = 0; i < p->nph; i++) {
			if (p->absent && p->absent[i])
				continue;
			map_phrase(p, &b, i, !selective[i], first);
			first = false;
		}
		fl_buf_addch(&b, ')');
	} else {
		for (i = 0; i < p->nph; i++) {
			if (p->absent && p->absent[i])
				continue;
			map_phrase(p, &b, i, true, first);
			first = false;
		}
	}
	p->match = fl_buf_detach(&b, NULL);
}

int kb__qplan_build(struct kb_qplan *p, struct kb_tok *tok, const struct kb_words *words,
		    const struct kb_params *params, const char *query)
{
	struct qtok qstack[QTOK_STACK];
	struct qtoks q = { qstack, 0, QTOK_STACK, words, params->stop_words, qstack };
	struct match *m = NULL;
	size_t i, j, nm = 0, nonstop = 0, *parent = NULL, *group_of = NULL;
	size_t pstack[QTOK_STACK], gstack[QTOK_STACK];

	memset(p, 0, sizeof(*p));
	p->params = *params;
	p->words = words;
	kb__tok_terms(tok, query, (int)strlen(query), collect_qtok, &q);
	if (!q.n)
		goto out;
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
			if (!strcmp(q.t[j].term, q.t[i].term)) {
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
			group_of[r] = p->ngroups++;
		}
		t->group = group_of[r];
		add_phrase(p, fl_strndup(query + t->start, (size_t)(t->end - t->start)), fl_strdup(t->term),
			   t->group, 1.0, true, SIZE_MAX);
	}
	for (i = 0; i < nm; i++)
		expand_match(p, &q, &m[i], query);
out:
	for (i = 0; i < q.n; i++)
		free(q.t[i].term);
	if (q.t != qstack)
		free(q.t);
	free(m);
	if (parent != pstack)
		free(parent);
	if (group_of != gstack)
		free(group_of);
	if (!p->nph)
		return KB_OK;
	build_qterms(p);
	return KB_OK;
}

void kb__qplan_release(struct kb_qplan *p)
{
	size_t i;

	for (i = 0; i < p->nph; i++) {
		free(p->ph[i].surface);
		free(p->ph[i].key);
	}
	free(p->ph);
	kb__termset_release(&p->qterms);
	free(p->match);
	free(p->fts_map);
	free(p->fts_count);
	free(p->first_fts);
	free(p->absent);
	free(p->gidf);
	free(p->scratch);
	free(p->top);
	free(p->covered);
	memset(p, 0, sizeof(*p));
}
