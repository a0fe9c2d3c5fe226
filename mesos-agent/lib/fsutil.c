/*
 * fsutil: the small file operations checkpointing needs: atomic replace
 * (write a temporary, fsync, rename), JSON files, symlinks as "latest"
 * pointers, recursive removal for sandbox garbage collection, and the
 * /proc facts that tell a live executor from a reused pid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcos/ids.h"
#include "dcos/json.h"
#include "mesos_common.h"

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
write_via_tmp(const char *path, const void *data, size_t len, bool sync,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, data, len) == -1 || (sync && fdatasync(fd) == -1)) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	return write_via_tmp(path, data, len, true, err, errlen);
}

int
fs_write_file(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	return write_via_tmp(path, data, len, false, err, errlen);
}

int
fs_write_json(const char *path, const json_t *v, char *err, size_t errlen)
{
	char *text = json_compact(v);
	int rc;

	if (text == NULL)
		abort();
	rc = fs_write_atomic(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

int
fs_write_json_nosync(const char *path, const json_t *v, char *err,
    size_t errlen)
{
	char *text = json_compact(v);
	int rc;

	if (text == NULL)
		abort();
	rc = fs_write_file(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

char *
fs_read_text(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd == -1)
		return NULL;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

json_t *
fs_read_json(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, JSON_DECODE_ANY, &jerr);

	if (v == NULL)
		snprintf(err, errlen, "%s: %s", path, jerr.text);
	return v;
}

int
fs_symlink_replace(const char *target, const char *linkpath)
{
	char tmp[PATH_MAX];
	char rnd[9];

	ids_random_alnum(rnd, 8);
	if (snprintf(tmp, sizeof(tmp), "%s.%s", linkpath, rnd) >= (int)sizeof(tmp))
		return -1;
	if (symlink(target, tmp) == -1)
		return -1;
	if (rename(tmp, linkpath) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
fs_readlink(const char *linkpath, char *buf, size_t size)
{
	char tmp[PATH_MAX];
	ssize_t n = readlink(linkpath, tmp, sizeof(tmp) - 1);
	const char *base;

	if (n < 0)
		return -1;
	tmp[n] = '\0';
	base = strrchr(tmp, '/');
	base = base ? base + 1 : tmp;
	if (strlen(base) >= size)
		return -1;
	strcpy(buf, base);
	return 0;
}

static int rm_failed;

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	int rc = type == FTW_DP ? rmdir(path) : unlink(path);

	if (rc == -1 && errno != ENOENT)
		rm_failed = 1;
	return 0;
}

int
fs_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	rm_failed = 0;
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) == -1)
		return -1;
	return rm_failed ? -1 : 0;
}

static uint64_t du_total;

static int
du_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (type == FTW_F || type == FTW_D || type == FTW_SL)
		du_total += (uint64_t)st->st_blocks * 512;
	return 0;
}

uint64_t
fs_du(const char *path)
{
	du_total = 0;
	nftw(path, du_one, 32, FTW_PHYS);
	return du_total;
}

unsigned long long
fs_proc_start_time(pid_t pid)
{
	char path[64];
	char *text, *p;
	unsigned long long start = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((text = fs_read_text(path, NULL)) == NULL)
		return 0;
	/* the command name may contain spaces and parentheses: skip to the
	 * last ')' then count fields from field 3 (state) */
	if ((p = strrchr(text, ')')) != NULL) {
		int field = 2;

		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		if (field == 22)
			start = strtoull(p, NULL, 10);
		/* a zombie has exited: it is as good as gone */
		if (strstr(text, ") Z ") != NULL)
			start = 0;
	}
	free(text);
	return start;
}

int
fs_boot_id(char *buf, size_t size)
{
	char *text = fs_read_text("/proc/sys/kernel/random/boot_id", NULL);
	size_t n;

	if (text == NULL)
		return -1;
	n = strcspn(text, "\n");
	text[n] = '\0';
	snprintf(buf, size, "%s", text);
	free(text);
	return 0;
}
