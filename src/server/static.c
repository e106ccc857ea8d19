/*
 * The agent console's files: GET / and GET /<file> answer the files of the
 * web directory (server_options.web_dir, else fl_share_path("web"): the
 * source tree for a binary run from its build directory, <datadir>/frontline/web
 * when installed).
 *
 * What a browser gets:
 * - the file with its type, an ETag (a hash of its bytes) and 304 Not
 *   Modified when If-None-Match names it;
 * - its gzip form, made once when the file is first served (and again when
 *   it changes on disk) and kept in memory beside it, when the client
 *   accepts gzip and the gzip form is smaller (Vary: Accept-Encoding);
 * - Cache-Control: files under vendor/<name>-<version>/ never change at that
 *   path (scripts/vendor-web names the directory by the pinned version), so
 *   they are cached for a year; everything else is revalidated each time
 *   ("no-cache": the ETag makes that a 304);
 * - a strict Content-Security-Policy (no inline script, no other origin),
 *   nosniff and Referrer-Policy on every file.
 *
 * What it refuses (404, the API's JSON error, so an API client that asks for
 * a path that does not exist reads the same answer as before): a segment
 * that is empty, "." or "..", or hidden (".git"); node_modules; a type not in
 * the table below (package.json, LICENSE files, sources of other kinds);
 * anything whose real path (symbolic links resolved) leaves the web
 * directory; anything that is not a regular file.
 *
 * The files are read through a small cache (one per server, no global
 * state) checked against the file's inode, size and modification time on
 * each request, so an edit under web/ shows on the next reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zlib.h>

#include "server_int.h"
#include "channels/chat/chat.h"

/* Headers of every console file (docs/CONSOLE.md, "Security"). */
#define STATIC_CSP "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; " \
		   "base-uri 'none'; form-action 'self'"
/* The same with the chat's frame-ancestors (chat_frame_ancestors) for %s. */
#define STATIC_CHAT_CSP "default-src 'self'; script-src 'self'; object-src 'none'; %s; " \
			"base-uri 'none'; form-action 'self'"
/* The chat widget's page (web/chat/) is framed by the sites of FRONTLINE_CHAT_ORIGINS (docs/CHANNELS.md). */
#define STATIC_CHAT_DIR "chat/"

#define STATIC_MAX_FILE (8u << 20)   /* larger files are not console files */
#define STATIC_MAX_ENTRIES 1024      /* a bound on the cache, not a limit anyone meets */
#define STATIC_MAX_PATH 256

struct static_entry {
	char *rel;                     /* "index.html", "js/main.js" */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned char *data;
	size_t len;
	unsigned char *gz;             /* NULL: not worth compressing */
	size_t gzlen;
	char etag[24];                 /* "\"<16 hex>\"" */
	char etag_gz[28];              /* "\"<16 hex>-gz\"" */
	const char *ctype;
};

struct server_static {
	char *root;                    /* the web directory's real path, or NULL when missing */
	char *configured;              /* as configured, for messages */
	pthread_mutex_t lock;
	struct static_entry *entries;
	size_t n, cap;
};

static const struct {
	const char *ext, *ctype;
	bool compress;
} types[] = {
	{ "html", "text/html; charset=utf-8", true },
	{ "js", "text/javascript; charset=utf-8", true },
	{ "mjs", "text/javascript; charset=utf-8", true },
	{ "css", "text/css; charset=utf-8", true },
	{ "svg", "image/svg+xml", true },
	{ "txt", "text/plain; charset=utf-8", true },
	{ "png", "image/png", false },
	{ "ico", "image/x-icon", false },
	{ "woff2", "font/woff2", false },
};

struct server_static *server__static_new(const char *dir)
{
	struct server_static *s = fl_calloc(1, sizeof(*s));

