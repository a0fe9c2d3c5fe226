/*
 * fetch: the Mesos fetcher, inside the executor (off the agent's loop).
 * Each CommandInfo.URI is downloaded into the task's sandbox: http(s) and
 * ftp through libcurl in the executor's loop, file:// and absolute paths
 * by copying. Then, as Mesos does: `executable` makes it 0755 and is never
 * extracted; otherwise archives (.tar, .tar.gz/.tgz, .tar.bz2/.tbz2,
 * .tar.xz/.txz, .zip, and a lone .gz) are extracted into the sandbox with
 * libarchive, refusing absolute paths, ".." and writes through symlinks.
 * `output_file` renames the download. Files go to the task's user when
 * tasks switch users. `cache` is accepted and ignored (always fetched).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/http_client.h"
#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

struct fetch {
	struct executor *e;
	struct etask *t;
	json_t *uris;
	size_t next;
	char user[64];
	fetch_done_fn done;
	struct http_call *call;
	int fd;
	long status;
	char path[PATH_MAX];
	struct event *step;
	char error[1024];
};

int
fetch_basename(const char *uri, const char *output_file, char *out,
    size_t size)
{
	const char *p = uri, *end, *slash;
	size_t n;

	if (output_file && output_file[0]) {
		if (strchr(output_file, '/') || strcmp(output_file, "..") == 0 ||
		    strcmp(output_file, ".") == 0)
			return -1;
		return snprintf(out, size, "%s", output_file) < (int)size ? 0 : -1;
	}
	if ((end = strstr(p, "://")) != NULL)
		p = end + 3;
	end = p + strcspn(p, "?#");
	while (end > p && end[-1] == '/')
		end--;
	slash = end;
	while (slash > p && slash[-1] != '/')
		slash--;
	n = (size_t)(end - slash);
	if (n == 0 || n >= size || (n <= 2 && slash[0] == '.' &&
	    (n == 1 || slash[1] == '.')))
		return -1;
	memcpy(out, slash, n);
	out[n] = '\0';
	return 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

bool
fetch_is_archive(const char *name)
{
	static const char *const ext[] = { ".tar", ".tar.gz", ".tgz", ".tar.bz2",
		".tbz2", ".tar.xz", ".txz", ".zip", ".gz" };

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (ends_with(name, ext[i]))
			return true;
	return false;
}

int
fetch_extract(const char *archive, const char *dir, char *err, size_t errlen)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *ent;
	bool raw = ends_with(archive, ".gz") && !ends_with(archive, ".tar.gz");
	int rc = 0, r;

	archive_read_support_filter_all(in);
	if (raw) {
		archive_read_support_format_raw(in);
	} else {
		archive_read_support_format_all(in);
	}
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	/* entries are checked here and written under dir as absolute paths */
	archive_write_disk_set_standard_lookup(out);
	if (archive_read_open_filename(in, archive, 64 * 1024) != ARCHIVE_OK) {
		snprintf(err, errlen, "cannot open archive %s: %s", archive,
		    archive_error_string(in));
		rc = -1;
		goto out;
	}
	while ((r = archive_read_next_header(in, &ent)) == ARCHIVE_OK) {
		char name[PATH_MAX];
		char dest[PATH_MAX * 2];
		const void *buf;
		size_t size;
		int64_t off;

		snprintf(name, sizeof(name), "%s", archive_entry_pathname(ent) ?
		    archive_entry_pathname(ent) : "");
		if (raw) {
			/* a lone .gz: the file without its suffix */
			const char *base = strrchr(archive, '/');

			snprintf(dest, sizeof(dest), "%s/%.*s", dir,
			    (int)strlen(base + 1) - 3, base + 1);
			archive_entry_set_perm(ent, 0644);
			archive_entry_set_filetype(ent, AE_IFREG);
		} else {
			if (name[0] == '\0' || name[0] == '/' || strstr(name, "..")) {
				snprintf(err, errlen, "archive %s has an unsafe path '%s'",
				    archive, name);
				rc = -1;
				goto out;
			}
			snprintf(dest, sizeof(dest), "%s/%s", dir, name);
		}
		archive_entry_set_pathname(ent, dest);
		if (archive_entry_hardlink(ent)) {
			char link[PATH_MAX * 2];

			snprintf(link, sizeof(link), "%s/%s", dir,
			    archive_entry_hardlink(ent));
			archive_entry_set_hardlink(ent, link);
		}
		if (archive_write_header(out, ent) != ARCHIVE_OK) {
			snprintf(err, errlen, "cannot extract %s from %s: %s", name,
			    archive, archive_error_string(out));
			rc = -1;
			goto out;
		}
		while ((r = archive_read_data_block(in, &buf, &size, &off)) ==
		    ARCHIVE_OK)
			if (archive_write_data_block(out, buf, size, off) !=
			    ARCHIVE_OK) {
				snprintf(err, errlen, "cannot write %s: %s", dest,
				    archive_error_string(out));
				rc = -1;
				goto out;
			}
		if (r != ARCHIVE_EOF) {
			snprintf(err, errlen, "corrupt archive %s: %s", archive,
			    archive_error_string(in));
			rc = -1;
			goto out;
		}
		archive_write_finish_entry(out);
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, errlen, "cannot read archive %s: %s", archive,
		    archive_error_string(in));
		rc = -1;
	}
out:
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

static void step(struct fetch *f);

static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	step(arg);
}

static void
next_soon(struct fetch *f)
{
	struct timeval now = { 0, 0 };

	evtimer_add(f->step, &now);
}

static void
finish(struct fetch *f, const char *error)
{
	struct etask *t = f->t;
	fetch_done_fn done = f->done;
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", error ? error : "");
	fetch_cancel(f);
	done(t, error ? msg : NULL);
}

