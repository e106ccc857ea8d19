/*
 * The linear model: in-memory layout, prediction, and the file format.
 *
 * File (little-endian):
 *   "FLTM", u32 version, u32 header length, header (JSON: labels, feature
 *   settings, temperature, nrows, optional "score": true, per-column scales,
 *   info),
 *   f32 bias[ncols],
 *   nrows times: varint (feature index - previous index), i8 w[ncols].
 * ncols is the number of labels, plus one for a regression head ("score":
 * true, a linear prediction of the training rows' scores); a file without
 * "score" is read as before.
 * Weights are quantised to 8 bits with one scale per label when the model is
 * built (text__model_from_rows), so a saved and reloaded model predicts
 * exactly as the one that was trained.
 *
 * Prediction tokenizes, extracts features (features.c) and looks each one up
 * through a dense slot table (feature index -> row), built at load.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "text_int.h"

struct text_model_priv {
	struct text_model m;
	uint32_t *slot;  /* [1 << hash_bits]: row + 1, or 0 */
};

static void set_err(char **err, const char *fmt, ...) FL_PRINTF(2, 3);
static void set_err(char **err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	*err = fl_vasprintf(fmt, ap);
	va_end(ap);
}

static uint32_t *build_slots(const struct text_model *m)
{
	uint32_t *slot = fl_calloc((size_t)1 << m->fo.hash_bits, sizeof(*slot));
	size_t r;

	for (r = 0; r < m->nrows; r++)
		slot[m->rows[r]] = (uint32_t)(r + 1);
	return slot;
}

/* The regression head's settings from info.score (text_model_score). */
static void cache_score(struct text_model *m)
{
	const json_t *sc = json_object_get(m->info, "score");

	m->score_range = fl_json_num(sc, "range", 1.0);
	m->head_share = fl_json_num(sc, "head_share", 1.0);
	if (!(m->score_range > 0))
		m->score_range = 1.0;
	if (!(m->head_share >= 0 && m->head_share <= 1))
		m->head_share = 1.0;
}

/* The lexicon blended into the score, from info.lexicon (text_model_text_score). */
static void cache_lexicon(struct text_model *m)
{
	const json_t *lx = json_object_get(m->info, "lexicon");

	text_lexicon_free(m->lexicon);
	m->lexicon = text__lexicon_from_json(json_object_get(lx, "entries"));
	m->lex_share = fl_json_num(lx, "share", 0);
	m->lex_short_share = fl_json_num(lx, "short_share", 0);
	m->lex_cue_share = fl_json_num(lx, "cue_share", 0);
	m->lex_short_words = (size_t)fl_json_int(lx, "short_words", 12);
}

static struct text_model *model_alloc(void)
{
	struct text_model_priv *p = fl_calloc(1, sizeof(*p));

	return &p->m;
}

static uint32_t *slots_of(const struct text_model *m)
{
	return ((const struct text_model_priv *)(const void *)m)->slot;
}

void text_model_free(struct text_model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->bias);
	free(m->rows);
	free(m->w);
	json_decref(m->info);
	text_lexicon_free(m->lexicon);
	for (i = 0; i < m->nmembers; i++)
		text_model_free(m->members[i]);
	free(slots_of(m));
	free(m);
}

/* Per-label scale so that the largest weight maps to 127. */
static void col_scales(const float *dense, size_t nfeat, size_t nlabels, double *scale)
{
	size_t i, l;

	for (l = 0; l < nlabels; l++)
		scale[l] = 0;
	for (i = 0; i < nfeat; i++)
		for (l = 0; l < nlabels; l++) {
			double a = fabs(dense[i * nlabels + l]);

			if (a > scale[l])
				scale[l] = a;
		}
	for (l = 0; l < nlabels; l++)
		scale[l] = scale[l] > 0 ? scale[l] / 127.0 : 1.0;
}

