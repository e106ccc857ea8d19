/*
 * text module internals shared between its files: feature hashing, the
 * model's in-memory layout, and the helpers that training and prediction
 * both need.
 */
#ifndef FL_TEXT_INT_H
#define FL_TEXT_INT_H

#include "text.h"

#define TEXT_MODEL_MAGIC "FLTM"
#define TEXT_MODEL_VERSION 1

/* The settings that decide which features a text gives (saved in the model). */
struct text__feat_opts {
	unsigned hash_bits;
	bool words, bigrams;
	unsigned char_min, char_max;
};

/* One hashed feature with its value. */
struct text__feat {
	uint32_t idx;
	float val;
};

/* A growable feature vector, in the caller's memory. */
struct text__fvec {
	struct text__feat *v;
	size_t n, alloc;
};

/*
 * Extracts the features of text into fv (reset first): stemmed words with a
 * "not_" mark in negation scope, bigrams, character n-grams of each word with
 * boundary marks, token kinds (<num>, <url>, <order>, ...), emoji, emoticons,
 * "!!!" and ALL-CAPS cues, and a bias feature. Duplicates are summed, values
 * are sublinear (1 + log count) and the vector has unit L2 norm.
 * st and tokens are scratch state of the caller's thread.
 */
void text__features(const struct text__feat_opts *o, const char *text, struct text_stemmer *st,
		    struct text_tokens *tokens, struct text__fvec *fv);
void text__fvec_release(struct text__fvec *fv);

/* 64-bit FNV-1a, also the stable hash of the data splits. */
uint64_t text__hash(const void *data, size_t len, uint64_t seed);

struct text_model {
	struct text__feat_opts fo;
	size_t nlabels;
	char **labels;
	double temperature;     /* probabilities are softmax(z / temperature) */
	float *bias;            /* [nlabels] */
	/*
	 * Weights, sparse by row: rows[r] is a feature index (sorted), and
	 * w[r * nlabels + l] its weight for label l. Rows hold no all-zero row.
	 */
	size_t nrows;
	uint32_t *rows;
	float *w;
	json_t *info;
};

/*
 * Builds a model from the weights of nfeat features: feature idx[i] (sorted,
 * distinct) has weights dense[i * nlabels + l]. Weights are quantised to 8
 * bits per label; rows whose weights are all below prune in magnitude (or
 * quantise to 0) are dropped. Takes ownership of labels (the array and its
 * strings) and info.
 */
struct text_model *text__model_from_rows(const struct text__feat_opts *fo, char **labels,
					  size_t nlabels, const uint32_t *idx, size_t nfeat,
					  const float *dense, const float *bias, double temperature,
					  double prune, json_t *info);
/* Raw scores z[nlabels] of a feature vector. */
void text__model_scores(const struct text_model *m, const struct text__fvec *fv, double *z);
/* probs = softmax(z / t); returns the arg max. */
int text__softmax(const double *z, size_t n, double t, double *probs);

#endif
