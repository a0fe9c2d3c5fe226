/* Unit tests for pods: what a definition parses into (defaults, the run
 * spec, errors under their JSON paths), versioning (scale vs config
 * change), the deployment plan of a pod change, an instance's state from
 * its containers, and fitting a whole task group into an offer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/resources.h"

#include "../src/marathon.h"

static const char *const WEB =
    "{\"id\":\"shop/web\",\"labels\":{\"team\":\"shop\"},"
    "\"containers\":["
    "{\"name\":\"http\",\"resources\":{\"cpus\":0.5,\"mem\":64},"
    "\"exec\":{\"command\":{\"shell\":\"serve\"}},"
    "\"endpoints\":[{\"name\":\"www\"},"
    "{\"name\":\"admin\",\"hostPort\":8081}],"
    "\"healthCheck\":{\"http\":{\"endpoint\":\"www\",\"path\":\"/ok\"}}},"
    "{\"name\":\"sidecar\",\"resources\":{\"cpus\":0.25,\"mem\":32},"
    "\"exec\":{\"command\":{\"argv\":[\"sleep\",\"600\"]}}}],"
    "\"scaling\":{\"kind\":\"fixed\",\"instances\":2}}";

static struct pod *
parse(const char *text, struct json_errs *e)
{
	json_t *doc = json_loads(text, 0, NULL);
	struct pod *p;

	assert_non_null(doc);
	p = pod_parse(doc, NULL, e);
	json_decref(doc);
	return p;
}

static struct pod *
mkpod(const char *text, const struct pod *old, const char *version)
{
	struct json_errs e;
	struct pod *p;

	json_errs_init(&e);
	p = parse(text, &e);
	if (p == NULL) {
		char msg[512];

		fail_msg("bad pod: %s", json_errs_first(&e, msg, sizeof(msg)));
	}
	json_errs_free(&e);
	pod_stamp(p, old, version);
	return p;
}

static bool
has_error(const struct json_errs *e, const char *path)
{
	size_t i;
	json_t *d;

	json_array_foreach(e->details, i, d)
		if (strcmp(json_str_or(d, "path", ""), path) == 0)
			return true;
	return false;
}

static void
test_definition_gets_marathons_defaults_and_a_run_spec(void **state)
{
	struct pod *p = mkpod(WEB, NULL, "v1");
	const struct app *a = p->app;
	const json_t *ctr = json_array_get(json_object_get(p->def, "containers"),
	    0);

	assert_string_equal(p->id, "/shop/web");
	assert_int_equal(p->instances, 2);
	assert_string_equal(json_str_or(p->def, "version", ""), "v1");
	/* host networking: endpoints without a host port get any one */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(ctr, "endpoints"), 0), "hostPort")), 0);
	assert_string_equal(json_str_or(json_array_get(json_object_get(p->def,
	    "networks"), 0), "mode", ""), "host");
	assert_true(json_num_or(json_object_get(p->def, "executorResources"),
	    "mem", 0) == 32);
	assert_true(json_num_or(json_object_get(json_object_get(p->def,
	    "scheduling"), "upgrade"), "minimumHealthCapacity", 0) == 1);
	/* the run spec: totals with the executor's 0.1 cpu, 32 MB, 10 MB */
	assert_non_null(a->pod);
	assert_int_equal(a->instances, 2);
	assert_true(a->cpus > 0.849 && a->cpus < 0.851);
	assert_true(a->mem == 128 && a->disk == 10);
	assert_int_equal(a->pod->ncontainers, 2);
	assert_int_equal(pod_host_ports(a->pod), 2);
	assert_int_equal(a->pod->containers[0].eps[1].host_port, 8081);
	assert_int_equal(a->pod->containers[0].hc->protocol, HC_MESOS_HTTP);
	assert_string_equal(a->pod->containers[0].hc_endpoint, "www");
	assert_int_equal(a->pod->containers[0].hc->interval, 60);
	assert_int_equal(a->pod->containers[1].nargv, 2);
	assert_string_equal(kv_get(&a->labels, "team"), "shop");
	pod_unref(p);
}

