/*
 * Spam verdicts on inbound mail, before the message becomes a ticket:
 *
 * - the receiving mail server's verdict headers, as SpamAssassin and most
 *   filters write them: "X-Spam-Flag: YES" and "X-Spam-Status: Yes,
 *   score=7.2 required=5.0 tests=...". Only a "yes" is honoured: anyone can
 *   write "X-Spam-Flag: NO" into a message, so a "no" is kept as a score but
 *   decides nothing (the built-in model still looks at the text);
 * - a real spamd (SpamAssassin's daemon) when FRONTLINE_SPAMD names one
 *   ("host:port"): the raw message is sent with the SPAMC/1.5 protocol's
 *   CHECK command and spamd answers "Spam: True ; 12.3 / 5.0". A spamd that
 *   cannot be reached or answers garbage leaves the verdict unknown (and says
 *   why): mail is never held up by the filter.
 *
 * What the triage does with a verdict (status spam, no reply, no customer)
 * is the support module's part; intake only records it and creates no CRM
 * customer for a sender whose message was called spam.
 */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "email_int.h"

/* Reads "score=7.2" and "required=5.0" (or "hits=", older versions) from an X-Spam-Status value. */
static void status_numbers(const char *v, struct email_spam *s)
{
	const char *p;
	char *end;

	if ((p = strcasestr(v, "score=")) || (p = strcasestr(v, "hits="))) {
		double d = strtod(strchr(p, '=') + 1, &end);

		if (end != strchr(p, '=') + 1)
			s->score = d;
	}
	if ((p = strcasestr(v, "required="))) {
		double d = strtod(p + 9, &end);

		if (end != p + 9)
			s->threshold = d;
	}
}

static bool starts_yes(const char *v)
{
	while (v && isspace((unsigned char)*v))
		v++;
	return v && (!strncasecmp(v, "yes", 3) || !strncasecmp(v, "true", 4));
}

void email__spam_headers(GMimeMessage *m, struct email_msg *msg)
{
	GMimeObject *o = GMIME_OBJECT(m);
	const char *flag = g_mime_object_get_header(o, "X-Spam-Flag");
	const char *status = g_mime_object_get_header(o, "X-Spam-Status");

	msg->spam.score = msg->spam.threshold = -1;
	if (status)
		status_numbers(status, &msg->spam);
	if (starts_yes(flag)) {
		msg->spam.verdict = EMAIL_SPAM_SPAM;
		fl_strlcpy(msg->spam.by, "X-Spam-Flag", sizeof(msg->spam.by));
	} else if (starts_yes(status)) {
		msg->spam.verdict = EMAIL_SPAM_SPAM;
		fl_strlcpy(msg->spam.by, "X-Spam-Status", sizeof(msg->spam.by));
	}
}

json_t *email_spam_to_json(const struct email_spam *s)
{
	json_t *o;

	if (s->verdict == EMAIL_SPAM_UNKNOWN && s->score < 0)
		return NULL;
	o = json_pack("{s:s}", "verdict", s->verdict == EMAIL_SPAM_SPAM ? "spam" :
				   s->verdict == EMAIL_SPAM_HAM ? "ham" : "unknown");
	if (s->by[0])
		json_object_set_new(o, "by", json_string(s->by));
	if (s->score >= 0)
		json_object_set_new(o, "score", json_real(s->score));
	if (s->threshold >= 0)
		json_object_set_new(o, "threshold", json_real(s->threshold));
	return o;
}

/* ---- spamd ---- */

/* Splits "host:port" (or "[v6]:port") into host and port; false when malformed. */
static bool split_addr(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon, *h = addr;
	size_t hl;

	if (!addr || !*addr)
		return false;
	if (*addr == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return false;
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return false;
		hl = (size_t)(colon - addr);
	}
	if (!hl || hl >= hsize || !colon[1] || strlen(colon + 1) >= psize)
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	fl_strlcpy(port, colon + 1, psize);
	return strspn(port, "0123456789") == strlen(port);
}

