/*
 * state: the agent's read endpoints in the shapes of the reference
 * (section 1.8): /state (and /state.json, /slave(1)/state[.json]), /flags,
 * /version, /health, and the v1 operator API calls that read the same
 * things (POST /api/v1, /slave(1)/api/v1: GET_HEALTH, GET_VERSION,
 * GET_FLAGS, GET_AGENT, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
 * GET_STATE). Isolation as detected at start shows in "flags".
 */
#include <stdio.h>
#include <string.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/json.h"

#include "agent.h"

#define MESOS_VERSION "1.5.3"

const char *
state_name(enum agent_state s)
{
	switch (s) {
	case AGENT_RECOVERING: return "RECOVERING";
	case AGENT_DISCONNECTED: return "DISCONNECTED";
	case AGENT_REGISTERING: return "REGISTERING";
	case AGENT_RUNNING: return "RUNNING";
	case AGENT_TERMINATING: return "TERMINATING";
	}
	return "UNKNOWN";
}

json_t *
state_agent_info(const struct agent *a)
{
	return json_pack("{s:s, s:i, s:o, s:o}", "hostname", a->hostname, "port",
	    a->f.port, "resources", resources_to_v1(&a->total, NULL),
	    "attributes", attributes_to_v1(&a->attrs));
}

static const char *
task_role(const struct task *t)
{
	const json_t *r = json_array_get(json_object_get(t->info, "resources"), 0);
	const char *role = json_string_value(json_object_get(json_object_get(r,
	    "allocation_info"), "role"));

	if (role == NULL)
		role = json_string_value(json_object_get(r, "role"));
	if (role == NULL)
		role = json_string_value(json_object_get(t->ex->fw->info, "role"));
	return role ? role : "*";
}

/* A status as the v0 endpoints show it. */
static json_t *
status_v0(const json_t *st)
{
	json_t *o = json_pack("{s:O, s:f}", "state", json_object_get(st, "state"),
	    "timestamp", json_number_value(json_object_get(st, "timestamp")));
	const char *keys[] = { "labels", "healthy", "container_status" };

	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(st, keys[i]);

		if (v == NULL)
			continue;
		if (i == 0)
			json_object_set(o, "labels", json_object_get(v, "labels") ?
			    json_object_get(v, "labels") : v);
		else
			json_object_set(o, keys[i], v);
	}
	return o;
}

json_t *
state_task_json(const struct task *t)
{
	const struct executor *ex = t->ex;
	json_t *statuses = json_array();
	json_t *o;
	const json_t *v;
	size_t i;

	json_array_foreach(t->statuses, i, v)
		json_array_append_new(statuses, status_v0(v));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}",
	    "id", t->id, "name", json_str_or(t->info, "name", ""),
	    "framework_id", ex->fw->id, "executor_id", ex->command ? "" : ex->id,
	    "slave_id", ex->a->id, "state", t->state, "resources",
	    resources_summary(&t->res), "role", task_role(t), "statuses",
	    statuses);
	if ((v = json_object_get(json_object_get(t->info, "labels"), "labels")))
		json_object_set(o, "labels", (json_t *)v);
	if ((v = json_object_get(t->info, "discovery")))
		json_object_set(o, "discovery", (json_t *)v);
	if ((v = json_object_get(t->info, "container")))
		json_object_set(o, "container", (json_t *)v);
	if ((v = json_object_get(json_object_get(t->info, "command"), "user")))
		json_object_set(o, "user", (json_t *)v);
	return o;
}

