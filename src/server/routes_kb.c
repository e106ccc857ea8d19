/*
 * /api/v1/kb: knowledge-base articles (stored in the store, indexed by the
 * kb module) and search with the same ranking the workflow's
 * knowledge_base_search node uses. Admins edit; an edit updates this
 * process's index at once (other replicas reload theirs at start).
 */
#include <string.h>

#include "server_int.h"
#include "kb/kb.h"
#include "store/store.h"

static void list(struct server_req *r)
{
	json_t *out = NULL;
	int rc = store_kb_list(server__store(r), &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "articles", NULL);
		return;
	}
	server__reply_json(r, 200, json_pack("{s:o}", "articles", out));
}

static void get(struct server_req *r)
{
	const char *id = server__param(r, 0);
	json_t *out = NULL;
	int rc = store_kb_get(server__store(r), id, &out);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "article", id);
		return;
	}
	server__reply_json(r, 200, out);
}

static void put(struct server_req *r)
{
	const char *id = server__param(r, 0);
	const json_t *given = json_object_get(r->json, "id");
	json_t *a, *out = NULL;
	char *err = NULL;
	int rc;

	if (given && (!json_is_string(given) || strcmp(json_string_value(given), id))) {
		server__unprocessable(r, "id", NULL, "'id' in the body must match the path ('%s')", id);
		return;
	}
	a = json_deep_copy(r->json);
	json_object_set_new(a, "id", json_string(id));
	if (kb_article_check(a, &err) != KB_OK) {
		server__unprocessable(r, NULL, NULL, "invalid article: %s", err ? err : "malformed");
		free(err);
		json_decref(a);
		return;
	}
	rc = store_kb_upsert(server__store(r), a);
	if (rc == STORE_OK)
		rc = store_kb_get(server__store(r), id, &out);
	json_decref(a);
	if (rc != STORE_OK) {
		server__store_error(r, rc, "article", id);
		return;
	}
	if (r->srv->opts.kb && kb_add(r->srv->opts.kb, out) != KB_OK)
		fl_log(FL_LOG_WARN, "article '%s' stored but not indexed in this process", id);
	server__reply_json(r, 200, out);
}

static void del(struct server_req *r)
{
	const char *id = server__param(r, 0);
	int rc = store_kb_delete(server__store(r), id);

	if (rc != STORE_OK) {
		server__store_error(r, rc, "article", id);
		return;
	}
	if (r->srv->opts.kb)
		kb_remove(r->srv->opts.kb, id);
	server__reply_json(r, 200, json_pack("{s:s, s:b}", "id", id, "deleted", 1));
}

static void search(struct server_req *r)
{
	const char *q = server__query(r, "q"), *lang = server__query(r, "language");
	struct kb_query kq = { &q, 1, NULL, 5 };
	json_t *out = NULL;
	int64_t limit;
	int rc;

	if (!q || !*q) {
		server__bad_request(r, "q", "query argument 'q' is required");
		return;
	}
	if (lang && !kb_language_valid(lang)) {
		server__bad_request(r, "language",
				    "query argument 'language' must be a language tag such as 'en' or 'de'");
		return;
	}
	if (server__query_int(r, "limit", 1, 50, 5, &limit))
		return;
	if (!r->srv->opts.kb) {
		server__unavailable(r, 30, "the knowledge-base index is not loaded in this process");
		return;
	}
	kq.language = lang; /* only the articles in that language */
	kq.limit = (int)limit;
	rc = kb_search_query(r->srv->opts.kb, &kq, &out);
	if (rc != KB_OK) {
		server__internal(r, "kb search failed: %s", kb_strerror(rc));
		return;
	}
	server__reply_json(r, 200, out);
}

const struct server_route server__kb_routes[] = {
	{ "GET", "/api/v1/kb/articles", list, SERVER_ROLE_AGENT, 0, "list knowledge-base articles" },
	{ "GET", "/api/v1/kb/articles/{id}", get, SERVER_ROLE_AGENT, 0, "a knowledge-base article" },
	{ "PUT", "/api/v1/kb/articles/{id}", put, SERVER_ROLE_ADMIN, SERVER_ROUTE_JSON_BODY,
	  "create or replace an article (indexed at once)" },
	{ "DELETE", "/api/v1/kb/articles/{id}", del, SERVER_ROLE_ADMIN, 0, "delete an article" },
	{ "GET", "/api/v1/kb/search", search, SERVER_ROLE_AGENT, 0,
	  "search articles as the workflow does (q, limit)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
