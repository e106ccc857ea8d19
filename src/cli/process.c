/*
 * frontline process FILE|-: one ticket (the webhook/API JSON) through its
 * channel's workflow (FRONTLINE_WORKFLOW_<CHANNEL>, customer_support when
 * unset) or the one --workflow names (any registered workflow that runs on
 * a ticket; an unknown one is a usage error naming them). The ticket passes the ingestion rules every door runs
 * (support_ticket_validate, in support_process), is stored (idempotent on
 * its channel and id), then triaged, then the results are stored; the
 * output shows every analysis with its path and confidence, the reply, the
 * escalation, the satisfaction estimate and the trace (--json for scripts;
 * a refused ticket is {"error": {"code", "message", "field", "details"}},
 * as the API answers, and exit 65).
 */
#include <string.h>

#include "cli.h"
#include "util/util.h"

static const char *const process_usage[] = {
	"frontline process [--json] [--no-store] [--workflow NAME] FILE|-",
	NULL,
};

int cmd_process(int argc, char **argv, struct cli_ctx *cctx)
{
	bool json = false, no_store = false;
	const char *workflow = NULL;
	const struct support_workflow *wf = NULL;
	const struct cli_option opts[] = {
		{ CLI_OPT_BOOL, 0, "json", &json, NULL, "print the result as JSON" },
		{ CLI_OPT_BOOL, 0, "no-store", &no_store, NULL, "analyse only: store nothing" },
		{ CLI_OPT_STRING, 0, "workflow", &workflow, "NAME",
		  "run NAME (customer_support, high_priority, escalation) instead of the channel's "
		  "(FRONTLINE_WORKFLOW_<CHANNEL>)" },
		CLI_OPTIONS_END,
	};
	struct cli_triage t;
	struct support_outcome o = { 0 };
	json_t *incoming = NULL;
	int argi, rc, src;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, process_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi != argc - 1)
		return cli_usage_error(process_usage, opts, argi >= argc ? "a ticket file (or -) is required"
							      : "only one ticket file is accepted");
	if (workflow) {
		char *why = NULL;

		if (support_workflow_check_name(workflow, &wf, &why) != SUPPORT_OK) {
			rc = cli_usage_error(process_usage, opts, "%s", why);
			free(why);
			return rc;
		}
	}
	if ((rc = cli_read_json(argv[argi], &incoming)) != EX_OK)
		return rc;
	if ((rc = cli_triage_open(&t, wf ? wf->name : "customer_support", !no_store)) != EX_OK) {
		json_decref(incoming);
		return rc;
	}
	/* --workflow decides; else each channel's own */
	t.ctx.routing = wf ? NULL : t.routing;
	src = support_process(&t.ctx, t.workflow, incoming, &o);
	switch (src) {
	case SUPPORT_OK:
		if (json) {
			json_t *j = cli_outcome_json(&o);

			cli_print_json(stdout, j);
			json_decref(j);
		} else {
			cli_print_outcome(stdout, &o);
		}
		rc = EX_OK;
		break;
	case SUPPORT_EINVAL:
		/* refused by the ingestion rules every door runs; --json shows the API's error object */
		if (json && o.errors) {
			json_t *j = json_pack("{s:o}", "error", support_ticket_refusal(o.errors));

			cli_print_json(stdout, j);
			json_decref(j);
		}
		rc = cli_error(EX_DATAERR, "invalid ticket in '%s': %s", argv[argi], o.error);
		break;
	case SUPPORT_ESTORE:
		rc = cli_error(EX_TEMPFAIL, "%s", o.error);
		break;
	default:
		rc = cli_error(EX_SOFTWARE, "cannot process the ticket: %s", o.error ? o.error : support_strerror(src));
		break;
	}
	support_outcome_release(&o);
	json_decref(incoming);
	cli_triage_close(&t);
	return rc;
}
