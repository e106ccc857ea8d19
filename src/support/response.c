/*
 * The built-in reply writer. A reply is grounded in the most relevant KB
 * article: its numbered or bulleted steps are quoted verbatim (or, without
 * steps, its opening sentences), so the reply never promises what the
 * article does not say. Tone follows the sentiment and recommended approach;
 * the greeting uses the customer's name from the CRM. When no article is
 * relevant enough, or the analysis is unsure, the reply only acknowledges the
 * ticket and states the response time the SLA table promises, and
 * escalation_needed is set.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "support_int.h"

#define MAX_STEPS 6

/* The first word of a name, for "Hi John,". */
static void first_name(char *out, size_t size, const json_t *customer)
{
	const char *name = fl_json_str(customer, "name", NULL);
	size_t n;

	if (!name || !*name) {
		fl_strlcpy(out, "there", size);
		return;
	}
	/* an organisation is greeted as a team: "Hi Acme Corp team," */
	if (strstr(name, " Corp") || strstr(name, " Inc") || strstr(name, " LLC") || strstr(name, " Ltd") ||
	    strstr(name, " GmbH") || strstr(name, " Co.") || strstr(name, " Company")) {
		snprintf(out, size, "%s team", name);
		return;
	}
	n = strcspn(name, " \t");
	if (n >= size)
		n = size - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

/* Strips a list marker ("1. ", "2) ", "- ", "* ") from a line; NULL if it has none. */
static const char *list_item(const char *line, size_t len, size_t *item_len)
{
	const char *p = line, *end = line + len;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && isdigit((unsigned char)*p)) {
		while (p < end && isdigit((unsigned char)*p))
			p++;
		if (p >= end || (*p != '.' && *p != ')'))
			return NULL;
		p++;
	} else if (p < end && (*p == '-' || *p == '*')) {
		p++;
	} else {
		return NULL;
	}
	if (p >= end || (*p != ' ' && *p != '\t'))
		return NULL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*item_len = (size_t)(end - p);
	return *item_len ? p : NULL;
}

/* ---- choosing the steps to quote ---- */

/* Words compared by their first SUPPORT_KEY_LEN letters (support_int.h): struct support_keys. */

void support__keys_of(const char *s, size_t len, struct support_keys *out)
{
	support__keys_of_min(s, len, 4, out);
}

/*
 * c lower-cased when it is an ASCII letter or digit, else 0: isalnum() and
 * tolower() of the C locale (the program sets no other), without the calls,
 * for the scans below that read whole articles.
 */
static inline char word_char(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return (char)c;
	c |= 0x20;
	return c >= 'a' && c <= 'z' ? (char)c : 0;
}

/*
 * The next word of p[0..end) of at least min letters (ASCII letters and
 * digits, lower-cased into w[32]); its length, 0 at the end. Longer words
 * than w holds are skipped.
 */
static size_t next_word(const char **pp, const char *end, size_t min, char w[32])
{
	const char *p = *pp;

	while (p < end) {
		size_t n = 0;
		char c;

		while (p < end && !word_char((unsigned char)*p))
			p++;
		while (p < end && (c = word_char((unsigned char)*p))) {
			if (n < 32)
				w[n++] = c;
			p++;
		}
		if (n >= min && n < 32) {
			w[n] = '\0';
			*pp = p;
			return n;
		}
	}
	*pp = p;
	return 0;
}

void support__keys_of_min(const char *s, size_t len, size_t min, struct support_keys *out)
{
	const char *p = s, *end = s + len;
	char w[32];
	size_t n, i;

	while ((n = next_word(&p, end, min, w))) {
		if (support__is_stop_word(w))
			continue;
		w[n < SUPPORT_KEY_LEN ? n : SUPPORT_KEY_LEN] = '\0';
		for (i = 0; i < out->n && strcmp(out->k[i], w); i++)
			;
		if (i == out->n && out->n < SUPPORT_MAX_KEYS)
			memcpy(out->k[out->n++], w, SUPPORT_KEY_LEN + 1);
	}
}

