/*
 * Training: multinomial logistic regression fitted by AdaGrad over the
 * hashed features of features.c, on a data set of dataset.c.
 *
 * Procedure (text_train): featurise every row once; hold out a share of the
 * rows by a stable hash of their text; train on the rest, scoring the
 * held-out rows after each epoch to pick the number of epochs; fit the
 * softmax temperature on the held-out rows (minimum negative log-likelihood:
 * temperature scaling); refit on all rows with the chosen epochs; quantise.
 * The model's info records the held-out accuracy and the expected
 * calibration error before and after scaling. Deterministic for a given seed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

/* ---- training ---- */

void text_train_defaults(struct text_train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->hash_bits = 20;
	o->words = true;
	o->bigrams = true;
	o->char_min = 2;
	o->char_max = 5;
	o->l2 = 1e-5;
	o->lr = 0.2;
	o->epochs = 20;
	o->holdout = 0.1;
	o->prune = 1e-3;
	o->seed = 1;
	o->score_head = true;
	o->score_l2 = 1e-3;
	o->score_lr = 0.1;
}

/* The featurised rows, with feature indices made compact (0..nf). */
struct rows {
	size_t n, nf;
	size_t *start;        /* [n + 1] into feat */
	struct text__feat *feat;
	int *y;
	double *s;            /* [n]: the row's score, standardised; NAN when absent */
	double *st;           /* [n]: the regression head's target: s, or for a row with a class
	                       * only (text_train_opts.head_class_rows) its class's mean s */
	float *wt;            /* [n]: the row's weight in the classifier's loss (text_dataset_weight) */
	bool *held;
	bool *aux;            /* [n]: the row teaches the regression head only (head_only) */
	uint32_t *hashed;     /* [nf]: compact -> hashed index */
};

struct fit {
	size_t nf, L;
	float *w, *g;         /* [nf * L] weights and AdaGrad sums */
	double *b, *gb;       /* [L] */
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void fit_init(struct fit *f, size_t nf, size_t L)
{
	f->nf = nf;
	f->L = L;
	f->w = fl_calloc(nf * L, sizeof(*f->w));
	f->g = fl_calloc(nf * L, sizeof(*f->g));
	f->b = fl_calloc(L, sizeof(*f->b));
	f->gb = fl_calloc(L, sizeof(*f->gb));
}

static void fit_release(struct fit *f)
{
	free(f->w);
	free(f->g);
	free(f->b);
	free(f->gb);
}

static void scores(const struct fit *f, const struct rows *r, size_t i, double *z)
{
	size_t k, l;

	for (l = 0; l < f->L; l++)
		z[l] = f->b[l];
	for (k = r->start[i]; k < r->start[i + 1]; k++) {
		const float *w = f->w + (size_t)r->feat[k].idx * f->L;
		double x = r->feat[k].val;

		for (l = 0; l < f->L; l++)
			z[l] += x * w[l];
	}
}

static void step(struct fit *f, const struct rows *r, size_t i, const struct text_train_opts *o,
		 double *z, double *p)
{
	size_t k, l, L = f->L;

	if (r->wt[i] == 0)
		return;
	scores(f, r, i, z);
	text__softmax(z, L, 1.0, p);
	/* p becomes the gradient of the row's weighted loss in z */
	p[r->y[i]] -= 1.0;
	for (l = 0; l < L; l++)
		p[l] *= r->wt[i];
	for (l = 0; l < L; l++) {
		f->gb[l] += p[l] * p[l];
		f->b[l] -= o->lr * p[l] / (sqrt(f->gb[l]) + 1e-8);
	}
	for (k = r->start[i]; k < r->start[i + 1]; k++) {
		float *w = f->w + (size_t)r->feat[k].idx * L, *g = f->g + (size_t)r->feat[k].idx * L;
		float x = r->feat[k].val, lr = (float)o->lr, l2 = (float)o->l2 * r->wt[i];

		for (l = 0; l < L; l++) {
			float gr = (float)p[l] * x + l2 * w[l];

			g[l] += gr * gr;
			w[l] -= lr * gr / (sqrtf(g[l]) + 1e-8f);
		}
	}
}

static void shuffle(size_t *order, size_t n, uint64_t *rng)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)(rng_next(rng) % i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
}

