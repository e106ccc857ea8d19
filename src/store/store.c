/*
 * The front of the store: URL parsing and backend lookup, error names and
 * messages, and one wrapper per public function. The wrappers are the only
 * callers of the ops (SQLite's os.c): they check arguments, clear out
 * parameters, keep the handle's error message, log failures at debug level,
 * and inject faults for tests. Backends live in sqlite/ and postgres/; what
 * they share (validation, row decoding) is in input.c and rows.c; group
 * commit, built on the public functions, is in group.c. More wrappers are
 * in store_console.c, store_service.c, store_sla.c and store_assign.c.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wrap.h"

static const struct store_ops *const backends[] = {
	&store__sqlite_ops,
	&store__postgres_ops,
};

/* ---- errors ---- */

const char *store_strerror(int rc)
{
	switch (rc) {
#define STORE_TEXT(name, text) case STORE_##name: return text;
		STORE_ERRNO_MAP(STORE_TEXT)
#undef STORE_TEXT
	}
	return "unknown store error";
}

const char *store_errname(int rc)
{
	switch (rc) {
#define STORE_NAME(name, text) case STORE_##name: return "STORE_" #name;
		STORE_ERRNO_MAP(STORE_NAME)
#undef STORE_NAME
	}
	return "STORE_UNKNOWN";
}

bool store_err_is_transient(int rc)
{
	return rc == STORE_EBUSY || rc == STORE_ECONNECT || rc == STORE_EFULL || rc == STORE_EIO;
}

static bool environmental(int rc)
{
	switch (rc) {
	case STORE_EBUSY: case STORE_ECONNECT: case STORE_EIO: case STORE_EFULL:
	case STORE_EREADONLY: case STORE_ECORRUPT: case STORE_EVERSION: case STORE_EINTERNAL:
		return true;
	}
	return false;
}

char *store__open_message(const char *masked, int rc, const char *detail)
{
	return fl_asprintf("cannot open '%s': %s", masked, detail && *detail ? detail : store_strerror(rc));
}

int store__fail(struct store *st, int rc, const char *fmt, ...)
{
	char *detail;
	va_list ap;

	va_start(ap, fmt);
	detail = fl_vasprintf(fmt, ap);
	va_end(ap);
	fl_buf_reset(&st->err);
	if (environmental(rc))
		fl_buf_addf(&st->err, "cannot %s '%s': %s", st->op ? st->op : "use", st->url, detail);
	else
		fl_buf_adds(&st->err, detail);
	free(detail);
	return rc;
}

void store__clear_error(struct store *st)
{
	fl_buf_reset(&st->err);
}

char *store__version_detail(int v)
{
	return fl_asprintf("the database has schema version %d, newer than this build's %d: "
			   "upgrade Frontline (or restore a backup made before the upgrade)",
			   v, STORE__SCHEMA_VERSION);
}

static int64_t wall_clock(void *arg)
{
	(void)arg;
	return fl_wall_us();
}

int64_t store__now(struct store *st)
{
	return st->now ? st->now(st->now_arg) : fl_wall_us();
}

/* ---- opening ---- */