struct text_model *text__model_from_rows(const struct text__feat_opts *fo, char **labels,
					  size_t nlabels, bool has_score, const uint32_t *idx,
					  size_t nfeat, const float *dense, const float *bias,
					  double temperature, double prune, json_t *info)
{
	struct text_model *m = model_alloc();
	size_t i, l, r = 0, ncols = nlabels + has_score;
	double *scale = fl_calloc(ncols, sizeof(*scale));
	json_t *jscale = json_array();

	m->fo = *fo;
	m->nlabels = nlabels;
	m->ncols = ncols;
	m->has_score = has_score;
	m->labels = labels;
	m->temperature = temperature;
	m->bias = fl_calloc(ncols, sizeof(*m->bias));
	memcpy(m->bias, bias, ncols * sizeof(*m->bias));
	col_scales(dense, nfeat, ncols, scale);
	for (i = 0; i < nfeat; i++) {
		bool keep = false;

		for (l = 0; l < ncols; l++) {
			double q = nearbyint(dense[i * ncols + l] / scale[l]);

			if (q != 0 && fabs(dense[i * ncols + l]) >= prune)
				keep = true;
		}
		if (!keep)
			continue;
		if (r % 4096 == 0) {
			m->rows = fl_reallocarray(m->rows, r + 4096, sizeof(*m->rows));
			m->w = fl_reallocarray(m->w, (r + 4096) * ncols, sizeof(*m->w));
		}
		m->rows[r] = idx[i];
		for (l = 0; l < ncols; l++) {
			double v = dense[i * ncols + l];
			double q = fabs(v) >= prune ? nearbyint(v / scale[l]) : 0;

			m->w[r * ncols + l] = (float)(q * scale[l]);
		}
		r++;
	}
	m->nrows = r;
	for (l = 0; l < ncols; l++)
		json_array_append_new(jscale, json_real(scale[l]));
	m->info = info ? info : json_object();
	json_object_set_new(m->info, "scales", jscale);
	cache_score(m);
	cache_lexicon(m);
	free(scale);
	((struct text_model_priv *)(void *)m)->slot = build_slots(m);
	return m;
}

size_t text_model_nlabels(const struct text_model *m)
{
	return m->nlabels;
}

const char *text_model_label(const struct text_model *m, size_t i)
{
	return i < m->nlabels ? m->labels[i] : NULL;
}

int text_model_label_index(const struct text_model *m, const char *label)
{
	size_t i;

	for (i = 0; i < m->nlabels; i++)
		if (!strcmp(m->labels[i], label))
			return (int)i;
	return -1;
}

const json_t *text_model_info(const struct text_model *m)
{
	return m->info;
}

void text_model_info_set(struct text_model *m, const char *key, json_t *value)
{
	json_object_set_new(m->info, key, value);
	if (!strcmp(key, "lexicon"))
		cache_lexicon(m);
}

/* Four single-precision floats, one SSE (or NEON) register: GCC's and Clang's vector extension. */
typedef float text__v4 __attribute__((vector_size(16)));

void text__model_scores(const struct text_model *m, const struct text__fvec *fv, double *z)
{
	const uint32_t *slot = slots_of(m);
	size_t i, l, L = m->ncols, nv = (m->ncols + 3) / 4;
	/* summed in single precision, the weights' own, four labels an instruction */
	text__v4 abuf[16], *acc = nv <= 16 ? abuf : fl_calloc(nv, sizeof(*acc)), wv;
	const float *w;

	for (l = 0; l < nv; l++)
		acc[l] = (text__v4){ 0, 0, 0, 0 };
	for (i = 0; i < fv->n; i++) {
		uint32_t r = slot[fv->v[i].idx];
		float x = fv->v[i].val;

		if (!r)
			continue;
		w = m->w + (size_t)(r - 1) * L;
		for (l = 0; l + 4 <= L; l += 4) {
			memcpy(&wv, w + l, sizeof(wv)); /* the rows are not 16-byte aligned */
			acc[l / 4] += x * wv;
		}
		for (; l < L; l++)
			acc[l / 4][l % 4] += x * w[l];
	}
	for (l = 0; l < L; l++)
		z[l] = m->bias[l] + acc[l / 4][l % 4];
	if (acc != abuf)
		free(acc);
}

int text__softmax(const double *z, size_t n, double t, double *probs)
{
	double max = -INFINITY, sum = 0;
	size_t i, best = 0;

	for (i = 0; i < n; i++)
		if (z[i] > max) {
			max = z[i];
			best = i;
		}
	for (i = 0; i < n; i++) {
		probs[i] = exp((z[i] - max) / t);
		sum += probs[i];
	}
	for (i = 0; i < n; i++)
		probs[i] /= sum;
	return (int)best;
}

void text__model_add_member(struct text_model *m, struct text_model *member)
{
	if (m->nmembers + 1 >= TEXT_MODEL_MAX_MEMBERS || member->nlabels != m->nlabels || member->has_score)
		fl_die("text: cannot add an ensemble member");
	m->members[m->nmembers++] = member;
}

