/*
 * text: Frontline's text analysis, with no network and no LLM.
 *
 * - normalisation: NFKC + Unicode case folding (utf8proc), typographic
 *   apostrophes folded to ASCII, invalid UTF-8 replaced by U+FFFD;
 * - a tokenizer that keeps words, numbers, emoji, emoticons, URLs, e-mail
 *   addresses, order numbers and punctuation apart, and marks negation scope,
 *   intensified words and ALL-CAPS;
 * - the English Snowball stemmer (libstemmer);
 * - a linear classifier over hashed word, bigram and character n-gram
 *   features (multinomial logistic regression), trained by text_train_*
 *   (`frontline train`), with temperature-scaled (calibrated) probabilities;
 * - the sentiment analyzer: a 5-level sentiment model, an emotion model and
 *   cue rules (negation, intensifiers, caps, "!!!", urgency words), giving the
 *   `sentiment_analysis` object of DESIGN §4/§5.
 *
 * text depends on util only. Everything here is thread-safe once built,
 * except struct text_stemmer (one per thread) and the token lists (one per
 * caller).
 */
#ifndef FL_TEXT_H
#define FL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "util/util.h"

#define TEXT_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(EIO, "input/output error") \
	X(EFORMAT, "malformed model file") \
	X(EVERSION, "unsupported model file version") \
	X(EDATA, "malformed training data") \
	X(ENOLABELS, "training data needs at least two labels") \
	X(ENOMODEL, "model file not found")

enum text_err {
#define TEXT_ENUM(name, text) TEXT_##name,
	TEXT_ERRNO_MAP(TEXT_ENUM)
#undef TEXT_ENUM
};

/* "malformed model file" etc.; "unknown error" outside the enum. */
const char *text_strerror(int rc);
/* "TEXT_EFORMAT" etc. */
const char *text_errname(int rc);

/* ---- normalisation ---- */

/*
 * Appends to out the NFKC normalisation of s[0..len) with Unicode case folding
 * (utf8proc), U+2018/U+2019 folded to "'". Invalid UTF-8 bytes become U+FFFD.
 * ASCII input takes a fast path (lower-casing). Returns 0.
 */
int text_normalize(const char *s, size_t len, struct fl_buf *out);

/*
 * The written form of a chat spelling, or NULL: a contraction typed without
 * its apostrophe ("dont" -> "don't", "wasnt" -> "wasn't", "im" -> "i'm"),
 * and the short forms of chat ("u" -> "you", "ur" -> "your", "pls" ->
 * "please"). word: one lower-case word. Words that are also words of their
 * own ("its", "were", "well", "ill", "id", "lets", "wed", "hell") are not
 * read as contractions.
 */
const char *text_chat_word(const char *word);

/* ---- tokens ---- */

enum text_token_kind {
	TEXT_TOK_WORD,      /* letters (and digits after a letter), inner apostrophes: "can't" */
	TEXT_TOK_NUMBER,    /* 42, 3.5, 1,000.00, 10:30, 15% */
	TEXT_TOK_EMOJI,     /* one emoji grapheme (ZWJ sequences, modifiers, flags) */
	TEXT_TOK_EMOTICON,  /* :) :-( :D <3 ;) ... */
	TEXT_TOK_URL,       /* http(s)://..., www.... */
	TEXT_TOK_EMAIL,     /* local@domain.tld */
	TEXT_TOK_ORDER_ID,  /* #12345, ORD-2024-0042, AB123456, 7+ digit runs */
	TEXT_TOK_PUNCT,     /* one punctuation character, or a run of ! or ? ("!!!") */
};

#define TEXT_TOK_NEGATED     0x1u  /* inside a negation scope ("not working", "never arrived", "can't log in") */
#define TEXT_TOK_ALLCAPS     0x2u  /* a word of 2+ letters, all upper case in the input */
#define TEXT_TOK_INTENSIFIED 0x4u  /* after an intensifier ("very", "extremely", ...) */
#define TEXT_TOK_NEGATOR     0x8u  /* the token is itself a negation cue ("not", "never", "can't") */
#define TEXT_TOK_INTENSIFIER 0x10u /* the token is itself an intensifier */
#define TEXT_TOK_ELONGATED   0x20u /* a word with a letter repeated 3+ times ("soooo"): norm has it twice ("soo") */
#define TEXT_TOK_MENTION     0x40u /* a word right after "@" ("@united"): a social-media user name */
#define TEXT_TOK_CONTRAST    0x80u /* after "but"/"however" in the same sentence (VADER's contrast rule) */

