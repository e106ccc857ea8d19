/*
 * The metrics registry and its Prometheus text exposition.
 *
 * A family holds its series in a small open-addressing hash table keyed by
 * the label values joined with a unit separator; each family has its own
 * mutex, so updates from the HTTP threads and the workers contend only when
 * they touch the same metric. Exposition sorts the series by their key so
 * that the output is stable from one scrape to the next.
 *
 * Process metrics (memory, CPU, file descriptors) are read from /proc by a
 * collector at each exposition; everything else is left to the callers.
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"

#define SEP '\x1f'

static const double default_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

struct series {
	char *key;          /* label values joined by SEP */
	double value;       /* counter, gauge */
	double sum;         /* histogram */
	uint64_t *counts;   /* histogram: per bucket (not cumulative), nbounds + 1 */
};

struct monitor_family {
	enum monitor_kind kind;
	char *name, *help;
	size_t nlabels;
	char **labels;
	size_t nbounds;
	double *bounds;
	pthread_mutex_t lock;
	struct series **slots;   /* open addressing, capacity a power of two */
	size_t cap, count;
};

struct collector {
	void (*fn)(void *arg, struct monitor_registry *r);
	void *arg;
};

struct monitor_registry {
	pthread_mutex_t lock;          /* families and collectors lists */
	pthread_mutex_t scrape_lock;   /* one exposition at a time */
	struct monitor_family **families;
	size_t nfamilies;
	struct collector *collectors;
	size_t ncollectors;
};

const char *monitor_strerror(int rc)
{
	switch (rc) {
#define MONITOR_STR(name, text) case MONITOR_##name: return text;
	MONITOR_ERRNO_MAP(MONITOR_STR)
#undef MONITOR_STR
	}
	return "unknown monitor error";
}

const char *monitor_errname(int rc)
{
	switch (rc) {
#define MONITOR_NAME(name, text) case MONITOR_##name: return "MONITOR_" #name;
	MONITOR_ERRNO_MAP(MONITOR_NAME)
#undef MONITOR_NAME
	}
	return "MONITOR_UNKNOWN";
}

struct monitor_registry *monitor_registry_new(void)
{
	struct monitor_registry *r = fl_calloc(1, sizeof(*r));

	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->scrape_lock, NULL);
	return r;
}

static void series_free(struct series *s)
{
	if (!s)
		return;
	free(s->key);
	free(s->counts);
	free(s);
}

static void family_clear_locked(struct monitor_family *f)
{
	size_t i;

	for (i = 0; i < f->cap; i++) {
		series_free(f->slots[i]);
		f->slots[i] = NULL;
	}
	f->count = 0;
}

static void family_free(struct monitor_family *f)
{
	size_t i;

	family_clear_locked(f);
	free(f->slots);
	for (i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->bounds);
	free(f->name);
	free(f->help);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void monitor_registry_free(struct monitor_registry *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nfamilies; i++)
		family_free(r->families[i]);
	free(r->families);
	free(r->collectors);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->scrape_lock);
	free(r);
}

static bool same_shape(const struct monitor_family *f, enum monitor_kind kind, size_t nlabels,
		       const char *const *labels)
{
	size_t i;

	if (f->kind != kind || f->nlabels != nlabels)
		return false;
	for (i = 0; i < nlabels; i++)
		if (strcmp(f->labels[i], labels[i]))
			return false;
	return true;
}

struct monitor_family *monitor_family_find(struct monitor_registry *r, const char *name)
{
	struct monitor_family *found = NULL;
	size_t i;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nfamilies && !found; i++)
		if (!strcmp(r->families[i]->name, name))
			found = r->families[i];
	pthread_mutex_unlock(&r->lock);
	return found;
}

