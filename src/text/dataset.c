/*
 * Training data: rows of text and label, with an optional score, weight and
 * head_only flag, added in code or read from JSON lines (text.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text_int.h"

struct text_dataset {
	char **text, **label;
	double *score, *weight;
	bool *head_only;
	size_t n, alloc;
};

struct text_dataset *text_dataset_new(void)
{
	return fl_calloc(1, sizeof(struct text_dataset));
}

void text_dataset_free(struct text_dataset *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->text[i]);
		free(d->label[i]);
	}
	free(d->text);
	free(d->label);
	free(d->score);
	free(d->weight);
	free(d->head_only);
	free(d);
}

static void dataset_add(struct text_dataset *d, const char *text, const char *label, double score,
			bool head_only, double weight)
{
	if (d->n == d->alloc) {
		d->alloc = d->alloc ? d->alloc * 2 : 256;
		d->text = fl_reallocarray(d->text, d->alloc, sizeof(*d->text));
		d->label = fl_reallocarray(d->label, d->alloc, sizeof(*d->label));
		d->score = fl_reallocarray(d->score, d->alloc, sizeof(*d->score));
		d->head_only = fl_reallocarray(d->head_only, d->alloc, sizeof(*d->head_only));
		d->weight = fl_reallocarray(d->weight, d->alloc, sizeof(*d->weight));
	}
	d->weight[d->n] = weight;
	d->text[d->n] = fl_strdup(text);
	d->label[d->n] = fl_strdup(label);
	d->score[d->n] = score;
	d->head_only[d->n] = head_only;
	d->n++;
}

void text_dataset_add(struct text_dataset *d, const char *text, const char *label)
{
	dataset_add(d, text, label, NAN, false, 1.0);
}

bool text_dataset_head_only(const struct text_dataset *d, size_t i)
{
	return i < d->n && d->head_only[i];
}

size_t text_dataset_size(const struct text_dataset *d)
{
	return d->n;
}

const char *text_dataset_text(const struct text_dataset *d, size_t i)
{
	return i < d->n ? d->text[i] : NULL;
}

const char *text_dataset_label(const struct text_dataset *d, size_t i)
{
	return i < d->n ? d->label[i] : NULL;
}

double text_dataset_score(const struct text_dataset *d, size_t i)
{
	return i < d->n ? d->score[i] : NAN;
}

double text_dataset_weight(const struct text_dataset *d, size_t i)
{
	return i < d->n ? d->weight[i] : NAN;
}

int text_dataset_load_jsonl(struct text_dataset *d, const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, numbuf[32];
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = TEXT_EDATA;

	if (!f) {
		if (err)
			*err = fl_asprintf("cannot open '%s': %s", path, strerror(errno));
		return TEXT_EIO;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t jerr;
		json_t *row, *jt, *jl, *js, *jh, *jw;
		const char *label;
		size_t len = (size_t)n;

		lineno++;
		if (!*fl_str_trim(line, &len) || !len)
			continue;
		row = json_loadb(line, (size_t)n, JSON_DISABLE_EOF_CHECK, &jerr);
		if (!row) {
			if (err)
				*err = fl_asprintf("'%s' line %zu: invalid JSON: %s", path, lineno, jerr.text);
			goto out;
		}
		jt = json_object_get(row, "text");
		jl = json_object_get(row, "label");
		js = json_object_get(row, "score");
		jh = json_object_get(row, "head_only");
		jw = json_object_get(row, "weight");
		if (!json_is_string(jt) || !(json_is_string(jl) || json_is_integer(jl)) ||
		    (js && !json_is_number(js)) || (jh && !json_is_boolean(jh)) ||
		    (jw && (!json_is_number(jw) || !(json_number_value(jw) >= 0) ||
			    !isfinite(json_number_value(jw))))) {
			if (err)
				*err = fl_asprintf("'%s' line %zu: expected {\"text\": string, \"label\": string%s%s%s}",
						   path, lineno, js ? ", \"score\": number" : "",
						   jh ? ", \"head_only\": boolean" : "",
						   jw ? ", \"weight\": number >= 0" : "");
			json_decref(row);
			goto out;
		}
		if (json_is_integer(jl)) {
			snprintf(numbuf, sizeof(numbuf), "%lld", (long long)json_integer_value(jl));
			label = numbuf;
		} else {
			label = json_string_value(jl);
		}
		if (!*label) {
			if (err)
				*err = fl_asprintf("'%s' line %zu: empty label", path, lineno);
			json_decref(row);
			goto out;
		}
		dataset_add(d, json_string_value(jt), label, js ? json_number_value(js) : NAN, json_is_true(jh),
			    jw ? json_number_value(jw) : 1.0);
		json_decref(row);
	}
	if (ferror(f)) {
		if (err)
			*err = fl_asprintf("cannot read '%s': %s", path, strerror(errno));
		rc = TEXT_EIO;
		goto out;
	}
	rc = TEXT_OK;
out:
	free(line);
	fclose(f);
	return rc;
}
