/*
 * frontline user create|passwd|disable|enable|list: the people who sign in
 * to the console. A password is read from standard input with
 * --password-stdin (its first line), else generated and printed once on
 * stdout; the store keeps only its Argon2id hash (server_password_hash,
 * FRONTLINE_PASSWORD_COST). Disabling a user or changing a password ends
 * the user's sessions. Exit codes: EX_USAGE for bad options, EX_NOUSER for
 * an unknown email, EX_DATAERR for an email in use or a refused password,
 * the store's otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server/server.h"
#include "store/store.h"
#include "util/util.h"

static const char *const user_usage[] = {
	"frontline user create --email EMAIL --name NAME --role agent|admin [--department D] [--password-stdin] [--json]",
	"frontline user passwd --email EMAIL [--password-stdin]",
	"frontline user disable|enable --email EMAIL",
	"frontline user list [--json]",
	NULL,
};

/*
 * The password: the first line of standard input with from_stdin, else a
 * generated one (*generated true). Returns EX_OK with out filled, or an
 * exit code after saying why.
 */
static int read_password(bool from_stdin, char out[SERVER_PASSWORD_MAX + 2], bool *generated)
{
	const char *problem;
	size_t n;

	*generated = !from_stdin;
	if (!from_stdin) {
		server_password_generate(out);
		return EX_OK;
	}
	if (!fgets(out, SERVER_PASSWORD_MAX + 2, stdin))
		return cli_error(EX_DATAERR, "no password on standard input");
	n = strlen(out);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	if ((problem = server_password_problem(out)))
		return cli_error(EX_DATAERR, "%s", problem);
	return EX_OK;
}

static int hash_password(const char *pw, char hash[SERVER_PASSWORD_HASH_SIZE])
{
	if (server_password_hash(pw, hash))
		return cli_error(EX_CONFIG, "cannot hash the password (FRONTLINE_PASSWORD_COST is '%s': use "
				 "interactive or moderate)", fl_config_get("FRONTLINE_PASSWORD_COST"));
	return EX_OK;
}

static int user_create(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *email = NULL, *name = NULL, *role = NULL, *department = NULL;
	bool from_stdin = false, json = false, generated;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'e', "email", &email, "EMAIL", "the address the person signs in with" },
		{ CLI_OPT_STRING, 'n', "name", &name, "NAME", "the name the console shows" },
		{ CLI_OPT_STRING, 'r', "role", &role, "ROLE", "agent or admin" },
		{ CLI_OPT_STRING, 'd', "department", &department, "D", "the person's department" },
		{ CLI_OPT_BOOL, 0, "password-stdin", &from_stdin, NULL, "read the password from standard input "
		  "(else one is generated and printed once)" },
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print {user, password?} as JSON" },
		CLI_OPTIONS_END,
	};
	char pw[SERVER_PASSWORD_MAX + 2], hash[SERVER_PASSWORD_HASH_SIZE];
	struct store *st = NULL;
	json_t *in = NULL, *u = NULL;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, user_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(user_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (!email || !name || !role)
		return cli_usage_error(user_usage, opts, "--email, --name and --role are required");
	if (fl_word_index(fl_user_roles, role) < 0)
		return cli_usage_error(user_usage, opts, "--role must be agent or admin");
	if ((rc = read_password(from_stdin, pw, &generated)) || (rc = hash_password(pw, hash)))
		goto out;
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		goto out;
	in = json_pack("{s:s, s:s, s:s, s:s?}", "email", email, "name", name, "role", role, "department",
		       department);
	rc = store_user_insert(st, in, hash, &u);
	if (rc == STORE_ECONSTRAINT) {
		rc = cli_error(EX_DATAERR, "a user with the email '%s' exists (frontline user passwd changes "
			       "the password)", email);
		goto out;
	}
	if (rc == STORE_EINVAL) {
		rc = cli_error(EX_DATAERR, "%s", store_errmsg(st));
		goto out;
	}
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot add the user: %s", store_errmsg(st));
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:O}", "user", u);

		if (generated)
			json_object_set_new(o, "password", json_string(pw));
		cli_print_json(stdout, o);
		json_decref(o);
	} else {
		if (generated)
			printf("%s\n", pw);
		fprintf(stderr, "user %lld '%s' (%s) created%s\n", (long long)fl_json_int(u, "id", 0),
			fl_json_str(u, "email", ""), role, generated ? "; the password above is shown only this once" : "");
	}
	rc = EX_OK;
out:
	memset(pw, 0, sizeof(pw));
	json_decref(in);
	json_decref(u);
	store_close(st);
	return rc;
}

/* The user with email, into *u; an exit code after saying why when there is none. */
static int find(struct store *st, const char *email, json_t **u)
{
	int rc = store_user_find_by_email(st, email, u, NULL);

	if (rc == STORE_ENOTFOUND)
		return cli_error(EX_NOUSER, "no user with the email '%s' (frontline user list)", email);
	if (rc != STORE_OK)
		return cli_error(cli_store_exit(rc), "cannot read users: %s", store_errmsg(st));
	return EX_OK;
}

