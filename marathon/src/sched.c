/*
 * sched: what happens on scheduler events: offers become launches (or
 * declines), status updates move instances through their states (and
 * out, with a backoff for unexpected ends), unknown tasks are killed, and
 * the task set is reconciled with the master after (re)subscribing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"
#include "dcos/offer.h"
#include "dcos/store.h"

#include "marathon.h"

static void
fid_stored(struct marathon *m, bool ok, bool current, void *arg)
{
	if (ok && current)
		log_info("framework id stored");
}

void
sched_subscribed(struct marathon *m, const char *framework_id)
{
	struct state *st = m->st;
	bool changed;

	if (st == NULL)
		return;
	changed = strcmp(st->framework_id, framework_id) != 0;
	if (changed) {
		struct store_tx *tx = persist_tx(m);

		snprintf(st->framework_id, sizeof(st->framework_id), "%s",
		    framework_id);
		tx_set_meta(tx, "framework_id", framework_id);
		persist_submit(m, tx, fid_stored, NULL);
	}
	events_publish(m, changed ? "scheduler_registered_event" :
	    "scheduler_reregistered_event", json_pack("{s:s, s:s}",
	    "frameworkId", framework_id, "master", mesos_master(st->mesos)));
	sched_reconcile(m);
	/* kills asked for while disconnected go out now */
	{
		size_t it = 0;
		void *v;

		while (strmap_next(st->instances, &it, NULL, &v)) {
			struct instance *i = v;

			if (i->kill != KILL_NONE)
				i->kill_sent = 0;
		}
	}
	mesos_revive(st->mesos);
	engine_kick(m);
}

void
sched_disconnected(struct marathon *m)
{
	if (m->st)
		events_publish(m, "scheduler_disconnected_event", json_object());
}

void
sched_error(struct marathon *m, const char *message)
{
	struct state *st = m->st;

	if (st == NULL)
		return;
	if (strstr(message, "removed") || strstr(message, "unknown framework") ||
	    strstr(message, "not registered")) {
		struct store_tx *tx = persist_tx(m);

		log_error("the master forgot framework %s (%s); registering anew",
		    st->framework_id, message);
		st->framework_id[0] = '\0';
		tx_set_meta(tx, "framework_id", "");
		persist_submit(m, tx, NULL, NULL);
	}
}

void
sched_kill(struct marathon *m, struct instance *i, enum kill_reason why)
{
	struct state *st = m->st;
	struct app_rt *rt;

	if (st == NULL || !instance_active(i))
		return;
	if (i->kill == KILL_NONE) {
		i->kill = why;
		m->killed++;
		state_touch(st, i);
	}
	i->kill_sent = clock_mono();
	rt = state_rt(st, i->app_id, false);
	sched_kill_tasks(m, i, rt && rt->app && rt->app->kill_grace >= 0 ?
	    rt->app->kill_grace : -1);
}

void
sched_kill_tasks(struct marathon *m, const struct instance *i, double grace)
{
	struct mesos *ms = m->st ? m->st->mesos : NULL;

	if (ms == NULL || !mesos_subscribed(ms))
		return;
	if (i->ntasks == 0) {
		mesos_kill(ms, i->id, i->agent_id, grace);
		return;
	}
	/* a pod instance: every container (the executor takes the group
	 * down with any of them, but each task is asked for, as Marathon
	 * does) */
	for (size_t k = 0; k < i->ntasks; k++)
		if (!task_state_terminal(i->tasks[k].state))
			mesos_kill(ms, i->tasks[k].id, i->agent_id, grace);
}

void
sched_reconcile(struct marathon *m)
{
	struct state *st = m->st;
	json_t *tasks = json_array();
	size_t it = 0;
	void *v;

	if (st == NULL || !mesos_subscribed(st->mesos))
		return;
	while (strmap_next(st->instances, &it, NULL, &v)) {
		struct instance *i = v;

		if (i->agent_id == NULL)
			continue;
		if (i->ntasks == 0)
			json_array_append_new(tasks, json_pack("{s:{s:s}, s:{s:s}}",
			    "task_id", "value", i->id, "agent_id", "value",
			    i->agent_id));
		for (size_t k = 0; k < i->ntasks; k++)
			json_array_append_new(tasks, json_pack("{s:{s:s}, s:{s:s}}",
			    "task_id", "value", i->tasks[k].id, "agent_id", "value",
			    i->agent_id));
	}
	log_info("reconciling %zu tasks with the master", json_array_size(tasks));
	if (json_array_size(tasks))
		mesos_reconcile(st->mesos, tasks);
	else
		json_decref(tasks);
	mesos_reconcile(st->mesos, json_array()); /* implicit: all the others */
}

