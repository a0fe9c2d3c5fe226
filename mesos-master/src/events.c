/*
 * events: the master tells the rest of the cluster what changed, two ways.
 *
 * The event bus: an nng PUB socket on --event_port (5053) publishing
 * "<topic>\n<JSON>" (common/ipc framing) for mesos-dns, navstar and
 * history; the topics and payloads are documented in the README:
 *   master.elected    {"master": {id, pid, hostname, address}}
 *   agent.added       {"agent": <v0 slave>, "reregistered": bool}
 *   agent.removed     {"agent_id", "hostname", "reason"}
 *   framework.added   {"framework": <v0 framework summary>}
 *   framework.updated {"framework": ...}
 *   framework.removed {"framework": ...}
 *   task.added        {"task": <v0 task, as in /master/state>}
 *   task.updated      {"task": ...}
 *
 * The operator API SUBSCRIBE streams (POST /api/v1 {"type":"SUBSCRIBE"}):
 * SUBSCRIBED with the full GET_STATE first, then TASK_ADDED, TASK_UPDATED,
 * AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED, FRAMEWORK_UPDATED,
 * FRAMEWORK_REMOVED and HEARTBEAT, one RecordIO record per chunk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/ipc.h"
#include "dcos/log.h"
#include "master.h"

struct opsub {
	struct master *m;
	struct http_stream *s;
	struct event *heartbeat;
	struct opsub *prev, *next;
};

int
events_listen(struct master *m, char *err, size_t errlen)
{
	char url[512];

	snprintf(url, sizeof(url), "tcp://%s:%d", m->f.ip, m->f.event_port);
	m->pub = ipc_pub_listen(m->base, url, err, errlen);
	return m->pub ? 0 : -1;
}

bool
events_wanted(const struct master *m)
{
	return m->opsubs || (m->pub && ipc_pub_subscribers(m->pub) > 0);
}

static void
publish(struct master *m, const char *topic, struct jsonw *w)
{
	size_t len;
	char *text = jw_steal(w, &len);

	if (m->pub)
		ipc_publish_text(m->pub, topic, text, len);
	free(text);
}

/* --- operator subscribers --- */

static void
opsub_free(struct opsub *o)
{
	struct master *m = o->m;

	if (o->prev)
		o->prev->next = o->next;
	else
		m->opsubs = o->next;
	if (o->next)
		o->next->prev = o->prev;
	m->nopsubs--;
	event_free(o->heartbeat);
	free(o);
}

static void
opsub_closed(struct http_stream *s, void *arg)
{
	opsub_free(arg);
}

static void
opsub_send_all(struct master *m, json_t *ev)
{
	struct opsub *o, *next;
	char *text;
	size_t len;

	if (m->opsubs == NULL) {
		json_decref(ev);
		return;
	}
	text = json_compact(ev);
	len = strlen(text);
	json_decref(ev);
	for (o = m->opsubs; o; o = next) {
		next = o->next;
		http_stream_record(o->s, text, len); /* a drop frees o */
	}
	free(text);
}

static void
on_opsub_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct opsub *o = arg;

	http_stream_record(o->s, "{\"type\":\"HEARTBEAT\"}", 18);
}

void
events_opsub_start(struct master *m, struct http_req *req)
{
	struct opsub *o = calloc(1, sizeof(*o));
	struct timeval tv = { (time_t)m->f.heartbeat_interval,
		(suseconds_t)((m->f.heartbeat_interval -
		(long)m->f.heartbeat_interval) * 1e6) };
	json_t *ev;

	if (o == NULL)
		abort();
	o->m = m;
	o->s = http_stream_start(req, 200, "application/json",
	    HTTP_STREAM_RECORDIO, opsub_closed, o);
	o->heartbeat = event_new(m->base, -1, EV_PERSIST, on_opsub_heartbeat, o);
	event_add(o->heartbeat, &tv);
	o->next = m->opsubs;
	if (o->next)
		o->next->prev = o;
	m->opsubs = o;
	m->nopsubs++;
	ev = json_pack("{s:s, s:{s:o, s:f}}", "type", "SUBSCRIBED", "subscribed",
	    "get_state", v1_get_state(m), "heartbeat_interval_seconds",
	    m->f.heartbeat_interval);
	http_stream_record_json(o->s, ev);
	json_decref(ev);
}

void
events_opsub_close_all(struct master *m)
{
	while (m->opsubs) {
		struct opsub *o = m->opsubs;
		struct http_stream *s = o->s;

		opsub_free(o);
		http_stream_end(s);
	}
}

