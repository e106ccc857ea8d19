/*
 * The client object: errors, providers and their detection from a base URL,
 * settings from the configuration, the price table, creation, and the
 * cumulative accounting. Sending (retries, the in-flight bound) is send.c.
 *
 * Threading: everything set by llm_client_new() is read-only afterwards;
 * the in-flight count, the pool of idle curl handles and the counters sit
 * under one mutex, held only for bookkeeping (never across a transfer or a
 * backoff sleep). A slot is held for exactly one HTTP transfer, so a request
 * waiting out a backoff does not keep others from running.
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "llm_int.h"

/* ---- errors ---- */

const char *llm_strerror(int rc)
{
	switch (rc) {
#define LLM_STR(name, text) case LLM_##name: return text;
	LLM_ERRNO_MAP(LLM_STR)
#undef LLM_STR
	}
	return "unknown error";
}

const char *llm_errname(int rc)
{
	switch (rc) {
#define LLM_NAME(name, text) case LLM_##name: return "LLM_" #name;
	LLM_ERRNO_MAP(LLM_NAME)
#undef LLM_NAME
	}
	return "LLM_UNKNOWN";
}

/* ---- providers ---- */

static const struct llm__provider providers[] = {
	{ "anthropic", &llm__anthropic_ops, "https://api.anthropic.com", "claude-sonnet-4-5", LLM__MODE_TOOL },
	{ "io_net", &llm__openai_ops, "https://api.intelligence.io.solutions/api/v1", "glm-4.6", LLM__MODE_JSON_OBJECT },
	{ "z_ai", &llm__anthropic_ops, "https://api.z.ai/api/anthropic", "glm-4.6", LLM__MODE_TOOL },
	{ "openai", &llm__openai_ops, "https://api.openai.com/v1", NULL, LLM__MODE_JSON_OBJECT },
	{ "ollama", &llm__openai_ops, "http://localhost:11434/v1", NULL, LLM__MODE_JSON_OBJECT },
};

const struct llm__provider *llm__provider_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < FL_ARRAY_SIZE(providers); i++)
		if (!strcasecmp(providers[i].name, name))
			return &providers[i];
	return NULL;
}

const char *llm__provider_names(void)
{
	return "anthropic, io_net, z_ai, openai, ollama";
}

static bool host_is(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (h < d || strcasecmp(host + h - d, domain))
		return false;
	return h == d || host[h - d - 1] == '.';
}

const struct llm__provider *llm__provider_detect(const char *base_url)
{
	const struct llm__provider *p;
	CURLU *u = curl_url();
	char *host = NULL, *path = NULL, *port = NULL;

	if (curl_url_set(u, CURLUPART_URL, base_url, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_HOST, &host, 0);
		curl_url_get(u, CURLUPART_PATH, &path, 0);
		curl_url_get(u, CURLUPART_PORT, &port, 0);
	}
	if (host && host_is(host, "anthropic.com"))
		p = llm__provider_find("anthropic");
	else if (host && strcasestr(host, "intelligence.io"))
		p = llm__provider_find("io_net");
	else if (host && (host_is(host, "z.ai") || host_is(host, "bigmodel.cn")))
		p = llm__provider_find("z_ai");
	else if (host && host_is(host, "openai.com"))
		p = llm__provider_find("openai");
	else if ((port && !strcmp(port, "11434")) || (host && strcasestr(host, "ollama")))
		p = llm__provider_find("ollama");
	else if (path && strstr(path, "/anthropic"))
		p = llm__provider_find("anthropic");
	else if (path && (fl_str_has_suffix(path, "/v1") || fl_str_has_suffix(path, "/v1/")))
		p = llm__provider_find("openai");   /* vLLM, llama.cpp: http://host:8000/v1 */
	else
		p = llm__provider_find("anthropic"); /* the variable is ANTHROPIC_BASE_URL */
	curl_free(host);
	curl_free(path);
	curl_free(port);
	curl_url_cleanup(u);
	return p;
}

