/* Unit tests for the root group and deployment plans: what a change to
 * the apps turns into (stop, start, scale, restart, dependency order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/marathon.h"

static struct app *
mkapp(const char *json, const char *version)
{
	json_t *doc = json_loads(json, 0, NULL);
	struct json_errs e;
	struct app *a;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	if (a == NULL) {
		char msg[512];

		fail_msg("bad app: %s", json_errs_first(&e, msg, sizeof(msg)));
	}
	snprintf(a->version, sizeof(a->version), "%s", version);
	snprintf(a->last_config_change_at, sizeof(a->last_config_change_at), "%s",
	    version);
	snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s", version);
	json_decref(doc);
	json_errs_free(&e);
	return a;
}

static void
assert_step(const struct deployment *d, size_t i, const char *expect)
{
	char buf[512] = "";

	assert_true(i < d->nsteps);
	for (size_t k = 0; k < d->steps[i].n; k++) {
		if (k)
			strcat(buf, " ");
		strcat(buf, action_name(d->steps[i].actions[k].type));
		strcat(buf, ":");
		strcat(buf, d->steps[i].actions[k].app_id);
	}
	assert_string_equal(buf, expect);
}

static void
test_new_app_starts_at_zero_then_scales(void **state)
{
	struct root *from = root_new(), *to = root_new();
	struct deployment *d;

	root_put_app(to, mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":3}",
	    "v1"));
	d = plan_compute(from, to, "v1");
	assert_int_equal(d->nsteps, 2);
	assert_step(d, 0, "StartApplication:/a");
	assert_step(d, 1, "ScaleApplication:/a");
	assert_int_equal(d->steps[1].actions[0].scale_to, 3);
	assert_int_equal(d->naffected, 1);
	assert_null(d->orig[0]);
	deployment_free(d);
	root_free(from);
	root_free(to);
}

static void
test_scale_config_change_and_removal(void **state)
{
	struct root *from = root_new(), *to;
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\"}", "v1");
	struct app *b = mkapp("{\"id\":\"/b\",\"cmd\":\"x\"}", "v1");
	struct app *c = mkapp("{\"id\":\"/c\",\"cmd\":\"x\"}", "v1");
	struct app *a2, *b2;
	struct deployment *d;

	root_put_app(from, a);
	root_put_app(from, b);
	root_put_app(from, c);
	to = root_copy(from);
	a2 = app_clone(a);
	a2->instances = 4;
	snprintf(a2->version, sizeof(a2->version), "v2");
	root_put_app(to, a2);
	b2 = app_clone(b);
	free(b2->cmd);
	b2->cmd = strdup("y");
	snprintf(b2->last_config_change_at, sizeof(b2->last_config_change_at),
	    "v2");
	root_put_app(to, b2);
	root_del_app(to, "/c");
	d = plan_compute(from, to, "v2");
	assert_int_equal(d->nsteps, 2);
	assert_step(d, 0, "StopApplication:/c");
	assert_step(d, 1, "ScaleApplication:/a RestartApplication:/b");
	assert_int_equal(d->naffected, 3);
	assert_true(deployment_affects(d, "/b"));
	assert_null(deployment_action(d, "/a")); /* step 0 is current */
	d->current = 1;
	assert_non_null(deployment_action(d, "/a"));
	deployment_free(d);
	root_free(from);
	root_free(to);
}

static void
test_dependencies_order_the_steps(void **state)
{
	struct root *from = root_new(), *to = root_new();
	struct deployment *d;

	root_put_app(to, mkapp("{\"id\":\"/web\",\"cmd\":\"x\","
	    "\"dependencies\":[\"/db\"]}", "v1"));
	root_put_app(to, mkapp("{\"id\":\"/db\",\"cmd\":\"x\","
	    "\"dependencies\":[\"/store\"]}", "v1"));
	root_put_app(to, mkapp("{\"id\":\"/store/s1\",\"cmd\":\"x\"}", "v1"));
	root_put_app(to, mkapp("{\"id\":\"/store/s2\",\"cmd\":\"x\"}", "v1"));
	d = plan_compute(from, to, "v1");
	assert_int_equal(d->nsteps, 4);
	assert_step(d, 1, "ScaleApplication:/store/s1 ScaleApplication:/store/s2");
	assert_step(d, 2, "ScaleApplication:/db");
	assert_step(d, 3, "ScaleApplication:/web");
	deployment_free(d);
	root_free(from);
	root_free(to);
}

