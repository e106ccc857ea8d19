/*
 * Lexicon scoring in the manner of VADER, written for Frontline: a word's
 * valence from a lexicon file ("word<TAB>valence[<TAB>...]" lines, as the
 * VADER and AFINN files are), adjusted by our tokenizer's cues: negation
 * scope flips and damps it, an intensifier or ALL-CAPS (in a text that is not
 * all caps) strengthens it, "but" shifts weight to the clause after it, and
 * "!" amplifies the sum. The sum is squashed to -1..1.
 *
 * This is the comparison baseline of `frontline eval sentiment --lexicon`;
 * no lexicon is shipped with Frontline, the file is read at run time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

struct entry {
	char *word;
	double v;
};

struct text_lexicon {
	struct entry *slots;
	size_t cap, n;
};

static size_t slot_of(const struct text_lexicon *lx, const char *w, size_t len)
{
	size_t i = (size_t)text__hash(w, len, 0) & (lx->cap - 1);

	while (lx->slots[i].word &&
	       !(strlen(lx->slots[i].word) == len && !memcmp(lx->slots[i].word, w, len)))
		i = (i + 1) & (lx->cap - 1);
	return i;
}

static void lex_put(struct text_lexicon *lx, const char *w, double v)
{
	size_t i;

	if ((lx->n + 1) * 2 > lx->cap) {
		struct entry *old = lx->slots;
		size_t oldcap = lx->cap, k;

		lx->cap = lx->cap ? lx->cap * 2 : 1024;
		lx->slots = fl_calloc(lx->cap, sizeof(*lx->slots));
		for (k = 0; k < oldcap; k++)
			if (old[k].word)
				lx->slots[slot_of(lx, old[k].word, strlen(old[k].word))] = old[k];
		free(old);
	}
	i = slot_of(lx, w, strlen(w));
	if (lx->slots[i].word) {
		lx->slots[i].v = v;
		return;
	}
	lx->slots[i].word = fl_strdup(w);
	lx->slots[i].v = v;
	lx->n++;
}

static bool lex_get(const struct text_lexicon *lx, const char *w, size_t len, double *v)
{
	size_t i;

	if (!lx->cap)
		return false;
	i = slot_of(lx, w, len);
	if (!lx->slots[i].word)
		return false;
	*v = lx->slots[i].v;
	return true;
}

void text_lexicon_free(struct text_lexicon *lx)
{
	size_t i;

	if (!lx)
		return;
	for (i = 0; i < lx->cap; i++)
		free(lx->slots[i].word);
	free(lx->slots);
	free(lx);
}

int text_lexicon_load(const char *path, struct text_lexicon **out, char **err)
{
	FILE *f = fopen(path, "r");
	struct text_lexicon *lx;
	struct fl_buf norm = FL_BUF_INIT;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = TEXT_EDATA;

	*out = NULL;
	if (!f) {
		if (err)
			*err = fl_asprintf("cannot open '%s': %s", path, strerror(errno));
		return TEXT_EIO;
	}
	lx = fl_calloc(1, sizeof(*lx));
	while (getline(&line, &cap, f) >= 0) {
		char *tab = strchr(line, '\t'), *end;
		double v;

		lineno++;
		if (!tab || tab == line)
			continue; /* not an entry line */
		*tab = 0;
		v = strtod(tab + 1, &end);
		if (end == tab + 1) {
			if (err)
				*err = fl_asprintf("'%s' line %zu: expected WORD<TAB>VALENCE", path, lineno);
			goto out;
		}
		fl_buf_reset(&norm);
		text_normalize(line, strlen(line), &norm);
		lex_put(lx, norm.buf, v);
	}
	if (!lx->n) {
		if (err)
			*err = fl_asprintf("'%s' has no WORD<TAB>VALENCE lines", path);
		goto out;
	}
	*out = lx;
	lx = NULL;
	rc = TEXT_OK;
out:
	text_lexicon_free(lx);
	fl_buf_release(&norm);
	free(line);
	fclose(f);
	return rc;
}

size_t text_lexicon_size(const struct text_lexicon *lx)
{
	return lx->n;
}

struct text_lexicon *text__lexicon_from_json(const json_t *entries)
{
	struct text_lexicon *lx;
	const char *w;
	json_t *v;

	if (!json_object_size(entries))
		return NULL;
	lx = fl_calloc(1, sizeof(*lx));
	json_object_foreach((json_t *)entries, w, v)
		if (json_is_number(v))
			lex_put(lx, w, json_number_value(v));
	return lx;
}

json_t *text_lexicon_entries(const struct text_lexicon *lx)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < lx->cap; i++)
		if (lx->slots[i].word)
			json_object_set_new(o, lx->slots[i].word, json_real(lx->slots[i].v));
	return o;
}

double text_lexicon_score(const struct text_lexicon *lx, const char *text)
{
	struct text_tokens t = TEXT_TOKENS_INIT;
	double v;

	text_tokenize(text, strlen(text), &t);
	v = text__lexicon_score_tokens(lx, &t);
	text_tokens_release(&t);
	return v;
}

double text__lexicon_score_tokens(const struct text_lexicon *lx, const struct text_tokens *tk)
{
	const struct text_tokens *t = tk;
	size_t i, words = 0, caps = 0, bangs = 0, but_at = (size_t)-1;
	double sum = 0;

	for (i = 0; i < t->n; i++) {
		if (t->v[i].kind == TEXT_TOK_WORD) {
			words++;
			caps += (t->v[i].flags & TEXT_TOK_ALLCAPS) != 0;
			if (!strcmp(t->v[i].norm, "but"))
				but_at = i;
		}
		if (t->v[i].kind == TEXT_TOK_PUNCT && t->v[i].norm[0] == '!')
			bangs += t->v[i].norm_len;
	}
	for (i = 0; i < t->n; i++) {
		const struct text_token *k = &t->v[i];
		double v;

		if (k->kind == TEXT_TOK_PUNCT || k->kind == TEXT_TOK_NUMBER)
			continue;
		if (k->flags & (TEXT_TOK_NEGATOR | TEXT_TOK_INTENSIFIER))
			continue;
		if (!lex_get(lx, k->norm, k->norm_len, &v) || v == 0)
			continue;
		if ((k->flags & TEXT_TOK_ALLCAPS) && caps < words)
			v += v > 0 ? 0.733 : -0.733;
		if (k->flags & TEXT_TOK_INTENSIFIED)
			v += v > 0 ? 0.293 : -0.293;
		if (k->flags & TEXT_TOK_NEGATED)
			v *= -0.74;
		if (but_at != (size_t)-1)
			v *= i < but_at ? 0.5 : 1.5;
		sum += v;
	}
	if (sum != 0 && bangs)
		sum += (sum > 0 ? 1 : -1) * 0.292 * (double)(bangs > 4 ? 4 : bangs);
	return sum / sqrt(sum * sum + 15.0);
}