static const struct store_ops *backend_for(const char *url)
{
	const char *name = NULL;
	size_t i;

	if (fl_str_has_prefix(url, "sqlite:"))
		name = "sqlite";
	else if (fl_str_has_prefix(url, "postgres://") || fl_str_has_prefix(url, "postgresql://") ||
		 (!strstr(url, "://") && strchr(url, '=')))
		name = "postgres";
	for (i = 0; name && i < FL_ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

static int open_url(const char *url, bool migrate, bool defer_sync, bool must_exist, struct store **out,
		    char **err)
{
	const struct store_ops *ops;
	struct store_open_args a;
	char *masked, *msg = NULL;
	int rc;

	*out = NULL;
	if (err)
		*err = NULL;
	masked = fl_mask_url(url);
	ops = url && *url ? backend_for(url) : NULL;
	if (!ops) {
		rc = STORE_EURL;
		msg = fl_asprintf("unsupported store URL '%s' (use sqlite:///path, sqlite::memory:, "
				  "postgres://... or a libpq connection string)", masked);
		goto out;
	}
	assert(ops->version >= 1);
	a.url = url;
	a.masked = masked;
	a.migrate = migrate;
	a.defer_sync = defer_sync;
	a.must_exist = must_exist;
	rc = ops->open(&a, out, &msg);
	if (rc == STORE_OK) {
		(*out)->ops = ops;
		(*out)->now = wall_clock;
	}
out:
	if (rc && msg)
		fl_log(FL_LOG_DEBUG, "store: %s", msg);
	if (err)
		*err = msg;
	else
		free(msg);
	free(masked);
	return rc;
}

int store_open(const char *url, struct store **out, char **err)
{
	assert(out);
	return open_url(url, true, false, false, out, err);
}

int store_open_nomigrate(const char *url, struct store **out, char **err)
{
	assert(out);
	return open_url(url, false, false, false, out, err);
}

int store_open_existing(const char *url, struct store **out, char **err)
{
	assert(out);
	return open_url(url, true, false, true, out, err);
}

int store__open_deferred(const char *url, struct store **out, char **err)
{
	assert(out);
	return open_url(url, true, true, false, out, err);
}

int store__sync(struct store *st)
{
	assert(st && st->ops);
	if (st->ops->version < 4 || !st->ops->sync)
		return STORE_OK;
	return st->ops->sync(st);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->user_tx)
		st->ops->rollback(st);
	free(st->fault.op);
	fl_buf_release(&st->err);
	free(st->url);
	st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
	return st->ops->name;
}

const char *store_errmsg(const struct store *st)
{
	return st ? st->err.buf : "";
}

const char *store_url(const struct store *st)
{
	return st->url;
}

void store_set_clock(struct store *st, int64_t (*now_us)(void *arg), void *arg)
{
	st->now = now_us ? now_us : wall_clock;
	st->now_arg = now_us ? arg : NULL;
}

void store_fault_inject(struct store *st, const char *op, int nth, int rc)
{
	free(st->fault.op);
	st->fault.op = rc && op && nth > 0 ? fl_strdup(op) : NULL;
	st->fault.countdown = nth;
	st->fault.rc = rc;
}

bool store_in_transaction(const struct store *st)
{
	return st->user_tx;
}

int store_schema_latest(void)
{
	return STORE__SCHEMA_VERSION;
}

/* ---- the wrappers (WRAP and its helpers: store_int.h) ---- */

int store__enter(struct store *st, const char *fn, const char *verb)
{
	assert(st && st->ops);
	fl_buf_reset(&st->err);
	st->op = verb;
	if (st->fault.op && !strcmp(st->fault.op, fn) && --st->fault.countdown <= 0) {
		int rc = st->fault.rc;

		free(st->fault.op);
		st->fault.op = NULL;
		return store__fail(st, rc, "injected fault in %s", fn);
	}
	return STORE_OK;
}

int store__leave(struct store *st, const char *fn, int rc)
{
	if (rc && !st->err.len)
		store__fail(st, rc, "%s", store_strerror(rc));
	if (rc && fl_log_enabled(FL_LOG_DEBUG))
		fl_log(FL_LOG_DEBUG, "store: %s: %s: %s", fn, store_errname(rc), st->err.buf);
	st->op = NULL;
	return rc;
}

int store__need(struct store *st, const void *p, const char *what)
{
	return p ? STORE_OK : store__fail(st, STORE_EINVAL, "%s is required", what);
}


int store_migrate(struct store *st, int *from, int *to)
{
	WRAP(store_migrate, "migrate", STORE_OK, migrate(st, from, to));
}

int store_schema_version(struct store *st, int *version)
{
	assert(version);
	WRAP(store_schema_version, RD, STORE_OK, schema_version(st, version));
}

int store_ping(struct store *st)
{
	WRAP(store_ping, "reach", STORE_OK, ping(st));
}

static int begin(struct store *st, const char *fn, bool immediate)
{
	int rc = store__enter(st, fn, "begin a transaction in");

	if (rc == STORE_OK && st->user_tx)
		rc = store__fail(st, STORE_EINVAL, "a transaction is already open (not nestable)");
	if (rc == STORE_OK)
		rc = st->ops->begin(st, immediate);
	if (rc == STORE_OK)
		st->user_tx = true;
	return store__leave(st, fn, rc);
}

int store_defer_sync(struct store *st, bool on)
{
	int rc = store__enter(st, "store_defer_sync", "sync");

	if (rc == STORE_OK && st->user_tx)
		rc = store__fail(st, STORE_EINVAL, "a transaction is open");
	if (rc == STORE_OK && st->ops->version >= 5 && st->ops->defer_sync)
		rc = st->ops->defer_sync(st, on);
	return store__leave(st, "store_defer_sync", rc);
}

int store_begin(struct store *st)
{
	return begin(st, "store_begin", false);
}

int store_begin_immediate(struct store *st)
{
	return begin(st, "store_begin_immediate", true);
}

int store_commit(struct store *st)
{
	int rc = store__enter(st, "store_commit", "commit to");

	if (rc == STORE_OK && !st->user_tx) {
		rc = store__fail(st, STORE_EINVAL, "no transaction is open");
	} else if (rc == STORE_OK && st->doomed) {
		/* Some writes of a failed operation are in it (see store_ticket_intake). */
		st->ops->rollback(st);
		rc = store__fail(st, STORE_EIO, "the transaction was rolled back: an operation inside it "
				 "failed midway");
	} else if (rc == STORE_OK) {
		rc = st->ops->commit(st);
	} else {
		st->ops->rollback(st);
	}
	st->user_tx = false;
	st->doomed = false;
	return store__leave(st, "store_commit", rc);
}

void store_rollback(struct store *st)
{
	assert(st);
	if (st->user_tx)
		st->ops->rollback(st);
	st->user_tx = false;
	st->doomed = false;
}

int store_ticket_intake(struct store *st, const json_t *ticket, const char *job_kind,
			const char *idem_key, json_t **out, bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_ticket_intake, WR, need(st, ticket, "a ticket"),
	     ticket_intake(st, ticket, job_kind, idem_key, out, created));
}

