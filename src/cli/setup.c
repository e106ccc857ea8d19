/*
 * What the commands that triage tickets share: opening the store named by
 * the configuration, loading the analyzer's models and the knowledge base,
 * and building the workflow, with one clear error and exit code for each
 * thing that can be missing.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kb/kb.h"
#include "llm/llm.h"
#include "store/store.h"
#include "support/support.h"
#include "util/util.h"

static int triage_open(struct cli_triage *t, const char *workflow, bool with_store, bool with_analyzer)
{
	const struct support_workflow *w;
	char *err = NULL;
	int rc;

	memset(t, 0, sizeof(*t));
	w = support_workflow_find(workflow);
	if (!w)
		return cli_error(EX_SOFTWARE, "unknown workflow '%s'", workflow);
	if (with_store && (rc = cli_store_open(true, &t->store)) != EX_OK)
		goto fail;
	if (with_analyzer && support_analyzer_open(NULL, &t->analyzer, &err) != SUPPORT_OK) {
		rc = cli_error(EX_CONFIG, "%s (set FRONTLINE_SHARE_DIR or FRONTLINE_MODELS_DIR; see docs/CONFIGURATION.md)", err);
		goto fail;
	}
	if (kb_open(NULL, &t->kb, &err) != KB_OK) {
		rc = cli_error(EX_SOFTWARE, "cannot open the knowledge-base index: %s", err);
		goto fail;
	}
	if (t->store && support_kb_load(t->store, t->kb, NULL, &t->kb_articles, &err) != SUPPORT_OK) {
		rc = cli_error(EX_UNAVAILABLE, "%s", err);
		goto fail;
	}
	if (!t->store) {
		json_t *articles = NULL;
		size_t i;

		if (kb_import_path(fl_config_get("FRONTLINE_KB_DIR"), &articles, &err) == KB_OK) {
			for (i = 0; i < json_array_size(articles); i++)
				kb_add(t->kb, json_array_get(articles, i));
			t->kb_articles = json_array_size(articles);
		}
		json_decref(articles);
		free(err);
		err = NULL;
	}
	/* The process's one LLM client, when an LLM is configured (see docs/LLM.md). */
	rc = llm_client_from_config(&t->llm, &err);
	if (rc == LLM_ENOTCONFIGURED) {
		fl_log(FL_LOG_DEBUG, "no LLM configured: the built-in analyzer decides everything");
	} else if (rc != LLM_OK) {
		rc = cli_error(EX_CONFIG, "invalid LLM configuration: %s (see 'frontline llm check')",
			       err ? err : llm_strerror(rc));
		goto fail;
	}
	/* an unknown FRONTLINE_WORKFLOW_<CHANNEL> is a configuration error now, not at the first ticket */
	if (support_routing_new(&t->routing, &err) != SUPPORT_OK) {
		rc = cli_error(EX_CONFIG, "%s (see docs/CONFIGURATION.md)", err);
		goto fail;
	}
	/* a ticket workflow runs from ticket_ingestion, after the triage when it starts later */
	t->workflow = w->on_ticket ? support_workflow_ticket_graph(w) : w->build();
	t->start = w->on_ticket ? "ticket_ingestion" : w->start;
	t->ctx.analyzer = t->analyzer;
	t->ctx.kb = t->kb;
	t->ctx.llm = t->llm;
	t->ctx.store = t->store;
	if (support_crm_open(&t->ctx.crm) != SUPPORT_OK) {
		rc = cli_error(EX_CONFIG, "CRM_API_URL must be an http or https URL");
		goto fail;
	}
	return EX_OK;
fail:
	free(err);
	cli_triage_close(t);
	return rc;
}

int cli_triage_open(struct cli_triage *t, const char *workflow, bool with_store)
{
	return triage_open(t, workflow, with_store, true);
}

int cli_triage_open_no_analyzer(struct cli_triage *t, const char *workflow, bool with_store)
{
	return triage_open(t, workflow, with_store, false);
}

void cli_triage_close(struct cli_triage *t)
{
	flow_node_free(t->workflow);
	support_routing_free(t->routing);
	support_crm_free(t->ctx.crm);
	llm_client_free(t->llm);
	kb_close(t->kb);
	support_analyzer_free(t->analyzer);
	store_close(t->store);
	memset(t, 0, sizeof(*t));
}

int cli_read_json(const char *path, json_t **out)
{
	json_error_t jerr;
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;

	*out = NULL;
	if (!f)
		return cli_error(EX_NOINPUT, "cannot open '%s': %m", path);
	*out = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	if (f != stdin)
		fclose(f);
	if (!*out)
		return cli_error(EX_DATAERR, "'%s' line %d, column %d: %s", strcmp(path, "-") ? path : "stdin",
				 jerr.line, jerr.column, jerr.text);
	return EX_OK;
}
