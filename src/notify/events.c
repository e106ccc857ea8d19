/*
 * Ticket events for integrations: one outbox item per configured webhook
 * URL (FRONTLINE_EVENT_WEBHOOK_URLS), enqueued in the caller's transaction.
 * The notices are support's (support_notice_ticket_event builds the payload,
 * a small, stable projection of the ticket); this is the entry point the
 * service's workers and the API's handlers call.
 */
#include "notify_int.h"
#include "support/support.h"

int notify_ticket_event(struct store *st, const char *event, const json_t *ticket,
			const char *occurrence)
{
	json_t *notices = json_array();
	int rc;

	support_notice_ticket_event(notices, event, ticket, occurrence, fl_wall_us());
	rc = support_notices_enqueue(st, notices);
	json_decref(notices);
	return rc;
}
