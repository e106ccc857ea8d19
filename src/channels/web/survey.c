/*
 * The satisfaction survey's pages (web.h): the question (a score of 1 to 5
 * as a group of radio buttons under one legend, and an optional comment),
 * the thanks, and the page of a link that is unknown or has expired. No
 * script, no inline style; every stored or typed value escaped.
 */
#include <ctype.h>
#include <string.h>

#include "web_int.h"

static const char *const score_words[] = { NULL, "1 - very dissatisfied", "2 - dissatisfied", "3 - neutral",
					   "4 - satisfied", "5 - very satisfied" };

bool web_survey_token_ok(const char *token)
{
	size_t i;

	if (!token || strlen(token) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!isxdigit((unsigned char)token[i]) || isupper((unsigned char)token[i]))
			return false;
	return true;
}

/* "T-000042" for the survey's ticket. */
static void reference(struct fl_buf *b, const json_t *survey)
{
	char tag[FL_TICKET_TAG_SIZE];

	fl_ticket_tag(tag, fl_json_int(survey, "number", 0));
	fl_buf_adds(b, tag);
}

char *web_survey_page(const json_t *survey, const char *action, int score, const char *comment, const char *error)
{
	struct fl_buf b = FL_BUF_INIT;
	int i;

	if (!score)
		score = (int)fl_json_int(survey, "score", 0);
	if (!comment)
		comment = fl_json_str(survey, "comment", "");
	web__head(&b, error ? "Error: how did we do?" : "How did we do?");
	fl_buf_adds(&b, "<h1>How did we do?</h1>\n");
	if (error) {
		fl_buf_adds(&b, "<div class=\"summary\" role=\"alert\"><p>");
		web__esc(&b, error);
		fl_buf_adds(&b, "</p></div>\n");
	}
	fl_buf_adds(&b, "<p>Your request <strong>");
	web__esc(&b, fl_json_str(survey, "subject", ""));
	fl_buf_adds(&b, "</strong> (");
	reference(&b, survey);
	fl_buf_adds(&b, ") was resolved.");
	if (!json_is_null(json_object_get(survey, "answered_at")) && json_object_get(survey, "answered_at"))
		fl_buf_adds(&b, " You have answered already; sending again changes your answer.");
	fl_buf_adds(&b, "</p>\n<form method=\"post\" action=\"");
	web__esc(&b, action);
	fl_buf_adds(&b, "\">\n<fieldset>\n<legend>How satisfied are you with the help you got?</legend>\n");
	for (i = 1; i <= 5; i++)
		fl_buf_addf(&b, "<div class=\"choice\"><input type=\"radio\" id=\"score-%d\" name=\"score\" value=\"%d\"%s%s>"
			    "<label for=\"score-%d\">%s</label></div>\n", i, i, i == score ? " checked" : "",
			    i == 1 ? " required" : "", i, score_words[i]);
	fl_buf_addf(&b, "</fieldset>\n<div class=\"field\">\n<label for=\"f-comment\">Comment (optional)</label>\n"
		    "<textarea id=\"f-comment\" name=\"comment\" rows=\"5\" maxlength=\"%d\">", WEB_COMMENT_MAX);
	web__esc(&b, comment);
	fl_buf_adds(&b, "</textarea>\n</div>\n<button type=\"submit\">Send my answer</button>\n</form>\n"
			"</main>\n</body>\n</html>\n");
	return fl_buf_detach(&b, NULL);
}

char *web_survey_thanks_page(const json_t *survey)
{
	struct fl_buf b = FL_BUF_INIT;
	int score = (int)fl_json_int(survey, "score", 0);

	web__head(&b, "Thank you for your answer");
	fl_buf_adds(&b, "<h1>Thank you</h1>\n<p>We have your answer for ");
	reference(&b, survey);
	fl_buf_addf(&b, ": <strong class=\"score\">%s</strong>.</p>\n<p>You can change it with the same link until ",
		    score >= 1 && score <= 5 ? score_words[score] : "-");
	web__esc(&b, fl_json_str(survey, "expires_at", ""));
	fl_buf_adds(&b, ".</p>\n</main>\n</body>\n</html>\n");
	return fl_buf_detach(&b, NULL);
}

char *web_survey_gone_page(void)
{
	struct fl_buf b = FL_BUF_INIT;

	web__head(&b, "Survey not found");
	fl_buf_adds(&b, "<h1>Survey not found</h1>\n<p>This survey link is unknown or has expired (links work for 28 "
			"days).</p>\n</main>\n</body>\n</html>\n");
	return fl_buf_detach(&b, NULL);
}