struct text_token {
	enum text_token_kind kind;
	unsigned flags;        /* TEXT_TOK_* bits */
	const char *norm;      /* normalised form (text_normalize), NUL-terminated */
	size_t norm_len;
	size_t off, len;       /* byte span in the input */
};

struct text__chunk;

struct text_tokens {
	struct text_token *v;
	size_t n;
	/* private */
	size_t alloc;
	struct text__chunk *chunks;
};

#define TEXT_TOKENS_INIT { NULL, 0, 0, NULL }

/*
 * Appends the tokens of s[0..len) to out (which must have been initialised
 * with TEXT_TOKENS_INIT). Spans are relative to s. The norm strings belong to
 * out and live until text_tokens_release; v may move on the next call.
 *
 * Negation scope: after a cue ("not", "no", "never", "n't", "cannot",
 * "without", ...) the following words are TEXT_TOK_NEGATED until clause
 * punctuation, a contrast word ("but", "however") or four words.
 * Intensifiers ("very", "extremely", "so", ...) flag the next word.
 * Social-media text: a letter repeated 3+ times in a word is kept twice in
 * norm ("soooo" -> "soo", TEXT_TOK_ELONGATED; cue words are also matched
 * with the run kept once, so "sooo" intensifies and "nooo" negates); a word
 * glued to a preceding "@" is TEXT_TOK_MENTION; emoticons may follow a word
 * without a space ("thanks:)").
 */
void text_tokenize(const char *s, size_t len, struct text_tokens *out);
/* Forgets the tokens but keeps the memory for reuse. */
void text_tokens_reset(struct text_tokens *t);
/* Frees everything; t is as after TEXT_TOKENS_INIT. */
void text_tokens_release(struct text_tokens *t);
/*
 * The tokens of text (NULL: empty) from this thread's memo of the last text
 * it analysed, which the models share (text_model_predict and
 * text_sentiment_analyze on one ticket's text tokenize it once). Valid until
 * this thread analyses another text; the caller must not change them.
 */
const struct text_tokens *text_tokens_shared(const char *text);
/* "word", "number", "emoji", "emoticon", "url", "email", "order_id", "punct". */
const char *text_token_kind_name(enum text_token_kind kind);

/* ---- stemming ---- */

struct text_stemmer;

/* The English (Porter2) Snowball stemmer. One per thread: not thread-safe. */
struct text_stemmer *text_stemmer_new(void);
/*
 * The stem of word[0..len) (already normalised, UTF-8). The result belongs to
 * st and is valid until the next call on st; *outlen gets its length.
 */
const char *text_stem(struct text_stemmer *st, const char *word, size_t len, size_t *outlen);
void text_stemmer_free(struct text_stemmer *st);
/* This thread's stemmer (made on first use, freed when the thread exits): not to be freed. */
struct text_stemmer *text_stemmer_this_thread(void);

/* ---- linear classifier ---- */

/* A trained linear classifier over hashed features. Read-only once loaded. */
struct text_model;

/*
 * Loads a model file written by text_model_save. Returns 0, or a TEXT_E*
 * code with a message in *err (caller frees) when err is not NULL.
 */
int text_model_load(const char *path, struct text_model **out, char **err);
/* Writes m to path (atomically: a temporary file renamed). Same returns. */
int text_model_save(const struct text_model *m, const char *path, char **err);
void text_model_free(struct text_model *m);
size_t text_model_nlabels(const struct text_model *m);
/* Label i (0 <= i < nlabels), owned by m. */
const char *text_model_label(const struct text_model *m, size_t i);
/* Index of a label, or -1. */
int text_model_label_index(const struct text_model *m, const char *label);
/* The model's metadata (training settings, holdout figures); borrowed. */
const json_t *text_model_info(const struct text_model *m);
/* Sets info[key] (takes the reference to value); saved with the model. */
void text_model_info_set(struct text_model *m, const char *key, json_t *value);
/*
 * Fills probs[nlabels] with calibrated probabilities for text (UTF-8, any
 * length) and returns the best label's index. Thread-safe.
 */
int text_model_predict(const struct text_model *m, const char *text, double *probs);
/* Whether m has a regression head: trained on rows with a "score", it
 * predicts that score (e.g. a mean human rating) as a number. */
bool text_model_has_score(const struct text_model *m);
/*
 * text_model_predict, and *score = the regression head's prediction in the
 * training scores' units (NAN when m has no head). Thread-safe.
 */
int text_model_predict_score(const struct text_model *m, const char *text, double *probs, double *score);