static const char *const mode_names[] = {
	[LLM__MODE_TOOL] = "tool",
	[LLM__MODE_JSON_SCHEMA] = "json_schema",
	[LLM__MODE_JSON_OBJECT] = "json_object",
	[LLM__MODE_PROMPT] = "prompt",
};

const char *llm__mode_name(enum llm__mode m)
{
	return mode_names[m];
}

int llm__mode_parse(const char *s)
{
	size_t i;

	for (i = 0; s && i < FL_ARRAY_SIZE(mode_names); i++)
		if (!strcasecmp(mode_names[i], s))
			return (int)i;
	return -1;
}

/* ---- prices ---- */

void llm__prices_free(struct llm__price *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i].pattern);
	free(p);
}

int llm__prices_parse(const char *spec, struct llm__price **out, size_t *count, char **err)
{
	struct llm__price *prices = NULL;
	const char *item = spec ? spec : "", *next;
	size_t n = 0;
	int rc = -1;

	for (; *item; item = *next ? next + 1 : next) {
		size_t len, klen;
		const char *t;
		char *entry, *eq, *colon;
		double in, out_p;

		next = strchr(item, ',');
		if (!next)
			next = item + strlen(item);
		len = (size_t)(next - item);
		t = fl_str_trim(item, &len);
		if (!len)
			continue;
		entry = fl_strndup(t, len);
		eq = strchr(entry, '=');
		colon = eq ? strchr(eq + 1, ':') : NULL;
		if (!eq || !colon || eq == entry) {
			*err = fl_asprintf("invalid price entry '%s' (expected model=input:output)", entry);
			free(entry);
			goto out;
		}
		*eq = *colon = '\0';
		if (fl_parse_double(eq + 1, &in) || fl_parse_double(colon + 1, &out_p) || in < 0 || out_p < 0) {
			*err = fl_asprintf("invalid prices for '%s' (expected USD per million tokens, e.g. 3:15)",
					   entry);
			free(entry);
			goto out;
		}
		klen = strlen(entry);
		fl_str_trim(entry, &klen);
		entry[klen] = '\0';
		prices = fl_reallocarray(prices, n + 1, sizeof(*prices));
		prices[n].prefix = klen && entry[klen - 1] == '*';
		if (prices[n].prefix)
			entry[klen - 1] = '\0';
		prices[n].pattern = entry;
		prices[n].in_per_mtok = in;
		prices[n].out_per_mtok = out_p;
		n++;
	}
	*out = prices;
	*count = n;
	prices = NULL;
	n = 0;
	rc = 0;
out:
	llm__prices_free(prices, n);
	return rc;
}

/* The price of model: an exact entry, else the longest matching prefix. */
static const struct llm__price *price_of(const struct llm__price *p, size_t n, const char *model)
{
	const struct llm__price *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!p[i].prefix && !strcmp(p[i].pattern, model))
			return &p[i];
		if (p[i].prefix && fl_str_has_prefix(model, p[i].pattern) &&
		    (!best || strlen(p[i].pattern) > strlen(best->pattern)))
			best = &p[i];
	}
	return best;
}

double llm__cost(const struct llm_client *c, int64_t in, int64_t out)
{
	if (c->price_in < 0)
		return 0;
	return ((double)in * c->price_in + (double)out * c->price_out) / 1e6;
}

/* ---- settings ---- */

void llm_settings_init(struct llm_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->output_mode = "auto";
	s->timeout_ms = 60000;
	s->connect_timeout_ms = 10000;
	s->max_retries = 3;
	s->backoff_base_ms = 500;
	s->backoff_max_ms = 8000;
	s->retry_after_max_ms = 60000;
	s->max_inflight = 16;
	s->max_tokens = 1024;
	s->temperature = 0;
}

