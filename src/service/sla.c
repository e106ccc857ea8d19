/*
 * The SLA sweep's thread (issue 18): every FRONTLINE_SLA_SWEEP_INTERVAL
 * seconds, on one replica at a time (the store lock "sla-sweep", held for
 * two intervals and renewed each round), one round of support_sla_sweep:
 * warnings and breaches of the SLA clocks, reminders and resolution of
 * pending tickets, closing of resolved ones. What a round does is
 * src/support/sla.c's; this file only runs it, with a store connection of
 * its own.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service_int.h"
#include "store/store.h"
#include "support/support.h"

struct service_sla {
	struct service__ticker ticker;
	struct store *st;
	int interval_s;
	char owner[160];
};

static void round_once(void *arg)
{
	struct service_sla *s = arg;
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
	service__ticker_init(&s->ticker, s->interval_s, false, round_once, s);
	if (store_open(store_url, &s->st, err) != STORE_OK) {
		service__sla_free(s);
		return SERVICE_ESTORE;
	}
	*out = s;
	return SERVICE_OK;
}

int service__sla_start(struct service_sla *s)
{
	return s ? service__ticker_start(&s->ticker) : SERVICE_OK;
}

void service__sla_stop(struct service_sla *s)
{
	if (s && service__ticker_stop(&s->ticker))
		store_lock_release(s->st, "sla-sweep", s->owner);
}

void service__sla_free(struct service_sla *s)
{
	if (!s)
		return;
	service__sla_stop(s);
	service__ticker_release(&s->ticker);
	store_close(s->st);
	free(s);
}
