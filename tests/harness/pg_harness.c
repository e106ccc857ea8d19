/*
 * pg_harness: a throwaway PostgreSQL server for tests (see pg_harness.h).
 * Everything the server needs is in one directory it owns; its only
 * listener is a Unix socket there. Errors carry the tail of the server's or
 * initdb's log, so a failing CI run says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pg_harness.h"
#include "util/util.h"

static int set_error(struct pg_harness *h, const char *fmt, ...) FL_PRINTF(2, 3);

static int set_error(struct pg_harness *h, const char *fmt, ...)
{
	va_list ap;

	free(h->error);
	va_start(ap, fmt);
	h->error = fl_vasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

const char *pg_harness_error(const struct pg_harness *h)
{
	return h->error ? h->error : "";
}

/* The last few lines of a log file, for error messages. Caller frees. */
static char *log_tail(const char *path)
{
	struct fl_buf b = FL_BUF_INIT;
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return fl_asprintf("(no log at '%s')", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fl_buf_add(&b, chunk, n);
	fclose(f);
	if (b.len > 1500) {
		char *t = fl_asprintf("...%s", b.buf + b.len - 1500);

		fl_buf_release(&b);
		return t;
	}
	return fl_buf_detach(&b, NULL);
}

static char *find_bindir(void)
{
	const char *env = getenv("PG_BINDIR");
	glob_t g;
	char *best = NULL;
	int best_ver = -1;
	size_t i;

	if (env && *env)
		return fl_strdup(env);
	if (glob("/usr/lib/postgresql/*/bin/postgres", 0, NULL, &g))
		return NULL;
	for (i = 0; i < g.gl_pathc; i++) {
		int v = (int)strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);

		if (v > best_ver) {
			best_ver = v;
			free(best);
			best = fl_strndup(g.gl_pathv[i], strlen(g.gl_pathv[i]) - strlen("/postgres"));
		}
	}
	globfree(&g);
	return best;
}

static int free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

struct runas {
	bool drop;
	uid_t uid;
	gid_t gid;
	const char *name;
};

/* Root cannot run PostgreSQL: pick an unprivileged account to run it as. */
static int pick_user(struct pg_harness *h, struct runas *ra)
{
	const char *names[] = { "nobody", "postgres" };
	size_t i;

	ra->drop = geteuid() == 0;
	ra->uid = geteuid();
	ra->gid = getegid();
	ra->name = "(current user)";
	if (!ra->drop)
		return 0;
	for (i = 0; i < FL_ARRAY_SIZE(names); i++) {
		struct passwd *pw = getpwnam(names[i]);

		if (pw && pw->pw_uid != 0) {
			ra->uid = pw->pw_uid;
			ra->gid = pw->pw_gid;
			ra->name = names[i];
			return 0;
		}
	}
	return set_error(h, "running as root and no unprivileged account ('nobody' or 'postgres') "
			 "exists to run PostgreSQL as");
}

/*
 * Forks and execs argv as ra's user with stdout and stderr to log. In the
 * child only async-signal-safe calls run. death_sig: the signal the child
 * gets when this thread exits (0: none).
 */
static pid_t spawn(const struct runas *ra, const char *dir, const char *log, char *const argv[],
		   int death_sig)
{
	pid_t parent = getpid(), pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	/* Best effort: the descriptor stays writable whoever owns the file. */
	if (ra->drop && fchown(fd, ra->uid, ra->gid) != 0)
		fl_log(FL_LOG_DEBUG, "pg_harness: cannot chown '%s': %s", log, strerror(errno));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (ra->drop && (setgroups(0, NULL) || setgid(ra->gid) || setuid(ra->uid)))
			_exit(126);
		if (chdir(dir))
			_exit(126);
		/* After setuid: a credential change clears the death signal. */
		if (death_sig && (prctl(PR_SET_PDEATHSIG, death_sig) || getppid() != parent))
			_exit(125);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

char *pg_harness_url(const struct pg_harness *h, const char *dbname)
{
	return fl_asprintf("postgresql://frontline@/%s?host=%s&port=%d&connect_timeout=10", dbname,
			   h->dir, h->port);
}

static int wait_ready(struct pg_harness *h, const char *log)
{
	char *url = pg_harness_url(h, "postgres");
	int64_t deadline = fl_mono_us() + 60 * 1000000LL;
	int status, rc = -1;

	for (;;) {
		if (PQping(url) == PQPING_OK) {
			rc = 0;
			break;
		}
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			char *tail = log_tail(log);

			h->pid = 0;
			set_error(h, "PostgreSQL exited during start-up (status %d); its log:\n%s", status, tail);
			free(tail);
			break;
		}
		if (fl_mono_us() > deadline) {
			char *tail = log_tail(log);

			set_error(h, "PostgreSQL did not accept connections within 60 s; its log:\n%s", tail);
			free(tail);
			break;
		}
		fl_sleep_us(20000);
	}
	free(url);
	return rc;
}

/*
 * Removes directories of earlier runs whose server is gone (a test killed
 * before pg_harness_stop). Young ones are left alone: another test may be
 * running initdb in them right now.
 */