static void epoch(struct fit *f, const struct rows *r, size_t *order, size_t n,
		  const struct text_train_opts *o, uint64_t *rng, double *z, double *p)
{
	size_t i;

	shuffle(order, n, rng);
	for (i = 0; i < n; i++)
		step(f, r, order[i], o, z, p);
}

/* One AdaGrad step of least squares on row i's score (a fit with L = 1). */
static void reg_step(struct fit *f, const struct rows *r, size_t i, const struct text_train_opts *o)
{
	size_t k;
	double z, g;

	scores(f, r, i, &z);
	g = z - r->st[i];
	f->gb[0] += g * g;
	f->b[0] -= o->score_lr * g / (sqrt(f->gb[0]) + 1e-8);
	for (k = r->start[i]; k < r->start[i + 1]; k++) {
		float *w = f->w + r->feat[k].idx, *gs = f->g + r->feat[k].idx;
		float gr = (float)g * r->feat[k].val + (float)o->score_l2 * *w;

		*gs += gr * gr;
		*w -= (float)o->score_lr * gr / (sqrtf(*gs) + 1e-8f);
	}
}

static void reg_epoch(struct fit *f, const struct rows *r, size_t *order, size_t n,
		      const struct text_train_opts *o, uint64_t *rng)
{
	size_t i;

	shuffle(order, n, rng);
	for (i = 0; i < n; i++)
		reg_step(f, r, order[i], o);
}

/*
 * Rows with a class but no score get, as the head's target, the mean
 * (standardised) score of the rated rows of their class, when at least 10
 * rated rows have it.
 */
static void impute_class_scores(struct rows *r, size_t L, bool all)
{
	double *sum = fl_calloc(L, sizeof(*sum));
	size_t *cnt = fl_calloc(L, sizeof(*cnt)), i;

	for (i = 0; i < r->n; i++)
		if (!isnan(r->s[i])) {
			sum[r->y[i]] += r->s[i];
			cnt[r->y[i]]++;
		}
	for (i = 0; i < r->n; i++)
		if (isnan(r->s[i]) && (all || r->aux[i]) && cnt[r->y[i]] >= 10)
			r->st[i] = sum[r->y[i]] / (double)cnt[r->y[i]];
	free(sum);
	free(cnt);
}

/*
 * The regression head: epochs chosen by Pearson r on the held-out scored
 * rows (all of them when there are none held out: o->epochs), then a refit
 * on every scored row. Returns the number of epochs; *fr is the final fit;
 * hx[] (one per held-out row, scored or not) gets the held-out
 * predictions of the chosen epoch, all NAN when none were held out.
 */
static size_t fit_score_head(const struct rows *r, const struct text_train_opts *o, struct fit *fr,
			     double *held_r, double *hx)
{
	size_t i, e, n = 0, nh = 0, k0, best_e = o->epochs, *order = fl_calloc(r->n + 1, sizeof(*order));
	double *x = fl_calloc(r->n + 1, sizeof(*x)), *y = fl_calloc(r->n + 1, sizeof(*y)), best = -2;
	double *all = fl_calloc(r->n + 1, sizeof(*all));
	uint64_t rng = o->seed ? o->seed : 1;

	*held_r = NAN;
	for (i = 0, k0 = 0; i < r->n; i++)
		if (r->held[i]) {
			hx[k0++] = NAN;
			nh += !isnan(r->s[i]);
		}
	if (nh >= 30) {
		fit_init(fr, r->nf, 1);
		for (i = 0; i < r->n; i++)
			if (!isnan(r->st[i]) && !r->held[i])
				order[n++] = i;
		for (e = 1; e <= o->epochs; e++) {
			size_t k = 0;
			double pr;

			reg_epoch(fr, r, order, n, o, &rng);
			for (i = 0, k0 = 0; i < r->n; i++)
				if (r->held[i]) {
					scores(fr, r, i, &all[k0]);
					if (!isnan(r->s[i])) {
						x[k] = all[k0];
						y[k++] = r->s[i];
					}
					k0++;
				}
			pr = text_pearson(x, y, k);
			if (o->verbose)
				fprintf(stderr, "train: score head epoch %zu held-out Pearson r %.4f\n", e, pr);
			if (pr > best) {
				best = pr;
				best_e = e;
				memcpy(hx, all, k0 * sizeof(*hx));
			}
		}
		fit_release(fr);
		*held_r = best;
	}
	n = 0;
	for (i = 0; i < r->n; i++)
		if (!isnan(r->st[i]))
			order[n++] = i;
	rng = o->seed ? o->seed : 1;
	fit_init(fr, r->nf, 1);
	for (e = 0; e < best_e; e++)
		reg_epoch(fr, r, order, n, o, &rng);
	free(order);
	free(x);
	free(y);
	free(all);
	return best_e;
}

