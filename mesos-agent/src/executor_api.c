/*
 * executor_api: the Mesos v1 executor HTTP API, POST /api/v1/executor, so
 * our mesos-executor and any custom executor written against Mesos talk to
 * this agent the same way:
 *   SUBSCRIBE  -> 200 and a RecordIO stream of events (SUBSCRIBED, LAUNCH,
 *                 LAUNCH_GROUP, KILL, ACKNOWLEDGED, MESSAGE, SHUTDOWN); a
 *                 reconnecting executor lists its unacknowledged updates
 *                 and tasks
 *   UPDATE     -> 202 once the status update is checkpointed; ACKNOWLEDGED
 *                 follows on the stream
 *   MESSAGE    -> 202, relayed to the framework through the master
 * Content-Type must be application/json (protobuf gets 415), a bad call 400
 * with a message naming the problem.
 */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/log.h"

#include "agent.h"

void
executor_send(struct executor *ex, json_t *event)
{
	if (ex->stream && http_stream_record_json(ex->stream, event) == -1)
		ex->stream = NULL; /* dropped; on_stream_closed has run */
	json_decref(event);
}

void
executor_stream_close(struct executor *ex)
{
	if (ex->stream) {
		http_stream_end(ex->stream);
		ex->stream = NULL;
	}
}

static void
on_stream_closed(struct http_stream *s, void *arg)
{
	struct executor *ex = arg;

	if (ex->stream == s) {
		ex->stream = NULL;
		if (ex->state != EXEC_TERMINATED)
			log_info("executor %s of framework %s disconnected; waiting "
			    "for it to reconnect or exit", ex->id, ex->fw->id);
	}
}

void
executor_send_launch(struct executor *ex)
{
	struct task *t, *next;

	if (ex->stream == NULL || TAILQ_EMPTY(&ex->queued))
		return;
	if (ex->group) {
		json_t *tasks = json_array();

		TAILQ_FOREACH_SAFE(t, &ex->queued, link, next) {
			json_array_append(tasks, t->info);
			task_set_phase(t, PHASE_LAUNCHED);
		}
		executor_send(ex, json_pack("{s:s, s:{s:O, s:O, s:{s:o}}}", "type",
		    "LAUNCH_GROUP", "launch_group", "framework_info",
		    ex->fw->info, "executor", ex->info, "task_group", "tasks",
		    tasks));
		return;
	}
	TAILQ_FOREACH_SAFE(t, &ex->queued, link, next) {
		task_set_phase(t, PHASE_LAUNCHED);
		executor_send(ex, json_pack("{s:s, s:{s:O, s:O}}", "type", "LAUNCH",
		    "launch", "framework_info", ex->fw->info, "task", t->info));
	}
}

void
executor_send_kill(struct executor *ex, struct task *t)
{
	json_t *kill = json_pack("{s:o}", "task_id", mesos_id(t->id));

	if (t->kill_policy)
		json_object_set(kill, "kill_policy", t->kill_policy);
	t->kill_pending = false;
	executor_send(ex, json_pack("{s:s, s:o}", "type", "KILL", "kill", kill));
}

void
executor_send_shutdown(struct executor *ex)
{
	ex->shutdown_pending = false;
	executor_send(ex, json_pack("{s:s}", "type", "SHUTDOWN"));
}

