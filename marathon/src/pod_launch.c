/*
 * pod_launch: one pod instance as one Mesos LAUNCH_GROUP, as Marathon's
 * TaskGroupBuilder makes it. The whole group must fit one offer: the
 * default executor's resources (executorResources), every container's
 * and a host port per endpoint that asks for one (0: any free port). The
 * ExecutorInfo (type DEFAULT, id "instance-<pod>.<uuid>") holds the
 * executor's resources and all the host ports; each container becomes a
 * TaskInfo named after it, with its command, Marathon's pod environment
 * (pod env, container env, HOST, MESOS_TASK_ID, MESOS_EXECUTOR_ID,
 * MARATHON_APP_ID/VERSION, MARATHON_CONTAINER_ID and _RESOURCE_*, the
 * label variables, ENDPOINT_/EP_HOST_/EP_CONTAINER_<NAME>), its labels,
 * artifacts, DiscoveryInfo, kill grace and its health check (run by the
 * executor as a Mesos check).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/resources.h"

#include "marathon.h"

void
pod_fit_clear(struct pod_fit *fit)
{
	resources_free(&fit->exec);
	for (size_t i = 0; i < fit->ncont; i++)
		resources_free(&fit->cont[i]);
	free(fit->cont);
	resources_free(&fit->total);
	free(fit->ports);
	memset(fit, 0, sizeof(*fit));
}

/* Takes the scalars of one part of the group from work into out. */
static bool
take_part(struct resources *work, double cpus, double mem, double disk,
    char *const *roles, size_t nroles, struct resources *out,
    enum reject *why)
{
	if (!launch_take_scalar(work, "cpus", cpus, roles, nroles, out))
		*why = REJECT_CPUS;
	else if (!launch_take_scalar(work, "mem", mem, roles, nroles, out))
		*why = REJECT_MEM;
	else if (!launch_take_scalar(work, "disk", disk, roles, nroles, out))
		*why = REJECT_DISK;
	else
		return resources_subtract(work, out) == 0;
	return false;
}

int
pod_fit(const struct app *a, char *const *roles, size_t nroles,
    const struct resources *remaining, struct pod_fit *fit, enum reject *why)
{
	const struct pod_spec *ps = a->pod;
	struct resources work;
	int rc = -1;

	memset(fit, 0, sizeof(*fit));
	resources_init(&fit->exec);
	resources_init(&fit->total);
	fit->ncont = ps->ncontainers;
	fit->cont = xcalloc(ps->ncontainers + 1, sizeof(*fit->cont));
	for (size_t i = 0; i < ps->ncontainers; i++)
		resources_init(&fit->cont[i]);
	fit->ports = xcalloc(pod_host_ports(ps) + 1, sizeof(int));
	resources_copy(&work, remaining);
	if (!take_part(&work, ps->exec_cpus, ps->exec_mem, ps->exec_disk, roles,
	    nroles, &fit->exec, why))
		goto out;
	for (size_t i = 0; i < ps->ncontainers; i++) {
		const struct pod_container *c = &ps->containers[i];

		if (!take_part(&work, c->cpus, c->mem, c->disk, roles, nroles,
		    &fit->cont[i], why))
			goto out;
	}
	for (size_t i = 0; i < ps->ncontainers; i++)
		for (size_t k = 0; k < ps->containers[i].neps; k++) {
			const struct pod_endpoint *ep = &ps->containers[i].eps[k];

			if (ep->host_port < 0)
				continue;
			if (!launch_take_port(&work, (uint64_t)ep->host_port, roles,
			    nroles, &fit->exec, &fit->ports[fit->nports])) {
				*why = REJECT_PORTS;
				goto out;
			}
			fit->nports++;
		}
	resources_add(&fit->total, &fit->exec);
	for (size_t i = 0; i < ps->ncontainers; i++)
		resources_add(&fit->total, &fit->cont[i]);
	rc = 0;
out:
	resources_free(&work);
	return rc;
}

