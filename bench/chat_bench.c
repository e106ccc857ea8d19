/*
 * chat_bench: the chat widget's round trips (issue 17 point 6) against the
 * real `frontline serve` on a SQLite store: N chats open at once (each a
 * session with its ticket and its visitor's live stream, plus one agent's
 * console stream), then, chat after chat for R rounds:
 *
 *   visitor -> agent   POST /api/v1/chat/sessions/{id}/messages until the
 *                      agent's stream reads its ticket.customer_replied;
 *   agent -> visitor   POST /api/v1/tickets/{id}/replies until that
 *                      visitor's stream reads its "message" event.
 *
 * Timed at the client on loopback (the server's time and the loopback's: an
 * upper bound of the server's). The goal: p99 under 100 ms both ways with
 * 200 chats. Prints a Markdown section for docs/BENCHMARKS.md.
 *
 * Usage: chat_bench FRONTLINE [--chats N] [--rounds N]
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>

#include "bench_serve.h"
#include "server/server.h"
#include "store/store.h"
#include "util/util.h"

struct chat {
	char id[64], token[96], ref[32];
	int fd;               /* the visitor's stream */
	size_t seen;          /* "event: message" read so far */
	char tail[32];        /* the last bytes read (a needle split between reads) */
};

struct agent {
	int fd;
	size_t seen;
	char tail[48];
};

static int open_stream(unsigned port, const char *path, const char *auth)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char *req = fl_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s\r\n", path,
				auth ? auth : "");
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		fl_die("cannot open a stream: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	free(req);
	return fd;
}

/* Reads fd until needle has been seen more than *seen times in all (tail keeps split needles); false on timeout. */
static bool wait_for(int fd, const char *needle, size_t *seen, char *tail, size_t tail_size, int timeout_ms)
{
	int64_t deadline = fl_mono_us() + (int64_t)timeout_ms * 1000;
	size_t want = *seen + 1, nl = strlen(needle);

	while (*seen < want) {
		struct pollfd p = { fd, POLLIN, 0 };
		char buf[16384 + 64], *q;
		size_t keep = strlen(tail), len;
		int64_t left = (deadline - fl_mono_us()) / 1000;
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		memcpy(buf, tail, keep);
		r = read(fd, buf + keep, sizeof(buf) - keep - 1);
		if (r <= 0)
			return false;
		len = keep + (size_t)r;
		buf[len] = '\0';
		for (q = buf; (q = strstr(q, needle)); q += nl)
			(*seen)++;
		/* keep fewer bytes than the needle: a whole one is never counted twice */
		keep = len < nl - 1 ? len : nl - 1;
		if (keep >= tail_size)
			keep = tail_size - 1;
		memcpy(tail, buf + len - keep, keep);
		tail[keep] = '\0';
	}
	return true;
}

static size_t keep_body(char *p, size_t size, size_t n, void *arg)
{
	fl_buf_add(arg, p, size * n);
	return size * n;
}

/* A JSON request; the answer's status, its body parsed into *out (may be NULL). */
static long call(CURL *c, const char *method, const char *url, const char *auth, const char *body, json_t **out)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct fl_buf b = FL_BUF_INIT;
	long status = 0;

	if (auth)
		h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	if (out)
		*out = b.len ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
	fl_buf_release(&b);
	return status;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void result(const char *what, double *ms, size_t n, size_t missed)
{
	qsort(ms, n, sizeof(*ms), cmp);
	if (!n) {
		printf("| %s | 0 | - | - | - | %zu |\n", what, missed);
		return;
	}
	printf("| %s | %zu | %.1f | %.1f | %.1f | %zu |\n", what, n, ms[n / 2], ms[(size_t)((double)(n - 1) * 0.99)],
	       ms[n - 1], missed);
}

