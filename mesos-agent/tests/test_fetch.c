/* Unit tests for mesos-fetcher: where a URI lands, which names
 * are archives, and extraction (including refusing an archive that tries
 * to write outside the sandbox). */
#include <archive.h>
#include <archive_entry.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../fetcher/fetcher.h"

static void
test_uris_land_under_their_last_path_segment(void **state)
{
	char n[256];

	assert_int_equal(fetch_basename("http://h:80/a/b/app.tar.gz?x=1#f", NULL,
	    n, sizeof(n)), 0);
	assert_string_equal(n, "app.tar.gz");
	assert_int_equal(fetch_basename("/opt/bin/tool", NULL, n, sizeof(n)), 0);
	assert_string_equal(n, "tool");
	assert_int_equal(fetch_basename("http://h/dir/", NULL, n, sizeof(n)), 0);
	assert_string_equal(n, "dir");
	assert_int_equal(fetch_basename("http://h/x", "renamed.bin", n,
	    sizeof(n)), 0);
	assert_string_equal(n, "renamed.bin");
	assert_int_equal(fetch_basename("http://h/x", "../escape", n, sizeof(n)),
	    -1);
	assert_int_equal(fetch_basename("http://h/..", NULL, n, sizeof(n)), -1);
}

static void
test_archive_names_are_recognised(void **state)
{
	assert_true(fetch_is_archive("a.tar.gz"));
	assert_true(fetch_is_archive("a.TGZ"));
	assert_true(fetch_is_archive("a.zip"));
	assert_true(fetch_is_archive("a.tar.xz"));
	assert_true(fetch_is_archive("a.gz"));
	assert_false(fetch_is_archive("a.tar.gz.sig"));
	assert_false(fetch_is_archive("script.sh"));
}

static void
make_tgz(const char *path, const char *const *names, int n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (int i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_size(e, 6);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_write_header(a, e);
		archive_write_data(a, "hello\n", 6);
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
}

static void
test_tarballs_extract_into_the_sandbox_and_escapes_are_refused(void **state)
{
	char dir[] = "/tmp/test-fetch-XXXXXX", path[512], f[512], err[512];
	const char *good[] = { "app/run.sh", "README" };
	const char *bad[] = { "ok.txt", "../../escaped.txt" };
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.tar.gz", dir);
	make_tgz(path, good, 2);
	assert_int_equal(fetch_extract(path, dir, err, sizeof(err)), 0);
	snprintf(f, sizeof(f), "%s/app/run.sh", dir);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_size, 6);
	snprintf(path, sizeof(path), "%s/bad.tar.gz", dir);
	make_tgz(path, bad, 2);
	assert_int_equal(fetch_extract(path, dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unsafe path"));
	snprintf(f, sizeof(f), "%s/../escaped.txt", dir);
	assert_int_not_equal(stat(f, &st), 0);
	snprintf(f, sizeof(f), "rm -rf %s", dir);
	assert_int_equal(system(f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uris_land_under_their_last_path_segment),
		cmocka_unit_test(test_archive_names_are_recognised),
		cmocka_unit_test(
		    test_tarballs_extract_into_the_sandbox_and_escapes_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
