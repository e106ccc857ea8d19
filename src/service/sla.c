/*
 * The SLA sweep's thread (issue 18): every FRONTLINE_SLA_SWEEP_INTERVAL
 * seconds, on one replica at a time (the store lock "sla-sweep", held for
 * two intervals and renewed each round), one round of support_sla_sweep:
 * warnings and breaches of the SLA clocks, reminders and resolution of
 * pending tickets, closing of resolved ones. What a round does is
 * src/support/sla.c's; this file only runs it, with a store connection of
 * its own.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service_int.h"
#include "store/store.h"
#include "support/support.h"

struct service_sla {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop;
	struct store *st;
	int interval_s;
	char owner[160];
};

static void round_once(struct service_sla *s)
{
	struct support_sla_stats stats;
	bool mine = false;
	int rc;

	if (store_lock_try(s->st, "sla-sweep", s->owner, 2 * s->interval_s, &mine) != STORE_OK || !mine)
		return;
	rc = support_sla_sweep(s->st, fl_wall_us() / 1000000, &stats);
	if (rc != STORE_OK)
		fl_log(FL_LOG_ERROR, "sla sweep: %s", store_errmsg(s->st));
	else if (stats.warnings || stats.breaches || stats.reminders || stats.resolved || stats.closed)
		fl_log(FL_LOG_INFO, "sla sweep: %lld tickets, %lld warnings, %lld breaches, %lld reminders, "
		       "%lld resolved, %lld closed", (long long)stats.tickets, (long long)stats.warnings,
		       (long long)stats.breaches, (long long)stats.reminders, (long long)stats.resolved,
		       (long long)stats.closed);
}

static void *run(void *arg)
{
	struct service_sla *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		fl_cond_wait_ms(&s->wake, &s->lock, (int64_t)s->interval_s * 1000);
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		round_once(s);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int service__sla_new(const char *store_url, struct service_sla **out, char **err)
{
	struct service_sla *s;
	char host[64] = "localhost";

	*out = NULL;
	if (fl_config_int("FRONTLINE_SLA_SWEEP_INTERVAL", 60) <= 0)
		return SERVICE_OK;   /* off */
	s = fl_calloc(1, sizeof(*s));
	s->interval_s = (int)fl_config_int("FRONTLINE_SLA_SWEEP_INTERVAL", 60);
	gethostname(host, sizeof(host) - 1);
	snprintf(s->owner, sizeof(s->owner), "%s:%d:sla", host, (int)getpid());
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (store_open(store_url, &s->st, err) != STORE_OK) {
		service__sla_free(s);
		return SERVICE_ESTORE;
	}
	*out = s;
	return SERVICE_OK;
}

int service__sla_start(struct service_sla *s)
{
	if (!s || s->running)
		return SERVICE_OK;
	if (pthread_create(&s->thread, NULL, run, s))
		return SERVICE_EINVAL;
	s->running = true;
	return SERVICE_OK;
}

void service__sla_stop(struct service_sla *s)
{
	if (!s || !s->running)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->running = false;
	store_lock_release(s->st, "sla-sweep", s->owner);
}

void service__sla_free(struct service_sla *s)
{
	if (!s)
		return;
	service__sla_stop(s);
	store_close(s->st);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
