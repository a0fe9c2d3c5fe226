/*
 * launch: what the master asks of this agent's frameworks, executors and
 * tasks (frameworks.c keeps them): run a task (command tasks get our
 * mesos-executor, task groups the same executor in group mode, tasks with
 * an ExecutorInfo their custom executor), kill a task, shut an executor or
 * a framework down, relay a framework message.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/json.h"
#include "dcos/log.h"

#include "agent.h"

/* --- launching --- */

static json_t *
command_executor_info(struct agent *a, const char *fw_id, const json_t *task)
{
	const char *tid = mesos_id_get(task, "task_id");
	const json_t *cmd = json_object_get(task, "command");
	const char *value = json_string_value(json_object_get(cmd, "value"));
	bool shell = !json_is_false(json_object_get(cmd, "shell"));
	char name[512];

	snprintf(name, sizeof(name), "Command Executor (Task: %s) (Command: %s"
	    "%.200s%s)", tid, shell ? "sh -c '" : "", value ? value : "",
	    shell ? "'" : "");
	return json_pack("{s:o, s:o, s:s, s:s, s:{s:s, s:b}, s:[]}",
	    "executor_id", mesos_id(tid), "framework_id", mesos_id(fw_id),
	    "name", name, "source", tid, "command", "value", a->executor_bin,
	    "shell", 0, "resources");
}

static int
validate_task(const json_t *task, bool in_group, char *err, size_t errlen)
{
	const char *tid = mesos_id_get(task, "task_id");
	struct resources r;
	struct json_errs e;
	char why[256];
	int rc = 0;

	if (tid == NULL || mesos_id_valid(tid, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "task_id: %s", tid ? why :
		    "missing or not {\"value\": ...}");
		return -1;
	}
	if (!in_group && !json_is_object(json_object_get(task, "command")) ==
	    !json_is_object(json_object_get(task, "executor"))) {
		snprintf(err, errlen, "task %s: exactly one of 'command' and "
		    "'executor' must be set", tid);
		return -1;
	}
	if (in_group && !json_is_object(json_object_get(task, "command"))) {
		snprintf(err, errlen, "task %s: tasks of a group need 'command'",
		    tid);
		return -1;
	}
	resources_init(&r);
	json_errs_init(&e);
	if (resources_from_v1(json_object_get(task, "resources"), "/resources",
	    &r, &e) == -1) {
		snprintf(err, errlen, "task %s: %s", tid, json_errs_first(&e, why,
		    sizeof(why)));
		rc = -1;
	}
	json_errs_free(&e);
	resources_free(&r);
	return rc;
}

/* The user a container runs as: CommandInfo.user, else FrameworkInfo.user. */
static const char *
container_user(const json_t *fw_info, const json_t *command)
{
	const char *u = json_string_value(json_object_get(command, "user"));

	return u ? u : json_string_value(json_object_get(fw_info, "user"));
}

/* Creates the sandbox (owned by the task's user when we switch users) and
 * the run's checkpoint directory. */
static int
executor_dirs(struct agent *a, struct executor *ex, const char *user,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], link[PATH_MAX], f[PATH_MAX];
	bool chown_it = a->f.switch_user && geteuid() == 0 && user && user[0] &&
	    strcmp(user, "root") != 0;
	struct passwd *pw = NULL;

	if (chown_it && (pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "Failed to create sandbox: user '%s' does "
		    "not exist on this agent", user);
		return -1;
	}
	if (paths_sandbox(dir, sizeof(dir), a->f.work_dir, a->id, ex->fw->id,
	    ex->id, ex->container_id) == -1 ||
	    daemon_mkdirs(dir, 0755, err, errlen) == -1)
		return -1;
	ex->directory = strdup(dir);
	if (paths_sandbox_runs(link, sizeof(link), a->f.work_dir, a->id,
	    ex->fw->id, ex->id) == 0 &&
	    paths_join(f, sizeof(f), link, "latest") == 0)
		fs_symlink_replace(ex->container_id, f);
	for (int i = 0; pw && i < 2; i++) {
		FILE *fp;

		/* the executor's own user writes them too */
		paths_join(f, sizeof(f), dir, i ? "stderr" : "stdout");
		if ((fp = fopen(f, "a")) != NULL)
			fclose(fp);
		(void)!chown(f, pw->pw_uid, pw->pw_gid);
	}
	if (pw && chown(dir, pw->pw_uid, pw->pw_gid) == -1) {
		snprintf(err, errlen, "Failed to chown sandbox %s to '%s': %s",
		    dir, user, strerror(errno));
		return -1;
	}
	if (paths_meta_run(dir, sizeof(dir), a->f.work_dir, a->id, ex->fw->id,
	    ex->container_id) == -1 ||
	    daemon_mkdirs(dir, 0700, err, errlen) == -1)
		return -1;
	ex->meta = strdup(dir);
	/* a new run of an executor id: its old runs are not garbage yet */
	if (paths_sandbox_runs(dir, sizeof(dir), a->f.work_dir, a->id,
	    ex->fw->id, ex->id) == 0) {
		*strrchr(dir, '/') = '\0';
		gc_unschedule(a, dir);
	}
	return 0;
}

