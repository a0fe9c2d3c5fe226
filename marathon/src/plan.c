/*
 * plan: deployment plans, computed from the root group before and after a
 * change, in Marathon's order:
 *
 *   1. one step stopping the apps that are gone;
 *   2. one step starting the new apps with 0 instances;
 *   3. one step per dependency depth (apps without dependencies first):
 *      new apps and changed instance counts scale, changed configs
 *      (last_config_change_at) restart.
 *
 * Pods take part as apps without dependencies (StartPod, ScalePod,
 * RestartPod, StopPod). Empty steps are dropped. A deployment also keeps
 * the original and target definition of every affected app and pod, for
 * rollback and for the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/ids.h"
#include "dcos/log.h"

#include "marathon.h"

static const char *const action_names[] = {
	[ACT_START] = "StartApplication", [ACT_SCALE] = "ScaleApplication",
	[ACT_RESTART] = "RestartApplication", [ACT_STOP] = "StopApplication",
};

static const char *const pod_action_names[] = {
	[ACT_START] = "StartPod", [ACT_SCALE] = "ScalePod",
	[ACT_RESTART] = "RestartPod", [ACT_STOP] = "StopPod",
};

const char *
action_name(enum action_type t)
{
	return action_names[t];
}

static const char *
action_label(const struct action *a)
{
	return a->pod ? pod_action_names[a->type] : action_names[a->type];
}

/* the action type of a name; *pod says which kind */
static int
action_parse(const char *s, bool *pod)
{
	for (size_t i = 0; i < 4; i++) {
		*pod = strcmp(s, pod_action_names[i]) == 0;
		if (*pod || strcmp(s, action_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static void
step_add(struct step *s, enum action_type t, const char *app_id, int scale)
{
	s->actions = xrealloc(s->actions, (s->n + 1) * sizeof(*s->actions));
	s->actions[s->n] = (struct action){ .type = t,
		.app_id = xstrdup(app_id), .scale_to = scale };
	s->n++;
}

static void
step_add_pod(struct step *s, enum action_type t, const char *pod_id,
    int scale)
{
	step_add(s, t, pod_id, scale);
	s->actions[s->n - 1].pod = true;
}

static void
pod_ref(struct pod *p)
{
	if (p)
		p->refs++;
}

static void
affect_pod(struct deployment *d, const char *id, struct pod *orig,
    struct pod *target)
{
	size_t n = d->naffected_pods;

	d->affected_pods = xrealloc(d->affected_pods, (n + 1) * sizeof(char *));
	d->orig_pods = xrealloc(d->orig_pods, (n + 1) * sizeof(*d->orig_pods));
	d->target_pods = xrealloc(d->target_pods, (n + 1) *
	    sizeof(*d->target_pods));
	d->affected_pods[n] = xstrdup(id);
	pod_ref(orig);
	pod_ref(target);
	d->orig_pods[n] = orig;
	d->target_pods[n] = target;
	d->naffected_pods++;
}

/* Pods have no dependencies: removed ones stop with the removed apps, new
 * ones start with the new apps, and scale or restart in the first
 * dependency step. */
static void
plan_pods(struct deployment *d, const struct root *from, const struct root *to,
    struct step *stop, struct step *start, struct step *first)
{
	for (size_t i = 0; i < to->npods; i++) {
		struct pod *t = to->pods[i], *o = root_pod(from, t->id);

		if (o == t)
			continue;
		affect_pod(d, t->id, o, t);
		if (o == NULL) {
			step_add_pod(start, ACT_START, t->id, 0);
			step_add_pod(first, ACT_SCALE, t->id, t->instances);
		} else if (strcmp(o->app->last_config_change_at,
		    t->app->last_config_change_at) != 0) {
			step_add_pod(first, ACT_RESTART, t->id, t->instances);
		} else if (o->instances != t->instances) {
			step_add_pod(first, ACT_SCALE, t->id, t->instances);
		}
	}
	for (size_t i = 0; i < from->npods; i++) {
		if (root_pod(to, from->pods[i]->id))
			continue;
		affect_pod(d, from->pods[i]->id, from->pods[i], NULL);
		step_add_pod(stop, ACT_STOP, from->pods[i]->id, 0);
	}
}

static void
plan_push_step(struct deployment *d, struct step *s)
{
	if (s->n == 0) {
		free(s->actions);
		return;
	}
	d->steps = xrealloc(d->steps, (d->nsteps + 1) * sizeof(*d->steps));
	d->steps[d->nsteps++] = *s;
}

static void
affect(struct deployment *d, const char *id, struct app *orig,
    struct app *target)
{
	d->affected = xrealloc(d->affected, (d->naffected + 1) * sizeof(char *));
	d->orig = xrealloc(d->orig, (d->naffected + 1) * sizeof(*d->orig));
	d->target = xrealloc(d->target, (d->naffected + 1) * sizeof(*d->target));
	d->affected[d->naffected] = xstrdup(id);
	d->orig[d->naffected] = app_ref(orig);
	d->target[d->naffected] = app_ref(target);
	d->naffected++;
}

static struct deployment *
deployment_new(const char *version)
{
	struct deployment *d = xcalloc(1, sizeof(*d));

	ids_uuid4(d->id);
	snprintf(d->version, sizeof(d->version), "%s", version);
	return d;
}

struct deployment *
plan_compute(const struct root *from, const struct root *to,
    const char *version)
{
	struct deployment *d = deployment_new(version);
	struct step stop = { 0 }, start = { 0 }, pods = { 0 };
	size_t i = 0, j = 0;
	int *depth, maxdepth = 0;

	/* merge the two sorted app lists */
	while (i < from->napps || j < to->napps) {
		int c = i == from->napps ? 1 : j == to->napps ? -1 :
		    strcmp(from->apps[i]->id, to->apps[j]->id);

		if (c < 0) {
			affect(d, from->apps[i]->id, from->apps[i], NULL);
			step_add(&stop, ACT_STOP, from->apps[i]->id, 0);
			i++;
		} else if (c > 0) {
			affect(d, to->apps[j]->id, NULL, to->apps[j]);
			step_add(&start, ACT_START, to->apps[j]->id, 0);
			j++;
		} else {
			if (from->apps[i] != to->apps[j])
				affect(d, to->apps[j]->id, from->apps[i], to->apps[j]);
			i++, j++;
		}
	}
	plan_pods(d, from, to, &stop, &start, &pods);
	plan_push_step(d, &stop);
	plan_push_step(d, &start);

	depth = xcalloc(to->napps + 1, sizeof(int));
	if (root_depths(to, depth) == -1)
		log_warn("plan %s: cyclic dependencies; ordering ignored", d->id);
	for (j = 0; j < to->napps; j++)
		if (depth[j] > maxdepth)
			maxdepth = depth[j];
	for (int level = 0; level <= maxdepth; level++) {
		struct step s = { 0 };

		if (level == 0) {
			s = pods;
			pods = (struct step){ 0 };
		}
		for (j = 0; j < to->napps; j++) {
			const struct app *t = to->apps[j];
			const struct app *o = root_app(from, t->id);

			if (depth[j] != level && !(depth[j] < 0 && level == 0))
				continue;
			if (o == t)
				continue;
			if (o == NULL)
				step_add(&s, ACT_SCALE, t->id, t->instances);
			else if (strcmp(o->last_config_change_at,
			    t->last_config_change_at) != 0)
				step_add(&s, ACT_RESTART, t->id, t->instances);
			else if (o->instances != t->instances)
				step_add(&s, ACT_SCALE, t->id, t->instances);
		}
		plan_push_step(d, &s);
	}
	free(depth);
	return d;
}

void
deployment_free(struct deployment *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nsteps; i++) {
		for (size_t k = 0; k < d->steps[i].n; k++)
			free(d->steps[i].actions[k].app_id);
		free(d->steps[i].actions);
	}
	free(d->steps);
	for (size_t i = 0; i < d->naffected; i++) {
		free(d->affected[i]);
		app_unref(d->orig[i]);
		app_unref(d->target[i]);
	}
	free(d->affected);
	free(d->orig);
	free(d->target);
	for (size_t i = 0; i < d->naffected_pods; i++) {
		pod_unref(d->orig_pods[i]);
		pod_unref(d->target_pods[i]);
	}
	free(d->orig_pods);
	free(d->target_pods);
	strv_free(d->affected_pods, d->naffected_pods);
	free(d);
}

bool
deployment_affects(const struct deployment *d, const char *app_id)
{
	for (size_t i = 0; i < d->naffected; i++)
		if (strcmp(d->affected[i], app_id) == 0)
			return true;
	return strv_has(d->affected_pods, d->naffected_pods, app_id);
}

const struct action *
deployment_action(const struct deployment *d, const char *app_id)
{
	if (d->current >= d->nsteps)
		return NULL;
	for (size_t k = 0; k < d->steps[d->current].n; k++)
		if (strcmp(d->steps[d->current].actions[k].app_id, app_id) == 0)
			return &d->steps[d->current].actions[k];
	return NULL;
}

static json_t *
actions_json(const struct step *s, bool with_readiness)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < s->n; k++) {
		json_t *a = json_pack("{s:s, s:s}", "action",
		    action_label(&s->actions[k]), s->actions[k].pod ? "pod" : "app",
		    s->actions[k].app_id);

		if (with_readiness)
			json_object_set_new(a, "readinessCheckResults", json_array());
		json_array_append_new(arr, a);
	}
	return arr;
}

json_t *
deployment_step_json(const struct deployment *d, size_t step)
{
	return json_pack("{s:o}", "actions", step < d->nsteps ?
	    actions_json(&d->steps[step], false) : json_array());
}

static json_t *
steps_json(const struct deployment *d)
{
	json_t *steps = json_array();

	for (size_t i = 0; i < d->nsteps; i++)
		json_array_append_new(steps, deployment_step_json(d, i));
	return steps;
}

json_t *
deployment_to_json(const struct deployment *d)
{
	json_t *affected = json_array(), *pods = json_array();

	for (size_t i = 0; i < d->naffected; i++)
		json_array_append_new(affected, json_string(d->affected[i]));
	for (size_t i = 0; i < d->naffected_pods; i++)
		json_array_append_new(pods, json_string(d->affected_pods[i]));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i, s:i}",
	    "id", d->id, "version", d->version, "affectedApps", affected,
	    "affectedPods", pods, "steps", steps_json(d),
	    "currentActions", d->current < d->nsteps ?
	    actions_json(&d->steps[d->current], true) : json_array(),
	    "currentStep", (int)(d->current < d->nsteps ? d->current + 1 :
	    d->nsteps), "totalSteps", (int)d->nsteps);
}

