/*
 * spawn: starting a task's process in its container.
 *
 * The executor forks (or, for a pid namespace, clones with CLONE_NEWPID);
 * the child resets its signals, closes the executor's descriptors, joins
 * the cgroups, applies rlimits, redirects stdout and stderr into the
 * sandbox, switches user, starts its own session and execs the command
 * (lib/launch.c, the steps mesos-containerizer takes for custom executors;
 * the executor is single-threaded, so its child may do all that before
 * exec, and saves an exec per task). In a pid namespace the child stays as
 * the namespace's init and reports the task's wait status on a pipe.
 * Helpers (mesos-fetcher) are forked and exec'd with their input on fd 3.
 *
 * The container's cgroups are created here once, sized to the sum of the
 * executor's tasks, and watched for OOM kills (an eventfd on v1, a poll on
 * v2) so a container over its memory limit is killed as a whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

extern char **environ;

static double
task_scalar(const json_t *task, const char *name)
{
	const json_t *r;
	double v = 0;
	size_t i;

	json_array_foreach(json_object_get(task, "resources"), i, r)
		if (strcmp(json_str_or(r, "name", ""), name) == 0)
			v += json_number_value(json_object_get(json_object_get(r,
			    "scalar"), "value"));
	return v;
}

static void
on_oom(struct executor *e)
{
	struct etask *t;

	log_warn("container %s ran out of memory; killing it",
	    e->f.container_id);
	TAILQ_FOREACH(t, &e->tasks, link)
		if (t->started && !t->exited)
			t->oom = true;
	cg_kill_all(&e->cg, e->f.container_id, SIGKILL);
	TAILQ_FOREACH(t, &e->tasks, link)
		if (t->started && !t->exited)
			kill(-t->pid, SIGKILL);
}

static void
on_oom_event(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		on_oom(arg);
}

static void
on_oom_poll(evutil_socket_t fd, short what, void *arg)
{
	struct executor *e = arg;
	struct etask *t;

	TAILQ_FOREACH(t, &e->tasks, link)
		if (t->started && !t->exited && t->oom_base >= 0 &&
		    cg_oom_kills(&e->cg, e->f.container_id) > t->oom_base) {
			on_oom(e);
			return;
		}
}

int
spawn_container(struct executor *e, char *err, size_t errlen)
{
	double cpus = 0, mem = 0;
	struct etask *t;

	if (!e->cg_created) {
		e->pid_ns = strstr(e->f.isolation, "namespaces/pid") != NULL;
		e->rlimits = strstr(e->f.isolation, "posix/rlimits") != NULL;
		memset(&e->cg, 0, sizeof(e->cg));
		if (e->f.cgroups_version > 0 && strstr(e->f.isolation, "cgroups/")) {
			e->cg.version = (enum cg_version)e->f.cgroups_version;
			snprintf(e->cg.mem, sizeof(e->cg.mem), "%s", e->f.cgroups_mem);
			snprintf(e->cg.cpu, sizeof(e->cg.cpu), "%s", e->f.cgroups_cpu);
			snprintf(e->cg.cpuacct, sizeof(e->cg.cpuacct), "%s",
			    e->f.cgroups_cpuacct);
		}
	}
	if (e->cg.version == CG_NONE) {
		e->cg_created = true;
		return 0;
	}
	TAILQ_FOREACH(t, &e->tasks, link) {
		if (task_state_terminal(t->state))
			continue;
		cpus += task_scalar(t->info, "cpus");
		mem += task_scalar(t->info, "mem");
	}
	if (cg_create(&e->cg, e->f.container_id, cpus, mem,
	    e->f.cgroups_enable_cfs, err, errlen) == -1)
		return -1;
	if (!e->cg_created) {
		e->cg_created = true;
		if ((e->oom_fd = cg_oom_eventfd(&e->cg, e->f.container_id)) >= 0) {
			e->oom_ev = event_new(e->base, e->oom_fd, EV_READ | EV_PERSIST,
			    on_oom_event, e);
			event_add(e->oom_ev, NULL);
		} else {
			struct timeval tv = { 0, 500000 };

			e->oom_timer = event_new(e->base, -1, EV_PERSIST, on_oom_poll,
			    e);
			event_add(e->oom_timer, &tv);
		}
		log_info("container %s: cgroups v%d, %.2f cpus, %.0f MB",
		    e->f.container_id, e->cg.version, cpus, mem);
	}
	return 0;
}

void
spawn_destroy_container(struct executor *e)
{
	if (e->cg_created && e->cg.version != CG_NONE &&
	    cg_destroy(&e->cg, e->f.container_id) == -1)
		log_warn("cannot remove the cgroups of container %s",
		    e->f.container_id);
}

static void
env_add(json_t *env, const char *name, const char *value)
{
	size_t nl = strlen(name), i;
	json_t *v;
	char *kv;

	if (asprintf(&kv, "%s=%s", name, value) < 0)
		abort();
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);

		if (strncmp(s, name, nl) == 0 && s[nl] == '=') {
			json_array_set_new(env, i, json_string(kv));
			free(kv);
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
}

json_t *
spawn_launch_info(struct executor *e, struct etask *t, char *err,
    size_t errlen)
{
	const json_t *cmd = json_object_get(t->info, "command");
	const char *value = json_string_value(json_object_get(cmd, "value"));
	bool shell = !json_is_false(json_object_get(cmd, "shell"));
	const json_t *vars = json_object_get(json_object_get(cmd, "environment"),
	    "variables");
	json_t *argv = json_array(), *env = json_array(), *procs = json_array();
	const char *user = json_string_value(json_object_get(cmd, "user"));
	char files[3][PATH_MAX], out[PATH_MAX], errf[PATH_MAX];
	const json_t *v;
	size_t i;
	int n;

	if (value == NULL && (shell || json_array_size(json_object_get(cmd,
	    "arguments")) == 0)) {
		snprintf(err, errlen, "task %s has no command.value", t->id);
		goto fail;
	}
	if (shell) {
		json_array_append_new(argv, json_string("/bin/sh"));
		json_array_append_new(argv, json_string("-c"));
		json_array_append_new(argv, json_string(value));
	} else {
		json_array_foreach(json_object_get(cmd, "arguments"), i, v)
			if (json_is_string(v))
				json_array_append(argv, (json_t *)v);
		if (json_array_size(argv) == 0)
			json_array_append_new(argv, json_string(value));
		if (value == NULL)
			value = json_string_value(json_array_get(argv, 0));
	}
	for (char **p = environ; *p; p++)
		json_array_append_new(env, json_string(*p));
	env_add(env, "MESOS_TASK_ID", t->id);
	env_add(env, "MESOS_SANDBOX", t->sandbox);
	json_array_foreach(vars, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *val = json_string_value(json_object_get(v, "value"));
		const char *type = json_string_value(json_object_get(v, "type"));

		if (name == NULL)
			continue;
		if (type && strcmp(type, "SECRET") == 0) {
			log_warn("task %s: secret environment variable %s is not "
			    "supported; leaving it unset", t->id, name);
			continue;
		}
		env_add(env, name, val ? val : "");
	}
	n = cg_procs_files(&e->cg, e->f.container_id, files, 3);
	for (int k = 0; k < n; k++)
		json_array_append_new(procs, json_string(files[k]));
	if (user == NULL)
		user = json_string_value(json_object_get(e->framework_info, "user"));
	snprintf(out, sizeof(out), "%s/stdout", t->sandbox);
	snprintf(errf, sizeof(errf), "%s/stderr", t->sandbox);
	return json_pack("{s:o, s:s, s:o, s:s, s:s, s:s, s:o, s:b, s:s?, s:b, "
	    "s:I}", "argv", argv, "path", shell ? "/bin/sh" : value, "env", env,
	    "working_dir", t->sandbox, "stdout", out, "stderr", errf,
	    "cgroups", procs, "pid_namespace", e->pid_ns, "user", user,
	    "switch_user", e->f.switch_user, "rlimit_data", (json_int_t)(e->rlimits
	    ? task_scalar(t->info, "mem") * 1024 * 1024 : 0));
fail:
	json_decref(argv);
	json_decref(env);
	json_decref(procs);
	return NULL;
}

struct child_args {
	int info_fd, result_fd;
	const char *path;
	char *const *argv;
	struct sigaction dfl;
	sigset_t none;
};

/* Runs in the new process: async-signal-safe calls only. */
static int
child_main(void *arg)
{
	struct child_args *c = arg;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &c->dfl, NULL);
	sigprocmask(SIG_SETMASK, &c->none, NULL);
	if (dup2(c->info_fd, 3) == -1)
		_exit(127);
	if (c->result_fd >= 0 && dup2(c->result_fd, 4) == -1)
		_exit(127);
	syscall(SYS_close_range, c->result_fd >= 0 ? 5 : 4, ~0U, 0);
	execve(c->path, c->argv, environ);
	_exit(127);
}