size_t support__keys_overlap(const struct support_keys *ticket, const char *s, size_t len)
{
	return support__keys_overlap_min(ticket, s, len, 4);
}

/*
 * One pass over the text's words, each compared with the (few) keys still
 * missing: a long article costs its length times the keys, not the square
 * of its vocabulary that building its own key set would. Only a word's
 * first SUPPORT_KEY_LEN letters are copied, and a key is compared only
 * when its first letter is the word's.
 */
size_t support__keys_overlap_min(const struct support_keys *ticket, const char *s, size_t len, size_t min)
{
	const char *p = s, *end = s + len;
	bool found[SUPPORT_MAX_KEYS] = { false };
	size_t hits = 0, i, n;
	char w[SUPPORT_KEY_LEN + 1];

	while (hits < ticket->n && p < end) {
		const char *start;

		while (p < end && !word_char((unsigned char)*p))
			p++;
		start = p;
		while (p < end && word_char((unsigned char)*p))
			p++;
		n = (size_t)(p - start);
		if (n < min || n >= 32)
			continue;
		if (n > SUPPORT_KEY_LEN)
			n = SUPPORT_KEY_LEN;
		for (i = 0; i < n; i++)
			w[i] = word_char((unsigned char)start[i]);
		w[n] = '\0';
		for (i = 0; i < ticket->n; i++)
			if (!found[i] && ticket->k[i][0] == w[0] && !strcmp(ticket->k[i], w)) {
				found[i] = true;
				hits++;
				break;
			}
	}
	return hits;
}

/*
 * A list and what it is under: the items (steps) of one contiguous list,
 * and the heading above it. An item wrapped over several lines (its
 * continuation lines indented, not list items themselves) is one item, so no
 * step is quoted cut in mid-sentence.
 */
struct block {
	const char *heading;      /* without the #s; NULL when none */
	size_t heading_len;
	json_t *items;
	struct fl_buf text;       /* heading and items, for scoring */
};

/* Parses the list starting at *pos (a list item line); moves *pos past it. */
static void read_block(const char **pos, struct block *b)
{
	const char *line = *pos;
	struct fl_buf step = FL_BUF_INIT;

	b->items = json_array();
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), n;
		const char *item = list_item(line, len, &n);

		if (!item)
			break;
		line = nl ? nl + 1 : NULL;
		fl_buf_reset(&step);
		fl_buf_add(&step, item, n);
		while (line && (*line == ' ' || *line == '\t')) {
			const char *cnl = strchr(line, '\n'), *p = line;
			size_t clen = cnl ? (size_t)(cnl - line) : strlen(line), m;

			if (list_item(line, clen, &m))
				break;
			while (p < line + clen && isspace((unsigned char)*p))
				p++;
			m = (size_t)(line + clen - p);
			while (m && isspace((unsigned char)p[m - 1]))
				m--;
			if (!m)
				break;
			fl_buf_addch(&step, ' ');
			fl_buf_add(&step, p, m);
			line = cnl ? cnl + 1 : NULL;
		}
		if (json_array_size(b->items) < MAX_STEPS)
			json_array_append_new(b->items, json_stringn(step.buf, step.len));
		fl_buf_add(&b->text, step.buf, step.len);
		fl_buf_addch(&b->text, '\n');
	}
	fl_buf_release(&step);
	*pos = line;
}

/*
 * The steps to quote: of the article's lists, the one whose heading and
 * items share the most words with the ticket (the heading's words count
 * twice: it says what the list is for); on a tie the first. Returns its
 * items (at most MAX_STEPS) and sets *heading to its heading (a copy, or
 * NULL). NULL when the article has no list.
 */
