/*
 * kb_search: plans the query (query.c), lets FTS5 find the candidates and
 * kb_rank (rank.c) score them, and builds the knowledge_base_results object.
 * Also the ranking parameters and their defaults.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

#define KB_LIMIT_MAX 1000

/*
 * Defaults chosen on the dev half of StackFAQ only (docs/QUALITY.md). Tags
 * sit between title and body, as a help centre's editors intend them.
 */
void kb_params_default(struct kb_params *p)
{
	p->w_title = 3.0;
	p->w_tags = 2.0;
	p->w_body = 1.0;
	p->b_title = 0.6;
	p->b_tags = 0.5;
	p->b_body = 0.9;
	p->k1 = 1.6;
	p->synonym_weight = 0.3;
	p->title_coverage = 2.0;
	p->query_coverage = 1.0;
	p->title_concepts = 5;
	p->stop_words = true;
	p->synonyms = true;
	p->prune_above = 5000;
	p->prune_df = 0.1;
}

enum param_type { P_DOUBLE, P_BOOL };

static const struct {
	const char *name;
	size_t offset;
	enum param_type type;
} param_table[] = {
	{ "w_title", offsetof(struct kb_params, w_title), P_DOUBLE },
	{ "w_tags", offsetof(struct kb_params, w_tags), P_DOUBLE },
	{ "w_body", offsetof(struct kb_params, w_body), P_DOUBLE },
	{ "b_title", offsetof(struct kb_params, b_title), P_DOUBLE },
	{ "b_tags", offsetof(struct kb_params, b_tags), P_DOUBLE },
	{ "b_body", offsetof(struct kb_params, b_body), P_DOUBLE },
	{ "k1", offsetof(struct kb_params, k1), P_DOUBLE },
	{ "synonym_weight", offsetof(struct kb_params, synonym_weight), P_DOUBLE },
	{ "title_coverage", offsetof(struct kb_params, title_coverage), P_DOUBLE },
	{ "query_coverage", offsetof(struct kb_params, query_coverage), P_DOUBLE },
	{ "title_concepts", offsetof(struct kb_params, title_concepts), P_DOUBLE },
	{ "stop_words", offsetof(struct kb_params, stop_words), P_BOOL },
	{ "synonyms", offsetof(struct kb_params, synonyms), P_BOOL },
	{ "prune_above", offsetof(struct kb_params, prune_above), P_DOUBLE },
	{ "prune_df", offsetof(struct kb_params, prune_df), P_DOUBLE },
};

int kb_params_set(struct kb_params *p, const char *assignment, char **err)
{
	const char *eq = strchr(assignment, '=');
	size_t i, n = eq ? (size_t)(eq - assignment) : 0;
	double d;
	int b;

	*err = NULL;
	for (i = 0; eq && i < FL_ARRAY_SIZE(param_table); i++) {
		if (strlen(param_table[i].name) != n || strncmp(param_table[i].name, assignment, n))
			continue;
		if (param_table[i].type == P_BOOL) {
			b = fl_parse_bool(eq + 1);
			if (b < 0)
				break;
			*(bool *)((char *)p + param_table[i].offset) = b;
			return KB_OK;
		}
		if (fl_parse_double(eq + 1, &d) || !isfinite(d) || d < 0)
			break;
		*(double *)((char *)p + param_table[i].offset) = d;
		return KB_OK;
	}
	if (!eq) {
		*err = fl_asprintf("invalid parameter '%s' (use name=value)", assignment);
	} else if (i < FL_ARRAY_SIZE(param_table)) {
		*err = fl_asprintf("invalid value for parameter '%.*s': '%s'", (int)n, assignment, eq + 1);
	} else {
		struct fl_buf b2 = FL_BUF_INIT;

		for (i = 0; i < FL_ARRAY_SIZE(param_table); i++)
			fl_buf_addf(&b2, "%s%s", i ? ", " : "", param_table[i].name);
		*err = fl_asprintf("unknown parameter '%.*s' (known: %s)", (int)n, assignment, b2.buf);
		fl_buf_release(&b2);
	}
	return KB_EINVAL;
}

