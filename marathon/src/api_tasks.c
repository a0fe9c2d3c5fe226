/*
 * api_tasks: tasks (instances): /v2/tasks, /v2/apps/{id}/tasks (JSON, or
 * the haproxy-style text list), and killing them: one, all of an app (on
 * a host), or a list, with scale=true (shrink the app by as many, as a
 * deployment) and wipe=true (forget the instance at once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

static bool
wants_text(struct http_req *req)
{
	const char *accept = http_req_header(req, "Accept");

	return accept && strstr(accept, "text/plain") &&
	    !strstr(accept, "application/json");
}

/* "<appid with _> <servicePort> host:port host:port ...\n" per port */
static void
append_text(char **buf, size_t *len, const struct app_rt *rt)
{
	const struct app *a = rt->app;
	char safe[PATHID_MAX];

	if (a == NULL)
		return;
	pathid_safe(a->id, safe, sizeof(safe));
	for (size_t p = 0; p < a->nports || (p == 0 && a->nports == 0); p++) {
		char line[8192];
		size_t n = (size_t)snprintf(line, sizeof(line), "%s %d", safe,
		    a->nports ? a->ports[p].port : 0);

		for (size_t k = 0; k < rt->ninst && n < sizeof(line) - 64; k++) {
			const struct instance *i = rt->inst[k];

			if (i->state != TASK_RUNNING || p >= i->nports)
				continue;
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s:%d",
			    i->host ? i->host : "", i->ports[p]);
		}
		line[n++] = '\n';
		*buf = xrealloc(*buf, *len + n + 1);
		memcpy(*buf + *len, line, n);
		*len += n;
		(*buf)[*len] = '\0';
		if (a->nports == 0)
			break;
	}
}

static bool
status_wanted(struct http_req *req, const struct instance *i)
{
	const char *vals[8];
	size_t n = http_req_query_all(req, "status", vals, 8);

	n += http_req_query_all(req, "status[]", vals + n, 8 - n);
	if (n == 0)
		return true;
	for (size_t k = 0; k < n; k++) {
		if (strcmp(vals[k], "running") == 0 && i->state == TASK_RUNNING)
			return true;
		if (strcmp(vals[k], "staging") == 0 && (i->state == TASK_STAGING ||
		    i->state == TASK_STARTING))
			return true;
	}
	return false;
}

