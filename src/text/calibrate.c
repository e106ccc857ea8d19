/*
 * Calibration measures for training: the expected calibration error and
 * temperature scaling of a model's held-out scores (text_int.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "text_int.h"

double text_ece(const double *conf, const bool *correct, size_t n, size_t bins)
{
	double *sc = fl_calloc(bins, sizeof(*sc)), *sa = fl_calloc(bins, sizeof(*sa)), e = 0;
	size_t *cnt = fl_calloc(bins, sizeof(*cnt)), i, b;

	for (i = 0; i < n; i++) {
		b = (size_t)(conf[i] * (double)bins);
		if (b >= bins)
			b = bins - 1;
		sc[b] += conf[i];
		sa[b] += correct[i];
		cnt[b]++;
	}
	for (b = 0; b < bins && n; b++)
		if (cnt[b])
			e += fabs(sa[b] - sc[b]) / (double)n;
	free(sc);
	free(sa);
	free(cnt);
	return e;
}

static double nll_at(const double *z, const int *y, size_t n, size_t L, double t, double *p)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		text__softmax(z + i * L, L, t, p);
		s -= log(p[y[i]] > 1e-300 ? p[y[i]] : 1e-300);
	}
	return s / (double)n;
}

/* Temperature scaling: golden-section search of log t in [-3, 3]. */
double text__fit_temperature(const double *z, const int *y, size_t n, size_t L, double *p)
{
	const double gr = (sqrt(5.0) - 1) / 2;
	double a = -3, b = 3, c = b - gr * (b - a), d = a + gr * (b - a);
	int it;

	for (it = 0; it < 60; it++) {
		if (nll_at(z, y, n, L, exp(c), p) < nll_at(z, y, n, L, exp(d), p))
			b = d;
		else
			a = c;
		c = b - gr * (b - a);
		d = a + gr * (b - a);
	}
	return exp((a + b) / 2);
}

double text__ece_at(const double *z, const int *y, size_t n, size_t L, double t, double *p,
		    double *acc)
{
	double *conf = fl_calloc(n ? n : 1, sizeof(*conf)), e;
	bool *ok = fl_calloc(n ? n : 1, sizeof(*ok));
	size_t i, right = 0;

	for (i = 0; i < n; i++) {
		int best = text__softmax(z + i * L, L, t, p);

		conf[i] = p[best];
		ok[i] = best == y[i];
		right += ok[i];
	}
	e = text_ece(conf, ok, n, 15);
	if (acc)
		*acc = n ? (double)right / (double)n : 0;
	free(conf);
	free(ok);
	return e;
}