void kb_set_params(struct kb *kb, const struct kb_params *p)
{
	pthread_mutex_lock(&kb->lock);
	kb->params = *p;
	pthread_mutex_unlock(&kb->lock);
}

static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

bool kb_language_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n < 2 || n > 15 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] == '-' && i + 1 < n && s[i - 1] != '-')))
			return false;
	return true;
}

size_t kb_count_language(struct kb *kb, const char *language)
{
	size_t i, n = 0;

	if (!kb || !language)
		return 0;
	pthread_rwlock_rdlock(&kb->info_lock);
	for (i = 0; i < kb->nlangs; i++)
		if (!strcmp(kb->langs[i].lang, language))
			n = kb->langs[i].n;
	pthread_rwlock_unlock(&kb->info_lock);
	return n;
}

struct hit {
	sqlite3_int64 rowid;
	double score;
};

static int prepare_once(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
	if (*st)
		return SQLITE_OK;
	return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

/* A phrase's document frequency: the connection's cache, or FTS5 (then cached). */
static int phrase_df(struct kb_conn *c, const struct kb_phrase *ph, double *df)
{
	struct fl_buf m = FL_BUF_INIT;
	int rc;

	if (kb__dfcache_get(&c->df, ph->key, df))
		return SQLITE_OK;
	rc = prepare_once(c->db, &c->df_st, "SELECT count(*) FROM kb_fts WHERE kb_fts MATCH ?1");
	if (rc)
		return rc;
	kb__phrase_match(&m, ph);
	sqlite3_bind_text(c->df_st, 1, m.buf, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->df_st);
	if (rc == SQLITE_ROW) {
		*df = (double)sqlite3_column_int64(c->df_st, 0);
		kb__dfcache_put(&c->df, ph->key, *df);
		rc = SQLITE_OK;
	}
	sqlite3_reset(c->df_st);
	sqlite3_clear_bindings(c->df_st);
	fl_buf_release(&m);
	return rc;
}

/* On a large index, restricts the candidates to articles with a selective phrase (kb_params.prune_*). */
static int select_phrases(struct kb_conn *c, struct kb_qplan *plan, size_t narticles)
{
	bool *sel;
	size_t i;
	int rc = SQLITE_OK;

	if (plan->params.prune_above <= 0 || (double)narticles < plan->params.prune_above)
		return SQLITE_OK;
	sel = fl_calloc(plan->nph, sizeof(*sel));
	for (i = 0; i < plan->nph && rc == SQLITE_OK; i++) {
		double df = 0;

		rc = phrase_df(c, &plan->ph[i], &df);
		/* a phrase in no article selects nothing */
		sel[i] = df > 0 && df <= plan->params.prune_df * (double)narticles;
	}
	if (rc == SQLITE_OK)
		kb__qplan_match(plan, sel);
	free(sel);
	return rc;
}

/* True when a ranks before b: higher score, then lower rowid (ORDER BY score DESC, rowid). */
static bool hit_before(const struct hit *a, const struct hit *b)
{
	return a->score > b->score || (a->score == b->score && a->rowid < b->rowid);
}

/*
 * Runs the MATCH and keeps the limit best rows with a positive score, best
 * first, in hits (an insertion into a sorted array: limit is small). The
 * statement has no ORDER BY: SQLite's sorter would cost more than this.
 */
static int rank_rows(sqlite3_stmt *st, struct hit *hits, size_t limit, size_t *n)
{
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hit h = { sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1) };
		size_t i;

		if (h.score <= 0 || (*n == limit && !hit_before(&h, &hits[limit - 1])))
			continue;
		i = *n < limit ? (*n)++ : limit - 1;
		for (; i > 0 && hit_before(&h, &hits[i - 1]); i--)
			hits[i] = hits[i - 1];
		hits[i] = h;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_plan(struct kb *kb, struct kb_conn *c, struct kb_qplan *plan, int limit, json_t *articles)
{
	struct hit *hits = fl_calloc((size_t)limit, sizeof(*hits));
	sqlite3_stmt *st;
	size_t n = 0, i;
	int rc;

	kb__qplan_top(plan, (size_t)limit);
	plan->dfc = &c->df;
	rc = prepare_once(c->db, &c->rank_st,
			  "SELECT rowid, kb_rank(kb_fts, ?1) FROM kb_fts WHERE kb_fts MATCH ?2");
	if (rc == SQLITE_OK)
		rc = prepare_once(c->db, &c->get_st, "SELECT id, title, body, category, tags_json, language "
				  "FROM kb_doc WHERE rowid = ?1");
	if (rc)
		goto out;
	st = c->rank_st;
	sqlite3_bind_pointer(st, 1, plan, KB_QPLAN_PTR, NULL);
	sqlite3_bind_text(st, 2, plan->match, -1, SQLITE_STATIC);
	rc = rank_rows(st, hits, (size_t)limit, &n);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st); /* the plan and the MATCH text die with this search */
	if (rc)
		goto out;
	for (i = 0; rc == SQLITE_OK && i < n; i++) {
		json_t *item = NULL;

		rc = kb__artcache_item(kb, c->get_st, hits[i].rowid,
				       round4(kb__relevance(plan, hits[i].score)), round4(hits[i].score), &item);
		if (item) {
			kb__coverage(plan, hits[i].rowid, item, i == 0);
			json_array_append_new(articles, item);
		}
	}
out:
	if (rc == SQLITE_OK && plan->rc)
		rc = plan->rc;
	if (rc)
		fl_log(FL_LOG_WARN, "knowledge-base search failed: %s", sqlite3_errmsg(c->db));
	free(hits);
	return kb__sql_err(c->db, rc);
}

