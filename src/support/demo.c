/*
 * The seed's demo data (DESIGN §9): its three CRM customers and its demo
 * tickets, for `frontline demo`, `make run` and the tests.
 */
#include <string.h>

#include "support_int.h"
#include "store/store.h"

int support_seed_customers(struct store *st, char **err)
{
	json_t *customers = json_pack(
		"[{s:s, s:s, s:s, s:s, s:s, s:i, s:f},"
		" {s:s, s:s, s:s, s:s, s:s, s:i, s:f},"
		" {s:s, s:s, s:s, s:s, s:s, s:i, s:f}]",
		"id", "cust_001", "name", "John Doe", "email", "john.doe@company.com", "tier", "premium",
		"joined_at", "2023-01-15T00:00:00Z", "total_tickets", 5, "satisfaction_score", 0.85,
		"id", "cust_002", "name", "Jane Smith", "email", "jane.smith@startup.com", "tier", "standard",
		"joined_at", "2023-06-20T00:00:00Z", "total_tickets", 2, "satisfaction_score", 0.92,
		"id", "cust_003", "name", "Acme Corp", "email", "support@acmecorp.com", "tier", "enterprise",
		"joined_at", "2022-11-01T00:00:00Z", "total_tickets", 15, "satisfaction_score", 0.78);
	size_t i;
	int rc = SUPPORT_OK;

	*err = NULL;
	for (i = 0; i < json_array_size(customers) && rc == SUPPORT_OK; i++) {
		json_t *existing = NULL;
		const char *id = fl_json_str(json_array_get(customers, i), "id", "");

		/* seed once: a customer the store already knows keeps its history */
		if (store_customer_get(st, id, &existing) == STORE_OK) {
			json_decref(existing);
			continue;
		}
		if (store_customer_upsert(st, json_array_get(customers, i)) != STORE_OK) {
			*err = fl_asprintf("cannot store customer '%s': %s", id, store_errmsg(st));
			rc = SUPPORT_ESTORE;
		}
	}
	json_decref(customers);
	return rc;
}

json_t *support_demo_ticket(const char *which)
{
	if (!strcmp(which, "single"))
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i, s:b}}",
			"id", "ticket_demo_001", "customer_id", "cust_001",
			"subject", "Unable to access my account - password reset not working",
			"content", "Hi, I've been trying to reset my password for the past hour but the reset "
				   "email never arrives. I've checked my spam folder and it's not there either. "
				   "This is urgent as I need to access my account for work. Can you please help?",
			"source", "email",
			"metadata", "customer_tier", "premium", "previous_interactions", 3, "urgent_flag", 1);
	if (!strcmp(which, "batch"))
		return json_pack("[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}]",
			"id", "batch_001", "customer_id", "cust_002",
			"subject", "Question about my billing cycle",
			"content", "Hello, could you explain when my billing cycle starts and when I will be "
				   "charged each month? I want to make sure the invoice matches my budget.",
			"source", "email",
			"id", "batch_002", "customer_id", "cust_003",
			"subject", "API authentication errors",
			"content", "Our integration started getting 401 authentication errors from your API "
				   "this morning. Our API keys have not changed. Please investigate, our "
				   "developers are blocked.",
			"source", "webhook",
			"id", "batch_003", "customer_id", "cust_001",
			"subject", "Feature request: dark mode",
			"content", "I love the product! Would it be possible to add a dark mode to the "
				   "dashboard? Working late at night would be much easier on the eyes.",
			"source", "chat");
	if (!strcmp(which, "escalation"))
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:i, s:s, s:b}}",
			"id", "escalation_demo_001", "customer_id", "cust_003",
			"subject", "CRITICAL: Complete system outage affecting all users",
			"content", "Our entire organization cannot access the platform. All 500 users are "
				   "getting error 503 when trying to log in. This is causing massive business "
				   "disruption and we are losing revenue every minute. We need immediate "
				   "assistance!",
			"source", "phone",
			"metadata", "customer_tier", "enterprise", "users_affected", 500,
			"revenue_impact", "high", "urgent_flag", 1);
	return NULL;
}
