/*
 * checkpoint: what the agent writes under <work_dir>/meta so that a
 * restarted agent knows its id, its frameworks, executors, tasks and their
 * status updates. Mesos' layout down to the framework, then one directory
 * per run with as few files as possible (each new inode costs the agent on
 * a busy ext4):
 *
 *   meta/boot_id
 *   meta/slaves/latest -> <agent id>
 *   meta/slaves/<agent>/slave.info
 *   .../frameworks/<fw>/framework.info
 *   .../frameworks/<fw>/runs/<container>/run.json
 *         {"executor": ExecutorInfo, "command", "group", "container": how
 *          it was launched, "pid", "pid_start", "tasks": [TaskInfo]}
 *   .../runs/<container>/task.<task id>      a task added later (custom
 *                                            executors)
 *   .../runs/<container>/updates.<task id>   status updates (updates.c)
 *   .../runs/<container>/task.<n>.pid        written by the executor
 *   .../runs/<container>/terminated          the run is over
 *
 * Files are replaced atomically (written, renamed). Only what must survive
 * a machine crash is fsynced: the agent id and the status updates. The rest
 * describes processes that a machine crash takes with it anyway.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dcos/daemon.h"
#include "dcos/log.h"

#include "agent.h"

int
checkpoint_agent(struct agent *a, char *err, size_t errlen)
{
	char dir[PATH_MAX], f[PATH_MAX];
	json_t *info = state_agent_info(a);
	int rc;

	json_object_set_new(info, "id", mesos_id(a->id));
	if (paths_meta_agent(dir, sizeof(dir), a->f.work_dir, a->id) == -1 ||
	    daemon_mkdirs(dir, 0700, err, errlen) == -1 ||
	    paths_join(f, sizeof(f), dir, "slave.info") == -1) {
		json_decref(info);
		return -1;
	}
	rc = fs_write_json(f, info, err, errlen);
	json_decref(info);
	if (rc == 0) {
		if (snprintf(f, sizeof(f), "%s/meta/slaves/latest",
		    a->f.work_dir) >= (int)sizeof(f) ||
		    fs_symlink_replace(a->id, f) == -1) {
			snprintf(err, errlen, "cannot link %s", f);
			return -1;
		}
	}
	return rc;
}

void
checkpoint_forget_agent(struct agent *a)
{
	char f[PATH_MAX];

	snprintf(f, sizeof(f), "%s/meta/slaves/latest", a->f.work_dir);
	unlink(f);
}

int
checkpoint_framework(struct agent *a, struct framework *fw)
{
	char dir[PATH_MAX], f[PATH_MAX], err[256];

	if (paths_meta_framework(dir, sizeof(dir), a->f.work_dir, a->id,
	    fw->id) == -1 || daemon_mkdirs(dir, 0700, err, sizeof(err)) == -1 ||
	    paths_join(f, sizeof(f), dir, "framework.info") == -1 ||
	    fs_write_json(f, fw->info, err, sizeof(err)) == -1) {
		log_error("cannot checkpoint framework %s: %s", fw->id, err);
		return -1;
	}
	return 0;
}

/* Once the executor is spawned: everything needed to find it again. */
int
checkpoint_run(struct agent *a, struct executor *ex, char *err, size_t errlen)
{
	char f[PATH_MAX];
	json_t *tasks = json_array(), *v;
	struct task *t;
	int rc;

	TAILQ_FOREACH(t, &ex->queued, link)
		json_array_append(tasks, t->info);
	TAILQ_FOREACH(t, &ex->launched, link)
		json_array_append(tasks, t->info);
	v = json_pack("{s:O, s:b, s:b, s:O, s:i, s:I, s:o}", "executor", ex->info,
	    "command", ex->command, "group", ex->group, "container", ex->container,
	    "pid", (int)ex->pid, "pid_start", (json_int_t)ex->pid_start,
	    "tasks", tasks);
	if (paths_join(f, sizeof(f), ex->meta, "run.json") == -1) {
		json_decref(v);
		return -1;
	}
	rc = fs_write_json_nosync(f, v, err, errlen);
	json_decref(v);
	if (rc == -1)
		log_error("cannot checkpoint executor %s: %s; it will not be "
		    "recovered after an agent restart", ex->id, err);
	return rc;
}

/* A task given to an executor that is already running. */
int
checkpoint_task(struct agent *a, struct task *t, char *err, size_t errlen)
{
	char f[PATH_MAX];

	if (paths_task_file(f, sizeof(f), t->ex->meta, "task", t->id) == -1) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	return fs_write_json_nosync(f, t->info, err, errlen);
}

void
checkpoint_executor_done(struct agent *a, struct executor *ex)
{
	char f[PATH_MAX], text[64], err[256];

	if (ex->meta && paths_join(f, sizeof(f), ex->meta, "terminated") == 0) {
		snprintf(text, sizeof(text), "%.3f\n", ex->end_time);
		if (fs_write_file(f, text, strlen(text), err, sizeof(err)) == -1)
			log_warn("%s", err);
	}
	checkpoint_gc_executor(a, ex);
}

/* The executor's directories, sandbox and meta, age from its end. */
void
checkpoint_gc_executor(struct agent *a, struct executor *ex)
{
	char dir[PATH_MAX];

	if (paths_sandbox_runs(dir, sizeof(dir), a->f.work_dir, a->id,
	    ex->fw->id, ex->id) == 0 && ex->directory &&
	    strncmp(ex->directory, dir, strlen(dir)) == 0) {
		*strrchr(dir, '/') = '\0';
		gc_schedule(a, dir, ex->end_time);
	} else if (ex->directory) {
		gc_schedule(a, ex->directory, ex->end_time);
	}
	if (ex->meta)
		gc_schedule(a, ex->meta, ex->end_time);
}