static void
test_bad_definitions_name_each_problem(void **state)
{
	struct json_errs e;

	json_errs_init(&e);
	assert_null(parse("{\"id\":\"/p\",\"containers\":[{},"
	    "{\"name\":\"Bad_Name\",\"resources\":{\"cpus\":0,\"mem\":32},"
	    "\"exec\":{\"command\":{\"shell\":\"x\",\"argv\":[\"y\"]}},"
	    "\"endpoints\":[{\"name\":\"a\"},{\"name\":\"a\"}],"
	    "\"healthCheck\":{\"tcp\":{\"endpoint\":\"nope\"}}}],"
	    "\"scaling\":{\"kind\":\"auto\",\"instances\":-1},"
	    "\"scheduling\":{\"upgrade\":{\"minimumHealthCapacity\":2}}}", &e));
	assert_true(has_error(&e, "/containers(0)/name"));
	assert_true(has_error(&e, "/containers(0)/resources"));
	assert_true(has_error(&e, "/containers(1)"));
	assert_true(has_error(&e, "/containers(1)/resources/cpus"));
	assert_true(has_error(&e, "/containers(1)/exec/command"));
	assert_true(has_error(&e, "/containers(1)/healthCheck/tcp"));
	assert_true(has_error(&e, "/containers"));  /* endpoint 'a' twice */
	assert_true(has_error(&e, "/scaling/kind"));
	assert_true(has_error(&e, "/scaling/instances"));
	assert_true(has_error(&e, "/scheduling/upgrade/minimumHealthCapacity"));
	json_errs_free(&e);

	json_errs_init(&e);
	assert_null(parse("{\"id\":\"/p\",\"containers\":[]}", &e));
	assert_true(has_error(&e, "/containers"));
	json_errs_free(&e);
	json_errs_init(&e);
	assert_null(parse("[1]", &e));
	json_errs_free(&e);
}

static void
test_scale_keeps_the_config_version_and_a_change_moves_it(void **state)
{
	struct pod *v1 = mkpod(WEB, NULL, "v1");
	char *scaled = strdup(WEB), *changed = strdup(WEB), *at;
	struct pod *v2, *v3, *back;
	char *text;

	at = strstr(scaled, "\"instances\":2");
	at[12] = '5';
	v2 = mkpod(scaled, v1, "v2");
	assert_string_equal(v2->app->last_config_change_at, "v1");
	assert_string_equal(v2->app->last_scaling_at, "v2");
	at = strstr(changed, "\"serve\"");
	memcpy(at, "\"other\"", 7);
	v3 = mkpod(changed, v2, "v3");
	assert_string_equal(v3->app->last_config_change_at, "v3");

	/* the store form keeps the versions */
	text = pod_to_store(v2);
	back = pod_from_store(text);
	assert_non_null(back);
	assert_string_equal(back->version, "v2");
	assert_string_equal(back->app->last_config_change_at, "v1");
	assert_int_equal(back->instances, 5);
	free(text);
	pod_unref(back);
	pod_unref(v1);
	pod_unref(v2);
	pod_unref(v3);
	free(scaled);
	free(changed);
}

static void
assert_step(const struct deployment *d, size_t i, const char *expect)
{
	json_t *s = deployment_step_json(d, i);
	char *text = json_compact(json_object_get(s, "actions"));

	assert_string_equal(text, expect);
	free(text);
	json_decref(s);
}

static void
test_pod_changes_plan_start_scale_restart_and_stop(void **state)
{
	struct root *r0 = root_new(), *r1, *r2, *r3, *r4;
	struct pod *v1 = mkpod(WEB, NULL, "v1"), *v2;
	char *changed = strdup(WEB), *at = strstr(changed, "\"serve\"");
	struct deployment *d;
	char *text;

	r1 = root_copy(r0);
	root_put_pod(r1, v1);
	d = plan_compute(r0, r1, "v1");
	assert_int_equal(d->nsteps, 2);
	assert_step(d, 0, "[{\"action\":\"StartPod\",\"pod\":\"/shop/web\"}]");
	assert_step(d, 1, "[{\"action\":\"ScalePod\",\"pod\":\"/shop/web\"}]");
	assert_int_equal(d->naffected, 0);
	assert_int_equal(d->naffected_pods, 1);
	assert_ptr_equal(d->target_pods[0], v1);
	/* the stored plan reads back with its pods */
	text = deployment_to_text(d);
	deployment_free(d);
	d = deployment_from_text(text);
	free(text);
	assert_int_equal(d->naffected_pods, 1);
	assert_true(d->steps[1].actions[0].pod);
	assert_int_equal(d->steps[1].actions[0].scale_to, 2);
	assert_string_equal(d->target_pods[0]->id, "/shop/web");
	deployment_free(d);

	memcpy(at, "\"other\"", 7);
	v2 = mkpod(changed, v1, "v2");
	r2 = root_copy(r1);
	root_put_pod(r2, v2);
	d = plan_compute(r1, r2, "v2");
	assert_int_equal(d->nsteps, 1);
	assert_step(d, 0, "[{\"action\":\"RestartPod\",\"pod\":\"/shop/web\"}]");
	deployment_free(d);

	r3 = root_copy(r2);
	root_del_pod(r3, "/shop/web");
	d = plan_compute(r2, r3, "v3");
	assert_step(d, 0, "[{\"action\":\"StopPod\",\"pod\":\"/shop/web\"}]");
	assert_ptr_equal(d->orig_pods[0], v2);
	assert_null(d->target_pods[0]);
	deployment_free(d);

	/* an app may not take a pod's id */
	r4 = root_copy(r2);
	{
		struct json_errs e;
		json_t *doc = json_loads("{\"id\":\"/shop/web\",\"cmd\":\"x\"}", 0,
		    NULL);
		struct app *a;

		json_errs_init(&e);
		a = app_parse(doc, "/", &e);
		root_put_app(r4, a);
		assert_int_equal(root_validate(r4, &e), -1);
		json_errs_free(&e);
		json_decref(doc);
	}
	root_free(r0);
	root_free(r1);
	root_free(r2);
	root_free(r3);
	root_free(r4);
	free(changed);
}