/* Optional feature groups (text_train_opts.extra), saved with the model. */
#define TEXT_FEAT_SOCIAL   0x1u /* "@name" as <user> (no name features), an "elongated word" cue */
#define TEXT_FEAT_CONTRAST 0x2u /* words after "but"/"however" also as contrast-marked features */

/* Training settings; text_train_defaults fills them. */
struct text_train_opts {
	unsigned hash_bits;    /* feature space 2^hash_bits (default 20) */
	bool words, bigrams;   /* stemmed word unigrams and bigrams (default on) */
	unsigned char_min, char_max; /* character n-gram lengths inside words; 0: none (default 2..5) */
	unsigned extra;        /* TEXT_FEAT_* bits (default 0) */
	double l2;             /* L2 regularisation per example (default 1e-5) */
	double lr;             /* AdaGrad learning rate (default 0.2) */
	unsigned epochs;       /* passes over the data (default 20) */
	double holdout;        /* share held out for calibration (default 0.1) */
	double prune;          /* weights below this magnitude are dropped when saving (default 1e-3) */
	uint64_t seed;         /* shuffling seed (default 1) */
	/*
	 * Regression head: when at least 100 rows carry a "score", also fit a
	 * linear least-squares prediction of it over the same features (AdaGrad,
	 * epochs chosen on the held-out rows by Pearson r). Default on, with
	 * score_l2 1e-3 and score_lr 0.1 (chosen by
	 * cross-validation on the VADER train split).
	 */
	bool score_head;
	double score_l2, score_lr;
	/*
	 * The head's share in text_model_score is fitted on the held-out rows:
	 * by least squares on the rated ones; when at least 30 held-out rows
	 * carry a sentiment class but no score (e.g. social-media comments), by
	 * the best mean of Pearson r on the rated rows and on those (against
	 * their label's valence) instead, unless blend_rated_only.
	 */
	bool blend_rated_only;
	/*
	 * The head also learns from rows with a class but no score: their
	 * target is the mean score of the rated rows of the same class (so a
	 * head fitted on review ratings also sees, say, social-media comments
	 * labelled negative/neutral/positive). Default off.
	 */
	bool head_class_rows;
	/*
	 * Train an ensemble of two models instead of one: word unigrams and
	 * bigrams (with cues) in one, character n-grams (with cues) in the
	 * other; predictions average their calibrated probabilities. Needs words
	 * and character n-grams on. Default off.
	 */
	bool ensemble;
	bool verbose;          /* progress on stderr */
};

void text_train_defaults(struct text_train_opts *o);

/* A training set: rows of (text, label). */
struct text_dataset;

struct text_dataset *text_dataset_new(void);
void text_dataset_free(struct text_dataset *d);
/* Copies both strings. */
void text_dataset_add(struct text_dataset *d, const char *text, const char *label);
size_t text_dataset_size(const struct text_dataset *d);
const char *text_dataset_text(const struct text_dataset *d, size_t i);
const char *text_dataset_label(const struct text_dataset *d, size_t i);
/* Row i's optional "score" (e.g. a mean human rating), NAN when absent. */
double text_dataset_score(const struct text_dataset *d, size_t i);
/*
 * Whether row i is for the regression head only ("head_only": true): the
 * classifier neither trains nor calibrates on it; the head learns its score,
 * or without one the mean score of the rated rows of its label; it counts
 * among the class rows that fit the head's share (blend_rated_only).
 */
bool text_dataset_head_only(const struct text_dataset *d, size_t i);
/*
 * Row i's "weight" (default 1): it scales the row's gradient in the
 * classifier's training, so that a label the annotators disagreed on counts
 * less (0: the classifier does not learn from the row). The held-out rows
 * that choose the epochs and fit the temperature are counted unweighted, as
 * an evaluation counts them.
 */
double text_dataset_weight(const struct text_dataset *d, size_t i);
/*
 * Appends the rows of a JSON-lines file ({"text": ..., "label": ...} per
 * line, with an optional numeric "score", boolean "head_only" and numeric
 * "weight" >= 0; blank lines skipped). On a bad line returns TEXT_EDATA with
 * "'FILE' line N: ..." in *err; TEXT_EIO when the file cannot be read.
 */
int text_dataset_load_jsonl(struct text_dataset *d, const char *path, char **err);

/*
 * Trains a model on d: multinomial logistic regression by AdaGrad over hashed
 * features; the temperature that calibrates its probabilities is fitted on a
 * held-out share (by a stable hash of the text), then the model is refitted on
 * all rows. Returns 0 and *out (caller frees), or TEXT_ENOLABELS / TEXT_EINVAL
 * with a message in *err.
 */
