/*
 * The tokenizer: one pass over the UTF-8 input that keeps apart URLs, e-mail
 * addresses, emoticons, order numbers, numbers, words, emoji and punctuation,
 * then a second pass over the new tokens that marks negation scope,
 * intensified words and ALL-CAPS. Character classes come from utf8proc
 * (general category, grapheme boundaries and Extended_Pictographic), so no
 * Unicode table lives here; the only lists are the English cue words.
 *
 * Normalised token text lives in chunks owned by the token list, so the norm
 * pointers stay valid while more tokens are appended.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text_int.h"

struct text__chunk {
	struct text__chunk *next;
	size_t used, cap;
	char data[];
};

#define CHUNK_MIN 4096
#define NEG_SCOPE 4

/* ---- code points ---- */

static int32_t cp_at(const char *s, size_t len, size_t i, size_t *n)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t k;

	if ((unsigned char)s[i] < 0x80) {
		*n = 1;
		return (unsigned char)s[i];
	}
	k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
	if (k < 1) {
		*n = 1;
		return 0xFFFD;
	}
	*n = (size_t)k;
	return c;
}

static bool cp_is_letter(int32_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
		return true;
	default:
		return false;
	}
}

static bool cp_is_digit(int32_t c)
{
	if (c < 0x80)
		return c >= '0' && c <= '9';
	return utf8proc_category(c) == UTF8PROC_CATEGORY_ND;
}

static bool cp_is_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0d) || c < 0x20 || c == 0x7f;
	switch (utf8proc_category(c)) {
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
		return c != 0x200D; /* ZWJ belongs to emoji sequences */
	default:
		return false;
	}
}

static bool cp_is_emoji(int32_t c)
{
	if (c < 0x80)
		return false;
	switch (utf8proc_get_property(c)->boundclass) {
	case UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC:
	case UTF8PROC_BOUNDCLASS_E_ZWG:
	case UTF8PROC_BOUNDCLASS_E_BASE:
	case UTF8PROC_BOUNDCLASS_E_BASE_GAZ:
	case UTF8PROC_BOUNDCLASS_GLUE_AFTER_ZWJ:
	case UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR:
		return true;
	default:
		return false;
	}
}

static bool is_alnum_at(const char *s, size_t len, size_t i)
{
	size_t n;
	int32_t c;

	if (i >= len)
		return false;
	c = cp_at(s, len, i, &n);
	return cp_is_letter(c) || cp_is_digit(c);
}

/* True when the code point ending just before byte i is a letter or digit. */
static bool alnum_before(const char *s, size_t i)
{
	size_t j = i;

	if (!i)
		return false;
	j--;
	while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80)
		j--;
	return is_alnum_at(s, i, j);
}

static bool ascii_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- token list ---- */

