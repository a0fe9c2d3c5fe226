/*
 * app_json: struct app rendered as Marathon 1.6 shows an app definition
 * (AppConversion's writer: deprecated fields are not written, empty lists
 * marked omitEmpty are left out, defaults are explicit), and the "config
 * changed" test used to tell a restart from a scale.
 */
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

static json_t *
labels_json(const struct kvlist *l)
{
	json_t *o = json_object();

	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->v[i].key, json_string(l->v[i].value));
	return o;
}

static json_t *
strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
hc_to_json(const struct health_check *hc)
{
	json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:s}",
	    "gracePeriodSeconds", hc->grace_period,
	    "intervalSeconds", hc->interval,
	    "maxConsecutiveFailures", hc->max_failures,
	    "timeoutSeconds", hc->timeout,
	    "delaySeconds", hc->delay,
	    "protocol", hc_protocol_name(hc->protocol));

	if (hc->protocol == HC_COMMAND) {
		json_object_set_new(o, "command", json_pack("{s:s}", "value",
		    hc->command ? hc->command : ""));
		return o;
	}
	if (hc->port)
		json_object_set_new(o, "port", json_integer(hc->port));
	else if (hc->port_index >= 0)
		json_object_set_new(o, "portIndex", json_integer(hc->port_index));
	if (hc->path)
		json_object_set_new(o, "path", json_string(hc->path));
	json_object_set_new(o, "ipProtocol", json_string(hc->ipv6 ? "IPv6" :
	    "IPv4"));
	if (hc->protocol == HC_HTTP || hc->protocol == HC_HTTPS)
		json_object_set_new(o, "ignoreHttp1xx",
		    json_boolean(hc->ignore_http1xx));
	return o;
}

