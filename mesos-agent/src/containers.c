/*
 * containers: starting an executor and noticing when it ends.
 *
 * The agent never forks from its loop: it posix_spawns the executor
 * (mesos-executor for command tasks and task groups; mesos-containerizer
 * wrapping a custom executor's command) in its own session, so executors
 * outlive an agent restart, with default signal dispositions, stdout and
 * stderr in the sandbox and no inherited descriptors. The end of a process
 * is seen through a pidfd (or by polling its /proc entry where pidfds are
 * missing), which works for recovered executors that are not our children.
 *
 * Destroying a container kills the executor's process group, the task
 * process groups the executor recorded in the run's meta directory
 * (task.<n>.pid), and every process left in the container's cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include <event2/event.h>

#include "dcos/log.h"

#include "agent.h"

extern char **environ;

struct envb {
	char **v;
	size_t n, cap;
};

static void
env_set(struct envb *e, const char *name, const char *value)
{
	size_t nl = strlen(name);
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		abort();
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->v[i], name, nl) == 0 && e->v[i][nl] == '=') {
			free(e->v[i]);
			e->v[i] = kv;
			return;
		}
	if (e->n + 2 > e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		if ((e->v = realloc(e->v, e->cap * sizeof(char *))) == NULL)
			abort();
	}
	e->v[e->n++] = kv;
	e->v[e->n] = NULL;
}

static void
env_free(struct envb *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* What the agent does not pass on: its own Mesos flags and systemd's
 * per-service variables. */
static bool
env_private(const char *kv)
{
	static const char *const prefixes[] = { "MESOS_", "LIBPROCESS_",
		"NOTIFY_SOCKET=", "JOURNAL_STREAM=", "LISTEN_", "WATCHDOG_",
		"INVOCATION_ID=" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void
secs_text(char *buf, size_t size, double secs)
{
	snprintf(buf, size, "%gsecs", secs);
}

static void
executor_env(struct agent *a, struct executor *ex, struct envb *e)
{
	char buf[PATH_MAX];
	const char *k;
	json_t *v;
	bool checkpoint = json_is_true(json_object_get(ex->fw->info,
	    "checkpoint"));
	const json_t *vars = json_object_get(json_object_get(json_object_get(
	    ex->info, "command"), "environment"), "variables");
	size_t i;

	if (a->exec_env) {
		json_object_foreach(a->exec_env, k, v)
			env_set(e, k, json_string_value(v));
	} else {
		for (char **p = environ; *p; p++) {
			char *eq = strchr(*p, '=');
			char name[256];

			if (eq == NULL || env_private(*p) ||
			    (size_t)(eq - *p) >= sizeof(name))
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *p), *p);
			env_set(e, name, eq + 1);
		}
	}
	if (!ex->command && !ex->group) {
		json_array_foreach(vars, i, v) {
			const char *n = json_string_value(json_object_get(v, "name"));
			const char *val = json_string_value(json_object_get(v,
			    "value"));

			if (n && val)
				env_set(e, n, val);
		}
	}
	env_set(e, "MESOS_FRAMEWORK_ID", ex->fw->id);
	env_set(e, "MESOS_EXECUTOR_ID", ex->id);
	env_set(e, "MESOS_DIRECTORY", ex->directory);
	env_set(e, "MESOS_SANDBOX", ex->directory);
	env_set(e, "MESOS_AGENT_ID", a->id);
	env_set(e, "MESOS_SLAVE_ID", a->id);
	env_set(e, "MESOS_SLAVE_PID", a->pid);
	snprintf(buf, sizeof(buf), "%s:%d", a->ip, a->f.port);
	env_set(e, "MESOS_AGENT_ENDPOINT", buf);
	env_set(e, "MESOS_CHECKPOINT", checkpoint ? "1" : "0");
	secs_text(buf, sizeof(buf), a->f.executor_shutdown_grace_period);
	env_set(e, "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", buf);
	if (checkpoint) {
		secs_text(buf, sizeof(buf), a->f.recovery_timeout);
		env_set(e, "MESOS_RECOVERY_TIMEOUT", buf);
		secs_text(buf, sizeof(buf), a->f.executor_reregistration_timeout);
		env_set(e, "MESOS_SUBSCRIPTION_BACKOFF_MAX", buf);
	}
	if (ex->command)
		env_set(e, "MESOS_HTTP_COMMAND_EXECUTOR", "1");
	if (!env_private("PATH=") && getenv("PATH") == NULL)
		env_set(e, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:"
		    "/usr/bin:/sbin:/bin");
}

/* The container description both the executor and a recovering agent
 * need: cgroup bases, isolation, user. Kept in ex->container and in the
 * run's checkpoint. */