static const char *nonempty(const char *name)
{
	const char *v = fl_config_get(name);

	return v && *v ? v : NULL;
}

void llm_settings_from_config(struct llm_settings *s)
{
	static const char *const key_vars[] = { "API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN" };
	size_t i;

	llm_settings_init(s);
	for (i = 0; i < FL_ARRAY_SIZE(key_vars) && !s->api_key; i++) {
		s->api_key = nonempty(key_vars[i]);
		s->api_key_source = s->api_key ? key_vars[i] : NULL;
	}
	s->base_url = nonempty("ANTHROPIC_BASE_URL");
	s->model = nonempty("ANTHROPIC_MODEL");
	if (!s->model)
		s->model = nonempty("CLAUDE_MODEL");
	s->provider = nonempty("CLAUDE_PROVIDER");
	/* Only a key: API_KEY is the seed's io.net key, the others Anthropic's. */
	if (!s->provider && !s->base_url && s->api_key)
		s->provider = !strcmp(s->api_key_source, "API_KEY") ? "io_net" : "anthropic";
	s->output_mode = nonempty("FRONTLINE_LLM_OUTPUT_MODE") ? nonempty("FRONTLINE_LLM_OUTPUT_MODE") : "auto";
	s->prices = nonempty("FRONTLINE_LLM_PRICES");
	s->timeout_ms = (int64_t)(fl_config_num("FRONTLINE_LLM_TIMEOUT", 60) * 1000);
	s->connect_timeout_ms = (int64_t)(fl_config_num("FRONTLINE_LLM_CONNECT_TIMEOUT", 10) * 1000);
	s->max_retries = (int)fl_config_int("FRONTLINE_LLM_MAX_RETRIES", 3);
	s->backoff_base_ms = fl_config_int("FRONTLINE_LLM_BACKOFF_MS", 500);
	s->backoff_max_ms = fl_config_int("FRONTLINE_LLM_BACKOFF_MAX_MS", 8000);
	s->retry_after_max_ms = (int64_t)(fl_config_num("FRONTLINE_LLM_RETRY_AFTER_MAX", 60) * 1000);
	s->max_inflight = (int)fl_config_int("FRONTLINE_LLM_MAX_INFLIGHT", 16);
	s->max_tokens = (int)fl_config_int("FRONTLINE_LLM_MAX_TOKENS", 1024);
	s->temperature = fl_config_num("FRONTLINE_LLM_TEMPERATURE", 0);
}

/* ---- the client ---- */

static int check_range(const char *what, int64_t v, int64_t lo, int64_t hi, char **err)
{
	if (v >= lo && v <= hi)
		return 0;
	*err = fl_asprintf("invalid llm setting %s=%lld (expected %lld to %lld)", what, (long long)v,
			   (long long)lo, (long long)hi);
	return -1;
}

static char *strip_slashes(const char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		n--;
	return fl_strndup(s, n);
}

static int check_url(const char *url, char **err)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int rc = -1;

	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
		char *masked = fl_mask_url(url);

		*err = fl_asprintf("invalid llm base url '%s' (expected http:// or https://)", masked);
		free(masked);
	} else {
		rc = 0;
	}
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

