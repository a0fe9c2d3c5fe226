/* Unit tests for the app definition: path ids, parsing with Marathon's
 * defaults and 422 detail paths, rendering, partial updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../src/marathon.h"

static json_t *
parse_json(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (j == NULL)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

/* The paths of the errors, joined by ' ' */
static void
paths_of(const struct json_errs *e, char *out, size_t size)
{
	size_t i;
	json_t *d;

	out[0] = '\0';
	json_array_foreach(e->details, i, d) {
		strncat(out, json_string_value(json_object_get(d, "path")),
		    size - strlen(out) - 2);
		strcat(out, " ");
	}
}

static void
test_path_ids_resolve_relative_and_reject_bad_segments(void **state)
{
	char out[PATHID_MAX], err[512];

	assert_int_equal(pathid_canonical("db", "/shop", false, out, sizeof(out),
	    err, sizeof(err)), 0);
	assert_string_equal(out, "/shop/db");
	assert_int_equal(pathid_canonical("../x/./y", "/a/b", false, out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "/a/x/y");
	assert_int_equal(pathid_canonical("/my.app-1", "/", false, out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_int_equal(pathid_canonical("/Bad", "/", false, out, sizeof(out),
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must fully match regular expression"));
	assert_int_equal(pathid_canonical("/x-", "/", false, out, sizeof(out),
	    err, sizeof(err)), -1);
	assert_int_equal(pathid_canonical("/a/tasks", "/", false, out,
	    sizeof(out), err, sizeof(err)), -1);
	assert_int_equal(pathid_canonical("/", "/", false, out, sizeof(out), err,
	    sizeof(err)), -1);
	assert_int_equal(pathid_canonical("/", "/", true, out, sizeof(out), err,
	    sizeof(err)), 0);
	assert_string_equal(out, "/");
}

static void
test_task_ids_and_names_follow_marathon(void **state)
{
	char out[TASKID_MAX], back[PATHID_MAX];

	pathid_safe("/shop/db", out, sizeof(out));
	assert_string_equal(out, "shop_db");
	pathid_task_name("/shop/db", out, sizeof(out));
	assert_string_equal(out, "db.shop");
	pathid_new_task_id("/shop/db", out, sizeof(out));
	assert_int_equal(strncmp(out, "shop_db.", 8), 0);
	assert_int_equal(strlen(out), 8 + 36);
	assert_int_equal(pathid_of_task(out, back, sizeof(back)), 0);
	assert_string_equal(back, "/shop/db");
	assert_int_equal(pathid_of_task("nonsense", back, sizeof(back)), -1);
	pathid_parent("/shop/db", out, sizeof(out));
	assert_string_equal(out, "/shop");
	pathid_parent("/x", out, sizeof(out));
	assert_string_equal(out, "/");
	assert_true(pathid_under("/shop/db", "/shop"));
	assert_false(pathid_under("/shopping", "/shop"));
	assert_true(pathid_under("/x", "/"));
}

static void
test_sise_app_gets_marathon_defaults(void **state)
{
	json_t *doc = parse_json("{\"id\":\"sise\",\"instances\":1,\"cpus\":0.1,"
	    "\"mem\":32,\"cmd\":\"python3 -m http.server $PORT0\","
	    "\"portDefinitions\":[{\"labels\":{\"VIP_0\":\"/sise:80\"}}]}");
	struct json_errs e;
	struct app *a;
	json_t *out;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	assert_string_equal(a->id, "/sise");
	assert_int_equal(a->nports, 1);
	assert_int_equal(a->ports[0].port, 0);
	assert_string_equal(kv_get(&a->ports[0].labels, "VIP_0"), "/sise:80");
	assert_true(a->host_network);
	out = app_to_json(a);
	assert_true(json_real_value(json_object_get(out, "backoffFactor")) == 1.15);
	assert_int_equal(json_integer_value(json_object_get(out,
	    "maxLaunchDelaySeconds")), 3600);
	assert_string_equal(json_string_value(json_object_get(out,
	    "killSelection")), "YOUNGEST_FIRST");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(out, "networks"), 0), "mode")), "host");
	assert_true(json_real_value(json_object_get(json_object_get(out,
	    "upgradeStrategy"), "minimumHealthCapacity")) == 1.0);
	assert_null(json_object_get(out, "constraints")); /* omitEmpty */
	json_decref(out);
	app_unref(a);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_an_app_without_ports_gets_one_port(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/a\",\"cmd\":\"sleep 100\"}");
	struct json_errs e;
	struct app *a;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	assert_int_equal(a->nports, 1);
	assert_int_equal(a->cpus * 10, 10);
	assert_int_equal(a->mem, 128);
	app_unref(a);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_invalid_definition_names_every_bad_path(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/Bad_Id\",\"cmd\":\"x\","
	    "\"instances\":-1,\"cpus\":\"lots\",\"mem\":-5,"
	    "\"upgradeStrategy\":{\"minimumHealthCapacity\":1.5},"
	    "\"constraints\":[[\"hostname\",\"SOMETIMES\"]],"
	    "\"healthChecks\":[{\"protocol\":\"SMOKE\"}],"
	    "\"labels\":{\"a\":1},\"backoffFactor\":0.5,"
	    "\"killSelection\":\"RANDOM\",\"env\":{\"X\":[1]},"
	    "\"portDefinitions\":[{\"port\":70000,\"name\":\"Bad Name\"}],"
	    "\"fetch\":[{}],\"acceptedResourceRoles\":[],"
	    "\"storeUrls\":[\"\"],"
	    "\"container\":{\"docker\":{\"image\":\"x\","
	    "\"parameters\":[{\"value\":\"v\"}]}}}");
	json_t *legacy = parse_json("{\"id\":\"/x\",\"cmd\":\"x\","
	    "\"ipAddress\":{\"discovery\":{\"ports\":[{\"number\":0}]}}}");
	struct json_errs e;
	char paths[2048];

	json_errs_init(&e);
	assert_null(app_parse(doc, "/", &e));
	paths_of(&e, paths, sizeof(paths));
	assert_non_null(strstr(paths, "/id "));
	assert_non_null(strstr(paths, "/instances "));
	assert_non_null(strstr(paths, "/cpus "));
	assert_non_null(strstr(paths, "/mem "));
	assert_non_null(strstr(paths, "/upgradeStrategy/minimumHealthCapacity "));
	assert_non_null(strstr(paths, "/constraints(0) "));
	assert_non_null(strstr(paths, "/healthChecks(0)/protocol "));
	assert_non_null(strstr(paths, "/labels/a "));
	assert_non_null(strstr(paths, "/backoffFactor "));
	assert_non_null(strstr(paths, "/killSelection "));
	assert_non_null(strstr(paths, "/env/X "));
	assert_non_null(strstr(paths, "/portDefinitions(0)/port "));
	assert_non_null(strstr(paths, "/portDefinitions(0)/name "));
	assert_non_null(strstr(paths, "/fetch(0)/uri "));
	assert_non_null(strstr(paths, "/acceptedResourceRoles "));
	assert_non_null(strstr(paths, "/storeUrls(0) "));
	assert_non_null(strstr(paths, "/container/docker/parameters(0)/key "));
	json_errs_free(&e);
	json_errs_init(&e);
	assert_null(app_parse(legacy, "/", &e));
	paths_of(&e, paths, sizeof(paths));
	assert_non_null(strstr(paths, "/ipAddress/discovery/ports(0)/number "));
	assert_non_null(strstr(paths, "/ipAddress/discovery/ports(0)/name "));
	json_decref(legacy);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_cmd_and_args_together_or_neither_are_rejected(void **state)
{
	json_t *both = parse_json("{\"id\":\"/a\",\"cmd\":\"x\",\"args\":[\"y\"]}");
	json_t *none = parse_json("{\"id\":\"/a\"}");
	json_t *missing = parse_json("{\"cmd\":\"x\"}");
	struct json_errs e;
	char paths[512];

	json_errs_init(&e);
	assert_null(app_parse(both, "/", &e));
	assert_null(app_parse(none, "/", &e));
	assert_int_equal(json_errs_count(&e), 1); /* both at path "/" */
	assert_null(app_parse(missing, "/", &e));
	paths_of(&e, paths, sizeof(paths));
	assert_non_null(strstr(paths, "/id "));
	json_decref(both);
	json_decref(none);
	json_decref(missing);
	json_errs_free(&e);
}

static void
test_deprecated_fields_are_translated(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/a\",\"cmd\":\"x\",\"ports\":[0,0],"
	    "\"uris\":[\"http://x/y.tgz\"],\"container\":{\"type\":\"DOCKER\","
	    "\"docker\":{\"image\":\"nginx\",\"network\":\"HOST\"}}}");
	struct json_errs e;
	struct app *a;
	json_t *out;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	assert_int_equal(a->nports, 2);
	assert_int_equal(a->nfetch, 1);
	assert_true(a->fetch[0].extract);
	assert_string_equal(a->docker_image, "nginx");
	out = app_to_json(a);
	assert_null(json_object_get(out, "ports"));
	assert_null(json_object_get(out, "uris"));
	assert_int_equal(json_array_size(json_object_get(out, "portDefinitions")),
	    2);
	assert_null(json_object_get(json_object_get(json_object_get(out,
	    "container"), "docker"), "network"));
	json_decref(out);
	app_unref(a);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_health_and_readiness_checks(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/a\",\"cmd\":\"x\","
	    "\"portDefinitions\":[{\"port\":0,\"name\":\"http-api\"}],"
	    "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/ping\","
	    "\"intervalSeconds\":2},{\"protocol\":\"COMMAND\",\"command\":"
	    "{\"value\":\"true\"}}],\"readinessChecks\":[{}]}");
	json_t *bad = parse_json("{\"id\":\"/a\",\"cmd\":\"x\","
	    "\"healthChecks\":[{\"portIndex\":3}],"
	    "\"readinessChecks\":[{\"portName\":\"nope\"}]}");
	struct json_errs e;
	struct app *a;
	char paths[512];

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	assert_int_equal(a->nhcs, 2);
	assert_int_equal(a->hcs[0].port_index, 0);
	assert_int_equal(a->hcs[0].grace_period, 300);
	assert_int_equal(a->hcs[0].interval, 2);
	assert_true(hc_marathon_side(&a->hcs[0]));
	assert_false(hc_marathon_side(&a->hcs[1]));
	assert_int_equal(a->nrcs, 1);
	assert_string_equal(a->rcs[0].port_name, "http-api");
	assert_int_equal(a->rcs[0].codes[0], 200);
	app_unref(a);
	assert_null(app_parse(bad, "/", &e));
	paths_of(&e, paths, sizeof(paths));
	assert_non_null(strstr(paths, "/healthChecks(0) "));
	assert_non_null(strstr(paths, "/readinessChecks(0)/portName "));
	json_decref(doc);
	json_decref(bad);
	json_errs_free(&e);
}

static void
test_rendered_app_parses_back_to_the_same_app(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/g/a\",\"cmd\":\"x\",\"instances\":3,"
	    "\"env\":{\"A\":\"1\",\"S\":{\"secret\":\"s1\"}},"
	    "\"secrets\":{\"s1\":{\"source\":\"/db/pw\"}},"
	    "\"constraints\":[[\"hostname\",\"UNIQUE\"],[\"rack\",\"GROUP_BY\","
	    "\"2\"]],\"acceptedResourceRoles\":[\"slave_public\"],"
	    "\"dependencies\":[\"../b\"],\"unreachableStrategy\":\"disabled\","
	    "\"fetch\":[{\"uri\":\"http://x/a.sh\",\"executable\":true}],"
	    "\"healthChecks\":[{\"protocol\":\"TCP\"}],\"user\":\"nobody\"}");
	struct json_errs e;
	struct app *a, *b;
	char *t1, *t2;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	assert_string_equal(a->deps[0], "/b");
	t1 = app_to_text(a);
	b = app_from_store(t1);
	assert_non_null(b);
	t2 = app_to_text(b);
	assert_string_equal(t1, t2);
	assert_false(app_config_differs(a, b));
	free(t1);
	free(t2);
	app_unref(a);
	app_unref(b);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_clones_share_nothing_even_empty_lists(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/a\",\"cmd\":\"x\","
	    "\"portDefinitions\":[],\"constraints\":[],\"healthChecks\":[],"
	    "\"readinessChecks\":[],\"fetch\":[],\"env\":{}}");
	struct json_errs e;
	struct app *a, *b;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	assert_non_null(a);
	b = app_clone(a);
	app_unref(a); /* b must not lose anything with it */
	assert_int_equal(b->nports, 0);
	app_unref(b);
	json_decref(doc);
	json_errs_free(&e);
}

