/*
 * pod_parse: a pod definition (Marathon's PodDefinition RAML) from JSON
 * into a struct pod: its normalized definition (defaults filled in as
 * Marathon 1.6 does: resources, host ports 0 on host networking, scaling,
 * scheduling, executorResources) and the run spec the scheduler uses, an
 * app whose pod member holds the containers. Every problem is recorded
 * under its JSON path ("/containers(0)/resources/cpus") for a 422.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

/* Container and endpoint names: lowercase letters, digits and dashes. */
static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return false;
	return true;
}

/* "environment": {"NAME": "value" | {"secret": "name"}} */
static void
parse_env_map(const json_t *obj, const char *base, struct env_var **env,
    size_t *nenv, struct json_errs *e)
{
	const json_t *m;
	const char *k;
	json_t *v;

	if (json_get_object(obj, base, "environment", 0, &m, e) != 1)
		return;
	json_object_foreach((json_t *)m, k, v) {
		char path[JSON_PATH_MAX], ep[JSON_PATH_MAX];
		struct env_var ev = { 0 };

		json_path_key(ep, sizeof(ep), base, "environment");
		json_path_key(path, sizeof(path), ep, k);
		if (k[0] == '\0') {
			json_errs_add(e, path, "must not be empty");
			continue;
		}
		if (json_is_string(v))
			ev.value = xstrdup(json_string_value(v));
		else if (json_is_object(v) && json_is_string(json_object_get(v,
		    "secret")))
			ev.secret = xstrdup(json_string_value(json_object_get(v,
			    "secret")));
		else {
			json_errs_add(e, path, "error.expected.jsstring");
			continue;
		}
		ev.name = xstrdup(k);
		*env = xrealloc(*env, (*nenv + 1) * sizeof(**env));
		(*env)[(*nenv)++] = ev;
	}
}

/* exec.command: {"shell": "..."} or {"argv": [...]} */
static void
parse_command(const json_t *o, const char *base, char **shell, char ***argv,
    size_t *nargv, struct json_errs *e)
{
	const json_t *cmd;
	char path[JSON_PATH_MAX];
	const char *sh;
	int has_sh, has_argv;

	if (json_get_object(o, base, "command", JF_REQUIRED, &cmd, e) != 1)
		return;
	json_path_key(path, sizeof(path), base, "command");
	has_sh = json_get_str(cmd, path, "shell", JF_NONEMPTY, &sh, e);
	has_argv = parse_str_array(cmd, path, "argv", argv, nargv, e);
	if (has_sh == 1)
		*shell = xstrdup(sh);
	if ((has_sh == 1) == (has_argv == 1))
		json_errs_add(e, path, "must have exactly one of shell or argv");
	else if (has_argv == 1 && *nargv == 0)
		json_errs_add(e, path, "argv must not be empty");
}

static void
parse_endpoints(const json_t *c, const char *base, struct pod_container *pc,
    bool host_network, json_t *norm, struct json_errs *e)
{
	const json_t *arr, *ep;
	char path[JSON_PATH_MAX];
	size_t i;

	if (json_get_array(c, base, "endpoints", 0, &arr, e) != 1)
		return;
	json_path_key(path, sizeof(path), base, "endpoints");
	pc->eps = xcalloc(json_array_size(arr) + 1, sizeof(*pc->eps));
	json_array_foreach(arr, i, ep) {
		struct pod_endpoint *p = &pc->eps[pc->neps];
		char ip[JSON_PATH_MAX];
		const char *name;
		json_int_t port;

		json_path_index(ip, sizeof(ip), path, i);
		if (!json_is_object(ep)) {
			json_errs_add(e, ip, "error.expected.jsobject");
			continue;
		}
		p->container_port = p->host_port = -1;
		if (json_get_str(ep, ip, "name", JF_REQUIRED | JF_NONEMPTY, &name,
		    e) == 1) {
			if (!name_ok(name))
				json_errs_add(e, ip, "name must contain only lowercase "
				    "letters, digits and dashes (at most 63)");
			p->name = xstrdup(name);
		}
		if (json_get_int(ep, ip, "containerPort", 0, 1, 65535, &port,
		    e) == 1)
			p->container_port = (int)port;
		if (json_get_int(ep, ip, "hostPort", 0, 0, 65535, &port, e) == 1)
			p->host_port = (int)port;
		else if (host_network) {
			p->host_port = 0;
			json_object_set_new(json_array_get(norm, i), "hostPort",
			    json_integer(0));
		}
		if (!host_network && p->container_port < 0)
			json_errs_add(e, ip, "containerPort is required on container "
			    "networks");
		parse_str_array(ep, ip, "protocol", &p->protocols, &p->nprotocols,
		    e);
		for (size_t k = 0; k < p->nprotocols; k++)
			if (strcmp(p->protocols[k], "tcp") &&
			    strcmp(p->protocols[k], "udp"))
				json_errs_add(e, ip, "protocol must be tcp or udp");
		parse_labels(ep, ip, "labels", &p->labels, e);
		pc->neps++;
	}
}

