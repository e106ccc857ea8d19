/*
 * The console's files (src/server/static.c) over real HTTP on 127.0.0.1:
 * a server started on a temporary SQLite store with a web directory of the
 * test's own making. ETags and 304, gzip (and a client that refuses it),
 * the security and cache headers, paths that try to leave the directory
 * (sent raw, since libcurl would tidy them), hidden files, types the console
 * does not serve, unknown files, a file changed on disk, and what the API's
 * routes answer beside the catch-all route.
 *
 * The store is not the subject here, so SQLite alone (the server family's
 * programs run both backends).
 */
#include "test_helpers.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <zlib.h>

#include "http_client.h"
#include "server/server.h"
#include "server/server_int.h"

struct sfx {
	char *dir, *web;
	struct server *srv;
	char base[64];
	char *big;            /* the body of js/app.js */
};

static void write_file(const char *dir, const char *rel, const char *text)
{
	char *path = fl_asprintf("%s/%s", dir, rel);
	FILE *f;
	char *slash = strrchr(path, '/');

	*slash = '\0';
	{
		char *cmd = fl_asprintf("mkdir -p '%s'", path);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	*slash = '/';
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static int setup(void **state)
{
	struct sfx *s = fl_calloc(1, sizeof(*s));
	struct server_options o = { 0 };
	struct fl_buf big = FL_BUF_INIT;
	char *url, *err = NULL;
	int i;

	s->dir = test_tmpdir();
	s->web = fl_asprintf("%s/web", s->dir);
	for (i = 0; i < 200; i++)
		fl_buf_addf(&big, "export const line%d = 'the console repeats itself, which gzip likes';\n", i);
	s->big = fl_buf_detach(&big, NULL);
	write_file(s->web, "index.html", "<!doctype html><title>Frontline</title><script type=module src=js/app.js></script>\n");
	write_file(s->web, "js/app.js", s->big);
	write_file(s->web, "tiny.css", "body{margin:0}\n");
	write_file(s->web, "vendor/preact-11.2.0/preact.mjs", s->big);
	write_file(s->web, "vendor/README.txt", "vendored\n");
	write_file(s->web, ".hidden.js", "secret\n");
	write_file(s->web, "node_modules/x/index.js", "npm's\n");
	write_file(s->web, "package.json", "{}\n");
	write_file(s->dir, "secret.txt", "outside the web directory\n");
	{
		char *target = fl_asprintf("%s/secret.txt", s->dir), *link = fl_asprintf("%s/escape.txt", s->web);

		assert_int_equal(symlink(target, link), 0);
		free(target);
		free(link);
	}
	url = fl_asprintf("sqlite://%s/frontline.db", s->dir);
	o.listen = "127.0.0.1:0";
	o.store_url = url;
	o.threads = 2;
	o.rate = -1;
	o.web_dir = s->web;
	assert_int_equal(server_new(&o, &s->srv, &err), SERVER_OK);
	assert_int_equal(server_start(s->srv, &err), SERVER_OK);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", server_port(s->srv));
	free(url);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct sfx *s = *state;

	server_free(s->srv);
	test_tmpdir_remove(s->dir);
	free(s->dir);
	free(s->web);
	free(s->big);
	free(s);
	return 0;
}

/* GET base+path with extra headers (NULL-terminated list, or NULL). */
static void get(struct sfx *s, const char *method, const char *path, const char *const *headers,
		struct http_resp *out)
{
	char *url = fl_asprintf("%s%s", s->base, path);
	struct http_req req = { .method = method, .url = url, .headers = headers };

	http_do(&req, out);
	assert_true(out->status > 0);
	free(url);
}

static void expect_header(const struct http_resp *r, const char *name, const char *value)
{
	char *v = http_resp_header(r, name);

	if (!v || strcmp(v, value))
		fail_msg("header %s: expected '%s', got '%s'", name, value, v ? v : "(none)");
	free(v);
}

static void expect_no_header(const struct http_resp *r, const char *name)
{
	char *v = http_resp_header(r, name);

	if (v)
		fail_msg("header %s: expected none, got '%s'", name, v);
}

static void test_index_is_served_at_the_root_with_the_security_headers(void **state)
{
	struct sfx *s = *state;
	struct http_resp r;
	char *etag;

	get(s, NULL, "/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<title>Frontline</title>"));
	expect_header(&r, "Content-Type", "text/html; charset=utf-8");
	expect_header(&r, "Content-Security-Policy",
		      "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
		      "base-uri 'none'; form-action 'self'");
	expect_header(&r, "X-Content-Type-Options", "nosniff");
	expect_header(&r, "Referrer-Policy", "same-origin");
	expect_header(&r, "Cache-Control", "no-cache");
	etag = http_resp_header(&r, "ETag");
	assert_non_null(etag);
	assert_int_equal(strlen(etag), 18);   /* a quoted 16-digit hash */
	free(etag);
	http_resp_release(&r);
	/* the same file by its name */
	get(s, NULL, "/index.html", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<title>Frontline</title>"));
	http_resp_release(&r);
	/* HEAD: the headers without the body */
	get(s, "HEAD", "/js/app.js", NULL, &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	assert_int_equal(r.len, 0);
	http_resp_release(&r);
}

static void test_etag_gives_304_and_changes_with_the_file(void **state)
{
	struct sfx *s = *state;
	struct http_resp r;
	char *etag, *inm, *etag2;

	get(s, NULL, "/js/app.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, strlen(s->big));
	etag = http_resp_header(&r, "ETag");
	http_resp_release(&r);
	inm = fl_asprintf("If-None-Match: W/\"0000000000000000\", %s", etag);
	{
		const char *h[] = { inm, NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 304);
		assert_int_equal(r.len, 0);
		expect_header(&r, "ETag", etag);
		http_resp_release(&r);
	}
	{
		const char *h[] = { "If-None-Match: \"0123456789abcdef\"", NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 200);
		http_resp_release(&r);
	}
	/* edited on disk (another size): the next request sees it, with another tag */
	write_file(s->web, "js/app.js", "export const edited = true;\n");
	{
		const char *h[] = { inm, NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body, "export const edited = true;\n");
		etag2 = http_resp_header(&r, "ETag");
		assert_string_not_equal(etag, etag2);
		free(etag2);
		http_resp_release(&r);
	}
	free(inm);
	free(etag);
}

static char *gunzip(const char *in, size_t len, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap = 1 << 20;
	char *out = fl_malloc(cap);

	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)out;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static void test_gzip_when_accepted_and_smaller(void **state)
{
	struct sfx *s = *state;
	struct http_resp r;
	char *plain, *etag_gz, *inm;
	size_t n;

	{
		const char *h[] = { "Accept-Encoding: br, gzip;q=0.8", NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 200);
		expect_header(&r, "Content-Encoding", "gzip");
		expect_header(&r, "Vary", "Accept-Encoding");
		assert_true(r.len < strlen(s->big) / 4);
		plain = gunzip(r.body, r.len, &n);
		assert_int_equal(n, strlen(s->big));
		assert_memory_equal(plain, s->big, n);
		free(plain);
		etag_gz = http_resp_header(&r, "ETag");
		assert_non_null(strstr(etag_gz, "-gz\""));
		http_resp_release(&r);
	}
	/* the gzip form's tag revalidates too */
	inm = fl_asprintf("If-None-Match: %s", etag_gz);
	{
		const char *h[] = { inm, "Accept-Encoding: gzip", NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 304);
		http_resp_release(&r);
	}
	free(inm);
	free(etag_gz);
	/* refused with q=0, or not offered: the file as it is */
	{
		const char *h[] = { "Accept-Encoding: gzip;q=0, identity", NULL };

		get(s, NULL, "/js/app.js", h, &r);
		assert_int_equal(r.status, 200);
		expect_no_header(&r, "Content-Encoding");
		assert_int_equal(r.len, strlen(s->big));
		http_resp_release(&r);
	}
	/* too small to gain: never compressed, no Vary */
	{
		const char *h[] = { "Accept-Encoding: gzip", NULL };

		get(s, NULL, "/tiny.css", h, &r);
		assert_int_equal(r.status, 200);
		expect_no_header(&r, "Content-Encoding");
		expect_header(&r, "Content-Type", "text/css; charset=utf-8");
		assert_string_equal(r.body, "body{margin:0}\n");
		http_resp_release(&r);
	}
	assert_true(server__static_accepts_gzip("gzip"));
	assert_true(server__static_accepts_gzip("deflate, GZIP ; q=0.5"));
	assert_true(server__static_accepts_gzip("*"));
	assert_false(server__static_accepts_gzip("gzip;q=0"));
	assert_false(server__static_accepts_gzip("gzip; q=0.000, *"));
	assert_false(server__static_accepts_gzip("br, deflate"));
	assert_false(server__static_accepts_gzip("*;q=0"));
	assert_false(server__static_accepts_gzip(NULL));
}

static void test_versioned_vendor_files_are_cached_for_a_year(void **state)
{
	struct sfx *s = *state;
	struct http_resp r;

	get(s, NULL, "/vendor/preact-11.2.0/preact.mjs", NULL, &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Cache-Control", "public, max-age=31536000, immutable");
	expect_header(&r, "Content-Type", "text/javascript; charset=utf-8");
	http_resp_release(&r);
	/* not under a versioned directory: revalidated */
	get(s, NULL, "/vendor/README.txt", NULL, &r);
	assert_int_equal(r.status, 200);
	expect_header(&r, "Cache-Control", "no-cache");
	http_resp_release(&r);
}

/* A raw request line, as a browser would never send it; the status of the answer. */
static int raw_status(struct sfx *s, const char *target, char **body)
{
	char *req = fl_asprintf("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", target);
	int fd = http_raw_connect(server_port(s->srv)), status = 0;
	bool closed;
	char *resp;

	assert_true(fd >= 0);
	assert_int_equal(http_raw_send(fd, req, strlen(req)), 0);
	resp = http_raw_read(fd, 5000, &closed);
	close(fd);
	assert_non_null(resp);
	sscanf(resp, "HTTP/1.1 %d", &status);
	if (body)
		*body = resp;
	else
		free(resp);
	free(req);
	return status;
}

static void test_paths_out_of_the_directory_are_refused(void **state)
{
	struct sfx *s = *state;
	static const char *const refused[] = {
		"/../secret.txt", "/%2e%2e/secret.txt", "/js/../../secret.txt", "/js/%2E%2E/%2e%2e/secret.txt",
		"/escape.txt", "/.hidden.js", "/node_modules/x/index.js", "/package.json", "//secret.txt",
		"/js//app.js", "/./index.html", "/js/..\\..\\secret.txt",
	};
	size_t i;
	char *body = NULL;

	for (i = 0; i < FL_ARRAY_SIZE(refused); i++) {
		int st = raw_status(s, refused[i], &body);

		if (st != 404 || strstr(body, "outside the web") || !strstr(body, "\"not_found\""))
			fail_msg("GET %s: expected a 404 not_found, got %d:\n%s", refused[i], st, body);
		free(body);
		body = NULL;
	}
	/* an encoded '/' never reaches the files: the request's framing check refuses it first */
	assert_int_equal(raw_status(s, "/js/..%2f..%2fsecret.txt", &body), 400);
	assert_non_null(strstr(body, "\"bad_request\""));
	free(body);
	assert_false(server__static_path_ok("a/../b.js"));
	assert_false(server__static_path_ok(".git/config.txt"));
	assert_false(server__static_path_ok("js/"));
	assert_false(server__static_path_ok("LICENSE"));
	assert_false(server__static_path_ok("app.c"));
	assert_true(server__static_path_ok("js/screens/queue.js"));
	assert_true(server__static_path_ok("console.css"));
}

static void test_unknown_files_and_api_paths_keep_their_answers(void **state)
{
	struct sfx *s = *state;
	struct http_resp r;

	get(s, NULL, "/js/nothing.js", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(http_error_code(&r), "not_found");
	http_resp_release(&r);
	get(s, NULL, "/api/v1/nothing-here", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(http_error_code(&r), "not_found");
	expect_header(&r, "Cache-Control", "no-store");
	expect_no_header(&r, "Content-Security-Policy");
	http_resp_release(&r);
	/* no other method on a console path: 404, not 405 */
	get(s, "POST", "/index.html", NULL, &r);
	assert_int_equal(r.status, 404);
	http_resp_release(&r);
	/* a path the API serves under another method is still a 405 */
	get(s, NULL, "/api/v1/tickets/x/replies", NULL, &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(http_error_code(&r), "method_not_allowed");
	http_resp_release(&r);
	/* and the API's routes are the API's */
	get(s, NULL, "/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(json_object_get(r.json, "status"));
	http_resp_release(&r);
}

static void test_without_a_web_directory_the_console_is_a_404(void **state)
{
	struct sfx *s = *state;
	struct server_options o = { 0 };
	struct server *srv = NULL;
	struct http_resp r;
	char *url = fl_asprintf("sqlite://%s/frontline.db", s->dir), *missing = fl_asprintf("%s/none", s->dir);
	char *err = NULL, *u;
	struct http_req req = { 0 };

	o.listen = "127.0.0.1:0";
	o.store_url = url;
	o.threads = 1;
	o.web_dir = missing;
	assert_int_equal(server_new(&o, &srv, &err), SERVER_OK);
	assert_int_equal(server_start(srv, &err), SERVER_OK);
	u = fl_asprintf("http://127.0.0.1:%u/", server_port(srv));
	req.url = u;
	http_do(&req, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "console is not installed"));
	http_resp_release(&r);
	server_free(srv);
	free(u);
	free(url);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_index_is_served_at_the_root_with_the_security_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_etag_gives_304_and_changes_with_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip_when_accepted_and_smaller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versioned_vendor_files_are_cached_for_a_year, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_out_of_the_directory_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_files_and_api_paths_keep_their_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_web_directory_the_console_is_a_404, setup, teardown),
	};
	char *err = NULL;
	int rc;

	fl_config_load(NULL, false, &err);
	free(err);
	fl_log_setup(getenv("TEST_DEBUG") ? FL_LOG_DEBUG : FL_LOG_ERROR, NULL, NULL);
	fl_curl_global_init();
	rc = cmocka_run_group_tests_name("server_static", tests, NULL, NULL);
	curl_global_cleanup();
	fl_config_free();
	return rc;
}
