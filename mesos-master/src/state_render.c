/*
 * state_render: how agents, frameworks, tasks, offers and resources look in
 * the unversioned ("v0") state endpoints of Mesos 1.5
 * (shared/reference/mesos-marathon-metronome.md sections 1.3-1.7), written
 * straight into one jsonw buffer rather than built as a jansson tree. A
 * task's JSON is kept once rendered, until the task changes (task_touch):
 * a /master/state with 10,000 tasks then copies text instead of formatting
 * it again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/strmap.h"
#include "master.h"

/* --- resources --- */

static void
write_ranges(struct jsonw *w, const struct res_range *v, size_t n)
{
	char buf[8192];

	jw_str(w, ranges_format(v, n, buf, sizeof(buf)));
}

/* Summary object: cpus/gpus/mem/disk always, other scalars by name, ranges
 * "[a-b, c-d]", sets "{a, b}"; several roles of one name are merged. */
void
state_write_resources(struct jsonw *w, const struct resources *r)
{
	static const char *const base[] = { "cpus", "gpus", "mem", "disk" };
	char done[64];

	double sum[4] = { 0, 0, 0, 0 };

	memset(done, 0, sizeof(done));
	for (size_t i = 0; i < r->n; i++)
		for (size_t k = 0; k < 4; k++)
			if (r->v[i].type == RES_SCALAR &&
			    strcmp(r->v[i].name, base[k]) == 0)
				sum[k] += r->v[i].scalar;
	jw_obj_begin(w);
	jw_kldouble(w, "cpus", round(sum[0] * 1000) / 1000);
	jw_kldouble(w, "gpus", round(sum[1] * 1000) / 1000);
	jw_kldouble(w, "mem", round(sum[2] * 1000) / 1000);
	jw_kldouble(w, "disk", round(sum[3] * 1000) / 1000);
	for (size_t i = 0; i < r->n && i < sizeof(done); i++) {
		const struct resource *res = &r->v[i];
		bool seen = false;

		for (size_t k = 0; k < 4; k++)
			if (!strcmp(res->name, base[k]))
				seen = true;
		for (size_t k = 0; k < i; k++)
			if (done[k] && !strcmp(r->v[k].name, res->name))
				seen = true;
		if (seen)
			continue;
		done[i] = 1;
		jw_key(w, res->name);
		if (res->type == RES_SCALAR) {
			jw_double(w, resources_scalar(r, res->name));
		} else if (res->type == RES_RANGES) {
			struct resources merged;

			resources_init(&merged);
			for (size_t k = i; k < r->n; k++)
				if (!strcmp(r->v[k].name, res->name))
					for (size_t j = 0; j < r->v[k].nranges; j++)
						resources_add_range(&merged, res->name, "*",
						    r->v[k].ranges[j].begin,
						    r->v[k].ranges[j].end);
			if (merged.n)
				write_ranges(w, merged.v[0].ranges, merged.v[0].nranges);
			else
				jw_str(w, "[]");
			resources_free(&merged);
		} else {
			char buf[4096];
			size_t used = (size_t)snprintf(buf, sizeof(buf), "{");

			for (size_t k = 0; k < res->nitems && used < sizeof(buf); k++)
				used += (size_t)snprintf(buf + used, sizeof(buf) - used,
				    "%s%s", k ? ", " : "", res->items[k]);
			if (used < sizeof(buf))
				snprintf(buf + used, sizeof(buf) - used, "}");
			jw_str(w, buf);
		}
	}
	jw_obj_end(w);
}

static void
write_reserved(struct jsonw *w, const struct resources *r)
{
	jw_obj_begin(w);
	for (size_t i = 0; i < r->n; i++) {
		struct resources mine;
		bool seen = false;

		if (!strcmp(r->v[i].role, "*"))
			continue;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->v[k].role, r->v[i].role))
				seen = true;
		if (seen)
			continue;
		resources_init(&mine);
		for (size_t k = i; k < r->n; k++)
			if (!strcmp(r->v[k].role, r->v[i].role)) {
				struct resources one = { .v = (struct resource *)&r->v[k],
					.n = 1 };

				resources_add(&mine, &one);
			}
		jw_key(w, r->v[i].role);
		state_write_resources(w, &mine);
		resources_free(&mine);
	}
	jw_obj_end(w);
}

