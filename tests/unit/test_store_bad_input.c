/*
 * The store against hostile surroundings: a file that is not a database, a
 * SQLite database of another application, a Frontline database with
 * corrupted pages, a read-only directory, a full disk (a tiny tmpfs when
 * mounting is allowed, else RLIMIT_FSIZE; the RLIMIT_FSIZE case runs
 * always) and an unreachable PostgreSQL server. Each must be a clear error
 * naming the URL, password masked, and leave nothing half-written.
 *
 * Running as root (CI), directory permissions do not stop us, so the
 * read-only case runs in a child process that drops to 'nobody'.
 */
#include "test_helpers.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

struct fx {
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = fl_calloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	struct fl_buf b = FL_BUF_INIT;
	char chunk[8192];
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		fl_buf_add(&b, chunk, n);
	fclose(fp);
	return fl_buf_detach(&b, len);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* The file's bytes are what they were, and no journal appeared beside it. */
static void assert_untouched(const char *path, const char *before, size_t len)
{
	char *wal = fl_asprintf("%s-wal", path), *shm = fl_asprintf("%s-shm", path);
	size_t n;
	char *after = slurp(path, &n);

	assert_int_equal(n, len);
	assert_memory_equal(after, before, len);
	assert_false(exists(wal));
	assert_false(exists(shm));
	free(after);
	free(wal);
	free(shm);
}

static void test_non_sqlite_file_is_refused_untouched(void **state)
{
	struct fx *f = *state;
	char *path = fl_asprintf("%s/junk.db", f->dir), *url = fl_asprintf("sqlite://%s", path);
	char *err = NULL, *before;
	unsigned char junk[8192];
	struct store *st = NULL;
	size_t len;
	FILE *fp;

	fl_random_bytes(junk, sizeof(junk));
	fp = fopen(path, "wb");
	fwrite(junk, 1, sizeof(junk), fp);
	fclose(fp);
	before = slurp(path, &len);
	assert_int_equal(store_open(url, &st, &err), STORE_ECORRUPT);
	assert_null(st);
	assert_non_null(strstr(err, url));
	assert_untouched(path, before, len);
	free(err);
	free(before);
	free(path);
	free(url);
}

static void test_foreign_sqlite_database_is_refused_untouched(void **state)
{
	struct fx *f = *state;
	char *path = fl_asprintf("%s/other.db", f->dir), *url = fl_asprintf("sqlite://%s", path);
	char *err = NULL, *before;
	struct store *st = NULL;
	sqlite3 *db;
	size_t len;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);"
				      "INSERT INTO accounts (name) VALUES ('ledger')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	before = slurp(path, &len);
	assert_int_equal(store_open(url, &st, &err), STORE_ECORRUPT);
	assert_non_null(strstr(err, "not a Frontline database"));
	assert_non_null(strstr(err, url));
	assert_untouched(path, before, len);
	free(err);
	free(before);
	free(path);
	free(url);
}

static void test_corrupted_pages_are_reported_as_corruption(void **state)
{
	struct fx *f = *state;
	char *path = fl_asprintf("%s/fl.db", f->dir), *url = fl_asprintf("sqlite://%s", path);
	struct store_ticket_filter all = { .limit = 500 };
	struct store *st = NULL;
	json_t *page = NULL, *m = NULL;
	char *err = NULL, garbage[4096];
	struct stat sb;
	int i, fd, rc;

	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	for (i = 0; i < 300; i++) {
		json_t *t = json_pack("{s:s, s:s}", "subject", "A ticket to fill pages",
				      "content", "Some content that takes room in the tickets table and its index.");

		assert_int_equal(store_ticket_intake(st, t, "triage", NULL, NULL, NULL), STORE_OK);
		json_decref(t);
	}
	store_close(st);
	st = NULL;
	/* Overwrite the second half of the file: the tickets' pages, not the header. */
	assert_int_equal(stat(path, &sb), 0);
	memset(garbage, 0xA5, sizeof(garbage));
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	for (off_t off = sb.st_size / 2 / 4096 * 4096; off < sb.st_size; off += 4096)
		assert_int_equal(pwrite(fd, garbage, sizeof(garbage), off), (ssize_t)sizeof(garbage));
	close(fd);
	rc = store_open(url, &st, &err);
	if (rc == STORE_OK) {
		rc = store_metrics(st, 0, INT64_MAX, &m);
		if (rc == STORE_OK)
			rc = store_ticket_list(st, &all, &page);
		assert_int_equal(rc, STORE_ECORRUPT);
		assert_non_null(strstr(store_errmsg(st), url));
		store_close(st);
	} else {
		assert_int_equal(rc, STORE_ECORRUPT);
		assert_non_null(strstr(err, url));
		free(err);
	}
	json_decref(m);
	json_decref(page);
	free(path);
	free(url);
}

