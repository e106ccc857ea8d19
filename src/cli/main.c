/*
 * frontline: the entry point. Parses the global options (configuration file,
 * database URL, log level), loads the process-wide configuration, and hands
 * the rest of the command line to the subcommand named by the table below.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/util.h"

static const struct cli_command commands[] = {
	{ "train", cmd_train, "train a classifier (category, sentiment, emotion) on JSON lines" },
	{ "eval", cmd_eval, "score a model on labelled JSON lines" },
	{ "kb", cmd_kb, "import articles into the knowledge base, or search it" },
	{ "process", cmd_process, "triage one ticket (JSON file or -) and store the result" },
	{ "batch", cmd_batch, "triage a JSON-lines file of tickets on several workers" },
	{ "demo", cmd_demo, "run the seed's five demos on the embedded default" },
	{ "serve", cmd_serve, "run the service: HTTP API, workers, notifications, monitoring" },
	{ "worker", cmd_worker, "run workers and notification delivery only (no HTTP)" },
	{ "token", cmd_token, "create, list or revoke API tokens" },
	{ "user", cmd_user, "add, list, disable people who sign in to the console, or set their passwords" },
	{ "customer", cmd_customer, "export or erase everything stored about a customer (privacy)" },
	{ "feedback", cmd_feedback, "export agents' corrections as training rows" },
	{ "workflow", cmd_workflow, "list the workflows or draw one as DOT, Mermaid or text" },
	{ "llm", cmd_llm, "check the LLM configuration with one tiny request" },
	{ "migrate", cmd_migrate, "apply pending database migrations (or --status)" },
	{ "mail-in", cmd_mail_in, "store one email message from standard input (for the mail server)" },
	{ "mail-poll", cmd_mail_poll, "fetch new email from the IMAP mailbox (FRONTLINE_IMAP_URL)" },
	{ "probe", cmd_probe, "check a running service's /readyz or /healthz (exit 0 or 69)" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "show this help" },
	{ NULL, NULL, NULL },
};

const char *const cli_main_usage[] = {
	"frontline [--config FILE] [--database URL] [--log-level LEVEL] COMMAND [ARGS]",
	"frontline --version",
	NULL,
};

/*
 * The configuration file when none is named (--config, FRONTLINE_CONFIG):
 * ./frontline.conf when present; else, for an installed binary, the one the
 * package installs (<sysconfdir>/frontline/frontline.conf) when it is
 * readable. NULL: none.
 */
static const char *default_config(void)
{
	if (!access("frontline.conf", F_OK))
		return "frontline.conf";
#ifdef FL_SYSCONFDIR
	if (!fl_running_from_build() && !access(FL_SYSCONFDIR "/frontline.conf", R_OK))
		return FL_SYSCONFDIR "/frontline.conf";
#endif
	return NULL;
}

const struct cli_command *cli_commands(void)
{
	return commands;
}

int cmd_version(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("frontline %s\n", FL_VERSION);
	return EX_OK;
}

/* The commands, after the usage lines unless they were just shown. */
static int print_help(bool with_usage)
{
	cli_print_commands(stdout, with_usage ? cli_main_usage : NULL, commands);
	if (!cli_help_is_roff())
		fputs("\nRun 'frontline COMMAND --help' for a command's options.\n", stdout);
	return EX_OK;
}

int cli_main_help(void)
{
	return print_help(true);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *database = NULL, *log_level = NULL;
	bool version = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'c', "config", &config, "FILE", "configuration file of KEY=value lines" },
		{ CLI_OPT_STRING, 'd', "database", &database, "URL", "store URL (FRONTLINE_DATABASE_URL)" },
		{ CLI_OPT_STRING, 0, "log-level", &log_level, "LEVEL", "debug, info, warning or error (SUPPORT_LOG_LEVEL)" },
		{ CLI_OPT_BOOL, 'V', "version", &version, NULL, "print the version and exit" },
		CLI_OPTIONS_END,
	};
	struct cli_ctx ctx = { "frontline", NULL, NULL };
	char *err = NULL;
	int argi, rc, level;

	rc = cli_parse_global(argc, argv, opts, cli_main_usage, &argi);
	if (rc != CLI_PARSED) {
		if (rc == CLI_HELP_SHOWN) /* the usage and options are shown: the commands follow */
			return print_help(false);
		return rc;
	}
	if (version)
		return cmd_version(0, NULL, &ctx);
	if (!config && getenv("FRONTLINE_CONFIG"))
		config = getenv("FRONTLINE_CONFIG");
	if (fl_config_load(config ? config : default_config(), config != NULL, &err)) {
		rc = cli_error(EX_CONFIG, "%s", err);
		free(err);
		return rc;
	}
	if (database)
		fl_config_set("FRONTLINE_DATABASE_URL", database);
	if (log_level)
		fl_config_set("SUPPORT_LOG_LEVEL", log_level);
	level = fl_log_level_parse(fl_config_get("SUPPORT_LOG_LEVEL"));
	if (level < 0) {
		rc = cli_error(EX_CONFIG, "invalid log level '%s' (use debug, info, warning or error)",
			       fl_config_get("SUPPORT_LOG_LEVEL"));
		fl_config_free();
		return rc;
	}
	fl_log_setup((enum fl_log_level)level, NULL, NULL);
	ctx.config_path = config;
	rc = cli_dispatch(argc - argi, argv + argi, commands, cli_main_usage, &ctx);
	fl_config_free();
	return rc;
}
