/* Unit tests for strmap: insert, replace, delete, growth, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/strmap.h"

static void
test_put_get_replace_and_delete(void **state)
{
	struct strmap *m = strmap_new();
	int a = 1, b = 2;

	assert_null(strmap_put(m, "agent-S1", &a));
	assert_ptr_equal(strmap_get(m, "agent-S1"), &a);
	assert_ptr_equal(strmap_put(m, "agent-S1", &b), &a);
	assert_ptr_equal(strmap_get(m, "agent-S1"), &b);
	assert_int_equal(strmap_count(m), 1);
	assert_ptr_equal(strmap_del(m, "agent-S1"), &b);
	assert_null(strmap_get(m, "agent-S1"));
	assert_null(strmap_del(m, "agent-S1"));
	assert_int_equal(strmap_count(m), 0);
	strmap_free(m);
}

static void
test_many_keys_survive_growth_and_tombstones(void **state)
{
	struct strmap *m = strmap_new();
	static int vals[20000];
	char key[32];

	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "task-%d", i);
		vals[i] = i;
		strmap_put(m, key, &vals[i]);
	}
	for (int i = 0; i < 20000; i += 2) {
		snprintf(key, sizeof(key), "task-%d", i);
		assert_ptr_equal(strmap_del(m, key), &vals[i]);
	}
	/* reinsert over tombstones */
	for (int i = 0; i < 1000; i += 2) {
		snprintf(key, sizeof(key), "task-%d", i);
		strmap_put(m, key, &vals[i]);
	}
	assert_int_equal(strmap_count(m), 10000 + 500);
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "task-%d", i);
		if (i % 2 == 1 || i < 1000)
			assert_ptr_equal(strmap_get(m, key), &vals[i]);
		else
			assert_null(strmap_get(m, key));
	}
	strmap_free(m);
}

static void
test_iteration_visits_each_entry_once_even_while_deleting(void **state)
{
	struct strmap *m = strmap_new();
	static int vals[100];
	char key[32];
	const char *k;
	void *v;
	int seen = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "fw-%d", i);
		strmap_put(m, key, &vals[i]);
	}
	for (size_t it = 0; strmap_next(m, &it, &k, &v);) {
		seen++;
		strmap_del(m, k);
	}
	assert_int_equal(seen, 100);
	assert_int_equal(strmap_count(m), 0);
	strmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace_and_delete),
		cmocka_unit_test(test_many_keys_survive_growth_and_tombstones),
		cmocka_unit_test(test_iteration_visits_each_entry_once_even_while_deleting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