int text_train(const struct text_dataset *d, const struct text_train_opts *o,
	       struct text_model **out, char **err);

/* ---- evaluation ---- */

struct text_eval_opts {
	/* When reject_label is set, a prediction whose probability is below
	 * threshold becomes reject_label (out-of-scope routing to a human). */
	const char *reject_label;
	double threshold;
	/* Collapse very_negative/very_positive into negative/positive (a 5-level
	 * model against 3-class data). */
	bool collapse3;
	/* Rows without a "score" are scored by their label's valence
	 * (text_model_valence's scale: negative -1, neutral 0, positive +1, or
	 * -1/-0.5/0/0.5/1 when the data has very_* labels; other labels stay
	 * unscored), so that pearson_r measures a model's continuous score on
	 * data labelled by class only. */
	bool label_scores;
};

/*
 * Scores m on d: {n, accuracy, macro_f1, weighted_f1, ece, nll, labels:
 * {label: {precision, recall, f1, support}}, confusion: {labels, matrix
 * (rows gold, columns predicted)}}; with a reject label also
 * in_scope_accuracy, oos_recall, oos_precision; with scored rows (or
 * label_scores), pearson_r of the model's score (text_model_score) against the rows' scores, and with
 * a regression head also pearson_r_valence and pearson_r_head (each alone).
 * New reference.
 */
json_t *text_evaluate(const struct text_model *m, const struct text_dataset *d,
		      const struct text_eval_opts *o);
/* Expected calibration error of n predictions (confidence, correct) in bins. */
double text_ece(const double *conf, const bool *correct, size_t n, size_t bins);
/*
 * The valence in -1..1 of a probability vector over sentiment labels
 * (very_negative -1, negative -0.5 or -1 without very_*, neutral 0, ...; a
 * numeric label is its own value, so a model of ratings gives the expected rating).
 * Returns NAN when the model has no sentiment labels.
 */
double text_model_valence(const struct text_model *m, const double *probs);
/*
 * The model's continuous sentiment score in -1..1: without a regression head
 * the valence of probs; with one, (1 - w) * valence + w * head / R, where
 * head is text_model_predict_score's score, R the largest magnitude of the
 * training scores and w the head's share fitted on the held-out rows
 * (info.score.head_share).
 */
double text_model_score(const struct text_model *m, const double *probs, double head);
/*
 * text_model_score blended with the model's lexicon when it has one
 * (info.lexicon: `frontline train sentiment --lexicon FILE`): (1 - w) *
 * score + w * the lexicon's VADER-style valence of text, where w = share +
 * short_share (texts of at most short_words words) + cue_share (texts with
 * an emoji, emoticon, elongated or ALL-CAPS word, or "!"), clamped to 0..1.
 * Without a lexicon, text_model_score. Thread-safe.
 */
double text_model_text_score(const struct text_model *m, const char *text, const double *probs, double head);
/* Pearson correlation of x and y (n pairs); NAN when undefined. */
double text_pearson(const double *x, const double *y, size_t n);
/* Spearman's rho (Pearson r of average ranks, ties shared): NAN when undefined. */
double text_spearman(const double *x, const double *y, size_t n);
/* Kendall's tau-b (ties in either variable accounted for; O(n^2)): NAN when undefined. */
double text_kendall_tau_b(const double *x, const double *y, size_t n);

/* ---- lexicon scoring (a comparison baseline) ---- */

/* A valence lexicon read from a file of "word<TAB>valence" lines. */
struct text_lexicon;

/* Returns 0, TEXT_EIO or TEXT_EDATA with a message in *err (caller frees). */
int text_lexicon_load(const char *path, struct text_lexicon **out, char **err);
void text_lexicon_free(struct text_lexicon *lx);
size_t text_lexicon_size(const struct text_lexicon *lx);
/* The entries as {word: valence} (words normalized). New reference. */
json_t *text_lexicon_entries(const struct text_lexicon *lx);
/*
 * VADER-style valence of text in -1..1: the sum of its words' valences with
 * negation, intensifier, ALL-CAPS, "but" and "!" adjustments, squashed by
 * x / sqrt(x^2 + 15). Thread-safe.
 */
double text_lexicon_score(const struct text_lexicon *lx, const char *text);

/* ---- language identification ---- */

/*
 * Offline language identification over libexttextcat's n-gram profiles,
 * narrowed by script and by the function words of seven languages (en, de,
 * fr, es, pt, it, nl), with a head start for the primary language (see
 * langid.c). Read-only once opened: one serves every thread.
 */
