/*
 * root: the root group: every app (sorted by id, shared by reference),
 * the explicit groups (ids with dependencies) and the pods. Groups that
 * hold apps exist implicitly. A change builds a new root from a copy of
 * the current one; plan.c compares the two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

struct root *
root_new(void)
{
	struct root *r = xcalloc(1, sizeof(*r));

	return r;
}

struct root *
root_copy(const struct root *src)
{
	struct root *r = root_new();

	r->napps = src->napps;
	r->apps = xcalloc(src->napps, sizeof(*r->apps));
	for (size_t i = 0; i < src->napps; i++)
		r->apps[i] = app_ref(src->apps[i]);
	r->ngroups = src->ngroups;
	r->groups = xcalloc(src->ngroups, sizeof(*r->groups));
	for (size_t i = 0; i < src->ngroups; i++) {
		r->groups[i] = src->groups[i];
		r->groups[i].id = xstrdup(src->groups[i].id);
		r->groups[i].deps = strv_dup(src->groups[i].deps,
		    src->groups[i].ndeps);
	}
	r->npods = src->npods;
	r->pods = xcalloc(src->npods, sizeof(*r->pods));
	for (size_t i = 0; i < src->npods; i++) {
		r->pods[i] = src->pods[i];
		r->pods[i]->refs++;
	}
	memcpy(r->version, src->version, sizeof(r->version));
	return r;
}

void
pod_unref(struct pod *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	free(p->id);
	json_decref(p->def);
	app_unref(p->app);
	free(p);
}

static void
group_clear(struct group *g)
{
	free(g->id);
	strv_free(g->deps, g->ndeps);
}

void
root_free(struct root *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->napps; i++)
		app_unref(r->apps[i]);
	free(r->apps);
	for (size_t i = 0; i < r->ngroups; i++)
		group_clear(&r->groups[i]);
	free(r->groups);
	for (size_t i = 0; i < r->npods; i++)
		pod_unref(r->pods[i]);
	free(r->pods);
	free(r);
}

/* binary search: index of id, or -(insertion point) - 1 */
static long
find_app(const struct root *r, const char *id)
{
	size_t lo = 0, hi = r->napps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->apps[mid]->id, id);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

struct app *
root_app(const struct root *r, const char *id)
{
	long i = find_app(r, id);

	return i >= 0 ? r->apps[i] : NULL;
}

void
root_put_app(struct root *r, struct app *a)
{
	long i = find_app(r, a->id);
	size_t at;

	if (i >= 0) {
		app_unref(r->apps[i]);
		r->apps[i] = a;
		return;
	}
	at = (size_t)(-i - 1);
	r->apps = xrealloc(r->apps, (r->napps + 1) * sizeof(*r->apps));
	memmove(&r->apps[at + 1], &r->apps[at], (r->napps - at) *
	    sizeof(*r->apps));
	r->apps[at] = a;
	r->napps++;
}

int
root_del_app(struct root *r, const char *id)
{
	long i = find_app(r, id);

	if (i < 0)
		return -1;
	app_unref(r->apps[i]);
	memmove(&r->apps[i], &r->apps[i + 1], (r->napps - (size_t)i - 1) *
	    sizeof(*r->apps));
	r->napps--;
	return 0;
}

const struct group *
root_group(const struct root *r, const char *id)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].id, id) == 0)
			return &r->groups[i];
	return NULL;
}

/* true when some app or pod lies strictly inside group */
static bool
holds_anything(const struct root *r, const char *group)
{
	size_t n = strlen(group);
	long i;

	if (strcmp(group, "/") == 0)
		return true;
	/* apps inside group sort right after group + "/" */
	i = find_app(r, group);
	for (size_t k = i >= 0 ? (size_t)i : (size_t)(-i - 1); k < r->napps;
	    k++) {
		const char *id = r->apps[k]->id;

		if (strncmp(id, group, n) != 0)
			break;
		if (id[n] == '/')
			return true;
	}
	for (size_t k = 0; k < r->npods; k++)
		if (pathid_under(r->pods[k]->id, group) &&
		    strcmp(r->pods[k]->id, group) != 0)
			return true;
	return false;
}

