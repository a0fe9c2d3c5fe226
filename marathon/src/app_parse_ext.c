/*
 * app_parse_ext: the structured parts of an app definition: health checks
 * (Marathon-run HTTP/HTTPS/TCP and executor-run COMMAND/MESOS_*),
 * readiness checks, the container and the networks (with the translation
 * of the deprecated container.docker.network and ipAddress fields).
 * Problems are recorded under their JSON paths, as in app_parse.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

static void
parse_one_hc(const json_t *o, const char *path, struct app *a,
    struct json_errs *e)
{
	struct health_check hc = { .protocol = HC_HTTP, .port_index = -1,
		.grace_period = 300, .interval = 60, .timeout = 20,
		.max_failures = 3, .delay = 15 };
	const char *proto = "HTTP", *p = NULL, *ipp = "IPv4";
	const json_t *cmd;
	json_int_t n;
	size_t before = errs_total(e);
	char sub[JSON_PATH_MAX];
	int kind;

	if (!json_is_object(o)) {
		json_errs_add(e, path, "error.expected.jsobject");
		return;
	}
	if (json_get_str(o, path, "protocol", 0, &proto, e) == 1) {
		if ((kind = hc_protocol_parse(proto)) < 0) {
			json_path_key(sub, sizeof(sub), path, "protocol");
			json_errs_add(e, sub, "is not one of (HTTP,HTTPS,TCP,COMMAND,"
			    "MESOS_HTTP,MESOS_HTTPS,MESOS_TCP)");
		} else {
			hc.protocol = (enum hc_protocol)kind;
		}
	}
	if (json_get_str(o, path, "path", 0, &p, e) == 1)
		hc.path = xstrdup(p);
	else if (hc.protocol == HC_HTTP || hc.protocol == HC_HTTPS ||
	    hc.protocol == HC_MESOS_HTTP || hc.protocol == HC_MESOS_HTTPS)
		hc.path = xstrdup("/");
	if (json_get_int(o, path, "portIndex", 0, 0, INT_MAX, &n, e) == 1)
		hc.port_index = (int)n;
	if (json_get_int(o, path, "port", 0, 0, 65535, &n, e) == 1)
		hc.port = (int)n;
	if (json_get_object(o, path, "command", 0, &cmd, e) == 1) {
		const char *v;

		json_path_key(sub, sizeof(sub), path, "command");
		if (json_get_str(cmd, sub, "value", JF_REQUIRED | JF_NONEMPTY, &v,
		    e) == 1)
			hc.command = xstrdup(v);
		hc.protocol = HC_COMMAND;
	} else if (hc.protocol == HC_COMMAND) {
		json_path_key(sub, sizeof(sub), path, "command");
		json_errs_add(e, sub, "error.path.missing");
	}
	if (json_get_int(o, path, "gracePeriodSeconds", 0, 0, INT_MAX, &n, e) == 1)
		hc.grace_period = (int)n;
	if (json_get_int(o, path, "intervalSeconds", 0, 1, INT_MAX, &n, e) == 1)
		hc.interval = (int)n;
	if (json_get_int(o, path, "timeoutSeconds", 0, 1, INT_MAX, &n, e) == 1)
		hc.timeout = (int)n;
	if (json_get_int(o, path, "maxConsecutiveFailures", 0, 0, INT_MAX, &n,
	    e) == 1)
		hc.max_failures = (int)n;
	if (json_get_int(o, path, "delaySeconds", 0, 0, INT_MAX, &n, e) == 1)
		hc.delay = (int)n;
	json_get_bool(o, path, "ignoreHttp1xx", 0, &hc.ignore_http1xx, e);
	if (json_get_str(o, path, "ipProtocol", 0, &ipp, e) == 1) {
		json_path_key(sub, sizeof(sub), path, "ipProtocol");
		if (strcmp(ipp, "IPv4") && strcmp(ipp, "IPv6"))
			json_errs_add(e, sub, "is not one of (IPv4,IPv6)");
		else if (strcmp(ipp, "IPv6") == 0)
			json_errs_add(e, path, "IPv6 can only be used for container "
			    "type DOCKER and Mesos http/https/tcp health checks");
	}
	/* Marathon's normalization: a port index of 0 when none is given */
	if (hc.protocol != HC_COMMAND && hc.port_index < 0 && hc.port == 0)
		hc.port_index = 0;
	if (hc.protocol != HC_COMMAND && hc.port == 0 && hc.port_index >= 0 &&
	    (size_t)hc.port_index >= a->nports)
		json_errs_add(e, path, "Health check port indices must address an "
		    "element of the ports array or container port mappings.");
	if (errs_total(e) > before) {
		free(hc.path);
		free(hc.command);
		return;
	}
	a->hcs = xrealloc(a->hcs, (a->nhcs + 1) * sizeof(*a->hcs));
	a->hcs[a->nhcs++] = hc;
}

