/*
 * email: Frontline's email channel.
 *
 * - parsing (GMime 3): one RFC 5322 message into a struct email_msg with its
 *   headers decoded (RFC 2047), its text converted to UTF-8, the body chosen
 *   (multipart/alternative prefers text/plain, HTML is converted to text),
 *   quoted replies and signatures trimmed from the ticket's content (the raw
 *   message keeps them), attachments with name, type, size and SHA-256;
 * - threading keys: Message-ID / In-Reply-To / References, the subject tag
 *   "[Frontline #T-000042-k3q9x7m2ab]" (with the ticket's secret, so that
 *   it cannot be forged from the number), the normalized subject;
 * - who may write into a thread: mail from someone other than the ticket's
 *   customer or an approved CC waits for an agent's approval, and replies
 *   only ever go to the customer and the approved CCs;
 * - loop and noise protection: auto-submitted, bulk, list, auto-reply and
 *   bounce messages, our own Message-IDs (email_noise_*);
 * - outbound composition: a reply with Message-ID, In-Reply-To, References,
 *   the subject tag and "Auto-Submitted: auto-replied" on automatic ones;
 * - intake (needs a store): the raw message stored first, then parsed,
 *   then a new ticket (with its "triage" job) or a message appended to its
 *   thread, exactly once per message;
 * - the IMAP poller, and the outbox side: a queued reply rendered in its
 *   ticket's thread, with the last word on automatic replies (notify sends
 *   it over SMTP).
 *
 * Strings are UTF-8 and NUL-terminated. Nothing here keeps global state
 * besides GMime's own initialisation (email_init), which is done once per
 * process and is safe to call from any thread.
 */
#ifndef FL_EMAIL_H
#define FL_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct store;

#define EMAIL_ERRNO_MAP(X) \
	X(OK, "success") \
	X(EINVAL, "invalid argument") \
	X(ENOTMSG, "input is not an email message") \
	X(ETOOBIG, "message is over the size limit") \
	X(EPARSE, "message cannot be parsed") \
	X(ESTORE, "store error") \
	X(ETEMP, "temporary failure; try again later") \
	X(EIMAP, "IMAP error") \
	X(ECOMPOSE, "cannot compose the message") \
	X(ESUPPRESSED, "automatic reply withheld by loop protection") \
	X(ENOTFOUND, "no such ticket or message") \
	X(ECONFLICT, "the message is not awaiting approval")

enum email_err {
#define EMAIL_ENUM(name, text) EMAIL_##name,
	EMAIL_ERRNO_MAP(EMAIL_ENUM)
#undef EMAIL_ENUM
};

const char *email_strerror(int rc);
const char *email_errname(int rc);

/*
 * Initialises GMime once for the process (later calls do nothing). The
 * parse and compose functions call it themselves; call it early in a
 * program that starts threads, so it runs before they do.
 */
void email_init(void);

/* ---- limits ---- */

struct email_limits {
	size_t max_message;         /* whole raw message, bytes; 0: 25 MiB */
	size_t max_attachment;      /* one attachment's decoded bytes kept; 0: 10 MiB */
	size_t max_attachments;     /* attachments kept per message; 0: 100 */
	size_t max_content;         /* characters of ticket content; 0: 10,000 */
};

/*
 * The limits from the configuration (FRONTLINE_EMAIL_MAX_BYTES,
 * FRONTLINE_EMAIL_MAX_ATTACHMENT_BYTES, FRONTLINE_EMAIL_MAX_ATTACHMENTS), with
 * the defaults above for unset keys.
 */
void email_limits_from_config(struct email_limits *l);

/*
 * The checks made before anything is stored: EMAIL_ETOOBIG over
 * limits->max_message, EMAIL_ENOTMSG for empty or binary input (NUL bytes
 * or mostly control characters), each with *why (caller frees; may be NULL)
 * saying so; else EMAIL_OK. limits may be NULL (defaults).
 */
