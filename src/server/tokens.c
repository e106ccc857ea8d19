/*
 * API tokens and their rate limits. A token is "flt_" and 48 random hex
 * digits, shown once when created; the store keeps only its SHA-256 (the
 * token has 192 bits of entropy, so a plain hash is enough: there is nothing
 * to brute-force). Lookups are cached for a few seconds so that a busy
 * client costs no store round trip per request; a revocation reaches other
 * replicas within that time.
 *
 * Each token has a token bucket (rate per second, burst) kept in memory per
 * process: with N replicas a client can reach N times the rate, which is the
 * usual trade of a per-process limiter and is documented in OPERATIONS.md.
 */
#include <math.h>
#include <string.h>
#include <sodium.h>

#include "server_int.h"
#include "store/store.h"

#define CACHE_TTL_US (10 * INT64_C(1000000))
#define MAX_ENTRIES 4096

struct cached {
	char hash[65];
	struct server_auth auth;
	int64_t expires_us;
};

struct bucket {
	int64_t id;
	double tokens;
	int64_t last_us;
};

struct server_tokens {
	pthread_mutex_t lock;
	double rate, burst;
	struct cached *cache;
	size_t ncache;
	struct bucket *buckets;
	size_t nbuckets;
};

const char *server_role_name(enum server_role role)
{
	switch (role) {
	case SERVER_ROLE_PUBLIC:
		return "public";
	case SERVER_ROLE_INTEGRATION:
		return "integration";
	case SERVER_ROLE_AGENT:
		return "agent";
	case SERVER_ROLE_ADMIN:
		return "admin";
	case SERVER_ROLE_SIGNED:
		return "signed";
	}
	return "unknown";
}

int server_role_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "admin"))
		return SERVER_ROLE_ADMIN;
	if (!strcmp(s, "agent"))
		return SERVER_ROLE_AGENT;
	if (!strcmp(s, "integration"))
		return SERVER_ROLE_INTEGRATION;
	return -1;
}

void server_token_hash(const char *token, char hash_hex[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	if (sodium_init() < 0)
		fl_die("cannot initialise libsodium");
	crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
	fl_hex(hash_hex, h, sizeof(h));
}

void server_token_generate(char token[64], char hash_hex[65])
{
	unsigned char raw[24];

	fl_random_bytes(raw, sizeof(raw));
	memcpy(token, SERVER_TOKEN_PREFIX, sizeof(SERVER_TOKEN_PREFIX) - 1);
	fl_hex(token + sizeof(SERVER_TOKEN_PREFIX) - 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	server_token_hash(token, hash_hex);
}

struct server_tokens *server__tokens_new(double rate, double burst)
{
	struct server_tokens *t = fl_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->rate = rate;
	t->burst = burst > 0 ? burst : (rate > 0 ? rate : 1);
	return t;
}

void server__tokens_free(struct server_tokens *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->cache);
	free(t->buckets);
	free(t);
}

void server__tokens_forget(struct server_tokens *t)
{
	pthread_mutex_lock(&t->lock);
	t->ncache = 0;
	pthread_mutex_unlock(&t->lock);
}

int server__tokens_lookup(struct server_tokens *t, struct store *st, const char *token,
			  struct server_auth *a)
{
	int64_t now = fl_mono_us();
	char hash[65];
	json_t *row = NULL;
	size_t i;
	int rc, role;

	server_token_hash(token, hash);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->ncache; i++) {
		if (!strcmp(t->cache[i].hash, hash) && t->cache[i].expires_us > now) {
			*a = t->cache[i].auth;
			pthread_mutex_unlock(&t->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&t->lock);
	rc = store_token_find(st, hash, &row);
	if (rc == STORE_ENOTFOUND)
		return 401;
	if (rc != STORE_OK) {
		fl_log(FL_LOG_ERROR, "cannot look up an API token: %s", store_errmsg(st));
		return 503;
	}
	role = server_role_parse(fl_json_str(row, "role", ""));
	if (role < 0 || fl_json_bool(row, "revoked", false)) {
		json_decref(row);
		return 401;
	}
	memset(a, 0, sizeof(*a));
	a->token_id = fl_json_int(row, "id", 0);
	a->role = (enum server_role)role;
	fl_strlcpy(a->name, fl_json_str(row, "name", ""), sizeof(a->name));
	json_decref(row);
	pthread_mutex_lock(&t->lock);
	/* replace an expired entry, or the oldest slot when full */
	for (i = 0; i < t->ncache && t->cache[i].expires_us > now && strcmp(t->cache[i].hash, hash); i++)
		;
	if (i == t->ncache) {
		if (t->ncache < MAX_ENTRIES)
			t->cache = fl_reallocarray(t->cache, ++t->ncache, sizeof(*t->cache));
		else
			i = (size_t)(now % MAX_ENTRIES);
	}
	memcpy(t->cache[i].hash, hash, sizeof(hash));
	t->cache[i].auth = *a;
	t->cache[i].expires_us = now + CACHE_TTL_US;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

int server__tokens_take(struct server_tokens *t, int64_t token_id, int64_t now_us)
{
	struct bucket *b = NULL;
	int wait = 0;
	size_t i;

	if (t->rate <= 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nbuckets; i++)
		if (t->buckets[i].id == token_id)
			b = &t->buckets[i];
	if (!b) {
		t->buckets = fl_reallocarray(t->buckets, t->nbuckets + 1, sizeof(*t->buckets));
		b = &t->buckets[t->nbuckets++];
		b->id = token_id;
		b->tokens = t->burst;
		b->last_us = now_us;
	}
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) / 1e6 * t->rate;
		if (b->tokens > t->burst)
			b->tokens = t->burst;
		b->last_us = now_us;
	}
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (int)ceil((1 - b->tokens) / t->rate);
	pthread_mutex_unlock(&t->lock);
	return wait;
}
