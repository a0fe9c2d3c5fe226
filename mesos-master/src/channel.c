/*
 * channel: the agent channel of mesos-master/AGENT_PROTOCOL.md, both ways.
 *
 * In: a REP socket on --agent_port. Each message is validated here (its
 * type, ids and shapes) and turned into plain arguments for agents.c and
 * tasks.c; anything malformed gets {"type":"ERROR"} naming the problem and
 * changes nothing. A follower answers NOT_LEADER with the leader's channel.
 *
 * Out: one REQ dialer per distinct agent channel URL, shared by the agents
 * behind it. Messages to an agent are retried with backoff while the agent
 * stays active (every message is safe to receive twice); pings are not
 * retried: a missed ping counts towards unreachability.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/ipc.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

#define AGENT_REQUEST_TIMEOUT 5.0
#define AGENT_RETRY_MAX 10.0

struct outmsg {
	struct master *m;
	char *agent_id;
	char *text, *type;
	size_t len;
	agent_reply_fn cb;
	void *arg;
	int tries;
	unsigned election;
	struct chan *chan;
	struct ipc_call *call;
	struct event *retry;
	TAILQ_ENTRY(outmsg) link;
};

static json_t *
error_reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *
error_reply(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s}", "type", "ERROR", "message", msg);
}

/* An id written {"value": "..."} (v1) or as a bare string. */
const char *
channel_id_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;

	if (json_is_object(v))
		v = json_object_get(v, "value");
	s = json_string_value(v);
	return s && s[0] && strlen(s) < MASTER_MAX_ID ? s : NULL;
}

static int
parse_reg(const json_t *msg, struct agent_reg *reg, bool rereg, char *err,
    size_t errlen)
{
	const json_t *info = json_object_get(msg, "agent_info");
	struct json_errs e;
	json_int_t port = 5051;
	char first[512];

	memset(reg, 0, sizeof(*reg));
	resources_init(&reg->total);
	if (!json_is_object(info)) {
		snprintf(err, errlen, "agent_info: expected an object");
		return -1;
	}
	json_errs_init(&e);
	json_get_str(info, "/agent_info", "hostname", JF_REQUIRED | JF_NONEMPTY,
	    &reg->hostname, &e);
	json_get_int(info, "/agent_info", "port", 0, 1, 65535, &port, &e);
	json_get_str(msg, "", "pid", JF_REQUIRED | JF_NONEMPTY, &reg->pid, &e);
	json_get_str(msg, "", "channel", JF_REQUIRED | JF_NONEMPTY,
	    &reg->channel, &e);
	json_get_str(msg, "", "version", 0, &reg->version, &e);
	if (json_errs_count(&e) == 0)
		resources_from_v1(json_object_get(info, "resources"),
		    "/agent_info/resources", &reg->total, &e);
	if (json_errs_count(&e) == 0 && reg->pid && strchr(reg->pid, '@') == NULL)
		json_errs_add(&e, "/pid", "expected slave(1)@ip:port");
	if (json_errs_count(&e) == 0 && strncmp(reg->channel, "tcp://", 6) &&
	    strncmp(reg->channel, "ipc://", 6) && strncmp(reg->channel,
	    "inproc://", 9))
		json_errs_add(&e, "/channel", "expected tcp://ip:port");
	if (rereg && json_errs_count(&e) == 0 &&
	    (reg->agent_id = channel_id_of(msg, "agent_id")) == NULL)
		json_errs_add(&e, "/agent_id", "expected {\"value\": \"<id>\"}");
	reg->port = (int)port;
	reg->info = info;
	reg->attributes = json_object_get(info, "attributes");
	reg->capabilities = json_object_get(msg, "capabilities");
	if (reg->attributes && !json_is_array(reg->attributes) &&
	    !json_is_null(reg->attributes))
		json_errs_add(&e, "/agent_info/attributes", "expected an array");
	if (reg->capabilities && !json_is_array(reg->capabilities) &&
	    !json_is_null(reg->capabilities))
		json_errs_add(&e, "/capabilities", "expected an array");
	reg->tasks = json_object_get(msg, "tasks");
	reg->executors = json_object_get(msg, "executors");
	reg->frameworks = json_object_get(msg, "frameworks");
	if ((reg->tasks && !json_is_array(reg->tasks) && !json_is_null(reg->tasks)) ||
	    (reg->executors && !json_is_array(reg->executors) &&
	    !json_is_null(reg->executors)) ||
	    (reg->frameworks && !json_is_array(reg->frameworks) &&
	    !json_is_null(reg->frameworks)))
		json_errs_add(&e, "/tasks", "tasks, executors and frameworks must "
		    "be arrays");
	if (json_errs_count(&e)) {
		snprintf(err, errlen, "%s", json_errs_first(&e, first,
		    sizeof(first)));
		json_errs_free(&e);
		resources_free(&reg->total);
		return -1;
	}
	json_errs_free(&e);
	return 0;
}

