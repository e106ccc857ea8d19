/*
 * Language identification: libexttextcat's n-gram profiles (Cavnar and
 * Trenkle's out-of-place distance, the language models Debian ships in
 * /usr/share/libexttextcat), in two steps that keep it cheap and make short
 * texts work:
 *
 * 1. Candidates. The letters' script picks the languages of a non-Latin
 *    script (Cyrillic, Greek, Arabic, Hebrew, Han, Kana, Hangul, Thai,
 *    Devanagari). For Latin text, the share of very common function words of
 *    seven languages ("the", "der", "le", "el", "o", "il", "het"...) picks
 *    the languages that have any of them, with the primary language; when
 *    none of the seven has at least MIN_SHARE of the words, every Latin
 *    language of the table is a candidate.
 * 2. Decision. Each candidate's profile distance to the text's profile (the
 *    first SAMPLE_BYTES of the text) is divided by the best distance; the
 *    function-word share lowers it by W_WORDS * share, and the primary
 *    language (the one the knowledge base is written in) by PRIMARY_PRIOR.
 *    The lowest wins; confidence is the softmax of the negated scores at
 *    temperature TEMPERATURE.
 *
 * When the function words leave no doubt (DECISIVE_HITS of one language, a
 * share of MIN_SHARE, twice those of any other language) they decide alone,
 * scored as in step 2 with equal profile distances: a profile of the text
 * costs about 0.5 M instructions whatever its length, which is as much as
 * the rest of a ticket's triage; most support messages are decided so
 * (accuracy unchanged on every set below).
 *
 * The constants were chosen on the dev half of tests/fixtures/langid and the
 * dev tickets of tests/fixtures/autoreply (docs/QUALITY.md, "Language"): n-gram
 * profiles alone call a quarter of two-to-six-word English texts Scots,
 * Catalan or Danish; the function words and the prior fix most of it. A
 * full comparison costs about 12 K instructions per language, so comparing
 * the ~6 candidates instead of 50 languages is what keeps it affordable per
 * ticket.
 *
 * The profiles are read once (text_langid_open); detection allocates its own
 * text profile, so one struct text_langid serves every thread.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fingerprint.h>
#include <textcat_properties.h>

#include "text_int.h"

#ifndef TEXT_LANGID_DIR
#define TEXT_LANGID_DIR "/usr/share/libexttextcat"
#endif

#define SAMPLE_BYTES 200      /* of the text given to the n-gram profile */
#define WORDS_BYTES 2000      /* of the text searched for function words */
#define PROFILE_NGRAMS 400    /* n-grams per profile, libexttextcat's default */
#define MIN_SHARE 0.15        /* function-word share that narrows the Latin candidates */
#define W_WORDS 0.3           /* weight of the function-word share in the score */
#define PRIMARY_PRIOR 0.02    /* the primary language's head start */
#define TEMPERATURE 0.02      /* of the confidence's softmax */
#define DECISIVE_HITS 4       /* function words that decide without the profiles (with the share and lead) */

enum script {
	SCRIPT_LATIN, SCRIPT_CYRILLIC, SCRIPT_GREEK, SCRIPT_ARABIC, SCRIPT_HEBREW, SCRIPT_HAN,
	SCRIPT_KANA, SCRIPT_HANGUL, SCRIPT_THAI, SCRIPT_DEVANAGARI, SCRIPT_N,
};

/* The languages compared: profile file (without ".lm"), BCP 47 code, script. */
static const struct lang {
	const char *file, *code;
	enum script script;
} langs[] = {
	{ "en", "en", SCRIPT_LATIN }, { "de", "de", SCRIPT_LATIN }, { "fr", "fr", SCRIPT_LATIN },
	{ "es", "es", SCRIPT_LATIN }, { "pt", "pt", SCRIPT_LATIN }, { "it", "it", SCRIPT_LATIN },
	{ "nl", "nl", SCRIPT_LATIN }, { "sv", "sv", SCRIPT_LATIN }, { "da", "da", SCRIPT_LATIN },
	{ "nb", "nb", SCRIPT_LATIN }, { "fi", "fi", SCRIPT_LATIN }, { "pl", "pl", SCRIPT_LATIN },
	{ "cs", "cs", SCRIPT_LATIN }, { "sk", "sk", SCRIPT_LATIN }, { "hu", "hu", SCRIPT_LATIN },
	{ "ro", "ro", SCRIPT_LATIN }, { "tr", "tr", SCRIPT_LATIN }, { "hr", "hr", SCRIPT_LATIN },
	{ "sl", "sl", SCRIPT_LATIN }, { "et", "et", SCRIPT_LATIN }, { "lv", "lv", SCRIPT_LATIN },
	{ "lt", "lt", SCRIPT_LATIN }, { "ca", "ca", SCRIPT_LATIN }, { "id", "id", SCRIPT_LATIN },
	{ "vi", "vi", SCRIPT_LATIN }, { "tl", "tl", SCRIPT_LATIN }, { "sw", "sw", SCRIPT_LATIN },
	{ "af", "af", SCRIPT_LATIN },
	{ "ru", "ru", SCRIPT_CYRILLIC }, { "uk", "uk", SCRIPT_CYRILLIC }, { "bg", "bg", SCRIPT_CYRILLIC },
	{ "sr-Cyrl", "sr", SCRIPT_CYRILLIC }, { "mk", "mk", SCRIPT_CYRILLIC },
	{ "el", "el", SCRIPT_GREEK },
	{ "ar", "ar", SCRIPT_ARABIC }, { "fa", "fa", SCRIPT_ARABIC }, { "ur", "ur", SCRIPT_ARABIC },
	{ "he", "he", SCRIPT_HEBREW },
	{ "zh-Hans", "zh", SCRIPT_HAN }, { "ja", "ja", SCRIPT_KANA },
	{ "ko", "ko", SCRIPT_HANGUL }, { "th", "th", SCRIPT_THAI }, { "hi", "hi", SCRIPT_DEVANAGARI },
};

