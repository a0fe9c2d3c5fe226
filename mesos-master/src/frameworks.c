/*
 * frameworks: schedulers subscribed through /api/v1/scheduler.
 *
 * A framework is connected while its SUBSCRIBE stream is open; events go
 * out on it as RecordIO records, one per HTTP chunk, with a HEARTBEAT every
 * --heartbeat_interval. When the stream drops the framework is disconnected:
 * its offers are rescinded and its failover timeout starts; re-subscribing
 * with its framework_id before it runs out resumes it (pending status
 * updates are sent again), otherwise it is removed: its tasks are killed and
 * it moves to the completed frameworks. Frameworks recovered from the
 * registry after a master failover start out disconnected, the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dcos/http_server.h"
#include "dcos/log.h"
#include "dcos/strmap.h"
#include "master.h"

static const struct {
	const char *name;
	unsigned bit;
} cap_names[] = {
	{ "REVOCABLE_RESOURCES", FW_CAP_REVOCABLE_RESOURCES },
	{ "TASK_KILLING_STATE", FW_CAP_TASK_KILLING_STATE },
	{ "GPU_RESOURCES", FW_CAP_GPU_RESOURCES },
	{ "SHARED_RESOURCES", FW_CAP_SHARED_RESOURCES },
	{ "PARTITION_AWARE", FW_CAP_PARTITION_AWARE },
	{ "MULTI_ROLE", FW_CAP_MULTI_ROLE },
	{ "RESERVATION_REFINEMENT", FW_CAP_RESERVATION_REFINEMENT },
	{ "REGION_AWARE", FW_CAP_REGION_AWARE },
};

unsigned
framework_caps_parse(const json_t *caps)
{
	unsigned bits = 0;
	size_t i;
	json_t *c;

	json_array_foreach(caps, i, c) {
		const char *type = json_str_or(c, "type", "");

		for (size_t k = 0; k < sizeof(cap_names) / sizeof(cap_names[0]); k++)
			if (strcmp(type, cap_names[k].name) == 0)
				bits |= cap_names[k].bit;
	}
	return bits;
}

json_t *
framework_caps_json(unsigned caps)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < sizeof(cap_names) / sizeof(cap_names[0]); k++)
		if (caps & cap_names[k].bit)
			json_array_append_new(arr, json_string(cap_names[k].name));
	return arr;
}

struct framework *
framework_find(const struct master *m, const char *id)
{
	return id ? strmap_get(m->frameworks, id) : NULL;
}

struct framework *
framework_completed(const struct master *m, const char *id)
{
	struct framework *fw;

	TAILQ_FOREACH(fw, &m->completed_frameworks, done_link)
		if (id && strcmp(fw->id, id) == 0)
			return fw;
	return NULL;
}

const char *
framework_role_of(const struct framework *fw)
{
	return fw->nroles ? fw->roles[0] : "*";
}

static void
free_roles(struct framework *fw)
{
	for (size_t i = 0; i < fw->nroles; i++)
		free(fw->roles[i]);
	free(fw->roles);
	fw->roles = NULL;
	fw->nroles = 0;
}

/* Takes name, user, roles, capabilities ... from a FrameworkInfo; MULTI_ROLE
 * frameworks use roles[], the others role (default "*"). */
void
framework_set_info(struct framework *fw, const json_t *info)
{
	const json_t *roles = json_object_get(info, "roles");
	json_t *copy = json_deep_copy(info);

	json_object_set_new(copy, "id", v1_id(fw->id));
	json_decref(fw->info);
	fw->info = copy;
	free(fw->info_text);
	fw->info_text = json_compact(copy);
	free(fw->name);
	free(fw->user);
	free(fw->principal);
	free(fw->hostname);
	free(fw->webui_url);
	fw->name = xstrdup(json_str_or(info, "name", ""));
	fw->user = xstrdup(json_str_or(info, "user", ""));
	fw->principal = json_str_or(info, "principal", NULL) ?
	    xstrdup(json_str_or(info, "principal", NULL)) : NULL;
	fw->hostname = xstrdup(json_str_or(info, "hostname", ""));
	fw->webui_url = xstrdup(json_str_or(info, "webui_url", ""));
	fw->failover_timeout = json_num_or(info, "failover_timeout", 0);
	fw->checkpoint = json_is_true(json_object_get(info, "checkpoint"));
	fw->caps = framework_caps_parse(json_object_get(info, "capabilities"));
	free_roles(fw);
	if ((fw->caps & FW_CAP_MULTI_ROLE) && json_array_size(roles) > 0) {
		size_t i;
		json_t *r;

		fw->roles = xcalloc(json_array_size(roles), sizeof(char *));
		json_array_foreach(roles, i, r)
			if (json_is_string(r))
				fw->roles[fw->nroles++] = xstrdup(json_string_value(r));
	}
	if (fw->nroles == 0) {
		fw->roles = xcalloc(1, sizeof(char *));
		fw->roles[fw->nroles++] = xstrdup(json_str_or(info, "role", "*"));
	}
	if (fw->alloc)
		alloc_fw_set_roles(fw->m->alloc, fw->alloc,
		    (const char *const *)fw->roles, fw->nroles);
}

