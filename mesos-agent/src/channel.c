/*
 * channel: the master's requests to this agent over nng REP
 * (mesos-master/AGENT_PROTOCOL.md, "Master -> agent"). Each message is
 * checked here, at the edge, and handed to launch.c / updates.c as plain
 * values; anything malformed gets {"type":"ERROR","message":...} and
 * changes nothing. Every message is safe to receive twice.
 */
#include <stdio.h>
#include <string.h>

#include "dcos/ipc.h"
#include "dcos/log.h"

#include "agent.h"

static json_t *
error_reply(const char *fmt, const char *arg)
{
	char msg[1024];

	if (snprintf(msg, sizeof(msg), fmt, arg) < 0)
		msg[0] = '\0';
	return json_pack("{s:s, s:s}", "type", "ERROR", "message", msg);
}

static json_t *
ok(void)
{
	return json_pack("{s:s}", "type", "OK");
}

/* The id member key ({"value": ...}, or a plain string, which some
 * senders use), validated as a Mesos id. */
static const char *
need_id(const json_t *msg, const char *key, char *err, size_t errlen)
{
	const char *v = mesos_id_get(msg, key);
	char why[256];

	if (v == NULL)
		v = json_string_value(json_object_get(msg, key));
	if (v == NULL) {
		snprintf(err, errlen, "'%s' is missing", key);
		return NULL;
	}
	if (mesos_id_valid(v, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "'%s': %s", key, why);
		return NULL;
	}
	return v;
}

static bool
registered(struct agent *a)
{
	return a->id[0] != '\0' && (a->state == AGENT_RUNNING ||
	    a->state == AGENT_REGISTERING || a->state == AGENT_DISCONNECTED);
}

static json_t *
on_run_task(struct agent *a, const json_t *msg, bool group)
{
	const json_t *fw = json_object_get(msg, "framework_info");
	const json_t *task = json_object_get(msg, "task");
	const json_t *executor = json_object_get(msg, "executor");
	const json_t *tg = json_object_get(msg, "task_group");
	char err[512];

	log_debug("channel: %s received", group ? "RUN_TASK_GROUP" : "RUN_TASK");
	if (!registered(a))
		return error_reply("agent is %s, not registered", state_name(a->state));
	if (!json_is_object(fw) || need_id(fw, "id", err, sizeof(err)) == NULL)
		return error_reply("framework_info: %s", json_is_object(fw) ? err :
		    "missing");
	if (group) {
		if (!json_is_object(executor) || !json_is_object(tg) ||
		    !json_is_array(json_object_get(tg, "tasks")) ||
		    json_array_size(json_object_get(tg, "tasks")) == 0)
			return error_reply("%s", "RUN_TASK_GROUP needs 'executor' and "
			    "a non-empty 'task_group.tasks'");
		task = NULL;
	} else if (!json_is_object(task)) {
		return error_reply("%s", "RUN_TASK needs 'task'");
	}
	if (a->state == AGENT_TERMINATING)
		return error_reply("%s", "agent is shutting down");
	if (launch_task(a, fw, task, group ? executor : NULL, group ? tg : NULL,
	    err, sizeof(err)) == -1) {
		log_warn("refused a task from the master: %s", err);
		return error_reply("%s", err);
	}
	return ok();
}

static json_t *
on_kill_task(struct agent *a, const json_t *msg)
{
	char err[256];
	const char *fw = need_id(msg, "framework_id", err, sizeof(err));
	const char *task = fw ? need_id(msg, "task_id", err, sizeof(err)) : NULL;

	if (task == NULL)
		return error_reply("KILL_TASK: %s", err);
	launch_kill_task(a, fw, task, json_object_get(msg, "kill_policy"));
	return ok();
}

static json_t *
on_ack(struct agent *a, const json_t *msg)
{
	char err[256];
	const char *fw = need_id(msg, "framework_id", err, sizeof(err));
	const char *task = fw ? need_id(msg, "task_id", err, sizeof(err)) : NULL;
	const char *uuid = json_string_value(json_object_get(msg, "uuid"));

	if (task == NULL)
		return error_reply("ACKNOWLEDGE_UPDATE: %s", err);
	if (uuid == NULL || uuid[0] == '\0')
		return error_reply("%s", "ACKNOWLEDGE_UPDATE: 'uuid' is missing");
	updates_ack(a, fw, task, uuid);
	return ok();
}

static json_t *
on_shutdown_framework(struct agent *a, const json_t *msg)
{
	char err[256];
	const char *fw = need_id(msg, "framework_id", err, sizeof(err));

	if (fw == NULL)
		return error_reply("SHUTDOWN_FRAMEWORK: %s", err);
	launch_shutdown_framework(a, fw);
	return ok();
}

