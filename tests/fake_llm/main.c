/*
 * fake_llm as a program, for the CLI tests and the benchmark:
 *
 *   fake_llm [--port N] [--behaviour B] [--latency-ms N] [--slow-ms N]
 *            [--retry-after V] [--port-file FILE]
 *
 * Listens on 127.0.0.1 (port 0: a free one, written to --port-file and to
 * stdout) until SIGINT or SIGTERM. Behaviours as in fake_llm.h.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_llm.h"
#include "util/util.h"

static void usage(FILE *out)
{
	fputs("usage: fake_llm [--port N] [--behaviour B] [--latency-ms N] [--slow-ms N]\n"
	      "                [--retry-after V] [--port-file FILE]\n", out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "behaviour", required_argument, NULL, 'b' },
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "slow-ms", required_argument, NULL, 's' },
		{ "retry-after", required_argument, NULL, 'r' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *behaviour = NULL, *retry_after = NULL, *port_file = NULL;
	int64_t port = 0, latency = 0, slow = -1;
	struct fake_llm *f;
	sigset_t set;
	char *err = NULL;
	int opt, sig;

	while ((opt = getopt_long(argc, argv, "p:b:l:s:r:f:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (fl_parse_int64(optarg, 0, 65535, &port))
				goto bad;
			break;
		case 'b':
			if (!fake_llm_behaviour_known(optarg)) {
				fprintf(stderr, "fake_llm: unknown behaviour '%s'\n", optarg);
				return 64;
			}
			behaviour = optarg;
			break;
		case 'l':
			if (fl_parse_int64(optarg, 0, 600000, &latency))
				goto bad;
			break;
		case 's':
			if (fl_parse_int64(optarg, 0, 600000, &slow))
				goto bad;
			break;
		case 'r':
			retry_after = optarg;
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind < argc)
		goto bad;
	/* block the signals before the server's threads start, so they inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	f = fake_llm_start((int)port, &err);
	if (!f) {
		fprintf(stderr, "fake_llm: %s\n", err);
		free(err);
		return 69;
	}
	if (behaviour)
		fake_llm_set_default(f, behaviour);
	fake_llm_set_latency_ms(f, (int)latency);
	if (slow >= 0)
		fake_llm_set_slow_ms(f, (int)slow);
	if (retry_after)
		fake_llm_set_retry_after(f, retry_after);
	if (port_file) {
		FILE *pf = fopen(port_file, "w");

		if (!pf) {
			fprintf(stderr, "fake_llm: cannot write '%s'\n", port_file);
			fake_llm_stop(f);
			return 73;
		}
		fprintf(pf, "%d\n", fake_llm_port(f));
		fclose(pf);
	}
	printf("fake_llm listening on http://127.0.0.1:%d\n", fake_llm_port(f));
	fflush(stdout);
	sigwait(&set, &sig);
	fake_llm_stop(f);
	return 0;
bad:
	usage(stderr);
	return 64;
}
