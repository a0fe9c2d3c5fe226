/*
 * v1_json: the v1 protobuf-JSON shapes of the operator API (GET_STATE,
 * GET_TASKS, ...) and of its SUBSCRIBE events: ids as {"value": ...},
 * resources as v1 Resource arrays, times as {"nanoseconds": ...}.
 */
#include <string.h>

#include "dcos/strmap.h"
#include "master.h"

json_t *
v1_id(const char *value)
{
	return json_pack("{s:s}", "value", value ? value : "");
}

static json_t *
time_info(double secs)
{
	return json_pack("{s:I}", "nanoseconds", (json_int_t)(secs * 1e9));
}

static json_t *
raw(const char *text)
{
	return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

json_t *
v1_task(const struct task *t)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:[]}", "name",
	    t->name, "task_id", v1_id(t->id), "framework_id", v1_id(t->fw->id),
	    "agent_id", v1_id(t->agent_id), "state", task_state_name(
	    t->unreachable ? TASK_UNREACHABLE : t->state), "resources",
	    resources_to_v1(&t->res, NULL), "statuses");
	json_t *statuses = json_object_get(j, "statuses");

	if (t->executor_id[0])
		json_object_set_new(j, "executor_id", v1_id(t->executor_id));
	for (size_t i = 0; i < t->nstatuses; i++) {
		const struct task_status *st = &t->statuses[i];
		json_t *s = json_pack("{s:o, s:s, s:f}", "task_id", v1_id(t->id),
		    "state", task_state_name(st->state), "timestamp",
		    st->timestamp);

		if (st->healthy >= 0)
			json_object_set_new(s, "healthy", json_boolean(st->healthy));
		if (st->container_status)
			json_object_set_new(s, "container_status",
			    raw(st->container_status));
		if (st->labels)
			json_object_set_new(s, "labels", json_pack("{s:o}", "labels",
			    raw(st->labels)));
		json_array_append_new(statuses, s);
	}
	if (t->labels)
		json_object_set_new(j, "labels", json_pack("{s:o}", "labels",
		    raw(t->labels)));
	if (t->discovery)
		json_object_set_new(j, "discovery", raw(t->discovery));
	if (t->container)
		json_object_set_new(j, "container", raw(t->container));
	if (t->user)
		json_object_set_new(j, "user", json_string(t->user));
	json_object_set_new(j, "role", json_string(t->role));
	return j;
}

json_t *
v1_agent(const struct master *m, const struct agent *a)
{
	json_t *caps = json_array(), *c;
	size_t i;
	json_t *j;

	json_array_foreach(a->capabilities, i, c)
		json_array_append_new(caps, json_pack("{s:O}", "type", c));
	j = json_pack("{s:O, s:b, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
	    "agent_info", a->info, "active", a->state == AGENT_ACTIVE, "version",
	    a->version, "pid", a->pid, "registered_time",
	    time_info(a->registered_time), "total_resources",
	    resources_to_v1(&a->total, NULL), "allocated_resources",
	    resources_to_v1(&a->used, NULL), "offered_resources",
	    resources_to_v1(&a->offered, NULL), "capabilities", caps);
	if (a->reregistered_time > 0)
		json_object_set_new(j, "reregistered_time",
		    time_info(a->reregistered_time));
	(void)m;
	return j;
}

json_t *
v1_framework(const struct framework *fw)
{
	json_t *offers = json_array();
	const struct offer *o;
	json_t *j;

	TAILQ_FOREACH(o, &fw->offers, fw_link)
		json_array_append_new(offers, offer_json(fw->m, o));
	j = json_pack("{s:O, s:b, s:b, s:b, s:o, s:o, s:[], s:o, s:o}",
	    "framework_info", fw->info, "active", fw->active, "connected",
	    fw->connected, "recovered", fw->recovered, "registered_time",
	    time_info(fw->registered_time), "offers", offers, "inverse_offers",
	    "allocated_resources", resources_to_v1(&fw->used, NULL),
	    "offered_resources", resources_to_v1(&fw->offered, NULL));
	if (fw->reregistered_time > 0)
		json_object_set_new(j, "reregistered_time",
		    time_info(fw->reregistered_time));
	if (fw->unregistered_time > 0)
		json_object_set_new(j, "unregistered_time",
		    time_info(fw->unregistered_time));
	return j;
}

json_t *
v1_executor(const struct executor *e)
{
	return json_pack("{s:O, s:o}", "executor_info", e->info, "agent_id",
	    v1_id(e->agent->id));
}

json_t *
v1_get_tasks(struct master *m)
{
	json_t *tasks = json_array(), *unreachable = json_array();
	json_t *completed = json_array();
	const struct task *t;
	const struct framework *fw;
	void *v, *tv;

	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		fw = v;
		for (size_t k = 0; strmap_next(fw->tasks, &k, NULL, &tv);) {
			t = tv;
			json_array_append_new(t->unreachable ? unreachable : tasks,
			    v1_task(t));
		}
		TAILQ_FOREACH(t, &fw->completed, done_link)
			json_array_append_new(completed, v1_task(t));
	}
	TAILQ_FOREACH(fw, &m->completed_frameworks, done_link)
		TAILQ_FOREACH(t, &fw->completed, done_link)
			json_array_append_new(completed, v1_task(t));
	return json_pack("{s:[], s:o, s:o, s:o, s:[]}", "pending_tasks", "tasks",
	    tasks, "unreachable_tasks", unreachable, "completed_tasks", completed,
	    "orphan_tasks");
}

json_t *
v1_get_executors(struct master *m)
{
	json_t *list = json_array();
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		const struct executor *e;

		TAILQ_FOREACH(e, &((struct agent *)v)->executors, agent_link)
			json_array_append_new(list, v1_executor(e));
	}
	return json_pack("{s:o, s:[]}", "executors", list, "orphan_executors");
}

json_t *
v1_get_frameworks(struct master *m)
{
	json_t *list = json_array(), *done = json_array(), *recovered =
	    json_array();
	const struct framework *fw;
	void *v;

	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		fw = v;
		json_array_append_new(fw->recovered ? recovered : list,
		    fw->recovered ? json_incref(fw->info) : v1_framework(fw));
	}
	TAILQ_FOREACH(fw, &m->completed_frameworks, done_link)
		json_array_append_new(done, v1_framework(fw));
	return json_pack("{s:o, s:o, s:o}", "frameworks", list,
	    "completed_frameworks", done, "recovered_frameworks", recovered);
}

json_t *
v1_get_agents(struct master *m)
{
	json_t *list = json_array(), *recovered = json_array();
	void *v;

	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		const struct agent *a = v;

		if (a->state == AGENT_RECOVERED)
			json_array_append(recovered, a->info);
		else
			json_array_append_new(list, v1_agent(m, a));
	}
	return json_pack("{s:o, s:o}", "agents", list, "recovered_agents",
	    recovered);
}

json_t *
v1_get_state(struct master *m)
{
	return json_pack("{s:o, s:o, s:o, s:o}", "get_tasks", v1_get_tasks(m),
	    "get_executors", v1_get_executors(m), "get_frameworks",
	    v1_get_frameworks(m), "get_agents", v1_get_agents(m));
}
