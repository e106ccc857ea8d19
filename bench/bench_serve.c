/*
 * bench_serve: preparing a benchmark process and starting the service for it
 * (see bench_serve.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_serve.h"
#include "util/util.h"

void bench_prepare(char *dir)
{
	struct rlimit rl;

	if (!mkdtemp(dir))
		fl_die("mkdtemp: %s", strerror(errno));
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	fl_log_setup(FL_LOG_WARN, NULL, NULL);
	fl_curl_global_init();
}

struct proc bench_serve(const char *dir, const char *db_url, const char *const *extra_env)
{
	static const char *const args[] = { "serve", "--no-workers", NULL };
	struct proc p;
	size_t i;

	setenv("FRONTLINE_DATABASE_URL", db_url, 1);
	setenv("FRONTLINE_LISTEN", "127.0.0.1:0", 1);
	setenv("FRONTLINE_RATE_LIMIT", "0", 1);
	setenv("FRONTLINE_CHAT_RATE_LIMIT", "0", 1);
	setenv("FRONTLINE_MONITOR_INTERVAL", "3600", 1);
	setenv("SUPPORT_LOG_LEVEL", "warning", 1);
	setenv("FRONTLINE_STREAM_MAX", "10000", 1);
	/* every stream comes from 127.0.0.1 here (in use, each console from its own address) */
	setenv("FRONTLINE_HTTP_PER_IP_CONNECTIONS", "0", 1);
	for (i = 0; extra_env && extra_env[i]; i++) {
		const char *eq = strchr(extra_env[i], '=');
		char *name;

		if (!eq)
			fl_die("bench_serve: '%s' is not NAME=value", extra_env[i]);
		name = fl_strndup(extra_env[i], (size_t)(eq - extra_env[i]));
		setenv(name, eq + 1, 1);
		free(name);
	}
	p = proc_spawn(args, NULL, "serve.log");
	if (!(p.port = proc_read_port(&p)))
		fl_die("frontline serve did not start (see %s/serve.log)", dir);
	return p;
}
