/*
 * The external CRM (docs/CONFIGURATION.md, CRM_API_URL): a ticket from a
 * customer the store does not know asks GET {CRM_API_URL}/customers/{id}
 * with "Authorization: Bearer {CRM_API_KEY}" (2 s in all), through the one
 * HTTP client (fl_http_get). An answer's name, email, tier,
 * previous_interactions and satisfaction_history become the customer
 * record (stored, so that the next ticket finds it without asking) and
 * what the triage reads. 404 means unknown; any failure (refused, slow,
 * 5xx, not JSON) is logged and treated as unknown: the CRM never blocks
 * intake. Answers, unknowns included, are remembered for
 * FRONTLINE_CRM_CACHE_S seconds per client (a worker's), so that a burst of
 * tickets from one unknown sender asks once.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "support_int.h"
#include "store/store.h"

#define CRM_CACHE_SLOTS 256
#define CRM_TIMEOUT_MS 2000

struct crm_entry {
	char *id;
	json_t *customer;   /* NULL: unknown */
	int64_t until_us;
};

struct support_crm {
	char *url, *key;
	int64_t ttl_us;
	pthread_mutex_t lock;
	struct crm_entry cache[CRM_CACHE_SLOTS];
	size_t next;        /* the slot a new entry takes when none has expired */
};

int support_crm_open(struct support_crm **out)
{
	const char *url = fl_config_get("CRM_API_URL");
	struct support_crm *c;

	*out = NULL;
	if (!url || !*url)
		return SUPPORT_OK;
	if (!fl_str_has_prefix(url, "http://") && !fl_str_has_prefix(url, "https://"))
		return SUPPORT_EINVAL;
	c = fl_calloc(1, sizeof(*c));
	c->url = fl_strdup(url);
	while (*c->url && c->url[strlen(c->url) - 1] == '/')
		c->url[strlen(c->url) - 1] = '\0';
	c->key = fl_config_get("CRM_API_KEY") ? fl_strdup(fl_config_get("CRM_API_KEY")) : NULL;
	c->ttl_us = fl_config_int("FRONTLINE_CRM_CACHE_S", 300) * (int64_t)1000000;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return SUPPORT_OK;
}

void support_crm_free(struct support_crm *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CRM_CACHE_SLOTS; i++) {
		free(c->cache[i].id);
		json_decref(c->cache[i].customer);
	}
	pthread_mutex_destroy(&c->lock);
	if (c->key)
		sodium_memzero(c->key, strlen(c->key));
	free(c->key);
	free(c->url);
	free(c);
}

