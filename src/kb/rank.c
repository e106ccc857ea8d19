/*
 * kb_rank: the FTS5 auxiliary function that scores one matching article for
 * a query plan (query.c). FTS5 finds the candidates and hands us each one's
 * phrase instances, field lengths and text; the scoring is ours:
 *
 *   BM25F     per phrase i: tf~ = sum over fields f of w_f * tf_if /
 *             (1 - b_f + b_f * len_f / avglen_f);  s += weight_i * idf_i *
 *             tf~ / (k1 + tf~), idf_i = ln(1 + (N - df_i + 0.5) / (df_i + 0.5))
 *   coverage  s *= (1 + title_coverage * T) * (1 + query_coverage * Q), where
 *             T is the share of the title's (non-stop) words that the query's
 *             phrases contain, and Q the idf-weighted share of the query's
 *             concepts found in the title. A query of n concepts (known to
 *             the articles or not) above title_concepts gets title_coverage *
 *             title_concepts / n: a ticket of twenty words covers a short
 *             title's words by chance, a query that restates a title does not
 *             need twenty. relevance_score's ideal takes the same boost.
 *
 * Statistics (N, average field lengths, each phrase's document frequency) are
 * computed once per query, on the first row, as FTS5's own bm25 does; the
 * frequencies come from the connection's cache when the articles have not
 * changed since (dfcache.c). Field lengths come from the handle's table
 * (write.c), not from FTS5's per-row lookup.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

enum { F_TITLE, F_TAGS, F_BODY, NFIELDS };

/*
 * relevance_score's yardstick counts this many concepts: on our ticket
 * fixture and StackFAQ it puts most right answers above 0.35 and most
 * unrelated articles below 0.25 (docs/QUALITY.md).
 */
#define KB_IDEAL_CONCEPTS 5

