/*
 * daemon_mkdirs: mkdir -p, declared in dcos/daemon.h. Its own file so a
 * program that only creates directories (mesos-executor, started for every
 * task) links without daemon.c and with it libsystemd: six libraries fewer
 * for the dynamic linker at each exec.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dcos/daemon.h"

int
daemon_mkdirs(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		snprintf(err, errlen, "bad directory path '%s'", path);
		return -1;
	}
	/* usually only the last component is new (sandboxes): try it first */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, mode) == -1 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", buf,
				    strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}
