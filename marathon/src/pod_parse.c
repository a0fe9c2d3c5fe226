/*
 * pod_parse: a pod definition (Marathon's PodDefinition RAML) from JSON
 * into a struct pod: its normalized definition (defaults filled in as
 * Marathon 1.6 does: resources, host ports 0 on host networking, scaling,
 * scheduling, executorResources) and the run spec the scheduler uses, an
 * app whose pod member holds the containers. Every problem is recorded
 * under its JSON path ("/containers(0)/resources/cpus") for a 422. The
 * containers are parsed in pod_container.c.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

/* networks: [{"mode": "host" | "container" | "container/bridge", ...}];
 * none means host. */
static bool
parse_networks(const json_t *doc, json_t *out, struct json_errs *e)
{
	const json_t *arr, *n;
	bool host = true;
	size_t i;

	if (json_get_array(doc, "", "networks", 0, &arr, e) != 1 ||
	    json_array_size(arr) == 0) {
		json_object_set_new(out, "networks", json_pack("[{s:s}]", "mode",
		    "host"));
		return true;
	}
	json_array_foreach(arr, i, n) {
		char path[JSON_PATH_MAX];
		const char *mode = "container";

		json_path_index(path, sizeof(path), "/networks", i);
		if (!json_is_object(n)) {
			json_errs_add(e, path, "error.expected.jsobject");
			continue;
		}
		json_get_str(n, path, "mode", 0, &mode, e);
		if (strcmp(mode, "host") == 0) {
			if (json_array_size(arr) > 1)
				json_errs_add(e, path, "host networking excludes other "
				    "networks");
		} else if (strcmp(mode, "container") == 0 ||
		    strcmp(mode, "container/bridge") == 0) {
			host = false;
		} else {
			json_errs_add(e, path, "mode must be one of host, container, "
			    "container/bridge");
		}
	}
	return host;
}

static void
parse_placement(const json_t *pl, struct app *a, struct json_errs *e)
{
	const char *base = "/scheduling/placement";
	const json_t *arr, *c;
	size_t i;

	if (parse_str_array(pl, base, "acceptedResourceRoles", &a->roles,
	    &a->nroles, e) == 1 && a->nroles > 0)
		a->has_roles = true;
	if (json_get_array(pl, base, "constraints", 0, &arr, e) != 1)
		return;
	a->constraints = xcalloc(json_array_size(arr) + 1,
	    sizeof(*a->constraints));
	json_array_foreach(arr, i, c) {
		char path[JSON_PATH_MAX], err[256];
		const char *f = NULL, *op = NULL, *v = NULL;

		json_path_index(path, sizeof(path), "/scheduling/placement/"
		    "constraints", i);
		if (json_is_array(c)) {
			/* the app form is taken too: [field, op(, value)] */
			f = json_string_value(json_array_get(c, 0));
			op = json_string_value(json_array_get(c, 1));
			v = json_string_value(json_array_get(c, 2));
		} else if (json_is_object(c)) {
			json_get_str(c, path, "fieldName", JF_REQUIRED, &f, e);
			json_get_str(c, path, "operator", JF_REQUIRED, &op, e);
			json_get_str(c, path, "value", 0, &v, e);
		}
		if (f == NULL || op == NULL) {
			json_errs_add(e, path, "illegal constraint specification");
			continue;
		}
		if (constraint_init(&a->constraints[a->nconstraints], f, op, v, err,
		    sizeof(err)) == -1) {
			json_errs_add(e, path, "%s", err);
			continue;
		}
		a->nconstraints++;
	}
}

/* scheduling: backoff, upgrade, placement, killSelection,
 * unreachableStrategy; the normalized form gets every default. */
static void
parse_scheduling(const json_t *doc, struct app *a, json_t *out,
    struct json_errs *e)
{
	const json_t *sc = NULL, *o, *ur;
	json_t *norm = json_object();
	double backoff = 1, factor = 1.15, max_delay = 3600, v;
	const char *ks;

