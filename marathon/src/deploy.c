/*
 * deploy: the reconcile engine. After every event that may matter (status
 * updates, API changes, offers, health results, the 1 s tick) each app is
 * brought one step closer to what it should be, level-triggered from the
 * instances as they are now:
 *
 *   no deployment    scale to app.instances (launch what is missing, kill
 *                    what is extra); removed apps are killed and forgotten
 *   START            done at once (0 instances)
 *   SCALE n          launch or kill to n; done when n are ready
 *   RESTART          the rolling replacement of Marathon's TaskReplaceActor:
 *                    at least ceil(N x minimumHealthCapacity) ready, at most
 *                    N x (1 + maximumOverCapacity) alive; an old instance is
 *                    killed only when enough new ones are ready
 *   STOP             kill everything; done when nothing is left
 *
 * An app whose deployment step is not current holds still. Then each
 * deployment advances when all actions of its step are done.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/log.h"
#include "dcos/store.h"

#include "marathon.h"

/* An instance that counts towards the app's size. */
static bool
alive(const struct instance *i, const struct app *a)
{
	if (!instance_active(i) || i->kill != KILL_NONE)
		return false;
	if (i->state == TASK_UNREACHABLE && a && !a->unreachable_disabled &&
	    clock_wall() - i->unreachable_since >= a->inactive_after)
		return false; /* inactive: replaced */
	return true;
}

/* Kill preference: not running first, then unhealthy, then by the app's
 * killSelection. Returns <0 when x should die before y. */
static int
kill_order(const struct instance *x, const struct instance *y,
    const struct app *a)
{
	int rx = instance_ready(x, a), ry = instance_ready(y, a);
	int runx = x->state == TASK_RUNNING, runy = y->state == TASK_RUNNING;

	if (runx != runy)
		return runx - runy;
	if (rx != ry)
		return rx - ry;
	if (x->staged_at != y->staged_at) {
		bool younger = x->staged_at > y->staged_at;

		if (a && a->kill_selection == KILL_OLDEST_FIRST)
			return younger ? 1 : -1;
		return younger ? -1 : 1;
	}
	return strcmp(x->id, y->id);
}

