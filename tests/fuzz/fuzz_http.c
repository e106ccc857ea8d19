/*
 * Fuzz target: the HTTP request path. The input is what a client sends on
 * one connection: one or more HTTP/1.1 requests (pipelined, keep-alive),
 * possibly cut short. The server runs as `frontline serve` runs it
 * (server_new, server_start, its store pool, group commit, KB and tokens),
 * but libmicrohttpd's connection side is fake_mhd.c: this file reads the
 * requests as libmicrohttpd would (request line, headers, Content-Length or
 * chunked body, the URI callback with the raw target, the path decoded and
 * the query split into arguments) and calls the server's callbacks in
 * libmicrohttpd's order, without sockets. So every route, the framing
 * checks, authorization, the JSON body checks, the handlers, the intake's
 * suspension and group commit, and the responses are fuzzed; libmicrohttpd's
 * own parsing is not (it is not ours, and this reading of it is strict
 * where it was unsure: a NUL or a bare CR in the head is a 400).
 *
 * The store is SQLite in memory (a file under /dev/shm, synchronous=off),
 * made once with the bundled KB, the seed customers, one ticket and three
 * tokens: "Authorization: Bearer fuzz-admin" (and fuzz-agent,
 * fuzz-integration). After an input that changed it, it is put back as it
 * was (SQLite's backup API from a copy made at start), so no input depends
 * on what an earlier one wrote; so is the KB index. Per-token rate limits
 * and the limit on unknown tokens per address are off, for the same reason.
 *
 * Signed webhooks: a header "X-Frontline-Timestamp: now" is given the
 * current time and "X-Frontline-Signature: sign" the right signature of the
 * body, so that the fuzzer reaches the webhook's handler.
 *
 * Checked, per response: one response per request; no 500; only the
 * headers the server sets (an unexpected one is an injected one) and none
 * refused for CR or LF; a JSON body that parses; an error as
 * {"error": {"code", "message", "field"}}; every suspended request resumed.
 */
#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_mhd.h"
#include "fuzz.h"
#include "kb/kb.h"
#include "monitor/monitor.h"
#include "notify/notify.h"
#include "server/server.h"
#include "store/store.h"
#include "support/support.h"
#include "util/util.h"

#define MAX_HEAD 8192             /* the server's max_header below: 431 beyond, as libmicrohttpd */
#define SECRET "fuzz-webhook-secret"

/* FUZZ_HTTP_TRACE=1: each request and the start of its answer on stderr (to check a seed does what it should) */
static bool trace;

static struct {
	char *dir, *url, *db_path;
	struct kb *kb;
	json_t *articles;            /* the KB as it starts */
	bool kb_changed;             /* an article was written or deleted: the index is rebuilt */
	struct server *srv;
	sqlite3 *db, *pristine;
	int64_t data_version;
} fx;

/* ---- the store, put back after each input ---- */

static int64_t data_version(void)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(fx.db, "PRAGMA data_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void copy_db(sqlite3 *to, sqlite3 *from)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	int rc;

	FUZZ_CHECK(b);
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		fl_sleep_us(1000);
	FUZZ_CHECK(rc == SQLITE_DONE);
	FUZZ_CHECK(sqlite3_backup_finish(b) == SQLITE_OK);
}

static void restore_store(void)
{
	if (fx.kb_changed) {
		FUZZ_CHECK(kb_clear(fx.kb) == KB_OK && kb_add_many(fx.kb, fx.articles) == KB_OK);
		fx.kb_changed = false;
	}
	if (data_version() == fx.data_version)
		return;
	copy_db(fx.db, fx.pristine);
	fx.data_version = data_version();
}

/* ---- reading requests as libmicrohttpd does ---- */

struct request {
	char *method, *target, *version;
	char *names[100], *values[100];
	size_t nheaders;
	struct fl_buf body;
	bool body_complete;          /* all of the body arrived */
	bool body_bad;               /* a malformed chunk: libmicrohttpd answers 400 and closes */
};