static int
hc_int(const json_t *o, const char *base, const char *key, int def,
    struct json_errs *e)
{
	json_int_t n = def;

	json_get_int(o, base, key, 0, 0, INT_MAX, &n, e);
	return (int)n;
}

/* healthCheck: one of http {endpoint, path, scheme}, tcp {endpoint},
 * exec {command}; run by the executor as Mesos checks. */
static void
parse_health(const json_t *c, const char *base, struct pod_container *pc,
    struct json_errs *e)
{
	const json_t *hc, *http = NULL, *tcp = NULL, *exec = NULL;
	struct health_check *h;
	char path[JSON_PATH_MAX], kp[JSON_PATH_MAX];
	const char *s;
	int kinds;

	if (json_get_object(c, base, "healthCheck", 0, &hc, e) != 1)
		return;
	json_path_key(path, sizeof(path), base, "healthCheck");
	h = pc->hc = xcalloc(1, sizeof(*h));
	h->port_index = -1;
	h->grace_period = hc_int(hc, path, "gracePeriodSeconds", 300, e);
	h->interval = hc_int(hc, path, "intervalSeconds", 60, e);
	h->max_failures = hc_int(hc, path, "maxConsecutiveFailures", 3, e);
	h->timeout = hc_int(hc, path, "timeoutSeconds", 20, e);
	h->delay = hc_int(hc, path, "delaySeconds", 15, e);
	kinds = (json_get_object(hc, path, "http", 0, &http, e) == 1) +
	    (json_get_object(hc, path, "tcp", 0, &tcp, e) == 1) +
	    (json_get_object(hc, path, "exec", 0, &exec, e) == 1);
	if (kinds != 1) {
		json_errs_add(e, path, "must have exactly one of http, tcp or exec");
		return;
	}
	if (exec) {
		json_path_key(kp, sizeof(kp), path, "exec");
		h->protocol = HC_COMMAND;
		parse_command(exec, kp, &h->command, &pc->hc_argv, &pc->hc_nargv, e);
		return;
	}
	if (http) {
		json_path_key(kp, sizeof(kp), path, "http");
		h->protocol = HC_MESOS_HTTP;
		if (json_get_str(http, kp, "path", 0, &s, e) == 1)
			h->path = xstrdup(s);
		if (json_get_str(http, kp, "scheme", 0, &s, e) == 1) {
			if (strcmp(s, "HTTPS") == 0)
				h->protocol = HC_MESOS_HTTPS;
			else if (strcmp(s, "HTTP") != 0)
				json_errs_add(e, kp, "scheme must be HTTP or HTTPS");
		}
	} else {
		json_path_key(kp, sizeof(kp), path, "tcp");
		h->protocol = HC_MESOS_TCP;
	}
	if (json_get_str(http ? http : tcp, kp,
	    "endpoint", JF_REQUIRED | JF_NONEMPTY, &s, e) != 1)
		return;
	pc->hc_endpoint = xstrdup(s);
	for (size_t k = 0; k < pc->neps; k++)
		if (pc->eps[k].name && strcmp(pc->eps[k].name, s) == 0)
			return;
	json_errs_add(e, kp, "endpoint '%s' is not an endpoint of this "
	    "container", s);
}