static void
write_unreserved(struct jsonw *w, const struct resources *r)
{
	struct resources mine;

	resources_init(&mine);
	for (size_t k = 0; k < r->n; k++)
		if (!strcmp(r->v[k].role, "*")) {
			struct resources one = { .v = (struct resource *)&r->v[k],
				.n = 1 };

			resources_add(&mine, &one);
		}
	state_write_resources(w, &mine);
	resources_free(&mine);
}

/* --- tasks --- */

void
task_touch(struct task *t)
{
	free(t->json);
	t->json = NULL;
}

static void render_task(struct jsonw *w, const struct task *t);

void
state_write_task(struct jsonw *w, const struct task *t)
{
	struct task *mut = (struct task *)t; /* the cache is not the task */
	struct jsonw one;

	if (t->json == NULL) {
		jw_init(&one);
		render_task(&one, t);
		mut->json = jw_steal(&one, &mut->json_len);
		/* the writer's buffer is a 4 KiB minimum: keep only the text */
		mut->json = realloc(mut->json, mut->json_len + 1);
		if (mut->json == NULL)
			abort();
	}
	jw_rawn(w, t->json, t->json_len);
}

static void
render_task(struct jsonw *w, const struct task *t)
{
	jw_obj_begin(w);
	jw_klstr(w, "id", t->id);
	jw_klstr(w, "name", t->name);
	jw_klstr(w, "framework_id", t->fw->id);
	jw_klstr(w, "executor_id", t->executor_id);
	jw_klstr(w, "slave_id", t->agent_id);
	jw_klstr(w, "state", task_state_name(t->unreachable ? TASK_UNREACHABLE :
	    t->state));
	jw_key_lit(w, "resources");
	state_write_resources(w, &t->res);
	jw_klstr(w, "role", t->role);
	jw_key_lit(w, "statuses");
	jw_arr_begin(w);
	for (size_t i = 0; i < t->nstatuses; i++) {
		const struct task_status *st = &t->statuses[i];

		jw_obj_begin(w);
		jw_klstr(w, "state", task_state_name(st->state));
		jw_kldouble(w, "timestamp", st->timestamp);
		if (st->labels)
			jw_klraw(w, "labels", st->labels);
		if (st->container_status)
			jw_klraw(w, "container_status", st->container_status);
		if (st->healthy >= 0)
			jw_klbool(w, "healthy", st->healthy);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (t->user)
		jw_klstr(w, "user", t->user);
	if (t->labels)
		jw_klraw(w, "labels", t->labels);
	if (t->discovery)
		jw_klraw(w, "discovery", t->discovery);
	if (t->container)
		jw_klraw(w, "container", t->container);
	jw_obj_end(w);
}

/* --- agents --- */

/* The fields of a slaves[] element, inside an object the caller opened. */
void
state_agent_fields(struct jsonw *w, const struct agent *a, bool full)
{
	jw_klstr(w, "id", a->id);
	jw_klstr(w, "hostname", a->hostname);
	jw_klint(w, "port", a->port);
	jw_klraw(w, "attributes", a->attrs_summary);
	jw_klstr(w, "pid", a->pid);
	jw_kldouble(w, "registered_time", a->registered_time);
	if (a->reregistered_time > 0)
		jw_kldouble(w, "reregistered_time", a->reregistered_time);
	jw_key_lit(w, "resources");
	state_write_resources(w, &a->total);
	jw_key_lit(w, "used_resources");
	state_write_resources(w, &a->used);
	jw_key_lit(w, "offered_resources");
	state_write_resources(w, &a->offered);
	jw_key_lit(w, "reserved_resources");
	write_reserved(w, &a->total);
	jw_key_lit(w, "unreserved_resources");
	write_unreserved(w, &a->total);
	jw_klbool(w, "active", a->state == AGENT_ACTIVE);
	jw_klstr(w, "version", a->version);
	jw_kjson(w, "capabilities", a->capabilities);
	if (json_object_get(a->info, "domain"))
		jw_kjson(w, "domain", json_object_get(a->info, "domain"));
	if (full) {
		json_t *v;

		jw_key_lit(w, "reserved_resources_full");
		jw_obj_begin(w);
		for (size_t i = 0; i < a->total.n; i++) {
			struct resources mine;
			bool seen = false;

			if (!strcmp(a->total.v[i].role, "*"))
				continue;
			for (size_t k = 0; k < i; k++)
				if (!strcmp(a->total.v[k].role, a->total.v[i].role))
					seen = true;
			if (seen)
				continue;
			resources_for_role(&a->total, a->total.v[i].role, &mine);
			v = resources_to_v1(&mine, NULL);
			/* only the reserved part */
			for (size_t k = json_array_size(v); k-- > 0;)
				if (!strcmp(json_str_or(json_array_get(v, k), "role", "*"),
				    "*"))
					json_array_remove(v, k);
			jw_kjson(w, a->total.v[i].role, v);
			json_decref(v);
			resources_free(&mine);
		}
		jw_obj_end(w);
		v = resources_to_v1(&a->total, NULL);
		for (size_t k = json_array_size(v); k-- > 0;)
			if (strcmp(json_str_or(json_array_get(v, k), "role", "*"), "*"))
				json_array_remove(v, k);
		jw_kjson(w, "unreserved_resources_full", v);
		json_decref(v);
		v = resources_to_v1(&a->used, NULL);
		jw_kjson(w, "used_resources_full", v);
		json_decref(v);
		v = resources_to_v1(&a->offered, NULL);
		jw_kjson(w, "offered_resources_full", v);
		json_decref(v);
	}
}

static void
write_agent(struct jsonw *w, const struct agent *a, bool full)
{
	jw_obj_begin(w);
	state_agent_fields(w, a, full);
	jw_obj_end(w);
}

void
state_agents(struct jsonw *w, struct master *m, const char *only, bool full)
{
	void *v;

	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state == AGENT_RECOVERED || (only && strcmp(only, a->id)))
			continue;
		write_agent(w, a, full);
	}
	jw_arr_end(w);
}

