/*
 * tasks: the life of each task in this executor.
 *
 *   LAUNCH     -> TASK_STARTING, fetch the URIs, start the process in the
 *                 container, TASK_RUNNING
 *   exit       -> TASK_FINISHED (status 0), TASK_KILLED (we were killing
 *                 it), TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY
 *                 (the kernel OOM-killed in our cgroup) or with
 *                 REASON_COMMAND_EXECUTOR_FAILED; message "Command exited
 *                 with status N" / "Command terminated with signal X"
 *   KILL       -> TASK_KILLING (frameworks with TASK_KILLING_STATE),
 *                 SIGTERM to the task's process group, SIGKILL after the
 *                 grace period (KILL's kill_policy, else the task's, else 3s)
 *   SHUTDOWN   -> kill everything, then exit
 * In a task group a task that fails or is killed takes the others down
 * with it, as Mesos' default executor does. The executor exits once every
 * task is terminal and the agent has acknowledged every update.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "dcos/daemon.h"
#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

#define DEFAULT_GRACE 3.0

bool
tasks_framework_capable(const struct executor *e, const char *cap)
{
	const json_t *c;
	size_t i;

	json_array_foreach(json_object_get(e->framework_info, "capabilities"),
	    i, c)
		if (strcmp(json_str_or(c, "type", ""), cap) == 0)
			return true;
	return false;
}

static struct etask *
find(struct executor *e, const char *id)
{
	struct etask *t;

	TAILQ_FOREACH(t, &e->tasks, link)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

void
tasks_status(struct executor *e, struct etask *t, const char *state,
    const char *reason, const char *message, json_t *extra)
{
	json_t *s = status_new(t->id, state, "SOURCE_EXECUTOR", reason, message,
	    e->f.executor_id, e->agent_id[0] ? e->agent_id : NULL);

	if (extra) {
		json_object_update(s, extra);
		json_decref(extra);
	}
	if (strcmp(state, "TASK_RUNNING") == 0 && t->pid > 0) {
		/* host networking: the task is reachable at the agent's address,
		 * where mesos-dns and Marathon look for it */
		char ip[64];
		const char *colon = strrchr(e->f.agent_endpoint, ':');

		snprintf(ip, sizeof(ip), "%.*s", colon ? (int)(colon -
		    e->f.agent_endpoint) : (int)strlen(e->f.agent_endpoint),
		    e->f.agent_endpoint);
		json_object_set_new(s, "container_status", json_pack("{s:{s:s}, "
		    "s:i, s:[{s:[{s:s, s:s}]}]}", "container_id", "value",
		    e->f.container_id, "executor_pid", (int)getpid(),
		    "network_infos", "ip_addresses", "protocol", "IPv4",
		    "ip_address", ip));
	}
	snprintf(t->state, sizeof(t->state), "%s", state);
	log_info("task %s is %s%s%s", t->id, state, message ? ": " : "",
	    message ? message : "");
	conn_send_update(e, s);
}

static bool
all_done(struct executor *e)
{
	struct etask *t;

	TAILQ_FOREACH(t, &e->tasks, link)
		if (!task_state_terminal(t->state))
			return false;
	return true;
}

static void
on_exit_timer(evutil_socket_t fd, short what, void *arg)
{
	struct executor *e = arg;

	if (json_array_size(e->unacked_updates) > 0)
		log_warn("exiting with %zu update(s) the agent never acknowledged",
		    json_array_size(e->unacked_updates));
	spawn_destroy_container(e);
	event_base_loopexit(e->base, NULL);
}

void
tasks_maybe_exit(struct executor *e)
{
	struct timeval now = { 0, 0 };

	if (e->exiting || TAILQ_EMPTY(&e->tasks) || !all_done(e))
		return;
	if (json_array_size(e->unacked_updates) > 0) {
		/* wait for the agent to take them, unless shutting down and it
		 * is gone */
		if (!e->shutting_down || e->connected || e->exit_timer)
			return;
	}
	log_info("every task is done; exiting");
	e->exiting = true;
	if (e->exit_timer == NULL)
		e->exit_timer = evtimer_new(e->base, on_exit_timer, e);
	evtimer_add(e->exit_timer, &now);
}