bool
root_has_group(const struct root *r, const char *id)
{
	if (strcmp(id, "/") == 0 || root_group(r, id))
		return true;
	for (size_t i = 0; i < r->ngroups; i++)
		if (pathid_under(r->groups[i].id, id))
			return true;
	return holds_anything(r, id);
}

void
root_put_group(struct root *r, const char *id, char *const *deps,
    size_t ndeps, const char *version)
{
	struct group *g = (struct group *)root_group(r, id);
	size_t at;

	if (g == NULL) {
		for (at = 0; at < r->ngroups && strcmp(r->groups[at].id, id) < 0;
		    at++)
			;
		r->groups = xrealloc(r->groups, (r->ngroups + 1) *
		    sizeof(*r->groups));
		memmove(&r->groups[at + 1], &r->groups[at], (r->ngroups - at) *
		    sizeof(*r->groups));
		g = &r->groups[at];
		memset(g, 0, sizeof(*g));
		g->id = xstrdup(id);
		r->ngroups++;
	} else {
		strv_free(g->deps, g->ndeps);
	}
	g->deps = strv_dup(deps, ndeps);
	g->ndeps = ndeps;
	snprintf(g->version, sizeof(g->version), "%s", version ? version : "");
}

void
root_del_group(struct root *r, const char *id)
{
	size_t k = 0;

	for (size_t i = 0; i < r->napps; i++) {
		if (pathid_under(r->apps[i]->id, id))
			app_unref(r->apps[i]);
		else
			r->apps[k++] = r->apps[i];
	}
	r->napps = k;
	k = 0;
	for (size_t i = 0; i < r->ngroups; i++) {
		if (pathid_under(r->groups[i].id, id))
			group_clear(&r->groups[i]);
		else
			r->groups[k++] = r->groups[i];
	}
	r->ngroups = k;
	k = 0;
	for (size_t i = 0; i < r->npods; i++) {
		if (pathid_under(r->pods[i]->id, id))
			pod_unref(r->pods[i]);
		else
			r->pods[k++] = r->pods[i];
	}
	r->npods = k;
}

struct pod *
root_pod(const struct root *r, const char *id)
{
	for (size_t i = 0; i < r->npods; i++)
		if (strcmp(r->pods[i]->id, id) == 0)
			return r->pods[i];
	return NULL;
}

void
root_put_pod(struct root *r, struct pod *p)
{
	for (size_t i = 0; i < r->npods; i++) {
		if (strcmp(r->pods[i]->id, p->id) == 0) {
			pod_unref(r->pods[i]);
			r->pods[i] = p;
			return;
		}
	}
	r->pods = xrealloc(r->pods, (r->npods + 1) * sizeof(*r->pods));
	r->pods[r->npods++] = p;
}

int
root_del_pod(struct root *r, const char *id)
{
	for (size_t i = 0; i < r->npods; i++) {
		if (strcmp(r->pods[i]->id, id) == 0) {
			pod_unref(r->pods[i]);
			memmove(&r->pods[i], &r->pods[i + 1], (r->npods - i - 1) *
			    sizeof(*r->pods));
			r->npods--;
			return 0;
		}
	}
	return -1;
}

size_t
root_apps_under(const struct root *r, const char *group, struct app **out,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->napps; i++)
		if (pathid_under(r->apps[i]->id, group)) {
			if (n < max)
				out[n] = r->apps[i];
			n++;
		}
	return n;
}

/* --- validation of a whole root --- */

struct graph {
	size_t **adj;   /* per app: indices of the apps it depends on */
	size_t *nadj;
	int *depth;     /* -1 unknown, -2 on the stack */
};

static void
graph_build(const struct root *r, struct graph *g)
{
	struct app **buf = xcalloc(r->napps + 1, sizeof(*buf));

	g->adj = xcalloc(r->napps, sizeof(*g->adj));
	g->nadj = xcalloc(r->napps, sizeof(*g->nadj));
	g->depth = xcalloc(r->napps, sizeof(*g->depth));
	for (size_t i = 0; i < r->napps; i++) {
		const struct app *a = r->apps[i];

		g->depth[i] = -1;
		for (size_t d = 0; d < a->ndeps; d++) {
			size_t n = root_apps_under(r, a->deps[d], buf, r->napps + 1);

			for (size_t k = 0; k < n; k++) {
				long j = find_app(r, buf[k]->id);

				if (j < 0 || (size_t)j == i)
					continue;
				g->adj[i] = xrealloc(g->adj[i], (g->nadj[i] + 1) *
				    sizeof(size_t));
				g->adj[i][g->nadj[i]++] = (size_t)j;
			}
		}
	}
	free(buf);
}

