/*
 * operator_api: POST /api/v1, the v1 operator API in JSON:
 *   GET_HEALTH, GET_VERSION, GET_FLAGS, GET_METRICS, GET_MASTER (any master)
 *   GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS, GET_TASKS,
 *   GET_ROLES, SUBSCRIBE, TEARDOWN, MARK_AGENT_GONE (leader; followers 307)
 * Responses are {"type": "<CALL>", "<call>": {...}}; the other calls are
 * operator_admin.c's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dcos/flags.h"
#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

json_t *metrics_snapshot(struct master *m);

static void
reply_call(struct http_req *req, const char *type, const char *key,
    json_t *payload)
{
	json_t *out = json_pack("{s:s}", "type", type);

	if (payload)
		json_object_set_new(out, key, payload);
	http_reply_json(req, 200, out);
}

static json_t *
version_info(void)
{
	return json_pack("{s:{s:s, s:s, s:f, s:s}}", "version_info", "version",
	    DCOS_MESOS_VERSION, "build_date", __DATE__, "build_time",
	    0.0, "build_user", "dcos-c " DCOS_VERSION);
}

static json_t *
flags_list(struct master *m)
{
	json_t *flags = flags_to_json(m->spec), *list = json_array(), *v;
	const char *k;

	json_object_foreach(flags, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "name", k,
		    "value", v));
	json_decref(flags);
	return json_pack("{s:o}", "flags", list);
}

static json_t *
metrics_list(struct master *m)
{
	json_t *snap = metrics_snapshot(m), *list = json_array(), *v;
	const char *k;

	json_object_foreach(snap, k, v)
		json_array_append_new(list, json_pack("{s:s, s:O}", "name", k,
		    "value", v));
	json_decref(snap);
	return json_pack("{s:o}", "metrics", list);
}

static json_t *
roles(struct master *m)
{
	struct strmap *seen = strmap_new();
	json_t *list = json_array();
	void *v;

	for (size_t it = 0; strmap_next(m->frameworks, &it, NULL, &v);) {
		struct framework *fw = v;

		for (size_t i = 0; i < fw->nroles; i++) {
			json_t *r = strmap_get(seen, fw->roles[i]);

			if (r == NULL) {
				r = json_pack("{s:s, s:f, s:[], s:[]}", "name",
				    fw->roles[i], "weight", weights_get(m,
				    fw->roles[i]), "frameworks", "resources");
				json_array_append_new(list, r);
				strmap_put(seen, fw->roles[i], r);
			}
			json_array_append_new(json_object_get(r, "frameworks"),
			    v1_id(fw->id));
		}
	}
	strmap_free(seen);
	return json_pack("{s:o}", "roles", list);
}

static const char *
id_value(const json_t *body, const char *call_key, const char *id_key)
{
	return json_str_or(json_object_get(json_object_get(body, call_key),
	    id_key), "value", NULL);
}

static void
h_operator(struct http_req *req, void *arg)
{
	struct master *m = arg;
	const char *ctype = http_req_header(req, "Content-Type");
	const char *type;
	json_t *body;

	if (ctype == NULL || strncasecmp(ctype, "application/json", 16) != 0) {
		http_reply_error(req, ctype ? 415 : 400, "Expecting 'Content-Type' "
		    "of application/json%s", ctype ? " (protobuf is not spoken "
		    "here)" : " to be present");
		return;
	}
	if ((body = http_req_json(req)) == NULL)
		return;
	type = json_str_or(body, "type", NULL);
	if (type == NULL) {
		http_reply_error(req, 400, "Failed to validate master::Call: "
		    "'type' is required");
		goto out;
	}
	/* answered by any master */
	if (!strcmp(type, "GET_HEALTH")) {
		reply_call(req, type, "get_health", json_pack("{s:b}", "healthy", 1));
		goto out;
	} else if (!strcmp(type, "GET_VERSION")) {
		reply_call(req, type, "get_version", version_info());
		goto out;
	} else if (!strcmp(type, "GET_FLAGS")) {
		reply_call(req, type, "get_flags", flags_list(m));
		goto out;
	} else if (!strcmp(type, "GET_METRICS")) {
		reply_call(req, type, "get_metrics", metrics_list(m));
		goto out;
	} else if (!strcmp(type, "GET_MASTER")) {
		reply_call(req, type, "get_master", json_pack("{s:o}",
		    "master_info", master_info_v1(m)));
		goto out;
	}
	if (operator_admin_local(type)) {
		operator_admin_call(m, req, type, body);
		goto out;
	}
	if (leader_guard_http(m, req) == -1)
		goto out;
	if (!strcmp(type, "GET_STATE")) {
		reply_call(req, type, "get_state", v1_get_state(m));
	} else if (!strcmp(type, "GET_AGENTS")) {
		reply_call(req, type, "get_agents", v1_get_agents(m));
	} else if (!strcmp(type, "GET_FRAMEWORKS")) {
		reply_call(req, type, "get_frameworks", v1_get_frameworks(m));
	} else if (!strcmp(type, "GET_EXECUTORS")) {
		reply_call(req, type, "get_executors", v1_get_executors(m));
	} else if (!strcmp(type, "GET_TASKS")) {
		reply_call(req, type, "get_tasks", v1_get_tasks(m));
	} else if (!strcmp(type, "GET_ROLES")) {
		reply_call(req, type, "get_roles", roles(m));
	} else if (!strcmp(type, "SUBSCRIBE")) {
		events_opsub_start(m, req);
	} else if (!strcmp(type, "TEARDOWN")) {
		const char *id = id_value(body, "teardown", "framework_id");
		struct framework *fw = framework_find(m, id);

		if (fw == NULL) {
			http_reply_error(req, id ? 400 : 400, id ? "Framework '%s' "
			    "cannot be found" : "teardown.framework_id%s: is required",
			    id ? id : "");
			goto out;
		}
		framework_remove(m, fw, "an operator asked for TEARDOWN");
		http_reply_empty(req, 200);
	} else if (!strcmp(type, "MARK_AGENT_GONE")) {
		const char *id = id_value(body, "mark_agent_gone", "agent_id");
		struct agent *a = agent_find(m, id);

		if (a == NULL) {
			http_reply_error(req, 400, id ? "Agent '%s' cannot be found" :
			    "mark_agent_gone.agent_id%s: is required", id ? id : "");
			goto out;
		}
		agents_mark_gone(m, a, true);
		http_reply_empty(req, 200);
	} else {
		operator_admin_call(m, req, type, body);
	}
out:
	json_decref(body);
}

void
operator_route(struct master *m, struct http_server *srv)
{
	http_server_route(srv, "POST", "/api/v1", h_operator, m);
	http_server_route(srv, "POST", "/master/api/v1", h_operator, m);
}