static void
on_fetched(struct etask *t, const char *error)
{
	struct executor *e = t->e;
	char msg[1200];

	t->fetch = NULL;
	if (error) {
		snprintf(msg, sizeof(msg), "Failed to fetch all URIs for container "
		    "'%s': %s", e->f.container_id, error);
		tasks_status(e, t, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
		    msg, NULL);
		tasks_maybe_exit(e);
		return;
	}
	if (t->killing) {
		tasks_status(e, t, "TASK_KILLED", NULL, "Killed before it started",
		    NULL);
		tasks_maybe_exit(e);
		return;
	}
	tasks_start_process(e, t);
}

void
tasks_start_process(struct executor *e, struct etask *t)
{
	char err[1024];

	if (spawn_container(e, err, sizeof(err)) == -1) {
		tasks_status(e, t, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
		    err, NULL);
		tasks_maybe_exit(e);
		return;
	}
	t->oom_base = e->cg.version != CG_NONE ?
	    cg_oom_kills(&e->cg, e->f.container_id) : -1;
	if ((t->pid = spawn_task(e, t, &t->status_fd, err, sizeof(err))) <= 0) {
		tasks_status(e, t, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
		    err, NULL);
		tasks_maybe_exit(e);
		return;
	}
	t->started = true;
	spawn_record_pid(e, t);
	log_info("forked command at %d for task %s", (int)t->pid, t->id);
	tasks_status(e, t, "TASK_RUNNING", NULL, NULL, NULL);
	health_start(e, t);
}

static void
start_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct etask *t = arg;

	if (t->killing || task_state_terminal(t->state)) {
		if (!task_state_terminal(t->state))
			tasks_status(t->e, t, "TASK_KILLED", NULL, "Killed before it "
			    "started", NULL);
		tasks_maybe_exit(t->e);
		return;
	}
	tasks_start_process(t->e, t);
}

static const char *
task_user(struct executor *e, const json_t *task)
{
	const char *u = json_string_value(json_object_get(json_object_get(task,
	    "command"), "user"));

	return u ? u : json_string_value(json_object_get(e->framework_info,
	    "user"));
}

void
tasks_launch(struct executor *e, const json_t *task, bool group)
{
	const char *id = mesos_id_get(task, "task_id");
	const json_t *uris = json_object_get(json_object_get(task, "command"),
	    "uris");
	const json_t *kp = json_object_get(json_object_get(json_object_get(task,
	    "kill_policy"), "grace_period"), "nanoseconds");
	struct etask *t;
	char err[256];

	if (id == NULL || mesos_id_valid(id, err, sizeof(err)) == -1) {
		log_warn("ignoring a LAUNCH without a valid task_id");
		return;
	}
	if (find(e, id)) {
		log_info("task %s is already here; ignoring the repeated LAUNCH",
		    id);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL || (t->id = strdup(id)) == NULL)
		abort();
	t->e = e;
	t->index = e->next_index++;
	t->info = json_deep_copy(task);
	t->status_fd = -1;
	t->group = group;
	t->grace = kp ? json_number_value(kp) / 1e9 : DEFAULT_GRACE;
	snprintf(t->state, sizeof(t->state), "TASK_STAGING");
	if (group)
		snprintf(t->sandbox, sizeof(t->sandbox), "%s/tasks/%s",
		    e->f.directory, id);
	else
		snprintf(t->sandbox, sizeof(t->sandbox), "%s", e->f.directory);
	TAILQ_INSERT_TAIL(&e->tasks, t, link);
	json_array_append(e->unacked_tasks, t->info);
	if (e->shutting_down) {
		tasks_status(e, t, "TASK_KILLED", NULL, "The executor is shutting "
		    "down", NULL);
		return;
	}
	if (group && daemon_mkdirs(t->sandbox, 0755, err, sizeof(err)) == -1) {
		tasks_status(e, t, "TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED",
		    err, NULL);
		return;
	}
	tasks_status(e, t, "TASK_STARTING", NULL, NULL, NULL);
	if (json_array_size(uris) > 0) {
		t->fetch = fetch_start(e, t, uris, e->f.switch_user ?
		    task_user(e, task) : NULL, on_fetched);
		return;
	}
	{
		/* from the loop: TASK_STARTING goes out first, and a task group
		 * is all here, so its container is sized for all of it */
		struct timeval now = { 0, 0 };

		event_base_once(e->base, -1, EV_TIMEOUT, start_deferred, t, &now);
	}
}

