/*
 * lifecycle: bringing the agent up in order (flags -> isolation probe, which
 * forks, so before any nng socket -> HTTP -> agent channel -> recovery of
 * the checkpoint -> master registration once recovered executors are back),
 * stopping on SIGTERM (executors keep running and are recovered by the next
 * agent, as in Mesos, unless --shutdown_executors_on_exit), and freeing
 * everything at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/http_server.h"
#include "dcos/ipc.h"
#include "dcos/log.h"
#include "dcos/strmap.h"

#include "agent.h"

int
agent_setup(struct agent *a, char *err, size_t errlen)
{
	struct http_server_opts opts = { .max_body = 16 << 20 };

	a->start_time = mesos_now();
	/* three descriptors per executor (its pidfd and two connections):
	 * take all the descriptors we may */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	TAILQ_INIT(&a->frameworks);
	TAILQ_INIT(&a->completed_frameworks);
	TAILQ_INIT(&a->gc);
	a->streams = strmap_new();
	a->state = AGENT_RECOVERING;
	if (config_setup(a, err, errlen) == -1 ||
	    isolation_setup(a, err, errlen) == -1)
		return -1;
	a->http = http_server_new(a->base, &opts);
	executor_api_routes(a);
	state_routes(a);
	files_routes(a);
	monitor_routes(a);
	if (http_server_listen(a->http, a->f.ip, a->f.port, err, errlen) == -1)
		return -1;
	if (channel_start(a, err, errlen) == -1 ||
	    master_start(a, err, errlen) == -1)
		return -1;
	gc_start(a);
	if (recover_state(a, err, errlen) == -1)
		return -1;
	log_info("agent serving on http://%s:%d (pid %s), channel %s, work_dir "
	    "%s", a->ip, http_server_port(a->http), a->pid, a->channel_url,
	    a->f.work_dir);
	if (a->recovering == 0)
		master_recovered(a);
	return 0;
}

static bool
any_executor_alive(struct agent *a)
{
	struct framework *fw;
	struct executor *ex;

	TAILQ_FOREACH(fw, &a->frameworks, link)
		TAILQ_FOREACH(ex, &fw->executors, link)
			if (ex->state != EXEC_TERMINATED)
				return true;
	return false;
}

static void
on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	log_warn("executors did not all stop in time; exiting anyway");
	event_base_loopexit(a->base, NULL);
}

void
agent_shutdown_all(struct agent *a, const char *why)
{
	struct framework *fw, *next;

	log_notice("shutting down every framework's executors: %s", why);
	TAILQ_FOREACH_SAFE(fw, &a->frameworks, link, next)
		launch_shutdown_framework(a, fw->id);
}

/* Called whenever an executor ends: while stopping, the last one ends the
 * loop. */
void
agent_check_stopped(struct agent *a)
{
	if (a->state == AGENT_TERMINATING && a->stop_timer &&
	    !any_executor_alive(a))
		event_base_loopexit(a->base, NULL);
}

void
agent_stop(void *arg)
{
	struct agent *a = arg;

	a->state = AGENT_TERMINATING;
	if (a->f.shutdown_executors_on_exit && any_executor_alive(a)) {
		double d = a->f.executor_shutdown_grace_period + 2;
		struct timeval dl = { (time_t)d, 0 };

		a->stop_timer = evtimer_new(a->base, on_stop_deadline, a);
		evtimer_add(a->stop_timer, &dl);
		agent_shutdown_all(a, "the agent is stopping");
		return;
	}
	log_info("stopping; executors keep running and are recovered by the "
	    "next agent");
	event_base_loopexit(a->base, NULL);
}

void
agent_teardown(struct agent *a)
{
	struct framework *fw;

	master_stop(a);
	/* streams first: their close callbacks still see the executors */
	http_server_free(a->http);
	a->http = NULL;
	ipc_close(a->channel);
	while ((fw = TAILQ_FIRST(&a->frameworks)) != NULL) {
		TAILQ_REMOVE(&a->frameworks, fw, link);
		framework_free(fw);
	}
	while ((fw = TAILQ_FIRST(&a->completed_frameworks)) != NULL) {
		TAILQ_REMOVE(&a->completed_frameworks, fw, link);
		framework_free(fw);
	}
	updates_free_all(a);
	strmap_free(a->streams);
	gc_free(a);
	if (a->stop_timer)
		event_free(a->stop_timer);
	resources_free(&a->total);
	attributes_free(&a->attrs);
	json_decref(a->exec_env);
}
