/*
 * The KB sync (issue 18; docs/OPERATIONS.md): with KB_API_URL set, the
 * help centre's articles become the store's "kb_api" articles and this
 * process's KB index follows them.
 *
 * service_kb_sync is one run (frontline kb sync calls it too): fetch every
 * page (kb_sync_fetch, all or nothing), then store_kb_sync in one
 * transaction, then the index: created and updated articles are indexed
 * again, removed ones leave it. A failing fetch or store leaves both as
 * they were.
 *
 * The thread runs a round every FRONTLINE_KB_SYNC_INTERVAL seconds (0: no
 * thread), the first at start. One replica at a time fetches (the store
 * lock "kb-sync", held for two intervals and renewed each round); every
 * process with an index then brings it in line with the store's "kb_api"
 * articles (a changed source_hash is indexed again, an id gone since its
 * previous round is removed), so that the replicas which did not fetch
 * search what the one that did stored.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service_int.h"
#include "kb/kb.h"
#include "store/store.h"

/* Indexes the stored version of each id (created and updated ones). */
static void index_ids(struct store *st, struct kb *kb, const json_t *ids)
{
	const json_t *id;
	size_t i;

	json_array_foreach(ids, i, id) {
		json_t *a = NULL;

		if (store_kb_get(st, json_string_value(id), &a) == STORE_OK && kb_add(kb, a) != KB_OK)
			fl_log(FL_LOG_WARN, "kb sync: cannot index article '%s'", json_string_value(id));
		json_decref(a);
	}
}

int service_kb_sync(struct store *st, struct kb *kb, const struct kb_sync_opts *o, json_t **report, char **err)
{
	json_t *articles = NULL, *stats = NULL, *changes = NULL;
	const json_t *id;
	size_t i;
	int rc;

	*report = NULL;
	*err = NULL;
	rc = kb_sync_fetch(o, &articles, &stats, err);
	if (rc != KB_OK) {
		rc = rc == KB_EFETCH ? SERVICE_EKBFETCH : rc == KB_EINVAL ? SERVICE_EINVAL : SERVICE_EKBDATA;
		goto out;
	}
	if (store_kb_sync(st, KB_SYNC_SOURCE, articles, &changes) != STORE_OK) {
		*err = fl_asprintf("cannot store the help-centre articles: %s", store_errmsg(st));
		rc = SERVICE_ESTORE;
		goto out;
	}
	if (kb) {
		index_ids(st, kb, json_object_get(changes, "created"));
		index_ids(st, kb, json_object_get(changes, "updated"));
		json_array_foreach(json_object_get(changes, "removed"), i, id)
			kb_remove(kb, json_string_value(id));
	}
	*report = json_deep_copy(stats);
	json_object_set_new(*report, "articles", json_integer((json_int_t)json_array_size(articles)));
	json_object_update(*report, changes);
	rc = SERVICE_OK;
out:
	json_decref(articles);
	json_decref(stats);
	json_decref(changes);
	return rc;
}

struct service_kbsync {
	struct service__ticker ticker;
	struct store *st;
	struct kb *kb;          /* borrowed; NULL: none to keep in line */
	char *url, *key;
	int interval_s;
	json_t *indexed;        /* {id: source_hash} of the kb_api articles in the index */
	char owner[160];
};

/* Brings the index in line with the store's kb_api articles. */
static void follow_store(struct service_kbsync *s)
{
	json_t *stored = NULL, *now = json_object();
	const json_t *a;
	const char *id;
	json_t *hash;
	size_t i;
	void *tmp;

	if (!s->kb || store_kb_list(s->st, &stored) != STORE_OK) {
		json_decref(now);
		return;
	}
	json_array_foreach(stored, i, a) {
		const char *h = fl_json_str(a, "source_hash", NULL);

		if (strcmp(fl_json_str(a, "source", ""), KB_SYNC_SOURCE) || !h)
			continue;
		json_object_set_new(now, fl_json_str(a, "id", ""), json_string(h));
		if (strcmp(fl_json_str(s->indexed, fl_json_str(a, "id", ""), ""), h) && kb_add(s->kb, a) != KB_OK)
			fl_log(FL_LOG_WARN, "kb sync: cannot index article '%s'", fl_json_str(a, "id", ""));
	}
	json_object_foreach_safe(s->indexed, tmp, id, hash)
		if (!json_object_get(now, id))
			kb_remove(s->kb, id);
	json_decref(s->indexed);
	s->indexed = now;
	json_decref(stored);
}

