/*
 * Tests of util: buffers, number parsing, time formatting and parsing,
 * masking of secrets, JSON helpers, logging, the configuration, the
 * domain's vocabulary and the HTTP POST (against a real local server).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

#include "test_helpers.h"
#include "http_receiver.h"

static void test_buf_grows_and_detaches(void **state)
{
	struct fl_buf b = FL_BUF_INIT;
	char *s;
	size_t len;
	int i;

	(void)state;
	assert_string_equal(b.buf, "");
	for (i = 0; i < 1000; i++)
		fl_buf_addf(&b, "%d,", i);
	assert_true(fl_str_has_prefix(b.buf, "0,1,2,"));
	assert_true(fl_str_has_suffix(b.buf, "998,999,"));
	assert_int_equal(strlen(b.buf), b.len);
	fl_buf_addch(&b, ' ');
	fl_buf_adds(&b, " \n");
	fl_buf_rtrim(&b);
	assert_true(fl_str_has_suffix(b.buf, "999,"));
	s = fl_buf_detach(&b, &len);
	assert_int_equal(strlen(s), len);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.buf, "");
	free(s);
	s = fl_buf_detach(&b, NULL);   /* detaching an empty buffer gives an owned "" */
	assert_string_equal(s, "");
	free(s);
	fl_buf_release(&b);
}