static json_t *
rc_json(const struct readiness_check *rc)
{
	json_t *codes = json_array();

	for (size_t i = 0; i < rc->ncodes; i++)
		json_array_append_new(codes, json_integer(rc->codes[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:b}",
	    "name", rc->name, "protocol", rc->https ? "HTTPS" : "HTTP",
	    "path", rc->path, "portName", rc->port_name,
	    "intervalSeconds", rc->interval, "timeoutSeconds", rc->timeout,
	    "httpStatusCodesForReady", codes,
	    "preserveLastResponse", rc->preserve_last_response);
}

static json_t *
port_json(const struct port_def *pd, bool mapping)
{
	json_t *o = json_object();

	if (mapping) {
		json_object_set_new(o, "containerPort",
		    json_integer(pd->container_port));
		if (pd->host_port >= 0)
			json_object_set_new(o, "hostPort", json_integer(pd->host_port));
		json_object_set_new(o, "servicePort", json_integer(pd->port));
	} else {
		json_object_set_new(o, "port", json_integer(pd->port));
	}
	json_object_set_new(o, "protocol", json_string(pd->protocol));
	if (pd->name)
		json_object_set_new(o, "name", json_string(pd->name));
	if (pd->labels.n)
		json_object_set_new(o, "labels", labels_json(&pd->labels));
	if (mapping && pd->nnetwork_names)
		json_object_set_new(o, "networkNames", strv_json(pd->network_names,
		    pd->nnetwork_names));
	return o;
}

static void
add_lists(json_t *o, const struct app *a)
{
	if (a->nconstraints) {
		json_t *cs = json_array();

		for (size_t i = 0; i < a->nconstraints; i++) {
			const struct constraint *c = &a->constraints[i];
			json_t *arr = json_pack("[s, s]", c->field,
			    constraint_op_name(c->op));

			if (c->value)
				json_array_append_new(arr, json_string(c->value));
			json_array_append_new(cs, arr);
		}
		json_object_set_new(o, "constraints", cs);
	}
	if (a->ndeps)
		json_object_set_new(o, "dependencies", strv_json(a->deps, a->ndeps));
	if (a->nstore_urls)
		json_object_set_new(o, "storeUrls", strv_json(a->store_urls,
		    a->nstore_urls));
	if (a->nenv) {
		json_t *env = json_object();

		for (size_t i = 0; i < a->nenv; i++)
			json_object_set_new(env, a->env[i].name, a->env[i].secret ?
			    json_pack("{s:s}", "secret", a->env[i].secret) :
			    json_string(a->env[i].value));
		json_object_set_new(o, "env", env);
	}
	if (a->nfetch) {
		json_t *f = json_array();

		for (size_t i = 0; i < a->nfetch; i++) {
			const struct fetch_uri *u = &a->fetch[i];
			json_t *e = json_pack("{s:s, s:b, s:b, s:b}", "uri", u->uri,
			    "extract", u->extract, "executable", u->executable,
			    "cache", u->cache);

			if (u->dest_path)
				json_object_set_new(e, "destPath",
				    json_string(u->dest_path));
			json_array_append_new(f, e);
		}
		json_object_set_new(o, "fetch", f);
	}
	if (a->nhcs) {
		json_t *h = json_array();

		for (size_t i = 0; i < a->nhcs; i++)
			json_array_append_new(h, hc_to_json(&a->hcs[i]));
		json_object_set_new(o, "healthChecks", h);
	}
	if (a->nrcs) {
		json_t *r = json_array();

		for (size_t i = 0; i < a->nrcs; i++)
			json_array_append_new(r, rc_json(&a->rcs[i]));
		json_object_set_new(o, "readinessChecks", r);
	}
	if (a->secrets.n) {
		json_t *s = json_object();

		for (size_t i = 0; i < a->secrets.n; i++)
			json_object_set_new(s, a->secrets.v[i].key, json_pack("{s:s}",
			    "source", a->secrets.v[i].value));
		json_object_set_new(o, "secrets", s);
	}
}

json_t *
app_to_json(const struct app *a)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(a->id ? a->id : ""));
	if (a->has_roles)
		json_object_set_new(o, "acceptedResourceRoles", strv_json(a->roles,
		    a->nroles));
	if (a->has_args)
		json_object_set_new(o, "args", strv_json(a->args, a->nargs));
	json_object_set_new(o, "backoffFactor", json_real(a->backoff_factor));
	json_object_set_new(o, "backoffSeconds", json_integer(a->backoff_seconds));
	if (a->cmd)
		json_object_set_new(o, "cmd", json_string(a->cmd));
	if (a->container) {
		json_t *c = json_deep_copy(a->container);

		if (!a->host_network && a->nports) {
			json_t *pm = json_array();

			for (size_t i = 0; i < a->nports; i++)
				json_array_append_new(pm, port_json(&a->ports[i], true));
			json_object_set_new(c, "portMappings", pm);
		}
		json_object_set_new(o, "container", c);
	}
	json_object_set_new(o, "cpus", json_real(a->cpus));
	json_object_set_new(o, "disk", json_real(a->disk));
	json_object_set_new(o, "executor", json_string(a->executor));
	json_object_set_new(o, "gpus", json_integer(a->gpus));
	json_object_set_new(o, "instances", json_integer(a->instances));
	json_object_set_new(o, "labels", labels_json(&a->labels));
	json_object_set_new(o, "maxLaunchDelaySeconds",
	    json_integer(a->max_launch_delay));
	json_object_set_new(o, "mem", json_real(a->mem));
	json_object_set(o, "networks", a->networks);
	if (a->has_port_defs) {
		json_t *pd = json_array();

		for (size_t i = 0; i < a->nports; i++)
			json_array_append_new(pd, port_json(&a->ports[i], false));
		json_object_set_new(o, "portDefinitions", pd);
	}
	if (a->residency)
		json_object_set(o, "residency", a->residency);
	json_object_set_new(o, "requirePorts", json_boolean(a->require_ports));
	if (a->kill_grace >= 0)
		json_object_set_new(o, "taskKillGracePeriodSeconds",
		    json_integer(a->kill_grace));
	json_object_set_new(o, "upgradeStrategy", json_pack("{s:f, s:f}",
	    "maximumOverCapacity", a->max_over, "minimumHealthCapacity",
	    a->min_health));
	if (a->user)
		json_object_set_new(o, "user", json_string(a->user));
	if (a->version[0]) {
		json_object_set_new(o, "version", json_string(a->version));
		json_object_set_new(o, "versionInfo", json_pack("{s:s, s:s}",
		    "lastScalingAt", a->last_scaling_at[0] ? a->last_scaling_at :
		    a->version, "lastConfigChangeAt", a->last_config_change_at[0] ?
		    a->last_config_change_at : a->version));
	}
	if (a->unreachable_disabled)
		json_object_set_new(o, "unreachableStrategy", json_string("disabled"));
	else
		json_object_set_new(o, "unreachableStrategy", json_pack("{s:i, s:i}",
		    "inactiveAfterSeconds", a->inactive_after,
		    "expungeAfterSeconds", a->expunge_after));
	json_object_set_new(o, "killSelection", json_string(a->kill_selection ==
	    KILL_OLDEST_FIRST ? "OLDEST_FIRST" : "YOUNGEST_FIRST"));
	if (a->tty >= 0)
		json_object_set_new(o, "tty", json_boolean(a->tty));
	add_lists(o, a);
	return o;
}

char *
app_to_text(const struct app *a)
{
	json_t *o = app_to_json(a);
	char *text = json_compact(o);

	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

bool
app_config_differs(const struct app *a, const struct app *b)
{
	json_t *x = app_to_json(a), *y = app_to_json(b);
	static const char *const volatile_keys[] = { "instances", "version",
		"versionInfo" };
	bool differs;

	for (size_t i = 0; i < 3; i++) {
		json_object_del(x, volatile_keys[i]);
		json_object_del(y, volatile_keys[i]);
	}
	differs = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return differs;
}