/* Everything failed before the executor could start: every task fails. */
static void
launch_failed(struct agent *a, struct executor *ex, const char *why)
{
	struct task *t, *next;

	log_warn("cannot launch executor %s of framework %s: %s", ex->id,
	    ex->fw->id, why);
	a->metrics.launch_errors++;
	ex->state = EXEC_TERMINATED;
	ex->end_time = mesos_now();
	TAILQ_FOREACH_SAFE(t, &ex->queued, link, next)
		updates_synthesize(a, ex->fw->id, ex, t, t->id, "TASK_FAILED",
		    "REASON_CONTAINER_LAUNCH_FAILED", why);
	executor_maybe_complete(ex);
}

int
launch_task(struct agent *a, const json_t *fw_info, const json_t *task,
    const json_t *executor, const json_t *group, char *err, size_t errlen)
{
	const char *fw_id = mesos_id_get(fw_info, "id");
	const json_t *tasks[256];
	size_t ntasks = 0;
	struct framework *fw;
	struct executor *ex;
	json_t *info;
	const char *ex_id, *user;
	bool command = false;
	char why[512];

	if (group) {
		const json_t *v;
		size_t i;

		json_array_foreach(json_object_get(group, "tasks"), i, v) {
			if (ntasks == 256) {
				snprintf(err, errlen, "a task group holds at most 256 "
				    "tasks");
				return -1;
			}
			if (validate_task(v, true, err, errlen) == -1)
				return -1;
			tasks[ntasks++] = v;
		}
		info = json_deep_copy(executor);
	} else {
		if (validate_task(task, false, err, errlen) == -1)
			return -1;
		tasks[ntasks++] = task;
		command = !json_is_object(json_object_get(task, "executor"));
		info = command ? command_executor_info(a, fw_id, task) :
		    json_deep_copy(json_object_get(task, "executor"));
	}
	ex_id = mesos_id_get(info, "executor_id");
	if (ex_id == NULL || mesos_id_valid(ex_id, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "executor_id: %s", ex_id ? why : "missing");
		json_decref(info);
		return -1;
	}
	/* a task we already know: the master repeated itself */
	for (size_t i = 0; i < ntasks; i++)
		if (task_find(a, fw_id, mesos_id_get(tasks[i], "task_id"))) {
			log_info("task %s of framework %s is already known; "
			    "ignoring the repeated launch",
			    mesos_id_get(tasks[i], "task_id"), fw_id);
			json_decref(info);
			return 0;
		}
	fw = framework_add(a, fw_info);
	if (fw->terminating) {
		snprintf(err, errlen, "framework %s is shutting down", fw_id);
		json_decref(info);
		return -1;
	}
	if (!json_object_get(info, "framework_id"))
		json_object_set_new(info, "framework_id", mesos_id(fw_id));
	ex = executor_find(fw, ex_id);
	if (ex != NULL && (command || ex->state >= EXEC_TERMINATING)) {
		snprintf(err, errlen, "executor %s of framework %s is %s",
		    ex_id, fw_id, ex->state >= EXEC_TERMINATING ? "terminating" :
		    "already running");
		json_decref(info);
		return -1;
	}
	if (ex != NULL) {
		/* more tasks for a running custom executor */
		json_decref(info);
		for (size_t i = 0; i < ntasks; i++) {
			struct task *t = task_new(ex, mesos_id_get(tasks[i],
			    "task_id"), tasks[i], PHASE_QUEUED);

			checkpoint_task(a, t, why, sizeof(why));
		}
		if (ex->state == EXEC_RUNNING)
			executor_send_launch(ex);
		return 0;
	}
	ex = executor_new(a, fw, ex_id, info, command, group != NULL, NULL);
	for (size_t i = 0; i < ntasks; i++)
		task_new(ex, mesos_id_get(tasks[i], "task_id"), tasks[i],
		    PHASE_QUEUED);
	user = container_user(fw->info, command ? json_object_get(task,
	    "command") : json_object_get(info, "command"));
	if (executor_dirs(a, ex, user, why, sizeof(why)) == -1 ||
	    container_spawn(a, ex, why, sizeof(why)) == -1) {
		launch_failed(a, ex, why);
		return 0;
	}
	/* an executor the agent cannot find after a restart is refused when
	 * it reconnects, and then kills its tasks itself */
	checkpoint_run(a, ex, why, sizeof(why));
	log_info("launched executor %s of framework %s for %zu task(s) in %s "
	    "(pid %d)", ex->id, fw->id, ntasks, ex->directory, (int)ex->pid);
	return 0;
}

