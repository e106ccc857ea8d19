/*
 * The live stream behind GET /api/v1/stream: one thread per process reads
 * what is new in the store and fans it out to every open stream.
 *
 * What is new: audit events with ids above the last one sent (the store's
 * events table, which every replica writes: a change made anywhere reaches
 * every replica's streams), read every FRONTLINE_STREAM_POLL_MS and at once
 * when this process made a change (server__live_wake); and presence, the
 * store's rows of the last 60 seconds compared with what was last seen (a
 * state changed, someone came, someone's minute ran out: "left").
 *
 * Fan-out: each event is formatted once, as Server-Sent Events text, into
 * a ring of recent events shared by every stream (live_stream.c: a stream
 * is a position in the ring and nothing else). A heartbeat comment every
 * FRONTLINE_STREAM_HEARTBEAT seconds keeps proxies from closing idle
 * streams and reveals dead clients (a suspended connection notices nothing
 * until it writes).
 *
 * Ids and order: event ids are the events table's. On SQLite they are
 * handed out in commit order; on PostgreSQL a transaction that began
 * earlier may commit an older id after a newer one was read, so ids skipped
 * over are looked for again for GAP_WAIT_US before they are given up (an id
 * can also be skipped for good: a rolled-back insert).
 *
 * Chat visitors: an entry carries its ticket's number and, when a visitor
 * may be told of it, a second text in the visitor's words (channels/chat:
 * a message's id, a settled ticket, typing). An agent's "replying"
 * presence is the visitor's "agent is typing"; a visitor's typing
 * (server__live_chat_typing) is stored with the chat session and read like
 * presence (at once by the replica that took it, within PRESENCE_EVERY_US
 * by the others), reaching every replica's agents' streams as chat.typing.
 *
 * Draining (SIGTERM) ends every stream at once (the clients reconnect to
 * another replica); streams do not count as requests in flight, so the
 * service's stop never waits for them.
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"
#include "channels/chat/chat.h"
#include "monitor/monitor.h"
#include "store/store.h"

#define GAP_WAIT_US (10 * INT64_C(1000000))     /* how long a skipped id may still commit */
#define PRESENCE_TTL_US (60 * INT64_C(1000000)) /* presence not repeated for this long is gone */
#define PRESENCE_EVERY_US (500 * INT64_C(1000)) /* presence read this often (and on a wake-up) */

/* ---- the ring (under the lock) ---- */