json_t *
deployment_plan_json(const struct deployment *d)
{
	return json_pack("{s:s, s:s, s:o}", "id", d->id, "version", d->version,
	    "steps", steps_json(d));
}

char *
deployment_to_text(const struct deployment *d)
{
	json_t *steps = json_array(), *affected = json_array(), *doc;
	char *text;

	for (size_t i = 0; i < d->nsteps; i++) {
		json_t *acts = json_array();

		for (size_t k = 0; k < d->steps[i].n; k++) {
			const struct action *a = &d->steps[i].actions[k];

			json_array_append_new(acts, json_pack("{s:s, s:s, s:i, s:b}",
			    "action", action_label(a), "app", a->app_id,
			    "scaleTo", a->scale_to, "done", a->done));
		}
		json_array_append_new(steps, acts);
	}
	for (size_t i = 0; i < d->naffected; i++)
		json_array_append_new(affected, json_pack("{s:s, s:o?, s:o?}",
		    "id", d->affected[i],
		    "orig", d->orig[i] ? app_to_json(d->orig[i]) : NULL,
		    "target", d->target[i] ? app_to_json(d->target[i]) : NULL));
	doc = json_pack("{s:s, s:s, s:i, s:o, s:o, s:b}", "id", d->id,
	    "version", d->version, "current", (int)d->current, "steps", steps,
	    "affected", affected, "reverts", d->reverts);
	if (d->naffected_pods) {
		json_t *pods = json_array();

		for (size_t i = 0; i < d->naffected_pods; i++) {
			char *o = d->orig_pods[i] ? pod_to_store(d->orig_pods[i]) : NULL;
			char *t = d->target_pods[i] ? pod_to_store(d->target_pods[i]) :
			    NULL;

			json_array_append_new(pods, json_pack("{s:s, s:s?, s:s?}", "id",
			    d->affected_pods[i], "orig", o, "target", t));
			free(o);
			free(t);
		}
		json_object_set_new(doc, "affectedPods", pods);
	}
	text = json_compact(doc);
	json_decref(doc);
	return text;
}

