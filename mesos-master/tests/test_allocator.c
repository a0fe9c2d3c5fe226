/* Unit tests for the allocator: DRF order between roles and frameworks,
 * filters, suppress and revive, reserved resources, dirty-only passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../src/master.h"

struct got {
	void *fw[16], *agent[16];
	char role[16][32];
	double cpus[16];
	int n;
};

static void
record(void *fw, void *agent, const char *role, const struct resources *res,
    void *arg)
{
	struct got *g = arg;

	g->fw[g->n] = fw;
	g->agent[g->n] = agent;
	snprintf(g->role[g->n], sizeof(g->role[0]), "%s", role);
	g->cpus[g->n] = resources_scalar(res, "cpus");
	g->n++;
}

static struct alloc_agent *
agent(struct alloc *a, void *owner, const char *text)
{
	struct resources total, none;
	char err[128];
	struct alloc_agent *ag;

	assert_int_equal(resources_parse(text, "*", &total, err, sizeof(err)), 0);
	resources_init(&none);
	ag = alloc_agent_add(a, owner, &total, &none);
	resources_free(&total);
	return ag;
}

static void
test_one_framework_gets_every_agent(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	int fw, a1, a2;

	agent(a, &a1, "cpus:4;mem:4096");
	agent(a, &a2, "cpus:2;mem:1024");
	alloc_fw_add(a, &fw, star, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 2);
	assert_ptr_equal(g.fw[0], &fw);
	assert_ptr_equal(g.fw[1], &fw);
	/* nothing left: a second pass offers nothing */
	g.n = 0;
	assert_int_equal(alloc_run(a, 0, true, record, &g), 0);
	alloc_free(a);
}

static void
test_drf_gives_the_next_agent_to_the_smaller_share(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	int fw1, fw2, a1, a2, a3;
	struct alloc_fw *f1, *f2;
	struct alloc_agent *ag1;
	struct resources used;
	char err[64];

	ag1 = agent(a, &a1, "cpus:4;mem:4096");
	agent(a, &a2, "cpus:4;mem:4096");
	agent(a, &a3, "cpus:4;mem:4096");
	f1 = alloc_fw_add(a, &fw1, star, 1, false);
	f2 = alloc_fw_add(a, &fw2, star, 1, false);
	/* fw1 already uses a lot of agent 1 */
	resources_parse("cpus:3;mem:1024", "*", &used, err, sizeof(err));
	alloc_use(a, f1, ag1, "*", &used);
	alloc_fw_activate(a, f1, true);
	alloc_fw_activate(a, f2, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 3);
	/* the first agent visited goes to fw2 (share 0 < 0.25), then the
	 * shares are compared again for each agent */
	{
		int to1 = 0, to2 = 0;

		for (int i = 0; i < g.n; i++)
			if (g.fw[i] == &fw1)
				to1++;
			else
				to2++;
		assert_int_equal(to2, 2);
		assert_int_equal(to1, 1);
	}
	assert_true(alloc_role_share(a, "*") > 0.9);
	resources_free(&used);
	(void)f2;
	alloc_free(a);
}

static void
test_role_weights_order_roles(void **state)
{
	struct alloc *a = alloc_new();
	const char *r1[] = { "low" }, *r2[] = { "high" };
	struct got g = { 0 };
	int fw1, fw2, a1;

	alloc_set_weight(a, "high", 3.0);
	agent(a, &a1, "cpus:4;mem:4096");
	alloc_fw_add(a, &fw1, r1, 1, true);
	alloc_fw_add(a, &fw2, r2, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 1);
	/* equal shares (0): ties go by role name, "high" < "low" */
	assert_ptr_equal(g.fw[0], &fw2);
	assert_string_equal(g.role[0], "high");
	alloc_free(a);
}

