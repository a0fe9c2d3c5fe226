/* Unit tests for the agent's pure logic: /files path normalisation, the
 * sandbox layout and id rules, garbage collection ages, exit messages,
 * status updates, cgroup discovery from /proc text, and replaying a
 * task's status update log after a restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "../src/agent.h"

static void
test_files_paths_are_normalised_and_dotdot_refused(void **state)
{
	char out[256];

	assert_int_equal(files_normalize("/a//b/./c/", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b/c");
	assert_int_equal(files_normalize("/", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(files_normalize("/frameworks/f/../../etc", out,
	    sizeof(out)), -1);
	assert_int_equal(files_normalize("relative/path", out, sizeof(out)), -1);
	assert_int_equal(files_normalize("/a/..b/c..", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/..b/c..");
}

static void
test_sandbox_lands_in_the_mesos_layout(void **state)
{
	char p[512];

	assert_int_equal(paths_sandbox(p, sizeof(p), "/var/lib/mesos/slave",
	    "A-S0", "F-0001", "sise.1", "c1"), 0);
	assert_string_equal(p, "/var/lib/mesos/slave/slaves/A-S0/frameworks/"
	    "F-0001/executors/sise.1/runs/c1");
	assert_int_equal(paths_meta_run(p, sizeof(p), "/w", "A", "F", "C"), 0);
	assert_string_equal(p, "/w/meta/slaves/A/frameworks/F/runs/C");
	assert_int_equal(paths_task_file(p, sizeof(p), "/r", "updates", "t.1"),
	    0);
	assert_string_equal(p, "/r/updates.t.1");
	assert_int_equal(paths_sandbox(p, 20, "/var/lib/mesos/slave", "A", "F",
	    "E", "C"), -1);
}

static void
test_long_task_ids_get_hashed_file_names(void **state)
{
	char id[256], p[512], q[512];

	memset(id, 'a', 255);
	id[255] = '\0';
	assert_int_equal(paths_task_file(p, sizeof(p), "/r", "updates", id), 0);
	assert_true(strlen(strrchr(p, '/') + 1) < 255);
	id[0] = 'b';
	assert_int_equal(paths_task_file(q, sizeof(q), "/r", "updates", id), 0);
	assert_string_not_equal(p, q);
}

static void
test_ids_with_slashes_dots_or_spaces_are_refused(void **state)
{
	char err[128];

	assert_int_equal(mesos_id_valid("sise.564bd685-4c30", err, sizeof(err)),
	    0);
	assert_int_equal(mesos_id_valid("a/b", err, sizeof(err)), -1);
	assert_int_equal(mesos_id_valid("..", err, sizeof(err)), -1);
	assert_int_equal(mesos_id_valid("", err, sizeof(err)), -1);
	assert_int_equal(mesos_id_valid("a b", err, sizeof(err)), -1);
	assert_int_equal(mesos_id_valid("a\nb", err, sizeof(err)), -1);
}

static void
test_a_filling_disk_shortens_sandbox_life(void **state)
{
	/* Mesos: gc_delay * max(0, 1 - headroom - usage) */
	assert_true(gc_max_age(100, 0.1, 0.5) > 39.99 &&
	    gc_max_age(100, 0.1, 0.5) < 40.01);
	assert_true(gc_max_age(100, 0.1, 0.0) > 89.99);
	assert_true(gc_max_age(100, 0.1, 0.95) == 0);
}

static void
test_exit_messages_match_the_command_executor(void **state)
{
	char msg[128];

	status_describe_wait(0, msg, sizeof(msg));
	assert_string_equal(msg, "Command exited with status 0");
	status_describe_wait(3 << 8, msg, sizeof(msg));
	assert_string_equal(msg, "Command exited with status 3");
	status_describe_wait(9, msg, sizeof(msg));
	assert_string_equal(msg, "Command terminated with signal Killed");
	assert_true(task_state_terminal("TASK_FINISHED"));
	assert_true(task_state_terminal("TASK_GONE_BY_OPERATOR"));
	assert_false(task_state_terminal("TASK_KILLING"));
	assert_false(task_state_valid("TASK_BOGUS"));
}

static void
test_status_updates_carry_uuid_and_timestamp(void **state)
{
	json_t *s = status_new("t1", "TASK_RUNNING", "SOURCE_EXECUTOR", NULL,
	    NULL, "e1", "A-S1");
	json_t *s2 = status_new("t1", "TASK_FAILED", "SOURCE_AGENT",
	    "REASON_EXECUTOR_TERMINATED", "gone", NULL, NULL);

	assert_string_equal(mesos_id_get(s, "task_id"), "t1");
	assert_string_equal(mesos_id_get(s, "executor_id"), "e1");
	assert_string_equal(mesos_id_get(s, "agent_id"), "A-S1");
	assert_int_equal(strlen(json_string_value(json_object_get(s, "uuid"))),
	    24);
	assert_string_not_equal(json_string_value(json_object_get(s, "uuid")),
	    json_string_value(json_object_get(s2, "uuid")));
	assert_true(json_number_value(json_object_get(s, "timestamp")) > 1e9);
	assert_null(json_object_get(s, "reason"));
	assert_string_equal(json_string_value(json_object_get(s2, "reason")),
	    "REASON_EXECUTOR_TERMINATED");
	assert_null(json_object_get(s2, "executor_id"));
	json_decref(s);
	json_decref(s2);
}

