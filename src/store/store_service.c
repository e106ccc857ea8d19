/*
 * The front of the store, continued: the wrappers of the email channel's
 * and the service's records (blobs, raw mail, IMAP state, rate windows,
 * alerts, named locks, the queues' administration, the server's secrets,
 * approvals and outbox attempts), split from store.c to keep files small.
 * As there, each public function is one STORE__WRAP (store_int.h):
 * argument checks, cleared out parameters, the handle's error message,
 * fault injection, and the one call of the op.
 */
#include <assert.h>
#include <string.h>

#include "wrap.h"

/* ---- the email channel's records ---- */

int store_blob_put(struct store *st, const void *data, size_t len, const char *content_type,
		   char sha256_hex[65], bool *created)
{
	assert(sha256_hex);
	sha256_hex[0] = '\0';
	if (created)
		*created = false;
	WRAP(store_blob_put, WR, data || !len ? STORE_OK : store__fail(st, STORE_EINVAL, "blob data is required"),
	     blob_put(st, data ? data : "", len, content_type, sha256_hex, created));
}

int store_blob_get(struct store *st, const char *sha256_hex, void **data, size_t *len, json_t **meta)
{
	assert(data && len);
	*data = NULL;
	*len = 0;
	OUT_NULL(meta);
	WRAP(store_blob_get, RD, store__is_sha256_hex(sha256_hex) ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "a blob is named by 64 lower-case hex digits"),
	     blob_get(st, sha256_hex, data, len, meta));
}

int store_mail_raw_put(struct store *st, const void *data, size_t len, const char *source,
		       json_t **out, bool *created)
{
	OUT_NULL(out);
	if (created)
		*created = false;
	WRAP(store_mail_raw_put, WR, OR(need(st, data, "the raw message"), need(st, source, "a source")),
	     mail_raw_put(st, data, len, source, out, created));
}

int store_mail_raw_finish(struct store *st, int64_t id, const char *status, const char *ticket_id,
			  const char *error)
{
	WRAP(store_mail_raw_finish, WR, store__valid_mail_status(status) ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "invalid mail status '%s' (use ticket, appended, duplicate, "
			 "quarantined or failed)", status ? status : "(null)"),
	     mail_raw_finish(st, id, status, ticket_id, error));
}

int store_mail_raw_get(struct store *st, int64_t id, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_mail_raw_get, RD, STORE_OK, mail_raw_get(st, id, out));
}

int store_mail_raw_list(struct store *st, const char *status, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_mail_raw_list, RD, STORE_OK,
	     mail_raw_list(st, status, store__clamp_limit(limit, 50, 500), out));
}

int store_imap_state_get(struct store *st, const char *mailbox, int64_t *uidvalidity,
			 int64_t *last_uid)
{
	assert(uidvalidity && last_uid);
	*uidvalidity = 0;
	*last_uid = 0;
	WRAP(store_imap_state_get, RD, need(st, mailbox, "a mailbox"),
	     imap_state_get(st, mailbox, uidvalidity, last_uid));
}

int store_imap_state_set(struct store *st, const char *mailbox, int64_t uidvalidity,
			 int64_t last_uid)
{
	WRAP(store_imap_state_set, WR, OR(need(st, mailbox, "a mailbox"),
	     uidvalidity >= 0 && last_uid >= 0 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "UIDVALIDITY and UID must not be negative")),
	     imap_state_set(st, mailbox, uidvalidity, last_uid));
}

int store_rate_hit(struct store *st, const char *key, int window_s, int64_t *count)
{
	assert(count);
	*count = 0;
	WRAP(store_rate_hit, WR, OR(need(st, key, "a key"), window_s > 0 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "the window must be at least one second")),
	     rate_hit(st, key, window_s, count));
}

/* ---- the service's records ---- */

static int valid_alert_status(struct store *st, const char *status)
{
	if (!status || !strcmp(status, "active") || !strcmp(status, "resolved"))
		return STORE_OK;
	return store__fail(st, STORE_EINVAL, "invalid alert status '%s' (use active or resolved)", status);
}

int store_alert_raise(struct store *st, const json_t *alert, json_t **out, bool *raised)
{
	OUT_NULL(out);
	if (raised)
		*raised = false;
	WRAP(store_alert_raise, WR, need(st, alert, "an alert"), alert_raise(st, alert, out, raised));
}

int store_alert_resolve(struct store *st, const char *type, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_alert_resolve, WR, need(st, type, "an alert type"), alert_resolve(st, type, out));
}

int store_alert_list(struct store *st, const char *status, int limit, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_alert_list, RD, valid_alert_status(st, status),
	     alert_list(st, status, store__clamp_limit(limit, 100, 1000), out));
}

int store_lock_try(struct store *st, const char *name, const char *owner, int ttl_s, bool *acquired)
{
	assert(acquired);
	*acquired = false;
	WRAP(store_lock_try, WR, OR(need(st, name, "a lock name"), OR(need(st, owner, "an owner"),
	     ttl_s > 0 ? STORE_OK : store__fail(st, STORE_EINVAL, "the lock's lease must be at least one second"))),
	     lock_try(st, name, owner, ttl_s, acquired));
}

int store_lock_release(struct store *st, const char *name, const char *owner)
{
	WRAP(store_lock_release, WR, OR(need(st, name, "a lock name"), need(st, owner, "an owner")),
	     lock_release(st, name, owner));
}

int store_job_release(struct store *st, int64_t id, const char *owner)
{
	WRAP(store_job_release, WR, need(st, owner, "an owner"), job_release(st, id, owner));
}

int store_outbox_retry(struct store *st, int64_t id)
{
	WRAP(store_outbox_retry, WR, STORE_OK, outbox_retry(st, id));
}

int store_outbox_counts(struct store *st, json_t **out)
{
	assert(out);
	*out = NULL;
	WRAP(store_outbox_counts, RD, STORE_OK, outbox_counts(st, out));
}

/* ---- hardening: the server's secrets, approvals, outbox attempts ---- */

int store_secret_get(struct store *st, const char *name, unsigned char *out, size_t len)
{
	assert(out);
	WRAP(store_secret_get, WR, OR(need(st, name, "a name"), len >= 16 && len <= 64 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "a secret has 16 to 64 bytes")), secret_get(st, name, out, len));
}

static int valid_decision(struct store *st, const char *approval)
{
	if (approval && (!strcmp(approval, "approved") || !strcmp(approval, "declined")))
		return STORE_OK;
	return store__fail(st, STORE_EINVAL, "invalid decision '%s' (use approved or declined)",
			   approval ? approval : "");
}

int store_message_decide(struct store *st, const char *ticket_id, int64_t message_id, const char *approval,
			 const char *actor, json_t **out)
{
	OUT_NULL(out);
	WRAP(store_message_decide, WR, OR(need(st, ticket_id, "a ticket id"), valid_decision(st, approval)),
	     message_decide(st, ticket_id, message_id, approval, actor, out));
}

int store_outbox_begin(struct store *st, int64_t id, const char *owner, int lease_s)
{
	WRAP(store_outbox_begin, WR, OR(need(st, owner, "an owner"), lease_s > 0 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "the lease must be at least one second")),
	     outbox_begin(st, id, owner, lease_s));
}

int store_outbox_extend(struct store *st, const char *owner, int lease_s, int *extended)
{
	if (extended)
		*extended = 0;
	WRAP(store_outbox_extend, WR, OR(need(st, owner, "an owner"), lease_s > 0 ? STORE_OK :
	     store__fail(st, STORE_EINVAL, "the lease must be at least one second")),
	     outbox_extend(st, owner, lease_s, extended));
}
