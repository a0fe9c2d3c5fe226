/*
 * connection: the executor's side of the v1 executor API. SUBSCRIBE opens
 * a RecordIO event stream; every other call is its own POST. Updates stay
 * in unacked_updates until the agent's ACKNOWLEDGED event, and tasks in
 * unacked_tasks until one of their updates is acknowledged; both go along
 * with each re-SUBSCRIBE. When the stream breaks (the agent restarts) a
 * checkpointing executor retries with a backoff bounded by half of
 * MESOS_SUBSCRIPTION_BACKOFF_MAX (so it is back within the agent's
 * re-registration timeout) for MESOS_RECOVERY_TIMEOUT, then kills its
 * tasks and exits; one of a framework that does not checkpoint exits
 * right away, as Mesos executors do.
 *
 * HTTP is libevent's client (two connections: the stream and the calls):
 * the executor starts for every task, so it links nothing heavier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "dcos/json.h"
#include "dcos/log.h"

#include "executor.h"

static void subscribe(struct executor *e);
static void pump(struct executor *e);

static json_t *
call(struct executor *e, const char *type)
{
	return json_pack("{s:s, s:o, s:o}", "type", type, "framework_id",
	    mesos_id(e->f.framework_id), "executor_id",
	    mesos_id(e->f.executor_id));
}

static void
on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	subscribe(arg);
}

static void
schedule_reconnect(struct executor *e)
{
	double max = e->f.subscription_backoff_max / 2;
	struct timeval tv;

	if (max < 0.05)
		max = 0.05;
	if (e->backoff <= 0)
		e->backoff = 0.05;
	tv.tv_sec = (time_t)e->backoff;
	tv.tv_usec = (suseconds_t)((e->backoff - (double)tv.tv_sec) * 1e6);
	e->backoff = e->backoff * 2 > max ? max : e->backoff * 2;
	if (e->reconnect == NULL)
		e->reconnect = evtimer_new(e->base, on_reconnect, e);
	evtimer_add(e->reconnect, &tv);
}

static void
handle_event(struct executor *e, const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (type == NULL) {
		log_warn("event without a type from the agent");
		return;
	}
	log_debug("event %s", type);
	if (strcmp(type, "SUBSCRIBED") == 0) {
		const json_t *s = json_object_get(ev, "subscribed");
		const char *aid = mesos_id_get(s, "agent_id");

		json_decref(e->framework_info);
		json_decref(e->executor_info);
		e->framework_info = json_incref(json_object_get(s,
		    "framework_info"));
		e->executor_info = json_incref(json_object_get(s, "executor_info"));
		if (aid)
			snprintf(e->agent_id, sizeof(e->agent_id), "%s", aid);
		e->connected = true;
		e->backoff = 0;
		log_info("subscribed to agent %s at %s%s", e->agent_id,
		    e->f.agent_endpoint, e->ever_subscribed ? " again" : "");
		e->ever_subscribed = true;
		pump(e);
	} else if (strcmp(type, "LAUNCH") == 0) {
		const json_t *l = json_object_get(ev, "launch");

		if (json_object_get(l, "framework_info")) {
			json_decref(e->framework_info);
			e->framework_info = json_incref(json_object_get(l,
			    "framework_info"));
		}
		tasks_launch(e, json_object_get(l, "task"), false);
	} else if (strcmp(type, "LAUNCH_GROUP") == 0) {
		const json_t *g = json_object_get(json_object_get(ev,
		    "launch_group"), "task_group");
		const json_t *t;
		size_t i;

		json_array_foreach(json_object_get(g, "tasks"), i, t)
			tasks_launch(e, t, true);
	} else if (strcmp(type, "KILL") == 0) {
		const json_t *k = json_object_get(ev, "kill");
		const char *tid = mesos_id_get(k, "task_id");

		if (tid)
			tasks_kill(e, tid, json_object_get(k, "kill_policy"));
	} else if (strcmp(type, "ACKNOWLEDGED") == 0) {
		const json_t *a = json_object_get(ev, "acknowledged");
		const char *tid = mesos_id_get(a, "task_id");
		const char *uuid = json_string_value(json_object_get(a, "uuid"));

		if (tid && uuid)
			tasks_acknowledged(e, tid, uuid);
	} else if (strcmp(type, "SHUTDOWN") == 0) {
		tasks_shutdown(e, "the agent asked us to shut down");
	} else if (strcmp(type, "MESSAGE") == 0) {
		log_info("received a framework message (%zu bytes of base64); the "
		    "command executor has no use for it",
		    strlen(json_str_or(json_object_get(ev, "message"), "data", "")));
	} else if (strcmp(type, "ERROR") == 0) {
		log_warn("agent error: %s", json_str_or(json_object_get(ev,
		    "error"), "message", "?"));
	} else if (strcmp(type, "HEARTBEAT") != 0) {
		log_info("ignoring event %s", type);
	}
}

static int
on_record(const char *data, size_t len, void *arg)
{
	struct executor *e = arg;
	json_t *ev = json_loadb(data, len, 0, NULL);

	if (ev == NULL) {
		log_warn("unparsable event from the agent");
		return 0;
	}
	handle_event(e, ev);
	json_decref(ev);
	return 0;
}

static void
free_conn(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

/* A connection is freed from the loop, never inside its own callback. */
static void
free_conn_later(struct executor *e, struct evhttp_connection *c)
{
	struct timeval now = { 0, 0 };

	if (c)
		event_base_once(e->base, -1, EV_TIMEOUT, free_conn, c, &now);
}