int text__model_predict_doc_score(const struct text_model *m, const struct text__doc *doc,
				  struct text__fvec *fv, double *probs, double *score)
{
	double zbuf[64], pbuf[64], *z = m->ncols <= 64 ? zbuf : fl_calloc(m->ncols, sizeof(*z));
	double *p = m->nlabels <= 64 ? pbuf : fl_calloc(m->nlabels, sizeof(*p));
	size_t k, l;
	int best;

	text__features(&m->fo, doc, fv);
	text__model_scores(m, fv, z);
	best = text__softmax(z, m->nlabels, m->temperature, probs);
	if (score)
		*score = m->has_score ? z[m->nlabels] : NAN;
	for (k = 0; k < m->nmembers; k++) {
		const struct text_model *x = m->members[k];

		text__features(&x->fo, doc, fv);
		text__model_scores(x, fv, z); /* x->ncols <= m->ncols: no head beyond the first */
		text__softmax(z, x->nlabels, x->temperature, p);
		for (l = 0; l < m->nlabels; l++)
			probs[l] += p[l];
	}
	if (m->nmembers) {
		best = 0;
		for (l = 0; l < m->nlabels; l++) {
			probs[l] /= (double)(m->nmembers + 1);
			if (probs[l] > probs[best])
				best = (int)l;
		}
	}
	if (z != zbuf)
		free(z);
	if (p != pbuf)
		free(p);
	return best;
}

int text__model_predict_doc(const struct text_model *m, const struct text__doc *doc,
			    struct text__fvec *fv, double *probs)
{
	return text__model_predict_doc_score(m, doc, fv, probs, NULL);
}

int text_model_predict_score(const struct text_model *m, const char *text, double *probs, double *score)
{
	return text__model_predict_doc_score(m, text__doc_for(text), text__thread_fvec(), probs, score);
}

int text_model_predict(const struct text_model *m, const char *text, double *probs)
{
	return text_model_predict_score(m, text, probs, NULL);
}

bool text_model_has_score(const struct text_model *m)
{
	return m->has_score;
}

/* ---- file format ---- */

static void put_u32(struct fl_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	fl_buf_add(b, c, 4);
}

static void put_varint(struct fl_buf *b, uint32_t v)
{
	while (v >= 0x80) {
		fl_buf_addch(b, (int)((v & 0x7f) | 0x80));
		v >>= 7;
	}
	fl_buf_addch(b, (int)v);
}

static json_t *header_of(const struct text_model *m)
{
	json_t *labels = json_array();
	size_t i;

	json_t *h;

	for (i = 0; i < m->nlabels; i++)
		json_array_append_new(labels, json_string(m->labels[i]));
	h = json_pack("{s:s, s:o, s:i, s:b, s:b, s:i, s:i, s:f, s:I}",
		      "format", "frontline-linear", "labels", labels,
		      "hash_bits", (int)m->fo.hash_bits, "words", m->fo.words,
		      "bigrams", m->fo.bigrams, "char_min", (int)m->fo.char_min,
		      "char_max", (int)m->fo.char_max, "temperature", m->temperature,
		      "nrows", (json_int_t)m->nrows);
	if (m->fo.extra) /* likewise: older files have none */
		json_object_set_new(h, "extra", json_integer((json_int_t)m->fo.extra));
	if (m->has_score) /* only then: files without a head stay as they were */
		json_object_set_new(h, "score", json_true());
	if (m->nmembers) /* likewise */
		json_object_set_new(h, "members", json_integer((json_int_t)m->nmembers + 1));
	json_object_set(h, "info", m->info);
	return h;
}

/* Appends m's block (magic, version, header, biases, weights) to b. */
static void serialize(const struct text_model *m, struct fl_buf *b)
{
	json_t *hdr = header_of(m), *scales = json_object_get(m->info, "scales");
	char *js = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
	uint32_t prev = 0;
	size_t r, l;

	fl_buf_add(b, TEXT_MODEL_MAGIC, 4);
	put_u32(b, TEXT_MODEL_VERSION);
	put_u32(b, (uint32_t)strlen(js));
	fl_buf_adds(b, js);
	for (l = 0; l < m->ncols; l++) {
		float f32 = m->bias[l];
		uint32_t u;

		memcpy(&u, &f32, 4);
		put_u32(b, u);
	}
	for (r = 0; r < m->nrows; r++) {
		put_varint(b, m->rows[r] - prev);
		prev = m->rows[r];
		for (l = 0; l < m->ncols; l++) {
			double s = json_real_value(json_array_get(scales, l));
			long q = lrint(m->w[r * m->ncols + l] / (s > 0 ? s : 1));

			fl_buf_addch(b, (int)(signed char)(q > 127 ? 127 : q < -127 ? -127 : q));
		}
	}
	free(js);
	json_decref(hdr);
}

