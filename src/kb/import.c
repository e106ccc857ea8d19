/*
 * Reading articles from files: Markdown with YAML front matter (parsed with
 * libyaml), JSONL (and a JSON array), or a directory of them.
 *
 *   ---
 *   id: kb_001
 *   title: How to Reset Your Password
 *   category: account
 *   tags: [password, login, security, account]
 *   views: 15420
 *   helpful_votes: 1243
 *   ---
 *   Markdown body: the article's content.
 *
 * Every article is normalised (content from "content", "body" or a joined
 * "answers" array; tags from an array or a comma-separated string) and checked
 * with kb_article_check; errors name the file and the line. Storing the
 * articles is the caller's business (the store, or kb_add).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "kb_int.h"
#include "util/util.h"

static int read_file(const char *path, struct fl_buf *b, char **err)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (!f) {
		*err = fl_asprintf("cannot open '%s': %s", path, strerror(errno));
		return KB_EIO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(b, chunk, n);
	if (ferror(f)) {
		*err = fl_asprintf("cannot read '%s': %s", path, strerror(errno));
		fclose(f);
		return KB_EIO;
	}
	fclose(f);
	return KB_OK;
}

/* YAML reads "id: 42" or "tags: [api, 401]" as numbers: those fields are text. */
static json_t *as_text(json_t *v)
{
	if (json_is_integer(v))
		return json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return json_sprintf("%g", json_real_value(v));
	return json_incref(v);
}

/* tags "a, b" -> ["a", "b"]; content from body or answers; then the check. */
static int normalise(json_t *a, const char *path, size_t line, char **err)
{
	static const char *const text_fields[] = { "id", "title", "category" };
	json_t *v;
	char *msg = NULL;
	size_t i;

	if (!json_is_object(a)) {
		*err = fl_asprintf("%s:%zu: an article must be a JSON object", path, line);
		return KB_EPARSE;
	}
	for (i = 0; i < FL_ARRAY_SIZE(text_fields); i++)
		if ((v = json_object_get(a, text_fields[i])))
			json_object_set_new(a, text_fields[i], as_text(v));
	v = json_object_get(a, "tags");
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
		json_array_set_new(v, i, as_text(json_array_get(v, i)));
	if (json_is_string(v)) {
		json_t *arr = json_array();
		const char *s = json_string_value(v);

		while (*s) {
			size_t len = strcspn(s, ",");
			size_t tl = len;
			const char *t = fl_str_trim(s, &tl);

			if (tl)
				json_array_append_new(arr, json_stringn(t, tl));
			s += len;
			s += *s == ',';
		}
		json_object_set_new(a, "tags", arr);
	}
	if (!json_object_get(a, "content")) {
		v = json_object_get(a, "body");
		if (json_is_string(v)) {
			json_object_set(a, "content", v);
			json_object_del(a, "body");
		} else if (json_is_array(v = json_object_get(a, "answers"))) {
			struct fl_buf b = FL_BUF_INIT;

			for (i = 0; i < json_array_size(v); i++) {
				const char *s = json_string_value(json_array_get(v, i));

				if (!s)
					continue;
				if (b.len)
					fl_buf_adds(&b, "\n\n");
				fl_buf_adds(&b, s);
			}
			json_object_set_new(a, "content", json_string(b.buf));
			json_object_del(a, "answers");
			fl_buf_release(&b);
		} else {
			json_object_set_new(a, "content", json_string(""));
		}
	}
	if (kb_article_check(a, &msg)) {
		*err = fl_asprintf("%s:%zu: %s", path, line, msg);
		free(msg);
		return KB_EPARSE;
	}
	return KB_OK;
}

/* What an import has gathered: the articles, and where each id came from. */
struct import_ctx {
	json_t *out;
	json_t *seen; /* id -> "path:line" */
};

/* Appends a (normalised) article, refusing an id already imported. */
static int append_article(struct import_ctx *c, json_t *a, const char *path, size_t line, char **err)
{
	const char *id = fl_json_str(a, "id", "");
	const char *first = fl_json_str(c->seen, id, NULL);

	if (first) {
		*err = fl_asprintf("%s:%zu: duplicate article id '%s' (first at %s)", path, line, id, first);
		return KB_EPARSE;
	}
	json_object_set_new(c->seen, id, json_sprintf("%s:%zu", path, line));
	json_array_append(c->out, a);
	return KB_OK;
}

/* ---- Markdown with front matter ---- */