static void
subscribe(struct agent *a, struct http_req *req, struct executor *ex,
    const json_t *call)
{
	const json_t *sub = json_object_get(call, "subscribe");
	const json_t *v;
	struct task *t, *next;
	json_t *info;
	size_t i;
	char err[512];

	if (ex->state == EXEC_TERMINATED) {
		http_reply_error(req, 400, "Executor '%s' of framework '%s' has "
		    "terminated", ex->id, ex->fw->id);
		return;
	}
	if (ex->stream) {
		log_info("executor %s subscribed again; closing its old stream",
		    ex->id);
		executor_send(ex, json_pack("{s:s, s:{s:s}}", "type", "ERROR",
		    "error", "message", "Received a new subscription"));
		executor_stream_close(ex);
	}
	ex->stream = http_stream_start(req, 200, "application/json",
	    HTTP_STREAM_RECORDIO, on_stream_closed, ex);
	if (ex->state == EXEC_LAUNCHING)
		ex->state = EXEC_RUNNING;
	if (ex->timer && ex->state == EXEC_RUNNING) {
		event_free(ex->timer);
		ex->timer = NULL;
	}
	info = state_agent_info(a);
	json_object_set_new(info, "id", mesos_id(a->id));
	executor_send(ex, json_pack("{s:s, s:{s:O, s:O, s:o, s:o, s:{s:s}}}",
	    "type", "SUBSCRIBED", "subscribed", "executor_info", ex->info,
	    "framework_info", ex->fw->info, "agent_id", mesos_id(a->id),
	    "agent_info", info, "container_id", "value", ex->container_id));
	if (ex->stream == NULL)
		return;
	log_info("executor %s of framework %s subscribed%s", ex->id, ex->fw->id,
	    ex->recovered ? " again after the agent restarted" : "");
	/* tasks it already has were launched, whatever we thought */
	json_array_foreach(json_object_get(sub, "unacknowledged_tasks"), i, v) {
		const char *tid = mesos_id_get(v, "task_id");

		if (tid && (t = executor_task(ex, tid)) != NULL &&
		    t->phase == PHASE_QUEUED)
			task_set_phase(t, PHASE_LAUNCHED);
	}
	json_array_foreach(json_object_get(sub, "unacknowledged_updates"), i, v) {
		const json_t *st = json_object_get(v, "status");

		if (!json_is_object(st) || updates_handle(a, ex->fw->id,
		    json_deep_copy(st), ex, err, sizeof(err)) == -1)
			log_warn("executor %s resent a bad update: %s", ex->id,
			    json_is_object(st) ? err : "no status");
	}
	if (ex->recovered) {
		ex->recovered = false;
		if (ex->timer) {
			event_free(ex->timer);
			ex->timer = NULL;
		}
		recover_executor_done(a, ex);
	}
	if (ex->stream == NULL)
		return;
	if (ex->shutdown_pending || ex->state == EXEC_TERMINATING) {
		executor_send_shutdown(ex);
		return;
	}
	executor_send_launch(ex);
	TAILQ_FOREACH_SAFE(t, &ex->launched, link, next)
		if (t->kill_pending && ex->stream)
			executor_send_kill(ex, t);
}

static int
check_status(const json_t *status, const char *ex_id, char *err,
    size_t errlen)
{
	const char *tid = mesos_id_get(status, "task_id");
	const char *state = json_string_value(json_object_get(status, "state"));
	const char *uuid = json_string_value(json_object_get(status, "uuid"));
	const char *source = json_string_value(json_object_get(status,
	    "source"));
	const char *sex = mesos_id_get(status, "executor_id");
	char why[256];

	if (tid == NULL || mesos_id_valid(tid, why, sizeof(why)) == -1)
		snprintf(err, errlen, "Expecting 'update.status.task_id' to be a "
		    "valid id");
	else if (!task_state_valid(state))
		snprintf(err, errlen, "Expecting 'update.status.state' to be a "
		    "task state, not '%s'", state ? state : "(none)");
	else if (strcmp(state, "TASK_STAGING") == 0)
		snprintf(err, errlen, "Received TASK_STAGING from executor");
	else if (uuid == NULL || uuid[0] == '\0')
		snprintf(err, errlen, "Expecting 'uuid' to be present");
	else if (source && strcmp(source, "SOURCE_EXECUTOR") != 0)
		snprintf(err, errlen, "Received Call from executor '%s' with "
		    "invalid source, expecting 'SOURCE_EXECUTOR'", ex_id);
	else if (sex && strcmp(sex, ex_id) != 0)
		snprintf(err, errlen, "ExecutorID in Call: '%s' does not match "
		    "ExecutorID in TaskStatus: '%s'", ex_id, sex);
	else
		return 0;
	return -1;
}

