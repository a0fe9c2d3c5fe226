/*
 * recover: at start, the agent reads its checkpoint (checkpoint.c) back:
 * its id, frameworks, executors and their tasks with every status update
 * not yet acknowledged. Executors still running (same pid and start time,
 * same boot) are given --executor_reregistration_timeout to subscribe
 * again; the agent re-registers with the master only after that, so the
 * master hears about every task. Executors that died meanwhile have their
 * containers cleaned up and their unfinished tasks reported failed. An
 * agent whose resources or attributes changed refuses to start (as Mesos
 * does) and says how to start afresh.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/log.h"

#include "agent.h"

/* Calls fn for each subdirectory name of dir. */
static void
each_dir(const char *dir, void (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "latest") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(p) || lstat(p, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		fn(de->d_name, arg);
	}
	closedir(d);
}

struct rctx {
	struct agent *a;
	bool rebooted;
	struct framework *fw;
};

static void
recover_task(struct rctx *c, struct executor *ex, const json_t *info)
{
	const char *tid = mesos_id_get(info, "task_id");
	char f[PATH_MAX], err[128];
	struct task *t;

	if (tid == NULL || mesos_id_valid(tid, err, sizeof(err)) == -1 ||
	    executor_task(ex, tid) != NULL)
		return;
	t = task_new(ex, tid, info, PHASE_QUEUED);
	if (paths_task_file(f, sizeof(f), ex->meta, "updates", tid) == 0)
		updates_recover(c->a, c->fw->id, tid, f, t);
	/* the executor saw it once it reported on it */
	if (t->phase == PHASE_QUEUED && strcmp(t->state, "TASK_STAGING") != 0)
		task_set_phase(t, PHASE_LAUNCHED);
}

/* Tasks given to a running executor later: task.<id> files. */
static void
recover_later_tasks(struct rctx *c, struct executor *ex)
{
	DIR *d = opendir(ex->meta);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		char f[PATH_MAX + 300], err[256];
		json_t *info;

		if (strncmp(de->d_name, "task.", 5) != 0 || (nl > 4 &&
		    strcmp(de->d_name + nl - 4, ".pid") == 0))
			continue;
		snprintf(f, sizeof(f), "%s/%s", ex->meta, de->d_name);
		if ((info = fs_read_json(f, err, sizeof(err))) == NULL) {
			log_warn("skipping a task of executor %s: %s", ex->id, err);
			continue;
		}
		recover_task(c, ex, info);
		json_decref(info);
	}
	closedir(d);
}

