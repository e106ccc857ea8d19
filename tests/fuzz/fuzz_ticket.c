/*
 * Fuzz target: the ticket intake. A request body as the API and the signed
 * webhook receive it goes through the server's body checks
 * (server__parse_json: UTF-8, nesting depth, JSON syntax, an object) and then
 * the ingestion rules every door runs (support_ticket_validate), as
 * server__ticket_intake does before the store.
 *
 * Checked: a refused body gets a 400 whose answer is the JSON error object;
 * a validated ticket has the fields and bounds support.h promises (strings
 * where strings are due; an id of 1 to 128 of [A-Za-z0-9._:-], the sender's
 * or generated; customer_id at most 128 characters without a line break
 * (other control characters are kept, as ticket.c says); subject at most
 * 500 characters; content 10 to 10,000 characters; a known channel; an
 * object of metadata at most 16 KiB as compact JSON and 8 levels deep;
 * status "new"; a readable created_at), encodes as JSON, and validates
 * again to the same ticket; a refused ticket has a refusal naming a field.
 */
#include <string.h>

#include "fuzz.h"
#include "server/server_int.h"
#include "support/support.h"

/* A fixed clock, so that a crash reproduces (2024-05-01T12:00:00Z). */
#define NOW_US (INT64_C(1714564800) * 1000000)

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* Nesting of arrays and objects (a scalar: 0). */
static int depth(const json_t *v)
{
	const json_t *x;
	const char *k;
	size_t i;
	int d = 0;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if (depth(x) > d)
				d = depth(x);
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (depth(x) > d)
				d = depth(x);
		return d + 1;
	}
	return 0;
}

static const char *str_field(const json_t *t, const char *key)
{
	const json_t *v = json_object_get(t, key);

	FUZZ_CHECK(json_is_string(v));
	FUZZ_CHECK(strlen(json_string_value(v)) == json_string_length(v));
	return json_string_value(v);
}

static void check_ticket(const json_t *t)
{
	const char *content = str_field(t, "content"), *subject = str_field(t, "subject");
	const char *id = str_field(t, "id"), *channel = str_field(t, "channel");
	int64_t at;

	const char *customer = str_field(t, "customer_id"), *p;
	const json_t *meta = json_object_get(t, "metadata");

	FUZZ_CHECK(*customer && chars(customer) <= 128 && !strpbrk(customer, "\r\n"));
	FUZZ_CHECK(chars(content) >= 10 && chars(content) <= 10000);
	FUZZ_CHECK(*subject && chars(subject) <= 500);
	FUZZ_CHECK(*id && strlen(id) <= 128);
	for (p = id; *p; p++)
		FUZZ_CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", *p));
	FUZZ_CHECK(fl_word_index(fl_channels, channel) >= 0);
	FUZZ_CHECK(json_is_object(meta));
	FUZZ_CHECK(depth(meta) <= 8 && json_dumpb(meta, NULL, 0, JSON_COMPACT) <= 16384);
	FUZZ_CHECK(!strcmp(str_field(t, "status"), FL_STATUS_NEW));
	FUZZ_CHECK(!fl_time_parse(str_field(t, "created_at"), &at));
	FUZZ_CHECK(fl_utf8_invalid_at(content, strlen(content)) < 0);
}

static void check_refusal(const json_t *errors)
{
	json_t *refusal = support_ticket_refusal(errors);
	char *text = support_errors_text(errors);

	FUZZ_CHECK(json_array_size(errors) > 0);
	FUZZ_CHECK(json_is_string(json_object_get(refusal, "field")));
	FUZZ_CHECK(!strcmp(fl_json_str(refusal, "code", ""), SUPPORT_REFUSAL_CODE));
	FUZZ_CHECK(*text);
	free(text);
	json_decref(refusal);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_req r;
	json_t *in, *ticket = NULL, *errors = NULL;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = "/api/v1/tickets";
	in = server__parse_json(&r, (const char *)data, size, 32, true);
	if (!in) {
		json_t *answer;

		FUZZ_CHECK(r.responded && r.status == 400);
		answer = json_loadb(r.resp, r.resp_len, 0, NULL);
		FUZZ_CHECK(json_is_string(json_object_get(json_object_get(answer, "error"), "code")));
		json_decref(answer);
		FUZZ_CHECK(!r.nheaders);
		free(r.resp);
		return 0;
	}
	FUZZ_CHECK(!r.responded);
	if (support_ticket_validate(in, NOW_US, &ticket, &errors) == SUPPORT_OK) {
		json_t *again = NULL, *errors2 = NULL;
		char *text;

		FUZZ_CHECK(ticket && !errors);
		check_ticket(ticket);
		text = fl_json_dumps(ticket);
		FUZZ_CHECK(text);
		free(text);
		/* the normalized ticket is a fixed point of the rules */
		FUZZ_CHECK(support_ticket_validate(ticket, NOW_US, &again, &errors2) == SUPPORT_OK);
		FUZZ_CHECK(json_equal(ticket, again));
		json_decref(again);
	} else {
		FUZZ_CHECK(!ticket && errors);
		check_refusal(errors);
	}
	json_decref(ticket);
	json_decref(errors);
	json_decref(in);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}