static const char *hybrid_mountinfo =
    "24 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "25 24 0:23 / /sys/fs/cgroup/unified rw,relatime shared:4 - cgroup2 "
    "cgroup2 rw\n"
    "28 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup "
    "cgroup rw,cpu,cpuacct\n"
    "29 24 0:27 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
    "30 24 0:28 /docker/x /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n";

static void
test_cgroup_mounts_are_found_in_mountinfo(void **state)
{
	char mnt[256], root[256];

	assert_int_equal(cg_find_mount(hybrid_mountinfo, "memory", mnt,
	    sizeof(mnt), root, sizeof(root)), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/memory");
	assert_string_equal(root, "/docker/x");
	assert_int_equal(cg_find_mount(hybrid_mountinfo, "cpu", mnt,
	    sizeof(mnt), root, sizeof(root)), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(cg_find_mount(hybrid_mountinfo, "cpuacct", mnt,
	    sizeof(mnt), root, sizeof(root)), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(cg_find_mount(hybrid_mountinfo, "", mnt, sizeof(mnt),
	    root, sizeof(root)), 0);
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_int_equal(cg_find_mount(hybrid_mountinfo, "pids", mnt,
	    sizeof(mnt), root, sizeof(root)), -1);
}

static void
test_own_cgroup_is_read_per_controller(void **state)
{
	const char *pc = "12:pids:/\n4:memory:/docker/x/agent\n"
	    "2:cpu,cpuacct:/svc\n0::/user.slice\n";
	char p[256];

	assert_int_equal(cg_find_own(pc, "memory", p, sizeof(p)), 0);
	assert_string_equal(p, "/docker/x/agent");
	assert_int_equal(cg_find_own(pc, "cpuacct", p, sizeof(p)), 0);
	assert_string_equal(p, "/svc");
	assert_int_equal(cg_find_own(pc, "", p, sizeof(p)), 0);
	assert_string_equal(p, "/user.slice");
	assert_int_equal(cg_find_own(pc, "freezer", p, sizeof(p)), -1);
}

static void
test_replaying_updates_keeps_only_the_unacknowledged(void **state)
{
	const char *log =
	    "{\"type\":\"UPDATE\",\"update\":{\"framework_id\":{\"value\":\"F\"},"
	    "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_STARTING\","
	    "\"uuid\":\"u1\"}}}\n"
	    "{\"type\":\"UPDATE\",\"update\":{\"framework_id\":{\"value\":\"F\"},"
	    "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_RUNNING\","
	    "\"uuid\":\"u2\"}}}\n"
	    "{\"type\":\"ACK\",\"uuid\":\"u1\"}\n"
	    /* a duplicate resent by a reconnecting executor: ignored */
	    "{\"type\":\"UPDATE\",\"update\":{\"framework_id\":{\"value\":\"F\"},"
	    "\"status\":{\"task_id\":{\"value\":\"t\"},\"state\":\"TASK_STARTING\","
	    "\"uuid\":\"u1\"}}}\n"
	    "{\"type\":\"UPDATE\",\"update\":{\"framework_id\":{\"val";
	json_t *seen = json_object(), *all = json_array(), *pending;
	char st[32] = "";

	pending = updates_replay(log, strlen(log), seen, st, sizeof(st), all);
	assert_int_equal(json_array_size(pending), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(pending, 0), "status"), "uuid")), "u2");
	assert_string_equal(st, "TASK_RUNNING");
	assert_int_equal(json_array_size(all), 2);
	assert_non_null(json_object_get(seen, "u1"));
	json_decref(pending);
	json_decref(seen);
	json_decref(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_paths_are_normalised_and_dotdot_refused),
		cmocka_unit_test(test_sandbox_lands_in_the_mesos_layout),
		cmocka_unit_test(test_long_task_ids_get_hashed_file_names),
		cmocka_unit_test(test_ids_with_slashes_dots_or_spaces_are_refused),
		cmocka_unit_test(test_a_filling_disk_shortens_sandbox_life),
		cmocka_unit_test(test_exit_messages_match_the_command_executor),
		cmocka_unit_test(test_status_updates_carry_uuid_and_timestamp),
		cmocka_unit_test(test_cgroup_mounts_are_found_in_mountinfo),
		cmocka_unit_test(test_own_cgroup_is_read_per_controller),
		cmocka_unit_test(test_replaying_updates_keeps_only_the_unacknowledged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
