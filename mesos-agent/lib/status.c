/*
 * status: TaskStatus JSON in the v1 shapes of the reference (section 2.4),
 * the task state names, and the executor's exit messages ("Command exited
 * with status 1") as the Mesos command executor words them.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "dcos/base64.h"
#include "dcos/ids.h"
#include "mesos_common.h"

static const char *const states[] = {
	"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING",
	"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
	"TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE",
	"TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
};

static const char *const terminal[] = {
	"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR",
	"TASK_LOST", "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR",
};

bool
task_state_valid(const char *state)
{
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			return true;
	return false;
}

bool
task_state_terminal(const char *state)
{
	for (size_t i = 0; state && i < sizeof(terminal) / sizeof(terminal[0]); i++)
		if (strcmp(state, terminal[i]) == 0)
			return true;
	return false;
}

double
mesos_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
status_uuid(char *out)
{
	unsigned char b[16];

	ids_random_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	base64_encode(b, sizeof(b), out);
}

json_t *
mesos_id(const char *s)
{
	return json_pack("{s:s}", "value", s);
}

const char *
mesos_id_get(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, key),
	    "value"));
}

json_t *
status_new(const char *task_id, const char *state, const char *source,
    const char *reason, const char *message, const char *executor_id,
    const char *agent_id)
{
	char uuid[32];
	json_t *s;

	status_uuid(uuid);
	s = json_pack("{s:o, s:s, s:s, s:s, s:f}", "task_id", mesos_id(task_id),
	    "state", state, "source", source, "uuid", uuid, "timestamp",
	    mesos_now());
	if (reason)
		json_object_set_new(s, "reason", json_string(reason));
	if (message)
		json_object_set_new(s, "message", json_string(message));
	if (executor_id)
		json_object_set_new(s, "executor_id", mesos_id(executor_id));
	if (agent_id)
		json_object_set_new(s, "agent_id", mesos_id(agent_id));
	return s;
}

void
status_describe_wait(int wstatus, char *buf, size_t size)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "Command exited with status %d",
		    WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "Command terminated with signal %s",
		    strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, size, "Command ended with wait status %d", wstatus);
}
