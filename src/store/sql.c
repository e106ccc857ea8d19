/*
 * The SQL backends' driver, written once over the dialect seam (dialect.h):
 * the shared SQL's rewriting per dialect, the per-connection statement cache
 * (keyed by the shared text, so a statement is rewritten and prepared once
 * per connection), the binding format, running statements and reading their
 * rows, and transactions that nest as savepoints. The engines' own calls
 * are the dialect's (sqlite/sqlite.c, postgres/postgres.c); the verbs
 * written on this are in tickets.c, records.c, queue.c, mail.c and
 * service.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dialect.h"

void store__sql_init(struct store__sql *c, const struct store__dialect *d)
{
	c->d = d;
}

/* ---- rewriting ---- */

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_word(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

char *store__sql_rewrite(const struct store__dialect *d, const char *sql)
{
	static const char tail[] = " FOR UPDATE";
	struct fl_buf b = FL_BUF_INIT;
	const char *p = sql;
	long max = 0;
	size_t n;

	while (*p) {
		if (*p == '\'' || *p == '"') {
			/* a string or a quoted name, '' and "" inside: copied as it is */
			char q = *p;

			fl_buf_addch(&b, *p++);
			while (*p && !(*p == q && p[1] != q)) {
				if (*p == q)
					fl_buf_addch(&b, *p++);
				fl_buf_addch(&b, *p++);
			}
			if (*p)
				fl_buf_addch(&b, *p++);
		} else if (*p == '?') {
			const char *num = ++p;
			long k;

			while (is_digit(*p))
				p++;
			k = p > num ? strtol(num, NULL, 10) : max + 1;
			if (k > max)
				max = k;
			if (d->dollar_params)
				fl_buf_addf(&b, "$%ld", k);
			else
				fl_buf_addf(&b, "?%.*s", (int)(p - num), num);
		} else if (p[0] == ':' && p[1] == ':' && !d->casts) {
			for (p += 2; is_word(*p); p++)
				;
		} else {
			fl_buf_addch(&b, *p++);
		}
	}
	n = sizeof(tail) - 1;
	if (!d->for_update && b.len >= n && !strcmp(b.buf + b.len - n, tail))
		b.buf[b.len -= n] = '\0';
	return fl_buf_detach(&b, NULL);
}

/* ---- binding ---- */

int store__sql_vals(struct store__val *v, const char *fmt, va_list ap)
{
	int n;

	for (n = 0; fmt && fmt[n]; n++) {
		struct store__val *x = &v[n];

		if (n == STORE__MAX_PARAMS)
			fl_die("store: too many parameters (over %d)", STORE__MAX_PARAMS);
		/* only the fields of the value's kind are read */
		x->null = false;
		switch (fmt[n]) {
		case 't':
			x->kind = 't';
			x->s = va_arg(ap, const char *);
			x->null = !x->s;
			break;
		case 'i':
		case 'j':
			x->kind = 'i';
			x->i = va_arg(ap, int64_t);
			x->null = fmt[n] == 'j' && x->i < 0;
			break;
		case 'd':
		case 'e':
			x->kind = 'd';
			x->d = va_arg(ap, double);
			x->null = fmt[n] == 'e' && x->d < 0;
			break;
		case 'b':
			x->kind = 'b';
			x->i = va_arg(ap, int) ? 1 : 0;
			break;
		case 'x':
			x->kind = 'x';
			x->p = va_arg(ap, const void *);
			x->n = va_arg(ap, size_t);
			break;
		default:
			fl_die("store: bad bind format '%c'", fmt[n]);
		}
	}
	return n;
}

/* ---- the statement cache ---- */

/*
 * The cache's key is the whole text, compared with strcmp on a hit; this
 * hash only spreads the texts over the table. Eight bytes a step: a text
 * is hashed at every statement run, and column lists make them long.
 */
static uint64_t hash_sql(const char *s)
{
	size_t n = strlen(s), i;
	uint64_t h = 1469598103934665603ULL ^ n, w;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 32);
}