/* --- status updates --- */

static void
record_failure(struct app_rt *rt, const struct instance *i,
    const char *task_id, const char *state, const char *message)
{
	free(rt->failure.task_id);
	free(rt->failure.message);
	free(rt->failure.state);
	free(rt->failure.host);
	free(rt->failure.agent_id);
	rt->failure.task_id = xstrdup(task_id);
	rt->failure.message = xstrdup(message ? message : "");
	rt->failure.state = xstrdup(state);
	rt->failure.host = xstrdup(i->host ? i->host : "");
	rt->failure.agent_id = xstrdup(i->agent_id ? i->agent_id : "");
	memcpy(rt->failure.version, i->version, sizeof(rt->failure.version));
	rt->failure.at = clock_wall();
	rt->failure.started = i->started_at ? i->started_at : i->staged_at;
}

void
sched_backoff(struct app_rt *rt)
{
	const struct app *a = rt->app;
	double next;

	if (a == NULL)
		return;
	/* failures during a delay do not stack: one step per delay */
	if (rt->delay_until > clock_mono())
		return;
	if (rt->backoff <= 0)
		next = a->backoff_seconds;
	else
		next = rt->backoff * a->backoff_factor;
	if (next > a->max_launch_delay)
		next = a->max_launch_delay;
	rt->backoff = next;
	rt->delay_until = clock_mono() + next;
	log_info("app %s: next launch delayed by %.2f s (backoff)", rt->id, next);
}

static json_t *
ips_json(const struct instance *i)
{
	json_t *a = json_array();

	for (size_t k = 0; k < i->nips; k++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "ipAddress",
		    i->ips[k], "protocol", strchr(i->ips[k], ':') ? "IPv6" : "IPv4"));
	return a;
}

static json_t *
ports_json(const int *ports, size_t n)
{
	json_t *a = json_array();

	for (size_t k = 0; k < n; k++)
		json_array_append_new(a, json_integer(ports[k]));
	return a;
}

/* status_update_event for the task (of an app, or a pod's container), and
 * instance_changed_event when the instance's condition changed. */
static void
publish_status(struct marathon *m, const struct instance *i,
    const char *task_id, const char *task_state, const char *message,
    bool changed)
{
	const struct instance_task *t = instance_task(i, task_id);

	events_publish(m, "status_update_event", json_pack("{s:s, s:s, s:s, s:s,"
	    " s:s, s:s, s:o, s:o, s:s}", "slaveId", i->agent_id ? i->agent_id : "",
	    "taskId", task_id, "taskStatus", task_state, "message", message ?
	    message : "", "appId", i->app_id, "host", i->host ? i->host : "",
	    "ipAddresses", ips_json(i), "ports", t ? ports_json(t->ports,
	    t->nports) : ports_json(i->ports, i->nports), "version",
	    i->version));
	if (changed)
		events_publish(m, "instance_changed_event", json_pack("{s:s, s:s, "
		    "s:s, s:s, s:s, s:s}", "instanceId", i->id, "condition",
		    task_state_name(i->state) + 5 /* "TASK_RUNNING" -> "RUNNING" */,
		    "runSpecId", i->app_id, "agentId", i->agent_id ? i->agent_id :
		    "", "host", i->host ? i->host : "", "runSpecVersion",
		    i->version));
}

static void
publish_health(struct marathon *m, const struct instance *i, int healthy)
{
	events_publish(m, "health_status_changed_event", json_pack(
	    "{s:s, s:s, s:s, s:b}", "appId", i->app_id, "instanceId",
	    i->id, "version", i->version, "alive", healthy));
	events_publish(m, "instance_health_changed_event", json_pack(
	    "{s:s, s:s, s:b, s:s}", "instanceId", i->id, "runSpecId",
	    i->app_id, "healthy", healthy, "runSpecVersion", i->version));
}

static void
take_ips(struct instance *i, const json_t *status)
{
	const json_t *nis = json_object_get(json_object_get(status,
	    "container_status"), "network_infos"), *ni, *ip;
	size_t k, n;

	if (!json_is_array(nis) || json_array_size(nis) == 0)
		return;
	strv_free(i->ips, i->nips);
	i->ips = NULL;
	i->nips = 0;
	json_array_foreach(nis, k, ni) {
		json_array_foreach(json_object_get(ni, "ip_addresses"), n, ip) {
			const char *addr = json_str_or(ip, "ip_address", NULL);

			if (addr == NULL)
				continue;
			i->ips = xrealloc(i->ips, (i->nips + 1) * sizeof(char *));
			i->ips[i->nips++] = xstrdup(addr);
		}
	}
}

