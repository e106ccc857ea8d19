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
 * a ring of recent events shared by every stream; a stream is a position
 * in the ring and nothing else, so 1,000 streams cost the ring once plus a
 * small struct each (and libmicrohttpd's connection). libmicrohttpd asks
 * a stream's content reader for bytes when its socket can take them; a
 * stream with nothing to send suspends its connection and the next event
 * resumes it. A stream that falls a whole ring behind (a client that does
 * not read) is ended: it reconnects with Last-Event-ID and catches up from
 * the store. A heartbeat comment every FRONTLINE_STREAM_HEARTBEAT seconds
 * keeps proxies from closing idle streams and reveals dead clients (a
 * suspended connection notices nothing until it writes).
 *
 * Ids and order: event ids are the events table's. On SQLite they are
 * handed out in commit order; on PostgreSQL a transaction that began
 * earlier may commit an older id after a newer one was read, so ids skipped
 * over are looked for again for GAP_WAIT_US before they are given up (an id
 * can also be skipped for good: a rolled-back insert).
 *
 * Chat visitors (GET /api/v1/chat/sessions/{id}/stream) read the same
 * ring through a filter: an entry carries its ticket's number and, when a
 * visitor may be told of it, a second text in the visitor's words
 * (channels/chat: a message's id, a settled ticket, typing); a visitor's
 * stream sends only those of its own ticket, and heartbeats. An agent's
 * "replying" presence is the visitor's "agent is typing"; a visitor's
 * typing (server__live_chat_typing) is stored with the chat session and
 * read like presence (at once by the replica that took it, within
 * PRESENCE_EVERY_US by the others), reaching every replica's agents'
 * streams as chat.typing.
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

#define RING_SIZE 4096                          /* recent events kept (a power of two) */
#define POLL_BATCH 500                          /* events read per query */
#define CATCH_UP_MAX 1000                       /* missed events sent to a resuming stream at most */
#define GAP_WAIT_US (10 * INT64_C(1000000))     /* how long a skipped id may still commit */
#define MAX_GAPS 256
#define PRESENCE_TTL_US (60 * INT64_C(1000000)) /* presence not repeated for this long is gone */
#define PRESENCE_EVERY_US (500 * INT64_C(1000)) /* presence read this often (and on a wake-up) */
#define BLOCK_SIZE 4096                         /* bytes libmicrohttpd asks a stream for at most */

struct entry {
	int64_t id;          /* the event's id; 0: no id (presence, heartbeat) */
	char *text;          /* for the agents' streams; NULL: none */
	size_t len;
	int64_t number;      /* the ticket's number; 0: none (a heartbeat) */
	char *vtext;         /* for its ticket's visitor streams (every one's when number is 0); NULL: none */
	size_t vlen;
};

struct server_stream {
	struct server_live *live;
	struct MHD_Connection *conn;
	uint64_t start;      /* the ring's head when it opened: older entries without an id are not replayed */
	uint64_t seq;        /* the next ring entry to send */
	size_t off;          /* bytes of it sent */
	struct fl_buf pre;   /* sent first: retry and the events missed since Last-Event-ID */
	size_t pre_off;
	bool suspended, closing;
	bool visitor;        /* a chat visitor's: its ticket's visitor texts only */
	int64_t number;      /* the visitor's ticket (0 until its first message made one) */
	char session[72];    /* the visitor's chat session */
	struct server_stream *prev, *next;
};

struct gap {
	int64_t id, since_us;
};

struct server_live {
	struct server *srv;
	struct store *st;            /* the poller's connection */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, wake, closing;
	struct entry ring[RING_SIZE];
	uint64_t head;               /* sequence number of the next entry */
	int64_t last_id;             /* highest event id sent */
	struct gap gaps[MAX_GAPS];
	size_t ngaps;
	struct server_stream *streams;
	size_t nstreams, max_streams;
	size_t nvisitors;            /* of the streams, chat visitors' */
	json_t *presence;            /* "number/user" -> the last presence seen */
	json_t *typing;              /* chat session id -> the last typing seen */
	int64_t poll_us, heartbeat_us, last_beat_us, last_presence_us;
	struct monitor_family *m_streams, *m_events;
};

/* ---- the ring (under the lock) ---- */

/* Appends n (its texts taken) as the next entry and wakes the streams waiting for it. */
static void ring_put(struct server_live *l, struct entry n)
{
	struct entry *e = &l->ring[l->head & (RING_SIZE - 1)];
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

static uint64_t ring_oldest(const struct server_live *l)
{
	return l->head > RING_SIZE ? l->head - RING_SIZE : 0;
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

/* One event (a row of store_event_since) as text for the ring, or NULL to skip it. */
static char *format_event(const json_t *e, size_t *len)
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

	if (l->ngaps < MAX_GAPS) {
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
	rc = store_event_since(l->st, after, POLL_BATCH, &rows);
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
		for (k = l->last_id + 1; k < id && id - k <= MAX_GAPS; k++)
			gap_add(l, k, now);
		if (id > l->last_id)
			l->last_id = id;
		if (!(text = format_event(e, &len)))
			continue;
		{
			struct entry ne = { .id = id, .text = text, .len = len,
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
	return n == POLL_BATCH;
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
	struct entry ne = { .number = fl_json_int(p, "number", 0) };

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
	struct entry ne = { .number = fl_json_int(t, "number", 0) };

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
		ring_put(l, (struct entry){ .text = fl_strdup(": heartbeat\n\n"), .len = 13,
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
	pthread_mutex_lock(&l->lock);
	l->wake = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
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
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	l->started = false;
}

void server__live_free(struct server_live *l)
{
	size_t i;

	if (!l)
		return;
	server__live_stop(l);
	for (i = 0; i < RING_SIZE; i++) {
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

/* ---- a stream ---- */

/* The text of e that s sends, or false when s is not told of e. */
static bool entry_for(const struct server_stream *s, const struct entry *e, const char **text, size_t *len)
{
	if (!s->visitor) {
		*text = e->text;
		*len = e->len;
	} else if (e->vtext && (!e->number || (s->number && e->number == s->number))) {
		*text = e->vtext;
		*len = e->vlen;
	} else {
		return false;
	}
	return *text != NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct server_stream *s = cls;
	struct server_live *l = s->live;
	size_t n = 0, k;

	(void)pos;
	pthread_mutex_lock(&l->lock);
	if (s->pre_off < s->pre.len) {
		n = s->pre.len - s->pre_off < max ? s->pre.len - s->pre_off : max;
		memcpy(buf, s->pre.buf + s->pre_off, n);
		s->pre_off += n;
		if (s->pre_off == s->pre.len)
			fl_buf_release(&s->pre);
	}
	while (n < max && s->seq < l->head && !s->closing) {
		const struct entry *e;
		const char *text;
		size_t len;

		if (s->seq < ring_oldest(l)) {
			/* a whole ring behind: it catches up from the store when it reconnects */
			s->closing = true;
			break;
		}
		e = &l->ring[s->seq & (RING_SIZE - 1)];
		if (s->seq < s->start && !e->id) {
			/* a heartbeat or presence from before it opened: stale */
			s->seq++;
			continue;
		}
		if (!entry_for(s, e, &text, &len)) {
			s->seq++;
			continue;
		}
		k = len - s->off < max - n ? len - s->off : max - n;
		memcpy(buf + n, text + s->off, k);
		n += k;
		s->off += k;
		if (s->off == len) {
			s->seq++;
			s->off = 0;
		}
	}
	if (!n) {
		if (s->closing) {
			pthread_mutex_unlock(&l->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		/* nothing to send: wait, suspended, for the next event (ring_add resumes it) */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&l->lock);
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct server_stream *s = cls;
	struct server_live *l = s->live;

	pthread_mutex_lock(&l->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		l->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	l->nstreams--;
	if (s->visitor)
		l->nvisitors--;
	pthread_mutex_unlock(&l->lock);
	monitor_add(l->m_streams, NULL, -1);
	fl_buf_release(&s->pre);
	free(s);
}

/*
 * The ring position after event id: true with *seq set when the ring holds
 * everything after it; false when the ring starts after id (the rest comes
 * from the store). Under the lock.
 */
static bool ring_after(const struct server_live *l, int64_t id, uint64_t *seq)
{
	uint64_t q;

	if (id >= l->last_id) {
		*seq = l->head;
		return true;
	}
	for (q = l->head; q > ring_oldest(l); q--) {
		const struct entry *e = &l->ring[(q - 1) & (RING_SIZE - 1)];

		if (e->id && e->id <= id) {
			*seq = q;
			return true;
		}
	}
	return false;
}

/*
 * The events after id up to upto from the store, as text, into b;
 * *too_many when there are more than CATCH_UP_MAX (the client is told to
 * reload instead).
 */
static int catch_up(struct store *st, int64_t id, int64_t upto, struct fl_buf *b, bool *too_many)
{
	json_t *rows = NULL, *e;
	size_t i, n = 0;
	int rc;

	*too_many = false;
	while (id < upto) {
		rc = store_event_since(st, id, POLL_BATCH, &rows);
		if (rc != STORE_OK)
			return rc;
		if (!json_array_size(rows)) {
			json_decref(rows);
			break;
		}
		json_array_foreach(rows, i, e) {
			char *text;
			size_t len;

			id = fl_json_int(e, "id", 0);
			if (id > upto)
				break;
			if (++n > CATCH_UP_MAX) {
				*too_many = true;
				break;
			}
			if ((text = format_event(e, &len))) {
				fl_buf_add(b, text, len);
				free(text);
			}
		}
		json_decref(rows);
		rows = NULL;
		if (*too_many || id > upto)
			break;
	}
	return STORE_OK;
}

/* A new stream (agent's, or visitor's when session is not NULL): server__live_open's answers. */
static int open_stream(struct server_req *r, int64_t after, const char *session, int64_t number,
		       struct server_stream **out)
{
	struct server_live *l = r->srv->live;
	struct server_stream *s = fl_calloc(1, sizeof(*s));
	int64_t upto = 0;
	bool found = true, too_many = false;
	int rc;

	*out = NULL;
	if (session) {
		s->visitor = true;
		s->number = number;
		snprintf(s->session, sizeof(s->session), "%s", session);
		after = -1;   /* a visitor reads the messages again when it reconnects */
	}
	s->live = l;
	s->conn = r->conn;
	s->pre = (struct fl_buf)FL_BUF_INIT;
	fl_buf_adds(&s->pre, "retry: 2000\n\n");
	pthread_mutex_lock(&l->lock);
	if (l->closing || l->nstreams >= l->max_streams) {
		int why = l->closing ? 1 : 2;

		pthread_mutex_unlock(&l->lock);
		fl_buf_release(&s->pre);
		free(s);
		return why;
	}
	if (after >= 0)
		found = ring_after(l, after, &s->seq);
	if (!found) {
		/* older than the ring: from the store up to what the ring starts after */
		s->seq = l->head;
		upto = l->last_id;
	} else if (after < 0) {
		s->seq = l->head;
	}
	s->start = l->head;
	/* registered now, so that nothing sent from here on is missed */
	s->next = l->streams;
	if (l->streams)
		l->streams->prev = s;
	l->streams = s;
	l->nstreams++;
	if (s->visitor)
		l->nvisitors++;
	pthread_mutex_unlock(&l->lock);
	monitor_add(l->m_streams, NULL, 1);
	if (!found) {
		rc = catch_up(server__store(r), after, upto, &s->pre, &too_many);
		if (rc != STORE_OK || too_many) {
			fl_buf_reset(&s->pre);
			fl_buf_adds(&s->pre, "retry: 2000\n\nevent: reset\ndata: {\"reason\":\"too far behind: reload\"}\n\n");
		}
	}
	*out = s;
	return 0;
}

int server__live_open(struct server_req *r, int64_t after, struct server_stream **out)
{
	return open_stream(r, after, NULL, 0, out);
}

int server__live_open_visitor(struct server_req *r, const char *session, int64_t number,
			      struct server_stream **out)
{
	return open_stream(r, -1, session, number, out);
}

void server__live_chat_bind(struct server_live *l, const char *session, int64_t number)
{
	struct server_stream *s;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	for (s = l->streams; s; s = s->next)
		if (s->visitor && !s->number && !strcmp(s->session, session))
			s->number = number;
	pthread_mutex_unlock(&l->lock);
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

size_t server__live_agents(struct server_live *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->nstreams - l->nvisitors;
	pthread_mutex_unlock(&l->lock);
	return n;
}

struct MHD_Response *server__live_response(struct server_stream *s)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE, stream_read,
								      s, stream_free);

	if (!resp)
		stream_free(s);
	return resp;
}

void server__live_drop(struct server_stream *s)
{
	stream_free(s);
}

size_t server__live_count(struct server_live *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->nstreams;
	pthread_mutex_unlock(&l->lock);
	return n;
}