int llm_client_new(struct llm_client **out, const struct llm_settings *s, char **err)
{
	struct llm_client *c = NULL;
	const struct llm__provider *prov;
	const struct llm__price *price;
	bool has_key = s->api_key && *s->api_key, has_base = s->base_url && *s->base_url;
	int rc = LLM_ECONFIG, mode;

	*out = NULL;
	*err = NULL;
	if (!has_key && !has_base && !(s->provider && !strcasecmp(s->provider, "ollama")))
		return LLM_ENOTCONFIGURED;
	if (s->provider && *s->provider) {
		prov = llm__provider_find(s->provider);
		if (!prov) {
			*err = fl_asprintf("unknown llm provider '%s' (available: %s)", s->provider,
					   llm__provider_names());
			return LLM_ECONFIG;
		}
	} else if (has_base) {
		prov = llm__provider_detect(s->base_url);
	} else {
		prov = llm__provider_find("anthropic");
	}
	if (check_range("FRONTLINE_LLM_TIMEOUT (ms)", s->timeout_ms, 50, 3600000, err) ||
	    check_range("FRONTLINE_LLM_CONNECT_TIMEOUT (ms)", s->connect_timeout_ms, 50, 3600000, err) ||
	    check_range("FRONTLINE_LLM_MAX_RETRIES", s->max_retries, 0, 10, err) ||
	    check_range("FRONTLINE_LLM_BACKOFF_MS", s->backoff_base_ms, 0, 600000, err) ||
	    check_range("FRONTLINE_LLM_BACKOFF_MAX_MS", s->backoff_max_ms, s->backoff_base_ms, 3600000, err) ||
	    check_range("FRONTLINE_LLM_RETRY_AFTER_MAX (ms)", s->retry_after_max_ms, 0, 3600000, err) ||
	    check_range("FRONTLINE_LLM_MAX_INFLIGHT", s->max_inflight, 1, 4096, err) ||
	    check_range("FRONTLINE_LLM_MAX_TOKENS", s->max_tokens, 1, 1000000, err))
		return LLM_ECONFIG;
	if (!(s->temperature >= 0 && s->temperature <= 2)) {
		*err = fl_asprintf("invalid llm setting FRONTLINE_LLM_TEMPERATURE=%g (expected 0 to 2)",
				   s->temperature);
		return LLM_ECONFIG;
	}
	if (!s->output_mode || !*s->output_mode || !strcasecmp(s->output_mode, "auto")) {
		mode = (int)prov->default_mode;
	} else {
		mode = llm__mode_parse(s->output_mode);
		if (mode < 0) {
			*err = fl_asprintf("unknown llm output mode '%s' (use auto, tool, json_schema, "
					   "json_object or prompt)", s->output_mode);
			return LLM_ECONFIG;
		}
		if (prov->ops == &llm__anthropic_ops &&
		    (mode == LLM__MODE_JSON_SCHEMA || mode == LLM__MODE_JSON_OBJECT)) {
			*err = fl_asprintf("llm output mode '%s' needs the openai protocol; provider '%s' "
					   "speaks anthropic (use tool or prompt)", s->output_mode, prov->name);
			return LLM_ECONFIG;
		}
	}
	fl_curl_global_init();

	c = fl_calloc(1, sizeof(*c));
	c->provider = prov;
	c->base_url = strip_slashes(has_base ? s->base_url : prov->default_base);
	if (check_url(c->base_url, err))
		goto out;
	c->endpoint = prov->ops->endpoint(c->base_url);
	c->api_key = has_key ? fl_strdup(s->api_key) : NULL;
	c->api_key_source = fl_strdup(has_key ? (s->api_key_source ? s->api_key_source : "settings")
					      : "none");
	/* Claude Code sends ANTHROPIC_AUTH_TOKEN as a bearer token; Z.ai takes either. */
	c->bearer = has_key && (fl_str_eq(s->api_key_source, "ANTHROPIC_AUTH_TOKEN") ||
				!strcmp(prov->name, "z_ai"));
	c->model = fl_strdup(s->model && *s->model ? s->model : prov->default_model);
	if (!c->model) {
		*err = fl_asprintf("no llm model configured for provider '%s': set ANTHROPIC_MODEL or "
				   "CLAUDE_MODEL", prov->name);
		goto out;
	}
	c->mode = (enum llm__mode)mode;
	c->timeout_ms = s->timeout_ms;
	c->connect_timeout_ms = s->connect_timeout_ms < s->timeout_ms ? s->connect_timeout_ms : s->timeout_ms;
	c->max_retries = s->max_retries;
	c->backoff_base_ms = s->backoff_base_ms;
	c->backoff_max_ms = s->backoff_max_ms;
	c->retry_after_max_ms = s->retry_after_max_ms;
	c->max_inflight = s->max_inflight;
	c->max_tokens = s->max_tokens;
	c->temperature = s->temperature;
	c->sleep_us = s->sleep_us;
	c->sleep_arg = s->sleep_arg;
	if (llm__prices_parse(s->prices, &c->prices, &c->nprices, err)) {
		char *inner = *err;

		*err = fl_asprintf("invalid FRONTLINE_LLM_PRICES: %s", inner);
		free(inner);
		goto out;
	}
	price = price_of(c->prices, c->nprices, c->model);
	c->price_in = price ? price->in_per_mtok : -1;
	c->price_out = price ? price->out_per_mtok : -1;
	c->idle = fl_calloc((size_t)c->max_inflight, sizeof(*c->idle));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->slot_free, NULL);
	*out = c;
	c = NULL;
	rc = LLM_OK;