/* SIGTERM or SIGKILL to the task's processes. */
static void
signal_task(struct executor *e, struct etask *t, int sig)
{
	if (t->pid <= 0 || t->exited)
		return;
	/* the containerizer made the task (or its pid-1 init) a session
	 * leader; an init forwards SIGTERM, and SIGKILL ends its namespace */
	if (kill(-t->pid, sig) == -1)
		kill(t->pid, sig);
	if (sig == SIGKILL && e->cg.version != CG_NONE && !e->pid_ns)
		cg_kill_all(&e->cg, e->f.container_id, SIGKILL);
}

static void
on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct etask *t = arg;

	log_info("task %s did not stop within %gs of SIGTERM; sending SIGKILL",
	    t->id, t->grace);
	signal_task(t->e, t, SIGKILL);
}

static void
kill_task(struct executor *e, struct etask *t, double grace)
{
	struct timeval tv = { (time_t)grace,
		(suseconds_t)((grace - (long)grace) * 1e6) };

	if (task_state_terminal(t->state) || t->exited)
		return;
	if (!t->started) {
		t->killing = true;
		if (t->fetch) {
			fetch_cancel(t->fetch);
			tasks_status(e, t, "TASK_KILLED", NULL, "Killed while "
			    "fetching its URIs", NULL);
		}
		return;
	}
	if (t->killing) {
		/* a second kill may only shorten the grace period */
		if (grace < t->grace && t->kill_timer) {
			t->grace = grace;
			evtimer_add(t->kill_timer, &tv);
		}
		return;
	}
	t->killing = true;
	t->grace = grace;
	if (tasks_framework_capable(e, "TASK_KILLING_STATE"))
		tasks_status(e, t, "TASK_KILLING", NULL, NULL, NULL);
	log_info("sending SIGTERM to task %s (pid %d), SIGKILL in %gs", t->id,
	    (int)t->pid, grace);
	signal_task(e, t, grace > 0 ? SIGTERM : SIGKILL);
	t->kill_timer = evtimer_new(e->base, on_grace_over, t);
	evtimer_add(t->kill_timer, &tv);
}

void
tasks_kill(struct executor *e, const char *task_id, const json_t *kill_policy)
{
	struct etask *t = find(e, task_id);
	const json_t *ns = json_object_get(json_object_get(kill_policy,
	    "grace_period"), "nanoseconds");

	if (t == NULL) {
		log_warn("asked to kill unknown task %s", task_id);
		return;
	}
	kill_task(e, t, ns ? json_number_value(ns) / 1e9 : t->grace);
	tasks_maybe_exit(e);
}

static void
on_shutdown_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct executor *e = arg;
	struct etask *t;

	log_warn("tasks still running at the end of the shutdown grace period; "
	    "killing them");
	TAILQ_FOREACH(t, &e->tasks, link)
		signal_task(e, t, SIGKILL);
	if (!e->exiting) {
		struct timeval tv = { 1, 0 };

		if (e->exit_timer == NULL)
			e->exit_timer = evtimer_new(e->base, on_exit_timer, e);
		evtimer_add(e->exit_timer, &tv);
	}
}

void
tasks_shutdown(struct executor *e, const char *why)
{
	double g = e->f.executor_shutdown_grace_period;
	double grace = g > 2 ? g - 1 : g / 2;
	struct timeval tv = { (time_t)g, (suseconds_t)((g - (long)g) * 1e6) };
	struct etask *t;

	if (e->shutting_down)
		return;
	log_info("shutting down: %s", why);
	e->shutting_down = true;
	TAILQ_FOREACH(t, &e->tasks, link)
		kill_task(e, t, grace < t->grace ? grace : t->grace);
	e->shutdown_timer = evtimer_new(e->base, on_shutdown_deadline, e);
	evtimer_add(e->shutdown_timer, &tv);
	if (TAILQ_EMPTY(&e->tasks)) {
		struct timeval now = { 0, 0 };

		e->exiting = true;
		if (e->exit_timer == NULL)
			e->exit_timer = evtimer_new(e->base, on_exit_timer, e);
		evtimer_add(e->exit_timer, &now);
		return;
	}
	tasks_maybe_exit(e);
}

static json_t *
memory_limitation(struct executor *e, struct etask *t, char *msg, size_t size)
{
	struct cg_stats s;
	double limit = 0;
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(t->info, "resources"), i, r)
		if (strcmp(json_str_or(r, "name", ""), "mem") == 0)
			limit += json_number_value(json_object_get(json_object_get(r,
			    "scalar"), "value"));
	cg_stats(&e->cg, e->f.container_id, &s);
	snprintf(msg, size, "Memory limit exceeded: Requested: %.0fMB Maximum "
	    "Used: %.0fMB", limit, (double)s.mem_max_usage / (1024 * 1024));
	return json_pack("{s:{s:[{s:s, s:s, s:{s:f}}]}}", "limitation",
	    "resources", "name", "mem", "type", "SCALAR", "scalar", "value",
	    limit);
}

