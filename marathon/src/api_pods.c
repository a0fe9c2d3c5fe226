/*
 * api_pods: /v2/pods, basic: pod definitions are validated (id, one or
 * more named containers with resources, fixed scaling), versioned, stored
 * and served with their status endpoints. Launching pods (LAUNCH_GROUP
 * with the default executor) is not implemented: their status says
 * DEGRADED with no instances while instances are wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

static json_t *
pod_parse(const json_t *doc, const char *id_hint, char *id, size_t size,
    struct json_errs *e)
{
	const json_t *containers, *c, *scaling;
	const char *raw = id_hint;
	char err[512];
	json_t *out;
	size_t i;

	if (!json_is_object(doc)) {
		json_errs_add(e, "", "error.expected.jsobject");
		return NULL;
	}
	if (raw == NULL && json_get_str(doc, "", "id", JF_REQUIRED, &raw, e) != 1)
		return NULL;
	if (pathid_canonical(raw, "/", false, id, size, err, sizeof(err)) == -1) {
		json_errs_add(e, "/id", "%s", err);
		return NULL;
	}
	if (json_get_array(doc, "", "containers", JF_REQUIRED, &containers, e) ==
	    1) {
		if (json_array_size(containers) == 0)
			json_errs_add(e, "/containers", "must not be empty");
		json_array_foreach(containers, i, c) {
			char path[JSON_PATH_MAX], rp[JSON_PATH_MAX];
			const json_t *res;
			const char *name;
			double d;

			json_path_index(path, sizeof(path), "/containers", i);
			if (!json_is_object(c)) {
				json_errs_add(e, path, "error.expected.jsobject");
				continue;
			}
			json_get_str(c, path, "name", JF_REQUIRED | JF_NONEMPTY, &name, e);
			if (json_get_object(c, path, "resources", JF_REQUIRED, &res,
			    e) == 1) {
				json_path_key(rp, sizeof(rp), path, "resources");
				json_get_double(res, rp, "cpus", 0, 0.001, 1e9, &d, e);
				json_get_double(res, rp, "mem", 0, 0, 1e12, &d, e);
				json_get_double(res, rp, "disk", 0, 0, 1e12, &d, e);
			}
		}
	}
	if (json_get_object(doc, "", "scaling", 0, &scaling, e) == 1) {
		json_int_t n;
		const char *kind = "fixed";

		json_get_int(scaling, "/scaling", "instances", 0, 0, 1 << 30, &n, e);
		if (json_get_str(scaling, "/scaling", "kind", 0, &kind, e) == 1 &&
		    strcmp(kind, "fixed") != 0)
			json_errs_add(e, "/scaling/kind", "is not one of (fixed)");
	}
	if (json_errs_count(e))
		return NULL;
	out = json_deep_copy(doc);
	json_object_set_new(out, "id", json_string(id));
	return out;
}

static json_t *
pod_status(struct marathon *m, const struct pod *p)
{
	char ts[VERSION_LEN];

	util_iso8601(clock_wall(), ts);
	return json_pack("{s:s, s:O, s:s, s:s, s:[], s:[], s:s, s:s}", "id",
	    p->id, "spec", p->def, "status", p->instances > 0 ? "DEGRADED" :
	    "STABLE", "statusSince", p->version, "instances",
	    "terminationHistory", "lastUpdated", ts, "lastChanged", p->version);
}

static void
list_pods(struct marathon *m, struct http_req *req)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < m->st->root->npods; i++)
		json_array_append(arr, m->st->root->pods[i]->def);
	http_reply_json(req, 200, arr);
}

struct pod_body {
	json_t *def;
};

static json_t *
pod_body(struct marathon *m, const struct deployment *d, void *arg)
{
	return json_incref(((struct pod_body *)arg)->def);
}

static void
write_pod(struct marathon *m, struct http_req *req, const char *path_id)
{
	json_t *body = http_req_json(req), *def;
	char id[PATHID_MAX], version[VERSION_LEN];
	struct change_opts o = { .version = version, .body_fn = pod_body };
	struct pod_body pb;
	struct json_errs e;
	struct root *target;
	struct pod *p;
	bool exists;

	if (body == NULL)
		return;
	json_errs_init(&e);
	def = pod_parse(body, path_id, id, sizeof(id), &e);
	json_decref(body);
	if (def == NULL) {
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		return;
	}
	json_errs_free(&e);
	exists = root_pod(m->st->root, id) != NULL;
	if (path_id == NULL && exists) {
		json_decref(def);
		http_reply_error(req, 409, "Pod %s already exists", id);
		return;
	}
	util_version_next(version);
	json_object_set_new(def, "version", json_string(version));
	p = xcalloc(1, sizeof(*p));
	p->refs = 1;
	p->id = xstrdup(id);
	p->def = def;
	p->instances = (int)json_num_or(json_object_get(def, "scaling"),
	    "instances", 1);
	snprintf(p->version, sizeof(p->version), "%s", version);
	pb.def = def;
	o.arg = &pb;
	o.status = exists ? 200 : 201;
	o.force = api_flag(req, "force", false);
	target = root_copy(m->st->root);
	root_put_pod(target, p);
	change_submit(m, req, target, &o);
	events_publish(m, exists ? "pod_updated_event" : "pod_created_event",
	    json_pack("{s:s, s:s}", "clientIp", http_req_peer(req), "uri",
	    http_req_path(req)));
}

static void
post_pod(struct marathon *m, struct http_req *req)
{
	write_pod(m, req, NULL);
}

/* "/v2/pods/<id>[::status|::versions[/v]|::instances[/i]]" */
static void
pod_path(struct marathon *m, struct http_req *req)
{
	const char *raw = http_req_param(req, "id");
	char idtext[PATHID_MAX], id[PATHID_MAX], err[512];
	const char *suffix = strstr(raw, "::");
	const char *method = http_req_method(req);
	struct pod *p;

	snprintf(idtext, sizeof(idtext), "%.*s", suffix ? (int)(suffix - raw) :
	    (int)strlen(raw), raw);
	if (suffix && idtext[0] == '\0' && strcmp(suffix, "::status") == 0) {
		json_t *arr = json_array();

		for (size_t i = 0; i < m->st->root->npods; i++)
			json_array_append_new(arr, pod_status(m,
			    m->st->root->pods[i]));
		http_reply_json(req, 200, arr);
		return;
	}
	if (pathid_canonical(idtext, "/", false, id, sizeof(id), err,
	    sizeof(err)) == -1) {
		http_reply_error(req, 422, "%s", err);
		return;
	}
	if (strcmp(method, "PUT") == 0 && suffix == NULL) {
		write_pod(m, req, id);
		return;
	}
	if ((p = root_pod(m->st->root, id)) == NULL) {
		http_reply_error(req, 404, "Pod '%s' does not exist", id);
		return;
	}
	if (suffix == NULL && strcmp(method, "GET") == 0) {
		http_reply_json(req, 200, json_incref(p->def));
	} else if (suffix == NULL && strcmp(method, "DELETE") == 0) {
		char version[VERSION_LEN];
		struct change_opts o = { .version = version, .status = 202 };
		struct root *target = root_copy(m->st->root);

		util_version_next(version);
		o.force = api_flag(req, "force", false);
		root_del_pod(target, id);
		change_submit(m, req, target, &o);
		events_publish(m, "pod_deleted_event", json_pack("{s:s, s:s}",
		    "clientIp", http_req_peer(req), "uri", http_req_path(req)));
	} else if (suffix && strcmp(suffix, "::status") == 0) {
		http_reply_json(req, 200, pod_status(m, p));
	} else if (suffix && strncmp(suffix, "::versions", 10) == 0) {
		if (suffix[10] == '/')
			http_reply_json(req, 200, json_incref(p->def));
		else
			http_reply_json(req, 200, json_pack("[s]", p->version));
	} else if (suffix && strncmp(suffix, "::instances", 11) == 0) {
		http_reply_error(req, 404, "Pod '%s' has no such instance", id);
	} else {
		http_reply_error(req, 404, "no such endpoint: %s",
		    http_req_path(req));
	}
}

void
api_pods_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/pods", list_pods, 0);
	api_route(m, "POST", "/v2/pods", post_pod, 0);
	api_route(m, "*", "/v2/pods/{id*}", pod_path, 0);
}
