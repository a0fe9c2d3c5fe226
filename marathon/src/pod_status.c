/*
 * pod_status: what /v2/pods/{id}::status says, in Marathon's PodStatus
 * shape: per instance its state (PENDING, STAGING, STABLE, DEGRADED,
 * TERMINAL: running with every checked container healthy is STABLE), the
 * agent, the resources (executor and containers), and per container the
 * Mesos task state, the allocated endpoint ports and a "healthy"
 * condition when the container has a health check; the pod is STABLE
 * when at least scaling.instances instances are. Also the per-container
 * bookkeeping of status updates (pod_task_update).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

int
pod_task_update(struct instance *i, struct instance_task *t, int state,
    const char *message, const json_t *healthy)
{
	double now = clock_wall();

	if (t->state != state)
		t->since = now;
	t->state = state;
	if (state == TASK_RUNNING && t->started_at == 0)
		t->started_at = now;
	free(t->message);
	t->message = xstrdup(message);
	if (json_is_boolean(healthy))
		t->healthy = json_is_true(healthy);
	return instance_pod_state(i);
}

static json_t *
ts(double t)
{
	char buf[VERSION_LEN];

	return json_string(util_iso8601(t, buf));
}

static json_t *
resources_json(double cpus, double mem, double disk, int gpus)
{
	return json_pack("{s:f, s:f, s:f, s:i}", "cpus", cpus, "mem", mem,
	    "disk", disk, "gpus", gpus);
}

/* The "healthy" condition of a running container with a check: "false"
 * until the executor reported it, as Marathon says. */
static json_t *
health_condition(const struct pod_container *c, const struct instance_task *t,
    double since)
{
	if (c == NULL || c->hc == NULL || t->state == TASK_STAGING ||
	    t->state == TASK_STARTING)
		return NULL;
	return json_pack("{s:s, s:o, s:o, s:s, s:s}", "name", "healthy",
	    "lastChanged", ts(since), "lastUpdated", ts(since), "value",
	    t->healthy == 1 ? "true" : "false", "reason", t->healthy < 0 ?
	    "health-unreported-by-mesos" : "health-reported-by-mesos");
}

static json_t *
endpoints_json(const struct pod_container *c, const struct instance_task *t)
{
	json_t *arr = json_array();
	size_t port = 0;

	for (size_t k = 0; c && k < c->neps; k++) {
		const struct pod_endpoint *ep = &c->eps[k];
		json_t *e = json_pack("{s:s}", "name", ep->name);

		if (ep->host_port >= 0 && port < t->nports)
			json_object_set_new(e, "allocatedHostPort",
			    json_integer(t->ports[port++]));
		if (c->hc_endpoint && strcmp(c->hc_endpoint, ep->name) == 0 &&
		    t->healthy >= 0)
			json_object_set_new(e, "healthy", json_boolean(t->healthy));
		json_array_append_new(arr, e);
	}
	return arr;
}

static json_t *
container_json(const struct app *a, const struct instance *i,
    const struct instance_task *t, bool *unhealthy)
{
	const struct pod_container *c = pod_container_of(a->pod, t->id);
	double since = t->started_at ? t->started_at : i->staged_at;
	json_t *conds = json_array(), *hc = health_condition(c, t, since), *o;

	if (hc) {
		if (strcmp(json_str_or(hc, "value", ""), "false") == 0)
			*unhealthy = true;
		json_array_append_new(conds, hc);
	}
	o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}",
	    "name", t->name, "status", task_state_name(i->confirmed ? t->state :
	    TASK_STAGING), "statusSince", ts(since), "containerId", t->id,
	    "endpoints", endpoints_json(c, t), "conditions", conds,
	    "lastUpdated", ts(t->since ? t->since : since), "lastChanged",
	    ts(t->since ? t->since : since));
	if (c && !task_state_terminal(t->state))
		json_object_set_new(o, "resources", resources_json(c->cpus, c->mem,
		    c->disk, c->gpus));
	if (t->message && t->message[0])
		json_object_set_new(o, "message", json_string(t->message));
	return o;
}

/* PodInstanceState and its message */
static const char *
instance_state(const struct instance *i, bool unhealthy, const char **msg)
{
	*msg = NULL;
	if (i->kill != KILL_NONE || task_state_terminal(i->state) ||
	    i->state == TASK_KILLING)
		return "TERMINAL";
	if (!i->confirmed || i->state == TASK_STAGING ||
	    i->state == TASK_STARTING)
		return "STAGING";
	if (i->state == TASK_UNREACHABLE) {
		*msg = "pod instance has become unreachable";
		return "DEGRADED";
	}
	if (unhealthy) {
		*msg = "at least one container is not healthy";
		return "DEGRADED";
	}
	return "STABLE";
}