out:
	if (c) {
		/* not yet initialised: the mutex, the pool */
		free(c->base_url);
		free(c->endpoint);
		free(c->api_key);
		free(c->api_key_source);
		free(c->model);
		llm__prices_free(c->prices, c->nprices);
		free(c);
	}
	return rc;
}

int llm_client_from_config(struct llm_client **out, char **err)
{
	struct llm_settings s;

	llm_settings_from_config(&s);
	return llm_client_new(out, &s, err);
}

void llm_client_free(struct llm_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nidle; i++)
		curl_easy_cleanup(c->idle[i]);
	free(c->idle);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->slot_free);
	llm__prices_free(c->prices, c->nprices);
	free(c->base_url);
	free(c->endpoint);
	free(c->api_key);
	free(c->api_key_source);
	free(c->model);
	free(c);
}

json_t *llm_client_describe(const struct llm_client *c)
{
	char *base = fl_mask_url(c->base_url), *endpoint = fl_mask_url(c->endpoint);
	char *key = c->api_key ? fl_mask_secret(c->api_key) : NULL;
	json_t *d;

	d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:f}",
		      "provider", c->provider->name, "protocol", c->provider->ops->name,
		      "base_url", base, "endpoint", endpoint, "model", c->model,
		      "api_key", key ? json_string(key) : json_null(),
		      "api_key_source", c->api_key_source,
		      "output_mode", llm__mode_name(atomic_load(&c->mode_downgraded) ? LLM__MODE_PROMPT
										     : c->mode),
		      "timeout_ms", (json_int_t)c->timeout_ms,
		      "connect_timeout_ms", (json_int_t)c->connect_timeout_ms,
		      "max_retries", c->max_retries, "max_inflight", c->max_inflight,
		      "max_tokens", c->max_tokens, "temperature", c->temperature);
	json_object_set_new(d, "price_in_per_mtok", c->price_in < 0 ? json_null() : json_real(c->price_in));
	json_object_set_new(d, "price_out_per_mtok", c->price_out < 0 ? json_null() : json_real(c->price_out));
	free(base);
	free(endpoint);
	free(key);
	return d;
}

/* ---- accounting ---- */

static const double latency_bounds_s[LLM__LATENCY_BUCKETS] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
};

/* The counters of a task by name (the lock held): found, added, or "other" when the table is full. */
static int task_slot(struct llm__stats *s, const char *task)
{
	int i;

	for (i = 0; i < s->ntasks; i++)
		if (!strcmp(s->tasks[i].name, task))
			return i;
	if (s->ntasks < LLM_STATS_TASKS && strlen(task) < sizeof(s->tasks[0].name)) {
		fl_strlcpy(s->tasks[s->ntasks].name, task, sizeof(s->tasks[0].name));
		return s->ntasks++;
	}
	return LLM_STATS_TASKS;
}

