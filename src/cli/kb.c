/*
 * frontline kb import|search|sync: the knowledge base on the command line.
 *
 * import reads Markdown (with front matter) or JSONL articles with
 * kb_import_path and upserts them into the store (store_kb_upsert), all in
 * one transaction. search indexes the store's articles in an in-memory kb and
 * prints the best matches, as text or as the knowledge_base_results object.
 * sync runs one KB sync (service_kb_sync): the help centre at KB_API_URL
 * into the store, all or nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kb/kb.h"
#include "service/service.h"
#include "store/store.h"
#include "util/util.h"

static const char *const kb_usage[] = {
	"frontline kb import DIR|FILE [--json]",
	"frontline kb search QUERY... [--limit N] [--json]",
	"frontline kb sync [--url URL] [--json]",
	NULL,
};

static void print_json(const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	puts(s);
	free(s);
}

static int kb_import(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print {imported, created, updated, ids} as JSON" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *articles = NULL, *ids = json_array();
	size_t i, created = 0;
	char *err = NULL;
	int argi, rc, src;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, kb_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (argi >= argc) {
		rc = cli_usage_error(kb_usage, opts, "a directory or file to import is required");
		goto out;
	}
	if (argi + 1 < argc) {
		rc = cli_usage_error(kb_usage, opts, "unexpected argument '%s'", argv[argi + 1]);
		goto out;
	}
	if ((src = kb_import_path(argv[argi], &articles, &err)) != KB_OK) {
		rc = cli_error(src == KB_EIO ? EX_NOINPUT : EX_DATAERR, "%s", err);
		goto out;
	}
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		goto out;
	src = store_begin_immediate(st);
	for (i = 0; src == STORE_OK && i < json_array_size(articles); i++) {
		const json_t *a = json_array_get(articles, i);
		json_t *old = NULL;

		src = store_kb_get(st, fl_json_str(a, "id", ""), &old);
		created += src == STORE_ENOTFOUND;
		json_decref(old);
		if (src == STORE_OK || src == STORE_ENOTFOUND)
			src = store_kb_upsert(st, a);
		if (src != STORE_OK) {
			rc = cli_error(src == STORE_EINVAL ? EX_DATAERR : EX_UNAVAILABLE,
				       "cannot store article '%s': %s", fl_json_str(a, "id", ""),
				       store_errmsg(st));
			store_rollback(st);
			goto out;
		}
		json_array_append_new(ids, json_string(fl_json_str(a, "id", "")));
	}
	if (src == STORE_OK)
		src = store_commit(st);
	if (src != STORE_OK) {
		rc = cli_error(store_err_is_transient(src) ? EX_TEMPFAIL : EX_UNAVAILABLE,
			       "cannot import into '%s': %s", store_url(st), store_errmsg(st));
		store_rollback(st);
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:O}", "imported", (json_int_t)json_array_size(articles),
				      "created", (json_int_t)created, "updated",
				      (json_int_t)(json_array_size(articles) - created), "ids", ids);

		print_json(o);
		json_decref(o);
	} else {
		printf("imported %zu articles (%zu new, %zu updated) into %s\n", json_array_size(articles),
		       created, json_array_size(articles) - created, store_url(st));
	}
	rc = EX_OK;
out:
	free(err);
	json_decref(articles);
	json_decref(ids);
	store_close(st);
	return rc;
}

/* The first non-heading line of an article, cut to width, for the text listing. */
static void print_excerpt(const char *content, int width)
{
	while (*content) {
		size_t n = strcspn(content, "\n"), t = n;
		const char *s = fl_str_trim(content, &t);

		if (t && *s != '#') {
			printf("     %.*s%s\n", (int)(t < (size_t)width ? t : (size_t)width), s,
			       t > (size_t)width ? "..." : "");
			return;
		}
		content += n + (content[n] == '\n');
	}
}

