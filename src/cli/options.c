/*
 * The one option parser every subcommand uses: a table of cli_option turned
 * into getopt_long's arrays, with typed and checked values, and the usage
 * text generated from the same table.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util/util.h"

void cli_roff_text(FILE *out, const char *s, bool dashes)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-' && dashes)
			fputs("\\-", out);
		else if (*s == '\n') {
			fputc('\n', out);
			if (s[1] == '.' || s[1] == '\'')
				fputs("\\&", out);
		} else
			fputc(*s, out);
	}
}

bool cli_help_is_roff(void)
{
	const char *f = getenv("FRONTLINE_HELP_FORMAT");

	return f && !strcmp(f, "roff");
}

/* The usage lines and the option table as roff (man.c assembles the page):
 * a block after each marker comment. */
static void usage_roff(FILE *out, const char *const *usage, const struct cli_option *opts)
{
	size_t i;

	fputs(".\\\" usage\n.nf\n", out);
	for (i = 0; usage && usage[i]; i++) {
		cli_roff_text(out, usage[i], true);
		fputc('\n', out);
	}
	fputs(".fi\n", out);
	if (!opts)
		return;
	fputs(".\\\" options\n", out);
	for (i = 0; opts[i].type != CLI_OPT_END; i++) {
		fputs(".TP\n", out);
		if (opts[i].short_name)
			fprintf(out, "\\fB\\-%c\\fR, ", opts[i].short_name);
		fputs("\\fB\\-\\-", out);
		cli_roff_text(out, opts[i].long_name, true);
		fputs("\\fR", out);
		if (opts[i].type != CLI_OPT_BOOL) {
			fputs(" \\fI", out);
			cli_roff_text(out, opts[i].argh ? opts[i].argh : "VALUE", false);
			fputs("\\fR", out);
		}
		fputc('\n', out);
		cli_roff_text(out, opts[i].help ? opts[i].help : "", false);
		fputc('\n', out);
	}
	fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow this help\n", out);
}

void cli_usage(FILE *out, const char *const *usage, const struct cli_option *opts)
{
	size_t i;

	if (cli_help_is_roff()) {
		usage_roff(out, usage, opts && opts[0].type != CLI_OPT_END ? opts : NULL);
		return;
	}
	for (i = 0; usage && usage[i]; i++)
		fprintf(out, "%s%s\n", i ? "   or: " : "usage: ", usage[i]);
	if (!opts || opts[0].type == CLI_OPT_END)
		return;
	fputc('\n', out);
	for (i = 0; opts[i].type != CLI_OPT_END; i++) {
		struct fl_buf b = FL_BUF_INIT;

		if (opts[i].short_name)
			fl_buf_addf(&b, "-%c, ", opts[i].short_name);
		else
			fl_buf_adds(&b, "    ");
		fl_buf_addf(&b, "--%s", opts[i].long_name);
		if (opts[i].type != CLI_OPT_BOOL)
			fl_buf_addf(&b, " %s", opts[i].argh ? opts[i].argh : "VALUE");
		fprintf(out, "    %-28s %s\n", b.buf, opts[i].help ? opts[i].help : "");
		fl_buf_release(&b);
	}
	fprintf(out, "    %-28s %s\n", "-h, --help", "show this help");
}

