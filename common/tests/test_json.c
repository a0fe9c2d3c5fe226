/* Unit tests for json: typed getters, error paths, parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/json.h"

static void
test_getters_read_present_fields(void **state)
{
	json_t *o = json_loads("{\"id\":\"/a\",\"n\":3,\"f\":0.5,\"b\":true,"
	    "\"o\":{},\"a\":[],\"whole\":2.0}", 0, NULL);
	struct json_errs e;
	const char *s;
	json_int_t n;
	double f;
	bool b;
	const json_t *v;

	json_errs_init(&e);
	assert_int_equal(json_get_str(o, "", "id", JF_REQUIRED, &s, &e), 1);
	assert_string_equal(s, "/a");
	assert_int_equal(json_get_int(o, "", "n", 0, 0, 10, &n, &e), 1);
	assert_int_equal(n, 3);
	assert_int_equal(json_get_int(o, "", "whole", 0, 0, 10, &n, &e), 1);
	assert_int_equal(n, 2);
	assert_int_equal(json_get_double(o, "", "f", 0, 0, 1, &f, &e), 1);
	assert_true(f == 0.5);
	assert_int_equal(json_get_double(o, "", "n", 0, 0, 10, &f, &e), 1);
	assert_int_equal(json_get_bool(o, "", "b", 0, &b, &e), 1);
	assert_true(b);
	assert_int_equal(json_get_object(o, "", "o", 0, &v, &e), 1);
	assert_int_equal(json_get_array(o, "", "a", 0, &v, &e), 1);
	assert_int_equal(json_errs_count(&e), 0);
	json_errs_free(&e);
	json_decref(o);
}

static void
test_absent_and_null_are_absent(void **state)
{
	json_t *o = json_loads("{\"cmd\":null}", 0, NULL);
	struct json_errs e;
	const char *s = "unchanged";

	json_errs_init(&e);
	assert_int_equal(json_get_str(o, "", "cmd", 0, &s, &e), 0);
	assert_int_equal(json_get_str(o, "", "other", 0, &s, &e), 0);
	assert_string_equal(s, "unchanged");
	assert_int_equal(json_errs_count(&e), 0);
	assert_int_equal(json_get_str(o, "", "cmd", JF_REQUIRED, &s, &e), 0);
	assert_int_equal(json_errs_count(&e), 1);
	json_errs_free(&e);
	json_decref(o);
}

static void
test_errors_carry_marathon_style_paths(void **state)
{
	json_t *o = json_loads("{\"upgradeStrategy\":{\"minimumHealthCapacity\":2},"
	    "\"id\":5,\"name\":\"\"}", 0, NULL);
	struct json_errs e;
	const json_t *us;
	double d;
	const char *s;
	char buf[256], path[JSON_PATH_MAX];
	json_t *details;

	json_errs_init(&e);
	assert_int_equal(json_get_object(o, "", "upgradeStrategy", 0, &us, &e), 1);
	assert_int_equal(json_get_double(us, "/upgradeStrategy",
	    "minimumHealthCapacity", 0, 0, 1, &d, &e), -1);
	assert_int_equal(json_get_str(o, "", "id", 0, &s, &e), -1);
	assert_int_equal(json_get_str(o, "", "name", JF_NONEMPTY, &s, &e), -1);
	json_get_str(o, "", "id", JF_NONEMPTY, &s, &e); /* same path: merged */
	assert_int_equal(json_errs_count(&e), 3);
	assert_string_equal(json_errs_first(&e, buf, sizeof(buf)),
	    "/upgradeStrategy/minimumHealthCapacity: got 2, expected 1 or less");
	details = e.details;
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    details, 1), "path")), "/id");
	assert_int_equal(json_array_size(json_object_get(json_array_get(details,
	    1), "errors")), 2);
	json_path_index(path, sizeof(path), "/constraints", 3);
	assert_string_equal(path, "/constraints(3)");
	json_errs_free(&e);
	json_decref(o);
}

static void
test_parse_reports_position(void **state)
{
	struct json_errs e;
	char buf[256];

	json_errs_init(&e);
	assert_null(json_parse("{\"a\": }", 7, &e));
	assert_non_null(strstr(json_errs_first(&e, buf, sizeof(buf)),
	    "Invalid JSON at line 1"));
	json_errs_free(&e);
	json_errs_init(&e);
	assert_null(json_parse("", 0, &e));
	assert_null(json_parse("{\"a\":1,\"a\":2}", 13, &e));
	assert_int_equal(json_errs_count(&e), 1); /* both at path "" */
	json_errs_free(&e);
}

static void
test_compact_output_is_one_line_and_short_reals(void **state)
{
	json_t *o = json_pack("{s:f, s:s}", "cpus", 0.1, "s", "a\nb");
	char *text = json_compact(o);

	assert_string_equal(text, "{\"cpus\":0.1,\"s\":\"a\\nb\"}");
	free(text);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getters_read_present_fields),
		cmocka_unit_test(test_absent_and_null_are_absent),
		cmocka_unit_test(test_errors_carry_marathon_style_paths),
		cmocka_unit_test(test_parse_reports_position),
		cmocka_unit_test(test_compact_output_is_one_line_and_short_reals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