void
pod_instance_tasks(struct instance *i, const struct app *a,
    const struct pod_fit *fit)
{
	const struct pod_spec *ps = a->pod;
	size_t port = 0;

	i->tasks = xcalloc(ps->ncontainers, sizeof(*i->tasks));
	for (size_t c = 0; c < ps->ncontainers; c++) {
		struct instance_task *t = &i->tasks[i->ntasks++];
		char id[TASKID_MAX];

		snprintf(id, sizeof(id), "%s.%s", i->id, ps->containers[c].name);
		t->id = xstrdup(id);
		t->name = xstrdup(ps->containers[c].name);
		t->state = TASK_STAGING;
		t->healthy = -1;
		t->since = i->staged_at;
		t->ports = xcalloc(ps->containers[c].neps + 1, sizeof(int));
		for (size_t k = 0; k < ps->containers[c].neps; k++)
			if (ps->containers[c].eps[k].host_port >= 0 &&
			    port < fit->nports)
				t->ports[t->nports++] = fit->ports[port++];
	}
}

/* Endpoint names as environment names: upper case, runs of anything but
 * [A-Z0-9_] as one "_". */
static void
env_escape(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool run = false;

	for (; *in && n + 1 < size; in++) {
		char ch = (char)toupper((unsigned char)*in);

		if (isalnum((unsigned char)ch) || ch == '_') {
			out[n++] = ch;
			run = false;
		} else if (!run) {
			out[n++] = '_';
			run = true;
		}
	}
	out[n] = '\0';
}

static void
env_vars_add(json_t *vars, const struct env_var *env, size_t n,
    const struct kvlist *secrets)
{
	for (size_t k = 0; k < n; k++) {
		const char *ref;

		if (env[k].value) {
			taskinfo_env_add(vars, env[k].name, env[k].value);
			continue;
		}
		ref = kv_get(secrets, env[k].secret);
		json_array_append_new(vars, json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}",
		    "name", env[k].name, "type", "SECRET", "secret", "type",
		    "REFERENCE", "reference", "name", ref ? ref : env[k].secret));
	}
}

/* MARATHON_APP_LABEL_<NAME> for the pod's and the container's labels. */
static void
label_env(json_t *vars, const struct kvlist *pod, const struct kvlist *ct)
{
	char names[8192] = "", name[600], up[512];
	size_t used = 0;

	for (int pass = 0; pass < 2; pass++) {
		const struct kvlist *l = pass ? ct : pod;

		for (size_t k = 0; k < l->n; k++) {
			if (strlen(l->v[k].key) > 500 || strlen(l->v[k].value) > 512)
				continue;
			env_escape(l->v[k].key, up, sizeof(up));
			snprintf(name, sizeof(name), "MARATHON_APP_LABEL_%s", up);
			taskinfo_env_add(vars, name, l->v[k].value);
			if (strstr(names, up) == NULL)
				used += (size_t)snprintf(names + used, sizeof(names) - used,
				    "%s%s", used ? " " : "", up);
			if (used >= sizeof(names))
				used = sizeof(names) - 1;
		}
	}
	taskinfo_env_add(vars, "MARATHON_APP_LABELS", names);
}

/* ENDPOINT_<NAME> (the host port on host networking, else the container
 * port), EP_HOST_<NAME>, EP_CONTAINER_<NAME>: every endpoint of the pod. */
static void
endpoint_env(struct marathon *m, json_t *vars, const struct pod_spec *ps,
    const struct instance *i)
{
	const char *prefix = m->f.env_vars_prefix ? m->f.env_vars_prefix : "";
	char name[256], esc[128], num[16];
	size_t port = 0;

	for (size_t c = 0; c < ps->ncontainers; c++)
		for (size_t k = 0; k < ps->containers[c].neps; k++) {
			const struct pod_endpoint *ep = &ps->containers[c].eps[k];
			int host = ep->host_port >= 0 && port < i->nports ?
			    i->ports[port++] : -1;
			int eff = ps->host_network ? host : ep->container_port;

			env_escape(ep->name, esc, sizeof(esc));
			if (eff >= 0) {
				snprintf(name, sizeof(name), "%sENDPOINT_%s", prefix, esc);
				snprintf(num, sizeof(num), "%d", eff);
				taskinfo_env_add(vars, name, num);
			}
			if (host >= 0) {
				snprintf(name, sizeof(name), "%sEP_HOST_%s", prefix, esc);
				snprintf(num, sizeof(num), "%d", host);
				taskinfo_env_add(vars, name, num);
			}
			if (ep->container_port >= 0) {
				snprintf(name, sizeof(name), "%sEP_CONTAINER_%s", prefix,
				    esc);
				snprintf(num, sizeof(num), "%d", ep->container_port);
				taskinfo_env_add(vars, name, num);
			}
		}
}

