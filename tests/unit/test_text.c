/*
 * text: normalisation, tokenizer (kinds, spans, cues), stemmer.
 * The classifier and sentiment tests are in test_text_model.c.
 */
#include "test_helpers.h"

#include "text/text.h"

static char *norm(const char *s, size_t len)
{
	struct fl_buf b = FL_BUF_INIT;

	assert_int_equal(text_normalize(s, len, &b), 0);
	return fl_buf_detach(&b, NULL);
}

static void test_normalize_folds_case_and_compat(void **state)
{
	char *r;

	(void)state;
	r = norm("Hello WORLD", 11);
	assert_string_equal(r, "hello world");
	free(r);
	/* NFKC: the "ﬁ" ligature and full-width letters; case folding: ß -> ss */
	r = norm("\xEF\xAC\x81le \xEF\xBC\xA1\xEF\xBC\xA2 Stra\xC3\x9F" "e",
		 strlen("\xEF\xAC\x81le \xEF\xBC\xA1\xEF\xBC\xA2 Stra\xC3\x9F" "e"));
	assert_string_equal(r, "file ab strasse");
	free(r);
	/* composed and decomposed é give the same result */
	r = norm("Cafe\xCC\x81", 6);
	assert_string_equal(r, "caf\xC3\xA9");
	free(r);
	/* Greek final sigma folds; typographic apostrophe becomes ASCII */
	r = norm("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x9F\xCE\xA3 can\xE2\x80\x99t",
		 strlen("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x9F\xCE\xA3 can\xE2\x80\x99t"));
	assert_string_equal(r, "\xCF\x83\xCE\xBF\xCF\x86\xCE\xBF\xCF\x83 can't");
	free(r);
}

static void test_normalize_replaces_invalid_utf8(void **state)
{
	char *r;

	(void)state;
	r = norm("ab\xFF" "c\xC3", 5);
	assert_string_equal(r, "ab\xEF\xBF\xBD" "c\xEF\xBF\xBD");
	free(r);
	r = norm("", 0);
	assert_string_equal(r, "");
	free(r);
}

static void test_normalize_appends(void **state)
{
	struct fl_buf b = FL_BUF_INIT;

	(void)state;
	fl_buf_adds(&b, "x:");
	text_normalize("\xC3\x89T\xC3\x89", 5, &b);
	assert_string_equal(b.buf, "x:\xC3\xA9t\xC3\xA9");
	fl_buf_release(&b);
}

struct expect {
	enum text_token_kind kind;
	const char *norm;
};

static void check_tokens(const char *s, const struct expect *e, size_t n)
{
	struct text_tokens t = TEXT_TOKENS_INIT;
	size_t i;

	text_tokenize(s, strlen(s), &t);
	for (i = 0; i < t.n && i < n; i++) {
		if (t.v[i].kind != e[i].kind || strcmp(t.v[i].norm, e[i].norm))
			fail_msg("'%s' token %zu: got %s '%s', want %s '%s'", s, i,
				 text_token_kind_name(t.v[i].kind), t.v[i].norm,
				 text_token_kind_name(e[i].kind), e[i].norm);
	}
	if (t.n != n)
		fail_msg("'%s': %zu tokens, want %zu", s, t.n, n);
	text_tokens_release(&t);
}