/* True when every non-stop term of phrase i is a primary phrase of its concept. */
static bool words_are_primaries(struct kb_qplan *plan, size_t i)
{
	const struct kb_phrase *ph = &plan->ph[i];
	size_t t, nonstop = 0;

	if (!ph->form)
		return false;
	for (t = 0; t < ph->form->nterms; t++) {
		size_t k;

		if (t < 64 && (ph->stopmask >> t) & 1)
			continue;
		if (t >= 64)
			return false;
		nonstop++;
		for (k = 0; k < plan->nph; k++)
			if (plan->ph[k].primary && plan->ph[k].group == ph->group &&
			    !strcmp(plan->ph[k].key, ph->form->terms[t]))
				break;
		if (k == plan->nph)
			return false;
	}
	return nonstop > 0;
}

/*
 * Leaves out of the MATCH expression the phrases that the connection's df
 * cache knows to be in no article (they cannot match, and each costs FTS5 a
 * term lookup per search: a fifth of a ticket's phrases on the bundled
 * articles, mostly synonyms the articles never use), and the customer's
 * multi-word forms whose words are primaries (see KB_OMIT_REDUNDANT). Their
 * df goes into the plan for kb_rank.
 */
static void leave_out(struct kb_conn *c, struct kb_qplan *plan)
{
	size_t i;
	double df;

	for (i = 0; i < plan->nph; i++) {
		enum kb_omit why;

		if (!kb__dfcache_get(&c->df, plan->ph[i].key, &df))
			continue;
		plan->ph[i].df = df;
		plan->ph[i].df_known = true;
		if (df <= 0)
			why = KB_OMIT_ABSENT;
		else if (plan->ph[i].weight == 0 && plan->ph[i].src == SIZE_MAX && !plan->ph[i].primary &&
			 words_are_primaries(plan, i)) /* a weight kb_rank cannot raise (see plan_stats) */
			why = KB_OMIT_REDUNDANT;
		else
			continue;
		plan->omit[i] = (unsigned char)why;
		plan->omitted[why]++;
	}
	if (plan->nph)
		kb__qplan_match(plan, NULL);
}

