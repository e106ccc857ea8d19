/*
 * chat: the chat widget's channel (issue 17), what it says to a visitor
 * apart from HTTP. A site embeds web/widget.js, which opens web/chat/ in an
 * iframe from Frontline's origin; the visitor's browser talks to
 * /api/v1/chat/sessions (src/server/routes_chat.c) with a token that only
 * it holds. This module is the channel's rules, with no I/O: which origins
 * may talk to it (FRONTLINE_CHAT_ORIGINS), the ticket a first message
 * makes, what of a ticket's thread a visitor may see (the conversation:
 * never internal notes, analysis, drafts or replies awaiting approval) and
 * the visitor's view of a live event. docs/CHANNELS.md is the manual.
 */
#ifndef FL_CHAT_H
#define FL_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A message's text, at most this many bytes (the ticket's content rule is 10,000 characters). */
#define CHAT_TEXT_MAX 4000

/*
 * Whether origin (an Origin header: "https://shop.example.com", no path)
 * is in allowed, a list of origins separated by commas or spaces (the
 * value of FRONTLINE_CHAT_ORIGINS; NULL or empty allows none). Matching is
 * exact but for the scheme's and host's case, and "*." at the start of a
 * host in the list takes any subdomain (not the domain itself).
 */
bool chat_origin_allowed(const char *allowed, const char *origin);

/*
 * The Content-Security-Policy directive that lets the sites in allowed
 * (FRONTLINE_CHAT_ORIGINS' value, as chat_origin_allowed reads it) frame the
 * widget's page: "frame-ancestors 'self' <origin> ..." ('none' but 'self'
 * when allowed names none); entries that are not origins are left out.
 * Caller frees.
 */
char *chat_frame_ancestors(const char *allowed);

/*
 * The incoming ticket (for support_ticket_validate) that a session's first
 * message makes: channel chat, the customer the visitor's email (or
 * "chat:<session id>"), a subject from the first words, the text as
 * content, metadata {chat_session, customer_name?, customer_email?}.
 * session is a store chat session ({id, name, email}). New reference.
 */
json_t *chat_first_ticket(const json_t *session, const char *text);

/*
 * The visitor's view of a ticket's messages (store_message_list's array),
 * those with ids above after_id: [{id, from ("visitor" or "agent"),
 * automatic (the workflow's answer), text, at}]. Notes, replies awaiting
 * approval or declined, and anything else are left out. New reference.
 */
json_t *chat_visible_messages(const json_t *messages, int64_t after_id);

/*
 * What a visitor's live stream says of an audit event of its ticket
 * (type and data as the store wrote them): a Server-Sent Events text
 * ("event: message" with {message_id} for a message the visitor may see,
 * "event: status" {status} when chat_visitor_status changes: settled or reopened), or NULL for events a
 * visitor is not told of. The message itself is read with GET .../messages
 * (the stream never carries text the visitor's view has not filtered).
 * Caller frees; *len its length.
 */
char *chat_visitor_event(const char *type, const json_t *data, size_t *len);

/*
 * What a visitor is told of a ticket's status: "resolved" or "closed" as
 * they are, "open" for every other (the triage's statuses are the agents'),
 * NULL for none (no ticket yet).
 */
const char *chat_visitor_status(const char *status);

/*
 * The visitor's stream text for typing: who is "agent" or "visitor",
 * typing true or false. Caller frees; *len its length.
 */
char *chat_typing_event(const char *who, bool typing, size_t *len);

#endif