struct monitor_family *monitor_family_new(struct monitor_registry *r, enum monitor_kind kind,
					  const char *name, const char *help, size_t nlabels,
					  const char *const *labels, const double *bounds,
					  size_t nbounds)
{
	struct monitor_family *f = NULL;
	size_t i;

	if (!r || !name || !*name)
		return NULL;
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nfamilies; i++) {
		if (!strcmp(r->families[i]->name, name)) {
			f = same_shape(r->families[i], kind, nlabels, labels) ? r->families[i] : NULL;
			goto out;
		}
	}
	f = fl_calloc(1, sizeof(*f));
	f->kind = kind;
	f->name = fl_strdup(name);
	f->help = fl_strdup(help ? help : "");
	f->nlabels = nlabels;
	f->labels = fl_calloc(nlabels ? nlabels : 1, sizeof(char *));
	for (i = 0; i < nlabels; i++)
		f->labels[i] = fl_strdup(labels[i]);
	if (kind == MONITOR_HISTOGRAM) {
		if (!bounds) {
			bounds = default_bounds;
			nbounds = FL_ARRAY_SIZE(default_bounds);
		}
		f->nbounds = nbounds;
		f->bounds = fl_calloc(nbounds ? nbounds : 1, sizeof(double));
		if (nbounds)
			memcpy(f->bounds, bounds, nbounds * sizeof(double));
	}
	pthread_mutex_init(&f->lock, NULL);
	f->cap = 16;
	f->slots = fl_calloc(f->cap, sizeof(*f->slots));
	r->families = fl_reallocarray(r->families, r->nfamilies + 1, sizeof(*r->families));
	r->families[r->nfamilies++] = f;
out:
	pthread_mutex_unlock(&r->lock);
	return f;
}

/* ---- series lookup ---- */

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The label values joined into buf (stack for the common case). */
static const char *make_key(const struct monitor_family *f, const char *const *values, char *stack,
			    size_t cap, char **heap)
{
	size_t i, len = 0, n;
	char *p;

	*heap = NULL;
	for (i = 0; i < f->nlabels; i++)
		len += strlen(values && values[i] ? values[i] : "") + 1;
	p = len + 1 <= cap ? stack : (*heap = fl_malloc(len + 1));
	len = 0;
	for (i = 0; i < f->nlabels; i++) {
		const char *v = values && values[i] ? values[i] : "";

		n = strlen(v);
		memcpy(p + len, v, n);
		len += n;
		if (i + 1 < f->nlabels)
			p[len++] = SEP;
	}
	p[len] = '\0';
	return p;
}

static void grow(struct monitor_family *f)
{
	struct series **old = f->slots;
	size_t oldcap = f->cap, i;

	f->cap *= 2;
	f->slots = fl_calloc(f->cap, sizeof(*f->slots));
	for (i = 0; i < oldcap; i++) {
		size_t j;

		if (!old[i])
			continue;
		j = hash_key(old[i]->key) & (f->cap - 1);
		while (f->slots[j])
			j = (j + 1) & (f->cap - 1);
		f->slots[j] = old[i];
	}
	free(old);
}

/* Finds or creates the series; call with f->lock held. */
static struct series *series_get(struct monitor_family *f, const char *const *values, bool create)
{
	char stack[256], *heap;
	const char *key = make_key(f, values, stack, sizeof(stack), &heap);
	size_t j = hash_key(key) & (f->cap - 1);
	struct series *s = NULL;

	while (f->slots[j]) {
		if (!strcmp(f->slots[j]->key, key)) {
			s = f->slots[j];
			goto out;
		}
		j = (j + 1) & (f->cap - 1);
	}
	if (!create)
		goto out;
	s = fl_calloc(1, sizeof(*s));
	s->key = fl_strdup(key);
	if (f->kind == MONITOR_HISTOGRAM)
		s->counts = fl_calloc(f->nbounds + 1, sizeof(uint64_t));
	f->slots[j] = s;
	if (++f->count * 4 > f->cap * 3)
		grow(f);
out:
	free(heap);
	return s;
}

void monitor_add(struct monitor_family *fam, const char *const *values, double v)
{
	if (!fam || fam->kind == MONITOR_HISTOGRAM || isnan(v))
		return;
	if (fam->kind == MONITOR_COUNTER && v < 0)
		return;
	pthread_mutex_lock(&fam->lock);
	series_get(fam, values, true)->value += v;
	pthread_mutex_unlock(&fam->lock);
}

void monitor_set(struct monitor_family *fam, const char *const *values, double v)
{
	if (!fam || fam->kind == MONITOR_HISTOGRAM)
		return;
	pthread_mutex_lock(&fam->lock);
	series_get(fam, values, true)->value = v;
	pthread_mutex_unlock(&fam->lock);
}

