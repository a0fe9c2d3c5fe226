/*
 * Unit tests for the bugs the fuzzers in fuzz/ found in libdcos, one story
 * each (the inputs that found them are in fuzz/regress/<target>/). Built
 * with ASan/UBSan like every unit test, so undefined behaviour fails too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/constraints.h"
#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/json.h"
#include "dcos/jsonw.h"
#include "dcos/offer.h"
#include "dcos/resources.h"
#include "dcos/store.h"

static void
test_set_resource_with_a_first_item_parses(void **state)
{
	struct resources r;
	char err[256];
	const struct resource *zones;

	/* the first item was looked up in an empty (NULL) array */
	assert_int_equal(resources_parse("zones:{a,b, c}", "*", &r, err,
	    sizeof(err)), 0);
	zones = resources_find(&r, "zones", "*");
	assert_non_null(zones);
	assert_int_equal(zones->nitems, 3);
	resources_free(&r);
}

static void
test_attribute_with_empty_ranges_parses(void **state)
{
	struct attributes a;
	char err[256], buf[64];

	/* "[]" copied zero ranges from a NULL array */
	assert_int_equal(attributes_parse("ports:[];rack:r1", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(attribute_text(attributes_find(&a, "ports"), buf,
	    sizeof(buf)), "[]");
	attributes_free(&a);
}

static void
test_utf8_checks_and_repairs_what_jansson_would_refuse(void **state)
{
	char cut[] = "caf\xc3", bad[] = "a\xff" "b\xed\xa0\x80" "c", ok[] = "gr\xc3\xbc\xc3\x9f";

	assert_true(json_utf8_valid("gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80", 11));
	assert_false(json_utf8_valid("\xf0ort", 4));
	assert_false(json_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(json_utf8_valid("\xed\xa0\x80", 3));     /* a surrogate */
	assert_false(json_utf8_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_string_equal(json_utf8_repair(cut), "caf");
	assert_string_equal(json_utf8_repair(bad), "a?b???c");
	assert_string_equal(json_utf8_repair(ok), "gr\xc3\xbc\xc3\x9f");
}

static void
test_resources_that_json_cannot_carry_are_refused(void **state)
{
	struct resources r;
	struct attributes a;
	char err[256];

	/* accepted, then silently missing from the v1 and summary forms */
	assert_int_equal(resources_parse("cpus:4;\xf0orts:[1-2]", "*", &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "bad resource name"));
	assert_int_equal(resources_parse("cpus(\xff):1", "*", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(resources_parse("disks:{a,\xc3}", "*", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(attributes_parse("rack:r\xff", &a, err, sizeof(err)),
	    -1);
	assert_int_equal(resources_parse("cpus(r\xc3\xb4le):1", "*", &r, err,
	    sizeof(err)), 0);
	resources_free(&r);
}

static void
test_text_scalars_have_the_same_bound_as_v1(void **state)
{
	struct resources r;
	char err[256];

	/* 1e306 became infinite in fixed point; 3e67 passed the text form
	 * but not the v1 form the master reads */
	assert_int_equal(resources_parse("cpus:1e306", "*", &r, err,
	    sizeof(err)), -1);
	assert_int_equal(resources_parse("mem:3e67", "*", &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "mem"));
	assert_int_equal(resources_parse("mem:1e15", "*", &r, err,
	    sizeof(err)), 0);
	resources_free(&r);
}

static void
test_v1_ranges_and_sets_without_their_lists_are_empty(void **state)
{
	const char *docs[] = {
		"[{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":{}}]",
		"[{\"name\":\"disks\",\"type\":\"SET\",\"set\":{}}]",
		"[{\"name\":\"disks\",\"type\":\"SET\",\"set\":{\"item\":null}}]",
	};

	/* the absent list was read from an uninitialized pointer */
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct json_errs e;
		struct resources r;
		json_t *v = json_loads(docs[i], 0, NULL);

		json_errs_init(&e);
		assert_int_equal(resources_from_v1(v, "", &r, &e), 0);
		assert_true(resources_empty(&r));
		resources_free(&r);
		json_errs_free(&e);
		json_decref(v);
	}
}

static void
test_range_bounds_are_plain_numbers_the_v1_form_can_carry(void **state)
{
	const char *bad[] = { "ports:[0--5]", "ports:[-1-5]", "ports:[1- 5]",
		"ports:[+1-5]", "ports:[1-9223372036854775808]" };
	struct resources r;
	char err[256];

	/* "-5" was read as 2^64 - 5 */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(resources_parse(bad[i], "*", &r, err,
		    sizeof(err)), -1);
	assert_int_equal(resources_parse("ports:[ 1-5 , 9223372036854775807-"
	    "9223372036854775807 ]", "*", &r, err, sizeof(err)), 0);
	assert_int_equal(resources_find(&r, "ports", "*")->nranges, 2);
	resources_free(&r);
}

static void
test_errors_quoting_cut_utf8_are_recorded(void **state)
{
	const char body[] = "{\"j\\ud83\xf0\x9f\x98\x80" "ed\\u";
	char type[700] = "x", doc[800], buf[600];
	struct json_errs e;
	struct resources r;
	json_t *v;

	/* jansson's message quotes half of the emoji: the error was dropped
	 * and a bad body reported "no error" */
	json_errs_init(&e);
	assert_null(json_parse(body, strlen(body), &e));
	assert_int_equal(json_errs_count(&e), 1);
	assert_string_not_equal(json_errs_first(&e, buf, sizeof(buf)),
	    "no error");
	json_errs_free(&e);

	/* an unknown resource type cut mid-character in the message: the
	 * error was dropped and the bad resource silently accepted */
	for (int i = 0; i < 300; i++)
		strcat(type, "\xc3\xa9");
	snprintf(doc, sizeof(doc), "[{\"name\":\"cpus\",\"type\":\"%s\"}]",
	    type);
	v = json_loads(doc, 0, NULL);
	assert_non_null(v);
	json_errs_init(&e);
	assert_int_equal(resources_from_v1(v, "/resources", &r, &e), -1);
	assert_int_equal(json_errs_count(&e), 1);
	json_errs_free(&e);
	json_decref(v);
}

static void
test_routes_with_many_greedy_parameters_match_in_polynomial_time(void **state)
{
	char path[512] = "", buf[1024];
	const char *names[8], *values[8];
	int n;

	/* eight greedy parameters against 63 segments that never end in
	 * "/x": exponential backtracking before (the fuzzer's 13 s timeout) */
	for (int i = 0; i < 63; i++)
		strcat(path, "/s");
	assert_int_equal(http_route_match("/{a*}/{b*}/{c*}/{d*}/{e*}/{f*}/{g*}/"
	    "{h*}/x", path, buf, sizeof(buf), names, values, &n, 8), 0);
	/* and the greedy ones still backtrack to let the literals match */
	assert_int_equal(http_route_match("/{a*}/x/{b*}/y/{c*}", "/1/2/x/x/3/y/4/y",
	    buf, sizeof(buf), names, values, &n, 8), 1);
	assert_int_equal(n, 3);
	assert_string_equal(values[0], "1/2/x");
	assert_string_equal(values[1], "3");
	assert_string_equal(values[2], "4/y");
}

static void
test_flags_json_shows_values_that_are_not_utf8(void **state)
{
	const char *dir = NULL;
	const struct flag table[] = {
		{ "work_dir", FLAG_STR, &dir, NULL, "where" },
	};
	const struct flags_spec spec = { "t", "t", "TEST_FUZZED_", table, 1 };
	char *argv[] = { "t", "--work_dir=/var/lib/caf\xe9s", NULL };
	char err[256];
	json_t *j;

	/* a Latin-1 path was silently missing from /flags */
	assert_int_equal(flags_parse(&spec, 2, argv, err, sizeof(err)), FLAGS_OK);
	j = flags_to_json(&spec);
	assert_string_equal(json_string_value(json_object_get(j, "work_dir")),
	    "/var/lib/caf?s");
	json_decref(j);
}

static void
test_durations_are_bounded_like_mesos_durations(void **state)
{
	double secs = -1;

	/* 1e308weeks was +inf and 1e300 an unusable number of seconds */
	assert_int_equal(flags_parse_duration("1e308weeks", &secs), -1);
	assert_int_equal(flags_parse_duration("666666666666666666666", &secs), -1);
	assert_int_equal(flags_parse_duration("106751days", &secs), 0);
	assert_true(secs == 106751.0 * 86400);
	assert_int_equal(flags_parse_duration("106752days", &secs), -1);
}

static void
test_float_columns_read_as_int_saturate(void **state)
{
	struct store_rows *rows = store_rows_new(1);
	struct store_val v[] = { SV_FLOAT(-8.8e112), SV_FLOAT(1e19),
		SV_FLOAT(NAN), SV_FLOAT(-2.75) };

	/* a float column out of int64's range was cast (undefined) */
	for (size_t i = 0; i < 4; i++)
		store_rows_add(rows, &v[i]);
	assert_true(store_rows_int(rows, 0, 0) == INT64_MIN);
	assert_true(store_rows_int(rows, 1, 0) == INT64_MAX);
	assert_true(store_rows_int(rows, 2, 0) == 0);
	assert_true(store_rows_int(rows, 3, 0) == -2);
	store_rows_free(rows);
}

static void
test_jsonw_documents_stay_readable_with_text_that_is_not_utf8(void **state)
{
	struct jsonw w;
	char *text;
	json_t *v;

	/* a hostname or path in another encoding made the whole document
	 * unreadable (raw bytes that are not UTF-8) */
	jw_init(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "host\xfa", "caf\xe9-1");
	jw_key(&w, "path");
	jw_strn(&w, "a\0\xc3", 3);
	jw_kstr(&w, "ok", "caf\xc3\xa9");
	jw_obj_end(&w);
	text = jw_steal(&w, NULL);
	v = json_loads(text, JSON_ALLOW_NUL, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "host?")),
	    "caf?-1");
	assert_int_equal(json_string_length(json_object_get(v, "path")), 2);
	assert_string_equal(json_string_value(json_object_get(v, "ok")),
	    "caf\xc3\xa9");
	json_decref(v);
	free(text);
}

static void
test_jsonw_doubles_near_dbl_max_read_back(void **state)
{
	struct jsonw w;
	char *text;
	json_t *v;

	/* 15 digits of -DBL_MAX round past it: "-1.79769313486232e+308"
	 * does not read back (jansson: real number overflow) */
	jw_init(&w);
	jw_arr_begin(&w);
	jw_double(&w, -1.7976931348623157e308);
	jw_double(&w, 1.797693134862315e308);
	jw_double(&w, 1e308);
	jw_arr_end(&w);
	text = jw_steal(&w, NULL);
	v = json_loads(text, 0, NULL);
	assert_non_null(v);
	assert_true(json_real_value(json_array_get(v, 0)) == -1.7976931348623157e308);
	assert_true(json_real_value(json_array_get(v, 2)) == 1e308);
	json_decref(v);
	free(text);
}

static void
test_offer_with_a_port_out_of_range_is_refused(void **state)
{
	const char *doc = "{\"id\":{\"value\":\"x-O1\"},\"agent_id\":"
	    "{\"value\":\"x-S0\"},\"hostname\":\"h\",\"url\":{\"address\":"
	    "{\"ip\":\"10.0.0.1\",\"port\":1e300}}}";
	json_t *v = json_loads(doc, 0, NULL);
	struct json_errs e;
	struct offer o;
	char buf[256];

	/* 1e300 was cast to int (undefined) */
	json_errs_init(&e);
	assert_int_equal(offer_from_v1(v, "", &o, &e), -1);
	assert_string_equal(json_errs_first(&e, buf, sizeof(buf)),
	    "/url/address/port: error.expected.jsnumber");
	json_errs_free(&e);
	json_decref(v);
}

static void
test_offer_attributes_too_long_to_keep_are_refused(void **state)
{
	char name[200] = "", doc[600];
	struct json_errs e;
	struct attributes a;
	json_t *v;

	/* cut at 63 bytes mid-character, the attribute vanished from the
	 * JSON forms */
	for (int i = 0; i < 40; i++)
		strcat(name, "\xc3\xa9");
	snprintf(doc, sizeof(doc), "[{\"name\":\"%s\",\"type\":\"TEXT\","
	    "\"text\":{\"value\":\"v\"}}]", name);
	v = json_loads(doc, 0, NULL);
	json_errs_init(&e);
	assert_int_equal(attributes_from_v1(v, "/attributes", &a, &e), -1);
	assert_int_equal(json_errs_count(&e), 1);
	json_errs_free(&e);
	json_decref(v);
}

static void
test_like_matches_whole_values_whatever_parentheses_the_value_has(void **state)
{
	struct constraint c;
	char err[256];

	/* wrapped as "^(a)|.*)$", the ')' closed the anchor's group: LIKE
	 * "a)|.*" then refused "xyz" and took "abc" for its "^(a)" alone */
	assert_int_equal(constraint_init(&c, "hostname", "LIKE", "a)|.*", err,
	    sizeof(err)), 0);
	assert_true(constraint_met(&c, "xyz", NULL, 0));
	constraint_free(&c);
	/* not a regular expression on its own (Marathon refuses it), but it
	 * compiled once wrapped */
	assert_int_equal(constraint_init(&c, "hostname", "LIKE", "web)|(db",
	    err, sizeof(err)), -1);
	assert_int_equal(constraint_init(&c, "hostname", "UNLIKE", "db.*|web-1",
	    err, sizeof(err)), 0);
	assert_false(constraint_met(&c, "db-7", NULL, 0));
	assert_false(constraint_met(&c, "web-1", NULL, 0));
	assert_true(constraint_met(&c, "web-12", NULL, 0));
	constraint_free(&c);
	assert_int_equal(constraint_init(&c, "hostname", "LIKE", "(web", err,
	    sizeof(err)), -1);
}

static void
test_like_patterns_that_would_exhaust_regcomp_are_refused(void **state)
{
	const char *bad[] = {
		"web.+++++++++++++++++++++++++++++++++++++++++++++++++++++*",
		"(a{100}){100}", "((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)", "a??+++",
	};
	const char *good[] = { "web.*", "a.*?", "[a-z0-9-]{1,63}(\\.[a-z0-9-]{1,63})*",
		"(web|api)-[0-9]{1,3}", "[[:alpha:]]+[]x]*" };
	struct constraint c;
	char err[256];

	/* the first took gigabytes in glibc's regcomp, the last seconds */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(constraint_init(&c, "hostname", "LIKE", bad[i],
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "too large"));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(constraint_init(&c, "hostname", "LIKE", good[i],
		    err, sizeof(err)), 0);
		constraint_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_resource_with_a_first_item_parses),
		cmocka_unit_test(test_attribute_with_empty_ranges_parses),
		cmocka_unit_test(test_utf8_checks_and_repairs_what_jansson_would_refuse),
		cmocka_unit_test(test_resources_that_json_cannot_carry_are_refused),
		cmocka_unit_test(test_text_scalars_have_the_same_bound_as_v1),
		cmocka_unit_test(test_v1_ranges_and_sets_without_their_lists_are_empty),
		cmocka_unit_test(test_range_bounds_are_plain_numbers_the_v1_form_can_carry),
		cmocka_unit_test(test_errors_quoting_cut_utf8_are_recorded),
		cmocka_unit_test(test_routes_with_many_greedy_parameters_match_in_polynomial_time),
		cmocka_unit_test(test_flags_json_shows_values_that_are_not_utf8),
		cmocka_unit_test(test_durations_are_bounded_like_mesos_durations),
		cmocka_unit_test(test_float_columns_read_as_int_saturate),
		cmocka_unit_test(test_jsonw_documents_stay_readable_with_text_that_is_not_utf8),
		cmocka_unit_test(test_jsonw_doubles_near_dbl_max_read_back),
		cmocka_unit_test(test_offer_with_a_port_out_of_range_is_refused),
		cmocka_unit_test(test_offer_attributes_too_long_to_keep_are_refused),
		cmocka_unit_test(test_like_matches_whole_values_whatever_parentheses_the_value_has),
		cmocka_unit_test(test_like_patterns_that_would_exhaust_regcomp_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
