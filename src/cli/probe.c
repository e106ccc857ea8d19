/*
 * frontline probe: asks a running service whether it is ready (/readyz) or
 * alive (/healthz) and turns the answer into an exit code, for the places
 * that have no HTTP client of their own: the container image's HEALTHCHECK
 * (no curl in the image), the systemd unit's start-up check and the package
 * test.
 *
 * The address is the service's FRONTLINE_LISTEN (so the probe reads the same
 * configuration as the service it checks), or --url. A wildcard listen
 * address ("0.0.0.0", "[::]", ":8080") is probed on the loopback. Exit 0 on a
 * 2xx answer; EX_UNAVAILABLE (69) for anything else, including no answer;
 * EX_USAGE for bad options. --wait retries until the service is healthy or
 * the time is up (a service that is starting).
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "util/util.h"

static const char *const probe_usage[] = {
	"frontline probe [--live] [--url URL] [--timeout SECONDS] [--wait SECONDS] [--quiet]",
	NULL,
};

/* http://HOST:PORT/PATH for a FRONTLINE_LISTEN value; NULL when it has no port. Caller frees. */
static char *listen_url(const char *listen, const char *path)
{
	const char *colon = strrchr(listen, ':');
	size_t hlen = colon ? (size_t)(colon - listen) : 0;
	const char *host = listen;

	if (!colon || !colon[1])
		return NULL;
	if (!hlen || (hlen == 7 && !strncmp(listen, "0.0.0.0", 7)))
		host = "127.0.0.1", hlen = 9;
	else if (hlen == 4 && !strncmp(listen, "[::]", 4))
		host = "[::1]", hlen = 5;
	return fl_asprintf("http://%.*s:%s%s", (int)hlen, host, colon + 1, path);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One request: the HTTP status, or 0 with *why set when there was no answer. */
static long probe_once(const char *url, long timeout_ms, char *why, size_t why_len)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;

	if (!c) {
		fl_strlcpy(why, "cannot create an HTTP handle", why_len);
		return 0;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "frontline-probe/" FL_VERSION);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		fl_strlcpy(why, *errbuf ? errbuf : curl_easy_strerror(cc), why_len);
	curl_easy_cleanup(c);
	return status;
}

int cmd_probe(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *url_opt = NULL;
	bool live = false, quiet = false;
	double timeout = 5, wait = 0;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "live", &live, NULL, "check liveness (/healthz) instead of readiness (/readyz)" },
		{ CLI_OPT_STRING, 0, "url", &url_opt, "URL", "the URL to check (default: FRONTLINE_LISTEN's /readyz)" },
		{ CLI_OPT_DOUBLE, 't', "timeout", &timeout, "SECONDS", "time for one request (default 5)" },
		{ CLI_OPT_DOUBLE, 'w', "wait", &wait, "SECONDS", "retry until healthy or this long has passed (default 0: once)" },
		{ CLI_OPT_BOOL, 'q', "quiet", &quiet, NULL, "print nothing; the exit code tells" },
		CLI_OPTIONS_END,
	};
	char *url = NULL, why[CURL_ERROR_SIZE] = "";
	struct timespec start, now;
	long status;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, probe_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(probe_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!(timeout > 0 && timeout <= 3600) || !(wait >= 0 && wait <= 86400))
		return cli_usage_error(probe_usage, opts, "--timeout must be in (0, 3600] and --wait in [0, 86400]");
	if (url_opt)
		url = fl_strdup(url_opt);
	else if (!(url = listen_url(fl_config_get("FRONTLINE_LISTEN"), live ? "/healthz" : "/readyz")))
		return cli_error(EX_CONFIG, "FRONTLINE_LISTEN '%s' names no port (use host:port or --url)",
				 fl_config_get("FRONTLINE_LISTEN"));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		*why = '\0';
		status = probe_once(url, (long)(timeout * 1000), why, sizeof(why));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((status >= 200 && status < 300) ||
		    (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 + 0.25 > wait)
			break;
		nanosleep(&(struct timespec){ 0, 250 * 1000 * 1000 }, NULL);
	}
	if (status >= 200 && status < 300) {
		if (!quiet)
			printf("%s: %ld\n", url, status);
		rc = EX_OK;
	} else {
		if (!quiet) {
			if (status)
				cli_error(EX_UNAVAILABLE, "%s answered %ld", url, status);
			else
				cli_error(EX_UNAVAILABLE, "%s: no answer: %s", url, why);
		}
		rc = EX_UNAVAILABLE;
	}
	curl_global_cleanup();
	free(url);
	return rc;
}