void
state_recovered_agents(struct jsonw *w, struct master *m)
{
	void *v;

	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(m->agents, &it, NULL, &v);) {
		struct agent *a = v;

		if (a->state == AGENT_RECOVERED)
			jw_json(w, a->info);
	}
	jw_arr_end(w);
}

/* --- frameworks --- */

static void
write_offer(struct jsonw *w, const struct offer *o)
{
	jw_obj_begin(w);
	jw_klstr(w, "id", o->id);
	jw_klstr(w, "framework_id", o->fw->id);
	jw_key_lit(w, "allocation_info");
	jw_obj_begin(w);
	jw_klstr(w, "role", o->role);
	jw_obj_end(w);
	jw_klstr(w, "slave_id", o->agent->id);
	jw_key_lit(w, "resources");
	state_write_resources(w, &o->res);
	jw_obj_end(w);
}

void
state_caps(struct jsonw *w, const struct framework *fw)
{
	json_t *caps = framework_caps_json(fw->caps);

	jw_kjson(w, "capabilities", caps);
	json_decref(caps);
}

static void
write_framework(struct jsonw *w, const struct framework *fw)
{
	const struct task *t;
	const struct offer *o;
	struct resources both;
	json_t *labels = json_object_get(json_object_get(fw->info, "labels"),
	    "labels");
	void *v;

	jw_obj_begin(w);
	jw_klstr(w, "id", fw->id);
	jw_klstr(w, "name", fw->name);
	jw_key_lit(w, "used_resources");
	state_write_resources(w, &fw->used);
	jw_key_lit(w, "offered_resources");
	state_write_resources(w, &fw->offered);
	state_caps(w, fw);
	jw_klstr(w, "hostname", fw->hostname);
	jw_klstr(w, "webui_url", fw->webui_url);
	jw_klbool(w, "active", fw->active);
	jw_klbool(w, "connected", fw->connected);
	jw_klbool(w, "recovered", fw->recovered);
	jw_klstr(w, "user", fw->user);
	jw_kldouble(w, "failover_timeout", fw->failover_timeout);
	jw_klbool(w, "checkpoint", fw->checkpoint);
	jw_kldouble(w, "registered_time", fw->registered_time);
	jw_kldouble(w, "unregistered_time", fw->unregistered_time);
	if (fw->reregistered_time > 0 &&
	    fw->reregistered_time != fw->registered_time)
		jw_kldouble(w, "reregistered_time", fw->reregistered_time);
	if (fw->principal)
		jw_klstr(w, "principal", fw->principal);
	resources_copy(&both, &fw->used);
	resources_add(&both, &fw->offered);
	jw_key_lit(w, "resources");
	state_write_resources(w, &both);
	resources_free(&both);
	if (fw->caps & FW_CAP_MULTI_ROLE) {
		jw_key_lit(w, "roles");
		jw_arr_begin(w);
		for (size_t i = 0; i < fw->nroles; i++)
			jw_str(w, fw->roles[i]);
		jw_arr_end(w);
	} else {
		jw_klstr(w, "role", framework_role_of(fw));
	}
	jw_key_lit(w, "tasks");
	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);)
		if (!((struct task *)v)->unreachable)
			state_write_task(w, v);
	jw_arr_end(w);
	jw_key_lit(w, "unreachable_tasks");
	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);)
		if (((struct task *)v)->unreachable)
			state_write_task(w, v);
	jw_arr_end(w);
	jw_key_lit(w, "completed_tasks");
	jw_arr_begin(w);
	TAILQ_FOREACH(t, &fw->completed, done_link)
		state_write_task(w, t);
	jw_arr_end(w);
	jw_key_lit(w, "offers");
	jw_arr_begin(w);
	TAILQ_FOREACH(o, &fw->offers, fw_link)
		write_offer(w, o);
	jw_arr_end(w);
	jw_key_lit(w, "executors");
	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(fw->m->agents, &it, NULL, &v);) {
		const struct executor *e;

		TAILQ_FOREACH(e, &((struct agent *)v)->executors, agent_link) {
			if (e->fw != fw)
				continue;
			jw_obj_begin(w);
			jw_klstr(w, "executor_id", e->id);
			jw_klstr(w, "name", json_str_or(e->info, "name", ""));
			jw_klstr(w, "framework_id", fw->id);
			if (json_object_get(e->info, "command"))
				jw_kjson(w, "command", json_object_get(e->info,
				    "command"));
			jw_key_lit(w, "resources");
			state_write_resources(w, &e->res);
			jw_klstr(w, "type", json_str_or(e->info, "type", "CUSTOM"));
			jw_klstr(w, "slave_id", e->agent->id);
			jw_obj_end(w);
		}
	}
	jw_arr_end(w);
	if (labels)
		jw_kjson(w, "labels", labels);
	jw_obj_end(w);
}

void
state_frameworks(struct jsonw *w, struct master *m, const char *only)
{
	void *v;

	jw_arr_begin(w);
	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);)
		if (only == NULL || !strcmp(only, ((struct framework *)v)->id))
			write_framework(w, v);
	jw_arr_end(w);
}

void
state_completed_frameworks(struct jsonw *w, struct master *m,
    const char *only)
{
	const struct framework *fw;

	jw_arr_begin(w);
	TAILQ_FOREACH(fw, &m->completed_frameworks, done_link)
		if (only == NULL || !strcmp(only, fw->id))
			write_framework(w, fw);
	jw_arr_end(w);
}
