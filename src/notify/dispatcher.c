/*
 * The outbox dispatcher: a thread with its own store connection that claims
 * due notifications with a lease, delivers each through its channel, and
 * records the outcome. Failures are retried with exponential backoff (or
 * the receiver's Retry-After, whichever is longer) up to max_attempts;
 * refusals that will not change (a 4xx, an unconfigured channel, a bad
 * address) go dead at once. Dead items stay in the outbox, visible through
 * GET /api/v1/outbox?status=dead and frontline_outbox{status="dead"}.
 *
 * Several dispatchers (threads or replicas) may run at once: the store's
 * claim hands each item to one of them, and an expired lease makes an item
 * due again if a dispatcher dies mid-delivery.
 *
 * Leases and crashes (docs/OPERATIONS.md, "Notifications and dead
 * letters"): claimed items are held for lease_s (FRONTLINE_NOTIFY_LEASE,
 * 15 s), and while a delivery waits on a slow receiver a heartbeat renews
 * the lease of every item this dispatcher holds (store_outbox_extend, every
 * lease/3 s), so no other dispatcher takes them however slow the receiver
 * is; a dispatcher that dies stops renewing, and its items are due again one
 * lease later. Before each attempt the item is marked begun
 * (store_outbox_begin, durable, only by the lease's holder: a dispatcher
 * that lost an item cannot send it). An item claimed with an attempt begun
 * and never recorded (its dispatcher died in it), or whose request went out
 * without an answer, may have been delivered: a channel with a delivery id
 * (webhooks, email) sends it again, for the receiver to drop the repeat (at
 * least once); Slack, which has none, marks it dead "outcome unknown" (at
 * most once), for an operator to retry if it never arrived.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "notify_int.h"
#include "monitor/monitor.h"
#include "store/store.h"

struct notify_dispatcher {
	struct notify_options opts;
	char *owner, *store_url;
	struct store *st;
	bool own_store;
	int64_t beat_us;          /* the last heartbeat (monotonic) */
	struct monitor_family *sent_total;
	pthread_t thread;
	bool running, stop, woken;
	char warned[4][16];       /* unconfigured channels already warned about */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

int notify_backoff_s(int attempts, int base_s, int max_s)
{
	int64_t d = base_s > 0 ? base_s : 5;
	int i;

	for (i = 1; i < attempts && d < max_s; i++)
		d *= 2;
	return (int)(d > max_s ? max_s : d);
}

int notify_dispatcher_new(const struct notify_options *opts, struct notify_dispatcher **out,
			  char **err)
{
	static const char *const labels[] = { "channel", "result" };
	struct notify_dispatcher *d = fl_calloc(1, sizeof(*d));
	char host[128] = "localhost";
	int rc;

	*out = NULL;
	d->opts = *opts;
	d->store_url = fl_strdup(opts->store_url ? opts->store_url : fl_config_get("FRONTLINE_DATABASE_URL"));
	gethostname(host, sizeof(host) - 1);
	d->owner = opts->owner ? fl_strdup(opts->owner) : fl_asprintf("%s:%d:notify", host, (int)getpid());
	d->opts.batch = opts->batch > 0 ? opts->batch : 16;
	d->opts.lease_s = opts->lease_s > 0 ? opts->lease_s : (int)fl_config_int("FRONTLINE_NOTIFY_LEASE", 15);
	if (d->opts.lease_s < 3)
		d->opts.lease_s = 3;   /* a heartbeat every second at most */
	d->opts.max_attempts = opts->max_attempts > 0 ? opts->max_attempts
				: (int)fl_config_int("FRONTLINE_NOTIFY_MAX_ATTEMPTS", 8);
	d->opts.backoff_base_s = opts->backoff_base_s > 0 ? opts->backoff_base_s : 5;
	d->opts.backoff_max_s = opts->backoff_max_s > 0 ? opts->backoff_max_s : 3600;
	d->opts.poll_ms = opts->poll_ms > 0 ? opts->poll_ms : 1000;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	if (opts->store) {
		d->st = opts->store;
	} else {
		rc = store_open(d->store_url, &d->st, err);
		if (rc != STORE_OK) {
			notify_dispatcher_free(d);
			return NOTIFY_ESTORE;
		}
		d->own_store = true;
	}
	if (!d->opts.settings.store) /* the email channel reads ticket threads through it */
		d->opts.settings.store = d->st;
	if (opts->registry)
		d->sent_total = monitor_family_new(opts->registry, MONITOR_COUNTER,
						   "frontline_notifications_total",
						   "notification deliveries by channel and result (sent, retry, dead)",
						   2, labels, NULL, 0);
	fl_curl_global_init();
	*out = d;
	return NOTIFY_OK;
}