struct text_langid;

struct text_language {
	char code[12];              /* BCP 47 ("en", "de", "zh"); "und" when undetermined (no letters) */
	double confidence;          /* 0..1 */
	char runner_up[12];         /* the second candidate, or "" */
	double runner_up_confidence;
	size_t compared;            /* profiles compared */
	size_t words;               /* words seen */
};

/* The directory of libexttextcat's profiles this build found (pkg-config). */
const char *text_langid_default_dir(void);
/*
 * Reads the profiles from dir (NULL: text_langid_default_dir()). primary is
 * the language that wins near-ties ("en"; NULL: none). Returns 0, or
 * TEXT_ENOMODEL with *err (caller frees; err may be NULL).
 */
int text_langid_open(const char *dir, const char *primary, struct text_langid **out, char **err);
void text_langid_free(struct text_langid *li);
/* The language of text[0..len) (UTF-8) into *out. Thread-safe. */
void text_langid_detect(const struct text_langid *li, const char *text, size_t len, struct text_language *out);

/* ---- a dictionary of words ---- */

/*
 * Whether a word is a word of the language (libhunspell; dict.c): "handed"
 * is, "paypal" is not. Read on first use; thread-safe.
 */
struct text_dict;

/* The dictionary this build looks for: a path without ".aff" / ".dic". */
const char *text_dict_default_path(void);
/*
 * Finds the dictionary at path (NULL or "": text_dict_default_path()); it is
 * read on the first text_dict_knows. Returns 0, or TEXT_ENOMODEL with *err
 * (caller frees; err may be NULL) when its two files are not there.
 */
int text_dict_open(const char *path, struct text_dict **out, char **err);
void text_dict_free(struct text_dict *d);
/* 1 when word (UTF-8, as written) is in the dictionary, 0 when not, -1 when it cannot tell (d NULL, unreadable). */
int text_dict_knows(struct text_dict *d, const char *word);

/* ---- sentiment ---- */

/* The sentiment analyzer: a 5-level model, an emotion model and cue rules. */
struct text_sentiment;

/*
 * Opens the analyzer with the models in models_dir (sentiment.model and
 * emotion.model, as shipped in data/models/). A missing emotion model is
 * tolerated (indicators then come from cues only). Returns 0 or a TEXT_E*
 * code with a message in *err (caller frees).
 */
int text_sentiment_open(const char *models_dir, struct text_sentiment **out, char **err);
void text_sentiment_free(struct text_sentiment *s);
/*
 * The `sentiment_analysis` object of DESIGN §4/§5:
 *   sentiment             very_negative | negative | neutral | positive | very_positive
 *   confidence            calibrated probability of that level (0..1)
 *   emotional_indicators  e.g. ["urgent", "frustrated"]: from the emotion model
 *                         and cues, strongest first (angry, frustrated,
 *                         disappointed, confused, anxious, grateful, satisfied,
 *                         urgent)
 *   urgency               low | medium | high (deadline, outage and impact
 *                         words; metadata urgent_flag, users_affected >= 100,
 *                         revenue_impact high)
 *   recommended_approach  e.g. "empathetic + solution-focused"
 *   score                 -1..1: text_model_score (expected valence, blended
 *                         with the regression head when the model has one)
 *   probabilities         {level: p} for the five levels
 *   emotions              {emotion: p} of the emotion model (p >= 0.1)
 *   cues                  {negations, intensifiers, caps_words, exclamations,
 *                         human_requested (asked for a person, manager,
 *                         lawyer...), phrases[] (cue phrases found)}
 * metadata is the ticket's metadata object and may be NULL. Returns a new
 * reference. Thread-safe.
 */
json_t *text_sentiment_analyze(const struct text_sentiment *s, const char *text, const json_t *metadata);

/* ---- HTML to text (html.c) ---- */

/*
 * Converts HTML to plain text: drops tags, comments, <script> and <style>;
 * block elements and <br> become line breaks, list items "- ", links keep
 * their target when it differs from the text; entities are decoded. Input
 * and output UTF-8. Never fails (broken HTML gives its best reading).
 * Caller frees.
 */
char *text_html_to_text(const char *html);

/* ---- an agent's reply that asks (question.c) ---- */

/*
 * Whether reply (UTF-8) asks the customer something: its last line of at
 * least four words, quoted "> " lines left out, ends with '?' (closing
 * quotes and brackets allowed after it). The rule behind a reply setting
 * a ticket pending (docs/API.md). NULL or empty: false.
 */
bool text_asks_question(const char *reply);

#endif