static bool plain_is(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/*
 * The JSON of a front matter's node, or NULL when a node is reached a second
 * time: an alias ("*name") repeats its anchor's node, and a few nested
 * aliases (or one inside its own anchor) expand into billions of values, so
 * none is followed. seen has a byte per node of doc.
 */
static json_t *yaml_to_json(yaml_document_t *doc, yaml_node_t *node, int depth, unsigned char *seen)
{
	json_t *out = NULL, *v;
	yaml_node_item_t *it;
	yaml_node_pair_t *pair;

	if (!node || depth > 32)
		return json_null();
	if (seen[node - doc->nodes.start]++)
		return NULL;
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;
		static const char *const t[] = { "true", "True", "TRUE", "yes", NULL };
		static const char *const f[] = { "false", "False", "FALSE", "no", NULL };
		static const char *const nul[] = { "null", "Null", "NULL", "~", "", NULL };
		int64_t i;
		double d;

		if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return json_stringn(s, node->data.scalar.length);
		if (fl_parse_int64(s, INT64_MIN, INT64_MAX, &i) == 0)
			return json_integer((json_int_t)i);
		if (fl_parse_double(s, &d) == 0)
			return json_real(d);
		if (plain_is(s, t))
			return json_true();
		if (plain_is(s, f))
			return json_false();
		if (plain_is(s, nul))
			return json_null();
		return json_stringn(s, node->data.scalar.length);
	}
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
			if (!(v = yaml_to_json(doc, yaml_document_get_node(doc, *it), depth + 1, seen)))
				goto fail;
			json_array_append_new(out, v);
		}
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
			yaml_node_t *k = yaml_document_get_node(doc, pair->key);

			if (!k || k->type != YAML_SCALAR_NODE)
				continue;
			if (!(v = yaml_to_json(doc, yaml_document_get_node(doc, pair->value), depth + 1, seen)))
				goto fail;
			json_object_set_new(out, (const char *)k->data.scalar.value, v);
		}
		return out;
	default:
		return json_null();
	}
fail:
	json_decref(out);
	return NULL;
}

