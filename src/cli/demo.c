/*
 * frontline demo: the seed's five demos (DESIGN §9) on the embedded default,
 * with real behaviour behind them: (1) one ticket through customer_support,
 * (2) a batch through batch_processing, (3) real_time_monitoring on the
 * seed's metrics and on the store's own, (4) an outage escalated to a human,
 * (5) the integrations: CRM lookup, KB search, metrics, an email and a Slack
 * message queued in the outbox, a CRM update. Everything is stored in the
 * configured store (./var/frontline.db by default); running it again finds
 * the demo tickets already processed and shows what was stored.
 *
 * Also the demo data `frontline serve --demo` loads (cli_demo_load).
 */
#include <string.h>

#include "cli.h"
#include "kb/kb.h"
#include "server/server.h"
#include "store/store.h"
#include "util/util.h"

static const char *const demo_usage[] = {
	"frontline demo [--only N]",
	NULL,
};

static void heading(int n, const char *title)
{
	printf("\n=== Demo %d: %s ===\n\n", n, title);
}

static int demo_single(struct cli_triage *t)
{
	json_t *ticket = support_demo_ticket("single");
	struct support_outcome o;
	int rc;

	heading(1, "one ticket through customer_support");
	rc = support_process(&t->ctx, t->workflow, ticket, &o);
	if (rc == SUPPORT_OK)
		cli_print_outcome(stdout, &o);
	else
		cli_error(0, "demo ticket failed: %s", o.error ? o.error : support_strerror(rc));
	support_outcome_release(&o);
	json_decref(ticket);
	return rc == SUPPORT_OK ? EX_OK : EX_SOFTWARE;
}

static int demo_batch(struct cli_triage *t)
{
	const struct support_workflow *w = support_workflow_find("batch_processing");
	struct flow_node *g = w->build();
	json_t *shared = json_pack("{s:o}", "batch_tickets", support_demo_ticket("batch"));
	struct flow_result *r;
	const json_t *results;
	size_t i;
	int rc = EX_OK;

	heading(2, "a batch through batch_processing (3 workers)");
	flow_node_set_batch(flow_graph_find(g, "batch_process"), 3);
	r = support_run(g, w->start, &t->ctx, shared);
	if (flow_result_code(r) != FLOW_OK) {
		rc = cli_error(EX_SOFTWARE, "batch demo failed: %s", flow_result_error(r));
		goto out;
	}
	results = json_object_get(shared, "batch_results");
	printf("  %-10s %-9s %-10s %-8s %-14s %s\n", "ticket", "sentiment", "category", "priority",
	       "escalation", "first line of the reply");
	for (i = 0; i < json_array_size(results); i++) {
		const json_t *sh = json_object_get(json_array_get(results, i), "shared");
		const char *reply = fl_json_str(json_object_get(sh, "generated_response"), "response", "");
		const char *second = strchr(reply, '\n');

		while (second && *second == '\n')
			second++;
		printf("  %-10s %-9s %-10s %-8s %-14s %.70s\n",
		       fl_json_str(json_object_get(sh, "ticket"), "id", "?"),
		       fl_json_str(json_object_get(sh, "sentiment_analysis"), "sentiment", "?"),
		       fl_json_str(json_object_get(sh, "categorization"), "primary_category", "?"),
		       fl_json_str(json_object_get(sh, "priority_assignment"), "priority", "?"),
		       fl_json_str(json_object_get(sh, "escalation_decision"), "escalation_decision", "no_escalation"),
		       second ? second : reply);
	}
	{
		json_t *summary = json_object_get(shared, "batch_summary");

		printf("\n  processed %lld of %lld, failed %lld\n", (long long)fl_json_int(summary, "processed", 0),
		       (long long)fl_json_int(summary, "total", 0), (long long)fl_json_int(summary, "failed", 0));
	}
out:
	flow_result_free(r);
	json_decref(shared);
	flow_node_free(g);
	return rc;
}

static void print_alerts(const json_t *shared)
{
	const json_t *alerts = json_object_get(shared, "alerts");
	size_t i;

	if (!json_array_size(alerts))
		printf("  no alert: every metric is within its threshold\n");
	for (i = 0; i < json_array_size(alerts); i++)
		printf("  ALERT %s (%s): %s\n", fl_json_str(json_array_get(alerts, i), "type", ""),
		       fl_json_str(json_array_get(alerts, i), "severity", ""),
		       fl_json_str(json_array_get(alerts, i), "message", ""));
}

