/* Unit tests for resources: the three wire forms and the arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/resources.h"

static void
test_parse_agent_flag_text(void **state)
{
	struct resources r;
	char err[256], buf[256];
	const struct resource *ports;

	assert_int_equal(resources_parse("cpus:4;mem:8192;disk:1000;"
	    "ports:[31000-32000,33000-33001];cpus(slave_public):2", "*", &r, err,
	    sizeof(err)), 0);
	assert_true(resources_scalar(&r, "cpus") == 6.0);
	assert_true(resources_scalar(&r, "mem") == 8192.0);
	ports = resources_find(&r, "ports", "*");
	assert_non_null(ports);
	assert_string_equal(ranges_format(ports->ranges, ports->nranges, buf,
	    sizeof(buf)), "[31000-32000, 33000-33001]");
	assert_non_null(resources_find(&r, "cpus", "slave_public"));
	resources_free(&r);
}

static void
test_parse_default_role_applies_to_roleless_entries(void **state)
{
	struct resources r;
	char err[256];

	assert_int_equal(resources_parse("cpus:1;mem:64", "slave_public", &r, err,
	    sizeof(err)), 0);
	assert_non_null(resources_find(&r, "cpus", "slave_public"));
	assert_null(resources_find(&r, "cpus", "*"));
	resources_free(&r);
}

static void
test_parse_rejects_bad_text_with_a_clear_error(void **state)
{
	struct resources r;
	char err[256];

	assert_int_equal(resources_parse("cpus:abc", "*", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cpus"));
	assert_int_equal(resources_parse("cpus", "*", &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name:value"));
	assert_int_equal(resources_parse("ports:[5-1]", "*", &r, err, sizeof(err)), -1);
	assert_int_equal(resources_parse("mem:-5", "*", &r, err, sizeof(err)), -1);
	assert_int_equal(resources_parse("cpus(:1", "*", &r, err, sizeof(err)), -1);
	assert_int_equal(resources_parse("[{\"name\":\"cpus\"}]", "*", &r, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "type"));
}

static void
test_v1_round_trip(void **state)
{
	struct resources r, back;
	struct json_errs e;
	char err[128];
	json_t *v1;

	assert_int_equal(resources_parse("cpus:0.5;mem:128;ports:[31000-31002]",
	    "*", &r, err, sizeof(err)), 0);
	v1 = resources_to_v1(&r, "*");
	assert_int_equal(json_array_size(v1), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(v1, 0), "allocation_info"), "role")), "*");
	json_errs_init(&e);
	assert_int_equal(resources_from_v1(v1, "/resources", &back, &e), 0);
	assert_true(resources_contains(&back, &r) && resources_contains(&r, &back));
	json_errs_free(&e);
	json_decref(v1);
	resources_free(&r);
	resources_free(&back);
}

static void
test_v1_errors_name_the_path(void **state)
{
	struct resources r;
	struct json_errs e;
	char msg[256];
	json_t *bad = json_loads("[{\"name\":\"cpus\",\"type\":\"SCALAR\","
	    "\"scalar\":{\"value\":\"x\"}}]", 0, NULL);

	json_errs_init(&e);
	assert_int_equal(resources_from_v1(bad, "/task/resources", &r, &e), -1);
	assert_string_equal(json_errs_first(&e, msg, sizeof(msg)),
	    "/task/resources(0)/scalar/value: error.expected.jsnumber");
	json_errs_free(&e);
	json_decref(bad);
}

static void
test_summary_has_the_four_scalars_and_range_strings(void **state)
{
	struct resources r;
	char err[128];
	json_t *s;

	assert_int_equal(resources_parse("cpus:2;ports:[1-2,4-4]", "*", &r, err,
	    sizeof(err)), 0);
	s = resources_summary(&r);
	assert_true(json_real_value(json_object_get(s, "cpus")) == 2.0);
	assert_true(json_real_value(json_object_get(s, "mem")) == 0.0);
	assert_non_null(json_object_get(s, "gpus"));
	assert_non_null(json_object_get(s, "disk"));
	assert_string_equal(json_string_value(json_object_get(s, "ports")),
	    "[1-2, 4-4]");
	json_decref(s);
	resources_free(&r);
}

static void
test_subtract_and_add_back_ports_and_scalars(void **state)
{
	struct resources total, task;
	char err[128], buf[128];
	const struct resource *ports;

	resources_parse("cpus:1;mem:100;ports:[31000-31010]", "*", &total, err,
	    sizeof(err));
	resources_parse("cpus:0.1;mem:32;ports:[31005-31005]", "*", &task, err,
	    sizeof(err));
	assert_int_equal(resources_subtract(&total, &task), 0);
	assert_true(resources_scalar(&total, "cpus") == 0.9);
	ports = resources_find(&total, "ports", "*");
	assert_string_equal(ranges_format(ports->ranges, ports->nranges, buf,
	    sizeof(buf)), "[31000-31004, 31006-31010]");
	/* the same port twice is not contained any more */
	assert_int_equal(resources_subtract(&total, &task), -1);
	resources_add(&total, &task);
	ports = resources_find(&total, "ports", "*");
	assert_string_equal(ranges_format(ports->ranges, ports->nranges, buf,
	    sizeof(buf)), "[31000-31010]");
	assert_true(resources_scalar(&total, "cpus") == 1.0);
	resources_free(&total);
	resources_free(&task);
}

static void
test_fixed_point_sums_do_not_drift(void **state)
{
	struct resources r;

	resources_init(&r);
	for (int i = 0; i < 10; i++)
		resources_add_scalar(&r, "cpus", "*", 0.1);
	assert_true(resources_scalar(&r, "cpus") == 1.0);
	resources_free(&r);
}

static void
test_for_role_keeps_unreserved_and_own_role(void **state)
{
	struct resources r, mine;
	char err[128];

	resources_parse("cpus:1;cpus(slave_public):2;cpus(other):4", "*", &r,
	    err, sizeof(err));
	resources_for_role(&r, "slave_public", &mine);
	assert_true(resources_scalar(&mine, "cpus") == 3.0);
	resources_free(&r);
	resources_free(&mine);
}

static void
test_attributes(void **state)
{
	struct attributes a;
	char err[128], buf[64];
	json_t *s;

	assert_int_equal(attributes_parse("rack:r1;level:10;ids:[1-5]", &a, err,
	    sizeof(err)), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(attribute_text(attributes_find(&a, "level"), buf,
	    sizeof(buf)), "10");
	s = attributes_summary(&a);
	assert_string_equal(json_string_value(json_object_get(s, "rack")), "r1");
	assert_string_equal(json_string_value(json_object_get(s, "ids")), "[1-5]");
	json_decref(s);
	attributes_free(&a);
	assert_int_equal(attributes_parse("norack", &a, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_agent_flag_text),
		cmocka_unit_test(test_parse_default_role_applies_to_roleless_entries),
		cmocka_unit_test(test_parse_rejects_bad_text_with_a_clear_error),
		cmocka_unit_test(test_v1_round_trip),
		cmocka_unit_test(test_v1_errors_name_the_path),
		cmocka_unit_test(test_summary_has_the_four_scalars_and_range_strings),
		cmocka_unit_test(test_subtract_and_add_back_ports_and_scalars),
		cmocka_unit_test(test_fixed_point_sums_do_not_drift),
		cmocka_unit_test(test_for_role_keeps_unreserved_and_own_role),
		cmocka_unit_test(test_attributes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