void llm__stats_record(struct llm_client *c, const char *task, int rc,
		       const struct llm__usage *u, int64_t latency_ms, bool repaired, bool repair_ok)
{
	struct llm__stats *s = &c->stats;
	int b;

	pthread_mutex_lock(&c->lock);
	s->calls++;
	if (rc == LLM_OK)
		s->calls_ok++;
	else
		s->calls_failed++;
	if (rc >= 0 && rc < (int)FL_ARRAY_SIZE(s->errors))
		s->errors[rc]++;
	if (task) {
		int t = task_slot(s, task);

		s->tasks[t].calls++;
		if (rc == LLM_OK)
			s->tasks[t].ok++;
		else
			s->tasks[t].failed++;
	}
	s->retries += u->retries;
	s->repairs += repaired;
	s->repairs_ok += repaired && repair_ok;
	s->input_tokens += u->input_tokens;
	s->output_tokens += u->output_tokens;
	s->cost_usd += u->cost_usd;
	s->latency_ms_sum += latency_ms;
	if (latency_ms > s->latency_ms_max)
		s->latency_ms_max = latency_ms;
	for (b = 0; b < LLM__LATENCY_BUCKETS && (double)latency_ms / 1000.0 > latency_bounds_s[b]; b++)
		;
	s->latency_buckets[b]++;
	pthread_mutex_unlock(&c->lock);
}

json_t *llm_client_stats(struct llm_client *c)
{
	struct llm__stats s;
	json_t *out, *errors = json_object(), *tasks = json_object(), *le = json_array(), *counts = json_array();
	int64_t cumulative = 0;
	int inflight, i;

	pthread_mutex_lock(&c->lock);
	s = c->stats;
	inflight = c->inflight;
	pthread_mutex_unlock(&c->lock);
	for (i = 1; i < (int)FL_ARRAY_SIZE(s.errors); i++)
		if (s.errors[i])
			json_object_set_new(errors, llm_errname(i), json_integer(s.errors[i]));
	/* the named tasks in the order first called, then the ones past the table */
	for (i = 0; i <= LLM_STATS_TASKS; i++) {
		if ((i < LLM_STATS_TASKS && i >= s.ntasks) || !s.tasks[i].calls)
			continue;
		json_object_set_new(tasks, i < LLM_STATS_TASKS ? s.tasks[i].name : "other",
				    json_pack("{s:I, s:I, s:I}", "calls", (json_int_t)s.tasks[i].calls,
					      "ok", (json_int_t)s.tasks[i].ok,
					      "failed", (json_int_t)s.tasks[i].failed));
	}
	for (i = 0; i <= LLM__LATENCY_BUCKETS; i++) {
		cumulative += s.latency_buckets[i];
		json_array_append_new(le, i < LLM__LATENCY_BUCKETS ? json_real(latency_bounds_s[i])
								   : json_string("+Inf"));
		json_array_append_new(counts, json_integer(cumulative));
	}
	out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I,"
			" s:i, s:i, s:i, s:o, s:o, s:{s:o, s:o}}",
			"provider", c->provider->name, "model", c->model,
			"calls", (json_int_t)s.calls, "calls_ok", (json_int_t)s.calls_ok,
			"calls_failed", (json_int_t)s.calls_failed, "requests", (json_int_t)s.requests,
			"retries", (json_int_t)s.retries, "repairs", (json_int_t)s.repairs,
			"repairs_ok", (json_int_t)s.repairs_ok,
			"input_tokens", (json_int_t)s.input_tokens,
			"output_tokens", (json_int_t)s.output_tokens, "cost_usd", s.cost_usd,
			"latency_ms_sum", (json_int_t)s.latency_ms_sum,
			"latency_ms_max", (json_int_t)s.latency_ms_max,
			"inflight", inflight, "inflight_max", s.inflight_max,
			"max_inflight", c->max_inflight, "errors", errors, "tasks", tasks,
			"latency_buckets", "le_seconds", le, "counts", counts);
	return out;
}
