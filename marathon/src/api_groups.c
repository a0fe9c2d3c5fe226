/*
 * api_groups: /v2/groups: the root group tree (explicit groups and the
 * ones apps imply), creating and replacing groups with nested apps and
 * groups (ids relative to their group), scaleBy, dryRun, and deleting a
 * group with everything under it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "marathon.h"

/* --- rendering --- */

static void
add_child(char ***v, size_t *n, const char *id)
{
	if (strv_has(*v, *n, id))
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(id);
}

/* The direct child group of parent on the way to id, if any. */
static void
child_on_path(const char *parent, const char *id, char ***v, size_t *n)
{
	size_t plen = strcmp(parent, "/") == 0 ? 0 : strlen(parent);
	const char *rest, *slash;
	char child[PATHID_MAX];

	if (!pathid_under(id, parent) || strcmp(id, parent) == 0)
		return;
	rest = id + plen + 1;
	if ((slash = strchr(rest, '/')) == NULL)
		return; /* id itself is a direct child (app or group) */
	snprintf(child, sizeof(child), "%.*s", (int)(slash - id), id);
	add_child(v, n, child);
}

static json_t *
group_json(struct marathon *m, const char *id, unsigned app_embed, int depth)
{
	const struct root *r = m->st->root;
	const struct group *g = root_group(r, id);
	json_t *apps = json_array(), *groups = json_array(), *pods = json_array();
	json_t *deps = json_array();
	char **kids = NULL, parent[PATHID_MAX];
	size_t nkids = 0;

	for (size_t i = 0; i < r->napps; i++) {
		pathid_parent(r->apps[i]->id, parent, sizeof(parent));
		if (strcmp(parent, id) == 0)
			json_array_append_new(apps, api_app_json(m, r->apps[i],
			    app_embed));
		else
			child_on_path(id, r->apps[i]->id, &kids, &nkids);
	}
	for (size_t i = 0; i < r->npods; i++) {
		pathid_parent(r->pods[i]->id, parent, sizeof(parent));
		if (strcmp(parent, id) == 0)
			json_array_append(pods, r->pods[i]->def);
		else
			child_on_path(id, r->pods[i]->id, &kids, &nkids);
	}
	for (size_t i = 0; i < r->ngroups; i++) {
		pathid_parent(r->groups[i].id, parent, sizeof(parent));
		if (strcmp(parent, id) == 0)
			add_child(&kids, &nkids, r->groups[i].id);
		else
			child_on_path(id, r->groups[i].id, &kids, &nkids);
	}
	for (size_t i = 0; i < nkids; i++)
		json_array_append_new(groups, group_json(m, kids[i], app_embed,
		    depth + 1));
	strv_free(kids, nkids);
	for (size_t i = 0; g && i < g->ndeps; i++)
		json_array_append_new(deps, json_string(g->deps[i]));
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "id", id,
	    "apps", apps, "groups", groups, "pods", pods, "dependencies", deps,
	    "version", g && g->version[0] ? g->version : r->version[0] ?
	    r->version : "1970-01-01T00:00:00.000Z");
}

static void
get_group(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	unsigned embed = api_embeds(req, "group.apps.");
	json_t *g;

	if (http_req_param(req, "id") == NULL)
		snprintf(id, sizeof(id), "/");
	else if (!api_path_id(req, "id", true, id, sizeof(id)))
		return;
	if (!root_has_group(m->st->root, id)) {
		http_reply_error(req, 404, "Group '%s' does not exist", id);
		return;
	}
	g = group_json(m, id, embed, 0);
	http_reply_json(req, 200, g);
}

static void
group_versions(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX];
	const struct group *g;

	if (!api_path_id(req, "id", true, id, sizeof(id)))
		return;
	if (!root_has_group(m->st->root, id)) {
		http_reply_error(req, 404, "Group '%s' does not exist", id);
		return;
	}
	g = root_group(m->st->root, id);
	http_reply_json(req, 200, json_pack("[s]", g && g->version[0] ?
	    g->version : m->st->root->version));
}

/* --- updates --- */

static void
path_key_index(char *out, size_t size, const char *base, const char *key,
    size_t i)
{
	char tmp[JSON_PATH_MAX];

	json_path_key(tmp, sizeof(tmp), base, key);
	json_path_index(out, size, tmp, i);
}

static void
errs_prefixed(struct json_errs *dst, const struct json_errs *src,
    const char *prefix)
{
	size_t i, k;
	json_t *d, *msg;

	json_array_foreach(src->details, i, d) {
		char path[JSON_PATH_MAX];

		json_path_key(path, sizeof(path), prefix,
		    json_string_value(json_object_get(d, "path")) + 1);
		json_array_foreach(json_object_get(d, "errors"), k, msg)
			json_errs_add(dst, path, "%s", json_string_value(msg));
	}
}