int store_ticket_get(struct store *st, const char *id, bool with_thread, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_ticket_get, RD, need(st, id, "a ticket id"), ticket_get(st, id, with_thread, out));
}

int store_ticket_list(struct store *st, const struct store_ticket_filter *f, json_t **out)
{
	static const struct store_ticket_filter none;

	assert(out);
	*out = NULL;
	WRAP(store_ticket_list, RD, f && (f->limit < 0 || f->limit > 500) ?
	     store__fail(st, STORE_EINVAL, "limit must be from 1 to 500") : STORE_OK,
	     ticket_list(st, f ? f : &none, out));
}

int store_ticket_update(struct store *st, const char *id, int64_t expected_version,
			const json_t *fields, const char *actor, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_ticket_update, WR,
	     OR(need(st, id, "a ticket id"), need(st, fields, "ticket fields")),
	     ticket_update(st, id, expected_version, fields, actor, out));
}

int store_ticket_import(struct store *st, const json_t *tickets, size_t *imported)
{
	if (imported)
		*imported = 0;
	WRAP(store_ticket_import, WR, json_is_array(tickets) ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "tickets must be a JSON array"),
	     ticket_import(st, tickets, imported));
}

int store_message_add(struct store *st, const char *ticket_id, const json_t *msg,
		      json_t **out, bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_message_add, WR, OR(need(st, ticket_id, "a ticket id"), need(st, msg, "a message")),
	     message_add(st, ticket_id, msg, out, created));
}

int store_message_list(struct store *st, const char *ticket_id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_message_list, RD, need(st, ticket_id, "a ticket id"), message_list(st, ticket_id, out));
}

int store_message_find_by_email_id(struct store *st, const char *message_id, json_t **ticket)
{
	assert(ticket);
	*ticket = NULL;
	WRAP(store_message_find_by_email_id, RD, need(st, message_id, "a Message-ID"),
	     message_find_by_email_id(st, message_id, ticket));
}

int store_customer_get(struct store *st, const char *id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_customer_get, RD, need(st, id, "a customer id"), customer_get(st, id, out));
}

int store_customer_find_by_email(struct store *st, const char *email, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_customer_find_by_email, RD, need(st, email, "an email address"),
	     customer_find_by_email(st, email, out));
}

int store_customer_upsert(struct store *st, const json_t *customer)
{
	WRAP(store_customer_upsert, WR, need(st, customer, "a customer"), customer_upsert(st, customer));
}

int store_customer_update_metrics(struct store *st, const char *id, double satisfaction)
{
	WRAP(store_customer_update_metrics, WR,
	     OR(need(st, id, "a customer id"), (satisfaction > 1 || satisfaction != satisfaction ?
	     store__fail(st, STORE_EINVAL, "satisfaction must be from 0 to 1 (negative: none)") : STORE_OK)),
	     customer_update_metrics(st, id, satisfaction));
}

