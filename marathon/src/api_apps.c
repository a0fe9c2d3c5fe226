/*
 * api_apps: /v2/apps: list (with id, cmd and label filters and embeds),
 * create, update (partial by default), patch, delete, restart, and the
 * app's versions. Every write goes through change_submit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/store.h"

#include "marathon.h"

static json_t *
api_event(struct http_req *req, const struct app *a)
{
	return json_pack("[s, {s:s, s:s, s:o}]", "api_post_event", "clientIp",
	    http_req_peer(req), "uri", http_req_path(req), "appDefinition",
	    app_to_json(a));
}

static bool
matches(const struct app *a, const char *id, const char *cmd,
    const char *label)
{
	if (id && strstr(a->id, id) == NULL)
		return false;
	if (cmd && (a->cmd == NULL || strstr(a->cmd, cmd) == NULL))
		return false;
	if (label && !api_label_match(label, &a->labels))
		return false;
	return true;
}

static void
list_apps(struct marathon *m, struct http_req *req)
{
	const struct root *r = m->st->root;
	unsigned embed = api_embeds(req, "apps.");
	const char *id = http_req_query(req, "id");
	const char *cmd = http_req_query(req, "cmd");
	const char *label = http_req_query(req, "label");
	struct sbuf b = { 0 };
	bool first = true;

	/* built as text from each app's cached rendering: 1,000 apps in a
	 * few ms (Marathon #1274: 12 s) */
	sbuf_adds(&b, "{\"apps\":[");
	for (size_t i = 0; i < r->napps; i++) {
		if (!matches(r->apps[i], id, cmd, label))
			continue;
		if (!first)
			sbuf_add(&b, ",", 1);
		first = false;
		api_app_text(m, r->apps[i], embed, &b);
	}
	sbuf_adds(&b, "]}");
	http_reply(req, 200, "application/json", b.p, b.len);
	sbuf_free(&b);
}

/* A parsed definition: 422 on errors; NULL then (req answered). */
static struct app *
parse_or_reply(struct http_req *req, const json_t *doc, const char *base)
{
	struct json_errs e;
	struct app *a;

	json_errs_init(&e);
	a = app_parse(doc, base, &e);
	if (a == NULL)
		api_reply_invalid(req, &e);
	json_errs_free(&e);
	return a;
}

static bool
assign_ports(struct marathon *m, struct http_req *req, const struct root *r,
    struct app *a)
{
	if (root_assign_service_ports(r, a, (int)m->f.local_port_min,
	    (int)m->f.local_port_max) == 0)
		return true;
	http_reply_error(req, 422, "no free service ports left in %lld-%lld",
	    m->f.local_port_min, m->f.local_port_max);
	return false;
}

struct created {
	struct app *app;
};

static json_t *
created_body(struct marathon *m, const struct deployment *d, void *arg)
{
	struct created *c = arg;

	return api_app_json(m, c->app, EMB_TASKS);
}

static void
create_app(struct marathon *m, struct http_req *req)
{
	json_t *doc = http_req_json(req);
	struct app *a;
	struct root *target;
	char version[VERSION_LEN], loc[PATHID_MAX + 16];
	struct created c;
	struct change_opts o = { .version = version, .status = 201,
		.body_fn = created_body, .arg = &c, .location = loc };

	if (doc == NULL)
		return;
	a = parse_or_reply(req, doc, "/");
	json_decref(doc);
	if (a == NULL)
		return;
	if (root_app(m->st->root, a->id)) {
		http_reply_error(req, 409, "An app with id [%s] already exists.",
		    a->id);
		app_unref(a);
		return;
	}
	if (!assign_ports(m, req, m->st->root, a)) {
		app_unref(a);
		return;
	}
	util_version_next(version);
	change_stamp(a, NULL, version, false);
	snprintf(loc, sizeof(loc), "/v2/apps%s", a->id);
	o.force = api_flag(req, "force", false);
	o.api_event = api_event(req, a);
	c.app = a;
	target = root_copy(m->st->root);
	root_put_app(target, app_ref(a));
	change_submit(m, req, target, &o);
	json_decref(o.api_event);
	app_unref(a);
}

