/*
 * frontline llm check: prints the effective LLM configuration (the key
 * masked), sends one tiny request and reports its latency and the model that
 * answered, or the precise error. The exit code says what kind of problem it
 * is (sysexits.h): EX_CONFIG when nothing or something wrong is configured
 * (or the model/endpoint does not exist), EX_NOPERM for a rejected key,
 * EX_UNAVAILABLE when the endpoint cannot be reached or fails, EX_TEMPFAIL
 * when rate-limited, EX_PROTOCOL for replies that make no sense.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llm/llm.h"
#include "util/util.h"

static const char *const llm_usage[] = {
	"frontline llm check [--json] [--retries N] [--timeout SECONDS]",
	NULL,
};

static int exit_code(int rc)
{
	switch (rc) {
	case LLM_OK:
		return EX_OK;
	case LLM_ENOTCONFIGURED:
	case LLM_ECONFIG:
	case LLM_ENOTFOUND:
		return EX_CONFIG;
	case LLM_EAUTH:
	case LLM_EPERM:
		return EX_NOPERM;
	case LLM_ECONNECT:
	case LLM_ETIMEDOUT:
	case LLM_ENETWORK:
	case LLM_ESERVER:
	case LLM_EOVERLOADED:
		return EX_UNAVAILABLE;
	case LLM_ERATELIMIT:
		return EX_TEMPFAIL;
	case LLM_EPROTOCOL:
	case LLM_EHTTP:
	case LLM_EBADREQUEST:
	case LLM_ENOJSON:
	case LLM_EINVALID:
		return EX_PROTOCOL;
	}
	return EX_SOFTWARE;
}

static void print_config(const json_t *d)
{
	const json_t *pin = json_object_get(d, "price_in_per_mtok");

	printf("provider     %s (%s protocol)\n", fl_json_str(d, "provider", "?"), fl_json_str(d, "protocol", "?"));
	printf("endpoint     %s\n", fl_json_str(d, "endpoint", "?"));
	printf("model        %s\n", fl_json_str(d, "model", "?"));
	if (json_is_string(json_object_get(d, "api_key")))
		printf("api key      %s from %s\n", fl_json_str(d, "api_key", ""),
		       fl_json_str(d, "api_key_source", "?"));
	else
		printf("api key      (none)\n");
	printf("output       %s\n", fl_json_str(d, "output_mode", "?"));
	printf("limits       timeout %.1f s, connect %.1f s, %lld retries, %lld in flight, %lld tokens\n",
	       (double)fl_json_int(d, "timeout_ms", 0) / 1000.0,
	       (double)fl_json_int(d, "connect_timeout_ms", 0) / 1000.0,
	       (long long)fl_json_int(d, "max_retries", 0), (long long)fl_json_int(d, "max_inflight", 0),
	       (long long)fl_json_int(d, "max_tokens", 0));
	if (json_is_number(pin))
		printf("prices       $%g in, $%g out per million tokens\n", json_number_value(pin),
		       fl_json_num(d, "price_out_per_mtok", 0));
	else
		printf("prices       (model not in FRONTLINE_LLM_PRICES: cost counted as 0)\n");
}

static int llm_check(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	long retries = -1;
	double timeout = -1;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the configuration and the result as JSON" },
		{ CLI_OPT_INT, 0, "retries", &retries, "N", "retries for this check (default FRONTLINE_LLM_MAX_RETRIES)" },
		{ CLI_OPT_DOUBLE, 0, "timeout", &timeout, "SECONDS", "request timeout (default FRONTLINE_LLM_TIMEOUT)" },
		CLI_OPTIONS_END,
	};
	struct llm_settings s;
	struct llm_client *c = NULL;
	json_t *config = NULL, *info = NULL, *out = NULL;
	char *err = NULL;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, llm_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(llm_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (retries > 10)
		return cli_usage_error(llm_usage, opts, "--retries must be 0 to 10");
	llm_settings_from_config(&s);
	if (retries >= 0)
		s.max_retries = (int)retries;
	if (timeout > 0)
		s.timeout_ms = (int64_t)(timeout * 1000);
	rc = llm_client_new(&c, &s, &err);
	if (rc == LLM_ENOTCONFIGURED) {
		rc = cli_error(EX_CONFIG, "llm not configured: set API_KEY (or ANTHROPIC_API_KEY, "
			       "ANTHROPIC_AUTH_TOKEN) and/or ANTHROPIC_BASE_URL, or CLAUDE_PROVIDER=ollama; "
			       "until then Frontline uses its built-in analyzer");
		goto out;
	}
	if (rc != LLM_OK) {
		rc = cli_error(EX_CONFIG, "%s", err);
		goto out;
	}
	config = llm_client_describe(c);
	if (!json) {
		print_config(config);
		fflush(stdout);
	}
	rc = llm_ping(c, &info, &err);
	if (json) {
		out = json_pack("{s:O, s:b}", "config", config, "ok", rc == LLM_OK);
		if (rc == LLM_OK)
			json_object_set(out, "check", info);
		else
			json_object_set_new(out, "check", json_pack("{s:s, s:s}", "error", llm_errname(rc),
								    "message", err));
		{
			char *s_out = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

			puts(s_out);
			free(s_out);
		}
	} else if (rc == LLM_OK) {
		printf("check        ok: %lld ms, model %s, %lld tokens in, %lld out%s\n",
		       (long long)fl_json_int(info, "latency_ms", 0), fl_json_str(info, "model", "(not reported)"),
		       (long long)fl_json_int(info, "input_tokens", 0),
		       (long long)fl_json_int(info, "output_tokens", 0),
		       fl_json_int(info, "retries", 0) ? " (after retries)" : "");
	} else {
		printf("check        failed: %s\n", llm_strerror(rc));
	}
	if (rc != LLM_OK)
		rc = cli_error(exit_code(rc), "llm check failed: %s", err);
	else
		rc = EX_OK;
out:
	json_decref(config);
	json_decref(info);
	json_decref(out);
	free(err);
	llm_client_free(c);
	return rc;
}

int cmd_llm(int argc, char **argv, struct cli_ctx *ctx)
{
	static const struct cli_command sub[] = {
		{ "check", llm_check, "show the LLM configuration and send one tiny request" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(argc - 1, argv + 1, sub, llm_usage, ctx);
}
