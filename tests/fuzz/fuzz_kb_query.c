/*
 * Fuzz target: the knowledge base's query builder. A customer's text (a
 * ticket's subject and each question it asks, as support/kbsearch.c sends
 * them; GET /api/v1/kb/search?q=&language=) is tokenized, stemmed, planned
 * into phrases with synonyms (kb/query.c), written as an FTS5 MATCH
 * expression, ranked and measured part by part (kb_search_query), on an
 * in-memory index of the bundled articles (data/kb, several languages)
 * made once.
 *
 * The first byte of the input picks the parameters the query runs with
 * (bit 0 no stop words, bit 1 no synonyms, bit 2 pruning at 10 articles
 * instead of 5,000, so that the (selective) AND (all) form of the
 * expression is reached too), bits 3-4 the language (any, en, de, fr) and
 * bits 5-7 the limit (1 to 8); the rest is the query, whose lines are its
 * parts (the last of KB_MAX_PARTS parts keeps the remaining lines).
 *
 * Checked (kb.h): every query succeeds (customer text never breaks the
 * MATCH syntax); the answer has articles_found articles, at most the limit,
 * in the language asked for, each with a relevance_score in 0..1, best
 * first, a coverage in 0..1 and a matched_weight that is finite and not
 * negative; the top article's missing words are at most five strings; with
 * several parts, each article has one part_relevance in 0..1 per part and
 * the answer one entry per part in "parts"; unknown_words are strings.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "kb/kb.h"
#include "util/util.h"

static struct kb *kb;

/* A number in lo..hi (json_number_value gives 0 for what is no number: checked apart). */
static bool in_range(const json_t *v, double lo, double hi)
{
	return json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) >= lo &&
	       json_number_value(v) <= hi;
}

static void check_strings(const json_t *a, size_t max)
{
	const json_t *v;
	size_t i;

	FUZZ_CHECK(json_is_array(a) && json_array_size(a) <= max);
	json_array_foreach(a, i, v)
		FUZZ_CHECK(json_is_string(v));
}

static void check_answer(const json_t *out, const struct kb_query *q)
{
	const json_t *articles = json_object_get(out, "articles"), *a, *parts, *part, *v;
	double last = INFINITY;
	size_t i, k;

	FUZZ_CHECK(json_is_array(articles));
	FUZZ_CHECK((json_int_t)json_array_size(articles) == json_integer_value(json_object_get(out, "articles_found")));
	FUZZ_CHECK(json_array_size(articles) <= (size_t)q->limit);
	check_strings(json_object_get(out, "unknown_words"), SIZE_MAX);
	json_array_foreach(articles, i, a) {
		double score = json_number_value(json_object_get(a, "score"));
		const char *lang = json_string_value(json_object_get(a, "language"));

		FUZZ_CHECK(json_is_string(json_object_get(a, "id")));
		FUZZ_CHECK(lang && (!q->language || !strcmp(lang, q->language)));
		FUZZ_CHECK(in_range(json_object_get(a, "relevance_score"), 0, 1));
		FUZZ_CHECK(isfinite(score) && score <= last);
		last = score;
		if ((v = json_object_get(a, "coverage"))) {
			FUZZ_CHECK(in_range(v, 0, 1));
			FUZZ_CHECK(in_range(json_object_get(a, "matched_weight"), 0, INFINITY));
		}
		if ((v = json_object_get(a, "missing")))
			check_strings(v, 5);
		FUZZ_CHECK(i == 0 || !json_object_get(a, "missing"));
		if ((v = json_object_get(a, "part_relevance"))) {
			FUZZ_CHECK(q->nparts > 1 && json_is_array(v) && json_array_size(v) == q->nparts);
			json_array_foreach(v, k, part)
				FUZZ_CHECK(in_range(part, 0, 1));
		}
	}
	parts = json_object_get(out, "parts");
	FUZZ_CHECK(q->nparts > 1 ? json_is_array(parts) && json_array_size(parts) == q->nparts : !parts);
	json_array_foreach(parts, k, part) {
		FUZZ_CHECK(json_integer_value(json_object_get(part, "concepts")) >= 0);
		FUZZ_CHECK(in_range(json_object_get(part, "weight"), 0, INFINITY));
		check_strings(json_object_get(part, "unknown_words"), SIZE_MAX);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const languages[] = { NULL, "en", "de", "fr" };
	const char *parts[KB_MAX_PARTS];
	struct kb_query q = { parts, 0, NULL, 0 };
	struct kb_params p;
	json_t *out = NULL;
	char *query, *at;
	int rc;

	if (!size)
		return 0;
	kb_params_default(&p);
	p.stop_words = !(data[0] & 1);
	p.synonyms = !(data[0] & 2);
	if (data[0] & 4)
		p.prune_above = 10;
	q.language = languages[(data[0] >> 3) & 3];
	q.limit = 1 + (data[0] >> 5);
	kb_set_params(kb, &p);
	query = fuzz_string(data + 1, size - 1);
	parts[q.nparts++] = query;
	for (at = query; q.nparts < KB_MAX_PARTS && (at = strchr(at, '\n'));) {
		*at++ = '\0';
		parts[q.nparts++] = at;
	}
	rc = kb_search_query(kb, &q, &out);
	FUZZ_CHECK(rc == KB_OK);
	check_answer(out, &q);
	json_decref(out);
	free(query);
	return 0;
}

static void close_kb(void)
{
	kb_close(kb);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_source_path("data/kb"), *err = NULL;
	json_t *articles = NULL;

	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	if (kb_open(NULL, &kb, &err) != KB_OK || kb_import_path(dir, &articles, &err) != KB_OK ||
	    kb_add_many(kb, articles) != KB_OK) {
		fprintf(stderr, "fuzz_kb_query: cannot index '%s': %s\n", dir, err ? err : "kb_add_many failed");
		exit(1);
	}
	json_decref(articles);
	free(dir);
	atexit(close_kb);
	return 0;
}
