/*
 * A customer's export and erasure (store_customer_export, _erase) against
 * every backend (store_fixture.h). The erasure test stores a customer's
 * data everywhere it can go (record, two tickets, one filed under the
 * email address, inbound and outbound messages, an attachment, a raw
 * email, events, an escalation, a job, a notification, a rate counter),
 * then reads every column of every table of the database behind the
 * store's back (sqlite_master and PRAGMA table_info on SQLite, FTS5's
 * shadow tables included; information_schema on PostgreSQL, the tsvector
 * included) for each erased value: before the erasure the values are
 * found (in the search index too), after it nowhere, while another
 * customer's ticket keeps its text and the erased tickets their numbers.
 */
#include "test_helpers.h"

#include <sodium.h>
#include <sqlite3.h>
#include <libpq-fe.h>

#include "store_fixture.h"

/* The erased values (lower case: the scan compares in lower case). */
static const char *const secrets[] = {
	"zabrisk", "quentin", "xk7781234", "99887766", "gdpr-attachment-bytes", NULL,
};

#define EMAIL "Quentin.Zabriskie@Example.org"
#define RAW "From: Quentin Zabriskie <" EMAIL ">\r\nSubject: passport\r\n\r\nMy passport is XK7781234.\r\n"

/* Adds "table.column" to found for each column holding needle (lower case), on SQLite. */
static void scan_sqlite(const char *url, const char *needle, json_t *found)
{
	char *path = fl_strdup(url + strlen("sqlite://"));
	sqlite3 *db = NULL;
	sqlite3_stmt *tables = NULL, *cols = NULL, *q = NULL;

	*strchrnul(path, '?') = '\0';
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
					    &tables, NULL), SQLITE_OK);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(tables, 0);
		char *sql = sqlite3_mprintf("SELECT name FROM pragma_table_info(%Q)", t);

		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &cols, NULL), SQLITE_OK);
		sqlite3_free(sql);
		while (sqlite3_step(cols) == SQLITE_ROW) {
			const char *col = (const char *)sqlite3_column_text(cols, 0);

			sql = sqlite3_mprintf("SELECT count(*) FROM \"%w\" WHERE instr(lower(CAST(\"%w\" AS TEXT)), ?) > 0",
					      t, col);
			if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
				fail_msg("%s: %s", sql, sqlite3_errmsg(db));
			sqlite3_bind_text(q, 1, needle, -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(q), SQLITE_ROW);
			if (sqlite3_column_int64(q, 0) > 0)
				json_array_append_new(found, json_sprintf("%s.%s", t, col));
			sqlite3_finalize(q);
			sqlite3_free(sql);
		}
		sqlite3_finalize(cols);
	}
	sqlite3_finalize(tables);
	sqlite3_close(db);
	free(path);
}

/* The same on PostgreSQL: every column of every table of the schema, bytea read as its bytes. */
static void scan_postgres(const char *url, const char *needle, json_t *found)
{
	PGconn *c = PQconnectdb(url);
	PGresult *cols;
	int i;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	cols = PQexec(c, "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
		      " JOIN information_schema.tables t ON t.table_schema = c.table_schema"
		      "  AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'"
		      " WHERE c.table_schema = current_schema()");
	assert_int_equal(PQresultStatus(cols), PGRES_TUPLES_OK);
	assert_true(PQntuples(cols) > 50);
	for (i = 0; i < PQntuples(cols); i++) {
		const char *t = PQgetvalue(cols, i, 0), *col = PQgetvalue(cols, i, 1);
		bool bytes = !strcmp(PQgetvalue(cols, i, 2), "bytea");
		char *et = PQescapeIdentifier(c, t, strlen(t)), *ec = PQescapeIdentifier(c, col, strlen(col));
		char *sql = fl_asprintf(bytes ? "SELECT count(*) FROM %s WHERE strpos(lower(encode(%s, 'escape')), $1) > 0"
					: "SELECT count(*) FROM %s WHERE strpos(lower(%s::text), $1) > 0", et, ec);
		const char *params[1] = { needle };
		PGresult *r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);

		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		if (strcmp(PQgetvalue(r, 0, 0), "0"))
			json_array_append_new(found, json_sprintf("%s.%s", t, col));
		PQclear(r);
		free(sql);
		PQfreemem(et);
		PQfreemem(ec);
	}
	PQclear(cols);
	PQfinish(c);
}

/* The columns (table.column) holding any of the secrets, as a JSON array (kept until teardown). */
static json_t *scan(struct fx *f)
{
	json_t *found = fx_keep(json_array());
	size_t i;

	for (i = 0; secrets[i]; i++) {
		if (fl_str_has_prefix(f->url, "sqlite://"))
			scan_sqlite(f->url, secrets[i], found);
		else
			scan_postgres(f->url, secrets[i], found);
	}
	return found;
}

static bool holds(const json_t *found, const char *column)
{
	size_t i;
	json_t *v;

	json_array_foreach(found, i, v)
		if (!strcmp(json_string_value(v), column))
			return true;
	return false;
}