static void test_tokenize_kinds(void **state)
{
	static const struct expect e1[] = {
		{ TEXT_TOK_WORD, "order" }, { TEXT_TOK_ORDER_ID, "#a12345" },
		{ TEXT_TOK_WORD, "hasn't" }, { TEXT_TOK_WORD, "arrived" },
		{ TEXT_TOK_PUNCT, "!!!" }, { TEXT_TOK_EMOTICON, ":(" },
	};
	static const struct expect e2[] = {
		{ TEXT_TOK_WORD, "mail" }, { TEXT_TOK_EMAIL, "john.doe@company.com" },
		{ TEXT_TOK_WORD, "or" }, { TEXT_TOK_WORD, "see" },
		{ TEXT_TOK_URL, "https://status.example.com/incidents?id=4" }, { TEXT_TOK_PUNCT, "." },
	};
	static const struct expect e3[] = {
		{ TEXT_TOK_WORD, "paid" }, { TEXT_TOK_PUNCT, "$" }, { TEXT_TOK_NUMBER, "1,299.99" },
		{ TEXT_TOK_WORD, "at" }, { TEXT_TOK_NUMBER, "10:30" }, { TEXT_TOK_PUNCT, "," },
		{ TEXT_TOK_NUMBER, "15%" }, { TEXT_TOK_WORD, "off" },
	};
	static const struct expect e4[] = {
		{ TEXT_TOK_WORD, "love" }, { TEXT_TOK_WORD, "it" },
		{ TEXT_TOK_EMOJI, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" },
		{ TEXT_TOK_EMOJI, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x92\xBB" },
		{ TEXT_TOK_EMOTICON, "<3" }, { TEXT_TOK_EMOTICON, "xd" },
	};
	static const struct expect e5[] = {
		{ TEXT_TOK_WORD, "ref" }, { TEXT_TOK_ORDER_ID, "ord-2024-0042" },
		{ TEXT_TOK_WORD, "and" }, { TEXT_TOK_ORDER_ID, "113542617735902" },
		{ TEXT_TOK_WORD, "not" }, { TEXT_TOK_NUMBER, "2024" },
		{ TEXT_TOK_WORD, "nor" }, { TEXT_TOK_WORD, "mp3" },
	};
	static const struct expect e6[] = {
		{ TEXT_TOK_WORD, "caf\xC3\xA9" }, { TEXT_TOK_WORD, "na\xC3\xAFve" },
		{ TEXT_TOK_WORD, "\xE6\x97\xA5\xE6\x9C\xAC" }, { TEXT_TOK_PUNCT, "\xEF\xBF\xBD" },
		{ TEXT_TOK_WORD, "wi" }, { TEXT_TOK_PUNCT, "-" }, { TEXT_TOK_WORD, "fi" },
	};

	(void)state;
	check_tokens("Order #A12345 hasn't arrived!!! :(", e1, FL_ARRAY_SIZE(e1));
	check_tokens("Mail John.Doe@company.com or see https://status.example.com/incidents?id=4.",
		     e2, FL_ARRAY_SIZE(e2));
	check_tokens("paid $1,299.99 at 10:30, 15% off", e3, FL_ARRAY_SIZE(e3));
	check_tokens("Love it \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x92\xBB <3 XD",
		     e4, FL_ARRAY_SIZE(e4));
	check_tokens("ref ORD-2024-0042 and 113542617735902 not 2024 nor mp3", e5, FL_ARRAY_SIZE(e5));
	check_tokens("Caf\xC3\xA9 NA\xC3\x8FVE \xE6\x97\xA5\xE6\x9C\xAC \xFF wi-fi", e6, FL_ARRAY_SIZE(e6));
}

static void test_tokenize_spans_point_into_input(void **state)
{
	const char *s = "  Hi \xC3\x89mile, call 555!";
	struct text_tokens t = TEXT_TOKENS_INIT;
	size_t i;

	(void)state;
	text_tokenize(s, strlen(s), &t);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.v[0].off, 2);
	assert_int_equal(t.v[0].len, 2);
	assert_memory_equal(s + t.v[1].off, "\xC3\x89mile", t.v[1].len);
	for (i = 0; i < t.n; i++)
		assert_true(t.v[i].off + t.v[i].len <= strlen(s));
	/* appending keeps earlier norms valid */
	text_tokenize("second call", 11, &t);
	assert_int_equal(t.n, 8);
	assert_string_equal(t.v[1].norm, "\xC3\xA9mile");
	assert_string_equal(t.v[7].norm, "call");
	text_tokens_reset(&t);
	assert_int_equal(t.n, 0);
	text_tokenize("again", 5, &t);
	assert_string_equal(t.v[0].norm, "again");
	text_tokens_release(&t);
	text_tokens_release(&t); /* twice is harmless */
}

/* Flags of each token of s, as a string of letters: n(egated) c(aps) i(ntensified) x (negator) b(ooster)
 * e(longated) m(ention) k (after a contrast word). */
static char *flags_of(const char *s)
{
	struct text_tokens t = TEXT_TOKENS_INIT;
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	text_tokenize(s, strlen(s), &t);
	for (i = 0; i < t.n; i++) {
		unsigned f = t.v[i].flags;

		if (i)
			fl_buf_addch(&b, ' ');
		fl_buf_adds(&b, t.v[i].norm);
		fl_buf_addch(&b, '/');
		if (f & TEXT_TOK_NEGATED)
			fl_buf_addch(&b, 'n');
		if (f & TEXT_TOK_ALLCAPS)
			fl_buf_addch(&b, 'c');
		if (f & TEXT_TOK_INTENSIFIED)
			fl_buf_addch(&b, 'i');
		if (f & TEXT_TOK_NEGATOR)
			fl_buf_addch(&b, 'x');
		if (f & TEXT_TOK_INTENSIFIER)
			fl_buf_addch(&b, 'b');
		if (f & TEXT_TOK_ELONGATED)
			fl_buf_addch(&b, 'e');
		if (f & TEXT_TOK_MENTION)
			fl_buf_addch(&b, 'm');
		if (f & TEXT_TOK_CONTRAST)
			fl_buf_addch(&b, 'k');
	}
	text_tokens_release(&t);
	return fl_buf_detach(&b, NULL);
}

static void check_flags(const char *s, const char *want)
{
	char *got = flags_of(s);

	if (strcmp(got, want))
		fail_msg("'%s': got '%s', want '%s'", s, got, want);
	free(got);
}

static void test_negation_scope(void **state)
{
	(void)state;
	check_flags("it is not working", "it/ is/ not/x working/n");
	check_flags("the code never arrived", "the/ code/ never/x arrived/n");
	check_flags("I can't log in", "i/ can't/x log/n in/n");
	check_flags("I can\xE2\x80\x99t log in", "i/ can't/x log/n in/n");
	check_flags("not good, but fine", "not/x good/n ,/ but/ fine/k");
	check_flags("no one here to help me at all",
		    "no/x one/n here/n to/n help/n me/ at/ all/");
	check_flags("dont like it. Love this", "dont/x like/n it/n ./ love/ this/");
}

static void test_intensifiers_and_caps(void **state)
{
	(void)state;
	check_flags("very very bad", "very/b very/b bad/i");
	check_flags("This is EXTREMELY slow", "this/ is/ extremely/cb slow/i");
	check_flags("NOT HAPPY", "not/cx happy/nc");
	check_flags("I am A user", "i/ am/ a/ user/");
	check_flags("not very good", "not/x very/nb good/ni");
}

static void test_social_media_text(void **state)
{
	static const struct expect e1[] = {
		{ TEXT_TOK_WORD, "thanks" }, { TEXT_TOK_EMOTICON, ":)" }, { TEXT_TOK_WORD, "so" },
		{ TEXT_TOK_WORD, "bad" }, { TEXT_TOK_EMOTICON, ":(" }, { TEXT_TOK_WORD, "note" },
		{ TEXT_TOK_PUNCT, ":" }, { TEXT_TOK_WORD, "done" },
	};

	(void)state;
	/* eyes may follow a word; a colon before a word stays punctuation */
	check_tokens("thanks:) so bad:( note:done", e1, FL_ARRAY_SIZE(e1));
	/* elongation kept twice; cue words also matched with the run once */
	check_flags("sooo bad!!! :(", "soo/be bad/i !!!/ :(/");
	check_flags("coooool", "cool/e");
	check_flags("NOOOO it is broken", "noo/cxe it/n is/n broken/n");
	check_flags("keep wwwwork", "keep/ wwork/e");
	/* @name is a mention; an e-mail address is not */
	check_flags("@united lost my bag", "@/ united/m lost/ my/ bag/");
	check_flags("a @ b", "a/ @/ b/");
	check_flags("mail a.b@example.com", "mail/ a.b@example.com/");
	/* contrast: until the end of the sentence */
	check_flags("good but slow. fine", "good/ but/ slow/k ./ fine/");
	check_flags("fine, however it is late!", "fine/ ,/ however/ it/k is/k late/k !/");
}

static void test_stemmer(void **state)
{
	static const char *const cases[][2] = {
		{ "connections", "connect" }, { "running", "run" }, { "refunds", "refund" },
		{ "billing", "bill" }, { "generously", "generous" }, { "arrived", "arriv" },
		{ "passwords", "password" },
	};
	struct text_stemmer *st = text_stemmer_new();
	size_t i, n;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++) {
		const char *r = text_stem(st, cases[i][0], strlen(cases[i][0]), &n);

		assert_int_equal(n, strlen(cases[i][1]));
		assert_memory_equal(r, cases[i][1], n);
	}
	/* non-ASCII passes through intact */
	assert_memory_equal(text_stem(st, "caf\xC3\xA9s", 6, &n), "caf\xC3\xA9", 5);
	text_stemmer_free(st);
	text_stemmer_free(NULL);
}

