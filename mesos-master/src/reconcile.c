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
 * PARTITION_AWARE.
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

static void
send_unknown(struct master *m, struct framework *fw,
    const struct reconcile_item *it)
{
	struct agent *a = agent_find(m, it->agent_id);
	enum task_state s;
	json_t *st;

	if (it->agent_id && strmap_get(m->gone_agents, it->agent_id))
		s = TASK_GONE_BY_OPERATOR;
	else if (it->agent_id && a && a->state == AGENT_RECOVERED)
		return;
	else if (it->agent_id && a && a->state == AGENT_UNREACHABLE)
		s = TASK_UNREACHABLE;
	else if (it->agent_id && a)
		s = TASK_GONE;
	else if (it->agent_id == NULL && any_recovering(m))
		return; /* it may still come back with a re-registering agent */
	else
		s = TASK_UNKNOWN;
	st = json_pack("{s:o, s:s, s:s, s:s, s:s, s:f}", "task_id",
	    v1_id(it->task_id), "state", task_state_name(task_forward_state(fw,
	    s)), "source", "SOURCE_MASTER", "reason", "REASON_RECONCILIATION",
	    "message", "Reconciliation: Task is unknown", "timestamp",
	    clock_wall());
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
		struct task *t = strmap_get(fw->tasks, items[i].task_id);

		if (t)
			send_known(fw, t);
		else
			send_unknown(m, fw, &items[i]);
	}
}
