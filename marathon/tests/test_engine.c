/* Unit tests for the reconcile engine: scaling, the rolling restart of
 * TaskReplaceActor (minimumHealthCapacity / maximumOverCapacity), stops,
 * deployment steps, backoff and unreachable instances. No Mesos and no
 * store: kills are recorded on the instances. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../src/marathon.h"

static struct app *
mkapp(const char *json, const char *cfg)
{
	json_t *doc = json_loads(json, 0, NULL);
	struct json_errs e;
	struct app *a;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	snprintf(a->version, sizeof(a->version), "%s", cfg);
	snprintf(a->last_config_change_at, sizeof(a->last_config_change_at), "%s",
	    cfg);
	json_decref(doc);
	json_errs_free(&e);
	return a;
}

static struct instance *
add(struct marathon *m, const struct app *a, const char *cfg, int state,
    double staged, bool healthy)
{
	static int n;
	char id[64];
	struct instance *i;

	snprintf(id, sizeof(id), "app.%d", n++);
	i = instance_new(id, a->id);
	snprintf(i->config_version, sizeof(i->config_version), "%s", cfg);
	i->state = state;
	i->confirmed = true;
	i->staged_at = staged;
	i->started_at = state == TASK_RUNNING ? staged + 1 : 0;
	state_add_instance(m->st, i);
	if (a->nhcs && healthy) {
		for (size_t k = 0; k < i->nhc; k++) {
			i->hc[k].has_result = true;
			i->hc[k].alive = true;
		}
	}
	return i;
}

static void
setup_app(struct marathon *m, struct app *a)
{
	struct app_rt *rt;

	m->st = state_new();
	root_put_app(m->st->root, a);
	rt = state_rt(m->st, a->id, true);
	rt->app = app_ref(a);
}

static size_t
killed(struct app_rt *rt)
{
	size_t n = 0;

	for (size_t k = 0; k < rt->ninst; k++)
		n += rt->inst[k]->kill != KILL_NONE;
	return n;
}

static size_t
ready(struct app_rt *rt)
{
	size_t n = 0;

	for (size_t k = 0; k < rt->ninst; k++)
		n += instance_ready(rt->inst[k], rt->app);
	return n;
}

/* Mesos confirms every requested kill. */
static void
confirm_kills(struct marathon *m, struct app_rt *rt)
{
	for (size_t k = 0; k < rt->ninst;) {
		if (rt->inst[k]->kill != KILL_NONE)
			state_del_instance(m->st, rt->inst[k]);
		else
			k++;
	}
}

/* The offers arrive: to_launch new instances of the current config, which
 * start running (and pass their checks) at once. */
static void
launch_all(struct marathon *m, struct app_rt *rt, double t)
{
	int n = rt->to_launch;

	for (int k = 0; k < n; k++)
		add(m, rt->app, rt->app->last_config_change_at, TASK_RUNNING, t + k,
		    true);
	rt->to_launch = 0;
}

static void
test_scale_up_asks_for_the_missing_instances(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":3}",
	    "v1");
	struct app_rt *rt;

	setup_app(&m, a);
	rt = state_rt(m.st, "/a", false);
	add(&m, a, "v1", TASK_RUNNING, 1, true);
	engine_run(&m);
	assert_int_equal(rt->to_launch, 2);
	assert_int_equal(killed(rt), 0);
	state_free(m.st);
}

static void
test_scale_down_kills_the_youngest_first(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":1}",
	    "v1");
	struct instance *old, *mid, *young;
	struct app_rt *rt;

	setup_app(&m, a);
	rt = state_rt(m.st, "/a", false);
	old = add(&m, a, "v1", TASK_RUNNING, 100, true);
	young = add(&m, a, "v1", TASK_RUNNING, 300, true);
	mid = add(&m, a, "v1", TASK_RUNNING, 200, true);
	engine_run(&m);
	assert_int_equal(old->kill, KILL_NONE);
	assert_int_equal(mid->kill, KILL_SCALE);
	assert_int_equal(young->kill, KILL_SCALE);
	assert_int_equal(rt->to_launch, 0);
	state_free(m.st);
}