static void round_once(void *arg)
{
	struct service_kbsync *s = arg;
	struct kb_sync_opts o = { .url = s->url, .key = s->key };
	json_t *report = NULL;
	char *err = NULL;
	bool mine = false;

	if (store_lock_try(s->st, "kb-sync", s->owner, 2 * s->interval_s, &mine) == STORE_OK && mine) {
		if (service_kb_sync(s->st, s->kb, &o, &report, &err) != SERVICE_OK)
			fl_log(FL_LOG_ERROR, "kb sync: %s (the knowledge base is unchanged)", err);
		else
			fl_logj(FL_LOG_INFO, report, "kb sync: %zu articles", (size_t)fl_json_int(report, "articles", 0));
	}
	follow_store(s);
	json_decref(report);
	free(err);
}

int service__kbsync_new(const char *store_url, struct kb *kb, struct service_kbsync **out, char **err)
{
	const char *url = fl_config_get("KB_API_URL");
	struct service_kbsync *s;
	char host[64] = "localhost";
	json_t *stored = NULL;
	const json_t *a;
	size_t i;

	*out = NULL;
	if (!url || !*url || fl_config_int("FRONTLINE_KB_SYNC_INTERVAL", 3600) <= 0)
		return SERVICE_OK;   /* off */
	if (!fl_str_has_prefix(url, "http://") && !fl_str_has_prefix(url, "https://")) {
		fl_log(FL_LOG_WARN, "KB_API_URL is not an http or https URL: no KB sync");
		return SERVICE_OK;
	}
	s = fl_calloc(1, sizeof(*s));
	s->interval_s = (int)fl_config_int("FRONTLINE_KB_SYNC_INTERVAL", 3600);
	s->kb = kb;
	s->url = fl_strdup(url);
	s->key = fl_config_get("KB_API_KEY") ? fl_strdup(fl_config_get("KB_API_KEY")) : NULL;
	s->indexed = json_object();
	gethostname(host, sizeof(host) - 1);
	snprintf(s->owner, sizeof(s->owner), "%s:%d:kb-sync", host, (int)getpid());
	service__ticker_init(&s->ticker, s->interval_s, true, round_once, s);
	if (store_open(store_url, &s->st, err) != STORE_OK) {
		service__kbsync_free(s);
		return SERVICE_ESTORE;
	}
	/* what the index holds already (support_kb_load indexed the store's articles) */
	if (store_kb_list(s->st, &stored) == STORE_OK)
		json_array_foreach(stored, i, a)
			if (!strcmp(fl_json_str(a, "source", ""), KB_SYNC_SOURCE))
				json_object_set_new(s->indexed, fl_json_str(a, "id", ""),
						    json_string(fl_json_str(a, "source_hash", "")));
	json_decref(stored);
	*out = s;
	return SERVICE_OK;
}

int service__kbsync_start(struct service_kbsync *s)
{
	return s ? service__ticker_start(&s->ticker) : SERVICE_OK;
}

void service__kbsync_stop(struct service_kbsync *s)
{
	if (s && service__ticker_stop(&s->ticker))
		store_lock_release(s->st, "kb-sync", s->owner);
}

void service__kbsync_free(struct service_kbsync *s)
{
	if (!s)
		return;
	service__kbsync_stop(s);
	service__ticker_release(&s->ticker);
	store_close(s->st);
	json_decref(s->indexed);
	if (s->key)
		sodium_memzero(s->key, strlen(s->key));
	free(s->key);
	free(s->url);
	free(s);
}
