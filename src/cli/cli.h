/*
 * The frontline command line: one file per subcommand (git's builtin/), a
 * table of commands in main.c, and one option parser shared by all of them.
 *
 * Each command is int cmd_<name>(int argc, char **argv, struct cli_ctx *ctx):
 * argv[0] is the command's own name, options follow. It returns an exit code
 * from <sysexits.h> (EX_OK, EX_USAGE, EX_DATAERR, ...).
 */
#ifndef FL_CLI_H
#define FL_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sysexits.h>

#include "support/support.h"

struct cli_ctx {
	const char *progname;     /* "frontline" */
	const char *config_path;  /* --config, or NULL */
	struct cli_command const *command;
};

/* ---- commands ---- */

struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_ctx *ctx);
	const char *help;         /* one line for --help */
};

/* Looks up argv[0] in table (ended by a {NULL} entry) and runs it; prints
 * usage and returns EX_USAGE for a missing or unknown name. */
int cli_dispatch(int argc, char **argv, const struct cli_command *table,
		 const char *const *usage, struct cli_ctx *ctx);
/* Prints usage lines and the table's commands with their help. */
void cli_print_commands(FILE *out, const char *const *usage, const struct cli_command *table);

/* ---- options ---- */

enum cli_opt_type {
	CLI_OPT_END,
	CLI_OPT_BOOL,    /* bool *value = true */
	CLI_OPT_STRING,  /* const char **value = optarg */
	CLI_OPT_INT,     /* long *value, checked */
	CLI_OPT_DOUBLE,  /* double *value, checked */
};

struct cli_option {
	enum cli_opt_type type;
	int short_name;          /* 0: none */
	const char *long_name;
	void *value;
	const char *argh;        /* argument name for help, e.g. "FILE" */
	const char *help;
};

#define CLI_OPTIONS_END { CLI_OPT_END, 0, NULL, NULL, NULL, NULL }

/* Return values of cli_parse besides EX_USAGE. */
#define CLI_PARSED 0
#define CLI_HELP_SHOWN (-1)

/*
 * Parses options (GNU style: options and operands may mix; "--" ends
 * options). On success returns CLI_PARSED and *argi is the index of the first
 * operand, operands being argv[*argi .. argc). -h/--help prints usage to
 * stdout and returns CLI_HELP_SHOWN; a bad option prints an error and usage
 * to stderr and returns EX_USAGE.
 */
int cli_parse(int argc, char **argv, const struct cli_option *opts,
	      const char *const *usage, int *argi);
/* Like cli_parse, but stops at the first operand (options before a subcommand). */
int cli_parse_global(int argc, char **argv, const struct cli_option *opts,
		     const char *const *usage, int *argi);