/* Kills n of the given instances, in kill order. */
static void
kill_some(struct marathon *m, struct instance **v, size_t nv, size_t n,
    const struct app *a, enum kill_reason why)
{
	for (size_t i = 1; i < nv; i++)
		for (size_t j = i; j > 0 && kill_order(v[j], v[j - 1], a) < 0; j--) {
			struct instance *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (size_t i = 0; i < n && i < nv; i++)
		sched_kill(m, v[i], why);
}

/* Instances of rt matching: alive and (config == NULL or of that config
 * version, or of another when other). */
static size_t
collect(struct app_rt *rt, struct instance ***out, const char *config,
    bool other)
{
	struct instance **v = xcalloc(rt->ninst + 1, sizeof(*v));
	size_t n = 0;

	for (size_t k = 0; k < rt->ninst; k++) {
		struct instance *i = rt->inst[k];

		if (!alive(i, rt->app))
			continue;
		if (config && (strcmp(i->config_version, config) == 0) == other)
			continue;
		v[n++] = i;
	}
	*out = v;
	return n;
}

static size_t
count_ready(struct instance **v, size_t n, const struct app *a)
{
	size_t r = 0;

	for (size_t k = 0; k < n; k++)
		r += instance_ready(v[k], a);
	return r;
}

/* Instances we asked to kill that are not gone yet. */
static size_t
dying(const struct app_rt *rt)
{
	size_t n = 0;

	for (size_t k = 0; k < rt->ninst; k++)
		n += instance_active(rt->inst[k]) && rt->inst[k]->kill != KILL_NONE;
	return n;
}

static void
want(struct app_rt *rt, long n)
{
	int before = rt->to_launch;

	rt->to_launch = n > 0 ? (int)n : 0;
	if (before == 0 && rt->to_launch > 0)
		rt->queued_since = clock_wall();
}

static bool
scale_to(struct marathon *m, struct app_rt *rt, int target,
    enum kill_reason why)
{
	struct instance **v;
	size_t n = collect(rt, &v, NULL, false), ready;

	if (n > (size_t)target)
		kill_some(m, v, n, n - (size_t)target, rt->app, why);
	want(rt, (long)target - (long)n);
	ready = count_ready(v, n, rt->app);
	free(v);
	return n == (size_t)target && ready == (size_t)target && dying(rt) == 0;
}

static bool
replace(struct marathon *m, struct app_rt *rt)
{
	const struct app *a = rt->app;
	const char *cfg = a->last_config_change_at;
	struct instance **news, **olds;
	size_t nnew = collect(rt, &news, cfg, false);
	size_t nold = collect(rt, &olds, cfg, true);
	size_t N = (size_t)a->instances, ready_new = count_ready(news, nnew, a);
	size_t min_healthy = (size_t)ceil(N * a->min_health - 1e-9);
	size_t max_cap = (size_t)floor(N * (1 + a->max_over) + 1e-9);
	size_t keep_old, cap_left;
	bool done;

	if (min_healthy == max_cap && max_cap <= nnew + nold)
		max_cap++; /* one over capacity, so the restart can proceed */
	keep_old = ready_new >= min_healthy ? 0 : min_healthy - ready_new;
	if (nold > keep_old) {
		kill_some(m, olds, nold, nold - keep_old, a, KILL_DEPLOY);
		nold = keep_old;
	}
	if (nnew > N)
		kill_some(m, news, nnew, nnew - N, a, KILL_DEPLOY);
	cap_left = max_cap > nold + nnew ? max_cap - nold - nnew : 0;
	want(rt, (long)(N > nnew ? (N - nnew < cap_left ? N - nnew : cap_left) :
	    0));
	done = nold == 0 && nnew == N && ready_new == N && dying(rt) == 0;
	free(news);
	free(olds);
	return done;
}

static bool
stop_all(struct marathon *m, struct app_rt *rt)
{
	bool any = false;

	want(rt, 0);
	for (size_t k = 0; k < rt->ninst; k++) {
		struct instance *i = rt->inst[k];

		if (!instance_active(i))
			continue;
		any = true;
		if (i->kill == KILL_NONE)
			sched_kill(m, i, KILL_DEPLOY);
	}
	return !any;
}

static void
reconcile_app(struct marathon *m, struct app_rt *rt)
{
	const struct action *act;

	if (rt->dep == NULL) {
		if (rt->removed || rt->app == NULL)
			stop_all(m, rt);
		else
			scale_to(m, rt, rt->app->instances, KILL_SCALE);
		return;
	}
	act = deployment_action(rt->dep, rt->id);
	if (act == NULL) {
		want(rt, 0); /* not this app's turn yet */
		return;
	}
	switch (act->type) {
	case ACT_START:
		((struct action *)act)->done = true;
		want(rt, 0);
		break;
	case ACT_SCALE:
		if (scale_to(m, rt, act->scale_to, KILL_DEPLOY))
			((struct action *)act)->done = true;
		break;
	case ACT_RESTART:
		if (replace(m, rt))
			((struct action *)act)->done = true;
		break;
	case ACT_STOP:
		if (stop_all(m, rt))
			((struct action *)act)->done = true;
		break;
	}
}

static void
step_stored(struct marathon *m, bool ok, bool current, void *arg)
{
}

/* Advances d while its current step is complete. true when it finished. */
static bool
advance(struct marathon *m, struct deployment *d)
{
	bool moved = false;

	while (d->current < d->nsteps) {
		const struct step *s = &d->steps[d->current];

		for (size_t k = 0; k < s->n; k++)
			if (!s->actions[k].done)
				goto out;
		events_publish(m, "deployment_step_success", json_pack("{s:o, s:o}",
		    "plan", deployment_plan_json(d), "currentStep",
		    deployment_step_json(d, d->current)));
		d->current++;
		moved = true;
		if (d->current < d->nsteps)
			events_publish(m, "deployment_info", json_pack("{s:o, s:o}",
			    "plan", deployment_plan_json(d), "currentStep",
			    deployment_step_json(d, d->current)));
	}
out:
	if (d->current >= d->nsteps)
		return true;
	if (moved) {
		struct store_tx *tx = persist_tx(m);

		tx_put_deployment(tx, d);
		persist_submit(m, tx, step_stored, NULL);
		engine_kick(m);
	}
	return false;
}

static void
finish(struct marathon *m, struct deployment *d)
{
	struct store_tx *tx = persist_tx(m);

	log_info("deployment %s finished (%zu steps)", d->id, d->nsteps);
	tx_del_deployment(tx, d->id);
	persist_submit(m, tx, step_stored, NULL);
	events_publish(m, "deployment_success", json_pack("{s:s, s:o}", "id",
	    d->id, "plan", deployment_plan_json(d)));
	state_remove_deployment(m->st, d);
	deployment_free(d);
	engine_kick(m);
}

/* Forgets removed apps once nothing of them is left. */
static void
sweep(struct marathon *m)
{
	struct state *st = m->st;
	struct app_rt **gone = NULL;
	size_t ngone = 0, it = 0;
	void *v;

	while (strmap_next(st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		if ((rt->removed || rt->app == NULL) && rt->dep == NULL &&
		    rt->ninst == 0) {
			gone = xrealloc(gone, (ngone + 1) * sizeof(*gone));
			gone[ngone++] = rt;
		}
	}
	for (size_t k = 0; k < ngone; k++) {
		if (gone[k]->app)
			events_publish(m, "app_terminated_event", json_pack("{s:s}",
			    "appId", gone[k]->id));
		strmap_del(st->apps, gone[k]->id);
		app_unref(gone[k]->app);
		free(gone[k]->failure.task_id);
		free(gone[k]->failure.message);
		free(gone[k]->failure.state);
		free(gone[k]->failure.host);
		free(gone[k]->failure.agent_id);
		free(gone[k]->inst);
		free(gone[k]->id);
		free(gone[k]);
	}
	free(gone);
}

void
engine_run(struct marathon *m)
{
	struct state *st = m->st;
	size_t it = 0;
	void *v;
	bool demand = false;

	m->kicked = false;
	if (st == NULL)
		return;
	while (strmap_next(st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;
		int before = rt->to_launch;

		reconcile_app(m, rt);
		rt->dirty = false;
		if (rt->to_launch > 0) {
			demand = true;
			if (before == 0 && rt->delay_until <= clock_mono())
				mesos_revive(st->mesos);
		}
	}
	for (size_t k = 0; k < st->ndeps;) {
		struct deployment *d = st->deps[k];

		if (advance(m, d))
			finish(m, d); /* removes it from st->deps */
		else
			k++;
	}
	sweep(m);
	mesos_want_offers(st->mesos, demand);
	persist_flush(m);
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
	engine_run(arg);
}

void
engine_kick(struct marathon *m)
{
	if (m->kicked || m->kick == NULL)
		return;
	m->kicked = true;
	event_active(m->kick, EV_TIMEOUT, 0);
}

void
engine_init(struct marathon *m)
{
	m->kick = event_new(m->base, -1, 0, on_kick, m);
}

static void
tick_instance(struct marathon *m, struct app_rt *rt, struct instance *i,
    double mono, double now, struct instance ***expunge, size_t *nexp)
{
	const struct app *a = rt->app;

	if (!instance_active(i))
		return;
	if (i->kill != KILL_NONE && mono - i->kill_sent > m->f.kill_retry)
		sched_kill(m, i, i->kill);
	if (i->kill == KILL_NONE && i->state != TASK_RUNNING &&
	    i->state != TASK_UNREACHABLE && i->state != TASK_KILLING &&
	    now - i->staged_at > m->f.task_launch_timeout) {
		log_warn("instance %s did not start within %.0f s; killing it",
		    i->id, m->f.task_launch_timeout);
		sched_kill(m, i, KILL_OVERDUE);
	}
	if (i->state == TASK_UNREACHABLE && a && !a->unreachable_disabled &&
	    now - i->unreachable_since >= a->expunge_after) {
		*expunge = xrealloc(*expunge, (*nexp + 1) * sizeof(**expunge));
		(*expunge)[(*nexp)++] = i;
	}
}

/* Housekeeping, every second: kill retries, launch timeouts, unreachable
 * instances past expungeAfterSeconds, launch backoffs that ran out. */
void
engine_tick(struct marathon *m)
{
	struct state *st = m->st;
	double mono = clock_mono(), now = clock_wall();
	struct instance **expunge = NULL;
	size_t nexp = 0, it = 0;
	void *v;

	if (st == NULL)
		return;
	while (strmap_next(st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		for (size_t k = 0; k < rt->ninst; k++)
			tick_instance(m, rt, rt->inst[k], mono, now, &expunge, &nexp);
	}
	for (size_t k = 0; k < nexp; k++) {
		log_info("expunging unreachable instance %s", expunge[k]->id);
		sched_kill_tasks(m, expunge[k], -1);
		state_del_instance(st, expunge[k]);
	}
	free(expunge);
	it = 0;
	while (strmap_next(st->apps, &it, NULL, &v)) {
		struct app_rt *rt = v;

		if (rt->to_launch > 0 && rt->delay_until > 0 &&
		    rt->delay_until <= mono) {
			rt->delay_until = 0; /* backoff over: ask for offers again */
			mesos_revive(st->mesos);
		}
	}
	engine_run(m);
}
