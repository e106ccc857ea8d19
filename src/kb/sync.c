/*
 * The help-centre import of the KB sync (issue 18): fetches every page of a
 * Help-Center-style article list and turns each item into a KB article.
 *
 *   GET {url}    Authorization: Bearer {key} (when there is a key)
 *   200 {"articles": [{"id", "title", "body" (HTML), "label_names" [],
 *        "section_id", "locale"?, "draft"?}, ...], "next_page": URL | null}
 *
 * next_page (an absolute http(s) URL) is followed until it is null, absent
 * or empty; a page seen before, or more than max_pages pages, is an error
 * rather than a loop. The run is all or nothing: any page that cannot be
 * fetched, any answer that is not such a list, any item without an id or a
 * title fails it and no article is returned, so the caller leaves the KB as
 * it was. Drafts are not imported. An id met twice keeps its last item.
 *
 * Mapping: id (string or integer) -> id; title -> title; body -> content,
 * through text_html_to_text; label_names -> tags; section_id -> category
 * ("section-<id>"); the locale's language ("en-us" -> "en") -> language;
 * "source": "kb_api" and "source_hash" (a BLAKE2b digest of what the
 * article says) for store_kb_sync, which writes only what changed. This
 * file knows nothing of the store (src/store/kbsync.c) nor of when a sync
 * runs (src/service/kbsync.c).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "text/text.h"

#define SYNC_TIMEOUT_MS 30000
#define SYNC_PAGE_MAX_BYTES (32u * 1024 * 1024)

static bool http_url(const char *u)
{
	return u && (fl_str_has_prefix(u, "http://") || fl_str_has_prefix(u, "https://"));
}

/* "en-us" -> "en"; NULL when the locale is absent or not a language tag. */
static char *language_of(const char *locale)
{
	char lang[16];
	size_t i;

	if (!locale || !kb_language_valid(locale))
		return NULL;
	for (i = 0; locale[i] && locale[i] != '-' && i + 1 < sizeof(lang); i++)
		lang[i] = (char)tolower((unsigned char)locale[i]);
	lang[i] = '\0';
	return kb_language_valid(lang) ? fl_strdup(lang) : NULL;
}

/* The hex digest of the fields the article shows (the canonical JSON of them). */
static void digest(json_t *article, char hex[33])
{
	json_t *fields = json_pack("{s:O, s:O, s:O?, s:O, s:O?}", "title", json_object_get(article, "title"),
				   "content", json_object_get(article, "content"), "category",
				   json_object_get(article, "category"), "tags", json_object_get(article, "tags"),
				   "language", json_object_get(article, "language"));
	char *canon = json_dumps(fields, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, strlen(canon), NULL, 0);
	fl_hex(hex, h, sizeof(h));
	free(canon);
	json_decref(fields);
}

int kb_sync_article(const json_t *item, json_t **out, char **err)
{
	const json_t *id = json_object_get(item, "id"), *labels, *section, *v;
	json_t *a = NULL, *tags = json_array();
	char *idstr = NULL, *content = NULL, *lang = NULL, hex[33];
	size_t i;
	int rc = KB_EPARSE;

	*out = NULL;
	*err = NULL;
	if (!json_is_object(item)) {
		*err = fl_strdup("an item of 'articles' is not an object");
		goto out;
	}
	if (json_is_integer(id) && json_integer_value(id) >= 0)
		idstr = fl_asprintf("%lld", (long long)json_integer_value(id));
	else if (json_is_string(id) && json_string_length(id) && json_string_length(id) <= 128)
		idstr = fl_strdup(json_string_value(id));
	else {
		*err = fl_strdup("an article has no 'id' (a number or a string of 1 to 128 characters)");
		goto out;
	}
	if (!json_is_string(json_object_get(item, "title")) || !*fl_json_str(item, "title", "")) {
		*err = fl_asprintf("article '%s' has no 'title'", idstr);
		goto out;
	}
	v = json_object_get(item, "body");
	if (v && !json_is_null(v) && !json_is_string(v)) {
		*err = fl_asprintf("article '%s': 'body' is not a string", idstr);
		goto out;
	}
	content = text_html_to_text(json_is_string(v) ? json_string_value(v) : "");
	labels = json_object_get(item, "label_names");
	json_array_foreach(labels, i, v)
		if (json_is_string(v) && json_string_length(v))
			json_array_append(tags, (json_t *)v);
	a = json_pack("{s:s, s:s, s:s, s:O}", "id", idstr, "title", fl_json_str(item, "title", ""), "content",
		      content, "tags", tags);
	section = json_object_get(item, "section_id");
	if (json_is_integer(section))
		json_object_set_new(a, "category", json_sprintf("section-%lld",
								 (long long)json_integer_value(section)));
	else if (json_is_string(section) && json_string_length(section))
		json_object_set_new(a, "category", json_sprintf("section-%s", json_string_value(section)));
	if ((lang = language_of(fl_json_str(item, "locale", NULL))))
		json_object_set_new(a, "language", json_string(lang));
	digest(a, hex);
	json_object_set_new(a, "source", json_string(KB_SYNC_SOURCE));
	json_object_set_new(a, "source_hash", json_string(hex));
	if (kb_article_check(a, err) != KB_OK)
		goto out;
	*out = a;
	a = NULL;
	rc = KB_OK;
out:
	json_decref(a);
	json_decref(tags);
	free(idstr);
	free(content);
	free(lang);
	return rc;
}

