/*
 * agent_report: what a re-registering agent tells the master, applied to
 * the master's view (after a failover the master knows no tasks at all;
 * after a partition it knows stale ones).
 *
 *   frameworks[]  unknown ones are added as recovered (disconnected, with
 *                 their failover timeout running)
 *   executors[]   added to the agent
 *   tasks[]       created or updated with the state the agent reports
 *   tasks the master launched on this agent that the agent does not
 *   report    -> TASK_DROPPED (TASK_LOST if not PARTITION_AWARE),
 *                REASON_TASK_UNKNOWN, as Mesos does
 *   tasks and executors of frameworks this master removed are not taken
 *   back: the agent is told to shut those frameworks down
 *
 * The agent is out of the allocator meanwhile; agents_activate puts it
 * back with what it really uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

static struct framework *
framework_for(struct master *m, const char *id, const json_t *info)
{
	struct framework *fw = framework_find(m, id);
	json_t *minimal;

	if (fw)
		return fw;
	minimal = info ? NULL : json_pack("{s:s, s:s}", "name", "", "user", "");
	fw = framework_new(m, id, info ? info : minimal);
	json_decref(minimal);
	fw->recovered = true;
	log_info("framework %s (%s) recovered from agent reports; it has its "
	    "failover timeout (%gs) to re-subscribe", fw->id, fw->name,
	    fw->failover_timeout);
	framework_start_failover(fw, fw->failover_timeout);
	events_framework_added(m, fw);
	return fw;
}

static struct executor *
executor_find(struct agent *a, const struct framework *fw, const char *id)
{
	struct executor *e;

	TAILQ_FOREACH(e, &a->executors, agent_link)
		if (e->fw == fw && strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void
add_executor(struct master *m, struct agent *a, const json_t *ei,
    struct strmap *shutdown)
{
	const char *fid = channel_id_of(ei, "framework_id");
	const char *eid = channel_id_of(ei, "executor_id");
	struct framework *fw;
	struct executor *e;
	struct json_errs errs;

	if (fid == NULL || eid == NULL)
		return;
	if (framework_completed(m, fid)) {
		strmap_put(shutdown, fid, (void *)1);
		return;
	}
	fw = framework_for(m, fid, NULL);
	if (executor_find(a, fw, eid))
		return;
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->id = strdup(eid)) == NULL)
		abort();
	e->fw = fw;
	e->agent = a;
	e->info = json_deep_copy(ei);
	json_errs_init(&errs);
	if (resources_from_v1(json_object_get(ei, "resources"), "/resources",
	    &e->res, &errs) == -1)
		resources_init(&e->res);
	json_errs_free(&errs);
	TAILQ_INSERT_TAIL(&a->executors, e, agent_link);
}

static void
add_task(struct master *m, struct agent *a, const json_t *tj,
    struct strmap *seen, struct strmap *shutdown)
{
	const char *tid = channel_id_of(tj, "task_id"), *fid = channel_id_of(tj, "framework_id");
	const char *eid = channel_id_of(tj, "executor_id");
	int state = task_state_parse(json_str_or(tj, "state", ""));
	const json_t *statuses = json_object_get(tj, "statuses"), *st;
	struct framework *fw;
	struct task *t;
	char key[2 * MASTER_MAX_ID + 2];
	size_t i;

	if (tid == NULL || fid == NULL || state < 0) {
		log_warn("agent %s reported a task without task_id, framework_id "
		    "or a valid state; ignoring it", a->id);
		return;
	}
	if (framework_completed(m, fid)) {
		strmap_put(shutdown, fid, (void *)1);
		return;
	}
	fw = framework_for(m, fid, NULL);
	snprintf(key, sizeof(key), "%s\n%s", fid, tid);
	strmap_put(seen, key, (void *)1);
	t = strmap_get(fw->tasks, tid);
	if (t && t->agent != a) {
		if (t->agent)
			TAILQ_REMOVE(&t->agent->tasks, t, agent_link);
		t->agent = a;
		free(t->agent_id);
		t->agent_id = strdup(a->id);
		TAILQ_INSERT_TAIL(&a->tasks, t, agent_link);
	}
	if (t == NULL) {
		struct json_errs errs;
		const json_t *res = json_object_get(tj, "resources");
		json_t *first = json_array_get(res, 0);
		const char *role = json_str_or(json_object_get(first,
		    "allocation_info"), "role", json_str_or(tj, "role", NULL));

		t = task_new(fw, a, tid);
		t->recovered = true;
		task_set_info(t, tj);
		if (eid) {
			free(t->executor_id);
			t->executor_id = strdup(eid);
		}
		if (role) {
			free(t->role);
			t->role = strdup(role);
		}
		json_errs_init(&errs);
		if (resources_from_v1(res, "/resources", &t->res, &errs) == -1)
			resources_init(&t->res);
		json_errs_free(&errs);
		json_array_foreach(statuses, i, st)
			task_add_status(m, t, st);
		t->state = (enum task_state)state;
		t->released = task_state_terminal(t->state);
		if (!t->released)
			resources_add(&fw->used, &t->res);
		events_task_added(m, t);
	} else if (t->state != (enum task_state)state || t->unreachable) {
		bool was_unreachable = t->unreachable;

		t->unreachable = false;
		if ((st = json_array_get(statuses, json_array_size(statuses) - 1)))
			task_add_status(m, t, st);
		if (task_state_terminal((enum task_state)state) && !t->released)
			tasks_release_resources(m, t);
		t->state = (enum task_state)state;
		events_task_updated(m, t);
		if (was_unreachable && fw->connected) {
			/* the framework saw it unreachable: tell it it is back */
			json_t *sj = task_status_json(t, t->state,
			    "REASON_RECONCILIATION", "Agent re-registered",
			    "SOURCE_MASTER");
			json_t *ev = json_pack("{s:s, s:{s:o}}", "type", "UPDATE",
			    "update", "status", sj);

			framework_send(fw, ev);
			json_decref(ev);
		}
	}
	t->launched = true;
	task_touch(t);
	/* the update the agent still waits to see acknowledged: its ack must
	 * be recognized (and finishes the task when it is terminal) */
	{
		const char *su = json_str_or(tj, "status_update_uuid", NULL);
		int ss = task_state_parse(json_str_or(tj, "status_update_state",
		    ""));

		if (su && ss >= 0 && (t->unacked_uuid == NULL ||
		    strcmp(t->unacked_uuid, su) != 0)) {
			free(t->unacked);
			free(t->unacked_uuid);
			t->unacked = NULL;
			t->unacked_uuid = strdup(su);
			t->unacked_state = (enum task_state)ss;
		}
	}
	if (eid && !task_state_terminal(t->state)) {
		struct executor *e = executor_find(a, fw, eid);

		if (e)
			e->ntasks++;
	}
}