/*
 * Pearson r of the valence of the held-out rows' calibrated probabilities
 * (scores hz[nheld * L] at temperature t) against their scores; NAN when
 * the labels are not sentiment levels or too few rows are scored. hv[k]
 * gets held-out row k's valence (scored or not; NAN for non-sentiment labels).
 */
static double valence_r(const struct rows *r, char **labels, size_t L, const double *hz, size_t nheld,
			double t, double *p, double *hv)
{
	double *x = fl_calloc(nheld + 1, sizeof(*x)), *y = fl_calloc(nheld + 1, sizeof(*y)), res;
	bool five = false;
	size_t i, k = 0, n = 0, l;

	for (l = 0; l < L; l++)
		five |= !strcmp(labels[l], "very_negative") || !strcmp(labels[l], "very_positive");
	for (i = 0; i < r->n; i++) {
		double v = 0, mass = 0;

		if (!r->held[i])
			continue;
		hv[k] = NAN;
		text__softmax(hz + k * L, L, t, p);
		for (l = 0; l < L; l++) {
			double lv = text__label_valence(labels[l], five);

			if (!isnan(lv)) {
				v += p[l] * lv;
				mass += p[l];
			}
		}
		if (mass > 0) {
			hv[k] = v / mass;
			if (!isnan(r->s[i])) {
				x[n] = hv[k];
				y[n++] = r->s[i];
			}
		}
		k++;
	}
	res = n >= 2 ? text_pearson(x, y, n) : NAN;
	free(x);
	free(y);
	return res;
}

/*
 * The head's share w in score = (1 - w) * valence + w * head: least squares
 * of the held-out rows' scores on both (with an intercept), the two weights
 * kept non-negative and scaled to sum to 1 (Pearson r does not see the
 * scale; the sum keeps the score in the valence's -1..1).
 */
static double blend_share(const double *hv, const double *hx, const struct rows *r, size_t nheld)
{
	double mv = 0, mh = 0, my = 0, svv = 0, shh = 0, svh = 0, svy = 0, shy = 0, det, a, b;
	size_t i, k = 0, n = 0;

	for (i = 0; i < r->n; i++) {
		if (!r->held[i])
			continue;
		if (!isnan(r->s[i]) && !isnan(hv[k]) && !isnan(hx[k])) {
			mv += hv[k];
			mh += hx[k];
			my += r->s[i];
			n++;
		}
		k++;
	}
	if (n < 30)
		return 1.0;
	mv /= (double)n;
	mh /= (double)n;
	my /= (double)n;
	for (i = 0, k = 0; i < r->n; i++) {
		if (!r->held[i])
			continue;
		if (!isnan(r->s[i]) && !isnan(hv[k]) && !isnan(hx[k])) {
			double dv = hv[k] - mv, dh = hx[k] - mh, dy = r->s[i] - my;

			svv += dv * dv;
			shh += dh * dh;
			svh += dv * dh;
			svy += dv * dy;
			shy += dh * dy;
		}
		k++;
	}
	det = svv * shh - svh * svh;
	if (!(det > 0))
		return 1.0;
	a = (svy * shh - shy * svh) / det;
	b = (shy * svv - svy * svh) / det;
	if (a <= 0)
		return 1.0;
	if (b <= 0)
		return 0.0;
	return b / (a + b);
}

