/*
 * Ticket intake, shared by POST /webhooks/tickets (signed) and POST
 * /api/v1/tickets (token): validate by the ingestion rules (support), store
 * the ticket, its first message and its triage job in one transaction
 * through the store's group commit, and only then answer.
 *
 * The HTTP thread validates, then suspends the connection and hands the
 * ticket to the intake pool: threads that wait for the group commit, so
 * that the few HTTP threads keep serving while many intakes share one
 * durable commit. When the commit is done the connection is resumed and the
 * HTTP thread writes the answer. A repeat with the
 * same sender id (per channel) or the same Idempotency-Key answers with the
 * ticket stored the first time.
 *
 * Without an id the seed would make one from the time and the customer
 * ("ticket_<unix time>_<customer_id>"), which merges two tickets a customer
 * sends within a second; Frontline numbers such tickets itself (T-000042).
 */
#include <pthread.h>
#include <string.h>

#include "server_int.h"
#include "monitor/monitor.h"
#include "store/store.h"
#include "support/support.h"

static const char *const channels[] = { "email", "chat", "web", "webhook", "phone", "api", NULL };

static bool known_channel(const char *c)
{
	size_t i;

	for (i = 0; c && channels[i]; i++)
		if (!strcmp(c, channels[i]))
			return true;
	return false;
}

/* The Idempotency-Key, scoped to the caller so two clients cannot collide. */
static int idem_key(struct server_req *r, char **out)
{
	const char *k = server__header(r, "Idempotency-Key");
	size_t i, n;

	*out = NULL;
	if (!k)
		return 0;
	n = strlen(k);
	if (!n || n > 200) {
		server__bad_request(r, "Idempotency-Key", "Idempotency-Key must be 1 to 200 characters");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (k[i] < 0x21 || k[i] > 0x7e) {
			server__bad_request(r, "Idempotency-Key", "Idempotency-Key must be printable ASCII");
			return -1;
		}
	}
	if (r->auth.token_id)
		*out = fl_asprintf("token:%lld:%s", (long long)r->auth.token_id, k);
	else
		*out = fl_asprintf("webhook:%s", k);
	return 0;
}

static void count(struct server_req *r, const char *channel, const char *result)
{
	const char *v[] = { channel ? channel : "unknown", result };

	monitor_add(r->srv->m_intake, v, 1);
}

/* The answer once the store has spoken (on the HTTP thread). */
static void answer(struct server_req *r)
{
	struct server_intake_job *j = r->intake;

	if (j->rc != STORE_OK) {
		fl_log(FL_LOG_ERROR, "intake failed: %s", j->err ? j->err : store_strerror(j->rc));
		count(r, fl_json_str(j->ticket, "channel", NULL), "failed");
		server__store_error(r, j->rc, "ticket", fl_json_str(j->ticket, "id", NULL));
		return;
	}
	count(r, fl_json_str(j->out, "channel", NULL), j->created ? "created" : "duplicate");
	if (j->created)
		server__notify_job(r);
	if (j->ok_status == 202) {
		json_t *body = json_pack("{s:O, s:O}", "id", json_object_get(j->out, "id"), "status",
					 json_object_get(j->out, "status"));

		if (!j->created)
			json_object_set_new(body, "duplicate", json_true());
		server__reply_json(r, j->created ? 202 : 200, body);
	} else {
		char *loc = fl_asprintf("/api/v1/tickets/%s", fl_json_str(j->out, "id", ""));

		server__add_header(r, "Location", loc);
		free(loc);
		server__reply_json(r, j->created ? j->ok_status : 200, json_incref(j->out));
	}
}

void server__intake_job_free(struct server_intake_job *j)
{
	if (!j)
		return;
	json_decref(j->ticket);
	json_decref(j->out);
	free(j->key);
	free(j->err);
	free(j);
}