static struct evhttp_request *
new_request(struct executor *e, void (*cb)(struct evhttp_request *, void *),
    const char *body)
{
	struct evhttp_request *req = evhttp_request_new(cb, e);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Host", e->f.agent_endpoint);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Accept", "application/json");
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	return req;
}

static struct evhttp_connection *
connect_agent(struct executor *e, int timeout)
{
	char host[256];
	const char *colon = strrchr(e->f.agent_endpoint, ':');
	struct evhttp_connection *c;

	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon -
	    e->f.agent_endpoint) : (int)strlen(e->f.agent_endpoint),
	    e->f.agent_endpoint);
	c = evhttp_connection_base_new(e->base, NULL, host, colon ?
	    (unsigned short)atoi(colon + 1) : 5051);
	if (c == NULL)
		abort();
	evhttp_connection_set_timeout(c, timeout);
	evhttp_connection_set_retries(c, 0);
	return c;
}

static void
on_chunk(struct evhttp_request *req, void *arg)
{
	struct executor *e = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	e->sub_status = evhttp_request_get_response_code(req);
	if (e->sub_status == 200 && len > 0)
		recordio_feed(&e->rio, (const char *)evbuffer_pullup(in, -1), len);
	else if (len > 0 && e->sub_error_len < sizeof(e->sub_error) - 1) {
		size_t n = sizeof(e->sub_error) - 1 - e->sub_error_len;

		n = evbuffer_copyout(in, e->sub_error + e->sub_error_len,
		    len < n ? len : n);
		e->sub_error_len += n;
		e->sub_error[e->sub_error_len] = '\0';
	}
	evbuffer_drain(in, len);
}

/* The subscription ended (agent gone, refused, or never reached). */
static void
on_stream_end(struct evhttp_request *req, void *arg)
{
	struct executor *e = arg;
	long status = req ? evhttp_request_get_response_code(req) : 0;

	if (req && status != 200) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = sizeof(e->sub_error) - 1 - e->sub_error_len;

		n = evbuffer_copyout(in, e->sub_error + e->sub_error_len, n);
		e->sub_error_len += n;
		e->sub_error[e->sub_error_len] = '\0';
	}
	free_conn_later(e, e->sub_conn);
	e->sub_conn = NULL;
	recordio_free(&e->rio);
	if (e->exiting)
		return;
	if (status >= 400 && status < 500) {
		log_error("the agent refused our subscription (%ld): %s; shutting "
		    "down", status, e->sub_error[0] ? e->sub_error :
		    "no reason given");
		e->connected = false;
		e->exit_code = 1;
		tasks_shutdown(e, "the agent does not know this executor");
		return;
	}
	if (e->connected) {
		log_warn("disconnected from the agent at %s", e->f.agent_endpoint);
		e->disconnected_at = mesos_now();
	}
	e->connected = false;
	if (!e->f.checkpoint && e->ever_subscribed) {
		tasks_shutdown(e, "the framework does not checkpoint and the agent "
		    "went away");
		return;
	}
	if (e->disconnected_at == 0)
		e->disconnected_at = mesos_now();
	if (mesos_now() - e->disconnected_at > e->f.recovery_timeout) {
		log_error("the agent has been gone for more than %gs; shutting "
		    "down", e->f.recovery_timeout);
		tasks_shutdown(e, "recovery timeout");
		return;
	}
	schedule_reconnect(e);
}