/* Pearson r of (1 - w) * v + w * h against y over n rows. */
static double blend_r(const double *v, const double *h, const double *y, size_t n, double w, double *tmp)
{
	size_t i;

	for (i = 0; i < n; i++)
		tmp[i] = (1 - w) * v[i] + w * h[i];
	return text_pearson(tmp, y, n);
}

/*
 * The head's share when the held-out rows hold both rated rows and rows with
 * a sentiment class only (e.g. social-media comments labelled
 * negative/neutral/positive): the w in 0..1 (steps of 0.01) that maximises
 * the mean of Pearson r on the rated rows (against their ratings) and on the
 * class rows (against their label's valence), so that the score ranks well
 * on both kinds of text; a head fitted on review ratings alone may rank
 * social text badly. Falls back to blend_share with fewer than 30 of either.
 * *r_rated and *r_class get the two figures at the chosen w.
 */
static double blend_share_mixed(const double *hv, const double *hx, const struct rows *r, char **labels,
				size_t L, size_t nheld, double *r_rated, double *r_class)
{
	double *v[2], *h[2], *y[2], *tmp = fl_calloc(nheld + 1, sizeof(*tmp)), best = -3, bw = 1.0;
	size_t n[2] = { 0, 0 }, i, k, g, step;
	bool five = false;

	for (k = 0; k < L; k++)
		five |= !strcmp(labels[k], "very_negative") || !strcmp(labels[k], "very_positive");
	for (g = 0; g < 2; g++) {
		v[g] = fl_calloc(nheld + 1, sizeof(*v[g]));
		h[g] = fl_calloc(nheld + 1, sizeof(*h[g]));
		y[g] = fl_calloc(nheld + 1, sizeof(*y[g]));
	}
	*r_rated = *r_class = NAN;
	for (i = 0, k = 0; i < r->n; i++) {
		double lv;

		if (!r->held[i])
			continue;
		lv = isnan(r->s[i]) ? text__label_valence(labels[r->y[i]], five) : r->s[i];
		g = isnan(r->s[i]);
		if (!isnan(hv[k]) && !isnan(hx[k]) && !isnan(lv)) {
			v[g][n[g]] = hv[k];
			h[g][n[g]] = hx[k];
			y[g][n[g]++] = lv;
		}
		k++;
	}
	if (n[0] < 30 || n[1] < 30) {
		bw = blend_share(hv, hx, r, nheld);
		goto out;
	}
	for (step = 0; step <= 100; step++) {
		double w = (double)step / 100, a = blend_r(v[0], h[0], y[0], n[0], w, tmp),
		       b = blend_r(v[1], h[1], y[1], n[1], w, tmp);

		if (!isnan(a) && !isnan(b) && (a + b) / 2 > best + 1e-12) {
			best = (a + b) / 2;
			bw = w;
			*r_rated = a;
			*r_class = b;
		}
	}
out:
	for (g = 0; g < 2; g++) {
		free(v[g]);
		free(h[g]);
		free(y[g]);
	}
	free(tmp);
	return bw;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Featurises d into r; labels sorted and distinct into *labels. */
static void featurise(const struct text_dataset *d, const struct text_train_opts *o,
		      const struct text__feat_opts *fo, struct rows *r, char ***labels, size_t *L)
{
	struct text_stemmer *st = text_stemmer_new();
	struct text__doc doc = TEXT__DOC_INIT;
	struct text__fvec fv = { 0 };
	uint32_t *map = fl_calloc((size_t)1 << fo->hash_bits, sizeof(*map));
	size_t i, k, cap = 0, nl = 0;
	size_t n = text_dataset_size(d);
	const char **lab = fl_calloc(n, sizeof(*lab));

	for (i = 0; i < n; i++)
		lab[i] = text_dataset_label(d, i);
	qsort(lab, n, sizeof(*lab), cmp_str);
	for (i = 0; i < n; i++)
		if (!nl || strcmp(lab[nl - 1], lab[i]))
			lab[nl++] = lab[i];
	*labels = fl_calloc(nl, sizeof(**labels));
	for (i = 0; i < nl; i++)
		(*labels)[i] = fl_strdup(lab[i]);
	*L = nl;
	free(lab);

	memset(r, 0, sizeof(*r));
	r->n = n;
	r->start = fl_calloc(n + 1, sizeof(*r->start));
	r->y = fl_calloc(n, sizeof(*r->y));
	r->s = fl_calloc(n, sizeof(*r->s));
	r->held = fl_calloc(n, sizeof(*r->held));
	r->aux = fl_calloc(n, sizeof(*r->aux));
	r->wt = fl_calloc(n, sizeof(*r->wt));
	for (i = 0; i < n; i++) {
		const char *text = text_dataset_text(d, i), *label = text_dataset_label(d, i);
		char **hit = bsearch(&label, *labels, nl, sizeof(char *), cmp_str);
		uint64_t h = text__hash(text, strlen(text), 0);

		r->y[i] = (int)(hit - *labels);
		r->s[i] = text_dataset_score(d, i);
		r->aux[i] = text_dataset_head_only(d, i);
		r->wt[i] = (float)text_dataset_weight(d, i);
		r->held[i] = (double)(h % 10000) < o->holdout * 10000.0;
		text__doc_set(&doc, text, st);
		text__features(fo, &doc, &fv);
		if (r->start[i] + fv.n > cap) {
			cap = (r->start[i] + fv.n) * 2;
			r->feat = fl_reallocarray(r->feat, cap, sizeof(*r->feat));
		}
		for (k = 0; k < fv.n; k++) {
			uint32_t idx = fv.v[k].idx;

			if (!map[idx]) {
				if (r->nf % 65536 == 0)
					r->hashed = fl_reallocarray(r->hashed, r->nf + 65536, sizeof(*r->hashed));
				r->hashed[r->nf++] = idx;
				map[idx] = (uint32_t)r->nf;
			}
			r->feat[r->start[i] + k].idx = map[idx] - 1;
			r->feat[r->start[i] + k].val = fv.v[k].val;
		}
		r->start[i + 1] = r->start[i] + fv.n;
	}
	free(map);
	text__fvec_release(&fv);
	text__doc_release(&doc);
	text_stemmer_free(st);
}

static void rows_release(struct rows *r)
{
	free(r->start);
	free(r->feat);
	free(r->y);
	free(r->s);
	free(r->st);
	free(r->held);
	free(r->aux);
	free(r->wt);
	free(r->hashed);
}

static int cmp_pair(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Weights by sorted hashed index, for text__model_from_rows; with a
 * regression fit fr (NULL: none), its column last, scaled back from
 * standardised scores by sd and mean.
 */
static struct text_model *to_model(const struct fit *f, const struct fit *fr, double mean, double sd,
				   const struct rows *r, const struct text__feat_opts *fo, char **labels,
				   double t, double prune, json_t *info)
{
	size_t C = f->L + (fr != NULL), i, l;
	uint32_t *pairs = fl_calloc(r->nf * 2 + 2, sizeof(*pairs)), *idx = fl_calloc(r->nf + 1, sizeof(*idx));
	float *w = fl_calloc(r->nf * C + 1, sizeof(*w)), *bias = fl_calloc(C, sizeof(*bias));
	struct text_model *m;

	for (i = 0; i < r->nf; i++) {
		pairs[2 * i] = r->hashed[i];
		pairs[2 * i + 1] = (uint32_t)i;
	}
	qsort(pairs, r->nf, 2 * sizeof(*pairs), cmp_pair);
	for (i = 0; i < r->nf; i++) {
		idx[i] = pairs[2 * i];
		memcpy(w + i * C, f->w + (size_t)pairs[2 * i + 1] * f->L, f->L * sizeof(*w));
		if (fr)
			w[i * C + f->L] = (float)(fr->w[pairs[2 * i + 1]] * sd);
	}
	for (l = 0; l < f->L; l++)
		bias[l] = (float)f->b[l];
	if (fr)
		bias[f->L] = (float)(fr->b[0] * sd + mean);
	m = text__model_from_rows(fo, labels, f->L, fr != NULL, idx, r->nf, w, bias, t, prune, info);
	free(pairs);
	free(idx);
	free(w);
	free(bias);
	return m;
}

static int train_one(const struct text_dataset *d, const struct text_train_opts *o,
		     struct text_model **out, char **err);

/* The two-member ensemble of text_train_opts.ensemble. */
static int train_ensemble(const struct text_dataset *d, const struct text_train_opts *o,
			  struct text_model **out, char **err)
{
	struct text_train_opts a = *o, b = *o;
	struct text_model *ma = NULL, *mb = NULL;
	int rc;

	*out = NULL;
	if (!o->words || !o->char_min) {
		if (err)
			*err = fl_strdup("an ensemble needs word features and character n-grams");
		return TEXT_EINVAL;
	}
	a.ensemble = b.ensemble = false;
	a.char_min = a.char_max = 0;
	b.words = b.bigrams = false;
	b.score_head = false;
	rc = train_one(d, &a, &ma, err);
	if (!rc)
		rc = train_one(d, &b, &mb, err);
	if (rc) {
		text_model_free(ma);
		return rc;
	}
	{
		json_t *ens = json_array(), *wa = json_pack("{s:s}", "features", "words"),
		       *wb = json_pack("{s:s}", "features", "chars");
		json_t *aa = json_object_get(ma->info, "held_out_accuracy"),
		       *ab = json_object_get(mb->info, "held_out_accuracy");

		if (aa)
			json_object_set(wa, "held_out_accuracy", aa);
		if (ab)
			json_object_set(wb, "held_out_accuracy", ab);
		json_array_append_new(ens, wa);
		json_array_append_new(ens, wb);
		text_model_info_set(ma, "ensemble", ens);
	}
	text__model_add_member(ma, mb);
	*out = ma;
	return TEXT_OK;
}

int text_train(const struct text_dataset *d, const struct text_train_opts *o,
	       struct text_model **out, char **err)
{
	if (o->ensemble)
		return train_ensemble(d, o, out, err);
	return train_one(d, o, out, err);
}

static int train_one(const struct text_dataset *d, const struct text_train_opts *o,
		     struct text_model **out, char **err)
{
	struct text__feat_opts fo = { o->hash_bits, o->words, o->bigrams, o->char_min, o->char_max, o->extra };
	struct rows r;
	struct fit f, fr;
	char **labels = NULL;
	size_t L = 0, i, e, ntrain = 0, nheld = 0, nscored = 0, *order = NULL, best_epoch = o->epochs;
	size_t ncls = 0, k, kc;
	double mean = 0, sd = 1, smin = 0, smax = 0;
	bool head = false;
	double *z = NULL, *p = NULL, *hz = NULL, best_acc = -1, t = 1.0;
	double ece_raw = NAN, ece_cal = NAN, acc = NAN, held_valence_r = NAN, *hv = NULL, *hx = NULL;
	int *hy = NULL;
	uint64_t rng = o->seed ? o->seed : 1;
	json_t *info;

	*out = NULL;
	if (o->hash_bits < 8 || o->hash_bits > 26 || !o->epochs || o->lr <= 0 || o->l2 < 0 ||
	    o->holdout < 0 || o->holdout >= 1 || o->char_max > 16 ||
	    (o->score_head && (o->score_lr <= 0 || o->score_l2 < 0)) ||
	    (o->char_min && o->char_min > o->char_max)) {
		if (err)
			*err = fl_strdup("invalid training settings");
		return TEXT_EINVAL;
	}
	featurise(d, o, &fo, &r, &labels, &L);
	if (L < 2) {
		if (err)
			*err = fl_asprintf("training data needs at least two labels (found %zu)", L);
		for (i = 0; i < L; i++)
			free(labels[i]);
		free(labels);
		rows_release(&r);
		return TEXT_ENOLABELS;
	}
	for (i = 0; i < r.n; i++) {
		nheld += r.held[i];
		ntrain += !r.aux[i];
	}
	if (!ntrain) {
		if (err)
			*err = fl_strdup("every row is head_only: nothing to train the classifier on");
		for (i = 0; i < L; i++)
			free(labels[i]);
		free(labels);
		rows_release(&r);
		return TEXT_EINVAL;
	}
	ntrain = 0;
	/* too few held-out rows to calibrate on: train on everything, t = 1 */
	if (nheld < 30 || nheld == r.n) {
		memset(r.held, 0, r.n * sizeof(*r.held));
		nheld = 0;
	}
	z = fl_calloc(L, sizeof(*z));
	p = fl_calloc(L, sizeof(*p));
	order = fl_calloc(r.n, sizeof(*order));
	hz = fl_calloc(nheld * L + 1, sizeof(*hz));
	hy = fl_calloc(nheld + 1, sizeof(*hy));
	for (i = 0; i < r.n; i++)
		ncls += r.held[i] && !r.aux[i];
	if (nheld && ncls) {
		/* hz: every held-out row (the valence of head-only rows too); hc, hy: the classifier's */
		double *ez = fl_calloc(nheld * L, sizeof(*ez)), *hc = fl_calloc(ncls * L, sizeof(*hc));

		for (i = 0; i < r.n; i++)
			if (!r.held[i] && !r.aux[i])
				order[ntrain++] = i;
		fit_init(&f, r.nf, L);
		for (e = 1; e <= o->epochs; e++) {
			size_t right = 0;

			k = 0;
			epoch(&f, &r, order, ntrain, o, &rng, z, p);
			for (i = 0; i < r.n; i++) {
				size_t l, bestl = 0;

				if (!r.held[i])
					continue;
				scores(&f, &r, i, ez + k * L);
				for (l = 1; l < L; l++)
					if (ez[k * L + l] > ez[k * L + bestl])
						bestl = l;
				if (!r.aux[i])
					right += (int)bestl == r.y[i];
				k++;
			}
			if ((double)right / (double)ncls > best_acc) {
				best_acc = (double)right / (double)ncls;
				best_epoch = e;
				memcpy(hz, ez, nheld * L * sizeof(*hz));
			}
			if (o->verbose)
				fprintf(stderr, "train: epoch %zu held-out accuracy %.4f\n", e,
					(double)right / (double)ncls);
		}
		free(ez);
		fit_release(&f);
		for (i = 0, k = 0, kc = 0; i < r.n; i++) {
			if (!r.held[i])
				continue;
			if (!r.aux[i]) {
				memcpy(hc + kc * L, hz + k * L, L * sizeof(*hc));
				hy[kc++] = r.y[i];
			}
			k++;
		}
		ece_raw = text__ece_at(hc, hy, ncls, L, 1.0, p, &acc);
		t = text__fit_temperature(hc, hy, ncls, L, p);
		ece_cal = text__ece_at(hc, hy, ncls, L, t, p, NULL);
		free(hc);
		hv = fl_calloc(nheld, sizeof(*hv));
		held_valence_r = valence_r(&r, labels, L, hz, nheld, t, p, hv);
		if (o->verbose)
			fprintf(stderr, "train: %zu epochs, held-out accuracy %.4f, temperature %.3f, ECE %.4f -> %.4f\n",
				best_epoch, acc, t, ece_raw, ece_cal);
	}
	/* refit on every row (but those for the regression head only) */
	for (i = 0, ntrain = 0; i < r.n; i++)
		if (!r.aux[i])
			order[ntrain++] = i;
	rng = o->seed ? o->seed : 1;
	fit_init(&f, r.nf, L);
	for (e = 0; e < best_epoch; e++)
		epoch(&f, &r, order, ntrain, o, &rng, z, p);
	info = json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f}", "rows", (json_int_t)r.n,
			 "held_out", (json_int_t)nheld, "features_seen", (json_int_t)r.nf,
			 "epochs", (json_int_t)best_epoch, "l2", o->l2, "lr", o->lr,
			 "prune", o->prune);
	if (nheld) {
		json_object_set_new(info, "held_out_accuracy", json_real(acc));
		json_object_set_new(info, "held_out_ece_raw", json_real(ece_raw));
		json_object_set_new(info, "held_out_ece", json_real(ece_cal));
	}
	for (i = 0; i < r.n; i++)
		if (!isnan(r.s[i])) {
			smin = nscored ? fmin(smin, r.s[i]) : r.s[i];
			smax = nscored ? fmax(smax, r.s[i]) : r.s[i];
			mean += r.s[i];
			nscored++;
		}
	if (o->score_head && nscored >= 100) {
		double var = 0, held_r;
		size_t se;

		mean /= (double)nscored;
		for (i = 0; i < r.n; i++)
			if (!isnan(r.s[i]))
				var += (r.s[i] - mean) * (r.s[i] - mean);
		sd = sqrt(var / (double)nscored);
		if (sd > 0) {
			double range = fmax(fabs(smin), fabs(smax)), share;

			for (i = 0; i < r.n; i++)
				r.s[i] = (r.s[i] - mean) / sd;
			r.st = fl_calloc(r.n, sizeof(*r.st));
			memcpy(r.st, r.s, r.n * sizeof(*r.st));
			impute_class_scores(&r, L, o->head_class_rows);
			hx = fl_calloc(nheld + 1, sizeof(*hx));
			se = fit_score_head(&r, o, &fr, &held_r, hx);
			/* back to the scores' units, then to -1..1 like the valence */
			for (i = 0; i < nheld; i++)
				hx[i] = (hx[i] * sd + mean) / range;
			double r_rated = NAN, r_class = NAN;

			if (!hv)
				share = 1.0;
			else if (o->blend_rated_only)
				share = blend_share(hv, hx, &r, nheld);
			else
				share = blend_share_mixed(hv, hx, &r, labels, L, nheld, &r_rated, &r_class);
			head = true;
			json_object_set_new(info, "score", json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
				"rows", (json_int_t)nscored, "epochs", (json_int_t)se, "l2", o->score_l2,
				"lr", o->score_lr, "min", smin, "max", smax, "mean", mean, "sd", sd,
				"range", range, "head_share", share));
			if (!isnan(held_r))
				json_object_set_new(json_object_get(info, "score"), "held_out_pearson_r",
						    json_real(held_r));
			if (!isnan(held_valence_r))
				json_object_set_new(json_object_get(info, "score"), "held_out_pearson_r_valence",
						    json_real(held_valence_r));
			if (!isnan(r_class)) { /* the share was chosen on rated and class rows */
				json_object_set_new(json_object_get(info, "score"), "held_out_pearson_r_blend_rated",
						    json_real(r_rated));
				json_object_set_new(json_object_get(info, "score"), "held_out_pearson_r_blend_class",
						    json_real(r_class));
			}
			if (o->verbose)
				fprintf(stderr, "train: score head on %zu rows, %zu epochs, held-out Pearson r %.4f "
					"(valence of the probabilities %.4f)\n", nscored, se, held_r, held_valence_r);
		}
	}
	*out = to_model(&f, head ? &fr : NULL, mean, sd, &r, &fo, labels, t, o->prune, info);
	fit_release(&f);
	if (head)
		fit_release(&fr);
	rows_release(&r);
	free(z);
	free(p);
	free(order);
	free(hz);
	free(hy);
	free(hv);
	free(hx);
	return TEXT_OK;
}
