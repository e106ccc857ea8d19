/*
 * The IMAP poller as a background thread, for `frontline serve` and
 * `frontline worker`: every FRONTLINE_IMAP_INTERVAL seconds one
 * email_imap_poll on its own store connection. With several replicas, the
 * store's named lock "frontline.imap" lets one of them poll at a time (two
 * pollers would only fetch the same messages twice and find duplicates, but
 * there is no point in it).
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "email_int.h"
#include "store/store.h"

#define LOCK_NAME "frontline.imap"

struct email_imap_poller {
	struct store *st;
	struct email_imap_opts io;
	struct email_intake_opts in;
	int64_t interval_s;
	char owner[128];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *run(void *arg)
{
	struct email_imap_poller *p = arg;

	for (;;) {
		struct email_imap_stats s;
		struct timespec until;
		bool acquired = false;
		char *err = NULL;
		int rc;

		rc = store_lock_try(p->st, LOCK_NAME, p->owner, (int)(p->interval_s * 3 + 60), &acquired);
		if (rc != STORE_OK) {
			fl_log(FL_LOG_WARN, "imap: cannot take the poller's lock: %s", store_errmsg(p->st));
		} else if (acquired) {
			rc = email_imap_poll(p->st, &p->io, &p->in, &s, &err);
			if (rc != EMAIL_OK)
				fl_log(FL_LOG_ERROR, "imap: %s", err ? err : email_strerror(rc));
			else if (s.candidates)
				fl_log(FL_LOG_INFO, "imap: %zu fetched, %zu stored, %zu duplicates, %zu quarantined, "
				       "%zu refused, %zu failed", s.fetched, s.stored, s.duplicates, s.quarantined,
				       s.refused, s.failed);
			free(err);
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)p->interval_s;
		pthread_mutex_lock(&p->lock);
		while (!p->stop && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
			;
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		pthread_mutex_unlock(&p->lock);
	}
	store_lock_release(p->st, LOCK_NAME, p->owner);
	return NULL;
}

int email_imap_poller_start(const char *store_url, struct email_imap_poller **out, char **err)
{
	struct email_imap_poller *p;
	char host[64] = "";
	int rc;

	*out = NULL;
	*err = NULL;
	p = fl_calloc(1, sizeof(*p));
	email_imap_opts_from_config(&p->io);
	if (!p->io.url || !*p->io.url) {
		free(p);
		return EMAIL_OK; /* not configured: nothing to run */
	}
	email_intake_opts_from_config(&p->in);
	p->interval_s = fl_config_int("FRONTLINE_IMAP_INTERVAL", 60);
	if (p->interval_s < 1)
		p->interval_s = 1;
	gethostname(host, sizeof(host) - 1);
	snprintf(p->owner, sizeof(p->owner), "%s:%d:imap", host, (int)getpid());
	rc = store_open(store_url, &p->st, err);
	if (rc != STORE_OK) {
		free(p);
		return store_err_is_transient(rc) ? EMAIL_ETEMP : EMAIL_ESTORE;
	}
	email_init();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, run, p)) {
		*err = fl_strdup("cannot start the IMAP poller's thread");
		store_close(p->st);
		free(p);
		return EMAIL_EIMAP;
	}
	*out = p;
	return EMAIL_OK;
}

void email_imap_poller_stop(struct email_imap_poller *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	store_close(p->st);
	free(p);
}
