/*
 * notify's internals shared by its files: the libcurl helpers the HTTP
 * channels use, and the settings with configuration defaults filled in.
 */
#ifndef FL_NOTIFY_INT_H
#define FL_NOTIFY_INT_H

#include <curl/curl.h>

#include "notify.h"
#include "util/util.h"

/* The effective value of a setting: the given one, else the configuration key. */
const char *notify__setting(const char *given, const char *config_key);
long notify__timeout_ms(const struct notify_settings *s);

/*
 * POSTs body (JSON) to url with extra headers (may be NULL; the list is
 * borrowed), following no redirects and allowing only http and https.
 * Classifies the outcome for the dispatcher: 2xx NOTIFY_OK; 408, 425, 429
 * and 5xx or a transport error NOTIFY_ETRANSIENT; other statuses
 * NOTIFY_EPERMANENT. Sets d->http_status, d->retry_after_s and d->error.
 */
int notify__http_post(struct notify_delivery *d, const char *url, const char *body,
		      struct curl_slist *headers);

#endif
