/* web's internals: the pieces its pages share (page.c). */
#ifndef FL_WEB_INT_H
#define FL_WEB_INT_H

#include "web.h"
#include "util/util.h"

/* Appends s (may be NULL) to b, HTML-escaped for text and attribute values. */
void web__esc(struct fl_buf *b, const char *s);
/* Appends the document's head with title (escaped) and opens <main>. */
void web__head(struct fl_buf *b, const char *title);

#endif