static json_t *
container_info(struct agent *a, struct executor *ex)
{
	const json_t *cmd = ex->command ? json_object_get(TAILQ_FIRST(
	    &ex->queued)->info, "command") : json_object_get(ex->info, "command");
	const char *user = json_string_value(json_object_get(cmd, "user"));

	if (user == NULL)
		user = json_string_value(json_object_get(ex->fw->info, "user"));
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:b, s:s?}",
	    "container_id", ex->container_id, "isolation", a->iso.isolation,
	    "cgroups_version", (int)a->iso.cg.version, "cgroups_mem",
	    a->iso.cg.mem, "cgroups_cpu", a->iso.cg.cpu, "cgroups_cpuacct",
	    a->iso.cg.cpuacct, "switch_user", a->f.switch_user && geteuid() == 0,
	    "cfs", a->f.cgroups_enable_cfs, "user", user);
}

void
container_cg(const json_t *container, struct cg_config *cg)
{
	memset(cg, 0, sizeof(*cg));
	cg->version = (enum cg_version)json_integer_value(json_object_get(
	    container, "cgroups_version"));
	snprintf(cg->mem, sizeof(cg->mem), "%s", json_str_or(container,
	    "cgroups_mem", ""));
	snprintf(cg->cpu, sizeof(cg->cpu), "%s", json_str_or(container,
	    "cgroups_cpu", ""));
	snprintf(cg->cpuacct, sizeof(cg->cpuacct), "%s", json_str_or(container,
	    "cgroups_cpuacct", ""));
}

/* A custom executor runs through mesos-containerizer, which needs the
 * command and the container set up by us. */
static int
custom_launch_file(struct agent *a, struct executor *ex, struct envb *env,
    char *path, size_t size, char *err, size_t errlen)
{
	const json_t *cmd = json_object_get(ex->info, "command");
	const char *value = json_string_value(json_object_get(cmd, "value"));
	bool shell = !json_is_false(json_object_get(cmd, "shell"));
	json_t *argv = json_array(), *envj = json_array(), *info, *procs;
	char files[3][PATH_MAX];
	struct cg_config cg;
	double cpus = resources_scalar(&ex->res, "cpus");
	double mem = resources_scalar(&ex->res, "mem");
	struct task *t;
	int n, rc;

	if (value == NULL) {
		snprintf(err, errlen, "executor %s has no command.value", ex->id);
		json_decref(argv);
		json_decref(envj);
		return -1;
	}
	if (shell) {
		json_array_append_new(argv, json_string("/bin/sh"));
		json_array_append_new(argv, json_string("-c"));
		json_array_append_new(argv, json_string(value));
	} else {
		const json_t *args = json_object_get(cmd, "arguments");
		const json_t *v;
		size_t i;

		json_array_foreach(args, i, v)
			json_array_append(argv, (json_t *)v);
		if (json_array_size(argv) == 0)
			json_array_append_new(argv, json_string(value));
	}
	for (size_t i = 0; i < env->n; i++)
		json_array_append_new(envj, json_string(env->v[i]));
	TAILQ_FOREACH(t, &ex->queued, link) {
		cpus += resources_scalar(&t->res, "cpus");
		mem += resources_scalar(&t->res, "mem");
	}
	container_cg(ex->container, &cg);
	procs = json_array();
	if (cg.version != CG_NONE) {
		if (cg_create(&cg, ex->container_id, cpus, mem,
		    a->f.cgroups_enable_cfs, err, errlen) == -1) {
			json_decref(argv);
			json_decref(envj);
			json_decref(procs);
			return -1;
		}
		n = cg_procs_files(&cg, ex->container_id, files, 3);
		for (int i = 0; i < n; i++)
			json_array_append_new(procs, json_string(files[i]));
	}
	info = json_pack("{s:o, s:s, s:o, s:s, s:o, s:b, s:s?, s:b, s:I}",
	    "argv", argv, "path", shell ? "/bin/sh" : value, "env", envj,
	    "working_dir", ex->directory, "cgroups", procs,
	    "pid_namespace", 0, "user", json_string_value(json_object_get(
	    ex->container, "user")), "switch_user", json_is_true(
	    json_object_get(ex->container, "switch_user")), "rlimit_data",
	    (json_int_t)(a->iso.rlimits && mem > 0 ? mem * 1024 * 1024 : 0));
	if (paths_join(path, size, ex->meta, "launch.json") == -1) {
		json_decref(info);
		return -1;
	}
	rc = fs_write_json(path, info, err, errlen);
	json_decref(info);
	return rc;
}

