/* Unit tests for constraints and v1 offer parsing: what a scheduler's
 * offer matching relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcos/constraints.h"
#include "dcos/offer.h"

static struct constraint
mk(const char *field, const char *op, const char *value)
{
	struct constraint c;
	char err[256];

	assert_int_equal(constraint_init(&c, field, op, value, err, sizeof(err)),
	    0);
	return c;
}

static void
test_unique_hostname_refuses_an_occupied_host(void **state)
{
	struct constraint c = mk("hostname", "UNIQUE", NULL);
	const char *placed[] = { "a1", "a2" };

	assert_false(constraint_met(&c, "a1", placed, 2));
	assert_true(constraint_met(&c, "a3", placed, 2));
	assert_true(constraint_met(&c, "a1", NULL, 0));
	constraint_free(&c);
}

static void
test_cluster_with_and_without_value(void **state)
{
	struct constraint c = mk("rack", "CLUSTER", "r1");
	struct constraint any = mk("rack", "CLUSTER", NULL);
	const char *placed[] = { "r2" };

	assert_true(constraint_met(&c, "r1", NULL, 0));
	assert_false(constraint_met(&c, "r2", NULL, 0));
	assert_true(constraint_met(&any, "r7", NULL, 0));
	assert_true(constraint_met(&any, "r2", placed, 1));
	assert_false(constraint_met(&any, "r1", placed, 1));
	constraint_free(&c);
	constraint_free(&any);
}

static void
test_group_by_spreads_evenly(void **state)
{
	struct constraint c = mk("zone", "GROUP_BY", "2");
	const char *one[] = { "a" };
	const char *two[] = { "a", "b", "a" };

	/* a new value is always welcome */
	assert_true(constraint_met(&c, "b", one, 1));
	/* only one value known, fewer than 2: do not stack on it */
	assert_false(constraint_met(&c, "a", one, 1));
	/* a has 2, b has 1: b is the least used */
	assert_true(constraint_met(&c, "b", two, 3));
	assert_false(constraint_met(&c, "a", two, 3));
	constraint_free(&c);
}

static void
test_like_unlike_match_the_whole_value(void **state)
{
	struct constraint like = mk("hostname", "LIKE", "web[0-9]+");
	struct constraint unlike = mk("hostname", "UNLIKE", "db.*");

	assert_true(constraint_met(&like, "web12", NULL, 0));
	assert_false(constraint_met(&like, "xweb12", NULL, 0));
	assert_false(constraint_met(&like, "web12x", NULL, 0));
	assert_true(constraint_met(&unlike, "web1", NULL, 0));
	assert_false(constraint_met(&unlike, "db1", NULL, 0));
	/* an agent without the field: only UNLIKE passes */
	assert_true(constraint_met(&unlike, NULL, NULL, 0));
	assert_false(constraint_met(&like, NULL, NULL, 0));
	constraint_free(&like);
	constraint_free(&unlike);
}

static void
test_max_per_and_is(void **state)
{
	struct constraint c = mk("rack", "MAX_PER", "2");
	struct constraint is = mk("level", "IS", "10");
	struct constraint eq = mk("level", "EQ", "10");
	const char *placed[] = { "r1", "r1", "r2" };

	assert_false(constraint_met(&c, "r1", placed, 3));
	assert_true(constraint_met(&c, "r2", placed, 3));
	assert_true(constraint_met(&is, "10", NULL, 0));
	assert_false(constraint_met(&is, "11", NULL, 0));
	assert_int_equal(eq.op, CONSTRAINT_IS);
	constraint_free(&c);
	constraint_free(&is);
	constraint_free(&eq);
}

static void
test_bad_constraints_say_why(void **state)
{
	struct constraint c;
	char err[256];

	assert_int_equal(constraint_init(&c, "hostname", "SOMETIMES", NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "must be one of"));
	assert_int_equal(constraint_init(&c, "rack", "MAX_PER", "x", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "MAX_PER requires an integer"));
	assert_int_equal(constraint_init(&c, "hostname", "LIKE", "([", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "regular expression"));
	assert_int_equal(constraint_init(&c, "hostname", "UNIQUE", "x", err,
	    sizeof(err)), -1);
}

