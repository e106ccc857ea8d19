/*
 * imap_harness (see imap_harness.h). Dovecot is started, awaited on its
 * port and stopped by daemon_harness; its state is known by the Maildir's
 * file names (flags after ":2,").
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_harness.h"
#include "imap_harness.h"
#include "test_helpers.h"
#include "util/util.h"

#define DOVECOT "/usr/sbin/dovecot"

static int write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len)
		rc = -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

/* The Maildir of folder (NULL: INBOX). Caller frees. */
static char *folder_dir(struct imap_harness *h, const char *folder)
{
	return folder ? fl_asprintf("%s/mail/ann/.%s", h->dir, folder) : fl_asprintf("%s/mail/ann", h->dir);
}

/* nftw cannot pass an argument: the owner to give the mail tree, set just before the walk */
static uid_t chown_uid;
static gid_t chown_gid;

static int chown_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return chown(path, chown_uid, chown_gid);
}

int imap_harness_start(struct imap_harness *h, char **url)
{
	/* the directories of the configuration below, made in this order */
	static const char *const dirs[] = { "run", "state", "mail", "home", "mail/ann", "mail/ann/new",
					    "mail/ann/cur", "mail/ann/tmp" };
	char *conf = NULL, *log = NULL, *path;
	const char *internal, *internal_group, *login;
	uid_t mail_uid = getuid();
	gid_t mail_gid = getgid();
	struct passwd *pw;
	struct group *gr;
	size_t i;
	int rc;

	*url = NULL;
	if (access(DOVECOT, X_OK)) {
		h->error = fl_strdup("dovecot is not installed (scripts/install-deps installs dovecot-imapd)");
		return -1;
	}
	if (!(h->dir = daemon_tmpdir("fl-imap", &h->error)))
		return -1;
	if (geteuid() == 0) {
		/* Dovecot's own unprivileged users; mail access as "dovecot" */
		if (!(pw = getpwnam("dovecot")) || !getpwnam("dovenull")) {
			h->error = fl_strdup("running as root, but the users dovecot and dovenull do not exist");
			return -1;
		}
		mail_uid = pw->pw_uid;
		mail_gid = pw->pw_gid;
		internal = "dovecot";
		gr = getgrgid(pw->pw_gid);
		internal_group = gr ? gr->gr_name : "dovecot";
		login = "dovenull";
		chmod(h->dir, 0755);
	} else {
		pw = getpwuid(getuid());
		gr = getgrgid(getgid());
		if (!pw || !gr) {
			h->error = fl_strdup("cannot name the current user and group");
			return -1;
		}
		internal = login = pw->pw_name;
		internal_group = gr->gr_name;
	}
	for (i = 0; i < FL_ARRAY_SIZE(dirs); i++) {
		path = fl_asprintf("%s/%s", h->dir, dirs[i]);
		mkdir(path, 0755);
		free(path);
	}
	path = fl_asprintf("%s/passwd", h->dir);
	if (write_file(path, "ann:{PLAIN}secret\n", strlen("ann:{PLAIN}secret\n"))) {
		h->error = fl_asprintf("cannot write '%s'", path);
		free(path);
		return -1;
	}
	chmod(path, 0644);
	free(path);
	if (geteuid() == 0) {
		char *m = fl_asprintf("%s/mail", h->dir), *home = fl_asprintf("%s/home", h->dir);

		chown_uid = mail_uid;
		chown_gid = mail_gid;
		nftw(m, chown_entry, 16, FTW_PHYS);
		nftw(home, chown_entry, 16, FTW_PHYS);
		free(m);
		free(home);
	}
	h->port = test_free_port();
	conf = fl_asprintf("%s/dovecot.conf", h->dir);
	log = fl_asprintf("%s/dovecot.log", h->dir);
	{
		char *text = fl_asprintf(
			"base_dir = %1$s/run\n"
			"state_dir = %1$s/state\n"
			"log_path = %2$s\n"
			"protocols = imap\n"
			"listen = 127.0.0.1\n"
			"ssl = no\n"
			"disable_plaintext_auth = no\n"
			"auth_mechanisms = plain login\n"
			"first_valid_uid = 1\n"
			"default_internal_user = %3$s\n"
			"default_internal_group = %4$s\n"
			"default_login_user = %5$s\n"
			"passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%%u %1$s/passwd\n}\n"
			"userdb {\n  driver = static\n  args = uid=%6$u gid=%7$u home=%1$s/home/%%u\n}\n"
			"mail_location = maildir:%1$s/mail/%%u\n"
			"service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n"
			"    port = %8$d\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
			"service anvil {\n  chroot =\n}\n",
			h->dir, log, internal, internal_group, login, (unsigned)mail_uid, (unsigned)mail_gid, h->port);

		if (write_file(conf, text, strlen(text))) {
			h->error = fl_asprintf("cannot write '%s'", conf);
			free(text);
			free(conf);
			free(log);
			return -1;
		}
		free(text);
	}
	{
		char *argv[] = { DOVECOT, "-F", "-c", conf, NULL };
		struct daemon_spec spec = { .name = "dovecot", .argv = argv, .log = log, .death_sig = SIGKILL,
					    .port = h->port, .timeout_us = 15 * 1000000LL, .interval_us = 20000 };

		rc = daemon_start(&spec, &h->pid, &h->error);
	}
	free(conf);
	free(log);
	if (rc)
		return -1;
	*url = fl_asprintf("imap://ann:secret@127.0.0.1:%d/INBOX", h->port);
	return 0;
}

