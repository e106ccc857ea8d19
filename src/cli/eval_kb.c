/*
 * frontline eval kb: recall@1, recall@5 and MRR of knowledge-base search on
 * an article set and a query set, for Frontline's ranking or (--baseline) for
 * plain SQLite FTS5 bm25. The measuring itself is kb_eval_run (src/kb).
 *
 *   frontline eval kb --articles ../shared/data/kb/stackfaq/articles.jsonl \
 *       --queries ../shared/data/kb/stackfaq/queries.tsv --split dev --json
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kb/kb.h"
#include "util/util.h"

static const char *const eval_kb_usage[] = {
	"frontline eval kb --articles FILE|DIR --queries FILE [--baseline] [--split dev|test|all] "
	"[--params LIST] [--per-query] [--json]",
	NULL,
};

static int parse_split(const char *s, enum kb_eval_split *out)
{
	if (!strcmp(s, "all"))
		*out = KB_SPLIT_ALL;
	else if (!strcmp(s, "dev"))
		*out = KB_SPLIT_DEV;
	else if (!strcmp(s, "test"))
		*out = KB_SPLIT_TEST;
	else
		return -1;
	return 0;
}

/* "a=1,b=2" into params; a message in *err on failure. */
static int parse_params(const char *list, struct kb_params *p, char **err)
{
	char *copy = fl_strdup(list), *s = copy;
	int rc = KB_OK;

	while (rc == KB_OK && *s) {
		size_t n = strcspn(s, ",");
		char save = s[n];

		s[n] = '\0';
		if (n)
			rc = kb_params_set(p, s, err);
		s += n + (save == ',');
	}
	free(copy);
	return rc;
}

static void print_text(const json_t *r)
{
	size_t i;
	const json_t *qs = json_object_get(r, "queries");

	for (i = 0; i < json_array_size(qs); i++) {
		const json_t *q = json_array_get(qs, i);

		if (fl_json_int(q, "rank", 0) == 1)
			continue;
		printf("rank %-3d %s\n", (int)fl_json_int(q, "rank", 0), fl_json_str(q, "query", ""));
	}
	printf("method          %s\n", fl_json_str(r, "method", ""));
	printf("split           %s\n", fl_json_str(r, "split", ""));
	printf("articles        %d\n", (int)fl_json_int(r, "articles", 0));
	printf("queries (n)     %d\n", (int)fl_json_int(r, "n", 0));
	printf("recall@1        %.4f\n", fl_json_num(r, "recall@1", 0));
	printf("recall@5        %.4f\n", fl_json_num(r, "recall@5", 0));
	printf("mrr             %.4f\n", fl_json_num(r, "mrr", 0));
	printf("mean search     %.3f ms\n", fl_json_num(r, "mean_search_ms", 0));
}

int cmd_eval__kb(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *articles_path = NULL, *queries_path = NULL, *split = "all", *params = NULL;
	bool baseline = false, json = false, per_query = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'a', "articles", &articles_path, "FILE", "articles: JSONL, Markdown, or a directory" },
		{ CLI_OPT_STRING, 'q', "queries", &queries_path, "FILE", "queries: JSONL {query, relevant} or TSV" },
		{ CLI_OPT_BOOL, 0, "baseline", &baseline, NULL, "plain SQLite FTS5 bm25 instead of Frontline's ranking" },
		{ CLI_OPT_STRING, 0, "split", &split, "SPLIT", "dev, test or all (default) queries, by a stable hash" },
		{ CLI_OPT_STRING, 0, "params", &params, "LIST", "ranking parameters, e.g. k1=1.2,synonyms=0" },
		{ CLI_OPT_BOOL, 0, "per-query", &per_query, NULL, "list each query's rank (the misses in text form)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print one JSON object" },
		CLI_OPTIONS_END,
	};
	struct kb_eval_opts eo = { 0 };
	struct kb_params kp;
	json_t *articles = NULL, *queries = NULL, *result = NULL;
	char *err = NULL;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, eval_kb_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(eval_kb_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!articles_path || !queries_path)
		return cli_usage_error(eval_kb_usage, opts, "--articles and --queries are required");
	if (parse_split(split, &eo.split))
		return cli_usage_error(eval_kb_usage, opts, "unknown split '%s' (use dev, test or all)", split);
	kb_params_default(&kp);
	if (params && parse_params(params, &kp, &err)) {
		rc = cli_usage_error(eval_kb_usage, opts, "%s", err);
		free(err);
		return rc;
	}
	eo.baseline = baseline;
	eo.params = &kp;
	eo.per_query = per_query;
	if ((rc = kb_import_path(articles_path, &articles, &err)) != KB_OK ||
	    (rc = kb_eval_load_queries(queries_path, &queries, &err)) != KB_OK) {
		rc = cli_error(rc == KB_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if (kb_eval_run(articles, queries, &eo, &result, &err)) {
		rc = cli_error(EX_SOFTWARE, "%s", err);
		goto out;
	}
	if (json) {
		char *s = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

		puts(s);
		free(s);
	} else {
		print_text(result);
	}
	rc = EX_OK;
out:
	free(err);
	json_decref(articles);
	json_decref(queries);
	json_decref(result);
	return rc;
}