static const char *join(const json_t *found)
{
	return json_string_value(fx_keep(json_string_nocheck(json_dumps(found, JSON_COMPACT))));
}

static int64_t number_of(struct store *st, const char *id)
{
	json_t *t = NULL;
	int64_t n;

	OK(store_ticket_get(st, id, false, &t));
	n = fl_json_int(t, "number", 0);
	json_decref(t);
	return n;
}

/* Stores the customer's data in every place it goes; returns the first ticket's id (kept). */
static const char *populate(struct store *st)
{
	json_t *t = NULL, *raw = NULL;
	char hex[65];
	const char *id1, *id2;
	int64_t hits = 0;
	bool created;

	OK(store_customer_upsert(st, J("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", "cust-qz", "name",
				       "Quentin Zabriskie", "email", EMAIL, "tier", "premium", "metadata", "phone",
				       "+49 151 99887766")));
	OK(store_ticket_intake(st, J("{s:s, s:s, s:s, s:s, s:{s:s}}", "channel", "api", "customer_id", "cust-qz",
				     "subject", "Refund for Zabriskie order", "content",
				     "My passport number is XK7781234, call +49 151 99887766", "metadata",
				     "customer_name", "Quentin Zabriskie"), "triage", NULL, &t, &created));
	id1 = json_string_value(fx_keep(json_incref(json_object_get(t, "id"))));
	json_decref(t);
	/* a first-time sender's ticket is filed under the address */
	OK(store_ticket_intake(st, J("{s:s, s:s, s:s, s:s}", "channel", "email", "customer_id",
				     "quentin.zabriskie@example.org", "subject", "Passport again", "content",
				     "Still about XK7781234"), "triage", NULL, &t, &created));
	id2 = json_string_value(fx_keep(json_incref(json_object_get(t, "id"))));
	json_decref(t);
	OK(store_message_add(st, id1, J("{s:s, s:s, s:s}", "direction", "outbound", "author", "agent@support",
					 "body", "Hello Quentin, we received XK7781234."), NULL, NULL));
	OK(store_blob_put(st, "gdpr-attachment-bytes", 21, "text/plain", hex, NULL));
	OK(store_message_add(st, id1, J("{s:s, s:s, s:s, s:{s:{s:[{s:s, s:s}]}}}", "direction", "inbound",
					 "author", "cust-qz", "body", "Attached, Quentin", "metadata", "email",
					 "attachments", "filename", "scan.txt", "sha256", hex), NULL, NULL));
	OK(store_mail_raw_put(st, RAW, strlen(RAW), "imap", &raw, NULL));
	OK(store_mail_raw_finish(st, fl_json_int(raw, "id", 0), "ticket", id2, NULL));
	json_decref(raw);
	OK(store_event_append(st, id1, "ticket.updated", EMAIL, J("{s:s, s:s, s:s}", "field", "subject", "from",
								  "x", "to", "Refund for Zabriskie order")));
	OK(store_event_append(st, id1, "ticket.status", "agent@support",
			      J("{s:s, s:s, s:s}", "field", "status", "from", "new", "to", "open")));
	OK(store_escalation_open(st, id2, "high", "billing", J("{s:s}", "summary", "Quentin's passport XK7781234"),
				 NULL, NULL));
	OK(store_job_enqueue(st, "notify", id1, J("{s:s}", "text", "Quentin Zabriskie waits"), 3, 0, NULL));
	OK(store_outbox_enqueue(st, "email", EMAIL, J("{s:s, s:s}", "ticket_id", id1, "body", "Dear Quentin"),
				NULL, NULL));
	OK(store_rate_hit(st, "email-in:quentin.zabriskie@example.org", 3600, &hits));
	return id1;
}

static void test_store_customer_export_has_everything(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	json_t *x = NULL, *tickets, *raw;
	const char *id1 = populate(st);
	unsigned char bin[512];
	size_t len = 0;

	OK(store_customer_export(st, "cust-qz", &x));
	fx_keep(x);
	assert_string_equal(fl_json_str(json_object_get(x, "customer"), "name", ""), "Quentin Zabriskie");
	tickets = json_object_get(x, "tickets");
	/* both tickets: by id and by the record's address */
	assert_int_equal(json_array_size(tickets), 2);
	assert_string_equal(fl_json_str(json_array_get(tickets, 0), "id", ""), id1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(tickets, 0), "messages")), 3);
	assert_true(json_array_size(json_object_get(json_array_get(tickets, 0), "events")) >= 3);
	assert_int_equal(json_array_size(json_object_get(json_array_get(tickets, 1), "escalations")), 1);
	raw = json_array_get(json_object_get(x, "raw_emails"), 0);
	assert_non_null(raw);
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), fl_json_str(raw, "data_base64", ""),
					   strlen(fl_json_str(raw, "data_base64", "")), NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(len, strlen(RAW));
	assert_memory_equal(bin, RAW, len);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(x, "attachments"), 0), "data_base64", ""),
			    "Z2Rwci1hdHRhY2htZW50LWJ5dGVz");
	assert_true(json_is_array(json_object_get(x, "survey_answers")));
	assert_int_equal(store_customer_export(st, "nobody", &x), STORE_ENOTFOUND);
	assert_null(x);
}