struct framework *
framework_new(struct master *m, const char *id, const json_t *info)
{
	struct framework *fw = calloc(1, sizeof(*fw));

	if (fw == NULL)
		abort();
	fw->m = m;
	fw->id = xstrdup(id);
	fw->tasks = strmap_new();
	TAILQ_INIT(&fw->completed);
	TAILQ_INIT(&fw->offers);
	resources_init(&fw->used);
	resources_init(&fw->offered);
	framework_set_info(fw, info);
	fw->alloc = alloc_fw_add(m->alloc, fw, (const char *const *)fw->roles,
	    fw->nroles, false);
	strmap_put(m->frameworks, fw->id, fw);
	return fw;
}

static void
stop_stream(struct framework *fw)
{
	if (fw->heartbeat) {
		event_free(fw->heartbeat);
		fw->heartbeat = NULL;
	}
	if (fw->stream) {
		struct http_stream *s = fw->stream;

		fw->stream = NULL;
		http_stream_end(s);
	}
}

void
framework_free(struct framework *fw)
{
	struct task *t;
	void *v;

	if (fw == NULL)
		return;
	stop_stream(fw);
	if (fw->failover)
		event_free(fw->failover);
	for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);) {
		t = v;
		if (t->agent)
			TAILQ_REMOVE(&t->agent->tasks, t, agent_link);
		task_free(t);
	}
	strmap_free(fw->tasks);
	while ((t = TAILQ_FIRST(&fw->completed)) != NULL) {
		TAILQ_REMOVE(&fw->completed, t, done_link);
		task_free(t);
	}
	if (fw->alloc)
		alloc_fw_remove(fw->m->alloc, fw->alloc);
	free_roles(fw);
	free(fw->id);
	free(fw->name);
	free(fw->user);
	free(fw->principal);
	free(fw->hostname);
	free(fw->webui_url);
	json_decref(fw->info);
	free(fw->info_text);
	resources_free(&fw->used);
	resources_free(&fw->offered);
	free(fw);
}

void
framework_complete_task(struct framework *fw, struct task *t)
{
	free(t->unacked);
	free(t->unacked_uuid);
	t->unacked = t->unacked_uuid = NULL;
	TAILQ_INSERT_TAIL(&fw->completed, t, done_link);
	if (++fw->ncompleted > (size_t)fw->m->f.max_completed_tasks_per_framework) {
		struct task *old = TAILQ_FIRST(&fw->completed);

		TAILQ_REMOVE(&fw->completed, old, done_link);
		task_free(old);
		fw->ncompleted--;
	}
}

char *
update_event_text(const char *status, size_t *len)
{
	static const char pre[] = "{\"type\":\"UPDATE\",\"update\":{\"status\":";
	size_t n = strlen(status);
	char *out = malloc(sizeof(pre) - 1 + n + 3);

	if (out == NULL)
		abort();
	memcpy(out, pre, sizeof(pre) - 1);
	memcpy(out + sizeof(pre) - 1, status, n);
	memcpy(out + sizeof(pre) - 1 + n, "}}", 3);
	*len = sizeof(pre) - 1 + n + 2;
	return out;
}

int
framework_send_text(struct framework *fw, const char *text, size_t len)
{
	if (fw->stream == NULL)
		return -1;
	return http_stream_record(fw->stream, text, len);
}

/* Returns 0, or -1 when the stream was dropped (too slow, gone). */
int
framework_send(struct framework *fw, const json_t *event)
{
	if (fw->stream == NULL)
		return -1;
	if (http_stream_record_json(fw->stream, event) == -1) {
		/* on_close ran: the framework is disconnected now */
		return -1;
	}
	return 0;
}

static void
on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct framework *fw = arg;
	json_t *ev = json_pack("{s:s}", "type", "HEARTBEAT");

	framework_send(fw, ev);
	json_decref(ev);
}

static void
on_stream_closed(struct http_stream *s, void *arg)
{
	struct framework *fw = arg;

	if (fw->stream != s)
		return;
	fw->stream = NULL;
	framework_disconnect(fw, "its subscription stream closed");
}

void
framework_attach(struct framework *fw, struct http_stream *s,
    const char *stream_id)
{
	struct timeval tv = { (time_t)fw->m->f.heartbeat_interval,
		(suseconds_t)((fw->m->f.heartbeat_interval -
		(long)fw->m->f.heartbeat_interval) * 1e6) };

	stop_stream(fw);
	if (fw->failover) {
		event_free(fw->failover);
		fw->failover = NULL;
	}
	fw->stream = s;
	snprintf(fw->stream_id, sizeof(fw->stream_id), "%s", stream_id);
	fw->connected = fw->active = true;
	fw->recovered = false;
	fw->unregistered_time = 0;
	fw->heartbeat = event_new(fw->m->base, -1, EV_PERSIST, on_heartbeat, fw);
	event_add(fw->heartbeat, &tv);
	alloc_fw_activate(fw->m->alloc, fw->alloc, true);
}