/* Capabilities may come as ["MULTI_ROLE"] or [{"type": "MULTI_ROLE"}]. */
static json_t *
caps_strings(const json_t *caps)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(caps, i, c) {
		const char *s = json_is_string(c) ? json_string_value(c) :
		    json_str_or(c, "type", NULL);

		if (s)
			json_array_append_new(out, json_string(s));
	}
	return out;
}

static void
on_register(struct master *m, struct ipc_pending *p, json_t *msg, bool rereg)
{
	struct agent_reg reg;
	char err[512];
	json_t *caps;

	if (parse_reg(msg, &reg, rereg, err, sizeof(err)) == -1) {
		log_warn("agent %s from %s rejected: %s", rereg ?
		    "re-registration" : "registration", ipc_pending_peer(p), err);
		ipc_reply(p, error_reply("invalid %s: %s", rereg ?
		    "REREGISTER_AGENT" : "REGISTER_AGENT", err));
		return;
	}
	caps = caps_strings(reg.capabilities);
	reg.capabilities = caps;
	if (rereg)
		agents_reregister(m, &reg, p);
	else
		agents_register(m, &reg, p);
	json_decref(caps);
	resources_free(&reg.total);
}

/* The agent must be one we know and consider active. */
static struct agent *
known_agent(struct master *m, struct ipc_pending *p, const json_t *msg)
{
	const char *id = channel_id_of(msg, "agent_id");
	struct agent *a = agent_find(m, id);

	if (a == NULL || a->state != AGENT_ACTIVE) {
		ipc_reply(p, json_pack("{s:s, s:b, s:s}", "type", "ERROR",
		    "reregister", 1, "message", a ? "this agent is not registered "
		    "with the leading master: re-register" : "unknown agent: "
		    "register"));
		return NULL;
	}
	a->missed_pings = 0;
	return a;
}

static void
on_status_update(struct master *m, struct ipc_pending *p, json_t *msg)
{
	json_t *status = json_object_get(msg, "status");
	const char *fw_id = channel_id_of(msg, "framework_id");
	const char *uuid;
	struct agent *a;
	int latest;

	if (!json_is_object(status) || fw_id == NULL ||
	    channel_id_of(status, "task_id") == NULL ||
	    task_state_parse(json_str_or(status, "state", "")) < 0) {
		m->metrics.invalid_status_updates++;
		ipc_reply(p, error_reply("invalid STATUS_UPDATE: needs framework_id "
		    "and status with task_id and a valid state"));
		return;
	}
	uuid = json_str_or(status, "uuid", NULL);
	if (json_object_get(status, "uuid") && (uuid == NULL || !uuid[0])) {
		m->metrics.invalid_status_updates++;
		ipc_reply(p, error_reply("invalid STATUS_UPDATE: uuid must be a "
		    "base64 string"));
		return;
	}
	latest = json_object_get(msg, "latest_state") ?
	    task_state_parse(json_str_or(msg, "latest_state", "")) : -1;
	if (json_object_get(msg, "latest_state") && latest < 0) {
		m->metrics.invalid_status_updates++;
		ipc_reply(p, error_reply("invalid STATUS_UPDATE: latest_state "
		    "is not a task state"));
		return;
	}
	if ((a = known_agent(m, p, msg)) == NULL)
		return;
	/* frameworks get ids in the v1 shape, however the agent wrote them */
	for (const char *const *k = (const char *const[]){ "task_id",
	    "agent_id", "executor_id", NULL }; *k; k++)
		if (json_is_string(json_object_get(status, *k)))
			json_object_set_new(status, *k, v1_id(json_string_value(
			    json_object_get(status, *k))));
	json_incref(status);
	tasks_status_update(m, a, fw_id, status, latest, p);
	json_decref(status);
}