json_t *
pod_instance_json(const struct app *a, const struct instance *i)
{
	const struct pod_spec *ps = a->pod;
	json_t *containers = json_array(), *o, *nets = json_array();
	double cpus = ps->exec_cpus, mem = ps->exec_mem, disk = ps->exec_disk;
	double since = i->since ? i->since : i->staged_at;
	bool unhealthy = false;
	const char *msg, *status;
	char ref[PATHID_MAX + 64];

	for (size_t k = 0; k < i->ntasks; k++) {
		const struct pod_container *c = pod_container_of(ps, i->tasks[k].id);

		json_array_append_new(containers, container_json(a, i,
		    &i->tasks[k], &unhealthy));
		if (c && !task_state_terminal(i->tasks[k].state)) {
			cpus += c->cpus;
			mem += c->mem;
			disk += c->disk;
		}
	}
	if (i->nips) {
		json_t *addrs = json_array();

		for (size_t k = 0; k < i->nips; k++)
			json_array_append_new(addrs, json_string(i->ips[k]));
		json_array_append_new(nets, json_pack("{s:o}", "addresses", addrs));
	}
	status = instance_state(i, unhealthy, &msg);
	snprintf(ref, sizeof(ref), "/v2/pods%s::versions/%s", i->app_id,
	    i->version);
	o = json_pack("{s:s, s:s, s:o, s:[], s:s, s:s, s:o, s:o, s:o, s:s, s:[],"
	    " s:o, s:o}", "id", i->id, "status", status, "statusSince", ts(since),
	    "conditions", "agentHostname", i->host ? i->host : "", "agentId",
	    i->agent_id ? i->agent_id : "", "resources", resources_json(cpus, mem,
	    disk, 0), "networks", nets, "containers", containers,
	    "specReference", ref, "localVolumes", "lastUpdated", ts(since),
	    "lastChanged", ts(since));
	if (i->region)
		json_object_set_new(o, "agentRegion", json_string(i->region));
	if (i->zone)
		json_object_set_new(o, "agentZone", json_string(i->zone));
	if (msg)
		json_object_set_new(o, "message", json_string(msg));
	return o;
}

/* The last failed container, as Marathon's terminationHistory has it. */
static json_t *
termination_history(const struct app_rt *rt)
{
	char inst[TASKID_MAX];
	const char *dot;

	if (rt == NULL || rt->failure.task_id == NULL)
		return json_array();
	dot = strrchr(rt->failure.task_id, '.');
	snprintf(inst, sizeof(inst), "%.*s", dot ? (int)(dot -
	    rt->failure.task_id) : (int)strlen(rt->failure.task_id),
	    rt->failure.task_id);
	return json_pack("[{s:s, s:o, s:o, s:s, s:[{s:s, s:s}]}]", "instanceID",
	    inst, "startedAt", ts(rt->failure.started), "terminatedAt",
	    ts(rt->failure.at), "message", rt->failure.message ?
	    rt->failure.message : "", "containers", "containerId",
	    rt->failure.task_id, "lastKnownState", rt->failure.state ?
	    rt->failure.state : "");
}

json_t *
pod_status_json(struct marathon *m, const struct pod *p)
{
	const struct app_rt *rt = state_rt(m->st, p->id, false);
	json_t *instances = json_array(), *o;
	double now = clock_wall(), since = 0;
	int stable = 0;

	for (size_t k = 0; rt && k < rt->ninst; k++) {
		const struct instance *i = rt->inst[k];
		json_t *ij;

		if (!instance_active(i) || i->ntasks == 0)
			continue;
		ij = pod_instance_json(p->app, i);
		stable += strcmp(json_str_or(ij, "status", ""), "STABLE") == 0;
		if (i->since > since)
			since = i->since;
		json_array_append_new(instances, ij);
	}
	if (since == 0)
		since = now;
	o = json_pack("{s:s, s:O, s:s, s:o, s:o, s:o, s:o, s:o}", "id", p->id,
	    "spec", p->def, "status", rt && rt->removed ? "TERMINAL" :
	    stable >= p->instances ? "STABLE" : "DEGRADED", "statusSince",
	    ts(since), "instances", instances, "terminationHistory",
	    termination_history(rt), "lastUpdated", ts(now), "lastChanged",
	    ts(since));
	return o;
}