/* Waits until fd is ready for events or the deadline passes; false on timeout or error. */
static bool wait_fd(int fd, short events, int64_t deadline_us)
{
	for (;;) {
		int64_t left = deadline_us - fl_mono_us();
		struct pollfd p = { fd, events, 0 };
		int r;

		if (left <= 0)
			return false;
		r = poll(&p, 1, (int)((left + 999) / 1000));
		if (r > 0)
			return !(p.revents & (POLLERR | POLLNVAL)) || (p.revents & POLLIN);
		if (r < 0 && errno != EINTR)
			return false;
	}
}

static int connect_to(const char *host, const char *port, int64_t deadline_us, char **why)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	int fd = -1, rc;

	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res))) {
		*why = fl_asprintf("cannot resolve '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_us) &&
		    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) && !err)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*why = fl_asprintf("cannot connect to spamd at '%s:%s'", host, port);
	return fd;
}

static bool send_all(int fd, const char *p, size_t n, int64_t deadline_us)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!wait_fd(fd, POLLOUT, deadline_us))
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* Parses spamd's reply ("SPAMD/1.1 0 EX_OK" and "Spam: True ; 12.3 / 5.0"). */
static int parse_reply(const char *r, struct email_spam *out, char **why)
{
	const char *spam = strcasestr(r, "\nSpam:");
	int code = -1;
	double score, threshold;
	char word[8];

	if (strncmp(r, "SPAMD/", 6) || sscanf(strchr(r, ' ') ? strchr(r, ' ') : r, " %d", &code) != 1) {
		*why = fl_strdup("spamd answered something that is not a SPAMD reply");
		return EMAIL_EPARSE;
	}
	if (code != 0) {
		size_t n = strcspn(r, "\r\n");

		*why = fl_asprintf("spamd refused the message: %.*s", (int)(n > 200 ? 200 : n), r);
		return EMAIL_EPARSE;
	}
	if (!spam || sscanf(spam + 6, " %7s ; %lf / %lf", word, &score, &threshold) != 3) {
		*why = fl_strdup("spamd's reply has no Spam: line");
		return EMAIL_EPARSE;
	}
	out->verdict = !strcasecmp(word, "true") || !strcasecmp(word, "yes") ? EMAIL_SPAM_SPAM : EMAIL_SPAM_HAM;
	out->score = score;
	out->threshold = threshold;
	fl_strlcpy(out->by, "spamd", sizeof(out->by));
	return EMAIL_OK;
}

int email_spamd_check(const char *addr, const void *raw, size_t len, long timeout_ms,
		      struct email_spam *out, char **why)
{
	char host[256], port[16], head[96];
	int64_t deadline = fl_mono_us() + (int64_t)(timeout_ms > 0 ? timeout_ms : 15000) * 1000;
	struct fl_buf reply = FL_BUF_INIT;
	int fd, rc = EMAIL_ETEMP;

	*why = NULL;
	if (!split_addr(addr, host, sizeof(host), port, sizeof(port))) {
		*why = fl_asprintf("FRONTLINE_SPAMD '%s' is not host:port", addr ? addr : "");
		return EMAIL_EINVAL;
	}
	if ((fd = connect_to(host, port, deadline, why)) < 0)
		return EMAIL_ETEMP;
	snprintf(head, sizeof(head), "CHECK SPAMC/1.5\r\nContent-length: %zu\r\n\r\n", len);
	if (!send_all(fd, head, strlen(head), deadline) || !send_all(fd, raw, len, deadline)) {
		*why = fl_asprintf("cannot send the message to spamd at '%s'", addr);
		goto out;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		char buf[512];
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			fl_buf_add(&reply, buf, (size_t)r);
			if (reply.len > 64 * 1024)
				break;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (!wait_fd(fd, POLLIN, deadline)) {
				*why = fl_asprintf("spamd at '%s' did not answer within %ld ms", addr,
						   timeout_ms > 0 ? timeout_ms : 15000L);
				goto out;
			}
		} else {
			*why = fl_asprintf("cannot read spamd's answer: %s", strerror(errno));
			goto out;
		}
	}
	rc = parse_reply(reply.buf ? reply.buf : "", out, why);
out:
	close(fd);
	fl_buf_release(&reply);
	return rc;
}
