/*
 * The knowledge-base handle: its SQLite database (in memory or a file), the
 * pool of connections that lets several threads search at once, and the
 * article writes (add, replace, remove) that keep the FTS5 index in step.
 *
 * Schema: kb_doc holds each article (its JSON as added, the three fields that
 * are indexed and their lengths in terms); kb_fts is an external-content FTS5
 * table over kb_doc's title, tags and body with our tokenizer; kb_meta records
 * the tokenizer version, and a file index built by another version is
 * re-indexed at open.
 *
 * In memory, every connection of a handle opens the same database through
 * SQLite's memdb VFS ("file:/name?vfs=memdb"), which lets readers run side by
 * side; a file index uses WAL for the same reason. Writing lives in write.c,
 * searching in search.c, scoring in rank.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kb_int.h"
#include "util/util.h"

const char *kb_strerror(int rc)
{
	switch (rc) {
#define KB_STR(name, text) case KB_##name: return text;
		KB_ERRNO_MAP(KB_STR)
#undef KB_STR
	}
	return "unknown error";
}

const char *kb_errname(int rc)
{
	switch (rc) {
#define KB_NAME(name, text) case KB_##name: return "KB_" #name;
		KB_ERRNO_MAP(KB_NAME)
#undef KB_NAME
	}
	return "KB_UNKNOWN";
}

int kb__sql_err(sqlite3 *db, int rc)
{
	(void)db;
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return KB_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return KB_EBUSY;
	default:
		return KB_ESQL;
	}
}

uint64_t kb__fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/*
 * SQLite keeps memory statistics (a global mutex and counters around every
 * allocation) unless told not to before it initializes; nothing in Frontline
 * reads them (sqlite3_memory_used, sqlite3_status, soft heap limits), and a
 * knowledge-base search makes about 450 allocations inside FTS5: the
 * statistics were 6 % of its instructions. This runs when the program is
 * loaded, before any SQLite call; sqlite3_config refuses it harmlessly
 * (SQLITE_MISUSE) if SQLite was initialized some other way first.
 */
