/*
 * sched_calls: what each scheduler call does, on a parsed struct
 * sched_call and the framework it comes from (ACCEPT is in
 * sched_accept.c). SUBSCRIBE is committed to the registry before the
 * stream opens, so a framework id the master hands out survives a
 * failover.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

/* --- SUBSCRIBE --- */

struct pending_sub {
	struct master *m;
	struct http_req *req;
	char *fw_id;
	json_t *info;
	json_t *suppressed;
	unsigned election;
	bool existed;
};

static void
send_subscribed(struct master *m, struct framework *fw)
{
	json_t *ev = json_pack("{s:s, s:{s:o, s:f, s:o}}", "type", "SUBSCRIBED",
	    "subscribed", "framework_id", v1_id(fw->id),
	    "heartbeat_interval_seconds", m->f.heartbeat_interval, "master_info",
	    master_info_v1(m));

	framework_send(fw, ev);
	json_decref(ev);
}

static void
subscribed(struct master *m, int code, void *arg)
{
	struct pending_sub *ps = arg;
	struct framework *fw;
	struct http_stream *s;
	char sid[UUID_STR_LEN];
	bool failover;
	size_t i;
	json_t *r;

	if (code != 0 || ps->election != m->elections ||
	    m->role != ROLE_LEADER) {
		http_reply_error(ps->req, 503, "the framework could not be "
		    "recorded in the registry (%s); retry",
		    code ? "store unavailable" : "leadership changed");
		goto done;
	}
	fw = framework_find(m, ps->fw_id);
	failover = fw != NULL;
	if (fw == NULL) {
		fw = framework_new(m, ps->fw_id, ps->info);
		fw->registered_time = clock_wall();
	} else {
		framework_set_info(fw, ps->info);
		fw->reregistered_time = clock_wall();
		if (fw->registered_time == 0)
			fw->registered_time = fw->reregistered_time;
		if (fw->stream) {
			json_t *ev = json_pack("{s:s, s:{s:s}}", "type", "ERROR",
			    "error", "message", "Framework failed over");

			framework_send(fw, ev);
			json_decref(ev);
		}
	}
	ids_uuid4(sid);
	http_req_add_header(ps->req, "Mesos-Stream-Id", sid);
	http_req_add_header(ps->req, "Cache-Control", "no-cache");
	s = http_stream_start(ps->req, 200, "application/json",
	    HTTP_STREAM_RECORDIO, framework_stream_closed, fw);
	ps->req = NULL;
	framework_attach(fw, s, sid);
	log_notice("framework %s (%s, roles %s%s) %s", fw->id, fw->name,
	    fw->roles[0], fw->nroles > 1 ? ",..." : "", failover ?
	    "re-subscribed" : "subscribed");
	send_subscribed(m, fw);
	if (failover) {
		/* as Mesos: offers are rescinded and made again on failover */
		offers_rescind_framework(m, fw, false);
		frameworks_resend_updates(fw);
		events_framework_updated(m, fw);
	} else {
		events_framework_added(m, fw);
	}
	json_array_foreach(ps->suppressed, i, r)
		if (json_is_string(r))
			alloc_suppress(m->alloc, fw->alloc, json_string_value(r));
	offers_schedule(m);
done:
	free(ps->fw_id);
	json_decref(ps->info);
	json_decref(ps->suppressed);
	free(ps);
}