/* Applies a group document (POST/PUT body) under parent to target. */
static void
apply_group(struct marathon *m, struct root *target, const json_t *doc,
    const char *id, const char *path, const char *version,
    struct json_errs *e)
{
	const json_t *apps, *groups, *v;
	char **deps = NULL, sub[JSON_PATH_MAX];
	size_t ndeps = 0, i;

	if (!json_is_object(doc)) {
		json_errs_add(e, path[0] ? path : "/", "error.expected.jsobject");
		return;
	}
	snprintf(sub, sizeof(sub), "%s", path);
	if (parse_str_array(doc, sub, "dependencies", &deps, &ndeps, e) == 1) {
		for (i = 0; i < ndeps; i++) {
			char dep[PATHID_MAX], err[512], dp[JSON_PATH_MAX];

			if (pathid_canonical(deps[i], id, false, dep, sizeof(dep), err,
			    sizeof(err)) == -1) {
				path_key_index(dp, sizeof(dp), path, "dependencies", i);
				json_errs_add(e, dp, "%s", err);
				continue;
			}
			free(deps[i]);
			deps[i] = xstrdup(dep);
		}
	}
	if (strcmp(id, "/") != 0 || ndeps)
		root_put_group(target, id, deps, ndeps, version);
	strv_free(deps, ndeps);
	if (json_get_array(doc, sub, "apps", 0, &apps, e) == 1) {
		/* the group's apps are replaced by these */
		for (size_t k = 0; k < target->napps;) {
			char parent[PATHID_MAX];

			pathid_parent(target->apps[k]->id, parent, sizeof(parent));
			if (strcmp(parent, id) == 0)
				root_del_app(target, target->apps[k]->id);
			else
				k++;
		}
		json_array_foreach(apps, i, v) {
			struct json_errs ae;
			char ap[JSON_PATH_MAX], parent[PATHID_MAX];
			struct app *a;

			path_key_index(ap, sizeof(ap), path, "apps", i);
			json_errs_init(&ae);
			a = app_parse(v, id, &ae);
			errs_prefixed(e, &ae, ap);
			json_errs_free(&ae);
			if (a == NULL)
				continue;
			pathid_parent(a->id, parent, sizeof(parent));
			if (strcmp(parent, id) != 0) {
				char ip[JSON_PATH_MAX];

				json_path_key(ip, sizeof(ip), ap, "id");
				json_errs_add(e, ip, "Identifier is not child of %s. Hint: "
				    "use relative paths.", id);
				app_unref(a);
				continue;
			}
			if (root_assign_service_ports(target, a,
			    (int)m->f.local_port_min, (int)m->f.local_port_max) == -1) {
				json_errs_add(e, ap, "no free service ports left");
				app_unref(a);
				continue;
			}
			change_stamp(a, root_app(m->st->root, a->id), version, false);
			root_put_app(target, a);
		}
	}
	if (json_get_array(doc, sub, "groups", 0, &groups, e) == 1) {
		json_array_foreach(groups, i, v) {
			char gp[JSON_PATH_MAX], gid[PATHID_MAX], err[512];
			const char *raw = json_str_or(v, "id", NULL);

			path_key_index(gp, sizeof(gp), path, "groups", i);
			if (raw == NULL || pathid_canonical(raw, id, false, gid,
			    sizeof(gid), err, sizeof(err)) == -1) {
				char ip[JSON_PATH_MAX];

				json_path_key(ip, sizeof(ip), gp, "id");
				json_errs_add(e, ip, "%s", raw ? err : "error.path.missing");
				continue;
			}
			apply_group(m, target, v, gid, gp, version, e);
		}
	}
}

static json_t *
dry_run_steps(struct marathon *m, struct root *target)
{
	struct deployment *d = plan_compute(m->st->root, target, "dry-run");
	json_t *dj = deployment_to_json(d);
	json_t *out = json_pack("{s:O}", "steps", json_object_get(dj, "steps"));

	json_decref(dj);
	deployment_free(d);
	return out;
}

