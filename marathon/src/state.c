/*
 * state: the leader's runtime state: the root group, the running
 * deployments, the per-app runtime (instances, launch demand, backoff,
 * the deployment holding its lock) and the instance index. Built from the
 * store on election (persist.c), dropped whole when leadership is lost.
 */
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

/* the value of a deleted instance in the dirty set */
static char deleted_mark;

struct state *
state_new(void)
{
	struct state *st = xcalloc(1, sizeof(*st));

	st->root = root_new();
	st->apps = strmap_new();
	st->instances = strmap_new();
	st->tasks = strmap_new();
	st->dirty = strmap_new();
	return st;
}

static void
rt_free(struct app_rt *rt)
{
	for (size_t i = 0; i < rt->ninst; i++)
		instance_free(rt->inst[i]);
	free(rt->inst);
	app_unref(rt->app);
	free(rt->failure.task_id);
	free(rt->failure.message);
	free(rt->failure.state);
	free(rt->failure.host);
	free(rt->failure.agent_id);
	free(rt->id);
	free(rt);
}

void
state_free(struct state *st)
{
	size_t it = 0;
	void *v;

	if (st == NULL)
		return;
	while (strmap_next(st->apps, &it, NULL, &v))
		rt_free(v);
	strmap_free(st->apps);
	strmap_free(st->instances);
	strmap_free(st->tasks);
	strmap_free(st->dirty);
	for (size_t i = 0; i < st->ndeps; i++)
		deployment_free(st->deps[i]);
	free(st->deps);
	root_free(st->root);
	free(st);
}

struct app_rt *
state_rt(struct state *st, const char *app_id, bool create)
{
	struct app_rt *rt = strmap_get(st->apps, app_id);

	if (rt || !create)
		return rt;
	rt = xcalloc(1, sizeof(*rt));
	rt->id = xstrdup(app_id);
	strmap_put(st->apps, app_id, rt);
	return rt;
}

void
state_add_instance(struct state *st, struct instance *i)
{
	struct app_rt *rt = state_rt(st, i->app_id, true);

	rt->inst = xrealloc(rt->inst, (rt->ninst + 1) * sizeof(*rt->inst));
	rt->inst[rt->ninst++] = i;
	strmap_put(st->instances, i->id, i);
	for (size_t k = 0; k < i->ntasks; k++)
		strmap_put(st->tasks, i->tasks[k].id, i);
	if (rt->app)
		instance_fit_checks(i, rt->app);
	state_touch(st, i);
}

struct instance *
state_find_task(const struct state *st, const char *task_id)
{
	struct instance *i = strmap_get(st->instances, task_id);

	if (i && i->ntasks == 0)
		return i;
	return strmap_get(st->tasks, task_id);
}

void
state_touch(struct state *st, struct instance *i)
{
	strmap_put(st->dirty, i->id, i);
}

void
state_del_instance(struct state *st, struct instance *i)
{
	struct app_rt *rt = state_rt(st, i->app_id, false);

	if (rt) {
		for (size_t k = 0; k < rt->ninst; k++) {
			if (rt->inst[k] == i) {
				memmove(&rt->inst[k], &rt->inst[k + 1],
				    (rt->ninst - k - 1) * sizeof(*rt->inst));
				rt->ninst--;
				break;
			}
		}
		rt->dirty = true;
	}
	strmap_del(st->instances, i->id);
	for (size_t k = 0; k < i->ntasks; k++)
		strmap_del(st->tasks, i->tasks[k].id);
	strmap_put(st->dirty, i->id, &deleted_mark);
	instance_free(i);
}

bool
state_dirty_deleted(const void *v)
{
	return v == &deleted_mark;
}

struct deployment *
state_deployment(const struct state *st, const char *id)
{
	for (size_t i = 0; i < st->ndeps; i++)
		if (strcmp(st->deps[i]->id, id) == 0)
			return st->deps[i];
	return NULL;
}

void
state_add_deployment(struct state *st, struct deployment *d)
{
	st->deps = xrealloc(st->deps, (st->ndeps + 1) * sizeof(*st->deps));
	st->deps[st->ndeps++] = d;
	for (size_t i = 0; i < d->naffected; i++) {
		struct app_rt *rt = state_rt(st, d->affected[i], true);

		rt->dep = d;
		rt->dirty = true;
	}
	for (size_t i = 0; i < d->naffected_pods; i++) {
		struct app_rt *rt = state_rt(st, d->affected_pods[i], true);

		rt->dep = d;
		rt->dirty = true;
	}
}

void
state_remove_deployment(struct state *st, struct deployment *d)
{
	for (size_t i = 0; i < st->ndeps; i++) {
		if (st->deps[i] == d) {
			memmove(&st->deps[i], &st->deps[i + 1], (st->ndeps - i - 1) *
			    sizeof(*st->deps));
			st->ndeps--;
			break;
		}
	}
	for (size_t i = 0; i < d->naffected + d->naffected_pods; i++) {
		struct app_rt *rt = state_rt(st, i < d->naffected ? d->affected[i] :
		    d->affected_pods[i - d->naffected], false);

		if (rt && rt->dep == d) {
			rt->dep = NULL;
			rt->dirty = true;
		}
	}
}

void
state_counts(const struct app_rt *rt, int counts[4])
{
	counts[0] = counts[1] = counts[2] = counts[3] = 0;
	if (rt == NULL)
		return;
	for (size_t k = 0; k < rt->ninst; k++) {
		const struct instance *i = rt->inst[k];

		if (!instance_active(i))
			continue;
		if (i->state == TASK_STAGING || i->state == TASK_STARTING)
			counts[0]++;
		else if (i->state == TASK_RUNNING)
			counts[1]++;
		if (i->state == TASK_RUNNING) {
			int h = instance_health(i, rt->app);

			if (h == 1)
				counts[2]++;
			else if (h == 0)
				counts[3]++;
		}
	}
}