static int kb_search_cmd(int argc, char **argv, struct cli_ctx *ctx)
{
	long limit = 5;
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_INT, 'n', "limit", &limit, "N", "at most N articles (default 5)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the knowledge_base_results object" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	struct kb *kb = NULL;
	json_t *articles = NULL, *res = NULL;
	struct fl_buf q = FL_BUF_INIT;
	char *err = NULL;
	int argi, rc, src, i;
	size_t k;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, kb_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (argi >= argc) {
		rc = cli_usage_error(kb_usage, opts, "a query is required");
		goto out;
	}
	if (limit < 1 || limit > 1000) {
		rc = cli_usage_error(kb_usage, opts, "--limit must be between 1 and 1000");
		goto out;
	}
	for (i = argi; i < argc; i++)
		fl_buf_addf(&q, "%s%s", i > argi ? " " : "", argv[i]);
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		goto out;
	if (store_kb_list(st, &articles) != STORE_OK) {
		rc = cli_error(EX_UNAVAILABLE, "cannot list the articles in '%s': %s", store_url(st),
			       store_errmsg(st));
		goto out;
	}
	if (!json_array_size(articles))
		fprintf(stderr, "frontline: no articles in %s (import some: frontline kb import data/kb)\n",
			store_url(st));
	if (kb_open(NULL, &kb, &err) != KB_OK) {
		rc = cli_error(EX_SOFTWARE, "%s", err);
		goto out;
	}
	if ((src = kb_add_many(kb, articles)) != KB_OK ||
	    (src = kb_search(kb, q.buf, (int)limit, &res)) != KB_OK) {
		rc = cli_error(EX_SOFTWARE, "knowledge-base search failed: %s", kb_strerror(src));
		goto out;
	}
	if (json) {
		print_json(res);
	} else {
		/* articles are imported text: printed escaped, the content with its lines */
		static const char *const multiline[] = { "content", NULL };
		json_t *shown = cli_escape_json(res, multiline);
		const json_t *found = json_object_get(shown, "articles");

		if (!json_array_size(found))
			printf("no matching articles for '%s'\n", q.buf);
		for (k = 0; k < json_array_size(found); k++) {
			const json_t *a = json_array_get(found, k);

			printf("%2zu. %-8s %s  (%s, relevance %.2f)\n", k + 1, fl_json_str(a, "id", ""),
			       fl_json_str(a, "title", ""), fl_json_str(a, "category", ""),
			       fl_json_num(a, "relevance_score", 0));
			print_excerpt(fl_json_str(a, "content", ""), 100);
		}
		json_decref(shown);
	}
	rc = EX_OK;
out:
	free(err);
	fl_buf_release(&q);
	json_decref(articles);
	json_decref(res);
	kb_close(kb);
	store_close(st);
	return rc;
}

static int kb_sync_cmd(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *url = NULL;
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 0, "url", &url, "URL", "the article list (default: KB_API_URL)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the run's report as JSON" },
		CLI_OPTIONS_END,
	};
	struct kb_sync_opts o = { 0 };
	struct store *st = NULL;
	json_t *report = NULL;
	char *err = NULL;
	int argi, rc, src;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, kb_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (argi < argc) {
		rc = cli_usage_error(kb_usage, opts, "unexpected argument '%s'", argv[argi]);
		goto out;
	}
	o.url = url ? url : fl_config_get("KB_API_URL");
	o.key = fl_config_get("KB_API_KEY");
	if (!o.url || !*o.url) {
		rc = cli_error(EX_CONFIG, "KB_API_URL is not set: there is no help centre to sync from");
		goto out;
	}
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		goto out;
	src = service_kb_sync(st, NULL, &o, &report, &err);
	if (src != SERVICE_OK) {
		rc = cli_error(src == SERVICE_EINVAL ? EX_CONFIG : src == SERVICE_EKBDATA ? EX_DATAERR :
			       EX_UNAVAILABLE, "kb sync failed, the knowledge base is unchanged: %s", err);
		goto out;
	}
	if (json)
		print_json(report);
	else
		printf("synced %lld articles from %lld pages into %s: %zu new, %zu updated, %lld unchanged, "
		       "%zu removed, %zu skipped (ids of articles not imported by the sync)\n",
		       (long long)fl_json_int(report, "articles", 0), (long long)fl_json_int(report, "pages", 0),
		       store_url(st), json_array_size(json_object_get(report, "created")),
		       json_array_size(json_object_get(report, "updated")),
		       (long long)fl_json_int(report, "unchanged", 0),
		       json_array_size(json_object_get(report, "removed")),
		       json_array_size(json_object_get(report, "skipped")));
	rc = EX_OK;
out:
	free(err);
	json_decref(report);
	store_close(st);
	return rc;
}

int cmd_kb(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command sub[] = {
		{ "import", kb_import, "store the articles of a directory, Markdown or JSONL file" },
		{ "search", kb_search_cmd, "search the stored articles" },
		{ "sync", kb_sync_cmd, "import the help centre's articles (KB_API_URL) into the store" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc - 1, argv + 1, sub, kb_usage, ctx);
}