void
sched_subscribe(struct master *m, struct http_req *req, struct sched_call *c)
{
	const char *id = json_str_or(json_object_get(c->framework_info, "id"),
	    "value", NULL);
	struct pending_sub *ps;
	struct framework *fw, tmp;
	char newid[MASTER_MAX_ID];
	const json_t *roles = json_object_get(c->framework_info, "roles");
	size_t i;
	json_t *r;

	if (id && c->framework_id && strcmp(id, c->framework_id) != 0) {
		http_reply_error(req, 400, "'framework_id' (%s) differs from "
		    "'subscribe.framework_info.id' (%s)", c->framework_id, id);
		return;
	}
	if (!config_role_allowed(m, json_str_or(c->framework_info, "role", "*"))) {
		http_reply_error(req, 400, "Role '%s' is not present in the "
		    "master's --roles", json_str_or(c->framework_info, "role", ""));
		return;
	}
	json_array_foreach(roles, i, r)
		if (!config_role_allowed(m, json_string_value(r))) {
			http_reply_error(req, 400, "Role '%s' is not present in the "
			    "master's --roles", json_string_value(r));
			return;
		}
	if (id && framework_completed(m, id)) {
		http_reply_error(req, 403, "Framework %s has been removed; "
		    "subscribe without an id to start a new one", id);
		return;
	}
	if (id == NULL) {
		ids_framework(newid, sizeof(newid), m->id, m->next_framework++);
		id = newid;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		abort();
	ps->m = m;
	ps->req = req;
	ps->fw_id = strdup(id);
	ps->info = json_deep_copy(c->framework_info);
	json_object_set_new(ps->info, "id", v1_id(id));
	ps->suppressed = c->suppressed_roles ?
	    json_deep_copy(c->suppressed_roles) : json_array();
	ps->election = m->elections;
	fw = framework_find(m, id);
	ps->existed = fw != NULL;
	/* the registry record: the FrameworkInfo as it will be */
	memset(&tmp, 0, sizeof(tmp));
	tmp.id = ps->fw_id;
	tmp.info = ps->info;
	registry_put_framework(m, &tmp, subscribed, ps);
}

/* --- the other calls --- */

static void
decline(struct master *m, struct framework *fw, struct sched_call *c)
{
	for (size_t i = 0; i < c->noffer_ids; i++) {
		struct offer *o = offer_find(m, c->offer_ids[i]);
		struct agent *a;
		struct resources res;

		if (o == NULL || o->fw != fw) {
			log_debug("framework %s declined unknown offer %s", fw->id,
			    c->offer_ids[i]);
			continue;
		}
		a = o->agent;
		resources_copy(&res, &o->res);
		offer_remove(m, o, false, true);
		if (c->refuse_seconds > 0 && a->alloc)
			alloc_filter(m->alloc, fw->alloc, a->alloc, &res,
			    clock_mono() + c->refuse_seconds);
		resources_free(&res);
		m->metrics.offers_declined++;
	}
}

static void
to_agent(struct master *m, struct framework *fw, const char *agent_id,
    json_t *msg)
{
	struct agent *a = agent_find(m, agent_id);

	if (a == NULL || a->state != AGENT_ACTIVE) {
		log_info("framework %s: %s for agent %s dropped: the agent is not "
		    "active", fw->id, json_str_or(msg, "type", "?"), agent_id);
		json_decref(msg);
		return;
	}
	agent_send(m, a, msg, NULL, NULL);
}

int
sched_call(struct master *m, struct framework *fw, struct sched_call *c,
    char *err, size_t errlen)
{
	switch (c->type) {
	case CALL_TEARDOWN:
		framework_remove(m, fw, "the framework asked for TEARDOWN");
		break;
	case CALL_ACCEPT:
		sched_accept(m, fw, c);
		break;
	case CALL_DECLINE:
		decline(m, fw, c);
		break;
	case CALL_REVIVE:
		if (c->nroles == 0)
			alloc_revive(m->alloc, fw->alloc, NULL);
		for (size_t i = 0; i < c->nroles; i++)
			alloc_revive(m->alloc, fw->alloc, c->roles[i]);
		offers_schedule(m);
		break;
	case CALL_SUPPRESS:
		if (c->nroles == 0)
			alloc_suppress(m->alloc, fw->alloc, NULL);
		for (size_t i = 0; i < c->nroles; i++)
			alloc_suppress(m->alloc, fw->alloc, c->roles[i]);
		break;
	case CALL_KILL:
		tasks_kill(m, fw, c->task_id, c->agent_id, c->kill_policy);
		break;
	case CALL_SHUTDOWN:
		to_agent(m, fw, c->agent_id, json_pack("{s:s, s:o, s:o, s:o}",
		    "type", "SHUTDOWN_EXECUTOR", "agent_id", v1_id(c->agent_id),
		    "framework_id", v1_id(fw->id), "executor_id",
		    v1_id(c->executor_id)));
		break;
	case CALL_ACKNOWLEDGE:
		tasks_acknowledge(m, fw, c->agent_id, c->task_id, c->uuid);
		break;
	case CALL_RECONCILE:
		reconcile_tasks(m, fw, c->recon, c->nrecon);
		break;
	case CALL_MESSAGE:
		to_agent(m, fw, c->agent_id, json_pack("{s:s, s:o, s:o, s:o, s:s}",
		    "type", "FRAMEWORK_MESSAGE", "agent_id", v1_id(c->agent_id),
		    "framework_id", v1_id(fw->id), "executor_id",
		    v1_id(c->executor_id), "data", c->data));
		break;
	case CALL_REQUEST:
	case CALL_ACCEPT_INVERSE_OFFERS:
	case CALL_DECLINE_INVERSE_OFFERS:
		break; /* nothing to do: no inverse offers are ever made */
	case CALL_RECONCILE_OPERATIONS:
		reconcile_operations(m, fw, c->recon, c->nrecon);
		break;
	case CALL_ACKNOWLEDGE_OPERATION_STATUS:
		break; /* no operation status carries a uuid here: nothing waits */
	default:
		snprintf(err, errlen, "unexpected call %s", call_type_name(c->type));
		return 400;
	}
	return 202;
}
