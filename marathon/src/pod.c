/*
 * pod: the pod model around pod_parse.c: versioning a new definition
 * against the old one (a change of anything but the instance count is a
 * config change, which restarts the instances), the store form, and the
 * small questions the scheduler asks of a pod's containers. A pod's run
 * spec is a struct app (so deployments, backoff, constraints and kill
 * selection work as for apps) whose pod member holds the containers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "marathon.h"

void
pod_spec_free(struct pod_spec *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncontainers; i++) {
		struct pod_container *c = &s->containers[i];

		free(c->name);
		free(c->shell);
		strv_free(c->argv, c->nargv);
		for (size_t k = 0; k < c->nenv; k++) {
			free(c->env[k].name);
			free(c->env[k].value);
			free(c->env[k].secret);
		}
		free(c->env);
		kv_free(&c->labels);
		free(c->user);
		free(c->image);
		for (size_t k = 0; k < c->neps; k++) {
			free(c->eps[k].name);
			strv_free(c->eps[k].protocols, c->eps[k].nprotocols);
			kv_free(&c->eps[k].labels);
		}
		free(c->eps);
		for (size_t k = 0; k < c->nartifacts; k++) {
			free(c->artifacts[k].uri);
			free(c->artifacts[k].dest_path);
		}
		free(c->artifacts);
		if (c->hc) {
			free(c->hc->path);
			free(c->hc->command);
			free(c->hc);
		}
		free(c->hc_endpoint);
		strv_free(c->hc_argv, c->hc_nargv);
	}
	free(s->containers);
	free(s);
}

/* The definition without what a scale changes. */
static json_t *
config_of(const json_t *def)
{
	json_t *c = json_deep_copy(def);

	json_object_del(c, "version");
	json_object_del(json_object_get(c, "scaling"), "instances");
	return c;
}

void
pod_stamp(struct pod *p, const struct pod *old, const char *version)
{
	struct app *a = p->app;
	bool same = false;

	if (old) {
		json_t *x = config_of(p->def), *y = config_of(old->def);

		same = json_equal(x, y);
		json_decref(x);
		json_decref(y);
	}
	json_object_set_new(p->def, "version", json_string(version));
	snprintf(p->version, sizeof(p->version), "%s", version);
	snprintf(a->version, sizeof(a->version), "%s", version);
	if (!same) {
		snprintf(a->last_config_change_at, sizeof(a->last_config_change_at),
		    "%s", version);
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    version);
		return;
	}
	memcpy(a->last_config_change_at, old->app->last_config_change_at,
	    sizeof(a->last_config_change_at));
	if (old->instances != p->instances)
		snprintf(a->last_scaling_at, sizeof(a->last_scaling_at), "%s",
		    version);
	else
		memcpy(a->last_scaling_at, old->app->last_scaling_at,
		    sizeof(a->last_scaling_at));
}

char *
pod_to_store(const struct pod *p)
{
	json_t *o = json_pack("{s:O, s:s, s:s}", "def", p->def,
	    "lastConfigChangeAt", p->app->last_config_change_at,
	    "lastScalingAt", p->app->last_scaling_at);
	char *text = json_compact(o);

	json_decref(o);
	return text;
}

size_t
pod_host_ports(const struct pod_spec *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ncontainers; i++)
		for (size_t k = 0; k < s->containers[i].neps; k++)
			n += s->containers[i].eps[k].host_port >= 0;
	return n;
}

void
pod_executor_id(const char *instance_id, char *out, size_t size)
{
	const char *mark = strstr(instance_id, ".instance-");

	if (mark == NULL) {
		snprintf(out, size, "%s", instance_id);
		return;
	}
	snprintf(out, size, "instance-%.*s.%s", (int)(mark - instance_id),
	    instance_id, mark + strlen(".instance-"));
}

const struct pod_container *
pod_container_of(const struct pod_spec *s, const char *task_id)
{
	const char *dot = strrchr(task_id, '.');

	if (s == NULL || dot == NULL)
		return NULL;
	for (size_t i = 0; i < s->ncontainers; i++)
		if (strcmp(s->containers[i].name, dot + 1) == 0)
			return &s->containers[i];
	return NULL;
}