__attribute__((constructor)) static void kb_sqlite_no_memstatus(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS kb_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS kb_doc("
	" rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" title TEXT NOT NULL,"
	" tags TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" category TEXT NOT NULL,"
	" tags_json TEXT NOT NULL,"
	" article TEXT NOT NULL,"
	" len_title INTEGER NOT NULL,"
	" len_tags INTEGER NOT NULL,"
	" len_body INTEGER NOT NULL,"
	" title_words INTEGER NOT NULL,"
	" language TEXT NOT NULL DEFAULT '" KB_DEFAULT_LANGUAGE "');"
	"CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5("
	" title, tags, body, content='kb_doc', content_rowid='rowid',"
	" tokenize='" KB_TOKENIZER_NAME "');";

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int conn_open(struct kb *kb, struct kb_conn *c, char **err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc;

	if (!kb->path)
		flags |= SQLITE_OPEN_URI;
	rc = sqlite3_open_v2(kb->uri, &c->db, flags, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, 10000);
	rc = kb__fts5_register(c->db, kb);
	if (rc != SQLITE_OK)
		goto fail;
	if (kb->path && (rc = exec_sql(c->db, "PRAGMA synchronous=NORMAL")) != SQLITE_OK)
		goto fail;
	c->tok = kb__tok_new();
	c->busy = false;
	return KB_OK;
fail:
	if (err)
		*err = fl_asprintf("cannot open knowledge-base index '%s': %s",
				   kb->path ? kb->path : ":memory:",
				   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
	sqlite3_close(c->db);
	c->db = NULL;
	return KB_ESQL;
}

static void conn_close(struct kb_conn *c)
{
	sqlite3_finalize(c->rank_st);
	sqlite3_finalize(c->get_st);
	sqlite3_finalize(c->df_st);
	kb__dfcache_release(&c->df);
	kb__qplan_free(c->plan);
	sqlite3_close(c->db);
	kb__tok_free(c->tok);
	memset(c, 0, sizeof(*c));
}

int kb__conn_get(struct kb *kb, struct kb_conn **out)
{
	size_t i;
	int rc = KB_OK;

	pthread_mutex_lock(&kb->lock);
	for (;;) {
		for (i = 0; i < kb->npool; i++)
			if (!kb->pool[i].busy)
				break;
		if (i < kb->npool)
			break;
		if (kb->npool < KB_POOL_MAX) {
			rc = conn_open(kb, &kb->pool[kb->npool], NULL);
			if (rc)
				break;
			i = kb->npool++;
			break;
		}
		pthread_cond_wait(&kb->idle, &kb->lock);
	}
	if (rc == KB_OK) {
		kb->pool[i].busy = true;
		*out = &kb->pool[i];
	}
	pthread_mutex_unlock(&kb->lock);
	return rc;
}

void kb__conn_put(struct kb *kb, struct kb_conn *c)
{
	pthread_mutex_lock(&kb->lock);
	c->busy = false;
	pthread_cond_signal(&kb->idle);
	pthread_mutex_unlock(&kb->lock);
}

/* Re-indexes a file built with another tokenizer; records the version. */
static int check_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	bool same = false;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT value FROM kb_meta WHERE key = 'tokenizer'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		same = !strcmp((const char *)sqlite3_column_text(st, 0), KB_TOKENIZER_VERSION);
	sqlite3_finalize(st);
	if (same)
		return SQLITE_OK;
	rc = exec_sql(db, "BEGIN IMMEDIATE;"
		      "INSERT INTO kb_fts(kb_fts) VALUES('rebuild');"
		      "INSERT OR REPLACE INTO kb_meta(key, value) VALUES('tokenizer', '"
		      KB_TOKENIZER_VERSION "');"
		      "COMMIT;");
	if (rc != SQLITE_OK)
		exec_sql(db, "ROLLBACK");
	return rc;
}

/* A file index made before articles had a language gets the column (its articles: the default). */
static int add_language(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, "SELECT language FROM kb_doc LIMIT 0", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_finalize(st);
		return SQLITE_OK;
	}
	return exec_sql(db, "ALTER TABLE kb_doc ADD COLUMN language TEXT NOT NULL DEFAULT '"
			KB_DEFAULT_LANGUAGE "'");
}

static int count_articles(sqlite3 *db, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM kb_doc", -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = (size_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int kb_open(const char *index_path, struct kb **out, char **err)
{
	struct kb *kb = fl_calloc(1, sizeof(*kb));
	struct kb_conn *c;
	size_t n = 0;
	int rc = KB_ESQL;

	*out = NULL;
	if (err)
		*err = NULL;
	pthread_mutex_init(&kb->lock, NULL);
	pthread_cond_init(&kb->idle, NULL);
	pthread_rwlock_init(&kb->info_lock, NULL);
	pthread_mutex_init(&kb->art_lock, NULL);
	kb_params_default(&kb->params);
	if (index_path) {
		kb->path = fl_strdup(index_path);
		kb->uri = fl_strdup(index_path);
	} else {
		kb->uri = fl_asprintf("file:/frontline-kb-%016llx?vfs=memdb",
				      (unsigned long long)fl_random_u64());
	}
	c = &kb->pool[0];
	rc = conn_open(kb, c, err);
	if (rc)
		goto out;
	kb->npool = 1;
	kb__words_init(&kb->words, c->tok);
	if (kb->path && exec_sql(c->db, "PRAGMA journal_mode=WAL") != SQLITE_OK)
		goto sqlfail;
	if (exec_sql(c->db, schema_sql) != SQLITE_OK || add_language(c->db) != SQLITE_OK ||
	    check_version(c->db) != SQLITE_OK ||
	    count_articles(c->db, &n) != SQLITE_OK || kb__docinfo_load(kb, c->db) != SQLITE_OK)
		goto sqlfail;
	atomic_store(&kb->count, n);
	*out = kb;
	kb = NULL;
	rc = KB_OK;
	goto out;
sqlfail:
	rc = kb__sql_err(c->db, sqlite3_errcode(c->db));
	if (err)
		*err = fl_asprintf("cannot open knowledge-base index '%s': %s",
				   index_path ? index_path : ":memory:", sqlite3_errmsg(c->db));
out:
	kb_close(kb);
	return rc;
}

void kb_close(struct kb *kb)
{
	size_t i;

	if (!kb)
		return;
	/* the memdb database lives as long as its last connection: close it last */
	for (i = kb->npool; i-- > 0;)
		conn_close(&kb->pool[i]);
	kb__words_release(&kb->words);
	free(kb->info);
	kb__artcache_clear(kb);
	pthread_mutex_destroy(&kb->art_lock);
	pthread_rwlock_destroy(&kb->info_lock);
	pthread_cond_destroy(&kb->idle);
	pthread_mutex_destroy(&kb->lock);
	free(kb->path);
	free(kb->uri);
	free(kb);
}

size_t kb_count(const struct kb *kb)
{
	return kb ? atomic_load(&((struct kb *)kb)->count) : 0;
}

/* ---- articles ---- */

int kb_article_check(const json_t *a, char **err)
{
	const char *bad = NULL;
	const json_t *v;
	size_t i;

	if (err)
		*err = NULL;
	if (!json_is_object(a)) {
		bad = "article is not a JSON object";
		goto out;
	}
	v = json_object_get(a, "id");
	if (!json_is_string(v) || !json_string_length(v)) {
		bad = "article 'id' must be a non-empty string";
		goto out;
	}
	v = json_object_get(a, "title");
	if (!json_is_string(v) || !json_string_length(v)) {
		bad = "article 'title' must be a non-empty string";
		goto out;
	}
	v = json_object_get(a, "content");
	if (v && !json_is_string(v)) {
		bad = "article 'content' must be a string";
		goto out;
	}
	v = json_object_get(a, "category");
	if (v && !json_is_string(v) && !json_is_null(v)) {
		bad = "article 'category' must be a string";
		goto out;
	}
	v = json_object_get(a, "language");
	if (v && !json_is_null(v) && !kb_language_valid(json_string_value(v))) {
		bad = "article 'language' must be a language tag such as \"en\" or \"pt-BR\"";
		goto out;
	}
	v = json_object_get(a, "tags");
	if (v && !json_is_null(v)) {
		if (!json_is_array(v)) {
			bad = "article 'tags' must be an array of strings";
			goto out;
		}
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i))) {
				bad = "article 'tags' must be an array of strings";
				goto out;
			}
	}
out:
	if (bad && err) {
		const char *id = json_is_object(a) ? fl_json_str(a, "id", NULL) : NULL;

		*err = id && *id ? fl_asprintf("%s (article '%s')", bad, id) : fl_strdup(bad);
	}
	return bad ? KB_EINVAL : KB_OK;
}

int kb_get(struct kb *kb, const char *id, json_t **out)
{
	struct kb_conn *c = NULL;
	sqlite3_stmt *st = NULL;
	int rc, src;

	*out = NULL;
	if (!kb || !id)
		return KB_EINVAL;
	rc = kb__conn_get(kb, &c);
	if (rc)
		return rc;
	src = sqlite3_prepare_v2(c->db, "SELECT article FROM kb_doc WHERE id = ?1", -1, &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		src = sqlite3_step(st);
	}
	if (src == SQLITE_ROW) {
		*out = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		rc = *out ? KB_OK : KB_ESQL;
	} else {
		rc = src == SQLITE_DONE ? KB_ENOTFOUND : kb__sql_err(c->db, src);
	}
	sqlite3_finalize(st);
	kb__conn_put(kb, c);
	return rc;
}