/*
 * The read-only checks, run as a user the directory does not let write.
 * Returns 0, or the number of the check that failed (message on stderr).
 */
static int read_only_checks(const char *dir_new, const char *dir_old)
{
	char *url = fl_asprintf("sqlite://%s/fl.db", dir_new), *file = fl_asprintf("%s/fl.db", dir_new);
	char *url2 = fl_asprintf("sqlite://%s/fl.db", dir_old);
	struct store *st = NULL;
	char *err = NULL;
	int rc, failed = 0;

	rc = store_open(url, &st, &err);
	if (rc != STORE_EREADONLY || !err || !strstr(err, url) || exists(file)) {
		fprintf(stderr, "new database in a read-only directory: %s: %s\n", store_errname(rc),
			err ? err : "(no message)");
		failed = 1;
	}
	free(err);
	err = NULL;
	store_close(st);
	st = NULL;
	rc = store_open(url2, &st, &err);
	if (!failed && (rc != STORE_EREADONLY || !err || !strstr(err, url2))) {
		fprintf(stderr, "existing database in a read-only directory: %s: %s\n", store_errname(rc),
			err ? err : "(no message)");
		failed = 2;
	}
	store_close(st);
	free(err);
	free(url);
	free(url2);
	free(file);
	return failed;
}