#define NLANGS FL_ARRAY_SIZE(langs)
#define NWORD_LANGS 7   /* langs[0..6] have function-word lists */

/*
 * Function words of the first seven languages: articles, pronouns,
 * prepositions, auxiliaries and question words, the words a support message
 * cannot avoid (lower case; a word may belong to several languages).
 */
static const char *const function_words[NWORD_LANGS] = {
	/* en */ "the a an and or is are was i you we it my your our this that to of in on for with not do does "
		 "did can how what why where when there please thanks thank have has be will would should me us "
		 "they any",
	/* de */ "der die das und oder ist sind war ich du wir es mein meine unser unsere dies diese nicht zu "
		 "von im in auf für mit wie was warum wo wann bitte danke habe hat haben kann können ein eine "
		 "einen mir uns sie schon noch auch",
	/* fr */ "le la les et ou est sont était je tu nous il elle mon ma mes notre nos ce cette pas ne de du "
		 "des en dans sur pour avec comment pourquoi où quand merci ai avez a un une me vous y depuis",
	/* es */ "el la los las y o es son era yo tú nosotros mi mis nuestro nuestra este esta no de del en "
		 "con para por cómo como qué dónde cuándo gracias he ha tengo puedo un una me nos se lo",
	/* pt */ "o a os as e ou é são era eu você nós meu minha nosso nossa este esta não de do da dos das "
		 "em no na com para por como que onde quando obrigado obrigada tenho posso um uma me se",
	/* it */ "il lo la i gli le e o è sono era io tu noi mio mia nostro nostra questo questa non di del "
		 "della in nel con per come perché dove quando grazie ho ha posso un una mi ci si",
	/* nl */ "de het een en of is zijn was ik jij je wij we mijn onze ons dit deze niet te van in op voor "
		 "met hoe wat waarom waar wanneer bedankt dank heb heeft kan kunnen mij er al ook",
};

struct fword {
	char *w;
	unsigned langs;   /* bit i: langs[i] */
};

struct text_langid {
	void *profile[NLANGS];
	struct fword *words;
	size_t nwords;
	size_t primary;   /* index of the primary language in langs[] */
};

static int cmp_fword(const void *a, const void *b)
{
	return strcmp(((const struct fword *)a)->w, ((const struct fword *)b)->w);
}

static void add_words(struct text_langid *li, size_t lang, const char *list, size_t *cap)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, " "), i;

		for (i = 0; i < li->nwords && !(strlen(li->words[i].w) == n && !memcmp(li->words[i].w, p, n)); i++)
			;
		if (i == li->nwords) {
			if (li->nwords == *cap) {
				*cap = *cap ? *cap * 2 : 256;
				li->words = fl_realloc(li->words, *cap * sizeof(*li->words));
			}
			li->words[li->nwords].w = fl_strndup(p, n);
			li->words[li->nwords++].langs = 0;
		}
		li->words[i].langs |= 1u << lang;
		p += n;
		while (*p == ' ')
			p++;
	}
}

const char *text_langid_default_dir(void)
{
	return TEXT_LANGID_DIR;
}

