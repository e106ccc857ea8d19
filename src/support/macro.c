/*
 * Macros (docs/OPERATIONS.md, "Macros"): the check of a macro's body before
 * the store keeps it, with every violation at once as the ingestion rules
 * report them ({"field", "code", "message"}). What an action may say comes
 * from the vocabulary (statuses, priorities) and DESIGN §5's categories;
 * departments, assignees and tags are names. Applying a macro is the
 * server's: each action goes through the ticket verb that already does it
 * (src/server/routes_macros.c).
 */
#include <string.h>

#include "support_int.h"

#define MAX_ACTIONS 20

static const char *const action_types[] = {
	"status", "priority", "category", "assignee", "department", "tag", "reply", NULL,
};

static const char *const reply_modes[] = { SUPPORT_MACRO_DRAFT, SUPPORT_MACRO_SEND, NULL };

static bool category_known(const char *label)
{
	const char *c;
	size_t i;

	for (i = 0; (c = support__category_known(i, NULL)); i++)
		if (!strcmp(c, label))
			return true;
	return false;
}

static char *categories_text(void)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *c;
	size_t i;

	for (i = 0; (c = support__category_known(i, NULL)); i++)
		fl_buf_addf(&b, "%s%s", i ? ", " : "", c);
	return fl_buf_detach(&b, NULL);
}

/* A name: 1 to max bytes of valid UTF-8 without control characters. */
static bool name_ok(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (!n || n > max || fl_utf8_invalid_at(s, n) >= 0)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A text: 1 to max bytes of valid UTF-8. */
static bool text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n && n <= max && fl_utf8_invalid_at(s, n) < 0;
}

/* A word of set, or a violation naming them all. */
static void check_word(json_t *errors, const char *field, const char *what, const char *const *set, const char *v)
{
	char *all;

	if (fl_word_index(set, v) >= 0)
		return;
	all = fl_words_join(set, ", ");
	support__field_error(errors, field, SUPPORT_FIELD_VALUE, "'%s' is not a %s: one of %s", v, what, all);
	free(all);
}

static void check_reply(json_t *errors, const char *at, const json_t *a, json_t *out)
{
	const json_t *canned = json_object_get(a, "canned"), *body = json_object_get(a, "body");
	const char *mode = fl_json_str(a, "mode", SUPPORT_MACRO_DRAFT);
	char *field = fl_asprintf("%s.mode", at);

	if (json_object_get(a, "mode") && !json_is_string(json_object_get(a, "mode")))
		support__field_error(errors, field, SUPPORT_FIELD_TYPE, "a reply's mode is \"draft\" or \"send\"");
	else
		check_word(errors, field, "reply mode", reply_modes, mode);
	free(field);
	json_object_set_new(out, "mode", json_string(mode));
	if (!!canned == !!body) {
		field = fl_asprintf("%s.%s", at, canned ? "body" : "canned");
		support__field_error(errors, field, canned ? SUPPORT_FIELD_TYPE : SUPPORT_FIELD_MISSING,
			  "a reply gives either 'canned' (a canned response's id) or 'body' (its text), not both");
		free(field);
		return;
	}
	field = fl_asprintf("%s.%s", at, canned ? "canned" : "body");
	if (!json_is_string(canned ? canned : body))
		support__field_error(errors, field, SUPPORT_FIELD_TYPE, "'%s' must be a string", canned ? "canned" : "body");
	else if (canned ? !name_ok(json_string_value(canned), 64) : !text_ok(json_string_value(body), 50000))
		support__field_error(errors, field, SUPPORT_FIELD_LENGTH, canned ? "a canned response's id is 1 to 64 characters"
								     : "a reply's body is 1 to 50000 bytes of UTF-8");
	else
		json_object_set(out, canned ? "canned" : "body", (json_t *)(canned ? canned : body));
	free(field);
}

