/*
 * fake_llm's "model": a valid instance of whatever JSON Schema the request
 * carries, with labels picked from a few keywords of the ticket so that
 * workflow tests see varied but plausible analyses. Also the parser of the
 * prompt's data block, which the tests use to check that customer text
 * arrived as data.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fake_llm.h"
#include "util/util.h"

struct gen {
	const json_t *data;
	char *text; /* subject + content, lower case */
};

static bool has_any(const char *text, const char *const *words)
{
	for (; *words; words++)
		if (strstr(text, *words))
			return true;
	return false;
}

/* The label a keyword-reading model would pick for field name, or NULL. */
static const char *hint(const struct gen *g, const char *name)
{
	static const char *const angry[] = { "angry", "furious", "unacceptable", "terrible", "worst",
					     "ridiculous", "!!!", NULL };
	static const char *const negative[] = { "not working", "frustrat", "problem", "issue", "error",
						"can't", "cannot", "unable", "fail", "broken", NULL };
	static const char *const positive[] = { "thank", "great", "love", "appreciate", "awesome", NULL };
	static const char *const billing[] = { "bill", "invoice", "charge", "refund", "payment",
					       "subscription", "price", NULL };
	static const char *const account[] = { "password", "login", "log in", "account", "sign in",
					       "profile", "locked", NULL };
	static const char *const technical[] = { "error", "crash", "outage", "down", "connect", "api",
						 "bug", "timeout", "500", NULL };
	static const char *const product[] = { "feature", "how do", "how to", "dark mode", "dashboard",
					       "integration", NULL };
	static const char *const urgent[] = { "urgent", "asap", "immediately", "critical", "outage",
					      "all users", NULL };
	const char *t = g->text;

	if (!strcmp(name, "sentiment"))
		return has_any(t, angry) ? "very_negative" : has_any(t, negative) ? "negative"
			: has_any(t, positive) ? "positive" : "neutral";
	if (!strcmp(name, "category") || !strcmp(name, "primary_category"))
		return has_any(t, billing) ? "billing" : has_any(t, account) ? "account"
			: has_any(t, technical) ? "technical" : has_any(t, product) ? "product" : "general";
	if (!strcmp(name, "urgency") || !strcmp(name, "escalation_risk"))
		return has_any(t, urgent) ? "high" : "low";
	if (!strcmp(name, "suggested_priority") || !strcmp(name, "priority"))
		return has_any(t, urgent) ? "high" : "medium";
	if (!strcmp(name, "secondary_category"))
		return "";  /* null when allowed */
	if (!strcmp(name, "tone"))
		return "empathetic";
	if (!strcmp(name, "escalation_decision"))
		return has_any(t, urgent) ? "specialist" : "no_escalation";
	if (!strcmp(name, "escalation_priority"))
		return has_any(t, urgent) ? "high" : "low";
	return NULL;
}

/* The flag a keyword-reading model would raise for field name. */
static bool hint_bool(const struct gen *g, const char *name)
{
	static const char *const outage[] = { "outage", "is down", "system down", "all users", "everyone", NULL };
	static const char *const human[] = { "human", "real person", "manager", "supervisor", NULL };
	static const char *const legal[] = { "lawyer", "legal action", "lawsuit", "sue ", "attorney", NULL };
	static const char *const security[] = { "hacked", "breach", "fraud", "unauthorized", "stolen", NULL };

	if (!name)
		return false;
	if (!strcmp(name, "outage"))
		return has_any(g->text, outage);
	if (!strcmp(name, "human_requested"))
		return has_any(g->text, human);
	if (!strcmp(name, "legal_threat"))
		return has_any(g->text, legal);
	if (!strcmp(name, "security_incident"))
		return has_any(g->text, security);
	return false;
}

/* "<n> users" in the text, for users_affected; else def. */
static int64_t hint_users(const struct gen *g, int64_t def)
{
	const char *p = strstr(g->text, " users");

	while (p) {
		const char *q = p;

		while (q > g->text && isdigit((unsigned char)q[-1]))
			q--;
		if (q < p) {
			char *num = fl_strndup(q, (size_t)(p - q));
			int64_t n;

			if (!fl_parse_int64(num, 0, 100000000, &n)) {
				free(num);
				return n;
			}
			free(num);
		}
		p = strstr(p + 1, " users");
	}
	return def;
}

static json_t *pick_enum(const struct gen *g, const json_t *en, const char *name, size_t skip)
{
	const char *h = name ? hint(g, name) : NULL;
	size_t i;
	json_t *e;

	if (h) {
		json_array_foreach(en, i, e) {
			if (!*h && json_is_null(e))
				return json_null();
			if (*h && json_is_string(e) && !strcmp(json_string_value(e), h))
				return json_incref(e);
		}
	}
	json_array_foreach(en, i, e) {
		if (json_is_null(e))
			continue;
		if (skip-- == 0)
			return json_incref(e);
	}
	return json_incref(json_array_get(en, 0));
}

