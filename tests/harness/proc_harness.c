/*
 * The integration tests' side of the real binary (proc_harness.h): fork and
 * exec with the file descriptors a test wants, the environment of a test
 * service, and the port it announces.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_harness.h"
#include "util/util.h"

int proc_failures;

static const char *frontline;
static const char *dir;

void proc_init(const char *binary, const char *directory)
{
	frontline = binary;
	dir = directory;
}

void proc_service_env(const char *source_root, const char *webhook_secret)
{
	char *p;

	p = fl_asprintf("sqlite://%s/frontline.db", dir);
	setenv("FRONTLINE_DATABASE_URL", p, 1);
	free(p);
	p = fl_asprintf("%s/data/models", source_root);
	setenv("FRONTLINE_MODELS_DIR", p, 1);
	free(p);
	p = fl_asprintf("%s/data/kb", source_root);
	setenv("FRONTLINE_KB_DIR", p, 1);
	free(p);
	setenv("FRONTLINE_LISTEN", "127.0.0.1:0", 1);
	setenv("FRONTLINE_WEBHOOK_SECRET", webhook_secret, 1);
	setenv("FRONTLINE_HTTP_THREADS", "2", 1);
	setenv("FRONTLINE_RATE_LIMIT", "0", 1);
	unsetenv("API_KEY");
	unsetenv("ANTHROPIC_API_KEY");
	unsetenv("ANTHROPIC_AUTH_TOKEN");
	unsetenv("ANTHROPIC_BASE_URL");
}

struct proc proc_spawn(const char *const *args, const char *in, const char *log)
{
	struct proc p = { 0, NULL, 0 };
	char *logpath = fl_asprintf("%s/%s", dir, log);
	int fds[2];

	if (pipe(fds))
		abort();
	p.pid = fork();
	if (p.pid == 0) {
		const char *argv[16];
		int i = 0, fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int ifd = open(in ? in : "/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(ifd, 0);
		dup2(fds[1], 1);
		dup2(fd, 2);
		close(fds[0]);
		argv[i++] = frontline;
		for (; *args && i < 15; args++)
			argv[i++] = *args;
		argv[i] = NULL;
		execv(frontline, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	p.out = fdopen(fds[0], "r");
	free(logpath);
	return p;
}

unsigned proc_read_port(struct proc *p)
{
	char line[512];
	int64_t port;

	while (fgets(line, sizeof(line), p->out)) {
		char *at = strstr(line, "http://127.0.0.1:");

		if (strstr(line, "is serving on") && at) {
			at += strlen("http://127.0.0.1:");
			at[strspn(at, "0123456789")] = '\0';
			return fl_parse_int64(at, 1, 65535, &port) ? 0 : (unsigned)port;
		}
	}
	return 0;
}

int proc_stop(struct proc *p, int sig)
{
	int status = -1;

	kill(p->pid, sig);
	waitpid(p->pid, &status, 0);
	if (p->out)
		fclose(p->out);
	p->out = NULL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int proc_run(const char *const *args, const char *in, char *out, size_t outlen)
{
	struct proc p = proc_spawn(args, in, "cli.log");
	size_t n = 0, got;
	int status;

	while (n < outlen - 1 && (got = fread(out + n, 1, outlen - 1 - n, p.out)) > 0)
		n += got;
	out[n] = '\0';
	fclose(p.out);
	waitpid(p.pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
