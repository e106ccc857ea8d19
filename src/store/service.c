/*
 * What both backends share for the service's records (monitoring alerts):
 * the row decoder and the checks of an alert to raise. The SQL is each
 * backend's (sqlite/service.c, postgres/service.c).
 */
#include <string.h>

#include "store_int.h"

static json_t *text_or_null(const struct store__row *r, int c)
{
	const char *s = r->ops->text(r, c);

	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(const struct store__row *r, int c)
{
	char buf[32];

	if (r->ops->is_null(r, c))
		return json_null();
	fl_time_rfc3339(buf, r->ops->i64(r, c));
	return json_string(buf);
}

static json_t *real_or_null(const struct store__row *r, int c)
{
	return r->ops->is_null(r, c) ? json_null() : json_real(r->ops->dbl(r, c));
}

json_t *store__alert_json(const struct store__row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->ops->i64(r, 0)));
	json_object_set_new(o, "type", text_or_null(r, 1));
	json_object_set_new(o, "severity", text_or_null(r, 2));
	json_object_set_new(o, "metric", text_or_null(r, 3));
	json_object_set_new(o, "message", text_or_null(r, 4));
	json_object_set_new(o, "value", real_or_null(r, 5));
	json_object_set_new(o, "threshold", real_or_null(r, 6));
	json_object_set_new(o, "status", text_or_null(r, 7));
	json_object_set_new(o, "observations", json_integer(r->ops->i64(r, 8)));
	json_object_set_new(o, "raised_at", time_or_null(r, 9));
	json_object_set_new(o, "last_seen_at", time_or_null(r, 10));
	json_object_set_new(o, "resolved_at", time_or_null(r, 11));
	return o;
}

static int opt_text(struct store *st, const json_t *a, const char *key, bool required, const char **out)
{
	const json_t *v = json_object_get(a, key);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return store__fail(st, STORE_EINVAL, "alert '%s' is required", key);
		return STORE_OK;
	}
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 2000)
		return store__fail(st, STORE_EINVAL, "alert '%s' must be a string of 1 to 2000 bytes", key);
	*out = json_string_value(v);
	return STORE_OK;
}

static int opt_number(struct store *st, const json_t *a, const char *key, double *out, bool *has)
{
	const json_t *v = json_object_get(a, key);

	*has = false;
	*out = 0;
	if (!v || json_is_null(v))
		return STORE_OK;
	if (!json_is_number(v))
		return store__fail(st, STORE_EINVAL, "alert '%s' must be a number", key);
	*out = json_number_value(v);
	*has = true;
	return STORE_OK;
}

int store__alert_in_parse(struct store *st, const json_t *alert, struct store__alert_in *in)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(alert))
		return store__fail(st, STORE_EINVAL, "an alert is a JSON object");
	if ((rc = opt_text(st, alert, "type", true, &in->type)) ||
	    (rc = opt_text(st, alert, "severity", true, &in->severity)) ||
	    (rc = opt_text(st, alert, "message", true, &in->message)) ||
	    (rc = opt_text(st, alert, "metric", false, &in->metric)) ||
	    (rc = opt_number(st, alert, "value", &in->value, &in->has_value)) ||
	    (rc = opt_number(st, alert, "threshold", &in->threshold, &in->has_threshold)))
		return rc;
	return STORE_OK;
}