int store_customer_export(struct store *st, const char *id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_customer_export, RD, need(st, id, "a customer id"), customer_export(st, id, out));
}

int store_customer_erase(struct store *st, const char *id, const char *actor, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_customer_erase, WR, OR(need(st, id, "a customer id"), need(st, actor, "who erases")),
	     customer_erase(st, id, actor, out));
}

int store_customer_list(struct store *st, int limit, int offset, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_customer_list, RD, offset < 0 ? store__fail(st, STORE_EINVAL, "offset must be >= 0") :
	     STORE_OK, customer_list(st, store__clamp_limit(limit, 100, 1000), offset, out));
}

int store_kb_upsert(struct store *st, const json_t *article)
{
	WRAP(store_kb_upsert, WR, need(st, article, "an article"), kb_upsert(st, article));
}

int store_kb_get(struct store *st, const char *id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_kb_get, RD, need(st, id, "an article id"), kb_get(st, id, out));
}

int store_kb_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_kb_list, RD, STORE_OK, kb_list(st, out));
}

int store_kb_delete(struct store *st, const char *id)
{
	WRAP(store_kb_delete, WR, need(st, id, "an article id"), kb_delete(st, id));
}

int store_escalation_open(struct store *st, const char *ticket_id, const char *priority,
			  const char *department, const json_t *package, json_t **out,
			  bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_escalation_open, WR,
	     OR(need(st, ticket_id, "a ticket id"), (store__escalation_rank(priority) < 0 ?
	     store__fail(st, STORE_EINVAL, "invalid escalation priority '%s' (use low, medium, high or critical)",
			 priority ? priority : "(null)") :
	     (package && !json_is_object(package) ?
	      store__fail(st, STORE_EINVAL, "the escalation package must be a JSON object") : STORE_OK))),
	     escalation_open(st, ticket_id, priority, department, package, out, created));
}

int store_escalation_claim(struct store *st, int64_t id, const char *agent, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_escalation_claim, WR, need(st, agent, "an agent"), escalation_claim(st, id, agent, out));
}

int store_escalation_release(struct store *st, int64_t id, const char *agent, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_escalation_release, WR, need(st, agent, "an agent"),
	     escalation_release(st, id, agent, out));
}

int store_escalation_close(struct store *st, int64_t id, const char *resolution, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_escalation_close, WR, STORE_OK, escalation_close(st, id, resolution, out));
}

int store_escalation_get(struct store *st, int64_t id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_escalation_get, RD, STORE_OK, escalation_get(st, id, out));
}

int store_escalation_list(struct store *st, const char *status, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_escalation_list, RD, STORE_OK,
	     escalation_list(st, status, store__clamp_limit(limit, 100, 1000), out));
}

int store_event_append(struct store *st, const char *ticket_id, const char *type,
		       const char *actor, const json_t *data)
{
	WRAP(store_event_append, WR, OR(need(st, type, "an event type"),
	     (data && !json_is_object(data) ? store__fail(st, STORE_EINVAL, "event data must be a JSON object") :
	      STORE_OK)), event_append(st, ticket_id, type, actor, data));
}

int store_event_list(struct store *st, const char *ticket_id, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_event_list, RD, STORE_OK,
	     event_list(st, ticket_id, store__clamp_limit(limit, ticket_id ? 10000 : 100, 10000), out));
}

int store_outbox_enqueue(struct store *st, const char *channel, const char *target,
			 const json_t *payload, const char *dedupe_key, bool *created)
{
	if (created)
		*created = false;
	WRAP(store_outbox_enqueue, WR, OR(need(st, channel, "a channel"), OR(need(st, target, "a target"),
	     (payload && !json_is_object(payload) ?
	      store__fail(st, STORE_EINVAL, "the payload must be a JSON object") : STORE_OK))),
	     outbox_enqueue(st, channel, target, payload, dedupe_key, created));
}

int store_outbox_claim(struct store *st, const char *owner, int max, int lease_s, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_outbox_claim, WR, OR(need(st, owner, "an owner"), (max < 1 || lease_s < 1 ?
	     store__fail(st, STORE_EINVAL, "max and lease_s must be >= 1") : STORE_OK)),
	     outbox_claim(st, owner, max, lease_s, out));
}