int
container_spawn(struct agent *a, struct executor *ex, char *err,
    size_t errlen)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t all, none;
	struct envb env = { 0 };
	char out[PATH_MAX], errf[PATH_MAX], launch[PATH_MAX];
	char *argv[16];
	char *owned[16];
	int argc = 0, nowned = 0, rc;
	pid_t pid;

	json_decref(ex->container);
	ex->container = container_info(a, ex);
	executor_env(a, ex, &env);
	if (ex->command || ex->group) {
		const char *const kv[][2] = {
			{ "container_id", ex->container_id },
			{ "isolation", a->iso.isolation },
			{ "runtime_dir", ex->meta },
			{ "containerizer", a->containerizer_bin },
			{ "cgroups_mem", a->iso.cg.mem },
			{ "cgroups_cpu", a->iso.cg.cpu },
			{ "cgroups_cpuacct", a->iso.cg.cpuacct },
			{ "log_level", a->f.log_level },
		};

		argv[argc++] = a->executor_bin;
		for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
			if (asprintf(&owned[nowned], "--%s=%s", kv[i][0],
			    kv[i][1]) < 0)
				abort();
			argv[argc++] = owned[nowned++];
		}
		if (asprintf(&owned[nowned], "--cgroups_version=%d",
		    (int)a->iso.cg.version) < 0 ||
		    asprintf(&owned[nowned + 1], "--switch_user=%s",
		    a->f.switch_user && geteuid() == 0 ? "true" : "false") < 0 ||
		    asprintf(&owned[nowned + 2], "--cgroups_enable_cfs=%s",
		    a->f.cgroups_enable_cfs ? "true" : "false") < 0)
			abort();
		for (int i = 0; i < 3; i++)
			argv[argc++] = owned[nowned++];
	} else {
		if (custom_launch_file(a, ex, &env, launch, sizeof(launch), err,
		    errlen) == -1) {
			env_free(&env);
			return -1;
		}
		argv[argc++] = a->containerizer_bin;
		if (asprintf(&owned[nowned], "--launch_info=%s", launch) < 0)
			abort();
		argv[argc++] = owned[nowned++];
	}
	argv[argc] = NULL;
	paths_join(out, sizeof(out), ex->directory, "stdout");
	paths_join(errf, sizeof(errf), ex->directory, "stderr");
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT |
	    O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, errf, O_WRONLY | O_CREAT |
	    O_APPEND, 0644);
	posix_spawn_file_actions_addchdir_np(&fa, ex->directory);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, env.v);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	env_free(&env);
	if (rc != 0) {
		snprintf(err, errlen, "Failed to launch executor: %s: %s",
		    argv[0], strerror(rc));
		return -1;
	}
	ex->pid = pid;
	ex->child = true;
	ex->pid_start = fs_proc_start_time(pid);
	if (container_watch(a, ex) == -1)
		log_warn("cannot watch executor pid %d", (int)pid);
	/* the executor has this long to subscribe */
	{
		double t = a->f.executor_registration_timeout;
		struct timeval tv = { (time_t)t, (suseconds_t)((t - (long)t) * 1e6) };

		ex->timer = evtimer_new(a->base, container_registration_timeout, ex);
		evtimer_add(ex->timer, &tv);
	}
	return 0;
}

void
container_registration_timeout(int fd, short what, void *arg)
{
	struct executor *ex = arg;

	if (ex->state != EXEC_LAUNCHING && !ex->recovered)
		return;
	log_warn("executor %s of framework %s did not %s within %gs; "
	    "destroying its container", ex->id, ex->fw->id, ex->recovered ?
	    "reconnect" : "subscribe", ex->recovered ?
	    ex->a->f.executor_reregistration_timeout :
	    ex->a->f.executor_registration_timeout);
	ex->term_reason = ex->recovered ?
	    "REASON_EXECUTOR_REREGISTRATION_TIMEOUT" :
	    "REASON_EXECUTOR_REGISTRATION_TIMEOUT";
	snprintf(ex->term_message, sizeof(ex->term_message), "Executor did "
	    "not %s within %gs", ex->recovered ? "reregister" : "register",
	    ex->recovered ? ex->a->f.executor_reregistration_timeout :
	    ex->a->f.executor_registration_timeout);
	container_destroy(ex->a, ex);
}

static void
on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct executor *ex = arg;

	if (ex->pidfd < 0) {
		/* polling: still the same live process? */
		if (fs_proc_start_time(ex->pid) == ex->pid_start &&
		    ex->pid_start != 0)
			return;
	}
	if (ex->child) {
		int st;

		if (waitpid(ex->pid, &st, WNOHANG) == ex->pid) {
			ex->wstatus = st;
			ex->exited_known = true;
		} else if (ex->pidfd >= 0) {
			return; /* spurious */
		}
	}
	container_exited(ex->a, ex);
}