/* Appends n (its texts taken) as the next entry and wakes the streams waiting for it. */
static void ring_put(struct server_live *l, struct server_live_entry n)
{
	struct server_live_entry *e = &l->ring[l->head & (SERVER_LIVE_RING - 1)];
	struct server_stream *s;

	free(e->text);
	free(e->vtext);
	*e = n;
	l->head++;
	for (s = l->streams; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
}

/* ---- events as Server-Sent Events ---- */

/* The stream's name of an audit event (util.h's vocabulary). */
static const char *stream_name(const char *type, const json_t *data)
{
	const json_t *f;
	size_t i;

	if (!strcmp(type, FL_EVENT_WORKFLOW_COMPLETED))
		return FL_EVENT_TICKET_TRIAGED;
	if (!strcmp(type, FL_EVENT_TICKET_STATUS))
		return !strcmp(fl_json_str(data, "to", ""), FL_STATUS_ESCALATED) ? FL_EVENT_TICKET_ESCALATED
										: FL_EVENT_TICKET_STATUS_CHANGED;
	if (!strcmp(type, FL_EVENT_TICKET_UPDATED)) {
		json_array_foreach(json_object_get(data, "fields"), i, f)
			if (!strcmp(json_string_value(f) ? json_string_value(f) : "", "assignee"))
				return FL_EVENT_TICKET_ASSIGNED;
	}
	return type;
}

char *server__live_format(const json_t *e, size_t *len)
{
	const char *type = fl_json_str(e, "type", ""), *name;
	json_t *data = json_object_get(e, "data"), *d;
	struct fl_buf b = FL_BUF_INIT;

	if (!*type || strpbrk(type, "\r\n"))
		return NULL;
	name = stream_name(type, data);
	d = json_copy(data);
	if (!json_is_object(d)) {
		json_decref(d);
		d = json_object();
	}
	json_object_set(d, "ticket_id", json_object_get(e, "ticket_id"));
	json_object_set(d, "number", json_object_get(e, "number"));
	/* the version the change made, when the event says; else the ticket's now */
	if (!json_is_integer(json_object_get(d, "version")))
		json_object_set(d, "version", json_object_get(e, "version"));
	json_object_set(d, "actor", json_object_get(e, "actor"));
	json_object_set(d, "at", json_object_get(e, "created_at"));
	json_object_set_new(d, "type", json_string(type));
	fl_buf_addf(&b, "id: %lld\nevent: %s\ndata: ", (long long)fl_json_int(e, "id", 0), name);
	if (fl_json_encode(&b, d)) {
		json_decref(d);
		fl_buf_release(&b);
		return NULL;
	}
	fl_buf_adds(&b, "\n\n");
	json_decref(d);
	return fl_buf_detach(&b, len);
}

/* ---- the poller ---- */

static bool gap_take(struct server_live *l, int64_t id)
{
	size_t i;

	for (i = 0; i < l->ngaps; i++) {
		if (l->gaps[i].id == id) {
			l->gaps[i] = l->gaps[--l->ngaps];
			return true;
		}
	}
	return false;
}

static void gap_add(struct server_live *l, int64_t id, int64_t now)
{
	size_t i, oldest = 0;

	if (l->ngaps < SERVER_LIVE_GAPS) {
		l->gaps[l->ngaps].id = id;
		l->gaps[l->ngaps++].since_us = now;
		return;
	}
	for (i = 1; i < l->ngaps; i++)
		if (l->gaps[i].since_us < l->gaps[oldest].since_us)
			oldest = i;
	l->gaps[oldest].id = id;
	l->gaps[oldest].since_us = now;
}

/* Where the next read starts: below the oldest gap still awaited. */
static int64_t read_after(struct server_live *l, int64_t now)
{
	int64_t after = l->last_id;
	size_t i = 0;

	while (i < l->ngaps) {
		if (now - l->gaps[i].since_us > GAP_WAIT_US) {
			l->gaps[i] = l->gaps[--l->ngaps];
			continue;
		}
		if (l->gaps[i].id - 1 < after)
			after = l->gaps[i].id - 1;
		i++;
	}
	return after;
}

/* Reads new events and adds them to the ring; true when a full batch came (read again). */
static bool poll_events(struct server_live *l)
{
	int64_t now = fl_mono_us(), after, id, k;
	json_t *rows = NULL, *e;
	size_t i, n = 0;
	int rc;

	pthread_mutex_lock(&l->lock);
	after = read_after(l, now);
	pthread_mutex_unlock(&l->lock);
	rc = store_event_since(l->st, after, SERVER_LIVE_BATCH, &rows);
	if (rc != STORE_OK) {
		fl_log(FL_LOG_WARN, "live stream: cannot read events: %s", store_errmsg(l->st));
		return false;
	}
	pthread_mutex_lock(&l->lock);
	json_array_foreach(rows, i, e) {
		char *text;
		size_t len;

		id = fl_json_int(e, "id", 0);
		if (id <= l->last_id && !gap_take(l, id))
			continue;   /* sent already */
		for (k = l->last_id + 1; k < id && id - k <= SERVER_LIVE_GAPS; k++)
			gap_add(l, k, now);
		if (id > l->last_id)
			l->last_id = id;
		if (!(text = server__live_format(e, &len)))
			continue;
		{
			struct server_live_entry ne = { .id = id, .text = text, .len = len,
					    .number = fl_json_int(e, "number", 0) };

			if (ne.number)
				ne.vtext = chat_visitor_event(fl_json_str(e, "type", ""), json_object_get(e, "data"),
							      &ne.vlen);
			ring_put(l, ne);
		}
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	if (n)
		monitor_add(l->m_events, NULL, (double)n);
	n = json_array_size(rows);
	json_decref(rows);
	return n == SERVER_LIVE_BATCH;
}

/* An event without an id, "event: <name>" with d (taken) as its data; NULL when d cannot be written. */
static char *sse_text(const char *name, json_t *d, size_t *len)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_addf(&b, "event: %s\ndata: ", name);
	if (!d || fl_json_encode(&b, d)) {
		json_decref(d);
		fl_buf_release(&b);
		return NULL;
	}
	json_decref(d);
	fl_buf_adds(&b, "\n\n");
	return fl_buf_detach(&b, len);
}

/* A presence event (no id: presence is not replayed) into the ring. Under the lock. */
static void add_presence(struct server_live *l, const json_t *p, const char *state, const char *at)
{
	/* to the ticket's visitor: an agent replying is typing; any other state is not */
	struct server_live_entry ne = { .number = fl_json_int(p, "number", 0) };

	ne.text = sse_text(FL_EVENT_PRESENCE,
			   json_pack("{s:O, s:O, s:O, s:s, s:s}", "ticket_id", json_object_get(p, "ticket_id"),
				     "number", json_object_get(p, "number"), "user", json_object_get(p, "user"),
				     "state", state, "at", at),
			   &ne.len);
	if (!ne.text)
		return;
	if (ne.number)
		ne.vtext = chat_typing_event("agent", !strcmp(state, FL_PRESENCE_REPLYING), &ne.vlen);
	ring_put(l, ne);
}

/* Presence of the last minute against what was seen: changes, arrivals, departures. */
static void poll_presence(struct server_live *l)
{
	json_t *rows = NULL, *p, *seen = json_object(), *prev;
	const char *key;
	char k[64], now_s[32];
	void *tmp;
	size_t i;

	if (store_presence_list(l->st, NULL, fl_wall_us() - PRESENCE_TTL_US, &rows) != STORE_OK) {
		fl_log(FL_LOG_WARN, "live stream: cannot read presence: %s", store_errmsg(l->st));
		json_decref(seen);
		return;
	}
	fl_time_rfc3339(now_s, fl_wall_us());
	pthread_mutex_lock(&l->lock);
	json_array_foreach(rows, i, p) {
		snprintf(k, sizeof(k), "%lld/%lld", (long long)fl_json_int(p, "number", 0),
			 (long long)fl_json_int(json_object_get(p, "user"), "id", 0));
		json_object_set(seen, k, p);
		prev = json_object_get(l->presence, k);
		if (!prev || strcmp(fl_json_str(prev, "state", ""), fl_json_str(p, "state", "")))
			add_presence(l, p, fl_json_str(p, "state", ""), fl_json_str(p, "at", now_s));
		json_object_set(l->presence, k, p);
	}
	json_object_foreach_safe(l->presence, tmp, key, prev) {
		if (json_object_get(seen, key))
			continue;
		/* not repeated within the minute: gone */
		if (strcmp(fl_json_str(prev, "state", ""), FL_PRESENCE_LEFT))
			add_presence(l, prev, FL_PRESENCE_LEFT, now_s);
		json_object_del(l->presence, key);
	}
	pthread_mutex_unlock(&l->lock);
	json_decref(rows);
	json_decref(seen);
}

/* A visitor's typing (or its end) to the agents' streams. Under the lock. */
static void add_typing(struct server_live *l, const json_t *t, bool typing)
{
	struct server_live_entry ne = { .number = fl_json_int(t, "number", 0) };

	ne.text = sse_text("chat.typing",
			   json_pack("{s:O, s:O, s:b}", "ticket_id", json_object_get(t, "ticket_id"), "number",
				     json_object_get(t, "number"), "typing", typing),
			   &ne.len);
	if (ne.text)
		ring_put(l, ne);
}

/*
 * Visitors' typing of the last minute, said through any replica (the
 * store's), against what was seen: each new word, and the end of a typing
 * that was not repeated within the minute.
 */
static void poll_typing(struct server_live *l)
{
	json_t *rows = NULL, *t, *seen = json_object(), *prev;
	const char *key;
	void *tmp;
	size_t i;

	if (store_chat_typing_list(l->st, fl_wall_us() - PRESENCE_TTL_US, &rows) != STORE_OK) {
		fl_log(FL_LOG_WARN, "live stream: cannot read chat typing: %s", store_errmsg(l->st));
		json_decref(seen);
		return;
	}
	pthread_mutex_lock(&l->lock);
	json_array_foreach(rows, i, t) {
		key = fl_json_str(t, "session_id", "");
		json_object_set(seen, key, t);
		prev = json_object_get(l->typing, key);
		if (prev ? !fl_str_eq(fl_json_str(prev, "at", ""), fl_json_str(t, "at", "")) ||
			   json_is_true(json_object_get(prev, "typing")) != json_is_true(json_object_get(t, "typing"))
			 : json_is_true(json_object_get(t, "typing")))
			add_typing(l, t, json_is_true(json_object_get(t, "typing")));
		json_object_set(l->typing, key, t);
	}
	json_object_foreach_safe(l->typing, tmp, key, prev) {
		if (json_object_get(seen, key))
			continue;
		if (json_is_true(json_object_get(prev, "typing")))
			add_typing(l, prev, false);
		json_object_del(l->typing, key);
	}
	pthread_mutex_unlock(&l->lock);
	json_decref(rows);
	json_decref(seen);
}

static void heartbeat(struct server_live *l)
{
	pthread_mutex_lock(&l->lock);
	if (l->streams)
		ring_put(l, (struct server_live_entry){ .text = fl_strdup(": heartbeat\n\n"), .len = 13,
					    .vtext = fl_strdup(": heartbeat\n\n"), .vlen = 13 });
	pthread_mutex_unlock(&l->lock);
}

static void *run(void *arg)
{
	struct server_live *l = arg;

	for (;;) {
		int64_t now;
		bool woken;

		pthread_mutex_lock(&l->lock);
		if (!l->wake && !l->stop)
			fl_cond_wait_ms(&l->cond, &l->lock, (l->poll_us + 999) / 1000);
		woken = l->wake;
		l->wake = false;
		if (l->stop) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		pthread_mutex_unlock(&l->lock);
		while (poll_events(l))
			;
		now = fl_mono_us();
		if (woken || now - l->last_presence_us >= PRESENCE_EVERY_US) {
			poll_presence(l);
			poll_typing(l);
			l->last_presence_us = now;
		}
		if (now - l->last_beat_us >= l->heartbeat_us) {
			heartbeat(l);
			l->last_beat_us = now;
		}
	}
	return NULL;
}

/* ---- the object ---- */

int server__live_new(struct server *srv, const char *url, struct server_live **out, char **err)
{
	struct server_live *l = fl_calloc(1, sizeof(*l));
	int64_t poll_ms = fl_config_int("FRONTLINE_STREAM_POLL_MS", 100);
	int64_t beat_s = fl_config_int("FRONTLINE_STREAM_HEARTBEAT", 15);

	*out = NULL;
	l->srv = srv;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->presence = json_object();
	l->typing = json_object();
	l->poll_us = (poll_ms > 0 ? poll_ms : 100) * 1000;
	l->heartbeat_us = (beat_s > 0 ? beat_s : 15) * INT64_C(1000000);
	l->max_streams = (size_t)fl_config_int("FRONTLINE_STREAM_MAX", 3072);
	l->m_streams = monitor_family_new(srv->registry, MONITOR_GAUGE, "frontline_stream_connections",
					  "live streams (GET /api/v1/stream) open", 0, NULL, NULL, 0);
	l->m_events = monitor_family_new(srv->registry, MONITOR_COUNTER, "frontline_stream_events_total",
					 "audit events sent to the live streams (each once, whatever the streams)",
					 0, NULL, NULL, 0);
	if (store_open(url, &l->st, err) != STORE_OK) {
		server__live_free(l);
		return SERVER_ESTORE;
	}
	*out = l;
	return SERVER_OK;
}

int server__live_start(struct server_live *l, char **err)
{
	if (store_event_last_id(l->st, &l->last_id) != STORE_OK) {
		*err = fl_asprintf("live stream: cannot read the events: %s", store_errmsg(l->st));
		return SERVER_ESTORE;
	}
	l->last_beat_us = l->last_presence_us = fl_mono_us();
	if (pthread_create(&l->thread, NULL, run, l)) {
		*err = fl_strdup("live stream: cannot start its thread");
		return SERVER_EINVAL;
	}
	l->started = true;
	return SERVER_OK;
}

void server__live_wake(struct server_live *l)
{
	if (!l)
		return;
	server__signal(&l->lock, &l->cond, &l->wake);
}

void server__live_chat_typing(struct server_live *l, struct store *st, const char *ticket_id, int64_t number,
			      bool typing)
{
	if (!l || !number)
		return;
	/* stored, for every replica's poller; this one's reads it at once */
	if (store_chat_typing_set(st, ticket_id, typing) != STORE_OK)
		fl_log(FL_LOG_WARN, "live stream: cannot record typing on %s: %s", ticket_id, store_errmsg(st));
	else
		server__live_wake(l);
}

void server__live_close(struct server_live *l)
{
	struct server_stream *s;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->closing = true;
	for (s = l->streams; s; s = s->next) {
		s->closing = true;
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	pthread_mutex_unlock(&l->lock);
}

void server__live_stop(struct server_live *l)
{
	if (!l || !l->started)
		return;
	server__signal(&l->lock, &l->cond, &l->stop);
	pthread_join(l->thread, NULL);
	l->started = false;
}

void server__live_free(struct server_live *l)
{
	size_t i;

	if (!l)
		return;
	server__live_stop(l);
	for (i = 0; i < SERVER_LIVE_RING; i++) {
		free(l->ring[i].text);
		free(l->ring[i].vtext);
	}
	json_decref(l->presence);
	json_decref(l->typing);
	store_close(l->st);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}