static void test_parse_int_rejects_junk_and_range(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(fl_parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(fl_parse_int64("-7", -10, 10, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(fl_parse_int64("42x", 0, 100, &v), -1);
	assert_int_equal(fl_parse_int64("", 0, 100, &v), -1);
	assert_int_equal(fl_parse_int64(" 4", 0, 100, &v), -1);
	assert_int_equal(fl_parse_int64("101", 0, 100, &v), -1);
	assert_int_equal(fl_parse_int64("99999999999999999999", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(fl_parse_bool("Yes"), 1);
	assert_int_equal(fl_parse_bool("off"), 0);
	assert_int_equal(fl_parse_bool("maybe"), -1);
}

static void test_hex_round_trips_and_refuses_non_digits(void **state)
{
	const unsigned char in[] = { 0x00, 0x7f, 0xa5, 0xff };
	unsigned char out[4];
	char hex[9];

	(void)state;
	fl_hex(hex, in, sizeof(in));
	assert_string_equal(hex, "007fa5ff");
	assert_int_equal(fl_unhex(out, hex, sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(fl_unhex(out, "007FA5FF", sizeof(out)), 0);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(fl_unhex(out, "007fa5fg", sizeof(out)), -1);
	assert_int_equal(fl_unhex(out, "x07fa5ff", sizeof(out)), -1);
	assert_int_equal(fl_unhex(out, "", 0), 0);
}

static void test_time_round_trips(void **state)
{
	char buf[32];
	int64_t t;

	(void)state;
	fl_time_rfc3339(buf, INT64_C(1700000000123456));
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
	assert_int_equal(fl_time_parse(buf, &t), 0);
	assert_int_equal(t, INT64_C(1700000000123000));
	assert_int_equal(fl_time_parse("2023-01-15", &t), 0);
	assert_int_equal(t, INT64_C(1673740800000000));
	assert_int_equal(fl_time_parse("2023-01-15T01:00:00+01:00", &t), 0);
	assert_int_equal(t, INT64_C(1673740800000000));
	assert_int_equal(fl_time_parse("2023-13-15", &t), -1);
	assert_int_equal(fl_time_parse("yesterday", &t), -1);
	assert_true(fl_mono_us() > 0);
}

/*
 * Found by tests/fuzz/fuzz_ticket: a ticket's created_at of year 152 was
 * written back as "152-05-01T...", which nothing could read again (the store
 * refused the ticket with a vague error). Every time written is read back;
 * an instant whose year is not 0000 to 9999 in UTC is not readable.
 */
static void test_time_every_year_round_trips(void **state)
{
	static const char *const ok[] = {
		"0152-05-01T09:30:00Z", "0000-01-01T00:00:00Z", "0999-12-31T23:59:59.500Z", "9999-12-31T23:59:59Z",
		"0001-01-01T00:30:00+00:30",
	};
	char buf[32];
	int64_t t, t2;
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(ok); i++) {
		assert_int_equal(fl_time_parse(ok[i], &t), 0);
		fl_time_rfc3339(buf, t);
		assert_int_equal(fl_time_parse(buf, &t2), 0);
		assert_true(t2 == t);
	}
	fl_time_rfc3339(buf, INT64_C(-62135596800) * 1000000);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	fl_time_rfc3339(buf, INT64_C(253402300800) * 1000000);
	assert_string_equal(buf, "0000-00-00T00:00:00.000Z");
	assert_int_equal(fl_time_parse("0000-01-01T00:00:00+01:00", &t), -1);
	assert_int_equal(fl_time_parse("9999-12-31T23:59:59-01:00", &t), -1);
}

static void test_mask_url_hides_passwords(void **state)
{
	char *m;

	(void)state;
	m = fl_mask_url("postgres://alice:s3cret@db.example:5432/frontline");
	assert_string_equal(m, "postgres://alice:***@db.example:5432/frontline");
	free(m);
	m = fl_mask_url("host=/tmp port=5433 password='a b' dbname=x");
	assert_string_equal(m, "host=/tmp port=5433 password=*** dbname=x");
	free(m);
	m = fl_mask_url("sqlite:///var/frontline.db");
	assert_string_equal(m, "sqlite:///var/frontline.db");
	free(m);
	m = fl_mask_secret("sk-ant-0123456789abcdef");
	assert_null(strstr(m, "456789ab"));
	free(m);
}

static void test_json_helpers_default_when_absent(void **state)
{
	json_t *o = json_pack("{s:s, s:i, s:b, s:s, s:f}", "s", "x", "i", 7, "b", 1, "flag", "yes",
			      "f", 0.5);
	char *d;

	(void)state;
	assert_string_equal(fl_json_str(o, "s", "d"), "x");
	assert_string_equal(fl_json_str(o, "i", "d"), "d");
	assert_int_equal(fl_json_int(o, "i", 0), 7);
	assert_int_equal(fl_json_int(o, "missing", -1), -1);
	assert_true(fl_json_bool(o, "b", false));
	assert_true(fl_json_bool(o, "flag", false));
	assert_true(fl_json_num(o, "f", 0) == 0.5);
	assert_string_equal(fl_json_str(NULL, "s", "d"), "d");
	d = fl_json_dumps(NULL);
	assert_string_equal(d, "null");
	free(d);
	json_decref(o);
}

struct captured {
	int lines;
	char last[512];
};

static void sink(void *arg, const char *line)
{
	struct captured *c = arg;

	c->lines++;
	fl_strlcpy(c->last, line, sizeof(c->last));
}

/*
 * fl_json_dumps gives jansson's compact encoding but for reals, which come
 * out in their shortest exact form: compare the bytes on values without
 * reals, and the values read back on values with them.
 */
static void assert_same_as_jansson(const json_t *v, bool reals)
{
	char *ours = fl_json_dumps(v), *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *back = json_loads(ours, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	assert_non_null(theirs);
	assert_non_null(back);
	assert_true(json_equal(back, (json_t *)v));
	if (!reals)
		assert_string_equal(ours, theirs);
	else
		assert_true(strlen(ours) <= strlen(theirs));
	json_decref(back);
	free(ours);
	free(theirs);
}

/* A random value: nested containers, every escape, multi-byte text, and reals when asked. */
static json_t *random_value(unsigned *seed, int depth, bool reals)
{
	static const char *const pieces[] = {
		"plain", "\"quoted\"", "back\\slash", "tab\tnew\nline\r", "\b\f", "\x01\x1f\x7f",
		"caf\xc3\xa9", "\xe2\x82\xac 5", "emoji \xf0\x9f\x98\x80", "/slash/", "", "\xef\xbf\xbf",
		"a longer run of plain text that crosses several eight-byte words, ",
	};
	int kind = rand_r(seed) % (depth > 4 ? 5 : 7);
	json_t *v;
	int i, n;

	if (kind == 3 && !reals)
		kind = 2;
	switch (kind) {
	case 0: return json_null();
	case 1: return json_boolean(rand_r(seed) & 1);
	case 2: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 3 - 1) * 104729);
	case 3: {
		static const double r[] = { 0.0, -0.0, 1.0, 0.1, 1e20, 1e-5, 1e16, 1e17, 3.14159, 1e300,
					    -2.5e-300, 123456789.125, 0.30000000000000004, 0.4704 };

		return json_real(rand_r(seed) & 1 ? r[rand_r(seed) % (sizeof(r) / sizeof(r[0]))]
				 : (double)rand_r(seed) / (double)(rand_r(seed) | 1) * (rand_r(seed) % 7 - 3));
	}
	case 4: {
		struct fl_buf b = FL_BUF_INIT;

		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++)
			fl_buf_adds(&b, pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
		fl_buf_add(&b, "\0nul", rand_r(seed) % 7 == 0 ? 4 : 0);
		v = json_stringn(b.buf, b.len);
		fl_buf_release(&b);
		return v;
	}
	case 5:
		v = json_array();
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(seed, depth + 1, reals));
		return v;
	default:
		v = json_object();
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++) {
			char key[32];

			snprintf(key, sizeof(key), "k%d\"\n\xc3\xa9%d", rand_r(seed) % 100, i);
			json_object_set_new(v, key, random_value(seed, depth + 1, reals));
		}
		return v;
	}
}

static void test_json_dumps_matches_jansson(void **state)
{
	static const struct { double v; const char *text; } reals[] = {
		{ 0.4704, "0.4704" }, { 0.1, "0.1" }, { 1.0, "1.0" }, { -0.0, "-0.0" }, { 1e20, "1e20" },
		{ 1e-5, "1e-5" }, { 1e16, "1e16" }, { 0.30000000000000004, "0.30000000000000004" },
		{ 123456789.125, "123456789.125" }, { 2.5e-300, "2.5e-300" },
	};
	struct fl_buf b = FL_BUF_INIT;
	unsigned seed = 20261125;
	json_t *v;
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < sizeof(reals) / sizeof(reals[0]); k++) {
		char *s;

		v = json_real(reals[k].v);
		s = fl_json_dumps(v);
		assert_string_equal(s, reals[k].text);
		free(s);
		json_decref(v);
	}
	v = json_pack("{s:I, s:I, s:s, s:[]}", "d", (json_int_t)INT64_MIN, "e", (json_int_t)INT64_MAX,
		      "f", "\x1b[0m", "g");
	assert_same_as_jansson(v, false);
	json_decref(v);
	for (i = 0; i < 3000; i++) {
		v = random_value(&seed, 0, i % 2);
		assert_same_as_jansson(v, i % 2);
		json_decref(v);
	}
	/* reals against the slow, obvious way: the shortest %.Ng that reads back, in JSON's form */
	for (i = 0; i < 20000; i++) {
		double x = (double)(rand_r(&seed) % 2000001 - 1000000) /
			   (double[]){ 1, 10, 100, 1e4, 1e6, 7, 3e3, 1e-3 }[i % 8];
		char want[48], *s, *e;
		int prec;

		for (prec = 15; prec <= 17; prec++) {
			snprintf(want, sizeof(want), "%.*g", prec, x);
			if (strtod(want, NULL) == x)
				break;
		}
		if (!strchr(want, '.') && !strchr(want, 'e'))
			strcat(want, ".0");
		if ((e = strchr(want, 'e'))) {
			char *d = e + 1 + (e[1] == '-'), *from = d + (*d == '+');

			while (*from == '0' && from[1])
				from++;
			memmove(d, from, strlen(from) + 1);
		}
		v = json_real(x);
		s = fl_json_dumps(v);
		assert_string_equal(s, want);
		free(s);
		json_decref(v);
	}
	/* invalid UTF-8 (a string made without jansson's check) is refused, the buffer left as it was */
	v = json_pack("[s, o]", "ok", json_stringn_nocheck("\xc3\x28", 2));
	fl_buf_adds(&b, "x");
	assert_int_equal(fl_json_encode(&b, v), -1);
	assert_string_equal(b.buf, "x");
	fl_buf_release(&b);
	json_decref(v);
}

static void test_utf8_validation(void **state)
{
	static const struct { const char *s; long bad; } cases[] = {
		{ "plain ascii", -1 }, { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", -1 },
		{ "x\xc3", 1 },                /* cut short */
		{ "ab\xc0\xaf", 2 },          /* overlong '/' */
		{ "\xe0\x80\xaf", 0 },       /* overlong, three bytes */
		{ "ok\xed\xa0\x80", 2 },     /* a surrogate */
		{ "\xf4\x90\x80\x80", 0 },  /* past U+10FFFF */
		{ "\xf0\x9f\x98", 0 },       /* four-byte form cut short */
		{ "a\x80", 1 },                /* a lone continuation byte */
		{ "\xef\xbf\xbf", -1 },      /* U+FFFF is a character */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(fl_utf8_invalid_at(cases[i].s, strlen(cases[i].s)), cases[i].bad);
	assert_int_equal(fl_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(fl_utf8_seq((const unsigned char *)"\xe2\x82\xac", 2), 0);
	assert_int_equal(fl_utf8_seq((const unsigned char *)"A", 1), 1);
}

static void test_log_writes_json_lines_at_level(void **state)
{
	struct captured c = { 0 };
	json_t *line, *fields = json_pack("{s:s}", "ticket", "t1");

	(void)state;
	fl_log_setup(FL_LOG_WARN, sink, &c);
	fl_log(FL_LOG_INFO, "dropped");
	assert_int_equal(c.lines, 0);
	fl_log_set_request_id("req-1");
	fl_logj(FL_LOG_ERROR, fields, "cannot open '%s'", "x.db");
	assert_int_equal(c.lines, 1);
	line = json_loads(c.last, 0, NULL);
	assert_non_null(line);
	assert_string_equal(fl_json_str(line, "level", ""), "error");
	assert_string_equal(fl_json_str(line, "msg", ""), "cannot open 'x.db'");
	assert_string_equal(fl_json_str(line, "request_id", ""), "req-1");
	assert_string_equal(fl_json_str(line, "ticket", ""), "t1");
	json_decref(line);
	json_decref(fields);
	fl_log_set_request_id(NULL);
	fl_log_setup(FL_LOG_INFO, NULL, NULL);
	assert_int_equal(fl_log_level_parse("WARNING"), FL_LOG_WARN);
	assert_int_equal(fl_log_level_parse("loud"), -1);
}

static void test_config_precedence_flag_env_file_default(void **state)
{
	char *dir = test_tmpdir(), *path = fl_asprintf("%s/f.conf", dir), *err = NULL;
	FILE *f = fopen(path, "w");
	json_t *dump;

	(void)state;
	fprintf(f, "# comment\nFRONTLINE_LISTEN=0.0.0.0:9000\nFRONTLINE_WORKERS = \"3\"\n"
		   "API_KEY=sk-secret-value-123456\nNOT_A_KEY=1\n");
	fclose(f);
	setenv("FRONTLINE_WORKERS", "5", 1);
	fl_log_setup(FL_LOG_ERROR, NULL, NULL);   /* the unknown key warns */
	assert_int_equal(fl_config_load(path, true, &err), 0);
	fl_log_setup(FL_LOG_INFO, NULL, NULL);
	assert_string_equal(fl_config_get("FRONTLINE_LISTEN"), "0.0.0.0:9000");
	assert_string_equal(fl_config_source("FRONTLINE_LISTEN"), "file");
	assert_int_equal(fl_config_int("FRONTLINE_WORKERS", 0), 5);   /* env beats file */
	assert_string_equal(fl_config_source("FRONTLINE_WORKERS"), "env");
	fl_config_set("FRONTLINE_WORKERS", "7");                       /* flag beats env */
	assert_int_equal(fl_config_int("FRONTLINE_WORKERS", 0), 7);
	assert_string_equal(fl_config_get("FRONTLINE_DATABASE_URL"), "sqlite://./var/frontline.db");
	assert_string_equal(fl_config_source("FRONTLINE_DATABASE_URL"), "default");
	dump = fl_config_dump();
	assert_null(strstr(fl_json_str(json_object_get(dump, "API_KEY"), "value", ""), "secret-value"));
	json_decref(dump);
	unsetenv("FRONTLINE_WORKERS");
	fl_config_free();

	f = fopen(path, "w");
	fprintf(f, "FRONTLINE_LISTEN\n");
	fclose(f);
	assert_int_equal(fl_config_load(path, true, &err), -1);
	assert_non_null(strstr(err, "f.conf:1: expected KEY=value"));
	free(err);
	fl_config_free();
	assert_int_equal(fl_config_load("/nonexistent/x.conf", false, &err), 0);
	assert_int_equal(fl_config_load("/nonexistent/x.conf", true, &err), -1);
	free(err);
	fl_config_free();
	test_tmpdir_remove(dir);
	free(path);
	free(dir);
}

/* Writes text to dir/f.conf and loads it; returns fl_config_load's result. */
static int load_text(const char *dir, const char *text, char **err)
{
	char *path = fl_asprintf("%s/f.conf", dir);
	FILE *f = fopen(path, "w");
	int rc;

	fputs(text, f);
	fclose(f);
	fl_config_free();
	*err = NULL;
	rc = fl_config_load(path, true, err);
	free(path);
	return rc;
}

/* Found by tests/fuzz/fuzz_config: "export KEY=value" took 7 bytes past the line for its value. */
static void test_config_export_prefix_keeps_the_value(void **state)
{
	char *dir = test_tmpdir(), *err = NULL;

	(void)state;
	assert_int_equal(load_text(dir, "export FRONTLINE_LISTEN=1.2.3.4:5\nexport FRONTLINE_WORKERS = '3' \n", &err), 0);
	assert_string_equal(fl_config_get("FRONTLINE_LISTEN"), "1.2.3.4:5");
	assert_string_equal(fl_config_get("FRONTLINE_WORKERS"), "3");
	fl_config_free();
	test_tmpdir_remove(dir);
	free(dir);
}

/*
 * Found by tests/fuzz/fuzz_config: a value that is not UTF-8 made the dump and
 * `frontline llm check --json` (which crashed) unable to show it; such a file is
 * refused, naming the line.
 */
static void test_config_refuses_values_not_utf8(void **state)
{
	char *dir = test_tmpdir(), *err = NULL;

	(void)state;
	assert_int_equal(load_text(dir, "# caf\xe9\nFRONTLINE_LISTEN=x\nAPI_KEY=\x95\x9a\x8e\xed-0123456789\n", &err), -1);
	assert_non_null(strstr(err, "f.conf:3: the value is not valid UTF-8"));
	free(err);
	setenv("ANTHROPIC_MODEL", "m\xff", 1);
	assert_int_equal(load_text(dir, "", &err), -1);
	assert_non_null(strstr(err, "ANTHROPIC_MODEL is not valid UTF-8"));
	free(err);
	unsetenv("ANTHROPIC_MODEL");
	fl_config_free();
	test_tmpdir_remove(dir);
	free(dir);
}

/* Found by tests/fuzz/fuzz_config: the mask cut a character in two, and the JSON holding it failed. */
static void test_mask_secret_keeps_characters_whole(void **state)
{
	static const char *const secrets[] = {
		"a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
		"\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91",
	};
	size_t i;

	(void)state;
	for (i = 0; i < FL_ARRAY_SIZE(secrets); i++) {
		char *m = fl_mask_secret(secrets[i]);

		assert_true(fl_utf8_invalid_at(m, strlen(m)) < 0);
		assert_non_null(strstr(m, "..."));
		free(m);
	}
}

/* ---- the domain's vocabulary ---- */

static void test_vocabulary_lists_and_tags(void **state)
{
	char tag[FL_TICKET_TAG_SIZE], *joined;

	(void)state;
	assert_int_equal(fl_word_index(fl_channels, "webhook"), 3);
	assert_int_equal(fl_word_index(fl_channels, "pigeon"), -1);
	assert_int_equal(fl_word_index(fl_statuses, NULL), -1);
	assert_string_equal(fl_statuses[fl_word_index(fl_statuses, FL_STATUS_WAITING)], "waiting_on_customer");
	joined = fl_words_join(fl_channels, ", ");
	assert_string_equal(joined, "email, chat, web, webhook, phone, api");
	free(joined);
	joined = fl_words_join(fl_priorities, "|");
	assert_string_equal(joined, "low|medium|high|urgent");
	free(joined);

	fl_ticket_tag(tag, 42);
	assert_string_equal(tag, "T-000042");
	fl_ticket_tag(tag, 12345678);
	assert_string_equal(tag, "T-12345678");
	assert_int_equal(fl_ticket_tag_parse("T-000042"), 42);
	assert_int_equal(fl_ticket_tag_parse("T-42"), 42);
	assert_int_equal(fl_ticket_tag_parse("T-0"), -1);
	assert_int_equal(fl_ticket_tag_parse("t-42"), -1);
	assert_int_equal(fl_ticket_tag_parse("T-42x"), -1);
	assert_int_equal(fl_ticket_tag_parse("T-+42"), -1);
	assert_int_equal(fl_ticket_tag_parse("ticket_42"), -1);
	assert_int_equal(fl_ticket_tag_parse(NULL), -1);
	/* the reserved form, whatever the number */
	assert_true(fl_ticket_tag_form("T-000000"));
	assert_true(fl_ticket_tag_form("T-99999999999999999999999"));
	assert_false(fl_ticket_tag_form("T-"));
	assert_false(fl_ticket_tag_form("T-1a"));
	assert_false(fl_ticket_tag_form("X-1"));
}

/* ---- HTTP POST ---- */

static void test_http_post_sends_and_reads_the_answer(void **state)
{
	struct http_receiver *rx = http_receiver_start();
	char *url = http_receiver_url(rx, "/hook");
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct fl_http_post post = { .url = url, .headers = h, .body = "{\"a\":1}", .body_len = 7,
				     .timeout_ms = 5000, .connect_timeout_ms = 2000 };
	struct fl_http_result res;
	json_t *reqs, *r0;

	(void)state;
	assert_non_null(rx);
	fl_curl_global_init();
	http_receiver_respond(rx, 429, 7);
	assert_int_equal(fl_http_post(&post, &res), 0);
	assert_int_equal(res.status, 429);
	assert_int_equal(res.retry_after_ms, 7000);
	assert_string_equal(res.body.buf, "ok");
	assert_true(res.elapsed_us > 0);
	fl_http_result_release(&res);
	reqs = http_receiver_requests(rx);
	r0 = json_array_get(reqs, 0);
	assert_string_equal(fl_json_str(r0, "method", ""), "POST");
	assert_string_equal(fl_json_str(r0, "body", ""), "{\"a\":1}");
	assert_string_equal(fl_json_str(json_object_get(r0, "headers"), "content-type", ""), "application/json");
	assert_true(fl_str_has_prefix(fl_json_str(json_object_get(r0, "headers"), "user-agent", ""), "Frontline/"));
	json_decref(reqs);

	/* an answer past the cap: cut when asked, else the transfer fails */
	http_receiver_respond(rx, 200, 0);
	post.max_body = 1;
	post.truncate = true;
	assert_int_equal(fl_http_post(&post, &res), 0);
	assert_string_equal(res.body.buf, "o");
	assert_int_equal(res.retry_after_ms, -1);
	fl_http_result_release(&res);
	post.truncate = false;
	assert_int_not_equal(fl_http_post(&post, &res), 0);
	assert_true(res.error[0] != '\0');
	fl_http_result_release(&res);

	/* nothing listening; no other scheme than http(s) */
	http_receiver_stop(rx);
	assert_int_not_equal(fl_http_post(&post, &res), 0);
	assert_int_equal(res.status, 0);
	fl_http_result_release(&res);
	post.url = "ftp://127.0.0.1/x";
	assert_int_not_equal(fl_http_post(&post, &res), 0);
	fl_http_result_release(&res);
	curl_slist_free_all(h);
	curl_global_cleanup();
	free(url);
}

static void test_random_is_random(void **state)
{
	double u = fl_random_unit();

	(void)state;
	assert_true(u >= 0 && u < 1);
	assert_true(fl_random_u64() != fl_random_u64());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_grows_and_detaches),
		cmocka_unit_test(test_parse_int_rejects_junk_and_range),
		cmocka_unit_test(test_hex_round_trips_and_refuses_non_digits),
		cmocka_unit_test(test_time_round_trips),
		cmocka_unit_test(test_time_every_year_round_trips),
		cmocka_unit_test(test_mask_url_hides_passwords),
		cmocka_unit_test(test_json_helpers_default_when_absent),
		cmocka_unit_test(test_json_dumps_matches_jansson),
		cmocka_unit_test(test_utf8_validation),
		cmocka_unit_test(test_log_writes_json_lines_at_level),
		cmocka_unit_test(test_config_precedence_flag_env_file_default),
		cmocka_unit_test(test_config_export_prefix_keeps_the_value),
		cmocka_unit_test(test_config_refuses_values_not_utf8),
		cmocka_unit_test(test_mask_secret_keeps_characters_whole),
		cmocka_unit_test(test_random_is_random),
		cmocka_unit_test(test_vocabulary_lists_and_tags),
		cmocka_unit_test(test_http_post_sends_and_reads_the_answer),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