static void
h_executor(struct http_req *req, void *arg)
{
	struct agent *a = arg;
	const char *ct = http_req_header(req, "Content-Type");
	const char *accept = http_req_header(req, "Accept");
	const char *type, *fw_id, *ex_id;
	struct framework *fw;
	struct executor *ex;
	json_t *call;
	char err[512];

	if (ct == NULL) {
		http_reply_error(req, 400, "Expecting 'Content-Type' to be present");
		return;
	}
	if (strncmp(ct, "application/json", 16) != 0) {
		http_reply_error(req, 415, "Expecting 'Content-Type' of "
		    "application/json (protobuf is not supported), not '%s'", ct);
		return;
	}
	if (accept && strstr(accept, "application/json") == NULL &&
	    strstr(accept, "*/*") == NULL && strstr(accept, "application/*") ==
	    NULL) {
		http_reply_error(req, 406, "Expecting 'Accept' to allow "
		    "application/json");
		return;
	}
	if ((call = http_req_json(req)) == NULL)
		return;
	type = json_string_value(json_object_get(call, "type"));
	fw_id = mesos_id_get(call, "framework_id");
	ex_id = mesos_id_get(call, "executor_id");
	if (!json_is_object(call) || type == NULL) {
		http_reply_error(req, 400, "Expecting 'type' to be present");
		goto out;
	}
	if (fw_id == NULL || ex_id == NULL) {
		http_reply_error(req, 400, "Expecting '%s' to be present",
		    fw_id == NULL ? "framework_id" : "executor_id");
		goto out;
	}
	fw = framework_find(a, fw_id);
	ex = fw ? executor_find(fw, ex_id) : NULL;
	if (ex == NULL) {
		http_reply_error(req, a->state == AGENT_RECOVERING ? 503 : 400,
		    "%s: unknown executor '%s' of framework '%s'",
		    a->state == AGENT_RECOVERING ? "Agent has not finished "
		    "recovery" : "Executor not found", ex_id, fw_id);
		goto out;
	}
	if (strcmp(type, "SUBSCRIBE") == 0) {
		subscribe(a, req, ex, call);
	} else if (strcmp(type, "UPDATE") == 0) {
		const json_t *status = json_object_get(json_object_get(call,
		    "update"), "status");

		if (!json_is_object(status)) {
			http_reply_error(req, 400, "Expecting 'update.status' to be "
			    "present");
		} else if (check_status(status, ex_id, err, sizeof(err)) == -1) {
			a->metrics.invalid_updates++;
			http_reply_error(req, 400, "%s", err);
		} else if (updates_handle(a, fw_id, json_deep_copy(status), ex,
		    err, sizeof(err)) == -1) {
			http_reply_error(req, 500, "%s", err);
		} else {
			http_reply_empty(req, 202);
		}
	} else if (strcmp(type, "MESSAGE") == 0) {
		const char *data = json_string_value(json_object_get(
		    json_object_get(call, "message"), "data"));

		if (data == NULL)
			data = json_string_value(json_object_get(call, "data"));
		if (data == NULL) {
			http_reply_error(req, 400, "Expecting 'message.data' to be "
			    "present");
		} else {
			master_send(a, json_pack("{s:s, s:o, s:o, s:s}", "type",
			    "FRAMEWORK_MESSAGE", "framework_id", mesos_id(fw_id),
			    "executor_id", mesos_id(ex_id), "data", data), false);
			http_reply_empty(req, 202);
		}
	} else {
		http_reply_error(req, 400, "Unknown executor call type '%s'", type);
	}
out:
	json_decref(call);
}

void
executor_api_routes(struct agent *a)
{
	http_server_route(a->http, "POST", "/api/v1/executor", h_executor, a);
	http_server_route(a->http, "POST", "/slave(1)/api/v1/executor",
	    h_executor, a);
}