static int demo_monitoring(struct cli_triage *t)
{
	const struct support_workflow *w = support_workflow_find("real_time_monitoring");
	struct flow_node *g = w->build();
	json_t *given = json_pack("{s:{s:i, s:i, s:f, s:f}}", "metrics", "volume", 45, "response_time", 180,
				  "satisfaction", 0.82, "escalation_rate", 0.15);
	json_t *live = json_pack("{s:i}", "window_s", 86400);
	struct flow_result *r;
	int rc = EX_OK;

	heading(3, "real_time_monitoring");
	printf("  the seed's metrics: volume 45, response time 180 s, satisfaction 0.82, escalation rate 0.15\n");
	r = support_run(g, w->start, &t->ctx, given);
	if (flow_result_code(r) != FLOW_OK)
		rc = cli_error(EX_SOFTWARE, "monitoring demo failed: %s", flow_result_error(r));
	else
		print_alerts(given);
	flow_result_free(r);
	r = support_run(g, w->start, &t->ctx, live);
	if (flow_result_code(r) == FLOW_OK) {
		const json_t *m = json_object_get(live, "metrics");

		printf("\n  this store, last 24 hours: %lld tickets, %lld resolved, %lld escalated, "
		       "escalation rate %.2f, satisfaction %.2f\n",
		       (long long)fl_json_int(m, "total_tickets", 0), (long long)fl_json_int(m, "resolved_tickets", 0),
		       (long long)fl_json_int(m, "escalated_tickets", 0), fl_json_num(m, "escalation_rate", 0),
		       fl_json_num(m, "satisfaction_score", 0));
		print_alerts(live);
	}
	flow_result_free(r);
	json_decref(given);
	json_decref(live);
	flow_node_free(g);
	return rc;
}

static int demo_escalation(struct cli_triage *t)
{
	json_t *ticket = support_demo_ticket("escalation"), *queue = NULL;
	struct support_outcome o;
	size_t i;
	int rc;

	heading(4, "an outage escalated to humans");
	rc = support_process(&t->ctx, t->workflow, ticket, &o);
	if (rc == SUPPORT_OK)
		cli_print_outcome(stdout, &o);
	else
		cli_error(0, "escalation demo failed: %s", o.error ? o.error : support_strerror(rc));
	if (store_escalation_list(t->store, NULL, 10, &queue) == STORE_OK) {
		printf("\n  escalation queue (most urgent first):\n");
		for (i = 0; i < json_array_size(queue); i++) {
			const json_t *e = json_array_get(queue, i);

			printf("    #%lld %-22s %-8s %-9s %s\n", (long long)fl_json_int(e, "id", 0),
			       fl_json_str(e, "ticket_id", ""), fl_json_str(e, "priority", ""),
			       fl_json_str(e, "status", ""), fl_json_str(e, "department", ""));
		}
	}
	json_decref(queue);
	support_outcome_release(&o);
	json_decref(ticket);
	return rc == SUPPORT_OK ? EX_OK : EX_SOFTWARE;
}

static int demo_integrations(struct cli_triage *t)
{
	json_t *customer = NULL, *found = NULL, *metrics = NULL, *notices, *n, *after = NULL, *arts;
	int64_t now = fl_wall_us();
	size_t i;
	int rc = EX_OK;

	heading(5, "integrations: CRM, knowledge base, metrics, notifications");
	if (store_customer_get(t->store, "cust_001", &customer) == STORE_OK)
		printf("  CRM lookup cust_001: %s <%s>, %s tier, %lld tickets, satisfaction %.2f\n",
		       fl_json_str(customer, "name", ""), fl_json_str(customer, "email", ""),
		       fl_json_str(customer, "tier", ""), (long long)fl_json_int(customer, "total_tickets", 0),
		       fl_json_num(customer, "satisfaction_score", 0));
	if (kb_search(t->kb, "password reset", 3, &found) == KB_OK) {
		arts = json_object_get(found, "articles");
		printf("  KB search \"password reset\": %zu article(s)\n", json_array_size(arts));
		for (i = 0; i < json_array_size(arts); i++)
			printf("    %s  %.2f  %s\n", fl_json_str(json_array_get(arts, i), "id", ""),
			       fl_json_num(json_array_get(arts, i), "relevance_score", 0),
			       fl_json_str(json_array_get(arts, i), "title", ""));
	}
	if (store_metrics(t->store, now - INT64_C(86400000000), now, &metrics) == STORE_OK) {
		char *by = fl_json_dumps(json_object_get(metrics, "tickets_by_category"));

		printf("  metrics, last 24 hours: %lld tickets, by category %s\n",
		       (long long)fl_json_int(metrics, "total_tickets", 0), by);
		free(by);
	}
	/* the resolved ticket's email and the team's Slack update, built as every notice is */
	notices = json_array();
	support_notice_resolved(notices, "ticket_demo_001", fl_json_str(customer, "name", "John Doe"),
				fl_json_str(customer, "email", "john.doe@company.com"),
				fl_json_str(customer, "tier", "premium"), "demo:ticket_demo_001");
	if (support_notices_enqueue(t->store, notices) == STORE_OK) {
		json_array_foreach(notices, i, n) {
			const json_t *q = json_object_get(n, "queued");
			const char *state = !q ? "not queued (NOTIFICATION_ENABLED is off)"
				: json_is_true(q) ? "queued in the outbox" : "already queued earlier";

			if (!strcmp(fl_json_str(n, "channel", ""), "email"))
				printf("  email \"%s\" to %s: %s\n",
				       fl_json_str(json_object_get(n, "payload"), "subject", ""),
				       fl_json_str(n, "target", ""), state);
			else
				printf("  Slack message to %s: %s\n", fl_json_str(n, "target", ""), state);
		}
	}
	json_decref(notices);
	if (store_customer_update_metrics(t->store, "cust_001", 0.95) == STORE_OK &&
	    store_customer_get(t->store, "cust_001", &after) == STORE_OK)
		printf("  CRM update with satisfaction 0.95: cust_001 now %lld tickets, satisfaction %.3f\n",
		       (long long)fl_json_int(after, "total_tickets", 0), fl_json_num(after, "satisfaction_score", 0));
	else
		rc = cli_error(EX_SOFTWARE, "CRM update failed: %s", store_errmsg(t->store));
	json_decref(customer);
	json_decref(found);
	json_decref(metrics);
	json_decref(after);
	return rc;
}