static void
write_group(struct marathon *m, struct http_req *req, bool create)
{
	json_t *body = http_req_json(req);
	char id[PATHID_MAX], version[VERSION_LEN];
	struct change_opts o = { .version = version };
	struct json_errs e;
	struct root *target;
	const json_t *scale;
	bool exists;

	if (body == NULL)
		return;
	if (http_req_param(req, "id") == NULL) {
		const char *raw = json_str_or(body, "id", NULL);
		char err[512];

		if (create && raw == NULL) {
			json_errs_init(&e);
			json_errs_add(&e, "/id", "error.path.missing");
			api_reply_invalid(req, &e);
			json_errs_free(&e);
			json_decref(body);
			return;
		}
		if (pathid_canonical(raw ? raw : "/", "/", !create, id, sizeof(id),
		    err, sizeof(err)) == -1) {
			json_errs_init(&e);
			json_errs_add(&e, "/id", "%s", err);
			api_reply_invalid(req, &e);
			json_errs_free(&e);
			json_decref(body);
			return;
		}
	} else if (!api_path_id(req, "id", true, id, sizeof(id))) {
		json_decref(body);
		return;
	}
	exists = strcmp(id, "/") == 0 || root_has_group(m->st->root, id);
	if (create && exists) {
		http_reply_error(req, 409, "Group %s is already created. Use PUT to "
		    "change this group.", id);
		json_decref(body);
		return;
	}
	if (root_app(m->st->root, id)) {
		http_reply_error(req, 409, "An app with id [%s] already exists.", id);
		json_decref(body);
		return;
	}
	util_version_next(version);
	target = root_copy(m->st->root);
	json_errs_init(&e);
	if ((scale = json_object_get(body, "scaleBy")) != NULL &&
	    !json_is_null(scale)) {
		if (!json_is_number(scale) || json_number_value(scale) < 0) {
			json_errs_add(&e, "/scaleBy", "error.expected.jsnumber");
		} else {
			for (size_t i = 0; i < target->napps; i++) {
				struct app *cur = target->apps[i], *a;

				if (!pathid_under(cur->id, id))
					continue;
				a = app_clone(cur);
				a->instances = (int)ceil(cur->instances *
				    json_number_value(scale));
				change_stamp(a, cur, version, false);
				root_put_app(target, a);
			}
		}
	} else if (json_is_string(json_object_get(body, "version"))) {
		json_errs_add(&e, "/version", "rolling back a group to an earlier "
		    "version is not supported; PUT the definitions instead");
	} else {
		apply_group(m, target, body, id, "", version, &e);
	}
	json_decref(body);
	if (json_errs_count(&e)) {
		api_reply_invalid(req, &e);
		json_errs_free(&e);
		root_free(target);
		return;
	}
	json_errs_free(&e);
	if (api_flag(req, "dryRun", false)) {
		http_reply_json(req, 200, dry_run_steps(m, target));
		root_free(target);
		return;
	}
	o.force = api_flag(req, "force", false);
	o.status = exists ? 200 : 201;
	change_submit(m, req, target, &o);
}

static void
post_group(struct marathon *m, struct http_req *req)
{
	write_group(m, req, true);
}

static void
put_group(struct marathon *m, struct http_req *req)
{
	write_group(m, req, false);
}

static void
delete_group(struct marathon *m, struct http_req *req)
{
	char id[PATHID_MAX], version[VERSION_LEN];
	struct change_opts o = { .version = version };
	struct root *target;

	if (http_req_param(req, "id") == NULL)
		snprintf(id, sizeof(id), "/");
	else if (!api_path_id(req, "id", true, id, sizeof(id)))
		return;
	if (!root_has_group(m->st->root, id)) {
		http_reply_error(req, 404, "Group '%s' does not exist", id);
		return;
	}
	util_version_next(version);
	o.force = api_flag(req, "force", false);
	target = root_copy(m->st->root);
	root_del_group(target, id);
	change_submit(m, req, target, &o);
}

void
api_groups_routes(struct marathon *m)
{
	api_route(m, "GET", "/v2/groups", get_group, 0);
	api_route(m, "POST", "/v2/groups", post_group, 0);
	api_route(m, "PUT", "/v2/groups", put_group, 0);
	api_route(m, "PATCH", "/v2/groups", put_group, 0);
	api_route(m, "DELETE", "/v2/groups", delete_group, 0);
	api_route(m, "GET", "/v2/groups/{id*}/versions", group_versions, 0);
	api_route(m, "GET", "/v2/groups/{id*}", get_group, 0);
	api_route(m, "POST", "/v2/groups/{id*}", post_group, 0);
	api_route(m, "PUT", "/v2/groups/{id*}", put_group, 0);
	api_route(m, "PATCH", "/v2/groups/{id*}", put_group, 0);
	api_route(m, "DELETE", "/v2/groups/{id*}", delete_group, 0);
}