	json_get_object(doc, "", "scheduling", 0, &sc, e);
	if (sc && json_get_object(sc, "/scheduling", "backoff", 0, &o, e) == 1) {
		json_get_double(o, "/scheduling/backoff", "backoff", 0, 0, 1e9,
		    &backoff, e);
		json_get_double(o, "/scheduling/backoff", "backoffFactor", 0, 0,
		    1e9, &factor, e);
		json_get_double(o, "/scheduling/backoff", "maxLaunchDelay", 0, 0,
		    1e9, &max_delay, e);
	}
	a->backoff_seconds = (int)ceil(backoff);
	a->backoff_factor = factor;
	a->max_launch_delay = (int)ceil(max_delay);
	if (sc && json_get_object(sc, "/scheduling", "upgrade", 0, &o, e) == 1) {
		if (json_get_double(o, "/scheduling/upgrade", "minimumHealthCapacity",
		    0, 0, 1, &v, e) == 1)
			a->min_health = v;
		if (json_get_double(o, "/scheduling/upgrade", "maximumOverCapacity",
		    0, 0, 1, &v, e) == 1)
			a->max_over = v;
	}
	if (sc && json_get_object(sc, "/scheduling", "placement", 0, &o, e) == 1)
		parse_placement(o, a, e);
	if (sc && json_get_str(sc, "/scheduling", "killSelection", 0, &ks,
	    e) == 1) {
		if (strcmp(ks, "OLDEST_FIRST") == 0)
			a->kill_selection = KILL_OLDEST_FIRST;
		else if (strcmp(ks, "YOUNGEST_FIRST") != 0)
			json_errs_add(e, "/scheduling/killSelection", "must be one of "
			    "YOUNGEST_FIRST, OLDEST_FIRST");
	}
	ur = sc ? json_object_get(sc, "unreachableStrategy") : NULL;
	if (json_is_string(ur) && strcmp(json_string_value(ur), "disabled") == 0) {
		a->unreachable_disabled = true;
	} else if (json_is_object(ur)) {
		json_int_t in = 0, ex = 0;

		json_get_int(ur, "/scheduling/unreachableStrategy",
		    "inactiveAfterSeconds", 0, 0, INT_MAX, &in, e);
		json_get_int(ur, "/scheduling/unreachableStrategy",
		    "expungeAfterSeconds", 0, 0, INT_MAX, &ex, e);
		if (in > ex)
			json_errs_add(e, "/scheduling/unreachableStrategy",
			    "inactiveAfterSeconds must be less or equal to "
			    "expungeAfterSeconds");
		a->inactive_after = (int)in;
		a->expunge_after = (int)ex;
	} else if (ur && !json_is_null(ur)) {
		json_errs_add(e, "/scheduling/unreachableStrategy", "must be "
		    "\"disabled\" or an object");
	}
	if (sc)
		json_object_update(norm, (json_t *)sc);
	json_object_set_new(norm, "backoff", json_pack("{s:f, s:f, s:f}",
	    "backoff", backoff, "backoffFactor", factor, "maxLaunchDelay",
	    max_delay));
	json_object_set_new(norm, "upgrade", json_pack("{s:f, s:f}",
	    "minimumHealthCapacity", a->min_health, "maximumOverCapacity",
	    a->max_over));
	json_object_set_new(norm, "killSelection", json_string(
	    a->kill_selection == KILL_OLDEST_FIRST ? "OLDEST_FIRST" :
	    "YOUNGEST_FIRST"));
	if (!a->unreachable_disabled)
		json_object_set_new(norm, "unreachableStrategy", json_pack(
		    "{s:i, s:i}", "inactiveAfterSeconds", a->inactive_after,
		    "expungeAfterSeconds", a->expunge_after));
	json_object_set_new(out, "scheduling", norm);
}

static void
parse_executor(const json_t *doc, struct pod_spec *ps, json_t *out,
    struct json_errs *e)
{
	const json_t *er;
	const char *p = "/executorResources";

	ps->exec_cpus = 0.1;
	ps->exec_mem = 32;
	ps->exec_disk = 10;
	if (json_get_object(doc, "", "executorResources", 0, &er, e) == 1) {
		json_get_double(er, p, "cpus", 0, 0, 1e9, &ps->exec_cpus, e);
		json_get_double(er, p, "mem", 0, 0, 1e12, &ps->exec_mem, e);
		json_get_double(er, p, "disk", 0, 0, 1e12, &ps->exec_disk, e);
	}
	json_object_set_new(out, "executorResources", json_pack("{s:f, s:f, s:f}",
	    "cpus", ps->exec_cpus, "mem", ps->exec_mem, "disk", ps->exec_disk));
}

static void
parse_scaling(const json_t *doc, struct app *a, json_t *out,
    struct json_errs *e)
{
	const json_t *sc = NULL;
	json_int_t n = 1;
	const char *kind = "fixed";

