/*
 * Unicode normalisation for everything that compares text: NFKC with case
 * folding, by utf8proc. Invalid UTF-8 is replaced (U+FFFD) before utf8proc
 * sees it, because utf8proc_map rejects the whole string otherwise. ASCII
 * takes a fast path: NFKC leaves it alone and case folding is lower-casing.
 *
 * Also the module's error strings.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text_int.h"

const char *text_strerror(int rc)
{
	switch (rc) {
#define TEXT_STR(name, text) case TEXT_##name: return text;
	TEXT_ERRNO_MAP(TEXT_STR)
#undef TEXT_STR
	}
	return "unknown error";
}

const char *text_errname(int rc)
{
	switch (rc) {
#define TEXT_NAME(name, text) case TEXT_##name: return "TEXT_" #name;
	TEXT_ERRNO_MAP(TEXT_NAME)
#undef TEXT_NAME
	}
	return "TEXT_UNKNOWN";
}

/* Typographic single quotes fold to the ASCII apostrophe so that "can’t" and
 * "can't" are one word. */
static utf8proc_int32_t fold_quotes(utf8proc_int32_t c, void *data)
{
	(void)data;
	if (c == 0x2018 || c == 0x2019 || c == 0x02BC)
		return '\'';
	return c;
}

static bool is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* Copies s into b with invalid sequences replaced by U+FFFD. */
static void sanitize(const char *s, size_t len, struct fl_buf *b)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	while (i < len) {
		utf8proc_int32_t c;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &c);

		if (n < 1) {
			fl_buf_add(b, "\xEF\xBF\xBD", 3);
			i++;
			continue;
		}
		fl_buf_add(b, s + i, (size_t)n);
		i += (size_t)n;
	}
}

int text_normalize(const char *s, size_t len, struct fl_buf *out)
{
	struct fl_buf clean = FL_BUF_INIT;
	utf8proc_uint8_t *mapped = NULL;
	utf8proc_ssize_t n;
	size_t i;

	if (!s || !len)
		return 0;
	if (is_ascii(s, len)) {
		fl_buf_grow(out, len);
		for (i = 0; i < len; i++) {
			char c = s[i];

			out->buf[out->len + i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		fl_buf_setlen(out, out->len + len);
		return 0;
	}
	sanitize(s, len, &clean);
	n = utf8proc_map_custom((const utf8proc_uint8_t *)clean.buf, (utf8proc_ssize_t)clean.len,
				&mapped,
				UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD,
				fold_quotes, NULL);
	if (n >= 0)
		fl_buf_add(out, mapped, (size_t)n);
	else /* cannot happen on sanitized input; keep the text rather than lose it */
		fl_buf_add(out, clean.buf, clean.len);
	free(mapped);
	fl_buf_release(&clean);
	return 0;
}

/* sorted by the chat spelling: bsearch */
struct chat_word {
	const char *chat, *written;
};

static const struct chat_word chat_words[] = {
	{ "arent", "aren't" }, { "cant", "can't" }, { "couldnt", "couldn't" }, { "didnt", "didn't" },
	{ "doesnt", "doesn't" }, { "dont", "don't" }, { "hadnt", "hadn't" }, { "hasnt", "hasn't" },
	{ "havent", "haven't" }, { "im", "i'm" }, { "isnt", "isn't" }, { "ive", "i've" }, { "pls", "please" },
	{ "plz", "please" }, { "shouldnt", "shouldn't" }, { "thats", "that's" }, { "theyre", "they're" },
	{ "u", "you" }, { "ur", "your" }, { "wasnt", "wasn't" }, { "werent", "weren't" }, { "weve", "we've" },
	{ "whats", "what's" }, { "wont", "won't" }, { "wouldnt", "wouldn't" }, { "youre", "you're" },
};

static int cmp_chat(const void *key, const void *elem)
{
	return strcmp(key, ((const struct chat_word *)elem)->chat);
}

const char *text_chat_word(const char *word)
{
	const struct chat_word *hit;
	size_t n = strlen(word);
	char last;

	/* most words end as no chat spelling does: "...nt", or one of "semurz" within six letters */
	if (!n || n > 8)
		return NULL;
	last = word[n - 1];
	if (!(last == 't' && n > 2 && word[n - 2] == 'n') && !(n <= 6 && strchr("semurz", last)))
		return NULL;
	hit = bsearch(word, chat_words, sizeof(chat_words) / sizeof(chat_words[0]), sizeof(chat_words[0]), cmp_chat);
	return hit ? hit->written : NULL;
}
