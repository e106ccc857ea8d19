/*
 * IMAP polling with libcurl: fetch new mail by UID, store it, and only then
 * mark it \Seen (or move it to a folder).
 *
 * What "new" means is Frontline's own record, not the \Seen flag: the
 * mailbox's UIDVALIDITY and the highest UID processed are kept in the store
 * (store_imap_state_*), and a poll takes every message above that UID plus
 * every message still unseen. So a message that someone read in a mail
 * client before the poll is not skipped, a message stored but not yet
 * marked (a crash in between) is fetched again and recognised as a
 * duplicate, and a new UIDVALIDITY (the mailbox was recreated) starts over
 * from UID 1 (duplicates again cost nothing).
 *
 * libcurl's IMAP: a URL ".../MAILBOX/;UID=n" sends "UID FETCH n BODY[]",
 * which sets \Seen as a side effect on a mailbox opened read-write; custom
 * commands (CURLOPT_CUSTOMREQUEST) return only their untagged "*" lines, so
 * they cannot carry a message body. The poll therefore opens the mailbox
 * read-only (EXAMINE) on the connection curl keeps, so the fetches change
 * no flag; then, once the messages are committed, opens it read-write
 * (SELECT) for one "UID STORE set +FLAGS (\Seen)" or "UID MOVE set folder".
 * curl believes the mailbox selected throughout, so it issues neither
 * command itself in between. (Should the connection drop and curl open a
 * new one, its own SELECT makes the fetch set \Seen early; the UID record
 * above still guarantees nothing is skipped.)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "email_int.h"
#include "store/store.h"

struct imap {
	CURL *c;
	char *base;         /* scheme://user:pw@host:port/ */
	char *mbox_url;     /* base + the mailbox, URL-encoded */
	char *mailbox;      /* decoded, for commands */
	char *key;          /* the state key: the URL without its password */
	long timeout_ms;
	struct fl_buf resp; /* untagged response lines, or the fetched message */
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
	struct fl_buf *b = arg;

	fl_buf_add(b, p, size * n);
	return size * n;
}

static void imap_release(struct imap *m)
{
	if (m->c)
		curl_easy_cleanup(m->c);
	free(m->base);
	free(m->mbox_url);
	free(m->mailbox);
	free(m->key);
	fl_buf_release(&m->resp);
}

/* Splits url into base, mailbox (default INBOX) and the state key. */
static int imap_setup(struct imap *m, const char *url, long timeout_ms, char **err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *host = NULL, *port = NULL, *path = NULL, *enc = NULL;
	const char *mbox;
	int rc = EMAIL_EINVAL;

	memset(m, 0, sizeof(*m));
	m->resp = (struct fl_buf)FL_BUF_INIT;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "imap") && strcmp(scheme, "imaps")) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		char *masked = fl_mask_url(url);

		*err = fl_asprintf("invalid IMAP URL '%s' (use imap[s]://user:password@host[:port]/MAILBOX)",
				   masked);
		free(masked);
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
	curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
	curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE);
	mbox = path && path[0] == '/' && path[1] ? path + 1 : "INBOX";
	m->mailbox = fl_strndup(mbox, strcspn(mbox, ";/"));
	if (!*m->mailbox) {
		free(m->mailbox);
		m->mailbox = fl_strdup("INBOX");
	}
	enc = curl_easy_escape(NULL, m->mailbox, 0);
	curl_url_set(u, CURLUPART_PATH, "/", 0);
	curl_url_set(u, CURLUPART_QUERY, NULL, 0);
	curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
	{
		char *b = NULL;

		curl_url_get(u, CURLUPART_URL, &b, 0);
		m->base = fl_strdup(b);
		curl_free(b);
	}
	m->mbox_url = fl_asprintf("%s%s", m->base, enc);
	m->key = fl_asprintf("%s://%s%s%s:%s/%s", scheme, user ? user : "", user ? "@" : "", host,
			     port ? port : "", m->mailbox);
	m->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	fl_curl_global_init();
	m->c = curl_easy_init();
	if (!m->c) {
		*err = fl_strdup("cannot create an IMAP client");
		rc = EMAIL_EIMAP;
		goto out;
	}
	rc = EMAIL_OK;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(enc);
	curl_url_cleanup(u);
	return rc;
}