enum parsed { PARSED, INCOMPLETE, BAD };

static void request_release(struct request *q)
{
	size_t i;

	free(q->method);
	free(q->target);
	free(q->version);
	for (i = 0; i < q->nheaders; i++) {
		free(q->names[i]);
		free(q->values[i]);
	}
	fl_buf_release(&q->body);
	memset(q, 0, sizeof(*q));
}

static const char *header(const struct request *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->nheaders; i++)
		if (!strcasecmp(q->names[i], name))
			return q->values[i];
	return NULL;
}

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line (without its CR LF or LF) into *line; false when the input ends first. */
static bool next_line(const uint8_t **p, size_t *n, char **line, size_t *len)
{
	const uint8_t *nl = memchr(*p, '\n', *n);
	size_t l;

	if (!nl)
		return false;
	l = (size_t)(nl - *p);
	*line = fuzz_string(*p, l);
	*len = l && (*line)[l - 1] == '\r' ? l - 1 : l;
	(*line)[*len] = '\0';
	*n -= l + 1;
	*p = nl + 1;
	return true;
}

static enum parsed parse_head(const uint8_t **p, size_t *n, struct request *q)
{
	const uint8_t *start = *p;
	char *line = NULL, *sp1, *sp2, *e;
	size_t len;

	/* empty lines before a request are skipped */
	do {
		free(line);
		if (!next_line(p, n, &line, &len))
			return INCOMPLETE;
	} while (!len);
	if (memchr(line, '\0', len) || memchr(line, '\r', len) || !(sp1 = strchr(line, ' ')) ||
	    !(sp2 = strchr(sp1 + 1, ' ')) || sp2 == sp1 + 1) {
		free(line);
		return BAD;
	}
	q->method = fl_strndup(line, (size_t)(sp1 - line));
	q->target = fl_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	q->version = fl_strdup(sp2 + 1);
	free(line);
	for (e = q->method; *e; e++)
		if (!tchar((unsigned char)*e))
			return BAD;
	if (strcmp(q->version, "HTTP/1.1") && strcmp(q->version, "HTTP/1.0"))
		return BAD;
	for (;;) {
		char *colon, *v;

		if ((size_t)(*p - start) > MAX_HEAD)
			return BAD;
		if (!next_line(p, n, &line, &len))
			return INCOMPLETE;
		if (!len) {
			free(line);
			break;
		}
		if (memchr(line, '\0', len) || memchr(line, '\r', len)) {
			free(line);
			return BAD;
		}
		if ((line[0] == ' ' || line[0] == '\t') && q->nheaders) {
			/* an obsolete folded line continues the previous value */
			char *joined = fl_asprintf("%s %s", q->values[q->nheaders - 1], fl_str_trim(line, &len));

			joined[strlen(q->values[q->nheaders - 1]) + 1 + len] = '\0';
			free(q->values[q->nheaders - 1]);
			q->values[q->nheaders - 1] = joined;
			free(line);
			continue;
		}
		colon = strchr(line, ':');
		if (!colon || colon == line || q->nheaders == FL_ARRAY_SIZE(q->names)) {
			free(line);
			return BAD;
		}
		for (e = line; e < colon; e++)
			if (!tchar((unsigned char)*e)) {
				free(line);
				return BAD;
			}
		len = strlen(colon + 1);
		v = (char *)fl_str_trim(colon + 1, &len);
		q->names[q->nheaders] = fl_strndup(line, (size_t)(colon - line));
		q->values[q->nheaders] = fl_strndup(v, len);
		q->nheaders++;
		free(line);
	}
	return (size_t)(*p - start) > MAX_HEAD ? BAD : PARSED;
}