static void
parse_artifacts(const json_t *c, const char *base, struct pod_container *pc,
    struct json_errs *e)
{
	const json_t *arr, *a;
	char path[JSON_PATH_MAX];
	size_t i;

	if (json_get_array(c, base, "artifacts", 0, &arr, e) != 1)
		return;
	json_path_key(path, sizeof(path), base, "artifacts");
	pc->artifacts = xcalloc(json_array_size(arr) + 1, sizeof(*pc->artifacts));
	json_array_foreach(arr, i, a) {
		struct fetch_uri *f = &pc->artifacts[pc->nartifacts];
		char ip[JSON_PATH_MAX];
		const char *s;

		json_path_index(ip, sizeof(ip), path, i);
		if (!json_is_object(a)) {
			json_errs_add(e, ip, "error.expected.jsobject");
			continue;
		}
		if (json_get_str(a, ip, "uri", JF_REQUIRED | JF_NONEMPTY, &s, e) != 1)
			continue;
		f->uri = xstrdup(s);
		json_get_bool(a, ip, "extract", 0, &f->extract, e);
		json_get_bool(a, ip, "executable", 0, &f->executable, e);
		json_get_bool(a, ip, "cache", 0, &f->cache, e);
		if (json_get_str(a, ip, "destPath", 0, &s, e) == 1)
			f->dest_path = xstrdup(s);
		pc->nartifacts++;
	}
}

static void
parse_resources(const json_t *c, const char *base, struct pod_container *pc,
    json_t *norm, struct json_errs *e)
{
	const json_t *res;
	char path[JSON_PATH_MAX];
	json_int_t gpus = 0;

	pc->cpus = 1;
	pc->mem = 128;
	if (json_get_object(c, base, "resources", JF_REQUIRED, &res, e) != 1)
		return;
	json_path_key(path, sizeof(path), base, "resources");
	json_get_double(res, path, "cpus", 0, 0.001, 1e9, &pc->cpus, e);
	json_get_double(res, path, "mem", 0, 0.001, 1e12, &pc->mem, e);
	json_get_double(res, path, "disk", 0, 0, 1e12, &pc->disk, e);
	if (json_get_int(res, path, "gpus", 0, 0, INT_MAX, &gpus, e) == 1 &&
	    gpus > 0)
		json_errs_add(e, path, "Feature gpu_resources is not enabled. "
		    "Enable with --enable_features gpu_resources)");
	json_object_set_new(norm, "resources", json_pack("{s:f, s:f, s:f, s:i}",
	    "cpus", pc->cpus, "mem", pc->mem, "disk", pc->disk, "gpus", 0));
}

static void
parse_container(const json_t *c, const char *path, struct pod_container *pc,
    bool host_network, json_t *norm, struct json_errs *e)
{
	const json_t *o;
	char sub[JSON_PATH_MAX];
	const char *s;
	double grace;

	pc->kill_grace = -1;
	if (json_get_str(c, path, "name", JF_REQUIRED | JF_NONEMPTY, &s, e) == 1) {
		if (!name_ok(s))
			json_errs_add(e, path, "name must contain only lowercase "
			    "letters, digits and dashes (at most 63)");
		pc->name = xstrdup(s);
	}
	parse_resources(c, path, pc, norm, e);
	if (json_get_object(c, path, "exec", 0, &o, e) == 1) {
		json_path_key(sub, sizeof(sub), path, "exec");
		parse_command(o, sub, &pc->shell, &pc->argv, &pc->nargv, e);
	}
	parse_env_map(c, path, &pc->env, &pc->nenv, e);
	parse_labels(c, path, "labels", &pc->labels, e);
	if (json_get_str(c, path, "user", 0, &s, e) == 1)
		pc->user = xstrdup(s);
	if (json_get_object(c, path, "image", 0, &o, e) == 1) {
		json_path_key(sub, sizeof(sub), path, "image");
		if (json_get_str(o, sub, "kind", JF_REQUIRED, &s, e) == 1 &&
		    strcmp(s, "DOCKER") != 0)
			json_errs_add(e, sub, "kind must be DOCKER");
		if (json_get_str(o, sub, "id", JF_REQUIRED | JF_NONEMPTY, &s,
		    e) == 1)
			pc->image = xstrdup(s);
	}
	parse_endpoints(c, path, pc, host_network, json_object_get(norm,
	    "endpoints"), e);
	parse_health(c, path, pc, e);
	parse_artifacts(c, path, pc, e);
	if (json_get_object(c, path, "lifecycle", 0, &o, e) == 1) {
		json_path_key(sub, sizeof(sub), path, "lifecycle");
		if (json_get_double(o, sub, "killGracePeriodSeconds", 0, 0, 1e9,
		    &grace, e) == 1)
			pc->kill_grace = grace;
	}
}