/*
 * serve --demo: the seed's customers and demo tickets (queued for triage,
 * once: intake is idempotent) and a fresh admin token, the previous demo
 * tokens revoked.
 */
int cli_demo_load(struct store *st, char *token, size_t token_len)
{
	static const char *const which[] = { "single", "batch", "escalation" };
	json_t *tokens = NULL, *row = NULL, *t;
	char *err = NULL, hash[65], tok[64];
	size_t i, k, n = 0;
	int rc;

	if (support_seed_customers(st, &err) != SUPPORT_OK) {
		rc = cli_error(EX_SOFTWARE, "cannot load the demo customers: %s", err);
		free(err);
		return rc;
	}
	for (i = 0; i < FL_ARRAY_SIZE(which); i++) {
		json_t *demo = support_demo_ticket(which[i]), *list = json_is_array(demo) ? json_incref(demo)
											 : json_pack("[O]", demo);

		json_array_foreach(list, k, t) {
			json_t *ticket = NULL, *errors = NULL, *out = NULL;
			bool created = false;

			if (support_ticket_validate(t, fl_wall_us(), &ticket, &errors) == SUPPORT_OK &&
			    store_ticket_intake(st, ticket, FL_JOB_TRIAGE, NULL, &out, &created) == STORE_OK && created)
				n++;
			json_decref(ticket);
			json_decref(errors);
			json_decref(out);
		}
		json_decref(list);
		json_decref(demo);
	}
	/* a fresh admin token each start; the previous demo ones are revoked */
	if (store_token_list(st, &tokens) == STORE_OK) {
		json_array_foreach(tokens, i, t)
			if (!strcmp(fl_json_str(t, "name", ""), "demo-admin") && !fl_json_bool(t, "revoked", false))
				store_token_revoke(st, fl_json_int(t, "id", 0));
	}
	json_decref(tokens);
	server_token_generate(tok, hash);
	rc = store_token_insert(st, "demo-admin", "admin", hash, &row);
	json_decref(row);
	if (rc != STORE_OK)
		return cli_error(cli_store_exit(rc), "cannot create the demo token: %s", store_errmsg(st));
	fl_strlcpy(token, tok, token_len);
	fl_log(FL_LOG_INFO, "demo data loaded: %zu new demo tickets queued for triage", n);
	return EX_OK;
}

int cmd_demo(int argc, char **argv, struct cli_ctx *cctx)
{
	long only = 0;
	const struct cli_option opts[] = {
		{ CLI_OPT_INT, 0, "only", &only, "N", "run demo N (1-5) only" },
		CLI_OPTIONS_END,
	};
	int (*const demos[])(struct cli_triage *) = {
		demo_single, demo_batch, demo_monitoring, demo_escalation, demo_integrations,
	};
	struct cli_triage t;
	char *err = NULL;
	int argi, rc, worst = EX_OK;
	size_t i;

	(void)cctx;
	rc = cli_parse(argc, argv, opts, demo_usage, &argi);
	if (rc != CLI_PARSED)
		return cli_parse_status(rc);
	if (argi < argc)
		return cli_usage_error(demo_usage, opts, "unexpected argument '%s'", argv[argi]);
	if (only < 0 || only > 5)
		return cli_usage_error(demo_usage, opts, "--only takes 1 to 5, not %ld", only);
	if ((rc = cli_triage_open(&t, "customer_support", true)) != EX_OK)
		return rc;
	if (support_seed_customers(t.store, &err) != SUPPORT_OK) {
		rc = cli_error(EX_TEMPFAIL, "%s", err);
		free(err);
		cli_triage_close(&t);
		return rc;
	}
	printf("Frontline demo on %s (%s backend), built-in analyzer, %zu KB articles\n",
	       store_url(t.store), store_backend(t.store), t.kb_articles);
	for (i = 0; i < FL_ARRAY_SIZE(demos); i++) {
		if (only && (long)i + 1 != only)
			continue;
		rc = demos[i](&t);
		if (rc != EX_OK)
			worst = rc;
	}
	cli_triage_close(&t);
	return worst;
}
