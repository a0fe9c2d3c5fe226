/*
 * Unit tests for the bugs the fuzzers in fuzz/ found in libdcos, one story
 * each (the inputs that found them are in fuzz/regress/<target>/). Built
 * with ASan/UBSan like every unit test, so undefined behaviour fails too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/resources.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_resource_with_a_first_item_parses),
		cmocka_unit_test(test_attribute_with_empty_ranges_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
