/*
 * reconcile: RECONCILE calls (and KILL of unknown tasks), answered with
 * UPDATE events carrying reason REASON_RECONCILIATION and no uuid.
 *
 * Implicit (no tasks listed): the latest state of every task the master
 * knows for the framework. Explicit, per task, as Mesos 1.5 does:
 *   known task                          -> its latest state
 *   unknown, agent still re-registering -> nothing yet (ask again later)
 *   unknown, agent unreachable          -> TASK_UNREACHABLE
 *   unknown, agent marked gone          -> TASK_GONE_BY_OPERATOR
 *   unknown, agent registered           -> TASK_GONE
 *   unknown, agent unknown              -> TASK_UNKNOWN
 * with TASK_LOST instead of the last four for frameworks that are not
 * PARTITION_AWARE. RECONCILE_OPERATIONS is answered the same way with
 * UPDATE_OPERATION_STATUS: OPERATION_RECOVERING, _UNREACHABLE,
 * _GONE_BY_OPERATOR or _UNKNOWN (no operation with an id ever runs here).
 */
#include <stdio.h>
#include <string.h>

#include "dcos/strmap.h"
#include "master.h"

static void
send(struct framework *fw, json_t *st)
{
	json_t *ev = json_pack("{s:s, s:{s:o}}", "type", "UPDATE", "update",
	    "status", st);

	framework_send(fw, ev);
	json_decref(ev);
}

static void
send_known(struct framework *fw, const struct task *t)
{
	enum task_state s = t->unreachable ? TASK_UNREACHABLE : t->state;
	json_t *st = task_status_json(t, (enum task_state)task_forward_state(fw,
	    s), "REASON_RECONCILIATION", "Reconciliation: Latest task state",
	    "SOURCE_MASTER");
	json_t *last = t->last ? json_loads(t->last, 0, NULL) : NULL;

	/* keep what the latest real status told (health, container ip) */
	if (last && task_state_parse(json_str_or(last, "state", "")) ==
	    (int)t->state) {
		const char *keys[] = { "healthy", "container_status", "labels",
			"check_status", "timestamp" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (json_object_get(last, keys[i]))
				json_object_set(st, keys[i], json_object_get(last,
				    keys[i]));
	}
	json_decref(last);
	if (t->agent == NULL && t->agent_id[0])
		json_object_set_new(st, "agent_id", v1_id(t->agent_id));
	send(fw, st);
}

static bool
any_recovering(const struct master *m)
{
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);)
		if (((struct agent *)v)->state == AGENT_RECOVERED)
			return true;
	return false;
}

/* What can be said of a task or operation the master does not know, from
 * what it knows of the agent named (or of agents still re-registering). */
enum fate { FATE_RECOVERING, FATE_GONE_BY_OPERATOR, FATE_UNREACHABLE,
	FATE_GONE, FATE_UNKNOWN };

static enum fate
unknown_fate(struct master *m, const struct reconcile_item *it)
{
	struct agent *a = agent_find(m, it->agent_id);

	if (it->agent_id && strmap_get(m->gone_agents, it->agent_id))
		return FATE_GONE_BY_OPERATOR;
	if (it->agent_id && a && a->state == AGENT_RECOVERED)
		return FATE_RECOVERING;
	if (it->agent_id && a && a->state == AGENT_UNREACHABLE)
		return FATE_UNREACHABLE;
	if (it->agent_id && a)
		return FATE_GONE;
	if (it->agent_id == NULL && any_recovering(m))
		return FATE_RECOVERING; /* it may come back with an agent */
	return FATE_UNKNOWN;
}

static void
send_unknown(struct master *m, struct framework *fw,
    const struct reconcile_item *it)
{
	const enum task_state states[] = { [FATE_GONE_BY_OPERATOR] =
	    TASK_GONE_BY_OPERATOR, [FATE_UNREACHABLE] = TASK_UNREACHABLE,
	    [FATE_GONE] = TASK_GONE, [FATE_UNKNOWN] = TASK_UNKNOWN };
	enum fate f = unknown_fate(m, it);
	json_t *st;

	if (f == FATE_RECOVERING)
		return; /* nothing yet: ask again later */
	st = json_pack("{s:o, s:s, s:s, s:s, s:s, s:f}", "task_id",
	    v1_id(it->id), "state", task_state_name(task_forward_state(fw,
	    states[f])), "source", "SOURCE_MASTER", "reason",
	    "REASON_RECONCILIATION", "message", "Reconciliation: Task is unknown",
	    "timestamp", clock_wall());
	if (it->agent_id)
		json_object_set_new(st, "agent_id", v1_id(it->agent_id));
	send(fw, st);
}

void
reconcile_tasks(struct master *m, struct framework *fw,
    const struct reconcile_item *items, size_t n)
{
	if (n == 0) {
		void *v;

		for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);)
			send_known(fw, v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct task *t = strmap_get(fw->tasks, items[i].id);

		if (t)
			send_known(fw, t);
		else
			send_unknown(m, fw, &items[i]);
	}
}

void
reconcile_operations(struct master *m, struct framework *fw,
    const struct reconcile_item *items, size_t n)
{
	const char *states[] = { [FATE_RECOVERING] = "OPERATION_RECOVERING",
	    [FATE_GONE_BY_OPERATOR] = "OPERATION_GONE_BY_OPERATOR",
	    [FATE_UNREACHABLE] = "OPERATION_UNREACHABLE",
	    [FATE_GONE] = "OPERATION_UNKNOWN", [FATE_UNKNOWN] =
	    "OPERATION_UNKNOWN" };

	/* implicit (none listed): every operation known, which is none */
	for (size_t i = 0; i < n; i++) {
		json_t *st = json_pack("{s:o, s:s, s:s}", "operation_id",
		    v1_id(items[i].id), "state", states[unknown_fate(m,
		    &items[i])], "message", "Reconciliation: Operation is "
		    "unknown (this master runs no operations with ids)");
		json_t *ev;

		if (items[i].agent_id)
			json_object_set_new(st, "agent_id",
			    v1_id(items[i].agent_id));
		ev = json_pack("{s:s, s:{s:o}}", "type", "UPDATE_OPERATION_STATUS",
		    "update_operation_status", "status", st);
		framework_send(fw, ev);
		json_decref(ev);
	}
}