static const char *first_type(const json_t *schema)
{
	const json_t *t = json_object_get(schema, "type");
	size_t i;
	json_t *e;

	if (json_is_string(t))
		return json_string_value(t);
	json_array_foreach(t, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), "null"))
			return json_string_value(e);
	return "null";
}

static json_t *gen_string(const struct gen *g, const json_t *schema, const char *name)
{
	int64_t mn = fl_json_int(schema, "minLength", 0), mx = fl_json_int(schema, "maxLength", 1000);
	struct fl_buf b = FL_BUF_INIT;
	json_t *s;

	if (name && !strcmp(name, "response")) {
		const json_t *articles = json_object_get(g->data, "articles");
		const char *title = fl_json_str(json_array_get(articles, 0), "title", NULL);

		fl_buf_addf(&b, "Thank you for contacting us about \"%s\". ",
			    fl_json_str(json_object_get(g->data, "ticket"), "subject", "your request"));
		if (title)
			fl_buf_addf(&b, "Our article \"%s\" explains the steps that should solve it. ", title);
		fl_buf_adds(&b, "We are here to help if anything is still unclear.");
	} else {
		fl_buf_addf(&b, "fake %s", name ? name : "text");
	}
	while ((int64_t)b.len < mn)
		fl_buf_adds(&b, " text");
	if ((int64_t)b.len > mx)
		fl_buf_setlen(&b, (size_t)mx);
	s = json_string(b.buf);
	fl_buf_release(&b);
	return s;
}

static json_t *gen(const struct gen *g, const json_t *schema, const char *name)
{
	const json_t *en = json_object_get(schema, "enum");
	const char *type = first_type(schema);

	if (json_is_array(en) && json_array_size(en))
		return pick_enum(g, en, name, 0);
	if (!strcmp(type, "object")) {
		const json_t *props = json_object_get(schema, "properties");
		json_t *o = json_object(), *sub;
		const char *key;

		json_object_foreach((json_t *)props, key, sub)
			json_object_set_new(o, key, gen(g, sub, key));
		return o;
	}
	if (!strcmp(type, "array")) {
		const json_t *items = json_object_get(schema, "items");
		const json_t *ien = json_object_get(items, "enum");
		int64_t n = fl_json_int(schema, "minItems", -1), i;
		json_t *a = json_array();

		if (n < 0)  /* free-text lists get one entry, label lists none */
			n = ien ? 0 : 1;
		if (json_object_get(schema, "maxItems") && n > fl_json_int(schema, "maxItems", 0))
			n = fl_json_int(schema, "maxItems", 0);
		for (i = 0; i < n; i++)
			json_array_append_new(a, ien ? pick_enum(g, ien, NULL, (size_t)i) : gen(g, items, name));
		return a;
	}
	if (!strcmp(type, "string"))
		return gen_string(g, schema, name);
	if (!strcmp(type, "number")) {
		double mn = fl_json_num(schema, "minimum", 0), mx = fl_json_num(schema, "maximum", 1e9);

		return json_real(0.8 >= mn && 0.8 <= mx ? 0.8 : mn);
	}
	if (!strcmp(type, "integer"))
		return json_integer(name && !strcmp(name, "users_affected")
				    ? hint_users(g, fl_json_int(schema, "minimum", 0))
				    : fl_json_int(schema, "minimum", 0));
	if (!strcmp(type, "boolean"))
		return json_boolean(hint_bool(g, name));
	return json_null();
}

json_t *fake_llm_generate(const json_t *schema, const json_t *data)
{
	const json_t *ticket = json_object_get(data, "ticket");
	struct gen g = { data, NULL };
	json_t *out;
	char *p;

	g.text = fl_asprintf("%s\n%s", fl_json_str(ticket, "subject", ""), fl_json_str(ticket, "content", ""));
	for (p = g.text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	out = gen(&g, schema, NULL);
	free(g.text);
	return out;
}

json_t *fake_llm_data_block(const char *text, char **token)
{
	const char *open;

	if (token)
		*token = NULL;
	/* the first marker that opens a block of JSON (the system prompt names them too) */
	for (open = text ? strstr(text, "<<<DATA-") : NULL; open; open = strstr(open + 1, "<<<DATA-")) {
		const char *tok = open + 8, *tok_end = strstr(tok, ">>>"), *close;
		char *end_marker;
		json_t *v;

		if (!tok_end)
			return NULL;
		end_marker = fl_asprintf("<<<END-%.*s>>>", (int)(tok_end - tok), tok);
		close = strstr(tok_end, end_marker);
		free(end_marker);
		if (!close)
			continue;
		v = json_loadb(tok_end + 3, (size_t)(close - tok_end - 3), 0, NULL);
		if (!v)
			continue;
		if (token)
			*token = fl_strndup(tok, (size_t)(tok_end - tok));
		return v;
	}
	return NULL;
}
