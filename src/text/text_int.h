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
/* An ensemble: a model and up to this many - 1 further members. */
#define TEXT_MODEL_MAX_MEMBERS 4

/* The settings that decide which features a text gives (saved in the model). */
struct text__feat_opts {
	unsigned hash_bits;
	bool words, bigrams;
	unsigned char_min, char_max;
	unsigned extra; /* TEXT_FEAT_* bits (0 in models saved before they existed) */
};

/* One hashed feature with its value. */
struct text__feat {
	uint32_t idx;
	float val;
};

/* A growable feature vector, in the caller's memory, with the scratch table
 * that merges duplicate features. */
struct text__fvec {
	struct text__feat *v;
	size_t n, alloc;
	uint32_t *tab;
	size_t tab_cap;
};

/*
 * A text analysed once for every model that looks at it: its tokens and the
 * stems of its word tokens. Reusable: text__doc_set resets it.
 */
struct text__doc {
	struct text_tokens tokens;
	struct fl_buf stems;   /* the stems, each NUL-terminated */
	size_t *stem_off;      /* [tokens.n]: offset in stems.buf (words only) */
	size_t *stem_len;
	size_t alloc;
};

#define TEXT__DOC_INIT { TEXT_TOKENS_INIT, FL_BUF_INIT, NULL, NULL, 0 }

/* Tokenizes and stems text (NULL: empty) into doc, replacing its content. */
void text__doc_set(struct text__doc *doc, const char *text, struct text_stemmer *st);
void text__doc_release(struct text__doc *doc);
/*
 * The doc of text (NULL: empty), tokenized and stemmed on this thread, from
 * the thread's memo when text equals the last one it analysed: the models
 * that read one ticket (sentiment, emotion, category) share one analysis.
 * Valid until the next call on this thread; do not change it.
 */
const struct text__doc *text__doc_for(const char *text);
/* The stem of token i (a word), NUL-terminated. */
static inline const char *text__doc_stem(const struct text__doc *doc, size_t i, size_t *len)
{
	*len = doc->stem_len[i];
	return doc->stems.buf + doc->stem_off[i];
}

/*
 * Extracts the features of doc into fv (reset first): stemmed words with a
 * negation mark in negation scope, intensified words, bigrams, character
 * n-grams of each word with boundary marks, token kinds (<num>, <url>,
 * <order>, ...), emoji, emoticons, "!!"/"?" runs and ALL-CAPS cues.
 * Duplicates are summed with sublinear counts (1 + log count); the word group
 * and the character group are each scaled to unit L2 norm.
 */
void text__features(const struct text__feat_opts *o, const struct text__doc *doc, struct text__fvec *fv);
void text__fvec_release(struct text__fvec *fv);
/*
 * This thread's scratch vector for predictions, reused from one to the
 * next (a fresh vector per prediction was a large allocation each time);
 * freed when the thread exits, not by the caller. Its content is valid
 * until the thread's next prediction.
 */
struct text__fvec *text__thread_fvec(void);

/* This thread's stemmer (created on first use, freed when the thread exits). */
struct text_stemmer *text__thread_stemmer(void);

/* 64-bit FNV-1a, also the stable hash of the data splits. */
uint64_t text__hash(const void *data, size_t len, uint64_t seed);

struct text_model {
	struct text__feat_opts fo;
	size_t nlabels;
	char **labels;
	/*
	 * Output columns: nlabels, plus one when the model has a regression head
	 * (has_score: a linear prediction of the training rows' "score", column
	 * nlabels, not part of the softmax).
	 */
	size_t ncols;
	bool has_score;
	double score_range, head_share; /* from info.score: text_model_score */
	/*
	 * A valence lexicon blended into the score (info.lexicon, see
	 * text_model_text_score): its share is lex_share, plus lex_short_share
	 * for texts of at most lex_short_words words, plus lex_cue_share for
	 * texts with social-media cues (emoji, emoticons, elongation, ALL CAPS,
	 * "!"). NULL: none.
	 */
	struct text_lexicon *lexicon;
	double lex_share, lex_short_share, lex_cue_share;
	size_t lex_short_words;
	double temperature;     /* probabilities are softmax(z / temperature) */
	float *bias;            /* [ncols] */
	/*
	 * Weights, sparse by row: rows[r] is a feature index (sorted), and
	 * w[r * ncols + l] its weight for column l. Rows hold no all-zero row.
	 */
	size_t nrows;
	uint32_t *rows;
	float *w;
	json_t *info;
	/*
	 * Further members of an ensemble (same labels, other features): the
	 * probabilities are the mean of every member's calibrated ones; the
	 * regression head is the first model's. Saved after it in the file.
	 */
	struct text_model *members[TEXT_MODEL_MAX_MEMBERS - 1];
	size_t nmembers;
};

/*
 * Builds a model from the weights of nfeat features: feature idx[i] (sorted,
 * distinct) has weights dense[i * ncols + l], where ncols is nlabels, or
 * nlabels + 1 with has_score (the regression column last; bias likewise).
 * Weights are quantised to 8 bits per column; rows whose weights are all
 * below prune in magnitude (or quantise to 0) are dropped. Takes ownership of
 * labels (the array and its strings) and info.
 */
/* eval.c: text_model_text_score over tokens already made. */
double text__model_tokens_score(const struct text_model *m, const struct text_tokens *t, const double *probs,
				double head);
/* lexicon.c: a lexicon from {word: valence} (NULL when empty); text_lexicon_entries is the way back. */
struct text_lexicon *text__lexicon_from_json(const json_t *entries);
/* VADER-style valence of already tokenized text (text_lexicon_score's rules). */
double text__lexicon_score_tokens(const struct text_lexicon *lx, const struct text_tokens *t);

struct text_model *text__model_from_rows(const struct text__feat_opts *fo, char **labels,
					  size_t nlabels, bool has_score, const uint32_t *idx,
					  size_t nfeat, const float *dense, const float *bias,
					  double temperature, double prune, json_t *info);
/* Adds member (same labels, no regression head; takes ownership) to m's ensemble. */
void text__model_add_member(struct text_model *m, struct text_model *member);
/* Raw scores z[ncols] of a feature vector. */
void text__model_scores(const struct text_model *m, const struct text__fvec *fv, double *z);
/* Calibrated probabilities of an analysed text (averaged over an
 * ensemble's members); returns the best index. */
int text__model_predict_doc(const struct text_model *m, const struct text__doc *doc,
			    struct text__fvec *fv, double *probs);
/* The same, and *score = the regression head's output (NAN without one). */
int text__model_predict_doc_score(const struct text_model *m, const struct text__doc *doc,
				  struct text__fvec *fv, double *probs, double *score);
/* A sentiment label's valence (text_model_valence); NAN for other labels.
 * five: the label set has very_negative or very_positive. */
double text__label_valence(const char *name, bool five);
/* probs = softmax(z / t); returns the arg max. */
int text__softmax(const double *z, size_t n, double t, double *probs);

/*
 * Held-out scores z[n * L] (logits) with true labels y[n]: the temperature
 * that minimises their negative log-likelihood (temperature scaling; p is
 * scratch of L), and their expected calibration error at temperature t (15
 * bins; *acc, when given, gets the accuracy). calibrate.c.
 */
double text__fit_temperature(const double *z, const int *y, size_t n, size_t L, double *p);
double text__ece_at(const double *z, const int *y, size_t n, size_t L, double t, double *p,
		    double *acc);

#endif