int email_precheck(const void *raw, size_t len, const struct email_limits *limits, char **why);

/* ---- a parsed message ---- */

struct email_address {
	char *name;                 /* display name, decoded; may be NULL */
	char *addr;                 /* "user@example.com" as written; NULL: none */
};

struct email_attachment {
	char *filename;             /* decoded; never NULL ("attachment-N" when absent) */
	char *content_type;         /* "application/pdf", lower case */
	char *content_id;           /* without <>, or NULL */
	bool is_inline;             /* Content-Disposition: inline (e.g. an image in HTML) */
	size_t size;                /* decoded bytes */
	char sha256[65];            /* hex of the decoded bytes */
	unsigned char *data;        /* the decoded bytes; NULL when omitted */
	bool omitted;               /* over a limit: metadata kept, bytes not */
};

/* Noise and loop flags (email_msg.noise); see email_noise_classify. */
enum email_noise {
	EMAIL_NOISE_AUTO_SUBMITTED = 1 << 0, /* Auto-Submitted other than "no" */
	EMAIL_NOISE_BULK = 1 << 1,           /* Precedence: bulk, junk or list */
	EMAIL_NOISE_LIST = 1 << 2,           /* List-Id (a mailing list) */
	EMAIL_NOISE_AUTOREPLY = 1 << 3,      /* X-Autoreply, X-Autorespond */
	EMAIL_NOISE_SUPPRESS = 1 << 4,       /* X-Auto-Response-Suppress asks for none */
	EMAIL_NOISE_BOUNCE = 1 << 5,         /* mailer-daemon, delivery-status report */
	EMAIL_NOISE_NULL_SENDER = 1 << 6,    /* Return-Path: <> */
	EMAIL_NOISE_OURS = 1 << 7,           /* our own Message-ID or loop header came back */
	EMAIL_NOISE_RATE = 1 << 8,           /* sender over the rate limit (set by intake) */
};

/* A spam verdict on a message (see email__spam_headers and email_spamd_check). */
enum email_spam_verdict { EMAIL_SPAM_UNKNOWN, EMAIL_SPAM_HAM, EMAIL_SPAM_SPAM };

struct email_spam {
	enum email_spam_verdict verdict;
	double score, threshold;    /* the filter's points and its limit; -1 when not given */
	char by[24];                /* "X-Spam-Flag", "X-Spam-Status", "spamd"; "" when unknown */
};

struct email_msg {
	/* identity and threading */
	char *message_id;           /* without <>; synthetic when absent (see below) */
	bool message_id_synthetic;  /* "<sha256 of raw>@frontline.invalid": the message had none */
	char *in_reply_to;          /* without <>, or NULL */
	char **references;          /* without <>, oldest first */
	size_t n_references;
	char *bounce_of;            /* a bounce: the Message-ID of the bounced message, or NULL */

	/* people and headers, decoded */
	struct email_address from;
	struct email_address reply_to;      /* addr NULL when absent */
	json_t *to;                 /* [{"name","addr"}] */
	json_t *cc;
	char *subject;              /* "" when absent */
	int64_t date_us;            /* Date header; 0 when absent or invalid */

	/* text */
	char *body;                 /* the whole chosen text, UTF-8, LF line ends */
	char *content;              /* body without quoted replies and signature */
	bool body_from_html;        /* no text/plain: the HTML was converted */
	bool charset_fallback;      /* undeclared or wrong charset: decoded as windows-1252 */

	struct email_attachment *attachments;
	size_t n_attachments;
	size_t n_attachments_dropped; /* beyond max_attachments (not even listed) */

	/* noise and loop protection */
	unsigned noise;             /* enum email_noise bits */
	struct email_spam spam;     /* the mail server's verdict headers, or spamd's (intake) */
	char *auto_submitted, *precedence, *list_id; /* raw values, or NULL */