	if (json_get_object(doc, "", "scaling", 0, &sc, e) == 1) {
		json_get_int(sc, "/scaling", "instances", 0, 0, INT_MAX, &n, e);
		if (json_get_str(sc, "/scaling", "kind", 0, &kind, e) == 1 &&
		    strcmp(kind, "fixed") != 0)
			json_errs_add(e, "/scaling/kind", "is not one of (fixed)");
	}
	a->instances = (int)n;
	json_object_set_new(out, "scaling", json_pack("{s:s, s:I}", "kind",
	    "fixed", "instances", n));
	if (sc && json_object_get(sc, "maxInstances"))
		json_object_set(json_object_get(out, "scaling"), "maxInstances",
		    json_object_get(sc, "maxInstances"));
}

static void
parse_secrets(const json_t *doc, struct app *a, struct json_errs *e)
{
	const json_t *secrets;
	const char *k;
	json_t *v;

	if (json_get_object(doc, "", "secrets", 0, &secrets, e) != 1)
		return;
	json_object_foreach((json_t *)secrets, k, v) {
		char path[JSON_PATH_MAX];
		const char *source;

		json_path_key(path, sizeof(path), "/secrets", k);
		if (!json_is_object(v))
			json_errs_add(e, path, "error.expected.jsobject");
		else if (json_get_str(v, path, "source", JF_REQUIRED | JF_NONEMPTY,
		    &source, e) == 1)
			kv_set(&a->secrets, k, source);
	}
}

/* The run spec's totals (what /v2/queue and the app fields show). */
static void
sum_resources(struct app *a, const struct pod_spec *ps)
{
	a->cpus = ps->exec_cpus;
	a->mem = ps->exec_mem;
	a->disk = ps->exec_disk;
	for (size_t i = 0; i < ps->ncontainers; i++) {
		a->cpus += ps->containers[i].cpus;
		a->mem += ps->containers[i].mem;
		a->disk += ps->containers[i].disk;
	}
}

struct pod *
pod_parse(const json_t *doc, const char *id_hint, struct json_errs *e)
{
	struct pod_spec *ps;
	struct app *a;
	struct pod *p;
	const char *raw = id_hint, *user;
	char id[PATHID_MAX], err[512];
	json_t *out;
	size_t before = errs_total(e);

	if (!json_is_object(doc)) {
		json_errs_add(e, "", "error.expected.jsobject");
		return NULL;
	}
	if (raw == NULL && json_get_str(doc, "", "id", JF_REQUIRED, &raw, e) != 1)
		return NULL;
	if (pathid_canonical(raw, "/", false, id, sizeof(id), err,
	    sizeof(err)) == -1) {
		json_errs_add(e, "/id", "%s", err);
		return NULL;
	}
	out = json_deep_copy(doc);
	json_object_del(out, "version");
	json_object_set_new(out, "id", json_string(id));
	a = app_new();
	a->id = xstrdup(id);
	a->pod = ps = xcalloc(1, sizeof(*ps));
	a->has_port_defs = false;
	ps->host_network = a->host_network = parse_networks(doc, out, e);
	pod_parse_containers(doc, ps, out, e);
	pod_parse_env(doc, "", &a->env, &a->nenv, e);
	parse_labels(doc, "", "labels", &a->labels, e);
	parse_secrets(doc, a, e);
	if (json_get_str(doc, "", "user", 0, &user, e) == 1)
		a->user = xstrdup(user);
	parse_scaling(doc, a, out, e);
	parse_scheduling(doc, a, out, e);
	parse_executor(doc, ps, out, e);
	sum_resources(a, ps);
	if (errs_total(e) > before) {
		json_decref(out);
		app_unref(a);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->refs = 1;
	p->id = xstrdup(id);
	p->def = out;
	p->instances = a->instances;
	p->app = a;
	return p;
}

struct pod *
pod_from_store(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL), *def;
	struct json_errs e;
	struct pod *p;

	if (doc == NULL)
		return NULL;
	/* older stores kept the bare definition */
	def = json_object_get(doc, "def") ? json_object_get(doc, "def") : doc;
	json_errs_init(&e);
	p = pod_parse(def, NULL, &e);
	json_errs_free(&e);
	if (p) {
		const char *v = json_str_or(def, "version", "");
		struct app *a = p->app;

		json_object_set_new(p->def, "version", json_string(v));
		snprintf(p->version, sizeof(p->version), "%s", v);
		snprintf(a->version, sizeof(a->version), "%s", v);
		snprintf(a->last_config_change_at, sizeof(a->last_config_change_at),
		    "%s", json_str_or(doc, "lastConfigChangeAt", v));
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    json_str_or(doc, "lastScalingAt", v));
	}
	json_decref(doc);
	return p;
}