/* Fetches one page: KB_OK and *page (new), KB_EFETCH or KB_EPARSE with *err. */
static int fetch_page(const struct kb_sync_opts *o, const char *url, json_t **page, char **err)
{
	struct fl_http_post req = { 0 };
	struct fl_http_result res = { 0 };
	struct curl_slist *headers = NULL;
	char *auth = NULL;
	json_error_t jerr;
	int rc = KB_EFETCH;

	*page = NULL;
	headers = curl_slist_append(headers, "Accept: application/json");
	if (o->key && *o->key) {
		auth = fl_asprintf("Authorization: Bearer %s", o->key);
		headers = curl_slist_append(headers, auth);
	}
	req.url = url;
	req.headers = headers;
	req.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : SYNC_TIMEOUT_MS;
	req.connect_timeout_ms = req.timeout_ms;
	req.max_body = SYNC_PAGE_MAX_BYTES;
	if (fl_http_get(&req, &res) != CURLE_OK) {
		*err = fl_asprintf("cannot fetch '%s': %s", url, res.error);
		goto out;
	}
	if (res.status != 200) {
		*err = fl_asprintf("cannot fetch '%s': HTTP %ld", url, res.status);
		goto out;
	}
	rc = KB_EPARSE;
	*page = json_loadb(res.body.buf ? res.body.buf : "", res.body.len, 0, &jerr);
	if (!*page) {
		*err = fl_asprintf("'%s' is not JSON: %s (line %d)", url, jerr.text, jerr.line);
		goto out;
	}
	if (!json_is_object(*page) || !json_is_array(json_object_get(*page, "articles"))) {
		*err = fl_asprintf("'%s' is not an article list (an object with an 'articles' array)", url);
		json_decref(*page);
		*page = NULL;
		goto out;
	}
	rc = KB_OK;
out:
	fl_http_result_release(&res);
	curl_slist_free_all(headers);
	if (auth)
		sodium_memzero(auth, strlen(auth));
	free(auth);
	return rc;
}

int kb_sync_fetch(const struct kb_sync_opts *o, json_t **articles, json_t **stats, char **err)
{
	json_t *seen = json_object(), *by_id = json_object(), *page = NULL;
	char *url = NULL, *why = NULL;
	int max_pages = o->max_pages > 0 ? o->max_pages : KB_SYNC_MAX_PAGES, pages = 0, rc = KB_EINVAL;
	json_int_t items = 0, drafts = 0;
	const char *key;
	json_t *a;

	*articles = NULL;
	if (stats)
		*stats = NULL;
	*err = NULL;
	if (!http_url(o->url)) {
		*err = fl_asprintf("the KB API URL '%.200s' is not an http or https URL", o->url ? o->url : "");
		goto out;
	}
	url = fl_strdup(o->url);
	while (url) {
		const json_t *list, *next, *item;
		size_t i;

		if (json_object_get(seen, url)) {
			rc = KB_EPARSE;
			*err = fl_asprintf("next_page loops back to '%s'", url);
			goto out;
		}
		if (++pages > max_pages) {
			rc = KB_EPARSE;
			*err = fl_asprintf("more than %d pages of articles (the limit)", max_pages);
			goto out;
		}
		json_object_set_new(seen, url, json_true());
		if ((rc = fetch_page(o, url, &page, err)) != KB_OK)
			goto out;
		list = json_object_get(page, "articles");
		json_array_foreach(list, i, item) {
			json_t *art = NULL;

			items++;
			if (json_is_true(json_object_get(item, "draft"))) {
				drafts++;
				continue;
			}
			if ((rc = kb_sync_article(item, &art, &why)) != KB_OK) {
				*err = fl_asprintf("'%s': %s", url, why);
				goto out;
			}
			json_object_del(by_id, fl_json_str(art, "id", ""));
			json_object_set_new(by_id, fl_json_str(art, "id", ""), art);
		}
		next = json_object_get(page, "next_page");
		free(url);
		url = NULL;
		if (json_is_string(next) && json_string_length(next)) {
			if (!http_url(json_string_value(next))) {
				rc = KB_EPARSE;
				*err = fl_asprintf("next_page '%.200s' is not an absolute http or https URL",
						   json_string_value(next));
				goto out;
			}
			url = fl_strdup(json_string_value(next));
		} else if (next && !json_is_null(next) && !json_is_string(next)) {
			rc = KB_EPARSE;
			*err = fl_strdup("next_page is neither a URL nor null");
			goto out;
		}
		json_decref(page);
		page = NULL;
	}
	*articles = json_array();
	json_object_foreach(by_id, key, a)
		json_array_append(*articles, a);
	if (stats)
		*stats = json_pack("{s:i, s:I, s:I}", "pages", pages, "items", items, "drafts", drafts);
	rc = KB_OK;
out:
	if (rc != KB_OK && !*err)
		*err = fl_strdup(kb_strerror(rc));
	free(why);
	free(url);
	json_decref(page);
	json_decref(seen);
	json_decref(by_id);
	return rc;
}
