/*
 * libcurl's process-wide set-up, done once and in one place: every module
 * that makes a libcurl handle (the LLM client, notification delivery, the
 * IMAP poller) calls fl_curl_global_init first. curl_global_init is not
 * safe to race with itself in every libcurl build, hence the pthread_once;
 * it is never undone (the process's exit releases it), except by a test
 * program that calls curl_global_cleanup at its very end.
 */
#include <pthread.h>
#include <curl/curl.h>

#include "util.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fl_die("cannot initialise libcurl");
}

void fl_curl_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}
