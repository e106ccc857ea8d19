/*
 * PostgreSQL schema: the same numbered migrations as sqlite/schema.c, in
 * PostgreSQL's dialect, applied by store__sql_migrate (sql.c) inside one
 * transaction under an advisory lock. The version is a one-row table,
 * frontline_schema.
 *
 * Dialect choices: times are bigint microseconds; JSON is jsonb; ticket
 * numbers come from a sequence; full-text search is a stored generated
 * tsvector ('english' stemming, like SQLite's porter tokenizer) with a GIN
 * index; the job and outbox queues keep due_at under partial indexes that
 * FOR UPDATE SKIP LOCKED claims walk in order.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_int.h"

static const char *const migrations[] = {
	NULL, /* version 0: empty */
	/* 1: the initial schema */
	"CREATE SEQUENCE tickets_number_seq;"
	"CREATE TABLE tickets ("
	"  number bigint PRIMARY KEY,"
	"  id text NOT NULL UNIQUE,"
	"  external_id text,"
	"  channel text NOT NULL,"
	"  customer_id text,"
	"  subject text NOT NULL,"
	"  content text NOT NULL,"
	"  metadata jsonb NOT NULL DEFAULT '{}',"
	"  status text NOT NULL DEFAULT 'new',"
	"  sentiment text, category text, priority text, assigned_department text, assignee text,"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  first_response_at bigint,"
	"  resolved_at bigint,"
	"  satisfaction double precision,"
	"  version bigint NOT NULL DEFAULT 1,"
	"  analysis jsonb NOT NULL DEFAULT '{}',"
	"  trace jsonb NOT NULL DEFAULT '[]',"
	"  quarantined boolean NOT NULL DEFAULT false,"
	"  search tsvector GENERATED ALWAYS AS"
	"    (to_tsvector('english', subject || ' ' || content)) STORED,"
	"  UNIQUE (channel, external_id)"
	");"
	"ALTER SEQUENCE tickets_number_seq OWNED BY tickets.number;"
	/* As on SQLite: no index for priority, category and channel alone (see sqlite/schema.c). */
	"CREATE INDEX tickets_status ON tickets (status, number);"
	"CREATE INDEX tickets_assignee ON tickets (assignee, number);"
	"CREATE INDEX tickets_customer ON tickets (customer_id, number);"
	"CREATE INDEX tickets_created ON tickets (created_at);"
	"CREATE INDEX tickets_search ON tickets USING gin (search);"
	"CREATE TABLE idempotency_keys ("
	"  key text PRIMARY KEY,"
	"  ticket_number bigint NOT NULL REFERENCES tickets (number) DEFERRABLE INITIALLY DEFERRED,"
	"  created_at bigint NOT NULL"
	");"
	"CREATE TABLE messages ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  ticket_number bigint NOT NULL REFERENCES tickets (number),"
	"  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),"
	"  author text,"
	"  body text NOT NULL,"
	"  created_at bigint NOT NULL,"
	"  email_message_id text,"
	"  in_reply_to text,"
	"  effect_key text,"
	"  metadata jsonb NOT NULL DEFAULT '{}',"
	"  UNIQUE (ticket_number, effect_key)"
	");"
	"CREATE INDEX messages_ticket ON messages (ticket_number, id);"
	"CREATE INDEX messages_email ON messages (email_message_id) WHERE email_message_id IS NOT NULL;"
	"CREATE TABLE customers ("
	"  id text PRIMARY KEY,"
	"  name text, email text, tier text,"
	"  joined_at bigint,"
	"  total_tickets bigint NOT NULL DEFAULT 0,"
	"  satisfaction_score double precision,"
	"  metadata jsonb NOT NULL DEFAULT '{}',"
	"  updated_at bigint NOT NULL"
	");"
	"CREATE INDEX customers_email ON customers (lower(email));"
	"CREATE TABLE kb_articles ("
	"  id text PRIMARY KEY,"
	"  title text NOT NULL,"
	"  content text NOT NULL,"
	"  category text,"
	"  tags jsonb NOT NULL DEFAULT '[]',"
	"  views bigint NOT NULL DEFAULT 0,"
	"  helpful_votes bigint NOT NULL DEFAULT 0,"
	"  updated_at bigint NOT NULL"
	");"
	"CREATE TABLE escalations ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  ticket_number bigint NOT NULL REFERENCES tickets (number),"
	"  status text NOT NULL CHECK (status IN ('open', 'claimed', 'closed')),"
	"  priority text NOT NULL,"
	"  rank integer NOT NULL,"
	"  department text,"
	"  package jsonb NOT NULL DEFAULT '{}',"
	"  agent text,"
	"  created_at bigint NOT NULL,"
	"  claimed_at bigint,"
	"  closed_at bigint,"
	"  resolution text"
	");"
	"CREATE UNIQUE INDEX escalations_one_open ON escalations (ticket_number) WHERE status <> 'closed';"
	"CREATE INDEX escalations_queue ON escalations (status, rank, created_at, id);"
	"CREATE INDEX escalations_ticket ON escalations (ticket_number);"
	"CREATE TABLE events ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  ticket_number bigint REFERENCES tickets (number),"
	"  type text NOT NULL,"
	"  actor text,"
	"  data jsonb NOT NULL DEFAULT '{}',"
	"  created_at bigint NOT NULL"
	");"
	"CREATE INDEX events_ticket ON events (ticket_number, id) WHERE ticket_number IS NOT NULL;"
	"CREATE TABLE outbox ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  channel text NOT NULL,"
	"  target text NOT NULL,"
	"  payload jsonb NOT NULL DEFAULT '{}',"
	"  status text NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),"
	"  attempts integer NOT NULL DEFAULT 0,"
	"  due_at bigint,"
	"  lease_owner text,"
	"  last_error text,"
	"  dedupe_key text UNIQUE,"
	"  created_at bigint NOT NULL,"
	"  sent_at bigint"
	");"
	"CREATE INDEX outbox_due ON outbox (due_at, id) WHERE status IN ('pending', 'sending');"
	"CREATE INDEX outbox_status ON outbox (status, id);"
	"CREATE TABLE jobs ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  kind text NOT NULL,"
	"  ticket_number bigint REFERENCES tickets (number),"
	"  payload jsonb NOT NULL DEFAULT '{}',"
	"  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),"
	"  attempts integer NOT NULL DEFAULT 0,"
	"  max_attempts integer NOT NULL,"
	"  run_at bigint NOT NULL,"
	"  due_at bigint,"
	"  lease_owner text,"
	"  lease_until bigint,"
	"  last_error text,"
	"  dedupe_key text,"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  finished_at bigint"
	");"
	"CREATE INDEX jobs_due ON jobs (due_at, id) WHERE status IN ('queued', 'running');"
	"CREATE UNIQUE INDEX jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND status <> 'done';"
	"CREATE INDEX jobs_status ON jobs (status, id);"
	"CREATE TABLE api_tokens ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  name text NOT NULL,"
	"  role text NOT NULL CHECK (role IN ('admin', 'agent', 'integration')),"
	"  hash text NOT NULL UNIQUE,"
	"  created_at bigint NOT NULL,"
	"  last_used_at bigint,"
	"  revoked boolean NOT NULL DEFAULT false"
	");",
	/* 2: the email channel: blobs, raw mail, IMAP state, rate hits */
	"CREATE TABLE blobs ("
	"  sha256 text PRIMARY KEY,"
	"  size bigint NOT NULL,"
	"  content_type text,"
	"  data bytea NOT NULL,"
	"  created_at bigint NOT NULL"
	");"
	"CREATE TABLE mail_raw ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  sha256 text NOT NULL UNIQUE REFERENCES blobs (sha256),"
	"  size bigint NOT NULL,"
	"  source text NOT NULL,"
	"  status text NOT NULL DEFAULT 'received' CHECK (status IN"
	"    ('received', 'ticket', 'appended', 'duplicate', 'quarantined', 'failed')),"
	"  ticket_number bigint REFERENCES tickets (number),"
	"  error text,"
	"  received_at bigint NOT NULL,"
	"  processed_at bigint"
	");"
	"CREATE INDEX mail_raw_status ON mail_raw (status, id);"
	"CREATE TABLE imap_state ("
	"  mailbox text PRIMARY KEY,"
	"  uidvalidity bigint NOT NULL,"
	"  last_uid bigint NOT NULL,"
	"  updated_at bigint NOT NULL"
	");"
	"CREATE TABLE rate_hits ("
	"  key text NOT NULL,"
	"  at bigint NOT NULL"
	");"
	"CREATE INDEX rate_hits_key ON rate_hits (key, at);"
	"CREATE INDEX rate_hits_at ON rate_hits (at);",
	/* 3: the service: monitoring alerts (locks are advisory locks) */
	"CREATE TABLE alerts ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  type text NOT NULL,"
	"  severity text NOT NULL,"
	"  metric text,"
	"  message text NOT NULL,"
	"  value double precision,"
	"  threshold double precision,"
	"  status text NOT NULL CHECK (status IN ('active', 'resolved')),"
	"  observations integer NOT NULL DEFAULT 1,"
	"  raised_at bigint NOT NULL,"
	"  last_seen_at bigint NOT NULL,"
	"  resolved_at bigint"
	");"
	"CREATE UNIQUE INDEX alerts_one_active ON alerts (type) WHERE status = 'active';"
	"CREATE INDEX alerts_status ON alerts (status, id);",
	/* 4: the triage queue (new and urgent) by status with priority */
	"CREATE INDEX tickets_status_priority ON tickets (status, priority, number);",
	/* 5: nothing here (SQLite indexes new tickets' text once per transaction) */
	NULL,
	/* 6: nothing here (SQLite's CHECKs with IN lists built a temporary b-tree per row) */
	NULL,
	/* 7: the language the triage detected (issue 15): on the ticket and its summary */
	"ALTER TABLE tickets ADD COLUMN language text;",
	/*
	 * 8: hardening: a message from someone other than the ticket's customer
	 * awaits an agent's approval; the server's own secrets (the key of the
	 * email threads' per-ticket secrets); a notification's attempt in flight
	 */
	"ALTER TABLE messages ADD COLUMN approval text CHECK (approval IN ('pending', 'approved', 'declined'));"
	"CREATE TABLE secrets ("
	"  name text PRIMARY KEY,"
	"  value bytea NOT NULL,"
	"  created_at bigint NOT NULL"
	");"
	"ALTER TABLE outbox ADD COLUMN started_at bigint;",
	/* 9: the language an article is written in (issue 15): a ticket is searched in its own */
	"ALTER TABLE kb_articles ADD COLUMN language text NOT NULL DEFAULT 'en';",
	/*
	 * 10: the console: users, sessions, failed sign-ins, presence, canned
	 * responses; the queues' indexes (as on SQLite: open is neither
	 * resolved, closed nor spam); the triage's language (migration 7) gets
	 * an index.
	 */
	"CREATE TABLE users ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  email text NOT NULL UNIQUE,"
	"  name text NOT NULL,"
	"  role text NOT NULL CHECK (role IN ('agent', 'admin')),"
	"  department text,"
	"  skills jsonb NOT NULL DEFAULT '{}',"
	"  disabled boolean NOT NULL DEFAULT false,"
	"  password_hash text NOT NULL,"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  last_seen_at bigint"
	");"
	"CREATE TABLE sessions ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  hash text NOT NULL UNIQUE,"
	"  address text,"
	"  created_at bigint NOT NULL,"
	"  last_seen_at bigint NOT NULL,"
	"  expires_at bigint NOT NULL"
	");"
	"CREATE INDEX sessions_user ON sessions (user_id);"
	"CREATE INDEX sessions_expires ON sessions (expires_at);"
	"CREATE INDEX sessions_seen ON sessions (last_seen_at);"
	"CREATE TABLE login_failures ("
	"  key text NOT NULL,"
	"  at bigint NOT NULL"
	");"
	"CREATE INDEX login_failures_key ON login_failures (key, at);"
	"CREATE INDEX login_failures_at ON login_failures (at);"
	"CREATE TABLE presence ("
	"  ticket_number bigint NOT NULL REFERENCES tickets (number),"
	"  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	"  state text NOT NULL CHECK (state IN ('viewing', 'replying', 'left')),"
	"  updated_at bigint NOT NULL,"
	"  PRIMARY KEY (ticket_number, user_id)"
	");"
	"CREATE INDEX presence_updated ON presence (updated_at);"
	"CREATE TABLE canned_responses ("
	"  id text PRIMARY KEY,"
	"  title text NOT NULL,"
	"  body text NOT NULL,"
	"  updated_by text,"
	"  updated_at bigint NOT NULL"
	");"
	"CREATE INDEX events_corrected ON events (created_at) WHERE type = 'ticket.corrected';"
	"CREATE INDEX tickets_language ON tickets (language, number) WHERE language IS NOT NULL;"
	"CREATE INDEX tickets_open ON tickets (number)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';"
	"CREATE INDEX tickets_open_assignee ON tickets (assignee, number)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';"
	"CREATE INDEX tickets_open_department ON tickets (assigned_department, number)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';",
	/* 11: the satisfaction survey (issue 17; see the SQLite migration) */
	"CREATE TABLE surveys ("
	"  ticket_number bigint PRIMARY KEY REFERENCES tickets (number),"
	"  token_hash text NOT NULL UNIQUE,"
	"  customer_id text,"
	"  sent_at bigint NOT NULL,"
	"  expires_at bigint NOT NULL,"
	"  score integer CHECK (score BETWEEN 1 AND 5),"
	"  comment text,"
	"  answered_at bigint"
	");"
	"CREATE INDEX surveys_answered ON surveys (answered_at) WHERE answered_at IS NOT NULL;",
	/* 12: SLA calendars and policies, and every version written (as on SQLite) */
	"CREATE TABLE sla_objects ("
	"  kind text NOT NULL CHECK (kind IN ('calendar', 'policy')),"
	"  id text NOT NULL,"
	"  position bigint NOT NULL,"
	"  body text NOT NULL,"
	"  version bigint NOT NULL,"
	"  updated_by text,"
	"  updated_at bigint NOT NULL,"
	"  PRIMARY KEY (kind, id)"
	");"
	"CREATE TABLE sla_versions ("
	"  kind text NOT NULL,"
	"  id text NOT NULL,"
	"  position bigint NOT NULL,"
	"  body text,"
	"  version bigint NOT NULL,"
	"  updated_by text,"
	"  updated_at bigint NOT NULL,"
	"  PRIMARY KEY (kind, id, version)"
	");",
	/*
	 * 13: chat sessions (issue 17): a visitor's token kept as its SHA-256,
	 * the ticket its first message made, whether it goes on by email.
	 */
	"CREATE TABLE chat_sessions ("
	"  id text PRIMARY KEY,"
	"  token_hash text NOT NULL UNIQUE,"
	"  name text,"
	"  email text,"
	"  by_email boolean NOT NULL DEFAULT false,"
	"  address text,"
	"  ticket_number bigint UNIQUE REFERENCES tickets(number),"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL"
	");",
	/*
	 * 14: macros (issue 18): named sets of actions agents apply to a
	 * ticket, the actions one JSON array.
	 */
	"CREATE TABLE macros ("
	"  name text PRIMARY KEY,"
	"  description text,"
	"  actions text NOT NULL,"
	"  updated_by text,"
	"  updated_at bigint NOT NULL"
	");",
	/* 15: assignment (issue 18): as on SQLite */
	"ALTER TABLE users ADD COLUMN availability text NOT NULL DEFAULT 'offline'"
	"  CHECK (availability IN ('available', 'away', 'offline'));"
	"ALTER TABLE users ADD COLUMN max_open bigint CHECK (max_open >= 0);"
	"ALTER TABLE users ADD COLUMN last_assigned_at bigint;"
	"CREATE INDEX users_department ON users (department) WHERE department IS NOT NULL;"
	"CREATE TABLE departments ("
	"  id text PRIMARY KEY,"
	"  assignment text NOT NULL DEFAULT 'load' CHECK (assignment IN ('off', 'round_robin', 'load')),"
	"  max_open_per_agent bigint CHECK (max_open_per_agent >= 0),"
	"  rr_cursor bigint NOT NULL DEFAULT 0,"
	"  updated_by text,"
	"  updated_at bigint"
	");",
	/* 16: the KB sync's bookkeeping (issue 18): an article's source and the hash of its content as imported */
	"ALTER TABLE kb_articles ADD COLUMN source text;"
	"ALTER TABLE kb_articles ADD COLUMN source_hash text;",
	/* 17: phone calls, customers by phone number, chat typing (issue 17; see the SQLite migration) */
	"CREATE TABLE calls ("
	"  provider text NOT NULL,"
	"  call_id text NOT NULL,"
	"  from_number text,"
	"  to_number text,"
	"  status text NOT NULL,"
	"  status_rank integer NOT NULL,"
	"  transcript text,"
	"  recording_url text,"
	"  ticket_number bigint REFERENCES tickets (number),"
	"  created_at bigint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  PRIMARY KEY (provider, call_id)"
	");"
	"CREATE INDEX calls_ticket ON calls (ticket_number) WHERE ticket_number IS NOT NULL;"
	"CREATE INDEX customers_phone ON customers ((" PG_CUSTOMER_PHONE "));"
	"ALTER TABLE chat_sessions ADD COLUMN typing boolean NOT NULL DEFAULT false,"
	"  ADD COLUMN typing_at bigint;"
	"CREATE INDEX chat_sessions_typing ON chat_sessions (typing_at) WHERE typing_at IS NOT NULL;",
};