static json_t *article_steps(const char *content, const char *ticket_text, char **heading)
{
	struct support_keys ticket = { .n = 0 };
	const char *line = content, *head = NULL;
	size_t head_len = 0, best_score = 0;
	struct fl_buf intro = FL_BUF_INIT;
	json_t *best = NULL;

	*heading = NULL;
	support__keys_of(ticket_text, strlen(ticket_text), &ticket);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), n;

		if (*line == '#') {
			head = line;
			while (head < line + len && (*head == '#' || *head == ' '))
				head++;
			head_len = (size_t)(line + len - head);
			fl_buf_reset(&intro);
		} else if (list_item(line, len, &n)) {
			struct block b = { head, head_len, NULL, FL_BUF_INIT };
			size_t score;

			/* the lines under the heading say when the list applies ("If you have no backup codes:") */
			fl_buf_add(&b.text, intro.buf, intro.len);
			fl_buf_reset(&intro);
			read_block(&line, &b);
			score = support__keys_overlap(&ticket, b.text.buf, b.text.len) +
				(head ? 2 * support__keys_overlap(&ticket, head, head_len) : 0);
			if (!best || score > best_score) {
				json_decref(best);
				best = b.items;
				best_score = score;
				free(*heading);
				*heading = head ? fl_strndup(head, head_len) : NULL;
			} else {
				json_decref(b.items);
			}
			fl_buf_release(&b.text);
			continue;
		} else {
			fl_buf_add(&intro, line, len);
			fl_buf_addch(&intro, '\n');
		}
		line = nl ? nl + 1 : NULL;
	}
	fl_buf_release(&intro);
	return best;
}

/* The article's first sentences (at most ~300 bytes), skipping headings. */
static void article_summary(struct fl_buf *out, const char *content)
{
	const char *p = content;
	size_t taken = 0;

	while (*p && taken < 300) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *start = p;

		p = nl ? nl + 1 : p + len;
		while (len && isspace((unsigned char)*start))
			start++, len--;
		if (!len || *start == '#')
			continue;
		fl_buf_add(out, start, len);
		fl_buf_addch(out, ' ');
		taken += len;
		if (memchr(start, '.', len))
			break;
	}
	fl_buf_rtrim(out);
}

static const char *tone_for(const char *level, const char *approach)
{
	if (!strcmp(level, "very_negative") || !strcmp(level, "negative") ||
	    (approach && strstr(approach, "empathetic")))
		return "empathetic";
	if (!strcmp(level, "positive") || !strcmp(level, "very_positive"))
		return "friendly";
	return "professional";
}

static const char *opening_for(const char *level)
{
	if (!strcmp(level, "very_negative"))
		return "I'm truly sorry for the trouble this has caused, and I understand how frustrating it is.";
	if (!strcmp(level, "negative"))
		return "I'm sorry you've run into this, and thank you for letting us know.";
	if (!strcmp(level, "positive") || !strcmp(level, "very_positive"))
		return "Thanks for getting in touch, we're glad to help.";
	return "Thank you for reaching out.";
}

/* Resolution estimates by category once the customer follows the article. */
static const char *resolution_for(const char *category, const char *priority, bool grounded)
{
	if (!grounded)
		return NULL;
	if (!strcmp(category, "billing"))
		return "1-2 business days";
	if (!strcmp(category, "account"))
		return !strcmp(priority, "urgent") || !strcmp(priority, "high") ? "within 1 hour" : "within 24 hours";
	if (!strcmp(category, "technical"))
		return "within 24 hours";
	return "within 2 business days";
}

/* The link to an article when FRONTLINE_PUBLIC_URL names the public help centre. Caller frees; NULL: none. */
static char *article_link(const char *id)
{
	const char *base = fl_config_get("FRONTLINE_PUBLIC_URL");
	size_t n;

	if (!base || !*base || !id || !*id)
		return NULL;
	n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	return fl_asprintf("%.*s/articles/%s", (int)n, base, id);
}

