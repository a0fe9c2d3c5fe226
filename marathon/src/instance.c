/*
 * instance: one instance of an app, i.e. one Mesos task: where it runs,
 * its ports, its state as Mesos last reported it, its health and
 * readiness, and whether we asked Mesos to kill it. Rendered as the task
 * JSON of /v2/tasks and kept in the store in a compact form. A pod
 * instance is one task group: one task per container, its state the
 * containers' together (instance_pod_state).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

static const char *const state_names[] = {
	[TASK_STAGING] = "TASK_STAGING", [TASK_STARTING] = "TASK_STARTING",
	[TASK_RUNNING] = "TASK_RUNNING", [TASK_KILLING] = "TASK_KILLING",
	[TASK_FINISHED] = "TASK_FINISHED", [TASK_FAILED] = "TASK_FAILED",
	[TASK_KILLED] = "TASK_KILLED", [TASK_ERROR] = "TASK_ERROR",
	[TASK_LOST] = "TASK_LOST", [TASK_DROPPED] = "TASK_DROPPED",
	[TASK_UNREACHABLE] = "TASK_UNREACHABLE", [TASK_GONE] = "TASK_GONE",
	[TASK_GONE_BY_OPERATOR] = "TASK_GONE_BY_OPERATOR",
	[TASK_UNKNOWN] = "TASK_UNKNOWN",
};

const char *
task_state_name(int state)
{
	if (state < 0 || state > TASK_UNKNOWN)
		return "TASK_UNKNOWN";
	return state_names[state];
}

int
task_state_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i <= TASK_UNKNOWN; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

bool
task_state_terminal(int s)
{
	return s == TASK_FINISHED || s == TASK_FAILED || s == TASK_KILLED ||
	    s == TASK_ERROR || s == TASK_LOST || s == TASK_DROPPED ||
	    s == TASK_GONE || s == TASK_GONE_BY_OPERATOR || s == TASK_UNKNOWN;
}

struct instance *
instance_new(const char *task_id, const char *app_id)
{
	struct instance *i = xcalloc(1, sizeof(*i));

	i->id = xstrdup(task_id);
	i->app_id = xstrdup(app_id);
	i->state = TASK_STAGING;
	i->mesos_healthy = -1;
	i->ready = -1;
	return i;
}

static void
free_checks(struct instance *i)
{
	for (size_t k = 0; k < i->nhc; k++)
		free(i->hc[k].last_failure_cause);
	free(i->hc);
	i->hc = NULL;
	i->nhc = 0;
}

void
instance_free(struct instance *i)
{
	if (i == NULL)
		return;
	free(i->id);
	free(i->app_id);
	free(i->agent_id);
	free(i->host);
	free(i->agent_ip);
	free(i->region);
	free(i->zone);
	for (size_t k = 0; k < i->nattrs; k++) {
		free((char *)i->attrs[k].name);
		free((char *)i->attrs[k].value);
	}
	free(i->attrs);
	free(i->ports);
	strv_free(i->ips, i->nips);
	free_checks(i);
	json_decref(i->readiness_last);
	free(i->message);
	for (size_t k = 0; k < i->ntasks; k++) {
		free(i->tasks[k].id);
		free(i->tasks[k].name);
		free(i->tasks[k].ports);
		free(i->tasks[k].message);
	}
	free(i->tasks);
	free(i);
}

struct instance_task *
instance_task(const struct instance *i, const char *task_id)
{
	for (size_t k = 0; k < i->ntasks; k++)
		if (strcmp(i->tasks[k].id, task_id) == 0)
			return &i->tasks[k];
	return NULL;
}

/* how far along a live container is: the instance is as far as its least
 * advanced container */
static int
progress(int state)
{
	switch (state) {
	case TASK_UNREACHABLE: return 0;
	case TASK_KILLING: return 1;
	case TASK_STAGING: return 2;
	case TASK_STARTING: return 3;
	default: return 4;   /* TASK_RUNNING */
	}
}

