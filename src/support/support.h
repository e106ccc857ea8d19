/*
 * support: the customer-support domain on top of the flow engine: the ticket
 * model, the nine nodes, the workflows, the built-in analyzer and policies.
 */
#ifndef FL_SUPPORT_H
#define FL_SUPPORT_H

#include "flow/flow.h"

/* ---- workflow registry ---- */

struct support_workflow {
	const char *name;
	const char *description;
	/* Builds a new graph; the caller frees it with flow_node_free. */
	struct flow_node *(*build)(void);
};

/* The registered workflows, ended by an entry whose name is NULL. */
const struct support_workflow *support_workflows(void);
/* The workflow called name, or NULL. */
const struct support_workflow *support_workflow_find(const char *name);

#endif