static void test_read_only_directory_is_a_clear_error(void **state)
{
	struct fx *f = *state;
	char *ro_new = fl_asprintf("%s/ro-new", f->dir), *ro_old = fl_asprintf("%s/ro-old", f->dir);
	char *url_old = fl_asprintf("sqlite://%s/fl.db", ro_old), *db_old = fl_asprintf("%s/fl.db", ro_old);
	char *err = NULL, *before;
	struct store *st = NULL;
	json_t *t;
	size_t len;
	int status;
	pid_t pid;

	assert_int_equal(mkdir(ro_new, 0555), 0);
	assert_int_equal(mkdir(ro_old, 0755), 0);
	assert_int_equal(store_open(url_old, &st, &err), STORE_OK);
	t = json_pack("{s:s}", "content", "kept safe");
	assert_int_equal(store_ticket_intake(st, t, NULL, NULL, NULL, NULL), STORE_OK);
	json_decref(t);
	store_close(st);
	/* Only the directory is read-only: the file itself stays writable by anyone. */
	assert_int_equal(chmod(db_old, 0666), 0);
	assert_int_equal(chmod(ro_old, 0555), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	before = slurp(db_old, &len);
	if (geteuid() != 0) {
		assert_int_equal(read_only_checks(ro_new, ro_old), 0);
	} else {
		struct passwd *pw = getpwnam("nobody");
		uid_t uid = pw ? pw->pw_uid : 65534;
		gid_t gid = pw ? pw->pw_gid : 65534;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
				fprintf(stderr, "cannot drop privileges to uid %d: %s\n", (int)uid, strerror(errno));
				_exit(100);
			}
			_exit(read_only_checks(ro_new, ro_old));
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_untouched(db_old, before, len);
	chmod(ro_new, 0755);
	chmod(ro_old, 0755);
	free(before);
	free(ro_new);
	free(ro_old);
	free(url_old);
	free(db_old);
}

/*
 * A new SQLite store is private: the directories the store creates are
 * 0700 and the database with its write-ahead log and shared-memory files
 * 0600, whatever the umask lets through (tickets, customers' mail and
 * token hashes are in there).
 */
static void test_new_sqlite_store_is_private(void **state)
{
	struct fx *f = *state;
	char *url = fl_asprintf("sqlite://%s/a/b/fl.db", f->dir), *err = NULL;
	const char *const files[] = { "fl.db", "fl.db-wal", "fl.db-shm" };
	struct store *st = NULL;
	struct stat sb;
	mode_t old = umask(022);
	json_t *t;
	size_t i;

	assert_int_equal(store_open(url, &st, &err), STORE_OK);
	t = json_pack("{s:s}", "content", "a private ticket");
	assert_int_equal(store_ticket_intake(st, t, NULL, NULL, NULL, NULL), STORE_OK);
	json_decref(t);
	for (i = 0; i < FL_ARRAY_SIZE(files); i++) {
		char *path = fl_asprintf("%s/a/b/%s", f->dir, files[i]);

		assert_int_equal(stat(path, &sb), 0);
		if ((sb.st_mode & 0777) != 0600)
			fail_msg("%s has mode %o, expected 600", files[i], (unsigned)(sb.st_mode & 0777));
		free(path);
	}
	for (i = 0; i < 2; i++) {
		char *path = fl_asprintf(i ? "%s/a/b" : "%s/a", f->dir);

		assert_int_equal(stat(path, &sb), 0);
		if ((sb.st_mode & 0777) != 0700)
			fail_msg("%s has mode %o, expected 700", path, (unsigned)(sb.st_mode & 0777));
		free(path);
	}
	store_close(st);
	umask(old);
	free(url);
}

/*
 * store_open_existing (mail-in's) creates nothing: a database that is not
 * there, or whose directory is not, is STORE_ENOTFOUND with the URL named,
 * and nothing appears on the disk.
 */
static void test_open_existing_creates_nothing(void **state)
{
	struct fx *f = *state;
	char *in_dir = fl_asprintf("sqlite://%s/fl.db", f->dir), *no_dir = fl_asprintf("sqlite://%s/gone/fl.db", f->dir);
	char *path = fl_asprintf("%s/fl.db", f->dir), *dir = fl_asprintf("%s/gone", f->dir), *err = NULL;
	struct store *st = NULL;
	struct stat sb;

	assert_int_equal(store_open_existing(no_dir, &st, &err), STORE_ENOTFOUND);
	assert_null(st);
	assert_non_null(strstr(err, "does not exist"));
	assert_non_null(strstr(err, "gone/fl.db"));
	free(err);
	err = NULL;
	assert_int_not_equal(stat(dir, &sb), 0);
	assert_int_equal(store_open_existing(in_dir, &st, &err), STORE_ENOTFOUND);
	free(err);
	err = NULL;
	assert_int_not_equal(stat(path, &sb), 0);
	/* once it exists, it opens */
	assert_int_equal(store_open(in_dir, &st, &err), STORE_OK);
	store_close(st);
	st = NULL;
	assert_int_equal(store_open_existing(in_dir, &st, &err), STORE_OK);
	store_close(st);
	free(in_dir);
	free(no_dir);
	free(path);
	free(dir);
}

/*
 * Fills the store at url with intakes until one fails; returns the number
 * that succeeded, and the failure in *rc and *msg (caller frees).
 */
static int fill_until_full(const char *url, int *rc, char **msg)
{
	struct store *st = NULL;
	char *err = NULL, *body = fl_malloc(16001);
	int n = 0;

	memset(body, 'x', 16000);
	body[16000] = '\0';
	*msg = NULL;
	*rc = store_open(url, &st, &err);
	if (*rc) {
		*msg = err;
		free(body);
		return 0;
	}
	for (;;) {
		json_t *t = json_pack("{s:s, s:s}", "subject", "filler", "content", body);

		*rc = store_ticket_intake(st, t, "triage", NULL, NULL, NULL);
		json_decref(t);
		if (*rc)
			break;
		n++;
	}
	*msg = fl_strdup(store_errmsg(st));
	store_close(st);
	free(body);
	return n;
}

/* After a failed write: every ticket that exists has its message and job; count matches. */
static void assert_consistent(const char *url, int created)
{
	struct store_ticket_filter flt = { .limit = 500 };
	struct store *st = NULL;
	json_t *page = NULL, *counts = NULL, *t;
	char *err = NULL;
	size_t i;

	assert_int_equal(store_open_nomigrate(url, &st, &err), STORE_OK);
	assert_int_equal(store_ticket_list(st, &flt, &page), STORE_OK);
	assert_int_equal(json_array_size(json_object_get(page, "tickets")), created);
	json_array_foreach(json_object_get(page, "tickets"), i, t) {
		json_t *msgs = NULL;

		assert_int_equal(store_message_list(st, fl_json_str(t, "id", ""), &msgs), STORE_OK);
		assert_int_equal(json_array_size(msgs), 1);
		json_decref(msgs);
	}
	assert_int_equal(store_job_counts(st, &counts), STORE_OK);
	assert_int_equal(fl_json_int(counts, "queued", -1), created);
	json_decref(counts);
	json_decref(page);
	store_close(st);
}

static void test_full_disk_fails_cleanly_under_a_file_size_limit(void **state)
{
	struct fx *f = *state;
	char *url = fl_asprintf("sqlite://%s/fl.db", f->dir);
	int pipefd[2], status, created = -1;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit lim = { 1 << 20, 1 << 20 };
		char *msg = NULL;
		int rc, n;

		signal(SIGXFSZ, SIG_IGN);
		close(pipefd[0]);
		if (setrlimit(RLIMIT_FSIZE, &lim))
			_exit(100);
		n = fill_until_full(url, &rc, &msg);
		if (write(pipefd[1], &n, sizeof(n)) != sizeof(n))
			_exit(101);
		if (rc != STORE_EFULL || !msg || !strstr(msg, url)) {
			fprintf(stderr, "full disk: %s: %s\n", store_errname(rc), msg ? msg : "(no message)");
			_exit(1);
		}
		free(msg);
		_exit(0);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &created, sizeof(created)), (ssize_t)sizeof(created));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(created > 0);
	assert_consistent(url, created);
	free(url);
}

