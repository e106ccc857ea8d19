/*
 * notify: delivering what the store's outbox holds.
 *
 * Anything that wants to tell the outside world (an auto-reply to a
 * customer, an escalation for Slack, an alert for the on-call list, a ticket
 * event for an integration) enqueues an outbox item in the same transaction
 * as the change that caused it; the items are built by support's notice
 * constructors and routed by its policy (support_notice_*,
 * support_notices_enqueue). The dispatcher here
 * claims due items with a lease, hands each to its channel's backend, and
 * records the outcome: sent, retried after an exponential backoff, or dead
 * (kept, visible through the API and the metrics; never dropped silently).
 * While it delivers, a heartbeat renews the lease of every item it holds,
 * so a slow receiver never lets another dispatcher take them, and a dead
 * dispatcher's items are due again one lease (FRONTLINE_NOTIFY_LEASE, 15 s)
 * after its last heartbeat. Each attempt is marked begun in the store
 * before it is made: an item whose attempt died in flight is sent again
 * only on a channel with a delivery id (webhooks, email: at least once);
 * Slack's is dead, "outcome unknown" (at most once).
 *
 * Channels (an ops table each, in the manner of the store's backends):
 *   slack    POST {"channel": target, "text": payload.text} to
 *            FRONTLINE_SLACK_WEBHOOK_URL (a Slack incoming webhook), the
 *            text escaped for Slack (notify_slack_escape);
 *   email    SMTP through libcurl to FRONTLINE_SMTP_URL, From
 *            payload.from or FRONTLINE_SUPPORT_FROM, To the target (a
 *            comma-separated list), subject and body from the payload;
 *            a payload naming a ticket (ticket_id) is rendered by the email
 *            channel as a reply in that ticket's thread instead
 *            (email_outbox_render: threading headers, loop protection);
 *   webhook  POST the payload as JSON to the target URL, signed like the
 *            webhooks Frontline receives (below), with a delivery id; an
 *            event name or a URL with a control character or a space is
 *            refused (it would add a header or a request of its own).
 *
 * Signatures (both directions): X-Frontline-Timestamp is the Unix time in
 * seconds; X-Frontline-Signature is "sha256=" and the lower-case hex
 * HMAC-SHA256, keyed by the shared secret, of the timestamp, a ".", and the
 * raw body. Receivers compare in constant time and reject timestamps more
 * than a tolerance (5 minutes) away from their clock.
 */
#ifndef FL_NOTIFY_H
#define FL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define NOTIFY_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid notification") \
	X(ECONFIG, "channel is not configured") \
	X(ETRANSIENT, "delivery failed; will retry") \
	X(EPERMANENT, "delivery refused; will not retry") \
	X(ESTORE, "store error") \
	X(ECHANNEL, "unknown channel")

enum notify_err {
#define NOTIFY_ENUM(name, text) NOTIFY_##name,
	NOTIFY_ERRNO_MAP(NOTIFY_ENUM)
#undef NOTIFY_ENUM
};

const char *notify_strerror(int rc);
const char *notify_errname(int rc);

/* ==== signatures ==== */

/* "sha256=" + 64 hex digits + NUL */
#define NOTIFY_SIGNATURE_LEN 72
/* The default tolerance for timestamps, in seconds. */
#define NOTIFY_SIGNATURE_TOLERANCE 300

/* Writes "sha256=<hex>" of HMAC-SHA256(secret, timestamp "." body) to out. */
void notify_sign(const char *secret, const char *timestamp, const void *body, size_t len,
		 char out[NOTIFY_SIGNATURE_LEN]);

enum notify_verdict {
	NOTIFY_SIG_OK,
	NOTIFY_SIG_MISSING,     /* no timestamp or no signature header */
	NOTIFY_SIG_MALFORMED,   /* not "sha256=<64 hex>", or a timestamp that is not a number */
	NOTIFY_SIG_STALE,       /* timestamp outside the tolerance */
	NOTIFY_SIG_MISMATCH,    /* wrong signature */
};

/*
 * Checks a received signature. timestamp and signature are the header values
 * (NULL when absent); now_s is the receiver's clock in Unix seconds. The
 * comparison takes the same time whatever the signature.
 */
enum notify_verdict notify_verify(const char *secret, const char *timestamp,
				  const char *signature, const void *body, size_t len,
				  int64_t now_s, int64_t tolerance_s);
/*
 * A secret prepared for many verifications (the keyed HMAC state, computed
 * once): notify_verify_key answers as notify_verify with that secret would.
 * The key may be shared by threads (it is only read); notify_key_free wipes it.
 */
struct notify_key;
struct notify_key *notify_key_new(const char *secret);
void notify_key_free(struct notify_key *key);
enum notify_verdict notify_verify_key(const struct notify_key *key, const char *timestamp,
				      const char *signature, const void *body, size_t len,
				      int64_t now_s, int64_t tolerance_s);
/*
 * The checks that need no body, for a receiver that refuses before reading
 * one: the headers are there and well formed and the timestamp is within
 * tolerance_s of now_s. NOTIFY_SIG_OK means the signature is still to be
 * checked against the body.
 */
enum notify_verdict notify_verify_headers(const char *timestamp, const char *signature, int64_t now_s,
					  int64_t tolerance_s);
/* A short explanation of a verdict, for error messages. */
const char *notify_verdict_text(enum notify_verdict v);

/* ==== messages ==== */

