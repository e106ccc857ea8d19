/*
 * frontline migrate: applies the store's pending schema migrations to the
 * database at FRONTLINE_DATABASE_URL (or --database), or with --status only
 * reports where it stands. Opening the store migrates too; this command is
 * for doing it deliberately (before rolling out replicas, after a backup).
 *
 * Also here: cli_store_exit, the exit code for a store error, and
 * cli_store_open, which every command that needs the store can use.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store/store.h"
#include "util/util.h"

static const char *const migrate_usage[] = {
	"frontline migrate [--status] [--json]",
	NULL,
};

int cli_store_exit(int rc)
{
	switch (rc) {
	case STORE_OK:
		return EX_OK;
	case STORE_EURL:
		return EX_CONFIG;
	case STORE_ECONNECT:
	case STORE_EBUSY:
		return EX_UNAVAILABLE;
	case STORE_EREADONLY:
		return EX_CANTCREAT;
	case STORE_EIO:
	case STORE_EFULL:
		return EX_IOERR;
	case STORE_ECORRUPT:
	case STORE_EVERSION:
		return EX_DATAERR;
	case STORE_ENOTFOUND:
		return EX_NOINPUT;
	case STORE_EINVAL:
		return EX_DATAERR;
	}
	return EX_SOFTWARE;
}

int cli_store_open(bool migrate, struct store **out)
{
	const char *url = fl_config_get("FRONTLINE_DATABASE_URL");
	char *err = NULL;
	int rc;

	rc = migrate ? store_open(url, out, &err) : store_open_nomigrate(url, out, &err);
	if (rc) {
		cli_error(cli_store_exit(rc), "%s", err ? err : store_strerror(rc));
		free(err);
	}
	return cli_store_exit(rc);
}

int cmd_migrate(int argc, char **argv, struct cli_ctx *ctx)
{
	bool status = false, json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "status", &status, NULL, "report the schema version; change nothing" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print a JSON object" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	int argi, rc, from = 0, to = 0;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, migrate_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(migrate_usage, opts, "unexpected argument '%s'", argv[argi]);
	rc = cli_store_open(false, &st);
	if (rc != EX_OK)
		return rc;
	if (status) {
		rc = store_schema_version(st, &from);
		to = from;
	} else {
		rc = store_migrate(st, &from, &to);
	}
	if (rc) {
		rc = cli_error(cli_store_exit(rc), "%s", store_errmsg(st));
		store_close(st);
		return rc;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:i, s:b}", "url", store_url(st), "backend",
				      store_backend(st), "from", from, "to", to, "latest", store_schema_latest(),
				      "pending", to < store_schema_latest());
		char *s = fl_json_dumps(o);

		puts(s);
		free(s);
		json_decref(o);
	} else if (status) {
		printf("'%s' (%s) is at schema version %d; this build's latest is %d%s\n", store_url(st),
		       store_backend(st), from, store_schema_latest(),
		       from < store_schema_latest() ? ": run 'frontline migrate'" : "");
	} else if (from == to) {
		printf("'%s' (%s) is up to date at schema version %d\n", store_url(st), store_backend(st), to);
	} else {
		printf("migrated '%s' (%s) from schema version %d to %d\n", store_url(st), store_backend(st),
		       from, to);
	}
	store_close(st);
	return EX_OK;
}
