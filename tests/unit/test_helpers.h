/*
 * Shared by the unit tests: cmocka's required includes (Debian's cmocka
 * 1.1.5 needs them first) and small helpers.
 */
#ifndef FL_TEST_HELPERS_H
#define FL_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/util.h"

/* A temporary directory removed (recursively) by test_tmpdir_remove. Caller frees. */
char *test_tmpdir(void);
void test_tmpdir_remove(const char *dir);
/* The shared data directory if it exists, else NULL (tests then skip, saying so). */
const char *test_data_dir(void);
/* A path under the source tree. Caller frees. */
char *test_source_path(const char *rel);
/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int test_free_port(void);
/* Whether something accepts connections on 127.0.0.1:port. */
bool test_can_connect(int port);

#endif