	/* problems */
	json_t *warnings;           /* ["duplicated header 'subject'", ...] from the parser */
	char *quarantine;           /* why it cannot be trusted as a ticket, or NULL */

	char raw_sha256[65];        /* hex of the raw bytes */
	size_t raw_size;
};

/*
 * Parses raw (len bytes, any line ends) into *out (caller frees with
 * email_msg_release). Returns:
 *  - EMAIL_OK: *out is filled; out->quarantine is set (and the text is what
 *    could be recovered) when the message is broken beyond trusting it:
 *    GMime could not build it, it has no sender address, or it nests too deep;
 *  - EMAIL_ENOTMSG: not a message at all (empty, or no header field before
 *    the body); *out untouched; *why (caller frees, may be NULL) says why;
 *  - EMAIL_ETOOBIG: over limits->max_message.
 * limits may be NULL (defaults). domain is ours (FRONTLINE_EMAIL_DOMAIN),
 * used to recognize our own Message-IDs; NULL: "frontline.invalid".
 */
int email_parse(const void *raw, size_t len, const struct email_limits *limits,
		const char *domain, struct email_msg *out, char **why);
/* Frees what msg owns and zeroes it. NULL is fine. */
void email_msg_release(struct email_msg *msg);

/*
 * The message as JSON for a ticket message's metadata: {"message_id",
 * "in_reply_to", "references", "from", "reply_to", "to", "cc", "subject",
 * "date", "attachments": [{"filename", "content_type", "size", "sha256",
 * "inline", "omitted"}], "noise": ["bulk", ...], "warnings", "quarantine",
 * "raw_sha256", "raw_size", "body_from_html"}. New reference.
 */
json_t *email_msg_to_json(const struct email_msg *msg);

/* ---- text helpers (exposed for tests and for other channels) ---- */

/*
 * Converts len bytes in charset (NULL or "": undeclared) to UTF-8 with LF line
 * ends and no NUL bytes. Undeclared, us-ascii or invalid UTF-8 text falls back
 * to windows-1252 (a superset of ISO-8859-1, which is what mislabelled mail
 * nearly always is); an unknown charset is treated the same way; bytes that
 * still do not convert become U+FFFD. *fallback (may be NULL) is set when the
 * fallback was used. Caller frees.
 */
char *email_to_utf8(const char *data, size_t len, const char *charset, bool *fallback);
/*
 * The part of a reply the sender wrote: removes quoted lines ("> ..."),
 * the attribution line before them ("On ... wrote:"), everything from a
 * forwarded/original-message separator or an Outlook header block on, and a
 * signature ("-- " line, "Sent from my ..."). Returns the whole text (trimmed)
 * when nothing would be left. Caller frees.
 */
char *email_trim_reply(const char *text);

/* ---- threading keys ---- */

/* Characters of a ticket's secret in our subject tags and Message-IDs (50 bits, base32). */
#define EMAIL_SECRET_LEN 10
/* The longest secret a tag or Message-ID is read with (longer: not a tag of ours). */
#define EMAIL_SECRET_MAX 32

/*
 * The ticket's secret, which our subject tags and Message-IDs carry so that
 * they cannot be forged from the ticket's number: the first 50 bits of
 * HMAC-SHA-512-256 (libsodium's crypto_auth) of ticket_id, keyed by the
 * server's secret "email.threads" (store_secret_get: made on first use,
 * shared by replicas, never logged), as EMAIL_SECRET_LEN lower-case base32
 * characters into out. EMAIL_EINVAL for an empty id; EMAIL_ETEMP or
 * EMAIL_ESTORE when the store cannot give the key.
 */
int email_ticket_secret(struct store *st, const char *ticket_id, char out[EMAIL_SECRET_LEN + 1]);

/*
 * The ticket in a subject tag "[<tag> #T-000042-k3q9x7m2ab]" or, the old
 * form, "[<tag> #T-000042]" (tag: FRONTLINE_EMAIL_TAG, default "Frontline";
 * case-insensitive, spaces tolerated): writes "T-000042" (normalized to 6
 * digits) into number and the secret, lower-cased, into secret ("" for the
 * old form; secret may be NULL) and returns true; false when absent.
 * Whether the secret is the ticket's is for the caller to check.
 */