static void
list_tasks(struct marathon *m, struct http_req *req)
{
	const struct root *r = m->st->root;
	json_t *tasks;
	size_t it = 0;
	void *v;

	if (wants_text(req)) {
		char *buf = xstrdup("");
		size_t len = 0;

		for (size_t k = 0; k < r->napps; k++) {
			struct app_rt *rt = state_rt(m->st, r->apps[k]->id, false);

			if (rt)
				append_text(&buf, &len, rt);
		}
		http_reply(req, 200, "text/plain", buf, len);
		free(buf);
		return;
	}
	tasks = json_array();
	while (strmap_next(m->st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		if (rt->app && rt->app->pod)
			continue; /* apps only, as Marathon lists them */
		for (size_t k = 0; k < rt->ninst; k++)
			if (instance_active(rt->inst[k]) &&
			    status_wanted(req, rt->inst[k]))
				json_array_append_new(tasks, instance_to_json(rt->inst[k],
				    rt->app));
	}
	http_reply_json(req, 200, json_pack("{s:o}", "tasks", tasks));
}

static struct app_rt *
app_or_404(struct marathon *m, struct http_req *req, char *id, size_t size)
{
	struct app_rt *rt;

	if (!api_path_id(req, "id", false, id, size))
		return NULL;
	if (root_app(m->st->root, id) == NULL ||
	    (rt = state_rt(m->st, id, true)) == NULL) {
		api_app_missing(req, id);
		return NULL;
	}
	return rt;
}

static void
app_tasks(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	struct app_rt *rt = app_or_404(m, req, id, sizeof(id));
	json_t *tasks;

	if (rt == NULL)
		return;
	if (wants_text(req)) {
		char *buf = xstrdup("");
		size_t len = 0;

		append_text(&buf, &len, rt);
		http_reply(req, 200, "text/plain", buf, len);
		free(buf);
		return;
	}
	tasks = json_array();
	for (size_t k = 0; k < rt->ninst; k++)
		if (instance_active(rt->inst[k]))
			json_array_append_new(tasks, instance_to_json(rt->inst[k],
			    rt->app));
	http_reply_json(req, 200, json_pack("{s:o}", "tasks", tasks));
}

/* Kills the given instances. With scale, the apps shrink by as many (one
 * deployment; the reply is its result); otherwise the reply lists the
 * tasks (key "tasks", or "task" when single). */
static void
kill_instances(struct marathon *m, struct http_req *req,
    struct instance **v, size_t n, bool single)
{
	bool scale = api_flag(req, "scale", false);
	bool wipe = api_flag(req, "wipe", false);
	json_t *out = json_array();
	struct root *target = NULL;
	char version[VERSION_LEN];

	if (scale) {
		util_version_next(version);
		target = root_copy(m->st->root);
	}
	for (size_t k = 0; k < n; k++) {
		struct instance *i = v[k];
		struct app_rt *rt = state_rt(m->st, i->app_id, false);

		json_array_append_new(out, instance_to_json(i, rt ? rt->app : NULL));
		if (scale && rt && rt->app) {
			const struct app *cur = root_app(target, i->app_id);

			if (cur && cur->instances > 0) {
				struct app *a = app_clone(cur);

				a->instances--;
				change_stamp(a, cur, version, false);
				root_put_app(target, a);
			}
		}
		sched_kill(m, i, KILL_USER);
		if (wipe) {
			i->wipe = true;
			state_del_instance(m->st, i);
		}
	}
	engine_kick(m);
	if (scale) {
		struct change_opts o = { .version = version, .force = true };

		json_decref(out);
		change_submit(m, req, target, &o);
		return;
	}
	if (single)
		http_reply_json(req, 200, json_pack("{s:O}", "task",
		    json_array_get(out, 0)));
	else
		http_reply_json(req, 200, json_pack("{s:O}", "tasks", out));
	json_decref(out);
}

static void
kill_app_tasks(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	struct app_rt *rt = app_or_404(m, req, id, sizeof(id));
	const char *host = http_req_query(req, "host");
	struct instance **v;
	size_t n = 0;

	if (rt == NULL)
		return;
	v = xcalloc(rt->ninst + 1, sizeof(*v));
	for (size_t k = 0; k < rt->ninst; k++) {
		struct instance *i = rt->inst[k];

		if (!instance_active(i) || (host && i->host && strcmp(host, "*") &&
		    strcmp(i->host, host)))
			continue;
		v[n++] = i;
	}
	kill_instances(m, req, v, n, false);
	free(v);
}

static void
kill_app_task(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	struct app_rt *rt = app_or_404(m, req, id, sizeof(id));
	const char *task = http_req_param(req, "task");
	struct instance *i;

	if (rt == NULL)
		return;
	i = strmap_get(m->st->instances, task);
	if (i == NULL || strcmp(i->app_id, id) != 0 || !instance_active(i)) {
		http_reply_error(req, 404, "Task '%s' does not exist", task);
		return;
	}
	kill_instances(m, req, &i, 1, true);
}

static void
delete_tasks(struct marathon *m, struct http_req *req)
{
	json_t *body = http_req_json(req), *ids, *t;
	struct instance **v;
	size_t n = 0, k;

	if (body == NULL)
		return;
	ids = json_object_get(body, "ids");
	if (!json_is_array(ids)) {
		struct json_errs e;

		json_errs_init(&e);
		json_errs_add(&e, "/ids", "error.expected.jsarray");
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		json_decref(body);
		return;
	}
	v = xcalloc(json_array_size(ids) + 1, sizeof(*v));
	json_array_foreach(ids, k, t) {
		struct instance *i = json_is_string(t) ? strmap_get(m->st->instances,
		    json_string_value(t)) : NULL;

		if (i && instance_active(i) && i->ntasks == 0) /* pods: ::instances */
			v[n++] = i;
	}
	json_decref(body);
	kill_instances(m, req, v, n, false);
	free(v);
}

void
api_tasks_app_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/apps/{id*}/tasks", app_tasks, 0);
	api_route(m, "DELETE", "/v2/apps/{id*}/tasks/{task}", kill_app_task, 0);
	api_route(m, "DELETE", "/v2/apps/{id*}/tasks", kill_app_tasks, 0);
}

void
api_tasks_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/tasks", list_tasks, 0);
	api_route(m, "POST", "/v2/tasks/delete", delete_tasks, 0);
}
