/*
 * A validator for the subset of JSON Schema that the task schemas use, and
 * a checker that keeps the schemas inside that subset (a keyword we do not
 * implement would otherwise be silently ignored). Messages name the JSON
 * pointer of the first violation; values quoted in them are cut short, since
 * they come from the model and go back to it in the repair request.
 */
#include <math.h>
#include <string.h>

#include "llm_int.h"

struct vctx {
	struct fl_buf path;
	char *err;
};

static void render(struct fl_buf *b, const json_t *v)
{
	char *s;
	size_t n;

	if (json_is_string(v)) {
		const char *str = json_string_value(v);

		n = strlen(str);
		fl_buf_addch(b, '\'');
		/* cut at 40 bytes, backing off to a UTF-8 boundary */
		if (n > 40) {
			n = 40;
			while (n > 0 && ((unsigned char)str[n] & 0xC0) == 0x80)
				n--;
			fl_buf_add(b, str, n);
			fl_buf_adds(b, "...");
		} else {
			fl_buf_add(b, str, n);
		}
		fl_buf_addch(b, '\'');
		return;
	}
	s = fl_json_dumps(v);
	n = strlen(s);
	if (n > 40) {
		fl_buf_add(b, s, 40);
		fl_buf_adds(b, "...");
	} else {
		fl_buf_add(b, s, n);
	}
	free(s);
}

static int fail(struct vctx *v, const char *fmt, ...) FL_PRINTF(2, 3);

static int fail(struct vctx *v, const char *fmt, ...)
{
	struct fl_buf b = FL_BUF_INIT;
	va_list ap;

	fl_buf_addf(&b, "at '%s': ", v->path.len ? v->path.buf : "/");
	va_start(ap, fmt);
	fl_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	v->err = fl_buf_detach(&b, NULL);
	return -1;
}

static const char *type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

static bool type_is(const char *t, const json_t *v)
{
	if (!strcmp(t, "number"))
		return json_is_number(v);
	if (!strcmp(t, "integer"))
		return json_is_integer(v) ||
		       (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v) &&
			isfinite(json_real_value(v)));
	return !strcmp(t, type_of(v));
}

static size_t utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int check_type(struct vctx *v, const json_t *t, const json_t *value)
{
	struct fl_buf names = FL_BUF_INIT;
	size_t i;
	json_t *e;
	int rc;

	if (json_is_string(t)) {
		if (type_is(json_string_value(t), value))
			return 0;
		return fail(v, "expected %s, got %s", json_string_value(t), type_of(value));
	}
	json_array_foreach(t, i, e) {
		if (type_is(json_string_value(e), value)) {
			fl_buf_release(&names);
			return 0;
		}
		fl_buf_addf(&names, "%s%s", i ? " or " : "", json_string_value(e));
	}
	rc = fail(v, "expected %s, got %s", names.buf, type_of(value));
	fl_buf_release(&names);
	return rc;
}

static int check_enum(struct vctx *v, const json_t *en, const json_t *value)
{
	struct fl_buf b = FL_BUF_INIT;
	size_t i;
	json_t *e;
	int rc;

	json_array_foreach(en, i, e)
		if (json_equal(e, value))
			return 0;
	render(&b, value);
	if (json_array_size(en) == 0) {
		fl_buf_adds(&b, " is not allowed here (no value is)");
	} else {
		fl_buf_adds(&b, " is not one of ");
		json_array_foreach(en, i, e) {
			if (i == 12) {
				fl_buf_adds(&b, ", ...");
				break;
			}
			if (i)
				fl_buf_adds(&b, ", ");
			if (json_is_string(e))
				fl_buf_adds(&b, json_string_value(e));
			else
				render(&b, e);
		}
	}
	rc = fail(v, "%s", b.buf);
	fl_buf_release(&b);
	return rc;
}

static void path_push_key(struct vctx *v, const char *key)
{
	fl_buf_addch(&v->path, '/');
	for (; *key; key++) {
		if (*key == '~')
			fl_buf_adds(&v->path, "~0");
		else if (*key == '/')
			fl_buf_adds(&v->path, "~1");
		else
			fl_buf_addch(&v->path, *key);
	}
}

