/*
 * taskinfo: the Mesos TaskInfo Marathon launches for an instance: the
 * command (cmd through the shell, or args without it), fetch URIs, user,
 * the task environment of Marathon's TaskBuilder and EnvironmentHelper,
 * labels, DiscoveryInfo (named ports with their labels, where VIP labels
 * live), executor-run health checks and the kill grace period.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

void
taskinfo_env_add(json_t *vars, const char *name, const char *value)
{
	size_t i;
	json_t *v;

	/* later values (the app's env) override earlier ones */
	json_array_foreach(vars, i, v) {
		if (strcmp(json_str_or(v, "name", ""), name) == 0) {
			json_object_set_new(v, "value", json_string(value));
			return;
		}
	}
	json_array_append_new(vars, json_pack("{s:s, s:s, s:s}", "name", name,
	    "type", "VALUE", "value", value));
}

void
taskinfo_env_resources(json_t *vars, const char *prefix, double cpus,
    double mem, double disk, int gpus)
{
	const char *names[] = { "CPUS", "MEM", "DISK" };
	double values[] = { cpus, mem, disk };
	char name[64], num[64];

	for (size_t k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "%s%s", prefix, names[k]);
		util_scala_double(values[k], num, sizeof(num));
		taskinfo_env_add(vars, name, num);
	}
	snprintf(name, sizeof(name), "%sGPUS", prefix);
	snprintf(num, sizeof(num), "%d", gpus);
	taskinfo_env_add(vars, name, num);
}

static void
env_addf(json_t *vars, const char *prefix, const char *name, const char *fmt,
    int value)
{
	char n[256], v[64];

	snprintf(n, sizeof(n), "%s%s", prefix, name);
	snprintf(v, sizeof(v), fmt, value);
	taskinfo_env_add(vars, n, v);
}

/* Label names as environment names: [A-Za-z0-9_], upper-cased. */
static void
env_name(const char *in, char *out, size_t size)
{
	size_t i = 0;

	for (; *in && i + 1 < size; in++)
		out[i++] = isalnum((unsigned char)*in) ?
		    (char)toupper((unsigned char)*in) : '_';
	out[i] = '\0';
}

static void
port_env(json_t *vars, const struct app *a, const struct instance *inst,
    const char *prefix)
{
	char ports[4096] = "", n[128];
	size_t used = 0;

	for (size_t k = 0; k < inst->nports; k++) {
		int eff = inst->ports[k];
		int declared = k < a->nports ? a->ports[k].port : 0;

		snprintf(n, sizeof(n), "PORT%zu", k);
		env_addf(vars, prefix, n, "%d", eff);
		/* keyed by the requested port, or the effective one for 0 */
		snprintf(n, sizeof(n), "PORT_%d", declared ? declared : eff);
		env_addf(vars, prefix, n, "%d", eff);
		if (k < a->nports && a->ports[k].name) {
			char up[96];

			env_name(a->ports[k].name, up, sizeof(up));
			snprintf(n, sizeof(n), "PORT_%s", up);
			env_addf(vars, prefix, n, "%d", eff);
		}
		used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%d",
		    k ? "," : "", eff);
		if (used >= sizeof(ports))
			used = sizeof(ports) - 1;
	}
	if (inst->nports) {
		char name[64];

		env_addf(vars, prefix, "PORT", "%d", inst->ports[0]);
		snprintf(name, sizeof(name), "%sPORTS", prefix);
		taskinfo_env_add(vars, name, ports);
	}
}

static json_t *
environment(struct marathon *m, const struct app *a,
    const struct instance *inst)
{
	json_t *vars = json_array();
	const char *prefix = m->f.env_vars_prefix ? m->f.env_vars_prefix : "";
	char name[600], names[8192] = "";
	size_t used = 0;

	taskinfo_env_add(vars, "MESOS_TASK_ID", inst->id);
	taskinfo_env_add(vars, "MARATHON_APP_ID", a->id);
	taskinfo_env_add(vars, "MARATHON_APP_VERSION", a->version);
	taskinfo_env_resources(vars, "MARATHON_APP_RESOURCE_", a->cpus, a->mem,
	    a->disk, a->gpus);
	if (a->docker_image)
		taskinfo_env_add(vars, "MARATHON_APP_DOCKER_IMAGE", a->docker_image);
	for (size_t k = 0; k < a->labels.n; k++) {
		const struct kv *l = &a->labels.v[k];
		char up[512];

		if (strlen(l->key) > 512 || strlen(l->value) > 512)
			continue;
		env_name(l->key, up, sizeof(up));
		snprintf(name, sizeof(name), "MARATHON_APP_LABEL_%s", up);
		taskinfo_env_add(vars, name, l->value);
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
		    used ? " " : "", up);
		if (used >= sizeof(names))
			used = sizeof(names) - 1;
	}
	taskinfo_env_add(vars, "MARATHON_APP_LABELS", names);
	snprintf(name, sizeof(name), "%sHOST", prefix);
	taskinfo_env_add(vars, name, inst->host ? inst->host : "");
	port_env(vars, a, inst, prefix);
	for (size_t k = 0; k < a->nenv; k++) {
		if (a->env[k].value) {
			taskinfo_env_add(vars, a->env[k].name, a->env[k].value);
		} else {
			json_array_append_new(vars, json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}",
			    "name", a->env[k].name, "type", "SECRET", "secret", "type",
			    "REFERENCE", "reference", "name",
			    kv_get(&a->secrets, a->env[k].secret)));
		}
	}
	return json_pack("{s:o}", "variables", vars);
}

