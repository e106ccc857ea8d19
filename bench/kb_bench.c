/*
 * kb_bench: knowledge-base search latency at 1,000 and 100,000 articles.
 *
 * Articles are synthetic and deterministic (a fixed-seed generator): words
 * drawn from a 20,000-word invented vocabulary with a Zipf distribution, as
 * in natural text (a few words are in most articles, most words in few),
 * titles of 4-9 words, bodies of 80-200 words, three tags. Two query kinds:
 * "short" (5 words taken from one article's title and body, like a customer's
 * question) and "ticket" (a subject plus about 500 characters, which is what
 * the knowledge_base_search node sends). Each search asks for 5 articles, as
 * the node does. For scale, the same queries also run as plain FTS5 bm25
 * (unicode61 tokenizer, the query's words OR-ed: the baseline of `frontline
 * eval kb`) on a table of the same articles. Prints a Markdown section for
 * docs/BENCHMARKS.md.
 */
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kb/kb.h"
#include "util/util.h"

#define VOCAB 20000

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r) /* splitmix64 */
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unit(struct rng *r)
{
	return (double)(next(r) >> 11) / 9007199254740992.0;
}

struct vocab {
	char *words[VOCAB];
	double cdf[VOCAB];
};

static void vocab_init(struct vocab *v, struct rng *r)
{
	static const char *const syl[] = { "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ber", "con",
					   "dex", "fil", "gor", "han", "jet", "lum", "mor", "pra", "quin",
					   "rel", "sto", "tra", "ung", "vel", "wix", "yor", "zen", "ash" };
	double total = 0;
	size_t i, n = FL_ARRAY_SIZE(syl);

	for (i = 0; i < VOCAB; i++) {
		struct fl_buf b = FL_BUF_INIT;
		int k, parts = 2 + (int)(next(r) % 3);

		for (k = 0; k < parts; k++)
			fl_buf_adds(&b, syl[next(r) % n]);
		v->words[i] = fl_buf_detach(&b, NULL);
		total += 1.0 / (double)(i + 1);
		v->cdf[i] = total;
	}
	for (i = 0; i < VOCAB; i++)
		v->cdf[i] /= total;
}

static const char *word(const struct vocab *v, struct rng *r)
{
	double u = unit(r);
	size_t lo = 0, hi = VOCAB - 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return v->words[lo];
}

static void words(struct fl_buf *b, const struct vocab *v, struct rng *r, int n)
{
	for (int i = 0; i < n; i++)
		fl_buf_addf(b, "%s%s", i ? " " : "", word(v, r));
}

static json_t *make_article(const struct vocab *v, struct rng *r, size_t i)
{
	struct fl_buf t = FL_BUF_INIT, c = FL_BUF_INIT;
	char id[32];
	json_t *a;

	snprintf(id, sizeof(id), "syn_%06zu", i);
	words(&t, v, r, 4 + (int)(next(r) % 6));
	words(&c, v, r, 80 + (int)(next(r) % 121));
	a = json_pack("{s:s, s:s, s:s, s:s, s:[s,s,s]}", "id", id, "title", t.buf, "content", c.buf,
		      "category", "general", "tags", word(v, r), word(v, r), word(v, r));
	fl_buf_release(&t);
	fl_buf_release(&c);
	return a;
}

/* Words of article a: n from the title, m from the content, in order. */
static void pick_words(struct fl_buf *q, const json_t *a, struct rng *r, int n, int m)
{
	const char *fields[2] = { fl_json_str(a, "title", ""), fl_json_str(a, "content", "") };
	int want[2] = { n, m };

	for (int f = 0; f < 2; f++) {
		const char *s = fields[f];
		size_t count = 1, k, pick;

		for (k = 0; s[k]; k++)
			count += s[k] == ' ';
		for (int j = 0; j < want[f]; j++) {
			const char *p = s;

			pick = next(r) % count;
			for (k = 0; k < pick; k++)
				p = strchr(p, ' ') + 1;
			fl_buf_addf(q, "%s%.*s", q->len ? " " : "", (int)strcspn(p, " "), p);
		}
	}
}

