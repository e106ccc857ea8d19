/*
 * mhd_ceiling: the ceiling for the service benchmark. A minimal
 * libmicrohttpd server configured as `frontline serve` is (internal epoll
 * thread pool, one thread per core) that answers every request with 200
 * and a small JSON body from memory. Whatever it reaches with wrk on this
 * machine is the most an HTTP service built this way can do here.
 *
 * Usage: mhd_ceiling PORT     (runs until SIGTERM or SIGINT)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>

static struct MHD_Response *ok;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)data;
	if (!*state) {
		*state = (void *)1;
		return MHD_YES;
	}
	if (*size) {   /* bodies are read and dropped */
		*size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_OK, ok);
}

int main(int argc, char **argv)
{
	static const char body[] = "{\"id\":\"ticket_0\",\"status\":\"new\"}";
	struct sockaddr_in sa = { 0 };
	struct MHD_Daemon *d;
	sigset_t set;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: mhd_ceiling PORT\n");
		return 64;
	}
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	ok = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(ok, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, answer, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
			     MHD_OPTION_CONNECTION_LIMIT, 1024u,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_ceiling: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 69;
	}
	printf("listening on 127.0.0.1:%s\n", argv[1]);
	fflush(stdout);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(ok);
	return 0;
}
