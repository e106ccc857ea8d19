/*
 * frontline customer export|erase: privacy at the command line
 * (docs/OPERATIONS.md, "Privacy"), as the admin API does it. export prints
 * everything stored about a customer as JSON on stdout; erase removes their
 * personal data, recorded in the audit log as done by "cli:<login name>",
 * and prints what it erased (JSON with --json).
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store/store.h"
#include "util/util.h"

static const char *const customer_usage[] = {
	"frontline customer export ID",
	"frontline customer erase ID [--json]",
	NULL,
};

/* Parses "verb ID" with opts; opens the store (*st stays NULL after --help, which returns EX_OK). */
static int open_for(int argc, char **argv, const struct cli_option *opts, const char **id, struct store **st)
{
	int argi, rc = cli_parse(argc, argv, opts, customer_usage, &argi);

	*st = NULL;
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argc - argi != 1 || !*argv[argi])
		return cli_usage_error(customer_usage, opts, "give one customer id");
	*id = argv[argi];
	return cli_store_open(true, st);
}

static int customer_export(int argc, char **argv, struct cli_ctx *ctx)
{
	const struct cli_option opts[] = { CLI_OPTIONS_END };
	struct store *st = NULL;
	const char *id = NULL;
	json_t *out = NULL;
	int rc;

	(void)ctx;
	rc = open_for(argc, argv, opts, &id, &st);
	if (rc != EX_OK || !st)   /* --help: EX_OK without a store */
		return rc;
	rc = store_customer_export(st, id, &out);
	if (rc == STORE_ENOTFOUND)
		rc = cli_error(EX_DATAERR, "%s", store_errmsg(st));
	else if (rc != STORE_OK)
		rc = cli_error(cli_store_exit(rc), "cannot export: %s", store_errmsg(st));
	else
		cli_print_json(stdout, out);
	json_decref(out);
	store_close(st);
	return rc == STORE_OK ? EX_OK : rc;
}

static int customer_erase(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print what was erased as JSON" },
		CLI_OPTIONS_END,
	};
	const struct passwd *pw = getpwuid(getuid());
	struct store *st = NULL;
	const char *id = NULL;
	json_t *out = NULL;
	char *actor;
	int rc;

	(void)ctx;
	rc = open_for(argc, argv, opts, &id, &st);
	if (rc != EX_OK || !st)   /* --help: EX_OK without a store */
		return rc;
	actor = fl_asprintf("cli:%s", pw && pw->pw_name ? pw->pw_name : "unknown");
	rc = store_customer_erase(st, id, actor, &out);
	if (rc == STORE_ENOTFOUND) {
		rc = cli_error(EX_DATAERR, "%s", store_errmsg(st));
	} else if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot erase: %s", store_errmsg(st));
	} else if (json) {
		cli_print_json(stdout, out);
	} else {
		char *shown = cli_escape(id, false);

		fprintf(stderr, "customer '%s' erased (now %s): %lld tickets, %lld messages, %lld raw emails, "
			"%lld blobs\n", shown, fl_json_str(out, "customer", ""),
			(long long)fl_json_int(out, "tickets", 0), (long long)fl_json_int(out, "messages", 0),
			(long long)fl_json_int(out, "raw_emails", 0), (long long)fl_json_int(out, "blobs", 0));
		free(shown);
	}
	free(actor);
	json_decref(out);
	store_close(st);
	return rc == STORE_OK ? EX_OK : rc;
}

static const struct cli_command customer_commands[] = {
	{ "export", customer_export, "print everything stored about a customer as JSON" },
	{ "erase", customer_erase, "erase a customer's personal data (audited)" },
	{ NULL, NULL, NULL },
};

int cmd_customer(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(argc - 1, argv + 1, customer_commands, customer_usage, ctx);
}