static void
test_oldest_first_and_staging_before_running(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":1,"
	    "\"killSelection\":\"OLDEST_FIRST\"}", "v1");
	struct instance *old, *young, *staging;

	setup_app(&m, a);
	old = add(&m, a, "v1", TASK_RUNNING, 100, true);
	young = add(&m, a, "v1", TASK_RUNNING, 300, true);
	staging = add(&m, a, "v1", TASK_STAGING, 400, false);
	engine_run(&m);
	assert_int_equal(staging->kill, KILL_SCALE);
	assert_int_equal(old->kill, KILL_SCALE);
	assert_int_equal(young->kill, KILL_NONE);
	state_free(m.st);
}

/* A restart from v1 to v2 driven to the end; checks after every round that
 * at least min_ready instances are ready and at most max_alive alive. */
static void
run_restart(const char *strategy, int n, size_t min_ready, size_t max_alive)
{
	struct marathon m = { 0 };
	char json[256];
	struct app *a, *b;
	struct app_rt *rt;
	struct root *to;
	struct deployment *d;
	int rounds = 0;

	snprintf(json, sizeof(json), "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":"
	    "%d,\"healthChecks\":[{\"protocol\":\"TCP\"}],\"upgradeStrategy\":%s}",
	    n, strategy);
	a = mkapp(json, "v1");
	setup_app(&m, a);
	rt = state_rt(m.st, "/a", false);
	for (int k = 0; k < n; k++)
		add(&m, a, "v1", TASK_RUNNING, 10 + k, true);
	b = app_clone(a);
	snprintf(b->last_config_change_at, sizeof(b->last_config_change_at),
	    "v2");
	snprintf(b->version, sizeof(b->version), "v2");
	to = root_copy(m.st->root);
	root_put_app(to, b);
	d = plan_compute(m.st->root, to, "v2");
	assert_int_equal(d->nsteps, 1);
	assert_int_equal(d->steps[0].actions[0].type, ACT_RESTART);
	root_free(m.st->root);
	m.st->root = to;
	app_unref(rt->app);
	rt->app = app_ref(b);
	state_add_deployment(m.st, d);
	while (m.st->ndeps && rounds++ < 50) {
		size_t alive = 0;

		engine_run(&m);
		for (size_t k = 0; k < rt->ninst; k++)
			alive += rt->inst[k]->kill == KILL_NONE;
		assert_true(ready(rt) >= min_ready);
		alive += (size_t)rt->to_launch;
		assert_true(alive <= max_alive);
		confirm_kills(&m, rt);
		launch_all(&m, rt, 100 + rounds * 10);
	}
	assert_int_equal(m.st->ndeps, 0);
	assert_int_equal(rt->ninst, n);
	for (size_t k = 0; k < rt->ninst; k++)
		assert_string_equal(rt->inst[k]->config_version, "v2");
	state_free(m.st);
}

static void
test_rolling_restart_keeps_half_healthy_with_no_extra_capacity(void **state)
{
	/* N=2, minimumHealthCapacity 0.5, maximumOverCapacity 0 */
	run_restart("{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0}",
	    2, 1, 2);
	/* N=4: at least 2 healthy, at most 4 alive */
	run_restart("{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0}",
	    4, 2, 4);
}

static void
test_rolling_restart_with_defaults_starts_all_new_first(void **state)
{
	/* 1.0 / 1.0: all old stay ready until the new ones are */
	run_restart("{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":1}", 3,
	    3, 6);
	/* 1.0 / 0: one over capacity at a time */
	run_restart("{\"minimumHealthCapacity\":1,\"maximumOverCapacity\":0}", 3,
	    3, 4);
}

static void
test_new_app_deployment_starts_then_scales_until_ready(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2}",
	    "v1");
	struct root *from = root_new(), *to = root_new();
	struct deployment *d;
	struct app_rt *rt;

	m.st = state_new();
	root_put_app(to, app_ref(a));
	d = plan_compute(from, to, "v1");
	root_free(m.st->root);
	m.st->root = to;
	rt = state_rt(m.st, "/a", true);
	rt->app = a;
	state_add_deployment(m.st, d);
	engine_run(&m); /* START is done, the step advances */
	assert_int_equal(d->current, 1);
	engine_run(&m);
	assert_int_equal(rt->to_launch, 2);
	add(&m, a, "v1", TASK_STAGING, 1, false);
	add(&m, a, "v1", TASK_STAGING, 2, false);
	engine_run(&m);
	assert_int_equal(m.st->ndeps, 1); /* not running yet */
	rt->inst[0]->state = TASK_RUNNING;
	rt->inst[1]->state = TASK_RUNNING;
	engine_run(&m);
	assert_int_equal(m.st->ndeps, 0);
	root_free(from);
	state_free(m.st);
}