static void
test_partial_update_keeps_absent_fields(void **state)
{
	json_t *doc = parse_json("{\"id\":\"/a\",\"cmd\":\"sleep 1\","
	    "\"instances\":2,\"labels\":{\"x\":\"y\"}}");
	json_t *patch = parse_json("{\"instances\":5}");
	json_t *patch2 = parse_json("{\"args\":[\"sleep\",\"2\"]}");
	struct json_errs e;
	struct app *a, *b, *c;

	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	b = app_parse_update(a, patch, &e);
	assert_non_null(b);
	assert_int_equal(b->instances, 5);
	assert_string_equal(kv_get(&b->labels, "x"), "y");
	assert_false(app_config_differs(a, b));
	c = app_parse_update(b, patch2, &e);
	assert_non_null(c);
	assert_null(c->cmd);
	assert_true(c->has_args);
	assert_true(app_config_differs(b, c));
	app_unref(a);
	app_unref(b);
	app_unref(c);
	json_decref(doc);
	json_decref(patch);
	json_decref(patch2);
	json_errs_free(&e);
}

static void
test_versions_increase_and_print_like_marathon(void **state)
{
	char a[VERSION_LEN], b[VERSION_LEN], num[64];
	double t;

	util_version_next(a);
	util_version_next(b);
	assert_true(strcmp(a, b) < 0);
	assert_int_equal(strlen(a), 24);
	assert_int_equal(util_parse_iso8601(a, &t), 0);
	util_iso8601(t, b);
	assert_string_equal(a, b);
	util_scala_double(128, num, sizeof(num));
	assert_string_equal(num, "128.0");
	util_scala_double(0.1, num, sizeof(num));
	assert_string_equal(num, "0.1");
	util_scala_double(0.0001, num, sizeof(num));
	assert_string_equal(num, "1.0E-4");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_ids_resolve_relative_and_reject_bad_segments),
		cmocka_unit_test(test_task_ids_and_names_follow_marathon),
		cmocka_unit_test(test_sise_app_gets_marathon_defaults),
		cmocka_unit_test(test_an_app_without_ports_gets_one_port),
		cmocka_unit_test(test_invalid_definition_names_every_bad_path),
		cmocka_unit_test(test_cmd_and_args_together_or_neither_are_rejected),
		cmocka_unit_test(test_deprecated_fields_are_translated),
		cmocka_unit_test(test_health_and_readiness_checks),
		cmocka_unit_test(test_rendered_app_parses_back_to_the_same_app),
		cmocka_unit_test(test_clones_share_nothing_even_empty_lists),
		cmocka_unit_test(test_partial_update_keeps_absent_fields),
		cmocka_unit_test(test_versions_increase_and_print_like_marathon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