static void
get_app(struct marathon *m, struct http_req *req)
{
	const char *raw = http_req_param(req, "id");
	char id[PATHID_MAX];
	struct app *a;
	size_t n = raw ? strlen(raw) : 0;

	if (n >= 2 && strcmp(raw + n - 2, "/*") == 0) {
		/* GET /v2/apps/{group}/\* : every app under the group */
		char group[PATHID_MAX], err[512], tmp[PATHID_MAX];
		json_t *apps = json_array();
		const struct root *r = m->st->root;

		snprintf(tmp, sizeof(tmp), "%.*s", (int)(n - 2), raw);
		if (pathid_canonical(tmp, "/", true, group, sizeof(group), err,
		    sizeof(err)) == -1) {
			json_decref(apps);
			http_reply_error(req, 422, "%s", err);
			return;
		}
		for (size_t i = 0; i < r->napps; i++)
			if (pathid_under(r->apps[i]->id, group))
				json_array_append_new(apps, api_app_json(m, r->apps[i],
				    api_embeds(req, "apps.")));
		http_reply_json(req, 200, json_pack("{s:o}", "*", apps));
		return;
	}
	if (!api_path_id(req, "id", false, id, sizeof(id)))
		return;
	if ((a = root_app(m->st->root, id)) == NULL) {
		api_app_missing(req, id);
		return;
	}
	http_reply_json(req, 200, json_pack("{s:o}", "app", api_app_json(m, a,
	    EMB_TASKS | EMB_COUNTS | EMB_DEPLOYMENTS | EMB_LAST_FAILURE |
	    api_embeds(req, "app."))));
}

/* The new definition of one app from an update body. */
static struct app *
updated_app(struct marathon *m, struct http_req *req, const char *id,
    const json_t *body, bool partial, const struct root *target)
{
	const struct app *cur = root_app(target, id);
	json_t *doc = json_deep_copy(body);
	struct json_errs e;
	struct app *a;

	json_object_set_new(doc, "id", json_string(id));
	json_errs_init(&e);
	if (cur && partial)
		a = app_parse_update(cur, doc, &e);
	else
		a = app_parse(doc, "/", &e);
	json_decref(doc);
	if (a == NULL) {
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		return NULL;
	}
	json_errs_free(&e);
	if (!assign_ports(m, req, target, a)) {
		app_unref(a);
		return NULL;
	}
	return a;
}

static void
update_one(struct marathon *m, struct http_req *req, bool patch)
{
	char id[PATHID_MAX], version[VERSION_LEN];
	json_t *body;
	const struct app *cur;
	struct app *a;
	struct root *target;
	bool partial = patch || api_flag(req, "partialUpdate", true);
	struct change_opts o = { .version = version };

	if (!api_path_id(req, "id", false, id, sizeof(id)))
		return;
	cur = root_app(m->st->root, id);
	if (patch && cur == NULL) {
		api_app_missing(req, id);
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		http_reply_error(req, 400, "Invalid JSON: expected an app object");
		return;
	}
	a = updated_app(m, req, id, body, partial, m->st->root);
	json_decref(body);
	if (a == NULL)
		return;
	util_version_next(version);
	change_stamp(a, cur, version, false);
	o.force = api_flag(req, "force", false);
	o.status = cur ? 200 : 201;
	o.api_event = api_event(req, a);
	target = root_copy(m->st->root);
	root_put_app(target, a);
	change_submit(m, req, target, &o);
	json_decref(o.api_event);
}

static void
put_app(struct marathon *m, struct http_req *req)
{
	update_one(m, req, false);
}

static void
patch_app(struct marathon *m, struct http_req *req)
{
	update_one(m, req, true);
}

/* PUT/PATCH /v2/apps: an array of (partial) definitions, one deployment */
static void
update_many(struct marathon *m, struct http_req *req, bool patch)
{
	json_t *body = http_req_json(req), *doc;
	bool partial = patch || api_flag(req, "partialUpdate", true);
	char version[VERSION_LEN];
	struct change_opts o = { .version = version };
	struct root *target;
	size_t i;

	if (body == NULL)
		return;
	if (!json_is_array(body)) {
		json_decref(body);
		http_reply_error(req, 400, "Invalid JSON: expected an array of apps");
		return;
	}
	util_version_next(version);
	target = root_copy(m->st->root);
	json_array_foreach(body, i, doc) {
		char id[PATHID_MAX], err[512];
		const char *raw = json_str_or(doc, "id", NULL);
		const struct app *cur;
		struct app *a;

		if (raw == NULL || pathid_canonical(raw, "/", false, id, sizeof(id),
		    err, sizeof(err)) == -1) {
			struct json_errs e;
			char path[64];

			json_errs_init(&e);
			snprintf(path, sizeof(path), "(%zu)/id", i);
			json_errs_add(&e, path, "%s", raw ? err : "error.path.missing");
			api_reply_invalid(req, &e);
			json_errs_free(&e);
			goto fail;
		}
		cur = root_app(target, id);
		if (patch && cur == NULL) {
			api_app_missing(req, id);
			goto fail;
		}
		if ((a = updated_app(m, req, id, doc, partial, target)) == NULL)
			goto fail;
		change_stamp(a, cur, version, false);
		root_put_app(target, a);
	}
	json_decref(body);
	o.force = api_flag(req, "force", false);
	change_submit(m, req, target, &o);
	return;
fail:
	json_decref(body);
	root_free(target);
}