/* A paragraph in both forms: plain text and HTML (escaped). */
static void para(struct fl_buf *text, struct fl_buf *html, const char *s)
{
	fl_buf_adds(text, s);
	fl_buf_adds(text, "\n\n");
	fl_buf_adds(html, "<p>");
	support__html_escape(html, s, strlen(s));
	fl_buf_adds(html, "</p>\n");
}

/* The grounded part: the article cited, its steps (Markdown made plain / HTML), or its summary. */
static void write_article(struct fl_buf *text, struct fl_buf *html, const json_t *best, const json_t *steps,
			  const char *heading, bool chat)
{
	const char *title = fl_json_str(best, "title", "our help article");
	char *link = article_link(fl_json_str(best, "id", ""));
	size_t i, max = chat ? 4 : MAX_STEPS;

	fl_buf_addf(text, "Our help article \"%s\"%s%s%s covers this", title, link ? " (" : "", link ? link : "",
		    link ? ")" : "");
	fl_buf_adds(html, "<p>Our help article ");
	if (link) {
		fl_buf_adds(html, "<a href=\"");
		support__html_escape(html, link, strlen(link));
		fl_buf_adds(html, "\">");
	}
	fl_buf_adds(html, "&ldquo;");
	support__html_escape(html, title, strlen(title));
	fl_buf_adds(html, "&rdquo;");
	if (link)
		fl_buf_adds(html, "</a>");
	fl_buf_adds(html, " covers this");
	if (json_array_size(steps)) {
		if (heading) {
			fl_buf_adds(text, ". Under \"");
			support__md_plain(text, heading);
			fl_buf_adds(text, "\":\n");
			fl_buf_adds(html, ". Under &ldquo;");
			support__md_html(html, heading);
			fl_buf_adds(html, "&rdquo;:</p>\n<ol>\n");
		} else {
			fl_buf_adds(text, ":\n");
			fl_buf_adds(html, ":</p>\n<ol>\n");
		}
		for (i = 0; i < json_array_size(steps) && i < max; i++) {
			const char *step = json_string_value(json_array_get(steps, i));

			fl_buf_addf(text, "%zu. ", i + 1);
			support__md_plain(text, step);
			fl_buf_addch(text, '\n');
			fl_buf_adds(html, "<li>");
			support__md_html(html, step);
			fl_buf_adds(html, "</li>\n");
		}
		fl_buf_addch(text, '\n');
		fl_buf_adds(html, "</ol>\n");
	} else {
		struct fl_buf summary = FL_BUF_INIT;

		article_summary(&summary, fl_json_str(best, "content", ""));
		fl_buf_adds(text, ": ");
		support__md_plain(text, summary.buf);
		fl_buf_adds(text, "\n\n");
		fl_buf_adds(html, ": ");
		support__md_html(html, summary.buf);
		fl_buf_adds(html, "</p>\n");
		fl_buf_release(&summary);
	}
	free(link);
}

