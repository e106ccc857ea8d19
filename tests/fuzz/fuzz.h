/*
 * What the fuzz targets share. Each target is one file in tests/fuzz with
 * LLVMFuzzerTestOneInput (and, when it needs a set-up made once per process,
 * LLVMFuzzerInitialize). The same file links two ways (tests/fuzz/meson.build):
 *
 *   - with libFuzzer (clang, -fsanitize=fuzzer, build-fuzz/): fuzz_<name>,
 *     run by scripts/fuzz (make fuzz);
 *   - with replay.c's main (any compiler, every build): replay_<name>, which
 *     feeds each file of tests/fuzz/corpus/<name>/ to the target once; make
 *     check runs it, so a crash the fuzzer once found stays fixed.
 *
 * A target checks what its code promises (FUZZ_CHECK), not only that it does
 * not crash; it leaks nothing per input and keeps no state between inputs
 * beyond what LLVMFuzzerInitialize made.
 */
#ifndef FL_FUZZ_H
#define FL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken promise: says which, then aborts (libFuzzer keeps the input as a crash). */
#define FUZZ_CHECK(cond)                                                                        \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* data as a NUL-terminated string (bytes after a NUL are kept but unseen by C strings). Caller frees. */
char *fuzz_string(const uint8_t *data, size_t size);

/*
 * A file holding data, for parsers that read a path: an anonymous memory
 * file (memfd) seen as /proc/self/fd/N. fuzz_file_close closes it.
 */
struct fuzz_file {
	int fd;
	char path[64];
};
int fuzz_file_open(struct fuzz_file *f, const void *data, size_t size);
void fuzz_file_close(struct fuzz_file *f);

/*
 * Splits data at the first occurrence of sep (a few bytes): *head is what
 * comes before (a new NUL-terminated string), the rest after sep stays in
 * *data / *size. Without sep, head is all of it and the rest is empty.
 */
char *fuzz_take(const uint8_t **data, size_t *size, const char *sep);

/* Logs go nowhere, but are still formatted (FL_LOG_DEBUG and up), so that the formatting is fuzzed too. */
void fuzz_quiet_logs(void);

/* A path under the source tree (FL_SOURCE_ROOT). Caller frees. */
char *fuzz_source_path(const char *rel);

#endif
