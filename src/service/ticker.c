/*
 * A periodic thread for the service's background rounds (the SLA sweep,
 * the KB sync): calls round(arg) every interval_s seconds until stopped,
 * the first round at once or after one interval. What a round does, and
 * which replica may do it, is the caller's.
 */
#include <string.h>

#include "service_int.h"

static void *run(void *arg)
{
	struct service__ticker *t = arg;
	bool first = true;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		if (!first || !t->at_once) {
			fl_cond_wait_ms(&t->wake, &t->lock, (int64_t)t->interval_s * 1000);
			if (t->stop)
				break;
		}
		first = false;
		pthread_mutex_unlock(&t->lock);
		t->round(t->arg);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

void service__ticker_init(struct service__ticker *t, int interval_s, bool at_once, void (*round)(void *arg),
			  void *arg)
{
	memset(t, 0, sizeof(*t));
	t->interval_s = interval_s;
	t->at_once = at_once;
	t->round = round;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
}

int service__ticker_start(struct service__ticker *t)
{
	if (t->running)
		return SERVICE_OK;
	if (pthread_create(&t->thread, NULL, run, t))
		return SERVICE_EINVAL;
	t->running = true;
	return SERVICE_OK;
}

bool service__ticker_stop(struct service__ticker *t)
{
	if (!t->running)
		return false;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->running = false;
	return true;
}

void service__ticker_release(struct service__ticker *t)
{
	service__ticker_stop(t);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
}
