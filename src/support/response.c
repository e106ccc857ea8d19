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

/*
 * Words compared by their first KEY_LEN letters, a stemmer's poor cousin that
 * is enough to see "arrives" in "does not arrive" (one Snowball stemmer per
 * reply would cost more than the reply).
 */
#define KEY_LEN 5
#define MAX_KEYS 96

struct keys {
	char k[MAX_KEYS][KEY_LEN + 1];
	size_t n;
};

/* The distinct keys of s[0..len) (ASCII letters and digits, words of 4 or more). */
static void keys_of(const char *s, size_t len, struct keys *out)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		char w[32], key[KEY_LEN + 1];
		size_t n = 0, i;

		while (p < end && !isalnum((unsigned char)*p))
			p++;
		while (p < end && isalnum((unsigned char)*p)) {
			if (n < sizeof(w))
				w[n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (n < 4 || n >= sizeof(w))
			continue;
		w[n] = '\0';
		if (support__is_stop_word(w))
			continue;
		n = n < KEY_LEN ? n : KEY_LEN;
		memcpy(key, w, n);
		key[n] = '\0';
		for (i = 0; i < out->n && strcmp(out->k[i], key); i++)
			;
		if (i == out->n && out->n < MAX_KEYS)
			memcpy(out->k[out->n++], key, n + 1);
	}
}

/* How many of the ticket's keys the text has. */
static size_t overlap(const struct keys *ticket, const char *s, size_t len)
{
	struct keys k = { .n = 0 };
	size_t i, j, hits = 0;

	keys_of(s, len, &k);
	for (i = 0; i < ticket->n; i++)
		for (j = 0; j < k.n; j++)
			if (!strcmp(ticket->k[i], k.k[j])) {
				hits++;
				break;
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
			fl_buf_addf(&step, " %.*s", (int)m, p);
			line = cnl ? cnl + 1 : NULL;
		}
		if (json_array_size(b->items) < MAX_STEPS)
			json_array_append_new(b->items, json_stringn(step.buf, step.len));
		fl_buf_addf(&b->text, "%s\n", step.buf);
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
	struct keys ticket = { .n = 0 };
	const char *line = content, *head = NULL;
	size_t head_len = 0, best_score = 0;
	json_t *best = NULL;

	*heading = NULL;
	keys_of(ticket_text, strlen(ticket_text), &ticket);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), n;

		if (*line == '#') {
			head = line;
			while (head < line + len && (*head == '#' || *head == ' '))
				head++;
			head_len = (size_t)(line + len - head);
		} else if (list_item(line, len, &n)) {
			struct block b = { head, head_len, NULL, FL_BUF_INIT };
			size_t score;

			read_block(&line, &b);
			score = overlap(&ticket, b.text.buf, b.text.len) +
				(head ? 2 * overlap(&ticket, head, head_len) : 0);
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
		}
		line = nl ? nl + 1 : NULL;
	}
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

json_t *support__response_builtin(const json_t *ticket, const json_t *customer,
				  const json_t *sentiment, const json_t *categorization,
				  const json_t *priority, const json_t *kb_results)
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
	bool grounded = best && relevance >= SUPPORT_MIN_RELEVANCE;
	bool unsure = confidence < SUPPORT_MIN_CONFIDENCE;
	struct fl_buf text = FL_BUF_INIT;
	json_t *next = json_array(), *refs = json_array(), *steps = NULL, *out;
	char name[64], sla[32];
	const char *estimate;
	size_t i;

	first_name(name, sizeof(name), customer);
	support__format_duration(sla, sizeof(sla), support__sla_seconds(prio, tier));
	fl_buf_addf(&text, "Hi %s,\n\n%s ", name, opening_for(level));
	fl_buf_addf(&text, "We've received your request \"%s\".\n\n", fl_json_str(ticket, "subject", ""));
	if (grounded) {
		const char *title = fl_json_str(best, "title", "our help article");

		char *ticket_text = fl_asprintf("%s\n%s", fl_json_str(ticket, "subject", ""),
						fl_json_str(ticket, "content", ""));
		char *heading = NULL;

		steps = article_steps(fl_json_str(best, "content", ""), ticket_text, &heading);
		free(ticket_text);
		json_array_append_new(refs, json_string(fl_json_str(best, "id", "")));
		if (json_array_size(steps) && heading)
			fl_buf_addf(&text, "Our guide \"%s\" covers this. Under \"%s\", it recommends:\n",
				    title, heading);
		else if (json_array_size(steps))
			fl_buf_addf(&text, "Our guide \"%s\" covers this. It recommends:\n", title);
		free(heading);
		if (json_array_size(steps)) {
			for (i = 0; i < json_array_size(steps); i++)
				fl_buf_addf(&text, "%zu. %s\n", i + 1, json_string_value(json_array_get(steps, i)));
			fl_buf_addch(&text, '\n');
		} else {
			struct fl_buf summary = FL_BUF_INIT;

			article_summary(&summary, fl_json_str(best, "content", ""));
			fl_buf_addf(&text, "Our guide \"%s\" covers this: %s\n\n", title, summary.buf);
			fl_buf_release(&summary);
		}
		fl_buf_addf(&text, "If this doesn't solve it, reply to this message and a member of our "
			    "team will take it from there within %s.\n\n", sla);
		json_array_append_new(next, json_sprintf("Follow the steps in \"%s\"", title));
		json_array_append_new(next, json_string("Reply to this ticket if the issue persists"));
	} else {
		fl_buf_addf(&text, "A member of our %s team will look into it personally and get back "
			    "to you within %s.\n\n",
			    fl_json_str(categorization, "suggested_department", "support"), sla);
		json_array_append_new(next, json_sprintf("A specialist reviews the ticket within %s", sla));
		json_array_append_new(next, json_string("Reply with any details that could help (screenshots, error messages, order numbers)"));
	}
	if (!strcmp(prio, "urgent") || !strcmp(prio, "high"))
		fl_buf_addf(&text, "We've marked your ticket %s as %s priority.\n\n",
			    fl_json_str(ticket, "id", ""), prio);
	fl_buf_adds(&text, "Best regards,\nFrontline Support");
	estimate = resolution_for(category, prio, grounded);
	out = json_pack("{s:s, s:s, s:o, s:o, s:s, s:b, s:b, s:f}",
			"response", text.buf,
			"tone", tone_for(level, approach),
			"articles_referenced", refs,
			"next_steps", next,
			"estimated_resolution_time", estimate ? estimate : sla,
			"escalation_needed", !grounded || unsure,
			"grounded", grounded && !unsure,
			"grounding_relevance", relevance);
	if (steps)
		json_object_set_new(out, "quoted_steps", steps);
	fl_buf_release(&text);
	return out;
}
