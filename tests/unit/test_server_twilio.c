/*
 * The phone channel (issue 17, point 3): Twilio's signature against the
 * documented example vector (Twilio's security docs and its libraries'
 * tests: auth token 12345, https://mycompany.com/myapp.php?foo=1&bar=2,
 * RSOYDt4T1cUTdK1PDd93/VVr8B8=), card numbers masked, and the voice
 * webhooks over real HTTP (server_fixture.h) with requests signed by an
 * independent implementation (Python's hmac, run by the test): TwiML that
 * records a voicemail, the transcript making the call's ticket (channel
 * phone, card number masked, once per call), 403 for a wrong or missing
 * signature or one made for another URL, 503 unconfigured; the status
 * callback: a missed call's call-back ticket, and a status before the
 * transcription building the same one ticket.
 */
#include "test_helpers.h"

#include <curl/curl.h>

#include "server_fixture.h"
#include "channels/phone/phone.h"

#define TOKEN "twilio-test-auth-token"

static void test_the_documented_vector(void **state)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "CallSid", "CA1234567890ABCDE", "Caller", "+14158675309",
			      "Digits", "1234", "From", "+14158675309", "To", "+18005551212");
	char sig[PHONE_SIGNATURE_SIZE];

	(void)state;
	phone_twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", p, sig);
	assert_string_equal(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	assert_true(phone_twilio_verify("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", p,
					"RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_false(phone_twilio_verify("12346", "https://mycompany.com/myapp.php?foo=1&bar=2", p,
					 "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_false(phone_twilio_verify("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", p,
					 "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	assert_false(phone_twilio_verify("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", p, NULL));
	json_object_set_new(p, "Digits", json_string("1235"));
	assert_false(phone_twilio_verify("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", p,
					 "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
	json_decref(p);
}

static void test_card_numbers_are_masked(void **state)
{
	char *m;

	(void)state;
	m = phone_mask_cards("my card is 4111 1111 1111 1111 expiring soon");
	assert_string_equal(m, "my card is **** **** **** 1111 expiring soon");
	free(m);
	m = phone_mask_cards("card 5500-0000-0000-0004, order 12345678, phone 4155550100");
	assert_string_equal(m, "card ****-****-****-0004, order 12345678, phone 4155550100");
	free(m);
	/* 16 digits failing the Luhn check are not a card */
	m = phone_mask_cards("tracking 1234567812345678");
	assert_string_equal(m, "tracking 1234567812345678");
	free(m);
	m = phone_mask_cards("4111111111111111");
	assert_string_equal(m, "************1111");
	free(m);
}

/* The signature by Python's hmac (an implementation independent of ours). */
static char *python_signature(const char *token, const char *url, const char *const *pairs)
{
	struct fl_buf cmd = FL_BUF_INIT;
	char line[128] = "";
	FILE *p;
	size_t i;

	fl_buf_adds(&cmd, "python3 -c 'import sys,hmac,hashlib,base64\n"
			  "a=sys.argv[1:]; t,u=a[0],a[1]; p=dict(zip(a[2::2],a[3::2]))\n"
			  "s=u+\"\".join(k+p[k] for k in sorted(p))\n"
			  "print(base64.b64encode(hmac.new(t.encode(),s.encode(),hashlib.sha1).digest()).decode())'");
	fl_buf_addf(&cmd, " '%s' '%s'", token, url);
	for (i = 0; pairs[i]; i++)
		fl_buf_addf(&cmd, " '%s'", pairs[i]);   /* the test's own values: no quotes in them */
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	fl_buf_release(&cmd);
	line[strcspn(line, "\n")] = '\0';
	return fl_strdup(line);
}

static void post_signed(struct fx *f, const char *path, const char *const *pairs, const char *signature,
			struct http_resp *out)
{
	struct fl_buf body = FL_BUF_INIT;
	char *url = fl_asprintf("%s%s", f->base, path), *h = signature ? fl_asprintf("X-Twilio-Signature: %s", signature) : NULL;
	const char *headers[] = { h, NULL };
	struct http_req q = { 0 };
	size_t i;

	for (i = 0; pairs[i]; i += 2) {
		char *v = curl_easy_escape(NULL, pairs[i + 1], 0);

		fl_buf_addf(&body, "%s%s=%s", i ? "&" : "", pairs[i], v);
		curl_free(v);
	}
	q.method = "POST";
	q.url = url;
	q.body = body.buf;
	q.content_type = "application/x-www-form-urlencoded";
	q.headers = h ? headers : NULL;
	http_do(&q, out);
	free(url);
	free(h);
	fl_buf_release(&body);
}

static void test_voice_webhooks_make_the_calls_ticket(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char *url, *sig, *ct;
	const char *voice[] = { "CallSid", "CAtest0001", "From", "+14155550100", "To", "+18005550199", "CallStatus",
				"ringing", NULL };
	const char *text[] = { "CallSid", "CAtest0001", "From", "+14155550100", "To", "+18005550199",
			       "TranscriptionStatus", "completed", "RecordingUrl", "https://api.twilio.com/rec/RE1",
			       "TranscriptionText", "Hi, my card 4111 1111 1111 1111 was charged twice for order 881, please refund one.",
			       NULL };

	fx_start(f, -1, false);
	/* unconfigured: refused, never accepted unsigned */
	post_signed(f, "/webhooks/twilio/voice", voice, "x", &r);
	fx_expect(&r, 503, NULL);
	http_resp_release(&r);
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", TOKEN);
	fl_config_set("FRONTLINE_PUBLIC_URL", "https://support.example.com/");
	url = fl_asprintf("https://support.example.com/webhooks/twilio/voice");
	sig = python_signature(TOKEN, url, voice);
	free(url);
	post_signed(f, "/webhooks/twilio/voice", voice, sig, &r);
	assert_int_equal(r.status, 200);
	ct = http_resp_header(&r, "Content-Type");
	assert_true(fl_str_has_prefix(ct, "text/xml"));
	assert_non_null(strstr(r.body, "<Record "));
	assert_non_null(strstr(r.body, "transcribe=\"true\""));
	assert_non_null(strstr(r.body, "transcribeCallback=\"https://support.example.com/webhooks/twilio/transcription\""));
	free(ct);
	http_resp_release(&r);
	/* the same signature on another route (another URL), none, or a changed parameter: 403 */
	post_signed(f, "/webhooks/twilio/transcription", voice, sig, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	post_signed(f, "/webhooks/twilio/voice", voice, NULL, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	{
		const char *changed[] = { "CallSid", "CAtest0001", "From", "+14155550101", "To", "+18005550199",
					  "CallStatus", "ringing", NULL };

		post_signed(f, "/webhooks/twilio/voice", changed, sig, &r);
		fx_expect(&r, 403, "forbidden");
		http_resp_release(&r);
	}
	free(sig);
	/* the transcript: the call's ticket, card number masked, once */
	url = fl_asprintf("https://support.example.com/webhooks/twilio/transcription");
	sig = python_signature(TOKEN, url, text);
	free(url);
	post_signed(f, "/webhooks/twilio/transcription", text, sig, &r);
	assert_int_equal(r.status, 201);
	http_resp_release(&r);
	post_signed(f, "/webhooks/twilio/transcription", text, sig, &r);
	assert_int_equal(r.status, 200);   /* the same call: the same ticket */
	http_resp_release(&r);
	free(sig);
	fx_call(f, "GET", "/api/v1/tickets/twilio_CAtest0001", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "channel", ""), "phone");
	assert_string_equal(fl_json_str(r.json, "customer_id", ""), "+14155550100");
	assert_null(strstr(r.body, "4111 1111 1111 1111"));
	assert_non_null(strstr(fl_json_str(r.json, "content", ""), "**** **** **** 1111"));
	assert_string_equal(fl_json_str(json_object_get(r.json, "metadata"), "recording_url", ""),
			    "https://api.twilio.com/rec/RE1");
	http_resp_release(&r);
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", "");
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
}

/* A signed request to path with pairs, signed by the independent implementation. */
static void post_twilio(struct fx *f, const char *path, const char *const *pairs, struct http_resp *r)
{
	char *url = fl_asprintf("https://support.example.com%s", path), *sig = python_signature(TOKEN, url, pairs);

	post_signed(f, path, pairs, sig, r);
	free(url);
	free(sig);
}

static void test_status_callbacks_and_missed_calls(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	const char *missed[] = { "CallSid", "CAmissed01", "From", "+14155550177", "To", "+18005550199", "CallStatus",
				 "no-answer", NULL };
	const char *done[] = { "CallSid", "CAlate0001", "From", "+14155550178", "To", "+18005550199", "CallStatus",
			       "completed", NULL };
	const char *text[] = { "CallSid", "CAlate0001", "From", "+14155550178", "To", "+18005550199",
			       "TranscriptionStatus", "completed", "RecordingUrl", "https://api.twilio.com/rec/RE2",
			       "TranscriptionText", "Hello, my invoice for March shows the wrong amount.", NULL };
	const char *empty[] = { "CallSid", "CAhangup01", "From", "+14155550179", "To", "+18005550199",
				"TranscriptionStatus", "failed", NULL };

	fx_start(f, -1, false);
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", TOKEN);
	fl_config_set("FRONTLINE_PUBLIC_URL", "https://support.example.com");
	/* unsigned: refused */
	post_signed(f, "/webhooks/twilio/status", missed, NULL, &r);
	fx_expect(&r, 403, "forbidden");
	http_resp_release(&r);
	/* a call no one answered: a call-back ticket */
	post_twilio(f, "/webhooks/twilio/status", missed, &r);
	assert_int_equal(r.status, 201);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/twilio_CAmissed01", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "subject", ""), "Missed call from +14155550177");
	assert_true(json_is_true(json_object_get(json_object_get(r.json, "metadata"), "call_back")));
	http_resp_release(&r);
	/* the status callback before the transcription: one ticket, the transcript its content at last */
	post_twilio(f, "/webhooks/twilio/status", done, &r);
	assert_int_equal(r.status, 201);
	http_resp_release(&r);
	post_twilio(f, "/webhooks/twilio/transcription", text, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_true(json_object_get(r.json, "retriaged")));
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/twilio_CAlate0001", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "content", ""), "Hello, my invoice for March shows the wrong amount.");
	assert_string_equal(fl_json_str(json_object_get(r.json, "metadata"), "recording_url", ""),
			    "https://api.twilio.com/rec/RE2");
	http_resp_release(&r);
	/* a voicemail with neither recording nor transcript: a missed call */
	post_twilio(f, "/webhooks/twilio/transcription", empty, &r);
	assert_int_equal(r.status, 201);
	http_resp_release(&r);
	fx_call(f, "GET", "/api/v1/tickets/twilio_CAhangup01", f->admin, NULL, &r);
	fx_expect(&r, 200, NULL);
	assert_string_equal(fl_json_str(r.json, "subject", ""), "Missed call from +14155550179");
	http_resp_release(&r);
	fl_config_set("FRONTLINE_TWILIO_AUTH_TOKEN", "");
	fl_config_set("FRONTLINE_PUBLIC_URL", "");
}

static const struct CMUnitTest tests[] = {
	FX_TEST(test_the_documented_vector),
	FX_TEST(test_card_numbers_are_masked),
	FX_TEST(test_voice_webhooks_make_the_calls_ticket),
	FX_TEST(test_status_callbacks_and_missed_calls),
};

int main(void)
{
	return FX_RUN("server_twilio", tests) ? 1 : 0;
}