static int
copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	char buf[65536];
	ssize_t n;

	if (in == -1) {
		snprintf(err, errlen, "cannot open %s: %s", from, strerror(errno));
		return -1;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
	    -1) {
		snprintf(err, errlen, "cannot create %s: %s", to, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0)
		snprintf(err, errlen, "cannot copy %s: %s", from, strerror(errno));
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

/* After a download: executable, extract, owner. */
static int
post_process(struct fetch *f, const json_t *uri, char *err, size_t errlen)
{
	bool executable = json_is_true(json_object_get(uri, "executable"));
	bool extract = !json_is_false(json_object_get(uri, "extract"));
	const char *name = strrchr(f->path, '/') + 1;
	struct passwd *pw = f->user[0] ? getpwnam(f->user) : NULL;

	if (executable) {
		if (chmod(f->path, 0755) == -1) {
			snprintf(err, errlen, "cannot chmod %s: %s", f->path,
			    strerror(errno));
			return -1;
		}
	} else if (extract && fetch_is_archive(name)) {
		if (fetch_extract(f->path, f->t->sandbox, err, errlen) == -1)
			return -1;
		log_info("extracted %s into %s", name, f->t->sandbox);
	}
	if (pw && geteuid() == 0)
		(void)!chown(f->path, pw->pw_uid, pw->pw_gid);
	return 0;
}

static void
on_headers(const struct http_client_resp *resp, void *arg)
{
	struct fetch *f = arg;

	f->status = resp->status;
}

static void
on_data(const char *data, size_t len, void *arg)
{
	struct fetch *f = arg;

	if (f->status >= 200 && f->status < 300 && f->fd >= 0 &&
	    write(f->fd, data, len) != (ssize_t)len) {
		snprintf(f->error, sizeof(f->error), "cannot write %s: %s", f->path,
		    strerror(errno));
		close(f->fd);
		f->fd = -1;
	}
}

static void
on_end(const struct http_client_resp *resp, void *arg)
{
	struct fetch *f = arg;
	const json_t *uri = json_array_get(f->uris, f->next - 1);
	const char *value = json_str_or(uri, "value", "");
	long status = f->status ? f->status : resp->status;
	char err[1024];

	f->call = NULL;
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (resp->error || status < 200 || status >= 300 || f->error[0]) {
		if (f->error[0] == '\0')
			snprintf(f->error, sizeof(f->error), "%s: %s", value,
			    resp->error ? resp->error : "HTTP error");
		if (!resp->error && (status < 200 || status >= 300))
			snprintf(f->error, sizeof(f->error), "%s: HTTP %ld", value,
			    status);
		unlink(f->path);
		finish(f, f->error);
		return;
	}
	if (post_process(f, uri, err, sizeof(err)) == -1) {
		finish(f, err);
		return;
	}
	log_info("fetched %s into %s", value, f->path);
	next_soon(f);
}

static void
step(struct fetch *f)
{
	static const struct http_client_stream_cbs cbs = { on_headers, on_data,
		on_end };
	const json_t *uri = json_array_get(f->uris, f->next);
	const char *value, *scheme_end;
	char name[256], err[1024];

	if (uri == NULL) {
		finish(f, NULL);
		return;
	}
	f->next++;
	value = json_string_value(json_object_get(uri, "value"));
	if (value == NULL || fetch_basename(value, json_string_value(
	    json_object_get(uri, "output_file")), name, sizeof(name)) == -1) {
		snprintf(err, sizeof(err), "cannot name a file for URI '%s'",
		    value ? value : "");
		finish(f, err);
		return;
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->t->sandbox, name);
	scheme_end = strstr(value, "://");
	if (value[0] == '/' || strncmp(value, "file://", 7) == 0) {
		const char *src = value[0] == '/' ? value : value + 7;

		if (copy_file(src, f->path, err, sizeof(err)) == -1 ||
		    post_process(f, uri, err, sizeof(err)) == -1) {
			finish(f, err);
			return;
		}
		log_info("copied %s into %s", src, f->path);
		next_soon(f);
		return;
	}
	if (scheme_end == NULL || !(strncmp(value, "http://", 7) == 0 ||
	    strncmp(value, "https://", 8) == 0 ||
	    strncmp(value, "ftp://", 6) == 0 || strncmp(value, "ftps://", 7) == 0)) {
		snprintf(err, sizeof(err), "unsupported URI '%s' (http, https, ftp, "
		    "file:// and absolute paths are)", value);
		finish(f, err);
		return;
	}
	if ((f->fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		snprintf(err, sizeof(err), "cannot create %s: %s", f->path,
		    strerror(errno));
		finish(f, err);
		return;
	}
	f->status = 0;
	f->error[0] = '\0';
	{
		struct http_client_req r = { .url = value, .timeout = 30,
			.follow_redirects = 1 };

		f->call = http_client_stream(f->e->http, &r, &cbs, f);
	}
}

struct fetch *
fetch_start(struct executor *e, struct etask *t, const json_t *uris,
    const char *user, fetch_done_fn done)
{
	struct fetch *f = calloc(1, sizeof(*f));

	if (f == NULL)
		abort();
	f->e = e;
	f->t = t;
	f->uris = json_incref((json_t *)uris);
	f->done = done;
	f->fd = -1;
	snprintf(f->user, sizeof(f->user), "%s", user && strcmp(user, "root") ?
	    user : "");
	f->step = evtimer_new(e->base, on_step, f);
	next_soon(f);
	return f;
}

void
fetch_cancel(struct fetch *f)
{
	if (f->call)
		http_call_cancel(f->call);
	if (f->fd >= 0)
		close(f->fd);
	event_free(f->step);
	json_decref(f->uris);
	free(f);
}
