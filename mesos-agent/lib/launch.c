/*
 * launch: the steps between "a fresh process" and "the task": join the
 * container's cgroups, apply rlimits, stdio into the sandbox, a session of
 * its own (so the whole task can be signalled as a group), the task's
 * user, exec. In a pid namespace the same steps run in a child of the
 * namespace's init, which the caller then is. Used by mesos-executor in
 * the child it forks for a task (no extra exec) and by mesos-containerizer
 * (what the agent runs for custom executors). The launch info is the JSON
 * described in containerizer/containerizer.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dcos/json.h"

#include "mesos_common.h"

static int
write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
redirect(const char *path, int target, char *err, size_t errlen)
{
	int fd;

	if (path == NULL)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) ==
	    -1 || dup2(fd, target) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

int
launch_setup(const json_t *info, char *err, size_t errlen)
{
	const json_t *v;
	size_t i;
	json_int_t data = json_integer_value(json_object_get(info,
	    "rlimit_data"));
	int null;

	json_array_foreach(json_object_get(info, "cgroups"), i, v)
		if (write_text(json_string_value(v), "0") == -1) {
			snprintf(err, errlen, "cannot join cgroup %s: %s",
			    json_string_value(v), strerror(errno));
			return -1;
		}
	if (data > 0) {
		struct rlimit rl = { (rlim_t)data, (rlim_t)data };

		if (setrlimit(RLIMIT_DATA, &rl) == -1) {
			snprintf(err, errlen, "cannot limit memory: %s",
			    strerror(errno));
			return -1;
		}
	}
	if (redirect(json_string_value(json_object_get(info, "stdout")), 1, err,
	    errlen) == -1 || redirect(json_string_value(json_object_get(info,
	    "stderr")), 2, err, errlen) == -1)
		return -1;
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
		dup2(null, 0);
		close(null);
	}
	return 0;
}

/* The rest, just before exec, in the process that becomes the task. */
static int
become_task(const json_t *info, char *err, size_t errlen)
{
	const char *dir = json_string_value(json_object_get(info, "working_dir"));
	const char *user = json_string_value(json_object_get(info, "user"));
	bool sw = json_is_true(json_object_get(info, "switch_user"));

	setsid();
	if (dir && chdir(dir) == -1) {
		snprintf(err, errlen, "cannot enter %s: %s", dir, strerror(errno));
		return -1;
	}
	if (sw && user && user[0] && geteuid() == 0) {
		struct passwd *pw = getpwnam(user);

		if (pw == NULL) {
			snprintf(err, errlen, "Failed to get user information for "
			    "'%s': no such user", user);
			return -1;
		}
		if (pw->pw_uid != geteuid() && (initgroups(user, pw->pw_gid) == -1 ||
		    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)) {
			snprintf(err, errlen, "Failed to switch to user '%s': %s",
			    user, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void
launch_exec(const json_t *info, char *err, size_t errlen)
{
	const json_t *argv = json_object_get(info, "argv");
	const json_t *env = json_object_get(info, "env");
	const char *path = json_string_value(json_object_get(info, "path"));
	size_t na = json_array_size(argv), ne = json_array_size(env);
	char **av = calloc(na + 1, sizeof(char *));
	char **ev = calloc(ne + 1, sizeof(char *));
	sigset_t none;

	if (av == NULL || ev == NULL)
		abort();
	if (path == NULL || na == 0) {
		snprintf(err, errlen, "launch info has no command");
		return;
	}
	for (size_t i = 0; i < na; i++)
		av[i] = (char *)json_string_value(json_array_get(argv, i));
	for (size_t i = 0; i < ne; i++)
		ev[i] = (char *)json_string_value(json_array_get(env, i));
	if (become_task(info, err, errlen) == -1)
		return;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(path, av, ev);
	snprintf(err, errlen, "Failed to execute '%s': %s", path,
	    strerror(errno));
}

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
	SIGUSR2 };

int
launch_init(const json_t *info, int status_fd)
{
	sigset_t set, none;
	pid_t child;
	int status = 0;
	bool done = false;
	char err[1024];
	siginfo_t si;

	/* our own /proc, so the task sees its own pids */
	if (unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == 0 &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1)
		fprintf(stderr, "mesos-containerizer: cannot mount /proc in the "
		    "pid namespace: %s\n", strerror(errno));
	if (launch_setup(info, err, sizeof(err)) == -1) {
		fprintf(stderr, "mesos-containerizer: %s\n", err);
		return 127;
	}
	setsid(); /* the executor signals us as a group */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((child = fork()) == -1) {
		fprintf(stderr, "mesos-containerizer: cannot fork: %s\n",
		    strerror(errno));
		return 127;
	}
	if (child == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (status_fd >= 0)
			close(status_fd);
		launch_exec(info, err, sizeof(err));
		fprintf(stderr, "mesos-containerizer: %s\n", err);
		_exit(127);
	}
	while (!done) {
		if (sigwaitinfo(&set, &si) == -1)
			continue;
		if (si.si_signo != SIGCHLD) {
			kill(-child, si.si_signo);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);

			if (p <= 0)
				break;
			if (p == child) {
				status = st;
				done = true;
			}
		}
	}
	/* the task is over: nothing else in the namespace may stay */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	if (status_fd >= 0) {
		(void)!write(status_fd, &status, sizeof(status));
		close(status_fd);
	}
	return 0;
}
