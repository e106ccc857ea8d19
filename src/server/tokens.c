/*
 * API tokens and their rate limits. A token is "flt_" and 48 random hex
 * digits, shown once when created; the store keeps only its SHA-256 (the
 * token has 192 bits of entropy, so a plain hash is enough: there is nothing
 * to brute-force). Lookups are cached for CACHE_TTL_US (10 s) so that a busy
 * client costs no store round trip, and needs no store connection, per
 * request; a revocation takes effect at once on the replica that made it
 * (server__tokens_forget) and within those 10 s on the others.
 *
 * Each token has a token bucket (rate per second, burst) kept in memory per
 * process: with N replicas a client can reach N times the rate, which is the
 * usual trade of a per-process limiter and is documented in OPERATIONS.md.
 * Each client address has one too, for the unknown or revoked tokens it
 * presents (fail_rate per minute, bursts of twice that): past it the
 * address gets 429 without a store lookup, so guessing tokens in bulk costs
 * the guesser time and the store nothing.
 */
#include <math.h>
#include <string.h>
#include <sodium.h>

#include "server_int.h"
#include "store/store.h"

#define CACHE_TTL_US (10 * INT64_C(1000000))
#define MAX_ENTRIES 4096
#define MAX_ADDRESSES 1024

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

/* An address's allowance of unknown tokens. */
struct fail_bucket {
	char addr[SERVER_ADDR_LEN];
	double tokens;
	int64_t last_us;
};

struct server_tokens {
	pthread_mutex_t lock;
	double rate, burst;
	double fail_rate, fail_burst;   /* per second; 0: no limit */
	struct cached *cache;
	size_t ncache;
	struct bucket *buckets;
	size_t nbuckets;
	struct fail_bucket *fails;
	size_t nfails;
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

struct server_tokens *server__tokens_new(double rate, double burst, double fails_per_minute)
{
	struct server_tokens *t = fl_calloc(1, sizeof(*t));

	pthread_mutex_init(&t->lock, NULL);
	t->rate = rate;
	t->burst = burst > 0 ? burst : (rate > 0 ? rate : 1);
	if (fails_per_minute > 0) {
		t->fail_rate = fails_per_minute / 60;
		t->fail_burst = 2 * fails_per_minute;
	}
	return t;
}

void server__tokens_free(struct server_tokens *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->cache);
	free(t->buckets);
	free(t->fails);
	free(t);
}

void server__tokens_forget(struct server_tokens *t)
{
	pthread_mutex_lock(&t->lock);
	t->ncache = 0;
	pthread_mutex_unlock(&t->lock);
}

int server__tokens_cached(struct server_tokens *t, const char *token, char hash[65], struct server_auth *a)
{
	int64_t now = fl_mono_us();
	size_t i;
	int rc = -1;

	server_token_hash(token, hash);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->ncache; i++) {
		if (!strcmp(t->cache[i].hash, hash) && t->cache[i].expires_us > now) {
			*a = t->cache[i].auth;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int server__tokens_fetch(struct server_tokens *t, struct store *st, const char hash[65], struct server_auth *a)
{
	int64_t now = fl_mono_us();
	json_t *row = NULL;
	size_t i;
	int rc, role;

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
	memcpy(t->cache[i].hash, hash, 65);
	t->cache[i].auth = *a;
	t->cache[i].expires_us = now + CACHE_TTL_US;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/*
 * addr's bucket, refilled to now (the lock held). A new address takes a
 * free slot, else the one that refilled longest ago (its bucket is full by
 * now or nearly: forgetting it costs its owner nothing).
 */
static struct fail_bucket *fail_bucket(struct server_tokens *t, const char *addr, int64_t now_us)
{
	struct fail_bucket *b = NULL, *oldest = NULL;
	size_t i;

	for (i = 0; i < t->nfails && !b; i++) {
		if (!strcmp(t->fails[i].addr, addr))
			b = &t->fails[i];
		else if (!oldest || t->fails[i].last_us < oldest->last_us)
			oldest = &t->fails[i];
	}
	if (!b) {
		if (t->nfails < MAX_ADDRESSES) {
			t->fails = fl_reallocarray(t->fails, t->nfails + 1, sizeof(*t->fails));
			b = &t->fails[t->nfails++];
		} else {
			b = oldest;
		}
		fl_strlcpy(b->addr, addr, sizeof(b->addr));
		b->tokens = t->fail_burst;
		b->last_us = now_us;
	}
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) / 1e6 * t->fail_rate;
		if (b->tokens > t->fail_burst)
			b->tokens = t->fail_burst;
		b->last_us = now_us;
	}
	return b;
}

int server__tokens_fail_wait(struct server_tokens *t, const char *addr, int64_t now_us)
{
	struct fail_bucket *b;
	int wait = 0;

	if (t->fail_rate <= 0)
		return 0;
	pthread_mutex_lock(&t->lock);
	b = fail_bucket(t, addr, now_us);
	if (b->tokens < 1)
		wait = (int)ceil((1 - b->tokens) / t->fail_rate);
	pthread_mutex_unlock(&t->lock);
	return wait;
}

void server__tokens_fail_note(struct server_tokens *t, const char *addr, int64_t now_us)
{
	struct fail_bucket *b;

	if (t->fail_rate <= 0)
		return;
	pthread_mutex_lock(&t->lock);
	b = fail_bucket(t, addr, now_us);
	b->tokens = b->tokens >= 1 ? b->tokens - 1 : 0;
	pthread_mutex_unlock(&t->lock);
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
		/* a bucket refilled to its burst is the same as none: forget those before adding one */
		for (i = 0; i < t->nbuckets;) {
			struct bucket *o = &t->buckets[i];

			if (o->tokens + (double)(now_us - o->last_us) / 1e6 * t->rate >= t->burst)
				t->buckets[i] = t->buckets[--t->nbuckets];
			else
				i++;
		}
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