/* a closed callback for streams replaced or ended on purpose */
void
framework_stream_closed(struct http_stream *s, void *arg)
{
	on_stream_closed(s, arg);
}

static void
on_failover_expired(evutil_socket_t fd, short what, void *arg)
{
	struct framework *fw = arg;
	char why[128];

	snprintf(why, sizeof(why), "it did not re-subscribe within its "
	    "failover timeout (%gs)", fw->failover_timeout);
	framework_remove(fw->m, fw, why);
}

void
framework_start_failover(struct framework *fw, double timeout)
{
	struct timeval tv = { (time_t)timeout,
		(suseconds_t)((timeout - (double)(time_t)timeout) * 1e6) };

	if (fw->failover)
		event_free(fw->failover);
	fw->failover = evtimer_new(fw->m->base, on_failover_expired, fw);
	evtimer_add(fw->failover, &tv);
}

void
framework_disconnect(struct framework *fw, const char *why)
{
	struct master *m = fw->m;

	if (!fw->connected)
		return;
	log_info("framework %s (%s) disconnected: %s; failover timeout %gs",
	    fw->id, fw->name, why, fw->failover_timeout);
	stop_stream(fw);
	fw->connected = fw->active = false;
	fw->unregistered_time = clock_wall();
	offers_rescind_framework(m, fw, false);
	alloc_fw_activate(m->alloc, fw->alloc, false);
	events_framework_updated(m, fw);
	framework_start_failover(fw, fw->failover_timeout);
}

/* Kills the framework's tasks and forgets it (it stays visible among the
 * completed frameworks). */
void
framework_remove(struct master *m, struct framework *fw, const char *why)
{
	struct strmap *agents_told = strmap_new();
	struct task *t;
	void *v;

	log_notice("removing framework %s (%s): %s; its %zu active tasks are "
	    "killed", fw->id, fw->name, why, strmap_count(fw->tasks));
	if (fw->stream) {
		json_t *ev = json_pack("{s:s, s:{s:s}}", "type", "ERROR", "error",
		    "message", "Framework has been removed");

		framework_send(fw, ev);
		json_decref(ev);
	}
	stop_stream(fw);
	if (fw->failover) {
		event_free(fw->failover);
		fw->failover = NULL;
	}
	fw->connected = fw->active = false;
	offers_rescind_framework(m, fw, false);
	for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);) {
		t = v;
		if (t->agent && t->agent->state == AGENT_ACTIVE &&
		    !strmap_get(agents_told, t->agent->id)) {
			strmap_put(agents_told, t->agent->id, t->agent);
			agent_send(m, t->agent, json_pack("{s:s, s:o, s:o}", "type",
			    "SHUTDOWN_FRAMEWORK", "agent_id", v1_id(t->agent->id),
			    "framework_id", v1_id(fw->id)), NULL, NULL);
		}
		free(t->unacked);
		free(t->unacked_uuid);
		t->unacked = t->unacked_uuid = NULL;
		if (!task_state_terminal(t->state))
			task_transition(m, t, TASK_KILLED, "REASON_FRAMEWORK_REMOVED",
			    "Framework removed", "SOURCE_MASTER", false);
		else if (strmap_get(fw->tasks, t->id) == t) {
			if (t->agent)
				TAILQ_REMOVE(&t->agent->tasks, t, agent_link);
			t->agent = NULL;
			strmap_del(fw->tasks, t->id);
			framework_complete_task(fw, t);
		}
	}
	strmap_free(agents_told);
	if (fw->alloc) {
		alloc_fw_remove(m->alloc, fw->alloc);
		fw->alloc = NULL;
	}
	fw->unregistered_time = clock_wall();
	strmap_del(m->frameworks, fw->id);
	registry_remove_framework(m, fw->id);
	events_framework_removed(m, fw);
	TAILQ_INSERT_TAIL(&m->completed_frameworks, fw, done_link);
	if (++m->ncompleted_frameworks > (size_t)m->f.max_completed_frameworks) {
		struct framework *old = TAILQ_FIRST(&m->completed_frameworks);

		TAILQ_REMOVE(&m->completed_frameworks, old, done_link);
		framework_free(old);
		m->ncompleted_frameworks--;
	}
}

/* After a re-subscription: every status still waiting for an ACKNOWLEDGE
 * goes out again. */
void
frameworks_resend_updates(struct framework *fw)
{
	void *v;

	for (size_t it = 0; strmap_next(fw->tasks, &it, NULL, &v);) {
		struct task *t = v;
		size_t len;
		char *ev;
		int rc;

		if (t->unacked == NULL)
			continue;
		ev = update_event_text(t->unacked, &len);
		rc = framework_send_text(fw, ev, len);
		free(ev);
		if (rc == -1)
			return;
	}
}
