/*
 * store_kb_sync: the store's half of the KB sync (issue 18). The articles
 * of one source (the help-centre import, "kb_api") become exactly the ones
 * given, in one transaction: new ids are inserted, ids whose source_hash
 * changed are rewritten (views and helpful votes kept), unchanged ones are
 * left alone, and the source's articles that are no longer given are
 * deleted. Articles of other sources (imported from files, written through
 * the API: no source) are never touched, even when an id collides: such an
 * id is reported as skipped. Fetching and converting the articles is the kb
 * module's (src/kb/sync.c); this file only uses the store's public verbs,
 * so it holds for every backend.
 */
#include <string.h>

#include "store_int.h"

static bool from_source(const json_t *a, const char *source)
{
	const char *s = fl_json_str(a, "source", NULL);

	return s && !strcmp(s, source);
}

int store_kb_sync(struct store *st, const char *source, const json_t *articles, json_t **out)
{
	json_t *stored = NULL, *by_id = json_object(), *given = json_object();
	json_t *created = json_array(), *updated = json_array(), *removed = json_array(), *skipped = json_array();
	json_int_t unchanged = 0;
	const json_t *a;
	size_t i;
	int rc;

	if (out)
		*out = NULL;
	if (!source || !*source || !json_is_array(articles)) {
		rc = store__fail(st, STORE_EINVAL, "a KB sync needs a source and an array of articles");
		goto out;
	}
	if ((rc = store_begin_immediate(st)) != STORE_OK)
		goto out;
	if ((rc = store_kb_list(st, &stored)) != STORE_OK)
		goto fail;
	json_array_foreach(stored, i, a)
		json_object_set(by_id, fl_json_str(a, "id", ""), (json_t *)a);
	json_array_foreach(articles, i, a) {
		const char *id = fl_json_str(a, "id", "");
		const json_t *cur = json_object_get(by_id, id);
		json_t *row;

		if (!from_source(a, source) || !fl_json_str(a, "source_hash", NULL)) {
			rc = store__fail(st, STORE_EINVAL, "article '%.64s' does not carry source '%s' and a source_hash",
					 id, source);
			goto fail;
		}
		json_object_set_new(given, id, json_true());
		if (cur && !from_source(cur, source)) {
			json_array_append_new(skipped, json_string(id));
			continue;
		}
		if (cur && !strcmp(fl_json_str(cur, "source_hash", ""), fl_json_str(a, "source_hash", ""))) {
			unchanged++;
			continue;
		}
		if ((rc = store_kb_upsert(st, a)) != STORE_OK)
			goto fail;
		row = json_string(id);
		json_array_append_new(cur ? updated : created, row);
	}
	json_array_foreach(stored, i, a) {
		const char *id = fl_json_str(a, "id", "");

		if (!from_source(a, source) || json_object_get(given, id))
			continue;
		if ((rc = store_kb_delete(st, id)) != STORE_OK)
			goto fail;
		json_array_append_new(removed, json_string(id));
	}
	if ((rc = store_commit(st)) != STORE_OK)
		goto fail;
	if (out)
		*out = json_pack("{s:O, s:O, s:O, s:I, s:O}", "created", created, "updated", updated, "removed",
				 removed, "unchanged", unchanged, "skipped", skipped);
	goto out;
fail:
	store_rollback(st);
out:
	json_decref(stored);
	json_decref(by_id);
	json_decref(given);
	json_decref(created);
	json_decref(updated);
	json_decref(removed);
	json_decref(skipped);
	return rc;
}