bool email_subject_tag_parse(const char *subject, const char *tag, char number[32],
			     char secret[EMAIL_SECRET_MAX + 1]);
/* email_subject_tag_parse's number alone. */
bool email_subject_tag_find(const char *subject, const char *tag, char out[32]);
/*
 * subject with the tag "[tag #token]" (token: "T-000042-k3q9x7m2ab", or
 * "T-000042"): a tag of ours already in the subject is replaced in place
 * (and any further one dropped), else the tag is appended. NULL token:
 * subject unchanged. Caller frees.
 */
char *email_subject_with_tag(const char *subject, const char *tag, const char *token);
/*
 * The subject without reply/forward prefixes (Re:, Fwd:, AW:, SV:, ...), our
 * tag, list tags "[...]" at the front and extra spaces, case-folded, for
 * comparing threads by subject. Caller frees.
 */
char *email_subject_normalize(const char *subject);

/* ---- noise and loops ---- */

/* Names of the set bits ("auto_submitted", "bulk", ...) as a JSON array. New reference. */
json_t *email_noise_names(unsigned noise);
/* True when no automatic reply may go to this message's sender. */
bool email_noise_blocks_autoreply(unsigned noise);
/* True when id ("local@domain", no <>) is a Message-ID that email_compose made for domain. */
bool email_message_id_is_ours(const char *id, const char *domain);

/* ---- spam ---- */

/*
 * {"verdict": "spam"|"ham"|"unknown", "by", "score", "threshold"} (fields
 * omitted when unknown); NULL when nothing is known. New reference.
 */
json_t *email_spam_to_json(const struct email_spam *s);
/*
 * Asks a SpamAssassin spamd at addr ("host:port", "[v6]:port") about the raw
 * message with the SPAMC/1.5 CHECK command, within timeout_ms (<= 0: 15 s).
 * On EMAIL_OK *out holds spamd's verdict, score and threshold ("by":
 * "spamd"). EMAIL_EINVAL: addr is not host:port; EMAIL_ETEMP: spamd cannot
 * be reached, or did not answer in time; EMAIL_EPARSE: the answer was not
 * a verdict. *why (caller frees) says why on failure.
 */
int email_spamd_check(const char *addr, const void *raw, size_t len, long timeout_ms,
		      struct email_spam *out, char **why);

/* ---- outbound ---- */

struct email_outgoing {
	const char *from_addr, *from_name;  /* from_name may be NULL */
	const char *to_addr, *to_name;      /* to_name may be NULL */
	const char *subject;                /* the thread's subject; "Re: " and the tag are added */
	const char *tag;                    /* NULL: "Frontline" */
	const char *ticket_number;          /* "T-000042"; NULL: no tag */
	const char *ticket_secret;          /* email_ticket_secret's; NULL: the old tag and Message-ID, without */
	const json_t *cc;                   /* approved CCs: array of bare addresses; may be NULL */
	const char *body;                   /* UTF-8 text */
	const char *in_reply_to;            /* Message-ID without <>, or NULL */
	json_t *references;                 /* array of Message-IDs without <>, oldest first; may be NULL */
	bool automatic;                     /* an automatic reply: Auto-Submitted: auto-replied */
	const char *domain;                 /* for our Message-ID; NULL: "frontline.invalid" */
	int64_t date_us;                    /* 0: now */
	const char *message_id;             /* without <>; NULL: a new random one (see below) */
	const char *html;                   /* an HTML alternative of body (multipart/alternative); NULL: none */
};