static void test_store_customer_erase_leaves_nothing_in_any_column(void **state)
{
	struct fx *f = *state;
	struct store *st = f->st;
	struct store_ticket_filter q = { .query = "XK7781234" };
	json_t *other = NULL, *res = NULL, *page = NULL, *t = NULL, *found, *events = NULL, *c = NULL;
	const char *id1;
	int64_t n1;
	const char *pseudonym;
	bool sqlite = fl_str_has_prefix(f->url, "sqlite://");

	id1 = populate(st);
	n1 = number_of(st, id1);

	OK(store_ticket_intake(st, J("{s:s, s:s, s:s, s:s}", "channel", "api", "customer_id", "someone-else",
				     "subject", "Invoice", "content", "Please resend invoice 4711"), "triage", NULL,
			       &other, NULL));
	fx_keep(other);
	/* the scan sees every place, the search index included */
	found = scan(f);
	assert_true(holds(found, "customers.name"));
	assert_true(holds(found, "tickets.content"));
	assert_true(holds(found, "messages.body"));
	assert_true(holds(found, "blobs.data"));
	assert_true(holds(found, "outbox.target"));
	assert_true(holds(found, "rate_hits.key"));
	assert_true(holds(found, sqlite ? "tickets_fts_data.block" : "tickets.search"));
	OK(store_ticket_list(st, &q, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 2);
	json_decref(page);

	OK(store_customer_erase(st, "cust-qz", "admin@example.com", &res));
	fx_keep(res);
	pseudonym = fl_json_str(res, "customer", "");
	assert_true(fl_str_has_prefix(pseudonym, "erased-"));
	assert_int_equal(fl_json_int(res, "tickets", 0), 2);
	assert_int_equal(fl_json_int(res, "messages", 0), 4);
	assert_int_equal(fl_json_int(res, "raw_emails", 0), 1);
	assert_int_equal(fl_json_int(res, "blobs", 0), 2);
	assert_int_equal(fl_json_int(res, "notifications", 0), 1);
	assert_string_equal(fl_json_str(res, "erased_by", ""), "admin@example.com");

	found = scan(f);
	if (json_array_size(found))
		fail_msg("erased values remain in %s", join(found));
	OK(store_ticket_list(st, &q, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 0);
	json_decref(page);
	/* the ticket stays, with its number and status, its text a marker, under the pseudonym */
	OK(store_ticket_get(st, id1, true, &t));
	fx_keep(t);
	assert_int_equal(fl_json_int(t, "number", 0), n1);
	assert_string_equal(fl_json_str(t, "subject", ""), STORE_ERASED_MARKER);
	assert_string_equal(fl_json_str(t, "customer_id", ""), pseudonym);
	assert_string_equal(fl_json_str(json_array_get(json_object_get(t, "messages"), 0), "body", ""),
			    STORE_ERASED_MARKER);
	/* the record keeps its metrics */
	OK(store_customer_get(st, pseudonym, &c));
	fx_keep(c);
	assert_string_equal(fl_json_str(c, "tier", ""), "premium");
	assert_true(json_is_null(json_object_get(c, "email")) || !json_object_get(c, "email"));
	/* a plain field change stays; the audit event says who and how much */
	OK(store_event_list(st, id1, 50, &events));
	fx_keep(events);
	{
		size_t i;
		json_t *e;
		bool kept = false;

		json_array_foreach(events, i, e)
			kept = kept || !strcmp(fl_json_str(json_object_get(e, "data"), "to", ""), "open");
		assert_true(kept);
	}
	OK(store_event_list(st, NULL, 1, &events));
	fx_keep(events);
	assert_string_equal(fl_json_str(json_array_get(events, 0), "type", ""), "customer.erased");
	assert_string_equal(fl_json_str(json_array_get(events, 0), "actor", ""), "admin@example.com");
	/* the other customer's ticket is untouched and still found */
	q.query = "invoice";
	OK(store_ticket_list(st, &q, &page));
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), 1);
	json_decref(page);
	OK(store_ticket_get(st, fl_json_str(other, "id", ""), false, &t));
	fx_keep(t);
	assert_string_equal(fl_json_str(t, "content", ""), "Please resend invoice 4711");
	/* gone by the old id */
	assert_int_equal(store_customer_export(st, "cust-qz", &res), STORE_ENOTFOUND);
	assert_int_equal(store_customer_erase(st, "cust-qz", "admin@example.com", NULL), STORE_ENOTFOUND);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		FX_TEST(test_store_customer_export_has_everything),
		FX_TEST(test_store_customer_erase_leaves_nothing_in_any_column),
	};

	return FX_RUN("store_privacy", tests) ? 1 : 0;
}