/* The body by the framing libmicrohttpd 0.9.75 follows: chunked, else the first Content-Length. */
static void parse_body(const uint8_t **p, size_t *n, struct request *q)
{
	const char *te = header(q, "Transfer-Encoding"), *cl = header(q, "Content-Length");
	int64_t want;

	q->body_complete = true;
	if (te && strcasestr(te, "chunked")) {
		for (;;) {
			char *line, *end;
			size_t len;
			unsigned long long size;

			if (!next_line(p, n, &line, &len)) {
				q->body_complete = false;
				return;
			}
			errno = 0;
			size = strtoull(line, &end, 16);
			if (end == line || errno || (*end && *end != ';' && *end != ' ') || size > (1u << 24)) {
				free(line);
				q->body_bad = true;
				return;
			}
			free(line);
			if (!size)
				break;
			if (*n < size + 2) {
				fl_buf_add(&q->body, *p, size < *n ? (size_t)size : *n);
				*p += *n;
				*n = 0;
				q->body_complete = false;
				return;
			}
			fl_buf_add(&q->body, *p, (size_t)size);
			if ((*p)[size] == '\r' ? (*p)[size + 1] != '\n' : (*p)[size] != '\n') {
				q->body_bad = true;
				return;
			}
			*n -= size + ((*p)[size] == '\r' ? 2 : 1);
			*p += size + ((*p)[size] == '\r' ? 2 : 1);
		}
		/* trailers, up to an empty line */
		for (;;) {
			char *line;
			size_t len;

			if (!next_line(p, n, &line, &len)) {
				q->body_complete = false;
				return;
			}
			free(line);
			if (!len)
				return;
		}
	}
	if (te) {
		/* a coding libmicrohttpd does not know: it reads until the client closes */
		fl_buf_add(&q->body, *p, *n);
		*p += *n;
		*n = 0;
		q->body_complete = false;
		return;
	}
	if (!cl)
		return;
	if (fl_parse_int64(cl, 0, INT64_MAX, &want)) {
		q->body_bad = true;
		return;
	}
	if ((uint64_t)want > *n) {
		q->body_complete = false;
		want = (int64_t)*n;
	}
	fl_buf_add(&q->body, *p, (size_t)want);
	*p += want;
	*n -= (size_t)want;
}