/* One action: a violation for each thing wrong with it, the normalized action appended to actions. */
static void check_action(json_t *errors, size_t i, const json_t *a, json_t *actions, unsigned *seen)
{
	char at[32], *field = NULL;
	const json_t *value = json_object_get(a, "value");
	const char *type = fl_json_str(a, "type", NULL), *v = json_string_value(value);
	json_t *out;
	int k;

	snprintf(at, sizeof(at), "actions[%zu]", i);
	if (!json_is_object(a)) {
		support__field_error(errors, at, SUPPORT_FIELD_TYPE, "an action is an object {\"type\", ...}");
		return;
	}
	field = fl_asprintf("%s.type", at);
	if (!type || (k = fl_word_index(action_types, type)) < 0) {
		char *all = fl_words_join(action_types, ", ");

		if (!type)
			support__field_error(errors, field, SUPPORT_FIELD_MISSING, "an action needs a type: one of %s", all);
		else
			support__field_error(errors, field, SUPPORT_FIELD_VALUE, "unknown action '%s': one of %s", type, all);
		free(all);
		goto out;
	}
	/* one of each, but tags: two statuses in one step would be a mistake */
	if (strcmp(type, "tag") && (*seen & (1u << k))) {
		support__field_error(errors, field, SUPPORT_FIELD_VALUE, "the macro has a '%s' action already", type);
		goto out;
	}
	*seen |= 1u << k;
	free(field);
	field = fl_asprintf("%s.value", at);
	out = json_pack("{s:s}", "type", type);
	if (!strcmp(type, "reply")) {
		check_reply(errors, at, a, out);
	} else if (!strcmp(type, "assignee") && json_is_null(value)) {
		json_object_set_new(out, "value", json_null());   /* unassigns */
	} else if (!v) {
		support__field_error(errors, field, value ? SUPPORT_FIELD_TYPE : SUPPORT_FIELD_MISSING,
			  "a %s action needs a string 'value'%s", type,
			  strcmp(type, "assignee") ? "" : " (null unassigns)");
	} else if (!strcmp(type, "status")) {
		check_word(errors, field, "status", fl_statuses, v);
	} else if (!strcmp(type, "priority")) {
		check_word(errors, field, "priority", fl_priorities, v);
	} else if (!strcmp(type, "category")) {
		if (!category_known(v)) {
			char *all = categories_text();

			support__field_error(errors, field, SUPPORT_FIELD_VALUE, "'%s' is not a category: one of %s", v, all);
			free(all);
		}
	} else if (!name_ok(v, strcmp(type, "tag") ? 200 : 64)) {
		support__field_error(errors, field, SUPPORT_FIELD_LENGTH, "a %s is 1 to %d characters without control characters",
			  type, strcmp(type, "tag") ? 200 : 64);
	}
	if (v)
		json_object_set(out, "value", (json_t *)value);
	json_array_append_new(actions, out);
out:
	free(field);
}

int support_macro_check(const json_t *body, json_t **out, json_t **errors)
{
	const json_t *actions = json_object_get(body, "actions"), *desc = json_object_get(body, "description");
	json_t *errs = json_array(), *list = json_array(), *a;
	const char *key;
	unsigned seen = 0;
	size_t i;

	*out = NULL;
	*errors = NULL;
	json_object_foreach((json_t *)body, key, a)
		if (strcmp(key, "actions") && strcmp(key, "description"))
			support__field_error(errs, key, SUPPORT_FIELD_VALUE, "unknown field '%s': a macro has description and "
				  "actions", key);
	if (desc && !json_is_null(desc) && (!json_is_string(desc) || strlen(json_string_value(desc)) > 500))
		support__field_error(errs, "description", SUPPORT_FIELD_LENGTH, "the description is a string of at most 500 bytes");
	if (!json_is_array(actions) || !json_array_size(actions) || json_array_size(actions) > MAX_ACTIONS)
		support__field_error(errs, "actions", actions ? SUPPORT_FIELD_LENGTH : SUPPORT_FIELD_MISSING,
			  "'actions' is an array of 1 to %d actions", MAX_ACTIONS);
	else
		json_array_foreach(actions, i, a)
			check_action(errs, i, a, list, &seen);
	if (json_array_size(errs)) {
		*errors = errs;
		json_decref(list);
		return SUPPORT_EINVAL;
	}
	json_decref(errs);
	*out = json_pack("{s:s?, s:o}", "description", json_string_value(desc), "actions", list);
	return SUPPORT_OK;
}