static void
test_agent_values_come_from_hostname_domain_and_attributes(void **state)
{
	struct constraint_attr attrs[] = { { "rack", "r1" } };
	struct constraint_agent a = { "h1", "east", "east-1a", attrs, 1 };
	struct constraint host = mk("@hostname", "UNIQUE", NULL);
	struct constraint zone = mk("@zone", "UNIQUE", NULL);
	struct constraint rack = mk("rack", "UNIQUE", NULL);
	struct constraint none = mk("gpu", "UNIQUE", NULL);

	assert_string_equal(constraint_agent_value(&host, &a), "h1");
	assert_string_equal(constraint_agent_value(&zone, &a), "east-1a");
	assert_string_equal(constraint_agent_value(&rack, &a), "r1");
	assert_null(constraint_agent_value(&none, &a));
	constraint_free(&host);
	constraint_free(&zone);
	constraint_free(&rack);
	constraint_free(&none);
}

static void
test_offer_from_v1(void **state)
{
	const char *text = "{\"id\":{\"value\":\"m-O1\"},\"framework_id\":"
	    "{\"value\":\"m-0001\"},\"agent_id\":{\"value\":\"m-S1\"},"
	    "\"hostname\":\"agent1\",\"url\":{\"scheme\":\"http\",\"address\":"
	    "{\"hostname\":\"agent1\",\"ip\":\"10.0.0.7\",\"port\":5051},"
	    "\"path\":\"/slave(1)\"},\"domain\":{\"fault_domain\":{\"region\":"
	    "{\"name\":\"r1\"},\"zone\":{\"name\":\"z1\"}}},\"resources\":["
	    "{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{\"value\":2},"
	    "\"role\":\"*\"},{\"name\":\"ports\",\"type\":\"RANGES\",\"ranges\":"
	    "{\"range\":[{\"begin\":31000,\"end\":31009}]},\"role\":\"*\"},"
	    "{\"name\":\"mem\",\"type\":\"SCALAR\",\"scalar\":{\"value\":64},"
	    "\"reservations\":[{\"type\":\"STATIC\",\"role\":\"slave_public\"}]}],"
	    "\"attributes\":[{\"name\":\"rack\",\"type\":\"TEXT\",\"text\":"
	    "{\"value\":\"r9\"}},{\"name\":\"level\",\"type\":\"SCALAR\","
	    "\"scalar\":{\"value\":3}}]}";
	json_t *j = json_loads(text, 0, NULL);
	struct json_errs e;
	struct offer o;
	char buf[64];

	json_errs_init(&e);
	assert_int_equal(offer_from_v1(j, "", &o, &e), 0);
	assert_string_equal(o.id, "m-O1");
	assert_string_equal(o.agent_id, "m-S1");
	assert_string_equal(o.ip, "10.0.0.7");
	assert_int_equal(o.port, 5051);
	assert_string_equal(o.zone, "z1");
	assert_true(resources_scalar(&o.res, "cpus") == 2.0);
	assert_non_null(resources_find(&o.res, "mem", "slave_public"));
	assert_int_equal(o.attrs.n, 2);
	assert_string_equal(attribute_text(&o.attrs.v[0], buf, sizeof(buf)), "r9");
	assert_string_equal(attribute_text(&o.attrs.v[1], buf, sizeof(buf)), "3");
	offer_free(&o);
	json_decref(j);

	j = json_loads("{\"id\":{},\"hostname\":3}", 0, NULL);
	assert_int_equal(offer_from_v1(j, "/offers(0)", &o, &e), -1);
	assert_true(json_errs_count(&e) >= 2);
	json_decref(j);
	json_errs_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_hostname_refuses_an_occupied_host),
		cmocka_unit_test(test_cluster_with_and_without_value),
		cmocka_unit_test(test_group_by_spreads_evenly),
		cmocka_unit_test(test_like_unlike_match_the_whole_value),
		cmocka_unit_test(test_max_per_and_is),
		cmocka_unit_test(test_bad_constraints_say_why),
		cmocka_unit_test(test_agent_values_come_from_hostname_domain_and_attributes),
		cmocka_unit_test(test_offer_from_v1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
