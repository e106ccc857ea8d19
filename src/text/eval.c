/*
 * Evaluation of a model on labelled rows: accuracy, per-label precision,
 * recall and F1, macro F1, the confusion matrix, calibration (ECE, NLL),
 * out-of-scope routing at a confidence threshold, and Pearson r (with
 * Spearman's rho and Kendall's tau-b, for ordinal labels) of the sentiment
 * valence against human ratings. The CLI (`frontline eval`) prints
 * what this returns; the tests call it directly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

double text_pearson(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
	size_t i;

	if (n < 2)
		return NAN;
	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx <= 0 || syy <= 0)
		return NAN;
	return sxy / sqrt(sxx * syy);
}

struct ranked {
	double v;
	size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return x->v < y->v ? -1 : x->v > y->v ? 1 : 0;
}

/* Average ranks (1-based; ties share their mean rank) of x into r. */
static void ranks(const double *x, size_t n, double *r)
{
	struct ranked *s = fl_calloc(n ? n : 1, sizeof(*s));
	size_t i, j, k;

	for (i = 0; i < n; i++)
		s[i] = (struct ranked){ x[i], i };
	qsort(s, n, sizeof(*s), cmp_ranked);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && s[j].v == s[i].v; j++)
			;
		for (k = i; k < j; k++)
			r[s[k].i] = (double)(i + j + 1) / 2.0;
	}
	free(s);
}

double text_spearman(const double *x, const double *y, size_t n)
{
	double *rx = fl_calloc(n ? n : 1, sizeof(*rx)), *ry = fl_calloc(n ? n : 1, sizeof(*ry)), r;

	ranks(x, n, rx);
	ranks(y, n, ry);
	r = text_pearson(rx, ry, n);
	free(rx);
	free(ry);
	return r;
}

double text_kendall_tau_b(const double *x, const double *y, size_t n)
{
	double concordant = 0, discordant = 0, tx = 0, ty = 0;
	size_t i, j;

	if (n < 2)
		return NAN;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			double dx = x[i] - x[j], dy = y[i] - y[j];

			if (dx == 0 && dy == 0)
				continue;
			if (dx == 0)
				tx++;
			else if (dy == 0)
				ty++;
			else if ((dx > 0) == (dy > 0))
				concordant++;
			else
				discordant++;
		}
	if ((concordant + discordant + tx) <= 0 || (concordant + discordant + ty) <= 0)
		return NAN;
	return (concordant - discordant) / sqrt((concordant + discordant + tx) * (concordant + discordant + ty));
}

double text__label_valence(const char *name, bool five)
{
	char *end;
	double v = strtod(name, &end);

	if (end != name && !*end && isfinite(v)) /* numeric labels: a rating scale */
		return v;
	if (!strcmp(name, "very_negative"))
		return -1;
	if (!strcmp(name, "negative"))
		return five ? -0.5 : -1;
	if (!strcmp(name, "neutral"))
		return 0;
	if (!strcmp(name, "positive"))
		return five ? 0.5 : 1;
	if (!strcmp(name, "very_positive"))
		return 1;
	return NAN;
}

double text_model_valence(const struct text_model *m, const double *probs)
{
	bool five = text_model_label_index(m, "very_negative") >= 0 ||
		    text_model_label_index(m, "very_positive") >= 0;
	double v = 0, mass = 0;
	size_t l;

	for (l = 0; l < m->nlabels; l++) {
		double x = text__label_valence(m->labels[l], five);

		if (isnan(x))
			continue;
		v += probs[l] * x;
		mass += probs[l];
	}
	return mass > 0 ? v / mass : NAN;
}

double text_model_score(const struct text_model *m, const double *probs, double head)
{
	double v = text_model_valence(m, probs), h;

	if (!m->has_score || isnan(head))
		return v;
	h = fmax(-1.0, fmin(1.0, head / m->score_range));
	return isnan(v) ? h : (1 - m->head_share) * v + m->head_share * h;
}

/* Social-media cues: an emoji or emoticon, an elongated or ALL-CAPS word, "!". */
static bool social_cues(const struct text_tokens *t, size_t *words)
{
	size_t i;
	bool cue = false;

	*words = 0;
	for (i = 0; i < t->n; i++) {
		const struct text_token *k = &t->v[i];

		if (k->kind == TEXT_TOK_WORD)
			(*words)++;
		if (k->kind == TEXT_TOK_EMOJI || k->kind == TEXT_TOK_EMOTICON ||
		    (k->flags & (TEXT_TOK_ELONGATED | TEXT_TOK_ALLCAPS)) ||
		    (k->kind == TEXT_TOK_PUNCT && k->norm[0] == '!'))
			cue = true;
	}
	return cue;
}