static int validate(struct vctx *v, const json_t *schema, const json_t *value);

static int validate_object(struct vctx *v, const json_t *schema, const json_t *value)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *req = json_object_get(schema, "required");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const char *key;
	json_t *e;
	size_t i, mark = v->path.len;

	json_array_foreach(req, i, e) {
		if (!json_object_get(value, json_string_value(e)))
			return fail(v, "missing required field '%s'", json_string_value(e));
	}
	json_object_foreach((json_t *)value, key, e) {
		const json_t *sub = props ? json_object_get(props, key) : NULL;
		int rc = 0;

		if (!sub && json_is_false(addl)) {
			struct fl_buf b = FL_BUF_INIT;

			fl_buf_add(&b, key, strnlen(key, 40));
			rc = fail(v, "unexpected field '%s%s'", b.buf, strlen(key) > 40 ? "..." : "");
			fl_buf_release(&b);
			return rc;
		}
		if (!sub && json_is_object(addl))
			sub = addl;
		if (!sub)
			continue;
		path_push_key(v, key);
		rc = validate(v, sub, e);
		fl_buf_setlen(&v->path, mark);
		if (rc)
			return rc;
	}
	return 0;
}

static int validate_array(struct vctx *v, const json_t *schema, const json_t *value)
{
	const json_t *items = json_object_get(schema, "items");
	const json_t *mn = json_object_get(schema, "minItems");
	const json_t *mx = json_object_get(schema, "maxItems");
	size_t i, j, n = json_array_size(value), mark = v->path.len;
	json_t *e;

	if (mn && (json_int_t)n < json_integer_value(mn))
		return fail(v, "expected at least %lld items, got %zu",
			    (long long)json_integer_value(mn), n);
	if (mx && (json_int_t)n > json_integer_value(mx))
		return fail(v, "expected at most %lld items, got %zu",
			    (long long)json_integer_value(mx), n);
	if (json_is_true(json_object_get(schema, "uniqueItems"))) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (json_equal(json_array_get(value, i), json_array_get(value, j)))
					return fail(v, "items %zu and %zu are equal", i, j);
	}
	if (!items)
		return 0;
	json_array_foreach(value, i, e) {
		int rc;

		fl_buf_addf(&v->path, "/%zu", i);
		rc = validate(v, items, e);
		fl_buf_setlen(&v->path, mark);
		if (rc)
			return rc;
	}
	return 0;
}

static int validate(struct vctx *v, const json_t *schema, const json_t *value)
{
	const json_t *t = json_object_get(schema, "type");
	const json_t *en = json_object_get(schema, "enum");
	const json_t *cn = json_object_get(schema, "const");
	const json_t *k;

	if (t && check_type(v, t, value))
		return -1;
	if (en && check_enum(v, en, value))
		return -1;
	if (cn && !json_equal(cn, value)) {
		struct fl_buf b = FL_BUF_INIT;
		int rc;

		render(&b, value);
		fl_buf_adds(&b, " is not ");
		render(&b, cn);
		rc = fail(v, "%s", b.buf);
		fl_buf_release(&b);
		return rc;
	}
	if (json_is_object(value))
		return validate_object(v, schema, value);
	if (json_is_array(value))
		return validate_array(v, schema, value);
	if (json_is_string(value)) {
		size_t n = utf8_length(json_string_value(value));

		if ((k = json_object_get(schema, "minLength")) && (json_int_t)n < json_integer_value(k))
			return fail(v, "string shorter than %lld characters",
				    (long long)json_integer_value(k));
		if ((k = json_object_get(schema, "maxLength")) && (json_int_t)n > json_integer_value(k))
			return fail(v, "string longer than %lld characters (%zu)",
				    (long long)json_integer_value(k), n);
	}
	if (json_is_number(value)) {
		double d = json_number_value(value);

		if (!isfinite(d))
			return fail(v, "number is not finite");
		if ((k = json_object_get(schema, "minimum")) && d < json_number_value(k))
			return fail(v, "%g is below the minimum %g", d, json_number_value(k));
		if ((k = json_object_get(schema, "maximum")) && d > json_number_value(k))
			return fail(v, "%g is above the maximum %g", d, json_number_value(k));
	}
	return 0;
}

