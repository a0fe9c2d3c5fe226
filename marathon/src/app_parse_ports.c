/*
 * app_parse_ports: the parts of an app definition about what a task
 * fetches and which ports it needs: fetch (and the deprecated uris),
 * portDefinitions (and the deprecated ports), and the port entries shared
 * with container portMappings. Problems are recorded under their JSON
 * paths, as in app_parse.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

static bool
uri_extracts(const char *uri)
{
	static const char *const exts[] = { ".tgz", ".tar.gz", ".tbz2",
		".tar.bz2", ".txz", ".tar.xz", ".zip" };
	size_t n = strlen(uri);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t m = strlen(exts[i]);

		if (n >= m && strcmp(uri + n - m, exts[i]) == 0)
			return true;
	}
	return false;
}

void
parse_fetch(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *arr, *f;
	char **uris = NULL;
	size_t nuris = 0, i;
	int has_fetch = json_get_array(doc, "", "fetch", 0, &arr, e);

	if (parse_str_array(doc, "", "uris", &uris, &nuris, e) == 1 && nuris) {
		if (has_fetch == 1 && json_array_size(arr)) {
			json_errs_add(e, "/uris", "may not be set in conjunction with "
			    "fetch");
		} else {
			a->fetch = xcalloc(nuris, sizeof(*a->fetch));
			for (i = 0; i < nuris; i++) {
				a->fetch[i].uri = xstrdup(uris[i]);
				a->fetch[i].extract = uri_extracts(uris[i]);
			}
			a->nfetch = nuris;
		}
	}
	strv_free(uris, nuris);
	if (has_fetch != 1 || a->nfetch)
		return;
	a->fetch = xcalloc(json_array_size(arr), sizeof(*a->fetch));
	json_array_foreach(arr, i, f) {
		char path[JSON_PATH_MAX];
		struct fetch_uri fu = { .extract = true };
		const char *uri, *dest = NULL;

		json_path_index(path, sizeof(path), "/fetch", i);
		if (!json_is_object(f)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		if (json_get_str(f, path, "uri", JF_REQUIRED | JF_NONEMPTY, &uri,
		    e) != 1)
			continue;
		json_get_bool(f, path, "extract", 0, &fu.extract, e);
		json_get_bool(f, path, "executable", 0, &fu.executable, e);
		json_get_bool(f, path, "cache", 0, &fu.cache, e);
		json_get_str(f, path, "destPath", 0, &dest, e);
		fu.uri = xstrdup(uri);
		fu.dest_path = xstrdup(dest);
		a->fetch[a->nfetch++] = fu;
	}
}

static bool
port_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return false;
	return true;
}

void
port_def_clear(struct port_def *pd)
{
	free(pd->protocol);
	free(pd->name);
	kv_free(&pd->labels);
	strv_free(pd->network_names, pd->nnetwork_names);
	memset(pd, 0, sizeof(*pd));
}

/* One portDefinition or portMapping into pd; 0 or -1 (pd still needs
 * port_def_clear). */
int
parse_port(const json_t *o, const char *path, bool mapping,
    struct port_def *pd, struct json_errs *e)
{
	size_t before = errs_total(e);
	json_int_t port = 0, cport = 0, hport = -1, sport = 0;
	const char *proto = "tcp", *name = NULL;

	memset(pd, 0, sizeof(*pd));
	if (!json_is_object(o)) {
		json_errs_add(e, path, "error.expected.jsobject");
		return -1;
	}
	if (mapping) {
		json_get_int(o, path, "containerPort", 0, 0, 65535, &cport, e);
		json_get_int(o, path, "hostPort", 0, 0, 65535, &hport, e);
		json_get_int(o, path, "servicePort", 0, 0, 65535, &sport, e);
		port = sport;
		parse_str_array(o, path, "networkNames", &pd->network_names,
		    &pd->nnetwork_names, e);
	} else {
		json_get_int(o, path, "port", 0, 0, 65535, &port, e);
	}
	if (json_get_str(o, path, "protocol", 0, &proto, e) == 1 &&
	    strcmp(proto, "tcp") && strcmp(proto, "udp") &&
	    strcmp(proto, "udp,tcp") && strcmp(proto, "tcp,udp")) {
		char pp[JSON_PATH_MAX];

		json_path_key(pp, sizeof(pp), path, "protocol");
		json_errs_add(e, pp, "is not one of (tcp,udp,udp,tcp)");
	}
	if (json_get_str(o, path, "name", 0, &name, e) == 1 &&
	    !port_name_ok(name)) {
		char pp[JSON_PATH_MAX];

		json_path_key(pp, sizeof(pp), path, "name");
		json_errs_add(e, pp, "must fully match regular expression "
		    "'^[a-z0-9-]+$'");
	}
	parse_labels(o, path, "labels", &pd->labels, e);
	pd->port = (int)port;
	pd->protocol = xstrdup(proto);
	pd->name = xstrdup(name);
	pd->container_port = mapping ? (int)cport : -1;
	pd->host_port = mapping ? (int)hport : 0;
	return errs_total(e) > before ? -1 : 0;
}

void
parse_port_definitions(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *defs = NULL, *ports = NULL, *p;
	int has_defs = json_get_array(doc, "", "portDefinitions", 0, &defs, e);
	int has_ports = json_get_array(doc, "", "ports", 0, &ports, e);
	size_t i;

	if (has_defs == 1 && has_ports == 1) {
		json_errs_add(e, "/", "cannot specify both ports and port "
		    "definitions");
		return;
	}
	if (has_ports == 1) {
		a->ports = xcalloc(json_array_size(ports), sizeof(*a->ports));
		json_array_foreach(ports, i, p) {
			char path[JSON_PATH_MAX];

			json_path_index(path, sizeof(path), "/ports", i);
			if (!json_is_integer(p) || json_integer_value(p) < 0 ||
			    json_integer_value(p) > 65535) {
				json_errs_add(e, path, "error.expected.jsnumber");
				continue;
			}
			a->ports[a->nports].port = (int)json_integer_value(p);
			a->ports[a->nports].protocol = xstrdup("tcp");
			a->ports[a->nports].container_port = -1;
			a->nports++;
		}
	} else if (has_defs == 1) {
		a->ports = xcalloc(json_array_size(defs), sizeof(*a->ports));
		json_array_foreach(defs, i, p) {
			char path[JSON_PATH_MAX];

			json_path_index(path, sizeof(path), "/portDefinitions", i);
			if (parse_port(p, path, false, &a->ports[a->nports], e) == 0)
				a->nports++;
			else
				port_def_clear(&a->ports[a->nports]);
		}
	} else if (has_defs == 0 && has_ports == 0) {
		/* Marathon's default: one port, assigned a service port */
		a->ports = xcalloc(1, sizeof(*a->ports));
		a->ports[0].protocol = xstrdup("tcp");
		a->ports[0].container_port = -1;
		a->nports = 1;
	}
	for (i = 0; i < a->nports; i++) {
		char path[JSON_PATH_MAX];

		json_path_index(path, sizeof(path), has_ports == 1 ? "/ports" :
		    "/portDefinitions", i);
		for (size_t k = 0; k < i; k++) {
			if (a->ports[i].port && a->ports[i].port == a->ports[k].port)
				json_errs_add(e, "/", "ports must be unique");
			if (a->ports[i].name && a->ports[k].name &&
			    strcmp(a->ports[i].name, a->ports[k].name) == 0)
				json_errs_add(e, "/portDefinitions",
				    "Port names must be unique.");
		}
	}
}
