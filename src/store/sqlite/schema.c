/*
 * SQLite schema: numbered migrations, applied in order inside the caller's
 * write transaction by store__sql_migrate (sql.c). The version lives in the
 * file header (PRAGMA user_version) beside Frontline's application_id, so
 * that a file is identified without reading a table: application_id 0 and
 * no tables is a new database; another application_id, or tables without
 * ours, is someone else's file and is left alone.
 *
 * Migration N takes the schema from version N-1 to N. Never edit a shipped
 * migration; append a new one and bump STORE__SCHEMA_VERSION (store_int.h),
 * with the same number in postgres/schema.c.
 *
 * Conventions: STRICT tables; times are INTEGER microseconds since the
 * epoch; JSON is TEXT; tickets.number is the rowid, so that list order,
 * keyset cursors and the FTS5 index (external content: new tickets are
 * indexed by sq_fts_flush, edits and deletions by triggers) all share one key.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_int.h"

static const char *const migrations[] = {
	NULL, /* version 0: empty */
	/* 1: the initial schema */
	"CREATE TABLE tickets ("
	"  number INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  external_id TEXT,"
	"  channel TEXT NOT NULL,"
	"  customer_id TEXT,"
	"  subject TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL DEFAULT 'new',"
	"  sentiment TEXT, category TEXT, priority TEXT, assigned_department TEXT, assignee TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  first_response_at INTEGER,"
	"  resolved_at INTEGER,"
	"  satisfaction REAL,"
	"  version INTEGER NOT NULL DEFAULT 1,"
	"  analysis TEXT NOT NULL DEFAULT '{}',"
	"  trace TEXT NOT NULL DEFAULT '[]',"
	"  quarantined INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (channel, external_id)"
	") STRICT;"
	/*
	 * Filters on status, assignee and customer get an index, and status with
	 * priority (the triage queue: new and urgent); priority, category and
	 * channel alone do not: each of their values is common enough that a
	 * newest-first scan finds a page quickly, and every index costs each
	 * intake a write. (Index entries end with the rowid, the ticket number:
	 * equal keys come newest-last, so pages need no sort.)
	 */
	"CREATE INDEX tickets_status ON tickets(status);"
	"CREATE INDEX tickets_assignee ON tickets(assignee);"
	"CREATE INDEX tickets_customer ON tickets(customer_id);"
	"CREATE INDEX tickets_created ON tickets(created_at);"
	/* detail=none, columnsize=0: word lookups only (no phrases, no ranking), a lighter index. */
	"CREATE VIRTUAL TABLE tickets_fts USING fts5(subject, content, content='tickets',"
	"  content_rowid='number', tokenize='porter unicode61 remove_diacritics 2',"
	"  detail=none, columnsize=0);"
	"CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN"
	"  INSERT INTO tickets_fts(rowid, subject, content) VALUES (new.number, new.subject, new.content);"
	"END;"
	"CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, content ON tickets"
	"  WHEN old.subject IS NOT new.subject OR old.content IS NOT new.content BEGIN"
	"  INSERT INTO tickets_fts(tickets_fts, rowid, subject, content)"
	"    VALUES ('delete', old.number, old.subject, old.content);"
	"  INSERT INTO tickets_fts(rowid, subject, content) VALUES (new.number, new.subject, new.content);"
	"END;"
	"CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN"
	"  INSERT INTO tickets_fts(tickets_fts, rowid, subject, content)"
	"    VALUES ('delete', old.number, old.subject, old.content);"
	"END;"
	"CREATE TABLE idempotency_keys ("
	"  key TEXT PRIMARY KEY,"
	"  ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
	"  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'note')),"
	"  author TEXT,"
	"  body TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  email_message_id TEXT,"
	"  in_reply_to TEXT,"
	"  effect_key TEXT,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  UNIQUE (ticket_number, effect_key)"
	") STRICT;"
	"CREATE INDEX messages_email ON messages(email_message_id) WHERE email_message_id IS NOT NULL;"
	"CREATE TABLE customers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT, email TEXT, tier TEXT,"
	"  joined_at INTEGER,"
	"  total_tickets INTEGER NOT NULL DEFAULT 0,"
	"  satisfaction_score REAL,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX customers_email ON customers(lower(email));"
	"CREATE TABLE kb_articles ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  content TEXT NOT NULL,"
	"  category TEXT,"
	"  tags TEXT NOT NULL DEFAULT '[]',"
	"  views INTEGER NOT NULL DEFAULT 0,"
	"  helpful_votes INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE escalations ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
	"  status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'closed')),"
	"  priority TEXT NOT NULL,"
	"  rank INTEGER NOT NULL,"
	"  department TEXT,"
	"  package TEXT NOT NULL DEFAULT '{}',"
	"  agent TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  claimed_at INTEGER,"
	"  closed_at INTEGER,"
	"  resolution TEXT"
	") STRICT;"
	"CREATE UNIQUE INDEX escalations_one_open ON escalations(ticket_number) WHERE status <> 'closed';"
	"CREATE INDEX escalations_queue ON escalations(status, rank, created_at);"
	"CREATE INDEX escalations_ticket ON escalations(ticket_number);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_number INTEGER REFERENCES tickets(number),"
	"  type TEXT NOT NULL,"
	"  actor TEXT,"
	"  data TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX events_ticket ON events(ticket_number) WHERE ticket_number IS NOT NULL;"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  channel TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  payload TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  due_at INTEGER,"
	"  lease_owner TEXT,"
	"  last_error TEXT,"
	"  dedupe_key TEXT UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER"
	") STRICT;"
	"CREATE INDEX outbox_due ON outbox(due_at) WHERE status IN ('pending', 'sending');"
	"CREATE INDEX outbox_status ON outbox(status);"
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  ticket_number INTEGER REFERENCES tickets(number),"
	"  payload TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'dead')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL,"
	"  run_at INTEGER NOT NULL,"
	"  due_at INTEGER,"
	"  lease_owner TEXT,"
	"  lease_until INTEGER,"
	"  last_error TEXT,"
	"  dedupe_key TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  finished_at INTEGER"
	") STRICT;"
	"CREATE INDEX jobs_due ON jobs(due_at) WHERE status IN ('queued', 'running');"
	"CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL AND status <> 'done';"
	"CREATE INDEX jobs_status ON jobs(status);"
	"CREATE TABLE api_tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role IN ('admin', 'agent', 'integration')),"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  last_used_at INTEGER,"
	"  revoked INTEGER NOT NULL DEFAULT 0"
	") STRICT;",
	/* 2: the email channel: blobs, raw mail, IMAP state, rate hits */
	"CREATE TABLE blobs ("
	"  sha256 TEXT PRIMARY KEY,"
	"  size INTEGER NOT NULL,"
	"  content_type TEXT,"
	"  data BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE mail_raw ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL UNIQUE REFERENCES blobs(sha256),"
	"  size INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'received' CHECK (status IN"
	"    ('received', 'ticket', 'appended', 'duplicate', 'quarantined', 'failed')),"
	"  ticket_number INTEGER REFERENCES tickets(number),"
	"  error TEXT,"
	"  received_at INTEGER NOT NULL,"
	"  processed_at INTEGER"
	") STRICT;"
	"CREATE INDEX mail_raw_status ON mail_raw(status, id);"
	"CREATE TABLE imap_state ("
	"  mailbox TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE rate_hits ("
	"  key TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX rate_hits_key ON rate_hits(key, at);"
	"CREATE INDEX rate_hits_at ON rate_hits(at);",
	/* 3: the service: monitoring alerts and named locks */
	"CREATE TABLE alerts ("
	"  id INTEGER PRIMARY KEY,"
	"  type TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  metric TEXT,"
	"  message TEXT NOT NULL,"
	"  value REAL,"
	"  threshold REAL,"
	"  status TEXT NOT NULL CHECK (status IN ('active', 'resolved')),"
	"  observations INTEGER NOT NULL DEFAULT 1,"
	"  raised_at INTEGER NOT NULL,"
	"  last_seen_at INTEGER NOT NULL,"
	"  resolved_at INTEGER"
	") STRICT;"
	"CREATE UNIQUE INDEX alerts_one_active ON alerts(type) WHERE status = 'active';"
	"CREATE INDEX alerts_status ON alerts(status, id);"
	"CREATE TABLE locks ("
	"  name TEXT PRIMARY KEY,"
	"  owner TEXT NOT NULL,"
	"  until INTEGER NOT NULL"
	") STRICT, WITHOUT ROWID;",
	/* 4: the triage queue (new and urgent) by status with priority */
	"CREATE INDEX tickets_status_priority ON tickets(status, priority);",
	/*
	 * 5: a new ticket's full-text entry is written once per transaction, for
	 * all its new tickets (sq_fts_flush), not by a trigger per ticket
	 */
	"DROP TRIGGER tickets_fts_insert;",
	/*
	 * 6: the CHECKs of messages.direction and jobs.status as comparisons, not
	 * IN lists: SQLite tests "x IN (three or more constants)" against a
	 * temporary b-tree that it builds at every insert or update (about 30 K
	 * instructions, more than the rest of a message's insert). Same columns,
	 * rows, ids, indexes and constraints.
	 */
	"CREATE TABLE messages_v6 ("
	"  id INTEGER PRIMARY KEY,"
	"  ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
	"  direction TEXT NOT NULL CHECK (direction = 'inbound' OR direction = 'outbound' OR direction = 'note'),"
	"  author TEXT,"
	"  body TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  email_message_id TEXT,"
	"  in_reply_to TEXT,"
	"  effect_key TEXT,"
	"  metadata TEXT NOT NULL DEFAULT '{}',"
	"  UNIQUE (ticket_number, effect_key)"
	") STRICT;"
	"INSERT INTO messages_v6 (id, ticket_number, direction, author, body, created_at, email_message_id,"
	"  in_reply_to, effect_key, metadata)"
	"  SELECT id, ticket_number, direction, author, body, created_at, email_message_id, in_reply_to,"
	"  effect_key, metadata FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v6 RENAME TO messages;"
	"CREATE INDEX messages_email ON messages(email_message_id) WHERE email_message_id IS NOT NULL;"
	"CREATE TABLE jobs_v6 ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  ticket_number INTEGER REFERENCES tickets(number),"
	"  payload TEXT NOT NULL DEFAULT '{}',"
	"  status TEXT NOT NULL CHECK (status = 'queued' OR status = 'running' OR status = 'done'"
	"    OR status = 'dead'),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  max_attempts INTEGER NOT NULL,"
	"  run_at INTEGER NOT NULL,"
	"  due_at INTEGER,"
	"  lease_owner TEXT,"
	"  lease_until INTEGER,"
	"  last_error TEXT,"
	"  dedupe_key TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  finished_at INTEGER"
	") STRICT;"
	"INSERT INTO jobs_v6 (id, kind, ticket_number, payload, status, attempts, max_attempts, run_at, due_at,"
	"  lease_owner, lease_until, last_error, dedupe_key, created_at, updated_at, finished_at)"
	"  SELECT id, kind, ticket_number, payload, status, attempts, max_attempts, run_at, due_at,"
	"  lease_owner, lease_until, last_error, dedupe_key, created_at, updated_at, finished_at FROM jobs;"
	"DROP TABLE jobs;"
	"ALTER TABLE jobs_v6 RENAME TO jobs;"
	"CREATE INDEX jobs_due ON jobs(due_at) WHERE status IN ('queued', 'running');"
	"CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key) WHERE dedupe_key IS NOT NULL AND status <> 'done';"
	"CREATE INDEX jobs_status ON jobs(status);",
	/* 7: the language the triage detected (issue 15): on the ticket and its summary */
	"ALTER TABLE tickets ADD COLUMN language TEXT;",
	/*
	 * 8: hardening: a message from someone other than the ticket's customer
	 * awaits an agent's approval; the server's own secrets (the key of the
	 * email threads' per-ticket secrets); a notification's attempt in flight
	 */
	"ALTER TABLE messages ADD COLUMN approval TEXT"
	"  CHECK (approval IS NULL OR approval = 'pending' OR approval = 'approved' OR approval = 'declined');"
	"CREATE TABLE secrets ("
	"  name TEXT PRIMARY KEY,"
	"  value BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL"
	") STRICT;"
	"ALTER TABLE outbox ADD COLUMN started_at INTEGER;",
	/* 9: the language an article is written in (issue 15): a ticket is searched in its own */
	"ALTER TABLE kb_articles ADD COLUMN language TEXT NOT NULL DEFAULT 'en';",
	/*
	 * 10: the console: people (users, their sessions, failed sign-ins),
	 * presence, canned responses; the queues' indexes. A ticket is open
	 * unless resolved, closed or spam, written as comparisons (not an IN
	 * list, see 6) in the partial indexes and in the queries that use them.
	 * Each queue's index is ordered by ticket number within its key, so a
	 * queue's newest page (and a keyset page after a cursor) is a walk down
	 * one index; it ends with the status, so that SQLite, which checks a
	 * partial index's terms again, counts a queue from the index alone.
	 * The triage's language (migration 7) gets an index.
	 */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  email TEXT NOT NULL UNIQUE,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL CHECK (role = 'agent' OR role = 'admin'),"
	"  department TEXT,"
	"  skills TEXT NOT NULL DEFAULT '{}',"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  password_hash TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  last_seen_at INTEGER"
	") STRICT;"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  address TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  last_seen_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE INDEX sessions_expires ON sessions(expires_at);"
	"CREATE INDEX sessions_seen ON sessions(last_seen_at);"
	"CREATE TABLE login_failures ("
	"  key TEXT NOT NULL,"
	"  at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX login_failures_key ON login_failures(key, at);"
	"CREATE INDEX login_failures_at ON login_failures(at);"
	"CREATE TABLE presence ("
	"  ticket_number INTEGER NOT NULL REFERENCES tickets(number),"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  state TEXT NOT NULL CHECK (state = 'viewing' OR state = 'replying' OR state = 'left'),"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (ticket_number, user_id)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX presence_updated ON presence(updated_at);"
	"CREATE TABLE canned_responses ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  updated_by TEXT,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;"
	"CREATE INDEX events_corrected ON events(created_at) WHERE type = 'ticket.corrected';"
	"CREATE INDEX tickets_language ON tickets(language) WHERE language IS NOT NULL;"
	"CREATE INDEX tickets_open ON tickets(number, status)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';"
	"CREATE INDEX tickets_open_assignee ON tickets(assignee, number, status)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';"
	"CREATE INDEX tickets_open_department ON tickets(assigned_department, number, status)"
	"  WHERE status <> 'resolved' AND status <> 'closed' AND status <> 'spam';",
	/*
	 * 11: the satisfaction survey (issue 17): one per ticket, its link's
	 * token kept as a SHA-256, the answer changeable until it expires.
	 */
	"CREATE TABLE surveys ("
	"  ticket_number INTEGER PRIMARY KEY REFERENCES tickets(number),"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  customer_id TEXT,"
	"  sent_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  score INTEGER CHECK (score BETWEEN 1 AND 5),"
	"  comment TEXT,"
	"  answered_at INTEGER"
	") STRICT;"
	"CREATE INDEX surveys_answered ON surveys(answered_at) WHERE answered_at IS NOT NULL;",
	/*
	 * 12: SLA calendars and policies (issue 18): the current body of each
	 * (kind 'calendar' or 'policy'; policies tried by position), and every
	 * version ever written (sla_versions), so a ticket's due times can be
	 * traced to the policy that set them.
	 */
	"CREATE TABLE sla_objects ("
	"  kind TEXT NOT NULL CHECK (kind = 'calendar' OR kind = 'policy'),"
	"  id TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  updated_by TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, id)"
	") STRICT;"
	"CREATE TABLE sla_versions ("
	"  kind TEXT NOT NULL,"
	"  id TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  body TEXT,"
	"  version INTEGER NOT NULL,"
	"  updated_by TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (kind, id, version)"
	") STRICT;",
	/*
	 * 13: chat sessions (issue 17): a visitor's token kept as its SHA-256,
	 * the ticket its first message made, whether it goes on by email.
	 */
	"CREATE TABLE chat_sessions ("
	"  id TEXT PRIMARY KEY,"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  name TEXT,"
	"  email TEXT,"
	"  by_email INTEGER NOT NULL DEFAULT 0,"
	"  address TEXT,"
	"  ticket_number INTEGER UNIQUE REFERENCES tickets(number),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;",
	/*
	 * 14: macros (issue 18): named sets of actions agents apply to a
	 * ticket, the actions one JSON array.
	 */
	"CREATE TABLE macros ("
	"  name TEXT PRIMARY KEY,"
	"  description TEXT,"
	"  actions TEXT NOT NULL,"
	"  updated_by TEXT,"
	"  updated_at INTEGER NOT NULL"
	") STRICT;",
	/*
	 * 15: assignment (issue 18): an agent's availability (what the agent
	 * chose; idle agents count as away, computed from last_seen_at), own
	 * maximum of open tickets (null: the department's) and when the agent
	 * was last given a ticket; the departments' assignment mode, default
	 * maximum and round-robin cursor (the id of the agent picked last).
	 * The queue of a department (its oldest unassigned open tickets) walks
	 * tickets_open_department.
	 */
	"ALTER TABLE users ADD COLUMN availability TEXT NOT NULL DEFAULT 'offline'"
	"  CHECK (availability = 'available' OR availability = 'away' OR availability = 'offline');"
	"ALTER TABLE users ADD COLUMN max_open INTEGER CHECK (max_open >= 0);"
	"ALTER TABLE users ADD COLUMN last_assigned_at INTEGER;"
	"CREATE INDEX users_department ON users(department) WHERE department IS NOT NULL;"
	"CREATE TABLE departments ("
	"  id TEXT PRIMARY KEY,"
	"  assignment TEXT NOT NULL DEFAULT 'load'"
	"    CHECK (assignment = 'off' OR assignment = 'round_robin' OR assignment = 'load'),"
	"  max_open_per_agent INTEGER CHECK (max_open_per_agent >= 0),"
	"  rr_cursor INTEGER NOT NULL DEFAULT 0,"
	"  updated_by TEXT,"
	"  updated_at INTEGER"
	") STRICT;",
	/*
	 * 16: the KB sync (issue 18): where an article came from ('kb_api' for
	 * the help-centre import; NULL: imported or written here) and the hash
	 * of its content as imported, so an unchanged article is not rewritten.
	 */
	"ALTER TABLE kb_articles ADD COLUMN source TEXT;"
	"ALTER TABLE kb_articles ADD COLUMN source_hash TEXT;",
	/*
	 * 17: phone calls (issue 17): one record per (provider, call_id), which
	 * every callback upserts; the status ranked so it never goes back; the
	 * masked transcript; the ticket the call made. Customers found by their
	 * metadata.phone in the form phone_normalize writes. A chat visitor's
	 * typing, so that every replica's live stream reads it.
	 */
	"CREATE TABLE calls ("
	"  provider TEXT NOT NULL,"
	"  call_id TEXT NOT NULL,"
	"  from_number TEXT,"
	"  to_number TEXT,"
	"  status TEXT NOT NULL,"
	"  status_rank INTEGER NOT NULL,"
	"  transcript TEXT,"
	"  recording_url TEXT,"
	"  ticket_number INTEGER REFERENCES tickets(number),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (provider, call_id)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX calls_ticket ON calls(ticket_number) WHERE ticket_number IS NOT NULL;"
	"CREATE INDEX customers_phone ON customers(" SQ_CUSTOMER_PHONE ");"
	/* a chat visitor's typing, read by every replica's live stream */
	"ALTER TABLE chat_sessions ADD COLUMN typing INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE chat_sessions ADD COLUMN typing_at INTEGER;"
	"CREATE INDEX chat_sessions_typing ON chat_sessions(typing_at) WHERE typing_at IS NOT NULL;",
};