static void count(struct notify_dispatcher *d, const char *channel, const char *result)
{
	const char *v[] = { channel, result };

	monitor_add(d->sent_total, v, 1);
}

/*
 * An unconfigured channel is the operator's choice, not a fault: its items go
 * dead (kept, visible) and the first one per channel says so at warning level,
 * the rest at debug level, so that a trial without Slack or SMTP is not a wall
 * of warnings.
 */
static enum fl_log_level unconfigured_level(struct notify_dispatcher *d, const char *channel)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(d->warned) && d->warned[i][0]; i++)
		if (!strcmp(d->warned[i], channel))
			return FL_LOG_DEBUG;
	if (i < FL_ARRAY_SIZE(d->warned))
		snprintf(d->warned[i], sizeof(d->warned[i]), "%s", channel);
	return FL_LOG_WARN;
}

/*
 * The heartbeat while a delivery waits (called by libcurl about once a
 * second): every lease/3 s, the lease of every item this dispatcher holds
 * is renewed. A failed renewal is only logged: the item's owner check at
 * store_outbox_begin and the lease's length keep the guarantees.
 */
static int heartbeat(void *arg)
{
	struct notify_dispatcher *d = arg;
	int64_t now = fl_mono_us();

	if (now - d->beat_us < (int64_t)d->opts.lease_s * 1000000 / 3)
		return 0;
	d->beat_us = now;
	if (store_outbox_extend(d->st, d->owner, d->opts.lease_s, NULL) != STORE_OK)
		fl_log(FL_LOG_WARN, "notify: cannot renew the leases: %s", store_errmsg(d->st));
	return 0;
}

/* An item the dispatcher will not send (again): dead at once, with why. */
static int bury(struct notify_dispatcher *d, const json_t *item, const char *why)
{
	int attempts = (int)fl_json_int(item, "attempts", 1);
	json_t *f = json_pack("{s:I, s:s, s:i, s:s}", "outbox_id", (json_int_t)fl_json_int(item, "id", 0), "channel",
			      fl_json_str(item, "channel", ""), "attempts", attempts, "error", why);
	int src = store_outbox_fail(d->st, fl_json_int(item, "id", 0), why, 0, attempts);

	count(d, fl_json_str(item, "channel", ""), "dead");
	fl_logj(FL_LOG_ERROR, f, "notification %lld is dead", (long long)fl_json_int(item, "id", 0));
	json_decref(f);
	return src;
}

/* Delivers one claimed item and records the outcome; *ok false also when it was not sent. */
static int deliver_one(struct notify_dispatcher *d, const json_t *item, bool *ok)
{
	struct notify_delivery del = { .settings = &d->opts.settings, .item = item, .heartbeat = heartbeat,
				       .heartbeat_arg = d };
	int64_t id = fl_json_int(item, "id", 0);
	int attempts = (int)fl_json_int(item, "attempts", 1);
	const char *channel = fl_json_str(item, "channel", "");
	const json_t *began = json_object_get(item, "started_at");
	bool again = notify_channel_at_least_once(channel);
	int rc, src;

	*ok = false;
	/* an attempt began and its outcome never came back: its dispatcher died in it */
	if (began && !json_is_null(began) && !again)
		return bury(d, item, "outcome unknown: an earlier attempt stopped in flight (its dispatcher died?); "
			    "not sent again, this channel has no delivery id (at most once)");
	src = store_outbox_begin(d->st, id, d->owner, d->opts.lease_s);
	if (src == STORE_ELEASE) {
		/* another dispatcher took it when our lease ran out: it is theirs now */
		fl_log(FL_LOG_WARN, "notify: notification %lld is no longer ours; not sending it", (long long)id);
		return STORE_OK;
	}
	if (src != STORE_OK)
		return src;
	d->beat_us = fl_mono_us();
	rc = notify_deliver(&del);
	*ok = rc == NOTIFY_OK;
	if (rc == NOTIFY_ETRANSIENT && del.maybe_delivered && !again) {
		char *why = fl_asprintf("outcome unknown: %s; not sent again, this channel has no delivery id "
					"(at most once)", del.error ? del.error : "no answer");

		src = bury(d, item, why);
		free(why);
		free(del.error);
		return src;
	}
	if (rc == NOTIFY_OK) {
		src = store_outbox_mark_sent(d->st, id);
		count(d, channel, "sent");
		fl_logj(FL_LOG_DEBUG, NULL, "notification %lld sent via %s", (long long)id, channel);
	} else {
		bool permanent = rc != NOTIFY_ETRANSIENT;
		int backoff = notify_backoff_s(attempts, d->opts.backoff_base_s, d->opts.backoff_max_s);
		json_t *f;

		if (del.retry_after_s > backoff)
			backoff = del.retry_after_s;
		/* max_attempts == attempts makes the store mark it dead now */
		src = store_outbox_fail(d->st, id, del.error, backoff,
					permanent ? attempts : d->opts.max_attempts);
		count(d, channel, permanent || attempts >= d->opts.max_attempts ? "dead" : "retry");
		f = json_pack("{s:I, s:s, s:i, s:s}", "outbox_id", (json_int_t)id, "channel", channel,
			      "attempts", attempts, "error", del.error ? del.error : "");
		if (rc == NOTIFY_ECONFIG)
			fl_logj(unconfigured_level(d, channel), f,
				"notification %lld is dead: its channel is not configured "
				"(further ones to %s are logged at debug level)", (long long)id, channel);
		else
			fl_logj(permanent || attempts >= d->opts.max_attempts ? FL_LOG_ERROR : FL_LOG_WARN, f,
				"notification %lld %s", (long long)id,
				permanent || attempts >= d->opts.max_attempts ? "is dead" : "failed; will retry");
		json_decref(f);
	}
	free(del.error);
	return src;
}