static void cache_grow(struct store__sql *c)
{
	struct store__sql_cached *old = c->cache;
	size_t n = c->cache_size, i;

	c->cache_size = n ? n * 2 : 64;
	c->cache = fl_calloc(c->cache_size, sizeof(*c->cache));
	for (i = 0; i < n; i++) {
		size_t j;

		if (!old[i].sql)
			continue;
		for (j = old[i].hash & (c->cache_size - 1); c->cache[j].sql; j = (j + 1) & (c->cache_size - 1))
			;
		c->cache[j] = old[i];
	}
	free(old);
}

void store__sql_cache_clear(struct store__sql *c)
{
	size_t i;

	for (i = 0; i < c->cache_size; i++) {
		if (c->cache[i].sql) {
			c->d->finalize(c, c->cache[i].stmt);
			free(c->cache[i].sql);
		}
	}
	free(c->cache);
	c->cache = NULL;
	c->ncache = c->cache_size = 0;
}

/* The prepared statement of the shared text sql, prepared on first use. */
static int prepared(struct store__sql *c, const char *sql, void **stmt)
{
	uint64_t h = hash_sql(sql);
	char *text;
	size_t j;
	int rc;

	if (c->ncache * 2 >= c->cache_size)
		cache_grow(c);
	for (j = h & (c->cache_size - 1); c->cache[j].sql; j = (j + 1) & (c->cache_size - 1)) {
		if (c->cache[j].hash == h && !strcmp(c->cache[j].sql, sql)) {
			*stmt = c->cache[j].stmt;
			return STORE_OK;
		}
	}
	text = store__sql_rewrite(c->d, sql);
	rc = c->d->prepare(c, text, stmt);
	free(text);
	if (rc)
		return rc;
	c->cache[j].sql = fl_strdup(sql);
	c->cache[j].hash = h;
	c->cache[j].stmt = *stmt;
	c->ncache++;
	return STORE_OK;
}

/* ---- running statements ---- */

int store__sql_query_vals(struct store__sql *c, struct store__cur *cur, const char *sql,
			  const struct store__val *v, int n)
{
	const struct store__dialect *d = c->d;
	bool guard;
	void *stmt;
	int rc;

	memset(cur, 0, sizeof(*cur));
	if (d->ready && (rc = d->ready(c)))
		return rc;
	/*
	 * In the caller's transaction, a failing statement must not doom the
	 * statements before it (as on SQLite): a savepoint of its own.
	 * Operations of several statements have one already (tx_begin).
	 */
	guard = d->stmt_aborts_tx && c->base.user_tx && c->depth == 0;
	if (guard && (rc = d->control(c, "SAVEPOINT st")))
		return rc;
	rc = prepared(c, sql, &stmt);
	if (!rc)
		rc = d->run(c, stmt, v, n, cur);
	if (guard && rc) {
		d->quiet(c, "ROLLBACK TO SAVEPOINT st");
		d->quiet(c, "RELEASE SAVEPOINT st");
	} else if (guard && (rc = d->control(c, "RELEASE SAVEPOINT st"))) {
		d->done(c, cur);
	}
	return rc;
}

int store__sql_queryv(struct store__sql *c, struct store__cur *cur, const char *sql,
		      const char *fmt, va_list ap)
{
	struct store__val v[STORE__MAX_PARAMS];
	int n = store__sql_vals(v, fmt, ap);

	return store__sql_query_vals(c, cur, sql, v, n);
}

