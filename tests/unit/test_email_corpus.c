/*
 * email: the parser against real-world mail (FRONTLINE_DATA_DIR/email):
 *
 * - spamassassin: 6,046 raw mails from 2002-2003 (multipart, HTML-only,
 *   base64 and quoted-printable, ISO-8859-1, Windows-1252, ISO-2022-JP,
 *   Big5, KOI8-R, broken MIME, missing Message-IDs, bounces); its manifest
 *   holds Python's decoding of each Subject, From and Message-ID;
 * - mime4j: tricky MIME messages with the decoded bytes of each part that
 *   mime4j expects (the *_decoded_*.bin files), and an mbox;
 * - cpython: the classic edge cases of Python's email test suite.
 *
 * Every message must parse to a ticket or a quarantined ticket (never
 * "not a message", never a crash under ASan), with valid UTF-8 text,
 * bounded content and consistent attachment hashes; the decoded headers must
 * agree with Python's wherever Python did not give up on the bytes (it
 * writes U+FFFD where we decode windows-1252 or the body's charset); every
 * binary part mime4j decodes must be among our attachments, byte for byte.
 * Skipped, saying so, when the data directory is absent.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include <glib.h>

#include "test_helpers.h"

#include "channels/email/email.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct fl_buf b = FL_BUF_INIT;
	char tmp[65536];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		fl_buf_add(&b, tmp, n);
	fclose(f);
	return fl_buf_detach(&b, len);
}

static char *corpus_dir(const char *sub)
{
	const char *d = test_data_dir();
	char *p;
	struct stat st;

	if (!d)
		return NULL;
	p = fl_asprintf("%s/email/%s", d, sub);
	if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(p);
		return NULL;
	}
	return p;
}

static bool utf8_ok(const char *s)
{
	return g_utf8_validate(s, -1, NULL);
}

struct tally {
	size_t messages, quarantined, attachments, html, noisy;
};

/* The checks every corpus message must pass; returns the parse for more checks. */
static void check_message(const char *name, const char *raw, size_t len, struct tally *t,
			  struct email_msg *out)
{
	struct email_msg m;
	char *why = NULL;
	size_t i;
	int rc;

	rc = email_parse(raw, len, NULL, "help.example.com", &m, &why);
	if (rc != EMAIL_OK)
		fail_msg("%s: %s (%s)", name, email_strerror(rc), why ? why : "");
	if (!utf8_ok(m.subject) || !utf8_ok(m.body) || !utf8_ok(m.content))
		fail_msg("%s: text is not valid UTF-8", name);
	if (strchr(m.subject, '\n'))
		fail_msg("%s: subject has a line break", name);
	if (g_utf8_strlen(m.content, -1) > 10000)
		fail_msg("%s: content over 10,000 characters", name);
	if (!m.message_id || !*m.message_id)
		fail_msg("%s: no message id", name);
	if (!m.quarantine && (!m.from.addr || !strchr(m.from.addr, '@')))
		fail_msg("%s: a ticket without a sender address", name);
	for (i = 0; i < m.n_attachments; i++) {
		const struct email_attachment *a = &m.attachments[i];

		if (strlen(a->sha256) != 64 || !a->filename || !*a->filename || strchr(a->filename, '/'))
			fail_msg("%s: attachment %zu is malformed", name, i);
		if (a->data) {
			GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

			g_checksum_update(c, a->data, a->size);
			if (strcmp(g_checksum_get_string(c), a->sha256))
				fail_msg("%s: attachment %zu hash does not match its bytes", name, i);
			g_checksum_free(c);
		}
	}
	t->messages++;
	t->quarantined += m.quarantine != NULL;
	t->attachments += m.n_attachments;
	t->html += m.body_from_html;
	t->noisy += m.noise != 0;
	if (out)
		*out = m;
	else
		email_msg_release(&m);
}

/* ---- spamassassin with Python's manifest ---- */

/*
 * A Message-ID for comparing: GMime drops white space inside it and a dot
 * that ends its domain ("<x@web.>" is "x@web" to it), Python keeps both.
 */
static void id_key(const char *s, struct fl_buf *b)
{
	fl_buf_reset(b);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t')
			continue;
		if (*s == '.' && s[1] == '>')
			continue;
		fl_buf_addch(b, *s);
	}
}

static void collapse_ws(const char *s, struct fl_buf *b)
{
	bool space = false;

	fl_buf_reset(b);
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = b->len > 0;
			continue;
		}
		if (space)
			fl_buf_addch(b, ' ');
		space = false;
		fl_buf_addch(b, *s);
	}
}

