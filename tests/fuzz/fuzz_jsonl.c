/*
 * Fuzz target: the files the command line reads rows from. The first byte
 * of the input picks the reader, the rest is the file:
 *
 *   0  `frontline train --in FILE.jsonl`: text_dataset_load_jsonl
 *   1  `frontline eval kb --queries FILE.jsonl`: kb_eval_load_queries
 *   2  the same, a StackFAQ-style FILE.tsv
 *   3  `frontline kb import FILE.jsonl`: kb_import_path
 *   4  `frontline kb import FILE.md` (YAML front matter): kb_import_path
 *
 * (`frontline batch FILE.jsonl` reads its lines with jansson and hands each
 * to the ingestion rules: fuzz_ticket's part.) The file is written under a
 * directory of /dev/shm made once, with the name the reader needs.
 *
 * Checked (text.h, kb.h): a training set that loads has a string text and a
 * non-empty label per row, and weights that are finite and not negative; a
 * failure says which line; queries are {query, relevant: [ids]}; imported
 * articles are objects that encode as JSON.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "kb/kb.h"
#include "text/text.h"
#include "util/util.h"

static char *dir;

static char *write_file(const char *name, const uint8_t *data, size_t size)
{
	char *path = fl_asprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	FUZZ_CHECK(f);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size || !size);
	FUZZ_CHECK(!fclose(f));
	return path;
}

static void train(const char *path)
{
	struct text_dataset *d = text_dataset_new();
	char *err = NULL;
	size_t i;

	if (text_dataset_load_jsonl(d, path, &err) == TEXT_OK) {
		FUZZ_CHECK(!err);
		for (i = 0; i < text_dataset_size(d); i++) {
			double w = text_dataset_weight(d, i);

			FUZZ_CHECK(text_dataset_text(d, i));
			FUZZ_CHECK(*text_dataset_label(d, i));
			FUZZ_CHECK(isfinite(w) && w >= 0);
		}
	} else {
		FUZZ_CHECK(err && strstr(err, path));
	}
	free(err);
	text_dataset_free(d);
}

static void queries(const char *path)
{
	json_t *q = NULL, *row;
	char *err = NULL;
	size_t i;

	if (kb_eval_load_queries(path, &q, &err) == KB_OK) {
		json_array_foreach(q, i, row) {
			FUZZ_CHECK(json_is_string(json_object_get(row, "query")));
			FUZZ_CHECK(json_is_array(json_object_get(row, "relevant")));
		}
	} else {
		FUZZ_CHECK(err);
	}
	json_decref(q);
	free(err);
}

static void import(const char *path)
{
	json_t *articles = NULL, *a;
	char *err = NULL, *text;
	size_t i;

	if (kb_import_path(path, &articles, &err) == KB_OK) {
		json_array_foreach(articles, i, a) {
			char *why = NULL;

			FUZZ_CHECK(json_is_object(a));
			(void)kb_article_check(a, &why);
			free(why);
		}
		text = fl_json_dumps(articles);
		FUZZ_CHECK(text);
		free(text);
	} else {
		FUZZ_CHECK(!articles && err);
	}
	json_decref(articles);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "train.jsonl", "queries.jsonl", "queries.tsv", "articles.jsonl",
					     "article.md" };
	char *path;
	unsigned which;

	if (!size)
		return 0;
	which = data[0] % FL_ARRAY_SIZE(names);
	path = write_file(names[which], data + 1, size - 1);
	if (which == 0)
		train(path);
	else if (which <= 2)
		queries(path);
	else
		import(path);
	unlink(path);
	free(path);
	return 0;
}

static void remove_dir(void)
{
	rmdir(dir);
	free(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct stat sb;
	char tmpl[64];

	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	snprintf(tmpl, sizeof(tmpl), "%s/frontline-fuzz-jsonl-XXXXXX",
		 !stat("/dev/shm", &sb) && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp");
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "fuzz_jsonl: cannot make a directory: %s\n", strerror(errno));
		exit(1);
	}
	dir = fl_strdup(tmpl);
	atexit(remove_dir);
	return 0;
}