/*
 * Builds a reply as an RFC 5322 message with CRLF line ends, ready for SMTP:
 * From, To, Cc (o->cc), Subject (RFC 2047 encoded when not ASCII), Date, the
 * Message-ID (o->message_id, or a new "frontline.<ticket>.<secret>.<random>@<domain>"), In-Reply-To,
 * References (the thread's plus in_reply_to), the subject tag
 * ("[Frontline #T-000042-<secret>]", replacing any tag of ours the subject had), MIME-Version,
 * text/plain; charset=utf-8 in quoted-printable or base64 as the text needs
 * (with o->html, multipart/alternative: that text, then the HTML as
 * text/html; charset=utf-8),
 * "Auto-Submitted: auto-replied" and "X-Auto-Response-Suppress: All" when
 * automatic, and "X-Frontline-Loop: <domain>" always. On success *raw (NUL
 * terminated, *len bytes) and *message_id (without <>) are the caller's to
 * free. EMAIL_EINVAL when from, to or body is missing, an address (a CC's
 * too) does not parse, or the secret is not EMAIL_SECRET_LEN letters and digits.
 */
int email_compose(const struct email_outgoing *o, char **raw, size_t *len, char **message_id);

/* ---- intake: a raw message into the store ---- */

struct email_intake_opts {
	const char *source;          /* "pipe", "http", "imap"; NULL: "pipe" */
	const char *queue;           /* a queue name for the ticket's metadata (mail-in --queue); may be NULL */
	const char *domain;          /* ours, for Message-IDs; NULL: "frontline.invalid" */
	const char *tag;             /* subject tag word; NULL: "Frontline" */
	const char *job_kind;        /* job queued with a new ticket; NULL: "triage"; "": none */
	int thread_subject_days;     /* same sender + normalized subject within N days; 0: off */
	int rate_limit;              /* messages per sender per window before auto-replies stop; 0: none */
	int rate_window_s;           /* 0: 3600 */
	const char *spamd;           /* a spamd's "host:port" to ask about each message; NULL or "": none */
	int64_t api_token_id;        /* the API token that posted it (POST /api/v1/mail), kept in a new ticket's metadata; 0: none */
	struct email_limits limits;
	char domain_buf[256];        /* where email_intake_opts_from_config keeps a derived domain */
};

/*
 * Options from the configuration: FRONTLINE_EMAIL_DOMAIN (or the domain of
 * FRONTLINE_SUPPORT_FROM), FRONTLINE_EMAIL_TAG, FRONTLINE_EMAIL_THREAD_BY_SUBJECT_DAYS,
 * FRONTLINE_EMAIL_RATE_LIMIT, FRONTLINE_EMAIL_RATE_WINDOW, FRONTLINE_SPAMD and the limits.
 * The strings point into the configuration (read-only after start-up).
 */
void email_intake_opts_from_config(struct email_intake_opts *o);

enum email_outcome {
	EMAIL_NEW_TICKET,            /* a new ticket (and its triage job) */
	EMAIL_APPENDED,              /* a message in an existing ticket's thread */
	EMAIL_DUPLICATE,             /* seen before (same Message-ID or same bytes): nothing new */
	EMAIL_QUARANTINED,           /* a new quarantined ticket, the raw message attached */
};

struct email_intake_result {
	enum email_outcome outcome;
	char *ticket_id;             /* the ticket's id */
	char *ticket_number;         /* "T-000042" */
	int64_t raw_id;              /* the raw record (store_mail_raw_get) */
	unsigned noise;              /* enum email_noise bits */
	bool reopened;               /* a reply reopened a resolved or closed ticket */
	bool pending;                /* appended awaiting an agent's approval: the sender is not on the ticket */
	char *detail;                /* on failure: what went wrong */
	/* a new ticket the ingestion rules refused (support_ticket_validate), so
	 * quarantined: its first error's field and code; NULL otherwise */
	char *refused_field;
	char *refused_code;
};

void email_intake_result_release(struct email_intake_result *r);
const char *email_outcome_name(enum email_outcome o);

