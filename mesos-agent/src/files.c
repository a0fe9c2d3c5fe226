/*
 * files: the /files endpoints over executor sandboxes, as Mesos serves
 * them (reference 1.8): browse (FileInfo list), read (a window of bytes as
 * {"data","offset"}, at most 16 pages; offset -1 asks for the size),
 * download (raw bytes via sendfile), debug (what is attached where).
 *
 * A sandbox is reachable at its real path, at .../runs/latest under the
 * work_dir, and at the virtual /frameworks/<fw>/executors/<ex>/runs/
 * <container|latest>. Nothing outside a sandbox is served: ".." is
 * refused and symlinks may not lead out of the sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcos/http_server.h"
#include "dcos/json.h"

#include "agent.h"

/* Collapses "//" and "/./", strips a trailing "/", refuses "..". */
int
files_normalize(const char *path, char *out, size_t size)
{
	size_t o = 0;
	const char *p = path;

	if (path[0] != '/' || size < 2)
		return -1;
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n == 1 && p[0] == '.') {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (o + n + 2 > size)
			return -1;
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

static struct executor *
find_run(struct agent *a, const char *fw_id, const char *ex_id,
    const char *run)
{
	struct framework_list *lists[] = { &a->frameworks,
		&a->completed_frameworks };
	struct executor *found = NULL;

	for (int l = 0; l < 2; l++) {
		struct framework *fw;

		TAILQ_FOREACH(fw, lists[l], link) {
			struct executor_list *exl[] = { &fw->executors,
				&fw->completed };

			if (strcmp(fw->id, fw_id) != 0)
				continue;
			for (int e = 0; e < 2; e++) {
				struct executor *ex;

				TAILQ_FOREACH(ex, exl[e], link) {
					if (strcmp(ex->id, ex_id) != 0)
						continue;
					if (strcmp(run, "latest") == 0) {
						if (found == NULL || e == 0 ||
						    ex->start_time > found->start_time)
							found = ex;
					} else if (strcmp(run, ex->container_id) == 0) {
						return ex;
					}
				}
			}
		}
	}
	return found;
}

/* "<fw>/executors/<ex>/runs/<run>[/rest]" after "frameworks/" */
static struct executor *
parse_run(struct agent *a, const char *p, const char **rest)
{
	char fw[256], ex[256], run[64];
	int n = 0;

	if (sscanf(p, "%255[^/]/executors/%255[^/]/runs/%63[^/]%n", fw, ex, run,
	    &n) != 3)
		return NULL;
	*rest = p + n;
	return find_run(a, fw, ex, run);
}

/* The real file for a request path, checked to stay in its sandbox. */
static int
resolve(struct agent *a, const char *path, char *real, size_t size)
{
	char norm[PATH_MAX], slaves[PATH_MAX], rp[PATH_MAX], root[PATH_MAX];
	const char *rest = NULL;
	struct executor *ex = NULL;
	size_t sl;

	if (files_normalize(path, norm, sizeof(norm)) == -1)
		return -1;
	snprintf(slaves, sizeof(slaves), "%s/slaves/", a->f.work_dir);
	sl = strlen(slaves);
	if (strncmp(norm, "/frameworks/", 12) == 0) {
		ex = parse_run(a, norm + 12, &rest);
	} else if (strncmp(norm, slaves, sl) == 0) {
		const char *p = strchr(norm + sl, '/');

		if (p && strncmp(p, "/frameworks/", 12) == 0)
			ex = parse_run(a, p + 12, &rest);
	}
	if (ex == NULL || ex->directory == NULL || (rest[0] && rest[0] != '/'))
		return -1;
	if (realpath(ex->directory, root) == NULL)
		return -1;
	if (snprintf(rp, sizeof(rp), "%s%s", root, rest) >= (int)sizeof(rp) ||
	    realpath(rp, real) == NULL)
		return -1;
	if (strncmp(real, root, strlen(root)) != 0 ||
	    (real[strlen(root)] != '\0' && real[strlen(root)] != '/'))
		return -1;
	(void)size;
	return 0;
}

static void
mode_string(mode_t m, char *out)
{
	const char *rwx = "rwxrwxrwx";

	out[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' :
	    S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
	for (int i = 0; i < 9; i++)
		out[i + 1] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

static json_t *
file_info(const char *vpath, const struct stat *st)
{
	char mode[11], uid[32], gid[32];
	struct passwd *pw = getpwuid(st->st_uid);
	struct group *gr = getgrgid(st->st_gid);

	mode_string(st->st_mode, mode);
	snprintf(uid, sizeof(uid), "%s", pw ? pw->pw_name : "");
	if (!pw)
		snprintf(uid, sizeof(uid), "%u", (unsigned)st->st_uid);
	snprintf(gid, sizeof(gid), "%s", gr ? gr->gr_name : "");
	if (!gr)
		snprintf(gid, sizeof(gid), "%u", (unsigned)st->st_gid);
	return json_pack("{s:s, s:I, s:I, s:f, s:s, s:s, s:s}", "path", vpath,
	    "nlink", (json_int_t)st->st_nlink, "size", (json_int_t)st->st_size,
	    "mtime", (double)st->st_mtime, "mode", mode, "uid", uid, "gid", gid);
}

static int
cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static const char *
need_path(struct http_req *req)
{
	const char *path = http_req_query(req, "path");

	if (path == NULL || path[0] == '\0') {
		http_reply_error(req, 400, "Expecting 'path=value' in query.");
		return NULL;
	}
	return path;
}

static void
reply(struct http_req *req, json_t *body)
{
	const char *cb = http_req_query(req, "jsonp");

	if (cb && cb[0]) {
		char *text = json_compact(body), *out;
		int n = asprintf(&out, "%s(%s);", cb, text);

		json_decref(body);
		if (n < 0)
			abort();
		http_reply(req, 200, "text/javascript", out, (size_t)n);
		free(text);
		free(out);
		return;
	}
	http_reply_json(req, 200, body);
}

static void
h_browse(struct http_req *req, void *arg)
{
	const char *path = need_path(req);
	char real[PATH_MAX], vbase[PATH_MAX];
	struct stat st;
	json_t *out;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (path == NULL)
		return;
	if (resolve(arg, path, real, sizeof(real)) == -1 ||
	    stat(real, &st) == -1) {
		http_reply_error(req, 404, "Path '%s' not found", path);
		return;
	}
	out = json_array();
	files_normalize(path, vbase, sizeof(vbase));
	if (!S_ISDIR(st.st_mode)) {
		json_array_append_new(out, file_info(vbase, &st));
		reply(req, out);
		return;
	}
	if ((d = opendir(real)) == NULL) {
		json_decref(out);
		http_reply_error(req, 500, "Cannot browse '%s': %s", path,
		    strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((names = realloc(names, cap * sizeof(char *))) == NULL)
				abort();
		}
		if ((names[n++] = strdup(de->d_name)) == NULL)
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char f[PATH_MAX * 2], v[PATH_MAX * 2];

		snprintf(f, sizeof(f), "%s/%s", real, names[i]);
		snprintf(v, sizeof(v), "%s%s%s", vbase, strcmp(vbase, "/") ? "/" :
		    "", names[i]);
		if (lstat(f, &st) == 0)
			json_array_append_new(out, file_info(v, &st));
		free(names[i]);
	}
	free(names);
	reply(req, out);
}

static size_t
utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0 && c >= 0xc2)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Valid UTF-8 passes; any other byte becomes U+00XX. An incomplete
 * sequence at the very end is left out when more data follows. Returns a
 * new string; *used is how many input bytes it covers. */
static json_t *
data_string(const unsigned char *buf, size_t n, bool more, size_t *used)
{
	char *out = malloc(n * 2 + 1);
	size_t o = 0, i = 0;
	json_t *s;

	if (out == NULL)
		abort();
	while (i < n) {
		size_t l = utf8_seq_len(buf[i]), k;

		if (l > 1 && i + l > n && more)
			break; /* the rest of it comes with the next read */
		for (k = 1; l > 1 && k < l && i + k < n; k++)
			if ((buf[i + k] & 0xc0) != 0x80)
				break;
		if (l >= 1 && k >= l && i + l <= n) {
			memcpy(out + o, buf + i, l);
			o += l;
			i += l;
		} else {
			out[o++] = (char)(0xc0 | (buf[i] >> 6));
			out[o++] = (char)(0x80 | (buf[i] & 0x3f));
			i++;
		}
	}
	*used = i;
	s = json_stringn_nocheck(out, o);
	free(out);
	return s;
}

static int
parse_ll(const char *text, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	return errno || end == text || *end ? -1 : 0;
}

static void
h_read(struct http_req *req, void *arg)
{
	const char *path = need_path(req);
	const char *qoff = http_req_query(req, "offset");
	const char *qlen = http_req_query(req, "length");
	long long offset = -1, length = -1, max = 16 * sysconf(_SC_PAGESIZE);
	char real[PATH_MAX];
	struct stat st;
	unsigned char *buf;
	ssize_t got;
	size_t used;
	int fd;

	if (path == NULL)
		return;
	if (qoff && parse_ll(qoff, &offset) == -1) {
		http_reply_error(req, 400, "Failed to parse offset: '%s' is not a "
		    "number", qoff);
		return;
	}
	if (qlen && parse_ll(qlen, &length) == -1) {
		http_reply_error(req, 400, "Failed to parse length: '%s' is not a "
		    "number", qlen);
		return;
	}
	if (offset < -1) {
		http_reply_error(req, 400, "Negative offset provided: %lld", offset);
		return;
	}
	if (length < -1) {
		http_reply_error(req, 400, "Negative length provided: %lld", length);
		return;
	}
	if (resolve(arg, path, real, sizeof(real)) == -1 ||
	    stat(real, &st) == -1) {
		http_reply_error(req, 404, "Path '%s' not found", path);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		http_reply_error(req, 400, "Cannot read a directory");
		return;
	}
	if (offset == -1) {
		reply(req, json_pack("{s:s, s:I}", "data", "", "offset",
		    (json_int_t)st.st_size));
		return;
	}
	if (length == -1 || length > max)
		length = max;
	if (offset >= st.st_size || length == 0) {
		reply(req, json_pack("{s:s, s:I}", "data", "", "offset",
		    (json_int_t)offset));
		return;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) == -1) {
		http_reply_error(req, 500, "Cannot open '%s': %s", path,
		    strerror(errno));
		return;
	}
	if ((buf = malloc((size_t)length)) == NULL)
		abort();
	got = pread(fd, buf, (size_t)length, (off_t)offset);
	close(fd);
	if (got < 0) {
		free(buf);
		http_reply_error(req, 500, "Cannot read '%s': %s", path,
		    strerror(errno));
		return;
	}
	reply(req, json_pack("{s:o, s:I}", "data", data_string(buf, (size_t)got,
	    offset + got < st.st_size, &used), "offset", (json_int_t)offset));
	free(buf);
}

static const char *
content_type(const char *name)
{
	static const char *const map[][2] = {
		{ ".txt", "text/plain" }, { ".log", "text/plain" },
		{ ".json", "application/json" }, { ".html", "text/html" },
		{ ".htm", "text/html" }, { ".css", "text/css" },
		{ ".js", "application/javascript" }, { ".xml", "application/xml" },
		{ ".gz", "application/gzip" }, { ".tgz", "application/gzip" },
		{ ".tar", "application/x-tar" }, { ".zip", "application/zip" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" }, { ".pdf", "application/pdf" },
		{ ".sh", "application/x-sh" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(dot, map[i][0]) == 0)
			return map[i][1];
	return "application/octet-stream";
}

static void
h_download(struct http_req *req, void *arg)
{
	const char *path = need_path(req);
	char real[PATH_MAX], disp[PATH_MAX + 64];
	const char *base;
	struct stat st;
	int fd;

	if (path == NULL)
		return;
	if (resolve(arg, path, real, sizeof(real)) == -1 ||
	    stat(real, &st) == -1) {
		http_reply_error(req, 404, "Path '%s' not found", path);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		http_reply_error(req, 400, "Cannot download a directory");
		return;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) == -1) {
		http_reply_error(req, 500, "Cannot open '%s': %s", path,
		    strerror(errno));
		return;
	}
	base = strrchr(real, '/') + 1;
	snprintf(disp, sizeof(disp), "attachment; filename=%s", base);
	http_req_add_header(req, "Content-Disposition", disp);
	http_reply_file(req, 200, content_type(base), fd, 0,
	    (long long)st.st_size);
}

static void
h_debug(struct http_req *req, void *arg)
{
	struct agent *a = arg;
	json_t *out = json_object();
	struct framework_list *lists[] = { &a->frameworks,
		&a->completed_frameworks };

	for (int l = 0; l < 2; l++) {
		struct framework *fw;

		TAILQ_FOREACH(fw, lists[l], link) {
			struct executor_list *exl[] = { &fw->executors,
				&fw->completed };

			for (int e = 0; e < 2; e++) {
				struct executor *ex;

				TAILQ_FOREACH(ex, exl[e], link) {
					char v[PATH_MAX];

					if (ex->directory == NULL)
						continue;
					json_object_set_new(out, ex->directory,
					    json_string(ex->directory));
					snprintf(v, sizeof(v), "/frameworks/%s/executors/"
					    "%s/runs/%s", fw->id, ex->id, ex->container_id);
					json_object_set_new(out, v,
					    json_string(ex->directory));
					if (e == 0) {
						snprintf(v, sizeof(v), "/frameworks/%s/"
						    "executors/%s/runs/latest", fw->id, ex->id);
						json_object_set_new(out, v,
						    json_string(ex->directory));
					}
				}
			}
		}
	}
	reply(req, out);
}

void
files_routes(struct agent *a)
{
	static const struct {
		const char *name;
		http_handler_fn fn;
	} r[] = {
		{ "browse", h_browse }, { "read", h_read },
		{ "download", h_download }, { "debug", h_debug },
	};

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		char p[64];

		snprintf(p, sizeof(p), "/files/%s", r[i].name);
		http_server_route(a->http, "GET", p, r[i].fn, a);
		snprintf(p, sizeof(p), "/files/%s.json", r[i].name);
		http_server_route(a->http, "GET", p, r[i].fn, a);
	}
}