json_t *
taskinfo_labels(const struct kvlist *l)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < l->n; k++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "key",
		    l->v[k].key, "value", l->v[k].value));
	return json_pack("{s:o}", "labels", arr);
}

static json_t *
command(const struct app *a, json_t *env)
{
	json_t *c = json_pack("{s:o}", "environment", env);
	json_t *uris = json_array();

	if (a->has_args) {
		json_t *args = json_array();

		for (size_t k = 0; k < a->nargs; k++)
			json_array_append_new(args, json_string(a->args[k]));
		json_object_set_new(c, "shell", json_false());
		json_object_set_new(c, "value", json_string(a->args[0]));
		json_object_set_new(c, "arguments", args);
	} else if (a->cmd) {
		json_object_set_new(c, "shell", json_true());
		json_object_set_new(c, "value", json_string(a->cmd));
	} else {
		json_object_set_new(c, "shell", json_false());
	}
	for (size_t k = 0; k < a->nfetch; k++) {
		json_t *u = json_pack("{s:s, s:b, s:b, s:b}", "value", a->fetch[k].uri,
		    "extract", a->fetch[k].extract, "executable",
		    a->fetch[k].executable, "cache", a->fetch[k].cache);

		if (a->fetch[k].dest_path)
			json_object_set_new(u, "output_file",
			    json_string(a->fetch[k].dest_path));
		json_array_append_new(uris, u);
	}
	json_object_set_new(c, "uris", uris);
	if (a->user)
		json_object_set_new(c, "user", json_string(a->user));
	return c;
}

static json_t *
discovery(const struct app *a, const struct instance *inst, const char *name)
{
	json_t *ports = json_array();

	for (size_t k = 0; k < inst->nports && k < a->nports; k++) {
		const struct port_def *pd = &a->ports[k];
		json_t *p = json_pack("{s:i, s:s}", "number", inst->ports[k],
		    "protocol", strncmp(pd->protocol, "udp", 3) == 0 ? "udp" :
		    "tcp");

		if (pd->name)
			json_object_set_new(p, "name", json_string(pd->name));
		if (pd->labels.n)
			json_object_set_new(p, "labels", taskinfo_labels(&pd->labels));
		json_array_append_new(ports, p);
	}
	return json_pack("{s:s, s:s, s:{s:o}}", "visibility", "FRAMEWORK",
	    "name", name, "ports", "ports", ports);
}

/* The executor-run check (COMMAND, MESOS_HTTP(S), MESOS_TCP), if any. */
static json_t *
mesos_health_check(const struct app *a, const struct instance *inst)
{
	for (size_t k = 0; k < a->nhcs; k++) {
		const struct health_check *hc = &a->hcs[k];
		json_t *h;
		int port = hc->port ? hc->port : (hc->port_index >= 0 &&
		    (size_t)hc->port_index < inst->nports ?
		    inst->ports[hc->port_index] : 0);

		if (hc_marathon_side(hc))
			continue;
		h = json_pack("{s:f, s:f, s:f, s:i, s:f}",
		    "delay_seconds", (double)hc->delay,
		    "interval_seconds", (double)hc->interval,
		    "timeout_seconds", (double)hc->timeout,
		    "consecutive_failures", hc->max_failures,
		    "grace_period_seconds", (double)hc->grace_period);
		if (hc->protocol == HC_COMMAND) {
			json_object_set_new(h, "type", json_string("COMMAND"));
			json_object_set_new(h, "command", json_pack("{s:s, s:b}",
			    "value", hc->command, "shell", 1));
		} else if (hc->protocol == HC_MESOS_TCP) {
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
	return NULL;
}

json_t *
taskinfo_build(struct marathon *m, const struct app *a,
    const struct instance *inst, const json_t *resources)
{
	char name[PATHID_MAX];
	json_t *t, *hc;

	pathid_task_name(a->id, name, sizeof(name));
	t = json_pack("{s:s, s:{s:s}, s:{s:s}, s:O, s:o, s:o, s:o}",
	    "name", name, "task_id", "value", inst->id, "agent_id", "value",
	    inst->agent_id, "resources", resources,
	    "command", command(a, environment(m, a, inst)),
	    "labels", taskinfo_labels(&a->labels),
	    "discovery", discovery(a, inst, name));
	if (a->docker_image && a->container) {
		json_t *c = json_pack("{s:s, s:{s:s}}", "type", "MESOS", "mesos",
		    "image", "type", "DOCKER");

		json_object_set_new(json_object_get(json_object_get(c, "mesos"),
		    "image"), "docker", json_pack("{s:s}", "name", a->docker_image));
		json_object_set_new(t, "container", c);
	}
	if ((hc = mesos_health_check(a, inst)) != NULL)
		json_object_set_new(t, "health_check", hc);
	if (a->kill_grace >= 0)
		json_object_set_new(t, "kill_policy", json_pack("{s:{s:I}}",
		    "grace_period", "nanoseconds", (json_int_t)a->kill_grace *
		    1000000000LL));
	return t;
}