static void
recover_run(const char *cid, void *arg)
{
	struct rctx *c = arg;
	struct agent *a = c->a;
	char run[PATH_MAX], f[PATH_MAX], sandbox[PATH_MAX], err[256];
	struct executor *ex;
	struct stat st;
	json_t *v, *info;
	const json_t *task;
	const char *ex_id;
	size_t i;
	bool done;

	if (paths_meta_run(run, sizeof(run), a->f.work_dir, a->id, c->fw->id,
	    cid) == -1)
		return;
	paths_join(f, sizeof(f), run, "run.json");
	info = (v = fs_read_json(f, err, sizeof(err))) ?
	    json_object_get(v, "executor") : NULL;
	ex_id = mesos_id_get(info, "executor_id");
	if (ex_id == NULL || mesos_id_valid(ex_id, err, sizeof(err)) == -1 ||
	    paths_sandbox(sandbox, sizeof(sandbox), a->f.work_dir, a->id,
	    c->fw->id, ex_id, cid) == -1) {
		/* never checkpointed (the agent died while launching it): its
		 * executor, if any, is refused when it reconnects */
		log_warn("run %s of framework %s has no usable checkpoint; its "
		    "directory is left to garbage collection", cid, c->fw->id);
		gc_schedule(a, run, mesos_now());
		json_decref(v);
		return;
	}
	ex = executor_new(a, c->fw, ex_id, json_incref(info),
	    json_is_true(json_object_get(v, "command")),
	    json_is_true(json_object_get(v, "group")), cid);
	ex->directory = strdup(sandbox);
	ex->meta = strdup(run);
	ex->container = json_incref(json_object_get(v, "container"));
	ex->pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	ex->pid_start = (unsigned long long)json_integer_value(json_object_get(v,
	    "pid_start"));
	json_array_foreach(json_object_get(v, "tasks"), i, task)
		recover_task(c, ex, task);
	recover_later_tasks(c, ex);
	json_decref(v);
	paths_join(f, sizeof(f), run, "terminated");
	done = stat(f, &st) == 0;
	if (done) {
		struct task *t, *next;

		ex->state = EXEC_TERMINATED;
		ex->end_time = (double)st.st_mtime;
		for (int p = PHASE_QUEUED; p <= PHASE_TERMINATED; p++) {
			struct task_list *l = p == PHASE_QUEUED ? &ex->queued :
			    p == PHASE_LAUNCHED ? &ex->launched : &ex->terminated;

			TAILQ_FOREACH_SAFE(t, l, link, next)
				task_set_phase(t, PHASE_COMPLETED);
		}
		executor_retire(ex);
		checkpoint_gc_executor(a, ex);
		return;
	}
	ex->state = EXEC_RUNNING;
	if (!c->rebooted && ex->pid > 1 && ex->pid_start != 0 &&
	    fs_proc_start_time(ex->pid) == ex->pid_start) {
		bool checkpoint = json_is_true(json_object_get(c->fw->info,
		    "checkpoint"));
		double t = a->f.executor_reregistration_timeout;
		struct timeval tv = { (time_t)t,
			(suseconds_t)((t - (long)t) * 1e6) };

		container_watch(a, ex);
		if (strcmp(a->f.recover, "cleanup") == 0 || !checkpoint) {
			log_info("executor %s of framework %s (pid %d) is alive but "
			    "%s; killing it", ex->id, c->fw->id, (int)ex->pid,
			    checkpoint ? "--recover=cleanup" :
			    "its framework does not checkpoint");
			ex->term_reason = "REASON_EXECUTOR_TERMINATED";
			snprintf(ex->term_message, sizeof(ex->term_message),
			    "Executor killed while recovering the agent");
			ex->recover_action = RECOVER_DESTROY;
			return;
		}
		log_info("executor %s of framework %s (pid %d) survived the "
		    "restart; waiting %gs for it to reconnect", ex->id, c->fw->id,
		    (int)ex->pid, t);
		ex->recovered = true;
		a->recovering++;
		ex->timer = evtimer_new(a->base, container_registration_timeout,
		    ex);
		evtimer_add(ex->timer, &tv);
		return;
	}
	log_info("executor %s of framework %s (pid %d) ended while the agent "
	    "was down", ex->id, c->fw->id, (int)ex->pid);
	ex->term_reason = "REASON_EXECUTOR_TERMINATED";
	snprintf(ex->term_message, sizeof(ex->term_message), "Executor "
	    "terminated while the agent was down");
	ex->recover_action = RECOVER_EXITED;
}

static void
recover_framework(const char *fw_id, void *arg)
{
	struct rctx *c = arg;
	char dir[PATH_MAX], f[PATH_MAX], err[256];
	json_t *info;
	struct framework *fw;

	if (paths_meta_framework(dir, sizeof(dir), c->a->f.work_dir, c->a->id,
	    fw_id) == -1 || paths_join(f, sizeof(f), dir, "framework.info") == -1)
		return;
	if ((info = fs_read_json(f, err, sizeof(err))) == NULL) {
		log_warn("skipping framework %s: %s", fw_id, err);
		return;
	}
	fw = framework_new(fw_id, info);
	TAILQ_INSERT_TAIL(&c->a->frameworks, fw, link);
	c->fw = fw;
	snprintf(f, sizeof(f), "%s/runs", dir);
	each_dir(f, recover_run, c);
}

/* Same resources and attributes as when we registered? */
static int
compatible(struct agent *a, const json_t *old, char *err, size_t errlen)
{
	json_t *now = state_agent_info(a);
	const char *keys[] = { "resources", "attributes" };

	for (int i = 0; i < 2; i++) {
		json_t *o = json_object_get(old, keys[i]);
		json_t *n = json_object_get(now, keys[i]);

		if (json_array_size(o) == 0 && json_array_size(n) == 0)
			continue;
		if (!json_equal(o, n)) {
			snprintf(err, errlen, "Incompatible agent info detected: the "
			    "%s changed since agent %s registered. To start as a new "
			    "agent (its tasks are then lost): rm -f %s/meta/slaves/"
			    "latest and restart", keys[i], a->id, a->f.work_dir);
			json_decref(now);
			return -1;
		}
	}
	json_decref(now);
	return 0;
}