static char *arena_alloc(struct text_tokens *t, size_t n)
{
	struct text__chunk *c = t->chunks;
	char *p;

	if (!c || c->cap - c->used < n) {
		size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;

		c = fl_malloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = t->chunks;
		t->chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static struct text_token *push(struct text_tokens *t, enum text_token_kind kind, const char *s,
			       size_t off, size_t len, struct fl_buf *scratch)
{
	struct text_token *tok;
	char *norm;

	size_t i, norm_len;

	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 32;
		t->v = fl_reallocarray(t->v, t->alloc, sizeof(*t->v));
	}
	for (i = 0; i < len && (unsigned char)s[off + i] < 0x80; i++)
		;
	if (i == len) { /* ASCII: what text_normalize does (lower-casing), straight into the arena */
		norm = arena_alloc(t, len + 1);
		for (i = 0; i < len; i++) {
			char c = s[off + i];

			norm[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		norm[len] = '\0';
		norm_len = len;
	} else {
		fl_buf_reset(scratch);
		text_normalize(s + off, len, scratch);
		norm = arena_alloc(t, scratch->len + 1);
		memcpy(norm, scratch->buf, scratch->len + 1);
		norm_len = scratch->len;
	}
	tok = &t->v[t->n++];
	tok->kind = kind;
	tok->flags = 0;
	tok->norm = norm;
	tok->norm_len = norm_len;
	tok->off = off;
	tok->len = len;
	return tok;
}

void text_tokens_reset(struct text_tokens *t)
{
	struct text__chunk *c, *next;

	t->n = 0;
	if (!t->chunks)
		return;
	for (c = t->chunks->next; c; c = next) {
		next = c->next;
		free(c);
	}
	t->chunks->next = NULL;
	t->chunks->used = 0;
}

void text_tokens_release(struct text_tokens *t)
{
	text_tokens_reset(t);
	free(t->chunks);
	free(t->v);
	t->chunks = NULL;
	t->v = NULL;
	t->n = t->alloc = 0;
}

const char *text_token_kind_name(enum text_token_kind kind)
{
	switch (kind) {
	case TEXT_TOK_WORD: return "word";
	case TEXT_TOK_NUMBER: return "number";
	case TEXT_TOK_EMOJI: return "emoji";
	case TEXT_TOK_EMOTICON: return "emoticon";
	case TEXT_TOK_URL: return "url";
	case TEXT_TOK_EMAIL: return "email";
	case TEXT_TOK_ORDER_ID: return "order_id";
	case TEXT_TOK_PUNCT: return "punct";
	}
	return "unknown";
}

/* ---- scanners: each returns the token's length at i, or 0 ---- */

static bool prefix_ci(const char *s, size_t len, size_t i, const char *p)
{
	size_t k;

	for (k = 0; p[k]; k++) {
		char c;

		if (i + k >= len)
			return false;
		c = s[i + k];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != p[k])
			return false;
	}
	return true;
}

static size_t scan_url(const char *s, size_t len, size_t i)
{
	size_t j;

	if (!prefix_ci(s, len, i, "http://") && !prefix_ci(s, len, i, "https://") &&
	    !prefix_ci(s, len, i, "www."))
		return 0;
	if (alnum_before(s, i))
		return 0;
	for (j = i; j < len; j++) {
		unsigned char c = (unsigned char)s[j];

		if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == 0x7f)
			break;
	}
	while (j > i && strchr(".,;:!?)]}'", s[j - 1]))
		j--;
	if (j - i < 8)
		return 0;
	return j - i;
}

static bool email_local(char c)
{
	return ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static size_t scan_email(const char *s, size_t len, size_t i)
{
	size_t j = i, at, dot = 0, k;

	if (!ascii_alnum(s[i]) || alnum_before(s, i))
		return 0;
	while (j < len && email_local(s[j]))
		j++;
	if (j >= len || s[j] != '@' || j == i)
		return 0;
	at = j++;
	while (j < len && (ascii_alnum(s[j]) || s[j] == '-' || s[j] == '.')) {
		if (s[j] == '.')
			dot = j;
		j++;
	}
	while (j > at + 1 && s[j - 1] == '.') {
		j--;
		dot = 0;
		for (k = at + 1; k < j; k++)
			if (s[k] == '.')
				dot = k;
	}
	if (!dot || dot == at + 1 || j - dot < 3)
		return 0;
	for (k = dot + 1; k < j; k++)
		if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
			return 0;
	return j - i;
}

/* Western emoticons, longest first where one is a prefix of another. */
static const char *const emoticons[] = {
	">:-(", ">:(", ":'-(", ":'(", ":'-)", ":')", "</3", "<3",
	":-)", ":-(", ":-D", ":-P", ":-p", ":-/", ":-|", ":-O", ":-o", ":-*", ":-]", ":-[",
	";-)", ";-D", ";-P", "=-)", "=-(",
	":)", ":(", ":D", ":P", ":p", ":/", ":|", ":O", ":o", ":*", ":]", ":[", ":S", ":s",
	";)", ";D", ";P", ";p", "=)", "=(", "=D", "=]", "=[",
	"^_^", "^^", "-_-", "T_T", ">_<", "o_O", "O_o", "XD", "xD",
	NULL,
};

static size_t scan_emoticon(const char *s, size_t len, size_t i)
{
	size_t k, n;

	/* most tokens start with a character no emoticon starts with (every word but T, o, O, X, x);
	 * eyes (":;=") may follow a word without a space ("thanks:)"), letters may not */
	if (!s[i] || !strchr(">:<;=^-TOoXx", s[i]) || (alnum_before(s, i) && !strchr(":;=", s[i])))
		return 0;
	for (k = 0; emoticons[k]; k++) {
		if (emoticons[k][0] != s[i])
			continue;
		n = strlen(emoticons[k]);
		if (n <= len - i && !memcmp(s + i, emoticons[k], n) && !is_alnum_at(s, len, i + n))
			return n;
	}
	return 0;
}

/*
 * Order numbers: "#" + alphanumerics with a digit; or an ASCII run of
 * letters, digits and inner hyphens with 3+ digits and a letter, 5+ long
 * ("ORD-2024-0042", "AB123456"); or 7+ bare digits.
 */
static size_t scan_order(const char *s, size_t len, size_t i)
{
	size_t j = i, digits = 0, letters = 0;
	bool hyphen = false;

	if (s[i] == '#') {
		j++;
		while (j < len && (ascii_alnum(s[j]) || (s[j] == '-' && j + 1 < len && ascii_alnum(s[j + 1])))) {
			if (s[j] >= '0' && s[j] <= '9')
				digits++;
			j++;
		}
		if (!digits || is_alnum_at(s, len, j))
			return 0;
		return j - i;
	}
	if (!ascii_alnum(s[i]))
		return 0;
	while (j < len) {
		if (s[j] >= '0' && s[j] <= '9')
			digits++;
		else if (ascii_alnum(s[j]))
			letters++;
		else if (s[j] == '-' && j + 1 < len && ascii_alnum(s[j + 1]) && j > i)
			hyphen = true;
		else
			break;
		j++;
	}
	if (is_alnum_at(s, len, j))
		return 0; /* runs into non-ASCII letters: a word */
	if (letters && digits >= 3 && letters + digits >= 5)
		return j - i;
	if (!letters && !hyphen && digits >= 7)
		return j - i;
	return 0;
}

static size_t scan_number(const char *s, size_t len, size_t i)
{
	size_t j = i, n;

	while (j < len) {
		int32_t c = cp_at(s, len, j, &n);

		if (cp_is_digit(c)) {
			j += n;
			continue;
		}
		if ((c == '.' || c == ',' || c == ':') && j + 1 < len && s[j + 1] >= '0' && s[j + 1] <= '9') {
			j++;
			continue;
		}
		break;
	}
	if (j < len && s[j] == '%')
		j++;
	return j - i;
}

static size_t scan_word(const char *s, size_t len, size_t i)
{
	size_t j = i, n;

	while (j < len) {
		int32_t c = cp_at(s, len, j, &n);

		if (cp_is_letter(c) || cp_is_digit(c)) {
			j += n;
			continue;
		}
		if (c == '\'' || c == 0x2019) {
			size_t m;

			if (j + n < len && cp_is_letter(cp_at(s, len, j + n, &m))) {
				j += n;
				continue;
			}
		}
		break;
	}
	return j - i;
}

static size_t scan_emoji(const char *s, size_t len, size_t i)
{
	utf8proc_int32_t state = 0;
	size_t j = i, n;
	int32_t prev = cp_at(s, len, i, &n);

	j += n;
	while (j < len) {
		int32_t c = cp_at(s, len, j, &n);

		if (utf8proc_grapheme_break_stateful(prev, c, &state))
			break;
		prev = c;
		j += n;
	}
	return j - i;
}

/* ---- cues ---- */

/*
 * Binary search of a sorted list; the first bytes are compared inline
 * (strcmp's order: unsigned bytes), so most probes never call strcmp: this
 * runs for every word of every text.
 */
static bool word_in(const char *w, const char *const *list, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = (int)(unsigned char)w[0] - (int)(unsigned char)list[mid][0];

		if (!c)
			c = strcmp(w, list[mid]);
		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* The lists below are sorted (C locale) for bsearch. */
#define WORD_IN(w, list) word_in((w), (list), FL_ARRAY_SIZE(list))

static const char *const negators[] = {
	"aint", "arent", "cannot", "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt",
	"havent", "isnt", "mustnt", "nah", "neednt", "neither", "never", "no", "nobody", "none",
	"nope", "nor", "not", "nothing", "nowhere", "shouldnt", "wasnt", "werent", "without", "wont",
	"wouldnt",
};

static const char *const scope_enders[] = {
	"although", "but", "except", "however", "though", "whereas",
};

static const char *const intensifiers[] = {
	"absolutely", "amazingly", "awfully", "completely", "damn", "deeply", "entirely",
	"especially", "exceptionally", "extraordinarily", "extremely", "freaking", "fucking", "fully",
	"highly", "hugely", "incredibly", "insanely", "massively", "particularly", "really",
	"remarkably", "ridiculously", "seriously", "so", "super", "terribly", "thoroughly", "too",
	"totally", "truly", "utterly", "very", "way",
};

/*
 * Squashes runs of 3+ equal ASCII letters of a word's norm to 2 in place
 * ("soooo" -> "soo"); returns whether there was one.
 */
static bool squash_elongation(struct text_token *t)
{
	char *w = (char *)t->norm;
	size_t i, o = 0, run = 0;
	bool any = false;

	for (i = 0; i < t->norm_len; i++) {
		run = i && w[i] == w[i - 1] ? run + 1 : 1;
		if (run >= 3 && w[i] >= 'a' && w[i] <= 'z') {
			any = true;
			continue;
		}
		w[o++] = w[i];
	}
	w[o] = '\0';
	t->norm_len = o;
	return any;
}

/* The norm of an elongated word with its doubled letters kept once ("soo" -> "so"). */
static const char *single_form(const struct text_token *t, char *buf, size_t cap)
{
	size_t i, o = 0;

	if (!(t->flags & TEXT_TOK_ELONGATED) || t->norm_len >= cap)
		return NULL;
	for (i = 0; i < t->norm_len; i++)
		if (!o || t->norm[i] != buf[o - 1])
			buf[o++] = t->norm[i];
	buf[o] = '\0';
	return buf;
}

static bool in_list_elong(const struct text_token *t, const char *const *list, size_t n)
{
	char buf[32];
	const char *w;

	if (word_in(t->norm, list, n))
		return true;
	w = single_form(t, buf, sizeof(buf));
	return w && word_in(w, list, n);
}

static bool is_negator(const struct text_token *t)
{
	size_t n = t->norm_len;

	if (t->kind != TEXT_TOK_WORD)
		return false;
	if (n > 3 && !strcmp(t->norm + n - 3, "n't"))
		return true;
	return in_list_elong(t, negators, FL_ARRAY_SIZE(negators));
}

static bool ends_clause(const struct text_token *t)
{
	if (t->kind == TEXT_TOK_PUNCT)
		return strchr(".,;:!?", t->norm[0]) != NULL;
	if (t->kind == TEXT_TOK_EMOTICON || t->kind == TEXT_TOK_EMOJI)
		return true;
	return t->kind == TEXT_TOK_WORD && WORD_IN(t->norm, scope_enders);
}

static bool all_caps(const char *s, size_t len)
{
	size_t i = 0, n, upper = 0;

	while (i < len) {
		int32_t c = cp_at(s, len, i, &n);
		utf8proc_category_t cat;

		if (c < 0x80) {
			if (c >= 'a' && c <= 'z')
				return false;
			upper += c >= 'A' && c <= 'Z';
			i++;
			continue;
		}
		cat = utf8proc_category(c);

		if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
			return false;
		if (cat == UTF8PROC_CATEGORY_LU)
			upper++;
		i += n;
	}
	return upper >= 2;
}

static const char *const contrasts[] = { "but", "however" };

static void mark_cues(const char *s, struct text_tokens *t, size_t first)
{
	size_t i, scope = 0;
	bool boost = false, contrast = false;

	for (i = first; i < t->n; i++) {
		struct text_token *tok = &t->v[i];

		if (tok->kind == TEXT_TOK_PUNCT && strchr(".!?", tok->norm[0]))
			contrast = false;
		if (tok->kind == TEXT_TOK_WORD) {
			if (all_caps(s + tok->off, tok->len))
				tok->flags |= TEXT_TOK_ALLCAPS;
			if (tok->norm_len >= 3 && squash_elongation(tok))
				tok->flags |= TEXT_TOK_ELONGATED;
			/* "@name" (not an e-mail address: those are scanned whole) */
			if (i > first && tok->off && s[tok->off - 1] == '@' && t->v[i - 1].kind == TEXT_TOK_PUNCT &&
			    t->v[i - 1].off + 1 == tok->off)
				tok->flags |= TEXT_TOK_MENTION;
			if (contrast)
				tok->flags |= TEXT_TOK_CONTRAST;
			if (WORD_IN(tok->norm, contrasts))
				contrast = true;
		}
		if (ends_clause(tok)) {
			scope = 0;
			boost = false;
			continue;
		}
		if (tok->kind != TEXT_TOK_WORD)
			continue;
		if (is_negator(tok)) {
			tok->flags |= TEXT_TOK_NEGATOR;
			scope = NEG_SCOPE;
			continue;
		}
		if (in_list_elong(tok, intensifiers, FL_ARRAY_SIZE(intensifiers))) {
			tok->flags |= TEXT_TOK_INTENSIFIER;
			if (scope) {
				tok->flags |= TEXT_TOK_NEGATED;
				scope--;
			}
			boost = true;
			continue;
		}
		if (boost)
			tok->flags |= TEXT_TOK_INTENSIFIED;
		boost = false;
		if (scope) {
			tok->flags |= TEXT_TOK_NEGATED;
			scope--;
		}
	}
}

/* ---- the tokenizer ---- */

void text_tokenize(const char *s, size_t len, struct text_tokens *out)
{
	struct fl_buf scratch = FL_BUF_INIT;
	size_t i = 0, first = out->n;

	if (!s)
		return;
	while (i < len) {
		size_t n, k;
		int32_t c = cp_at(s, len, i, &n);

		if (cp_is_space(c)) {
			i += n;
			continue;
		}
		if ((k = scan_url(s, len, i))) {
			push(out, TEXT_TOK_URL, s, i, k, &scratch);
		} else if ((k = scan_email(s, len, i))) {
			push(out, TEXT_TOK_EMAIL, s, i, k, &scratch);
		} else if (c < 0x80 && !ascii_alnum((char)c) && (k = scan_emoticon(s, len, i))) {
			push(out, TEXT_TOK_EMOTICON, s, i, k, &scratch);
		} else if (ascii_alnum((char)c) && !cp_is_digit(c) && (k = scan_emoticon(s, len, i))) {
			push(out, TEXT_TOK_EMOTICON, s, i, k, &scratch);
		} else if ((c == '#' || ascii_alnum((char)c)) && !alnum_before(s, i) &&
			   (k = scan_order(s, len, i))) {
			push(out, TEXT_TOK_ORDER_ID, s, i, k, &scratch);
		} else if (cp_is_digit(c)) {
			k = scan_number(s, len, i);
			push(out, TEXT_TOK_NUMBER, s, i, k, &scratch);
		} else if (cp_is_letter(c)) {
			k = scan_word(s, len, i);
			push(out, TEXT_TOK_WORD, s, i, k, &scratch);
		} else if (cp_is_emoji(c)) {
			k = scan_emoji(s, len, i);
			push(out, TEXT_TOK_EMOJI, s, i, k, &scratch);
		} else if (c == '!' || c == '?') {
			for (k = 0; i + k < len && (s[i + k] == '!' || s[i + k] == '?'); k++)
				;
			push(out, TEXT_TOK_PUNCT, s, i, k, &scratch);
		} else {
			/* a lone punctuation or symbol code point, with its combining marks */
			k = n;
			while (i + k < len) {
				size_t m;
				int32_t d = cp_at(s, len, i + k, &m);
				utf8proc_category_t cat = utf8proc_category(d);

				if (cat != UTF8PROC_CATEGORY_MN && cat != UTF8PROC_CATEGORY_ME && d != 0xFE0F)
					break;
				k += m;
			}
			push(out, TEXT_TOK_PUNCT, s, i, k, &scratch);
		}
		i += k;
	}
	fl_buf_release(&scratch);
	mark_cues(s, out, first);
}
