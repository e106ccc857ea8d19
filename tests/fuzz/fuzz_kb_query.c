/*
 * Fuzz target: the knowledge base's query builder. A customer's text (a
 * ticket's subject and content, GET /api/v1/kb/search?q=) is tokenized,
 * stemmed, planned into phrases with synonyms (kb/query.c), written as an
 * FTS5 MATCH expression and ranked, on an in-memory index of the bundled
 * articles (data/kb) made once.
 *
 * The first byte of the input picks the parameters the query runs with
 * (stop words, synonyms, and pruning at 10 articles instead of 5,000, so
 * that the (selective) AND (all) form of the expression is reached too);
 * the rest is the query.
 *
 * Checked (kb.h): every query succeeds (customer text never breaks the
 * MATCH syntax); the answer has articles_found articles, at most the limit,
 * each with a relevance_score in 0..1, best first.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "kb/kb.h"
#include "util/util.h"

static struct kb *kb;

static void check_answer(const json_t *out, int limit)
{
	const json_t *articles = json_object_get(out, "articles"), *a;
	double last = INFINITY;
	size_t i;

	FUZZ_CHECK(json_is_array(articles));
	FUZZ_CHECK((json_int_t)json_array_size(articles) == json_integer_value(json_object_get(out, "articles_found")));
	FUZZ_CHECK(json_array_size(articles) <= (size_t)limit);
	json_array_foreach(articles, i, a) {
		double rel = json_number_value(json_object_get(a, "relevance_score"));
		double score = json_number_value(json_object_get(a, "score"));

		FUZZ_CHECK(json_is_string(json_object_get(a, "id")));
		FUZZ_CHECK(rel >= 0 && rel <= 1);
		FUZZ_CHECK(isfinite(score) && score <= last);
		last = score;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kb_params p;
	json_t *out = NULL;
	char *query;
	int limit, rc;

	if (!size)
		return 0;
	kb_params_default(&p);
	p.stop_words = !(data[0] & 1);
	p.synonyms = !(data[0] & 2);
	if (data[0] & 4)
		p.prune_above = 10;
	limit = 1 + (data[0] >> 4);
	kb_set_params(kb, &p);
	query = fuzz_string(data + 1, size - 1);
	rc = kb_search(kb, query, limit, &out);
	FUZZ_CHECK(rc == KB_OK);
	check_answer(out, limit);
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