static void
task_exited(struct executor *e, struct etask *t, int wstatus)
{
	char msg[512];
	json_t *extra = NULL;
	long ooms;

	t->exited = true;
	health_stop(t);
	if (t->kill_timer) {
		event_free(t->kill_timer);
		t->kill_timer = NULL;
	}
	if (t->status_fd >= 0) {
		int real;

		if (read(t->status_fd, &real, sizeof(real)) == sizeof(real))
			wstatus = real;
		close(t->status_fd);
		t->status_fd = -1;
	}
	/* nothing of a finished task stays behind */
	kill(-t->pid, SIGKILL);
	spawn_forget_pid(e, t);
	ooms = e->cg.version != CG_NONE ? cg_oom_kills(&e->cg,
	    e->f.container_id) : -1;
	if (t->oom || (ooms > 0 && ooms > t->oom_base)) {
		extra = memory_limitation(e, t, msg, sizeof(msg));
		tasks_status(e, t, "TASK_FAILED", "REASON_CONTAINER_LIMITATION_MEMORY",
		    msg, extra);
	} else if (t->killed_by_health) {
		snprintf(msg, sizeof(msg), "Task killed after failing its health "
		    "checks");
		tasks_status(e, t, "TASK_KILLED",
		    "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", msg,
		    json_pack("{s:b}", "healthy", 0));
	} else if (t->killing) {
		status_describe_wait(wstatus, msg, sizeof(msg));
		tasks_status(e, t, "TASK_KILLED", NULL, msg, NULL);
	} else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		status_describe_wait(wstatus, msg, sizeof(msg));
		tasks_status(e, t, "TASK_FINISHED", NULL, msg, NULL);
	} else {
		status_describe_wait(wstatus, msg, sizeof(msg));
		tasks_status(e, t, "TASK_FAILED", "REASON_COMMAND_EXECUTOR_FAILED",
		    msg, NULL);
	}
	/* a task group stands or falls together */
	if (t->group && strcmp(t->state, "TASK_FINISHED") != 0) {
		struct etask *o;

		TAILQ_FOREACH(o, &e->tasks, link)
			if (o != t && o->group)
				kill_task(e, o, o->grace);
	}
	tasks_maybe_exit(e);
}

void
tasks_reap(struct executor *e)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct etask *t;

		if (fetch_reaped(e, pid, st) || health_reaped(e, pid, st))
			continue;
		TAILQ_FOREACH(t, &e->tasks, link)
			if (t->pid == pid && !t->exited) {
				task_exited(e, t, st);
				break;
			}
	}
}

void
tasks_acknowledged(struct executor *e, const char *task_id, const char *uuid)
{
	json_t *u;
	size_t i;

	json_array_foreach(e->unacked_updates, i, u)
		if (strcmp(json_str_or(json_object_get(u, "status"), "uuid", ""),
		    uuid) == 0) {
			json_array_remove(e->unacked_updates, i);
			break;
		}
	json_array_foreach(e->unacked_tasks, i, u)
		if (strcmp(mesos_id_get(u, "task_id") ? mesos_id_get(u, "task_id") :
		    "", task_id) == 0) {
			json_array_remove(e->unacked_tasks, i);
			break;
		}
	tasks_maybe_exit(e);
}

void
tasks_free(struct executor *e)
{
	struct etask *t;

	while ((t = TAILQ_FIRST(&e->tasks)) != NULL) {
		TAILQ_REMOVE(&e->tasks, t, link);
		health_stop(t);
		if (t->kill_timer)
			event_free(t->kill_timer);
		fetch_cancel(t->fetch);
		if (t->status_fd >= 0)
			close(t->status_fd);
		json_decref(t->info);
		free(t->id);
		free(t);
	}
	if (e->shutdown_timer)
		event_free(e->shutdown_timer);
	if (e->exit_timer)
		event_free(e->exit_timer);
	if (e->oom_timer)
		event_free(e->oom_timer);
	if (e->oom_ev)
		event_free(e->oom_ev);
	if (e->oom_fd >= 0)
		close(e->oom_fd);
}
