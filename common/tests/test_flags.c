/* Unit tests for flags: defaults, environment, command line, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/flags.h"

struct opts {
	const char *work_dir;
	int port;
	bool checkpoint;
	double timeout;
	long long count;
	double ratio;
};

static struct opts o;
static const struct flag table[] = {
	{ "work_dir", FLAG_STR, &o.work_dir, "/var/lib/mesos", "work dir" },
	{ "port", FLAG_PORT, &o.port, "5050", "port" },
	{ "checkpoint", FLAG_BOOL, &o.checkpoint, "true", "checkpoint" },
	{ "offer_timeout", FLAG_DURATION, &o.timeout, "30secs", "timeout" },
	{ "count", FLAG_INT, &o.count, "1", "count" },
	{ "ratio", FLAG_DOUBLE, &o.ratio, "0.5", "ratio" },
};
static const struct flags_spec spec = { "dcos-test", "test", "MESOS_", table,
	sizeof(table) / sizeof(table[0]) };

static int
parse(int argc, char **argv, char *err)
{
	return flags_parse(&spec, argc, argv, err, 256);
}

static void
test_defaults_apply(void **state)
{
	char *argv[] = { "x" };
	char err[256];

	unsetenv("MESOS_PORT");
	assert_int_equal(parse(1, argv, err), FLAGS_OK);
	assert_string_equal(o.work_dir, "/var/lib/mesos");
	assert_int_equal(o.port, 5050);
	assert_true(o.checkpoint);
	assert_true(o.timeout == 30.0);
}

static void
test_environment_then_command_line_wins(void **state)
{
	char *argv[] = { "x", "--work_dir=/tmp/w", "--no-checkpoint" };
	char err[256];

	setenv("MESOS_PORT", "6060", 1);
	setenv("MESOS_WORK_DIR", "/env/dir", 1);
	assert_int_equal(parse(3, argv, err), FLAGS_OK);
	assert_int_equal(o.port, 6060);
	assert_string_equal(o.work_dir, "/tmp/w");
	assert_false(o.checkpoint);
	unsetenv("MESOS_PORT");
	unsetenv("MESOS_WORK_DIR");
}

static void
test_errors_name_the_flag(void **state)
{
	char err[256];
	char *unknown[] = { "x", "--nope=1" };
	char *bad_port[] = { "x", "--port=70000" };
	char *no_value[] = { "x", "--port" };
	char *positional[] = { "x", "stray" };
	char *bad_duration[] = { "x", "--offer_timeout=soon" };

	assert_int_equal(parse(2, unknown, err), FLAGS_ERROR);
	assert_string_equal(err, "unknown flag '--nope'");
	assert_int_equal(parse(2, bad_port, err), FLAGS_ERROR);
	assert_non_null(strstr(err, "--port"));
	assert_int_equal(parse(2, no_value, err), FLAGS_ERROR);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(parse(2, positional, err), FLAGS_ERROR);
	assert_int_equal(parse(2, bad_duration, err), FLAGS_ERROR);
	assert_non_null(strstr(err, "duration"));
	setenv("MESOS_COUNT", "many", 1);
	assert_int_equal(parse(1, unknown, err), FLAGS_ERROR);
	assert_non_null(strstr(err, "MESOS_COUNT"));
	unsetenv("MESOS_COUNT");
}

static void
test_help_and_version_are_recognised(void **state)
{
	char err[256];
	char *help[] = { "x", "--help" };
	char *version[] = { "x", "--version" };

	assert_int_equal(parse(2, help, err), FLAGS_HELP);
	assert_int_equal(parse(2, version, err), FLAGS_VERSION);
}

static void
test_durations(void **state)
{
	double d;

	assert_int_equal(flags_parse_duration("15secs", &d), 0);
	assert_true(d == 15);
	assert_int_equal(flags_parse_duration("5mins", &d), 0);
	assert_true(d == 300);
	assert_int_equal(flags_parse_duration("250ms", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(flags_parse_duration("2", &d), 0);
	assert_true(d == 2);
	assert_int_equal(flags_parse_duration("1hrs", &d), 0);
	assert_true(d == 3600);
	assert_int_equal(flags_parse_duration("-1secs", &d), -1);
	assert_int_equal(flags_parse_duration("5 lightyears", &d), -1);
	assert_int_equal(flags_parse_duration("", &d), -1);
}

static void
test_to_json_reports_current_values(void **state)
{
	char *argv[] = { "x", "--port=1234" };
	char err[256];
	json_t *j;

	assert_int_equal(parse(2, argv, err), FLAGS_OK);
	j = flags_to_json(&spec);
	assert_string_equal(json_string_value(json_object_get(j, "port")), "1234");
	assert_string_equal(json_string_value(json_object_get(j, "checkpoint")),
	    "true");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_apply),
		cmocka_unit_test(test_environment_then_command_line_wins),
		cmocka_unit_test(test_errors_name_the_flag),
		cmocka_unit_test(test_help_and_version_are_recognised),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_to_json_reports_current_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