double text__model_tokens_score(const struct text_model *m, const struct text_tokens *t, const double *probs,
				double head)
{
	double s = text_model_score(m, probs, head), w, lex;
	size_t words;
	bool cue;

	if (!m->lexicon || isnan(s))
		return s;
	cue = social_cues(t, &words);
	w = m->lex_share + (words <= m->lex_short_words ? m->lex_short_share : 0) + (cue ? m->lex_cue_share : 0);
	w = w < 0 ? 0 : w > 1 ? 1 : w;
	if (w == 0)
		return s;
	lex = text__lexicon_score_tokens(m->lexicon, t);
	return (1 - w) * s + w * lex;
}

double text_model_text_score(const struct text_model *m, const char *text, const double *probs, double head)
{
	return text__model_tokens_score(m, text_tokens_shared(text), probs, head);
}

static const char *collapse(const char *label, bool on)
{
	if (on && !strcmp(label, "very_negative"))
		return "negative";
	if (on && !strcmp(label, "very_positive"))
		return "positive";
	return label;
}

struct names {
	const char **v;
	size_t n;
};

static size_t name_index(struct names *nm, const char *s, bool add)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		if (!strcmp(nm->v[i], s))
			return i;
	if (!add)
		return (size_t)-1;
	nm->v = fl_reallocarray(nm->v, nm->n + 1, sizeof(*nm->v));
	nm->v[nm->n] = s;
	return nm->n++;
}

