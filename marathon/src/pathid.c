/*
 * pathid: Marathon path ids ("/shop/db"): canonical form, validation with
 * Marathon's messages, and the names derived from them (task ids, Mesos
 * task names).
 *
 * A segment is "." or ".." or dot-separated labels [a-z0-9]([a-z0-9-]*
 * [a-z0-9])?; relative ids are resolved against a base group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/ids.h"

#include "marathon.h"

#define SEGMENT_RE "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*" \
	"([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$"

static bool
label_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && !(c == '-' && i > 0 && i < n - 1))
			return false;
	}
	return true;
}

static bool
segment_ok(const char *s, size_t n)
{
	size_t start = 0;

	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return true;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!label_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

int
pathid_canonical(const char *in, const char *base, bool allow_root,
    char *out, size_t size, char *err, size_t errlen)
{
	char buf[PATHID_MAX * 2];
	size_t seg_start[PATHID_MAX / 2], nseg = 0, len = 0;
	const char *p;

	if (in == NULL || strlen(in) + strlen(base) + 2 >= sizeof(buf)) {
		snprintf(err, errlen, "path id is too long");
		return -1;
	}
	if (in[0] == '/') {
		memcpy(buf, in, strlen(in) + 1);
	} else {
		size_t bl = strcmp(base, "/") ? strlen(base) : 0;

		memcpy(buf, base, bl);
		buf[bl] = '/';
		memcpy(buf + bl + 1, in, strlen(in) + 1);
	}
	/* walk the segments, building the result in out */
	out[0] = '\0';
	for (p = buf; *p;) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (!segment_ok(p, n)) {
			snprintf(err, errlen, "must fully match regular expression '%s'",
			    SEGMENT_RE);
			return -1;
		}
		if (n == 1 && p[0] == '.') {
			/* stay */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				len = seg_start[--nseg];
			out[len] = '\0';
		} else {
			if (len + n + 2 > size || nseg == sizeof(seg_start) /
			    sizeof(seg_start[0])) {
				snprintf(err, errlen, "path id is too long");
				return -1;
			}
			seg_start[nseg++] = len;
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
			out[len] = '\0';
		}
		p += n;
	}
	if (len == 0) {
		if (!allow_root) {
			snprintf(err, errlen, "Path must contain at least one path "
			    "element");
			return -1;
		}
		snprintf(out, size, "/");
		return 0;
	}
	{
		const char *last = strrchr(out, '/') + 1;

		if (!allow_root && (strcmp(last, "restart") == 0 ||
		    strcmp(last, "tasks") == 0 || strcmp(last, "versions") == 0)) {
			snprintf(err, errlen, "must not end with any of the following "
			    "reserved keywords: restart, tasks, versions");
			return -1;
		}
	}
	return 0;
}

void
pathid_safe(const char *id, char *out, size_t size)
{
	size_t i = 0;

	while (*id == '/')
		id++;
	for (; *id && i + 1 < size; id++)
		out[i++] = *id == '/' ? '_' : *id;
	out[i] = '\0';
}

void
pathid_task_name(const char *id, char *out, size_t size)
{
	const char *end = id + strlen(id);
	size_t len = 0;

	out[0] = '\0';
	while (end > id) {
		const char *start = end;
		size_t n;

		while (start > id && start[-1] != '/')
			start--;
		n = (size_t)(end - start);
		if (n > 0 && len + n + 2 < size) {
			if (len)
				out[len++] = '.';
			memcpy(out + len, start, n);
			len += n;
			out[len] = '\0';
		}
		end = start > id ? start - 1 : id;
	}
}

void
pathid_parent(const char *id, char *out, size_t size)
{
	const char *slash = strrchr(id, '/');

	if (slash == NULL || slash == id)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - id), id);
}

bool
pathid_under(const char *id, const char *group)
{
	size_t n = strlen(group);

	if (strcmp(group, "/") == 0)
		return true;
	return strncmp(id, group, n) == 0 && (id[n] == '\0' || id[n] == '/');
}

int
pathid_of_task(const char *task_id, char *out, size_t size)
{
	const char *dot = strrchr(task_id, '.');
	const char *inst = strstr(task_id, ".instance-");
	size_t n, i;

	if (inst)
		dot = inst; /* pod tasks: <safe>.instance-<uuid>.<container> */
	else if (dot == NULL || !ids_is_uuid(dot + 1))
		return -1;
	n = (size_t)(dot - task_id);
	if (n == 0 || n + 2 > size)
		return -1;
	out[0] = '/';
	for (i = 0; i < n; i++)
		out[i + 1] = task_id[i] == '_' ? '/' : task_id[i];
	out[n + 1] = '\0';
	return 0;
}

void
pathid_new_task_id(const char *app_id, char *out, size_t size)
{
	char safe[PATHID_MAX], uuid[UUID_STR_LEN];

	pathid_safe(app_id, safe, sizeof(safe));
	ids_uuid1(uuid);
	snprintf(out, size, "%s.%s", safe, uuid);
}
