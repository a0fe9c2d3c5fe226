/*
 * app_parse: an app definition from JSON into struct app, checking every
 * field of Marathon's app definition and recording each problem under its
 * JSON path ("/upgradeStrategy/minimumHealthCapacity", "/constraints(0)"),
 * so the API can answer 422 in Marathon's shape. Deprecated fields (ports,
 * uris, container.docker.network, ipAddress) are translated to the
 * canonical ones, and defaults are applied, as Marathon 1.6 normalizes.
 *
 * Health checks, readiness checks, containers and networks are in
 * app_parse_ext.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/log.h"

#include "marathon.h"

int
parse_str_array(const json_t *obj, const char *base, const char *key,
    char ***out, size_t *n, struct json_errs *e)
{
	char path[JSON_PATH_MAX], ip[JSON_PATH_MAX];
	const json_t *arr, *v;
	size_t i;
	int rc;

	if ((rc = json_get_array(obj, base, key, 0, &arr, e)) != 1)
		return rc;
	json_path_key(path, sizeof(path), base, key);
	strv_free(*out, *n);
	*out = NULL;
	*n = 0;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			json_path_index(ip, sizeof(ip), path, i);
			json_errs_add(e, ip, "error.expected.jsstring");
			rc = -1;
			continue;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof(char *));
		(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
	return rc;
}

int
parse_labels(const json_t *obj, const char *base, const char *key,
    struct kvlist *out, struct json_errs *e)
{
	char path[JSON_PATH_MAX], vp[JSON_PATH_MAX];
	const json_t *o;
	const char *k;
	json_t *v;
	int rc;

	if ((rc = json_get_object(obj, base, key, 0, &o, e)) != 1)
		return rc;
	json_path_key(path, sizeof(path), base, key);
	json_object_foreach((json_t *)o, k, v) {
		if (!json_is_string(v)) {
			json_path_key(vp, sizeof(vp), path, k);
			json_errs_add(e, vp, "error.expected.jsstring");
			rc = -1;
			continue;
		}
		kv_set(out, k, json_string_value(v));
	}
	return rc;
}

static void
parse_env(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *env;
	const char *k;
	json_t *v;

	if (json_get_object(doc, "", "env", 0, &env, e) != 1)
		return;
	json_object_foreach((json_t *)env, k, v) {
		char path[JSON_PATH_MAX];
		struct env_var ev = { 0 };

		json_path_key(path, sizeof(path), "/env", k);
		if (k[0] == '\0') {
			json_errs_add(e, path, "must not be empty");
			continue;
		}
		if (json_is_string(v)) {
			ev.value = xstrdup(json_string_value(v));
		} else if (json_is_object(v) && json_is_string(json_object_get(v,
		    "secret"))) {
			ev.secret = xstrdup(json_string_value(json_object_get(v,
			    "secret")));
		} else {
			json_errs_add(e, path, "error.expected.jsstring");
			continue;
		}
		ev.name = xstrdup(k);
		a->env = xrealloc(a->env, (a->nenv + 1) * sizeof(*a->env));
		a->env[a->nenv++] = ev;
	}
}

static void
parse_secrets(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *secrets;
	const char *k;
	json_t *v;

	if (json_get_object(doc, "", "secrets", 0, &secrets, e) == 1) {
		json_object_foreach((json_t *)secrets, k, v) {
			char path[JSON_PATH_MAX];
			const char *source;

			json_path_key(path, sizeof(path), "/secrets", k);
			if (!json_is_object(v)) {
				json_errs_add(e, path, "error.expected.jsobject");
				continue;
			}
			if (json_get_str(v, path, "source", JF_REQUIRED | JF_NONEMPTY,
			    &source, e) == 1)
				kv_set(&a->secrets, k, source);
		}
	}
	for (size_t i = 0; i < a->nenv; i++) {
		char path[JSON_PATH_MAX];

		if (a->env[i].secret && !kv_get(&a->secrets, a->env[i].secret)) {
			json_path_key(path, sizeof(path), "/env", a->env[i].name);
			json_errs_add(e, path, "references an undefined secret named "
			    "'%s'", a->env[i].secret);
		}
	}
}

static bool
role_ok(const char *r)
{
	if (strcmp(r, "*") == 0)
		return true;
	if (r[0] == '\0' || strcmp(r, ".") == 0 || strcmp(r, "..") == 0 ||
	    r[0] == '-')
		return false;
	for (; *r; r++)
		if (*r <= ' ' || *r == '/' || *r == '\\' || *r == 127)
			return false;
	return true;
}

static void
parse_roles(const json_t *doc, struct app *a, struct json_errs *e)
{
	int rc = parse_str_array(doc, "", "acceptedResourceRoles", &a->roles,
	    &a->nroles, e);

	if (rc != 1)
		return;
	a->has_roles = true;
	if (a->nroles == 0)
		json_errs_add(e, "/acceptedResourceRoles", "must not be empty");
	for (size_t i = 0; i < a->nroles; i++) {
		char path[JSON_PATH_MAX];

		json_path_index(path, sizeof(path), "/acceptedResourceRoles", i);
		if (!role_ok(a->roles[i]))
			json_errs_add(e, path, "'%s' is not a valid role name",
			    a->roles[i]);
		else if (strv_has(a->roles, i, a->roles[i]))
			json_errs_add(e, path, "must be unique");
	}
}

static void
parse_constraints(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *arr, *c;
	size_t i;

	if (json_get_array(doc, "", "constraints", 0, &arr, e) != 1)
		return;
	a->constraints = xcalloc(json_array_size(arr), sizeof(*a->constraints));
	json_array_foreach(arr, i, c) {
		char path[JSON_PATH_MAX], err[256];
		const char *f[3] = { NULL, NULL, NULL };
		size_t n = json_is_array(c) ? json_array_size(c) : 0;

		json_path_index(path, sizeof(path), "/constraints", i);
		if (!json_is_array(c)) {
			json_errs_add(e, path, "error.expected.jsarray");
			continue;
		}
		if (n < 2 || n > 3) {
			json_errs_add(e, path, "Each constraint must have either 2 or "
			    "3 fields");
			continue;
		}
		for (size_t k = 0; k < n; k++)
			f[k] = json_string_value(json_array_get(c, k));
		if (!f[0] || !f[1] || (n == 3 && !f[2])) {
			json_errs_add(e, path, "illegal constraint specification");
			continue;
		}
		if (constraint_init(&a->constraints[a->nconstraints], f[0], f[1],
		    f[2], err, sizeof(err)) == -1) {
			json_errs_add(e, path, "%s", err);
			continue;
		}
		a->nconstraints++;
	}
}

static void
parse_dependencies(const json_t *doc, const char *parent, struct app *a,
    struct json_errs *e)
{
	char **deps = NULL;
	size_t n = 0;

	if (parse_str_array(doc, "", "dependencies", &deps, &n, e) != 1)
		return;
	for (size_t i = 0; i < n; i++) {
		char path[JSON_PATH_MAX], id[PATHID_MAX], err[512];

		json_path_index(path, sizeof(path), "/dependencies", i);
		if (pathid_canonical(deps[i], parent, false, id, sizeof(id), err,
		    sizeof(err)) == -1) {
			json_errs_add(e, path, "%s", err);
			continue;
		}
		if (!strv_has(a->deps, a->ndeps, id)) {
			a->deps = xrealloc(a->deps, (a->ndeps + 1) * sizeof(char *));
			a->deps[a->ndeps++] = xstrdup(id);
		}
	}
	strv_free(deps, n);
}

static void
parse_strategies(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *us, *ur;
	json_int_t n;
	const char *ks;

	if (json_get_object(doc, "", "upgradeStrategy", 0, &us, e) == 1) {
		static const char *const keys[] = { "minimumHealthCapacity",
			"maximumOverCapacity" };
		double *vals[] = { &a->min_health, &a->max_over };

		for (size_t i = 0; i < 2; i++) {
			const json_t *v = json_object_get(us, keys[i]);
			char path[JSON_PATH_MAX];

			json_path_key(path, sizeof(path), "/upgradeStrategy", keys[i]);
			if (v == NULL || json_is_null(v))
				continue;
			if (!json_is_number(v))
				json_errs_add(e, path, "error.expected.jsnumber");
			else if (json_number_value(v) > 1)
				json_errs_add(e, path, "is greater than 1");
			else if (json_number_value(v) < 0)
				json_errs_add(e, path, "is less than 0");
			else
				*vals[i] = json_number_value(v);
		}
	}
	if (json_get_int(doc, "", "backoffSeconds", 0, 0, INT_MAX, &n, e) == 1)
		a->backoff_seconds = (int)n;
	json_get_double(doc, "", "backoffFactor", 0, 1.0, 1e9, &a->backoff_factor,
	    e);
	if (json_get_int(doc, "", "maxLaunchDelaySeconds", 0, 0, INT_MAX, &n,
	    e) == 1)
		a->max_launch_delay = (int)n;
	if (json_get_int(doc, "", "taskKillGracePeriodSeconds", 0, 0, INT_MAX, &n,
	    e) == 1)
		a->kill_grace = (int)n;
	if (json_get_str(doc, "", "killSelection", 0, &ks, e) == 1) {
		if (strcmp(ks, "YOUNGEST_FIRST") == 0)
			a->kill_selection = KILL_YOUNGEST_FIRST;
		else if (strcmp(ks, "OLDEST_FIRST") == 0)
			a->kill_selection = KILL_OLDEST_FIRST;
		else
			json_errs_add(e, "/killSelection", "error.expected.jsstring: "
			    "one of YOUNGEST_FIRST, OLDEST_FIRST");
	}
	ur = json_object_get(doc, "unreachableStrategy");
	if (json_is_string(ur) && strcmp(json_string_value(ur), "disabled") == 0) {
		a->unreachable_disabled = true;
	} else if (json_is_object(ur)) {
		json_int_t in = 0, ex = 0;

		json_get_int(ur, "/unreachableStrategy", "inactiveAfterSeconds", 0,
		    0, INT_MAX, &in, e);
		json_get_int(ur, "/unreachableStrategy", "expungeAfterSeconds", 0,
		    0, INT_MAX, &ex, e);
		if (in > ex)
			json_errs_add(e, "/unreachableStrategy/inactiveAfterSeconds",
			    "inactiveAfterSeconds must be less or equal to "
			    "expungeAfterSeconds, which is %lld", (long long)ex);
		a->inactive_after = (int)in;
		a->expunge_after = (int)ex;
	} else if (ur != NULL && !json_is_null(ur)) {
		json_errs_add(e, "/unreachableStrategy", "must be \"disabled\" or "
		    "an object");
	}
	if (json_get_object(doc, "", "residency", 0, &us, e) == 1) {
		json_int_t t = 3600;
		const char *lost = "WAIT_FOREVER";

		json_get_int(us, "/residency", "relaunchEscalationTimeoutSeconds", 0,
		    0, INT_MAX, &t, e);
		if (json_get_str(us, "/residency", "taskLostBehavior", 0, &lost,
		    e) == 1 && strcmp(lost, "WAIT_FOREVER") &&
		    strcmp(lost, "RELAUNCH_AFTER_TIMEOUT"))
			json_errs_add(e, "/residency/taskLostBehavior", "is not one of "
			    "(WAIT_FOREVER,RELAUNCH_AFTER_TIMEOUT)");
		a->residency = json_pack("{s:I, s:s}",
		    "relaunchEscalationTimeoutSeconds", (json_int_t)t,
		    "taskLostBehavior", lost);
	}
}

static void
parse_command(const json_t *doc, struct app *a, struct json_errs *e)
{
	const char *cmd, *user, *exe;
	int has_cmd = json_get_str(doc, "", "cmd", JF_NONEMPTY, &cmd, e);
	int has_args = parse_str_array(doc, "", "args", &a->args, &a->nargs, e);

	if (has_cmd == 1)
		a->cmd = xstrdup(cmd);
	a->has_args = has_args == 1 && a->nargs > 0;
	if (has_cmd == 1 && a->has_args)
		json_errs_add(e, "/", "AppDefinition must either contain one of "
		    "'cmd' or 'args', and/or a 'container'.");
	if (json_get_str(doc, "", "user", 0, &user, e) == 1)
		a->user = xstrdup(user);
	if (json_get_str(doc, "", "executor", 0, &exe, e) == 1) {
		bool ok = exe[0] == '\0' || strcmp(exe, "//cmd") == 0 ||
		    (strstr(exe, "//") == NULL && exe[strlen(exe) - 1] != '/');

		if (!ok)
			json_errs_add(e, "/executor", "must fully match regular "
			    "expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'");
		free(a->executor);
		a->executor = xstrdup(exe);
	}
}

static void
parse_resources(const json_t *doc, struct app *a, struct json_errs *e)
{
	json_int_t n;

	if (json_get_int(doc, "", "instances", 0, 0, INT_MAX, &n, e) == 1)
		a->instances = (int)n;
	json_get_double(doc, "", "cpus", 0, 0.001, 1e9, &a->cpus, e);
	json_get_double(doc, "", "mem", 0, 0, 1e12, &a->mem, e);
	json_get_double(doc, "", "disk", 0, 0, 1e12, &a->disk, e);
	if (json_get_int(doc, "", "gpus", 0, 0, INT_MAX, &n, e) == 1) {
		a->gpus = (int)n;
		if (n > 0)
			json_errs_add(e, "/gpus", "Feature gpu_resources is not "
			    "enabled. Enable with --enable_features gpu_resources)");
	}
}

struct app *
app_parse(const json_t *doc, const char *base, struct json_errs *e)
{
	size_t before = errs_total(e);
	struct app *a;
	const char *id;
	char canon[PATHID_MAX], parent[PATHID_MAX], err[512];
	bool tty;

	if (!json_is_object(doc)) {
		json_errs_add(e, "", "error.expected.jsobject");
		return NULL;
	}
	a = app_new();
	if (json_get_str(doc, "", "id", JF_REQUIRED, &id, e) == 1) {
		if (pathid_canonical(id, base, false, canon, sizeof(canon), err,
		    sizeof(err)) == -1)
			json_errs_add(e, "/id", "%s", err);
		else
			a->id = xstrdup(canon);
	}
	pathid_parent(a->id ? a->id : "/", parent, sizeof(parent));
	parse_command(doc, a, e);
	parse_resources(doc, a, e);
	parse_env(doc, a, e);
	parse_secrets(doc, a, e);
	parse_labels(doc, "", "labels", &a->labels, e);
	parse_roles(doc, a, e);
	parse_constraints(doc, a, e);
	parse_dependencies(doc, parent, a, e);
	parse_fetch(doc, a, e);
	json_get_bool(doc, "", "requirePorts", 0, &a->require_ports, e);
	if (parse_str_array(doc, "", "storeUrls", &a->store_urls,
	    &a->nstore_urls, e) == 1)
		for (size_t k = 0; k < a->nstore_urls; k++)
			if (a->store_urls[k][0] == '\0') {
				char path[JSON_PATH_MAX];

				json_path_index(path, sizeof(path), "/storeUrls", k);
				json_errs_add(e, path, "must not be empty");
			}
	parse_container_networks(doc, a, e);
	if (a->host_network)
		parse_port_definitions(doc, a, e);
	else if (json_object_get(doc, "portDefinitions") &&
	    json_array_size(json_object_get(doc, "portDefinitions")))
		json_errs_add(e, "/", "portDefinitions are only allowed with "
		    "host-networking");
	parse_health_checks(doc, a, e);
	parse_readiness_checks(doc, a, e);
	parse_strategies(doc, a, e);
	if (json_get_bool(doc, "", "tty", 0, &tty, e) == 1)
		a->tty = tty;
	if (!a->cmd && !a->has_args && !a->docker_image &&
	    errs_total(e) == before)
		json_errs_add(e, "/", "AppDefinition must either contain one of "
		    "'cmd' or 'args', and/or a 'container'.");
	if (kv_get(&a->labels, "MARATHON_SINGLE_INSTANCE_APP") &&
	    strcmp(kv_get(&a->labels, "MARATHON_SINGLE_INSTANCE_APP"),
	    "true") == 0 && a->instances > 1)
		json_errs_add(e, "/", "Single instance app may only have one "
		    "instance");
	if (errs_total(e) > before) {
		app_unref(a);
		return NULL;
	}
	return a;
}

/* Drops from base the fields a patch replaces under another name, so the
 * overlay does not end up with both the deprecated and canonical forms. */
