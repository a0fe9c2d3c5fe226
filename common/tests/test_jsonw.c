/* Unit tests for jsonw: commas, escaping, number forms, and that jansson
 * parses what it writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/jsonw.h"

static void
test_nested_objects_and_arrays_get_commas_right(void **state)
{
	struct jsonw w;
	char *out;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "id", "a");
	jw_key(&w, "tasks");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kint(&w, "n", 1);
	jw_obj_end(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "empty");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_kbool(&w, "ok", true);
	jw_kraw(&w, "raw", "{\"x\":[1,2]}");
	jw_key(&w, "nothing");
	jw_null(&w);
	jw_obj_end(&w);
	out = jw_steal(&w, NULL);
	assert_string_equal(out, "{\"id\":\"a\",\"tasks\":[{\"n\":1},{}],"
	    "\"empty\":[],\"ok\":true,\"raw\":{\"x\":[1,2]},\"nothing\":null}");
	free(out);
}

static void
test_strings_are_escaped(void **state)
{
	struct jsonw w;
	char *out;
	json_t *back;

	jw_init(&w);
	jw_arr_begin(&w);
	jw_str(&w, "quote\" back\\ nl\n tab\t ctl\x01 utf8 \xc3\xa9");
	jw_arr_end(&w);
	out = jw_steal(&w, NULL);
	assert_string_equal(out, "[\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 "
	    "utf8 \xc3\xa9\"]");
	back = json_loads(out, 0, NULL);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_array_get(back, 0)),
	    "quote\" back\\ nl\n tab\t ctl\x01 utf8 \xc3\xa9");
	json_decref(back);
	free(out);
}

static void
test_doubles_always_look_like_doubles(void **state)
{
	struct jsonw w;
	char *out;

	jw_init(&w);
	jw_arr_begin(&w);
	jw_double(&w, 128.0);
	jw_double(&w, 0.1);
	jw_double(&w, 1455643643.42422);
	jw_int(&w, -7);
	jw_arr_end(&w);
	out = jw_steal(&w, NULL);
	assert_string_equal(out, "[128.0,0.1,1455643643.42422,-7]");
	free(out);
}

/* The fast path prints what "%.15g" prints (read back, the same double),
 * always with a '.' or an exponent. */
static void
test_doubles_match_printf_15g(void **state)
{
	double fixed[] = { 0.1, 0.2 + 0.1, 0.001, 0.0001, 0.00012345, 1.0 / 3,
		3.9, 4064.0, 1795306999.39891, 1795306999.398913, 999999999999999.0,
		0.5, 99.999999999999999, 1e14 + 0.5, -2.25, 31000.0 };
	unsigned seed = 42;

	for (int i = 0; i < 20000; i++) {
		double v;
		struct jsonw w;
		char *out, ref[64];

		if (i < (int)(sizeof(fixed) / sizeof(fixed[0]))) {
			v = fixed[i];
		} else {
			seed = seed * 1103515245 + 12345;
			v = (double)(seed % 100000000) / (double)(1 << (seed % 24));
			if (seed & 1)
				v += 1.7e9;
		}
		jw_init(&w);
		jw_double(&w, v);
		out = jw_steal(&w, NULL);
		snprintf(ref, sizeof(ref), "%.15g", v);
		if (strtod(out, NULL) != strtod(ref, NULL) || strpbrk(out, ".e") ==
		    NULL)
			fail_msg("%.17g: wrote %s, printf %s", v, out, ref);
		free(out);
	}
}

static void
test_literal_keys_and_ints(void **state)
{
	struct jsonw w;
	char *out;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_key_lit(&w, "id");
	jw_int(&w, -9223372036854775807LL - 1);
	jw_key_lit(&w, "n");
	jw_int(&w, 0);
	jw_obj_end(&w);
	out = jw_steal(&w, NULL);
	assert_string_equal(out, "{\"id\":-9223372036854775808,\"n\":0}");
	free(out);
}

static void
test_jansson_values_embed(void **state)
{
	struct jsonw w;
	json_t *v = json_pack("{s:[i,s]}", "labels", 1, "x");
	char *out;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_kjson(&w, "v", v);
	jw_kjson(&w, "w", v);
	jw_obj_end(&w);
	out = jw_steal(&w, NULL);
	assert_string_equal(out, "{\"v\":{\"labels\":[1,\"x\"]},"
	    "\"w\":{\"labels\":[1,\"x\"]}}");
	json_decref(v);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_objects_and_arrays_get_commas_right),
		cmocka_unit_test(test_strings_are_escaped),
		cmocka_unit_test(test_doubles_always_look_like_doubles),
		cmocka_unit_test(test_jansson_values_embed),
		cmocka_unit_test(test_doubles_match_printf_15g),
		cmocka_unit_test(test_literal_keys_and_ints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