void
events_close(struct master *m)
{
	events_opsub_close_all(m);
	if (m->pub)
		ipc_close(m->pub);
	m->pub = NULL;
}

/* --- what changed --- */

void
events_master_elected(struct master *m)
{
	struct jsonw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_key(&w, "master");
	jw_obj_begin(&w);
	jw_kstr(&w, "id", m->id);
	jw_kstr(&w, "pid", m->pid);
	jw_kstr(&w, "hostname", m->hostname);
	jw_kstr(&w, "address", m->address);
	jw_obj_end(&w);
	jw_obj_end(&w);
	publish(m, "master.elected", &w);
}

static void
write_agent(struct jsonw *w, const struct agent *a)
{
	jw_obj_begin(w);
	jw_kstr(w, "id", a->id);
	jw_kstr(w, "hostname", a->hostname);
	jw_kstr(w, "pid", a->pid);
	jw_kint(w, "port", a->port);
	jw_kstr(w, "ip", a->ip);
	jw_key(w, "resources");
	state_write_resources(w, &a->total);
	jw_kraw(w, "attributes", a->attrs_summary);
	jw_kbool(w, "active", a->state == AGENT_ACTIVE);
	jw_obj_end(w);
}

void
events_agent_added(struct master *m, const struct agent *a, bool rereg)
{
	struct jsonw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_key(&w, "agent");
	write_agent(&w, a);
	jw_kbool(&w, "reregistered", rereg);
	jw_obj_end(&w);
	publish(m, "agent.added", &w);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o}}", "type", "AGENT_ADDED",
		    "agent_added", "agent", v1_agent(m, a)));
}

void
events_agent_removed(struct master *m, const struct agent *a,
    const char *reason)
{
	struct jsonw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "agent_id", a->id);
	jw_kstr(&w, "hostname", a->hostname);
	jw_kstr(&w, "reason", reason);
	jw_obj_end(&w);
	publish(m, "agent.removed", &w);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o}}", "type",
		    "AGENT_REMOVED", "agent_removed", "agent_id", v1_id(a->id)));
}

static void
publish_task(struct master *m, const char *topic, const struct task *t)
{
	struct jsonw w;

	if (m->pub == NULL || ipc_pub_subscribers(m->pub) == 0)
		return; /* nobody listens: do not render */
	jw_init(&w);
	jw_obj_begin(&w);
	jw_key(&w, "task");
	state_write_task(&w, t);
	jw_obj_end(&w);
	publish(m, topic, &w);
}

void
events_task_added(struct master *m, const struct task *t)
{
	publish_task(m, "task.added", t);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o}}", "type", "TASK_ADDED",
		    "task_added", "task", v1_task(t)));
}

void
events_task_updated(struct master *m, const struct task *t)
{
	publish_task(m, "task.updated", t);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o, s:o?, s:s}}", "type",
		    "TASK_UPDATED", "task_updated", "framework_id",
		    v1_id(t->fw->id), "status", t->last ? json_loads(t->last, 0,
		    NULL) : NULL, "state", task_state_name(t->state)));
}

static void
publish_framework(struct master *m, const char *topic,
    const struct framework *fw)
{
	struct jsonw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_key(&w, "framework");
	jw_obj_begin(&w);
	jw_kstr(&w, "id", fw->id);
	jw_kstr(&w, "name", fw->name);
	jw_key(&w, "roles");
	jw_arr_begin(&w);
	for (size_t i = 0; i < fw->nroles; i++)
		jw_str(&w, fw->roles[i]);
	jw_arr_end(&w);
	jw_kbool(&w, "active", fw->active);
	jw_kbool(&w, "connected", fw->connected);
	jw_kstr(&w, "webui_url", fw->webui_url);
	jw_obj_end(&w);
	jw_obj_end(&w);
	publish(m, topic, &w);
}

void
events_framework_added(struct master *m, const struct framework *fw)
{
	publish_framework(m, "framework.added", fw);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o}}", "type",
		    "FRAMEWORK_ADDED", "framework_added", "framework",
		    v1_framework(fw)));
}

void
events_framework_updated(struct master *m, const struct framework *fw)
{
	publish_framework(m, "framework.updated", fw);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:o}}", "type",
		    "FRAMEWORK_UPDATED", "framework_updated", "framework",
		    v1_framework(fw)));
}

void
events_framework_removed(struct master *m, const struct framework *fw)
{
	publish_framework(m, "framework.removed", fw);
	if (m->opsubs)
		opsub_send_all(m, json_pack("{s:s, s:{s:O}}", "type",
		    "FRAMEWORK_REMOVED", "framework_removed", "framework_info",
		    fw->info));
}