/*
 * One libcurl transfer on the kept connection: a custom command on url
 * (request non-NULL; m->resp gets the untagged lines) or a fetch (NULL;
 * m->resp gets the message). Returns 0, or -1 with *err set.
 */
static int imap_do(struct imap *m, const char *url, const char *request, char **err)
{
	CURLcode cc;

	fl_buf_reset(&m->resp);
	m->errbuf[0] = '\0';
	curl_easy_setopt(m->c, CURLOPT_URL, url);
	curl_easy_setopt(m->c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(m->c, CURLOPT_CUSTOMREQUEST, request);
	curl_easy_setopt(m->c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(m->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(m->c, CURLOPT_TIMEOUT_MS, m->timeout_ms);
	curl_easy_setopt(m->c, CURLOPT_CONNECTTIMEOUT_MS, m->timeout_ms < 10000 ? m->timeout_ms : 10000L);
	curl_easy_setopt(m->c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(m->c, CURLOPT_WRITEDATA, &m->resp);
	curl_easy_setopt(m->c, CURLOPT_ERRORBUFFER, m->errbuf);
	cc = curl_easy_perform(m->c);
	if (cc == CURLE_OK)
		return 0;
	{
		char *masked = fl_mask_url(url);

		*err = fl_asprintf("IMAP %s on '%s' failed: %s", request ? request : "fetch", masked,
				   m->errbuf[0] ? m->errbuf : curl_easy_strerror(cc));
		free(masked);
	}
	return -1;
}

/* The number after "NAME " in the STATUS response, or -1. */
static int64_t status_item(const char *resp, const char *name)
{
	const char *p = strstr(resp, name);
	int64_t v;

	if (!p)
		return -1;
	p += strlen(name);
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (v = 0; isdigit((unsigned char)*p); p++)
		v = v * 10 + (*p - '0');
	return v;
}

/* The UIDs of "* SEARCH 1 2 3" lines, ascending, above min. New array of integers. */
static json_t *search_uids(const char *resp, int64_t min)
{
	json_t *a = json_array();
	const char *p = resp;

	while ((p = strstr(p, "* SEARCH"))) {
		p += strlen("* SEARCH");
		while (*p && *p != '\r' && *p != '\n') {
			int64_t v = 0;

			while (*p == ' ')
				p++;
			if (!isdigit((unsigned char)*p))
				break;
			for (; isdigit((unsigned char)*p); p++)
				v = v * 10 + (*p - '0');
			if (v > min)
				json_array_append_new(a, json_integer(v));
		}
	}
	return a;
}

static int cmp_int(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted union of two arrays of UIDs into *n (caller frees). */
static int64_t *uid_union(const json_t *a, const json_t *b, size_t *n)
{
	size_t na = json_array_size(a), nb = json_array_size(b), i, k = 0;
	int64_t *v = fl_calloc(na + nb + 1, sizeof(*v));

	for (i = 0; i < na; i++)
		v[k++] = json_integer_value(json_array_get(a, i));
	for (i = 0; i < nb; i++)
		v[k++] = json_integer_value(json_array_get(b, i));
	qsort(v, k, sizeof(*v), cmp_int);
	*n = 0;
	for (i = 0; i < k; i++)
		if (!*n || v[*n - 1] != v[i])
			v[(*n)++] = v[i];
	return v;
}

/* A mailbox name as an IMAP quoted string. Caller frees. */
static char *quoted(const char *s)
{
	struct fl_buf b = FL_BUF_INIT;

	fl_buf_addch(&b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fl_buf_addch(&b, '\\');
		if (*s != '\r' && *s != '\n')
			fl_buf_addch(&b, *s);
	}
	fl_buf_addch(&b, '"');
	return fl_buf_detach(&b, NULL);
}

/* Marks the UIDs in set ("1,4,7") seen, or moves them to folder; 0 or -1 with *err. */
static int mark(struct imap *m, const char *set, const char *folder, char **err)
{
	char *q = quoted(m->mailbox), *cmd;
	int rc;

	/* read-write for the flags (curl thinks the mailbox is selected already) */
	cmd = fl_asprintf("SELECT %s", q);
	rc = imap_do(m, m->mbox_url, cmd, err);
	free(cmd);
	if (!rc && folder && *folder) {
		char *f = quoted(folder);

		cmd = fl_asprintf("UID MOVE %s %s", set, f);
		rc = imap_do(m, m->mbox_url, cmd, err);
		free(cmd);
		free(f);
		if (rc) {
			fl_log(FL_LOG_WARN, "imap: %s; marking the messages \\Seen instead", *err);
			free(*err);
			*err = NULL;
		}
	}
	if (!folder || !*folder || rc) {
		cmd = fl_asprintf("UID STORE %s +FLAGS.SILENT (\\Seen)", set);
		rc = imap_do(m, m->mbox_url, cmd, err);
		free(cmd);
	}
	if (!rc) {
		/* back to read-only for the next fetches */
		cmd = fl_asprintf("EXAMINE %s", q);
		rc = imap_do(m, m->mbox_url, cmd, err);
		free(cmd);
	}
	free(q);
	return rc;
}

void email_imap_opts_from_config(struct email_imap_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->url = fl_config_get("FRONTLINE_IMAP_URL");
	o->move_to = fl_config_get("FRONTLINE_IMAP_MOVE_TO");
}

int email_imap_poll(struct store *st, const struct email_imap_opts *io, const struct email_intake_opts *in,
		    struct email_imap_stats *stats, char **err)
{
	struct imap m;
	json_t *newer = NULL, *unseen = NULL;
	struct fl_buf done = FL_BUF_INIT;
	int64_t uidvalidity, stored_validity = 0, last = 0, *uids = NULL, highest;
	size_t n = 0, i;
	char *q = NULL, *cmd = NULL;
	int rc, src;
	bool held = false;
	struct email_intake_opts opts = *in;

	memset(stats, 0, sizeof(*stats));
	*err = NULL;
	if (!io->url || !*io->url) {
		*err = fl_strdup("IMAP is not configured: set FRONTLINE_IMAP_URL");
		return EMAIL_EINVAL;
	}
	if ((rc = imap_setup(&m, io->url, io->timeout_ms, err)))
		return rc;
	opts.source = "imap";
	rc = EMAIL_EIMAP;
	q = quoted(m.mailbox);

	/* 1. the mailbox's identity and counts */
	cmd = fl_asprintf("STATUS %s (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)", q);
	if (imap_do(&m, m.base, cmd, err))
		goto out;
	uidvalidity = status_item(m.resp.buf, "UIDVALIDITY");
	if (uidvalidity < 0) {
		*err = fl_asprintf("the IMAP server's STATUS of %s gave no UIDVALIDITY", m.mailbox);
		goto out;
	}
	stats->uidvalidity = uidvalidity;
	stats->server_messages = (size_t)(status_item(m.resp.buf, "MESSAGES") > 0 ? status_item(m.resp.buf, "MESSAGES") : 0);
	stats->server_unseen = (size_t)(status_item(m.resp.buf, "UNSEEN") > 0 ? status_item(m.resp.buf, "UNSEEN") : 0);

	/* 2. where we stand with it */
	src = store_imap_state_get(st, m.key, &stored_validity, &last);
	if (src && src != STORE_ENOTFOUND) {
		*err = fl_asprintf("cannot read the IMAP state: %s", store_errmsg(st));
		rc = store_err_is_transient(src) ? EMAIL_ETEMP : EMAIL_ESTORE;
		goto out;
	}
	if (src == STORE_OK && stored_validity != uidvalidity) {
		fl_log(FL_LOG_WARN, "imap: %s has a new UIDVALIDITY (%lld, was %lld): every message is looked at again",
		       m.key, (long long)uidvalidity, (long long)stored_validity);
		stats->uidvalidity_changed = true;
		last = 0;
	}
	stats->last_uid = last;
	if (io->move_to && *io->move_to) {
		char *f = quoted(io->move_to);

		free(cmd);
		cmd = fl_asprintf("CREATE %s", f);
		free(f);
		if (imap_do(&m, m.base, cmd, err)) { /* it exists already, most likely */
			free(*err);
			*err = NULL;
		}
	}

	/* 3. what to fetch: above the last UID, and whatever is still unseen */
	free(cmd);
	cmd = fl_asprintf("EXAMINE %s", q);
	if (imap_do(&m, m.mbox_url, cmd, err))
		goto out;
	free(cmd);
	cmd = fl_asprintf("UID SEARCH UID %lld:*", (long long)last + 1);
	if (imap_do(&m, m.mbox_url, cmd, err))
		goto out;
	newer = search_uids(m.resp.buf, last);
	if (imap_do(&m, m.mbox_url, "UID SEARCH UNSEEN", err))
		goto out;
	unseen = search_uids(m.resp.buf, 0);
	if (json_array_size(unseen) != stats->server_unseen)
		fl_log(FL_LOG_WARN, "imap: %s reports %zu unseen messages but its search found %zu", m.key,
		       stats->server_unseen, json_array_size(unseen));
	uids = uid_union(newer, unseen, &n);
	stats->candidates = n;

	/* 4. fetch and store, in UID order; stop at the first temporary failure */
	highest = last;
	rc = EMAIL_OK;
	for (i = 0; i < n; i++) {
		struct email_intake_result r;
		char *url = fl_asprintf("%s/;UID=%lld", m.mbox_url, (long long)uids[i]);
		char *ferr = NULL;
		int irc;

		if (imap_do(&m, url, NULL, &ferr)) {
			/*
			 * expunged meanwhile, or the server failed: the recorded UID stays
			 * below it, so the next poll looks again even if someone reads it
			 */
			fl_log(FL_LOG_WARN, "imap: cannot fetch UID %lld: %s", (long long)uids[i], ferr);
			free(ferr);
			free(url);
			stats->failed++;
			held = true;
			continue;
		}
		free(url);
		stats->fetched++;
		irc = email_intake(st, m.resp.buf, m.resp.len, &opts, &r);
		if (irc == EMAIL_OK) {
			stats->stored += r.outcome == EMAIL_NEW_TICKET || r.outcome == EMAIL_APPENDED;
			stats->duplicates += r.outcome == EMAIL_DUPLICATE;
			stats->quarantined += r.outcome == EMAIL_QUARANTINED;
		} else if (irc == EMAIL_ENOTMSG || irc == EMAIL_ETOOBIG) {
			/* it can never be stored: left in the mailbox, marked, and said so */
			fl_log(FL_LOG_ERROR, "imap: UID %lld of %s refused: %s; it stays in the mailbox",
			       (long long)uids[i], m.key, r.detail ? r.detail : email_strerror(irc));
			stats->refused++;
		} else {
			*err = fl_asprintf("cannot store UID %lld: %s", (long long)uids[i],
					   r.detail ? r.detail : email_strerror(irc));
			email_intake_result_release(&r);
			stats->failed++;
			rc = irc == EMAIL_ETEMP ? EMAIL_ETEMP : EMAIL_ESTORE;
			break;
		}
		email_intake_result_release(&r);
		fl_buf_addf(&done, "%s%lld", done.len ? "," : "", (long long)uids[i]);
		if (uids[i] > highest && !held)
			highest = uids[i];
	}
	if (stats->fetched != stats->candidates)
		fl_log(FL_LOG_WARN, "imap: %s: %zu messages to fetch, %zu fetched", m.key, stats->candidates,
		       stats->fetched);

	/* 5. only now, mark (or move) what is committed, then remember how far we got */
	if (done.len) {
		char *merr = NULL;

		if (mark(&m, done.buf, io->move_to, &merr)) {
			/* stored but not marked: the next poll finds them again, as duplicates */
			fl_log(FL_LOG_WARN, "imap: %s", merr);
			free(merr);
		}
	}
	if (highest != last || src == STORE_ENOTFOUND || stats->uidvalidity_changed) {
		src = store_imap_state_set(st, m.key, uidvalidity, highest);
		if (src && rc == EMAIL_OK) {
			*err = fl_asprintf("cannot record the IMAP state: %s", store_errmsg(st));
			rc = store_err_is_transient(src) ? EMAIL_ETEMP : EMAIL_ESTORE;
		}
	}
	stats->last_uid = highest;
out:
	json_decref(newer);
	json_decref(unseen);
	free(uids);
	free(q);
	free(cmd);
	fl_buf_release(&done);
	imap_release(&m);
	return rc;
}