int text_langid_open(const char *dir, const char *primary, struct text_langid **out, char **err)
{
	struct text_langid *li = fl_calloc(1, sizeof(*li));
	size_t i, cap = 0;

	*out = NULL;
	if (!dir || !*dir)
		dir = TEXT_LANGID_DIR;
	for (i = 0; i < NLANGS; i++) {
		char *path = fl_asprintf("%s/%s.lm", dir, langs[i].file);

		li->profile[i] = fp_Init(langs[i].code);
		if (!li->profile[i] || fp_Read(li->profile[i], path, PROFILE_NGRAMS) == 0) {
			if (err)
				*err = fl_asprintf("cannot read the language profile '%s' (libexttextcat-data)", path);
			free(path);
			text_langid_free(li);
			return TEXT_ENOMODEL;
		}
		free(path);
		if (primary && !strcmp(primary, langs[i].code))
			li->primary = i;
	}
	for (i = 0; i < NWORD_LANGS; i++)
		add_words(li, i, function_words[i], &cap);
	qsort(li->words, li->nwords, sizeof(*li->words), cmp_fword);
	*out = li;
	return TEXT_OK;
}

void text_langid_free(struct text_langid *li)
{
	size_t i;

	if (!li)
		return;
	for (i = 0; i < NLANGS; i++)
		if (li->profile[i])
			fp_Done(li->profile[i]);
	for (i = 0; i < li->nwords; i++)
		free(li->words[i].w);
	free(li->words);
	free(li);
}

/* The script of the code point at s (UTF-8, n >= 2 bytes); SCRIPT_N when none of ours. */
static enum script script_of(unsigned cp)
{
	if (cp >= 0x0400 && cp <= 0x052F)
		return SCRIPT_CYRILLIC;
	if (cp >= 0x0370 && cp <= 0x03FF)
		return SCRIPT_GREEK;
	if ((cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F))
		return SCRIPT_ARABIC;
	if (cp >= 0x0590 && cp <= 0x05FF)
		return SCRIPT_HEBREW;
	if (cp >= 0x0900 && cp <= 0x097F)
		return SCRIPT_DEVANAGARI;
	if (cp >= 0x0E00 && cp <= 0x0E7F)
		return SCRIPT_THAI;
	if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF))
		return SCRIPT_KANA;
	if ((cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0x1100 && cp <= 0x11FF))
		return SCRIPT_HANGUL;
	if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF))
		return SCRIPT_HAN;
	if (cp >= 0x00C0 && cp <= 0x024F)
		return SCRIPT_LATIN;
	return SCRIPT_N;
}

/* Decodes one UTF-8 sequence at p (< end); returns its length (1 for a bad byte). */
static size_t utf8_decode(const unsigned char *p, const unsigned char *end, unsigned *cp)
{
	size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 1;
	size_t i;

	if (n == 1 || p + n > end) {
		*cp = *p;
		return 1;
	}
	*cp = *p & (0xFF >> (n + 1));
	for (i = 1; i < n; i++)
		*cp = (*cp << 6) | (p[i] & 0x3F);
	return n;
}

/*
 * Letters by script, and function-word hits per language, over text[0..len).
 * Words are runs of letters (ASCII lower-cased, other bytes kept), split at
 * apostrophes ("l'appli" -> "l", "appli").
 */
static void scan(const struct text_langid *li, const char *text, size_t len, size_t letters[SCRIPT_N],
		 size_t hits[NWORD_LANGS], size_t *nwords)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	char w[32];
	size_t wl = 0, i;
	bool too_long = false;

	*nwords = 0;
	for (;;) {
		unsigned cp = 0;
		size_t n = p < end ? utf8_decode(p, end, &cp) : 0;
		bool letter = n && ((cp < 0x80 && ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) ||
				    (cp >= 0x80 && script_of(cp) != SCRIPT_N));

		if (letter) {
			letters[cp < 0x80 ? SCRIPT_LATIN : script_of(cp)]++;
			if (wl + n < sizeof(w)) {
				if (cp < 0x80)
					w[wl++] = (char)(cp | 0x20);
				else
					for (i = 0; i < n; i++)
						w[wl++] = (char)p[i];
			} else {
				too_long = true;
			}
		} else if (wl) {
			struct fword key, *hit;

			w[wl] = '\0';
			key.w = w;
			(*nwords)++;
			hit = too_long ? NULL : bsearch(&key, li->words, li->nwords, sizeof(*li->words), cmp_fword);
			for (i = 0; hit && i < NWORD_LANGS; i++)
				hits[i] += (hit->langs >> i) & 1;
			wl = 0;
			too_long = false;
		}
		if (!n)
			break;
		p += n;
	}
}

