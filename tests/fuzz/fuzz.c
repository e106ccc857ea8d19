/*
 * The helpers of fuzz.h, shared by every target and by both ways of running
 * one (libFuzzer and replay.c).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/util.h"

char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = fl_malloc(size + 1);

	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int fuzz_file_open(struct fuzz_file *f, const void *data, size_t size)
{
	const char *p = data;

	f->fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	if (f->fd < 0)
		return -1;
	while (size) {
		ssize_t n = write(f->fd, p, size);

		if (n <= 0) {
			close(f->fd);
			f->fd = -1;
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	return 0;
}

void fuzz_file_close(struct fuzz_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

char *fuzz_take(const uint8_t **data, size_t *size, const char *sep)
{
	size_t n = strlen(sep);
	const uint8_t *at = n <= *size ? memmem(*data, *size, sep, n) : NULL;
	char *head;

	if (!at) {
		head = fuzz_string(*data, *size);
		*data += *size;
		*size = 0;
		return head;
	}
	head = fuzz_string(*data, (size_t)(at - *data));
	*size -= (size_t)(at - *data) + n;
	*data = at + n;
	return head;
}

static void discard(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

void fuzz_quiet_logs(void)
{
	fl_log_setup(FL_LOG_DEBUG, discard, NULL);
}

char *fuzz_source_path(const char *rel)
{
	return fl_asprintf("%s/%s", FL_SOURCE_ROOT, rel);
}
