/*
 * fetch: the Mesos fetcher's work for one task. Each CommandInfo.URI is
 * downloaded into the task's sandbox: http(s) and ftp through libcurl,
 * file:// and absolute paths by copying. Then, as Mesos does: `executable`
 * makes it 0755 and is never extracted; otherwise archives (.tar,
 * .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz, .zip, and a lone .gz) are
 * extracted into the sandbox with libarchive, refusing absolute paths, ".."
 * and writes through symlinks. `output_file` renames the download. Files go
 * to the task's user when tasks switch users. `cache` is accepted and
 * ignored (always fetched). Blocking: this runs in mesos-fetcher, its own
 * process, never in a daemon's loop.
 */
#include <curl/curl.h>
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

#include "dcos/json.h"
#include "dcos/log.h"

#include "fetcher.h"

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

static int
download(const char *url, const char *to, char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	FILE *out = fopen(to, "we");
	char cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	if (c == NULL || out == NULL) {
		snprintf(err, errlen, "cannot create %s: %s", to, strerror(errno));
		if (c)
			curl_easy_cleanup(c);
		if (out)
			fclose(out);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (fclose(out) != 0 && rc == CURLE_OK) {
		snprintf(err, errlen, "cannot write %s: %s", to, strerror(errno));
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr :
		    curl_easy_strerror(rc));
		unlink(to);
		return -1;
	}
	if ((strncmp(url, "http", 4) == 0) && (status < 200 || status >= 300)) {
		snprintf(err, errlen, "%s: HTTP %ld", url, status);
		unlink(to);
		return -1;
	}
	return 0;
}

int
fetch_uri(const json_t *uri, const char *sandbox, const char *user, char *err,
    size_t errlen)
{
	const char *value = json_string_value(json_object_get(uri, "value"));
	bool executable = json_is_true(json_object_get(uri, "executable"));
	bool extract = !json_is_false(json_object_get(uri, "extract"));
	struct passwd *pw = user && user[0] && strcmp(user, "root") ?
	    getpwnam(user) : NULL;
	char name[256], path[PATH_MAX];

	if (value == NULL || fetch_basename(value, json_string_value(
	    json_object_get(uri, "output_file")), name, sizeof(name)) == -1) {
		snprintf(err, errlen, "cannot name a file for URI '%s'",
		    value ? value : "");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", sandbox, name);
	if (value[0] == '/' || strncmp(value, "file://", 7) == 0) {
		if (copy_file(value[0] == '/' ? value : value + 7, path, err,
		    errlen) == -1)
			return -1;
	} else if (strncmp(value, "http://", 7) == 0 ||
	    strncmp(value, "https://", 8) == 0 ||
	    strncmp(value, "ftp://", 6) == 0 || strncmp(value, "ftps://", 7) == 0) {
		if (download(value, path, err, errlen) == -1)
			return -1;
	} else {
		snprintf(err, errlen, "unsupported URI '%s' (http, https, ftp, "
		    "file:// and absolute paths are)", value);
		return -1;
	}
	if (executable) {
		if (chmod(path, 0755) == -1) {
			snprintf(err, errlen, "cannot chmod %s: %s", path,
			    strerror(errno));
			return -1;
		}
	} else if (extract && fetch_is_archive(name)) {
		if (fetch_extract(path, sandbox, err, errlen) == -1)
			return -1;
		fprintf(stderr, "mesos-fetcher: extracted %s into %s\n", name,
		    sandbox);
	}
	if (pw && geteuid() == 0)
		(void)!chown(path, pw->pw_uid, pw->pw_gid);
	fprintf(stderr, "mesos-fetcher: fetched %s into %s\n", value, path);
	return 0;
}