static void test_spamassassin_corpus(void **state)
{
	char *dir = corpus_dir("spamassassin"), *manifest, *line, *next;
	struct tally t = { 0 };
	struct fl_buf ours = FL_BUF_INIT, theirs = FL_BUF_INIT;
	size_t mlen, subj_cmp = 0, subj_bad = 0, from_cmp = 0, from_bad = 0, id_cmp = 0, id_bad = 0;
	size_t ham = 0, ham_quarantined = 0;
	int64_t t0 = fl_mono_us();

	(void)state;
	if (!dir) {
		skip();
		return;
	}
	{
		char *p = fl_asprintf("%s/manifest.tsv", dir);

		manifest = slurp(p, &mlen);
		free(p);
	}
	assert_non_null(manifest);
	line = strchr(manifest, '\n') + 1; /* past the header row */
	for (; line && *line; line = next) {
		char *col[17], *p = line, *path, *raw;
		size_t n = 0, len;
		struct email_msg m;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (n < 17) {
			col[n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (n < 16)
			continue;
		path = fl_asprintf("%s/%s", dir, col[0]);
		raw = slurp(path, &len);
		if (!raw)
			fail_msg("cannot read '%s'", path);
		check_message(col[0], raw, len, &t, &m);
		if (!strcmp(col[2], "ham")) {
			ham++;
			ham_quarantined += m.quarantine != NULL;
		}
		/* Subject (column 14) where Python decoded every byte */
		if (!strstr(col[13], "\xEF\xBF\xBD")) {
			subj_cmp++;
			collapse_ws(m.subject, &ours);
			collapse_ws(col[13], &theirs);
			if (strcmp(ours.buf, theirs.buf)) {
				subj_bad++;
				print_message("subject differs in %s:\n  ours:   %s\n  python: %s\n", col[0],
					      ours.buf, theirs.buf);
			}
		}
		/* From (column 15): our address is in Python's rendering of the header */
		if (strchr(col[14], '@') && !strstr(col[14], "=?") && !strchr(col[14], '"') &&
		    !strstr(col[14], "\xEF\xBF\xBD")) {
			from_cmp++;
			if (!m.from.addr || !strstr(col[14], m.from.addr)) {
				from_bad++;
				print_message("sender differs in %s: ours %s, python %s\n", col[0],
					      m.from.addr ? m.from.addr : "(none)", col[14]);
			}
		}
		/* Message-ID (column 16) when it is one plain <id> */
		if (col[15][0] == '<' && fl_str_has_suffix(col[15], ">") && !strchr(col[15] + 1, '<')) {
			char *o = fl_asprintf("<%s>", m.message_id);

			id_cmp++;
			id_key(col[15], &theirs);
			id_key(o, &ours);
			free(o);
			if (strcmp(ours.buf, theirs.buf)) {
				id_bad++;
				print_message("message id differs in %s: ours %s, python %s\n", col[0], ours.buf,
					      theirs.buf);
			}
		}
		email_msg_release(&m);
		free(raw);
		free(path);
	}
	print_message("spamassassin: %zu messages (%zu quarantined, %zu HTML-only, %zu with noise "
		      "flags, %zu attachments) in %.1f s; Python agreement: subject %zu/%zu, sender "
		      "%zu/%zu, message id %zu/%zu\n",
		      t.messages, t.quarantined, t.html, t.noisy, t.attachments,
		      (double)(fl_mono_us() - t0) / 1e6, subj_cmp - subj_bad, subj_cmp,
		      from_cmp - from_bad, from_cmp, id_cmp - id_bad, id_cmp);
	assert_int_equal(t.messages, 6046);
	assert_int_equal(subj_bad, 0);
	assert_int_equal(from_bad, 0);
	assert_int_equal(id_bad, 0);
	/* real correspondence is never quarantined; only broken spam may be */
	assert_int_equal(ham_quarantined, 0);
	assert_true(ham > 4000);
	assert_true(t.quarantined < 10);
	fl_buf_release(&ours);
	fl_buf_release(&theirs);
	free(manifest);
	free(dir);
}

/* ---- mime4j: expected decoded parts ---- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_mime4j_corpus(void **state)
{
	static const char *const subdirs[] = { "testmsgs", "mimetools-testmsgs" };
	char *root = corpus_dir("mime4j-testmsgs");
	struct tally t = { 0 };
	size_t bins = 0, s;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	for (s = 0; s < FL_ARRAY_SIZE(subdirs); s++) {
		char *dir = fl_asprintf("%s/%s", root, subdirs[s]);
		DIR *d = opendir(dir);
		struct dirent *e;
		char **names = NULL;
		size_t n = 0, i;

		assert_non_null(d);
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				names = fl_reallocarray(names, n + 1, sizeof(*names));
				names[n++] = fl_strdup(e->d_name);
			}
		closedir(d);
		qsort(names, n, sizeof(*names), name_cmp);
		for (i = 0; i < n; i++) {
			char *path, *raw, *base;
			size_t len, k;
			struct email_msg m;

			if (!fl_str_has_suffix(names[i], ".msg"))
				continue;
			path = fl_asprintf("%s/%s", dir, names[i]);
			raw = slurp(path, &len);
			assert_non_null(raw);
			check_message(names[i], raw, len, &t, &m);
			base = fl_strndup(names[i], strlen(names[i]) - 4);
			/* each "<base>_decoded_*.bin" is a part whose bytes we must hold */
			for (k = 0; k < n; k++) {
				char *prefix = fl_asprintf("%s_decoded_", base), *bpath, *bytes, hex[65];
				size_t blen, a;
				bool found = false;

				if (!fl_str_has_prefix(names[k], prefix) || !fl_str_has_suffix(names[k], ".bin")) {
					free(prefix);
					continue;
				}
				free(prefix);
				bpath = fl_asprintf("%s/%s", dir, names[k]);
				bytes = slurp(bpath, &blen);
				assert_non_null(bytes);
				{
					GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

					g_checksum_update(c, (const guchar *)bytes, blen);
					fl_strlcpy(hex, g_checksum_get_string(c), sizeof(hex));
					g_checksum_free(c);
				}
				for (a = 0; a < m.n_attachments; a++)
					found |= !strcmp(m.attachments[a].sha256, hex) && m.attachments[a].size == blen;
				if (!found)
					fail_msg("%s: the part in %s (%zu bytes) is not among our %zu attachments",
						 names[i], names[k], blen, m.n_attachments);
				bins++;
				free(bytes);
				free(bpath);
			}
			email_msg_release(&m);
			free(base);
			free(raw);
			free(path);
		}
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		free(dir);
	}
	print_message("mime4j: %zu messages (%zu quarantined), %zu expected binary parts all found\n",
		      t.messages, t.quarantined, bins);
	assert_true(t.messages >= 80);
	assert_true(bins >= 30);
	free(root);
}