/*
 * CPU time of the calling thread in microseconds. The search runs entirely on
 * the calling thread, so this is its cost; wall-clock time on a shared
 * machine would add the time spent waiting for a CPU.
 */
static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

struct lat {
	double p50, p99, mean;
};

static struct lat run_queries(struct kb *kb, char **queries, size_t n)
{
	int64_t *t = fl_calloc(n, sizeof(*t)), sum = 0;
	struct lat l;
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *res = NULL;
		int64_t t0 = cpu_us();

		if (kb_search(kb, queries[i], 5, &res) != KB_OK)
			fl_die("kb_search failed");
		t[i] = cpu_us() - t0;
		sum += t[i];
		json_decref(res);
	}
	qsort(t, n, sizeof(*t), cmp_i64);
	l.p50 = (double)t[n / 2] / 1000.0;
	l.p99 = (double)t[(n * 99) / 100] / 1000.0;
	l.mean = (double)sum / (double)n / 1000.0;
	free(t);
	return l;
}

/* Plain FTS5 bm25 over the same articles, for comparison. */
struct plain {
	sqlite3 *db;
	sqlite3_stmt *ins, *q;
};

static void plain_open(struct plain *p)
{
	if (sqlite3_open(":memory:", &p->db) ||
	    sqlite3_exec(p->db, "CREATE VIRTUAL TABLE t USING fts5(title, content)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(p->db, "INSERT INTO t(title, content) VALUES(?1, ?2)", -1, &p->ins, NULL) ||
	    sqlite3_prepare_v2(p->db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t) LIMIT 5", -1,
			       &p->q, NULL))
		fl_die("plain fts5: %s", sqlite3_errmsg(p->db));
}

static void plain_add(struct plain *p, const json_t *a)
{
	sqlite3_bind_text(p->ins, 1, fl_json_str(a, "title", ""), -1, SQLITE_STATIC);
	sqlite3_bind_text(p->ins, 2, fl_json_str(a, "content", ""), -1, SQLITE_STATIC);
	if (sqlite3_step(p->ins) != SQLITE_DONE)
		fl_die("plain fts5 insert: %s", sqlite3_errmsg(p->db));
	sqlite3_reset(p->ins);
}

static struct lat plain_queries(struct plain *p, char **queries, size_t n)
{
	int64_t *t = fl_calloc(n, sizeof(*t)), sum = 0;
	struct lat l;
	size_t i;

	for (i = 0; i < n; i++) {
		struct fl_buf m = FL_BUF_INIT;
		const char *w = queries[i];
		int64_t t0;

		while (*w) { /* the words, quoted and OR-ed */
			size_t k = strcspn(w, " ");

			fl_buf_addf(&m, "%s\"%.*s\"", m.len ? " OR " : "", (int)k, w);
			w += k + (w[k] == ' ');
		}
		t0 = cpu_us();
		sqlite3_bind_text(p->q, 1, m.buf, -1, SQLITE_STATIC);
		while (sqlite3_step(p->q) == SQLITE_ROW)
			;
		sqlite3_reset(p->q);
		t[i] = cpu_us() - t0;
		sum += t[i];
		fl_buf_release(&m);
	}
	qsort(t, n, sizeof(*t), cmp_i64);
	l.p50 = (double)t[n / 2] / 1000.0;
	l.p99 = (double)t[(n * 99) / 100] / 1000.0;
	l.mean = (double)sum / (double)n / 1000.0;
	free(t);
	return l;
}

static void plain_close(struct plain *p)
{
	sqlite3_finalize(p->ins);
	sqlite3_finalize(p->q);
	sqlite3_close(p->db);
}