/*
 * Takes one raw message (the pipe, HTTP or IMAP) into the store st:
 *
 *  1. email_precheck: over the size limit or not a message at all ->
 *     EMAIL_ETOOBIG / EMAIL_ENOTMSG, nothing stored (permanent: a mail
 *     server bounces it to its sender);
 *  2. the raw bytes are committed (store_mail_raw_put); the same bytes
 *     again find that record;
 *  3. parsed; then, in one transaction: a message whose Message-ID is
 *     already in a thread is a duplicate; a reply is threaded by
 *     In-Reply-To / References (our own Message-IDs carry the ticket
 *     number and secret), a bounce by the message it returns, then by the
 *     subject tag, then (when enabled) by sender and normalized subject. A
 *     key with the ticket's secret (or a Message-ID the thread holds)
 *     threads anyone's mail, a stranger's (neither the ticket's customer
 *     nor an approved CC) appended awaiting approval (result.pending); a
 *     key made from the number alone threads only the customer's and CCs'
 *     mail. An appended reply reopens its ticket when resolved or closed
 *     (not a stranger's, not a machine's); else a new ticket (channel
 *     "email") with its job. Attachments are stored as
 *     blobs; the per-sender rate limit is counted; the raw record is linked.
 *     A message that cannot be trusted (email_msg.quarantine), whose ticket
 *     breaks the ingestion rules every door runs (support_ticket_validate:
 *     result.refused_field and refused_code say why), or whose ticket the
 *     store refuses, becomes a quarantined ticket with the raw message
 *     attached: never dropped.
 *
 * Returns EMAIL_OK with r filled; EMAIL_ETEMP when the store is busy,
 * unreachable or full (the raw message may be kept already; retrying is
 * safe and does not duplicate anything); EMAIL_ESTORE for another store
 * failure. r->detail says why on failure. Caller releases r.
 */
int email_intake(struct store *st, const void *raw, size_t len, const struct email_intake_opts *o,
		 struct email_intake_result *r);

/* ---- mail awaiting approval ---- */

/*
 * An agent's decision on message_id of ticket_id, a message awaiting
 * approval (mail from an address that is neither the ticket's customer nor
 * an approved CC; email_intake_result.pending): approve or decline it
 * (store_message_decide, with its event by actor). Approving a person's mail
 * (not a bounce, auto-reply, list or bulk mail) also adds its From address
 * to the ticket's approved CCs (metadata.email.cc), who receive the
 * ticket's replies from then on. One transaction. *message (may be NULL) is
 * the message after (on EMAIL_ECONFLICT: as it is). Returns EMAIL_OK,
 * EMAIL_ENOTFOUND (no such ticket or message), EMAIL_ECONFLICT (not
 * pending: decided already, or never needed), EMAIL_ETEMP (busy, or the
 * ticket changed meanwhile: retry) or EMAIL_ESTORE, with *why (caller frees).
 */
int email_message_decide(struct store *st, const char *ticket_id, int64_t message_id, bool approve,
			 const char *actor, json_t **message, char **why);

/* ---- the outbox side: replies in a ticket's thread ---- */

struct email_rendered {
	char *raw;                   /* RFC 5322, CRLF line ends */
	size_t len;
	char *sender;                /* envelope sender (MAIL FROM), a bare address */
	char *recipient;             /* envelope recipient (RCPT TO), a bare address: the ticket's customer */
	char *message_id;            /* without <> */
	json_t *cc;                  /* further envelope recipients: the approved CCs' bare addresses (array) */
};

void email_rendered_release(struct email_rendered *r);