/* %XX decoding as libmicrohttpd's MHD_http_unescape: a "%00" ends the string. */
static char *unescape(const char *s, size_t n, bool plus)
{
	char *out = fl_malloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char v;

		if (s[i] == '%' && i + 2 < n && !fl_unhex(&v, s + i + 1, 1)) {
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Query arguments into the connection, as libmicrohttpd splits them. */
static void add_arguments(struct MHD_Connection *c, const char *query)
{
	while (*query) {
		size_t n = strcspn(query, "&");
		const char *eq = memchr(query, '=', n);
		char *k = unescape(query, eq ? (size_t)(eq - query) : n, true);
		char *v = eq ? unescape(eq + 1, n - (size_t)(eq + 1 - query), true) : NULL;

		fake_conn_add_value(c, MHD_GET_ARGUMENT_KIND, k, v);
		free(k);
		free(v);
		query += n + (query[n] == '&');
	}
}

/* ---- checking an answer ---- */

static bool header_known(const char *name)
{
	static const char *const known[] = {
		"Content-Type", "X-Request-Id", "Cache-Control", "X-Content-Type-Options", "Connection",
		"Allow", "Location", "Retry-After", "WWW-Authenticate", "X-Accel-Buffering", "Set-Cookie",
		/* the console's files */
		"ETag", "Content-Security-Policy", "Referrer-Policy", "X-Frame-Options", "Vary", "Content-Encoding",
		NULL,
	};
	size_t i;

	for (i = 0; known[i]; i++)
		if (!strcasecmp(name, known[i]))
			return true;
	return false;
}

/* Checks the answer; true when it asks to close the connection. */
static bool check_response(struct MHD_Connection *c)
{
	unsigned status;
	int queued;
	struct MHD_Response *r = fake_response(c, &status, &queued);
	const char *ctype = NULL;
	bool close = false;
	size_t i;

	FUZZ_CHECK(r && queued == 1);
	if (status == 500)
		fprintf(stderr, "fuzz_http: 500: %.*s\n", (int)r->len, r->body);
	FUZZ_CHECK(status >= 200 && status <= 599 && status != 500);
	for (i = 0; i < r->nheaders; i++) {
		if (!header_known(r->headers[i].name))
			fprintf(stderr, "fuzz_http: unexpected response header '%s'\n", r->headers[i].name);
		FUZZ_CHECK(header_known(r->headers[i].name));
		if (!strcasecmp(r->headers[i].name, "Content-Type"))
			ctype = r->headers[i].value;
		if (!strcasecmp(r->headers[i].name, "Connection") && !strcasecmp(r->headers[i].value, "close"))
			close = true;
	}
	FUZZ_CHECK(ctype);
	if (!strncmp(ctype, "application/json", 16)) {
		json_error_t e;
		json_t *body = json_loadb(r->body, r->len, 0, &e);

		FUZZ_CHECK(body);
		if (status >= 400) {
			const json_t *err = json_object_get(body, "error"), *field = json_object_get(err, "field");

			FUZZ_CHECK(json_is_string(json_object_get(err, "code")));
			FUZZ_CHECK(json_is_string(json_object_get(err, "message")));
			FUZZ_CHECK(json_is_string(field) || json_is_null(field));
		}
		json_decref(body);
	}
	return close;
}

/*
 * The metrics a client's requests add to stay bounded whatever it sends: a
 * series per method it names would let anyone grow the server's memory and
 * /metrics without end. Every method label is one the server knows.
 */
static void check_metrics(void)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other", NULL };
	struct fl_buf b = FL_BUF_INIT;
	const char *p;

	monitor_registry_expose(server_registry(fx.srv), &b);
	for (p = b.buf; p && (p = strstr(p, "method=\"")); ) {
		size_t n;
		char *m;

		p += 8;
		n = strcspn(p, "\"");
		m = fl_strndup(p, n);
		if (fl_word_index(methods, m) < 0)
			fprintf(stderr, "fuzz_http: a metric labelled with the client's method '%s'\n", m);
		FUZZ_CHECK(fl_word_index(methods, m) >= 0);
		free(m);
		p += n;
	}
	fl_buf_release(&b);
}

/* ---- one request through the server's callbacks ---- */

/* The signing hook (see the top): fills in a fresh timestamp and the body's signature. */
static void sign(struct request *q)
{
	char sig[NOTIFY_SIGNATURE_LEN];
	size_t i, t = SIZE_MAX, s = SIZE_MAX;

	for (i = 0; i < q->nheaders; i++) {
		if (!strcasecmp(q->names[i], "X-Frontline-Timestamp"))
			t = i;
		else if (!strcasecmp(q->names[i], "X-Frontline-Signature"))
			s = i;
	}
	if (t != SIZE_MAX && !strcmp(q->values[t], "now")) {
		free(q->values[t]);
		q->values[t] = fl_asprintf("%lld", (long long)(fl_wall_us() / 1000000));
	}
	if (t != SIZE_MAX && s != SIZE_MAX && !strcmp(q->values[s], "sign")) {
		notify_sign(SECRET, q->values[t], q->body.buf ? q->body.buf : "", q->body.len, sig);
		free(q->values[s]);
		q->values[s] = fl_strdup(sig);
	}
}

/* Runs q on c; false when the connection ends after it. */
static bool serve(struct MHD_Connection *c, struct request *q)
{
	const char *conn_h = header(q, "Connection");
	char *path, *question;
	void *con_cls;
	size_t i, zero = 0, off = 0;
	unsigned status;
	int queued;
	bool keep;

	sign(q);
	fake_conn_next(c);
	for (i = 0; i < q->nheaders; i++)
		fake_conn_add_value(c, MHD_HEADER_KIND, q->names[i], q->values[i]);
	question = strchr(q->target, '?');
	path = unescape(q->target, question ? (size_t)(question - q->target) : strlen(q->target), false);
	if (question)
		add_arguments(c, question + 1);
	con_cls = fake_uri(c, q->target);
	FUZZ_CHECK(fake_access(c, path, q->method, q->version, NULL, &zero, &con_cls) == MHD_YES);
	keep = !fake_response(c, &status, &queued);
	/* the body, in pieces of at most 1,500 bytes (a segment), while nothing answered */
	while (keep && off < q->body.len) {
		size_t piece = q->body.len - off < 1500 ? q->body.len - off : 1500, left = piece;

		FUZZ_CHECK(fake_access(c, path, q->method, q->version, q->body.buf + off, &left, &con_cls) == MHD_YES);
		FUZZ_CHECK(left == 0);
		off += piece;
		keep = !fake_response(c, &status, &queued);
	}
	if (keep && (!q->body_complete || q->body_bad)) {
		/* the client went away, or libmicrohttpd refused its chunks: no last call */
		fake_completed(c, &con_cls, q->body_bad ? MHD_REQUEST_TERMINATED_WITH_ERROR
						       : MHD_REQUEST_TERMINATED_READ_ERROR);
		free(path);
		return false;
	}
	if (keep) {
		/* the last call: the request is all in */
		zero = 0;
		FUZZ_CHECK(fake_access(c, path, q->method, q->version, NULL, &zero, &con_cls) == MHD_YES);
		if (!fake_response(c, &status, &queued) && fake_suspends(c)) {
			/* the intake waits for its group commit, which resumes the connection */
			FUZZ_CHECK(fake_wait_resumed(c, 30000));
			FUZZ_CHECK(fake_access(c, path, q->method, q->version, NULL, &zero, &con_cls) == MHD_YES);
		}
	} else {
		/* answered before the body was read: the rest is not read, the connection closes */
		keep = false;
	}
	if (trace) {
		struct MHD_Response *r = fake_response(c, &status, &queued);

		fprintf(stderr, "fuzz_http: %s %s -> %u %.*s\n", q->method, q->target, status,
			r ? (int)(r->len < 300 ? r->len : 300) : 0, r ? r->body : "");
	}
	if (check_response(c))
		keep = false;
	if (strcmp(q->method, "GET") && !strncmp(path, "/api/v1/kb/", 11))
		fx.kb_changed = true;
	if (conn_h && !strcasecmp(conn_h, "close"))
		keep = false;
	if (!strcmp(q->version, "HTTP/1.0") && !(conn_h && !strcasecmp(conn_h, "keep-alive")))
		keep = false;
	fake_completed(c, &con_cls, MHD_REQUEST_TERMINATED_COMPLETED_OK);
	free(path);
	return keep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection *c = fake_conn_open();
	const uint8_t *p = data;
	size_t n = size;

	if (!c)   /* refused by the accept policy: only a draining server refuses */
		abort();

	for (;;) {
		struct request q;
		enum parsed pr;

		memset(&q, 0, sizeof(q));
		pr = parse_head(&p, &n, &q);
		if (pr != PARSED) {
			/* libmicrohttpd answers a bad head itself (400, 414, 431, 505) and closes */
			request_release(&q);
			break;
		}
		parse_body(&p, &n, &q);
		if (!serve(c, &q)) {
			request_release(&q);
			break;
		}
		request_release(&q);
	}
	fake_conn_close(c);
	check_metrics();
	restore_store();
	return 0;
}

/* ---- the server, once ---- */

static void make_token(struct store *st, const char *token, const char *role)
{
	char hash[65];
	json_t *row = NULL;

	server_token_hash(token, hash);
	FUZZ_CHECK(store_token_insert(st, token, role, hash, &row) == STORE_OK);
	json_decref(row);
}

static void seed_store(void)
{
	char *kbdir = fuzz_source_path("data/kb"), *err = NULL;
	json_t *ticket, *out = NULL;
	struct store *st = NULL;
	size_t n;
	bool created;

	if (store_open(fx.url, &st, &err) != STORE_OK || support_kb_load(st, fx.kb, kbdir, &n, &err) != SUPPORT_OK ||
	    support_seed_customers(st, &err) != SUPPORT_OK) {
		fprintf(stderr, "fuzz_http: cannot make the store: %s\n", err ? err : "?");
		exit(1);
	}
	FUZZ_CHECK(store_kb_list(st, &fx.articles) == STORE_OK);
	make_token(st, "fuzz-admin", "admin");
	make_token(st, "fuzz-agent", "agent");
	make_token(st, "fuzz-integration", "integration");
	ticket = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "ticket_001", "customer_id", "cust_001", "subject",
			   "Password reset email never arrives", "content",
			   "I requested a password reset three times but the email never arrives.", "channel", "web");
	FUZZ_CHECK(store_ticket_intake(st, ticket, FL_JOB_TRIAGE, NULL, &out, &created) == STORE_OK);
	json_decref(ticket);
	json_decref(out);
	store_close(st);
	free(kbdir);
}