static void
gc_old_agent(const char *id, void *arg)
{
	struct agent *a = arg;
	char p[PATH_MAX];
	struct stat st;

	if (strcmp(id, a->id) == 0)
		return;
	snprintf(p, sizeof(p), "%s/slaves/%s", a->f.work_dir, id);
	if (stat(p, &st) == 0)
		gc_schedule(a, p, (double)st.st_mtime);
	snprintf(p, sizeof(p), "%s/meta/slaves/%s", a->f.work_dir, id);
	if (stat(p, &st) == 0)
		gc_schedule(a, p, (double)st.st_mtime);
}

int
recover_state(struct agent *a, char *err, size_t errlen)
{
	char meta[PATH_MAX], f[PATH_MAX], old_boot[64] = "";
	struct rctx c = { .a = a };
	struct framework *fw, *next;
	char *text;
	json_t *info;

	snprintf(meta, sizeof(meta), "%s/meta", a->f.work_dir);
	if (daemon_mkdirs(meta, 0700, err, errlen) == -1)
		return -1;
	snprintf(f, sizeof(f), "%s/boot_id", meta);
	if ((text = fs_read_text(f, NULL)) != NULL) {
		snprintf(old_boot, sizeof(old_boot), "%.*s",
		    (int)strcspn(text, "\n"), text);
		free(text);
	}
	c.rebooted = old_boot[0] && strcmp(old_boot, a->boot_id) != 0;
	if (fs_write_atomic(f, a->boot_id, strlen(a->boot_id), err, errlen) == -1)
		return -1;
	snprintf(f, sizeof(f), "%s/slaves/latest", meta);
	if (fs_readlink(f, a->id, sizeof(a->id)) == -1) {
		a->id[0] = '\0';
		log_info("no checkpointed agent in %s: starting as a new agent",
		    meta);
		return 0;
	}
	if (paths_meta_agent(f, sizeof(f), a->f.work_dir, a->id) == -1 ||
	    strlen(f) + 12 >= sizeof(f))
		return -1;
	strcat(f, "/slave.info");
	if ((info = fs_read_json(f, err, errlen)) == NULL) {
		log_warn("cannot read the checkpointed agent (%s); starting as a "
		    "new agent", err);
		a->id[0] = '\0';
		return 0;
	}
	if (compatible(a, info, err, errlen) == -1) {
		json_decref(info);
		return -1;
	}
	json_decref(info);
	log_info("recovering agent %s%s", a->id, c.rebooted ? " after a reboot: "
	    "no executor survived it" : "");
	snprintf(f, sizeof(f), "%s/slaves", meta);
	each_dir(f, gc_old_agent, a);
	snprintf(f, sizeof(f), "%s/slaves", a->f.work_dir);
	each_dir(f, gc_old_agent, a);
	if (paths_meta_framework(f, sizeof(f), a->f.work_dir, a->id, "x") == -1)
		return -1;
	*strrchr(f, '/') = '\0';
	each_dir(f, recover_framework, &c);
	/* now that everything is loaded, clean up after the dead */
	TAILQ_FOREACH_SAFE(fw, &a->frameworks, link, next) {
		struct executor *ex, *enext;

		TAILQ_FOREACH_SAFE(ex, &fw->executors, link, enext) {
			int action = ex->recover_action;

			ex->recover_action = RECOVER_NONE;
			if (action == RECOVER_EXITED)
				container_exited(a, ex);
			else if (action == RECOVER_DESTROY)
				container_destroy(a, ex);
		}
	}
	TAILQ_FOREACH_SAFE(fw, &a->frameworks, link, next)
		framework_maybe_remove(a, fw);
	log_info("recovered %d running executor(s) to wait for", a->recovering);
	return 0;
}

void
recover_executor_done(struct agent *a, struct executor *ex)
{
	if (a->recovering > 0 && --a->recovering == 0)
		master_recovered(a);
}
