/*
 * Builds the stemmed forms of the stop-word and synonym tables (synonyms.c)
 * once per handle, with the index's own term stream, and answers membership
 * questions about them. Read-only after kb_open, so every thread may share it.
 */
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

struct term_list {
	char **terms;
	size_t n;
};

static int collect_term(void *arg, const char *term, int len, int start, int end)
{
	struct term_list *l = arg;

	(void)start;
	(void)end;
	l->terms = fl_reallocarray(l->terms, l->n + 1, sizeof(*l->terms));
	l->terms[l->n++] = fl_strndup(term, (size_t)len);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool kb__termset_has(const struct kb_termset *s, const char *term, size_t len)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(s->terms[mid], term, len);

		if (c == 0 && s->terms[mid][len] != '\0')
			c = 1;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

void kb__termset_release(struct kb_termset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->terms[i]);
	free(s->terms);
	s->terms = NULL;
	s->n = 0;
}

static void build_stop(struct kb_termset *stop, struct kb_tok *tok)
{
	struct term_list l = { NULL, 0 };
	size_t i, j;

	for (i = 0; kb__stop_words[i]; i++)
		kb__tok_terms(tok, kb__stop_words[i], (int)strlen(kb__stop_words[i]), collect_term, &l);
	qsort(l.terms, l.n, sizeof(*l.terms), cmp_str);
	for (i = j = 0; i < l.n; i++) { /* unique */
		if (j && !strcmp(l.terms[j - 1], l.terms[i]))
			free(l.terms[i]);
		else
			l.terms[j++] = l.terms[i];
	}
	stop->terms = l.terms;
	stop->n = j;
}

static void add_form(struct kb_words *w, struct kb_tok *tok, const char *s, size_t len, size_t rule,
		     bool lhs, bool rhs)
{
	struct term_list l = { NULL, 0 };
	struct kb_syn_form *f;
	const char *p = fl_str_trim(s, &len);

	if (!len)
		return;
	kb__tok_terms(tok, p, (int)len, collect_term, &l);
	if (!l.n)
		return;
	w->forms = fl_reallocarray(w->forms, w->nforms + 1, sizeof(*w->forms));
	f = &w->forms[w->nforms++];
	f->surface = fl_strndup(p, len);
	f->terms = l.terms;
	f->nterms = l.n;
	f->stopmask = 0;
	{
		struct fl_buf key = FL_BUF_INIT;
		size_t i;

		for (i = 0; i < l.n; i++) {
			fl_buf_adds(&key, i ? " " : "");
			fl_buf_adds(&key, l.terms[i]);
			if (i < 64 && kb__termset_has(&w->stop, l.terms[i], strlen(l.terms[i])))
				f->stopmask |= (uint64_t)1 << i;
		}
		f->key = fl_buf_detach(&key, NULL);
	}
	f->rule = rule;
	f->lhs = lhs;
	f->rhs = rhs;
}

/* Adds the '|'-separated forms of s[0..len). */
static void add_side(struct kb_words *w, struct kb_tok *tok, const char *s, size_t len, size_t rule,
		     bool lhs, bool rhs)
{
	const char *end = s + len;

	while (s < end) {
		const char *bar = memchr(s, '|', (size_t)(end - s));
		const char *stop = bar ? bar : end;

		add_form(w, tok, s, (size_t)(stop - s), rule, lhs, rhs);
		s = bar ? bar + 1 : end;
	}
}

static int cmp_first(const void *a, const void *b, void *arg)
{
	const struct kb_words *w = arg;
	const struct kb_syn_form *fa = &w->forms[*(const size_t *)a];
	const struct kb_syn_form *fb = &w->forms[*(const size_t *)b];
	int c = strcmp(fa->terms[0], fb->terms[0]);

	if (c)
		return c;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

int kb__words_init(struct kb_words *w, struct kb_tok *tok)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	build_stop(&w->stop, tok);
	for (i = 0; kb__synonym_sets[i]; i++) {
		const char *e = kb__synonym_sets[i];
		const char *arrow = strchr(e, '>');

		w->rule_start = fl_reallocarray(w->rule_start, w->nrules + 2, sizeof(size_t));
		w->rule_start[w->nrules] = w->nforms;
		if (arrow) {
			add_side(w, tok, e, (size_t)(arrow - e), w->nrules, true, false);
			add_side(w, tok, arrow + 1, strlen(arrow + 1), w->nrules, false, true);
		} else {
			add_side(w, tok, e, strlen(e), w->nrules, true, true);
		}
		w->nrules++;
		w->rule_start[w->nrules] = w->nforms;
	}
	w->by_first = fl_calloc(w->nforms ? w->nforms : 1, sizeof(size_t));
	for (i = 0; i < w->nforms; i++)
		if (w->forms[i].lhs)
			w->by_first[w->nby_first++] = i;
	qsort_r(w->by_first, w->nby_first, sizeof(size_t), cmp_first, w);
	return KB_OK;
}

void kb__words_release(struct kb_words *w)
{
	size_t i, j;

	kb__termset_release(&w->stop);
	for (i = 0; i < w->nforms; i++) {
		for (j = 0; j < w->forms[i].nterms; j++)
			free(w->forms[i].terms[j]);
		free(w->forms[i].terms);
		free(w->forms[i].surface);
		free(w->forms[i].key);
	}
	free(w->forms);
	free(w->rule_start);
	free(w->by_first);
	memset(w, 0, sizeof(*w));
}