static int count_row(const Fts5ExtensionApi *api, Fts5Context *fts, void *arg)
{
	(void)api;
	(void)fts;
	*(double *)arg += 1;
	return SQLITE_OK;
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * The idf mass that relevance_score is measured against: per concept, the
 * best weight x idf among its phrases that some article contains (a word no
 * article has cannot be matched, so it does not lower every score), summed
 * over the KB_IDEAL_CONCEPTS most specific concepts (a long ticket is not
 * expected to match an article on every one of its words).
 */
static double ideal_mass(const struct kb_qplan *p)
{
	double *best = fl_calloc(p->ngroups ? p->ngroups : 1, sizeof(double)), sum = 0;
	size_t i;

	for (i = 0; i < p->nph; i++) {
		double v = p->ph[i].weight * p->ph[i].idf;

		if (p->ph[i].df > 0 && v > best[p->ph[i].group])
			best[p->ph[i].group] = v;
	}
	qsort(best, p->ngroups, sizeof(double), cmp_desc);
	for (i = 0; i < p->ngroups && i < KB_IDEAL_CONCEPTS; i++)
		sum += best[i];
	free(best);
	return sum;
}

static int plan_stats(const Fts5ExtensionApi *api, Fts5Context *fts, struct kb_qplan *p)
{
	const struct kb_params *k = &p->params;
	sqlite3_int64 nrow = 0, total;
	double sat;
	size_t i;
	int rc, f;

	if ((size_t)api->xPhraseCount(fts) != p->nfts || api->xColumnCount(fts) != NFIELDS)
		return SQLITE_ERROR;
	if (p->dfc && p->dfc->have_sizes) { /* the articles have not changed since FTS5 last said */
		p->nrows = p->dfc->nrows;
		memcpy(p->avglen, p->dfc->avglen, sizeof(p->avglen));
	} else {
		rc = api->xRowCount(fts, &nrow);
		if (rc)
			return rc;
		p->nrows = (double)nrow;
		for (f = 0; f < NFIELDS; f++) {
			rc = api->xColumnTotalSize(fts, f, &total);
			if (rc)
				return rc;
			p->avglen[f] = nrow > 0 ? (double)total / (double)nrow : 0;
		}
		if (p->dfc) {
			p->dfc->nrows = p->nrows;
			memcpy(p->dfc->avglen, p->avglen, sizeof(p->avglen));
			p->dfc->have_sizes = true;
		}
	}
	memset(p->gidf, 0, sizeof(p->gidf));
	for (i = 0; i < p->nph; i++) {
		double df = 0;

		if (p->first_fts[i] == SIZE_MAX || p->ph[i].df_known) {
			/* known when the plan was made (always, for a phrase left out of the expression) */
			df = p->ph[i].df;
		} else if (!p->dfc || !kb__dfcache_get(p->dfc, p->ph[i].key, &df)) {
			rc = api->xQueryPhrase(fts, (int)p->first_fts[i], &df, count_row);
			if (rc)
				return rc;
			if (p->dfc)
				kb__dfcache_put(p->dfc, p->ph[i].key, df);
		}
		p->ph[i].df = df;
		p->ph[i].idf = log(1.0 + (p->nrows - df + 0.5) / (df + 0.5));
		if (p->ph[i].primary && p->ph[i].idf > p->gidf[p->ph[i].group])
			p->gidf[p->ph[i].group] = p->ph[i].idf;
	}
	/* the customer's form is in no article: its synonyms are the only way to match it */
	for (i = 0; i < p->nph; i++)
		if (p->ph[i].src != SIZE_MAX && p->ph[p->ph[i].src].df == 0)
			p->ph[i].weight = 1.0;
	p->gidf_total = 0;
	for (i = 0; i < p->ngroups; i++)
		p->gidf_total += p->gidf[i];
	p->title_boost = k->title_coverage;
	if (k->title_concepts > 0 && (double)p->ngroups > k->title_concepts)
		p->title_boost *= k->title_concepts / (double)p->ngroups;
	/* every concept once in a title of average length, the title fully covered */
	sat = k->w_title / (k->k1 + k->w_title);
	p->ideal = ideal_mass(p) * sat * (1 + p->title_boost) * (1 + k->query_coverage);
	memset(p->scratch, 0, p->nph * NFIELDS * sizeof(*p->scratch));
	p->stats_ready = true;
	return SQLITE_OK;
}

struct title_scan {
	const struct kb_qplan *p;
	int words;
};

/* Counts the title's words that are not stop words (when the index has no count of its own). */
static int title_term(void *arg, int flags, const char *term, int len, int start, int end)
{
	struct title_scan *t = arg;

	(void)flags;
	(void)start;
	(void)end;
	if (!(t->p->params.stop_words && kb__termset_has(&t->p->words->stop, term, (size_t)len)))
		t->words++;
	return SQLITE_OK;
}

/* Marks title position off as covered; returns 1 when it was not yet. */
static int cover(struct kb_qplan *p, int off)
{
	size_t i;

	for (i = 0; i < p->ncovered; i++)
		if (p->covered[i] == off)
			return 0;
	if (p->ncovered == p->covered_alloc) {
		p->covered_alloc = p->covered_alloc ? 2 * p->covered_alloc : 32;
		p->covered = fl_reallocarray(p->covered, p->covered_alloc, sizeof(*p->covered));
	}
	p->covered[p->ncovered++] = off;
	return 1;
}

/* The smallest of the best scores, or -1 while fewer than ktop are known. */
static double top_floor(const struct kb_qplan *p)
{
	return p->ktop && p->ntop == p->ktop ? p->top[0] : -1;
}

static void top_push(struct kb_qplan *p, double s)
{
	size_t i, c;
	double t;

	if (!p->ktop)
		return;
	if (p->ntop < p->ktop) { /* sift up */
		i = p->ntop++;
		p->top[i] = s;
		while (i && p->top[(i - 1) / 2] > p->top[i]) {
			t = p->top[i];
			p->top[i] = p->top[(i - 1) / 2];
			p->top[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (s <= p->top[0])
		return;
	p->top[0] = s; /* sift down */
	for (i = 0; (c = 2 * i + 1) < p->ntop; i = c) {
		if (c + 1 < p->ntop && p->top[c + 1] < p->top[c])
			c++;
		if (p->top[i] <= p->top[c])
			break;
		t = p->top[i];
		p->top[i] = p->top[c];
		p->top[c] = t;
	}
}

/* Remembers which concepts row rowid contains (kb__coverage reads it for the rows returned). */
static void record_groups(struct kb_qplan *p, sqlite3_int64 rowid, uint64_t groups, const double *ps)
{
	size_t k;

	if (p->nrowmask == p->rowmask_alloc) {
		p->rowmask_alloc = p->rowmask_alloc ? 2 * p->rowmask_alloc : 64;
		p->rowmask = fl_reallocarray(p->rowmask, p->rowmask_alloc, sizeof(*p->rowmask));
	}
	p->rowmask[p->nrowmask].rowid = rowid;
	p->rowmask[p->nrowmask].mask = groups;
	for (k = 0; k < KB_MAX_PARTS; k++)
		p->rowmask[p->nrowmask].part_score[k] = k < p->nparts ? (float)ps[k] : 0;
	p->nrowmask++;
}

static int score_row(const Fts5ExtensionApi *api, Fts5Context *fts, struct kb_qplan *p, double *out)
{
	const struct kb_params *k = &p->params;
	const double w[NFIELDS] = { k->w_title, k->w_tags, k->w_body };
	const double b[NFIELDS] = { k->b_title, k->b_tags, k->b_body };
	double *tf = p->scratch, norm[NFIELDS];
	uint64_t touched[KB_PHRASE_WORDS] = { 0 }, hit = 0, groups = 0;
	const struct kb_docinfo *info;
	sqlite3_int64 rowid;
	double s = 0, q = 0, boost_max, ps[KB_MAX_PARTS] = { 0 };
	int i, rc, f, covered = 0;
	size_t j, wd;

	p->ncovered = 0;
	rowid = api->xRowid(fts);
	info = rowid >= 0 && (size_t)rowid < p->ninfo && p->info[rowid].known ? &p->info[rowid] : NULL;
	/* another language's article: not a candidate (its phrases were not counted yet) */
	if (p->language && info && strcmp(info->lang, p->language)) {
		*out = 0;
		return SQLITE_OK;
	}
	/*
	 * Each FTS5 phrase's own position list (xPhraseFirst/Next): the same
	 * instances as xInst gives, without FTS5 sorting the instances of every
	 * phrase into one list first (a merge across all phrases per row, which
	 * was a fifth of a ticket's search). Nothing here depends on their order.
	 * touched marks the plan phrases found in this row: the sums below run
	 * over them only, in phrase order (the others add nothing).
	 */
	for (i = 0; (size_t)i < p->nfts; i++) {
		Fts5PhraseIter it;
		int col = -1, off = -1;
		size_t ph;
		unsigned t;

		if (!p->fts_count[i])
			continue;
		ph = p->fts_map[i];
		rc = api->xPhraseFirst(fts, i, &it, &col, &off);
		if (rc)
			goto fail;
		for (; col >= 0; api->xPhraseNext(fts, &it, &col, &off)) {
			if (col >= NFIELDS)
				continue;
			tf[ph * NFIELDS + (size_t)col] += 1;
			touched[ph / 64] |= (uint64_t)1 << (ph % 64);
			if (col != F_TITLE)
				continue;
			/* the title positions this instance covers, stop words aside */
			for (t = 0; t < p->ph[ph].nterms; t++)
				if (!(t < 64 && (p->ph[ph].stopmask >> t) & 1))
					covered += cover(p, off + (int)t);
		}
	}
	for (f = 0; f < NFIELDS; f++) {
		int len = 0;

		if (info)
			len = (int)info->len[f];
		else if ((rc = api->xColumnSize(fts, f, &len)))
			goto fail;
		norm[f] = p->avglen[f] > 0 ? 1 - b[f] + b[f] * len / p->avglen[f] : 1;
	}
	for (wd = 0; wd < KB_PHRASE_WORDS; wd++) {
		for (uint64_t m = touched[wd]; m; m &= m - 1) {
			double wtf = 0, *tfj, c;

			j = wd * 64 + (size_t)__builtin_ctzll(m);
			tfj = &tf[j * NFIELDS];
			for (f = 0; f < NFIELDS; f++)
				if (tfj[f] > 0)
					wtf += w[f] * tfj[f] / norm[f];
			if (tfj[F_TITLE] > 0 && wtf > 0)
				hit |= (uint64_t)1 << p->ph[j].group;
			memset(tfj, 0, NFIELDS * sizeof(*tfj)); /* ready for the next row */
			if (wtf <= 0)
				continue;
			groups |= (uint64_t)1 << p->ph[j].group;
			c = p->ph[j].weight * p->ph[j].idf * wtf / (k->k1 + wtf);
			s += c;
			if (p->nparts > 1)
				for (uint16_t bits = p->gparts[p->ph[j].group]; bits; bits &= (uint16_t)(bits - 1))
					ps[__builtin_ctz(bits)] += c;
		}
	}
	if (s <= 0) {
		*out = 0;
		return SQLITE_OK;
	}
	record_groups(p, rowid, groups, ps);
	for (; hit; hit &= hit - 1)
		q += p->gidf[__builtin_ctzll(hit)];
	if (p->gidf_total > 0)
		s *= 1 + k->query_coverage * q / p->gidf_total;
	boost_max = 1 + p->title_boost;
	if (p->title_boost > 0 && s * boost_max >= top_floor(p)) {
		int words;

		if (info) {
			words = p->params.stop_words ? (int)info->title_words : (int)info->len[F_TITLE];
		} else { /* a row this handle did not write: count the title's words */
			struct title_scan t = { p, 0 };
			const char *text = NULL;
			int n = 0;

			rc = api->xColumnText(fts, F_TITLE, &text, &n);
			if (rc == SQLITE_OK && text)
				rc = api->xTokenize(fts, text, n, &t, title_term);
			if (rc)
				return rc;
			words = t.words;
		}
		if (words > 0)
			s *= 1 + p->title_boost * (double)(covered < words ? covered : words) / words;
		top_push(p, s);
	}
	/* else: even a fully covered title would leave it out of the top ktop; s is a lower bound */
	*out = s;
	return SQLITE_OK;
fail:
	memset(tf, 0, p->nph * NFIELDS * sizeof(*tf));
	return rc;
}

void kb__rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
		 sqlite3_value **val)
{
	struct kb_qplan *p = nval == 1 ? sqlite3_value_pointer(val[0], KB_QPLAN_PTR) : NULL;
	double s = 0;
	int rc;

	if (!p) {
		sqlite3_result_error(ctx, "kb_rank: expected a query plan", -1);
		return;
	}
	rc = p->stats_ready ? SQLITE_OK : plan_stats(api, fts, p);
	if (rc == SQLITE_OK)
		rc = score_row(api, fts, p, &s);
	if (rc) {
		if (!p->rc)
			p->rc = rc;
		sqlite3_result_error_code(ctx, rc);
		return;
	}
	sqlite3_result_double(ctx, s);
}

double kb__relevance(const struct kb_qplan *p, double score)
{
	double r;

	if (!p->stats_ready || p->ideal <= 0 || score <= 0)
		return 0;
	r = score / p->ideal;
	return r > 1 ? 1 : r;
}

static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

/* Per concept: the highest idf of its phrases that some article contains (0: none does). */
static void concept_weights(const struct kb_qplan *p, double *cw)
{
	size_t i;

	memset(cw, 0, p->ngroups * sizeof(*cw));
	for (i = 0; i < p->nph; i++)
		if (p->ph[i].df > 0 && p->ph[i].idf > cw[p->ph[i].group])
			cw[p->ph[i].group] = p->ph[i].idf;
}

/* A part's yardstick: its KB_IDEAL_CONCEPTS most specific concepts, once each in an average title. */
static double part_ideal(const struct kb_qplan *p, size_t k)
{
	double best[KB_MAX_GROUPS] = { 0 }, sum = 0;
	size_t i, n = 0;

	for (i = 0; i < p->nph; i++) {
		double v = p->ph[i].weight * p->ph[i].idf;

		if (p->ph[i].df > 0 && (p->gparts[p->ph[i].group] >> k) & 1 && v > best[p->ph[i].group])
			best[p->ph[i].group] = v;
	}
	qsort(best, p->ngroups, sizeof(double), cmp_desc);
	for (i = 0; i < p->ngroups && n < KB_IDEAL_CONCEPTS; i++, n++)
		sum += best[i];
	return sum * p->params.w_title / (p->params.k1 + p->params.w_title);
}

static void add_word(json_t *arr, const struct kb_qplan *p, size_t g)
{
	json_array_append_new(arr, json_stringn(p->query + p->gspan[g][0],
						(size_t)(p->gspan[g][1] - p->gspan[g][0])));
}

/* The per-query figures kb__coverage needs, once. */
static void coverage_ready(struct kb_qplan *p)
{
	size_t g, k;

	if (p->cov_ready)
		return;
	concept_weights(p, p->cw);
	p->cw_total = 0;
	for (g = 0; g < p->ngroups; g++)
		p->cw_total += p->cw[g];
	for (k = 0; k < p->nparts && p->nparts > 1; k++)
		p->part_ideal[k] = part_ideal(p, k);
	p->cov_ready = true;
}

void kb__coverage(struct kb_qplan *p, int64_t rowid, json_t *item, bool want_missing)
{
	double have = 0;
	uint64_t mask = 0, listed = 0;
	const struct kb_rowmask *row = NULL;
	size_t i, g, k;

	if (!p->stats_ready)
		return;
	coverage_ready(p);
	for (i = 0; i < p->nrowmask; i++)
		if (p->rowmask[i].rowid == rowid) {
			row = &p->rowmask[i];
			mask = row->mask;
			break;
		}
	for (g = 0; g < p->ngroups; g++)
		if ((mask >> g) & 1)
			have += p->cw[g];
	json_object_set_new(item, "coverage", json_real(p->cw_total > 0 ? round4(have / p->cw_total) : 0));
	json_object_set_new(item, "matched_weight", json_real(round4(have)));
	if (p->nparts > 1) {
		json_t *prel = json_array();

		for (k = 0; k < p->nparts; k++) {
			double r = row && p->part_ideal[k] > 0 ? row->part_score[k] / p->part_ideal[k] : 0;

			json_array_append_new(prel, json_real(round4(r > 1 ? 1 : r)));
		}
		json_object_set_new(item, "part_relevance", prel);
	}
	if (want_missing) { /* the missing concepts, most specific first */
		json_t *missing = json_array();

		while (json_array_size(missing) < 5) {
			size_t best = SIZE_MAX;

			for (g = 0; g < p->ngroups; g++)
				if (p->cw[g] > 0 && !((mask >> g) & 1) && !((listed >> g) & 1) &&
				    (best == SIZE_MAX || p->cw[g] > p->cw[best]))
					best = g;
			if (best == SIZE_MAX)
				break;
			listed |= (uint64_t)1 << best;
			add_word(missing, p, best);
		}
		json_object_set_new(item, "missing", missing);
	}
}

/* Bit g: concept g is in no article (of those whose frequency is known: all, once ranking ran). */
static uint64_t unknown_groups(const struct kb_qplan *p)
{
	uint64_t known = 0, seen = 0;
	size_t i;

	for (i = 0; i < p->nph; i++) {
		if (!p->stats_ready && !p->ph[i].df_known)
			continue;
		seen |= (uint64_t)1 << p->ph[i].group;
		if (p->ph[i].df > 0)
			known |= (uint64_t)1 << p->ph[i].group;
	}
	return seen & ~known;
}

json_t *kb__unknown_words(const struct kb_qplan *p)
{
	uint64_t unknown = unknown_groups(p);
	json_t *out = json_array();
	size_t g;

	for (g = 0; g < p->ngroups; g++)
		if ((unknown >> g) & 1)
			add_word(out, p, g);
	return out;
}

json_t *kb__parts(const struct kb_qplan *p)
{
	uint64_t unknown = unknown_groups(p);
	double cw[KB_MAX_GROUPS];
	json_t *out = json_array();
	size_t k, g;

	if (p->stats_ready)
		concept_weights(p, cw);
	else
		memset(cw, 0, sizeof(cw));
	for (k = 0; k < p->nparts; k++) {
		json_t *words = json_array();
		double weight = 0;
		size_t n = 0;

		for (g = 0; g < p->ngroups; g++) {
			if (!((p->gparts[g] >> k) & 1))
				continue;
			n++;
			weight += cw[g];
			if ((unknown >> g) & 1)
				add_word(words, p, g);
		}
		json_array_append_new(out, json_pack("{s:I, s:f, s:o}", "concepts", (json_int_t)n, "weight",
						     round4(weight), "unknown_words", words));
	}
	return out;
}
