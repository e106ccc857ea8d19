/*
 * http_client (see http_client.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>

#include "http_client.h"
#include "util/util.h"

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	fl_buf_add(arg, p, size * n);
	return size * n;
}

void http_do(const struct http_req *req, struct http_resp *resp)
{
	struct fl_buf body = FL_BUF_INIT, headers = FL_BUF_INIT;
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *line;
	const char *const *x;
	CURL *c = curl_easy_init();
	CURLcode cc;

	memset(resp, 0, sizeof(*resp));
	if (req->token) {
		line = fl_asprintf("Authorization: Bearer %s", req->token);
		h = curl_slist_append(h, line);
		free(line);
	}
	if (req->body || req->content_type) {
		line = fl_asprintf("Content-Type: %s", req->content_type ? req->content_type : "application/json");
		h = curl_slist_append(h, line);
		free(line);
	}
	h = curl_slist_append(h, "Expect:");
	for (x = req->headers; x && *x; x++)
		h = curl_slist_append(h, *x);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method ? req->method : "GET");
	if (req->method && !strcmp(req->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(req->len ? req->len : strlen(req->body)));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	else
		resp->error = fl_strdup(errbuf[0] ? errbuf : curl_easy_strerror(cc));
	resp->len = body.len;
	resp->body = fl_buf_detach(&body, NULL);
	resp->headers = fl_buf_detach(&headers, NULL);
	resp->json = json_loads(resp->body, JSON_DECODE_ANY, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

void http_resp_release(struct http_resp *resp)
{
	free(resp->body);
	free(resp->headers);
	free(resp->error);
	json_decref(resp->json);
	memset(resp, 0, sizeof(*resp));
}

char *http_resp_header(const struct http_resp *resp, const char *name)
{
	const char *p = resp->headers;
	size_t n = strlen(name);

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return fl_strndup(v, len - (size_t)(v - p));
		}
		p = eol ? eol + 2 : p + len;
	}
	return NULL;
}

const char *http_error_code(const struct http_resp *resp)
{
	return fl_json_str(json_object_get(resp->json, "error"), "code", "");
}

int http_raw_connect_from(unsigned port, const char *source)
{
	struct sockaddr_in sa = { 0 }, local = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (source) {
		local.sin_family = AF_INET;
		if (inet_pton(AF_INET, source, &local.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&local, sizeof(local))) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

int http_raw_connect(unsigned port)
{
	return http_raw_connect_from(port, NULL);
}

bool http_raw_closed(int fd, int timeout_ms)
{
	bool closed;

	free(http_raw_read(fd, timeout_ms, &closed));
	return closed;
}

int http_raw_send(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Whether b holds one whole HTTP answer: headers, then the body they announce. */
static bool answer_complete(const struct fl_buf *b)
{
	const char *end = b->len ? strstr(b->buf, "\r\n\r\n") : NULL, *p;
	size_t head, i;
	int64_t n;

	if (!end)
		return false;
	head = (size_t)(end - b->buf) + 4;
	for (p = b->buf; p < end; p = strstr(p, "\r\n") + 2) {
		if (!strncasecmp(p, "Content-Length:", 15)) {
			for (p += 15, n = 0; *p == ' '; p++)
				;
			for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
				n = n * 10 + (p[i] - '0');
			return b->len >= head + (size_t)n;
		}
		if (!strncasecmp(p, "Transfer-Encoding:", 18))
			return strstr(end, "\r\n0\r\n\r\n") != NULL;
	}
	/* neither: the answer ends with its headers (204, 304) or with the connection */
	return !strncmp(b->buf, "HTTP/1.1 204", 12) || !strncmp(b->buf, "HTTP/1.1 304", 12);
}

static char *raw_read(int fd, int timeout_ms, bool one_answer, bool *closed)
{
	struct fl_buf b = FL_BUF_INIT;
	int64_t deadline = fl_mono_us() + (int64_t)timeout_ms * 1000;

	*closed = false;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = (deadline - fl_mono_us()) / 1000;
		char chunk[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0) {
			*closed = true;
			break;
		}
		fl_buf_add(&b, chunk, (size_t)n);
		if (one_answer && answer_complete(&b))
			break;
	}
	return fl_buf_detach(&b, NULL);
}

char *http_raw_read(int fd, int timeout_ms, bool *closed)
{
	return raw_read(fd, timeout_ms, false, closed);
}

char *http_raw_read_answer(int fd, int timeout_ms, bool *closed)
{
	return raw_read(fd, timeout_ms, true, closed);
}