static json_t *
on_shutdown_executor(struct agent *a, const json_t *msg)
{
	char err[256];
	const char *fw = need_id(msg, "framework_id", err, sizeof(err));
	const char *ex = fw ? need_id(msg, "executor_id", err, sizeof(err)) : NULL;
	struct framework *f;
	struct executor *e;

	if (ex == NULL)
		return error_reply("SHUTDOWN_EXECUTOR: %s", err);
	if ((f = framework_find(a, fw)) != NULL &&
	    (e = executor_find(f, ex)) != NULL)
		launch_shutdown_executor(a, e);
	else
		log_info("asked to shut down unknown executor %s of framework %s",
		    ex, fw);
	return ok();
}

static json_t *
on_message(struct agent *a, const json_t *msg)
{
	char err[256];
	const char *fw = need_id(msg, "framework_id", err, sizeof(err));
	const char *ex = fw ? need_id(msg, "executor_id", err, sizeof(err)) : NULL;
	const char *data = json_string_value(json_object_get(msg, "data"));

	if (ex == NULL)
		return error_reply("FRAMEWORK_MESSAGE: %s", err);
	if (data == NULL)
		return error_reply("%s", "FRAMEWORK_MESSAGE: 'data' is missing");
	launch_framework_message(a, fw, ex, data);
	return ok();
}

/* agent_id as {"value": ...} or a plain string */
static const char *
msg_agent_id(const json_t *msg)
{
	const char *aid = mesos_id_get(msg, "agent_id");

	return aid ? aid : json_string_value(json_object_get(msg, "agent_id"));
}

static json_t *
reregister_reply(const char *why)
{
	return json_pack("{s:s, s:b, s:s}", "type", "ERROR", "reregister", 1,
	    "message", why);
}

static json_t *
on_ping(struct agent *a, const json_t *msg)
{
	const char *mid = json_string_value(json_object_get(msg, "master_id"));
	const char *leader = json_string_value(json_object_get(msg, "leader"));

	if (a->id[0] == '\0' || a->state != AGENT_RUNNING) {
		return reregister_reply("agent is not registered");
	}
	if (mid && a->m.master_id[0] && strcmp(mid, a->m.master_id) != 0) {
		/* a newly elected master: go to it now */
		master_follow(a, leader, "a new leading master pinged");
		return reregister_reply("registered with another master");
	}
	master_ping(a, mid);
	return json_pack("{s:s}", "type", "PONG");
}

static void
on_request(struct ipc_pending *p, json_t *msg, void *arg)
{
	struct agent *a = arg;
	const char *type = json_string_value(json_object_get(msg, "type"));
	json_t *reply;

	const char *aid = json_is_object(msg) ? msg_agent_id(msg) : NULL;

	if (!json_is_object(msg) || type == NULL) {
		reply = error_reply("%s", "a message is a JSON object with a 'type'");
	} else if (aid && (a->id[0] == '\0' || strcmp(aid, a->id) != 0)) {
		/* for another agent (or an id we no longer have) */
		if (a->state == AGENT_RUNNING)
			master_reregister(a, "the master addressed another agent id");
		reply = reregister_reply("agent id does not match");
	} else if (strcmp(type, "RUN_TASK") == 0)
		reply = on_run_task(a, msg, false);
	else if (strcmp(type, "RUN_TASK_GROUP") == 0)
		reply = on_run_task(a, msg, true);
	else if (strcmp(type, "KILL_TASK") == 0)
		reply = on_kill_task(a, msg);
	else if (strcmp(type, "ACKNOWLEDGE_UPDATE") == 0)
		reply = on_ack(a, msg);
	else if (strcmp(type, "SHUTDOWN_FRAMEWORK") == 0)
		reply = on_shutdown_framework(a, msg);
	else if (strcmp(type, "SHUTDOWN_EXECUTOR") == 0)
		reply = on_shutdown_executor(a, msg);
	else if (strcmp(type, "FRAMEWORK_MESSAGE") == 0)
		reply = on_message(a, msg);
	else if (strcmp(type, "PING") == 0)
		reply = on_ping(a, msg);
	else
		reply = error_reply("unknown message type '%s'", type);
	if (strcmp(json_string_value(json_object_get(reply, "type")), "ERROR") == 0)
		log_debug("channel: %s from %s: %s", type ? type : "?",
		    ipc_pending_peer(p), json_string_value(json_object_get(reply,
		    "message")));
	ipc_reply(p, reply);
}

int
channel_start(struct agent *a, char *err, size_t errlen)
{
	char url[128];

	snprintf(url, sizeof(url), "tcp://%s:%d", a->f.ip, a->f.agent_channel_port);
	a->channel = ipc_rep_listen(a->base, url, on_request, a, err, errlen);
	return a->channel ? 0 : -1;
}