pid_t
spawn_helper(struct executor *e, const char *path, char *const argv[],
    const char *info, bool newpid, int *result_fd, char *err, size_t errlen)
{
	int ip[2] = { -1, -1 }, rp[2] = { -1, -1 };
	struct child_args c;
	sigset_t all, old;
	size_t len = strlen(info), off = 0;
	pid_t pid;

	if (result_fd)
		*result_fd = -1;
	if (pipe2(ip, O_CLOEXEC) == -1 || (result_fd &&
	    pipe2(rp, O_CLOEXEC) == -1)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		goto fail;
	}
	memset(&c, 0, sizeof(c));
	/* keep the child's descriptors clear of 3 and 4 */
	c.info_fd = fcntl(ip[0], F_DUPFD_CLOEXEC, 10);
	c.result_fd = result_fd ? fcntl(rp[1], F_DUPFD_CLOEXEC, 10) : -1;
	c.path = path;
	c.argv = argv;
	c.dfl.sa_handler = SIG_DFL;
	sigemptyset(&c.dfl.sa_mask);
	sigemptyset(&c.none);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (newpid) {
		size_t ss = 64 * 1024;
		char *stack = malloc(ss);

		if (stack == NULL)
			abort();
		pid = clone(child_main, stack + ss, CLONE_NEWPID | SIGCHLD, &c);
		free(stack);
	} else {
		pid = fork();
		if (pid == 0)
			child_main(&c);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(c.info_fd);
	if (c.result_fd >= 0)
		close(c.result_fd);
	close(ip[0]);
	ip[0] = -1;
	if (rp[1] >= 0) {
		close(rp[1]);
		rp[1] = -1;
	}
	if (pid == -1) {
		snprintf(err, errlen, "cannot start %s: %s", path, strerror(errno));
		goto fail;
	}
	while (off < len) {
		ssize_t n = write(ip[1], info + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* it died early; its exit tells the rest */
		off += (size_t)n;
	}
	close(ip[1]);
	if (result_fd)
		*result_fd = rp[0];
	return pid;
fail:
	for (int i = 0; i < 2; i++) {
		if (ip[i] >= 0)
			close(ip[i]);
		if (rp[i] >= 0)
			close(rp[i]);
	}
	return -1;
}

struct launch_args {
	const json_t *info;
	int status_fd;
	bool init;
	struct sigaction dfl;
	sigset_t none;
};

/* The child: a copy of the (single-threaded) executor that becomes the
 * task, or its pid namespace's init. Never returns. */
static int
launch_child(void *arg)
{
	struct launch_args *c = arg;
	char err[1024];

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &c->dfl, NULL);
	sigprocmask(SIG_SETMASK, &c->none, NULL);
	/* nothing of the executor (its connections to the agent) stays */
	if (c->status_fd > 3)
		syscall(SYS_close_range, 3, c->status_fd - 1, 0);
	syscall(SYS_close_range, c->status_fd >= 3 ? c->status_fd + 1 : 3,
	    ~0U, 0);
	if (c->init) {
		/* what ps and top call the namespace's init */
		prctl(PR_SET_NAME, "mesos-init", 0, 0, 0);
		_exit(launch_init(c->info, c->status_fd));
	}
	if (launch_setup(c->info, err, sizeof(err)) == 0)
		launch_exec(c->info, err, sizeof(err));
	dprintf(2, "mesos-executor: %s\n", err);
	_exit(127);
}

pid_t
spawn_launch(struct executor *e, const json_t *info, bool newpid,
    int *status_fd, char *err, size_t errlen)
{
	int sp[2] = { -1, -1 };
	struct launch_args c;
	sigset_t all, old;
	pid_t pid;

	if (status_fd) {
		*status_fd = -1;
		if (pipe2(sp, O_CLOEXEC) == -1) {
			snprintf(err, errlen, "cannot create a pipe: %s",
			    strerror(errno));
			return -1;
		}
	}
	memset(&c, 0, sizeof(c));
	c.info = info;
	c.status_fd = sp[1];
	c.init = newpid;
	c.dfl.sa_handler = SIG_DFL;
	sigemptyset(&c.dfl.sa_mask);
	sigemptyset(&c.none);
	sigfillset(&all);
	fflush(NULL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (newpid) {
		size_t ss = 256 * 1024;
		char *stack = malloc(ss);

		if (stack == NULL)
			abort();
		pid = clone(launch_child, stack + ss, CLONE_NEWPID | SIGCHLD, &c);
		free(stack);
	} else {
		pid = fork();
		if (pid == 0)
			launch_child(&c);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (sp[1] >= 0)
		close(sp[1]);
	if (pid == -1) {
		snprintf(err, errlen, "cannot start the task's process: %s",
		    strerror(errno));
		if (sp[0] >= 0)
			close(sp[0]);
		return -1;
	}
	if (status_fd)
		*status_fd = sp[0];
	return pid;
}

pid_t
spawn_task(struct executor *e, struct etask *t, int *status_fd, char *err,
    size_t errlen)
{
	json_t *info = spawn_launch_info(e, t, err, errlen);
	pid_t pid;

	*status_fd = -1;
	if (info == NULL)
		return -1;
	pid = spawn_launch(e, info, e->pid_ns, e->pid_ns ? status_fd : NULL,
	    err, errlen);
	json_decref(info);
	return pid;
}

void
spawn_record_pid(struct executor *e, struct etask *t)
{
	char f[PATH_MAX + 32], text[96], err[256];

	if (e->f.runtime_dir == NULL)
		return;
	snprintf(f, sizeof(f), "%s/task.%d.pid", e->f.runtime_dir, t->index);
	snprintf(text, sizeof(text), "%d %d %llu\n", (int)t->pid, (int)t->pid,
	    fs_proc_start_time(t->pid));
	if (fs_write_file(f, text, strlen(text), err, sizeof(err)) == -1)
		log_warn("cannot record the pid of task %s: %s", t->id, err);
}

void
spawn_forget_pid(struct executor *e, struct etask *t)
{
	char f[PATH_MAX + 32];

	if (e->f.runtime_dir == NULL)
		return;
	snprintf(f, sizeof(f), "%s/task.%d.pid", e->f.runtime_dir, t->index);
	unlink(f);
}