static void
parse_containers(const json_t *doc, struct pod_spec *ps, json_t *norm,
    struct json_errs *e)
{
	const json_t *arr, *c;
	size_t i;

	if (json_get_array(doc, "", "containers", JF_REQUIRED, &arr, e) != 1)
		return;
	if (json_array_size(arr) == 0)
		json_errs_add(e, "/containers", "must not be empty");
	ps->containers = xcalloc(json_array_size(arr) + 1,
	    sizeof(*ps->containers));
	json_array_foreach(arr, i, c) {
		struct pod_container *pc = &ps->containers[ps->ncontainers];
		char path[JSON_PATH_MAX];

		json_path_index(path, sizeof(path), "/containers", i);
		if (!json_is_object(c)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		parse_container(c, path, pc, ps->host_network, json_array_get(
		    json_object_get(norm, "containers"), i), e);
		ps->ncontainers++;
		for (size_t k = 0; pc->name && k + 1 < ps->ncontainers; k++)
			if (ps->containers[k].name &&
			    strcmp(ps->containers[k].name, pc->name) == 0)
				json_errs_add(e, path, "container names must be unique");
	}
}

/* Endpoint names and fixed host ports are unique within the pod. */
static void
check_endpoints(const struct pod_spec *ps, struct json_errs *e)
{
	for (size_t c = 0; c < ps->ncontainers; c++)
		for (size_t k = 0; k < ps->containers[c].neps; k++) {
			const struct pod_endpoint *p = &ps->containers[c].eps[k];

			for (size_t d = 0; d <= c; d++)
				for (size_t j = 0; j < (d == c ? k :
				    ps->containers[d].neps); j++) {
					const struct pod_endpoint *q = &ps->containers[d].eps[j];

					if (p->name && q->name && strcmp(p->name, q->name) == 0)
						json_errs_add(e, "/containers", "endpoint names "
						    "must be unique in the pod: %s", p->name);
					if (p->host_port > 0 && p->host_port == q->host_port)
						json_errs_add(e, "/containers", "host ports must be "
						    "unique in the pod: %d", p->host_port);
				}
		}
}

/* networks: [{"mode": "host" | "container" | "container/bridge", ...}];
 * none means host. */
static bool
parse_networks(const json_t *doc, json_t *out, struct json_errs *e)
{
	const json_t *arr, *n;
	bool host = true;
	size_t i;

	if (json_get_array(doc, "", "networks", 0, &arr, e) != 1 ||
	    json_array_size(arr) == 0) {
		json_object_set_new(out, "networks", json_pack("[{s:s}]", "mode",
		    "host"));
		return true;
	}
	json_array_foreach(arr, i, n) {
		char path[JSON_PATH_MAX];
		const char *mode = "container";

		json_path_index(path, sizeof(path), "/networks", i);
		if (!json_is_object(n)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		json_get_str(n, path, "mode", 0, &mode, e);
		if (strcmp(mode, "host") == 0) {
			if (json_array_size(arr) > 1)
				json_errs_add(e, path, "host networking excludes other "
				    "networks");
		} else if (strcmp(mode, "container") == 0 ||
		    strcmp(mode, "container/bridge") == 0) {
			host = false;
		} else {
			json_errs_add(e, path, "mode must be one of host, container, "
			    "container/bridge");
		}
	}
	return host;
}

static void
parse_placement(const json_t *pl, struct app *a, json_t *norm,
    struct json_errs *e)
{
	const char *base = "/scheduling/placement";
	const json_t *arr, *c;
	size_t i;

	if (parse_str_array(pl, base, "acceptedResourceRoles", &a->roles,
	    &a->nroles, e) == 1 && a->nroles > 0)
		a->has_roles = true;
	if (json_get_array(pl, base, "constraints", 0, &arr, e) != 1)
		return;
	a->constraints = xcalloc(json_array_size(arr) + 1,
	    sizeof(*a->constraints));
	json_array_foreach(arr, i, c) {
		char path[JSON_PATH_MAX], err[256];
		const char *f = NULL, *op = NULL, *v = NULL;

		json_path_index(path, sizeof(path), "/scheduling/placement/"
		    "constraints", i);
		if (json_is_array(c)) {
			/* the app form is taken too: [field, op(, value)] */
			f = json_string_value(json_array_get(c, 0));
			op = json_string_value(json_array_get(c, 1));
			v = json_string_value(json_array_get(c, 2));
		} else if (json_is_object(c)) {
			json_get_str(c, path, "fieldName", JF_REQUIRED, &f, e);
			json_get_str(c, path, "operator", JF_REQUIRED, &op, e);
			json_get_str(c, path, "value", 0, &v, e);
		}
		if (f == NULL || op == NULL) {
			json_errs_add(e, path, "illegal constraint specification");
			continue;
		}
		if (constraint_init(&a->constraints[a->nconstraints], f, op, v, err,
		    sizeof(err)) == -1) {
			json_errs_add(e, path, "%s", err);
			continue;
		}
		a->nconstraints++;
	}
	(void)norm;
}

/* scheduling: backoff, upgrade, placement, killSelection,
 * unreachableStrategy; the normalized form gets every default. */
static void
parse_scheduling(const json_t *doc, struct app *a, json_t *out,
    struct json_errs *e)
{
	const json_t *sc = NULL, *o, *ur;
	json_t *norm = json_object();
	double backoff = 1, factor = 1.15, max_delay = 3600, v;
	const char *ks;

	json_get_object(doc, "", "scheduling", 0, &sc, e);
	if (sc && json_get_object(sc, "/scheduling", "backoff", 0, &o, e) == 1) {
		json_get_double(o, "/scheduling/backoff", "backoff", 0, 0, 1e9,
		    &backoff, e);
		json_get_double(o, "/scheduling/backoff", "backoffFactor", 0, 0,
		    1e9, &factor, e);
		json_get_double(o, "/scheduling/backoff", "maxLaunchDelay", 0, 0,
		    1e9, &max_delay, e);
	}
	a->backoff_seconds = (int)ceil(backoff);
	a->backoff_factor = factor;
	a->max_launch_delay = (int)ceil(max_delay);
	if (sc && json_get_object(sc, "/scheduling", "upgrade", 0, &o, e) == 1) {
		if (json_get_double(o, "/scheduling/upgrade", "minimumHealthCapacity",
		    0, 0, 1, &v, e) == 1)
			a->min_health = v;
		if (json_get_double(o, "/scheduling/upgrade", "maximumOverCapacity",
		    0, 0, 1, &v, e) == 1)
			a->max_over = v;
	}
	if (sc && json_get_object(sc, "/scheduling", "placement", 0, &o, e) == 1)
		parse_placement(o, a, norm, e);
	if (sc && json_get_str(sc, "/scheduling", "killSelection", 0, &ks,
	    e) == 1) {
		if (strcmp(ks, "OLDEST_FIRST") == 0)
			a->kill_selection = KILL_OLDEST_FIRST;
		else if (strcmp(ks, "YOUNGEST_FIRST") != 0)
			json_errs_add(e, "/scheduling/killSelection", "must be one of "
			    "YOUNGEST_FIRST, OLDEST_FIRST");
	}
	ur = sc ? json_object_get(sc, "unreachableStrategy") : NULL;
	if (json_is_string(ur) && strcmp(json_string_value(ur), "disabled") == 0) {
		a->unreachable_disabled = true;
	} else if (json_is_object(ur)) {
		json_int_t in = 0, ex = 0;

		json_get_int(ur, "/scheduling/unreachableStrategy",
		    "inactiveAfterSeconds", 0, 0, INT_MAX, &in, e);
		json_get_int(ur, "/scheduling/unreachableStrategy",
		    "expungeAfterSeconds", 0, 0, INT_MAX, &ex, e);
		if (in > ex)
			json_errs_add(e, "/scheduling/unreachableStrategy",
			    "inactiveAfterSeconds must be less or equal to "
			    "expungeAfterSeconds");
		a->inactive_after = (int)in;
		a->expunge_after = (int)ex;
	} else if (ur && !json_is_null(ur)) {
		json_errs_add(e, "/scheduling/unreachableStrategy", "must be "
		    "\"disabled\" or an object");
	}
	if (sc)
		json_object_update(norm, (json_t *)sc);
	json_object_set_new(norm, "backoff", json_pack("{s:f, s:f, s:f}",
	    "backoff", backoff, "backoffFactor", factor, "maxLaunchDelay",
	    max_delay));
	json_object_set_new(norm, "upgrade", json_pack("{s:f, s:f}",
	    "minimumHealthCapacity", a->min_health, "maximumOverCapacity",
	    a->max_over));
	json_object_set_new(norm, "killSelection", json_string(
	    a->kill_selection == KILL_OLDEST_FIRST ? "OLDEST_FIRST" :
	    "YOUNGEST_FIRST"));
	if (!a->unreachable_disabled)
		json_object_set_new(norm, "unreachableStrategy", json_pack(
		    "{s:i, s:i}", "inactiveAfterSeconds", a->inactive_after,
		    "expungeAfterSeconds", a->expunge_after));
	json_object_set_new(out, "scheduling", norm);
}

static void
parse_executor(const json_t *doc, struct pod_spec *ps, json_t *out,
    struct json_errs *e)
{
	const json_t *er;
	const char *p = "/executorResources";

	ps->exec_cpus = 0.1;
	ps->exec_mem = 32;
	ps->exec_disk = 10;
	if (json_get_object(doc, "", "executorResources", 0, &er, e) == 1) {
		json_get_double(er, p, "cpus", 0, 0, 1e9, &ps->exec_cpus, e);
		json_get_double(er, p, "mem", 0, 0, 1e12, &ps->exec_mem, e);
		json_get_double(er, p, "disk", 0, 0, 1e12, &ps->exec_disk, e);
	}
	json_object_set_new(out, "executorResources", json_pack("{s:f, s:f, s:f}",
	    "cpus", ps->exec_cpus, "mem", ps->exec_mem, "disk", ps->exec_disk));
}

static void
parse_scaling(const json_t *doc, struct app *a, json_t *out,
    struct json_errs *e)
{
	const json_t *sc = NULL;
	json_int_t n = 1;
	const char *kind = "fixed";

	if (json_get_object(doc, "", "scaling", 0, &sc, e) == 1) {
		json_get_int(sc, "/scaling", "instances", 0, 0, INT_MAX, &n, e);
		if (json_get_str(sc, "/scaling", "kind", 0, &kind, e) == 1 &&
		    strcmp(kind, "fixed") != 0)
			json_errs_add(e, "/scaling/kind", "is not one of (fixed)");
	}
	a->instances = (int)n;
	json_object_set_new(out, "scaling", json_pack("{s:s, s:I}", "kind",
	    "fixed", "instances", n));
	if (sc && json_object_get(sc, "maxInstances"))
		json_object_set(json_object_get(out, "scaling"), "maxInstances",
		    json_object_get(sc, "maxInstances"));
}

static void
parse_secrets(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *secrets;
	const char *k;
	json_t *v;

	if (json_get_object(doc, "", "secrets", 0, &secrets, e) != 1)
		return;
	json_object_foreach((json_t *)secrets, k, v) {
		char path[JSON_PATH_MAX];
		const char *source;

		json_path_key(path, sizeof(path), "/secrets", k);
		if (!json_is_object(v))
			json_errs_add(e, path, "error.expected.jsobject");
		else if (json_get_str(v, path, "source", JF_REQUIRED | JF_NONEMPTY,
		    &source, e) == 1)
			kv_set(&a->secrets, k, source);
	}
}

/* The run spec's totals (what /v2/queue and the app fields show). */
static void
sum_resources(struct app *a, const struct pod_spec *ps)
{
	a->cpus = ps->exec_cpus;
	a->mem = ps->exec_mem;
	a->disk = ps->exec_disk;
	for (size_t i = 0; i < ps->ncontainers; i++) {
		a->cpus += ps->containers[i].cpus;
		a->mem += ps->containers[i].mem;
		a->disk += ps->containers[i].disk;
	}
}

struct pod *
pod_parse(const json_t *doc, const char *id_hint, struct json_errs *e)
{
	struct pod_spec *ps;
	struct app *a;
	struct pod *p;
	const char *raw = id_hint, *user;
	char id[PATHID_MAX], err[512];
	json_t *out;
	size_t before = errs_total(e);

	if (!json_is_object(doc)) {
		json_errs_add(e, "", "error.expected.jsobject");
		return NULL;
	}
	if (raw == NULL && json_get_str(doc, "", "id", JF_REQUIRED, &raw, e) != 1)
		return NULL;
	if (pathid_canonical(raw, "/", false, id, sizeof(id), err,
	    sizeof(err)) == -1) {
		json_errs_add(e, "/id", "%s", err);
		return NULL;
	}
	out = json_deep_copy(doc);
	json_object_del(out, "version");
	json_object_set_new(out, "id", json_string(id));
	a = app_new();
	a->id = xstrdup(id);
	a->pod = ps = xcalloc(1, sizeof(*ps));
	a->has_port_defs = false;
	ps->host_network = a->host_network = parse_networks(doc, out, e);
	parse_containers(doc, ps, out, e);
	check_endpoints(ps, e);
	parse_env_map(doc, "", &a->env, &a->nenv, e);
	parse_labels(doc, "", "labels", &a->labels, e);
	parse_secrets(doc, a, e);
	if (json_get_str(doc, "", "user", 0, &user, e) == 1)
		a->user = xstrdup(user);
	parse_scaling(doc, a, out, e);
	parse_scheduling(doc, a, out, e);
	parse_executor(doc, ps, out, e);
	sum_resources(a, ps);
	if (errs_total(e) > before) {
		json_decref(out);
		app_unref(a);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->refs = 1;
	p->id = xstrdup(id);
	p->def = out;
	p->instances = a->instances;
	p->app = a;
	return p;
}

struct pod *
pod_from_store(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL), *def;
	struct json_errs e;
	struct pod *p;

	if (doc == NULL)
		return NULL;
	/* older stores kept the bare definition */
	def = json_object_get(doc, "def") ? json_object_get(doc, "def") : doc;
	json_errs_init(&e);
	p = pod_parse(def, NULL, &e);
	json_errs_free(&e);
	if (p) {
		const char *v = json_str_or(def, "version", "");
		struct app *a = p->app;

		json_object_set_new(p->def, "version", json_string(v));
		snprintf(p->version, sizeof(p->version), "%s", v);
		snprintf(a->version, sizeof(a->version), "%s", v);
		snprintf(a->last_config_change_at, sizeof(a->last_config_change_at),
		    "%s", json_str_or(doc, "lastConfigChangeAt", v));
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    json_str_or(doc, "lastScalingAt", v));
	}
	json_decref(doc);
	return p;
}