	s->configured = dir ? fl_strdup(dir) : fl_share_path("web");
	s->root = realpath(s->configured, NULL);
	if (!s->root)
		fl_log(FL_LOG_INFO, "no agent console: cannot open '%s': %s", s->configured, strerror(errno));
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void entry_release(struct static_entry *e)
{
	free(e->rel);
	free(e->data);
	free(e->gz);
}

void server__static_free(struct server_static *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		entry_release(&s->entries[i]);
	free(s->entries);
	pthread_mutex_destroy(&s->lock);
	free(s->root);
	free(s->configured);
	free(s);
}

/* The type of a file name, or -1 when the console has no such files. */
static int type_of(const char *rel)
{
	const char *dot = strrchr(rel, '.'), *slash = strrchr(rel, '/');
	size_t i;

	if (!dot || (slash && dot < slash))
		return -1;
	for (i = 0; i < FL_ARRAY_SIZE(types); i++)
		if (!strcmp(dot + 1, types[i].ext))
			return (int)i;
	return -1;
}

bool server__static_path_ok(const char *rel)
{
	const char *seg = rel;

	if (!*rel || strlen(rel) >= STATIC_MAX_PATH)
		return false;
	while (seg) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		/* empty, ".", "..", hidden, or a directory of npm's */
		if (!n || seg[0] == '.' || (n == 12 && !memcmp(seg, "node_modules", 12)))
			return false;
		if (memchr(seg, '\\', n))
			return false;
		seg = end ? end + 1 : NULL;
	}
	return type_of(rel) >= 0;
}

/* Files at vendor/<name>-<digit...>/ are named by their version: they never change. */
static bool is_versioned(const char *rel)
{
	const char *dir, *dash;

	if (strncmp(rel, "vendor/", 7))
		return false;
	dir = rel + 7;
	if (!strchr(dir, '/'))
		return false;
	dash = strchr(dir, '-');
	while (dash && dash < strchr(dir, '/') && !(dash[1] >= '0' && dash[1] <= '9'))
		dash = strchr(dash + 1, '-');
	return dash && dash < strchr(dir, '/');
}

static int gzip_bytes(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream z = { 0 };
	uLong bound;
	unsigned char *buf;

	*out = NULL;
	*outlen = 0;
	/* windowBits 15 + 16: a gzip member, not a zlib stream */
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)len) + 32;
	buf = fl_malloc(bound);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(buf);
		return -1;
	}
	*outlen = z.total_out;
	*out = buf;
	deflateEnd(&z);
	return 0;
}

/* Reads fd (st describes it) into e, with its ETag and gzip form. */
static int entry_load(struct static_entry *e, int fd, const struct stat *st, int type)
{
	unsigned char hash[8];
	size_t got = 0;

	free(e->data);
	free(e->gz);
	e->gz = NULL;
	e->gzlen = 0;
	e->len = (size_t)st->st_size;
	e->data = fl_malloc(e->len + 1);
	while (got < e->len) {
		ssize_t n = pread(fd, e->data + got, e->len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->mtime = st->st_mtim;
	e->ctype = types[type].ctype;
	crypto_generichash(hash, sizeof(hash), e->data, e->len, NULL, 0);
	e->etag[0] = '"';
	fl_hex(e->etag + 1, hash, sizeof(hash));
	memcpy(e->etag + 17, "\"", 2);
	snprintf(e->etag_gz, sizeof(e->etag_gz), "%.17s-gz\"", e->etag);
	if (types[type].compress && e->len >= 256 && !gzip_bytes(e->data, e->len, &e->gz, &e->gzlen) &&
	    e->gzlen >= e->len) {
		free(e->gz);
		e->gz = NULL;
		e->gzlen = 0;
	}
	return 0;
}

/* Whether Accept-Encoding allows gzip (a q of 0 refuses it, "*" allows it). */
bool server__static_accepts_gzip(const char *accept)
{
	const char *p = accept;
	bool star = false, gzip = false, gzip_said = false;

	while (p && *p) {
		const char *end = strchr(p, ','), *semi, *q;
		size_t n;
		bool zero = false;

		if (!end)
			end = p + strlen(p);
		while (*p == ' ' || *p == '\t')
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		n = (size_t)((semi ? semi : end) - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (semi && (q = strcasestr(semi, "q=")) && q < end) {
			double v = strtod(q + 2, NULL);

			zero = v <= 0;
		}
		if ((n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 6 && !strncasecmp(p, "x-gzip", 6))) {
			gzip_said = true;
			gzip = !zero;
		} else if (n == 1 && *p == '*') {
			star = !zero;
		}
		p = *end ? end + 1 : end;
	}
	return gzip_said ? gzip : star;
}

/* Whether If-None-Match names one of the entry's tags (or is "*"). */
static bool matches(const char *inm, const struct static_entry *e)
{
	const char *p = inm;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n;

		if (!end)
			end = p + strlen(p);
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "W/", 2))
			p += 2;
		n = (size_t)(end - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if ((n == 1 && *p == '*') || (n == strlen(e->etag) && !memcmp(p, e->etag, n)) ||
		    (n == strlen(e->etag_gz) && !memcmp(p, e->etag_gz, n)))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static struct static_entry *find(struct server_static *s, const char *rel)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->entries[i].rel, rel))
			return &s->entries[i];
	return NULL;
}