/* The cached answer for id: 1 and *customer (new reference or NULL for unknown), or 0. */
static int cache_get(struct support_crm *c, const char *id, int64_t now, json_t **customer)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CRM_CACHE_SLOTS && !found; i++) {
		struct crm_entry *e = &c->cache[i];

		if (e->id && e->until_us > now && !strcmp(e->id, id)) {
			*customer = e->customer ? json_incref(e->customer) : NULL;
			found = 1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static void cache_put(struct support_crm *c, const char *id, const json_t *customer, int64_t now)
{
	struct crm_entry *e = NULL;
	size_t i;

	if (c->ttl_us <= 0)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < CRM_CACHE_SLOTS && !e; i++)
		if (!c->cache[i].id || c->cache[i].until_us <= now || !strcmp(c->cache[i].id, id))
			e = &c->cache[i];
	if (!e) {
		e = &c->cache[c->next];
		c->next = (c->next + 1) % CRM_CACHE_SLOTS;
	}
	free(e->id);
	json_decref(e->customer);
	e->id = fl_strdup(id);
	e->customer = customer ? json_deep_copy(customer) : NULL;
	e->until_us = now + c->ttl_us;
	pthread_mutex_unlock(&c->lock);
}

/* The CRM's answer as a customer record for the store (new reference), or NULL when it has none of it. */
static json_t *record_of(const char *id, const json_t *a)
{
	static const char *const tiers[] = { "standard", "premium", "enterprise", NULL };
	const char *tier = fl_json_str(a, "tier", NULL);
	json_t *rec = json_pack("{s:s, s:{s:s}}", "id", id, "metadata", "source", "crm");
	json_t *meta = json_object_get(rec, "metadata");
	size_t i;

	if (fl_json_str(a, "name", NULL))
		json_object_set_new(rec, "name", json_string(fl_json_str(a, "name", "")));
	if (fl_json_str(a, "email", NULL) && strchr(fl_json_str(a, "email", ""), '@'))
		json_object_set_new(rec, "email", json_string(fl_json_str(a, "email", "")));
	for (i = 0; tier && tiers[i]; i++)
		if (!strcmp(tier, tiers[i]))
			json_object_set_new(rec, "tier", json_string(tier));
	if (json_is_integer(json_object_get(a, "previous_interactions")))
		json_object_set(meta, "previous_interactions", json_object_get(a, "previous_interactions"));
	if (json_is_array(json_object_get(a, "satisfaction_history")) ||
	    json_is_number(json_object_get(a, "satisfaction_history")))
		json_object_set(meta, "satisfaction_history", json_object_get(a, "satisfaction_history"));
	return rec;
}

/* Asks the CRM: *out the record (new reference) or NULL for unknown; failures are unknown too (logged). */
static void ask(struct support_crm *c, const char *id, json_t **out)
{
	struct fl_http_post req = { 0 };
	struct fl_http_result res = { 0 };
	struct curl_slist *headers = NULL;
	char *escaped = curl_easy_escape(NULL, id, 0), *url, *auth = NULL;
	json_t *answer = NULL;

	*out = NULL;
	url = fl_asprintf("%s/customers/%s", c->url, escaped ? escaped : "");
	curl_free(escaped);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (c->key) {
		auth = fl_asprintf("Authorization: Bearer %s", c->key);
		headers = curl_slist_append(headers, auth);
	}
	req.url = url;
	req.headers = headers;
	req.timeout_ms = CRM_TIMEOUT_MS;
	req.connect_timeout_ms = CRM_TIMEOUT_MS;
	req.max_body = 256 * 1024;
	if (fl_http_get(&req, &res) != CURLE_OK)
		fl_log(FL_LOG_WARN, "crm: cannot ask about customer '%s': %s (treated as unknown)", id, res.error);
	else if (res.status == 404)
		fl_log(FL_LOG_DEBUG, "crm: customer '%s' unknown", id);
	else if (res.status != 200)
		fl_log(FL_LOG_WARN, "crm: customer '%s': HTTP %ld (treated as unknown)", id, res.status);
	else if (!(answer = json_loadb(res.body.buf ? res.body.buf : "", res.body.len, 0, NULL)) ||
		 !json_is_object(answer))
		fl_log(FL_LOG_WARN, "crm: customer '%s': the answer is not a JSON object (treated as unknown)", id);
	else
		*out = record_of(id, answer);
	json_decref(answer);
	fl_http_result_release(&res);
	curl_slist_free_all(headers);
	if (auth)
		sodium_memzero(auth, strlen(auth));
	free(auth);
	free(url);
}

int support_crm_lookup(struct support_crm *c, struct store *st, const char *id, int64_t now_us, json_t **out)
{
	json_t *rec = NULL;

	*out = NULL;
	if (!c || !id || !*id)
		return SUPPORT_OK;
	if (!cache_get(c, id, now_us, &rec)) {
		ask(c, id, &rec);
		cache_put(c, id, rec, now_us);
	}
	if (rec && st && store_customer_upsert(st, rec) != STORE_OK)
		fl_log(FL_LOG_WARN, "crm: cannot store customer '%s': %s", id, store_errmsg(st));
	if (rec && st) {
		json_t *stored = NULL;

		if (store_customer_get(st, id, &stored) == STORE_OK) {
			json_decref(rec);
			rec = stored;
		}
	}
	*out = rec;
	return SUPPORT_OK;
}
