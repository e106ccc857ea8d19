/*
 * A stand-in for libmicrohttpd's connection side, for fuzz_http: the
 * functions of libmicrohttpd that src/server calls (MHD_start_daemon,
 * MHD_lookup_connection_value, MHD_queue_response, MHD_suspend_connection,
 * ...) are defined in fake_mhd.c, so that a program linking it takes them
 * instead of the library's. The server then runs unchanged, but no socket
 * is opened: the fuzz target parses a request's bytes itself, as
 * libmicrohttpd would, and plays the daemon's part through the functions
 * below (its callbacks, in the order libmicrohttpd calls them).
 *
 * Anything of libmicrohttpd's that the fake does not know (a daemon option,
 * a kind of connection info) stops the program, saying what to add: the
 * fake must not guess.
 */
#ifndef FL_FAKE_MHD_H
#define FL_FAKE_MHD_H

#include <stdbool.h>
#include <microhttpd.h>

/*
 * A queued response, as the server built it. A body made by a callback is
 * read as a client would read it: to its end, or until the callback waits
 * for more (suspending the connection: the client then goes away), at most
 * 64 calls or 64 KiB.
 */
struct fake_header {
	char *name, *value;
};

struct MHD_Response {
	char *body;
	size_t len;
	enum MHD_ResponseMemoryMode mode;
	struct fake_header *headers;
	size_t nheaders;
	int refs;
	/* a body made by a callback (a live stream): read by fake_response */
	MHD_ContentReaderCallback reader;
	void *reader_cls;
	MHD_ContentReaderFreeCallback reader_free;
	size_t block;
	bool read;
};

/*
 * The connection "opened": the accept policy is asked, then libmicrohttpd's
 * connection notification STARTED. NULL when the policy refused it.
 */
struct MHD_Connection *fake_conn_open(void);
/* Its end (notification CLOSED), and freed. */
void fake_conn_close(struct MHD_Connection *c);

/* A new request on c: forgets the previous one's headers, arguments and response. */
void fake_conn_next(struct MHD_Connection *c);
/* A header (MHD_HEADER_KIND) or a query argument (MHD_GET_ARGUMENT_KIND, value may be NULL); copied. */
void fake_conn_add_value(struct MHD_Connection *c, enum MHD_ValueKind kind, const char *key, const char *value);

/* The URI callback with the request target as sent; returns the request's context (con_cls). */
void *fake_uri(struct MHD_Connection *c, const char *uri);
/* One call of the access handler. */
enum MHD_Result fake_access(struct MHD_Connection *c, const char *url, const char *method, const char *version,
			    const char *upload, size_t *upload_size, void **con_cls);
/*
 * How many times the handler suspended c in this request (the resumption,
 * from another thread, may already have come).
 */
unsigned fake_suspends(struct MHD_Connection *c);
/* Waits until c is resumed (at once when it is); false after timeout_ms. */
bool fake_wait_resumed(struct MHD_Connection *c, long timeout_ms);
/* The request-completed callback. */
void fake_completed(struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
/* The response queued for the current request (NULL: none yet), its status, and how many times one was queued. */
struct MHD_Response *fake_response(struct MHD_Connection *c, unsigned *status, int *queued);

#endif