/* Parses the front matter fm (starting on line first_line of path). */
static int parse_front_matter(const char *fm, size_t len, const char *path, size_t first_line,
			      json_t **out, char **err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	unsigned char *seen = NULL;
	int rc = KB_EPARSE;

	*out = NULL;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)fm, len);
	if (!yaml_parser_load(&parser, &doc)) {
		*err = fl_asprintf("%s:%zu: invalid front matter: %s%s%s", path,
				   first_line + parser.problem_mark.line,
				   parser.problem ? parser.problem : "syntax error",
				   parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return KB_EPARSE;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		*err = fl_asprintf("%s:%zu: front matter must be a mapping of 'key: value' lines", path,
				   first_line);
		goto out;
	}
	seen = fl_calloc((size_t)(doc.nodes.top - doc.nodes.start), 1);
	if (!(*out = yaml_to_json(&doc, root, 0, seen))) {
		*err = fl_asprintf("%s:%zu: front matter must not repeat a value through an alias ('*name')",
				   path, first_line);
		goto out;
	}
	rc = KB_OK;
out:
	free(seen);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* The length of the line at s (without its newline), and the offset of the next. */
static size_t line_len(const char *s, size_t *next)
{
	size_t n = strcspn(s, "\n");

	*next = n + (s[n] == '\n');
	if (n && s[n - 1] == '\r')
		n--;
	return n;
}

static bool is_fence(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 3 && (!strncmp(s, "---", 3) || !strncmp(s, "...", 3));
}

static int import_markdown(const char *path, struct import_ctx *c, char **err)
{
	struct fl_buf b = FL_BUF_INIT;
	json_t *a = NULL;
	const char *s, *fm, *body;
	size_t n, next, line = 1;
	int rc;

	rc = read_file(path, &b, err);
	if (rc)
		goto out;
	s = b.buf;
	if (!strncmp(s, "\xef\xbb\xbf", 3)) /* byte-order mark */
		s += 3;
	n = line_len(s, &next);
	if (!is_fence(s, n) || s[0] != '-') {
		*err = fl_asprintf("%s:1: no front matter (the file must start with a '---' line)", path);
		rc = KB_EPARSE;
		goto out;
	}
	fm = s += next;
	for (;;) {
		line++;
		if (!*s) {
			*err = fl_asprintf("%s:1: front matter is not closed by a '---' line", path);
			rc = KB_EPARSE;
			goto out;
		}
		n = line_len(s, &next);
		if (is_fence(s, n))
			break;
		s += next;
	}
	rc = parse_front_matter(fm, (size_t)(s - fm), path, 2, &a, err);
	if (rc)
		goto out;
	body = s + next;
	n = strlen(body);
	body = fl_str_trim(body, &n);
	if (!json_object_get(a, "content"))
		json_object_set_new(a, "content", json_stringn(body, n));
	rc = normalise(a, path, 1, err);
	if (rc == KB_OK)
		rc = append_article(c, a, path, 1, err);
out:
	json_decref(a);
	fl_buf_release(&b);
	return rc;
}

/* ---- JSON lines (or one JSON array) ---- */

static int import_jsonl(const char *path, struct import_ctx *c, char **err)
{
	struct fl_buf b = FL_BUF_INIT;
	const char *s;
	size_t line = 0, n, next;
	int rc;

	rc = read_file(path, &b, err);
	if (rc)
		goto out;
	s = b.buf;
	n = strspn(s, " \t\r\n");
	if (s[n] == '[') { /* a JSON array of articles */
		json_error_t je;
		json_t *arr = json_loads(s, 0, &je);
		size_t i;

		if (!json_is_array(arr)) {
			*err = fl_asprintf("%s:%d: invalid JSON: %s", path, je.line, je.text);
			json_decref(arr);
			rc = KB_EPARSE;
			goto out;
		}
		for (i = 0; i < json_array_size(arr) && !rc; i++) {
			rc = normalise(json_array_get(arr, i), path, 1, err);
			if (!rc)
				rc = append_article(c, json_array_get(arr, i), path, 1, err);
		}
		json_decref(arr);
		goto out;
	}
	for (; *s; s += next) {
		json_error_t je;
		json_t *a;
		size_t len = line_len(s, &next), tl = len;
		const char *t = fl_str_trim(s, &tl);

		line++;
		if (!tl)
			continue;
		a = json_loadb(t, tl, 0, &je);
		if (!a) {
			*err = fl_asprintf("%s:%zu: invalid JSON: %s", path, line, je.text);
			rc = KB_EPARSE;
			goto out;
		}
		rc = normalise(a, path, line, err);
		if (!rc)
			rc = append_article(c, a, path, line, err);
		json_decref(a);
		if (rc)
			goto out;
	}
out:
	fl_buf_release(&b);
	return rc;
}

/* ---- files and directories ---- */

enum kind { K_NONE, K_MARKDOWN, K_JSON };

static enum kind kind_of(const char *name)
{
	if (fl_str_has_suffix(name, ".md") || fl_str_has_suffix(name, ".markdown"))
		return K_MARKDOWN;
	if (fl_str_has_suffix(name, ".jsonl") || fl_str_has_suffix(name, ".json") ||
	    fl_str_has_suffix(name, ".ndjson"))
		return K_JSON;
	return K_NONE;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int import_dir(const char *path, struct import_ctx *c, char **err)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	int rc = KB_OK;

	if (!d) {
		*err = fl_asprintf("cannot open directory '%s': %s", path, strerror(errno));
		return KB_EIO;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || kind_of(e->d_name) == K_NONE)
			continue;
		names = fl_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = fl_asprintf("%s/%s", path, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && rc == KB_OK; i++)
		rc = kind_of(names[i]) == K_MARKDOWN ? import_markdown(names[i], c, err)
						     : import_jsonl(names[i], c, err);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int kb_import_path(const char *path, json_t **articles, char **err)
{
	struct import_ctx c = { json_array(), json_object() };
	struct stat st;
	int rc;

	*articles = NULL;
	*err = NULL;
	if (stat(path, &st) != 0) {
		*err = fl_asprintf("cannot open '%s': %s", path, strerror(errno));
		rc = KB_EIO;
	} else if (S_ISDIR(st.st_mode)) {
		rc = import_dir(path, &c, err);
	} else if (kind_of(path) == K_MARKDOWN) {
		rc = import_markdown(path, &c, err);
	} else if (kind_of(path) == K_JSON) {
		rc = import_jsonl(path, &c, err);
	} else {
		*err = fl_asprintf("cannot import '%s': not a directory, nor a .md, .markdown, .jsonl "
				   "or .json file", path);
		rc = KB_EIO;
	}
	json_decref(c.seen);
	if (rc) {
		json_decref(c.out);
		return rc;
	}
	*articles = c.out;
	return KB_OK;
}