static void
instance_ended(struct marathon *m, struct app_rt *rt, struct instance *i,
    const char *task_id, int state, const char *message)
{
	bool expected = i->kill != KILL_NONE && i->kill != KILL_UNHEALTHY;

	/* never heard of by Mesos (the launch was lost, e.g. the ACCEPT did
	 * not go out before a failover): relaunch without a penalty */
	if (!i->confirmed_before && (state == TASK_UNKNOWN ||
	    state == TASK_LOST || state == TASK_DROPPED))
		expected = true;

	if (state != TASK_FINISHED && !(state == TASK_KILLED && i->kill))
		record_failure(rt, i, task_id, task_state_name(state), message);
	if (!expected && !rt->removed)
		sched_backoff(rt);
	/* a pod instance ends with its first failed container: the rest of
	 * the group goes too (the executor does that as well) */
	sched_kill_tasks(m, i, -1);
	log_info("instance %s of %s ended: %s%s%s", i->id, i->app_id,
	    task_state_name(state), message && *message ? ": " : "",
	    message ? message : "");
	state_del_instance(m->st, i);
}

/* The instance's own fields from a status of its task (apps) or of one
 * of its containers (pods, state: the instance's from its containers). */
static void
apply_status(struct instance *i, int state, const char *message,
    const json_t *status)
{
	if (i->state != state)
		i->since = clock_wall();
	i->confirmed_before = i->confirmed;
	i->confirmed = true;
	i->state = state;
	free(i->message);
	i->message = xstrdup(message);
	take_ips(i, status);
	if (state == TASK_RUNNING && i->started_at == 0)
		i->started_at = clock_wall();
	if (state == TASK_UNREACHABLE) {
		if (i->unreachable_since == 0)
			i->unreachable_since = clock_wall();
	} else {
		i->unreachable_since = 0;
	}
}

void
sched_update(struct marathon *m, const json_t *status)
{
	struct state *st = m->st;
	const char *task_id = json_str_or(json_object_get(status, "task_id"),
	    "value", NULL);
	const char *sname = json_str_or(status, "state", "");
	const char *message = json_str_or(status, "message", NULL);
	int state = task_state_parse(sname), before, after;
	const json_t *healthy = json_object_get(status, "healthy");
	struct instance_task *t;
	struct instance *i;
	struct app_rt *rt;
	bool changed;

	if (st == NULL)
		return;
	m->status_updates++;
	mesos_ack(st->mesos, status);
	if (task_id == NULL || state < 0) {
		log_warn("ignoring a malformed status update (task %s, state %s)",
		    task_id ? task_id : "?", sname);
		return;
	}
	if ((i = state_find_task(st, task_id)) == NULL) {
		if (!task_state_terminal(state)) {
			const char *agent = json_str_or(json_object_get(status,
			    "agent_id"), "value", NULL);

			/* the rest of a pod instance that ended with its first
			 * failed container is expected; anything else is not */
			if (strstr(task_id, ".instance-"))
				log_debug("killing task %s of an ended pod instance (%s)",
				    task_id, sname);
			else
				log_warn("killing unknown task %s (%s)", task_id, sname);
			mesos_kill(st->mesos, task_id, agent, -1);
		}
		return;
	}
	rt = state_rt(st, i->app_id, true);
	if ((t = instance_task(i, task_id)) != NULL) {
		/* a pod's container: health and state are the instance's from
		 * all of its containers */
		before = instance_health(i, rt->app);
		state = pod_task_update(i, t, state, message, healthy);
		after = instance_health(i, rt->app);
	} else {
		before = i->mesos_healthy;
		after = json_is_boolean(healthy) ? json_is_true(healthy) : before;
		i->mesos_healthy = after;
	}
	changed = i->state != state || !i->confirmed;
	apply_status(i, state, message, status);
	if (after >= 0 && after != before) {
		publish_health(m, i, after);
		if (!after && rt->app && i->kill == KILL_NONE &&
		    reason_is_health(status))
			log_info("instance %s reported unhealthy by its executor (%s)",
			    i->id, task_id);
	}
	publish_status(m, i, task_id, sname, message, changed);
	rt->dirty = true;
	if (task_state_terminal(state))
		instance_ended(m, rt, i, task_id, state, message);
	else if (changed || t)
		state_touch(st, i);
	engine_kick(m);
}

bool
reason_is_health(const json_t *status)
{
	const char *r = json_str_or(status, "reason", "");

	return strcmp(r, "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED") == 0;
}
