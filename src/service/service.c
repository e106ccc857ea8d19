/*
 * The service object: makes the parts service_options asks for, wires them
 * (one metrics registry; intake wakes the workers; intake and finished jobs
 * wake the dispatcher; a finished job wakes the live streams; the monitor
 * reads the LLM error rate from the collectors), starts them in order and
 * stops them gracefully. The parts
 * themselves live in their modules (server/, notify/, monitor/,
 * channels/email/) and in workers.c and collectors.c beside this file.
 */
#include <stdlib.h>
#include <string.h>

#include "service_int.h"
#include "channels/email/email.h"
#include "store/store.h"

struct service {
	struct service_options opts;
	char *store_url;
	int64_t grace_ms;
	struct monitor_registry *registry;
	struct service_collectors *collectors;   /* with HTTP or the monitor */
	struct server *srv;
	struct service_workers *workers;
	struct notify_dispatcher *dispatcher;
	struct monitor *monitor;
	struct email_imap_poller *imap;          /* running, when FRONTLINE_IMAP_URL is set */
	struct service_sla *sla;                 /* the SLA sweep, with the monitor (NULL: off) */
	struct service_kbsync *kbsync;           /* the KB sync, with the monitor or a KB (NULL: off) */
	bool started, stopped;
};

const char *service_strerror(int rc)
{
	switch (rc) {
#define SERVICE_STR(name, text) case SERVICE_##name: return text;
	SERVICE_ERRNO_MAP(SERVICE_STR)
#undef SERVICE_STR
	}
	return "unknown service error";
}

const char *service_errname(int rc)
{
	switch (rc) {
#define SERVICE_NAME(name, text) case SERVICE_##name: return "SERVICE_" #name;
	SERVICE_ERRNO_MAP(SERVICE_NAME)
#undef SERVICE_NAME
	}
	return "SERVICE_UNKNOWN";
}

static void wake_workers(void *arg)
{
	service__workers_wake(arg);
}

static void wake_dispatcher(void *arg)
{
	notify_dispatcher_wake(arg);
}

/* A worker stored a ticket's results: this process's live streams read them now. */
static void job_done(void *arg)
{
	struct service *s = arg;

	/* set before any worker starts (service_new makes the server last) */
	server_changed(s->srv);
}

/* *err = "what: why" (why is freed); returns rc. */
static int fail(int rc, char **err, const char *what, char *why)
{
	*err = fl_asprintf("%s: %s", what, why ? why : service_strerror(rc));
	free(why);
	return rc;
}

static bool has(const struct service *s, unsigned part)
{
	return (s->opts.parts & part) != 0;
}

static int make_dispatcher(struct service *s, char **err)
{
	struct notify_options no = s->opts.notify;
	char *why = NULL;

	no.store_url = s->store_url;
	no.registry = s->registry;
	if (notify_dispatcher_new(&no, &s->dispatcher, &why) != NOTIFY_OK)
		return fail(SERVICE_ENOTIFY, err, "cannot start the notification dispatcher", why);
	return SERVICE_OK;
}

static int make_workers(struct service *s, char **err)
{
	struct service__workers_config wc = { 0 };
	char *why = NULL;
	int rc;

	wc.store_url = s->store_url;
	wc.opts = s->opts.workers;
	wc.analyzer = s->opts.analyzer;
	wc.kb = s->opts.kb;
	wc.llm = s->opts.llm;
	wc.registry = s->registry;
	wc.dispatcher = s->dispatcher;
	wc.on_done = job_done;
	wc.on_done_arg = s;
	rc = service__workers_new(&wc, &s->workers, &why);
	if (rc != SERVICE_OK)
		return fail(rc, err, "cannot start the workers", why);
	return SERVICE_OK;
}

static int make_monitor(struct service *s, char **err)
{
	struct monitor_options mo = s->opts.monitor;
	char *why = NULL;

	mo.store_url = s->store_url;
	mo.registry = s->registry;
	mo.llm_error_rate = service__llm_error_rate;
	mo.llm_arg = s->collectors;
	if (monitor_new(&mo, &s->monitor, &why) != MONITOR_OK)
		return fail(SERVICE_EMONITOR, err, "cannot start the monitor", why);
	return SERVICE_OK;
}

static int make_server(struct service *s, char **err)
{
	struct server_options so = s->opts.http;

	so.store_url = s->store_url;
	so.registry = s->registry;
	so.kb = s->opts.kb;
	so.on_job = s->workers ? wake_workers : NULL;
	so.on_job_arg = s->workers;
	so.on_outbox = s->dispatcher ? wake_dispatcher : NULL;
	so.on_outbox_arg = s->dispatcher;
	/* the server's messages say what failed already ("cannot listen on ...") */
	if (server_new(&so, &s->srv, err) != SERVER_OK)
		return SERVICE_EHTTP;
	return SERVICE_OK;
}