json_t *text_evaluate(const struct text_model *m, const struct text_dataset *d,
		      const struct text_eval_opts *o)
{
	struct text_eval_opts none = { NULL, 0, false, false };
	struct names nm = { NULL, 0 };
	size_t n = text_dataset_size(d), L = m->nlabels, K, i, k, right = 0, *conf_m, nscored = 0;
	size_t *map = fl_calloc(L, sizeof(*map)), rej = (size_t)-1;
	size_t in_n = 0, in_right = 0, oos_n = 0, oos_hit = 0, oos_pred = 0;
	double *probs = fl_calloc(L, sizeof(*probs)), *cp, *conf = fl_calloc(n + 1, sizeof(*conf));
	double *sx = fl_calloc(n + 1, sizeof(*sx)), *sy = fl_calloc(n + 1, sizeof(*sy));
	double *sv = fl_calloc(n + 1, sizeof(*sv)), *sh = fl_calloc(n + 1, sizeof(*sh));
	double nll = 0, macro = 0, weighted = 0;
	bool *ok = fl_calloc(n + 1, sizeof(*ok)), five_data = false;
	json_t *res, *labels, *matrix, *names;

	if (!o)
		o = &none;
	for (i = 0; o->label_scores && i < n; i++)
		five_data |= !strcmp(text_dataset_label(d, i), "very_negative") ||
			     !strcmp(text_dataset_label(d, i), "very_positive");
	for (i = 0; i < L; i++)
		map[i] = name_index(&nm, collapse(m->labels[i], o->collapse3), true);
	if (o->reject_label)
		rej = name_index(&nm, o->reject_label, true);
	for (i = 0; i < n; i++)
		name_index(&nm, text_dataset_label(d, i), true);
	K = nm.n;
	cp = fl_calloc(K, sizeof(*cp));
	conf_m = fl_calloc(K * K, sizeof(*conf_m));
	for (i = 0; i < n; i++) {
		size_t gold = name_index(&nm, text_dataset_label(d, i), false), pred = 0;
		double s = text_dataset_score(d, i), head;

		if (isnan(s) && o->label_scores)
			s = text__label_valence(text_dataset_label(d, i), five_data);

		text_model_predict_score(m, text_dataset_text(d, i), probs, &head);
		memset(cp, 0, K * sizeof(*cp));
		for (k = 0; k < L; k++)
			cp[map[k]] += probs[k];
		for (k = 1; k < K; k++)
			if (cp[k] > cp[pred])
				pred = k;
		conf[i] = cp[pred];
		if (o->reject_label && cp[pred] < o->threshold)
			pred = rej;
		ok[i] = pred == gold;
		right += ok[i];
		nll -= log(cp[gold] > 1e-12 ? cp[gold] : 1e-12);
		conf_m[gold * K + pred]++;
		if (o->reject_label) {
			if (gold == rej) {
				oos_n++;
				oos_hit += pred == rej;
			} else {
				in_n++;
				in_right += pred == gold;
			}
			oos_pred += pred == rej;
		}
		if (!isnan(s)) {
			double v = text_model_valence(m, probs);

			double sc = text_model_text_score(m, text_dataset_text(d, i), probs, head);

			if (!isnan(sc)) {
				sx[nscored] = sc;
				sv[nscored] = v;
				sh[nscored] = head;
				sy[nscored++] = s;
			}
		}
	}
	labels = json_object();
	for (k = 0; k < K; k++) {
		size_t tp = conf_m[k * K + k], col = 0, row = 0, j;
		double p, r, f1;

		for (j = 0; j < K; j++) {
			col += conf_m[j * K + k];
			row += conf_m[k * K + j];
		}
		p = col ? (double)tp / (double)col : 0;
		r = row ? (double)tp / (double)row : 0;
		f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
		if (!row && !col)
			continue; /* a model label absent from the data and never predicted */
		json_object_set_new(labels, nm.v[k], json_pack("{s:f, s:f, s:f, s:I}", "precision", p,
								"recall", r, "f1", f1, "support",
								(json_int_t)row));
		if (row) {
			macro += f1;
			weighted += f1 * (double)row;
		}
	}
	{
		size_t with_support = 0;

		for (k = 0; k < K; k++) {
			size_t row = 0, j;

			for (j = 0; j < K; j++)
				row += conf_m[k * K + j];
			with_support += row > 0;
		}
		macro = with_support ? macro / (double)with_support : 0;
	}
	names = json_array();
	matrix = json_array();
	for (k = 0; k < K; k++) {
		json_t *rowj = json_array();
		size_t j;

		json_array_append_new(names, json_string(nm.v[k]));
		for (j = 0; j < K; j++)
			json_array_append_new(rowj, json_integer((json_int_t)conf_m[k * K + j]));
		json_array_append_new(matrix, rowj);
	}
	res = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:o, s:{s:o, s:o}}", "n", (json_int_t)n,
			"accuracy", n ? (double)right / (double)n : 0, "macro_f1", macro,
			"weighted_f1", n ? weighted / (double)n : 0,
			"ece", text_ece(conf, ok, n, 15), "nll", n ? nll / (double)n : 0,
			"labels", labels, "confusion", "labels", names, "matrix", matrix);
	if (o->reject_label) {
		json_object_set_new(res, "threshold", json_real(o->threshold));
		json_object_set_new(res, "in_scope_accuracy",
				    json_real(in_n ? (double)in_right / (double)in_n : 0));
		json_object_set_new(res, "oos_recall", json_real(oos_n ? (double)oos_hit / (double)oos_n : 0));
		json_object_set_new(res, "oos_precision",
				    json_real(oos_pred ? (double)oos_hit / (double)oos_pred : 0));
	}
	if (nscored >= 2) {
		double r = text_pearson(sx, sy, nscored);

		json_object_set_new(res, "n_scored", json_integer((json_int_t)nscored));
		json_object_set_new(res, "pearson_r", isnan(r) ? json_null() : json_real(r));
		/* rank correlations: for ordinal labels (-1/0/+1) they do not assume equal steps */
		r = text_spearman(sx, sy, nscored);
		json_object_set_new(res, "spearman_rho", isnan(r) ? json_null() : json_real(r));
		r = text_kendall_tau_b(sx, sy, nscored);
		json_object_set_new(res, "kendall_tau_b", isnan(r) ? json_null() : json_real(r));
		if (text_model_has_score(m)) { /* the valence of the probabilities and the head alone */
			r = text_pearson(sv, sy, nscored);
			json_object_set_new(res, "pearson_r_valence", isnan(r) ? json_null() : json_real(r));
			r = text_pearson(sh, sy, nscored);
			json_object_set_new(res, "pearson_r_head", isnan(r) ? json_null() : json_real(r));
		}
	}
	free(nm.v);
	free(map);
	free(probs);
	free(cp);
	free(conf);
	free(conf_m);
	free(sx);
	free(sy);
	free(sv);
	free(sh);
	free(ok);
	return res;
}