/* The exit code for a cli_parse result other than CLI_PARSED. */
int cli_parse_status(int rc);
/* Usage lines then the option table, to out. */
void cli_usage(FILE *out, const char *const *usage, const struct cli_option *opts);
/* "error: ..." and usage on stderr; returns EX_USAGE. */
int cli_usage_error(const char *const *usage, const struct cli_option *opts, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "frontline: <msg>" on stderr; returns code. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * Help as roff, for the manual pages: when FRONTLINE_HELP_FORMAT=roff is in
 * the environment, cli_usage and cli_print_commands print their text as roff
 * blocks after marker comments (".\" usage", ".\" options", ".\" commands",
 * ".\" command NAME") instead of plain text. Only `frontline help --man`
 * sets it, for the child processes whose --help it reads (man.c).
 */
bool cli_help_is_roff(void);
/* s as roff text: backslashes escaped, a leading '.' or '\'' guarded, '-' as
 * "\-" when dashes is true (options and command lines). */
void cli_roff_text(FILE *out, const char *s, bool dashes);

/* ---- setup shared by the commands that triage tickets (setup.c) ---- */

struct cli_triage {
	struct store *store;
	struct support_analyzer *analyzer;
	struct kb *kb;
	struct llm_client *llm;   /* the process's LLM client; NULL: none configured */
	struct flow_node *workflow;
	const char *start;
	size_t kb_articles;
	struct support_ctx ctx;
	/* the workflow per channel (FRONTLINE_WORKFLOW_<CHANNEL>), checked at open; ctx.routing is the caller's choice */
	struct support_routing *routing;
};

/*
 * Opens what a triage command needs: the store (when with_store), the
 * analyzer's models, the KB index (from the store's articles, importing the
 * bundled ones into an empty store) and the named workflow. Prints the error
 * and returns an exit code other than EX_OK on failure.
 */
int cli_triage_open(struct cli_triage *t, const char *workflow, bool with_store);
/* The same without the analyzer's models (t->analyzer NULL): for a process that triages nothing. */
int cli_triage_open_no_analyzer(struct cli_triage *t, const char *workflow, bool with_store);
void cli_triage_close(struct cli_triage *t);
/* Parses a JSON file ("-": stdin); EX_DATAERR with line and column on bad JSON. */
int cli_read_json(const char *path, json_t **out);

/* ---- user text on a terminal (escape.c) ---- */

/*
 * s (NULL: "") with its control characters made visible, for printing to a
 * terminal: newline, carriage return and tab as "\n", "\r", "\t" (newline
 * and tab kept as they are when keep_lines), other C0 bytes, DEL and bytes
 * that are not UTF-8 as "\xNN", C1 controls (U+0080..U+009F) as "\u00NN".
 * Caller frees.
 */
char *cli_escape(const char *s, bool keep_lines);
/*
 * A deep copy of v with every string (object keys too) passed through
 * cli_escape; strings under the keys listed in keep_lines (NULL-terminated;
 * may be NULL) keep their lines. NULL gives NULL. New reference.
 */
json_t *cli_escape_json(const json_t *v, const char *const *keep_lines);

/* ---- printing results (report.c) ---- */

/* The readable account of a processed ticket: analyses, response, escalation, trace. */
void cli_print_outcome(FILE *out, const struct support_outcome *o);
/* The machine form: {"ticket", "created", "already_processed", "analysis", "trace"}. */
json_t *cli_outcome_json(const struct support_outcome *o);
/* Prints v as indented JSON and a newline. */
void cli_print_json(FILE *out, const json_t *v);

/* ---- the commands ---- */

int cmd_version(int argc, char **argv, struct cli_ctx *ctx);
int cmd_mail_in(int argc, char **argv, struct cli_ctx *ctx);
int cmd_mail_poll(int argc, char **argv, struct cli_ctx *ctx);
int cmd_workflow(int argc, char **argv, struct cli_ctx *ctx);
int cmd_migrate(int argc, char **argv, struct cli_ctx *ctx);

int cmd_llm(int argc, char **argv, struct cli_ctx *ctx);
int cmd_train(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval(int argc, char **argv, struct cli_ctx *ctx);

/* ---- the store, for commands that need it (migrate.c) ---- */

struct store;
/* The sysexits code for a store error (STORE_ECONNECT -> EX_UNAVAILABLE, ...). */
int cli_store_exit(int store_rc);
/*
 * Opens FRONTLINE_DATABASE_URL (migrating when migrate is true). Returns
 * EX_OK with *out set, or prints the error (URL masked) and returns its
 * exit code.
 */
int cli_store_open(bool migrate, struct store **out);

/* ---- the knowledge base (kb.c, eval_kb.c) ---- */

int cmd_kb(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval__kb(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval__grounding(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval__autoreply(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval__language(int argc, char **argv, struct cli_ctx *ctx);
int cmd_eval__spam(int argc, char **argv, struct cli_ctx *ctx);
int cmd_process(int argc, char **argv, struct cli_ctx *ctx);
int cmd_batch(int argc, char **argv, struct cli_ctx *ctx);
int cmd_demo(int argc, char **argv, struct cli_ctx *ctx);

/* the service (serve.c, token.c) */
/*
 * serve --demo (demo.c): upserts the seed's customers, queues the demo
 * tickets for triage (idempotent), revokes the previous demo tokens and
 * writes a new admin token to token. Prints the error and returns an exit
 * code on failure.
 */
int cli_demo_load(struct store *st, char *token, size_t token_len);
int cmd_serve(int argc, char **argv, struct cli_ctx *ctx);
int cmd_worker(int argc, char **argv, struct cli_ctx *ctx);
int cmd_token(int argc, char **argv, struct cli_ctx *ctx);
int cmd_user(int argc, char **argv, struct cli_ctx *ctx);
int cmd_customer(int argc, char **argv, struct cli_ctx *ctx);
int cmd_feedback(int argc, char **argv, struct cli_ctx *ctx);

int cmd_probe(int argc, char **argv, struct cli_ctx *ctx);

/* ---- generated documentation (man.c) ---- */

/*
 * frontline help [COMMAND] | help --man [COMMAND] | help --conf [KEY=VALUE...]:
 * the help of frontline or of one command; with --man, its manual page in
 * roff, made from the same usage lines and option tables that --help prints
 * (each command's --help is run with FRONTLINE_HELP_FORMAT=roff); with
 * --conf, a configuration file listing every key, commented, with its meaning
 * and default, and the KEY=VALUE operands as active lines. The build writes
 * the manual pages and etc/frontline/frontline.conf with these.
 */
int cmd_help(int argc, char **argv, struct cli_ctx *ctx);

/* `frontline help`: the usage, the global options' line and the commands (main.c). */
int cli_main_help(void);

/* The top-level table, for help. */
const struct cli_command *cli_commands(void);
extern const char *const cli_main_usage[];

#endif