_Static_assert(FL_ARRAY_SIZE(migrations) == STORE__SCHEMA_VERSION + 1,
	       "one PostgreSQL migration per schema version");

int pg_schema_read(struct store__sql *c, int *version, bool *foreign)
{
	int64_t v = 0;
	int rc;

	*version = 0;
	if (foreign)
		*foreign = false;
	rc = store__sql_int(c, &v, "SELECT (to_regclass('frontline_schema') IS NOT NULL)::int", NULL);
	if (rc)
		return rc;
	if (!v)
		return STORE_OK;
	rc = store__sql_int(c, &v, "SELECT version FROM frontline_schema", NULL);
	if (rc == STORE_ENOTFOUND)
		return STORE_OK;
	if (!rc)
		*version = (int)v;
	return rc;
}

int pg_schema_apply(struct store__sql *c, int from)
{
	struct pg *p = PG(c);
	int v, rc;

	rc = pg_control(c, "CREATE TABLE IF NOT EXISTS frontline_schema ("
			"  one boolean PRIMARY KEY DEFAULT true CHECK (one),"
			"  version integer NOT NULL,"
			"  migrated_at bigint NOT NULL)");
	for (v = from + 1; !rc && v <= STORE__SCHEMA_VERSION; v++) {
		PGresult *res;

		if (!migrations[v])
			continue;
		res = PQexec(p->conn, migrations[v]);

		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

			rc = pg_fail(p, res);
			store__fail(&c->base, rc, "migration %d failed: %s", v, msg ? msg : "connection lost");
		}
		PQclear(res);
	}
	if (!rc)
		rc = store__sql_exec(c, NULL, "INSERT INTO frontline_schema (one, version, migrated_at)"
				     " VALUES (true, ?, ?) ON CONFLICT (one) DO UPDATE SET"
				     " version = excluded.version, migrated_at = excluded.migrated_at",
				     "ii", (int64_t)STORE__SCHEMA_VERSION, store__now(&c->base));
	return rc;
}