/* A v1 Task (re-registration, operator API). */
json_t *
state_v1_task(const struct agent *a, const struct task *t)
{
	const struct executor *ex = t->ex;
	struct update_stream *s = updates_stream((struct agent *)a, ex->fw->id,
	    t->id);
	json_t *head = s ? json_array_get(s->pending, 0) : NULL;
	json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:s, s:O, s:O}",
	    "name", json_str_or(t->info, "name", ""), "task_id", mesos_id(t->id),
	    "framework_id", mesos_id(ex->fw->id), "agent_id", mesos_id(a->id),
	    "state", t->state, "resources", json_object_get(t->info, "resources") ?
	    json_object_get(t->info, "resources") : json_array(), "statuses",
	    t->statuses);
	const char *keys[] = { "labels", "discovery", "container",
		"health_check", "kill_policy" };

	if (!ex->command)
		json_object_set_new(o, "executor_id", mesos_id(ex->id));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(t->info, keys[i]))
			json_object_set(o, keys[i], json_object_get(t->info, keys[i]));
	if (head) {
		json_t *st = json_object_get(head, "status");

		json_object_set(o, "status_update_state", json_object_get(st,
		    "state"));
		json_object_set(o, "status_update_uuid", json_object_get(st,
		    "uuid"));
	}
	return o;
}

static json_t *
queued_task_json(const struct task *t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "id", t->id,
	    "name", json_str_or(t->info, "name", ""), "slave_id", t->ex->a->id,
	    "resources", resources_summary(&t->res), "role", task_role(t),
	    "executor_id", t->ex->command ? "" : t->ex->id);

	if (json_object_get(t->info, "command"))
		json_object_set(o, "command", json_object_get(t->info, "command"));
	if (json_object_get(t->info, "discovery"))
		json_object_set(o, "discovery", json_object_get(t->info,
		    "discovery"));
	return o;
}

static json_t *
executor_json(const struct executor *ex)
{
	struct resources total;
	json_t *tasks = json_array(), *queued = json_array(), *done = json_array();
	const struct task *t;
	json_t *o;

	resources_init(&total);
	resources_copy(&total, &ex->res);
	TAILQ_FOREACH(t, &ex->queued, link) {
		json_array_append_new(queued, queued_task_json(t));
		resources_add(&total, &t->res);
	}
	TAILQ_FOREACH(t, &ex->launched, link) {
		json_array_append_new(tasks, state_task_json(t));
		resources_add(&total, &t->res);
	}
	TAILQ_FOREACH(t, &ex->terminated, link)
		json_array_append_new(tasks, state_task_json(t));
	TAILQ_FOREACH(t, &ex->completed, link)
		json_array_append_new(done, state_task_json(t));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
	    "id", ex->id, "name", json_str_or(ex->info, "name", ""), "source",
	    json_str_or(ex->info, "source", ""), "container", ex->container_id,
	    "directory", ex->directory ? ex->directory : "", "resources",
	    resources_summary(&total), "tasks", tasks, "queued_tasks", queued,
	    "completed_tasks", done);
	if (json_object_get(ex->info, "type"))
		json_object_set(o, "type", json_object_get(ex->info, "type"));
	if (json_object_get(json_object_get(ex->info, "labels"), "labels"))
		json_object_set(o, "labels", json_object_get(json_object_get(
		    ex->info, "labels"), "labels"));
	resources_free(&total);
	return o;
}

static json_t *
framework_json(const struct framework *fw)
{
	json_t *exs = json_array(), *done = json_array();
	const struct executor *ex;
	const json_t *info = fw->info;
	json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:b, s:s}", "id", fw->id,
	    "name", json_str_or(info, "name", ""), "user", json_str_or(info,
	    "user", ""), "failover_timeout", json_num_or(info,
	    "failover_timeout", 0), "checkpoint", json_is_true(json_object_get(
	    info, "checkpoint")), "hostname", json_str_or(info, "hostname", ""));

	TAILQ_FOREACH(ex, &fw->executors, link)
		json_array_append_new(exs, executor_json(ex));
	TAILQ_FOREACH(ex, &fw->completed, link)
		json_array_append_new(done, executor_json(ex));
	if (json_object_get(info, "principal"))
		json_object_set(o, "principal", json_object_get(info, "principal"));
	if (json_array_size(json_object_get(info, "roles")))
		json_object_set(o, "roles", json_object_get(info, "roles"));
	else
		json_object_set_new(o, "role", json_string(json_str_or(info, "role",
		    "*")));
	json_object_set_new(o, "executors", exs);
	json_object_set_new(o, "completed_executors", done);
	return o;
}

