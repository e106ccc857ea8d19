/*
 * POST /webhooks/tickets: the seed's create_ticket_from_webhook, signed.
 * The payload is {customer_id, subject, content, id?, source?, metadata?};
 * the phone channel is the same endpoint with source "phone" and the call's
 * transcript as content. Answers 202 {"id", "status": "new"} once the
 * ticket and its job are durable (200 with "duplicate": true for a repeat).
 */
#include "server_int.h"

static void create(struct server_req *r)
{
	server__ticket_intake(r, r->json, "web", 202);
}

const struct server_route server__webhook_routes[] = {
	{ "POST", "/webhooks/tickets", create, SERVER_ROLE_SIGNED,
	  SERVER_ROUTE_JSON_BODY | SERVER_ROUTE_RAW_BODY | SERVER_ROUTE_NO_STORE,
	  "receive a ticket (HMAC-signed webhook; idempotent)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