static void
on_framework_message(struct master *m, struct ipc_pending *p, json_t *msg)
{
	const char *fw_id = channel_id_of(msg, "framework_id");
	const char *ex_id = channel_id_of(msg, "executor_id");
	const char *data = json_str_or(msg, "data", NULL);
	struct framework *fw;
	struct agent *a;

	if (fw_id == NULL || ex_id == NULL || data == NULL) {
		ipc_reply(p, error_reply("invalid FRAMEWORK_MESSAGE: needs "
		    "framework_id, executor_id and data"));
		return;
	}
	if ((a = known_agent(m, p, msg)) == NULL)
		return;
	if ((fw = framework_find(m, fw_id)) != NULL && fw->connected) {
		json_t *ev = json_pack("{s:s, s:{s:o, s:o, s:s}}", "type",
		    "MESSAGE", "message", "agent_id", v1_id(a->id), "executor_id",
		    v1_id(ex_id), "data", data);

		framework_send(fw, ev);
		json_decref(ev);
	}
	ipc_reply(p, json_pack("{s:s}", "type", "OK"));
}

static void
on_agent_msg(struct ipc_pending *p, json_t *msg, void *arg)
{
	struct master *m = arg;
	const char *type = json_str_or(msg, "type", NULL);

	m->metrics.messages_agent++;
	if (type == NULL) {
		ipc_reply(p, error_reply("message has no \"type\""));
		return;
	}
	if (m->role == ROLE_FOLLOWER) {
		const char *leader = leader_address(m);
		json_t *r = json_pack("{s:s}", "type", "NOT_LEADER");

		if (leader) {
			char url[512];
			const char *colon = strrchr(leader, ':');

			snprintf(url, sizeof(url), "tcp://%.*s:%d", colon ?
			    (int)(colon - leader) : (int)strlen(leader), leader,
			    m->f.agent_port);
			json_object_set_new(r, "leader", json_string(url));
		}
		ipc_reply(p, r);
		return;
	}
	if (m->role == ROLE_RECOVERING) {
		ipc_reply(p, error_reply("the master is recovering its registry; "
		    "retry shortly"));
		return;
	}
	if (!strcmp(type, "REGISTER_AGENT"))
		on_register(m, p, msg, false);
	else if (!strcmp(type, "REREGISTER_AGENT"))
		on_register(m, p, msg, true);
	else if (!strcmp(type, "STATUS_UPDATE"))
		on_status_update(m, p, msg);
	else if (!strcmp(type, "FRAMEWORK_MESSAGE"))
		on_framework_message(m, p, msg);
	else
		ipc_reply(p, error_reply("unknown message type '%s'", type));
}

int
channel_listen(struct master *m, char *err, size_t errlen)
{
	char url[512];

	snprintf(url, sizeof(url), "tcp://%s:%d", m->f.ip, m->f.agent_port);
	m->chan_rep = ipc_rep_listen(m->base, url, on_agent_msg, m, err, errlen);
	return m->chan_rep ? 0 : -1;
}

/* --- outgoing --- */

struct chan *
chan_get(struct master *m, const char *url)
{
	struct chan *c = strmap_get(m->channels, url);
	char err[256];

	if (c) {
		c->refs++;
		return c;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->url = strdup(url)) == NULL)
		abort();
	if ((c->req = ipc_req_dial(m->base, url, err, sizeof(err))) == NULL)
		log_warn("agent channel %s: %s", url, err);
	c->refs = 1;
	strmap_put(m->channels, url, c);
	return c;
}

void
chan_put(struct master *m, struct chan *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	strmap_del(m->channels, c->url);
	if (c->req)
		ipc_close(c->req);
	free(c->url);
	free(c);
}

static void
outmsg_free(struct outmsg *om)
{
	TAILQ_REMOVE(&om->m->outmsgs, om, link);
	if (om->call)
		ipc_call_cancel(om->call);
	if (om->retry)
		event_free(om->retry);
	chan_put(om->m, om->chan);
	free(om->text);
	free(om->type);
	free(om->agent_id);
	free(om);
}

void
channel_close(struct master *m)
{
	struct outmsg *om;

	while ((om = TAILQ_FIRST(&m->outmsgs)) != NULL)
		outmsg_free(om);
	if (m->chan_rep)
		ipc_close(m->chan_rep);
	m->chan_rep = NULL;
}

static void send_now(struct outmsg *om);

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	send_now(arg);
}

