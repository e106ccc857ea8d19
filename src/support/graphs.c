/*
 * The workflow registry: every workflow Frontline can run, by name.
 */
#include <string.h>

#include "support.h"

static const struct support_workflow workflows[] = {
	{ NULL, NULL, NULL },
};

const struct support_workflow *support_workflows(void)
{
	return workflows;
}

const struct support_workflow *support_workflow_find(const char *name)
{
	size_t i;

	for (i = 0; name && workflows[i].name; i++)
		if (!strcmp(workflows[i].name, name))
			return &workflows[i];
	return NULL;
}