static void
test_instance_state_follows_its_containers(void **state)
{
	struct instance *i = instance_new("p.instance-1", "/p");

	i->tasks = calloc(2, sizeof(*i->tasks));
	i->ntasks = 2;
	i->tasks[0].id = strdup("p.instance-1.a");
	i->tasks[1].id = strdup("p.instance-1.b");
	i->tasks[0].state = TASK_RUNNING;
	i->tasks[1].state = TASK_STAGING;
	assert_int_equal(instance_pod_state(i), TASK_STAGING);
	i->tasks[1].state = TASK_RUNNING;
	assert_int_equal(instance_pod_state(i), TASK_RUNNING);
	/* a container that completed successfully leaves the others running */
	i->tasks[1].state = TASK_FINISHED;
	assert_int_equal(instance_pod_state(i), TASK_RUNNING);
	i->tasks[0].state = TASK_KILLING;
	assert_int_equal(instance_pod_state(i), TASK_KILLING);
	/* one failed container fails the instance */
	i->tasks[0].state = TASK_RUNNING;
	i->tasks[1].state = TASK_FAILED;
	assert_int_equal(instance_pod_state(i), TASK_FAILED);
	i->tasks[0].state = i->tasks[1].state = TASK_FINISHED;
	assert_int_equal(instance_pod_state(i), TASK_FINISHED);
	assert_ptr_equal(instance_task(i, "p.instance-1.b"), &i->tasks[1]);
	assert_null(instance_task(i, "p.instance-1"));
	instance_free(i);
}

static void
test_whole_group_fits_one_offer_or_nothing(void **state)
{
	struct pod *p = mkpod(WEB, NULL, "v1");
	char *roles[] = { "*" };
	struct resources offer;
	struct pod_fit fit;
	enum reject why = REJECT_COUNT;
	char err[256], eid[128];

	/* 0.85 cpus and 128 MB are needed with the executor's share */
	assert_int_equal(resources_parse("cpus:1;mem:128;disk:100;"
	    "ports:[8080-8081,31000-31001]", "*", &offer, err, sizeof(err)), 0);
	assert_int_equal(pod_fit(p->app, roles, 1, &offer, &fit, &why), 0);
	assert_int_equal(fit.nports, 2);
	assert_int_equal(fit.ports[0], 8080);   /* any free port */
	assert_int_equal(fit.ports[1], 8081);   /* the fixed one */
	assert_true(resources_scalar(&fit.total, "mem") == 128);
	assert_true(resources_scalar(&fit.exec, "mem") == 32);
	assert_true(resources_scalar(&fit.cont[1], "cpus") == 0.25);
	assert_true(resources_contains(&offer, &fit.total));
	pod_fit_clear(&fit);
	resources_free(&offer);

	assert_int_equal(resources_parse("cpus:1;mem:127;disk:100;"
	    "ports:[8080-8081]", "*", &offer, err, sizeof(err)), 0);
	assert_int_equal(pod_fit(p->app, roles, 1, &offer, &fit, &why), -1);
	assert_int_equal(why, REJECT_MEM);
	pod_fit_clear(&fit);
	resources_free(&offer);
	assert_int_equal(resources_parse("cpus:1;mem:128;disk:100;"
	    "ports:[31000-31005]", "*", &offer, err, sizeof(err)), 0);
	assert_int_equal(pod_fit(p->app, roles, 1, &offer, &fit, &why), -1);
	assert_int_equal(why, REJECT_PORTS);   /* 8081 is not offered */
	pod_fit_clear(&fit);
	resources_free(&offer);

	pod_executor_id("shop_web.instance-abc", eid, sizeof(eid));
	assert_string_equal(eid, "instance-shop_web.abc");
	pod_unref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_definition_gets_marathons_defaults_and_a_run_spec),
		cmocka_unit_test(test_bad_definitions_name_each_problem),
		cmocka_unit_test(test_scale_keeps_the_config_version_and_a_change_moves_it),
		cmocka_unit_test(test_pod_changes_plan_start_scale_restart_and_stop),
		cmocka_unit_test(test_instance_state_follows_its_containers),
		cmocka_unit_test(test_whole_group_fits_one_offer_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