int
instance_pod_state(const struct instance *i)
{
	int live = -1;
	bool all_finished = true;

	for (size_t k = 0; k < i->ntasks; k++) {
		int s = i->tasks[k].state;

		if (task_state_terminal(s) && s != TASK_FINISHED)
			return s;
		if (s == TASK_FINISHED)
			continue;
		all_finished = false;
		if (live < 0 || progress(s) < progress(live))
			live = s;
	}
	if (all_finished && i->ntasks)
		return TASK_FINISHED;
	return live < 0 ? TASK_STAGING : live;
}

/* A pod instance's health: 1 when every container with a check is
 * healthy, 0 when one is not, -1 without a verdict (or checks). */
static int
pod_health(const struct instance *i, const struct app *a)
{
	int verdict = -1;

	for (size_t k = 0; k < i->ntasks; k++) {
		const struct pod_container *c = pod_container_of(a->pod,
		    i->tasks[k].id);

		if (c == NULL || c->hc == NULL || i->tasks[k].state == TASK_FINISHED)
			continue;
		if (i->tasks[k].healthy == 0)
			return 0;
		if (i->tasks[k].healthy < 0)
			verdict = -2;
		else if (verdict == -1)
			verdict = 1;
	}
	return verdict == -2 ? -1 : verdict;
}

static bool
pod_has_checks(const struct app *a)
{
	for (size_t k = 0; k < a->pod->ncontainers; k++)
		if (a->pod->containers[k].hc)
			return true;
	return false;
}

void
instance_fit_checks(struct instance *i, const struct app *a)
{
	if (i->nhc == a->nhcs)
		return;
	free_checks(i);
	i->hc = xcalloc(a->nhcs, sizeof(*i->hc));
	i->nhc = a->nhcs;
}

bool
instance_active(const struct instance *i)
{
	return !task_state_terminal(i->state);
}

int
instance_health(const struct instance *i, const struct app *a)
{
	bool any = false;

	if (a && a->pod)
		return pod_health(i, a);
	if (a == NULL || a->nhcs == 0)
		return -1;
	for (size_t k = 0; k < a->nhcs && k < i->nhc; k++) {
		if (!hc_marathon_side(&a->hcs[k]))
			continue;
		if (!i->hc[k].has_result)
			return -1;
		if (!i->hc[k].alive)
			return 0;
		any = true;
	}
	if (app_has_mesos_hc(a)) {
		if (i->mesos_healthy < 0)
			return -1;
		if (i->mesos_healthy == 0)
			return 0;
		any = true;
	}
	return any ? 1 : -1;
}

bool
instance_ready(const struct instance *i, const struct app *a)
{
	if (i->state != TASK_RUNNING || i->kill != KILL_NONE)
		return false;
	if (a && a->pod)
		return !pod_has_checks(a) || pod_health(i, a) == 1;
	if (a && a->nhcs && instance_health(i, a) != 1)
		return false;
	if (a && a->nrcs && i->ready != 1)
		return false;
	return true;
}