int main(int argc, char **argv)
{
	char dir[] = "/var/tmp/frontline-chat-bench-XXXXXX", token[64], hash[65], *url, *base, *agent_auth;
	int64_t nchats = 200, rounds = 10, i, r;
	struct store *st = NULL;
	struct chat *chats;
	struct agent ag = { 0 };
	double *up, *down;
	size_t nup = 0, ndown = 0, missed_up = 0, missed_down = 0;
	struct proc p;
	char *err = NULL;
	CURL *c;

	if (argc < 2)
		fl_die("usage: chat_bench FRONTLINE [--chats N] [--rounds N]");
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--chats") && i + 1 < argc)
			nchats = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = strtoll(argv[++i], NULL, 10);
		else
			fl_die("unknown argument '%s'", argv[i]);
	}
	if (nchats < 1 || rounds < 1)
		fl_die("--chats and --rounds must be at least 1");
	bench_prepare(dir);
	url = fl_asprintf("sqlite://%s/chat.db", dir);
	if (store_open(url, &st, &err))
		fl_die("%s", err);
	server_token_generate(token, hash);
	if (store_token_insert(st, "bench_agent", "agent", hash, NULL))
		fl_die("token: %s", store_errmsg(st));
	store_close(st);
	agent_auth = fl_asprintf("Authorization: Bearer %s", token);

	proc_init(argv[1], dir);
	p = bench_serve(dir, url, NULL);
	base = fl_asprintf("http://127.0.0.1:%u", p.port);
	c = curl_easy_init();

	/* the chats: a session, its first message (the ticket), its visitor's stream */
	chats = fl_calloc((size_t)nchats, sizeof(*chats));
	{
		char *u = fl_asprintf("%s/api/v1/chat/sessions", base);

		for (i = 0; i < nchats; i++) {
			json_t *j = NULL;
			char *mu, *auth, *path;

			if (call(c, "POST", u, NULL, "{}", &j) != 201)
				fl_die("cannot open chat %lld", (long long)i);
			snprintf(chats[i].id, sizeof(chats[i].id), "%s", fl_json_str(j, "session_id", ""));
			snprintf(chats[i].token, sizeof(chats[i].token), "%s", fl_json_str(j, "visitor_token", ""));
			json_decref(j);
			auth = fl_asprintf("Authorization: Bearer %s", chats[i].token);
			mu = fl_asprintf("%s/%s/messages", u, chats[i].id);
			if (call(c, "POST", mu, auth, "{\"text\":\"My order has not arrived yet, can you help?\"}", &j) != 201)
				fl_die("cannot send chat %lld's first message", (long long)i);
			snprintf(chats[i].ref, sizeof(chats[i].ref), "%s", fl_json_str(j, "reference", ""));
			json_decref(j);
			path = fl_asprintf("/api/v1/chat/sessions/%s/stream?token=%s", chats[i].id, chats[i].token);
			chats[i].fd = open_stream(p.port, path, NULL);
			free(path);
			free(mu);
			free(auth);
		}
		free(u);
	}
	{
		char *h = fl_asprintf("%s\r\n", agent_auth);

		ag.fd = open_stream(p.port, "/api/v1/stream", h);
		free(h);
	}
	usleep(300 * 1000);   /* every stream registered */

	up = fl_calloc((size_t)(nchats * rounds), sizeof(double));
	down = fl_calloc((size_t)(nchats * rounds), sizeof(double));
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nchats; i++) {
			struct chat *ch = &chats[i];
			char *auth = fl_asprintf("Authorization: Bearer %s", ch->token);
			char *mu = fl_asprintf("%s/api/v1/chat/sessions/%s/messages", base, ch->id);
			char *ru = fl_asprintf("%s/api/v1/tickets/%s/replies", base, ch->ref);
			int64_t t0 = fl_mono_us();

			if (call(c, "POST", mu, auth, "{\"text\":\"Any news on my order, please?\"}", NULL) != 201)
				fl_die("chat %lld: message refused", (long long)i);
			if (wait_for(ag.fd, "event: ticket.customer_replied\n", &ag.seen, ag.tail, sizeof(ag.tail), 5000))
				up[nup++] = (double)(fl_mono_us() - t0) / 1000.0;
			else
				missed_up++;
			t0 = fl_mono_us();
			if (call(c, "POST", ru, agent_auth, "{\"body\":\"It ships today.\"}", NULL) != 201)
				fl_die("chat %lld: reply refused", (long long)i);
			if (wait_for(ch->fd, "event: message\n", &ch->seen, ch->tail, sizeof(ch->tail), 5000))
				down[ndown++] = (double)(fl_mono_us() - t0) / 1000.0;
			else
				missed_down++;
			free(auth);
			free(mu);
			free(ru);
		}
	}

	printf("## Chat (issue 17)\n\n");
	printf("%lld chats open at once (each a visitor's stream; one agent's stream), %lld rounds; per message, "
	       "the time from the client's POST to the other side's stream reading it (ms, loopback):\n\n",
	       (long long)nchats, (long long)rounds);
	printf("| direction | n | p50 | p99 | max | missed |\n|---|---|---|---|---|---|\n");
	result("visitor -> agent", up, nup, missed_up);
	result("agent -> visitor", down, ndown, missed_down);
	printf("\nGoal: p99 under 100 ms both ways with 200 chats.\n");

	for (i = 0; i < nchats; i++)
		close(chats[i].fd);
	close(ag.fd);
	proc_stop(&p, SIGTERM);
	curl_easy_cleanup(c);
	free(chats);
	free(up);
	free(down);
	free(base);
	free(url);
	free(agent_auth);
	{
		char *rm = fl_asprintf("rm -rf '%s'", dir);

		if (system(rm))
			fprintf(stderr, "chat_bench: could not remove %s\n", dir);
		free(rm);
	}
	return 0;
}
