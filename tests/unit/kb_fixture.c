/*
 * kb_fixture: the fixture of the knowledge base's test programs (see
 * kb_fixture.h). The tests themselves are in test_kb.c and test_kb_query.c.
 */
#include "test_helpers.h"

#include <stdio.h>

#include "kb_fixture.h"

int kbfx_setup(void **state)
{
	struct kbfx *f = fl_calloc(1, sizeof(*f));
	char *err = NULL;

	f->dir = test_tmpdir();
	if (kb_open(NULL, &f->kb, &err) != KB_OK)
		fail_msg("kb_open: %s", err);
	*state = f;
	return 0;
}

int kbfx_teardown(void **state)
{
	struct kbfx *f = *state;

	kb_close(f->kb);
	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

char *kbfx_write_file(const char *dir, const char *name, const char *text)
{
	char *path = fl_asprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

json_t *kbfx_article(const char *id, const char *title, const char *content, const char *tags)
{
	json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "title", title, "content", content,
			      "category", "general");

	if (tags) {
		json_error_t je;
		json_t *t = json_loads(tags, 0, &je);

		assert_non_null(t);
		json_object_set_new(a, "tags", t);
	}
	return a;
}

void kbfx_add(struct kb *kb, const char *id, const char *title, const char *content, const char *tags)
{
	json_t *a = kbfx_article(id, title, content, tags);

	assert_int_equal(kb_add(kb, a), KB_OK);
	json_decref(a);
}

char *kbfx_search_ids(struct kb *kb, const char *q, int limit)
{
	json_t *res = NULL, *a;
	struct fl_buf b = FL_BUF_INIT;
	size_t i;

	assert_int_equal(kb_search(kb, q, limit, &res), KB_OK);
	json_array_foreach(json_object_get(res, "articles"), i, a)
		fl_buf_addf(&b, "%s%s", i ? " " : "", fl_json_str(a, "id", "?"));
	json_decref(res);
	return fl_buf_detach(&b, NULL);
}