static void bench_size(const struct vocab *v, size_t narticles, size_t nshort, size_t nticket,
		       const struct kb_params *params)
{
	struct rng r = { 42 + narticles };
	struct kb *kb = NULL;
	json_t *batch = json_array(), *sample = json_array();
	char **shortq = fl_calloc(nshort, sizeof(char *)), **ticketq = fl_calloc(nticket, sizeof(char *));
	char *err = NULL;
	int64_t t0, build_us;
	struct lat ls, lt, ps, pt;
	struct plain plain;
	size_t i;

	if (kb_open(NULL, &kb, &err) != KB_OK)
		fl_die("kb_open: %s", err);
	kb_set_params(kb, params);
	plain_open(&plain);
	t0 = cpu_us();
	for (i = 0; i < narticles; i++) {
		json_t *a = make_article(v, &r, i);

		if (i % (narticles / 200 + 1) == 0)
			json_array_append(sample, a);
		json_array_append_new(batch, a);
		if (json_array_size(batch) == 5000 || i + 1 == narticles) {
			if (kb_add_many(kb, batch) != KB_OK)
				fl_die("kb_add_many failed");
			json_array_clear(batch);
		}
	}
	build_us = cpu_us() - t0;
	r.s = 42 + narticles; /* the same articles again, for plain FTS5 */
	sqlite3_exec(plain.db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < narticles; i++) {
		json_t *a = make_article(v, &r, i);

		plain_add(&plain, a);
		json_decref(a);
	}
	sqlite3_exec(plain.db, "COMMIT", NULL, NULL, NULL);
	for (i = 0; i < nshort; i++) {
		struct fl_buf q = FL_BUF_INIT;

		pick_words(&q, json_array_get(sample, next(&r) % json_array_size(sample)), &r, 2, 3);
		shortq[i] = fl_buf_detach(&q, NULL);
	}
	for (i = 0; i < nticket; i++) {
		struct fl_buf q = FL_BUF_INIT;

		pick_words(&q, json_array_get(sample, next(&r) % json_array_size(sample)), &r, 4, 30);
		fl_buf_adds(&q, " ");
		words(&q, v, &r, 40);
		if (q.len > 560)
			fl_buf_setlen(&q, 560);
		ticketq[i] = fl_buf_detach(&q, NULL);
	}
	run_queries(kb, shortq, nshort / 10 + 1); /* warm up */
	ls = run_queries(kb, shortq, nshort);
	lt = run_queries(kb, ticketq, nticket);
	ps = plain_queries(&plain, shortq, nshort);
	pt = plain_queries(&plain, ticketq, nticket);
	printf("| %zu | %.1f s (%.0f/s) | short (5 words) | %.2f ms | %.2f ms | %.2f ms | %.2f / %.2f ms |\n",
	       narticles, (double)build_us / 1e6, (double)narticles / ((double)build_us / 1e6), ls.p50,
	       ls.p99, ls.mean, ps.p50, ps.p99);
	printf("| %zu | | ticket (~500 chars) | %.2f ms | %.2f ms | %.2f ms | %.2f / %.2f ms |\n", narticles,
	       lt.p50, lt.p99, lt.mean, pt.p50, pt.p99);
	if (params->prune_above > 0 && (double)narticles >= params->prune_above) {
		/* the same index and queries, every matching article scored */
		struct kb_params all = *params;

		all.prune_above = 0;
		kb_set_params(kb, &all);
		ls = run_queries(kb, shortq, nshort);
		lt = run_queries(kb, ticketq, nticket);
		printf("| %zu, pruning off | | short (5 words) | %.2f ms | %.2f ms | %.2f ms | |\n", narticles,
		       ls.p50, ls.p99, ls.mean);
		printf("| %zu, pruning off | | ticket (~500 chars) | %.2f ms | %.2f ms | %.2f ms | |\n", narticles,
		       lt.p50, lt.p99, lt.mean);
	}
	fflush(stdout);
	for (i = 0; i < nshort; i++)
		free(shortq[i]);
	for (i = 0; i < nticket; i++)
		free(ticketq[i]);
	free(shortq);
	free(ticketq);
	json_decref(batch);
	json_decref(sample);
	kb_close(kb);
	plain_close(&plain);
}