static void test_full_disk_fails_cleanly(void **state)
{
	struct fx *f = *state;
	char *tiny = fl_asprintf("%s/tiny", f->dir), *small = fl_asprintf("%s/small", f->dir);
	char *url_tiny = fl_asprintf("sqlite://%s/fl.db", tiny), *url_small = fl_asprintf("sqlite://%s/fl.db", small);
	char *file_tiny = fl_asprintf("%s/fl.db", tiny), *msg = NULL, *err = NULL;
	struct store *st = NULL;
	int rc, created;

	assert_int_equal(mkdir(tiny, 0755), 0);
	assert_int_equal(mkdir(small, 0755), 0);
	if (mount("tmpfs", tiny, "tmpfs", 0, "size=48k") || mount("tmpfs", small, "tmpfs", 0, "size=1m")) {
		/* No tmpfs without privileges: a file size limit stands in for the full disk. */
		umount(tiny);
		print_message("cannot mount a tmpfs (%s): using RLIMIT_FSIZE instead\n", strerror(errno));
		test_full_disk_fails_cleanly_under_a_file_size_limit(state);
		goto out;
	}
	/* Too small for the schema: the new database is refused and removed. */
	rc = store_open(url_tiny, &st, &err);
	assert_int_equal(rc, STORE_EFULL);
	assert_non_null(strstr(err, url_tiny));
	assert_false(exists(file_tiny));
	/* Room for the schema and some tickets: intake stops cleanly when it runs out. */
	created = fill_until_full(url_small, &rc, &msg);
	assert_int_equal(rc, STORE_EFULL);
	assert_non_null(strstr(msg, url_small));
	assert_true(created > 0);
	assert_consistent(url_small, created);
	umount(tiny);
	umount(small);
out:
	free(err);
	free(msg);
	free(tiny);
	free(small);
	free(url_tiny);
	free(url_small);
	free(file_tiny);
}

static int free_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_unreachable_postgres_is_a_clear_error(void **state)
{
	int port = free_port();
	char *url = fl_asprintf("postgres://fl:s3cretpw@127.0.0.1:%d/fl?connect_timeout=2", port);
	char *masked = fl_asprintf("postgres://fl:***@127.0.0.1:%d/fl", port);
	char *conninfo = fl_asprintf("host=127.0.0.1 port=%d user=fl password=s3cretpw dbname=fl "
				     "connect_timeout=2", port);
	struct store *st = NULL;
	char *err = NULL;

	(void)state;
	assert_int_equal(store_open(url, &st, &err), STORE_ECONNECT);
	assert_null(st);
	assert_non_null(strstr(err, masked));
	assert_null(strstr(err, "s3cretpw"));
	free(err);
	assert_int_equal(store_open(conninfo, &st, &err), STORE_ECONNECT);
	assert_non_null(strstr(err, "127.0.0.1"));
	assert_null(strstr(err, "s3cretpw"));
	free(err);
	free(url);
	free(masked);
	free(conninfo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_non_sqlite_file_is_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sqlite_database_is_refused_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_pages_are_reported_as_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_directory_is_a_clear_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_sqlite_store_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_existing_creates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_fails_cleanly_under_a_file_size_limit, setup, teardown),
		cmocka_unit_test(test_unreachable_postgres_is_a_clear_error),
	};

	fl_log_setup(FL_LOG_ERROR, NULL, NULL);
	return cmocka_run_group_tests_name("store_bad_input", tests, NULL, NULL);
}