int
container_watch(struct agent *a, struct executor *ex)
{
	int fd = (int)syscall(SYS_pidfd_open, ex->pid, 0);

	if (fd >= 0) {
		ex->pidfd = fd;
		ex->exit_ev = event_new(a->base, fd, EV_READ | EV_PERSIST,
		    on_exit_ev, ex);
		event_add(ex->exit_ev, NULL);
		return 0;
	}
	if (errno == ESRCH) {
		/* gone already: report it from the loop */
		ex->exit_ev = event_new(a->base, -1, 0, on_exit_ev, ex);
		event_active(ex->exit_ev, EV_TIMEOUT, 0);
		return 0;
	}
	{
		struct timeval tv = { 0, 500000 };

		ex->exit_ev = event_new(a->base, -1, EV_PERSIST, on_exit_ev, ex);
		event_add(ex->exit_ev, &tv);
	}
	return 0;
}

/* Kills the task process groups the executor recorded as "pid pgid start"
 * in <meta run>/task.<n>.pid. */
static void
kill_recorded_tasks(struct executor *ex)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;

	if (ex->meta == NULL || snprintf(dir, sizeof(dir), "%s", ex->meta) >=
	    (int)sizeof(dir) || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char f[PATH_MAX + 300], *text;
		long pid, pgid;
		unsigned long long start;
		size_t nl = strlen(de->d_name);

		if (strncmp(de->d_name, "task.", 5) != 0 || nl < 4 ||
		    strcmp(de->d_name + nl - 4, ".pid") != 0)
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, de->d_name);
		if ((text = fs_read_text(f, NULL)) == NULL)
			continue;
		if (sscanf(text, "%ld %ld %llu", &pid, &pgid, &start) == 3 &&
		    pid > 1 && pgid > 1 && fs_proc_start_time((pid_t)pid) == start) {
			kill(-(pid_t)pgid, SIGKILL);
			kill((pid_t)pid, SIGKILL);
		}
		free(text);
	}
	closedir(d);
}

void
container_destroy(struct agent *a, struct executor *ex)
{
	struct cg_config cg;

	log_info("destroying container %s of executor %s", ex->container_id,
	    ex->id);
	kill_recorded_tasks(ex);
	container_cg(ex->container, &cg);
	cg_kill_all(&cg, ex->container_id, SIGKILL);
	if (ex->pid > 1 && ex->pid_start != 0 &&
	    fs_proc_start_time(ex->pid) == ex->pid_start) {
		kill(-ex->pid, SIGKILL);
		kill(ex->pid, SIGKILL);
		return; /* its exit event finishes the job */
	}
	container_exited(a, ex);
}

void
container_exited(struct agent *a, struct executor *ex)
{
	struct task *t, *next;
	struct cg_config cg;
	char msg[256];

	if (ex->state == EXEC_TERMINATED)
		return;
	if (ex->exit_ev) {
		event_free(ex->exit_ev);
		ex->exit_ev = NULL;
	}
	if (ex->pidfd >= 0) {
		close(ex->pidfd);
		ex->pidfd = -1;
	}
	if (ex->timer) {
		event_free(ex->timer);
		ex->timer = NULL;
	}
	if (ex->exited_known)
		status_describe_wait(ex->wstatus, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "Executor exited");
	log_info("executor %s of framework %s (pid %d) is gone: %s", ex->id,
	    ex->fw->id, (int)ex->pid, msg);
	ex->state = EXEC_TERMINATED;
	ex->end_time = mesos_now();
	/* nothing of the container may outlive its executor (one that ended
	 * cleanly has removed its cgroups itself) */
	kill_recorded_tasks(ex);
	container_cg(ex->container, &cg);
	if (!ex->exited_known || !WIFEXITED(ex->wstatus) ||
	    WEXITSTATUS(ex->wstatus) != 0 || (!ex->command && !ex->group))
		cg_destroy(&cg, ex->container_id);
	executor_stream_close(ex);
	if (ex->term_message[0] == '\0')
		snprintf(ex->term_message, sizeof(ex->term_message),
		    "Executor terminated: %s", msg);
	TAILQ_FOREACH_SAFE(t, &ex->launched, link, next)
		updates_synthesize(a, ex->fw->id, ex, t, t->id, t->killing ?
		    "TASK_KILLED" : "TASK_FAILED", ex->term_reason ?
		    ex->term_reason : "REASON_EXECUTOR_TERMINATED",
		    ex->term_message);
	TAILQ_FOREACH_SAFE(t, &ex->queued, link, next)
		updates_synthesize(a, ex->fw->id, ex, t, t->id, t->killing ?
		    "TASK_KILLED" : "TASK_FAILED", ex->term_reason ?
		    ex->term_reason : "REASON_EXECUTOR_TERMINATED",
		    ex->term_message);
	if (ex->recovered) {
		ex->recovered = false;
		recover_executor_done(a, ex);
	}
	executor_maybe_complete(ex);
	agent_check_stopped(a);
}