static int user_passwd(int argc, char **argv, struct cli_ctx *ctx)
{
	const char *email = NULL;
	bool from_stdin = false, generated;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'e', "email", &email, "EMAIL", "whose password" },
		{ CLI_OPT_BOOL, 0, "password-stdin", &from_stdin, NULL, "read the password from standard input "
		  "(else one is generated and printed once)" },
		CLI_OPTIONS_END,
	};
	char pw[SERVER_PASSWORD_MAX + 2], hash[SERVER_PASSWORD_HASH_SIZE];
	struct store *st = NULL;
	json_t *u = NULL, *none = json_object();
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, user_usage, &argi);
	if (rc != CLI_PARSED) {
		json_decref(none);
		return cli_parse_status(rc);
	}
	if (argi < argc || !email) {
		json_decref(none);
		return cli_usage_error(user_usage, opts, argi < argc ? "unexpected argument" : "--email is required");
	}
	if ((rc = read_password(from_stdin, pw, &generated)) || (rc = hash_password(pw, hash)) ||
	    (rc = cli_store_open(true, &st)) || (rc = find(st, email, &u)))
		goto out;
	rc = store_user_update(st, fl_json_int(u, "id", 0), none, hash, NULL);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot change the password: %s", store_errmsg(st));
		goto out;
	}
	if (generated)
		printf("%s\n", pw);
	fprintf(stderr, "password of '%s' changed; the user's sessions have ended%s\n", fl_json_str(u, "email", ""),
		generated ? " (the password above is shown only this once)" : "");
	rc = EX_OK;
out:
	memset(pw, 0, sizeof(pw));
	json_decref(u);
	json_decref(none);
	store_close(st);
	return rc;
}

static int set_disabled(int argc, char **argv, bool disabled)
{
	const char *email = NULL;
	const struct cli_option opts[] = {
		{ CLI_OPT_STRING, 'e', "email", &email, "EMAIL", "whose account" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *u = NULL, *fields = json_pack("{s:b}", "disabled", disabled);
	int argi, rc;

	rc = cli_parse(argc, argv, opts, user_usage, &argi);
	if (rc != CLI_PARSED) {
		rc = cli_parse_status(rc);
		goto out;
	}
	if (argi < argc || !email) {
		rc = cli_usage_error(user_usage, opts, argi < argc ? "unexpected argument" : "--email is required");
		goto out;
	}
	if ((rc = cli_store_open(true, &st)) || (rc = find(st, email, &u)))
		goto out;
	rc = store_user_update(st, fl_json_int(u, "id", 0), fields, NULL, NULL);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot change the user: %s", store_errmsg(st));
		goto out;
	}
	fprintf(stderr, "user '%s' %s\n", fl_json_str(u, "email", ""),
		disabled ? "disabled; the user's sessions have ended" : "enabled");
	rc = EX_OK;
out:
	json_decref(u);
	json_decref(fields);
	store_close(st);
	return rc;
}

static int user_disable(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return set_disabled(argc, argv, true);
}

static int user_enable(int argc, char **argv, struct cli_ctx *ctx)
{
	(void)ctx;
	return set_disabled(argc, argv, false);
}

static int user_list(int argc, char **argv, struct cli_ctx *ctx)
{
	bool json = false;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print a JSON array" },
		CLI_OPTIONS_END,
	};
	struct store *st = NULL;
	json_t *list = NULL, *u;
	size_t i;
	int argi, rc;

	(void)ctx;
	rc = cli_parse(argc, argv, opts, user_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(user_usage, opts, "unexpected argument '%s'", argv[argi]);
	if ((rc = cli_store_open(true, &st)) != EX_OK)
		return rc;
	rc = store_user_list(st, &list);
	if (rc != STORE_OK) {
		rc = cli_error(cli_store_exit(rc), "cannot list users: %s", store_errmsg(st));
		goto out;
	}
	if (json) {
		cli_print_json(stdout, list);
	} else {
		json_array_foreach(list, i, u)
			printf("%-5lld %-6s %-32s %-24s %-16s last seen %s%s\n", (long long)fl_json_int(u, "id", 0),
			       fl_json_str(u, "role", ""), fl_json_str(u, "email", ""), fl_json_str(u, "name", ""),
			       fl_json_str(u, "department", "-"), fl_json_str(u, "last_seen_at", "never"),
			       fl_json_bool(u, "disabled", false) ? "  (disabled)" : "");
	}
	rc = EX_OK;
out:
	json_decref(list);
	store_close(st);
	return rc;
}

static const struct cli_command user_commands[] = {
	{ "create", user_create, "add a person who signs in to the console" },
	{ "passwd", user_passwd, "set a new password (read, or generated and printed once)" },
	{ "disable", user_disable, "stop a person from signing in (ends their sessions)" },
	{ "enable", user_enable, "let a disabled person sign in again" },
	{ "list", user_list, "list the people (never their passwords)" },
	{ NULL, NULL, NULL },
};

int cmd_user(int argc, char **argv, struct cli_ctx *ctx)
{
	return cli_dispatch(argc - 1, argv + 1, user_commands, user_usage, ctx);
}