void server__ticket_intake(struct server_req *r, const json_t *incoming, const char *channel,
			   unsigned ok_status)
{
	json_t *in = json_deep_copy(incoming), *ticket = NULL, *errors = NULL, *meta;
	const json_t *given_id = json_object_get(in, "id");
	struct server_intake_job *j;
	char *key = NULL;
	int rc;

	meta = json_object_get(in, "metadata");
	/* reserved: who submitted it is for Frontline to say */
	if (json_is_object(meta))
		json_object_del(meta, "api_token_id");
	if (!json_object_get(in, "source") && !json_object_get(in, "channel") && channel)
		json_object_set_new(in, "source", json_string(channel));
	if (given_id && (!json_is_string(given_id) || !json_string_length(given_id) ||
			 json_string_length(given_id) > 128)) {
		server__unprocessable(r, "id", NULL, "'id' must be a string of 1 to 128 characters");
		count(r, channel, "rejected");
		goto out;
	}
	rc = support_ticket_validate(in, fl_wall_us(), &ticket, &errors);
	if (rc != SUPPORT_OK) {
		const json_t *first = json_array_get(errors, 0);
		char *text = support_errors_text(errors);

		server__unprocessable(r, fl_json_str(first, "field", NULL), json_incref(errors), "%s", text);
		free(text);
		count(r, channel, "rejected");
		goto out;
	}
	if (!known_channel(fl_json_str(ticket, "channel", NULL))) {
		server__unprocessable(r, "source", NULL,
				      "unknown source '%s' (use email, chat, web, webhook, phone or api)",
				      fl_json_str(ticket, "channel", ""));
		count(r, channel, "rejected");
		goto out;
	}
	if (!given_id)
		json_object_del(ticket, "id");
	if (r->auth.token_id) {
		meta = json_object_get(ticket, "metadata");
		if (!json_is_object(meta)) {
			meta = json_object();
			json_object_set_new(ticket, "metadata", meta);
		}
		json_object_set_new(meta, "api_token_id", json_integer(r->auth.token_id));
	}
	if (idem_key(r, &key))
		goto out;
	j = fl_calloc(1, sizeof(*j));
	j->ticket = ticket;
	ticket = NULL;
	j->key = key;
	key = NULL;
	j->ok_status = ok_status;
	r->intake = j;
	/*
	 * The durable part waits for a group commit: off the HTTP thread, so that
	 * this thread serves other connections and many intakes share a commit.
	 */
	server__intake_submit(r);
out:
	json_decref(in);
	json_decref(ticket);
	json_decref(errors);
	free(key);
}

void server__intake_finish(struct server_req *r)
{
	answer(r);
}

/* ---- the intake pool: threads that wait on the group commit for requests ---- */

struct server_intake_pool {
	struct store_group *group;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct server_req **queue;     /* ring */
	size_t cap, head, count;
	pthread_t *threads;
	int nthreads;
	bool stop;
};

static void *intake_main(void *arg)
{
	struct server_intake_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct server_req *r;
		struct server_intake_job *j;

		while (!p->count && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->count && p->stop)
			break;
		r = p->queue[p->head];
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_mutex_unlock(&p->lock);
		j = r->intake;
		fl_log_set_request_id(r->request_id);
		j->rc = store_group_intake(p->group, j->ticket, "triage", j->key, &j->out, &j->created, &j->err);
		fl_log_set_request_id(NULL);
		/* the HTTP thread takes it from here (server.c, on_access) */
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int server__intake_pool_new(struct store_group *group, int nthreads, struct server_intake_pool **out)
{
	struct server_intake_pool *p = fl_calloc(1, sizeof(*p));
	pthread_attr_t attr;
	int i;

	p->group = group;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->cap = 1024;
	p->queue = fl_calloc(p->cap, sizeof(*p->queue));
	p->threads = fl_calloc((size_t)nthreads, sizeof(*p->threads));
	pthread_attr_init(&attr);
	/* they only wait on the store: a small stack keeps 64 of them cheap */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], &attr, intake_main, p))
			break;
		p->nthreads++;
	}
	pthread_attr_destroy(&attr);
	*out = p;
	return p->nthreads ? SERVER_OK : SERVER_EWORKER;
}

void server__intake_pool_push(struct server_intake_pool *p, struct server_req *r)
{
	pthread_mutex_lock(&p->lock);
	if (p->count == p->cap) {
		struct server_req **q = fl_calloc(p->cap * 2, sizeof(*q));
		size_t i;

		for (i = 0; i < p->count; i++)
			q[i] = p->queue[(p->head + i) % p->cap];
		free(p->queue);
		p->queue = q;
		p->head = 0;
		p->cap *= 2;
	}
	p->queue[(p->head + p->count) % p->cap] = r;
	p->count++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void server__intake_pool_free(struct server_intake_pool *p)
{
	int i;

	if (!p)
		return;
	/* finish what is queued: every suspended connection is resumed */
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p->queue);
	free(p);
}

bool server__may_see_ticket(const struct server_req *r, const json_t *ticket)
{
	if (r->auth.role != SERVER_ROLE_INTEGRATION)
		return true;
	return fl_json_int(json_object_get(ticket, "metadata"), "api_token_id", -1) == r->auth.token_id;
}
