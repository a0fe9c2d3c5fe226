/*
 * pod_container: the containers of a pod definition (Marathon's
 * PodContainer RAML): name, resources (defaults 1 cpu, 128 MB as
 * Marathon), exec.command (shell or argv), environment, labels, user,
 * image, endpoints (a host port 0 by default on host networking, names
 * and fixed host ports unique in the pod), healthCheck (http, tcp or
 * exec, naming one of the container's endpoints), artifacts and
 * lifecycle. Problems are recorded under their JSON paths
 * ("/containers(0)/endpoints(1)/name"). The pod level is pod_parse.c.
 */
#include <limits.h>
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
void
pod_parse_env(const json_t *obj, const char *base, struct env_var **env,
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
	pod_parse_env(c, path, &pc->env, &pc->nenv, e);
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

void
pod_parse_containers(const json_t *doc, struct pod_spec *ps, json_t *norm,
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
	check_endpoints(ps, e);
}