static void remove_stale(void)
{
	glob_t g;
	size_t i;

	if (glob("/tmp/frontline-pg-*", GLOB_ONLYDIR, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		char *pidfile = fl_asprintf("%s/data/postmaster.pid", g.gl_pathv[i]);
		struct stat sb;
		FILE *f = fopen(pidfile, "r");
		long pid = 0;

		if (f) {
			if (fscanf(f, "%ld", &pid) != 1)
				pid = 0;
			fclose(f);
		}
		if (stat(g.gl_pathv[i], &sb) == 0 && time(NULL) - sb.st_mtime > 600 &&
		    (pid <= 0 || (kill((pid_t)pid, 0) && errno == ESRCH)))
			nftw(g.gl_pathv[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(pidfile);
	}
	globfree(&g);
}

int pg_harness_start(struct pg_harness *h, char **url_out)
{
	struct runas ra;
	char *initdb = NULL, *postgres = NULL, *data = NULL, *log = NULL, *port = NULL;
	char tmpl[] = "/tmp/frontline-pg-XXXXXX";
	int status, rc = -1;
	pid_t pid;

	*url_out = NULL;
	if (h->pid)
		return set_error(h, "the harness is already running a server");
	h->bindir = find_bindir();
	if (!h->bindir)
		return set_error(h, "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
				 "(install the 'postgresql' package: scripts/install-deps)");
	if (pick_user(h, &ra))
		return -1;
	remove_stale();
	/* /tmp, not TMPDIR: the socket path must stay short and reachable by ra's user. */
	if (!mkdtemp(tmpl))
		return set_error(h, "cannot create a directory under /tmp: %s", strerror(errno));
	h->dir = fl_strdup(tmpl);
	if (ra.drop && chown(h->dir, ra.uid, ra.gid)) {
		set_error(h, "cannot give '%s' to user '%s': %s", h->dir, ra.name, strerror(errno));
		goto out;
	}
	initdb = fl_asprintf("%s/initdb", h->bindir);
	postgres = fl_asprintf("%s/postgres", h->bindir);
	data = fl_asprintf("%s/data", h->dir);
	log = fl_asprintf("%s/initdb.log", h->dir);
	{
		char *argv[] = { initdb, "-D", data, "-U", "frontline", "--auth=trust", "-E", "UTF8",
				 "--locale=C", "-N", NULL };

		pid = spawn(&ra, h->dir, log, argv, 0);
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			char *tail = log_tail(log);

			set_error(h, "initdb failed (running as '%s', status %d); its log:\n%s", ra.name,
				  pid < 0 ? -1 : status, tail);
			free(tail);
			goto out;
		}
	}
	h->port = free_port();
	if (h->port < 0) {
		set_error(h, "cannot find a free port: %s", strerror(errno));
		goto out;
	}
	free(log);
	log = fl_asprintf("%s/server.log", h->dir);
	port = fl_asprintf("%d", h->port);
	{
		const char *sync = h->durable ? "on" : "off";
		char *fsync = fl_asprintf("fsync=%s", sync), *scommit = fl_asprintf("synchronous_commit=%s", sync),
		     *fpw = fl_asprintf("full_page_writes=%s", sync);
		char *argv[] = { postgres, "-D", data, "-k", h->dir, "-p", port,
				 "-c", "listen_addresses=", "-c", fsync, "-c", scommit, "-c", fpw,
				 "-c", "max_connections=60", "-c", "log_min_messages=warning",
				 /* fresh tables fill fast in tests: analyze them soon, for good plans */
				 "-c", "autovacuum_naptime=1", NULL };

		h->pid = spawn(&ra, h->dir, log, argv, SIGQUIT);
		free(fsync);
		free(scommit);
		free(fpw);
		if (h->pid < 0) {
			h->pid = 0;
			set_error(h, "cannot start '%s': %s", postgres, strerror(errno));
			goto out;
		}
	}
	if (wait_ready(h, log))
		goto out;
	rc = pg_harness_create_db(h, url_out);
out:
	free(initdb);
	free(postgres);
	free(data);
	free(log);
	free(port);
	if (rc) {
		char *why = fl_strdup(pg_harness_error(h));

		pg_harness_stop(h);
		h->error = why;
	}
	return rc;
}

int pg_harness_create_db(struct pg_harness *h, char **url_out)
{
	char *admin = pg_harness_url(h, "postgres"), *sql = NULL, *name;
	PGconn *c = PQconnectdb(admin);
	PGresult *r = NULL;
	int rc = -1;

	*url_out = NULL;
	name = fl_asprintf("frontline_%d", ++h->ndb);
	if (PQstatus(c) != CONNECTION_OK) {
		set_error(h, "cannot connect to the test server: %s", PQerrorMessage(c));
		goto out;
	}
	sql = fl_asprintf("CREATE DATABASE %s", name);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		set_error(h, "cannot create database '%s': %s", name, PQerrorMessage(c));
		goto out;
	}
	*url_out = pg_harness_url(h, name);
	rc = 0;
out:
	PQclear(r);
	PQfinish(c);
	free(admin);
	free(sql);
	free(name);
	return rc;
}

void pg_harness_stop(struct pg_harness *h)
{
	if (h->pid > 0) {
		int status, i;

		/* Fast shutdown; immediate, then a kill, if it hangs. */
		kill(h->pid, SIGINT);
		for (i = 0; i < 3000 && waitpid(h->pid, &status, WNOHANG) == 0; i++) {
			if (i == 1000)
				kill(h->pid, SIGQUIT);
			if (i == 2000)
				kill(h->pid, SIGKILL);
			fl_sleep_us(10000);
		}
	}
	h->pid = 0;
	if (h->dir)
		nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(h->dir);
	free(h->bindir);
	free(h->error);
	h->dir = h->bindir = h->error = NULL;
	h->port = 0;
	h->ndb = 0;
}
