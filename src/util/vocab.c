/*
 * The domain's vocabulary: the words that more than one layer says, written
 * once. Ticket channels, statuses and priorities, the job kinds of the
 * store's queue, the event names of the audit log and the integrations'
 * webhooks, and the ticket tag ("T-000042": Frontline's own number).
 *
 * They live in util, not in support (the domain module), because the layers
 * below support need them too: the store validates statuses and priorities
 * and resolves a tag to a ticket, and it may not include support. The rules
 * that use the words (which channel a ticket may come from, what a status
 * change means) stay with their modules; util.h lists the words.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

const char *const fl_channels[] = {
	FL_CHANNEL_EMAIL, FL_CHANNEL_CHAT, FL_CHANNEL_WEB, FL_CHANNEL_WEBHOOK, FL_CHANNEL_PHONE,
	FL_CHANNEL_API, NULL,
};

const char *const fl_statuses[] = {
	FL_STATUS_NEW, FL_STATUS_TRIAGING, FL_STATUS_AUTO_REPLIED, FL_STATUS_ESCALATED,
	FL_STATUS_WAITING, FL_STATUS_PENDING, FL_STATUS_RESOLVED, FL_STATUS_CLOSED, FL_STATUS_SPAM, NULL,
};

const char *const fl_priorities[] = {
	FL_PRIORITY_LOW, FL_PRIORITY_MEDIUM, FL_PRIORITY_HIGH, FL_PRIORITY_URGENT, NULL,
};

const char *const fl_user_roles[] = { FL_ROLE_AGENT, FL_ROLE_ADMIN, NULL };

const char *const fl_presence_states[] = {
	FL_PRESENCE_VIEWING, FL_PRESENCE_REPLYING, FL_PRESENCE_LEFT, NULL,
};

int fl_word_index(const char *const *set, const char *word)
{
	int i;

	for (i = 0; word && set[i]; i++)
		if (!strcmp(set[i], word))
			return i;
	return -1;
}

char *fl_words_join(const char *const *set, const char *sep)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	for (i = 0; set[i]; i++)
		fl_buf_addf(&b, "%s%s", i ? sep : "", set[i]);
	return fl_buf_detach(&b, NULL);
}

void fl_ticket_tag(char out[FL_TICKET_TAG_SIZE], int64_t number)
{
	snprintf(out, FL_TICKET_TAG_SIZE, FL_TICKET_TAG_FMT, (long long)number);
}

bool fl_ticket_tag_form(const char *s)
{
	const char *p;

	if (!s || strncmp(s, FL_TICKET_TAG_PREFIX, 2) || !s[2])
		return false;
	for (p = s + 2; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

int64_t fl_ticket_tag_parse(const char *s)
{
	int64_t n;

	if (!s || strncmp(s, FL_TICKET_TAG_PREFIX, 2) || !isdigit((unsigned char)s[2]))
		return -1;
	if (fl_parse_int64(s + 2, 1, INT64_MAX, &n))
		return -1;
	return n;
}
