/*
 * frontline token create|list|revoke: API tokens for the HTTP API. A new
 * token is printed once, on stdout (the store keeps only its SHA-256); list
 * shows names, roles and use, never secrets. Names are printed escaped
 * (cli_escape): they may come from the API, and a terminal obeys control
 * characters.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server/server.h"
#include "store/store.h"
#include "util/util.h"

static const char *const token_usage[] = {
	"frontline token create --role admin|agent|integration [--name NAME] [--json]",
	"frontline token list [--json]",
	"frontline token revoke ID",
	NULL,
};

static int token_create(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *role = NULL, *name = NULL;
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'r', "role", &role, "ROLE", "admin, agent or integration" },
		{ CLI_OPT_STRING, 'n', "name", &name, "NAME", "who or what uses it (default: the role)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print {id, name, role, token} as JSON" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *row = NULL;
	char token[64], hash[65];
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, token_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(token_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!role || server_role_parse(role) < 0)
		return cli_usage_error(token_usage, opts, "--role must be admin, agent or integration");
	if (!name)
		name = role;
	if (!*name || strlen(name) > 63)
		return cli_usage_error(token_usage, opts, "--name must be 1 to 63 characters");
	rc = cli_store_open(true, &st);
	if (rc != EX_OK)
		return rc;
	server_token_generate(token, hash);
	rc = store_token_insert(st, name, role, hash, &row);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot store the token: %s", store_errmsg(st));
		goto out;
	}
	if (json) {
		json_object_set_new(row, "token", json_string(token));
		cli_print_json(stdout, row);
	} else {
		char *shown = cli_escape(name, false);

		printf("%s\n", token);
		fprintf(stderr, "token %lld for '%s' (%s) created; it is shown only this once\n",
			(long long)fl_json_int(row, "id", 0), shown, role);
		free(shown);
	}
	rc = EX_OK;
out:
	json_decref(row);
	store_close(st);
	return rc;
}

static int token_list(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print a JSON array" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *list = NULL, *t;
	size_t i;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, token_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(token_usage, opts, "unexpected argument '%s'", argv[argi]);
	rc = cli_store_open(true, &st);
	if (rc != EX_OK)
		return rc;
	rc = store_token_list(st, &list);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot list tokens: %s", store_errmsg(st));
		goto out;
	}
	if (json) {
		cli_print_json(stdout, list);
	} else {
		json_t *shown = cli_escape_json(list, NULL);

		json_array_foreach(shown, i, t)
			printf("%-5lld %-12s %-24s created %s  last used %s%s\n", (long long)fl_json_int(t, "id", 0),
			       fl_json_str(t, "role", ""), fl_json_str(t, "name", ""),
			       fl_json_str(t, "created_at", "-"), fl_json_str(t, "last_used_at", "never"),
			       fl_json_bool(t, "revoked", false) ? "  (revoked)" : "");
		json_decref(shown);
	}
	rc = EX_OK;
out:
	json_decref(list);
	store_close(st);
	return rc;
}

static int token_revoke(int argc, char **argv, struct cli_ctx *ctx)
{
	const struct cli_option opts[] = { CLI_OPTIONS_END };
	struct store *st = NULL;
	int64_t id;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, token_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argc - argi != 1 || fl_parse_int64(argv[argi], 1, INT64_MAX, &id))
		return cli_usage_error(token_usage, opts, "give the token's numeric ID (see 'frontline token list')");
	rc = cli_store_open(true, &st);
	if (rc != EX_OK)
		return rc;
	rc = store_token_revoke(st, id);
	if (rc == STORE_ENOTFOUND)
		rc = cli_error(EX_DATAERR, "no token with id %lld", (long long)id);
	else if (rc != STORE_OK)
		rc = cli_error(cli_store_exit(rc), "cannot revoke: %s", store_errmsg(st));
	else
		fprintf(stderr, "token %lld revoked (running servers forget it within 10 s)\n", (long long)id);
	store_close(st);
	return rc == STORE_OK ? EX_OK : rc;
}

static const struct cli_command token_commands[] = {
	{ "create", token_create, "create a token (printed once)" },
	{ "list", token_list, "list tokens (never their secrets)" },
	{ "revoke", token_revoke, "revoke a token by id" },
	{ NULL, NULL, NULL },
};

int cmd_token(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(argc - 1, argv + 1, token_commands, token_usage, ctx);
}