int store__sql_query(struct store__sql *c, struct store__cur *cur, const char *sql,
		     const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = store__sql_queryv(c, cur, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int store__sql_step(struct store__sql *c, struct store__cur *cur)
{
	return c->d->step(c, cur);
}

void store__sql_done(struct store__sql *c, struct store__cur *cur)
{
	c->d->done(c, cur);
}

/*
 * Runs sql to its end (*changes, when not NULL: the rows it changed), or,
 * with first, to its first row only (*first: that row's first column;
 * ENOTFOUND, not recorded, without a row).
 */
static int run_v(struct store__sql *c, int *changes, int64_t *first, const char *sql, const char *fmt,
		 va_list ap)
{
	struct store__cur cur;
	int rc = store__sql_queryv(c, &cur, sql, fmt, ap);

	if (rc)
		return rc;
	if (first) {
		rc = c->d->step(c, &cur);
		if (rc > 0)
			*first = cur.row.ops->i64(&cur.row, 0);
	} else {
		while ((rc = c->d->step(c, &cur)) > 0)
			;
		if (changes)
			*changes = c->d->changes(c, &cur);
	}
	c->d->done(c, &cur);
	return rc > 0 ? STORE_OK : rc == 0 ? (first ? STORE_ENOTFOUND : STORE_OK) : -rc;
}

int store__sql_exec(struct store__sql *c, int *changes, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = run_v(c, changes, NULL, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int store__sql_int(struct store__sql *c, int64_t *out, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = run_v(c, NULL, out, sql, fmt, ap);
	va_end(ap);
	return rc;
}

static int rows_v(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t **arr,
		  bool one, const char *sql, const char *fmt, va_list ap)
{
	struct store__cur cur;
	int rc, n = 0;

	rc = store__sql_queryv(c, &cur, sql, fmt, ap);
	if (rc)
		return rc;
	if (!*arr && !one)
		*arr = json_array();
	while ((rc = c->d->step(c, &cur)) > 0) {
		if (one) {
			*arr = decode(&cur.row);
			n++;
			break;
		}
		json_array_append_new(*arr, decode(&cur.row));
	}
	c->d->done(c, &cur);
	if (rc < 0)
		return -rc;
	return one && !n ? STORE_ENOTFOUND : STORE_OK;
}

int store__sql_rows(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t **arr,
		    const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rows_v(c, decode, arr, false, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int store__sql_one(struct store__sql *c, json_t *(*decode)(const struct store__row *), json_t **out,
		   const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	*out = NULL;
	va_start(ap, fmt);
	rc = rows_v(c, decode, out, true, sql, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- transactions ---- */

int store__sql_tx_begin(struct store__sql *c, bool write)
{
	const struct store__dialect *d = c->d;
	int rc;

	/*
	 * A connection lost since the last statement reads as "not idle": get a
	 * new one first, or the begin below would be taken for a nested one and
	 * send SAVEPOINT outside any transaction.
	 */
	if (c->depth == 0 && d->ready && (rc = d->ready(c)))
		return rc;
	if (c->depth == 0 && d->state(c) == STORE__TX_NONE) {
		if (d->forget)
			d->forget(c);
		rc = d->control(c, write ? d->begin_write : "BEGIN");
		if (rc)
			return rc;
		c->own_tx = true;
	} else {
		rc = d->control(c, "SAVEPOINT sp");
		if (rc)
			return rc;
	}
	c->depth++;
	return STORE_OK;
}

int store__sql_tx_begin_flat(struct store__sql *c)
{
	if (c->depth == 0 && c->d->state(c) == STORE__TX_NONE)
		return store__sql_tx_begin(c, true);
	if (c->depth >= 32)
		return store__fail(&c->base, STORE_EINTERNAL, "transactions nested too deep");
	c->flat |= 1u << c->depth;
	c->depth++;
	return STORE_OK;
}

int store__sql_tx_end(struct store__sql *c, int rc)
{
	const struct store__dialect *d = c->d;
	enum store__tx_state s;

	c->depth--;
	if (c->flat & (1u << c->depth)) {
		/* No savepoint: an error dooms the caller's transaction (store_commit refuses it). */
		c->flat &= ~(1u << c->depth);
		if (rc)
			c->base.doomed = true;
		return rc;
	}
	if (c->depth == 0 && c->own_tx) {
		c->own_tx = false;
		if (rc == STORE_OK && d->flush)
			rc = d->flush(c);
		if (rc == STORE_OK)
			rc = d->control(c, "COMMIT");
		if (rc && d->state(c) != STORE__TX_NONE)
			d->quiet(c, "ROLLBACK");
		if (d->forget)
			d->forget(c);
		return rc;
	}
	s = d->state(c);
	if (s == STORE__TX_LOST)
		return rc ? rc : d->lost(c);
	if (s == STORE__TX_NONE)
		return rc ? rc : store__fail(&c->base, STORE_EIO, "the transaction was rolled back");
	if (rc == STORE_OK)
		return d->control(c, "RELEASE SAVEPOINT sp");
	d->quiet(c, "ROLLBACK TO SAVEPOINT sp");
	d->quiet(c, "RELEASE SAVEPOINT sp");
	return rc;
}

int store__sql_read_begin(struct store__sql *c)
{
	return c->d->read_tx ? store__sql_tx_begin(c, false) : STORE_OK;
}

int store__sql_read_end(struct store__sql *c, int rc)
{
	return c->d->read_tx ? store__sql_tx_end(c, rc) : rc;
}

bool store__sql_lazy_begin(struct store__sql *c)
{
	return c->d->lazy_begin ? c->d->lazy_begin(c) : false;
}

void store__sql_lazy_end(struct store__sql *c, bool lazy)
{
	if (lazy)
		c->d->lazy_end(c, lazy);
}

/* ---- the schema ---- */

int store__sql_migrate(struct store *st, int *from, int *to)
{
	struct store__sql *c = STORE__SQL(st);
	const struct store__dialect *d = c->d;
	bool foreign = false;
	int rc, v = 0;

	if (st->user_tx)
		return store__fail(st, STORE_EINVAL, "cannot migrate inside a transaction");
	rc = store__sql_tx_begin(c, true);
	if (rc)
		return rc;
	/* One migrator at a time across replicas; the others then find it done. */
	if (d->migrate_lock)
		rc = store__sql_exec(c, NULL, d->migrate_lock, "i", (int64_t)STORE__SQLITE_APP_ID);
	if (!rc)
		rc = d->schema_read(c, &v, &foreign);
	if (!rc && foreign)
		rc = store__fail(st, STORE_ECORRUPT, "not a Frontline database");
	if (!rc && v > STORE__SCHEMA_VERSION) {
		char *detail = store__version_detail(v);

		rc = store__fail(st, STORE_EVERSION, "%s", detail);
		free(detail);
	}
	if (!rc && v < STORE__SCHEMA_VERSION)
		rc = d->schema_apply(c, v);
	rc = store__sql_tx_end(c, rc);
	if (from)
		*from = v;
	if (to)
		*to = rc ? v : STORE__SCHEMA_VERSION;
	if (!rc && v < STORE__SCHEMA_VERSION)
		fl_log(FL_LOG_INFO, "store: migrated '%s' from schema version %d to %d", st->url, v,
		       STORE__SCHEMA_VERSION);
	return rc;
}

int store__sql_schema_version(struct store *st, int *version)
{
	return STORE__SQL(st)->d->schema_read(STORE__SQL(st), version, NULL);
}

int store__sql_ping(struct store *st)
{
	int rc, v = 0;

	rc = store__sql_schema_version(st, &v);
	if (rc == STORE_OK && v != STORE__SCHEMA_VERSION)
		rc = store__fail(st, STORE_EVERSION, "schema version %d, this build needs %d%s", v,
				 STORE__SCHEMA_VERSION, v < STORE__SCHEMA_VERSION ? ": run 'frontline migrate'" : "");
	return rc;
}

/* ---- the caller's transaction (store_begin .. store_commit) ---- */

int store__sql_begin(struct store *st, bool immediate)
{
	struct store__sql *c = STORE__SQL(st);

	if (c->d->forget)
		c->d->forget(c);
	return c->d->control(c, immediate ? c->d->begin_write : "BEGIN");
}

int store__sql_commit(struct store *st)
{
	struct store__sql *c = STORE__SQL(st);
	const struct store__dialect *d = c->d;
	enum store__tx_state s = d->state(c);
	int rc;

	if (s == STORE__TX_NONE || s == STORE__TX_ABORTED) {
		if (s == STORE__TX_ABORTED)
			d->quiet(c, "ROLLBACK");
		if (d->forget)
			d->forget(c);
		return store__fail(st, STORE_EIO, "the transaction was rolled back by an earlier error");
	}
	rc = d->flush ? d->flush(c) : STORE_OK;
	if (!rc)
		rc = d->control(c, "COMMIT");
	if (rc && d->state(c) != STORE__TX_NONE)
		d->quiet(c, "ROLLBACK");
	if (d->forget)
		d->forget(c);
	return rc;
}

void store__sql_rollback(struct store *st)
{
	struct store__sql *c = STORE__SQL(st);
	enum store__tx_state s = c->d->state(c);

	if (s == STORE__TX_OPEN || s == STORE__TX_ABORTED)
		c->d->quiet(c, "ROLLBACK");
	if (c->d->forget)
		c->d->forget(c);
	c->depth = 0;
	c->flat = 0;
	c->own_tx = false;
}