void monitor_observe(struct monitor_family *fam, const char *const *values, double v)
{
	struct series *s;
	size_t i;

	if (!fam || fam->kind != MONITOR_HISTOGRAM || isnan(v))
		return;
	pthread_mutex_lock(&fam->lock);
	s = series_get(fam, values, true);
	for (i = 0; i < fam->nbounds && v > fam->bounds[i]; i++)
		;
	s->counts[i]++;
	s->sum += v;
	pthread_mutex_unlock(&fam->lock);
}

void monitor_histogram_set(struct monitor_family *fam, const char *const *values,
			   const int64_t *cumulative, size_t n, double sum)
{
	struct series *s;
	int64_t prev = 0;
	size_t i;

	if (!fam || fam->kind != MONITOR_HISTOGRAM || n != fam->nbounds + 1)
		return;
	pthread_mutex_lock(&fam->lock);
	s = series_get(fam, values, true);
	for (i = 0; i < n; i++) {
		int64_t c = cumulative[i] < prev ? prev : cumulative[i];

		s->counts[i] = (uint64_t)(c - prev);
		prev = c;
	}
	s->sum = sum;
	pthread_mutex_unlock(&fam->lock);
}

void monitor_family_clear(struct monitor_family *fam)
{
	if (!fam)
		return;
	pthread_mutex_lock(&fam->lock);
	family_clear_locked(fam);
	pthread_mutex_unlock(&fam->lock);
}

double monitor_value(struct monitor_family *fam, const char *const *values)
{
	struct series *s;
	double v = 0;
	size_t i;

	if (!fam)
		return 0;
	pthread_mutex_lock(&fam->lock);
	s = series_get(fam, values, false);
	if (s && fam->kind == MONITOR_HISTOGRAM)
		for (i = 0; i <= fam->nbounds; i++)
			v += (double)s->counts[i];
	else if (s)
		v = s->value;
	pthread_mutex_unlock(&fam->lock);
	return v;
}

void monitor_registry_add_collector(struct monitor_registry *r,
				    void (*fn)(void *arg, struct monitor_registry *r), void *arg)
{
	pthread_mutex_lock(&r->lock);
	r->collectors = fl_reallocarray(r->collectors, r->ncollectors + 1, sizeof(*r->collectors));
	r->collectors[r->ncollectors].fn = fn;
	r->collectors[r->ncollectors].arg = arg;
	r->ncollectors++;
	pthread_mutex_unlock(&r->lock);
}

/* ---- exposition ---- */

static void add_escaped(struct fl_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fl_buf_adds(out, "\\\\");
		else if (*s == '\n')
			fl_buf_adds(out, "\\n");
		else if (quote && *s == '"')
			fl_buf_adds(out, "\\\"");
		else
			fl_buf_addch(out, *s);
	}
}

static void add_number(struct fl_buf *out, double v)
{
	if (isinf(v))
		fl_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		fl_buf_adds(out, "NaN");
	else if (v == floor(v) && fabs(v) < 1e15)
		fl_buf_addf(out, "%.0f", v);
	else {
		/* the shortest form that reads back as the same double */
		char tmp[40];
		int prec;

		for (prec = 15; prec < 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		fl_buf_adds(out, tmp);
	}
}

/* name{a="x",b="y"[,le="..."]} */
static void add_labels(struct fl_buf *out, const struct monitor_family *f, const char *key,
		       const char *le)
{
	const char *p = key;
	size_t i;

	if (!f->nlabels && !le)
		return;
	fl_buf_addch(out, '{');
	for (i = 0; i < f->nlabels; i++) {
		const char *end = strchr(p, SEP);
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *v = fl_strndup(p, n);

		if (i)
			fl_buf_addch(out, ',');
		fl_buf_addf(out, "%s=\"", f->labels[i]);
		add_escaped(out, v, true);
		fl_buf_addch(out, '"');
		free(v);
		p = end ? end + 1 : p + n;
	}
	if (le)
		fl_buf_addf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
	fl_buf_addch(out, '}');
}

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = *(const struct series *const *)a, *y = *(const struct series *const *)b;

	return strcmp(x->key, y->key);
}