static void
put_apps(struct marathon *m, struct http_req *req)
{
	update_many(m, req, false);
}

static void
patch_apps(struct marathon *m, struct http_req *req)
{
	update_many(m, req, true);
}

static void
delete_app(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX], version[VERSION_LEN];
	struct change_opts o = { .version = version };
	struct root *target;

	if (!api_path_id(req, "id", false, id, sizeof(id)))
		return;
	if (root_app(m->st->root, id) == NULL) {
		api_app_missing(req, id);
		return;
	}
	util_version_next(version);
	o.force = api_flag(req, "force", true); /* deletion forces (src) */
	target = root_copy(m->st->root);
	root_del_app(target, id);
	change_submit(m, req, target, &o);
}

static void
restart_app(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX], version[VERSION_LEN];
	struct change_opts o = { .version = version };
	const struct app *cur;
	struct root *target;
	struct app *a;

	if (!api_path_id(req, "id", false, id, sizeof(id)))
		return;
	if ((cur = root_app(m->st->root, id)) == NULL) {
		api_app_missing(req, id);
		return;
	}
	util_version_next(version);
	a = app_clone(cur);
	change_stamp(a, cur, version, true);
	o.force = api_flag(req, "force", false);
	target = root_copy(m->st->root);
	root_put_app(target, a);
	change_submit(m, req, target, &o);
}

/* --- versions, from the store --- */

struct versions_q {
	struct http_req *req;
	char id[PATHID_MAX];
	bool one;
};

static void
versions_read(const struct store_result *res, void *arg)
{
	struct versions_q *q = arg;

	if (res->code != STORE_OK) {
		http_reply_error(q->req, 503, "store: %s", res->err.msg);
	} else if (q->one) {
		json_t *app;

		if (res->rows == NULL || res->rows->nrows == 0 ||
		    (app = json_loads(store_rows_text(res->rows, 0, 0), 0, NULL)) ==
		    NULL)
			http_reply_error(q->req, 404, "App '%s' does not exist in the "
			    "given version", q->id);
		else
			http_reply_json(q->req, 200, app);
	} else {
		json_t *list = json_array();

		for (size_t r = 0; res->rows && r < res->rows->nrows; r++)
			json_array_append_new(list, json_string(store_rows_text(
			    res->rows, r, 0)));
		http_reply_json(q->req, 200, json_pack("{s:o}", "versions", list));
	}
	free(q);
}

static void
get_versions(struct marathon *m, struct http_req *req)
{
	struct versions_q *q = xcalloc(1, sizeof(*q));
	const char *v = http_req_param(req, "version");
	struct store_val p[2];

	if (!api_path_id(req, "id", false, q->id, sizeof(q->id))) {
		free(q);
		return;
	}
	if (root_app(m->st->root, q->id) == NULL) {
		api_app_missing(req, q->id);
		free(q);
		return;
	}
	q->req = req;
	q->one = v != NULL;
	p[0] = SV_TEXT(q->id);
	p[1] = SV_TEXT(v);
	if (v)
		store_query_submit(m->store, "SELECT json FROM marathon_app_versions "
		    "WHERE id = ? AND version = ?", p, 2, versions_read, q);
	else
		store_query_submit(m->store, "SELECT version FROM "
		    "marathon_app_versions WHERE id = ? ORDER BY version DESC", p, 1,
		    versions_read, q);
}

void
api_apps_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/apps", list_apps, 0);
	api_route(m, "POST", "/v2/apps", create_app, 0);
	api_route(m, "PUT", "/v2/apps", put_apps, 0);
	api_route(m, "PATCH", "/v2/apps", patch_apps, 0);
	api_route(m, "POST", "/v2/apps/{id*}/restart", restart_app, 0);
	api_route(m, "GET", "/v2/apps/{id*}/versions/{version}", get_versions, 0);
	api_route(m, "GET", "/v2/apps/{id*}/versions", get_versions, 0);
	api_tasks_app_routes(m);
	api_route(m, "GET", "/v2/apps/{id*}", get_app, 0);
	api_route(m, "PUT", "/v2/apps/{id*}", put_app, 0);
	api_route(m, "PATCH", "/v2/apps/{id*}", patch_app, 0);
	api_route(m, "DELETE", "/v2/apps/{id*}", delete_app, 0);
}