/*
 * Builds an RFC 5322 message (UTF-8 text, quoted-printable body, RFC 2047
 * subject) from an email payload {subject, body, ticket_tag?, in_reply_to?,
 * auto_submitted?}. Header values lose CR and LF. Returns the message (caller
 * frees), or NULL with *err (caller frees) when from or to is not a list of
 * addresses.
 */
char *notify_email_build(const json_t *payload, const char *from, const char *to,
			 const char *message_id, int64_t now_us, char **err);
/* Splits a comma-separated address list; each must look like local@domain. New array. */
json_t *notify_address_list(const char *list, char **err);

/* ==== channels ==== */

struct store;

struct notify_settings {
	const char *slack_url;       /* NULL: FRONTLINE_SLACK_WEBHOOK_URL */
	const char *smtp_url;        /* NULL: FRONTLINE_SMTP_URL */
	const char *smtp_from;       /* NULL: FRONTLINE_SUPPORT_FROM */
	const char *webhook_secret;  /* NULL: FRONTLINE_EVENT_WEBHOOK_SECRET */
	long timeout_ms;             /* per delivery; 0: 10000 */
	struct store *store;         /* for email threads; the dispatcher sets its connection */
};

struct notify_delivery {
	const struct notify_settings *settings;
	const json_t *item;          /* the outbox item: id, channel, target, payload */
	char *error;                 /* set by the backend on failure (freed by the caller) */
	int retry_after_s;           /* a hint from the receiver (429, Retry-After); 0: none */
	long http_status;            /* for HTTP channels; 0: none */
	/*
	 * Called about once a second while a delivery waits on the network (the
	 * dispatcher renews its lease); non-zero aborts the delivery. May be NULL.
	 */
	int (*heartbeat)(void *arg);
	void *heartbeat_arg;
	/* set by the backend on a failure after the request went out: the receiver may have acted on it */
	bool maybe_delivered;
};

struct notify_channel_ops {
	int version;
	const char *name;
	/* Delivers d->item: NOTIFY_OK, NOTIFY_ETRANSIENT, NOTIFY_EPERMANENT or
	 * NOTIFY_ECONFIG, with d->error set on failure. */
	int (*deliver)(struct notify_delivery *d);
	/*
	 * version 2: whether what the channel sends carries an id that stays the
	 * same on every attempt, so that a receiver can drop a repeat (webhooks:
	 * X-Frontline-Delivery; email: the Message-ID). Such a channel is
	 * delivered at least once: an attempt whose outcome is unknown is made
	 * again. Without one (Slack), at most once: it is not.
	 */
	bool delivery_id;
};

extern const struct notify_channel_ops notify_slack_ops;
extern const struct notify_channel_ops notify_email_ops;
extern const struct notify_channel_ops notify_webhook_ops;

/*
 * text with Slack's three control characters escaped ("&" "&amp;", "<"
 * "&lt;", ">" "&gt;"), so that Slack shows it as typed: no "<!channel>"
 * mention, no link under a false label. Caller frees.
 */
char *notify_slack_escape(const char *text);

/* The backend for a channel name, or NULL. */
const struct notify_channel_ops *notify_channel_find(const char *name);
/* Delivers one item through its channel's backend (see struct notify_channel_ops). */
int notify_deliver(struct notify_delivery *d);
/* Whether the channel delivers at least once (it has a delivery id); false: at most once, or unknown. */
bool notify_channel_at_least_once(const char *name);

/* ==== the dispatcher ==== */

struct monitor_registry;
struct notify_dispatcher;

struct notify_options {
	const char *store_url;       /* its own connection */
	struct store *store;         /* or this one, borrowed (tests with a fake clock) */
	const char *owner;           /* lease owner; NULL: host:pid:notify */
	int batch;                   /* items per claim; 0: 16 */
	int lease_s;                 /* how long claimed items are held between heartbeats; 0: FRONTLINE_NOTIFY_LEASE */
	int max_attempts;            /* 0: FRONTLINE_NOTIFY_MAX_ATTEMPTS */
	int backoff_base_s;          /* first retry delay, doubling; 0: 5 */
	int backoff_max_s;           /* 0: 3600 */
	int poll_ms;                 /* idle polling; 0: 1000 */
	struct notify_settings settings;
	struct monitor_registry *registry;   /* notification counters; may be NULL */
};

int notify_dispatcher_new(const struct notify_options *opts, struct notify_dispatcher **out,
			  char **err);
/*
 * Claims due items (up to the batch size) and delivers them. *sent and
 * *failed (may be NULL) count the outcomes. Returns NOTIFY_OK or
 * NOTIFY_ESTORE (detail in *err when err is not NULL; caller frees).
 */
int notify_dispatcher_run_once(struct notify_dispatcher *d, int *sent, int *failed, char **err);
/* Starts the delivery thread. */
int notify_dispatcher_start(struct notify_dispatcher *d);
/* Wakes the thread (something was enqueued in this process). */
void notify_dispatcher_wake(struct notify_dispatcher *d);
/* Stops the thread after the delivery in progress. */
void notify_dispatcher_stop(struct notify_dispatcher *d);
/* Stops and frees. NULL is fine. */
void notify_dispatcher_free(struct notify_dispatcher *d);
/* The backoff before retry number attempts (1: first retry), in seconds. */
int notify_backoff_s(int attempts, int base_s, int max_s);

#endif