static struct app *
stored_app(const json_t *j)
{
	char *text;
	struct app *a;

	if (!json_is_object(j))
		return NULL;
	text = json_compact(j);
	a = app_from_store(text);
	free(text);
	return a;
}

struct deployment *
deployment_from_text(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL), *st, *af;
	struct deployment *d;
	size_t i, k;

	if (doc == NULL)
		return NULL;
	d = deployment_new(json_str_or(doc, "version", ""));
	snprintf(d->id, sizeof(d->id), "%s", json_str_or(doc, "id", d->id));
	d->current = (size_t)json_num_or(doc, "current", 0);
	d->reverts = json_is_true(json_object_get(doc, "reverts"));
	json_array_foreach(json_object_get(doc, "steps"), i, st) {
		struct step s = { 0 };
		json_t *a;

		json_array_foreach(st, k, a) {
			bool pod;
			int t = action_parse(json_str_or(a, "action", ""), &pod);

			if (t < 0)
				continue;
			step_add(&s, (enum action_type)t, json_str_or(a, "app", ""),
			    (int)json_num_or(a, "scaleTo", 0));
			s.actions[s.n - 1].pod = pod;
			s.actions[s.n - 1].done = json_is_true(json_object_get(a,
			    "done"));
		}
		plan_push_step(d, &s);
	}
	json_array_foreach(json_object_get(doc, "affected"), i, af) {
		struct app *o = stored_app(json_object_get(af, "orig"));
		struct app *t = stored_app(json_object_get(af, "target"));

		affect(d, json_str_or(af, "id", ""), o, t);
		app_unref(o);
		app_unref(t);
	}
	json_array_foreach(json_object_get(doc, "affectedPods"), i, af) {
		const char *o = json_str_or(af, "orig", NULL);
		const char *t = json_str_or(af, "target", NULL);
		struct pod *po = o ? pod_from_store(o) : NULL;
		struct pod *pt = t ? pod_from_store(t) : NULL;

		if (json_is_string(af)) /* older stores: the id only */
			affect_pod(d, json_string_value(af), NULL, NULL);
		else
			affect_pod(d, json_str_or(af, "id", ""), po, pt);
		pod_unref(po);
		pod_unref(pt);
	}
	json_decref(doc);
	return d;
}