static json_t *
environment(struct marathon *m, const struct app *a,
    const struct pod_container *c, const struct instance *i,
    const char *task_id)
{
	json_t *vars = json_array();
	char eid[TASKID_MAX];

	env_vars_add(vars, a->env, a->nenv, &a->secrets);
	env_vars_add(vars, c->env, c->nenv, &a->secrets);
	taskinfo_env_add(vars, "HOST", i->host ? i->host : "");
	pod_executor_id(i->id, eid, sizeof(eid));
	taskinfo_env_add(vars, "MESOS_TASK_ID", task_id);
	taskinfo_env_add(vars, "MESOS_EXECUTOR_ID", eid);
	taskinfo_env_add(vars, "MARATHON_APP_ID", a->id);
	taskinfo_env_add(vars, "MARATHON_APP_VERSION", a->version);
	taskinfo_env_add(vars, "MARATHON_CONTAINER_ID", c->name);
	taskinfo_env_resources(vars, "MARATHON_CONTAINER_RESOURCE_", c->cpus,
	    c->mem, c->disk, c->gpus);
	label_env(vars, &a->labels, &c->labels);
	endpoint_env(m, vars, a->pod, i);
	return json_pack("{s:o}", "variables", vars);
}

static json_t *
argv_command(char *const *argv, size_t n)
{
	json_t *args = json_array();

	for (size_t k = 0; k < n; k++)
		json_array_append_new(args, json_string(argv[k]));
	return json_pack("{s:b, s:s, s:o}", "shell", 0, "value", argv[0],
	    "arguments", args);
}

static json_t *
command(struct marathon *m, const struct app *a,
    const struct pod_container *c, const struct instance *i,
    const char *task_id)
{
	json_t *cmd, *uris = json_array();
	const char *user = c->user ? c->user : a->user;

	if (c->shell)
		cmd = json_pack("{s:b, s:s}", "shell", 1, "value", c->shell);
	else if (c->nargv)
		cmd = argv_command(c->argv, c->nargv);
	else
		cmd = json_pack("{s:b}", "shell", 0);
	for (size_t k = 0; k < c->nartifacts; k++) {
		const struct fetch_uri *f = &c->artifacts[k];
		json_t *u = json_pack("{s:s, s:b, s:b, s:b}", "value", f->uri,
		    "extract", f->extract, "executable", f->executable, "cache",
		    f->cache);

		if (f->dest_path)
			json_object_set_new(u, "output_file", json_string(f->dest_path));
		json_array_append_new(uris, u);
	}
	json_object_set_new(cmd, "uris", uris);
	if (user)
		json_object_set_new(cmd, "user", json_string(user));
	json_object_set_new(cmd, "environment", environment(m, a, c, i,
	    task_id));
	return cmd;
}

/* The port a check of endpoint `name` uses: the host port on host
 * networking, else the container port. */
static int
endpoint_port(const struct pod_spec *ps, const struct pod_container *c,
    const struct instance_task *t, const char *name)
{
	size_t port = 0;

	for (size_t k = 0; k < c->neps; k++) {
		const struct pod_endpoint *ep = &c->eps[k];

		if (strcmp(ep->name, name) == 0)
			return ps->host_network && ep->host_port >= 0 &&
			    port < t->nports ? t->ports[port] : ep->container_port;
		if (ep->host_port >= 0)
			port++;
	}
	return 0;
}