static json_t *
flags_json(const struct agent *a)
{
	json_t *f = flags_to_json(a->spec);
	char v[16];

	json_object_set_new(f, "isolation", json_string(a->iso.isolation));
	snprintf(v, sizeof(v), "%d", (int)a->iso.cg.version);
	json_object_set_new(f, "cgroups_version", json_string(v));
	if (a->iso.cg.version != CG_NONE) {
		json_object_set_new(f, "cgroups_memory_root",
		    json_string(a->iso.cg.mem));
		json_object_set_new(f, "cgroups_cpu_root",
		    json_string(a->iso.cg.cpu));
	}
	json_object_set_new(f, "isolation_pid_namespace",
	    json_string(a->iso.pid_ns ? "true" : "false"));
	if (a->iso.notes[0])
		json_object_set_new(f, "isolation_notes",
		    json_string(a->iso.notes));
	json_object_set_new(f, "work_dir", json_string(a->f.work_dir));
	return f;
}

/* The resources tasks use, split by reservation. */
static void
allocated(const struct agent *a, struct resources *out)
{
	const struct framework *fw;
	const struct executor *ex;
	const struct task *t;

	resources_init(out);
	TAILQ_FOREACH(fw, &a->frameworks, link)
		TAILQ_FOREACH(ex, &fw->executors, link) {
			if (ex->state == EXEC_TERMINATED)
				continue;
			resources_add(out, &ex->res);
			TAILQ_FOREACH(t, &ex->queued, link)
				resources_add(out, &t->res);
			TAILQ_FOREACH(t, &ex->launched, link)
				resources_add(out, &t->res);
		}
}

static json_t *
unreserved(const struct resources *r, bool full)
{
	struct resources u;
	json_t *o;

	resources_init(&u);
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].role, "*") == 0) {
			struct resources one = { .v = (struct resource *)&r->v[i],
				.n = 1 };

			resources_add(&u, &one);
		}
	o = full ? resources_to_v1(&u, NULL) : resources_summary(&u);
	resources_free(&u);
	return o;
}

static json_t *
reserved_full(const struct resources *r)
{
	json_t *o = json_object();

	for (size_t i = 0; i < r->n; i++) {
		struct resources one = { .v = (struct resource *)&r->v[i], .n = 1 };
		json_t *arr;

		if (strcmp(r->v[i].role, "*") == 0)
			continue;
		if ((arr = json_object_get(o, r->v[i].role)) == NULL) {
			arr = json_array();
			json_object_set_new(o, r->v[i].role, arr);
		}
		{
			json_t *v1 = resources_to_v1(&one, NULL);

			json_array_extend(arr, v1);
			json_decref(v1);
		}
	}
	return o;
}

static json_t *
state_json(const struct agent *a)
{
	json_t *fws = json_array(), *done = json_array(), *o;
	const struct framework *fw;
	struct resources alloc;
	char tag[64];

	allocated(a, &alloc);
	TAILQ_FOREACH(fw, &a->frameworks, link)
		json_array_append_new(fws, framework_json(fw));
	TAILQ_FOREACH(fw, &a->completed_frameworks, link)
		json_array_append_new(done, framework_json(fw));
	snprintf(tag, sizeof(tag), "dcos-c-%s", DCOS_VERSION);
	o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:f, s:s, s:s, s:s, s:[sss],"
	    " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "version", MESOS_VERSION, "build_date", __DATE__ " " __TIME__,
	    "build_time", 0, "build_user", "dcos-c", "git_tag", tag,
	    "start_time", a->start_time, "id", a->id, "pid", a->pid,
	    "hostname", a->hostname, "capabilities", "MULTI_ROLE",
	    "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT",
	    "resources", resources_summary(&a->total),
	    "reserved_resources", resources_reserved_summary(&a->total),
	    "unreserved_resources", unreserved(&a->total, false),
	    "reserved_resources_full", reserved_full(&a->total),
	    "unreserved_resources_full", unreserved(&a->total, true),
	    "reserved_resources_allocated", resources_reserved_summary(&alloc),
	    "unreserved_resources_allocated", unreserved(&alloc, false),
	    "attributes", attributes_summary(&a->attrs),
	    "flags", flags_json(a), "frameworks", fws,
	    "completed_frameworks", done);
	if (a->m.master_id[0] || a->m.hostname[0])
		json_object_set_new(o, "master_hostname", json_string(a->m.hostname));
	json_object_set_new(o, "registration_state",
	    json_string(state_name(a->state)));
	resources_free(&alloc);
	return o;
}