_Static_assert(FL_ARRAY_SIZE(migrations) == STORE__SCHEMA_VERSION + 1,
	       "one SQLite migration per schema version");

int sq_schema_read(struct store__sql *c, int *version, bool *foreign)
{
	int64_t app = 0, v = 0, objects = 0;
	int rc;

	*version = 0;
	if (foreign)
		*foreign = false;
	if ((rc = store__sql_int(c, &app, "PRAGMA application_id", NULL)) ||
	    (rc = store__sql_int(c, &v, "PRAGMA user_version", NULL)) ||
	    (rc = store__sql_int(c, &objects, "SELECT count(*) FROM sqlite_schema", NULL)))
		return rc;
	if (app != STORE__SQLITE_APP_ID && (app != 0 || objects > 0)) {
		if (foreign)
			*foreign = true;
		return STORE_OK;
	}
	*version = (int)v;
	return STORE_OK;
}

int sq_schema_apply(struct store__sql *c, int from)
{
	struct sq *q = SQ(c);
	char *err = NULL, *set;
	int v, rc;

	for (v = from + 1; v <= STORE__SCHEMA_VERSION; v++) {
		rc = sqlite3_exec(q->db, migrations[v], NULL, NULL, &err);
		if (rc != SQLITE_OK) {
			int e = sq_fail(q, rc);

			store__fail(&q->c.base, e, "migration %d failed: %s", v, err ? err : sqlite3_errstr(rc));
			sqlite3_free(err);
			return e;
		}
	}
	set = fl_asprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;",
			  STORE__SQLITE_APP_ID, STORE__SCHEMA_VERSION);
	rc = sqlite3_exec(q->db, set, NULL, NULL, NULL);
	free(set);
	return rc == SQLITE_OK ? STORE_OK : sq_fail(q, rc);
}
