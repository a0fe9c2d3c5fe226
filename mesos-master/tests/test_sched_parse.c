/* Unit tests for sched_parse: a Call in JSON into a struct sched_call, and
 * error messages that name the bad field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../src/master.h"

static json_t *last_body; /* the call's strings point into it */

static int
parse(const char *text, struct sched_call *c, char *err, size_t errlen)
{
	json_decref(last_body);
	last_body = json_loads(text, 0, NULL);
	assert_non_null(last_body);
	return sched_parse(last_body, c, err, errlen);
}

static void
expect_error(const char *text, const char *needle)
{
	struct sched_call c;
	json_t *body = json_loads(text, 0, NULL);
	char err[512];

	assert_non_null(body);
	if (sched_parse(body, &c, err, sizeof(err)) != -1)
		fail_msg("'%s' was accepted", text);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", err, needle);
	sched_call_free(&c);
	json_decref(body);
}

static void
test_accept_with_launch_is_parsed(void **state)
{
	const char *text = "{\"type\":\"ACCEPT\",\"framework_id\":{\"value\":\"f\"},"
	    "\"accept\":{\"offer_ids\":[{\"value\":\"o1\"}],\"operations\":[{"
	    "\"type\":\"LAUNCH\",\"launch\":{\"task_infos\":[{\"name\":\"t\","
	    "\"task_id\":{\"value\":\"t1\"},\"agent_id\":{\"value\":\"a\"},"
	    "\"command\":{\"value\":\"true\"},\"resources\":[{\"name\":\"cpus\","
	    "\"type\":\"SCALAR\",\"scalar\":{\"value\":0.5}}]}]}}],"
	    "\"filters\":{\"refuse_seconds\":0}}}";
	json_t *body = json_loads(text, 0, NULL);
	struct sched_call c;
	char err[256];

	assert_int_equal(sched_parse(body, &c, err, sizeof(err)), 0);
	assert_int_equal(c.type, CALL_ACCEPT);
	assert_string_equal(c.framework_id, "f");
	assert_int_equal(c.noffer_ids, 1);
	assert_string_equal(c.offer_ids[0], "o1");
	assert_int_equal(c.nops, 1);
	assert_int_equal(c.ops[0].ntasks, 1);
	assert_string_equal(c.ops[0].tasks[0].task_id, "t1");
	assert_true(resources_scalar(&c.ops[0].tasks[0].res, "cpus") == 0.5);
	assert_true(c.refuse_seconds == 0.0);
	sched_call_free(&c);
	json_decref(body);
}

