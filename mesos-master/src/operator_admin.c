/*
 * operator_admin: the operator calls beyond the state reads of
 * operator_api.c, as a Mesos 1.5 master answers them:
 *   GET_WEIGHTS, UPDATE_WEIGHTS   role weights (weights.c, the registry)
 *   GET_LOGGING_LEVEL, SET_LOGGING_LEVEL
 *                                 level > 0 logs at debug for the duration,
 *                                 then the --log_level comes back
 *   LIST_FILES, READ_FILE         the master serves no files (it logs to
 *                                 the journal): every path is 404
 *                                 (these four are answered by any master,
 *                                 about itself; the rest by the leader)
 *   GET_OPERATIONS, GET_QUOTA, GET_MAINTENANCE_STATUS,
 *   GET_MAINTENANCE_SCHEDULE      truthfully empty: see below
 * Dynamic reservations, persistent volumes, quota and maintenance are not
 * part of this master (agents reserve statically with --resources; DRF
 * shares by weight): their write calls get 501 naming the feature, and
 * change nothing. Other names are not Mesos calls: 400.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/store.h"
#include "master.h"

static void
reply(struct http_req *req, const char *type, const char *key, json_t *v)
{
	json_t *out = json_pack("{s:s}", "type", type);

	json_object_set_new(out, key, v);
	http_reply_json(req, 200, out);
}

/* --- weights --- */

struct weights_req {
	struct http_req *req;
	json_t *weights; /* {"role": weight} */
};

static void
weights_written(struct master *m, int code, void *arg)
{
	struct weights_req *w = arg;
	const char *role;
	json_t *v;

	if (code == STORE_OK) {
		json_object_foreach(w->weights, role, v) {
			weights_set(m, role, json_number_value(v));
			log_notice("operator: role %s now has weight %g", role,
			    json_number_value(v));
		}
		http_reply_empty(w->req, 200);
	} else {
		http_reply_error(w->req, 503, "the registry could not store the "
		    "weights (store error %d); nothing changed", code);
	}
	json_decref(w->weights);
	free(w);
}

/* All weights are checked, then written in one registry transaction and
 * applied once committed. Like SUBSCRIBE's, the reply is lost if this
 * master steps down before the commit (the registry drops pending writes);
 * the client sees its connection end and asks the new leader. */
static void
update_weights(struct master *m, struct http_req *req, const json_t *body)
{
	const json_t *infos = json_object_get(json_object_get(body,
	    "update_weights"), "weight_infos"), *info;
	struct weights_req *wr;
	json_t *weights;
	size_t i;

	if (!json_is_array(infos) || json_array_size(infos) == 0) {
		http_reply_error(req, 400, "update_weights.weight_infos: a "
		    "non-empty list of {\"role\", \"weight\"} is required");
		return;
	}
	weights = json_object();
	json_array_foreach(infos, i, info) {
		const char *role = json_str_or(info, "role", NULL);
		const json_t *w = json_object_get(info, "weight");

		if (role == NULL || !sched_valid_role(role) ||
		    !config_role_allowed(m, role)) {
			http_reply_error(req, 400, "update_weights.weight_infos[%zu]."
			    "role: '%s' is not a valid role%s", i, role ? role : "",
			    m->f.roles ? " of --roles" : "");
			json_decref(weights);
			return;
		}
		if (!json_is_number(w) || !(json_number_value(w) > 0) ||
		    !isfinite(json_number_value(w))) {
			http_reply_error(req, 400, "update_weights.weight_infos[%zu]."
			    "weight: a positive number is required", i);
			json_decref(weights);
			return;
		}
		json_object_set_new(weights, role, json_real(json_number_value(w)));
	}
	wr = xcalloc(1, sizeof(*wr));
	wr->req = req;
	wr->weights = weights;
	registry_put_weights(m, weights, weights_written, wr);
}

/* --- logging level --- */

/* glog verbosity, as Mesos reports it: 1 while we log at debug */
static int
verbosity(void)
{
	return log_get_level() >= LOG_LVL_DEBUG ? 1 : 0;
}

static void
on_log_revert(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	log_set_level(m->log_base);
	log_notice("operator: logging level back to --log_level");
}