int llm_schema_validate(const json_t *schema, const json_t *value, char **err)
{
	struct vctx v = { FL_BUF_INIT, NULL };
	int rc;

	*err = NULL;
	if (!schema || !value) {
		*err = fl_strdup("no schema or no value to validate");
		return -1;
	}
	rc = validate(&v, schema, value);
	fl_buf_release(&v.path);
	if (rc)
		*err = v.err;
	return rc ? -1 : 0;
}

/* ---- keeping schemas inside the subset ---- */

static const char *const known_keywords[] = {
	"type", "enum", "const", "properties", "required", "additionalProperties", "items",
	"minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "minimum", "maximum",
	"title", "description", NULL,
};

static const char *const type_names[] = {
	"object", "array", "string", "number", "integer", "boolean", "null", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static int check(struct vctx *v, const json_t *schema)
{
	const char *key;
	json_t *val, *e;
	size_t i, mark = v->path.len;

	if (!json_is_object(schema))
		return fail(v, "a schema must be an object");
	json_object_foreach((json_t *)schema, key, val) {
		int rc = 0;

		if (!in_list(known_keywords, key))
			return fail(v, "unsupported keyword '%s'", key);
		if (!strcmp(key, "type")) {
			if (json_is_string(val)) {
				if (!in_list(type_names, json_string_value(val)))
					return fail(v, "unknown type '%s'", json_string_value(val));
			} else if (json_is_array(val) && json_array_size(val)) {
				json_array_foreach(val, i, e)
					if (!json_is_string(e) || !in_list(type_names, json_string_value(e)))
						return fail(v, "bad entry in 'type'");
			} else {
				return fail(v, "'type' must be a name or an array of names");
			}
		} else if (!strcmp(key, "enum") && !json_is_array(val)) {
			return fail(v, "'enum' must be an array");
		} else if (!strcmp(key, "required")) {
			if (!json_is_array(val))
				return fail(v, "'required' must be an array");
			json_array_foreach(val, i, e)
				if (!json_is_string(e))
					return fail(v, "'required' must hold strings");
		} else if (!strcmp(key, "properties")) {
			const char *pk;

			if (!json_is_object(val))
				return fail(v, "'properties' must be an object");
			json_object_foreach(val, pk, e) {
				path_push_key(v, "properties");
				path_push_key(v, pk);
				rc = check(v, e);
				fl_buf_setlen(&v->path, mark);
				if (rc)
					return rc;
			}
		} else if (!strcmp(key, "items") || (!strcmp(key, "additionalProperties") &&
						      !json_is_boolean(val))) {
			path_push_key(v, key);
			rc = check(v, val);
			fl_buf_setlen(&v->path, mark);
			if (rc)
				return rc;
		} else if ((!strcmp(key, "minItems") || !strcmp(key, "maxItems") ||
			    !strcmp(key, "minLength") || !strcmp(key, "maxLength")) &&
			   (!json_is_integer(val) || json_integer_value(val) < 0)) {
			return fail(v, "'%s' must be a non-negative integer", key);
		} else if ((!strcmp(key, "minimum") || !strcmp(key, "maximum")) && !json_is_number(val)) {
			return fail(v, "'%s' must be a number", key);
		} else if (!strcmp(key, "uniqueItems") && !json_is_boolean(val)) {
			return fail(v, "'uniqueItems' must be a boolean");
		}
	}
	return 0;
}

int llm_schema_check(const json_t *schema, char **err)
{
	struct vctx v = { FL_BUF_INIT, NULL };
	int rc;

	*err = NULL;
	rc = check(&v, schema);
	fl_buf_release(&v.path);
	if (rc)
		*err = v.err;
	return rc ? -1 : 0;
}