static void log_plan(const struct kb_qplan *p)
{
	json_t *f = json_object(), *ph = json_array();
	size_t i;

	for (i = 0; i < p->nph; i++)
		json_array_append_new(ph, json_pack("{s:s, s:i, s:f, s:f}", "phrase", p->ph[i].key, "concept",
						    (int)p->ph[i].group, "weight", p->ph[i].weight,
						    "df", p->ph[i].df));
	json_object_set_new(f, "phrases", ph);
	json_object_set_new(f, "left_out_absent", json_integer((json_int_t)p->omitted[KB_OMIT_ABSENT]));
	json_object_set_new(f, "left_out_redundant", json_integer((json_int_t)p->omitted[KB_OMIT_REDUNDANT]));
	fl_logj(FL_LOG_DEBUG, f, "knowledge-base query plan");
	json_decref(f);
}

int kb_search_query(struct kb *kb, const struct kb_query *q, json_t **out)
{
	int64_t t0 = fl_mono_us();
	struct kb_params params;
	struct kb_qplan *plan;
	struct kb_conn *c = NULL;
	json_t *articles = NULL, *unknown = NULL, *parts = NULL;
	struct fl_buf query = FL_BUF_INIT;
	size_t ends[KB_MAX_PARTS], k;
	int rc, limit;

	*out = NULL;
	if (!kb || !q || !q->parts || !q->nparts || q->nparts > KB_MAX_PARTS)
		return KB_EINVAL;
	for (k = 0; k < q->nparts; k++) {
		if (!q->parts[k])
			return KB_EINVAL;
		if (k)
			fl_buf_addch(&query, '\n');
		fl_buf_adds(&query, q->parts[k]);
		ends[k] = query.len;
	}
	if (!query.buf)
		fl_buf_adds(&query, "");
	limit = q->limit <= 0 ? 5 : q->limit > KB_LIMIT_MAX ? KB_LIMIT_MAX : q->limit;
	pthread_mutex_lock(&kb->lock);
	params = kb->params;
	pthread_mutex_unlock(&kb->lock);
	rc = kb__conn_get(kb, &c);
	if (rc) {
		fl_buf_release(&query);
		return rc;
	}
	if (c->df.gen != atomic_load(&kb->gen))
		kb__dfcache_reset(&c->df, atomic_load(&kb->gen));
	if (!c->plan)
		c->plan = kb__qplan_new();
	plan = c->plan;
	kb__qplan_build_parts(plan, c->tok, &kb->words, &params, query.buf, ends, q->nparts);
	plan->language = q->language;
	leave_out(c, plan);
	articles = json_array();
	if (plan->match)
		rc = kb__sql_err(c->db, select_phrases(c, plan, kb_count(kb)));
	if (plan->match && rc == KB_OK) {
		pthread_rwlock_rdlock(&kb->info_lock);
		plan->info = kb->info;
		plan->ninfo = kb->ninfo;
		rc = run_plan(kb, c, plan, limit, articles);
		pthread_rwlock_unlock(&kb->info_lock);
	}
	if (fl_log_enabled(FL_LOG_DEBUG))
		log_plan(plan);
	if (rc == KB_OK) {
		unknown = kb__unknown_words(plan);
		parts = kb__parts(plan);
	}
	kb__qplan_release(plan);
	kb__conn_put(kb, c);
	if (rc) {
		json_decref(articles);
		fl_buf_release(&query);
		return rc;
	}
	*out = json_object();
	json_object_set_new(*out, "query", json_stringn(query.buf, query.len));
	json_object_set_new(*out, "articles_found", json_integer((json_int_t)json_array_size(articles)));
	json_object_set_new(*out, "articles", articles);
	json_object_set_new(*out, "unknown_words", unknown);
	if (q->nparts > 1)
		json_object_set_new(*out, "parts", parts);
	else
		json_decref(parts);
	if (q->language)
		fl_json_set_str(*out, "language", q->language);
	json_object_set_new(*out, "search_time", json_real((double)(fl_mono_us() - t0) / 1e6));
	fl_buf_release(&query);
	return KB_OK;
}

int kb_search(struct kb *kb, const char *query, int limit, json_t **out)
{
	struct kb_query q = { &query, 1, NULL, limit };

	*out = NULL;
	if (!query)
		return KB_EINVAL;
	return kb_search_query(kb, &q, out);
}
