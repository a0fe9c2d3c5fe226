/*
 * api_pods: /v2/pods. Definitions are validated (pod_parse.c), versioned
 * and deployed like apps: POST/PUT plan StartPod/ScalePod/RestartPod,
 * DELETE plans StopPod (202). ::status serves PodStatus (pod_status.c),
 * ::instances kills instances (they are replaced unless the pod shrank),
 * ::versions lists the stored version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

static void
list_pods(struct marathon *m, struct http_req *req)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < m->st->root->npods; i++)
		json_array_append(arr, m->st->root->pods[i]->def);
	http_reply_json(req, 200, arr);
}

static json_t *
pod_body(struct marathon *m, const struct deployment *d, void *arg)
{
	return json_incref(((struct pod *)arg)->def);
}

static void
write_pod(struct marathon *m, struct http_req *req, const char *path_id)
{
	json_t *body = http_req_json(req);
	char version[VERSION_LEN], location[PATHID_MAX + 16];
	struct change_opts o = { .version = version, .body_fn = pod_body };
	struct json_errs e;
	struct root *target;
	struct pod *p, *old;

	if (body == NULL)
		return;
	json_errs_init(&e);
	p = pod_parse(body, path_id, &e);
	json_decref(body);
	if (p == NULL) {
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		return;
	}
	json_errs_free(&e);
	old = root_pod(m->st->root, p->id);
	if (path_id == NULL && old) {
		http_reply_error(req, 409, "Pod %s already exists", p->id);
		pod_unref(p);
		return;
	}
	util_version_next(version);
	pod_stamp(p, old, version);
	o.arg = p;
	o.status = old ? 200 : 201;
	o.force = api_flag(req, "force", false);
	if (old == NULL) {
		snprintf(location, sizeof(location), "/v2/pods%s", p->id);
		o.location = location;
	}
	target = root_copy(m->st->root);
	p->refs++;  /* one for the root, one for the reply */
	root_put_pod(target, p);
	change_submit(m, req, target, &o);
	events_publish(m, o.status == 201 ? "pod_created_event" :
	    "pod_updated_event", json_pack("{s:s, s:s}", "clientIp",
	    http_req_peer(req), "uri", http_req_path(req)));
	pod_unref(p);
}

static void
post_pod(struct marathon *m, struct http_req *req)
{
	write_pod(m, req, NULL);
}

static void
delete_pod(struct marathon *m, struct http_req *req, const char *id)
{
	char version[VERSION_LEN];
	struct change_opts o = { .version = version, .status = 202 };
	struct root *target = root_copy(m->st->root);

	util_version_next(version);
	o.force = api_flag(req, "force", false);
	root_del_pod(target, id);
	events_publish(m, "pod_deleted_event", json_pack("{s:s, s:s}",
	    "clientIp", http_req_peer(req), "uri", http_req_path(req)));
	change_submit(m, req, target, &o);
}

static struct instance *
find_instance(struct marathon *m, const char *pod_id, const char *id)
{
	struct instance *i = strmap_get(m->st->instances, id);

	if (i == NULL || i->ntasks == 0 || strcmp(i->app_id, pod_id) != 0 ||
	    !instance_active(i))
		return NULL;
	return i;
}

/* Kills the instance (it is replaced: the pod keeps its size); wipe
 * forgets it at once. Returns its status as it was. */
static json_t *
kill_instance(struct marathon *m, struct http_req *req, const struct pod *p,
    struct instance *i)
{
	json_t *st = pod_instance_json(p->app, i);

	log_info("killing instance %s of pod %s at the user's request", i->id,
	    p->id);
	sched_kill(m, i, KILL_USER);
	if (api_flag(req, "wipe", false)) {
		i->wipe = true;
		state_del_instance(m->st, i);
	}
	return st;
}

/* DELETE {id}::instances/{instanceId}, or ::instances with a JSON array
 * of instance ids */
static void
kill_instances(struct marathon *m, struct http_req *req, const struct pod *p,
    const char *which)
{
	json_t *body, *out, *v;
	size_t k;

	if (which) {
		struct instance *i = find_instance(m, p->id, which);

		if (i == NULL) {
			http_reply_error(req, 404, "No instance with ID %s in pod %s",
			    which, p->id);
			return;
		}
		http_reply_json(req, 200, kill_instance(m, req, p, i));
		engine_kick(m);
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	if (!json_is_array(body)) {
		struct json_errs e;

		json_errs_init(&e);
		json_errs_add(&e, "", "error.expected.jsarray");
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		json_decref(body);
		return;
	}
	out = json_array();
	json_array_foreach(body, k, v) {
		struct instance *i = json_is_string(v) ? find_instance(m, p->id,
		    json_string_value(v)) : NULL;

		if (i)
			json_array_append_new(out, kill_instance(m, req, p, i));
	}
	json_decref(body);
	http_reply_json(req, 200, out);
	engine_kick(m);
}

static void
all_status(struct marathon *m, struct http_req *req)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < m->st->root->npods; i++)
		json_array_append_new(arr, pod_status_json(m, m->st->root->pods[i]));
	http_reply_json(req, 200, arr);
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
		all_status(m, req);
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
	if (suffix == NULL && strcmp(method, "GET") == 0)
		http_reply_json(req, 200, json_incref(p->def));
	else if (suffix == NULL && strcmp(method, "DELETE") == 0)
		delete_pod(m, req, id);
	else if (suffix && strcmp(suffix, "::status") == 0 &&
	    strcmp(method, "GET") == 0)
		http_reply_json(req, 200, pod_status_json(m, p));
	else if (suffix && strncmp(suffix, "::versions", 10) == 0 &&
	    strcmp(method, "GET") == 0) {
		if (suffix[10] == '/' && strcmp(suffix + 11, p->version) != 0)
			http_reply_error(req, 404, "Pod '%s' has no version %s", id,
			    suffix + 11);
		else if (suffix[10] == '/')
			http_reply_json(req, 200, json_incref(p->def));
		else
			http_reply_json(req, 200, json_pack("[s]", p->version));
	} else if (suffix && strcmp(method, "DELETE") == 0 &&
	    strncmp(suffix, "::instances", 11) == 0 && (suffix[11] == '\0' ||
	    suffix[11] == '/'))
		kill_instances(m, req, p, suffix[11] == '/' ? suffix + 12 : NULL);
	else
		http_reply_error(req, 404, "no such endpoint: %s %s", method,
		    http_req_path(req));
}

void
api_pods_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/pods", list_pods, 0);
	api_route(m, "POST", "/v2/pods", post_pod, 0);
	api_route(m, "*", "/v2/pods/{id*}", pod_path, 0);
}