int cli_usage_error(const char *const *usage, const struct cli_option *opts, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	cli_usage(stderr, usage, opts);
	return EX_USAGE;
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("frontline: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int parse(int argc, char **argv, const struct cli_option *opts,
		 const char *const *usage, int *argi, bool stop_at_operand)
{
	struct option *lopts;
	struct fl_buf shorts = FL_BUF_INIT;
	size_t n = 0, i;
	int rc = EX_USAGE, c, idx;

	while (opts && opts[n].type != CLI_OPT_END)
		n++;
	lopts = fl_calloc(n + 2, sizeof(*lopts));
	/* '+' stops at the first operand (a subcommand's name); ':' reports a
	 * missing value as ':' rather than '?' */
	fl_buf_adds(&shorts, stop_at_operand ? "+:h" : ":h");
	for (i = 0; i < n; i++) {
		lopts[i].name = opts[i].long_name;
		lopts[i].has_arg = opts[i].type == CLI_OPT_BOOL ? no_argument : required_argument;
		lopts[i].val = 256 + (int)i;
		if (opts[i].short_name) {
			fl_buf_addch(&shorts, opts[i].short_name);
			if (opts[i].type != CLI_OPT_BOOL)
				fl_buf_addch(&shorts, ':');
		}
	}
	lopts[n].name = "help";
	lopts[n].val = 'h';

	optind = 0;   /* glibc: 0 re-initialises, so each command parses afresh */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts.buf, lopts, &idx)) != -1) {
		const struct cli_option *o = NULL;

		if (c == 'h') {
			cli_usage(stdout, usage, opts);
			rc = CLI_HELP_SHOWN;
			goto out;
		}
		if (c == '?') {
			if (optopt)
				cli_usage_error(usage, opts, "unknown option '-%c'", optopt);
			else
				cli_usage_error(usage, opts, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
		if (c == ':') {
			cli_usage_error(usage, opts, "option '%s' needs a value", argv[optind - 1]);
			goto out;
		}
		if (c >= 256) {
			o = &opts[c - 256];
		} else {
			for (i = 0; i < n; i++)
				if (opts[i].short_name == c)
					o = &opts[i];
		}
		if (!o)
			goto out;
		switch (o->type) {
		case CLI_OPT_BOOL:
			*(bool *)o->value = true;
			break;
		case CLI_OPT_STRING:
			*(const char **)o->value = optarg;
			break;
		case CLI_OPT_INT: {
			int64_t v;

			if (fl_parse_int64(optarg, LONG_MIN, LONG_MAX, &v)) {
				cli_usage_error(usage, opts, "option '--%s' expects an integer, not '%s'",
						o->long_name, optarg);
				goto out;
			}
			*(long *)o->value = (long)v;
			break;
		}
		case CLI_OPT_DOUBLE:
			if (fl_parse_double(optarg, (double *)o->value)) {
				cli_usage_error(usage, opts, "option '--%s' expects a number, not '%s'",
						o->long_name, optarg);
				goto out;
			}
			break;
		case CLI_OPT_END:
			break;
		}
	}
	*argi = optind;
	rc = CLI_PARSED;
out:
	free(lopts);
	fl_buf_release(&shorts);
	return rc;
}

int cli_parse(int argc, char **argv, const struct cli_option *opts,
	      const char *const *usage, int *argi)
{
	return parse(argc, argv, opts, usage, argi, false);
}

int cli_parse_global(int argc, char **argv, const struct cli_option *opts,
		     const char *const *usage, int *argi)
{
	return parse(argc, argv, opts, usage, argi, true);
}

int cli_parse_status(int rc)
{
	return rc == CLI_HELP_SHOWN ? EX_OK : rc;
}

void cli_print_commands(FILE *out, const char *const *usage, const struct cli_command *table)
{
	size_t i;

	cli_usage(out, usage, NULL);
	if (cli_help_is_roff()) {
		fputs(".\\\" commands\n", out);
		for (i = 0; table[i].name; i++) {
			fprintf(out, ".\\\" command %s\n.TP\n\\fB", table[i].name);
			cli_roff_text(out, table[i].name, true);
			fputs("\\fR\n", out);
			cli_roff_text(out, table[i].help, false);
			fputc('\n', out);
		}
		return;
	}
	fputs("\ncommands:\n", out);
	for (i = 0; table[i].name; i++)
		fprintf(out, "    %-14s %s\n", table[i].name, table[i].help);
}

int cli_dispatch(int argc, char **argv, const struct cli_command *table,
		 const char *const *usage, struct cli_ctx *ctx)
{
	size_t i;

	if (argc < 1 || !argv[0]) {
		fputs("error: a command is required\n\n", stderr);
		cli_print_commands(stderr, usage, table);
		return EX_USAGE;
	}
	for (i = 0; table[i].name; i++)
		if (!strcmp(table[i].name, argv[0]))
			return table[i].fn(argc, argv, ctx);
	if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help") || !strcmp(argv[0], "help")) {
		cli_print_commands(stdout, usage, table);
		return EX_OK;
	}
	fprintf(stderr, "error: unknown command '%s'\n\n", argv[0]);
	cli_print_commands(stderr, usage, table);
	return EX_USAGE;
}
