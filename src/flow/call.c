/*
 * The per-step handle that a node's ops receive: the node's data, the run's
 * typed context, the attempt and batch item, the run's clock, the failure an
 * op reports (a message, and a code when the op gives one), and notes for
 * the step's trace. The engine (run.c) creates one per op call.
 */
#include <stdlib.h>
#include <string.h>

#include "flow_int.h"

void *flow_call_data(const struct flow_call *call)
{
	return call->node->data;
}

void *flow_call_ctx(const struct flow_call *call, const char *ctx_type)
{
	if (!call->run->ctx_type || !ctx_type || strcmp(call->run->ctx_type, ctx_type))
		return NULL;
	return call->run->ctx;
}

const char *flow_call_node_name(const struct flow_call *call)
{
	return call->node->name;
}

int flow_call_attempt(const struct flow_call *call)
{
	return call->attempt;
}

long flow_call_item(const struct flow_call *call)
{
	return call->item;
}

int64_t flow_call_now_us(const struct flow_call *call)
{
	return call->run->clock.now_us(call->run->clock.arg);
}

static int call_vfail(struct flow_call *call, const char *code, const char *fmt, va_list ap) FL_PRINTF(3, 0);

static int call_vfail(struct flow_call *call, const char *code, const char *fmt, va_list ap)
{
	flow__call_reset(call);
	if (code && *code)
		call->code = fl_strdup(code);
	fl_buf_vaddf(&call->err, fmt, ap);
	return -1;
}

int flow_call_fail(struct flow_call *call, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(call, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int flow_call_error(struct flow_call *call, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	call_vfail(call, code, fmt, ap);
	va_end(ap);
	return -1;
}

void flow_call_note(struct flow_call *call, const char *key, json_t *value)
{
	if (!call->step) {
		json_decref(value);
		return;
	}
	pthread_mutex_lock(&call->run->lock);
	json_object_set_new(call->step, key, value);
	pthread_mutex_unlock(&call->run->lock);
}
