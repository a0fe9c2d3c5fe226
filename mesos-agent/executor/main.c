/*
 * mesos-executor: flags (Mesos' executor environment: MESOS_FRAMEWORK_ID,
 * MESOS_EXECUTOR_ID, MESOS_SANDBOX, MESOS_AGENT_ENDPOINT, ...; and the
 * container settings the agent passes on the command line), the loop, and
 * SIGCHLD / SIGTERM through libevent.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/flags.h"
#include "dcos/log.h"

#include "executor.h"

static void
on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	tasks_reap(arg);
}

static void
on_sigterm(evutil_socket_t fd, short what, void *arg)
{
	tasks_shutdown(arg, "received SIGTERM");
}

int
main(int argc, char **argv)
{
	static struct executor e;
	struct exec_flags *f = &e.f;
	const struct flag flags[] = {
		{ "framework_id", FLAG_STR, &f->framework_id, NULL, "framework" },
		{ "executor_id", FLAG_STR, &f->executor_id, NULL, "this executor" },
		{ "directory", FLAG_STR, &f->directory, NULL, "the sandbox" },
		{ "sandbox", FLAG_STR, &f->sandbox, NULL, "the sandbox as tasks "
		  "see it" },
		{ "agent_endpoint", FLAG_STR, &f->agent_endpoint, NULL,
		  "ip:port of the agent" },
		{ "checkpoint", FLAG_BOOL, &f->checkpoint, "false", "survive "
		  "agent restarts (the framework checkpoints)" },
		{ "recovery_timeout", FLAG_DURATION, &f->recovery_timeout,
		  "15mins", "how long to wait for a restarting agent" },
		{ "subscription_backoff_max", FLAG_DURATION,
		  &f->subscription_backoff_max, "2secs", "longest pause between "
		  "attempts to reconnect" },
		{ "executor_shutdown_grace_period", FLAG_DURATION,
		  &f->executor_shutdown_grace_period, "5secs",
		  "time to shut down when asked" },
		{ "container_id", FLAG_STR, &f->container_id, NULL, "container" },
		{ "isolation", FLAG_STR, &f->isolation, "posix/cpu,posix/mem",
		  "isolators in effect (from the agent)" },
		{ "runtime_dir", FLAG_STR, &f->runtime_dir, NULL, "the run's "
		  "checkpoint directory (task.<n>.pid files go there)" },
		{ "containerizer", FLAG_STR, &f->containerizer, NULL,
		  "path of mesos-containerizer" },
		{ "fetcher", FLAG_STR, &f->fetcher, NULL, "path of mesos-fetcher "
		  "(default: next to mesos-containerizer)" },
		{ "cgroups_version", FLAG_INT, &f->cgroups_version, "0",
		  "0 (none), 1 or 2" },
		{ "cgroups_mem", FLAG_STR, &f->cgroups_mem, "", "memory base" },
		{ "cgroups_cpu", FLAG_STR, &f->cgroups_cpu, "", "cpu base" },
		{ "cgroups_cpuacct", FLAG_STR, &f->cgroups_cpuacct, "",
		  "cpuacct base" },
		{ "cgroups_enable_cfs", FLAG_BOOL, &f->cgroups_enable_cfs, "false",
		  "hard cpu limits" },
		{ "switch_user", FLAG_BOOL, &f->switch_user, "false",
		  "run tasks as their user" },
		{ "log_level", FLAG_STR, &f->log_level, "info", "log level" },
	};
	const struct flags_spec spec = { "mesos-executor", "Mesos command and "
	    "default executor: runs tasks for the agent that started it.",
	    "MESOS_", flags, sizeof(flags) / sizeof(flags[0]) };
	int level;

	flags_parse_or_exit(&spec, argc, argv);
	level = log_level_parse(f->log_level);
	log_init("mesos-executor", level < 0 ? LOG_LVL_INFO :
	    (enum log_level)level);
	if (!f->framework_id || !f->executor_id || !f->agent_endpoint ||
	    !f->directory || !f->containerizer || !f->container_id) {
		log_error("started without MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, "
		    "MESOS_DIRECTORY, MESOS_AGENT_ENDPOINT, --containerizer or "
		    "--container_id: run by dcos-mesos-slave only");
		return 2;
	}
	if (f->fetcher == NULL) {
		static char path[PATH_MAX];
		const char *slash = strrchr(f->containerizer, '/');

		snprintf(path, sizeof(path), "%.*smesos-fetcher", slash ?
		    (int)(slash - f->containerizer + 1) : 0, f->containerizer);
		f->fetcher = path;
	}
	if ((e.base = event_base_new()) == NULL)
		abort();
	signal(SIGPIPE, SIG_IGN);
	e.sigchld = evsignal_new(e.base, SIGCHLD, on_sigchld, &e);
	e.sigterm = evsignal_new(e.base, SIGTERM, on_sigterm, &e);
	event_add(e.sigchld, NULL);
	event_add(e.sigterm, NULL);
	conn_start(&e);
	event_base_dispatch(e.base);
	conn_stop(&e);
	tasks_free(&e);
	event_free(e.sigchld);
	event_free(e.sigterm);
	event_base_free(e.base);
	return e.exit_code;
}