/* Opens root/rel if it is a regular file inside root; -1 otherwise. */
static int open_inside(const struct server_static *s, const char *rel, struct stat *st)
{
	char *path = fl_asprintf("%s/%s", s->root, rel), *real = realpath(path, NULL);
	size_t rootlen = strlen(s->root);
	int fd = -1;

	/* a symbolic link may not lead out of the web directory */
	if (real && !strncmp(real, s->root, rootlen) && real[rootlen] == '/')
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, st) || !S_ISREG(st->st_mode) || st->st_size > (off_t)STATIC_MAX_FILE)) {
		close(fd);
		fd = -1;
	}
	free(real);
	free(path);
	return fd;
}

static void serve(struct server_req *r)
{
	struct server_static *s = r->srv->statics;
	const char *rel = r->path + 1;
	struct static_entry *e, tmp = { 0 };
	struct stat st;
	const char *inm;
	bool gz;
	int type, fd;

	if (!*rel)
		rel = "index.html";
	if (!s->root) {
		server__error(r, 404, "not_found", NULL, NULL, "the agent console is not installed on this server");
		return;
	}
	if (!server__static_path_ok(rel) || (fd = open_inside(s, rel, &st)) < 0) {
		server__not_found(r, "route", r->path);
		return;
	}
	type = type_of(rel);
	pthread_mutex_lock(&s->lock);
	e = find(s, rel);
	if (!e && s->n < STATIC_MAX_ENTRIES) {
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 32;
			s->entries = fl_realloc(s->entries, s->cap * sizeof(*s->entries));
		}
		e = &s->entries[s->n++];
		memset(e, 0, sizeof(*e));
		e->rel = fl_strdup(rel);
	}
	if (!e)
		e = &tmp;   /* the cache is full: served uncached */
	if ((!e->data || e->dev != st.st_dev || e->ino != st.st_ino || e->size != st.st_size ||
	     e->mtime.tv_sec != st.st_mtim.tv_sec || e->mtime.tv_nsec != st.st_mtim.tv_nsec) &&
	    entry_load(e, fd, &st, type)) {
		int err = errno;

		free(e->data);
		e->data = NULL;   /* read again next time */
		server__internal(r, "cannot read '%s/%s': %s", s->root, rel, strerror(err));
		goto out;
	}
	gz = e->gz && server__static_accepts_gzip(server__header(r, "Accept-Encoding"));
	server__add_header(r, "ETag", gz ? e->etag_gz : e->etag);
	if (!strncmp(rel, STATIC_CHAT_DIR, strlen(STATIC_CHAT_DIR))) {
		char *fa = chat_frame_ancestors(fl_config_get("FRONTLINE_CHAT_ORIGINS"));
		char *csp = fl_asprintf(STATIC_CHAT_CSP, fa);

		server__add_header(r, "Content-Security-Policy", csp);
		free(csp);
		free(fa);
	} else {
		server__add_header(r, "Content-Security-Policy", STATIC_CSP);
		server__add_header(r, "X-Frame-Options", "DENY");
	}
	server__add_header(r, "Referrer-Policy", "same-origin");
	if (e->gz)
		server__add_header(r, "Vary", "Accept-Encoding");
	r->cache_control = is_versioned(rel) ? "public, max-age=31536000, immutable" : "no-cache";
	inm = server__header(r, "If-None-Match");
	if (inm && matches(inm, e)) {
		server__reply_text(r, 304, e->ctype, "", 0);
	} else if (gz) {
		server__add_header(r, "Content-Encoding", "gzip");
		server__reply_text(r, 200, e->ctype, (const char *)e->gz, e->gzlen);
	} else {
		server__reply_text(r, 200, e->ctype, (const char *)e->data, e->len);
	}
out:
	pthread_mutex_unlock(&s->lock);
	close(fd);
	free(tmp.data);
	free(tmp.gz);
}

const struct server_route server__static_routes[] = {
	{ "GET", "/", serve, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_LOG, "the agent console (web/index.html)" },
	{ "GET", "/{file...}", serve, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_LOG,
	  "a file of the agent console (web/): ETag, gzip, Content-Security-Policy" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