static void
test_filters_hold_until_expiry_or_new_resources(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	struct resources res, more;
	char err[64];
	int fw, a1;
	struct alloc_fw *f;
	struct alloc_agent *ag;

	ag = agent(a, &a1, "cpus:4;mem:4096");
	f = alloc_fw_add(a, &fw, star, 1, true);
	assert_int_equal(alloc_run(a, 10, true, record, &g), 1);
	/* declined with a 5 s filter */
	resources_parse("cpus:4;mem:4096", "*", &res, err, sizeof(err));
	alloc_recover(a, f, ag, "*", &res);
	alloc_filter(a, f, ag, &res, 15);
	assert_int_equal(alloc_run(a, 12, false, record, &g), 0);
	assert_int_equal(alloc_run(a, 12, true, record, &g), 0);
	/* expired: offered again */
	assert_int_equal(alloc_run(a, 16, true, record, &g), 1);
	/* a task takes 1 cpu of a new offer; the rest is declined for long */
	assert_int_equal(alloc_run(a, 16, true, record, &g), 0);
	resources_parse("cpus:1", "*", &more, err, sizeof(err));
	alloc_recover(a, f, ag, "*", &res);   /* the offer comes back ... */
	alloc_use(a, f, ag, "*", &more);      /* ... minus the task */
	{
		struct resources rest;

		resources_parse("cpus:3;mem:4096", "*", &rest, err, sizeof(err));
		alloc_filter(a, f, ag, &rest, 100);
		resources_free(&rest);
	}
	assert_int_equal(alloc_run(a, 20, false, record, &g), 0);
	/* the task ends: more than what was declined is there, so the filter
	 * no longer holds */
	alloc_recover(a, f, ag, "*", &more);
	assert_int_equal(alloc_run(a, 21, false, record, &g), 1);
	assert_true(g.cpus[g.n - 1] == 4.0);
	resources_free(&res);
	resources_free(&more);
	alloc_free(a);
}

static void
test_suppress_and_revive(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	int fw, a1;
	struct alloc_fw *f;

	agent(a, &a1, "cpus:4;mem:4096");
	f = alloc_fw_add(a, &fw, star, 1, true);
	alloc_suppress(a, f, NULL);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 0);
	alloc_revive(a, f, NULL);
	assert_true(alloc_pending(a));
	assert_int_equal(alloc_run(a, 0, false, record, &g), 1);
	alloc_free(a);
}

static void
test_reserved_resources_go_only_to_their_role(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" }, *pub[] = { "slave_public" };
	struct got g = { 0 };
	int fw1, fw2, a1;

	agent(a, &a1, "cpus(slave_public):2;mem(slave_public):1024");
	alloc_fw_add(a, &fw1, star, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 0);
	alloc_fw_add(a, &fw2, pub, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 1);
	assert_ptr_equal(g.fw[0], &fw2);
	assert_true(g.cpus[0] == 2.0);
	alloc_free(a);
}

static void
test_too_little_is_not_offered(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	int fw, a1;

	agent(a, &a1, "cpus:0.001;mem:16;disk:100");
	alloc_fw_add(a, &fw, star, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 0);
	alloc_free(a);
}

static void
test_removed_agent_is_no_longer_offered(void **state)
{
	struct alloc *a = alloc_new();
	const char *star[] = { "*" };
	struct got g = { 0 };
	int fw, a1, a2;
	struct alloc_agent *ag1;

	ag1 = agent(a, &a1, "cpus:4;mem:4096");
	agent(a, &a2, "cpus:4;mem:4096");
	alloc_agent_remove(a, ag1);
	alloc_fw_add(a, &fw, star, 1, true);
	assert_int_equal(alloc_run(a, 0, true, record, &g), 1);
	assert_ptr_equal(g.agent[0], &a2);
	alloc_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_framework_gets_every_agent),
		cmocka_unit_test(test_drf_gives_the_next_agent_to_the_smaller_share),
		cmocka_unit_test(test_role_weights_order_roles),
		cmocka_unit_test(test_filters_hold_until_expiry_or_new_resources),
		cmocka_unit_test(test_suppress_and_revive),
		cmocka_unit_test(test_reserved_resources_go_only_to_their_role),
		cmocka_unit_test(test_too_little_is_not_offered),
		cmocka_unit_test(test_removed_agent_is_no_longer_offered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