/* --- killing and shutting down --- */

static bool
partition_aware(const struct framework *fw)
{
	const json_t *caps = fw ? json_object_get(fw->info, "capabilities") : NULL;
	const json_t *c;
	size_t i;

	json_array_foreach(caps, i, c)
		if (json_is_string(json_object_get(c, "type")) &&
		    strcmp(json_string_value(json_object_get(c, "type")),
		    "PARTITION_AWARE") == 0)
			return true;
	return false;
}

void
launch_kill_task(struct agent *a, const char *fw_id, const char *task_id,
    const json_t *kill_policy)
{
	struct framework *fw = framework_find(a, fw_id);
	struct task *t = task_find(a, fw_id, task_id);
	struct executor *ex;

	if (t == NULL) {
		/* as Mesos: tell the framework the agent knows no such task */
		log_info("asked to kill unknown task %s of framework %s", task_id,
		    fw_id);
		updates_synthesize(a, fw_id, NULL, NULL, task_id,
		    partition_aware(fw) ? "TASK_DROPPED" : "TASK_LOST",
		    "REASON_TASK_UNKNOWN", "Cannot find task on the agent");
		return;
	}
	ex = t->ex;
	t->killing = true;
	switch (t->phase) {
	case PHASE_QUEUED:
		log_info("killing task %s of framework %s before its executor "
		    "started", task_id, fw_id);
		updates_synthesize(a, fw_id, ex, t, t->id, "TASK_KILLED",
		    "REASON_TASK_KILLED_DURING_LAUNCH",
		    "Killed before the executor started it");
		if (TAILQ_EMPTY(&ex->queued) && TAILQ_EMPTY(&ex->launched))
			launch_shutdown_executor(a, ex);
		break;
	case PHASE_LAUNCHED:
		log_info("killing task %s of framework %s", task_id, fw_id);
		json_decref(t->kill_policy);
		t->kill_policy = kill_policy ? json_deep_copy(kill_policy) : NULL;
		if (ex->stream)
			executor_send_kill(ex, t);
		else
			t->kill_pending = true;
		break;
	default:
		break; /* already terminal: its update is on its way */
	}
}

static void
on_shutdown_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;

	log_warn("executor %s of framework %s did not shut down within %gs; "
	    "killing its container", ex->id, ex->fw->id,
	    ex->a->f.executor_shutdown_grace_period);
	if (ex->term_reason == NULL)
		ex->term_reason = "REASON_EXECUTOR_TERMINATED";
	container_destroy(ex->a, ex);
}

void
launch_shutdown_executor(struct agent *a, struct executor *ex)
{
	double g = a->f.executor_shutdown_grace_period;
	struct timeval tv = { (time_t)g, (suseconds_t)((g - (long)g) * 1e6) };

	if (ex->state >= EXEC_TERMINATING)
		return;
	log_info("shutting down executor %s of framework %s", ex->id, ex->fw->id);
	ex->state = EXEC_TERMINATING;
	if (ex->stream)
		executor_send_shutdown(ex);
	else
		ex->shutdown_pending = true;
	if (ex->timer)
		event_free(ex->timer);
	ex->timer = evtimer_new(a->base, on_shutdown_deadline, ex);
	evtimer_add(ex->timer, &tv);
}

void
launch_shutdown_framework(struct agent *a, const char *fw_id)
{
	struct framework *fw = framework_find(a, fw_id);
	struct executor *ex, *next;

	if (fw == NULL)
		return;
	log_info("shutting down framework %s", fw_id);
	fw->terminating = true;
	TAILQ_FOREACH_SAFE(ex, &fw->executors, link, next) {
		if (ex->state == EXEC_TERMINATED)
			executor_maybe_complete(ex);
		else
			launch_shutdown_executor(a, ex);
	}
	if ((fw = framework_find(a, fw_id)) != NULL)
		framework_maybe_remove(a, fw);
}

void
launch_framework_message(struct agent *a, const char *fw_id,
    const char *ex_id, const char *data)
{
	struct framework *fw = framework_find(a, fw_id);
	struct executor *ex = fw ? executor_find(fw, ex_id) : NULL;

	if (ex == NULL || ex->stream == NULL) {
		log_info("dropping a message for executor %s of framework %s: it "
		    "is not subscribed", ex_id, fw_id);
		return;
	}
	executor_send(ex, json_pack("{s:s, s:{s:s}}", "type", "MESSAGE",
	    "message", "data", data));
}
