/*
 * JSON-lines logging. One line per call, written with a single write so that
 * lines from several threads do not interleave. The level and sink are set
 * once at start-up (fl_log_setup); the request id is per thread.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

static enum fl_log_level log_level = FL_LOG_INFO;
static void (*log_sink)(void *arg, const char *line);
static void *log_sink_arg;
static _Thread_local char log_request_id[64];

static const char *const level_names[] = { "debug", "info", "warning", "error" };

int fl_log_level_parse(const char *s)
{
	size_t i;

	if (!s)
		return -1;
	if (!strcasecmp(s, "warn"))
		return FL_LOG_WARN;
	for (i = 0; i < FL_ARRAY_SIZE(level_names); i++)
		if (!strcasecmp(s, level_names[i]))
			return (int)i;
	return -1;
}

void fl_log_setup(enum fl_log_level level, void (*sink)(void *arg, const char *line), void *arg)
{
	log_level = level;
	log_sink = sink;
	log_sink_arg = arg;
}

bool fl_log_enabled(enum fl_log_level level)
{
	return level >= log_level;
}

void fl_log_set_request_id(const char *id)
{
	fl_strlcpy(log_request_id, id ? id : "", sizeof(log_request_id));
}

static void log_emit(enum fl_log_level level, const json_t *fields, const char *fmt, va_list ap) FL_PRINTF(3, 0);

static void log_emit(enum fl_log_level level, const json_t *fields, const char *fmt, va_list ap)
{
	json_t *line = json_object();
	char ts[32], *msg, *text;
	const char *key;
	json_t *value;

	fl_time_rfc3339(ts, fl_wall_us());
	msg = fl_vasprintf(fmt, ap);
	json_object_set_new(line, "ts", json_string(ts));
	json_object_set_new(line, "level", json_string(level_names[level]));
	if (json_object_set_new(line, "msg", json_string(msg)))
		json_object_set_new(line, "msg", json_string("(message is not valid UTF-8)"));
	if (log_request_id[0])
		json_object_set_new(line, "request_id", json_string(log_request_id));
	if (json_is_object(fields))
		json_object_foreach((json_t *)fields, key, value)
			json_object_set(line, key, value);
	{
		struct fl_buf b;

		fl_buf_init(&b, 256);
		text = fl_json_encode(&b, line) ? NULL : fl_buf_detach(&b, NULL);
		fl_buf_release(&b);
	}
	if (text) {
		if (log_sink) {
			log_sink(log_sink_arg, text);
		} else {
			size_t n = strlen(text);
			ssize_t w;

			text[n] = '\n';
			/* one write per line keeps lines whole across threads */
			w = write(STDERR_FILENO, text, n + 1);
			(void)w;
			text[n] = '\0';
		}
	}
	free(text);
	free(msg);
	json_decref(line);
}

void fl_log(enum fl_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!fl_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, NULL, fmt, ap);
	va_end(ap);
}

void fl_logj(enum fl_log_level level, const json_t *fields, const char *fmt, ...)
{
	va_list ap;

	if (!fl_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, fields, fmt, ap);
	va_end(ap);
}
