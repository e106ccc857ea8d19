/*
 * Fuzz target: the configuration file (`frontline --config FILE`,
 * /etc/frontline/frontline.conf): KEY=value lines, comments, quotes,
 * "export KEY=value", read by fl_config_load; then what reads the values:
 * the typed getters, the masked dump (`frontline help --conf`, the serve
 * banner), the LLM client's settings (numbers, URLs, the price table) and
 * the email channel's options and limits.
 *
 * The configuration is the process's one global state: every input starts
 * from fl_config_free, so nothing carries over.
 *
 * Checked (util.h): a file that loads gives every known key a value or
 * none (never a crash), the dump lists every key with its source; a file
 * that does not load says which line.
 */
#include <string.h>

#include "fuzz.h"
#include "channels/email/email.h"
#include "llm/llm.h"
#include "util/util.h"

static void read_back(void)
{
	const struct fl_config_key *k;
	json_t *dump = fl_config_dump();
	struct llm_client *client = NULL;
	struct email_intake_opts in;
	struct email_imap_opts imap;
	struct email_limits lim;
	char *err = NULL;

	for (k = fl_config_keys(); k->name; k++) {
		const json_t *entry = json_object_get(dump, k->name);

		FUZZ_CHECK(json_is_string(json_object_get(entry, "source")));
		(void)fl_config_int(k->name, 0);
		(void)fl_config_num(k->name, 0);
		(void)fl_config_bool(k->name, false);
	}
	json_decref(dump);
	(void)fl_log_level_parse(fl_config_get("SUPPORT_LOG_LEVEL"));
	if (llm_client_from_config(&client, &err) == LLM_OK && client) {
		json_t *d = llm_client_describe(client);

		FUZZ_CHECK(d);
		json_decref(d);
	}
	llm_client_free(client);
	free(err);
	email_limits_from_config(&lim);
	email_intake_opts_from_config(&in);
	email_imap_opts_from_config(&imap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_file f;
	char *err = NULL;

	fl_config_free();
	FUZZ_CHECK(!fuzz_file_open(&f, data, size));
	if (fl_config_load(f.path, true, &err)) {
		FUZZ_CHECK(err && strstr(err, f.path));
		free(err);
	} else {
		FUZZ_CHECK(!err);
		read_back();
	}
	fuzz_file_close(&f);
	fl_config_free();
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}