static json_t *
hc_results_json(const struct instance *i, const struct app *a)
{
	json_t *arr = json_array();

	for (size_t k = 0; a && k < a->nhcs && k < i->nhc; k++) {
		const struct hc_status *h = &i->hc[k];
		char ts[VERSION_LEN];
		json_t *o;

		if (!hc_marathon_side(&a->hcs[k])) {
			if (i->mesos_healthy < 0)
				continue;
			json_array_append_new(arr, json_pack("{s:b, s:i, s:s, s:s}",
			    "alive", i->mesos_healthy == 1, "consecutiveFailures",
			    i->mesos_healthy == 1 ? 0 : 1, "instanceId", i->id,
			    "taskId", i->id));
			continue;
		}
		if (!h->has_result)
			continue;
		o = json_pack("{s:b, s:i, s:s, s:s}", "alive", h->alive,
		    "consecutiveFailures", h->consecutive_failures,
		    "instanceId", i->id, "taskId", i->id);
		json_object_set_new(o, "firstSuccess", h->first_success ?
		    json_string(util_iso8601(h->first_success, ts)) : json_null());
		json_object_set_new(o, "lastSuccess", h->last_success ?
		    json_string(util_iso8601(h->last_success, ts)) : json_null());
		json_object_set_new(o, "lastFailure", h->last_failure ?
		    json_string(util_iso8601(h->last_failure, ts)) : json_null());
		json_object_set_new(o, "lastFailureCause", h->last_failure_cause ?
		    json_string(h->last_failure_cause) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *
instance_to_json(const struct instance *i, const struct app *a)
{
	json_t *ports = json_array(), *sports = json_array(), *ips = json_array();
	char ts[VERSION_LEN];
	json_t *o;

	for (size_t k = 0; k < i->nports; k++)
		json_array_append_new(ports, json_integer(i->ports[k]));
	for (size_t k = 0; a && k < a->nports; k++)
		json_array_append_new(sports, json_integer(a->ports[k].port));
	for (size_t k = 0; k < i->nips; k++)
		json_array_append_new(ips, json_pack("{s:s, s:s}", "ipAddress",
		    i->ips[k], "protocol", strchr(i->ips[k], ':') ? "IPv6" : "IPv4"));
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:o}",
	    "id", i->id, "appId", i->app_id, "host", i->host ? i->host : "",
	    "ports", ports, "servicePorts", sports,
	    "slaveId", i->agent_id ? i->agent_id : "",
	    "state", task_state_name(i->state),
	    "stagedAt", util_iso8601(i->staged_at, ts),
	    "version", i->version, "ipAddresses", ips);
	if (i->started_at)
		json_object_set_new(o, "startedAt",
		    json_string(util_iso8601(i->started_at, ts)));
	if (a && a->nhcs)
		json_object_set_new(o, "healthCheckResults", hc_results_json(i, a));
	json_object_set_new(o, "localVolumes", json_array());
	if (i->region && i->region[0])
		json_object_set_new(o, "region", json_string(i->region));
	if (i->zone && i->zone[0])
		json_object_set_new(o, "zone", json_string(i->zone));
	return o;
}

char *
instance_to_text(const struct instance *i)
{
	json_t *ports = json_array(), *attrs = json_object(), *ips = json_array();
	json_t *o;
	char *text;

	for (size_t k = 0; k < i->nports; k++)
		json_array_append_new(ports, json_integer(i->ports[k]));
	for (size_t k = 0; k < i->nattrs; k++)
		json_object_set_new(attrs, i->attrs[k].name,
		    json_string(i->attrs[k].value));
	for (size_t k = 0; k < i->nips; k++)
		json_array_append_new(ips, json_string(i->ips[k]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:o,"
	    " s:o, s:o, s:s, s:b, s:f, s:f, s:f, s:i, s:i, s:b}",
	    "id", i->id, "app", i->app_id, "version", i->version,
	    "config", i->config_version, "agent", i->agent_id, "host", i->host,
	    "ip", i->agent_ip, "region", i->region, "zone", i->zone,
	    "attrs", attrs, "ports", ports, "ips", ips,
	    "state", task_state_name(i->state), "confirmed", i->confirmed,
	    "staged", i->staged_at, "started", i->started_at,
	    "unreachable", i->unreachable_since, "kill", (int)i->kill,
	    "healthy", i->mesos_healthy, "wipe", i->wipe);
	json_object_set_new(o, "since", json_real(i->since));
	if (i->ntasks) {
		json_t *tasks = json_array();

		for (size_t k = 0; k < i->ntasks; k++) {
			const struct instance_task *t = &i->tasks[k];
			json_t *tp = json_array();

			for (size_t n = 0; n < t->nports; n++)
				json_array_append_new(tp, json_integer(t->ports[n]));
			json_array_append_new(tasks, json_pack("{s:s, s:s, s:s, s:i, "
			    "s:o, s:f, s:f}", "id", t->id, "name", t->name, "state",
			    task_state_name(t->state), "healthy", t->healthy, "ports",
			    tp, "since", t->since, "started", t->started_at));
		}
		json_object_set_new(o, "tasks", tasks);
	}
	text = json_compact(o);
	json_decref(o);
	return text;
}

static void
tasks_from_json(struct instance *i, const json_t *arr)
{
	const json_t *t, *p;
	size_t k, n;

	if (json_array_size(arr) == 0)
		return;
	i->tasks = xcalloc(json_array_size(arr), sizeof(*i->tasks));
	json_array_foreach(arr, k, t) {
		struct instance_task *it = &i->tasks[i->ntasks];

		if (!json_is_string(json_object_get(t, "id")))
			continue;
		it->id = xstrdup(json_str_or(t, "id", ""));
		it->name = xstrdup(json_str_or(t, "name", ""));
		it->state = task_state_parse(json_str_or(t, "state", ""));
		if (it->state < 0)
			it->state = TASK_STAGING;
		it->healthy = (int)json_num_or(t, "healthy", -1);
		it->since = json_num_or(t, "since", 0);
		it->started_at = json_num_or(t, "started", 0);
		p = json_object_get(t, "ports");
		it->ports = xcalloc(json_array_size(p) + 1, sizeof(int));
		for (n = 0; n < json_array_size(p); n++)
			it->ports[it->nports++] = (int)json_integer_value(
			    json_array_get(p, n));
		i->ntasks++;
	}
}

struct instance *
instance_from_text(const char *text)
{
	json_t *o = json_loads(text, 0, NULL), *v;
	struct instance *i;
	const char *k;
	size_t n;

	if (o == NULL || !json_is_string(json_object_get(o, "id")) ||
	    !json_is_string(json_object_get(o, "app"))) {
		json_decref(o);
		return NULL;
	}
	i = instance_new(json_str_or(o, "id", ""), json_str_or(o, "app", ""));
	snprintf(i->version, sizeof(i->version), "%s",
	    json_str_or(o, "version", ""));
	snprintf(i->config_version, sizeof(i->config_version), "%s",
	    json_str_or(o, "config", ""));
	i->agent_id = xstrdup(json_str_or(o, "agent", NULL));
	i->host = xstrdup(json_str_or(o, "host", NULL));
	i->agent_ip = xstrdup(json_str_or(o, "ip", NULL));
	i->region = xstrdup(json_str_or(o, "region", NULL));
	i->zone = xstrdup(json_str_or(o, "zone", NULL));
	v = json_object_get(o, "attrs");
	i->attrs = xcalloc(json_object_size(v), sizeof(*i->attrs));
	{
		json_t *val;

		json_object_foreach(v, k, val) {
			i->attrs[i->nattrs].name = xstrdup(k);
			i->attrs[i->nattrs].value = xstrdup(json_string_value(val) ?
			    json_string_value(val) : "");
			i->nattrs++;
		}
	}
	v = json_object_get(o, "ports");
	i->ports = xcalloc(json_array_size(v), sizeof(int));
	for (n = 0; n < json_array_size(v); n++)
		i->ports[i->nports++] = (int)json_integer_value(json_array_get(v, n));
	v = json_object_get(o, "ips");
	for (n = 0; n < json_array_size(v); n++) {
		i->ips = xrealloc(i->ips, (i->nips + 1) * sizeof(char *));
		i->ips[i->nips++] = xstrdup(json_string_value(json_array_get(v,
		    n)) ? json_string_value(json_array_get(v, n)) : "");
	}
	i->state = task_state_parse(json_str_or(o, "state", ""));
	if (i->state < 0)
		i->state = TASK_STAGING;
	i->confirmed = json_is_true(json_object_get(o, "confirmed"));
	i->staged_at = json_num_or(o, "staged", 0);
	i->started_at = json_num_or(o, "started", 0);
	i->unreachable_since = json_num_or(o, "unreachable", 0);
	i->kill = (enum kill_reason)json_num_or(o, "kill", 0);
	i->mesos_healthy = (int)json_num_or(o, "healthy", -1);
	i->wipe = json_is_true(json_object_get(o, "wipe"));
	i->since = json_num_or(o, "since", 0);
	tasks_from_json(i, json_object_get(o, "tasks"));
	json_decref(o);
	return i;
}