/* The first len bytes of text, at most max, cut at a character boundary. */
static size_t clip(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max && ((unsigned char)text[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* Function words alone decide: at least DECISIVE_HITS of one language, a share of MIN_SHARE, twice any other's. */
static bool decisive(const size_t hits[NWORD_LANGS], size_t nwords, size_t best)
{
	size_t i;

	if (hits[best] < DECISIVE_HITS || (double)hits[best] / (double)nwords < MIN_SHARE)
		return false;
	for (i = 0; i < NWORD_LANGS; i++)
		if (i != best && 2 * hits[i] > hits[best])
			return false;
	return true;
}

/* The lowest score wins; confidence is the softmax of the negated scores (n of them, INFINITY: not a candidate). */
static void finish(const struct text_langid *li, const double *score, size_t n, size_t nwords,
		   struct text_language *out)
{
	size_t i, best = n, second = n;
	double z = 0;

	(void)li;
	for (i = 0; i < n; i++) {
		if (isinf(score[i]))
			continue;
		if (best == n || score[i] < score[best]) {
			second = best;
			best = i;
		} else if (second == n || score[i] < score[second]) {
			second = i;
		}
	}
	if (best == n)
		return;
	for (i = 0; i < n; i++)
		if (!isinf(score[i]))
			z += exp(-(score[i] - score[best]) / TEMPERATURE);
	fl_strlcpy(out->code, langs[best].code, sizeof(out->code));
	out->confidence = 1 / z;
	if (second != n) {
		fl_strlcpy(out->runner_up, langs[second].code, sizeof(out->runner_up));
		out->runner_up_confidence = exp(-(score[second] - score[best]) / TEMPERATURE) / z;
	}
	out->words = nwords;
}

void text_langid_detect(const struct text_langid *li, const char *text, size_t len, struct text_language *out)
{
	size_t letters[SCRIPT_N] = { 0 }, hits[NWORD_LANGS] = { 0 }, nwords = 0, i;
	size_t latin_best = 0;
	double score[NLANGS], mn = INFINITY;
	bool cand[NLANGS] = { false };
	enum script script = SCRIPT_LATIN;
	void *unknown;

	memset(out, 0, sizeof(*out));
	fl_strlcpy(out->code, "und", sizeof(out->code));
	scan(li, text, clip(text, len, WORDS_BYTES), letters, hits, &nwords);
	for (i = 1; i < SCRIPT_N; i++)
		if (letters[i] > letters[script])
			script = (enum script)i;
	if (script == SCRIPT_HAN && letters[SCRIPT_KANA])
		script = SCRIPT_KANA;   /* Japanese mixes kanji with kana; Chinese has none */
	if (!letters[script])
		return;
	for (i = 0; i < NWORD_LANGS; i++)
		if (hits[i] > hits[latin_best])
			latin_best = i;
	for (i = 0; i < NLANGS; i++) {
		if (script != SCRIPT_LATIN)   /* Han text may be Japanese written in kanji */
			cand[i] = langs[i].script == script ||
				  (script == SCRIPT_HAN && langs[i].script == SCRIPT_KANA);
		else if (langs[i].script != SCRIPT_LATIN)
			cand[i] = false;
		else if (nwords && (double)hits[latin_best] / (double)nwords >= MIN_SHARE)
			cand[i] = (i < NWORD_LANGS && hits[i]) || i == li->primary;
		else
			cand[i] = true;
	}
	/*
	 * Function words that leave no doubt (many, and twice those of any other
	 * language) decide without the profiles: a profile of the text costs
	 * about 0.5 M instructions however short the text is (the library sorts
	 * its n-gram table), the rest of a ticket's triage about 1.3 M.
	 */
	if (script == SCRIPT_LATIN && decisive(hits, nwords, latin_best)) {
		for (i = 0; i < NWORD_LANGS; i++)
			score[i] = 1 - W_WORDS * (double)hits[i] / (double)nwords - (i == li->primary ? PRIMARY_PRIOR : 0);
		finish(li, score, NWORD_LANGS, nwords, out);
		return;
	}
	unknown = fp_Init(NULL);
	fp_SetProperty(unknown, TCPROP_UTF8AWARE, TC_TRUE);
	fp_SetProperty(unknown, TCPROP_MINIMUM_DOCUMENT_SIZE, 1);
	if (!fp_Create(unknown, text, (unsigned)clip(text, len, SAMPLE_BYTES), PROFILE_NGRAMS)) {
		fp_Done(unknown);
		return;
	}
	for (i = 0; i < NLANGS; i++) {
		if (!cand[i])
			continue;
		score[i] = (double)fp_Compare(li->profile[i], unknown, INT32_MAX);
		out->compared++;
		if (score[i] < mn)
			mn = score[i];
	}
	fp_Done(unknown);
	if (!out->compared || mn <= 0)
		return;
	for (i = 0; i < NLANGS; i++) {
		if (!cand[i]) {
			score[i] = INFINITY;
			continue;
		}
		score[i] /= mn;
		if (i < NWORD_LANGS && nwords)
			score[i] -= W_WORDS * (double)hits[i] / (double)nwords;
		if (i == li->primary)
			score[i] -= PRIMARY_PRIOR;
	}
	finish(li, score, NLANGS, nwords, out);
}
