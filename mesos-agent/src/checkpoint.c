/*
 * checkpoint: what the agent writes under <work_dir>/meta so that a
 * restarted agent knows its id, its frameworks, executors, tasks and their
 * status updates (the same layout as Mesos, JSON instead of protobuf):
 *
 *   meta/boot_id
 *   meta/slaves/latest -> <agent id>
 *   meta/slaves/<agent>/slave.info
 *   .../frameworks/<fw>/framework.info
 *   .../executors/<ex>/executor.info
 *   .../executors/<ex>/runs/latest -> <container id>
 *   .../runs/<container>/container.info        how it was launched
 *   .../runs/<container>/pids/forked.pid       "pid start-ticks"
 *   .../runs/<container>/pids/task.<n>         written by the executor
 *   .../runs/<container>/tasks/<task>/task.info
 *   .../runs/<container>/tasks/<task>/task.updates   (updates.c)
 *   .../runs/<container>/terminated            the run is over
 * Every file is replaced atomically (written, fsynced, renamed).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	    fs_mkdirs(dir, 0700, err, errlen) == -1 ||
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
	    fw->id) == -1 || fs_mkdirs(dir, 0700, err, sizeof(err)) == -1 ||
	    paths_join(f, sizeof(f), dir, "framework.info") == -1 ||
	    fs_write_json(f, fw->info, err, sizeof(err)) == -1) {
		log_error("cannot checkpoint framework %s: %s", fw->id, err);
		return -1;
	}
	return 0;
}

int
checkpoint_executor(struct agent *a, struct executor *ex, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], f[PATH_MAX];
	json_t *v;
	int rc;

	if (paths_meta_executor(dir, sizeof(dir), a->f.work_dir, a->id,
	    ex->fw->id, ex->id) == -1 ||
	    paths_join(f, sizeof(f), dir, "executor.info") == -1)
		return -1;
	v = json_pack("{s:O, s:b, s:b}", "info", ex->info, "command",
	    ex->command, "group", ex->group);
	rc = fs_write_json(f, v, err, errlen);
	json_decref(v);
	if (rc == 0 && snprintf(f, sizeof(f), "%s/runs/latest", dir) <
	    (int)sizeof(f))
		fs_symlink_replace(ex->container_id, f);
	return rc;
}

int
checkpoint_task(struct agent *a, struct task *t, char *err, size_t errlen)
{
	char dir[PATH_MAX], f[PATH_MAX];
	struct executor *ex = t->ex;

	if (paths_meta_task(dir, sizeof(dir), a->f.work_dir, a->id, ex->fw->id,
	    ex->id, ex->container_id, t->id) == -1 ||
	    fs_mkdirs(dir, 0700, err, errlen) == -1 ||
	    paths_join(f, sizeof(f), dir, "task.info") == -1)
		return -1;
	return fs_write_json(f, t->info, err, errlen);
}

int
checkpoint_pid(struct agent *a, struct executor *ex)
{
	char dir[PATH_MAX], f[PATH_MAX], text[64], err[256];

	if (paths_join(f, sizeof(f), ex->meta, "container.info") == -1 ||
	    fs_write_json(f, ex->container, err, sizeof(err)) == -1)
		goto fail;
	if (paths_join(dir, sizeof(dir), ex->meta, "pids") == -1 ||
	    fs_mkdirs(dir, 0700, err, sizeof(err)) == -1 ||
	    paths_join(f, sizeof(f), dir, "forked.pid") == -1)
		goto fail;
	snprintf(text, sizeof(text), "%d %llu\n", (int)ex->pid, ex->pid_start);
	if (fs_write_atomic(f, text, strlen(text), err, sizeof(err)) == -1)
		goto fail;
	return 0;
fail:
	log_error("cannot checkpoint executor %s: %s; it will not be recovered "
	    "after an agent restart", ex->id, err);
	return -1;
}

void
checkpoint_executor_done(struct agent *a, struct executor *ex)
{
	char f[PATH_MAX], text[64], err[256];

	if (ex->meta && paths_join(f, sizeof(f), ex->meta, "terminated") == 0) {
		snprintf(text, sizeof(text), "%.3f\n", ex->end_time);
		if (fs_write_atomic(f, text, strlen(text), err, sizeof(err)) == -1)
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
	if (paths_meta_executor(dir, sizeof(dir), a->f.work_dir, a->id,
	    ex->fw->id, ex->id) == 0)
		gc_schedule(a, dir, ex->end_time);
}
