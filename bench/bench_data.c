/*
 * The benchmarks' shared data and helpers (bench_data.h): the generator,
 * the words and the tickets of store_bench and console_bench, quantiles,
 * the load average and cleaning up.
 */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "util/util.h"

static uint64_t rng = 0x5EED;

uint64_t bench_next(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

const char *const bench_common_words[] = {
	"password", "reset", "login", "account", "billing", "invoice", "refund", "payment", "charge",
	"error", "crash", "slow", "dashboard", "export", "report", "integration", "api", "email",
	"notification", "subscription", "upgrade", "cancel", "access", "permission", "team", "user",
	"mobile", "app", "browser", "sync", "data", "import", "file", "upload", "timeout", "server",
	"outage", "feature", "request", "help", "issue", "problem", "working", "broken", "update",
	"settings", "profile", "security", "token", "webhook", "calendar", "search", "filter", "chart",
	"analytics", "plan", "trial", "discount", "receipt", "please",
};

const size_t bench_ncommon_words = sizeof(bench_common_words) / sizeof(bench_common_words[0]);


/* A word: a common one, or one of 20,000 others with a Zipf-like skew. */
static void word(struct fl_buf *b)
{
	uint64_t r = bench_next();

	if (r % 3 == 0) {
		fl_buf_adds(b, bench_common_words[(r >> 8) % bench_ncommon_words]);
		return;
	}
	fl_buf_addf(b, "w%llu", (unsigned long long)(exp(log(20000.0) * (double)((r >> 16) % 100000) / 100000.0)));
}

char *bench_words(int n)
{
	struct fl_buf b = FL_BUF_INIT;
	int i;

	for (i = 0; i < n; i++) {
		if (i)
			fl_buf_addch(&b, ' ');
		word(&b);
	}
	return fl_buf_detach(&b, NULL);
}

const char *bench_pick(const char *const *v, const int *weights, size_t n)
{
	int total = 0, r;
	size_t i;

	for (i = 0; i < n; i++)
		total += weights[i];
	r = (int)(bench_next() % (uint64_t)total);
	for (i = 0; i < n; i++) {
		if (r < weights[i])
			return v[i];
		r -= weights[i];
	}
	return v[n - 1];
}

const char *const bench_statuses[] = { "closed", "resolved", "new", "triaging", "escalated",
					"waiting_on_customer", "auto_replied" };
const int bench_status_w[] = { 60, 20, 5, 2, 3, 5, 5 };
static const char *const priorities[] = { "low", "medium", "high", "urgent" };
static const int priority_w[] = { 40, 40, 15, 5 };
static const char *const categories[] = { "technical", "billing", "account", "product", "general" };
static const int category_w[] = { 30, 25, 20, 15, 10 };
static const char *const channels[] = { "email", "web", "chat", "webhook", "api", "phone" };
static const int channel_w[] = { 40, 25, 15, 10, 8, 2 };

json_t *bench_fake_ticket(int64_t i, int64_t total, bool history)
{
	char id[32], cust[32], agent[32], ts[32];
	char *subject = bench_words(5), *content = bench_words(30);
	int64_t t0 = 1700000000LL * 1000000;
	json_t *t;

	snprintf(id, sizeof(id), "bench-%07lld", (long long)i);
	snprintf(cust, sizeof(cust), "cust_%05llu", (unsigned long long)(bench_next() % 50000));
	t = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "channel", bench_pick(channels, channel_w, 6),
		      "customer_id", cust, "subject", subject, "content", content);
	if (history) {
		fl_time_rfc3339(ts, t0 + i * (365LL * 86400 * 1000000 / (total ? total : 1)));
		json_object_set_new(t, "created_at", json_string(ts));
		json_object_set_new(t, "status",
				    json_string(bench_pick(bench_statuses, bench_status_w, BENCH_NSTATUSES)));
		json_object_set_new(t, "priority", json_string(bench_pick(priorities, priority_w, 4)));
		json_object_set_new(t, "category", json_string(bench_pick(categories, category_w, 5)));
		if (bench_next() % 10 < 7) {
			snprintf(agent, sizeof(agent), "agent_%03llu", (unsigned long long)(bench_next() % 200));
			json_object_set_new(t, "assignee", json_string(agent));
		}
	}
	free(subject);
	free(content);
	return t;
}

int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_quantile(const double *sorted, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

double bench_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double v = -1;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void bench_rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