int imap_harness_deliver(struct imap_harness *h, const char *folder, const char *raw, size_t len, bool seen)
{
	char *dir = folder_dir(h, folder), *tmp, *dst;
	int rc = -1;

	if (folder) { /* a Maildir++ folder: its own new/cur/tmp */
		static const char *const sub[] = { "", "/new", "/cur", "/tmp" };
		size_t i;

		for (i = 0; i < 4; i++) {
			char *p = fl_asprintf("%s%s", dir, sub[i]);

			mkdir(p, 0777);
			free(p);
		}
	}
	h->seq++;
	tmp = fl_asprintf("%s/tmp/%lld.M%uP%d.harness", dir, (long long)(fl_wall_us() / 1000000), h->seq,
			  (int)getpid());
	dst = seen ? fl_asprintf("%s/cur/%lld.M%uP%d.harness:2,S", dir, (long long)(fl_wall_us() / 1000000),
				 h->seq, (int)getpid())
		   : fl_asprintf("%s/new/%lld.M%uP%d.harness", dir, (long long)(fl_wall_us() / 1000000), h->seq,
				 (int)getpid());
	/* as an MTA delivers: written in tmp/, then renamed into place */
	if (!write_file(tmp, raw, len) && !rename(tmp, dst))
		rc = 0;
	else
		h->error = fl_asprintf("cannot deliver into '%s': %s", dir, strerror(errno));
	free(tmp);
	free(dst);
	free(dir);
	return rc;
}

size_t imap_harness_count(struct imap_harness *h, const char *folder, size_t *seen)
{
	static const char *const sub[] = { "new", "cur" };
	char *dir = folder_dir(h, folder);
	size_t n = 0, s = 0, i;

	for (i = 0; i < 2; i++) {
		char *p = fl_asprintf("%s/%s", dir, sub[i]);
		DIR *d = opendir(p);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			const char *flags;

			if (e->d_name[0] == '.')
				continue;
			n++;
			flags = strstr(e->d_name, ":2,");
			if (flags && strchr(flags + 3, 'S'))
				s++;
		}
		if (d)
			closedir(d);
		free(p);
	}
	free(dir);
	if (seen)
		*seen = s;
	return n;
}

void imap_harness_stop(struct imap_harness *h)
{
	daemon_stop(&h->pid, &h->dir, &h->error, -1);
}

const char *imap_harness_error(const struct imap_harness *h)
{
	return h->error ? h->error : "";
}