static void expose_family(struct monitor_family *f, struct fl_buf *out)
{
	static const char *const kinds[] = { "counter", "gauge", "histogram" };
	struct series **list;
	size_t i, n = 0, b;

	pthread_mutex_lock(&f->lock);
	fl_buf_addf(out, "# HELP %s ", f->name);
	add_escaped(out, f->help, false);
	fl_buf_addf(out, "\n# TYPE %s %s\n", f->name, kinds[f->kind]);
	list = fl_calloc(f->count ? f->count : 1, sizeof(*list));
	for (i = 0; i < f->cap; i++)
		if (f->slots[i])
			list[n++] = f->slots[i];
	qsort(list, n, sizeof(*list), cmp_series);
	for (i = 0; i < n; i++) {
		struct series *s = list[i];

		if (f->kind != MONITOR_HISTOGRAM) {
			fl_buf_adds(out, f->name);
			add_labels(out, f, s->key, NULL);
			fl_buf_addch(out, ' ');
			add_number(out, s->value);
			fl_buf_addch(out, '\n');
			continue;
		}
		{
			uint64_t cum = 0;
			char le[40];

			for (b = 0; b <= f->nbounds; b++) {
				cum += s->counts[b];
				if (b < f->nbounds)
					snprintf(le, sizeof(le), "%g", f->bounds[b]);
				else
					fl_strlcpy(le, "+Inf", sizeof(le));
				fl_buf_addf(out, "%s_bucket", f->name);
				add_labels(out, f, s->key, le);
				fl_buf_addf(out, " %llu\n", (unsigned long long)cum);
			}
			fl_buf_addf(out, "%s_sum", f->name);
			add_labels(out, f, s->key, NULL);
			fl_buf_addch(out, ' ');
			add_number(out, s->sum);
			fl_buf_addf(out, "\n%s_count", f->name);
			add_labels(out, f, s->key, NULL);
			fl_buf_addf(out, " %llu\n", (unsigned long long)cum);
		}
	}
	free(list);
	pthread_mutex_unlock(&f->lock);
}

void monitor_registry_expose(struct monitor_registry *r, struct fl_buf *out)
{
	size_t i, nc, nf;

	pthread_mutex_lock(&r->scrape_lock);
	pthread_mutex_lock(&r->lock);
	nc = r->ncollectors;
	pthread_mutex_unlock(&r->lock);
	/* collectors are only ever appended, so the first nc stay valid */
	for (i = 0; i < nc; i++)
		r->collectors[i].fn(r->collectors[i].arg, r);
	pthread_mutex_lock(&r->lock);
	nf = r->nfamilies;
	for (i = 0; i < nf; i++)
		expose_family(r->families[i], out);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->scrape_lock);
}

/* ---- process metrics ---- */

int64_t monitor_process_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = -1, rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : (int64_t)rss * sysconf(_SC_PAGESIZE);
}

static double process_cpu_seconds(void)
{
	FILE *f = fopen("/proc/self/stat", "r");
	char line[1024], *p;
	unsigned long utime = 0, stime = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* fields after the command name, which may hold spaces: start after ')' */
	p = strrchr(line, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;   /* the directory's own descriptor */
}

static void collect_process(void *arg, struct monitor_registry *r)
{
	struct monitor_family *rss = monitor_family_find(r, "process_resident_memory_bytes");

	(void)arg;
	monitor_set(rss, NULL, (double)monitor_process_rss());
	monitor_set(monitor_family_find(r, "process_cpu_seconds_total"), NULL, process_cpu_seconds());
	monitor_set(monitor_family_find(r, "process_open_fds"), NULL, open_fds());
}

void monitor_add_process_metrics(struct monitor_registry *r)
{
	static const char *const build_labels[] = { "version" };
	const char *version[] = { FL_VERSION };

	monitor_family_new(r, MONITOR_GAUGE, "process_resident_memory_bytes",
			   "resident set size of the process in bytes", 0, NULL, NULL, 0);
	monitor_family_new(r, MONITOR_COUNTER, "process_cpu_seconds_total",
			   "user and system CPU time spent in seconds", 0, NULL, NULL, 0);
	monitor_family_new(r, MONITOR_GAUGE, "process_open_fds", "open file descriptors", 0, NULL,
			   NULL, 0);
	monitor_set(monitor_family_new(r, MONITOR_GAUGE, "process_start_time_seconds",
				       "start time of the process since the Unix epoch in seconds",
				       0, NULL, NULL, 0),
		    NULL, (double)(fl_wall_us() / 1000000));
	monitor_set(monitor_family_new(r, MONITOR_GAUGE, "frontline_build_info",
				       "Frontline build: always 1, labelled with the version", 1,
				       build_labels, NULL, 0),
		    version, 1);
	monitor_registry_add_collector(r, collect_process, NULL);
}
