/*
 * A live stream (GET /api/v1/stream, and a chat visitor's GET
 * /api/v1/chat/sessions/{id}/stream): a position in the ring that live.c's
 * poller fills, and nothing else, so 1,000 streams cost the ring once plus
 * a small struct each (and libmicrohttpd's connection). libmicrohttpd asks
 * a stream's content reader for bytes when its socket can take them; a
 * stream with nothing to send suspends its connection and the next entry
 * resumes it. A stream that falls a whole ring behind (a client that does
 * not read) is ended: it reconnects with Last-Event-ID and catches up from
 * the store (at most CATCH_UP_MAX events; more, and it is told to reload).
 *
 * A visitor's stream reads the same ring through a filter: it sends only
 * the visitor texts of its own ticket's entries, and heartbeats; it follows
 * its ticket once the session's first message made one
 * (server__live_chat_bind).
 */
#include <stdio.h>
#include <string.h>

#include "server_int.h"
#include "monitor/monitor.h"
#include "store/store.h"

#define CATCH_UP_MAX 1000                       /* missed events sent to a resuming stream at most */
#define BLOCK_SIZE 4096                         /* bytes libmicrohttpd asks a stream for at most */

/* The text of e that s sends, or false when s is not told of e. */
static bool entry_for(const struct server_stream *s, const struct server_live_entry *e, const char **text,
		      size_t *len)
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
		const struct server_live_entry *e;
		const char *text;
		size_t len;

		if (s->seq < server__live_oldest(l)) {
			/* a whole ring behind: it catches up from the store when it reconnects */
			s->closing = true;
			break;
		}
		e = &l->ring[s->seq & (SERVER_LIVE_RING - 1)];
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
	for (q = l->head; q > server__live_oldest(l); q--) {
		const struct server_live_entry *e = &l->ring[(q - 1) & (SERVER_LIVE_RING - 1)];

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
		rc = store_event_since(st, id, SERVER_LIVE_BATCH, &rows);
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
			if ((text = server__live_format(e, &len))) {
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