/* Chat spellings read as written; words of their own are left alone; the thread's stemmer is one. */
static void test_chat_words(void **state)
{
	static const char *const cases[][2] = {
		{ "dont", "don't" }, { "wasnt", "wasn't" }, { "cant", "can't" }, { "shouldnt", "shouldn't" },
		{ "im", "i'm" }, { "u", "you" }, { "pls", "please" }, { "whats", "what's" }, { "theyre", "they're" },
	};
	static const char *const words[] = { "its", "were", "well", "ill", "id", "lets", "want", "us", "plan",
					     "can't", "" };
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(cases); i++)
		assert_string_equal(text_chat_word(cases[i][0]), cases[i][1]);
	for (i = 0; i < FL_ARRAY_SIZE(words); i++)
		assert_null(text_chat_word(words[i]));
	assert_ptr_equal(text_stemmer_this_thread(), text_stemmer_this_thread());
}

static void test_errors_have_names(void **state)
{
	(void)state;
	assert_string_equal(text_errname(TEXT_EFORMAT), "TEXT_EFORMAT");
	assert_string_equal(text_strerror(TEXT_EDATA), "malformed training data");
	assert_string_equal(text_strerror(-42), "unknown error");
	assert_string_equal(text_errname(999), "TEXT_UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_folds_case_and_compat),
		cmocka_unit_test(test_normalize_replaces_invalid_utf8),
		cmocka_unit_test(test_normalize_appends),
		cmocka_unit_test(test_tokenize_kinds),
		cmocka_unit_test(test_tokenize_spans_point_into_input),
		cmocka_unit_test(test_negation_scope),
		cmocka_unit_test(test_intensifiers_and_caps),
		cmocka_unit_test(test_social_media_text),
		cmocka_unit_test(test_stemmer),
		cmocka_unit_test(test_chat_words),
		cmocka_unit_test(test_errors_have_names),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