int service_new(const struct service_options *opts, struct service **out, char **err)
{
	struct service *s = fl_calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	*err = NULL;
	s->opts = *opts;
	if (!s->opts.parts)
		s->opts.parts = SERVICE_SERVE;
	s->store_url = fl_strdup(opts->store_url ? opts->store_url : fl_config_get("FRONTLINE_DATABASE_URL"));
	s->grace_ms = opts->grace_ms > 0 ? opts->grace_ms : fl_config_int("FRONTLINE_SHUTDOWN_GRACE", 30) * 1000;
	if (!s->store_url || !*s->store_url) {
		rc = fail(SERVICE_EINVAL, err, "cannot start the service", fl_strdup("no store URL"));
		goto fail;
	}
	if (has(s, SERVICE_WORKERS) && !opts->analyzer) {
		rc = fail(SERVICE_EINVAL, err, "cannot start the workers",
			  fl_strdup("workers need the analyzer's models"));
		goto fail;
	}
	s->registry = monitor_registry_new();
	monitor_add_process_metrics(s->registry);
	if (has(s, SERVICE_HTTP | SERVICE_MONITOR) &&
	    (rc = service__collectors_new(s->registry, s->store_url, opts->llm, &s->collectors, err)) != SERVICE_OK)
		goto fail;
	if (has(s, SERVICE_DISPATCHER) && (rc = make_dispatcher(s, err)) != SERVICE_OK)
		goto fail;
	if (has(s, SERVICE_WORKERS) && (rc = make_workers(s, err)) != SERVICE_OK)
		goto fail;
	if (has(s, SERVICE_MONITOR) && (rc = service__sla_new(s->store_url, &s->sla, err)) != SERVICE_OK)
		goto fail;
	if ((has(s, SERVICE_MONITOR) || opts->kb) &&
	    (rc = service__kbsync_new(s->store_url, opts->kb, &s->kbsync, err)) != SERVICE_OK)
		goto fail;
	if (has(s, SERVICE_MONITOR) && (rc = make_monitor(s, err)) != SERVICE_OK)
		goto fail;
	if (has(s, SERVICE_HTTP) && (rc = make_server(s, err)) != SERVICE_OK)
		goto fail;
	*out = s;
	return SERVICE_OK;
fail:
	service_free(s);
	return rc;
}

int service_start(struct service *s, char **err)
{
	char *why = NULL;

	*err = NULL;
	if (s->started)
		return SERVICE_OK;
	s->started = true;
	if (s->workers && service__workers_start(s->workers, &why) != SERVICE_OK)
		return fail(SERVICE_EWORKER, err, "cannot start the workers", why);
	if (s->dispatcher && notify_dispatcher_start(s->dispatcher) != NOTIFY_OK)
		return fail(SERVICE_ENOTIFY, err, "cannot start the notification dispatcher",
			    fl_strdup("cannot start its thread"));
	if (has(s, SERVICE_IMAP) && email_imap_poller_start(s->store_url, &s->imap, &why) != EMAIL_OK)
		return fail(SERVICE_EIMAP, err, "cannot start the IMAP poller", why);
	if (s->srv && server_start(s->srv, err) != SERVER_OK)
		return SERVICE_EHTTP;
	if (s->monitor && monitor_start(s->monitor) != MONITOR_OK)
		return fail(SERVICE_EMONITOR, err, "cannot start the monitor", fl_strdup("cannot start its thread"));
	if (service__sla_start(s->sla) != SERVICE_OK)
		return fail(SERVICE_EMONITOR, err, "cannot start the SLA sweep", fl_strdup("cannot start its thread"));
	if (service__kbsync_start(s->kbsync) != SERVICE_OK)
		return fail(SERVICE_EMONITOR, err, "cannot start the KB sync", fl_strdup("cannot start its thread"));
	return SERVICE_OK;
}

int service_stop(struct service *s)
{
	int64_t start, left;
	int released;

	if (!s || !s->started || s->stopped)
		return 0;
	s->stopped = true;
	start = fl_mono_us();
	if (s->srv) {
		server_drain(s->srv);
		if (!server_wait_idle(s->srv, s->grace_ms))
			fl_log(FL_LOG_WARN, "requests still in flight after the grace period");
	}
	monitor_stop(s->monitor);
	service__sla_stop(s->sla);
	service__kbsync_stop(s->kbsync);
	email_imap_poller_stop(s->imap);
	s->imap = NULL;
	left = s->grace_ms - (fl_mono_us() - start) / 1000;
	released = service__workers_stop(s->workers, left > 1000 ? left : 1000);
	if (released)
		fl_log(FL_LOG_WARN, "%d jobs released to the queue for the next start", released);
	notify_dispatcher_stop(s->dispatcher);
	return released;
}

void service_free(struct service *s)
{
	if (!s)
		return;
	service_stop(s);
	email_imap_poller_stop(s->imap);
	/* the server first: nothing wakes the workers or the dispatcher after it */
	server_free(s->srv);
	monitor_free(s->monitor);
	service__sla_free(s->sla);
	service__kbsync_free(s->kbsync);
	service__workers_free(s->workers, s->grace_ms);
	notify_dispatcher_free(s->dispatcher);
	monitor_registry_free(s->registry);
	service__collectors_free(s->collectors);
	free(s->store_url);
	free(s);
}

unsigned service_port(const struct service *s)
{
	return s->srv ? server_port(s->srv) : 0;
}

struct server *service_server(struct service *s)
{
	return s->srv;
}

struct monitor_registry *service_registry(struct service *s)
{
	return s->registry;
}

void service_jobs_stats(struct service *s, uint64_t *done, uint64_t *failed)
{
	if (done)
		*done = 0;
	if (failed)
		*failed = 0;
	if (s->workers)
		service__workers_stats(s->workers, done, failed);
}

bool service_jobs_wait(struct service *s, uint64_t n, int64_t timeout_ms)
{
	return s->workers && service__workers_wait(s->workers, n, timeout_ms);
}