static void
test_stop_kills_everything_and_forgets_the_app(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2}",
	    "v1");
	struct root *to = root_new();
	struct deployment *d;
	struct app_rt *rt;

	setup_app(&m, a);
	rt = state_rt(m.st, "/a", false);
	add(&m, a, "v1", TASK_RUNNING, 1, true);
	add(&m, a, "v1", TASK_RUNNING, 2, true);
	d = plan_compute(m.st->root, to, "v2");
	root_free(m.st->root);
	m.st->root = to;
	rt->removed = true;
	state_add_deployment(m.st, d);
	engine_run(&m);
	assert_int_equal(killed(rt), 2);
	confirm_kills(&m, rt);
	engine_run(&m);
	assert_int_equal(m.st->ndeps, 0);
	engine_run(&m);
	assert_null(state_rt(m.st, "/a", false));
	state_free(m.st);
}

static void
test_backoff_grows_by_the_factor_up_to_the_limit(void **state)
{
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"backoffSeconds\":2,"
	    "\"backoffFactor\":2,\"maxLaunchDelaySeconds\":10}", "v1");
	struct app_rt rt = { .app = a };
	double now = clock_mono();

	sched_backoff(&rt);
	assert_true(rt.backoff == 2);
	assert_true(rt.delay_until >= now + 1.9);
	/* a second failure while the delay runs does not stack */
	sched_backoff(&rt);
	assert_true(rt.backoff == 2);
	rt.delay_until = 0; /* the delay ran out */
	sched_backoff(&rt);
	assert_true(rt.backoff == 4);
	rt.delay_until = 0;
	sched_backoff(&rt);
	rt.delay_until = 0;
	sched_backoff(&rt);
	assert_true(rt.backoff == 10);
	app_unref(a);
}

static void
test_unreachable_instance_is_replaced(void **state)
{
	struct marathon m = { 0 };
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":1,"
	    "\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,"
	    "\"expungeAfterSeconds\":3600}}", "v1");
	struct app *kept = mkapp("{\"id\":\"/b\",\"cmd\":\"x\",\"instances\":1,"
	    "\"unreachableStrategy\":\"disabled\"}", "v1");
	struct instance *i, *j;
	struct app_rt *rt, *rt2;

	setup_app(&m, a);
	root_put_app(m.st->root, kept);
	rt2 = state_rt(m.st, "/b", true);
	rt2->app = app_ref(kept);
	rt = state_rt(m.st, "/a", false);
	i = add(&m, a, "v1", TASK_UNREACHABLE, 1, false);
	i->unreachable_since = clock_wall() - 1;
	j = add(&m, kept, "v1", TASK_UNREACHABLE, 1, false);
	j->unreachable_since = clock_wall() - 1;
	engine_run(&m);
	assert_int_equal(rt->to_launch, 1);
	assert_int_equal(rt2->to_launch, 0);
	state_free(m.st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_up_asks_for_the_missing_instances),
		cmocka_unit_test(test_scale_down_kills_the_youngest_first),
		cmocka_unit_test(test_oldest_first_and_staging_before_running),
		cmocka_unit_test(test_rolling_restart_keeps_half_healthy_with_no_extra_capacity),
		cmocka_unit_test(test_rolling_restart_with_defaults_starts_all_new_first),
		cmocka_unit_test(test_new_app_deployment_starts_then_scales_until_ready),
		cmocka_unit_test(test_stop_kills_everything_and_forgets_the_app),
		cmocka_unit_test(test_backoff_grows_by_the_factor_up_to_the_limit),
		cmocka_unit_test(test_unreachable_instance_is_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