static void stop(void)
{
	server_free(fx.srv);
	kb_close(fx.kb);
	json_decref(fx.articles);
	sqlite3_close(fx.db);
	sqlite3_close(fx.pristine);
	if (fx.dir) {
		static const char *const suffix[] = { "", "-wal", "-shm" };
		size_t i;

		for (i = 0; i < FL_ARRAY_SIZE(suffix); i++) {
			char *f = fl_asprintf("%s%s", fx.db_path, suffix[i]);

			unlink(f);
			free(f);
		}
		rmdir(fx.dir);
	}
	free(fx.dir);
	free(fx.url);
	free(fx.db_path);
	fl_config_free();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct server_options o = { 0 };
	struct stat sb;
	char tmpl[64], *err = NULL;

	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	trace = getenv("FUZZ_HTTP_TRACE") != NULL;
	snprintf(tmpl, sizeof(tmpl), "%s/frontline-fuzz-http-XXXXXX",
		 !stat("/dev/shm", &sb) && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "fuzz_http: cannot make a directory: %s\n", strerror(errno));
		exit(1);
	}
	fx.dir = fl_strdup(tmpl);
	fx.db_path = fl_asprintf("%s/fuzz.db", fx.dir);
	fx.url = fl_asprintf("sqlite://%s?synchronous=off", fx.db_path);
	atexit(stop);
	if (kb_open(NULL, &fx.kb, &err) != KB_OK) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		exit(1);
	}
	seed_store();
	o.listen = "127.0.0.1:0";
	o.store_url = fx.url;
	o.threads = 1;
	o.max_body = 65536;
	o.max_header = MAX_HEAD;
	o.timeout_s = 1;
	o.rate = -1;
	o.auth_failures = -1;   /* an address's count of unknown tokens would carry over between inputs */
	o.webhook_secret = SECRET;
	o.kb = fx.kb;
	if (server_new(&o, &fx.srv, &err) != SERVER_OK || server_start(fx.srv, &err) != SERVER_OK) {
		fprintf(stderr, "fuzz_http: cannot start the server: %s\n", err);
		exit(1);
	}
	/* the copy every input starts from */
	FUZZ_CHECK(sqlite3_open(fx.db_path, &fx.db) == SQLITE_OK);
	FUZZ_CHECK(sqlite3_open(":memory:", &fx.pristine) == SQLITE_OK);
	sqlite3_busy_timeout(fx.db, 5000);
	copy_db(fx.pristine, fx.db);
	fx.data_version = data_version();
	return 0;
}