void
parse_health_checks(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *arr, *o;
	size_t i, mesos = 0;

	if (json_get_array(doc, "", "healthChecks", 0, &arr, e) != 1)
		return;
	json_array_foreach(arr, i, o) {
		char path[JSON_PATH_MAX];

		json_path_index(path, sizeof(path), "/healthChecks", i);
		parse_one_hc(o, path, a, e);
	}
	for (i = 0; i < a->nhcs; i++)
		if (!hc_marathon_side(&a->hcs[i]) && a->hcs[i].protocol != HC_COMMAND)
			mesos++;
	if (mesos > 1)
		json_errs_add(e, "/", "AppDefinition can contain at most one Mesos "
		    "health check");
}

void
parse_readiness_checks(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *arr, *o;
	size_t i;

	if (json_get_array(doc, "", "readinessChecks", 0, &arr, e) != 1)
		return;
	if (json_array_size(arr) > 1)
		json_errs_add(e, "/readinessChecks", "got %zu, expected 1 or less",
		    json_array_size(arr));
	a->rcs = xcalloc(json_array_size(arr), sizeof(*a->rcs));
	json_array_foreach(arr, i, o) {
		char path[JSON_PATH_MAX], sub[JSON_PATH_MAX];
		struct readiness_check rc = { .interval = 30, .timeout = 10 };
		const char *name = "readinessCheck", *proto = "HTTP", *p = "/";
		const char *port = "http-api";
		const json_t *codes;
		json_int_t n;
		size_t before = errs_total(e);

		json_path_index(path, sizeof(path), "/readinessChecks", i);
		if (!json_is_object(o)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		json_get_str(o, path, "name", JF_NONEMPTY, &name, e);
		if (json_get_str(o, path, "protocol", 0, &proto, e) == 1 &&
		    strcmp(proto, "HTTP") && strcmp(proto, "HTTPS")) {
			json_path_key(sub, sizeof(sub), path, "protocol");
			json_errs_add(e, sub, "is not one of (HTTP,HTTPS)");
		}
		json_get_str(o, path, "path", 0, &p, e);
		json_get_str(o, path, "portName", JF_NONEMPTY, &port, e);
		if (json_get_int(o, path, "intervalSeconds", 0, 1, INT_MAX, &n,
		    e) == 1)
			rc.interval = (int)n;
		if (json_get_int(o, path, "timeoutSeconds", 0, 1, INT_MAX, &n,
		    e) == 1)
			rc.timeout = (int)n;
		if (rc.timeout >= rc.interval) {
			json_path_key(sub, sizeof(sub), path, "timeoutSeconds");
			json_errs_add(e, sub, "got %d, expected less than %d",
			    rc.timeout, rc.interval);
		}
		json_get_bool(o, path, "preserveLastResponse", 0,
		    &rc.preserve_last_response, e);
		if (json_get_array(o, path, "httpStatusCodesForReady", 0, &codes,
		    e) == 1 && json_array_size(codes)) {
			size_t k;
			json_t *c;

			rc.codes = xcalloc(json_array_size(codes), sizeof(int));
			json_array_foreach(codes, k, c) {
				if (!json_is_integer(c) || json_integer_value(c) < 100 ||
				    json_integer_value(c) > 999) {
					json_path_key(sub, sizeof(sub), path,
					    "httpStatusCodesForReady");
					json_errs_add(e, sub, "must contain HTTP status codes");
					break;
				}
				rc.codes[rc.ncodes++] = (int)json_integer_value(c);
			}
		} else {
			rc.codes = xcalloc(1, sizeof(int));
			rc.codes[rc.ncodes++] = 200;
		}
		if (app_port_index(a, port) < 0) {
			json_path_key(sub, sizeof(sub), path, "portName");
			json_errs_add(e, sub, "No port definition reference for "
			    "portName %s", port);
		}
		rc.name = xstrdup(name);
		rc.https = strcmp(proto, "HTTPS") == 0;
		rc.path = xstrdup(p);
		rc.port_name = xstrdup(port);
		if (errs_total(e) > before) {
			free(rc.name);
			free(rc.path);
			free(rc.port_name);
			free(rc.codes);
			continue;
		}
		a->rcs[a->nrcs++] = rc;
	}
}

/* --- networks and containers --- */

static json_t *
parse_networks(const json_t *arr, struct json_errs *e)
{
	json_t *out = json_array(), *o;
	size_t i, hosts = 0, bridges = 0;

	json_array_foreach(arr, i, o) {
		char path[JSON_PATH_MAX];
		const char *mode = "container", *name = NULL;
		struct kvlist labels = { 0 };
		json_t *n;

		json_path_index(path, sizeof(path), "/networks", i);
		if (!json_is_object(o)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		if (json_get_str(o, path, "mode", 0, &mode, e) == 1 &&
		    strcmp(mode, "host") && strcmp(mode, "container/bridge") &&
		    strcmp(mode, "container")) {
			char sub[JSON_PATH_MAX];

			json_path_key(sub, sizeof(sub), path, "mode");
			json_errs_add(e, sub, "is not one of (container,"
			    "container/bridge,host)");
			continue;
		}
		json_get_str(o, path, "name", JF_NONEMPTY, &name, e);
		parse_labels(o, path, "labels", &labels, e);
		hosts += strcmp(mode, "host") == 0;
		bridges += strcmp(mode, "container/bridge") == 0;
		n = json_pack("{s:s}", "mode", mode);
		if (name)
			json_object_set_new(n, "name", json_string(name));
		if (labels.n) {
			json_t *l = json_object();

			for (size_t k = 0; k < labels.n; k++)
				json_object_set_new(l, labels.v[k].key,
				    json_string(labels.v[k].value));
			json_object_set_new(n, "labels", l);
		}
		kv_free(&labels);
		json_array_append_new(out, n);
	}
	if ((hosts && json_array_size(arr) > 1) || bridges > 1)
		json_errs_add(e, "/networks", "host and container/bridge networks "
		    "must be the only network");
	return out;
}

/* The deprecated ipAddress: {networkName, groups, labels, discovery:
 * {ports: [{number, name, protocol}]}}. */
static void
check_ip_address(const json_t *doc, struct json_errs *e)
{
	const json_t *ip, *disc, *ports, *p;
	const char *s;
	char **groups = NULL;
	struct kvlist labels = { 0 };
	size_t ngroups = 0, i;

	if (json_get_object(doc, "", "ipAddress", 0, &ip, e) != 1)
		return;
	json_get_str(ip, "/ipAddress", "networkName", JF_NONEMPTY, &s, e);
	parse_str_array(ip, "/ipAddress", "groups", &groups, &ngroups, e);
	strv_free(groups, ngroups);
	parse_labels(ip, "/ipAddress", "labels", &labels, e);
	kv_free(&labels);
	if (json_get_object(ip, "/ipAddress", "discovery", 0, &disc, e) != 1 ||
	    json_get_array(disc, "/ipAddress/discovery", "ports", 0, &ports,
	    e) != 1)
		return;
	json_array_foreach(ports, i, p) {
		char pp[JSON_PATH_MAX];
		json_int_t n;

		json_path_index(pp, sizeof(pp), "/ipAddress/discovery/ports", i);
		json_get_int(p, pp, "number", JF_REQUIRED, 1, 65535, &n, e);
		json_get_str(p, pp, "name", JF_REQUIRED | JF_NONEMPTY, &s, e);
		if (json_get_str(p, pp, "protocol", 0, &s, e) == 1 &&
		    strcmp(s, "tcp") && strcmp(s, "udp")) {
			char sub[JSON_PATH_MAX];

			json_path_key(sub, sizeof(sub), pp, "protocol");
			json_errs_add(e, sub, "is not one of (tcp,udp)");
		}
	}
}

/* The deprecated docker.network and ipAddress as a networks array. */
static json_t *
legacy_networks(const json_t *doc, const json_t *docker, struct json_errs *e)
{
	const json_t *ip = json_object_get(doc, "ipAddress");
	const char *dn = json_string_value(json_object_get(docker, "network"));
	const char *name = json_string_value(json_object_get(ip, "networkName"));

	if (dn && strcmp(dn, "HOST") == 0)
		return json_pack("[{s:s}]", "mode", "host");
	if (dn && strcmp(dn, "BRIDGE") == 0)
		return json_pack("[{s:s}]", "mode", "container/bridge");
	if ((dn && strcmp(dn, "USER") == 0) || json_is_object(ip)) {
		json_t *n = json_pack("{s:s}", "mode", "container");

		if (name)
			json_object_set_new(n, "name", json_string(name));
		return json_pack("[o]", n);
	}
	if (dn) {
		json_errs_add(e, "/container/docker/network", "unsupported docker "
		    "network type %s", dn);
		return json_pack("[{s:s}]", "mode", "host");
	}
	return NULL;
}

static void
parse_port_mappings(const json_t *arr, const char *base, struct app *a,
    bool bridge, struct json_errs *e)
{
	const json_t *o;
	size_t i;

	a->ports = xcalloc(json_array_size(arr), sizeof(*a->ports));
	json_array_foreach(arr, i, o) {
		char path[JSON_PATH_MAX];
		struct port_def *pd = &a->ports[a->nports];

		json_path_index(path, sizeof(path), base, i);
		if (parse_port(o, path, true, pd, e) == -1) {
			port_def_clear(pd);
			continue;
		}
		if (bridge && pd->host_port < 0)
			pd->host_port = 0; /* bridge: missing host ports are 0 */
		a->nports++;
	}
}

static json_t *
parse_volumes(const json_t *arr, struct json_errs *e)
{
	json_t *out = json_array(), *o;
	size_t i;

	json_array_foreach(arr, i, o) {
		char path[JSON_PATH_MAX];
		const char *cp, *mode = "RW";

		json_path_index(path, sizeof(path), "/container/volumes", i);
		if (!json_is_object(o)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		json_get_str(o, path, "containerPath", JF_REQUIRED | JF_NONEMPTY,
		    &cp, e);
		if (json_get_str(o, path, "mode", 0, &mode, e) == 1 &&
		    strcmp(mode, "RO") && strcmp(mode, "RW")) {
			char sub[JSON_PATH_MAX];

			json_path_key(sub, sizeof(sub), path, "mode");
			json_errs_add(e, sub, "is not one of (RO,RW)");
		}
		json_array_append(out, o);
	}
	return out;
}

void
parse_container_networks(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *c = NULL, *docker = NULL, *nets = NULL, *pm, *vols;
	json_t *networks = NULL, *out;
	const char *type = "DOCKER", *image = NULL;

	check_ip_address(doc, e);
	json_get_object(doc, "", "container", 0, &c, e);
	if (c)
		json_get_object(c, "/container", "docker", 0, &docker, e);
	if (json_get_array(doc, "", "networks", 0, &nets, e) == 1 &&
	    json_array_size(nets)) {
		if (docker && json_object_get(docker, "network"))
			json_errs_add(e, "/", "must not specify both "
			    "container.docker.network and networks");
		if (json_object_get(doc, "ipAddress"))
			json_errs_add(e, "/", "must not specify both networks and "
			    "ipAddress");
		networks = parse_networks(nets, e);
	} else {
		networks = legacy_networks(doc, docker, e);
	}
	if (networks == NULL)
		networks = json_pack("[{s:s}]", "mode", "host");
	a->networks = networks;
	a->host_network = strcmp(json_str_or(json_array_get(networks, 0), "mode",
	    "host"), "host") == 0;
	if (!a->host_network)
		a->require_ports = false;
	if (c == NULL)
		return;

	out = json_object();
	if (json_get_str(c, "/container", "type", 0, &type, e) == 1 &&
	    strcmp(type, "DOCKER") && strcmp(type, "MESOS")) {
		json_errs_add(e, "/container/type", "is not one of (DOCKER,MESOS)");
		type = "DOCKER";
	}
	json_object_set_new(out, "type", json_string(type));
	if (docker) {
		bool force = false, priv = false;
		const json_t *params = NULL;
		json_t *d;

		if (json_get_str(docker, "/container/docker", "image",
		    strcmp(type, "DOCKER") == 0 ? JF_REQUIRED | JF_NONEMPTY :
		    JF_NONEMPTY, &image, e) == 1)
			a->docker_image = xstrdup(image);
		json_get_bool(docker, "/container/docker", "forcePullImage", 0,
		    &force, e);
		json_get_bool(docker, "/container/docker", "privileged", 0, &priv,
		    e);
		if (json_get_array(docker, "/container/docker", "parameters", 0,
		    &params, e) == 1) {
			size_t k;
			json_t *pa;

			json_array_foreach(params, k, pa) {
				char pp[JSON_PATH_MAX];
				const char *kv;

				json_path_index(pp, sizeof(pp), "/container/docker/parameters",
				    k);
				json_get_str(pa, pp, "key", JF_REQUIRED | JF_NONEMPTY, &kv, e);
				json_get_str(pa, pp, "value", JF_REQUIRED, &kv, e);
			}
		}
		d = json_pack("{s:s?, s:b, s:b, s:o}", "image", image,
		    "forcePullImage", force, "privileged", priv, "parameters",
		    params ? json_incref((json_t *)params) : json_array());
		if (json_object_get(docker, "credential"))
			json_object_set(d, "credential", json_object_get(docker,
			    "credential"));
		if (json_object_get(docker, "pullConfig"))
			json_object_set(d, "pullConfig", json_object_get(docker,
			    "pullConfig"));
		json_object_set_new(out, "docker", d);
	} else if (strcmp(type, "DOCKER") == 0) {
		json_errs_add(e, "/container/docker", "error.path.missing");
	}
	if (json_is_object(json_object_get(c, "appc")))
		json_object_set(out, "appc", json_object_get(c, "appc"));
	if (json_get_array(c, "/container", "volumes", 0, &vols, e) == 1)
		json_object_set_new(out, "volumes", parse_volumes(vols, e));
	else
		json_object_set_new(out, "volumes", json_array());
	pm = json_object_get(c, "portMappings");
	if (!json_is_array(pm) && docker)
		pm = json_object_get(docker, "portMappings");
	if (json_is_array(pm) && json_array_size(pm)) {
		if (a->host_network)
			json_errs_add(e, "/", "portMappings are not allowed with "
			    "host-networking");
		else
			parse_port_mappings(pm, json_object_get(c, "portMappings") ?
			    "/container/portMappings" :
			    "/container/docker/portMappings", a,
			    strcmp(json_str_or(json_array_get(networks, 0), "mode", ""),
			    "container/bridge") == 0, e);
	}
	if (!a->host_network) {
		a->has_port_defs = false;
		if (a->nports == 0 && strcmp(json_str_or(json_array_get(networks,
		    0), "mode", ""), "container/bridge") == 0) {
			/* Marathon's default port mapping in bridge mode */
			a->ports = xcalloc(1, sizeof(*a->ports));
			a->ports[0].protocol = xstrdup("tcp");
			a->ports[0].container_port = 0;
			a->ports[0].host_port = 0;
			a->nports = 1;
		}
	}
	a->container = out;
}
