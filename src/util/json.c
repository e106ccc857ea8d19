/*
 * Small conveniences over jansson for reading optional fields with defaults
 * and for compact encoding. They borrow everything they are given.
 */
#include <string.h>
#include <strings.h>

#include "util.h"

const char *fl_json_str(const json_t *obj, const char *key, const char *def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t fl_json_int(const json_t *obj, const char *key, int64_t def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return def;
}

double fl_json_num(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : def;
}

bool fl_json_bool(const json_t *obj, const char *key, bool def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	int b;

	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (json_is_string(v) && (b = fl_parse_bool(json_string_value(v))) >= 0)
		return b;
	return def;
}

char *fl_json_dumps(const json_t *v)
{
	char *s;

	if (!v)
		return fl_strdup("null");
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
	if (!s)
		fl_die("cannot encode JSON value");
	return s;
}

void fl_json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}