static void
reply_jsonp(struct http_req *req, json_t *body)
{
	const char *cb = http_req_query(req, "jsonp");

	if (cb && cb[0]) {
		char *text = json_compact(body);
		char *out;
		int n;

		json_decref(body);
		if ((n = asprintf(&out, "%s(%s);", cb, text)) < 0)
			abort();
		http_reply(req, 200, "text/javascript", out, (size_t)n);
		free(text);
		free(out);
		return;
	}
	http_reply_json(req, 200, body);
}

static void
h_state(struct http_req *req, void *arg)
{
	reply_jsonp(req, state_json(arg));
}

static void
h_flags(struct http_req *req, void *arg)
{
	reply_jsonp(req, json_pack("{s:o}", "flags", flags_json(arg)));
}

static json_t *
version_json(void)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "dcos-c-%s", DCOS_VERSION);
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "version", MESOS_VERSION,
	    "build_date", __DATE__ " " __TIME__, "build_time", 0, "build_user",
	    "dcos-c", "git_tag", tag);
}

static void
h_version(struct http_req *req, void *arg)
{
	reply_jsonp(req, version_json());
}

static void
h_health(struct http_req *req, void *arg)
{
	http_reply_empty(req, 200);
}

/* --- v1 operator API (the reading calls) --- */

static json_t *
v1_frameworks(const struct agent *a)
{
	json_t *fws = json_array(), *done = json_array();
	const struct framework *fw;

	TAILQ_FOREACH(fw, &a->frameworks, link)
		json_array_append_new(fws, json_pack("{s:O}", "framework_info",
		    fw->info));
	TAILQ_FOREACH(fw, &a->completed_frameworks, link)
		json_array_append_new(done, json_pack("{s:O}", "framework_info",
		    fw->info));
	return json_pack("{s:o, s:o}", "frameworks", fws, "completed_frameworks",
	    done);
}

static json_t *
v1_executors(const struct agent *a)
{
	json_t *exs = json_array(), *done = json_array();
	const struct framework *fw;
	const struct executor *ex;

	TAILQ_FOREACH(fw, &a->frameworks, link) {
		TAILQ_FOREACH(ex, &fw->executors, link)
			json_array_append_new(exs, json_pack("{s:O}",
			    "executor_info", ex->info));
		TAILQ_FOREACH(ex, &fw->completed, link)
			json_array_append_new(done, json_pack("{s:O}",
			    "executor_info", ex->info));
	}
	return json_pack("{s:o, s:o}", "executors", exs, "completed_executors",
	    done);
}

static json_t *
v1_tasks(const struct agent *a)
{
	json_t *pending = json_array(), *queued = json_array(),
	    *launched = json_array(), *terminated = json_array(),
	    *completed = json_array();
	const struct framework *fw;
	const struct executor *ex;
	const struct task *t;

	TAILQ_FOREACH(fw, &a->frameworks, link) {
		TAILQ_FOREACH(ex, &fw->executors, link) {
			TAILQ_FOREACH(t, &ex->queued, link)
				json_array_append(queued, t->info);
			TAILQ_FOREACH(t, &ex->launched, link)
				json_array_append_new(launched, state_v1_task(a, t));
			TAILQ_FOREACH(t, &ex->terminated, link)
				json_array_append_new(terminated, state_v1_task(a, t));
			TAILQ_FOREACH(t, &ex->completed, link)
				json_array_append_new(completed, state_v1_task(a, t));
		}
		TAILQ_FOREACH(ex, &fw->completed, link)
			TAILQ_FOREACH(t, &ex->completed, link)
				json_array_append_new(completed, state_v1_task(a, t));
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "pending_tasks", pending,
	    "queued_tasks", queued, "launched_tasks", launched,
	    "terminated_tasks", terminated, "completed_tasks", completed);
}

