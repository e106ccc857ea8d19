/*
 * A main() that runs a fuzz target without libFuzzer: each file named on the
 * command line, and each file in each directory named there (not
 * recursively, in name order), is given to LLVMFuzzerTestOneInput once.
 * make check runs it on the target's committed corpus (tests/fuzz/corpus/)
 * under the plain and the ASan/UBSan builds: the inputs that once crashed
 * a target stay there as regressions.
 *
 * Exit status: 0 when every input passed (a failing input aborts, as it
 * would under libFuzzer); 66 (EX_NOINPUT) when a path cannot be read or
 * nothing was given.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "fuzz.h"
#include "util/util.h"

/* Optional in a target. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	struct fl_buf b = FL_BUF_INIT;
	char chunk[65536];
	size_t n;
	uint8_t *copy;

	if (!f) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(&b, chunk, n);
	fclose(f);
	/* an exact-size copy, so that ASan sees a read past the input's end as libFuzzer would */
	copy = fl_malloc(b.len ? b.len : 1);
	memcpy(copy, b.buf ? b.buf : "", b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	fl_buf_release(&b);
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot read directory '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = fl_reallocarray(names, n + 1, sizeof(*names));
		names[n++] = fl_asprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		struct stat sb;

		if (!rc && !stat(names[i], &sb) && S_ISREG(sb.st_mode))
			rc = run_file(names[i], count);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb)) {
			fprintf(stderr, "replay: cannot read '%s': %s\n", argv[i], strerror(errno));
			return EX_NOINPUT;
		}
		if ((S_ISDIR(sb.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i], &count)))
			return EX_NOINPUT;
	}
	if (!count) {
		fprintf(stderr, "replay: no input given\n");
		return EX_NOINPUT;
	}
	printf("replay: %zu inputs passed\n", count);
	return 0;
}