static void
test_root_rejects_cycles_port_clashes_and_app_group_clashes(void **state)
{
	struct root *r = root_new();
	struct json_errs e;
	char msg[512];

	json_errs_init(&e);
	root_put_app(r, mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"dependencies\":"
	    "[\"/b\"]}", "v1"));
	root_put_app(r, mkapp("{\"id\":\"/b\",\"cmd\":\"x\",\"dependencies\":"
	    "[\"/a\"]}", "v1"));
	assert_int_equal(root_validate(r, &e), -1);
	assert_non_null(strstr(json_errs_first(&e, msg, sizeof(msg)), "cyclic"));
	root_free(r);
	json_errs_free(&e);

	json_errs_init(&e);
	r = root_new();
	root_put_app(r, mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"portDefinitions\":"
	    "[{\"port\":10005}]}", "v1"));
	root_put_app(r, mkapp("{\"id\":\"/b\",\"cmd\":\"x\",\"portDefinitions\":"
	    "[{\"port\":10005}]}", "v1"));
	root_put_app(r, mkapp("{\"id\":\"/a/x\",\"cmd\":\"x\"}", "v1"));
	assert_int_equal(root_validate(r, &e), -1);
	assert_int_equal(errs_total(&e), 2);
	assert_true(root_has_group(r, "/a"));
	assert_false(root_has_group(r, "/b"));
	root_free(r);
	json_errs_free(&e);
}

static void
test_service_ports_are_assigned_without_clashes(void **state)
{
	struct root *r = root_new();
	struct app *a = mkapp("{\"id\":\"/a\",\"cmd\":\"x\",\"portDefinitions\":"
	    "[{\"port\":10000},{\"port\":0}]}", "v1");
	struct app *b = mkapp("{\"id\":\"/b\",\"cmd\":\"x\",\"ports\":[0,0]}",
	    "v1");

	assert_int_equal(root_assign_service_ports(r, a, 10000, 20000), 0);
	assert_int_equal(a->ports[1].port, 10001);
	root_put_app(r, a);
	assert_int_equal(root_assign_service_ports(r, b, 10000, 20000), 0);
	assert_int_equal(b->ports[0].port, 10002);
	assert_int_equal(b->ports[1].port, 10003);
	app_unref(b);
	root_free(r);
}

static void
test_deployment_survives_the_store(void **state)
{
	struct root *from = root_new(), *to = root_new();
	struct deployment *d, *back;
	char *t1, *t2;

	root_put_app(from, mkapp("{\"id\":\"/old\",\"cmd\":\"x\"}", "v1"));
	root_put_app(to, mkapp("{\"id\":\"/new\",\"cmd\":\"x\"}", "v2"));
	d = plan_compute(from, to, "v2");
	d->current = 1;
	d->steps[0].actions[0].done = true;
	t1 = deployment_to_text(d);
	back = deployment_from_text(t1);
	assert_non_null(back);
	t2 = deployment_to_text(back);
	assert_string_equal(t1, t2);
	assert_string_equal(back->id, d->id);
	assert_non_null(back->orig[1]);
	assert_string_equal(back->orig[1]->id, "/old");
	free(t1);
	free(t2);
	deployment_free(d);
	deployment_free(back);
	root_free(from);
	root_free(to);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_app_starts_at_zero_then_scales),
		cmocka_unit_test(test_scale_config_change_and_removal),
		cmocka_unit_test(test_dependencies_order_the_steps),
		cmocka_unit_test(test_root_rejects_cycles_port_clashes_and_app_group_clashes),
		cmocka_unit_test(test_service_ports_are_assigned_without_clashes),
		cmocka_unit_test(test_deployment_survives_the_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