static bool stopping(struct notify_dispatcher *d)
{
	bool stop;

	pthread_mutex_lock(&d->lock);
	stop = d->stop;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

int notify_dispatcher_run_once(struct notify_dispatcher *d, int *sent, int *failed, char **err)
{
	json_t *items = NULL;
	size_t i;
	int rc, nsent = 0, nfailed = 0;

	if (err)
		*err = NULL;
	rc = store_outbox_claim(d->st, d->owner, d->opts.batch, d->opts.lease_s, &items);
	if (rc != STORE_OK)
		goto fail;
	for (i = 0; i < json_array_size(items); i++) {
		bool ok;

		/* stopping: the rest of the batch is left to its lease (due again within lease_s) */
		if (stopping(d))
			break;
		rc = deliver_one(d, json_array_get(items, i), &ok);
		ok ? nsent++ : nfailed++;
		if (rc != STORE_OK)
			goto fail;
	}
	json_decref(items);
	if (sent)
		*sent = nsent;
	if (failed)
		*failed = nfailed;
	return NOTIFY_OK;
fail:
	if (err)
		*err = fl_asprintf("outbox: %s", store_errmsg(d->st));
	json_decref(items);
	if (sent)
		*sent = nsent;
	if (failed)
		*failed = nfailed;
	return NOTIFY_ESTORE;
}

static void *dispatcher_main(void *arg)
{
	struct notify_dispatcher *d = arg;
	int idle_ms = 0;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		int sent = 0, failed = 0, rc;
		char *err = NULL;

		pthread_mutex_unlock(&d->lock);
		rc = notify_dispatcher_run_once(d, &sent, &failed, &err);
		if (rc != NOTIFY_OK) {
			fl_log(FL_LOG_ERROR, "notify: %s", err ? err : "store error");
			free(err);
		}
		pthread_mutex_lock(&d->lock);
		/* a full batch: there may be more due now */
		if (rc == NOTIFY_OK && sent + failed >= d->opts.batch)
			continue;
		idle_ms = d->opts.poll_ms;
		if (!d->woken && !d->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += idle_ms / 1000;
			ts.tv_nsec += (long)(idle_ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
		}
		d->woken = false;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int notify_dispatcher_start(struct notify_dispatcher *d)
{
	if (d->running)
		return NOTIFY_OK;
	d->stop = false;
	if (pthread_create(&d->thread, NULL, dispatcher_main, d))
		return NOTIFY_EINVAL;
	d->running = true;
	return NOTIFY_OK;
}

void notify_dispatcher_wake(struct notify_dispatcher *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->woken = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

void notify_dispatcher_stop(struct notify_dispatcher *d)
{
	if (!d || !d->running)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	d->running = false;
}

void notify_dispatcher_free(struct notify_dispatcher *d)
{
	if (!d)
		return;
	notify_dispatcher_stop(d);
	if (d->own_store)
		store_close(d->st);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d->owner);
	free(d->store_url);
	free(d);
}