/*
 * Renders an outbox item of channel "email" whose payload names a ticket
 * ({ticket_id, body, subject?, from?, to?, auto_submitted?}) as a reply in
 * that ticket's email thread: To the ticket's customer (the Reply-To, else
 * the From, of the mail that opened the ticket; else the item's target or
 * payload.to), Cc the CCs an agent approved (metadata.email.cc), never an
 * address because it wrote last; From from (the dispatcher's sender; NULL:
 * payload.from, else FRONTLINE_SUPPORT_FROM), In-Reply-To and References
 * from the thread's latest message that needs no approval, the subject tag
 * with the ticket's secret, and a Message-ID derived from the item's id, so
 * that a retried delivery carries the same one
 * ("frontline.T-000042.<secret>.o17@domain").
 *
 * Automatic replies (payload.auto_submitted) are withheld, EMAIL_ESUPPRESSED
 * with *why, when the ticket's inbound mail forbade one
 * (metadata.email.auto_reply false: bulk, list, bounce, auto-reply...), when
 * the recipient already had FRONTLINE_EMAIL_RATE_LIMIT automatic replies in
 * the window, or when the recipient is our own address. Other returns:
 * EMAIL_EINVAL (no usable address, no body; *why), EMAIL_ETEMP or
 * EMAIL_ESTORE (the store; *why). Caller frees *why and releases out.
 */
int email_outbox_render(struct store *st, const json_t *item, const char *from,
			struct email_rendered *out, char **why);

/* ---- IMAP polling ---- */

struct email_imap_opts {
	const char *url;             /* imap[s]://user:password@host[:port]/MAILBOX (default INBOX) */
	const char *move_to;         /* folder for processed mail; NULL or "": mark it \Seen */
	long timeout_ms;             /* per IMAP command; 0: 30000 */
};

/* FRONTLINE_IMAP_URL and FRONTLINE_IMAP_MOVE_TO (strings point into the configuration). */
void email_imap_opts_from_config(struct email_imap_opts *o);

struct email_imap_stats {
	int64_t uidvalidity;         /* the mailbox's */
	int64_t last_uid;            /* the highest UID processed, after the poll */
	bool uidvalidity_changed;    /* the mailbox was recreated: looked at from UID 1 again */
	size_t server_messages;      /* STATUS MESSAGES */
	size_t server_unseen;        /* STATUS UNSEEN */
	size_t candidates;           /* UIDs above the last one processed, and unseen ones */
	size_t fetched;
	size_t stored;               /* new tickets and replies */
	size_t duplicates, quarantined;
	size_t refused;              /* never storable (too big, not a message): marked, left in place */
	size_t failed;               /* not fetched, or not stored for now: looked at again next poll */
};

/*
 * One poll of the mailbox at io->url into st (see imap.c for the protocol):
 * every message above the recorded UID and every unseen one is fetched
 * without changing its flags, taken in by email_intake (in, source
 * "imap"), and only once committed marked \Seen or moved to io->move_to
 * (created when missing; a server without MOVE gets \Seen). The mailbox's
 * UIDVALIDITY and the highest UID processed are then recorded. A warning is
 * logged when the server's counts and what was fetched differ.
 *
 * Returns EMAIL_OK (stats filled), EMAIL_EINVAL (no or a bad URL),
 * EMAIL_EIMAP (the server: connect, login, command), EMAIL_ETEMP or
 * EMAIL_ESTORE (the store stopped the poll; what was committed is marked).
 * *err (caller frees) says why.
 */
int email_imap_poll(struct store *st, const struct email_imap_opts *io, const struct email_intake_opts *in,
		    struct email_imap_stats *stats, char **err);

/*
 * The poller as a background thread (frontline serve and worker): one
 * email_imap_poll every FRONTLINE_IMAP_INTERVAL seconds on its own
 * connection to store_url, by one replica at a time (the store's lock
 * "frontline.imap"). EMAIL_OK with *out NULL when FRONTLINE_IMAP_URL is not
 * set; else *out runs until email_imap_poller_stop. On failure *err (caller
 * frees) says why.
 */
struct email_imap_poller;

int email_imap_poller_start(const char *store_url, struct email_imap_poller **out, char **err);
/* Stops after the poll in progress and frees. NULL is fine. */
void email_imap_poller_stop(struct email_imap_poller *p);

#endif