static void
on_reply(json_t *reply, const char *err, void *arg)
{
	struct outmsg *om = arg;
	struct master *m = om->m;
	double delay;
	struct timeval tv;

	om->call = NULL;
	if (om->election != m->elections) {
		outmsg_free(om);
		return;
	}
	if (reply) {
		if (!strcmp(json_str_or(reply, "type", ""), "ERROR"))
			log_warn("agent %s refused %s: %s", om->agent_id, om->type,
			    json_str_or(reply, "message", "(no message)"));
		if (om->cb)
			om->cb(m, reply, NULL, om->arg);
		outmsg_free(om);
		return;
	}
	delay = 0.25 * (1 << (om->tries < 6 ? om->tries : 6));
	if (delay > AGENT_RETRY_MAX)
		delay = AGENT_RETRY_MAX;
	om->tries++;
	log_info("%s to agent %s: %s; retrying in %.2gs", om->type,
	    om->agent_id, err, delay);
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	if (om->retry == NULL)
		om->retry = evtimer_new(m->base, on_retry, om);
	evtimer_add(om->retry, &tv);
}

static void
send_now(struct outmsg *om)
{
	struct master *m = om->m;
	struct agent *a = agent_find(m, om->agent_id);

	if (om->election != m->elections) {
		outmsg_free(om);
		return;
	}
	if (a == NULL || a->state != AGENT_ACTIVE || om->chan->req == NULL) {
		if (om->cb)
			om->cb(m, NULL, "the agent is no longer active", om->arg);
		outmsg_free(om);
		return;
	}
	om->call = ipc_request_text(om->chan->req, om->text, om->len,
	    AGENT_REQUEST_TIMEOUT, on_reply, om);
}

void
agent_send_text(struct master *m, struct agent *a, char *text,
    const char *type, agent_reply_fn cb, void *arg)
{
	struct outmsg *om = calloc(1, sizeof(*om));

	if (om == NULL || text == NULL)
		abort();
	om->m = m;
	om->agent_id = strdup(a->id);
	om->text = text;
	om->len = strlen(text);
	om->type = strdup(type);
	om->cb = cb;
	om->arg = arg;
	om->election = m->elections;
	om->chan = chan_get(m, a->channel);
	TAILQ_INSERT_TAIL(&m->outmsgs, om, link);
	send_now(om);
}

void
agent_send(struct master *m, struct agent *a, json_t *msg, agent_reply_fn cb,
    void *arg)
{
	char type[64];

	if (json_object_get(msg, "agent_id") == NULL)
		json_object_set_new(msg, "agent_id", v1_id(a->id));
	snprintf(type, sizeof(type), "%s", json_str_or(msg, "type", "?"));
	agent_send_text(m, a, json_compact(msg), type, cb, arg);
	json_decref(msg);
}

static void
on_pong(json_t *reply, const char *err, void *arg)
{
	struct agent *a = arg;
	struct master *m = a->m;

	a->ping = NULL;
	if (a->state != AGENT_ACTIVE)
		return;
	if (reply && !strcmp(json_str_or(reply, "type", ""), "PONG")) {
		a->missed_pings = 0;
		return;
	}
	a->missed_pings++;
	log_info("agent %s at %s missed a ping (%d of %lld): %s", a->id, a->pid,
	    a->missed_pings, m->f.max_agent_ping_timeouts, reply ?
	    json_str_or(reply, "message", "it does not know us") : err);
	if (a->missed_pings >= m->f.max_agent_ping_timeouts) {
		char why[128];

		snprintf(why, sizeof(why), "it missed %d pings in a row",
		    a->missed_pings);
		agents_mark_unreachable(m, a, why);
	}
}

void
agent_ping(struct master *m, struct agent *a)
{
	char leader[512];
	json_t *msg;

	if (a->ping || a->chan == NULL || a->chan->req == NULL)
		return;
	snprintf(leader, sizeof(leader), "tcp://%s:%d", m->f.advertise_ip ?
	    m->f.advertise_ip : m->f.ip, m->f.agent_port);
	msg = json_pack("{s:s, s:s, s:o, s:s}", "type", "PING", "master_id",
	    m->id, "agent_id", v1_id(a->id), "leader", leader);
	a->ping = ipc_request(a->chan->req, msg, m->f.agent_ping_timeout,
	    on_pong, a);
	json_decref(msg);
}