static void
set_logging_level(struct master *m, struct http_req *req, const json_t *body)
{
	const json_t *s = json_object_get(body, "set_logging_level");
	const json_t *level = json_object_get(s, "level");
	const json_t *ns = json_object_get(json_object_get(s, "duration"),
	    "nanoseconds");
	struct timeval tv;
	double secs;

	if (!json_is_integer(level) || json_integer_value(level) < 0) {
		http_reply_error(req, 400, "set_logging_level.level: a verbosity "
		    "level (0 or more) is required");
		return;
	}
	if (!json_is_integer(ns) || json_integer_value(ns) <= 0) {
		http_reply_error(req, 400, "set_logging_level.duration.nanoseconds:"
		    " a positive duration is required");
		return;
	}
	secs = (double)json_integer_value(ns) / 1e9;
	if (m->log_revert == NULL)
		m->log_revert = evtimer_new(m->base, on_log_revert, m);
	log_set_level(json_integer_value(level) > 0 ? LOG_LVL_DEBUG :
	    m->log_base);
	tv = clock_tv(secs);
	evtimer_add(m->log_revert, &tv);
	log_notice("operator: logging verbosity %lld for %.0f s",
	    (long long)json_integer_value(level), secs);
	http_reply_empty(req, 200);
}

void
operator_admin_close(struct master *m)
{
	if (m->log_revert)
		event_free(m->log_revert);
	m->log_revert = NULL;
}

/* --- the rest --- */

static const struct {
	const char *call, *feature;
} unsupported[] = {
	{ "RESERVE_RESOURCES", "dynamic reservations (agents reserve "
	  "statically, with a role in --resources)" },
	{ "UNRESERVE_RESOURCES", "dynamic reservations (agents reserve "
	  "statically, with a role in --resources)" },
	{ "CREATE_VOLUMES", "persistent volumes" },
	{ "DESTROY_VOLUMES", "persistent volumes" },
	{ "SET_QUOTA", "quota (roles share by DRF weight: UPDATE_WEIGHTS)" },
	{ "REMOVE_QUOTA", "quota (roles share by DRF weight: UPDATE_WEIGHTS)" },
	{ "UPDATE_MAINTENANCE_SCHEDULE", "maintenance (inverse offers)" },
	{ "START_MAINTENANCE", "maintenance (inverse offers)" },
	{ "STOP_MAINTENANCE", "maintenance (inverse offers)" },
};

bool
operator_admin_local(const char *type)
{
	return !strcmp(type, "GET_LOGGING_LEVEL") ||
	    !strcmp(type, "SET_LOGGING_LEVEL") || !strcmp(type, "LIST_FILES") ||
	    !strcmp(type, "READ_FILE");
}

void
operator_admin_call(struct master *m, struct http_req *req, const char *type,
    const json_t *body)
{
	if (!strcmp(type, "GET_WEIGHTS")) {
		reply(req, type, "get_weights", weights_json(m));
	} else if (!strcmp(type, "UPDATE_WEIGHTS")) {
		update_weights(m, req, body);
	} else if (!strcmp(type, "GET_LOGGING_LEVEL")) {
		reply(req, type, "get_logging_level", json_pack("{s:i}", "level",
		    verbosity()));
	} else if (!strcmp(type, "SET_LOGGING_LEVEL")) {
		set_logging_level(m, req, body);
	} else if (!strcmp(type, "LIST_FILES") || !strcmp(type, "READ_FILE")) {
		const char *path = json_str_or(json_object_get(body,
		    !strcmp(type, "LIST_FILES") ? "list_files" : "read_file"),
		    "path", NULL);

		if (path == NULL)
			http_reply_error(req, 400, "%s: 'path' is required", type);
		else
			http_reply_error(req, 404, "'%s' is not a file or directory "
			    "this master serves: it logs to the journal "
			    "(journalctl -u dcos-mesos-master)", path);
	} else if (!strcmp(type, "GET_OPERATIONS")) {
		/* ACCEPT takes LAUNCH and LAUNCH_GROUP only, without ids */
		reply(req, type, "get_operations", json_pack("{s:[]}",
		    "operations"));
	} else if (!strcmp(type, "GET_QUOTA")) {
		reply(req, type, "get_quota", json_pack("{s:{s:[]}}", "status",
		    "infos"));
	} else if (!strcmp(type, "GET_MAINTENANCE_STATUS")) {
		reply(req, type, "get_maintenance_status", json_pack("{s:{s:[], "
		    "s:[]}}", "status", "draining_machines", "down_machines"));
	} else if (!strcmp(type, "GET_MAINTENANCE_SCHEDULE")) {
		reply(req, type, "get_maintenance_schedule", json_pack("{s:{s:[]}}",
		    "schedule", "windows"));
	} else {
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported);
		    i++)
			if (!strcmp(type, unsupported[i].call)) {
				http_reply_error(req, 501, "%s: this master does not "
				    "support %s; nothing was changed", type,
				    unsupported[i].feature);
				return;
			}
		http_reply_error(req, 400, "Failed to validate master::Call: "
		    "unknown call type '%s'", type);
	}
}