static void
subscribe(struct executor *e)
{
	json_t *c = call(e, "SUBSCRIBE");
	struct evhttp_request *req;
	char *body;

	if (e->exiting || e->sub_conn)
		return;
	json_object_set_new(c, "subscribe", json_pack("{s:O, s:O}",
	    "unacknowledged_tasks", e->unacked_tasks, "unacknowledged_updates",
	    e->unacked_updates));
	/* everything unacknowledged goes with the subscription */
	json_array_clear(e->outbox);
	body = json_compact(c);
	json_decref(c);
	e->sub_status = 0;
	e->sub_error_len = 0;
	e->sub_error[0] = '\0';
	recordio_init(&e->rio, 16 << 20, on_record, e);
	/* the stream lives long: no idle timeout */
	e->sub_conn = connect_agent(e, 7 * 86400);
	req = new_request(e, on_stream_end, body);
	evhttp_request_set_chunked_cb(req, on_chunk);
	free(body);
	if (evhttp_make_request(e->sub_conn, req, EVHTTP_REQ_POST,
	    "/api/v1/executor") == -1) {
		free_conn_later(e, e->sub_conn);
		e->sub_conn = NULL;
		recordio_free(&e->rio);
		schedule_reconnect(e);
	}
}

void
conn_start(struct executor *e)
{
	e->unacked_updates = json_array();
	e->unacked_tasks = json_array();
	e->outbox = json_array();
	e->oom_fd = -1;
	TAILQ_INIT(&e->tasks);
	subscribe(e);
}

void
conn_stop(struct executor *e)
{
	e->exiting = true;
	if (e->sub_conn) {
		evhttp_connection_free(e->sub_conn);
		e->sub_conn = NULL;
		recordio_free(&e->rio);
	}
	if (e->call_conn) {
		evhttp_connection_free(e->call_conn);
		e->call_conn = NULL;
	}
	if (e->reconnect)
		event_free(e->reconnect);
	e->reconnect = NULL;
	json_decref(e->unacked_updates);
	json_decref(e->unacked_tasks);
	json_decref(e->outbox);
	json_decref(e->inflight);
	e->outbox = e->inflight = NULL;
	json_decref(e->framework_info);
	json_decref(e->executor_info);
	e->unacked_updates = e->unacked_tasks = NULL;
	e->framework_info = e->executor_info = NULL;
}

static void
on_update_sent(struct evhttp_request *req, void *arg)
{
	struct executor *e = arg;
	json_t *sent = e->inflight;
	int status = req ? evhttp_request_get_response_code(req) : 0;

	e->inflight = NULL;
	if (status != 202) {
		log_warn("the agent did not take an update (%d); it is resent when "
		    "we subscribe again", status);
		json_decref(sent);
		if (req == NULL && e->call_conn) {
			free_conn_later(e, e->call_conn);
			e->call_conn = NULL;
		}
		return;
	}
	if (e->outbox && json_array_get(e->outbox, 0) == sent)
		json_array_remove(e->outbox, 0);
	json_decref(sent);
	pump(e);
}

/* One UPDATE at a time, so the agent sees a task's updates in order. */
static void
pump(struct executor *e)
{
	struct evhttp_request *req;
	json_t *c, *status;
	char *body;

	if (!e->connected || e->inflight || e->outbox == NULL ||
	    (status = json_array_get(e->outbox, 0)) == NULL)
		return;
	c = call(e, "UPDATE");
	json_object_set_new(c, "update", json_pack("{s:O}", "status", status));
	body = json_compact(c);
	json_decref(c);
	if (e->call_conn == NULL)
		e->call_conn = connect_agent(e, 10);
	req = new_request(e, on_update_sent, body);
	free(body);
	e->inflight = json_incref(status);
	if (evhttp_make_request(e->call_conn, req, EVHTTP_REQ_POST,
	    "/api/v1/executor") == -1) {
		json_decref(e->inflight);
		e->inflight = NULL;
	}
}

void
conn_send_update(struct executor *e, json_t *status)
{
	json_array_append_new(e->unacked_updates, json_pack("{s:o, s:O}",
	    "framework_id", mesos_id(e->f.framework_id), "status", status));
	json_array_append_new(e->outbox, status);
	pump(e);
}