static void
drop_aliases(json_t *base, const json_t *patch)
{
	static const char *const pairs[][2] = {
		{ "ports", "portDefinitions" }, { "uris", "fetch" },
		{ "cmd", "args" }, { "args", "cmd" }, { "ipAddress", "networks" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const json_t *v = json_object_get(patch, pairs[i][0]);

		if (v && !json_is_null(v))
			json_object_del(base, pairs[i][1]);
	}
	if (json_is_object(json_object_get(patch, "container"))) {
		const json_t *d = json_object_get(json_object_get(patch,
		    "container"), "docker");

		if (d && json_object_get(d, "network"))
			json_object_del(base, "networks");
	}
	if (json_object_get(patch, "networks"))
		json_object_del(base, "portDefinitions");
}

struct app *
app_parse_update(const struct app *current, const json_t *patch,
    struct json_errs *e)
{
	json_t *merged;
	struct app *a;
	const char *k;
	json_t *v;

	if (!json_is_object(patch)) {
		json_errs_add(e, "", "error.expected.jsobject");
		return NULL;
	}
	merged = app_to_json(current);
	drop_aliases(merged, patch);
	json_object_foreach((json_t *)patch, k, v) {
		if (strcmp(k, "id") == 0 || strcmp(k, "version") == 0 ||
		    strcmp(k, "versionInfo") == 0)
			continue;
		json_object_set(merged, k, v);
	}
	a = app_parse(merged, "/", e);
	json_decref(merged);
	return a;
}

struct app *
app_from_store(const char *text)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	struct json_errs e;
	struct app *a;
	const json_t *vi;

	if (doc == NULL) {
		log_error("stored app definition is not JSON: %s", jerr.text);
		return NULL;
	}
	json_errs_init(&e);
	a = app_parse(doc, "/", &e);
	if (a == NULL) {
		char msg[600];

		log_error("stored app definition %s is invalid: %s",
		    json_str_or(doc, "id", "?"), json_errs_first(&e, msg,
		    sizeof(msg)));
	} else {
		snprintf(a->version, sizeof(a->version), "%s",
		    json_str_or(doc, "version", ""));
		vi = json_object_get(doc, "versionInfo");
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    json_str_or(vi, "lastScalingAt", a->version));
		snprintf(a->last_config_change_at,
		    sizeof(a->last_config_change_at), "%s",
		    json_str_or(vi, "lastConfigChangeAt", a->version));
	}
	json_errs_free(&e);
	json_decref(doc);
	return a;
}