static void
graph_free(const struct root *r, struct graph *g)
{
	for (size_t i = 0; i < r->napps; i++)
		free(g->adj[i]);
	free(g->adj);
	free(g->nadj);
	free(g->depth);
}

/* The longest dependency path from app i; -1 on a cycle. */
static int
graph_depth(struct graph *g, size_t i)
{
	int best = 0;

	if (g->depth[i] >= 0)
		return g->depth[i];
	if (g->depth[i] == -2)
		return -1;
	g->depth[i] = -2;
	for (size_t k = 0; k < g->nadj[i]; k++) {
		int d = graph_depth(g, g->adj[i][k]);

		if (d < 0)
			return -1;
		if (d + 1 > best)
			best = d + 1;
	}
	g->depth[i] = best;
	return best;
}

int
root_depths(const struct root *r, int *depth)
{
	struct graph g;
	int rc = 0;

	graph_build(r, &g);
	for (size_t i = 0; i < r->napps; i++) {
		depth[i] = graph_depth(&g, i);
		if (depth[i] < 0)
			rc = -1;
	}
	graph_free(r, &g);
	return rc;
}

int
root_validate(const struct root *r, struct json_errs *e)
{
	size_t before = errs_total(e);
	int *depth = xcalloc(r->napps, sizeof(int));
	struct strmap *ports;

	for (size_t i = 0; i < r->napps; i++) {
		if (holds_anything(r, r->apps[i]->id) ||
		    root_group(r, r->apps[i]->id))
			json_errs_add(e, "/id", "Groups and Applications may not have "
			    "the same identifier: %s", r->apps[i]->id);
	}
	for (size_t i = 0; i < r->npods; i++) {
		if (root_app(r, r->pods[i]->id) || holds_anything(r, r->pods[i]->id)
		    || root_group(r, r->pods[i]->id))
			json_errs_add(e, "/id", "Groups, Applications and Pods may not "
			    "have the same identifier: %s", r->pods[i]->id);
	}
	if (root_depths(r, depth) == -1)
		json_errs_add(e, "/", "Dependency graph has cyclic dependencies.");
	free(depth);
	ports = strmap_new();
	for (size_t i = 0; i < r->napps; i++) {
		const struct app *a = r->apps[i];

		for (size_t k = 0; k < a->nports; k++) {
			char key[16];
			const struct app *other;

			if (a->ports[k].port == 0)
				continue;
			snprintf(key, sizeof(key), "%d", a->ports[k].port);
			other = strmap_get(ports, key);
			if (other && other != a)
				json_errs_add(e, "/", "Requested service port %d conflicts "
				    "with a service port in app %s", a->ports[k].port,
				    other->id);
			strmap_put(ports, key, (void *)a);
		}
	}
	strmap_free(ports);
	return errs_total(e) > before ? -1 : 0;
}

int
root_assign_service_ports(const struct root *r, struct app *a, int min,
    int max)
{
	unsigned char *used;
	int next = min;

	if (max < min)
		return -1;
	used = xcalloc((size_t)(max - min + 1), 1);
	for (size_t i = 0; i < r->napps; i++) {
		const struct app *o = r->apps[i];

		if (strcmp(o->id, a->id) == 0)
			continue;
		for (size_t k = 0; k < o->nports; k++)
			if (o->ports[k].port >= min && o->ports[k].port <= max)
				used[o->ports[k].port - min] = 1;
	}
	for (size_t k = 0; k < a->nports; k++)
		if (a->ports[k].port >= min && a->ports[k].port <= max)
			used[a->ports[k].port - min] = 1;
	for (size_t k = 0; k < a->nports; k++) {
		if (a->ports[k].port != 0)
			continue;
		while (next <= max && used[next - min])
			next++;
		if (next > max) {
			free(used);
			return -1;
		}
		a->ports[k].port = next;
		used[next - min] = 1;
	}
	free(used);
	return 0;
}
