/*
 * paths: the Mesos agent's directory layout, so sandboxes land where DC/OS
 * tools look for them (`<work_dir>/slaves/<agent>/frameworks/<fw>/
 * executors/<ex>/runs/<container>`); the checkpoint lives under
 * `<work_dir>/meta/` (see src/checkpoint.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mesos_common.h"

/* Mesos' rules for ids that become path components. */
int
mesos_id_valid(const char *id, char *err, size_t errlen)
{
	if (id == NULL || id[0] == '\0') {
		snprintf(err, errlen, "id must not be empty");
		return -1;
	}
	if (strlen(id) > 255) {
		snprintf(err, errlen, "id is longer than 255 characters");
		return -1;
	}
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0) {
		snprintf(err, errlen, "'%s' disallowed as an id", id);
		return -1;
	}
	for (const char *p = id; *p; p++) {
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 ||
		    *p == 0x7f || *p == ' ') {
			snprintf(err, errlen, "id '%s' contains a slash, space or "
			    "control character", id);
			return -1;
		}
	}
	return 0;
}

static int
fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
paths_join(char *buf, size_t size, const char *dir, const char *name)
{
	return fmt(buf, size, "%s/%s", dir, name);
}

int
paths_sandbox_runs(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw, const char *ex)
{
	return fmt(buf, size, "%s/slaves/%s/frameworks/%s/executors/%s/runs",
	    work_dir, agent, fw, ex);
}

int
paths_sandbox(char *buf, size_t size, const char *work_dir, const char *agent,
    const char *fw, const char *ex, const char *container)
{
	return fmt(buf, size, "%s/slaves/%s/frameworks/%s/executors/%s/runs/%s",
	    work_dir, agent, fw, ex, container);
}

int
paths_meta_agent(char *buf, size_t size, const char *work_dir,
    const char *agent)
{
	return fmt(buf, size, "%s/meta/slaves/%s", work_dir, agent);
}

int
paths_meta_framework(char *buf, size_t size, const char *work_dir,
    const char *agent, const char *fw)
{
	return fmt(buf, size, "%s/meta/slaves/%s/frameworks/%s", work_dir, agent,
	    fw);
}

/* One directory per run (container ids are unique): the executor id is
 * in its run.json. Two directory levels fewer than Mesos' meta layout:
 * every new inode costs an agent on a busy ext4. */
int
paths_meta_run(char *buf, size_t size, const char *work_dir, const char *agent,
    const char *fw, const char *container)
{
	return fmt(buf, size, "%s/meta/slaves/%s/frameworks/%s/runs/%s",
	    work_dir, agent, fw, container);
}

/* "<run>/<kind>.<task id>", the id hashed when the name would be too long
 * for a file name. */
int
paths_task_file(char *buf, size_t size, const char *run, const char *kind,
    const char *task)
{
	if (strlen(kind) + 1 + strlen(task) <= 250)
		return fmt(buf, size, "%s/%s.%s", run, kind, task);
	{
		uint64_t h = 1469598103934665603ULL; /* FNV-1a */

		for (const char *p = task; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		return fmt(buf, size, "%s/%s.#%016llx", run, kind,
		    (unsigned long long)h);
	}
}
