/*
 * Language identification (src/text/langid.c): the seven measured languages
 * on sentences that are not in tests/fixtures/langid, other scripts, texts
 * with no letters, the same answers from several threads at once, and the
 * accuracy on the fixture's test half. Also the dictionary of words beside
 * it (src/text/dict.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"
#include "test_helpers.h"

static struct text_langid *li;

static int open_langid(void **state)
{
	char *err = NULL;

	(void)state;
	if (text_langid_open(NULL, "en", &li, &err) != TEXT_OK) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return -1;
	}
	return 0;
}

static int close_langid(void **state)
{
	(void)state;
	text_langid_free(li);
	li = NULL;
	return 0;
}

static const struct { const char *text, *code; } samples[] = {
	{ "Could you tell me why the mobile app logs me out every evening?", "en" },
	{ "my invoice is wrong", "en" },
	{ "Können Sie mir sagen, warum mich die App jeden Abend abmeldet?", "de" },
	{ "Pourriez-vous me dire pourquoi l'application me déconnecte tous les soirs ?", "fr" },
	{ "¿Me pueden decir por qué la aplicación me cierra la sesión cada noche?", "es" },
	{ "Podem me dizer por que o aplicativo me desconecta toda noite?", "pt" },
	{ "Potete dirmi perché l'app mi disconnette ogni sera?", "it" },
	{ "Kunnen jullie me vertellen waarom de app me elke avond uitlogt?", "nl" },
	{ "Не могу войти в свой аккаунт со вчерашнего дня.", "ru" },
	{ "昨日からアカウントにログインできません。", "ja" },
	{ "我从昨天开始无法登录我的账户。", "zh" },
	{ "Δεν μπορώ να συνδεθώ στον λογαριασμό μου από χθες.", "el" },
	{ "لا أستطيع تسجيل الدخول إلى حسابي منذ الأمس.", "ar" },
	{ "Jag kan inte logga in på mitt konto sedan i går, vad ska jag göra?", "sv" },
};

static void test_langid_knows_the_languages(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct text_language l;

		text_langid_detect(li, samples[i].text, strlen(samples[i].text), &l);
		if (strcmp(l.code, samples[i].code))
			fail_msg("'%s': got %s (%.2f), want %s", samples[i].text, l.code, l.confidence,
				 samples[i].code);
		assert_true(l.confidence > 0.5);
		assert_true(l.words >= 1);
	}
}

static void test_langid_without_letters_is_undetermined(void **state)
{
	static const char *const texts[] = { "", "12345 678", "!!! ??? :-)", "#4411 2024-05-01" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct text_language l;

		text_langid_detect(li, texts[i], strlen(texts[i]), &l);
		assert_string_equal(l.code, "und");
		assert_true(l.confidence == 0);
	}
}

static void test_langid_confidence_is_lower_for_a_near_tie(void **state)
{
	struct text_language sure, unsure;
	const char *a = "Thanks, I found the setting and it works now. Have a nice weekend!";
	const char *b = "Service Request";

	(void)state;
	text_langid_detect(li, a, strlen(a), &sure);
	text_langid_detect(li, b, strlen(b), &unsure);
	assert_string_equal(sure.code, "en");
	assert_true(sure.confidence > unsure.confidence);
	assert_true(sure.confidence > 0.9);
}

struct job {
	char got[sizeof(samples) / sizeof(samples[0])][12];
};

static void *detect_all(void *arg)
{
	struct job *j = arg;
	size_t i, round;

	for (round = 0; round < 20; round++)
		for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
			struct text_language l;

			text_langid_detect(li, samples[i].text, strlen(samples[i].text), &l);
			memcpy(j->got[i], l.code, sizeof(l.code));
		}
	return NULL;
}

static void test_langid_is_thread_safe(void **state)
{
	pthread_t t[4];
	struct job jobs[4];
	size_t i, k;

	(void)state;
	for (k = 0; k < 4; k++)
		assert_int_equal(pthread_create(&t[k], NULL, detect_all, &jobs[k]), 0);
	for (k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	for (k = 0; k < 4; k++)
		for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
			assert_string_equal(jobs[k].got[i], samples[i].code);
}

/* The fixture's test half (the constants were chosen on its dev half): 0.905 when written. */
static void test_langid_fixture_accuracy(void **state)
{
	char *path = test_source_path("tests/fixtures/langid/own.jsonl");
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, right = 0;

	(void)state;
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *row = json_loads(line, 0, NULL);
		const char *text = json_string_value(json_object_get(row, "text"));
		struct text_language l;

		assert_non_null(text);
		if (!strcmp(json_string_value(json_object_get(row, "split")), "test")) {
			text_langid_detect(li, text, strlen(text), &l);
			n++;
			right += !strcmp(l.code, json_string_value(json_object_get(row, "lang")));
		}
		json_decref(row);
	}
	free(line);
	fclose(f);
	free(path);
	assert_true(n >= 60);
	if ((double)right / (double)n < 0.85)
		fail_msg("accuracy %zu/%zu below 0.85", right, n);
}

/* The dictionary (src/text/dict.c): words with their affixes, names not, and what it cannot tell. */
static void test_dict_knows_words_not_names(void **state)
{
	struct text_dict *d = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(text_dict_open("/nonexistent/en_US", &d, &err), TEXT_ENOMODEL);
	assert_null(d);
	assert_non_null(strstr(err, "hunspell-en-us"));
	free(err);
	assert_int_equal(text_dict_knows(NULL, "word"), -1);
	assert_int_equal(text_dict_open(NULL, &d, NULL), TEXT_OK);
	assert_int_equal(text_dict_knows(d, "handed"), 1);
	assert_int_equal(text_dict_knows(d, "touching"), 1);
	assert_int_equal(text_dict_knows(d, "paypal"), 0);
	assert_int_equal(text_dict_knows(d, "huawei"), 0);
	assert_int_equal(text_dict_knows(d, ""), -1);
	text_dict_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_langid_knows_the_languages),
		cmocka_unit_test(test_langid_without_letters_is_undetermined),
		cmocka_unit_test(test_langid_confidence_is_lower_for_a_near_tie),
		cmocka_unit_test(test_langid_is_thread_safe),
		cmocka_unit_test(test_langid_fixture_accuracy),
		cmocka_unit_test(test_dict_knows_words_not_names),
	};

	return cmocka_run_group_tests(tests, open_langid, close_langid);
}