int text_model_save(const struct text_model *m, const char *path, char **err)
{
	struct fl_buf b = FL_BUF_INIT;
	char *tmp = NULL;
	FILE *f = NULL;
	size_t k;
	int rc = TEXT_EIO;

	serialize(m, &b);
	for (k = 0; k < m->nmembers; k++)
		serialize(m->members[k], &b);
	tmp = fl_asprintf("%s.tmp%ld", path, (long)getpid());
	f = fopen(tmp, "wb");
	if (!f) {
		set_err(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (fwrite(b.buf, 1, b.len, f) != b.len || fclose(f) != 0) {
		f = NULL;
		set_err(err, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		set_err(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = TEXT_OK;
out:
	if (f)
		fclose(f);
	free(tmp);
	fl_buf_release(&b);
	return rc;
}

static int read_file(const char *path, struct fl_buf *b, char **err)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f) {
		set_err(err, "cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? TEXT_ENOMODEL : TEXT_EIO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(b, chunk, n);
	if (ferror(f)) {
		set_err(err, "cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		return TEXT_EIO;
	}
	fclose(f);
	return TEXT_OK;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Parses one model block at *pp (up to end), advancing *pp past it; *members
 * gets the header's member count (1 when absent).
 */
static int parse_one(const char *path, const unsigned char **pp, const unsigned char *end,
		     struct text_model **out, size_t *members, char **err)
{
	const unsigned char *p = *pp;
	struct text_model *m = NULL;
	json_t *hdr = NULL, *labels, *scales;
	json_error_t jerr;
	uint32_t hlen, idx = 0;
	size_t l, r;
	int rc, bits, cmin, cmax, words, bigrams;
	bool has_score;
	double temp;
	json_t *jm;
	json_int_t nrows;

	*out = NULL;
	rc = TEXT_EFORMAT;
	if (end - p < 12 || memcmp(p, TEXT_MODEL_MAGIC, 4)) {
		set_err(err, "'%s' is not a frontline model file", path);
		goto out;
	}
	if (get_u32(p + 4) != TEXT_MODEL_VERSION) {
		set_err(err, "'%s': model format version %u is not supported (this build reads %d)",
			path, get_u32(p + 4), TEXT_MODEL_VERSION);
		rc = TEXT_EVERSION;
		goto out;
	}
	hlen = get_u32(p + 8);
	p += 12;
	if ((size_t)(end - p) < hlen) {
		set_err(err, "'%s': truncated header", path);
		goto out;
	}
	hdr = json_loadb((const char *)p, hlen, 0, &jerr);
	p += hlen;
	if (!hdr || json_unpack_ex(hdr, &jerr, 0, "{s:o, s:i, s:b, s:b, s:i, s:i, s:F, s:I}",
				   "labels", &labels, "hash_bits", &bits, "words", &words,
				   "bigrams", &bigrams, "char_min", &cmin, "char_max", &cmax,
				   "temperature", &temp, "nrows", &nrows)) {
		set_err(err, "'%s': bad header: %s", path, jerr.text);
		goto out;
	}
	scales = json_object_get(json_object_get(hdr, "info"), "scales");
	has_score = json_is_true(json_object_get(hdr, "score"));
	if (!json_is_array(labels) || json_array_size(labels) < 2 || bits < 8 || bits > 26 ||
	    cmin < 0 || cmax > 16 || !(temp > 0) || nrows < 0 ||
	    json_array_size(scales) != json_array_size(labels) + has_score) {
		set_err(err, "'%s': bad header values", path);
		goto out;
	}
	m = model_alloc();
	m->fo.hash_bits = (unsigned)bits;
	m->fo.words = words;
	m->fo.bigrams = bigrams;
	m->fo.char_min = (unsigned)cmin;
	m->fo.char_max = (unsigned)cmax;
	m->fo.extra = (unsigned)json_integer_value(json_object_get(hdr, "extra"));
	m->temperature = temp;
	m->nlabels = json_array_size(labels);
	m->has_score = has_score;
	m->ncols = m->nlabels + has_score;
	m->labels = fl_calloc(m->nlabels, sizeof(*m->labels));
	for (l = 0; l < m->nlabels; l++) {
		const char *s = json_string_value(json_array_get(labels, l));

		if (!s) {
			set_err(err, "'%s': label %zu is not a string", path, l);
			goto out;
		}
		m->labels[l] = fl_strdup(s);
	}
	m->info = json_incref(json_object_get(hdr, "info"));
	if (!json_is_object(m->info)) {
		set_err(err, "'%s': bad header: no info object", path);
		goto out;
	}
	cache_score(m);
	cache_lexicon(m);
	if ((size_t)(end - p) < 4 * m->ncols) {
		set_err(err, "'%s': truncated biases", path);
		goto out;
	}
	m->bias = fl_calloc(m->ncols, sizeof(*m->bias));
	for (l = 0; l < m->ncols; l++, p += 4) {
		uint32_t u = get_u32(p);

		memcpy(&m->bias[l], &u, 4);
	}
	m->nrows = (size_t)nrows;
	m->rows = fl_calloc(m->nrows ? m->nrows : 1, sizeof(*m->rows));
	m->w = fl_calloc(m->nrows ? m->nrows * m->ncols : 1, sizeof(*m->w));
	for (r = 0; r < m->nrows; r++) {
		uint32_t delta = 0;
		unsigned shift = 0;

		for (;;) {
			if (p >= end || shift > 28) {
				set_err(err, "'%s': truncated weights at row %zu", path, r);
				goto out;
			}
			delta |= (uint32_t)(*p & 0x7f) << shift;
			shift += 7;
			if (!(*p++ & 0x80))
				break;
		}
		idx += delta;
		if ((r && !delta) || idx >= (1u << bits) || (size_t)(end - p) < m->ncols) {
			set_err(err, "'%s': bad weights at row %zu", path, r);
			goto out;
		}
		m->rows[r] = idx;
		for (l = 0; l < m->ncols; l++)
			m->w[r * m->ncols + l] = (float)((signed char)*p++ *
							 json_real_value(json_array_get(scales, l)));
	}
	jm = json_object_get(hdr, "members");
	*members = json_is_integer(jm) ? (size_t)json_integer_value(jm) : 1;
	if (!*members || *members > TEXT_MODEL_MAX_MEMBERS) {
		set_err(err, "'%s': bad member count", path);
		goto out;
	}
	((struct text_model_priv *)(void *)m)->slot = build_slots(m);
	*out = m;
	*pp = p;
	m = NULL;
	rc = TEXT_OK;
out:
	text_model_free(m);
	json_decref(hdr);
	return rc;
}

int text_model_load(const char *path, struct text_model **out, char **err)
{
	struct fl_buf b = FL_BUF_INIT;
	struct text_model *m = NULL, *x;
	const unsigned char *p, *end;
	size_t members, k, extra;
	int rc;

	*out = NULL;
	rc = read_file(path, &b, err);
	if (rc)
		goto out;
	p = (const unsigned char *)b.buf;
	end = p + b.len;
	rc = parse_one(path, &p, end, &m, &members, err);
	if (rc)
		goto out;
	for (k = 1; k < members; k++) {
		rc = parse_one(path, &p, end, &x, &extra, err);
		if (rc)
			goto out;
		m->members[m->nmembers++] = x;
		rc = TEXT_EFORMAT;
		if (extra != 1 || x->nlabels != m->nlabels || x->has_score) {
			set_err(err, "'%s': member %zu does not match the first", path, k);
			goto out;
		}
		for (extra = 0; extra < m->nlabels; extra++)
			if (strcmp(x->labels[extra], m->labels[extra])) {
				set_err(err, "'%s': member %zu has other labels", path, k);
				goto out;
			}
	}
	rc = TEXT_EFORMAT;
	if (p != end) {
		set_err(err, "'%s': %zu bytes of trailing data", path, (size_t)(end - p));
		goto out;
	}
	*out = m;
	m = NULL;
	rc = TEXT_OK;
out:
	text_model_free(m);
	fl_buf_release(&b);
	return rc;
}