json_t *support__response_builtin(const struct support_analyzer *analyzer, const json_t *ticket,
				  const json_t *customer, const json_t *sentiment, const json_t *categorization,
				  const json_t *priority, json_t *kb_results, const json_t *message)
{
	const char *level = fl_json_str(sentiment, "sentiment", "neutral");
	const char *approach = fl_json_str(sentiment, "recommended_approach", NULL);
	const char *category = fl_json_str(categorization, "primary_category", "general");
	const char *prio = fl_json_str(priority, "priority", "medium");
	const char *tier = fl_json_str(json_object_get(ticket, "metadata"), "customer_tier",
				       fl_json_str(customer, "tier", "standard"));
	const json_t *best = json_array_get(json_object_get(kb_results, "articles"), 0);
	double relevance = fl_json_num(best, "relevance_score", 0);
	double confidence = fl_json_num(categorization, "confidence", 1);
	bool grounded = best && (support__article_fits(kb_results, ticket, message) ||
				 support__learned_ask(analyzer, ticket, kb_results));
	bool unsure = confidence < SUPPORT_MIN_CONFIDENCE;
	bool chat = fl_str_eq(fl_json_str(ticket, "channel", ""), "chat");
	struct fl_buf text = FL_BUF_INIT, html = FL_BUF_INIT, line = FL_BUF_INIT;
	json_t *next = json_array(), *refs = json_array(), *steps = NULL, *out;
	char name[64], sla[32], *heading = NULL;
	const char *estimate;

	first_name(name, sizeof(name), customer);
	support__format_duration(sla, sizeof(sla), support__sla_seconds(prio, tier));
	fl_buf_addf(&line, "Hi %s,", name);
	para(&text, &html, line.buf);
	if (!chat) {
		fl_buf_reset(&line);
		fl_buf_addf(&line, "%s We've received your request \"%s\".", opening_for(level),
			    fl_json_str(ticket, "subject", ""));
		para(&text, &html, line.buf);
	}
	if (grounded) {
		const char *title = fl_json_str(best, "title", "our help article");
		/*
		 * The section that fits the customer's own words (quoted history and
		 * signature set aside): the conditions they state ("I am the only
		 * admin", "I have no backup codes") pick the section as much as the
		 * question does.
		 */
		struct fl_buf focus = FL_BUF_INIT;

		fl_buf_addf(&focus, "%s\n%s", fl_json_str(ticket, "subject", ""),
			    fl_json_str(message, "body", fl_json_str(ticket, "content", "")));
		steps = article_steps(fl_json_str(best, "content", ""), focus.buf, &heading);
		fl_buf_release(&focus);
		json_array_append_new(refs, json_string(fl_json_str(best, "id", "")));
		write_article(&text, &html, best, steps, heading, chat);
		fl_buf_reset(&line);
		if (chat)
			fl_buf_adds(&line, "If that doesn't solve it, reply here and a person will take over.");
		else
			fl_buf_addf(&line, "If this doesn't solve it, reply to this message and a member of our "
				    "team will take it from there within %s.", sla);
		para(&text, &html, line.buf);
		json_array_append_new(next, json_sprintf("Follow the steps in \"%s\"", title));
		json_array_append_new(next, json_string("Reply to this ticket if the issue persists"));
	} else {
		fl_buf_reset(&line);
		fl_buf_addf(&line, "A member of our support team will look into it personally and get back to you "
			    "within %s.", sla);
		para(&text, &html, line.buf);
		json_array_append_new(next, json_sprintf("A specialist reviews the ticket within %s", sla));
		json_array_append_new(next, json_string("Reply with any details that could help (screenshots, error messages, order numbers)"));
	}
	if (!chat && (!strcmp(prio, "urgent") || !strcmp(prio, "high"))) {
		fl_buf_reset(&line);
		fl_buf_addf(&line, "We've marked your ticket %s as %s priority.", fl_json_str(ticket, "id", ""), prio);
		para(&text, &html, line.buf);
	}
	if (!chat) {
		fl_buf_adds(&text, "Best regards,\nFrontline Support");
		fl_buf_adds(&html, "<p>Best regards,<br>\nFrontline Support</p>\n");
	} else {
		fl_buf_rtrim(&text);
	}
	estimate = resolution_for(category, prio, grounded);
	out = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:b, s:b, s:f}",
			"response", text.buf,
			"response_html", html.buf,
			"tone", tone_for(level, approach),
			"articles_referenced", refs,
			"next_steps", next,
			"estimated_resolution_time", estimate ? estimate : sla,
			"escalation_needed", !grounded || unsure,
			"grounded", grounded && !unsure,
			"grounding_relevance", relevance);
	if (steps)
		json_object_set_new(out, "quoted_steps", steps);
	if (heading)
		json_object_set_new(out, "section", json_string(heading));
	free(heading);
	fl_buf_release(&text);
	fl_buf_release(&html);
	fl_buf_release(&line);
	return out;
}