int store_outbox_mark_sent(struct store *st, int64_t id)
{
	WRAP(store_outbox_mark_sent, WR, STORE_OK, outbox_mark_sent(st, id));
}

int store_outbox_fail(struct store *st, int64_t id, const char *error, int backoff_s,
		      int max_attempts)
{
	WRAP(store_outbox_fail, WR, backoff_s < 0 || max_attempts < 1 ?
	     store__fail(st, STORE_EINVAL, "backoff_s must be >= 0 and max_attempts >= 1") : STORE_OK,
	     outbox_fail(st, id, error, backoff_s, max_attempts));
}

int store_outbox_list(struct store *st, const char *status, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_outbox_list, RD, STORE_OK,
	     outbox_list(st, status, store__clamp_limit(limit, 100, 1000), out));
}

void store_job_free(struct store_job *job)
{
	if (!job)
		return;
	free(job->kind);
	free(job->ticket_id);
	json_decref(job->payload);
	free(job->lease_owner);
	free(job);
}

int store_job_enqueue(struct store *st, const char *kind, const char *ticket_id,
		      const json_t *payload, int max_attempts, int64_t run_at_us,
		      const char *dedupe_key)
{
	WRAP(store_job_enqueue, WR, OR(need(st, kind, "a job kind"), (max_attempts < 0 ?
	     store__fail(st, STORE_EINVAL, "max_attempts must be >= 0") : STORE_OK)),
	     job_enqueue(st, kind, ticket_id, payload, max_attempts ? max_attempts : 5, run_at_us,
			 dedupe_key));
}

int store_job_claim(struct store *st, const char *kind, const char *owner, int lease_s,
		    struct store_job **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_job_claim, WR, OR(need(st, owner, "an owner"), (lease_s < 1 ?
	     store__fail(st, STORE_EINVAL, "lease_s must be >= 1") : STORE_OK)),
	     job_claim(st, kind, owner, lease_s, out));
}

int store_job_heartbeat(struct store *st, int64_t id, const char *owner, int lease_s)
{
	WRAP(store_job_heartbeat, WR, OR(need(st, owner, "an owner"), (lease_s < 1 ?
	     store__fail(st, STORE_EINVAL, "lease_s must be >= 1") : STORE_OK)),
	     job_heartbeat(st, id, owner, lease_s));
}

int store_job_complete(struct store *st, int64_t id, const char *owner)
{
	WRAP(store_job_complete, WR, need(st, owner, "an owner"), job_complete(st, id, owner));
}

int store_job_fail(struct store *st, int64_t id, const char *owner, const char *error,
		   int64_t backoff_us)
{
	WRAP(store_job_fail, WR, OR(need(st, owner, "an owner"), (backoff_us < 0 ?
	     store__fail(st, STORE_EINVAL, "backoff must be >= 0") : STORE_OK)),
	     job_fail(st, id, owner, error, backoff_us));
}

int store_job_retry(struct store *st, int64_t id)
{
	WRAP(store_job_retry, WR, STORE_OK, job_retry(st, id));
}

int store_job_list(struct store *st, const char *status, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_job_list, RD, STORE_OK, job_list(st, status, store__clamp_limit(limit, 100, 1000), out));
}

int store_job_counts(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_job_counts, RD, STORE_OK, job_counts(st, out));
}

int store_metrics(struct store *st, int64_t since_us, int64_t until_us, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_metrics, RD, until_us < since_us ?
	     store__fail(st, STORE_EINVAL, "the metrics window ends before it starts") : STORE_OK,
	     metrics(st, since_us, until_us, out));
}

int store_token_insert(struct store *st, const char *name, const char *role,
		       const char *hash_hex, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_token_insert, WR, OR(need(st, name, "a token name"), OR(need(st, hash_hex, "a token hash"),
	     (store__valid_role(role) ? STORE_OK :
	      store__fail(st, STORE_EINVAL, "invalid role '%s' (use admin, agent or integration)",
			  role ? role : "(null)")))),
	     token_insert(st, name, role, hash_hex, out));
}

int store_token_find(struct store *st, const char *hash_hex, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_token_find, WR, need(st, hash_hex, "a token hash"), token_find(st, hash_hex, out));
}

int store_token_list(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_token_list, RD, STORE_OK, token_list(st, out));
}

int store_token_revoke(struct store *st, int64_t id)
{
	WRAP(store_token_revoke, WR, STORE_OK, token_revoke(st, id));
}