static void
h_api_v1(struct http_req *req, void *arg)
{
	struct agent *a = arg;
	const char *ct = http_req_header(req, "Content-Type");
	json_t *call, *resp = NULL;
	const char *type;

	if (ct == NULL || strncmp(ct, "application/json", 16) != 0) {
		http_reply_error(req, ct ? 415 : 400, "Expecting 'Content-Type' of "
		    "application/json");
		return;
	}
	if ((call = http_req_json(req)) == NULL)
		return;
	type = json_string_value(json_object_get(call, "type"));
	if (type == NULL) {
		http_reply_error(req, 400, "Expecting 'type' to be present");
	} else if (strcmp(type, "GET_HEALTH") == 0) {
		resp = json_pack("{s:s, s:{s:b}}", "type", type, "get_health",
		    "healthy", 1);
	} else if (strcmp(type, "GET_VERSION") == 0) {
		resp = json_pack("{s:s, s:{s:o}}", "type", type, "get_version",
		    "version_info", version_json());
	} else if (strcmp(type, "GET_FLAGS") == 0) {
		json_t *flags = json_array(), *f = flags_json(a);
		const char *k;
		json_t *v;

		json_object_foreach(f, k, v)
			json_array_append_new(flags, json_pack("{s:s, s:O}", "name",
			    k, "value", v));
		json_decref(f);
		resp = json_pack("{s:s, s:{s:o}}", "type", type, "get_flags",
		    "flags", flags);
	} else if (strcmp(type, "GET_AGENT") == 0) {
		json_t *info = state_agent_info(a);

		json_object_set_new(info, "id", mesos_id(a->id));
		resp = json_pack("{s:s, s:{s:o}}", "type", type, "get_agent",
		    "agent_info", info);
	} else if (strcmp(type, "GET_FRAMEWORKS") == 0) {
		resp = json_pack("{s:s, s:o}", "type", type, "get_frameworks",
		    v1_frameworks(a));
	} else if (strcmp(type, "GET_EXECUTORS") == 0) {
		resp = json_pack("{s:s, s:o}", "type", type, "get_executors",
		    v1_executors(a));
	} else if (strcmp(type, "GET_TASKS") == 0) {
		resp = json_pack("{s:s, s:o}", "type", type, "get_tasks",
		    v1_tasks(a));
	} else if (strcmp(type, "GET_STATE") == 0) {
		resp = json_pack("{s:s, s:{s:o, s:o, s:o}}", "type", type,
		    "get_state", "get_tasks", v1_tasks(a), "get_executors",
		    v1_executors(a), "get_frameworks", v1_frameworks(a));
	} else {
		http_reply_error(req, 501, "Agent API call '%s' is not "
		    "implemented", type);
	}
	if (resp)
		http_reply_json(req, 200, resp);
	json_decref(call);
}

void
state_routes(struct agent *a)
{
	const char *state[] = { "/state", "/state.json", "/slave(1)/state",
		"/slave(1)/state.json" };

	for (size_t i = 0; i < 4; i++)
		http_server_route(a->http, "GET", state[i], h_state, a);
	http_server_route(a->http, "GET", "/flags", h_flags, a);
	http_server_route(a->http, "GET", "/slave(1)/flags", h_flags, a);
	http_server_route(a->http, "GET", "/version", h_version, a);
	http_server_route(a->http, "GET", "/health", h_health, a);
	http_server_route(a->http, "GET", "/slave(1)/health", h_health, a);
	http_server_route(a->http, "POST", "/api/v1", h_api_v1, a);
	http_server_route(a->http, "POST", "/slave(1)/api/v1", h_api_v1, a);
}