static void
test_defaults_and_nulls(void **state)
{
	struct sched_call c;
	char err[256];
	json_t *body = json_loads("{\"type\":\"DECLINE\",\"framework_id\":"
	    "{\"value\":\"f\"},\"decline\":{\"offer_ids\":[{\"value\":\"o\"}],"
	    "\"filters\":null}}", 0, NULL);

	assert_int_equal(sched_parse(body, &c, err, sizeof(err)), 0);
	assert_true(c.refuse_seconds == 5.0); /* the Mesos default */
	sched_call_free(&c);
	json_decref(body);
	assert_int_equal(parse("{\"type\":\"REVIVE\",\"framework_id\":{\"value\":"
	    "\"f\"},\"revive\":null}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nroles, 0);
	sched_call_free(&c);
	assert_int_equal(parse("{\"type\":\"RECONCILE\",\"framework_id\":"
	    "{\"value\":\"f\"},\"reconcile\":{\"tasks\":[{\"task_id\":{\"value\":"
	    "\"t\"},\"agent_id\":null}]}}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nrecon, 1);
	assert_null(c.recon[0].agent_id);
	sched_call_free(&c);
}

static void
test_errors_name_the_field(void **state)
{
	expect_error("[]", "JSON object");
	expect_error("{}", "type");
	expect_error("{\"type\":\"PAT\"}", "unknown call type 'PAT'");
	expect_error("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
	    "{\"name\":\"n\"}}}", "framework_info.user");
	expect_error("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
	    "{\"user\":\"u\",\"name\":\"n\",\"role\":\"../x\"}}}", "valid role");
	expect_error("{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":"
	    "{\"user\":\"u\",\"name\":\"n\",\"role\":\"r\",\"capabilities\":"
	    "[{\"type\":\"MULTI_ROLE\"}]}}}", "must not be set");
	expect_error("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[]}}",
	    "at least one offer");
	expect_error("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":"
	    "\"o\"}],\"operations\":[{\"type\":\"LAUNCH\",\"launch\":{"
	    "\"task_infos\":[{\"name\":\"t\",\"task_id\":{\"value\":\"t\"},"
	    "\"agent_id\":{\"value\":\"a\"},\"resources\":[{\"name\":\"cpus\","
	    "\"type\":\"SCALAR\"}]}]}}]}}",
	    "accept.operations[0].launch.task_infos[0].resources(0)");
	expect_error("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":"
	    "\"o\"}],\"operations\":[{\"type\":\"CREATE\"}]}}", "not supported");
	expect_error("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":"
	    "\"o\"}],\"filters\":{\"refuse_seconds\":-1}}}", "refuse_seconds");
	expect_error("{\"type\":\"ACKNOWLEDGE\",\"acknowledge\":{\"agent_id\":"
	    "{\"value\":\"a\"},\"task_id\":{\"value\":\"t\"},\"uuid\":\"AAAA\"}}",
	    "base64 encoded UUID");
	expect_error("{\"type\":\"KILL\",\"kill\":{\"task_id\":\"t\"}}",
	    "kill.task_id");
	expect_error("{\"type\":\"MESSAGE\",\"message\":{\"agent_id\":{\"value\":"
	    "\"a\"},\"executor_id\":{\"value\":\"e\"}}}", "message.data");
	expect_error("{\"type\":\"REVIVE\",\"framework_id\":\"f\"}",
	    "framework_id");
	expect_error("{\"type\":\"ACCEPT\",\"accept\":{\"offer_ids\":[{\"value\":"
	    "\"o\"}],\"operations\":[{\"type\":\"LAUNCH\",\"id\":{\"value\":"
	    "\"op\"},\"launch\":{\"task_infos\":[]}}]}}",
	    "accept.operations[0].id: operation feedback");
	expect_error("{\"type\":\"RECONCILE_OPERATIONS\",\"reconcile_operations"
	    "\":{\"operations\":[{\"agent_id\":{\"value\":\"a\"}}]}}",
	    "reconcile_operations.operations[0].operation_id");
	expect_error("{\"type\":\"ACKNOWLEDGE_OPERATION_STATUS\","
	    "\"acknowledge_operation_status\":{\"operation_id\":{\"value\":"
	    "\"op\"},\"uuid\":\"AAAA\"}}", "base64 encoded UUID");
	expect_error("{\"type\":\"ACKNOWLEDGE_OPERATION_STATUS\"}",
	    "acknowledge_operation_status: is required");
}

static void
test_operation_calls_are_parsed(void **state)
{
	struct sched_call c;
	char err[256];

	assert_int_equal(parse("{\"type\":\"RECONCILE_OPERATIONS\","
	    "\"framework_id\":{\"value\":\"f\"},\"reconcile_operations\":"
	    "{\"operations\":[{\"operation_id\":{\"value\":\"op1\"},"
	    "\"agent_id\":{\"value\":\"a\"}},{\"operation_id\":"
	    "{\"value\":\"op2\"}}]}}", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nrecon, 2);
	assert_string_equal(c.recon[0].id, "op1");
	assert_string_equal(c.recon[0].agent_id, "a");
	assert_null(c.recon[1].agent_id);
	sched_call_free(&c);
	assert_int_equal(parse("{\"type\":\"ACKNOWLEDGE_OPERATION_STATUS\","
	    "\"framework_id\":{\"value\":\"f\"},"
	    "\"acknowledge_operation_status\":{\"operation_id\":{\"value\":"
	    "\"op1\"},\"uuid\":\"5iRNoKd6TSiipSoPh5KxRw==\"}}", &c, err,
	    sizeof(err)), 0);
	assert_string_equal(c.task_id, "op1");
	assert_null(c.agent_id);
	sched_call_free(&c);
}

static void
test_acknowledge_accepts_a_real_uuid(void **state)
{
	struct sched_call c;
	char err[256];

	assert_int_equal(parse("{\"type\":\"ACKNOWLEDGE\",\"framework_id\":"
	    "{\"value\":\"f\"},\"acknowledge\":{\"agent_id\":{\"value\":\"a\"},"
	    "\"task_id\":{\"value\":\"t\"},\"uuid\":\"5iRNoKd6TSiipSoPh5KxRw==\"}}",
	    &c, err, sizeof(err)), 0);
	assert_string_equal(c.uuid, "5iRNoKd6TSiipSoPh5KxRw==");
	sched_call_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_with_launch_is_parsed),
		cmocka_unit_test(test_defaults_and_nulls),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_acknowledge_accepts_a_real_uuid),
		cmocka_unit_test(test_operation_calls_are_parsed),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	json_decref(last_body);
	return rc;
}
