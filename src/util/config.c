/*
 * The process-wide configuration: the one piece of global state, written
 * during start-up (fl_config_load, fl_config_set) and read-only afterwards.
 *
 * Every key Frontline reads is listed in config_keys[] with its default and a
 * one-line description; docs/CONFIGURATION.md mirrors this table and a test
 * checks that they agree. Unknown keys in a config file are warned about,
 * not silently accepted.
 *
 * It also decides where the shipped data and the state live (fl_share_path,
 * the defaults that follow FRONTLINE_SHARE_DIR and FRONTLINE_STATE_DIR): one
 * rule for the whole program, described in docs/CONFIGURATION.md. The build
 * passes the paths it knows as definitions (the root meson.build):
 * FL_SOURCE_ROOT and FL_BUILD_ROOT, FL_DATADIR (<datadir>/frontline,
 * absolute) and FL_BINDIR_TO_DATADIR (the same, relative to <bindir>).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const struct fl_config_key config_keys[] = {
	{ "FRONTLINE_DATABASE_URL", "sqlite://./var/frontline.db",
	  "store URL: sqlite:///path, sqlite::memory:, postgres://... or a libpq connection string "
	  "(the default follows FRONTLINE_STATE_DIR: sqlite://<state dir>/frontline.db)", FL_CONFIG_URL },
	{ "FRONTLINE_STATE_DIR", "./var", "directory of the service's state: the SQLite store and its files "
	  "(/var/lib/frontline for the packaged service)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LISTEN", "127.0.0.1:8080", "address and port the HTTP server listens on", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WEBHOOK_SECRET", NULL, "HMAC-SHA256 key for signed webhooks", FL_CONFIG_SECRET },
	{ "FRONTLINE_WORKERS", NULL, "worker threads that run workflows (default: number of cores)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_THREADS", NULL, "HTTP server threads (default: number of cores)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_MAX_BODY", "1048576", "largest request body in bytes (413 beyond)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_MAX_HEADER", "16384", "memory per connection for the request line and headers (414/431 beyond); "
	  "a live stream holds it for as long as it is open", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_TIMEOUT", "30", "seconds an idle or stalled connection stays open (slowloris)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_REQUEST_TIMEOUT", "60", "seconds a request may take to arrive whole, headers and body, from its connection's opening or the previous answer (a client that trickles is closed; 0: no limit)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_MAX_CONNECTIONS", "4096", "concurrent HTTP connections at most, live streams included (the "
	  "server raises its open-files limit to fit)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_PER_IP_CONNECTIONS", "128", "concurrent connections per client address, below "
	  "FRONTLINE_HTTP_MAX_CONNECTIONS so that one address cannot take them all (0: no limit); live streams "
	  "count (behind a reverse proxy, raise it)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_HTTP_AUTH_FAILURES", "10", "unknown or revoked API tokens one client address may present per minute, in bursts of twice that, before 429 (0: no limit)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_STREAM_MAX", "3072", "live streams (GET /api/v1/stream) open at most; beyond, 503 (keep below "
	  "FRONTLINE_HTTP_MAX_CONNECTIONS so that streams leave room for requests)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_STREAM_POLL_MS", "100", "milliseconds between two reads of new events for the live streams "
	  "(changes made by this process are sent at once)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_STREAM_HEARTBEAT", "15", "seconds between heartbeats on an idle live stream", FL_CONFIG_PLAIN },
	{ "FRONTLINE_PUBLIC_URL", NULL, "the URL people reach the console at (https: session cookies are Secure)",
	  FL_CONFIG_PLAIN },
	{ "FRONTLINE_SESSION_IDLE_S", "28800", "seconds a console session lives without a request (8 hours)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SESSION_MAX_S", "86400", "seconds a console session lives at most, however active (24 hours)",
	  FL_CONFIG_PLAIN },
	{ "FRONTLINE_LOGIN_MAX_FAILURES", "10", "failed sign-ins per account within FRONTLINE_LOGIN_WINDOW before 429 "
	  "(slowed from half of it; per client address five times as many)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LOGIN_WINDOW", "900", "seconds over which failed sign-ins are counted", FL_CONFIG_PLAIN },
	{ "FRONTLINE_PASSWORD_COST", "interactive", "Argon2id cost of new password hashes: interactive or moderate "
	  "(libsodium's limits); min is for test suites only", FL_CONFIG_PLAIN },
	/* issue 17's channels: the web form, the survey, phone (docs/CHANNELS.md) */
	{ "FRONTLINE_FORM_RATE_LIMIT", "10", "web form submissions (POST /support) one client address may make per "
	  "hour; beyond, 429 (0: no limit)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_CSAT_DELAY", "86400", "seconds after a ticket is resolved that its satisfaction survey is emailed "
	  "(needs FRONTLINE_PUBLIC_URL for the link; negative: no surveys)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_TWILIO_AUTH_TOKEN", NULL, "Twilio account auth token: the key of X-Twilio-Signature on "
	  "/webhooks/twilio/* (unset: those routes answer 503)", FL_CONFIG_SECRET },
	{ "FRONTLINE_RATE_LIMIT", "50", "requests per second per API token (token bucket; 0 or less: none)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_RATE_BURST", "100", "burst size of the per-token bucket", FL_CONFIG_PLAIN },
	{ "FRONTLINE_CHAT_ORIGINS", "", "sites that may embed the chat widget: origins (https://shop.example.com, "
	  "https://*.example.com) separated by commas or spaces; empty: none", FL_CONFIG_PLAIN },
	{ "FRONTLINE_CHAT_RATE_LIMIT", "2", "chat requests per second per visitor token and per client address "
	  "(token bucket; 0 or less: none)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_CHAT_RATE_BURST", "30", "burst size of the chat's buckets", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WEBHOOK_TOLERANCE", "300", "seconds a signed webhook's timestamp may differ from our clock", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SHUTDOWN_GRACE", "30", "seconds to finish requests and jobs on SIGTERM before releasing them", FL_CONFIG_PLAIN },
	{ "FRONTLINE_JOB_LEASE", "300", "seconds a worker holds a job between heartbeats before another may take it", FL_CONFIG_PLAIN },
	{ "FRONTLINE_MONITOR_WINDOW", "3600", "sliding window of the monitoring metrics, in seconds", FL_CONFIG_PLAIN },
	{ "FRONTLINE_NOTIFY_MAX_ATTEMPTS", "8", "delivery attempts of a notification before it is dead", FL_CONFIG_PLAIN },
	{ "FRONTLINE_NOTIFY_LEASE", "15", "seconds a dispatcher holds claimed notifications between heartbeats "
	  "(a dead dispatcher's are due again this long after its last one; at least 3)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EVENT_WEBHOOK_URLS", NULL, "comma-separated URLs that receive ticket events (created, escalated, resolved)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EVENT_WEBHOOK_SECRET", NULL, "HMAC-SHA256 key signing outbound ticket events", FL_CONFIG_SECRET },
	{ "FRONTLINE_DATA_DIR", "../shared/data", "third-party training and evaluation data (never shipped)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SHARE_DIR", NULL, "directory of the shipped data (models/, kb/, web/); default: the source tree for a "
	  "binary run from its build directory, else <prefix>/share/frontline beside the binary", FL_CONFIG_PLAIN },
	{ "FRONTLINE_MODELS_DIR", NULL, "directory of the analyzer's trained model files (default: models/ in the share "
	  "directory)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_KB_DIR", NULL, "directory of bundled knowledge-base articles (default: kb/ in the share directory)",
	  FL_CONFIG_PLAIN },
	{ "FRONTLINE_DICTIONARY", NULL, "hunspell dictionary of the KB's language, as a path without .aff/.dic (default: "
	  "Debian's hunspell-en-us, /usr/share/hunspell/en_US); a lower-case word outside it names something", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_MAX_INFLIGHT", "16", "LLM requests in flight across the process", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_TIMEOUT", "60", "seconds an LLM request may take in all (the seed's response_timeout)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_CONNECT_TIMEOUT", "10", "seconds to connect to the LLM endpoint", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_MAX_RETRIES", "3", "retries of an LLM request after timeouts, 408, 409, 429, 5xx, 529", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_BACKOFF_MS", "500", "first LLM retry backoff ceiling in ms (doubles per retry, full jitter)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_BACKOFF_MAX_MS", "8000", "largest LLM retry backoff ceiling in ms", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_RETRY_AFTER_MAX", "60", "seconds of Retry-After honoured; a longer one ends the retries", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_MAX_TOKENS", "1024", "reply token budget per LLM request", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_TEMPERATURE", "0", "LLM sampling temperature", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_OUTPUT_MODE", "auto", "structured output: auto, tool, json_schema, json_object or prompt", FL_CONFIG_PLAIN },
	{ "FRONTLINE_LLM_PRICES",
	  "claude-sonnet-4-5*=3:15,claude-haiku-4-5*=1:5,claude-opus-4-5*=5:25,glm-4.6=0.6:2.2",
	  "LLM prices, model=input:output USD per million tokens, comma-separated ('*' suffix: prefix)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_MONITOR_INTERVAL", "60", "seconds between runs of the monitoring workflow", FL_CONFIG_PLAIN },
	/* issue 18: the SLA sweep, auto-close and reminders (src/support/sla.c, src/service/sla.c) */
	{ "FRONTLINE_SLA_SWEEP_INTERVAL", "60", "seconds between SLA sweeps (warnings, breaches, reminders, auto-close; 0: off)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_AUTOCLOSE_DAYS", "7", "days after which a resolved ticket closes unless the customer writes (0: never)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_PENDING_REMIND_HOURS", "48", "hours a pending ticket waits before its one reminder to the customer (0: none)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_PENDING_RESOLVE_HOURS", "168", "hours a pending ticket waits before it is resolved (0: never)", FL_CONFIG_PLAIN },
	/* issue 18: assignment (src/store/departments.c, src/support/process.c, src/server/routes_departments.c) */
	{ "FRONTLINE_AGENT_IDLE_S", "900", "seconds without console activity after which an available agent counts as away", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SLACK_WEBHOOK_URL", NULL, "Slack incoming-webhook URL for notifications", FL_CONFIG_SECRET },
	{ "FRONTLINE_SMTP_URL", NULL, "SMTP server for outbound email (smtp://host:port)", FL_CONFIG_URL },
	{ "FRONTLINE_ONCALL_EMAILS", NULL, "comma-separated on-call addresses for urgent alerts", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SUPPORT_FROM", "support@frontline.localhost", "From address of emails to customers", FL_CONFIG_PLAIN },
	{ "FRONTLINE_PUBLIC_URL", NULL, "public help centre's base URL: replies link an article as URL/articles/<id> (unset: no links)",
	  FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_RESPONSE_TIME", "300", "alert when average first-response time exceeds this (s)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_SATISFACTION", "0.7", "alert (critical) when mean satisfaction falls below this", FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_ESCALATION_RATE", "0.2", "alert when the escalation rate exceeds this", FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_QUEUE_DEPTH", "100", "alert when this many jobs wait in the queue", FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_LLM_ERROR_RATE", "0.2", "alert when this share of LLM calls fail", FL_CONFIG_PLAIN },
	{ "FRONTLINE_ALERT_HYSTERESIS", "0.1", "an active alert resolves only this fraction back past its threshold "
	  "(0.1: fired above 0.2, resolves at or below 0.18)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_IMAP_URL", NULL, "IMAP mailbox to poll for inbound email", FL_CONFIG_URL },
	{ "FRONTLINE_IMAP_MOVE_TO", NULL, "IMAP folder to move processed mail to (unset: mark it \\Seen)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_IMAP_INTERVAL", "60", "seconds between IMAP polls", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_DOMAIN", NULL, "domain of Frontline's Message-IDs (default: FRONTLINE_SUPPORT_FROM's)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_TAG", "Frontline", "word of the subject tag \"[Frontline #T-000042]\"", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_MAX_BYTES", "26214400", "largest inbound message accepted, bytes", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_MAX_ATTACHMENT_BYTES", "10485760", "largest attachment kept, bytes (larger: listed, not kept)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_MAX_ATTACHMENTS", "100", "attachments kept per message", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_THREAD_BY_SUBJECT_DAYS", "0", "thread by sender and subject within N days (0: off)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_RATE_LIMIT", "10", "messages per sender per window before automatic replies stop (0: no limit)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_EMAIL_RATE_WINDOW", "3600", "seconds of the per-sender rate window", FL_CONFIG_PLAIN },
	{ "FRONTLINE_SPAMD", NULL, "SpamAssassin spamd (host:port) asked about each inbound email (unset: none)", FL_CONFIG_PLAIN },
	{ "API_KEY", NULL, "LLM API key (also ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN)", FL_CONFIG_SECRET },
	{ "ANTHROPIC_API_KEY", NULL, "LLM API key, if API_KEY is unset", FL_CONFIG_SECRET },
	{ "ANTHROPIC_AUTH_TOKEN", NULL, "LLM API key, if API_KEY and ANTHROPIC_API_KEY are unset", FL_CONFIG_SECRET },
	{ "ANTHROPIC_BASE_URL", NULL, "LLM endpoint base URL", FL_CONFIG_PLAIN },
	{ "ANTHROPIC_MODEL", NULL, "LLM model name", FL_CONFIG_PLAIN },
	{ "CLAUDE_PROVIDER", NULL, "LLM provider: anthropic, io_net, z_ai, openai, ollama (default: from the base URL)", FL_CONFIG_PLAIN },
	{ "CLAUDE_MODEL", NULL, "LLM model name, if ANTHROPIC_MODEL is unset", FL_CONFIG_PLAIN },
	{ "SUPPORT_LOG_LEVEL", "info", "log level: debug, info, warning, error", FL_CONFIG_PLAIN },
	{ "METRICS_ENABLED", "true", "collect metrics and serve /metrics", FL_CONFIG_PLAIN },
	{ "NOTIFICATION_ENABLED", "true", "deliver notifications (email, Slack, webhooks)", FL_CONFIG_PLAIN },
	{ "CRM_API_URL", NULL, "external CRM base URL (unset: the store's customer table is the CRM)", FL_CONFIG_PLAIN },
	{ "CRM_API_KEY", NULL, "external CRM API key", FL_CONFIG_SECRET },
	{ "FRONTLINE_CRM_CACHE_S", "300", "seconds a CRM answer (or its not knowing a customer) is remembered",
	  FL_CONFIG_PLAIN },
	/*
	 * issue 18: the workflow each channel's tickets run, one key per channel
	 * of fl_channels (a fixed table keeps every key listed, documented and
	 * checked); the names are checked against the registry at start-up
	 * (support_routing_new), not here: util knows no workflows.
	 */
	{ "FRONTLINE_WORKFLOW_EMAIL", NULL, "the workflow email tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WORKFLOW_CHAT", NULL, "the workflow chat tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WORKFLOW_WEB", NULL, "the workflow web tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WORKFLOW_PHONE", NULL, "the workflow phone tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WORKFLOW_WEBHOOK", NULL, "the workflow webhook tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "FRONTLINE_WORKFLOW_API", NULL, "the workflow api tickets run (a registered name; unset: customer_support)", FL_CONFIG_PLAIN },
	{ "KB_API_URL", NULL, "help-centre article list the KB sync imports (unset: no sync, the store's articles only)",
	  FL_CONFIG_PLAIN },
	{ "KB_API_KEY", NULL, "bearer token for KB_API_URL (unset: none sent)", FL_CONFIG_SECRET },
	{ "FRONTLINE_KB_SYNC_INTERVAL", "3600", "seconds between KB syncs in serve and worker (0: off)", FL_CONFIG_PLAIN },
	{ NULL, NULL, NULL, FL_CONFIG_PLAIN },
};

enum config_source { SRC_UNSET, SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG };

struct config_value {
	char *value;
	enum config_source source;
};

static struct config_value config_values[FL_ARRAY_SIZE(config_keys)];

const struct fl_config_key *fl_config_keys(void)
{
	return config_keys;
}

static int key_index(const char *name)
{
	size_t i;

	for (i = 0; config_keys[i].name; i++)
		if (!strcmp(config_keys[i].name, name))
			return (int)i;
	return -1;
}

static void put(int i, const char *value, enum config_source src)
{
	if (config_values[i].source > src)
		return;
	free(config_values[i].value);
	config_values[i].value = fl_strdup(value);
	config_values[i].source = src;
}

static int load_file(const char *path, bool required, char **err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = -1;

	if (!f) {
		if (errno == ENOENT && !required)
			return 0;
		*err = fl_asprintf("cannot read config file '%s': %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n, klen, vlen;
		const char *p, *eq, *v;
		char *key;
		int i;

		lineno++;
		p = fl_str_trim(line, &len);
		if (!len || *p == '#')
			continue;
		eq = memchr(p, '=', len);
		if (!eq) {
			*err = fl_asprintf("%s:%d: expected KEY=value", path, lineno);
			goto out;
		}
		vlen = len - (size_t)(eq + 1 - p);
		v = fl_str_trim(eq + 1, &vlen);
		klen = (size_t)(eq - p);
		fl_str_trim(p, &klen);
		if (klen > 7 && !strncmp(p, "export ", 7)) {
			klen -= 7;
			p = fl_str_trim(p + 7, &klen);
		}
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
			v++;
			vlen -= 2;
		}
		/* every value can then be shown (the dump, JSON answers, logs) */
		if (fl_utf8_invalid_at(v, vlen) >= 0) {
			*err = fl_asprintf("%s:%d: the value is not valid UTF-8", path, lineno);
			goto out;
		}
		key = fl_strndup(p, klen);
		i = key_index(key);
		if (i < 0) {
			fl_log(FL_LOG_WARN, "%s:%d: unknown configuration key '%s' ignored", path, lineno, key);
		} else {
			char *val = fl_strndup(v, vlen);

			put(i, val, SRC_FILE);
			free(val);
		}
		free(key);
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---- where the shipped data and the state live ---- */

/* The realpath of this process's executable, or NULL. Caller frees. */
static char *self_exe(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return fl_strdup(buf);
}

static bool is_dir(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

bool fl_running_from_build(void)
{
#if defined(FL_BUILD_ROOT) && defined(FL_SOURCE_ROOT)
	char *exe = self_exe(), *root = realpath(FL_BUILD_ROOT, NULL);
	size_t n = root ? strlen(root) : 0;
	bool yes = exe && root && !strncmp(exe, root, n) && exe[n] == '/' && is_dir(FL_SOURCE_ROOT "/data");

	free(exe);
	free(root);
	return yes;
#else
	return false;
#endif
}

/* <prefix>/share/frontline for an installed binary: found from the
 * executable (so a tree installed with DESTDIR, or moved, still finds its
 * data), else the datadir it was configured with. Caller frees. */
static char *installed_share_dir(void)
{
	char *exe = self_exe(), *slash, *dir = NULL, *real;

#ifdef FL_BINDIR_TO_DATADIR
	if (exe && (slash = strrchr(exe, '/'))) {
		*slash = '\0';
		dir = fl_asprintf("%s/%s", exe, FL_BINDIR_TO_DATADIR);
		if (!is_dir(dir)) {
			free(dir);
			dir = NULL;
		}
	}
#else
	(void)slash;
#endif
	free(exe);
#ifdef FL_DATADIR
	if (!dir)
		dir = fl_strdup(FL_DATADIR);
#else
	if (!dir)
		dir = fl_strdup("/usr/share/frontline");
#endif
	real = realpath(dir, NULL);
	if (real) {
		free(dir);
		dir = real;
	}
	return dir;
}

char *fl_share_path(const char *name)
{
	const char *share = fl_config_get("FRONTLINE_SHARE_DIR");
	char *dir, *p;

	if (share && strcmp(fl_config_source("FRONTLINE_SHARE_DIR"), "default"))
		return fl_asprintf("%s/%s", share, name);
#ifdef FL_SOURCE_ROOT
	/* the source tree keeps the console at its root, the rest under data/ */
	if (fl_running_from_build())
		return fl_asprintf("%s/%s%s", FL_SOURCE_ROOT, strcmp(name, "web") ? "data/" : "", name);
#endif
	if (share)
		return fl_asprintf("%s/%s", share, name);
	dir = installed_share_dir();
	p = fl_asprintf("%s/%s", dir, name);
	free(dir);
	return p;
}

/*
 * Defaults that follow other keys, applied once the environment and the file
 * are read, to the keys still at their default: the share directory of an
 * installed binary, the models and the articles in it, and the SQLite store
 * in the state directory.
 */
static void derive_defaults(void)
{
	static const struct { const char *key, *name; } shared[] = {
		{ "FRONTLINE_MODELS_DIR", "models" },
		{ "FRONTLINE_KB_DIR", "kb" },
	};
	int share = key_index("FRONTLINE_SHARE_DIR"), db = key_index("FRONTLINE_DATABASE_URL");
	size_t i;

	if (config_values[share].source == SRC_UNSET && !fl_running_from_build()) {
		char *dir = installed_share_dir();

		put(share, dir, SRC_DEFAULT);
		free(dir);
	}
	for (i = 0; i < FL_ARRAY_SIZE(shared); i++) {
		int k = key_index(shared[i].key);

		if (config_values[k].source <= SRC_DEFAULT) {
			char *p = fl_share_path(shared[i].name);

			put(k, p, SRC_DEFAULT);
			free(p);
		}
	}
	if (config_values[db].source <= SRC_DEFAULT) {
		char *url = fl_asprintf("sqlite://%s/frontline.db", fl_config_get("FRONTLINE_STATE_DIR"));

		put(db, url, SRC_DEFAULT);
		free(url);
	}
}

int fl_config_load(const char *path, bool required, char **err)
{
	size_t i;

	*err = NULL;
	for (i = 0; config_keys[i].name; i++) {
		const char *env = getenv(config_keys[i].name);

		if (config_keys[i].def)
			put((int)i, config_keys[i].def, SRC_DEFAULT);
		if (env && fl_utf8_invalid_at(env, strlen(env)) >= 0) {
			*err = fl_asprintf("the environment variable %s is not valid UTF-8", config_keys[i].name);
			return -1;
		}
		if (env && *env)
			put((int)i, env, SRC_ENV);
	}
	if (path && load_file(path, required, err))
		return -1;
	derive_defaults();
	return 0;
}

void fl_config_set(const char *name, const char *value)
{
	int i = key_index(name);

	if (i < 0)
		fl_die("fl_config_set: unknown key '%s'", name);
	put(i, value, SRC_FLAG);
}

const char *fl_config_get(const char *name)
{
	int i = key_index(name);

	if (i < 0)
		fl_die("fl_config_get: unknown key '%s'", name);
	if (config_values[i].source == SRC_UNSET)
		return config_keys[i].def;
	return config_values[i].value;
}

int64_t fl_config_int(const char *name, int64_t def)
{
	const char *s = fl_config_get(name);
	int64_t v;

	if (!s || !*s)
		return def;
	if (fl_parse_int64(s, INT64_MIN, INT64_MAX, &v)) {
		fl_log(FL_LOG_WARN, "configuration %s='%s' is not an integer; using %lld",
		       name, s, (long long)def);
		return def;
	}
	return v;
}

double fl_config_num(const char *name, double def)
{
	const char *s = fl_config_get(name);
	double v;

	if (!s || !*s)
		return def;
	if (fl_parse_double(s, &v)) {
		fl_log(FL_LOG_WARN, "configuration %s='%s' is not a number; using %g", name, s, def);
		return def;
	}
	return v;
}

bool fl_config_bool(const char *name, bool def)
{
	const char *s = fl_config_get(name);
	int b;

	if (!s || !*s)
		return def;
	b = fl_parse_bool(s);
	if (b < 0) {
		fl_log(FL_LOG_WARN, "configuration %s='%s' is not a boolean; using %s",
		       name, s, def ? "true" : "false");
		return def;
	}
	return b;
}

const char *fl_config_source(const char *name)
{
	static const char *const names[] = { "unset", "default", "file", "env", "flag" };
	int i = key_index(name);

	if (i < 0)
		return "unknown";
	if (config_values[i].source == SRC_UNSET)
		return config_keys[i].def ? "default" : "unset";
	return names[config_values[i].source];
}

json_t *fl_config_dump(void)
{
	json_t *out = json_object();
	size_t i;

	for (i = 0; config_keys[i].name; i++) {
		const char *v = fl_config_get(config_keys[i].name);
		json_t *entry = json_object();
		char *shown = NULL;

		if (v && config_keys[i].kind == FL_CONFIG_SECRET)
			shown = fl_mask_secret(v);
		else if (v && config_keys[i].kind == FL_CONFIG_URL)
			shown = fl_mask_url(v);
		json_object_set_new(entry, "value", v ? json_string(shown ? shown : v) : json_null());
		json_object_set_new(entry, "source", json_string(fl_config_source(config_keys[i].name)));
		json_object_set_new(out, config_keys[i].name, entry);
		free(shown);
	}
	return out;
}

void fl_config_free(void)
{
	size_t i;

	for (i = 0; i < FL_ARRAY_SIZE(config_values); i++) {
		free(config_values[i].value);
		config_values[i].value = NULL;
		config_values[i].source = SRC_UNSET;
	}
}