void
agent_apply_report(struct master *m, struct agent *a, const json_t *tasks,
    const json_t *executors, const json_t *frameworks,
    struct strmap *shutdown)
{
	struct strmap *seen = strmap_new();
	struct task *t, *next;
	struct executor *e;
	const json_t *v;
	size_t i;

	json_array_foreach(frameworks, i, v) {
		const char *fid = channel_id_of(v, "id");

		if (fid && !framework_completed(m, fid))
			framework_for(m, fid, v);
	}
	json_array_foreach(executors, i, v)
		add_executor(m, a, v, shutdown);
	TAILQ_FOREACH(e, &a->executors, agent_link)
		e->ntasks = 0;
	json_array_foreach(tasks, i, v)
		add_task(m, a, v, seen, shutdown);
	for (t = TAILQ_FIRST(&a->tasks); t; t = next) {
		char key[2 * MASTER_MAX_ID + 2];

		next = TAILQ_NEXT(t, agent_link);
		snprintf(key, sizeof(key), "%s\n%s", t->fw->id, t->id);
		if (strmap_get(seen, key) || !t->launched ||
		    task_state_terminal(t->state))
			continue;
		t->unreachable = false;
		task_transition(m, t, TASK_DROPPED, "REASON_TASK_UNKNOWN",
		    "Task is unknown to the agent", "SOURCE_MASTER", true);
	}
	strmap_free(seen);
	/* what the agent really uses now */
	resources_free(&a->used);
	TAILQ_FOREACH(t, &a->tasks, agent_link)
		if (!t->released)
			resources_add(&a->used, &t->res);
	TAILQ_FOREACH(e, &a->executors, agent_link)
		if (e->ntasks > 0)
			resources_add(&a->used, &e->res);
}