static json_t *
health_check(const struct pod_spec *ps, const struct pod_container *c,
    const struct instance_task *t)
{
	const struct health_check *hc = c->hc;
	json_t *h = json_pack("{s:f, s:f, s:f, s:i, s:f}",
	    "delay_seconds", (double)hc->delay,
	    "interval_seconds", (double)hc->interval,
	    "timeout_seconds", (double)hc->timeout,
	    "consecutive_failures", hc->max_failures,
	    "grace_period_seconds", (double)hc->grace_period);
	int port;

	if (hc->protocol == HC_COMMAND) {
		json_object_set_new(h, "type", json_string("COMMAND"));
		json_object_set_new(h, "command", hc->command ? json_pack("{s:b, "
		    "s:s}", "shell", 1, "value", hc->command) :
		    argv_command(c->hc_argv, c->hc_nargv));
		return h;
	}
	port = endpoint_port(ps, c, t, c->hc_endpoint);
	if (hc->protocol == HC_MESOS_TCP) {
		json_object_set_new(h, "type", json_string("TCP"));
		json_object_set_new(h, "tcp", json_pack("{s:i}", "port", port));
	} else {
		json_object_set_new(h, "type", json_string("HTTP"));
		json_object_set_new(h, "http", json_pack("{s:s, s:i, s:s}",
		    "scheme", hc->protocol == HC_MESOS_HTTPS ? "https" : "http",
		    "port", port, "path", hc->path ? hc->path : "/"));
	}
	return h;
}

/* DiscoveryInfo: the pod's name and the container's endpoints, one port
 * per protocol. */
static json_t *
discovery(const struct app *a, const struct pod_container *c,
    const struct instance_task *t)
{
	json_t *ports = json_array();
	char name[PATHID_MAX];
	size_t port = 0;

	pathid_task_name(a->id, name, sizeof(name));
	for (size_t k = 0; k < c->neps; k++) {
		const struct pod_endpoint *ep = &c->eps[k];
		int number = ep->host_port >= 0 && port < t->nports ?
		    t->ports[port++] : ep->container_port;

		for (size_t p = 0; p < (ep->nprotocols ? ep->nprotocols : 1); p++) {
			json_t *d = json_pack("{s:i, s:s, s:s}", "number", number,
			    "name", ep->name, "protocol", ep->nprotocols ?
			    ep->protocols[p] : "tcp");

			if (ep->labels.n)
				json_object_set_new(d, "labels",
				    taskinfo_labels(&ep->labels));
			json_array_append_new(ports, d);
		}
	}
	return json_pack("{s:s, s:s, s:{s:o}}", "visibility", "FRAMEWORK",
	    "name", name, "ports", "ports", ports);
}

static json_t *
task_info(struct marathon *m, const struct app *a, const struct instance *i,
    size_t k, const struct resources *res)
{
	const struct pod_container *c = &a->pod->containers[k];
	const struct instance_task *t = &i->tasks[k];
	json_t *v1 = launch_v1_resources(res);
	json_t *ti = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o, s:o, s:o}",
	    "name", c->name, "task_id", "value", t->id, "agent_id", "value",
	    i->agent_id, "resources", v1, "command", command(m, a, c, i, t->id),
	    "discovery", discovery(a, c, t));

	if (c->labels.n)
		json_object_set_new(ti, "labels", taskinfo_labels(&c->labels));
	if (c->hc)
		json_object_set_new(ti, "health_check", health_check(a->pod, c, t));
	if (c->kill_grace >= 0)
		json_object_set_new(ti, "kill_policy", json_pack("{s:{s:I}}",
		    "grace_period", "nanoseconds", (json_int_t)(c->kill_grace *
		    1e9)));
	if (c->image)
		json_object_set_new(ti, "container", json_pack("{s:s, s:{s:{s:s, "
		    "s:{s:s}}}}", "type", "MESOS", "mesos", "image", "type",
		    "DOCKER", "docker", "name", c->image));
	return ti;
}

json_t *
pod_launch_group(struct marathon *m, const struct app *a,
    const struct instance *i, const struct pod_fit *fit)
{
	json_t *tasks = json_array(), *exec;
	char eid[TASKID_MAX];

	pod_executor_id(i->id, eid, sizeof(eid));
	exec = json_pack("{s:s, s:{s:s}, s:{s:s}, s:o, s:{s:s}, s:o}",
	    "type", "DEFAULT", "executor_id", "value", eid, "framework_id",
	    "value", m->st->framework_id, "resources",
	    launch_v1_resources(&fit->exec), "container", "type", "MESOS",
	    "labels", taskinfo_labels(&a->labels));
	for (size_t k = 0; k < i->ntasks && k < fit->ncont; k++)
		json_array_append_new(tasks, task_info(m, a, i, k, &fit->cont[k]));
	return json_pack("{s:s, s:{s:o, s:{s:o}}}", "type", "LAUNCH_GROUP",
	    "launch_group", "executor", exec, "task_group", "tasks", tasks);
}