/* The mbox holds the same messages as the mbox.rlug-N files: the envelope lines are skipped alike. */
static void test_mime4j_mbox(void **state)
{
	char *root = corpus_dir("mime4j-testmsgs"), *path, *mbox, *p, *start;
	struct tally t = { 0 };
	size_t len, idx = 0;

	(void)state;
	if (!root) {
		skip();
		return;
	}
	path = fl_asprintf("%s/mbox/mbox.rlug", root);
	mbox = slurp(path, &len);
	assert_non_null(mbox);
	for (start = mbox; start && *start; idx++) {
		struct email_msg whole, single;
		char *one, *single_raw, *single_path;
		size_t one_len, slen;

		p = strstr(start + 1, "\nFrom ");
		one_len = p ? (size_t)(p + 1 - start) : strlen(start);
		one = fl_strndup(start, one_len);
		check_message("mbox.rlug", one, one_len, &t, &whole);
		single_path = fl_asprintf("%s/mbox/mbox.rlug-%zu", root, idx);
		single_raw = slurp(single_path, &slen);
		assert_non_null(single_raw);
		check_message(single_path, single_raw, slen, &t, &single);
		assert_string_equal(whole.subject, single.subject);
		assert_string_equal(whole.message_id, single.message_id);
		assert_string_equal(whole.from.addr, single.from.addr);
		email_msg_release(&whole);
		email_msg_release(&single);
		free(single_raw);
		free(single_path);
		free(one);
		start = p ? p + 1 : NULL;
	}
	assert_int_equal(idx, 5);
	free(mbox);
	free(path);
	free(root);
}

/* ---- cpython's edge cases ---- */

static void test_cpython_corpus(void **state)
{
	char *dir = corpus_dir("cpython-test_email");
	struct tally t = { 0 };
	DIR *d;
	struct dirent *e;

	(void)state;
	if (!dir) {
		skip();
		return;
	}
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char *path, *raw;
		size_t len;

		if (!fl_str_has_prefix(e->d_name, "msg_"))
			continue;
		path = fl_asprintf("%s/%s", dir, e->d_name);
		raw = slurp(path, &len);
		assert_non_null(raw);
		check_message(e->d_name, raw, len, &t, NULL);
		free(raw);
		free(path);
	}
	closedir(d);
	print_message("cpython: %zu messages (%zu quarantined)\n", t.messages, t.quarantined);
	assert_true(t.messages >= 47);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spamassassin_corpus),
		cmocka_unit_test(test_mime4j_corpus),
		cmocka_unit_test(test_mime4j_mbox),
		cmocka_unit_test(test_cpython_corpus),
	};

	if (!test_data_dir())
		print_message("email corpus tests skipped: no data directory at FRONTLINE_DATA_DIR\n");
	email_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
