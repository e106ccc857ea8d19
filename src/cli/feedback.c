/*
 * frontline feedback export --out FILE.jsonl [--since DATE] [--task TASK]:
 * agents' corrections of the triage's labels as training rows. Each change
 * of a ticket's category or priority in the console is recorded as a
 * ticket.corrected event (who, when, from, to); the last correction of each
 * ticket and field is a row {"text", "label", "task", "ticket_id", "from",
 * "corrected_at"}: text is the ticket's subject and content as the analyzer
 * reads them, label the agent's choice, task the model it teaches
 * ("category", "priority"). `frontline train category --feedback FILE`
 * adds the rows of its task to its training set (docs/QUALITY.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "store/store.h"
#include "util/util.h"

static const char *const feedback_usage[] = {
	"frontline feedback export --out FILE.jsonl [--since DATE] [--task category|priority]",
	NULL,
};

static const char *const tasks[] = { "category", "priority", NULL };

/* The last correction of each ticket and field (corrections come oldest first). */
static json_t *last_corrections(const json_t *all, const char *task)
{
	json_t *seen = json_object(), *rows = json_array(), *c;
	size_t i;

	json_array_foreach(all, i, c) {
		const char *field = fl_json_str(c, "field", NULL);
		char *key;

		if (!field || fl_word_index(tasks, field) < 0 || (task && strcmp(task, field)))
			continue;
		key = fl_asprintf("%s\n%s", fl_json_str(c, "ticket_id", ""), field);
		json_object_set(seen, key, c);
		free(key);
	}
	json_array_foreach(all, i, c) {
		char *key = fl_asprintf("%s\n%s", fl_json_str(c, "ticket_id", ""), fl_json_str(c, "field", ""));

		/* in the order they were made, each once (its last) */
		if (json_object_get(seen, key) == c && json_is_string(json_object_get(c, "to")))
			json_array_append(rows, c);
		free(key);
	}
	json_decref(seen);
	return rows;
}

static int write_rows(FILE *f, const json_t *rows)
{
	const json_t *c;
	size_t i;

	json_array_foreach(rows, i, c) {
		char *text = fl_asprintf("%s\n\n%s", fl_json_str(c, "subject", ""), fl_json_str(c, "content", ""));
		json_t *row = json_pack("{s:s, s:O, s:s, s:s, s:O?, s:s}", "text", text, "label",
					json_object_get(c, "to"), "task", fl_json_str(c, "field", ""), "ticket_id",
					fl_json_str(c, "ticket_id", ""), "from", json_object_get(c, "from"),
					"corrected_at", fl_json_str(c, "at", ""));
		char *line = fl_json_dumps(row);
		int bad = fprintf(f, "%s\n", line) < 0;

		free(line);
		json_decref(row);
		free(text);
		if (bad)
			return -1;
	}
	return 0;
}

static int feedback_export(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *out = NULL, *since = NULL, *task = NULL;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'o', "out", &out, "FILE", "the JSON-lines file to write (- for standard output)" },
		{ CLI_OPT_STRING, 0, "since", &since, "DATE", "only corrections made then or later (RFC 3339 or YYYY-MM-DD)" },
		{ CLI_OPT_STRING, 't', "task", &task, "TASK", "only category or priority rows" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *all = NULL, *rows = NULL;
	int64_t since_us = 0;
	char *tmp = NULL;
	FILE *f = NULL;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, feedback_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(feedback_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!out)
		return cli_usage_error(feedback_usage, opts, "--out is required");
	if (since && fl_time_parse(since, &since_us))
		return cli_usage_error(feedback_usage, opts, "--since must be a date (2026-01-31 or RFC 3339)");
	if (task && fl_word_index(tasks, task) < 0)
		return cli_usage_error(feedback_usage, opts, "--task must be category or priority");
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		return rc;
	rc = store_corrections(st, since_us, &all);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot read the corrections: %s", store_errmsg(st));
		goto out;
	}
	rows = last_corrections(all, task);
	if (!strcmp(out, "-")) {
		f = stdout;
	} else {
		/* written beside the target and renamed: a reader never sees half a file */
		tmp = fl_asprintf("%s.tmp.%ld", out, (long)getpid());
		if (!(f = fopen(tmp, "w"))) {
			rc = cli_error(EX_CANTCREAT, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
	}
	if (write_rows(f, rows) || fflush(f) || (f != stdout && fclose(f))) {
		rc = cli_error(EX_IOERR, "cannot write '%s': %s", out, strerror(errno));
		if (f != stdout)
			unlink(tmp);
		f = NULL;
		goto out;
	}
	if (f != stdout && rename(tmp, out)) {
		rc = cli_error(EX_CANTCREAT, "cannot write '%s': %s", out, strerror(errno));
		unlink(tmp);
		f = NULL;
		goto out;
	}
	f = NULL;
	fprintf(stderr, "%zu training rows from %zu corrections%s%s\n", json_array_size(rows), json_array_size(all),
		strcmp(out, "-") ? " written to " : "", strcmp(out, "-") ? out : "");
	rc = EX_OK;
out:
	if (f && f != stdout) {
		fclose(f);
		unlink(tmp);
	}
	free(tmp);
	json_decref(all);
	json_decref(rows);
	store_close(st);
	return rc;
}

static const struct cli_command feedback_commands[] = {
	{ "export", feedback_export, "write agents' corrections as {text, label, task} rows" },
	{ NULL, NULL, NULL },
};

int cmd_feedback(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(argc - 1, argv + 1, feedback_commands, feedback_usage, ctx);
}