/* The bundled articles (data/kb) with the ticket fixture: what the triage pipeline searches. */
static void bench_bundled(const struct kb_params *params)
{
	json_t *arts = NULL, *qs = NULL;
	struct kb *kb = NULL;
	char *err = NULL, **queries;
	struct lat l;
	size_t i, n;

	if (kb_import_path("data/kb", &arts, &err) != KB_OK ||
	    kb_eval_load_queries("tests/fixtures/kb_tickets.jsonl", &qs, &err) != KB_OK) {
		printf("| data/kb | (skipped: %s) | | | | | |\n", err);
		free(err);
		json_decref(arts);
		return;
	}
	if (kb_open(NULL, &kb, &err) != KB_OK || kb_add_many(kb, arts) != KB_OK)
		fl_die("cannot index data/kb");
	kb_set_params(kb, params);
	n = 20 * json_array_size(qs);
	queries = fl_calloc(n, sizeof(*queries));
	for (i = 0; i < n; i++)
		queries[i] = (char *)fl_json_str(json_array_get(qs, i % json_array_size(qs)), "query", "");
	run_queries(kb, queries, json_array_size(qs)); /* warm up */
	l = run_queries(kb, queries, n);
	printf("| %zu (data/kb, bundled) | | ticket fixture (%zu tickets) | %.2f ms | %.2f ms | %.2f ms | |\n",
	       json_array_size(arts), json_array_size(qs), l.p50, l.p99, l.mean);
	free(queries);
	kb_close(kb);
	json_decref(arts);
	json_decref(qs);
}

int main(int argc, char **argv)
{
	struct vocab *v = fl_calloc(1, sizeof(*v));
	struct rng r = { 7 };
	size_t big = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100000;
	struct kb_params params;
	char *err = NULL, load[64];

	/* kb_bench [ARTICLES [NAME=VALUE ...]]: another size, other ranking parameters */
	kb_params_default(&params);
	for (int i = 2; i < argc; i++)
		if (kb_params_set(&params, argv[i], &err) != KB_OK)
			fl_die("%s", err);

	{
		FILE *f = fopen("/proc/loadavg", "r");

		if (!f || !fgets(load, sizeof(load), f))
			fl_strlcpy(load, "unknown", sizeof(load));
		load[strcspn(load, " ")] = '\0'; /* the 1-minute figure */
		if (f)
			fclose(f);
	}
	vocab_init(v, &r);
	printf("### Knowledge-base search (`bench/kb_bench`)\n\n");
	printf("Synthetic articles (Zipf-distributed words from a 20,000-word vocabulary; titles of 4-9\n"
	       "words, bodies of 80-200, three tags), in-memory index, one thread, 5 results per search.\n"
	       "From %.0f articles on, only articles sharing a word found in at most %.0f%% of the\n"
	       "articles with the query are scored (kb_params.prune_above, prune_df); the \"pruning off\"\n"
	       "rows score every match. Plain FTS5 bm25 runs the same queries on the same articles.\n"
	       "Times are CPU time of the searching thread (the machine is shared; load average at\n"
	       "the start: %s).\n\n",
	       params.prune_above, 100 * params.prune_df, load);
	printf("| articles | index build | queries | p50 | p99 | mean | plain FTS5 bm25 p50 / p99 |\n"
	       "|---|---|---|---:|---:|---:|---:|\n");
	bench_bundled(&params);
	bench_size(v, 1000, 2000, 500, &params);
	bench_size(v, big, 500, 120, &params);
	for (size_t i = 0; i < VOCAB; i++)
		free(v->words[i]);
	free(v);
	return 0;
}
